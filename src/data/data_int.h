/* data_int.h: what the files of the data module share. Not for other modules. */
#ifndef FATHOM_DATA_INT_H
#define FATHOM_DATA_INT_H

#include "data/data.h"

/* The hashes that intern values (here and in table.c): text by FNV-1a, numbers so that
 * runs of 8 consecutive whole numbers fall on neighbouring slots. */
uint64_t data_txt_hash_text(const char *s);
uint64_t data_txt_hash_number(double d);

#endif
