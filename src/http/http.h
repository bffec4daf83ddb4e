/* http.h: the HTTP/1.1 server (an event loop per core over GnuTLS, heads parsed by
 * http-parser, WebSocket frames by wslay) and the request object that handlers see. The only
 * module that touches the HTTP and TLS libraries.
 *
 * Threads: event loops (one per core) hold every connection while it waits: for a TLS
 * handshake, a request head, or WebSocket traffic. A complete request head goes to a worker
 * thread, which runs the handler's callbacks, reads the body and writes the response; handler
 * callbacks may block on the database or the disk. A struct http_req belongs to that worker
 * until on_done returns. Idle keep-alive connections and WebSockets hold no thread.
 *
 * A request sees: on_headers (headers and query known; the handler may respond at once, or
 * ask for the body streamed to a sink instead of buffered), then on_complete (the body is
 * in; the handler must respond unless it already did), then always on_done, once, which
 * says whether the response was fully sent. */
#ifndef FATHOM_HTTP_H
#define FATHOM_HTTP_H

#include "core/core.h"

struct http_req;
struct http_server;

struct http_handler {
	void *ctx;
	void (*on_headers)(void *ctx, struct http_req *r);
	void (*on_complete)(void *ctx, struct http_req *r);
	/* `completed` is false when the client went away or the request was cut off. */
	void (*on_done)(void *ctx, struct http_req *r, bool completed);
};

struct http_server_config {
	const char *name;      /* for the log: "repository", "engine" */
	int listen_fd;	       /* from http_listen; the server takes ownership */
	const char *cert_pem;  /* server certificate chain (PEM text) */
	const char *key_pem;   /* server private key (PEM text) */
	const char *trust_pem; /* CA that client certificates must chain to; NULL: none asked */
	size_t max_body;       /* largest buffered body; a larger declared one gets 413 at once */
	const char *tls_priority;     /* GnuTLS priority string; NULL: http_tls_default_priority */
	unsigned max_conns;	      /* in total; 0: the descriptor limit less 256 */
	unsigned max_conns_per_addr;  /* from one client address; 0: 1024 */
	unsigned handshake_timeout_s; /* TLS handshake and first request head; 0: 10 */
	unsigned idle_timeout_s;      /* idle keep-alive connection; 0: 60 */
	unsigned io_timeout_s;	      /* a body or response that makes no progress; 0: 60 */
	unsigned ws_ping_s;	      /* a quiet WebSocket is pinged, then dropped; 0: 30 */
	unsigned loops;		      /* event loops; 0: one per core */
	unsigned max_workers;	      /* threads serving requests at once; 0: 256 */
};

/* Fills the limits of `cfg` from node.conf: [http] max_connections,
 * max_connections_per_address, handshake_timeout_s, idle_timeout_s, io_timeout_s,
 * ws_ping_interval_s, and [tls] priority (checked). Returns 0 or ERR_CONFIG. */
NODISCARD int http_config_read(const struct conf *c, struct http_server_config *cfg, struct err *e);
/* TLS 1.2 and 1.3, AEAD suites only, ECDHE key exchange. */
const char *http_tls_default_priority(void);
/* ERR_CONFIG when GnuTLS does not accept `prio`, naming where. */
NODISCARD int http_tls_check_priority(const char *prio, struct err *e);
/* Raises this process's soft descriptor limit to the hard one; returns the new limit. */
long http_raise_fd_limit(void);

/* Binds and listens on addr:port (addr NULL = all interfaces). Returns 0 with *out_fd, or
 * ERR_IO with a message naming the port ("port 4242 is already in use"). */
NODISCARD int http_listen(const char *addr, int port, int *out_fd, struct err *e);
/* Starts serving. Caller owns *out; stop with http_server_stop. The handler's ctx must
 * outlive the server. */
NODISCARD int http_server_start(const struct http_server_config *cfg, const struct http_handler *h,
				struct http_server **out, struct err *e);
/* Stops accepting, waits for connection threads to finish, frees the server. */
void http_server_stop(struct http_server *s);
/* New TLS connections present this certificate and key (PEM) from now on; connections
 * open keep theirs. Nothing changes when they are not usable (the error says why). A
 * plain server has nothing to reload: 0. */
