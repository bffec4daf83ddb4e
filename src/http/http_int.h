/* http_int.h: what the server's files share: the request head parser, connections, event
 * loops, the worker pool, TLS and WebSockets.
 *
 * Ownership of a connection moves, never shared: its event loop owns it while it waits for
 * a TLS handshake, a request head or WebSocket traffic; a worker owns it from a complete
 * request head until the response went out, then hands it back through the loop's inbox. */
#ifndef FATHOM_HTTP_INT_H
#define FATHOM_HTTP_INT_H

#include "http/http.h"

#include <time.h>

#include <gnutls/gnutls.h>
#include <http_parser.h>
#include <pthread.h>
#include <stdatomic.h>
#include <wslay/wslay.h>

#define MAX_KV		  128
#define HTTP_MAX_TARGET	  (16u << 10) /* request line past this: 414 */
#define HTTP_MAX_HEAD	  (64u << 10) /* request head past this: 431 */
#define HTTP_SCRATCH	  (64u << 10) /* one read from a socket */
#define HTTP_OUT_CHUNK	  (256u << 10)
#define HTTP_BODY_READ	  (256u << 10) /* a body is handed to its sink in pieces of this */
#define HTTP_WS_MAX_QUEUE (64u << 20)  /* queued in either direction before pushing back */

struct kv {
	const char *k, *v;
};

/* ---------------------------------------------------------------- parse.c */

/* One request head (and then its body) read through http-parser. */
struct http_head {
	http_parser p;
	struct arena *a;
	struct buf target;	 /* raw request target */
	struct buf field, value; /* the header being read */
	bool in_value;
	struct kv hdr[MAX_KV];
	int n_hdr;
	size_t head_bytes;
	int n_length, n_encoding; /* Content-Length and Transfer-Encoding headers seen */
	int status;		  /* 0, or the status of a malformed head (400, 414, 431) */
	const char *why;	  /* what is wrong with it */
	bool headers_done, message_done;
	void (*on_body)(void *ctx, const char *data, size_t len);
	void *body_ctx;
};

void http_head_begin(struct http_head *h, struct arena *a);
/* Feeds bytes. Returns how many were used: it stops after the head (headers_done) and after
 * the whole message (message_done); call http_head_resume to go on past the head. Sets
 * `status` and `why` on a malformed request. */
size_t http_head_feed(struct http_head *h, const char *data, size_t len);
void http_head_resume(struct http_head *h);
void http_head_release(struct http_head *h);
/* Splits a request target into its percent-decoded path and query parameters. Returns 0, or
 * 400 with `why` (NUL anywhere, a malformed escape, not an origin-form target). */
int http_target_split(struct arena *a, const char *target, const char **path, struct kv *query,
		      int *n_query, const char **why);

/* ---------------------------------------------------------------- the request */

struct http_conn;

struct http_req {
	struct arena *a;
	struct http_conn *conn;	    /* NULL for in-process requests */
	struct http_server *server; /* NULL for in-process requests */
	const char *method, *path;
	bool head_only; /* HEAD: the body is not sent */
	struct kv query[MAX_KV];
	int n_query;
	struct kv hdr[MAX_KV];
	int n_hdr;
	struct buf body;
	int body_error;
	http_body_sink sink;
	void *sink_ctx;
	void *data;
	struct http_ws *upgrade;      /* the WebSocket this request asked for, until it starts */
	int cert_state;		      /* -1 unknown, else enum http_cert */
	const struct http_handler *h; /* runs on_complete and on_done (http_req_hand_over) */
	const char *vouched_user;     /* set by http_req_vouch */
	const char *vouched_attrs;    /* and the attributes it gave, or NULL */
	const char *session_key;      /* set by http_req_set_session_key */
	const char *route;	      /* set by http_req_set_route, for /metrics */
	const char *actor;	      /* set by http_req_set_actor, for the audit line */
	struct timespec started;      /* when its head was read (CLOCK_MONOTONIC) */
	char id[24];		      /* the request's id: in the log's lines and X-Request-Id */
	/* the response */
	bool responded;
	int status;
	const char *content_type;
	char *out_body; /* malloc'd */
	size_t out_len;
	int out_fd; /* -1: none */
	uint64_t out_fd_size;
	struct kv out_hdr[16];
	int n_out_hdr;
};

