/* join.c: JOIN and KEEP (a new table combined with an existing one over their common
 * fields), and ORDER BY for RESIDENT loads. Part of the reload (reload_int.h). */
#include "script/script_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The key text of a row over columns; false when one of them is NULL (NULL never links). */
static bool row_key(const struct tbl *t, const int *cols, int n, int64_t row, struct buf *kb)
{
	kb->len = 0;
	for (int k = 0; k < n; k++) {
		struct val v;
		char nb[40];
		data_tbl_get(t, cols[k], row, &v);
		if (v.null)
			return false;
		if (v.has_num)
			snprintf(nb, sizeof(nb), "%.17g", v.num);
		if (buf_printf(kb, "%c%s\x1f", v.has_num ? '#' : 's', v.has_num ? nb : v.text))
			return false;
	}
	return buf_append(kb, "", 1) == 0;
}

/* The rows of t by key: keys->fields[0] symbol -> first row, next row. */
struct key_index {
	struct tbl *keys;
	int64_t *first, *next;
};

static int index_rows(const struct tbl *t, const int *cols, int n, struct key_index *ix)
{
	memset(ix, 0, sizeof(*ix));
	ix->keys = data_tbl_new("keys");
	ix->next = malloc(sizeof(int64_t) * (size_t)(t->n_rows + 1));
	ix->first = malloc(sizeof(int64_t) * (size_t)(t->n_rows + 1));
	if (!ix->keys || !ix->next || !ix->first || data_tbl_field(ix->keys, "k", true) < 0)
		return ERR_NOMEM;
	struct buf kb;
	buf_init(&kb, 1 << 20);
	int64_t *last = malloc(sizeof(int64_t) * (size_t)(t->n_rows + 1));
	int rc = last ? 0 : ERR_NOMEM;
	for (int64_t r = 0; rc == 0 && r < t->n_rows; r++) {
		ix->next[r] = -1;
		if (!row_key(t, cols, n, r, &kb))
			continue;
		struct val kv = {.text = kb.data};
		int64_t before = ix->keys->fields[0].n_sym;
		if (data_tbl_append(ix->keys, &kv, 1)) {
			rc = ERR_NOMEM;
			break;
		}
		int64_t s = ix->keys->fields[0].index[ix->keys->n_rows - 1];
		if (s == before) { /* a new key */
			ix->first[s] = r;
			last[s] = r;
		} else {
			ix->next[last[s]] = r;
			last[s] = r;
		}
	}
	free(last);
	buf_release(&kb);
	return rc;
}

static void index_free(struct key_index *ix)
{
	data_tbl_free(ix->keys);
	free(ix->first);
	free(ix->next);
}

/* The first row of ix with the key of row r of t over cols, or -1. */
static int64_t index_find(struct key_index *ix, const struct tbl *t, const int *cols, int n,
			  int64_t r, struct buf *kb)
{
	if (!row_key(t, cols, n, r, kb))
		return -1;
	struct val kv = {.text = kb->data};
	int64_t s = data_tbl_lookup(ix->keys, 0, &kv);
	return s < 0 ? -1 : ix->first[s];
}

/* Common fields of a and b: their columns in each. */
static int common_fields(const struct tbl *a, const struct tbl *b, int *ca, int *cb)
{
	int n = 0;
	for (int f = 0; f < a->n_fields; f++) {
		int g = data_tbl_field((struct tbl *)b, a->fields[f].name, false);
		if (g >= 0) {
			ca[n] = f;
			cb[n++] = g;
		}
	}
	return n;
}

/* Puts `nt` in old's place in the model. */
static void replace_table(struct run *r, struct tbl *old, struct tbl *nt)
{
	nt->access = old->access;
	for (int i = 0; i < r->m->n_tables; i++)
		if (r->m->tables[i] == old)
			r->m->tables[i] = nt;
	if (r->last == old)
		r->last = nt;
	data_tbl_free(old);
}

#define MAX_CROSS (1LL << 31) /* rows a cross join may make */

/* old JOIN nw without a common field: every row of old with every row of nw (a LEFT or
 * OUTER join keeps old's rows when nw has none, a RIGHT or OUTER join nw's when old has
 * none). */
