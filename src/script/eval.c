/* eval.c: expressions over rows and groups of rows (see eval.h). */
#include "script/eval_int.h"
#include "data/data.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct val NUL = {.null = true};

bool script_val_number(const struct val *v, double *out)
{
	if (v->null)
		return false;
	if (v->has_num) {
		*out = v->num;
		return true;
	}
	struct qvd_value q;
	data_txt_interpret(v->text ? v->text : "", NULL, &q);
	if (q.type == QVD_STRING)
		return false;
	*out = q.num;
	return true;
}

bool script_val_true(const struct val *v)
{
	double d;
	return script_val_number(v, &d) && d != 0;
}

static bool like(const char *s, const char *p);

static int fail(struct eval *ev, const struct expr *x, const char *fmt, const char *what)
{
	char msg[300];
	snprintf(msg, sizeof(msg), fmt, what);
	return err_set(ev->e, ERR_INVALID, "line %d, column %d: %s", x->line, x->col, msg);
}

const char *script_tx(struct eval *ev, const struct val *v)
{
	char buf[64];
	const char *s = data_val_text(v, buf, sizeof(buf));
	return s == buf ? arena_strndup(ev->a, buf, strlen(buf)) : s;
}

bool script_eval_like(const char *s, const char *p)
{
	return like(s, p);
}

/* Case-insensitive wildcard match: * any run, ? one character. */
static bool like(const char *s, const char *p)
{
	if (!*p)
		return !*s;
	if (*p == '*') {
		for (;; s++) {
			if (like(s, p + 1))
				return true;
			if (!*s)
				return false;
		}
	}
	if (!*s)
		return false;
	if (*p != '?' && tolower((unsigned char)*p) != tolower((unsigned char)*s))
		return false;
	return like(s + 1, p + 1);
}

static int compare(struct eval *ev, const struct val *a, const struct val *b, int *out)
{
	(void)ev;
	double x, y;
	if (a->has_num && b->has_num) {
		x = a->num;
		y = b->num;
	} else if (script_val_number(a, &x) && script_val_number(b, &y)) {
	} else {
		char b1[64], b2[64];
		int c = strcmp(data_val_text(a, b1, sizeof(b1)), data_val_text(b, b2, sizeof(b2)));
		*out = c < 0 ? -1 : c > 0;
		return 0;
	}
	*out = x < y ? -1 : x > y;
	return 0;
}

static int binary(struct eval *ev, struct expr *x, struct val *out)
{
	struct val l, r;
	int rc = script_eval(ev, x->args[0], &l);
	if (rc == 0)
		rc = script_eval(ev, x->args[1], &r);
	if (rc)
		return rc;
	switch (x->op) {
	case OP_AND: *out = script_bool(script_val_true(&l) && script_val_true(&r)); return 0;
	case OP_OR: *out = script_bool(script_val_true(&l) || script_val_true(&r)); return 0;
	case OP_XOR: *out = script_bool(script_val_true(&l) != script_val_true(&r)); return 0;
	case OP_BITAND:
	case OP_BITOR:
	case OP_BITXOR: { /* on the whole numbers; NULL when either is none */
		double a, b;
		if (!script_val_number(&l, &a) || !script_val_number(&r, &b)) {
			*out = NUL;
			return 0;
		}
		int64_t x1 = script_whole(a), x2 = script_whole(b);
		*out = script_num((double)(x->op == OP_BITAND  ? x1 & x2
					   : x->op == OP_BITOR ? x1 | x2
							       : x1 ^ x2));
		return 0;
	}
	case '&': {
		const char *a = l.null ? "" : script_tx(ev, &l),
			   *b = r.null ? "" : script_tx(ev, &r);
		*out = script_text(arena_printf(ev->a, "%s%s", a, b));
		return 0;
	}
	case OP_LIKE:
		*out = l.null || r.null ? NUL
					: script_bool(like(script_tx(ev, &l), script_tx(ev, &r)));
		return 0;
	default: break;
	}
	if (x->op == '=' || x->op == '<' || x->op == '>' || x->op == OP_LE || x->op == OP_GE ||
	    x->op == OP_NE) {
		if (l.null && r.null) {
			*out = NUL;
			return 0;
		}
		if (l.null || r.null) {
			*out = script_bool(x->op == OP_NE);
			return 0;
		}
		int c;
		compare(ev, &l, &r, &c);
		bool b = x->op == '='	  ? c == 0
			 : x->op == '<'	  ? c < 0
			 : x->op == '>'	  ? c > 0
			 : x->op == OP_LE ? c <= 0
			 : x->op == OP_GE ? c >= 0
					  : c != 0;
		*out = script_bool(b);
		return 0;
	}
	double a, b;
	if (!script_val_number(&l, &a) || !script_val_number(&r, &b)) {
		*out = NUL;
		return 0;
	}
	double v = x->op == '+' ? a + b : x->op == '-' ? a - b : x->op == '*' ? a * b : a / b;
	*out = isfinite(v) ? script_num(v) : NUL;
	return 0;
}