struct http_req *http_req_create(void);
void http_req_destroy(struct http_req *r);
void http_req_new_id(struct http_req *r); /* a new id, for the log and X-Request-Id */
void http_req_take_body(struct http_req *r, const char *data, size_t len);
/* The API's JSON error body for a request refused by the transport. Caller frees. */
char *http_error_json(int status, const char *message, size_t *out_len);

/* ---------------------------------------------------------------- tls.c */

struct http_tls {
	/* the credentials new sessions get; replaced by http_tls_reload under `mu`. The ones
	 * replaced stay (`retired`) until the server ends: sessions made with them use them. */
	gnutls_certificate_credentials_t cred;
	pthread_mutex_t mu;
	gnutls_certificate_credentials_t *retired;
	size_t n_retired;
	char *trust_pem; /* NULL: no client certificates asked for */
	gnutls_priority_t prio;
	bool ask_cert;
	/* client certificates refused although the CA signed them (a removed node's): their
	 * SHA-256 digests, sorted, replaced under `mu` */
	unsigned char (*revoked)[32];
	size_t n_revoked;
};

NODISCARD int http_tls_new(const struct http_server_config *cfg, struct http_tls **out,
			   struct err *e);
void http_tls_free(struct http_tls *t);
/* New sessions present this certificate and key from now on; sessions open keep theirs. */
NODISCARD int http_tls_reload(struct http_tls *t, const char *cert_pem, const char *key_pem,
			      struct err *e);
/* A server session on `fd`, non-blocking. NULL when out of memory. */
gnutls_session_t http_tls_session(struct http_tls *t, int fd);
/* The client's certificate: whether it chains to the trusted CA and is valid now, and its
 * SHA-256 digest into fp (when one was presented). */
enum http_cert http_tls_peer_cert(gnutls_session_t s, unsigned char fp[32]);
/* Whether the certificate with digest `fp` is revoked for this server. */
bool http_tls_revoked(struct http_tls *t, const unsigned char fp[32]);
NODISCARD int http_tls_set_revoked(struct http_tls *t, const char *const *hex, size_t n,
				   struct err *e);

/* ---------------------------------------------------------------- connections (conn.c) */

enum conn_state { C_HANDSHAKE, C_HEAD, C_BUSY, C_WS, C_LINGER, C_CLOSED };

struct http_loop;

struct http_conn {
	struct http_loop *loop;
	struct http_conn *prev, *next; /* in the loop's list */
	struct http_conn *inbox_next;  /* in the loop's inbox */
	bool in_inbox;		       /* guarded by the loop's mutex */
	int fd;
	gnutls_session_t tls; /* NULL on a plain port */
	unsigned char addr[16];
	char addr_str[48];
	enum conn_state state;
	int64_t deadline_ms;	   /* 0: none */
	uint32_t events;	   /* registered with epoll; 0: not registered */
	int cert_state;		   /* -1 unknown, else enum http_cert */
	unsigned char cert_fp[32]; /* the client certificate's SHA-256, once cert_state is known */
	/* bytes read and not used yet (a head, pipelined requests, a WebSocket's first bytes) */
	struct buf in;
	size_t in_off;
	struct http_head head;
	/* bytes to write (WebSocket frames) */
	struct buf out;
	size_t out_off;
	size_t tls_retry; /* a TLS record that must be sent again with this length */
	/* TLS read-ahead: GnuTLS reads a record's header, then its rest, two reads a record;
	 * the socket is read in larger pieces into `ra` instead. Held only while it has
	 * bytes, so an idle connection has none. */
	char *ra;
	size_t ra_off, ra_len;
	struct http_ws *ws;
	/* for a WebSocket read: the bytes wslay is given */
	const char *rd;
	size_t rd_len;
};

/* Reads into `buf`: > 0 bytes, 0 at EOF, -1 would block, -2 on error. */
ssize_t http_conn_recv(struct http_conn *c, void *buf, size_t len);
/* Gives a TLS connection's session its transport (the read-ahead above). */
void http_conn_tls_attach(struct http_conn *c);
/* True when bytes are buffered above the socket, so that waiting for it could stall. */
bool http_conn_buffered(const struct http_conn *c);
/* Writes: > 0 bytes written, -1 would block, -2 on error. */
ssize_t http_conn_send(struct http_conn *c, const void *buf, size_t len);
/* Writes everything in the out buffer it can without blocking: 0 when empty, 1 when
 * bytes remain, -1 on error. */
int http_conn_flush(struct http_conn *c);
/* Worker side: serves the request whose head is in c->head, then any pipelined ones, then
 * hands the connection back to its loop. */
