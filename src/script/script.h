/* script.h: the load script: its parser, the evaluator of its expressions, and the reload
 * that runs it into a data set (data/data.h). Design notes: src/script/README.md. */
#ifndef FATHOM_SCRIPT_H
#define FATHOM_SCRIPT_H

#include "data/data.h"

/* ================================================================ the language (script.c) */

/* the load script language: splitting a script into statements, and parsing one
 * statement (after its dollar-sign expansion) into a tree. Running statements is the
 * reload's work; this file only reads them. Syntax: ../shared/api/engine.md section 3.
 *
 * A script is split once (script_split): each piece is one statement's raw text with the
 * line and column where it starts. Because `$(var)` is replaced as text before a statement
 * is read, and variables change as the script runs, each statement is parsed only when it
 * is reached (script_parse). Every error names the line and column in the script.
 *
 * Everything a parse returns lives in the arena it was given. */

/* ---------------------------------------------------------------- splitting */

struct script_piece {
	const char *text; /* the statement without its ';' (NUL-terminated, in the arena) */
	int line, col;	  /* where it starts, 1-based */
	bool control;	  /* IF/FOR/SUB/...: ends at the end of its line */
};

/* Splits `src` into statements, dropping comments (// to end of line, unless it follows a
 * ':' as in lib://, block comments, and REM statements). ERR_INVALID for an unterminated
 * string, name or comment, with e->position set to the offset and the message naming line
 * and column. */
NODISCARD int script_split(const char *src, struct arena *a, struct script_piece **out, int *n_out,
			   struct err *e);

/* ---------------------------------------------------------------- expressions */

enum expr_kind {
	EX_NUM,	   /* num; text keeps the literal as written */
	EX_STR,	   /* 'text' */
	EX_FIELD,  /* name */
	EX_CALL,   /* name(args); distinct for Count(DISTINCT x) */
	EX_STAR,   /* the * of Count(*) */
	EX_UNARY,  /* op: '-' or 'n' (NOT) */
	EX_BINARY, /* op below */
};

/* Binary operators: the character, or these codes for the longer ones. */
enum expr_op {
	OP_LE = 256,
	OP_GE,
	OP_NE,
	OP_AND,
	OP_OR,
	OP_XOR,
	OP_LIKE,
	OP_BITAND,
	OP_BITOR,
	OP_BITXOR,
	OP_BITNOT,
};

/* Set analysis on an aggregation: {1}, {$}, {<F={...}, G=>}, {1<...>}. */
struct set_mod {
	const char *field;
	const char **values; /* as written: 'exact', "search*" or a bare number */
	bool *search;	     /* per value: it was in double quotes (wildcards, any case) */
	int n_values;	     /* 0 with clear: F= (no selection in F) */
	bool clear;
};

struct set_expr {
	char ident; /* '1' all data, '$' the current selection */
	struct set_mod *mods;
	int n_mods;
};

struct script_func;

struct expr {
	enum expr_kind kind;
	int op;
	double num;
	const char *text; /* literal text, field name, or function name (as written) */
	struct expr **args;
	int n_args;
	bool distinct;
	/* EX_CALL: TOTAL before the aggregation's argument: over every row of the chart, or
	 * with fields (TOTAL <F, G>) over the rows that share the current row's values of them */
	bool total;
	const char **total_fields;
	int n_total_fields;
	int line, col;
	int slot; /* EX_FIELD: where the reload found the field last (1-based; 0 = not yet) */
	struct set_expr *set;	      /* EX_CALL: an aggregation's set expression, or NULL */
	const struct script_func *fn; /* EX_CALL: the function, resolved when parsed; NULL:
					 no such function (an error when evaluated) */
};

/* ---------------------------------------------------------------- statements */

/* Whether x calls an inter-record function (Above, Below, Top, Bottom, Column): a chart
 * evaluates it once its rows are sorted. */
bool script_expr_interrow(const struct expr *x);
/* Where chart_row looks (Above, Below, Top, Bottom). */
enum { SCRIPT_ROW_ABOVE, SCRIPT_ROW_BELOW, SCRIPT_ROW_TOP, SCRIPT_ROW_BOTTOM };

