/* fuzz_xlsx.c: the Excel workbook reader (the ZIP archive and its XML parts). The first
 * byte picks labels and the sheet; the rest is the file. Any input must give 0 or an error
 * that says what is wrong (ERR_INVALID, ERR_NOT_FOUND for a missing sheet, ERR_NOMEM or
 * ERR_TOO_LARGE for absurd sizes), never a crash, and a table whose every row has every
 * field. */
#include "data/data.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct format f = {
	    .labels = data[0] & 1 ? LABELS_NONE : LABELS_EMBEDDED,
	    .header_lines = (data[0] >> 1) & 3,
	    .xlsx = true,
	};
	if (data[0] & 8)
		memcpy(f.sheet, "Sales", 6);
	struct tbl *t = NULL;
	struct err e;
	err_init(&e);
	int rc = data_xlsx_read(data + 1, size - 1, &f, NULL, &t, &e);
	if (rc != 0 && rc != ERR_INVALID && rc != ERR_NOT_FOUND && rc != ERR_NOMEM &&
	    rc != ERR_TOO_LARGE)
		abort();
	if (rc != 0) {
		if (t)
			abort();
		return 0;
	}
	for (int k = 0; k < t->n_fields; k++)
		for (int64_t r = 0; r < t->n_rows; r++) {
			struct val v;
			data_tbl_get(t, k, r, &v); /* every row has every field */
		}
	data_tbl_free(t);
	return 0;
}
