/* test_reload.c: running load scripts (engine/reload.c): variables and expansion, every
 * source, expressions, WHERE, DISTINCT, GROUP BY, concatenation, mapping, DROP, RENAME,
 * STORE, IF and FOR; a CSV loaded and stored as QVD equals the QVD Qlik made from it;
 * errors name line and column and keep nothing. */
#include "unit.h"

#include "script/script.h"
#include "share/share.h"

#include <sys/stat.h>
#include <time.h>
#include <zlib.h>

static char *out_dir;
static char shared[4096];
static char log_text[8192];

/* The worker's own opener over two folder connections: Out and Data (the shared data,
 * when it is there). */
static int open_file(void *ctx, const char *path, bool for_write, int *fd, char *leaf, size_t n,
		     struct err *e)
{
	(void)ctx;
	struct share_lib libs[2];
	int k = 0;
	struct err ie;
	err_init(&ie);
	if (share_lib_init(&libs[k], "Out", out_dir, &ie) == 0)
		k++;
	if (share_lib_init(&libs[k], "Data", shared, &ie) == 0)
		k++;
	return share_lib_open(libs, k, path, for_write, fd, leaf, n, e);
}

static void log_line(void *ctx, const char *line)
{
	(void)ctx;
	size_t l = strlen(log_text);
	snprintf(log_text + l, sizeof(log_text) - l, "%s\n", line);
}

static const struct reload_env env = {.open = open_file, .log = log_line};

static struct data_set *run_ok(const char *script)
{
	struct data_set *m = NULL;
	struct err e;
	err_init(&e);
	log_text[0] = '\0';
	if (script_run(script, &env, &m, &e) != 0)
		fail_msg("reload failed: %s", e.message);
	return m;
}

static void run_fails(const char *script, const char *want)
{
	struct data_set *m = NULL;
	struct err e;
	err_init(&e);
	int rc = script_run(script, &env, &m, &e);
	if (rc == 0 || !strstr(e.message, want))
		fail_msg("wanted \"%s\", got %d \"%s\"", want, rc, e.message);
	assert_null(m);
}

static const char *cellt(struct tbl *t, const char *field, int64_t row, char *buf, size_t n)
{
	int f = data_tbl_field(t, field, false);
	if (f < 0)
		fail_msg("table %s has no field %s", t->name, field);
	struct val v;
	data_tbl_get(t, f, row, &v);
	return v.null ? "(null)" : data_val_text(&v, buf, n);
}

static int setup(void **state)
{
	(void)state;
	out_dir = make_tmpdir();
	const char *s = getenv("FATHOM_SHARED");
	snprintf(shared, sizeof(shared), "%s/data/qvd", s ? s : "../shared");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rm_tree(out_dir);
	return 0;
}

static const char script[] =
    "SET DateFormat='YYYY-MM-DD';\n"
    "LET vYear = 2014 + 1;\n"
    "Map: MAPPING LOAD * INLINE [\n"
    "Code, Name\n"
    "A, Alpha\n"
    "B, Beta\n"
    "];\n"
    "Sales: LOAD Region, Code, ApplyMap('Map', Code, 'Other') AS CodeName, Year, Amount,\n"
    "  Amount * 2 AS Double\n"
    "INLINE [\n"
    "Region, Code, Year, Amount\n"
    "North, A, 2014, 10\n"
    "South, B, 2015, 20\n"
    "North, C, 2015, 5\n"
    "];\n"
    "CONCATENATE (Sales) LOAD 'East' AS Region, 'A' AS Code, $(vYear) AS Year, 7 AS Amount\n"
    "  AUTOGENERATE 2;\n"
    "Regions: NOCONCATENATE LOAD DISTINCT Region RESIDENT Sales;\n"
    "Totals: LOAD Region, Sum(Amount) AS Total, Count(Amount) AS N, Max(Year) AS Last\n"
    "  RESIDENT Sales GROUP BY Region;\n"
    "Big: LOAD Region AS R2, Amount AS A2 RESIDENT Sales WHERE Amount > 6 and Region <> 'South';\n"
    "FOR i = 1 TO 3\n"
    "  Loop: LOAD $(i) AS I, $(i) * 10 AS Ten AUTOGENERATE 1;\n"
    "NEXT i\n"
    "IF $(vYear) = 2015 THEN\n"
    "  LET vBranch = 'then';\n"
    "ELSEIF 1 = 1 THEN\n"
    "  LET vBranch = 'elseif';\n"
    "ELSE\n"
    "  LET vBranch = 'else';\n"
    "END IF\n"
    "FOR EACH w IN 'x', 'y'\n"
    "  Words: LOAD '$(w)' AS Word, Upper('$(w)') & '!' AS Loud, $(=1+1) AS Two AUTOGENERATE 1;\n"
    "NEXT w\n"
    "Branch: LOAD '$(vBranch)' AS B AUTOGENERATE 1;\n"
    "RENAME FIELD Total TO RegionTotal;\n"
    "DROP FIELD Double;\n"
    "STORE Sales INTO [lib://Out/sales.qvd] (qvd);\n"
    "STORE Totals INTO [lib://Out/totals.csv] (txt);\n"
    "TRACE Done $(vYear);\n";

static void runs_the_script(void **state)
{
	(void)state;
	struct data_set *m = run_ok(script);
	char b[64];
	struct tbl *s = data_set_table(m, "Sales");
	assert_non_null(s);
	assert_int_equal(s->n_rows, 5);
	assert_int_equal(s->n_fields, 5); /* Double was dropped */
	assert_string_equal(cellt(s, "CodeName", 0, b, sizeof(b)), "Alpha");
	assert_string_equal(cellt(s, "CodeName", 1, b, sizeof(b)), "Beta");
	assert_string_equal(cellt(s, "CodeName", 2, b, sizeof(b)), "Other");
	assert_string_equal(cellt(s, "CodeName", 3, b, sizeof(b)), "(null)"); /* not loaded */
	assert_string_equal(cellt(s, "Year", 4, b, sizeof(b)), "2015");
	struct tbl *r = data_set_table(m, "Regions");
	assert_int_equal(r->n_rows, 3);
	struct tbl *t = data_set_table(m, "Totals");
	assert_int_equal(t->n_rows, 3);
	assert_string_equal(cellt(t, "Region", 0, b, sizeof(b)), "North");
	assert_string_equal(cellt(t, "RegionTotal", 0, b, sizeof(b)), "15");
	assert_string_equal(cellt(t, "N", 0, b, sizeof(b)), "2");
	assert_string_equal(cellt(t, "Last", 0, b, sizeof(b)), "2015");
	assert_string_equal(cellt(t, "RegionTotal", 2, b, sizeof(b)), "14"); /* East */
	struct tbl *big = data_set_table(m, "Big");
	assert_int_equal(big->n_rows, 3);
	struct tbl *loop = data_set_table(m, "Loop");
	assert_int_equal(loop->n_rows, 3); /* one table: the same fields concatenate */
	assert_string_equal(cellt(loop, "Ten", 2, b, sizeof(b)), "30");
	struct tbl *w = data_set_table(m, "Words");
	assert_int_equal(w->n_rows, 2);
	assert_string_equal(cellt(w, "Loud", 1, b, sizeof(b)), "Y!");
	assert_string_equal(cellt(w, "Two", 0, b, sizeof(b)), "2");
	assert_string_equal(cellt(data_set_table(m, "Branch"), "B", 0, b, sizeof(b)), "then");
	assert_non_null(strstr(log_text, "Done 2015"));
	assert_non_null(strstr(log_text, "Sales << 3 rows"));
	data_set_free(m);
	/* what was stored reads back */
	char path[512];
	snprintf(path, sizeof(path), "%s/sales.qvd", out_dir);
	struct qvd_table *q = NULL;
	struct err e;
	err_init(&e);
	assert_int_equal(data_qvd_read_file(path, &q, &e), 0);
	assert_int_equal(q->n_rows, 5);
	assert_string_equal(q->name, "Sales");
	data_qvd_free(q);
	snprintf(path, sizeof(path), "%s/totals.csv", out_dir);
	char *csv = NULL;
	size_t len;
	assert_int_equal(file_read_all(path, 1 << 20, &csv, &len, &e), 0);
	assert_non_null(
	    strstr(csv, "\xEF\xBB\xBFRegion,RegionTotal,N,Last\r\nNorth,15,2,2015\r\n"));
	free(csv);
}

static void a_csv_stored_as_qvd_equals_qliks(void **state)
{
	(void)state;
	char probe[4200];
	snprintf(probe, sizeof(probe), "%s/ctrl-q/lego/colors.qvd", shared);
	struct stat st;
	if (stat(probe, &st) != 0)
		skip();
	static const char *const names[] = {"colors", "themes", "sets"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char sc[512];
		snprintf(sc, sizeof(sc),
			 "%s: LOAD * FROM [lib://Data/ctrl-q/lego/%s.csv]\n"
			 "  (txt, utf8, embedded labels, delimiter is ',', msq);\n"
			 "STORE %s INTO [lib://Out/%s.qvd] (qvd);\n",
			 names[i], names[i], names[i], names[i]);
		struct data_set *m = run_ok(sc);
		data_set_free(m);
		char a[600], b[4300];
		snprintf(a, sizeof(a), "%s/%s.qvd", out_dir, names[i]);
		snprintf(b, sizeof(b), "%s/ctrl-q/lego/%s.qvd", shared, names[i]);
		struct qvd_table *x = NULL, *y = NULL;
		struct err e;
		err_init(&e);
		assert_int_equal(data_qvd_read_file(a, &x, &e), 0);
		assert_int_equal(data_qvd_read_file(b, &y, &e), 0);
		assert_int_equal(x->n_rows, y->n_rows);
		assert_int_equal(x->n_fields, y->n_fields);
		for (int f = 0; f < x->n_fields; f++) {
			assert_string_equal(x->fields[f].name, y->fields[f].name);
			assert_int_equal(x->fields[f].n_symbols, y->fields[f].n_symbols);
			for (int64_t s = 0; s < x->fields[f].n_symbols; s++) {
				const struct qvd_value *p = &x->fields[f].symbols[s],
						       *q = &y->fields[f].symbols[s];
				assert_int_equal(p->type, q->type);
				assert_true(p->num == q->num);
				if (q->text)
					assert_string_equal(p->text, q->text);
			}
			assert_memory_equal(x->fields[f].index, y->fields[f].index,
					    sizeof(int32_t) * (size_t)x->n_rows);
		}
		data_qvd_free(x);
		data_qvd_free(y);
	}
}

/* A QVD's date and timestamp fields hold numbers alone, with the type in the header: they
 * load as duals with the text Qlik shows, in the DateFormat (or TimestampFormat) of the
 * script at the time. */
static void qvd_dates_show_as_dates(void **state)
{
	(void)state;
	char probe[4200];
	snprintf(probe, sizeof(probe), "%s/qvd4js/medium.qvd", shared);
	struct stat st;
	if (stat(probe, &st) != 0)
		skip();
	struct data_set *m =
	    run_ok("C: LOAD CustomerKey, BirthDate FROM [lib://Data/qvd4js/medium.qvd] (qvd);\n"
		   "SET DateFormat='M/D/YYYY';\n"
		   "D: LOAD BirthDate AS Born FROM [lib://Data/qvd4js/medium.qvd] (qvd);\n"
		   "O: LOAD OrderDate, SalesAmount FROM [lib://Data/qvd4js/large.qvd] (qvd);\n");
	char b[64];
	assert_string_equal(cellt(data_set_table(m, "C"), "BirthDate", 0, b, sizeof(b)),
			    "1966-04-08");
	assert_string_equal(cellt(data_set_table(m, "C"), "BirthDate", 1, b, sizeof(b)),
			    "1965-05-14");
	assert_string_equal(cellt(data_set_table(m, "D"), "Born", 0, b, sizeof(b)), "4/8/1966");
	assert_string_equal(cellt(data_set_table(m, "O"), "OrderDate", 0, b, sizeof(b)),
			    "2014-05-05 00:00:00");
	/* the number stays: the serial of the day */
	struct tbl *c = data_set_table(m, "C");
	struct val v;
	data_tbl_get(c, data_tbl_field(c, "BirthDate", false), 0, &v);
	assert_true(v.has_num && v.num == 24205);
	/* each field keeps the format it was loaded with, also when loaded by name */
	assert_string_equal(c->fields[data_tbl_field(c, "BirthDate", false)].number_type, "DATE");
	struct tbl *d = data_set_table(m, "D");
	assert_string_equal(d->fields[data_tbl_field(d, "Born", false)].number_type, "DATE");
	/* a money field is not a date: its numbers stay as they are */
	struct tbl *o = data_set_table(m, "O");
	data_tbl_get(o, data_tbl_field(o, "SalesAmount", false), 0, &v);
	assert_true(v.has_num && v.text == NULL);
	assert_string_equal(o->fields[data_tbl_field(o, "OrderDate", false)].number_type,
			    "TIMESTAMP");
	assert_string_equal(o->fields[data_tbl_field(o, "SalesAmount", false)].number_type,
			    "MONEY");
	data_set_free(m);
}

/* The values of one field, row by row, as "a,b,c" ("-" for NULL). */
static void column(struct data_set *m, const char *table, const char *field, const char *want)
{
	struct tbl *t = data_set_table(m, table);
	if (!t)
		fail_msg("no table %s", table);
	char got[512] = "", b[64];
	for (int64_t r = 0; r < t->n_rows; r++) {
		size_t l = strlen(got);
		const char *c = cellt(t, field, r, b, sizeof(b));
		snprintf(got + l, sizeof(got) - l, "%s%s", r ? "," : "",
			 strcmp(c, "(null)") ? c : "-");
	}
	if (strcmp(got, want) != 0)
		fail_msg("%s.%s: got \"%s\", want \"%s\"", table, field, got, want);
}

static void joins_keeps_and_order_by(void **state)
{
	(void)state;
	struct data_set *m =
	    run_ok("O: LOAD * INLINE [Id, Customer\n1, A\n2, B\n3, C];\n"
		   "LEFT JOIN (O) LOAD * INLINE [Customer, Country\nA, SE\nB, DK\nD, NO];\n"
		   "P: LOAD * INLINE [K, X\n1, a\n2, b];\n"
		   "INNER JOIN (P) LOAD * INLINE [K, Y\n2, y2\n2, y2b\n3, y3];\n"
		   "Q: LOAD * INLINE [K2, X2\n1, a\n2, b];\n"
		   "OUTER JOIN (Q) LOAD * INLINE [K2, Y2\n2, q\n9, z];\n"
		   "RJ: LOAD * INLINE [K5, A5\n1, a];\n"
		   "RIGHT JOIN (RJ) LOAD * INLINE [K5, B5\n1, b\n7, c];\n"
		   "R: LOAD * INLINE [K3, V\n1, x\n2, y\n3, z];\n"
		   "S: LEFT KEEP (R) LOAD * INLINE [K3, W\n2, w2\n4, w4];\n"
		   "T2: LOAD * INLINE [K4\n1\n2\n3];\n"
		   "U2: INNER KEEP (T2) LOAD * INLINE [K4, Z\n2, z\n5, q];\n"
		   "Sorted: NOCONCATENATE LOAD * RESIDENT R ORDER BY V DESC;\n"
		   "Mixed: LOAD * INLINE [M\nb\n10\na\n2];\n"
		   "SortedM: LOAD M AS M2 RESIDENT Mixed ORDER BY M;\n");
	column(m, "O", "Country", "SE,DK,-");
	column(m, "P", "Y", "y2,y2b");
	column(m, "P", "X", "b,b");
	column(m, "Q", "K2", "1,2,9");
	column(m, "Q", "X2", "a,b,-");
	column(m, "Q", "Y2", "-,q,z");
	column(m, "RJ", "K5", "1,7");
	column(m, "RJ", "A5", "a,-");
	column(m, "R", "V", "x,y,z"); /* LEFT KEEP leaves the old table */
	column(m, "S", "W", "w2");
	column(m, "T2", "K4", "2"); /* INNER KEEP reduces both */
	column(m, "U2", "Z", "z");
	column(m, "Sorted", "V", "z,y,x");
	column(m, "SortedM", "M2", "2,10,a,b"); /* numbers first, then text */
	data_set_free(m);
	/* preceding loads: each reads the output of the load below it */
	m = run_ok("T: LOAD Amount * 2 AS Double, Region;\n"
		   "LOAD Region, Amount INLINE [Region, Amount\nN, 1\nS, 2];\n"
		   "U: LOAD Twice + 1 AS Plus1;\n"
		   "LOAD A * 2 AS Twice;\n"
		   "LOAD * INLINE [A\n1\n5];\n");
	column(m, "T", "Double", "2,4");
	column(m, "T", "Region", "N,S");
	column(m, "U", "Plus1", "3,11");
	assert_int_equal(m->n_tables, 2);
	data_set_free(m);
	run_fails("LOAD 1 AS X INLINE [A\n1];\nLOAD A * 2 AS B;",
		  "line 3, column 1: a preceding LOAD needs a LOAD with FROM");
	run_fails("A: LOAD * INLINE [X\n1];\nB: LEFT KEEP (A) LOAD * INLINE [Y\n2];",
		  "KEEP needs a field in common");
	run_fails("A: LOAD * INLINE [X\n1];\nB: LOAD * RESIDENT A ORDER BY Nope;",
		  "ORDER BY names a field not in A: Nope");
}

