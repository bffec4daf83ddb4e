/* fn_table.c: the functions that look at the reload's tables rather than at their
 * arguments alone: inter-record (Peek, Previous, Exists, IterNo), table (NoOfTables,
 * NoOfRows, NoOfFields, TableName, TableNumber, FieldName, FieldNumber) and field
 * (FieldValueCount, FieldValue, FieldIndex). They answer NULL where there are no tables
 * (chart expressions). */
#include "script/eval_int.h"

#include <math.h>
#include <string.h>

/* Argument i as a table: the one named, or (absent) the running LOAD's / the last one. */
static struct tbl *table_arg(struct eval *ev, const struct expr *x, const struct val *v, int i)
{
	if (!ev->table_named)
		return NULL;
	const char *name = script_text_arg(ev, x, v, i);
	if (i < x->n_args && !name)
		return NULL;
	return ev->table_named(ev->ctx, name);
}

/* Peek(field[, row[, table]]): the field's value in row `row` of the table (0 the first,
 * -1 the last, the default), or NULL when there is no such row or field. */
static int fn_peek(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	*out = script_null();
	double row = -1;
	if (x->n_args > 1 && !v[1].null && !script_val_number(&v[1], &row))
		return 0;
	struct tbl *t = table_arg(ev, x, v, 2);
	int f = t && !v[0].null ? data_tbl_field(t, script_tx(ev, &v[0]), false) : -1;
	int64_t r = script_whole(floor(row));
	if (f < 0)
		return 0;
	if (r < 0)
		r += t->n_rows;
	if (r >= 0 && r < t->n_rows)
		data_tbl_get(t, f, r, out);
	return 0;
}

/* Previous(expr): expr on the LOAD's previous input row. */
static int fn_previous(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)v;
	*out = script_null();
	return ev->previous ? ev->previous(ev->ctx, ev, x->args[0], out) : 0;
}

/* Exists(field[, expr]): whether the value (expr's, else the field's in the current row)
 * is already a value of the field in some table, the running LOAD's rows so far included. */
static int fn_exists(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)v;
	*out = script_bool(false);
	struct val name, val;
	/* the field is named bare (Exists(Id)) or as a text */
	int rc = x->args[0]->kind == EX_FIELD ? (name = script_text(x->args[0]->text), 0)
					      : script_eval(ev, x->args[0], &name);
	if (rc || name.null || !ev->table_at)
		return rc;
	const char *field = script_tx(ev, &name);
	if (x->n_args > 1) {
		rc = script_eval(ev, x->args[1], &val);
	} else {
		struct expr fx = {.kind = EX_FIELD, .text = field, .line = x->line, .col = x->col};
		rc = ev->field(ev->ctx, &fx, &val);
		if (rc == ERR_NOT_FOUND)
			return 0;
	}
	if (rc || val.null)
		return rc;
	struct tbl *t = ev->table_named ? ev->table_named(ev->ctx, NULL) : NULL;
	for (int i = 0; t || (t = ev->table_at(ev->ctx, i++));) {
		int f = data_tbl_field(t, field, false);
		if (f >= 0 && data_tbl_lookup(t, f, &val) >= 0) {
			*out = script_bool(true);
			return 0;
		}
		t = NULL;
	}
	return 0;
}

static int fn_iterno(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)x;
	(void)v;
	*out = script_num((double)(ev->iterno ? ev->iterno : 1));
	return 0;
}

enum {
	OP_NOOFTABLES,
	OP_NOOFROWS,
	OP_NOOFFIELDS,
	OP_TABLENAME,
	OP_TABLENUMBER,
	OP_FIELDNAME,
	OP_FIELDNUMBER
};

/* The tables of the data set. */
static int n_tables(struct eval *ev)
{
	int n = 0;
	while (ev->table_at && ev->table_at(ev->ctx, n))
		n++;
	return n;
}

