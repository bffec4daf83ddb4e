/* fn_date.c: the date and time functions of the library (Qlik's "Date and time functions").
 *
 * A date is a day serial: day 0 is 1899-12-30, the fraction the time of day. Functions that
 * answer a date answer a dual: the number, and its text in the script's DateFormat,
 * TimestampFormat or TimeFormat (or the format given). Weeks follow the arguments given,
 * else the script's FirstWeekDay, BrokenWeeks and ReferenceDay, else ISO 8601 (Monday
 * first; week 1 holds January 4);
 * month and day names come from the script's MonthNames and DayNames. "Now" is the node's
 * local time. */
#include "script/eval_int.h"
#include "data/data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MS_DAY (1.0 / 86400000.0) /* one millisecond, in days */

enum fmt_kind { FMT_DATE, FMT_TIMESTAMP, FMT_TIME };

/* The format of a kind: the script's variable, else the default of a new app. */
static const char *format_of(struct eval *ev, enum fmt_kind k)
{
	static const char *const var[] = {"DateFormat", "TimestampFormat", "TimeFormat"};
	static const char *const dflt[] = {"YYYY-MM-DD", "YYYY-MM-DD hh:mm:ss", "hh:mm:ss"};
	const char *f = k == FMT_DATE ? ev->date_format : NULL;
	if (!f && ev->variable)
		f = ev->variable(ev->ctx, var[k]);
	return f && *f ? f : dflt[k];
}

/* x as a dual with the text `fmt` (or the kind's format) writes. */
static struct val dual(struct eval *ev, double x, enum fmt_kind k, const char *fmt)
{
	struct val v = script_num(x);
	char text[160];
	if (data_date_format(x, fmt ? fmt : format_of(ev, k), text, sizeof(text)) == 0)
		v.text = arena_strdup(ev->a, text);
	return v;
}

/* Name i (0-based) of a ";"-separated list in variable `var`, else of `dflt`. */
static const char *name_of(struct eval *ev, const char *var, const char *dflt, int i)
{
	const char *list = ev->variable ? ev->variable(ev->ctx, var) : NULL;
	for (int pass = 0; pass < 2; pass++, list = dflt) {
		const char *s = list;
		for (int k = 0; s && k < i; k++) {
			s = strchr(s, ';');
			s = s ? s + 1 : NULL;
		}
		if (!s || !*s)
			continue;
		size_t n = strcspn(s, ";");
		return arena_strndup(ev->a, s, n);
	}
	return "";
}

static const char month_names[] = "Jan;Feb;Mar;Apr;May;Jun;Jul;Aug;Sep;Oct;Nov;Dec";
static const char day_names[] = "Mon;Tue;Wed;Thu;Fri;Sat;Sun";

/* Argument i as a whole number, within a million either way; `dflt` when absent or NULL. */
static double int_arg(const struct expr *x, const struct val *v, int i, double dflt)
{
	double d;
	if (i >= x->n_args || !script_val_number(&v[i], &d) || isnan(d))
		return dflt;
	return d > 1e6 ? 1e6 : d < -1e6 ? -1e6 : floor(d);
}

/* A value as a day serial of the years -9999 to 9999 (what dates can be); false for
 * anything else. */
static bool day_of(struct eval *ev, const struct val *v, double *out)
{
	return script_day_serial(ev, v, out) && *out > -4.4e6 && *out < 3.0e6;
}

static double serial_ymd(int64_t y, int64_t m, int64_t d)
{
	int64_t m0 = m - 1;
	y += m0 >= 0 ? m0 / 12 : -((11 - m0) / 12);
	m = m0 - 12 * (m0 >= 0 ? m0 / 12 : -((11 - m0) / 12)) + 1;
	return (double)data_serial_date(y, m, d);
}

/* Monday = 0 ... Sunday = 6 (day 0, 1899-12-30, was a Saturday). */
static int weekday(double day)
{
	int64_t w = ((int64_t)floor(day) + 5) % 7;
	return (int)(w < 0 ? w + 7 : w);
}

/* ---------------------------------------------------------------- periods */

enum period { P_DAY, P_WEEK, P_MONTH, P_QUARTER, P_YEAR };

/* The first day of the period of `day`, `shift` periods on. `first` is the first month of
 * the year (1-12) for quarters and years, the first weekday (0 Monday) for weeks. */
static double period_start(double day, enum period p, int64_t shift, int64_t first)
{
	day = floor(day);
	int64_t y, m, d;
	data_civil_date((int64_t)day, &y, &m, &d);
	switch (p) {
	case P_DAY: return day + (double)shift;
	case P_WEEK: {
		int64_t back = (weekday(day) - first % 7 + 7) % 7;
		return day - (double)back + 7.0 * (double)shift;
	}
	case P_MONTH: return serial_ymd(y, m + shift, 1);
	case P_QUARTER:
	case P_YEAR: {
		int64_t len = p == P_QUARTER ? 3 : 12;
		int64_t since = ((m - first) % len + len) % len; /* months into the period */
		return serial_ymd(y, m - since + len * shift, 1);
	}
	}
	return day;
}

