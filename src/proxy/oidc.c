/* oidc.c: sign-in through an OpenID Connect provider (authorization code flow with PKCE),
 * for a virtual proxy of method OIDC.
 *
 * A browser without a session is sent to the provider's authorization endpoint with a
 * fresh state, nonce and PKCE verifier. Those three and the page to come back to are kept
 * in a short-lived cookie of the browser's own (HttpOnly, ten minutes), so the callback may
 * reach any node's proxy and a callback that this browser did not start is refused. At the
 * callback the proxy redeems the code at the token endpoint (with the verifier and the
 * client's secret), checks the ID token (signature by a key of the provider's JWKS, issuer,
 * audience, expiry, nonce), reads the user info, and signs the person in as REALM\sub: the
 * user is added or its name brought up to date, and the groups and e-mail claims go with the
 * session as attributes, so that user.group and user.email reach the security rules.
 *
 * The provider's discovery document and keys are cached for an hour; a token signed by a
 * key the cache does not hold makes one early fetch of the keys (the provider rotated). */
#include "proxy/proxy_int.h"
#include "crypto/crypto.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_MS     3600000LL /* discovery and keys are kept an hour */
#define REFETCH_MS   60000LL   /* an unknown key fetches the keys again, at most once a minute */
#define CALL_MS	     10000     /* each call to the provider */
#define MAX_ANSWER   (1 << 20)
#define SKEW_S	     60
#define MAX_ID_TOKEN 16384
#define MAX_ATTRS    64
#define FLOW_S	     600 /* a sign-in must come back within ten minutes */
#define FLOW_RANDOM  32	 /* random bytes in a state, a nonce and a verifier */
#define FLOW_LEN     44	 /* their base64url text and a NUL */

/* ---------------------------------------------------------------- the provider */

struct oidc_provider {
	char url[1025]; /* the discovery address it was read from */
	char issuer[1025];
	char authz[1025];
	char token[1025];
	char userinfo[1025];
	char jwks_uri[1025];
	bool post_secret; /* client_secret_post: the provider takes no Basic authentication */
	char *jwks;	  /* the key set, JSON text (malloc'd) */
	int64_t fetched, keys_fetched;
};

struct oidc_cache {
	pthread_mutex_t mu;
	struct oidc_provider list[VP_MAX];
	int n;
};

int proxy_oidc_open(struct proxy *p, struct err *e)
{
	p->oidc = calloc(1, sizeof(*p->oidc));
	if (!p->oidc)
		return err_set(e, ERR_NOMEM, "out of memory");
	pthread_mutex_init(&p->oidc->mu, NULL);
	return 0;
}

void proxy_oidc_close(struct proxy *p)
{
	if (!p->oidc)
		return;
	for (int i = 0; i < p->oidc->n; i++)
		free(p->oidc->list[i].jwks);
	pthread_mutex_destroy(&p->oidc->mu);
	free(p->oidc);
	p->oidc = NULL;
}

static int call_json(const struct vproxy *vp, const char *method, const char *url,
		     const char *const *headers, const char *body, json_t **out, struct err *e)
{
	struct http_client_tls tls = {.ca_pem = vp->oidc_ca[0] ? vp->oidc_ca : NULL};
	struct http_response res;
	*out = NULL;
	int rc = http_call(&tls, method, url, headers, body, body ? strlen(body) : 0, CALL_MS,
			   MAX_ANSWER, &res, e);
	if (rc)
		return rc;
	json_t *j = json_loadb(res.body, res.len, JSON_REJECT_DUPLICATES, NULL);
	if (res.status != 200) {
		const char *why = json_string_value(json_object_get(j, "error"));
		bool say = why && strlen(why) < 100 && !str_has_ctl(why, false);
		rc = err_set(
		    e, res.status >= 400 && res.status < 500 ? ERR_FORBIDDEN : ERR_UNAVAILABLE,
		    "%s answered %d%s%s", url, res.status, say ? ": " : "", say ? why : "");
	} else if (!json_is_object(j)) {
		rc = err_set(e, ERR_UNAVAILABLE, "%s answered something that is not a JSON object",
			     url);
	}
	http_response_release(&res);
	if (rc)
		json_decref(j);
	else
		*out = j;
	return rc;
}