/* NoOfTables(), NoOfRows(t), NoOfFields(t), TableName(n), TableNumber(t), FieldName(n, t),
 * FieldNumber(f, t). Numbers of tables and fields count from 0 and 1 as Qlik's do. */
static int fn_tables(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	*out = script_null();
	double n = 0;
	struct tbl *t;
	switch (x->fn->op) {
	case OP_NOOFTABLES: *out = script_num(n_tables(ev)); return 0;
	case OP_NOOFROWS:
	case OP_NOOFFIELDS:
		if ((t = table_arg(ev, x, v, 0)))
			*out =
			    script_num(x->fn->op == OP_NOOFROWS ? (double)t->n_rows : t->n_fields);
		return 0;
	case OP_TABLENAME:
		if (script_val_number(&v[0], &n) && n >= 0 && n < n_tables(ev) &&
		    (t = ev->table_at(ev->ctx, (int)n)))
			*out = script_text(t->name);
		return 0;
	case OP_TABLENUMBER:
		for (int i = 0; !v[0].null && i < n_tables(ev); i++)
			if (strcmp(ev->table_at(ev->ctx, i)->name, script_tx(ev, &v[0])) == 0)
				*out = script_num(i);
		return 0;
	case OP_FIELDNAME:
		if (script_val_number(&v[0], &n) && (t = table_arg(ev, x, v, 1)) && n >= 1 &&
		    n <= t->n_fields)
			*out = script_text(t->fields[(int)n - 1].name);
		return 0;
	default: {
		int f = !v[0].null && (t = table_arg(ev, x, v, 1))
			    ? data_tbl_field(t, script_tx(ev, &v[0]), false)
			    : -1;
		*out = script_num(f + 1);
		return 0;
	}
	}
}

enum { OP_COUNT, OP_VALUE, OP_INDEX };

/* FieldValueCount(f), FieldValue(f, n), FieldIndex(f, value): the distinct values of field
 * f in order of first load, over every table that has it. */
static int fn_field(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	*out = script_null();
	if (v[0].null || !ev->table_at)
		return 0;
	const char *field = script_tx(ev, &v[0]);
	struct tbl *all = data_tbl_new("values"), *t;
	if (!all || data_tbl_field(all, "v", true) < 0) {
		data_tbl_free(all);
		return err_set(ev->e, ERR_NOMEM, "out of memory");
	}
	int rc = 0;
	for (int i = 0; rc == 0 && (t = ev->table_at(ev->ctx, i)); i++) {
		int f = data_tbl_field(t, field, false);
		for (int64_t s = 0; f >= 0 && rc == 0 && s < t->fields[f].n_sym; s++) {
			struct val sv;
			data_tbl_symbol(t, f, s, &sv);
			rc = data_tbl_append(all, &sv, 1);
		}
	}
	double n;
	const struct tbl_field *af = &all->fields[0];
	if (rc == 0 && x->fn->op == OP_COUNT) {
		*out = script_num((double)af->n_sym);
	} else if (rc == 0 && x->fn->op == OP_VALUE) {
		if (script_val_number(&v[1], &n) && n >= 1 && n <= (double)af->n_sym) {
			struct val sv;
			data_tbl_symbol(all, 0, (int64_t)n - 1, &sv);
			*out = sv;
			if (sv.text)
				out->text = arena_strdup(ev->a, sv.text);
		}
	} else if (rc == 0) {
		*out = script_num(v[1].null ? 0 : (double)(data_tbl_lookup(all, 0, &v[1]) + 1));
	}
	data_tbl_free(all);
	return rc ? err_set(ev->e, ERR_NOMEM, "out of memory") : 0;
}

/* Lookup(field, match_field, match_value[, table]): field's value in the first row of the
 * table (the running LOAD's, or the one named) whose match_field holds match_value. */
