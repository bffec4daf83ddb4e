/* qix_cube.c: hypercubes: a qHyperCubeDef read and computed over the session's selection,
 * its layout (qDataPages in mode S, qStackedDataPages in mode K), data pages, and the
 * selections made through a cube: values, cells, ranges of measures, continuous ranges
 * (qix.md section 3). */
#include "qix/qix_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A measure's qNumFormat when the engine writes its texts by it: a number format (F, M, R
 * or I) or a date and time format (D, T, TS) with a format code. Automatic (U) and the
 * rest are left to the client. */
static json_t *number_format(json_t *qdef)
{
	json_t *nf = json_object_get(qdef, "qNumFormat");
	const char *type = json_string_value(json_object_get(nf, "qType"));
	const char *code = json_string_value(json_object_get(nf, "qFmt"));
	if (!type || !code || !*code)
		return NULL;
	bool number = type[0] && strchr("FMRI", type[0]) && type[1] == '\0';
	bool date = strcmp(type, "D") == 0 || strcmp(type, "T") == 0 || strcmp(type, "TS") == 0;
	return number || date ? nf : NULL;
}

static int date_kind(const struct assoc_field *fd);

/* With an automatic format, Min, Max or Only of a date, time or timestamp field is one of
 * its values and shows as they do (Max(OrderDate) as a date): the field's format code, or
 * NULL. */
static const char *inherited_format(const struct assoc *a, const char *ex)
{
	static const char *const keep[] = {"Min", "Max", "Only"};
	char name[256];
	for (size_t k = 0; k < sizeof(keep) / sizeof(keep[0]); k++) {
		size_t n = strlen(keep[k]);
		const char *p = ex + strspn(ex, " ");
		if (strncasecmp(p, keep[k], n) != 0)
			continue;
		p += n;
		p += strspn(p, " ");
		if (*p++ != '(')
			return NULL;
		p += strspn(p, " ");
		bool bracket = *p == '[';
		p += bracket;
		size_t len = strcspn(p, bracket ? "]" : " )");
		if (len == 0 || len >= sizeof(name))
			return NULL;
		memcpy(name, p, len);
		name[len] = '\0';
		p += len + bracket;
		p += strspn(p, " ");
		if (*p++ != ')' || p[strspn(p, " ")] != '\0')
			return NULL;
		int f = model_assoc_field(a, name);
		if (f < 0 || date_kind(&a->fields[f]) < 0)
			return NULL;
		const char *fmt = a->fields[f].number_fmt;
		return fmt && *fmt ? fmt : NULL;
	}
	return NULL;
}

/* How a dimension on `f` sorts, from its first qSortCriterias. */
static struct cube_col_sort dim_sort(const struct assoc_field *f, json_t *qd)
{
	json_t *crit = json_array_get(json_object_get(qd, "qSortCriterias"), 0);
	int num = qix_sort_dir(crit, "qSortByNumeric"), txt = qix_sort_dir(crit, "qSortByAscii"),
	    load = qix_sort_dir(crit, "qSortByLoadOrder");
	bool numeric_field = f->n_sym > 0 && model_sym(f, 0).has_num;
	struct cube_col_sort cs = {SORT_LOAD, 1};
	if (num && (numeric_field || !txt))
		cs = (struct cube_col_sort){SORT_NUM, num};
	else if (txt)
		cs = (struct cube_col_sort){SORT_TEXT, txt};
	else if (load)
		cs = (struct cube_col_sort){SORT_LOAD, load};
	if (json_is_true(json_object_get(qd, "qReverseSort")))
		cs.dir = -cs.dir;
	return cs;
}

/* Reads a qHyperCubeDef. 0, or an error for the layout's qError with *why. */
int qix_cube_spec_read(const struct assoc *a, json_t *hc, struct cube_spec *sp, const char **why)
{
	memset(sp, 0, sizeof(*sp));
	json_t *dims = json_object_get(hc, "qDimensions"), *mes = json_object_get(hc, "qMeasures");
	if (json_array_size(dims) > 64 || json_array_size(mes) > 64) {
		*why = "a hypercube takes at most 64 dimensions and 64 measures";
		return QIX_INVALID_PARAMETER;
	}
	size_t i;
	json_t *d;
	json_array_foreach (dims, i, d) {
		json_t *qd = json_object_get(d, "qDef");
		const char *f =
		    json_string_value(json_array_get(json_object_get(qd, "qFieldDefs"), 0));
		const char *name = f ? qix_strip_eq(f) : NULL;
		if (!name || !*name || (sp->dim_field[i] = model_assoc_field(a, name)) < 0) {
			*why = f && *f == '=' ? "calculated dimensions are not supported yet"
					      : "a dimension names no field of the app";
			return QIX_INVALID_PARAMETER;
		}
		sp->dims[i] = name;
		const char *label =
		    json_string_value(json_array_get(json_object_get(qd, "qFieldLabels"), 0));
		sp->dim_label[i] = label && *label ? label : name;
		sp->dim_def[i] = qd;
		sp->sort[i] = dim_sort(&a->fields[sp->dim_field[i]], qd);
		sp->n_sym[i] = a->fields[sp->dim_field[i]].n_sym;
	}
	sp->def.n_dims = (int)json_array_size(dims);
	json_array_foreach (mes, i, d) {
		json_t *qd = json_object_get(d, "qDef");
		const char *ex = json_string_value(json_object_get(qd, "qDef"));
		if (!ex || !*qix_strip_eq(ex)) {
			*why = "a measure has no expression";
			return QIX_INVALID_PARAMETER;
		}
		sp->measures[i] = qix_strip_eq(ex);
		const char *label = json_string_value(json_object_get(qd, "qLabel"));
		sp->mes_label[i] = label && *label ? label : ex;
		sp->mes_def[i] = qd;
		sp->mes_nf[i] = number_format(qd);
		json_t *nf = sp->mes_nf[i];
		const char *nt = json_string_value(json_object_get(nf, "qType"));
		if (nf) {
			sp->mes_text[i].type = strchr("DT", nt[0]) ? 'D' : 'F';
			sp->mes_text[i].fmt = json_string_value(json_object_get(nf, "qFmt"));
			sp->mes_text[i].dec = json_string_value(json_object_get(nf, "qDec"));
			sp->mes_text[i].thou = json_string_value(json_object_get(nf, "qThou"));
		} else if ((sp->mes_text[i].fmt = inherited_format(a, qix_strip_eq(ex))) != NULL) {
			sp->mes_text[i].type = 'D';
		}
		int dir = qix_sort_dir(json_object_get(d, "qSortBy"), "qSortByNumeric");
		if (json_is_true(json_object_get(qd, "qReverseSort")))
			dir = -dir;
		sp->sort[sp->def.n_dims + i] =
		    (struct cube_col_sort){dir ? SORT_NUM : SORT_NONE, dir ? dir : 1};
	}
	sp->n_user = (int)json_array_size(mes);
	int n = sp->width = sp->def.n_dims + sp->n_user;
	/* a dimension sorted by expression (qSortByExpression with qExpression.qv) sorts by
	 * a hidden measure, before its own criteria */
	int hidden = 0, expr_col[64];
	json_array_foreach (dims, i, d) {
		json_t *crit = json_array_get(
		    json_object_get(json_object_get(d, "qDef"), "qSortCriterias"), 0);
		int dir = qix_sort_dir(crit, "qSortByExpression");
		const char *x =
		    json_string_value(json_object_get(json_object_get(crit, "qExpression"), "qv"));
		expr_col[i] = -1;
		if (dir && x && *qix_strip_eq(x) && sp->n_user + hidden < 64) {
			sp->measures[sp->n_user + hidden] = qix_strip_eq(x);
			expr_col[i] = n + hidden;
			sp->sort[n + hidden] = (struct cube_col_sort){SORT_NUM, dir};
			hidden++;
		}
	}
	sp->def.n_measures = sp->n_user + hidden;
	json_t *ico = json_object_get(hc, "qInterColumnSortOrder");
	bool ok = (int)json_array_size(ico) == n;
	for (int k = 0; k < n; k++) {
		json_t *v = json_array_get(ico, (size_t)k);
		sp->user_order[k] = ok && json_is_integer(v) ? (int)json_integer_value(v) : k;
		if (sp->user_order[k] < 0 || sp->user_order[k] >= n)
			ok = false, k = -1; /* start over with the default order */
	}
	for (int k = 0, m = 0; k < n; k++) {
		int c = sp->user_order[k];
		if (c < sp->def.n_dims && expr_col[c] >= 0)
			sp->order[m++] = expr_col[c];
		sp->order[m++] = c;
	}
	sp->def.dims = sp->dims;
	sp->def.measures = sp->measures;
	sp->def.sort = sp->sort;
	sp->def.order = sp->order;
	sp->def.suppress_zero = json_is_true(json_object_get(hc, "qSuppressZero"));
	return 0;
}

