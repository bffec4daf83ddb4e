/* fn_stats.c: the statistical aggregations: Median, Fractile, Mode, Stdev, Sterr, Skew,
 * Kurtosis, Correl, the LINEST family and STEYX,
 * FirstSortedValue, FirstValue and LastValue (in a LOAD's order), NullCount, NumericCount,
 * TextCount and MissingCount. Each goes over the rows of the current group as Sum does
 * (script_aggr_enter: GROUP BY in a LOAD, a chart's dimension value, a set). */
#include "script/eval_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
	ST_MEDIAN,
	ST_FRACTILE,
	ST_MODE,
	ST_STDEV,
	ST_FIRSTSORTED,
	ST_FIRST,
	ST_LAST,
	ST_NULLS,
	ST_NUMERIC,
	ST_TEXTS,
	ST_MISSING,
	ST_SKEW,
	ST_KURTOSIS,
	ST_STERR,
	ST_CORREL,
	ST_FRACTILE_EXC
};

/* A value of the group with what it is ordered by (FirstSortedValue's weight). */
struct item {
	double key;
	struct val v;
};

static int cmp_item(const void *a, const void *b)
{
	double x = ((const struct item *)a)->key, y = ((const struct item *)b)->key;
	return x < y ? -1 : x > y;
}

/* The values of the group (DISTINCT: each once, for the texts' and numbers' aggregations)
 * into *out, with their numbers (or FirstSortedValue's weights) as keys; counts of NULLs
 * and texts on the side. */
static int gather(struct eval *ev, struct expr *x, int op, struct item **out, int64_t *n,
		  int64_t *nulls, int64_t *texts)
{
	struct item *it = malloc(sizeof(*it) * (size_t)(ev->n_group + 1));
	if (!it)
		return err_set(ev->e, ERR_NOMEM, "out of memory");
	int rc = 0;
	*n = *nulls = *texts = 0;
	for (int64_t i = 0; rc == 0 && i < ev->n_group; i++) {
		ev->set_row(ev->ctx, i);
		struct val v, w;
		double d;
		if ((rc = script_eval(ev, x->args[0], &v)))
			break;
		if (v.null) {
			++*nulls;
			continue;
		}
		bool num = script_val_number(&v, &d);
		*texts += !num;
		if (op == ST_FIRSTSORTED) {
			if ((rc = script_eval(ev, x->args[1], &w)) || !script_val_number(&w, &d))
				continue;
		} else if (!num && op != ST_MODE && op != ST_FIRST && op != ST_LAST) {
			continue;
		}
		if (v.text)
			v.text = script_tx(ev, &v);
		it[(*n)++] = (struct item){.key = num || op == ST_FIRSTSORTED ? d : 0, .v = v};
	}
	if (rc)
		free(it);
	else
		*out = it;
	return rc;
}

/* The value that occurs most often (by its text), or NULL when two share the most. */
static struct val mode_of(struct eval *ev, struct item *it, int64_t n)
{
	struct val best = {.null = true};
	int64_t best_n = 0;
	bool tie = false;
	for (int64_t i = 0; i < n; i++) {
		int64_t c = 0;
		const char *t = script_tx(ev, &it[i].v);
		for (int64_t k = 0; k < n; k++)
			c += strcmp(t, script_tx(ev, &it[k].v)) == 0;
		if (c > best_n) {
			best_n = c;
			best = it[i].v;
			tie = false;
		} else if (c == best_n && strcmp(t, script_tx(ev, &best)) != 0) {
			tie = true;
		}
	}
	return tie ? (struct val){.null = true} : best;
}

/* The fractile f of n sorted numbers, by linear interpolation between ranks (0 the least,
 * n - 1 the greatest): Median is the fractile 0.5. */
static double fractile(const struct item *it, int64_t n, double f)
{
	double at = f * (double)(n - 1);
	int64_t lo = (int64_t)floor(at);
	if (lo >= n - 1)
		return it[n - 1].key;
	return it[lo].key + (at - (double)lo) * (it[lo + 1].key - it[lo].key);
}

