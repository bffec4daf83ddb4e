/* proxy.c: the proxy's two ports. HTTPS: its own pages (sign-in, sign-out, who am I) and,
 * for signed-in people, the repository and the engine of its node, handed the request
 * in-process with the user vouched for. Plain HTTP: redirects to HTTPS.
 *
 * The repository applies the security rules to every request the proxy vouches for; the
 * engine opens only the apps the rules let the user read. */
#include "proxy/proxy_int.h"
#include "crypto/crypto.h"

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

void proxy_json_answer(struct http_req *r, int status, const char *message)
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

/* A WebSocket's Origin: this site's, or one the virtual proxy lists (a host name, or a
 * whole origin). */
static bool origin_allowed(struct http_req *r, const struct vproxy *vp)
{
	const char *origin = http_req_header(r, "Origin");
	if (same_origin(r))
		return true;
	const char *host = strstr(origin, "://");
	return proxy_list_has(vp->origins, origin) ||
	       (host && proxy_list_has(vp->origins, host + 3));
}

static void redirect(struct http_req *r, int status, const char *location)
{
	http_add_header(r, "Location", location);
	proxy_page_headers(r);
	http_respond(r, status, "text/plain; charset=utf-8", "", 0);
}

/* A browser that is not signed in goes to the sign-in page, and comes back after; at a
 * ticket proxy, to its authentication module. */
static void to_sign_in(struct proxy *p, struct http_req *r, const struct preq *pr)
{
	struct arena *a = http_req_arena(r);
	const char *back = arena_printf(a, "%s%s", pr->base, http_req_path(r));
	if (pr->vp.method == VP_OIDC) {
		proxy_oidc_start(p, r, pr, back);
		return;
	}
	if (pr->vp.method == VP_HEADER_STATIC || pr->vp.method == VP_HEADER_DYNAMIC) {
		proxy_json_answer(r, 401,
				  "this virtual proxy signs people in by a header of the portal");
		return;
	}
	if (pr->vp.method == VP_JWT) {
		http_add_header(r, "WWW-Authenticate", "Bearer");
		proxy_json_answer(r, 401, "this virtual proxy signs people in with a bearer token");
		return;
	}
	if (pr->vp.method == VP_TICKET) {
		if (!pr->vp.redirect_uri[0]) {
			proxy_json_answer(r, 401,
					  "sign in through the portal of this virtual proxy");
			return;
		}
		redirect(r, 302,
			 arena_printf(a, "%s%stargetId=%s", pr->vp.redirect_uri,
				      strchr(pr->vp.redirect_uri, '?') ? "&" : "?",
				      str_url_encode(a, back)));
		return;
	}
	const char *loc = arena_printf(a, "%s/sign-in", pr->base);
	if (proxy_local_target(back) && strcmp(http_req_path(r), "/") != 0)
		loc = arena_printf(a, "%s/sign-in?next=%s", pr->base, str_url_encode(a, back));
	redirect(r, 302, loc);
}

static void clear_cookie(struct http_req *r, const struct vproxy *vp)
{
	http_add_header(r, "Set-Cookie",
			arena_printf(http_req_arena(r),
				     "%s=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax",
				     vp->cookie));
}

static void sign_out(struct proxy *p, struct http_req *r, const struct preq *pr, bool page)
{
	struct err e;
	err_init(&e);
	if (proxy_session_end(p, r, &pr->vp, &e) != 0) {
		log_error("proxy: %s: sign-out: %s", http_req_peer(r), e.message);
		proxy_json_answer(r, 503, "the session could not be ended; try again");
		return;
	}
	clear_cookie(r, &pr->vp);
	if (page)
		redirect(r, 303, arena_printf(http_req_arena(r), "%s/sign-in", pr->base));
	else
		http_respond(r, 204, "application/json", "", 0);
}

