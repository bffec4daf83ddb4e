/* parse.c: the load script parser's tokens and expressions (see parse.h); script.c parses
 * the statements around them.
 *
 * The parser is recursive descent over tokens. Positions are counted as the script has
 * them, so every error says where. */
#include "script/parse.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* ---------------------------------------------------------------- tokens */

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

int script_perr(struct parser *p, size_t off, const char *fmt, ...)
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
void script_next(struct parser *p)
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
			script_perr(p, i, "%s is not closed",
				    c == '\'' ? "a string" : "a quoted name");
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
			script_perr(p, i, "unexpected character '%c'", c);
	}
	p->pos = i + t.len;
	p->t = t;
}

bool script_word(const struct parser *p, const char *w)
{
	return p->t.kind == T_IDENT && strcasecmp(p->t.value, w) == 0;
}

bool script_op(const struct parser *p, int op)
{
	return p->t.kind == T_OP && p->t.op == op;
}

const char *script_describe(const struct parser *p)
{
	switch (p->t.kind) {
	case T_END: return "the end of the statement";
	case T_OP: return arena_printf(p->a, "'%.*s'", (int)p->t.len, p->text + p->t.off);
	default:
		return arena_printf(p->a, "\"%.*s\"", (int)(p->t.len > 40 ? 40 : p->t.len),
				    p->text + p->t.off);
	}
}

bool script_expect_word(struct parser *p, const char *w)
{
	if (script_word(p, w)) {
		script_next(p);
		return true;
	}
	script_perr(p, p->t.off, "expected %s, found %s", w, script_describe(p));
	return false;
}

bool script_expect_op(struct parser *p, int op)
{
	if (script_op(p, op)) {
		script_next(p);
		return true;
	}
	script_perr(p, p->t.off, "expected '%c', found %s", op, script_describe(p));
	return false;
}

/* A field or table name: an identifier or a quoted name. */
const char *script_name(struct parser *p, const char *what)
{
	if (p->t.kind == T_IDENT || p->t.kind == T_NAME) {
		const char *v = p->t.value;
		script_next(p);
		return v;
	}
	script_perr(p, p->t.off, "expected %s, found %s", what, script_describe(p));
	return NULL;
}

/* ---------------------------------------------------------------- expressions */

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
	script_next(p);
	bool qual = !script_op(p, ')') && !script_op(p, ',') && p->t.kind != T_END;
	*p = save;
	return qual;
}

/* TOTAL [<field {, field}>]: x->total, and the fields when given. */
static void total_fields(struct parser *p, struct expr *x)
{
	x->total = true;
	script_next(p);
	if (!script_op(p, '<'))
		return;
	script_next(p);
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
		script_next(p);
		if (!script_op(p, ','))
			break;
		script_next(p);
	}
	if (!p->failed && x->n_total_fields == 0)
		script_perr(p, p->t.off, "TOTAL <...> names the fields it keeps, found %s",
			    script_describe(p));
	else if (!p->failed && !script_op(p, '>'))
		script_perr(p, p->t.off, "expected ',' or '>' in TOTAL <...>, found %s",
			    script_describe(p));
	else
		script_next(p);
}

