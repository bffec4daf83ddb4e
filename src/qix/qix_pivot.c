/* qix_pivot.c: pivot hypercubes (qMode P): the dimensions split into left ones (rows) and
 * top ones (columns), each side a tree of values that people expand and collapse, and the
 * measures at every crossing of a row and a column (qix.md section 3).
 *
 * The levels of a side are its dimensions in qInterColumnSortOrder, and the measures' pseudo
 * dimension (-1) where that order puts it (with more than one measure; the last level of the
 * top when the order does not name it). qNoOfLeftDims levels go left (-1: all of them).
 * A side's tree comes from a cube over its dimensions alone, sorted by them; a value is
 * expanded when the hypercube is always fully expanded, or when qExpansionState says so.
 * Each value of the data matrix is read from a cube over the dimensions its row and its
 * column name (a collapsed value names fewer), one cube per pair of depths, so that a
 * collapsed row shows its measures over everything below it, not a sum of sums. */
#include "qix/qix_int.h"

#include <stdlib.h>
#include <string.h>

struct pv_node {
	int64_t parent, first, last, next; /* -1: none */
	int64_t elem;			   /* symbol (-1: NULL), or a measure's number */
	int64_t row;			   /* the side's cube row with its value */
	int64_t lo, hi;			   /* leaves [lo, hi) under it */
	int level, k;			   /* its level, and the number of real levels above it */
	bool pseudo, empty, total, can_expand, can_collapse;
};

struct pv_side {
	int n_lv, lv[65];     /* levels: a dimension of the spec, or -1 (the measures) */
	int n_real, real[64]; /* the dimensions among them, in order */
	struct cube *c;	      /* over the real dimensions, sorted by them */
	int64_t *perm;	      /* c's rows in the order shown (NULL: c's own order) */
	struct pv_node *n;
	int64_t n_nodes, cap, n_leaves, *leaf; /* leaf position -> node */
	int64_t roots, roots_last;	       /* first and last top-level node, or -1 */
	int pad; /* a collapsed value gets empty cells (E) down to this real level */
};

/* The cube of the measures over the first a left and b top dimensions, and its rows by
 * their dimensions' symbols. */
struct pv_values {
	struct cube *c;
	int64_t cap, *slot; /* row + 1; 0 empty */
};

struct pivot {
	struct qix_session *s;
	struct cube_spec *sp;
	json_t *def;
	bool full;
	int n_left; /* levels on the left, the pseudo dimension counted */
	struct pv_side side[2];
	struct pv_values *vals; /* (left real + 1) x (top real + 1) */
	const char *why;
};

enum { LEFT = 0, TOP = 1 };

static const char *field_name(const struct pivot *p, int d)
{
	return p->sp->dims[d];
}

/* ---- levels */

static void levels(struct pivot *p)
{
	const struct cube_spec *sp = p->sp;
	int order[130], n = 0;
	bool seen[65] = {false}, pseudo = false;
	json_t *ico = json_object_get(p->def, "qInterColumnSortOrder");
	size_t i;
	json_t *v;
	json_array_foreach (ico, i, v) {
		json_int_t x = json_integer_value(v);
		if (!json_is_integer(v) || x >= sp->def.n_dims || x < -1 || n >= 129)
			continue;
		if (x == -1 && !pseudo && sp->n_user > 1)
			order[n++] = -1, pseudo = true;
		else if (x >= 0 && !seen[x])
			order[n++] = (int)x, seen[x] = true;
	}
	for (int d = 0; d < sp->def.n_dims; d++)
		if (!seen[d])
			order[n++] = d;
	if (sp->n_user > 1 && !pseudo)
		order[n++] = -1;
	json_int_t nl = json_integer_value(json_object_get(p->def, "qNoOfLeftDims"));
	if (!json_is_integer(json_object_get(p->def, "qNoOfLeftDims")) || nl < 0 || nl > n)
		nl = n;
	p->n_left = (int)nl;
	for (int k = 0; k < n; k++) {
		struct pv_side *x = &p->side[k < nl ? LEFT : TOP];
		x->lv[x->n_lv++] = order[k];
		if (order[k] >= 0)
			x->real[x->n_real++] = order[k];
	}
}

/* ---- expansion (qExpansionState: {qExcludeList, qPos: {qDimName, qElemNo}} entries; an
 * empty qElemNo with qExcludeList names every value of the dimension expanded, a path with
 * qExcludeList one that is not, a path without it one that is) */

static bool same_path(json_t *elems, const int64_t *path, int k)
{
	if ((int)json_array_size(elems) != k)
		return false;
	for (int i = 0; i < k; i++)
		if (json_integer_value(json_array_get(elems, (size_t)i)) != path[i])
			return false;
	return true;
}