/* Copies the https:// address in `key` of `o` into out[1025]; false when it is not one
 * (or, when required, absent). */
static bool https_field(json_t *o, const char *key, char out[1025], bool required)
{
	const char *s = json_string_value(json_object_get(o, key));
	out[0] = '\0';
	if (!s)
		return !required;
	if (!str_has_prefix(s, "https://") || strlen(s) > 1024 || str_has_ctl(s, false))
		return false;
	str_copy(out, s, 1025);
	return true;
}

static bool lists(json_t *arr, const char *want)
{
	size_t i;
	json_t *it;
	json_array_foreach (arr, i, it)
		if (json_is_string(it) && strcmp(json_string_value(it), want) == 0)
			return true;
	return false;
}

static int fetch_discovery(const struct vproxy *vp, struct oidc_provider *pv, struct err *e)
{
	json_t *d = NULL;
	int rc = call_json(vp, "GET", vp->oidc_url, NULL, NULL, &d, e);
	if (rc == 0 && (!https_field(d, "issuer", pv->issuer, true) ||
			!https_field(d, "authorization_endpoint", pv->authz, true) ||
			!https_field(d, "token_endpoint", pv->token, true) ||
			!https_field(d, "userinfo_endpoint", pv->userinfo, false) ||
			!https_field(d, "jwks_uri", pv->jwks_uri, true)))
		rc = err_set(e, ERR_UNAVAILABLE,
			     "%s: the discovery document lacks an https:// issuer, "
			     "authorization_endpoint, token_endpoint or jwks_uri",
			     vp->oidc_url);
	json_t *auth = json_object_get(d, "token_endpoint_auth_methods_supported");
	pv->post_secret = json_array_size(auth) && !lists(auth, "client_secret_basic") &&
			  lists(auth, "client_secret_post");
	str_copy(pv->url, vp->oidc_url, sizeof(pv->url));
	json_decref(d);
	return rc;
}

static int fetch_keys(const struct vproxy *vp, struct oidc_provider *pv, struct err *e)
{
	json_t *k = NULL;
	int rc = call_json(vp, "GET", pv->jwks_uri, NULL, NULL, &k, e);
	if (rc == 0 && !json_is_array(json_object_get(k, "keys")))
		rc = err_set(e, ERR_UNAVAILABLE, "%s: the key set has no keys", pv->jwks_uri);
	free(pv->jwks);
	pv->jwks = rc == 0 ? json_dumps(k, JSON_COMPACT) : NULL;
	if (rc == 0 && !pv->jwks)
		rc = err_set(e, ERR_NOMEM, "out of memory");
	json_decref(k);
	return rc;
}

/* The provider of `vp`, from the cache or fetched; with `new_keys`, the keys are fetched
 * again unless they are less than a minute old. out->jwks is the caller's to free. */
static int provider_get(struct proxy *p, const struct vproxy *vp, bool new_keys,
			struct oidc_provider *out, struct err *e)
{
	struct oidc_cache *c = p->oidc;
	int64_t now = time_mono_ms();
	pthread_mutex_lock(&c->mu);
	int at = -1;
	for (int i = 0; i < c->n && at < 0; i++)
		if (strcmp(c->list[i].url, vp->oidc_url) == 0)
			at = i;
	bool fresh = at >= 0 && now - c->list[at].fetched < CACHE_MS &&
		     (!new_keys || now - c->list[at].keys_fetched < REFETCH_MS);
	if (at >= 0) {
		*out = c->list[at];
		out->jwks = out->jwks ? strdup(out->jwks) : NULL;
	}
	pthread_mutex_unlock(&c->mu);
	if (fresh)
		return out->jwks ? 0 : err_set(e, ERR_NOMEM, "out of memory");
	if (at < 0 || now - out->fetched >= CACHE_MS) {
		free(at >= 0 ? out->jwks : NULL);
		memset(out, 0, sizeof(*out));
		int rc = fetch_discovery(vp, out, e);
		if (rc)
			return rc;
		out->fetched = now;
	}
	int rc = fetch_keys(vp, out, e);
	if (rc)
		return rc;
	out->keys_fetched = now;
	pthread_mutex_lock(&c->mu);
	at = -1;
	for (int i = 0; i < c->n && at < 0; i++)
		if (strcmp(c->list[i].url, vp->oidc_url) == 0)
			at = i;
	if (at < 0 && c->n < VP_MAX)
		at = c->n++;
	if (at >= 0) {
		char *copy = strdup(out->jwks);
		free(c->list[at].jwks);
		c->list[at] = *out;
		c->list[at].jwks = copy;
	}
	pthread_mutex_unlock(&c->mu);
	return 0;
}

