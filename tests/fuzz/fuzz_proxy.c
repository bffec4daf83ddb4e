/* fuzz_proxy.c: the proxy's parsers of what a browser sends before it is signed in: the
 * Cookie header, the sign-in form body, the target a sign-in sends it back to (and the same
 * text as a file of the hub), a JWT (checked against an HS256 secret, so that a token the
 * fuzzer signs itself is impossible and every accepted one would be a bug), an OpenID
 * Connect ID token (against a key set of one P-256 key, likewise; the seeds are real
 * tokens of that key, refused only for their nonce) and the claims an
 * identity provider gives (the user they name must be usable). The first byte picks the parser.
 * Nothing may crash or read past the input, and what comes out must fit and hold no NUL. */
#include "proxy/proxy_int.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	/* exactly the input, so that ASan sees a read past it */
	char *body = malloc(size - 1 ? size - 1 : 1);
	memcpy(body, data + 1, size - 1);
	char *text = malloc(size);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	char out[64];
	switch (data[0] % 6) {
	case 4: {
		static const char jwks[] =
		    "{\"keys\":[{\"kty\":\"EC\",\"x\":\"_XMOBfM-"
		    "ehF5fKKqBOTeKfre3lVWgjReHHKnUxeVIHg\","
		    "\"y\":\"5PCEfDbQE9WL07UL4legtX4_HLND2_W_G_3sJ4TRddc\",\"crv\":\"P-256\","
		    "\"kid\":\"e1\",\"use\":\"sig\"}]}";
		json_t *claims = NULL;
		struct err e;
		err_init(&e);
		if (proxy_oidc_id_token(text, jwks, "https://idp.test", "fathom", "N-fuzz",
					1800000000, &claims, &e) == 0 ||
		    claims)
			abort();
		break;
	}
	case 5: {
		static struct vproxy vp = {.oidc_realm = "CORP",
					   .oidc_sub = "sub",
					   .oidc_name = "name",
					   .oidc_groups = "groups",
					   .oidc_email = "email"};
		json_t *claims = json_loads(text, 0, NULL);
		struct oidc_user u;
		struct err e;
		err_init(&e);
		if (claims && proxy_oidc_user(claims, &vp, &u, &e) == 0) {
			json_t *attrs = u.attrs ? json_loads(u.attrs, 0, NULL) : NULL;
			if (!proxy_user_part_ok(u.id) || strcmp(u.dir, "CORP") != 0 ||
			    (u.attrs && !json_is_array(attrs)) || str_has_ctl(u.name, false))
				abort();
			json_decref(attrs);
			free(u.attrs);
		}
		json_decref(claims);
		break;
	}
	case 3: {
		static struct vproxy vp = {.jwt_user = "sub", .jwt_dir = "[CORP]"};
		str_copy(vp.jwt_key, "a secret the fuzzer does not know", sizeof(vp.jwt_key));
		char dir[129], id[129];
		struct err e;
		err_init(&e);
		if (proxy_jwt_check(text, &vp, 1700000000, dir, id, &e) == 0)
			abort();
		break;
	}
	case 0:
		if (proxy_cookie_value(text, PROXY_COOKIE, out, sizeof(out)) &&
		    (strlen(out) == 0 || strlen(out) >= sizeof(out)))
			abort();
		break;
	case 1: {
		static const char *const names[] = {"username", "password", "next", "a"};
		for (size_t i = 0; i < 4; i++)
			if (proxy_form_value(body, size - 1, names[i], out, sizeof(out)) &&
			    strlen(out) >= sizeof(out))
				abort();
		break;
	}
	default:
		if (proxy_local_target(text) && (text[0] != '/' || text[1] == '/'))
			abort();
		/* the same text as a path below the hub's folder: one that passes never climbs
		 * out of it, names a hidden file, or holds anything but the plain characters */
		if (proxy_hub_path_ok(text) &&
		    (text[0] == '/' || text[0] == '.' || strstr(text, "//") || strstr(text, "/.") ||
		     text[strlen(text) - 1] == '/' ||
		     strspn(text,
			    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./") !=
			 strlen(text)))
			abort();
	}
	free(text);
	free(body);
	return 0;
}
