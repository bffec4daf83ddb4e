/* parse.c: request heads and bodies through http-parser, with Fathom's limits and rules on
 * top: a request line of at most 16 KiB (414), a head of at most 64 KiB and 128 headers
 * (431), one Content-Length and never with Transfer-Encoding (400), no NUL anywhere in the
 * target, encoded or not (400). */
#include "http/http_int.h"

#include <string.h>

static struct http_head *head_of(http_parser *p)
{
	return p->data;
}

static int fail(struct http_head *h, int status, const char *why)
{
	if (!h->status) {
		h->status = status;
		h->why = why;
	}
	return 1;
}

static int count(struct http_head *h, size_t len)
{
	h->head_bytes += len;
	if (h->head_bytes > HTTP_MAX_HEAD)
		return fail(h, 431, "the request head is larger than 64 KiB");
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
	struct http_head *h = head_of(p);
	if (h->target.len + len > HTTP_MAX_TARGET)
		return fail(h, 414, "the request target is longer than 16 KiB");
	if (count(h, len) || buf_append(&h->target, at, len))
		return fail(h, 431, "the request head is larger than 64 KiB");
	return 0;
}

/* Stores the header read so far, if any. */
static int commit_header(struct http_head *h)
{
	if (!h->in_value)
		return 0;
	if (h->n_hdr >= MAX_KV)
		return fail(h, 431, "the request has more than 128 headers");
	const char *k = arena_strndup(h->a, h->field.data, h->field.len);
	/* http-parser keeps optional whitespace at the end of a value */
	size_t n = h->value.len;
	while (n && (h->value.data[n - 1] == ' ' || h->value.data[n - 1] == '\t'))
		n--;
	h->hdr[h->n_hdr].k = k;
	h->hdr[h->n_hdr].v = arena_strndup(h->a, h->value.len ? h->value.data : "", n);
	h->n_hdr++;
	if (str_ieq(k, "Content-Length"))
		h->n_length++;
	else if (str_ieq(k, "Transfer-Encoding"))
		h->n_encoding++;
	h->field.len = h->value.len = 0;
	h->in_value = false;
	return 0;
}

static int on_field(http_parser *p, const char *at, size_t len)
{
	struct http_head *h = head_of(p);
	if (commit_header(h) || count(h, len) || buf_append(&h->field, at, len))
		return fail(h, 431, "the request head is larger than 64 KiB");
	return 0;
}

static int on_value(http_parser *p, const char *at, size_t len)
{
	struct http_head *h = head_of(p);
	h->in_value = true;
	if (count(h, len) || buf_append(&h->value, at, len))
		return fail(h, 431, "the request head is larger than 64 KiB");
	return 0;
}

static int on_headers_complete(http_parser *p)
{
	struct http_head *h = head_of(p);
	if (commit_header(h))
		return 1;
	if (h->n_length > 1)
		return fail(h, 400, "the request has more than one Content-Length header");
	if (h->n_length && h->n_encoding)
		return fail(h, 400, "the request has both Content-Length and Transfer-Encoding");
	if (p->http_major != 1)
		return fail(h, 400, "the HTTP version is not 1.0 or 1.1");
	h->headers_done = true;
	http_parser_pause(p, 1);
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	struct http_head *h = head_of(p);
	if (h->on_body)
		h->on_body(h->body_ctx, at, len);
	return 0;
}