static void loops_subs_and_qualify(void **state)
{
	(void)state;
	/* DO WHILE, LOOP UNTIL, EXIT DO WHEN, EXIT FOR */
	struct data_set *m =
	    run_ok("LET i = 0;\nDO WHILE i < 3\nT: LOAD $(i) AS N AUTOGENERATE 1;\n"
		   "LET i = i + 1;\nLOOP\n"
		   "LET j = 10;\nDO\nU: LOAD $(j) AS M AUTOGENERATE 1;\nLET j = j + 10;\n"
		   "EXIT DO WHEN j > 30\nLOOP UNTIL j > 100\n"
		   "FOR k = 1 TO 5\nIF k = 3 THEN\nEXIT FOR\nEND IF\n"
		   "V: LOAD $(k) AS K AUTOGENERATE 1;\nNEXT k\n"
		   "LET z = 5;\nDO UNTIL z > 1\nW: LOAD 1 AS Never AUTOGENERATE 1;\nLOOP");
	column(m, "T", "N", "0,1,2");
	column(m, "U", "M", "10,20,30");
	column(m, "V", "K", "1,2");
	assert_null(data_set_table(m, "W"));
	data_set_free(m);
	/* SUB with parameters, called twice and from inside a loop; parameters are local */
	m = run_ok("LET p = 'outer';\n"
		   "SUB add(p, times)\nFOR n = 1 TO times\nS: LOAD '$(p)' AS Name AUTOGENERATE 1;\n"
		   "NEXT n\nEXIT SUB WHEN p = 'b'\nS: LOAD '$(p)!' AS Name AUTOGENERATE 1;\n"
		   "END SUB\n"
		   "CALL add('a', 2);\nFOR EACH x IN 'b', 'c'\nCALL add('$(x)', 1);\nNEXT x\n"
		   "S: LOAD '$(p)' AS Name AUTOGENERATE 1;");
	column(m, "S", "Name", "a,a,a!,b,c,c!,outer");
	data_set_free(m);
	/* QUALIFY: fields of new tables become Table.Field, except what UNQUALIFY names */
	m = run_ok("QUALIFY *;\nUNQUALIFY Id;\n"
		   "Orders: LOAD * INLINE [\nId, Amount, Note\n1, 5, x\n];\n"
		   "Items: LOAD * INLINE [\nId, Amount\n1, 7\n];\n"
		   "UNQUALIFY *;\nPlain: LOAD * INLINE [\nAmount\n9\n];\n"
		   "QUALIFY N*;\nMixed: LOAD * INLINE [\nNote, Other\na, b\n];");
	column(m, "Orders", "Id", "1");
	column(m, "Orders", "Orders.Amount", "5");
	column(m, "Orders", "Orders.Note", "x");
	column(m, "Items", "Items.Amount", "7");
	column(m, "Plain", "Amount", "9");
	column(m, "Mixed", "Mixed.Note", "a");
	column(m, "Mixed", "Other", "b");
	data_set_free(m);
	/* no field in common: a cross join, every row with every row */
	m = run_ok("X: LOAD * INLINE [A\n1\n2];\nJOIN (X) LOAD * INLINE [B\nx\ny\nz];\n"
		   "Y: LOAD * INLINE [C\n1];\nLEFT JOIN (Y) LOAD 1 AS D AUTOGENERATE 0;");
	column(m, "X", "A", "1,1,1,2,2,2");
	column(m, "X", "B", "x,y,z,x,y,z");
	column(m, "Y", "C", "1");
	column(m, "Y", "D", "-");
	data_set_free(m);
}

static void date_functions(void **state)
{
	(void)state;
	struct data_set *m =
	    run_ok("T: LOAD Year(D) AS Y, Month(D) AS M, Day(D) AS Dd, Date(D) AS Dt INLINE [\n"
		   "D\n2024-03-05\n45000\nsoon\n];");
	column(m, "T", "Y", "2024,2023,-");
	column(m, "T", "M", "Mar,Mar,-");
	column(m, "T", "Dd", "5,15,-");
	column(m, "T", "Dt", "2024-03-05,2023-03-15,-");
	data_set_free(m);
	/* formats given, and the script's; the number stays as it was */
	m = run_ok("U: LOAD Date(45000.75, 'DD/MM/YYYY') AS A, Timestamp(45000.75) AS B,\n"
		   "  Time(0.5) AS C, Num(1234.5, '#,##0.00') AS D, Num(0.256, '0.0%') AS E,\n"
		   "  Num(Date#('15/03/2023', 'DD/MM/YYYY')) AS F, Date#('nope', 'YYYY') AS G,\n"
		   "  Num(Date(45000.75)) AS H, Num(7, 'abc') AS I AUTOGENERATE 1;\n"
		   "SET DateFormat='M/D/YYYY';\nSET TimestampFormat='M/D/YYYY h:mm TT';\n"
		   "V: LOAD Date(45000) AS A2, Timestamp(45000.75) AS B2,\n"
		   "  Num(Date#('3/15/2023')) AS F2 AUTOGENERATE 1;");
	static const char *const want[][2] = {
	    {"A", "15/03/2023"},
	    {"B", "2023-03-15 18:00:00"},
	    {"C", "12:00:00"},
	    {"D", "1,234.50"},
	    {"E", "25.6%"},
	    {"F", "45000"},
	    {"G", "-"},
	    {"H", "45000.75"},
	    {"I", "7"},
	    {"A2", "3/15/2023"},
	    {"B2", "3/15/2023 6:00 PM"},
	    {"F2", "45000"},
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		column(m, want[i][0][1] == '2' ? "V" : "U", want[i][0], want[i][1]);
	data_set_free(m);
	/* weeks: ISO 8601 unless the arguments or FirstWeekDay, BrokenWeeks and ReferenceDay
	 * say otherwise (Qlik's week rules: broken weeks start on January 1; whole ones make
	 * week 1 the one that holds January ReferenceDay) */
	m = run_ok(
	    "W: LOAD Week(MakeDate(2012, 12, 30)) AS A, Week(MakeDate(2012, 12, 30), 6) AS B,\n"
	    "  WeekYear(MakeDate(2012, 12, 30), 6) AS C, Week(MakeDate(2021, 1, 1)) AS D,\n"
	    "  WeekYear(MakeDate(2021, 1, 1)) AS E, Week(MakeDate(2021, 1, 1), 6, 1) AS F,\n"
	    "  Week(MakeDate(2020, 12, 31), 6, 1) AS G, Week(MakeDate(2021, 1, 1), 0, 0, 1) AS H,\n"
	    "  Num(WeekDay(MakeDate(2020, 1, 15), 6)) AS I, Text(WeekDay(MakeDate(2020, 1, 15), "
	    "6)) AS J,\n"
	    "  Day(WeekStart(MakeDate(2020, 1, 15), 0, 6)) AS K, WeekName(MakeDate(2021, 1, 1)) AS "
	    "L\n"
	    "AUTOGENERATE 1;\n"
	    "SET FirstWeekDay=6;\nSET BrokenWeeks=1;\nSET ReferenceDay=0;\n"
	    "US: LOAD Week(MakeDate(2021, 1, 1)) AS A, Week(MakeDate(2020, 1, 15)) AS B,\n"
	    "  Num(WeekDay(MakeDate(2020, 1, 15))) AS C, Day(WeekStart(MakeDate(2020, 1, 15))) AS "
	    "D,\n"
	    "  WeekName(MakeDate(2021, 1, 1)) AS E, Week(MakeDate(2021, 1, 1), 0, 0) AS F\n"
	    "AUTOGENERATE 1;");
	static const char *const weeks[][3] = {
	    {"W", "A", "52"},	    {"W", "B", "1"},   {"W", "C", "2013"}, {"W", "D", "53"},
	    {"W", "E", "2020"},	    {"W", "F", "1"},   {"W", "G", "53"},   {"W", "H", "1"},
	    {"W", "I", "3"},	    {"W", "J", "Wed"}, {"W", "K", "12"},   {"W", "L", "2020/53"},
	    {"US", "A", "1"},	    {"US", "B", "3"},  {"US", "C", "3"},   {"US", "D", "12"},
	    {"US", "E", "2021/01"}, {"US", "F", "53"}};
	for (size_t i = 0; i < sizeof(weeks) / sizeof(weeks[0]); i++)
		column(m, weeks[i][0], weeks[i][1], weeks[i][2]);
	data_set_free(m);
	/* month and day names: English by default, the script's MonthNames, LongMonthNames and
	 * DayNames once set, short or long alike, in any case; a month alone is in 1900 */
	m = run_ok(
	    "N: LOAD Num(Date#('Mar 2024', 'MMM YYYY')) AS A,\n"
	    "  Num(Date#('15 march 2023', 'D MMMM YYYY')) AS B,\n"
	    "  Month(Date#('Feb', 'MMM')) AS C, Num(Date#('Feb', 'MMM')) AS D,\n"
	    "  Num(Date#('Wed 2023-03-15', 'WWW YYYY-MM-DD')) AS E,\n"
	    "  IsNull(Date#('Mars 2024', 'MMM YYYY')) AS F AUTOGENERATE 1;\n"
	    "SET MonthNames='jan;feb;mar;apr;maj;jun;jul;aug;sep;okt;nov;dec';\n"
	    "SET LongMonthNames='januari;februari;mars;april;maj;juni;juli;augusti;september;"
	    "oktober;november;december';\n"
	    "SET DayNames='mån;tis;ons;tor;fre;lör;sön';\n"
	    "S: LOAD Num(Date#('15 mars 2023', 'D MMMM YYYY')) AS A,\n"
	    "  Num(Date#('okt 2023', 'MMM YYYY')) AS B,\n"
	    "  Num(Date#('ons 15/3/2023', 'WWW D/M/YYYY')) AS C,\n"
	    "  IsNull(Date#('15 March 2023', 'D MMMM YYYY')) AS D AUTOGENERATE 1;");
	column(m, "N", "A", "45352");
	column(m, "N", "B", "45000");
	column(m, "N", "C", "Feb");
	column(m, "N", "D", "33");
	column(m, "N", "E", "45000");
	column(m, "N", "F", "-1");
	column(m, "S", "A", "45000");
	column(m, "S", "B", "45200");
	column(m, "S", "C", "45000");
	column(m, "S", "D", "-1");
	data_set_free(m);
}

static void errors_name_the_place_and_keep_nothing(void **state)
{
	(void)state;
	run_fails("T: LOAD * INLINE [\nA\n1\n];\nU: LOAD B RESIDENT T;",
		  "line 5, column 9: field not found: B");
	run_fails("LOAD Nope(A) AS X INLINE [\nA\n1\n];", "unknown function Nope");
	run_fails("LOAD Left('abc') AS X AUTOGENERATE 1;", "Left takes 2 to 2 arguments, not 1");
	run_fails("LOAD RecNo(1) AS X AUTOGENERATE 1;", "RecNo takes 0 to 0 arguments, not 1");
	run_fails("LET x = Sum(1);", "Sum is an aggregation: it works over the rows of a LOAD");
	run_fails("LOAD Sum(Sum(A)) AS X INLINE [\nA\n1\n];",
		  "Sum inside another aggregation is not allowed");
	run_fails("LOAD * RESIDENT Missing;", "there is no table named Missing");
	run_fails("LOAD * FROM [lib://Out/../../etc/passwd] (txt);",
		  "leads out of its data connection");
	run_fails("LOAD * FROM [lib://Nowhere/x.csv] (txt);", "no folder data connection");
	run_fails("LOAD * FROM [lib://Out/absent.csv] (txt);",
		  "lib://Out/absent.csv does not exist");
	run_fails("SET a = 1;\nLOAD A, A INLINE [\nA\n1\n];",
		  "line 2, column 1: the field A is loaded twice");
	run_fails("FOR i = 1 TO 3\nTRACE x;", "NEXT is missing");
	run_fails("NEXT", "NEXT without FOR");
	run_fails("IF 1 = 1 THEN\nTRACE x;", "IF without END IF");
	run_fails("LET x = $(=1 +);", "expected a value");
	run_fails("LEFT JOIN (Nope) LOAD * INLINE [A\n1];",
		  "there is no table named Nope to join to");

	run_fails("DO WHILE 1 = 1\nTRACE x;", "DO without LOOP");
	run_fails("LOOP", "LOOP without DO");
	run_fails("SUB s\nTRACE x;", "SUB without END SUB");
	run_fails("FOR i = 1 TO 2\nLOOP", "LOOP without DO");
	run_fails("CALL nope;", "there is no SUB named nope");
	run_fails("SUB s(a)\nEND SUB\nCALL s(1, 2);", "s takes 1 arguments, not 2");
	run_fails("SUB s\nCALL s;\nEND SUB\nCALL s;", "CALLs nest more than 64 deep");
	run_fails("EXIT DO;", "EXIT DO outside a DO loop");
	run_fails("EXIT SUB;", "EXIT SUB outside a SUB");
	run_fails("DO\nLOOP", "a loop that does not end?");
	run_fails("MAPPING LOAD * INLINE [A,B,C\n1,2,3];", "two fields");
	run_fails("LOAD 'x' AS A AUTOGENERATE -1;", "whole number");
	run_fails("DROP TABLE Nope;", "no table named Nope");
	run_fails("LET i = 0;\nFOR k = 1 TO 2000000\nNEXT k", "a loop that does not end?");
	run_fails("SLEEP -1;", "SLEEP takes 0 to 3600000 milliseconds");
	run_fails("SLEEP 'soon';", "SLEEP takes 0 to 3600000 milliseconds");
	run_fails("SLEEP;", "SLEEP needs a number of milliseconds");
}

/* The variables as the script left them go with its tables. */
static void variables_are_kept(void **state)
{
	(void)state;
	struct data_set *m =
	    run_ok("SET a = 1;\nLET b = 2 + 3;\nSET a = x;\nT: LOAD 1 AS X AUTOGENERATE 1;");
	int found = 0;
	for (int i = 0; i < m->n_vars; i++) {
		if (strcmp(m->var_names[i], "a") == 0 && strcmp(m->var_values[i], "x") == 0)
			found |= 1;
		if (strcmp(m->var_names[i], "b") == 0 && strcmp(m->var_values[i], "5") == 0)
			found |= 2;
	}
	assert_int_equal(found, 3);
	data_set_free(m);
	/* a value that is one quoted string is the string; other quotes stay */
	m = run_ok("SET f = 'M/D/YYYY';\nSET g = 'It''s';\nSET h = '';\nSET i = 'a' & 'b';\n"
		   "SET j = \"x\";\nT: LOAD 1 AS X AUTOGENERATE 1;");
	static const char *const want[][2] = {
	    {"f", "M/D/YYYY"}, {"g", "It's"}, {"h", ""}, {"i", "'a' & 'b'"}, {"j", "x"}};
	for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
		const char *got = NULL;
		for (int i = 0; i < m->n_vars; i++)
			if (strcmp(m->var_names[i], want[k][0]) == 0)
				got = m->var_values[i];
		if (!got || strcmp(got, want[k][1]) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", want[k][0], got ? got : "(none)",
				 want[k][1]);
	}
	data_set_free(m);
}

/* SLEEP n waits n milliseconds (an expression, after dollar expansion) */
static void sleep_waits(void **state)
{
	(void)state;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct data_set *m =
	    run_ok("LET ms = 60;\nSLEEP $(ms) + 20;\nT: LOAD 1 AS X AUTOGENERATE 1;");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double took =
	    (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	assert_true(took >= 80);
	assert_int_equal(m->n_tables, 1);
	data_set_free(m);
}

/* Examples of Qlik's documentation: each expression in one LOAD (DateFormat MM/DD/YYYY, as
 * there), its text compared with the documented result ("-" for NULL). */
struct example {
	const char *expr, *want;
};

static void examples(const struct example *cases, size_t n)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	int bad = buf_puts(&b, "SET DateFormat='MM/DD/YYYY';\n"
			       "SET TimestampFormat='MM/DD/YYYY hh:mm:ss';\nT: LOAD ");
	for (size_t i = 0; i < n; i++)
		bad |= buf_printf(&b, "%s%s AS c%zu", i ? ",\n  " : "", cases[i].expr, i);
	bad |= buf_puts(&b, "\nAUTOGENERATE 1;");
	assert_int_equal(bad, 0);
	struct data_set *m = run_ok(b.data);
	struct tbl *t = data_set_table(m, "T");
	for (size_t i = 0; i < n; i++) {
		char field[32], cell[64];
		snprintf(field, sizeof(field), "c%zu", i);
		const char *got = cellt(t, field, 0, cell, sizeof(cell));
		if (strcmp(got, "(null)") == 0)
			got = "-";
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", cases[i].expr, got, cases[i].want);
	}
	data_set_free(m);
	buf_release(&b);
}

