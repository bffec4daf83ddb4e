/* fn_field.c: the field functions of chart expressions, on the states the selection gives
 * a field's values (struct eval's field_view): GetSelectedCount, GetPossibleCount,
 * GetExcludedCount, GetAlternativeCount, GetNotSelectedCount, GetFieldSelections and
 * GetCurrentSelections, as chart titles use them ('Sales in ' & GetFieldSelections(Region)).
 * A field is named bare or as a text. In scripts they are an error (no selection there).
 * Also the inter-record functions Above, Below, Top, Bottom and Column, on the chart's
 * sorted rows (chart_row, chart_column). */
#include "script/eval_int.h"

#include <string.h>

enum { FF_SELECTED, FF_POSSIBLE, FF_EXCLUDED, FF_ALTERNATIVE, FF_NOTSELECTED };

/* The view of the field named by argument 0 (bare or a text); false when there is none. */
static bool field_arg(struct eval *ev, struct expr *x, struct field_view *fv, int *rc)
{
	struct val name;
	*rc = 0;
	if (x->args[0]->kind == EX_FIELD)
		name = script_text(x->args[0]->text);
	else if ((*rc = script_eval(ev, x->args[0], &name)) || name.null)
		return false;
	return ev->field_view && ev->field_view(ev->ctx, 0, script_tx(ev, &name), fv);
}

/* A number argument, evaluated, or `dflt`. */
static double num_arg(struct eval *ev, struct expr *x, int i, double dflt, int *rc)
{
	struct val v;
	double d;
	if (i >= x->n_args || (*rc = script_eval(ev, x->args[i], &v)) != 0)
		return dflt;
	return script_val_number(&v, &d) ? d : dflt;
}

/* GetSelectedCount(field[, include_excluded]) (values selected; with the excluded selected
 * ones too), GetPossibleCount (selected or optional), GetExcludedCount (excluded,
 * alternative, or selected but excluded), GetAlternativeCount, GetNotSelectedCount(field[,
 * include_excluded]) (optional and alternative; with the excluded too). */
static int fn_count(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)v;
	struct field_view fv;
	int rc;
	*out = script_null();
	if (!field_arg(ev, x, &fv, &rc))
		return rc;
	bool more = num_arg(ev, x, 1, 0, &rc) != 0;
	int64_t n = 0;
	for (int64_t i = 0; i < fv.n; i++) {
		int s = fv.state[i];
		switch (x->fn->op) {
		case FF_SELECTED: n += s == FIELD_S || (more && s == FIELD_XS); break;
		case FF_POSSIBLE: n += s == FIELD_S || s == FIELD_O; break;
		case FF_EXCLUDED: n += s == FIELD_X || s == FIELD_A || s == FIELD_XS; break;
		case FF_ALTERNATIVE: n += s == FIELD_A; break;
		default: n += s == FIELD_O || s == FIELD_A || (more && s == FIELD_X);
		}
	}
	*out = script_num((double)n);
	return rc;
}

/* The selected values of a field as Qlik writes them: the texts in load order joined by
 * `sep`, or "n of m" past `max` values; "" when nothing is selected. */
static int selections_text(struct eval *ev, const struct field_view *fv, const char *sep,
			   int64_t max, struct buf *b)
{
	int64_t n = 0;
	for (int64_t i = 0; i < fv->n; i++)
		n += fv->state[i] == FIELD_S || fv->state[i] == FIELD_XS;
	if (n > max)
		return buf_printf(b, "%lld of %lld", (long long)n, (long long)fv->n);
	int64_t k = 0;
	for (int64_t i = 0; i < fv->n; i++) {
		if (fv->state[i] != FIELD_S && fv->state[i] != FIELD_XS)
			continue;
		char nb[64];
		struct val v = field_view_value(fv, i);
		if ((k++ && buf_puts(b, sep)) || buf_puts(b, data_val_text(&v, nb, sizeof(nb))))
			return err_set(ev->e, ERR_TOO_LARGE, "the selections' text is too long");
	}
	return 0;
}

