/* jwt.c: JSON Web Tokens as bearer credentials at a virtual proxy of method JWT.
 *
 * A token is three base64url parts: a header naming the algorithm, the claims, and the
 * signature over the first two. The algorithm must suit the proxy's key (a PEM key for
 * RS256 or ES256, a shared secret for HS256; "none" never), so a token cannot choose how
 * it is checked. */
#include "proxy/proxy_int.h"
#include "crypto/crypto.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKEN 8192
#define SKEW_S	  60

/* Decodes part [s, s + n) as base64url JSON into an object. */
static json_t *part_json(const char *s, size_t n)
{
	unsigned char buf[16384];
	size_t len = 0;
	if (!crypto_base64url_decode(s, n, buf, sizeof(buf), &len))
		return NULL;
	json_t *o = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static bool aud_has(json_t *aud, const char *want)
{
	if (json_is_string(aud))
		return strcmp(json_string_value(aud), want) == 0;
	size_t i;
	json_t *it;
	json_array_foreach (aud, i, it)
		if (json_is_string(it) && strcmp(json_string_value(it), want) == 0)
			return true;
	return false;
}

/* A user part from a claim: text without control characters or backslash, 1 to 128 bytes. */
static bool claim_text(json_t *v, char out[129])
{
	const char *s = json_string_value(v);
	if (!s || strlen(s) != json_string_length(v) || !proxy_user_part_ok(s))
		return false;
	str_copy(out, s, 129);
	return true;
}

static int claims(json_t *c, const struct vproxy *vp, int64_t now_s, char dir[129], char id[129],
		  struct err *e)
{
	json_t *exp = json_object_get(c, "exp"), *nbf = json_object_get(c, "nbf");
	if (!json_is_number(exp))
		return err_set(e, ERR_INVALID, "the token has no expiry (exp)");
	if (json_number_value(exp) + SKEW_S <= (double)now_s)
		return err_set(e, ERR_INVALID, "the token has expired");
	if (nbf && (!json_is_number(nbf) || json_number_value(nbf) - SKEW_S > (double)now_s))
		return err_set(e, ERR_INVALID, "the token is not valid yet (nbf)");
	const char *iss = json_string_value(json_object_get(c, "iss"));
	if (vp->jwt_iss[0] && (!iss || strcmp(iss, vp->jwt_iss) != 0))
		return err_set(e, ERR_INVALID, "the token is from another issuer");
	if (vp->jwt_aud[0] && !aud_has(json_object_get(c, "aud"), vp->jwt_aud))
		return err_set(e, ERR_INVALID, "the token is for another audience");
	if (!claim_text(json_object_get(c, vp->jwt_user), id))
		return err_set(e, ERR_INVALID, "the token has no user id in claim \"%s\"",
			       vp->jwt_user);
	size_t dl = strlen(vp->jwt_dir);
	if (dl > 2 && vp->jwt_dir[0] == '[' && vp->jwt_dir[dl - 1] == ']') {
		memcpy(dir, vp->jwt_dir + 1, dl - 2);
		dir[dl - 2] = '\0';
		if (!proxy_user_part_ok(dir))
			return err_set(e, ERR_INVALID,
				       "the virtual proxy's user directory is not usable");
	} else if (!dl || !claim_text(json_object_get(c, vp->jwt_dir), dir)) {
		return err_set(e, ERR_INVALID, "the token has no user directory");
	}
	return 0;
}

int proxy_jwt_parse(const char *token, size_t max, struct jwt_parts *out, struct err *e)
{
	memset(out, 0, sizeof(*out));
	size_t n = strlen(token);
	const char *d1 = memchr(token, '.', n);
	const char *d2 = d1 ? memchr(d1 + 1, '.', n - (size_t)(d1 + 1 - token)) : NULL;
	if (n > max || !d1 || !d2 || memchr(d2 + 1, '.', n - (size_t)(d2 + 1 - token)))
		return err_set(e, ERR_INVALID, "the token is not a JWT (three parts)");
	out->header = part_json(token, (size_t)(d1 - token));
	out->claims = part_json(d1 + 1, (size_t)(d2 - d1 - 1));
	out->alg = json_string_value(json_object_get(out->header, "alg"));
	out->signed_len = (size_t)(d2 - token);
	int rc = 0;
	if (!out->header || !out->claims || !out->alg)
		rc = err_set(e, ERR_INVALID, "the token's header or claims do not parse");
	else if (!crypto_base64url_decode(d2 + 1, n - (size_t)(d2 + 1 - token), out->sig,
					  sizeof(out->sig), &out->sig_len))
		rc = err_set(e, ERR_INVALID, "the token's signature does not parse");
	if (rc)
		proxy_jwt_release(out);
	return rc;
}

void proxy_jwt_release(struct jwt_parts *t)
{
	json_decref(t->header);
	json_decref(t->claims);
	t->header = t->claims = NULL;
	t->alg = NULL;
}

int proxy_jwt_check(const char *token, const struct vproxy *vp, int64_t now_s, char dir[129],
		    char id[129], struct err *e)
{
	struct jwt_parts t;
	int rc = proxy_jwt_parse(token, MAX_TOKEN, &t, e);
	if (rc)
		return rc;
	if (!vp->jwt_key[0])
		rc = err_set(e, ERR_CRYPTO, "the virtual proxy has no key for tokens");
	else
		rc =
		    crypto_jws_verify(t.alg, vp->jwt_key, token, t.signed_len, t.sig, t.sig_len, e);
	if (rc == 0)
		rc = claims(t.claims, vp, now_s, dir, id, e);
	proxy_jwt_release(&t);
	return rc;
}