static bool expanded(const struct pivot *p, const char *dim, const int64_t *path, int k)
{
	bool all = false, in = false, out = false;
	size_t i;
	json_t *e;
	json_array_foreach (json_object_get(p->def, "qExpansionState"), i, e) {
		json_t *pos = json_object_get(e, "qPos");
		const char *name = json_string_value(json_object_get(pos, "qDimName"));
		json_t *elems = json_object_get(pos, "qElemNo");
		bool excl = json_is_true(json_object_get(e, "qExcludeList"));
		if (!name || strcmp(name, dim) != 0)
			continue;
		if (excl && json_array_size(elems) == 0)
			all = true;
		else if (same_path(elems, path, k) && excl)
			out = true;
		else if (same_path(elems, path, k))
			in = true;
	}
	return in || (all && !out);
}

/* ---- a side's tree */

static int64_t add_node(struct pv_side *x, int64_t parent, int level, int k, int64_t elem,
			int64_t row, bool pseudo)
{
	if (x->n_nodes == x->cap) {
		int64_t cap = x->cap ? x->cap * 2 : 64;
		struct pv_node *n = realloc(x->n, sizeof(*n) * (size_t)cap);
		if (!n)
			return -1;
		x->n = n;
		x->cap = cap;
	}
	int64_t i = x->n_nodes++;
	x->n[i] = (struct pv_node){.parent = parent,
				   .first = -1,
				   .last = -1,
				   .next = -1,
				   .elem = elem,
				   .row = row,
				   .level = level,
				   .k = k,
				   .pseudo = pseudo};
	if (parent < 0) {
		if (x->roots < 0)
			x->roots = i;
		else
			x->n[x->roots_last].next = i;
		x->roots_last = i;
	} else {
		if (x->n[parent].last >= 0)
			x->n[x->n[parent].last].next = i;
		else
			x->n[parent].first = i;
		x->n[parent].last = i;
	}
	return i;
}

/* Whether dimension d's values get a total among them (qOtherTotalSpec.qTotalMode). */
static bool has_totals(const struct pivot *p, int d)
{
	json_t *dim = json_array_get(json_object_get(p->def, "qDimensions"), (size_t)d);
	const char *mode = json_string_value(
	    json_object_get(json_object_get(dim, "qOtherTotalSpec"), "qTotalMode"));
	return mode && strcmp(mode, "TOTAL_EXPR") == 0;
}

static int build(struct pivot *p, struct pv_side *x, int lv, int64_t r0, int64_t r1, int64_t parent,
		 int64_t *path, int k, bool collapsed);

/* The side cube's row shown r-th. */
static int64_t side_row(const struct pv_side *x, int64_t r)
{
	return x->perm ? x->perm[r] : r;
}

/* A total (T) among the values of level lv: its measures over the parent's rows, its
 * subtree as a collapsed value's. */
static int add_total(struct pivot *p, struct pv_side *x, int lv, int64_t r0, int64_t r1,
		     int64_t parent, int64_t *path, int k)
{
	int64_t node = add_node(x, parent, lv, k, -1, r0, false);
	if (node < 0)
		return -1;
	x->n[node].total = true;
	return build(p, x, lv + 1, r0, r1, node, path, k + 1, true);
}

/* The nodes of level lv for the side's cube rows [r0, r1) under `parent`; path holds the
 * symbols of the real levels above (k of them). A collapsed value's subtree keeps only the
 * pseudo dimension. 0, or -1 out of memory. */
static int build(struct pivot *p, struct pv_side *x, int lv, int64_t r0, int64_t r1, int64_t parent,
		 int64_t *path, int k, bool collapsed)
{
	if (lv == x->n_lv)
		return 0;
	int d = x->lv[lv];
	if (d < 0) {
		for (int m = 0; m < p->sp->n_user; m++) {
			int64_t node = add_node(x, parent, lv, k, m, r0, true);
			if (node < 0 || build(p, x, lv + 1, r0, r1, node, path, k, collapsed) != 0)
				return -1;
		}
		return 0;
	}
	if (collapsed && k <= x->pad) { /* under a collapsed value: an empty cell */
		int64_t node = add_node(x, parent, lv, k, -1, r0, false);
		if (node < 0)
			return -1;
		x->n[node].empty = true;
		return build(p, x, lv + 1, r0, r1, node, path, k + 1, true);
	}
	if (collapsed)
		return build(p, x, lv + 1, r0, r1, parent, path, k, true);
	bool deeper = k + 1 < x->n_real;
	const struct cube *c = x->c;
	bool totals = has_totals(p, d),
	     above = json_is_true(json_object_get(p->def, "qShowTotalsAbove"));
	if (totals && above && add_total(p, x, lv, r0, r1, parent, path, k) != 0)
		return -1;
	for (int64_t r = r0; r < r1;) {
		int64_t e = c->cells[side_row(x, r) * c->n_cols + k].elem, s = r;
		while (r < r1 && c->cells[side_row(x, r) * c->n_cols + k].elem == e)
			r++;
		int64_t node = add_node(x, parent, lv, k, e, side_row(x, s), false);
		if (node < 0)
			return -1;
		path[k] = e;
		bool open = !deeper || p->full || expanded(p, field_name(p, d), path, k + 1);
		x->n[node].can_expand = deeper && !p->full && !open;
		x->n[node].can_collapse = deeper && !p->full && open;
		if (build(p, x, lv + 1, s, r, node, path, k + 1, !open) != 0)
			return -1;
	}
	if (totals && !above && add_total(p, x, lv, r0, r1, parent, path, k) != 0)
		return -1;
	return 0;
}

