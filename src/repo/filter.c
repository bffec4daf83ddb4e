/* filter.c: the QRS filter language (filter=) and orderby=, compiled to SQL with bound
 * parameters. No text from the filter ever reaches SQL: property names select columns
 * from the descriptors and every value becomes a parameter.
 *
 *   expr  := and { "or" and }
 *   and   := unary { "and" unary }
 *   unary := "not" unary | "(" expr ")" | path op value
 *   path  := name { "." name } | "@" name
 *   op    := eq ne gt ge lt le sw ew so
 *   value := 'text' ('' escapes) | number | true | false | null | GUID | bare word
 *
 * Comparisons are two-valued: a missing value compares false, and "ne" is "not eq", so
 * "not", "ne" and nested paths never meet SQL's NULL logic. Text compares without case.
 * Lists (tags, customProperties, roles) match when any element matches. */
#include "repo/repo_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64
#define MAX_SEGS  8

enum op { OP_EQ, OP_NE, OP_GT, OP_GE, OP_LT, OP_LE, OP_SW, OP_EW, OP_SO, OP_NOTNULL };
static const char *const op_names[] = {"eq", "ne", "gt", "ge", "lt", "le", "sw", "ew", "so"};
static const char *const op_sql[] = {"=", "<>", ">", ">=", "<", "<="};

enum vkind { V_STR, V_WORD, V_NULL, V_BOOL };

enum nkind { N_AND, N_OR, N_NOT, N_CMP };

struct node {
	enum nkind kind;
	struct node *l, *r;
	/* N_CMP */
	const char *path;
	int path_pos;
	enum op op;
	int op_pos;
	enum vkind vk;
	const char *val; /* text of V_STR / V_WORD; "true"/"false" for V_BOOL */
	int val_pos;
};

/* ---------------------------------------------------------------- lexer */

enum tkind { T_END, T_LP, T_RP, T_STR, T_WORD, T_BAD };

struct lexer {
	const char *s;
	size_t i;
	struct arena *a;
	enum tkind k;
	const char *text;
	int pos;
	struct err *e;
	int depth;
};

static bool word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '@' || c == '-' ||
	       c == '+' || c == ':';
}

static int fail(struct lexer *lx, int pos, const char *fmt, const char *arg)
{
	char what[256];
	snprintf(what, sizeof(what), fmt, arg);
	err_set(lx->e, ERR_FILTER, "Cannot parse the expression: %s at position %d", what, pos);
	if (lx->e)
		lx->e->position = pos;
	return ERR_FILTER;
}

static int next(struct lexer *lx)
{
	while (lx->s[lx->i] == ' ' || lx->s[lx->i] == '\t' || lx->s[lx->i] == '\n' ||
	       lx->s[lx->i] == '\r')
		lx->i++;
	lx->pos = (int)lx->i + 1;
	char c = lx->s[lx->i];
	if (!c) {
		lx->k = T_END;
		return 0;
	}
	if (c == '(' || c == ')') {
		lx->k = c == '(' ? T_LP : T_RP;
		lx->i++;
		return 0;
	}
	if (c == '\'') {
		struct buf b;
		buf_init(&b, 1 << 16);
		lx->i++;
		for (;;) {
			char d = lx->s[lx->i];
			if (!d) {
				buf_release(&b);
				return fail(lx, lx->pos, "%s", "unterminated text value");
			}
			if (d == '\'') {
				if (lx->s[lx->i + 1] == '\'') {
					lx->i += 2;
					if (buf_append(&b, "'", 1))
						break;
					continue;
				}
				lx->i++;
				break;
			}
			if (buf_append(&b, &d, 1)) {
				buf_release(&b);
				return fail(lx, lx->pos, "%s", "text value too long");
			}
			lx->i++;
		}
		lx->text = arena_strndup(lx->a, b.data ? b.data : "", b.len);
		buf_release(&b);
		lx->k = T_STR;
		return 0;
	}
	if (word_char(c)) {
		size_t st = lx->i;
		while (word_char(lx->s[lx->i]))
			lx->i++;
		lx->text = arena_strndup(lx->a, lx->s + st, lx->i - st);
		lx->k = T_WORD;
		return 0;
	}
	char bad[2] = {c, 0};
	return fail(lx, lx->pos, "unexpected character '%s'", bad);
}

/* ---------------------------------------------------------------- parser */