/* Stdev (of a sample), Sterr (of the mean), Skew and Kurtosis (as Excel's SKEW and KURT)
 * of the numbers. */
static struct val moments(int op, const struct item *it, int64_t n)
{
	double sum = 0, m2 = 0, m3 = 0, m4 = 0, dn = (double)n;
	int64_t need = op == ST_SKEW ? 3 : op == ST_KURTOSIS ? 4 : 2;
	if (n < need)
		return script_null();
	for (int64_t i = 0; i < n; i++)
		sum += it[i].key;
	for (int64_t i = 0; i < n; i++) {
		double d = it[i].key - sum / dn;
		m2 += d * d;
	}
	double sd = sqrt(m2 / (dn - 1));
	if (op == ST_STDEV || op == ST_STERR)
		return script_num(op == ST_STDEV ? sd : sd / sqrt(dn));
	if (sd == 0)
		return script_null();
	for (int64_t i = 0; i < n; i++) {
		double z = (it[i].key - sum / dn) / sd;
		m3 += z * z * z;
		m4 += z * z * z * z;
	}
	if (op == ST_SKEW)
		return script_num(dn / ((dn - 1) * (dn - 2)) * m3);
	return script_num(dn * (dn + 1) / ((dn - 1) * (dn - 2) * (dn - 3)) * m4 -
			  3 * (dn - 1) * (dn - 1) / ((dn - 2) * (dn - 3)));
}

/* Pearson's correlation, gathered pair by pair. */
struct pearson {
	double sx, sy, sxx, syy, sxy, n;
};

static void pearson_add(struct pearson *c, double p, double q)
{
	c->sx += p, c->sy += q, c->sxx += p * p, c->syy += q * q, c->sxy += p * q, c->n++;
}

static struct val pearson_value(const struct pearson *c)
{
	double den = sqrt((c->n * c->sxx - c->sx * c->sx) * (c->n * c->syy - c->sy * c->sy));
	return c->n > 1 && den > 0 ? script_num((c->n * c->sxy - c->sx * c->sy) / den)
				   : script_null();
}

/* Correl(x, y): Pearson's correlation of the rows where both are numbers. */
static int fn_correl(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)v;
	int64_t saved;
	int rc = script_aggr_enter(ev, x, &saved);
	if (rc)
		return rc;
	struct pearson c = {0};
	for (int64_t i = 0; rc == 0 && i < ev->n_group; i++) {
		ev->set_row(ev->ctx, i);
		struct val a, b;
		double p, q;
		if ((rc = script_eval(ev, x->args[0], &a)) ||
		    (rc = script_eval(ev, x->args[1], &b)))
			break;
		if (script_val_number(&a, &p) && script_val_number(&b, &q))
			pearson_add(&c, p, q);
	}
	script_aggr_leave(ev, x, saved);
	*out = rc == 0 ? pearson_value(&c) : script_null();
	return rc;
}

/* The LINEST family and STEYX: a least-squares line y = mx + b through the group's pairs
 * where both are numbers. With y0 the line passes through (0, y0), with y0 and x0 through
 * (x0, y0): one parameter fitted (n - 1 degrees of freedom, the sums of squares taken about
 * y0) instead of two (n - 2, about the mean), as Excel's LINEST with const FALSE. */
enum { LN_B, LN_DF, LN_F, LN_M, LN_R2, LN_SEB, LN_SEM, LN_SEY, LN_SSREG, LN_SSRESID };