/* ---------------------------------------------------------------- functions */

static int args_between(struct eval *ev, const struct expr *x, int lo, int hi)
{
	if (x->n_args >= lo && x->n_args <= hi)
		return 0;
	char what[128];
	snprintf(what, sizeof(what), "%s takes %d to %d arguments, not %d", x->text, lo, hi,
		 x->n_args);
	return fail(ev, x, "%s", what);
}

/* The arguments evaluated into v[0..n). */
static int eval_args(struct eval *ev, struct expr *x, struct val *v)
{
	for (int i = 0; i < x->n_args; i++) {
		if (x->args[i]->kind == EX_STAR)
			return fail(ev, x->args[i], "%s", "* is only allowed in Count(*)");
		int rc = script_eval(ev, x->args[i], &v[i]);
		if (rc)
			return rc;
	}
	return 0;
}

static const char *slice(struct eval *ev, const char *s, int64_t from, int64_t n)
{
	/* counted in characters (UTF-8) */
	const char *p = s;
	int64_t i = 0;
	while (*p && i < from) {
		p++;
		while ((*p & 0xC0) == 0x80)
			p++;
		i++;
	}
	const char *q = p;
	for (int64_t k = 0; *q && k < n; k++) {
		q++;
		while ((*q & 0xC0) == 0x80)
			q++;
	}
	return arena_strndup(ev->a, p, (size_t)(q - p));
}

int64_t script_utf8_len(const char *s)
{
	int64_t n = 0;
	for (; *s; s++)
		n += (*s & 0xC0) != 0x80;
	return n;
}

/* ---- the functions, one handler each (or one for a family, told apart by fn->op) */

/* A handler gets the call and its arguments evaluated into v[0..x->n_args) (a lazy one,
 * If, gets them unevaluated). */

static int aggregate(struct eval *ev, struct expr *x, const struct val *v, struct val *out);

bool script_day_serial(struct eval *ev, const struct val *v, double *out)
{
	if (v->null)
		return false;
	if (script_val_number(v, out))
		return true;
	struct qvd_value q;
	data_txt_interpret(script_tx(ev, v), ev->date_format, &q);
	*out = q.num;
	return q.type != QVD_STRING;
}

static int fn_if(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)v;
	struct val c;
	int rc = script_eval(ev, x->args[0], &c);
	if (rc)
		return rc;
	if (script_val_true(&c))
		return script_eval(ev, x->args[1], out);
	if (x->n_args == 3)
		return script_eval(ev, x->args[2], out);
	*out = NUL;
	return 0;
}

enum { OP_RECNO, OP_ROWNO };

static int fn_recno(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)v;
	*out = script_num((double)(x->fn->op == OP_RECNO ? ev->recno : ev->rowno));
	return 0;
}

static int fn_null(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)ev, (void)x, (void)v;
	*out = NUL;
	return 0;
}

/* Alt: the first argument that is a number, else the last. */
static int fn_alt(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)ev;
	*out = NUL;
	double d;
	for (int i = 0; i < x->n_args; i++)
		if (script_val_number(&v[i], &d)) {
			*out = v[i];
			return 0;
		}
	if (x->n_args)
		*out = v[x->n_args - 1];
	return 0;
}

enum { OP_ISNULL, OP_ISNUM, OP_ISTEXT };

static int fn_is(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)ev;
	double a;
	*out = script_bool(x->fn->op == OP_ISNULL  ? v[0].null
			   : x->fn->op == OP_ISNUM ? script_val_number(&v[0], &a)
						   : !v[0].null && !v[0].has_num);
	return 0;
}

static int fn_text(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)x;
	*out = v[0].null ? NUL : script_text(script_tx(ev, &v[0]));
	return 0;
}

enum { OP_NUM, OP_NUM_INTERPRET, OP_MONEY_INTERPRET };

/* Num and Num#: the number; Num# keeps the text it was read from. */
const char *script_text_arg(struct eval *ev, const struct expr *x, const struct val *v, int i)
{
	return i < x->n_args && !v[i].null ? script_tx(ev, &v[i]) : NULL;
}

/* A number written with separators `dec` and `thou` and what a format puts around it (the
 * characters of `fmt`, a currency sign, a percent sign, spaces): the digits, a decimal
 * separator, a sign or brackets for a negative, an exponent; false for anything else. */
