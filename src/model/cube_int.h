/* cube_int.h: what cube.c (hypercubes) and cube_fast.c (one-pass measures, and cubes in
 * parts on two threads) share. Not for other modules: model.h is the interface. */
#ifndef FATHOM_CUBE_INT_H
#define FATHOM_CUBE_INT_H

#include "model/model.h"
#include "model/tuples.h"
#include "script/script.h"

#define MAX_PATH 32

/* How to reach a field from the measures' table: the links on the way, then a column. */
struct route {
	int table, col;
	int n_steps;
	int link[MAX_PATH], from_side[MAX_PATH];
};

/* The rows of every group under one set expression. */
struct set_rows {
	const struct set_expr *set;
	int64_t *start, *rows; /* by the chart's groups */
	int64_t *all, n_all;   /* every row the set allows, in any group or none (TOTAL) */
};

/* TOTAL <fields>: the base rows (all the chart's, or a set's) grouped by the listed fields'
 * symbols. */
struct total_rows {
	const struct expr *x;
	int *fields;
	struct model_tuples keys;
	int64_t *start, *rows;
	struct val *vals; /* per partial group: the aggregation's value, once computed */
	bool *have;
};

/* A plain TOTAL aggregation's value: the same for every row of the chart, computed once. */
struct total_value {
	const struct expr *x;
	struct val v;
};

struct cubecalc {
	const struct assoc *a;
	const struct assoc_sel *sel;
	const struct cube_def *def;
	const int *dim_field;
	struct model_tuples *groups;
	int64_t g; /* the current group */
	const int64_t *saved_group;
	int64_t saved_row;
	struct set_rows *sets;
	int n_sets;
	const int64_t *all_rows; /* every row of the chart's groups, group after group */
	int64_t n_all;
	struct total_rows *totals;
	int n_totals;
	struct total_value *tvals;
	int n_tvals;
	int64_t total_part; /* the partial group the last TOTAL <fields> went over (-1: none) */
	/* the inter-record pass (Above, Below, Top, Bottom, Column), over the sorted rows */
	struct cube_job *job;
	const int64_t *row_group;	    /* per sorted row: its group */
	const int64_t *seg_start, *seg_end; /* per sorted row: its column segment */
	int64_t cur, n_rows;		    /* the sorted row evaluated, and how many */
	const struct cube_cell *cells;
	const struct assoc_states *st;
	struct assoc_states full; /* every value's state, when a field function needs them */
	bool full_ok;
	int fact;
	struct tbl **keys; /* per link direction: key tuple -> symbol */
	int64_t **partner; /* per link direction: key symbol -> partner row */
	int64_t **by_key;  /* per link direction of one key: the key's symbol -> partner row */
	int64_t row;	   /* the current fact row */
	const int64_t *group;
	struct route *field_route; /* per model field, filled on first use */
	bool *route_known;
	struct err *e;
};

struct cube_job {
	struct cube *cb;
	int64_t *row_group; /* per kept row: its group (sorted with the rows) */
	bool *interrow;	    /* per measure: it calls an inter-record function */
	struct cubecalc c;
	struct assoc_states st; /* the possible rows, when the caller gave none */
	bool own_st;
	struct model_tuples groups;
	int *dim_field;
	struct expr **mx;      /* the measures, parsed */
	int64_t *group_of;     /* per fact row: its group, or -1 */
	int64_t *first;	       /* per group: its first fact row */
	int64_t *start, *rows; /* the rows of group g: rows[start[g] .. start[g + 1]), made
				  when a measure is evaluated group by group */
	int64_t n_groups;
	struct val **fast; /* per measure: one value per group, or NULL (evaluated) */
};

/* Dimensions with few enough combinations of symbols to give each combination a slot: a
 * row's group is found by its slot (symbols in mixed radix), not by hashing. A dimension
 * of the measures' table is read from its column, one of a linked table through the
 * row's partner. */
#define DENSE_SLOTS_MAX (1 << 20)
struct dense {
	const struct data_col **col; /* per dimension: its column in the measures' table, or NULL */
	int64_t *radix;		     /* per dimension */
	int64_t n_slots;
	int64_t *slot; /* group + 1; 0: none yet */
};

enum fast_kind { F_SUM, F_COUNT, F_COUNT_DISTINCT, F_COUNT_STAR, F_AVG, F_MIN, F_MAX };

/* A measure that is one plain aggregation of one field (Sum(F), Count(F), Count(DISTINCT F),
 * Count(*), Avg, Min, Max; no set) is computed for every group in one pass over the fact
 * rows, in row order, instead of group by group: fast_prepare, fast_add for each row and
 * its group, fast_finish. The results equal script_eval()'s. */
struct fast_acc {
	enum fast_kind k;
	int f;
	int64_t ns, n_groups;	    /* the field's symbols; room for this many groups */
	const struct data_col *col; /* the field's column in the fact table, or NULL */
	double *acc, *num;	    /* per group; per symbol: its number */
	int64_t *cnt;
	uint8_t *isnum, *bits; /* per symbol: a number?; Count(DISTINCT): per group and symbol */
};

/* cube.c */
/* The column of field f in the measures' table, or NULL when it is reached over links. */
const struct data_col *model_cube_direct_col(struct cubecalc *c, int f);
/* Field f's symbol for fact row `row` (over the links where it is another table's). */
int32_t model_cube_field_symbol(struct cubecalc *c, int f, int64_t row);
/* Group g was seen first at fact row r (j->first grows to hold it; ERR_NOMEM). */
int model_cube_note_first(struct cube_job *j, int64_t g, int64_t r, int64_t *cap);

/* cube_fast.c */
void model_cube_fast_release(struct fast_acc *fa);
bool model_cube_fast_prepare(struct cubecalc *c, const struct expr *x, int64_t n_groups,
			     struct fast_acc *fa);
void model_cube_fast_add(struct cubecalc *c, struct fast_acc *fa, int64_t r, int64_t g);
void model_cube_fast_add_counts(struct fast_acc *fa, const int64_t *n, int64_t n_rows);
struct val *model_cube_fast_finish(struct fast_acc *fa, int64_t n_groups);
/* Computes the cube's groups and one-pass measures in parts when it suits (*done). */
int model_cube_group_in_parts(struct cube_job *j, const struct dense *d, struct fast_acc *fa,
			      bool *done);

#endif