enum stmt_kind {
	ST_LOAD,
	ST_SET,		/* name = raw text */
	ST_LET,		/* name = expression */
	ST_DROP_TABLES, /* names */
	ST_DROP_FIELDS, /* names [FROM tables] */
	ST_RENAME_TABLE,
	ST_RENAME_FIELD,
	ST_STORE,
	ST_QUALIFY,
	ST_UNQUALIFY,
	ST_DECLARE,   /* label: the definition; names: its tags; load.items: its fields */
	ST_DERIVE,    /* name: the definition; names: fields, or from: tags, or until: implicit */
	ST_TAG,	      /* names: fields; from: tags; until: UNTAG */
	ST_CONNECT,   /* LIB CONNECT TO, CONNECT, DISCONNECT: raw: the statement as written */
	ST_ALIAS,     /* names: from, to, from, to, ... */
	ST_MAP,	      /* names: fields ("*" all); name: the mapping; until: UNMAP */
	ST_NULLAS,    /* names: field patterns; until: NULLASNULL */
	ST_DIRECTORY, /* raw: the folder later relative paths are in ("" none) */
	ST_BINARY,    /* raw: the app file whose tables the data model starts with */
	ST_SECTION,   /* until: SECTION ACCESS (else SECTION APPLICATION) */
	ST_NOTED,     /* COMMENT, STAR, FORCE, SEARCH: logged, no effect */
	ST_TRACE,
	ST_SLEEP, /* expr: milliseconds */
	ST_IF,
	ST_ELSEIF,
	ST_ELSE,
	ST_END_IF,
	ST_FOR,	     /* var = from TO to [STEP step] */
	ST_FOR_EACH, /* var IN list */
	ST_NEXT,
	ST_SUB, /* name(params) */
	ST_END_SUB,
	ST_CALL,   /* name(args) */
	ST_EXIT,   /* what: SCRIPT, FOR, SUB, DO; cond for WHEN */
	ST_DO,	   /* [WHILE|UNTIL cond] */
	ST_LOOP,   /* [WHILE|UNTIL cond] */
	ST_SWITCH, /* expr */
	ST_CASE,   /* args: the values */
	ST_DEFAULT,
	ST_END_SWITCH,
	ST_EMPTY,
	ST_N_KINDS /* how many kinds there are */
};

enum load_source { SRC_FILE, SRC_INLINE, SRC_RESIDENT, SRC_AUTOGENERATE, SRC_PRECEDING };
enum load_join { JOIN_NONE, JOIN_OUTER, JOIN_INNER, JOIN_LEFT, JOIN_RIGHT };
struct load_item {
	struct expr *expr; /* NULL for * */
	const char *as;	   /* alias, or NULL */
	const char *text;  /* the expression as written (an unaliased item's field name) */
};

struct load {
	bool mapping, distinct, concatenate, noconcatenate, keep;
	enum load_join join; /* with keep: INNER, LEFT or RIGHT */
	const char *target;  /* the (Table) of CONCATENATE/JOIN/KEEP, or NULL */
	struct load_item *items;
	int n_items;
	enum load_source source;
	const char *path;	 /* SRC_FILE: as written; SRC_RESIDENT: the table */
	const char *inline_data; /* SRC_INLINE: the text between the brackets */
	struct expr *count;	 /* SRC_AUTOGENERATE */
	struct format format;
	struct expr *where, *while_;
	struct expr *first; /* FIRST n: at most n rows */
	bool partial_only;  /* ADD ONLY or REPLACE ONLY: runs in partial reloads alone */
	/* CROSSTABLE(attribute, data, n): the output's fields after the first n become rows
	 * of (attribute = the field's name, data = its value); NULL: none */
	const char *cross_attr, *cross_data;
	int cross_keep;
	/* INTERVALMATCH(field[, key, ...]): the LOAD's first two fields are intervals' bounds;
	 * the output holds each loaded value of `field` (with its keys) with every interval
	 * that holds it; im[0] is the field, im[1..] the keys; NULL: none */
	const char **im;
	int n_im;
	/* GENERIC: the LOAD's last two fields are an attribute and its value; each attribute
	 * becomes a table of its own (label.attribute) of the other fields and the value */
	bool generic;
	/* HIERARCHY(NodeID, ParentID, NodeName[, ParentName[, PathSource[, PathName[,
	 * PathDelimiter[, Depth]]]]]): the eight names (NULL where not given); hier[0] NULL:
	 * none */
	const char *hier[8];
	/* HIERARCHYBELONGSTO(NodeID, ParentID, NodeName, AncestorID, AncestorName[,
	 * DepthDiff]): the names are in hier[0..5] */
	bool belongs;
	const char **group_by;
	int n_group_by;
	const char **order_by;
	bool *order_desc;
	int n_order_by;
};

struct store {
	const char *table;
	struct load_item *items; /* NULL for the whole table */
	int n_items;
	const char *path;
	struct format format;
};

