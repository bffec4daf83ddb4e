/* txt_values.c: how a text cell reads as Qlik reads it: a plain decimal number (exactly as
 * strtod would round it), a date or timestamp in the script's DateFormat (with its month
 * and day names), or a text (see txt.c for the reader). */
#include "data/data_int.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return n > 0;
}

int64_t data_serial_date(int64_t y, int64_t m, int64_t d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	int64_t days_since_1970 = era * 146097 + doe - 719468;
	return days_since_1970 + 25569; /* 1970-01-01 is serial 25569 */
}

static bool leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Reads `digits` digits at s into *v; with `flex`, one digit where the next is not one
 * (1/15/2020 in M/D/YYYY). The count read, or 0. */
static size_t read_digits(const char *s, size_t digits, bool flex, int64_t *v)
{
	if (flex && isdigit((unsigned char)s[0]) && !isdigit((unsigned char)s[1]))
		digits = 1;
	if (!all_digits(s, digits))
		return 0;
	*v = 0;
	for (size_t j = 0; j < digits; j++)
		*v = *v * 10 + (s[j] - '0');
	return digits;
}

static const char *const default_names[4] = {
    "Jan;Feb;Mar;Apr;May;Jun;Jul;Aug;Sep;Oct;Nov;Dec",
    "January;February;March;April;May;June;July;August;September;October;November;December",
    "Mon;Tue;Wed;Thu;Fri;Sat;Sun", "Monday;Tuesday;Wednesday;Thursday;Friday;Saturday;Sunday"};

/* The entry of a ";"-separated list of names that s starts with (without case; the longest
 * when several do), from 0, with its length in *len; or -1. */
static int match_name(const char *s, const char *list, size_t *len)
{
	int best = -1;
	*len = 0;
	for (int i = 0; list && *list; i++) {
		size_t n = strcspn(list, ";");
		if (n > *len && strncasecmp(s, list, n) == 0) {
			best = i;
			*len = n;
		}
		list += n + (list[n] == ';');
	}
	return best;
}

/* A month (MMM, MMMM) or day (WWW, WWWW) name at s by names[] (short and long months, short
 * and long days: either length reads, as Qlik reads them): its number from 1, and the
 * count of bytes read in *got; or 0. */
static int read_name(const char *s, const char *const names[4], bool days, size_t *got)
{
	size_t ls = 0, ll = 0;
	int is = match_name(s, names[days ? 2 : 0], &ls),
	    il = match_name(s, names[days ? 3 : 1], &ll);
	if (il >= 0 && ll >= ls) {
		*got = ll;
		return il + 1;
	}
	*got = is >= 0 ? ls : 0;
	return is + 1;
}

/* A date, time or timestamp in `fmt`: Y, M, D (any case) for the date, MMM and MMMM a
 * month's name and WWW and WWWW a day's (by `names`); h, m (after an h: minutes), s and f
 * for the time of day; TT for AM or PM; other characters as they are. A format without a
 * date reads a time of day alone; a date without a year is in 1900, without a day on the
 * month's first. */
