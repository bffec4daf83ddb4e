/* wsclient.c: a WebSocket client over mutual TLS, for a proxy that relays a person's engine
 * session to another node. The connection and the handshake reuse client.c's; after the 101
 * the socket blocks: one thread reads frames, senders take a lock, and the TLS session is
 * shared between the two directions as GnuTLS allows (one sender, one receiver at a time).
 * Frames from the server must be unmasked; ours are masked (RFC 6455 5.3). */
#include "http/http_int.h"

#include <gnutls/crypto.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define HEAD_MAX  16384
#define SEND_WAIT 30 /* seconds a send may make no progress */

struct http_wsc {
	struct call c;
	pthread_mutex_t send_mu;
	bool closed;	/* under send_mu: no more sends */
	char in[16384]; /* read-ahead */
	size_t in_at, in_len;
};

/* ---------------------------------------------------------------- the handshake */

static bool wait_in(struct call *c)
{
	if (gnutls_record_check_pending(c->s) > 0)
		return true;
	int64_t left = c->deadline - time_mono_ms();
	struct pollfd p = {c->fd, POLLIN, 0};
	return left > 0 && poll(&p, 1, (int)left) > 0;
}

/* Reads the answer's head into w->in; what follows it stays there for the frames. */
static int read_head(struct http_wsc *w, char *head, size_t n, struct err *e)
{
	size_t have = 0;
	for (;;) {
		ssize_t got = gnutls_record_recv(w->c.s, head + have, n - 1 - have);
		if (got == GNUTLS_E_AGAIN || got == GNUTLS_E_INTERRUPTED) {
			if (!wait_in(&w->c))
				return err_set(e, ERR_UNAVAILABLE, "%s: no answer to the upgrade",
					       w->c.url);
			continue;
		}
		if (got <= 0)
			return err_set(e, ERR_UNAVAILABLE, "%s: the connection ended: %s", w->c.url,
				       got ? gnutls_strerror((int)got) : "end of stream");
		have += (size_t)got;
		head[have] = '\0';
		char *end = strstr(head, "\r\n\r\n");
		if (end) {
			size_t used = (size_t)(end + 4 - head);
			w->in_len = have - used;
			memcpy(w->in, end + 4, w->in_len);
			*end = '\0';
			return 0;
		}
		if (have >= n - 1)
			return err_set(e, ERR_UNAVAILABLE, "%s: the answer's head is too long",
				       w->c.url);
	}
}

/* The value of header `name` in a response head, copied; false when absent. */
static bool head_value(const char *head, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);
	for (const char *l = strstr(head, "\r\n"); l; l = strstr(l, "\r\n")) {
		l += 2;
		if (strncasecmp(l, name, nl) == 0 && l[nl] == ':') {
			const char *v = l + nl + 1;
			v += strspn(v, " \t");
			size_t vl = strcspn(v, "\r");
			while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
				vl--;
			if (vl >= n)
				return false;
			memcpy(out, v, vl);
			out[vl] = '\0';
			return true;
		}
	}
	return false;
}

bool http_wsc_answer_ok(const char *head, const char *key, int *status)
{
	char want[64], got[64];
	*status = 0;
	if (sscanf(head, "HTTP/1.%*d %3d", status) != 1 || *status != 101)
		return false;
	return http_ws_accept_key(key, want, sizeof(want)) &&
	       head_value(head, "Sec-WebSocket-Accept", got, sizeof(got)) && strcmp(want, got) == 0;
}