/* A whole-number variable of the script (FirstWeekDay, BrokenWeeks, ...), or dflt. */
static int64_t int_var(struct eval *ev, const char *name, int64_t dflt)
{
	const char *t = ev->variable ? ev->variable(ev->ctx, name) : NULL;
	int64_t n;
	return t && str_to_i64(t, -1000, 1000, &n) == 0 ? n : dflt;
}

/* Argument i as the first month of the year (1 to 12, default 1), or for weeks the first
 * weekday (0 Monday ... 6 Sunday; default the script's FirstWeekDay, else 0). */
static int64_t first_arg(struct eval *ev, const struct expr *x, const struct val *v, int i,
			 enum period p)
{
	int64_t dflt = p == P_WEEK ? int_var(ev, "FirstWeekDay", 0) : 1;
	int64_t f = (int64_t)int_arg(x, v, i, (double)dflt);
	if (p == P_WEEK)
		return ((f % 7) + 7) % 7;
	return f < 1 || f > 12 ? 1 : f;
}

/* How weeks are counted: their first day (0 Monday ... 6 Sunday); broken weeks (week 1
 * starts on January 1 and the last ends on December 31) or whole ones (week 1 is the one
 * that holds January `ref`). Week(date[, first[, broken[, ref]]]) takes them from argument
 * i on, else from the script's FirstWeekDay, BrokenWeeks and ReferenceDay, else ISO 8601's
 * (0, whole, 4), which a new Qlik app's header keeps. */
struct week_rules {
	int64_t first, ref;
	bool broken;
};

/* The first day of the week of `day` that starts on weekday `first`. */
static double week_start(double day, int64_t first)
{
	return floor(day) - (double)((weekday(day) - first + 7) % 7);
}

/* The week of a day and the year it counts in, by the rules. */
static void week_of(double day, const struct week_rules *w, int64_t *week, int64_t *year)
{
	int64_t y, m, d;
	day = floor(day);
	data_civil_date((int64_t)day, &y, &m, &d);
	if (w->broken) { /* week 1 from January 1 to the day before the first `first` */
		double jan1 = serial_ymd(y, 1, 1);
		*year = y;
		*week = (int64_t)((day - week_start(jan1, w->first)) / 7) + 1;
		return;
	}
	/* whole weeks: week 1 of year Y is the one that holds January `ref` of Y */
	for (int64_t yy = y + 1; yy >= y - 1; yy--) {
		double one = week_start(serial_ymd(yy, 1, w->ref), w->first);
		if (one <= day) {
			*year = yy;
			*week = (int64_t)((day - one) / 7) + 1;
			return;
		}
	}
	*year = y;
	*week = 1;
}

static struct week_rules week_rules(struct eval *ev, const struct expr *x, const struct val *v,
				    int i)
{
	struct week_rules w = {first_arg(ev, x, v, i, P_WEEK), 4, false};
	w.broken = int_arg(x, v, i + 1, (double)int_var(ev, "BrokenWeeks", 0)) != 0;
	w.ref = (int64_t)int_arg(x, v, i + 2, (double)int_var(ev, "ReferenceDay", 4));
	if (w.ref < 1 || w.ref > 7) /* 0 and others: January 4, as Qlik takes them */
		w.ref = 4;
	return w;
}

static double period_end(double day, enum period p, int64_t shift, int64_t first)
{
	double next = p == P_DAY ? floor(day) + (double)shift + 1
		      : p == P_WEEK
			  ? period_start(day, p, shift, first) + 7
			  : period_start(period_start(day, p, shift, first) + 0.5, p, 1, first);
	return next - MS_DAY;
}

enum { OP_START, OP_END };

static enum period period_of(int op)
{
	return (enum period)(op >> 1);
}

/* MonthStart, MonthEnd, QuarterStart, ..., WeekStart, DayEnd (date[, period_no[, first]]):
 * the first or last millisecond of the period, as a date (the end as a timestamp's number
 * with the date's text, as Qlik shows it). */
static int fn_period(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	double day;
	*out = script_null();
	if (!day_of(ev, &v[0], &day))
		return 0;
	enum period p = period_of(x->fn->op);
	int64_t shift = (int64_t)int_arg(x, v, 1, 0), first = first_arg(ev, x, v, 2, p);
	double r = (x->fn->op & 1) == OP_END ? period_end(day, p, shift, first)
					     : period_start(day, p, shift, first);
	*out = dual(ev, r, p == P_DAY ? FMT_TIMESTAMP : FMT_DATE, NULL);
	return 0;
}

#define PERIOD(p, end) ((int)(p) << 1 | (end))

enum { OP_MSTART, OP_MEND, OP_MNAME };

/* The period of `len` months (counted from the first month of the year) that holds day,
 * shift periods on: its first day, its last moment, or its months' names and year ("Sep-Dec
 * 2013") over its first day. */
