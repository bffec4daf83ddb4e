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

/* Previous(x): x on the previous input row that WHERE kept. */
static int previous_row(void *ctx, struct eval *ev, struct expr *x, struct val *out)
{
	struct run *r = ctx;
	if (r->prev_row < 0 || !r->src) {
		*out = (struct val){.null = true};
		return 0;
	}
	int64_t row = r->row, recno = ev->recno;
	r->row = r->prev_row;
	ev->recno = r->row + 1;
	int rc = script_eval(ev, x, out);
	r->row = row;
	ev->recno = recno;
	return rc;
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
	int fd = -1;
	char full[4200];
	path = script_path(r, path, full, sizeof(full)); /* DIRECTORY's folder first */
	int rc = r->env->open ? r->env->open(r->env->ctx, path, false, &fd, NULL, 0, r->e)
			      : err_set(r->e, ERR_FORBIDDEN, "no files can be read here");
	if (rc) {
		char msg[sizeof(r->e->message)];
		str_copy(msg, r->e->message, sizeof(msg));
		r->e->code = 0;
		return script_err(r, s, rc, "%s", msg);
	}
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		int err = errno;
		if (fd >= 0)
			close(fd);
		return script_err(r, s, err == ENOENT ? ERR_NOT_FOUND : ERR_IO,
				  "cannot read %s: %s", path, strerror(err));
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > MAX_SOURCE) {
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

int script_read_text(struct run *r, const struct stmt *s, const char *path, struct arena *a,
		     char **out)
{
	struct source src;
	int rc = read_source(r, s, path, &src);
	if (rc)
		return rc;
	if (src.len > MAX_FILE) { /* read whole, into memory */
		source_release(&src);
		return script_err(r, s, ERR_INVALID, "cannot read %s: the file is too large", path);
	}
	*out = arena_strndup(a, src.data, src.len);
	source_release(&src);
	return *out ? 0 : err_set(r->e, ERR_NOMEM, "out of memory");
}

int script_binary(struct run *r, const struct stmt *s)
{
	if (r->m->n_tables)
		return script_err(r, s, ERR_INVALID,
				  "BINARY must come before the script makes any table: its tables "
				  "are where the data model starts");
	struct source src;
	int rc = read_source(r, s, s->raw, &src);
	if (rc)
		return rc;
	struct appfile *f = NULL;
	struct err fe;
	err_init(&fe);
	if (data_appfile_read(src.data, src.len, &f, &fe) != 0)
		rc = script_err(r, s, fe.code, "BINARY %s: %s", s->raw, fe.message);
	int n = 0;
	int64_t rows = 0;
	for (int i = 0; rc == 0 && i < f->n_blocks; i++) {
		bool access = f->blocks[i].kind == APPFILE_ACCESS; /* kept as access tables */
		if (f->blocks[i].kind != APPFILE_TABLE && !access)
			continue;
		struct qvd_table *q = NULL;
		struct tbl *t = NULL;
		if ((rc = data_set_read_block(&f->blocks[i], 0, &q, r->e)) == 0 &&
		    (rc = data_tbl_adopt_qvd(q, &t, r->e)) == 0) {
			rows += t->n_rows;
			if ((rc = script_add_table(r, t)) != 0) {
				data_tbl_free(t);
			} else {
				t->access = access;
				n++;
			}
		}
	}
	data_appfile_free(f);
	source_release(&src);
	if (rc == 0)
		script_log(r, "line %d: BINARY %s: %d tables, %lld rows", s->line, s->raw, n,
			   (long long)rows);
	return rc;
}

/* A QVD's date, time and timestamp fields (NumberFormat Type DATE, TIME or TIMESTAMP) show
 * as Qlik shows them: a value stored as a number alone becomes a dual of it and its text
 * in the field's format code, or else the script's DateFormat, TimeFormat or
 * TimestampFormat. The texts live in `a` until the table has copied them. */
static int qvd_dates(struct run *r, struct qvd_table *q, struct arena *a)
{
	static const char *const kinds[][3] = {
	    {"DATE", "DateFormat", "YYYY-MM-DD"},
	    {"TIMESTAMP", "TimestampFormat", "YYYY-MM-DD hh:mm:ss[.fff]"},
	    {"TIME", "TimeFormat", "hh:mm:ss"}};
	for (int i = 0; i < q->n_fields; i++) {
		struct qvd_field *f = &q->fields[i];
		const char *fmt = NULL;
		for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]) && !fmt; k++) {
			if (strcmp(f->number_type, kinds[k][0]) != 0)
				continue;
			fmt = f->number_fmt[0] ? f->number_fmt : script_var_get(r, kinds[k][1]);
			fmt = fmt && *fmt ? fmt : kinds[k][2];
		}
		for (int64_t k = 0; fmt && k < f->n_symbols; k++) {
			struct qvd_value *v = &f->symbols[k];
			char text[160];
			if ((v->type != QVD_INT && v->type != QVD_DOUBLE) ||
			    data_date_format(v->num, fmt, text, sizeof(text)) != 0)
				continue;
			if (!(v->text = arena_strdup(a, text)))
				return err_set(r->e, ERR_NOMEM, "out of memory");
			v->type = v->type == QVD_INT ? QVD_DUAL_INT : QVD_DUAL_DOUBLE;
		}
	}
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
	struct arena *texts = NULL; /* a QVD's dates as text, until the table has them */
	switch (l->source) {
	case SRC_INLINE:
		rc =
		    data_txt_read(l->inline_data, strlen(l->inline_data), &l->format, &o, &q, r->e);
		break;
	case SRC_FILE:
		rc = read_source(r, s, l->path, &src);
		if (rc == 0 && l->format.xlsx) {
			rc =
			    data_xlsx_read(src.data, src.len, &l->format, o.date_format, out, r->e);
			source_release(&src);
			if (rc == 0) {
				*rows = (*out)->n_rows;
				return 0;
			}
			break;
		}
		if (rc == 0 && l->format.qvd) {
			rc = data_qvd_read(src.data, src.len, &q, r->e);
			if (rc == 0 && !(texts = arena_new()))
				rc = err_set(r->e, ERR_NOMEM, "out of memory");
			if (rc == 0)
				rc = qvd_dates(r, q, texts);
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
		arena_free(texts);
		data_qvd_free(q);
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
	arena_free(texts);
	if (rc == 0)
		*rows = (*out)->n_rows;
	return rc;
}

/* The names of the output fields. */
static int out_names(struct run *r, const struct stmt *s, struct tbl *src, const char ***names,
		     struct expr ***exprs, int **star, int *n)
{
	const struct load *l = &s->load;
	int cap = l->n_items + (src ? src->n_fields : 0) + 1;
	*names = calloc((size_t)cap, sizeof(char *));
	*exprs = calloc((size_t)cap, sizeof(struct expr *));
	*star = calloc((size_t)cap, sizeof(int));
	if (!*names || !*exprs || !*star)
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
				(*star)[k] = f;
				(*exprs)[k++] = NULL; /* field f as it is */
			}
			continue;
		}
		(*star)[k] = -1;
		(*names)[k] = it->as			   ? it->as
			      : it->expr->kind == EX_FIELD ? it->expr->text
							   : it->text;
		(*exprs)[k++] = it->expr;
	}
	for (int i = 0; i < k; i++) /* ALIAS */
		(*names)[i] = script_alias_of(r, (*names)[i]);
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