/* ---------------------------------------------------------------- the ID token */

/* The key of `jwks` that signed with `alg` and `kid` (kid may be NULL when the set holds one
 * key of the kind), as PEM in *pem. ERR_NOT_FOUND when the set holds none. */
static int find_key(json_t *jwks, const char *alg, const char *kid, char **pem, struct err *e)
{
	const char *kty = strcmp(alg, "RS256") == 0 ? "RSA" : "EC";
	json_t *keys = json_object_get(jwks, "keys"), *found = NULL;
	size_t i, fitting = 0;
	json_t *k;
	json_array_foreach (keys, i, k) {
		const char *t = json_string_value(json_object_get(k, "kty"));
		const char *use = json_string_value(json_object_get(k, "use"));
		const char *ka = json_string_value(json_object_get(k, "alg"));
		const char *id = json_string_value(json_object_get(k, "kid"));
		if (!t || strcmp(t, kty) != 0 || (use && strcmp(use, "sig") != 0) ||
		    (ka && strcmp(ka, alg) != 0))
			continue;
		if (kid ? id && strcmp(id, kid) == 0 : true) {
			found = k;
			fitting++;
		}
	}
	if (!found || (!kid && fitting > 1))
		return err_set(e, ERR_NOT_FOUND, "the provider's key set has no %s key%s%s", kty,
			       kid ? " with the token's kid " : "",
			       kid && strlen(kid) < 80 ? kid : "");
	bool rsa = kty[0] == 'R';
	return crypto_jwk_pem(kty, json_string_value(json_object_get(found, "crv")),
			      json_string_value(json_object_get(found, rsa ? "n" : "x")),
			      json_string_value(json_object_get(found, rsa ? "e" : "y")), pem, e);
}

static bool aud_has(json_t *aud, const char *want)
{
	if (json_is_string(aud))
		return strcmp(json_string_value(aud), want) == 0;
	return lists(aud, want);
}

static int id_claims(json_t *c, const char *issuer, const char *client, const char *nonce,
		     int64_t now_s, struct err *e)
{
	const char *iss = json_string_value(json_object_get(c, "iss"));
	json_t *aud = json_object_get(c, "aud"), *exp = json_object_get(c, "exp");
	json_t *iat = json_object_get(c, "iat");
	const char *azp = json_string_value(json_object_get(c, "azp"));
	const char *n = json_string_value(json_object_get(c, "nonce"));
	if (!iss || strcmp(iss, issuer) != 0)
		return err_set(e, ERR_INVALID, "the ID token is from another issuer");
	if (!aud_has(aud, client) || (json_array_size(aud) > 1 && (!azp || strcmp(azp, client))))
		return err_set(e, ERR_INVALID, "the ID token is for another client");
	if (!json_is_number(exp) || json_number_value(exp) + SKEW_S <= (double)now_s)
		return err_set(e, ERR_INVALID, "the ID token has expired");
	if (!json_is_number(iat) || json_number_value(iat) - SKEW_S > (double)now_s)
		return err_set(e, ERR_INVALID, "the ID token was issued in the future");
	if (!n || strlen(n) != strlen(nonce) || !crypto_equal(n, nonce, strlen(nonce)))
		return err_set(e, ERR_INVALID, "the ID token's nonce is not this sign-in's");
	if (!json_is_string(json_object_get(c, "sub")))
		return err_set(e, ERR_INVALID, "the ID token has no subject (sub)");
	return 0;
}