/* Leaves numbered in order, and each node's range of them. */
static int64_t number(struct pv_side *x, int64_t i, int64_t next)
{
	for (; i >= 0; i = x->n[i].next) {
		x->n[i].lo = next;
		if (x->n[i].first < 0) {
			if (x->leaf)
				x->leaf[next] = i;
			next++;
		} else {
			next = number(x, x->n[i].first, next);
		}
		x->n[i].hi = next;
	}
	return next;
}

static uint64_t mix(const int64_t *e, int k)
{
	uint64_t h = 1469598103934665603ull;
	for (int i = 0; i < k; i++) {
		h = (h ^ (uint64_t)e[i]) * 1099511628211ull;
		h ^= h >> 29;
	}
	return h;
}

static bool row_is(const struct cube *c, int64_t r, const int64_t *e, int k)
{
	for (int i = 0; i < k; i++)
		if (c->cells[r * c->n_cols + i].elem != e[i])
			return false;
	return true;
}

/* Indexes v->c's rows by the symbols of their first k columns (open addressing). 0, or -1
 * out of memory (v->slot NULL). */
static int index_rows(struct pv_values *v, int k)
{
	int64_t cap = 16;
	while (cap < v->c->n_rows * 2)
		cap *= 2;
	v->slot = calloc((size_t)cap, sizeof(int64_t));
	if (!v->slot)
		return -1;
	v->cap = cap;
	int64_t key[130];
	for (int64_t r = 0; r < v->c->n_rows; r++) {
		for (int i = 0; i < k; i++)
			key[i] = v->c->cells[r * v->c->n_cols + i].elem;
		uint64_t h = mix(key, k) & (uint64_t)(cap - 1);
		while (v->slot[h])
			h = (h + 1) & (uint64_t)(cap - 1);
		v->slot[h] = r + 1;
	}
	return 0;
}

/* The row of v->c whose first k columns hold `key`, or -1. */
static int64_t find_row(const struct pv_values *v, const int64_t *key, int k)
{
	for (uint64_t h = mix(key, k) & (uint64_t)(v->cap - 1); v->slot[h];
	     h = (h + 1) & (uint64_t)(v->cap - 1))
		if (row_is(v->c, v->slot[h] - 1, key, k))
			return v->slot[h] - 1;
	return -1;
}

/* ---- levels sorted by an expression (qSortByExpression): a level's values among their
 * siblings by the expression over each value's rows (a cube over the levels down to it),
 * then by the dimension's own order. The side's cube may be shared, so its rows stay as
 * they are: x->perm holds the order shown. */

/* The expression dimension d is sorted by and its direction (*dir 0: none). */
static const char *sort_expression(const struct pivot *p, int d, int *dir)
{
	json_t *dim = json_array_get(json_object_get(p->def, "qDimensions"), (size_t)d);
	json_t *crit =
	    json_array_get(json_object_get(json_object_get(dim, "qDef"), "qSortCriterias"), 0);
	const char *x =
	    json_string_value(json_object_get(json_object_get(crit, "qExpression"), "qv"));
	*dir = qix_sort_dir(crit, "qSortByExpression");
	if (!*dir || !x || !*qix_strip_eq(x))
		*dir = 0;
	return *dir ? qix_strip_eq(x) : NULL;
}

struct row_keys {
	const struct pv_side *x;
	const double *key; /* per row, per real level: the expression's value (NaN: none) */
	const int *dir;	   /* per real level: its expression's direction, 0 none */
};

static int by_keys(const void *pa, const void *pb, void *ctx)
{
	const struct row_keys *sorting = ctx;
	int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
	const struct pv_side *x = sorting->x;
	const struct cube *c = x->c;
	for (int k = 0; k < x->n_real; k++) {
		int dir = sorting->dir[k];
		if (dir) {
			double u = sorting->key[a * x->n_real + k],
			       v = sorting->key[b * x->n_real + k];
			bool nu = u != u, nv = v != v; /* no value: last */
			if (nu != nv)
				return nu ? 1 : -1;
			if (!nu && u != v)
				return (u < v ? -1 : 1) * dir;
		}
		/* the same values above: the cube's order is the dimension's own */
		if (c->cells[a * c->n_cols + k].elem != c->cells[b * c->n_cols + k].elem)
			return a < b ? -1 : 1;
	}
	return (a > b) - (a < b);
}

