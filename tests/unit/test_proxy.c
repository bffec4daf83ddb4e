/* test_proxy.c: the proxy's parsers of untrusted input: cookies, form bodies, the targets
 * a sign-in may send a browser to, and OpenID Connect ID tokens and claims (fixed keys and
 * tokens made once with Node.js's crypto). (Sign-in, sessions and forwarding are tested
 * end to end in tests/integration/proxy.bats and tests/qix.) */
#include "unit.h"

#include "proxy/proxy_int.h"
#include "crypto/crypto.h"

#include <stdlib.h>
#include <string.h>

static void cookies(void **state)
{
	(void)state;
	char v[64];
	assert_true(proxy_cookie_value("X-Qlik-Session=abc", PROXY_COOKIE, v, sizeof(v)));
	assert_string_equal(v, "abc");
	assert_true(proxy_cookie_value("a=1; X-Qlik-Session=xyz; b=2", PROXY_COOKIE, v, sizeof(v)));
	assert_string_equal(v, "xyz");
	assert_true(proxy_cookie_value("a=1;X-Qlik-Session=\"q\" ", PROXY_COOKIE, v, sizeof(v)));
	assert_string_equal(v, "q");
	/* a longer name that starts with ours is another cookie */
	assert_false(proxy_cookie_value("X-Qlik-Session2=no", PROXY_COOKIE, v, sizeof(v)));
	assert_false(proxy_cookie_value("x-qlik-session=case", PROXY_COOKIE, v, sizeof(v)));
	assert_false(proxy_cookie_value("X-Qlik-Session=", PROXY_COOKIE, v, sizeof(v)));
	assert_false(proxy_cookie_value("", PROXY_COOKIE, v, sizeof(v)));
	assert_false(proxy_cookie_value(";;;", PROXY_COOKIE, v, sizeof(v)));
	char small[4];
	assert_false(proxy_cookie_value("X-Qlik-Session=abcd", PROXY_COOKIE, small, sizeof(small)));
	assert_true(proxy_cookie_value("X-Qlik-Session=abc", PROXY_COOKIE, small, sizeof(small)));
}

static void forms(void **state)
{
	(void)state;
	char v[32];
	const char *b = "username=al%20ice&password=a+b%26c%3D&next=%2Fhub";
	size_t n = strlen(b);
	assert_true(proxy_form_value(b, n, "username", v, sizeof(v)));
	assert_string_equal(v, "al ice");
	assert_true(proxy_form_value(b, n, "password", v, sizeof(v)));
	assert_string_equal(v, "a b&c=");
	assert_true(proxy_form_value(b, n, "next", v, sizeof(v)));
	assert_string_equal(v, "/hub");
	assert_false(proxy_form_value(b, n, "user", v, sizeof(v)));
	assert_false(proxy_form_value(b, n, "name", v, sizeof(v)));
	/* the body is not NUL-terminated where the length ends */
	assert_true(proxy_form_value("a=1&b=2", 3, "a", v, sizeof(v)));
	assert_string_equal(v, "1");
	assert_false(proxy_form_value("a=1&b=2", 3, "b", v, sizeof(v)));
	assert_true(proxy_form_value("a=", 2, "a", v, sizeof(v)));
	assert_string_equal(v, "");
	/* malformed escapes, NULs and values too long are refused */
	assert_false(proxy_form_value("a=%4", 4, "a", v, sizeof(v)));
	assert_false(proxy_form_value("a=%zz", 5, "a", v, sizeof(v)));
	assert_false(proxy_form_value("a=%00x", 6, "a", v, sizeof(v)));
	assert_false(
	    proxy_form_value("a=0123456789012345678901234567890123", 35, "a", v, sizeof(v)));
}

