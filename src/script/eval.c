/* eval.c: expressions over rows and groups of rows (see eval.h). */
#include "script/script.h"
#include "data/data.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct val NUL = {.null = true};

static struct val num(double d)
{
	struct val v = {.has_num = true, .num = d};
	return v;
}

static struct val text(const char *s)
{
	struct val v = {.text = s};
	return v;
}

static struct val boolean(bool b)
{
	return num(b ? -1 : 0);
}

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

static const char *tx(struct eval *ev, const struct val *v)
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
	case OP_AND: *out = boolean(script_val_true(&l) && script_val_true(&r)); return 0;
	case OP_OR: *out = boolean(script_val_true(&l) || script_val_true(&r)); return 0;
	case OP_XOR: *out = boolean(script_val_true(&l) != script_val_true(&r)); return 0;
	case '&': {
		const char *a = l.null ? "" : tx(ev, &l), *b = r.null ? "" : tx(ev, &r);
		*out = text(arena_printf(ev->a, "%s%s", a, b));
		return 0;
	}
	case OP_LIKE:
		*out = l.null || r.null ? NUL : boolean(like(tx(ev, &l), tx(ev, &r)));
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
			*out = boolean(x->op == OP_NE);
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
		*out = boolean(b);
		return 0;
	}
	double a, b;
	if (!script_val_number(&l, &a) || !script_val_number(&r, &b)) {
		*out = NUL;
		return 0;
	}
	double v = x->op == '+' ? a + b : x->op == '-' ? a - b : x->op == '*' ? a * b : a / b;
	*out = isfinite(v) ? num(v) : NUL;
	return 0;
}

/* ---------------------------------------------------------------- functions */

static bool named(const struct expr *x, const char *n)
{
	return strcasecmp(x->text, n) == 0;
}

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

static int64_t utf8_len(const char *s)
{
	int64_t n = 0;
	for (; *s; s++)
		n += (*s & 0xC0) != 0x80;
	return n;
}