/* The expression's values for the levels down to k of every row of the side's cube, into
 * key[row * n_real + k]. */
static int level_keys(struct pivot *p, struct pv_side *x, int k, const char *expr, double *key)
{
	const char *dims[64];
	struct cube_col_sort sort[65];
	for (int i = 0; i <= k; i++) {
		dims[i] = p->sp->dims[x->real[i]];
		sort[i] = (struct cube_col_sort){SORT_NONE, 1};
	}
	sort[k + 1] = (struct cube_col_sort){SORT_NONE, 1};
	struct cube_def cd = {
	    .dims = dims, .n_dims = k + 1, .measures = &expr, .n_measures = 1, .sort = sort};
	struct pv_values v = {0};
	struct err e;
	err_init(&e);
	if (qix_obj_cube(p->s, &cd, &v.c, &e) != 0) {
		log_debug("engine: pivot: sorting by %s: %s", expr, e.message);
		return -1;
	}
	if (index_rows(&v, k + 1) != 0) {
		model_cube_free(v.c);
		return -1;
	}
	const struct cube *c = x->c;
	int64_t e_row[65];
	for (int64_t r = 0; r < c->n_rows; r++) {
		for (int i = 0; i <= k; i++)
			e_row[i] = c->cells[r * c->n_cols + i].elem;
		int64_t at = find_row(&v, e_row, k + 1);
		const struct val *m = at < 0 ? NULL : &v.c->cells[at * v.c->n_cols + k + 1].v;
		key[r * x->n_real + k] = m && m->has_num && !m->null ? m->num : 0.0 / 0.0;
	}
	free(v.slot);
	model_cube_free(v.c);
	return 0;
}

static int order_by_expressions(struct pivot *p, struct pv_side *x)
{
	const struct cube *c = x->c;
	int dir[64] = {0}, any = 0;
	const char *expr[64];
	for (int k = 0; k < x->n_real; k++) {
		expr[k] = sort_expression(p, x->real[k], &dir[k]);
		any += dir[k] != 0;
	}
	if (!any || !c || c->n_rows < 2)
		return 0;
	double *key = malloc(sizeof(double) * (size_t)(c->n_rows * x->n_real));
	x->perm = malloc(sizeof(int64_t) * (size_t)c->n_rows);
	int rc = key && x->perm ? 0 : -1;
	for (int k = 0; rc == 0 && k < x->n_real; k++)
		if (dir[k])
			rc = level_keys(p, x, k, expr[k], key);
	if (rc == 0) {
		for (int64_t r = 0; r < c->n_rows; r++)
			x->perm[r] = r;
		struct row_keys sorting = {x, key, dir};
		qsort_r(x->perm, (size_t)c->n_rows, sizeof(int64_t), by_keys, &sorting);
	}
	free(key);
	return rc;
}

static int side_build(struct pivot *p, struct pv_side *x)
{
	x->roots = -1;
	const struct cube_spec *sp = p->sp;
	const char *dims[64];
	struct cube_col_sort sort[64];
	int order[64];
	for (int k = 0; k < x->n_real; k++) {
		dims[k] = sp->dims[x->real[k]];
		sort[k] = sp->sort[x->real[k]];
		order[k] = k;
	}
	if (x->n_lv == 0) {
		x->n_leaves = 1;
		return 0;
	}
	int64_t path[64];
	if (x->n_real > 0) {
		struct cube_def cd = {
		    .dims = dims, .n_dims = x->n_real, .sort = sort, .order = order};
		struct err e;
		err_init(&e);
		if (qix_obj_cube(p->s, &cd, &x->c, &e) != 0) {
			log_debug("engine: pivot: %s", e.message);
			return -1;
		}
	}
	if (order_by_expressions(p, x) != 0)
		return -1;
	int64_t rows = x->c ? x->c->n_rows : 1;
	x->pad = -1;
	if (build(p, x, 0, 0, rows, -1, path, 0, false) != 0)
		return -1;
	/* every leaf at the same depth: a collapsed value gets empty cells down to the deepest
	 * level shown, as the engine answers (sn-pivot-table reads the levels off the first
	 * value's cells) */
	int deepest = 0;
	for (int64_t i = 0; i < x->n_nodes; i++)
		if (!x->n[i].pseudo && x->n[i].k > deepest)
			deepest = x->n[i].k;
	if (deepest > 0) { /* (fully expanded, a total still needs them) */
		x->n_nodes = 0;
		x->roots = x->roots_last = -1;
		x->pad = deepest;
		if (build(p, x, 0, 0, rows, -1, path, 0, false) != 0)
			return -1;
	}
	x->n_leaves = number(x, x->roots, 0);
	x->leaf = malloc(sizeof(int64_t) * (size_t)(x->n_leaves + 1));
	if (!x->leaf)
		return -1;
	number(x, x->roots, 0);
	return 0;
}

