/* cube.c: hypercubes over the associative model (see cube.h). */
#include "model/cube_int.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const state_names[] = {"O", "S", "A", "X", "XS"};

static int table_col(const struct assoc_table *t, int field)
{
	for (int c = 0; c < t->n_fields; c++)
		if (t->field[c] == field)
			return c;
	return -1;
}

/* The links from table `from` to the nearest table holding `field` (breadth first). */
static bool find_route(const struct assoc *a, int from, int field, struct route *r)
{
	r->n_steps = 0;
	if ((r->col = table_col(&a->tables[from], field)) >= 0) {
		r->table = from;
		return true;
	}
	int n = a->n_tables;
	int *via = malloc(sizeof(int) * (size_t)(n + 1)),
	    *queue = malloc(sizeof(int) * (size_t)(n + 1));
	bool found = false;
	for (int i = 0; via && queue && i < n; i++)
		via[i] = -2;
	if (!via || !queue)
		goto out;
	via[from] = -1;
	int head = 0, tail = 0;
	queue[tail++] = from;
	while (head < tail && !found) {
		int x = queue[head++];
		for (int l = 0; l < a->n_links && !found; l++) {
			const struct assoc_link *ln = &a->links[l];
			int y = ln->t[0] == x ? ln->t[1] : ln->t[1] == x ? ln->t[0] : -1;
			if (y < 0 || via[y] != -2)
				continue;
			via[y] = l;
			queue[tail++] = y;
			if (table_col(&a->tables[y], field) < 0)
				continue;
			int k = 0, cur = y, steps[MAX_PATH], sides[MAX_PATH];
			while (cur != from && k < MAX_PATH) {
				const struct assoc_link *pl = &a->links[via[cur]];
				int back = pl->t[0] == cur ? pl->t[1] : pl->t[0];
				steps[k] = via[cur];
				sides[k++] = pl->t[0] == back ? 0 : 1;
				cur = back;
			}
			if (cur != from)
				break;
			for (int i = 0; i < k; i++) {
				r->link[i] = steps[k - 1 - i];
				r->from_side[i] = sides[k - 1 - i];
			}
			r->n_steps = k;
			r->table = y;
			r->col = table_col(&a->tables[y], field);
			found = true;
		}
	}
out:
	free(via);
	free(queue);
	return found;
}

static bool key_text(const struct assoc_table *t, const int *cols, int n, int64_t row, char *buf,
		     size_t size)
{
	size_t at = 0;
	for (int k = 0; k < n; k++) {
		int32_t v = data_col_at(&t->col[cols[k]], row);
		if (v < 0)
			return false;
		at += (size_t)snprintf(buf + at, size - at, "%d,", v);
		if (at >= size)
			return false;
	}
	return true;
}

/* partner() for a link of one key field: both tables hold that field's symbols, so the
 * other table's rows are indexed by symbol (possible rows first), and a row's partner is
 * one array read away. */
static int64_t partner_by_key(struct cubecalc *c, int link, int from_side, int64_t row)
{
	const struct assoc_link *l = &c->a->links[link];
	int d = 2 * link + from_side, to = 1 - from_side;
	const struct assoc_table *ft = &c->a->tables[l->t[from_side]],
				 *tt = &c->a->tables[l->t[to]];
	if (!c->by_key[d]) {
		int64_t ns = c->a->fields[tt->field[l->col[to][0]]].n_sym;
		const struct data_col *kc = &tt->col[l->col[to][0]];
		const uint8_t *poss = c->st->possible[l->t[to]];
		if (!(c->by_key[d] = malloc(sizeof(int64_t) * (size_t)(ns + 1))))
			return -1;
		memset(c->by_key[d], 0xff, sizeof(int64_t) * (size_t)(ns + 1));
		for (int pass = 0; pass < 2; pass++)
			for (int64_t r = 0; r < tt->n_rows; r++) {
				int32_t k = data_col_at(kc, r);
				if ((pass == 0) == (poss[r] != 0) && k >= 0 && c->by_key[d][k] < 0)
					c->by_key[d][k] = r;
			}
	}
	int32_t sy = data_col_at(&ft->col[l->col[from_side][0]], row);
	return sy < 0 ? -1 : c->by_key[d][sy];
}

/* The partner of `row` of the link's from-side table: a row of the other table with the
 * same key, a possible one when there is one; -1 when there is none. */
static int64_t partner(struct cubecalc *c, int link, int from_side, int64_t row)
{
	const struct assoc_link *l = &c->a->links[link];
	if (l->n_keys == 1)
		return partner_by_key(c, link, from_side, row);
	int d = 2 * link + from_side, to = 1 - from_side;
	const struct assoc_table *ft = &c->a->tables[l->t[from_side]],
				 *tt = &c->a->tables[l->t[to]];
	char key[256];
	if (!c->keys[d]) {
		/* index the other table's rows by key, possible rows first */
		c->keys[d] = data_tbl_new("k");
		if (!c->keys[d] || data_tbl_field(c->keys[d], "k", true) < 0)
			return -1;
		int64_t cap = 64, n = 0;
		c->partner[d] = malloc(sizeof(int64_t) * (size_t)cap);
		for (int pass = 0; pass < 2 && c->partner[d]; pass++)
			for (int64_t r = 0; r < tt->n_rows; r++) {
				bool poss = c->st->possible[l->t[to]][r];
				if ((pass == 0) != poss ||
				    !key_text(tt, l->col[to], l->n_keys, r, key, sizeof(key)))
					continue;
				struct val kv = {.text = key};
				if (data_tbl_lookup(c->keys[d], 0, &kv) >= 0)
					continue;
				if (data_tbl_append(c->keys[d], &kv, 1))
					return -1;
				if (n == cap) {
					int64_t *m = realloc(c->partner[d],
							     sizeof(int64_t) * (size_t)cap * 2);
					if (!m)
						return -1;
					c->partner[d] = m;
					cap *= 2;
				}
				c->partner[d][n++] = r;
			}
		if (!c->partner[d])
			return -1;
	}
	if (!key_text(ft, l->col[from_side], l->n_keys, row, key, sizeof(key)))
		return -1;
	struct val kv = {.text = key};
	int64_t s = data_tbl_lookup(c->keys[d], 0, &kv);
	return s < 0 ? -1 : c->partner[d][s];
}

