/* script_int.h: the state of a running reload, shared by the files of the reload (reload.c
 * runs the statements; join.c JOIN, KEEP and ORDER BY; statements.c STORE, DROP and
 * RENAME). Not for other modules. */
#ifndef FATHOM_SCRIPT_INT_H
#define FATHOM_SCRIPT_INT_H

#include "script/script.h"

#define MAX_FILE (4ULL << 30) /* the largest file a script reads or writes */

struct var {
	char *name, *value;
};

struct mapping {
	char *name;
	struct tbl *t;
	int64_t *first_row; /* per symbol of field 0: its first row */
};

struct run {
	const struct reload_env *env;
	struct err *e;
	struct data_set *m;
	struct var *vars;
	int n_vars, cap_vars;
	struct mapping *maps;
	int n_maps;
	struct tbl *last; /* the table the last LOAD created or extended */
	/* QUALIFY and UNQUALIFY patterns in the order given: the last that matches wins */
	struct qual {
		char *pattern;
		bool on;
	} * quals;
	int n_quals;
	int unnamed; /* counter for generated table names */
	/* the current LOAD */
	struct tbl *src;
	int64_t row;
	int64_t *group;
	struct arena *row_arena;
};

/* One line of the reload log. */
void script_log(struct run *r, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* Sets e to "line L, column C: ..." at statement s; returns code. */
int script_err(struct run *r, const struct stmt *s, int code, const char *fmt, ...)
    PRINTF_LIKE(4, 5);

/* The model's tables and mapping tables (reload.c). */
NODISCARD int script_add_table(struct run *r, struct tbl *t);
void script_remove_table(struct run *r, struct tbl *t);
struct mapping *script_find_map(struct run *r, const char *name);

/* After a JOIN or KEEP load into `nw` (taken): combines it with its target (join.c). */
NODISCARD int script_combine(struct run *r, const struct stmt *s, struct tbl *nw);
/* The rows of src in the statement's ORDER BY order; caller frees *out (join.c). */
NODISCARD int script_sort_rows(struct run *r, const struct stmt *s, const struct tbl *src,
			       int64_t rows, int64_t **out);

/* STORE, DROP and RENAME (statements.c). */
NODISCARD int script_store(struct run *r, const struct stmt *s);
NODISCARD int script_drop(struct run *r, const struct stmt *s);
NODISCARD int script_rename(struct run *r, const struct stmt *s);

#endif
