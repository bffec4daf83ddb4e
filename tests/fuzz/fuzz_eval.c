/* fuzz_eval.c: script expressions evaluated, so that every function of the library (dates,
 * formats, strings, numbers) meets arguments of every kind. The input is the right-hand
 * side of a LET; no field, variable or mapping exists. Evaluating must end in a value or
 * ERR_INVALID, never a crash, and a value's text must be a C string. */
#include "script/script.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int no_field(void *ctx, struct expr *x, struct val *out)
{
	(void)ctx;
	(void)x;
	(void)out;
	return ERR_NOT_FOUND;
}

static const char *no_variable(void *ctx, const char *name)
{
	(void)ctx;
	/* the formats a script of a new app sets, so those paths run too */
	if (strcmp(name, "DateFormat") == 0)
		return "M/D/YYYY";
	if (strcmp(name, "MonthNames") == 0)
		return "jan;feb";
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096 || memchr(data, '\0', size))
		return 0;
	char *src = malloc(size + 16);
	memcpy(src, "LET v = ", 8);
	memcpy(src + 8, data, size);
	src[size + 8] = '\0';
	struct arena *a = arena_new();
	struct stmt *s = NULL;
	struct err e;
	err_init(&e);
	if (script_parse(src, 1, 1, false, a, &s, &e) == 0 && s->kind == ST_LET && s->expr) {
		struct eval ev = {.a = a, .e = &e, .field = no_field, .variable = no_variable};
		struct val out;
		int rc = script_eval(&ev, s->expr, &out);
		if (rc != 0 && rc != ERR_INVALID && rc != ERR_TOO_LARGE)
			abort();
		if (rc == 0 && !out.null && out.text && strlen(out.text) > (64u << 20))
			abort();
	}
	arena_free(a);
	free(src);
	return 0;
}
