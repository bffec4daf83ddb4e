/* engine_query.c: the engine's answers to hypercube queries, for the differential test
 * against DuckDB (tests/diff/diff.test.mjs).
 *
 *   engine_query APPFILE < QUERIES > ANSWERS
 *
 * Each line of QUERIES is a JSON object {"dims": [field, ...], "measures": [expression,
 * ...], "select": {field: [text, ...], ...}}; each line of ANSWERS is that cube's rows
 * computed over the selection, [[dimension text, ..., measure number or null, ...], ...],
 * or {"error": why}. The app opens as the engine opens it (app file -> tables -> model). */
#include "data/data.h"
#include "model/model.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what, const char *why)
{
	fprintf(stderr, "engine_query: %s: %s\n", what, why);
	return 1;
}

/* Selects the listed texts of each field of `select`; NULL, or why not. */
static const char *select_texts(const struct assoc *a, json_t *select, struct assoc_sel *sel)
{
	const char *field;
	json_t *texts;
	json_object_foreach (select, field, texts) {
		int f = model_assoc_field(a, field);
		if (f < 0)
			return "a selection names a field the app does not have";
		int64_t *syms = calloc(json_array_size(texts) + 1, sizeof(int64_t));
		int n = 0;
		size_t i;
		json_t *t;
		json_array_foreach (texts, i, t) {
			int64_t s = syms && json_is_string(t)
					? model_assoc_find(a, f, json_string_value(t))
					: -1;
			if (s >= 0)
				syms[n++] = s;
		}
		int rc = syms ? model_assoc_select(a, sel, f, syms, n) : ERR_NOMEM;
		free(syms);
		if (rc)
			return "out of memory";
	}
	return NULL;
}

/* The answer to one query (a new JSON value). */
static json_t *answer(const struct assoc *a, json_t *q)
{
	json_t *dims = json_object_get(q, "dims"), *measures = json_object_get(q, "measures");
	size_t nd = json_array_size(dims), nm = json_array_size(measures);
	const char **names = calloc(nd + nm + 1, sizeof(char *));
	struct assoc_sel sel = {0};
	if (!names || model_assoc_sel_init(a, &sel) != 0) {
		free(names);
		return json_pack("{s:s}", "error", "out of memory");
	}
	for (size_t i = 0; i < nd; i++)
		names[i] = json_string_value(json_array_get(dims, i));
	for (size_t i = 0; i < nm; i++)
		names[nd + i] = json_string_value(json_array_get(measures, i));
	struct cube_def def = {
	    .dims = names, .n_dims = (int)nd, .measures = names + nd, .n_measures = (int)nm};
	const char *why = select_texts(a, json_object_get(q, "select"), &sel);
	struct cube *c = NULL;
	struct err e;
	err_init(&e);
	json_t *out = NULL;
	if (why)
		out = json_pack("{s:s}", "error", why);
	else if (model_cube_compute(a, &sel, &def, &c, &e) != 0)
		out = json_pack("{s:s}", "error", e.message);
	for (int64_t r = 0; c && r < c->n_rows; r++) {
		json_t *row = json_array();
		for (int k = 0; k < c->n_cols; k++) {
			const struct val *v = &c->cells[r * c->n_cols + k].v;
			char b[64];
			if (k < (int)nd)
				json_array_append_new(row,
						      json_string(data_val_text(v, b, sizeof(b))));
			else
				json_array_append_new(
				    row, v->null || !v->has_num ? json_null() : json_real(v->num));
		}
		if (!out)
			out = json_array();
		json_array_append_new(out, row);
	}
	if (!out)
		out = json_array();
	model_cube_free(c);
	model_assoc_sel_release(&sel);
	free(names);
	return out;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: engine_query APPFILE < QUERIES > ANSWERS\n");
		return 2;
	}
	struct err e;
	err_init(&e);
	struct appfile *f = NULL;
	struct data_set *m = NULL;
	struct assoc *a = NULL;
	if (data_appfile_read_file(argv[1], &f, &e) != 0 ||
	    data_set_from_app(f, APPFILE_TABLE, DATA_SET_MODEL, &m, &e) != 0 ||
	    model_assoc_build(m, &a, &e) != 0)
		return fail(argv[1], e.message);
	data_appfile_free(f);
	data_set_free(m);
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, stdin)) > 0) {
		json_error_t je;
		json_t *q = json_loadb(line, (size_t)n, 0, &je);
		json_t *ans =
		    json_is_object(q) ? answer(a, q) : json_pack("{s:s}", "error", je.text);
		char *text = json_dumps(ans, JSON_COMPACT);
		if (!text)
			return fail("answer", "out of memory");
		puts(text);
		free(text);
		json_decref(ans);
		json_decref(q);
	}
	free(line);
	model_assoc_free(a);
	return 0;
}