static int upgrade(struct http_wsc *w, const char *const *headers, int *status, struct err *e)
{
	unsigned char nonce[16];
	char key[32];
	gnutls_datum_t in = {nonce, sizeof(nonce)}, b64 = {NULL, 0};
	if (gnutls_rnd(GNUTLS_RND_NONCE, nonce, sizeof(nonce)) != 0 ||
	    gnutls_base64_encode2(&in, &b64) != 0 || b64.size >= sizeof(key))
		return err_set(e, ERR_CRYPTO, "cannot make a WebSocket key");
	memcpy(key, b64.data, b64.size);
	key[b64.size] = '\0';
	gnutls_free(b64.data);
	struct buf req;
	buf_init(&req, HEAD_MAX * 4);
	int rc = buf_printf(&req,
			    "GET %s HTTP/1.1\r\nHost: %s:%s\r\nConnection: Upgrade\r\nUpgrade: "
			    "websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n",
			    w->c.path, w->c.host, w->c.port, key);
	for (const char *const *h = headers; !rc && h && *h; h++)
		rc = buf_printf(&req, "%s\r\n", *h);
	if (!rc)
		rc = buf_puts(&req, "\r\n");
	rc = rc ? err_set(e, ERR_TOO_LARGE, "the upgrade's headers are too long")
		: http_call_send(&w->c, req.data, req.len);
	buf_release(&req);
	char *head = rc ? NULL : malloc(HEAD_MAX);
	if (!rc && !head)
		rc = err_set(e, ERR_NOMEM, "out of memory");
	if (!rc)
		rc = read_head(w, head, HEAD_MAX, e);
	if (!rc && !http_wsc_answer_ok(head, key, status))
		rc = *status != 101
			 ? err_set(e, ERR_UNAVAILABLE, "%s answered %d to the upgrade", w->c.url,
				   *status)
			 : err_set(e, ERR_UNAVAILABLE,
				   "%s: the upgrade's Sec-WebSocket-Accept is wrong", w->c.url);
	free(head);
	return rc;
}

