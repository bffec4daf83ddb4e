/* fuzz_numfmt.c: number format codes (data_num_format), as a measure's qNumFormat brings
 * them from a client, and date and time format codes (data_date_format), as a QVD's header
 * or a script's DateFormat brings them. The first 8 bytes are the number, the next two pick the
 * decimal and thousands separators, the rest is the code. Nothing may crash or read past the code,
 * and a text that is written fits and is the same for the same input. */
#include "data/data.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 10)
		return 0;
	double x;
	memcpy(&x, data, sizeof(x));
	static const char *const seps[] = {".", ",", " ", "", "'", "::"};
	const char *dec = seps[data[8] % 6], *thou = seps[data[9] % 6];
	char *fmt = malloc(size - 9);
	memcpy(fmt, data + 10, size - 10);
	fmt[size - 10] = '\0';
	char a[64], b[64];
	int ra = data_num_format(x, fmt, dec, thou, a, sizeof(a));
	int rb = data_num_format(x, fmt, dec, thou, b, sizeof(b));
	if (ra != rb || (ra == 0 && (strlen(a) >= sizeof(a) || strcmp(a, b) != 0)))
		abort();
	ra = data_date_format(x, fmt, a, sizeof(a));
	rb = data_date_format(x, fmt, b, sizeof(b));
	if (ra != rb || (ra == 0 && (strlen(a) >= sizeof(a) || strcmp(a, b) != 0)))
		abort();
	free(fmt);
	return 0;
}