struct stmt {
	enum stmt_kind kind;
	int line, col;
	struct expr *when; /* WHEN or UNLESS prefix: its condition, or NULL */
	bool unless;
	const char *label; /* the table label before a LOAD, or NULL */
	const char *name;  /* SET/LET/FOR/SUB/CALL/EXIT: the variable, sub or what */
	const char *raw;   /* SET: the value as written; TRACE: the text */
	struct expr *expr; /* LET, SLEEP, IF, ELSEIF, EXIT WHEN, DO/LOOP conditions, FOR from */
	struct expr *to, *step;
	bool until;	    /* DO/LOOP UNTIL rather than WHILE */
	const char **names; /* DROP, QUALIFY, SUB params, RENAME (from, to) */
	int n_names;
	const char **from; /* DROP FIELDS ... FROM tables */
	int n_from;
	struct expr **args; /* CALL arguments, FOR EACH values */
	int n_args;
	struct load load;
	struct store store;
};

/* Parses one statement's text (already dollar-expanded) that starts at line:col of the
 * script. ERR_INVALID with "line L, column C: ..." and e->position (1-based offset in
 * `text`) for a syntax error. */
NODISCARD int script_parse(const char *text, int line, int col, bool control, struct arena *a,
			   struct stmt **out, struct err *e);

/* ================================================================ expressions (eval.c) */

/* evaluating script expressions over one row, or over a group of rows for the
 * aggregations of LOAD ... GROUP BY. NULL and dual rules: ../shared/api/engine.md 4.3.
 *
 * Threads: one evaluation per struct eval at a time. */

/* One field's values and their states (struct eval's field_view), numbered as the model's
 * states (model.h's enum assoc_state). */
enum field_state { FIELD_O = 0, FIELD_S, FIELD_A, FIELD_X, FIELD_XS };
struct field_view {
	const char *name;
	int64_t n;
	const struct val *sym; /* NULL: the values are the whole numbers base, base + 1, ... */
	double base;
	const uint8_t *state;
};

/* Value i of a field view. */
static inline struct val field_view_value(const struct field_view *fv, int64_t i)
{
	return fv->sym ? fv->sym[i] : (struct val){.has_num = true, .num = fv->base + (double)i};
}

struct eval {
	struct arena *a; /* texts of results; the caller frees it when the row is done */
	struct err *e;
	void *ctx;
	/* A field of the current row: 0, or ERR_NOT_FOUND. May cache a slot in x->slot. */
	int (*field)(void *ctx, struct expr *x, struct val *out);
	/* ApplyMap: *found false when the map has no such key; ERR_NOT_FOUND: no such map. */
	int (*mapping)(void *ctx, const char *map, const struct val *key, struct val *out,
		       bool *found);
	/* MapSubString: the mapping table (keys in field 0, values in field 1), or NULL. */
	struct tbl *(*mapping_table)(void *ctx, const char *map);
	/* A variable's text (LET's expressions may name variables); NULL when unset. */
	const char *(*variable)(void *ctx, const char *name);
	/* Aggregation: the rows of the current group; set_row makes row i current. */
	int64_t n_group;
	void (*set_row)(void *ctx, int64_t i);
	/* Set analysis: makes the group's rows under `set` the current group (*n of them);
	 * restore_group goes back. NULL where set analysis has no meaning (scripts). */
	int (*set_group)(void *ctx, const struct set_expr *set, int64_t *n);
	/* TOTAL (x->total): makes every row of the chart (under x's set, if any), or with
	 * x's TOTAL <fields> those sharing the current row's values of them, the current group
	 * (*n of them); restore_group goes back. NULL outside charts. */
	int (*total_group)(void *ctx, const struct expr *x, int64_t *n);
	/* Charts' inter-record functions, once the chart's rows are sorted (NULL elsewhere:
	 * they answer NULL): x evaluated on the row `offset` above or below the current one,
	 * or from the top or the bottom of its column segment (the whole column with TOTAL);
	 * and the current row's measure n (Column, from 1). */
	int (*chart_row)(void *ctx, int how, bool total, int64_t offset, const struct expr *x,
			 struct val *out);
	int (*chart_column)(void *ctx, int64_t n, struct val *out);
	/* The chart's dimension i (from 0), as its field, or NULL (GetObjectField). */
	const char *(*chart_dimension)(void *ctx, int64_t i);
	/* A TOTAL aggregation's value is the same for every row that shares its total: the
	 * chart keeps it (put) and gives it back (get: false when it has none). May be NULL. */
	bool (*total_get)(void *ctx, const struct expr *x, struct val *out);
	void (*total_put)(void *ctx, const struct expr *x, const struct val *v);
	void (*restore_group)(void *ctx);
	int64_t recno, rowno;
	int64_t iterno;	  /* LOAD ... WHILE: the round of the current input row (from 1) */
	const char *file; /* a LOAD from a file: its path as written (FileName() ...), or NULL */
	/* The reload's environment (files for FileSize(), the Qvd functions and FileList();
	 * the document for DocumentPath()), and when it started (a timestamp serial, for
	 * ReloadTime()); NULL and 0 in chart expressions. */
	const struct reload_env *env;
	double reload_time;
	const char *connection; /* ConnectString(): the last LIB CONNECT TO's, or NULL */
	const char *date_format;
	/* The reload's tables, for the inter-record and table functions (NULL elsewhere):
	 * table i of the data set (NULL past the last); the table named `name`, or for NULL
	 * the running LOAD's output so far, else the last one loaded. */
	struct tbl *(*table_at)(void *ctx, int i);
	struct tbl *(*table_named)(void *ctx, const char *name);
	/* Previous(x): x evaluated on the LOAD's previous input row that WHERE kept; *out is
	 * NULL on the first. */
	int (*previous)(void *ctx, struct eval *ev, struct expr *x, struct val *out);
	/* AutoNumber: the number of `key` in counter `id` (1, 2, ... in order of first
	 * appearance over the whole reload); NULL elsewhere. */
	int (*autonumber)(void *ctx, const char *id, const struct val *key, int64_t *out);
	bool in_aggr; /* inside an aggregation's argument */
	/* Charts: field `name` (or, name NULL, field number i) of the data model with the
	 * state of each of its values under the selection (enum field_state); false when there
	 * is no such field. NULL in scripts. */
	bool (*field_view)(void *ctx, int i, const char *name, struct field_view *out);
	/* A LOAD's columns (may_split): SubField with two arguments makes one output row per
	 * part. Each such call (by its node) has a slot: the part it gives now and how many
	 * parts its text has; the LOAD goes through every combination of the slots. Elsewhere
	 * it gives the first part. */
	bool may_split;
	struct {
		const struct expr *x;
		int64_t at, count;
	} split[8];
	int n_split;
};