static void targets(void **state)
{
	(void)state;
	assert_true(proxy_local_target("/"));
	assert_true(proxy_local_target("/hub/stream/1?x=y"));
	assert_false(proxy_local_target(""));
	assert_false(proxy_local_target("//evil.example/"));
	assert_false(proxy_local_target("/\\evil.example/"));
	assert_false(proxy_local_target("https://evil.example/"));
	assert_false(proxy_local_target("hub"));
	assert_false(proxy_local_target("/a\r\nSet-Cookie: x=y"));
	char long_path[1100];
	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[0] = '/';
	long_path[sizeof(long_path) - 1] = '\0';
	assert_false(proxy_local_target(long_path));
}

/* ---------------------------------------------------------------- OpenID Connect */

static const char jwks_text[] =
    "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"resoxQ_LMLqTu1aNOJvhzcdqAt1Fa9yE4ihHNOVgkDfb"
    "JzCH5WB-BYAYELYoOjoyIPOcgdTFXgTU-4Sx8D-323GfOG8_ZMFJQcOKphGgaJHC-_7JuAjo8CdCU48U"
    "GK9AXOb8PyDmKkehCncmjVD4WT17UQ6ZPBntzpYnnmp3Q7XT86tS4JAohwD6vPg-O55MR5OhIcj-dAKt"
    "-t-BX7IkMJj3Ozd7HVc6EEcVxJXTOQ09oN7Q6JyK_yObyLuB20n0lOgWP85TNP92nhhlXDglaAOBXkYr"
    "4mxz3D1SKH2dFmzhI38Kg_zHWsCRX69SsS-R5aIYYfJ08_pbDdzDovZQCQ\",\"e\":\"AQAB\",\"ki"
    "d\":\"r1\",\"use\":\"sig\"},{\"kty\":\"EC\",\"x\":\"_XMOBfM-ehF5fKKqBOTeKfre3lVW"
    "gjReHHKnUxeVIHg\",\"y\":\"5PCEfDbQE9WL07UL4legtX4_HLND2_W_G_3sJ4TRddc\",\"crv\":"
    "\"P-256\",\"kid\":\"e1\",\"use\":\"sig\"}]}";

static const char t_rs[] =
    "eyJhbGciOiJSUzI1NiIsImtpZCI6InIxIn0.eyJpc3MiOiJodHRwczovL2lkcC50ZXN0IiwiYXVkIjoi"
    "ZmF0aG9tIiwic3ViIjoiYWxpY2UiLCJub25jZSI6Ik4xIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjIw"
    "MDAwMDAwMDAsIm5hbWUiOiJBbGljZSIsImdyb3VwcyI6WyJnMSIsImcyIl0sImVtYWlsIjoiYUB4In0."
    "GQlhVc0Djmer-Ka1Vu3U51RJVAkjmFETnTZ3zphIPEZkagZcc2BeFHn4693am0GRdbIHRkp9MKRnYXQQ"
    "uIqCwlIUZvW3rInjYfes2RdAqZ4yoeCPzCDLmG8n4vek37v7aCw-7YCULY4lPd2nKN3x54ngz6CQlWQa"
    "Bi74sSX2TL84L2myw9OrGjWWfygfDNel3WU3zvsCcJX-rDdOdqkUukYrGBmlabaOhORUF_HceyHBn0Hu"
    "mU-U4hWCKUTJVC5yJmf_hEXnoPUhWVGqJKgjzbGD6OTV45r94xxtK93FWziCa_TCFKgIJhaIhydYSA5L"
    "ENIce-TiGyJ9LlBsDmi4sQ";

static const char t_es[] =
    "eyJhbGciOiJFUzI1NiIsImtpZCI6ImUxIn0.eyJpc3MiOiJodHRwczovL2lkcC50ZXN0IiwiYXVkIjoi"
    "ZmF0aG9tIiwic3ViIjoiYWxpY2UiLCJub25jZSI6Ik4xIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjIw"
    "MDAwMDAwMDAsIm5hbWUiOiJBbGljZSIsImdyb3VwcyI6WyJnMSIsImcyIl0sImVtYWlsIjoiYUB4In0."
    "SubJw1f1a7MqoZkyAKTGkNa0-6vMOgRbA4FJNll6DPDdhvNut-QmiPUPkRU_izGKTAcgM7I1LYfWAsh1"
    "ZaU4Lg";

