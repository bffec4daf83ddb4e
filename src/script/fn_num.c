/* fn_num.c: the number functions beside Num and the Range family: Frac, Even, Odd, Fact,
 * Combin, Permut, BitCount, Pi, the trigonometric and hyperbolic functions, Rand, Class,
 * Money (Num with the script's MoneyFormat), Ord, ApplyCodepage (texts here are UTF-8
 * already), Age, and the clock: LocalTime, GMT, UTC, TimeZone. */
#include "script/eval_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

enum {
	OP_FRAC,
	OP_EVEN,
	OP_ODD,
	OP_FACT,
	OP_BITCOUNT,
	OP_SQR,
	OP_SIN,
	OP_COS,
	OP_TAN,
	OP_ASIN,
	OP_ACOS,
	OP_ATAN,
	OP_SINH,
	OP_COSH,
	OP_TANH
};

/* One number in, one out: NULL for NULL, text, or a result that is no number. */
static int fn_unary(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)ev;
	double a, r = NAN;
	*out = script_null();
	if (!script_val_number(&v[0], &a))
		return 0;
	switch (x->fn->op) {
	case OP_FRAC: r = a - floor(a); break; /* Frac(-1.4) is 0.6, as in Qlik */
	case OP_EVEN:
	case OP_ODD:
		if (a == floor(a))
			return *out = script_bool(fmod(fabs(a), 2) == (x->fn->op == OP_ODD)), 0;
		return 0; /* not a whole number: NULL */
	case OP_FACT:
		if (a < 0 || a != floor(a) || a > 170)
			return 0;
		r = 1;
		for (int i = 2; i <= (int)a; i++)
			r *= i;
		break;
	case OP_BITCOUNT: r = __builtin_popcountll((unsigned long long)script_whole(a)); break;
	case OP_SQR: r = a * a; break;
	case OP_SIN: r = sin(a); break;
	case OP_COS: r = cos(a); break;
	case OP_TAN: r = tan(a); break;
	case OP_ASIN: r = asin(a); break;
	case OP_ACOS: r = acos(a); break;
	case OP_ATAN: r = atan(a); break;
	case OP_SINH: r = sinh(a); break;
	case OP_COSH: r = cosh(a); break;
	default: r = tanh(a); break;
	}
	if (isfinite(r))
		*out = script_num(r);
	return 0;
}

enum { OP_COMBIN, OP_PERMUT, OP_ATAN2 };

/* Combin(n, k), Permut(n, k): ways to choose k of n, without and with order; Atan2(y, x). */
static int fn_binary(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)ev;
	double n, k;
	*out = script_null();
	if (!script_val_number(&v[0], &n) || !script_val_number(&v[1], &k))
		return 0;
	if (x->fn->op == OP_ATAN2) {
		*out = script_num(atan2(n, k));
		return 0;
	}
	n = trunc(n);
	k = trunc(k);
	if (n < 0 || k < 0 || k > n)
		return 0;
	double r = 1;
	for (double i = 0; i < k; i++)
		r *= (n - i) / (x->fn->op == OP_COMBIN ? i + 1 : 1);
	if (isfinite(r))
		*out = script_num(round(r));
	return 0;
}

enum { OP_PI, OP_E, OP_TRUE, OP_FALSE };

/* Pi(), e(), true() (-1), false() (0). */
static int fn_constant(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)ev, (void)v;
	static const double c[] = {M_PI, M_E, -1, 0};
	*out = script_num(c[x->fn->op]);
	return 0;
}

enum { OP_FV, OP_PV, OP_PMT, OP_NPER };

/* FV(rate, nper, pmt[, pv[, type]]), PV(rate, nper, pmt[, fv[, type]]), Pmt(rate, nper, pv[,
 * fv[, type]]), nPer(rate, pmt, pv[, fv[, type]]): the annuity formulas (type 1: payments at
 * the start of each period), with Excel's signs (money paid out is negative). */