static struct val months_value(struct eval *ev, int64_t len, double day, int64_t shift,
			       int64_t first, int op)
{
	int64_t y, m, d;
	data_civil_date((int64_t)floor(day), &y, &m, &d);
	int64_t since = ((m - first) % len + len) % len;
	double start = serial_ymd(y, m - since + len * shift, 1);
	double next = serial_ymd(y, m - since + len * (shift + 1), 1);
	if (op == OP_MSTART)
		return dual(ev, start, FMT_DATE, NULL);
	if (op == OP_MEND)
		return dual(ev, next - 1.0 / 86400000.0, FMT_TIMESTAMP, NULL);
	int64_t y0, m0, d0, y1, m1, d1;
	data_civil_date((int64_t)start, &y0, &m0, &d0);
	data_civil_date((int64_t)next - 1, &y1, &m1, &d1);
	struct val v = script_num(start);
	v.text =
	    arena_printf(ev->a, "%s-%s %lld", name_of(ev, "MonthNames", month_names, (int)m0 - 1),
			 name_of(ev, "MonthNames", month_names, (int)m1 - 1), (long long)y1);
	return v;
}

/* MonthsStart, MonthsEnd, MonthsName (n, date[, period_no[, first_month]]): n of 1, 2, 3, 4
 * or 6 months. */
static int fn_months(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	double n, day;
	*out = script_null();
	if (!script_val_number(&v[0], &n) || !day_of(ev, &v[1], &day))
		return 0;
	int64_t len = (int64_t)n;
	if (len == 1 || len == 2 || len == 3 || len == 4 || len == 6)
		*out = months_value(ev, len, day, (int64_t)int_arg(x, v, 2, 0),
				    first_arg(ev, x, v, 3, P_YEAR), x->fn->op);
	return 0;
}

/* The lunar week that holds day, shift weeks on: lunar weeks count 7 days from 1 January,
 * and the year's last one runs to 31 December (8 or 9 days). Its first day, its number
 * (from 1) and the day after its last into *start, *no, *next. */
static double lunar_start(double day);
static void lunar_week(double day, int64_t shift, double *start, int64_t *no, double *next)
{
	int64_t y, m, d;
	data_civil_date((int64_t)floor(day), &y, &m, &d);
	double jan1 = serial_ymd(y, 1, 1);
	int64_t k = (int64_t)(floor(day) - jan1) / 7;
	k = (k > 51 ? 51 : k) + shift;
	while (k < 0) { /* into the years before */
		y--;
		jan1 = serial_ymd(y, 1, 1);
		k += 52;
	}
	while (k > 51) {
		y++;
		jan1 = serial_ymd(y, 1, 1);
		k -= 52;
	}
	*start = jan1 + 7.0 * (double)k;
	*no = k + 1;
	*next = k == 51 ? serial_ymd(y + 1, 1, 1) : *start + 7;
}

/* The first day of day's own lunar week. */
static double lunar_start(double day)
{
	double s, n;
	int64_t no;
	lunar_week(day, 0, &s, &no, &n);
	return s;
}

enum { OP_LWSTART, OP_LWEND, OP_LWNAME, OP_INLW, OP_INLWTD };

/* LunarWeekStart, LunarWeekEnd, LunarWeekName (date[, period_no[, first_week_day]]):
 * the lunar week's first day, last moment, or "YYYY/WW"; InLunarWeek, InLunarWeekToDate
 * (date, base, period_no[, first_week_day]): whether date falls in base's lunar week (up to
 * base's day in it, for ToDate), period_no weeks on. The first week day shift is not
 * supported: lunar weeks start on 1 January. */
static int fn_lunar(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	double day, start, next, base;
	int64_t no, y, m, d;
	int op = x->fn->op;
	*out = script_null();
	if (!day_of(ev, &v[0], &day))
		return 0;
	if (op == OP_INLW || op == OP_INLWTD) {
		if (!day_of(ev, &v[1], &base))
			return 0;
		lunar_week(base, (int64_t)int_arg(x, v, 2, 0), &start, &no, &next);
		double hi = op == OP_INLWTD
				? fmin(next, start + floor(base) - lunar_start(base) + 1)
				: next;
		*out = script_bool(day >= start && day < hi);
		return 0;
	}
	lunar_week(day, (int64_t)int_arg(x, v, 1, 0), &start, &no, &next);
	if (op == OP_LWSTART) {
		*out = dual(ev, start, FMT_DATE, NULL);
	} else if (op == OP_LWEND) {
		*out = dual(ev, next - 1.0 / 86400000.0, FMT_TIMESTAMP, NULL);
	} else {
		data_civil_date((int64_t)start, &y, &m, &d);
		*out = script_num(start);
		out->text = arena_printf(ev->a, "%lld/%02lld", (long long)y, (long long)no);
	}
	return 0;
}

/* Interval#(text[, format]): a duration written as [-][days ]h[:mm[:ss[.fff]]] (hours may
 * pass 24) as a number of days, with the text kept. */
