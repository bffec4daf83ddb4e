/* script.c: parsing one statement of a load script (split.c splits the script into them).
 *
 * The parser is recursive descent over tokens; paths and inline data
 * are read as raw text, since they are not tokens. Positions are counted as the script
 * has them, so every error says where. */
#include "script/split.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NESTING 200

/* ---------------------------------------------------------------- tokens */

enum tok_kind { T_END, T_IDENT, T_NAME, T_STR, T_NUM, T_OP };

struct tok {
	enum tok_kind kind;
	size_t off, len;   /* in the text */
	const char *value; /* T_IDENT/T_NAME/T_STR: decoded; T_NUM: as written */
	int op;		   /* T_OP: the character or an enum expr_op */
};

struct parser {
	const char *text;
	size_t pos; /* next unread byte */
	int line, col;
	struct arena *a;
	struct err *e;
	struct tok t; /* the current token */
	int depth;
	bool failed;
};

/* Names may hold % (key fields are often named %CustomerKey): the script has no % operator. */
static bool ident_start(unsigned char c)
{
	return isalpha(c) || c == '_' || c == '@' || c == '$' || c == '#' || c == '%' || c >= 0x80;
}

static bool ident_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '.' || c == '#' || c == '$' || c == '@' || c == '%' ||
	       c >= 0x80;
}

static int perr(struct parser *p, size_t off, const char *fmt, ...) PRINTF_LIKE(3, 4);

