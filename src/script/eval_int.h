/* eval_int.h: what the files of the function library share (eval.c: the evaluator and the
 * general functions; fn_date.c: dates and times; fn_table.c: inter-record, table and field
 * functions). Not for other modules. */
#ifndef FATHOM_SCRIPT_EVAL_INT_H
#define FATHOM_SCRIPT_EVAL_INT_H

#include "script/script.h"

#include <time.h>

typedef int (*script_fn_impl)(struct eval *ev, struct expr *x, const struct val *v,
			      struct val *out);

/* One function of the library: its name, arity, kind and implementation. */
struct script_func {
	const char *name;
	int min_args, max_args;
	enum script_fn_kind kind;
	script_fn_impl impl;
	int op;	   /* which member of a family */
	bool lazy; /* evaluates its own arguments */
};

#define SCALAR(name, lo, hi, impl, op)                                                             \
	{                                                                                          \
		name, lo, hi, SCRIPT_FN_SCALAR, impl, op, false                                    \
	}

static inline struct val script_num(double d)
{
	struct val v = {.has_num = true, .num = d};
	return v;
}

static inline struct val script_text(const char *s)
{
	struct val v = {.text = s};
	return v;
}

static inline struct val script_null(void)
{
	struct val v = {.null = true};
	return v;
}

/* Qlik's true (-1) and false (0). */
static inline struct val script_bool(bool b)
{
	return script_num(b ? -1 : 0);
}

/* d as a whole number (toward zero) that an int64_t holds: NaN is 0, beyond 2^53 is 2^53. */
static inline int64_t script_whole(double d)
{
	const double lim = 9007199254740992.0;
	return d != d ? 0 : d > lim ? (int64_t)lim : d < -lim ? -(int64_t)lim : (int64_t)d;
}

/* A value's text (a number written out), in ev->a when it had to be made. */
const char *script_tx(struct eval *ev, const struct val *v);
/* A value as a day serial: its number, or its text read as a date (or number); false for
 * NULL and for text that is neither. */
bool script_day_serial(struct eval *ev, const struct val *v, double *out);
/* Argument i's text, or NULL when the call has no such argument or it is NULL. */
const char *script_text_arg(struct eval *ev, const struct expr *x, const struct val *v, int i);

/* An aggregation over the current group (with set analysis: over the set's rows): enter
 * checks that it may run here and makes the set's rows the group; leave undoes it. */
NODISCARD int script_aggr_enter(struct eval *ev, struct expr *x, int64_t *saved_n);
void script_aggr_leave(struct eval *ev, struct expr *x, int64_t saved_n);
/* The statistical aggregations (fn_stats.c) and the other number functions (fn_num.c). */
extern const struct script_func script_stats_functions[];
extern const size_t script_n_stats_functions;
extern const struct script_func script_num_functions[];
extern const size_t script_n_num_functions;
/* ConvertToLocalTime and LocalTime (fn_zone.c). */
extern const struct script_func script_zone_functions[];
extern const size_t script_n_zone_functions;
/* NPV, IRR, XNPV, XIRR, RangeXNPV, RangeXIRR (fn_cash.c). */
extern const struct script_func script_cash_functions[];
extern const size_t script_n_cash_functions;
/* JsonGet, JsonSet, IsJson (fn_json.c). */
extern const struct script_func script_json_functions[];
extern const size_t script_n_json_functions;
/* Whether x is Above, Below, Top or Bottom with a count (a range of rows), and its values
 * into out (at most max; *n of them) for a range function's arguments (fn_field.c). */
bool script_expr_row_range(const struct expr *x);
NODISCARD int script_row_range(struct eval *ev, struct expr *x, struct val *out, int max, int *n);
/* The field functions of charts (fn_field.c). */
extern const struct script_func script_field_functions[];
extern const size_t script_n_field_functions;

/* The date and time functions (fn_date.c). */
extern const struct script_func script_date_functions[];
extern const size_t script_n_date_functions;
/* A moment (seconds and milliseconds since the epoch) as a serial of local time. */
double script_local_serial(time_t t, long ms);
/* A timestamp serial as a dual, its text in the script's TimestampFormat. */
struct val script_timestamp(struct eval *ev, double serial);
/* The number of characters (UTF-8) of s. */
int64_t script_utf8_len(const char *s);

/* A colour (alpha, red, green, blue from 0 to 255) as Qlik keeps one: the number with the
 * text RGB(r,g,b), or ARGB(a,r,g,b) when `argb` (fn_text.c). */
void script_colour(struct eval *ev, double c[4], bool argb, struct val *out);
/* The string and range functions (fn_text.c). */
extern const struct script_func script_text_functions[];
extern const size_t script_n_text_functions;
/* The inter-record, table and field functions (fn_table.c). */
extern const struct script_func script_table_functions[];
extern const size_t script_n_table_functions;
/* The file, QVD and system functions (fn_file.c). */
extern const struct script_func script_file_functions[];
extern const size_t script_n_file_functions;
/* FileList(pattern) and DirList(pattern) in FOR EACH: the files (or folders) of the
 * pattern's folder whose names match its last part (* and ?), as paths written like the
 * pattern ("lib://Data/a.csv"), sorted; *out (malloc'd, each text too) holds *n. */
NODISCARD int script_file_list(struct eval *ev, const struct expr *x, char ***out, int *n);
/* The files (dirs: folders) whose paths match `pattern` (* and ? in its last part), sorted,
 * each malloc'd (*out too); none when the folder is not there. */
NODISCARD int script_match_files(const struct reload_env *env, const char *pattern, bool dirs,
				 char ***out, int *n, struct err *e);

#endif