static const char t_other_key[] =
    "eyJhbGciOiJSUzI1NiIsImtpZCI6InIxIn0.eyJpc3MiOiJodHRwczovL2lkcC50ZXN0IiwiYXVkIjoi"
    "ZmF0aG9tIiwic3ViIjoiYWxpY2UiLCJub25jZSI6Ik4xIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjIw"
    "MDAwMDAwMDAsIm5hbWUiOiJBbGljZSIsImdyb3VwcyI6WyJnMSIsImcyIl0sImVtYWlsIjoiYUB4In0."
    "iNwd33JkVKRCRtfUwupUsId9OBL1gZBj8ABWpNQsswPZlTQezJDrWOiTW-gdhaRrg5m-fmvRJ9fk3Y6s"
    "VIfeqLUrMgr_9Ip8C8q0WKyVFNWnrXIqwVAlPIF4I2sZbcXUpFEhZXGHtuQ-qiwwRWdlO2DT8CRkHlS6"
    "5ps005oyOMEyXee0uf_zIONFdjg4YZWfMPKBeXqWlHuZll9MlQ86qLa1-NAfygAWhnC0lo3hKuDPU4vA"
    "X_-0_RlQV-zFylZ-WTva_J25SwOOMHxCKLluJ8T0p_KyXmOX2d7Oz1NDOkvOrHRxSRpm8aybBUzInI8e"
    "RjiSVWzJJCWqHt-dHCP-8Q";

static const char t_unknown_kid[] =
    "eyJhbGciOiJSUzI1NiIsImtpZCI6InI5In0.eyJpc3MiOiJodHRwczovL2lkcC50ZXN0IiwiYXVkIjoi"
    "ZmF0aG9tIiwic3ViIjoiYWxpY2UiLCJub25jZSI6Ik4xIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjIw"
    "MDAwMDAwMDAsIm5hbWUiOiJBbGljZSIsImdyb3VwcyI6WyJnMSIsImcyIl0sImVtYWlsIjoiYUB4In0."
    "Xtozj-W8A_7_PhWtHujHwKPfMo8tMH_vxElIFgJ4tPJkuNoFVMNY4BMrUb9miUZm_8kce9_0I2Msx8tw"
    "stbQv96TxLbgExLtFZ2UPczjWATtCwE7RqP6Ed0IoZllFPHrHI5QbjoK77ehULKayZ42f30sVcMrFnR6"
    "yMC8TXJVFwrKy7HT_Vad64OzRvaCkDl_5HtTKrYkqXIGKvQa0tHY90mRzTiG8QhmCb1WY2dimB1Bu9XK"
    "LL5DQN7-APKbazc2NTyQeVDpD8Z9p-a93HuDU7MQFpyxnzfK3SLaJIOXeN8P7MP9gzdAvIqgjbEFM5Ql"
    "FAxNlsTmqUafUdTI97019A";