static bool read_formatted(const char *text, const char *fmt, const char *dec, const char *thou,
			   double *out)
{
	char clean[128];
	size_t n = 0, dl = dec ? strlen(dec) : 0, tl = thou ? strlen(thou) : 0;
	bool neg = false, digits = false, pct = false;
	for (const char *p = text; *p;) {
		if (dl && strncmp(p, dec, dl) == 0) {
			if (n + 1 >= sizeof(clean))
				return false;
			clean[n++] = '.';
			p += dl;
		} else if (tl && strncmp(p, thou, tl) == 0) {
			p += tl;
		} else if (isdigit((unsigned char)*p) ||
			   ((*p == 'e' || *p == 'E') && digits && isdigit((unsigned char)p[1]))) {
			if (n + 1 >= sizeof(clean))
				return false;
			digits |= isdigit((unsigned char)*p) != 0;
			clean[n++] = *p++;
		} else {
			unsigned char c = (unsigned char)*p;
			if (!strchr(" %+-()$", c) && c < 0x80 && !(fmt && strchr(fmt, c)))
				return false;
			neg |= (*p == '-' && !digits) || *p == '(';
			pct |= *p == '%';
			if (*p == '-' && n && (clean[n - 1] == 'e' || clean[n - 1] == 'E'))
				clean[n++] = '-';
			p++;
		}
	}
	clean[n] = '\0';
	char *end;
	double d = digits ? strtod(clean, &end) : 0;
	if (!digits || *end)
		return false;
	*out = (neg ? -d : d) / (pct ? 100 : 1);
	return true;
}

/* Num(x[, format[, decimal separator[, thousands separator]]]): x with the text the
 * format code writes (none, or one without digits: x as it is). Num# reads a text, and
 * Money# a text written as money (the separators MoneyDecimalSep and MoneyThousandSep),
 * each keeping the text it read. */
static int fn_num(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	double a = 0;
	bool money = x->fn->op == OP_MONEY_INTERPRET;
	const char *fmt = script_text_arg(ev, x, v, 1), *dec = script_text_arg(ev, x, v, 2),
		   *thou = script_text_arg(ev, x, v, 3);
	if (!dec && ev->variable) /* the separators: given, else the script's, else . and , */
		dec = ev->variable(ev->ctx, money ? "MoneyDecimalSep" : "DecimalSep");
	if (!thou && ev->variable)
		thou = ev->variable(ev->ctx, money ? "MoneyThousandSep" : "ThousandSep");
	if (money && !fmt && ev->variable)
		fmt = ev->variable(ev->ctx, "MoneyFormat");
	bool is_num = script_val_number(&v[0], &a);
	if (!is_num && x->fn->op != OP_NUM && !v[0].null)
		is_num = read_formatted(script_tx(ev, &v[0]), fmt, dec ? dec : ".",
					thou ? thou : ",", &a);
	*out = is_num ? script_num(a) : NUL;
	if (x->fn->op != OP_NUM && !out->null && v[0].text)
		out->text = v[0].text;
	char text[256];
	if (x->fn->op == OP_NUM && !out->null && fmt &&
	    data_num_format(a, fmt, dec ? dec : ".", thou ? thou : ",", text, sizeof(text)) == 0)
		out->text = arena_strdup(ev->a, text);
	return 0;
}

static int fn_dual(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)x;
	double a;
	*out = script_val_number(&v[1], &a) ? script_num(a) : NUL;
	if (!out->null)
		out->text = v[0].null ? "" : script_tx(ev, &v[0]);
	return 0;
}

static int fn_len(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)x;
	*out = v[0].null ? NUL : script_num((double)script_utf8_len(script_tx(ev, &v[0])));
	return 0;
}

enum { OP_UPPER, OP_LOWER, OP_CAPITALIZE };

static int fn_case(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	if (v[0].null) {
		*out = NUL;
		return 0;
	}
	const char *t = script_tx(ev, &v[0]);
	char *s = arena_strndup(ev->a, t, strlen(t));
	bool word_start = true;
	for (char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (x->fn->op == OP_UPPER)
			*p = (char)toupper(c);
		else if (x->fn->op == OP_LOWER)
			*p = (char)tolower(c);
		else
			*p = (char)(word_start ? toupper(c) : tolower(c));
		word_start = !isalnum(c);
	}
	*out = script_text(s);
	return 0;
}

enum { OP_TRIM, OP_LTRIM, OP_RTRIM };

