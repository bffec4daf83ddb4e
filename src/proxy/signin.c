/* signin.c: form sign-in against the INTERNAL user directory.
 *
 * A wrong password and an unknown user get the same answer in about the same time (an
 * unknown user is checked against a dummy hash). Failures are counted per client address
 * (in this process: 20 in 10 minutes, then the address waits for the window to pass) and
 * per user name (in the database, so on every node: 10 in a row lock the name for 15
 * minutes, whether or not such a user exists). Nothing about a password reaches the log. */
#include "proxy/proxy_int.h"
#include "crypto/crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ADDR_WINDOW_MS	  (10 * 60 * 1000)
#define ADDR_MAX_FAILURES 20
#define USER_MAX_FAILURES 10
#define USER_LOCK_MS	  (15 * 60 * 1000)
#define HASHES_AT_ONCE	  2
#define PASSWORD_MAX	  1024

static const char wrong[] = "The user name or the password is wrong.";
static const char too_many[] = "Too many failed sign-ins. Try again in a few minutes.";

/* ---------------------------------------------------------------- parsers */

bool proxy_form_value(const char *body, size_t len, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);
	size_t i = 0;
	while (i < len) {
		const char *amp = memchr(body + i, '&', len - i);
		size_t end = amp ? (size_t)(amp - body) : len;
		const char *eq = memchr(body + i, '=', end - i);
		if (eq && (size_t)(eq - (body + i)) == nl && memcmp(body + i, name, nl) == 0) {
			struct arena *a = arena_new();
			const char *v =
			    http_percent_decode(a, eq + 1, end - (size_t)(eq + 1 - body), true);
			bool ok = v && strlen(v) < n;
			if (ok)
				str_copy(out, v, n);
			if (v) /* it may be a password */
				explicit_bzero((char *)v, strlen(v));
			arena_free(a);
			return ok;
		}
		i = end + 1;
	}
	return false;
}

bool proxy_local_target(const char *t)
{
	size_t n = strlen(t);
	if (n == 0 || n > 1024 || t[0] != '/' || t[1] == '/' || strchr(t, '\\'))
		return false;
	return !str_has_ctl(t, false);
}

/* ---------------------------------------------------------------- pages */

void proxy_common_headers(struct http_req *r)
{
	http_add_header(r, "X-Content-Type-Options", "nosniff");
	http_add_header(r, "Referrer-Policy", "same-origin");
	http_add_header(r, "Strict-Transport-Security", "max-age=31536000");
}

void proxy_page_headers(struct http_req *r)
{
	http_add_header(r, "Content-Security-Policy",
			"default-src 'none'; style-src 'self'; img-src 'self'; form-action "
			"'self'; frame-ancestors 'none'; base-uri 'none'");
	proxy_common_headers(r);
	http_add_header(r, "Cache-Control", "no-store");
}

void proxy_respond_page(struct http_req *r, int status, struct buf *b, int bad)
{
	if (bad) {
		buf_release(b);
		http_respond(r, 500, "text/plain; charset=utf-8", "out of memory\n", 14);
		return;
	}
	proxy_page_headers(r);
	size_t len = b->len;
	http_respond_owned(r, status, "text/html; charset=utf-8", buf_steal(b), len);
}

void proxy_html_put(struct buf *b, const char *s)
{
	for (; s && *s; s++) {
		const char *rep = *s == '&'    ? "&amp;"
				  : *s == '<'  ? "&lt;"
				  : *s == '>'  ? "&gt;"
				  : *s == '"'  ? "&quot;"
				  : *s == '\'' ? "&#39;"
					       : NULL;
		if (rep ? buf_puts(b, rep) : buf_append(b, s, 1))
			return;
	}
}

/* The page's head; %s is the virtual proxy's root, twice. */
static const char page_head[] =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    "<title>Sign in - Fathom</title><link rel=\"stylesheet\" href=\"%s/sign-in.css\"></head>\n"
    "<body><main><h1>Fathom</h1><form method=\"post\" action=\"%s/sign-in\">\n";

struct preq *proxy_preq(struct http_req *r)
{
	return http_req_data(r);
}

