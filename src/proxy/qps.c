/* qps.c: Qlik's proxy service API on its own port (4243), for services that hold the site's
 * client certificate: one-time tickets that sign a person in (so that portals built for
 * Qlik work unchanged), and the sessions of a user. See ../shared/api/qps.md.
 *
 * A ticket is 24 random bytes (base64url), valid for a minute and once; the database keeps
 * its SHA-256. The browser brings it as ?qlikTicket= on any page of the proxy, which makes
 * the session and sends the browser on without the ticket. Session ids in this API are
 * the cookie's value, or the SHA-256 that the database keeps (which is what lists show,
 * since the id itself is never stored). */
#include "proxy/proxy_int.h"
#include "crypto/crypto.h"
#include "repo/repo.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TICKET_MS    60000
#define TICKET_BYTES 24

static void answer_json(struct http_req *r, int status, json_t *o)
{
	size_t n = 0;
	char *s = o ? json_encode(o, &n) : NULL;
	json_decref(o);
	if (!s) {
		http_respond(r, 500, "application/json", "{\"message\":\"out of memory\"}", 27);
		return;
	}
	http_respond_owned(r, status, "application/json; charset=utf-8", s, n);
}

static void fail(struct http_req *r, int status, const char *message)
{
	answer_json(r, status, json_pack("{s:s}", "message", message));
}

/* A user directory or id from a body: trimmed, not empty, no backslash or control
 * character, at most 128 bytes; copied into out[129]. */
static bool user_part(json_t *v, char out[129])
{
	const char *s = json_string_value(v);
	if (!s || strlen(s) != json_string_length(v))
		return false;
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0 || n > 128)
		return false;
	memcpy(out, s, n);
	out[n] = '\0';
	return proxy_user_part_ok(out);
}

/* Attributes: a list of objects of strings, at most 64 of them; NULL when absent. */
static bool attributes_ok(json_t *v)
{
	if (!v || json_is_null(v))
		return true;
	if (!json_is_array(v) || json_array_size(v) > 64)
		return false;
	size_t i;
	json_t *it;
	json_array_foreach (v, i, it) {
		const char *k;
		json_t *val;
		if (!json_is_object(it) || json_object_size(it) != 1)
			return false;
		json_object_foreach (it, k, val)
			if (!json_is_string(val) || json_string_length(val) > 1024 ||
			    strlen(k) > 128)
				return false;
	}
	return true;
}

struct body_user {
	char dir[129], id[129];
	json_t *attrs;	  /* borrowed from the body; NULL: none */
	char *attrs_text; /* malloc'd JSON, or NULL */
};

/* The user of a ticket or session body; answers 400 and returns false when it is bad. */
static bool read_user(struct http_req *r, json_t *body, struct body_user *u)
{
	memset(u, 0, sizeof(*u));
	if (!json_is_object(body) || !user_part(json_object_get(body, "UserDirectory"), u->dir) ||
	    !user_part(json_object_get(body, "UserId"), u->id)) {
		fail(r, 400,
		     "UserDirectory and UserId are required: text without \\, ; or =, at most 128 "
		     "characters");
		return false;
	}
	u->attrs = json_object_get(body, "Attributes");
	if (!attributes_ok(u->attrs)) {
		fail(r, 400, "Attributes must be a list of {\"name\": \"value\"} objects");
		return false;
	}
	if (u->attrs && json_is_array(u->attrs))
		u->attrs_text = json_dumps(u->attrs, JSON_COMPACT);
	return true;
}

static json_t *user_json(const char *dir, const char *id, const char *attrs_text)
{
	json_t *attrs = attrs_text ? json_loads(attrs_text, 0, NULL) : NULL;
	return json_pack("{s:s, s:s, s:o}", "UserDirectory", dir, "UserId", id, "Attributes",
			 attrs ? attrs : json_array());
}

/* ---------------------------------------------------------------- tickets */

