/* script_int.h: the state of a running reload, shared by the files of the reload (reload.c
 * runs the statements; join.c JOIN, KEEP and ORDER BY; statements.c STORE, DROP and
 * RENAME). Not for other modules. */
#ifndef FATHOM_SCRIPT_INT_H
#define FATHOM_SCRIPT_INT_H

#include "script/script.h"

#define MAX_FILE       (4ULL << 30) /* the largest file a script reads whole or writes */
#define MAX_SOURCE     (1ULL << 40) /* the largest file a LOAD reads (mapped, not copied) */
#define MAX_LOOPS      32	    /* FOR and DO loops open at once */
#define MAX_CALL_DEPTH 64
#define MAX_PRECEDING  16 /* preceding loads waiting for their source */

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
	double started; /* the reload's start: a timestamp serial in local time */
	struct err *e;
	struct data_set *m;
	struct var *vars;
	int n_vars, cap_vars;
	struct mapping *maps;
	int n_maps;
	struct tbl *last;    /* the table the last LOAD created or extended */
	bool access_section; /* after SECTION ACCESS: new tables are access tables */
	/* QUALIFY and UNQUALIFY patterns in the order given: the last that matches wins */
	struct qual {
		char *pattern;
		bool on;
	} * quals;
	int n_quals;
	int unnamed; /* counter for generated table names */
	/* AutoNumber's counters: one table of one field each, its symbols the keys in order */
	struct tbl **autonum;
	int n_autonum;
	/* the current LOAD */
	struct tbl *src;
	struct tbl *out;       /* its output so far (Peek without a table) */
	int64_t row, prev_row; /* the input row, and the one before that WHERE kept (-1) */
	int64_t *group;
	struct arena *row_arena;
	/* DECLARE FIELD DEFINITION statements (parsed into the run's arena), by label */
	const struct stmt **decls;
	int n_decls;
	/* ALIAS (field -> name), MAP ... USING (field or "*" -> mapping), NULLASVALUE and
	 * NULLASNULL in order (pattern -> "1" or "0"), in fieldrules.c; DIRECTORY's folder */
	struct field_rule {
		char *field, *value;
	} * aliases, *maps_on, *null_as;
	int n_aliases, n_maps_on, n_null_as;
	char *directory;
	char *connection; /* the connection LIB CONNECT TO named (ConnectString), or NULL */
	/* TAG FIELD: tags given to fields by name (UNTAG removes them) */
	struct field_tag {
		char *field, *tag;
	} * tags;
	int n_tags;
};