static int fn_interval_read(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)x;
	*out = script_null();
	if (v[0].null)
		return 0;
	const char *t = script_tx(ev, &v[0]);
	while (*t == ' ')
		t++;
	bool neg = *t == '-';
	t += neg;
	double part[4] = {0, 0, 0, 0}, days = 0; /* h, m, s */
	int n = 0;
	char *end;
	double first = strtod(t, &end);
	if (end == t)
		return 0;
	if (*end == ' ') { /* a day count before the time */
		days = first;
		t = end + 1;
		first = strtod(t, &end);
		if (end == t)
			return 0;
	}
	part[n++] = first;
	while (*end == ':' && n < 3) {
		t = end + 1;
		part[n++] = strtod(t, &end);
		if (end == t)
			return 0;
	}
	while (*end == ' ')
		end++;
	if (*end)
		return 0;
	double r = days + part[0] / 24 + part[1] / 1440 + part[2] / 86400;
	*out = script_num(neg ? -r : r);
	out->text = v[0].text ? v[0].text : script_tx(ev, &v[0]);
	return 0;
}

enum { OP_DAYNAME, OP_QUARTERNAME, OP_YEARNAME };

/* DayName(date[, period_no]): the day's date over its first moment; QuarterName(date[,
 * period_no[, first_month]]): "Jan-Mar 2024"; YearName(date[, period_no[, first_month]]):
 * "2024", or "2023-2024" for a year that starts in another month than January. */
static int fn_names(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	double day;
	*out = script_null();
	if (!day_of(ev, &v[0], &day))
		return 0;
	int64_t shift = (int64_t)int_arg(x, v, 1, 0), first = first_arg(ev, x, v, 2, P_YEAR), y, m,
		d;
	if (x->fn->op == OP_DAYNAME) {
		*out = dual(ev, floor(day) + (double)shift, FMT_DATE, NULL);
	} else if (x->fn->op == OP_QUARTERNAME) {
		*out = months_value(ev, 3, day, shift, first, OP_MNAME);
	} else {
		double start = period_start(day, P_YEAR, shift, first);
		data_civil_date((int64_t)start, &y, &m, &d);
		*out = script_num(start);
		out->text = first == 1
				? arena_printf(ev->a, "%lld", (long long)y)
				: arena_printf(ev->a, "%lld-%lld", (long long)y, (long long)y + 1);
	}
	return 0;
}

#define TO_DATE 64 /* the ...ToDate form: the period only up to base's day in it */

/* InYear, InQuarter, InMonth, InWeek, InDay (date, base, period_no[, first]): whether date
 * falls in the period of base, period_no periods on; InYearToDate, InQuarterToDate,
 * InMonthToDate, InWeekToDate, InDayToTime: in that period up to the end of the day (the
 * moment, for InDayToTime) that lies as far into it as base lies into its own. */
static int fn_in(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	double day, base;
	*out = script_null();
	if (!day_of(ev, &v[0], &day) || !day_of(ev, &v[1], &base))
		return 0;
	int op = x->fn->op & ~TO_DATE;
	enum period p = period_of(op);
	int64_t shift = (int64_t)int_arg(x, v, 2, 0), first = first_arg(ev, x, v, 3, p);
	double lo = period_start(base, p, shift, first), hi = period_end(base, p, shift, first);
	if (x->fn->op & TO_DATE) {
		double into = base - period_start(base, p, 0, first); /* days into its period */
		double cut = p == P_DAY ? lo + into : lo + floor(into) + 1 - 1.0 / 86400000.0;
		hi = cut < hi ? cut : hi;
	}
	*out = script_bool(day >= lo && day <= hi);
	return 0;
}

/* InMonths(n, date, base, period_no[, first_month]), InMonthsToDate(the same): whether
 * date falls in the n-month period of base (n of 1, 2, 3, 4 or 6), period_no periods on;
 * ToDate: up to the end of the day as far into it as base is into its own. */
static int fn_in_months(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	double n, day, base;
	*out = script_null();
	if (!script_val_number(&v[0], &n) || !day_of(ev, &v[1], &day) || !day_of(ev, &v[2], &base))
		return 0;
	int64_t len = (int64_t)n;
	if (len != 1 && len != 2 && len != 3 && len != 4 && len != 6)
		return 0;
	int64_t shift = (int64_t)int_arg(x, v, 3, 0), first = first_arg(ev, x, v, 4, P_YEAR);
	double lo = months_value(ev, len, base, shift, first, OP_MSTART).num;
	double hi = months_value(ev, len, base, shift, first, OP_MEND).num;
	if (x->fn->op) {
		double into = floor(base) - months_value(ev, len, base, 0, first, OP_MSTART).num;
		double cut = lo + into + 1 - 1.0 / 86400000.0;
		hi = cut < hi ? cut : hi;
	}
	*out = script_bool(day >= lo && day <= hi);
	return 0;
}

/* SetDateYear(date, year), SetDateYearMonth(date, year, month): the date (and its time)
 * moved to that year (and month), the day kept where the month has it, else its last. */
static int fn_set_year(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	double a, yy, mm = 0;
	*out = script_null();
	if (!day_of(ev, &v[0], &a) || !script_val_number(&v[1], &yy) ||
	    (x->n_args > 2 && !script_val_number(&v[2], &mm)))
		return 0;
	int64_t y, m, d;
	data_civil_date((int64_t)floor(a), &y, &m, &d);
	if (x->n_args > 2 && (mm < 1 || mm > 12))
		return 0;
	y = (int64_t)yy;
	m = x->n_args > 2 ? (int64_t)mm : m;
	double last = serial_ymd(y, m + 1, 1) - serial_ymd(y, m, 1);
	double r = serial_ymd(y, m, (double)d > last ? (int64_t)last : d) + (a - floor(a));
	*out = dual(ev, r, a == floor(a) ? FMT_DATE : FMT_TIMESTAMP, NULL);
	return 0;
}