/* The date and time functions. */
static void qlik_date_examples(void **state)
{
	(void)state;
	static const struct example cases[] = {
	    {"ConvertToLocalTime('2007-11-10 23:59:00', 'Paris')", "11/11/2007 00:59:00"},
	    {"ConvertToLocalTime('2007-07-10 23:59:00', 'Paris')", "07/11/2007 01:59:00"},
	    {"ConvertToLocalTime('2007-07-10 23:59:00', 'Paris', 1)", "07/11/2007 00:59:00"},
	    {"ConvertToLocalTime('2007-11-10 23:59:00', 'GMT-05:00')", "11/10/2007 18:59:00"},
	    {"ConvertToLocalTime('2007-11-10 23:59:00', 'New York')", "11/10/2007 18:59:00"},
	    {"ConvertToLocalTime('2007-07-10 23:59:00', 'Eastern Time (US & Canada)')",
	     "07/10/2007 19:59:00"},
	    {"ConvertToLocalTime('2007-11-10 23:59:00', 'Mumbai')", "11/11/2007 05:29:00"},
	    {"ConvertToLocalTime('2007-11-10 23:59:00', 'Asia/Kathmandu')", "11/11/2007 05:44:00"},
	    {"ConvertToLocalTime('2007-11-10 23:59:00')", "11/10/2007 23:59:00"},
	    {"ConvertToLocalTime('2007-11-10 23:59:00', 'GMT-04:27')", "-"},
	    {"ConvertToLocalTime('2007-11-10 23:59:00', 'Atlantis')", "-"},
	    {"Round((LocalTime('UTC') - UTC()) * 1440)", "0"},
	    {"Round((LocalTime('GMT+02:00') - UTC()) * 24)", "2"},
	    {"MonthStart('02/19/2012')", "02/01/2012"},
	    {"MonthStart('02/19/2001', -1)", "01/01/2001"},
	    {"MonthEnd('02/19/2001')", "02/28/2001"},
	    {"MonthEnd('02/19/2001', -1)", "01/31/2001"},
	    {"Round((MonthStart('03/01/2001') - MonthEnd('02/19/2001')) * 86400000)", "1"},
	    {"QuarterStart('10/29/2005')", "10/01/2005"},
	    {"QuarterStart('10/29/2005', -1)", "07/01/2005"},
	    {"QuarterStart('10/29/2005', 0, 3)", "09/01/2005"},
	    {"QuarterEnd('10/29/2005')", "12/31/2005"},
	    {"QuarterEnd('10/29/2005', -1)", "09/30/2005"},
	    {"QuarterEnd('10/29/2005', 0, 3)", "11/30/2005"},
	    {"YearStart('10/19/2001')", "01/01/2001"},
	    {"YearStart('10/19/2001', -1)", "01/01/2000"},
	    {"YearStart('10/19/2001', 0, 4)", "04/01/2001"},
	    {"YearEnd('10/19/2001')", "12/31/2001"},
	    {"YearEnd('10/19/2001', 0, 4)", "03/31/2002"},
	    {"WeekStart('01/12/2013')", "01/07/2013"},
	    {"WeekStart('01/12/2013', -1)", "12/31/2012"},
	    {"WeekStart('01/12/2013', 0, 1)", "01/08/2013"},
	    {"WeekEnd('01/12/2013')", "01/13/2013"},
	    {"Week('12/28/2012')", "52"},
	    {"Week('12/31/2012')", "1"},
	    {"WeekYear('12/31/2012')", "2013"},
	    {"WeekYear('01/01/2012')", "2011"},
	    {"WeekDay('10/12/1971')", "Tue"},
	    {"Num(WeekDay('10/12/1971'))", "1"},
	    {"WeekName('01/12/2013')", "2013/02"},
	    {"WeekName('12/31/2012')", "2013/01"},
	    {"MonthName('10/19/2013')", "Oct 2013"},
	    {"MonthName('10/19/2013', -1)", "Sep 2013"},
	    {"Num(MonthName('10/19/2013')) = Num(MonthStart('10/19/2013'))", "-1"},
	    {"Month('02/19/2012')", "Feb"},
	    {"Num(Month('02/19/2012'))", "2"},
	    {"DayNumberOfYear('03/01/2020')", "61"},
	    {"DayNumberOfYear('12/31/1999')", "365"},
	    {"AddMonths('01/31/2003', 1)", "02/28/2003"},
	    {"AddMonths('01/31/2003', -13)", "12/31/2001"},
	    {"AddMonths('02/28/2003', 1)", "03/28/2003"},
	    {"AddMonths('02/28/2003', 1, 1)", "03/31/2003"},
	    {"AddYears('01/29/2010', 3)", "01/29/2013"},
	    {"AddYears('02/29/2012', 1)", "02/28/2013"},
	    {"MakeDate(2012)", "01/01/2012"},
	    {"MakeDate(2012, 12)", "12/01/2012"},
	    {"MakeDate(1999, 2, 14)", "02/14/1999"},
	    {"MakeTime(22)", "22:00:00"},
	    {"MakeTime(22, 17)", "22:17:00"},
	    {"MakeTime(22, 17, 52)", "22:17:52"},
	    {"Hour(33276 / 86400)", "9"},
	    {"Minute(33276 / 86400)", "14"},
	    {"Second(33276 / 86400)", "36"},
	    {"Hour(0.75)", "18"},
	    {"InYear('01/25/2013', '01/01/2013', 0)", "-1"},
	    {"InYear('01/25/2012', '01/01/2013', 0)", "0"},
	    {"InYear('01/25/2012', '01/01/2013', -1)", "-1"},
	    {"InYear('03/31/2013', '07/01/2013', 0, 4)", "0"},
	    {"InMonth('01/25/2013', '01/01/2013', 0)", "-1"},
	    {"InMonth('01/25/2013', '04/01/2013', 0)", "0"},
	    {"InWeek('01/12/2006', '01/14/2006', 0)", "-1"},
	    {"InQuarter('01/25/2013', '03/01/2013', 0)", "-1"},
	    {"NetWorkDays('12/19/2013', '12/31/2013')", "9"},
	    {"NetWorkDays('12/19/2013', '01/05/2014', '12/25/2013', '12/26/2013')", "10"},
	    {"NetWorkDays('12/31/2013', '12/19/2013')", "0"},
	    {"Interval(0.375)", "09:00:00"},
	    {"Interval(1.375)", "33:00:00"},
	    {"Interval(1.375, 'D hh:mm')", "1 09:00"},
	    {"YearToDate('11/18/2010', 0, 1, '11/18/2011')", "0"},
	    {"YearToDate('02/01/2011', 0, 1, '11/18/2011')", "-1"},
	    {"YearToDate('11/18/2011', 0, 1, '11/18/2011')", "-1"},
	    {"YearToDate('11/19/2011', 0, 1, '11/18/2011')", "0"},
	    {"YearToDate('11/18/2010', -1, 1, '11/18/2011')", "-1"},
	    {"YearToDate('03/31/2011', 0, 4, '11/18/2011')", "0"},
	    {"YearToDate('04/30/2011', 0, 4, '11/18/2011')", "-1"},
	    {"Today() = Floor(Now())", "-1"},
	    {"Round((Timestamp#('2024-03-05 06:30:00', 'YYYY-MM-DD hh:mm:ss') - 45356) * 1440)",
	     "390"},
	    {"Hour(Time#('09:14:36', 'hh:mm:ss'))", "9"},
	    {"Minute(Time#('5:07 PM', 'h:mm TT'))", "7"},
	    {"Hour(Time#('5:07 PM', 'h:mm TT'))", "17"},
	    {"Time#('13:07 PM', 'h:mm TT')", "-"},
	    {"DayStart(45356.7)", "03/05/2024 00:00:00"},
	    {"Num(DayEnd(45356.7)) > 45356.999", "-1"},
	    {"MonthStart('nonsense')", "-"},
	    {"Week(Null())", "-"},
	};
	examples(cases, ARRAY_LEN(cases));
	struct data_set *m;
	/* MonthNames and DayNames of the script name months and days */
	m = run_ok("SET MonthNames='jan;feb;mar;apr;mai;jun;jul;aug;sep;okt;nov;des';\n"
		   "SET DayNames='man;tir;ons;tor;fre;lør;søn';\n"
		   "T: LOAD Month('2013-10-19') AS M, WeekDay('1971-10-12') AS W,\n"
		   "  MonthName('2013-10-19') AS N AUTOGENERATE 1;");
	column(m, "T", "M", "okt");
	column(m, "T", "W", "tir");
	column(m, "T", "N", "okt 2013");
	data_set_free(m);
}

/* The string functions that search and cut, and the range functions. */
static void qlik_string_and_range_examples(void **state)
{
	(void)state;
	static const struct example cases[] = {
	    {"Num#('35,648.31', '#,##0.00', '.', ',') * 1", "35648.31"},
	    {"Num#('35 648.312', '# ##0.000', '.', ' ') * 1", "35648.312"},
	    {"Text(Num#('35,648.31', '#,##0.00', '.', ','))", "35,648.31"},
	    {"IsNull(Num#('12 apples', '#,##0'))", "-1"},
	    {"Money#('$1,234.50', '$#,##0.00', '.', ',') * 1", "1234.5"},
	    {"Money#('kr 1 234,50', 'kr # ##0,00', ',', ' ') * 2", "2469"},
	    {"Money#('($12.50)', '$#,##0.00;($#,##0.00)', '.', ',') * 1", "-12.5"},
	    {"Text(Money#('$1,234.50', '$#,##0.00', '.', ','))", "$1,234.50"},
	    {"IsNull(Money#('one dollar', '$#,##0.00'))", "-1"},
	    {"Round(BlackAndSchole(130, 4, 68.5, 0.4, 0.04, 'call'), 0.001)", "11.245"},
	    {"Round(BlackAndSchole(130, 4, 68.5, 0.4, 0.04, 'p'), 0.001)", "53.524"},
	    {"Round(BlackAndSchole(130, 4, 68.5, 0.4, 0.04, 1), 0.001)", "11.245"},
	    {"IsNull(BlackAndSchole(130, 4, 68.5, 0.4, 0.04, 'swap'))", "-1"},
	    {"StateName()", "$"},
	    {"Index('abcdefg', 'cd')", "3"},
	    {"Index('abcabcabc', 'b', 2)", "5"},
	    {"Index('abcabcabc', 'b', -2)", "5"},
	    {"Index('abcabcabc', 'b', -1)", "8"},
	    {"Index('abcabcabc', 'x')", "0"},
	    {"Index('åäöåäö', 'ö', 2)", "6"},
	    {"SubField('abc;cde;efg', ';', 2)", "cde"},
	    {"SubField('abc;cde;efg', ';', -1)", "efg"},
	    {"SubField('abc;cde;efg', ';', -3)", "abc"},
	    {"SubField('abc;cde;efg', ';', 4)", "-"},
	    {"SubField('a;;b', ';', 2)", ""},
	    {"SubStringCount('abcdeabcdeaabcde', 'ab')", "3"},
	    {"SubStringCount('abcdeabcdeaabcde', 'ABC')", "0"},
	    {"TextBetween('<abc>', '<', '>')", "abc"},
	    {"TextBetween('<abc><de>', '<', '>', 2)", "de"},
	    {"TextBetween('abc', '<', '>')", "-"},
	    {"PurgeChar('a1b2c3', '123')", "abc"},
	    {"KeepChar('a1b2c3', '123')", "123"},
	    {"PurgeChar('blåbär', 'å')", "blbär"},
	    {"FindOneOf('my example text string', 'yxz')", "2"},
	    {"FindOneOf('my example text string', 'yxz', 3)", "14"},
	    {"FindOneOf('my example text string', 'abc', 1)", "6"},
	    {"FindOneOf('my example text string', 'q')", "0"},
	    {"RangeSum(1, 2, 4)", "7"},
	    {"RangeSum(5, 'abc')", "5"},
	    {"RangeSum(Null())", "0"},
	    {"RangeMax(1, 10, 'x')", "10"},
	    {"RangeMin(1, 10, -3)", "-3"},
	    {"RangeMax('x')", "-"},
	    {"RangeAvg(1, 2, 6)", "3"},
	    {"RangeAvg(1, 'xyz')", "1"},
	    {"RangeCount(1, 2, 'xyz')", "3"},
	    {"RangeCount(Null())", "0"},
	    {"RangeNumericCount(1, 2, 'xyz')", "2"},
	    {"RangeTextCount(1, 'xyz', Null())", "1"},
	    {"RangeNullCount(1, Null(), Null())", "2"},
	    {"RGB(255, 0, 0)", "RGB(255,0,0)"},
	    {"Num(RGB(255, 0, 0))", "4294901760"},
	    {"Num(ARGB(0, 0, 0, 255))", "255"},
	    {"RGB(256, 0, 0)", "-"},
	    /* the named colours: Blue() and Blue(128) are the examples of Qlik's help */
	    {"Blue()", "RGB(0,0,128)"},
	    {"Blue(128)", "ARGB(128,0,0,128)"},
	    {"LightGray()", "RGB(192,192,192)"},
	    {"Num(White())", "4294967295"},
	    {"Red(256)", "-"},
	    {"Evaluate('1 + 2')", "3"},
	    {"Evaluate('Upper(' & Chr(39) & 'a' & Chr(39) & ')')", "A"},
	    {"Evaluate('1 +')", "-"},
	};
	examples(cases, ARRAY_LEN(cases));
	/* AutoNumber: 1, 2, ... in order of first appearance, per counter, over the reload */
	struct data_set *m =
	    run_ok("A: LOAD K, AutoNumber(K) AS N, AutoNumber(K, 'other') AS N2,\n"
		   "  AutoNumberHash128(K, 'x') AS H INLINE [K\nx\ny\nx\nz];\n"
		   "B: LOAD AutoNumber('z') AS M, AutoNumber('w') AS W AUTOGENERATE 1;");
	column(m, "A", "N", "1,2,1,3");
	column(m, "A", "N2", "1,2,1,3");
	column(m, "A", "H", "1,2,1,3");
	column(m, "B", "M", "3");
	column(m, "B", "W", "4");
	data_set_free(m);
}

/* A master calendar as Qlik scripts make one: an aggregation over a whole table, Peek
 * into variables, and AUTOGENERATE ... WHILE with IterNo; with Previous, Peek of the rows
 * so far, Exists, WHERE before GROUP BY, and the table and field functions. */
/* SubField with two arguments in a LOAD makes a row per part (Qlik's documentation: one
 * record per substring), every combination of two such calls, nested calls too; RowNo
 * counts the rows made; elsewhere it is the first part. */
static void subfield_makes_rows(void **state)
{
	(void)state;
	struct data_set *m =
	    run_ok("T: LOAD Id, SubField(Tags, ';') AS Tag, RowNo() AS R INLINE [\nId, Tags\n"
		   "1, a;b;c\n2, d\n3, \n];\n"
		   "U: LOAD SubField('x;y', ';') AS P, SubField('1-2', '-') AS Q AUTOGENERATE 1;\n"
		   "V: LOAD SubField(SubField('a,b;c', ';'), ',') AS W AUTOGENERATE 1;\n"
		   "W: FIRST 2 LOAD SubField('p|q|r', '|') AS Z AUTOGENERATE 1;\n"
		   "LET first = SubField('m;n', ';');\nX: LOAD '$(first)' AS F AUTOGENERATE 1;");
	column(m, "T", "Id", "1,1,1,2,3");
	column(m, "T", "Tag", "a,b,c,d,");
	column(m, "T", "R", "1,2,3,4,5");
	column(m, "U", "P", "x,x,y,y");
	column(m, "U", "Q", "1,2,1,2");
	column(m, "V", "W", "a,b,c");
	column(m, "W", "Z", "p,q");
	column(m, "X", "F", "m");
	data_set_free(m);
	/* names with %, as key fields are often called */
	m = run_ok("K: LOAD 7 AS %OrderKey, 50 AS Share% AUTOGENERATE 1;\n"
		   "L: LOAD %OrderKey + 1 AS Next, Share% / 100 AS Frac RESIDENT K;");
	column(m, "K", "%OrderKey", "7");
	column(m, "L", "Next", "8");
	column(m, "L", "Frac", "0.5");
	data_set_free(m);
	/* Hash128, 160 and 256: texts of 22, 27 and 43 characters, equal for equal inputs */
	m = run_ok("H: LOAD Len(Hash128('a', 1)) AS L1, Len(Hash160('a')) AS L2, "
		   "Len(Hash256('a')) AS L3, Hash128('a', 1) = Hash128('a', 1) AS Same, "
		   "Hash128('a', 1) = Hash128('a', 2) AS Diff AUTOGENERATE 1;");
	column(m, "H", "L1", "22");
	column(m, "H", "L2", "27");
	column(m, "H", "L3", "43");
	column(m, "H", "Same", "-1");
	column(m, "H", "Diff", "0");
	data_set_free(m);
	/* the file functions in a LOAD from a file, from its path as written; NULL elsewhere */
	m = run_ok("S: LOAD 1 AS A AUTOGENERATE 1;\nSTORE S INTO [lib://Out/files.v1.csv] (txt);\n"
		   "F: LOAD A, FileName() AS N, FileBaseName() AS B, FileExtension() AS E, "
		   "FilePath() AS P, FileDir() AS D FROM [lib://Out/files.v1.csv] (txt);\n"
		   "G: LOAD IsNull(FileName()) AS None AUTOGENERATE 1;");
	column(m, "F", "N", "files.v1.csv");
	column(m, "F", "B", "files.v1");
	column(m, "F", "E", "csv");
	column(m, "F", "P", "lib://Out/files.v1.csv");
	column(m, "F", "D", "lib://Out");
	column(m, "G", "None", "-1");
	data_set_free(m);
}

/* The file functions on files the script wrote (FileList and DirList in FOR EACH, sorted;
 * nothing when nothing matches), the QVD functions on the header alone, the system
 * functions, and on a QVD Qlik made (CreateUtcTime, TableName, field names). */
