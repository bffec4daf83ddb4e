/* fuzz_filter.c: the filter language. The first byte picks the entity type, the rest is
 * the filter. Any input must give 0 or ERR_FILTER, never a crash. */
#include "repo/repo.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *type = repo_type_name(data[0] % repo_type_count());
	char *s = malloc(size);
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	struct err e;
	err_init(&e);
	char *sql = NULL;
	int rc = repo_filter_check(type, s, &sql, &e);
	if (rc != 0 && rc != ERR_FILTER)
		abort();
	if (rc == 0 && !sql)
		abort();
	free(sql);
	free(s);
	return 0;
}