/* GET /qps/user: who the session belongs to. */
static void who_am_i(struct http_req *r, const struct preq *pr, const struct session_user *u)
{
	char iso[ISO_TIME_LEN + 1];
	time_format_iso(u->expires, iso);
	json_t *o = json_pack("{s:s, s:s, s:b, s:s, s:s, s:s}", "userDirectory", u->dir, "userId",
			      u->id, "rootAdmin", u->root_admin, "sessionExpires", iso,
			      "virtualProxy", pr->vp.prefix, "logoutUri",
			      arena_printf(http_req_arena(r), "%s/sign-out", pr->base));
	size_t n = 0;
	char *s = o ? json_encode(o, &n) : NULL;
	json_decref(o);
	if (!s) {
		proxy_json_answer(r, 500, "out of memory");
		return;
	}
	http_add_header(r, "Cache-Control", "no-store");
	http_respond_owned(r, 200, "application/json; charset=utf-8", s, n);
}

/* The page a signed-in person lands on, until the hub is served here. */
static void landing(struct http_req *r, const struct preq *pr, const struct session_user *u)
{
	struct arena *a = http_req_arena(r);
	char *who = arena_printf(a, "%s\\%s", u->dir, u->id);
	struct buf b;
	buf_init(&b, 1 << 14);
	int bad =
	    buf_printf(&b,
		       "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		       "<title>Fathom</title><link rel=\"stylesheet\" href=\"%s/sign-in.css\">"
		       "</head>\n<body><main><h1>Fathom</h1><p>Signed in as <b>",
		       pr->base);
	proxy_html_put(&b, who);
	bad |= buf_printf(&b,
			  "</b>.</p><form method=\"post\" action=\"%s/sign-out\"><button "
			  "type=\"submit\">Sign out</button></form></main></body></html>\n",
			  pr->base);
	proxy_respond_page(r, 200, &b, bad);
}

/* /qrs/... and /app/...: handed to the service with the user vouched for. */
void proxy_forward(struct http_req *r, const struct session_user *u, const struct http_handler *to)
{
	char user[600];
	if (!proxy_user_header(u, user, sizeof(user))) {
		proxy_json_answer(r, 403, "this user's name cannot be used through the proxy");
		return;
	}
	http_req_vouch(r, user, u->attrs);
	if (u->state[0])
		http_req_set_session_key(r, u->state);
	http_req_hand_over(r, to);
}

