/* proxy.c: the proxy's two ports. HTTPS: its own pages (sign-in, sign-out, who am I) and,
 * for signed-in people, the repository and the engine of its node, handed the request
 * in-process with the user vouched for. Plain HTTP: redirects to HTTPS.
 *
 * The repository applies the security rules to every request the proxy vouches for; the
 * engine opens only the apps the rules let the user read. */
#include "proxy/proxy_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char sign_in_css[] =
    "body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}\n"
    "main{max-width:22rem;margin:12vh auto;padding:2rem;background:#fff;border-radius:8px;"
    "box-shadow:0 1px 4px #0002}\n"
    "h1{margin:0 0 1.5rem;font-size:1.5rem}\n"
    "label{display:block;margin:.75rem 0 .25rem;font-weight:600}\n"
    "input{box-sizing:border-box;width:100%;padding:.5rem;border:1px solid #99a;"
    "border-radius:4px;font:inherit}\n"
    "button{margin-top:1.25rem;width:100%;padding:.6rem;border:0;border-radius:4px;"
    "background:#1a5fb4;color:#fff;font:inherit;font-weight:600;cursor:pointer}\n"
    ".error{color:#a51d2d;background:#fbe9eb;padding:.5rem;border-radius:4px}\n";

static void json_answer(struct http_req *r, int status, const char *message)
{
	char body[256];
	int n = snprintf(body, sizeof(body), "{\"message\":\"%s\"}", message);
	http_respond(r, status, "application/json; charset=utf-8", body, (size_t)n);
}

/* Whether the request comes from a page of this site: no Origin (not a browser's
 * cross-site request), or an Origin that is https:// and the Host it was sent to. */
static bool same_origin(struct http_req *r)
{
	const char *origin = http_req_header(r, "Origin");
	const char *host = http_req_header(r, "Host");
	if (!origin)
		return true;
	return host && str_has_prefix(origin, "https://") && str_ieq(origin + 8, host);
}

static void redirect(struct http_req *r, int status, const char *location)
{
	http_add_header(r, "Location", location);
	proxy_page_headers(r);
	http_respond(r, status, "text/plain; charset=utf-8", "", 0);
}

/* A browser that is not signed in goes to the sign-in page, and comes back after. */
static void to_sign_in(struct http_req *r)
{
	const char *path = http_req_path(r);
	struct arena *a = http_req_arena(r);
	const char *loc = "/sign-in";
	if (proxy_local_target(path) && strcmp(path, "/") != 0)
		loc = arena_printf(a, "/sign-in?next=%s", str_url_encode(a, path));
	redirect(r, 302, loc);
}

static void clear_cookie(struct http_req *r)
{
	http_add_header(r, "Set-Cookie",
			PROXY_COOKIE "=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax");
}

static void sign_out(struct proxy *p, struct http_req *r, bool page)
{
	struct err e;
	err_init(&e);
	if (proxy_session_end(p, r, &e) != 0) {
		log_error("proxy: %s: sign-out: %s", http_req_peer(r), e.message);
		json_answer(r, 503, "the session could not be ended; try again");
		return;
	}
	clear_cookie(r);
	if (page)
		redirect(r, 303, "/sign-in");
	else
		http_respond(r, 204, "application/json", "", 0);
}

/* GET /qps/user: who the session belongs to. */
static void who_am_i(struct http_req *r, const struct session_user *u)
{
	char iso[ISO_TIME_LEN + 1];
	time_format_iso(u->expires, iso);
	json_t *o =
	    json_pack("{s:s, s:s, s:b, s:s, s:s}", "userDirectory", u->dir, "userId", u->id,
		      "rootAdmin", u->root_admin, "sessionExpires", iso, "logoutUri", "/sign-out");
	size_t n = 0;
	char *s = o ? json_encode(o, &n) : NULL;
	json_decref(o);
	if (!s) {
		json_answer(r, 500, "out of memory");
		return;
	}
	http_add_header(r, "Cache-Control", "no-store");
	http_respond_owned(r, 200, "application/json; charset=utf-8", s, n);
}

/* The page a signed-in person lands on, until the hub is served here. */
static void landing(struct http_req *r, const struct session_user *u)
{
	struct arena *a = http_req_arena(r);
	char *who = arena_printf(a, "%s\\%s", u->dir, u->id);
	struct buf b;
	buf_init(&b, 1 << 14);
	int bad =
	    buf_puts(&b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
			 "<title>Fathom</title><link rel=\"stylesheet\" href=\"/sign-in.css\">"
			 "</head>\n<body><main><h1>Fathom</h1><p>Signed in as <b>");
	proxy_html_put(&b, who);
	bad |= buf_puts(&b, "</b>.</p><form method=\"post\" action=\"/sign-out\"><button "
			    "type=\"submit\">Sign out</button></form></main></body></html>\n");
	proxy_respond_page(r, 200, &b, bad);
}

/* /qrs/... and /app/...: handed to the service with the user vouched for. */
static void forward(struct http_req *r, const struct session_user *u, const struct http_handler *to)
{
	char user[600];
	proxy_user_header(u, user, sizeof(user));
	http_req_vouch(r, user);
	http_req_hand_over(r, to);
}

