/* proxy_int.h: what the proxy's files share. */
#ifndef FATHOM_PROXY_INT_H
#define FATHOM_PROXY_INT_H

#include "proxy/proxy.h"

#include <pthread.h>

/* A session id is 32 random bytes, base64url: 43 characters. */
#define SESSION_ID_LEN 43

/* Failed sign-ins counted per client address, in this process. */
#define ADDR_SLOTS 1024
struct addr_slot {
	char addr[48];
	int failures;
	int64_t window_start; /* ms */
};

struct proxy {
	struct proxy_config cfg;
	int64_t idle_ms, max_age_ms;
	/* Argon2id costs 64 MiB and a tenth of a second: at most this many run at once */
	pthread_mutex_t hash_mu;
	pthread_cond_t hash_cv;
	int hashing;
	char dummy_hash[160]; /* verified against when the user does not exist (under hash_mu) */
	pthread_mutex_t addr_mu;
	struct addr_slot addrs[ADDR_SLOTS];
};

/* The user a session stands for. */
struct session_user {
	char ref[64];	 /* users.id */
	char dir[256];	 /* user directory */
	char id[256];	 /* user id */
	bool root_admin; /* holds the RootAdmin role */
	int64_t expires; /* ms: the absolute end */
};

/* ---- session.c ---- */

/* The session the request's cookie names, when it is valid; a session past its time is
 * deleted. Returns 0 (found or not: *found), or ERR_DB and friends. */
NODISCARD int proxy_session_find(struct proxy *p, struct http_req *r, struct session_user *u,
				 bool *found, struct err *e);
/* A new session for `user_ref`; writes the cookie's value into id[SESSION_ID_LEN + 1].
 * `attributes` (JSON text, may be NULL) are kept with it. */
NODISCARD int proxy_session_create(struct proxy *p, const char *user_ref, const char *addr,
				   const char *attributes, char id[SESSION_ID_LEN + 1],
				   struct err *e);
/* A session with the given id (made elsewhere: POST /qps/session). */
NODISCARD int proxy_session_store(struct proxy *p, const char *user_ref, const char *addr,
				  const char *attributes, const char *id, struct err *e);
/* Whether `id` can be a session id: 16 to 128 characters of base64url. */
bool proxy_session_id_ok(const char *id);
/* Sets the session cookie for `id` on the answer. */
void proxy_set_cookie(struct http_req *r, const char *id);
/* Ends the session the request's cookie names, if any. */
NODISCARD int proxy_session_end(struct proxy *p, struct http_req *r, struct err *e);
/* "X-Qlik-User" form of a session's user. */
void proxy_user_header(const struct session_user *u, char *out, size_t n);

/* ---- qps.c ---- */

/* ?qlikTicket=: redeems the ticket (once) for a session and sends the browser on to the
 * same page without it, or answers 403. */
void proxy_redeem_ticket(struct proxy *p, struct http_req *r, const char *ticket);

/* ---- signin.c ---- */

/* GET /sign-in: the page; POST /sign-in: checks the form and signs in. */
void proxy_signin_page(struct proxy *p, struct http_req *r, const char *message, int status);
void proxy_signin_post(struct proxy *p, struct http_req *r);
/* Headers every page of the proxy carries (content security policy and friends). */
void proxy_page_headers(struct http_req *r);
/* Answers with the page in `b` (released), or 500 when building it failed (`bad`). */
void proxy_respond_page(struct http_req *r, int status, struct buf *b, int bad);
/* Appends `s` to `b` with &, <, >, " and ' escaped. */
void proxy_html_put(struct buf *b, const char *s);
/* Argon2id hashes run one at a time per core (see struct proxy). */
void proxy_hash_enter(struct proxy *p);
void proxy_hash_leave(struct proxy *p);

#endif