static struct set_expr *set_expression(struct parser *p)
{
	struct set_expr *s = arena_alloc(p->a, sizeof(*s));
	s->ident = '$';
	script_next(p); /* { */
	if (p->t.kind == T_NUM && strcmp(p->t.value, "1") == 0) {
		s->ident = '1';
		script_next(p);
	} else if (p->t.kind == T_IDENT && strcmp(p->t.value, "$") == 0) {
		script_next(p);
	}
	if (script_op(p, '<')) {
		script_next(p);
		int cap = 4;
		s->mods = arena_alloc(p->a, sizeof(*s->mods) * (size_t)cap);
		while (!p->failed && !script_op(p, '>')) {
			if (s->n_mods == cap) {
				struct set_mod *more =
				    arena_alloc(p->a, sizeof(*more) * (size_t)cap * 2);
				memcpy(more, s->mods, sizeof(*more) * (size_t)cap);
				s->mods = more;
				cap *= 2;
			}
			struct set_mod *m = &s->mods[s->n_mods++];
			m->field = script_name(p, "a field in the set modifier");
			if (!script_expect_op(p, '='))
				break;
			if (script_op(p, ',') || script_op(p, '>')) {
				m->clear = true;
			} else {
				if (!script_expect_op(p, '{'))
					break;
				int vcap = 8;
				m->values = arena_alloc(p->a, sizeof(char *) * (size_t)vcap);
				m->search = arena_alloc(p->a, sizeof(bool) * (size_t)vcap);
				while (!p->failed && !script_op(p, '}')) {
					if (m->n_values == vcap) {
						script_perr(
						    p, p->t.off,
						    "more than %d values in one set modifier",
						    vcap);
						break;
					}
					size_t voff = p->t.off;
					bool neg = script_op(p, '-');
					if (neg)
						script_next(p);
					if (p->t.kind == T_STR || p->t.kind == T_NUM ||
					    (p->t.kind == T_NAME && p->text[p->t.off] == '"')) {
						m->search[m->n_values] = p->t.kind == T_NAME;
						m->values[m->n_values++] =
						    neg ? arena_printf(p->a, "-%s", p->t.value)
							: p->t.value;
						script_next(p);
					} else {
						script_perr(p, voff,
							    "expected a value in the set, found %s",
							    script_describe(p));
						break;
					}
					if (script_op(p, ','))
						script_next(p);
					else if (!script_op(p, '}'))
						script_perr(
						    p, p->t.off,
						    "expected ',' or '}' in the set, found %s",
						    script_describe(p));
				}
				script_next(p); /* } */
			}
			if (script_op(p, ','))
				script_next(p);
			else if (!script_op(p, '>'))
				script_perr(p, p->t.off, "expected ',' or '>' in the set, found %s",
					    script_describe(p));
		}
		script_next(p); /* > */
	}
	if (!p->failed && !script_expect_op(p, '}'))
		return NULL;
	return s;
}

static struct expr *primary(struct parser *p)
{
	if (p->failed)
		return NULL;
	if (++p->depth > MAX_NESTING) {
		script_perr(p, p->t.off, "the expression nests too deep");
		return NULL;
	}
	struct expr *x = NULL;
	size_t off = p->t.off;
	if (p->t.kind == T_NUM) {
		x = node(p, EX_NUM, off);
		x->text = p->t.value;
		x->num = strtod(p->t.value, NULL);
		script_next(p);
	} else if (p->t.kind == T_STR) {
		x = node(p, EX_STR, off);
		x->text = p->t.value;
		script_next(p);
	} else if (p->t.kind == T_NAME) {
		x = node(p, EX_FIELD, off);
		x->text = p->t.value;
		script_next(p);
	} else if (p->t.kind == T_IDENT) {
		const char *id = p->t.value;
		script_next(p);
		if (!script_op(p, '(')) {
			x = node(p, EX_FIELD, off);
			x->text = id;
		} else {
			script_next(p);
			x = node(p, EX_CALL, off);
			x->text = id;
			x->fn = script_func_find(id);
			if (script_op(p, '{'))
				x->set = set_expression(p);
			if (script_word(p, "DISTINCT")) {
				x->distinct = true;
				script_next(p);
			}
			if (script_word(p, "TOTAL") && total_qualifier(p))
				total_fields(p, x);
			int cap = 4;
			x->args = arena_alloc(p->a, sizeof(struct expr *) * (size_t)cap);
			while (!script_op(p, ')') && !p->failed) {
				if (x->n_args == cap) {
					struct expr **more = arena_alloc(
					    p->a, sizeof(struct expr *) * (size_t)cap * 2);
					memcpy(more, x->args, sizeof(struct expr *) * (size_t)cap);
					x->args = more;
					cap *= 2;
				}
				struct expr *arg;
				if (script_op(p, '*')) {
					arg = node(p, EX_STAR, p->t.off);
					script_next(p);
				} else {
					arg = script_expr(p);
				}
				x->args[x->n_args++] = arg;
				if (script_op(p, ','))
					script_next(p);
				else if (!script_op(p, ')'))
					script_perr(
					    p, p->t.off,
					    "expected ',' or ')' in the arguments of %s, found %s",
					    id, script_describe(p));
			}
			script_next(p);
		}
	} else if (script_op(p, '(')) {
		script_next(p);
		x = script_expr(p);
		script_expect_op(p, ')');
	} else {
		script_perr(p, off, "expected a value, found %s", script_describe(p));
	}
	p->depth--;
	return p->failed ? NULL : x;
}

