/* run.c: the state of a running reload that every statement shares: its variables and
 * their $( ) expansion, expressions evaluated outside any table, the data set's tables
 * and mapping tables, and the log and errors. Below load.c, join.c, statements.c and
 * control.c, which use it; reload.c drives them all. */
#include "script/eval_int.h"
#include "script/script_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_EXPANSION_DEPTH 16

void script_log(struct run *r, const char *fmt, ...)
{
	if (!r->env->log)
		return;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	r->env->log(r->env->ctx, line);
}

int script_err(struct run *r, const struct stmt *s, int code, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(r->e, code, "line %d, column %d: %s", s->line, s->col, msg);
}

/* ---------------------------------------------------------------- variables */

const char *script_var_get(const struct run *r, const char *name)
{
	for (int i = 0; i < r->n_vars; i++)
		if (strcasecmp(r->vars[i].name, name) == 0)
			return r->vars[i].value;
	return NULL;
}

int script_var_set(struct run *r, const char *name, const char *value)
{
	for (int i = 0; i < r->n_vars; i++)
		if (strcasecmp(r->vars[i].name, name) == 0) {
			char *v = strdup(value);
			if (!v)
				return ERR_NOMEM;
			free(r->vars[i].value);
			r->vars[i].value = v;
			return 0;
		}
	if (r->n_vars == r->cap_vars) {
		int cap = r->cap_vars ? r->cap_vars * 2 : 16;
		struct var *nv = realloc(r->vars, sizeof(*nv) * (size_t)cap);
		if (!nv)
			return ERR_NOMEM;
		r->vars = nv;
		r->cap_vars = cap;
	}
	r->vars[r->n_vars].name = strdup(name);
	r->vars[r->n_vars].value = strdup(value);
	if (!r->vars[r->n_vars].name || !r->vars[r->n_vars].value)
		return ERR_NOMEM;
	r->n_vars++;
	return 0;
}

const char *script_variable(void *ctx, const char *name)
{
	return script_var_get(ctx, name);
}

/* The value of a variable as an expression evaluates it (LET, IF): a number when its
 * text reads as one. */
/* A name outside a table is a variable; one never set is NULL, as in Qlik (not an error). */
static int field_as_variable(void *ctx, struct expr *x, struct val *out)
{
	const char *v = script_var_get(ctx, x->text);
	if (!v) {
		*out = (struct val){.null = true};
		return 0;
	}
	struct qvd_value q;
	data_txt_interpret(v, NULL, &q);
	out->null = false;
	out->has_num = q.type != QVD_STRING;
	out->num = q.num;
	out->text = v;
	return 0;
}

int script_autonumber(void *ctx, const char *id, const struct val *key, int64_t *out)
{
	struct run *r = ctx;
	struct tbl *t = NULL;
	for (int i = 0; i < r->n_autonum && !t; i++)
		if (strcmp(r->autonum[i]->name, id) == 0)
			t = r->autonum[i];
	if (!t) {
		struct tbl **more = realloc(r->autonum, sizeof(*more) * (size_t)(r->n_autonum + 1));
		if (!more)
			return err_set(r->e, ERR_NOMEM, "out of memory");
		r->autonum = more;
		t = data_tbl_new(id);
		if (!t || data_tbl_field(t, "k", true) < 0) {
			data_tbl_free(t);
			return err_set(r->e, ERR_NOMEM, "out of memory");
		}
		r->autonum[r->n_autonum++] = t;
	}
	int64_t s = data_tbl_lookup(t, 0, key);
	if (s < 0) {
		if (data_tbl_append(t, key, 1))
			return err_set(r->e, ERR_NOMEM, "out of memory");
		s = t->fields[0].n_sym - 1;
	}
	*out = s + 1;
	return 0;
}

struct tbl *script_table_at(void *ctx, int i)
{
	struct run *r = ctx;
	return r->m && i >= 0 && i < r->m->n_tables ? r->m->tables[i] : NULL;
}

