/* fuzz_appfile.c: the app file container. Any input must give 0 or ERR_INVALID (ERR_NOMEM
 * for absurd sizes), never a crash; the streaming check of uploads agrees with the reader; a
 * file that reads writes back to one that reads the same. Table blocks go on to the table
 * readers (QVD or column layout), as opening an app does. */
#include "data/data.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct appfile *a = NULL;
	struct err e;
	err_init(&e);
	int rc = data_appfile_read(data, size, &a, &e);
	if (rc != 0 && rc != ERR_INVALID && rc != ERR_NOMEM)
		abort();
	/* the streaming check of uploads (fed in two pieces) says what the reader says, unless
	 * the reader ran out of memory */
	struct appfile_check *ck = data_appfile_check_new();
	if (ck) {
		struct err ce;
		err_init(&ce);
		int crc = data_appfile_check_feed(ck, data, size / 2, &ce);
		if (crc == 0)
			crc = data_appfile_check_feed(ck, data + size / 2, size - size / 2, &ce);
		if (crc == 0)
			crc = data_appfile_check_end(ck, &ce);
		data_appfile_check_free(ck);
		if (rc != ERR_NOMEM && (rc == 0) != (crc == 0))
			abort();
	}
	if (rc != 0)
		return a ? (abort(), 0) : 0;
	for (int i = 0; i < a->n_blocks; i++) {
		if (a->blocks[i].kind != APPFILE_TABLE)
			continue;
		struct qvd_table *t = NULL;
		err_init(&e);
		if (data_set_read_block(&a->blocks[i], QVD_READ_NARROW | QVD_READ_DENSE, &t, &e) ==
		    0)
			data_qvd_free(t);
	}
	struct buf b;
	buf_init(&b, 64u << 20);
	err_init(&e);
	if (data_appfile_write(a->blocks, a->n_blocks, 1, &b, &e) == 0) {
		struct appfile *c = NULL;
		if (data_appfile_read(b.data, b.len, &c, &e) != 0 || c->n_blocks != a->n_blocks)
			abort();
		for (int i = 0; i < c->n_blocks; i++)
			if (c->blocks[i].len != a->blocks[i].len ||
			    memcmp(c->blocks[i].data, a->blocks[i].data, c->blocks[i].len) != 0)
				abort();
		data_appfile_free(c);
	}
	buf_release(&b);
	data_appfile_free(a);
	return 0;
}
