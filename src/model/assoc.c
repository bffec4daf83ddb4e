/* assoc.c: the associative model and selection states (see assoc.h). */
#include "model/model.h"
#include "data/data.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the sessions of a model share beside it, filled as they need it: one set of state
 * and row arrays kept from a released assoc_states, so that the next computation writes
 * into memory the process has already touched instead of new pages (on a large model the
 * page faults cost a quarter of a selection's time); and the counts of each column's
 * values (model_assoc_counts). */
struct assoc_spare {
	pthread_mutex_t mu;
	uint8_t **state, **possible;
	int64_t ***counts; /* per table, per column: per symbol, the rows that hold it */
};

/* ---------------------------------------------------------------- building */

static int find_root(int *parent, int x)
{
	while (parent[x] != x) {
		parent[x] = parent[parent[x]];
		x = parent[x];
	}
	return x;
}

int model_assoc_field(const struct assoc *a, const char *name)
{
	for (int i = 0; i < a->n_fields; i++)
		if (strcmp(a->fields[i].name, name) == 0)
			return i;
	return -1;
}

static int table_col(const struct assoc_table *t, int field)
{
	for (int c = 0; c < t->n_fields; c++)
		if (t->field[c] == field)
			return c;
	return -1;
}

/* Whether the lines of `list` hold `tag`. */
static bool has_line(const char *list, const char *tag, size_t tl)
{
	for (const char *p = list; p && *p;) {
		size_t n = strcspn(p, "\n");
		if (n == tl && strncmp(p, tag, tl) == 0)
			return true;
		p += n + (p[n] == '\n');
	}
	return false;
}

/* Adds the tags of `more` (one a line, or NULL) that the field has not yet. */
static void add_tags(struct assoc *a, struct assoc_field *f, const char *more)
{
	for (const char *p = more; p && *p;) {
		size_t n = strcspn(p, "\n");
		if (n && !has_line(f->tags, p, n))
			f->tags = f->tags[0] ? arena_printf(a->a, "%s\n%.*s", f->tags, (int)n, p)
					     : arena_strndup(a->a, p, n);
		p += n + (p[n] == '\n');
	}
}

/* Whether every value is a number, and a whole one. */
static void kinds_of(struct assoc_field *f)
{
	f->numeric = f->integer = true;
	for (int64_t s = 0; f->sym && s < f->n_sym && f->numeric; s++) {
		f->numeric = f->sym[s].has_num;
		f->integer = f->integer && f->numeric && f->sym[s].num == floor(f->sym[s].num);
	}
	f->integer = f->integer && f->numeric;
}

/* Every distinct field name of the data set, in order of first appearance. */
static void collect_fields(struct assoc *a, const struct data_set *m)
{
	int cap = 16;
	a->fields = arena_alloc(a->a, sizeof(*a->fields) * (size_t)cap);
	for (int t = 0; t < m->n_tables; t++)
		for (int f = 0; f < m->tables[t]->n_fields; f++) {
			const struct tbl_field *tf = &m->tables[t]->fields[f];
			const char *n = tf->name;
			int have = model_assoc_field(a, n);
			const char *had = have >= 0 ? a->fields[have].number_type : NULL;
			if (have >= 0 && (!had || !had[0]) && tf->number_type[0]) {
				a->fields[have].number_type = arena_strdup(a->a, tf->number_type);
				a->fields[have].number_fmt = arena_strdup(a->a, tf->number_fmt);
			}
			if (have >= 0) {
				add_tags(a, &a->fields[have], tf->tags);
				continue;
			}
			if (a->n_fields == cap) {
				struct assoc_field *more =
				    arena_alloc(a->a, sizeof(*more) * (size_t)cap * 2);
				memcpy(more, a->fields, sizeof(*more) * (size_t)cap);
				a->fields = more;
				cap *= 2;
			}
			a->fields[a->n_fields].number_type = arena_strdup(a->a, tf->number_type);
			a->fields[a->n_fields].number_fmt = arena_strdup(a->a, tf->number_fmt);
			a->fields[a->n_fields].tags = "";
			add_tags(a, &a->fields[a->n_fields], tf->tags);
			a->fields[a->n_fields++].name = arena_strdup(a->a, n);
		}
}

/* What building the symbol tables needs: per field, the one table that holds it (table + 1)
 * or -1 when several do, and for those the shared symbol table (dict). */
struct symbols {
	int *home;
	struct tbl **dict;
};

static int plan_symbols(struct assoc *a, const struct data_set *m, struct symbols *sy,
			struct err *e)
{
	sy->home = calloc((size_t)(a->n_fields + 1), sizeof(int));
	sy->dict = calloc((size_t)(a->n_fields + 1), sizeof(*sy->dict));
	if (!sy->dict || !sy->home)
		return err_set(e, ERR_NOMEM, "out of memory");
	for (int t = 0; t < m->n_tables; t++)
		for (int c = 0; c < m->tables[t]->n_fields; c++) {
			int f = model_assoc_field(a, m->tables[t]->fields[c].name);
			sy->home[f] = sy->home[f] == 0 ? t + 1 : -1;
		}
	for (int f = 0; f < a->n_fields; f++)
		if (sy->home[f] < 0 && (!(sy->dict[f] = data_tbl_new(a->fields[f].name)) ||
					data_tbl_field(sy->dict[f], "v", true) < 0))
			return err_set(e, ERR_NOMEM, "out of memory");
	return 0;
}

/* Column c of table src in global symbols: its own symbols when the field is this table's
 * alone, else each local symbol mapped once to the shared dictionary. */
static int global_column(const struct tbl *src, int c, struct tbl *dict, int32_t *col,
			 struct err *e)
{
	const struct tbl_field *sf = &src->fields[c];
	int32_t *map = malloc(sizeof(int32_t) * (size_t)(sf->n_sym + 1));
	if (!map)
		return err_set(e, ERR_NOMEM, "out of memory");
	int rc = 0;
	for (int64_t s = 0; s < sf->n_sym && rc == 0; s++) {
		struct val v = {.has_num = true, .num = sf->dense_base + (double)s};
		if (!sf->dense) {
			data_val_of_symbol(&sf->sym[s], &v);
			v.text =
			    sf->text_at[s] == (size_t)-1 ? NULL : src->texts.data + sf->text_at[s];
		}
		int64_t g = data_tbl_lookup(dict, 0, &v);
		if (g < 0) {
			if (data_tbl_append(dict, &v, 1))
				rc = err_set(e, ERR_NOMEM, "out of memory");
			g = dict->fields[0].n_sym - 1;
		}
		map[s] = (int32_t)g;
	}
	if (rc == 0 && sf->narrow)
		data_col_range(&sf->col, 0, src->n_rows, col);
	for (int64_t r = 0; rc == 0 && r < src->n_rows; r++) {
		int32_t s = sf->narrow ? col[r] : sf->index[r];
		col[r] = s < 0 ? -1 : map[s];
	}
	free(map);
	return rc;
}

/* Column c of table src as the model keeps it (into *out): in global symbols, as narrow
 * as they allow, none at all when row r holds symbol r (a table's key of distinct values).
 * A column of the table's own field is taken from it (freed, or kept when it is as wide
 * as it must be). */
static int model_column(struct tbl *src, int c, struct tbl *dict, bool own, struct data_col *out,
			struct err *e)
{
	struct tbl_field *sf = &src->fields[c];
	int64_t n = src->n_rows;
	if (own && sf->narrow) { /* read for the model: as it is */
		*out = sf->col;
		sf->col.p = NULL;
		return 0;
	}
	int32_t *g = sf->index;
	if (!own) {
		if (!(g = malloc(sizeof(int32_t) * (size_t)(n + 1))))
			return err_set(e, ERR_NOMEM, "out of memory");
		int rc = global_column(src, c, dict, g, e);
		if (rc) {
			free(g);
			return rc;
		}
	} else {
		sf->index = NULL;
	}
	int64_t n_sym = own ? sf->n_sym : dict->fields[0].n_sym;
	int width = n_sym >= n && data_col_identity(g, n) ? 0 : data_col_width(n_sym);
	if (width == 4) {
		*out = (struct data_col){.p = g, .width = 4};
		return 0;
	}
	bool ok = data_col_alloc(out, width, n);
	if (ok)
		data_col_write(out, 0, g, n);
	free(g);
	return ok ? 0 : err_set(e, ERR_NOMEM, "out of memory");
}

/* The tables as columns of global symbols. */
static int build_tables(struct assoc *a, struct data_set *m, const struct symbols *sy,
			struct err *e)
{
	a->n_tables = m->n_tables;
	a->tables = arena_alloc(a->a, sizeof(*a->tables) * (size_t)(m->n_tables + 1));
	int rc = 0;
	for (int t = 0; rc == 0 && t < m->n_tables; t++) {
		struct tbl *src = m->tables[t];
		struct assoc_table *at = &a->tables[t];
		at->name = arena_strdup(a->a, src->name);
		at->n_rows = src->n_rows;
		at->n_fields = src->n_fields;
		at->field = arena_alloc(a->a, sizeof(int) * (size_t)(src->n_fields + 1));
		at->col = arena_alloc(a->a, sizeof(*at->col) * (size_t)(src->n_fields + 1));
		for (int c = 0; rc == 0 && c < src->n_fields; c++) {
			int f = model_assoc_field(a, src->fields[c].name);
			at->field[c] = f;
			a->fields[f].n_tables++;
			rc = model_column(src, c, sy->dict[f], sy->home[f] > 0, &at->col[c], e);
		}
	}
	return rc;
}

/* Whether a field's values are consecutive whole numbers from *base, each written as the
 * number writes it (a field of ids: 1, 2, 3, ...), and many enough to be worth keeping as
 * their first alone. */
static bool dense(const struct tbl *st, const struct tbl_field *df, double *base)
{
	if (df->dense) { /* the app file's reader found it so */
		*base = df->dense_base;
		return true;
	}
	if (df->n_sym < DATA_DENSE_MIN)
		return false;
	for (int64_t s = 0; s < df->n_sym; s++) {
		struct val v;
		data_val_of_symbol(&df->sym[s], &v);
		if (s == 0)
			*base = v.num;
		if (!v.has_num || v.num != *base + (double)s || fabs(v.num) >= 1e15)
			return false;
		if (df->text_at[s] != (size_t)-1 &&
		    !data_canonical_integer(st->texts.data + df->text_at[s], v.num))
			return false;
	}
	return true;
}

/* p[s] = 1 for each symbol s that rows [from, to) of col hold. One or two bytes a row are
 * marked by their stored value (symbol + 1, 0 for NULL) in a table of every value the width
 * holds, without a branch a row or widening to 32 bits, and copied to p after. */
static void mark_rows_held(const struct data_col *col, int64_t from, int64_t to, int64_t n_sym,
			   uint8_t *p)
{
	const uint8_t *b = col->p;
	if (col->width == 0) { /* row r holds symbol r */
		memset(p + from, 1, (size_t)(to - from));
		return;
	}
	uint8_t few[1 << 8], *seen = col->width == 1 ? few : NULL;
	if (col->width == 2)
		seen = malloc(1 << 16);
	if (seen) {
		int64_t n_vals = col->width == 1 ? 1 << 8 : 1 << 16;
		memset(seen, 0, (size_t)n_vals);
		if (col->width == 1)
			for (int64_t r = from; r < to; r++)
				seen[b[r]] = 1;
		else
			for (int64_t r = from; r < to; r++)
				seen[((const uint16_t *)col->p)[r]] = 1;
		/* (stored v is symbol v - 1; the rows were checked to hold no more than n_sym) */
		for (int64_t v = 1; v < n_vals && v <= n_sym; v++)
			p[v - 1] |= seen[v];
		if (seen != few)
			free(seen);
		return;
	}
	int32_t buf[4096];
	for (; from < to; from += 4096) {
		int64_t k = to - from < 4096 ? to - from : 4096;
		data_col_range(col, from, k, buf);
		for (int64_t i = 0; i < k; i++)
			if (buf[i] >= 0)
				p[buf[i]] = 1;
	}
}

struct held_half {
	const struct data_col *col;
	int64_t from, to, n_sym;
	uint8_t *p;
};

static void *held_thread(void *arg)
{
	struct held_half *h = arg;
	mark_rows_held(h->col, h->from, h->to, h->n_sym, h->p);
	return NULL;
}

/* p[s] = 1 for each symbol s (of n_sym) that some row of col (of n) holds: a large
 * column's second half on a second thread, into bytes of its own, or'ed in after. */
static void mark_held(const struct data_col *col, int64_t n, int64_t n_sym, uint8_t *p)
{
	struct held_half h = {.col = col, .from = n / 2, .to = n, .n_sym = n_sym};
	pthread_t th;
	if (n >= (1 << 20) && col->width && (h.p = calloc((size_t)n_sym + 1, 1)) &&
	    pthread_create(&th, NULL, held_thread, &h) != 0) {
		free(h.p);
		h.p = NULL;
	}
	mark_rows_held(col, 0, h.p ? n / 2 : n, n_sym, p);
	if (!h.p)
		return;
	pthread_join(th, NULL);
	for (int64_t s = 0; s < n_sym; s++)
		p[s] |= h.p[s];
	free(h.p);
}

/* Each field's values (texts copied into the model, in one block a field, except those the
 * number writes the same), and which of them occur in a row. */
static void field_values(struct assoc *a, const struct data_set *m, const struct symbols *sy)
{
	for (int f = 0; f < a->n_fields; f++) {
		int home = sy->home[f];
		const struct tbl *st = home > 0 ? m->tables[home - 1] : sy->dict[f];
		const struct tbl_field *df =
		    home > 0
			? &st->fields[data_tbl_field((struct tbl *)st, a->fields[f].name, false)]
			: &st->fields[0];
		a->fields[f].n_sym = df->n_sym;
		if (dense(st, df, &a->fields[f].dense_base)) {
			a->fields[f].sym = NULL;
			a->fields[f].present = arena_alloc(a->a, (size_t)a->fields[f].n_sym + 1);
			kinds_of(&a->fields[f]);
			continue;
		}
		a->fields[f].sym = arena_alloc(a->a, sizeof(struct val) * (size_t)(df->n_sym + 1));
		size_t total = 0;
		for (int64_t s = 0; s < df->n_sym; s++) {
			struct val *v = &a->fields[f].sym[s];
			data_val_of_symbol(&df->sym[s], v);
			const char *t =
			    df->text_at[s] == (size_t)-1 ? NULL : st->texts.data + df->text_at[s];
			v->text =
			    t && !(v->has_num && data_canonical_integer(t, v->num)) ? t : NULL;
			total += v->text ? strlen(v->text) + 1 : 0;
		}
		char *block = total ? arena_alloc(a->a, total) : NULL;
		for (int64_t s = 0; s < df->n_sym; s++) {
			struct val *v = &a->fields[f].sym[s];
			if (!v->text)
				continue;
			size_t n = strlen(v->text) + 1;
			memcpy(block, v->text, n);
			v->text = block;
			block += n;
		}
		a->fields[f].present = arena_alloc(a->a, (size_t)a->fields[f].n_sym + 1);
		kinds_of(&a->fields[f]);
	}
	for (int t = 0; t < a->n_tables; t++)
		for (int c = 0; c < a->tables[t].n_fields; c++) {
			mark_held(&a->tables[t].col[c], a->tables[t].n_rows,
				  a->fields[a->tables[t].field[c]].n_sym,
				  a->fields[a->tables[t].field[c]].present);
		}
}

/* The link of tables i and j by their `shared` common fields. */
static void add_link(struct assoc *a, int i, int j, int shared)
{
	struct assoc_table *ti = &a->tables[i], *tj = &a->tables[j];
	struct assoc_link *l = &a->links[a->n_links++];
	l->t[0] = i;
	l->t[1] = j;
	l->col[0] = arena_alloc(a->a, sizeof(int) * (size_t)shared);
	l->col[1] = arena_alloc(a->a, sizeof(int) * (size_t)shared);
	for (int c = 0; c < ti->n_fields; c++) {
		int cj = table_col(tj, ti->field[c]);
		if (cj < 0)
			continue;
		l->col[0][l->n_keys] = c;
		l->col[1][l->n_keys++] = cj;
	}
	if (l->n_keys != 1)
		return;
	for (int side = 0; side < 2; side++) {
		const struct assoc_table *t = &a->tables[l->t[side]];
		uint8_t *p =
		    arena_alloc(a->a, (size_t)a->fields[t->field[l->col[side][0]]].n_sym + 1);
		mark_held(&t->col[l->col[side][0]], t->n_rows,
			  a->fields[t->field[l->col[side][0]]].n_sym, p);
		l->present[side] = p;
	}
}

/* Links: tables that share fields, in table order, without closing loops. */
static int build_links(struct assoc *a, struct err *e)
{
	int *parent = calloc((size_t)(a->n_tables + 1), sizeof(int));
	if (!parent)
		return err_set(e, ERR_NOMEM, "out of memory");
	for (int t = 0; t < a->n_tables; t++)
		parent[t] = t;
	a->links = arena_alloc(a->a, sizeof(*a->links) * (size_t)(a->n_tables + 1));
	for (int i = 0; i < a->n_tables; i++)
		for (int j = i + 1; j < a->n_tables; j++) {
			struct assoc_table *ti = &a->tables[i], *tj = &a->tables[j];
			int shared = 0;
			for (int c = 0; c < ti->n_fields; c++)
				shared += table_col(tj, ti->field[c]) >= 0;
			if (!shared)
				continue;
			int ri = find_root(parent, i), rj = find_root(parent, j);
			if (ri == rj) {
				a->n_cut++;
				continue;
			}
			parent[ri] = rj;
			add_link(a, i, j, shared);
		}
	free(parent);
	return 0;
}

int model_assoc_build(struct data_set *m, struct assoc **out, struct err *e)
{
	*out = NULL;
	struct assoc *a = calloc(1, sizeof(*a));
	if (!a)
		return err_set(e, ERR_NOMEM, "out of memory");
	a->a = arena_new();
	a->map = data_map_ref(m->map);
	collect_fields(a, m);
	struct symbols sy = {0};
	int rc = plan_symbols(a, m, &sy, e);
	if (rc == 0)
		rc = build_tables(a, m, &sy, e);
	if (rc == 0)
		field_values(a, m, &sy);
	free(sy.home);
	for (int f = 0; sy.dict && f < a->n_fields; f++)
		data_tbl_free(sy.dict[f]);
	free(sy.dict);
	if (rc == 0)
		rc = build_links(a, e);
	if (rc == 0 && !(a->spare = calloc(1, sizeof(*a->spare))))
		rc = err_set(e, ERR_NOMEM, "out of memory");
	if (rc == 0)
		pthread_mutex_init(&a->spare->mu, NULL);
	if (rc) {
		model_assoc_free(a);
		return rc;
	}
	*out = a;
	return 0;
}

/* ---------------------------------------------------------------- reduction */

/* Per field of `a`: its new index (-1 dropped) in *fmap, and per symbol its new number (-1
 * gone) in (*smap)[f]. */
static int reduce_plan(const struct assoc *a, uint8_t *const *keep, const bool *drop, int **fmap,
		       int32_t ***smap, struct err *e)
{
	*fmap = calloc((size_t)a->n_fields + 1, sizeof(int));
	*smap = calloc((size_t)a->n_fields + 1, sizeof(int32_t *));
	if (!*fmap || !*smap)
		return err_set(e, ERR_NOMEM, "out of memory");
	int nf = 0;
	for (int f = 0; f < a->n_fields; f++) {
		(*fmap)[f] = drop && drop[f] ? -1 : nf++;
		if ((*fmap)[f] < 0)
			continue;
		(*smap)[f] = malloc(sizeof(int32_t) * (size_t)(a->fields[f].n_sym + 1));
		if (!(*smap)[f])
			return err_set(e, ERR_NOMEM, "out of memory");
		memset((*smap)[f], 0xff, sizeof(int32_t) * (size_t)(a->fields[f].n_sym + 1));
	}
	for (int t = 0; t < a->n_tables; t++)
		for (int c = 0; c < a->tables[t].n_fields; c++) {
			int32_t *m = (*smap)[a->tables[t].field[c]];
			const struct data_col *col = &a->tables[t].col[c];
			for (int64_t r = 0; m && r < a->tables[t].n_rows; r++) {
				int32_t v = data_col_at(col, r);
				if (v >= 0 && (!keep || keep[t][r]))
					m[v] = 0; /* in use */
			}
		}
	for (int f = 0; f < a->n_fields; f++) {
		int32_t n = 0, *m = (*smap)[f];
		for (int64_t s = 0; m && s < a->fields[f].n_sym; s++)
			if (m[s] == 0)
				m[s] = n++;
	}
	return 0;
}

static void reduce_fields(struct assoc *na, const struct assoc *a, const int *fmap,
			  int32_t *const *smap)
{
	na->fields = arena_alloc(na->a, sizeof(*na->fields) * (size_t)(a->n_fields + 1));
	for (int f = 0; f < a->n_fields; f++) {
		if (fmap[f] < 0)
			continue;
		const struct assoc_field *of = &a->fields[f];
		struct assoc_field *nf = &na->fields[na->n_fields++];
		nf->name = arena_strdup(na->a, of->name);
		nf->number_type = arena_strdup(na->a, of->number_type ? of->number_type : "");
		nf->number_fmt = arena_strdup(na->a, of->number_fmt ? of->number_fmt : "");
		nf->tags = arena_strdup(na->a, of->tags ? of->tags : "");
		for (int64_t s = 0; s < of->n_sym; s++)
			nf->n_sym += smap[f][s] >= 0;
		nf->sym = arena_alloc(na->a, sizeof(struct val) * (size_t)(nf->n_sym + 1));
		nf->present = arena_alloc(na->a, (size_t)nf->n_sym + 1);
		for (int64_t s = 0; s < of->n_sym; s++) {
			if (smap[f][s] < 0)
				continue;
			struct val *v = &nf->sym[smap[f][s]];
			*v = model_sym(of, s);
			v->text = v->text ? arena_strdup(na->a, v->text) : NULL;
			nf->present[smap[f][s]] = 1;
		}
		kinds_of(nf);
	}
}

static int reduce_tables(struct assoc *na, const struct assoc *a, uint8_t *const *keep,
			 const int *fmap, int32_t *const *smap, struct err *e)
{
	na->tables = arena_alloc(na->a, sizeof(*na->tables) * (size_t)(a->n_tables + 1));
	for (int t = 0; t < a->n_tables; t++) {
		const struct assoc_table *ot = &a->tables[t];
		int cols = 0;
		for (int c = 0; c < ot->n_fields; c++)
			cols += fmap[ot->field[c]] >= 0;
		if (cols == 0)
			continue;
		struct assoc_table *nt = &na->tables[na->n_tables++];
		nt->name = arena_strdup(na->a, ot->name);
		for (int64_t r = 0; r < ot->n_rows; r++)
			nt->n_rows += !keep || keep[t][r];
		nt->field = arena_alloc(na->a, sizeof(int) * (size_t)(cols + 1));
		nt->col = arena_alloc(na->a, sizeof(*nt->col) * (size_t)(cols + 1));
		for (int c = 0; c < ot->n_fields; c++) {
			int f = ot->field[c];
			if (fmap[f] < 0)
				continue;
			struct data_col *col = &nt->col[nt->n_fields];
			if (!data_col_alloc(col, data_col_width(na->fields[fmap[f]].n_sym),
					    nt->n_rows))
				return err_set(e, ERR_NOMEM, "out of memory");
			int64_t k = 0;
			for (int64_t r = 0; r < ot->n_rows; r++) {
				if (keep && !keep[t][r])
					continue;
				int32_t v = data_col_at(&ot->col[c], r);
				data_col_put(col, k++, v < 0 ? -1 : smap[f][v]);
			}
			nt->field[nt->n_fields++] = fmap[f];
			na->fields[fmap[f]].n_tables++;
		}
	}
	return 0;
}

int model_assoc_reduce(const struct assoc *a, uint8_t *const *keep, const bool *drop,
		       struct assoc **out, struct err *e)
{
	*out = NULL;
	int *fmap = NULL;
	int32_t **smap = NULL;
	struct assoc *na = NULL;
	int rc = reduce_plan(a, keep, drop, &fmap, &smap, e);
	if (rc == 0 && !(na = calloc(1, sizeof(*na))))
		rc = err_set(e, ERR_NOMEM, "out of memory");
	if (rc == 0) {
		na->a = arena_new();
		reduce_fields(na, a, fmap, smap);
		rc = reduce_tables(na, a, keep, fmap, smap, e);
	}
	if (rc == 0)
		rc = build_links(na, e);
	if (rc == 0 && !(na->spare = calloc(1, sizeof(*na->spare))))
		rc = err_set(e, ERR_NOMEM, "out of memory");
	if (rc == 0)
		pthread_mutex_init(&na->spare->mu, NULL);
	for (int f = 0; smap && f < a->n_fields; f++)
		free(smap[f]);
	free(smap);
	free(fmap);
	if (rc) {
		model_assoc_free(na);
		return rc;
	}
	*out = na;
	return 0;
}

static void flags_free(const struct assoc *a, uint8_t **f);
static void rows_free(const struct assoc *a, uint8_t **p)
{
	for (int t = 0; p && t < a->n_tables; t++)
		free(p[t]);
	free(p);
}

void model_assoc_free(struct assoc *a)
{
	if (!a)
		return;
	if (a->spare) {
		flags_free(a, a->spare->state);
		rows_free(a, a->spare->possible);
		for (int t = 0; a->spare->counts && t < a->n_tables; t++) {
			for (int c = 0; a->spare->counts[t] && c < a->tables[t].n_fields; c++)
				free(a->spare->counts[t][c]);
			free(a->spare->counts[t]);
		}
		free(a->spare->counts);
		pthread_mutex_destroy(&a->spare->mu);
		free(a->spare);
	}
	for (int t = 0; a->tables && t < a->n_tables; t++)
		for (int c = 0; a->tables[t].col && c < a->tables[t].n_fields; c++)
			data_col_free(&a->tables[t].col[c]);
	data_map_unref(a->map);
	arena_free(a->a);
	free(a);
}

/* Takes the spare arrays (the states zeroed; the rows as they were), or returns false. */
static bool take_spare(const struct assoc *a, uint8_t ***state, uint8_t ***possible)
{
	if (!a->spare)
		return false;
	pthread_mutex_lock(&a->spare->mu);
	*state = a->spare->state;
	*possible = a->spare->possible;
	a->spare->state = a->spare->possible = NULL;
	pthread_mutex_unlock(&a->spare->mu);
	if (!*state)
		return false;
	for (int f = 0; f < a->n_fields; f++)
		memset((*state)[f], 0, (size_t)a->fields[f].n_sym + 1);
	return true;
}

int64_t model_assoc_find(const struct assoc *a, int field, const char *text)
{
	const struct assoc_field *f = &a->fields[field];
	struct qvd_value q;
	data_txt_interpret(text, NULL, &q);
	if (!f->sym) { /* a dense field: the number's place */
		double at = q.num - f->dense_base;
		return q.type != QVD_STRING && at >= 0 && at < (double)f->n_sym && at == floor(at)
			   ? (int64_t)at
			   : -1;
	}
	for (int64_t s = 0; s < f->n_sym; s++) {
		const struct val sv = model_sym(f, s), *v = &sv;
		if (v->text && strcmp(v->text, text) == 0)
			return s;
		if (!v->text && q.type != QVD_STRING && v->has_num && v->num == q.num)
			return s;
	}
	return -1;
}

/* ---------------------------------------------------------------- selections */

int model_assoc_sel_init(const struct assoc *a, struct assoc_sel *s)
{
	s->n_fields = a->n_fields;
	s->selected = calloc((size_t)(a->n_fields + 1), sizeof(bool *));
	return s->selected ? 0 : ERR_NOMEM;
}

void model_assoc_sel_release(struct assoc_sel *s)
{
	for (int f = 0; s->selected && f < s->n_fields; f++)
		free(s->selected[f]);
	free(s->selected);
	s->selected = NULL;
}

int model_assoc_select(const struct assoc *a, struct assoc_sel *s, int f, const int64_t *sym, int n)
{
	free(s->selected[f]);
	s->selected[f] = NULL;
	if (n == 0)
		return 0;
	s->selected[f] = calloc((size_t)(a->fields[f].n_sym + 1), sizeof(bool));
	if (!s->selected[f])
		return ERR_NOMEM;
	for (int i = 0; i < n; i++)
		if (sym[i] >= 0 && sym[i] < a->fields[f].n_sym)
			s->selected[f][sym[i]] = true;
	return 0;
}

/* ---------------------------------------------------------------- states */

/* A message over a link from table X to table Y: ALL, or which key values of a Y row
 * find a compatible combination on X's side. The association is a full outer join: a
 * key value that X does not hold at all joins X's side as NULLs, which passes when X's
 * side has no selection except on the link's own key fields (those are checked in Y).
 * Key values: single key, a flag per symbol; several keys, a set of tuple texts. */
struct msg {
	int done; /* 0 not yet, 1 being computed, 2 done */
	bool all;
	bool absent_ok;
	uint8_t *single;
	const uint8_t *present; /* single key: the link's values on the sending side */
	struct tbl *tuples, *present_tuples;
	uint8_t *pass; /* single key: whether a row with value v passes, at pass[v + 1] (pass[0]:
			* a row with no value); made from the above when first read */
};

struct calc {
	const struct assoc *a;
	const struct assoc_sel *s;
	int skip; /* a field whose selection is ignored, or -1 */
	uint8_t **own;
	bool *has_sel;
	struct msg *msg; /* 2 per link: [2l] t0->t1, [2l+1] t1->t0 */
	struct err *e;
};

static bool row_key_in(const struct calc *c, const struct assoc_link *l, int side,
		       const struct msg *m, int64_t r)
{
	const struct assoc_table *t = &c->a->tables[l->t[side]];
	if (m->all)
		return true;
	if (l->n_keys == 1) {
		int32_t v = data_col_at(&t->col[l->col[side][0]], r);
		if (v < 0 || !m->present[v])
			return m->absent_ok;
		return m->single[v];
	}
	char key[256];
	size_t at = 0;
	for (int k = 0; k < l->n_keys; k++) {
		int32_t v = data_col_at(&t->col[l->col[side][k]], r);
		if (v < 0)
			return m->absent_ok;
		at += (size_t)snprintf(key + at, sizeof(key) - at, "%d,", v);
		if (at >= sizeof(key))
			return false;
	}
	struct val kv = {.text = key};
	if (data_tbl_lookup(m->present_tuples, 0, &kv) < 0)
		return m->absent_ok;
	return data_tbl_lookup(m->tuples, 0, &kv) >= 0;
}

static int message(struct calc *c, int d);

/* The messages into table t (but over link `except`) that restrict it, computed; a row
 * passes when it satisfies all of them (rows_pass). Caller frees *out. */
struct inmsg {
	const struct assoc_link *l;
	int side;
	const struct msg *m;
	const struct data_col *col; /* single key: the row's key column */
	const uint8_t *pass;	    /* and the message's pass table (else NULL) */
};

/* The pass table of a single-key message m over link l into side `side`. */
static int make_pass(struct calc *c, const struct assoc_link *l, int side, struct msg *m)
{
	const struct assoc_table *t = &c->a->tables[l->t[side]];
	int64_t n = c->a->fields[t->field[l->col[side][0]]].n_sym;
	if (!(m->pass = malloc((size_t)n + 1)))
		return err_set(c->e, ERR_NOMEM, "out of memory");
	m->pass[0] = m->absent_ok;
	for (int64_t v = 0; v < n; v++)
		m->pass[v + 1] = m->present[v] ? m->single[v] : m->absent_ok;
	return 0;
}

static int incoming(struct calc *c, int t, int except, struct inmsg **out, int *n)
{
	*n = 0;
	*out = malloc(sizeof(**out) * (size_t)(c->a->n_links + 1));
	if (!*out)
		return err_set(c->e, ERR_NOMEM, "out of memory");
	for (int l = 0; l < c->a->n_links; l++) {
		const struct assoc_link *ln = &c->a->links[l];
		if (l == except || (ln->t[0] != t && ln->t[1] != t))
			continue;
		int side = ln->t[0] == t ? 0 : 1, d = 2 * l + (side == 0 ? 1 : 0);
		int rc = message(c, d);
		if (rc)
			return rc;
		if (c->msg[d].all)
			continue;
		struct inmsg in = {ln, side, &c->msg[d], NULL, NULL};
		if (ln->n_keys == 1) {
			if (!c->msg[d].pass && (rc = make_pass(c, ln, side, &c->msg[d])) != 0)
				return rc;
			in.col = &c->a->tables[t].col[ln->col[side][0]];
			in.pass = c->msg[d].pass;
		}
		(*out)[(*n)++] = in;
	}
	return 0;
}

/* Rows are checked a block at a time (a block's flags stay in the cache). */
#define BLOCK 65536

/* ok[r - from] for rows [from, to) (at most BLOCK): own[r] (own NULL: every row) and every
 * message in `in` passes; by the pass tables when every message has one. */
static bool row_passes(const struct calc *c, const struct inmsg *in, int n, int64_t r);
/* ok[i] &= pass[symbol + 1] of row from + i of col, for n rows (pass[0]: NULL). A column of
 * one or two bytes a row is read as it is stored (symbol + 1), without widening. */
static void and_pass(const struct data_col *col, const uint8_t *pass, int64_t from, int64_t n,
		     uint8_t *ok)
{
	if (col->width == 1) {
		const uint8_t *b = (const uint8_t *)col->p + from;
		for (int64_t i = 0; i < n; i++)
			ok[i] &= pass[b[i]];
		return;
	}
	if (col->width == 2) {
		const uint16_t *h = (const uint16_t *)col->p + from;
		for (int64_t i = 0; i < n; i++)
			ok[i] &= pass[h[i]];
		return;
	}
	int32_t sym[4096];
	for (int64_t at = 0; at < n; at += 4096) {
		int64_t m = n - at < 4096 ? n - at : 4096;
		data_col_range(col, from + at, m, sym);
		for (int64_t i = 0; i < m; i++)
			ok[at + i] &= pass[sym[i] + 1];
	}
}

static void block_ok(const struct calc *c, const uint8_t *own, const struct inmsg *in, int n,
		     int64_t from, int64_t to, uint8_t *ok)
{
	bool fast = true;
	for (int k = 0; k < n; k++)
		fast &= in[k].pass != NULL;
	if (!fast) {
		for (int64_t r = from; r < to; r++)
			ok[r - from] = (!own || own[r]) && row_passes(c, in, n, r);
		return;
	}
	if (own)
		memcpy(ok, own + from, (size_t)(to - from));
	else
		memset(ok, 1, (size_t)(to - from));
	for (int k = 0; k < n; k++)
		and_pass(in[k].col, in[k].pass, from, to - from, ok);
}

static bool row_passes(const struct calc *c, const struct inmsg *in, int n, int64_t r)
{
	for (int k = 0; k < n; k++)
		if (!row_key_in(c, in[k].l, in[k].side, in[k].m, r))
			return false;
	return true;
}

/* The rows r in [from, from + n) with ok[r - from], into rows; how many. */
static int64_t ok_rows(const uint8_t *ok, int64_t from, int64_t n, int64_t *rows)
{
	int64_t k = 0;
	for (int64_t i = 0; i < n; i++) {
		rows[k] = from + i; /* kept only when ok: no branch a row */
		k += ok[i] != 0;
	}
	return k;
}

/* p[s] = 1 for each symbol s that the rows rows[0..k) of col hold: the n rows from rows[0]
 * on when k is n (all of them), else those alone (a selection leaves few). */
static void mark_rows(const struct data_col *col, const int64_t *rows, int64_t k, int64_t n,
		      uint8_t *p)
{
	int32_t v[4096];
	if (k == n)
		data_col_range(col, rows[0], n, v);
	else
		data_col_gather(col, rows, k, v);
	for (int64_t i = 0; i < k; i++)
		if (v[i] >= 0)
			p[v[i]] = 1;
}

/* single[v] = 1 for each key v of table t's rows that pass (block_ok), a block at a time. */
static void ok_keys(const struct calc *c, const struct assoc_table *t, const uint8_t *own,
		    const struct inmsg *in, int n_in, const struct data_col *keycol, uint8_t *okb,
		    uint8_t *single)
{
	for (int64_t b = 0; b < t->n_rows; b += BLOCK) {
		int64_t to = b + BLOCK < t->n_rows ? b + BLOCK : t->n_rows, rows[4096];
		block_ok(c, own, in, n_in, b, to, okb);
		for (int64_t at = b; at < to; at += 4096) {
			int64_t n = to - at < 4096 ? to - at : 4096,
				k = ok_rows(okb + (at - b), at, n, rows);
			if (k)
				mark_rows(keycol, rows, k, n, single);
		}
	}
}

static int message(struct calc *c, int d)
{
	struct msg *m = &c->msg[d];
	if (m->done == 2)
		return 0;
	if (m->done == 1)
		return err_set(c->e, ERR_INTERNAL, "the links of the model form a loop");
	m->done = 1;
	const struct assoc_link *l = &c->a->links[d / 2];
	int from_side = d % 2 == 0 ? 0 : 1, x = l->t[from_side];
	/* ALL when nothing on x's side restricts; absent_ok when only selections on the
	 * link's own key fields do */
	const struct assoc_table *t = &c->a->tables[x];
	bool restricted = c->has_sel[x], other = false;
	for (int col = 0; col < t->n_fields; col++) {
		int f = t->field[col];
		if (f == c->skip || !c->s->selected[f])
			continue;
		bool key = false;
		for (int k = 0; k < l->n_keys; k++)
			key |= l->col[from_side][k] == col;
		other |= !key;
	}
	for (int k = 0; k < c->a->n_links; k++) {
		const struct assoc_link *o = &c->a->links[k];
		if (k == d / 2 || (o->t[0] != x && o->t[1] != x))
			continue;
		int into = 2 * k + (o->t[0] == x ? 1 : 0);
		int rc = message(c, into);
		if (rc)
			return rc;
		restricted |= !c->msg[into].all;
		other |= !c->msg[into].all;
	}
	m->all = !restricted;
	m->absent_ok = !other;
	if (restricted) {
		if (l->n_keys == 1) {
			int f = t->field[l->col[from_side][0]];
			m->single = calloc((size_t)(c->a->fields[f].n_sym + 1), 1);
			m->present = l->present[from_side];
			if (!m->single)
				return err_set(c->e, ERR_NOMEM, "out of memory");
		} else if (!(m->tuples = data_tbl_new("keys")) ||
			   data_tbl_field(m->tuples, "k", true) < 0 ||
			   !(m->present_tuples = data_tbl_new("present")) ||
			   data_tbl_field(m->present_tuples, "k", true) < 0) {
			return err_set(c->e, ERR_NOMEM, "out of memory");
		}
		struct inmsg *in = NULL;
		int n_in = 0, rc = incoming(c, x, d / 2, &in, &n_in);
		if (rc) {
			free(in);
			return rc;
		}
		const uint8_t *own = c->own[x];
		uint8_t *okb = malloc(BLOCK);
		if (!okb) {
			free(in);
			return err_set(c->e, ERR_NOMEM, "out of memory");
		}
		const struct data_col *keycol =
		    l->n_keys == 1 ? &t->col[l->col[from_side][0]] : NULL;
		if (keycol)
			ok_keys(c, t, own, in, n_in, keycol, okb, m->single);
		for (int64_t r = 0; !keycol && r < t->n_rows; r++) {
			if (r % BLOCK == 0)
				block_ok(c, own, in, n_in, r,
					 r + BLOCK < t->n_rows ? r + BLOCK : t->n_rows, okb);
			bool ok = okb[r % BLOCK];
			char key[256];
			size_t at = 0;
			bool null = false;
			for (int k = 0; k < l->n_keys && !null; k++) {
				int32_t v = data_col_at(&t->col[l->col[from_side][k]], r);
				null = v < 0;
				at += (size_t)snprintf(key + at, sizeof(key) - at, "%d,", v);
			}
			struct val kv = {.text = key};
			if (!null && at < sizeof(key) &&
			    (data_tbl_append(m->present_tuples, &kv, 1) ||
			     (ok && data_tbl_append(m->tuples, &kv, 1)))) {
				free(okb);
				free(in);
				return err_set(c->e, ERR_NOMEM, "out of memory");
			}
		}
		free(okb);
		free(in);
	}
	m->done = 2;
	return 0;
}

/* The possible rows of every table (into rows_out, when given) and the values that appear
 * in them (into appears: every field's, or only field `skip`'s when skip >= 0), with the
 * selection of field `skip` left out. */
static int possible(const struct assoc *a, const struct assoc_sel *s, int skip, uint8_t **rows_out,
		    uint8_t **appears, struct err *e)
{
	struct calc c = {.a = a, .s = s, .skip = skip, .e = e};
	c.own = calloc((size_t)(a->n_tables + 1), sizeof(uint8_t *));
	c.has_sel = calloc((size_t)(a->n_tables + 1), sizeof(bool));
	c.msg = calloc((size_t)(2 * a->n_links + 1), sizeof(struct msg));
	int rc = c.own && c.has_sel && c.msg ? 0 : err_set(e, ERR_NOMEM, "out of memory");
	/* own[t]: the rows of table t that its own selections keep (NULL: no selection, all) */
	for (int t = 0; rc == 0 && t < a->n_tables; t++) {
		const struct assoc_table *tb = &a->tables[t];
		for (int col = 0; col < tb->n_fields; col++) {
			int f = tb->field[col];
			const bool *sel = f == skip ? NULL : s->selected[f];
			if (!sel)
				continue;
			if (!c.own[t] && !(c.own[t] = malloc((size_t)(tb->n_rows + 1)))) {
				rc = err_set(e, ERR_NOMEM, "out of memory");
				break;
			}
			if (!c.has_sel[t])
				memset(c.own[t], 1, (size_t)(tb->n_rows + 1));
			c.has_sel[t] = true;
			/* a row stays when it holds a selected value: keep[symbol + 1] */
			int64_t n_sym = a->fields[f].n_sym;
			uint8_t *keep = malloc((size_t)n_sym + 2);
			if (!keep) {
				rc = err_set(e, ERR_NOMEM, "out of memory");
				break;
			}
			keep[0] = 0;
			for (int64_t v = 0; v < n_sym; v++)
				keep[v + 1] = sel[v];
			and_pass(&tb->col[col], keep, 0, tb->n_rows, c.own[t]);
			free(keep);
		}
	}
	for (int t = 0; rc == 0 && t < a->n_tables; t++) {
		const struct assoc_table *tb = &a->tables[t];
		/* the columns whose values to mark */
		int *cols = malloc(sizeof(int) * (size_t)(tb->n_fields + 1)), n_cols = 0;
		if (!cols) {
			rc = err_set(e, ERR_NOMEM, "out of memory");
			break;
		}
		for (int col = 0; col < tb->n_fields; col++)
			if (appears && (skip < 0 || tb->field[col] == skip))
				cols[n_cols++] = col;
		if (!rows_out && n_cols == 0) {
			free(cols);
			continue;
		}
		const uint8_t *own = c.own[t];
		struct inmsg *in = NULL;
		int n_in = 0;
		uint8_t *okb = malloc(BLOCK);
		rc = okb ? incoming(&c, t, -1, &in, &n_in) : err_set(e, ERR_NOMEM, "out of memory");
		for (int64_t from = 0; rc == 0 && from < tb->n_rows; from += BLOCK) {
			int64_t to = from + BLOCK < tb->n_rows ? from + BLOCK : tb->n_rows;
			block_ok(&c, own, in, n_in, from, to, okb);
			if (rows_out)
				memcpy(rows_out[t] + from, okb, (size_t)(to - from));
			if (n_cols == 0)
				continue;
			int64_t rows[4096];
			for (int64_t at = from; at < to; at += 4096) {
				int64_t n = to - at < 4096 ? to - at : 4096,
					k = ok_rows(okb + (at - from), at, n, rows);
				for (int q = 0; k && q < n_cols; q++)
					mark_rows(&tb->col[cols[q]], rows, k, n,
						  appears[tb->field[cols[q]]]);
			}
		}
		free(okb);
		free(cols);
		free(in);
	}
	for (int t = 0; c.own && t < a->n_tables; t++)
		free(c.own[t]);
	for (int d = 0; c.msg && d < 2 * a->n_links; d++) {
		free(c.msg[d].single);
		free(c.msg[d].pass);
		data_tbl_free(c.msg[d].tuples);
		data_tbl_free(c.msg[d].present_tuples);
	}
	free(c.own);
	free(c.has_sel);
	free(c.msg);
	return rc;
}

static uint8_t **field_flags(const struct assoc *a)
{
	uint8_t **f = calloc((size_t)(a->n_fields + 1), sizeof(uint8_t *));
	for (int i = 0; f && i < a->n_fields; i++) {
		f[i] = calloc((size_t)(a->fields[i].n_sym + 1), 1);
		if (!f[i]) {
			for (int k = 0; k < i; k++)
				free(f[k]);
			free(f);
			return NULL;
		}
	}
	return f;
}

static void flags_free(const struct assoc *a, uint8_t **f)
{
	for (int i = 0; f && i < a->n_fields; i++)
		free(f[i]);
	free(f);
}

int model_assoc_compute(const struct assoc *a, const struct assoc_sel *s, struct assoc_states *out,
			struct err *e)
{
	memset(out, 0, sizeof(*out));
	/* which values appear in the possible rows; each field's flags then become its
	 * states in place (out->state) */
	uint8_t **appears = NULL;
	int rc = 0;
	if (!take_spare(a, &appears, &out->possible)) {
		out->possible = calloc((size_t)(a->n_tables + 1), sizeof(uint8_t *));
		appears = field_flags(a);
		rc = out->possible && appears ? 0 : err_set(e, ERR_NOMEM, "out of memory");
		for (int t = 0; rc == 0 && t < a->n_tables; t++)
			if (!(out->possible[t] = malloc((size_t)(a->tables[t].n_rows + 1))))
				rc = err_set(e, ERR_NOMEM, "out of memory");
	}
	bool any = false;
	for (int f = 0; f < a->n_fields && !any; f++)
		any = s->selected[f] != NULL;
	if (rc == 0 && !any) {
		/* no selection: every row is possible, every value that some row holds is O */
		for (int t = 0; t < a->n_tables; t++)
			memset(out->possible[t], 1, (size_t)a->tables[t].n_rows);
		for (int f = 0; f < a->n_fields; f++)
			for (int64_t v = 0; v < a->fields[f].n_sym; v++)
				appears[f][v] = a->fields[f].present[v] ? STATE_O : STATE_X;
		out->state = appears;
		out->all = true;
		return 0;
	}
	if (rc == 0)
		rc = possible(a, s, -1, out->possible, appears, e);
	for (int f = 0; rc == 0 && f < a->n_fields; f++) {
		const bool *sel = s->selected[f];
		uint8_t *without = NULL;
		uint8_t **alt = NULL;
		bool only = sel != NULL; /* the only field with a selection? */
		for (int g = 0; only && g < a->n_fields; g++)
			only = g == f || !s->selected[g];
		if (sel && only) {
			/* without its own selection nothing is selected: every value is possible */
			without = a->fields[f].present;
		} else if (sel) {
			/* what would appear without this field's own selection (that pass marks
			 * this field's values alone: flags of the others would be fresh pages for
			 * nothing, 10 MB for a field of ten million values) */
			alt = calloc((size_t)(a->n_fields + 1), sizeof(uint8_t *));
			if (!alt || !(alt[f] = calloc((size_t)(a->fields[f].n_sym + 1), 1)))
				rc = err_set(e, ERR_NOMEM, "out of memory");
			else
				rc = possible(a, s, f, NULL, alt, e);
			without = alt ? alt[f] : NULL;
		}
		for (int64_t v = 0; rc == 0 && v < a->fields[f].n_sym; v++) {
			uint8_t st;
			if (sel && sel[v])
				st = appears[f][v] ? STATE_S : STATE_XS;
			else if (appears[f][v])
				st = STATE_O;
			else
				st = sel && without[v] ? STATE_A : STATE_X;
			appears[f][v] = st;
		}
		flags_free(a, alt);
	}
	out->state = appears;
	if (rc)
		model_assoc_states_release(a, out);
	return rc;
}

int model_assoc_possible_rows(const struct assoc *a, const struct assoc_sel *s,
			      struct assoc_states *out, struct err *e)
{
	memset(out, 0, sizeof(*out));
	out->possible = calloc((size_t)(a->n_tables + 1), sizeof(uint8_t *));
	int rc = out->possible ? 0 : err_set(e, ERR_NOMEM, "out of memory");
	for (int t = 0; rc == 0 && t < a->n_tables; t++)
		if (!(out->possible[t] = malloc((size_t)(a->tables[t].n_rows + 1))))
			rc = err_set(e, ERR_NOMEM, "out of memory");
	bool any = false;
	for (int f = 0; f < a->n_fields && !any; f++)
		any = s->selected[f] != NULL;
	for (int t = 0; rc == 0 && !any && t < a->n_tables; t++)
		memset(out->possible[t], 1, (size_t)a->tables[t].n_rows);
	out->all = !any;
	if (rc == 0 && any)
		rc = possible(a, s, -1, out->possible, NULL, e);
	if (rc)
		model_assoc_states_release(a, out);
	return rc;
}

/* ---------------------------------------------------------------- counts of values */

/* Counts are kept for a column whose field has at most one value for every COUNTS_ROWS
 * rows, so that a pass over them is that much shorter than one over the rows, and they
 * take at most a quarter of the column's memory. */
#define COUNTS_ROWS 8

/* The counts of column c of table t, made now (under the lock) when missing. */
static const int64_t *counts_of(const struct assoc *a, int t, int c)
{
	struct assoc_spare *sp = a->spare;
	const struct assoc_table *tb = &a->tables[t];
	if (!sp->counts)
		sp->counts = calloc((size_t)a->n_tables + 1, sizeof(*sp->counts));
	if (sp->counts && !sp->counts[t])
		sp->counts[t] = calloc((size_t)tb->n_fields + 1, sizeof(**sp->counts));
	if (!sp->counts || !sp->counts[t])
		return NULL;
	int64_t *n = sp->counts[t][c];
	if (!n && (n = calloc((size_t)a->fields[tb->field[c]].n_sym + 1, sizeof(int64_t)))) {
		int32_t buf[4096];
		for (int64_t from = 0; from < tb->n_rows; from += 4096) {
			int64_t k = tb->n_rows - from < 4096 ? tb->n_rows - from : 4096;
			data_col_range(&tb->col[c], from, k, buf);
			for (int64_t i = 0; i < k; i++)
				if (buf[i] >= 0)
					n[buf[i]]++;
		}
		sp->counts[t][c] = n;
	}
	return n;
}

const int64_t *model_assoc_counts(const struct assoc *a, int t, int c)
{
	const struct assoc_table *tb = &a->tables[t];
	if (!a->spare || a->fields[tb->field[c]].n_sym > tb->n_rows / COUNTS_ROWS)
		return NULL;
	pthread_mutex_lock(&a->spare->mu);
	const int64_t *n = counts_of(a, t, c);
	pthread_mutex_unlock(&a->spare->mu);
	return n;
}

bool model_assoc_counted(const struct assoc *a, int t, int c)
{
	if (!a->spare)
		return false;
	pthread_mutex_lock(&a->spare->mu);
	bool made = a->spare->counts && a->spare->counts[t] && a->spare->counts[t][c];
	pthread_mutex_unlock(&a->spare->mu);
	return made;
}

void model_assoc_states_release(const struct assoc *a, struct assoc_states *st)
{
	bool kept = false;
	if (a->spare && st->state && st->possible) {
		pthread_mutex_lock(&a->spare->mu);
		if (!a->spare->state) {
			a->spare->state = st->state;
			a->spare->possible = st->possible;
			kept = true;
		}
		pthread_mutex_unlock(&a->spare->mu);
	}
	if (!kept) {
		flags_free(a, st->state);
		rows_free(a, st->possible);
	}
	st->state = NULL;
	st->possible = NULL;
}
