/* reload.c: running a load script (see reload.h). */
#include "script/script_int.h"
#include "script/script.h"
#include "data/data.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_EXPANSION_DEPTH 16
#define MAX_LOOP_STEPS	    1000000
#define MAX_PRECEDING	    16
#define MAX_CALL_DEPTH	    64

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

static const char *var_get(const struct run *r, const char *name)
{
	for (int i = 0; i < r->n_vars; i++)
		if (strcasecmp(r->vars[i].name, name) == 0)
			return r->vars[i].value;
	return NULL;
}

static int var_set(struct run *r, const char *name, const char *value)
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

static const char *variable_cb(void *ctx, const char *name)
{
	return var_get(ctx, name);
}

/* The value of a variable as an expression evaluates it (LET, IF): a number when its
 * text reads as one. */
static int field_as_variable(void *ctx, struct expr *x, struct val *out)
{
	const char *v = var_get(ctx, x->text);
	if (!v)
		return ERR_NOT_FOUND;
	struct qvd_value q;
	data_txt_interpret(v, NULL, &q);
	out->null = false;
	out->has_num = q.type != QVD_STRING;
	out->num = q.num;
	out->text = v;
	return 0;
}

static int mapping_cb(void *ctx, const char *map, const struct val *key, struct val *out,
		      bool *found);

/* Evaluates an expression outside any table (LET, IF, FOR bounds, $(=...)). */
static int eval_free(struct run *r, struct expr *x, struct arena *a, struct val *out)
{
	struct eval ev = {.a = a,
			  .e = r->e,
			  .ctx = r,
			  .field = field_as_variable,
			  .mapping = mapping_cb,
			  .variable = variable_cb};
	return script_eval(&ev, x, out);
}

/* Replaces $(name) and $(=expr) in text. */
static int expand(struct run *r, const char *text, int line, int col, struct arena *a, int depth,
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
		rc = expand(r, inner_raw, line, col, a, depth + 1, &inner);
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
				rc = eval_free(r, s->expr, ea, &v);
			if (rc == 0 && s->expr) {
				char buf[64];
				const char *t = v.null ? "" : data_val_text(&v, buf, sizeof(buf));
				value = arena_strndup(a, t, strlen(t));
			}
			arena_free(ea);
		} else {
			while (*inner == ' ')
				inner++;
			size_t n = strlen(inner);
			while (n && inner[n - 1] == ' ')
				inner[--n] = '\0';
			const char *v = var_get(r, inner);
			value = v ? v : "";
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
	nt[r->m->n_tables++] = t;
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

static int mapping_cb(void *ctx, const char *map, const struct val *key, struct val *out,
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

/* ---------------------------------------------------------------- LOAD */

static int src_field(void *ctx, struct expr *x, struct val *out)
{
	struct run *r = ctx;
	if (!r->src)
		return ERR_NOT_FOUND;
	int f = x->slot - 1;
	if (f < 0 || f >= r->src->n_fields || strcmp(r->src->fields[f].name, x->text) != 0) {
		f = data_tbl_field(r->src, x->text, false);
		if (f < 0)
			return ERR_NOT_FOUND;
		x->slot = f + 1;
	}
	data_tbl_get(r->src, f, r->row, out);
	return 0;
}

static void set_group_row(void *ctx, int64_t i)
{
	struct run *r = ctx;
	r->row = r->group[i];
}

/* A file the script reads: mapped (private, read-only), or "" for an empty one. */
struct source {
	char *data;
	size_t len;
	bool mapped;
};

static void source_release(struct source *src)
{
	if (src->mapped)
		munmap(src->data, src->len);
	else
		free(src->data);
	memset(src, 0, sizeof(*src));
}

/* Opens a whole file the script names. */
static int read_source(struct run *r, const struct stmt *s, const char *path, struct source *out)
{
	memset(out, 0, sizeof(*out));
	char file[4096];
	int rc = r->env->resolve
		     ? r->env->resolve(r->env->ctx, path, false, file, sizeof(file), r->e)
		     : err_set(r->e, ERR_FORBIDDEN, "no files can be read here");
	if (rc) {
		char msg[sizeof(r->e->message)];
		str_copy(msg, r->e->message, sizeof(msg));
		r->e->code = 0;
		return script_err(r, s, rc, "%s", msg);
	}
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		int err = errno;
		if (fd >= 0)
			close(fd);
		return script_err(r, s, err == ENOENT ? ERR_NOT_FOUND : ERR_IO,
				  "cannot read %s: %s", path, strerror(err));
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > MAX_FILE) {
		close(fd);
		return script_err(r, s, ERR_INVALID, "cannot read %s: %s", path,
				  S_ISREG(st.st_mode) ? "the file is too large" : "not a file");
	}
	if (st.st_size == 0) {
		close(fd);
		out->data = calloc(1, 1);
		return out->data ? 0 : err_set(r->e, ERR_NOMEM, "out of memory");
	}
	void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	int err = errno;
	close(fd);
	if (m == MAP_FAILED)
		return script_err(r, s, ERR_IO, "cannot read %s: %s", path, strerror(err));
	madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL);
	out->data = m;
	out->len = (size_t)st.st_size;
	out->mapped = true;
	return 0;
}

