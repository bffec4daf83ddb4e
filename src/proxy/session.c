/* session.c: sessions in the repository database, and the cookie that names them.
 *
 * The cookie (named by the virtual proxy) holds 32 random bytes (base64url); the database
 * holds their SHA-256, so a copy of the database signs nobody in. A session ends after its
 * virtual proxy's inactivity time-out, or `max_age` after sign-in, whichever comes first;
 * its use is written back at most once a minute. A session is good only at the virtual
 * proxy that made it. Its times are the database's (proxy_site_now), not the node's. */
#include "proxy/proxy_int.h"
#include "cluster/cluster.h"
#include "crypto/crypto.h"

#include <stdio.h>
#include <string.h>

#define TOUCH_EVERY_MS 60000
#define MAX_IDLE_MS    (10080LL * 60000) /* the longest sessionInactivityTimeout */

bool proxy_cookie_value(const char *header, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);
	const char *s = header;
	while (s && *s) {
		while (*s == ' ' || *s == '\t' || *s == ';')
			s++;
		const char *end = strchr(s, ';');
		size_t len = end ? (size_t)(end - s) : strlen(s);
		if (len > nl && memcmp(s, name, nl) == 0 && s[nl] == '=') {
			const char *v = s + nl + 1;
			size_t vl = len - nl - 1;
			while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
				vl--;
			if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
				v++;
				vl -= 2;
			}
			if (vl == 0 || vl >= n)
				return false;
			memcpy(out, v, vl);
			out[vl] = '\0';
			return true;
		}
		s = end;
	}
	return false;
}

bool proxy_user_part_ok(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n <= 128 && s[0] != ' ' && s[n - 1] != ' ' && !strpbrk(s, "\\;=") &&
	       !str_has_ctl(s, false);
}

bool proxy_user_header(const struct session_user *u, char *out, size_t n)
{
	if (!proxy_user_part_ok(u->dir) || !proxy_user_part_ok(u->id))
		return false;
	snprintf(out, n, "UserDirectory=%s; UserId=%s", u->dir, u->id);
	return true;
}

bool proxy_session_id_ok(const char *id)
{
	size_t n = strlen(id);
	return n >= 16 && n <= 128 &&
	       strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == n;
}

void proxy_state_key(const char *id_hash, char out[65])
{
	char in[128];
	int n = snprintf(in, sizeof(in), "fathom engine state\n%s", id_hash);
	crypto_sha256_hex(in, (size_t)n, out);
}

/* The hash of the session id in the request's cookie; false when there is no usable one. */
static bool cookie_hash(struct http_req *r, const struct vproxy *vp, char hash[65])
{
	char id[136];
	const char *cookie = http_req_header(r, "Cookie");
	if (!cookie || !proxy_cookie_value(cookie, vp->cookie, id, sizeof(id)) ||
	    !proxy_session_id_ok(id))
		return false;
	crypto_sha256_hex(id, strlen(id), hash);
	return true;
}

int proxy_site_now(struct proxy *p, int64_t *out_ms, struct err *e)
{
	struct db_conn *c;
	int rc = db_acquire(p->cfg.db, &c, e);
	if (rc)
		return rc;
	rc = cluster_db_clock(c, p->cfg.db, out_ms, e);
	db_release(p->cfg.db, c);
	return rc;
}

struct found {
	struct session_user *u;
	struct arena *a;
	bool seen, usable;
	int64_t last_seen, created, now;
};

static int on_session(void *ctx, int n, const struct db_value *v)
{
	struct found *f = ctx;
	if (n < 10)
		return 0;
	f->seen = v[9].type == DBV_TEXT && time_parse_iso(v[9].s, &f->now) == 0;
	f->u->attrs = v[8].type == DBV_TEXT ? arena_strdup(f->a, v[8].s) : NULL;
	str_copy(f->u->ref, v[0].s ? v[0].s : "", sizeof(f->u->ref));
	str_copy(f->u->dir, v[1].s ? v[1].s : "", sizeof(f->u->dir));
	str_copy(f->u->id, v[2].s ? v[2].s : "", sizeof(f->u->id));
	f->u->root_admin = v[3].s && strstr(v[3].s, "\x1fRootAdmin\x1f");
	f->usable = v[4].i == 0 && v[5].i == 0;
	f->last_seen = v[6].i;
	f->u->expires = v[7].i;
	return 0;
}

static int delete_session(struct proxy *p, const char *hash, struct err *e)
{
	struct db_params prm;
	db_params_init(&prm);
	db_p_text(&prm, hash);
	return db_exec_once(p->cfg.db, "DELETE FROM proxy_session WHERE id_hash = $1", &prm, NULL,
			    NULL, e);
}