static int fn_trim(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	if (v[0].null) {
		*out = NUL;
		return 0;
	}
	const char *s = script_tx(ev, &v[0]);
	size_t n = strlen(s);
	if (x->fn->op != OP_RTRIM)
		while (*s == ' ')
			s++, n--;
	if (x->fn->op != OP_LTRIM)
		while (n && s[n - 1] == ' ')
			n--;
	*out = script_text(arena_strndup(ev->a, s, n));
	return 0;
}

enum { OP_LEFT, OP_RIGHT };

static int fn_left_right(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	double a;
	if (v[0].null || !script_val_number(&v[1], &a)) {
		*out = NUL;
		return 0;
	}
	const char *s = script_tx(ev, &v[0]);
	int64_t n = script_utf8_len(s), k = a < 0 ? 0 : script_whole(a);
	if (k > n)
		k = n;
	*out = script_text(x->fn->op == OP_LEFT ? slice(ev, s, 0, k) : slice(ev, s, n - k, k));
	return 0;
}

static int fn_mid(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	double a, b;
	if (v[0].null || !script_val_number(&v[1], &a)) {
		*out = NUL;
		return 0;
	}
	int64_t start = a < 1 ? 0 : script_whole(a) - 1, n = INT64_MAX;
	if (x->n_args == 3)
		n = script_val_number(&v[2], &b) && b > 0 ? script_whole(b) : 0;
	*out = script_text(slice(ev, script_tx(ev, &v[0]), start, n));
	return 0;
}

static int fn_replace(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)x;
	if (v[0].null) {
		*out = NUL;
		return 0;
	}
	const char *s = script_tx(ev, &v[0]), *from = script_tx(ev, &v[1]),
		   *to = script_tx(ev, &v[2]);
	struct buf o;
	buf_init(&o, 64u << 20);
	size_t fl = strlen(from);
	int brc = 0;
	while (*s && brc == 0) {
		if (fl && strncmp(s, from, fl) == 0) {
			brc = buf_puts(&o, to);
			s += fl;
		} else {
			brc = buf_append(&o, s++, 1);
		}
	}
	*out = script_text(arena_strndup(ev->a, o.data ? o.data : "", o.len));
	buf_release(&o);
	return 0;
}

enum { OP_ROUND, OP_FLOOR, OP_CEIL };

static int fn_round(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)ev;
	double a, step = 1;
	if (!script_val_number(&v[0], &a) || (x->n_args == 2 && !script_val_number(&v[1], &step)) ||
	    step == 0) {
		*out = NUL;
		return 0;
	}
	double q = a / step;
	q = x->fn->op == OP_FLOOR ? floor(q) : x->fn->op == OP_CEIL ? ceil(q) : floor(q + 0.5);
	*out = script_num(q * step);
	return 0;
}

enum { OP_FABS, OP_SQRT, OP_EXP, OP_LOG, OP_LOG10, OP_SIGN };

static int fn_math1(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)ev;
	double a;
	if (!script_val_number(&v[0], &a)) {
		*out = NUL;
		return 0;
	}
	double r;
	switch (x->fn->op) {
	case OP_FABS: r = fabs(a); break;
	case OP_SQRT: r = sqrt(a); break;
	case OP_EXP: r = exp(a); break;
	case OP_LOG: r = log(a); break;
	case OP_LOG10: r = log10(a); break;
	default: r = (a > 0) - (a < 0);
	}
	*out = isfinite(r) ? script_num(r) : NUL;
	return 0;
}

enum { OP_MOD, OP_DIV, OP_POW };

static int fn_math2(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)ev;
	double a, b;
	if (!script_val_number(&v[0], &a) || !script_val_number(&v[1], &b)) {
		*out = NUL;
		return 0;
	}
	double r = x->fn->op == OP_POW	 ? pow(a, b)
		   : x->fn->op == OP_DIV ? (b == 0 ? NAN : trunc(a / b))
					 : (b == 0 ? NAN : a - b * floor(a / b));
	*out = isfinite(r) ? script_num(r) : NUL;
	return 0;
}

static int fn_chr(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)x;
	double a;
	if (!script_val_number(&v[0], &a) || a < 1 || a > 0x10FFFF) {
		*out = NUL;
		return 0;
	}
	unsigned c = (unsigned)a;
	char s[5] = {0};
	if (c < 0x80) {
		s[0] = (char)c;
	} else if (c < 0x800) {
		s[0] = (char)(0xC0 | (c >> 6));
		s[1] = (char)(0x80 | (c & 0x3F));
	} else if (c < 0x10000) {
		s[0] = (char)(0xE0 | (c >> 12));
		s[1] = (char)(0x80 | ((c >> 6) & 0x3F));
		s[2] = (char)(0x80 | (c & 0x3F));
	} else {
		s[0] = (char)(0xF0 | (c >> 18));
		s[1] = (char)(0x80 | ((c >> 12) & 0x3F));
		s[2] = (char)(0x80 | ((c >> 6) & 0x3F));
		s[3] = (char)(0x80 | (c & 0x3F));
	}
	*out = script_text(arena_strndup(ev->a, s, strlen(s)));
	return 0;
}

