/* unit.h: what every unit test includes: cmocka and a temporary-folder helper. */
#ifndef FATHOM_UNIT_H
#define FATHOM_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Makes a fresh temporary folder; the caller removes it with rm_tree. */
static inline char *make_tmpdir(void)
{
	char *t = strdup("/tmp/fathom-unit-XXXXXX");
	if (!t || !mkdtemp(t))
		abort();
	return t;
}

static inline void rm_tree(char *dir)
{
	struct err e;
	err_init(&e);
	if (dir_remove_all(dir, &e) != 0)
		fprintf(stderr, "%s\n", e.message);
	free(dir);
}

#endif