static const char t_expired[] =
    "eyJhbGciOiJSUzI1NiIsImtpZCI6InIxIn0.eyJpc3MiOiJodHRwczovL2lkcC50ZXN0IiwiYXVkIjoi"
    "ZmF0aG9tIiwic3ViIjoiYWxpY2UiLCJub25jZSI6Ik4xIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjE3"
    "MDAwMDAxMDAsIm5hbWUiOiJBbGljZSIsImdyb3VwcyI6WyJnMSIsImcyIl0sImVtYWlsIjoiYUB4In0."
    "Tu3LUZ2jwS_pekQJ-yIiZSQU_Ppvmcta74tQowPb7XvhncN96UtXarcKDDDp7EFfGSEys_X5PhUMtFx3"
    "12Yoz0LBS4Mref6ogwh5yQ_N8wlI9NvV4Gg7yF8H9pkXgMxtPDryE0lFysfY6vp_a49WpTHqhnS593ol"
    "477Tqdfb86iCyilcnjQKeXwi9oTcQcFrkzNCscVjEjs9347gmizWHGyv7vTHZH-sWs-CJZQO74gCtoHo"
    "kZGZlt3a9-jCUS67Xg9pBtaP1lD1TXCKWWe4eyYsp87YI7rhDrimIGPfbKh9c5THk3ADv6mpk81Ze8FO"
    "cUxvEMqGKXtJavfUXMSz6g";

static const char t_aud_multi[] =
    "eyJhbGciOiJSUzI1NiIsImtpZCI6InIxIn0.eyJpc3MiOiJodHRwczovL2lkcC50ZXN0IiwiYXVkIjpb"
    "ImZhdGhvbSIsIngiXSwic3ViIjoiYWxpY2UiLCJub25jZSI6Ik4xIiwiaWF0IjoxNzAwMDAwMDAwLCJl"
    "eHAiOjIwMDAwMDAwMDAsIm5hbWUiOiJBbGljZSIsImdyb3VwcyI6WyJnMSIsImcyIl0sImVtYWlsIjoi"
    "YUB4In0.Y1TlSKTJA-Kdb7MEOO4rreCnje2bagetKia1mcH84aZdal9P0ST356pz8Qo3WwD5uyzK1xul"
    "0NwFx6jEsY4Th7bWLzpIgltGlBW4l3zGnw8IL-Ou1QLbZt_gIjfBt44LSDNc1KQ7Mim1KFBDnGX6hECo"
    "B_NfhVeY3LLBDidb94gzqFo4ppUKR81BiIRH2FJpVQScKBT6_o8nkT4_tQBZA2_XUoTH23Y4--6ohnQZ"
    "Nl0aDYl_KAWVwgb7UQOTVzbytcIYljO58V0TJQ_Kz-ddmUPeYCdddpLki2yuYyUybkDK4wACLpRJ5XIv"
    "bDZ7Zi2HKL7Iq1PBENKYEWYGiwE1AA";

static const char t_aud_multi_azp[] =
    "eyJhbGciOiJSUzI1NiIsImtpZCI6InIxIn0.eyJpc3MiOiJodHRwczovL2lkcC50ZXN0IiwiYXVkIjpb"
    "ImZhdGhvbSIsIngiXSwic3ViIjoiYWxpY2UiLCJub25jZSI6Ik4xIiwiaWF0IjoxNzAwMDAwMDAwLCJl"
    "eHAiOjIwMDAwMDAwMDAsIm5hbWUiOiJBbGljZSIsImdyb3VwcyI6WyJnMSIsImcyIl0sImVtYWlsIjoi"
    "YUB4IiwiYXpwIjoiZmF0aG9tIn0.g5_-j6EmS0lrJE8Ue4ymm9O7CmYLSx1DWA58-eGZF_9N0iRoOKCO"
    "72nu-ut03tEgqaeAcd-k2wCmodIk_tMrV0gYLeJYZV-sFWj7ZIcRUYe0RadmoKQc0_SlxAmy0WS3LJOW"
    "MojnMXyqPe4NhnXbt-pvu9cFD3tIyH_vx6r1heOfXr1NViDGDKiV1Tegkvsj0Csrmjz89EyrrYsnObv4"
    "WUg_iTj0iiPbovV5-x_SElzGowsRw12w0bGv4_ADSFmffmcBgE_luKy-9vRTt9MXIDVPvIaSfEALBpbD"
    "ElKHT9sszOo2NV6ZdVyLgzoKhhp_BI5qDix0ojGWHmhEvo1HLQ";

