/* test_crypto.c: the site CA, node certificates, and SHA-256. */
#include "unit.h"

#include "crypto/crypto.h"

#include <gnutls/x509.h>

static void ca_and_certs(void **state)
{
	(void)state;
	struct err e;
	err_init(&e);
	struct crypto_pem_pair ca = {0}, other = {0}, srv = {0}, cli = {0};
	assert_int_equal(crypto_ca_create("test CA", &ca, &e), 0);
	assert_non_null(strstr(ca.cert, "BEGIN CERTIFICATE"));
	assert_non_null(strstr(ca.key, "PRIVATE KEY"));
	const char *dns[] = {"localhost"};
	assert_int_equal(crypto_cert_issue(&ca, CRYPTO_CERT_SERVER, "node1", dns, 1, &srv, &e), 0);
	assert_int_equal(
	    crypto_cert_issue(&ca, CRYPTO_CERT_CLIENT, "QlikClient", NULL, 0, &cli, &e), 0);
	assert_int_equal(crypto_cert_verify(ca.cert, srv.cert, &e), 0);
	assert_int_equal(crypto_cert_verify(ca.cert, cli.cert, &e), 0);
	assert_int_equal(crypto_ca_create("other CA", &other, &e), 0);
	assert_int_equal(crypto_cert_verify(other.cert, srv.cert, &e), ERR_CRYPTO);
	err_init(&e);
	assert_int_equal(crypto_cert_verify(ca.cert, "garbage", &e), ERR_CRYPTO);
	assert_non_null(strstr(e.message, "does not parse"));
	struct crypto_pem_pair bad = {.cert = (char *)"x", .key = (char *)"y"}, out;
	err_init(&e);
	assert_int_equal(crypto_cert_issue(&bad, CRYPTO_CERT_CLIENT, "c", NULL, 0, &out, &e),
			 ERR_CRYPTO);
	assert_null(out.cert);
	crypto_pem_pair_release(&ca);
	crypto_pem_pair_release(&other);
	crypto_pem_pair_release(&srv);
	crypto_pem_pair_release(&cli);
}

/* Whether the server certificate `pem` is good for `host`, as a TLS client checks it. */
static bool good_for(const char *pem, const char *host)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t d = {(unsigned char *)pem, (unsigned)strlen(pem)};
	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	assert_int_equal(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM), 0);
	bool ok = gnutls_x509_crt_check_hostname(crt, host) != 0;
	gnutls_x509_crt_deinit(crt);
	return ok;
}

/* A node named by its address gets an address entry, which clients match (a DNS entry
 * "10.1.2.3" matches nothing). */
static void cert_for_an_address(void **state)
{
	(void)state;
	struct err e;
	err_init(&e);
	struct crypto_pem_pair ca = {0}, v4 = {0}, v6 = {0}, named = {0};
	assert_int_equal(crypto_ca_create("test CA", &ca, &e), 0);
	const char *dns[] = {"localhost", "10.9.9.9"};
	assert_int_equal(crypto_cert_issue(&ca, CRYPTO_CERT_SERVER, "10.1.2.3", dns, 2, &v4, &e),
			 0);
	assert_int_equal(crypto_cert_issue(&ca, CRYPTO_CERT_SERVER, "fd00::7", dns, 1, &v6, &e), 0);
	assert_int_equal(crypto_cert_issue(&ca, CRYPTO_CERT_SERVER, "node1", dns, 1, &named, &e),
			 0);
	assert_true(good_for(v4.cert, "10.1.2.3"));
	assert_true(good_for(v4.cert, "10.9.9.9"));
	assert_true(good_for(v4.cert, "localhost"));
	assert_true(good_for(v4.cert, "127.0.0.1"));
	assert_false(good_for(v4.cert, "10.1.2.4"));
	assert_true(good_for(v6.cert, "fd00::7"));
	assert_true(good_for(named.cert, "node1"));
	assert_false(good_for(named.cert, "10.1.2.3"));
	crypto_pem_pair_release(&ca);
	crypto_pem_pair_release(&v4);
	crypto_pem_pair_release(&v6);
	crypto_pem_pair_release(&named);
}