/* Client certificates this server refuses from now on although the site's CA signed them
 * (a removed node's), by their SHA-256 in hex; replaces the last list. Connections open
 * are refused at their next request. */
NODISCARD int http_server_set_revoked(struct http_server *s, const char *const *hex, size_t n,
				      struct err *e);
NODISCARD int http_server_reload_cert(struct http_server *s, const char *cert_pem,
				      const char *key_pem, struct err *e);

/* ---- the request; every string is borrowed and valid until on_done returns ---- */

const char *http_req_method(const struct http_req *r);
const char *http_req_path(const struct http_req *r); /* percent-decoded, without query */
const char *http_req_header(const struct http_req *r, const char *name); /* any case */
/* A query parameter by name, compared case-insensitively; NULL when absent, "" when bare. */
const char *http_req_query(const struct http_req *r, const char *name);
int http_req_query_count(const struct http_req *r);
/* The i-th query parameter (0-based); NULL past the end. */
const char *http_req_query_at(const struct http_req *r, int i, const char **out_value);
/* Declared body length from Content-Length, or -1 when not given (chunked). */
int64_t http_req_content_length(const struct http_req *r);
/* The buffered body (NUL-terminated) once on_complete runs; "" for none. */
const char *http_req_body(const struct http_req *r, size_t *out_len);
/* Set when the body could not be buffered or streamed: ERR_TOO_LARGE or the sink's code. */
int http_req_body_error(const struct http_req *r);
/* An arena that lives as long as the request. */
struct arena *http_req_arena(struct http_req *r);
/* A slot for the handler's per-request state. */
void http_req_set_data(struct http_req *r, void *data);
void *http_req_data(const struct http_req *r);

enum http_cert {
	HTTP_CERT_NONE,		 /* the client sent no certificate */
	HTTP_CERT_FOREIGN,	 /* it does not chain to the trusted CA */
	HTTP_CERT_EXPIRED,	 /* from the CA, but past its end date */
	HTTP_CERT_NOT_YET_VALID, /* from the CA, but before its start date */
	HTTP_CERT_REVOKED,	 /* from the CA, and revoked */
	HTTP_CERT_OK,
};
/* What is wrong with a certificate, for an error message ("the client certificate has
 * expired"). */
const char *http_cert_problem(enum http_cert c);
/* Checks the client's certificate against the server's trusted CA. In-process requests
 * report what http_req_new_local was given. */
enum http_cert http_req_client_cert(struct http_req *r);

/* The client's IPv4 address as text ("127.0.0.1"); "local" for in-process requests. */
const char *http_req_peer(const struct http_req *r);

/* ---- a front door in the same process (the proxy) ----
 *
 * From on_headers, a handler may hand the request over to another handler: the other's
 * on_headers runs at once, and its on_complete and on_done run instead of the first's. The
 * other handler (and its ctx) must outlive the request; its data slot is its own. */
void http_req_hand_over(struct http_req *r, const struct http_handler *to);
/* The front door has authenticated the request as `user` ("UserDirectory=D; UserId=U"),
 * with `attributes` (may be NULL; see below):
 * from now on http_req_user answers `user` whatever the headers say, and
 * http_req_client_cert answers HTTP_CERT_OK, as for a service that presents the site's
 * client certificate. Call before http_req_hand_over. */
void http_req_vouch(struct http_req *r, const char *user, const char *attributes);
/* The attributes the front door gave with the user (JSON: a list of {"name": "value"}, as
 * Qlik's tickets carry them), or NULL. */
const char *http_req_vouched_attributes(const struct http_req *r);
/* A key the front door gives for the person's session (the engine keeps the session's
 * selections under it), or NULL. */
void http_req_set_session_key(struct http_req *r, const char *key);
const char *http_req_session_key(const struct http_req *r);
/* Whether a front door vouched for the request: it comes from a person, not a service. */
bool http_req_vouched(const struct http_req *r);
/* The route the request took, as /metrics counts it ("/qrs/{type}/{id}"): a string that
 * lives as long as the process (a route table's pattern). Unset: "other". */
