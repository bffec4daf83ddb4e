/* test_corpus.c: the script corpus (tests/scripts): load scripts of the kinds sites bring
 * along (calendars, incremental loads, logging subroutines, budget sheets, slowly changing
 * dimensions, ...), each with its small data, reloaded as a node reloads them and checked
 * against what each should produce (its expected.txt; the format is in
 * tests/scripts/README.md). Each case runs on a copy of its folder, which is the data
 * connection Data (and the script may write into it, as incremental loads do). */
#include "unit.h"

#include "script/script.h"
#include "share/share.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <sys/stat.h>

static char *work;	     /* the copy of the case being run */
static char log_text[65536]; /* its reload log */

static int open_file(void *ctx, const char *path, bool for_write, int *fd, char *leaf, size_t n,
		     struct err *e)
{
	(void)ctx;
	struct share_lib lib;
	struct err ie;
	err_init(&ie);
	if (share_lib_init(&lib, "Data", work, &ie) != 0)
		return err_set(e, ERR_INVALID, "%s", ie.message);
	return share_lib_open(&lib, 1, path, for_write, fd, leaf, n, e);
}

static void log_line(void *ctx, const char *line)
{
	(void)ctx;
	size_t l = strlen(log_text);
	snprintf(log_text + l, sizeof(log_text) - l, "%s\n", line);
}

/* Copies folder `from` into `to` (made), files and folders. */
static void copy_tree(const char *from, const char *to)
{
	assert_int_equal(mkdir(to, 0700) == 0 || errno == EEXIST, 1);
	DIR *d = opendir(from);
	assert_non_null(d);
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		char src[4096], dst[4096];
		snprintf(src, sizeof(src), "%s/%s", from, de->d_name);
		snprintf(dst, sizeof(dst), "%s/%s", to, de->d_name);
		struct stat st;
		assert_int_equal(stat(src, &st), 0);
		if (S_ISDIR(st.st_mode)) {
			copy_tree(src, dst);
			continue;
		}
		char *text = NULL;
		size_t len = 0;
		struct err e;
		err_init(&e);
		assert_int_equal(file_read_all(src, 64 << 20, &text, &len, &e), 0);
		FILE *f = fopen(dst, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(text, 1, len, f), len);
		assert_int_equal(fclose(f), 0);
		free(text);
	}
	closedir(d);
}

/* One value as the expectations write it: its text, "-" for NULL. */
static const char *cell(struct tbl *t, int f, int64_t row, char *buf, size_t n)
{
	struct val v;
	data_tbl_get(t, f, row, &v);
	return v.null ? "-" : data_val_text(&v, buf, n);
}

static void trim(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	size_t k = strspn(s, " \t");
	memmove(s, s + k, strlen(s + k) + 1);
}

/* Appends `item` to `got` with " | " between items. */
static void add(struct buf *got, const char *item)
{
	if (got->len)
		assert_int_equal(buf_append(got, " | ", 3), 0);
	assert_int_equal(buf_append(got, item, strlen(item)), 0);
	assert_int_equal(buf_reserve(got, 1), 0);
	got->data[got->len] = '\0';
}

/* What `what` says of the data set (the left side of an expectation), in `got`. */
static bool observe(const struct data_set *m, const char *what, struct buf *got, char *why,
		    size_t wn)
{
	char table[256] = "", field[256] = "", b[64];
	int64_t row = 0;
	if (strcmp(what, "tables") == 0) {
		for (int i = 0; i < m->n_tables; i++)
			if (!m->tables[i]->access)
				add(got, m->tables[i]->name);
		return true;
	}
	if (what[0] == '$') {
		for (int i = 0; i < m->n_vars; i++)
			if (strcmp(m->var_names[i], what + 1) == 0) {
				add(got, m->var_values[i]);
				return true;
			}
		snprintf(why, wn, "no variable %s", what + 1);
		return false;
	}
	/* "T rows", "T fields", "T.F", "T.F distinct", "T.F sum", "T.F row K" */
	const char *sp = strchr(what, ' '),
		   *dot = memchr(what, '.', sp ? (size_t)(sp - what) : strlen(what));
	const char *kind = sp ? sp + 1 : "";
	snprintf(table, sizeof(table), "%.*s",
		 (int)((dot  ? dot
			: sp ? sp
			     : what + strlen(what)) -
		       what),
		 what);
	if (dot)
		snprintf(field, sizeof(field), "%.*s",
			 (int)((sp ? sp : dot + strlen(dot)) - dot - 1), dot + 1);
	struct tbl *t = data_set_table(m, table);
	if (!t) {
		snprintf(why, wn, "no table %s", table);
		return false;
	}
	if (!dot && strcmp(kind, "rows") == 0) {
		snprintf(b, sizeof(b), "%lld", (long long)t->n_rows);
		add(got, b);
		return true;
	}
	if (!dot && strcmp(kind, "fields") == 0) {
		for (int i = 0; i < t->n_fields; i++)
			add(got, t->fields[i].name);
		return true;
	}
	int f = dot ? data_tbl_field(t, field, false) : -1;
	if (f < 0) {
		snprintf(why, wn, dot ? "table %s has no field %s" : "what is \"%s%s\"?", table,
			 dot ? field : kind);
		return false;
	}
	if (!*kind) {
		for (int64_t r = 0; r < t->n_rows; r++)
			add(got, cell(t, f, r, b, sizeof(b)));
	} else if (strcmp(kind, "distinct") == 0) {
		for (int64_t s = 0; s < t->fields[f].n_sym; s++) {
			struct val v;
			data_tbl_symbol(t, f, s, &v);
			add(got, data_val_text(&v, b, sizeof(b)));
		}
	} else if (strcmp(kind, "sum") == 0) {
		double sum = 0;
		for (int64_t r = 0; r < t->n_rows; r++) {
			struct val v;
			data_tbl_get(t, f, r, &v);
			sum += !v.null && v.has_num ? v.num : 0;
		}
		snprintf(b, sizeof(b), "%.10g", fabs(sum) < 5e-11 ? 0 : sum);
		add(got, b);
	} else if (sscanf(kind, "row %lld", (long long *)&row) == 1 && row >= 1 &&
		   row <= t->n_rows) {
		add(got, cell(t, f, row - 1, b, sizeof(b)));
	} else {
		snprintf(why, wn, "what is \"%s\"?", kind);
		return false;
	}
	return true;
}