static bool is_under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);
	return strncmp(path, prefix, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

static void on_headers(void *ctx, struct http_req *r)
{
	struct proxy *p = ctx;
	const char *method = http_req_method(r);
	const char *path = http_req_path(r);
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	bool post = strcmp(method, "POST") == 0;
	if (get && strcmp(path, "/sign-in.css") == 0) {
		http_add_header(r, "Cache-Control", "max-age=3600");
		http_respond(r, 200, "text/css; charset=utf-8", sign_in_css,
			     sizeof(sign_in_css) - 1);
		return;
	}
	if ((post || strcmp(method, "DELETE") == 0) && !same_origin(r)) {
		log_warn("proxy: %s: %s %s from another site (Origin %s) refused", http_req_peer(r),
			 method, path, http_req_header(r, "Origin"));
		json_answer(r, 403, "a request from another site is refused");
		return;
	}
	if (strcmp(path, "/sign-in") == 0) {
		if (get)
			proxy_signin_page(p, r, NULL, 200);
		else if (!post)
			json_answer(r, 405, "sign in with GET or POST");
		return; /* POST: on_complete, once the form is in */
	}
	if (strcmp(path, "/sign-out") == 0 && post) {
		sign_out(p, r, true);
		return;
	}
	const char *ticket = http_req_query(r, "qlikTicket");
	if (ticket && get) {
		proxy_redeem_ticket(p, r, ticket);
		return;
	}
	struct session_user u;
	bool found = false;
	struct err e;
	err_init(&e);
	if (proxy_session_find(p, r, &u, &found, &e) != 0) {
		log_error("proxy: %s: cannot look up a session: %s", http_req_peer(r), e.message);
		json_answer(r, 503, "the repository database is not answering; try again");
		return;
	}
	bool api = is_under(path, "/qrs") || is_under(path, "/app") || is_under(path, "/qps");
	if (!found) {
		if (api)
			json_answer(r, 401, "sign in first (the session is missing or has ended)");
		else if (get)
			to_sign_in(r);
		else
			json_answer(r, 401, "sign in first");
		return;
	}
	if (is_under(path, "/qrs")) {
		forward(r, &u, &p->cfg.repo);
	} else if (is_under(path, "/app")) {
		if (!p->cfg.engine.on_headers)
			json_answer(r, 503, "this node runs no engine");
		else if (http_req_is_websocket(r) && !same_origin(r))
			json_answer(r, 403, "a WebSocket from another site is refused");
		else
			forward(r, &u, &p->cfg.engine);
	} else if (strcmp(path, "/qps/user") == 0 && get) {
		who_am_i(r, &u);
	} else if (strcmp(path, "/qps/user") == 0 && strcmp(method, "DELETE") == 0) {
		sign_out(p, r, false);
	} else if (strcmp(path, "/") == 0 && get) {
		landing(r, &u);
	} else {
		json_answer(r, 404, "there is nothing here");
	}
}

static void on_complete(void *ctx, struct http_req *r)
{
	struct proxy *p = ctx;
	if (http_responded(r))
		return;
	if (http_req_body_error(r)) {
		json_answer(r, 413, "the form is too large");
		return;
	}
	proxy_signin_post(p, r);
}

static void on_done(void *ctx, struct http_req *r, bool completed)
{
	(void)ctx;
	(void)r;
	(void)completed;
}

/* ---------------------------------------------------------------- the plain port */

/* The host part of a Host header, when it is a plain name or IPv4 address. */
static bool plain_host(const char *host, char *out, size_t n)
{
	size_t len = strcspn(host, ":");
	if (len == 0 || len >= n)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = host[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.'))
			return false;
	}
	memcpy(out, host, len);
	out[len] = '\0';
	return true;
}

static void redirect_on_headers(void *ctx, struct http_req *r)
{
	struct proxy *p = ctx;
	char host[256];
	const char *h = http_req_header(r, "Host");
	if (!h || !plain_host(h, host, sizeof(host)))
		str_copy(host, p->cfg.hostname ? p->cfg.hostname : "localhost", sizeof(host));
	const char *path = http_req_path(r);
	struct arena *a = http_req_arena(r);
	const char *rest = proxy_local_target(path) ? path : "/";
	char *loc = p->cfg.https_port == 443
			? arena_printf(a, "https://%s%s", host, rest)
			: arena_printf(a, "https://%s:%d%s", host, p->cfg.https_port, rest);
	http_add_header(r, "Location", loc);
	http_respond(r, 308, "text/plain; charset=utf-8", "use HTTPS\n", 10);
}

static void redirect_on_complete(void *ctx, struct http_req *r)
{
	(void)ctx;
	if (!http_responded(r))
		http_respond(r, 308, "text/plain; charset=utf-8", "use HTTPS\n", 10);
}

/* ---------------------------------------------------------------- life */

int proxy_open(const struct proxy_config *cfg, struct proxy **out, struct err *e)
{
	struct proxy *p = calloc(1, sizeof(*p));
	if (!p)
		return err_set(e, ERR_NOMEM, "out of memory");
	p->cfg = *cfg;
	p->idle_ms = (cfg->idle_timeout_s ? cfg->idle_timeout_s : 1800) * 1000;
	p->max_age_ms = (cfg->max_age_s ? cfg->max_age_s : 43200) * 1000;
	pthread_mutex_init(&p->hash_mu, NULL);
	pthread_cond_init(&p->hash_cv, NULL);
	pthread_mutex_init(&p->addr_mu, NULL);
	*out = p;
	return 0;
}

void proxy_close(struct proxy *p)
{
	if (!p)
		return;
	pthread_mutex_destroy(&p->hash_mu);
	pthread_cond_destroy(&p->hash_cv);
	pthread_mutex_destroy(&p->addr_mu);
	free(p);
}

struct http_handler proxy_http_handler(struct proxy *p)
{
	return (struct http_handler){p, on_headers, on_complete, on_done};
}

struct http_handler proxy_redirect_handler(struct proxy *p)
{
	return (struct http_handler){p, redirect_on_headers, redirect_on_complete, on_done};
}
