/* client.c: the HTTPS client nodes use to call each other: GnuTLS with the same priority
 * string as the server (TLS 1.2 and 1.3, AEAD suites only), the site's CA as the only trust
 * anchor, the peer's name checked against its certificate, and this node's client
 * certificate, so every call is mutual TLS inside the site. Answers are read with
 * http-parser. One request per connection: these calls are rare. */
#include "http/http_int.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static int left_ms(const struct call *c)
{
	int64_t n = c->deadline - time_mono_ms();
	return n > 0 ? (int)n : 0;
}

int http_call_split_url(struct call *c)
{
	const char *u = c->url;
	if (strncmp(u, "https://", 8) == 0)
		u += 8;
	else if (strncmp(u, "wss://", 6) == 0)
		u += 6;
	else
		return err_set(c->e, ERR_INVALID,
			       "%s: only https:// and wss:// addresses are called", c->url);
	size_t hl = strcspn(u, ":/");
	if (!hl || hl >= sizeof(c->host))
		return err_set(c->e, ERR_INVALID, "%s: no host name", c->url);
	memcpy(c->host, u, hl);
	c->host[hl] = '\0';
	u += hl;
	str_copy(c->port, "443", sizeof(c->port));
	if (*u == ':') {
		size_t pl = strcspn(++u, "/");
		if (!pl || pl >= sizeof(c->port))
			return err_set(c->e, ERR_INVALID, "%s: the port is malformed", c->url);
		memcpy(c->port, u, pl);
		c->port[pl] = '\0';
		u += pl;
	}
	c->path = *u ? u : "/";
	return 0;
}

int http_call_connect(struct call *c)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
	int rc = getaddrinfo(c->host, c->port, &hints, &res);
	if (rc != 0)
		return err_set(c->e, ERR_UNAVAILABLE, "%s: cannot resolve %s: %s", c->url, c->host,
			       gai_strerror(rc));
	int err = ECONNREFUSED;
	for (struct addrinfo *ai = res; ai && c->fd < 0; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
			err = errno;
			close(fd);
			continue;
		}
		struct pollfd p = {fd, POLLOUT, 0};
		int wait = left_ms(c) < 5000 ? left_ms(c) : 5000;
		socklen_t len = sizeof(err);
		if (poll(&p, 1, wait) <= 0) {
			err = ETIMEDOUT;
		} else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) {
			int one = 1;
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			c->fd = fd;
			break;
		}
		close(fd);
	}
	freeaddrinfo(res);
	if (c->fd < 0)
		return err_set(c->e, ERR_UNAVAILABLE, "%s: cannot connect: %s", c->url,
			       strerror(err));
	return 0;
}

/* Waits until the TLS session can go on, up to the deadline. */
static bool wait_tls(struct call *c)
{
	if (!gnutls_record_get_direction(c->s) && gnutls_record_check_pending(c->s) > 0)
		return true;
	struct pollfd p = {c->fd, gnutls_record_get_direction(c->s) ? POLLOUT : POLLIN, 0};
	return poll(&p, 1, left_ms(c)) > 0;
}

/* The trust anchors and client certificate of `tls` (see struct http_client_tls), made
 * anew. */
static int make_credentials(struct call *c, const struct http_client_tls *tls)
{
	if (gnutls_certificate_allocate_credentials(&c->cred) != GNUTLS_E_SUCCESS)
		return err_set(c->e, ERR_NOMEM, "out of memory");
	int n;
	if (tls->ca_file) {
		n = gnutls_certificate_set_x509_trust_file(c->cred, tls->ca_file,
							   GNUTLS_X509_FMT_PEM);
	} else if (tls->ca_pem) {
		gnutls_datum_t d = {(unsigned char *)tls->ca_pem, (unsigned)strlen(tls->ca_pem)};
		n = gnutls_certificate_set_x509_trust_mem(c->cred, &d, GNUTLS_X509_FMT_PEM);
	} else {
		n = gnutls_certificate_set_x509_system_trust(c->cred);
	}
	if (n <= 0)
		return err_set(c->e, ERR_CRYPTO, "%s: no certificate authority to trust (%s)",
			       c->url,
			       tls->ca_file  ? tls->ca_file
			       : tls->ca_pem ? "the PEM text given is not a certificate"
					     : "the system has none");
	if (tls->cert_file && gnutls_certificate_set_x509_key_file(
				  c->cred, tls->cert_file, tls->key_file, GNUTLS_X509_FMT_PEM) < 0)
		return err_set(c->e, ERR_CRYPTO, "cannot read this node's certificates (%s, %s)",
			       tls->cert_file, tls->key_file);
	return 0;
}

/* Credentials made from the site's files (its CA, this node's client certificate) are kept
 * and shared by every later call with the same files: reading and parsing them for each
 * connection cost a relayed engine session tens of milliseconds and of kilobytes. A file
 * changed since (a renewal) makes them anew; the old ones stay until the process ends, since
 * connections may still use them. */