struct tbl *script_table_named(void *ctx, const char *name)
{
	struct run *r = ctx;
	if (!name)
		return r->out ? r->out : r->last;
	return r->m ? data_set_table(r->m, name) : NULL;
}

/* An evaluation outside any table: fields are variables. */
static struct eval free_eval(struct run *r, struct arena *a)
{
	return (struct eval){.a = a,
			     .e = r->e,
			     .ctx = r,
			     .field = field_as_variable,
			     .mapping = script_apply_map,
			     .mapping_table = script_map_table,
			     .variable = script_variable,
			     .env = r->env,
			     .reload_time = r->started,
			     .connection = r->connection,
			     .table_at = script_table_at,
			     .table_named = script_table_named,
			     .autonumber = script_autonumber};
}

/* Evaluates an expression outside any table (LET, IF, FOR bounds, $(=...)). */
int script_eval_free(struct run *r, struct expr *x, struct arena *a, struct val *out)
{
	struct eval ev = free_eval(r, a);
	return script_eval(&ev, x, out);
}

int script_list_free(struct run *r, struct expr *x, struct arena *a, char ***out, int *n)
{
	struct eval ev = free_eval(r, a);
	return script_file_list(&ev, x, out, n);
}

/* The value of variable `inner` ("name", or "name(arg1, arg2)": a parameterised variable
 * whose $1, $2, ... take the arguments); "" when it is not set. */
static const char *with_arguments(struct run *r, char *inner, struct arena *a)
{
	while (*inner == ' ')
		inner++;
	size_t n = strlen(inner);
	while (n && inner[n - 1] == ' ')
		inner[--n] = '\0';
	char *open = strchr(inner, '(');
	if (!open || inner[n - 1] != ')') {
		const char *v = script_var_get(r, inner);
		return v ? v : "";
	}
	*open = '\0';
	inner[n - 1] = '\0';
	size_t nl = strlen(inner);
	while (nl && inner[nl - 1] == ' ')
		inner[--nl] = '\0';
	const char *v = script_var_get(r, inner);
	if (!v)
		return "";
	/* the arguments, split at the commas outside parentheses and quotes */
	const char *args[9];
	int n_args = 0, level = 0;
	char quote = 0;
	char *start = open + 1;
	for (char *c = start;; c++) {
		if (!*c && (quote || level > 0))
			break; /* not closed: the arguments so far */
		if (quote) {
			quote = *c == quote ? 0 : quote;
		} else if (*c == '\'' || *c == '"') {
			quote = *c;
		} else if (*c == '(') {
			level++;
		} else if (*c == ')') {
			level--;
		} else if ((*c == ',' && level == 0) || !*c) {
			bool end = !*c;
			*c = '\0';
			while (*start == ' ')
				start++;
			size_t al = strlen(start);
			while (al && start[al - 1] == ' ')
				start[--al] = '\0';
			if (n_args < 9)
				args[n_args++] = start;
			if (end)
				break;
			start = c + 1;
		}
	}
	struct buf b;
	buf_init(&b, 64u << 20);
	int bad = 0;
	for (const char *p = v; *p && !bad; p++) {
		if (*p == '$' && p[1] >= '1' && p[1] <= '9') {
			int k = p[1] - '1';
			bad = buf_puts(&b, k < n_args ? args[k] : "");
			p++;
		} else {
			bad = buf_append(&b, p, 1);
		}
	}
	const char *out = bad ? "" : arena_strndup(a, b.data ? b.data : "", b.len);
	buf_release(&b);
	return out;
}