static struct val linest(int op, const double *px, const double *py, int64_t n, int fixed,
			 double x0, double y0)
{
	bool forced = fixed > 0;
	double dn = (double)n, mx = x0, my = y0;
	if (n < (fixed == 2 ? 1 : 2))
		return script_null();
	if (!forced) {
		mx = my = 0;
		for (int64_t i = 0; i < n; i++)
			mx += px[i] / dn, my += py[i] / dn;
	}
	double sxx = 0, sxy = 0, syy = 0;
	for (int64_t i = 0; i < n; i++) {
		double u = px[i] - mx, w = py[i] - my;
		sxx += u * u, sxy += u * w, syy += w * w;
	}
	if (sxx == 0)
		return script_null();
	double m = sxy / sxx, b = my - m * mx, resid = 0;
	for (int64_t i = 0; i < n; i++) {
		double e = py[i] - (m * px[i] + b);
		resid += e * e;
	}
	double df = dn - (forced ? 1 : 2), reg = syy - resid;
	double sey = df > 0 ? sqrt(resid / df) : NAN, sem = sey / sqrt(sxx);
	double seb = forced ? fabs(x0) * sem : sey * sqrt(1 / dn + mx * mx / sxx);
	double v;
	switch (op) {
	case LN_B: v = b; break;
	case LN_M: v = m; break;
	case LN_DF: v = df; break;
	case LN_R2: v = syy > 0 ? reg / syy : NAN; break;
	case LN_F: v = df > 0 && resid > 0 ? reg / (resid / df) : NAN; break;
	case LN_SEB: v = seb; break;
	case LN_SEM: v = sem; break;
	case LN_SEY: v = sey; break;
	case LN_SSREG: v = reg; break;
	default: v = resid; break;
	}
	return isfinite(v) ? script_num(v) : script_null();
}

/* LINEST_*(y, x[, y0[, x0]]) and STEYX(y, x) (LINEST_SEY's line): y0 and x0 are taken
 * once, before the rows. */
static int fn_linest(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)v;
	double fixed[2] = {0, 0};
	*out = script_null();
	for (int i = 2; i < x->n_args; i++) {
		struct val c;
		int rc = script_eval(ev, x->args[i], &c);
		if (rc || !script_val_number(&c, &fixed[i - 2]))
			return rc;
	}
	int64_t saved;
	int rc = script_aggr_enter(ev, x, &saved);
	if (rc)
		return rc;
	double *px = malloc(sizeof(double) * (size_t)(ev->n_group + 1));
	double *py = malloc(sizeof(double) * (size_t)(ev->n_group + 1));
	int64_t n = 0;
	if (!px || !py)
		rc = err_set(ev->e, ERR_NOMEM, "out of memory");
	for (int64_t i = 0; rc == 0 && i < ev->n_group; i++) {
		ev->set_row(ev->ctx, i);
		struct val a, b;
		if ((rc = script_eval(ev, x->args[0], &a)) ||
		    (rc = script_eval(ev, x->args[1], &b)))
			break;
		if (script_val_number(&a, &py[n]) && script_val_number(&b, &px[n]))
			n++;
	}
	script_aggr_leave(ev, x, saved);
	if (rc == 0)
		*out = linest(x->fn->op, px, py, n, x->n_args - 2, fixed[1], fixed[0]);
	free(px);
	free(py);
	return rc;
}