static const char t_hs[] =
    "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJodHRwczovL2lkcC50ZXN0IiwiYXVkIjoiZmF0aG9tIiwic3V"
    "iIjoiYWxpY2UiLCJub25jZSI6Ik4xIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjIwMDAwMDAwMDAsIm5"
    "hbWUiOiJBbGljZSIsImdyb3VwcyI6WyJnMSIsImcyIl0sImVtYWlsIjoiYUB4In0.eHh4eHh4eHh4eHh"
    "4eHh4eHh4eHh4eHh4eHh4eHh4eHg";

#define NOW 1800000000

static int id_token(const char *tok, const char *iss, const char *client, const char *nonce,
		    int64_t now, json_t **claims)
{
	struct err e;
	err_init(&e);
	int rc = proxy_oidc_id_token(tok, jwks_text, iss, client, nonce, now, claims, &e);
	if (rc)
		assert_true(e.message[0] != '\0');
	return rc;
}

static void oidc_id_tokens(void **state)
{
	(void)state;
	json_t *c = NULL;
	const char *iss = "https://idp.test";
	/* RS256 and ES256, each by its key of the set */
	assert_int_equal(id_token(t_rs, iss, "fathom", "N1", NOW, &c), 0);
	assert_string_equal(json_string_value(json_object_get(c, "sub")), "alice");
	json_decref(c);
	assert_int_equal(id_token(t_es, iss, "fathom", "N1", NOW, &c), 0);
	json_decref(c);
	assert_int_equal(id_token(t_aud_multi_azp, iss, "fathom", "N1", NOW, &c), 0);
	json_decref(c);
	/* refused: another nonce, issuer or client; expired; issued later than now */
	assert_int_equal(id_token(t_rs, iss, "fathom", "N2", NOW, &c), ERR_INVALID);
	assert_null(c);
	assert_int_equal(id_token(t_rs, "https://idp.test/", "fathom", "N1", NOW, &c), ERR_INVALID);
	assert_int_equal(id_token(t_rs, iss, "other", "N1", NOW, &c), ERR_INVALID);
	assert_int_equal(id_token(t_expired, iss, "fathom", "N1", NOW, &c), ERR_INVALID);
	assert_int_equal(id_token(t_rs, iss, "fathom", "N1", 1600000000, &c), ERR_INVALID);
	/* two audiences and no azp naming us */
	assert_int_equal(id_token(t_aud_multi, iss, "fathom", "N1", NOW, &c), ERR_INVALID);
	/* signed by a key not in the set, or by one the set does not hold (the caller fetches
	 * the keys again), or with HS256 */
	assert_int_equal(id_token(t_other_key, iss, "fathom", "N1", NOW, &c), ERR_CRYPTO);
	assert_int_equal(id_token(t_unknown_kid, iss, "fathom", "N1", NOW, &c), ERR_NOT_FOUND);
	assert_int_equal(id_token(t_hs, iss, "fathom", "N1", NOW, &c), ERR_CRYPTO);
	/* one character of the claims changed */
	char *bent = strdup(t_rs);
	char *mid = strchr(bent, '.') + 20;
	*mid = *mid == 'A' ? 'B' : 'A';
	assert_int_not_equal(id_token(bent, iss, "fathom", "N1", NOW, &c), 0);
	free(bent);
	assert_int_equal(id_token("a.b", iss, "fathom", "N1", NOW, &c), ERR_INVALID);
	assert_int_equal(id_token("", iss, "fathom", "N1", NOW, &c), ERR_INVALID);
	assert_null(c);
}