void http_conn_serve(void *conn);
/* Answers a refused request (JSON error, Connection: close) with what the socket takes now. */
void http_conn_refuse(struct http_conn *c, int status, const char *why);

/* ---------------------------------------------------------------- loops (server.c) */

struct http_loop {
	struct http_server *server;
	pthread_t thread;
	int epfd, wake;
	struct http_conn *conns; /* every connection of this loop */
	int n_conns;
	pthread_mutex_t mu; /* guards the inbox */
	struct http_conn *inbox;
	char scratch[HTTP_SCRATCH];
};

struct addr_count;

struct http_server {
	struct http_handler h;
	struct http_server_config cfg;
	char name[32];
	int listen_fd;
	struct http_tls *tls;
	struct http_loop *loops;
	int n_loops;
	struct http_pool *pool;
	atomic_int n_conns;
	atomic_int n_ws;     /* WebSockets whose on_close has not returned */
	atomic_int stopping; /* 1: close WebSockets; 2: close everything */
	pthread_mutex_t addr_mu;
	struct addr_count *addrs[256];
	_Atomic int64_t full_logged_ms; /* the total limit's log line */
};

/* Hands a connection (owned by a worker, or a WebSocket that has work) to its loop. */
void http_loop_post(struct http_conn *c);
/* Loop side: stops watching a connection, closes and frees it. */
void http_conn_close(struct http_conn *c);
/* Loop side: registers the events a connection waits for. */
void http_conn_watch(struct http_conn *c, uint32_t events);

/* ---------------------------------------------------------------- pool.c */

struct http_pool;
struct http_pool *http_pool_new(int max_threads);
/* Runs fn(arg) on a worker; false when no worker could be had. */
bool http_pool_run(struct http_pool *p, void (*fn)(void *), void *arg);
/* Waits for every job to finish, then frees. */
void http_pool_free(struct http_pool *p);

/* ---------------------------------------------------------------- client.c, wsclient.c */

/* One outgoing connection: the address, the socket, TLS, and the answer being read. */
struct call {
	const char *url;
	char host[256], port[8];
	const char *path;
	int64_t deadline;
	int fd;
	gnutls_certificate_credentials_t cred;
	bool shared_cred; /* cred is kept for later calls (client.c): not freed */
	gnutls_session_t s;
	http_parser p;
	struct buf body;
	bool too_large, done, in_ct;
	char content_type[128];
	struct err *e;
};

/* Splits c->url (https:// or wss://) into host, port and path. */
NODISCARD int http_call_split_url(struct call *c);
/* Connects to c->host:c->port before c->deadline (TCP_NODELAY; the socket non-blocking). */
NODISCARD int http_call_connect(struct call *c);
/* The TLS handshake with `tls`'s trust and certificate, the server's name checked. */
NODISCARD int http_call_tls(struct call *c, const struct http_client_tls *tls);
/* Sends all of data before c->deadline. */
NODISCARD int http_call_send(struct call *c, const char *data, size_t len);
/* Frees what the connection holds (not the struct). */
void http_call_release(struct call *c, bool clean);
/* The WebSocket client (wsclient.c) over a connected socket without TLS, which it takes
 * over: for the fuzzer. */
struct http_wsc *http_wsc_over_fd(int fd);
/* Whether an answer's head (up to its blank line) accepts an upgrade sent with `key`:
 * status 101 (*status gets the status, 0 when there is none) and the right
 * Sec-WebSocket-Accept. */
bool http_wsc_answer_ok(const char *head, const char *key, int *status);
/* Sec-WebSocket-Accept for `key`: base64 of the SHA-1 of the key and the protocol's GUID. */
bool http_ws_accept_key(const char *key, char *out, size_t n);

/* ---------------------------------------------------------------- ws.c */

/* Worker side, after the 101 went out: makes the connection a WebSocket. */
void http_ws_start(struct http_conn *c, struct http_ws *ws);
/* Loop side: the connection is readable, writable, or has been posted. Returns false when
 * it must be closed. */
bool http_ws_io(struct http_conn *c, bool readable, bool writable);
/* Loop side, once a second: pings a quiet peer and gives up on one that does not answer. */
bool http_ws_tick(struct http_conn *c, int64_t now_ms);
/* Loop side: the connection is gone; the socket's on_close runs on a worker. */
void http_ws_detach(struct http_conn *c);
/* An upgrade that never happened (the client left first): releases it. */
void http_ws_abandon(struct http_ws *ws);

#endif