static int cross_into(struct run *r, const struct stmt *s, struct tbl *old, struct tbl *nw,
		      struct tbl **out)
{
	enum load_join j = s->load.join;
	int64_t rows = old->n_rows * (nw->n_rows ? nw->n_rows : 1);
	if ((nw->n_rows && old->n_rows > MAX_CROSS / nw->n_rows) || rows > MAX_CROSS ||
	    (r->env->max_rows && rows > r->env->max_rows))
		return script_err(r, s, ERR_TOO_LARGE,
				  "the cross join of %s (%lld rows) with no field in common would "
				  "make too many rows",
				  old->name, (long long)old->n_rows);
	struct tbl *res = data_tbl_new(old->name);
	int rc = res ? 0 : ERR_NOMEM;
	for (int f = 0; rc == 0 && f < old->n_fields; f++)
		rc = data_tbl_field(res, old->fields[f].name, true) < 0 ? ERR_NOMEM : 0;
	for (int f = 0; rc == 0 && f < nw->n_fields; f++)
		rc = data_tbl_field(res, nw->fields[f].name, true) < 0 ? ERR_NOMEM : 0;
	struct val *vals = rc == 0 ? calloc((size_t)(res->n_fields + 1), sizeof(*vals)) : NULL;
	rc = rc == 0 && !vals ? ERR_NOMEM : rc;
	bool keep_old = old->n_rows && !nw->n_rows && (j == JOIN_LEFT || j == JOIN_OUTER);
	bool keep_nw = nw->n_rows && !old->n_rows && (j == JOIN_RIGHT || j == JOIN_OUTER);
	int64_t na = keep_nw ? 1 : old->n_rows, nb = keep_old ? 1 : nw->n_rows;
	for (int64_t a = 0; rc == 0 && a < na; a++)
		for (int64_t b = 0; rc == 0 && b < nb; b++) {
			for (int f = 0; f < res->n_fields; f++)
				vals[f] = (struct val){.null = true};
			for (int f = 0; !keep_nw && f < old->n_fields; f++)
				data_tbl_get(old, f, a, &vals[f]);
			for (int f = 0; !keep_old && f < nw->n_fields; f++)
				data_tbl_get(nw, f, b, &vals[old->n_fields + f]);
			rc = data_tbl_append(res, vals, res->n_fields) ? ERR_NOMEM : 0;
		}
	free(vals);
	if (rc) {
		data_tbl_free(res);
		return err_set(r->e, ERR_NOMEM, "out of memory");
	}
	*out = res;
	return 0;
}

