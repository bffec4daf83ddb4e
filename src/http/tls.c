/* tls.c: the server's TLS policy (GnuTLS): TLS 1.2 and 1.3 with AEAD suites only unless
 * node.conf says otherwise, client certificates asked for when a trust anchor is given and
 * checked on demand, with the reason a certificate is refused. */
#include "http/http_int.h"

#include <gnutls/x509.h>
#include <stdlib.h>
#include <string.h>

const char *http_tls_default_priority(void)
{
	return "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM:"
	       "+AES-256-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:"
	       "+ECDHE-RSA:%SERVER_PRECEDENCE";
}

int http_tls_check_priority(const char *prio, struct err *e)
{
	gnutls_priority_t p;
	const char *pos = NULL;
	int rc = gnutls_priority_init(&p, prio, &pos);
	if (rc != GNUTLS_E_SUCCESS)
		return err_set(e, ERR_CONFIG, "the TLS priority string is not valid near \"%.32s\"",
			       pos ? pos : prio);
	gnutls_priority_deinit(p);
	return 0;
}

/* Credentials with the server's certificate and key and, when given, the trust anchor
 * for client certificates. */
static int make_cred(const char *cert_pem, const char *key_pem, const char *trust_pem,
		     gnutls_certificate_credentials_t *out, struct err *e)
{
	*out = NULL;
	gnutls_certificate_credentials_t c;
	if (gnutls_certificate_allocate_credentials(&c) != GNUTLS_E_SUCCESS)
		return err_set(e, ERR_CRYPTO, "cannot set up TLS");
	gnutls_datum_t cert = {(unsigned char *)cert_pem, (unsigned)strlen(cert_pem)};
	gnutls_datum_t key = {(unsigned char *)key_pem, (unsigned)strlen(key_pem)};
	int rc = gnutls_certificate_set_x509_key_mem(c, &cert, &key, GNUTLS_X509_FMT_PEM);
	if (rc < 0) {
		gnutls_certificate_free_credentials(c);
		return err_set(e, ERR_CRYPTO, "the server certificate or key is not usable: %s",
			       gnutls_strerror(rc));
	}
	if (trust_pem) {
		gnutls_datum_t ca = {(unsigned char *)trust_pem, (unsigned)strlen(trust_pem)};
		if (gnutls_certificate_set_x509_trust_mem(c, &ca, GNUTLS_X509_FMT_PEM) <= 0) {
			gnutls_certificate_free_credentials(c);
			return err_set(e, ERR_CRYPTO, "the site's CA certificate is not usable");
		}
	}
	*out = c;
	return 0;
}

