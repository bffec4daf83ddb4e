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