static struct val result(struct eval *ev, struct expr *x, const struct val *extra, int op,
			 struct item *it, int64_t n, int64_t nulls, int64_t texts)
{
	double f = 0.5;
	switch (op) {
	case ST_NULLS: return script_num((double)nulls);
	case ST_TEXTS: return script_num((double)texts);
	case ST_MISSING: return script_num((double)(nulls + texts));
	case ST_NUMERIC: return script_num((double)n); /* texts were left out */
	case ST_FIRST: return n ? it[0].v : script_null();
	case ST_LAST: return n ? it[n - 1].v : script_null();
	case ST_MODE: return mode_of(ev, it, n);
	case ST_STDEV:
	case ST_STERR:
	case ST_SKEW:
	case ST_KURTOSIS: return moments(op, it, n);
	default: break;
	}
	if (n == 0)
		return script_null();
	qsort(it, (size_t)n, sizeof(*it), cmp_item);
	if (op == ST_FIRSTSORTED) { /* rank: 1 the least weight, -1 the greatest */
		double r = 1;
		if (x->n_args > 2 && extra && !script_val_number(extra, &r))
			return script_null();
		int64_t k = (int64_t)r > 0 ? (int64_t)r - 1 : n + (int64_t)r;
		if (k < 0 || k >= n || (k + 1 < n && it[k + 1].key == it[k].key) ||
		    (k > 0 && it[k - 1].key == it[k].key))
			return script_null(); /* no such rank, or a tie at it */
		return it[k].v;
	}
	if ((op == ST_FRACTILE || op == ST_FRACTILE_EXC) &&
	    (!extra || !script_val_number(extra, &f) || f < 0 || f > 1))
		return script_null();
	if (op == ST_FRACTILE_EXC) { /* as Excel's PERCENTILE.EXC: ranks from 1 to n */
		double at = f * (double)(n + 1) - 1;
		if (at < 0 || at > (double)(n - 1))
			return script_null();
		int64_t lo = (int64_t)floor(at);
		return script_num(lo >= n - 1 ? it[n - 1].key
					      : it[lo].key + (at - (double)lo) *
								 (it[lo + 1].key - it[lo].key));
	}
	return script_num(fractile(it, n, f));
}

/* The aggregation: over the group's rows; the fractile and the rank are evaluated
 * outside it. */
static int fn_stats(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)v;
	int op = x->fn->op, rc;
	struct val extra = {.null = true};
	int at = op == ST_FRACTILE || op == ST_FRACTILE_EXC ? 1 : op == ST_FIRSTSORTED ? 2 : -1;
	if (at > 0 && at < x->n_args && (rc = script_eval(ev, x->args[at], &extra)))
		return rc;
	int64_t saved, n = 0, nulls = 0, texts = 0;
	if ((rc = script_aggr_enter(ev, x, &saved)))
		return rc;
	struct item *it = NULL;
	rc = gather(ev, x, op, &it, &n, &nulls, &texts);
	script_aggr_leave(ev, x, saved);
	if (rc)
		return rc;
	*out = result(ev, x, at > 0 ? &extra : NULL, op, it, n, nulls, texts);
	free(it);
	return 0;
}

/* RangeMode, RangeFractile, RangeStdev, RangeOnly, RangeMissingCount, RangeMinString,
 * RangeMaxString over the arguments, as the aggregations of the same names over rows. */
static int fn_range_stats(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	int op = x->fn->op, from = op == ST_FRACTILE || op == ST_FRACTILE_EXC;
	struct item *it = malloc(sizeof(*it) * (size_t)(x->n_args + 1));
	if (!it)
		return err_set(ev->e, ERR_NOMEM, "out of memory");
	int64_t n = 0, nulls = 0, texts = 0;
	for (int i = from; i < x->n_args; i++) {
		double d;
		if (v[i].null) {
			nulls++;
			continue;
		}
		bool num = script_val_number(&v[i], &d);
		texts += !num;
		if (num || op == ST_MODE || op == ST_FIRST || op == ST_LAST || op == ST_NULLS)
			it[n++] = (struct item){.key = num ? d : 0, .v = v[i]};
	}
	if (op == ST_FIRST || op == ST_LAST) { /* RangeMinString, RangeMaxString */
		const char *best = NULL;
		for (int64_t i = 0; i < n; i++) {
			const char *t = script_tx(ev, &it[i].v);
			if (!best || (op == ST_FIRST ? strcmp(t, best) < 0 : strcmp(t, best) > 0))
				best = t;
		}
		*out = best ? script_text(best) : script_null();
	} else if (op == ST_NULLS) { /* RangeOnly: the value, when every one is the same */
		*out = n ? it[0].v : script_null();
		for (int64_t i = 1; i < n && !out->null; i++)
			if (strcmp(script_tx(ev, &it[i].v), script_tx(ev, &it[0].v)) != 0)
				*out = script_null();
	} else {
		*out = result(ev, x, from ? &v[0] : NULL, op, it, n, nulls, texts);
	}
	free(it);
	return 0;
}

