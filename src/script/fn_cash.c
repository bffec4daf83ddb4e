/* fn_cash.c: cash flows. RangeXNPV and RangeXIRR over the pairs of value and date given as
 * arguments; the aggregations NPV and IRR (periodic flows in the rows' order) and XNPV and
 * XIRR (flows with their dates) over the rows of the current group. Text, NULL and missing
 * values are left out (for a pair: the whole pair); dates are read as script_day_serial
 * reads them; dated flows are discounted by a 365-day year from the first flow's date. An
 * internal rate needs a negative and a positive flow, else it is NULL, as is a rate that
 * Newton's method (from 10 %, as Qlik's and Excel's) does not settle. */
#include "script/eval_int.h"

#include <math.h>
#include <stdlib.h>

enum { CF_NPV, CF_IRR, CF_XNPV, CF_XIRR };

/* Flows: values and, for dated ones, days after the first flow. */
struct flows {
	double *v, *t;
	int64_t n, cap;
	bool dated;
};

static int flows_add(struct eval *ev, struct flows *f, double v, double day)
{
	if (f->n == f->cap) {
		int64_t cap = f->cap ? f->cap * 2 : 16;
		double *nv = realloc(f->v, sizeof(double) * (size_t)cap);
		if (nv)
			f->v = nv;
		double *nt = nv ? realloc(f->t, sizeof(double) * (size_t)cap) : NULL;
		if (nt)
			f->t = nt;
		if (!nv || !nt)
			return err_set(ev->e, ERR_NOMEM, "out of memory");
		f->cap = cap;
	}
	f->v[f->n] = v;
	f->t[f->n++] = day;
	return 0;
}

static void flows_free(struct flows *f)
{
	free(f->v);
	free(f->t);
}

/* What the flows are worth at `rate`: periodic ones from period `first`, dated ones by
 * their years after the first. */
static double worth(const struct flows *f, double rate, int first)
{
	double sum = 0;
	for (int64_t i = 0; i < f->n; i++) {
		double years = f->dated ? (f->t[i] - f->t[0]) / 365.0 : (double)(i + first);
		sum += f->v[i] / pow(1 + rate, years);
	}
	return sum;
}

/* The rate at which the flows (the first now) are worth nothing: Newton's method from
 * 10 %, the slope taken numerically; false without both signs or when it does not settle. */
static bool internal_rate(const struct flows *f, double *out)
{
	bool neg = false, pos = false;
	for (int64_t i = 0; i < f->n; i++)
		neg |= f->v[i]<0, pos |= f->v[i]> 0;
	if (!neg || !pos)
		return false;
	double r = 0.1;
	for (int k = 0; k < 100; k++) {
		double w = worth(f, r, 0), h = 1e-7, d = (worth(f, r + h, 0) - w) / h;
		if (d == 0 || !isfinite(w) || !isfinite(d))
			return false;
		double next = r - w / d;
		if (fabs(next - r) < 1e-12) {
			*out = next;
			return true;
		}
		r = next <= -1 ? (r - 1) / 2 : next;
	}
	return false;
}

static struct val answer(int op, const struct flows *f, double rate)
{
	double r;
	switch (op) {
	case CF_NPV: return f->n ? script_num(worth(f, rate, 1)) : script_null();
	case CF_XNPV: return f->n ? script_num(worth(f, rate, 0)) : script_null();
	default: return internal_rate(f, &r) ? script_num(r) : script_null();
	}
}

/* RangeXNPV(rate, value, date {, value, date}) and RangeXIRR(value, date {, value, date}). */
static int fn_range_dated(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	int op = x->fn->op, from = op == CF_XNPV ? 1 : 0;
	double rate = 0;
	*out = script_null();
	if (op == CF_XNPV && (!script_val_number(&v[0], &rate) || rate <= -1))
		return 0;
	struct flows f = {.dated = true};
	int rc = 0;
	for (int i = from; rc == 0 && i + 1 < x->n_args; i += 2) {
		double value, day;
		if (script_val_number(&v[i], &value) && script_day_serial(ev, &v[i + 1], &day))
			rc = flows_add(ev, &f, value, day);
	}
	if (rc == 0)
		*out = answer(op, &f, rate);
	flows_free(&f);
	return rc;
}

/* NPV(rate, value), IRR(value), XNPV(rate, pmt, date), XIRR(pmt, date) over the group: the
 * rate is taken once, before the rows. */
static int fn_cash_aggr(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)v;
	int op = x->fn->op, from = op == CF_NPV || op == CF_XNPV ? 1 : 0;
	double rate = 0;
	*out = script_null();
	if (from) {
		struct val r;
		int rc = script_eval(ev, x->args[0], &r);
		if (rc || !script_val_number(&r, &rate) || rate <= -1)
			return rc;
	}
	int64_t saved;
	int rc = script_aggr_enter(ev, x, &saved);
	if (rc)
		return rc;
	struct flows f = {.dated = op == CF_XNPV || op == CF_XIRR};
	for (int64_t i = 0; rc == 0 && i < ev->n_group; i++) {
		ev->set_row(ev->ctx, i);
		struct val a, d;
		double value, day = 0;
		if ((rc = script_eval(ev, x->args[from], &a)) || !script_val_number(&a, &value))
			continue;
		if (f.dated && ((rc = script_eval(ev, x->args[from + 1], &d)) ||
				!script_day_serial(ev, &d, &day)))
			continue;
		rc = flows_add(ev, &f, value, day);
	}
	script_aggr_leave(ev, x, saved);
	if (rc == 0)
		*out = answer(op, &f, rate);
	flows_free(&f);
	return rc;
}

const struct script_func script_cash_functions[] = {
    SCALAR("RangeXNPV", 3, 15, fn_range_dated, CF_XNPV),
    SCALAR("RangeXIRR", 2, 16, fn_range_dated, CF_XIRR),
    {"NPV", 2, 2, SCRIPT_FN_AGGR, fn_cash_aggr, CF_NPV, true},
    {"IRR", 1, 1, SCRIPT_FN_AGGR, fn_cash_aggr, CF_IRR, true},
    {"XNPV", 3, 3, SCRIPT_FN_AGGR, fn_cash_aggr, CF_XNPV, true},
    {"XIRR", 2, 2, SCRIPT_FN_AGGR, fn_cash_aggr, CF_XIRR, true},
};

const size_t script_n_cash_functions =
    sizeof(script_cash_functions) / sizeof(script_cash_functions[0]);
