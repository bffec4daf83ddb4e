/* rules.c: the rule condition language (see rules.h): tokens, a recursive-descent parser
 * into a tree, and its evaluation against a subject. */
#include "rules/rules.h"

#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_DEPTH 64

enum node_kind { N_OR, N_AND, N_NOT, N_CMP, N_CALL, N_CONST };
enum cmp_op { OP_EQ, OP_NE, OP_EQ_CASE, OP_NE_CASE, OP_LIKE, OP_MATCHES };
enum func { F_EMPTY, F_ANONYMOUS, F_OWNED, F_PRIVILEGE };

struct operand {
	bool is_path;
	const char *text; /* a path (root in lower case) or a literal */
};

struct node {
	enum node_kind kind;
	struct node *a, *b;
	/* N_CMP */
	struct operand l, r;
	enum cmp_op op;
	regex_t *re; /* OP_MATCHES */
	/* N_CALL: subject path, function, its argument */
	const char *path;
	enum func fn;
	const char *arg;
	/* N_CONST */
	bool value;
	struct node *next_re; /* nodes holding a regex, for rules_free */
};

struct rule {
	struct arena *a;
	struct node *root; /* NULL: the empty condition (true) */
	struct node *regexes;
};

/* ---------------------------------------------------------------- tokens */

enum tok {
	T_END,
	T_LPAREN,
	T_RPAREN,
	T_NOT,
	T_AND,
	T_OR,
	T_EQ,
	T_NE,
	T_EQ_CASE,
	T_NE_CASE,
	T_LIKE,
	T_MATCHES,
	T_STRING,
	T_NUMBER,
	T_TRUE,
	T_FALSE,
	T_PATH,
	T_BAD,
};

struct parser {
	const char *s;
	size_t pos;
	enum tok t;
	size_t start; /* where the token starts */
	char *text;   /* T_STRING, T_NUMBER, T_PATH */
	struct rule *r;
	struct err *e;
	int depth;
	bool failed;
};

static bool word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '@' || c == '.' || c == '-' ||
	       (unsigned char)c >= 0x80;
}

static int fail(struct parser *p, size_t at, const char *fmt, ...) PRINTF_LIKE(3, 4);

static int fail(struct parser *p, size_t at, const char *fmt, ...)
{
	if (p->failed)
		return ERR_FILTER;
	p->failed = true;
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err_set(p->e, ERR_FILTER, "%s at position %zu", msg, at + 1);
	p->e->position = (int)(at + 1);
	return ERR_FILTER;
}

static const char *tok_name(enum tok t)
{
	switch (t) {
	case T_END: return "the end";
	case T_LPAREN: return "\"(\"";
	case T_RPAREN: return "\")\"";
	case T_NOT: return "not";
	case T_AND: return "and";
	case T_OR: return "or";
	case T_STRING: return "a text";
	case T_NUMBER: return "a number";
	case T_TRUE:
	case T_FALSE: return "true or false";
	case T_PATH: return "a property";
	case T_BAD: return "an unknown character";
	default: return "an operator";
	}
}