/* Runs case `name` of the corpus and checks each of its expectations; returns how many
 * failed (each printed). */
static int run_case(const char *dir, const char *name)
{
	char path[4096], *script = NULL, *expected = NULL;
	size_t len;
	struct err e;
	err_init(&e);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	work = make_tmpdir();
	char copy[4200];
	snprintf(copy, sizeof(copy), "%s/data", work);
	copy_tree(path, copy);
	free(work);
	work = strdup(copy);
	snprintf(path, sizeof(path), "%s/%s/script.qvs", dir, name);
	assert_int_equal(file_read_all(path, 1 << 20, &script, &len, &e), 0);
	snprintf(path, sizeof(path), "%s/%s/expected.txt", dir, name);
	assert_int_equal(file_read_all(path, 1 << 20, &expected, &len, &e), 0);

	struct reload_env env = {.open = open_file,
				 .log = log_line,
				 .doc_path = "/share/Apps/corpus",
				 .doc_title = name};
	struct data_set *m = NULL;
	log_text[0] = '\0';
	int failed = 0;
	if (script_run(script, &env, &m, &e) != 0) {
		fprintf(stderr, "%s: the reload failed: %s\n%s", name, e.message, log_text);
		failed = 1;
	}
	for (char *line = expected, *next; m && line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		char *colon = strstr(line, ": ");
		if (line[0] == '#' || line[strspn(line, " \t\r")] == '\0')
			continue;
		if (!colon) {
			fprintf(stderr, "%s: expected.txt: no \": \" in \"%s\"\n", name, line);
			failed++;
			continue;
		}
		*colon = '\0';
		char *want = colon + 2;
		trim(line);
		trim(want);
		struct buf got;
		buf_init(&got, 1 << 20);
		char why[512] = "";
		if (strcmp(line, "log") == 0) {
			if (!strstr(log_text, want)) {
				fprintf(stderr, "%s: the log does not say \"%s\":\n%s", name, want,
					log_text);
				failed++;
			}
		} else if (!observe(m, line, &got, why, sizeof(why))) {
			fprintf(stderr, "%s: %s: %s\n", name, line, why);
			failed++;
		} else if (strcmp(got.data ? got.data : "", want) != 0) {
			fprintf(stderr, "%s: %s:\n  got  %s\n  want %s\n", name, line,
				got.data ? got.data : "", want);
			failed++;
		}
		buf_release(&got);
	}
	data_set_free(m);
	free(script);
	free(expected);
	/* the copy's parent is work without "/data" */
	char *slash = strrchr(work, '/');
	*slash = '\0';
	rm_tree(work);
	work = NULL;
	return failed;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void every_script_of_the_corpus_gives_what_it_should(void **state)
{
	(void)state;
	const char *dir = SCRIPTS_DIR;
	DIR *d = opendir(dir);
	assert_non_null(d);
	char *names[256];
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL && n < 256) {
		char p[4096];
		struct stat st;
		snprintf(p, sizeof(p), "%s/%s/script.qvs", dir, de->d_name);
		if (de->d_name[0] != '.' && stat(p, &st) == 0)
			names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof(char *), by_name);
	int failed = 0;
	for (int i = 0; i < n; i++) {
		int f = run_case(dir, names[i]);
		fprintf(stderr, "%s: %s\n", names[i], f ? "FAILED" : "ok");
		failed += f;
		free(names[i]);
	}
	assert_int_equal(failed, 0);
	assert_true(n >= 10); /* a case folder lost is a failure too */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_script_of_the_corpus_gives_what_it_should),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