/* MakeWeekDate(year[, week[, day]]): the day (0 Monday) of the ISO week of that year. */
static int fn_make_week(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	double yy;
	*out = script_null();
	if (!script_val_number(&v[0], &yy) || fabs(yy) > 9999)
		return 0;
	double week = int_arg(x, v, 1, 1), wd = int_arg(x, v, 2, 0);
	double jan4 = serial_ymd((int64_t)yy, 1, 4); /* always in week 1 */
	double monday = jan4 - weekday(jan4);
	*out = dual(ev, monday + (week - 1) * 7 + wd, FMT_DATE, NULL);
	return 0;
}

/* ---------------------------------------------------------------- parts of a date */

enum {
	OP_YEAR,
	OP_MONTH,
	OP_DAY,
	OP_WEEK,
	OP_WEEKYEAR,
	OP_WEEKDAY,
	OP_DAYOFYEAR,
	OP_DAYOFQUARTER,
	OP_HOUR,
	OP_MINUTE,
	OP_SECOND
};

/* Year, Month, Day, Week, WeekYear, WeekDay, DayNumberOfYear, DayNumberOfQuarter, Hour,
 * Minute, Second. Month
 * and WeekDay are duals (Jan with 1, Mon with 0). */
static int fn_part(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	double a;
	*out = script_null();
	if (!day_of(ev, &v[0], &a))
		return 0;
	int64_t y, m, d, w, wy;
	data_civil_date((int64_t)floor(a), &y, &m, &d);
	/* the time of day in whole milliseconds, so 0.75 is 18:00:00 and not 17:59:59.999 */
	int64_t ms = (int64_t)llround((a - floor(a)) * 86400000.0);
	switch (x->fn->op) {
	case OP_YEAR: *out = script_num((double)y); break;
	case OP_MONTH:
		*out = script_num((double)m);
		out->text = name_of(ev, "MonthNames", month_names, (int)m - 1);
		break;
	case OP_DAY: *out = script_num((double)d); break;
	case OP_WEEK:
	case OP_WEEKYEAR: {
		struct week_rules rules = week_rules(ev, x, v, 1);
		week_of(a, &rules, &w, &wy);
		*out = script_num((double)(x->fn->op == OP_WEEK ? w : wy));
		break;
	}
	case OP_WEEKDAY: { /* the day's name, with its place in the week (from 0) */
		int wd = weekday(a);
		*out = script_num((double)((wd - first_arg(ev, x, v, 1, P_WEEK) + 7) % 7));
		out->text = name_of(ev, "DayNames", day_names, wd);
		break;
	}
	case OP_DAYOFYEAR: {
		int64_t first = first_arg(ev, x, v, 1, P_YEAR);
		*out = script_num(floor(a) - serial_ymd(first > m ? y - 1 : y, first, 1) + 1);
		break;
	}
	case OP_DAYOFQUARTER: {
		int64_t first = first_arg(ev, x, v, 1, P_YEAR);
		*out = script_num(floor(a) - period_start(a, P_QUARTER, 0, first) + 1);
		break;
	}
	case OP_HOUR: *out = script_num((double)(ms / 3600000 % 24)); break;
	case OP_MINUTE: *out = script_num((double)(ms / 60000 % 60)); break;
	default: *out = script_num((double)(ms / 1000 % 60)); break;
	}
	return 0;
}

/* ---------------------------------------------------------------- making dates */

/* MakeDate(YYYY[, MM[, DD]]), MakeTime(hh[, mm[, ss]]). */
static int fn_make(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	double a;
	*out = script_null();
	if (!script_val_number(&v[0], &a))
		return 0;
	double b = int_arg(x, v, 1, x->fn->op ? 0 : 1), c = int_arg(x, v, 2, x->fn->op ? 0 : 1);
	if (x->fn->op == 0) {
		if (!(fabs(a) <= 9999) || b < 1 || b > 12 || c < 1 || c > 31)
			return 0;
		*out = dual(ev, serial_ymd((int64_t)a, (int64_t)b, (int64_t)c), FMT_DATE, NULL);
	} else {
		double s = 2 < x->n_args && script_val_number(&v[2], &c) ? c : 0;
		double t = (floor(a) * 3600 + b * 60 + s) / 86400;
		*out = fabs(t) < 3.0e6 ? dual(ev, t, FMT_TIME, NULL) : script_num(t);
	}
	return 0;
}

/* AddMonths(date, n[, mode]), AddYears(date, n): the same day n months (years) on, or the
 * month's last day where it has no such day; mode 1 keeps a month's last day the last. */