json_t *qix_cube_state_counts(const struct assoc_states *st, int f, int64_t n)
{
	json_int_t c[5] = {0};
	for (int64_t i = 0; i < n; i++)
		c[st->state[f][i]]++;
	return json_pack("{s:i,s:I,s:I,s:i,s:I,s:I,s:I,s:i}", "qLocked", 0, "qSelected", c[STATE_S],
			 "qOption", c[STATE_O], "qDeselected", 0, "qAlternative", c[STATE_A],
			 "qExcluded", c[STATE_X], "qSelectedExcluded", c[STATE_XS],
			 "qLockedExcluded", 0);
}

/* The kinds of dates a field's number format names: its type, tag, qNumFormat type and
 * default code. */
static const char *const date_kinds[][4] = {
    {"DATE", "$date", "D", "YYYY-MM-DD"},
    {"TIMESTAMP", "$timestamp", "TS", "YYYY-MM-DD hh:mm:ss[.fff]"},
    {"TIME", "$time", "T", "hh:mm:ss"}};

/* The date kind of field fd (an index of date_kinds), or -1. */
static int date_kind(const struct assoc_field *fd)
{
	for (size_t k = 0; k < sizeof(date_kinds) / sizeof(date_kinds[0]); k++)
		if (fd->n_sym && fd->numeric && fd->number_type &&
		    strcmp(fd->number_type, date_kinds[k][0]) == 0)
			return (int)k;
	return -1;
}

json_t *qix_field_tags(const struct assoc_field *fd)
{
	bool numeric = fd->n_sym > 0 && fd->numeric;
	json_t *tags = json_array();
	json_array_append_new(tags, json_string(numeric ? "$numeric" : "$text"));
	if (numeric && fd->integer)
		json_array_append_new(tags, json_string("$integer"));
	if (!numeric)
		json_array_append_new(tags, json_string("$ascii"));
	if (fd->n_tables > 1)
		json_array_append_new(tags, json_string("$key"));
	/* a date, time or timestamp field (a QVD's NumberFormat) says so, as Qlik does: a
	 * chart draws it on a time axis */
	int k = date_kind(fd);
	if (k >= 0)
		json_array_append_new(tags, json_string(date_kinds[k][1]));
	/* and the script's own (TAG FIELD) and a QVD's */
	for (const char *p = fd->tags; p && *p;) {
		size_t n = strcspn(p, "\n");
		json_array_append_new(tags, json_stringn(p, n));
		p += n + (p[n] == '\n');
	}
	return tags;
}

json_t *qix_cube_dim_info(const struct assoc *a, const struct assoc_states *st, int f,
			  const char *label, json_t *qdef, const char *sort_ind)
{
	const struct assoc_field *fd = &a->fields[f];
	bool numeric = fd->n_sym > 0 && fd->numeric;
	double mn = INFINITY, mx = -INFINITY;
	size_t glyphs = 1;
	/* a dense field's values are whole numbers in order: its ends say it all */
	for (int64_t i = 0; i < fd->n_sym; i += fd->sym || i + 1 == fd->n_sym ? 1 : fd->n_sym - 1) {
		const struct val sv = model_sym(fd, i), *v = &sv;
		if (v->has_num) {
			mn = fmin(mn, v->num);
			mx = fmax(mx, v->num);
		}
		char b[64];
		size_t gl = strlen(data_val_text(v, b, sizeof(b)));
		glyphs = gl > glyphs ? gl : glyphs;
	}
	json_t *tags = qix_field_tags(fd);
	int dk = date_kind(fd);
	const char *const *kind = dk >= 0 ? date_kinds[dk] : NULL;
	json_t *di = json_pack(
	    "{s:s,s:I,s:I,s:s,s:[s],s:i,s:o,s:o,s:s,s:s,s:{s:s,s:i,s:i},s:b,s:[s],s:[],s:[],"
	    "s:{s:I,s:I,s:i}}",
	    "qFallbackTitle", label, "qApprMaxGlyphCount", (json_int_t)glyphs, "qCardinal",
	    (json_int_t)fd->n_sym, "qSortIndicator", sort_ind, "qGroupFallbackTitles", label,
	    "qGroupPos", 0, "qStateCounts", qix_cube_state_counts(st, f, fd->n_sym), "qTags", tags,
	    "qDimensionType", numeric ? "N" : "D", "qGrouping", "N", "qNumFormat", "qType", "U",
	    "qnDec", 0, "qUseThou", 0, "qIsAutoFormat", 1, "qGroupFieldDefs", fd->name,
	    "qAttrExprInfo", "qAttrDimInfo", "qCardinalities", "qCardinal", (json_int_t)fd->n_sym,
	    "qHypercubeCardinal", (json_int_t)fd->n_sym, "qAllValuesCardinal", -1);
	if (kind)
		json_object_set_new(
		    di, "qNumFormat",
		    json_pack("{s:s,s:i,s:i,s:s}", "qType", kind[2], "qnDec", 0, "qUseThou", 0,
			      "qFmt",
			      fd->number_fmt && *fd->number_fmt ? fd->number_fmt : kind[3]));
	json_object_set_new(di, "qMin", numeric && fd->n_sym ? json_real(mn) : json_string("NaN"));
	json_object_set_new(di, "qMax", numeric && fd->n_sym ? json_real(mx) : json_string("NaN"));
	qix_copy_custom(di, qdef);
	return di;
}