/* A leaf's symbols of the real levels above it (returns how many) and its measure (-1 when
 * the side has none). */
static int leaf_path(const struct pv_side *x, int64_t pos, int64_t *path, int *measure)
{
	*measure = -1;
	if (x->n_lv == 0 || pos < 0 || pos >= x->n_leaves)
		return 0;
	int64_t chain[130];
	int n = 0, k = 0;
	for (int64_t i = x->leaf[pos]; i >= 0 && n < 130; i = x->n[i].parent)
		chain[n++] = i;
	while (n-- > 0) {
		const struct pv_node *node = &x->n[chain[n]];
		if (node->pseudo)
			*measure = (int)node->elem;
		else if (!node->empty && !node->total) /* a total's: over its parent's rows */
			path[k++] = node->elem;
	}
	return k;
}

/* ---- the values */

/* The values over the first a left and b top dimensions, computed when first asked for. */
static struct pv_values *values(struct pivot *p, int a, int b)
{
	struct pv_side *l = &p->side[LEFT], *t = &p->side[TOP];
	struct pv_values *v = &p->vals[a * (t->n_real + 1) + b];
	if (v->c)
		return v;
	if (v->cap < 0) /* failed before */
		return NULL;
	const char *dims[128];
	for (int i = 0; i < a; i++)
		dims[i] = p->sp->dims[l->real[i]];
	for (int i = 0; i < b; i++)
		dims[a + i] = p->sp->dims[t->real[i]];
	struct cube_def cd = {.dims = dims,
			      .n_dims = a + b,
			      .measures = p->sp->def.measures,
			      .n_measures = p->sp->n_user};
	struct err e;
	err_init(&e);
	v->cap = -1;
	if (qix_obj_cube(p->s, &cd, &v->c, &e) != 0) {
		log_debug("engine: pivot: %s", e.message);
		return NULL;
	}
	if (index_rows(v, a + b) != 0) {
		model_cube_free(v->c);
		v->c = NULL;
		v->cap = -1;
		return NULL;
	}
	return v;
}

/* The data cell at (row, col) of the matrix. */
static json_t *value_cell(struct pivot *p, int64_t row, int64_t col)
{
	int64_t key[128];
	int ml, mt;
	int a = leaf_path(&p->side[LEFT], row, key, &ml);
	int b = leaf_path(&p->side[TOP], col, key + a, &mt);
	int m = ml >= 0 ? ml : mt >= 0 ? mt : 0;
	struct pv_values *v = p->sp->n_user > 0 ? values(p, a, b) : NULL;
	int64_t r = v ? find_row(v, key, a + b) : -1;
	json_t *cell = json_object();
	if (r < 0) {
		json_object_set_new(cell, "qText", json_string("-"));
		json_object_set_new(cell, "qNum", json_string("NaN"));
		json_object_set_new(cell, "qType", json_string("U"));
	} else {
		const struct val *x = &v->c->cells[r * v->c->n_cols + a + b + m].v;
		qix_cube_set_measure(cell, x, p->sp, m);
		json_object_del(cell, "qIsNull");
		json_object_set_new(cell, "qType", json_string(x->null ? "U" : "V"));
	}
	json_object_set_new(cell, "qAttrExps", json_pack("{s:[]}", "qValues"));
	return cell;
}

/* ---- pages */

/* A total's text: its dimension's qTotalLabel, or "Totals". */
static const char *total_label(const struct pivot *p, const struct pv_side *x,
			       const struct pv_node *n)
{
	json_t *dim =
	    json_array_get(json_object_get(p->def, "qDimensions"), (size_t)x->lv[n->level]);
	const char *label =
	    json_string_value(json_object_get(json_object_get(dim, "qTotalLabel"), "qv"));
	return label && *label ? label : "Totals";
}