static void next(struct parser *p)
{
	const char *s = p->s;
	while (s[p->pos] == ' ' || s[p->pos] == '\t' || s[p->pos] == '\n' || s[p->pos] == '\r')
		p->pos++;
	p->start = p->pos;
	p->text = NULL;
	char c = s[p->pos];
	if (!c) {
		p->t = T_END;
		return;
	}
	p->pos++;
	switch (c) {
	case '(': p->t = T_LPAREN; return;
	case ')': p->t = T_RPAREN; return;
	case '!':
		if (s[p->pos] == '=' && s[p->pos + 1] == '=') {
			p->pos += 2;
			p->t = T_NE_CASE;
		} else if (s[p->pos] == '=') {
			p->pos++;
			p->t = T_NE;
		} else {
			p->t = T_NOT;
		}
		return;
	case '=':
		if (s[p->pos] == '=') {
			p->pos++;
			p->t = T_EQ_CASE;
		} else {
			p->t = T_EQ;
		}
		return;
	case '&':
	case '|':
		if (s[p->pos] == c) {
			p->pos++;
			p->t = c == '&' ? T_AND : T_OR;
		} else {
			p->t = T_BAD;
		}
		return;
	case '"': {
		struct buf b;
		buf_init(&b, 1 << 16);
		for (;;) {
			char d = s[p->pos];
			if (!d) {
				buf_release(&b);
				p->t = T_BAD;
				fail(p, p->start, "a text is not closed (\" is missing)");
				return;
			}
			p->pos++;
			if (d == '"')
				break;
			if (d == '\\' && (s[p->pos] == '"' || s[p->pos] == '\\'))
				d = s[p->pos++];
			if (buf_append(&b, &d, 1)) {
				buf_release(&b);
				p->t = T_BAD;
				fail(p, p->start, "a text is too long");
				return;
			}
		}
		p->text = arena_strndup(p->r->a, b.data ? b.data : "", b.len);
		buf_release(&b);
		p->t = T_STRING;
		return;
	}
	default: break;
	}
	if (!word_char(c)) {
		p->t = T_BAD;
		return;
	}
	while (word_char(s[p->pos]))
		p->pos++;
	size_t n = p->pos - p->start;
	p->text = arena_strndup(p->r->a, s + p->start, n);
	static const struct {
		const char *w;
		enum tok t;
	} words[] = {{"and", T_AND},	     {"or", T_OR},     {"not", T_NOT},	  {"like", T_LIKE},
		     {"matches", T_MATCHES}, {"true", T_TRUE}, {"false", T_FALSE}};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasecmp(p->text, words[i].w) == 0) {
			p->t = words[i].t;
			return;
		}
	bool numeric = true;
	for (size_t i = 0; i < n && numeric; i++)
		numeric = isdigit((unsigned char)p->text[i]) || p->text[i] == '.' ||
			  (i == 0 && p->text[i] == '-');
	p->t = numeric ? T_NUMBER : T_PATH;
}

/* ---------------------------------------------------------------- the parser */

static struct node *new_node(struct parser *p, enum node_kind k)
{
	struct node *n = arena_alloc(p->r->a, sizeof(*n));
	n->kind = k;
	return n;
}

/* A property path: root.segment..., the root one of resource, user, node, environment;
 * segments are names or @names. Returns the path with its root in lower case. */
static const char *check_path(struct parser *p, const char *text, size_t at)
{
	static const char *const roots[] = {"resource", "user", "node", "environment"};
	const char *dot = strchr(text, '.');
	size_t rl = dot ? (size_t)(dot - text) : strlen(text);
	int root = -1;
	for (int i = 0; i < 4; i++)
		if (strlen(roots[i]) == rl && strncasecmp(text, roots[i], rl) == 0)
			root = i;
	if (root < 0) {
		fail(p, at,
		     "%.*s is not a property: properties start with resource, user, node or "
		     "environment",
		     (int)(rl > 60 ? 60 : rl), text);
		return NULL;
	}
	/* every segment a name, or @ and a name */
	for (const char *seg = dot; seg; seg = strchr(seg + 1, '.')) {
		const char *end = strchr(seg + 1, '.');
		size_t sl = end ? (size_t)(end - seg - 1) : strlen(seg + 1);
		bool ok = sl > 0 && !(seg[1] == '@' && sl == 1);
		for (size_t i = 1; ok && i < sl; i++)
			ok = seg[1 + i] != '@';
		if (!ok) {
			fail(p, at, "%s is not a property path", text);
			return NULL;
		}
	}
	char *out = arena_strdup(p->r->a, text);
	memcpy(out, roots[root], rl);
	return out;
}

static struct node *parse_or(struct parser *p);