int proxy_oidc_id_token(const char *token, const char *jwks_text, const char *issuer,
			const char *client, const char *nonce, int64_t now_s, json_t **claims,
			struct err *e)
{
	*claims = NULL;
	struct jwt_parts t;
	int rc = proxy_jwt_parse(token, MAX_ID_TOKEN, &t, e);
	if (rc)
		return rc;
	json_t *jwks = json_loads(jwks_text, 0, NULL);
	char *pem = NULL;
	if (strcmp(t.alg, "RS256") != 0 && strcmp(t.alg, "ES256") != 0)
		rc = err_set(e, ERR_CRYPTO, "the ID token is signed with %s, not RS256 or ES256",
			     strlen(t.alg) < 16 ? t.alg : "an unknown algorithm");
	else
		rc = find_key(jwks, t.alg, json_string_value(json_object_get(t.header, "kid")),
			      &pem, e);
	if (rc == 0)
		rc = crypto_jws_verify(t.alg, pem, token, t.signed_len, t.sig, t.sig_len, e);
	if (rc == 0)
		rc = id_claims(t.claims, issuer, client, nonce, now_s, e);
	free(pem);
	json_decref(jwks);
	if (rc == 0)
		*claims = json_incref(t.claims);
	proxy_jwt_release(&t);
	return rc;
}

/* ---------------------------------------------------------------- who signed in */

/* A claim as a user part: a string (or a whole number, as some providers give ids). */
static bool claim_part(json_t *v, char out[129])
{
	if (json_is_integer(v))
		snprintf(out, 129, "%lld", (long long)json_integer_value(v));
	else if (json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v))
		str_copy(out, json_string_value(v), 129);
	else
		return false;
	return proxy_user_part_ok(out);
}

static void add_attr(json_t *list, const char *key, json_t *v)
{
	const char *s = json_string_value(v);
	if (s && json_array_size(list) < MAX_ATTRS && json_string_length(v) <= 1024 &&
	    strlen(s) == json_string_length(v) && !str_has_ctl(s, false))
		json_array_append_new(list, json_pack("{s:s}", key, s));
}

int proxy_oidc_user(json_t *claims, const struct vproxy *vp, struct oidc_user *u, struct err *e)
{
	memset(u, 0, sizeof(*u));
	if (!proxy_user_part_ok(vp->oidc_realm))
		return err_set(e, ERR_INVALID, "the virtual proxy's oidcRealm is not usable");
	str_copy(u->dir, vp->oidc_realm, sizeof(u->dir));
	if (!claim_part(json_object_get(claims, vp->oidc_sub), u->id))
		return err_set(e, ERR_INVALID,
			       "the provider gave no usable user id in claim \"%s\"", vp->oidc_sub);
	const char *name = json_string_value(json_object_get(claims, vp->oidc_name));
	if (name && strlen(name) <= 255 && !str_has_ctl(name, false))
		str_copy(u->name, name, sizeof(u->name));
	json_t *attrs = json_array();
	json_t *groups = json_object_get(claims, vp->oidc_groups);
	size_t i;
	json_t *g;
	if (json_is_string(groups))
		add_attr(attrs, "group", groups);
	json_array_foreach (groups, i, g)
		add_attr(attrs, "group", g);
	add_attr(attrs, "email", json_object_get(claims, vp->oidc_email));
	u->attrs = json_array_size(attrs) ? json_dumps(attrs, JSON_COMPACT) : NULL;
	json_decref(attrs);
	return 0;
}

/* ---------------------------------------------------------------- the flow */

static void oidc_page(struct http_req *r, const struct preq *pr, int status, const char *what)
{
	struct buf b;
	buf_init(&b, 1 << 14);
	int bad = buf_printf(&b,
			     "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
			     "<title>Sign-in failed</title><link rel=\"stylesheet\" "
			     "href=\"%s/sign-in.css\"></head>\n<body><main><h1>Sign-in failed</h1>"
			     "<p class=\"error\">",
			     pr->base);
	proxy_html_put(&b, what);
	bad |= buf_printf(&b, "</p><p><a href=\"%s/\">Sign in again</a></p></main></body></html>\n",
			  pr->base);
	proxy_respond_page(r, status, &b, bad);
}