static void file_qvd_and_system_functions(void **state)
{
	(void)state;
	char sub[4200];
	snprintf(sub, sizeof(sub), "%s/sub1", out_dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	struct data_set *m = run_ok(
	    "S: LOAD RecNo() AS A, 'x' & RecNo() AS B AUTOGENERATE 3;\n"
	    "STORE S INTO [lib://Out/fl_b.qvd] (qvd);\nSTORE S INTO [lib://Out/fl_a.qvd] (qvd);\n"
	    "STORE S INTO [lib://Out/fl_c.csv] (txt);\n"
	    "FOR EACH f IN FileList('lib://Out/fl_*.qvd')\n"
	    "  L: LOAD '$(f)' AS Path, QvdNoOfRecords('$(f)') AS Recs, QvdNoOfFields('$(f)') AS "
	    "Flds, QvdFieldName('$(f)', 2) AS F2, QvdTableName('$(f)') AS TN, "
	    "FileSize('$(f)') > 100 AS Sized AUTOGENERATE 1;\n"
	    "NEXT f\n"
	    "FOR EACH f IN FileList('lib://Out/nothing_*.qvd'), 'after'\n"
	    "  N: LOAD '$(f)' AS Item AUTOGENERATE 1;\n"
	    "NEXT f\n"
	    "FOR EACH d IN DirList('lib://Out/sub*')\n  D: LOAD '$(d)' AS Dir AUTOGENERATE "
	    "1;\nNEXT d\n"
	    "Z: LOAD A, FileSize() AS Size FROM [lib://Out/fl_c.csv] (txt);\n"
	    "Y: LOAD IsPartialReload() AS P, Len(EngineVersion()) > 0 AS V,\n"
	    "  ReloadTime() <= Now() AND ReloadTime() > Now() - 0.01 AS RT,\n"
	    "  FileTime('lib://Out/fl_c.csv') > Now() - 0.01 AS FT,\n"
	    "  IsNull(FileSize('lib://Out/none.csv')) AS Missing,\n"
	    "  IsNull(QvdNoOfRecords('lib://Out/fl_c.csv')) AS NotQvd,\n"
	    "  IsNull(FileSize('/etc/passwd')) AS Outside, IsNull(DocumentTitle()) AS NoTitle\n"
	    "AUTOGENERATE 1;");
	column(m, "L", "Path", "lib://Out/fl_a.qvd,lib://Out/fl_b.qvd");
	column(m, "L", "Recs", "3,3");
	column(m, "L", "Flds", "2,2");
	column(m, "L", "F2", "B,B");
	column(m, "L", "TN", "S,S");
	column(m, "L", "Sized", "-1,-1");
	column(m, "N", "Item", "after");
	column(m, "D", "Dir", "lib://Out/sub1");
	char csv[4200], want[64];
	snprintf(csv, sizeof(csv), "%s/fl_c.csv", out_dir);
	struct stat st;
	assert_int_equal(stat(csv, &st), 0);
	snprintf(want, sizeof(want), "%lld,%lld,%lld", (long long)st.st_size, (long long)st.st_size,
		 (long long)st.st_size);
	column(m, "Z", "Size", want);
	column(m, "Y", "P", "0");
	column(m, "Y", "V", "-1");
	column(m, "Y", "RT", "-1");
	column(m, "Y", "FT", "-1");
	column(m, "Y", "Missing", "-1");
	column(m, "Y", "NotQvd", "-1");
	column(m, "Y", "Outside", "-1");
	column(m, "Y", "NoTitle", "-1");
	data_set_free(m);
	run_fails("X: LOAD FileList('lib://Out/*') AS Q AUTOGENERATE 1;",
		  "FileList may only be used in FOR EACH");

	/* the document, as the node names it */
	struct reload_env doc = env;
	doc.doc_path = "/share/Apps/0b7c3a52-0000-4000-8000-000000000001";
	doc.doc_title = "Sales";
	struct err e;
	err_init(&e);
	m = NULL;
	if (script_run("T: LOAD DocumentTitle() AS T, DocumentName() AS N, DocumentPath() AS P "
		       "AUTOGENERATE 1;",
		       &doc, &m, &e) != 0)
		fail_msg("%s", e.message);
	column(m, "T", "T", "Sales");
	column(m, "T", "N", "0b7c3a52-0000-4000-8000-000000000001");
	column(m, "T", "P", "/share/Apps/0b7c3a52-0000-4000-8000-000000000001");
	data_set_free(m);

	/* a QVD Qlik made: its header's table, fields, records and time */
	char probe[4200];
	snprintf(probe, sizeof(probe), "%s/qvd4js/medium.qvd", shared);
	if (stat(probe, &st) != 0) {
		print_message("no ../shared/data/qvd: the Qlik-made QVD is not checked\n");
		return;
	}
	m = run_ok("LET f = 'lib://Data/qvd4js/medium.qvd';\n"
		   "Q: LOAD QvdNoOfRecords('$(f)') AS R, QvdNoOfFields('$(f)') AS F, "
		   "QvdFieldName('$(f)', 1) AS F1, QvdTableName('$(f)') AS T, "
		   "Text(QvdCreateTime('$(f)')) AS C, Floor(QvdCreateTime('$(f)')) AS Day "
		   "AUTOGENERATE 1;");
	column(m, "Q", "R", "18484");
	column(m, "Q", "F", "13");
	column(m, "Q", "F1", "CustomerKey");
	column(m, "Q", "T", "Customers");
	column(m, "Q", "C", "2017-04-19 12:29:22");
	column(m, "Q", "Day", "42844");
	data_set_free(m);
}

/* INTERVALMATCH, both forms: Qlik's documentation example (an event log and the orders
 * running over it, joined) with numbers for times, and intervals per key. */
static void interval_match(void **state)
{
	(void)state;
	struct data_set *m = run_ok(
	    "EventLog: LOAD * INLINE [\nTime, Event\n0, 0\n1.3, 1\n2.4, 2\n4.25, 3\n8, 4\n11.7, "
	    "5\n];\n"
	    "OrderLog: LOAD * INLINE [\nStart, End, Order\n1, 3.6, A\n2.5, 7.9, B\n3.1, 10.45, C\n"
	    "7.4, 11.7, D\n];\n"
	    "INNER JOIN IntervalMatch (Time) LOAD Start, End RESIDENT OrderLog;\n"
	    "Sorted: NOCONCATENATE LOAD Order, Time RESIDENT OrderLog ORDER BY Order, Time;\n"
	    "Sales: LOAD * INLINE [\nDay, Shop, Amount\n1, X, 10\n5, X, 20\n5, Y, 30\n9, Y, 40\n"
	    "1, X, 50\n];\n"
	    "Rates: LOAD * INLINE [\nFrom, To, Shop, Rate\n0, 4, X, 1\n5, 10, X, 2\n0, 10, Y, "
	    "3\n];\n"
	    "M: IntervalMatch (Day, Shop) LOAD From, To, Shop RESIDENT Rates;\n");
	column(m, "Sorted", "Order", "A,A,B,C,C,D,D");
	column(m, "Sorted", "Time", "1.3,2.4,4.25,4.25,8,8,11.7");
	column(m, "M", "Day", "1,5,5,9");
	column(m, "M", "From", "0,5,0,0");
	column(m, "M", "To", "4,10,10,10");
	column(m, "M", "Shop", "X,X,Y,Y");
	data_set_free(m);
	run_fails("IntervalMatch (Day, Nope) LOAD 1 AS A, 2 AS B AUTOGENERATE 1;",
		  "INTERVALMATCH's key Nope is not among the LOAD's fields");
	run_fails("IntervalMatch (Day) LOAD 1 AS A AUTOGENERATE 1;",
		  "INTERVALMATCH needs a LOAD of two bounds");
}

/* GENERIC: Qlik's documentation example, one table per attribute (label.attribute) of the
 * object and the value under the attribute's name. */
static void generic_load(void **state)
{
	(void)state;
	struct data_set *m =
	    run_ok("GenTable: GENERIC LOAD * INLINE [\nObject, Attribute, Value\nball, color, red\n"
		   "ball, diameter, 25\nball, weight, 3\nbox, color, 56\nbox, height, 30\n"
		   "box, length, 20\nbox, width, 25\n];\n"
		   "LET n = NoOfTables();\nN: LOAD $(n) AS Tables AUTOGENERATE 1;\n");
	column(m, "GenTable.color", "Object", "ball,box");
	column(m, "GenTable.color", "color", "red,56");
	column(m, "GenTable.diameter", "diameter", "25");
	column(m, "GenTable.weight", "Object", "ball");
	column(m, "GenTable.height", "height", "30");
	column(m, "GenTable.width", "Object", "box");
	column(m, "GenTable.width", "width", "25");
	column(m, "N", "Tables", "6");
	data_set_free(m);
	run_fails("G: GENERIC LOAD 1 AS A AUTOGENERATE 1;",
		  "GENERIC needs a LOAD of an attribute and a value");
}

/* Rand(): 20,000 values, all different, in [0, 1), their mean within 5 standard errors of
 * 0.5 (one in a million fails by chance), and a second reload draws on (no fixed seed). */
static void rand_values(void **state)
{
	(void)state;
	const char *text = "T: LOAD Rand() AS R AUTOGENERATE 20000;\n"
			   "S: LOAD Count(DISTINCT R) AS N, Min(R) >= 0 AS Lo, Max(R) < 1 AS Hi, "
			   "Fabs(Avg(R) - 0.5) < 0.0102 AS Mean, Min(R) AS First RESIDENT T;\n";
	struct data_set *m = run_ok(text), *m2 = run_ok(text);
	column(m, "S", "N", "20000");
	column(m, "S", "Lo", "-1");
	column(m, "S", "Hi", "-1");
	column(m, "S", "Mean", "-1");
	char a[64], b[64];
	assert_string_not_equal(cellt(data_set_table(m, "S"), "First", 0, a, sizeof(a)),
				cellt(data_set_table(m2, "S"), "First", 0, b, sizeof(b)));
	data_set_free(m);
	data_set_free(m2);
}

/* HIERARCHY: Qlik's documentation example (a CEO over three managers), with the parent's
 * name, the levels, the path and the depth; a parent that is no node makes a root. */
static void hierarchy_load(void **state)
{
	(void)state;
	struct data_set *m =
	    run_ok("H: Hierarchy(NodeID, ParentNodeID, Title, 'Manager', , 'Path', , 'Depth') LOAD "
		   "NodeID, ParentNodeID, Title INLINE [\nNodeID, ParentNodeID, Title\n"
		   "1, 4, Sales manager\n2, 3, Country manager\n3, 4, Region manager\n4, , CEO\n"
		   "5, 99, Lost\n];\n");
	column(m, "H", "Manager", "CEO,Region manager,CEO,-,-");
	column(m, "H", "Title1", "CEO,CEO,CEO,CEO,Lost");
	column(m, "H", "Title2", "Sales manager,Region manager,Region manager,-,-");
	column(m, "H", "Title3", "-,Country manager,-,-,-");
	column(m, "H", "Path",
	       "CEO/Sales manager,CEO/Region manager/Country manager,CEO/Region manager,CEO,Lost");
	column(m, "H", "Depth", "2,3,2,1,1");
	data_set_free(m);
	run_fails("H: Hierarchy(NodeID, ParentNodeID) LOAD 1 AS NodeID AUTOGENERATE 1;",
		  "HIERARCHY needs NodeID, ParentID and NodeName");
	run_fails("H: Hierarchy(A, B, C) LOAD 1 AS A AUTOGENERATE 1;",
		  "HIERARCHY names a field the LOAD does not have");
}

/* The calendar Qlik's data manager writes into every app it makes: DECLARE FIELD
 * DEFINITION with tagged fields of $1, and DERIVE FIELDS FROM FIELDS; then by tags, on a
 * QVD's date field. */
static const char auto_calendar[] =
    "[autoCalendar]: \n  DECLARE FIELD DEFINITION Tagged ('$date')\nFIELDS\n"
    "  Dual(Year($1), YearStart($1)) AS [Year] Tagged ('$axis', '$year'),\n"
    "  Dual('Q'&Num(Ceil(Num(Month($1))/3)),Num(Ceil(NUM(Month($1))/3),00)) AS [Quarter] "
    "Tagged ('$quarter', '$cyclic'),\n"
    "  Month($1) AS [Month] Tagged ('$month', '$cyclic'),\n"
    "  Dual(Year($1)&'-'&Month($1), monthstart($1)) AS [YearMonth] Tagged ('$axis', "
    "'$yearmonth', '$qualified'),\n"
    "  Date(Floor($1)) AS [Date] Tagged ('$axis', '$date', '$qualified'),\n"
    "  If (DayNumberOfQuarter($1) <= 31, 1, 0) AS [EarlyInQuarter] ,\n"
    "  Year(Today())-Year($1) AS [YearsAgo] ;\n";

static void declare_and_derive(void **state)
{
	(void)state;
	char script_text[4096];
	snprintf(script_text, sizeof(script_text),
		 "SET DateFormat='YYYY-MM-DD';\n"
		 "Orders: LOAD * INLINE [\nOrderId, OrderDate, Amount\n1, 2023-05-01, 10\n"
		 "2, 2023-05-20, 20\n3, 2024-11-02, 30\n4, 2023-05-01, 40\n];\n%s"
		 "DERIVE FIELDS FROM FIELDS [OrderDate] USING [autoCalendar] ;\n",
		 auto_calendar);
	struct data_set *m = run_ok(script_text);
	column(m, "OrderDate.autoCalendar", "OrderDate", "2023-05-01,2023-05-20,2024-11-02");
	column(m, "OrderDate.autoCalendar", "OrderDate.autoCalendar.Year", "2023,2023,2024");
	column(m, "OrderDate.autoCalendar", "OrderDate.autoCalendar.Quarter", "Q2,Q2,Q4");
	column(m, "OrderDate.autoCalendar", "OrderDate.autoCalendar.Month", "May,May,Nov");
	column(m, "OrderDate.autoCalendar", "OrderDate.autoCalendar.YearMonth",
	       "2023-May,2023-May,2024-Nov");
	column(m, "OrderDate.autoCalendar", "OrderDate.autoCalendar.EarlyInQuarter", "1,0,0");
	data_set_free(m);
	run_fails("DERIVE FIELDS FROM FIELDS [X] USING [nothing];",
		  "DERIVE uses nothing, which no DECLARE defined");
	run_fails("DECLARE FIELD DEFINITION FIELDS Year($1) AS Y;",
		  "DECLARE needs a label: the definition's name");

	char probe[4200];
	struct stat st;
	snprintf(probe, sizeof(probe), "%s/qvd4js/medium.qvd", shared);
	if (stat(probe, &st) != 0) {
		print_message("no ../shared/data/qvd: DERIVE by tags is not checked\n");
		return;
	}
	snprintf(
	    script_text, sizeof(script_text),
	    "C: LOAD CustomerKey, BirthDate, Title FROM [lib://Data/qvd4js/medium.qvd] "
	    "(qvd);\n%sDERIVE FIELDS FROM EXPLICIT TAGS ('$date') USING [autoCalendar];\n"
	    "DERIVE FIELDS FROM IMPLICIT TAG USING [autoCalendar];\n"
	    "LET n = NoOfTables();\nN: LOAD $(n) AS Tables, FieldValueCount('BirthDate') AS B, "
	    "FieldValueCount('BirthDate.autoCalendar.Year') > 30 AS Years AUTOGENERATE 1;\n",
	    auto_calendar);
	m = run_ok(script_text);
	/* C, BirthDate.autoCalendar from each DERIVE, N: Title is no date */
	column(m, "N", "Tables", "3");
	column(m, "N", "Years", "-1");
	struct tbl *cal = data_set_table(m, "BirthDate.autoCalendar");
	assert_non_null(cal);
	char b[64];
	assert_string_equal(
	    cellt(data_set_table(m, "N"), "B", 0, b, sizeof(b)),
	    (snprintf(probe, sizeof(probe), "%lld", (long long)cal->n_rows), probe));
	data_set_free(m);
}

/* The statements that set how later loads treat fields and paths, those that change nothing
 * here (and say so in the log), and those refused with why. */
static void field_rules_and_other_statements(void **state)
{
	(void)state;
	struct data_set *m = run_ok(
	    "LIB CONNECT TO 'Data';\nConnect = 3;\n"
	    "Comment Field A With 'the A';\nStar Is *;\nForce Case Upper;\nSearch Include *;\n"
	    "Section Application;\n"
	    "M: MAPPING LOAD * INLINE [\nK, V\n1, one\n2, two\n];\n"
	    "Names: MAPPING LOAD * INLINE [\nOld, New\nB, Bee\nNone, Never\n];\n"
	    "ALIAS A AS Ay, C AS Cee;\nMAP Ay USING M;\nNullAsValue Cee;\nSET NullValue='<none>';\n"
	    "T: LOAD A, B, If(Len(C) > 0, C) AS C INLINE [\nA, B, C\n1, x, p\n2, y, \n3, z, q\n];\n"
	    "UNMAP *;\nNullAsNull *;\n"
	    "U: LOAD A, If(A > 1, A) AS C INLINE [\nA\n1\n];\nD: LOAD 1 AS D AUTOGENERATE 1;\n"
	    "RENAME FIELDS USING Names;\n"
	    "STORE T INTO [lib://Out/rules.csv] (txt);\nDIRECTORY lib://Out;\n"
	    "V: LOAD Bee AS B2 FROM rules.csv (txt);\n"
	    "TAG FIELD D WITH '$day';\n"
	    "[cal]: DECLARE FIELD DEFINITION FIELDS $1 * 2 AS Twice;\n"
	    "DERIVE FIELDS FROM EXPLICIT TAGS ('$day') USING [cal];\n"
	    "LET c = Connect;\nW: LOAD '$(c)' AS Cn AUTOGENERATE 1;\n");
	column(m, "T", "Ay", "one,two,3");
	column(m, "T", "Bee", "x,y,z");
	column(m, "T", "Cee", "p,<none>,q");
	column(m, "U", "Ay", "1");
	column(m, "U", "Cee", "-");
	column(m, "V", "B2", "x,y,z");
	column(m, "D.cal", "D.cal.Twice", "2");
	column(m, "W", "Cn", "3");
	assert_non_null(strstr(log_text, "LIB CONNECT TO 'Data': nothing to connect"));
	assert_non_null(strstr(log_text, "Force Case Upper: no effect here"));
	data_set_free(m);
	run_fails("Binary [lib://Out/x.qvf];", "lib://Out/x.qvf does not exist");
	run_fails("T: LOAD 1 AS x AUTOGENERATE 2;\nU: LOAD Sum(TOTAL x) AS s RESIDENT T;",
		  "Sum: TOTAL works in charts, not in scripts");
	run_fails("T: LOAD Above(1) AS x AUTOGENERATE 2;", "Above works in charts, not in scripts");
	struct data_set *tm = run_ok("T: LOAD 1 AS TOTAL AUTOGENERATE 2;\n"
				     "U: LOAD Sum(TOTAL) AS s, Count(TOTAL) AS n RESIDENT T;");
	column(tm, "U", "s", "2"); /* a field named TOTAL is still a field */
	column(tm, "U", "n", "2");
	data_set_free(tm);
	run_fails("Execute cmd.exe;", "EXECUTE is not allowed");
	run_fails("MAP A USING Nope;", "there is no mapping table named Nope");
}

/* The statistical aggregations and the number functions, on Qlik's documentation examples
 * where it gives them (Frac, Even, Odd, Combin, Permut, BitCount, Class, Age). */
static void statistics_and_number_functions(void **state)
{
	(void)state;
	struct data_set *m = run_ok(
	    "S: LOAD * INLINE [\nG, V, P, W\na, 2, x, 3\na, 4, y, 1\na, 4, z, 2\na, 4, x, 9\n"
	    "a, 5, y, 5\nb, 5, q, 1\nb, 7, r, 1\nb, 9, s, 2\nb, , t, 4\nb, n/a, u, 6\n];\n"
	    "A: LOAD G, Median(V) AS Med, Fractile(V, 0.25) AS F25, Mode(V) AS Mo, "
	    "Round(Stdev(V), 0.00001) AS Sd, FirstSortedValue(P, W) AS Cheapest, "
	    "FirstSortedValue(P, W, -1) AS Dearest, FirstValue(P) AS F, LastValue(P) AS L, "
	    "NullCount(V) AS Nu, NumericCount(V) AS Nn, TextCount(V) AS Tx, MissingCount(V) AS Mi "
	    "RESIDENT S GROUP BY G ORDER BY G;\n"
	    "N: LOAD Frac(11.43) AS F1, Frac(-1.4) AS F2, Even(3) AS E1, Even(20) AS E2, "
	    "IsNull(Even(3.14)) AS E3, Odd(3) AS O1, Fact(5) AS Fa, Combin(7, 3) AS C, "
	    "Permut(9, 3) AS P, BitCount(3) AS B1, BitCount(-1) AS B2, Class(23, 10) AS K1, "
	    "Class(23, 5, 'value') AS K2, Class(23, 10, 'x', 5) AS K3, Num(Class(23, 10)) AS K4, "
	    "Ord('A') AS Or, Money(1234.5, '$#,##0.00') AS Mn, NumSum(1, 2, 3) AS NS, "
	    "Round(Sin(Pi() / 2), 0.001) AS Si, Round(Atan2(1, 1) * 4, 0.00001) AS At, "
	    "Age(MakeDate(2014, 1, 25), MakeDate(2012, 10, 29)) AS Age1, "
	    "Age(MakeDate(2014, 10, 29), MakeDate(2012, 10, 29)) AS Age2, "
	    "Rand() >= 0 AND Rand() < 1 AS R, MonthsName(4, MakeDate(2013, 10, 19)) AS MN, "
	    "MonthsStart(4, MakeDate(2013, 10, 19)) = MakeDate(2013, 9, 1) AS MS, "
	    "Floor(MonthsEnd(4, MakeDate(2013, 10, 19))) = MakeDate(2013, 12, 31) AS ME, "
	    "MonthsStart(6, MakeDate(2013, 10, 19), 0, 4) = MakeDate(2013, 10, 1) AS MS4 "
	    "AUTOGENERATE 1;\n"
	    "K: LOAD Lookup('P', 'W', 2, 'S') AS First2, IsNull(Lookup('P', 'W', 77, 'S')) AS None "
	    "AUTOGENERATE 1;\n"
	    "R: LOAD RangeMode(1, 2, 2, 3) AS RMo, RangeFractile(0.5, 1, 2, 3, 4) AS RF, "
	    "Round(RangeStdev(2, 4, 4, 4, 5, 5, 7, 9), 0.00001) AS RS, "
	    "RangeMissingCount(1, 'a', Null()) AS RM, RangeOnly(3, 3) AS RO1, "
	    "IsNull(RangeOnly(3, 4)) AS RO2, RangeOnly('a', 'a') AS RO3, "
	    "RangeMinString('b', 'a') AS RMin, RangeMaxString('b', 'a') AS RMax, "
	    "IsNull(EmptyIsNull('')) AS EN, Fmod(7, 3) AS Fm1, Fmod(-7, 3) AS Fm2, "
	    "LevenshteinDist('kitten', 'sitting') AS LD, Num(DayName(MakeDate(2024, 3, 5))) AS DN, "
	    "QuarterName(MakeDate(2005, 10, 29)) AS QN, YearName(MakeDate(2001, 10, 19), -1, 4) AS "
	    "YN, "
	    "Num(LastWorkDate(MakeDate(2014, 12, 19), 9)) = Num(MakeDate(2014, 12, 31)) AS LW1, "
	    "Num(LastWorkDate(MakeDate(2014, 12, 19), 9, MakeDate(2014, 12, 25), "
	    "MakeDate(2014, 12, 26))) = Num(MakeDate(2015, 1, 2)) AS LW2, "
	    "Num(FirstWorkDate(MakeDate(2014, 12, 29), 9)) = Num(MakeDate(2014, 12, 17)) AS FW "
	    "AUTOGENERATE 1;\n"
	    "X: LOAD * INLINE [\nX, Y\n3, 9\n2, 7\n4, 12\n5, 15\n6, 17\n];\n"
	    "Z: LOAD Round(Correl(X, Y), 0.000001) AS Co, Round(Sterr(X), 0.000001) AS Se "
	    "RESIDENT X;\n"
	    "F: LOAD Round(FV(0.005, 12, -100), 0.01) AS FVv, Round(PV(0.005, 12, -100), 0.01) AS "
	    "PVv, "
	    "Round(Pmt(0.1 / 12, 2 * 12, 100000), 0.01) AS Pm, Round(nPer(0.01, -100, 1000), 0.01) "
	    "AS NP, Round(RangeSkew(3, 4, 5, 2, 3, 4, 5, 6, 4, 7), 0.000001) AS Sk, "
	    "Round(RangeKurtosis(3, 4, 5, 2, 3, 4, 5, 6, 4, 7), 0.000001) AS Ku, Sqr(3) AS Sq, "
	    "Round(e(), 0.00001) AS Ee, true() AS Tr, false() AS Fa, "
	    "InMonthToDate(MakeDate(2013, 1, 25), MakeDate(2013, 1, 25), 0) AS IM1, "
	    "InMonthToDate(MakeDate(2013, 1, 25), MakeDate(2013, 1, 24), 0) AS IM2, "
	    "InMonthToDate(MakeDate(2012, 1, 25), MakeDate(2013, 2, 28), -13) AS IM3, "
	    "InYearToDate(MakeDate(2013, 1, 25), MakeDate(2013, 2, 1), 0) AS IY1, "
	    "InYearToDate(MakeDate(2012, 1, 25), MakeDate(2013, 1, 1), 0) AS IY2, "
	    "InYearToDate(MakeDate(2012, 1, 25), MakeDate(2013, 2, 1), -1) AS IY3, "
	    "InMonths(4, MakeDate(2013, 1, 25), MakeDate(2013, 4, 25), 0) AS IMs, "
	    "SetDateYear(MakeDate(2005, 10, 29), 2013) = MakeDate(2013, 10, 29) AS SY, "
	    "SetDateYearMonth(MakeDate(2005, 10, 29), 2013, 3) = MakeDate(2013, 3, 29) AS SYM, "
	    "MakeWeekDate(2014, 6, 6) = MakeDate(2014, 2, 9) AS MW1, "
	    "MakeWeekDate(2014, 52) = MakeDate(2014, 12, 22) AS MW2 AUTOGENERATE 1;\n"
	    "Map: MAPPING LOAD * INLINE [\nK, V\n1, <one>\naa, XYZ\nx, b\n];\n"
	    "LET j = '{\"a\":{\"xyz\":\"XYZ\"},\"b\":[123,\"abc\",\"ABC\"]}';\n"
	    "J: LOAD MapSubString('Map', 'A123') AS M1, MapSubString('Map', 'baaar') AS M2, "
	    "MapSubString('Map', 'xaa1') AS M3, JsonGet('$(j)', '/a') AS J1, "
	    "JsonGet('$(j)', '/b/0') + 1 AS J2, JsonGet('$(j)', '/b/1') AS J3, "
	    "IsNull(JsonGet('{\"a\":\"b\"}', '/b')) AS J4, IsNull(JsonGet('{\"a\"}', '/a')) AS J5, "
	    "JsonSet('{\"a\":1}', '/b', '\"x\"') AS S1, JsonSet('{\"a\":[1]}', '/a/1', '2') AS S2, "
	    "IsJson('{\"a\":1}', 'object') AS I1, IsJson('abc') AS I2, IsJson('\"abc\"', 'string') "
	    "AS I3, IsJson('[1]', 'object') AS I4, 6 bitand 3 AS Ba, 6 bitor 3 AS Bo, "
	    "6 bitxor 3 AS Bx, bitnot 0 AS Bn, 5 bitand 1 = 1 AS Bc AUTOGENERATE 1;\n"
	    "L: LOAD LunarWeekStart(MakeDate(2013, 1, 12)) = MakeDate(2013, 1, 8) AS LS, "
	    "LunarWeekStart(MakeDate(2013, 1, 12), -1) = MakeDate(2013, 1, 1) AS LS1, "
	    "Floor(LunarWeekEnd(MakeDate(2013, 1, 12))) = MakeDate(2013, 1, 14) AS LE, "
	    "Floor(LunarWeekEnd(MakeDate(2013, 12, 30))) = MakeDate(2013, 12, 31) AS LE52, "
	    "LunarWeekName(MakeDate(2013, 1, 12)) AS LN, LunarWeekName(MakeDate(2013, 1, 12), -1) "
	    "AS LN1, InLunarWeek(MakeDate(2013, 1, 12), MakeDate(2013, 1, 14), 0) AS IL1, "
	    "InLunarWeek(MakeDate(2013, 1, 12), MakeDate(2013, 1, 7), 0) AS IL2, "
	    "InLunarWeekToDate(MakeDate(2013, 1, 12), MakeDate(2013, 1, 13), 0) AS IT1, "
	    "InLunarWeekToDate(MakeDate(2013, 1, 12), MakeDate(2013, 1, 11), 0) AS IT2, "
	    "Text(HSL(0, 1, 0.5)) AS H, Text(ColorMix1(0.5, RGB(0, 0, 0), RGB(255, 255, 255))) AS "
	    "CM, "
	    "Text(ColorMix2(-1, RGB(255, 0, 0), RGB(0, 255, 0))) AS CM2, Text(ColorMapHue(0)) AS "
	    "CH, "
	    "Left(Text(ColorMapJet(0)), 8) AS CJ, Interval#('09:00:00') * 24 AS IV1, "
	    "Interval#('1 12:30') * 24 AS IV2, Interval#('30:00') * 24 AS IV3, "
	    "Text(Interval#('09:00:00')) AS IV4, IsNull(Interval#('soon')) AS IV5, "
	    "RangeFractileExc(0.25, 1, 2, 3, 6, 6, 6, 7, 8, 9) AS FE, "
	    "Round(RangeCorrel(3, 9, 2, 7, 4, 12, 5, 15, 6, 17), 0.000001) AS RC, "
	    "Round(RangeNPV(0.1, -10000, 3000, 4200, 6800), 0.01) AS NPV, "
	    "Round(RangeIRR(-70000, 12000, 15000, 18000, 21000, 26000), 0.0001) AS IRR, "
	    "Round(Rate(4 * 12, -200, 8000), 0.0001) AS Ra AUTOGENERATE 1;\n");
	column(m, "A", "Med", "4,7");
	column(m, "A", "F25", "4,6");
	column(m, "A", "Mo", "4,-");
	column(m, "A", "Sd", "1.09545,2");
	column(m, "A", "Cheapest", "y,-");
	column(m, "A", "Dearest", "x,u");
	column(m, "A", "F", "x,q");
	column(m, "A", "L", "y,u");
	column(m, "A", "Nu", "0,0");
	column(m, "A", "Nn", "5,3");
	column(m, "A", "Tx", "0,2");
	column(m, "A", "Mi", "0,2");
	column(m, "N", "F1", "0.43");
	column(m, "N", "F2", "0.6");
	column(m, "N", "E1", "0");
	column(m, "N", "E2", "-1");
	column(m, "N", "E3", "-1");
	column(m, "N", "O1", "-1");
	column(m, "N", "Fa", "120");
	column(m, "N", "C", "35");
	column(m, "N", "P", "504");
	column(m, "N", "B1", "2");
	column(m, "N", "B2", "64");
	column(m, "N", "K1", "20<=x<30");
	column(m, "N", "K2", "20<=value<25");
	column(m, "N", "K3", "15<=x<25");
	column(m, "N", "K4", "20");
	column(m, "N", "Or", "65");
	column(m, "N", "Mn", "$1,234.50");
	column(m, "N", "NS", "6");
	column(m, "N", "Si", "1");
	column(m, "N", "At", "3.14159");
	column(m, "N", "Age1", "1");
	column(m, "N", "Age2", "2");
	column(m, "N", "R", "-1");
	column(m, "N", "MN", "Sep-Dec 2013");
	column(m, "N", "ME", "-1");
	column(m, "N", "MS", "-1");
	column(m, "N", "MS4", "-1");
	column(m, "K", "First2", "z");
	column(m, "R", "RMo", "2");
	column(m, "R", "RF", "2.5");
	column(m, "R", "RS", "2.13809");
	column(m, "R", "RM", "2");
	column(m, "R", "RO1", "3");
	column(m, "R", "RO2", "-1");
	column(m, "R", "RO3", "a");
	column(m, "R", "RMin", "a");
	column(m, "R", "RMax", "b");
	column(m, "R", "EN", "-1");
	column(m, "R", "Fm1", "1");
	column(m, "R", "Fm2", "-1");
	column(m, "R", "LD", "3");
	column(m, "R", "DN", "45356");
	column(m, "R", "QN", "Oct-Dec 2005");
	column(m, "R", "YN", "2000-2001");
	column(m, "R", "LW1", "-1");
	column(m, "R", "LW2", "-1");
	column(m, "R", "FW", "-1");
	column(m, "Z", "Co", "0.997054");
	column(m, "Z", "Se", "0.707107");
	column(m, "F", "FVv", "1233.56");
	column(m, "F", "PVv", "1161.89");
	column(m, "F", "Pm", "-4614.49");
	column(m, "F", "NP", "10.59");
	column(m, "F", "Sk", "0.359543");
	column(m, "F", "Ku", "-0.1518");
	column(m, "F", "Sq", "9");
	column(m, "F", "Ee", "2.71828");
	column(m, "F", "Tr", "-1");
	column(m, "F", "Fa", "0");
	column(m, "F", "IM1", "-1");
	column(m, "F", "IM2", "0");
	column(m, "F", "IM3", "-1");
	column(m, "F", "IY1", "-1");
	column(m, "F", "IY2", "0");
	column(m, "F", "IY3", "-1");
	column(m, "F", "IMs", "-1");
	column(m, "F", "SY", "-1");
	column(m, "F", "SYM", "-1");
	column(m, "F", "MW1", "-1");
	column(m, "F", "MW2", "-1");
	column(m, "J", "M1", "A<one>23");
	column(m, "J", "M2", "bXYZar");
	column(m, "J", "M3", "bXYZ<one>");
	column(m, "J", "J1", "{\"xyz\":\"XYZ\"}");
	column(m, "J", "J2", "124");
	column(m, "J", "J3", "abc");
	column(m, "J", "J4", "-1");
	column(m, "J", "J5", "-1");
	column(m, "J", "S1", "{\"a\":1,\"b\":\"x\"}");
	column(m, "J", "S2", "{\"a\":[1,2]}");
	column(m, "J", "I1", "-1");
	column(m, "J", "I2", "0");
	column(m, "J", "I3", "-1");
	column(m, "J", "I4", "0");
	column(m, "J", "Ba", "2");
	column(m, "J", "Bo", "7");
	column(m, "J", "Bx", "5");
	column(m, "J", "Bn", "-1");
	column(m, "J", "Bc", "-1");
	column(m, "L", "LS", "-1");
	column(m, "L", "LS1", "-1");
	column(m, "L", "LE", "-1");
	column(m, "L", "LE52", "-1");
	column(m, "L", "LN", "2013/02");
	column(m, "L", "LN1", "2013/01");
	column(m, "L", "IL1", "-1");
	column(m, "L", "IL2", "0");
	column(m, "L", "IT1", "-1");
	column(m, "L", "IT2", "0");
	column(m, "L", "H", "RGB(255,0,0)");
	column(m, "L", "CM", "RGB(127,127,127)");
	column(m, "L", "CM2", "RGB(255,0,0)");
	column(m, "L", "CH", "RGB(255,0,0)");
	column(m, "L", "CJ", "RGB(0,0,");
	column(m, "L", "IV1", "9");
	column(m, "L", "IV2", "36.5");
	column(m, "L", "IV3", "30");
	column(m, "L", "IV4", "09:00:00");
	column(m, "L", "IV5", "-1");
	column(m, "L", "FE", "2.5");
	column(m, "L", "RC", "0.997054");
	column(m, "L", "NPV", "1188.44");
	column(m, "L", "IRR", "0.0866");
	column(m, "L", "Ra", "0.0077");
	column(m, "K", "None", "-1");
	data_set_free(m);
}

/* ---- Excel workbooks: a ZIP archive written here, its parts deflated (or stored) */

/* Regression and cash flows, with the values of Qlik's documentation: the linest example's
 * data (B, DF, F and M as the page gives them; the rest as LINEST in Excel gives them for
 * the same data), STEYX's example, and the cash flows of the NPV, IRR and XIRR pages. */
static void regression_and_cash_flows(void **state)
{
	(void)state;
	struct data_set *m = run_ok(
	    "T1: LOAD *, 1 AS Grp;\nLOAD * INLINE [\nX|Y\n1|0\n2|1\n3|3\n4|8\n5|14\n6|20\n7|0\n"
	    "8|50\n9|25\n10|60\n11|38\n12|19\n13|26\n14|143\n15|98\n16|27\n17|59\n18|78\n"
	    "19|158\n20|279\n] (delimiter is '|');\n"
	    "R1: LOAD Grp, Round(LINEST_B(Y, X), 0.001) AS B, LINEST_DF(Y, X) AS DF, "
	    "Round(LINEST_F(Y, X), 0.001) AS F, Round(LINEST_M(Y, X), 0.001) AS M, "
	    "Round(LINEST_R2(Y, X), 0.001) AS R2, Round(LINEST_SEB(Y, X), 0.001) AS SEB, "
	    "Round(LINEST_SEM(Y, X), 0.001) AS SEM, Round(LINEST_SEY(Y, X), 0.001) AS SEY, "
	    "Round(LINEST_SSREG(Y, X), 0.001) AS SSREG, "
	    "Round(LINEST_SSRESID(Y, X), 0.001) AS SSRESID, "
	    "Round(LINEST_M(Y, X, 1, 1), 0.001) AS MF, Round(LINEST_B(Y, X, 1, 1), 0.001) AS BF, "
	    "LINEST_DF(Y, X, 1, 1) AS DFF, Round(LINEST_SEB(Y, X, 1, 1), 0.001) AS SEBF, "
	    "Round(LINEST_M(Y, X, 0), 0.001) AS M0, LINEST_B(Y, X, 0) AS B0, "
	    "LINEST_SEB(Y, X, 0) AS SEB0 RESIDENT T1 GROUP BY Grp;\n"
	    "S: LOAD * INLINE [\nKY, KX\n2, 6\n3, 5\n9, 11\n1, 7\n8, 5\n7, 4\n5, 4\nn/a, 9\n];\n"
	    "S1: LOAD Round(STEYX(KY, KX), 0.000001) AS E, LINEST_M(KY, KY * 0) AS Flat "
	    "RESIDENT S;\n"
	    "Cashflow: LOAD 2013 AS Year, * INLINE [\nDate|Discount|Payments\n"
	    "2013-01-01|0.1|-10000\n2013-03-01|0.1|3000\n2013-10-30|0.1|4200\n"
	    "2014-02-01|0.2|6800\n] (delimiter is '|');\n"
	    "C1: LOAD Year, Round(NPV(0.2, Payments), 0.01) AS NPV1, "
	    "Round(IRR(Payments), 0.0001) AS IRR1, Round(XIRR(Payments, Date), 0.0001) AS XIRR1, "
	    "Round(XNPV(0.1, Payments, Date), 0.01) AS XNPV1, IRR(Payments * 0 + 1) AS IRR0 "
	    "RESIDENT Cashflow GROUP BY Year;\n"
	    "C2: LOAD Round(RangeXIRR(-2500, '2008-01-01', 2750, '2008-09-01'), 0.0001) AS RX, "
	    "Round(RangeXNPV(0.1, -2500, '2008-01-01', 2750, '2008-09-01'), 0.01) AS RN, "
	    "RangeXIRR(2500, '2008-01-01', 2750, '2008-09-01') AS RX0, "
	    "Round(RangeXIRR(-2500, '2008-01-01', 'n/a', '2008-05-01', 2750, '2008-09-01'), "
	    "0.0001) AS RXT AUTOGENERATE 1;\n");
	column(m, "R1", "B", "-35.047");
	column(m, "R1", "DF", "18");
	column(m, "R1", "F", "20.788");
	column(m, "R1", "M", "8.605");
	column(m, "R1", "R2", "0.536");
	column(m, "R1", "SEB", "22.607");
	column(m, "R1", "SEM", "1.887");
	column(m, "R1", "SEY", "48.666");
	column(m, "R1", "SSREG", "49235.014");
	column(m, "R1", "SSRESID", "42631.186");
	/* through (1, 1): one parameter, b follows m */
	column(m, "R1", "MF", "6.494");
	column(m, "R1", "BF", "-5.494");
	column(m, "R1", "DFF", "19");
	column(m, "R1", "SEBF", "0.997");
	/* through (0, 0): b is given, so it has no error */
	column(m, "R1", "M0", "6.04");
	column(m, "R1", "B0", "0");
	column(m, "R1", "SEB0", "0");
	column(m, "S1", "E", "3.305719");
	column(m, "S1", "Flat", "-");
	column(m, "C1", "NPV1", "-540.12");
	column(m, "C1", "IRR1", "0.1634");
	column(m, "C1", "XIRR1", "0.5385");
	column(m, "C1", "XNPV1", "2967.63");
	column(m, "C1", "IRR0", "-");
	column(m, "C2", "RX", "0.1532");
	column(m, "C2", "RN", "80.25");
	column(m, "C2", "RX0", "-");
	column(m, "C2", "RXT", "0.1532");
	data_set_free(m);
}

/* BINARY: another app's tables are where the data model starts; it comes first, and names
 * an app file. */
static void binary_load(void **state)
{
	(void)state;
	struct data_set *m1 =
	    run_ok("S: LOAD RecNo() AS A, Chr(64 + RecNo()) AS B AUTOGENERATE 3;\n"
		   "U: LOAD 'u' AS C AUTOGENERATE 1;");
	struct buf b;
	buf_init(&b, 1 << 20);
	struct err e;
	err_init(&e);
	assert_int_equal(data_set_write_app(m1, "{}", 2, "", 0, &b, &e), 0);
	/* written while freeing the tables (as a reload writes), the same bytes */
	struct data_out fb;
	data_out_init(&fb, -1);
	assert_int_equal(data_set_write_app_freeing(m1, "{}", 2, "", 0, &fb, &e), 0);
	assert_int_equal(data_out_finish(&fb, &e), 0);
	assert_int_equal(fb.b.len, b.len);
	assert_memory_equal(fb.b.data, b.data, b.len);
	assert_int_equal(m1->n_tables, 2);
	assert_null(m1->tables[0]);
	assert_null(m1->tables[1]);
	data_out_release(&fb);
	data_set_free(m1);
	char path[4200];
	snprintf(path, sizeof(path), "%s/other.fapp", out_dir);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(b.data, 1, b.len, f), b.len);
	fclose(f);
	buf_release(&b);
	struct data_set *m = run_ok("SET x = 1;\nBINARY [lib://Out/other.fapp];\n"
				    "T: LOAD Sum(A) AS Total, Concat(B) AS Bs RESIDENT S;");
	column(m, "S", "A", "1,2,3");
	column(m, "U", "C", "u");
	column(m, "T", "Total", "6");
	column(m, "T", "Bs", "ABC");
	assert_non_null(strstr(log_text, "BINARY lib://Out/other.fapp: 2 tables, 4 rows"));
	data_set_free(m);
	run_fails("T: LOAD 1 AS X AUTOGENERATE 1;\nBINARY [lib://Out/other.fapp];",
		  "BINARY must come before the script makes any table");
	run_fails("BINARY [lib://Out/none.fapp];", "none.fapp");
	f = fopen(path, "wb");
	assert_non_null(f);
	fputs("not an app", f);
	fclose(f);
	run_fails("BINARY [lib://Out/other.fapp];", "BINARY lib://Out/other.fapp: ");
	run_fails("BINARY;", "BINARY names the app file");
}