static int load_source(struct run *r, const struct stmt *s, struct tbl **out, bool *owned,
		       int64_t *rows)
{
	const struct load *l = &s->load;
	*out = NULL;
	*owned = true;
	struct qvd_table *q = NULL;
	int rc = 0;
	struct source src = {0};
	struct txt_options o = {.date_format = var_get(r, "DateFormat")};
	switch (l->source) {
	case SRC_INLINE:
		rc =
		    data_txt_read(l->inline_data, strlen(l->inline_data), &l->format, &o, &q, r->e);
		break;
	case SRC_FILE:
		rc = read_source(r, s, l->path, &src);
		if (rc == 0 && l->format.qvd) {
			rc = data_qvd_read(src.data, src.len, &q, r->e);
		} else if (rc == 0) {
			o.release_base = src.mapped ? src.data : NULL;
			rc = data_txt_read(src.data, src.len, &l->format, &o, &q, r->e);
		}
		source_release(&src);
		break;
	case SRC_RESIDENT:
		*out = data_set_table(r->m, l->path);
		*owned = false;
		if (!*out)
			return script_err(r, s, ERR_INVALID,
					  "there is no table named %s to load RESIDENT", l->path);
		*rows = (*out)->n_rows;
		return 0;
	case SRC_AUTOGENERATE: {
		struct arena *a = arena_new();
		struct val v;
		double n = 0;
		rc = eval_free(r, l->count, a, &v);
		arena_free(a);
		if (rc)
			return rc;
		if (!script_val_number(&v, &n) || n < 0 || n > 1e9 || n != floor(n))
			return script_err(r, s, ERR_INVALID,
					  "AUTOGENERATE needs a whole number of rows");
		*out = NULL;
		*rows = (int64_t)n;
		return 0;
	}
	case SRC_PRECEDING: /* exec_load gives such a load its source */
		return script_err(r, s, ERR_INTERNAL, "a preceding LOAD ran without its input");
	}
	if (rc) {
		if (!strstr(r->e->message, "line ")) {
			char msg[sizeof(r->e->message)];
			str_copy(msg, r->e->message, sizeof(msg));
			r->e->code = 0;
			return script_err(r, s, ERR_INVALID, "%s", msg);
		}
		return rc;
	}
	/* text was interned as it was read; a QVD's symbols are interned again, since another
	 * program wrote them */
	bool from_text = l->source == SRC_INLINE || !l->format.qvd;
	rc = from_text ? data_tbl_adopt_qvd(q, out, r->e) : data_tbl_from_qvd(q, "", out, r->e);
	if (rc == 0)
		*rows = (*out)->n_rows;
	return rc;
}

/* The names of the output fields. */
static int out_names(struct run *r, const struct stmt *s, struct tbl *src, const char ***names,
		     struct expr ***exprs, int *n)
{
	const struct load *l = &s->load;
	int cap = l->n_items + (src ? src->n_fields : 0) + 1;
	*names = calloc((size_t)cap, sizeof(char *));
	*exprs = calloc((size_t)cap, sizeof(struct expr *));
	if (!*names || !*exprs)
		return err_set(r->e, ERR_NOMEM, "out of memory");
	int k = 0;
	for (int i = 0; i < l->n_items; i++) {
		const struct load_item *it = &l->items[i];
		if (!it->expr) {
			if (!src)
				return script_err(r, s, ERR_INVALID,
						  "LOAD * needs a source with fields");
			for (int f = 0; f < src->n_fields; f++) {
				(*names)[k] = src->fields[f].name;
				(*exprs)[k++] = NULL; /* field f as it is */
			}
			continue;
		}
		(*names)[k] = it->as			   ? it->as
			      : it->expr->kind == EX_FIELD ? it->expr->text
							   : it->text;
		(*exprs)[k++] = it->expr;
	}
	for (int i = 0; i < k; i++)
		for (int j = 0; j < i; j++)
			if (strcmp((*names)[i], (*names)[j]) == 0)
				return script_err(r, s, ERR_INVALID, "the field %s is loaded twice",
						  (*names)[i]);
	*n = k;
	return 0;
}

/* Keeps the texts of vals alive until the row is appended. */
static void own_texts(struct arena *a, struct val *v)
{
	if (!v->null && v->text)
		v->text = arena_strndup(a, v->text, strlen(v->text));
}

/* Where the rows go: an existing table to extend, or a new one. */
static int destination(struct run *r, const struct stmt *s, const char **names, int n,
		       struct tbl **out, bool *created)
{
	const struct load *l = &s->load;
	*created = false;
	if (l->concatenate) {
		struct tbl *t = l->target ? data_set_table(r->m, l->target) : r->last;
		if (!t)
			return script_err(r, s, ERR_INVALID,
					  "there is no table %s%s to concatenate to",
					  l->target ? "named " : "", l->target ? l->target : "yet");
		*out = t;
		return 0;
	}
	if (!l->noconcatenate && l->join == JOIN_NONE) {
		/* the same set of fields: automatic concatenation */
		for (int i = 0; i < r->m->n_tables; i++) {
			struct tbl *t = r->m->tables[i];
			if (t->n_fields != n)
				continue;
			bool all = true;
			for (int k = 0; k < n && all; k++)
				all = data_tbl_field(t, names[k], false) >= 0;
			if (all) {
				*out = t;
				return 0;
			}
		}
	}
	char name[512];
	if (s->label)
		str_copy(name, s->label, sizeof(name));
	else if (l->source == SRC_FILE) {
		const char *b = strrchr(l->path, '/');
		b = b ? b + 1 : l->path;
		str_copy(name, b, sizeof(name));
		char *dot = strrchr(name, '.');
		if (dot && dot != name)
			*dot = '\0';
	} else
		snprintf(name, sizeof(name), "Table%d", ++r->unnamed);
	char unique[600];
	str_copy(unique, name, sizeof(unique));
	for (int k = 1; data_set_table(r->m, unique); k++)
		snprintf(unique, sizeof(unique), "%s-%d", name, k);
	struct tbl *t = data_tbl_new(unique);
	if (!t)
		return err_set(r->e, ERR_NOMEM, "out of memory");
	*out = t;
	*created = true;
	return 0;
}

