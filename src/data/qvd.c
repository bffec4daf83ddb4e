/* qvd.c: the QVD reader and writer.
 *
 * Reading: the XML header (a small parser of our own: elements and text only; a DOCTYPE or
 * entity declaration is refused), then each field's symbol table, then the records, whose
 * fields are bit ranges of one little-endian integer per row. Every number from the header
 * is checked against the file before it is used, so a damaged or hostile file is an error,
 * never a read out of bounds. */
#include "data/data_int.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_HEADER (16u << 20) /* bytes of XML header we accept */
#define MAX_FIELDS 100000
#define MAX_DEPTH  16

/* ---------------------------------------------------------------- the XML header */

struct hfield {
	char *name;
	int64_t bit_offset, bit_width, bias, n_symbols, offset, length;
	bool has_name, has_offset, has_width, has_bias, has_nsym, has_off, has_len;
	char number_type[16], number_fmt[64];
	char **tags;
	int n_tags;
};

struct header {
	char *table_name;
	int64_t record_size, n_records, offset, length;
	bool has_rs, has_nr, has_off, has_len;
	char compression[32];
	char create_time[32]; /* CreateUtcTime as written ("2023-05-01 10:00:00"), or "" */
	struct hfield *fields;
	int n_fields, cap_fields;
};

static void header_release(struct header *h)
{
	for (int i = 0; i < h->n_fields; i++) {
		free(h->fields[i].name);
		for (int k = 0; k < h->fields[i].n_tags; k++)
			free(h->fields[i].tags[k]);
		free(h->fields[i].tags);
	}
	free(h->fields);
	free(h->table_name);
}

/* Appends the decoded text of x[0..n) (entities and character references) to b. */
static int decode_text(const char *x, size_t n, struct buf *b, struct err *e)
{
	for (size_t i = 0; i < n;) {
		if (x[i] != '&') {
			size_t j = i;
			while (j < n && x[j] != '&')
				j++;
			if (buf_append(b, x + i, j - i))
				return err_set(e, ERR_INVALID, "QVD header: a value is too long");
			i = j;
			continue;
		}
		const char *semi = memchr(x + i, ';', n - i);
		if (!semi || semi - (x + i) > 12)
			return err_set(e, ERR_INVALID, "QVD header: a bare '&' in a value");
		size_t len = (size_t)(semi - (x + i)) + 1;
		char ch[8];
		size_t chn = 0;
		if (len == 5 && !memcmp(x + i, "&amp;", 5))
			ch[chn++] = '&';
		else if (len == 4 && !memcmp(x + i, "&lt;", 4))
			ch[chn++] = '<';
		else if (len == 4 && !memcmp(x + i, "&gt;", 4))
			ch[chn++] = '>';
		else if (len == 6 && !memcmp(x + i, "&quot;", 6))
			ch[chn++] = '"';
		else if (len == 6 && !memcmp(x + i, "&apos;", 6))
			ch[chn++] = '\'';
		else if (len > 3 && x[i + 1] == '#') {
			unsigned long cp = 0;
			bool hex = x[i + 2] == 'x' || x[i + 2] == 'X';
			size_t k = hex ? i + 3 : i + 2;
			if (k >= (size_t)(semi - x))
				return err_set(e, ERR_INVALID,
					       "QVD header: a malformed character reference");
			for (; k < (size_t)(semi - x); k++) {
				char c = x[k];
				int d = c >= '0' && c <= '9'	      ? c - '0'
					: hex && c >= 'a' && c <= 'f' ? c - 'a' + 10
					: hex && c >= 'A' && c <= 'F' ? c - 'A' + 10
								      : -1;
				if (d < 0 || cp > 0x10FFFF)
					return err_set(
					    e, ERR_INVALID,
					    "QVD header: a malformed character reference");
				cp = cp * (hex ? 16 : 10) + (unsigned long)d;
			}
			if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
				return err_set(e, ERR_INVALID,
					       "QVD header: character reference %lu is not allowed",
					       cp);
			if (cp < 0x80) {
				ch[chn++] = (char)cp;
			} else if (cp < 0x800) {
				ch[chn++] = (char)(0xC0 | (cp >> 6));
				ch[chn++] = (char)(0x80 | (cp & 0x3F));
			} else if (cp < 0x10000) {
				ch[chn++] = (char)(0xE0 | (cp >> 12));
				ch[chn++] = (char)(0x80 | ((cp >> 6) & 0x3F));
				ch[chn++] = (char)(0x80 | (cp & 0x3F));
			} else {
				ch[chn++] = (char)(0xF0 | (cp >> 18));
				ch[chn++] = (char)(0x80 | ((cp >> 12) & 0x3F));
				ch[chn++] = (char)(0x80 | ((cp >> 6) & 0x3F));
				ch[chn++] = (char)(0x80 | (cp & 0x3F));
			}
		} else {
			return err_set(e, ERR_INVALID, "QVD header: unknown entity %.*s", (int)len,
				       x + i);
		}
		if (buf_append(b, ch, chn))
			return err_set(e, ERR_INVALID, "QVD header: a value is too long");
		i += len;
	}
	return 0;
}

static int num(const char *text, int64_t lo, int64_t hi, const char *what, int64_t *out,
	       struct err *e)
{
	char t[64];
	size_t n = strlen(text);
	while (n && (text[n - 1] == ' ' || text[n - 1] == '\t' || text[n - 1] == '\r' ||
		     text[n - 1] == '\n'))
		n--;
	while (n && (*text == ' ' || *text == '\t' || *text == '\r' || *text == '\n')) {
		text++;
		n--;
	}
	if (n == 0 || n >= sizeof(t))
		return err_set(e, ERR_INVALID, "QVD header: %s is not a number", what);
	memcpy(t, text, n);
	t[n] = '\0';
	if (str_to_i64(t, lo, hi, out) != 0)
		return err_set(e, ERR_INVALID,
			       "QVD header: %s is \"%s\", not a number in %lld..%lld", what, t,
			       (long long)lo, (long long)hi);
	return 0;
}