/* How field f is reached from the measures' table (found on first use); col -1: not. */
static const struct route *route_of(struct cubecalc *c, int f)
{
	if (!c->route_known[f]) {
		if (!find_route(c->a, c->fact, f, &c->field_route[f]))
			c->field_route[f].col = -1;
		c->route_known[f] = true;
	}
	return &c->field_route[f];
}

/* The symbol of model field f for the current fact row (-1: NULL or no partner). */
int32_t model_cube_field_symbol(struct cubecalc *c, int f, int64_t row)
{
	const struct route *r = route_of(c, f);
	if (r->col < 0)
		return -1;
	int64_t cur = row;
	for (int i = 0; i < r->n_steps && cur >= 0; i++)
		cur = partner(c, r->link[i], r->from_side[i], cur);
	return cur < 0 ? -1 : data_col_at(&c->a->tables[r->table].col[r->col], cur);
}

/* Field f's column when it is in the measures' table itself (no link on the way), else
 * NULL: a symbol per fact row, -1 for NULL. */
const struct data_col *model_cube_direct_col(struct cubecalc *c, int f)
{
	const struct route *r = route_of(c, f);
	return r->col >= 0 && r->n_steps == 0 ? &c->a->tables[r->table].col[r->col] : NULL;
}

static int cube_field(void *ctx, struct expr *x, struct val *out)
{
	struct cubecalc *c = ctx;
	/* the expressions are parsed for this cube, so a slot set is this model's field */
	int f = x->slot - 1;
	if (f < 0 || f >= c->a->n_fields) {
		f = model_assoc_field(c->a, x->text);
		if (f < 0)
			return ERR_NOT_FOUND;
		x->slot = f + 1;
	}
	int32_t s = model_cube_field_symbol(c, f, c->row);
	if (s < 0)
		*out = (struct val){.null = true};
	else
		*out = model_sym(&c->a->fields[f], s);
	return 0;
}

static void cube_set_row(void *ctx, int64_t i)
{
	struct cubecalc *c = ctx;
	c->row = c->group[i];
}

/* A fact row's dimension symbols; false when one is NULL. */
static bool group_key(struct cubecalc *c, int64_t r, int32_t *key)
{
	for (int d = 0; d < c->def->n_dims; d++)
		if ((key[d] = model_cube_field_symbol(c, c->dim_field[d], r)) < 0)
			return false;
	return true;
}

/* The selection a set expression stands for. */
static int set_selection(struct cubecalc *c, const struct set_expr *s, struct assoc_sel *out)
{
	const struct assoc *a = c->a;
	if (model_assoc_sel_init(a, out))
		return err_set(c->e, ERR_NOMEM, "out of memory");
	for (int f = 0; s->ident == '$' && f < a->n_fields; f++) {
		if (!c->sel->selected[f])
			continue;
		out->selected[f] = malloc((size_t)(a->fields[f].n_sym + 1) * sizeof(bool));
		if (!out->selected[f])
			return err_set(c->e, ERR_NOMEM, "out of memory");
		memcpy(out->selected[f], c->sel->selected[f],
		       (size_t)a->fields[f].n_sym * sizeof(bool));
	}
	for (int m = 0; m < s->n_mods; m++) {
		const struct set_mod *md = &s->mods[m];
		int f = model_assoc_field(a, md->field);
		if (f < 0)
			return err_set(c->e, ERR_INVALID,
				       "the set names a field that does not exist: %s", md->field);
		int64_t *syms = calloc((size_t)(a->fields[f].n_sym + 1), sizeof(int64_t));
		if (!syms)
			return err_set(c->e, ERR_NOMEM, "out of memory");
		int n = 0;
		for (int v = 0; v < md->n_values; v++) {
			const char *pat = md->values[v];
			if (!md->search[v]) {
				int64_t sy = model_assoc_find(a, f, pat);
				if (sy >= 0)
					syms[n++] = sy;
				continue;
			}
			/* "search": wildcards, or a comparison such as ">2015" */
			int cmp = 0;
			double bound = 0;
			const char *rest = pat;
			if (pat[0] == '>' || pat[0] == '<') {
				cmp = pat[0] == '>' ? (pat[1] == '=' ? 2 : 1)
						    : (pat[1] == '=' ? -2 : -1);
				rest = pat + (pat[1] == '=' ? 2 : 1);
				bound = strtod(rest, NULL);
			}
			for (int64_t sy = 0; sy < a->fields[f].n_sym && n < INT32_MAX; sy++) {
				const struct val sym_v = model_sym(&a->fields[f], sy), *sv = &sym_v;
				char b[64];
				bool hit =
				    cmp == 0
					? script_eval_like(data_val_text(sv, b, sizeof(b)), pat)
				    : !sv->has_num ? false
				    : cmp == 1	   ? sv->num > bound
				    : cmp == 2	   ? sv->num >= bound
				    : cmp == -1	   ? sv->num < bound
						   : sv->num <= bound;
				if (hit)
					syms[n++] = sy;
			}
		}
		int rc = 0;
		if (md->clear) {
			rc = model_assoc_select(a, out, f, NULL, 0);
		} else if (n == 0) {
			/* nothing matches: a selection nothing satisfies */
			free(out->selected[f]);
			out->selected[f] = calloc((size_t)(a->fields[f].n_sym + 1), sizeof(bool));
			rc = out->selected[f] ? 0 : ERR_NOMEM;
		} else {
			rc = model_assoc_select(a, out, f, syms, n);
		}
		free(syms);
		if (rc)
			return err_set(c->e, ERR_NOMEM, "out of memory");
	}
	return 0;
}