struct shared_cred {
	struct shared_cred *next;
	char *key; /* the three paths and their modification times */
	gnutls_certificate_credentials_t cred;
};
static pthread_mutex_t shared_mu = PTHREAD_MUTEX_INITIALIZER;
static struct shared_cred *shared;

static char *cred_key(const struct http_client_tls *tls)
{
	const char *paths[3] = {tls->ca_file, tls->cert_file, tls->key_file};
	struct buf b;
	buf_init(&b, 1 << 16);
	bool bad = false;
	for (int i = 0; i < 3; i++) {
		struct stat st;
		if (!paths[i] || stat(paths[i], &st) != 0) {
			bad = true;
			break;
		}
		bad = bad || buf_printf(&b, "%s\x1f%lld.%09ld\x1f", paths[i],
					(long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	}
	if (bad) {
		buf_release(&b);
		return NULL;
	}
	return buf_steal(&b);
}

static int set_credentials(struct call *c, const struct http_client_tls *tls)
{
	char *key = tls->ca_file && tls->cert_file && tls->key_file ? cred_key(tls) : NULL;
	if (!key)
		return make_credentials(c, tls);
	pthread_mutex_lock(&shared_mu);
	for (struct shared_cred *sc = shared; sc; sc = sc->next) {
		if (strcmp(sc->key, key) == 0) {
			c->cred = sc->cred;
			c->shared_cred = true;
			break;
		}
	}
	pthread_mutex_unlock(&shared_mu);
	if (c->shared_cred) {
		free(key);
		return 0;
	}
	int rc = make_credentials(c, tls);
	struct shared_cred *sc = rc ? NULL : malloc(sizeof(*sc));
	if (sc) {
		sc->key = key;
		sc->cred = c->cred;
		c->shared_cred = true;
		pthread_mutex_lock(&shared_mu);
		sc->next = shared;
		shared = sc;
		pthread_mutex_unlock(&shared_mu);
	} else {
		free(key);
	}
	return rc;
}

int http_call_tls(struct call *c, const struct http_client_tls *tls)
{
	const char *prio = tls->priority ? tls->priority : http_tls_default_priority();
	int rc = set_credentials(c, tls);
	if (rc)
		return rc;
	if (gnutls_init(&c->s, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL) !=
		GNUTLS_E_SUCCESS ||
	    gnutls_priority_set_direct(c->s, prio, NULL) != GNUTLS_E_SUCCESS ||
	    gnutls_credentials_set(c->s, GNUTLS_CRD_CERTIFICATE, c->cred) != GNUTLS_E_SUCCESS ||
	    gnutls_server_name_set(c->s, GNUTLS_NAME_DNS, c->host, strlen(c->host)) !=
		GNUTLS_E_SUCCESS)
		return err_set(c->e, ERR_CRYPTO, "cannot set up TLS for %s", c->url);
	gnutls_session_set_verify_cert(c->s, c->host, 0);
	gnutls_transport_set_int(c->s, c->fd);
	while ((rc = gnutls_handshake(c->s)) < 0) {
		if (gnutls_error_is_fatal(rc)) {
			if (rc == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
				unsigned st = gnutls_session_get_verify_cert_status(c->s);
				gnutls_datum_t why = {NULL, 0};
				gnutls_certificate_verification_status_print(st, GNUTLS_CRT_X509,
									     &why, 0);
				err_set(c->e, ERR_UNAVAILABLE, "%s: %s", c->url,
					why.data ? (char *)why.data : "certificate refused");
				gnutls_free(why.data);
				return ERR_UNAVAILABLE;
			}
			return err_set(c->e, ERR_UNAVAILABLE, "%s: TLS: %s", c->url,
				       gnutls_strerror(rc));
		}
		if (!wait_tls(c))
			return err_set(c->e, ERR_UNAVAILABLE, "%s: the TLS handshake timed out",
				       c->url);
	}
	return 0;
}

int http_call_send(struct call *c, const char *data, size_t len)
{
	while (len) {
		ssize_t n = gnutls_record_send(c->s, data, len);
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
			if (!wait_tls(c))
				return err_set(c->e, ERR_UNAVAILABLE, "%s: timed out sending",
					       c->url);
			continue;
		}
		if (n < 0)
			return err_set(c->e, ERR_UNAVAILABLE, "%s: %s", c->url,
				       gnutls_strerror((int)n));
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static int on_field(http_parser *p, const char *at, size_t len)
{
	struct call *c = p->data;
	c->in_ct = len == 12 && strncasecmp(at, "Content-Type", 12) == 0;
	return 0;
}

static int on_value(http_parser *p, const char *at, size_t len)
{
	struct call *c = p->data;
	if (c->in_ct) {
		size_t have = strlen(c->content_type);
		size_t n = len < sizeof(c->content_type) - 1 - have
			       ? len
			       : sizeof(c->content_type) - 1 - have;
		memcpy(c->content_type + have, at, n);
		c->content_type[have + n] = '\0';
	}
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	struct call *c = p->data;
	if (buf_append(&c->body, at, len) != 0) {
		c->too_large = true;
		return 1;
	}
	return 0;
}

static int on_done(http_parser *p)
{
	((struct call *)p->data)->done = true;
	return 0;
}

static const http_parser_settings answer = {.on_header_field = on_field,
					    .on_header_value = on_value,
					    .on_body = on_body,
					    .on_message_complete = on_done};

static int read_answer(struct call *c, size_t max_body)
{
	char chunk[16384];
	http_parser_init(&c->p, HTTP_RESPONSE);
	c->p.data = c;
	for (;;) {
		ssize_t n = gnutls_record_recv(c->s, chunk, sizeof(chunk));
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
			if (!wait_tls(c))
				return err_set(c->e, ERR_UNAVAILABLE,
					       "%s: timed out reading the answer", c->url);
			continue;
		}
		if (n < 0 && n != GNUTLS_E_PREMATURE_TERMINATION)
			return err_set(c->e, ERR_UNAVAILABLE, "%s: %s", c->url,
				       gnutls_strerror((int)n));
		size_t len = n > 0 ? (size_t)n : 0;
		size_t used = http_parser_execute(&c->p, &answer, chunk, len);
		if (c->too_large)
			return err_set(c->e, ERR_TOO_LARGE,
				       "the answer from %s is larger than %zu bytes", c->url,
				       max_body);
		if (c->done)
			return 0;
		if (used != len || HTTP_PARSER_ERRNO(&c->p) != HPE_OK)
			return err_set(c->e, ERR_UNAVAILABLE, "%s: the answer is not HTTP: %s",
				       c->url, http_errno_description(HTTP_PARSER_ERRNO(&c->p)));
		if (len == 0)
			return c->done ? 0
				       : err_set(c->e, ERR_UNAVAILABLE,
						 "%s: the answer was cut off", c->url);
	}
}

static int send_request(struct call *c, const char *method, const char *const *headers,
			const char *body, size_t body_len)
{
	struct buf req;
	buf_init(&req, SIZE_MAX);
	int rc = buf_printf(&req,
			    "%s %s HTTP/1.1\r\nHost: %s:%s\r\nConnection: close\r\n"
			    "Content-Length: %zu\r\n",
			    method, c->path, c->host, c->port, body ? body_len : 0);
	for (const char *const *h = headers; !rc && h && *h; h++)
		rc = buf_printf(&req, "%s\r\n", *h);
	if (!rc)
		rc = buf_puts(&req, "\r\n");
	if (!rc && body)
		rc = buf_append(&req, body, body_len);
	if (rc)
		rc = err_set(c->e, ERR_NOMEM, "out of memory");
	else
		rc = http_call_send(c, req.data, req.len);
	buf_release(&req);
	return rc;
}

int http_call(const struct http_client_tls *tls, const char *method, const char *url,
	      const char *const *headers, const char *body, size_t body_len, int timeout_ms,
	      size_t max_body, struct http_response *out, struct err *e)
{
	memset(out, 0, sizeof(*out));
	struct call c = {.url = url, .fd = -1, .e = e};
	c.deadline = time_mono_ms() + timeout_ms;
	buf_init(&c.body, max_body);
	int rc = http_call_split_url(&c);
	if (!rc)
		rc = http_call_connect(&c);
	if (!rc)
		rc = http_call_tls(&c, tls);
	if (!rc)
		rc = send_request(&c, method, headers, body, body_len);
	if (!rc)
		rc = read_answer(&c, max_body);
	if (!rc) {
		out->status = c.p.status_code;
		str_copy(out->content_type,
			 c.content_type[0] ? c.content_type : "application/octet-stream",
			 sizeof(out->content_type));
		out->len = c.body.len;
		if (!c.body.data && buf_append(&c.body, "", 0) != 0)
			rc = err_set(e, ERR_NOMEM, "out of memory");
		out->body = buf_steal(&c.body);
	}
	http_call_release(&c, rc == 0);
	return rc;
}

void http_call_release(struct call *c, bool clean)
{
	if (c->s) {
		if (clean)
			(void)gnutls_bye(c->s, GNUTLS_SHUT_WR);
		gnutls_deinit(c->s);
		c->s = NULL;
	}
	if (c->cred && !c->shared_cred)
		gnutls_certificate_free_credentials(c->cred);
	c->cred = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	buf_release(&c->body);
}

void http_response_release(struct http_response *r)
{
	free(r->body);
	r->body = NULL;
}