/* A measure's cell: its qText as the measure's number format says, when it has one. */
void qix_cube_set_measure(json_t *cell, const struct val *v, const struct cube_spec *sp, int m)
{
	qix_obj_set_value(cell, v);
	char text[256];
	char type = sp->mes_text[m].type;
	const char *fmt = sp->mes_text[m].fmt;
	if (!type || v->null || !v->has_num)
		return;
	if (type == 'D' ? data_date_format(v->num, fmt, text, sizeof(text)) == 0
			: data_num_format(v->num, fmt, sp->mes_text[m].dec, sp->mes_text[m].thou,
					  text, sizeof(text)) == 0)
		json_object_set_new(cell, "qText", json_string(text));
}

/* Cell (r, col) of the cube as an NxCell: a dimension's value, or a measure's with its
 * qText by its number format; its qElemNumber and qState. */
static json_t *cell_json(const struct cube *c, const struct cube_spec *sp, int64_t r, int col)
{
	const struct cube_cell *cell = &c->cells[r * c->n_cols + col];
	json_t *jc = json_object();
	if (col >= sp->def.n_dims)
		qix_cube_set_measure(jc, &cell->v, sp, col - sp->def.n_dims);
	else
		qix_obj_set_value(jc, &cell->v);
	json_object_set_new(jc, "qElemNumber", json_integer(cell->elem));
	json_object_set_new(jc, "qState", json_string(cell->state));
	return jc;
}

static json_t *cube_page(const struct cube *c, const struct cube_spec *sp, json_t *pg)
{
	int n_dims = sp->def.n_dims, width = sp->width;
	json_int_t left = json_integer_value(json_object_get(pg, "qLeft")),
		   top = json_integer_value(json_object_get(pg, "qTop")),
		   w = json_integer_value(json_object_get(pg, "qWidth")),
		   h = json_integer_value(json_object_get(pg, "qHeight"));
	if (left < 0 || top < 0 || w < 0 || h < 0)
		left = top = w = h = 0;
	if (left > width)
		left = width;
	if (top > c->n_rows)
		top = c->n_rows;
	if (w > width - left)
		w = width - left;
	if (h > c->n_rows - top)
		h = c->n_rows - top;
	json_t *matrix = json_array(), *tails = json_array();
	for (json_int_t r = top; r < top + h; r++) {
		json_t *row = json_array();
		for (json_int_t col = left; col < left + w; col++)
			json_array_append_new(row, cell_json(c, sp, r, (int)col));
		json_array_append_new(matrix, row);
	}
	for (int d = 0; d < n_dims; d++)
		json_array_append_new(tails, json_pack("{s:i,s:i}", "qUp", 0, "qDown", 0));
	return json_pack("{s:o,s:o,s:{s:I,s:I,s:I,s:I}}", "qMatrix", matrix, "qTails", tails,
			 "qArea", "qLeft", left, "qTop", top, "qWidth", w, "qHeight", h);
}

json_int_t qix_cube_cells(json_t *req)
{
	json_int_t cells = 0;
	size_t i;
	json_t *pg;
	json_array_foreach (req, i, pg)
		cells += json_integer_value(json_object_get(pg, "qWidth")) *
			 json_integer_value(json_object_get(pg, "qHeight"));
	return cells;
}

/* Pages asked for, clipped, with at most QIX_MAX_CELLS cells in all. */
static int pages(json_t *req, const struct cube *c, const struct cube_spec *sp, json_t **out,
		 const char **msg)
{
	size_t i;
	json_t *pg;
	if (qix_cube_cells(req) > QIX_MAX_CELLS && out) {
		*msg = "more than 10000 cells asked for in one call";
		return 7009;
	}
	*out = json_array();
	json_array_foreach (req, i, pg)
		json_array_append_new(*out, cube_page(c, sp, pg));
	return 0;
}

int qix_cube_compute(struct qix_session *s, json_t *hc, struct cube_spec *sp, struct cube **out,
		     const char **why)
{
	*out = NULL;
	if (!s->data || !s->data->a) {
		*why = "the app has no data";
		return QIX_APP_INVALID;
	}
	int rc = qix_cube_spec_read(s->data->a, hc, sp, why);
	if (rc)
		return rc;
	struct err e;
	err_init(&e);
	if (qix_obj_cube(s, &sp->def, out, &e) != 0) {
		log_debug("engine: hypercube: %s", e.message);
		*why = "the hypercube could not be computed (see the engine log)";
		return QIX_INVALID_PARAMETER;
	}
	return 0;
}

/* ---- mode K: stacked pages (NxStackPage) */

/* The tree of a stacked page: a root (qType R) over the values of the first dimension
 * (N), each over the values of the next dimension, down to the measures' values (V). A
 * value's qMaxPos and qMinNeg are the sums of the positive and negative measure values
 * below it. Cells are counted against *budget; at 0 no more are made. */
struct stack {
	const struct cube *c;
	const struct cube_spec *sp;
	int64_t **slot; /* per dimension: symbol -> node index in the current group, or -1 */
	json_int_t budget;
};

/* A node's fields as NxStackedPivotCell names them, from a cell's value. */
static json_t *stack_node(json_t *cell, const char *type, json_int_t elem, int64_t row)
{
	json_t *num = json_object_get(cell, "qNum");
	json_t *n = json_pack("{s:O,s:I,s:O,s:s,s:f,s:f,s:i,s:i,s:I,s:[],s:{s:[]}}", "qText",
			      json_object_get(cell, "qText"), "qElemNo", elem, "qValue",
			      num ? num : json_string("NaN"), "qType", type, "qMaxPos", 0.0,
			      "qMinNeg", 0.0, "qUp", 0, "qDown", 0, "qRow", (json_int_t)row,
			      "qSubNodes", "qAttrExps", "qValues");
	json_decref(cell);
	return n;
}

static void stack_add(json_t *node, double pos, double neg)
{
	json_object_set_new(node, "qMaxPos",
			    json_real(json_number_value(json_object_get(node, "qMaxPos")) + pos));
	json_object_set_new(node, "qMinNeg",
			    json_real(json_number_value(json_object_get(node, "qMinNeg")) + neg));
}