static void civil(int64_t serial, int64_t *y, int64_t *m, int64_t *d)
{
	int64_t z = serial - 25569 + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp + (mp < 10 ? 3 : -9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* The number of arguments each scalar function takes, checked before it runs. */
static const struct {
	const char *name;
	int min, max;
} arity[] = {
    {"RecNo", 0, 0},	  {"RowNo", 0, 0},    {"IsNull", 1, 1},	   {"IsNum", 1, 1},
    {"IsText", 1, 1},	  {"Text", 1, 1},     {"Num", 1, 4},	   {"Num#", 1, 4},
    {"Dual", 2, 2},	  {"Len", 1, 1},      {"Upper", 1, 1},	   {"Lower", 1, 1},
    {"Capitalize", 1, 1}, {"Trim", 1, 1},     {"LTrim", 1, 1},	   {"RTrim", 1, 1},
    {"Left", 2, 2},	  {"Right", 2, 2},    {"Mid", 2, 3},	   {"Index", 2, 2},
    {"Replace", 3, 3},	  {"SubField", 3, 3}, {"Round", 1, 2},	   {"Floor", 1, 2},
    {"Ceil", 1, 2},	  {"Fabs", 1, 1},     {"Sqrt", 1, 1},	   {"Exp", 1, 1},
    {"Log", 1, 1},	  {"Log10", 1, 1},    {"Sign", 1, 1},	   {"Mod", 2, 2},
    {"Div", 2, 2},	  {"Pow", 2, 2},      {"Year", 1, 1},	   {"Month", 1, 1},
    {"Day", 1, 1},	  {"Date", 1, 2},     {"Date#", 1, 2},	   {"Chr", 1, 1},
    {"Repeat", 2, 2},	  {"Match", 2, 16},   {"MixMatch", 2, 16}, {"WildMatch", 2, 16},
    {"Pick", 2, 16},	  {"ApplyMap", 2, 3},
};

static int check_arity(struct eval *ev, const struct expr *x)
{
	for (size_t i = 0; i < ARRAY_LEN(arity); i++)
		if (named(x, arity[i].name))
			return args_between(ev, x, arity[i].min, arity[i].max);
	return 0;
}

static int aggregate(struct eval *ev, struct expr *x, struct val *out);

/* A value as a day serial: its number, or its text read as a date (or number); false for
 * NULL and for text that is neither. */
static bool day_serial(struct eval *ev, const struct val *v, double *out)
{
	if (v->null)
		return false;
	if (script_val_number(v, out))
		return true;
	struct qvd_value q;
	data_txt_interpret(tx(ev, v), ev->date_format, &q);
	*out = q.num;
	return q.type != QVD_STRING;
}

static int call(struct eval *ev, struct expr *x, struct val *out)
{
	static const char *const aggr[] = {"Sum",  "Count",  "Min",	  "Max",      "Avg",
					   "Only", "Concat", "MinString", "MaxString"};
	for (size_t i = 0; i < ARRAY_LEN(aggr); i++)
		if (named(x, aggr[i]))
			return aggregate(ev, x, out);
	struct val v[16];
	if (x->n_args > 16)
		return fail(ev, x, "%s has too many arguments", x->text);
	int rc;
	if (named(x, "If")) {
		if ((rc = args_between(ev, x, 2, 3)) || (rc = script_eval(ev, x->args[0], &v[0])))
			return rc;
		if (script_val_true(&v[0]))
			return script_eval(ev, x->args[1], out);
		if (x->n_args == 3)
			return script_eval(ev, x->args[2], out);
		*out = NUL;
		return 0;
	}
	if ((rc = check_arity(ev, x)) || (rc = eval_args(ev, x, v)))
		return rc;
	double a, b;
	if (named(x, "RecNo") || named(x, "RowNo")) {
		*out = num((double)(named(x, "RecNo") ? ev->recno : ev->rowno));
	} else if (named(x, "Null")) {
		*out = NUL;
	} else if (named(x, "Alt")) {
		*out = NUL;
		for (int i = 0; i < x->n_args; i++) {
			double d;
			if (script_val_number(&v[i], &d)) {
				*out = v[i];
				break;
			}
		}
		if (out->null && x->n_args)
			*out = v[x->n_args - 1];
	} else if (named(x, "IsNull")) {
		*out = boolean(v[0].null);
	} else if (named(x, "IsNum")) {
		*out = boolean(script_val_number(&v[0], &a));
	} else if (named(x, "IsText")) {
		*out = boolean(!v[0].null && !v[0].has_num);
	} else if (named(x, "Text")) {
		*out = v[0].null ? NUL : text(tx(ev, &v[0]));
	} else if (named(x, "Num") || named(x, "Num#")) {
		*out = script_val_number(&v[0], &a) ? num(a) : NUL;
		if (named(x, "Num#") && !out->null && v[0].text)
			out->text = v[0].text;
	} else if (named(x, "Dual")) {
		*out = script_val_number(&v[1], &a) ? num(a) : NUL;
		if (!out->null)
			out->text = v[0].null ? "" : tx(ev, &v[0]);
	} else if (named(x, "Len")) {
		*out = v[0].null ? NUL : num((double)utf8_len(tx(ev, &v[0])));
	} else if (named(x, "Upper") || named(x, "Lower") || named(x, "Capitalize")) {
		if (v[0].null) {
			*out = NUL;
			return 0;
		}
		char *s = arena_strndup(ev->a, tx(ev, &v[0]), strlen(tx(ev, &v[0])));
		bool word_start = true;
		for (char *p = s; *p; p++) {
			unsigned char c = (unsigned char)*p;
			if (named(x, "Upper"))
				*p = (char)toupper(c);
			else if (named(x, "Lower"))
				*p = (char)tolower(c);
			else
				*p = (char)(word_start ? toupper(c) : tolower(c));
			word_start = !isalnum(c);
		}
		*out = text(s);
	} else if (named(x, "Trim") || named(x, "LTrim") || named(x, "RTrim")) {
		if (v[0].null) {
			*out = NUL;
			return 0;
		}
		const char *s = tx(ev, &v[0]);
		size_t n = strlen(s);
		if (!named(x, "RTrim"))
			while (*s == ' ')
				s++, n--;
		if (!named(x, "LTrim"))
			while (n && s[n - 1] == ' ')
				n--;
		*out = text(arena_strndup(ev->a, s, n));
	} else if (named(x, "Left") || named(x, "Right")) {
		if (v[0].null || !script_val_number(&v[1], &a)) {
			*out = NUL;
			return 0;
		}
		const char *s = tx(ev, &v[0]);
		int64_t n = utf8_len(s), k = a < 0 ? 0 : (int64_t)a;
		if (k > n)
			k = n;
		*out = text(named(x, "Left") ? slice(ev, s, 0, k) : slice(ev, s, n - k, k));
	} else if (named(x, "Mid")) {
		if (v[0].null || !script_val_number(&v[1], &a)) {
			*out = NUL;
			return 0;
		}
		int64_t start = a < 1 ? 0 : (int64_t)a - 1, n = INT64_MAX;
		if (x->n_args == 3)
			n = script_val_number(&v[2], &b) && b > 0 ? (int64_t)b : 0;
		*out = text(slice(ev, tx(ev, &v[0]), start, n));
	} else if (named(x, "Index")) {
		if (v[0].null || v[1].null) {
			*out = NUL;
			return 0;
		}
		const char *s = tx(ev, &v[0]), *f = strstr(s, tx(ev, &v[1]));
		*out =
		    num(f ? (double)(utf8_len(arena_strndup(ev->a, s, (size_t)(f - s))) + 1) : 0);
	} else if (named(x, "Replace")) {
		if (v[0].null) {
			*out = NUL;
			return 0;
		}
		const char *s = tx(ev, &v[0]), *from = tx(ev, &v[1]), *to = tx(ev, &v[2]);
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
		*out = text(arena_strndup(ev->a, o.data ? o.data : "", o.len));
		buf_release(&o);
	} else if (named(x, "SubField")) {
		if (v[0].null || v[1].null || !script_val_number(&v[2], &a)) {
			*out = NUL;
			return 0;
		}
		const char *s = tx(ev, &v[0]), *d = tx(ev, &v[1]);
		size_t dl = strlen(d);
		int64_t want = (int64_t)a, k = 1;
		*out = NUL;
		while (dl && k < want) {
			const char *n2 = strstr(s, d);
			if (!n2)
				break;
			s = n2 + dl;
			k++;
		}
		if (k == want && want >= 1) {
			const char *end = dl ? strstr(s, d) : NULL;
			*out = text(arena_strndup(ev->a, s, end ? (size_t)(end - s) : strlen(s)));
		}
	} else if (named(x, "Round") || named(x, "Floor") || named(x, "Ceil")) {
		double step = 1;
		if (!script_val_number(&v[0], &a) ||
		    (x->n_args == 2 && !script_val_number(&v[1], &step)) || step == 0) {
			*out = NUL;
			return 0;
		}
		double q = a / step;
		q = named(x, "Floor") ? floor(q) : named(x, "Ceil") ? ceil(q) : floor(q + 0.5);
		*out = num(q * step);
	} else if (named(x, "Fabs") || named(x, "Sqrt") || named(x, "Exp") || named(x, "Log") ||
		   named(x, "Log10") || named(x, "Sign")) {
		if (!script_val_number(&v[0], &a)) {
			*out = NUL;
			return 0;
		}
		double r = named(x, "Fabs")    ? fabs(a)
			   : named(x, "Sqrt")  ? sqrt(a)
			   : named(x, "Exp")   ? exp(a)
			   : named(x, "Log")   ? log(a)
			   : named(x, "Log10") ? log10(a)
					       : (a > 0) - (a < 0);
		*out = isfinite(r) ? num(r) : NUL;
	} else if (named(x, "Mod") || named(x, "Div") || named(x, "Pow")) {
		if (!script_val_number(&v[0], &a) || !script_val_number(&v[1], &b)) {
			*out = NUL;
			return 0;
		}
		double r = named(x, "Pow")   ? pow(a, b)
			   : named(x, "Div") ? (b == 0 ? NAN : trunc(a / b))
					     : (b == 0 ? NAN : a - b * floor(a / b));
		*out = isfinite(r) ? num(r) : NUL;
	} else if (named(x, "Year") || named(x, "Month") || named(x, "Day")) {
		if (!day_serial(ev, &v[0], &a))
			return *out = NUL, 0;
		int64_t y, m, d;
		civil((int64_t)floor(a), &y, &m, &d);
		*out = num((double)(named(x, "Year") ? y : named(x, "Month") ? m : d));
	} else if (named(x, "Date") || named(x, "Date#")) {
		if (!day_serial(ev, &v[0], &a))
			return *out = NUL, 0;
		int64_t y, m, d;
		civil((int64_t)floor(a), &y, &m, &d);
		*out = num(named(x, "Date") ? floor(a) : a);
		out->text = named(x, "Date#") && v[0].text
				? v[0].text
				: arena_printf(ev->a, "%04lld-%02lld-%02lld", (long long)y,
					       (long long)m, (long long)d);
	} else if (named(x, "Chr")) {
		if (!script_val_number(&v[0], &a) || a < 1 || a > 0x10FFFF)
			return *out = NUL, 0;
		unsigned c = (unsigned)a;
		char s[5] = {0};
		if (c < 0x80)
			s[0] = (char)c;
		else if (c < 0x800)
			s[0] = (char)(0xC0 | (c >> 6)), s[1] = (char)(0x80 | (c & 0x3F));
		else if (c < 0x10000)
			s[0] = (char)(0xE0 | (c >> 12)), s[1] = (char)(0x80 | ((c >> 6) & 0x3F)),
			s[2] = (char)(0x80 | (c & 0x3F));
		else
			s[0] = (char)(0xF0 | (c >> 18)), s[1] = (char)(0x80 | ((c >> 12) & 0x3F)),
			s[2] = (char)(0x80 | ((c >> 6) & 0x3F)), s[3] = (char)(0x80 | (c & 0x3F));
		*out = text(arena_strndup(ev->a, s, strlen(s)));
	} else if (named(x, "Repeat")) {
		if (v[0].null || !script_val_number(&v[1], &a) || a < 0 || a > 100000)
			return *out = NUL, 0;
		const char *s = tx(ev, &v[0]);
		size_t sl = strlen(s);
		if (sl * (size_t)a > (16u << 20))
			return fail(ev, x, "%s would make a text over 16 MiB", "Repeat");
		char *r2 = arena_alloc(ev->a, sl * (size_t)a + 1);
		for (int64_t i = 0; i < (int64_t)a; i++)
			memcpy(r2 + (size_t)i * sl, s, sl);
		*out = text(r2);
	} else if (named(x, "Match") || named(x, "MixMatch") || named(x, "WildMatch")) {
		*out = num(0);
		if (v[0].null)
			return 0;
		const char *s = tx(ev, &v[0]);
		for (int i = 1; i < x->n_args; i++) {
			if (v[i].null)
				continue;
			const char *c = tx(ev, &v[i]);
			bool hit = named(x, "Match")	  ? strcmp(s, c) == 0
				   : named(x, "MixMatch") ? strcasecmp(s, c) == 0
							  : like(s, c);
			if (hit) {
				*out = num(i);
				break;
			}
		}
	} else if (named(x, "Pick")) {
		*out = NUL;
		if (script_val_number(&v[0], &a) && a >= 1 && a < x->n_args)
			*out = v[(int)a];
	} else if (named(x, "ApplyMap")) {
		if (!ev->mapping)
			return fail(ev, x, "%s is not available here", "ApplyMap");
		bool found = false;
		rc = ev->mapping(ev->ctx, tx(ev, &v[0]), &v[1], out, &found);
		if (rc == ERR_NOT_FOUND)
			return fail(ev, x, "there is no mapping table named '%s'", tx(ev, &v[0]));
		if (rc)
			return rc;
		if (!found)
			*out = x->n_args == 3 ? v[2] : v[1];
	} else {
		return fail(ev, x, "unknown function %s", x->text);
	}
	return 0;
}

/* Sum, Count, Min, Max, Avg, Only, Concat over the current group. */
static int aggregate(struct eval *ev, struct expr *x, struct val *out)
{
	if (!ev->set_row || ev->in_aggr)
		return fail(ev, x,
			    ev->in_aggr ? "%s inside another aggregation is not allowed"
					: "%s is an aggregation: it needs GROUP BY",
			    x->text);
	bool count = named(x, "Count"), concat = named(x, "Concat");
	int rc = args_between(ev, x, 1, concat ? 2 : 1);
	if (rc)
		return rc;
	bool star = x->args[0]->kind == EX_STAR;
	if (star && !count)
		return fail(ev, x, "%s(*) does not exist: only Count(*)", x->text);
	int64_t saved_n = ev->n_group;
	if (x->set) {
		if (!ev->set_group)
			return fail(ev, x, "%s: set analysis works in charts, not in scripts",
				    x->text);
		if ((rc = ev->set_group(ev->ctx, x->set, &ev->n_group)))
			return rc;
	}
	ev->in_aggr = true;
	double sum = 0, best = 0;
	int64_t n = 0;
	bool have = false, only_ok = true;
	struct val only = NUL, sbest = NUL;
	struct buf cat;
	buf_init(&cat, 64u << 20);
	const char *sep = "";
	struct val sv;
	if (concat && x->n_args == 2) {
		if ((rc = script_eval(ev, x->args[1], &sv)) == 0)
			sep = tx(ev, &sv);
	}
	/* DISTINCT: distinct texts seen, kept in a small table */
	struct tbl *seen = x->distinct ? data_tbl_new("distinct") : NULL;
	if (seen && data_tbl_field(seen, "v", true) < 0)
		rc = err_set(ev->e, ERR_NOMEM, "out of memory");
	for (int64_t i = 0; i < ev->n_group && rc == 0; i++) {
		ev->set_row(ev->ctx, i);
		struct val v;
		if (star) {
			n++;
			continue;
		}
		if ((rc = script_eval(ev, x->args[0], &v)))
			break;
		if (v.null)
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
		double d = 0;
		bool isnum = script_val_number(&v, &d);
		if (count) {
			n++;
		} else if (concat) {
			if ((n++ && buf_puts(&cat, sep)) || buf_puts(&cat, tx(ev, &v)))
				rc =
				    err_set(ev->e, ERR_TOO_LARGE, "Concat made a text over 64 MiB");
		} else if (named(x, "Only")) {
			if (have && (only.has_num != v.has_num ||
				     (v.has_num ? only.num != v.num
						: strcmp(tx(ev, &only), tx(ev, &v)) != 0)))
				only_ok = false;
			if (!have) {
				only = v;
				if (v.text)
					only.text = tx(ev, &v);
			}
			have = true;
		} else if (named(x, "MinString") || named(x, "MaxString")) {
			const char *s = tx(ev, &v);
			int c = have ? strcmp(s, tx(ev, &sbest)) : 0;
			if (!have || (named(x, "MinString") ? c < 0 : c > 0)) {
				sbest = text(s);
				have = true;
			}
		} else if (isnum) {
			sum += d;
			n++;
			if (!have || (named(x, "Min") ? d < best : d > best))
				best = d;
			have = true;
		}
	}
	ev->in_aggr = false;
	if (x->set) {
		ev->restore_group(ev->ctx);
		ev->n_group = saved_n;
	}
	if (rc == 0) {
		if (count)
			*out = num((double)n);
		else if (concat)
			*out = text(arena_strndup(ev->a, cat.data ? cat.data : "", cat.len));
		else if (named(x, "Only"))
			*out = have && only_ok ? only : NUL;
		else if (named(x, "MinString") || named(x, "MaxString"))
			*out = sbest;
		else if (named(x, "Sum"))
			*out = num(sum);
		else if (named(x, "Avg"))
			*out = n ? num(sum / (double)n) : NUL;
		else
			*out = have ? num(best) : NUL;
	}
	buf_release(&cat);
	data_tbl_free(seen);
	return rc;
}

/* ---------------------------------------------------------------- expressions */

int script_eval(struct eval *ev, struct expr *x, struct val *out)
{
	switch (x->kind) {
	case EX_NUM: *out = num(x->num); return 0;
	case EX_STR: *out = text(x->text); return 0;
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
			*out = boolean(!script_val_true(&v));
			return 0;
		}
		double d = 0;
		*out = script_val_number(&v, &d) ? num(-d) : NUL;
		return 0;
	}
	case EX_BINARY: return binary(ev, x, out);
	}
	return err_set(ev->e, ERR_INTERNAL, "unknown expression kind");
}