/* A text argument, evaluated, or `dflt`. */
static const char *text_arg(struct eval *ev, struct expr *x, int i, const char *dflt, int *rc)
{
	struct val v;
	if (i >= x->n_args || (*rc = script_eval(ev, x->args[i], &v)) != 0 || v.null)
		return dflt;
	return script_tx(ev, &v);
}

/* GetFieldSelections(field[, value_sep[, max_values]]): the field's selected values (", "
 * between them, at most 6 before "n of m"); NULL when none is selected. */
static int fn_selections(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)v;
	struct field_view fv;
	int rc;
	*out = script_null();
	if (!field_arg(ev, x, &fv, &rc))
		return rc;
	const char *sep = text_arg(ev, x, 1, ", ", &rc);
	int64_t max = (int64_t)num_arg(ev, x, 2, 6, &rc);
	struct buf b;
	buf_init(&b, 1 << 20);
	if (rc == 0 && (rc = selections_text(ev, &fv, sep, max, &b)) == 0 && b.len)
		*out = script_text(arena_strndup(ev->a, b.data, b.len));
	buf_release(&b);
	return rc;
}

/* GetCurrentSelections([record_sep[, tag_sep[, value_sep[, max_values]]]]): every field
 * with a selection, "Field: a, b", one per line (CR LF); NULL when nothing is selected. */
static int fn_current(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)v;
	int rc = 0;
	const char *rsep = text_arg(ev, x, 0, "\r\n", &rc), *tsep = text_arg(ev, x, 1, ": ", &rc),
		   *vsep = text_arg(ev, x, 2, ", ", &rc);
	int64_t max = (int64_t)num_arg(ev, x, 3, 6, &rc);
	struct buf b;
	buf_init(&b, 1 << 20);
	struct field_view fv;
	*out = script_null();
	for (int f = 0; rc == 0 && ev->field_view && ev->field_view(ev->ctx, f, NULL, &fv); f++) {
		bool any = false;
		for (int64_t i = 0; i < fv.n && !any; i++)
			any = fv.state[i] == FIELD_S || fv.state[i] == FIELD_XS;
		if (!any)
			continue;
		if ((b.len && buf_puts(&b, rsep)) || buf_puts(&b, fv.name) || buf_puts(&b, tsep))
			rc = err_set(ev->e, ERR_TOO_LARGE, "the selections' text is too long");
		if (rc == 0)
			rc = selections_text(ev, &fv, vsep, max, &b);
	}
	if (rc == 0 && b.len)
		*out = script_text(arena_strndup(ev->a, b.data, b.len));
	buf_release(&b);
	return rc;
}

/* Above([TOTAL] x [, offset [, count]]), Below(...), Top(...), Bottom(...): x on another
 * row of the chart's column (the chart answers through chart_row); Column(n): the row's
 * measure n. NULL where the chart has no such row, or outside a chart's rows. A count
 * other than 1 (a range of rows) is not there yet. */
enum { OP_COLUMN = 100 };

/* The offset (default 1 above or below, 0 from the top or bottom) and the count (default 1)
 * of an Above, Below, Top or Bottom call. */
static int offset_and_count(struct eval *ev, struct expr *x, int64_t *offset, int64_t *count)
{
	int op = x->fn->op;
	*offset = op == SCRIPT_ROW_ABOVE || op == SCRIPT_ROW_BELOW ? 1 : 0;
	*count = 1;
	for (int i = 1; i < x->n_args; i++) {
		struct val a;
		double d;
		int rc = script_eval(ev, x->args[i], &a);
		if (rc)
			return rc;
		if (!script_val_number(&a, &d) || d < (i == 1 ? 0 : 1) || d > 1e9 ||
		    d != (double)script_whole(d))
			return err_set(ev->e, ERR_INVALID,
				       "line %d, column %d: %s: the %s is a whole number from %d",
				       x->line, x->col, x->fn->name, i == 1 ? "offset" : "count",
				       i == 1 ? 0 : 1);
		*(i == 1 ? offset : count) = script_whole(d);
	}
	return 0;
}

