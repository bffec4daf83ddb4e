/* fn_text.c: string functions that search and cut (Index, SubField, SubStringCount,
 * TextBetween, FindOneOf, PurgeChar, KeepChar) and the range functions (RangeSum,
 * RangeMin, RangeMax, RangeAvg and the counts). Positions count characters (UTF-8), from
 * 1; a negative occurrence counts from the end. */
#include "crypto/crypto.h"
#include "script/eval_int.h"

#include <math.h>
#include <string.h>

/* How often sub occurs in s (not overlapping). */
static int64_t occurrences(const char *s, const char *sub)
{
	size_t n = strlen(sub);
	int64_t k = 0;
	for (const char *p = s; n && (p = strstr(p, sub)); p += n)
		k++;
	return k;
}

/* The byte offset of occurrence k (0-based) of sub in s; it exists. */
static size_t occurrence(const char *s, const char *sub, int64_t k)
{
	size_t n = strlen(sub);
	const char *p = strstr(s, sub);
	while (k-- > 0)
		p = strstr(p + n, sub);
	return (size_t)(p - s);
}

/* Which occurrence argument i names: 1-based from the start, or from the end when
 * negative; -1 when none fits among `count`. */
static int64_t nth(const struct expr *x, const struct val *v, int i, int64_t count)
{
	double d = 1;
	if (i < x->n_args && !script_val_number(&v[i], &d))
		return -1;
	int64_t k = script_whole(d);
	if (k < 0)
		k = count + 1 + k;
	return k >= 1 && k <= count ? k - 1 : -1;
}

/* Index(text, sub[, n]): the position of the n-th occurrence of sub, or 0. */
static int fn_index(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	*out = script_null();
	if (v[0].null || v[1].null)
		return 0;
	const char *s = script_tx(ev, &v[0]), *sub = script_tx(ev, &v[1]);
	int64_t k = nth(x, v, 2, occurrences(s, sub));
	*out = script_num(
	    k < 0 ? 0
		  : (double)script_utf8_len(arena_strndup(ev->a, s, occurrence(s, sub, k))) + 1);
	return 0;
}

/* SubField(text, delimiter) in a LOAD's columns: the part its slot is at now (the LOAD goes
 * through them all, one row each), with how many there are recorded; elsewhere the first. */
static int64_t split_part(struct eval *ev, const struct expr *x, int64_t parts)
{
	if (!ev->may_split)
		return 0;
	int i = 0;
	while (i < ev->n_split && ev->split[i].x != x)
		i++;
	if (i == ev->n_split) {
		if (i == (int)(sizeof(ev->split) / sizeof(ev->split[0])))
			return 0; /* more than eight such calls: the rest give their first part */
		ev->split[ev->n_split++].x = x;
		ev->split[i].at = 0;
	}
	ev->split[i].count = parts;
	return ev->split[i].at < parts ? ev->split[i].at : -1;
}

/* SubField(text, delimiter[, n]): the n-th part of text cut at each delimiter; without n,
 * see split_part. */
static int fn_subfield(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	*out = script_null();
	if (v[0].null || v[1].null)
		return 0;
	const char *s = script_tx(ev, &v[0]), *d = script_tx(ev, &v[1]);
	size_t dl = strlen(d);
	int64_t n = occurrences(s, d);
	int64_t k = x->n_args == 3 ? nth(x, v, 2, n + 1) /* n delimiters make n + 1 parts */
				   : split_part(ev, x, n + 1);
	if (k < 0)
		return 0;
	size_t from = k == 0 ? 0 : occurrence(s, d, k - 1) + dl;
	size_t to = k == n ? strlen(s) : occurrence(s, d, k);
	*out = script_text(arena_strndup(ev->a, s + from, to - from));
	return 0;
}

/* SubStringCount(text, sub): how often sub occurs (case counts). */
static int fn_count(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)x;
	*out = script_null();
	if (v[0].null || v[1].null)
		return 0;
	*out = script_num((double)occurrences(script_tx(ev, &v[0]), script_tx(ev, &v[1])));
	return 0;
}

/* TextBetween(text, before, after[, n]): the text between the n-th `before` and the first
 * `after` that follows it, or NULL. */
static int fn_between(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	*out = script_null();
	if (v[0].null || v[1].null || v[2].null)
		return 0;
	const char *s = script_tx(ev, &v[0]), *b = script_tx(ev, &v[1]), *e = script_tx(ev, &v[2]);
	int64_t k = nth(x, v, 3, occurrences(s, b));
	if (k < 0 || !*e)
		return 0;
	const char *from = s + occurrence(s, b, k) + strlen(b), *to = strstr(from, e);
	if (to)
		*out = script_text(arena_strndup(ev->a, from, (size_t)(to - from)));
	return 0;
}

