/* ws.c: WebSockets over libmicrohttpd's connection upgrade, with wslay doing the framing.
 *
 * The handshake answer goes out as a 101 response; MHD then hands over a socket (for TLS,
 * one end of a socket pair that MHD's connection thread encrypts). Each socket gets a
 * detached thread running a poll loop: the socket, and an eventfd that other threads ring
 * after queueing a message or asking for a close. */
#include "http/http_int.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wslay/wslay.h>

#define WS_GUID	      "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_MAX_QUEUED (64u << 20)

struct out_msg {
	struct out_msg *next;
	size_t len;
	char data[];
};

struct http_ws {
	struct http_ws *next; /* in the server's list */
	struct http_server *server;
	const struct http_ws_handler *h;
	void *state;
	MHD_socket sock;
	struct MHD_UpgradeResponseHandle *urh;
	char *extra; /* bytes MHD read past the handshake */
	size_t extra_len, extra_off;
	int wake;		  /* eventfd */
	pthread_mutex_t mu;	  /* guards what follows */
	struct out_msg *out_head; /* queued by http_ws_send, not yet given to wslay */
	struct out_msg *out_tail;
	size_t out_bytes;
	bool closed;	 /* no more sends */
	int close_code;	 /* a close was asked for (0: none) */
	char reason[64]; /* its reason */
};

/* ---------------------------------------------------------------- the handshake */

static bool has_token(const char *list, const char *token)
{
	size_t n = strlen(token);
	for (const char *p = list; p && *p;) {
		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		const char *end = p;
		while (*end && *end != ',')
			end++;
		const char *last = end;
		while (last > p && (last[-1] == ' ' || last[-1] == '\t'))
			last--;
		if ((size_t)(last - p) == n && strncasecmp(p, token, n) == 0)
			return true;
		p = end;
	}
	return false;
}

bool http_req_is_websocket(const struct http_req *r)
{
	const char *v = http_req_header(r, "Sec-WebSocket-Version");
	const char *key = http_req_header(r, "Sec-WebSocket-Key");
	return str_ieq(r->method, "GET") && has_token(http_req_header(r, "Upgrade"), "websocket") &&
	       has_token(http_req_header(r, "Connection"), "upgrade") && key && *key &&
	       strlen(key) < 64 && v && strcmp(v, "13") == 0;
}

/* Sec-WebSocket-Accept: base64 of the SHA-1 of the key and the protocol's GUID. */
static bool accept_key(const char *key, char *out, size_t n)
{
	char joined[128];
	unsigned char digest[20];
	int len = snprintf(joined, sizeof(joined), "%s%s", key, WS_GUID);
	if (len < 0 || (size_t)len >= sizeof(joined) ||
	    gnutls_hash_fast(GNUTLS_DIG_SHA1, joined, (size_t)len, digest) != 0)
		return false;
	gnutls_datum_t in = {digest, sizeof(digest)}, b64 = {NULL, 0};
	if (gnutls_base64_encode2(&in, &b64) != 0)
		return false;
	bool ok = b64.size < n;
	if (ok) {
		memcpy(out, b64.data, b64.size);
		out[b64.size] = '\0';
	}
	gnutls_free(b64.data);
	return ok;
}

static void ws_free(struct http_ws *ws)
{
	for (struct out_msg *m = ws->out_head, *next; m; m = next) {
		next = m->next;
		free(m);
	}
	if (ws->wake >= 0)
		close(ws->wake);
	pthread_mutex_destroy(&ws->mu);
	free(ws->extra);
	free(ws);
}

void http_req_upgrade_websocket(struct http_req *r, const struct http_ws_handler *h, void *state)
{
	char accept[64];
	struct http_ws *ws = calloc(1, sizeof(*ws));
	if (ws) {
		ws->h = h;
		ws->state = state;
		ws->sock = MHD_INVALID_SOCKET;
		ws->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		pthread_mutex_init(&ws->mu, NULL);
	}
	const char *key = http_req_header(r, "Sec-WebSocket-Key");
	if (!ws || ws->wake < 0 || !r->conn || !key || !accept_key(key, accept, sizeof(accept)) ||
	    !(r->resp = MHD_create_response_for_upgrade(http_ws_upgraded, ws))) {
		if (ws)
			ws_free(ws);
		h->on_close(state);
		http_respond(r, r->conn ? 500 : 501, "application/json",
			     "{\"message\":\"cannot start a WebSocket\"}", 38);
		return;
	}
	ws->server = r->server;
	r->upgrade = ws;
	MHD_add_response_header(r->resp, "Upgrade", "websocket");
	MHD_add_response_header(r->resp, "Sec-WebSocket-Accept", accept);
	r->responded = true;
	r->status = 101;
}