static void post_ticket(struct proxy *p, struct http_req *r, const struct vproxy *vp, json_t *body)
{
	struct body_user u;
	if (!read_user(r, body, &u))
		return;
	char ticket[64], hash[65];
	crypto_random_token(TICKET_BYTES, ticket);
	crypto_sha256_hex(ticket, strlen(ticket), hash);
	int64_t now = 0;
	struct err e;
	err_init(&e);
	struct db_params prm;
	db_params_init(&prm);
	int rc = proxy_site_now(p, &now, &e);
	db_p_int(&prm, now);
	if (rc == 0)
		rc = db_exec_once(p->cfg.db, "DELETE FROM proxy_ticket WHERE expires_at < $1", &prm,
				  NULL, NULL, &e);
	db_params_init(&prm);
	db_p_text(&prm, hash);
	db_p_text(&prm, u.dir);
	db_p_text(&prm, u.id);
	db_p_text(&prm, u.attrs_text);
	db_p_int(&prm, now + TICKET_MS);
	db_p_text(&prm, vp->prefix);
	if (rc == 0)
		rc = db_exec_once(
		    p->cfg.db,
		    "INSERT INTO proxy_ticket (id_hash, user_directory, user_id, "
		    "attributes, virtual_proxy, expires_at) VALUES ($1, $2, $3, $4, $6, "
		    "$5)",
		    &prm, NULL, NULL, &e);
	if (rc) {
		free(u.attrs_text);
		log_error("proxy: %s: cannot store a ticket: %s", http_req_peer(r), e.message);
		fail(r, 503, "the repository database is not answering; try again");
		return;
	}
	json_t *o = user_json(u.dir, u.id, u.attrs_text);
	free(u.attrs_text);
	json_object_set_new(o, "Ticket", json_string(ticket));
	const char *target = json_string_value(json_object_get(body, "TargetId"));
	if (target)
		json_object_set_new(o, "TargetUri",
				    json_string(arena_printf(
					http_req_arena(r), "https://%s:%d/%s%s", p->cfg.hostname,
					p->cfg.https_port, vp->prefix, vp->prefix[0] ? "/" : "")));
	explicit_bzero(ticket, sizeof(ticket));
	log_info("proxy: %s: a ticket for %s\\%s", http_req_peer(r), u.dir, u.id);
	answer_json(r, 201, o);
}

struct redeemed {
	bool seen;
	char dir[129], id[129];
	char *attrs;
};

static int on_redeemed(void *ctx, int n, const struct db_value *v)
{
	struct redeemed *t = ctx;
	if (n < 3 || t->seen)
		return 0;
	t->seen = true;
	str_copy(t->dir, v[0].s ? v[0].s : "", sizeof(t->dir));
	str_copy(t->id, v[1].s ? v[1].s : "", sizeof(t->id));
	t->attrs = v[2].s ? strdup(v[2].s) : NULL;
	return 0;
}

void proxy_redeem_ticket(struct proxy *p, struct http_req *r, const struct preq *pr,
			 const char *ticket)
{
	const char *addr = http_req_peer(r);
	char hash[65];
	crypto_sha256_hex(ticket, strlen(ticket), hash);
	struct redeemed t = {0};
	struct err e;
	err_init(&e);
	int64_t now = 0;
	int rc = proxy_site_now(p, &now, &e);
	struct db_params prm;
	db_params_init(&prm);
	db_p_text(&prm, hash);
	db_p_int(&prm, now);
	db_p_text(&prm, pr->vp.prefix);
	/* deleted as it is read: a ticket is good once, on one node, at its virtual proxy */
	if (rc == 0)
		rc = db_exec_once(
		    p->cfg.db,
		    "DELETE FROM proxy_ticket WHERE id_hash = $1 AND expires_at > $2 AND "
		    "virtual_proxy = $3 RETURNING user_directory, user_id, attributes",
		    &prm, on_redeemed, &t, &e);
	char ref[UUID_STR_LEN + 1], sid[SESSION_ID_LEN + 1];
	if (rc == 0 && t.seen &&
	    (rc = repo_user_ensure(p->cfg.repository, t.dir, t.id, ref, &e)) == 0)
		rc = proxy_session_create(p, pr->vp.prefix, ref, addr, t.attrs, sid, &e);
	free(t.attrs);
	if (rc) {
		log_error("proxy: %s: cannot redeem a ticket: %s", addr, e.message);
		fail(r, 503, "the repository database is not answering; try again");
		return;
	}
	if (!t.seen) {
		log_warn("proxy: %s: a ticket was refused: unknown, used or expired", addr);
		fail(r, 403, "the ticket is unknown, used or expired");
		return;
	}
	proxy_set_cookie(r, &pr->vp, sid);
	explicit_bzero(sid, sizeof(sid));
	/* on to the same page, without the ticket */
	struct arena *a = http_req_arena(r);
	struct buf b;
	buf_init(&b, 1 << 16);
	int bad = buf_printf(&b, "%s%s", pr->base, http_req_path(r));
	for (int i = 0, k = 0; i < http_req_query_count(r); i++) {
		const char *v, *name = http_req_query_at(r, i, &v);
		if (str_ieq(name, "qlikTicket"))
			continue;
		bad |= buf_printf(&b, "%c%s=%s", k++ ? '&' : '?', str_url_encode(a, name),
				  str_url_encode(a, v ? v : ""));
	}
	const char *loc = bad ? "/" : arena_strdup(a, b.data);
	buf_release(&b);
	if (!proxy_local_target(loc))
		loc = "/";
	log_info("proxy: %s: %s\\%s signed in with a ticket", addr, t.dir, t.id);
	http_add_header(r, "Location", loc);
	proxy_page_headers(r);
	http_respond(r, 302, "text/plain; charset=utf-8", "", 0);
}