/* SECTION ACCESS: its tables are marked as access tables, their names and texts in upper
 * case; they never concatenate with the app's tables; SECTION APPLICATION goes back; an app
 * file keeps them apart, and BINARY brings them along. */
static void section_access_tables(void **state)
{
	(void)state;
	struct data_set *m =
	    run_ok("Section Access;\n"
		   "Users: LOAD * INLINE [\nAccess, UserId, Region\nadmin, dir\\ann, east\n"
		   "USER, DIR\\Bob, 1\n];\n"
		   "Section Application;\n"
		   "Data: LOAD * INLINE [\nAccess, UserId, Region\nx, y, z\n];\n");
	assert_int_equal(m->n_tables, 2);
	struct tbl *u = data_set_table(m, "Users"), *d = data_set_table(m, "Data");
	assert_non_null(u);
	assert_non_null(d);
	assert_true(u->access);
	assert_false(d->access);
	column(m, "Users", "ACCESS", "ADMIN,USER");
	column(m, "Users", "USERID", "DIR\\ANN,DIR\\BOB");
	column(m, "Users", "REGION", "EAST,1");
	column(m, "Data", "Access", "x"); /* the app's data keeps its case */
	assert_non_null(strstr(log_text, "SECTION ACCESS: the next tables say who may see what"));
	struct buf b;
	buf_init(&b, 1 << 20);
	struct err e;
	err_init(&e);
	assert_int_equal(data_set_write_app(m, "{}", 2, "", 0, &b, &e), 0);
	data_set_free(m);
	struct appfile *af = NULL;
	assert_int_equal(data_appfile_read(b.data, b.len, &af, &e), 0);
	int kinds[8] = {0};
	for (int i = 0; i < af->n_blocks; i++)
		kinds[af->blocks[i].kind]++;
	assert_int_equal(kinds[APPFILE_TABLE], 1);
	assert_int_equal(kinds[APPFILE_ACCESS], 1);
	data_appfile_free(af);
	char path[4200];
	snprintf(path, sizeof(path), "%s/secured.fapp", out_dir);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(b.data, 1, b.len, f), b.len);
	fclose(f);
	buf_release(&b);
	m = run_ok("BINARY [lib://Out/secured.fapp];\nMore: LOAD 'a' AS Extra AUTOGENERATE 1;");
	assert_true(data_set_table(m, "Users")->access);
	assert_false(data_set_table(m, "More")->access);
	data_set_free(m);
	run_fails("Section Access;\nLOAD * INLINE [\nUserId, USERID\na, b\n];",
		  "two fields named USERID in upper case");
	run_fails("Section Nowhere;", "SECTION is followed by ACCESS or APPLICATION");
}