static void sha256(void **state)
{
	(void)state;
	struct err e;
	err_init(&e);
	struct crypto_sha256 *h;
	assert_int_equal(crypto_sha256_new(&h, &e), 0);
	crypto_sha256_update(h, "a", 1);
	crypto_sha256_update(h, "bc", 2);
	char hex[65];
	crypto_sha256_finish(h, hex);
	assert_string_equal(hex,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(crypto_sha256_new(&h, &e), 0);
	crypto_sha256_free(h);
}

static void secret_boxes(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	char path[4200], other[4200];
	snprintf(path, sizeof(path), "%s/secret.key", dir);
	snprintf(other, sizeof(other), "%s/other.key", dir);
	struct err e;
	err_init(&e);
	assert_int_equal(crypto_key_create(path, &e), 0);
	assert_int_equal(crypto_key_create(path, &e), ERR_CRYPTO); /* never overwrites a key */
	err_init(&e);
	assert_int_equal(crypto_key_create(other, &e), 0);
	unsigned char k1[CRYPTO_KEY_LEN], k2[CRYPTO_KEY_LEN];
	assert_int_equal(crypto_key_load(path, k1, &e), 0);
	assert_int_equal(crypto_key_load(other, k2, &e), 0);
	char *sealed, *again, *plain;
	assert_int_equal(crypto_seal(k1, "pa ss'word", &sealed, &e), 0);
	assert_int_equal(strncmp(sealed, "sbox:", 5), 0);
	assert_null(strstr(sealed, "pa ss"));
	assert_int_equal(crypto_seal(k1, "pa ss'word", &again, &e), 0);
	assert_string_not_equal(sealed, again); /* a fresh nonce each time */
	assert_int_equal(crypto_unseal(k1, sealed, &plain, &e), 0);
	assert_string_equal(plain, "pa ss'word");
	free(plain);
	assert_int_equal(crypto_unseal(k2, sealed, &plain, &e), ERR_CRYPTO);
	assert_non_null(strstr(e.message, "another key"));
	assert_null(plain);
	err_init(&e);
	assert_int_equal(crypto_unseal(k1, "plain text", &plain, &e), ERR_CRYPTO);
	err_init(&e);
	assert_int_equal(crypto_unseal(k1, "sbox:!!!", &plain, &e), ERR_CRYPTO);
	err_init(&e);
	assert_int_equal(crypto_unseal(k1, "sbox:AAAA", &plain, &e), ERR_CRYPTO);
	snprintf(path, sizeof(path), "%s/missing.key", dir);
	err_init(&e);
	assert_int_equal(crypto_key_load(path, k1, &e), ERR_CRYPTO);
	assert_non_null(strstr(e.message, "cannot read key file"));
	free(sealed);
	free(again);
	rm_tree(dir);
}

static void passwords_and_tokens(void **state)
{
	(void)state;
	struct err e;
	err_init(&e);
	char h1[CRYPTO_PWHASH_LEN], h2[CRYPTO_PWHASH_LEN];
	assert_int_equal(crypto_password_hash("correct horse", h1, &e), 0);
	assert_int_equal(crypto_password_hash("correct horse", h2, &e), 0);
	assert_true(str_has_prefix(h1, "$argon2id$"));
	assert_string_not_equal(h1, h2); /* salted */
	assert_true(crypto_password_verify(h1, "correct horse"));
	assert_true(crypto_password_verify(h2, "correct horse"));
	assert_false(crypto_password_verify(h1, "correct horsE"));
	assert_false(crypto_password_verify(h1, ""));
	assert_false(crypto_password_verify("", "correct horse"));
	assert_false(crypto_password_verify("$argon2id$v=19$m=1,t=1,p=1$garbage", "x"));
	/* the interactive cost, unless the test suites' variable says the least; a hash
	 * verifies at the cost it names either way */
	const char *was = getenv("FATHOM_TEST_WEAK_PASSWORD_HASH");
	char *keep = was ? strdup(was) : NULL;
	unsetenv("FATHOM_TEST_WEAK_PASSWORD_HASH");
	assert_int_equal(crypto_password_hash("pw", h1, &e), 0);
	assert_true(str_has_prefix(h1, "$argon2id$v=19$m=65536,t=2,p=1$"));
	setenv("FATHOM_TEST_WEAK_PASSWORD_HASH", "1", 1);
	assert_true(crypto_password_hash_weak());
	assert_int_equal(crypto_password_hash("pw", h2, &e), 0);
	assert_true(str_has_prefix(h2, "$argon2id$v=19$m=8,t=1,p=1$"));
	assert_true(crypto_password_verify(h1, "pw") && crypto_password_verify(h2, "pw"));
	assert_false(crypto_password_verify(h2, "pW"));
	if (keep)
		setenv("FATHOM_TEST_WEAK_PASSWORD_HASH", keep, 1);
	else
		unsetenv("FATHOM_TEST_WEAK_PASSWORD_HASH");
	free(keep);
	char t1[64], t2[64];
	assert_int_equal(crypto_token_len(32), 44);
	crypto_random_token(32, t1);
	crypto_random_token(32, t2);
	assert_int_equal(strlen(t1), 43);
	assert_string_not_equal(t1, t2);
	assert_int_equal(
	    strspn(t1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 43);
	char hex[65];
	crypto_sha256_hex("abc", 3, hex);
	assert_string_equal(hex,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_true(crypto_equal("abcd", "abcd", 4));
	assert_false(crypto_equal("abcd", "abce", 4));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(ca_and_certs), cmocka_unit_test(cert_for_an_address),
	    cmocka_unit_test(sha256),	    cmocka_unit_test(passwords_and_tokens),
	    cmocka_unit_test(secret_boxes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