static int fn_repeat(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	double a;
	if (v[0].null || !script_val_number(&v[1], &a) || a < 0 || a > 100000) {
		*out = NUL;
		return 0;
	}
	const char *s = script_tx(ev, &v[0]);
	size_t sl = strlen(s);
	if (sl * (size_t)a > (16u << 20))
		return fail(ev, x, "%s would make a text over 16 MiB", "Repeat");
	char *r2 = arena_alloc(ev->a, sl * (size_t)a + 1);
	for (int64_t i = 0; i < (int64_t)a; i++)
		memcpy(r2 + (size_t)i * sl, s, sl);
	*out = script_text(r2);
	return 0;
}

enum { OP_MATCH, OP_MIXMATCH, OP_WILDMATCH };

/* Match, MixMatch, WildMatch: the position of the first argument after the first that
 * matches it, or 0. */
static int fn_match(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	*out = script_num(0);
	if (v[0].null)
		return 0;
	const char *s = script_tx(ev, &v[0]);
	for (int i = 1; i < x->n_args; i++) {
		if (v[i].null)
			continue;
		const char *c = script_tx(ev, &v[i]);
		bool hit = x->fn->op == OP_MATCH      ? strcmp(s, c) == 0
			   : x->fn->op == OP_MIXMATCH ? strcasecmp(s, c) == 0
						      : like(s, c);
		if (hit) {
			*out = script_num(i);
			break;
		}
	}
	return 0;
}

static int fn_pick(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)ev;
	double a;
	*out = NUL;
	if (script_val_number(&v[0], &a) && a >= 1 && a < x->n_args)
		*out = v[(int)a];
	return 0;
}

static int fn_applymap(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	if (!ev->mapping)
		return fail(ev, x, "%s is not available here", "ApplyMap");
	bool found = false;
	int rc = ev->mapping(ev->ctx, script_tx(ev, &v[0]), &v[1], out, &found);
	if (rc == ERR_NOT_FOUND)
		return fail(ev, x, "there is no mapping table named '%s'", script_tx(ev, &v[0]));
	if (rc)
		return rc;
	if (!found)
		*out = x->n_args == 3 ? v[2] : v[1];
	return 0;
}

enum { AG_SUM, AG_COUNT, AG_MIN, AG_MAX, AG_AVG, AG_ONLY, AG_CONCAT, AG_MINSTRING, AG_MAXSTRING };

#define AGGR(name, hi, op)                                                                         \
	{                                                                                          \
		name, 1, hi, SCRIPT_FN_AGGR, aggregate, op, true                                   \
	}

/* The function library. A call is resolved against it when it is parsed (x->fn); an
 * unknown name is an error when the call is evaluated. */
