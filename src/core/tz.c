/* tz.c: the proleptic Gregorian calendar, and IANA time zones read from their TZif files (RFC
 * 8536), versions 2 and later: the 64-bit transition table, then the POSIX TZ rule of the footer
 * for instants past the last transition. Reading the files ourselves keeps time zones out of the
 * process environment (setenv("TZ") races with every thread that reads the environment). */
#include "core/core.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- the calendar */

int64_t cal_floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
int64_t cal_days_from_civil(int y, int m, int d)
{
	int64_t yy = (int64_t)y - (m <= 2);
	int64_t era = cal_floor_div(yy, 400);
	int64_t yoe = yy - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void cal_civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = cal_floor_div(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

int cal_weekday(int64_t days)
{
	return (int)((days % 7 + 11) % 7); /* 1970-01-01 was a Thursday (4) */
}

int cal_month_days(int y, int m)
{
	static const int n[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : n[m - 1];
}

struct tz_type {
	int32_t off;
	bool dst;
};

/* One POSIX rule date: month 1..12, week 1..5 (5: the last), weekday 0..6 (Sunday first),
 * and the local time of day in seconds. */
struct rule_date {
	int month, week, wday;
	int32_t secs;
};

struct tz_zone {
	char name[64];
	int64_t *times; /* transitions, ascending */
	uint8_t *idx;	/* the type from each transition on */
	int n_times;
	struct tz_type *types;
	int n_types;
	int first_std; /* the type before the first transition */
	/* the footer rule: std offset, dst offset, when DST starts and ends */
	bool has_rule, rule_dst;
	int32_t std_off, dst_off;
	struct rule_date start, end;
};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct hdr {
	uint32_t isut, isstd, leap, time, type, chars;
};

static int read_hdr(const uint8_t *p, size_t left, struct hdr *h)
{
	if (left < 44 || memcmp(p, "TZif", 4) != 0)
		return -1;
	h->isut = be32(p + 20);
	h->isstd = be32(p + 24);
	h->leap = be32(p + 28);
	h->time = be32(p + 32);
	h->type = be32(p + 36);
	h->chars = be32(p + 40);
	if (h->time > 100000 || h->type == 0 || h->type > 256 || h->chars > 4096 ||
	    h->leap > 10000 || (h->isut && h->isut != h->type) || (h->isstd && h->isstd != h->type))
		return -1;
	return 0;
}

static size_t data_len(const struct hdr *h, size_t tsize)
{
	return h->time * tsize + h->time + h->type * 6 + h->chars + h->leap * (tsize + 4) +
	       h->isstd + h->isut;
}

/* ---------------------------------------------------------------- POSIX TZ rules */

static const char *rule_name(const char *s)
{
	if (*s == '<') {
		const char *e = strchr(s, '>');
		return e && e - s > 1 ? e + 1 : NULL;
	}
	const char *b = s;
	while (isalpha((unsigned char)*s))
		s++;
	return s - b >= 3 ? s : NULL;
}

/* [+-]h[h[h]][:mm[:ss]] in seconds; NULL when it does not parse. */
static const char *rule_hms(const char *s, int32_t *out)
{
	int sign = 1;
	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	int32_t parts[3] = {0, 0, 0};
	for (int i = 0; i < 3; i++) {
		if (!isdigit((unsigned char)*s))
			return NULL;
		int v = 0, digits = 0;
		while (isdigit((unsigned char)*s) && digits < 3)
			v = v * 10 + (*s++ - '0'), digits++;
		if (i > 0 && v > 59)
			return NULL;
		parts[i] = v;
		if (*s != ':' || i == 2)
			break;
		s++;
	}
	if (parts[0] > 167)
		return NULL;
	*out = sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]);
	return s;
}

static const char *rule_date(const char *s, struct rule_date *d)
{
	if (*s != 'M')
		return NULL; /* Julian-day forms: not used by any current zone */
	const char *end;
	int64_t m, w, wd;
	if (str_to_i64_prefix(s + 1, &end, 1, 12, &m) || *end != '.')
		return NULL;
	s = end + 1;
	if (str_to_i64_prefix(s, &end, 1, 5, &w) || *end != '.')
		return NULL;
	s = end + 1;
	if (str_to_i64_prefix(s, &end, 0, 6, &wd))
		return NULL;
	s = end;
	d->month = (int)m;
	d->week = (int)w;
	d->wday = (int)wd;
	d->secs = 7200;
	if (*s == '/' && !(s = rule_hms(s + 1, &d->secs)))
		return NULL;
	return s;
}

static void parse_rule(struct tz_zone *tz, const char *s)
{
	int32_t off;
	if (!(s = rule_name(s)) || !(s = rule_hms(s, &off)) || off < -26 * 3600 || off > 26 * 3600)
		return;
	tz->std_off = -off;
	if (!*s) {
		tz->has_rule = true; /* no DST */
		return;
	}
	if (!(s = rule_name(s)))
		return;
	tz->dst_off = tz->std_off + 3600;
	if (*s && *s != ',') {
		if (!(s = rule_hms(s, &off)) || off < -26 * 3600 || off > 26 * 3600)
			return;
		tz->dst_off = -off;
	}
	if (*s != ',' || !(s = rule_date(s + 1, &tz->start)) || *s != ',' ||
	    !(s = rule_date(s + 1, &tz->end)) || *s || tz->dst_off < -26 * 3600 ||
	    tz->dst_off > 26 * 3600)
		return;
	tz->has_rule = tz->rule_dst = true;
}

/* ---------------------------------------------------------------- loading */

int tz_parse(const char *name, const void *data, size_t len, struct tz_zone **out, struct err *e)
{
	*out = NULL;
	const uint8_t *p = data;
	struct hdr h1, h2;
	if (read_hdr(p, len, &h1) != 0 || p[4] < '2')
		return err_set(e, ERR_INVALID,
			       "time zone %s: not a TZif file of version 2 or later", name);
	size_t skip = 44 + data_len(&h1, 4);
	if (skip > len || read_hdr(p + skip, len - skip, &h2) != 0 ||
	    44 + data_len(&h2, 8) > len - skip)
		return err_set(e, ERR_INVALID, "time zone %s: the TZif file is damaged", name);
	const uint8_t *q = p + skip + 44;
	struct tz_zone *tz = calloc(1, sizeof(*tz));
	if (!tz)
		return err_set(e, ERR_NOMEM, "out of memory");
	str_copy(tz->name, name, sizeof(tz->name));
	tz->n_times = (int)h2.time;
	tz->n_types = (int)h2.type;
	tz->times = calloc(h2.time + 1, sizeof(int64_t));
	tz->idx = calloc(h2.time + 1, 1);
	tz->types = calloc(h2.type, sizeof(struct tz_type));
	if (!tz->times || !tz->idx || !tz->types) {
		tz_free(tz);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	for (uint32_t i = 0; i < h2.time; i++) {
		tz->times[i] = be64(q + 8 * i);
		if (i && tz->times[i] <= tz->times[i - 1]) {
			tz_free(tz);
			return err_set(e, ERR_INVALID, "time zone %s: transitions out of order",
				       name);
		}
	}
	q += 8 * h2.time;
	for (uint32_t i = 0; i < h2.time; i++) {
		if (q[i] >= h2.type) {
			tz_free(tz);
			return err_set(e, ERR_INVALID, "time zone %s: the TZif file is damaged",
				       name);
		}
		tz->idx[i] = q[i];
	}
	q += h2.time;
	tz->first_std = -1;
	for (uint32_t i = 0; i < h2.type; i++) {
		int32_t off = (int32_t)be32(q + 6 * i);
		if (off < -26 * 3600 || off > 26 * 3600) {
			tz_free(tz);
			return err_set(e, ERR_INVALID, "time zone %s: an offset out of range",
				       name);
		}
		tz->types[i] = (struct tz_type){off, q[6 * i + 4] != 0};
		if (tz->first_std < 0 && !tz->types[i].dst)
			tz->first_std = (int)i;
	}
	if (tz->first_std < 0)
		tz->first_std = 0;
	/* the footer: "\n<POSIX TZ>\n" after the version 2 data */
	const char *foot = (const char *)p + skip + 44 + data_len(&h2, 8);
	size_t flen = len - skip - 44 - data_len(&h2, 8);
	if (flen >= 2 && foot[0] == '\n') {
		const char *nl = memchr(foot + 1, '\n', flen - 1);
		if (nl && nl - foot - 1 < 128) {
			char rule[128];
			memcpy(rule, foot + 1, (size_t)(nl - foot - 1));
			rule[nl - foot - 1] = '\0';
			parse_rule(tz, rule);
		}
	}
	*out = tz;
	return 0;
}

int tz_load(const char *name, struct tz_zone **out, struct err *e)
{
	*out = NULL;
	/* a name is letters, digits, '/', '_', '-', '+'; no "..", no leading '/' */
	bool ok = name[0] && name[0] != '/' && strlen(name) < 64 && !strstr(name, "..");
	for (const char *s = name; ok && *s; s++)
		ok = isalnum((unsigned char)*s) || strchr("/_-+", *s);
	if (!ok)
		return err_set(e, ERR_INVALID, "\"%s\" is not a time zone name", name);
	const char *dir = getenv("TZDIR");
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
	char *data = NULL;
	size_t len = 0;
	struct err fe;
	err_init(&fe);
	if (file_read_all(path, 1 << 20, &data, &len, &fe) != 0) {
		err_set(e, ERR_INVALID, "unknown time zone \"%s\"", name);
		err_hint(e, "use an IANA name such as UTC, Europe/Paris or America/New_York");
		return ERR_INVALID;
	}
	int rc = tz_parse(name, data, len, out, e);
	free(data);
	return rc;
}

void tz_free(struct tz_zone *tz)
{
	if (!tz)
		return;
	free(tz->times);
	free(tz->idx);
	free(tz->types);
	free(tz);
}

const char *tz_name(const struct tz_zone *tz)
{
	return tz->name;
}

/* ---------------------------------------------------------------- offsets */

/* The instant (UTC seconds) a rule date happens in `year`, its local time read with
 * offset `off`. */
static int64_t rule_instant(const struct rule_date *d, int year, int32_t off)
{
	int64_t first = cal_days_from_civil(year, d->month, 1);
	int wd1 = cal_weekday(first);
	int day = 1 + (d->wday - wd1 + 7) % 7 + (d->week - 1) * 7;
	int mlen = cal_month_days(year, d->month);
	while (day > mlen)
		day -= 7;
	return (first + day - 1) * 86400 + d->secs - off;
}

void tz_offset(const struct tz_zone *tz, int64_t t, int32_t *off, bool *dst)
{
	if (tz->n_times == 0 || t < tz->times[0]) {
		if (tz->n_times == 0 && tz->has_rule && tz->rule_dst)
			goto rule;
		*off = tz->types[tz->first_std].off;
		*dst = tz->types[tz->first_std].dst;
		return;
	}
	if (t >= tz->times[tz->n_times - 1] && tz->has_rule)
		goto rule;
	int lo = 0, hi = tz->n_times - 1; /* the last transition at or before t */
	while (lo < hi) {
		int mid = (lo + hi + 1) / 2;
		if (tz->times[mid] <= t)
			lo = mid;
		else
			hi = mid - 1;
	}
	*off = tz->types[tz->idx[lo]].off;
	*dst = tz->types[tz->idx[lo]].dst;
	return;
rule:
	if (!tz->rule_dst) {
		*off = tz->std_off;
		*dst = false;
		return;
	}
	int y, m, d;
	cal_civil_from_days((t + tz->std_off) / 86400 - ((t + tz->std_off) % 86400 < 0), &y, &m,
			    &d);
	int64_t start = rule_instant(&tz->start, y, tz->std_off);
	int64_t end = rule_instant(&tz->end, y, tz->dst_off);
	bool in = start < end ? (t >= start && t < end) : (t < end || t >= start);
	*off = in ? tz->dst_off : tz->std_off;
	*dst = in;
}

/* The standard (winter) offset at t: the offset of the nearest non-DST time. */
static int32_t std_offset(const struct tz_zone *tz, int64_t t)
{
	int32_t off;
	bool dst;
	tz_offset(tz, t, &off, &dst);
	for (int k = 1; dst && k <= 12; k++) /* look a month at a time back, then forward */
		tz_offset(tz, t + (k % 2 ? -1 : 1) * (int64_t)((k + 1) / 2) * 30 * 86400, &off,
			  &dst);
	return off;
}

int32_t tz_offset_mode(const struct tz_zone *tz, int mode, int64_t t)
{
	int32_t off;
	bool dst;
	if (mode == TZ_DST_OBSERVE) {
		tz_offset(tz, t, &off, &dst);
		return off;
	}
	return std_offset(tz, t) + (mode == TZ_DST_PERMANENT_DST ? 3600 : 0);
}

int64_t tz_to_utc(const struct tz_zone *tz, int mode, int64_t wall)
{
	/* the offsets in force a day before and a day after are the only candidates */
	int32_t before = tz_offset_mode(tz, mode, wall - 86400);
	int32_t after = tz_offset_mode(tz, mode, wall + 86400);
	int64_t best = INT64_MAX;
	int32_t cands[2] = {before, after};
	for (int i = 0; i < 2; i++) {
		int64_t t = wall - cands[i];
		if (tz_offset_mode(tz, mode, t) == cands[i] && t < best)
			best = t; /* a repeated hour: the first of the two */
	}
	if (best == INT64_MAX) /* a skipped hour: as far past the gap as it was into it */
		best = wall - before;
	return best;
}