/* The rows of a set expression, grouped as the chart's (made on first use). */
static int set_rows_of(struct cubecalc *c, const struct set_expr *set, struct set_rows **out)
{
	struct set_rows *sr = NULL;
	for (int i = 0; i < c->n_sets; i++)
		if (c->sets[i].set == set)
			sr = &c->sets[i];
	if (!sr) {
		struct set_rows *more = realloc(c->sets, sizeof(*more) * (size_t)(c->n_sets + 1));
		if (!more)
			return err_set(c->e, ERR_NOMEM, "out of memory");
		c->sets = more;
		sr = &c->sets[c->n_sets++];
		memset(sr, 0, sizeof(*sr));
		sr->set = set;
		struct assoc_sel s2;
		struct assoc_states st2 = {0};
		int rc = set_selection(c, set, &s2);
		if (rc == 0)
			rc = model_assoc_possible_rows(c->a, &s2, &st2, c->e);
		model_assoc_sel_release(&s2);
		const struct assoc_table *ft = &c->a->tables[c->fact];
		int64_t ng = c->groups->n_groups;
		int64_t *gof = rc == 0 ? malloc(sizeof(int64_t) * (size_t)(ft->n_rows + 1)) : NULL;
		sr->start = rc == 0 ? calloc((size_t)(ng + 2), sizeof(int64_t)) : NULL;
		sr->rows = rc == 0 ? calloc((size_t)(ft->n_rows + 1), sizeof(int64_t)) : NULL;
		sr->all = rc == 0 ? calloc((size_t)(ft->n_rows + 1), sizeof(int64_t)) : NULL;
		if (rc == 0 && (!gof || !sr->start || !sr->rows || !sr->all))
			rc = err_set(c->e, ERR_NOMEM, "out of memory");
		int32_t *key = rc == 0 ? calloc((size_t)c->def->n_dims + 1, sizeof(int32_t)) : NULL;
		if (rc == 0 && !key)
			rc = err_set(c->e, ERR_NOMEM, "out of memory");
		for (int64_t r = 0; rc == 0 && r < ft->n_rows; r++) {
			gof[r] = -1;
			if (st2.possible[c->fact][r])
				sr->all[sr->n_all++] = r;
			if (!st2.possible[c->fact][r] || !group_key(c, r, key))
				continue;
			gof[r] = model_tuples_find(c->groups, key);
			if (gof[r] >= 0)
				sr->start[gof[r] + 1]++;
		}
		free(key);
		for (int64_t g = 0; rc == 0 && g < ng; g++)
			sr->start[g + 1] += sr->start[g];
		int64_t *fill = rc == 0 ? calloc((size_t)(ng + 1), sizeof(int64_t)) : NULL;
		for (int64_t r = 0; fill && r < ft->n_rows; r++)
			if (gof[r] >= 0)
				sr->rows[sr->start[gof[r]] + fill[gof[r]]++] = r;
		free(fill);
		free(gof);
		model_assoc_states_release(c->a, &st2);
		if (rc)
			return rc;
	}
	*out = sr;
	return 0;
}

static int cube_set_group(void *ctx, const struct set_expr *set, int64_t *n)
{
	struct cubecalc *c = ctx;
	struct set_rows *sr;
	int rc = set_rows_of(c, set, &sr);
	if (rc)
		return rc;
	c->saved_group = c->group;
	c->saved_row = c->row;
	c->group = sr->rows + sr->start[c->g];
	*n = sr->start[c->g + 1] - sr->start[c->g];
	return 0;
}

/* TOTAL <fields>' grouping of `base` (made on first use for x). */
static int total_rows_of(struct cubecalc *c, const struct expr *x, const int64_t *base, int64_t nb,
			 struct total_rows **out)
{
	for (int i = 0; i < c->n_totals; i++)
		if (c->totals[i].x == x) {
			*out = &c->totals[i];
			return 0;
		}
	struct total_rows *more = realloc(c->totals, sizeof(*more) * (size_t)(c->n_totals + 1));
	if (!more)
		return err_set(c->e, ERR_NOMEM, "out of memory");
	c->totals = more;
	struct total_rows *tr = &c->totals[c->n_totals++];
	memset(tr, 0, sizeof(*tr));
	tr->x = x;
	tr->keys.n = x->n_total_fields;
	tr->fields = calloc((size_t)x->n_total_fields, sizeof(int));
	int32_t *key = calloc((size_t)x->n_total_fields, sizeof(int32_t));
	int64_t *part = calloc((size_t)nb + 1, sizeof(int64_t));
	int rc = tr->fields && key && part ? 0 : err_set(c->e, ERR_NOMEM, "out of memory");
	for (int i = 0; rc == 0 && i < x->n_total_fields; i++)
		if ((tr->fields[i] = model_assoc_field(c->a, x->total_fields[i])) < 0)
			rc = err_set(c->e, ERR_INVALID, "TOTAL <%s>: there is no field %s",
				     x->total_fields[i], x->total_fields[i]);
	for (int64_t i = 0; rc == 0 && i < nb; i++) {
		for (int k = 0; k < x->n_total_fields; k++)
			key[k] = model_cube_field_symbol(c, tr->fields[k], base[i]);
		if ((part[i] = model_tuples_add(&tr->keys, key)) < 0)
			rc = err_set(c->e, ERR_NOMEM, "out of memory");
	}
	int64_t ng = tr->keys.n_groups;
	tr->start = rc == 0 ? calloc((size_t)ng + 2, sizeof(int64_t)) : NULL;
	tr->rows = rc == 0 ? calloc((size_t)nb + 1, sizeof(int64_t)) : NULL;
	int64_t *fill = rc == 0 ? calloc((size_t)ng + 1, sizeof(int64_t)) : NULL;
	if (rc == 0 && (!tr->start || !tr->rows || !fill))
		rc = err_set(c->e, ERR_NOMEM, "out of memory");
	for (int64_t i = 0; rc == 0 && i < nb; i++)
		tr->start[part[i] + 1]++;
	for (int64_t g = 0; rc == 0 && g < ng; g++)
		tr->start[g + 1] += tr->start[g];
	for (int64_t i = 0; rc == 0 && i < nb; i++)
		tr->rows[tr->start[part[i]] + fill[part[i]]++] = base[i];
	free(fill);
	free(part);
	free(key);
	*out = tr;
	return rc;
}

/* TOTAL: the aggregation goes over every row of the chart (or of its set), or with
 * TOTAL <fields> over those that share the current row's values of the fields. */
static int cube_total_group(void *ctx, const struct expr *x, int64_t *n)
{
	struct cubecalc *c = ctx;
	const int64_t *base = c->all_rows;
	int64_t nb = c->n_all;
	if (x->set) {
		struct set_rows *sr;
		int rc = set_rows_of(c, x->set, &sr);
		if (rc)
			return rc;
		base = sr->all;
		nb = sr->n_all;
	}
	c->saved_group = c->group;
	c->saved_row = c->row;
	if (!x->n_total_fields) {
		c->group = base;
		*n = nb;
		return 0;
	}
	struct total_rows *tr = NULL;
	int rc = total_rows_of(c, x, base, nb, &tr);
	if (rc)
		return rc;
	int32_t key[64];
	for (int k = 0; k < x->n_total_fields && k < 64; k++)
		key[k] = model_cube_field_symbol(c, tr->fields[k], c->row);
	int64_t g = x->n_total_fields <= 64 ? model_tuples_find(&tr->keys, key) : -1;
	c->total_part = g;
	c->group = g >= 0 ? tr->rows + tr->start[g] : base;
	*n = g >= 0 ? tr->start[g + 1] - tr->start[g] : 0;
	return 0;
}