bool proxy_path_under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);
	return strncmp(path, prefix, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* Signs the request in as DIR\ID for a method that proves the user at every request (a
 * header, a token): the session the cookie names is kept when it is that user's, else the
 * user is added to the repository if new and a session is made. 1, or -1 when it answered
 * (the database failed). */
static int sign_in_as(struct proxy *p, struct http_req *r, const struct preq *pr,
		      struct session_user *u, bool found, const char *dir, const char *id,
		      const char *how)
{
	if (found && str_ieq(u->dir, dir) && str_ieq(u->id, id))
		return 1;
	const char *addr = http_req_peer(r);
	if (!proxy_user_part_ok(dir) || !proxy_user_part_ok(id)) {
		log_warn("proxy: %s: sign-in %s refused: the user's name cannot be used", addr,
			 how);
		proxy_json_answer(r, 400, "the user's directory or id holds characters it may not");
		return -1;
	}
	struct err e;
	err_init(&e);
	char ref[UUID_STR_LEN + 1], sid[SESSION_ID_LEN + 1];
	int rc = repo_user_ensure(p->cfg.repository, dir, id, ref, &e);
	if (rc == 0)
		rc = proxy_session_create(p, pr->vp.prefix, ref, addr, NULL, sid, &e);
	if (rc) {
		log_error("proxy: %s: sign-in %s: %s", addr, how, e.message);
		proxy_json_answer(r, 503, "the repository database is not answering; try again");
		return -1;
	}
	proxy_set_cookie(r, &pr->vp, sid);
	char hash[65];
	crypto_sha256_hex(sid, strlen(sid), hash);
	explicit_bzero(sid, sizeof(sid));
	*u = (struct session_user){0};
	proxy_state_key(hash, u->state);
	str_copy(u->ref, ref, sizeof(u->ref));
	str_copy(u->dir, dir, sizeof(u->dir));
	str_copy(u->id, id, sizeof(u->id));
	u->expires = time_now_ms() + p->max_age_ms;
	log_info("proxy: %s: %s\\%s signed in %s", addr, dir, id, how);
	return 1;
}

/* Header authentication: the user a trusted front end names in the virtual proxy's header
 * (static directory: the header is the user id; dynamic: "DIRECTORY\ID"). Returns 1 when
 * the request is signed in by it (a session is made or kept), 0 when there is no such
 * header, -1 when it answered (refused, or the database failed). */
static int by_header(struct proxy *p, struct http_req *r, const struct preq *pr,
		     struct session_user *u, bool found)
{
	const struct vproxy *vp = &pr->vp;
	const char *v = vp->header[0] ? http_req_header(r, vp->header) : NULL;
	if (!v)
		return 0;
	const char *addr = http_req_peer(r);
	if (!proxy_list_has(vp->trusted, addr)) {
		log_warn("proxy: %s: header %s from an address the virtual proxy does not trust",
			 addr, vp->header);
		proxy_json_answer(r, 403,
				  "header authentication is not accepted from this address");
		return -1;
	}
	char dir[129], id[129];
	const char *bs = strchr(v, '\\');
	if (vp->method == VP_HEADER_STATIC) {
		str_copy(dir, vp->static_dir[0] ? vp->static_dir : "INTERNAL", sizeof(dir));
		str_copy(id, v, sizeof(id));
	} else if (bs && bs != v && (size_t)(bs - v) < sizeof(dir)) {
		memcpy(dir, v, (size_t)(bs - v));
		dir[bs - v] = '\0';
		str_copy(id, bs + 1, sizeof(id));
	} else {
		dir[0] = '\0';
	}
	if (!dir[0] || !id[0] || strlen(v) > 128 || strchr(id, '\\') || str_has_ctl(v, false)) {
		proxy_json_answer(r, 400, "the authentication header does not name a user");
		return -1;
	}
	return sign_in_as(p, r, pr, u, found, dir, id, "by header");
}

/* JWT: the user a bearer token names (Authorization: Bearer ...). The same answers as
 * by_header; a bad token is 401, with the reason logged but not the token. */
static int by_bearer(struct proxy *p, struct http_req *r, const struct preq *pr,
		     struct session_user *u, bool found)
{
	const char *auth = http_req_header(r, "Authorization");
	if (!auth || !str_ieqn(auth, "Bearer ", 7))
		return 0;
	char dir[129], id[129];
	struct err e;
	err_init(&e);
	if (proxy_jwt_check(auth + 7, &pr->vp, time_now_ms() / 1000, dir, id, &e) != 0) {
		log_warn("proxy: %s: a token was refused: %s", http_req_peer(r), e.message);
		http_add_header(r, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
		proxy_json_answer(r, 401, "the token is not accepted");
		return -1;
	}
	return sign_in_as(p, r, pr, u, found, dir, id, "with a token");
}

/* The request's virtual proxy, with its prefix taken off the path the services see. */
static struct preq *begin(struct proxy *p, struct http_req *r)
{
	struct preq *pr = arena_alloc(http_req_arena(r), sizeof(*pr));
	struct err e;
	err_init(&e);
	int rc = proxy_vproxy_pick(p, http_req_path(r), &pr->vp, false, &e);
	if (rc) {
		if (rc == ERR_NOT_FOUND)
			proxy_json_answer(r, 404, "there is no virtual proxy for this path");
		else
			proxy_json_answer(r, 503,
					  "the repository database is not answering; try again");
		return NULL;
	}
	http_req_set_data(r, pr);
	size_t n = strlen(pr->vp.prefix);
	if (n) {
		snprintf(pr->base, sizeof(pr->base), "/%s", pr->vp.prefix);
		const char *rest = http_req_path(r) + n + 1;
		http_req_set_path(r, *rest ? rest : "/");
	}
	http_req_set_route(r, proxy_route_label(http_req_path(r)));
	proxy_vproxy_headers(r, &pr->vp);
	return pr;
}

static bool method_known(int m)
{
	return m == VP_FORM || m == VP_TICKET || m == VP_HEADER_STATIC || m == VP_HEADER_DYNAMIC ||
	       m == VP_JWT || m == VP_OIDC;
}

/* GET /health, for load balancers, on both ports and without signing in: 200 when this
 * node can use the repository database and the share, else 503 saying which it cannot. */
static bool health(struct proxy *p, struct http_req *r)
{
	const char *m = http_req_method(r);
	if (strcmp(http_req_path(r), "/health") != 0 || (strcmp(m, "GET") && strcmp(m, "HEAD")))
		return false;
	http_req_set_route(r, "/health");
	struct err e;
	err_init(&e);
	int rc = p->cfg.repository ? repo_health(p->cfg.repository, &e)
				   : err_set(&e, ERR_UNAVAILABLE, "no repository on this node");
	json_t *o = rc ? json_pack("{s:s,s:s}", "status", "unavailable", "reason", e.message)
		       : json_pack("{s:s}", "status", "ok");
	char *body = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	http_add_header(r, "Cache-Control", "no-store");
	http_respond(r, rc ? 503 : 200, "application/json; charset=utf-8", body ? body : "{}",
		     body ? strlen(body) : 2);
	free(body);
	/* a load balancer asks every few seconds: say it once a minute */
	static int64_t logged;
	int64_t now = time_now_ms(), last = __atomic_load_n(&logged, __ATOMIC_RELAXED);
	if (rc && now - last >= 60000 &&
	    __atomic_compare_exchange_n(&logged, &last, now, false, __ATOMIC_RELAXED,
					__ATOMIC_RELAXED))
		log_warn("proxy: health check from %s: %s", http_req_peer(r), e.message);
	return true;
}

const char *proxy_route_label(const char *path)
{
	static const char *const known[] = {
	    "/health",	      "/sign-in",    "/sign-in.css", "/sign-out",
	    "/oidc/callback", "/qrs",	     "/tempcontent", "/app",
	    "/qps/user",      "/qps/ticket", "/qps/session", "/qps",
	    "/hub",	      "/qmc",	     "/sense",	     "/datamodelviewer",
	    "/dataloadeditor"};
	if (strcmp(path, "/") == 0)
		return "/";
	for (size_t i = 0; i < ARRAY_LEN(known); i++)
		if (proxy_path_under(path, known[i]))
			return known[i];
	return NULL;
}

static void on_headers(void *ctx, struct http_req *r)
{
	struct proxy *p = ctx;
	struct preq *pr = health(p, r) ? NULL : begin(p, r);
	if (!pr)
		return;
	const struct vproxy *vp = &pr->vp;
	const char *method = http_req_method(r);
	const char *path = http_req_path(r);
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	bool post = strcmp(method, "POST") == 0;
	if (!method_known(vp->method)) {
		proxy_json_answer(
		    r, 501, "this virtual proxy's authentication method is not supported yet");
		return;
	}
	if (get && strcmp(path, "/sign-in.css") == 0) {
		http_add_header(r, "Cache-Control", "max-age=3600");
		http_respond(r, 200, "text/css; charset=utf-8", sign_in_css,
			     sizeof(sign_in_css) - 1);
		return;
	}
	if ((post || strcmp(method, "DELETE") == 0) && !same_origin(r)) {
		log_warn("proxy: %s: %s %s from another site (Origin %s) refused", http_req_peer(r),
			 method, path, http_req_header(r, "Origin"));
		proxy_json_answer(r, 403, "a request from another site is refused");
		return;
	}
	if (strcmp(path, "/sign-in") == 0 && vp->method == VP_FORM) {
		if (get)
			proxy_signin_page(p, r, NULL, 200);
		else if (!post)
			proxy_json_answer(r, 405, "sign in with GET or POST");
		else if (http_req_content_length(r) < 0 || http_req_content_length(r) > 65536)
			proxy_json_answer(
			    r, 413, "a sign-in form is at most 64 KiB, with its length given");
		return; /* POST: on_complete, once the form is in */
	}
	if (strcmp(path, "/oidc/callback") == 0 && vp->method == VP_OIDC && get) {
		proxy_oidc_callback(p, r, pr);
		return;
	}
	if (strcmp(path, "/sign-out") == 0 && post) {
		sign_out(p, r, pr, true);
		return;
	}
	const char *ticket = http_req_query(r, "qlikTicket");
	if (ticket && get) {
		proxy_redeem_ticket(p, r, pr, ticket);
		return;
	}
	struct session_user u;
	bool found = false;
	struct err e;
	err_init(&e);
	if (proxy_session_find(p, r, vp, &u, &found, &e) != 0) {
		log_error("proxy: %s: cannot look up a session: %s", http_req_peer(r), e.message);
		proxy_json_answer(r, 503, "the repository database is not answering; try again");
		return;
	}
	if (vp->method == VP_HEADER_STATIC || vp->method == VP_HEADER_DYNAMIC ||
	    vp->method == VP_JWT) {
		int h = vp->method == VP_JWT ? by_bearer(p, r, pr, &u, found)
					     : by_header(p, r, pr, &u, found);
		if (h < 0)
			return;
		found = found || h > 0;
	}
	/* an app's export is downloaded from the repository as the person who exported it */
	bool repo = proxy_path_under(path, "/qrs") || proxy_path_under(path, "/tempcontent");
	bool api = repo || proxy_path_under(path, "/app") || proxy_path_under(path, "/qps");
	if (!found) {
		if (api || !get)
			proxy_json_answer(r, 401,
					  "sign in first (the session is missing or has ended)");
		else
			to_sign_in(p, r, pr);
		return;
	}
	if (repo) {
		proxy_forward(r, &u, &p->cfg.repo);
	} else if (proxy_path_under(path, "/app")) {
		if (http_req_is_websocket(r) && !origin_allowed(r, vp))
			proxy_json_answer(r, 403, "a WebSocket from another site is refused");
		else
			proxy_route_engine(p, r, vp, &u);
	} else if (strcmp(path, "/qps/user") == 0 && get) {
		who_am_i(r, pr, &u);
	} else if (strcmp(path, "/qps/user") == 0 && strcmp(method, "DELETE") == 0) {
		sign_out(p, r, pr, false);
	} else if (strcmp(path, "/") == 0 && get && proxy_hub_installed(p)) {
		redirect(r, 302, arena_printf(http_req_arena(r), "%s/hub/", pr->base));
	} else if (strcmp(path, "/") == 0 && get) {
		landing(r, pr, &u);
	} else if (get && proxy_hub_serve(p, r, pr, path)) {
		/* answered */
	} else {
		proxy_json_answer(r, 404, "there is nothing here");
	}
}

static void on_complete(void *ctx, struct http_req *r)
{
	struct proxy *p = ctx;
	if (http_responded(r))
		return;
	if (http_req_body_error(r)) {
		proxy_json_answer(r, 413, "the form is too large");
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
	if (health(p, r))
		return;
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
	p->max_age_ms = (cfg->max_age_s ? cfg->max_age_s : 43200) * 1000;
	pthread_mutex_init(&p->hash_mu, NULL);
	pthread_cond_init(&p->hash_cv, NULL);
	pthread_mutex_init(&p->addr_mu, NULL);
	pthread_mutex_init(&p->down_mu, NULL);
	pthread_mutex_init(&p->vp_mu, NULL);
	int rc = proxy_oidc_open(p, e);
	if (rc) {
		proxy_close(p);
		return rc;
	}
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
	pthread_mutex_destroy(&p->down_mu);
	pthread_mutex_destroy(&p->vp_mu);
	proxy_oidc_close(p);
	free(p->vps);
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