int http_tls_new(const struct http_server_config *cfg, struct http_tls **out, struct err *e)
{
	*out = NULL;
	struct http_tls *t = calloc(1, sizeof(*t));
	if (!t)
		return err_set(e, ERR_NOMEM, "out of memory");
	pthread_mutex_init(&t->mu, NULL);
	const char *prio = cfg->tls_priority && *cfg->tls_priority ? cfg->tls_priority
								   : http_tls_default_priority();
	int rc = http_tls_check_priority(prio, e);
	if (rc) {
		http_tls_free(t);
		return rc;
	}
	const char *pos = NULL;
	if (gnutls_priority_init(&t->prio, prio, &pos) != GNUTLS_E_SUCCESS) {
		http_tls_free(t);
		return err_set(e, ERR_CRYPTO, "cannot set up TLS");
	}
	if (cfg->trust_pem && !(t->trust_pem = strdup(cfg->trust_pem))) {
		http_tls_free(t);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	t->ask_cert = cfg->trust_pem != NULL;
	rc = make_cred(cfg->cert_pem, cfg->key_pem, t->trust_pem, &t->cred, e);
	if (rc) {
		http_tls_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

int http_tls_reload(struct http_tls *t, const char *cert_pem, const char *key_pem, struct err *e)
{
	gnutls_certificate_credentials_t c;
	int rc = make_cred(cert_pem, key_pem, t->trust_pem, &c, e);
	if (rc)
		return rc;
	pthread_mutex_lock(&t->mu);
	gnutls_certificate_credentials_t *r =
	    realloc(t->retired, (t->n_retired + 1) * sizeof(*t->retired));
	if (r) {
		t->retired = r;
		t->retired[t->n_retired++] = t->cred;
		t->cred = c;
	}
	pthread_mutex_unlock(&t->mu);
	if (!r) {
		gnutls_certificate_free_credentials(c);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	return 0;
}

void http_tls_free(struct http_tls *t)
{
	if (!t)
		return;
	if (t->cred)
		gnutls_certificate_free_credentials(t->cred);
	for (size_t i = 0; i < t->n_retired; i++)
		gnutls_certificate_free_credentials(t->retired[i]);
	free(t->retired);
	free(t->revoked);
	free(t->trust_pem);
	if (t->prio)
		gnutls_priority_deinit(t->prio);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

gnutls_session_t http_tls_session(struct http_tls *t, int fd)
{
	gnutls_session_t s;
	if (gnutls_init(&s, GNUTLS_SERVER | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL) != GNUTLS_E_SUCCESS)
		return NULL;
	pthread_mutex_lock(&t->mu);
	gnutls_certificate_credentials_t cred = t->cred;
	pthread_mutex_unlock(&t->mu);
	if (gnutls_priority_set(s, t->prio) != GNUTLS_E_SUCCESS ||
	    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred) != GNUTLS_E_SUCCESS) {
		gnutls_deinit(s);
		return NULL;
	}
	if (t->ask_cert)
		gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUEST);
	gnutls_transport_set_int(s, fd);
	return s;
}

static int by_digest(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

int http_tls_set_revoked(struct http_tls *t, const char *const *hex, size_t n, struct err *e)
{
	unsigned char(*list)[32] = n ? calloc(n, 32) : NULL;
	if (n && !list)
		return err_set(e, ERR_NOMEM, "out of memory");
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const char *h = hex[i];
		if (!h || strlen(h) != 64)
			continue;
		bool ok = true;
		for (int j = 0; j < 32 && ok; j++) {
			unsigned v = 0;
			for (int d = 0; d < 2; d++) {
				char c = h[2 * j + d];
				int x = c >= '0' && c <= '9'   ? c - '0'
					: c >= 'a' && c <= 'f' ? c - 'a' + 10
					: c >= 'A' && c <= 'F' ? c - 'A' + 10
							       : -1;
				ok = ok && x >= 0;
				v = v * 16 + (unsigned)(x < 0 ? 0 : x);
			}
			list[k][j] = (unsigned char)v;
		}
		if (ok)
			k++;
	}
	if (k)
		qsort(list, k, 32, by_digest);
	pthread_mutex_lock(&t->mu);
	unsigned char(*old)[32] = t->revoked;
	t->revoked = list;
	t->n_revoked = k;
	pthread_mutex_unlock(&t->mu);
	free(old);
	return 0;
}

bool http_tls_revoked(struct http_tls *t, const unsigned char fp[32])
{
	pthread_mutex_lock(&t->mu);
	bool found = t->n_revoked && bsearch(fp, t->revoked, t->n_revoked, 32, by_digest);
	pthread_mutex_unlock(&t->mu);
	return found;
}

enum http_cert http_tls_peer_cert(gnutls_session_t s, unsigned char fp[32])
{
	unsigned int n = 0;
	const gnutls_datum_t *peers = gnutls_certificate_get_peers(s, &n);
	if (!peers || n == 0)
		return HTTP_CERT_NONE;
	size_t fl = 32;
	if (gnutls_fingerprint(GNUTLS_DIG_SHA256, &peers[0], fp, &fl) != GNUTLS_E_SUCCESS ||
	    fl != 32)
		memset(fp, 0, 32);
	unsigned int status = 0;
	if (gnutls_certificate_verify_peers2(s, &status) != GNUTLS_E_SUCCESS)
		return HTTP_CERT_FOREIGN;
	if (status == 0)
		return HTTP_CERT_OK;
	if (status & (GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA |
		      GNUTLS_CERT_SIGNATURE_FAILURE))
		return HTTP_CERT_FOREIGN;
	if (status & GNUTLS_CERT_REVOKED)
		return HTTP_CERT_REVOKED;
	if (status & GNUTLS_CERT_EXPIRED)
		return HTTP_CERT_EXPIRED;
	if (status & GNUTLS_CERT_NOT_ACTIVATED)
		return HTTP_CERT_NOT_YET_VALID;
	return HTTP_CERT_FOREIGN;
}

const char *http_cert_problem(enum http_cert c)
{
	switch (c) {
	case HTTP_CERT_NONE: return "no client certificate was presented";
	case HTTP_CERT_FOREIGN:
		return "the client certificate is not signed by this site's certificate authority";
	case HTTP_CERT_EXPIRED: return "the client certificate has expired";
	case HTTP_CERT_NOT_YET_VALID: return "the client certificate is not valid yet";
	case HTTP_CERT_REVOKED: return "the client certificate has been revoked";
	case HTTP_CERT_OK: break;
	}
	return "the client certificate is valid";
}