/* ---------------------------------------------------------------- sessions */

/* The hash a session id of this API stands for: the SHA-256 of a cookie value, or a hash. */
static bool session_hash(const char *id, char hash[65])
{
	size_t n = strlen(id);
	if (n == 64 && strspn(id, "0123456789abcdef") == 64) {
		memcpy(hash, id, 65);
		return true;
	}
	if (!proxy_session_id_ok(id))
		return false;
	crypto_sha256_hex(id, n, hash);
	return true;
}

struct sessions {
	json_t *list;
	const char *given_id; /* a single session asked for by id: shown as given */
};

static int on_session_row(void *ctx, int n, const struct db_value *v)
{
	struct sessions *s = ctx;
	if (n < 4)
		return 0;
	json_t *o = user_json(v[0].s ? v[0].s : "", v[1].s ? v[1].s : "", v[2].s);
	json_object_set_new(o, "SessionId", json_string(s->given_id ? s->given_id : v[3].s));
	json_array_append_new(s->list, o);
	return 0;
}

static const char session_cols[] =
    "SELECT u.user_directory, u.user_id, s.attributes, s.id_hash FROM proxy_session s JOIN "
    "users u ON u.id = s.user_ref ";

/* GET or DELETE one session (by id) or a user's (by directory and id). */
static void sessions(struct proxy *p, struct http_req *r, const struct vproxy *vp, bool del,
		     const char *sid, const char *dir, const char *uid)
{
	char hash[65];
	if (sid && !session_hash(sid, hash)) {
		fail(r, 404, "there is no such session");
		return;
	}
	struct sessions s = {json_array(), sid};
	struct db_params prm;
	db_params_init(&prm);
	const char *where;
	db_p_text(&prm, vp->prefix);
	if (sid) {
		db_p_text(&prm, hash);
		where = "WHERE s.virtual_proxy = $1 AND s.id_hash = $2";
	} else {
		db_p_text(&prm, dir);
		db_p_text(&prm, uid);
		where = "WHERE s.virtual_proxy = $1 AND lower(u.user_directory) = lower($2) AND "
			"lower(u.user_id) = lower($3)";
	}
	struct err e;
	err_init(&e);
	struct arena *a = http_req_arena(r);
	int rc = db_exec_once(p->cfg.db, arena_printf(a, "%s%s", session_cols, where), &prm,
			      on_session_row, &s, &e);
	if (rc == 0 && del && json_array_size(s.list) > 0)
		rc =
		    db_exec_once(p->cfg.db,
				 arena_printf(a,
					      "DELETE FROM proxy_session WHERE id_hash IN (SELECT "
					      "s.id_hash FROM proxy_session s JOIN users u ON u.id "
					      "= s.user_ref %s)",
					      where),
				 &prm, NULL, NULL, &e);
	if (rc) {
		json_decref(s.list);
		log_error("proxy: %s: sessions: %s", http_req_peer(r), e.message);
		fail(r, 503, "the repository database is not answering; try again");
		return;
	}
	if (del)
		log_info("proxy: %s: ended %zu session(s) through the API", http_req_peer(r),
			 json_array_size(s.list));
	if (!sid) {
		answer_json(r, 200, s.list);
	} else if (json_array_size(s.list) == 0) {
		json_decref(s.list);
		fail(r, 404, "there is no such session");
	} else {
		json_t *one = json_incref(json_array_get(s.list, 0));
		json_decref(s.list);
		answer_json(r, 200, one);
	}
}

