/* table.c: growing tables of symbol tables and symbol indexes (see table.h). */
#include "data/data_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NO_TEXT ((size_t)-1)

struct tbl *data_tbl_new(const char *name)
{
	struct tbl *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->name = strdup(name ? name : "");
	buf_init(&t->texts, 1ULL << 38);
	if (!t->name) {
		free(t);
		return NULL;
	}
	return t;
}

static void field_release(struct tbl_field *f)
{
	free(f->name);
	free(f->sym);
	free(f->text_at);
	free(f->index);
	data_col_free(&f->col);
	free(f->slots);
	free(f->tags);
}

bool data_tag_computed(const char *tag)
{
	static const char *const computed[] = {"$numeric", "$integer", "$text",	     "$ascii",
					       "$key",	   "$date",    "$timestamp", "$time"};
	for (size_t i = 0; i < sizeof(computed) / sizeof(computed[0]); i++)
		if (strcmp(tag, computed[i]) == 0)
			return true;
	return false;
}

void data_field_untag(struct tbl_field *f, const char *tag)
{
	size_t tl = strlen(tag);
	for (char *p = f->tags; p && *p;) {
		size_t n = strcspn(p, "\n");
		if (n == tl && strncmp(p, tag, tl) == 0) {
			char *next = p + n + (p[n] == '\n');
			memmove(p, next, strlen(next) + 1);
			size_t l = strlen(f->tags);
			if (l && f->tags[l - 1] == '\n')
				f->tags[l - 1] = '\0';
			if (!f->tags[0]) {
				free(f->tags);
				f->tags = NULL;
			}
			return;
		}
		p += n + (p[n] == '\n');
	}
}

bool data_field_tag(struct tbl_field *f, const char *tag)
{
	size_t tl = strlen(tag), have = f->tags ? strlen(f->tags) : 0;
	for (const char *p = f->tags; p && *p;) {
		size_t n = strcspn(p, "\n");
		if (n == tl && strncmp(p, tag, tl) == 0)
			return true;
		p += n + (p[n] == '\n');
	}
	char *more = realloc(f->tags, have + tl + 2);
	if (!more)
		return false;
	if (have)
		more[have++] = '\n';
	memcpy(more + have, tag, tl + 1);
	f->tags = more;
	return true;
}

void data_tbl_free(struct tbl *t)
{
	if (!t)
		return;
	for (int i = 0; i < t->n_fields; i++)
		field_release(&t->fields[i]);
	free(t->fields);
	buf_release(&t->texts);
	free(t->name);
	free(t);
}

int data_tbl_field(struct tbl *t, const char *name, bool add)
{
	for (int i = 0; i < t->n_fields; i++)
		if (strcmp(t->fields[i].name, name) == 0)
			return i;
	if (!add)
		return -1;
	if (t->n_fields == t->cap_fields) {
		int cap = t->cap_fields ? t->cap_fields * 2 : 8;
		struct tbl_field *nf = realloc(t->fields, sizeof(*nf) * (size_t)cap);
		if (!nf)
			return -1;
		t->fields = nf;
		t->cap_fields = cap;
	}
	struct tbl_field *f = &t->fields[t->n_fields];
	memset(f, 0, sizeof(*f));
	f->name = strdup(name);
	f->index = malloc(sizeof(int32_t) * (size_t)(t->cap_rows ? t->cap_rows : 1));
	if (!f->name || !f->index) {
		free(f->name);
		free(f->index);
		return -1;
	}
	for (int64_t r = 0; r < t->n_rows; r++)
		f->index[r] = -1;
	return t->n_fields++;
}

/* A dense field's values made (f->dense no more). */
static int make_values(struct tbl *t, struct tbl_field *f)
{
	if (f->dense_kind != 1 && f->dense_kind != 2)
		return ERR_INTERNAL; /* (a field read for the model alone) */
	size_t n = (size_t)(f->n_sym ? f->n_sym : 1);
	struct qvd_value *sym = malloc(sizeof(*sym) * n);
	size_t *text_at = malloc(sizeof(*text_at) * n);
	if (!sym || !text_at) {
		free(sym);
		free(text_at);
		return ERR_NOMEM;
	}
	for (int64_t s = 0; s < f->n_sym; s++) {
		double v = f->dense_base + (double)s;
		sym[s] = (struct qvd_value){f->dense_kind == 1 ? QVD_INT : QVD_DUAL_INT, v, NULL};
		text_at[s] = NO_TEXT;
		if (f->dense_kind == 2) {
			text_at[s] = t->texts.len;
			if (buf_printf(&t->texts, "%.0f", v) || buf_append(&t->texts, "", 1)) {
				free(sym);
				free(text_at);
				return ERR_TOO_LARGE;
			}
		}
	}
	f->sym = sym;
	f->text_at = text_at;
	f->cap_sym = f->n_sym;
	f->dense = false;
	return 0;
}

