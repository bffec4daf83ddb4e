/* fuzz_sched.c: time zone files and trigger schedules. The first byte chooses: a TZif file
 * (the rest of the input), whose offsets must come out within a day of UTC; or a schedule
 * (the rest, as lines: zone, start, expiration, increment, filter), which must parse or be
 * refused with a reason, and whose next firings must move forward. */
#include "sched/sched.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct err e;
	err_init(&e);
	if (data[0] & 1) {
		struct tz_zone *tz = NULL;
		int rc = tz_parse("fuzz", data + 1, size - 1, &tz, &e);
		if (rc != 0 && (rc != ERR_INVALID || tz || !e.message[0]))
			abort();
		if (tz) {
			static const int64_t at[] = {-5000000000LL, 0, 1700000000LL, 2200000000LL,
						     4000000000LL};
			for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
				int32_t off;
				bool dst;
				tz_offset(tz, at[i], &off, &dst);
				if (off < -26 * 3600 || off > 26 * 3600)
					abort();
				(void)tz_to_utc(tz, data[0] >> 1 & 3 ? 1 : 0, at[i]);
			}
		}
		tz_free(tz);
		return 0;
	}
	char *text = malloc(size);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	const char *line[5] = {NULL, NULL, NULL, NULL, NULL};
	char *p = text;
	for (int i = 0; i < 5 && p; i++) {
		line[i] = p;
		p = strchr(p, '\n');
		if (p)
			*p++ = '\0';
	}
	struct sched_spec_text t = {line[0] && *line[0] ? line[0] : "UTC",
				    data[0] >> 1 & 3,
				    line[1] ? line[1] : "2026-01-01T00:00:00.000Z",
				    line[2] ? line[2] : "9999-01-01T00:00:00.000Z",
				    line[3],
				    line[4],
				    data[0] >> 3 & 7};
	struct sched_spec s;
	int rc = sched_spec_parse(&t, &s, &e);
	if (rc == 0) {
		int64_t at = 1700000000000LL, next;
		for (int i = 0; i < 3 && sched_next_fire(&s, at, &next) == 0; i++) {
			if (next <= at)
				abort();
			at = next;
		}
		sched_spec_release(&s);
	} else if (!e.message[0]) {
		abort();
	}
	free(text);
	return 0;
}
