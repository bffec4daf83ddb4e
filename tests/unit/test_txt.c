/* test_txt.c: reading delimited text (engine/txt.c) the way Qlik does. The strongest check:
 * the lego and Stockholm CSVs in ../shared/data/qvd/, read here, give exactly the symbol
 * tables (type, number, text, order) and rows of the QVDs Qlik made from them. */
#include "unit.h"

#include "data/data.h"

#include <math.h>

static char shared[4096];

static bool have_shared(void)
{
	const char *s = getenv("FATHOM_SHARED");
	snprintf(shared, sizeof(shared), "%s/data/qvd", s ? s : "../shared");
	FILE *f = fopen(shared, "r");
	if (!f) {
		printf("skipped: %s is absent (the shared QVD samples)\n", shared);
		return false;
	}
	fclose(f);
	return true;
}

static struct format csv_format(void)
{
	struct format f = {
	    .labels = LABELS_EMBEDDED, .delimiter = ',', .codepage = 65001, .msq = true};
	return f;
}

static struct qvd_table *read_text(const char *text, size_t len, const struct format *f)
{
	struct qvd_table *t = NULL;
	struct err e;
	err_init(&e);
	if (data_txt_read(text, len, f, NULL, &t, &e) != 0)
		fail_msg("%s", e.message);
	return t;
}

/* Symbol k of a field as the reader made it; a field of ids kept without its values
 * (dense, kind 2) has for symbol k the number dense_base + k written as it writes (in
 * buf). */
static struct qvd_value symbol_at(const struct qvd_field *f, int64_t k, char buf[32])
{
	if (!f->dense)
		return f->symbols[k];
	assert_int_equal(f->dense_kind, 2);
	assert_null(f->symbols);
	double v = f->dense_base + (double)k;
	snprintf(buf, 32, "%.0f", v);
	return (struct qvd_value){QVD_DUAL_INT, v, buf};
}

static void same_as_qlik(const char *base)
{
	char path[8192];
	snprintf(path, sizeof(path), "%s/%s.qvd", shared, base);
	struct qvd_table *q = NULL;
	struct err e;
	err_init(&e);
	assert_int_equal(data_qvd_read_file(path, &q, &e), 0);
	snprintf(path, sizeof(path), "%s/%s.csv", shared, base);
	char *csv = NULL;
	size_t len = 0;
	assert_int_equal(file_read_all(path, 1u << 30, &csv, &len, &e), 0);
	struct format f = csv_format();
	struct qvd_table *t = read_text(csv, len, &f);
	assert_int_equal(t->n_rows, q->n_rows);
	assert_int_equal(t->n_fields, q->n_fields);
	for (int i = 0; i < q->n_fields; i++) {
		const struct qvd_field *a = &q->fields[i], *b = &t->fields[i];
		assert_string_equal(a->name, b->name);
		for (int64_t s = 0; s < a->n_symbols && s < b->n_symbols; s++) {
			char buf[32];
			struct qvd_value ours = symbol_at(b, s, buf);
			const struct qvd_value *x = &a->symbols[s], *y = &ours;
			if (x->type != y->type || x->num != y->num ||
			    strcmp(x->text ? x->text : "", y->text ? y->text : "") != 0)
				fail_msg(
				    "%s, field %s, symbol %lld: Qlik has type %d %.17g \"%s\", "
				    "we have type %d %.17g \"%s\"",
				    base, a->name, (long long)s, x->type, x->num,
				    x->text ? x->text : "", y->type, y->num,
				    y->text ? y->text : "");
		}
		assert_int_equal(a->n_symbols, b->n_symbols);
		assert_memory_equal(a->index, b->index, sizeof(int32_t) * (size_t)q->n_rows);
	}
	data_qvd_free(t);
	data_qvd_free(q);
	free(csv);
}

