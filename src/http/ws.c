/* ws.c: WebSockets on the event loops, with wslay parsing the frames.
 *
 * The loop reads a socket into its scratch buffer and lets wslay parse it; each whole
 * message is queued for the socket's pump, a job on the worker pool that runs on_open, the
 * messages in order and finally on_close, one at a time. Messages to send are queued by any
 * thread; the loop takes them once it has written what it took before, writes each as one
 * frame, and lets wslay write its control frames (pongs, the close) between messages. All
 * of it is gathered in the connection's out buffer so that TLS records go out full. A peer
 * that reads nothing stops the queue at 64 MiB (the socket is closed); one that sends
 * faster than its messages are handled is not read until the queue drains. */
#include "http/http_int.h"

#include <gnutls/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#define WS_GUID	   "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define OUT_GATHER (1u << 20) /* frames gathered before they are written */

struct msg {
	struct msg *next;
	size_t len;
	size_t off; /* an outgoing message: how much of it the loop has written */
	char *data; /* `tail`, or a buffer the message owns (http_ws_send_owned) */
	char tail[];
};

static struct msg *msg_new(size_t len)
{
	struct msg *m = malloc(sizeof(*m) + len);
	if (m) {
		m->next = NULL;
		m->len = len;
		m->off = 0;
		m->data = m->tail;
	}
	return m;
}

static void msg_free(struct msg *m)
{
	if (m && m->data != m->tail)
		free(m->data);
	free(m);
}

