/* fuzz_txt.c: the delimited-text reader. The first byte picks the options (delimiter,
 * quoting, labels, code page); the rest is the text. Any input must give 0 or
 * ERR_INVALID, never a crash, and a table whose every index names a symbol; read by three
 * threads (this build reads texts of 64 bytes on several), the same table as by one. */
#include "data/data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Symbol k of f: a dense field's is its number, with the text it writes (in buf). */
static struct qvd_value symbol(const struct qvd_field *f, int64_t k, char buf[32])
{
	if (!f->dense)
		return f->symbols[k];
	double v = f->dense_base + (double)k;
	snprintf(buf, 32, "%.0f", v);
	return (struct qvd_value){QVD_DUAL_INT, v, buf};
}

/* Aborts unless a and b hold the same symbols (type, number, text, in order) and rows. */
static void same(const struct qvd_table *a, const struct qvd_table *b)
{
	if (a->n_rows != b->n_rows || a->n_fields != b->n_fields)
		abort();
	for (int i = 0; i < a->n_fields; i++) {
		const struct qvd_field *x = &a->fields[i], *y = &b->fields[i];
		if (strcmp(x->name, y->name) != 0 || x->n_symbols != y->n_symbols ||
		    memcmp(x->index, y->index, sizeof(int32_t) * (size_t)a->n_rows) != 0)
			abort();
		for (int64_t k = 0; k < x->n_symbols; k++) {
			char b1[32], b2[32];
			struct qvd_value u = symbol(x, k, b1), v = symbol(y, k, b2);
			if (u.type != v.type || memcmp(&u.num, &v.num, sizeof(u.num)) != 0 ||
			    strcmp(u.text ? u.text : "", v.text ? v.text : "") != 0)
				abort();
		}
	}
}

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
	struct qvd_table *t = NULL, *three = NULL;
	struct err e;
	err_init(&e);
	struct txt_options one_thread = {.threads = 1}, three_threads = {.threads = 3};
	int rc = data_txt_read((const char *)data + 1, size - 1, &f, &one_thread, &t, &e);
	if (rc != 0 && rc != ERR_INVALID)
		abort();
	if (rc == 0) {
		for (int i = 0; i < t->n_fields; i++)
			for (int64_t r = 0; r < t->n_rows; r++)
				if (t->fields[i].index[r] < 0 ||
				    t->fields[i].index[r] >= t->fields[i].n_symbols)
					abort();
	}
	err_init(&e);
	if (data_txt_read((const char *)data + 1, size - 1, &f, &three_threads, &three, &e) != rc)
		abort();
	if (rc == 0)
		same(t, three);
	data_qvd_free(t);
	data_qvd_free(three);
	return 0;
}