static int parse_or(struct lexer *lx, struct node **out);

static int parse_unary(struct lexer *lx, struct node **out)
{
	if (++lx->depth > MAX_DEPTH)
		return fail(lx, lx->pos, "%s", "expression nested too deeply");
	int rc;
	if (lx->k == T_LP) {
		int open = lx->pos;
		if ((rc = next(lx)) || (rc = parse_or(lx, out)))
			return rc;
		if (lx->k != T_RP)
			return fail(lx, lx->pos, "%s", "missing ')' for the '(' at the left");
		(void)open;
		lx->depth--;
		return next(lx);
	}
	if (lx->k == T_WORD && str_ieq(lx->text, "not")) {
		struct node *n = arena_alloc(lx->a, sizeof(*n));
		n->kind = N_NOT;
		if ((rc = next(lx)) || (rc = parse_unary(lx, &n->l)))
			return rc;
		*out = n;
		lx->depth--;
		return 0;
	}
	if (lx->k != T_WORD)
		return fail(lx, lx->pos, "%s",
			    lx->k == T_END ? "expected a property name, found the end"
					   : "expected a property name");
	struct node *n = arena_alloc(lx->a, sizeof(*n));
	n->kind = N_CMP;
	n->path = lx->text;
	n->path_pos = lx->pos;
	if ((rc = next(lx)))
		return rc;
	if (lx->k != T_WORD)
		return fail(lx, lx->pos, "%s", "expected an operator (eq ne gt ge lt le sw ew so)");
	int op = -1;
	for (int i = 0; i < (int)ARRAY_LEN(op_names); i++)
		if (str_ieq(lx->text, op_names[i]))
			op = i;
	if (op < 0)
		return fail(lx, lx->pos, "unknown operator '%s'", lx->text);
	n->op = (enum op)op;
	n->op_pos = lx->pos;
	if ((rc = next(lx)))
		return rc;
	n->val_pos = lx->pos;
	if (lx->k == T_STR) {
		n->vk = V_STR;
		n->val = lx->text;
	} else if (lx->k == T_WORD) {
		if (str_ieq(lx->text, "null")) {
			n->vk = V_NULL;
		} else if (str_ieq(lx->text, "true") || str_ieq(lx->text, "false")) {
			n->vk = V_BOOL;
			n->val = str_ieq(lx->text, "true") ? "true" : "false";
		} else {
			n->vk = V_WORD;
			n->val = lx->text;
		}
	} else {
		return fail(lx, lx->pos, "%s", "expected a value");
	}
	*out = n;
	lx->depth--;
	return next(lx);
}

static int parse_and(struct lexer *lx, struct node **out)
{
	int rc = parse_unary(lx, out);
	while (rc == 0 && lx->k == T_WORD && str_ieq(lx->text, "and")) {
		struct node *n = arena_alloc(lx->a, sizeof(*n));
		n->kind = N_AND;
		n->l = *out;
		if ((rc = next(lx)) || (rc = parse_unary(lx, &n->r)))
			return rc;
		*out = n;
	}
	return rc;
}

static int parse_or(struct lexer *lx, struct node **out)
{
	int rc = parse_and(lx, out);
	while (rc == 0 && lx->k == T_WORD && str_ieq(lx->text, "or")) {
		struct node *n = arena_alloc(lx->a, sizeof(*n));
		n->kind = N_OR;
		n->l = *out;
		if ((rc = next(lx)) || (rc = parse_and(lx, &n->r)))
			return rc;
		*out = n;
	}
	return rc;
}

/* ---------------------------------------------------------------- SQL building */

void repo_sqlb_init(struct sqlb *b, struct arena *a)
{
	buf_init(&b->sql, 1 << 20);
	db_params_init(&b->p);
	b->alias = 1;
	b->a = a;
}

void repo_sqlb_release(struct sqlb *b)
{
	buf_release(&b->sql);
}

struct cctx {
	struct sqlb *b;
	struct lexer *lx; /* for errors */
	int rc;
};

static void emit(struct cctx *c, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void emit(struct cctx *c, const char *fmt, ...)
{
	if (c->rc)
		return;
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp) || buf_puts(&c->b->sql, tmp))
		c->rc = fail(c->lx, 1, "%s", "expression too complex");
}

