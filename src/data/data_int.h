/* data_int.h: what the files of the data module share. Not for other modules. */
#ifndef FATHOM_DATA_INT_H
#define FATHOM_DATA_INT_H

#include "data/data.h"

/* The hashes that intern values (here and in table.c): text by FNV-1a, numbers so that
 * runs of 8 consecutive whole numbers fall on neighbouring slots. */
uint64_t data_txt_hash_text(const char *s);
uint64_t data_txt_hash_number(double d);

/* A QVD symbol table (qvd.c): a type byte, the number little-endian, the text with its
 * NUL. Read: f->n_symbols of them from sym[0..len) into f->symbols (calloc'd), their
 * texts copied to store (len bytes); ERR_INVALID names f. Length: the bytes f's symbols
 * take (ERR_INVALID for an unknown type). Put: written at p (up to end); the byte after
 * them, or NULL when they do not fit. */
NODISCARD int data_qvd_symbols_read(struct qvd_field *f, const uint8_t *sym, size_t len,
				    char *store, struct err *e);
NODISCARD int data_qvd_symbols_length(const struct qvd_field *f, uint64_t *out, struct err *e);
uint8_t *data_qvd_symbols_put(const struct qvd_field *f, uint8_t *p, const uint8_t *end);

#endif