/* TAG FIELD's tags stay with the fields (UNTAG's go, the engine's own are not kept), a
 * STORE writes them into the QVD's header, and a LOAD of it brings them back. */
static void tags_go_with_fields(void **state)
{
	(void)state;
	struct data_set *m =
	    run_ok("T: LOAD * INLINE [\nCity, Amount\nOslo, 1\nBergen, 2\n];\n"
		   "U: LOAD * INLINE [\nCity, Size\nOslo, big\n];\n"
		   "TAG FIELD City WITH '$geoname';\nTAG FIELDS Amount, Size WITH 'money';\n"
		   "TAG FIELD Amount WITH '$numeric';\nTAG FIELD Size WITH '$hidden';\n"
		   "UNTAG FIELD Size WITH '$hidden';\n"
		   "STORE T INTO [lib://Out/tagged.qvd] (qvd);\n");
	struct tbl *t = data_set_table(m, "T"), *u = data_set_table(m, "U");
	assert_string_equal(t->fields[data_tbl_field(t, "City", false)].tags, "$geoname");
	assert_string_equal(u->fields[data_tbl_field(u, "City", false)].tags, "$geoname");
	assert_string_equal(t->fields[data_tbl_field(t, "Amount", false)].tags, "money");
	assert_string_equal(u->fields[data_tbl_field(u, "Size", false)].tags, "money");
	data_set_free(m);
	char path[4200], *xml = NULL;
	size_t len = 0;
	snprintf(path, sizeof(path), "%s/tagged.qvd", out_dir);
	struct err e;
	err_init(&e);
	assert_int_equal(file_read_all(path, 1 << 20, &xml, &len, &e), 0);
	assert_non_null(strstr(xml, "<String>$geoname</String>"));
	free(xml);
	m = run_ok("V: LOAD * FROM [lib://Out/tagged.qvd] (qvd);");
	t = data_set_table(m, "V");
	assert_string_equal(t->fields[data_tbl_field(t, "City", false)].tags, "$geoname");
	assert_string_equal(t->fields[data_tbl_field(t, "Amount", false)].tags, "money");
	data_set_free(m);
	/* TAG FIELDS USING a mapping table (Qlik's example): every field it names, or only
	 * those listed; UNTAG the same way; a map that is not there is an error */
	m = run_ok("tagmap:\nMAPPING LOAD * INLINE [\na,b\nAlpha,MyTag\nNum,MyTag\nNum,Other\n];\n"
		   "T: LOAD * INLINE [\nAlpha, Num, Beta\nx, 1, y\n];\n"
		   "TAG FIELDS USING tagmap;\n"
		   "untag:\nMAPPING LOAD * INLINE [\na,b\nAlpha,MyTag\nNum,MyTag\n];\n"
		   "UNTAG FIELDS Num USING untag;\n");
	t = data_set_table(m, "T");
	assert_string_equal(t->fields[data_tbl_field(t, "Alpha", false)].tags, "MyTag");
	assert_string_equal(t->fields[data_tbl_field(t, "Num", false)].tags, "Other");
	assert_null(t->fields[data_tbl_field(t, "Beta", false)].tags);
	data_set_free(m);
	run_fails("T: LOAD 1 AS A AUTOGENERATE 1;\nTAG FIELDS A USING nomap;",
		  "no mapping table named nomap");
}