/* The length of the UTF-8 character at p (1 for a stray byte). */
static size_t char_len(const char *p)
{
	size_t n = 1;
	while ((p[n] & 0xC0) == 0x80 && n < 4)
		n++;
	return n;
}

/* Whether the character at p (of n bytes) is one of `set`. */
static bool in_set(const char *p, size_t n, const char *set)
{
	for (const char *q = set; *q; q += char_len(q))
		if (char_len(q) == n && memcmp(p, q, n) == 0)
			return true;
	return false;
}

enum { OP_PURGE, OP_KEEP };

/* PurgeChar(text, chars), KeepChar(text, chars). */
static int fn_chars(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	*out = script_null();
	if (v[0].null)
		return 0;
	const char *s = script_tx(ev, &v[0]), *set = v[1].null ? "" : script_tx(ev, &v[1]);
	char *r = arena_alloc(ev->a, strlen(s) + 1), *w = r;
	for (const char *p = s; *p;) {
		size_t n = char_len(p);
		if (in_set(p, n, set) == (x->fn->op == OP_KEEP)) {
			memcpy(w, p, n);
			w += n;
		}
		p += n;
	}
	*w = '\0';
	*out = script_text(r);
	return 0;
}

/* FindOneOf(text, chars[, n]): the position of the n-th character of text that is one of
 * chars, or 0. */
static int fn_findoneof(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	*out = script_null();
	if (v[0].null || v[1].null)
		return 0;
	const char *s = script_tx(ev, &v[0]), *set = script_tx(ev, &v[1]);
	double d = 1;
	if (x->n_args > 2 && !script_val_number(&v[2], &d))
		return 0;
	int64_t want = script_whole(d), seen = 0, pos = 0;
	*out = script_num(0);
	for (const char *p = s; *p && want >= 1; p += char_len(p)) {
		pos++;
		if (in_set(p, char_len(p), set) && ++seen == want) {
			*out = script_num((double)pos);
			break;
		}
	}
	return 0;
}

enum { OP_SUM, OP_MIN, OP_MAX, OP_AVG, OP_COUNT, OP_NUMERIC, OP_NULLS, OP_TEXTS };

/* RangeSum, RangeMin, RangeMax, RangeAvg (over the numbers among the arguments; Sum is 0
 * and the others NULL when there is none), RangeCount (values that are not NULL),
 * RangeNumericCount, RangeNullCount, RangeTextCount. */
static int fn_range(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)ev;
	double sum = 0, best = NAN;
	int64_t nums = 0, nulls = 0;
	int op = x->fn->op;
	for (int i = 0; i < x->n_args; i++) {
		double d;
		if (v[i].null) {
			nulls++;
			continue;
		}
		if (!script_val_number(&v[i], &d))
			continue;
		nums++;
		sum += d;
		if (isnan(best) || (op == OP_MIN ? d < best : d > best))
			best = d;
	}
	int64_t texts = x->n_args - nums - nulls;
	switch (op) {
	case OP_SUM: *out = script_num(sum); break;
	case OP_MIN:
	case OP_MAX: *out = nums ? script_num(best) : script_null(); break;
	case OP_AVG: *out = nums ? script_num(sum / (double)nums) : script_null(); break;
	case OP_COUNT: *out = script_num((double)(nums + texts)); break;
	case OP_NUMERIC: *out = script_num((double)nums); break;
	case OP_NULLS: *out = script_num((double)nulls); break;
	default: *out = script_num((double)texts); break;
	}
	return 0;
}

/* The arguments' texts, each ended by \x1f (NULL as empty), in the arena; NULL past 16 MiB. */
static const char *joined_args(struct eval *ev, const struct expr *x, const struct val *v)
{
	struct buf b;
	buf_init(&b, 1 << 24);
	int bad = 0;
	for (int i = 0; i < x->n_args && !bad; i++)
		bad = buf_printf(&b, "%s\x1f", v[i].null ? "" : script_tx(ev, &v[i]));
	const char *out = bad ? NULL : arena_strndup(ev->a, b.data ? b.data : "", b.len);
	buf_release(&b);
	return out;
}

/* Hash128, Hash160, Hash256(expr, ...): a hash of the combination of the arguments as a
 * text of 22, 27 or 43 characters (letters, digits, - and _), as Qlik gives texts of those
 * lengths (its own hash is not published: the values differ from Qlik's, equal inputs give
 * equal hashes). */
static int fn_hash(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	*out = script_null();
	const char *joined = joined_args(ev, x, v);
	if (!joined)
		return err_set(ev->e, ERR_TOO_LARGE, "%s: the value is over 16 MiB", x->fn->name);
	char h[44];
	crypto_sha256_b64url(joined, strlen(joined), h);
	h[x->fn->op] = '\0';
	*out = script_text(arena_strdup(ev->a, h));
	return 0;
}