static int param(struct cctx *c, const char *s)
{
	int n = db_p_text(&c->b->p, s);
	if (!n && !c->rc)
		c->rc = fail(c->lx, 1, "%s", "expression has too many values");
	return n;
}

static int param_int(struct cctx *c, int64_t v)
{
	int n = db_p_int(&c->b->p, v);
	if (!n && !c->rc)
		c->rc = fail(c->lx, 1, "%s", "expression has too many values");
	return n;
}

static char *lower_dup(struct arena *a, const char *s)
{
	char *p = arena_strdup(a, s);
	for (char *q = p; *q; q++)
		*q = (char)tolower((unsigned char)*q);
	return p;
}

/* A LIKE pattern: `pre` + escaped lowercase text + `post`, escape character '!'. */
static char *like_pattern(struct arena *a, const char *pre, const char *s, const char *post)
{
	size_t n = strlen(s);
	char *p = arena_alloc(a, strlen(pre) + 2 * n + strlen(post) + 1), *o = p;
	for (const char *q = pre; *q; q++)
		*o++ = *q;
	for (; *s; s++) {
		if (*s == '%' || *s == '_' || *s == '!')
			*o++ = '!';
		*o++ = (char)tolower((unsigned char)*s);
	}
	for (const char *q = post; *q; q++)
		*o++ = *q;
	*o = '\0';
	return p;
}

static int enum_value(const struct field_desc *f, const char *s, int64_t *out)
{
	if (str_to_i64(s, INT32_MIN, INT32_MAX, out) == 0)
		return 0;
	for (int i = 0; f->enum_names && f->enum_names[i]; i++)
		if (str_ieq(f->enum_names[i], s)) {
			*out = i;
			return 0;
		}
	return ERR_INVALID;
}

/* Compares the scalar SQL expression `x` of field `f` with the node's value. */
/* A comparison with a text property (or a list of texts: eq means "holds"). */
static void text_cmp(struct cctx *c, const char *x, const struct field_desc *f,
		     const struct node *n, enum op op)
{
	struct arena *a = c->b->a;
	const char *v = n->val;
	if (n->vk == V_BOOL) {
		c->rc =
		    fail(c->lx, n->val_pos, "property '%s' holds text: quote the value", f->json);
		return;
	}
	if (op == OP_EQ && f->type == FT_STRING) {
		emit(c, "(%s IS NOT NULL AND lower(%s) = $%d)", x, x, param(c, lower_dup(a, v)));
	} else if (op == OP_EQ || op == OP_SW || op == OP_EW || op == OP_SO) {
		const char *pre = "%", *post = "%";
		if (f->type == FT_STRLIST) {
			if (op == OP_SW || op == OP_EW) {
				c->rc = fail(c->lx, n->op_pos,
					     "operator sw/ew does not apply to list '%s'", f->json);
				return;
			}
			if (op == OP_EQ)
				pre = "%\x1f", post = "\x1f%";
		} else {
			if (op == OP_SW)
				pre = "";
			if (op == OP_EW)
				post = "";
		}
		emit(c, "(%s IS NOT NULL AND lower(%s) LIKE $%d ESCAPE '!')", x, x,
		     param(c, like_pattern(a, pre, v, post)));
	} else {
		c->rc = fail(c->lx, n->op_pos, "this operator does not apply to text property '%s'",
			     f->json);
	}
}

/* A comparison with a date property: the value is read as a date and compared in UTC. */
static void date_cmp(struct cctx *c, const char *x, const struct field_desc *f,
		     const struct node *n, enum op op)
{
	struct arena *a = c->b->a;
	const char *v = n->val;
	int64_t ms;
	if (op >= OP_SW) {
		c->rc = fail(c->lx, n->op_pos, "sw, ew and so apply to text, not to '%s'", f->json);
		return;
	}
	if (n->vk == V_BOOL || time_parse_iso(v, &ms) != 0) {
		c->rc = fail(c->lx, n->val_pos,
			     "property '%s' needs a date like '2024-01-31 "
			     "12:00:00'",
			     f->json);
		return;
	}
	char *iso = arena_alloc(a, ISO_TIME_LEN + 1);
	time_format_iso(ms, iso);
	emit(c, "(%s IS NOT NULL AND %s %s $%d)", x, x, op_sql[op], param(c, iso));
}

