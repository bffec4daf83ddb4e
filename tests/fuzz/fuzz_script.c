/* fuzz_script.c: the load script splitter and statement parser. Any input must split
 * and parse to 0 or ERR_INVALID with a position, never a crash. */
#include "script/script.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *src = malloc(size + 1);
	memcpy(src, data, size);
	src[size] = '\0';
	struct arena *a = arena_new();
	struct script_piece *pc = NULL;
	int n = 0;
	struct err e;
	err_init(&e);
	int rc = script_split(src, a, &pc, &n, &e);
	if (rc != 0 && (rc != ERR_INVALID || e.position <= 0))
		abort();
	for (int i = 0; rc == 0 && i < n; i++) {
		struct stmt *s = NULL;
		err_init(&e);
		int prc = script_parse(pc[i].text, pc[i].line, pc[i].col, pc[i].control, a, &s, &e);
		if (prc != 0 && (prc != ERR_INVALID || e.position <= 0 || s))
			abort();
		if (prc == 0 && !s)
			abort();
	}
	arena_free(a);
	free(src);
	return 0;
}