/* https://HOST{base}/oidc/callback, from the request's Host; false when Host is not a plain
 * host name or address with an optional port. */
static bool callback_uri(struct http_req *r, const struct preq *pr, char *out, size_t n)
{
	const char *host = http_req_header(r, "Host");
	size_t hl = host ? strlen(host) : 0;
	if (!hl || hl > 255 ||
	    strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.:[]") !=
		hl)
		return false;
	return snprintf(out, n, "https://%s%s/oidc/callback", host, pr->base) < (int)n;
}

static const char *flow_cookie(struct http_req *r, const struct vproxy *vp)
{
	return arena_printf(http_req_arena(r), "%s-oidc", vp->cookie);
}

void proxy_oidc_start(struct proxy *p, struct http_req *r, const struct preq *pr, const char *back)
{
	const struct vproxy *vp = &pr->vp;
	struct arena *a = http_req_arena(r);
	char cb[1400];
	if (!vp->oidc_url[0] || !vp->oidc_client[0]) {
		oidc_page(r, pr, 500,
			  "This virtual proxy signs people in with OpenID Connect, but its "
			  "provider (oidcConfigurationEndpointUri, oidcClientId) is not set.");
		return;
	}
	if (!callback_uri(r, pr, cb, sizeof(cb))) {
		oidc_page(r, pr, 400, "The request's Host header is not a host name.");
		return;
	}
	struct oidc_provider pv;
	struct err e;
	err_init(&e);
	if (provider_get(p, vp, false, &pv, &e) != 0) {
		log_error("proxy: %s: OpenID Connect provider %s: %s", http_req_peer(r),
			  vp->oidc_url, e.message);
		oidc_page(r, pr, 502, "The identity provider cannot be reached; try again later.");
		return;
	}
	free(pv.jwks);
	char state[FLOW_LEN], nonce[FLOW_LEN], verifier[FLOW_LEN], challenge[44];
	crypto_random_token(FLOW_RANDOM, state);
	crypto_random_token(FLOW_RANDOM, nonce);
	crypto_random_token(FLOW_RANDOM, verifier);
	crypto_sha256_b64url(verifier, strlen(verifier), challenge);
	if (!proxy_local_target(back))
		back = arena_printf(a, "%s/", pr->base);
	http_add_header(r, "Set-Cookie",
			arena_printf(a,
				     "%s=s=%s&v=%s&n=%s&b=%s; Path=/; Max-Age=%d; Secure; "
				     "HttpOnly; SameSite=Lax",
				     flow_cookie(r, vp), state, verifier, nonce,
				     str_url_encode(a, back), FLOW_S));
	const char *loc = arena_printf(
	    a,
	    "%s%sresponse_type=code&client_id=%s&redirect_uri=%s&scope=%s&state=%s&nonce=%s&"
	    "code_challenge=%s&code_challenge_method=S256",
	    pv.authz, strchr(pv.authz, '?') ? "&" : "?", str_url_encode(a, vp->oidc_client),
	    str_url_encode(a, cb), str_url_encode(a, vp->oidc_scope), state, nonce, challenge);
	explicit_bzero(verifier, sizeof(verifier));
	http_add_header(r, "Location", loc);
	http_add_header(r, "Cache-Control", "no-store");
	proxy_page_headers(r);
	http_respond(r, 302, "text/plain; charset=utf-8", "", 0);
}

