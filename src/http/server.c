/* server.c: listening, the event loops (one epoll per core), connection limits and
 * time-outs, and stopping.
 *
 * Each loop accepts from the shared listening socket (every loop watches it; the one that
 * loses the race gets EAGAIN), runs TLS handshakes and reads request heads without blocking, then
 * hands a complete head to a worker. Once a second it closes connections past their deadline and
 * pings quiet WebSockets. Workers and other threads give connections back through the
 * loop's inbox and its eventfd. */
#include "http/http_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define TICK_MS 1000

/* ---------------------------------------------------------------- listening */

int http_listen(const char *addr, int port, int *out_fd, struct err *e)
{
	*out_fd = -1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return err_set(e, ERR_IO, "cannot create a socket: %s", strerror(errno));
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (!addr || !*addr || strcmp(addr, "*") == 0)
		sa.sin_addr.s_addr = htonl(INADDR_ANY);
	else if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		close(fd);
		return err_set(e, ERR_CONFIG, "listen address \"%s\" is not an IPv4 address", addr);
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int err = errno;
		close(fd);
		if (err == EADDRINUSE)
			return err_set(e, ERR_IO, "port %d is already in use by another program",
				       port);
		return err_set(e, ERR_IO, "cannot listen on port %d: %s", port, strerror(err));
	}
	if (listen(fd, 4096) != 0) {
		int err = errno;
		close(fd);
		return err_set(e, ERR_IO, "cannot listen on port %d: %s", port, strerror(err));
	}
	*out_fd = fd;
	return 0;
}

long http_raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return -1;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur == RLIM_INFINITY ? -1 : (long)rl.rlim_cur;
}