/* The measures of cube row r under `parent`; adds their sums to it. */
static void stack_leaves(struct stack *k, json_t *parent, int64_t r, double *pos, double *neg)
{
	const struct cube_spec *sp = k->sp;
	for (int m = 0; m < sp->n_user && k->budget > 0; m++, k->budget--) {
		const struct val *v = &k->c->cells[r * k->c->n_cols + sp->def.n_dims + m].v;
		json_t *cell = json_object();
		qix_cube_set_measure(cell, v, sp, m);
		json_t *leaf = stack_node(cell, "V", 0, r);
		double x = !v->null && v->has_num && isfinite(v->num) ? v->num : 0;
		stack_add(leaf, x > 0 ? x : 0, x < 0 ? x : 0);
		*pos += x > 0 ? x : 0;
		*neg += x < 0 ? x : 0;
		json_array_append_new(json_object_get(parent, "qSubNodes"), leaf);
	}
}

/* The nodes of dimension d for rows[0..n) (in cube order) under `parent`, in the order
 * their values first appear; returns how many were made. */
static int64_t stack_level(struct stack *k, json_t *parent, int d, const int64_t *rows, int64_t n,
			   int64_t skip, int64_t take, double *pos, double *neg)
{
	const struct cube *c = k->c;
	if (d == k->sp->def.n_dims) {
		for (int64_t i = 0; i < n; i++)
			stack_leaves(k, parent, rows[i], pos, neg);
		return 0;
	}
	int64_t n_sym = k->sp->n_sym[d], *slot = k->slot[d], groups = 0;
	int64_t *first = malloc(sizeof(int64_t) * (size_t)(n + 1));
	int64_t *next = malloc(sizeof(int64_t) * (size_t)(n + 1));
	int64_t *last = malloc(sizeof(int64_t) * (size_t)(n + 1));
	if (!first || !next || !last)
		n = 0;
	for (int64_t i = 0; i < n; i++) { /* rows of a value chained in order */
		int64_t e = c->cells[rows[i] * c->n_cols + d].elem;
		int64_t x = e >= 0 && e < n_sym ? e : n_sym;
		next[i] = -1;
		if (slot[x] < 0) {
			slot[x] = groups;
			first[groups] = last[groups] = i;
			groups++;
		} else {
			next[last[slot[x]]] = i;
			last[slot[x]] = i;
		}
	}
	int64_t *sub = malloc(sizeof(int64_t) * (size_t)(n + 1)), made = 0;
	for (int64_t g = skip; sub && g < groups && g < skip + take && k->budget > 0; g++) {
		int64_t m = 0, r0 = rows[first[g]];
		for (int64_t i = first[g]; i >= 0; i = next[i])
			sub[m++] = rows[i];
		json_t *cell = json_object();
		const struct cube_cell *dc = &c->cells[r0 * c->n_cols + d];
		qix_obj_set_value(cell, &dc->v);
		json_t *node = stack_node(cell, "N", dc->elem, r0);
		k->budget--;
		made++;
		double p = 0, q = 0;
		json_array_append_new(json_object_get(parent, "qSubNodes"), node);
		stack_level(k, node, d + 1, sub, m, 0, m, &p, &q);
		stack_add(node, p, q);
		*pos += p;
		*neg += q;
	}
	for (int64_t i = 0; i < n; i++) { /* leave the slots clean for the next group */
		int64_t e = c->cells[rows[i] * c->n_cols + d].elem;
		slot[e >= 0 && e < n_sym ? e : n_sym] = -1;
	}
	if (d == 0) { /* how many values of the first dimension lie before and after the page */
		int64_t up = skip < groups ? skip : groups;
		json_object_set_new(parent, "qUp", json_integer(up));
		json_object_set_new(parent, "qDown", json_integer(groups - up - made));
	}
	free(sub);
	free(first);
	free(next);
	free(last);
	return made;
}

/* One NxStackPage: the values of the first dimension from qTop, qHeight of them (all, for
 * an empty page, as the engine answers the initial fetch of a stacked chart). */
static json_t *stack_page(struct stack *k, json_t *pg)
{
	const struct cube *c = k->c;
	json_int_t top = json_integer_value(json_object_get(pg, "qTop")),
		   left = json_integer_value(json_object_get(pg, "qLeft")),
		   w = json_integer_value(json_object_get(pg, "qWidth")),
		   h = json_integer_value(json_object_get(pg, "qHeight"));
	bool all = w == 0 && h == 0;
	top = top < 0 ? 0 : top;
	json_t *root = stack_node(json_pack("{s:s,s:s}", "qText", "", "qNum", "NaN"), "R", -1, 0);
	int64_t *rows = malloc(sizeof(int64_t) * (size_t)(c->n_rows + 1)), made = 0;
	for (int64_t r = 0; rows && r < c->n_rows; r++)
		rows[r] = r;
	double pos = 0, neg = 0;
	if (rows && k->sp->def.n_dims > 0)
		made =
		    stack_level(k, root, 0, rows, c->n_rows, top, all ? INT64_MAX : h, &pos, &neg);
	stack_add(root, pos, neg);
	free(rows);
	json_int_t width = k->sp->width;
	return json_pack("{s:[o],s:{s:I,s:I,s:I,s:I}}", "qData", root, "qArea", "qLeft",
			 all ? 0 : left, "qTop", all ? 0 : top, "qWidth", all ? 0 : width,
			 "qHeight", all ? 0 : (json_int_t)made);
}

/* The stacked pages `req` asks for, with at most max_cells cells in all. */
static json_t *stack_pages(json_t *req, const struct cube *c, const struct cube_spec *sp,
			   json_int_t max_cells)
{
	struct stack k = {c, sp, calloc((size_t)sp->def.n_dims + 1, sizeof(int64_t *)), max_cells};
	json_t *out = json_array();
	for (int d = 0; k.slot && d < sp->def.n_dims; d++) {
		k.slot[d] = malloc(sizeof(int64_t) * (size_t)(sp->n_sym[d] + 1));
		for (int64_t i = 0; k.slot[d] && i <= sp->n_sym[d]; i++)
			k.slot[d][i] = -1;
		if (!k.slot[d])
			k.budget = 0;
	}
	size_t i;
	json_t *pg;
	json_array_foreach (req, i, pg)
		json_array_append_new(out, stack_page(&k, pg));
	for (int d = 0; k.slot && d < sp->def.n_dims; d++)
		free(k.slot[d]);
	free(k.slot);
	return out;
}

static bool stacked(json_t *hc)
{
	const char *mode = json_string_value(json_object_get(hc, "qMode"));
	return mode && strcmp(mode, "K") == 0;
}

