/* reload.h: running a load script: statement by statement, each dollar-expanded with the
 * variables of the moment and then parsed (engine/script.h), building the tables of the
 * data model (engine/table.h).
 *
 * Runs today: SET, LET (also without the keyword), $(var) and $(=expr) expansion; LOAD
 * from INLINE, delimited text and QVD files, RESIDENT and AUTOGENERATE, with expressions,
 * WHERE, DISTINCT, GROUP BY and its aggregations; automatic concatenation, CONCATENATE and
 * NOCONCATENATE; MAPPING LOAD and ApplyMap; DROP TABLE/FIELD; RENAME TABLE/FIELD; STORE to
 * QVD and text; QUALIFY/UNQUALIFY (with wildcards); TRACE; IF/ELSEIF/ELSE/END IF; FOR ... NEXT;
 * FOR EACH ... NEXT; DO [WHILE|UNTIL] ... LOOP [WHILE|UNTIL]; SUB ... END SUB with parameters
 * (local to the call) and CALL; EXIT SCRIPT, FOR, DO and SUB, with WHEN or UNLESS.
 * Anything else is refused with its line and column ("not supported yet"), never ignored.
 *
 * Files are reached only through env->resolve, which maps lib://Connection/path to a file
 * inside that connection's folder (and refuses paths that escape it).
 *
 * Threads: one reload per thread; no shared state. */
#ifndef FATHOM_RELOAD_H
#define FATHOM_RELOAD_H

#include "engine/table.h"

struct reload_env {
	void *ctx;
	/* The file a script path names. ERR_FORBIDDEN or ERR_NOT_FOUND with a message. */
	int (*resolve)(void *ctx, const char *path, bool for_write, char *out, size_t n,
		       struct err *e);
	/* One line of the reload log (TRACE, and what each statement did). May be NULL. */
	void (*log)(void *ctx, const char *line);
	int64_t max_rows; /* per table; 0: no limit */
};

struct model {
	struct tbl **tables;
	int n_tables;
};

/* Runs `script`. On failure nothing is kept: *out is NULL and e says where (line and
 * column) and what. Caller frees *out with model_free. */
NODISCARD int reload_run(const char *script, const struct reload_env *env, struct model **out,
			 struct err *e);
void model_free(struct model *m);
/* Appends an app file (engine/appfile.h) to `out`: the properties and script given, and
 * one QVD-layout block per table of `m`. */
NODISCARD int model_write_app(const struct model *m, const char *props, size_t props_len,
			      const char *script, size_t script_len, struct buf *out,
			      struct err *e);
/* The table named `name`, or NULL. */
struct tbl *model_table(const struct model *m, const char *name);

#endif