static void put16(struct buf *b, uint32_t v)
{
	unsigned char c[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
	assert_int_equal(buf_append(b, c, 2), 0);
}

static void put32(struct buf *b, uint32_t v)
{
	put16(b, v & 0xFFFF);
	put16(b, v >> 16);
}

/* Appends part `name` (deflated unless `stored`) to the archive `z` and its directory
 * entry to `cd`. */
static void zip_add(struct buf *z, struct buf *cd, int *n, const char *name, const char *text,
		    bool stored)
{
	size_t len = strlen(text), cap = compressBound((uLong)len) + 64;
	unsigned char *out = malloc(cap);
	assert_non_null(out);
	size_t clen = len;
	if (stored) {
		memcpy(out, text, len);
	} else {
		z_stream s = {.next_in = (unsigned char *)text,
			      .avail_in = (uInt)len,
			      .next_out = out,
			      .avail_out = (uInt)cap};
		assert_int_equal(deflateInit2(&s, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
				 Z_OK);
		assert_int_equal(deflate(&s, Z_FINISH), Z_STREAM_END);
		clen = s.total_out;
		deflateEnd(&s);
	}
	uint32_t crc = (uint32_t)crc32(0, (const unsigned char *)text, (uInt)len);
	uint32_t at = (uint32_t)z->len, method = stored ? 0 : 8;
	put32(z, 0x04034b50), put16(z, 20), put16(z, 0), put16(z, method), put32(z, 0);
	put32(z, crc), put32(z, (uint32_t)clen), put32(z, (uint32_t)len);
	put16(z, (uint32_t)strlen(name)), put16(z, 0);
	assert_int_equal(buf_puts(z, name), 0);
	assert_int_equal(buf_append(z, out, clen), 0);
	put32(cd, 0x02014b50), put16(cd, 20), put16(cd, 20), put16(cd, 0), put16(cd, method);
	put32(cd, 0), put32(cd, crc), put32(cd, (uint32_t)clen), put32(cd, (uint32_t)len);
	put16(cd, (uint32_t)strlen(name)), put16(cd, 0), put16(cd, 0), put16(cd, 0), put16(cd, 0);
	put32(cd, 0), put32(cd, at);
	assert_int_equal(buf_puts(cd, name), 0);
	++*n;
	free(out);
}

/* A workbook of two sheets: Notes, and Sales (shared, rich, inline texts; numbers; a date
 * of a built-in and of a custom format; a boolean; an error; a missing cell). */
static void write_workbook(const char *path)
{
	struct buf z, cd;
	buf_init(&z, 1 << 20);
	buf_init(&cd, 1 << 20);
	int n = 0;
	zip_add(&z, &cd, &n, "[Content_Types].xml", "<Types/>", true);
	zip_add(&z, &cd, &n, "xl/workbook.xml",
		"<workbook xmlns:r=\"urn:r\"><sheets><sheet name=\"Notes\" sheetId=\"1\" "
		"r:id=\"rId1\"/><sheet name=\"Sales\" sheetId=\"2\" "
		"r:id=\"rId2\"/></sheets></workbook>",
		false);
	zip_add(&z, &cd, &n, "xl/_rels/workbook.xml.rels",
		"<Relationships><Relationship Id=\"rId1\" Target=\"worksheets/sheet1.xml\"/>"
		"<Relationship Id=\"rId2\" Target=\"/xl/worksheets/sheet2.xml\"/></Relationships>",
		false);
	zip_add(&z, &cd, &n, "xl/sharedStrings.xml",
		"<sst><si><t>Region</t></si><si><t>Amount</t></si><si><t>Day</t></si>"
		"<si><r><t>No</t></r><r><t>rth</t></r><rPh><t>x</t></rPh></si><si><t>South</t></si>"
		"</sst>",
		false);
	zip_add(&z, &cd, &n, "xl/styles.xml",
		"<styleSheet><numFmts count=\"1\"><numFmt numFmtId=\"164\" "
		"formatCode=\"yyyy\\-mm\\-dd\"/></numFmts><cellXfs count=\"3\"><xf numFmtId=\"0\"/>"
		"<xf numFmtId=\"14\"/><xf numFmtId=\"164\"/></cellXfs></styleSheet>",
		false);
	zip_add(&z, &cd, &n, "xl/worksheets/sheet1.xml",
		"<worksheet><sheetData><row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>x</t></is>"
		"</c></row></sheetData></worksheet>",
		true);
	zip_add(&z, &cd, &n, "xl/worksheets/sheet2.xml",
		"<worksheet><sheetData>"
		"<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c><c r=\"B1\" t=\"s\"><v>1</v></c>"
		"<c r=\"C1\" t=\"s\"><v>2</v></c></row>"
		"<row r=\"2\"><c r=\"A2\" t=\"s\"><v>3</v></c><c r=\"B2\"><v>10.5</v></c>"
		"<c r=\"C2\" s=\"1\"><v>45047</v></c></row>"
		"<row r=\"3\"><c r=\"A3\" t=\"inlineStr\"><is><t>West</t></is></c>"
		"<c r=\"C3\" s=\"2\"><v>45048</v></c></row>"
		"<row r=\"4\"><c r=\"A4\" t=\"s\"><v>4</v></c><c r=\"B4\" t=\"b\"><v>1</v></c>"
		"<c r=\"C4\" t=\"e\"><v>#N/A</v></c></row></sheetData></worksheet>",
		false);
	uint32_t cd_at = (uint32_t)z.len;
	assert_int_equal(buf_append(&z, cd.data, cd.len), 0);
	put32(&z, 0x06054b50), put16(&z, 0), put16(&z, 0), put16(&z, (uint32_t)n);
	put16(&z, (uint32_t)n), put32(&z, (uint32_t)cd.len), put32(&z, cd_at), put16(&z, 0);
	struct err e;
	err_init(&e);
	if (file_write_atomic(path, z.data, z.len, 0600, &e) != 0)
		fail_msg("%s", e.message);
	buf_release(&z);
	buf_release(&cd);
}

/* LOAD from an Excel workbook: a sheet by name with embedded labels, the first without
 * labels; the errors for a missing sheet and for a file that is no workbook. */
static void excel_workbooks(void **state)
{
	(void)state;
	char path[4200];
	snprintf(path, sizeof(path), "%s/book.xlsx", out_dir);
	write_workbook(path);
	snprintf(path, sizeof(path), "%s/notabook.xlsx", out_dir);
	struct err e;
	err_init(&e);
	assert_int_equal(file_write_atomic(path, "Region,Amount\n", 14, 0600, &e), 0);
	struct data_set *m = run_ok(
	    "SET DateFormat='YYYY-MM-DD';\n"
	    "S: LOAD Region, Amount, Day, Num(Day) AS DayNo FROM [lib://Out/book.xlsx] "
	    "(ooxml, embedded labels, table is Sales);\n"
	    "N: LOAD * FROM [lib://Out/book.xlsx] (ooxml, no labels);\n"
	    "H: LOAD * FROM [lib://Out/book.xlsx] (ooxml, embedded labels, header is 1 lines, "
	    "table is [Sales]);\n");
	column(m, "S", "Region", "North,West,South");
	column(m, "S", "Amount", "10.5,-,1");
	column(m, "S", "Day", "2023-05-01,2023-05-02,-");
	column(m, "S", "DayNo", "45047,45048,-");
	column(m, "N", "A", "x");
	column(m, "H", "North", "West,South"); /* the second row gives the labels */
	data_set_free(m);
	run_fails("T: LOAD * FROM [lib://Out/book.xlsx] (ooxml, embedded labels, table is Nope);",
		  "the workbook has no sheet named Nope");
	run_fails("T: LOAD * FROM [lib://Out/notabook.xlsx] (ooxml, embedded labels);",
		  "not an Excel workbook");
}

static void calendars_and_inter_record_functions(void **state)
{
	(void)state;
	struct data_set *m =
	    run_ok("Facts: LOAD * INLINE [\nOrderDate, Amount\n2024-01-30, 10\n2024-02-02, 20\n"
		   "2024-02-05, 5\n];\n"
		   "MinMax: LOAD Min(OrderDate) AS MinDate, Max(OrderDate) AS MaxDate,\n"
		   "  Sum(Amount) AS Total, Count(Amount) AS N RESIDENT Facts;\n"
		   "LET vMin = Num(Peek('MinDate', 0, 'MinMax'));\n"
		   "LET vMax = Peek('MaxDate', -1, 'MinMax');\n"
		   "LET vTotal = Peek('Total');\n"
		   "None: LOAD Max(Amount) AS Big RESIDENT Facts WHERE Amount > 100;\n"
		   "Calendar: LOAD Date($(vMin) + IterNo() - 1) AS CalDate, IterNo() AS It,\n"
		   "  RowNo() AS Rn, Week($(vMin) + IterNo() - 1) AS Wk\n"
		   "  AUTOGENERATE 1 WHILE $(vMin) + IterNo() - 1 <= $(vMax);\n"
		   "Run: LOAD Amount, Previous(Amount) AS Prev, Alt(Peek('Total2'), 0) + Amount AS "
		   "Total2\n  RESIDENT Facts ORDER BY OrderDate;\n"
		   "A: LOAD * INLINE [K\n1\n2];\n"
		   "B: LOAD K AS K2 INLINE [K\n2\n3\n3] WHERE NOT Exists(K2, K);\n"
		   "C: LOAD K AS K3 INLINE [K\n2\n5] WHERE Exists(K);\n"
		   "G: LOAD K4, Sum(V) AS S INLINE [K4, V\na, 1\na, 2\nb, 5\nb, 7] WHERE V > 1 "
		   "GROUP BY K4;\n"
		   "Info: LOAD NoOfRows('Facts') AS R, NoOfFields('Facts') AS F,\n"
		   "  FieldName(2, 'Facts') AS FN, FieldNumber('Amount', 'Facts') AS FNo,\n"
		   "  TableName(0) AS T0, TableNumber('Run') AS TR, NoOfTables() AS NT,\n"
		   "  FieldValueCount('K') AS VC, FieldValue('Amount', 2) AS V2,\n"
		   "  FieldIndex('Amount', 5) AS VI, Peek('Amount', 5, 'Facts') AS Off,\n"
		   "  Peek('Nope', 0, 'Facts') AS NoField, Peek('Amount', 0, 'Nope') AS NoTable,\n"
		   "  '$(vTotal)' AS VT, '$(vMax)' AS VM AUTOGENERATE 1;");
	column(m, "MinMax", "MinDate", "45321"); /* Min answers the number, as Qlik's does */
	column(m, "MinMax", "Total", "35");
	column(m, "MinMax", "N", "3");
	/* an aggregation over no rows makes no row */
	struct tbl *none = data_set_table(m, "None");
	assert_true(!none || none->n_rows == 0);
	column(m, "Calendar", "CalDate",
	       "2024-01-30,2024-01-31,2024-02-01,2024-02-02,2024-02-03,2024-02-04,2024-02-05");
	column(m, "Calendar", "It", "1,2,3,4,5,6,7");
	column(m, "Calendar", "Rn", "1,2,3,4,5,6,7");
	column(m, "Calendar", "Wk", "5,5,5,5,5,5,6");
	column(m, "Run", "Prev", "-,10,20");
	column(m, "Run", "Total2", "10,30,35");
	column(m, "B", "K2", "2,3");
	column(m, "C", "K3", "2");
	column(m, "G", "S", "2,12");
	column(m, "Info", "R", "3");
	column(m, "Info", "F", "2");
	column(m, "Info", "FN", "Amount");
	column(m, "Info", "FNo", "2");
	column(m, "Info", "T0", "Facts");
	column(m, "Info", "TR", "4"); /* Facts, MinMax, None, Calendar, Run */
	column(m, "Info", "NT", "9"); /* ... A, B, C, G: not Info itself */
	column(m, "Info", "VC", "2");
	column(m, "Info", "V2", "20");
	column(m, "Info", "VI", "3");
	column(m, "Info", "Off", "-");
	column(m, "Info", "NoField", "-");
	column(m, "Info", "NoTable", "-");
	column(m, "Info", "VT", "35");
	column(m, "Info", "VM", "45327");
	data_set_free(m);
	/* FIRST n: at most n rows, from a file, an inline table or a WHILE */
	m = run_ok("F: FIRST 2 LOAD * INLINE [A\n1\n2\n3];\n"
		   "G: FIRST (1 + 2) LOAD IterNo() AS I AUTOGENERATE 1 WHILE IterNo() <= 10;\n"
		   "H: NOCONCATENATE FIRST 0 LOAD A RESIDENT F;");
	column(m, "F", "A", "1,2");
	column(m, "G", "I", "1,2,3");
	struct tbl *h = data_set_table(m, "H");
	assert_true(!h || h->n_rows == 0);
	data_set_free(m);
	run_fails("FIRST 'x' LOAD 1 AS A AUTOGENERATE 1;", "FIRST needs a number");
	/* CROSSTABLE: months as columns become rows (Qlik's documentation example), with one
	 * and with two fields kept */
	m = run_ok("T: CrossTable(Month, Sales) LOAD * INLINE [\nYear, Jan, Feb, Mar\n"
		   "2008, 45, 65, 78\n2009, 11, 23, 22\n];\n"
		   "U: CROSSTABLE('Month2', [Sales 2], 2) LOAD * INLINE [\nRep, Year, Jan, Feb\n"
		   "A, 2008, 1, 2\n];");
	column(m, "T", "Year", "2008,2008,2008,2009,2009,2009");
	column(m, "T", "Month", "Jan,Feb,Mar,Jan,Feb,Mar");
	column(m, "T", "Sales", "45,65,78,11,23,22");
	column(m, "U", "Rep", "A,A");
	column(m, "U", "Month2", "Jan,Feb");
	column(m, "U", "Sales 2", "1,2");
	data_set_free(m);
	run_fails("CrossTable(Year, Sales) LOAD * INLINE [\nYear, Jan\n2008, 1\n];",
		  "must be new names");
	/* a full reload runs ADD and REPLACE loads and leaves out the ONLY ones; ENDSUB closes
	 * a SUB; a comment not closed runs to the end of the script */
	m = run_ok("SUB s(x)\n  TRACE $(x);\nENDSUB\nCALL s(1);\n"
		   "A: ADD LOAD 1 AS K AUTOGENERATE 1;\nB: REPLACE LOAD 2 AS K2 AUTOGENERATE 1;\n"
		   "C: ADD ONLY LOAD 3 AS K3 AUTOGENERATE 1;\n/* the end, not closed\n");
	column(m, "A", "K", "1");
	column(m, "B", "K2", "2");
	assert_null(data_set_table(m, "C"));
	data_set_free(m);
	/* WHEN and UNLESS before any statement, or after a label */
	m = run_ok("LET n = 2;\nWHEN n = 2 A: LOAD 1 AS K AUTOGENERATE 1;\n"
		   "B: UNLESS n = 2 LOAD 2 AS K2 AUTOGENERATE 1;\nUNLESS n = 3 SET s = yes;\n"
		   "WHEN n = 3 SET s = no;\nC: LOAD '$(s)' AS S AUTOGENERATE 1;");
	column(m, "A", "K", "1");
	assert_null(data_set_table(m, "B"));
	column(m, "C", "S", "yes");
	data_set_free(m);
	/* $(Include=) and $(Must_Include=): the file's statements run in its place, blocks and
	 * variables shared with the script; a missing file is nothing for Include and an
	 * error for Must_Include */
	char inc[4200];
	snprintf(inc, sizeof(inc), "%s/lib.qvs", out_dir);
	FILE *f = fopen(inc, "w");
	assert_non_null(f);
	fputs("SUB addrow(v)\n  Lib: LOAD $(v) AS V AUTOGENERATE 1;\nEND SUB\n"
	      "LET vFromLib = 'yes';\n/* its own comment, left open",
	      f);
	fclose(f);
	m = run_ok("SET vDir = lib://Out;\n$(Must_Include=$(vDir)\\lib.qvs);\nIF 1 = 1 THEN\n"
		   "  $(Include=lib://Out/nope.qvs);\n  CALL addrow(7);\nEND IF\n"
		   "CALL addrow(8);\nI: LOAD '$(vFromLib)' AS F AUTOGENERATE 1;");
	column(m, "Lib", "V", "7,8");
	column(m, "I", "F", "yes");
	assert_non_null(strstr(log_text, "included"));
	data_set_free(m);
	run_fails("$(Must_Include=lib://Out/nope.qvs);", "nope.qvs");
	/* a lib:// path with Windows backslashes */
	m = run_ok("T: LOAD * INLINE [A\n1];\nSTORE T INTO [lib://Out\\bs.qvd] (qvd);\n"
		   "U: LOAD A AS B FROM lib://Out\\bs.qvd (qvd);");
	column(m, "U", "B", "1");
	data_set_free(m);
	/* a variable that holds whole statements */
	m = run_ok("SET vTwo = 'A: LOAD 1 AS X AUTOGENERATE 1; B: LOAD 2 AS Y AUTOGENERATE 1;';\n"
		   "$(vTwo);\nSET vOne = 1 AS Z AUTOGENERATE 1;\nC: LOAD $(vOne);");
	column(m, "A", "X", "1");
	column(m, "B", "Y", "2");
	column(m, "C", "Z", "1");
	data_set_free(m);
	/* SWITCH, CASE with several values, DEFAULT, nested, END SWITCH and ENDSWITCH */
	m = run_ok("LET v = 2;\nSWITCH v\nCASE 1\n  SET r = one;\nCASE 2, 3\n  SET r = two;\n"
		   "  SWITCH 'a'\n  CASE 'a'\n    SET q = inner;\n  END SWITCH\n"
		   "DEFAULT\n  SET r = other;\nEND SWITCH\n"
		   "SWITCH 'x'\nCASE 'y'\n  SET s = y;\nDEFAULT\n  SET s = dflt;\nENDSWITCH\n"
		   "SWITCH 9\nCASE 1\n  SET t = one;\nEND SWITCH\n"
		   "S: LOAD '$(r)' AS R, '$(q)' AS Q, '$(s)' AS S, '$(t)' AS T AUTOGENERATE 1;");
	column(m, "S", "R", "two");
	column(m, "S", "Q", "inner");
	column(m, "S", "S", "dflt");
	column(m, "S", "T", "");
	data_set_free(m);
	run_fails("SWITCH 1\nCASE 1\n  SET a = 1;\n", "SWITCH without END SWITCH");
	run_fails("CASE 1\n", "CASE without SWITCH");
	/* IterNo is 1 in a LOAD without WHILE */
	m = run_ok("T: LOAD IterNo() AS I AUTOGENERATE 2;");
	column(m, "T", "I", "1,1");
	data_set_free(m);
	/* parameterised variables: $1, $2 take the arguments, commas inside parentheses and
	 * quotes stay in one */
	m = run_ok("SET vAdd = ($1 + $2);\nSET vPick = If($1 > 0, $2, 'none');\n"
		   "P: LOAD $(vAdd(2, 3)) AS A, $(vAdd(RangeSum(1, 2), 10)) AS B,\n"
		   "  $(vPick(1, 'a,b')) AS C, $(vPick(-1, 'x')) AS D, '$(vNope(1))' AS E\n"
		   "  AUTOGENERATE 1;");
	column(m, "P", "A", "5");
	column(m, "P", "B", "13");
	column(m, "P", "C", "a,b");
	column(m, "P", "D", "none");
	column(m, "P", "E", "");
	data_set_free(m);
	/* a variable never set is NULL in an expression, not an error */
	m = run_ok("LET x = vNever + 1;\nIF vNever = 1 THEN\n  LET y = 'then';\nELSE\n"
		   "  LET y = 'else';\nEND IF\nN: LOAD '$(x)' AS X, '$(y)' AS Y AUTOGENERATE 1;");
	column(m, "N", "X", "");
	column(m, "N", "Y", "else");
	data_set_free(m);
}

/* ---------------------------------------------------------------- media files */

static void put_be(struct buf *b, uint32_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--) {
		unsigned char c = (unsigned char)(v >> (8 * i));
		assert_int_equal(buf_append(b, &c, 1), 0);
	}
}

static void put_bytes(struct buf *b, const void *p, size_t n)
{
	assert_int_equal(buf_append(b, p, n), 0);
}

/* Text as UTF-16LE (ASCII and Latin-1 only), with or without its NUL. */
static void put_utf16le(struct buf *b, const char *latin1, bool nul)
{
	for (const unsigned char *c = (const unsigned char *)latin1; *c; c++)
		put16(b, *c);
	if (nul)
		put16(b, 0);
}

static void save(struct buf *b, const char *name)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", out_dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(b->data, 1, b->len, f), b->len);
	assert_int_equal(fclose(f), 0);
	buf_release(b);
}