/* One leaf element's text, by its path below QvdTableHeader. */
static int on_leaf(struct header *h, const char *path, const char *text, struct err *e)
{
	struct hfield *f = h->n_fields ? &h->fields[h->n_fields - 1] : NULL;
	const char *fp = "Fields/QvdFieldHeader/";
	if (strncmp(path, fp, strlen(fp)) == 0) {
		if (!f)
			return err_set(e, ERR_INVALID,
				       "QVD header: a field element outside a field");
		const char *k = path + strlen(fp);
		if (!strcmp(k, "FieldName")) {
			free(f->name);
			f->name = strdup(text);
			f->has_name = f->name != NULL;
			return f->name ? 0 : err_set(e, ERR_NOMEM, "out of memory");
		}
		if (!strcmp(k, "BitOffset"))
			return f->has_offset = true,
			       num(text, 0, INT32_MAX, "BitOffset", &f->bit_offset, e);
		if (!strcmp(k, "BitWidth"))
			return f->has_width = true, num(text, 0, 32, "BitWidth", &f->bit_width, e);
		if (!strcmp(k, "Bias"))
			return f->has_bias = true, num(text, -2, 0, "Bias", &f->bias, e);
		if (!strcmp(k, "NoOfSymbols"))
			return f->has_nsym = true,
			       num(text, 0, INT32_MAX, "NoOfSymbols", &f->n_symbols, e);
		if (!strcmp(k, "Offset"))
			return f->has_off = true,
			       num(text, 0, INT64_MAX / 2, "a field Offset", &f->offset, e);
		if (!strcmp(k, "Length"))
			return f->has_len = true,
			       num(text, 0, INT64_MAX / 2, "a field Length", &f->length, e);
		if (!strcmp(k, "NumberFormat/Type")) {
			str_copy(f->number_type, text, sizeof(f->number_type));
			return 0;
		}
		if (!strcmp(k, "NumberFormat/Fmt")) {
			str_copy(f->number_fmt, text, sizeof(f->number_fmt));
			return 0;
		}
		if (!strcmp(k, "Tags/String")) {
			if (f->n_tags >= 64)
				return 0;
			char **t = realloc(f->tags, sizeof(char *) * (size_t)(f->n_tags + 1));
			if (!t)
				return err_set(e, ERR_NOMEM, "out of memory");
			f->tags = t;
			if (!(t[f->n_tags] = strdup(text)))
				return err_set(e, ERR_NOMEM, "out of memory");
			f->n_tags++;
		}
		return 0;
	}
	if (!strcmp(path, "TableName")) {
		free(h->table_name);
		h->table_name = strdup(text);
		return h->table_name ? 0 : err_set(e, ERR_NOMEM, "out of memory");
	}
	if (!strcmp(path, "RecordByteSize"))
		return h->has_rs = true,
		       num(text, 0, 1 << 20, "RecordByteSize", &h->record_size, e);
	if (!strcmp(path, "NoOfRecords"))
		return h->has_nr = true, num(text, 0, INT32_MAX, "NoOfRecords", &h->n_records, e);
	if (!strcmp(path, "Offset"))
		return h->has_off = true, num(text, 0, INT64_MAX / 2, "Offset", &h->offset, e);
	if (!strcmp(path, "Length"))
		return h->has_len = true, num(text, 0, INT64_MAX / 2, "Length", &h->length, e);
	if (!strcmp(path, "Compression"))
		str_copy(h->compression, text, sizeof(h->compression));
	if (!strcmp(path, "CreateUtcTime"))
		str_copy(h->create_time, text, sizeof(h->create_time));
	return 0;
}

static int on_start(struct header *h, const char *path, struct err *e)
{
	if (strcmp(path, "Fields/QvdFieldHeader") != 0)
		return 0;
	if (h->n_fields >= MAX_FIELDS)
		return err_set(e, ERR_INVALID, "QVD header: more than %d fields", MAX_FIELDS);
	if (h->n_fields == h->cap_fields) {
		int cap = h->cap_fields ? h->cap_fields * 2 : 16;
		struct hfield *nf = realloc(h->fields, sizeof(*nf) * (size_t)cap);
		if (!nf)
			return err_set(e, ERR_NOMEM, "out of memory");
		h->fields = nf;
		h->cap_fields = cap;
	}
	memset(&h->fields[h->n_fields++], 0, sizeof(struct hfield));
	str_copy(h->fields[h->n_fields - 1].number_type, "UNKNOWN",
		 sizeof(h->fields[0].number_type));
	return 0;
}

/* Parses x[0..n), the header up to and including </QvdTableHeader>. */
/* "A/B/C": the names of the open elements below the root, joined. */
static void element_path(char stack[][64], int depth, char *out, size_t n)
{
	size_t at = 0;
	out[0] = '\0';
	for (int k = 1; k < depth && at < n; k++) {
		int w = snprintf(out + at, n - at, "%s%s", k > 1 ? "/" : "", stack[k]);
		if (w < 0)
			break;
		at += (size_t)w;
	}
}

/* The XML reader of a QVD header: the open elements, and the text of the innermost one. */
struct xml {
	const char *x;
	size_t n;
	struct header *h;
	char stack[MAX_DEPTH][64];
	int depth;
	bool leaf; /* no child element since the current one opened */
	size_t text_start;
	struct buf text;
	bool root_seen, root_closed;
};

/* A processing instruction or comment at byte i: *i moves past it. */
static int skip_special(struct xml *r, size_t *i, struct err *e)
{
	const char *x = r->x;
	const char *end = x[*i + 1] == '?' ? "?>" : "-->";
	size_t el = strlen(end);
	for (size_t k = *i + 2; k + el <= r->n; k++)
		if (!memcmp(x + k, end, el)) {
			*i = k + el;
			return 0;
		}
	return err_set(e, ERR_INVALID, "QVD header: an unterminated %s",
		       x[*i + 1] == '?' ? "processing instruction" : "comment");
}

/* </name> at byte i: a leaf's text goes to the header. */
static int close_tag(struct xml *r, const char *nm, size_t nl, size_t i, struct err *e)
{
	if (r->depth == 0 || strlen(r->stack[r->depth - 1]) != nl ||
	    memcmp(r->stack[r->depth - 1], nm, nl) != 0)
		return err_set(e, ERR_INVALID,
			       "QVD header: </%.*s> at byte %zu does not close <%s>", (int)nl, nm,
			       i, r->depth ? r->stack[r->depth - 1] : "");
	int rc = 0;
	if (r->leaf && r->depth > 1) {
		r->text.len = 0;
		if (r->text.data)
			r->text.data[0] = '\0';
		rc = decode_text(r->x + r->text_start, i - r->text_start, &r->text, e);
		char path[MAX_DEPTH * 64];
		element_path(r->stack, r->depth, path, sizeof(path));
		if (rc == 0 && buf_append(&r->text, "", 1) == 0)
			rc = on_leaf(r->h, path, r->text.data, e);
	}
	r->depth--;
	r->leaf = false;
	if (r->depth == 0)
		r->root_closed = true;
	return rc;
}

/* <name> or <name/> ending at gt. */
static int open_tag(struct xml *r, const char *nm, size_t nl, const char *gt, bool empty,
		    struct err *e)
{
	if (r->depth == MAX_DEPTH)
		return err_set(e, ERR_INVALID, "QVD header: elements nest too deep");
	if (r->depth == 0) {
		if (r->root_seen || nl != 14 || memcmp(nm, "QvdTableHeader", 14) != 0)
			return err_set(e, ERR_INVALID,
				       "QVD header: the root element is not <QvdTableHeader>");
		r->root_seen = true;
	}
	memcpy(r->stack[r->depth], nm, nl);
	r->stack[r->depth][nl] = '\0';
	r->depth++;
	char path[MAX_DEPTH * 64];
	element_path(r->stack, r->depth, path, sizeof(path));
	int rc = r->depth > 1 ? on_start(r->h, path, e) : 0;
	if (empty) {
		/* <Foo/>: an empty value */
		if (rc == 0 && r->depth > 1)
			rc = on_leaf(r->h, path, "", e);
		r->depth--;
		r->leaf = false;
	} else {
		r->leaf = true;
		r->text_start = (size_t)(gt - r->x) + 1;
	}
	return rc;
}

