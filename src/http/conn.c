/* conn.c: a connection's bytes (TLS or plain, never blocking), and the worker's side of a
 * request: build it from the head, run the handler, read the body, write the response,
 * then either serve the next pipelined request, start a WebSocket, or give the connection
 * back to its loop. */
#include "http/http_int.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- bytes */

#define READ_AHEAD (64u << 10)

static void ra_drop(struct http_conn *c)
{
	free(c->ra);
	c->ra = NULL;
	c->ra_off = c->ra_len = 0;
}

static ssize_t tls_pull(gnutls_transport_ptr_t p, void *data, size_t size)
{
	struct http_conn *c = p;
	if (c->ra_off == c->ra_len) {
		char *into = c->ra ? c->ra : (c->ra = malloc(READ_AHEAD));
		size_t cap = READ_AHEAD;
		if (!into) { /* no memory: read only what was asked for */
			into = data;
			cap = size;
		}
		ssize_t n;
		while ((n = recv(c->fd, into, cap, 0)) < 0 && errno == EINTR)
			;
		if (n < 0)
			gnutls_transport_set_errno(c->tls, errno);
		if (n <= 0 || into == data) {
			ra_drop(c);
			return n;
		}
		c->ra_off = 0;
		c->ra_len = (size_t)n;
	}
	size_t k = c->ra_len - c->ra_off < size ? c->ra_len - c->ra_off : size;
	memcpy(data, c->ra + c->ra_off, k);
	c->ra_off += k;
	if (c->ra_off == c->ra_len)
		ra_drop(c);
	return (ssize_t)k;
}