static const struct script_func functions[] = {
    AGGR("Sum", 1, AG_SUM),
    AGGR("Count", 1, AG_COUNT),
    AGGR("Min", 1, AG_MIN),
    AGGR("Max", 1, AG_MAX),
    AGGR("Avg", 1, AG_AVG),
    AGGR("Only", 1, AG_ONLY),
    AGGR("Concat", 2, AG_CONCAT),
    AGGR("MinString", 1, AG_MINSTRING),
    AGGR("MaxString", 1, AG_MAXSTRING),
    {"If", 2, 3, SCRIPT_FN_SCALAR, fn_if, 0, true},
    SCALAR("RecNo", 0, 0, fn_recno, OP_RECNO),
    SCALAR("RowNo", 0, 0, fn_recno, OP_ROWNO),
    SCALAR("Null", 0, 16, fn_null, 0),
    SCALAR("Alt", 0, 16, fn_alt, 0),
    SCALAR("IsNull", 1, 1, fn_is, OP_ISNULL),
    SCALAR("IsNum", 1, 1, fn_is, OP_ISNUM),
    SCALAR("IsText", 1, 1, fn_is, OP_ISTEXT),
    SCALAR("Text", 1, 1, fn_text, 0),
    SCALAR("Num", 1, 4, fn_num, OP_NUM),
    SCALAR("Num#", 1, 4, fn_num, OP_NUM_INTERPRET),
    SCALAR("Money#", 1, 4, fn_num, OP_MONEY_INTERPRET),
    SCALAR("Dual", 2, 2, fn_dual, 0),
    SCALAR("Len", 1, 1, fn_len, 0),
    SCALAR("Upper", 1, 1, fn_case, OP_UPPER),
    SCALAR("Lower", 1, 1, fn_case, OP_LOWER),
    SCALAR("Capitalize", 1, 1, fn_case, OP_CAPITALIZE),
    SCALAR("Trim", 1, 1, fn_trim, OP_TRIM),
    SCALAR("LTrim", 1, 1, fn_trim, OP_LTRIM),
    SCALAR("RTrim", 1, 1, fn_trim, OP_RTRIM),
    SCALAR("Left", 2, 2, fn_left_right, OP_LEFT),
    SCALAR("Right", 2, 2, fn_left_right, OP_RIGHT),
    SCALAR("Mid", 2, 3, fn_mid, 0),
    SCALAR("Replace", 3, 3, fn_replace, 0),
    SCALAR("Round", 1, 2, fn_round, OP_ROUND),
    SCALAR("Floor", 1, 2, fn_round, OP_FLOOR),
    SCALAR("Ceil", 1, 2, fn_round, OP_CEIL),
    SCALAR("Fabs", 1, 1, fn_math1, OP_FABS),
    SCALAR("Sqrt", 1, 1, fn_math1, OP_SQRT),
    SCALAR("Exp", 1, 1, fn_math1, OP_EXP),
    SCALAR("Log", 1, 1, fn_math1, OP_LOG),
    SCALAR("Log10", 1, 1, fn_math1, OP_LOG10),
    SCALAR("Sign", 1, 1, fn_math1, OP_SIGN),
    SCALAR("Mod", 2, 2, fn_math2, OP_MOD),
    SCALAR("Div", 2, 2, fn_math2, OP_DIV),
    SCALAR("Pow", 2, 2, fn_math2, OP_POW),
    SCALAR("Chr", 1, 1, fn_chr, 0),
    SCALAR("Repeat", 2, 2, fn_repeat, 0),
    SCALAR("Match", 2, 16, fn_match, OP_MATCH),
    SCALAR("MixMatch", 2, 16, fn_match, OP_MIXMATCH),
    SCALAR("WildMatch", 2, 16, fn_match, OP_WILDMATCH),
    SCALAR("Pick", 2, 16, fn_pick, 0),
    SCALAR("ApplyMap", 2, 3, fn_applymap, 0),
};

bool script_expr_aggregates(const struct expr *x)
{
	if (!x)
		return false;
	if (x->kind == EX_CALL && x->fn && x->fn->kind == SCRIPT_FN_AGGR)
		return true;
	for (int i = 0; i < x->n_args; i++)
		if (script_expr_aggregates(x->args[i]))
			return true;
	return false;
}

/* The library's parts: the general functions here, and one table per file. */
static const size_t n_functions = ARRAY_LEN(functions);
static const struct {
	const struct script_func *fns;
	const size_t *n;
} parts[] = {
    {functions, &n_functions},
    {script_date_functions, &script_n_date_functions},
    {script_table_functions, &script_n_table_functions},
    {script_file_functions, &script_n_file_functions},
    {script_stats_functions, &script_n_stats_functions},
    {script_num_functions, &script_n_num_functions},
    {script_cash_functions, &script_n_cash_functions},
    {script_zone_functions, &script_n_zone_functions},
    {script_field_functions, &script_n_field_functions},
    {script_json_functions, &script_n_json_functions},
    {script_text_functions, &script_n_text_functions},
};

const struct script_func *script_func_find(const char *name)
{
	for (size_t p = 0; p < ARRAY_LEN(parts); p++)
		for (size_t i = 0; i < *parts[p].n; i++)
			if (strcasecmp(parts[p].fns[i].name, name) == 0)
				return &parts[p].fns[i];
	return NULL;
}

void script_func_list(void (*each)(void *ctx, const char *name, enum script_fn_kind kind,
				   int min_args, int max_args),
		      void *ctx)
{
	for (size_t p = 0; p < ARRAY_LEN(parts); p++)
		for (size_t i = 0; i < *parts[p].n; i++)
			each(ctx, parts[p].fns[i].name, parts[p].fns[i].kind,
			     parts[p].fns[i].min_args, parts[p].fns[i].max_args);
}

/* A range function (RangeSum, ...) with a range of rows among its arguments (Above, Below,
 * Top or Bottom with a count): each of those rows' values (at most 256 values in all). */
