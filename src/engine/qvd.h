/* qvd.h: QVD files, Qlik's one-table data files: reading files Qlik wrote, and writing
 * files other readers load. Format notes: ../shared/api/engine.md section 1 and
 * src/engine/README.md.
 *
 * A table is columns of symbol indexes: per field, its distinct values (the symbol table,
 * in first-occurrence order) and per row the index of the row's value, or -1 for NULL.
 * That is how the engine stores a table, so loading a QVD copies no text per row.
 *
 * Threads: a struct qvd_table is a plain value; read it from any thread, write from one. */
#ifndef FATHOM_QVD_H
#define FATHOM_QVD_H

#include "core/core.h"

/* The type byte of a symbol. */
enum qvd_type {
	QVD_INT = 1,	     /* int32 */
	QVD_DOUBLE = 2,	     /* binary64 */
	QVD_STRING = 4,	     /* text */
	QVD_DUAL_INT = 5,    /* int32 and its text */
	QVD_DUAL_DOUBLE = 6, /* binary64 and its text */
};

struct qvd_value {
	enum qvd_type type;
	double num;	  /* the number (QVD_INT: exact), 0 for strings */
	const char *text; /* NUL-terminated UTF-8; NULL for QVD_INT and QVD_DOUBLE */
};

struct qvd_field {
	char *name;
	int64_t n_symbols;
	struct qvd_value *symbols;
	int32_t *index;	      /* per row: a symbol, or -1 for NULL */
	char number_type[16]; /* NumberFormat/Type: a display hint ("UNKNOWN", "DATE", ...) */
	char **tags;	      /* "$numeric", "$text", ...; n_tags of them */
	int n_tags;
	/* as read from a file (the writer computes its own) */
	int bit_offset, bit_width, bias;
};

struct qvd_table {
	char *name;
	int n_fields;
	struct qvd_field *fields;
	int64_t n_rows;
	char *text_store; /* where symbol texts live (owned) */
};

/* Reads a QVD held in memory. Every size, offset and index is checked; a malformed file
 * is ERR_INVALID with what is wrong and where. Caller frees *out with qvd_free. */
NODISCARD int qvd_read(const void *data, size_t len, struct qvd_table **out, struct err *e);
/* Reads a QVD file (mapped, not copied). */
NODISCARD int qvd_read_file(const char *path, struct qvd_table **out, struct err *e);
void qvd_free(struct qvd_table *t);

/* A value as text: a dual's or string's text, or the number formatted as Qlik shows it
 * for plain numbers (integers without a decimal point, others with up to 15 significant
 * digits). Returns out. */
const char *qvd_value_text(const struct qvd_value *v, char *out, size_t n);

/* Writes `t` as a QVD: symbols in the table's order (callers keep first-occurrence order),
 * Bias -2 only for columns with NULLs, minimal widths packed from bit 0, no timestamps
 * (the output depends only on the table). Text may not contain NUL (ERR_INVALID). The file
 * goes to `out`. */
NODISCARD int qvd_write(const struct qvd_table *t, struct buf *out, struct err *e);

#endif