static int fn_lookup(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	*out = script_null();
	struct tbl *t = table_arg(ev, x, v, 3);
	int f = t && !v[0].null ? data_tbl_field(t, script_tx(ev, &v[0]), false) : -1;
	int mf = f >= 0 && !v[1].null ? data_tbl_field(t, script_tx(ev, &v[1]), false) : -1;
	int64_t sym = mf >= 0 && !v[2].null ? data_tbl_lookup(t, mf, &v[2]) : -1;
	for (int64_t r = 0; sym >= 0 && r < t->n_rows; r++)
		if (t->fields[mf].index[r] == sym) {
			data_tbl_get(t, f, r, out);
			if (!out->null && out->text)
				out->text = arena_strdup(ev->a, out->text);
			break;
		}
	return 0;
}

enum { OP_FILENAME, OP_FILEBASENAME, OP_FILEEXTENSION, OP_FILEPATH, OP_FILEDIR };

/* FileName(), FileBaseName(), FileExtension(), FilePath(), FileDir() in a LOAD from a file:
 * that file's name, name without extension, extension, whole path and folder, from the path
 * as the script wrote it (lib://Data/sales.csv); NULL elsewhere. */
static int fn_file(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)v;
	*out = script_null();
	const char *p = ev->file;
	if (!p)
		return 0;
	const char *slash = strrchr(p, '/'), *back = strrchr(p, '\\');
	if (back && (!slash || back > slash))
		slash = back;
	const char *name = slash ? slash + 1 : p;
	const char *dot = strrchr(name, '.');
	switch (x->fn->op) {
	case OP_FILENAME: *out = script_text(name); break;
	case OP_FILEBASENAME:
		*out = script_text(dot ? arena_strndup(ev->a, name, (size_t)(dot - name)) : name);
		break;
	case OP_FILEEXTENSION: *out = script_text(dot ? dot + 1 : ""); break;
	case OP_FILEPATH: *out = script_text(p); break;
	default: *out = script_text(arena_strndup(ev->a, p, slash ? (size_t)(slash - p) : 0));
	}
	return 0;
}

const struct script_func script_table_functions[] = {
    SCALAR("Peek", 1, 3, fn_peek, 0),
    {"Previous", 1, 1, SCRIPT_FN_SCALAR, fn_previous, 0, true},
    {"Exists", 1, 2, SCRIPT_FN_SCALAR, fn_exists, 0, true},
    SCALAR("IterNo", 0, 0, fn_iterno, 0),
    SCALAR("NoOfTables", 0, 0, fn_tables, OP_NOOFTABLES),
    SCALAR("NoOfRows", 1, 1, fn_tables, OP_NOOFROWS),
    SCALAR("NoOfFields", 1, 1, fn_tables, OP_NOOFFIELDS),
    SCALAR("TableName", 1, 1, fn_tables, OP_TABLENAME),
    SCALAR("TableNumber", 1, 1, fn_tables, OP_TABLENUMBER),
    SCALAR("FieldName", 2, 2, fn_tables, OP_FIELDNAME),
    SCALAR("FieldNumber", 2, 2, fn_tables, OP_FIELDNUMBER),
    SCALAR("FieldValueCount", 1, 1, fn_field, OP_COUNT),
    SCALAR("FieldValue", 2, 2, fn_field, OP_VALUE),
    SCALAR("FieldIndex", 2, 2, fn_field, OP_INDEX),
    SCALAR("Lookup", 3, 4, fn_lookup, 0),
    SCALAR("FileName", 0, 0, fn_file, OP_FILENAME),
    SCALAR("FileBaseName", 0, 0, fn_file, OP_FILEBASENAME),
    SCALAR("FileExtension", 0, 0, fn_file, OP_FILEEXTENSION),
    SCALAR("FilePath", 0, 0, fn_file, OP_FILEPATH),
    SCALAR("FileDir", 0, 0, fn_file, OP_FILEDIR),
};

const size_t script_n_table_functions =
    sizeof(script_table_functions) / sizeof(script_table_functions[0]);
