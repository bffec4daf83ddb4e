/* crypto.h: certificates for the site's certificate authority and its nodes (GnuTLS), and
 * streaming SHA-256. Secret boxes for connection strings at rest come with the PostgreSQL
 * site (libsodium).
 *
 * Threads: all functions are thread-safe; a struct crypto_sha256 belongs to one thread. */
#ifndef FATHOM_CRYPTO_H
#define FATHOM_CRYPTO_H

#include "core/core.h"

/* A PEM certificate and its PEM private key. Caller owns both strings (free()). */
struct crypto_pem_pair {
	char *cert;
	char *key;
};
void crypto_pem_pair_release(struct crypto_pem_pair *p);

/* Makes a self-signed CA (ECDSA P-256, 10 years) named `cn`. On failure `out` is zeroed. */
NODISCARD int crypto_ca_create(const char *cn, struct crypto_pem_pair *out, struct err *e);

enum crypto_cert_kind { CRYPTO_CERT_SERVER, CRYPTO_CERT_CLIENT };

/* Issues a certificate signed by `ca`: a server certificate names `cn` and every entry of
 * `dns_names` (DNS) plus 127.0.0.1 and ::1; a client certificate names `cn` only. */
NODISCARD int crypto_cert_issue(const struct crypto_pem_pair *ca, enum crypto_cert_kind kind,
				const char *cn, const char *const *dns_names, int n_dns,
				struct crypto_pem_pair *out, struct err *e);

/* Checks that `cert_pem` parses, is in its validity period and chains to `ca_pem`. */
NODISCARD int crypto_cert_verify(const char *ca_pem, const char *cert_pem, struct err *e);

/* The SHA-256 of a certificate's DER form, in lowercase hex: what a revocation names. */
NODISCARD int crypto_cert_fingerprint(const char *cert_pem, char out_hex[65], struct err *e);

/* Secret boxes (libsodium crypto_secretbox) for secrets at rest, such as the database
 * password in node.conf. The key is 32 random bytes in a file only its owner can read. */
#define CRYPTO_KEY_LEN 32
/* Writes a new random key to `path` (mode 0600), refusing a file that exists. */
NODISCARD int crypto_key_create(const char *path, struct err *e);
/* Reads a key; a missing, unreadable or malformed file is ERR_CRYPTO naming the file. */
NODISCARD int crypto_key_load(const char *path, unsigned char key[CRYPTO_KEY_LEN], struct err *e);
/* Seals `plain` as "sbox:<base64 of nonce and box>". Caller owns *out (free()). */
NODISCARD int crypto_seal(const unsigned char key[CRYPTO_KEY_LEN], const char *plain, char **out,
			  struct err *e);
/* Opens a sealed text; ERR_CRYPTO when it is malformed or was sealed with another key.
 * Caller owns *out (free()). */
NODISCARD int crypto_unseal(const unsigned char key[CRYPTO_KEY_LEN], const char *sealed, char **out,
			    struct err *e);

/* Seals `plain` under a key derived from `password` (Argon2id, interactive limits) as
 * "pwbox:<salt hex>:<sealed>". For secrets handed over with a one-time password. */
NODISCARD int crypto_seal_pw(const char *password, const char *plain, char **out, struct err *e);
/* Opens a password-sealed text; ERR_CRYPTO for a wrong password or a damaged text. */
NODISCARD int crypto_unseal_pw(const char *password, const char *sealed, char **out, struct err *e);
/* Writes a random one-time password of `n` characters (letters and digits, no look-alikes)
 * and a NUL into out[n + 1]. */
void crypto_random_password(char *out, size_t n);

/* Passwords of people (Argon2id, libsodium's interactive limits: about 64 MiB and a tenth
 * of a second per hash). The stored form is libsodium's "$argon2id$..." text, which names
 * its own parameters, so a hash verifies at the cost it was made with. With
 * FATHOM_TEST_WEAK_PASSWORD_HASH=1 in the environment new hashes take Argon2id's least
 * cost (8 KiB, one pass): for test suites that sign people in hundreds of times; a node
 * warns at start when it is set (crypto_password_hash_weak). */
#define CRYPTO_PWHASH_LEN 128
bool crypto_password_hash_weak(void);
NODISCARD int crypto_password_hash(const char *password, char out[CRYPTO_PWHASH_LEN],
				   struct err *e);
/* Whether `password` matches `stored`; false for a malformed `stored` too. */
bool crypto_password_verify(const char *stored, const char *password);
/* Writes `n` random bytes as unpadded base64url (URL- and cookie-safe) and a NUL into
 * `out`, which holds at least crypto_token_len(n) bytes. */
size_t crypto_token_len(size_t n);
void crypto_random_token(size_t n, char *out);
/* Constant-time comparison of two equally long buffers. */
bool crypto_equal(const void *a, const void *b, size_t len);
/* SHA-256 of a small buffer as 64 lowercase hex digits and a NUL. */
void crypto_sha256_hex(const void *data, size_t len, char out_hex[65]);

/* SHA-256 of a small buffer as 43 characters of unpadded base64url and a NUL (a PKCE
 * challenge, RFC 7636). */
void crypto_sha256_b64url(const void *data, size_t len, char out[44]);

/* Standard base64 (with padding) of in[0..n) into out[cap]; false when it does not fit. */
bool crypto_base64(const void *in, size_t n, char *out, size_t cap);

/* Decodes unpadded base64url in[0..n) into out[cap]; false when malformed or too long. */
bool crypto_base64url_decode(const char *in, size_t n, unsigned char *out, size_t cap,
			     size_t *out_len);
/* Verifies the signature of a JSON Web Signature over data[0..len): alg "HS256" with a
 * shared secret `key` (any text that is not PEM), "RS256" with an RSA and "ES256" with a
 * P-256 public key or certificate in PEM (`sig` is then r and s, 32 bytes each). A key of
 * the wrong kind for `alg` never verifies (no algorithm confusion). 0, or ERR_CRYPTO. */
NODISCARD int crypto_jws_verify(const char *alg, const char *key, const void *data, size_t len,
				const unsigned char *sig, size_t sig_len, struct err *e);

/* The public key of a JSON Web Key (RFC 7517) as PEM (SubjectPublicKeyInfo) in *out
 * (malloc'd): kty "RSA" with `a` = n and `b` = e, or kty "EC" with crv "P-256" and `a` = x,
 * `b` = y, all base64url. ERR_CRYPTO when it is none of these or does not parse. */
NODISCARD int crypto_jwk_pem(const char *kty, const char *crv, const char *a, const char *b,
			     char **out, struct err *e);

/* Streaming SHA-256. */
struct crypto_sha256;
NODISCARD int crypto_sha256_new(struct crypto_sha256 **out, struct err *e);
void crypto_sha256_update(struct crypto_sha256 *h, const void *data, size_t len);
/* Writes 64 lowercase hex digits and a NUL, and frees `h`. */
void crypto_sha256_finish(struct crypto_sha256 *h, char out_hex[65]);
void crypto_sha256_free(struct crypto_sha256 *h);

#endif
