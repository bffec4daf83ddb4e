/* fn_zone.c: times in other places. ConvertToLocalTime(timestamp [, place [, ignore_dst]])
 * reads a UTC timestamp as the wall-clock time of a place; LocalTime([place
 * [, ignore_dst]]) is the time now there (the node's own zone without a place).
 *
 * A place is UTC or GMT, an offset a zone has ("GMT+01:00", "UTC-05:30"; not "GMT-04:27",
 * as in Qlik), an IANA zone
 * ("Europe/Paris"), or a name from Qlik's list of places: the cities among them are found
 * as IANA zones (Paris as Europe/Paris, "New York" as America/New_York), and the rest
 * ("Eastern Time (US & Canada)", "Beijing", "Mumbai") through a table. With ignore_dst
 * the zone's standard offset is kept all year. An unknown place gives NULL.
 *
 * Zones are read from the system's tzdata (core/tz.c) once and kept for the process, at
 * most 64 of them; they do not change after reading, so threads share them. */
#include "script/eval_int.h"
#include "data/data.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Qlik's places that are not a city of an IANA zone's name. */
static const char *const aliases[][2] = {
    {"Eastern Time (US & Canada)", "America/New_York"},
    {"Central Time (US & Canada)", "America/Chicago"},
    {"Mountain Time (US & Canada)", "America/Denver"},
    {"Pacific Time (US & Canada)", "America/Los_Angeles"},
    {"Atlantic Time (Canada)", "America/Halifax"},
    {"Indiana (East)", "America/Indiana/Indianapolis"},
    {"Alaska", "America/Anchorage"},
    {"Arizona", "America/Phoenix"},
    {"Hawaii", "Pacific/Honolulu"},
    {"Saskatchewan", "America/Regina"},
    {"Newfoundland", "America/St_Johns"},
    {"Greenland", "America/Nuuk"},
    {"Mid-Atlantic", "Atlantic/South_Georgia"},
    {"Central America", "America/Guatemala"},
    {"International Date Line West", "Etc/GMT+12"},
    {"Midway Island", "Pacific/Midway"},
    {"Samoa", "Pacific/Pago_Pago"},
    {"Greenwich Mean Time : Dublin", "Europe/Dublin"},
    {"Edinburgh", "Europe/London"},
    {"Bern", "Europe/Zurich"},
    {"West Central Africa", "Africa/Lagos"},
    {"Pretoria", "Africa/Johannesburg"},
    {"Kyiv", "Europe/Kyiv"},
    {"St. Petersburg", "Europe/Moscow"},
    {"Abu Dhabi", "Asia/Dubai"},
    {"Muscat", "Asia/Muscat"},
    {"Islamabad", "Asia/Karachi"},
    {"Chennai", "Asia/Kolkata"},
    {"Mumbai", "Asia/Kolkata"},
    {"New Delhi", "Asia/Kolkata"},
    {"Sri Jayawardenepura", "Asia/Colombo"},
    {"Astana", "Asia/Almaty"},
    {"Hanoi", "Asia/Bangkok"},
    {"Beijing", "Asia/Shanghai"},
    {"Chongqing", "Asia/Chongqing"},
    {"Osaka", "Asia/Tokyo"},
    {"Sapporo", "Asia/Tokyo"},
    {"Canberra", "Australia/Sydney"},
    {"Guam", "Pacific/Guam"},
    {"Marshall Is.", "Pacific/Majuro"},
    {"Solomon Is.", "Pacific/Guadalcanal"},
    {"New Caledonia", "Pacific/Noumea"},
    {"Cape Verde Is.", "Atlantic/Cape_Verde"},
    {"Georgetown", "America/Guyana"},
    {"Brasilia", "America/Sao_Paulo"},
    {"Kamchatka", "Asia/Kamchatka"},
    {"Ekaterinburg", "Asia/Yekaterinburg"},
};

/* Where the IANA database keeps cities. */
static const char *const regions[] = {"Europe",	 "America",  "Asia",   "Africa",    "Australia",
				      "Pacific", "Atlantic", "Indian", "Antarctica"};

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char place[64];
	struct tz_zone *tz; /* NULL: the place is not known */
} cache[64];
static int cache_n;

/* The zone of an IANA name, or NULL. */
static struct tz_zone *load(const char *name)
{
	struct tz_zone *tz = NULL;
	struct err e;
	err_init(&e);
	return tz_load(name, &tz, &e) == 0 ? tz : NULL;
}

/* The zone of a place that is neither UTC nor an offset; NULL when it is not known. */
static struct tz_zone *resolve(const char *place)
{
	for (size_t i = 0; i < ARRAY_LEN(aliases); i++)
		if (str_ieq(place, aliases[i][0]))
			return load(aliases[i][1]);
	if (strchr(place, '/'))
		return load(place);
	char city[64];
	size_t n = 0;
	for (const char *s = place; *s && n + 1 < sizeof(city); s++)
		city[n++] = *s == ' ' ? '_' : *s;
	city[n] = '\0';
	for (size_t r = 0; r < ARRAY_LEN(regions); r++) {
		char name[96];
		snprintf(name, sizeof(name), "%s/%s", regions[r], city);
		struct tz_zone *tz = load(name);
		if (tz)
			return tz;
	}
	return NULL;
}

/* The zone of a place (NULL when it is not known): kept in the cache, or, when the cache is
 * full, the caller's to free (*owned). */
