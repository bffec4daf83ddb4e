/* fuzz_qvd.c: the QVD reader. Any input must give 0 or ERR_INVALID (ERR_NOMEM for absurd
 * sizes), never a crash; a file that reads must write and read back to the same shape, and
 * its header alone (data_qvd_read_info) must say the same number of rows and fields. */
#include "data/data.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
