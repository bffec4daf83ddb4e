/* fuzz_txt.c: the delimited-text reader. The first byte picks the options (delimiter,
 * quoting, labels, code page); the rest is the text. Any input must give 0 or
 * ERR_INVALID, never a crash, and a table whose every index names a symbol. */
#include "data/data.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	static const char delims[] = {',', ';', '|', '\t', ' ', ':', '"', 'a'};
	static const int pages[] = {65001, 1252, 28591, 65001};
	struct format f = {
	    .labels = (data[0] >> 3) & 1 ? LABELS_NONE : LABELS_EMBEDDED,
	    .delimiter = delims[data[0] & 7],
	    .codepage = pages[(data[0] >> 4) & 3],
	    .msq = (data[0] >> 6) & 1,
	    .no_quotes = (data[0] >> 7) & 1,
	    .header_lines = 0,
	};
	struct qvd_table *t = NULL;
	struct err e;
	err_init(&e);
	int rc = data_txt_read((const char *)data + 1, size - 1, &f, NULL, &t, &e);
	if (rc != 0 && rc != ERR_INVALID)
		abort();
	if (rc == 0) {
		for (int i = 0; i < t->n_fields; i++)
			for (int64_t r = 0; r < t->n_rows; r++)
				if (t->fields[i].index[r] < 0 ||
				    t->fields[i].index[r] >= t->fields[i].n_symbols)
					abort();
		data_qvd_free(t);
	}
	return 0;
}