static void scalar_cmp(struct cctx *c, const char *x, const struct field_desc *f,
		       const struct node *n, enum op op)
{
	struct arena *a = c->b->a;
	if (op == OP_NOTNULL) {
		emit(c, "%s IS NOT NULL", x);
		return;
	}
	if (n->vk == V_NULL) {
		if (op != OP_EQ)
			c->rc =
			    fail(c->lx, n->op_pos, "%s", "null can only be compared with eq or ne");
		emit(c, "%s IS NULL", x);
		return;
	}
	const char *v = n->val;
	switch (f->type) {
	case FT_STRING:
	case FT_STRLIST: text_cmp(c, x, f, n, op); return;
	case FT_GUID:
	case FT_REF:
		if (op != OP_EQ) {
			c->rc = fail(c->lx, n->op_pos, "only eq and ne apply to GUID property '%s'",
				     f->json);
			return;
		}
		if (n->vk == V_BOOL || !uuid_valid(v)) {
			c->rc =
			    fail(c->lx, n->val_pos, "property '%s' needs a GUID value", f->json);
			return;
		}
		emit(c, "(%s IS NOT NULL AND %s = $%d)", x, x, param(c, lower_dup(a, v)));
		return;
	case FT_INT:
	case FT_ENUM: {
		int64_t iv;
		if (op >= OP_SW) {
			c->rc = fail(c->lx, n->op_pos, "sw, ew and so apply to text, not to '%s'",
				     f->json);
			return;
		}
		if (n->vk == V_BOOL ||
		    (f->type == FT_ENUM ? enum_value(f, v, &iv)
					: str_to_i64(v, INT64_MIN, INT64_MAX, &iv)) != 0) {
			c->rc = fail(c->lx, n->val_pos, "property '%s' needs a number", f->json);
			return;
		}
		emit(c, "(%s IS NOT NULL AND %s %s $%d)", x, x, op_sql[op], param_int(c, iv));
		return;
	}
	case FT_BOOL:
		if (op != OP_EQ || n->vk != V_BOOL) {
			c->rc = fail(c->lx, n->vk != V_BOOL ? n->val_pos : n->op_pos,
				     "property '%s' compares with eq/ne true or false", f->json);
			return;
		}
		emit(c, "(%s IS NOT NULL AND %s = $%d)", x, x,
		     param_int(c, strcmp(v, "true") == 0 ? 1 : 0));
		return;
	case FT_DATE: date_cmp(c, x, f, n, op); return;
	case FT_OBJECT:
		c->rc = fail(c->lx, n->path_pos, "property '%s' cannot be filtered", f->json);
		return;
	}
}

static int split_path(struct arena *a, const char *path, char **segs)
{
	int n = 0;
	char *p = arena_strdup(a, path);
	for (char *s = p;;) {
		char *dot = strchr(s, '.');
		if (dot)
			*dot = '\0';
		if (!*s || n == MAX_SEGS)
			return -1;
		segs[n++] = s;
		if (!dot)
			break;
		s = dot + 1;
	}
	return n;
}

extern const struct entity_desc *const repo_entities[];

static const struct entity_desc *tag_desc(void)
{
	return repo_entity_find("tag");
}

static void pred(struct cctx *c, const struct entity_desc *d, const char *alias, char **segs, int i,
		 int n, const struct node *nd, enum op op);

/* EXISTS over a collection (tags or customProperties) of the row `alias` of `d`. */
static void collection(struct cctx *c, const struct entity_desc *d, const char *alias, bool tags,
		       char **segs, int i, int n, const struct node *nd, enum op op)
{
	int k = c->b->alias++;
	char inner[16];
	snprintf(inner, sizeof(inner), "t%d", k);
	int pt = param(c, d->schema);
	if (tags)
		emit(c,
		     "EXISTS (SELECT 1 FROM entity_tag j%d JOIN tag %s ON %s.id = j%d.tag_id WHERE "
		     "j%d.object_type = $%d AND j%d.object_id = %s.id AND (",
		     k, inner, inner, k, k, pt, k, alias);
	else
		emit(
		    c,
		    "EXISTS (SELECT 1 FROM custom_property_value %s WHERE %s.object_type = $%d AND "
		    "%s.object_id = %s.id AND (",
		    inner, inner, pt, inner, alias);
	if (i + 1 == n) {
		if (op != OP_NOTNULL) {
			c->rc = fail(c->lx, nd->path_pos,
				     "compare an element property such as '%s.name'", segs[i]);
			return;
		}
		emit(c, "1 = 1");
	} else {
		pred(c, tags ? tag_desc() : &repo_cpv_desc, inner, segs, i + 1, n, nd, op);
	}
	emit(c, "))");
}