int qix_cube_data(struct qix_session *s, json_t *def, json_t *req, bool stack, json_int_t max_cells,
		  json_t **out, const char **msg)
{
	struct cube_spec *sp = calloc(1, sizeof(*sp));
	struct cube *c = NULL;
	int rc = sp ? qix_cube_compute(s, def, sp, &c, msg) : QIX_INTERNAL;
	json_t *dp = NULL;
	if (rc == 0 && stack)
		dp = stack_pages(req, c, sp, max_cells);
	else if (rc == 0)
		rc = pages(req, c, sp, &dp, msg);
	if (rc == 0)
		*out = json_pack("{s:o}", "qDataPages", dp);
	model_cube_free(c);
	free(sp);
	return rc;
}

/* ---- layouts */

static const char *sort_indicator(const struct cube_col_sort *cs)
{
	return cs->by == SORT_NONE ? "N" : cs->dir > 0 ? "A" : "D";
}

/* The dimensions' qDimensionInfo, each with how many of its values the cube has. */
static json_t *dims_info(struct qix_session *s, const struct assoc_states *st,
			 const struct cube_spec *sp, const struct cube *c)
{
	json_t *dinfo = json_array();
	for (int d = 0; d < sp->def.n_dims; d++) {
		json_t *di = qix_cube_dim_info(s->data->a, st, sp->dim_field[d], sp->dim_label[d],
					       sp->dim_def[d], sort_indicator(&sp->sort[d]));
		uint8_t *seen = calloc((size_t)sp->n_sym[d] + 1, 1);
		json_int_t n = 0;
		for (int64_t r = 0; seen && r < c->n_rows; r++) {
			int64_t e = c->cells[r * c->n_cols + d].elem;
			int64_t x = e >= 0 && e < sp->n_sym[d] ? e : sp->n_sym[d];
			n += !seen[x];
			seen[x] = 1;
		}
		free(seen);
		json_object_set_new(json_object_get(di, "qCardinalities"), "qHypercubeCardinal",
				    json_integer(n));
		json_array_append_new(dinfo, di);
	}
	return dinfo;
}

static json_t *measures_info(const struct cube_spec *sp, const struct cube *c)
{
	json_t *minfo = json_array();
	for (int m = 0; m < sp->n_user; m++) {
		double mn = INFINITY, mx = -INFINITY;
		for (int64_t r = 0; r < c->n_rows; r++) {
			const struct val *v = &c->cells[r * c->n_cols + sp->def.n_dims + m].v;
			if (!v->null && v->has_num) {
				mn = fmin(mn, v->num);
				mx = fmax(mx, v->num);
			}
		}
		json_t *mi = json_pack(
		    "{s:s,s:i,s:i,s:s,s:{s:s,s:i,s:i},s:b,s:[],s:[]}", "qFallbackTitle",
		    sp->mes_label[m], "qApprMaxGlyphCount", 10, "qCardinal", 0, "qSortIndicator",
		    sort_indicator(&sp->sort[sp->def.n_dims + m]), "qNumFormat", "qType", "U",
		    "qnDec", 0, "qUseThou", 0, "qIsAutoFormat", 1, "qAttrExprInfo", "qAttrDimInfo");
		json_object_set_new(mi, "qMin", isfinite(mn) ? json_real(mn) : json_string("NaN"));
		json_object_set_new(mi, "qMax", isfinite(mx) ? json_real(mx) : json_string("NaN"));
		if (sp->mes_nf[m]) {
			json_object_set_new(mi, "qNumFormat", json_deep_copy(sp->mes_nf[m]));
			json_object_set_new(mi, "qIsAutoFormat", json_false());
		}
		qix_copy_custom(mi, sp->mes_def[m]);
		json_array_append_new(minfo, mi);
	}
	return minfo;
}

/* The grand total: the measures over every possible row (a cube without dimensions is its
 * own total). */
static json_t *grand_total(struct qix_session *s, const struct cube_spec *sp, const struct cube *c)
{
	json_t *total = json_array();
	if (!sp->n_user)
		return total;
	struct cube_def td = {.measures = sp->def.measures, .n_measures = sp->n_user};
	struct cube *tc = NULL;
	struct err e;
	err_init(&e);
	const struct cube *t = sp->def.n_dims == 0 && c->n_rows == 1 ? c : NULL;
	if (!t && qix_obj_cube(s, &td, &tc, &e) == 0)
		t = tc;
	for (int m = 0; t && t->n_rows == 1 && m < sp->n_user; m++) {
		json_t *cell =
		    json_pack("{s:i,s:s,s:b}", "qElemNumber", -1, "qState", "X", "qIsTotalCell", 1);
		qix_cube_set_measure(cell, &t->cells[m].v, sp, m);
		json_array_append_new(total, cell);
	}
	model_cube_free(tc);
	return total;
}

json_t *qix_cube_layout(struct qix_session *s, json_t *hc)
{
	struct cube_spec *sp = calloc(1, sizeof(*sp));
	struct cube *c = NULL;
	const char *why = "out of memory";
	const struct assoc_states *st = NULL;
	struct err e;
	err_init(&e);
	int rc = sp ? qix_cube_compute(s, hc, sp, &c, &why) : QIX_INTERNAL;
	if (rc == 0 && qix_sess_states(s, &st, &e) != 0)
		rc = QIX_INTERNAL, why = "the selection states could not be computed";
	json_t *l = json_object();
	qix_copy_custom(l, hc);
	if (rc) {
		json_object_set_new(l, "qError",
				    json_pack("{s:i,s:s}", "qErrorCode", rc, "qContext", why));
		json_object_set_new(l, "qSize", json_pack("{s:i,s:i}", "qcx", 0, "qcy", 0));
		json_object_set_new(l, "qDimensionInfo", json_array());
		json_object_set_new(l, "qMeasureInfo", json_array());
		json_object_set_new(l, "qDataPages", json_array());
		json_object_set_new(l, "qStackedDataPages", json_array());
		model_cube_free(c);
		free(sp);
		return l;
	}
	json_object_set_new(l, "qSize", json_pack("{s:i,s:I}", "qcx", sp->width, "qcy", c->n_rows));
	json_t *eff = json_array();
	for (int k = 0; k < sp->width; k++)
		json_array_append_new(eff, json_integer(sp->user_order[k]));
	json_object_set_new(l, "qDimensionInfo", dims_info(s, st, sp, c));
	json_object_set_new(l, "qMeasureInfo", measures_info(sp, c));
	json_object_set_new(l, "qEffectiveInterColumnSortOrder", eff);
	json_object_set_new(l, "qGrandTotalRow", grand_total(s, sp, c));
	json_t *fetch = json_object_get(hc, "qInitialDataFetch"), *dp = NULL;
	const char *mode = json_string_value(json_object_get(hc, "qMode"));
	if (mode && strcmp(mode, "P") == 0) {
		json_object_set_new(l, "qDataPages", json_array());
		json_object_set_new(l, "qStackedDataPages", json_array());
		json_object_set_new(l, "qTreeNodesOnDim", json_array());
		json_object_set_new(l, "qColumnOrder", json_array());
		qix_pivot_layout(s, hc, l);
		model_cube_free(c);
		free(sp);
		return l;
	}
	bool k = stacked(hc) && sp->def.n_dims > 0;
	json_int_t max = json_integer_value(json_object_get(hc, "qMaxStackedCells"));
	const char *msg;
	if (k)
		json_object_set_new(l, "qStackedDataPages",
				    stack_pages(fetch, c, sp, max > 0 ? max : 5000));
	else
		json_object_set_new(l, "qStackedDataPages", json_array());
	if (k || pages(fetch, c, sp, &dp, &msg) != 0)
		dp = json_array();
	json_object_set_new(l, "qDataPages", dp);
	json_object_set_new(l, "qPivotDataPages", json_array());
	json_object_set_new(l, "qMode", json_string(k ? "K" : "S"));
	json_object_set_new(l, "qNoOfLeftDims", json_integer(-1));
	json_object_set_new(l, "qTreeNodesOnDim", json_array());
	json_object_set_new(l, "qColumnOrder", json_array());
	model_cube_free(c);
	free(sp);
	return l;
}