/* AutoNumber(expr[, id]): a whole number for each distinct value, 1, 2, ... in order of
 * first appearance over the reload, per counter id. AutoNumberHash128 and 256(expr, ...):
 * the same for the combination of their arguments. */
static int fn_autonumber(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	*out = script_null();
	if (!ev->autonumber)
		return 0;
	struct val key = v[0];
	const char *id = "";
	if (x->fn->op == 0) {
		if (v[0].null)
			return 0;
		id = x->n_args > 1 && !v[1].null ? script_tx(ev, &v[1]) : "";
	} else {
		const char *joined = joined_args(ev, x, v);
		if (!joined)
			return err_set(ev->e, ERR_TOO_LARGE, "%s: the key is over 16 MiB",
				       x->fn->name);
		key = script_text(joined);
		id = x->fn->name;
	}
	int64_t n = 0;
	int rc = ev->autonumber(ev->ctx, arena_printf(ev->a, "%s:%s", x->fn->name, id), &key, &n);
	if (rc == 0)
		*out = script_num((double)n);
	return rc;
}

/* A colour (alpha, red, green, blue): the number, and the text RGB(...) or ARGB(...). */
void script_colour(struct eval *ev, double c[4], bool argb, struct val *out)
{
	for (int i = 0; i < 4; i++)
		c[i] = floor(c[i]);
	*out = script_num(((c[0] * 256 + c[1]) * 256 + c[2]) * 256 + c[3]);
	out->text = argb ? arena_printf(ev->a, "ARGB(%.0f,%.0f,%.0f,%.0f)", c[0], c[1], c[2], c[3])
			 : arena_printf(ev->a, "RGB(%.0f,%.0f,%.0f)", c[1], c[2], c[3]);
}

/* RGB(r, g, b), ARGB(alpha, r, g, b): a colour as Qlik keeps one, the number
 * alpha*2^24 + r*2^16 + g*2^8 + b (alpha 255 for RGB) with its text. */

static int fn_rgb(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	double c[4] = {255, 0, 0, 0};
	int first = x->n_args == 4 ? 0 : 1;
	*out = script_null();
	for (int i = 0; i < x->n_args; i++)
		if (!script_val_number(&v[i], &c[first + i]) || c[first + i] < 0 ||
		    c[first + i] > 255)
			return 0;
	script_colour(ev, c, !first, out);
	return 0;
}

/* Black(), Blue(), ... LightRed(), Yellow() with an optional alpha: Qlik's named colours
 * (the RGB value in the function's op). */