/* Redeems the code: the token endpoint's answer. */
static int redeem(const struct vproxy *vp, const struct oidc_provider *pv, struct arena *a,
		  const char *code, const char *cb, const char *verifier, json_t **out,
		  struct err *e)
{
	const char *body = arena_printf(
	    a,
	    "grant_type=authorization_code&code=%s&redirect_uri=%s&code_verifier=%s&client_id=%s",
	    str_url_encode(a, code), str_url_encode(a, cb), verifier,
	    str_url_encode(a, vp->oidc_client));
	const char *headers[4] = {"Content-Type: application/x-www-form-urlencoded",
				  "Accept: application/json", NULL, NULL};
	if (vp->oidc_secret[0] && pv->post_secret) {
		body = arena_printf(a, "%s&client_secret=%s", body,
				    str_url_encode(a, vp->oidc_secret));
	} else if (vp->oidc_secret[0]) {
		/* RFC 6749 2.3.1: both parts form-encoded before they are joined */
		const char *pair = arena_printf(a, "%s:%s", str_url_encode(a, vp->oidc_client),
						str_url_encode(a, vp->oidc_secret));
		size_t cap = strlen(pair) * 4 / 3 + 8;
		char *b64 = arena_alloc(a, cap);
		if (!crypto_base64(pair, strlen(pair), b64, cap))
			return err_set(e, ERR_NOMEM, "out of memory");
		headers[2] = arena_printf(a, "Authorization: Basic %s", b64);
	}
	return call_json(vp, "POST", pv->token, headers, body, out, e);
}

/* Adds the user info's claims that the ID token lacks; its subject must be the token's. */
static int merge_userinfo(const struct vproxy *vp, const struct oidc_provider *pv, struct arena *a,
			  const char *access, json_t *claims, struct err *e)
{
	if (!pv->userinfo[0] || !access)
		return 0;
	const char *headers[] = {arena_printf(a, "Authorization: Bearer %s", access),
				 "Accept: application/json", NULL};
	json_t *info = NULL;
	int rc = call_json(vp, "GET", pv->userinfo, headers, NULL, &info, e);
	if (rc)
		return rc;
	json_t *sub = json_object_get(info, "sub");
	if (!json_is_string(sub) || !json_equal(sub, json_object_get(claims, "sub")))
		rc = err_set(e, ERR_INVALID, "the user info is about another subject");
	const char *k;
	json_t *v;
	json_object_foreach (info, k, v)
		if (rc == 0 && !json_object_get(claims, k))
			json_object_set(claims, k, v);
	json_decref(info);
	return rc;
}

/* The claims of the person the provider vouches for, from the code. */
static int claims_of(struct proxy *p, const struct vproxy *vp, struct arena *a, const char *code,
		     const char *cb, const char *verifier, const char *nonce, json_t **claims,
		     struct err *e)
{
	struct oidc_provider pv;
	int rc = provider_get(p, vp, false, &pv, e);
	if (rc)
		return rc;
	json_t *tok = NULL;
	rc = redeem(vp, &pv, a, code, cb, verifier, &tok, e);
	const char *id_token = json_string_value(json_object_get(tok, "id_token"));
	if (rc == 0 && !id_token)
		rc = err_set(e, ERR_INVALID, "the token endpoint gave no ID token");
	int64_t now_s = time_now_ms() / 1000;
	if (rc == 0) {
		rc = proxy_oidc_id_token(id_token, pv.jwks, pv.issuer, vp->oidc_client, nonce,
					 now_s, claims, e);
		if (rc == ERR_NOT_FOUND) { /* a key the cache lacks: the provider rotated */
			free(pv.jwks);
			pv.jwks = NULL;
			rc = provider_get(p, vp, true, &pv, e);
			if (rc == 0)
				rc = proxy_oidc_id_token(id_token, pv.jwks, pv.issuer,
							 vp->oidc_client, nonce, now_s, claims, e);
		}
	}
	if (rc == 0)
		rc = merge_userinfo(vp, &pv, a,
				    json_string_value(json_object_get(tok, "access_token")),
				    *claims, e);
	if (rc) {
		json_decref(*claims);
		*claims = NULL;
	}
	json_decref(tok);
	free(pv.jwks);
	return rc;
}

/* Signs the person in: the user made or brought up to date, a session with the
 * attributes. */