static void cube_restore_group(void *ctx)
{
	struct cubecalc *c = ctx;
	c->group = c->saved_group;
	c->row = c->saved_row; /* the current group's row again, for what follows */
}

/* The first field an expression names. */
static const char *first_field(const struct expr *x)
{
	if (x->kind == EX_FIELD)
		return x->text;
	for (int i = 0; i < x->n_args; i++) {
		const char *f = first_field(x->args[i]);
		if (f)
			return f;
	}
	return NULL;
}

/* ---------------------------------------------------------------- sorting */

struct sorter {
	const struct cube *cube;
	const struct cube_def *def;
	const int *order;
};

static int cmp_rows(const void *pa, const void *pb, void *arg)
{
	const struct sorter sort_ctx = *(const struct sorter *)arg;
	int64_t ra = *(const int64_t *)pa, rb = *(const int64_t *)pb;
	const struct cube *c = sort_ctx.cube;
	for (int k = 0; k < c->n_cols; k++) {
		int col = sort_ctx.order ? sort_ctx.order[k] : k;
		if (col < 0 || col >= c->n_cols)
			continue;
		struct cube_col_sort s = sort_ctx.def->sort ? sort_ctx.def->sort[col]
							    : (struct cube_col_sort){SORT_LOAD, 1};
		if (col >= sort_ctx.def->n_dims && !sort_ctx.def->sort)
			s = (struct cube_col_sort){SORT_NONE, 1};
		const struct cube_cell *x = &c->cells[ra * c->n_cols + col],
				       *y = &c->cells[rb * c->n_cols + col];
		int r = 0;
		switch (s.by) {
		case SORT_NONE: break;
		case SORT_LOAD: r = (x->elem > y->elem) - (x->elem < y->elem); break;
		case SORT_NUM:
			if (x->v.has_num != y->v.has_num)
				r = x->v.has_num ? -1
						 : 1; /* numbers before text, whatever the order */
			else if (x->v.has_num)
				r = (x->v.num > y->v.num) - (x->v.num < y->v.num);
			if (x->v.has_num != y->v.has_num)
				return r;
			break;
		case SORT_TEXT: {
			char b1[64], b2[64];
			r = strcmp(data_val_text(&x->v, b1, sizeof(b1)),
				   data_val_text(&y->v, b2, sizeof(b2)));
			r = (r > 0) - (r < 0);
			break;
		}
		}
		if (r)
			return r * (s.dir < 0 ? -1 : 1);
	}
	return (ra > rb) - (ra < rb);
}

/* ---------------------------------------------------------------- the cube */

/* One hypercube as it is computed. */
/* The dimensions' fields, and the measures parsed as expressions. */
static int resolve(struct cube_job *j, struct err *e)
{
	const struct cube_def *def = j->c.def;
	struct arena *ar = j->cb->a;
	j->dim_field = arena_alloc(ar, sizeof(int) * (size_t)(def->n_dims + 1));
	j->c.dim_field = j->dim_field;
	j->mx = arena_alloc(ar, sizeof(struct expr *) * (size_t)(def->n_measures + 1));
	for (int d = 0; d < def->n_dims; d++)
		if ((j->dim_field[d] = model_assoc_field(j->c.a, def->dims[d])) < 0)
			return err_set(e, ERR_INVALID, "dimension %d: there is no field %s", d + 1,
				       def->dims[d]);
	for (int m = 0; m < def->n_measures; m++) {
		struct stmt *s = NULL;
		const char *mt = def->measures[m];
		if (def->expand)
			mt = def->expand(def->expand_ctx, mt, ar);
		char *text = arena_printf(ar, "LET m = %s", mt);
		struct err pe;
		err_init(&pe);
		if (script_parse(text, 1, 1, false, ar, &s, &pe) != 0 || !s->expr)
			return err_set(e, ERR_INVALID, "measure %d: %s", m + 1, pe.message);
		j->mx[m] = s->expr;
		if (script_expr_interrow(s->expr)) {
			if (!j->interrow &&
			    !(j->interrow = calloc((size_t)def->n_measures + 1, sizeof(bool))))
				return err_set(e, ERR_NOMEM, "out of memory");
			j->interrow[m] = true;
		}
	}
	return 0;
}

/* The measures' table: the one holding the first measure's fields, else the first
 * dimension's. */
static void pick_fact(struct cube_job *j)
{
	const struct assoc *a = j->c.a;
	const struct cube_def *def = j->c.def;
	const char *ff = NULL;
	for (int m = 0; m < def->n_measures && !ff; m++)
		ff = first_field(j->mx[m]);
	int anchor = ff ? model_assoc_field(a, ff) : def->n_dims ? j->dim_field[0] : -1;
	j->c.fact = 0;
	for (int t = 0; anchor >= 0 && t < a->n_tables; t++)
		if (table_col(&a->tables[t], anchor) >= 0) {
			j->c.fact = t;
			return;
		}
}

/* Group g was seen first at fact row r. */
int model_cube_note_first(struct cube_job *j, int64_t g, int64_t r, int64_t *cap)
{
	if (g >= *cap) {
		int64_t n = *cap ? *cap * 2 : 256;
		int64_t *more = realloc(j->first, sizeof(int64_t) * (size_t)n);
		if (!more)
			return ERR_NOMEM;
		j->first = more;
		*cap = n;
	}
	j->first[g] = r;
	return 0;
}

/* Readies d for the cube's dimensions; false when they do not suit (no memory is kept). */
static bool dense_init(struct cube_job *j, struct dense *d)
{
	const struct cube_def *def = j->c.def;
	memset(d, 0, sizeof(*d));
	d->col = calloc((size_t)def->n_dims + 1, sizeof(*d->col));
	d->radix = calloc((size_t)def->n_dims + 1, sizeof(*d->radix));
	d->n_slots = 1;
	bool ok = d->col && d->radix && def->n_dims > 0;
	for (int k = def->n_dims - 1; ok && k >= 0; k--) {
		d->col[k] = model_cube_direct_col(&j->c, j->dim_field[k]);
		d->radix[k] = d->n_slots;
		d->n_slots *= j->c.a->fields[j->dim_field[k]].n_sym;
		ok = d->n_slots <= DENSE_SLOTS_MAX;
	}
	if (ok)
		ok = (d->slot = calloc((size_t)d->n_slots + 1, sizeof(int64_t))) != NULL;
	if (!ok) {
		free(d->col);
		free(d->radix);
		memset(d, 0, sizeof(*d));
	}
	return ok;
}