/* The tag at byte i; *i moves past it. */
static int tag(struct xml *r, size_t *i, struct err *e)
{
	const char *x = r->x;
	size_t n = r->n;
	if (*i + 1 < n && (x[*i + 1] == '?' || (x[*i + 1] == '!' && *i + 3 < n &&
						x[*i + 2] == '-' && x[*i + 3] == '-')))
		return skip_special(r, i, e);
	if (*i + 1 < n && x[*i + 1] == '!')
		return err_set(e, ERR_INVALID,
			       "QVD header: declarations (DOCTYPE, ENTITY, CDATA) are refused");
	const char *gt = memchr(x + *i, '>', n - *i);
	if (!gt)
		return err_set(e, ERR_INVALID, "QVD header: an unterminated tag at byte %zu", *i);
	bool closing = x[*i + 1] == '/';
	bool empty = gt[-1] == '/' && !closing;
	const char *nm = x + *i + (closing ? 2 : 1);
	size_t nl = 0;
	while (nm + nl < gt && nm[nl] != ' ' && nm[nl] != '/' && nm[nl] != '\t' && nm[nl] != '\r' &&
	       nm[nl] != '\n')
		nl++;
	if (nl == 0 || nl >= sizeof(r->stack[0]))
		return err_set(e, ERR_INVALID, "QVD header: a malformed tag at byte %zu", *i);
	int rc = closing ? close_tag(r, nm, nl, *i, e) : open_tag(r, nm, nl, gt, empty, e);
	*i = (size_t)(gt - x) + 1;
	return rc;
}

static int parse_header(const char *x, size_t n, struct header *h, struct err *e)
{
	struct xml *r = calloc(1, sizeof(*r));
	if (!r)
		return err_set(e, ERR_NOMEM, "out of memory");
	r->x = x;
	r->n = n;
	r->h = h;
	buf_init(&r->text, 1 << 20);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0 && !r->root_closed;) {
		if (x[i] != '<')
			i++;
		else
			rc = tag(r, &i, e);
	}
	if (rc == 0 && !r->root_closed)
		rc = err_set(e, ERR_INVALID, "QVD header: <QvdTableHeader> is not closed");
	buf_release(&r->text);
	free(r);
	return rc;
}

/* ---------------------------------------------------------------- the body */

static uint32_t get_bits(const uint8_t *rec, size_t rec_size, unsigned off, unsigned width)
{
	if (width == 0)
		return 0;
	size_t byte = off >> 3;
	unsigned shift = off & 7;
	if (byte + 8 <= rec_size) {
		uint64_t v = 0;
		for (int k = 7; k >= 0; k--)
			v = (v << 8) | rec[byte + (size_t)k];
		return (uint32_t)((v >> shift) & ((1ULL << width) - 1));
	}
	uint64_t v = 0;
	for (unsigned i = 0; i < width; i++) {
		unsigned b = off + i;
		v |= (uint64_t)((rec[b >> 3] >> (b & 7)) & 1u) << i;
	}
	return (uint32_t)v;
}

static double le_double(const uint8_t *p)
{
	uint64_t u = 0;
	for (int k = 7; k >= 0; k--)
		u = (u << 8) | p[k];
	double d;
	memcpy(&d, &u, sizeof(d));
	return d;
}