static struct expr *unary(struct parser *p)
{
	if (script_op(p, '-') || script_op(p, '+') || script_word(p, "BITNOT")) {
		size_t off = p->t.off;
		int op = script_word(p, "BITNOT") ? OP_BITNOT : p->t.op;
		script_next(p);
		if (++p->depth > MAX_NESTING) {
			script_perr(p, off, "the expression nests too deep");
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
	while (l && (script_op(p, '*') || script_op(p, '/'))) {
		size_t off = p->t.off;
		int op = p->t.op;
		script_next(p);
		struct expr *r = unary(p);
		l = r ? binary(p, op, l, r, off) : NULL;
	}
	return l;
}

static struct expr *add(struct parser *p)
{
	struct expr *l = mul(p);
	while (l && (script_op(p, '+') || script_op(p, '-'))) {
		size_t off = p->t.off;
		int op = p->t.op;
		script_next(p);
		struct expr *r = mul(p);
		l = r ? binary(p, op, l, r, off) : NULL;
	}
	return l;
}

static struct expr *concat(struct parser *p)
{
	struct expr *l = add(p);
	while (l && script_op(p, '&')) {
		size_t off = p->t.off;
		script_next(p);
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
	while (l &&
	       (script_word(p, "BITAND") || script_word(p, "BITOR") || script_word(p, "BITXOR"))) {
		size_t off = p->t.off;
		int op = script_word(p, "BITAND")  ? OP_BITAND
			 : script_word(p, "BITOR") ? OP_BITOR
						   : OP_BITXOR;
		script_next(p);
		struct expr *r = concat(p);
		l = r ? binary(p, op, l, r, off) : NULL;
	}
	return l;
}

static struct expr *compare(struct parser *p)
{
	struct expr *l = bits(p);
	while (l && (script_op(p, '=') || script_op(p, '<') || script_op(p, '>') ||
		     script_op(p, OP_LE) || script_op(p, OP_GE) || script_op(p, OP_NE) ||
		     script_word(p, "LIKE"))) {
		size_t off = p->t.off;
		int op = p->t.kind == T_IDENT ? OP_LIKE : p->t.op;
		script_next(p);
		struct expr *r = bits(p);
		l = r ? binary(p, op, l, r, off) : NULL;
	}
	return l;
}

static struct expr *not_(struct parser *p)
{
	if (script_word(p, "NOT")) {
		size_t off = p->t.off;
		script_next(p);
		if (++p->depth > MAX_NESTING) {
			script_perr(p, off, "the expression nests too deep");
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
	while (l && script_word(p, "AND")) {
		size_t off = p->t.off;
		script_next(p);
		struct expr *r = not_(p);
		l = r ? binary(p, OP_AND, l, r, off) : NULL;
	}
	return l;
}

struct expr *script_expr(struct parser *p)
{
	if (++p->depth > MAX_NESTING) {
		script_perr(p, p->t.off, "the expression nests too deep");
		return NULL;
	}
	struct expr *l = and_(p);
	while (l && (script_word(p, "OR") || script_word(p, "XOR"))) {
		size_t off = p->t.off;
		int op = script_word(p, "OR") ? OP_OR : OP_XOR;
		script_next(p);
		struct expr *r = and_(p);
		l = r ? binary(p, op, l, r, off) : NULL;
	}
	p->depth--;
	return p->failed ? NULL : l;
}