static void pred(struct cctx *c, const struct entity_desc *d, const char *alias, char **segs, int i,
		 int n, const struct node *nd, enum op op)
{
	if (c->rc)
		return;
	const char *seg = segs[i];
	if (seg[0] == '@') {
		if (!(d->flags & E_CUSTOM_PROPS) || i + 1 != n || !seg[1]) {
			c->rc = fail(c->lx, nd->path_pos,
				     "custom property '%s' does not apply here", seg);
			return;
		}
		int k = c->b->alias++;
		int pt = param(c, d->schema), pn = param(c, lower_dup(c->b->a, seg + 1));
		emit(
		    c,
		    "EXISTS (SELECT 1 FROM custom_property_value c%d JOIN custompropertydefinition "
		    "d%d ON d%d.id = c%d.definition_id WHERE c%d.object_type = $%d AND "
		    "c%d.object_id "
		    "= %s.id AND lower(d%d.name) = $%d AND (",
		    k, k, k, k, k, pt, k, alias, k, pn);
		static const struct field_desc value_field = {"value", "value", FT_STRING, 0,
							      NULL,    0,	NULL,	   NULL};
		char x[32];
		snprintf(x, sizeof(x), "c%d.value", k);
		scalar_cmp(c, x, &value_field, nd, op);
		emit(c, "))");
		return;
	}
	const struct field_desc *f = repo_entity_field(d, seg);
	if (f && (f->flags & (F_HIDDEN | F_WRITEONLY)))
		f = NULL;
	if (!f) {
		if ((d->flags & E_TAGS) && str_ieq(seg, "tags"))
			return collection(c, d, alias, true, segs, i, n, nd, op);
		if ((d->flags & E_CUSTOM_PROPS) && str_ieq(seg, "customProperties"))
			return collection(c, d, alias, false, segs, i, n, nd, op);
		c->rc = fail(c->lx, nd->path_pos, "unknown property '%s'", seg);
		return;
	}
	char x[96];
	snprintf(x, sizeof(x), "%s.%s", alias, f->col);
	if (f->type == FT_REF && i + 1 < n && !(i + 2 == n && str_ieq(segs[i + 1], "id"))) {
		const struct entity_desc *t = repo_entity_find(f->ref);
		int k = c->b->alias++;
		char inner[16];
		snprintf(inner, sizeof(inner), "t%d", k);
		emit(c, "EXISTS (SELECT 1 FROM %s %s WHERE %s.id = %s AND (", t->table, inner,
		     inner, x);
		pred(c, t, inner, segs, i + 1, n, nd, op);
		emit(c, "))");
		return;
	}
	if (f->type != FT_REF && i + 1 != n) {
		c->rc = fail(c->lx, nd->path_pos, "property '%s' has no sub-properties", seg);
		return;
	}
	scalar_cmp(c, x, f, nd, op);
}

static bool nested(const struct entity_desc *d, char **segs, int n)
{
	if (n > 1 || segs[0][0] == '@')
		return true;
	return repo_entity_field(d, segs[0]) == NULL; /* a collection */
}

static void compile_node(struct cctx *c, const struct entity_desc *d, const struct node *nd)
{
	if (c->rc)
		return;
	switch (nd->kind) {
	case N_AND:
	case N_OR:
		emit(c, "(");
		compile_node(c, d, nd->l);
		emit(c, nd->kind == N_AND ? " AND " : " OR ");
		compile_node(c, d, nd->r);
		emit(c, ")");
		return;
	case N_NOT:
		emit(c, "NOT (");
		compile_node(c, d, nd->l);
		emit(c, ")");
		return;
	case N_CMP: {
		char *segs[MAX_SEGS];
		int n = split_path(c->b->a, nd->path, segs);
		if (n < 0) {
			c->rc = fail(c->lx, nd->path_pos, "bad property path '%s'", nd->path);
			return;
		}
		enum op op = nd->op;
		bool negate = false;
		if (op == OP_NE) {
			op = OP_EQ;
			negate = true;
		}
		if (op == OP_EQ && nd->vk == V_NULL && nested(d, segs, n)) {
			op = OP_NOTNULL;
			negate = !negate;
		}
		if (negate)
			emit(c, "NOT (");
		pred(c, d, "t0", segs, 0, n, nd, op);
		if (negate)
			emit(c, ")");
		return;
	}
	}
}

