/* script.h: the load script language: splitting a script into statements, and parsing one
 * statement (after its dollar-sign expansion) into a tree. Running statements is the
 * reload's work; this file only reads them. Syntax: ../shared/api/engine.md section 3.
 *
 * A script is split once (script_split): each piece is one statement's raw text with the
 * line and column where it starts. Because `$(var)` is replaced as text before a statement
 * is read, and variables change as the script runs, each statement is parsed only when it
 * is reached (script_parse). Every error names the line and column in the script.
 *
 * Everything a parse returns lives in the arena it was given. */
#ifndef FATHOM_SCRIPT_H
#define FATHOM_SCRIPT_H

#include "core/core.h"

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

struct expr {
	enum expr_kind kind;
	int op;
	double num;
	const char *text; /* literal text, field name, or function name (as written) */
	struct expr **args;
	int n_args;
	bool distinct;
	int line, col;
	int slot; /* EX_FIELD: where the reload found the field last (1-based; 0 = not yet) */
	struct set_expr *set; /* EX_CALL: an aggregation's set expression, or NULL */
};

/* ---------------------------------------------------------------- statements */

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
	ST_TRACE,
	ST_IF,
	ST_ELSEIF,
	ST_ELSE,
	ST_END_IF,
	ST_FOR,	     /* var = from TO to [STEP step] */
	ST_FOR_EACH, /* var IN list */
	ST_NEXT,
	ST_SUB, /* name(params) */
	ST_END_SUB,
	ST_CALL, /* name(args) */
	ST_EXIT, /* what: SCRIPT, FOR, SUB, DO; cond for WHEN */
	ST_DO,	 /* [WHILE|UNTIL cond] */
	ST_LOOP, /* [WHILE|UNTIL cond] */
	ST_EMPTY,
};

enum load_source { SRC_FILE, SRC_INLINE, SRC_RESIDENT, SRC_AUTOGENERATE, SRC_PRECEDING };
enum load_join { JOIN_NONE, JOIN_OUTER, JOIN_INNER, JOIN_LEFT, JOIN_RIGHT };
enum labels { LABELS_EMBEDDED, LABELS_EXPLICIT, LABELS_NONE };

/* A file's or inline data's format specification. */
struct format {
	bool qvd;	    /* (qvd); else delimited text */
	enum labels labels; /* default embedded */
	char delimiter;	    /* default ','; ' ' for 'spaces' */
	int codepage;	    /* 65001 utf8 (default), 1252 ansi, 28591, ... */
	bool msq;	    /* modern-style quoting */
	bool no_quotes;
	int header_lines;
};

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
	const char *label; /* the table label before a LOAD, or NULL */
	const char *name;  /* SET/LET/FOR/SUB/CALL/EXIT: the variable, sub or what */
	const char *raw;   /* SET: the value as written; TRACE: the text */
	struct expr *expr; /* LET, IF, ELSEIF, EXIT WHEN, DO/LOOP conditions, FOR from */
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

#endif