/* The name a new table of this LOAD gets: its label, else its file's name without the
 * extension, else Table1, Table2, ... */
static void base_name(struct run *r, const struct stmt *s, char *name, size_t n)
{
	const struct load *l = &s->load;
	if (s->label) {
		str_copy(name, s->label, n);
	} else if (l->source == SRC_FILE) {
		const char *b = strrchr(l->path, '/');
		b = b ? b + 1 : l->path;
		str_copy(name, b, n);
		char *dot = strrchr(name, '.');
		if (dot && dot != name)
			*dot = '\0';
	} else {
		snprintf(name, n, "Table%d", ++r->unnamed);
	}
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
			if (t->n_fields != n || t->access != r->access_section)
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
	base_name(r, s, name, sizeof(name));
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

#define MAX_ROUNDS 100000000 /* LOAD ... WHILE: rounds of one input row at most */

/* One LOAD as it runs: where its rows come from, what it makes of them, where they go. */
struct load_job {
	struct run *r;
	const struct stmt *s;
	const struct load *l;
	struct tbl *src, *dst, *seen, *mapping;
	bool owned;   /* src is this job's to free */
	bool created; /* dst is new and not kept yet */
	int64_t rows; /* rows of the source */
	const char **names;
	struct expr **exprs; /* per output field: its expression, NULL for a field as it is */
	int n;
	int *cols, *star_cols; /* per output field: its column in dst, and in src (star) */
	bool *ruled;	  /* per output field: MAP ... USING or NULLASVALUE changes its values */
	struct val *vals; /* a row of dst */
	int64_t n_groups, *group_start, *group_rows, *group_of, *order;
	bool grouped;	       /* GROUP BY, or aggregations over the whole input */
	int64_t limit;	       /* FIRST n: rows to write at most (-1: no limit) */
	int64_t *kept, n_kept; /* grouped with WHERE: the input rows it keeps */
	int64_t written;
	struct eval ev;
};

/* Where the rows go: a table handed back (the input of a preceding load), a new mapping
 * table, or the destination the statement names. */
static int open_destination(struct load_job *j, struct tbl **temp_out)
{
	struct run *r = j->r;
	if (temp_out) {
		j->dst = data_tbl_new("preceding");
		j->created = true;
		return j->dst ? 0 : err_set(r->e, ERR_NOMEM, "out of memory");
	}
	if (j->l->mapping) {
		if (j->n != 2)
			return script_err(r, j->s, ERR_INVALID,
					  "a MAPPING LOAD needs two fields, not %d", j->n);
		j->mapping = data_tbl_new(j->s->label ? j->s->label : "map");
		j->dst = j->mapping;
		j->created = true;
		return j->mapping ? 0 : err_set(r->e, ERR_NOMEM, "out of memory");
	}
	return destination(r, j->s, j->names, j->n, &j->dst, &j->created);
}

/* The destination's column of each output field (a new table's fields that QUALIFY
 * names are called Table.Field), and the source's for fields taken as they are. */
static int map_columns(struct load_job *j, bool qualify)
{
	struct run *r = j->r;
	j->cols = calloc((size_t)(j->n + 1), sizeof(int));
	if (!j->cols)
		return err_set(r->e, ERR_NOMEM, "out of memory");
	for (int i = 0; i < j->n; i++) {
		const char *name = j->names[i];
		if (qualify && qualified(r, name)) {
			char *qn = malloc(strlen(j->dst->name) + strlen(name) + 2);
			if (qn)
				join_name(qn, j->dst->name, name);
			j->cols[i] = qn ? data_tbl_field(j->dst, qn, true) : -1;
			free(qn);
		} else {
			j->cols[i] = data_tbl_field(j->dst, name, true);
		}
		if (j->cols[i] < 0)
			return err_set(r->e, ERR_NOMEM, "out of memory");
		/* a field loaded as it is (*, or by name) keeps its number format: a date stays a
		 * date */
		const struct expr *x = j->exprs[i];
		int from_col = !j->src		     ? -1
			       : !x		     ? j->star_cols[i]
			       : x->kind == EX_FIELD ? data_tbl_field(j->src, x->text, false)
						     : -1;
		struct tbl_field *to = &j->dst->fields[j->cols[i]];
		if (from_col >= 0 && !to->number_type[0]) {
			const struct tbl_field *from = &j->src->fields[from_col];
			str_copy(to->number_type, from->number_type, sizeof(to->number_type));
			str_copy(to->number_fmt, from->number_fmt, sizeof(to->number_fmt));
		}
	}
	if (!(j->vals = calloc((size_t)(j->dst->n_fields + 1), sizeof(*j->vals))))
		return err_set(r->e, ERR_NOMEM, "out of memory");
	if (j->l->distinct) {
		j->seen = data_tbl_new("distinct");
		if (!j->seen || data_tbl_field(j->seen, "k", true) < 0)
			return err_set(r->e, ERR_NOMEM, "out of memory");
	}
	return 0;
}

/* Grouped: the input rows that WHERE keeps (every row without WHERE), in j->kept. */
static int keep_rows(struct load_job *j)
{
	struct run *r = j->r;
	j->kept = malloc(sizeof(int64_t) * (size_t)(j->rows ? j->rows : 1));
	if (!j->kept)
		return err_set(r->e, ERR_NOMEM, "out of memory");
	/* ORDER BY sorts the rows before they are grouped: groups come in the order of their
	 * first row, and each group's rows in order, as Qlik sorts a RESIDENT LOAD's input */
	int rc = j->l->order_by ? script_sort_rows(r, j->s, j->src, j->rows, &j->order) : 0;
	for (int64_t k = 0; rc == 0 && k < j->rows; k++) {
		int64_t i = j->order ? j->order[k] : k;
		bool keep = true;
		if (j->l->where) {
			struct arena *a = arena_new();
			struct val w;
			j->ev.a = a;
			r->row = i;
			j->ev.recno = i + 1;
			rc = script_eval(&j->ev, j->l->where, &w);
			keep = rc == 0 && script_val_true(&w);
			arena_free(a);
		}
		if (keep)
			j->kept[j->n_kept++] = i;
	}
	return rc;
}

/* Each kept row's group: its distinct combination of the GROUP BY fields, numbered in
 * order of first occurrence (a table of keys does the numbering); -1 for the others. */
static int number_groups(struct load_job *j, struct tbl *keys)
{
	struct run *r = j->r;
	const struct load *l = j->l;
	int *gf = calloc((size_t)l->n_group_by, sizeof(int));
	j->group_of = calloc((size_t)(j->rows ? j->rows : 1), sizeof(int64_t));
	int rc = 0;
	if (!gf || !j->group_of || data_tbl_field(keys, "k", true) < 0)
		rc = err_set(r->e, ERR_NOMEM, "out of memory");
	for (int g = 0; rc == 0 && g < l->n_group_by; g++)
		if (!j->src || (gf[g] = data_tbl_field(j->src, l->group_by[g], false)) < 0)
			rc = script_err(r, j->s, ERR_INVALID,
					"GROUP BY names a field not in the source: %s",
					l->group_by[g]);
	struct buf kb;
	buf_init(&kb, 1 << 24);
	for (int64_t i = 0; rc == 0 && i < j->rows; i++)
		j->group_of[i] = -1;
	for (int64_t k = 0; rc == 0 && k < j->n_kept; k++) {
		int64_t i = j->kept[k];
		kb.len = 0;
		for (int g = 0; g < l->n_group_by; g++)
			if (buf_printf(&kb, "%d\x1f", j->src->fields[gf[g]].index[i]))
				rc = err_set(r->e, ERR_NOMEM, "out of memory");
		struct val kv = {.text = kb.data};
		if (rc == 0 && data_tbl_append(keys, &kv, 1))
			rc = err_set(r->e, ERR_NOMEM, "out of memory");
		if (rc == 0)
			j->group_of[i] = keys->fields[0].index[k];
	}
	buf_release(&kb);
	free(gf);
	return rc;
}

/* GROUP BY: the rows of each group, in order of first occurrence (a counting sort; with
 * ORDER BY, in its order). An
 * aggregation without GROUP BY: one group of every kept row (none when there is none). */
static int build_groups(struct load_job *j)
{
	j->grouped = true;
	int rc = keep_rows(j);
	if (rc == 0 && !j->l->group_by) {
		j->group_rows = j->kept;
		j->kept = NULL;
		j->n_groups = j->n_kept ? 1 : 0;
		j->group_start = calloc(2, sizeof(int64_t));
		if (!j->group_start)
			return err_set(j->r->e, ERR_NOMEM, "out of memory");
		j->group_start[1] = j->n_kept;
		j->ev.set_row = set_group_row;
		return 0;
	}
	struct tbl *keys = rc == 0 ? data_tbl_new("groups") : NULL;
	if (rc == 0)
		rc = keys ? number_groups(j, keys) : err_set(j->r->e, ERR_NOMEM, "out of memory");
	j->n_groups = keys ? keys->fields[0].n_sym : 0;
	data_tbl_free(keys);
	j->group_start = calloc((size_t)(j->n_groups + 1), sizeof(int64_t));
	j->group_rows = calloc((size_t)(j->rows ? j->rows : 1), sizeof(int64_t));
	if (rc == 0 && (!j->group_start || !j->group_rows))
		rc = err_set(j->r->e, ERR_NOMEM, "out of memory");
	for (int64_t i = 0; rc == 0 && i < j->rows; i++)
		if (j->group_of[i] >= 0)
			j->group_start[j->group_of[i] + 1]++;
	for (int64_t g = 0; rc == 0 && g < j->n_groups; g++)
		j->group_start[g + 1] += j->group_start[g];
	int64_t *fill = rc == 0 ? calloc((size_t)(j->n_groups + 1), sizeof(int64_t)) : NULL;
	for (int64_t k = 0; fill && k < j->n_kept; k++) {
		int64_t i = j->kept[k]; /* in ORDER BY's order, when there is one */
		if (j->group_of[i] >= 0)
			j->group_rows[j->group_start[j->group_of[i]] + fill[j->group_of[i]]++] = i;
	}
	free(fill);
	j->ev.set_row = set_group_row;
	return rc;
}

/* A LOAD of every field of a file, as it is, into a new table: the file's table becomes
 * the new one, with no copy row by row. Returns whether it did. */
static bool try_adopt(struct load_job *j, bool plain, int *rc)
{
	struct run *r = j->r;
	const struct load *l = j->l;
	bool adopt = plain && j->owned && j->created && !j->mapping && l->join == JOIN_NONE &&
		     !l->where && !l->while_ && !l->first && !l->distinct && !l->group_by &&
		     !l->order_by && j->src && j->n == j->src->n_fields &&
		     j->dst->n_fields == j->n &&
		     !(r->env->max_rows && j->src->n_rows > r->env->max_rows);
	for (int k = 0; adopt && k < j->n; k++)
		adopt = !j->exprs[k] && !j->ruled[k] && j->star_cols[k] == k && j->cols[k] == k;
	for (int k = 0; adopt && k < j->n; k++) {
		char *nm = strdup(j->dst->fields[k].name); /* it may be qualified */
		if (!nm) {
			*rc = err_set(r->e, ERR_NOMEM, "out of memory");
			return false;
		}
		free(j->src->fields[k].name);
		j->src->fields[k].name = nm;
	}
	if (!adopt)
		return false;
	char *nm = strdup(j->dst->name);
	if (!nm) {
		*rc = err_set(r->e, ERR_NOMEM, "out of memory");
		return false;
	}
	free(j->src->name);
	j->src->name = nm;
	data_tbl_free(j->dst);
	j->dst = j->src;
	j->owned = false;
	j->n_groups = 0; /* nothing to copy */
	j->written = j->dst->n_rows;
	return true;
}

/* The output row of the current source row (or group) into j->vals. */
static int row_values(struct load_job *j, struct arena *a)
{
	for (int f = 0; f < j->dst->n_fields; f++)
		j->vals[f] = (struct val){.null = true};
	for (int k = 0; k < j->n; k++) {
		struct val v;
		if (j->exprs[k]) {
			int rc = script_eval(&j->ev, j->exprs[k], &v);
			if (rc)
				return rc;
		} else {
			data_tbl_get(j->src, j->star_cols[k], j->r->row, &v);
		}
		own_texts(a, &v);
		if (j->ruled[k]) {
			int rc = script_field_value(j->r, j->names[k], &v, a);
			if (rc)
				return rc;
		}
		j->vals[j->cols[k]] = v;
	}
	return 0;
}

/* DISTINCT: whether the row in j->vals was seen before (it is remembered now). */
static int seen_before(struct load_job *j, bool *out)
{
	struct buf kb;
	buf_init(&kb, 64u << 20);
	int rc = 0;
	for (int k = 0; k < j->n; k++) {
		char nb[64];
		const struct val *v = &j->vals[j->cols[k]];
		if (buf_printf(&kb, "%c%s\x1f",
			       v->null	    ? 'n'
			       : v->has_num ? '#'
					    : 's',
			       v->null	    ? ""
			       : v->has_num ? (snprintf(nb, sizeof(nb), "%.17g", v->num), nb)
					    : v->text))
			rc = err_set(j->r->e, ERR_NOMEM, "out of memory");
	}
	int64_t before = j->seen->fields[0].n_sym;
	struct val kv = {.text = kb.data ? kb.data : ""};
	if (rc == 0 && data_tbl_append(j->seen, &kv, 1))
		rc = err_set(j->r->e, ERR_NOMEM, "out of memory");
	buf_release(&kb);
	*out = rc == 0 && j->seen->fields[0].n_sym == before;
	return rc;
}

/* Makes source row (or group) i current; false when WHERE leaves it out. */
static int select_row(struct load_job *j, int64_t i, bool *keep)
{
	struct run *r = j->r;
	*keep = true;
	if (j->grouped) {
		r->group = j->group_rows + j->group_start[i];
		j->ev.n_group = j->group_start[i + 1] - j->group_start[i];
		r->row = r->group[0];
	} else {
		r->row = j->order ? j->order[i] : i;
	}
	j->ev.recno = r->row + 1;
	j->ev.rowno = j->dst->n_rows + 1;
	if (!j->l->where || j->grouped)
		return 0;
	struct val w;
	int rc = script_eval(&j->ev, j->l->where, &w);
	*keep = rc == 0 && script_val_true(&w);
	return rc;
}

/* Appends the output row in j->vals (a DISTINCT load leaves out one seen before). */
static int emit(struct load_job *j, struct arena *a)
{
	struct run *r = j->r;
	bool dup = false;
	int rc = row_values(j, a);
	if (rc == 0 && j->seen)
		rc = seen_before(j, &dup);
	if (rc || dup)
		return rc;
	if (r->env->max_rows && j->dst->n_rows >= r->env->max_rows)
		return script_err(r, j->s, ERR_TOO_LARGE, "table %s would pass %lld rows",
				  j->dst->name, (long long)r->env->max_rows);
	if (data_tbl_append(j->dst, j->vals, j->dst->n_fields))
		return err_set(r->e, ERR_NOMEM, "out of memory");
	j->written++;
	return 0;
}

/* The next combination of the two-argument SubField parts (an odometer, the last call
 * turning fastest); false after the last. */
static bool next_parts(struct eval *ev)
{
	for (int i = ev->n_split - 1; i >= 0; i--) {
		if (++ev->split[i].at < ev->split[i].count)
			return true;
		ev->split[i].at = 0;
	}
	return false;
}

/* The output of the current row: one row, or one per combination of the parts of its
 * two-argument SubField calls. */
static int emit_parts(struct load_job *j, struct arena *a)
{
	j->ev.may_split = !j->grouped;
	j->ev.n_split = 0;
	int rc;
	do {
		j->ev.rowno = j->dst->n_rows + 1;
		rc = emit(j, a);
	} while (rc == 0 && (j->limit < 0 || j->written < j->limit) && next_parts(&j->ev));
	j->ev.may_split = false;
	return rc;
}

/* One input row (or group): its output, once, or with WHILE as long as the condition holds
 * (IterNo() counts the rounds from 1). */
static int rounds(struct load_job *j, struct arena *a)
{
	int rc = 0;
	for (int64_t it = 1; rc == 0; it++) {
		j->ev.iterno = it;
		j->ev.rowno = j->dst->n_rows + 1;
		if (j->l->while_) {
			struct val w;
			j->ev.may_split = false;
			rc = script_eval(&j->ev, j->l->while_, &w);
			if (rc || !script_val_true(&w))
				break;
		}
		rc = emit_parts(j, a);
		if (!j->l->while_ || (j->limit >= 0 && j->written >= j->limit))
			break;
		if (it >= MAX_ROUNDS)
			rc = script_err(j->r, j->s, ERR_TOO_LARGE,
					"WHILE went on for %d rounds of one row", MAX_ROUNDS);
	}
	j->ev.iterno = 0;
	return rc;
}

/* FIRST n: the number, once. */
static int first_rows(struct load_job *j)
{
	struct arena *a = arena_new();
	struct val v;
	double n = 0;
	int rc = script_eval_free(j->r, j->l->first, a, &v);
	if (rc == 0 && (!script_val_number(&v, &n) || n < 0))
		rc =
		    script_err(j->r, j->s, ERR_INVALID, "FIRST needs a number of rows (0 or more)");
	arena_free(a);
	j->limit = n > 9e18 ? INT64_MAX : (int64_t)n;
	return rc;
}

/* Every row (or group) of the source into the destination. */
static int copy_rows(struct load_job *j)
{
	struct run *r = j->r;
	int rc = 0;
	if (j->l->order_by && !j->grouped)
		rc = script_sort_rows(r, j->s, j->src, j->rows, &j->order);
	r->prev_row = -1;
	for (int64_t i = 0; rc == 0 && i < j->n_groups && (j->limit < 0 || j->written < j->limit);
	     i++) {
		struct arena *a = arena_new();
		j->ev.a = a;
		bool keep;
		rc = select_row(j, i, &keep);
		if (rc == 0 && keep)
			rc = rounds(j, a);
		if (keep)
			r->prev_row = r->row;
		arena_free(a);
	}
	return rc;
}

/* A mapping table is kept by name, with the first row of each key. */
static int keep_mapping(struct load_job *j)
{
	struct run *r = j->r;
	struct mapping *nm = realloc(r->maps, sizeof(*nm) * (size_t)(r->n_maps + 1));
	if (!nm)
		return err_set(r->e, ERR_NOMEM, "out of memory");
	r->maps = nm;
	struct mapping *mp = &r->maps[r->n_maps];
	struct tbl *m = j->mapping;
	mp->name = strdup(m->name);
	mp->t = m;
	mp->first_row = calloc((size_t)(m->fields[0].n_sym + 1), sizeof(int64_t));
	if (!mp->name || !mp->first_row) {
		free(mp->name);
		free(mp->first_row);
		return err_set(r->e, ERR_NOMEM, "out of memory");
	}
	for (int64_t s2 = 0; s2 < m->fields[0].n_sym; s2++)
		mp->first_row[s2] = -1;
	for (int64_t row = 0; row < m->n_rows; row++) {
		int32_t sy = m->fields[0].index[row];
		if (sy >= 0 && mp->first_row[sy] < 0)
			mp->first_row[sy] = row;
	}
	r->n_maps++;
	j->mapping = NULL;
	j->created = false; /* dst is the mapping, kept now */
	script_log(r, "mapping table %s: %lld rows", mp->name, (long long)j->written);
	return 0;
}

/* Where the rows went: a mapping table, the table handed back, a JOIN or KEEP with its
 * target, or a table of the data set. */
static int place(struct load_job *j, struct tbl **temp_out)
{
	struct run *r = j->r;
	if (j->mapping)
		return keep_mapping(j);
	if (temp_out) {
		*temp_out = j->dst;
		j->created = false;
		return 0;
	}
	if (j->l->join != JOIN_NONE) {
		j->created = false; /* combine takes dst */
		return script_combine(r, j->s, j->dst);
	}
	if (j->created && script_add_table(r, j->dst) != 0)
		return err_set(r->e, ERR_NOMEM, "out of memory");
	j->created = false;
	r->last = j->dst;
	script_log(r, "%s << %lld rows, %d fields (%lld rows now)", j->dst->name,
		   (long long)j->written, j->n, (long long)j->dst->n_rows);
	return 0;
}

static void load_job_release(struct load_job *j)
{
	if (j->created && j->dst && j->dst != j->mapping)
		data_tbl_free(j->dst);
	data_tbl_free(j->mapping);
	data_tbl_free(j->seen);
	if (j->owned)
		data_tbl_free(j->src);
	free(j->names);
	free(j->exprs);
	free(j->cols);
	free(j->star_cols);
	free(j->ruled);
	free(j->vals);
	free(j->group_rows);
	free(j->group_of);
	free(j->group_start);
	free(j->order);
	free(j->kept);
}

/* CROSSTABLE's turn: each row of `wide` becomes one row per field after the first `keep`:
 * the kept fields, the field's name (attribute) and its value (data). */
static int unpivot(struct run *r, const struct stmt *s, struct tbl *wide, struct tbl **out)
{
	const struct load *l = &s->load;
	int keep = l->cross_keep < wide->n_fields ? l->cross_keep : wide->n_fields;
	struct tbl *tall = data_tbl_new("crosstable");
	int rc = tall ? 0 : ERR_NOMEM;
	for (int f = 0; rc == 0 && f < keep; f++)
		rc = data_tbl_field(tall, wide->fields[f].name, true) < 0 ? ERR_NOMEM : 0;
	int fa = rc == 0 ? data_tbl_field(tall, l->cross_attr, true) : -1;
	int fd = fa >= 0 ? data_tbl_field(tall, l->cross_data, true) : -1;
	if (rc == 0 && (fa < 0 || fd < 0 || fa != keep || fd != keep + 1)) {
		data_tbl_free(tall);
		return script_err(r, s, ERR_INVALID,
				  "CROSSTABLE's fields %s and %s must be new names, not among the "
				  "fields kept",
				  l->cross_attr, l->cross_data);
	}
	struct val *vals = rc == 0 ? calloc((size_t)keep + 3, sizeof(*vals)) : NULL;
	rc = rc == 0 && !vals ? ERR_NOMEM : rc;
	for (int64_t row = 0; rc == 0 && row < wide->n_rows; row++)
		for (int f = keep; rc == 0 && f < wide->n_fields; f++) {
			for (int k = 0; k < keep; k++)
				data_tbl_get(wide, k, row, &vals[k]);
			vals[keep] = (struct val){.text = wide->fields[f].name};
			data_tbl_get(wide, f, row, &vals[keep + 1]);
			rc = data_tbl_append(tall, vals, keep + 2) ? ERR_NOMEM : 0;
		}
	free(vals);
	if (rc) {
		data_tbl_free(tall);
		return err_set(r->e, ERR_NOMEM, "out of memory");
	}
	*out = tall;
	return 0;
}

/* INTERVALMATCH's pairing: for each value of the matched field loaded so far (with its
 * keys, in the tables that hold the field and every key), each interval of `iv` (its first
 * two fields the bounds, inclusive; then its keys, which must be equal) that holds it:
 * one row of the value, then the interval's fields. Values and bounds compare as numbers;
 * a NULL or text bound holds nothing. */
static int interval_pairs(struct run *r, const struct stmt *s, struct tbl *iv, struct tbl **out)
{
	const struct load *l = &s->load;
	int nk = l->n_im - 1, ivk[16];
	if (iv->n_fields < 2)
		return script_err(r, s, ERR_INVALID, "INTERVALMATCH needs a LOAD of two bounds");
	for (int k = 0; k < nk; k++)
		if ((ivk[k] = data_tbl_field(iv, l->im[k + 1], false)) < 0)
			return script_err(r, s, ERR_INVALID,
					  "INTERVALMATCH's key %s is not among the LOAD's fields",
					  l->im[k + 1]);
	struct tbl *pairs = data_tbl_new("intervalmatch"), *seen = data_tbl_new("seen");
	int rc = pairs && seen && data_tbl_field(seen, "k", true) == 0 &&
			 data_tbl_field(pairs, l->im[0], true) == 0
		     ? 0
		     : ERR_NOMEM;
	for (int f = 0; rc == 0 && f < iv->n_fields; f++)
		if (data_tbl_field(pairs, iv->fields[f].name, true) < 0)
			rc = ERR_NOMEM;
	struct val *row = rc == 0 ? calloc((size_t)iv->n_fields + 2, sizeof(*row)) : NULL;
	rc = rc == 0 && !row ? ERR_NOMEM : rc;
	for (int t = 0; rc == 0 && t < r->m->n_tables; t++) {
		struct tbl *src = r->m->tables[t];
		int fv = data_tbl_field(src, l->im[0], false), fk[16];
		bool all = fv >= 0;
		for (int k = 0; all && k < nk; k++)
			all = (fk[k] = data_tbl_field(src, l->im[k + 1], false)) >= 0;
		for (int64_t i = 0; all && rc == 0 && i < src->n_rows; i++) {
			/* each combination of value and keys once, over every table */
			char combo[1024], nb[64];
			struct val cv = {.text = combo}, v, a, b, y;
			data_tbl_get(src, fv, i, &v);
			int at =
			    snprintf(combo, sizeof(combo), "%s", data_val_text(&v, nb, sizeof(nb)));
			for (int k = 0; k < nk && at < (int)sizeof(combo); k++) {
				data_tbl_get(src, fk[k], i, &y);
				at += snprintf(combo + at, sizeof(combo) - (size_t)at, "\x1f%s",
					       y.null ? "" : data_val_text(&y, nb, sizeof(nb)));
			}
			if (data_tbl_lookup(seen, 0, &cv) >= 0)
				continue;
			if (data_tbl_append(seen, &cv, 1)) {
				rc = ERR_NOMEM;
				break;
			}
			data_tbl_get(src, fv, i, &v);
			double n;
			if (v.null || !script_val_number(&v, &n))
				continue;
			for (int64_t j = 0; rc == 0 && j < iv->n_rows; j++) {
				double lo, hi;
				data_tbl_get(iv, 0, j, &a);
				data_tbl_get(iv, 1, j, &b);
				bool in = !a.null && !b.null && script_val_number(&a, &lo) &&
					  script_val_number(&b, &hi) && lo <= n && n <= hi;
				for (int k = 0; in && k < nk; k++) { /* the same symbol */
					data_tbl_get(iv, ivk[k], j, &y);
					int32_t sx = src->fields[fk[k]].index[i];
					in = sx >= 0 && !y.null &&
					     data_tbl_lookup(src, fk[k], &y) == sx;
				}
				if (!in)
					continue;
				data_tbl_get(src, fv, i, &row[0]);
				for (int f = 0; f < iv->n_fields; f++)
					data_tbl_get(iv, f, j, &row[f + 1]);
				rc = data_tbl_append(pairs, row, iv->n_fields + 1) ? ERR_NOMEM : 0;
			}
		}
	}
	free(row);
	data_tbl_free(seen);
	if (rc) {
		data_tbl_free(pairs);
		return err_set(r->e, ERR_NOMEM, "out of memory");
	}
	*out = pairs;
	return 0;
}

/* Each row's parent row (the first row of the node its ParentID names), or -1 for a root
 * (a parent that is no node makes its child a root): up[], malloc'd; NULL when out of
 * memory. */
static int64_t *parent_rows(struct tbl *in, int fid, int fpar)
{
	int64_t n = in->n_rows, *up = calloc((size_t)n + 1, sizeof(int64_t)),
		*first = calloc((size_t)in->fields[fid].n_sym + 1, sizeof(int64_t));
	if (!up || !first) {
		free(up);
		free(first);
		return NULL;
	}
	for (int64_t i = 0; i < in->fields[fid].n_sym; i++)
		first[i] = -1;
	for (int64_t i = 0; i < n; i++) { /* a node is known by its first row */
		int32_t sym = in->fields[fid].index[i];
		if (sym >= 0 && first[sym] < 0)
			first[sym] = i;
	}
	for (int64_t i = 0; i < n; i++) {
		struct val pv;
		data_tbl_get(in, fpar, i, &pv);
		int64_t ps = pv.null ? -1 : data_tbl_lookup(in, fid, &pv);
		up[i] = ps >= 0 ? first[ps] : -1;
	}
	free(first);
	return up;
}

/* HIERARCHYBELONGSTO's expansion: for each node, a row per node on its way up to its root,
 * itself first: NodeID, AncestorID, NodeName, AncestorName and (when named) DepthDiff, the
 * steps between them (0 for the node itself). A loop stops where it closes. */
static int expand_belongs(struct run *r, const struct stmt *s, struct tbl *in, struct tbl **out)
{
	const char *const *h = s->load.hier;
	int fid = data_tbl_field(in, h[0], false), fpar = data_tbl_field(in, h[1], false),
	    fname = data_tbl_field(in, h[2], false);
	if (fid < 0 || fpar < 0 || fname < 0)
		return script_err(r, s, ERR_INVALID,
				  "HIERARCHYBELONGSTO names a field the LOAD does not have");
	int64_t *up = parent_rows(in, fid, fpar);
	struct tbl *t = data_tbl_new("belongs");
	const char *names[5] = {h[0], h[3], h[2], h[4], h[5]};
	int nf = h[5] ? 5 : 4, rc = up && t ? 0 : ERR_NOMEM;
	for (int f = 0; rc == 0 && f < nf; f++)
		if (data_tbl_field(t, names[f], false) >= 0)
			rc = script_err(r, s, ERR_INVALID, "HIERARCHYBELONGSTO names %s twice",
					names[f]);
		else if (data_tbl_field(t, names[f], true) < 0)
			rc = ERR_NOMEM;
	for (int64_t i = 0; rc == 0 && i < in->n_rows; i++) {
		int64_t d = 0;
		for (int64_t k = i; rc == 0 && k >= 0 && d < in->n_rows; k = up[k], d++) {
			struct val row[5];
			data_tbl_get(in, fid, i, &row[0]);
			data_tbl_get(in, fid, k, &row[1]);
			data_tbl_get(in, fname, i, &row[2]);
			data_tbl_get(in, fname, k, &row[3]);
			row[4] = (struct val){.has_num = true, .num = (double)d};
			rc = data_tbl_append(t, row, nf) ? ERR_NOMEM : 0;
		}
	}
	free(up);
	if (rc) {
		data_tbl_free(t);
		return rc == ERR_NOMEM ? err_set(r->e, ERR_NOMEM, "out of memory") : rc;
	}
	*out = t;
	return 0;
}

/* HIERARCHY's expansion: each node's row with its parent's name (ParentName), its path of
 * names from the root down (one field per level, NodeName1, NodeName2, ...; and PathName,
 * the PathSource values joined by PathDelimiter, "/" by default) and its Depth (the root
 * is 1). A parent that is no node makes its child a root; a loop stops where it closes. */
static int expand_hierarchy(struct run *r, const struct stmt *s, struct tbl *in, struct tbl **out)
{
	const char *const *h = s->load.hier;
	int fid = data_tbl_field(in, h[0], false), fpar = data_tbl_field(in, h[1], false),
	    fname = data_tbl_field(in, h[2], false),
	    fsrc = h[4] ? data_tbl_field(in, h[4], false) : fname;
	if (fid < 0 || fpar < 0 || fname < 0 || fsrc < 0)
		return script_err(r, s, ERR_INVALID,
				  "HIERARCHY names a field the LOAD does not have");
	int64_t n = in->n_rows, *up = parent_rows(in, fid, fpar);
	int64_t *chain = calloc((size_t)n + 1, sizeof(int64_t)), deepest = 0;
	struct tbl *t = data_tbl_new("hierarchy");
	int rc = up && chain && t ? 0 : ERR_NOMEM;
	/* the fields: the LOAD's, ParentName, the levels, PathName, Depth */
	for (int f = 0; rc == 0 && f < in->n_fields; f++)
		rc = data_tbl_field(t, in->fields[f].name, true) < 0 ? ERR_NOMEM : 0;
	for (int64_t i = 0; rc == 0 && i < n; i++) {
		int64_t d = 0;
		for (int64_t k = i; k >= 0 && d < n; k = up[k])
			d++;
		deepest = d > deepest ? d : deepest;
	}
	int fpn = rc == 0 && h[3] ? data_tbl_field(t, h[3], true) : -1, flev = t ? t->n_fields : 0;
	for (int64_t d = 1; rc == 0 && d <= deepest; d++) {
		char lev[300];
		snprintf(lev, sizeof(lev), "%s%lld", h[2], (long long)d);
		rc = data_tbl_field(t, lev, true) < 0 ? ERR_NOMEM : 0;
	}
	int fpath = rc == 0 && h[5] ? data_tbl_field(t, h[5], true) : -1;
	int fdep = rc == 0 && h[7] ? data_tbl_field(t, h[7], true) : -1;
	struct val *row = rc == 0 ? calloc((size_t)t->n_fields + 1, sizeof(*row)) : NULL;
	struct buf path;
	buf_init(&path, 1 << 20);
	rc = rc == 0 && !row ? ERR_NOMEM : rc;
	for (int64_t i = 0; rc == 0 && i < n; i++) {
		int64_t d = 0;
		for (int64_t k = i; k >= 0 && d < n; k = up[k])
			chain[d++] = k; /* from the node up to its root */
		for (int f = 0; f < t->n_fields; f++)
			row[f] = (struct val){.null = true};
		for (int f = 0; f < in->n_fields; f++)
			data_tbl_get(in, f, i, &row[f]);
		if (fpn >= 0 && up[i] >= 0)
			data_tbl_get(in, fname, up[i], &row[fpn]);
		path.len = 0;
		for (int64_t l = 0; l < d; l++) {
			struct val pv;
			char nb[64];
			data_tbl_get(in, fname, chain[d - 1 - l], &row[flev + l]);
			data_tbl_get(in, fsrc, chain[d - 1 - l], &pv);
			if ((l && buf_puts(&path, h[6] ? h[6] : "/")) ||
			    buf_puts(&path, pv.null ? "" : data_val_text(&pv, nb, sizeof(nb))))
				rc = ERR_NOMEM;
		}
		if (fpath >= 0 && rc == 0 && buf_puts(&path, "") == 0)
			row[fpath] = (struct val){.text = path.data};
		if (fdep >= 0)
			row[fdep] = (struct val){.has_num = true, .num = (double)d};
		rc = rc ? rc : data_tbl_append(t, row, t->n_fields) ? ERR_NOMEM : 0;
	}
	buf_release(&path);
	free(row);
	free(up);
	free(chain);
	if (rc) {
		data_tbl_free(t);
		return err_set(r->e, ERR_NOMEM, "out of memory");
	}
	*out = t;
	return 0;
}

/* A new table `name` of `t`'s rows as they are (NOCONCATENATE LOAD * from t). */
static int load_as_is(struct run *r, const struct stmt *s, const char *name, struct tbl *t)
{
	struct stmt one = *s;
	struct load *l = &one.load;
	struct load_item star = {0};
	one.label = name;
	*l = (struct load){
	    .noconcatenate = true, .items = &star, .n_items = 1, .source = SRC_PRECEDING};
	return script_load(r, &one, t, NULL);
}

/* GENERIC's tables: for each attribute (the LOAD's second-last field), a table named
 * base.attribute of the other fields and the value (the last one) as a field named by the
 * attribute, from the rows of that attribute. */
static int generic_tables(struct run *r, const struct stmt *s, struct tbl *tall)
{
	int fa = tall->n_fields - 2, fv = tall->n_fields - 1, rc = 0;
	if (fa < 0)
		return script_err(r, s, ERR_INVALID,
				  "GENERIC needs a LOAD of an attribute and a value (and keys)");
	char base[512];
	base_name(r, s, base, sizeof(base));
	struct val *row = calloc((size_t)fa + 2, sizeof(*row));
	for (int64_t a = 0; rc == 0 && a < tall->fields[fa].n_sym; a++) {
		struct val av;
		char nb[64], attr[256], name[800];
		data_tbl_symbol(tall, fa, a, &av);
		str_copy(attr, data_val_text(&av, nb, sizeof(nb)), sizeof(attr));
		snprintf(name, sizeof(name), "%s.%s", base, attr);
		struct tbl *w = row ? data_tbl_new(name) : NULL;
		for (int f = 0; w && f < fa; f++)
			data_tbl_field(w, tall->fields[f].name, true);
		if (!w || data_tbl_field(w, attr, true) != fa) {
			data_tbl_free(w);
			rc = row && w
				 ? script_err(r, s, ERR_INVALID,
					      "GENERIC's attribute %s is also a key field", attr)
				 : err_set(r->e, ERR_NOMEM, "out of memory");
			break;
		}
		for (int64_t i = 0; rc == 0 && i < tall->n_rows; i++) {
			if (tall->fields[fa].index[i] != a)
				continue;
			for (int f = 0; f < fa; f++)
				data_tbl_get(tall, f, i, &row[f]);
			data_tbl_get(tall, fv, i, &row[fa]);
			rc = data_tbl_append(w, row, fa + 1)
				 ? err_set(r->e, ERR_NOMEM, "out of memory")
				 : 0;
		}
		if (rc == 0)
			rc = load_as_is(r, s, name, w);
		data_tbl_free(w);
	}
	free(row);
	return rc;
}

/* A LOAD with CROSSTABLE, INTERVALMATCH, HIERARCHY or GENERIC: the LOAD as written into a
 * table of its own, turned (unpivot, interval_pairs, expand_hierarchy, generic_tables), and
 * then loaded as it is into the destination (with the statement's MAPPING, CONCATENATE,
 * JOIN or KEEP). */
static int two_step_load(struct run *r, const struct stmt *s, struct tbl *given,
			 struct tbl **temp_out)
{
	struct stmt first = *s;
	struct load *l1 = &first.load;
	l1->cross_attr = NULL;
	l1->im = NULL;
	l1->hier[0] = NULL;
	l1->belongs = false;
	l1->mapping = l1->concatenate = l1->noconcatenate = l1->keep = false;
	l1->join = JOIN_NONE;
	l1->target = NULL;
	struct tbl *wide = NULL, *tall = NULL;
	l1->generic = false;
	int rc = script_load(r, &first, given, &wide);
	if (rc == 0 && s->load.generic) {
		rc = generic_tables(r, s, wide);
		data_tbl_free(wide);
		return rc;
	}
	if (rc == 0)
		rc = s->load.im	       ? interval_pairs(r, s, wide, &tall)
		     : s->load.belongs ? expand_belongs(r, s, wide, &tall)
		     : s->load.hier[0] ? expand_hierarchy(r, s, wide, &tall)
				       : unpivot(r, s, wide, &tall);
	data_tbl_free(wide);
	if (rc)
		return rc;
	struct stmt second = *s;
	struct load *l2 = &second.load;
	struct load_item star = {0};
	l2->cross_attr = NULL;
	l2->im = NULL;
	l2->hier[0] = NULL;
	l2->belongs = false;
	l2->items = &star;
	l2->n_items = 1;
	l2->where = l2->while_ = l2->first = NULL;
	l2->group_by = l2->order_by = NULL;
	l2->n_group_by = l2->n_order_by = 0;
	l2->distinct = false;
	rc = script_load(r, &second, tall, temp_out);
	data_tbl_free(tall);
	return rc;
}

/* Runs a LOAD. `given`: its source is this table (a preceding load's input) instead of
 * what the statement names. `temp_out`: the rows go to a new table handed back there,
 * outside the data set (the input of a preceding load), instead of their destination. */
int script_load(struct run *r, const struct stmt *s, struct tbl *given, struct tbl **temp_out)
{
	const struct load *l = &s->load;
	if (l->partial_only && !temp_out) {
		script_log(r, "line %d: ADD ONLY or REPLACE ONLY: not in a full reload", s->line);
		return 0;
	}
	if (l->cross_attr || l->im || l->hier[0] || (l->generic && !temp_out))
		return two_step_load(r, s, given, temp_out);
	struct load_job j = {.r = r, .s = s, .l = l};
	int rc = 0;
	if (given) {
		j.src = given;
		j.rows = given->n_rows;
	} else {
		rc = load_source(r, s, &j.src, &j.owned, &j.rows);
	}
	if (rc)
		return rc;
	rc = out_names(r, s, j.src, &j.names, &j.exprs, &j.star_cols, &j.n);
	if (rc == 0 && !(j.ruled = calloc((size_t)j.n + 1, sizeof(bool))))
		rc = err_set(r->e, ERR_NOMEM, "out of memory");
	for (int k = 0; rc == 0 && k < j.n; k++)
		j.ruled[k] = script_field_has_rules(r, j.names[k]);
	if (rc == 0)
		rc = open_destination(&j, temp_out);
	bool plain = !temp_out && !l->mapping && l->join == JOIN_NONE;
	if (rc == 0)
		rc = map_columns(&j, j.created && plain);
	j.ev = (struct eval){.e = r->e,
			     .ctx = r,
			     .field = src_field,
			     .mapping = script_apply_map,
			     .mapping_table = script_map_table,
			     .variable = script_variable,
			     .date_format = script_var_get(r, "DateFormat"),
			     .file = l->source == SRC_FILE ? l->path : NULL,
			     .env = r->env,
			     .reload_time = r->started,
			     .connection = r->connection,
			     .table_at = script_table_at,
			     .table_named = script_table_named,
			     .previous = previous_row,
			     .autonumber = script_autonumber};
	r->src = j.src;
	r->out = j.dst;
	j.n_groups = j.rows;
	j.limit = -1;
	if (rc == 0 && l->first)
		rc = first_rows(&j);
	bool aggregates = false;
	for (int k = 0; k < j.n && !aggregates; k++)
		aggregates = script_expr_aggregates(j.exprs[k]);
	if (rc == 0 && (l->group_by || aggregates))
		rc = build_groups(&j);
	if (rc == 0 && !try_adopt(&j, plain, &rc) && rc == 0)
		rc = copy_rows(&j);
	r->src = NULL;
	r->out = NULL;
	if (rc == 0)
		rc = place(&j, temp_out);
	load_job_release(&j);
	return rc;
}

/* ---------------------------------------------------------------- the program */