static void dense_free(struct dense *d)
{
	free(d->col);
	free(d->radix);
	free(d->slot);
}

/* The group of possible fact row r (-1: a dimension is NULL there; -2: out of memory). A
 * cube without dimensions has one group. */
static int64_t group_of_row(struct cube_job *j, int64_t r, struct dense *d, int32_t *dsym)
{
	int n = j->c.def->n_dims;
	if (d->slot) {
		int64_t at = 0;
		for (int k = 0; k < n; k++) {
			dsym[k] = d->col[k] ? data_col_at(d->col[k], r)
					    : model_cube_field_symbol(&j->c, j->dim_field[k], r);
			if (dsym[k] < 0)
				return -1;
			at += dsym[k] * d->radix[k];
		}
		if (!d->slot[at]) {
			int64_t g = model_tuples_add(&j->groups, dsym);
			if (g < 0)
				return -2;
			d->slot[at] = g + 1;
		}
		return d->slot[at] - 1;
	}
	if (n == 0 && j->groups.n_groups)
		return 0;
	if (!group_key(&j->c, r, dsym))
		return -1;
	int64_t g = model_tuples_add(&j->groups, dsym);
	return g < 0 ? -2 : g;
}

/* No dimension and no selection (every row possible): the fast measures from the counts
 * of their fields' values in the fact table (model_assoc_counts), a pass over the values
 * instead of the rows. *done false, nothing changed, where the cube does not suit or a
 * measure's field has no counts there. */
static int kpi_from_counts(struct cube_job *j, struct fast_acc *fa, bool *done)
{
	*done = false;
	const struct cube_def *def = j->c.def;
	const struct assoc_table *ft = &j->c.a->tables[j->c.fact];
	if (def->n_dims || !j->c.st->all || ft->n_rows == 0)
		return 0;
	const int64_t **n = calloc((size_t)def->n_measures + 1, sizeof(*n));
	bool ok = n != NULL;
	for (int m = 0; ok && m < def->n_measures; m++) {
		if (fa[m].k == F_COUNT_STAR)
			continue;
		const struct route *r = route_of(&j->c, fa[m].f);
		ok = r->col >= 0 && r->n_steps == 0 &&
		     (n[m] = model_assoc_counts(j->c.a, r->table, r->col)) != NULL;
	}
	int rc = 0;
	if (ok) {
		/* the one group, first seen at the table's first row */
		int32_t none = 0;
		int64_t cap = 0, g = model_tuples_add(&j->groups, &none);
		rc = g < 0 ? ERR_NOMEM : model_cube_note_first(j, g, 0, &cap);
	}
	for (int m = 0; ok && rc == 0 && m < def->n_measures; m++)
		model_cube_fast_add_counts(&fa[m], n[m], ft->n_rows);
	free(n);
	*done = ok && rc == 0;
	return rc ? err_set(j->c.e, ERR_NOMEM, "out of memory") : 0;
}

/* Groups the possible fact rows (each group's first row in `first`), and computes the fast
 * measures in the same pass when the number of groups is bounded before (no dimension: one;
 * dense dimensions: their slots) and every measure is fast (*fused). Otherwise each row's
 * group is kept in group_of for the passes that follow. */
static int group_fact_rows(struct cube_job *j, struct fast_acc *fa, bool *fused, struct err *e)
{
	const struct cube_def *def = j->c.def;
	const struct assoc_table *ft = &j->c.a->tables[j->c.fact];
	const uint8_t *possible = j->c.st->possible[j->c.fact];
	struct dense d;
	bool dense = dense_init(j, &d);
	int64_t cap = 0, bound = def->n_dims == 0 ? 1 : dense ? d.n_slots : -1;
	int m = 0;
	while (bound >= 0 && m < def->n_measures &&
	       model_cube_fast_prepare(&j->c, j->mx[m], bound, &fa[m]))
		m++;
	*fused = bound >= 0 && m == def->n_measures;
	for (int k = 0; !*fused && k < m; k++)
		model_cube_fast_release(&fa[k]);
	bool split = false;
	int rc = *fused ? kpi_from_counts(j, fa, &split) : 0;
	if (rc == 0 && *fused && !split)
		rc = model_cube_group_in_parts(j, &d, fa, &split);
	if (!*fused)
		j->group_of = malloc(sizeof(int64_t) * (size_t)(ft->n_rows + 1));
	int32_t *dsym = calloc((size_t)(def->n_dims + 1), sizeof(int32_t));
	if (rc == 0)
		rc = (*fused || j->group_of) && dsym ? 0 : ERR_NOMEM;
	for (int64_t r = 0; rc == 0 && !split && r < ft->n_rows; r++) {
		int64_t known = j->groups.n_groups;
		int64_t g = possible[r] ? group_of_row(j, r, &d, dsym) : -1;
		if (g == -2)
			rc = ERR_NOMEM;
		else if (g >= known) /* a new group */
			rc = model_cube_note_first(j, g, r, &cap);
		if (!*fused)
			j->group_of[r] = g < 0 ? -1 : g;
		else if (g >= 0)
			for (int k = 0; k < def->n_measures; k++)
				model_cube_fast_add(&j->c, &fa[k], r, g);
	}
	free(dsym);
	dense_free(&d);
	j->n_groups = j->groups.n_groups;
	return rc ? err_set(e, ERR_NOMEM, "out of memory") : 0;
}

/* The rows of each group, listed by group (a counting sort): for the measures evaluated
 * group by group. */