static void csvs_read_as_qlik_read_them(void **state)
{
	(void)state;
	if (!have_shared())
		skip();
	static const char *const names[] = {
	    "ctrl-q/lego/colors",	   "ctrl-q/lego/themes",
	    "ctrl-q/lego/part_categories", "ctrl-q/lego/inventory_sets",
	    "ctrl-q/lego/inventories",	   "ctrl-q/lego/sets",
	    "ctrl-q/lego/parts",	   "ctrl-q/stockholm_temp/stockholm_temp"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		same_as_qlik(names[i]);
}

static void interpretation(void **state)
{
	(void)state;
	struct {
		const char *text;
		enum qvd_type type;
		double num;
	} cases[] = {
	    {"0901", QVD_DUAL_INT, 901},
	    {"0.0", QVD_DUAL_INT, 0},
	    {"10.0", QVD_DUAL_INT, 10},
	    {"-8.7", QVD_DUAL_DOUBLE, -8.7},
	    {"2234567890", QVD_DUAL_DOUBLE, 2234567890.0},
	    {"1756-01-01", QVD_DUAL_INT, -52593},
	    {"2010-01-04", QVD_DUAL_INT, 40182},
	    {"2010-02-30", QVD_STRING, 0},
	    {"3213821398129038", QVD_STRING, 0},
	    {"1234567890123", QVD_DUAL_DOUBLE, 1234567890123.0},
	    {"abc", QVD_STRING, 0},
	    {"", QVD_STRING, 0},
	    {"-", QVD_STRING, 0},
	    {"1.2.3", QVD_STRING, 0},
	    {"845E84", QVD_DUAL_DOUBLE, 845e84},
	    {"1e", QVD_STRING, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct qvd_value v;
		data_txt_interpret(cases[i].text, NULL, &v);
		if (v.type != cases[i].type || v.num != cases[i].num)
			fail_msg("%s: type %d %.17g", cases[i].text, v.type, v.num);
		assert_string_equal(v.text, cases[i].text);
	}
	struct qvd_value v;
	data_txt_interpret("31.12.2021", "DD.MM.YYYY", &v);
	assert_int_equal(v.type, QVD_DUAL_INT);
	assert_true(v.num == 44561);
}

/* Short numbers are read without strtod; they must read exactly as strtod reads them. */
static void numbers_read_as_strtod_reads_them(void **state)
{
	(void)state;
	uint64_t x = 88172645463325252ULL;
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		char text[64];
		int digits = (int)(x % 15) + 1, frac = (int)((x >> 8) % (uint64_t)(digits + 1));
		int at = 0;
		if (x & 1ULL << 40)
			text[at++] = '-';
		for (int d = 0; d < digits; d++) {
			if (d == digits - frac && frac)
				text[at++] = '.';
			text[at++] = (char)('0' + (x >> (12 + d * 3)) % 10);
		}
		text[at] = '\0';
		struct qvd_value v;
		data_txt_interpret(text, NULL, &v);
		assert_int_not_equal(v.type, QVD_STRING);
		double want = strtod(text, NULL);
		if (v.num != want)
			fail_msg("%s: read %.17g, strtod %.17g", text, v.num, want);
	}
}

static void quoting_labels_and_code_pages(void **state)
{
	(void)state;
	/* msq: quotes hold delimiters, line breaks and doubled quotes; blanks are trimmed;
	 * one number is one symbol with the first text; an empty cell is the empty string */
	static const char text[] = "\xEF\xBB\xBF A , B ,C\r\n"
				   " 01 ,\"x, \"\"y\"\"\nz\",\n"
				   "1, plain ,\n"
				   "\n"
				   "1.0,plain";
	struct format f = csv_format();
	struct qvd_table *t = read_text(text, sizeof(text) - 1, &f);
	assert_int_equal(t->n_rows, 3);
	assert_string_equal(t->fields[0].name, "A");
	assert_string_equal(t->fields[1].name, "B");
	assert_int_equal(t->fields[0].n_symbols, 1);
	assert_string_equal(t->fields[0].symbols[0].text, "01");
	assert_string_equal(t->fields[1].symbols[0].text, "x, \"y\"\nz");
	assert_string_equal(t->fields[1].symbols[1].text, "plain");
	assert_int_equal(t->fields[2].symbols[0].type, QVD_STRING);
	assert_string_equal(t->fields[2].symbols[0].text, "");
	assert_int_equal(t->fields[2].index[2], 0); /* a missing last cell is empty too */
	data_qvd_free(t);
	/* no labels, another delimiter, standard quoting */
	static const char t2[] = "a|'b c'|3\nd|e|4\n";
	struct format f2 = {.labels = LABELS_NONE, .delimiter = '|', .codepage = 65001};
	t = read_text(t2, sizeof(t2) - 1, &f2);
	assert_int_equal(t->n_rows, 2);
	assert_string_equal(t->fields[0].name, "@1");
	assert_string_equal(t->fields[1].symbols[0].text, "b c");
	assert_true(t->fields[2].symbols[1].num == 4);
	data_qvd_free(t);
	/* standard quoting: a value quoted from its first to its last non-blank character holds
	 * delimiters ("Smith, John"), with " or '; a quote inside a value ("it's") is kept; a
	 * quote never closed on its line is an ordinary character cut at the delimiter */
	static const char t5[] = "N,C\n\"Smith, John\",1\n 'it's, here' ,2\nit's,3\n\"open,4\n";
	struct format f5 = {.labels = LABELS_EMBEDDED, .delimiter = ',', .codepage = 65001};
	t = read_text(t5, sizeof(t5) - 1, &f5);
	assert_int_equal(t->n_rows, 4);
	assert_string_equal(t->fields[0].symbols[t->fields[0].index[0]].text, "Smith, John");
	assert_string_equal(t->fields[0].symbols[t->fields[0].index[1]].text, "it's, here");
	assert_string_equal(t->fields[0].symbols[t->fields[0].index[2]].text, "it's");
	assert_string_equal(t->fields[0].symbols[t->fields[0].index[3]].text, "\"open");
	assert_true(t->fields[1].symbols[t->fields[1].index[3]].num == 4);
	data_qvd_free(t);
	/* ISO-8859-1 and Windows-1252 become UTF-8 */
	static const char t3[] = "N\nPr\xE9nom\n\x80\n";
	struct format f3 = {.labels = LABELS_EMBEDDED, .delimiter = ',', .codepage = 1252};
	t = read_text(t3, sizeof(t3) - 1, &f3);
	assert_string_equal(t->fields[0].symbols[0].text, "Pr\xC3\xA9nom");
	assert_string_equal(t->fields[0].symbols[1].text, "\xE2\x82\xAC");
	data_qvd_free(t);
	/* errors */
	struct err e;
	err_init(&e);
	struct format f4 = csv_format();
	static const char t4[] = "A\n\"open\n";
	assert_int_equal(data_txt_read(t4, sizeof(t4) - 1, &f4, NULL, &t, &e), ERR_INVALID);
	assert_non_null(strstr(e.message, "line 2: a quoted value is not closed"));
	f4.codepage = 932;
	err_init(&e);
	assert_int_equal(data_txt_read(t4, sizeof(t4) - 1, &f4, NULL, &t, &e), ERR_INVALID);
	assert_non_null(strstr(e.message, "code page 932"));
}

/* A column of consecutive whole numbers (ids) is interned without a hash table until a
 * value breaks the run; the symbols and rows are what interning by value gives either way:
 * a number is one symbol whatever its text (the first kept), in first-occurrence order. */
/* A field's symbols as texts (the first `max` of syms, up to a NULL) and its rows. */
static void field_is(const struct qvd_field *fl, const char *const *syms, int max,
		     const int32_t *rows, size_t rows_size)
{
	int n = 0;
	while (n < max && syms[n])
		n++;
	assert_int_equal(fl->n_symbols, n);
	for (int k = 0; k < n; k++) {
		char buf[64];
		assert_string_equal(data_qvd_value_text(&fl->symbols[k], buf, sizeof(buf)),
				    syms[k]);
	}
	assert_memory_equal(fl->index, rows, rows_size);
}

static void consecutive_numbers_interned_as_any_others(void **state)
{
	(void)state;
	static const char text[] = "A,B,C,D,E,F\n"
				   "5,1,1,7,3,-2\n"
				   "6,2,2,7.5,2,-1\n"
				   "7,3,x,8,1,0\n"
				   "5,10,3,7,3,1\n"
				   "8,4,2,9,4,-2\n"
				   "0008,3,x,7.5,2,2\n"
				   "9,11,1,8,0,0\n";
	struct format f = csv_format();
	struct qvd_table *t = read_text(text, sizeof(text) - 1, &f);
	assert_int_equal(t->n_rows, 7);
	static const char *const syms[6][7] = {
	    {"5", "6", "7", "8", "9"},	      /* a repeat; "0008" is 8, already there */
	    {"1", "2", "3", "10", "4", "11"}, /* a gap: hashed from 10 on */
	    {"1", "2", "x", "3"},	      /* a text */
	    {"7", "7.5", "8", "9"},	      /* a fraction */
	    {"3", "2", "1", "4", "0"},	      /* descending */
	    {"-2", "-1", "0", "1", "2"},      /* from a negative, consecutive throughout */
	};
	static const int32_t rows[6][7] = {
	    {0, 1, 2, 0, 3, 3, 4}, {0, 1, 2, 3, 4, 2, 5}, {0, 1, 2, 3, 1, 2, 0},
	    {0, 1, 2, 0, 3, 1, 2}, {0, 1, 2, 0, 3, 1, 4}, {0, 1, 2, 3, 0, 4, 2},
	};
	for (int c = 0; c < 6; c++)
		field_is(&t->fields[c], syms[c], 7, rows[c], sizeof(rows[c]));
	data_qvd_free(t);
}

/* Values are one symbol when they are the same text, or the same number whatever their
 * texts: texts that share their first 8 bytes (which the hash table keeps beside each
 * symbol) or differ only past them, and numbers written differently. */
static void interned_by_their_whole_value(void **state)
{
	(void)state;
	static const char text[] = "T,N\n"
				   "Channel 04,1.5\n"
				   "Channel 05,-0\n"
				   "Channel 04,0\n"
				   "Channel,1.50\n"
				   "Channel_,x\n"
				   "Channel 0,0.0\n"
				   "abcdefgh,7\n"
				   "abcdefgh,abc\n"
				   "abcdefghi,1.5\n"
				   "abc,7\n"
				   "abc,0\n";
	struct format f = csv_format();
	struct qvd_table *t = read_text(text, sizeof(text) - 1, &f);
	assert_int_equal(t->n_rows, 11);
	static const char *const syms[2][9] = {
	    {"Channel 04", "Channel 05", "Channel", "Channel_", "Channel 0", "abcdefgh",
	     "abcdefghi", "abc"},
	    {"1.5", "-0", "x", "7", "abc"},
	};
	static const int32_t rows[2][11] = {{0, 1, 0, 2, 3, 4, 5, 5, 6, 7, 7},
					    {0, 1, 1, 0, 2, 1, 3, 4, 0, 3, 1}};
	for (int c = 0; c < 2; c++)
		field_is(&t->fields[c], syms[c], 9, rows[c], sizeof(rows[c]));
	data_qvd_free(t);
}

/* Reads `text` with `threads` threads (0: one per processor). */
static struct qvd_table *read_on(const struct buf *text, const struct format *f, int threads)
{
	struct qvd_table *t = NULL;
	struct err e;
	err_init(&e);
	struct txt_options o = {.threads = threads};
	if (data_txt_read(text->data, text->len, f, &o, &t, &e))
		fail_msg("%s", e.message);
	return t;
}

static void same_tables(const struct qvd_table *p, const struct qvd_table *o)
{
	assert_int_equal(o->n_rows, p->n_rows);
	assert_int_equal(o->n_fields, p->n_fields);
	for (int i = 0; i < o->n_fields; i++) {
		const struct qvd_field *pf = &p->fields[i], *of = &o->fields[i];
		assert_string_equal(pf->name, of->name);
		assert_int_equal(pf->n_symbols, of->n_symbols);
		for (int64_t k = 0; k < pf->n_symbols; k++) {
			char b1[32], b2[32];
			struct qvd_value x = symbol_at(pf, k, b1), y = symbol_at(of, k, b2);
			assert_int_equal(x.type, y.type);
			assert_true(x.num == y.num);
			assert_string_equal(x.text, y.text);
		}
		assert_memory_equal(pf->index, of->index, sizeof(int32_t) * (size_t)p->n_rows);
	}
}

/* A text of more than 16 MiB is read by several threads, each its own stretch of lines,
 * their symbols merged after: the symbols (in order) and rows must be those one thread
 * makes, with line ends of one byte or two, and in fields of ids that go on from stretch
 * to stretch (kept without values), that start again (made values, then hashed), and
 * that hold one text its number does not write (made values on the way). Under msq
 * quoting one thread reads. */
static void large_text_read_on_threads_equals_one_thread(void **state)
{
	(void)state;
	for (int crlf = 0; crlf < 2; crlf++) {
		const char *nl = crlf ? "\r\n" : "\n";
		struct buf b;
		buf_init(&b, 1u << 30);
		assert_int_equal(buf_printf(&b, "Id,Seq,Again,Code,Name,Amount,Day,Note%s", nl), 0);
		static const char *const names[] = {"Alice", "\"Bob\"", "Carol", "Dave",
						    "0901",  "1e3",	""};
		uint64_t x = 12345;
		for (int i = 1; i <= 800000; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			if (i % 50000 == 0) /* a blank line */
				assert_int_equal(buf_puts(&b, nl), 0);
			/* ids; ids that jump; ids that start again; one written "00300000" */
			int rc = buf_printf(&b, "%d,%d,%d,%0*d", i, i <= 500000 ? i : i + 1000000,
					    i <= 500000 ? i : i - 500000, i == 300000 ? 8 : 1, i);
			if (rc == 0 && i % 7777 == 0)
				rc = buf_puts(&b, nl); /* fewer cells */
			else if (rc == 0)
				rc =
				    buf_printf(&b, ",%s,%d.%02d,2024-%02d-%02d,n%d%s%s",
					       names[x % 7], (int)(x % 5000), (int)(x % 100),
					       (int)(x % 12) + 1, (int)(x % 28) + 1,
					       (int)(x % 3000), i % 10007 == 0 ? ",extra" : "", nl);
			assert_int_equal(rc, 0);
		}
		assert_true(b.len > (16u << 20));
		struct format f = csv_format();
		f.msq = false;
		struct qvd_table *one = read_on(&b, &f, 1);
		assert_int_equal(one->n_rows, 800000);
		assert_true(one->fields[0].dense);  /* kept without values */
		assert_false(one->fields[1].dense); /* hashed from the jump */
		assert_int_equal(one->fields[2].n_symbols, 500000);
		assert_false(one->fields[3].dense); /* values made at "00300000" */
		assert_int_equal(one->fields[3].n_symbols, 800000);
		assert_string_equal(one->fields[3].symbols[299999].text, "00300000");
		for (int threads = 2; threads <= 4; threads++) {
			struct qvd_table *parts = read_on(&b, &f, threads);
			assert_true(parts->fields[0].dense);
			same_tables(parts, one);
			data_qvd_free(parts);
		}
		f.msq = true; /* one reader: the same again */
		struct qvd_table *msq = read_on(&b, &f, 4);
		same_tables(msq, one);
		data_qvd_free(msq);
		data_qvd_free(one);
		buf_release(&b);
	}
}

/* Stretches whose ids each go on by themselves but not from the stretch before (a jump
 * where a stretch begins) are not one run of ids: lines of one length put the second of
 * two stretches' start near the middle row, and one of the columns jumps there. */
static void ids_that_jump_where_a_stretch_begins(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 1u << 26);
	assert_int_equal(buf_puts(&b, "Id,J0,J1,J2,J3\n"), 0);
	for (int i = 0; i < 500000; i++) {
		int v = 10000000 + i;
		assert_int_equal(buf_printf(&b, "%d,%d,%d,%d,%d\n", v, v + (i >= 249999) * 7,
					    v + (i >= 250000) * 7, v + (i >= 250001) * 7,
					    v + (i >= 250002) * 7),
				 0);
	}
	assert_true(b.len > (16u << 20));
	struct format f = csv_format();
	f.msq = false;
	struct qvd_table *one = read_on(&b, &f, 1), *two = read_on(&b, &f, 2);
	assert_true(one->fields[0].dense);
	assert_true(two->fields[0].dense);
	for (int c = 1; c < 5; c++) {
		assert_false(one->fields[c].dense);
		assert_int_equal(one->fields[c].n_symbols, 500000);
	}
	same_tables(two, one);
	data_qvd_free(one);
	data_qvd_free(two);
	buf_release(&b);
}

