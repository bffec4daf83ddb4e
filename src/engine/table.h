/* table.h: tables the reload builds: per field a symbol table and per row a symbol index
 * (-1 for NULL), growing row by row, with fields added as concatenation needs them.
 * A value is a dual: a number, a text, or both; or NULL.
 *
 * Interning follows Qlik: per field, values with the same number are one symbol (which
 * keeps the first text seen); values without a number are one symbol per text.
 *
 * Threads: one thread per table. */
#ifndef FATHOM_TABLE_H
#define FATHOM_TABLE_H

#include "engine/qvd.h"

struct val {
	bool null;
	bool has_num;
	double num;
	const char *text; /* NULL: the number alone */
};

struct tbl_field {
	char *name;
	int64_t n_sym, cap_sym;
	struct qvd_value *sym; /* texts are offsets into the table's text store until frozen */
	size_t *text_at;       /* (size_t)-1 for number-only symbols */
	int32_t *index;
	int64_t *slots; /* open addressing: symbol + 1 */
	size_t n_slots;
};

struct tbl {
	char *name;
	int n_fields, cap_fields;
	struct tbl_field *fields;
	int64_t n_rows, cap_rows;
	struct buf texts;
};

struct tbl *tbl_new(const char *name);
void tbl_free(struct tbl *t);
/* The field's index, adding it (NULL in every row so far) when `add`; -1 if absent. */
int tbl_field(struct tbl *t, const char *name, bool add);
/* Appends a row: vals[i] for field i (n must equal n_fields). ERR_NOMEM/ERR_TOO_LARGE. */
NODISCARD int tbl_append(struct tbl *t, const struct val *vals, int n);
/* Row r of field f. Texts point into the table and live as long as it (or the next
 * append). */
void tbl_get(const struct tbl *t, int f, int64_t r, struct val *out);
/* The symbol of `v` in field f, or -1 when the field has no such value. */
int64_t tbl_lookup(struct tbl *t, int f, const struct val *v);
/* Drops field f. */
void tbl_drop_field(struct tbl *t, int f);
/* A read-only QVD view of the table (for STORE): pointers into the table; free the view
 * with tbl_view_free, not qvd_free. */
NODISCARD int tbl_view(struct tbl *t, struct qvd_table *out, struct err *e);
void tbl_view_free(struct qvd_table *v);
/* A table that takes over a QVD's contents (q is freed). */
NODISCARD int tbl_from_qvd(struct qvd_table *q, const char *name, struct tbl **out, struct err *e);

/* The same for a QVD whose symbols are known to be distinct (an app file this engine wrote):
 * they are taken as they are, without interning; the hash index is built on first use. */
NODISCARD int tbl_adopt_qvd(struct qvd_table *q, struct tbl **out, struct err *e);

/* Reads a symbol as a value. */
void val_of_symbol(const struct qvd_value *s, struct val *out);
/* The value as text (a number formatted when it has no text). Returns buf or the text. */
const char *val_text(const struct val *v, char *buf, size_t n);

#endif