struct http_ws {
	struct http_server *server;
	char id[24]; /* the upgrade request's: the log lines of its messages name it */
	const struct http_ws_handler *h;
	void *state;
	wslay_event_context_ptr ctx; /* the loop's */
	/* the loop's: messages taken from the queue, framed here (wslay's own framing cuts a
	 * message into 4 KiB frames); `cur` is the one being written, `hdr` its frame head */
	struct msg *send_head, *send_tail, *cur;
	uint8_t hdr[10];
	size_t hdr_len, hdr_off;
	int close_pending; /* a close asked for, given to wslay once the messages are out */
	char close_reason[64];
	int64_t last_rx_ms;	/* the loop's */
	bool ping_sent;		/* the loop's */
	pthread_mutex_t mu;	/* guards what follows */
	struct http_conn *conn; /* NULL once the loop let go */
	struct msg *out_head, *out_tail;
	size_t out_bytes;
	struct msg *in_head, *in_tail;
	size_t in_bytes;
	bool pumping;	/* a pump job is queued or running */
	bool opened;	/* on_open ran */
	bool gone;	/* the connection is closed: on_close once the queue is empty */
	int close_code; /* asked for; -1 once given to wslay */
	char reason[64];
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

bool http_ws_accept_key(const char *key, char *out, size_t n)
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

static void free_list(struct msg *m)
{
	for (struct msg *next; m; m = next) {
		next = m->next;
		msg_free(m);
	}
}

static void ws_free(struct http_ws *ws)
{
	free_list(ws->send_head);
	msg_free(ws->cur);
	free_list(ws->out_head);
	free_list(ws->in_head);
	pthread_mutex_destroy(&ws->mu);
	free(ws);
}

void http_req_upgrade_websocket(struct http_req *r, const struct http_ws_handler *h, void *state)
{
	char accept[64];
	struct http_ws *ws = r->conn ? calloc(1, sizeof(*ws)) : NULL;
	const char *key = http_req_header(r, "Sec-WebSocket-Key");
	if (!ws || !key || !http_ws_accept_key(key, accept, sizeof(accept))) {
		free(ws);
		h->on_close(state);
		http_respond(r, r->conn ? 500 : 501, "application/json",
			     "{\"message\":\"cannot start a WebSocket\"}", 38);
		return;
	}
	ws->h = h;
	str_copy(ws->id, r->id, sizeof(ws->id));
	ws->state = state;
	ws->server = r->server;
	pthread_mutex_init(&ws->mu, NULL);
	r->upgrade = ws;
	http_add_header(r, "Upgrade", "websocket");
	http_add_header(r, "Sec-WebSocket-Accept", accept);
	r->responded = true;
	r->status = 101;
}

void http_ws_abandon(struct http_ws *ws)
{
	ws->h->on_close(ws->state);
	ws_free(ws);
}

/* ---------------------------------------------------------------- the pump (workers) */

static void pump(void *arg)
{
	struct http_ws *ws = arg;
	struct http_server *s = ws->server;
	log_context_set(s->name, ws->id);
	pthread_mutex_lock(&ws->mu);
	for (;;) {
		if (!ws->opened) {
			ws->opened = true;
			pthread_mutex_unlock(&ws->mu);
			ws->h->on_open(ws->state, ws);
			pthread_mutex_lock(&ws->mu);
			continue;
		}
		struct msg *m = ws->in_head;
		if (m) {
			ws->in_head = m->next;
			if (!ws->in_head)
				ws->in_tail = NULL;
			bool was_full = ws->in_bytes > HTTP_WS_MAX_QUEUE;
			ws->in_bytes -= m->len;
			if (was_full && ws->in_bytes <= HTTP_WS_MAX_QUEUE && ws->conn)
				http_loop_post(ws->conn); /* read the socket again */
			pthread_mutex_unlock(&ws->mu);
			ws->h->on_message(ws->state, ws, m->data, m->len);
			msg_free(m);
			pthread_mutex_lock(&ws->mu);
			continue;
		}
		if (ws->gone) {
			pthread_mutex_unlock(&ws->mu);
			ws->h->on_close(ws->state);
			ws_free(ws);
			atomic_fetch_sub(&s->n_ws, 1);
			log_context_set(NULL, NULL);
			return;
		}
		ws->pumping = false;
		pthread_mutex_unlock(&ws->mu);
		log_context_set(NULL, NULL);
		return;
	}
}

/* With ws->mu held: makes sure a pump runs. */
static void schedule(struct http_ws *ws)
{
	if (ws->pumping)
		return;
	ws->pumping = true;
	if (!http_pool_run(ws->server->pool, pump, ws)) {
		ws->pumping = false;
		log_error("http: no worker could be had for a WebSocket");
	}
}

/* ---------------------------------------------------------------- any thread */

static int enqueue(struct http_ws *ws, struct msg *m)
{
	size_t len = m->len;
	int rc = 0;
	pthread_mutex_lock(&ws->mu);
	if (ws->gone || ws->close_code) {
		rc = ERR_UNAVAILABLE;
	} else if (ws->out_bytes && ws->out_bytes + len > HTTP_WS_MAX_QUEUE) {
		/* one message of any size goes; a backlog past 64 MiB means the peer is not
		 * reading */
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
	if (ws->conn && (rc == 0 || rc == ERR_TOO_LARGE))
		http_loop_post(ws->conn);
	pthread_mutex_unlock(&ws->mu);
	msg_free(m);
	return rc;
}

int http_ws_send(struct http_ws *ws, const char *text, size_t len)
{
	struct msg *m = msg_new(len);
	if (!m)
		return ERR_NOMEM;
	memcpy(m->data, text, len);
	return enqueue(ws, m);
}

int http_ws_send_owned(struct http_ws *ws, char *text, size_t len)
{
	struct msg *m = msg_new(0);
	if (!m) {
		free(text);
		return ERR_NOMEM;
	}
	m->data = text;
	m->len = len;
	return enqueue(ws, m);
}

void http_ws_close(struct http_ws *ws, int code, const char *reason)
{
	pthread_mutex_lock(&ws->mu);
	if (!ws->close_code) {
		ws->close_code = code;
		str_copy(ws->reason, reason ? reason : "", sizeof(ws->reason));
		if (ws->conn)
			http_loop_post(ws->conn);
	}
	pthread_mutex_unlock(&ws->mu);
}

/* ---------------------------------------------------------------- the loop */

static ssize_t on_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user)
{
	(void)flags;
	struct http_conn *c = user;
	if (!c->rd_len) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	size_t n = c->rd_len < len ? c->rd_len : len;
	memcpy(buf, c->rd, n);
	c->rd += n;
	c->rd_len -= n;
	return (ssize_t)n;
}

/* Gathers frames in the out buffer; they are written in large pieces by http_conn_flush. */
static ssize_t on_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
		       void *user)
{
	(void)flags;
	struct http_conn *c = user;
	size_t room = c->out.len < OUT_GATHER ? OUT_GATHER - c->out.len : 0;
	if (!room) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (len >= 4096 && c->out.cap < OUT_GATHER + 1 && buf_reserve(&c->out, OUT_GATHER) != 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	size_t n = len < room ? len : room;
	if (buf_append(&c->out, data, n)) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return (ssize_t)n;
}

static void on_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
		   void *user)
{
	(void)ctx;
	struct http_conn *c = user;
	struct http_ws *ws = c->ws;
	if (arg->opcode != WSLAY_TEXT_FRAME && arg->opcode != WSLAY_BINARY_FRAME)
		return;
	struct msg *m = msg_new(arg->msg_length);
	if (!m) {
		http_ws_close(ws, 1011, "out of memory");
		return;
	}
	if (m->len) /* an empty message comes without a buffer */
		memcpy(m->data, arg->msg, m->len);
	pthread_mutex_lock(&ws->mu);
	if (ws->in_tail)
		ws->in_tail->next = m;
	else
		ws->in_head = m;
	ws->in_tail = m;
	ws->in_bytes += m->len;
	schedule(ws);
	pthread_mutex_unlock(&ws->mu);
}