static int fn_interrow(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)v;
	*out = script_null();
	int op = x->fn->op;
	struct val a;
	double d;
	if (op == OP_COLUMN) {
		int rc = script_eval(ev, x->args[0], &a);
		if (rc || !script_val_number(&a, &d) || !ev->chart_column)
			return rc;
		return ev->chart_column(ev->ctx, script_whole(d), out);
	}
	int64_t offset, count;
	int rc = offset_and_count(ev, x, &offset, &count);
	if (rc == 0 && count != 1)
		rc = err_set(
		    ev->e, ERR_INVALID,
		    "line %d, column %d: %s(..., %lld) gives a range of rows: use it inside a "
		    "range function (RangeSum, RangeAvg, ...)",
		    x->line, x->col, x->fn->name, (long long)count);
	if (rc || !ev->chart_row)
		return rc;
	return ev->chart_row(ev->ctx, op, x->total, offset, x->args[0], out);
}

/* GetObjectField([index]) and GetObjectDimension([index]): the chart's dimension at index
 * (from 0; the first without one), as its field. */
static int fn_object_field(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)v;
	*out = script_null();
	double d = 0;
	if (x->n_args) {
		struct val a;
		int rc = script_eval(ev, x->args[0], &a);
		if (rc || !script_val_number(&a, &d))
			return rc;
	}
	const char *name =
	    ev->chart_dimension ? ev->chart_dimension(ev->ctx, script_whole(d)) : NULL;
	if (name)
		*out = script_text(name);
	return 0;
}

bool script_expr_row_range(const struct expr *x)
{
	return x->kind == EX_CALL && x->fn && x->fn->impl == fn_interrow &&
	       x->fn->op != OP_COLUMN && x->n_args == 3;
}

int script_row_range(struct eval *ev, struct expr *x, struct val *out, int max, int *n)
{
	int64_t offset, count;
	int rc = offset_and_count(ev, x, &offset, &count);
	if (rc == 0 && count > max)
		rc = err_set(ev->e, ERR_INVALID,
			     "line %d, column %d: a range of %lld rows: at most %d values go into "
			     "a range function",
			     x->line, x->col, (long long)count, max);
	*n = 0;
	for (int64_t k = 0; rc == 0 && k < count; k++) {
		out[k] = script_null();
		if (ev->chart_row)
			rc = ev->chart_row(ev->ctx, x->fn->op, x->total, offset + k, x->args[0],
					   &out[k]);
		if (rc == 0)
			++*n;
	}
	return rc;
}

#define FIELDFN(name, lo, hi, impl, op)                                                            \
	{                                                                                          \
		name, lo, hi, SCRIPT_FN_CHART, impl, op, true                                      \
	}

const struct script_func script_field_functions[] = {
    FIELDFN("GetSelectedCount", 1, 3, fn_count, FF_SELECTED),
    FIELDFN("GetPossibleCount", 1, 2, fn_count, FF_POSSIBLE),
    FIELDFN("GetExcludedCount", 1, 2, fn_count, FF_EXCLUDED),
    FIELDFN("GetAlternativeCount", 1, 2, fn_count, FF_ALTERNATIVE),
    FIELDFN("GetNotSelectedCount", 1, 3, fn_count, FF_NOTSELECTED),
    FIELDFN("GetFieldSelections", 1, 4, fn_selections, 0),
    FIELDFN("GetCurrentSelections", 0, 5, fn_current, 0),
    FIELDFN("Above", 1, 3, fn_interrow, SCRIPT_ROW_ABOVE),
    FIELDFN("Below", 1, 3, fn_interrow, SCRIPT_ROW_BELOW),
    FIELDFN("Top", 1, 3, fn_interrow, SCRIPT_ROW_TOP),
    FIELDFN("Bottom", 1, 3, fn_interrow, SCRIPT_ROW_BOTTOM),
    FIELDFN("Column", 1, 1, fn_interrow, OP_COLUMN),
    FIELDFN("GetObjectField", 0, 1, fn_object_field, 0),
    FIELDFN("GetObjectDimension", 0, 1, fn_object_field, 0),
};

const size_t script_n_field_functions =
    sizeof(script_field_functions) / sizeof(script_field_functions[0]);

bool script_expr_interrow(const struct expr *x)
{
	if (x->kind == EX_CALL && x->fn && x->fn->impl == fn_interrow)
		return true;
	for (int i = 0; i < x->n_args; i++)
		if (script_expr_interrow(x->args[i]))
			return true;
	return false;
}