/* Evaluates x. Errors (ERR_INVALID) name the line and column of the offending part:
 * an unknown field or function, a wrong number of arguments, an aggregation outside
 * GROUP BY. */
NODISCARD int script_eval(struct eval *ev, struct expr *x, struct val *out);

/* The function library (eval.c): one table of name, arity, kind and implementation. */
enum script_fn_kind {
	SCRIPT_FN_SCALAR, /* a value from its arguments */
	SCRIPT_FN_AGGR,	  /* over the rows of a group (GROUP BY, or a chart's dimension) */
	SCRIPT_FN_CHART,  /* only in chart expressions */
};
/* Whether x holds an aggregation (outside set analysis: at any depth). */
bool script_expr_aggregates(const struct expr *x);
/* The function named `name` (any case), or NULL. The parser resolves calls with it. */
const struct script_func *script_func_find(const char *name);
/* Every function, for tests and documentation. */
void script_func_list(void (*each)(void *ctx, const char *name, enum script_fn_kind kind,
				   int min_args, int max_args),
		      void *ctx);

/* Case-insensitive wildcard match: * any run, ? one character. */
bool script_eval_like(const char *s, const char *pattern);
/* True for a value that counts as true: a number other than 0 (NULL is false). */
bool script_val_true(const struct val *v);
/* A value's number, reading its text as a number when it has none. */
bool script_val_number(const struct val *v, double *out);

/* ================================================================ the reload (reload.c) */

/* running a load script: statement by statement, each dollar-expanded with the
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
 * Files are reached only through env->open, which opens lib://Connection/path inside that
 * connection's folder (and refuses paths that escape it, at the moment of the open).
 *
 * Threads: one reload per thread; no shared state. */

struct reload_env {
	void *ctx;
	/* Opens what a script path names: for a read, *fd is the file; for a write (STORE),
	 * *fd is the folder the file goes into (for file_write_atomic_at) and `leaf` its
	 * name. ERR_FORBIDDEN or ERR_NOT_FOUND with a message. */
	int (*open)(void *ctx, const char *path, bool for_write, int *fd, char *leaf, size_t n,
		    struct err *e);
	/* One line of the reload log (TRACE, and what each statement did). May be NULL. */
	void (*log)(void *ctx, const char *line);
	int64_t max_rows; /* per table; 0: no limit */
	/* What DocumentPath(), DocumentName() and DocumentTitle() answer (NULL: nothing). */
	const char *doc_path, *doc_title;
};

/* Runs `script`. On failure nothing is kept: *out is NULL and e says where (line and
 * column) and what. Caller frees *out with data_set_free. */
NODISCARD int script_run(const char *script, const struct reload_env *env, struct data_set **out,
			 struct err *e);

#endif