/* old JOIN nw, natural over their common fields, into a new table named like old. */
static int join_into(struct run *r, const struct stmt *s, struct tbl *old, struct tbl *nw,
		     struct tbl **out)
{
	enum load_join j = s->load.join;
	int *ca = calloc((size_t)(old->n_fields + 1), sizeof(int));
	int *cb = calloc((size_t)(old->n_fields + 1), sizeof(int));
	if (!ca || !cb) {
		free(ca);
		free(cb);
		return err_set(r->e, ERR_NOMEM, "out of memory");
	}
	int nk = common_fields(old, nw, ca, cb);
	if (nk == 0) {
		free(ca);
		free(cb);
		return cross_into(r, s, old, nw, out);
	}
	struct tbl *res = data_tbl_new(old->name);
	int *from_nw = calloc((size_t)(nw->n_fields + 1), sizeof(int)); /* column in res */
	struct val *vals = NULL;
	struct key_index ix;
	int rc = res && from_nw ? index_rows(nw, cb, nk, &ix) : ERR_NOMEM;
	for (int f = 0; rc == 0 && f < old->n_fields; f++)
		if (data_tbl_field(res, old->fields[f].name, true) < 0)
			rc = ERR_NOMEM;
	for (int f = 0; rc == 0 && f < nw->n_fields; f++)
		if ((from_nw[f] = data_tbl_field(res, nw->fields[f].name, true)) < 0)
			rc = ERR_NOMEM;
	uint8_t *matched = rc == 0 ? calloc((size_t)(nw->n_rows + 1), 1) : NULL;
	vals = rc == 0 ? calloc((size_t)(res->n_fields + 1), sizeof(*vals)) : NULL;
	if (rc == 0 && (!matched || !vals))
		rc = ERR_NOMEM;
	struct buf kb;
	buf_init(&kb, 1 << 20);
	for (int64_t row = 0; rc == 0 && row < old->n_rows; row++) {
		for (int f = 0; f < res->n_fields; f++)
			vals[f] = (struct val){.null = true};
		for (int f = 0; f < old->n_fields; f++)
			data_tbl_get(old, f, row, &vals[f]);
		int64_t m = index_find(&ix, old, ca, nk, row, &kb);
		if (m < 0 && (j == JOIN_OUTER || j == JOIN_LEFT) &&
		    data_tbl_append(res, vals, res->n_fields))
			rc = ERR_NOMEM;
		for (; rc == 0 && m >= 0; m = ix.next[m]) {
			matched[m] = 1;
			for (int f = 0; f < nw->n_fields; f++)
				data_tbl_get(nw, f, m, &vals[from_nw[f]]);
			if (data_tbl_append(res, vals, res->n_fields))
				rc = ERR_NOMEM;
		}
	}
	for (int64_t m = 0; rc == 0 && (j == JOIN_OUTER || j == JOIN_RIGHT) && m < nw->n_rows;
	     m++) {
		if (matched[m])
			continue;
		for (int f = 0; f < res->n_fields; f++)
			vals[f] = (struct val){.null = true};
		for (int f = 0; f < nw->n_fields; f++)
			data_tbl_get(nw, f, m, &vals[from_nw[f]]);
		if (data_tbl_append(res, vals, res->n_fields))
			rc = ERR_NOMEM;
	}
	buf_release(&kb);
	if (res && from_nw)
		index_free(&ix);
	free(matched);
	free(vals);
	free(from_nw);
	free(ca);
	free(cb);
	if (rc) {
		data_tbl_free(res);
		return r->e->code ? rc : err_set(r->e, ERR_NOMEM, "out of memory");
	}
	*out = res;
	return 0;
}

/* The rows of t whose key (over cols) `other` holds too, as a new table. */
static int keep_rows(struct tbl *t, const int *ct, struct tbl *other, const int *co, int nk,
		     struct tbl **out)
{
	struct key_index ix;
	struct tbl *res = data_tbl_new(t->name);
	int rc = res ? index_rows(other, co, nk, &ix) : ERR_NOMEM;
	for (int f = 0; rc == 0 && f < t->n_fields; f++)
		if (data_tbl_field(res, t->fields[f].name, true) < 0)
			rc = ERR_NOMEM;
	struct val *vals = rc == 0 ? calloc((size_t)(t->n_fields + 1), sizeof(*vals)) : NULL;
	if (rc == 0 && !vals)
		rc = ERR_NOMEM;
	struct buf kb;
	buf_init(&kb, 1 << 20);
	for (int64_t row = 0; rc == 0 && row < t->n_rows; row++) {
		if (index_find(&ix, t, ct, nk, row, &kb) < 0)
			continue;
		for (int f = 0; f < t->n_fields; f++)
			data_tbl_get(t, f, row, &vals[f]);
		if (data_tbl_append(res, vals, t->n_fields))
			rc = ERR_NOMEM;
	}
	buf_release(&kb);
	if (res)
		index_free(&ix);
	free(vals);
	if (rc) {
		data_tbl_free(res);
		return rc;
	}
	*out = res;
	return 0;
}