/* SelectHyperCubeCells: the values of the given columns in the given rows of the cube as
 * it is now. */
static int select_cells(struct qix_call *c, json_t *def, struct cube_spec *sp)
{
	struct cube *cube = NULL;
	int rc = qix_cube_compute(c->s, def, sp, &cube, &c->msg);
	json_t *rows = qix_param(c->params, 1, "qRowIndices"),
	       *cols = qix_param(c->params, 2, "qColIndices");
	size_t k;
	json_t *col;
	json_array_foreach (cols, k, col) {
		json_int_t d = json_integer_value(col);
		if (rc || d < 0 || d >= sp->def.n_dims)
			continue;
		int64_t *syms = calloc(json_array_size(rows) + 1, sizeof(int64_t));
		int n = 0;
		size_t i;
		json_t *r;
		json_array_foreach (rows, i, r) {
			json_int_t ri = json_integer_value(r);
			if (syms && ri >= 0 && ri < cube->n_rows)
				syms[n++] = cube->cells[ri * cube->n_cols + d].elem;
		}
		rc = syms ? qix_sel_syms(c->s, sp->dim_field[d], syms, n, false) : ERR_NOMEM;
		free(syms);
	}
	model_cube_free(cube);
	return rc;
}

/* SelectHyperCubeValues and SelectHyperCubeCells */
int qix_cube_select(struct qix_call *c)
{
	json_t *def = qix_obj_definition(c);
	const struct assoc *a = c->s->data ? c->s->data->a : NULL;
	struct cube_spec *sp = def && a ? calloc(1, sizeof(*sp)) : NULL;
	if (!sp || qix_cube_spec_read(a, def, sp, &c->msg) != 0) {
		free(sp);
		c->msg = c->msg ? c->msg : "qPath names no definition of the object";
		return QIX_INVALID_PARAMETER;
	}
	int rc;
	if (strcmp(c->method, "SelectHyperCubeValues") == 0) {
		json_int_t dim = json_integer_value(qix_param(c->params, 1, "qDimNo"));
		int n;
		int64_t *syms = qix_elem_list(qix_param(c->params, 2, "qValues"), &n);
		if (dim < 0 || dim >= sp->def.n_dims || !syms)
			rc = QIX_INVALID_PARAMETER, c->msg = "qDimNo names no dimension";
		else
			rc = qix_sel_syms(c->s, sp->dim_field[dim], syms, n,
					  json_is_true(qix_param(c->params, 3, "qToggleMode")));
		free(syms);
	} else {
		rc = select_cells(c, def, sp);
	}
	free(sp);
	if (rc == QIX_INVALID_PARAMETER)
		return rc;
	c->out = json_pack("{s:b}", "qSuccess", rc == 0);
	return 0;
}

/* ---- range selections */

/* A Range: {qMin, qMax, qMinInclEq, qMaxInclEq}, bounds in either order. */
struct num_range {
	double lo, hi;
	bool lo_eq, hi_eq;
};

static bool range_read(json_t *r, struct num_range *out)
{
	json_t *mn = json_object_get(r, "qMin"), *mx = json_object_get(r, "qMax");
	if (!json_is_number(mn) || !json_is_number(mx))
		return false;
	struct num_range a = {json_number_value(mn), json_number_value(mx),
			      json_is_true(json_object_get(r, "qMinInclEq")),
			      json_is_true(json_object_get(r, "qMaxInclEq"))};
	if (a.lo > a.hi)
		a = (struct num_range){a.hi, a.lo, a.hi_eq, a.lo_eq};
	*out = a;
	return true;
}

static bool in_range(const struct num_range *r, const struct val *v)
{
	return !v->null && v->has_num && (v->num > r->lo || (r->lo_eq && v->num == r->lo)) &&
	       (v->num < r->hi || (r->hi_eq && v->num == r->hi));
}

/* Whether row r of the cube has its measures in the ranges (NxRangeSelectInfo: qRange and
 * qMeasureIx): in all of them, or in any with or_mode. */
static bool row_in_ranges(const struct cube *cube, const struct cube_spec *sp, int64_t r,
			  json_t *ranges, bool or_mode)
{
	bool all = true, any = false;
	size_t i;
	json_t *ri;
	json_array_foreach (ranges, i, ri) {
		struct num_range nr;
		json_int_t m = json_integer_value(json_object_get(ri, "qMeasureIx"));
		bool in = range_read(json_object_get(ri, "qRange"), &nr) && m >= 0 &&
			  m < sp->n_user &&
			  in_range(&nr, &cube->cells[r * cube->n_cols + sp->def.n_dims + m].v);
		all = all && in;
		any = any || in;
	}
	return json_array_size(ranges) && (or_mode ? any : all);
}

/* Selects, in the dimensions `cols` names (all when it names none), the values of the
 * cube's rows whose measures lie in `ranges`; *hit: whether any row did. */