/* One line of the reload log. */
void script_log(struct run *r, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* Sets e to "line L, column C: ..." at statement s; returns code. */
int script_err(struct run *r, const struct stmt *s, int code, const char *fmt, ...)
    PRINTF_LIKE(4, 5);

/* The model's tables and mapping tables (reload.c). */
NODISCARD int script_add_table(struct run *r, struct tbl *t);
/* SECTION ACCESS: the access tables' field names and texts in upper case, as Qlik compares
 * them (a table is rebuilt when something in it is not). */
NODISCARD int script_access_upper(struct run *r);
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

/* ---- run.c: variables, expressions outside tables, and the run's end */

const char *script_var_get(const struct run *r, const char *name);
NODISCARD int script_var_set(struct run *r, const char *name, const char *value);
/* Evaluates an expression outside any table (LET, IF, FOR bounds, $(=...)). */
NODISCARD int script_eval_free(struct run *r, struct expr *x, struct arena *a, struct val *out);
/* FileList(pattern) or DirList(pattern) outside any table: the paths (script_file_list). */
NODISCARD int script_list_free(struct run *r, struct expr *x, struct arena *a, char ***out, int *n);
/* Replaces $(name) and $(=expr) in `text` (at line:col of the script) into *out, in `a`. */
NODISCARD int script_expand(struct run *r, const char *text, int line, int col, struct arena *a,
			    int depth, char **out);
/* A variable's text (a struct eval's `variable`; ctx is the run), or NULL. */
const char *script_variable(void *ctx, const char *name);
/* ApplyMap over the run's mapping tables (a struct eval's `mapping`; ctx is the run). */
struct tbl *script_map_table(void *ctx, const char *map);
int script_apply_map(void *ctx, const char *map, const struct val *key, struct val *out,
		     bool *found);
/* AutoNumber's counters (struct eval's autonumber; ctx is the run). */
int script_autonumber(void *ctx, const char *id, const struct val *key, int64_t *out);
/* The reload's tables for an expression (struct eval's table_at and table_named; ctx is
 * the run). */
struct tbl *script_table_at(void *ctx, int i);
struct tbl *script_table_named(void *ctx, const char *name);
/* Frees the variables, mapping tables and QUALIFY patterns (not the data set). */
void script_run_release(struct run *r);

/* ---- load.c */

/* Runs a LOAD. `given`: its source is this table (a preceding load's input) instead of
 * what the statement names. `temp_out`: the rows go to a new table handed back there,
 * outside the data set (the input of a preceding load), instead of their destination. */
NODISCARD int script_load(struct run *r, const struct stmt *s, struct tbl *given,
			  struct tbl **temp_out);
/* BINARY: the tables of another app's file (through env->open, as a LOAD reaches files)
 * become the data model's first tables; only before the script has made a table. */
NODISCARD int script_binary(struct run *r, const struct stmt *s);
/* The whole text of a file the script names (an included script), in `a`. */
NODISCARD int script_read_text(struct run *r, const struct stmt *s, const char *path,
			       struct arena *a, char **out);
/* QUALIFY and UNQUALIFY. */
NODISCARD int script_qualify(struct run *r, const struct stmt *s);
/* DECLARE FIELD DEFINITION (kept by its label) and DERIVE FIELDS (derive.c). */
NODISCARD int script_declare(struct run *r, const struct stmt *s);
NODISCARD int script_derive(struct run *r, const struct stmt *s);
/* ALIAS, MAP/UNMAP, NULLASVALUE/NULLASNULL, DIRECTORY (fieldrules.c), and what LOAD and
 * STORE ask of them: a path with DIRECTORY's folder before it (a relative one), the name a
 * field is loaded under, whether a field's values are changed as they are loaded, and
 * that change. */
NODISCARD int script_alias(struct run *r, const struct stmt *s);
NODISCARD int script_map(struct run *r, const struct stmt *s);
NODISCARD int script_nullas(struct run *r, const struct stmt *s);
NODISCARD int script_directory(struct run *r, const struct stmt *s);
/* LIB CONNECT TO name (and CONNECT, ODBC CONNECT ...): the connection ConnectString()
 * gives from now on; DISCONNECT: none. */
NODISCARD int script_connect(struct run *r, const struct stmt *s);
const char *script_path(const struct run *r, const char *path, char *buf, size_t n);
const char *script_alias_of(const struct run *r, const char *field);
bool script_field_has_rules(const struct run *r, const char *field);
NODISCARD int script_field_value(struct run *r, const char *field, struct val *v, struct arena *a);
void script_field_rules_free(struct run *r);
/* TAG FIELD and UNTAG FIELD (derive.c). */
NODISCARD int script_tag(struct run *r, const struct stmt *s);

/* ---- control.c and reload.c: the script as it runs, statement by statement */

struct loop {
	bool is_do; /* DO ... LOOP; else FOR ... NEXT */
	int opener; /* the DO or FOR */
	int start;  /* the piece after it */
	const char *var;
	double value, to, step;
	char **texts; /* FOR EACH: the values */
	int n_items, at;
};

/* A CALL in progress: where to go back to, the loops open when it was made, and the
 * variables its parameters hid. */
struct call {
	int ret;
	int n_loops;
	int n_params;
	char *param[16], *saved[16]; /* saved NULL: the variable did not exist */
};

struct prog {
	struct run *r;
	struct script_piece *pc;
	struct stmt **st; /* control statements parsed; others are placeholders */
	int n;
	int *pair; /* each block opener's closer and back */
	int i;	   /* the piece running: an executor that jumps sets it (it is advanced after) */
	struct loop loops[MAX_LOOPS];
	int n_loops;
	struct call calls[MAX_CALL_DEPTH];
	int n_calls;
	struct stmt *pending[MAX_PRECEDING]; /* preceding loads waiting for their source */
	int n_pending;
	int n_includes;	  /* $(Include=...) spliced in so far */
	struct arena *ea; /* the running statement's, freed after it */
};

/* Runs statement s (the piece p->i). */
typedef int (*script_exec_fn)(struct prog *p, struct stmt *s);

/* The control statements' executors, by kind (NULL: not a control statement). */
extern const script_exec_fn script_control_executors[ST_N_KINDS];
/* Pairs the blocks of st[0..n) in pair[] (IF ... END IF, FOR ... NEXT, DO ... LOOP, SUB
 * ... END SUB), or says which one is not closed. */
NODISCARD int script_pair_blocks(struct run *r, struct stmt **st, int n, int *pair);
void script_loop_free(struct loop *lp);
/* Leaves a CALL: the parameters' variables get their values from before it back. */
int script_call_return(struct run *r, struct call *c);

#endif