static ssize_t tls_push(gnutls_transport_ptr_t p, const giovec_t *iov, int n)
{
	struct http_conn *c = p;
	struct msghdr m = {.msg_iov = (struct iovec *)(void *)iov, .msg_iovlen = (size_t)n};
	ssize_t w;
	while ((w = sendmsg(c->fd, &m, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	if (w < 0)
		gnutls_transport_set_errno(c->tls, errno);
	return w;
}

void http_conn_tls_attach(struct http_conn *c)
{
	gnutls_transport_set_ptr(c->tls, c);
	gnutls_transport_set_pull_function(c->tls, tls_pull);
	gnutls_transport_set_vec_push_function(c->tls, tls_push);
}

bool http_conn_buffered(const struct http_conn *c)
{
	return c->tls && (c->ra_off < c->ra_len || gnutls_record_check_pending(c->tls) > 0);
}

ssize_t http_conn_recv(struct http_conn *c, void *buf, size_t len)
{
	if (c->tls) {
		ssize_t n;
		do
			n = gnutls_record_recv(c->tls, buf, len);
		while (n == GNUTLS_E_INTERRUPTED);
		if (n >= 0)
			return n;
		if (n == GNUTLS_E_AGAIN)
			return -1;
		if (n == GNUTLS_E_PREMATURE_TERMINATION)
			return 0; /* the peer closed TCP without close_notify: EOF all the same */
		log_debug("http: %s: TLS: %s", c->addr_str, gnutls_strerror((int)n));
		return -2;
	}
	ssize_t n;
	while ((n = recv(c->fd, buf, len, 0)) < 0 && errno == EINTR)
		;
	if (n >= 0)
		return n;
	return errno == EAGAIN || errno == EWOULDBLOCK ? -1 : -2;
}

ssize_t http_conn_send(struct http_conn *c, const void *buf, size_t len)
{
	if (c->tls) {
		/* a record that would have blocked must be sent again with the same length */
		if (c->tls_retry)
			len = c->tls_retry;
		ssize_t n;
		do
			n = gnutls_record_send(c->tls, buf, len);
		while (n == GNUTLS_E_INTERRUPTED);
		if (n == GNUTLS_E_AGAIN) {
			c->tls_retry = len;
			return -1;
		}
		c->tls_retry = 0;
		return n > 0 ? n : -2;
	}
	ssize_t n;
	while ((n = send(c->fd, buf, len, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	if (n > 0)
		return n;
	return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? -1 : -2;
}

int http_conn_flush(struct http_conn *c)
{
	while (c->out_off < c->out.len) {
		size_t left = c->out.len - c->out_off;
		ssize_t n = http_conn_send(c, c->out.data + c->out_off,
					   left < HTTP_OUT_CHUNK ? left : HTTP_OUT_CHUNK);
		if (n == -1)
			return 1;
		if (n < 0)
			return -1;
		c->out_off += (size_t)n;
	}
	c->out.len = c->out_off = 0;
	return 0;
}

/* Worker side: waits until the socket is ready, at most `timeout_ms`. */
static bool wait_fd(struct http_conn *c, short ev, int timeout_ms)
{
	if (ev == POLLIN && http_conn_buffered(c))
		return true;
	struct pollfd p = {c->fd, ev, 0};
	int rc;
	while ((rc = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
		;
	return rc > 0;
}

static unsigned io_timeout_ms(struct http_conn *c)
{
	return c->loop->server->cfg.io_timeout_s * 1000u;
}

/* Worker side: writes everything, waiting while the peer reads; false when the peer is
 * gone or makes no progress within the I/O time-out. */
static bool write_all(struct http_conn *c, const char *data, size_t len)
{
	while (len) {
		ssize_t n = http_conn_send(c, data, len < HTTP_OUT_CHUNK ? len : HTTP_OUT_CHUNK);
		if (n == -1) {
			if (!wait_fd(c, POLLOUT, (int)io_timeout_ms(c)))
				return false;
			continue;
		}
		if (n < 0)
			return false;
		data += n;
		len -= (size_t)n;
	}
	return true;
}

/* Worker side: reads what is there, waiting up to the I/O time-out: > 0 bytes, else 0. */
static ssize_t read_some(struct http_conn *c, char *buf, size_t len)
{
	for (;;) {
		ssize_t n = http_conn_recv(c, buf, len);
		if (n != -1)
			return n > 0 ? n : 0;
		if (!wait_fd(c, POLLIN, (int)io_timeout_ms(c)))
			return 0;
	}
}

/* Like read_some, then takes whatever else is already there without waiting, up to `len`:
 * a TLS read returns one record (16 KiB), and a body's sink works better on large
 * pieces. */
static ssize_t read_more(struct http_conn *c, char *buf, size_t len)
{
	ssize_t n = read_some(c, buf, len);
	while (n > 0 && (size_t)n + 16384 <= len) {
		ssize_t m = http_conn_recv(c, buf + n, len - (size_t)n);
		if (m <= 0)
			break; /* nothing more now; an EOF or error shows on the next read */
		n += m;
	}
	return n;
}

/* ---------------------------------------------------------------- responses */

static const char *reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Status";
	}
}

/* The status line and headers of `r`'s response; the body follows in the same write when
 * it is in memory. */
static int response_head(struct http_req *r, bool keep_alive, uint64_t length, struct buf *out)
{
	int rc = buf_printf(out, "HTTP/1.1 %d %s\r\n", r->status, reason(r->status));
	if (!rc && r->status != 101)
		rc = buf_printf(out, "Content-Length: %llu\r\n", (unsigned long long)length);
	if (!rc && r->content_type && r->status != 101)
		rc = buf_printf(out, "Content-Type: %s\r\n", r->content_type);
	if (!rc && r->id[0])
		rc = buf_printf(out, "X-Request-Id: %s\r\n", r->id);
	if (!rc && r->status == 101)
		rc = buf_puts(out, "Connection: Upgrade\r\n");
	else if (!rc && !keep_alive)
		rc = buf_puts(out, "Connection: close\r\n");
	for (int i = 0; !rc && i < r->n_out_hdr; i++)
		rc = buf_printf(out, "%s: %s\r\n", r->out_hdr[i].k, r->out_hdr[i].v);
	return rc ? rc : buf_puts(out, "\r\n");
}

static bool send_fd_body(struct http_conn *c, int fd, uint64_t size)
{
	char *chunk = malloc(HTTP_OUT_CHUNK);
	bool ok = chunk != NULL;
	for (uint64_t sent = 0; ok && sent < size;) {
		size_t want = size - sent < HTTP_OUT_CHUNK ? (size_t)(size - sent) : HTTP_OUT_CHUNK;
		ssize_t n = pread(fd, chunk, want, (off_t)sent);
		if (n <= 0) {
			log_warn("http: a file answer ended %llu bytes early",
				 (unsigned long long)(size - sent));
			ok = false;
			break;
		}
		ok = write_all(c, chunk, (size_t)n);
		sent += (uint64_t)n;
	}
	free(chunk);
	return ok;
}

/* Writes the response of `r`. False when it did not go out in full. */
static bool send_response(struct http_conn *c, struct http_req *r, bool keep_alive)
{
	uint64_t length = r->out_fd >= 0 ? r->out_fd_size : r->out_len;
	struct buf out;
	buf_init(&out, SIZE_MAX);
	bool ok = response_head(r, keep_alive, length, &out) == 0;
	bool inline_body = r->out_fd < 0 && !r->head_only;
	if (ok && inline_body && r->out_len <= HTTP_OUT_CHUNK)
		ok = buf_append(&out, r->out_body ? r->out_body : "", r->out_len) == 0;
	if (ok)
		ok = write_all(c, out.data, out.len);
	if (ok && inline_body && r->out_len > HTTP_OUT_CHUNK)
		ok = write_all(c, r->out_body, r->out_len);
	buf_release(&out);
	if (ok && r->out_fd >= 0 && !r->head_only)
		ok = send_fd_body(c, r->out_fd, r->out_fd_size);
	return ok;
}

/* Answers a request the transport refuses, in the API's JSON error format. */
static bool send_error(struct http_conn *c, int status, const char *why, bool blocking)
{
	size_t n;
	char *body = http_error_json(status, why, &n);
	char head[256];
	int h = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d %s\r\nContent-Type: application/json; charset=utf-8\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n",
			 status, reason(status), n);
	struct buf out;
	buf_init(&out, SIZE_MAX);
	bool ok = body && buf_append(&out, head, (size_t)h) == 0 && buf_append(&out, body, n) == 0;
	free(body);
	if (ok && blocking) {
		ok = write_all(c, out.data, out.len);
	} else if (ok) {
		/* from a loop: whatever the socket takes now; the answer is small */
		for (size_t off = 0; off < out.len;) {
			ssize_t w = http_conn_send(c, out.data + off, out.len - off);
			if (w <= 0)
				break;
			off += (size_t)w;
		}
	}
	buf_release(&out);
	return ok;
}

void http_conn_refuse(struct http_conn *c, int status, const char *why)
{
	log_debug("http: %s: %d %s", c->addr_str, status, why);
	(void)send_error(c, status, why, false);
}

/* ---------------------------------------------------------------- a request on a worker */

static void body_to_req(void *ctx, const char *data, size_t len)
{
	http_req_take_body(ctx, data, len);
}

/* Builds the request from the head. Returns 0, or the status to refuse it with. */
static int build_req(struct http_conn *c, struct http_req *r, const char **why)
{
	struct http_head *h = &c->head;
	r->conn = c;
	r->server = c->loop->server;
	r->body.max = r->server->cfg.max_body;
	r->method = arena_strdup(r->a, http_method_str((enum http_method)h->p.method));
	r->head_only = h->p.method == HTTP_HEAD;
	memcpy(r->hdr, h->hdr, sizeof(h->hdr[0]) * (size_t)h->n_hdr);
	r->n_hdr = h->n_hdr;
	return http_target_split(r->a, h->target.data ? h->target.data : "", &r->path, r->query,
				 &r->n_query, why);
}

/* Reads the rest of the body into the request. False when the connection cannot be used
 * for another request (the body was not read to its end). */
static bool read_body(struct http_conn *c, struct http_req *r)
{
	/* a small JSON body needs no 256 KiB buffer (that size is mapped and unmapped by
	 * malloc on every request): a declared length sizes it, and a chunked body starts at
	 * 32 KiB and moves to 256 KiB pieces once it fills one */
	int64_t declared = http_req_content_length(r);
	size_t chunk_size = declared > 0 && declared < HTTP_BODY_READ - 16384
				? (size_t)declared + 16384
			    : declared < 0 ? 32768
					   : HTTP_BODY_READ;
	struct http_head *h = &c->head;
	h->on_body = body_to_req;
	h->body_ctx = r;
	http_head_resume(h);
	char *chunk = NULL;
	while (!h->message_done && !h->status && !r->body_error) {
		if (c->in_off < c->in.len) {
			size_t used =
			    http_head_feed(h, c->in.data + c->in_off, c->in.len - c->in_off);
			c->in_off += used;
			if (!used && !h->message_done && !h->status)
				break;
			continue;
		}
		if (!chunk && !(chunk = malloc(chunk_size)))
			break;
		ssize_t n = read_more(c, chunk, chunk_size);
		if (n <= 0) {
			r->body_error = ERR_ABORTED;
			break;
		}
		size_t used = http_head_feed(h, chunk, (size_t)n);
		if (used < (size_t)n && buf_append(&c->in, chunk + used, (size_t)n - used))
			break;
		if (chunk_size < HTTP_BODY_READ && (size_t)n + 16384 > chunk_size) {
			free(chunk); /* a large chunked body: larger pieces from here on */
			chunk = NULL;
			chunk_size = HTTP_BODY_READ;
		}
	}
	free(chunk);
	if (c->in_off == c->in.len)
		c->in.len = c->in_off = 0;
	if (h->status && !r->body_error)
		r->body_error = ERR_INVALID;
	return h->message_done && !h->status;
}

/* A request without a body: lets the parser see the end of the head (it stops one byte
 * short of it), so that what follows belongs to the next request or the WebSocket. */
static void finish_head(struct http_conn *c)
{
	struct http_head *h = &c->head;
	http_head_resume(h);
	if (c->in_off < c->in.len)
		c->in_off += http_head_feed(h, c->in.data + c->in_off, c->in.len - c->in_off);
	if (c->in_off == c->in.len)
		c->in.len = c->in_off = 0;
}

enum after { NEXT, CLOSE, LINGER, UPGRADED };

/* s into out (size n, at least 8), every byte that is not printable ASCII (or a space,
 * with `spaces`) as %XX, '%' too; cut short with "..." when it does not fit. */
static void escaped(const char *s, bool spaces, char *out, size_t n)
{
	size_t o = 0;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		bool keep = (c > ' ' && c < 0x7f && c != '%') || (spaces && c == ' ');
		if (o + (keep ? 1 : 3) + 4 > n) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (keep)
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, n - o, "%%%02X", c);
	}
	out[o] = '\0';
}

/* The audit line of a request that acted for someone and may have changed something, or
 * was refused (http_req_set_actor). */
static void audit(const struct http_req *r)
{
	const char *m = r->method ? r->method : "-";
	if (!r->actor || ((!strcmp(m, "GET") || !strcmp(m, "HEAD") || !strcmp(m, "OPTIONS")) &&
			  r->status != 403))
		return;
	char path[512], who[300];
	escaped(r->path ? r->path : "-", false, path, sizeof(path));
	escaped(r->actor, true, who, sizeof(who));
	log_audit("audit: %s %s %d by %s", m, path, r->status, who);
}

/* The request in /metrics: how many by route and status, and how long from its head read
 * to its answer written (a streamed file's last byte included; a WebSocket's handshake
 * only). */
static void count(const struct http_server *s, const struct http_req *r)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double secs = (double)(now.tv_sec - r->started.tv_sec) +
		      (double)(now.tv_nsec - r->started.tv_nsec) / 1e9;
	char labels[192];
	snprintf(labels, sizeof(labels), "service=\"%s\",route=\"%s\",code=\"%d\"", s->name,
		 r->route ? r->route : "other", r->status);
	metrics_add("fathom_http_requests_total", labels,
		    "HTTP requests answered, by service, route and status", 1);
	snprintf(labels, sizeof(labels), "service=\"%s\",route=\"%s\"", s->name,
		 r->route ? r->route : "other");
	metrics_observe("fathom_http_request_duration_seconds", labels,
			"time from a request's head read to its answer written", secs);
	if (log_requests())
		log_info("http: %s %s %d %.1f ms", r->method ? r->method : "-",
			 r->route ? r->route : "other", r->status, secs * 1000);
	audit(r);
}

/* Runs the handler for the head in c->head. Returns what becomes of the connection: it
 * serves the next request, closes, closes once the unread rest of the body stopped
 * coming (so that the client sees the answer, not a reset), or is a WebSocket now. */
static enum after serve_one(struct http_conn *c)
{
	struct http_server *s = c->loop->server;
	struct http_req *r = http_req_create();
	clock_gettime(CLOCK_MONOTONIC, &r->started);
	http_req_new_id(r);
	log_context_set(s->name, r->id); /* this thread's log lines name the request */
	const char *why = NULL;
	int bad = build_req(c, r, &why);
	if (bad) {
		send_error(c, bad, why, true);
		http_req_destroy(r);
		return CLOSE;
	}
	bool keep = http_should_keep_alive(&c->head.p) != 0;
	int64_t declared = http_req_content_length(r);
	bool has_body = declared > 0 || c->head.n_encoding > 0;
	if (!has_body)
		finish_head(c);
	r->h = &s->h;
	s->h.on_headers(s->h.ctx, r);
	const struct http_handler *h = r->h; /* the one it was handed over to, if any */
	bool body_read = !has_body || c->head.message_done;
	if (!r->responded && !r->sink && declared > 0 && (uint64_t)declared > s->cfg.max_body) {
		char msg[128];
		snprintf(msg, sizeof(msg), "the request body is larger than %zu bytes",
			 s->cfg.max_body);
		size_t n;
		char *body = http_error_json(413, msg, &n);
		http_respond(r, 413, "application/json; charset=utf-8", body ? body : "", n);
		free(body);
	}
	if (!r->responded) {
		const char *expect = http_req_header(r, "Expect");
		if (expect && str_ieq(expect, "100-continue") && has_body &&
		    !write_all(c, "HTTP/1.1 100 Continue\r\n\r\n", 25))
			r->body_error = ERR_ABORTED;
		if (!r->body_error)
			body_read = read_body(c, r);
		h->on_complete(h->ctx, r);
		if (!r->responded)
			http_respond(r, 500, "application/json", "{\"message\":\"no response\"}",
				     25);
	}
	keep = keep && body_read && r->status != 101;
	bool sent = send_response(c, r, keep);
	count(s, r);
	log_context_set(NULL, NULL);
	if (r->upgrade && sent && r->status == 101) {
		struct http_ws *ws = r->upgrade;
		r->upgrade = NULL;
		h->on_done(h->ctx, r, true);
		http_req_destroy(r);
		http_ws_start(c, ws);
		return UPGRADED;
	}
	if (r->upgrade) {
		http_ws_abandon(r->upgrade);
		r->upgrade = NULL;
	}
	h->on_done(h->ctx, r, sent);
	http_req_destroy(r);
	if (!sent)
		return CLOSE;
	return keep ? NEXT : body_read ? CLOSE : LINGER;
}

/* A client on a keep-alive connection often sends its next request as soon as it has the
 * answer: waiting a moment for it here saves handing the connection to the loop and back.
 * 10 ms: with 100 busy clients on 2 cores, 1 ms caught too few next requests (0.9 of
 * libmicrohttpd's requests/s), 10 ms gave 1.2 and 20 ms 1.25 (bench/transport_run); a
 * worker is held at most that long per answer. True when a complete head (or a refusal) is
 * in. */
#define NEXT_HEAD_WAIT_MS 10
static bool next_head_soon(struct http_conn *c)
{
	char buf[16384 + 64];
	for (int i = 0; i < 4 && wait_fd(c, POLLIN, NEXT_HEAD_WAIT_MS); i++) {
		ssize_t n = http_conn_recv(c, buf, sizeof(buf));
		if (n <= 0)
			return false; /* the loop sees the EOF, an error, or the rest of a record */
		size_t used = http_head_feed(&c->head, buf, (size_t)n);
		if (used < (size_t)n && buf_append(&c->in, buf + used, (size_t)n - used))
			return false;
		if (c->head.headers_done || c->head.status)
			return true;
	}
	return false;
}

void http_conn_serve(void *arg)
{
	struct http_conn *c = arg;
	for (;;) {
		enum after next = serve_one(c);
		if (next == UPGRADED)
			return; /* the WebSocket's loop has it now */
		struct arena *a = c->head.a;
		http_head_release(&c->head);
		arena_free(a);
		c->head.a = NULL;
		if (next != NEXT) {
			c->state = next == LINGER ? C_LINGER : C_CLOSED;
			break;
		}
		/* the next request: pipelined bytes may already hold its head */
		http_head_begin(&c->head, arena_new());
		if (c->in_off < c->in.len)
			c->in_off +=
			    http_head_feed(&c->head, c->in.data + c->in_off, c->in.len - c->in_off);
		if (c->in_off == c->in.len)
			c->in.len = c->in_off = 0;
		if (c->head.status) {
			http_conn_refuse(c, c->head.status, c->head.why);
			c->state = C_CLOSED;
			break;
		}
		if (!c->head.headers_done && !next_head_soon(c)) {
			c->state = C_HEAD;
			break;
		}
		if (c->head.status) {
			http_conn_refuse(c, c->head.status, c->head.why);
			c->state = C_CLOSED;
			break;
		}
	}
	http_loop_post(c);
}
