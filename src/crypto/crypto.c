/* crypto.c: the site CA and node certificates with GnuTLS; SHA-256 with gnutls_hash. */
#include "crypto/crypto.h"

#include <arpa/inet.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <sodium.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TEN_YEARS (10L * 365 * 24 * 3600)

void crypto_pem_pair_release(struct crypto_pem_pair *p)
{
	free(p->cert);
	free(p->key);
	p->cert = p->key = NULL;
}

static int gerr(struct err *e, int rc, const char *what)
{
	return err_set(e, ERR_CRYPTO, "cannot %s: %s", what, gnutls_strerror(rc));
}

static char *datum_str(gnutls_datum_t *d)
{
	char *s = malloc(d->size + 1);
	if (s) {
		memcpy(s, d->data, d->size);
		s[d->size] = '\0';
	}
	gnutls_free(d->data);
	d->data = NULL;
	return s;
}

static int export_pair(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key,
		       struct crypto_pem_pair *out, struct err *e)
{
	gnutls_datum_t d = {0};
	int rc = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d);
	if (rc < 0)
		return gerr(e, rc, "export a certificate");
	out->cert = datum_str(&d);
	rc = gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &d);
	if (rc < 0) {
		crypto_pem_pair_release(out);
		return gerr(e, rc, "export a private key");
	}
	out->key = datum_str(&d);
	if (!out->cert || !out->key) {
		crypto_pem_pair_release(out);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	return 0;
}

/* Fills the fields every certificate shares. */
static int base_cert(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, const char *cn,
		     struct err *e)
{
	unsigned char serial[16];
	int rc = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial));
	serial[0] &= 0x7f;
	if (rc == 0)
		rc = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial));
	if (rc == 0)
		rc = gnutls_x509_crt_set_version(crt, 3);
	time_t now = time(NULL);
	if (rc == 0)
		rc = gnutls_x509_crt_set_activation_time(crt, now - 3600);
	if (rc == 0)
		rc = gnutls_x509_crt_set_expiration_time(crt, now + TEN_YEARS);
	if (rc == 0)
		rc = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
						   (unsigned)strlen(cn));
	if (rc == 0)
		rc = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0,
						   "Fathom", 6);
	if (rc == 0)
		rc = gnutls_x509_crt_set_key(crt, key);
	if (rc == 0) {
		unsigned char kid[64];
		size_t kid_len = sizeof(kid);
		rc = gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA1, kid, &kid_len);
		if (rc == 0)
			rc = gnutls_x509_crt_set_subject_key_id(crt, kid, kid_len);
	}
	return rc < 0 ? gerr(e, rc, "fill a certificate") : 0;
}

/* A fresh ECDSA P-256 key and a certificate for it, named `cn`, not yet signed. */
static int new_cert(const char *cn, gnutls_x509_crt_t *crt, gnutls_x509_privkey_t *key,
		    struct err *e)
{
	int rc = gnutls_x509_privkey_init(key);
	if (rc == 0)
		rc = gnutls_x509_privkey_generate(
		    *key, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
	if (rc == 0)
		rc = gnutls_x509_crt_init(crt);
	if (rc < 0)
		return gerr(e, rc, "generate a key");
	return base_cert(*crt, *key, cn, e);
}

int crypto_ca_create(const char *cn, struct crypto_pem_pair *out, struct err *e)
{
	memset(out, 0, sizeof(*out));
	gnutls_x509_crt_t crt = NULL;
	gnutls_x509_privkey_t key = NULL;
	int rc = new_cert(cn, &crt, &key, e);
	if (rc)
		goto out;
	rc = gnutls_x509_crt_set_basic_constraints(crt, 1, -1);
	if (rc == 0)
		rc = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_KEY_CERT_SIGN |
							    GNUTLS_KEY_CRL_SIGN |
							    GNUTLS_KEY_DIGITAL_SIGNATURE);
	if (rc == 0)
		rc = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0);
	if (rc < 0) {
		rc = gerr(e, rc, "sign the CA certificate");
		goto out;
	}
	rc = export_pair(crt, key, out, e);
out:
	if (crt)
		gnutls_x509_crt_deinit(crt);
	if (key)
		gnutls_x509_privkey_deinit(key);
	return rc;
}