int http_config_read(const struct conf *c, struct http_server_config *cfg, struct err *e)
{
	int64_t v[6];
	static const struct {
		const char *key;
		int64_t dflt, min, max;
	} keys[] = {
	    {"http.max_connections", 0, 0, 10000000},
	    {"http.max_connections_per_address", 1024, 1, 10000000},
	    {"http.handshake_timeout_s", 10, 1, 3600},
	    {"http.idle_timeout_s", 60, 1, 86400},
	    {"http.io_timeout_s", 60, 1, 86400},
	    {"http.ws_ping_interval_s", 30, 1, 86400},
	};
	for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
		int rc =
		    conf_get_int(c, keys[i].key, keys[i].dflt, keys[i].min, keys[i].max, &v[i], e);
		if (rc)
			return rc;
	}
	cfg->max_conns = (unsigned)v[0];
	cfg->max_conns_per_addr = (unsigned)v[1];
	cfg->handshake_timeout_s = (unsigned)v[2];
	cfg->idle_timeout_s = (unsigned)v[3];
	cfg->io_timeout_s = (unsigned)v[4];
	cfg->ws_ping_s = (unsigned)v[5];
	cfg->tls_priority = conf_get(c, "tls.priority", NULL);
	if (cfg->tls_priority && *cfg->tls_priority) {
		int rc = http_tls_check_priority(cfg->tls_priority, e);
		if (rc) {
			err_hint(e,
				 "fix [tls] priority in node.conf, or remove it for the default");
			return rc;
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- limits per address */

struct addr_count {
	struct addr_count *next;
	unsigned char addr[16];
	unsigned n;
	_Atomic int64_t logged_ms;
};

/* True at most once a minute for each `last` (a limit's log line; loops share them). */
static bool once_a_minute(_Atomic int64_t *last)
{
	int64_t now = time_mono_ms(), prev = atomic_load(last);
	/* 0: never logged (the monotonic clock may be younger than a minute) */
	return (prev == 0 || now - prev >= 60000) &&
	       atomic_compare_exchange_strong(last, &prev, now);
}

static unsigned addr_bucket(const unsigned char *a)
{
	unsigned h = 2166136261u;
	for (int i = 0; i < 16; i++)
		h = (h ^ a[i]) * 16777619u;
	return h & 255;
}

/* Counts a connection from `c`'s address; false (and a log line at most once a minute per
 * address) when the address is at its limit. */
static bool addr_take(struct http_server *s, struct http_conn *c)
{
	unsigned b = addr_bucket(c->addr);
	bool ok = true;
	pthread_mutex_lock(&s->addr_mu);
	struct addr_count *a = s->addrs[b];
	while (a && memcmp(a->addr, c->addr, 16) != 0)
		a = a->next;
	if (!a && (a = calloc(1, sizeof(*a)))) {
		memcpy(a->addr, c->addr, 16);
		a->next = s->addrs[b];
		s->addrs[b] = a;
	}
	if (!a) {
		ok = false;
	} else if (a->n >= s->cfg.max_conns_per_addr) {
		ok = false;
		if (once_a_minute(&a->logged_ms))
			log_warn(
			    "http: %s: %s has %u connections, the most one address may have "
			    "([http] max_connections_per_address); new ones are refused for now",
			    s->name, c->addr_str, a->n);
	} else {
		a->n++;
	}
	pthread_mutex_unlock(&s->addr_mu);
	return ok;
}

static void addr_give(struct http_server *s, const unsigned char *addr)
{
	unsigned b = addr_bucket(addr);
	pthread_mutex_lock(&s->addr_mu);
	for (struct addr_count **pp = &s->addrs[b]; *pp; pp = &(*pp)->next) {
		struct addr_count *a = *pp;
		if (memcmp(a->addr, addr, 16) != 0)
			continue;
		if (a->n > 0)
			a->n--;
		if (a->n == 0 && (a->logged_ms == 0 || time_mono_ms() - a->logged_ms >= 60000)) {
			*pp = a->next;
			free(a);
		}
		break;
	}
	pthread_mutex_unlock(&s->addr_mu);
}

/* ---------------------------------------------------------------- connections */

void http_conn_watch(struct http_conn *c, uint32_t events)
{
	if (events == c->events)
		return;
	int epfd = c->loop->epfd;
	if (!events) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	} else {
		struct epoll_event ev = {.events = events, .data.ptr = c};
		if (epoll_ctl(epfd, c->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev) != 0)
			log_warn("http: cannot watch a connection: %s", strerror(errno));
	}
	c->events = events;
}

void http_conn_close(struct http_conn *c)
{
	struct http_loop *l = c->loop;
	struct http_server *s = l->server;
	if (c->ws)
		http_ws_detach(c);
	pthread_mutex_lock(&l->mu);
	if (c->in_inbox)
		for (struct http_conn **pp = &l->inbox; *pp; pp = &(*pp)->inbox_next)
			if (*pp == c) {
				*pp = c->inbox_next;
				break;
			}
	pthread_mutex_unlock(&l->mu);
	http_conn_watch(c, 0);
	if (c->prev)
		c->prev->next = c->next;
	else
		l->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	l->n_conns--;
	if (c->tls)
		gnutls_deinit(c->tls);
	free(c->ra);
	close(c->fd);
	addr_give(s, c->addr);
	if (c->head.a) {
		struct arena *a = c->head.a;
		http_head_release(&c->head);
		arena_free(a);
	}
	buf_release(&c->in);
	buf_release(&c->out);
	free(c);
	atomic_fetch_sub(&s->n_conns, 1);
}

void http_loop_post(struct http_conn *c)
{
	struct http_loop *l = c->loop;
	pthread_mutex_lock(&l->mu);
	if (!c->in_inbox) {
		c->in_inbox = true;
		c->inbox_next = l->inbox;
		l->inbox = c;
	}
	pthread_mutex_unlock(&l->mu);
	uint64_t one = 1;
	ssize_t n = write(l->wake, &one, sizeof(one));
	(void)n; /* a full counter already rings */
}

static void to_worker(struct http_conn *c)
{
	c->state = C_BUSY;
	c->deadline_ms = 0;
	http_conn_watch(c, 0);
	if (!http_pool_run(c->loop->server->pool, http_conn_serve, c)) {
		http_conn_refuse(c, 503, "the server cannot start a thread for the request");
		http_conn_close(c);
	}
}

/* Reads a request head without blocking; hands it to a worker once complete. */
static void read_head(struct http_conn *c)
{
	struct http_loop *l = c->loop;
	for (;;) {
		ssize_t n = http_conn_recv(c, l->scratch, sizeof(l->scratch));
		if (n == -1)
			return;
		if (n <= 0) {
			http_conn_close(c);
			return;
		}
		if (!c->head.a)
			http_head_begin(&c->head, arena_new());
		size_t used = http_head_feed(&c->head, l->scratch, (size_t)n);
		if (c->head.status) {
			http_conn_refuse(c, c->head.status, c->head.why);
			http_conn_close(c);
			return;
		}
		if (c->head.headers_done) {
			if (buf_append(&c->in, l->scratch + used, (size_t)n - used)) {
				http_conn_close(c);
				return;
			}
			to_worker(c);
			return;
		}
	}
}

/* After an answer sent before the body was read: reads and drops what still comes, until
 * the client stops sending or 5 s passed, then closes. */
static void linger(struct http_conn *c)
{
	for (int i = 0; i < 64; i++) {
		ssize_t n = http_conn_recv(c, c->loop->scratch, sizeof(c->loop->scratch));
		if (n == -1)
			return;
		if (n <= 0) {
			http_conn_close(c);
			return;
		}
	}
}

static void handshake(struct http_conn *c)
{
	int rc;
	do
		rc = gnutls_handshake(c->tls);
	while (rc == GNUTLS_E_INTERRUPTED);
	if (rc == GNUTLS_E_SUCCESS) {
		c->state = C_HEAD;
		http_conn_watch(c, EPOLLIN | EPOLLRDHUP);
		read_head(c);
	} else if (rc == GNUTLS_E_AGAIN || !gnutls_error_is_fatal(rc)) {
		http_conn_watch(c, gnutls_record_get_direction(c->tls) ? EPOLLOUT : EPOLLIN);
	} else {
		log_debug("http: %s: TLS handshake with %s failed: %s", c->loop->server->name,
			  c->addr_str, gnutls_strerror(rc));
		(void)gnutls_alert_send_appropriate(c->tls, rc); /* say why, if it fits */
		http_conn_close(c);
	}
}

static void on_event(struct http_conn *c, uint32_t ev)
{
	switch (c->state) {
	case C_HANDSHAKE: handshake(c); break;
	case C_HEAD: read_head(c); break;
	case C_WS:
		if (!http_ws_io(c, (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0,
				(ev & EPOLLOUT) != 0))
			http_conn_close(c);
		break;
	case C_LINGER: linger(c); break;
	case C_BUSY:
	case C_CLOSED: break;
	}
}

/* A connection a worker or another thread gave back. */
static void on_posted(struct http_conn *c)
{
	struct http_server *s = c->loop->server;
	switch (c->state) {
	case C_CLOSED: http_conn_close(c); return;
	case C_LINGER:
		if (c->tls)
			(void)gnutls_bye(c->tls, GNUTLS_SHUT_WR);
		shutdown(c->fd, SHUT_WR);
		c->deadline_ms = time_mono_ms() + 5000;
		http_conn_watch(c, EPOLLIN | EPOLLRDHUP);
		return;
	case C_HEAD:
		if (s->stopping >= 2) {
			http_conn_close(c);
			return;
		}
		c->deadline_ms = time_mono_ms() + (int64_t)s->cfg.idle_timeout_s * 1000;
		http_conn_watch(c, EPOLLIN | EPOLLRDHUP);
		if (http_conn_buffered(c))
			read_head(c);
		return;
	case C_WS:
		if (s->stopping)
			http_ws_close(c->ws, 1001, "the server is stopping");
		if (!http_ws_io(c, http_conn_buffered(c), false))
			http_conn_close(c);
		return;
	case C_HANDSHAKE:
	case C_BUSY: return;
	}
}

static void new_conn(struct http_loop *l, int fd, const struct sockaddr_in *sa)
{
	struct http_server *s = l->server;
	struct http_conn *c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->loop = l;
	c->fd = fd;
	c->cert_state = -1;
	/* IPv4 addresses as IPv4-mapped IPv6 */
	c->addr[10] = c->addr[11] = 0xff;
	memcpy(c->addr + 12, &sa->sin_addr, 4);
	inet_ntop(AF_INET, &sa->sin_addr, c->addr_str, sizeof(c->addr_str));
	buf_init(&c->in, HTTP_MAX_HEAD + HTTP_SCRATCH);
	buf_init(&c->out, SIZE_MAX);
	if (!addr_take(s, c)) {
		close(fd);
		free(c);
		return;
	}
	atomic_fetch_add(&s->n_conns, 1);
	c->next = l->conns;
	if (l->conns)
		l->conns->prev = c;
	l->conns = c;
	l->n_conns++;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->deadline_ms = time_mono_ms() + (int64_t)s->cfg.handshake_timeout_s * 1000;
	if (s->tls) {
		if (!(c->tls = http_tls_session(s->tls, fd))) {
			http_conn_close(c);
			return;
		}
		http_conn_tls_attach(c);
		c->state = C_HANDSHAKE;
		handshake(c);
	} else {
		c->state = C_HEAD;
		http_conn_watch(c, EPOLLIN | EPOLLRDHUP);
		read_head(c);
	}
}

static void accept_some(struct http_loop *l)
{
	struct http_server *s = l->server;
	for (int i = 0; i < 64; i++) {
		struct sockaddr_in sa;
		socklen_t len = sizeof(sa);
		int fd = accept4(s->listen_fd, (struct sockaddr *)&sa, &len,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if ((errno == EMFILE || errno == ENFILE) &&
			    once_a_minute(&s->full_logged_ms))
				log_warn("http: %s: out of file descriptors; new connections wait",
					 s->name);
			return;
		}
		if ((unsigned)atomic_load(&s->n_conns) >= s->cfg.max_conns || s->stopping) {
			if (!s->stopping && once_a_minute(&s->full_logged_ms))
				log_warn("http: %s: %u connections, the most this port takes "
					 "([http] max_connections); new ones are refused for now",
					 s->name, s->cfg.max_conns);
			close(fd);
			continue;
		}
		new_conn(l, fd, &sa);
	}
}

/* Once a second: deadlines, pings, and the steps of stopping. */
static void tick(struct http_loop *l, int64_t now)
{
	struct http_server *s = l->server;
	for (struct http_conn *c = l->conns, *next; c; c = next) {
		next = c->next;
		if (c->state == C_WS) {
			if (s->stopping >= 2 || !http_ws_tick(c, now))
				http_conn_close(c);
			continue;
		}
		if (c->state == C_BUSY) {
			if (s->stopping >= 2)
				shutdown(c->fd, SHUT_RDWR);
			continue;
		}
		if (s->stopping >= 2 || (c->deadline_ms && now >= c->deadline_ms)) {
			if (c->state == C_HEAD && c->head.a && c->head.head_bytes > 0)
				http_conn_refuse(c, 408, "the request head did not arrive in time");
			http_conn_close(c);
		}
	}
}

static void take_inbox(struct http_loop *l)
{
	uint64_t v;
	ssize_t n = read(l->wake, &v, sizeof(v));
	(void)n;
	pthread_mutex_lock(&l->mu);
	struct http_conn *list = l->inbox;
	l->inbox = NULL;
	for (struct http_conn *c = list; c; c = c->inbox_next)
		c->in_inbox = false;
	pthread_mutex_unlock(&l->mu);
	/* The list stays valid: only this thread frees connections, and each is handled once;
	 * one that is posted again meanwhile goes to the next round. */
	while (list) {
		struct http_conn *c = list;
		list = c->inbox_next;
		on_posted(c);
	}
}

static void *loop_main(void *arg)
{
	struct http_loop *l = arg;
	struct http_server *s = l->server;
	struct epoll_event evs[128];
	int64_t next_tick = time_mono_ms() + TICK_MS;
	bool listening = true;
	for (;;) {
		if (s->stopping && listening) {
			epoll_ctl(l->epfd, EPOLL_CTL_DEL, s->listen_fd, NULL);
			listening = false;
			for (struct http_conn *c = l->conns, *next; c; c = next) {
				next = c->next;
				if (c->state == C_WS) {
					http_ws_close(c->ws, 1001, "the server is stopping");
					on_posted(c);
				}
			}
		}
		if (s->stopping >= 3 && l->n_conns == 0)
			break;
		int64_t now = time_mono_ms();
		int wait = next_tick > now ? (int)(next_tick - now) : 0;
		int n = epoll_wait(l->epfd, evs, (int)ARRAY_LEN(evs), wait);
		if (n < 0 && errno != EINTR) {
			log_error("http: epoll_wait: %s", strerror(errno));
			sleep_ms(10);
		}
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;
			if (p == &l->wake)
				continue; /* the inbox is taken below */
			if (p == &s->listen_fd)
				accept_some(l);
			else
				on_event(p, evs[i].events);
		}
		take_inbox(l);
		now = time_mono_ms();
		if (now >= next_tick || s->stopping >= 2) {
			tick(l, now);
			next_tick = now + TICK_MS;
		}
	}
	return NULL;
}

/* ---------------------------------------------------------------- start and stop */

static int loops_start(struct http_server *s, struct err *e)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	s->n_loops =
	    s->cfg.loops ? (int)s->cfg.loops : (cpus > 0 ? (int)(cpus > 16 ? 16 : cpus) : 1);
	s->loops = calloc((size_t)s->n_loops, sizeof(*s->loops));
	if (!s->loops)
		return err_set(e, ERR_NOMEM, "out of memory");
	for (int i = 0; i < s->n_loops; i++) {
		struct http_loop *l = &s->loops[i];
		l->server = s;
		l->epfd = epoll_create1(EPOLL_CLOEXEC);
		l->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		pthread_mutex_init(&l->mu, NULL);
		struct epoll_event wev = {.events = EPOLLIN, .data.ptr = &l->wake};
		/* not EPOLLEXCLUSIVE: it wakes one loop, which may be busy while the others
		 * idle; waking all (at most 16) costs one failed accept each */
		struct epoll_event lev = {.events = EPOLLIN, .data.ptr = &s->listen_fd};
		if (l->epfd < 0 || l->wake < 0 ||
		    epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wake, &wev) != 0 ||
		    epoll_ctl(l->epfd, EPOLL_CTL_ADD, s->listen_fd, &lev) != 0 ||
		    pthread_create(&l->thread, NULL, loop_main, l) != 0) {
			int err = errno;
			if (l->epfd >= 0)
				close(l->epfd);
			if (l->wake >= 0)
				close(l->wake);
			pthread_mutex_destroy(&l->mu);
			s->n_loops = i;
			return err_set(e, ERR_IO, "cannot start an event loop: %s", strerror(err));
		}
	}
	return 0;
}