/* RangeCorrel(x1, y1, x2, y2, ...): Pearson's correlation of the pairs that are numbers. */
static int fn_range_correl(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)ev;
	struct pearson c = {0};
	double p, q;
	for (int i = 0; i + 1 < x->n_args; i += 2)
		if (script_val_number(&v[i], &p) && script_val_number(&v[i + 1], &q))
			pearson_add(&c, p, q);
	*out = pearson_value(&c);
	return 0;
}

#define STAT(name, lo, hi, op)                                                                     \
	{                                                                                          \
		name, lo, hi, SCRIPT_FN_AGGR, fn_stats, op, true                                   \
	}

#define LINEST(name, op)                                                                           \
	{                                                                                          \
		name, 2, 4, SCRIPT_FN_AGGR, fn_linest, op, true                                    \
	}

const struct script_func script_stats_functions[] = {
    STAT("Median", 1, 1, ST_MEDIAN),
    STAT("Fractile", 2, 2, ST_FRACTILE),
    STAT("Mode", 1, 1, ST_MODE),
    STAT("Stdev", 1, 1, ST_STDEV),
    STAT("FirstSortedValue", 2, 3, ST_FIRSTSORTED),
    STAT("FirstValue", 1, 1, ST_FIRST),
    STAT("LastValue", 1, 1, ST_LAST),
    STAT("NullCount", 1, 1, ST_NULLS),
    STAT("NumericCount", 1, 1, ST_NUMERIC),
    STAT("TextCount", 1, 1, ST_TEXTS),
    STAT("MissingCount", 1, 1, ST_MISSING),
    STAT("FractileExc", 2, 2, ST_FRACTILE_EXC),
    STAT("Skew", 1, 1, ST_SKEW),
    STAT("Kurtosis", 1, 1, ST_KURTOSIS),
    STAT("Sterr", 1, 1, ST_STERR),
    {"Correl", 2, 2, SCRIPT_FN_AGGR, fn_correl, ST_CORREL, true},
    LINEST("LINEST_B", LN_B),
    LINEST("LINEST_DF", LN_DF),
    LINEST("LINEST_F", LN_F),
    LINEST("LINEST_M", LN_M),
    LINEST("LINEST_R2", LN_R2),
    LINEST("LINEST_SEB", LN_SEB),
    LINEST("LINEST_SEM", LN_SEM),
    LINEST("LINEST_SEY", LN_SEY),
    LINEST("LINEST_SSREG", LN_SSREG),
    LINEST("LINEST_SSRESID", LN_SSRESID),
    {"STEYX", 2, 2, SCRIPT_FN_AGGR, fn_linest, LN_SEY, true},
    SCALAR("RangeFractileExc", 2, 16, fn_range_stats, ST_FRACTILE_EXC),
    SCALAR("RangeCorrel", 2, 16, fn_range_correl, 0),
    SCALAR("RangeSkew", 1, 16, fn_range_stats, ST_SKEW),
    SCALAR("RangeKurtosis", 1, 16, fn_range_stats, ST_KURTOSIS),
    SCALAR("RangeMode", 1, 16, fn_range_stats, ST_MODE),
    SCALAR("RangeFractile", 2, 16, fn_range_stats, ST_FRACTILE),
    SCALAR("RangeStdev", 1, 16, fn_range_stats, ST_STDEV),
    SCALAR("RangeMissingCount", 1, 16, fn_range_stats, ST_MISSING),
    SCALAR("RangeOnly", 1, 16, fn_range_stats, ST_NULLS),
    SCALAR("RangeMinString", 1, 16, fn_range_stats, ST_FIRST),
    SCALAR("RangeMaxString", 1, 16, fn_range_stats, ST_LAST),
};

const size_t script_n_stats_functions =
    sizeof(script_stats_functions) / sizeof(script_stats_functions[0]);
