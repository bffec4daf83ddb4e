/* coltab.c: column tables, a data model's table as an app file holds it from format
 * version 4: the rows as the model keeps them, used where they lie (see data.h). */
#include "data/data_int.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC	      "FATHOMCT"
#define LAYOUT	      1
#define ALIGN	      64
#define SLACK	      8 /* zero bytes at least after a column: a reader may load 8 at a time */
#define MAX_FIELDS    (1 << 20)
#define MAX_TAGS      4096
#define THREADS	      2
#define THREADED_ROWS (1 << 20) /* a table's columns are checked on THREADS threads from here */

static size_t align64(size_t n)
{
	return (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
}

bool data_coltab_is(const void *data, size_t len)
{
	return len >= sizeof(MAGIC) - 1 && memcmp(data, MAGIC, sizeof(MAGIC) - 1) == 0;
}

/* ---------------------------------------------------------------- writing */

static void put(uint8_t **p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		(*p)[i] = (uint8_t)(v >> (8 * i));
	*p += n;
}

static void put_bytes(uint8_t **p, const char *s, size_t n, int len_bytes)
{
	put(p, n, len_bytes);
	memcpy(*p, s, n);
	*p += n;
}

/* Field f's dense kind: 1 when its symbols are DATA_DENSE_MIN or more consecutive QVD_INTs,
 * 2 when they are such QVD_DUAL_INTs, each with the text its number writes; else 0. */
static int dense_kind(const struct qvd_field *f, double *base)
{
	if (f->n_symbols < DATA_DENSE_MIN || !f->symbols)
		return 0;
	enum qvd_type t0 = f->symbols[0].type;
	if (t0 != QVD_INT && t0 != QVD_DUAL_INT)
		return 0;
	*base = f->symbols[0].num;
	for (int64_t s = 0; s < f->n_symbols; s++) {
		const struct qvd_value *v = &f->symbols[s];
		if (v->type != t0 || v->num != *base + (double)s)
			return 0;
		if (t0 == QVD_DUAL_INT && !(v->text && data_canonical_integer(v->text, v->num)))
			return 0;
	}
	return t0 == QVD_INT ? 1 : 2;
}

/* What the writer decided for each field. */
struct plan {
	int *width, *dense;
	double *base;
	uint64_t *sym_len;
	size_t header, columns, total; /* where the columns start, where the table ends */
};

static void plan_free(struct plan *pl)
{
	free(pl->width);
	free(pl->dense);
	free(pl->base);
	free(pl->sym_len);
}

/* Rows [from, from + n) of field f as symbols (its index, or its narrow column). */
static void field_rows(const struct qvd_field *f, int64_t from, int64_t n, int32_t *out)
{
	if (f->index)
		memcpy(out, f->index + from, sizeof(int32_t) * (size_t)n);
	else
		data_col_range(&f->col, from, n, out);
}

static bool field_identity(const struct qvd_field *f, int64_t n_rows)
{
	if (f->narrow && !f->index)
		return f->col.width == 0;
	return f->index && data_col_identity(f->index, n_rows);
}

static int plan_table(const struct qvd_table *t, struct plan *pl, struct err *e)
{
	size_t n = (size_t)(t->n_fields ? t->n_fields : 1);
	pl->width = calloc(n, sizeof(int));
	pl->dense = calloc(n, sizeof(int));
	pl->base = calloc(n, sizeof(double));
	pl->sym_len = calloc(n, sizeof(uint64_t));
	if (!pl->width || !pl->dense || !pl->base || !pl->sym_len)
		return err_set(e, ERR_NOMEM, "out of memory");
	size_t h = 8 + 4 + 4 + 8 + 4 + strlen(t->name ? t->name : ""), syms = 0;
	for (int i = 0; i < t->n_fields; i++) {
		const struct qvd_field *f = &t->fields[i];
		if (f->n_symbols > INT32_MAX)
			return err_set(e, ERR_TOO_LARGE, "field \"%s\" has too many values",
				       f->name);
		h += 4 + strlen(f->name) + 4 + 1 + strlen(f->number_type) + 1 +
		     strlen(f->number_fmt) + 4 + 8 + 8 + 8;
		for (int k = 0; k < f->n_tags; k++)
			h += 4 + strlen(f->tags[k]);
		if (f->dense && f->dense_kind != 1 && f->dense_kind != 2)
			return err_set(e, ERR_INTERNAL, "field \"%s\" was read without its values",
				       f->name);
		if (f->dense && f->n_symbols > t->n_rows)
			return err_set(e, ERR_INTERNAL, "field \"%s\" has more ids than rows",
				       f->name);
		pl->base[i] = f->dense_base;
		pl->dense[i] = f->dense			  ? f->dense_kind
			       : f->n_symbols > t->n_rows ? 0
							  : dense_kind(f, &pl->base[i]);
		int rc = pl->dense[i] ? 0 : data_qvd_symbols_length(f, &pl->sym_len[i], e);
		if (rc)
			return rc;
		syms += (size_t)pl->sym_len[i];
		pl->width[i] =
		    f->n_symbols >= t->n_rows && t->n_rows > 0 && field_identity(f, t->n_rows)
			? 0
			: data_col_width(f->n_symbols);
	}
	pl->header = h;
	size_t at = align64(h + syms);
	pl->columns = at;
	for (int i = 0; i < t->n_fields; i++)
		if (pl->width[i])
			at = align64(at + (size_t)pl->width[i] * (size_t)t->n_rows + SLACK);
	pl->total = at;
	return 0;
}

static void write_header(const struct qvd_table *t, const struct plan *pl, uint8_t *p)
{
	memcpy(p, MAGIC, 8);
	p += 8;
	put(&p, LAYOUT, 4);
	put(&p, (uint64_t)t->n_fields, 4);
	put(&p, (uint64_t)t->n_rows, 8);
	put_bytes(&p, t->name ? t->name : "", strlen(t->name ? t->name : ""), 4);
	for (int i = 0; i < t->n_fields; i++) {
		const struct qvd_field *f = &t->fields[i];
		put_bytes(&p, f->name, strlen(f->name), 4);
		put(&p, (uint64_t)f->n_tags, 4);
		for (int k = 0; k < f->n_tags; k++)
			put_bytes(&p, f->tags[k], strlen(f->tags[k]), 4);
		put_bytes(&p, f->number_type, strlen(f->number_type), 1);
		put_bytes(&p, f->number_fmt, strlen(f->number_fmt), 1);
		put(&p, (uint64_t)pl->width[i], 1);
		put(&p, (uint64_t)pl->dense[i], 1);
		put(&p, 0, 2);
		put(&p, (uint64_t)f->n_symbols, 8);
		uint64_t b = 0;
		if (pl->dense[i])
			memcpy(&b, &pl->base[i], 8);
		put(&p, b, 8);
		put(&p, pl->sym_len[i], 8);
	}
}

/* Rows [from, from + n) of field f into col (from its row 0). */
static void write_rows(const struct qvd_field *f, int64_t from, int64_t n, struct data_col *col)
{
	int32_t buf[4096];
	if (f->index) {
		data_col_write(col, 0, f->index + from, n);
		return;
	}
	for (int64_t k = 0; k < n; k += 4096) {
		int64_t m = n - k < 4096 ? n - k : 4096;
		field_rows(f, from + k, m, buf);
		data_col_write(col, k, buf, m);
	}
}

/* Rows a column is written in at a time, handed on between them (a multiple of 64) */
#define WRITE_ROWS (1 << 20)

int data_coltab_write(const struct qvd_table *t, struct buf *out, struct err *e)
{
	struct data_out o = {.b = *out, .fd = -1};
	int rc = data_coltab_write_out(t, &o, e);
	*out = o.b;
	return rc;
}

int data_coltab_write_out(const struct qvd_table *t, struct data_out *o, struct err *e)
{
	struct buf *out = &o->b;
	if ((o->at + out->len) % 8)
		return err_set(e, ERR_INTERNAL, "a column table must start 8-byte aligned");
	if (t->n_rows > INT32_MAX)
		return err_set(e, ERR_TOO_LARGE, "the table \"%s\" has more than %d rows", t->name,
			       INT32_MAX);
	for (int i = 0; i < t->n_fields; i++) {
		const struct qvd_field *f = &t->fields[i];
		bool ok = f->n_tags <= MAX_TAGS && utf8_valid(f->name, strlen(f->name)) &&
			  utf8_valid(f->number_type, strlen(f->number_type)) &&
			  utf8_valid(f->number_fmt, strlen(f->number_fmt));
		for (int k = 0; ok && k < f->n_tags; k++)
			ok = utf8_valid(f->tags[k], strlen(f->tags[k]));
		if (!ok)
			return err_set(e, ERR_INVALID,
				       "field \"%s\": its name, format or tags are not UTF-8",
				       f->name);
	}
	if (!utf8_valid(t->name ? t->name : "", strlen(t->name ? t->name : "")))
		return err_set(e, ERR_INVALID, "the table's name is not UTF-8");
	struct plan pl = {0};
	int rc = plan_table(t, &pl, e);
	/* the header and symbols, then the columns: kept in memory, all of it at once (a
	 * buffer that grows is moved); written to a file, a piece at a time */
	if (rc == 0 && buf_reserve(out, o->fd >= 0 ? pl.columns : pl.total))
		rc = err_set(e, ERR_TOO_LARGE, "the table \"%s\" is too large", t->name);
	if (rc) {
		plan_free(&pl);
		return rc;
	}
	/* every byte is written once: the header, the symbols, the columns, and zeros in the
	 * gaps between them (not the whole table zeroed first: 120 MB at 10 M rows) */
	uint64_t start = o->at + out->len;
	uint8_t *base = (uint8_t *)out->data + out->len, *p = base + pl.header;
	write_header(t, &pl, base);
	for (int i = 0; i < t->n_fields; i++)
		if (!pl.dense[i])
			p = data_qvd_symbols_put(&t->fields[i], p, base + pl.total);
	size_t at = align64((size_t)(p - base));
	memset(p, 0, at - (size_t)(p - base));
	out->len += at;
	for (int i = 0; i < t->n_fields && rc == 0; i++) {
		if (!pl.width[i])
			continue;
		for (int64_t from = 0; from < t->n_rows && rc == 0; from += WRITE_ROWS) {
			int64_t k = t->n_rows - from < WRITE_ROWS ? t->n_rows - from : WRITE_ROWS;
			size_t n = (size_t)pl.width[i] * (size_t)k;
			if ((rc = data_out_drain(o, e)) != 0)
				break;
			if (buf_reserve(out, n + SLACK + 64)) {
				rc = err_set(e, ERR_TOO_LARGE, "the table \"%s\" is too large",
					     t->name);
				break;
			}
			struct data_col col = {.p = out->data + out->len, .width = pl.width[i]};
			write_rows(&t->fields[i], from, k, &col);
			out->len += n;
		}
		size_t end = at + (size_t)pl.width[i] * (size_t)t->n_rows;
		at = align64(end + SLACK);
		if (rc == 0 && buf_reserve(out, at - end))
			rc = err_set(e, ERR_TOO_LARGE, "the table \"%s\" is too large", t->name);
		if (rc == 0) {
			memset(out->data + out->len, 0, at - end);
			out->len += at - end;
		}
	}
	if (rc == 0 && o->at + out->len - start != pl.total)
		rc = err_set(e, ERR_INTERNAL, "the column table came out at %llu bytes, not %zu",
			     (unsigned long long)(o->at + out->len - start), pl.total);
	if (rc && start >= o->at) /* (what is still here of it goes: out is as it was) */
		out->len = (size_t)(start - o->at);
	plan_free(&pl);
	return rc;
}

/* ---------------------------------------------------------------- reading */

/* A cursor over the header; `bad` once a read went past the end. */
struct rd {
	const uint8_t *p;
	size_t len, at;
	bool bad;
};

static uint64_t get(struct rd *r, int n)
{
	if (r->len - r->at < (size_t)n) {
		r->bad = true;
		r->at = r->len;
		return 0;
	}
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | r->p[r->at + (size_t)i];
	r->at += (size_t)n;
	return v;
}

/* A text of `len_bytes` length bytes, copied (NUL-terminated) into out[cap] or a new string
 * (out NULL); NULL when cut off, too long, with a NUL or not UTF-8. */
static char *get_text(struct rd *r, int len_bytes, char *out, size_t cap)
{
	uint64_t n = get(r, len_bytes);
	if (r->bad || n > r->len - r->at || (out && n >= cap) ||
	    memchr(r->p + r->at, 0, (size_t)n) || !utf8_valid((const char *)r->p + r->at, n)) {
		r->bad = true;
		return NULL;
	}
	char *s = out ? out : malloc((size_t)n + 1);
	if (s) {
		memcpy(s, r->p + r->at, (size_t)n);
		s[n] = '\0';
	}
	r->at += (size_t)n;
	return s;
}

/* What the header says of a field beyond its qvd_field. */
struct fdesc {
	int width, dense;
	uint64_t sym_len;
	size_t sym_at, col_at;
};

static int bad(struct err *e, const char *what)
{
	return err_set(e, ERR_INVALID, "the column table is damaged (%s)", what);
}

/* One field's description into f and d; ERR_INVALID for anything a writer would not
 * have written. */
static int read_field(struct rd *r, int64_t n_rows, struct qvd_field *f, struct fdesc *d,
		      struct err *e)
{
	if (!(f->name = get_text(r, 4, NULL, 0)))
		return r->bad ? bad(e, "a field's name") : err_set(e, ERR_NOMEM, "out of memory");
	uint64_t n_tags = get(r, 4);
	if (n_tags > MAX_TAGS || r->bad)
		return bad(e, "a field's tags");
	f->tags = calloc((size_t)n_tags + 1, sizeof(char *));
	if (!f->tags)
		return err_set(e, ERR_NOMEM, "out of memory");
	for (; (uint64_t)f->n_tags < n_tags; f->n_tags++)
		if (!(f->tags[f->n_tags] = get_text(r, 4, NULL, 0)))
			return r->bad ? bad(e, "a field's tags")
				      : err_set(e, ERR_NOMEM, "out of memory");
	if (!get_text(r, 1, f->number_type, sizeof(f->number_type)) ||
	    !get_text(r, 1, f->number_fmt, sizeof(f->number_fmt)))
		return bad(e, "a field's number format");
	d->width = (int)get(r, 1);
	d->dense = (int)get(r, 1);
	uint64_t zero = get(r, 2), n_sym = get(r, 8), b = get(r, 8);
	d->sym_len = get(r, 8);
	memcpy(&f->dense_base, &b, 8);
	if (r->bad || zero || n_sym > INT32_MAX)
		return bad(e, "a field's description");
	f->n_symbols = (int64_t)n_sym;
	if (d->width > 4 || (d->width == 0 && f->n_symbols < n_rows) ||
	    (d->width > 0 && d->width != data_col_width(f->n_symbols)))
		return err_set(e, ERR_INVALID,
			       "the column table is damaged (field \"%s\": width %d)", f->name,
			       d->width);
	double base = f->dense_base, last = base + (double)(f->n_symbols - 1);
	bool whole = base >= INT32_MIN && last <= INT32_MAX && base == (double)(int64_t)base;
	/* (a dense field's values take no bytes: as many as the rows at most, each a row's) */
	if (d->dense > 2 || (!d->dense && b) ||
	    (d->dense && (d->sym_len || f->n_symbols == 0 || f->n_symbols > n_rows || !whole)))
		return err_set(e, ERR_INVALID,
			       "the column table is damaged (field \"%s\": its dense values)",
			       f->name);
	return 0;
}

/* The header: the table's fields (names, tags, formats, counts) into t, and where each
 * field's symbols and column lie (checked against len). */
static int read_header(const uint8_t *p, size_t len, struct qvd_table *t, struct fdesc **out,
		       struct err *e)
{
	struct rd r = {.p = p, .len = len};
	r.at = 8;
	uint64_t layout = get(&r, 4), n_fields = get(&r, 4), n_rows = get(&r, 8);
	if (r.bad || layout != LAYOUT)
		return r.bad ? bad(e, "its header is cut off")
			     : err_set(e, ERR_INVALID,
				       "the column table has layout %llu; this fathom "
				       "reads layout %d",
				       (unsigned long long)layout, LAYOUT);
	if (n_fields > MAX_FIELDS || n_rows > INT32_MAX) /* (as many rows as a QVD holds) */
		return bad(e, "its size");
	t->n_rows = (int64_t)n_rows;
	if (!(t->name = get_text(&r, 4, NULL, 0)))
		return r.bad ? bad(e, "its name") : err_set(e, ERR_NOMEM, "out of memory");
	t->fields = calloc((size_t)n_fields + 1, sizeof(*t->fields));
	struct fdesc *d = *out = calloc((size_t)n_fields + 1, sizeof(*d));
	if (!t->fields || !d)
		return err_set(e, ERR_NOMEM, "out of memory");
	for (; (uint64_t)t->n_fields < n_fields; t->n_fields++) {
		int rc = read_field(&r, t->n_rows, &t->fields[t->n_fields], &d[t->n_fields], e);
		if (rc) {
			t->n_fields++; /* (freed with the others) */
			return rc;
		}
	}
	size_t at = r.at;
	for (int i = 0; i < t->n_fields; i++) {
		if (d[i].sym_len > len - at)
			return bad(e, "its symbol tables run past its end");
		d[i].sym_at = at;
		at += (size_t)d[i].sym_len;
	}
	at = align64(at);
	for (int i = 0; i < t->n_fields; i++) {
		if (!d[i].width)
			continue;
		if (at > len || (uint64_t)t->n_rows > (len - at) / (uint64_t)d[i].width)
			return bad(e, "its columns run past its end");
		d[i].col_at = at;
		at = align64(at + (size_t)d[i].width * (size_t)t->n_rows + SLACK);
	}
	if (at != len)
		return bad(e, "its size does not match its columns");
	return 0;
}

/* Rows [from, to) of every column checked against their fields' symbol counts. */
struct check_part {
	const struct qvd_table *t;
	int64_t from, to;
	int bad_field; /* -1: none */
};

static void check_rows(struct check_part *c)
{
	c->bad_field = -1;
	for (int i = 0; i < c->t->n_fields && c->bad_field < 0; i++)
		if (!data_col_within(&c->t->fields[i].col, c->from, c->to - c->from,
				     c->t->fields[i].n_symbols))
			c->bad_field = i;
}

static void *check_thread(void *arg)
{
	check_rows(arg);
	return NULL;
}

/* Every row's symbol of every column, on THREADS threads for a large table. */
static int check_columns(const struct qvd_table *t, struct err *e)
{
	struct check_part parts[THREADS];
	int n = t->n_rows >= THREADED_ROWS ? THREADS : 1;
	pthread_t th[THREADS];
	bool started[THREADS] = {false};
	for (int k = 0; k < n; k++) {
		parts[k] = (struct check_part){
		    .t = t, .from = t->n_rows * k / n, .to = t->n_rows * (k + 1) / n};
		if (k > 0)
			started[k] = pthread_create(&th[k], NULL, check_thread, &parts[k]) == 0;
	}
	for (int k = 0; k < n; k++)
		if (!started[k])
			check_rows(&parts[k]);
	for (int k = 0; k < n; k++) {
		if (started[k])
			pthread_join(th[k], NULL);
	}
	for (int k = 0; k < n; k++) {
		const struct check_part *c = &parts[k];
		if (c->bad_field < 0)
			continue;
		const struct qvd_field *f = &t->fields[c->bad_field];
		for (int64_t r = c->from; r < c->to; r++)
			if (!data_col_within(&f->col, r, 1, f->n_symbols))
				return err_set(
				    e, ERR_INVALID,
				    "the column table is damaged (field \"%s\", row %lld: "
				    "symbol %d of %lld)",
				    f->name, (long long)r, data_col_at(&f->col, r),
				    (long long)f->n_symbols);
	}
	return 0;
}

/* A dense field's symbols made (without QVD_READ_DENSE): kind 2 writes each number's text
 * into store (room for 12 bytes a symbol). */
static int make_dense(struct qvd_field *f, int kind, char *store, struct err *e)
{
	f->symbols = calloc((size_t)f->n_symbols, sizeof(*f->symbols));
	if (!f->symbols)
		return err_set(e, ERR_NOMEM, "out of memory");
	for (int64_t s = 0; s < f->n_symbols; s++) {
		struct qvd_value *v = &f->symbols[s];
		v->num = f->dense_base + (double)s;
		v->type = kind == 1 ? QVD_INT : QVD_DUAL_INT;
		if (kind == 2) {
			v->text = store;
			store += snprintf(store, 12, "%d", (int)v->num) + 1;
		}
	}
	f->dense_base = 0;
	return 0;
}

/* Each field's symbols (or dense), and its rows: pointing into p when narrow. */
static int read_fields(const uint8_t *p, const struct fdesc *d, unsigned opts, struct qvd_table *t,
		       struct err *e)
{
	size_t store = 1;
	for (int i = 0; i < t->n_fields; i++)
		store += (size_t)d[i].sym_len + (d[i].dense == 2 && !(opts & QVD_READ_DENSE)
						     ? 12 * (size_t)t->fields[i].n_symbols
						     : 0);
	if (!(t->text_store = malloc(store)))
		return err_set(e, ERR_NOMEM, "out of memory");
	char *at = t->text_store;
	for (int i = 0; i < t->n_fields; i++) {
		struct qvd_field *f = &t->fields[i];
		int rc = 0;
		if (d[i].dense && (opts & QVD_READ_DENSE)) {
			f->dense = true;
			f->dense_kind = d[i].dense;
		} else if (d[i].dense)
			rc = make_dense(f, d[i].dense, at, e);
		else
			rc = data_qvd_symbols_read(f, p + d[i].sym_at, (size_t)d[i].sym_len, at, e);
		if (rc)
			return rc;
		at += d[i].dense ? (d[i].dense == 2 && !f->dense ? 12 * (size_t)f->n_symbols : 0)
				 : (size_t)d[i].sym_len;
		f->narrow = true; /* (until made an index below) */
		f->col = (struct data_col){.p = d[i].width ? (void *)(p + d[i].col_at) : NULL,
					   .width = d[i].width,
					   .mapped = true};
	}
	return 0;
}

/* Each narrow column of t as an int32 index instead. */
static int make_indexes(struct qvd_table *t, struct err *e)
{
	for (int i = 0; i < t->n_fields; i++) {
		struct qvd_field *f = &t->fields[i];
		f->index = malloc(sizeof(int32_t) * (size_t)(t->n_rows ? t->n_rows : 1));
		if (!f->index)
			return err_set(e, ERR_NOMEM, "out of memory");
		data_col_range(&f->col, 0, t->n_rows, f->index);
		f->narrow = false;
		f->col = (struct data_col){0};
	}
	return 0;
}

int data_coltab_read(const void *data, size_t len, unsigned opts, struct qvd_table **out,
		     struct err *e)
{
	*out = NULL;
	const uint8_t *p = data;
	if (!data_coltab_is(data, len))
		return bad(e, "it does not start with " MAGIC);
	if ((uintptr_t)p % 8)
		return err_set(e, ERR_INTERNAL, "a column table must be read 8-byte aligned");
	struct qvd_table *t = calloc(1, sizeof(*t));
	if (!t)
		return err_set(e, ERR_NOMEM, "out of memory");
	struct fdesc *d = NULL;
	int rc = read_header(p, len, t, &d, e);
	if (rc == 0)
		rc = read_fields(p, d, opts, t, e);
	if (rc == 0)
		rc = check_columns(t, e);
	if (rc == 0 && !(opts & QVD_READ_NARROW))
		rc = make_indexes(t, e);
	free(d);
	if (rc) {
		err_detail(e, "table \"%s\"", t->name ? t->name : "");
		data_qvd_free(t);
		return rc;
	}
	*out = t;
	return 0;
}