int repo_filter_compile(const struct entity_desc *d, const char *filter, struct sqlb *b,
			struct err *e)
{
	struct lexer lx = {.s = filter, .a = b->a, .e = e};
	struct node *root = NULL;
	int rc = next(&lx);
	if (rc == 0 && lx.k == T_END)
		return fail(&lx, 1, "%s", "the filter is empty");
	if (rc == 0)
		rc = parse_or(&lx, &root);
	if (rc == 0 && lx.k != T_END)
		rc = fail(&lx, lx.pos, "%s", "expected 'and', 'or' or the end");
	if (rc)
		return rc;
	struct cctx c = {.b = b, .lx = &lx};
	compile_node(&c, d, root);
	return c.rc;
}

/* A scalar SQL expression for `segs` from row `alias` of `d` (orderby). */
static void scalar_expr(struct cctx *c, const struct entity_desc *d, const char *alias, char **segs,
			int i, int n, int pos, struct buf *out)
{
	const struct field_desc *f = repo_entity_field(d, segs[i]);
	if (f && (f->flags & (F_HIDDEN | F_WRITEONLY)))
		f = NULL;
	if (!f || f->type == FT_STRLIST || f->type == FT_OBJECT) {
		c->rc = fail(c->lx, pos, "cannot order by '%s'", segs[i]);
		return;
	}
	char x[96];
	snprintf(x, sizeof(x), "%s.%s", alias, f->col);
	if (f->type == FT_REF && i + 1 < n) {
		const struct entity_desc *t = repo_entity_find(f->ref);
		int k = c->b->alias++;
		char inner[16];
		snprintf(inner, sizeof(inner), "t%d", k);
		if (buf_puts(out, "(SELECT ")) {
			c->rc = ERR_TOO_LARGE;
			return;
		}
		scalar_expr(c, t, inner, segs, i + 1, n, pos, out);
		if (buf_printf(out, " FROM %s %s WHERE %s.id = %s)", t->table, inner, inner, x))
			c->rc = ERR_TOO_LARGE;
		return;
	}
	if (i + 1 != n) {
		c->rc = fail(c->lx, pos, "property '%s' has no sub-properties", segs[i]);
		return;
	}
	if (buf_printf(out, f->type == FT_STRING ? "lower(%s)" : "%s", x))
		c->rc = ERR_TOO_LARGE;
}

int repo_orderby_compile(const struct entity_desc *d, const char *orderby, struct sqlb *b,
			 struct err *e)
{
	struct lexer lx = {.s = orderby, .a = b->a, .e = e};
	struct cctx c = {.b = b, .lx = &lx};
	const char *p = orderby;
	bool first = true;
	while (*p && c.rc == 0) {
		while (*p == ' ' || *p == ',')
			p++;
		if (!*p)
			break;
		int pos = (int)(p - orderby) + 1;
		const char *st = p;
		while (*p && *p != ' ' && *p != ',')
			p++;
		char *path = arena_strndup(b->a, st, (size_t)(p - st));
		while (*p == ' ')
			p++;
		bool desc = false;
		if (str_ieqn(p, "desc", 4) && (p[4] == '\0' || p[4] == ',' || p[4] == ' ')) {
			desc = true;
			p += 4;
		} else if (str_ieqn(p, "asc", 3) && (p[3] == '\0' || p[3] == ',' || p[3] == ' ')) {
			p += 3;
		}
		while (*p == ' ')
			p++;
		if (*p && *p != ',')
			return fail(&lx, (int)(p - orderby) + 1, "%s",
				    "orderby expects 'property [asc|desc], ...'");
		char *segs[MAX_SEGS];
		int n = split_path(b->a, path, segs);
		if (n < 0)
			return fail(&lx, pos, "bad property path '%s'", path);
		struct buf x;
		buf_init(&x, 1 << 16);
		scalar_expr(&c, d, "t0", segs, 0, n, pos, &x);
		if (c.rc == 0)
			emit(&c, "%s%s %s", first ? "" : ", ", x.data, desc ? "DESC" : "ASC");
		buf_release(&x);
		first = false;
	}
	return c.rc;
}