/* Replaces $(name) and $(=expr) in text. */
int script_expand(struct run *r, const char *text, int line, int col, struct arena *a, int depth,
		  char **out)
{
	*out = NULL;
	if (depth > MAX_EXPANSION_DEPTH)
		return err_set(r->e, ERR_INVALID,
			       "line %d, column %d: $( ) expansions nest more than %d deep", line,
			       col, MAX_EXPANSION_DEPTH);
	struct buf b;
	buf_init(&b, 64u << 20);
	int rc = 0;
	for (const char *p = text; *p && rc == 0;) {
		if (p[0] != '$' || p[1] != '(') {
			rc = buf_append(&b, p++, 1);
			continue;
		}
		/* the matching ) */
		const char *q = p + 2;
		int level = 1;
		while (*q && level) {
			level += *q == '(' ? 1 : *q == ')' ? -1 : 0;
			if (level)
				q++;
		}
		if (!*q) {
			rc = err_set(r->e, ERR_INVALID, "line %d, column %d: a $( is not closed",
				     line, col);
			break;
		}
		char *inner_raw = arena_strndup(a, p + 2, (size_t)(q - p - 2)), *inner;
		rc = script_expand(r, inner_raw, line, col, a, depth + 1, &inner);
		if (rc)
			break;
		const char *value = "";
		if (inner[0] == '=') {
			struct arena *ea = arena_new();
			struct stmt *s = NULL;
			char *let = arena_printf(ea, "LET __x = %s", inner + 1);
			rc = script_parse(let, line, col, false, ea, &s, r->e);
			struct val v;
			if (rc == 0 && s->expr)
				rc = script_eval_free(r, s->expr, ea, &v);
			if (rc == 0 && s->expr) {
				char buf[64];
				const char *t = v.null ? "" : data_val_text(&v, buf, sizeof(buf));
				value = arena_strndup(a, t, strlen(t));
			}
			arena_free(ea);
		} else {
			value = with_arguments(r, inner, a);
		}
		if (rc == 0)
			rc = buf_puts(&b, value);
		p = q + 1;
	}
	if (rc == 0 && !r->e->code)
		*out = arena_strndup(a, b.data ? b.data : "", b.len);
	else if (rc && !r->e->code)
		err_set(r->e, ERR_TOO_LARGE, "line %d: a statement grew over 64 MiB when expanded",
			line);
	buf_release(&b);
	return r->e->code ? r->e->code : 0;
}

/* ---------------------------------------------------------------- tables */

int script_add_table(struct run *r, struct tbl *t)
{
	struct tbl **nt = realloc(r->m->tables, sizeof(*nt) * (size_t)(r->m->n_tables + 1));
	if (!nt)
		return ERR_NOMEM;
	r->m->tables = nt;
	t->access = r->access_section;
	nt[r->m->n_tables++] = t;
	return 0;
}

static void upper_ascii(char *s)
{
	for (; *s; s++)
		*s = (char)toupper((unsigned char)*s);
}

static bool has_lower(const char *s)
{
	for (; s && *s; s++)
		if (islower((unsigned char)*s))
			return true;
	return false;
}

static bool all_upper(const struct tbl *t)
{
	for (int f = 0; f < t->n_fields; f++) {
		if (has_lower(t->fields[f].name))
			return false;
		for (int64_t i = 0; i < t->fields[f].n_sym; i++) {
			struct val v;
			data_tbl_symbol(t, f, i, &v);
			if (has_lower(v.text))
				return false;
		}
	}
	return true;
}

