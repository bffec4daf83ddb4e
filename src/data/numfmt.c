/* numfmt.c: numbers written as a Qlik number format code says: "#,##0", "#,##0.00",
 * "0.0%", "$#,##0;($#,##0)", "0000". The code is a prefix, the digits (0: always a digit,
 * #: a digit when there is one; the thousands separator among the integer digits groups
 * them by three; the decimal separator starts the decimals) and a suffix; a second section
 * after ';' is for negative numbers, written without their sign. A '%' in the prefix or
 * suffix multiplies by 100. The separators are the ones the format names (qDec, qThou). */
#include "data/data_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* What is written so far into out[n]; len past n - 1 means it did not fit. */
struct out {
	char *p;
	size_t n, len;
};

static void put(struct out *w, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++, w->len++)
		if (w->len + 1 < w->n)
			w->p[w->len] = s[i];
}

static int count(const char *s, size_t n, const char *set)
{
	int c = 0;
	for (size_t i = 0; i < n; i++)
		c += strchr(set, s[i]) != NULL;
	return c;
}

int data_num_format(double x, const char *fmt, const char *dec, const char *thou, char *out,
		    size_t n)
{
	if (!isfinite(x) || !fmt || !*fmt || !out || n < 2)
		return -1;
	if (!dec || !*dec)
		dec = ".";
	if (!thou)
		thou = "";
	/* the section: the second one for a negative number when there is one */
	const char *sec = fmt, *semi = strchr(fmt, ';');
	size_t len = semi ? (size_t)(semi - fmt) : strlen(fmt);
	bool minus = x < 0;
	if (minus && semi && semi[1]) {
		sec = semi + 1;
		len = strlen(sec);
		minus = false;
	}
	size_t first = strcspn(sec, "0#");
	if (first >= len)
		return -1;
	size_t last = len - 1;
	while (last > first && sec[last] != '0' && sec[last] != '#')
		last--;
	const char *core = sec + first;
	size_t core_len = last - first + 1;
	/* the decimals start at the decimal separator, when the core holds one */
	size_t int_len = core_len, dl = strlen(dec);
	for (size_t i = 0; i + dl <= core_len; i++)
		if (memcmp(core + i, dec, dl) == 0) {
			int_len = i;
			break;
		}
	const char *frac = core + int_len + (int_len < core_len ? dl : 0);
	size_t frac_len = int_len < core_len ? core_len - int_len - dl : 0;
	int min_frac = count(frac, frac_len, "0"), max_frac = count(frac, frac_len, "0#");
	int min_int = count(core, int_len, "0");
	bool group = *thou && int_len >= strlen(thou) && memmem(core, int_len, thou, strlen(thou));
	bool percent = memchr(sec, '%', first) || memchr(sec + last + 1, '%', len - last - 1);
	double v = fabs(x) * (percent ? 100.0 : 1.0);
	if (max_frac > 15 || min_int > 30)
		return -1;
	char digits[400];
	int dn = snprintf(digits, sizeof(digits), "%.*f", max_frac, v);
	if (dn < 0 || (size_t)dn >= sizeof(digits))
		return -1;
	char *point = strchr(digits, '.');
	char *fd = point ? point + 1 : digits + dn;
	size_t il = point ? (size_t)(point - digits) : (size_t)dn, fl = strlen(fd);
	while (fl > (size_t)min_frac && fd[fl - 1] == '0')
		fl--;
	bool zero = strspn(digits, "0.") == (size_t)dn;
	const char *id = digits; /* a lone "0" stays, even for "#.##" */
	struct out w = {out, n, 0};
	if (minus && !zero)
		put(&w, "-", 1);
	put(&w, sec, first);
	for (int z = (int)il; z < min_int; z++)
		put(&w, "0", 1);
	for (size_t i = 0; i < il; i++) {
		put(&w, id + i, 1);
		if (group && (il - i - 1) % 3 == 0 && i + 1 < il)
			put(&w, thou, strlen(thou));
	}
	if (fl > 0) {
		put(&w, dec, strlen(dec));
		put(&w, fd, fl);
	}
	put(&w, sec + last + 1, len - last - 1);
	if (w.len >= n)
		return -1;
	out[w.len] = '\0';
	return 0;
}

/* ---------------------------------------------------------------- dates and times */

void data_civil_date(int64_t serial, int64_t *y, int64_t *m, int64_t *d)
{
	int64_t z = serial - 25569 + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp + (mp < 10 ? 3 : -9);
	*y = yoe + era * 400 + (*m <= 2);
}