static void oidc_users(void **state)
{
	(void)state;
	struct vproxy *vp = calloc(1, sizeof(*vp));
	str_copy(vp->oidc_realm, "CORP", sizeof(vp->oidc_realm));
	str_copy(vp->oidc_sub, "sub", sizeof(vp->oidc_sub));
	str_copy(vp->oidc_name, "name", sizeof(vp->oidc_name));
	str_copy(vp->oidc_groups, "groups", sizeof(vp->oidc_groups));
	str_copy(vp->oidc_email, "email", sizeof(vp->oidc_email));
	struct oidc_user u;
	struct err e;
	err_init(&e);
	json_t *c = json_loads("{\"sub\":\"alice\",\"name\":\"Alice A.\",\"groups\":[\"g1\",7,"
			       "\"g\\u0001\",\"g2\"],\"email\":\"a@x\"}",
			       0, NULL);
	assert_int_equal(proxy_oidc_user(c, vp, &u, &e), 0);
	assert_string_equal(u.dir, "CORP");
	assert_string_equal(u.id, "alice");
	assert_string_equal(u.name, "Alice A.");
	/* strings only, no control characters */
	assert_string_equal(u.attrs, "[{\"group\":\"g1\"},{\"group\":\"g2\"},{\"email\":\"a@x\"}]");
	free(u.attrs);
	json_decref(c);
	/* a numeric id is taken as text; one group as a string */
	c = json_loads("{\"sub\":42,\"groups\":\"solo\"}", 0, NULL);
	assert_int_equal(proxy_oidc_user(c, vp, &u, &e), 0);
	assert_string_equal(u.id, "42");
	assert_string_equal(u.name, "");
	assert_string_equal(u.attrs, "[{\"group\":\"solo\"}]");
	free(u.attrs);
	json_decref(c);
	/* an id that cannot stand in X-Qlik-User, or none */
	const char *bad[] = {"{\"sub\":\"a\\\\b\"}", "{\"sub\":\"x; UserId=admin\"}",
			     "{\"sub\":\"\"}", "{\"name\":\"n\"}", "{\"sub\":[\"a\"]}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = json_loads(bad[i], 0, NULL);
		assert_non_null(c);
		assert_int_equal(proxy_oidc_user(c, vp, &u, &e), ERR_INVALID);
		assert_null(u.attrs);
		json_decref(c);
	}
	free(vp);
}

static void jwk_keys(void **state)
{
	(void)state;
	char *pem = NULL;
	struct err e;
	err_init(&e);
	json_t *set = json_loads(jwks_text, 0, NULL);
	json_t *k = json_array_get(json_object_get(set, "keys"), 0);
	assert_int_equal(crypto_jwk_pem("RSA", NULL, json_string_value(json_object_get(k, "n")),
					json_string_value(json_object_get(k, "e")), &pem, &e),
			 0);
	assert_non_null(strstr(pem, "-----BEGIN PUBLIC KEY-----"));
	free(pem);
	k = json_array_get(json_object_get(set, "keys"), 1);
	assert_int_equal(crypto_jwk_pem("EC", "P-256", json_string_value(json_object_get(k, "x")),
					json_string_value(json_object_get(k, "y")), &pem, &e),
			 0);
	free(pem);
	assert_int_equal(crypto_jwk_pem("EC", "P-384", "AAAA", "AAAA", &pem, &e), ERR_CRYPTO);
	assert_int_equal(crypto_jwk_pem("oct", NULL, "AAAA", "AAAA", &pem, &e), ERR_CRYPTO);
	assert_int_equal(crypto_jwk_pem("RSA", NULL, "not base64!", "AQAB", &pem, &e), ERR_CRYPTO);
	assert_int_equal(crypto_jwk_pem("RSA", NULL, NULL, "AQAB", &pem, &e), ERR_CRYPTO);
	assert_int_equal(crypto_jwk_pem(NULL, NULL, "AQAB", "AQAB", &pem, &e), ERR_CRYPTO);
	assert_null(pem);
	json_decref(set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(cookies),	  cmocka_unit_test(forms),
	    cmocka_unit_test(targets),	  cmocka_unit_test(oidc_id_tokens),
	    cmocka_unit_test(oidc_users), cmocka_unit_test(jwk_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
