/* schedule.c: when a time trigger (schemaevent) fires.
 *
 * The start and expiration dates are wall-clock times in the trigger's time zone (their
 * "Z" notwithstanding, as the management console shows them). Repeats of days and weeks
 * keep the wall-clock time across daylight-saving changes; repeats of minutes and hours are
 * plain durations. A wall-clock time the clocks skip fires as far past the gap as it was
 * into it; one they repeat fires once, the first time. */
#include "sched/sched.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- parsing */

/* "*" (NULL list) or a comma list of numbers in [lo, hi] as a bit set. */
static int parse_set(const char *tok, int lo, int hi, uint64_t *out)
{
	*out = 0;
	if (strcmp(tok, "*") == 0)
		return 0;
	const char *s = tok;
	while (*s) {
		if (!isdigit((unsigned char)*s))
			return -1;
		const char *end;
		int64_t v;
		if (str_to_i64_prefix(s, &end, lo, hi, &v) || end - s > 3)
			return -1;
		*out |= 1ULL << v;
		s = end;
		if (*s == ',' && s[1])
			s++;
		else if (*s)
			return -1;
	}
	return 0;
}

/* "<minutes> <hours> <days> <weeks>" into the step of the schedule. */
static int parse_increment(const char *inc, struct sched_spec *out, struct err *e)
{
	int64_t v[4];
	const char *s = inc;
	for (int i = 0; i < 4; i++) {
		while (*s == ' ')
			s++;
		const char *end;
		if (!isdigit((unsigned char)*s) || str_to_i64_prefix(s, &end, 0, 1000000, &v[i]) ||
		    end - s > 7)
			return err_set(e, ERR_FIELD,
				       "incrementDescription must be four numbers \"<minutes> "
				       "<hours> <days> <weeks>\", not \"%s\"",
				       inc);
		s = end;
	}
	while (*s == ' ')
		s++;
	if (*s)
		return err_set(e, ERR_FIELD,
			       "incrementDescription must be four numbers \"<minutes> <hours> "
			       "<days> <weeks>\", not \"%s\"",
			       inc);
	out->step_s = v[0] * 60 + v[1] * 3600;
	out->step_days = v[2] + 7 * v[3];
	return 0;
}

/* The filter's 8 space-separated fields into toks; ERR_FIELD when there are not 8. */
static int filter_fields(const char *filter, char toks[8][64], struct err *e)
{
	int n = 0;
	for (const char *p = filter; *p && n <= 8;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		const char *b = p;
		while (*p && *p != ' ')
			p++;
		if (n == 8 || (size_t)(p - b) >= sizeof(toks[0]))
			return err_set(e, ERR_FIELD,
				       "schemaFilterDescription must have 8 fields, like "
				       "\"* * - 1,3 1 * * *\"");
		memcpy(toks[n], b, (size_t)(p - b));
		toks[n++][p - b] = '\0';
	}
	if (n != 8)
		return err_set(e, ERR_FIELD,
			       "schemaFilterDescription must have 8 fields, like \"* * - "
			       "1,3 1 * * *\", not \"%s\"",
			       filter);
	return 0;
}

/* "* * - <weekdays> <every N weeks> <days of month> * *" */
static int parse_filter(const char *filter, struct sched_spec *out, struct err *e)
{
	char toks[8][64];
	int rc = filter_fields(filter, toks, e);
	if (rc)
		return rc;
	uint64_t wd, md, step;
	if (parse_set(toks[3], 0, 6, &wd) != 0)
		return err_set(e, ERR_FIELD,
			       "schemaFilterDescription: weekdays are numbers 0 (Sunday) to "
			       "6, not \"%s\"",
			       toks[3]);
	if (parse_set(toks[5], 1, 31, &md) != 0)
		return err_set(e, ERR_FIELD,
			       "schemaFilterDescription: days of the month are numbers 1 to "
			       "31, not \"%s\"",
			       toks[5]);
	if (strcmp(toks[4], "*") != 0) {
		if (parse_set(toks[4], 1, 52, &step) != 0 || (step & (step - 1)) != 0)
			return err_set(e, ERR_FIELD,
				       "schemaFilterDescription: the week step is one "
				       "number 1 to 52, not \"%s\"",
				       toks[4]);
		for (int i = 1; i <= 52; i++)
			if (step & (1ULL << i))
				out->week_step = i;
	}
	out->weekdays = (uint8_t)wd;
	out->monthdays = (uint32_t)md;
	return 0;
}