/* A field of ids read from text is kept without its values (a number and a text each:
 * 40 bytes a row): the table reads, looks up and adds to it as if they were there, makes
 * them when a value that is not the next id comes or a view wants them, and a column
 * table stores it by its first number and reads back the same symbols. */
static void ids_are_kept_without_values(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 1u << 24);
	assert_int_equal(buf_puts(&b, "Id,Kind\n"), 0);
	for (int i = 0; i < 5000; i++)
		assert_int_equal(buf_printf(&b, "%d,%s\n", 100 + i, i % 2 ? "odd" : "even"), 0);
	struct format f = csv_format();
	struct qvd_table *q = read_text(b.data, b.len, &f);
	assert_true(q->fields[0].dense);
	assert_int_equal(q->fields[0].dense_kind, 2);
	assert_true(q->fields[0].dense_base == 100);
	assert_false(q->fields[1].dense);
	struct tbl *t = NULL;
	struct err e;
	err_init(&e);
	assert_int_equal(data_tbl_adopt_qvd(q, &t, &e), 0);
	assert_true(t->fields[0].dense);
	struct val v;
	data_tbl_get(t, 0, 1234, &v);
	assert_true(v.has_num && v.num == 1334);
	assert_string_equal(v.text, "1334"); /* a text: its values are made for it */
	assert_false(t->fields[0].dense);
	data_tbl_free(t);

	/* adding: the next id, an id it has (as a number, whatever its text); then another */
	q = read_text(b.data, b.len, &f);
	assert_int_equal(data_tbl_adopt_qvd(q, &t, &e), 0);
	struct val next[2] = {{false, true, 5100, "5100"}, {false, false, 0, "even"}};
	struct val again[2] = {{false, true, 150, "0150"}, {false, false, 0, "odd"}};
	assert_int_equal(data_tbl_append(t, next, 2), 0);
	assert_int_equal(data_tbl_append(t, again, 2), 0);
	assert_true(t->fields[0].dense);
	assert_int_equal(t->fields[0].n_sym, 5001);
	assert_int_equal(t->fields[0].index[5000], 5000);
	assert_int_equal(t->fields[0].index[5001], 50);
	struct val look = {false, true, 4000, NULL}, text = {false, false, 0, "4000"};
	assert_int_equal(data_tbl_lookup(t, 0, &look), 3900);
	assert_int_equal(data_tbl_lookup(t, 0, &text), -1); /* a text is no number */
	struct qvd_table view;
	assert_int_equal(data_tbl_view(t, TBL_VIEW_DENSE, &view, &e), 0);
	assert_true(view.fields[0].dense);
	struct buf ct;
	buf_init(&ct, 1u << 26);
	assert_int_equal(data_coltab_write(&view, &ct, &e), 0);
	data_tbl_view_free(&view);
	struct val gap[2] = {{false, true, 99999, "99999"}, {false, false, 0, "odd"}};
	assert_int_equal(data_tbl_append(t, gap, 2), 0);
	assert_false(t->fields[0].dense);
	assert_int_equal(t->fields[0].n_sym, 5002);
	for (int64_t s = 0; s < 5001; s++) {
		data_tbl_symbol(t, 0, s, &v);
		char want[16];
		snprintf(want, sizeof(want), "%d", 100 + (int)s);
		assert_true(v.has_num && v.num == 100 + (double)s);
		assert_string_equal(v.text, want);
	}
	data_tbl_get(t, 0, 5002, &v);
	assert_true(v.num == 99999);
	/* the column table written while dense reads back as the values made now; one that
	 * says it has fewer rows than its field has ids is refused (their values take no
	 * bytes: a few bytes must not ask for gigabytes) */
	struct qvd_table *back = NULL;
	uint64_t rows = 4;
	memcpy(ct.data + 16, &rows, sizeof(rows));
	assert_int_equal(data_coltab_read(ct.data, ct.len, 0, &back, &e), ERR_INVALID);
	assert_non_null(strstr(e.message, "\"Id\": its dense values"));
	rows = 5002;
	memcpy(ct.data + 16, &rows, sizeof(rows));
	err_init(&e);
	assert_int_equal(data_coltab_read(ct.data, ct.len, 0, &back, &e), 0);
	assert_int_equal(back->n_rows, 5002);
	for (int64_t s = 0; s < 5001; s++) {
		data_tbl_symbol(t, 0, s, &v);
		assert_int_equal(back->fields[0].symbols[s].type, QVD_DUAL_INT);
		assert_true(back->fields[0].symbols[s].num == v.num);
		assert_string_equal(back->fields[0].symbols[s].text, v.text);
	}
	assert_memory_equal(back->fields[0].index, t->fields[0].index, 5002 * sizeof(int32_t));
	/* a view without TBL_VIEW_DENSE has the values (STORE, small tables) */
	data_qvd_free(back);
	buf_release(&ct);
	data_tbl_free(t);
	q = read_text(b.data, b.len, &f);
	assert_int_equal(data_tbl_adopt_qvd(q, &t, &e), 0);
	assert_int_equal(data_tbl_view(t, 0, &view, &e), 0);
	assert_false(view.fields[0].dense);
	assert_string_equal(view.fields[0].symbols[4999].text, "5099");
	assert_int_equal(view.fields[0].symbols[4999].type, QVD_DUAL_INT);
	data_tbl_view_free(&view);
	data_tbl_free(t);
	buf_release(&b);
}