/* Symbol `s` of a dense field as a value (a text of kind 2 is its number's: none given). */
static void dense_value(const struct tbl_field *f, int64_t s, struct val *out)
{
	*out = (struct val){.has_num = true, .num = f->dense_base + (double)s};
}

/* The symbol of v in a dense field (values are equal as numbers), or -1. */
static int64_t dense_lookup(const struct tbl_field *f, const struct val *v)
{
	if (v->null || !v->has_num || v->num != floor(v->num))
		return -1;
	double d = v->num - f->dense_base;
	return d >= 0 && d < (double)f->n_sym ? (int64_t)d : -1;
}

static const char *sym_text(const struct tbl *t, const struct tbl_field *f, int64_t s)
{
	return f->text_at[s] == NO_TEXT ? NULL : t->texts.data + f->text_at[s];
}

static uint64_t hash_val(const struct val *v)
{
	return v->has_num ? data_txt_hash_number(v->num) : data_txt_hash_text(v->text);
}

static bool same(const struct tbl *t, const struct tbl_field *f, int64_t s, const struct val *v)
{
	const struct qvd_value *q = &f->sym[s];
	bool q_num = q->type != QVD_STRING;
	if (q_num != v->has_num)
		return false;
	if (q_num)
		return q->num == v->num || (q->num != q->num && v->num != v->num);
	return strcmp(sym_text(t, f, s), v->text ? v->text : "") == 0;
}

static int rehash(struct tbl *t, struct tbl_field *f)
{
	size_t n = f->n_slots ? f->n_slots * 2 : 64;
	/* (a field adopted or made dense has symbols and no slots yet: room for them all) */
	while (n < (size_t)(f->n_sym + 1) * 2)
		n *= 2;
	int64_t *s = calloc(n, sizeof(*s));
	if (!s)
		return ERR_NOMEM;
	for (int64_t i = 0; i < f->n_sym; i++) {
		struct val v = {false, f->sym[i].type != QVD_STRING, f->sym[i].num,
				sym_text(t, f, i)};
		size_t k = hash_val(&v) & (n - 1);
		while (s[k])
			k = (k + 1) & (n - 1);
		s[k] = i + 1;
	}
	free(f->slots);
	f->slots = s;
	f->n_slots = n;
	return 0;
}

static int intern(struct tbl *t, struct tbl_field *f, const struct val *v, int32_t *out)
{
	if (v->null) {
		*out = -1;
		return 0;
	}
	if (f->dense) {
		int64_t s = dense_lookup(f, v);
		bool next =
		    v->has_num && v->num == f->dense_base + (double)f->n_sym &&
		    v->num <= INT32_MAX && f->n_sym < INT32_MAX &&
		    (f->dense_kind == 1 ? !v->text
					: v->text && data_canonical_integer(v->text, v->num));
		if (s >= 0 || next) {
			*out = (int32_t)(s >= 0 ? s : f->n_sym++);
			return 0;
		}
		int rc = make_values(t, f);
		if (rc)
			return rc;
	}
	if ((size_t)(f->n_sym + 1) * 2 > f->n_slots && rehash(t, f))
		return ERR_NOMEM;
	size_t mask = f->n_slots - 1, k = hash_val(v) & mask;
	while (f->slots[k]) {
		int64_t i = f->slots[k] - 1;
		if (same(t, f, i, v)) {
			*out = (int32_t)i;
			return 0;
		}
		k = (k + 1) & mask;
	}
	if (f->n_sym >= INT32_MAX)
		return ERR_TOO_LARGE;
	if (f->n_sym == f->cap_sym) {
		int64_t cap = f->cap_sym ? f->cap_sym * 2 : 16;
		struct qvd_value *ns = realloc(f->sym, sizeof(*ns) * (size_t)cap);
		if (!ns)
			return ERR_NOMEM;
		f->sym = ns;
		size_t *nt = realloc(f->text_at, sizeof(*nt) * (size_t)cap);
		if (!nt)
			return ERR_NOMEM;
		f->text_at = nt;
		f->cap_sym = cap;
	}
	struct qvd_value *q = &f->sym[f->n_sym];
	q->num = v->has_num ? v->num : 0;
	q->text = NULL;
	if (v->text) {
		f->text_at[f->n_sym] = t->texts.len;
		if (buf_append(&t->texts, v->text, strlen(v->text) + 1))
			return ERR_TOO_LARGE;
	} else {
		f->text_at[f->n_sym] = NO_TEXT;
	}
	bool integral =
	    v->has_num && v->num == floor(v->num) && v->num >= INT32_MIN && v->num <= INT32_MAX;
	q->type = !v->has_num ? QVD_STRING
		  : v->text   ? (integral ? QVD_DUAL_INT : QVD_DUAL_DOUBLE)
		  : integral  ? QVD_INT
			      : QVD_DOUBLE;
	f->slots[k] = f->n_sym + 1;
	*out = (int32_t)f->n_sym++;
	return 0;
}

