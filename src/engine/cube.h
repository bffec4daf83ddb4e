/* cube.h: hypercubes (qMode S): rows of dimension values with measures aggregated over the
 * possible rows of a selection, sorted and with zero rows suppressed on request.
 *
 * Rows are the distinct combinations of dimension values among the possible rows of the
 * measures' table (the table holding the first measure's fields, else the first
 * dimension's); dimensions held by other tables are reached over the links, taking the
 * partner row for each key (exact for star schemas, where those tables are on the "one"
 * side). Combinations with a NULL dimension are left out.
 *
 * Threads: computes into its own struct; the model and selection are only read. */
#ifndef FATHOM_CUBE_H
#define FATHOM_CUBE_H

#include "engine/assoc.h"

enum cube_sort { SORT_NONE = 0, SORT_NUM, SORT_TEXT, SORT_LOAD };

struct cube_col_sort {
	enum cube_sort by;
	int dir; /* 1 ascending, -1 descending */
};

struct cube_def {
	const char **dims; /* field names */
	int n_dims;
	const char **measures; /* expressions, as in a chart: Sum(Sales) */
	int n_measures;
	struct cube_col_sort *sort; /* per column (dims, then measures); NULL: dims by load order */
	const int *order;   /* qInterColumnSortOrder: columns in sort priority; NULL: 0..n */
	bool suppress_zero; /* leave out rows whose measures are all 0 or NULL */
};

struct cube_cell {
	struct val v;  /* texts live as long as the cube and the model */
	int64_t elem;  /* dimension: its symbol (qElemNumber); measure: 0 */
	char state[3]; /* dimension: "S", "O", "A", "X", "XS"; measure: "L" */
};

struct cube {
	int64_t n_rows;
	int n_cols;
	struct cube_cell *cells; /* row-major */
	struct arena *a;
};

NODISCARD int cube_compute(const struct assoc *a, const struct assoc_sel *sel,
			   const struct cube_def *def, struct cube **out, struct err *e);
void cube_free(struct cube *c);

#endif
