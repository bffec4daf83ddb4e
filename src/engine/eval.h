/* eval.h: evaluating script expressions over one row, or over a group of rows for the
 * aggregations of LOAD ... GROUP BY. NULL and dual rules: ../shared/api/engine.md 4.3.
 *
 * Threads: one evaluation per struct eval at a time. */
#ifndef FATHOM_EVAL_H
#define FATHOM_EVAL_H

#include "engine/script.h"
#include "engine/table.h"

struct eval {
	struct arena *a; /* texts of results; the caller frees it when the row is done */
	struct err *e;
	void *ctx;
	/* A field of the current row: 0, or ERR_NOT_FOUND. May cache a slot in x->slot. */
	int (*field)(void *ctx, struct expr *x, struct val *out);
	/* ApplyMap: *found false when the map has no such key; ERR_NOT_FOUND: no such map. */
	int (*mapping)(void *ctx, const char *map, const struct val *key, struct val *out,
		       bool *found);
	/* A variable's text (LET's expressions may name variables); NULL when unset. */
	const char *(*variable)(void *ctx, const char *name);
	/* Aggregation: the rows of the current group; set_row makes row i current. */
	int64_t n_group;
	void (*set_row)(void *ctx, int64_t i);
	/* Set analysis: makes the group's rows under `set` the current group (*n of them);
	 * restore_group goes back. NULL where set analysis has no meaning (scripts). */
	int (*set_group)(void *ctx, const struct set_expr *set, int64_t *n);
	void (*restore_group)(void *ctx);
	int64_t recno, rowno;
	const char *date_format;
	bool in_aggr; /* inside an aggregation's argument */
};

/* Evaluates x. Errors (ERR_INVALID) name the line and column of the offending part:
 * an unknown field or function, a wrong number of arguments, an aggregation outside
 * GROUP BY. */
NODISCARD int eval(struct eval *ev, struct expr *x, struct val *out);

/* Case-insensitive wildcard match: * any run, ? one character. */
bool eval_like(const char *s, const char *pattern);
/* True for a value that counts as true: a number other than 0 (NULL is false). */
bool val_true(const struct val *v);
/* A value's number, reading its text as a number when it has none. */
bool val_number(const struct val *v, double *out);

#endif