static bool parse_date(const char *s, const char *fmt, const char *const names[4], double *out)
{
	int64_t y = -1, m = -1, d = -1, part[4] = {0, 0, 0, 0}; /* h, m, s, fraction */
	int64_t frac_div = 1, pm = -1;
	bool has_date = false, seen_h = false;
	size_t i = 0, k = 0;
	while (fmt[k]) {
		char raw = fmt[k], f = (char)toupper((unsigned char)raw);
		size_t run = 0;
		while (fmt[k + run] == raw)
			run++;
		int64_t v = 0;
		size_t got = 0;
		if ((f == 'T') && run == 2) {
			char c = (char)toupper((unsigned char)s[i]);
			if ((c != 'A' && c != 'P') || toupper((unsigned char)s[i + 1]) != 'M')
				return false;
			pm = c == 'P';
			got = 2;
		} else if (raw == 'h' || (raw == 'm' && seen_h) || raw == 's' || raw == 'f') {
			int at = raw == 'h' ? 0 : raw == 'm' ? 1 : raw == 's' ? 2 : 3;
			got = read_digits(s + i, run > 1 || raw == 'f' ? run : 2, run == 1, &v);
			if (!got)
				return false;
			part[at] = v;
			if (raw == 'f')
				for (size_t z = 0; z < got; z++)
					frac_div *= 10;
			seen_h = seen_h || raw == 'h';
		} else if ((f == 'M' || f == 'W') && run >= 3) {
			int n = read_name(s + i, names, f == 'W', &got);
			if (!n)
				return false;
			if (f == 'M')
				m = n;
			has_date = has_date || f == 'M';
		} else if (f == 'Y' || f == 'M' || f == 'D') {
			/* M and D: one digit, or two (1/15/2020) */
			got = read_digits(s + i, f == 'Y' || run > 1 ? run : 2,
					  f != 'Y' && run == 1, &v);
			if (!got)
				return false;
			if (f == 'Y')
				y = run == 2 ? 1900 + v + (v < 30 ? 100 : 0) : v;
			else if (f == 'M')
				m = v;
			else
				d = v;
			has_date = true;
		} else {
			if (s[i] != fmt[k])
				return false;
			got = 1;
			run = 1;
		}
		i += got;
		k += run;
	}
	if (pm >= 0 && (part[0] < 1 || part[0] > 12))
		return false;
	if (pm >= 0)
		part[0] = part[0] % 12 + 12 * pm;
	if (s[i] || part[0] > 23 || part[1] > 59 || part[2] > 59)
		return false;
	double time = ((double)part[0] * 3600 + (double)part[1] * 60 + (double)part[2] +
		       (double)part[3] / (double)frac_div) /
		      86400.0;
	if (!has_date) {
		*out = time;
		return true;
	}
	if (m >= 1 && d < 0) /* a month without its day ("Jan 2024" in MMM YYYY): the first */
		d = 1;
	if (m >= 1 && y < 0) /* a month alone ("Jan" in MMM, as budget sheets have): 1900 */
		y = 1900;
	if (y < 0 || m < 1 || m > 12 || d < 1)
		return false;
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (d > mdays[m - 1] + (m == 2 && leap(y)))
		return false;
	*out = (double)data_serial_date(y, m, d) + time;
	return true;
}

/* A plain decimal number: [+-] digits [. digits], at most 15 significant digits. */
static bool parse_number(const char *s, double *out)
{
	const char *p = s;
	if (*p == '+' || *p == '-')
		p++;
	size_t int_digits = 0, frac_digits = 0, sig = 0;
	bool leading = true;
	const char *q = p;
	while (isdigit((unsigned char)*q)) {
		if (*q != '0')
			leading = false;
		if (!leading)
			sig++;
		int_digits++;
		q++;
	}
	if (*q == '.') {
		q++;
		while (isdigit((unsigned char)*q)) {
			if (*q != '0')
				leading = false;
			if (!leading)
				sig++;
			frac_digits++;
			q++;
		}
	}
	bool exponent = false;
	if (int_digits + frac_digits > 0 && (*q == 'e' || *q == 'E')) {
		/* Qlik reads exponents: "845E84" in lego's colors.csv is 8.45e86 */
		const char *x = q + 1;
		if (*x == '+' || *x == '-')
			x++;
		if (isdigit((unsigned char)*x)) {
			while (isdigit((unsigned char)*x))
				x++;
			q = x;
			exponent = true;
		}
	}
	if (*q || int_digits + frac_digits == 0 || sig > 15)
		return false;
	if (int_digits + frac_digits <= 15 && !exponent) {
		/* at most 15 digits and no exponent: the digits as a whole number, divided by a
		 * power of ten, are both exact in binary64, so the quotient is the correctly
		 * rounded value strtod would give */
		static const double pow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,	 1e6,  1e7,
					       1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
		int64_t m = 0;
		for (const char *d = p; d < q; d++)
			if (*d != '.')
				m = m * 10 + (*d - '0');
		double v = (double)m / pow10[frac_digits];
		*out = *s == '-' ? -v : v;
		return true;
	}
	*out = strtod(s, NULL);
	return isfinite(*out);
}

void data_txt_interpret(const char *text, const char *date_format, struct qvd_value *out)
{
	data_txt_interpret_names(text, date_format, NULL, out);
}

void data_txt_interpret_names(const char *text, const char *date_format, const char *const names[4],
			      struct qvd_value *out)
{
	const char *given[4];
	for (int i = 0; i < 4; i++)
		given[i] = names && names[i] && *names[i] ? names[i] : default_names[i];
	out->text = text;
	out->num = 0;
	out->type = QVD_STRING;
	double v;
	if (parse_number(text, &v) ||
	    parse_date(text, date_format ? date_format : "YYYY-MM-DD", given, &v)) {
		out->num = v;
		out->type = v == floor(v) && v >= INT32_MIN && v <= INT32_MAX ? QVD_DUAL_INT
									      : QVD_DUAL_DOUBLE;
	}
}
