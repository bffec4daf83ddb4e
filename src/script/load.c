/* load.c: LOAD in a running reload: its source (a file, INLINE data, a resident table,
 * AUTOGENERATE or a preceding load's rows), its expressions, WHERE, DISTINCT, GROUP BY and
 * ORDER BY, and where the rows go (a new table, concatenation, a mapping table, or a JOIN
 * or KEEP through join.c); and QUALIFY. */
#include "script/script_int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

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
	struct txt_options o = {.date_format = script_var_get(r, "DateFormat")};
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
		rc = script_eval_free(r, l->count, a, &v);
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

int script_qualify(struct run *r, const struct stmt *s)
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
int script_load(struct run *r, const struct stmt *s, struct tbl *given, struct tbl **temp_out)
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
			  .mapping = script_apply_map,
			  .variable = script_variable,
			  .date_format = script_var_get(r, "DateFormat")};
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