/* Whether QUALIFY (and no later UNQUALIFY) names the field. */
static bool qualified(const struct run *r, const char *field)
{
	bool on = false;
	for (int i = 0; i < r->n_quals; i++)
		if (script_eval_like(field, r->quals[i].pattern))
			on = r->quals[i].on;
	return on;
}

static void join_name(char *out, const char *table, const char *field)
{
	size_t tl = strlen(table), fl = strlen(field);
	memcpy(out, table, tl);
	out[tl] = '.';
	memcpy(out + tl + 1, field, fl + 1);
}

static int add_quals(struct run *r, const struct stmt *s)
{
	struct qual *q = realloc(r->quals, sizeof(*q) * (size_t)(r->n_quals + s->n_names + 1));
	if (!q)
		return err_set(r->e, ERR_NOMEM, "out of memory");
	r->quals = q;
	for (int i = 0; i < s->n_names; i++) {
		char *p = strdup(s->names[i]);
		if (!p)
			return err_set(r->e, ERR_NOMEM, "out of memory");
		q[r->n_quals++] = (struct qual){p, s->kind == ST_QUALIFY};
	}
	return 0;
}

/* Runs a LOAD. `given`: its source is this table (a preceding load's input) instead of
 * what the statement names. `temp_out`: the rows go to a new table handed back there,
 * outside the model (the input of a preceding load), instead of their destination. */
