/* proxy_int.h: what the proxy's files share. */
#ifndef FATHOM_PROXY_INT_H
#define FATHOM_PROXY_INT_H

#include "proxy/proxy.h"

#include <jansson.h>
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

/* A virtual proxy, as the proxy uses it (virtualproxyconfig). */
#define VP_MAX 64
enum vp_method {
	VP_TICKET = 0,
	VP_HEADER_STATIC = 1,
	VP_HEADER_DYNAMIC = 2,
	VP_SAML = 3,
	VP_JWT = 4,
	VP_OIDC = 5,
	VP_FORM = 6, /* ours: the sign-in page against the INTERNAL directory */
};
struct vproxy {
	char prefix[65]; /* "" for the default */
	int method;	 /* enum vp_method */
	char cookie[65];
	int64_t idle_ms;
	char redirect_uri[1025]; /* the authentication module of a ticket proxy */
	char header[129];	 /* header authentication: the header, */
	char static_dir[129];	 /* the static user directory, */
	char dynamic_dir[129];	 /* the dynamic pattern ("$ud\\$id"), */
	char trusted[1024];	 /* and the addresses it is taken from (\x1f-separated) */
	char origins[2048];	 /* WebSocket origins allowed besides the proxy's own */
	char extra[4097];	 /* additional response headers, "Name: value" lines */
	char jwt_key[16385];	 /* JWT: PEM public key or certificate, or an HS256 secret */
	char jwt_user[129];	 /* the claim with the user id (default "sub") */
	char jwt_dir[129];	 /* the claim with the directory, or "[DIRECTORY]" */
	char jwt_aud[256];	 /* required audience, if any */
	char jwt_iss[256];	 /* required issuer, if any */
	/* OpenID Connect: the provider's discovery address, this client, the user directory
	 * its users get, the scopes asked for, the claims read, and the CA to trust for the
	 * provider (PEM; "" for the system's) */
	char oidc_url[1025];
	char oidc_client[256];
	char oidc_secret[512];
	char oidc_realm[129];
	char oidc_scope[256];
	char oidc_sub[129];
	char oidc_name[129];
	char oidc_groups[129];
	char oidc_email[129];
	char oidc_ca[8193];
	char engine_nodes[64 * 37]; /* the nodes engine sessions may go to (\x1f-separated ids;
				     * "": every engine node) */
};

/* What the proxy keeps of one request while it is its own. */
struct preq {
	struct vproxy vp;
	char base[80];	   /* "" or "/prefix": the virtual proxy's root, for links */
	const char *typed; /* a failed sign-in: the name typed */
};

struct oidc_cache;
struct proxy {
	struct proxy_config cfg;
	pthread_mutex_t vp_mu; /* the virtual proxies, read again once a second */
	struct vproxy *vps;
	int n_vps;
	int64_t vp_loaded;
	int64_t max_age_ms;
	/* Argon2id costs 64 MiB and a tenth of a second: at most this many run at once */
	pthread_mutex_t hash_mu;
	pthread_cond_t hash_cv;
	int hashing;
	char dummy_hash[160]; /* verified against when the user does not exist (under hash_mu) */
	pthread_mutex_t addr_mu;
	struct addr_slot addrs[ADDR_SLOTS];
	struct oidc_cache *oidc; /* OpenID Connect providers' documents and keys (oidc.c) */
	/* engine nodes this proxy could not reach lately, tried last until `until` (route.c) */
	pthread_mutex_t down_mu;
	struct {
		char node[40];
		int64_t until;
	} down[8];
};

/* The web apps (hub.c). Whether web_root holds the hub; serving GET/HEAD of a path of the
 * hub (/hub/..., /sense/..., /datamodelviewer/..., /dataloadeditor/...) or the management
 * console (/qmc/...), false when `path` is neither; which relative paths may name a file. */
bool proxy_hub_installed(const struct proxy *p);
/* The route /metrics counts a request of the proxy under: a known first part of its path
 * ("/qrs", "/hub", "/sign-in"), or NULL. */
const char *proxy_route_label(const char *path);
bool proxy_hub_serve(struct proxy *p, struct http_req *r, const struct preq *pr, const char *path);
bool proxy_hub_path_ok(const char *rel);