int http_wsc_open(const struct http_client_tls *tls, const char *url, const char *const *headers,
		  int timeout_ms, struct http_wsc **out, int *out_status, struct err *e)
{
	*out = NULL;
	*out_status = 0;
	struct http_wsc *w = calloc(1, sizeof(*w));
	if (!w)
		return err_set(e, ERR_NOMEM, "out of memory");
	w->c = (struct call){.url = url, .fd = -1, .e = e};
	w->c.deadline = time_mono_ms() + timeout_ms;
	pthread_mutex_init(&w->send_mu, NULL);
	int rc = http_call_split_url(&w->c);
	if (!rc)
		rc = http_call_connect(&w->c);
	if (!rc)
		rc = http_call_tls(&w->c, tls);
	if (!rc)
		rc = upgrade(w, headers, out_status, e);
	if (!rc) {
		/* from now on the socket blocks: the reader waits as long as the session lives */
		int fl = fcntl(w->c.fd, F_GETFL);
		struct timeval tv = {SEND_WAIT, 0};
		if (fl < 0 || fcntl(w->c.fd, F_SETFL, fl & ~O_NONBLOCK) != 0 ||
		    setsockopt(w->c.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0)
			rc = err_set(e, ERR_IO, "cannot set up the socket: %s", strerror(errno));
	}
	if (rc) {
		http_wsc_free(w);
		return rc;
	}
	w->c.url = NULL; /* the caller's string need not outlive the call */
	w->c.e = NULL;
	*out = w;
	return 0;
}

/* ---------------------------------------------------------------- frames */

static bool send_raw(struct http_wsc *w, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t n = w->c.s ? gnutls_record_send(w->c.s, p, len)
				   : send(w->c.fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && !w->c.s && errno == EINTR)
			continue;
		if (n == GNUTLS_E_INTERRUPTED)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* One masked frame; the caller holds send_mu. */
static bool send_frame(struct http_wsc *w, int opcode, const char *data, size_t len)
{
	unsigned char head[14], mask[4];
	size_t hl = 2;
	head[0] = (unsigned char)(0x80 | opcode);
	if (len < 126) {
		head[1] = (unsigned char)(0x80 | len);
	} else if (len < 65536) {
		head[1] = 0x80 | 126;
		head[2] = (unsigned char)(len >> 8);
		head[3] = (unsigned char)len;
		hl = 4;
	} else {
		head[1] = 0x80 | 127;
		for (int i = 0; i < 8; i++)
			head[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
		hl = 10;
	}
	if (gnutls_rnd(GNUTLS_RND_NONCE, mask, sizeof(mask)) != 0)
		return false;
	memcpy(head + hl, mask, 4);
	if (!send_raw(w, head, hl + 4))
		return false;
	char chunk[16384];
	for (size_t at = 0; at < len;) {
		size_t n = len - at < sizeof(chunk) ? len - at : sizeof(chunk);
		for (size_t i = 0; i < n; i++)
			chunk[i] = (char)(data[at + i] ^ mask[(at + i) & 3]);
		if (!send_raw(w, chunk, n))
			return false;
		at += n;
	}
	return true;
}

static int send_locked(struct http_wsc *w, int opcode, const char *data, size_t len)
{
	pthread_mutex_lock(&w->send_mu);
	bool ok = !w->closed && send_frame(w, opcode, data, len);
	if (!ok)
		w->closed = true;
	pthread_mutex_unlock(&w->send_mu);
	return ok ? 0 : ERR_UNAVAILABLE;
}

int http_wsc_send(struct http_wsc *w, const char *text, size_t len)
{
	return send_locked(w, 1, text, len);
}

/* Exactly n bytes from the connection; false at its end. */
static bool read_exact(struct http_wsc *w, void *out, size_t n)
{
	char *o = out;
	while (n) {
		if (w->in_at < w->in_len) {
			size_t k = w->in_len - w->in_at < n ? w->in_len - w->in_at : n;
			memcpy(o, w->in + w->in_at, k);
			w->in_at += k;
			o += k;
			n -= k;
			continue;
		}
		ssize_t got = w->c.s ? gnutls_record_recv(w->c.s, w->in, sizeof(w->in))
				     : recv(w->c.fd, w->in, sizeof(w->in), 0);
		if (w->c.s ? (got == GNUTLS_E_INTERRUPTED || got == GNUTLS_E_AGAIN)
			   : (got < 0 && errno == EINTR))
			continue;
		if (got <= 0)
			return false;
		w->in_at = 0;
		w->in_len = (size_t)got;
	}
	return true;
}

/* One frame's head: FIN, opcode and payload length. Server frames are not masked. */
static bool frame_head(struct http_wsc *w, bool *fin, int *op, uint64_t *len)
{
	unsigned char h[8];
	if (!read_exact(w, h, 2) || (h[1] & 0x80))
		return false;
	*fin = h[0] & 0x80;
	*op = h[0] & 0x0f;
	*len = h[1] & 0x7f;
	if (*len == 126) {
		if (!read_exact(w, h, 2))
			return false;
		*len = (uint64_t)h[0] << 8 | h[1];
	} else if (*len == 127) {
		if (!read_exact(w, h, 8))
			return false;
		*len = 0;
		for (int i = 0; i < 8; i++)
			*len = *len << 8 | h[i];
	}
	return true;
}

int http_wsc_recv(struct http_wsc *w, size_t max, char **out, size_t *out_len, int *out_code)
{
	*out = NULL;
	*out_len = 0;
	*out_code = 1006;
	struct buf msg;
	buf_init(&msg, max + 1);
	for (;;) {
		bool fin;
		int op;
		uint64_t len;
		if (!frame_head(w, &fin, &op, &len))
			break;
		if ((op > 2 && op < 8) || op > 10)
			break; /* no such frame: the connection is not usable */
		if (op >= 8) { /* control: at most 125 bytes, never fragmented */
			char body[126];
			if (len > 125 || !read_exact(w, body, (size_t)len))
				break;
			if (op == 8) {
				*out_code =
				    len >= 2
					? ((unsigned char)body[0] << 8 | (unsigned char)body[1])
					: 1005;
				(void)send_locked(w, 8, body, len >= 2 ? 2 : 0);
				break;
			}
			if (op == 9 && send_locked(w, 10, body, (size_t)len) != 0)
				break;
			continue;
		}
		if (len > max - msg.len) {
			buf_release(&msg);
			http_wsc_shutdown(w);
			return ERR_TOO_LARGE;
		}
		size_t at = msg.len;
		if (buf_reserve(&msg, (size_t)len + 1) != 0 ||
		    !read_exact(w, msg.data + at, (size_t)len))
			break;
		msg.len = at + (size_t)len;
		if (fin) {
			msg.data[msg.len] = '\0';
			*out_len = msg.len;
			*out = buf_steal(&msg);
			return 0;
		}
	}
	buf_release(&msg);
	return ERR_UNAVAILABLE;
}

struct http_wsc *http_wsc_over_fd(int fd)
{
	struct http_wsc *w = calloc(1, sizeof(*w));
	if (!w) {
		close(fd);
		return NULL;
	}
	w->c.fd = fd;
	pthread_mutex_init(&w->send_mu, NULL);
	return w;
}

void http_wsc_shutdown(struct http_wsc *w)
{
	pthread_mutex_lock(&w->send_mu);
	w->closed = true;
	pthread_mutex_unlock(&w->send_mu);
	if (w->c.fd >= 0)
		shutdown(w->c.fd, SHUT_RDWR);
}

void http_wsc_free(struct http_wsc *w)
{
	if (!w)
		return;
	http_call_release(&w->c, false);
	pthread_mutex_destroy(&w->send_mu);
	free(w);
}
