/* fuzz_qvd.c: the table readers, QVD and column tables (an input that starts with
 * "FATHOMCT" goes to the second). Any input must give 0 or ERR_INVALID (ERR_NOMEM for
 * absurd sizes), never a crash; a file that reads must write and read back to the same
 * shape, and a QVD's header alone (data_qvd_read_info) must say the same number of rows and
 * fields. Read with QVD_READ_DENSE and QVD_READ_NARROW (as an app opens), it must read
 * exactly when it reads otherwise, with the same rows (in columns of the width their
 * symbols need, none only when row r holds symbol r), and a field it calls dense must be
 * the whole numbers base, base + 1, ... in the plain read. A table that reads, written as a
 * column table, reads back with the same rows and values, either way. */
#include "data/data.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int read_table(const uint8_t *data, size_t size, unsigned opts, struct qvd_table **out,
		      struct err *e)
{
	if (data_coltab_is(data, size))
		return data_coltab_read(data, size, opts, out, e);
	return data_qvd_read_opts(data, size, opts, out, e);
}

/* The dense read of the same input against the plain one (rc and t). */
static void dense_agrees(const uint8_t *data, size_t size, int rc, const struct qvd_table *t)
{
	struct qvd_table *d = NULL;
	struct err e;
	err_init(&e);
	int drc = read_table(data, size, QVD_READ_DENSE | QVD_READ_NARROW, &d, &e);
	if (drc == ERR_NOMEM || rc == ERR_NOMEM) {
		data_qvd_free(d);
		return;
	}
	if ((drc == 0) != (rc == 0))
		abort();
	for (int i = 0; drc == 0 && i < t->n_fields; i++) {
		const struct qvd_field *p = &t->fields[i], *q = &d->fields[i];
		if (q->n_symbols != p->n_symbols || !q->narrow || q->index ||
		    (q->col.width != 0 && q->col.width != data_col_width(q->n_symbols)))
			abort();
		for (int64_t r = 0; r < t->n_rows; r++)
			if (data_col_at(&q->col, r) != p->index[r])
				abort();
		if (!q->dense) {
			if (!q->symbols && q->n_symbols)
				abort();
			continue;
		}
		if (q->symbols || q->n_symbols < DATA_DENSE_MIN)
			abort();
		for (int64_t s = 0; s < p->n_symbols; s++) {
			const struct qvd_value *v = &p->symbols[s];
			if (v->type == QVD_STRING || v->num != q->dense_base + (double)s ||
			    (v->text && !data_canonical_integer(v->text, v->num)))
				abort();
		}
	}
	data_qvd_free(d);
}

/* Whether two reads hold the same rows and values. */
static bool same_table(const struct qvd_table *a, const struct qvd_table *b)
{
	if (a->n_rows != b->n_rows || a->n_fields != b->n_fields || strcmp(a->name, b->name))
		return false;
	for (int i = 0; i < a->n_fields; i++) {
		const struct qvd_field *p = &a->fields[i], *q = &b->fields[i];
		if (strcmp(p->name, q->name) || p->n_symbols != q->n_symbols ||
		    memcmp(p->index, q->index, sizeof(int32_t) * (size_t)a->n_rows))
			return false;
		for (int64_t s = 0; s < p->n_symbols; s++) {
			const struct qvd_value *u = &p->symbols[s], *v = &q->symbols[s];
			bool text = u->type != QVD_INT && u->type != QVD_DOUBLE;
			if (u->type != v->type ||
			    (u->num != v->num && !(u->num != u->num && v->num != v->num)) ||
			    (text && strcmp(u->text ? u->text : "", v->text ? v->text : "")))
				return false;
		}
	}
	return true;
}

/* t written as a column table reads back the same. */
static void columns_round_trip(const struct qvd_table *t)
{
	struct buf b;
	buf_init(&b, 64u << 20);
	struct err e;
	err_init(&e);
	if (data_coltab_write(t, &b, &e) == 0) {
		struct qvd_table *u = NULL;
		if (data_coltab_read(b.data, b.len, 0, &u, &e) != 0 || !same_table(t, u))
			abort();
		data_qvd_free(u);
		if (data_coltab_read(b.data, b.len, QVD_READ_NARROW | QVD_READ_DENSE, &u, &e) != 0)
			abort();
		data_qvd_free(u);
	}
	buf_release(&b);
}

/* An input in column layout: read every way (from 8-aligned memory, as app files give it). */
static int column_table(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	struct qvd_table *t = NULL;
	struct err e;
	err_init(&e);
	int rc = data_coltab_read(copy, size, 0, &t, &e);
	if (rc != 0 && rc != ERR_INVALID && rc != ERR_NOMEM)
		abort();
	dense_agrees(copy, size, rc, t);
	if (rc == 0)
		columns_round_trip(t);
	else if (t)
		abort();
	data_qvd_free(t);
	free(copy);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (data_coltab_is(data, size))
		return column_table(data, size);
	struct qvd_info *info = NULL;
	struct err e;
	err_init(&e);
	int irc = data_qvd_read_info(data, size, &info, &e);
	if (irc != 0 && irc != ERR_INVALID && irc != ERR_NOMEM)
		abort();
	struct qvd_table *t = NULL;
	err_init(&e);
	int rc = data_qvd_read(data, size, &t, &e);
	if (rc == 0 && (irc != 0 || info->n_records != t->n_rows || info->n_fields != t->n_fields))
		abort(); /* what reads whole has a header that reads alike */
	data_qvd_info_free(info);
	if (rc != 0 && rc != ERR_INVALID && rc != ERR_NOMEM)
		abort();
	dense_agrees(data, size, rc, t);
	if (rc != 0) {
		if (t)
			abort();
		return 0;
	}
	struct buf b;
	buf_init(&b, 64u << 20);
	err_init(&e);
	if (data_qvd_write(t, &b, &e) == 0) {
		struct qvd_table *u = NULL;
		if (data_qvd_read(b.data, b.len, &u, &e) != 0 || u->n_rows != t->n_rows ||
		    u->n_fields != t->n_fields)
			abort();
		data_qvd_free(u);
	}
	buf_release(&b);
	columns_round_trip(t);
	data_qvd_free(t);
	return 0;
}