static int fn_finance(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)ev;
	double a[5] = {0, 0, 0, 0, 0};
	*out = script_null();
	for (int i = 0; i < x->n_args; i++)
		if (!script_val_number(&v[i], &a[i]))
			return 0;
	double r = a[0], t = a[4] != 0, res;
	switch (x->fn->op) {
	case OP_FV: { /* a: rate, nper, pmt, pv */
		double g = pow(1 + r, a[1]);
		res =
		    r == 0 ? -(a[3] + a[2] * a[1]) : -(a[3] * g + a[2] * (1 + r * t) * (g - 1) / r);
		break;
	}
	case OP_PV: { /* rate, nper, pmt, fv */
		double g = pow(1 + r, a[1]);
		res =
		    r == 0 ? -(a[3] + a[2] * a[1]) : -(a[3] + a[2] * (1 + r * t) * (g - 1) / r) / g;
		break;
	}
	case OP_PMT: { /* rate, nper, pv, fv */
		double g = pow(1 + r, a[1]);
		res = r == 0 ? -(a[2] + a[3]) / a[1]
			     : -(a[2] * g + a[3]) * r / ((1 + r * t) * (g - 1));
		break;
	}
	default: { /* rate, pmt, pv, fv */
		double k = a[1] * (1 + r * t);
		res = r == 0 ? -(a[2] + a[3]) / a[1]
			     : log((k - a[3] * r) / (k + a[2] * r)) / log(1 + r);
	}
	}
	if (isfinite(res))
		*out = script_num(res);
	return 0;
}

/* Rand(): a number from 0 up to 1. */
/* Rand()'s numbers: xoshiro256** per thread, seeded once from the kernel. A system call per
 * value (getrandom) cost more than the rest of a generated row; Rand() is no secret. */
static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t next_random(void)
{
	static _Thread_local uint64_t s[4];
	static _Thread_local int seeded;
	if (!seeded) {
		if (getrandom(s, sizeof(s), 0) != (ssize_t)sizeof(s))
			for (int i = 0; i < 4; i++)
				s[i] =
				    (uint64_t)rand() << 32 ^ (uint64_t)rand() ^ (uint64_t)i << 62;
		if (!(s[0] | s[1] | s[2] | s[3]))
			s[0] = 1; /* the one state it never leaves */
		seeded = 1;
	}
	uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

static int fn_rand(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)ev, (void)x, (void)v;
	*out = script_num((double)(next_random() >> 11) / 9007199254740992.0);
	return 0;
}

/* Class(x, width[, label[, offset]]): the interval of the given width that holds x, as a
 * dual of its lower bound and the text "lo<=label<hi", as Qlik writes it. */
static int fn_class(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	double a, w, off = 0;
	*out = script_null();
	if (!script_val_number(&v[0], &a) || !script_val_number(&v[1], &w) || w <= 0)
		return 0;
	if (x->n_args > 3 && !v[3].null && !script_val_number(&v[3], &off))
		return 0;
	double lo = floor((a - off) / w) * w + off;
	const char *label = x->n_args > 2 && !v[2].null ? script_tx(ev, &v[2]) : "x";
	*out = script_num(lo);
	out->text = arena_printf(ev->a, "%.15g<=%s<%.15g", lo, label, lo + w);
	return 0;
}

/* Money(x[, format[, decimal separator[, thousands separator]]]): x written by the format,
 * else the script's MoneyFormat and money separators. */
static int fn_money(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	double a;
	*out = script_null();
	if (!script_val_number(&v[0], &a))
		return 0;
	const char *var = ev->variable ? "" : NULL;
	const char *fmt = script_text_arg(ev, x, v, 1), *dec = script_text_arg(ev, x, v, 2),
		   *thou = script_text_arg(ev, x, v, 3);
	if (var && !fmt)
		fmt = ev->variable(ev->ctx, "MoneyFormat");
	if (var && !dec)
		dec = ev->variable(ev->ctx, "MoneyDecimalSep");
	if (var && !thou)
		thou = ev->variable(ev->ctx, "MoneyThousandSep");
	char text[256];
	*out = script_num(a);
	if (data_num_format(a, fmt ? fmt : "#,##0.00", dec ? dec : ".", thou ? thou : ",", text,
			    sizeof(text)) == 0)
		out->text = arena_strdup(ev->a, text);
	return 0;
}

