/* fuzz_qvd.c: the QVD reader. Any input must give 0 or ERR_INVALID (ERR_NOMEM for absurd
 * sizes), never a crash; a file that reads must write and read back to the same shape, and
 * its header alone (data_qvd_read_info) must say the same number of rows and fields. Read
 * with QVD_READ_DENSE and QVD_READ_NARROW (as an app opens), it must read exactly when it
 * reads otherwise, with the same rows (in columns of the width their symbols need, none
 * only when row r holds symbol r), and a field it calls dense must be the whole numbers
 * base, base + 1, ... in the plain read. */
#include "data/data.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The dense read of the same input against the plain one (rc and t). */
static void dense_agrees(const uint8_t *data, size_t size, int rc, const struct qvd_table *t)
{
	struct qvd_table *d = NULL;
	struct err e;
	err_init(&e);
	int drc = data_qvd_read_opts(data, size, QVD_READ_DENSE | QVD_READ_NARROW, &d, &e);
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
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
	data_qvd_free(t);
	return 0;
}