static struct tz_zone *zone_of(const char *place, bool *owned)
{
	*owned = false;
	if (strlen(place) >= sizeof(cache[0].place))
		return NULL;
	pthread_mutex_lock(&cache_mu);
	for (int i = 0; i < cache_n; i++)
		if (str_ieq(cache[i].place, place)) {
			struct tz_zone *tz = cache[i].tz;
			pthread_mutex_unlock(&cache_mu);
			return tz;
		}
	pthread_mutex_unlock(&cache_mu);
	struct tz_zone *tz = resolve(place);
	pthread_mutex_lock(&cache_mu);
	bool dup = false; /* another thread read it meanwhile */
	for (int i = 0; i < cache_n && !dup; i++)
		dup = str_ieq(cache[i].place, place);
	if (!dup && cache_n < (int)ARRAY_LEN(cache)) {
		str_copy(cache[cache_n].place, place, sizeof(cache[0].place));
		cache[cache_n++].tz = tz;
	} else {
		*owned = tz != NULL;
	}
	pthread_mutex_unlock(&cache_mu);
	return tz;
}

/* "UTC", "GMT", or such with an offset "+hh:mm", "-hh", "+hhmm": true with the offset in
 * seconds east. */
static bool fixed_offset(const char *place, int32_t *out)
{
	const char *s = place;
	if (strncasecmp(s, "UTC", 3) == 0 || strncasecmp(s, "GMT", 3) == 0)
		s += 3;
	else
		return false;
	while (*s == ' ')
		s++;
	if (!*s) {
		*out = 0;
		return true;
	}
	if (*s != '+' && *s != '-')
		return false;
	int sign = *s++ == '-' ? -1 : 1, h = 0, m = 0, digits = 0;
	while (isdigit((unsigned char)*s) && digits < 2)
		h = h * 10 + (*s++ - '0'), digits++;
	if (!digits)
		return false;
	if (*s == ':' || *s == '.')
		s++;
	for (int k = 0; k < 2 && isdigit((unsigned char)*s); k++)
		m = m * 10 + (*s++ - '0');
	/* only the offsets zones have: whole, half and three-quarter hours, -12 to +14 */
	if (*s || (m != 0 && m != 30 && m != 45) || (sign < 0 ? h > 12 : h > 14))
		return false;
	*out = sign * (h * 3600 + m * 60);
	return true;
}

/* The wall-clock serial of UTC serial `utc` at `place`; false for an unknown place. */
static bool at_place(const char *place, double utc, bool ignore_dst, double *out)
{
	int32_t off;
	if (!fixed_offset(place, &off)) {
		bool owned;
		struct tz_zone *tz = zone_of(place, &owned);
		if (!tz)
			return false;
		int64_t t = (int64_t)floor((utc - 25569.0) * 86400.0);
		off = tz_offset_mode(tz, ignore_dst ? TZ_DST_PERMANENT_STD : TZ_DST_OBSERVE, t);
		if (owned)
			tz_free(tz);
	}
	*out = utc + off / 86400.0;
	return true;
}

static bool flag(const struct expr *x, const struct val *v, int i)
{
	double d;
	return i < x->n_args && script_val_number(&v[i], &d) && d != 0;
}

/* A value as a timestamp serial: a number, or a text read as the script's DateFormat or
 * TimestampFormat reads it, or as "YYYY-MM-DD hh:mm:ss". */
static bool timestamp_of(struct eval *ev, const struct val *v, double *out)
{
	if (script_day_serial(ev, v, out))
		return true;
	if (v->null)
		return false;
	const char *fmts[] = {ev->variable ? ev->variable(ev->ctx, "TimestampFormat") : NULL,
			      "YYYY-MM-DD hh:mm:ss", "YYYY-MM-DD hh:mm"};
	for (size_t i = 0; i < ARRAY_LEN(fmts); i++) {
		struct qvd_value q;
		if (!fmts[i])
			continue;
		data_txt_interpret(script_tx(ev, v), fmts[i], &q);
		if (q.type != QVD_STRING) {
			*out = q.num;
			return true;
		}
	}
	return false;
}

/* ConvertToLocalTime(timestamp [, place [, ignore_dst]]): without a place, UTC. */
static int fn_convert(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	double utc, local;
	const char *place = script_text_arg(ev, x, v, 1);
	*out = script_null();
	if (timestamp_of(ev, &v[0], &utc) &&
	    at_place(place ? place : "UTC", utc, flag(x, v, 2), &local))
		*out = script_timestamp(ev, local);
	return 0;
}

/* LocalTime([place [, ignore_dst]]): the time now at the place, or in the node's zone. */
static int fn_local_time(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	const char *place = script_text_arg(ev, x, v, 0);
	double local;
	*out = script_null();
	if (!place)
		*out = script_timestamp(ev, script_local_serial(ts.tv_sec, ts.tv_nsec / 1000000));
	else if (at_place(place,
			  (double)ts.tv_sec / 86400.0 + 25569.0 +
			      (double)(ts.tv_nsec / 1000000) / 8.64e7,
			  flag(x, v, 1), &local))
		*out = script_timestamp(ev, local);
	return 0;
}

const struct script_func script_zone_functions[] = {
    SCALAR("ConvertToLocalTime", 1, 3, fn_convert, 0),
    SCALAR("LocalTime", 0, 2, fn_local_time, 0),
};

const size_t script_n_zone_functions =
    sizeof(script_zone_functions) / sizeof(script_zone_functions[0]);