/* A copy of access table t with its names and texts in upper case. */
static int upper_copy(struct run *r, const struct tbl *t, struct tbl **out)
{
	struct tbl *u = data_tbl_new(t->name);
	struct val *row = calloc((size_t)t->n_fields + 1, sizeof(*row));
	struct arena *a = arena_new();
	int rc = u && row && a ? 0 : err_set(r->e, ERR_NOMEM, "out of memory");
	for (int f = 0; rc == 0 && f < t->n_fields; f++) {
		char *name = arena_strdup(a, t->fields[f].name);
		upper_ascii(name);
		if (data_tbl_field(u, name, false) >= 0) {
			rc =
			    err_set(r->e, ERR_INVALID,
				    "section access table %s has two fields named %s in upper case",
				    t->name, name);
		} else if (data_tbl_field(u, name, true) != f) {
			rc = err_set(r->e, ERR_NOMEM, "out of memory");
		} else {
			str_copy(u->fields[f].number_type, t->fields[f].number_type,
				 sizeof(u->fields[f].number_type));
			str_copy(u->fields[f].number_fmt, t->fields[f].number_fmt,
				 sizeof(u->fields[f].number_fmt));
		}
	}
	for (int64_t i = 0; rc == 0 && i < t->n_rows; i++) {
		for (int f = 0; f < t->n_fields; f++) {
			data_tbl_get(t, f, i, &row[f]);
			if (row[f].text) {
				char *up = arena_strdup(a, row[f].text);
				upper_ascii(up);
				row[f].text = up;
			}
		}
		if (data_tbl_append(u, row, t->n_fields))
			rc = err_set(r->e, ERR_NOMEM, "out of memory");
		if ((i & 4095) == 4095) {
			arena_free(a);
			a = arena_new();
		}
	}
	arena_free(a);
	free(row);
	if (rc) {
		data_tbl_free(u);
		return rc;
	}
	u->access = true;
	*out = u;
	return 0;
}

int script_access_upper(struct run *r)
{
	for (int i = 0; i < r->m->n_tables; i++) {
		struct tbl *t = r->m->tables[i], *u = NULL;
		if (!t->access || all_upper(t))
			continue;
		int rc = upper_copy(r, t, &u);
		if (rc)
			return rc;
		r->m->tables[i] = u;
		if (r->last == t)
			r->last = u;
		data_tbl_free(t);
	}
	return 0;
}

void script_remove_table(struct run *r, struct tbl *t)
{
	for (int i = 0; i < r->m->n_tables; i++)
		if (r->m->tables[i] == t) {
			memmove(&r->m->tables[i], &r->m->tables[i + 1],
				sizeof(*r->m->tables) * (size_t)(r->m->n_tables - i - 1));
			r->m->n_tables--;
			break;
		}
	if (r->last == t)
		r->last = NULL;
	data_tbl_free(t);
}

struct mapping *script_find_map(struct run *r, const char *name)
{
	for (int i = 0; i < r->n_maps; i++)
		if (strcmp(r->maps[i].name, name) == 0)
			return &r->maps[i];
	return NULL;
}

int script_apply_map(void *ctx, const char *map, const struct val *key, struct val *out,
		     bool *found)
{
	struct run *r = ctx;
	struct mapping *mp = script_find_map(r, map);
	if (!mp)
		return ERR_NOT_FOUND;
	*found = false;
	int64_t s = data_tbl_lookup(mp->t, 0, key);
	if (s < 0)
		return 0;
	data_tbl_get(mp->t, 1, mp->first_row[s], out);
	*found = true;
	return 0;
}

struct tbl *script_map_table(void *ctx, const char *map)
{
	struct mapping *mp = script_find_map(ctx, map);
	return mp ? mp->t : NULL;
}

void script_run_release(struct run *r)
{
	for (int i = 0; i < r->n_vars; i++) {
		free(r->vars[i].name);
		free(r->vars[i].value);
	}
	free(r->vars);
	for (int i = 0; i < r->n_maps; i++) {
		data_tbl_free(r->maps[i].t);
		free(r->maps[i].name);
		free(r->maps[i].first_row);
	}
	free(r->maps);
	for (int i = 0; i < r->n_quals; i++)
		free(r->quals[i].pattern);
	free(r->quals);
	free(r->decls);
	script_field_rules_free(r);
	for (int i = 0; i < r->n_tags; i++) {
		free(r->tags[i].field);
		free(r->tags[i].tag);
	}
	free(r->tags);
	for (int i = 0; i < r->n_autonum; i++)
		data_tbl_free(r->autonum[i]);
	free(r->autonum);
}
