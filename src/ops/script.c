/* script.c: `fathom script functions`: the functions the load script and chart expressions
 * know, from the engine's own table, as a Markdown table (docs/script-functions.md is made
 * from it by scripts/gen-functions-doc.sh). */
#include "ops/ops_int.h"
#include "script/script.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: fathom script functions\n"
    "\n"
    "Prints every function of the load script and chart expressions, with its kind and\n"
    "how many arguments it takes, as a Markdown table sorted by name.\n";

struct fn_row {
	const char *name;
	enum script_fn_kind kind;
	int lo, hi;
};

struct fn_rows {
	struct fn_row *rows;
	size_t n, cap;
	bool failed;
};

static void add_row(void *ctx, const char *name, enum script_fn_kind kind, int lo, int hi)
{
	struct fn_rows *r = ctx;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 256;
		struct fn_row *grown = realloc(r->rows, cap * sizeof(*grown));
		if (!grown) {
			r->failed = true;
			return;
		}
		r->rows = grown;
		r->cap = cap;
	}
	r->rows[r->n++] = (struct fn_row){name, kind, lo, hi};
}

static int by_name(const void *a, const void *b)
{
	const struct fn_row *x = a, *y = b;
	int c = strcasecmp(x->name, y->name);
	return c ? c : strcmp(x->name, y->name);
}

static const char *kind_name(enum script_fn_kind k)
{
	return k == SCRIPT_FN_AGGR ? "aggregation" : k == SCRIPT_FN_CHART ? "chart only" : "scalar";
}

int ops_script(int argc, char **argv)
{
	if (argc != 2 || strcmp(argv[1], "functions") != 0) {
		bool help =
		    argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
		fputs(usage, help ? stdout : stderr);
		return help ? 0 : 2;
	}
	struct fn_rows r = {0};
	script_func_list(add_row, &r);
	if (r.failed) {
		free(r.rows);
		fputs("fathom: out of memory\n", stderr);
		return 1;
	}
	qsort(r.rows, r.n, sizeof(r.rows[0]), by_name);
	printf("| function | kind | arguments |\n|---|---|---|\n");
	for (size_t i = 0; i < r.n; i++) {
		const struct fn_row *f = &r.rows[i];
		if (f->lo == f->hi)
			printf("| %s | %s | %d |\n", f->name, kind_name(f->kind), f->lo);
		else
			printf("| %s | %s | %d to %d |\n", f->name, kind_name(f->kind), f->lo,
			       f->hi);
	}
	free(r.rows);
	return 0;
}