int data_tbl_append(struct tbl *t, const struct val *vals, int n)
{
	if (n != t->n_fields)
		return ERR_INVALID;
	if (t->n_rows == t->cap_rows) {
		int64_t cap = t->cap_rows ? t->cap_rows * 2 : 1024;
		for (int i = 0; i < t->n_fields; i++) {
			int32_t *ni = realloc(t->fields[i].index, sizeof(int32_t) * (size_t)cap);
			if (!ni)
				return ERR_NOMEM;
			t->fields[i].index = ni;
		}
		t->cap_rows = cap;
	}
	for (int i = 0; i < n; i++) {
		int32_t idx;
		int rc = intern(t, &t->fields[i], &vals[i], &idx);
		if (rc)
			return rc;
		t->fields[i].index[t->n_rows] = idx;
	}
	t->n_rows++;
	return 0;
}

void data_tbl_get(const struct tbl *t, int f, int64_t r, struct val *out)
{
	const struct tbl_field *fl = &t->fields[f];
	int32_t s = fl->index[r];
	if (s < 0) {
		*out = (struct val){.null = true};
		return;
	}
	data_tbl_symbol(t, f, s, out);
}

void data_tbl_symbol(const struct tbl *t, int f, int64_t s, struct val *out)
{
	const struct tbl_field *fl = &t->fields[f];
	/* a dense field's texts (kind 2) are made on first need: the table is changed, as
	 * intern would (without the memory: its numbers alone) */
	if (fl->dense &&
	    (fl->dense_kind != 2 || make_values((struct tbl *)t, (struct tbl_field *)fl))) {
		dense_value(fl, s, out);
		return;
	}
	out->null = false;
	out->has_num = fl->sym[s].type != QVD_STRING;
	out->num = fl->sym[s].num;
	out->text = sym_text(t, fl, s);
}

int64_t data_tbl_lookup(struct tbl *t, int f, const struct val *v)
{
	struct tbl_field *fl = &t->fields[f];
	if (v->null || fl->n_sym == 0)
		return -1;
	if (fl->dense)
		return dense_lookup(fl, v);
	if (fl->n_slots == 0 && rehash(t, fl)) /* a table made by data_tbl_adopt_qvd */
		return -1;
	size_t mask = fl->n_slots - 1, k = hash_val(v) & mask;
	while (fl->slots[k]) {
		int64_t i = fl->slots[k] - 1;
		if (same(t, fl, i, v))
			return i;
		k = (k + 1) & mask;
	}
	return -1;
}

void data_tbl_drop_field(struct tbl *t, int f)
{
	field_release(&t->fields[f]);
	memmove(&t->fields[f], &t->fields[f + 1],
		sizeof(*t->fields) * (size_t)(t->n_fields - f - 1));
	t->n_fields--;
}

/* A field keeps the number format a QVD names (not the UNKNOWN of a file without one). */
static void keep_number_format(struct tbl_field *f, const struct qvd_field *q)
{
	if (strcmp(q->number_type, "UNKNOWN") != 0)
		str_copy(f->number_type, q->number_type, sizeof(f->number_type));
	str_copy(f->number_fmt, q->number_fmt, sizeof(f->number_fmt));
	/* and its tags, but those the engine works out again */
	for (int k = 0; k < q->n_tags; k++)
		if (q->tags[k] && !data_tag_computed(q->tags[k]) && !strchr(q->tags[k], '\n'))
			(void)data_field_tag(f, q->tags[k]);
}

