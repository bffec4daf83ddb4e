/* txt.h: delimited text (CSV and the like, and INLINE data) read the way Qlik reads it,
 * into a table of symbol tables and symbol indexes (engine/qvd.h). What Qlik does, as the
 * tests check it against QVDs Qlik made from the same files:
 *
 *   - leading and trailing blanks of every value are stripped (Verbatim = 0);
 *   - a value that reads as a number keeps its text: a dual of an int32 and the text when
 *     the number is integral and fits, else of a double and the text; more than 15
 *     significant digits stay text; a date in the DateFormat (default YYYY-MM-DD) is a dual
 *     of its day serial (day 0 = 1899-12-30) and its text;
 *   - per field, values with the same number are one symbol, which keeps the first text
 *     seen; everything else is text, and an empty cell is the empty string, never NULL;
 *   - symbols are numbered in first-occurrence order.
 *
 * Threads: no shared state. */
#ifndef FATHOM_TXT_H
#define FATHOM_TXT_H

#include "engine/qvd.h"
#include "engine/script.h"

struct txt_options {
	const char *table_name;
	const char *date_format; /* NULL: YYYY-MM-DD */
	/* The page-aligned start of a private file mapping that holds the text: what has been
	 * read is given back to the system as reading goes on (it must not be read again). */
	const void *release_base;
	/* Threads that read a large text, each interning its share of the fields (0: one per
	 * processor, up to 4). The result is the same for any number. */
	int threads;
};

/* Reads `len` bytes of delimited text as `f` says (delimiter, labels, quoting, code page,
 * header lines). ERR_INVALID for what cannot be read (an unsupported code page, a quote
 * not closed under msq), naming the line. Caller frees *out with qvd_free. */
NODISCARD int txt_read(const char *data, size_t len, const struct format *f,
		       const struct txt_options *o, struct qvd_table **out, struct err *e);

/* The hashes that intern values (here and in table.c): text by FNV-1a, numbers so that
 * runs of 8 consecutive whole numbers fall on neighbouring slots. */
uint64_t txt_hash_text(const char *s);
uint64_t txt_hash_number(double d);

/* How one text value reads: *out gets its type (QVD_STRING, QVD_DUAL_INT or
 * QVD_DUAL_DOUBLE) and number. `text` is already trimmed. */
void txt_interpret(const char *text, const char *date_format, struct qvd_value *out);

#endif