static int exec_load(struct run *r, const struct stmt *s, struct tbl *given, struct tbl **temp_out)
{
	const struct load *l = &s->load;
	if (l->while_)
		return script_err(r, s, ERR_INVALID, "WHILE is not supported yet");
	struct tbl *src = NULL, *dst = NULL, *seen = NULL;
	bool owned = false, created = false;
	int64_t rows = 0;
	int rc = 0;
	if (given) {
		src = given;
		rows = given->n_rows;
	} else {
		rc = load_source(r, s, &src, &owned, &rows);
	}
	if (rc)
		return rc;
	const char **names = NULL;
	struct expr **exprs = NULL;
	int n = 0;
	int *cols = NULL, *star_cols = NULL;
	struct val *vals = NULL;
	int64_t *group_rows = NULL, *group_of = NULL;
	rc = out_names(r, s, src, &names, &exprs, &n);
	struct tbl *mapping = NULL;
	if (rc == 0 && temp_out) {
		dst = data_tbl_new("preceding");
		created = true;
		if (!dst)
			rc = err_set(r->e, ERR_NOMEM, "out of memory");
	} else if (rc == 0 && l->mapping) {
		if (n != 2)
			rc = script_err(r, s, ERR_INVALID,
					"a MAPPING LOAD needs two fields, not %d", n);
		else if (!(mapping = data_tbl_new(s->label ? s->label : "map")))
			rc = err_set(r->e, ERR_NOMEM, "out of memory");
		dst = mapping;
		created = true;
	} else if (rc == 0) {
		rc = destination(r, s, names, n, &dst, &created);
	}
	/* the destination's column of each output field */
	cols = rc == 0 ? calloc((size_t)(n + 1), sizeof(int)) : NULL;
	star_cols = rc == 0 ? calloc((size_t)(n + 1), sizeof(int)) : NULL;
	if (rc == 0 && (!cols || !star_cols))
		rc = err_set(r->e, ERR_NOMEM, "out of memory");
	/* a new table's fields that QUALIFY names are called Table.Field */
	bool qualify = created && !temp_out && !l->mapping && l->join == JOIN_NONE;
	for (int i = 0; rc == 0 && i < n; i++) {
		const char *name = names[i];
		if (qualify && qualified(r, name)) {
			char *qn = malloc(strlen(dst->name) + strlen(name) + 2);
			if (qn)
				join_name(qn, dst->name, name);
			cols[i] = qn ? data_tbl_field(dst, qn, true) : -1;
			free(qn);
		} else {
			cols[i] = data_tbl_field(dst, name, true);
		}
		star_cols[i] = exprs[i] ? -1 : data_tbl_field(src, names[i], false);
		if (cols[i] < 0)
			rc = err_set(r->e, ERR_NOMEM, "out of memory");
	}
	if (rc == 0 && !(vals = calloc((size_t)(dst->n_fields + 1), sizeof(*vals))))
		rc = err_set(r->e, ERR_NOMEM, "out of memory");
	if (rc == 0 && l->distinct) {
		seen = data_tbl_new("distinct");
		if (!seen || data_tbl_field(seen, "k", true) < 0)
			rc = err_set(r->e, ERR_NOMEM, "out of memory");
	}
	struct eval ev = {.e = r->e,
			  .ctx = r,
			  .field = src_field,
			  .mapping = mapping_cb,
			  .variable = variable_cb,
			  .date_format = var_get(r, "DateFormat")};
	r->src = src;
	/* groups: the rows of each distinct combination of the GROUP BY fields, in order of
	 * first occurrence */
	int64_t n_groups = rows, *group_start = NULL;
	if (rc == 0 && l->group_by) {
		struct tbl *keys = data_tbl_new("groups");
		int *gf = calloc((size_t)l->n_group_by, sizeof(int));
		group_of = calloc((size_t)(rows ? rows : 1), sizeof(int64_t));
		if (!keys || !gf || !group_of || data_tbl_field(keys, "k", true) < 0)
			rc = err_set(r->e, ERR_NOMEM, "out of memory");
		for (int g = 0; rc == 0 && g < l->n_group_by; g++)
			if (!src || (gf[g] = data_tbl_field(src, l->group_by[g], false)) < 0)
				rc = script_err(r, s, ERR_INVALID,
						"GROUP BY names a field not in the source: %s",
						l->group_by[g]);
		struct buf kb;
		buf_init(&kb, 1 << 24);
		for (int64_t i = 0; rc == 0 && i < rows; i++) {
			kb.len = 0;
			for (int g = 0; g < l->n_group_by; g++)
				if (buf_printf(&kb, "%d\x1f", src->fields[gf[g]].index[i]))
					rc = err_set(r->e, ERR_NOMEM, "out of memory");
			struct val kv = {.text = kb.data};
			if (rc == 0 && data_tbl_append(keys, &kv, 1))
				rc = err_set(r->e, ERR_NOMEM, "out of memory");
			if (rc == 0)
				group_of[i] = keys->fields[0].index[i];
		}
		buf_release(&kb);
		n_groups = keys ? keys->fields[0].n_sym : 0;
		/* rows by group: counting sort */
		group_start = calloc((size_t)(n_groups + 1), sizeof(int64_t));
		group_rows = calloc((size_t)(rows ? rows : 1), sizeof(int64_t));
		if (rc == 0 && (!group_start || !group_rows))
			rc = err_set(r->e, ERR_NOMEM, "out of memory");
		for (int64_t i = 0; rc == 0 && i < rows; i++)
			group_start[group_of[i] + 1]++;
		for (int64_t g = 0; rc == 0 && g < n_groups; g++)
			group_start[g + 1] += group_start[g];
		int64_t *fill = rc == 0 ? calloc((size_t)(n_groups + 1), sizeof(int64_t)) : NULL;
		for (int64_t i = 0; fill && i < rows; i++)
			group_rows[group_start[group_of[i]] + fill[group_of[i]]++] = i;
		free(fill);
		data_tbl_free(keys);
		free(gf);
		ev.set_row = set_group_row;
	}
	/* A LOAD of every field of a file, as it is, into a new table: the file's table becomes
	 * the new one, with no copy row by row. */
	bool adopt = rc == 0 && owned && created && !temp_out && !mapping && l->join == JOIN_NONE &&
		     !l->where && !l->distinct && !l->group_by && !l->order_by && src &&
		     n == src->n_fields && dst->n_fields == n &&
		     !(r->env->max_rows && src->n_rows > r->env->max_rows);
	for (int k = 0; adopt && k < n; k++)
		adopt = !exprs[k] && star_cols[k] == k && cols[k] == k;
	for (int k = 0; adopt && k < n; k++) {
		char *nm = strdup(dst->fields[k].name); /* it may be qualified */
		if (!nm) {
			rc = err_set(r->e, ERR_NOMEM, "out of memory");
			break;
		}
		free(src->fields[k].name);
		src->fields[k].name = nm;
	}
	if (rc == 0 && adopt) {
		char *nm = strdup(dst->name);
		if (!nm) {
			rc = err_set(r->e, ERR_NOMEM, "out of memory");
		} else {
			free(src->name);
			src->name = nm;
			data_tbl_free(dst);
			dst = src;
			owned = false;
			n_groups = 0; /* nothing to copy */
		}
	}
	int64_t src_rows = rows, written = adopt ? dst->n_rows : 0, *order = NULL;
	if (rc == 0 && l->order_by && !l->group_by)
		rc = script_sort_rows(r, s, src, rows, &order);
	for (int64_t i = 0; rc == 0 && i < n_groups; i++) {
		struct arena *a = arena_new();
		ev.a = a;
		if (l->group_by) {
			r->group = group_rows + group_start[i];
			ev.n_group = group_start[i + 1] - group_start[i];
			r->row = r->group[0];
		} else {
			r->row = order ? order[i] : i;
		}
		ev.recno = r->row + 1;
		ev.rowno = dst->n_rows + 1;
		if (l->where && !l->group_by) {
			struct val w;
			if ((rc = script_eval(&ev, l->where, &w)) || !script_val_true(&w)) {
				arena_free(a);
				continue;
			}
		}
		for (int f = 0; f < dst->n_fields; f++)
			vals[f] = (struct val){.null = true};
		for (int k = 0; rc == 0 && k < n; k++) {
			struct val v;
			if (exprs[k]) {
				rc = script_eval(&ev, exprs[k], &v);
			} else {
				data_tbl_get(src, star_cols[k], r->row, &v);
			}
			if (rc == 0) {
				own_texts(a, &v);
				vals[cols[k]] = v;
			}
		}
		if (rc == 0 && seen) {
			struct buf kb;
			buf_init(&kb, 64u << 20);
			for (int k = 0; k < n; k++) {
				char nb[64];
				const struct val *v = &vals[cols[k]];
				if (buf_printf(&kb, "%c%s\x1f",
					       v->null	    ? 'n'
					       : v->has_num ? '#'
							    : 's',
					       v->null ? ""
					       : v->has_num
						   ? (snprintf(nb, sizeof(nb), "%.17g", v->num), nb)
						   : v->text))
					rc = err_set(r->e, ERR_NOMEM, "out of memory");
			}
			int64_t before = seen->fields[0].n_sym;
			struct val kv = {.text = kb.data ? kb.data : ""};
			if (rc == 0 && data_tbl_append(seen, &kv, 1))
				rc = err_set(r->e, ERR_NOMEM, "out of memory");
			buf_release(&kb);
			if (rc == 0 && seen->fields[0].n_sym == before) {
				arena_free(a);
				continue;
			}
		}
		if (rc == 0 && r->env->max_rows && dst->n_rows >= r->env->max_rows)
			rc = script_err(r, s, ERR_TOO_LARGE, "table %s would pass %lld rows",
					dst->name, (long long)r->env->max_rows);
		if (rc == 0 && data_tbl_append(dst, vals, dst->n_fields))
			rc = err_set(r->e, ERR_NOMEM, "out of memory");
		written++;
		arena_free(a);
	}
	(void)src_rows;
	r->src = NULL;
	if (rc == 0 && mapping) {
		struct mapping *nm = realloc(r->maps, sizeof(*nm) * (size_t)(r->n_maps + 1));
		if (!nm) {
			rc = err_set(r->e, ERR_NOMEM, "out of memory");
		} else {
			r->maps = nm;
			struct mapping *mp = &r->maps[r->n_maps];
			mp->name = strdup(mapping->name);
			mp->t = mapping;
			mp->first_row =
			    calloc((size_t)(mapping->fields[0].n_sym + 1), sizeof(int64_t));
			if (!mp->name || !mp->first_row) {
				free(mp->name);
				free(mp->first_row);
				rc = err_set(r->e, ERR_NOMEM, "out of memory");
			} else {
				for (int64_t s2 = 0; s2 < mapping->fields[0].n_sym; s2++)
					mp->first_row[s2] = -1;
				for (int64_t row = 0; row < mapping->n_rows; row++) {
					int32_t sy = mapping->fields[0].index[row];
					if (sy >= 0 && mp->first_row[sy] < 0)
						mp->first_row[sy] = row;
				}
				r->n_maps++;
				mapping = NULL;
				created = false; /* dst is the mapping, kept now */
				script_log(r, "mapping table %s: %lld rows",
					   r->maps[r->n_maps - 1].name, (long long)written);
			}
		}
	} else if (rc == 0 && temp_out) {
		*temp_out = dst;
		created = false;
	} else if (rc == 0 && l->join != JOIN_NONE) {
		created = false; /* combine takes dst */
		rc = script_combine(r, s, dst);
	} else if (rc == 0) {
		if (created && (rc = script_add_table(r, dst)) != 0)
			rc = err_set(r->e, ERR_NOMEM, "out of memory");
		if (rc == 0) {
			created = false;
			r->last = dst;
			script_log(r, "%s << %lld rows, %d fields (%lld rows now)", dst->name,
				   (long long)written, n, (long long)dst->n_rows);
		}
	}
	if (created && dst && dst != mapping)
		data_tbl_free(dst);
	data_tbl_free(mapping);
	data_tbl_free(seen);
	if (owned)
		data_tbl_free(src);
	free(names);
	free(exprs);
	free(cols);
	free(star_cols);
	free(vals);
	free(group_rows);
	free(group_of);
	free(group_start);
	free(order);
	return rc;
}

