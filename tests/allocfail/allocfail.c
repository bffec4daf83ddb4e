/* allocfail.c: the allocation-failure mode of the sanitized unit tests.
 *
 * The sanitized build links its unit tests with a copy of the library whose calls to the
 * malloc family are renamed to the af_* functions below (objcopy, see allocfail.syms and
 * CMakeLists.txt), so only the library's own allocations go through here, not the tests'
 * or cmocka's. They count every allocation, and with FATHOM_ALLOC_FAIL=N the Nth fails
 * once (NULL, or ENOMEM for posix_memalign), with the stack of the failed call on stderr.
 * FATHOM_ALLOC_COUNT=FILE writes how many allocations there were at exit. Unset, they
 * cost one atomic increment. tests/allocfail/run loops the unit tests over N.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sanitizer/common_interface_defs.h>

#include "core/core.h"

void *af_malloc(size_t n);
void *af_calloc(size_t n, size_t size);
void *af_realloc(void *p, size_t n);
char *af_strdup(const char *s);
char *af_strndup(const char *s, size_t n);
int af_posix_memalign(void **p, size_t align, size_t n);

static atomic_ulong counted;
static unsigned long fail_at; /* 0: none */
static const char *count_file;

static void report_count(void)
{
	FILE *f = fopen(count_file, "w");
	if (!f)
		return;
	fprintf(f, "%lu\n", (unsigned long)atomic_load(&counted));
	fclose(f);
}

/* Runs before main (and before any test's allocation): reads the environment once. */
__attribute__((constructor)) static void af_init(void)
{
	const char *n = getenv("FATHOM_ALLOC_FAIL");
	int64_t v = 0;
	if (n && *n && str_to_i64(n, 1, INT64_MAX, &v) == 0)
		fail_at = (unsigned long)v;
	count_file = getenv("FATHOM_ALLOC_COUNT");
	if (count_file && *count_file)
		atexit(report_count);
}

/* True when this allocation is the one to fail. */
static int failing(const char *what, size_t n)
{
	unsigned long i = atomic_fetch_add(&counted, 1) + 1;
	if (i != fail_at)
		return 0;
	fprintf(stderr, "allocfail: allocation %lu (%s of %zu bytes) fails here:\n", i, what, n);
	__sanitizer_print_stack_trace();
	return 1;
}

void *af_malloc(size_t n)
{
	return failing("malloc", n) ? NULL : malloc(n);
}

void *af_calloc(size_t n, size_t size)
{
	return failing("calloc", n * size) ? NULL : calloc(n, size);
}

void *af_realloc(void *p, size_t n)
{
	return failing("realloc", n) ? NULL : realloc(p, n);
}

char *af_strdup(const char *s)
{
	return failing("strdup", strlen(s) + 1) ? NULL : strdup(s);
}

char *af_strndup(const char *s, size_t n)
{
	return failing("strndup", n) ? NULL : strndup(s, n);
}

int af_posix_memalign(void **p, size_t align, size_t n)
{
	return failing("posix_memalign", n) ? ENOMEM : posix_memalign(p, align, n);
}