/* NxPivotDimensionCells of the siblings from i that cover leaves [lo, hi). */
static json_t *dim_cells(struct pivot *p, const struct pv_side *x, int64_t i, int64_t lo,
			 int64_t hi)
{
	json_t *out = json_array();
	for (; i >= 0; i = x->n[i].next) {
		const struct pv_node *n = &x->n[i];
		if (n->hi <= lo || n->lo >= hi)
			continue;
		json_t *cell = json_object();
		const char *type = "N";
		if (n->pseudo) {
			json_object_set_new(cell, "qText", json_string(p->sp->mes_label[n->elem]));
			json_object_set_new(cell, "qNum", json_string("NaN"));
			type = "P";
		} else if (n->empty || n->total) {
			json_object_set_new(cell, "qText",
					    json_string(n->total ? total_label(p, x, n) : ""));
			json_object_set_new(cell, "qNum", json_string("NaN"));
			type = n->total ? "T" : "E";
		} else {
			qix_obj_set_value(cell, &x->c->cells[n->row * x->c->n_cols + n->k].v);
			json_object_del(cell, "qIsNull");
			type = n->elem < 0 ? "U" : "N";
		}
		json_t *num = json_object_get(cell, "qNum");
		json_object_set(cell, "qValue", num);
		json_object_del(cell, "qNum");
		json_object_set_new(cell, "qElemNo", json_integer(n->elem));
		json_object_set_new(cell, "qType", json_string(type));
		if (n->can_expand)
			json_object_set_new(cell, "qCanExpand", json_true());
		if (n->can_collapse)
			json_object_set_new(cell, "qCanCollapse", json_true());
		json_object_set_new(cell, "qUp", json_integer(lo > n->lo ? lo - n->lo : 0));
		json_object_set_new(cell, "qDown", json_integer(n->hi > hi ? n->hi - hi : 0));
		json_object_set_new(cell, "qSubNodes", dim_cells(p, x, n->first, lo, hi));
		json_object_set_new(cell, "qAttrExps", json_pack("{s:[]}", "qValues"));
		json_object_set_new(cell, "qAttrDims", json_pack("{s:[]}", "qValues"));
		json_array_append_new(out, cell);
	}
	return out;
}

static int64_t clip(json_int_t v, int64_t max)
{
	return v < 0 ? 0 : v > max ? max : v;
}

/* One NxPivotPage. */
static json_t *page(struct pivot *p, json_t *pg)
{
	int64_t rows = p->side[LEFT].n_leaves, cols = p->side[TOP].n_leaves;
	int64_t top = clip(json_integer_value(json_object_get(pg, "qTop")), rows),
		left = clip(json_integer_value(json_object_get(pg, "qLeft")), cols),
		h = clip(json_integer_value(json_object_get(pg, "qHeight")), rows - top),
		w = clip(json_integer_value(json_object_get(pg, "qWidth")), cols - left);
	json_t *data = json_array();
	for (int64_t r = top; r < top + h; r++) {
		json_t *row = json_array();
		for (int64_t c = left; c < left + w; c++)
			json_array_append_new(row, value_cell(p, r, c));
		json_array_append_new(data, row);
	}
	const struct pv_side *l = &p->side[LEFT], *t = &p->side[TOP];
	return json_pack("{s:o,s:o,s:o,s:{s:I,s:I,s:I,s:I}}", "qLeft",
			 l->n_lv ? dim_cells(p, l, l->roots, top, top + h) : json_array(), "qTop",
			 t->n_lv ? dim_cells(p, t, t->roots, left, left + w) : json_array(),
			 "qData", data, "qArea", "qLeft", (json_int_t)left, "qTop", (json_int_t)top,
			 "qWidth", (json_int_t)w, "qHeight", (json_int_t)h);
}

/* ---- the pivot of a definition */

static void pivot_free(struct pivot *p)
{
	for (int s = 0; s < 2; s++) {
		model_cube_free(p->side[s].c);
		free(p->side[s].perm);
		free(p->side[s].n);
		free(p->side[s].leaf);
	}
	int n = (p->side[LEFT].n_real + 1) * (p->side[TOP].n_real + 1);
	for (int i = 0; p->vals && i < n; i++) {
		model_cube_free(p->vals[i].c);
		free(p->vals[i].slot);
	}
	free(p->vals);
	free(p->sp);
}

static int pivot_open(struct pivot *p, struct qix_session *s, json_t *def, const char **why)
{
	memset(p, 0, sizeof(*p));
	p->s = s;
	p->def = def;
	p->sp = calloc(1, sizeof(*p->sp));
	*why = "out of memory";
	if (!p->sp)
		return QIX_INTERNAL;
	if (!s->data || !s->data->a) {
		*why = "the app has no data";
		return QIX_APP_INVALID;
	}
	int rc = qix_cube_spec_read(s->data->a, def, p->sp, why);
	if (rc)
		return rc;
	p->full = json_is_true(json_object_get(def, "qAlwaysFullyExpanded"));
	levels(p);
	p->vals = calloc((size_t)((p->side[LEFT].n_real + 1) * (p->side[TOP].n_real + 1)),
			 sizeof(*p->vals));
	*why = "the pivot table could not be computed (see the engine log)";
	if (!p->vals || side_build(p, &p->side[LEFT]) != 0 || side_build(p, &p->side[TOP]) != 0)
		return QIX_INVALID_PARAMETER;
	return 0;
}

static json_t *pages(struct pivot *p, json_t *req, const char **why, int *rc)
{
	size_t i;
	json_t *pg;
	if (qix_cube_cells(req) > QIX_MAX_CELLS) {
		*why = "more than 10000 cells asked for in one call";
		*rc = 7009;
		return NULL;
	}
	json_t *out = json_array();
	json_array_foreach (req, i, pg)
		json_array_append_new(out, page(p, pg));
	return out;
}