void proxy_signin_page(struct proxy *p, struct http_req *r, const char *message, int status)
{
	(void)p;
	const struct preq *pr = proxy_preq(r);
	const char *user = pr->typed; /* the name typed before, on a failed sign-in */
	const char *next = http_req_query(r, "next");
	struct buf b;
	buf_init(&b, 1 << 16);
	int bad = buf_printf(&b, page_head, pr->base, pr->base);
	if (message) {
		bad |= buf_puts(&b, "<p class=\"error\" role=\"alert\">");
		proxy_html_put(&b, message);
		bad |= buf_puts(&b, "</p>\n");
	}
	bad |=
	    buf_puts(&b, "<label for=\"username\">User name</label><input id=\"username\" "
			 "name=\"username\" autocomplete=\"username\" required autofocus value=\"");
	proxy_html_put(&b, user ? user : "");
	bad |= buf_puts(&b, "\">\n<label for=\"password\">Password</label><input id=\"password\" "
			    "name=\"password\" type=\"password\" autocomplete=\"current-password\" "
			    "required>\n");
	if (next && proxy_local_target(next)) {
		bad |= buf_puts(&b, "<input type=\"hidden\" name=\"next\" value=\"");
		proxy_html_put(&b, next);
		bad |= buf_puts(&b, "\">\n");
	}
	bad |=
	    buf_puts(&b, "<button type=\"submit\">Sign in</button></form></main></body></html>\n");
	proxy_respond_page(r, status, &b, bad);
}

/* ---------------------------------------------------------------- limits */

void proxy_hash_enter(struct proxy *p)
{
	pthread_mutex_lock(&p->hash_mu);
	while (p->hashing >= HASHES_AT_ONCE)
		pthread_cond_wait(&p->hash_cv, &p->hash_mu);
	p->hashing++;
	pthread_mutex_unlock(&p->hash_mu);
}

void proxy_hash_leave(struct proxy *p)
{
	pthread_mutex_lock(&p->hash_mu);
	p->hashing--;
	pthread_cond_signal(&p->hash_cv);
	pthread_mutex_unlock(&p->hash_mu);
}