/* The user a session stands for. */
struct session_user {
	char ref[64];	   /* users.id */
	char dir[256];	   /* user directory */
	char id[256];	   /* user id */
	bool root_admin;   /* holds the RootAdmin role */
	int64_t expires;   /* ms: the absolute end */
	const char *attrs; /* the session's attributes (JSON), or NULL; in the request's arena */
	char state[65];	   /* the key the engine keeps the session's selections under */
};

/* ---- vproxy.c ---- */

/* The virtual proxy of a request path (the one whose prefix is its first segment, else the
 * default), or with by_prefix the one whose prefix is `path` exactly. ERR_NOT_FOUND when
 * none serves it. */
NODISCARD int proxy_vproxy_pick(struct proxy *p, const char *path, struct vproxy *out,
				bool by_prefix, struct err *e);
/* Whether a \x1f-separated list holds `item` (without case). */
bool proxy_list_has(const char *list, const char *item);
/* Adds the virtual proxy's additional response headers to the answer. */
void proxy_vproxy_headers(struct http_req *r, const struct vproxy *vp);

/* ---- jwt.c ---- */

/* Checks a JWT (compact JWS) for a virtual proxy: its signature with the proxy's key (alg
 * HS256, RS256 or ES256, as the key allows), exp (required), nbf, and iss and aud when the
 * proxy names them, with a minute of clock skew. Writes the user's directory and id (from
 * the proxy's claims) into dir[129] and id[129]. ERR_CRYPTO or ERR_INVALID with why. */
NODISCARD int proxy_jwt_check(const char *token, const struct vproxy *vp, int64_t now_s,
			      char dir[129], char id[129], struct err *e);
/* A compact JWS taken apart: header and claims (objects), the algorithm the header names,
 * the signature, and how much of the token it signs. */
struct jwt_parts {
	json_t *header, *claims;
	const char *alg; /* in header */
	unsigned char sig[1024];
	size_t sig_len, signed_len;
};
/* Takes a token of at most `max` bytes apart; ERR_INVALID when it is not three base64url
 * parts with a JSON header naming "alg" and JSON claims. Release with proxy_jwt_release. */
NODISCARD int proxy_jwt_parse(const char *token, size_t max, struct jwt_parts *out, struct err *e);
void proxy_jwt_release(struct jwt_parts *t);

/* ---- oidc.c ---- */

/* The person an OpenID Connect provider vouched for. */
struct oidc_user {
	char dir[129];	/* the virtual proxy's oidcRealm */
	char id[129];	/* the claim oidcAttributeSub */
	char name[256]; /* the claim oidcAttributeName, or "" */
	char *attrs;	/* [{"group": ...}, {"email": ...}] as JSON text (malloc'd), or NULL */
};

NODISCARD int proxy_oidc_open(struct proxy *p, struct err *e);
void proxy_oidc_close(struct proxy *p);
/* A browser without a session: to the provider, to come back to `back`. */
void proxy_oidc_start(struct proxy *p, struct http_req *r, const struct preq *pr, const char *back);
/* GET {prefix}/oidc/callback: the provider sends the browser back with a code. */
void proxy_oidc_callback(struct proxy *p, struct http_req *r, const struct preq *pr);
/* Checks an ID token: signed (RS256 or ES256) by a key of the JWKS `jwks` (JSON text), from
 * `issuer`, for `client`, not expired (a minute of skew), with `nonce`. *claims is the
 * caller's. ERR_NOT_FOUND when no key of the set fits (the caller may fetch the keys
 * again), ERR_CRYPTO or ERR_INVALID with why. */
NODISCARD int proxy_oidc_id_token(const char *token, const char *jwks, const char *issuer,
				  const char *client, const char *nonce, int64_t now_s,
				  json_t **claims, struct err *e);
/* The user the claims name for virtual proxy `vp`; u->attrs is the caller's to free. */
NODISCARD int proxy_oidc_user(json_t *claims, const struct vproxy *vp, struct oidc_user *u,
			      struct err *e);

/* ---- session.c ---- */

/* The site's clock: the repository database's, in ms. Every time a node compares with
 * another's (sessions, tickets, sign-in locks, heartbeats) is read from it, so a node whose
 * own clock is off neither ends nor extends what other nodes wrote. */
NODISCARD int proxy_site_now(struct proxy *p, int64_t *out_ms, struct err *e);