/* ---------------------------------------------------------------- the program */

struct loop {
	bool is_do; /* DO ... LOOP; else FOR ... NEXT */
	int opener; /* the DO or FOR */
	int start;  /* the piece after it */
	const char *var;
	double value, to, step;
	struct val *items; /* FOR EACH */
	char **texts;
	int n_items, at;
};

/* Skips from piece i (an IF or ELSEIF whose condition failed, or an ELSE branch taken)
 * to the matching ELSEIF/ELSE/END IF at depth 0. `to_end`: only END IF stops it. */
static int skip_if(struct stmt **st, int n, int i, bool to_end)
{
	int depth = 0;
	for (int k = i + 1; k < n; k++) {
		enum stmt_kind kd = st[k]->kind;
		if (kd == ST_IF)
			depth++;
		else if (kd == ST_END_IF && depth-- == 0)
			return k;
		else if (!to_end && depth == 0 && (kd == ST_ELSEIF || kd == ST_ELSE))
			return k;
	}
	return -1;
}

/* A CALL in progress: where to go back to, the loops open when it was made, and the
 * variables its parameters hid. */
struct call {
	int ret;
	int n_loops;
	int n_params;
	char *param[16], *saved[16]; /* saved NULL: the variable did not exist */
};

static const char *block_name(enum stmt_kind k)
{
	switch (k) {
	case ST_IF: return "IF";
	case ST_FOR:
	case ST_FOR_EACH: return "FOR";
	case ST_DO: return "DO";
	case ST_SUB: return "SUB";
	case ST_END_IF: return "END IF";
	case ST_NEXT: return "NEXT";
	case ST_LOOP: return "LOOP";
	case ST_END_SUB: return "END SUB";
	case ST_ELSE: return "ELSE";
	default: return "ELSEIF";
	}
}

static int pair_blocks(struct run *r, struct stmt **st, int n, int *pair)
{
	int stack[64], depth = 0;
	for (int i = 0; i < n; i++) {
		enum stmt_kind k = st[i]->kind, want;
		pair[i] = -1;
		if (k == ST_IF || k == ST_FOR || k == ST_FOR_EACH || k == ST_DO || k == ST_SUB) {
			if (depth == 64)
				return script_err(
				    r, st[i], ERR_INVALID,
				    "blocks (IF, FOR, DO, SUB) nest more than 64 deep");
			stack[depth++] = i;
			continue;
		}
		if (k == ST_ELSEIF || k == ST_ELSE || k == ST_END_IF)
			want = ST_IF;
		else if (k == ST_NEXT)
			want = ST_FOR;
		else if (k == ST_LOOP)
			want = ST_DO;
		else if (k == ST_END_SUB)
			want = ST_SUB;
		else
			continue;
		enum stmt_kind top = depth ? st[stack[depth - 1]]->kind : ST_EMPTY;
		if (top == ST_FOR_EACH)
			top = ST_FOR;
		if (top != want)
			return script_err(r, st[i], ERR_INVALID, "%s without %s%s%s", block_name(k),
					  block_name(want), depth ? " (open here: " : "",
					  depth ? block_name(st[stack[depth - 1]]->kind) : "");
		if (k == ST_ELSEIF || k == ST_ELSE)
			continue;
		pair[i] = stack[--depth];
		pair[stack[depth]] = i;
	}
	if (depth) {
		enum stmt_kind k = st[stack[depth - 1]]->kind;
		return script_err(r, st[stack[depth - 1]], ERR_INVALID, "%s without %s",
				  block_name(k),
				  k == ST_IF	? "END IF"
				  : k == ST_DO	? "LOOP"
				  : k == ST_SUB ? "END SUB"
						: "NEXT (NEXT is missing)");
	}
	return 0;
}