/* After a JOIN or KEEP load into `nw`: combines it with its target table. */
int script_combine(struct run *r, const struct stmt *s, struct tbl *nw)
{
	const struct load *l = &s->load;
	struct tbl *old = l->target ? data_set_table(r->m, l->target) : r->last;
	if (!old) {
		data_tbl_free(nw);
		return script_err(r, s, ERR_INVALID, "there is no table %s%s to %s",
				  l->target ? "named " : "", l->target ? l->target : "yet",
				  l->keep ? "keep against" : "join to");
	}
	if (!l->keep) {
		struct tbl *res = NULL;
		int rc = join_into(r, s, old, nw, &res);
		data_tbl_free(nw);
		if (rc)
			return rc;
		script_log(r, "%s: joined, %lld rows now", res->name, (long long)res->n_rows);
		replace_table(r, old, res);
		return 0;
	}
	int *co = calloc((size_t)(old->n_fields + 1), sizeof(int));
	int *cn = calloc((size_t)(old->n_fields + 1), sizeof(int));
	int nk = co && cn ? common_fields(old, nw, co, cn) : -1;
	int rc = nk < 0	   ? err_set(r->e, ERR_NOMEM, "out of memory")
		 : nk == 0 ? script_err(r, s, ERR_INVALID,
					"KEEP needs a field in common with table %s", old->name)
			   : 0;
	struct tbl *new_kept = nw, *old_kept = old;
	if (rc == 0 && (l->join == JOIN_LEFT || l->join == JOIN_INNER) &&
	    keep_rows(nw, cn, old, co, nk, &new_kept))
		rc = err_set(r->e, ERR_NOMEM, "out of memory");
	if (rc == 0 && (l->join == JOIN_RIGHT || l->join == JOIN_INNER) &&
	    keep_rows(old, co, nw, cn, nk, &old_kept))
		rc = err_set(r->e, ERR_NOMEM, "out of memory");
	free(co);
	free(cn);
	if (new_kept != nw) {
		data_tbl_free(nw);
		nw = new_kept;
	}
	if (rc) {
		data_tbl_free(nw);
		if (old_kept != old)
			data_tbl_free(old_kept);
		return rc;
	}
	if (old_kept != old)
		replace_table(r, old, old_kept);
	if (script_add_table(r, nw)) {
		data_tbl_free(nw);
		return err_set(r->e, ERR_NOMEM, "out of memory");
	}
	r->last = nw;
	script_log(r, "%s: kept %lld rows; %s: %lld rows", nw->name, (long long)nw->n_rows,
		   old_kept->name, (long long)old_kept->n_rows);
	return 0;
}

/* ---------------------------------------------------------------- ORDER BY */

struct sort_ctx {
	const struct tbl *t;
	const int *cols;
	const bool *desc;
	int n;
};

/* Numbers before texts; numbers by value, texts by their bytes; NULL last. */
static int cmp_val(const struct val *a, const struct val *b)
{
	if (a->null || b->null)
		return a->null - b->null;
	if (a->has_num != b->has_num)
		return a->has_num ? -1 : 1;
	if (a->has_num)
		return (a->num > b->num) - (a->num < b->num);
	int c = strcmp(a->text ? a->text : "", b->text ? b->text : "");
	return (c > 0) - (c < 0);
}

static int cmp_rows(const void *pa, const void *pb, void *arg)
{
	const struct sort_ctx *c = arg;
	int64_t ra = *(const int64_t *)pa, rb = *(const int64_t *)pb;
	for (int k = 0; k < c->n; k++) {
		struct val a, b;
		data_tbl_get(c->t, c->cols[k], ra, &a);
		data_tbl_get(c->t, c->cols[k], rb, &b);
		int d = cmp_val(&a, &b);
		if (d)
			return c->desc[k] ? -d : d;
	}
	return (ra > rb) - (ra < rb); /* stable: load order breaks ties */
}

/* The source rows in ORDER BY order (RESIDENT loads only, which the parser checked). */
int script_sort_rows(struct run *r, const struct stmt *s, const struct tbl *src, int64_t rows,
		     int64_t **out)
{
	const struct load *l = &s->load;
	int *cols = calloc((size_t)(l->n_order_by + 1), sizeof(int));
	int64_t *order = malloc(sizeof(int64_t) * (size_t)(rows + 1));
	if (!cols || !order) {
		free(cols);
		free(order);
		return err_set(r->e, ERR_NOMEM, "out of memory");
	}
	for (int k = 0; k < l->n_order_by; k++)
		if ((cols[k] = data_tbl_field((struct tbl *)src, l->order_by[k], false)) < 0) {
			free(cols);
			free(order);
			return script_err(r, s, ERR_INVALID, "ORDER BY names a field not in %s: %s",
					  src->name, l->order_by[k]);
		}
	for (int64_t i = 0; i < rows; i++)
		order[i] = i;
	struct sort_ctx c = {src, cols, l->order_desc, l->n_order_by};
	qsort_r(order, (size_t)rows, sizeof(int64_t), cmp_rows, &c);
	free(cols);
	*out = order;
	return 0;
}
