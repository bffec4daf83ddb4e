/* model.h: the associative model over a data set: linked tables, selection states, and
 * hypercubes. Design notes: src/model/README.md. */
#ifndef FATHOM_MODEL_H
#define FATHOM_MODEL_H

#include "script/script.h"

/* ================================================================ associations and states
 * (assoc.c) */

/* the associative data model: the tables of a reload linked by same-named fields,
 * every field's values as one symbol table across tables, and the states that selections
 * give every value of every field (engine.md section 5).
 *
 * Linking: two tables that share fields are linked by all of them together (what Qlik
 * shows as a synthetic key when there are several). Links are taken in table order; a link
 * that would close a loop is left out, and the model notes it (Qlik likewise cuts loops).
 *
 * States, recomputed from scratch for a selection:
 *   - a table's possible rows: those that satisfy the selections on its own fields and
 *     whose key values are possible on every side of every link (messages over the tree of
 *     links, a side without selections restricts nothing);
 *   - a field value: S (selected) or XS (selected, but in no possible row), O (in a
 *     possible row of a table that holds the field), A (in a field with a selection: not
 *     selected, but it would be in a possible row without this field's own selection), X
 *     otherwise. NULL is no value: it is never selected and never links.
 *
 * Threads: a struct assoc is read-only after model_assoc_build; states are computed into the
 * caller's struct assoc_states, so sessions share one model. */

enum assoc_state { STATE_O = 0, STATE_S, STATE_A, STATE_X, STATE_XS };

struct assoc_field {
	char *name;
	int64_t n_sym;
	/* texts owned by the model; NULL for a dense field: its values are the whole numbers
	 * dense_base, dense_base + 1, ... in that order (a field of ids), which model_sym
	 * gives without a 24-byte value each */
	struct val *sym;
	double dense_base;
	int n_tables;
	uint8_t *present; /* per symbol: 1 when some row holds it (the states of no selection) */
	/* the number format it was loaded with ("DATE", "TIMESTAMP", ...; "" unknown) and its
	 * format code, from the first table that names one */
	const char *number_type, *number_fmt;
	const char *tags;      /* the script's and QVDs' tags of it in any table, one a line; "" */
	bool numeric, integer; /* every value a number; every one a whole number */
};

/* Value s of field f (0 <= s < f->n_sym). */
static inline struct val model_sym(const struct assoc_field *f, int64_t s)
{
	if (!f->sym)
		return (struct val){.has_num = true, .num = f->dense_base + (double)s};
	return f->sym[s];
}

struct assoc_table {
	char *name;
	int64_t n_rows;
	int n_fields;
	int *field; /* the model field of each column */
	/* per column: per row the field's symbol (data_col_at: -1 for NULL), as narrow as the
	 * field's symbols allow; owned by the model */
	struct data_col *col;
};

/* A link between two tables over their shared fields. */
struct assoc_link {
	int t[2]; /* the two tables */
	int n_keys;
	int *col[2];	     /* per key: its column in t[0] and in t[1] */
	uint8_t *present[2]; /* one key: per value, 1 when some row of t[0] (t[1]) holds it */
};

struct assoc {
	int n_fields, n_tables;
	struct assoc_field *fields;
	struct assoc_table *tables;
	int n_links, n_cut; /* links kept; links left out because they closed a loop */
	struct assoc_link *links;
	struct arena *a;
	struct assoc_spare *spare; /* the arrays of the last states released, for the next */
	struct data_map *map;	   /* the app file's bytes, where columns may lie (col.mapped) */
};

/* A selection: per field, the selected symbols (NULL: no selection). */
struct assoc_sel {
	bool **selected;
	int n_fields;
};

struct assoc_states {
	uint8_t **state;    /* per field, per symbol: enum assoc_state */
	uint8_t **possible; /* per table, per row: 1 when possible */
	bool all;	    /* no selection: every row of every table is possible */
};

/* Builds the model from a reload's tables: their values are copied; the rows' symbol
 * columns of a field that is one table's alone are taken over (the table is left without
 * them: free m as before, and read no rows of it after). */
