/* qix_http.c: the engine port: a WebSocket per session on /app/<id>, for clients that show
 * a certificate of the site (as the proxy and other services do). */
#include "qix/qix_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct conn {
	struct qix *q;
	struct qix_session *s;
	struct http_ws *ws;
	char app[256];
	char user[256];
	char identity[128];
	int ttl_s;	    /* the session outlives its socket this long (Qlik's /ttl/<n>) */
	bool governed;	    /* a person's, through a proxy: the security rules apply */
	char *attrs;	    /* the attributes the proxy gave (malloc'd JSON), or NULL */
	char state[65];	    /* the key the person's selections are kept under, or "" */
	char platform[512]; /* the browser's User-Agent (ClientPlatform()), or "" */
};

/* The key a session is parked under: one per user, app and identity. */
static void session_key(const struct conn *c, char *out, size_t n)
{
	snprintf(out, n, "%s%s\n%s\n%s", c->governed ? "person:" : "", c->user, c->app,
		 c->identity);
}

static void send_ws(void *ctx, char *json, size_t len)
{
	struct conn *c = ctx;
	if (http_ws_send_owned(c->ws, json, len) == ERR_TOO_LARGE)
		log_warn("engine: a session does not read its messages; it is closed");
}

static void on_open(void *state, struct http_ws *ws)
{
	struct conn *c = state;
	c->ws = ws;
	char key[800];
	session_key(c, key, sizeof(key));
	c->s = qix_session_resume(c->q, key, send_ws, c);
	if (c->s)
		qix_session_set_platform(c->s, c->platform);
	if (!c->s) {
		c->s = qix_session_new(c->q, c->app, c->user, send_ws, c);
		if (c->s && c->governed)
			qix_session_govern(c->s, c->attrs);
		if (c->s && c->state[0])
			qix_session_keep_state(c->s, c->state);
		if (c->s)
			qix_session_set_platform(c->s, c->platform);
	}
	if (!c->s)
		http_ws_close(ws, 1011, "out of memory");
}

static void on_message(void *state, struct http_ws *ws, const char *data, size_t len)
{
	(void)ws;
	struct conn *c = state;
	if (c->s)
		qix_session_message(c->s, data, len);
}

static void on_close(void *state)
{
	struct conn *c = state;
	char key[800];
	session_key(c, key, sizeof(key));
	if (c->s && c->ttl_s > 0)
		qix_session_park(c->s, key, c->ttl_s);
	else
		qix_session_free(c->s);
	free(c->attrs);
	free(c);
}

/* /app/<id>[/identity/<x>][/ttl/<seconds>]: the id is the first segment; the others may
 * come in either order. Returns false on a malformed TTL. */
static bool parse_app_path(struct conn *c, const char *path)
{
	const char *id = path[4] ? path + 5 : "";
	size_t n = strcspn(id, "/");
	if (n >= sizeof(c->app))
		n = sizeof(c->app) - 1;
	memcpy(c->app, id, n);
	c->app[n] = '\0';
	for (const char *p = id + strcspn(id, "/"); *p == '/';) {
		const char *name = p + 1;
		size_t nl = strcspn(name, "/");
		const char *val = name[nl] == '/' ? name + nl + 1 : name + nl;
		size_t vl = strcspn(val, "/");
		if (nl == 8 && strncmp(name, "identity", 8) == 0) {
			snprintf(c->identity, sizeof(c->identity), "%.*s", (int)vl, val);
		} else if (nl == 3 && strncmp(name, "ttl", 3) == 0) {
			char num[16];
			int64_t v;
			snprintf(num, sizeof(num), "%.*s", (int)vl, val);
			if (str_to_i64(num, 0, 86400, &v) != 0)
				return false;
			c->ttl_s = (int)v;
		}
		p = val + vl;
	}
	return true;
}

/* Whose session it is: a person's when this node's proxy vouched for them, or when another
 * node's proxy relays it (with the site's certificate, which the caller checked) and says
 * so in X-Fathom-Person, with the attributes in X-Fathom-Attributes (percent-encoded JSON).
 * Either gives the key of the person's kept selections. False on a malformed key. */
static bool person(struct conn *c, struct http_req *r)
{
	c->governed = http_req_vouched(r);
	const char *attrs = http_req_vouched_attributes(r);
	const char *state = http_req_session_key(r);
	if (!c->governed && http_req_header(r, "X-Fathom-Person")) {
		c->governed = true;
		const char *enc = http_req_header(r, "X-Fathom-Attributes");
		attrs =
		    enc ? http_percent_decode(http_req_arena(r), enc, strlen(enc), false) : NULL;
		state = http_req_header(r, "X-Fathom-State");
	}
	if (state && (strlen(state) != 64 || strspn(state, "0123456789abcdef") != 64))
		return false;
	str_copy(c->state, state ? state : "", sizeof(c->state));
	c->attrs = attrs ? strdup(attrs) : NULL;
	return true;
}

static const struct http_ws_handler ws_handler = {
    .on_open = on_open, .on_message = on_message, .on_close = on_close, .max_message = 64u << 20};

static void refuse(struct http_req *r, int status, const char *msg)
{
	char body[512];
	int n = snprintf(body, sizeof(body), "{\"message\":\"%s\"}", msg);
	http_respond(r, status, "application/json", body, (size_t)n);
}

static void on_headers(void *ctx, struct http_req *r)
{
	const char *path = http_req_path(r);
	if (strncmp(path, "/app", 4) != 0 || (path[4] != '/' && path[4] != '\0')) {
		refuse(r, 404, "the engine answers QIX on /app/<app id>");
		return;
	}
	http_req_set_route(r, "/app/{id}");
	enum http_cert cert = http_req_client_cert(r);
	if (cert != HTTP_CERT_OK) {
		char msg[160];
		snprintf(msg, sizeof(msg),
			 "the engine port needs a client certificate of the site: %s",
			 http_cert_problem(cert));
		refuse(r, 403, msg);
		return;
	}
	if (!http_req_is_websocket(r)) {
		refuse(r, 400, "the engine speaks QIX JSON-RPC over WebSocket only");
		return;
	}
	struct conn *c = calloc(1, sizeof(*c));
	if (!c) {
		refuse(r, 500, "out of memory");
		return;
	}
	c->q = ctx;
	if (!parse_app_path(c, path)) {
		free(c);
		refuse(r, 400, "the session TTL in /ttl/<seconds> is not a number from 0 to 86400");
		return;
	}
	const char *user = http_req_user(r), *agent = http_req_header(r, "User-Agent");
	str_copy(c->user, user ? user : "", sizeof(c->user));
	str_copy(c->platform, agent ? agent : "", sizeof(c->platform));
	if (!person(c, r)) {
		free(c);
		refuse(r, 400, "X-Fathom-State is not a key of 64 hexadecimal digits");
		return;
	}
	http_req_upgrade_websocket(r, &ws_handler, c);
}

static void on_complete(void *ctx, struct http_req *r)
{
	(void)ctx;
	if (!http_responded(r))
		refuse(r, 400, "the engine speaks QIX JSON-RPC over WebSocket only");
}

static void on_done(void *ctx, struct http_req *r, bool completed)
{
	(void)ctx;
	(void)r;
	(void)completed;
}

struct http_handler qix_http_handler(struct qix *q)
{
	return (struct http_handler){q, on_headers, on_complete, on_done};
}