/* Ord(text): the Unicode code point of its first character. */
static int fn_ord(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)x;
	*out = script_null();
	const unsigned char *s = v[0].null ? NULL : (const unsigned char *)script_tx(ev, &v[0]);
	if (!s || !*s)
		return 0;
	uint32_t c = s[0];
	int more = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
	c &= more == 3 ? 0x07 : more == 2 ? 0x0F : more == 1 ? 0x1F : 0x7F;
	for (int i = 1; i <= more && (s[i] & 0xC0) == 0x80; i++)
		c = (c << 6) | (s[i] & 0x3F);
	*out = script_num(c);
	return 0;
}

/* ApplyCodepage(text, codepage): texts are UTF-8 once loaded, so the text as it is. */
static int fn_codepage(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)ev, (void)x;
	*out = v[0];
	return 0;
}

/* Age(timestamp, birth): whole years from birth to the timestamp. */
static int fn_age(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)x;
	double at, born;
	*out = script_null();
	if (!script_day_serial(ev, &v[0], &at) || !script_day_serial(ev, &v[1], &born))
		return 0;
	int64_t y1, m1, d1, y0, m0, d0;
	data_civil_date((int64_t)floor(at), &y1, &m1, &d1);
	data_civil_date((int64_t)floor(born), &y0, &m0, &d0);
	*out = script_num((double)(y1 - y0 - (m1 < m0 || (m1 == m0 && d1 < d0))));
	return 0;
}

enum { OP_UTC, OP_TZ };

/* GMT() and UTC() (the time in UTC), TimeZone() (the node's
 * zone, as the system names it). */
static int fn_clock(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)v;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (x->fn->op == OP_TZ) {
		struct tm tm;
		localtime_r(&ts.tv_sec, &tm);
		*out = script_text(arena_strdup(ev->a, tm.tm_zone ? tm.tm_zone : "UTC"));
		return 0;
	}
	double t = (double)ts.tv_sec / 86400.0 + 25569.0 + (double)(ts.tv_nsec / 1000000) / 8.64e7;
	*out = script_timestamp(ev, t);
	return 0;
}

/* EmptyIsNull(x): NULL for an empty text, else x. */
static int fn_emptyisnull(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)x;
	*out = !v[0].null && !v[0].has_num && !*script_tx(ev, &v[0]) ? script_null() : v[0];
	return 0;
}

/* Fmod(a, b): what is left of a after the whole times b fits (the sign of a). */
static int fn_fmod(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)ev, (void)x;
	double a, b;
	*out = script_val_number(&v[0], &a) && script_val_number(&v[1], &b) && b != 0
		   ? script_num(fmod(a, b))
		   : script_null();
	return 0;
}

/* LevenshteinDist(a, b): the fewest one-character edits (by bytes) from a to b. */
static int fn_levenshtein(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)x;
	const char *a = v[0].null ? "" : script_tx(ev, &v[0]),
		   *b = v[1].null ? "" : script_tx(ev, &v[1]);
	size_t la = strlen(a), lb = strlen(b);
	*out = script_null();
	if (la > 4096 || lb > 4096)
		return 0;
	size_t *row = malloc(sizeof(size_t) * (lb + 1));
	if (!row)
		return err_set(ev->e, ERR_NOMEM, "out of memory");
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
			best = up + 1 < best ? up + 1 : best;
			best = row[j - 1] + 1 < best ? row[j - 1] + 1 : best;
			diag = up;
			row[j] = best;
		}
	}
	*out = script_num((double)row[lb]);
	free(row);
	return 0;
}

/* OSUser(): who runs the reload (the node's service account); Author(): the app's author,
 * which apps here do not name (empty). */
static int fn_who(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)v;
	const char *u = x->fn->op ? getenv("USER") : NULL;
	*out = script_text(arena_strdup(ev->a, u ? u : ""));
	return 0;
}