static int call_range(struct eval *ev, struct expr *x, struct val *out)
{
	enum { MAX_RANGE = 256 };
	struct val *v = arena_alloc(ev->a, sizeof(struct val) * MAX_RANGE);
	int nv = 0, rc = 0;
	for (int i = 0; rc == 0 && i < x->n_args; i++) {
		struct expr *arg = x->args[i];
		if (arg->kind == EX_STAR)
			return fail(ev, arg, "%s", "* is only allowed in Count(*)");
		int got = 1;
		if (script_expr_row_range(arg))
			rc = script_row_range(ev, arg, v + nv, MAX_RANGE - nv, &got);
		else if (nv >= MAX_RANGE)
			rc = fail(ev, x, "%s takes at most 256 values", x->fn->name);
		else
			rc = script_eval(ev, arg, &v[nv]);
		nv += got;
	}
	if (rc)
		return rc;
	struct expr all = *x; /* the impl reads its values' count from n_args */
	all.n_args = nv;
	return x->fn->impl(ev, &all, v, out);
}

static int call(struct eval *ev, struct expr *x, struct val *out)
{
	const struct script_func *f = x->fn;
	if (!f)
		return fail(ev, x, "unknown function %s", x->text);
	int rc = args_between(ev, x, f->min_args, f->max_args);
	if (rc)
		return rc;
	if (f->kind == SCRIPT_FN_CHART && !ev->set_group)
		return fail(ev, x, "%s works in charts, not in scripts", f->name);
	if (x->total && f->kind == SCRIPT_FN_AGGR && f->lazy && ev->total_get) {
		/* the same for every row that shares the total: computed once per total */
		if (ev->total_get(ev->ctx, x, out))
			return 0;
		rc = f->impl(ev, x, NULL, out);
		if (rc == 0 && ev->total_put)
			ev->total_put(ev->ctx, x, out);
		return rc;
	}
	if (f->lazy)
		return f->impl(ev, x, NULL, out);
	for (int i = 0; i < x->n_args; i++) /* a range of rows in a range function */
		if (script_expr_row_range(x->args[i]) && strncasecmp(f->name, "Range", 5) == 0)
			return call_range(ev, x, out);
	struct val v[16];
	if ((rc = eval_args(ev, x, v)))
		return rc;
	return f->impl(ev, x, v, out);
}

/* What an aggregation has gathered over the rows so far. */
struct acc {
	int op;
	double sum, best;
	int64_t n;
	bool have, only_ok;
	struct val only, sbest;
	struct buf cat;
	const char *sep;
};

/* Adds one value (not NULL) to the aggregation. */
static int accumulate(struct eval *ev, struct acc *g, const struct val *v)
{
	double d = 0;
	bool isnum = script_val_number(v, &d);
	switch (g->op) {
	case AG_COUNT: g->n++; return 0;
	case AG_CONCAT:
		if ((g->n++ && buf_puts(&g->cat, g->sep)) || buf_puts(&g->cat, script_tx(ev, v)))
			return err_set(ev->e, ERR_TOO_LARGE, "Concat made a text over 64 MiB");
		return 0;
	case AG_ONLY:
		if (g->have &&
		    (g->only.has_num != v->has_num ||
		     (v->has_num ? g->only.num != v->num
				 : strcmp(script_tx(ev, &g->only), script_tx(ev, v)) != 0)))
			g->only_ok = false;
		if (!g->have) {
			g->only = *v;
			if (v->text)
				g->only.text = script_tx(ev, v);
		}
		g->have = true;
		return 0;
	case AG_MINSTRING:
	case AG_MAXSTRING: {
		const char *s = script_tx(ev, v);
		int c = g->have ? strcmp(s, script_tx(ev, &g->sbest)) : 0;
		if (!g->have || (g->op == AG_MINSTRING ? c < 0 : c > 0)) {
			g->sbest = script_text(s);
			g->have = true;
		}
		return 0;
	}
	default:
		if (!isnum)
			return 0;
		g->sum += d;
		g->n++;
		if (!g->have || (g->op == AG_MIN ? d < g->best : d > g->best))
			g->best = d;
		g->have = true;
		return 0;
	}
}

static struct val acc_result(struct eval *ev, const struct acc *g)
{
	switch (g->op) {
	case AG_COUNT: return script_num((double)g->n);
	case AG_CONCAT:
		return script_text(
		    arena_strndup(ev->a, g->cat.data ? g->cat.data : "", g->cat.len));
	case AG_ONLY: return g->have && g->only_ok ? g->only : NUL;
	case AG_MINSTRING:
	case AG_MAXSTRING: return g->sbest;
	case AG_SUM: return script_num(g->sum);
	case AG_AVG: return g->n ? script_num(g->sum / (double)g->n) : NUL;
	default: return g->have ? script_num(g->best) : NUL;
	}
}

/* The rows of the group: each value of the argument (DISTINCT: each distinct one) goes
 * to the accumulator; Count(*) counts rows. */