static int fn_add(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	double a, n = int_arg(x, v, 1, NAN);
	*out = script_null();
	if (!day_of(ev, &v[0], &a) || isnan(n))
		return 0;
	int64_t y, m, d, months = (int64_t)n * (x->fn->op ? 12 : 1);
	data_civil_date((int64_t)floor(a), &y, &m, &d);
	double start = serial_ymd(y, m + months, 1);
	double last = serial_ymd(y, m + months + 1, 1) - 1;
	bool was_last = serial_ymd(y, m, d) == serial_ymd(y, m + 1, 1) - 1;
	double day =
	    x->n_args > 2 && int_arg(x, v, 2, 0) == 1 && was_last ? last : start + (double)d - 1;
	*out = dual(ev, (day > last ? last : day) + (a - floor(a)), FMT_DATE, NULL);
	return 0;
}

double script_local_serial(time_t t, long ms)
{
	struct tm tm;
	localtime_r(&t, &tm);
	double day = serial_ymd(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	return day +
	       (tm.tm_hour * 3600.0 + tm.tm_min * 60.0 + tm.tm_sec + (double)ms / 1000.0) / 86400.0;
}

struct val script_timestamp(struct eval *ev, double serial)
{
	return dual(ev, serial, FMT_TIMESTAMP, NULL);
}

/* Today([mode]), Now([mode]): the node's local date, or date and time. */
static int fn_now(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)v;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	double now = script_local_serial(ts.tv_sec, ts.tv_nsec / 1000000);
	*out =
	    x->fn->op ? dual(ev, now, FMT_TIMESTAMP, NULL) : dual(ev, floor(now), FMT_DATE, NULL);
	return 0;
}

/* MonthName(date[, period_no]): "Jan 2024" over the month's first day; WeekName(date[,
 * period_no[, first_week_day[, broken_weeks[, reference_day]]]]): "2024/03", the week's
 * year and number by the week rules, over the week's first day. */
static int fn_name(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	double a;
	*out = script_null();
	if (!day_of(ev, &v[0], &a))
		return 0;
	int64_t shift = (int64_t)int_arg(x, v, 1, 0), y, m, d, w, wy;
	struct week_rules rules = week_rules(ev, x, v, 2);
	double start =
	    period_start(a, x->fn->op ? P_WEEK : P_MONTH, shift, x->fn->op ? rules.first : 1);
	*out = script_num(start);
	if (x->fn->op) {
		week_of(floor(a) + 7.0 * (double)shift, &rules, &w,
			&wy); /* the day's, as weeks may be broken */
		out->text = arena_printf(ev->a, "%lld/%02lld", (long long)wy, (long long)w);
	} else {
		data_civil_date((int64_t)start, &y, &m, &d);
		out->text =
		    arena_printf(ev->a, "%s %lld",
				 name_of(ev, "MonthNames", month_names, (int)m - 1), (long long)y);
	}
	return 0;
}

/* YearToDate(date[, yearoffset[, firstmonth[, todaydate]]]): whether date falls between
 * the start of its year (offset years back) and the same day of that year as today. */
static int fn_ytd(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	double a, today;
	*out = script_null();
	if (!day_of(ev, &v[0], &a))
		return 0;
	if (x->n_args < 4 || !day_of(ev, &v[3], &today)) {
		struct val t;
		struct expr none = {.fn = x->fn, .n_args = 0};
		fn_now(ev, &none, v, &t);
		today = floor(t.num);
	}
	int64_t off = (int64_t)int_arg(x, v, 1, 0), first = first_arg(ev, x, v, 2, P_YEAR);
	int64_t y, m, d;
	data_civil_date((int64_t)today, &y, &m, &d);
	double lo = period_start(today, P_YEAR, off, first);
	double hi = serial_ymd(y + off, m, d) + 1 - MS_DAY;
	*out = script_bool(a >= lo && a <= hi);
	return 0;
}

/* NetWorkDays(start, end[, holiday...]): Monday to Friday from start to end, both counted,
 * less the holidays that fall on them. */
static int fn_networkdays(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	double a, b;
	*out = script_null();
	if (!day_of(ev, &v[0], &a) || !day_of(ev, &v[1], &b))
		return 0;
	a = floor(a);
	b = floor(b);
	if (b < a) {
		*out = script_num(0);
		return 0;
	}
	double days = b - a + 1, weeks = floor(days / 7), n = weeks * 5;
	for (double dd = a + weeks * 7; dd <= b; dd++)
		n += weekday(dd) < 5;
	for (int i = 2; i < x->n_args; i++) {
		double h;
		bool dup = false;
		if (!day_of(ev, &v[i], &h) || (h = floor(h)) < a || h > b || weekday(h) >= 5)
			continue;
		for (int j = 2; j < i && !dup; j++) {
			double o;
			dup = day_of(ev, &v[j], &o) && floor(o) == h;
		}
		n -= !dup;
	}
	*out = script_num(n);
	return 0;
}

/* LastWorkDate(start, n[, holiday...]): the day the n-th working day (Monday to Friday, not
 * a holiday) from start falls on; FirstWorkDate(end, n[, holiday...]): the day to start on
 * to have n working days by end. */