static bool operand(struct parser *p, struct operand *o)
{
	switch (p->t) {
	case T_STRING:
	case T_NUMBER:
		o->is_path = false;
		o->text = p->text;
		break;
	case T_TRUE:
	case T_FALSE:
		o->is_path = false;
		o->text = p->t == T_TRUE ? "true" : "false";
		break;
	case T_PATH:
		o->is_path = true;
		if (!(o->text = check_path(p, p->text, p->start)))
			return false;
		break;
	default:
		fail(p, p->start, "expected a property, a text or a number, found %s",
		     tok_name(p->t));
		return false;
	}
	next(p);
	return true;
}

/* path.Function(args) once the path token is read and "(" follows. */
static struct node *call(struct parser *p, const char *text, size_t at)
{
	const char *dot = strrchr(text, '.');
	if (!dot) {
		fail(p, at, "%s() has no property before it", text);
		return NULL;
	}
	static const struct {
		const char *name;
		enum func fn;
		int args;
	} funcs[] = {{"Empty", F_EMPTY, 0},
		     {"IsAnonymous", F_ANONYMOUS, 0},
		     {"IsOwned", F_OWNED, 0},
		     {"HasPrivilege", F_PRIVILEGE, 1}};
	int f = -1;
	for (int i = 0; i < 4; i++)
		if (strcasecmp(dot + 1, funcs[i].name) == 0)
			f = i;
	if (f < 0) {
		fail(p, at + (size_t)(dot + 1 - text),
		     "unknown function %s (Empty, IsAnonymous, "
		     "IsOwned and HasPrivilege are known)",
		     dot + 1);
		return NULL;
	}
	char *subject = arena_strndup(p->r->a, text, (size_t)(dot - text));
	const char *path = check_path(p, subject, at);
	if (!path)
		return NULL;
	if (funcs[f].fn == F_ANONYMOUS && strcmp(path, "user") != 0) {
		fail(p, at, "IsAnonymous() applies to user only");
		return NULL;
	}
	struct node *n = new_node(p, N_CALL);
	n->path = path;
	n->fn = funcs[f].fn;
	next(p); /* the "(" */
	next(p);
	if (funcs[f].args == 1) {
		if (p->t != T_STRING) {
			fail(p, p->start, "%s takes a text, found %s", funcs[f].name,
			     tok_name(p->t));
			return NULL;
		}
		n->arg = p->text;
		next(p);
	}
	if (p->t != T_RPAREN) {
		fail(p, p->start, "expected \")\" after the arguments of %s, found %s",
		     funcs[f].name, tok_name(p->t));
		return NULL;
	}
	next(p);
	return n;
}

/* Whether a pattern stays within what the regex compiler handles in bounded memory (its
 * trees grow with every repetition). */
static bool tame_regex(const char *re)
{
	if (strlen(re) > 256)
		return false;
	int quantifiers = 0, on_groups = 0;
	bool after = false, in_brace = false; /* after: the last thing was a quantifier */
	for (const char *c = re; *c; c++) {
		/* a repeated group is copied whole, and groups nest: few of those */
		if (c > re && c[-1] == ')' && (*c == '+' || *c == '*' || *c == '?' || *c == '{') &&
		    ++on_groups > 4)
			return false;
		if (in_brace) {
			if (*c == '}') {
				in_brace = false;
				after = true;
			} else if (isdigit((unsigned char)*c) &&
				   str_to_i64_prefix(c, &(const char *){NULL}, 0, 100,
						     &(int64_t){0}) != 0) {
				return false;
			}
			continue;
		}
		if (*c == '\\' && c[1]) {
			c++;
			after = false;
			continue;
		}
		if (*c == '+' || *c == '*' || *c == '?' || *c == '{') {
			if (after || ++quantifiers > 16)
				return false; /* a+* and the like: each one copies the tree again */
			in_brace = *c == '{';
			after = !in_brace;
			continue;
		}
		after = false;
	}
	return true;
}