static int import_ca(const struct crypto_pem_pair *ca, gnutls_x509_crt_t *crt,
		     gnutls_x509_privkey_t *key, struct err *e)
{
	gnutls_datum_t c = {(unsigned char *)ca->cert, (unsigned)strlen(ca->cert)};
	gnutls_datum_t k = {(unsigned char *)ca->key, (unsigned)strlen(ca->key)};
	int rc = gnutls_x509_crt_init(crt);
	if (rc == 0)
		rc = gnutls_x509_crt_import(*crt, &c, GNUTLS_X509_FMT_PEM);
	if (rc == 0)
		rc = gnutls_x509_privkey_init(key);
	if (rc == 0)
		rc = gnutls_x509_privkey_import(*key, &k, GNUTLS_X509_FMT_PEM);
	return rc < 0 ? gerr(e, rc, "read the site's CA") : 0;
}

/* A host name as a DNS name, or as an address when it is one (a node named by its IP
 * address: clients match an address only against IP address entries). */
static int add_name(gnutls_x509_crt_t crt, const char *name)
{
	unsigned char ip[16];
	if (inet_pton(AF_INET, name, ip) == 1)
		return gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip, 4,
							    GNUTLS_FSAN_APPEND);
	if (inet_pton(AF_INET6, name, ip) == 1)
		return gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip, 16,
							    GNUTLS_FSAN_APPEND);
	return gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, name,
						    (unsigned)strlen(name), GNUTLS_FSAN_APPEND);
}

int crypto_cert_issue(const struct crypto_pem_pair *ca, enum crypto_cert_kind kind, const char *cn,
		      const char *const *dns_names, int n_dns, struct crypto_pem_pair *out,
		      struct err *e)
{
	memset(out, 0, sizeof(*out));
	gnutls_x509_crt_t ca_crt = NULL, crt = NULL;
	gnutls_x509_privkey_t ca_key = NULL, key = NULL;
	int rc = import_ca(ca, &ca_crt, &ca_key, e);
	if (rc)
		goto out;
	rc = new_cert(cn, &crt, &key, e);
	if (rc)
		goto out;
	rc = gnutls_x509_crt_set_basic_constraints(crt, 0, -1);
	if (rc == 0)
		rc = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE |
							    GNUTLS_KEY_KEY_ENCIPHERMENT);
	if (rc == 0)
		rc = gnutls_x509_crt_set_key_purpose_oid(crt,
							 kind == CRYPTO_CERT_SERVER
							     ? GNUTLS_KP_TLS_WWW_SERVER
							     : GNUTLS_KP_TLS_WWW_CLIENT,
							 0);
	if (rc == 0 && kind == CRYPTO_CERT_SERVER) {
		rc = add_name(crt, cn);
		for (int i = 0; rc == 0 && i < n_dns; i++)
			rc = add_name(crt, dns_names[i]);
		static const unsigned char v4[4] = {127, 0, 0, 1};
		static const unsigned char v6[16] = {0, 0, 0, 0, 0, 0, 0, 0,
						     0, 0, 0, 0, 0, 0, 0, 1};
		if (rc == 0)
			rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, v4, 4,
								  GNUTLS_FSAN_APPEND);
		if (rc == 0)
			rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, v6, 16,
								  GNUTLS_FSAN_APPEND);
	}
	if (rc == 0) {
		unsigned char kid[64];
		size_t kid_len = sizeof(kid);
		rc = gnutls_x509_crt_get_subject_key_id(ca_crt, kid, &kid_len, NULL);
		if (rc == 0)
			rc = gnutls_x509_crt_set_authority_key_id(crt, kid, kid_len);
	}
	if (rc == 0)
		rc = gnutls_x509_crt_sign2(crt, ca_crt, ca_key, GNUTLS_DIG_SHA256, 0);
	if (rc < 0) {
		rc = gerr(e, rc, "issue a certificate");
		goto out;
	}
	rc = export_pair(crt, key, out, e);
out:
	if (crt)
		gnutls_x509_crt_deinit(crt);
	if (key)
		gnutls_x509_privkey_deinit(key);
	if (ca_crt)
		gnutls_x509_crt_deinit(ca_crt);
	if (ca_key)
		gnutls_x509_privkey_deinit(ca_key);
	return rc;
}

