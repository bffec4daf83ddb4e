/* json.c: compact JSON from jansson values in one pass, and a fast UTF-8 check.
 *
 * A string is copied in runs: eight bytes at a time are tested for anything that needs an
 * escape (a control character, '"' or '\\'), and only a word that has one is looked at byte
 * by byte. Numbers are written as jansson writes them, so the output is byte for byte
 * json_dumps(v, JSON_COMPACT) (object members in their insertion order). */
#include "core.h"

#include <jansson.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 2048

#define ONES  0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

static inline uint64_t load8(const unsigned char *p)
{
	uint64_t w;
	memcpy(&w, p, 8);
	return w;
}

/* Non-zero when a byte of `w` is below 0x20, or is '"' or '\\'. */
static inline uint64_t needs_escape(uint64_t w)
{
	uint64_t lt = (w - ONES * 0x20) & ~w;
	uint64_t q = w ^ (ONES * '"');
	uint64_t bs = w ^ (ONES * '\\');
	return (lt | ((q - ONES) & ~q) | ((bs - ONES) & ~bs)) & HIGHS;
}

/* ---------------------------------------------------------------- UTF-8 */

bool utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str, *end = s + n;
	while (s < end) {
		if ((size_t)(end - s) >= 8 && !(load8(s) & HIGHS)) {
			s += 8;
			continue;
		}
		unsigned c = *s;
		if (c < 0x80) {
			s++;
			continue;
		}
		size_t len;
		uint32_t cp, min;
		if (c >= 0xC2 && c <= 0xDF) {
			len = 2, cp = c & 0x1F, min = 0x80;
		} else if (c >= 0xE0 && c <= 0xEF) {
			len = 3, cp = c & 0x0F, min = 0x800;
		} else if (c >= 0xF0 && c <= 0xF4) {
			len = 4, cp = c & 0x07, min = 0x10000;
		} else {
			return false; /* a continuation byte first, C0, C1 or past F4 */
		}
		if ((size_t)(end - s) < len)
			return false;
		for (size_t i = 1; i < len; i++) {
			if ((s[i] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		s += len;
	}
	return true;
}

json_t *json_text(const char *s, size_t n)
{
	return utf8_valid(s, n) ? json_stringn_nocheck(s, n) : NULL;
}

void json_use_huge_pages(void)
{
	json_set_alloc_funcs(mem_alloc, free);
}

/* ---------------------------------------------------------------- the writer */

static int put(struct buf *b, const char *s, size_t n)
{
	return buf_append(b, s, n);
}

static int put_string(struct buf *b, const char *str, size_t n)
{
	/* room for the string unescaped and its quotes; escapes ask for more */
	int rc = buf_reserve(b, n + 2);
	if (rc)
		return rc;
	const unsigned char *s = (const unsigned char *)str, *end = s + n;
	char *o = b->data + b->len;
	*o++ = '"';
	while (s < end) {
		const unsigned char *run = s;
		while ((size_t)(end - s) >= 8 && !needs_escape(load8(s)))
			s += 8;
		while (s < end && *s >= 0x20 && *s != '"' && *s != '\\')
			s++;
		memcpy(o, run, (size_t)(s - run));
		o += s - run;
		if (s == end)
			break;
		/* one escape of up to six bytes where the one byte was counted */
		b->len = (size_t)(o - b->data);
		if ((rc = buf_reserve(b, 5 + (size_t)(end - s) + 1)) != 0)
			return rc;
		o = b->data + b->len;
		unsigned char c = *s++;
		*o++ = '\\';
		switch (c) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '\b': *o++ = 'b'; break;
		case '\f': *o++ = 'f'; break;
		case '\n': *o++ = 'n'; break;
		case '\r': *o++ = 'r'; break;
		case '\t': *o++ = 't'; break;
		default:
			*o++ = 'u';
			*o++ = '0';
			*o++ = '0';
			*o++ = "0123456789ABCDEF"[c >> 4];
			*o++ = "0123456789ABCDEF"[c & 15];
		}
	}
	*o++ = '"';
	b->len = (size_t)(o - b->data);
	b->data[b->len] = '\0';
	return 0;
}

static int put_integer(struct buf *b, json_int_t v)
{
	char tmp[24], *p = tmp + sizeof(tmp);
	/* the magnitude as unsigned: the most negative value has no positive twin */
	unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--p = '-';
	return put(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

/* As jansson writes a real: %.17g, a '.' for the locale's decimal point, ".0" when it
 * would read back as an integer, and no '+' or leading zeros in the exponent. */
static int put_real(struct buf *b, double v)
{
	char tmp[64];
	int n = snprintf(tmp, sizeof(tmp), "%.17g", v);
	if (n < 0 || (size_t)n >= sizeof(tmp) - 3)
		return ERR_INVALID;
	size_t len = (size_t)n;
	const char *point = localeconv()->decimal_point;
	if (point[0] != '.') {
		char *p = strchr(tmp, point[0]);
		if (p)
			*p = '.';
	}
	if (!strchr(tmp, '.') && !strchr(tmp, 'e')) {
		memcpy(tmp + len, ".0", 3);
		len += 2;
	}
	char *e = strchr(tmp, 'e');
	if (e) {
		char *start = e + 1, *digits = e + 2;
		if (*start == '-')
			start++;
		while (*digits == '0')
			digits++;
		if (digits != start) {
			memmove(start, digits, len - (size_t)(digits - tmp) + 1);
			len -= (size_t)(digits - start);
		}
	}
	return put(b, tmp, len);
}

static int encode(const json_t *v, struct buf *b, int depth)
{
	if (depth > MAX_DEPTH)
		return ERR_TOO_LARGE;
	int rc = 0;
	switch (json_typeof(v)) {
	case JSON_NULL: return put(b, "null", 4);
	case JSON_TRUE: return put(b, "true", 4);
	case JSON_FALSE: return put(b, "false", 5);
	case JSON_INTEGER: return put_integer(b, json_integer_value(v));
	case JSON_REAL: return put_real(b, json_real_value(v));
	case JSON_STRING: return put_string(b, json_string_value(v), json_string_length(v));
	case JSON_ARRAY: {
		size_t n = json_array_size(v);
		rc = put(b, "[", 1);
		for (size_t i = 0; i < n && !rc; i++) {
			if (i)
				rc = put(b, ",", 1);
			if (!rc)
				rc = encode(json_array_get(v, i), b, depth + 1);
		}
		return rc ? rc : put(b, "]", 1);
	}
	case JSON_OBJECT: {
		rc = put(b, "{", 1);
		bool first = true;
		/* the iterator is not changed: json_object_iter takes a non-const object */
		json_t *obj = (json_t *)v;
		for (void *it = json_object_iter(obj); it && !rc;
		     it = json_object_iter_next(obj, it)) {
			if (!first)
				rc = put(b, ",", 1);
			first = false;
			if (!rc)
				rc = put_string(b, json_object_iter_key(it),
						json_object_iter_key_len(it));
			if (!rc)
				rc = put(b, ":", 1);
			if (!rc)
				rc = encode(json_object_iter_value(it), b, depth + 1);
		}
		return rc ? rc : put(b, "}", 1);
	}
	}
	return ERR_INVALID;
}

int json_encode_buf(const json_t *v, struct buf *out)
{
	return v ? encode(v, out, 0) : ERR_INVALID;
}

char *json_encode(const json_t *v, size_t *len)
{
	struct buf b;
	buf_init(&b, SIZE_MAX);
	if (json_encode_buf(v, &b) != 0) {
		buf_release(&b);
		return NULL;
	}
	if (len)
		*len = b.len;
	return buf_steal(&b);
}