void http_ws_abandon(struct http_ws *ws)
{
	ws->h->on_close(ws->state);
	ws_free(ws);
}

/* ---------------------------------------------------------------- sending from any thread */

static void ring(struct http_ws *ws)
{
	uint64_t one = 1;
	ssize_t n = write(ws->wake, &one, sizeof(one));
	(void)n; /* a full counter already rings */
}

int http_ws_send(struct http_ws *ws, const char *text, size_t len)
{
	struct out_msg *m = malloc(sizeof(*m) + len);
	if (!m)
		return ERR_NOMEM;
	m->next = NULL;
	m->len = len;
	memcpy(m->data, text, len);
	int rc = 0;
	pthread_mutex_lock(&ws->mu);
	if (ws->closed || ws->close_code) {
		rc = ERR_UNAVAILABLE;
	} else if (ws->out_bytes + len > WS_MAX_QUEUED) {
		ws->close_code = 1008;
		str_copy(ws->reason, "messages are not being read", sizeof(ws->reason));
		rc = ERR_TOO_LARGE;
	} else {
		if (ws->out_tail)
			ws->out_tail->next = m;
		else
			ws->out_head = m;
		ws->out_tail = m;
		ws->out_bytes += len;
		m = NULL;
	}
	pthread_mutex_unlock(&ws->mu);
	free(m);
	ring(ws);
	return rc;
}

void http_ws_close(struct http_ws *ws, int code, const char *reason)
{
	pthread_mutex_lock(&ws->mu);
	if (!ws->close_code) {
		ws->close_code = code;
		str_copy(ws->reason, reason ? reason : "", sizeof(ws->reason));
	}
	pthread_mutex_unlock(&ws->mu);
	ring(ws);
}

/* ---------------------------------------------------------------- the socket's thread */

static ssize_t on_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user)
{
	(void)flags;
	struct http_ws *ws = user;
	if (ws->extra_off < ws->extra_len) {
		size_t n = ws->extra_len - ws->extra_off;
		if (n > len)
			n = len;
		memcpy(buf, ws->extra + ws->extra_off, n);
		ws->extra_off += n;
		return (ssize_t)n;
	}
	ssize_t n;
	while ((n = recv(ws->sock, buf, len, 0)) < 0 && errno == EINTR)
		;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (n <= 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return n;
}

static ssize_t on_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
		       void *user)
{
	struct http_ws *ws = user;
	ssize_t n;
	int f = MSG_NOSIGNAL | ((flags & WSLAY_MSG_MORE) ? MSG_MORE : 0);
	while ((n = send(ws->sock, data, len, f)) < 0 && errno == EINTR)
		;
	if (n < 0) {
		wslay_event_set_error(ctx, errno == EAGAIN || errno == EWOULDBLOCK
					       ? WSLAY_ERR_WOULDBLOCK
					       : WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return n;
}

static void on_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
		   void *user)
{
	(void)ctx;
	struct http_ws *ws = user;
	if (arg->opcode == WSLAY_TEXT_FRAME || arg->opcode == WSLAY_BINARY_FRAME)
		ws->h->on_message(ws->state, ws, (const char *)arg->msg, arg->msg_length);
}

/* Moves queued messages (and a close asked for) into wslay. */
static void take_queue(struct http_ws *ws, wslay_event_context_ptr ctx)
{
	pthread_mutex_lock(&ws->mu);
	struct out_msg *list = ws->out_head;
	ws->out_head = ws->out_tail = NULL;
	ws->out_bytes = 0;
	int code = ws->close_code;
	char reason[64];
	str_copy(reason, ws->reason, sizeof(reason));
	if (code)
		ws->close_code = -1; /* queued once */
	pthread_mutex_unlock(&ws->mu);
	for (struct out_msg *m = list, *next; m; m = next) {
		next = m->next;
		struct wslay_event_msg msg = {WSLAY_TEXT_FRAME, (const uint8_t *)m->data, m->len};
		if (wslay_event_queue_msg(ctx, &msg) != 0)
			code = code ? code : 1011;
		free(m);
	}
	if (code > 0)
		(void)wslay_event_queue_close(ctx, (uint16_t)code, (const uint8_t *)reason,
					      strlen(reason));
}

static void *ws_main(void *arg)
{
	struct http_ws *ws = arg;
	struct http_server *s = ws->server;
	int fl = fcntl(ws->sock, F_GETFL);
	if (fl >= 0)
		fcntl(ws->sock, F_SETFL, fl | O_NONBLOCK);
	struct wslay_event_callbacks cb = {
	    .recv_callback = on_recv, .send_callback = on_send, .on_msg_recv_callback = on_msg};
	wslay_event_context_ptr ctx = NULL;
	if (wslay_event_context_server_init(&ctx, &cb, ws) == 0) {
		wslay_event_config_set_max_recv_msg_length(
		    ctx, ws->h->max_message ? ws->h->max_message : 16u << 20);
		ws->h->on_open(ws->state, ws);
		for (;;) {
			take_queue(ws, ctx);
			bool rd = wslay_event_want_read(ctx), wr = wslay_event_want_write(ctx);
			if (!rd && !wr)
				break;
			/* bytes MHD already read count as readable */
			if (rd && ws->extra_off < ws->extra_len) {
				if (wslay_event_recv(ctx) != 0)
					break;
				continue;
			}
			struct pollfd p[2] = {
			    {ws->sock, (short)((rd ? POLLIN : 0) | (wr ? POLLOUT : 0)), 0},
			    {ws->wake, POLLIN, 0}};
			if (poll(p, 2, -1) < 0) {
				if (errno == EINTR)
					continue;
				break;
			}
			if (p[1].revents & POLLIN) {
				uint64_t v;
				ssize_t n = read(ws->wake, &v, sizeof(v));
				(void)n;
			}
			if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) && wslay_event_recv(ctx))
				break;
			if ((p[0].revents & POLLOUT) && wslay_event_send(ctx) != 0)
				break;
		}
	}
	pthread_mutex_lock(&ws->mu);
	ws->closed = true;
	pthread_mutex_unlock(&ws->mu);
	ws->h->on_close(ws->state);
	if (ctx)
		wslay_event_context_free(ctx);
	MHD_upgrade_action(ws->urh, MHD_UPGRADE_ACTION_CLOSE);
	pthread_mutex_lock(&s->ws_mu);
	for (struct http_ws **pp = &s->ws_list; *pp; pp = &(*pp)->next)
		if (*pp == ws) {
			*pp = ws->next;
			break;
		}
	s->n_ws--;
	pthread_mutex_unlock(&s->ws_mu);
	ws_free(ws);
	return NULL;
}