void http_req_set_route(struct http_req *r, const char *route);
/* Who a request acts for ("DIR\\user"), once its handler has admitted it (copied). Such a
 * request that may change something (any method but GET, HEAD and OPTIONS), or that is
 * refused with 403, becomes an audit line of the log when answered:
 * "audit: METHOD PATH STATUS by WHO" (controls and '%' escaped as %XX, and the path's
 * spaces). */
void http_req_set_actor(struct http_req *r, const char *who);
/* The user a request acts as: the vouched one, else the X-Qlik-User header (which a
 * handler must trust only with a client certificate of the site); NULL when neither. */
const char *http_req_user(const struct http_req *r);
/* Replaces the path the handlers see (a front door strips its prefix). */
void http_req_set_path(struct http_req *r, const char *path);

/* Percent-decodes s[0..n) into `a` ('+' is a space where `plus`, as in form bodies). NULL
 * on a malformed escape or an encoded NUL. */
char *http_percent_decode(struct arena *a, const char *s, size_t n, bool plus);
/* Whether the request passes Qlik's cross-site check: the same 16 letters and digits in
 * the query's xrfkey and the X-Qlik-Xrfkey header. */
bool http_req_xrf_ok(const struct http_req *r);

/* Receives the body in pieces instead of buffering it. Call from on_headers. The sink
 * returns 0 to go on or an error code, after which the rest of the body is discarded and
 * http_req_body_error returns that code. */
typedef int (*http_body_sink)(void *sink_ctx, const char *data, size_t len);
void http_req_stream_body(struct http_req *r, http_body_sink sink, void *sink_ctx);

/* ---- responses: exactly one per request; later calls are ignored ---- */

void http_add_header(struct http_req *r, const char *name, const char *value);
/* Copies `body`. */
void http_respond(struct http_req *r, int status, const char *content_type, const char *body,
		  size_t len);
/* The same with a malloc'd, NUL-terminated `body` that the request takes over (freed in
 * every case): a large JSON answer is sent without a copy. */
void http_respond_owned(struct http_req *r, int status, const char *content_type, char *body,
			size_t len);
/* Takes ownership of `fd`, even on failure; sends `size` bytes from offset 0. */
void http_respond_fd(struct http_req *r, int status, const char *content_type, int fd,
		     uint64_t size);
bool http_responded(const struct http_req *r);

/* ---- WebSocket (RFC 6455; frames by wslay) ----
 *
 * A handler that wants a WebSocket calls http_req_upgrade_websocket from on_headers. Once
 * the 101 answer went out, the socket is served by an event loop; its callbacks run on
 * workers: on_open, then on_message for each message in order, then on_close once (the
 * socket is gone after it returns). Callbacks of one socket never overlap. A peer that
 * goes away (EOF, reset) is noticed at once; a silent one is pinged after ws_ping_s and
 * dropped if it does not answer within as long again. http_ws_send may be called from any
 * thread until on_close returns. Stopping the server closes every socket first. */

struct http_ws;

struct http_ws_handler {
	void (*on_open)(void *state, struct http_ws *ws);
	void (*on_message)(void *state, struct http_ws *ws, const char *data, size_t len);
	/* Always called once, also when the upgrade never happened (without on_open). */
	void (*on_close)(void *state);
	size_t max_message; /* larger incoming messages close the socket (1009); 0: 16 MiB */
};

/* Whether the request is a WebSocket handshake: GET with Upgrade: websocket, a key and
 * version 13. */
bool http_req_is_websocket(const struct http_req *r);
/* Answers the handshake with 101 and hands the socket to `h` with `state`. The request
 * must satisfy http_req_is_websocket. `h` must outlive the socket. */
void http_req_upgrade_websocket(struct http_req *r, const struct http_ws_handler *h, void *state);
/* Queues a text message (copied); any thread. ERR_UNAVAILABLE once the socket closes,
 * ERR_TOO_LARGE when the peer has not read 64 MiB of earlier messages (the socket is then
 * closed). */