static int sign_in(struct proxy *p, struct http_req *r, const struct preq *pr,
		   const struct oidc_user *u, struct err *e)
{
	char ref[UUID_STR_LEN + 1], sid[SESSION_ID_LEN + 1];
	int rc = repo_user_ensure(p->cfg.repository, u->dir, u->id, ref, e);
	if (rc == 0)
		rc = repo_user_sync(p->cfg.repository, ref, u->name[0] ? u->name : NULL,
				    u->attrs ? u->attrs : "[]", e);
	if (rc == 0)
		rc =
		    proxy_session_create(p, pr->vp.prefix, ref, http_req_peer(r), u->attrs, sid, e);
	if (rc == 0)
		proxy_set_cookie(r, &pr->vp, sid);
	explicit_bzero(sid, sizeof(sid));
	return rc;
}

void proxy_oidc_callback(struct proxy *p, struct http_req *r, const struct preq *pr)
{
	const struct vproxy *vp = &pr->vp;
	struct arena *a = http_req_arena(r);
	const char *addr = http_req_peer(r);
	const char *error = http_req_query(r, "error");
	const char *state = http_req_query(r, "state"), *code = http_req_query(r, "code");
	char flow[2048], st[FLOW_LEN], verifier[FLOW_LEN], nonce[FLOW_LEN], back[1100], cb[1400];
	const char *cookie = http_req_header(r, "Cookie");
	bool have = cookie && proxy_cookie_value(cookie, flow_cookie(r, vp), flow, sizeof(flow)) &&
		    proxy_form_value(flow, strlen(flow), "s", st, sizeof(st)) &&
		    proxy_form_value(flow, strlen(flow), "v", verifier, sizeof(verifier)) &&
		    proxy_form_value(flow, strlen(flow), "n", nonce, sizeof(nonce)) &&
		    proxy_form_value(flow, strlen(flow), "b", back, sizeof(back));
	http_add_header(r, "Set-Cookie",
			arena_printf(a, "%s=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax",
				     flow_cookie(r, vp)));
	http_add_header(r, "Cache-Control", "no-store");
	if (error) {
		log_warn("proxy: %s: the identity provider refused a sign-in: %.100s", addr, error);
		oidc_page(r, pr, 401, "The identity provider did not sign you in.");
		return;
	}
	if (!have || !state || strlen(state) != strlen(st) ||
	    !crypto_equal(state, st, strlen(st))) {
		log_warn("proxy: %s: an OpenID Connect callback that this browser did not start "
			 "(or older than %d s) was refused",
			 addr, FLOW_S);
		oidc_page(r, pr, 403,
			  "This sign-in was not started by this browser, or took longer than ten "
			  "minutes.");
		return;
	}
	if (!code || !*code || strlen(code) > 2048 || !callback_uri(r, pr, cb, sizeof(cb))) {
		oidc_page(r, pr, 400, "The identity provider sent no authorization code.");
		return;
	}
	json_t *claims = NULL;
	struct oidc_user u = {0};
	struct err e;
	err_init(&e);
	int rc = claims_of(p, vp, a, code, cb, verifier, nonce, &claims, &e);
	explicit_bzero(verifier, sizeof(verifier));
	if (rc == 0)
		rc = proxy_oidc_user(claims, vp, &u, &e);
	json_decref(claims);
	if (rc) {
		log_warn("proxy: %s: OpenID Connect sign-in refused: %s", addr, e.message);
		oidc_page(
		    r, pr, rc == ERR_UNAVAILABLE ? 502 : 403,
		    rc == ERR_UNAVAILABLE ? "The identity provider cannot be reached; try again."
		    : rc == ERR_FORBIDDEN ? "The identity provider refused this sign-in."
					  : "The identity provider's answer was not accepted.");
		return;
	}
	rc = sign_in(p, r, pr, &u, &e);
	free(u.attrs);
	if (rc) {
		log_error("proxy: %s: OpenID Connect sign-in of %s\\%s: %s", addr, u.dir, u.id,
			  e.message);
		oidc_page(r, pr, 503, "The repository database is not answering; try again.");
		return;
	}
	log_info("proxy: %s: %s\\%s signed in through OpenID Connect", addr, u.dir, u.id);
	http_add_header(r, "Location", proxy_local_target(back) ? back : "/");
	proxy_page_headers(r);
	http_respond(r, 302, "text/plain; charset=utf-8", "", 0);
}