static struct node *compare(struct parser *p)
{
	/* a function call stands alone as a condition */
	if (p->t == T_PATH && p->s[p->pos] == '(') {
		const char *text = p->text;
		size_t at = p->start;
		return call(p, text, at);
	}
	if (p->t == T_PATH) { /* a path followed by "(" after blanks is a call too */
		size_t k = p->pos;
		while (p->s[k] == ' ' || p->s[k] == '\t')
			k++;
		if (p->s[k] == '(') {
			const char *text = p->text;
			size_t at = p->start;
			p->pos = k;
			return call(p, text, at);
		}
	}
	size_t at = p->start;
	bool constant = p->t == T_TRUE || p->t == T_FALSE;
	struct node *n = new_node(p, N_CMP);
	if (!operand(p, &n->l))
		return NULL;
	enum cmp_op op;
	switch (p->t) {
	case T_EQ: op = OP_EQ; break;
	case T_NE: op = OP_NE; break;
	case T_EQ_CASE: op = OP_EQ_CASE; break;
	case T_NE_CASE: op = OP_NE_CASE; break;
	case T_LIKE: op = OP_LIKE; break;
	case T_MATCHES: op = OP_MATCHES; break;
	default:
		if (constant) {
			n->kind = N_CONST;
			n->value = strcmp(n->l.text, "true") == 0;
			return n;
		}
		fail(p, p->start, "expected =, !=, ==, !==, like or matches after %s, found %s",
		     n->l.is_path ? "the property" : "the value", tok_name(p->t));
		return NULL;
	}
	(void)at;
	n->op = op;
	next(p);
	size_t rat = p->start;
	if ((op == OP_LIKE || op == OP_MATCHES) && p->t != T_STRING) {
		fail(p, rat, "%s needs a text in double quotes after it, found %s",
		     op == OP_LIKE ? "like" : "matches", tok_name(p->t));
		return NULL;
	}
	if (!operand(p, &n->r))
		return NULL;
	if (op == OP_MATCHES && !tame_regex(n->r.text)) {
		fail(p, rat,
		     "the regular expression is too complex (at most 256 characters, 16 of + * ? "
		     "and {}, none right after another, 4 on groups, repeat counts up to 100)");
		return NULL;
	}
	if (op == OP_MATCHES) {
		size_t l = strlen(n->r.text);
		char *anchored = malloc(l + 5);
		n->re = arena_alloc(p->r->a, sizeof(regex_t));
		if (!anchored)
			return NULL;
		snprintf(anchored, l + 5, "^(%s)$", n->r.text);
		int rc = regcomp(n->re, anchored, REG_EXTENDED | REG_ICASE | REG_NOSUB);
		free(anchored);
		if (rc != 0) {
			char why[200];
			regerror(rc, n->re, why, sizeof(why));
			n->re = NULL;
			fail(p, rat, "the regular expression does not compile: %s", why);
			return NULL;
		}
		n->next_re = p->r->regexes;
		p->r->regexes = n;
	}
	return n;
}

static struct node *parse_not(struct parser *p)
{
	if (++p->depth > MAX_DEPTH) {
		fail(p, p->start, "the condition nests more than %d deep", MAX_DEPTH);
		return NULL;
	}
	struct node *n = NULL;
	if (p->t == T_NOT) {
		next(p);
		struct node *x = parse_not(p);
		if (x) {
			n = new_node(p, N_NOT);
			n->a = x;
		}
	} else if (p->t == T_LPAREN) {
		size_t at = p->start;
		next(p);
		n = parse_or(p);
		if (n && p->t != T_RPAREN) {
			fail(p, p->start,
			     "expected \")\" to close the \"(\" at position %zu, found %s", at + 1,
			     tok_name(p->t));
			n = NULL;
		} else if (n) {
			next(p);
		}
	} else {
		n = compare(p);
	}
	p->depth--;
	return n;
}

static struct node *parse_and(struct parser *p)
{
	struct node *n = parse_not(p);
	while (n && p->t == T_AND) {
		next(p);
		struct node *b = parse_not(p);
		if (!b)
			return NULL;
		struct node *x = new_node(p, N_AND);
		x->a = n;
		x->b = b;
		n = x;
	}
	return n;
}