static struct addr_slot *addr_slot(struct proxy *p, const char *addr)
{
	uint64_t h = 1469598103934665603ULL;
	for (const char *s = addr; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return &p->addrs[h % ADDR_SLOTS];
}

/* Whether the address has failed too often lately. */
static bool addr_blocked(struct proxy *p, const char *addr)
{
	pthread_mutex_lock(&p->addr_mu);
	struct addr_slot *s = addr_slot(p, addr);
	bool blocked = strcmp(s->addr, addr) == 0 &&
		       time_mono_ms() - s->window_start < ADDR_WINDOW_MS &&
		       s->failures >= ADDR_MAX_FAILURES;
	pthread_mutex_unlock(&p->addr_mu);
	return blocked;
}

static void addr_failed(struct proxy *p, const char *addr)
{
	int64_t now = time_mono_ms();
	pthread_mutex_lock(&p->addr_mu);
	struct addr_slot *s = addr_slot(p, addr);
	if (strcmp(s->addr, addr) != 0 || now - s->window_start >= ADDR_WINDOW_MS) {
		str_copy(s->addr, addr, sizeof(s->addr));
		s->failures = 0;
		s->window_start = now;
	}
	s->failures++;
	pthread_mutex_unlock(&p->addr_mu);
}

static int one_int(void *ctx, int n, const struct db_value *v)
{
	if (n >= 1)
		*(int64_t *)ctx = v[0].i;
	return 0;
}

/* Whether the name is locked after failed sign-ins. */
static int name_locked(struct proxy *p, const char *key, bool *locked, struct err *e)
{
	int64_t until = 0;
	struct db_params prm;
	db_params_init(&prm);
	db_p_text(&prm, key);
	int64_t now = 0;
	int rc = proxy_site_now(p, &now, e);
	if (rc == 0)
		rc = db_exec_once(p->cfg.db,
				  "SELECT locked_until FROM signin_failure WHERE name_key = $1",
				  &prm, one_int, &until, e);
	*locked = rc == 0 && until > now;
	return rc;
}

/* Counts a failure of the name; the tenth in a row locks it. */
static int name_failed(struct proxy *p, const char *key, struct err *e)
{
	int64_t now = 0;
	int rc = proxy_site_now(p, &now, e);
	if (rc)
		return rc;
	struct db_params prm;
	db_params_init(&prm);
	db_p_text(&prm, key);
	db_p_int(&prm, now);
	rc = db_exec_once(p->cfg.db,
			  "INSERT INTO signin_failure (name_key, failures, locked_until, last_at) "
			  "VALUES ($1, 1, 0, $2) ON CONFLICT (name_key) DO UPDATE SET failures "
			  "= signin_failure.failures + 1, last_at = $2",
			  &prm, NULL, NULL, e);
	if (rc)
		return rc;
	db_params_init(&prm);
	db_p_int(&prm, now + USER_LOCK_MS);
	db_p_text(&prm, key);
	db_p_int(&prm, USER_MAX_FAILURES);
	return db_exec_once(p->cfg.db,
			    "UPDATE signin_failure SET failures = 0, locked_until = $1 WHERE "
			    "name_key = $2 AND failures >= $3",
			    &prm, NULL, NULL, e);
}

static int name_succeeded(struct proxy *p, const char *key, struct err *e)
{
	struct db_params prm;
	db_params_init(&prm);
	db_p_text(&prm, key);
	return db_exec_once(p->cfg.db, "DELETE FROM signin_failure WHERE name_key = $1", &prm, NULL,
			    NULL, e);
}

/* ---------------------------------------------------------------- passwords */

struct credential {
	char ref[64];
	char hash[CRYPTO_PWHASH_LEN];
	bool usable;
	bool seen;
};

static int on_credential(void *ctx, int n, const struct db_value *v)
{
	struct credential *c = ctx;
	if (n < 4 || c->seen)
		return 0;
	c->seen = true;
	str_copy(c->ref, v[0].s ? v[0].s : "", sizeof(c->ref));
	str_copy(c->hash, v[1].s ? v[1].s : "", sizeof(c->hash));
	c->usable = v[2].i == 0 && v[3].i == 0;
	return 0;
}

/* A hash of a random password, made the first time someone unknown signs in. */
static void make_dummy(struct proxy *p)
{
	pthread_mutex_lock(&p->hash_mu);
	if (!p->dummy_hash[0]) {
		struct err e;
		err_init(&e);
		char pw[33];
		crypto_random_password(pw, 32);
		if (crypto_password_hash(pw, p->dummy_hash, &e) != 0)
			p->dummy_hash[0] = '\0';
	}
	pthread_mutex_unlock(&p->hash_mu);
}

/* Whether `password` is the password of INTERNAL user `id`; *ref gets the user's row id.
 * Costs one Argon2id verification whether or not the user exists. */
static int check_password(struct proxy *p, const char *id, const char *password, char ref[64],
			  bool *ok, struct err *e)
{
	*ok = false;
	struct credential c = {0};
	struct db_params prm;
	db_params_init(&prm);
	db_p_text(&prm, id);
	/* a name that cannot stand in X-Qlik-User is nobody's: the dummy hash answers */
	int rc =
	    !proxy_user_part_ok(id)
		? 0
		: db_exec_once(p->cfg.db,
			       "SELECT u.id, c.hash, u.inactive, u.blacklisted FROM users u JOIN "
			       "user_credential c ON c.user_ref = u.id WHERE u.user_directory = "
			       "'INTERNAL' AND lower(u.user_id) = lower($1)",
			       &prm, on_credential, &c, e);
	if (rc)
		return rc;
	if (!c.seen)
		make_dummy(p);
	proxy_hash_enter(p);
	bool match = crypto_password_verify(c.seen ? c.hash : p->dummy_hash, password);
	proxy_hash_leave(p);
	*ok = c.seen && match && c.usable;
	str_copy(ref, c.ref, 64);
	return 0;
}

int proxy_password_set(struct db *db, const char *user_ref, const char *password, struct err *e)
{
	size_t n = strlen(password);
	if (n < PROXY_PASSWORD_MIN || n > PASSWORD_MAX)
		return err_set(e, ERR_INVALID, "a password must be %d to %d characters long",
			       PROXY_PASSWORD_MIN, PASSWORD_MAX);
	char hash[CRYPTO_PWHASH_LEN];
	int rc = crypto_password_hash(password, hash, e);
	if (rc)
		return rc;
	struct db_conn *c = NULL;
	if ((rc = db_acquire(db, &c, e)))
		return rc;
	struct db_params prm;
	db_params_init(&prm);
	db_p_text(&prm, user_ref);
	db_p_text(&prm, hash);
	db_p_int(&prm, time_now_ms());
	if ((rc = db_begin(c, true, e)) == 0 &&
	    (rc = db_exec(c,
			  "INSERT INTO user_credential (user_ref, hash, changed_at) VALUES ($1, "
			  "$2, $3) ON CONFLICT (user_ref) DO UPDATE SET hash = $2, changed_at = $3",
			  &prm, NULL, NULL, NULL, e)) == 0) {
		db_params_init(&prm);
		db_p_text(&prm, user_ref);
		rc = db_exec(c, "DELETE FROM proxy_session WHERE user_ref = $1", &prm, NULL, NULL,
			     NULL, e);
	}
	if (rc == 0)
		rc = db_commit(c, e);
	else
		db_rollback(c);
	db_release(db, c);
	explicit_bzero(hash, sizeof(hash));
	return rc;
}

/* ---------------------------------------------------------------- POST /sign-in */

void proxy_set_cookie(struct http_req *r, const struct vproxy *vp, const char *id)
{
	char *cookie = arena_printf(
	    http_req_arena(r), "%s=%s; Path=/; Secure; HttpOnly; SameSite=Lax", vp->cookie, id);
	http_add_header(r, "Set-Cookie", cookie);
}

/* "alice" and "INTERNAL\alice" name the same user; another directory has no passwords. */
static const char *internal_id(const char *name)
{
	const char *bs = strchr(name, '\\');
	if (!bs)
		return name;
	return str_ieqn(name, "INTERNAL\\", 9) ? bs + 1 : NULL;
}

static void signed_in(struct proxy *p, struct http_req *r, const char *ref, const char *id,
		      const char *next)
{
	struct err e;
	err_init(&e);
	char sid[SESSION_ID_LEN + 1];
	const struct preq *pr = proxy_preq(r);
	if (proxy_session_create(p, pr->vp.prefix, ref, http_req_peer(r), NULL, sid, &e) != 0) {
		log_error("proxy: %s: cannot store a session: %s", http_req_peer(r), e.message);
		proxy_signin_page(p, r, "The site cannot sign you in right now. Try again soon.",
				  503);
		return;
	}
	proxy_set_cookie(r, &pr->vp, sid);
	explicit_bzero(sid, sizeof(sid));
	http_add_header(r, "Location", next);
	proxy_page_headers(r);
	http_respond(r, 303, "text/plain; charset=utf-8", "", 0);
	log_info("proxy: %s: INTERNAL\\%s signed in", http_req_peer(r), id);
}

void proxy_signin_post(struct proxy *p, struct http_req *r)
{
	size_t len;
	const char *body = http_req_body(r, &len);
	char name[256], password[PASSWORD_MAX + 1], next[1025];
	const char *addr = http_req_peer(r);
	if (!proxy_form_value(body, len, "username", name, sizeof(name)) ||
	    str_has_ctl(name, false) ||
	    !proxy_form_value(body, len, "password", password, sizeof(password))) {
		explicit_bzero(password, sizeof(password));
		proxy_signin_page(p, r, "Give a user name and a password.", 400);
		return;
	}
	struct preq *pr = proxy_preq(r);
	if (!proxy_form_value(body, len, "next", next, sizeof(next)) || !proxy_local_target(next))
		snprintf(next, sizeof(next), "%s/", pr->base);
	pr->typed = arena_strdup(http_req_arena(r), name);
	const char *id = internal_id(name);
	char key[300];
	snprintf(key, sizeof(key), "internal\\%s", id ? id : name);
	for (char *k = key; *k; k++)
		*k = (char)(*k >= 'A' && *k <= 'Z' ? *k - 'A' + 'a' : *k);
	struct err e;
	err_init(&e);
	bool locked = false, ok = false;
	char ref[64] = "";
	int rc = 0;
	if (addr_blocked(p, addr) || (rc = name_locked(p, key, &locked, &e)) != 0 || locked) {
		explicit_bzero(password, sizeof(password));
		if (rc)
			log_error("proxy: %s: sign-in: %s", addr, e.message);
		else
			log_warn("proxy: %s: sign-in as \"%s\" refused: too many failures", addr,
				 name);
		proxy_signin_page(p, r, rc ? "The site cannot sign you in right now." : too_many,
				  rc ? 503 : 429);
		return;
	}
	rc = check_password(p, id ? id : "", password, ref, &ok, &e);
	explicit_bzero(password, sizeof(password));
	ok = ok && id;
	if (rc == 0)
		rc = ok ? name_succeeded(p, key, &e) : name_failed(p, key, &e);
	if (rc) {
		log_error("proxy: %s: sign-in: %s", addr, e.message);
		proxy_signin_page(p, r, "The site cannot sign you in right now.", 503);
		return;
	}
	if (!ok) {
		addr_failed(p, addr);
		log_warn("proxy: %s: sign-in as \"%s\" refused: wrong user name or password", addr,
			 name);
		proxy_signin_page(p, r, wrong, 401);
		return;
	}
	signed_in(p, r, ref, id, next);
}