/* A colour number's alpha, red, green and blue. */
static bool colour_of(const struct val *v, double c[4])
{
	double n;
	if (!script_val_number(v, &n) || n < 0 || n > 4294967295.0)
		return false;
	uint32_t x = (uint32_t)n;
	c[0] = x >> 24, c[1] = (x >> 16) & 255, c[2] = (x >> 8) & 255, c[3] = x & 255;
	return true;
}

/* Red, green and blue of hue h, saturation s and luminosity l (each 0 to 1). */
static void hsl(double h, double s, double l, double c[4])
{
	double q = l < 0.5 ? l * (1 + s) : l + s - l * s, p = 2 * l - q;
	for (int i = 0; i < 3; i++) {
		double t = h + (1 - i) / 3.0;
		t -= floor(t);
		double v = t < 1 / 6.0	 ? p + (q - p) * 6 * t
			   : t < 0.5	 ? q
			   : t < 2 / 3.0 ? p + (q - p) * (2 / 3.0 - t) * 6
					 : p;
		c[i + 1] = round(v * 255);
	}
	c[0] = 255;
}

enum { OP_HSL, OP_MIX1, OP_MIX2, OP_HUE, OP_JET };

/* HSL(h, s, l); ColorMix1(x, zero, one): between two colours by x from 0 to 1; ColorMix2(x,
 * minus_one, one[, zero]): by x from -1 to 1 (through `zero`, else halfway); ColorMapHue(x):
 * the hue x (0 to 1) at full saturation; ColorMapJet(x): blue through cyan, yellow to red. */
static int fn_colours(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	double a, c[4] = {255, 0, 0, 0}, c0[4], c1[4], cz[4];
	*out = script_null();
	if (!script_val_number(&v[0], &a))
		return 0;
	switch (x->fn->op) {
	case OP_HSL: {
		double sat, lum;
		if (!script_val_number(&v[1], &sat) || !script_val_number(&v[2], &lum))
			return 0;
		hsl(a, fmin(fmax(sat, 0), 1), fmin(fmax(lum, 0), 1), c);
		break;
	}
	case OP_MIX1:
	case OP_MIX2: {
		if (!colour_of(&v[1], c0) || !colour_of(&v[2], c1))
			return 0;
		bool two = x->fn->op == OP_MIX2;
		a = fmin(fmax(a, two ? -1 : 0), 1);
		if (two && x->n_args > 3 && colour_of(&v[3], cz)) { /* two halves through zero */
			const double *to = a < 0 ? c0 : c1;
			for (int i = 0; i < 4; i++)
				c[i] = cz[i] + (to[i] - cz[i]) * fabs(a);
			break;
		}
		double t = two ? (a + 1) / 2 : a;
		for (int i = 0; i < 4; i++)
			c[i] = c0[i] + (c1[i] - c0[i]) * t;
		break;
	}
	case OP_HUE: hsl(a - floor(a), 1, 0.5, c); break;
	default: { /* jet: the four ramps of blue, cyan, yellow and red */
		a = fmin(fmax(a, 0), 1);
		c[1] = round(255 * fmin(fmax(fmin(4 * a - 1.5, -4 * a + 4.5), 0), 1));
		c[2] = round(255 * fmin(fmax(fmin(4 * a - 0.5, -4 * a + 3.5), 0), 1));
		c[3] = round(255 * fmin(fmax(fmin(4 * a + 0.5, -4 * a + 2.5), 0), 1));
	}
	}
	script_colour(ev, c, false, out);
	return 0;
}

/* The value of cash flows v[0..n) at `rate`, the first at period `first`. */
static double npv(double rate, const double *v, int n, int first)
{
	double sum = 0;
	for (int i = 0; i < n; i++)
		sum += v[i] / pow(1 + rate, i + first);
	return sum;
}

/* An annuity's rate problem (Rate) or cash flows' (RangeIRR): the rate at which f is 0. */
struct root {
	double a[16]; /* Rate: nper, pmt, pv, fv, type; RangeIRR: the values */
	int n;	      /* RangeIRR: how many values; Rate: 0 */
};