/* Number format codes as Qlik writes numbers with them. */
static void number_formats(void **state)
{
	(void)state;
	static const struct {
		double x;
		const char *fmt, *dec, *thou, *want;
	} cases[] = {
	    {508384202, "#,##0", ".", ",", "508,384,202"},
	    {1694.60708451409, "#,##0", ".", ",", "1,695"},
	    {1694.60708451409, "#,##0.00", ".", ",", "1,694.61"},
	    {-1234567.5, "#,##0.0", ".", ",", "-1,234,567.5"},
	    {999, "#,##0", ".", ",", "999"},
	    {1000, "#,##0", ".", ",", "1,000"},
	    {0.256, "0.0%", ".", ",", "25.6%"},
	    {0.5, "#.##", ".", "", "0.5"},
	    {2.5, "0.0#", ".", "", "2.5"},
	    {2.126, "0.0#", ".", "", "2.13"},
	    {5, "0000", ".", "", "0005"},
	    {-5, "$#,##0;($#,##0)", ".", ",", "($5)"},
	    {5, "$#,##0;($#,##0)", ".", ",", "$5"},
	    {1234.5, "# ##0,00 kr", ",", " ", "1 234,50 kr"},
	    {-0.001, "0.00", ".", "", "0.00"},
	    {12, "0", NULL, NULL, "12"},
	};
	char out[64];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(data_num_format(cases[i].x, cases[i].fmt, cases[i].dec,
						 cases[i].thou, out, sizeof(out)),
				 0);
		assert_string_equal(out, cases[i].want);
	}
	/* no digit placeholder, a number that is not one, or no room: refused */
	assert_int_equal(data_num_format(1, "abc", ".", ",", out, sizeof(out)), -1);
	assert_int_equal(data_num_format(NAN, "0", ".", ",", out, sizeof(out)), -1);
	assert_int_equal(data_num_format(123456, "#,##0", ".", ",", out, 4), -1);
	assert_int_equal(data_num_format(1e300, "0.000000000000000000", ".", ",", out, sizeof(out)),
			 -1);
}