static void loop_free(struct loop *lp)
{
	for (int k = 0; lp->texts && k < lp->n_items; k++)
		free(lp->texts[k]);
	free(lp->texts);
	lp->texts = NULL;
}

/* Leaves a CALL: the parameters' variables get their values from before it back. */
static int call_return(struct run *r, struct call *c)
{
	int rc = 0;
	for (int k = 0; k < c->n_params; k++) {
		if (rc == 0)
			rc = var_set(r, c->param[k], c->saved[k] ? c->saved[k] : "");
		free(c->param[k]);
		free(c->saved[k]);
	}
	c->n_params = 0;
	return rc;
}

/* Enters the SUB that the CALL `s` at piece i names; *out gets the SUB's piece. */
static int do_call(struct run *r, struct stmt **st, int n, int i, const struct stmt *s,
		   struct call *c, struct arena *ea, int *out)
{
	int sub = -1;
	for (int k = 0; k < n && sub < 0; k++)
		if (st[k]->kind == ST_SUB && strcasecmp(st[k]->name, s->name) == 0)
			sub = k;
	if (sub < 0)
		return script_err(r, s, ERR_INVALID, "there is no SUB named %s", s->name);
	const struct stmt *d = st[sub];
	if (s->n_args > d->n_names || d->n_names > 16)
		return script_err(r, s, ERR_INVALID, "%s takes %d arguments, not %d", d->name,
				  d->n_names, s->n_args);
	/* the arguments first, then the parameters take them */
	char *vals[16] = {0};
	int rc = 0;
	for (int k = 0; rc == 0 && k < s->n_args; k++) {
		struct val v;
		char nb[64];
		rc = eval_free(r, s->args[k], ea, &v);
		if (rc == 0 && !(vals[k] = strdup(v.null ? "" : data_val_text(&v, nb, sizeof(nb)))))
			rc = err_set(r->e, ERR_NOMEM, "out of memory");
	}
	c->ret = i;
	c->n_params = 0;
	for (int k = 0; rc == 0 && k < d->n_names; k++) {
		const char *old = var_get(r, d->names[k]);
		c->param[k] = strdup(d->names[k]);
		c->saved[k] = old ? strdup(old) : NULL;
		c->n_params++;
		rc = var_set(r, d->names[k], vals[k] ? vals[k] : "");
	}
	for (int k = 0; k < 16; k++)
		free(vals[k]);
	*out = sub;
	return rc;
}

static int set_loop_var(struct run *r, struct loop *lp)
{
	char v[64];
	if (lp->texts)
		return var_set(r, lp->var, lp->texts[lp->at]);
	struct val nv = {.has_num = true, .num = lp->value};
	return var_set(r, lp->var, data_val_text(&nv, v, sizeof(v)));
}