int proxy_session_find(struct proxy *p, struct http_req *r, const struct vproxy *vp,
		       struct session_user *u, bool *found, struct err *e)
{
	*found = false;
	char hash[65];
	if (!cookie_hash(r, vp, hash))
		return 0;
	*u = (struct session_user){0};
	struct found f = {.u = u, .a = http_req_arena(r)};
	struct db_params prm;
	db_params_init(&prm);
	db_p_text(&prm, hash);
	db_p_text(&prm, vp->prefix);
	/* a session is good only at the virtual proxy that made it; its times are the
	 * database's */
	char sql[640];
	snprintf(sql, sizeof(sql),
		 "SELECT s.user_ref, u.user_directory, u.user_id, u.roles, u.inactive, "
		 "u.blacklisted, s.last_seen, s.expires_at, s.attributes, %s FROM proxy_session "
		 "s JOIN users u ON u.id = s.user_ref WHERE s.id_hash = $1 AND "
		 "s.virtual_proxy = $2",
		 db_now_sql(p->cfg.db));
	int rc = db_exec_once(p->cfg.db, sql, &prm, on_session, &f, e);
	if (rc || !f.seen)
		return rc;
	int64_t now = f.now;
	if (!f.usable || now >= u->expires || now - f.last_seen >= vp->idle_ms) {
		log_info("proxy: %s: the session of %s\\%s has ended (%s)", http_req_peer(r),
			 u->dir, u->id,
			 !f.usable ? "the user is inactive or blocked" : "timed out");
		return delete_session(p, hash, e);
	}
	proxy_state_key(hash, u->state);
	if (now - f.last_seen >= TOUCH_EVERY_MS) {
		db_params_init(&prm);
		db_p_int(&prm, now);
		db_p_text(&prm, hash);
		rc = db_exec_once(p->cfg.db,
				  "UPDATE proxy_session SET last_seen = $1 WHERE id_hash = $2",
				  &prm, NULL, NULL, e);
		if (rc)
			return rc;
	}
	*found = true;
	return 0;
}

int proxy_session_create(struct proxy *p, const char *vp_prefix, const char *user_ref,
			 const char *addr, const char *attributes, char id[SESSION_ID_LEN + 1],
			 struct err *e)
{
	_Static_assert(SESSION_ID_LEN + 1 == 44, "43 characters of base64url and a NUL");
	crypto_random_token(32, id);
	return proxy_session_store(p, vp_prefix, user_ref, addr, attributes, id, e);
}

int proxy_session_store(struct proxy *p, const char *vp_prefix, const char *user_ref,
			const char *addr, const char *attributes, const char *id, struct err *e)
{
	char hash[65];
	crypto_sha256_hex(id, strlen(id), hash);
	int64_t now = 0;
	int rc = proxy_site_now(p, &now, e);
	if (rc)
		return rc;
	struct db_params prm;
	db_params_init(&prm);
	db_p_int(&prm, now - MAX_IDLE_MS);
	db_p_int(&prm, now);
	/* sessions that ended without a sign-out go when new ones come (those idle past their
	 * virtual proxy's time-out go when they are next presented) */
	rc = db_exec_once(p->cfg.db,
			  "DELETE FROM proxy_session WHERE last_seen < $1 OR expires_at < $2", &prm,
			  NULL, NULL, e);
	if (rc)
		return rc;
	db_params_init(&prm);
	db_p_text(&prm, hash);
	db_p_text(&prm, user_ref);
	db_p_int(&prm, now);
	db_p_int(&prm, now + p->max_age_ms);
	db_p_text(&prm, addr);
	db_p_text(&prm, attributes);
	db_p_text(&prm, vp_prefix);
	return db_exec_once(
	    p->cfg.db,
	    "INSERT INTO proxy_session (id_hash, user_ref, virtual_proxy, created_at, "
	    "last_seen, expires_at, address, attributes) VALUES ($1, $2, $7, $3, $3, "
	    "$4, $5, $6)",
	    &prm, NULL, NULL, e);
}

int proxy_session_end(struct proxy *p, struct http_req *r, const struct vproxy *vp, struct err *e)
{
	char hash[65];
	return cookie_hash(r, vp, hash) ? delete_session(p, hash, e) : 0;
}

int proxy_sessions_end_user(struct db *db, const char *user_ref, int64_t *out_n, struct err *e)
{
	struct db_conn *c = NULL;
	int rc = db_acquire(db, &c, e);
	if (rc)
		return rc;
	struct db_params prm;
	db_params_init(&prm);
	db_p_text(&prm, user_ref);
	rc =
	    db_exec(c, "DELETE FROM proxy_session WHERE user_ref = $1", &prm, NULL, NULL, out_n, e);
	db_release(db, c);
	return rc;
}