static int list_group_rows(struct cube_job *j, struct err *e)
{
	const struct assoc_table *ft = &j->c.a->tables[j->c.fact];
	j->start = calloc((size_t)(j->n_groups + 2), sizeof(int64_t));
	j->rows = calloc((size_t)(ft->n_rows + 1), sizeof(int64_t));
	int64_t *fill = calloc((size_t)(j->n_groups + 1), sizeof(int64_t));
	if (!j->start || !j->rows || !fill) {
		free(fill);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	for (int64_t r = 0; r < ft->n_rows; r++)
		if (j->group_of[r] >= 0)
			j->start[j->group_of[r] + 1]++;
	for (int64_t g = 0; g < j->n_groups; g++)
		j->start[g + 1] += j->start[g];
	for (int64_t r = 0; r < ft->n_rows; r++)
		if (j->group_of[r] >= 0)
			j->rows[j->start[j->group_of[r]] + fill[j->group_of[r]]++] = r;
	free(fill);
	return 0;
}

/* The rows' groups, and the measures that are one plain aggregation for every group (in
 * the same pass, or one pass each); then the rows listed by group when some measure is
 * not. */
static int group_and_measure(struct cube_job *j, struct err *e)
{
	const struct cube_def *def = j->c.def;
	const struct assoc_table *ft = &j->c.a->tables[j->c.fact];
	j->fast = calloc((size_t)def->n_measures + 1, sizeof(*j->fast));
	struct fast_acc *fa = calloc((size_t)def->n_measures + 1, sizeof(*fa));
	bool fused = false, all = true;
	int rc = j->fast && fa ? group_fact_rows(j, fa, &fused, e)
			       : err_set(e, ERR_NOMEM, "out of memory");
	for (int m = 0; rc == 0 && m < def->n_measures; m++) {
		if (!fused && model_cube_fast_prepare(&j->c, j->mx[m], j->n_groups, &fa[m]))
			for (int64_t r = 0; r < ft->n_rows; r++)
				if (j->group_of[r] >= 0)
					model_cube_fast_add(&j->c, &fa[m], r, j->group_of[r]);
		if (fa[m].acc && !(j->fast[m] = model_cube_fast_finish(&fa[m], j->n_groups)))
			rc = err_set(e, ERR_NOMEM, "out of memory");
		all = all && j->fast[m];
	}
	for (int m = 0; fa && m < def->n_measures; m++)
		model_cube_fast_release(&fa[m]);
	free(fa);
	return rc == 0 && !all ? list_group_rows(j, e) : rc;
}

_Static_assert((int)FIELD_O == (int)STATE_O && (int)FIELD_S == (int)STATE_S &&
		   (int)FIELD_A == (int)STATE_A && (int)FIELD_X == (int)STATE_X &&
		   (int)FIELD_XS == (int)STATE_XS,
	       "the script's field states are the model's");

/* The field functions' view of a field (GetSelectedCount ...): its values and their
 * states, computed from the selection once per cube when the cube's states hold only the
 * possible rows. */
static bool cube_field_view(void *ctx, int i, const char *name, struct field_view *out)
{
	struct cubecalc *c = ctx;
	int f = name ? model_assoc_field(c->a, name) : i;
	if (f < 0 || f >= c->a->n_fields)
		return false;
	const struct assoc_states *st = c->st;
	if (!st->state) {
		if (!c->full_ok && model_assoc_compute(c->a, c->sel, &c->full, c->e) != 0)
			return false;
		c->full_ok = true;
		st = &c->full;
	}
	*out = (struct field_view){c->a->fields[f].name, c->a->fields[f].n_sym, c->a->fields[f].sym,
				   c->a->fields[f].dense_base, st->state[f]};
	return true;
}

static int eval_at(struct cube_job *j, const struct expr *x, int64_t g, struct val *v,
		   struct err *e);

/* The partial group of TOTAL <fields> x for the current row (-1: none yet). */
static int64_t total_part_of(struct cubecalc *c, const struct expr *x, struct total_rows **tr)
{
	*tr = NULL;
	for (int i = 0; i < c->n_totals; i++)
		if (c->totals[i].x == x)
			*tr = &c->totals[i];
	if (!*tr || x->n_total_fields > 64)
		return -1;
	int32_t key[64];
	for (int k = 0; k < x->n_total_fields; k++)
		key[k] = model_cube_field_symbol(c, (*tr)->fields[k], c->row);
	return model_tuples_find(&(*tr)->keys, key);
}

/* A TOTAL aggregation's value computed before for this row's total, if any. */
static bool cube_total_get(void *ctx, const struct expr *x, struct val *out)
{
	struct cubecalc *c = ctx;
	if (x->n_total_fields) {
		struct total_rows *tr;
		int64_t k = total_part_of(c, x, &tr);
		if (k < 0 || !tr->have || !tr->have[k])
			return false;
		*out = tr->vals[k];
		return true;
	}
	for (int i = 0; i < c->n_tvals; i++)
		if (c->tvals[i].x == x) {
			*out = c->tvals[i].v;
			return true;
		}
	return false;
}

/* Keeps a TOTAL aggregation's value (its text in the cube) for the rows that share it. */
static void cube_total_put(void *ctx, const struct expr *x, const struct val *v)
{
	struct cubecalc *c = ctx;
	struct val kept = *v;
	if (kept.text)
		kept.text = arena_strdup(c->job->cb->a, kept.text);
	if (x->n_total_fields) {
		struct total_rows *tr = NULL;
		for (int i = 0; i < c->n_totals; i++)
			if (c->totals[i].x == x)
				tr = &c->totals[i];
		int64_t k = c->total_part;
		if (!tr || k < 0 || k >= tr->keys.n_groups)
			return;
		if (!tr->vals) {
			tr->vals = calloc((size_t)tr->keys.n_groups + 1, sizeof(struct val));
			tr->have = calloc((size_t)tr->keys.n_groups + 1, sizeof(bool));
			if (!tr->vals || !tr->have)
				return; /* not kept: computed again */
		}
		tr->vals[k] = kept;
		tr->have[k] = true;
		return;
	}
	struct total_value *more = realloc(c->tvals, sizeof(*more) * (size_t)(c->n_tvals + 1));
	if (!more)
		return;
	c->tvals = more;
	c->tvals[c->n_tvals++] = (struct total_value){x, kept};
}

/* Above, Below, Top and Bottom: x evaluated on another sorted row of the current row's
 * column segment (the whole column with TOTAL, or with one dimension); NULL past its ends. */
static int cube_chart_row(void *ctx, int how, bool total, int64_t offset, const struct expr *x,
			  struct val *out)
{
	struct cubecalc *c = ctx;
	int64_t lo = total ? 0 : c->seg_start[c->cur], hi = total ? c->n_rows : c->seg_end[c->cur];
	int64_t t = how == SCRIPT_ROW_ABOVE   ? c->cur - offset
		    : how == SCRIPT_ROW_BELOW ? c->cur + offset
		    : how == SCRIPT_ROW_TOP   ? lo + offset
					      : hi - 1 - offset;
	*out = (struct val){.null = true};
	if (t < lo || t >= hi)
		return 0;
	int64_t saved = c->cur, g = c->g, row = c->row;
	const int64_t *group = c->group;
	c->cur = t;
	int rc = eval_at(c->job, x, c->row_group[t], out, c->e);
	c->cur = saved;
	c->g = g;
	c->row = row;
	c->group = group;
	return rc;
}

/* GetObjectField(i): dimension i's field. */
static const char *cube_chart_dimension(void *ctx, int64_t i)
{
	struct cubecalc *c = ctx;
	return i >= 0 && i < c->def->n_dims ? c->def->dims[i] : NULL;
}

/* Column(n): the current row's measure n (from 1). */
static int cube_chart_column(void *ctx, int64_t n, struct val *out)
{
	struct cubecalc *c = ctx;
	int dims = c->def->n_dims;
	*out = (struct val){.null = true};
	if (n >= 1 && n <= c->def->n_measures)
		*out = c->cells[c->cur * (dims + c->def->n_measures) + dims + n - 1].v;
	return 0;
}

/* Measure m of group g (first row fr) by the evaluator; *v's text is kept in the cube. */
static int eval_measure(struct cube_job *j, int m, int64_t g, int64_t fr, struct val *v,
			struct err *e)
{
	struct arena *ea = arena_new();
	j->c.group = j->rows + j->start[g];
	j->c.row = fr;
	j->c.g = g;
	j->c.all_rows = j->rows;
	j->c.n_all = j->start[j->n_groups];
	struct eval ev = {.a = ea,
			  .e = e,
			  .ctx = &j->c,
			  .field = cube_field,
			  .n_group = j->start[g + 1] - j->start[g],
			  .set_row = cube_set_row,
			  .set_group = cube_set_group,
			  .total_group = cube_total_group,
			  .chart_row = j->c.row_group ? cube_chart_row : NULL,
			  .chart_column = j->c.row_group ? cube_chart_column : NULL,
			  .chart_dimension = cube_chart_dimension,
			  .total_get = cube_total_get,
			  .total_put = cube_total_put,
			  .restore_group = cube_restore_group,
			  .field_view = cube_field_view};
	int rc = script_eval(&ev, j->mx[m], v);
	if (rc == 0 && v->text)
		v->text = arena_strdup(j->cb->a, v->text);
	arena_free(ea);
	return rc;
}

/* Group g's row of cells at `row`; *keep is false for a row of zeros to suppress. */
static int fill_row(struct cube_job *j, int64_t g, struct cube_cell *row, bool *keep, struct err *e)
{
	const struct assoc *a = j->c.a;
	const struct cube_def *def = j->c.def;
	int64_t fr = j->first[g];
	for (int d = 0; d < def->n_dims; d++) {
		int32_t s = model_cube_field_symbol(&j->c, j->dim_field[d], fr);
		struct cube_cell *cell = &row[d];
		cell->v = model_sym(&a->fields[j->dim_field[d]], s);
		cell->elem = s;
		const bool *fsel = j->c.sel->selected[j->dim_field[d]];
		str_copy(cell->state, state_names[fsel && fsel[s] ? STATE_S : STATE_O],
			 sizeof(cell->state));
	}
	bool all_zero = true;
	for (int m = 0; m < def->n_measures; m++) {
		struct val v;
		if (j->fast && j->fast[m]) {
			v = j->fast[m][g];
		} else if (j->interrow && j->interrow[m]) {
			v = (struct val){.null = true}; /* once the rows are sorted */
		} else {
			int rc = eval_measure(j, m, g, fr, &v, e);
			if (rc)
				return rc;
		}
		row[def->n_dims + m].v = v;
		str_copy(row[def->n_dims + m].state, "L", 3);
		if (!v.null && !(v.has_num && v.num == 0))
			all_zero = false;
	}
	*keep = !def->suppress_zero || !all_zero || def->n_measures == 0;
	return 0;
}

/* The kept rows in the definition's order (their groups, in `groups`, with them). */
static int sort_cube(struct cube *cb, const struct cube_def *def, int64_t *groups, struct err *e)
{
	int64_t kept = cb->n_rows;
	int64_t *idx = malloc(sizeof(int64_t) * (size_t)kept);
	struct cube_cell *sorted = malloc(sizeof(struct cube_cell) * (size_t)(kept * cb->n_cols));
	int rc = 0;
	if (!idx || !sorted) {
		rc = err_set(e, ERR_NOMEM, "out of memory");
	} else {
		for (int64_t i = 0; i < kept; i++)
			idx[i] = i;
		struct sorter sc = {cb, def, def->order};
		qsort_r(idx, (size_t)kept, sizeof(int64_t), cmp_rows, &sc);
		for (int64_t i = 0; i < kept; i++)
			memcpy(&sorted[i * cb->n_cols], &cb->cells[idx[i] * cb->n_cols],
			       sizeof(struct cube_cell) * (size_t)cb->n_cols);
		for (int64_t i = 0; i < kept; i++) /* idx[i]'s group, where idx[i] still holds */
			idx[i] = groups[idx[i]];
		memcpy(groups, idx, sizeof(int64_t) * (size_t)kept);
		free(cb->cells);
		cb->cells = sorted;
		sorted = NULL;
	}
	free(idx);
	free(sorted);
	return rc;
}

/* Expression x over group g, as a measure is. */
static int eval_at(struct cube_job *j, const struct expr *x, int64_t g, struct val *v,
		   struct err *e)
{
	struct expr *m = (struct expr *)x;
	struct expr **mx = j->mx;
	j->mx = &m; /* eval_measure evaluates j->mx[0] */
	int rc = eval_measure(j, 0, g, j->first[g], v, e);
	j->mx = mx;
	return rc;
}

/* The measures that call inter-record functions, evaluated once the rows are sorted: each
 * sorted row in its column segment (the rows that share every dimension but the last). */
static int interrow_pass(struct cube_job *j, struct err *e)
{
	struct cube *cb = j->cb;
	const struct cube_def *def = j->c.def;
	if (!j->interrow || cb->n_rows == 0)
		return 0;
	int64_t *seg = calloc((size_t)cb->n_rows * 2 + 2, sizeof(int64_t));
	if (!seg)
		return err_set(e, ERR_NOMEM, "out of memory");
	int64_t *seg_start = seg, *seg_end = seg + cb->n_rows + 1;
	for (int64_t i = 0; i < cb->n_rows; i++) {
		bool same = i > 0;
		for (int d = 0; same && d + 1 < def->n_dims; d++)
			same = cb->cells[i * cb->n_cols + d].elem ==
			       cb->cells[(i - 1) * cb->n_cols + d].elem;
		seg_start[i] = same ? seg_start[i - 1] : i;
	}
	for (int64_t i = cb->n_rows; i-- > 0;)
		seg_end[i] =
		    i + 1 < cb->n_rows && seg_start[i + 1] == seg_start[i] ? seg_end[i + 1] : i + 1;
	j->c.job = j;
	j->c.row_group = j->row_group;
	j->c.seg_start = seg_start;
	j->c.seg_end = seg_end;
	j->c.n_rows = cb->n_rows;
	j->c.cells = cb->cells;
	int rc = 0;
	for (int m = 0; rc == 0 && m < def->n_measures; m++) {
		if (!j->interrow[m])
			continue;
		for (int64_t i = 0; rc == 0 && i < cb->n_rows; i++) {
			int64_t g = j->row_group[i];
			j->c.cur = i;
			struct val v;
			rc = eval_measure(j, m, g, j->first[g], &v, e);
			if (rc == 0)
				cb->cells[i * cb->n_cols + def->n_dims + m].v = v;
		}
	}
	j->c.row_group = NULL;
	free(seg);
	return rc;
}

static void cube_job_release(struct cube_job *j)
{
	struct cubecalc *c = &j->c;
	for (int d = 0; c->keys && d < 2 * c->a->n_links; d++) {
		data_tbl_free(c->keys[d]);
		free(c->partner ? c->partner[d] : NULL);
		free(c->by_key ? c->by_key[d] : NULL);
	}
	free(c->keys);
	free(c->partner);
	free(c->by_key);
	for (int i = 0; i < c->n_sets; i++) {
		free(c->sets[i].start);
		free(c->sets[i].rows);
		free(c->sets[i].all);
	}
	free(c->sets);
	free(c->tvals);
	for (int i = 0; i < c->n_totals; i++) {
		free(c->totals[i].vals);
		free(c->totals[i].have);
		free(c->totals[i].fields);
		free(c->totals[i].start);
		free(c->totals[i].rows);
		model_tuples_free(&c->totals[i].keys);
	}
	free(c->totals);
	free(c->field_route);
	free(c->route_known);
	model_tuples_free(&j->groups);
	for (int m = 0; j->fast && m < c->def->n_measures; m++)
		free(j->fast[m]);
	free(j->fast);
	free(j->group_of);
	free(j->row_group);
	free(j->interrow);
	free(j->first);
	free(j->start);
	free(j->rows);
	if (j->own_st)
		model_assoc_states_release(c->a, &j->st);
	if (c->full_ok)
		model_assoc_states_release(c->a, &c->full);
}

int model_cube_compute(const struct assoc *a, const struct assoc_sel *sel,
		       const struct cube_def *def, struct cube **out, struct err *e)
{
	return model_cube_compute_in(a, sel, NULL, def, out, e);
}

int model_cube_compute_in(const struct assoc *a, const struct assoc_sel *sel,
			  const struct assoc_states *st, const struct cube_def *def,
			  struct cube **out, struct err *e)
{
	*out = NULL;
	if (a->n_tables == 0)
		return err_set(e, ERR_INVALID, "the app has no data");
	struct cube_job *j = calloc(1, sizeof(*j));
	struct cube *cb = calloc(1, sizeof(*cb));
	if (!j || !cb) {
		free(j);
		free(cb);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	cb->refs = 1;
	cb->a = arena_new();
	cb->n_cols = def->n_dims + def->n_measures;
	j->cb = cb;
	j->c = (struct cubecalc){
	    .a = a, .st = st ? st : &j->st, .e = e, .sel = sel, .def = def, .job = j};
	j->groups = (struct model_tuples){.n = def->n_dims};
	j->c.groups = &j->groups;
	/* the rows; a dimension value in a possible row is S when selected, else O */
	j->own_st = !st;
	int rc = st ? 0 : model_assoc_possible_rows(a, sel, &j->st, e);
	if (rc == 0)
		rc = resolve(j, e);
	if (rc == 0)
		pick_fact(j);
	j->c.keys = calloc((size_t)(2 * a->n_links + 1), sizeof(struct tbl *));
	j->c.partner = calloc((size_t)(2 * a->n_links + 1), sizeof(int64_t *));
	j->c.by_key = calloc((size_t)(2 * a->n_links + 1), sizeof(int64_t *));
	j->c.field_route = calloc((size_t)(a->n_fields + 1), sizeof(struct route));
	j->c.route_known = calloc((size_t)(a->n_fields + 1), sizeof(bool));
	if (rc == 0 &&
	    (!j->c.keys || !j->c.partner || !j->c.by_key || !j->c.field_route || !j->c.route_known))
		rc = err_set(e, ERR_NOMEM, "out of memory");
	if (rc == 0)
		rc = group_and_measure(j, e);
	if (rc == 0 &&
	    !(cb->cells = calloc((size_t)(j->n_groups * cb->n_cols + 1), sizeof(struct cube_cell))))
		rc = err_set(e, ERR_NOMEM, "out of memory");
	if (rc == 0 && !(j->row_group = calloc((size_t)j->n_groups + 1, sizeof(int64_t))))
		rc = err_set(e, ERR_NOMEM, "out of memory");
	for (int64_t g = 0; rc == 0 && g < j->n_groups; g++) {
		bool keep = false;
		rc = fill_row(j, g, &cb->cells[cb->n_rows * cb->n_cols], &keep, e);
		if (rc == 0 && keep)
			j->row_group[cb->n_rows++] = g;
	}
	if (rc == 0 && cb->n_rows > 1)
		rc = sort_cube(cb, def, j->row_group, e);
	if (rc == 0)
		rc = interrow_pass(j, e);
	cube_job_release(j);
	free(j);
	if (rc) {
		model_cube_free(cb);
		return rc;
	}
	*out = cb;
	return 0;
}

struct cube *model_cube_keep(struct cube *c)
{
	__atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
	return c;
}

void model_cube_free(struct cube *c)
{
	if (!c || __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	free(c->cells);
	arena_free(c->a);
	free(c);
}