static int fn_workdate(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	double day, n;
	*out = script_null();
	if (!day_of(ev, &v[0], &day) || !script_val_number(&v[1], &n) || n < 1 || n > 1e6)
		return 0;
	int step = x->fn->op, count = 0;
	for (day = floor(day);; day += step) {
		bool off = weekday(day) >= 5;
		for (int i = 2; i < x->n_args && !off; i++) {
			double h;
			off = day_of(ev, &v[i], &h) && floor(h) == day;
		}
		if (!off && ++count >= (int)n)
			break;
	}
	*out = dual(ev, day, FMT_DATE, NULL);
	return 0;
}

/* Interval(x[, format]): a duration in days with the text of format codes D (days), h or
 * hh (hours; all of them when there is no D), m or mm, s or ss; default the script's
 * TimeFormat. */
static int fn_interval(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	double a;
	*out = script_null();
	if (!script_val_number(&v[0], &a))
		return 0;
	*out = script_num(a);
	if (!(fabs(a) < 1e9)) /* a billion days: no text */
		return 0;
	const char *fmt = script_text_arg(ev, x, v, 1);
	if (!fmt)
		fmt = format_of(ev, FMT_TIME);
	bool neg = a < 0, days = strchr(fmt, 'D') || strchr(fmt, 'd');
	int64_t ms = llround(fabs(a) * 86400000.0), s = ms / 1000;
	struct buf b;
	buf_init(&b, 256);
	int bad = neg ? buf_puts(&b, "-") : 0;
	for (const char *p = fmt; *p && !bad;) {
		size_t n = strspn(p, (char[]){*p, 0});
		int64_t val = -1;
		if (*p == 'D' || *p == 'd')
			val = s / 86400;
		else if (*p == 'h')
			val = days ? s / 3600 % 24 : s / 3600;
		else if (*p == 'm')
			val = s / 60 % 60;
		else if (*p == 's')
			val = s % 60;
		bad = val >= 0 ? buf_printf(&b, "%0*lld", (int)(n > 2 ? 2 : n), (long long)val)
			       : buf_append(&b, p, n);
		p += n;
	}
	*out = script_num(a);
	if (!bad)
		out->text = arena_strndup(ev->a, b.data ? b.data : "", b.len);
	buf_release(&b);
	return 0;
}

/* ---------------------------------------------------------------- formats */

enum {
	OP_DATE,
	OP_DATE_INTERPRET,
	OP_TIMESTAMP,
	OP_TIME,
	OP_TIMESTAMP_INTERPRET,
	OP_TIME_INTERPRET
};

/* Date, Timestamp and Time (x[, format]): x, a day serial (a number, or a text that reads
 * as a date), unchanged, with the text the format writes: the one given, or else the
 * script's DateFormat, TimestampFormat or TimeFormat. Date#, Timestamp# and Time#(text[,
 * format]) read a text in the format (or the script's) and keep the text. */
static int fn_date(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	static const enum fmt_kind kind[] = {FMT_DATE, FMT_DATE,      FMT_TIMESTAMP,
					     FMT_TIME, FMT_TIMESTAMP, FMT_TIME};
	int op = x->fn->op;
	bool interpret = op == OP_DATE_INTERPRET || op >= OP_TIMESTAMP_INTERPRET;
	const char *fmt = script_text_arg(ev, x, v, 1);
	if (!fmt)
		fmt = format_of(ev, kind[op]);
	double a = 0;
	*out = script_null();
	if (interpret && !v[0].null && !script_val_number(&v[0], &a)) {
		struct qvd_value q;
		static const char *const vars[4] = {"MonthNames", "LongMonthNames", "DayNames",
						    "LongDayNames"};
		const char *names[4];
		for (int i = 0; i < 4; i++)
			names[i] = ev->variable ? ev->variable(ev->ctx, vars[i]) : NULL;
		data_txt_interpret_names(script_tx(ev, &v[0]), fmt, names, &q);
		if (q.type != QVD_STRING)
			*out = script_num(q.num), out->text = script_tx(ev, &v[0]);
		return 0;
	}
	if (!day_of(ev, &v[0], &a))
		return 0;
	*out = interpret ? script_num(a) : dual(ev, a, kind[op], fmt);
	if (interpret)
		out->text = v[0].text;
	return 0;
}

