/* fuzz_entity.c: the JSON entity decoder. The first byte picks the entity type, the rest is
 * the body. Any input must decode or fail with a 400-class error, never crash. */
#include "repo/repo.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct err e;
	err_init(&e);
	int rc = repo_decode_check(repo_type_name(data[0] % repo_type_count()),
				   (const char *)data + 1, size - 1, &e);
	if (rc != 0 && err_http_status(rc) != 400)
		abort();
	return 0;
}