int script_run(const char *script, const struct reload_env *env, struct data_set **out,
	       struct err *e)
{
	*out = NULL;
	struct arena *a = arena_new();
	struct run r = {.env = env, .e = e};
	r.m = calloc(1, sizeof(*r.m));
	struct script_piece *pc = NULL;
	int n = 0;
	int rc = r.m ? script_split(script, a, &pc, &n, e) : err_set(e, ERR_NOMEM, "out of memory");
	struct stmt **st = rc == 0 ? arena_alloc(a, sizeof(*st) * (size_t)(n + 1)) : NULL;
	struct loop loops[32];
	int n_loops = 0;
	struct stmt *pending[MAX_PRECEDING]; /* preceding loads waiting for their source */
	int n_pending = 0;
	long steps = 0;
	/* Control statements are parsed up front (they hold no $( ) in practice that changes
	 * their shape; their expressions are evaluated when reached). */
	for (int i = 0; rc == 0 && i < n; i++) {
		st[i] = NULL;
		if (pc[i].control)
			rc = script_parse(pc[i].text, pc[i].line, pc[i].col, true, a, &st[i], e);
		else {
			/* a placeholder with the kind of a regular statement */
			st[i] = arena_alloc(a, sizeof(struct stmt));
			st[i]->kind = ST_EMPTY;
			st[i]->line = pc[i].line;
			st[i]->col = pc[i].col;
		}
	}
	/* blocks must pair up before anything runs: IF ... END IF, FOR ... NEXT, DO ... LOOP,
	 * SUB ... END SUB; pair[] links each opener and closer to the other */
	int *pair = rc == 0 ? arena_alloc(a, sizeof(int) * (size_t)(n + 1)) : NULL;
	if (rc == 0)
		rc = pair_blocks(&r, st, n, pair);
	struct call calls[MAX_CALL_DEPTH];
	int n_calls = 0;
	for (int i = 0; rc == 0 && i < n; i++) {
		if (++steps > MAX_LOOP_STEPS) {
			rc = script_err(&r, st[i], ERR_INVALID,
					"the script ran %d statements: a loop that "
					"does not end?",
					MAX_LOOP_STEPS);
			break;
		}
		struct stmt *s = st[i];
		if (pc[i].control) {
			if (strstr(pc[i].text, "$(")) {
				/* its expressions may use $( ): read it again, expanded */
				char *text = NULL;
				rc = expand(&r, pc[i].text, pc[i].line, pc[i].col, a, 0, &text);
				if (rc == 0)
					rc = script_parse(text, pc[i].line, pc[i].col, true, a, &s,
							  e);
				if (rc)
					break;
				if (s->kind != st[i]->kind) {
					rc = script_err(
					    &r, s, ERR_INVALID,
					    "a $( ) expansion changed what this statement is");
					break;
				}
			}
			struct arena *ea = arena_new();
			struct val v;
			switch (s->kind) {
			case ST_IF:
			case ST_ELSEIF:
				if (s->kind == ST_ELSEIF) { /* a branch was taken: go to END IF */
					int k = skip_if(st, n, i, true);
					if (k < 0)
						rc = script_err(&r, s, ERR_INVALID,
								"ELSEIF without END IF");
					i = k;
					break;
				}
				rc = eval_free(&r, s->expr, ea, &v);
				while (rc == 0 && !script_val_true(&v)) {
					int k = skip_if(st, n, i, false);
					if (k < 0) {
						rc = script_err(&r, s, ERR_INVALID,
								"IF without END IF");
						break;
					}
					i = k;
					if (st[k]->kind != ST_ELSEIF)
						break;
					rc = eval_free(&r, st[k]->expr, ea, &v);
				}
				break;
			case ST_ELSE: {
				int k = skip_if(st, n, i, true);
				if (k < 0)
					rc = script_err(&r, s, ERR_INVALID, "ELSE without END IF");
				i = k;
				break;
			}
			case ST_END_IF: break;
			case ST_FOR:
			case ST_FOR_EACH: {
				if (n_loops == 32) {
					rc = script_err(&r, s, ERR_INVALID,
							"FOR loops nest more than 32 deep");
					break;
				}
				struct loop *lp = &loops[n_loops];
				memset(lp, 0, sizeof(*lp));
				lp->opener = i;
				lp->start = i + 1;
				lp->var = s->name;
				bool empty = false;
				if (s->kind == ST_FOR) {
					struct val f, t, stp = {.has_num = true, .num = 1};
					rc = eval_free(&r, s->expr, ea, &f);
					if (rc == 0)
						rc = eval_free(&r, s->to, ea, &t);
					if (rc == 0 && s->step)
						rc = eval_free(&r, s->step, ea, &stp);
					if (rc == 0 &&
					    (!script_val_number(&f, &lp->value) ||
					     !script_val_number(&t, &lp->to) ||
					     !script_val_number(&stp, &lp->step) || lp->step == 0))
						rc = script_err(
						    &r, s, ERR_INVALID,
						    "FOR needs numbers and a step other than 0");
					empty = rc == 0 && (lp->step > 0 ? lp->value > lp->to
									 : lp->value < lp->to);
				} else {
					lp->n_items = s->n_args;
					lp->texts = calloc((size_t)s->n_args + 1, sizeof(char *));
					for (int k = 0; rc == 0 && k < s->n_args; k++) {
						char nb[64];
						rc = eval_free(&r, s->args[k], ea, &v);
						if (rc == 0)
							lp->texts[k] = strdup(
							    data_val_text(&v, nb, sizeof(nb)));
					}
					empty = s->n_args == 0;
				}
				if (rc == 0 && empty) {
					loop_free(lp);
					i = pair[i];
				} else if (rc == 0) {
					n_loops++;
					rc = set_loop_var(&r, lp);
				}
				break;
			}
			case ST_NEXT: {
				if (n_loops == 0 || loops[n_loops - 1].opener != pair[i]) {
					rc = script_err(&r, s, ERR_INVALID, "NEXT without FOR");
					break;
				}
				struct loop *lp = &loops[n_loops - 1];
				bool again;
				if (lp->texts) {
					again = ++lp->at < lp->n_items;
				} else {
					lp->value += lp->step;
					again = lp->step > 0 ? lp->value <= lp->to
							     : lp->value >= lp->to;
				}
				if (again) {
					rc = set_loop_var(&r, lp);
					i = lp->start - 1;
				} else {
					loop_free(lp);
					n_loops--;
				}
				break;
			}
			case ST_DO: {
				bool enter = true;
				if (s->expr && (rc = eval_free(&r, s->expr, ea, &v)) == 0)
					enter = script_val_true(&v) != s->until;
				if (rc || !enter) {
					i = rc ? i : pair[i];
					break;
				}
				if (n_loops == 32) {
					rc = script_err(&r, s, ERR_INVALID,
							"loops nest more than 32 deep");
					break;
				}
				loops[n_loops++] =
				    (struct loop){.is_do = true, .opener = i, .start = i + 1};
				break;
			}
			case ST_LOOP: {
				if (n_loops == 0 || loops[n_loops - 1].opener != pair[i]) {
					rc = script_err(&r, s, ERR_INVALID, "LOOP without DO");
					break;
				}
				struct loop *lp = &loops[n_loops - 1];
				bool again = true;
				if (s->expr && (rc = eval_free(&r, s->expr, ea, &v)) == 0)
					again = script_val_true(&v) != s->until;
				const struct stmt *d = st[lp->opener];
				if (rc == 0 && again && d->expr &&
				    (rc = eval_free(&r, d->expr, ea, &v)) == 0)
					again = script_val_true(&v) != d->until;
				if (rc == 0 && again)
					i = lp->start - 1;
				else if (rc == 0)
					n_loops--;
				break;
			}
			case ST_SUB: i = pair[i]; break; /* a definition: runs when called */
			case ST_CALL: {
				if (n_calls == MAX_CALL_DEPTH) {
					rc = script_err(&r, s, ERR_INVALID,
							"CALLs nest more than %d deep",
							MAX_CALL_DEPTH);
					break;
				}
				struct call *c = &calls[n_calls];
				c->n_loops = n_loops;
				c->n_params = 0;
				int sub = -1;
				rc = do_call(&r, st, n, i, s, c, ea, &sub);
				n_calls++;
				if (rc == 0)
					i = sub;
				break;
			}
			case ST_END_SUB:
				if (n_calls == 0) {
					rc = script_err(&r, s, ERR_INVALID,
							"END SUB outside a CALL");
					break;
				}
				n_calls--;
				rc = call_return(&r, &calls[n_calls]);
				i = calls[n_calls].ret;
				break;
			case ST_EXIT: {
				if (s->expr) {
					rc = eval_free(&r, s->expr, ea, &v);
					if (rc || script_val_true(&v) == s->until)
						break;
				}
				bool is_do = strcasecmp(s->name, "DO") == 0;
				if (strcasecmp(s->name, "SCRIPT") == 0) {
					i = n; /* the end */
				} else if (strcasecmp(s->name, "SUB") == 0) {
					if (n_calls == 0) {
						rc = script_err(&r, s, ERR_INVALID,
								"EXIT SUB outside a SUB");
						break;
					}
					n_calls--;
					while (n_loops > calls[n_calls].n_loops)
						loop_free(&loops[--n_loops]);
					rc = call_return(&r, &calls[n_calls]);
					i = calls[n_calls].ret;
				} else {
					int floor_ = n_calls ? calls[n_calls - 1].n_loops : 0, k;
					for (k = n_loops - 1;
					     k >= floor_ && loops[k].is_do != is_do; k--)
						;
					if (k < floor_) {
						rc = script_err(&r, s, ERR_INVALID,
								"EXIT %s outside a %s", s->name,
								is_do ? "DO loop" : "FOR loop");
						break;
					}
					i = pair[loops[k].opener]; /* the LOOP or NEXT: go on after
								      it */
					while (n_loops > k)
						loop_free(&loops[--n_loops]);
				}
				break;
			}
			default:
				rc = script_err(&r, s, ERR_INVALID,
						"this control statement is not supported yet");
			}
			arena_free(ea);
			continue;
		}
		char *text = NULL;
		rc = expand(&r, pc[i].text, pc[i].line, pc[i].col, a, 0, &text);
		if (rc == 0)
			rc = script_parse(text, pc[i].line, pc[i].col, false, a, &s, e);
		if (rc)
			break;
		struct arena *ea = arena_new();
		struct val v;
		switch (s->kind) {
		case ST_EMPTY: break;
		case ST_SET: rc = var_set(&r, s->name, s->raw); break;
		case ST_LET: {
			char nb[64];
			if (!s->expr) {
				rc = var_set(&r, s->name, "");
				break;
			}
			rc = eval_free(&r, s->expr, ea, &v);
			if (rc == 0)
				rc = var_set(&r, s->name,
					     v.null ? "" : data_val_text(&v, nb, sizeof(nb)));
			break;
		}
		case ST_TRACE: script_log(&r, "%s", s->raw); break;
		case ST_LOAD:
			if (s->load.source == SRC_PRECEDING) {
				/* runs with the next LOAD that has a source, on its output */
				if (n_pending == MAX_PRECEDING)
					rc = script_err(&r, s, ERR_INVALID,
							"more than %d preceding loads",
							MAX_PRECEDING);
				else
					pending[n_pending++] = s;
				break;
			}
			if (n_pending == 0) {
				rc = exec_load(&r, s, NULL, NULL);
				break;
			}
			/* the source load, then each preceding load on the one below it; the
			 * outermost goes where its own label and prefixes say */
			struct tbl *tmp = NULL;
			rc = exec_load(&r, s, NULL, &tmp);
			for (int k = n_pending - 1; rc == 0 && k > 0; k--) {
				struct tbl *next = NULL;
				rc = exec_load(&r, pending[k], tmp, &next);
				data_tbl_free(tmp);
				tmp = next;
			}
			if (rc == 0)
				rc = exec_load(&r, pending[0], tmp, NULL);
			data_tbl_free(tmp);
			n_pending = 0;
			break;
		case ST_STORE: rc = script_store(&r, s); break;
		case ST_DROP_TABLES:
		case ST_DROP_FIELDS: rc = script_drop(&r, s); break;
		case ST_RENAME_TABLE:
		case ST_RENAME_FIELD: rc = script_rename(&r, s); break;
		case ST_QUALIFY:
		case ST_UNQUALIFY: rc = add_quals(&r, s); break;
		default: rc = script_err(&r, s, ERR_INVALID, "this statement is not supported yet");
		}
		arena_free(ea);
		if (rc == ERR_NOMEM && !e->code)
			err_set(e, ERR_NOMEM, "out of memory");
	}
	for (int k = 0; k < n_loops; k++)
		loop_free(&loops[k]);
	while (n_calls > 0)
		(void)call_return(&r, &calls[--n_calls]);
	if (rc == 0 && n_loops)
		rc = err_set(e, ERR_INVALID, "the script ends inside a loop");
	if (rc == 0 && n_pending)
		rc = script_err(
		    &r, pending[n_pending - 1], ERR_INVALID,
		    "a preceding LOAD needs a LOAD with FROM, INLINE, RESIDENT or AUTOGENERATE "
		    "after it");
	for (int i = 0; i < r.n_vars; i++) {
		free(r.vars[i].name);
		free(r.vars[i].value);
	}
	free(r.vars);
	for (int i = 0; i < r.n_maps; i++) {
		data_tbl_free(r.maps[i].t);
		free(r.maps[i].name);
		free(r.maps[i].first_row);
	}
	free(r.maps);
	for (int i = 0; i < r.n_quals; i++)
		free(r.quals[i].pattern);
	free(r.quals);
	arena_free(a);
	if (rc) {
		if (!e->code)
			err_set(e, rc, "%s", err_str(rc));
		data_set_free(r.m);
		return e->code;
	}
	*out = r.m;
	return 0;
}