static int select_in_ranges(struct qix_session *s, const struct cube_spec *sp,
			    const struct cube *cube, json_t *ranges, json_t *cols, bool or_mode,
			    bool *hit)
{
	int64_t *rows = calloc((size_t)cube->n_rows + 1, sizeof(int64_t)), n = 0;
	int64_t *syms = calloc((size_t)cube->n_rows + 1, sizeof(int64_t));
	int rc = rows && syms ? 0 : ERR_NOMEM;
	for (int64_t r = 0; rc == 0 && r < cube->n_rows; r++)
		if (row_in_ranges(cube, sp, r, ranges, or_mode))
			rows[n++] = r;
	*hit = n > 0;
	for (int d = 0; rc == 0 && n && d < sp->def.n_dims; d++) {
		bool take = json_array_size(cols) == 0;
		size_t i;
		json_t *ci;
		json_array_foreach (cols, i, ci)
			take = take || json_integer_value(ci) == d;
		for (int64_t k = 0; take && k < n; k++)
			syms[k] = cube->cells[rows[k] * cube->n_cols + d].elem;
		if (take)
			rc = qix_sel_syms(s, sp->dim_field[d], syms, (int)n, false);
	}
	free(rows);
	free(syms);
	return rc == QIX_SEL_LOCKED ? 0 : rc;
}

/* RangeSelectHyperCubeValues (qRanges, qColumnsToSelect, qOrMode) and
 * MultiRangeSelectHyperCubeValues (qRanges: a list of {qRanges, qColumnsToSelect}). */
int qix_cube_range_select(struct qix_call *c)
{
	json_t *def = qix_obj_definition(c);
	const struct assoc *a = c->s->data ? c->s->data->a : NULL;
	struct cube_spec *sp = def && a ? calloc(1, sizeof(*sp)) : NULL;
	struct cube *cube = NULL;
	int rc = sp ? qix_cube_compute(c->s, def, sp, &cube, &c->msg) : QIX_INVALID_PARAMETER;
	if (rc) {
		free(sp);
		c->msg = c->msg ? c->msg : "qPath names no definition of the object";
		return rc == QIX_APP_INVALID ? rc : QIX_INVALID_PARAMETER;
	}
	bool multi = strncmp(c->method, "Multi", 5) == 0, hit = false;
	json_t *ranges = qix_param(c->params, 1, "qRanges");
	bool or_mode = json_is_true(qix_param(c->params, multi ? 2 : 3, "qOrMode"));
	size_t i;
	json_t *entry;
	if (!multi)
		rc = select_in_ranges(c->s, sp, cube, ranges,
				      qix_param(c->params, 2, "qColumnsToSelect"), or_mode, &hit);
	json_array_foreach (multi ? ranges : NULL, i, entry) {
		bool h = false;
		if (rc == 0)
			rc = select_in_ranges(c->s, sp, cube, json_object_get(entry, "qRanges"),
					      json_object_get(entry, "qColumnsToSelect"), or_mode,
					      &h);
		hit = hit || h;
	}
	model_cube_free(cube);
	free(sp);
	c->out = json_pack("{s:b}", "qSuccess", rc == 0 && hit);
	return 0;
}

/* Selects the possible values of field f whose numbers lie in any of `ranges` (a list of
 * Range, or of {qRange, qDimIx} when dim >= 0: those for dimension dim). */
static int select_continuous(struct qix_session *s, int f, json_t *ranges, int dim, bool *hit)
{
	const struct assoc_states *st;
	struct err e;
	err_init(&e);
	if (qix_sess_states(s, &st, &e) != 0)
		return e.code;
	const struct assoc *a = s->data->a;
	int64_t ns = a->fields[f].n_sym, n = 0;
	int64_t *syms = calloc((size_t)ns + 1, sizeof(int64_t));
	if (!syms)
		return ERR_NOMEM;
	for (int64_t v = 0; v < ns; v++) {
		if (st->state[f][v] != STATE_O && st->state[f][v] != STATE_S)
			continue;
		size_t i;
		json_t *ri;
		bool in = false;
		const struct val sv = model_sym(&a->fields[f], v);
		json_array_foreach (ranges, i, ri) {
			struct num_range nr;
			json_t *r = dim >= 0 ? json_object_get(ri, "qRange") : ri;
			in = in || ((dim < 0 ||
				     json_integer_value(json_object_get(ri, "qDimIx")) == dim) &&
				    range_read(r, &nr) && in_range(&nr, &sv));
		}
		if (in)
			syms[n++] = v;
	}
	*hit = n > 0;
	int rc = n ? qix_sel_syms(s, f, syms, (int)n, false) : 0;
	free(syms);
	return rc == QIX_SEL_LOCKED ? 0 : rc;
}

/* SelectHyperCubeContinuousRange (qRanges: {qRange, qDimIx}) and
 * SelectListObjectContinuousRange (qRanges: Range): the values of a numeric (or date) axis
 * between two bounds. */
int qix_cube_continuous_range(struct qix_call *c)
{
	json_t *def = qix_obj_definition(c);
	const struct assoc *a = c->s->data ? c->s->data->a : NULL;
	if (!def || !a) {
		c->msg = "qPath names no definition of the object";
		return QIX_INVALID_PARAMETER;
	}
	json_t *ranges = qix_param(c->params, 1, "qRanges");
	bool hit = false;
	int rc = 0;
	if (strstr(c->method, "ListObject")) {
		int f = qix_obj_def_field(a, def);
		if (f < 0) {
			c->msg = "the list object names no field of the app";
			return QIX_INVALID_PARAMETER;
		}
		rc = select_continuous(c->s, f, ranges, -1, &hit);
	} else {
		json_t *dims = json_object_get(def, "qDimensions");
		size_t d;
		json_t *dd;
		json_array_foreach (dims, d, dd) {
			int f = qix_obj_def_field(a, dd);
			bool h = false;
			if (rc == 0 && f >= 0)
				rc = select_continuous(c->s, f, ranges, (int)d, &h);
			hit = hit || h;
		}
	}
	c->out = json_pack("{s:b}", "qSuccess", rc == 0 && hit);
	return 0;
}

/* ---- GetHyperCubeBinnedData: the points of a scatter plot, or their density in a grid */

/* The data range asked for (the first NxDataAreaPage, in the measures' units: x from qLeft
 * over qWidth, y from qTop down over qHeight), else the measures' own extent. */
struct bin_range {
	double x0, x1, y0, y1;
};

static double num_of(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_number(v) ? json_number_value(v) : NAN;
}

static bool point_of(const struct cube *c, const struct cube_spec *sp, int64_t r, double *x,
		     double *y)
{
	const struct val *vx = &c->cells[r * c->n_cols + sp->def.n_dims].v;
	const struct val *vy = &c->cells[r * c->n_cols + sp->def.n_dims + 1].v;
	if (vx->null || vy->null || !vx->has_num || !vy->has_num || !isfinite(vx->num) ||
	    !isfinite(vy->num))
		return false;
	*x = vx->num;
	*y = vy->num;
	return true;
}