int sched_spec_parse(const struct sched_spec_text *t, struct sched_spec *out, struct err *e)
{
	memset(out, 0, sizeof(*out));
	if (t->dst_mode < 0 || t->dst_mode > 2)
		return err_set(e, ERR_FIELD, "daylightSavingTime must be 0, 1 or 2");
	out->dst_mode = t->dst_mode;
	int64_t start_ms, exp_ms;
	if (!t->start || time_parse_iso(t->start, &start_ms) != 0)
		return err_set(e, ERR_FIELD, "startDate must be a date");
	if (!t->expiration || time_parse_iso(t->expiration, &exp_ms) != 0)
		return err_set(e, ERR_FIELD, "expirationDate must be a date");
	out->start = cal_floor_div(start_ms, 1000);
	out->expiration = cal_floor_div(exp_ms, 1000);
	if (out->expiration <= out->start)
		return err_set(e, ERR_FIELD, "the trigger expires (%s) before it starts (%s)",
			       t->expiration, t->start);
	int rc = parse_increment(t->increment ? t->increment : "0 0 1 0", out, e);
	out->week_step = 1;
	if (rc == 0 && t->filter)
		rc = parse_filter(t->filter, out, e);
	if (rc)
		return rc;
	if (t->option < 0 || t->option > 5)
		return err_set(e, ERR_FIELD, "incrementOption must be 0 to 5");
	out->once = t->option == 0 ||
		    (out->step_s == 0 && out->step_days == 0 && !out->weekdays && !out->monthdays);
	rc = tz_load(t->time_zone ? t->time_zone : "UTC", &out->tz, e);
	if (rc)
		return rc;
	int64_t first;
	if (sched_next_fire(out, INT64_MIN / 2, &first) != 0) {
		sched_spec_release(out);
		return err_set(e, ERR_FIELD,
			       "the trigger never fires: no time between %s and %s "
			       "matches its schedule",
			       t->start, t->expiration);
	}
	return 0;
}

void sched_spec_release(struct sched_spec *s)
{
	tz_free(s->tz);
	s->tz = NULL;
}

/* ---------------------------------------------------------------- the next firing */

/* The UTC instant of wall-clock second `wall`, if it is before the expiration. */
static bool at(const struct sched_spec *s, int64_t wall, int64_t *t)
{
	if (wall >= s->expiration)
		return false;
	*t = tz_to_utc(s->tz, s->dst_mode, wall);
	return true;
}

/* Days with a filter (weekdays or days of the month): each matching day at the start's
 * time of day, from the day of `after` on. */
static int next_by_day(const struct sched_spec *s, int64_t after, int64_t *out)
{
	int64_t tod = s->start - cal_floor_div(s->start, 86400) * 86400;
	int64_t day0 = cal_floor_div(s->start, 86400);
	/* the local day of `after`, less one for zones ahead of UTC */
	int64_t from = cal_floor_div(after, 86400) - 1;
	if (from < day0)
		from = day0;
	/* the Monday of the start's week numbers the weeks for "every N weeks" */
	int64_t week0 = day0 - (cal_weekday(day0) + 6) % 7;
	for (int64_t d = from; d < from + 366 * 8; d++) {
		int64_t wall = d * 86400 + tod, t;
		if (wall >= s->expiration)
			return ERR_NOT_FOUND;
		if (s->weekdays) {
			if (!(s->weekdays & (1u << cal_weekday(d))) ||
			    cal_floor_div(d - week0, 7) % s->week_step != 0)
				continue;
		}
		if (s->monthdays) {
			int y, m, dd;
			cal_civil_from_days(d, &y, &m, &dd);
			if (!(s->monthdays & (1u << dd)))
				continue;
		}
		if (wall >= s->start && at(s, wall, &t) && t > after) {
			*out = t;
			return 0;
		}
	}
	return ERR_NOT_FOUND;
}

int sched_next_fire(const struct sched_spec *s, int64_t after_ms, int64_t *out_ms)
{
	int64_t after = cal_floor_div(after_ms, 1000), t;
	int rc = ERR_NOT_FOUND;
	if (s->weekdays || s->monthdays) {
		rc = next_by_day(s, after, &t);
	} else if (s->once) {
		if (at(s, s->start, &t) && t > after)
			rc = 0;
	} else if (s->step_days == 0) {
		/* minutes and hours: a plain duration from the start */
		int64_t t0 = tz_to_utc(s->tz, s->dst_mode, s->start);
		int64_t k = after < t0 ? 0 : cal_floor_div(after - t0, s->step_s) + 1;
		t = t0 + k * s->step_s;
		int32_t off = tz_offset_mode(s->tz, s->dst_mode, t);
		if (t + off < s->expiration)
			rc = 0;
	} else {
		/* days and weeks: the same wall-clock time, step after step */
		int64_t step = s->step_days * 86400 + s->step_s;
		int64_t k =
		    after < s->start - 86400 ? 0 : cal_floor_div(after - s->start, step) - 1;
		if (k < 0)
			k = 0;
		for (int i = 0; i < 4; i++, k++)
			if (at(s, s->start + k * step, &t) && t > after) {
				rc = 0;
				break;
			}
	}
	if (rc == 0)
		*out_ms = t * 1000;
	return rc;
}