static struct node *parse_or(struct parser *p)
{
	struct node *n = parse_and(p);
	while (n && p->t == T_OR) {
		next(p);
		struct node *b = parse_and(p);
		if (!b)
			return NULL;
		struct node *x = new_node(p, N_OR);
		x->a = n;
		x->b = b;
		n = x;
	}
	return n;
}

void rules_free(struct rule *r)
{
	if (!r)
		return;
	for (struct node *n = r->regexes; n; n = n->next_re)
		if (n->re)
			regfree(n->re);
	arena_free(r->a);
	free(r);
}

int rules_parse(const char *text, struct rule **out, struct err *e)
{
	*out = NULL;
	struct rule *r = calloc(1, sizeof(*r));
	if (!r || !(r->a = arena_new())) {
		free(r);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	struct parser p = {.s = text ? text : "", .r = r, .e = e};
	next(&p);
	if (p.t != T_END) {
		r->root = p.failed ? NULL : parse_or(&p);
		if (r->root && p.t != T_END)
			fail(&p, p.start, "expected and, or or the end, found %s", tok_name(p.t));
		if (!r->root && !p.failed)
			fail(&p, p.start, "the condition does not parse");
	}
	if (p.failed) {
		rules_free(r);
		return ERR_FILTER;
	}
	*out = r;
	return 0;
}

/* ---------------------------------------------------------------- evaluation */

struct vals {
	struct arena *a;
	const char **v;
	int n, cap;
	bool nomem;
};

static void add_value(void *arg, const char *value)
{
	struct vals *vs = arg;
	if (vs->n == vs->cap) {
		int cap = vs->cap ? vs->cap * 2 : 8;
		const char **nv = arena_alloc(vs->a, sizeof(*nv) * (size_t)cap);
		if (vs->n)
			memcpy(nv, vs->v, sizeof(*nv) * (size_t)vs->n);
		vs->v = nv;
		vs->cap = cap;
	}
	vs->v[vs->n++] = arena_strdup(vs->a, value ? value : "");
}

struct evalctx {
	const struct rule_subject *s;
	struct arena *a;
	struct err *e;
};

static int values_of(struct evalctx *c, const struct operand *o, struct vals *out)
{
	*out = (struct vals){.a = c->a};
	if (!o->is_path) {
		add_value(out, o->text);
		return 0;
	}
	if (!c->s->values)
		return 0;
	int rc = c->s->values(c->s->ctx, o->text, add_value, out);
	return rc ? err_set(c->e, rc, "the rule could not read %s", o->text) : 0;
}

static bool pair(const struct node *n, const char *l, const char *r)
{
	switch (n->op) {
	case OP_EQ:
	case OP_NE: return strcasecmp(l, r) == 0;
	case OP_EQ_CASE:
	case OP_NE_CASE: return strcmp(l, r) == 0;
	case OP_LIKE: return str_like(l, r);
	case OP_MATCHES: return regexec(n->re, l, 0, NULL, 0) == 0;
	}
	return false;
}

static int eval_node(struct evalctx *c, const struct node *n, bool *out)
{
	int rc = 0;
	bool x = false, y = false;
	struct vals v, w;
	switch (n->kind) {
	case N_CONST: *out = n->value; return 0;
	case N_NOT:
		rc = eval_node(c, n->a, &x);
		*out = !x;
		return rc;
	case N_AND:
	case N_OR:
		if ((rc = eval_node(c, n->a, &x)))
			return rc;
		if (x == (n->kind == N_OR)) { /* decided */
			*out = x;
			return 0;
		}
		rc = eval_node(c, n->b, &y);
		*out = y;
		return rc;
	case N_CALL:
		switch (n->fn) {
		case F_ANONYMOUS: *out = c->s->anonymous; return 0;
		case F_EMPTY:
		case F_OWNED: {
			struct operand o = {true, n->fn == F_OWNED
						      ? arena_printf(c->a, "%s.owner", n->path)
						      : n->path};
			if ((rc = values_of(c, &o, &v)))
				return rc;
			bool none = true;
			for (int i = 0; i < v.n && none; i++)
				none = !*v.v[i];
			*out = n->fn == F_EMPTY ? none : !none;
			return 0;
		}
		case F_PRIVILEGE:
			*out = false;
			if (c->s->has_privilege &&
			    (rc = c->s->has_privilege(c->s->ctx, n->path, n->arg, out)))
				return err_set(c->e, rc, "HasPrivilege(\"%s\") on %s failed",
					       n->arg, n->path);
			return 0;
		}
		return 0;
	case N_CMP: {
		if ((rc = values_of(c, &n->l, &v)) || (rc = values_of(c, &n->r, &w)))
			return rc;
		bool negate = n->op == OP_NE || n->op == OP_NE_CASE;
		/* = holds when some pair matches; != when some pair does not (or a side has
		 * no value) */
		bool found = false;
		if (negate && (v.n == 0 || w.n == 0))
			found = true;
		for (int i = 0; i < v.n && !found; i++)
			for (int k = 0; k < w.n && !found; k++)
				found = pair(n, v.v[i], w.v[k]) != negate;
		*out = found;
		return 0;
	}
	}
	return 0;
}

int rules_eval(const struct rule *r, const struct rule_subject *s, bool *out, struct err *e)
{
	*out = true;
	if (!r->root)
		return 0;
	struct evalctx c = {s, arena_new(), e};
	if (!c.a)
		return err_set(e, ERR_NOMEM, "out of memory");
	int rc = eval_node(&c, r->root, out);
	arena_free(c.a);
	if (rc)
		*out = false;
	return rc;
}

/* ---------------------------------------------------------------- resource filters */

int rules_filter_check(const char *filter, struct err *e)
{
	const char *p = filter ? filter : "";
	size_t at = 0;
	bool any = false;
	while (p[at]) {
		while (p[at] == ' ')
			at++;
		size_t start = at;
		while (p[at] && p[at] != ',') {
			char c = p[at];
			if (!(isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-' ||
			      c == '*' || c == ' ')) {
				err_set(
				    e, ERR_FILTER,
				    "the resource filter has an unexpected character at position "
				    "%zu",
				    at + 1);
				e->position = (int)(at + 1);
				return ERR_FILTER;
			}
			if (c == '*' && p[at + 1] && p[at + 1] != ',' && p[at + 1] != ' ') {
				err_set(e, ERR_FILTER,
					"in a resource filter * may only end a name (position %zu)",
					at + 1);
				e->position = (int)(at + 1);
				return ERR_FILTER;
			}
			at++;
		}
		size_t end = at;
		while (end > start && p[end - 1] == ' ')
			end--;
		if (end == start) {
			err_set(e, ERR_FILTER,
				"the resource filter has an empty part at position %zu", start + 1);
			e->position = (int)(start + 1);
			return ERR_FILTER;
		}
		any = true;
		if (p[at] == ',')
			at++;
	}
	if (!any) {
		err_set(e, ERR_FILTER, "the resource filter is empty (App_* means every app)");
		e->position = 1;
		return ERR_FILTER;
	}
	return 0;
}

bool rules_filter_matches(const char *filter, const char *type, const char *id)
{
	const char *p = filter ? filter : "";
	size_t tl = strlen(type);
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *end = p;
		while (*end && *end != ',')
			end++;
		size_t n = (size_t)(end - p);
		while (n && p[n - 1] == ' ')
			n--;
		if (n == 1 && p[0] == '*')
			return true;
		if (n > tl && strncasecmp(p, type, tl) == 0 && p[tl] == '_') {
			/* Type_* or Type_<id> */
			const char *rest = p + tl + 1;
			size_t rl = n - tl - 1;
			if ((rl == 1 && rest[0] == '*') ||
			    (id && strlen(id) == rl && strncasecmp(rest, id, rl) == 0))
				return true;
		} else if (n >= 1 && p[n - 1] == '*' && n - 1 <= tl &&
			   strncasecmp(p, type, n - 1) == 0 && memchr(p, '_', n) == NULL) {
			return true; /* App*: every type whose name starts with App */
		}
		p = end;
	}
	return false;
}
