/* test_sched.c: when time triggers fire (sched/schedule.c) in the zones of the tz database
 * (sched/tz.c): offsets from the transition table and from the POSIX rule past it, wall
 * times the clocks skip or repeat, daily, hourly, weekly and monthly repeats across
 * daylight-saving changes, permanent standard and daylight time, and schedules refused
 * with their reason. */
#include "unit.h"

#include "sched/sched.h"

#include <stdlib.h>
#include <string.h>

static int64_t ms(const char *iso)
{
	int64_t v = 0;
	assert_int_equal(time_parse_iso(iso, &v), 0);
	return v;
}

static void assert_iso(int64_t v, const char *want)
{
	char got[ISO_TIME_LEN + 1];
	time_format_iso(v, got);
	assert_string_equal(got, want);
}

static struct tz_zone *zone(const char *name)
{
	struct tz_zone *tz = NULL;
	struct err e;
	err_init(&e);
	assert_int_equal(tz_load(name, &tz, &e), 0);
	return tz;
}

static void offsets(void **state)
{
	(void)state;
	struct tz_zone *paris = zone("Europe/Paris"), *ny = zone("America/New_York");
	int32_t off;
	bool dst;
	tz_offset(paris, ms("2026-07-01T00:00:00.000Z") / 1000, &off, &dst);
	assert_int_equal(off, 7200);
	assert_true(dst);
	tz_offset(paris, ms("2026-01-15T00:00:00.000Z") / 1000, &off, &dst);
	assert_int_equal(off, 3600);
	assert_false(dst);
	/* past the table (2037): the footer's rule, CET-1CEST,M3.5.0,M10.5.0/3 */
	tz_offset(paris, ms("2050-07-01T00:00:00.000Z") / 1000, &off, &dst);
	assert_int_equal(off, 7200);
	tz_offset(paris, ms("2050-12-01T00:00:00.000Z") / 1000, &off, &dst);
	assert_int_equal(off, 3600);
	/* 2050-03-27 is the last Sunday of March: CEST from 01:00 UTC */
	tz_offset(paris, ms("2050-03-27T00:59:59.000Z") / 1000, &off, &dst);
	assert_int_equal(off, 3600);
	tz_offset(paris, ms("2050-03-27T01:00:00.000Z") / 1000, &off, &dst);
	assert_int_equal(off, 7200);
	tz_offset(ny, ms("2045-07-04T12:00:00.000Z") / 1000, &off, &dst);
	assert_int_equal(off, -4 * 3600);
	tz_offset(ny, ms("2045-01-04T12:00:00.000Z") / 1000, &off, &dst);
	assert_int_equal(off, -5 * 3600);
	/* permanent standard and daylight time keep one offset all year */
	assert_int_equal(
	    tz_offset_mode(paris, TZ_DST_PERMANENT_STD, ms("2026-07-01T00:00:00.000Z") / 1000),
	    3600);
	assert_int_equal(
	    tz_offset_mode(paris, TZ_DST_PERMANENT_DST, ms("2026-01-15T00:00:00.000Z") / 1000),
	    7200);
	tz_free(paris);
	tz_free(ny);
}

static void skipped_and_repeated_times(void **state)
{
	(void)state;
	struct tz_zone *paris = zone("Europe/Paris");
	/* 2026-03-29 02:30 does not exist in Paris: as far past the gap, 03:30 CEST */
	int64_t t = tz_to_utc(paris, 0, ms("2026-03-29T02:30:00.000Z") / 1000);
	assert_iso(t * 1000, "2026-03-29T01:30:00.000Z");
	/* 2026-10-25 02:30 happens twice: the first, still CEST */
	t = tz_to_utc(paris, 0, ms("2026-10-25T02:30:00.000Z") / 1000);
	assert_iso(t * 1000, "2026-10-25T00:30:00.000Z");
	t = tz_to_utc(paris, 0, ms("2026-07-01T12:00:00.000Z") / 1000);
	assert_iso(t * 1000, "2026-07-01T10:00:00.000Z");
	tz_free(paris);
}

struct fires {
	const char *zone;
	int dst;
	const char *start, *increment, *filter;
	int option;
	const char *after;
	const char *want[4];
};

static void check_fires(const struct fires *f)
{
	struct sched_spec_text t = {f->zone,	  f->dst,    f->start, "9999-01-01T00:00:00.000Z",
				    f->increment, f->filter, f->option};
	struct sched_spec s;
	struct err e;
	err_init(&e);
	int rc = sched_spec_parse(&t, &s, &e);
	if (rc)
		fail_msg("%s", e.message);
	int64_t at = ms(f->after);
	for (int i = 0; i < 4 && f->want[i]; i++) {
		int64_t next = 0;
		assert_int_equal(sched_next_fire(&s, at, &next), 0);
		assert_iso(next, f->want[i]);
		at = next;
	}
	sched_spec_release(&s);
}