static int32_t le_int32(const uint8_t *p)
{
	uint32_t u =
	    (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	int32_t v;
	memcpy(&v, &u, sizeof(v));
	return v;
}

int data_qvd_symbols_read(struct qvd_field *f, const uint8_t *sym, size_t len, char *store,
			  struct err *e)
{
	f->symbols = calloc((size_t)(f->n_symbols ? f->n_symbols : 1), sizeof(*f->symbols));
	if (!f->symbols)
		return err_set(e, ERR_NOMEM, "out of memory");
	memcpy(store, sym, len);
	size_t p = 0;
	for (int64_t s = 0; s < f->n_symbols; s++) {
		if (p >= len)
			return err_set(e, ERR_INVALID,
				       "QVD field \"%s\": its symbol table ends after %lld of %lld "
				       "symbols",
				       f->name, (long long)s, (long long)f->n_symbols);
		struct qvd_value *v = &f->symbols[s];
		uint8_t t = sym[p++];
		size_t nbytes = t == QVD_INT || t == QVD_DUAL_INT	  ? 4
				: t == QVD_DOUBLE || t == QVD_DUAL_DOUBLE ? 8
				: t == QVD_STRING			  ? 0
									  : SIZE_MAX;
		if (nbytes == SIZE_MAX)
			return err_set(e, ERR_INVALID,
				       "QVD field \"%s\", symbol %lld: unknown type byte 0x%02x",
				       f->name, (long long)s, t);
		if (p + nbytes > len)
			return err_set(e, ERR_INVALID, "QVD field \"%s\", symbol %lld is cut off",
				       f->name, (long long)s);
		v->type = (enum qvd_type)t;
		if (nbytes == 4)
			v->num = le_int32(sym + p);
		else if (nbytes == 8)
			v->num = le_double(sym + p);
		p += nbytes;
		if (t == QVD_INT || t == QVD_DOUBLE)
			continue;
		const uint8_t *nul = memchr(sym + p, 0, len - p);
		if (!nul)
			return err_set(e, ERR_INVALID,
				       "QVD field \"%s\", symbol %lld: its text has no end",
				       f->name, (long long)s);
		size_t tl = (size_t)(nul - (sym + p));
		if (!utf8_valid((const char *)sym + p, tl))
			return err_set(e, ERR_INVALID,
				       "QVD field \"%s\", symbol %lld: its text is not UTF-8",
				       f->name, (long long)s);
		v->text = store + p;
		p += tl + 1;
	}
	if (p != len)
		return err_set(e, ERR_INVALID,
			       "QVD field \"%s\": its %lld symbols take %zu bytes, not the %zu the "
			       "header says",
			       f->name, (long long)f->n_symbols, p, len);
	return 0;
}

bool data_canonical_integer(const char *text, double num)
{
	const char *p = text + (*text == '-');
	size_t n = strspn(p, "0123456789");
	if (n == 0 || n > 15 || p[n] != '\0' || (p[0] == '0' && n > 1) ||
	    (*text == '-' && p[0] == '0'))
		return false;
	double v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (p[i] - '0');
	return (*text == '-' ? -v : v) == num;
}

/* data_canonical_integer of the NUL-terminated text at t (within avail bytes) in one pass:
 * *used is its length with the NUL. */
static bool canonical_text(const uint8_t *t, size_t avail, double num, size_t *used)
{
	size_t i = avail && t[0] == '-', digits = 0;
	int64_t v = 0;
	for (; i < avail && t[i] >= '0' && t[i] <= '9' && digits <= 15; i++, digits++)
		v = v * 10 + (t[i] - '0');
	size_t first = avail && t[0] == '-';
	if (i >= avail || t[i] != '\0' || digits == 0 || digits > 15 ||
	    (t[first] == '0' && (digits > 1 || first)))
		return false;
	*used = i + 1;
	return (double)(first ? -v : v) == num;
}

/* Whether field hf's symbols in sym[0..length) are DATA_DENSE_MIN or more consecutive
 * whole numbers, each without a text or with the text its number writes (*base: the
 * first). Reads the bytes alone: a damaged table is not dense, and read_symbols then says
 * what is wrong with it. */
static bool dense_symbols(const struct hfield *hf, const uint8_t *sym, double *base)
{
	size_t len = (size_t)hf->length, p = 0;
	if (hf->n_symbols < DATA_DENSE_MIN)
		return false;
	for (int64_t s = 0; s < hf->n_symbols; s++) {
		if (p >= len)
			return false;
		uint8_t t = sym[p++];
		double v;
		if ((t == QVD_INT || t == QVD_DUAL_INT) && p + 4 <= len)
			v = le_int32(sym + p), p += 4;
		else if ((t == QVD_DOUBLE || t == QVD_DUAL_DOUBLE) && p + 8 <= len)
			v = le_double(sym + p), p += 8;
		else
			return false;
		if (s == 0)
			*base = v;
		if (v != *base + (double)s || fabs(v) >= 1e15)
			return false;
		size_t used = 0;
		if ((t == QVD_DUAL_INT || t == QVD_DUAL_DOUBLE) &&
		    !canonical_text(sym + p, len - p, v, &used))
			return false;
		p += used;
	}
	return p == len;
}

/* Where the XML header ends (after </QvdTableHeader>) and the body begins (after CR/LF
 * and one NUL). */
static int find_body(const char *x, size_t len, size_t *out_hend, size_t *out_body, struct err *e)
{
	static const char close_tag[] = "</QvdTableHeader>";
	size_t scan = len < MAX_HEADER ? len : MAX_HEADER, hend = 0;
	bool found = false;
	for (size_t i = 0; i + sizeof(close_tag) - 1 <= scan; i++) {
		if (x[i] == '<' && !memcmp(x + i, close_tag, sizeof(close_tag) - 1)) {
			hend = i + sizeof(close_tag) - 1;
			found = true;
			break;
		}
	}
	if (!found)
		return err_set(e, ERR_INVALID,
			       "not a QVD file: no </QvdTableHeader> in its first %zu bytes", scan);
	size_t b = hend;
	while (b < len && (x[b] == '\r' || x[b] == '\n'))
		b++;
	if (b >= len || x[b] != '\0')
		return err_set(e, ERR_INVALID, "QVD file: no NUL byte after the XML header");
	*out_hend = hend;
	*out_body = b + 1;
	return 0;
}

/* The header's sizes and offsets against each other and the body; *sym_total gets the
 * bytes of all symbol tables. */
static int check_header(const struct header *h, uint64_t body_len, uint64_t *sym_total,
			struct err *e)
{
	if (!h->has_rs || !h->has_nr || !h->has_off || !h->has_len)
		return err_set(
		    e, ERR_INVALID,
		    "QVD header: RecordByteSize, NoOfRecords, Offset or Length is missing");
	if (h->compression[0])
		return err_set(e, ERR_INVALID, "QVD header: compression \"%s\" is not supported",
			       h->compression);
	if ((uint64_t)h->n_records * (uint64_t)h->record_size != (uint64_t)h->length)
		return err_set(e, ERR_INVALID,
			       "QVD header: %lld records of %lld bytes do not make Length %lld",
			       (long long)h->n_records, (long long)h->record_size,
			       (long long)h->length);
	if ((uint64_t)h->offset + (uint64_t)h->length > body_len)
		return err_set(
		    e, ERR_INVALID,
		    "QVD file is cut off: the records end at byte %lld of a %llu-byte body",
		    (long long)(h->offset + h->length), (unsigned long long)body_len);
	if (h->n_records > 0 && h->record_size == 0)
		return err_set(e, ERR_INVALID, "QVD header: RecordByteSize is 0");
	*sym_total = 0;
	for (int i = 0; i < h->n_fields; i++) {
		const struct hfield *f = &h->fields[i];
		if (!f->has_name || !f->has_offset || !f->has_width || !f->has_nsym ||
		    !f->has_off || !f->has_len)
			return err_set(e, ERR_INVALID,
				       "QVD header: field %d lacks a required element", i + 1);
		if ((uint64_t)f->offset + (uint64_t)f->length > (uint64_t)h->offset)
			return err_set(e, ERR_INVALID,
				       "QVD field \"%s\": its symbols run past the records' start",
				       f->name);
		if (f->bit_offset + f->bit_width > 8 * h->record_size && h->n_records > 0)
			return err_set(
			    e, ERR_INVALID,
			    "QVD field \"%s\": bits %lld..%lld lie outside a %lld-byte record",
			    f->name, (long long)f->bit_offset,
			    (long long)(f->bit_offset + f->bit_width), (long long)h->record_size);
		if (f->n_symbols > f->length)
			return err_set(e, ERR_INVALID,
				       "QVD field \"%s\": %lld symbols cannot fit in %lld bytes",
				       f->name, (long long)f->n_symbols, (long long)f->length);
		*sym_total += (uint64_t)f->length;
	}
	return 0;
}

/* A new table for the header's fields, with room for every symbol's text. */
static int new_table(const struct header *h, uint64_t sym_total, struct qvd_table **out,
		     struct err *e)
{
	struct qvd_table *t = calloc(1, sizeof(*t));
	*out = t;
	if (t)
		t->fields = calloc((size_t)(h->n_fields ? h->n_fields : 1), sizeof(*t->fields));
	if (t && t->fields)
		t->text_store = malloc(sym_total ? sym_total : 1);
	if (t) {
		t->n_fields = t->fields ? h->n_fields : 0;
		t->n_rows = h->n_records;
		t->name = strdup(h->table_name ? h->table_name : "");
	}
	if (!t || !t->fields || !t->text_store)
		return err_set(e, ERR_NOMEM, "out of memory");
	return 0;
}

/* Each field's description and symbol table, taken from the header. */
static int read_fields(struct header *h, struct qvd_table *t, const uint8_t *body, unsigned opts,
		       struct err *e)
{
	uint64_t store_at = 0;
	int rc = 0;
	for (int i = 0; rc == 0 && i < h->n_fields; i++) {
		struct hfield *hf = &h->fields[i];
		struct qvd_field *f = &t->fields[i];
		f->name = hf->name;
		hf->name = NULL;
		f->tags = hf->tags;
		f->n_tags = hf->n_tags;
		hf->tags = NULL;
		hf->n_tags = 0;
		str_copy(f->number_type, hf->number_type, sizeof(f->number_type));
		str_copy(f->number_fmt, hf->number_fmt, sizeof(f->number_fmt));
		f->bit_offset = (int)hf->bit_offset;
		f->bit_width = (int)hf->bit_width;
		f->bias = (int)hf->bias;
		f->n_symbols = hf->n_symbols;
		if ((opts & QVD_READ_DENSE) && dense_symbols(hf, body + hf->offset, &f->dense_base))
			f->dense = true; /* (its part of the text store stays unused) */
		else
			rc = data_qvd_symbols_read(f, body + hf->offset, (size_t)hf->length,
						   t->text_store + store_at, e);
		store_at += (uint64_t)hf->length;
		if (rc == 0 && (opts & QVD_READ_NARROW)) {
			/* a field with a symbol a row may hold row r's symbol in row r: tried
			 * while decoding (no column), given one only if it does not */
			f->narrow = true;
			int width = f->n_symbols == h->n_records && h->n_records > 0
					? 0
					: data_col_width(f->n_symbols);
			if (!data_col_alloc(&f->col, width, h->n_records))
				rc = err_set(e, ERR_NOMEM, "out of memory");
		} else if (rc == 0) {
			f->index =
			    malloc(sizeof(int32_t) * (size_t)(h->n_records ? h->n_records : 1));
			if (!f->index)
				rc = err_set(e, ERR_NOMEM, "out of memory");
		}
	}
	return rc;
}

/* Records [from, to) of a table, decoded by one thread: its first bad symbol index, if
 * any, is kept (row, field, index) for the caller to report. */
struct rec_part {
	const struct header *h;
	struct qvd_table *t;
	const uint8_t *recs;
	int64_t from, to;
	int64_t bad_row, bad_idx; /* bad_row -1: none */
	int bad_field;
	uint8_t *not_rows; /* per field read into a column of width 0: 1 when a row r does not
			      hold symbol r */
};

/* A field's bits of a record whose 8 bytes from `byte` on lie inside it: one load. */
static inline uint32_t load_bits(const uint8_t *rec, size_t byte, unsigned shift, uint64_t mask)
{
	uint64_t v;
	memcpy(&v, rec + byte, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return (uint32_t)((v >> shift) & mask);
}

/* Field f's symbol index in a record (bias added; -1 and below: NULL). */
static inline int64_t record_index(const uint8_t *rec, size_t rs, const struct qvd_field *f)
{
	unsigned off = (unsigned)f->bit_offset, width = (unsigned)f->bit_width;
	size_t byte = off >> 3;
	uint32_t bits = width && byte + 8 <= rs ? load_bits(rec, byte, off & 7, (1ULL << width) - 1)
						: get_bits(rec, rs, off, width);
	return (int64_t)bits + f->bias;
}

/* Field f's symbols of the n records from row `from` on (of n_records) into out (-1 NULL);
 * the first row whose index is past the field's symbols, or -1. */
static int64_t decode_field_rows(const uint8_t *recs, size_t rs, int64_t n_records,
				 const struct qvd_field *f, int64_t from, int64_t n, int32_t *out,
				 int64_t *bad_idx)
{
	unsigned off = (unsigned)f->bit_offset, width = (unsigned)f->bit_width, shift = off & 7;
	size_t byte = off >> 3;
	uint64_t mask = (1ULL << width) - 1;
	int64_t bias = f->bias, n_sym = f->n_symbols;
	const uint8_t *rec = recs + (size_t)from * rs;
	/* one 8-byte load a record while those bytes lie among the records (they may reach
	 * into the next record: the mask keeps the field's bits) */
	int64_t fast = (int64_t)(((size_t)n_records * rs - byte - 8) / rs) + 1;
	if (!width || (size_t)n_records * rs < byte + 8)
		fast = 0;
	fast = fast < from ? 0 : fast - from < n ? fast - from : n;
	int64_t k = 0;
	for (; k < fast; k++, rec += rs) {
		int64_t idx = (int64_t)load_bits(rec, byte, shift, mask) + bias;
		if (idx >= n_sym)
			break;
		out[k] = idx < 0 ? -1 : (int32_t)idx;
	}
	if (k == fast)
		for (; k < n; k++, rec += rs) {
			int64_t idx = (int64_t)get_bits(rec, rs, off, width) + bias;
			if (idx >= n_sym)
				break;
			out[k] = idx < 0 ? -1 : (int32_t)idx;
		}
	if (k == n)
		return -1;
	*bad_idx = record_index(rec, rs, f);
	return from + k;
}

#define DECODE_BLOCK 4096 /* records decoded field by field while they stay in the cache */

static void decode_records(struct rec_part *p)
{
	const struct header *h = p->h;
	size_t rs = (size_t)h->record_size;
	int32_t sym[DECODE_BLOCK];
	p->bad_row = -1;
	for (int64_t b = p->from; b < p->to; b += DECODE_BLOCK) {
		int64_t n = p->to - b < DECODE_BLOCK ? p->to - b : DECODE_BLOCK;
		for (int i = 0; i < h->n_fields; i++) {
			struct qvd_field *f = &p->t->fields[i];
			int64_t bad_idx = 0, bad = decode_field_rows(p->recs, rs, h->n_records, f,
								     b, n, sym, &bad_idx);
			if (bad >= 0) { /* the first bad row in the file, its first bad field */
				if (p->bad_row < 0 || bad < p->bad_row)
					p->bad_row = bad, p->bad_field = i, p->bad_idx = bad_idx;
				n = bad - b; /* the fields after it: only the rows before it */
				continue;
			}
			if (!f->narrow) {
				memcpy(f->index + b, sym, sizeof(int32_t) * (size_t)n);
			} else if (f->col.width) {
				data_col_write(&f->col, b, sym, n);
			} else {
				int32_t off = 0;
				for (int64_t k = 0; k < n; k++)
					off |= sym[k] ^ (int32_t)(b + k);
				p->not_rows[i] |= off != 0;
			}
		}
		if (p->bad_row >= 0)
			return;
	}
}

/* Field i's rows again into a column of its own width, once a row was found not to hold
 * its own number (the records were checked by the first pass). */
static int decode_field(const struct header *h, struct qvd_field *f, const uint8_t *recs,
			struct err *e)
{
	if (!data_col_alloc(&f->col, data_col_width(f->n_symbols), h->n_records))
		return err_set(e, ERR_NOMEM, "out of memory");
	int32_t sym[DECODE_BLOCK];
	int64_t bad_idx = 0;
	for (int64_t b = 0; b < h->n_records; b += DECODE_BLOCK) {
		int64_t n = h->n_records - b < DECODE_BLOCK ? h->n_records - b : DECODE_BLOCK;
		if (decode_field_rows(recs, (size_t)h->record_size, h->n_records, f, b, n, sym,
				      &bad_idx) >= 0)
			return err_set(e, ERR_INTERNAL, "QVD field \"%s\" read otherwise", f->name);
		data_col_write(&f->col, b, sym, n);
	}
	return 0;
}

static void *decode_records_thread(void *arg)
{
	decode_records(arg);
	return NULL;
}

#define PARALLEL_RECORDS (1 << 20) /* a table of this many records or more: two threads */

/* Every record's symbol index of every field; a large table's halves on two threads
 * (opening an app decodes its tables, and the fresh pages of their columns cost as much as
 * the decoding on this kind of machine). */
static int read_records(const struct header *h, struct qvd_table *t, const uint8_t *recs,
			struct err *e)
{
	enum { PARTS = 2 };
	int n = h->n_records >= PARALLEL_RECORDS ? PARTS : 1;
	struct rec_part parts[PARTS];
	pthread_t th[PARTS];
	bool started[PARTS] = {false};
	uint8_t *not_rows = calloc((size_t)PARTS * (size_t)h->n_fields + 1, 1);
	if (!not_rows)
		return err_set(e, ERR_NOMEM, "out of memory");
	for (int k = 0; k < n; k++)
		parts[k] =
		    (struct rec_part){.h = h,
				      .t = t,
				      .recs = recs,
				      .from = h->n_records * k / n,
				      .to = h->n_records * (k + 1) / n,
				      .not_rows = not_rows + (size_t)k * (size_t)h->n_fields};
	for (int k = 1; k < n; k++)
		started[k] = pthread_create(&th[k], NULL, decode_records_thread, &parts[k]) == 0;
	decode_records(&parts[0]);
	for (int k = 1; k < n; k++)
		if (started[k])
			pthread_join(th[k], NULL);
		else
			decode_records(&parts[k]); /* no thread to be had: here */
	for (int k = 0; k < n; k++) {
		const struct rec_part *p = &parts[k];
		if (p->bad_row < 0)
			continue;
		const struct qvd_field *f = &t->fields[p->bad_field];
		free(not_rows);
		return err_set(e, ERR_INVALID, "QVD field \"%s\", row %lld: symbol %lld of %lld",
			       f->name, (long long)p->bad_row + 1, (long long)p->bad_idx,
			       (long long)f->n_symbols);
	}
	int rc = 0;
	for (int i = 0; rc == 0 && i < h->n_fields; i++)
		if (not_rows[i] || (n > 1 && not_rows[h->n_fields + i]))
			rc = decode_field(h, &t->fields[i], recs, e);
	free(not_rows);
	return rc;
}

int data_qvd_read(const void *data, size_t len, struct qvd_table **out, struct err *e)
{
	return data_qvd_read_opts(data, len, 0, out, e);
}

int data_qvd_read_opts(const void *data, size_t len, unsigned opts, struct qvd_table **out,
		       struct err *e)
{
	*out = NULL;
	const char *x = data;
	size_t hend = 0, b = 0;
	int rc = find_body(x, len, &hend, &b, e);
	if (rc)
		return rc;
	const uint8_t *body = (const uint8_t *)x + b;
	struct header h = {0};
	uint64_t sym_total = 0;
	struct qvd_table *t = NULL;
	rc = parse_header(x, hend, &h, e);
	if (rc == 0)
		rc = check_header(&h, len - b, &sym_total, e);
	if (rc == 0)
		rc = new_table(&h, sym_total, &t, e);
	if (rc == 0)
		rc = read_fields(&h, t, body, opts, e);
	if (rc == 0)
		rc = read_records(&h, t, body + h.offset, e);
	header_release(&h);
	if (rc) {
		data_qvd_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

int data_qvd_read_info(const void *data, size_t len, struct qvd_info **out, struct err *e)
{
	*out = NULL;
	size_t hend = 0, b = 0;
	int rc = find_body(data, len, &hend, &b, e);
	struct header h = {0};
	if (rc == 0)
		rc = parse_header(data, hend, &h, e);
	struct qvd_info *i = rc == 0 ? calloc(1, sizeof(*i)) : NULL;
	if (rc == 0 && (!i || !(i->fields = calloc((size_t)h.n_fields + 1, sizeof(char *)))))
		rc = err_set(e, ERR_NOMEM, "out of memory");
	if (rc == 0) {
		i->n_records = h.n_records;
		str_copy(i->create_time, h.create_time, sizeof(i->create_time));
		i->table_name = h.table_name; /* taken */
		h.table_name = NULL;
		for (; i->n_fields < h.n_fields; i->n_fields++) {
			i->fields[i->n_fields] = h.fields[i->n_fields].name; /* taken */
			h.fields[i->n_fields].name = NULL;
		}
	}
	header_release(&h);
	if (rc) {
		data_qvd_info_free(i);
		return rc;
	}
	*out = i;
	return 0;
}

void data_qvd_info_free(struct qvd_info *i)
{
	if (!i)
		return;
	for (int k = 0; k < i->n_fields; k++)
		free(i->fields[k]);
	free(i->fields);
	free(i->table_name);
	free(i);
}

int data_qvd_read_file(const char *path, struct qvd_table **out, struct err *e)
{
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, ERR_IO, "cannot open %s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(e, ERR_IO, "%s is not a regular file", path);
	}
	if (st.st_size == 0) {
		close(fd);
		return err_set(e, ERR_INVALID, "%s is empty, not a QVD file", path);
	}
	void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return err_set(e, ERR_IO, "cannot map %s: %s", path, strerror(errno));
	int rc = data_qvd_read(m, (size_t)st.st_size, out, e);
	munmap(m, (size_t)st.st_size);
	if (rc)
		err_detail(e, "reading %s", path);
	return rc;
}

void data_qvd_free(struct qvd_table *t)
{
	if (!t)
		return;
	for (int i = 0; i < t->n_fields; i++) {
		struct qvd_field *f = &t->fields[i];
		free(f->name);
		free(f->symbols);
		free(f->index);
		data_col_free(&f->col);
		for (int k = 0; k < f->n_tags; k++)
			free(f->tags[k]);
		free(f->tags);
	}
	free(t->fields);
	free(t->text_store);
	free(t->name);
	free(t);
}

const char *data_qvd_value_text(const struct qvd_value *v, char *out, size_t n)
{
	if (v->text) {
		str_copy(out, v->text, n);
		return out;
	}
	double x = v->num == 0 ? 0 : v->num; /* -0 (from -x of 0) reads 0, as in Qlik */
	if (v->type == QVD_INT || (x == floor(x) && fabs(x) < 1e15))
		snprintf(out, n, "%.0f", x);
	else
		snprintf(out, n, "%.15g", x);
	return out;
}

/* ---------------------------------------------------------------- the writer */

static int put_escaped(struct buf *b, const char *s)
{
	int rc = 0;
	for (; *s && rc == 0; s++) {
		switch (*s) {
		case '&': rc = buf_puts(b, "&amp;"); break;
		case '<': rc = buf_puts(b, "&lt;"); break;
		case '>': rc = buf_puts(b, "&gt;"); break;
		case '"': rc = buf_puts(b, "&quot;"); break;
		case '\'': rc = buf_puts(b, "&apos;"); break;
		default:
			if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n' && *s != '\r')
				rc = buf_printf(b, "&#%d;", *s);
			else
				rc = buf_append(b, s, 1);
		}
	}
	return rc;
}

static unsigned bits_for(uint64_t max_value)
{
	unsigned w = 0;
	while (max_value) {
		w++;
		max_value >>= 1;
	}
	return w;
}

/* Where each field goes in a record, and how long its symbol table is. */
struct qvd_layout {
	unsigned *width, *offset;
	int *bias;
	uint64_t *sym_len;
	uint64_t rec_size, sym_total;
};

static void layout_free(struct qvd_layout *L)
{
	free(L->width);
	free(L->offset);
	free(L->bias);
	free(L->sym_len);
}

int data_qvd_symbols_length(const struct qvd_field *f, uint64_t *out, struct err *e)
{
	*out = 0;
	for (int64_t s = 0; s < f->n_symbols; s++) {
		const struct qvd_value *v = &f->symbols[s];
		uint64_t l = 1;
		if (v->type == QVD_INT || v->type == QVD_DUAL_INT)
			l += 4;
		else if (v->type == QVD_DOUBLE || v->type == QVD_DUAL_DOUBLE)
			l += 8;
		else if (v->type != QVD_STRING)
			return err_set(e, ERR_INVALID, "field \"%s\": symbol type %d", f->name,
				       v->type);
		if (v->type != QVD_INT && v->type != QVD_DOUBLE)
			l += strlen(v->text ? v->text : "") + 1;
		*out += l;
	}
	return 0;
}

/* Minimal widths from bit 0, Bias -2 only where a column has NULLs. */
static int plan_layout(const struct qvd_table *t, struct qvd_layout *L, struct err *e)
{
	int n = t->n_fields;
	L->width = calloc((size_t)(n ? n : 1), sizeof(*L->width));
	L->offset = calloc((size_t)(n ? n : 1), sizeof(*L->offset));
	L->bias = calloc((size_t)(n ? n : 1), sizeof(*L->bias));
	L->sym_len = calloc((size_t)(n ? n : 1), sizeof(*L->sym_len));
	if (!L->width || !L->offset || !L->bias || !L->sym_len)
		return err_set(e, ERR_NOMEM, "out of memory");
	unsigned total_bits = 0;
	for (int i = 0; i < n; i++) {
		const struct qvd_field *f = &t->fields[i];
		/* the lowest and highest index in one pass the compiler vectorises; the row of
		 * a bad one only when there is one */
		int32_t lo = 0, hi = -1;
		for (int64_t r = 0; r < t->n_rows; r++) {
			int32_t x = f->index[r];
			lo = x < lo ? x : lo;
			hi = x > hi ? x : hi;
		}
		bool has_null = lo < 0;
		for (int64_t r = 0; hi >= f->n_symbols && r < t->n_rows; r++)
			if (f->index[r] >= f->n_symbols)
				return err_set(e, ERR_INVALID,
					       "field \"%s\", row %lld: no symbol %d", f->name,
					       (long long)r + 1, f->index[r]);
		L->bias[i] = has_null ? -2 : 0;
		uint64_t max_stored = f->n_symbols == 0 ? 0 : (uint64_t)(f->n_symbols - 1);
		if (has_null)
			max_stored = (uint64_t)f->n_symbols + 1;
		L->width[i] = bits_for(max_stored);
		if (L->width[i] > 32)
			return err_set(e, ERR_INVALID, "field \"%s\" has too many symbols",
				       f->name);
		L->offset[i] = L->width[i] ? total_bits : 0;
		total_bits += L->width[i];
		int rc = data_qvd_symbols_length(f, &L->sym_len[i], e);
		if (rc)
			return rc;
		L->sym_total += L->sym_len[i];
	}
	L->rec_size = (total_bits + 7) / 8;
	if (L->rec_size == 0)
		L->rec_size = 1;
	return 0;
}

/* One field's <QvdFieldHeader>, its symbols at byte `at` of the symbol tables. */
static int field_header(struct buf *out, const struct qvd_field *f, const struct qvd_layout *L,
			int i, uint64_t at)
{
	int rc =
	    buf_puts(out, "    <QvdFieldHeader>\r\n      <FieldName>") ||
	    put_escaped(out, f->name) ||
	    buf_printf(out,
		       "</FieldName>\r\n      <BitOffset>%u</BitOffset>\r\n"
		       "      <BitWidth>%u</BitWidth>\r\n      <Bias>%d</Bias>\r\n"
		       "      <NumberFormat>\r\n        <Type>",
		       L->offset[i], L->width[i], L->bias[i]) ||
	    put_escaped(out, f->number_type[0] ? f->number_type : "UNKNOWN") ||
	    buf_puts(out, "</Type>\r\n        <nDec>0</nDec>\r\n        <UseThou>0</UseThou>\r\n"
			  "        <Fmt>") ||
	    put_escaped(out, f->number_fmt) ||
	    buf_printf(out,
		       "</Fmt>\r\n        <Dec></Dec>\r\n        <Thou></Thou>\r\n"
		       "      </NumberFormat>\r\n      <NoOfSymbols>%lld</NoOfSymbols>\r\n"
		       "      <Offset>%llu</Offset>\r\n      <Length>%llu</Length>\r\n"
		       "      <Comment></Comment>\r\n      <Tags>\r\n",
		       (long long)f->n_symbols, (unsigned long long)at,
		       (unsigned long long)L->sym_len[i]);
	for (int k = 0; k < f->n_tags && rc == 0; k++)
		rc = buf_puts(out, "        <String>") || put_escaped(out, f->tags[k]) ||
		     buf_puts(out, "</String>\r\n");
	if (rc == 0)
		rc = buf_puts(out, "      </Tags>\r\n    </QvdFieldHeader>\r\n");
	return rc;
}

/* The XML header and the NUL after it. No timestamps: the same table, the same bytes. */
static int write_header(const struct qvd_table *t, const struct qvd_layout *L, struct buf *out)
{
	int rc = buf_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\r\n"
			       "<QvdTableHeader>\r\n"
			       "  <QvBuildNo>50699</QvBuildNo>\r\n"
			       "  <CreatorDoc>fathom</CreatorDoc>\r\n"
			       "  <CreateUtcTime></CreateUtcTime>\r\n"
			       "  <SourceCreateUtcTime></SourceCreateUtcTime>\r\n"
			       "  <SourceFileUtcTime></SourceFileUtcTime>\r\n"
			       "  <SourceFileSize>-1</SourceFileSize>\r\n"
			       "  <StaleUtcTime></StaleUtcTime>\r\n"
			       "  <TableName>");
	if (rc == 0)
		rc = put_escaped(out, t->name ? t->name : "") || buf_puts(out, "</TableName>\r\n");
	if (rc == 0)
		rc = buf_puts(out, "  <Fields>\r\n");
	uint64_t at = 0;
	for (int i = 0; i < t->n_fields && rc == 0; i++) {
		rc = field_header(out, &t->fields[i], L, i, at);
		at += L->sym_len[i];
	}
	if (rc == 0)
		rc = buf_printf(out,
				"  </Fields>\r\n  <Compression></Compression>\r\n"
				"  <RecordByteSize>%llu</RecordByteSize>\r\n"
				"  <NoOfRecords>%lld</NoOfRecords>\r\n  <Offset>%llu</Offset>\r\n"
				"  <Length>%llu</Length>\r\n  <Lineage></Lineage>\r\n"
				"  <Comment></Comment>\r\n</QvdTableHeader>\r\n",
				(unsigned long long)L->rec_size, (long long)t->n_rows,
				(unsigned long long)L->sym_total,
				(unsigned long long)(L->rec_size * (uint64_t)t->n_rows));
	if (rc == 0)
		rc = buf_append(out, "", 1);
	return rc;
}

uint8_t *data_qvd_symbols_put(const struct qvd_field *f, uint8_t *p, const uint8_t *end)
{
	for (int64_t s = 0; s < f->n_symbols; s++) {
		const struct qvd_value *v = &f->symbols[s];
		bool text = v->type != QVD_INT && v->type != QVD_DOUBLE;
		const char *tx = text && v->text ? v->text : "";
		size_t n = text ? strlen(tx) + 1 : 0, w = 0;
		uint64_t u = 0;
		if (v->type == QVD_INT || v->type == QVD_DUAL_INT) {
			int32_t iv = (int32_t)v->num;
			uint32_t u32;
			memcpy(&u32, &iv, 4);
			u = u32, w = 4;
		} else if (v->type == QVD_DOUBLE || v->type == QVD_DUAL_DOUBLE) {
			memcpy(&u, &v->num, 8);
			w = 8;
		}
		if ((size_t)(end - p) < 1 + w + n)
			return NULL;
		*p++ = (uint8_t)v->type;
		for (size_t k = 0; k < w; k++)
			*p++ = (uint8_t)(u >> (8 * k));
		memcpy(p, tx, n);
		p += n;
	}
	return p;
}

/* The symbol tables: L->sym_total bytes (plan_layout counted them), written in place. */
static int write_symbols(const struct qvd_table *t, const struct qvd_layout *L, struct buf *out)
{
	if (buf_reserve(out, (size_t)L->sym_total))
		return ERR_TOO_LARGE;
	uint8_t *p = (uint8_t *)out->data + out->len, *end = p + L->sym_total;
	for (int i = 0; i < t->n_fields && p; i++)
		p = data_qvd_symbols_put(&t->fields[i], p, end);
	if (p != end)
		return ERR_INVALID; /* (not as counted: cannot be) */
	out->len += (size_t)L->sym_total;
	out->data[out->len] = '\0';
	return 0;
}

/* The records: each field's symbol index (biased) packed at its bit offset. Records
 * [from, to) of a table are packed by one thread into dst (record `from` first). */
struct pack_part {
	const struct qvd_table *t;
	const struct qvd_layout *L;
	uint8_t *dst;
	int64_t from, to;
	bool failed; /* out of memory */
};

static void pack_records(struct pack_part *p)
{
	const struct qvd_layout *L = p->L;
	const unsigned *width = L->width, *offset = L->offset;
	const int *bias = L->bias;
	const size_t rec_size = L->rec_size, words = rec_size / 8 + 2;
	const int n = p->t->n_fields;
	/* a record as 64-bit words, least significant bit first; a field of up to 32 bits
	 * spans two at most */
	uint64_t *w = calloc(words, sizeof(uint64_t));
	if (!w) {
		p->failed = true;
		return;
	}
	uint8_t *dst = p->dst;
	for (int64_t r = p->from; r < p->to; r++, dst += rec_size) {
		memset(w, 0, words * sizeof(uint64_t));
		for (int i = 0; i < n; i++) {
			int32_t idx = p->t->fields[i].index[r];
			uint64_t stored = idx < 0 ? 0 : (uint64_t)(idx - bias[i]);
			stored &= width[i] < 64 ? (1ULL << width[i]) - 1 : ~0ULL;
			unsigned at = offset[i] & 63;
			size_t k = offset[i] >> 6;
			w[k] |= stored << at;
			if (at && at + width[i] > 64)
				w[k + 1] |= stored >> (64 - at);
		}
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		memcpy(dst, w, rec_size);
#else
		for (size_t b = 0; b < rec_size; b++)
			dst[b] = (uint8_t)(w[b >> 3] >> (8 * (b & 7)));
#endif
	}
	free(w);
}

static void *pack_records_thread(void *arg)
{
	pack_records(arg);
	return NULL;
}

/* Every row's record, a large table's halves on two threads (the reload writes the app
 * file with them). */
static int write_records(const struct qvd_table *t, const struct qvd_layout *L, struct buf *out,
			 struct err *e)
{
	enum { PARTS = 2 };
	size_t total = L->rec_size * (size_t)t->n_rows;
	if (buf_reserve(out, total))
		return err_set(e, ERR_TOO_LARGE, "the QVD does not fit in memory");
	uint8_t *dst = (uint8_t *)out->data + out->len;
	int n = t->n_rows >= PARALLEL_RECORDS ? PARTS : 1;
	struct pack_part parts[PARTS];
	pthread_t th[PARTS];
	bool started[PARTS] = {false};
	for (int k = 0; k < n; k++) {
		int64_t from = t->n_rows * k / n;
		parts[k] = (struct pack_part){.t = t,
					      .L = L,
					      .dst = dst + (size_t)from * L->rec_size,
					      .from = from,
					      .to = t->n_rows * (k + 1) / n};
	}
	for (int k = 1; k < n; k++)
		started[k] = pthread_create(&th[k], NULL, pack_records_thread, &parts[k]) == 0;
	pack_records(&parts[0]);
	bool failed = parts[0].failed;
	for (int k = 1; k < n; k++) {
		if (started[k])
			pthread_join(th[k], NULL);
		else
			pack_records(&parts[k]); /* no thread to be had: here */
		failed |= parts[k].failed;
	}
	if (failed)
		return err_set(e, ERR_NOMEM, "out of memory");
	out->len += total;
	return 0;
}

int data_qvd_write(const struct qvd_table *t, struct buf *out, struct err *e)
{
	struct qvd_layout L = {0};
	int rc = plan_layout(t, &L, e);
	/* room for all of it at once: no copying as the buffer grows */
	if (rc == 0 && buf_reserve(out, 4096 + (size_t)t->n_fields * 1024 + L.sym_total +
					    L.rec_size * (uint64_t)t->n_rows))
		rc = err_set(e, ERR_TOO_LARGE, "the QVD does not fit in memory");
	if (rc == 0)
		rc = write_header(t, &L, out);
	if (rc == 0)
		rc = write_symbols(t, &L, out);
	if (rc == 0)
		rc = write_records(t, &L, out, e);
	if (rc && !e->code)
		err_set(e, rc == ERR_TOO_LARGE ? ERR_TOO_LARGE : ERR_NOMEM,
			"the QVD does not fit in memory");
	layout_free(&L);
	return rc ? (e->code ? e->code : rc) : 0;
}
