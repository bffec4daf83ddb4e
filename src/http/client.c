/* client.c: the HTTPS client nodes use to call each other (libcurl over GnuTLS), with the
 * site's CA as the only trust anchor and this node's client certificate, so every call is
 * mutual TLS inside the site. */
#include "http/http.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void init_curl(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct sink {
	struct buf b;
	bool too_large;
};

static size_t on_data(char *data, size_t size, size_t n, void *ctx)
{
	struct sink *s = ctx;
	if (buf_append(&s->b, data, size * n) != 0) {
		s->too_large = true;
		return 0;
	}
	return size * n;
}

int http_call(const struct http_client_tls *tls, const char *method, const char *url,
	      const char *const *headers, const char *body, size_t body_len, int timeout_ms,
	      size_t max_body, struct http_response *out, struct err *e)
{
	memset(out, 0, sizeof(*out));
	pthread_once(&curl_once, init_curl);
	if (curl_init_rc != CURLE_OK)
		return err_set(e, ERR_INTERNAL, "libcurl: %s", curl_easy_strerror(curl_init_rc));
	CURL *h = curl_easy_init();
	if (!h)
		return err_set(e, ERR_NOMEM, "out of memory");
	struct sink s = {.too_large = false};
	buf_init(&s.b, max_body);
	struct curl_slist *hl = NULL;
	for (const char *const *p = headers; p && *p; p++)
		hl = curl_slist_append(hl, *p);
	char errbuf[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_CAINFO, tls->ca_file);
	curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
	curl_easy_setopt(h, CURLOPT_SSLCERT, tls->cert_file);
	curl_easy_setopt(h, CURLOPT_SSLKEY, tls->key_file);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(timeout_ms < 5000 ? timeout_ms : 5000));
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	if (body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	}
	CURLcode rc = curl_easy_perform(h);
	int ret = 0;
	if (rc != CURLE_OK) {
		ret = s.too_large ? err_set(e, ERR_TOO_LARGE,
					    "the answer from %s is larger than %zu "
					    "bytes",
					    url, max_body)
				  : err_set(e, ERR_UNAVAILABLE, "%s: %s", url,
					    errbuf[0] ? errbuf : curl_easy_strerror(rc));
	} else {
		long status = 0;
		char *ct = NULL;
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
		out->status = (int)status;
		str_copy(out->content_type, ct ? ct : "application/octet-stream",
			 sizeof(out->content_type));
		out->len = s.b.len;
		out->body = buf_steal(&s.b); /* a buf is always NUL-terminated */
	}
	buf_release(&s.b);
	curl_slist_free_all(hl);
	curl_easy_cleanup(h);
	return ret;
}

void http_response_release(struct http_response *r)
{
	free(r->body);
	r->body = NULL;
}