NODISCARD int http_ws_send(struct http_ws *ws, const char *text, size_t len);
/* The same with a malloc'd `text` that the socket takes over (freed in every case): a large
 * answer is sent without a copy. */
NODISCARD int http_ws_send_owned(struct http_ws *ws, char *text, size_t len);
/* Starts a close with `code` (1000 normal, 1008 policy, 1011 server error); any thread. */
void http_ws_close(struct http_ws *ws, int code, const char *reason);

/* ---- the client (node to node): HTTPS with the site's certificates ---- */

/* What the server's certificate must chain to: the CA in PEM file `ca_file`, else the PEM
 * text `ca_pem`, else the system's trusted CAs (for a server outside the site, such as an
 * identity provider). This side's client certificate and key (PEM files) when `cert_file`
 * is set. The server's name is checked against its certificate. */
struct http_client_tls {
	const char *ca_file;
	const char *cert_file;
	const char *key_file;
	const char *priority; /* GnuTLS priority string; NULL: http_tls_default_priority */
	const char *ca_pem;
};

struct http_response {
	int status;
	char *body; /* NUL-terminated; caller frees with http_response_release */
	size_t len;
	char content_type[128];
};

/* One request. `headers` is a NULL-terminated list of "Name: value" (may be NULL). The
 * answer is read up to `max_body` bytes. Returns 0 with *out filled whatever the HTTP
 * status, or ERR_UNAVAILABLE (cannot connect, TLS refused, timeout) with the reason. */
NODISCARD int http_call(const struct http_client_tls *tls, const char *method, const char *url,
			const char *const *headers, const char *body, size_t body_len,
			int timeout_ms, size_t max_body, struct http_response *out, struct err *e);
void http_response_release(struct http_response *r);

/* ---- a WebSocket client (a proxy relaying to another node's engine) ----
 *
 * Blocking: one thread reads (http_wsc_recv) while others send (http_wsc_send, serialised
 * inside); http_wsc_shutdown from any thread makes a blocked read return. */

struct http_wsc;

/* Opens wss://host:port/path with `tls` (mutual TLS inside the site), `headers` a
 * NULL-terminated list of "Name: value" (may be NULL); connect, handshake and the 101 answer
 * within timeout_ms. ERR_UNAVAILABLE (cannot connect, refused, another answer than 101:
 * *out_status has it when there was one) with the reason. */
NODISCARD int http_wsc_open(const struct http_client_tls *tls, const char *url,
			    const char *const *headers, int timeout_ms, struct http_wsc **out,
			    int *out_status, struct err *e);
/* Sends one text message. ERR_UNAVAILABLE once the connection is gone or a send makes no
 * progress for 30 s. */
NODISCARD int http_wsc_send(struct http_wsc *w, const char *text, size_t len);
/* Waits for the next whole message (text or binary), answering pings; *out is malloc'd
 * (NUL-terminated) and the caller's. ERR_UNAVAILABLE when the connection ended: *out_code
 * is the peer's close code, or 1006 when it went away without one. ERR_TOO_LARGE past
 * `max` bytes. */
NODISCARD int http_wsc_recv(struct http_wsc *w, size_t max, char **out, size_t *out_len,
			    int *out_code);
/* Ends the connection now: a blocked http_wsc_recv returns, later sends fail. */
void http_wsc_shutdown(struct http_wsc *w);
void http_wsc_free(struct http_wsc *w);

/* ---- in-process requests (unit tests, fuzzing, the CLI's local calls) ---- */

/* Builds a request without a network. `query` is the raw query string (may be NULL);
 * `headers` is "Name: value\n" lines (may be NULL). The body is handed to the handler as if
 * it came in `chunk` bytes at a time (0 = all at once). Runs the handler's three callbacks,
 * then returns. Caller owns *out_body (free()). Returns the response status (0 when the
 * handler never responded). */
int http_run_local(const struct http_handler *h, const char *method, const char *path,
		   const char *query, const char *headers, const char *body, size_t body_len,
		   size_t chunk, enum http_cert cert, size_t max_body, char **out_body,
		   size_t *out_len);

#endif