/* Date and time formats: day serials as Qlik writes them (45047 is 2023-05-01, a Monday). */
static void date_formats(void **state)
{
	(void)state;
	static const struct {
		double x;
		const char *fmt, *want;
	} cases[] = {
	    {45047, "YYYY-MM-DD", "2023-05-01"},
	    {45047, "M/D/YYYY", "5/1/2023"},
	    {45047, "DD.MM.YY", "01.05.23"},
	    {45047, "WWW D MMM YYYY", "Mon 1 May 2023"},
	    {45047, "WWWW, MMMM D", "Monday, May 1"},
	    {45047.75, "YYYY-MM-DD hh:mm:ss", "2023-05-01 18:00:00"},
	    {45047.75, "h:mm TT", "6:00 PM"},
	    {45047.25, "hh:mm tt", "06:00 am"},
	    {45047.5 + 1.5 / 86400, "hh:mm:ss[.fff]", "12:00:01.500"},
	    {45047.5, "hh:mm:ss[.fff]", "12:00:00"},
	    {0, "YYYY-MM-DD", "1899-12-30"},
	    {2, "WWW YYYY-MM-DD", "Mon 1900-01-01"},
	    {61, "YYYY-MM-DD", "1900-03-01"},
	    {0.9999999999, "YYYY-MM-DD hh:mm", "1899-12-31 00:00"},
	    {-1, "YYYY-MM-DD", "1899-12-29"},
	    {2958465, "YYYY-MM-DD", "9999-12-31"},
	};
	char out[64];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(data_date_format(cases[i].x, cases[i].fmt, out, sizeof(out)), 0);
		assert_string_equal(out, cases[i].want);
	}
	/* not a date, or no room: refused */
	assert_int_equal(data_date_format(NAN, "YYYY", out, sizeof(out)), -1);
	assert_int_equal(data_date_format(1e300, "YYYY", out, sizeof(out)), -1);
	assert_int_equal(data_date_format(45047, "YYYY-MM-DD", out, 10), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(csvs_read_as_qlik_read_them),
	    cmocka_unit_test(interned_by_their_whole_value),
	    cmocka_unit_test(numbers_read_as_strtod_reads_them),
	    cmocka_unit_test(large_text_read_on_threads_equals_one_thread),
	    cmocka_unit_test(ids_are_kept_without_values),
	    cmocka_unit_test(ids_that_jump_where_a_stretch_begins),
	    cmocka_unit_test(consecutive_numbers_interned_as_any_others),
	    cmocka_unit_test(interpretation),
	    cmocka_unit_test(quoting_labels_and_code_pages),
	    cmocka_unit_test(number_formats),
	    cmocka_unit_test(date_formats),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