void http_ws_upgraded(void *cls, struct MHD_Connection *conn, void *con_cls, const char *extra_in,
		      size_t extra_in_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
	(void)conn;
	struct http_ws *ws = cls;
	struct http_req *r = con_cls;
	struct http_server *s = ws->server;
	if (r)
		r->upgrade = NULL; /* the socket's thread owns it from here */
	ws->sock = sock;
	ws->urh = urh;
	if (extra_in_size && (ws->extra = malloc(extra_in_size))) {
		memcpy(ws->extra, extra_in, extra_in_size);
		ws->extra_len = extra_in_size;
	}
	pthread_mutex_lock(&s->ws_mu);
	ws->next = s->ws_list;
	s->ws_list = ws;
	s->n_ws++;
	pthread_mutex_unlock(&s->ws_mu);
	pthread_t t;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int rc = pthread_create(&t, &attr, ws_main, ws);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		log_warn("http: cannot start a WebSocket thread: %s", strerror(rc));
		pthread_mutex_lock(&s->ws_mu);
		s->ws_list = ws->next;
		s->n_ws--;
		pthread_mutex_unlock(&s->ws_mu);
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
		http_ws_abandon(ws);
	}
}

void http_ws_close_all(struct http_server *s)
{
	pthread_mutex_lock(&s->ws_mu);
	for (struct http_ws *ws = s->ws_list; ws; ws = ws->next)
		http_ws_close(ws, 1001, "the server is stopping");
	/* A peer that does not answer the close within 2 s is cut off. */
	int64_t deadline = time_now_ms() + 2000;
	bool cut = false;
	while (s->n_ws > 0) {
		if (!cut && time_now_ms() > deadline) {
			for (struct http_ws *ws = s->ws_list; ws; ws = ws->next)
				shutdown(ws->sock, SHUT_RDWR);
			cut = true;
		}
		pthread_mutex_unlock(&s->ws_mu);
		sleep_ms(10);
		pthread_mutex_lock(&s->ws_mu);
	}
	pthread_mutex_unlock(&s->ws_mu);
}