static void bin_range_read(json_t *ranges, const struct cube *c, const struct cube_spec *sp,
			   struct bin_range *br)
{
	json_t *r0 = json_array_get(ranges, 0);
	double l = num_of(r0, "qLeft"), t = num_of(r0, "qTop"), w = num_of(r0, "qWidth"),
	       h = num_of(r0, "qHeight");
	if (isfinite(l) && isfinite(t) && isfinite(w) && isfinite(h)) {
		br->x0 = fmin(l, l + w);
		br->x1 = fmax(l, l + w);
		br->y0 = fmin(t, t - h);
		br->y1 = fmax(t, t - h);
		return;
	}
	br->x0 = br->y0 = INFINITY;
	br->x1 = br->y1 = -INFINITY;
	for (int64_t r = 0; r < c->n_rows; r++) {
		double x, y;
		if (point_of(c, sp, r, &x, &y)) {
			br->x0 = fmin(br->x0, x), br->x1 = fmax(br->x1, x);
			br->y0 = fmin(br->y0, y), br->y1 = fmax(br->y1, y);
		}
	}
}

static bool in_bin_range(const struct bin_range *br, double x, double y)
{
	return x >= br->x0 && x <= br->x1 && y >= br->y0 && y <= br->y1;
}

/* The points in the range as a data page of whole rows. */
static json_t *points_page(const struct cube *c, const struct cube_spec *sp,
			   const struct bin_range *br)
{
	json_t *matrix = json_array();
	for (int64_t r = 0; r < c->n_rows; r++) {
		double x, y;
		if (!point_of(c, sp, r, &x, &y) || !in_bin_range(br, x, y))
			continue;
		json_t *row = json_array();
		for (int col = 0; col < sp->width; col++)
			json_array_append_new(row, cell_json(c, sp, r, col));
		json_array_append_new(matrix, row);
	}
	return json_pack("{s:o,s:[],s:{s:i,s:i,s:i,s:I}}", "qMatrix", matrix, "qTails", "qArea",
			 "qLeft", 0, "qTop", 0, "qWidth", sp->width, "qHeight",
			 (json_int_t)json_array_size(matrix));
}

/* The grid of 2^level cells a side over the range: a first row with the most points a cell
 * holds, then a row per cell that holds any: its corners "[x left, y top, x right, y
 * bottom]" as qText, its points as qNum, its number (row-major from the bottom left) as
 * qElemNumber. */
static json_t *bins_page(const struct cube *c, const struct cube_spec *sp,
			 const struct bin_range *br, int level)
{
	int64_t g = (int64_t)1 << level;
	int64_t *count = calloc((size_t)(g * g), sizeof(int64_t));
	if (!count)
		return NULL;
	double cw = (br->x1 - br->x0) / (double)g, ch = (br->y1 - br->y0) / (double)g;
	for (int64_t r = 0; r < c->n_rows; r++) {
		double x, y;
		if (!point_of(c, sp, r, &x, &y) || !in_bin_range(br, x, y))
			continue;
		int64_t ix = cw > 0 ? (int64_t)((x - br->x0) / cw) : 0,
			iy = ch > 0 ? (int64_t)((y - br->y0) / ch) : 0;
		count[(iy < g ? iy : g - 1) * g + (ix < g ? ix : g - 1)]++;
	}
	int64_t most = 0;
	for (int64_t i = 0; i < g * g; i++)
		most = count[i] > most ? count[i] : most;
	json_t *matrix = json_array();
	json_array_append_new(matrix, json_pack("[{s:s,s:I,s:i,s:s}]", "qText", "", "qNum",
						(json_int_t)most, "qElemNumber", 0, "qState", "L"));
	for (int64_t i = 0; i < g * g; i++) {
		if (!count[i])
			continue;
		double xa = br->x0 + cw * (double)(i % g), yb = br->y0 + ch * (double)(i / g);
		char corners[160];
		snprintf(corners, sizeof(corners), "[%.17g,%.17g,%.17g,%.17g]", xa, yb + ch,
			 xa + cw, yb);
		json_array_append_new(matrix, json_pack("[{s:s,s:I,s:I,s:s}]", "qText", corners,
							"qNum", (json_int_t)count[i], "qElemNumber",
							(json_int_t)i, "qState", "L"));
	}
	free(count);
	return json_pack("{s:o,s:[],s:{s:i,s:i,s:i,s:I}}", "qMatrix", matrix, "qTails", "qArea",
			 "qLeft", 0, "qTop", 0, "qWidth", 1, "qHeight",
			 (json_int_t)json_array_size(matrix));
}

int qix_cube_binned(struct qix_call *c)
{
	json_t *def = qix_obj_definition(c);
	if (!def) {
		c->msg = "qPath names no hypercube of the object";
		return QIX_INVALID_PARAMETER;
	}
	json_int_t most = json_integer_value(qix_param(c->params, 4, "qMaxNbrCells"));
	json_int_t level = json_integer_value(qix_param(c->params, 5, "qQueryLevel"));
	json_int_t method = json_integer_value(qix_param(c->params, 6, "qBinningMethod"));
	if (method != 0) {
		c->msg = "only binning method 0 (a grid over the first two measures) is known";
		return QIX_INVALID_PARAMETER;
	}
	struct cube_spec *sp = calloc(1, sizeof(*sp));
	struct cube *cube = NULL;
	int rc = sp ? qix_cube_compute(c->s, def, sp, &cube, &c->msg) : QIX_INTERNAL;
	if (rc == 0 && sp->n_user < 2) {
		c->msg = "binned data needs a hypercube with two or three measures";
		rc = QIX_INVALID_PARAMETER;
	}
	if (rc == 0) {
		struct bin_range br;
		bin_range_read(qix_param(c->params, 3, "qDataRanges"), cube, sp, &br);
		int64_t n = 0;
		for (int64_t r = 0; r < cube->n_rows; r++) {
			double x, y;
			n += point_of(cube, sp, r, &x, &y) && in_bin_range(&br, x, y);
		}
		/* few enough points: the points themselves, and no grid */
		json_t *grid =
		    n <= most || most <= 0
			? json_pack("{s:[],s:[],s:{s:i,s:i,s:i,s:i}}", "qMatrix", "qTails", "qArea",
				    "qLeft", 0, "qTop", 0, "qWidth", 0, "qHeight", 0)
			: bins_page(cube, sp, &br,
				    level < 1	 ? 1
				    : level > 10 ? 10
						 : (int)level);
		json_t *points =
		    n <= most || most <= 0
			? points_page(cube, sp, &br)
			: json_pack("{s:[],s:[],s:{s:i,s:i,s:i,s:i}}", "qMatrix", "qTails", "qArea",
				    "qLeft", 0, "qTop", 0, "qWidth", 0, "qHeight", 0);
		if (!grid || !points) {
			json_decref(grid);
			json_decref(points);
			c->msg = "out of memory";
			rc = QIX_INTERNAL;
		} else {
			c->out = json_pack("{s:[o,o]}", "qDataPages", grid, points);
		}
	}
	model_cube_free(cube);
	free(sp);
	return rc;
}