/* The session the request's cookie names, when it is valid; a session past its time is
 * deleted. Returns 0 (found or not: *found), or ERR_DB and friends. */
NODISCARD int proxy_session_find(struct proxy *p, struct http_req *r, const struct vproxy *vp,
				 struct session_user *u, bool *found, struct err *e);
/* A new session for `user_ref`; writes the cookie's value into id[SESSION_ID_LEN + 1].
 * `attributes` (JSON text, may be NULL) are kept with it. */
NODISCARD int proxy_session_create(struct proxy *p, const char *vp_prefix, const char *user_ref,
				   const char *addr, const char *attributes,
				   char id[SESSION_ID_LEN + 1], struct err *e);
/* A session with the given id (made elsewhere: POST /qps/session). */
NODISCARD int proxy_session_store(struct proxy *p, const char *vp_prefix, const char *user_ref,
				  const char *addr, const char *attributes, const char *id,
				  struct err *e);
/* Whether `id` can be a session id: 16 to 128 characters of base64url. */
bool proxy_session_id_ok(const char *id);
/* Sets the virtual proxy's session cookie for `id` on the answer. */
void proxy_set_cookie(struct http_req *r, const struct vproxy *vp, const char *id);
/* Ends the session the request's cookie names, if any. */
NODISCARD int proxy_session_end(struct proxy *p, struct http_req *r, const struct vproxy *vp,
				struct err *e);
/* The key an engine keeps a session's selections under: derived from the hash of the
 * session id, so the engine never sees what signs anyone in. */
void proxy_state_key(const char *id_hash, char out[65]);
/* "X-Qlik-User" form of a session's user. */
bool proxy_user_header(const struct session_user *u, char *out, size_t n);
/* Whether a user directory or id can stand in X-Qlik-User unchanged: 1 to 128 bytes, no
 * control character, backslash, ";" or "=", no space at either end. The proxy signs in
 * nobody whose name is not. */
bool proxy_user_part_ok(const char *s);

/* ---- proxy.c ---- */

/* Answers {"message": message} (a fixed text: it is not escaped). */
void proxy_json_answer(struct http_req *r, int status, const char *message);
/* Hands the request to `to` (this node's repository or engine) as the signed-in user. */
void proxy_forward(struct http_req *r, const struct session_user *u, const struct http_handler *to);

/* ---- route.c ---- */

/* /app/...: the person's engine session goes to a node the load-balancing rules allow for
 * the app, among the virtual proxy's load-balancing nodes when it names any (one that has it in
 * memory first, then the least busy): handed over in-process when that is this node, else relayed
 * over mutual TLS. 503 when no engine can take it. */
void proxy_route_engine(struct proxy *p, struct http_req *r, const struct vproxy *vp,
			const struct session_user *u);

/* ---- qps.c ---- */

/* ?qlikTicket=: redeems the ticket (once) for a session and sends the browser on to the
 * same page without it, or answers 403. */
void proxy_redeem_ticket(struct proxy *p, struct http_req *r, const struct preq *pr,
			 const char *ticket);

/* ---- signin.c ---- */

/* GET /sign-in: the page; POST /sign-in: checks the form and signs in. */
void proxy_signin_page(struct proxy *p, struct http_req *r, const char *message, int status);
/* The request's own state (struct preq in the data slot). */
struct preq *proxy_preq(struct http_req *r);
void proxy_signin_post(struct proxy *p, struct http_req *r);
/* Headers every page of the proxy carries (content security policy and friends). */
void proxy_page_headers(struct http_req *r);
/* The headers every page of the proxy carries whatever its policy: nosniff, same-origin
 * referrers, HSTS. */
void proxy_common_headers(struct http_req *r);
/* Whether `path` is `prefix` or below it ("/qrs" holds "/qrs/app", not "/qrsx"). */
bool proxy_path_under(const char *path, const char *prefix);
/* Answers with the page in `b` (released), or 500 when building it failed (`bad`). */
void proxy_respond_page(struct http_req *r, int status, struct buf *b, int bad);
/* Appends `s` to `b` with &, <, >, " and ' escaped. */
void proxy_html_put(struct buf *b, const char *s);
/* Argon2id hashes run one at a time per core (see struct proxy). */
void proxy_hash_enter(struct proxy *p);
void proxy_hash_leave(struct proxy *p);

#endif