static int perr(struct parser *p, size_t off, const char *fmt, ...)
{
	if (p->failed)
		return ERR_INVALID;
	char msg[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->failed = true;
	return script_fail_at(p->e, p->text, off, p->line, p->col, "%s", msg);
}

static void skip_blanks(struct parser *p)
{
	while (p->text[p->pos] && isspace((unsigned char)p->text[p->pos]))
		p->pos++;
}

/* Reads the next token into p->t. */
static void next(struct parser *p)
{
	skip_blanks(p);
	const char *s = p->text;
	size_t i = p->pos;
	struct tok t = {.kind = T_END, .off = i};
	unsigned char c = (unsigned char)s[i];
	if (!c) {
		p->t = t;
		return;
	}
	if (c == '\'' || c == '"' || c == '[' || c == '`') {
		size_t k = script_skip_quoted(s, i);
		if (!k) {
			perr(p, i, "%s is not closed", c == '\'' ? "a string" : "a quoted name");
			k = strlen(s);
		}
		size_t inner = k > i + 1 ? k - i - 2 : 0;
		char *v = arena_strndup(p->a, s + i + 1, inner);
		if (c == '\'') { /* '' is a quote */
			char *w = v;
			for (char *r = v; *r; r++) {
				*w++ = *r;
				if (*r == '\'' && r[1] == '\'')
					r++;
			}
			*w = '\0';
		}
		t.kind = c == '\'' ? T_STR : T_NAME;
		t.value = v;
		t.len = k - i;
	} else if (isdigit(c) || (c == '.' && isdigit((unsigned char)s[i + 1]))) {
		size_t k = i;
		while (isdigit((unsigned char)s[k]))
			k++;
		if (s[k] == '.' && isdigit((unsigned char)s[k + 1])) {
			k++;
			while (isdigit((unsigned char)s[k]))
				k++;
		}
		if ((s[k] == 'e' || s[k] == 'E') &&
		    (isdigit((unsigned char)s[k + 1]) ||
		     ((s[k + 1] == '+' || s[k + 1] == '-') && isdigit((unsigned char)s[k + 2])))) {
			k += 2;
			while (isdigit((unsigned char)s[k]))
				k++;
		}
		t.kind = T_NUM;
		t.value = arena_strndup(p->a, s + i, k - i);
		t.len = k - i;
	} else if (ident_start(c)) {
		size_t k = i + 1;
		while (ident_char((unsigned char)s[k]))
			k++;
		t.kind = T_IDENT;
		t.value = arena_strndup(p->a, s + i, k - i);
		t.len = k - i;
	} else {
		t.kind = T_OP;
		t.op = c;
		t.len = 1;
		if (c == '<' && s[i + 1] == '=')
			t.op = OP_LE, t.len = 2;
		else if (c == '>' && s[i + 1] == '=')
			t.op = OP_GE, t.len = 2;
		else if (c == '<' && s[i + 1] == '>')
			t.op = OP_NE, t.len = 2;
		else if (!strchr("(),;:=<>+-*/&{}!", c))
			perr(p, i, "unexpected character '%c'", c);
	}
	p->pos = i + t.len;
	p->t = t;
}

static bool is_word(const struct parser *p, const char *w)
{
	return p->t.kind == T_IDENT && strcasecmp(p->t.value, w) == 0;
}

static bool is_op(const struct parser *p, int op)
{
	return p->t.kind == T_OP && p->t.op == op;
}

static const char *describe(const struct parser *p)
{
	switch (p->t.kind) {
	case T_END: return "the end of the statement";
	case T_OP: return arena_printf(p->a, "'%.*s'", (int)p->t.len, p->text + p->t.off);
	default:
		return arena_printf(p->a, "\"%.*s\"", (int)(p->t.len > 40 ? 40 : p->t.len),
				    p->text + p->t.off);
	}
}

static bool expect_word(struct parser *p, const char *w)
{
	if (is_word(p, w)) {
		next(p);
		return true;
	}
	perr(p, p->t.off, "expected %s, found %s", w, describe(p));
	return false;
}

static bool expect_op(struct parser *p, int op)
{
	if (is_op(p, op)) {
		next(p);
		return true;
	}
	perr(p, p->t.off, "expected '%c', found %s", op, describe(p));
	return false;
}

/* A field or table name: an identifier or a quoted name. */
static const char *name(struct parser *p, const char *what)
{
	if (p->t.kind == T_IDENT || p->t.kind == T_NAME) {
		const char *v = p->t.value;
		next(p);
		return v;
	}
	perr(p, p->t.off, "expected %s, found %s", what, describe(p));
	return NULL;
}

/* ---------------------------------------------------------------- expressions */

static struct expr *expr_or(struct parser *p);

static struct expr *node(struct parser *p, enum expr_kind k, size_t off)
{
	struct expr *x = arena_alloc(p->a, sizeof(*x));
	x->kind = k;
	script_locate(p->text, off, p->line, p->col, &x->line, &x->col);
	return x;
}

static struct expr *binary(struct parser *p, int op, struct expr *l, struct expr *r, size_t off)
{
	struct expr *x = node(p, EX_BINARY, off);
	x->op = op;
	x->args = arena_alloc(p->a, sizeof(struct expr *) * 2);
	x->args[0] = l;
	x->args[1] = r;
	x->n_args = 2;
	return x;
}

/* {1}, {$}, {<F={a, 'b', "c*"}, G=>}, {1<...>} after an aggregation's "(" */
/* Whether the TOTAL at the current token qualifies an aggregation (its argument follows)
 * rather than being a field named TOTAL: it is followed by neither ')' nor ','. */
static bool total_qualifier(struct parser *p)
{
	struct parser save = *p;
	next(p);
	bool qual = !is_op(p, ')') && !is_op(p, ',') && p->t.kind != T_END;
	*p = save;
	return qual;
}

/* TOTAL [<field {, field}>]: x->total, and the fields when given. */
static void total_fields(struct parser *p, struct expr *x)
{
	x->total = true;
	next(p);
	if (!is_op(p, '<'))
		return;
	next(p);
	int cap = 4;
	x->total_fields = arena_alloc(p->a, sizeof(char *) * (size_t)cap);
	while (!p->failed && (p->t.kind == T_IDENT || p->t.kind == T_NAME)) {
		if (x->n_total_fields == cap) {
			const char **more = arena_alloc(p->a, sizeof(char *) * (size_t)cap * 2);
			memcpy(more, x->total_fields, sizeof(char *) * (size_t)cap);
			x->total_fields = more;
			cap *= 2;
		}
		x->total_fields[x->n_total_fields++] = p->t.value;
		next(p);
		if (!is_op(p, ','))
			break;
		next(p);
	}
	if (!p->failed && x->n_total_fields == 0)
		perr(p, p->t.off, "TOTAL <...> names the fields it keeps, found %s", describe(p));
	else if (!p->failed && !is_op(p, '>'))
		perr(p, p->t.off, "expected ',' or '>' in TOTAL <...>, found %s", describe(p));
	else
		next(p);
}

static struct set_expr *set_expression(struct parser *p)
{
	struct set_expr *s = arena_alloc(p->a, sizeof(*s));
	s->ident = '$';
	next(p); /* { */
	if (p->t.kind == T_NUM && strcmp(p->t.value, "1") == 0) {
		s->ident = '1';
		next(p);
	} else if (p->t.kind == T_IDENT && strcmp(p->t.value, "$") == 0) {
		next(p);
	}
	if (is_op(p, '<')) {
		next(p);
		int cap = 4;
		s->mods = arena_alloc(p->a, sizeof(*s->mods) * (size_t)cap);
		while (!p->failed && !is_op(p, '>')) {
			if (s->n_mods == cap) {
				struct set_mod *more =
				    arena_alloc(p->a, sizeof(*more) * (size_t)cap * 2);
				memcpy(more, s->mods, sizeof(*more) * (size_t)cap);
				s->mods = more;
				cap *= 2;
			}
			struct set_mod *m = &s->mods[s->n_mods++];
			m->field = name(p, "a field in the set modifier");
			if (!expect_op(p, '='))
				break;
			if (is_op(p, ',') || is_op(p, '>')) {
				m->clear = true;
			} else {
				if (!expect_op(p, '{'))
					break;
				int vcap = 8;
				m->values = arena_alloc(p->a, sizeof(char *) * (size_t)vcap);
				m->search = arena_alloc(p->a, sizeof(bool) * (size_t)vcap);
				while (!p->failed && !is_op(p, '}')) {
					if (m->n_values == vcap) {
						perr(p, p->t.off,
						     "more than %d values in one set modifier",
						     vcap);
						break;
					}
					size_t voff = p->t.off;
					bool neg = is_op(p, '-');
					if (neg)
						next(p);
					if (p->t.kind == T_STR || p->t.kind == T_NUM ||
					    (p->t.kind == T_NAME && p->text[p->t.off] == '"')) {
						m->search[m->n_values] = p->t.kind == T_NAME;
						m->values[m->n_values++] =
						    neg ? arena_printf(p->a, "-%s", p->t.value)
							: p->t.value;
						next(p);
					} else {
						perr(p, voff,
						     "expected a value in the set, found %s",
						     describe(p));
						break;
					}
					if (is_op(p, ','))
						next(p);
					else if (!is_op(p, '}'))
						perr(p, p->t.off,
						     "expected ',' or '}' in the set, found %s",
						     describe(p));
				}
				next(p); /* } */
			}
			if (is_op(p, ','))
				next(p);
			else if (!is_op(p, '>'))
				perr(p, p->t.off, "expected ',' or '>' in the set, found %s",
				     describe(p));
		}
		next(p); /* > */
	}
	if (!p->failed && !expect_op(p, '}'))
		return NULL;
	return s;
}

static struct expr *primary(struct parser *p)
{
	if (p->failed)
		return NULL;
	if (++p->depth > MAX_NESTING) {
		perr(p, p->t.off, "the expression nests too deep");
		return NULL;
	}
	struct expr *x = NULL;
	size_t off = p->t.off;
	if (p->t.kind == T_NUM) {
		x = node(p, EX_NUM, off);
		x->text = p->t.value;
		x->num = strtod(p->t.value, NULL);
		next(p);
	} else if (p->t.kind == T_STR) {
		x = node(p, EX_STR, off);
		x->text = p->t.value;
		next(p);
	} else if (p->t.kind == T_NAME) {
		x = node(p, EX_FIELD, off);
		x->text = p->t.value;
		next(p);
	} else if (p->t.kind == T_IDENT) {
		const char *id = p->t.value;
		next(p);
		if (!is_op(p, '(')) {
			x = node(p, EX_FIELD, off);
			x->text = id;
		} else {
			next(p);
			x = node(p, EX_CALL, off);
			x->text = id;
			x->fn = script_func_find(id);
			if (is_op(p, '{'))
				x->set = set_expression(p);
			if (is_word(p, "DISTINCT")) {
				x->distinct = true;
				next(p);
			}
			if (is_word(p, "TOTAL") && total_qualifier(p))
				total_fields(p, x);
			int cap = 4;
			x->args = arena_alloc(p->a, sizeof(struct expr *) * (size_t)cap);
			while (!is_op(p, ')') && !p->failed) {
				if (x->n_args == cap) {
					struct expr **more = arena_alloc(
					    p->a, sizeof(struct expr *) * (size_t)cap * 2);
					memcpy(more, x->args, sizeof(struct expr *) * (size_t)cap);
					x->args = more;
					cap *= 2;
				}
				struct expr *arg;
				if (is_op(p, '*')) {
					arg = node(p, EX_STAR, p->t.off);
					next(p);
				} else {
					arg = expr_or(p);
				}
				x->args[x->n_args++] = arg;
				if (is_op(p, ','))
					next(p);
				else if (!is_op(p, ')'))
					perr(p, p->t.off,
					     "expected ',' or ')' in the arguments of %s, found %s",
					     id, describe(p));
			}
			next(p);
		}
	} else if (is_op(p, '(')) {
		next(p);
		x = expr_or(p);
		expect_op(p, ')');
	} else {
		perr(p, off, "expected a value, found %s", describe(p));
	}
	p->depth--;
	return p->failed ? NULL : x;
}

static struct expr *unary(struct parser *p)
{
	if (is_op(p, '-') || is_op(p, '+') || is_word(p, "BITNOT")) {
		size_t off = p->t.off;
		int op = is_word(p, "BITNOT") ? OP_BITNOT : p->t.op;
		next(p);
		if (++p->depth > MAX_NESTING) {
			perr(p, off, "the expression nests too deep");
			return NULL;
		}
		struct expr *v = unary(p);
		p->depth--;
		if (op == '+' || !v)
			return v;
		struct expr *x = node(p, EX_UNARY, off);
		x->op = op == OP_BITNOT ? OP_BITNOT : '-';
		x->args = arena_alloc(p->a, sizeof(struct expr *));
		x->args[0] = v;
		x->n_args = 1;
		return x;
	}
	return primary(p);
}

static struct expr *mul(struct parser *p)
{
	struct expr *l = unary(p);
	while (l && (is_op(p, '*') || is_op(p, '/'))) {
		size_t off = p->t.off;
		int op = p->t.op;
		next(p);
		struct expr *r = unary(p);
		l = r ? binary(p, op, l, r, off) : NULL;
	}
	return l;
}

static struct expr *add(struct parser *p)
{
	struct expr *l = mul(p);
	while (l && (is_op(p, '+') || is_op(p, '-'))) {
		size_t off = p->t.off;
		int op = p->t.op;
		next(p);
		struct expr *r = mul(p);
		l = r ? binary(p, op, l, r, off) : NULL;
	}
	return l;
}

static struct expr *concat(struct parser *p)
{
	struct expr *l = add(p);
	while (l && is_op(p, '&')) {
		size_t off = p->t.off;
		next(p);
		struct expr *r = add(p);
		l = r ? binary(p, '&', l, r, off) : NULL;
	}
	return l;
}

/* bitand, bitor, bitxor: between concatenation and comparison (A bitand 1 = 1 compares
 * the bits taken). */
static struct expr *bits(struct parser *p)
{
	struct expr *l = concat(p);
	while (l && (is_word(p, "BITAND") || is_word(p, "BITOR") || is_word(p, "BITXOR"))) {
		size_t off = p->t.off;
		int op = is_word(p, "BITAND")  ? OP_BITAND
			 : is_word(p, "BITOR") ? OP_BITOR
					       : OP_BITXOR;
		next(p);
		struct expr *r = concat(p);
		l = r ? binary(p, op, l, r, off) : NULL;
	}
	return l;
}

static struct expr *compare(struct parser *p)
{
	struct expr *l = bits(p);
	while (l && (is_op(p, '=') || is_op(p, '<') || is_op(p, '>') || is_op(p, OP_LE) ||
		     is_op(p, OP_GE) || is_op(p, OP_NE) || is_word(p, "LIKE"))) {
		size_t off = p->t.off;
		int op = p->t.kind == T_IDENT ? OP_LIKE : p->t.op;
		next(p);
		struct expr *r = bits(p);
		l = r ? binary(p, op, l, r, off) : NULL;
	}
	return l;
}

static struct expr *not_(struct parser *p)
{
	if (is_word(p, "NOT")) {
		size_t off = p->t.off;
		next(p);
		if (++p->depth > MAX_NESTING) {
			perr(p, off, "the expression nests too deep");
			return NULL;
		}
		struct expr *v = not_(p);
		p->depth--;
		if (!v)
			return NULL;
		struct expr *x = node(p, EX_UNARY, off);
		x->op = 'n';
		x->args = arena_alloc(p->a, sizeof(struct expr *));
		x->args[0] = v;
		x->n_args = 1;
		return x;
	}
	return compare(p);
}

static struct expr *and_(struct parser *p)
{
	struct expr *l = not_(p);
	while (l && is_word(p, "AND")) {
		size_t off = p->t.off;
		next(p);
		struct expr *r = not_(p);
		l = r ? binary(p, OP_AND, l, r, off) : NULL;
	}
	return l;
}

static struct expr *expr_or(struct parser *p)
{
	if (++p->depth > MAX_NESTING) {
		perr(p, p->t.off, "the expression nests too deep");
		return NULL;
	}
	struct expr *l = and_(p);
	while (l && (is_word(p, "OR") || is_word(p, "XOR"))) {
		size_t off = p->t.off;
		int op = is_word(p, "OR") ? OP_OR : OP_XOR;
		next(p);
		struct expr *r = and_(p);
		l = r ? binary(p, op, l, r, off) : NULL;
	}
	p->depth--;
	return p->failed ? NULL : l;
}

/* ---------------------------------------------------------------- raw text */

/* The rest of the statement from the current token on, trimmed. */
static const char *rest(struct parser *p)
{
	size_t from = p->t.off, n = strlen(p->text);
	while (n > from && isspace((unsigned char)p->text[n - 1]))
		n--;
	p->pos = strlen(p->text);
	p->t.kind = T_END;
	p->t.off = p->pos;
	return arena_strndup(p->a, p->text + from, n - from);
}

/* A path after FROM or INTO: [..], '..', "..", `..`, or a run without blanks. */
/* A lib:// path written with Windows backslashes (lib://Data\\2024\\x.csv) means the same
 * path with slashes, as Qlik reads it. */
static const char *slashes(struct parser *p, const char *v)
{
	if (strncasecmp(v, "lib://", 6) != 0 || !strchr(v, '\\'))
		return v;
	char *c = arena_strdup(p->a, v);
	for (char *q = c; *q; q++)
		*q = *q == '\\' ? '/' : *q;
	return c;
}

static const char *path(struct parser *p)
{
	if (p->t.kind == T_NAME || p->t.kind == T_STR) {
		const char *v = p->t.value;
		next(p);
		return slashes(p, v);
	}
	size_t from = p->t.off, k = from;
	while (p->text[k] && !isspace((unsigned char)p->text[k]) && p->text[k] != '(')
		k++;
	if (k == from) {
		perr(p, from, "expected a file name, found %s", describe(p));
		return NULL;
	}
	p->pos = k;
	const char *v = arena_strndup(p->a, p->text + from, k - from);
	next(p);
	return slashes(p, v);
}

/* ---------------------------------------------------------------- format specs */

static void format_default(struct format *f)
{
	memset(f, 0, sizeof(*f));
	f->labels = LABELS_EMBEDDED;
	f->delimiter = ',';
	f->codepage = 65001;
}

/* The format specifiers that are one word and set one thing. */
static const struct {
	const char *word;
	int qvd;      /* -1: leaves it */
	int codepage; /* 0: leaves it */
	bool msq;
} simple_specs[] = {
    {"txt", 0, 0, false},	  {"qvd", 1, 0, false},	   {"utf8", -1, 65001, false},
    {"ansi", -1, 1252, false},	  {"oem", -1, 850, false}, {"mac", -1, 10000, false},
    {"unicode", -1, 1200, false}, {"msq", -1, 0, true},
};

static bool simple_spec(struct parser *p, struct format *f)
{
	for (size_t i = 0; i < ARRAY_LEN(simple_specs); i++) {
		if (!is_word(p, simple_specs[i].word))
			continue;
		if (simple_specs[i].qvd >= 0)
			f->qvd = simple_specs[i].qvd;
		if (simple_specs[i].codepage)
			f->codepage = simple_specs[i].codepage;
		if (simple_specs[i].msq)
			f->msq = true;
		next(p);
		return true;
	}
	return false;
}

/* codepage is N; false when the number is missing (the format ends there). */
static bool spec_codepage(struct parser *p, struct format *f)
{
	next(p);
	expect_word(p, "is");
	if (p->t.kind != T_NUM) {
		perr(p, p->t.off, "expected a code page number, found %s", describe(p));
		return false;
	}
	int64_t cp;
	if (str_to_i64(p->t.value, 1, 65535, &cp) != 0)
		perr(p, p->t.off, "code page %s does not exist", p->t.value);
	f->codepage = (int)cp;
	next(p);
	return true;
}

/* delimiter is 'c' (or '\t', tab, spaces); false when the text is missing. */
static bool spec_delimiter(struct parser *p, struct format *f)
{
	next(p);
	expect_word(p, "is");
	if (p->t.kind != T_STR) {
		perr(p, p->t.off, "expected the delimiter in quotes, found %s", describe(p));
		return false;
	}
	const char *d = p->t.value;
	if (!strcmp(d, "\\t") || !strcasecmp(d, "tab"))
		f->delimiter = '\t';
	else if (!strcasecmp(d, "spaces"))
		f->delimiter = ' ';
	else if (!strcmp(d, "\\\\"))
		f->delimiter = '\\';
	else if (strlen(d) == 1 && d[0] != '\n' && d[0] != '"')
		f->delimiter = d[0];
	else
		perr(p, p->t.off, "the delimiter must be one character, not '%s'", d);
	next(p);
	return true;
}

/* header is N lines */
static void spec_header(struct parser *p, struct format *f)
{
	next(p);
	expect_word(p, "is");
	int64_t h = 0;
	if (p->t.kind != T_NUM || str_to_i64(p->t.value, 0, 1000000, &h) != 0)
		perr(p, p->t.off, "expected a number of header lines, found %s", describe(p));
	f->header_lines = (int)h;
	next(p);
	if (is_word(p, "lines") || is_word(p, "line"))
		next(p);
}

/* no labels, no quotes, no eof */
static void spec_no(struct parser *p, struct format *f)
{
	next(p);
	if (is_word(p, "labels"))
		f->labels = LABELS_NONE;
	else if (is_word(p, "quotes"))
		f->no_quotes = true;
	else if (!is_word(p, "eof"))
		perr(p, p->t.off, "expected labels, quotes or eof after no, found %s", describe(p));
	next(p);
}

/* An identifier that is no specifier this reader knows. */
static void spec_unknown(struct parser *p, size_t off)
{
	static const char *const later[] = {"fix", "dif",     "biff", "html", "xml",
					    "qvx", "parquet", "kml",  "json"};
	bool known = false;
	for (size_t i = 0; i < ARRAY_LEN(later); i++)
		known |= is_word(p, later[i]);
	perr(p, off, known ? "the %s format is not supported yet" : "unknown format specifier %s",
	     p->t.value);
}

static const char *prefix_name(struct parser *p, const char *what);

/* One specifier; false when the format cannot be read on. */
static bool one_spec(struct parser *p, struct format *f)
{
	size_t off = p->t.off;
	if (simple_spec(p, f))
		return true;
	if (is_word(p, "embedded") || is_word(p, "explicit")) {
		f->labels = is_word(p, "embedded") ? LABELS_EMBEDDED : LABELS_EXPLICIT;
		next(p);
		expect_word(p, "labels");
	} else if (is_word(p, "no")) {
		spec_no(p, f);
	} else if (is_word(p, "codepage")) {
		return spec_codepage(p, f);
	} else if (is_word(p, "delimiter")) {
		return spec_delimiter(p, f);
	} else if (is_word(p, "header")) {
		spec_header(p, f);
	} else if (is_word(p, "ooxml")) {
		f->xlsx = true;
		f->qvd = false;
		next(p);
	} else if (is_word(p, "table")) { /* table is Sheet1: the workbook's sheet */
		next(p);
		expect_word(p, "is");
		const char *sheet = p->failed ? NULL : prefix_name(p, "a sheet name");
		if (sheet && str_copy(f->sheet, sheet, sizeof(f->sheet)) >= sizeof(f->sheet))
			perr(p, off, "the sheet name is too long");
	} else if (p->t.kind == T_IDENT) {
		spec_unknown(p, off);
	} else {
		perr(p, off, "expected a format specifier, found %s", describe(p));
	}
	return true;
}

/* (txt, utf8, embedded labels, delimiter is ',', ...) */
static void format_spec(struct parser *p, struct format *f)
{
	if (!is_op(p, '('))
		return;
	next(p);
	while (!p->failed && !is_op(p, ')')) {
		if (!one_spec(p, f))
			break;
		if (is_op(p, ','))
			next(p);
		else if (!is_op(p, ')'))
			perr(p, p->t.off, "expected ',' or ')' in the format, found %s",
			     describe(p));
	}
	next(p);
}

/* ---------------------------------------------------------------- LOAD */

static void items(struct parser *p, struct load_item **out, int *n_out, bool allow_star)
{
	int cap = 8, n = 0;
	struct load_item *it = arena_alloc(p->a, sizeof(*it) * (size_t)cap);
	for (;;) {
		if (n == cap) {
			struct load_item *more = arena_alloc(p->a, sizeof(*more) * (size_t)cap * 2);
			memcpy(more, it, sizeof(*more) * (size_t)n);
			it = more;
			cap *= 2;
		}
		size_t from = p->t.off;
		if (allow_star && is_op(p, '*')) {
			next(p);
			it[n].expr = NULL;
		} else {
			it[n].expr = expr_or(p);
		}
		if (!p->failed) {
			size_t to = p->t.off;
			while (to > from && isspace((unsigned char)p->text[to - 1]))
				to--;
			it[n].text = arena_strndup(p->a, p->text + from, to - from);
		}
		if (p->failed)
			break;
		if (is_word(p, "AS")) {
			next(p);
			it[n].as = p->t.kind == T_STR ? p->t.value : NULL;
			if (it[n].as)
				next(p);
			else
				it[n].as = name(p, "a field name after AS");
		}
		n++;
		if (!is_op(p, ','))
			break;
		next(p);
	}
	*out = it;
	*n_out = n;
}

/* A name in a list (CROSSTABLE( ), INTERVALMATCH( ), DERIVE, tags): a name, or a text in
 * quotes. */
static const char *prefix_name(struct parser *p, const char *what)
{
	if (p->t.kind == T_STR) {
		const char *v = p->t.value;
		next(p);
		return v;
	}
	return name(p, what);
}

static const char **name_list(struct parser *p, int *n_out, const char *what)
{
	int cap = 8, n = 0;
	const char **v = arena_alloc(p->a, sizeof(char *) * (size_t)cap);
	for (;;) {
		if (n == cap) {
			const char **more = arena_alloc(p->a, sizeof(char *) * (size_t)cap * 2);
			memcpy(more, v, sizeof(char *) * (size_t)n);
			v = more;
			cap *= 2;
		}
		v[n] = prefix_name(p, what);
		if (p->failed)
			break;
		n++;
		if (!is_op(p, ','))
			break;
		next(p);
	}
	*n_out = n;
	return v;
}

/* The optional "(Table)" after CONCATENATE, JOIN or KEEP. */
static const char *target(struct parser *p)
{
	if (!is_op(p, '('))
		return NULL;
	next(p);
	const char *t = name(p, "a table name");
	expect_op(p, ')');
	return t;
}

static void inline_data(struct parser *p, struct load *l)
{
	size_t i = p->t.off;
	char c = p->text[i];
	if (c != '[' && c != '"' && c != '\'' && c != '`') {
		perr(p, i, "expected the inline data in [ ], found %s", describe(p));
		return;
	}
	size_t k = script_skip_quoted(p->text, i);
	if (!k) {
		perr(p, i, "the inline data is not closed");
		return;
	}
	l->inline_data = arena_strndup(p->a, p->text + i + 1, k - i - 2);
	p->pos = k;
	next(p);
}

/* INNER, OUTER, LEFT or RIGHT, then JOIN or KEEP, then the optional (Table). */
static void join_prefix(struct parser *p, struct load *l)
{
	size_t off = p->t.off;
	enum load_join j = is_word(p, "INNER")	 ? JOIN_INNER
			   : is_word(p, "OUTER") ? JOIN_OUTER
			   : is_word(p, "LEFT")	 ? JOIN_LEFT
						 : JOIN_RIGHT;
	next(p);
	if (is_word(p, "KEEP")) {
		if (j == JOIN_OUTER) {
			perr(p, off, "OUTER KEEP does not exist: use INNER, LEFT or RIGHT");
			return;
		}
		l->keep = true;
	} else if (!is_word(p, "JOIN")) {
		perr(p, p->t.off, "expected JOIN or KEEP, found %s", describe(p));
		return;
	}
	l->join = j;
	next(p);
	l->target = target(p);
}

/* CROSSTABLE(attribute, data[, n]). */
static void crosstable(struct parser *p, struct load *l)
{
	next(p);
	if (!expect_op(p, '('))
		return;
	l->cross_attr = prefix_name(p, "a field name in CROSSTABLE");
	if (!p->failed && expect_op(p, ','))
		l->cross_data = prefix_name(p, "a field name in CROSSTABLE");
	l->cross_keep = 1;
	if (!p->failed && is_op(p, ',')) {
		next(p);
		int64_t n = 0;
		if (p->t.kind != T_NUM || str_to_i64(p->t.value, 0, 1000, &n) != 0) {
			perr(p, p->t.off,
			     "CROSSTABLE's third argument is the number of fields kept");
			return;
		}
		l->cross_keep = (int)n;
		next(p);
	}
	expect_op(p, ')');
}

/* INTERVALMATCH(field[, key, ...]). */
static void intervalmatch(struct parser *p, struct load *l)
{
	next(p);
	if (!expect_op(p, '('))
		return;
	const char *names[17];
	int n = 0;
	do {
		if (n && !expect_op(p, ','))
			return;
		if (n == 17) {
			perr(p, p->t.off, "INTERVALMATCH takes a field and at most 16 keys");
			return;
		}
		names[n++] = prefix_name(p, "a field name in INTERVALMATCH");
	} while (!p->failed && is_op(p, ','));
	if (p->failed || !expect_op(p, ')'))
		return;
	l->im = arena_alloc(p->a, sizeof(char *) * (size_t)n);
	memcpy(l->im, names, sizeof(char *) * (size_t)n);
	l->n_im = n;
}

/* HIERARCHY(NodeID, ParentID, NodeName[, ParentName, PathSource, PathName, PathDelimiter,
 * Depth]): the first three are needed; a later one may be left empty. */
static void hierarchy(struct parser *p, struct load *l)
{
	next(p);
	if (!expect_op(p, '('))
		return;
	for (int n = 0; !p->failed && n < 8; n++) {
		if (n && !is_op(p, ','))
			break;
		if (n)
			next(p);
		if (n >= 3 && (is_op(p, ',') || is_op(p, ')')))
			continue; /* left empty */
		l->hier[n] = prefix_name(p, "a field name in HIERARCHY");
	}
	if (!p->failed && (!l->hier[0] || !l->hier[1] || !l->hier[2]))
		perr(p, p->t.off, "HIERARCHY needs NodeID, ParentID and NodeName");
	else if (!p->failed)
		expect_op(p, ')');
}

/* MAPPING, CONCATENATE, NOCONCATENATE, JOIN, KEEP, FIRST n, CROSSTABLE, INTERVALMATCH,
 * GENERIC, HIERARCHY, ADD and REPLACE before LOAD. */
static void load_prefixes(struct parser *p, struct load *l)
{
	while (!p->failed) {
		if (is_word(p, "CROSSTABLE") && !l->cross_attr) {
			crosstable(p, l);
		} else if (is_word(p, "INTERVALMATCH") && !l->im) {
			intervalmatch(p, l);
		} else if (is_word(p, "HIERARCHY") && !l->hier[0]) {
			hierarchy(p, l);
		} else if (is_word(p, "GENERIC")) {
			l->generic = true;
			next(p);
		} else if (is_word(p, "ADD") || is_word(p, "REPLACE")) {
			/* a full reload runs ADD and REPLACE loads as plain ones */
			next(p);
			if (is_word(p, "ONLY")) {
				l->partial_only = true;
				next(p);
			}
		} else if (is_word(p, "FIRST") && !l->first) {
			next(p);
			l->first = expr_or(p);
		} else if (is_word(p, "MAPPING")) {
			l->mapping = true;
			next(p);
		} else if (is_word(p, "CONCATENATE")) {
			l->concatenate = true;
			next(p);
			l->target = target(p);
		} else if (is_word(p, "NOCONCATENATE")) {
			l->noconcatenate = true;
			next(p);
		} else if (is_word(p, "JOIN")) {
			l->join = JOIN_OUTER;
			next(p);
			l->target = target(p);
		} else if (is_word(p, "INNER") || is_word(p, "OUTER") || is_word(p, "LEFT") ||
			   is_word(p, "RIGHT")) {
			join_prefix(p, l);
		} else if (is_word(p, "KEEP")) {
			perr(p, p->t.off, "KEEP needs INNER, LEFT or RIGHT before it");
		} else {
			return;
		}
	}
}

/* FROM file, INLINE [...], RESIDENT table, AUTOGENERATE n, or none (a preceding load). */
static void load_source(struct parser *p, struct load *l)
{
	if (is_word(p, "FROM")) {
		next(p);
		l->source = SRC_FILE;
		l->path = path(p);
		if (l->path) {
			size_t n = strlen(l->path);
			l->format.qvd = n > 4 && strcasecmp(l->path + n - 4, ".qvd") == 0;
			l->format.xlsx = n > 5 && strcasecmp(l->path + n - 5, ".xlsx") == 0;
		}
		format_spec(p, &l->format);
	} else if (is_word(p, "INLINE")) {
		next(p);
		l->source = SRC_INLINE;
		inline_data(p, l);
		format_spec(p, &l->format);
		if (l->format.qvd)
			perr(p, p->t.off, "inline data is text, not qvd");
	} else if (is_word(p, "RESIDENT")) {
		next(p);
		l->source = SRC_RESIDENT;
		l->path = name(p, "a table name after RESIDENT");
	} else if (is_word(p, "AUTOGENERATE")) {
		next(p);
		l->source = SRC_AUTOGENERATE;
		l->count = expr_or(p);
	} else {
		l->source = SRC_PRECEDING;
	}
}

/* ORDER BY field [ASC|DESC], ... (RESIDENT loads only) */
static void order_by(struct parser *p, struct load *l)
{
	next(p);
	expect_word(p, "BY");
	int cap = 8;
	l->order_by = arena_alloc(p->a, sizeof(char *) * (size_t)cap);
	l->order_desc = arena_alloc(p->a, sizeof(bool) * (size_t)cap);
	for (;;) {
		if (l->n_order_by == cap) {
			const char **m = arena_alloc(p->a, sizeof(char *) * (size_t)cap * 2);
			bool *d = arena_alloc(p->a, sizeof(bool) * (size_t)cap * 2);
			memcpy(m, l->order_by, sizeof(char *) * (size_t)cap);
			memcpy(d, l->order_desc, sizeof(bool) * (size_t)cap);
			l->order_by = m;
			l->order_desc = d;
			cap *= 2;
		}
		const char *f = name(p, "a field after ORDER BY");
		if (!f)
			break;
		bool desc = false;
		if (is_word(p, "DESC") || is_word(p, "ASC")) {
			desc = is_word(p, "DESC");
			next(p);
		}
		l->order_by[l->n_order_by] = f;
		l->order_desc[l->n_order_by++] = desc;
		if (!is_op(p, ','))
			break;
		next(p);
	}
	if (l->source != SRC_RESIDENT && !p->failed)
		perr(p, p->t.off, "ORDER BY works only with RESIDENT loads");
}

/* WHERE, WHILE, GROUP BY and ORDER BY after the source, each at most once. */
static void load_clauses(struct parser *p, struct load *l)
{
	while (!p->failed && p->t.kind != T_END) {
		if (is_word(p, "WHERE") && !l->where) {
			next(p);
			l->where = expr_or(p);
		} else if (is_word(p, "WHILE") && !l->while_) {
			next(p);
			l->while_ = expr_or(p);
		} else if (is_word(p, "GROUP") && !l->group_by) {
			next(p);
			expect_word(p, "BY");
			l->group_by = name_list(p, &l->n_group_by, "a field after GROUP BY");
		} else if (is_word(p, "ORDER") && !l->order_by) {
			order_by(p, l);
		} else {
			perr(p, p->t.off, "unexpected %s in LOAD", describe(p));
		}
	}
}

static void load(struct parser *p, struct load *l)
{
	format_default(&l->format);
	load_prefixes(p, l);
	if (p->failed)
		return;
	if (is_word(p, "SQL") || is_word(p, "SELECT")) {
		perr(p, p->t.off,
		     "SQL SELECT is not supported: load from files, INLINE or RESIDENT");
		return;
	}
	if (!expect_word(p, "LOAD"))
		return;
	if (is_word(p, "DISTINCT")) {
		l->distinct = true;
		next(p);
	}
	items(p, &l->items, &l->n_items, true);
	if (p->failed)
		return;
	load_source(p, l);
	load_clauses(p, l);
}

/* ---------------------------------------------------------------- other statements */

static void store(struct parser *p, struct stmt *s)
{
	format_default(&s->store.format);
	s->store.format.qvd = true;
	struct load_item *it = NULL;
	int n = 0;
	items(p, &it, &n, true);
	if (p->failed)
		return;
	if (is_word(p, "FROM")) {
		next(p);
		s->store.items = it;
		s->store.n_items = n;
		s->store.table = name(p, "a table name after FROM");
		if (n == 1 && !it[0].expr) { /* STORE * FROM T: the whole table */
			s->store.items = NULL;
			s->store.n_items = 0;
		}
	} else if (n == 1 && it[0].expr && it[0].expr->kind == EX_FIELD && !it[0].as) {
		s->store.table = it[0].expr->text;
	} else {
		perr(p, p->t.off,
		     "expected STORE table INTO file, or STORE fields FROM table INTO file");
		return;
	}
	if (!expect_word(p, "INTO"))
		return;
	s->store.path = path(p);
	if (is_op(p, '(')) {
		s->store.format.qvd = false;
		format_spec(p, &s->store.format);
	}
}

static void drop(struct parser *p, struct stmt *s)
{
	if (is_word(p, "MAPPING")) {
		next(p);
		if (!is_word(p, "TABLE") && !is_word(p, "TABLES")) {
			perr(p, p->t.off, "expected TABLE after DROP MAPPING, found %s",
			     describe(p));
			return;
		}
	}
	if (is_word(p, "TABLE") || is_word(p, "TABLES")) {
		next(p);
		s->kind = ST_DROP_TABLES;
		s->names = name_list(p, &s->n_names, "a table name");
	} else if (is_word(p, "FIELD") || is_word(p, "FIELDS")) {
		next(p);
		s->kind = ST_DROP_FIELDS;
		s->names = name_list(p, &s->n_names, "a field name");
		if (is_word(p, "FROM")) {
			next(p);
			s->from = name_list(p, &s->n_from, "a table name");
		}
	} else {
		perr(p, p->t.off, "expected TABLE or FIELD after DROP, found %s", describe(p));
	}
}

/* Whether the current word is a variable given a value ("Connect = 1" is LET). */
static bool assigns(struct parser *p)
{
	size_t save = p->pos;
	struct tok t = p->t;
	next(p);
	bool eq = is_op(p, '=');
	p->pos = save;
	p->t = t;
	return eq;
}

/* TAG FIELD[S] a, b WITH 'tag', ...; UNTAG the same. */
static void tag(struct parser *p, struct stmt *s)
{
	s->kind = ST_TAG;
	s->until = is_word(p, "UNTAG");
	next(p);
	if (!is_word(p, "FIELD") && !is_word(p, "FIELDS")) {
		perr(p, p->t.off, "expected FIELD or FIELDS after %s, found %s",
		     s->until ? "UNTAG" : "TAG", describe(p));
		return;
	}
	next(p);
	if (is_word(p, "USING")) {
		perr(p, p->t.off, "TAG FIELDS USING a mapping table is not supported yet");
		return;
	}
	s->names = name_list(p, &s->n_names, "a field name");
	if (!p->failed && expect_word(p, "WITH"))
		s->from = name_list(p, &s->n_from, "a tag");
}

/* a TO b, c TO d (RENAME) or a AS b, ... (ALIAS): into names, two by two. */
static void pairs(struct parser *p, struct stmt *s, const char *word)
{
	int cap = 8;
	s->names = arena_alloc(p->a, sizeof(char *) * (size_t)cap);
	while (!p->failed) {
		if (s->n_names + 2 > cap) {
			const char **more = arena_alloc(p->a, sizeof(char *) * (size_t)cap * 2);
			memcpy(more, s->names, sizeof(char *) * (size_t)s->n_names);
			s->names = more;
			cap *= 2;
		}
		s->names[s->n_names] = prefix_name(p, "a name");
		if (p->failed || !expect_word(p, word))
			return;
		s->names[s->n_names + 1] = prefix_name(p, "the new name");
		s->n_names += 2;
		if (!is_op(p, ','))
			break;
		next(p);
	}
}

/* MAP a, b USING m, MAP * USING m; UNMAP a, b or UNMAP *. */
static void map_fields(struct parser *p, struct stmt *s)
{
	s->kind = ST_MAP;
	s->until = is_word(p, "UNMAP");
	next(p);
	if (is_op(p, '*')) {
		next(p);
		s->names = arena_alloc(p->a, sizeof(char *));
		s->names[0] = "*";
		s->n_names = 1;
	} else {
		s->names = name_list(p, &s->n_names, "a field name");
	}
	if (!s->until && !p->failed && expect_word(p, "USING"))
		s->name = prefix_name(p, "a mapping table name");
}

static void patterns(struct parser *p, struct stmt *s);

/* The statements that change nothing here (kept in the log), those that are refused with
 * why, and those of the settings of later loads. False: none of them. */
static bool other_statement(struct parser *p, struct stmt *s)
{
	size_t off = p->t.off;
	if (is_word(p, "SECTION")) {
		next(p);
		if (is_word(p, "ACCESS"))
			perr(
			    p, off,
			    "SECTION ACCESS is not supported yet: the access table would be loaded "
			    "as data, and everyone who may open the app would see all of it");
		s->kind = ST_NOTED;
		s->raw = "SECTION APPLICATION";
		next(p);
	} else if (is_word(p, "BINARY")) {
		s->kind = ST_BINARY;
		next(p);
		if (p->t.kind == T_END)
			perr(p, off, "BINARY names the app file whose tables it loads");
		s->raw = path(p);
	} else if (is_word(p, "EXECUTE")) {
		perr(p, off, "EXECUTE is not allowed: a load script runs no programs here");
	} else if (is_word(p, "COMMENT") || is_word(p, "STAR") || is_word(p, "FORCE") ||
		   is_word(p, "SEARCH")) {
		s->kind = ST_NOTED;
		s->raw = rest(p);
	} else if (is_word(p, "ALIAS")) {
		s->kind = ST_ALIAS;
		next(p);
		pairs(p, s, "AS");
	} else if (is_word(p, "MAP") || is_word(p, "UNMAP")) {
		map_fields(p, s);
	} else if (is_word(p, "NULLASVALUE") || is_word(p, "NULLASNULL")) {
		bool null = is_word(p, "NULLASNULL");
		next(p);
		patterns(p, s);
		s->kind = ST_NULLAS;
		s->until = null;
	} else if (is_word(p, "DIRECTORY")) {
		s->kind = ST_DIRECTORY;
		next(p);
		s->raw = p->t.kind == T_END ? "" : path(p);
	} else {
		return false;
	}
	return true;
}

static void rename_(struct parser *p, struct stmt *s)
{
	if (is_word(p, "TABLE") || is_word(p, "TABLES"))
		s->kind = ST_RENAME_TABLE;
	else if (is_word(p, "FIELD") || is_word(p, "FIELDS"))
		s->kind = ST_RENAME_FIELD;
	else {
		perr(p, p->t.off, "expected TABLE or FIELD after RENAME, found %s", describe(p));
		return;
	}
	next(p);
	if (is_word(p, "USING")) { /* the pairs are the rows of a mapping table */
		next(p);
		s->name = name(p, "a mapping table name");
		return;
	}
	pairs(p, s, "TO");
}

/* QUALIFY/UNQUALIFY: names with wildcards, taken as written. */
static void patterns(struct parser *p, struct stmt *s)
{
	const char *r = rest(p);
	int cap = 8;
	s->names = arena_alloc(p->a, sizeof(char *) * (size_t)cap);
	while (*r) {
		const char *comma = r;
		while (*comma && *comma != ',') {
			if (*comma == '[' || *comma == '"' || *comma == '`' || *comma == '\'') {
				size_t k = script_skip_quoted(comma, 0);
				comma = k ? comma + k : comma + strlen(comma);
			} else {
				comma++;
			}
		}
		const char *b = r, *e2 = comma;
		while (b < e2 && isspace((unsigned char)*b))
			b++;
		while (e2 > b && isspace((unsigned char)e2[-1]))
			e2--;
		if (e2 - b >= 2 &&
		    ((*b == '[' && e2[-1] == ']') || (*b == '"' && e2[-1] == '"') ||
		     (*b == '\'' && e2[-1] == '\'') || (*b == '`' && e2[-1] == '`'))) {
			b++;
			e2--;
		}
		if (e2 > b) {
			if (s->n_names == cap) {
				const char **more =
				    arena_alloc(p->a, sizeof(char *) * (size_t)cap * 2);
				memcpy(more, s->names, sizeof(char *) * (size_t)cap);
				s->names = more;
				cap *= 2;
			}
			s->names[s->n_names++] = arena_strndup(p->a, b, (size_t)(e2 - b));
		}
		r = *comma ? comma + 1 : comma;
	}
	if (s->n_names == 0)
		perr(p, p->t.off, "expected field names");
}

static void call_args(struct parser *p, struct stmt *s, bool params)
{
	if (!is_op(p, '('))
		return;
	next(p);
	int cap = 8;
	if (params)
		s->names = arena_alloc(p->a, sizeof(char *) * (size_t)cap);
	else
		s->args = arena_alloc(p->a, sizeof(struct expr *) * (size_t)cap);
	while (!p->failed && !is_op(p, ')')) {
		int *n = params ? &s->n_names : &s->n_args;
		if (*n == cap) {
			perr(p, p->t.off, "more than %d %s", cap,
			     params ? "parameters" : "arguments");
			return;
		}
		if (params)
			s->names[(*n)++] = name(p, "a parameter name");
		else
			s->args[(*n)++] = expr_or(p);
		if (is_op(p, ','))
			next(p);
		else if (!is_op(p, ')'))
			perr(p, p->t.off, "expected ',' or ')', found %s", describe(p));
	}
	next(p);
}

/* END IF, END SUB, END SWITCH, and their one-word forms ENDIF, ENDSUB and ENDSWITCH. */
static void block_end(struct parser *p, struct stmt *s)
{
	bool one_word = !is_word(p, "END");
	if (one_word)
		s->kind = is_word(p, "ENDIF")	 ? ST_END_IF
			  : is_word(p, "ENDSUB") ? ST_END_SUB
						 : ST_END_SWITCH;
	next(p);
	if (one_word)
		return;
	if (is_word(p, "IF"))
		s->kind = ST_END_IF;
	else if (is_word(p, "SUB"))
		s->kind = ST_END_SUB;
	else if (is_word(p, "SWITCH"))
		s->kind = ST_END_SWITCH;
	else
		perr(p, p->t.off, "expected IF, SUB or SWITCH after END, found %s", describe(p));
	next(p);
}

/* Expressions separated by commas, into s->args (FOR EACH's values, CASE's). */
static void expr_list(struct parser *p, struct stmt *s)
{
	int cap = 16;
	s->args = arena_alloc(p->a, sizeof(*s->args) * (size_t)cap);
	while (!p->failed) {
		if (s->n_args == cap) {
			struct expr **more = arena_alloc(p->a, sizeof(*more) * (size_t)cap * 2);
			memcpy(more, s->args, sizeof(*more) * (size_t)cap);
			s->args = more;
			cap *= 2;
		}
		s->args[s->n_args++] = expr_or(p);
		if (!is_op(p, ','))
			break;
		next(p);
	}
}

/* SWITCH expr, CASE value[, value ...], DEFAULT. */
static void switch_part(struct parser *p, struct stmt *s)
{
	s->kind = is_word(p, "SWITCH") ? ST_SWITCH : is_word(p, "CASE") ? ST_CASE : ST_DEFAULT;
	next(p);
	if (s->kind == ST_SWITCH) {
		s->expr = expr_or(p);
		return;
	}
	if (s->kind == ST_CASE)
		expr_list(p, s);
}

static void control(struct parser *p, struct stmt *s)
{
	size_t off = p->t.off;
	if (is_word(p, "IF") || is_word(p, "ELSEIF")) {
		s->kind = is_word(p, "IF") ? ST_IF : ST_ELSEIF;
		next(p);
		s->expr = expr_or(p);
		expect_word(p, "THEN");
	} else if (is_word(p, "ELSE")) {
		s->kind = ST_ELSE;
		next(p);
	} else if (is_word(p, "ENDIF") || is_word(p, "ENDSUB") || is_word(p, "ENDSWITCH") ||
		   is_word(p, "END")) {
		block_end(p, s);
	} else if (is_word(p, "SWITCH") || is_word(p, "CASE") || is_word(p, "DEFAULT")) {
		switch_part(p, s);
	} else if (is_word(p, "FOR")) {
		next(p);
		if (is_word(p, "EACH")) {
			next(p);
			s->kind = ST_FOR_EACH;
			s->name = name(p, "a variable name");
			expect_word(p, "IN");
			expr_list(p, s);
		} else {
			s->kind = ST_FOR;
			s->name = name(p, "a variable name");
			expect_op(p, '=');
			s->expr = expr_or(p);
			expect_word(p, "TO");
			s->to = expr_or(p);
			if (is_word(p, "STEP")) {
				next(p);
				s->step = expr_or(p);
			}
		}
	} else if (is_word(p, "NEXT")) {
		s->kind = ST_NEXT;
		next(p);
		if (p->t.kind == T_IDENT || p->t.kind == T_NAME)
			s->name = name(p, "a variable name");
	} else if (is_word(p, "SUB")) {
		s->kind = ST_SUB;
		next(p);
		s->name = name(p, "a sub name");
		call_args(p, s, true);
	} else if (is_word(p, "CALL")) {
		s->kind = ST_CALL;
		next(p);
		s->name = name(p, "a sub name");
		call_args(p, s, false);
	} else if (is_word(p, "EXIT")) {
		s->kind = ST_EXIT;
		next(p);
		if (is_word(p, "SCRIPT") || is_word(p, "FOR") || is_word(p, "SUB") ||
		    is_word(p, "DO"))
			s->name = p->t.value;
		else
			perr(p, p->t.off, "expected SCRIPT, FOR, SUB or DO after EXIT, found %s",
			     describe(p));
		next(p);
		if (is_word(p, "WHEN") || is_word(p, "UNLESS")) {
			s->until = is_word(p, "UNLESS");
			next(p);
			s->expr = expr_or(p);
		}
	} else if (is_word(p, "DO") || is_word(p, "LOOP")) {
		s->kind = is_word(p, "DO") ? ST_DO : ST_LOOP;
		next(p);
		if (is_word(p, "WHILE") || is_word(p, "UNTIL")) {
			s->until = is_word(p, "UNTIL");
			next(p);
			s->expr = expr_or(p);
		}
	} else {
		perr(p, off, "unknown control statement %s", describe(p));
	}
}

/* TAGGED ('$a', '$b') after a DECLARE's field: the tags (kept for the definition itself,
 * skipped for its fields: fields carry no tags here). */
static const char **tagged(struct parser *p, int *n)
{
	*n = 0;
	if (!is_word(p, "TAGGED"))
		return NULL;
	next(p);
	if (!expect_op(p, '('))
		return NULL;
	const char **tags = name_list(p, n, "a tag");
	expect_op(p, ')');
	return tags;
}

/* Label: DECLARE [FIELD] DEFINITION [TAGGED (tags)] FIELDS expr AS name [TAGGED (...)],
 * ... [GROUPS ...]: the definition (label), its tags (names) and its fields (load.items,
 * whose expressions read the source field as $1). */
static void declare(struct parser *p, struct stmt *s)
{
	s->kind = ST_DECLARE;
	next(p);
	if (is_word(p, "FIELD"))
		next(p);
	if (!expect_word(p, "DEFINITION"))
		return;
	if (!s->label) {
		perr(p, p->t.off, "DECLARE needs a label: the definition's name");
		return;
	}
	s->names = tagged(p, &s->n_names);
	if (is_word(p, "PARAMETERS")) {
		perr(p, p->t.off, "DECLARE with PARAMETERS is not supported yet");
		return;
	}
	if (!p->failed && !expect_word(p, "FIELDS"))
		return;
	int cap = 8, n = 0, nt;
	struct load_item *it = arena_alloc(p->a, sizeof(*it) * (size_t)cap);
	while (!p->failed) {
		if (n == cap) {
			struct load_item *more = arena_alloc(p->a, sizeof(*more) * (size_t)cap * 2);
			memcpy(more, it, sizeof(*more) * (size_t)n);
			it = more;
			cap *= 2;
		}
		it[n].expr = expr_or(p);
		if (!p->failed && expect_word(p, "AS"))
			it[n].as = prefix_name(p, "a field name after AS");
		(void)tagged(p, &nt);
		n++;
		if (!is_op(p, ','))
			break;
		next(p);
	}
	s->load.items = it;
	s->load.n_items = n;
	if (is_word(p, "GROUPS")) /* drill-down groups: not kept (the rest is skipped) */
		while (p->t.kind != T_END)
			next(p);
}

/* DERIVE FIELDS FROM FIELDS a, b USING def; FROM EXPLICIT TAGS (tags) USING def; FROM
 * IMPLICIT TAG USING def: the fields (names) or tags (from; until for IMPLICIT: the
 * definition's own tags), and the definition (name). */
static void derive(struct parser *p, struct stmt *s)
{
	s->kind = ST_DERIVE;
	next(p);
	if (!expect_word(p, "FIELDS") || !expect_word(p, "FROM"))
		return;
	if (is_word(p, "FIELDS")) {
		next(p);
		s->names = name_list(p, &s->n_names, "a field name");
	} else if (is_word(p, "EXPLICIT")) {
		next(p);
		if (expect_word(p, "TAGS") && expect_op(p, '(')) {
			s->from = name_list(p, &s->n_from, "a tag");
			expect_op(p, ')');
		}
	} else if (is_word(p, "IMPLICIT")) {
		next(p);
		s->until = true;
		expect_word(p, "TAG");
	} else {
		perr(p, p->t.off, "expected FIELDS, EXPLICIT TAGS or IMPLICIT TAG, found %s",
		     describe(p));
	}
	if (!p->failed && expect_word(p, "USING"))
		s->name = prefix_name(p, "a definition name");
}

/* WHEN condition or UNLESS condition before a statement (or after its label). */
static void when_prefix(struct parser *p, struct stmt *s)
{
	if (s->when || (!is_word(p, "WHEN") && !is_word(p, "UNLESS")))
		return;
	s->unless = is_word(p, "UNLESS");
	next(p);
	s->when = expr_or(p);
}

/* A statement that is not a control statement: its WHEN or UNLESS, its label, and what it
 * is (LOAD when nothing else). */
static void regular(struct parser *p, struct stmt *s)
{
	when_prefix(p, s);
	/* a label: Name: or [Long name]: */
	if (p->t.kind == T_IDENT || p->t.kind == T_NAME) {
		size_t save = p->pos;
		struct tok t = p->t;
		next(p);
		if (is_op(p, ':')) {
			s->label = t.value;
			next(p);
		} else {
			p->pos = save;
			p->t = t;
		}
	}
	when_prefix(p, s);
	if (is_word(p, "SET") || is_word(p, "LET")) {
		bool set = is_word(p, "SET");
		s->kind = set ? ST_SET : ST_LET;
		next(p);
		s->name = name(p, "a variable name");
		expect_op(p, '=');
		if (p->failed) {
		} else if (set) {
			s->raw = p->t.kind == T_END ? "" : rest(p);
		} else if (p->t.kind != T_END) {
			s->expr = expr_or(p);
		}
	} else if (is_word(p, "DROP")) {
		next(p);
		drop(p, s);
	} else if (is_word(p, "RENAME")) {
		next(p);
		rename_(p, s);
	} else if (is_word(p, "STORE")) {
		s->kind = ST_STORE;
		next(p);
		store(p, s);
	} else if (is_word(p, "QUALIFY") || is_word(p, "UNQUALIFY")) {
		s->kind = is_word(p, "QUALIFY") ? ST_QUALIFY : ST_UNQUALIFY;
		next(p);
		patterns(p, s);
	} else if (!assigns(p) && other_statement(p, s)) {
	} else if (is_word(p, "TAG") || is_word(p, "UNTAG")) {
		tag(p, s);
	} else if ((is_word(p, "LIB") || is_word(p, "CONNECT") || is_word(p, "ODBC") ||
		    is_word(p, "OLEDB") || is_word(p, "DISCONNECT")) &&
		   !assigns(p)) {
		/* connections to databases: what follows them (SQL) is refused where it is
		 */
		s->kind = ST_CONNECT;
		s->raw = rest(p);
	} else if (is_word(p, "DECLARE")) {
		declare(p, s);
	} else if (is_word(p, "DERIVE")) {
		derive(p, s);
	} else if (is_word(p, "TRACE")) {
		s->kind = ST_TRACE;
		next(p);
		s->raw = p->t.kind == T_END ? "" : rest(p);
	} else if (is_word(p, "SLEEP")) {
		s->kind = ST_SLEEP;
		next(p);
		if (p->t.kind == T_END)
			perr(p, p->t.off, "SLEEP needs a number of milliseconds");
		else
			s->expr = expr_or(p);
	} else if (p->t.kind == T_IDENT && !s->label) {
		/* "x = 1" is LET without its keyword */
		size_t save = p->pos;
		struct tok t = p->t;
		next(p);
		if (is_op(p, '=')) {
			s->kind = ST_LET;
			s->name = t.value;
			next(p);
			if (p->t.kind != T_END)
				s->expr = expr_or(p);
		} else {
			p->pos = save;
			p->t = t;
			s->kind = ST_LOAD;
			load(p, &s->load);
		}
	} else {
		s->kind = ST_LOAD;
		load(p, &s->load);
	}
}

int script_parse(const char *text, int line, int col, bool is_control_stmt, struct arena *a,
		 struct stmt **out, struct err *e)
{
	*out = NULL;
	struct parser p = {.text = text, .line = line, .col = col, .a = a, .e = e};
	struct stmt *s = arena_alloc(a, sizeof(*s));
	s->line = line;
	s->col = col;
	next(&p);
	if (p.t.kind == T_END) {
		s->kind = ST_EMPTY;
	} else if (is_control_stmt) {
		control(&p, s);
	} else {
		regular(&p, s);
	}
	if (!p.failed && p.t.kind != T_END)
		perr(&p, p.t.off, "unexpected %s at the end of the statement", describe(&p));
	if (p.failed)
		return ERR_INVALID;
	*out = s;
	return 0;
}