static int over_group(struct eval *ev, struct expr *x, struct acc *g)
{
	bool star = x->args[0]->kind == EX_STAR;
	struct tbl *seen = x->distinct ? data_tbl_new("distinct") : NULL;
	int rc = 0;
	if (seen && data_tbl_field(seen, "v", true) < 0)
		rc = err_set(ev->e, ERR_NOMEM, "out of memory");
	for (int64_t i = 0; i < ev->n_group && rc == 0; i++) {
		ev->set_row(ev->ctx, i);
		struct val v;
		if (star) {
			g->n++;
			continue;
		}
		if ((rc = script_eval(ev, x->args[0], &v)) || v.null)
			continue;
		if (seen) {
			int64_t before = seen->fields[0].n_sym;
			if (data_tbl_append(seen, &v, 1)) {
				rc = err_set(ev->e, ERR_NOMEM, "out of memory");
				break;
			}
			if (seen->fields[0].n_sym == before)
				continue;
		}
		rc = accumulate(ev, g, &v);
	}
	data_tbl_free(seen);
	return rc;
}

/* Sum, Count, Min, Max, Avg, Only, Concat, MinString, MaxString over the current group
 * (or, with set analysis, over the set's rows). */
static int aggregate(struct eval *ev, struct expr *x, const struct val *args, struct val *out)
{
	(void)args;
	int op = x->fn->op;
	if (x->args[0]->kind == EX_STAR && op != AG_COUNT)
		return fail(ev, x, "%s(*) does not exist: only Count(*)", x->text);
	int64_t saved_n;
	int rc = script_aggr_enter(ev, x, &saved_n);
	if (rc)
		return rc;
	struct acc g = {.op = op, .only_ok = true, .only = NUL, .sbest = NUL, .sep = ""};
	buf_init(&g.cat, 64u << 20);
	struct val sv;
	if (op == AG_CONCAT && x->n_args == 2 && (rc = script_eval(ev, x->args[1], &sv)) == 0)
		g.sep = script_tx(ev, &sv);
	if (rc == 0)
		rc = over_group(ev, x, &g);
	script_aggr_leave(ev, x, saved_n);
	if (rc == 0)
		*out = acc_result(ev, &g);
	buf_release(&g.cat);
	return rc;
}

int script_aggr_enter(struct eval *ev, struct expr *x, int64_t *saved_n)
{
	*saved_n = ev->n_group;
	if (!ev->set_row || ev->in_aggr)
		return fail(ev, x,
			    ev->in_aggr ? "%s inside another aggregation is not allowed"
					: "%s is an aggregation: it works over the rows of a LOAD",
			    x->text);
	if (x->total) {
		if (!ev->total_group)
			return fail(ev, x, "%s: TOTAL works in charts, not in scripts", x->text);
		int rc = ev->total_group(ev->ctx, x, &ev->n_group);
		if (rc)
			return rc;
	} else if (x->set) {
		if (!ev->set_group)
			return fail(ev, x, "%s: set analysis works in charts, not in scripts",
				    x->text);
		int rc = ev->set_group(ev->ctx, x->set, &ev->n_group);
		if (rc)
			return rc;
	}
	ev->in_aggr = true;
	return 0;
}

void script_aggr_leave(struct eval *ev, struct expr *x, int64_t saved_n)
{
	ev->in_aggr = false;
	if (x->set || x->total) {
		ev->restore_group(ev->ctx);
		ev->n_group = saved_n;
	}
}

/* ---------------------------------------------------------------- expressions */

int script_eval(struct eval *ev, struct expr *x, struct val *out)
{
	switch (x->kind) {
	case EX_NUM: *out = script_num(x->num); return 0;
	case EX_STR: *out = script_text(x->text); return 0;
	case EX_STAR: return fail(ev, x, "%s", "* is only allowed in Count(*)");
	case EX_FIELD: {
		int rc = ev->field ? ev->field(ev->ctx, x, out) : ERR_NOT_FOUND;
		if (rc == ERR_NOT_FOUND)
			return fail(ev, x, "field not found: %s", x->text);
		return rc;
	}
	case EX_CALL: return call(ev, x, out);
	case EX_UNARY: {
		struct val v;
		int rc = script_eval(ev, x->args[0], &v);
		if (rc)
			return rc;
		if (x->op == 'n') {
			*out = script_bool(!script_val_true(&v));
			return 0;
		}
		double d = 0;
		*out = !script_val_number(&v, &d) ? NUL
		       : x->op == OP_BITNOT	  ? script_num((double)~script_whole(d))
						  : script_num(-d);
		return 0;
	}
	case EX_BINARY: return binary(ev, x, out);
	}
	return err_set(ev->e, ERR_INTERNAL, "unknown expression kind");
}