int data_tbl_view(struct tbl *t, unsigned opts, struct qvd_table *out, struct err *e)
{
	for (int i = 0; !(opts & TBL_VIEW_DENSE) && i < t->n_fields; i++)
		if (t->fields[i].dense && make_values(t, &t->fields[i]))
			return err_set(e, ERR_NOMEM, "out of memory");
	memset(out, 0, sizeof(*out));
	out->name = t->name;
	out->n_rows = t->n_rows;
	out->n_fields = t->n_fields;
	out->fields = calloc((size_t)(t->n_fields ? t->n_fields : 1), sizeof(*out->fields));
	if (!out->fields)
		return err_set(e, ERR_NOMEM, "out of memory");
	for (int i = 0; i < t->n_fields; i++) {
		struct tbl_field *f = &t->fields[i];
		struct qvd_field *q = &out->fields[i];
		q->name = f->name;
		q->n_symbols = f->n_sym;
		q->index = f->index;
		q->dense = f->dense;
		q->dense_kind = f->dense_kind;
		q->dense_base = f->dense_base;
		str_copy(q->number_type, f->number_type[0] ? f->number_type : "UNKNOWN",
			 sizeof(q->number_type));
		str_copy(q->number_fmt, f->number_fmt, sizeof(q->number_fmt));
		for (int64_t s = 0; !f->dense && s < f->n_sym; s++)
			f->sym[s].text = sym_text(t, f, s);
		q->symbols = f->sym;
		/* the tags as a list: a copy split at its line ends */
		char *copy = f->tags ? strdup(f->tags) : NULL;
		int n = 0;
		for (const char *c = copy; c && *c; c++)
			n += *c == '\n';
		q->tags = copy ? calloc((size_t)n + 2, sizeof(char *)) : NULL;
		if (f->tags && (!copy || !q->tags)) {
			free(copy);
			data_tbl_view_free(out);
			return err_set(e, ERR_NOMEM, "out of memory");
		}
		for (char *c = copy; c && *c;) {
			q->tags[q->n_tags++] = c;
			c += strcspn(c, "\n");
			if (*c)
				*c++ = '\0';
		}
	}
	return 0;
}

void data_tbl_view_free(struct qvd_table *v)
{
	for (int i = 0; v->fields && i < v->n_fields; i++) {
		if (v->fields[i].tags)
			free(v->fields[i].tags[0]);
		free(v->fields[i].tags);
	}
	free(v->fields);
	v->fields = NULL;
}

/* Each field's symbols are interned once, not once per row; when they keep their numbers
 * (the usual case: a QVD's symbols are distinct already) the row column is taken over as it
 * is, so a loaded file is not copied row by row. */