static void repeats(void **state)
{
	(void)state;
	static const struct fires cases[] = {
	    /* daily at 02:30 in Paris across the spring change: the day of the change fires
	     * at 03:30 CEST, then 02:30 CEST again */
	    {"Europe/Paris",
	     0,
	     "2026-03-20T02:30:00.000Z",
	     "0 0 1 0",
	     NULL,
	     2,
	     "2026-03-27T12:00:00.000Z",
	     {"2026-03-28T01:30:00.000Z", "2026-03-29T01:30:00.000Z", "2026-03-30T00:30:00.000Z",
	      NULL}},
	    /* daily at 09:00 New York keeps 09:00 local across its spring change */
	    {"America/New_York",
	     0,
	     "2026-03-01T09:00:00.000Z",
	     "0 0 1 0",
	     NULL,
	     2,
	     "2026-03-06T20:00:00.000Z",
	     {"2026-03-07T14:00:00.000Z", "2026-03-08T13:00:00.000Z", NULL}},
	    /* and across the autumn change in Paris, 02:30 fires once (the first) */
	    {"Europe/Paris",
	     0,
	     "2026-10-20T02:30:00.000Z",
	     "0 0 1 0",
	     NULL,
	     2,
	     "2026-10-24T12:00:00.000Z",
	     {"2026-10-25T00:30:00.000Z", "2026-10-26T01:30:00.000Z", NULL}},
	    /* every hour is a duration: across the autumn change still 3600 s apart */
	    {"Europe/Paris",
	     0,
	     "2026-10-24T00:00:00.000Z",
	     "0 1 0 0",
	     NULL,
	     1,
	     "2026-10-25T00:10:00.000Z",
	     {"2026-10-25T01:00:00.000Z", "2026-10-25T02:00:00.000Z", "2026-10-25T03:00:00.000Z",
	      NULL}},
	    /* every 15 minutes */
	    {"UTC",
	     0,
	     "2026-11-27T06:00:00.000Z",
	     "15 0 0 0",
	     NULL,
	     1,
	     "2026-11-27T06:20:00.000Z",
	     {"2026-11-27T06:30:00.000Z", "2026-11-27T06:45:00.000Z", NULL}},
	    /* weekly on Monday and Wednesday (2026-11-23 is a Monday) */
	    {"UTC",
	     0,
	     "2026-11-23T06:00:00.000Z",
	     "0 0 1 0",
	     "* * - 1,3 1 * * *",
	     3,
	     "2026-11-23T06:00:00.000Z",
	     {"2026-11-25T06:00:00.000Z", "2026-11-30T06:00:00.000Z", "2026-12-02T06:00:00.000Z",
	      NULL}},
	    /* every other Monday */
	    {"UTC",
	     0,
	     "2026-11-23T06:00:00.000Z",
	     "0 0 1 0",
	     "* * - 1 2 * * *",
	     3,
	     "2026-11-23T06:00:00.000Z",
	     {"2026-12-07T06:00:00.000Z", "2026-12-21T06:00:00.000Z", NULL}},
	    /* monthly on the 31st skips the months without one */
	    {"UTC",
	     0,
	     "2026-01-01T08:00:00.000Z",
	     "0 0 1 0",
	     "* * - * * 31 * *",
	     4,
	     "2026-01-01T00:00:00.000Z",
	     {"2026-01-31T08:00:00.000Z", "2026-03-31T08:00:00.000Z", "2026-05-31T08:00:00.000Z",
	      NULL}},
	    /* noon in Paris, in July: 10:00 UTC observing DST, 11:00 on permanent standard
	     * time */
	    {"Europe/Paris",
	     0,
	     "2026-07-01T12:00:00.000Z",
	     "0 0 1 0",
	     NULL,
	     2,
	     "2026-07-01T00:00:00.000Z",
	     {"2026-07-01T10:00:00.000Z", NULL}},
	    {"Europe/Paris",
	     1,
	     "2026-07-01T12:00:00.000Z",
	     "0 0 1 0",
	     NULL,
	     2,
	     "2026-07-01T00:00:00.000Z",
	     {"2026-07-01T11:00:00.000Z", NULL}},
	    /* once: at the start and never again */
	    {"Asia/Tokyo",
	     0,
	     "2026-12-01T09:00:00.000Z",
	     "0 0 0 0",
	     NULL,
	     0,
	     "2026-11-01T00:00:00.000Z",
	     {"2026-12-01T00:00:00.000Z", NULL}},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		check_fires(&cases[i]);
}

static void once_fires_once(void **state)
{
	(void)state;
	struct sched_spec_text t = {
	    "UTC", 0, "2026-12-01T09:00:00.000Z", "9999-01-01T00:00:00.000Z", "0 0 0 0", NULL, 0};
	struct sched_spec s;
	struct err e;
	err_init(&e);
	assert_int_equal(sched_spec_parse(&t, &s, &e), 0);
	int64_t next = 0;
	assert_int_equal(sched_next_fire(&s, ms("2026-12-01T09:00:00.000Z"), &next), ERR_NOT_FOUND);
	sched_spec_release(&s);
}

static void refused(void **state)
{
	(void)state;
	struct {
		struct sched_spec_text t;
		int code;
		const char *says;
	} cases[] = {
	    {{"UTC", 0, "2026-12-01T09:00:00.000Z", "2026-11-01T00:00:00.000Z", "0 0 1 0", NULL, 2},
	     ERR_FIELD,
	     "before it starts"},
	    {{"Mars/Olympus", 0, "2026-12-01T09:00:00.000Z", "9999-01-01T00:00:00.000Z", "0 0 1 0",
	      NULL, 2},
	     ERR_INVALID,
	     "unknown time zone"},
	    {{"../etc/passwd", 0, "2026-12-01T09:00:00.000Z", "9999-01-01T00:00:00.000Z", "0 0 1 0",
	      NULL, 2},
	     ERR_INVALID,
	     "not a time zone name"},
	    {{"UTC", 0, "2026-12-01T09:00:00.000Z", "9999-01-01T00:00:00.000Z", "0 0 1", NULL, 2},
	     ERR_FIELD,
	     "four numbers"},
	    {{"UTC", 0, "2026-12-01T09:00:00.000Z", "9999-01-01T00:00:00.000Z", "0 0 1 0",
	      "* * - 7 1 * * *", 3},
	     ERR_FIELD,
	     "weekdays"},
	    {{"UTC", 0, "2026-12-01T09:00:00.000Z", "9999-01-01T00:00:00.000Z", "0 0 1 0",
	      "* * - * * 32 * *", 4},
	     ERR_FIELD,
	     "days of the month"},
	    {{"UTC", 0, "2026-12-01T09:00:00.000Z", "9999-01-01T00:00:00.000Z", "0 0 1 0",
	      "* * - 1 1 *", 3},
	     ERR_FIELD,
	     "8 fields"},
	    /* the 31st between February 1st and March 1st: never */
	    {{"UTC", 0, "2027-02-01T09:00:00.000Z", "2027-03-01T00:00:00.000Z", "0 0 1 0",
	      "* * - * * 31 * *", 4},
	     ERR_FIELD,
	     "never fires"},
	    {{"UTC", 3, "2026-12-01T09:00:00.000Z", "9999-01-01T00:00:00.000Z", "0 0 1 0", NULL, 2},
	     ERR_FIELD,
	     "daylightSavingTime"},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct sched_spec s;
		struct err e;
		err_init(&e);
		assert_int_equal(sched_spec_parse(&cases[i].t, &s, &e), cases[i].code);
		if (!strstr(e.message, cases[i].says))
			fail_msg("case %zu: \"%s\" does not say \"%s\"", i, e.message,
				 cases[i].says);
	}
}

static void damaged_zone_files(void **state)
{
	(void)state;
	char *data = NULL;
	size_t len = 0;
	struct err e;
	err_init(&e);
	assert_int_equal(
	    file_read_all("/usr/share/zoneinfo/Europe/Paris", 1 << 20, &data, &len, &e), 0);
	/* every cut-off prefix and a few flipped bytes give an error or a zone, never a
	 * crash (the fuzzer goes further) */
	for (size_t n = 0; n < len; n += 7) {
		struct tz_zone *tz = NULL;
		err_init(&e);
		int rc = tz_parse("cut", data, n, &tz, &e);
		assert_true(rc == 0 || rc == ERR_INVALID);
		if (rc == 0) {
			int32_t off;
			bool dst;
			tz_offset(tz, 2000000000, &off, &dst);
		}
		tz_free(tz);
	}
	struct tz_zone *tz = NULL;
	err_init(&e);
	assert_int_equal(tz_parse("bad", "TZif1", 5, &tz, &e), ERR_INVALID);
	assert_null(tz);
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(offsets), cmocka_unit_test(skipped_and_repeated_times),
	    cmocka_unit_test(repeats), cmocka_unit_test(once_fires_once),
	    cmocka_unit_test(refused), cmocka_unit_test(damaged_zone_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