void http_ws_start(struct http_conn *c, struct http_ws *ws)
{
	struct wslay_event_callbacks cb = {
	    .recv_callback = on_recv, .send_callback = on_send, .on_msg_recv_callback = on_msg};
	c->ws = ws;
	c->state = C_WS;
	c->deadline_ms = 0;
	ws->last_rx_ms = time_mono_ms();
	atomic_fetch_add(&ws->server->n_ws, 1);
	pthread_mutex_lock(&ws->mu);
	ws->conn = c;
	if (wslay_event_context_server_init(&ws->ctx, &cb, c) == 0)
		wslay_event_config_set_max_recv_msg_length(
		    ws->ctx, ws->h->max_message ? ws->h->max_message : 16u << 20);
	else
		c->state = C_CLOSED; /* the loop closes it, and the pump calls on_close */
	schedule(ws);		     /* on_open */
	/* posted before the lock is let go: once the pump has sent something, the loop may
	 * already watch the socket and close it, and closing takes this lock first */
	http_loop_post(c);
	pthread_mutex_unlock(&ws->mu);
}

/* Moves the queued messages (and a close asked for) to the loop's side. Only when the loop
 * has sent what it took before: a peer that does not read lets the queue grow to its limit
 * (http_ws_send then closes the socket) instead of the loop's memory. */
static void take_queue(struct http_ws *ws)
{
	if (ws->cur || ws->send_head)
		return;
	pthread_mutex_lock(&ws->mu);
	ws->send_head = ws->out_head;
	ws->send_tail = ws->out_tail;
	ws->out_head = ws->out_tail = NULL;
	ws->out_bytes = 0;
	if (ws->close_code > 0) {
		ws->close_pending = ws->close_code;
		str_copy(ws->close_reason, ws->reason, sizeof(ws->close_reason));
		ws->close_code = -1; /* given to the loop once */
	}
	pthread_mutex_unlock(&ws->mu);
}

/* Starts the next message's frame: one text frame, FIN set, not masked (RFC 6455 5.2). */
static void next_frame(struct http_ws *ws)
{
	struct msg *m = ws->send_head;
	ws->send_head = m->next;
	if (!ws->send_head)
		ws->send_tail = NULL;
	m->next = NULL;
	m->off = 0;
	ws->cur = m;
	uint8_t *h = ws->hdr;
	h[0] = 0x81;
	if (m->len < 126) {
		h[1] = (uint8_t)m->len;
		ws->hdr_len = 2;
	} else if (m->len <= 0xFFFF) {
		h[1] = 126;
		h[2] = (uint8_t)(m->len >> 8);
		h[3] = (uint8_t)m->len;
		ws->hdr_len = 4;
	} else {
		h[1] = 127;
		for (int i = 0; i < 8; i++)
			h[2 + i] = (uint8_t)((uint64_t)m->len >> (56 - 8 * i));
		ws->hdr_len = 10;
	}
	ws->hdr_off = 0;
}

/* Fills the out buffer up to OUT_GATHER: wslay's frames (control frames, a close) between
 * messages, the messages' frames otherwise. 0, or -1 when the connection is done. */
static int fill_out(struct http_conn *c)
{
	struct http_ws *ws = c->ws;
	struct buf *out = &c->out;
	while (out->len < OUT_GATHER) {
		if (ws->cur) {
			struct msg *m = ws->cur;
			size_t room = OUT_GATHER - out->len;
			if (ws->hdr_off < ws->hdr_len) {
				size_t n = ws->hdr_len - ws->hdr_off;
				if (buf_append(out, ws->hdr + ws->hdr_off, n))
					return -1;
				ws->hdr_off += n;
				continue;
			}
			size_t n = m->len - m->off < room ? m->len - m->off : room;
			if (n >= 4096 && out->cap < OUT_GATHER + 1 && buf_reserve(out, OUT_GATHER))
				return -1;
			if (n && buf_append(out, m->data + m->off, n))
				return -1;
			m->off += n;
			if (m->off == m->len) {
				msg_free(m);
				ws->cur = NULL;
			}
			continue;
		}
		/* between messages: what wslay has to send goes first, whole */
		if (wslay_event_want_write(ws->ctx)) {
			size_t before = out->len;
			if (wslay_event_send(ws->ctx) != 0)
				return -1;
			if (out->len == before)
				break; /* wslay's frame waits for room */
			continue;
		}
		if (wslay_event_get_close_sent(ws->ctx)) {
			free_list(ws->send_head); /* nothing may follow a close */
			ws->send_head = ws->send_tail = NULL;
			ws->close_pending = 0;
			break;
		}
		if (ws->send_head) {
			next_frame(ws);
			continue;
		}
		if (ws->close_pending) {
			int code = ws->close_pending;
			ws->close_pending = 0;
			(void)wslay_event_queue_close(ws->ctx, (uint16_t)code,
						      (const uint8_t *)ws->close_reason,
						      strlen(ws->close_reason));
			continue;
		}
		take_queue(ws);
		if (!ws->send_head && !ws->close_pending)
			break;
	}
	return 0;
}

