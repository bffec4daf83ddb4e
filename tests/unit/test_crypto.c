/* test_crypto.c: the site CA, node certificates, and SHA-256. */
#include "unit.h"

#include "crypto/crypto.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(ca_and_certs),
	    cmocka_unit_test(sha256),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