static double root_f(const struct root *p, double r)
{
	if (p->n)
		return npv(r, p->a, p->n, 0);
	double g = pow(1 + r, p->a[0]), t = p->a[4] != 0;
	return p->a[2] * g + p->a[1] * (1 + r * t) * (g - 1) / r + p->a[3];
}

/* Newton's method from 10 % (as Excel's IRR and RATE), the slope taken numerically; false
 * when it does not settle. */
static bool solve(const struct root *p, double *out)
{
	double r = 0.1;
	for (int k = 0; k < 100; k++) {
		double f = root_f(p, r), h = 1e-7, d = (root_f(p, r + h) - f) / h;
		if (d == 0 || !isfinite(f) || !isfinite(d))
			return false;
		double next = r - f / d;
		if (fabs(next - r) < 1e-12) {
			*out = next;
			return true;
		}
		r = next <= -1 ? (r - 1) / 2 : next;
	}
	return false;
}

/* The numbers among the arguments from `from` on. */
static int numbers(const struct expr *x, const struct val *v, int from, double *out)
{
	int n = 0;
	for (int i = from; i < x->n_args; i++)
		if (script_val_number(&v[i], &out[n]))
			n++;
	return n;
}

/* RangeNPV(rate, value...): the values, one per period from the first, discounted;
 * RangeIRR(value...): the rate at which the values (the first now) are worth nothing. */
static int fn_npv(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)ev;
	struct root p = {.n = 0};
	double r;
	*out = script_null();
	if (x->fn->op == 0) {
		int n = numbers(x, v, 1, p.a);
		if (script_val_number(&v[0], &r) && r > -1 && n)
			*out = script_num(npv(r, p.a, n, 1));
		return 0;
	}
	p.n = numbers(x, v, 0, p.a);
	if (p.n > 1 && solve(&p, &r))
		*out = script_num(r);
	return 0;
}

/* Rate(nper, pmt, pv[, fv[, type]]): the interest rate per period of an annuity. */
static int fn_rate(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)ev;
	struct root p = {.n = 0};
	double r;
	*out = script_null();
	for (int i = 0; i < x->n_args; i++)
		if (!script_val_number(&v[i], &p.a[i]))
			return 0;
	if (solve(&p, &r))
		*out = script_num(r);
	return 0;
}

/* The standard normal distribution's cumulative function. */
static double normal_cdf(double z)
{
	return 0.5 * erfc(-z / sqrt(2.0));
}

/* BlackAndSchole(strike, time_left, underlying_price, vol, risk_free_rate, type): the
 * Black-Scholes value of a European option; type 'c', 'call' or a number other than 0 for
 * a call, 'p', 'put' or 0 for a put. */
static int fn_black_scholes(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)x;
	double a[5];
	*out = script_null();
	for (int i = 0; i < 5; i++)
		if (!script_val_number(&v[i], &a[i]))
			return 0;
	double k = a[0], t = a[1], s = a[2], vol = a[3], r = a[4], type;
	bool call;
	if (script_val_number(&v[5], &type)) {
		call = type != 0;
	} else if (!v[5].null) {
		const char *w = script_tx(ev, &v[5]);
		if (str_ieq(w, "c") || str_ieq(w, "call"))
			call = true;
		else if (str_ieq(w, "p") || str_ieq(w, "put"))
			call = false;
		else
			return 0;
	} else {
		return 0;
	}
	if (k <= 0 || t <= 0 || s <= 0 || vol <= 0)
		return 0;
	double d1 = (log(s / k) + (r + vol * vol / 2) * t) / (vol * sqrt(t)),
	       d2 = d1 - vol * sqrt(t);
	double disc = k * exp(-r * t);
	*out = script_num(call ? s * normal_cdf(d1) - disc * normal_cdf(d2)
			       : disc * normal_cdf(-d2) - s * normal_cdf(-d1));
	return 0;
}

/* StateName(): the state the expression is evaluated in; Fathom has no alternate states,
 * so it is always the default state, "$". */
static int fn_state_name(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)ev, (void)x, (void)v;
	*out = script_text("$");
	return 0;
}