void qix_pivot_layout(struct qix_session *s, json_t *hc, json_t *l)
{
	struct pivot p;
	const char *why;
	int rc = pivot_open(&p, s, hc, &why);
	json_t *dp = rc ? NULL : pages(&p, json_object_get(hc, "qInitialDataFetch"), &why, &rc);
	json_t *eff = json_array();
	for (int side = 0; side < 2; side++)
		for (int k = 0; k < p.side[side].n_lv; k++)
			json_array_append_new(eff, json_integer(p.side[side].lv[k]));
	json_object_set_new(l, "qEffectiveInterColumnSortOrder", eff);
	json_object_set_new(l, "qPivotDataPages", dp ? dp : json_array());
	json_object_set_new(l, "qNoOfLeftDims", json_integer(p.n_left));
	json_object_set_new(l, "qSize",
			    json_pack("{s:I,s:I}", "qcx",
				      (json_int_t)(rc ? 0 : p.side[TOP].n_leaves), "qcy",
				      (json_int_t)(rc ? 0 : p.side[LEFT].n_leaves)));
	json_object_set_new(l, "qMode", json_string("P"));
	if (rc && !json_object_get(l, "qError"))
		json_object_set_new(l, "qError",
				    json_pack("{s:i,s:s}", "qErrorCode", rc, "qContext", why));
	pivot_free(&p);
}

int qix_pivot_data(struct qix_call *c)
{
	json_t *def = qix_obj_definition(c), *req = qix_param(c->params, 1, "qPages");
	if (!def || !json_is_array(req)) {
		c->msg = "qPath names no definition of the object";
		return QIX_INVALID_PARAMETER;
	}
	struct pivot p;
	int rc = pivot_open(&p, c->s, def, &c->msg);
	json_t *dp = rc ? NULL : pages(&p, req, &c->msg, &rc);
	pivot_free(&p);
	if (rc)
		return rc;
	c->out = json_pack("{s:o}", "qDataPages", dp);
	return 0;
}

/* ---- expanding, collapsing, selecting */

/* The node of level lv that covers leaf pos, or -1. */
static int64_t find(const struct pv_side *x, int64_t pos, int lv)
{
	int64_t i = x->roots;
	while (i >= 0) {
		const struct pv_node *n = &x->n[i];
		if (pos < n->lo || pos >= n->hi) {
			i = n->next;
			continue;
		}
		if (n->level == lv)
			return i;
		if (n->level > lv)
			return -1;
		i = n->first;
	}
	return -1;
}

static json_t *position(const char *dim, json_t *elems, bool exclude)
{
	return json_pack("{s:b,s:{s:s,s:o,s:[]}}", "qExcludeList", exclude, "qPos", "qDimName", dim,
			 "qElemNo", elems, "qElemValues");
}

/* The expansion state with the value at node i of side x expanded or collapsed. */
static void toggle(struct pivot *p, const struct pv_side *x, int64_t i, bool open, json_t *state)
{
	int64_t path[64];
	int k = 0;
	int64_t chain[130];
	int n = 0;
	for (int64_t j = i; j >= 0 && n < 130; j = x->n[j].parent)
		chain[n++] = j;
	while (n-- > 0)
		if (!x->n[chain[n]].pseudo)
			path[k++] = x->n[chain[n]].elem;
	const char *dim = field_name(p, x->lv[x->n[i].level]);
	bool all = false;
	size_t idx;
	json_t *e;
	json_array_foreach (state, idx, e) { /* what is said of this value already goes */
		json_t *pos = json_object_get(e, "qPos");
		const char *name = json_string_value(json_object_get(pos, "qDimName"));
		json_t *elems = json_object_get(pos, "qElemNo");
		if (!name || strcmp(name, dim) != 0)
			continue;
		if (json_is_true(json_object_get(e, "qExcludeList")) && !json_array_size(elems))
			all = true;
		else if (same_path(elems, path, k)) {
			json_array_remove(state, idx--);
		}
	}
	json_t *elems = json_array();
	for (int j = 0; j < k; j++)
		json_array_append_new(elems, json_integer(path[j]));
	if (open != all)
		json_array_append_new(state, position(dim, elems, all));
	else
		json_decref(elems);
}

/* Every value of side x expanded (open) or collapsed. */
static void toggle_all(struct pivot *p, const struct pv_side *x, bool open, json_t *state)
{
	for (int k = 0; k < x->n_real; k++) {
		const char *dim = field_name(p, x->real[k]);
		size_t idx;
		json_t *e;
		json_array_foreach (state, idx, e) {
			const char *name = json_string_value(
			    json_object_get(json_object_get(e, "qPos"), "qDimName"));
			if (name && strcmp(name, dim) == 0)
				json_array_remove(state, idx--);
		}
		if (open && k + 1 < x->n_real)
			json_array_append_new(state, position(dim, json_array(), true));
	}
}

