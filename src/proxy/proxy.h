/* proxy.h: the front door for people. It signs them in (form sign-in against the INTERNAL
 * user directory), keeps their sessions in the repository database (so that every node's
 * proxy accepts every session), and hands their requests to the repository (/qrs/...) and
 * the engine (/app/...) of its node, vouching for the signed-in user. A second, plain-HTTP
 * handler only redirects to HTTPS.
 *
 * Threads: the handlers run on the HTTP server's workers; everything here is thread-safe. */
#ifndef FATHOM_PROXY_H
#define FATHOM_PROXY_H

#include "core/core.h"
#include "db/db.h"
#include "http/http.h"
#include "repo/repo.h"

struct proxy_config {
	struct db *db;
	struct repo *repository;    /* users made on first sign-in from another directory */
	struct http_handler repo;   /* serves /qrs/... */
	struct http_handler engine; /* serves /app/...; on_headers NULL: no engine here */
	const char *hostname;	    /* node.hostname: redirects when Host is unusable */
	int https_port;		    /* where the plain port sends people */
	int64_t max_age_s;	    /* a session ends this long after sign-in; 0: 43200 */
	const char *web_root;	    /* the web apps (hub/...), or NULL: none on this node */
	/* Engine sessions go to any node the load-balancing rules allow (route.c): this node's
	 * id, the folder with the site's root.pem, client.pem and client_key.pem for calling
	 * the others, and the heartbeat interval (a node silent for three is not chosen). */
	const char *node_id;
	const char *certs_dir;
	int64_t heartbeat_ms;
	/* This node's engine as it is now: its sessions and the ids of the apps in memory
	 * (comma-separated, into apps[n]). The proxy takes these for this node rather than its
	 * heartbeat, which may lag (a busy node writes it late). NULL: the heartbeat only. */
	void (*engine_load)(void *ctx, int *sessions, char *apps, size_t n);
	void *engine_load_ctx;
};

struct proxy;
/* The proxy keeps pointers to cfg->db and the handlers' ctx: they must outlive it. */
NODISCARD int proxy_open(const struct proxy_config *cfg, struct proxy **out, struct err *e);
void proxy_close(struct proxy *p);
/* The HTTPS port: sign-in, sign-out, and forwarding for signed-in people. */
struct http_handler proxy_http_handler(struct proxy *p);
/* The plain-HTTP port: every request is redirected to the same path over HTTPS. */
struct http_handler proxy_redirect_handler(struct proxy *p);
/* The proxy service API (Qlik's QPS, port 4243): tickets and sessions, for services with
 * the site's client certificate (the server must ask for client certificates). */
struct http_handler proxy_api_handler(struct proxy *p);

/* The name of the session cookie. */
#define PROXY_COOKIE "X-Qlik-Session"
/* Passwords: at least this long, at most 1,024 bytes. */
#define PROXY_PASSWORD_MIN 8

/* Sets the password of the user with row id `user_ref` (users.id), hashed with Argon2id,
 * and ends every session the user has. ERR_INVALID for a password too short or too long. */
NODISCARD int proxy_password_set(struct db *db, const char *user_ref, const char *password,
				 struct err *e);
/* Ends every session of the user with row id `user_ref`; *out_n (may be NULL) gets how
 * many. */
NODISCARD int proxy_sessions_end_user(struct db *db, const char *user_ref, int64_t *out_n,
				      struct err *e);

/* ---- the parsers of untrusted input (fuzzed) ---- */

/* The value of cookie `name` in a Cookie header, copied into out[n]. False when absent,
 * empty, or longer than n - 1. */
bool proxy_cookie_value(const char *header, const char *name, char *out, size_t n);
/* The percent-decoded value of field `name` of an application/x-www-form-urlencoded body,
 * copied into out[n]. False when absent, malformed, longer than n - 1 or holding a NUL. */
bool proxy_form_value(const char *body, size_t len, const char *name, char *out, size_t n);
/* Whether `target` is a path on this site that a sign-in may send the browser to: it starts
 * with one "/", holds no backslash or control character, and is at most 1,024 bytes. */
bool proxy_local_target(const char *target);

/* The proxy's part of the repository schema. */
extern const struct db_migration proxy_migrations[];

#endif