NODISCARD int model_assoc_build(struct data_set *m, struct assoc **out, struct err *e);
void model_assoc_free(struct assoc *a);
int model_assoc_field(const struct assoc *a, const char *name);
/* The symbol of a value in a field, by its text (or number when text reads as one), or
 * -1. */
int64_t model_assoc_find(const struct assoc *a, int field, const char *text);

/* A model of the rows of `a` that keep[t][r] marks (keep NULL: all) without the fields that
 * drop[f] marks (drop NULL: none): the values no kept row holds are gone, and a table left
 * without fields with them; links are made again. What section access gives a person. */
NODISCARD int model_assoc_reduce(const struct assoc *a, uint8_t *const *keep, const bool *drop,
				 struct assoc **out, struct err *e);

NODISCARD int model_assoc_sel_init(const struct assoc *a, struct assoc_sel *s);
void model_assoc_sel_release(struct assoc_sel *s);
/* Selects `n` symbols of field f (replacing its selection; n 0 clears it). */
NODISCARD int model_assoc_select(const struct assoc *a, struct assoc_sel *s, int f,
				 const int64_t *sym, int n);

NODISCARD int model_assoc_compute(const struct assoc *a, const struct assoc_sel *s,
				  struct assoc_states *out, struct err *e);
/* Only the possible rows of every table (out->state stays NULL): what a hypercube needs. */
NODISCARD int model_assoc_possible_rows(const struct assoc *a, const struct assoc_sel *s,
					struct assoc_states *out, struct err *e);
void model_assoc_states_release(const struct assoc *a, struct assoc_states *st);
/* Per symbol of column c of table t, how many rows hold it: made on first use and kept
 * with the model for every session (a lock held meanwhile). NULL for a column with more
 * than one value for every eight rows (its counts would save little), or out of memory. */
const int64_t *model_assoc_counts(const struct assoc *a, int t, int c);
/* Whether those counts have been made. */
bool model_assoc_counted(const struct assoc *a, int t, int c);

/* ================================================================ hypercubes (cube.c) */

/* hypercubes (qMode S): rows of dimension values with measures aggregated over the
 * possible rows of a selection, sorted and with zero rows suppressed on request.
 *
 * Rows are the distinct combinations of dimension values among the possible rows of the
 * measures' table (the table holding the first measure's fields, else the first
 * dimension's); dimensions held by other tables are reached over the links, taking the
 * partner row for each key (exact for star schemas, where those tables are on the "one"
 * side). Combinations with a NULL dimension are left out.
 *
 * Threads: computes into its own struct; the model and selection are only read. */

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
	/* dollar-sign expansion of a measure's text ($(name) of the app's variables) before it
	 * is parsed, into the arena; NULL: none */
	const char *(*expand)(void *ctx, const char *text, struct arena *a);
	void *expand_ctx;
};

struct cube_cell {
	struct val v;  /* texts live as long as the cube and the model */
	int64_t elem;  /* dimension: its symbol (qElemNumber); measure: 0 */
	char state[3]; /* dimension: "S", "O", "A", "X", "XS"; measure: "L" */
};

struct cube {
	int refs; /* model_cube_keep and model_cube_free (atomic): 1 when computed */
	int64_t n_rows;
	int n_cols;
	struct cube_cell *cells; /* row-major */
	struct arena *a;
};

/* A cube over at least this many rows of its measures' table whose dimensions and
 * measures allow it is computed by two threads, each over half the rows (sums then add in
 * another order: the same to the last bit for whole numbers). Tests lower it. */
extern int64_t model_cube_split_rows;

NODISCARD int model_cube_compute(const struct assoc *a, const struct assoc_sel *sel,
				 const struct cube_def *def, struct cube **out, struct err *e);
/* The same on the states of `sel` computed already (model_assoc_compute's: their possible
 * rows are read, not computed again); st NULL computes them. */
NODISCARD int model_cube_compute_in(const struct assoc *a, const struct assoc_sel *sel,
				    const struct assoc_states *st, const struct cube_def *def,
				    struct cube **out, struct err *e);
/* Another reference to a computed cube, which is read-only from then on (threads may share
 * it); model_cube_free drops one, and frees the cube with the last. */
struct cube *model_cube_keep(struct cube *c);
void model_cube_free(struct cube *c);

#endif