int crypto_cert_fingerprint(const char *cert_pem, char out_hex[65], struct err *e)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t d = {(unsigned char *)cert_pem, (unsigned)strlen(cert_pem)};
	unsigned char md[32];
	size_t n = sizeof(md);
	int rc = gnutls_x509_crt_init(&crt);
	if (rc == 0)
		rc = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM);
	if (rc == 0)
		rc = gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, md, &n);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	if (rc < 0 || n != sizeof(md))
		return err_set(e, ERR_CRYPTO, "the certificate does not parse: %s",
			       rc < 0 ? gnutls_strerror(rc) : "odd digest");
	for (size_t i = 0; i < n; i++)
		snprintf(out_hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}

int crypto_cert_verify(const char *ca_pem, const char *cert_pem, struct err *e)
{
	gnutls_x509_crt_t ca = NULL, crt = NULL;
	gnutls_datum_t c = {(unsigned char *)ca_pem, (unsigned)strlen(ca_pem)};
	gnutls_datum_t d = {(unsigned char *)cert_pem, (unsigned)strlen(cert_pem)};
	int rc = gnutls_x509_crt_init(&ca);
	if (rc == 0)
		rc = gnutls_x509_crt_import(ca, &c, GNUTLS_X509_FMT_PEM);
	if (rc < 0) {
		rc = err_set(e, ERR_CRYPTO, "the CA certificate does not parse: %s",
			     gnutls_strerror(rc));
		goto out;
	}
	rc = gnutls_x509_crt_init(&crt);
	if (rc == 0)
		rc = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM);
	if (rc < 0) {
		rc = err_set(e, ERR_CRYPTO, "the certificate does not parse: %s",
			     gnutls_strerror(rc));
		goto out;
	}
	unsigned int status = 0;
	rc = gnutls_x509_crt_verify(crt, &ca, 1, 0, &status);
	if (rc < 0 || status != 0) {
		rc = err_set(e, ERR_CRYPTO, "the certificate is not valid for this site's CA%s",
			     (status & GNUTLS_CERT_EXPIRED) ? " (expired)" : "");
		goto out;
	}
	rc = 0;
out:
	if (ca)
		gnutls_x509_crt_deinit(ca);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	return rc;
}

struct crypto_sha256 {
	gnutls_hash_hd_t h;
};

int crypto_sha256_new(struct crypto_sha256 **out, struct err *e)
{
	*out = NULL;
	struct crypto_sha256 *s = malloc(sizeof(*s));
	if (!s)
		return err_set(e, ERR_NOMEM, "out of memory");
	int rc = gnutls_hash_init(&s->h, GNUTLS_DIG_SHA256);
	if (rc < 0) {
		free(s);
		return gerr(e, rc, "start SHA-256");
	}
	*out = s;
	return 0;
}

void crypto_sha256_update(struct crypto_sha256 *h, const void *data, size_t len)
{
	gnutls_hash(h->h, data, len);
}

void crypto_sha256_finish(struct crypto_sha256 *h, char out_hex[65])
{
	unsigned char d[32];
	gnutls_hash_deinit(h->h, d);
	free(h);
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < 32; i++) {
		out_hex[2 * i] = hex[d[i] >> 4];
		out_hex[2 * i + 1] = hex[d[i] & 15];
	}
	out_hex[64] = '\0';
}

void crypto_sha256_free(struct crypto_sha256 *h)
{
	if (!h)
		return;
	gnutls_hash_deinit(h->h, NULL);
	free(h);
}

/* ---------------------------------------------------------------- secret boxes */

#define SEAL_PREFIX "sbox:"

int crypto_key_create(const char *path, struct err *e)
{
	if (sodium_init() < 0)
		return err_set(e, ERR_CRYPTO, "cannot start libsodium");
	unsigned char key[CRYPTO_KEY_LEN];
	crypto_secretbox_keygen(key);
	char hex[2 * CRYPTO_KEY_LEN + 2];
	sodium_bin2hex(hex, sizeof(hex) - 1, key, sizeof(key));
	sodium_memzero(key, sizeof(key));
	size_t n = strlen(hex);
	hex[n] = '\n';
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		sodium_memzero(hex, sizeof(hex));
		return err_set(e, ERR_CRYPTO, "cannot create key file \"%s\": %s", path,
			       strerror(errno));
	}
	bool ok = write(fd, hex, n + 1) == (ssize_t)(n + 1) && fsync(fd) == 0;
	close(fd);
	sodium_memzero(hex, sizeof(hex));
	if (!ok) {
		unlink(path);
		return err_set(e, ERR_CRYPTO, "cannot write key file \"%s\"", path);
	}
	return 0;
}