static size_t run_of(const char *s, char c)
{
	size_t n = 0;
	while (s[n] == c)
		n++;
	return n;
}

static void put_num(struct out *w, int64_t v, int width)
{
	char b[32];
	int len = snprintf(b, sizeof(b), "%0*lld", width < 20 ? width : 20, (long long)v);
	put(w, b, len > 0 && (size_t)len < sizeof(b) ? (size_t)len : 0);
}

struct moment {
	int64_t year;
	int month, day, wday; /* wday: 0 = Monday */
	int hour, min, sec, msec;
};

static const char *const month_names[] = {"January",   "February", "March",    "April",
					  "May",       "June",	   "July",     "August",
					  "September", "October",  "November", "December"};
static const char *const day_names[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
					"Friday", "Saturday", "Sunday"};

/* One code of a date format at fmt (a run of one letter); returns its length, or 0 when
 * fmt is not a code. */
static size_t date_code(struct out *w, const char *fmt, const struct moment *t, bool ampm)
{
	char c = fmt[0];
	size_t n = run_of(fmt, c);
	int hour12 = t->hour % 12 == 0 ? 12 : t->hour % 12;
	switch (c) {
	case 'Y':
	case 'y': put_num(w, n <= 2 ? t->year % 100 : t->year, n <= 2 ? 2 : (int)n); return n;
	case 'M':
		if (n >= 3) {
			const char *name = month_names[t->month - 1];
			put(w, name, n == 3 ? 3 : strlen(name));
		} else {
			put_num(w, t->month, (int)n);
		}
		return n;
	case 'D':
	case 'd': put_num(w, t->day, n >= 2 ? 2 : 1); return n;
	case 'W':
	case 'w':
		if (n >= 3)
			put(w, day_names[t->wday], n == 3 ? 3 : strlen(day_names[t->wday]));
		else
			put_num(w, t->wday, 1);
		return n;
	case 'h':
	case 'H': put_num(w, ampm ? hour12 : t->hour, n >= 2 ? 2 : 1); return n;
	case 'm': put_num(w, t->min, n >= 2 ? 2 : 1); return n;
	case 's':
	case 'S': put_num(w, t->sec, n >= 2 ? 2 : 1); return n;
	case 'f':
	case 'F': {
		char b[8];
		snprintf(b, sizeof(b), "%03d", t->msec);
		put(w, b, n < 3 ? n : 3);
		for (size_t i = 3; i < n; i++)
			put(w, "0", 1);
		return n;
	}
	case 'T':
	case 't':
		if (n < 2)
			return 0;
		put(w, t->hour < 12 ? (c == 'T' ? "AM" : "am") : (c == 'T' ? "PM" : "pm"), 2);
		return n;
	default: return 0;
	}
}

int data_date_format(double x, const char *fmt, char *out, size_t n)
{
	if (!isfinite(x) || fabs(x) > 2958465.0 * 4 || !n) /* within years -9999 .. 9999 */
		return -1;
	double day = floor(x);
	int64_t ms = llround((x - day) * 86400000.0);
	if (ms >= 86400000) /* rounded up to the next day */
		day += 1, ms = 0;
	struct moment t = {.hour = (int)(ms / 3600000),
			   .min = (int)(ms / 60000 % 60),
			   .sec = (int)(ms / 1000 % 60),
			   .msec = (int)(ms % 1000)};
	int64_t month, mday;
	data_civil_date((int64_t)day, &t.year, &month, &mday);
	t.month = (int)month, t.day = (int)mday;
	t.wday = (int)((((int64_t)day - 2) % 7 + 7) % 7); /* serial 2 (1900-01-01): a Monday */
	bool ampm = strstr(fmt, "TT") || strstr(fmt, "tt");
	struct out w = {out, n, 0};
	for (size_t k = 0; fmt[k];) {
		if (fmt[k] == '[') { /* an optional part: shown when its fraction is not zero */
			const char *end = strchr(fmt + k, ']');
			size_t len = end ? (size_t)(end - fmt - k) : strlen(fmt + k);
			if (t.msec == 0) {
				k += len + (end != NULL);
				continue;
			}
			k++;
			continue;
		}
		if (fmt[k] == ']') {
			k++;
			continue;
		}
		size_t used = date_code(&w, fmt + k, &t, ampm);
		if (!used)
			put(&w, fmt + k, 1), used = 1;
		k += used;
	}
	if (w.len + 1 > n)
		return -1;
	out[w.len] = '\0';
	return 0;
}