static void set_defaults(struct http_server_config *c)
{
	if (!c->max_conns) {
		long lim = http_raise_fd_limit();
		c->max_conns = lim > 512 ? (unsigned)(lim - 256) : 256;
	}
	if (!c->max_conns_per_addr)
		c->max_conns_per_addr = 1024;
	if (!c->handshake_timeout_s)
		c->handshake_timeout_s = 10;
	if (!c->idle_timeout_s)
		c->idle_timeout_s = 60;
	if (!c->io_timeout_s)
		c->io_timeout_s = 60;
	if (!c->ws_ping_s)
		c->ws_ping_s = 30;
	if (!c->max_workers)
		c->max_workers = 256;
}

int http_server_start(const struct http_server_config *cfg, const struct http_handler *h,
		      struct http_server **out, struct err *e)
{
	*out = NULL;
	struct http_server *s = calloc(1, sizeof(*s));
	if (!s) {
		close(cfg->listen_fd);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	s->h = *h;
	s->cfg = *cfg;
	set_defaults(&s->cfg);
	s->cfg.cert_pem = s->cfg.key_pem = s->cfg.trust_pem = s->cfg.tls_priority = NULL;
	s->cfg.name = NULL;
	str_copy(s->name, cfg->name ? cfg->name : "server", sizeof(s->name));
	s->listen_fd = cfg->listen_fd;
	pthread_mutex_init(&s->addr_mu, NULL);
	int rc = 0;
	if (cfg->cert_pem)
		rc = http_tls_new(cfg, &s->tls, e);
	if (!rc && !(s->pool = http_pool_new((int)s->cfg.max_workers)))
		rc = err_set(e, ERR_NOMEM, "out of memory");
	if (!rc)
		rc = loops_start(s, e);
	if (rc) {
		http_server_stop(s);
		return rc;
	}
	log_debug("http: %s: %d event loops, at most %u connections (%u per address)", s->name,
		  s->n_loops, s->cfg.max_conns, s->cfg.max_conns_per_addr);
	*out = s;
	return 0;
}

static void wake_all(struct http_server *s)
{
	uint64_t one = 1;
	for (int i = 0; i < s->n_loops; i++) {
		ssize_t n = write(s->loops[i].wake, &one, sizeof(one));
		(void)n;
	}
}

int http_server_set_revoked(struct http_server *s, const char *const *hex, size_t n, struct err *e)
{
	return s && s->tls ? http_tls_set_revoked(s->tls, hex, n, e) : 0;
}

int http_server_reload_cert(struct http_server *s, const char *cert_pem, const char *key_pem,
			    struct err *e)
{
	return s->tls ? http_tls_reload(s->tls, cert_pem, key_pem, e) : 0;
}

void http_server_stop(struct http_server *s)
{
	if (!s)
		return;
	if (s->n_loops) {
		/* The loops leave the listening socket and ask each WebSocket to close. */
		atomic_store(&s->stopping, 1);
		wake_all(s);
		/* A peer that does not answer the close within 2 s is cut off. */
		int64_t deadline = time_mono_ms() + 2000;
		while (atomic_load(&s->n_ws) > 0 && time_mono_ms() < deadline)
			sleep_ms(10);
		atomic_store(&s->stopping, 2);
		wake_all(s);
		while (atomic_load(&s->n_conns) > 0 || atomic_load(&s->n_ws) > 0) {
			sleep_ms(10);
			wake_all(s);
		}
		atomic_store(&s->stopping, 3);
		wake_all(s);
		for (int i = 0; i < s->n_loops; i++) {
			pthread_join(s->loops[i].thread, NULL);
			close(s->loops[i].epfd);
			close(s->loops[i].wake);
			pthread_mutex_destroy(&s->loops[i].mu);
		}
	}
	http_pool_free(s->pool);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	http_tls_free(s->tls);
	for (size_t i = 0; i < ARRAY_LEN(s->addrs); i++)
		for (struct addr_count *a = s->addrs[i], *next; a; a = next) {
			next = a->next;
			free(a);
		}
	pthread_mutex_destroy(&s->addr_mu);
	free(s->loops);
	free(s);
}