/* Reads what the socket has and hands it to wslay. False when the connection is done. */
static bool ws_read(struct http_conn *c)
{
	struct http_ws *ws = c->ws;
	char *scratch = c->loop->scratch;
	if (c->in_off < c->in.len) { /* bytes that came with the handshake */
		c->rd = c->in.data + c->in_off;
		c->rd_len = c->in.len - c->in_off;
		int rc = wslay_event_recv(ws->ctx);
		buf_release(&c->in);
		c->in_off = 0;
		c->rd_len = 0;
		if (rc != 0)
			return false;
	}
	for (int i = 0; i < 16; i++) {
		pthread_mutex_lock(&ws->mu);
		bool full = ws->in_bytes > HTTP_WS_MAX_QUEUE;
		pthread_mutex_unlock(&ws->mu);
		if (full || !wslay_event_want_read(ws->ctx))
			return true;
		ssize_t n = http_conn_recv(c, scratch, HTTP_SCRATCH);
		if (n == -1)
			return true;
		if (n <= 0)
			return false; /* the peer is gone */
		ws->last_rx_ms = time_mono_ms();
		ws->ping_sent = false;
		c->rd = scratch;
		c->rd_len = (size_t)n;
		int rc = wslay_event_recv(ws->ctx);
		c->rd_len = 0;
		if (rc != 0) {
			log_debug("http: %s: WebSocket: wslay error %d", c->addr_str, rc);
			return false;
		}
	}
	if (http_conn_buffered(c))
		http_loop_post(c); /* more is buffered: come back after the others had a turn */
	return true;
}

bool http_ws_io(struct http_conn *c, bool readable, bool writable)
{
	(void)writable;
	struct http_ws *ws = c->ws;
	if (c->state != C_WS || !ws->ctx)
		return false;
	take_queue(ws);
	if ((readable || c->in_off < c->in.len) && !ws_read(c))
		return false;
	for (;;) {
		if (fill_out(c) != 0)
			return false;
		if (c->out.len == 0)
			break; /* nothing more to send */
		int f = http_conn_flush(c);
		if (f < 0)
			return false;
		if (f > 0)
			break; /* the socket is full: EPOLLOUT brings the loop back */
	}
	bool rd = wslay_event_want_read(ws->ctx);
	bool wr = wslay_event_want_write(ws->ctx) || ws->cur || ws->send_head || ws->close_pending;
	bool pending = c->out_off < c->out.len;
	if (!pending && !wr && c->out.cap > 4096)
		buf_release(&c->out); /* nothing more to send: an idle socket keeps no buffer */
	if (!rd && !wr && !pending)
		return false; /* closed both ways */
	pthread_mutex_lock(&ws->mu);
	bool full = ws->in_bytes > HTTP_WS_MAX_QUEUE;
	pthread_mutex_unlock(&ws->mu);
	uint32_t ev = EPOLLRDHUP;
	if (rd && !full)
		ev |= EPOLLIN;
	if (pending || wr)
		ev |= EPOLLOUT;
	http_conn_watch(c, ev);
	return true;
}

bool http_ws_tick(struct http_conn *c, int64_t now_ms)
{
	struct http_ws *ws = c->ws;
	int64_t quiet = now_ms - ws->last_rx_ms;
	int64_t interval = (int64_t)c->loop->server->cfg.ws_ping_s * 1000;
	if (ws->ping_sent && quiet >= 2 * interval) {
		log_debug("http: %s: a WebSocket from %s did not answer a ping; closed",
			  c->loop->server->name, c->addr_str);
		return false;
	}
	if (!ws->ping_sent && quiet >= interval && ws->ctx) {
		struct wslay_event_msg ping = {WSLAY_PING, (const uint8_t *)"", 0};
		if (wslay_event_queue_msg(ws->ctx, &ping) != 0)
			return false;
		ws->ping_sent = true;
		return http_ws_io(c, false, false);
	}
	return true;
}

void http_ws_detach(struct http_conn *c)
{
	struct http_ws *ws = c->ws;
	c->ws = NULL;
	if (ws->ctx)
		wslay_event_context_free(ws->ctx);
	ws->ctx = NULL;
	pthread_mutex_lock(&ws->mu);
	ws->conn = NULL;
	ws->gone = true;
	schedule(ws);
	pthread_mutex_unlock(&ws->mu);
}