int data_tbl_from_qvd(struct qvd_table *q, const char *name, struct tbl **out, struct err *e)
{
	*out = NULL;
	struct tbl *t = data_tbl_new(name ? name : q->name);
	int rc = t ? 0 : err_set(e, ERR_NOMEM, "out of memory");
	for (int i = 0; rc == 0 && i < q->n_fields; i++)
		if (data_tbl_field(t, q->fields[i].name, true) < 0)
			rc = err_set(e, ERR_NOMEM, "out of memory");
	int64_t nr = q->n_rows;
	for (int i = 0; rc == 0 && i < q->n_fields; i++) {
		struct qvd_field *qf = &q->fields[i];
		struct tbl_field *f = &t->fields[i];
		keep_number_format(f, qf);
		int64_t ns = qf->n_symbols;
		int32_t *map = malloc(sizeof(int32_t) * (size_t)(ns + 1));
		bool same_numbers = map != NULL;
		if (!map)
			rc = err_set(e, ERR_NOMEM, "out of memory");
		for (int64_t k = 0; rc == 0 && k < ns; k++) {
			struct val v;
			data_val_of_symbol(&qf->symbols[k], &v);
			if (intern(t, f, &v, &map[k]))
				rc = err_set(e, ERR_NOMEM, "out of memory");
			same_numbers = same_numbers && map[k] == k;
		}
		int32_t *col = NULL;
		if (rc == 0 && same_numbers && qf->index) {
			col = qf->index; /* taken over */
			qf->index = NULL;
		} else if (rc == 0 && !(col = malloc(sizeof(int32_t) * (size_t)(nr ? nr : 1)))) {
			rc = err_set(e, ERR_NOMEM, "out of memory");
		}
		for (int64_t r = 0; rc == 0 && r < nr; r++) {
			int32_t k = qf->index ? qf->index[r] : col[r];
			col[r] = k < 0 || k >= ns ? -1 : map[k];
		}
		free(map);
		if (col) {
			free(f->index);
			f->index = col;
		}
		/* the source column is not needed any more */
		free(qf->index);
		qf->index = NULL;
	}
	if (rc == 0) {
		t->n_rows = nr;
		t->cap_rows = nr;
	}
	data_qvd_free(q);
	if (rc) {
		data_tbl_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

int data_tbl_adopt_qvd(struct qvd_table *q, struct tbl **out, struct err *e)
{
	*out = NULL;
	struct tbl *t = data_tbl_new(q->name);
	int rc = t ? 0 : err_set(e, ERR_NOMEM, "out of memory");
	for (int i = 0; rc == 0 && i < q->n_fields; i++)
		if (data_tbl_field(t, q->fields[i].name, true) < 0)
			rc = err_set(e, ERR_NOMEM, "out of memory");
	/* the texts stay where they are: the table takes the text store over, when every
	 * symbol's text lies in it */
	const char *store = q->text_store;
	size_t store_len = 0;
	bool inside = store != NULL;
	for (int i = 0; rc == 0 && inside && i < q->n_fields; i++)
		for (int64_t k = 0; inside && q->fields[i].symbols && k < q->fields[i].n_symbols;
		     k++) {
			const char *tx = q->fields[i].symbols[k].text;
			if (!tx)
				continue;
			inside = tx >= store;
			size_t end = (size_t)(tx - store) + strlen(tx) + 1;
			store_len = end > store_len ? end : store_len;
		}
	if (rc == 0 && inside) {
		buf_release(&t->texts);
		t->texts.data = q->text_store;
		t->texts.len = t->texts.cap = store_len;
		q->text_store = NULL;
	}
	for (int i = 0; rc == 0 && i < q->n_fields; i++) {
		struct qvd_field *qf = &q->fields[i];
		struct tbl_field *f = &t->fields[i];
		keep_number_format(f, qf);
		int64_t ns = qf->n_symbols;
		if (qf->dense) { /* no values (symbols NULL): the model needs none */
			free(f->text_at);
			f->text_at = NULL;
			f->dense = true;
			f->dense_kind = qf->dense_kind;
			f->dense_base = qf->dense_base;
		} else if (!(f->text_at = malloc(sizeof(*f->text_at) * (size_t)(ns + 1)))) {
			rc = err_set(e, ERR_NOMEM, "out of memory");
			break;
		}
		for (int64_t k = 0; rc == 0 && !qf->dense && k < ns; k++) {
			struct qvd_value *v = &qf->symbols[k];
			if (v->type == QVD_INT || v->type == QVD_DOUBLE) {
				f->text_at[k] = NO_TEXT;
			} else if (inside && v->text) {
				f->text_at[k] = (size_t)(v->text - t->texts.data);
			} else {
				const char *tx = v->text ? v->text : "";
				f->text_at[k] = t->texts.len;
				if (buf_append(&t->texts, tx, strlen(tx) + 1))
					rc = err_set(e, ERR_TOO_LARGE,
						     "the table's texts are too large");
			}
			v->text = NULL; /* the table reads texts through text_at */
		}
		/* the symbols themselves are taken over too */
		free(f->sym);
		f->sym = qf->symbols;
		qf->symbols = NULL;
		f->n_sym = f->cap_sym = ns;
		/* (its indexes are -1 or a symbol: data_qvd_read checks every one, the text
		 * reader makes them) */
		free(f->index);
		f->index = qf->index;
		qf->index = NULL;
		f->narrow = qf->narrow;
		f->col = qf->col;
		qf->col.p = NULL;
	}
	if (rc == 0)
		t->n_rows = t->cap_rows = q->n_rows;
	data_qvd_free(q);
	if (rc) {
		data_tbl_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

void data_val_of_symbol(const struct qvd_value *s, struct val *out)
{
	out->null = false;
	out->has_num = s->type != QVD_STRING;
	out->num = s->num;
	out->text = s->text;
}

const char *data_val_text(const struct val *v, char *buf, size_t n)
{
	if (v->null) {
		str_copy(buf, "", n);
		return buf;
	}
	if (v->text)
		return v->text;
	struct qvd_value q = {v->num == floor(v->num) && fabs(v->num) < 2147483648.0 ? QVD_INT
										     : QVD_DOUBLE,
			      v->num, NULL};
	return data_qvd_value_text(&q, buf, n);
}