static void post_session(struct proxy *p, struct http_req *r, const struct vproxy *vp, json_t *body)
{
	struct body_user u;
	if (!read_user(r, body, &u))
		return;
	const char *sid = json_string_value(json_object_get(body, "SessionId"));
	if (!sid || !proxy_session_id_ok(sid)) {
		free(u.attrs_text);
		fail(r, 400, "SessionId is required: 16 to 128 letters, digits, - or _");
		return;
	}
	struct err e;
	err_init(&e);
	char ref[UUID_STR_LEN + 1];
	int rc = repo_user_ensure(p->cfg.repository, u.dir, u.id, ref, &e);
	if (rc == 0)
		rc = proxy_session_store(p, vp->prefix, ref, http_req_peer(r), u.attrs_text, sid,
					 &e);
	json_t *o = rc ? NULL : user_json(u.dir, u.id, u.attrs_text);
	free(u.attrs_text);
	if (rc == ERR_CONFLICT) {
		fail(r, 409, "a session with that id exists");
		return;
	}
	if (rc) {
		log_error("proxy: %s: cannot add a session: %s", http_req_peer(r), e.message);
		fail(r, 503, "the repository database is not answering; try again");
		return;
	}
	json_object_set_new(o, "SessionId", json_string(sid));
	answer_json(r, 201, o);
}

/* ---------------------------------------------------------------- dispatch */

/* Splits "/qps[/{vp}]/rest" into the virtual proxy's prefix (copied into prefix[65]) and
 * the segments of the rest; returns how many there are. */
static int segments(const char *path, char *seg[4], char *buf, size_t n, char prefix[65])
{
	prefix[0] = '\0';
	if (!str_has_prefix(path, "/qps/"))
		return 0;
	str_copy(buf, path + 5, n);
	int k = 0;
	for (char *s = buf; s && *s && k < 4;) {
		char *slash = strchr(s, '/');
		if (slash)
			*slash = '\0';
		seg[k++] = s;
		s = slash ? slash + 1 : NULL;
	}
	if (k > 1 && strcmp(seg[0], "ticket") != 0 && strcmp(seg[0], "session") != 0 &&
	    strcmp(seg[0], "user") != 0) {
		str_copy(prefix, seg[0], 65);
		memmove(seg, seg + 1, 3 * sizeof(*seg));
		seg[3] = NULL;
		k--;
	}
	return k;
}

static void api_on_headers(void *ctx, struct http_req *r)
{
	http_req_set_route(r, proxy_route_label(http_req_path(r)));
	(void)ctx;
	enum http_cert cert = http_req_client_cert(r);
	if (cert != HTTP_CERT_OK) {
		fail(r, 403,
		     cert == HTTP_CERT_NONE ? "a client certificate of the site is required"
					    : http_cert_problem(cert));
		return;
	}
	if (!http_req_xrf_ok(r))
		fail(r, 403, "XSRF prevention check failed. Possible XSRF discovered.");
}

static void api_on_complete(void *ctx, struct http_req *r)
{
	struct proxy *p = ctx;
	if (http_responded(r))
		return;
	char buf[1024], *seg[4] = {0}, prefix[65];
	int k = segments(http_req_path(r), seg, buf, sizeof(buf), prefix);
	const char *m = http_req_method(r);
	bool get = strcmp(m, "GET") == 0, del = strcmp(m, "DELETE") == 0;
	bool post = strcmp(m, "POST") == 0;
	struct vproxy *vp = arena_alloc(http_req_arena(r), sizeof(*vp));
	struct err e;
	err_init(&e);
	int rc = proxy_vproxy_pick(p, prefix, vp, true, &e);
	if (rc) {
		fail(r, rc == ERR_NOT_FOUND ? 404 : 503,
		     rc == ERR_NOT_FOUND ? "there is no virtual proxy with that prefix"
					 : "the repository database is not answering; try again");
		return;
	}
	json_t *body = NULL;
	if (post) {
		size_t len;
		const char *text = http_req_body(r, &len);
		body = json_loadb(text, len, 0, NULL);
		if (!json_is_object(body)) {
			json_decref(body);
			fail(r, 400, "the body must be a JSON object");
			return;
		}
	}
	if (k == 1 && post && strcmp(seg[0], "ticket") == 0)
		post_ticket(p, r, vp, body);
	else if (k == 1 && post && strcmp(seg[0], "session") == 0)
		post_session(p, r, vp, body);
	else if (k == 2 && (get || del) && strcmp(seg[0], "session") == 0)
		sessions(p, r, vp, del, seg[1], NULL, NULL);
	else if (k == 3 && (get || del) && strcmp(seg[0], "user") == 0)
		sessions(p, r, vp, del, NULL, seg[1], seg[2]);
	else
		fail(r, 404,
		     "the proxy API has /qps/ticket, /qps/session and /qps/user/{dir}/{id}");
	json_decref(body);
}

static void api_on_done(void *ctx, struct http_req *r, bool completed)
{
	(void)ctx;
	(void)r;
	(void)completed;
}

struct http_handler proxy_api_handler(struct proxy *p)
{
	return (struct http_handler){p, api_on_headers, api_on_complete, api_on_done};
}