int crypto_key_load(const char *path, unsigned char key[CRYPTO_KEY_LEN], struct err *e)
{
	if (sodium_init() < 0)
		return err_set(e, ERR_CRYPTO, "cannot start libsodium");
	char buf[256];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err_set(e, ERR_CRYPTO, "cannot read key file \"%s\": %s", path, strerror(errno));
		err_hint(e, "run as the node's service user, which alone can read the key");
		return ERR_CRYPTO;
	}
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	size_t bin_len = 0;
	if (n <= 0 ||
	    (buf[n] = '\0',
	     sodium_hex2bin(key, CRYPTO_KEY_LEN, buf, (size_t)n, "\n", &bin_len, NULL) != 0) ||
	    bin_len != CRYPTO_KEY_LEN) {
		sodium_memzero(buf, sizeof(buf));
		return err_set(e, ERR_CRYPTO, "key file \"%s\" does not hold a key", path);
	}
	sodium_memzero(buf, sizeof(buf));
	return 0;
}

int crypto_seal(const unsigned char key[CRYPTO_KEY_LEN], const char *plain, char **out,
		struct err *e)
{
	*out = NULL;
	if (sodium_init() < 0)
		return err_set(e, ERR_CRYPTO, "cannot start libsodium");
	size_t len = strlen(plain);
	if (len > 4096)
		return err_set(e, ERR_CRYPTO, "secret too long");
	size_t box_len = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + len;
	unsigned char *box = malloc(box_len);
	size_t b64_len = sodium_base64_ENCODED_LEN(box_len, sodium_base64_VARIANT_ORIGINAL);
	char *text = malloc(strlen(SEAL_PREFIX) + b64_len);
	if (!box || !text) {
		free(box);
		free(text);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	randombytes_buf(box, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(box + crypto_secretbox_NONCEBYTES, (const unsigned char *)plain, len,
			      box, key);
	memcpy(text, SEAL_PREFIX, strlen(SEAL_PREFIX));
	sodium_bin2base64(text + strlen(SEAL_PREFIX), b64_len, box, box_len,
			  sodium_base64_VARIANT_ORIGINAL);
	free(box);
	*out = text;
	return 0;
}

int crypto_unseal(const unsigned char key[CRYPTO_KEY_LEN], const char *sealed, char **out,
		  struct err *e)
{
	*out = NULL;
	if (sodium_init() < 0)
		return err_set(e, ERR_CRYPTO, "cannot start libsodium");
	if (strncmp(sealed, SEAL_PREFIX, strlen(SEAL_PREFIX)) != 0)
		return err_set(e, ERR_CRYPTO, "the secret is not sealed (it should start with %s)",
			       SEAL_PREFIX);
	const char *b64 = sealed + strlen(SEAL_PREFIX);
	size_t max = strlen(b64);
	unsigned char *box = malloc(max + 1);
	size_t box_len = 0;
	if (!box)
		return err_set(e, ERR_NOMEM, "out of memory");
	if (sodium_base642bin(box, max, b64, strlen(b64), NULL, &box_len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    box_len < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
		free(box);
		return err_set(e, ERR_CRYPTO, "the sealed secret is damaged");
	}
	size_t len = box_len - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
	char *plain = malloc(len + 1);
	if (!plain) {
		free(box);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	if (crypto_secretbox_open_easy((unsigned char *)plain, box + crypto_secretbox_NONCEBYTES,
				       box_len - crypto_secretbox_NONCEBYTES, box, key) != 0) {
		free(box);
		free(plain);
		return err_set(e, ERR_CRYPTO, "the secret was sealed with another key");
	}
	free(box);
	plain[len] = '\0';
	*out = plain;
	return 0;
}

/* ---------------------------------------------------------------- password boxes */

#define PW_PREFIX "pwbox:"

static int derive(const char *password, const unsigned char *salt,
		  unsigned char key[CRYPTO_KEY_LEN], struct err *e)
{
	if (sodium_init() < 0)
		return err_set(e, ERR_CRYPTO, "cannot start libsodium");
	if (crypto_pwhash(key, CRYPTO_KEY_LEN, password, strlen(password), salt,
			  crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
			  crypto_pwhash_ALG_ARGON2ID13) != 0)
		return err_set(e, ERR_NOMEM, "out of memory deriving a key from the password");
	return 0;
}

int crypto_seal_pw(const char *password, const char *plain, char **out, struct err *e)
{
	*out = NULL;
	unsigned char salt[crypto_pwhash_SALTBYTES], key[CRYPTO_KEY_LEN];
	if (sodium_init() < 0)
		return err_set(e, ERR_CRYPTO, "cannot start libsodium");
	randombytes_buf(salt, sizeof(salt));
	int rc = derive(password, salt, key, e);
	char *inner = NULL;
	if (rc == 0)
		rc = crypto_seal(key, plain, &inner, e);
	sodium_memzero(key, sizeof(key));
	if (rc)
		return rc;
	char hex[2 * crypto_pwhash_SALTBYTES + 1];
	sodium_bin2hex(hex, sizeof(hex), salt, sizeof(salt));
	size_t n = strlen(PW_PREFIX) + strlen(hex) + 1 + strlen(inner) + 1;
	char *text = malloc(n);
	if (!text) {
		free(inner);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	snprintf(text, n, "%s%s:%s", PW_PREFIX, hex, inner);
	free(inner);
	*out = text;
	return 0;
}

int crypto_unseal_pw(const char *password, const char *sealed, char **out, struct err *e)
{
	*out = NULL;
	if (sodium_init() < 0)
		return err_set(e, ERR_CRYPTO, "cannot start libsodium");
	size_t pl = strlen(PW_PREFIX), hl = 2 * crypto_pwhash_SALTBYTES;
	unsigned char salt[crypto_pwhash_SALTBYTES], key[CRYPTO_KEY_LEN];
	size_t got = 0;
	if (strncmp(sealed, PW_PREFIX, pl) != 0 || strlen(sealed) < pl + hl + 1 ||
	    sealed[pl + hl] != ':' ||
	    sodium_hex2bin(salt, sizeof(salt), sealed + pl, hl, NULL, &got, NULL) != 0 ||
	    got != sizeof(salt))
		return err_set(e, ERR_CRYPTO, "the password-sealed text is damaged");
	int rc = derive(password, salt, key, e);
	if (rc == 0)
		rc = crypto_unseal(key, sealed + pl + hl + 1, out, e);
	sodium_memzero(key, sizeof(key));
	if (rc == ERR_CRYPTO && e && strstr(e->message, "another key")) {
		e->code = 0;
		rc = err_set(e, ERR_CRYPTO, "the password is wrong");
	}
	return rc;
}

void crypto_random_password(char *out, size_t n)
{
	static const char alphabet[] = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789";
	if (sodium_init() < 0)
		abort();
	for (size_t i = 0; i < n; i++)
		out[i] = alphabet[randombytes_uniform(sizeof(alphabet) - 1)];
	out[n] = '\0';
}

bool crypto_password_hash_weak(void)
{
	const char *v = getenv("FATHOM_TEST_WEAK_PASSWORD_HASH");
	return v && strcmp(v, "1") == 0;
}

int crypto_password_hash(const char *password, char out[CRYPTO_PWHASH_LEN], struct err *e)
{
	_Static_assert(crypto_pwhash_STRBYTES <= CRYPTO_PWHASH_LEN, "room for the hash");
	if (sodium_init() < 0)
		return err_set(e, ERR_CRYPTO, "libsodium cannot start");
	bool weak = crypto_password_hash_weak();
	if (crypto_pwhash_str(
		out, password, strlen(password),
		weak ? crypto_pwhash_OPSLIMIT_MIN : crypto_pwhash_OPSLIMIT_INTERACTIVE,
		weak ? crypto_pwhash_MEMLIMIT_MIN : crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		return err_set(e, ERR_NOMEM, "not enough memory to hash a password");
	return 0;
}

bool crypto_password_verify(const char *stored, const char *password)
{
	if (sodium_init() < 0 || strnlen(stored, crypto_pwhash_STRBYTES) >= crypto_pwhash_STRBYTES)
		return false;
	return crypto_pwhash_str_verify(stored, password, strlen(password)) == 0;
}

size_t crypto_token_len(size_t n)
{
	return sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void crypto_random_token(size_t n, char *out)
{
	unsigned char raw[128];
	if (sodium_init() < 0 || n > sizeof(raw))
		abort();
	randombytes_buf(raw, n);
	sodium_bin2base64(out, crypto_token_len(n), raw, n,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
}

bool crypto_equal(const void *a, const void *b, size_t len)
{
	return sodium_memcmp(a, b, len) == 0;
}

void crypto_sha256_hex(const void *data, size_t len, char out_hex[65])
{
	unsigned char d[crypto_hash_sha256_BYTES];
	if (sodium_init() < 0)
		abort();
	crypto_hash_sha256(d, data, len);
	sodium_bin2hex(out_hex, 65, d, sizeof(d));
}

void crypto_sha256_b64url(const void *data, size_t len, char out[44])
{
	unsigned char d[crypto_hash_sha256_BYTES];
	if (sodium_init() < 0)
		abort();
	crypto_hash_sha256(d, data, len);
	sodium_bin2base64(out, 44, d, sizeof(d), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

bool crypto_base64(const void *in, size_t n, char *out, size_t cap)
{
	if (sodium_init() < 0 || cap < sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL))
		return false;
	sodium_bin2base64(out, cap, in, n, sodium_base64_VARIANT_ORIGINAL);
	return true;
}

/* The public key in `pem`: a certificate or a SubjectPublicKeyInfo. NULL when neither. */
static gnutls_pubkey_t pubkey_from_pem(const char *pem)
{
	gnutls_pubkey_t pk = NULL;
	if (gnutls_pubkey_init(&pk) < 0)
		return NULL;
	gnutls_datum_t d = {(unsigned char *)pem, (unsigned)strlen(pem)};
	int rc = -1;
	if (strstr(pem, "BEGIN CERTIFICATE")) {
		gnutls_x509_crt_t crt = NULL;
		if (gnutls_x509_crt_init(&crt) >= 0 &&
		    gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) >= 0)
			rc = gnutls_pubkey_import_x509(pk, crt, 0);
		gnutls_x509_crt_deinit(crt);
	} else {
		rc = gnutls_pubkey_import(pk, &d, GNUTLS_X509_FMT_PEM);
	}
	if (rc < 0) {
		gnutls_pubkey_deinit(pk);
		return NULL;
	}
	return pk;
}

int crypto_jws_verify(const char *alg, const char *key, const void *data, size_t len,
		      const unsigned char *sig, size_t sig_len, struct err *e)
{
	bool pem = strstr(key, "-----BEGIN") != NULL;
	if (strcmp(alg, "HS256") == 0) {
		if (pem || !*key)
			return err_set(e, ERR_CRYPTO,
				       "HS256 needs a shared secret, not a public key");
		unsigned char mac[crypto_auth_hmacsha256_BYTES];
		crypto_auth_hmacsha256_state st;
		if (sodium_init() < 0 ||
		    crypto_auth_hmacsha256_init(&st, (const unsigned char *)key, strlen(key)) !=
			0 ||
		    crypto_auth_hmacsha256_update(&st, data, len) != 0 ||
		    crypto_auth_hmacsha256_final(&st, mac) != 0)
			return err_set(e, ERR_CRYPTO, "cannot compute HMAC-SHA256");
		bool ok = sig_len == sizeof(mac) && sodium_memcmp(mac, sig, sizeof(mac)) == 0;
		return ok ? 0 : err_set(e, ERR_CRYPTO, "the signature does not verify");
	}
	bool rsa = strcmp(alg, "RS256") == 0, ec = strcmp(alg, "ES256") == 0;
	if (!rsa && !ec)
		return err_set(e, ERR_CRYPTO, "algorithm \"%s\" is not accepted", alg);
	gnutls_pubkey_t pk = pem ? pubkey_from_pem(key) : NULL;
	if (!pk)
		return err_set(e, ERR_CRYPTO, "%s needs a PEM public key or certificate", alg);
	int kalg = gnutls_pubkey_get_pk_algorithm(pk, NULL);
	gnutls_datum_t der = {NULL, 0};
	gnutls_datum_t sd = {(unsigned char *)sig, (unsigned)sig_len};
	int rc = 0;
	if (rsa && kalg != GNUTLS_PK_RSA)
		rc = err_set(e, ERR_CRYPTO, "RS256 needs an RSA key");
	else if (ec && (kalg != GNUTLS_PK_ECDSA || sig_len != 64))
		rc = err_set(e, ERR_CRYPTO, "ES256 needs a P-256 key and a 64-byte signature");
	if (rc == 0 && ec) {
		/* JWS carries r and s side by side; GnuTLS wants them DER-encoded */
		gnutls_datum_t r = {(unsigned char *)sig, 32}, s = {(unsigned char *)sig + 32, 32};
		if (gnutls_encode_rs_value(&der, &r, &s) < 0)
			rc = err_set(e, ERR_CRYPTO, "the signature does not verify");
		sd = der;
	}
	gnutls_datum_t dd = {(unsigned char *)data, (unsigned)len};
	if (rc == 0 &&
	    gnutls_pubkey_verify_data2(pk, rsa ? GNUTLS_SIGN_RSA_SHA256 : GNUTLS_SIGN_ECDSA_SHA256,
				       0, &dd, &sd) < 0)
		rc = err_set(e, ERR_CRYPTO, "the signature does not verify");
	gnutls_free(der.data);
	gnutls_pubkey_deinit(pk);
	return rc;
}

/* Decodes base64url text into d (malloc'd); false when malformed or longer than 1 KiB. */
static bool b64_datum(const char *in, gnutls_datum_t *d)
{
	size_t n = in ? strlen(in) : 0, len = 0;
	d->data = n && n <= 1400 ? malloc(n) : NULL;
	if (!d->data || !crypto_base64url_decode(in, n, d->data, n, &len) || !len) {
		free(d->data);
		d->data = NULL;
		return false;
	}
	d->size = (unsigned)len;
	return true;
}

int crypto_jwk_pem(const char *kty, const char *crv, const char *a, const char *b, char **out,
		   struct err *e)
{
	*out = NULL;
	bool rsa = kty && strcmp(kty, "RSA") == 0;
	bool ec = kty && strcmp(kty, "EC") == 0 && crv && strcmp(crv, "P-256") == 0;
	if (!rsa && !ec)
		return err_set(e, ERR_CRYPTO, "the key is neither RSA nor EC on P-256");
	gnutls_datum_t da = {NULL, 0}, db = {NULL, 0}, pem = {NULL, 0};
	gnutls_pubkey_t pk = NULL;
	int rc = ERR_CRYPTO;
	if (b64_datum(a, &da) && b64_datum(b, &db) && gnutls_pubkey_init(&pk) >= 0 &&
	    (rsa ? gnutls_pubkey_import_rsa_raw(pk, &da, &db)
		 : gnutls_pubkey_import_ecc_raw(pk, GNUTLS_ECC_CURVE_SECP256R1, &da, &db)) >= 0 &&
	    gnutls_pubkey_export2(pk, GNUTLS_X509_FMT_PEM, &pem) >= 0) {
		*out = malloc(pem.size + 1);
		if (*out) {
			memcpy(*out, pem.data, pem.size);
			(*out)[pem.size] = '\0';
			rc = 0;
		}
	}
	if (rc)
		err_set(e, ERR_CRYPTO, "the %s key's numbers do not parse", rsa ? "RSA" : "EC");
	gnutls_free(pem.data);
	if (pk)
		gnutls_pubkey_deinit(pk);
	free(da.data);
	free(db.data);
	return rc;
}

bool crypto_base64url_decode(const char *in, size_t n, unsigned char *out, size_t cap,
			     size_t *out_len)
{
	const char *end = NULL;
	if (sodium_init() < 0 || sodium_base642bin(out, cap, in, n, NULL, out_len, &end,
						   sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return false;
	return end == in + n;
}