const struct script_func script_num_functions[] = {
    SCALAR("RangeNPV", 2, 16, fn_npv, 0),
    SCALAR("RangeIRR", 1, 16, fn_npv, 1),
    SCALAR("Rate", 3, 5, fn_rate, 0),
    SCALAR("BlackAndSchole", 6, 6, fn_black_scholes, 0),
    SCALAR("StateName", 0, 0, fn_state_name, 0),
    SCALAR("HSL", 3, 3, fn_colours, OP_HSL),
    SCALAR("ColorMix1", 3, 3, fn_colours, OP_MIX1),
    SCALAR("ColorMix2", 3, 4, fn_colours, OP_MIX2),
    SCALAR("ColorMapHue", 1, 1, fn_colours, OP_HUE),
    SCALAR("ColorMapJet", 1, 1, fn_colours, OP_JET),
    SCALAR("EmptyIsNull", 1, 1, fn_emptyisnull, 0),
    SCALAR("Fmod", 2, 2, fn_fmod, 0),
    SCALAR("LevenshteinDist", 2, 2, fn_levenshtein, 0),
    SCALAR("OSUser", 0, 0, fn_who, 1),
    SCALAR("Author", 0, 0, fn_who, 0),
    SCALAR("Frac", 1, 1, fn_unary, OP_FRAC),
    SCALAR("Even", 1, 1, fn_unary, OP_EVEN),
    SCALAR("Odd", 1, 1, fn_unary, OP_ODD),
    SCALAR("Fact", 1, 1, fn_unary, OP_FACT),
    SCALAR("BitCount", 1, 1, fn_unary, OP_BITCOUNT),
    SCALAR("Sin", 1, 1, fn_unary, OP_SIN),
    SCALAR("Cos", 1, 1, fn_unary, OP_COS),
    SCALAR("Tan", 1, 1, fn_unary, OP_TAN),
    SCALAR("Asin", 1, 1, fn_unary, OP_ASIN),
    SCALAR("Acos", 1, 1, fn_unary, OP_ACOS),
    SCALAR("Atan", 1, 1, fn_unary, OP_ATAN),
    SCALAR("Sinh", 1, 1, fn_unary, OP_SINH),
    SCALAR("Cosh", 1, 1, fn_unary, OP_COSH),
    SCALAR("Tanh", 1, 1, fn_unary, OP_TANH),
    SCALAR("Combin", 2, 2, fn_binary, OP_COMBIN),
    SCALAR("Permut", 2, 2, fn_binary, OP_PERMUT),
    SCALAR("Atan2", 2, 2, fn_binary, OP_ATAN2),
    SCALAR("Pi", 0, 0, fn_constant, OP_PI),
    SCALAR("e", 0, 0, fn_constant, OP_E),
    SCALAR("true", 0, 0, fn_constant, OP_TRUE),
    SCALAR("false", 0, 0, fn_constant, OP_FALSE),
    SCALAR("Sqr", 1, 1, fn_unary, OP_SQR),
    SCALAR("FV", 3, 5, fn_finance, OP_FV),
    SCALAR("PV", 3, 5, fn_finance, OP_PV),
    SCALAR("Pmt", 3, 5, fn_finance, OP_PMT),
    SCALAR("nPer", 3, 5, fn_finance, OP_NPER),
    SCALAR("Rand", 0, 0, fn_rand, 0),
    SCALAR("Class", 2, 4, fn_class, 0),
    SCALAR("Money", 1, 4, fn_money, 0),
    SCALAR("Ord", 1, 1, fn_ord, 0),
    SCALAR("ApplyCodepage", 2, 2, fn_codepage, 0),
    SCALAR("Age", 2, 2, fn_age, 0),
    SCALAR("GMT", 0, 0, fn_clock, OP_UTC),
    SCALAR("UTC", 0, 0, fn_clock, OP_UTC),
    SCALAR("TimeZone", 0, 0, fn_clock, OP_TZ),
};

const size_t script_n_num_functions =
    sizeof(script_num_functions) / sizeof(script_num_functions[0]);