static int fn_colour(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	int rgb = x->fn->op;
	double c[4] = {255, (rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255};
	*out = script_null();
	if (x->n_args == 1 && (!script_val_number(&v[0], &c[0]) || c[0] < 0 || c[0] > 255))
		return 0;
	script_colour(ev, c, x->n_args == 1, out);
	return 0;
}

/* Color(n): colour n (from 1; past the last, round again) of the palette the hub's charts
 * draw dimensions in (nebula.js's default theme, its 12 colours). */
static int fn_palette(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	static const int palette[12] = {0x138185, 0x26A0A7, 0x65D3DA, 0x79D69F, 0x70BA6E, 0xCBE989,
					0xEBF898, 0xF9EC86, 0xFAD144, 0xEC983D, 0xD76C6C, 0xA54343};
	double n;
	(void)x;
	*out = script_null();
	if (!script_val_number(&v[0], &n) || n < 1 || n > 1e9)
		return 0;
	int rgb = palette[((int64_t)n - 1) % 12];
	double c[4] = {255, (rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255};
	script_colour(ev, c, false, out);
	return 0;
}

/* SysColor(nr): Windows' system colour nr (GetSysColor's index) in Windows 10's default
 * scheme, which a node without a desktop has nothing of its own to replace. */
static int fn_syscolor(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	static const int sys[31] = {
	    0xC8C8C8, 0x000000, 0x99B4D1, 0xBFCDDB, 0xF0F0F0, 0xFFFFFF, 0x646464, 0x000000,
	    0x000000, 0x000000, 0xB4B4B4, 0xF4F7FC, 0xABABAB, 0x0078D7, 0xFFFFFF, 0xF0F0F0,
	    0xA0A0A0, 0x6D6D6D, 0x000000, 0x000000, 0xFFFFFF, 0x696969, 0xE3E3E3, 0x000000,
	    0xFFFFE1, -1,	0x0066CC, 0xB9D1EA, 0xD7E4F2, 0x0078D7, 0xF0F0F0};
	double n;
	(void)x;
	*out = script_null();
	if (!script_val_number(&v[0], &n) || n < 0 || n > 30 || n != floor(n) || sys[(int)n] < 0)
		return 0;
	int rgb = sys[(int)n];
	double c[4] = {255, (rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255};
	script_colour(ev, c, true, out);
	return 0;
}

/* Evaluate(text): text read as an expression and evaluated where the call stands. */
static int fn_evaluate(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)x;
	*out = script_null();
	if (v[0].null)
		return 0;
	struct stmt *s = NULL;
	struct err e;
	err_init(&e);
	const char *let = arena_printf(ev->a, "LET __evaluate = %s", script_tx(ev, &v[0]));
	if (script_parse(let, 1, 1, false, ev->a, &s, &e) != 0 || !s->expr)
		return 0; /* not an expression: NULL, as in Qlik */
	return script_eval(ev, s->expr, out);
}

const struct script_func script_text_functions[] = {
    SCALAR("AutoNumber", 1, 2, fn_autonumber, 0),
    SCALAR("AutoNumberHash128", 1, 16, fn_autonumber, 1),
    SCALAR("Hash128", 1, 16, fn_hash, 22),
    SCALAR("Hash160", 1, 16, fn_hash, 27),
    SCALAR("Hash256", 1, 16, fn_hash, 43),
    SCALAR("AutoNumberHash256", 1, 16, fn_autonumber, 2),
    SCALAR("RGB", 3, 3, fn_rgb, 0),
    SCALAR("ARGB", 4, 4, fn_rgb, 0),
    SCALAR("Color", 1, 1, fn_palette, 0),
    SCALAR("SysColor", 1, 1, fn_syscolor, 0),
    SCALAR("Black", 0, 1, fn_colour, 0x000000),
    SCALAR("Blue", 0, 1, fn_colour, 0x000080),
    SCALAR("Brown", 0, 1, fn_colour, 0x808000),
    SCALAR("Cyan", 0, 1, fn_colour, 0x008080),
    SCALAR("DarkGray", 0, 1, fn_colour, 0x808080),
    SCALAR("Green", 0, 1, fn_colour, 0x008000),
    SCALAR("LightBlue", 0, 1, fn_colour, 0x0000FF),
    SCALAR("LightCyan", 0, 1, fn_colour, 0x00FFFF),
    SCALAR("LightGray", 0, 1, fn_colour, 0xC0C0C0),
    SCALAR("LightGreen", 0, 1, fn_colour, 0x00FF00),
    SCALAR("LightMagenta", 0, 1, fn_colour, 0xFF00FF),
    SCALAR("LightRed", 0, 1, fn_colour, 0xFF0000),
    SCALAR("Magenta", 0, 1, fn_colour, 0x800080),
    SCALAR("Red", 0, 1, fn_colour, 0x800000),
    SCALAR("White", 0, 1, fn_colour, 0xFFFFFF),
    SCALAR("Yellow", 0, 1, fn_colour, 0xFFFF00),
    SCALAR("Evaluate", 1, 1, fn_evaluate, 0),
    SCALAR("Index", 2, 3, fn_index, 0),
    SCALAR("SubField", 2, 3, fn_subfield, 0),
    SCALAR("SubStringCount", 2, 2, fn_count, 0),
    SCALAR("TextBetween", 3, 4, fn_between, 0),
    SCALAR("PurgeChar", 2, 2, fn_chars, OP_PURGE),
    SCALAR("KeepChar", 2, 2, fn_chars, OP_KEEP),
    SCALAR("FindOneOf", 2, 3, fn_findoneof, 0),
    SCALAR("RangeSum", 1, 16, fn_range, OP_SUM),
    SCALAR("RangeMin", 1, 16, fn_range, OP_MIN),
    SCALAR("RangeMax", 1, 16, fn_range, OP_MAX),
    SCALAR("RangeAvg", 1, 16, fn_range, OP_AVG),
    SCALAR("RangeCount", 1, 16, fn_range, OP_COUNT),
    SCALAR("RangeNumericCount", 1, 16, fn_range, OP_NUMERIC),
    SCALAR("RangeNullCount", 1, 16, fn_range, OP_NULLS),
    SCALAR("RangeTextCount", 1, 16, fn_range, OP_TEXTS),
    /* the older names of the same */
    SCALAR("NumSum", 1, 16, fn_range, OP_SUM),
    SCALAR("NumMin", 1, 16, fn_range, OP_MIN),
    SCALAR("NumMax", 1, 16, fn_range, OP_MAX),
    SCALAR("NumAvg", 1, 16, fn_range, OP_AVG),
    SCALAR("NumCount", 1, 16, fn_range, OP_NUMERIC),
};

const size_t script_n_text_functions =
    sizeof(script_text_functions) / sizeof(script_text_functions[0]);