/* ExpandLeft, CollapseLeft (qRow: a row of the matrix, qCol: a left level), ExpandTop,
 * CollapseTop (qRow: a top level, qCol: a column): the expansion state changes for this
 * session, as a soft patch of qExpansionState. */
int qix_pivot_expand(struct qix_call *c)
{
	const char *path = json_string_value(qix_param(c->params, 0, "qPath"));
	json_t *def = qix_obj_definition(c);
	const char *mode = json_string_value(json_object_get(def, "qMode"));
	if (!def || !mode || strcmp(mode, "P") != 0) {
		c->msg = "qPath names no pivot hypercube";
		return QIX_INVALID_PARAMETER;
	}
	bool left = strstr(c->method, "Left") != NULL, open = strncmp(c->method, "Expand", 6) == 0;
	json_int_t row = json_integer_value(qix_param(c->params, 1, "qRow")),
		   col = json_integer_value(qix_param(c->params, 2, "qCol"));
	bool all = json_is_true(qix_param(c->params, 3, "qAll"));
	struct pivot p;
	int rc = pivot_open(&p, c->s, def, &c->msg);
	if (rc) {
		pivot_free(&p);
		return rc;
	}
	const struct pv_side *x = &p.side[left ? LEFT : TOP];
	json_int_t pos = left ? row : col, lv = left ? col : row;
	int64_t node = lv >= 0 && lv < x->n_lv ? find(x, pos, (int)lv) : -1;
	json_t *state = json_deep_copy(json_object_get(def, "qExpansionState"));
	if (!json_is_array(state)) {
		json_decref(state);
		state = json_array();
	}
	if (all) {
		toggle_all(&p, x, open, state);
	} else if (node < 0 || x->n[node].pseudo || x->n[node].empty || x->n[node].total) {
		c->msg = "no value of a dimension there";
		rc = QIX_INVALID_PARAMETER;
	} else {
		toggle(&p, x, node, open, state);
	}
	pivot_free(&p);
	if (rc) {
		json_decref(state);
		return rc;
	}
	char *text = json_dumps(state, JSON_COMPACT);
	json_decref(state);
	char target[512];
	snprintf(target, sizeof(target), "%s/qExpansionState", path);
	if (!c->h->soft)
		c->h->soft = json_array();
	size_t i;
	json_t *patch;
	json_array_foreach (c->h->soft, i, patch) { /* the last expansion state is the one */
		const char *pp = json_string_value(json_object_get(patch, "qPath"));
		if (pp && strcmp(pp, target) == 0)
			json_array_remove(c->h->soft, i--);
	}
	json_array_append_new(c->h->soft, json_pack("{s:s,s:s,s:s}", "qOp", "add", "qPath", target,
						    "qValue", text ? text : "[]"));
	free(text);
	qix_sess_mark_changed(c->s, c->h->num);
	c->out = json_object();
	return 0;
}

/* SelectPivotCells: the values of the dimension cells given (qType L: qRow a row of the
 * matrix and qCol a left level; T: qRow a top level and qCol a column), each dimension's
 * values selected together. */
int qix_pivot_select(struct qix_call *c)
{
	json_t *def = qix_obj_definition(c), *sel = qix_param(c->params, 1, "qSelections");
	if (!def || !json_is_array(sel)) {
		c->msg = "qPath names no pivot hypercube";
		return QIX_INVALID_PARAMETER;
	}
	struct pivot p;
	int rc = pivot_open(&p, c->s, def, &c->msg);
	int64_t *syms = calloc(json_array_size(sel) + 1, sizeof(int64_t));
	for (int d = 0; rc == 0 && syms && d < p.sp->def.n_dims; d++) {
		int n = 0;
		size_t i;
		json_t *cell;
		json_array_foreach (sel, i, cell) {
			const char *type = json_string_value(json_object_get(cell, "qType"));
			json_int_t r = json_integer_value(json_object_get(cell, "qRow")),
				   col = json_integer_value(json_object_get(cell, "qCol"));
			bool left = type && strcmp(type, "L") == 0,
			     top = type && !strcmp(type, "T");
			const struct pv_side *x = &p.side[left ? LEFT : TOP];
			json_int_t lv = left ? col : r;
			if ((!left && !top) || lv < 0 || lv >= x->n_lv || x->lv[lv] != d)
				continue;
			int64_t node = find(x, left ? r : col, (int)lv);
			if (node >= 0 && !x->n[node].empty && !x->n[node].total)
				syms[n++] = x->n[node].elem;
		}
		if (n > 0)
			rc = qix_sel_syms(c->s, p.sp->dim_field[d], syms, n, false);
	}
	free(syms);
	pivot_free(&p);
	if (rc == QIX_INVALID_PARAMETER || rc == QIX_APP_INVALID)
		return rc;
	c->out = json_pack("{s:b}", "qSuccess", rc == 0);
	return 0;
}
