/* set.c: a data set, the tables of one data model: finding a table, freeing them, and
 * writing them with the app's properties and script as an app file. */
#include "data/data.h"

#include <stdlib.h>
#include <string.h>

struct tbl *data_set_table(const struct data_set *m, const char *name)
{
	for (int i = 0; i < m->n_tables; i++)
		if (strcmp(m->tables[i]->name, name) == 0)
			return m->tables[i];
	return NULL;
}

int data_set_read_block(const struct appfile_block *b, unsigned opts, struct qvd_table **out,
			struct err *e)
{
	if (data_coltab_is(b->data, b->len))
		return data_coltab_read(b->data, b->len, opts, out, e);
	return data_qvd_read_opts(b->data, b->len, opts, out, e);
}

void data_set_free(struct data_set *m)
{
	if (!m)
		return;
	data_map_unref(m->map);
	for (int i = 0; i < m->n_tables; i++)
		data_tbl_free(m->tables[i]);
	free(m->tables);
	for (int i = 0; i < m->n_vars; i++) {
		free(m->var_names[i]);
		free(m->var_values[i]);
	}
	free(m->var_names);
	free(m->var_values);
	free(m);
}

/* The rows from which a table of the model is stored in column layout (format version 4,
 * which a node of an earlier release cannot open: a small app reloaded during a rolling
 * upgrade stays readable by the nodes not yet upgraded, and a small table gains nothing
 * from being mapped). FATHOM_COLUMN_TABLES_MIN_ROWS sets it (make check: 0, so that every
 * test writes and opens column tables). */
static int64_t column_tables_min_rows(void)
{
	const char *v = getenv("FATHOM_COLUMN_TABLES_MIN_ROWS");
	int64_t n = 0;
	return v && str_to_i64(v, 0, INT64_MAX, &n) == 0 ? n : DATA_COLUMN_TABLES_MIN_ROWS;
}

/* A table written in column layout straight into the app file when its turn comes
 * (appfile_block.fill), and freed then with `freeing`. */
struct table_fill {
	struct data_set *m;
	int t;
	bool freeing;
};

static int fill_table(void *ctx, struct data_out *out, struct err *e)
{
	struct table_fill *f = ctx;
	struct qvd_table v;
	int rc = data_tbl_view(f->m->tables[f->t], TBL_VIEW_DENSE, &v, e);
	if (rc == 0)
		rc = data_coltab_write_out(&v, out, e);
	data_tbl_view_free(&v);
	if (f->freeing) {
		data_tbl_free(f->m->tables[f->t]);
		f->m->tables[f->t] = NULL;
	}
	return rc;
}

/* data_set_write_app; with `freeing`, each table is freed once it is in its layout. */
static int write_app(struct data_set *m, bool freeing, const char *props, size_t props_len,
		     const char *script, size_t script_len, struct data_out *out, struct err *e)
{
	int n_tables = m ? m->n_tables : 0, n_blocks = 2 + n_tables;
	struct appfile_block *blocks = calloc((size_t)n_blocks, sizeof(*blocks));
	size_t *offsets = calloc((size_t)n_blocks + 1, sizeof(size_t));
	struct table_fill *fills = calloc((size_t)n_blocks, sizeof(*fills));
	struct buf q;
	buf_init(&q, 1ULL << 38);
	int rc = blocks && offsets && fills ? 0 : err_set(e, ERR_NOMEM, "out of memory");
	if (rc == 0) {
		blocks[0] = (struct appfile_block){
		    .kind = APPFILE_PROPS, .data = (char *)props, .len = props_len};
		blocks[1] = (struct appfile_block){
		    .kind = APPFILE_SCRIPT, .data = (char *)script, .len = script_len};
	}
	/* the model's large tables in column layout, raw, each made straight into the file;
	 * the others and section access in QVD layout, one after the other in q */
	int64_t min_rows = column_tables_min_rows();
	for (int t = 0; rc == 0 && t < n_tables; t++) {
		bool access = m->tables[t]->access;
		blocks[2 + t].kind = access ? APPFILE_ACCESS : APPFILE_TABLE;
		if (!access && m->tables[t]->n_rows >= min_rows) {
			fills[t] = (struct table_fill){.m = m, .t = t, .freeing = freeing};
			blocks[2 + t].fill = fill_table;
			blocks[2 + t].ctx = &fills[t];
			continue;
		}
		struct qvd_table v;
		offsets[t] = q.len;
		rc = data_tbl_view(m->tables[t], 0, &v, e);
		if (rc == 0)
			rc = data_qvd_write(&v, &q, e);
		data_tbl_view_free(&v);
		blocks[2 + t].len = q.len - offsets[t];
		if (freeing) {
			data_tbl_free(m->tables[t]);
			m->tables[t] = NULL;
		}
	}
	for (int t = 0; rc == 0 && t < n_tables; t++)
		if (!blocks[2 + t].fill)
			blocks[2 + t].data = q.data + offsets[t];
	if (rc == 0)
		rc = data_appfile_write_out(blocks, n_blocks, 0, out, e);
	free(blocks);
	free(offsets);
	free(fills);
	buf_release(&q);
	return rc;
}

int data_set_write_app(const struct data_set *m, const char *props, size_t props_len,
		       const char *script, size_t script_len, struct buf *out, struct err *e)
{
	struct data_out o = {.b = *out, .fd = -1};
	int rc =
	    write_app((struct data_set *)m, false, props, props_len, script, script_len, &o, e);
	*out = o.b;
	return rc;
}

int data_set_write_app_freeing(struct data_set *m, const char *props, size_t props_len,
			       const char *script, size_t script_len, struct data_out *out,
			       struct err *e)
{
	return write_app(m, true, props, props_len, script, script_len, out, e);
}

int data_set_from_app(const struct appfile *f, enum appfile_kind kind, unsigned opts,
		      struct data_set **out, struct err *e)
{
	struct data_set *m = calloc(1, sizeof(*m));
	int n = 0, rc = 0;
	for (int i = 0; i < f->n_blocks; i++)
		n += f->blocks[i].kind == kind;
	if (!m || !(m->tables = calloc((size_t)n + 1, sizeof(*m->tables)))) {
		free(m);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	for (int i = 0; rc == 0 && i < f->n_blocks; i++) {
		if (f->blocks[i].kind != kind)
			continue;
		struct qvd_table *qt = NULL;
		rc = data_set_read_block(
		    &f->blocks[i], (opts & DATA_SET_MODEL) ? QVD_READ_DENSE | QVD_READ_NARROW : 0,
		    &qt, e);
		/* narrow columns of a table read from a file lie in the file's bytes */
		if (rc == 0 && f->map && f->blocks[i].raw && !m->map)
			m->map = data_map_ref(f->map);
		if (rc == 0)
			rc = data_tbl_adopt_qvd(qt, &m->tables[m->n_tables], e);
		if (rc == 0)
			m->tables[m->n_tables++]->access = kind == APPFILE_ACCESS;
	}
	if (rc) {
		data_set_free(m);
		return rc;
	}
	*out = m;
	return 0;
}