const struct script_func script_date_functions[] = {
    SCALAR("Year", 1, 1, fn_part, OP_YEAR),
    SCALAR("Month", 1, 1, fn_part, OP_MONTH),
    SCALAR("Day", 1, 1, fn_part, OP_DAY),
    SCALAR("Week", 1, 4, fn_part, OP_WEEK),
    SCALAR("WeekYear", 1, 4, fn_part, OP_WEEKYEAR),
    SCALAR("WeekDay", 1, 2, fn_part, OP_WEEKDAY),
    SCALAR("DayNumberOfYear", 1, 2, fn_part, OP_DAYOFYEAR),
    SCALAR("DayNumberOfQuarter", 1, 2, fn_part, OP_DAYOFQUARTER),
    SCALAR("Hour", 1, 1, fn_part, OP_HOUR),
    SCALAR("Minute", 1, 1, fn_part, OP_MINUTE),
    SCALAR("Second", 1, 1, fn_part, OP_SECOND),
    SCALAR("Date", 1, 2, fn_date, OP_DATE),
    SCALAR("Date#", 1, 2, fn_date, OP_DATE_INTERPRET),
    SCALAR("Timestamp", 1, 2, fn_date, OP_TIMESTAMP),
    SCALAR("Timestamp#", 1, 2, fn_date, OP_TIMESTAMP_INTERPRET),
    SCALAR("Time", 1, 2, fn_date, OP_TIME),
    SCALAR("Time#", 1, 2, fn_date, OP_TIME_INTERPRET),
    SCALAR("Interval", 1, 2, fn_interval, 0),
    SCALAR("MakeDate", 1, 3, fn_make, 0),
    SCALAR("MakeTime", 1, 3, fn_make, 1),
    SCALAR("AddMonths", 2, 3, fn_add, 0),
    SCALAR("AddYears", 2, 2, fn_add, 1),
    SCALAR("Today", 0, 1, fn_now, 0),
    SCALAR("Now", 0, 1, fn_now, 1),
    SCALAR("MonthName", 1, 2, fn_name, 0),
    SCALAR("WeekName", 1, 5, fn_name, 1),
    SCALAR("YearToDate", 1, 4, fn_ytd, 0),
    SCALAR("NetWorkDays", 2, 16, fn_networkdays, 0),
    SCALAR("DayStart", 1, 3, fn_period, PERIOD(P_DAY, OP_START)),
    SCALAR("DayEnd", 1, 3, fn_period, PERIOD(P_DAY, OP_END)),
    SCALAR("WeekStart", 1, 3, fn_period, PERIOD(P_WEEK, OP_START)),
    SCALAR("WeekEnd", 1, 3, fn_period, PERIOD(P_WEEK, OP_END)),
    SCALAR("MonthStart", 1, 2, fn_period, PERIOD(P_MONTH, OP_START)),
    SCALAR("MonthEnd", 1, 2, fn_period, PERIOD(P_MONTH, OP_END)),
    SCALAR("MonthsStart", 2, 4, fn_months, OP_MSTART),
    SCALAR("MonthsEnd", 2, 4, fn_months, OP_MEND),
    SCALAR("MonthsName", 2, 4, fn_months, OP_MNAME),
    SCALAR("DayName", 1, 2, fn_names, OP_DAYNAME),
    SCALAR("Interval#", 1, 2, fn_interval_read, 0),
    SCALAR("LunarWeekStart", 1, 3, fn_lunar, OP_LWSTART),
    SCALAR("LunarWeekEnd", 1, 3, fn_lunar, OP_LWEND),
    SCALAR("LunarWeekName", 1, 3, fn_lunar, OP_LWNAME),
    SCALAR("InLunarWeek", 3, 4, fn_lunar, OP_INLW),
    SCALAR("InLunarWeekToDate", 3, 4, fn_lunar, OP_INLWTD),
    SCALAR("QuarterName", 1, 3, fn_names, OP_QUARTERNAME),
    SCALAR("YearName", 1, 3, fn_names, OP_YEARNAME),
    SCALAR("LastWorkDate", 2, 16, fn_workdate, 1),
    SCALAR("FirstWorkDate", 2, 16, fn_workdate, -1),
    SCALAR("QuarterStart", 1, 3, fn_period, PERIOD(P_QUARTER, OP_START)),
    SCALAR("QuarterEnd", 1, 3, fn_period, PERIOD(P_QUARTER, OP_END)),
    SCALAR("YearStart", 1, 3, fn_period, PERIOD(P_YEAR, OP_START)),
    SCALAR("YearEnd", 1, 3, fn_period, PERIOD(P_YEAR, OP_END)),
    SCALAR("InDay", 3, 4, fn_in, PERIOD(P_DAY, 0)),
    SCALAR("InWeek", 3, 4, fn_in, PERIOD(P_WEEK, 0)),
    SCALAR("InMonth", 3, 3, fn_in, PERIOD(P_MONTH, 0)),
    SCALAR("InQuarter", 3, 4, fn_in, PERIOD(P_QUARTER, 0)),
    SCALAR("InYear", 3, 4, fn_in, PERIOD(P_YEAR, 0)),
    SCALAR("InYearToDate", 3, 4, fn_in, PERIOD(P_YEAR, 0) | TO_DATE),
    SCALAR("InQuarterToDate", 3, 4, fn_in, PERIOD(P_QUARTER, 0) | TO_DATE),
    SCALAR("InMonthToDate", 3, 3, fn_in, PERIOD(P_MONTH, 0) | TO_DATE),
    SCALAR("InWeekToDate", 3, 4, fn_in, PERIOD(P_WEEK, 0) | TO_DATE),
    SCALAR("InDayToTime", 3, 4, fn_in, PERIOD(P_DAY, 0) | TO_DATE),
    SCALAR("InMonths", 4, 5, fn_in_months, 0),
    SCALAR("InMonthsToDate", 4, 5, fn_in_months, 1),
    SCALAR("SetDateYear", 2, 2, fn_set_year, 0),
    SCALAR("SetDateYearMonth", 3, 3, fn_set_year, 0),
    SCALAR("MakeWeekDate", 1, 3, fn_make_week, 0),
};

const size_t script_n_date_functions =
    sizeof(script_date_functions) / sizeof(script_date_functions[0]);