/* An ID3v2.3 frame. */
static void id3_frame(struct buf *b, const char *id, const void *body, size_t n)
{
	put_bytes(b, id, 4);
	put_be(b, (uint32_t)n, 4);
	put_be(b, 0, 2);
	put_bytes(b, body, n);
}

/* tiny.mp3: ID3v2.3 (TIT2 in ISO 8859-1, TPE1 in UTF-16 with a BOM, COMM, TRCK) and an
 * ID3v1.1 tag; v2only.mp3: the frames alone. */
static void write_mp3s(void)
{
	struct buf f, b;
	buf_init(&f, 1 << 20);
	buf_init(&b, 1 << 20);
	id3_frame(&f, "TIT2", "\0Fjord Song", 11);
	static const unsigned char artist[] = {1, 0xFF, 0xFE, 0xC5, 0, 's', 0, 'a', 0, 0, 0};
	id3_frame(&f, "TPE1", artist, sizeof(artist));
	id3_frame(&f, "COMM", "\0engshort\0A comment", 19);
	id3_frame(&f, "TRCK",
		  "\0"
		  "3/12",
		  5);
	id3_frame(&f, "APIC", "\0image/png\0\0\0", 13);
	put_bytes(&b, "ID3\3\0\0", 6);
	put_be(&b, (uint32_t)f.len + 10, 4); /* sizes under 128 are the same syncsafe */
	put_bytes(&b, f.data, f.len);
	put_bytes(&b, "\0\0\0\0\0\0\0\0\0\0", 10); /* padding */
	struct buf only;
	buf_init(&only, 1 << 20);
	put_bytes(&only, b.data, b.len);
	put_bytes(&b, "\xFF\xFB\x90\x00", 4); /* a frame header of audio */
	char v1[128] = "TAG";
	memcpy(v1 + 3, "Old Title", 9);
	memcpy(v1 + 33, "Old Artist", 10);
	memcpy(v1 + 93, "1999", 4);
	v1[126] = 7;  /* ID3v1.1: track 7 */
	v1[127] = 17; /* genre: Rock */
	put_bytes(&b, v1, sizeof(v1));
	save(&b, "tiny.mp3");
	save(&only, "v2only.mp3");
	buf_release(&f);
}

static void png_chunk(struct buf *b, const char *type, const void *d, size_t n)
{
	put_be(b, (uint32_t)n, 4);
	put_bytes(b, type, 4);
	put_bytes(b, d, n);
	put_be(b, 0, 4); /* the CRC: not read */
}

static void write_png(void)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	put_bytes(&b, "\x89PNG\r\n\x1A\n", 8);
	png_chunk(&b, "IHDR", "\0\0\0\1\0\0\0\1\x08\2\0\0\0", 13);
	png_chunk(&b, "tEXt", "Author\0Jane \xD8ye", 15);
	png_chunk(&b, "tEXt",
		  "Creation Time\0"
		  "2024-05-01",
		  24);
	png_chunk(&b, "iTXt", "Title\0\0\0nb\0Tittel\0Caf\xC3\xA9", 24);
	png_chunk(&b, "IEND", "", 0);
	png_chunk(&b, "tEXt", "Comment\0after the end", 21);
	save(&b, "tiny.png");
}

/* A TIFF directory entry, big-endian. */
static void ifd_entry(struct buf *b, uint16_t tag, uint16_t type, uint32_t count, uint32_t v)
{
	put_be(b, tag, 2);
	put_be(b, type, 2);
	put_be(b, count, 4);
	put_be(b, v, 4);
}

/* tiny.jpg: EXIF (big-endian) with Make, XResolution and pointers to an Exif directory
 * (ExposureTime, ISOSpeedRatings, ExifVersion) and a GPS one (GPSLatitudeRef,
 * GPSLatitude). Offsets count from the TIFF header. */
static void write_jpeg(void)
{
	struct buf t, b;
	buf_init(&t, 1 << 20);
	buf_init(&b, 1 << 20);
	put_bytes(&t, "MM\0\x2A\0\0\0\x08", 8);
	/* IFD0 at 8: 4 entries (2 + 48) and the next-directory offset (4): ends at 62 */
	put_be(&t, 4, 2);
	ifd_entry(&t, 0x010F, 2, 6, 62);  /* Make: "Canon\0" at 62 */
	ifd_entry(&t, 0x011A, 5, 1, 68);  /* XResolution: 72/1 at 68 */
	ifd_entry(&t, 0x8769, 4, 1, 76);  /* the Exif directory at 76 */
	ifd_entry(&t, 0x8825, 4, 1, 126); /* the GPS directory at 126 */
	put_be(&t, 0, 4);
	put_bytes(&t, "Canon\0", 6);		 /* 62 */
	put_be(&t, 72, 4), put_be(&t, 1, 4);	 /* 68 */
	put_be(&t, 3, 2);			 /* 76: 3 entries, ends at 118 */
	ifd_entry(&t, 0x829A, 5, 1, 118);	 /* ExposureTime: 1/250 at 118 */
	ifd_entry(&t, 0x8827, 3, 1, 200u << 16); /* ISOSpeedRatings: 200, in place */
	ifd_entry(&t, 0x9000, 7, 4, 0x30323330); /* ExifVersion "0230" */
	put_be(&t, 0, 4);
	put_be(&t, 1, 4), put_be(&t, 250, 4);	 /* 118 */
	put_be(&t, 2, 2);			 /* 126: 2 entries, ends at 156 */
	ifd_entry(&t, 0x0001, 2, 2, 0x4E000000); /* GPSLatitudeRef "N" */
	ifd_entry(&t, 0x0002, 5, 3, 156);	 /* GPSLatitude at 156 */
	put_be(&t, 0, 4);
	put_be(&t, 59, 4), put_be(&t, 1, 4), put_be(&t, 20, 4), put_be(&t, 1, 4);
	put_be(&t, 61, 4), put_be(&t, 2, 4); /* 59 20 30.5 */
	put_bytes(&b, "\xFF\xD8\xFF\xE1", 4);
	put_be(&b, (uint32_t)(t.len + 8), 2);
	put_bytes(&b, "Exif\0\0", 6);
	put_bytes(&b, t.data, t.len);
	put_bytes(&b, "\xFF\xD9", 2);
	save(&b, "tiny.jpg");
	buf_release(&t);
}

static void asf_object(struct buf *b, const unsigned char guid[16], struct buf *body)
{
	put_bytes(b, guid, 16);
	put32(b, (uint32_t)(body->len + 24)), put32(b, 0);
	put_bytes(b, body->data, body->len);
	buf_release(body);
}

/* tiny.wma: an ASF header with a content description (Title, Author) and an extended one
 * (WM/AlbumTitle as text, WM/TrackNumber as a DWORD). */
static void write_asf(void)
{
	static const unsigned char header[16] = {0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11,
						 0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62, 0xCE, 0x6C};
	static const unsigned char content[16] = {0x33, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11,
						  0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62, 0xCE, 0x6C};
	static const unsigned char extended[16] = {0x40, 0xA4, 0xD0, 0xD2, 0x07, 0xE3, 0xD2, 0x11,
						   0x97, 0xF0, 0x00, 0xA0, 0xC9, 0x5E, 0xA8, 0x50};
	struct buf c, x, objs, b;
	buf_init(&c, 1 << 20);
	buf_init(&x, 1 << 20);
	buf_init(&objs, 1 << 20);
	buf_init(&b, 1 << 20);
	put16(&c, 10), put16(&c, 10), put16(&c, 0), put16(&c, 0), put16(&c, 0);
	put_utf16le(&c, "Tune", true);
	put_utf16le(&c, "Band", true);
	put16(&x, 2);
	put16(&x, 28), put_utf16le(&x, "WM/AlbumTitle", true), put16(&x, 0), put16(&x, 12);
	put_utf16le(&x, "Album", true);
	put16(&x, 30), put_utf16le(&x, "WM/TrackNumber", true), put16(&x, 3), put16(&x, 4);
	put32(&x, 9);
	asf_object(&objs, content, &c);
	asf_object(&objs, extended, &x);
	put_bytes(&b, header, 16);
	put32(&b, (uint32_t)(objs.len + 30)), put32(&b, 0);
	put32(&b, 2), put_bytes(&b, "\1\2", 2);
	put_bytes(&b, objs.data, objs.len);
	buf_release(&objs);
	save(&b, "tiny.wma");
}

/* Attribute() on an MP3, a PNG, a JPEG and a WMA the test writes (the tag names of
 * Qlik's Attribute examples); ConnectString() after LIB CONNECT TO and DISCONNECT; the
 * Windows functions NULL as in Qlik Sense's standard mode; the collation locale; Color()
 * from the charts' palette and SysColor(). */
static void media_tags_and_other_system_functions(void **state)
{
	(void)state;
	write_mp3s();
	write_png();
	write_jpeg();
	write_asf();
	struct data_set *m = run_ok(
	    "M: LOAD Attribute('lib://Out/tiny.mp3', 'Title') AS Title,\n"
	    "  Attribute('lib://Out/tiny.mp3', 'Artist') AS Artist,\n"
	    "  Attribute('lib://Out/tiny.mp3', 'Year') AS Year,\n"
	    "  Attribute('lib://Out/tiny.mp3', 'Track') AS Track,\n"
	    "  Attribute('lib://Out/tiny.mp3', 'Genre') AS Genre,\n"
	    "  Attribute('lib://Out/tiny.mp3', 'TIT2') AS TIT2,\n"
	    "  Attribute('lib://Out/tiny.mp3', 'TPE1') AS TPE1,\n"
	    "  Attribute('lib://Out/tiny.mp3', 'COMM') AS COMM,\n"
	    "  IsNull(Attribute('lib://Out/tiny.mp3', 'APIC')) AS NoPicture,\n"
	    "  IsNull(Attribute('lib://Out/tiny.mp3', 'TALB')) AS NoAlbum,\n"
	    "  Attribute('lib://Out/v2only.mp3', 'Title') AS V2Title,\n"
	    "  Attribute('lib://Out/v2only.mp3', 'Track') AS V2Track\n"
	    "AUTOGENERATE 1;\n"
	    "P: LOAD Attribute('lib://Out/tiny.png', 'Author') AS Author,\n"
	    "  Attribute('lib://Out/tiny.png', 'Creation Time') AS Created,\n"
	    "  Attribute('lib://Out/tiny.png', 'Title') AS Title,\n"
	    "  IsNull(Attribute('lib://Out/tiny.png', 'Comment')) AS NoComment\n"
	    "AUTOGENERATE 1;\n"
	    "J: LOAD Attribute('lib://Out/tiny.jpg', 'Make') AS Make,\n"
	    "  Attribute('lib://Out/tiny.jpg', 'XResolution') AS XRes,\n"
	    "  Attribute('lib://Out/tiny.jpg', 'ExposureTime') AS Exposure,\n"
	    "  Attribute('lib://Out/tiny.jpg', 'ISOSpeedRatings') AS ISO,\n"
	    "  Attribute('lib://Out/tiny.jpg', 'ExifVersion') AS Version,\n"
	    "  Attribute('lib://Out/tiny.jpg', 'GPSLatitudeRef') AS LatRef,\n"
	    "  Attribute('lib://Out/tiny.jpg', 'GPSLatitude') AS Lat,\n"
	    "  IsNull(Attribute('lib://Out/tiny.jpg', 'Model')) AS NoModel\n"
	    "AUTOGENERATE 1;\n"
	    "W: LOAD Attribute('lib://Out/tiny.wma', 'Title') AS Title,\n"
	    "  Attribute('lib://Out/tiny.wma', 'Author') AS Author,\n"
	    "  Attribute('lib://Out/tiny.wma', 'WM/AlbumTitle') AS Album,\n"
	    "  Attribute('lib://Out/tiny.wma', 'WM/TrackNumber') AS Track,\n"
	    "  IsNull(Attribute('lib://Out/tiny.wma', 'Copyright')) AS NoCopyright,\n"
	    "  IsNull(Attribute('lib://Out/none.mp3', 'Title')) AS Missing,\n"
	    "  IsNull(Attribute('/etc/passwd', 'Title')) AS Outside\n"
	    "AUTOGENERATE 1;\n"
	    "LET before = ConnectString();\n"
	    "LIB CONNECT TO 'Sales DB (qlik_admin)';\n"
	    "LET during = ConnectString();\n"
	    "DISCONNECT;\n"
	    "C: LOAD '$(before)' AS Before, '$(during)' AS During, ConnectString() AS After,\n"
	    "  IsNull(GetFolderPath('MyDocuments')) AS NoFolder,\n"
	    "  IsNull(GetRegistryString('HKEY_LOCAL_MACHINE\\SOFTWARE', 'x')) AS NoRegistry,\n"
	    "  GetCollationLocale() AS Collation\n"
	    "AUTOGENERATE 1;\n"
	    "SET CollationLocale = 'sv-SE';\n"
	    "K: LOAD GetCollationLocale() AS Collation, Color(1) AS C1, Num(Color(1)) AS N1,\n"
	    "  Color(14) AS C14, IsNull(Color(0)) AS NoC0, SysColor(13) AS Highlight,\n"
	    "  Num(SysColor(5)) AS Window, IsNull(SysColor(25)) AS No25\n"
	    "AUTOGENERATE 1;\n");
	column(m, "M", "Title", "Old Title");
	column(m, "M", "Artist", "Old Artist");
	column(m, "M", "Year", "1999");
	column(m, "M", "Track", "7");
	column(m, "M", "Genre", "17");
	column(m, "M", "TIT2", "Fjord Song");
	column(m, "M", "TPE1", "\xC3\x85sa");
	column(m, "M", "COMM", "A comment");
	column(m, "M", "NoPicture", "-1");
	column(m, "M", "NoAlbum", "-1");
	column(m, "M", "V2Title", "Fjord Song");
	column(m, "M", "V2Track", "3/12");
	column(m, "P", "Author", "Jane \xC3\x98ye");
	column(m, "P", "Created", "2024-05-01");
	column(m, "P", "Title", "Caf\xC3\xA9");
	column(m, "P", "NoComment", "-1");
	column(m, "J", "Make", "Canon");
	column(m, "J", "XRes", "72");
	column(m, "J", "Exposure", "0.004");
	column(m, "J", "ISO", "200");
	column(m, "J", "Version", "0230");
	column(m, "J", "LatRef", "N");
	column(m, "J", "Lat", "59 20 30.5");
	column(m, "J", "NoModel", "-1");
	column(m, "W", "Title", "Tune");
	column(m, "W", "Author", "Band");
	column(m, "W", "Album", "Album");
	column(m, "W", "Track", "9");
	column(m, "W", "NoCopyright", "-1");
	column(m, "W", "Missing", "-1");
	column(m, "W", "Outside", "-1");
	column(m, "C", "Before", "");
	column(m, "C", "During", "Sales DB (qlik_admin)");
	column(m, "C", "After", "");
	column(m, "C", "NoFolder", "-1");
	column(m, "C", "NoRegistry", "-1");
	column(m, "C", "Collation", "en-US");
	column(m, "K", "Collation", "sv-SE");
	column(m, "K", "C1", "RGB(19,129,133)");
	column(m, "K", "N1", "4279468421");
	column(m, "K", "C14", "RGB(38,160,167)");
	column(m, "K", "NoC0", "-1");
	column(m, "K", "Highlight", "ARGB(255,0,120,215)");
	column(m, "K", "Window", "4294967295");
	column(m, "K", "No25", "-1");
	data_set_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(runs_the_script),
	    cmocka_unit_test(a_csv_stored_as_qvd_equals_qliks),
	    cmocka_unit_test(qvd_dates_show_as_dates),
	    cmocka_unit_test(joins_keeps_and_order_by),
	    cmocka_unit_test(loops_subs_and_qualify),
	    cmocka_unit_test(date_functions),
	    cmocka_unit_test(errors_name_the_place_and_keep_nothing),
	    cmocka_unit_test(sleep_waits),
	    cmocka_unit_test(variables_are_kept),
	    cmocka_unit_test(qlik_date_examples),
	    cmocka_unit_test(qlik_string_and_range_examples),
	    cmocka_unit_test(calendars_and_inter_record_functions),
	    cmocka_unit_test(subfield_makes_rows),
	    cmocka_unit_test(file_qvd_and_system_functions),
	    cmocka_unit_test(interval_match),
	    cmocka_unit_test(generic_load),
	    cmocka_unit_test(rand_values),
	    cmocka_unit_test(hierarchy_load),
	    cmocka_unit_test(declare_and_derive),
	    cmocka_unit_test(field_rules_and_other_statements),
	    cmocka_unit_test(statistics_and_number_functions),
	    cmocka_unit_test(regression_and_cash_flows),
	    cmocka_unit_test(binary_load),
	    cmocka_unit_test(section_access_tables),
	    cmocka_unit_test(tags_go_with_fields),
	    cmocka_unit_test(excel_workbooks),
	    cmocka_unit_test(media_tags_and_other_system_functions),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