static int on_message_complete(http_parser *p)
{
	struct http_head *h = head_of(p);
	h->message_done = true;
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings settings = {
    .on_url = on_url,
    .on_header_field = on_field,
    .on_header_value = on_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

void http_head_begin(struct http_head *h, struct arena *a)
{
	memset(h, 0, sizeof(*h));
	http_parser_init(&h->p, HTTP_REQUEST);
	h->p.data = h;
	h->a = a;
	buf_init(&h->target, HTTP_MAX_TARGET + 1);
	buf_init(&h->field, HTTP_MAX_HEAD);
	buf_init(&h->value, HTTP_MAX_HEAD);
}

void http_head_release(struct http_head *h)
{
	buf_release(&h->target);
	buf_release(&h->field);
	buf_release(&h->value);
}

void http_head_resume(struct http_head *h)
{
	http_parser_pause(&h->p, 0);
}

static const char *parser_error(enum http_errno en)
{
	switch (en) {
	case HPE_UNEXPECTED_CONTENT_LENGTH:
		return "the request has conflicting Content-Length or Transfer-Encoding headers";
	case HPE_INVALID_CONTENT_LENGTH: return "the Content-Length header is not a number";
	case HPE_INVALID_METHOD: return "the request method is not known";
	case HPE_INVALID_VERSION: return "the HTTP version is not 1.0 or 1.1";
	case HPE_INVALID_CHUNK_SIZE: return "a chunk of the body has a malformed size";
	case HPE_INVALID_TRANSFER_ENCODING: return "the Transfer-Encoding is not chunked";
	case HPE_HEADER_OVERFLOW: return "the request head is larger than 64 KiB";
	default: return "the request is not well-formed HTTP/1.1";
	}
}

size_t http_head_feed(struct http_head *h, const char *data, size_t len)
{
	if (h->status || h->message_done || !len)
		return 0;
	size_t n = http_parser_execute(&h->p, &settings, data, len);
	enum http_errno en = HTTP_PARSER_ERRNO(&h->p);
	if (h->status)
		return n;
	if (en == HPE_PAUSED)
		return n;
	if (en != HPE_OK) {
		fail(h, en == HPE_HEADER_OVERFLOW ? 431 : 400, parser_error(en));
		return n;
	}
	if (h->p.upgrade && h->headers_done) {
		/* http-parser stops at an upgrade: the message has no body */
		h->message_done = true;
	}
	return n;
}

/* ---------------------------------------------------------------- the target */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *http_percent_decode(struct arena *a, const char *s, size_t n, bool plus)
{
	char *out = arena_alloc(a, n + 1), *o = out;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '%') {
			if (i + 2 >= n)
				return NULL;
			int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return NULL;
			c = (char)(hi * 16 + lo);
			i += 2;
		} else if (c == '+' && plus) {
			c = ' ';
		}
		if (c == '\0')
			return NULL;
		*o++ = c;
	}
	*o = '\0';
	return out;
}

int http_target_split(struct arena *a, const char *target, const char **path, struct kv *query,
		      int *n_query, const char **why)
{
	*n_query = 0;
	*path = NULL;
	if (target[0] != '/') {
		*why = "the request target must be a path that starts with /";
		return 400;
	}
	const char *qm = strchr(target, '?');
	size_t plen = qm ? (size_t)(qm - target) : strlen(target);
	const char *fragment = memchr(target, '#', plen);
	if (fragment)
		plen = (size_t)(fragment - target);
	if (!(*path = http_percent_decode(a, target, plen, false))) {
		*why = "the request path has a malformed escape or a NUL";
		return 400;
	}
	for (const char *q = qm ? qm + 1 : NULL; q && *q && *q != '#';) {
		size_t len = strcspn(q, "&#");
		const char *eq = memchr(q, '=', len);
		if (len) {
			if (*n_query >= MAX_KV) {
				*why = "the query has more than 128 parameters";
				return 400;
			}
			size_t klen = eq ? (size_t)(eq - q) : len;
			query[*n_query].k = http_percent_decode(a, q, klen, true);
			query[*n_query].v =
			    eq ? http_percent_decode(a, eq + 1, len - klen - 1, true) : "";
			if (!query[*n_query].k || !query[*n_query].v) {
				*why = "the query has a malformed escape or a NUL";
				return 400;
			}
			(*n_query)++;
		}
		q += len;
		if (*q == '&')
			q++;
	}
	return 0;
}
