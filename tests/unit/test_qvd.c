/* test_qvd.c: the QVD reader and writer (engine/qvd.c). Reads every QVD that Qlik wrote in
 * ../shared/data/qvd/ and checks it value for value against the CSV it was loaded from;
 * checks NULLs, zero-width fields, fields out of bit order and empty tables; refuses
 * damaged and hostile files with a clear error; and writes every table back, reading the
 * result again to the same values. */
#include "unit.h"

#include "data/data.h"

#include <dirent.h>
#include <sys/stat.h>

static char shared[4096];

static bool have_shared(void)
{
	const char *s = getenv("FATHOM_SHARED");
	snprintf(shared, sizeof(shared), "%s/data/qvd", s ? s : "../shared");
	struct stat st;
	if (stat(shared, &st) != 0) {
		printf("skipped: %s is absent (the shared QVD samples)\n", shared);
		return false;
	}
	return true;
}

static struct qvd_table *load(const char *rel)
{
	char path[8192];
	snprintf(path, sizeof(path), "%s/%s", shared, rel);
	struct qvd_table *t = NULL;
	struct err e;
	err_init(&e);
	int rc = data_qvd_read_file(path, &t, &e);
	if (rc)
		fail_msg("%s: %s (%s)", rel, e.message, e.detail);
	return t;
}

static int field_index(const struct qvd_table *t, const char *name)
{
	for (int i = 0; i < t->n_fields; i++)
		if (strcmp(t->fields[i].name, name) == 0)
			return i;
	fail_msg("no field %s", name);
	return -1;
}

/* The text of row r of field f ("" for NULL, which the CSVs do not have). */
static const char *cell(const struct qvd_table *t, int f, int64_t r, char *buf, size_t n)
{
	int32_t i = t->fields[f].index[r];
	if (i < 0)
		return "\x01NULL";
	return data_qvd_value_text(&t->fields[f].symbols[i], buf, n);
}

/* Splits one CSV line (double-quoted fields, "" inside quotes) into cells. */
static int csv_split(char *line, char **cells, int max)
{
	int n = 0;
	char *p = line;
	while (n < max) {
		char *out = p, *start = p;
		if (*p == '"') {
			p++;
			start = out = p;
			for (;;) {
				if (*p == '\0')
					break;
				if (*p == '"' && p[1] == '"') {
					*out++ = '"';
					p += 2;
				} else if (*p == '"') {
					p++;
					break;
				} else {
					*out++ = *p++;
				}
			}
			while (*p && *p != ',')
				p++;
		} else {
			while (*p && *p != ',')
				p++;
			out = p;
		}
		char next = *p;
		*out = '\0';
		cells[n++] = start;
		if (next != ',')
			break;
		p++;
	}
	return n;
}

/* Every row and column of the QVD equals the CSV's text. */
static void matches_csv(const char *qvd, const char *csv)
{
	struct qvd_table *t = load(qvd);
	char path[8192];
	snprintf(path, sizeof(path), "%s/%s", shared, csv);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int64_t row = -1;
	int map[64];
	int ncols = 0;
	while ((len = getline(&line, &cap, f)) >= 0) {
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		char *l = line;
		if (row < 0 && (unsigned char)l[0] == 0xEF && (unsigned char)l[1] == 0xBB)
			l += 3; /* a byte-order mark */
		char *cells[64];
		int n = csv_split(l, cells, 64);
		if (row < 0) {
			ncols = n;
			assert_int_equal(n, t->n_fields);
			for (int c = 0; c < n; c++)
				map[c] = field_index(t, cells[c]);
			row = 0;
			continue;
		}
		assert_true(row < t->n_rows);
		assert_int_equal(n, ncols);
		for (int c = 0; c < n; c++) {
			/* Qlik strips leading and trailing blanks (ASCII 32) of every value it
			 * loads unless the script sets Verbatim = 1. */
			char *want = cells[c];
			while (*want == ' ')
				want++;
			size_t wl = strlen(want);
			while (wl && want[wl - 1] == ' ')
				want[--wl] = '\0';
			cells[c] = want;
			char buf[512];
			const char *got = cell(t, map[c], row, buf, sizeof(buf));
			if (strcmp(got, cells[c]) != 0)
				fail_msg("%s row %lld, %s: QVD \"%s\", CSV \"%s\"", qvd,
					 (long long)row + 1, t->fields[map[c]].name, got, cells[c]);
		}
		row++;
	}
	assert_int_equal(row, t->n_rows);
	free(line);
	fclose(f);
	data_qvd_free(t);
}

static void lego_and_stockholm_match_their_csvs(void **state)
{
	(void)state;
	if (!have_shared())
		skip();
	static const char *const names[] = {"colors",	      "themes",	     "part_categories",
					    "inventory_sets", "inventories", "sets",
					    "parts"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char q[128], c[128];
		snprintf(q, sizeof(q), "ctrl-q/lego/%s.qvd", names[i]);
		snprintf(c, sizeof(c), "ctrl-q/lego/%s.csv", names[i]);
		matches_csv(q, c);
	}
	matches_csv("ctrl-q/stockholm_temp/stockholm_temp.qvd",
		    "ctrl-q/stockholm_temp/stockholm_temp.csv");
}

static void shapes_of_qlik_files(void **state)
{
	(void)state;
	if (!have_shared())
		skip();
	/* An empty table still has its fields. */
	struct qvd_table *t = load("ctrl-q/misc/empty_qvd.qvd");
	assert_int_equal(t->n_rows, 0);
	assert_int_equal(t->n_fields, 3);
	assert_string_equal(t->name, "TestTable");
	data_qvd_free(t);
	/* Real NULLs (bias -2) in Title and Suffix. */
	t = load("qvd4js/medium.qvd");
	assert_int_equal(t->n_rows, 18484);
	int title = field_index(t, "Title"), nulls = 0;
	assert_int_equal(t->fields[title].bias, -2);
	for (int64_t r = 0; r < t->n_rows; r++)
		nulls += t->fields[title].index[r] < 0;
	assert_true(nulls > 0 && nulls < t->n_rows);
	data_qvd_free(t);
	/* Zero-width fields: one symbol, every row. */
	t = load("qvd4js/large.qvd");
	assert_int_equal(t->n_rows, 60398);
	int zero = 0;
	for (int i = 0; i < t->n_fields; i++) {
		if (t->fields[i].bit_width != 0)
			continue;
		zero++;
		assert_int_equal(t->fields[i].n_symbols, 1);
		for (int64_t r = 0; r < t->n_rows; r++)
			assert_int_equal(t->fields[i].index[r], 0);
	}
	assert_int_equal(zero, 2);
	data_qvd_free(t);
	/* Fields listed out of bit order; "NULL" as text is a value, not NULL. */
	t = load("qvd4js/small.qvd");
	assert_int_equal(t->n_rows, 606);
	bool descending = false;
	for (int i = 1; i < t->n_fields; i++)
		descending |= t->fields[i].bit_offset < t->fields[i - 1].bit_offset;
	assert_true(descending);
	data_qvd_free(t);
	/* Dual dates: the number is the day serial, the text the date. */
	t = load("ctrl-q/stockholm_temp/stockholm_temp.qvd");
	int date = field_index(t, "date");
	const struct qvd_value *v = &t->fields[date].symbols[t->fields[date].index[0]];
	assert_string_equal(v->text, "1756-01-01");
	assert_true(v->num == -52593);
	data_qvd_free(t);
}

static void damaged_and_hostile_files_are_refused(void **state)
{
	(void)state;
	struct qvd_table *t = NULL;
	struct err e;
	if (have_shared()) {
		char path[8192];
		snprintf(path, sizeof(path), "%s/qvd4js/damaged.qvd", shared);
		err_init(&e);
		assert_int_equal(data_qvd_read_file(path, &t, &e), ERR_INVALID);
		assert_null(t);
		assert_true(strlen(e.message) > 10);
	}
	static const char *const bad[] = {
	    "",
	    "hello",
	    "<QvdTableHeader></QvdTableHeader>", /* no NUL */
	    "<!DOCTYPE x [<!ENTITY a \"b\">]><QvdTableHeader></QvdTableHeader>\r\n",
	    "<QvdTableHeader><RecordByteSize>1</RecordByteSize><NoOfRecords>1</NoOfRecords>"
	    "<Offset>0</Offset><Length>1</Length></QvdTableHeader>\r\n", /* body cut off */
	    "<QvdTableHeader><RecordByteSize>1</RecordByteSize><NoOfRecords>2</NoOfRecords>"
	    "<Offset>0</Offset><Length>1</Length></QvdTableHeader>\r\n", /* 2 x 1 != 1 */
	    "<QvdTableHeader><TableName>a &bogus; b</TableName></QvdTableHeader>\r\n",
	    "<QvdTableHeader><A></B></QvdTableHeader>\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = strlen(bad[i]) + (i >= 3 ? 1 : 0); /* with the NUL where there is one */
		err_init(&e);
		assert_int_equal(data_qvd_read(bad[i], n, &t, &e), ERR_INVALID);
		assert_null(t);
	}
	/* A record that points past the symbol table. */
	static const char hdr[] = "<QvdTableHeader><Fields><QvdFieldHeader><FieldName>F</FieldName>"
				  "<BitOffset>0</BitOffset><BitWidth>8</BitWidth><Bias>0</Bias>"
				  "<NoOfSymbols>1</NoOfSymbols><Offset>0</Offset><Length>5</Length>"
				  "</QvdFieldHeader></Fields><RecordByteSize>1</RecordByteSize>"
				  "<NoOfRecords>1</NoOfRecords><Offset>5</Offset><Length>1</Length>"
				  "</QvdTableHeader>\r\n";
	char file[sizeof(hdr) + 16];
	memcpy(file, hdr, sizeof(hdr)); /* with its NUL */
	const unsigned char body[] = {1, 7, 0, 0, 0, 3};
	memcpy(file + sizeof(hdr), body, sizeof(body));
	err_init(&e);
	assert_int_equal(data_qvd_read(file, sizeof(hdr) + sizeof(body), &t, &e), ERR_INVALID);
	assert_non_null(strstr(e.message, "symbol 3 of 1"));
	file[sizeof(hdr) + 5] = 0; /* now row 1 is symbol 0: 7 */
	err_init(&e);
	assert_int_equal(data_qvd_read(file, sizeof(hdr) + sizeof(body), &t, &e), 0);
	assert_int_equal(t->n_rows, 1);
	assert_true(t->fields[0].symbols[0].num == 7);
	data_qvd_free(t);
}

/* Reads the QVD in b with QVD_READ_NARROW: every row's symbol as t's index says, in a
 * column of the width its symbols need, or none (width 0) when row r holds symbol r. */
static void narrow_agrees(const struct buf *b, const struct qvd_table *t)
{
	struct qvd_table *u = NULL;
	struct err e;
	err_init(&e);
	if (data_qvd_read_opts(b->data, b->len, QVD_READ_NARROW, &u, &e) != 0)
		fail_msg("reading %s narrow: %s", t->name, e.message);
	for (int i = 0; i < t->n_fields; i++) {
		const struct qvd_field *a = &t->fields[i], *c = &u->fields[i];
		assert_true(c->narrow);
		assert_null(c->index);
		bool rows = a->n_symbols == t->n_rows && t->n_rows > 0;
		for (int64_t r = 0; rows && r < t->n_rows; r++)
			rows = a->index[r] == r;
		assert_int_equal(c->col.width, rows ? 0 : data_col_width(a->n_symbols));
		for (int64_t r = 0; r < t->n_rows; r++)
			if (data_col_at(&c->col, r) != a->index[r])
				fail_msg("%s.%s row %lld: %d narrow, %d", t->name, a->name,
					 (long long)r, data_col_at(&c->col, r), a->index[r]);
	}
	data_qvd_free(u);
}

/* Writes t and reads it back: the same values, row by row. */
static void round_trip(const struct qvd_table *t)
{
	struct buf b;
	buf_init(&b, 1ULL << 32);
	struct err e;
	err_init(&e);
	assert_int_equal(data_qvd_write(t, &b, &e), 0);
	struct qvd_table *u = NULL;
	if (data_qvd_read(b.data, b.len, &u, &e) != 0)
		fail_msg("reading back %s: %s", t->name, e.message);
	assert_int_equal(u->n_rows, t->n_rows);
	assert_int_equal(u->n_fields, t->n_fields);
	assert_string_equal(u->name, t->name);
	for (int i = 0; i < t->n_fields; i++) {
		const struct qvd_field *a = &t->fields[i], *c = &u->fields[i];
		assert_string_equal(a->name, c->name);
		assert_int_equal(a->n_symbols, c->n_symbols);
		for (int64_t s = 0; s < a->n_symbols; s++) {
			assert_int_equal(a->symbols[s].type, c->symbols[s].type);
			assert_true(a->symbols[s].num == c->symbols[s].num ||
				    (a->symbols[s].num != a->symbols[s].num));
			if (a->symbols[s].text)
				assert_string_equal(a->symbols[s].text, c->symbols[s].text);
		}
		assert_memory_equal(a->index, c->index, sizeof(int32_t) * (size_t)t->n_rows);
	}
	narrow_agrees(&b, t);
	/* The writer is deterministic: the same table, the same bytes. */
	struct buf b2;
	buf_init(&b2, 1ULL << 32);
	assert_int_equal(data_qvd_write(u, &b2, &e), 0);
	assert_int_equal(b.len, b2.len);
	assert_memory_equal(b.data, b2.data, b.len);
	buf_release(&b2);
	buf_release(&b);
	data_qvd_free(u);
}

static void every_sample_round_trips(void **state)
{
	(void)state;
	if (!have_shared())
		skip();
	static const char *const files[] = {
	    "ctrl-q/lego/colors.qvd",
	    "ctrl-q/lego/themes.qvd",
	    "ctrl-q/lego/part_categories.qvd",
	    "ctrl-q/lego/inventory_sets.qvd",
	    "ctrl-q/lego/inventories.qvd",
	    "ctrl-q/lego/sets.qvd",
	    "ctrl-q/lego/parts.qvd",
	    "ctrl-q/lego/inventory_parts.qvd",
	    "ctrl-q/stockholm_temp/stockholm_temp.qvd",
	    "ctrl-q/misc/empty_qvd.qvd",
	    "qvd4js/small.qvd",
	    "qvd4js/medium.qvd",
	    "qvd4js/large.qvd",
	    "qvd4js/empty_qvd.qvd",
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct qvd_table *t = load(files[i]);
		round_trip(t);
		data_qvd_free(t);
	}
}

static void writes_nulls_duals_and_escapes(void **state)
{
	(void)state;
	struct qvd_value sym[] = {
	    {QVD_DUAL_INT, 901, "0901"},
	    {QVD_STRING, 0, "a<b & \"c\""},
	    {QVD_DOUBLE, -8.7, NULL},
	    {QVD_INT, -2, NULL},
	    {QVD_DUAL_DOUBLE, 2234567890.0, "2234567890"},
	    {QVD_STRING, 0, ""},
	};
	int32_t idx[] = {0, 1, -1, 2, 3, 4, 5, 0};
	int32_t one[] = {0, 0, 0, 0, 0, 0, 0, 0};
	struct qvd_value single[] = {{QVD_STRING, 0, "same"}};
	char n1[] = "Vals & <more>", n2[] = "Prénom";
	struct qvd_field f[] = {
	    {.name = n1, .n_symbols = 6, .symbols = sym, .index = idx},
	    {.name = n2, .n_symbols = 1, .symbols = single, .index = one},
	};
	char tn[] = "T";
	struct qvd_table t = {.name = tn, .n_fields = 2, .fields = f, .n_rows = 8};
	round_trip(&t);
	struct buf b;
	buf_init(&b, 1 << 20);
	struct err e;
	err_init(&e);
	assert_int_equal(data_qvd_write(&t, &b, &e), 0);
	struct qvd_table *u = NULL;
	assert_int_equal(data_qvd_read(b.data, b.len, &u, &e), 0);
	assert_int_equal(u->fields[0].bias, -2);     /* it has a NULL */
	assert_int_equal(u->fields[0].bit_width, 3); /* 6 symbols + 2 */
	assert_int_equal(u->fields[1].bit_width, 0); /* one value, no NULL */
	assert_int_equal(u->fields[1].bias, 0);
	assert_int_equal(u->fields[0].index[2], -1);
	assert_string_equal(u->fields[1].name, "Prénom");
	char buf[64];
	assert_string_equal(data_qvd_value_text(&u->fields[0].symbols[2], buf, sizeof(buf)),
			    "-8.7");
	assert_string_equal(data_qvd_value_text(&u->fields[0].symbols[3], buf, sizeof(buf)), "-2");
	data_qvd_free(u);
	/* a row naming a symbol the field does not have is refused, with its row */
	idx[6] = 6;
	b.len = 0;
	err_init(&e);
	assert_int_equal(data_qvd_write(&t, &b, &e), ERR_INVALID);
	assert_non_null(strstr(e.message, "row 7: no symbol 6"));
	idx[6] = 5;
	buf_release(&b);
}

/* A table of a million records or more is written and decoded in two parts, one a
 * thread: the same rows as one part gives, and a bad record in either part is found and
 * named (the first one, when both have one). */
static void large_tables_read_in_parts(void **state)
{
	(void)state;
	enum { ROWS = 1200000, MANY = 70000 };
	struct qvd_value three[] = {
	    {QVD_STRING, 0, "x"}, {QVD_INT, 2, NULL}, {QVD_DOUBLE, 0.5, NULL}};
	struct qvd_value *many = calloc(MANY, sizeof(*many));
	int32_t *ia = malloc(sizeof(int32_t) * ROWS), *ib = malloc(sizeof(int32_t) * ROWS);
	int32_t *ic = malloc(sizeof(int32_t) * ROWS * 3);
	assert_true(many && ia && ib && ic);
	for (int s = 0; s < MANY; s++)
		many[s] = (struct qvd_value){QVD_INT, s * 3, NULL};
	for (int r = 0; r < ROWS; r++) {
		ia[r] = (int32_t)((r * 7u) % 3);
		ib[r] = r % 11 == 0 ? -1 : (int32_t)(((uint32_t)r * 2654435761u) % MANY);
		for (int k = 0; k < 3; k++)
			ic[k * ROWS + r] = (int32_t)(((uint32_t)r * (40503u + (unsigned)k)) % MANY);
	}
	char na[] = "A", nb[] = "B", nc[] = "C", nd[] = "D", ne[] = "E", tn[] = "Big";
	/* bits 0-1, 2-18, 19-35, 36-52 and 53-69: the last field spans two 64-bit words */
	struct qvd_field f[] = {
	    {.name = na, .n_symbols = 3, .symbols = three, .index = ia},
	    {.name = nb, .n_symbols = MANY, .symbols = many, .index = ib},
	    {.name = nc, .n_symbols = MANY, .symbols = many, .index = ic},
	    {.name = nd, .n_symbols = MANY, .symbols = many, .index = ic + ROWS},
	    {.name = ne, .n_symbols = MANY, .symbols = many, .index = ic + 2 * ROWS},
	};
	struct qvd_table t = {.name = tn, .n_fields = 5, .fields = f, .n_rows = ROWS};
	round_trip(&t); /* every row's index of every field, as written */
	struct buf b;
	buf_init(&b, 1ULL << 32);
	struct err e;
	err_init(&e);
	assert_int_equal(data_qvd_write(&t, &b, &e), 0);
	const char *rs_at = strstr(b.data, "<RecordByteSize>");
	assert_non_null(rs_at);
	int64_t rs64 = 0;
	const char *rs_end = NULL;
	assert_int_equal(
	    str_to_i64_prefix(rs_at + strlen("<RecordByteSize>"), &rs_end, 1, 1 << 20, &rs64), 0);
	assert_true(*rs_end == '<');
	size_t rs = (size_t)rs64;
	assert_true(rs >= 1 && rs * ROWS < b.len);
	/* the records end the file: record r starts (ROWS - r) records before its end */
	static const int64_t bad_rows[] = {ROWS - 2, 1000, 600000};
	for (size_t k = 0; k < sizeof(bad_rows) / sizeof(bad_rows[0]); k++) {
		memset(b.data + b.len - (size_t)(ROWS - bad_rows[k]) * rs, 0xff, rs);
		struct qvd_table *u = NULL;
		err_init(&e);
		assert_int_equal(data_qvd_read(b.data, b.len, &u, &e), ERR_INVALID);
		assert_null(u);
		/* all ones is symbol 3 of A's 3 (two bits, no NULL): the first row damaged so far
		 */
		int64_t first = bad_rows[k];
		for (size_t j = 0; j < k; j++)
			first = bad_rows[j] < first ? bad_rows[j] : first;
		char want[96];
		snprintf(want, sizeof(want), "QVD field \"A\", row %lld: symbol 3 of 3",
			 (long long)first + 1);
		if (!strstr(e.message, want))
			fail_msg("damaged row %lld: \"%s\", not \"%s\"", (long long)bad_rows[k],
				 e.message, want);
	}
	buf_release(&b);
	free(many);
	free(ia);
	free(ib);
	free(ic);
}

/* Fields with a symbol a row are read without a column when row r holds symbol r, and
 * into a column of their own width when a row in either half of a two-part read does not
 * (or holds NULL, leaving a symbol unused): narrow_agrees checks each. */
static void narrow_columns_of_keys(void **state)
{
	(void)state;
	enum { ROWS = 1200000, FIELDS = 5 };
	struct qvd_value *sym = calloc(ROWS, sizeof(*sym));
	int32_t *idx = malloc(sizeof(int32_t) * ROWS * FIELDS);
	assert_true(sym && idx);
	for (int r = 0; r < ROWS; r++) {
		sym[r] = (struct qvd_value){QVD_INT, r + 1, NULL};
		for (int k = 0; k < FIELDS; k++)
			idx[k * ROWS + r] = r;
	}
	int32_t *swap_first = idx + ROWS, *swap_second = idx + 2 * ROWS, *null = idx + 3 * ROWS,
		*last = idx + 4 * ROWS;
	swap_first[10] = 11, swap_first[11] = 10;
	swap_second[ROWS - 5] = ROWS - 4, swap_second[ROWS - 4] = ROWS - 5;
	null[700000] = -1;
	last[ROWS - 1] = 0;
	char n[FIELDS][16] = {"InOrder", "SwapFirst", "SwapSecond", "Null", "Last"};
	struct qvd_field f[FIELDS];
	for (int k = 0; k < FIELDS; k++)
		f[k] = (struct qvd_field){
		    .name = n[k], .n_symbols = ROWS, .symbols = sym, .index = idx + k * ROWS};
	char tn[] = "Keys";
	struct qvd_table t = {.name = tn, .n_fields = FIELDS, .fields = f, .n_rows = ROWS};
	struct buf b;
	buf_init(&b, 1ULL << 32);
	struct err e;
	err_init(&e);
	assert_int_equal(data_qvd_write(&t, &b, &e), 0);
	narrow_agrees(&b, &t);
	struct qvd_table *u = NULL;
	assert_int_equal(data_qvd_read_opts(b.data, b.len, QVD_READ_NARROW, &u, &e), 0);
	assert_int_equal(u->fields[0].col.width, 0);
	for (int k = 1; k < FIELDS; k++)
		assert_int_equal(u->fields[k].col.width, 3);
	data_qvd_free(u);
	buf_release(&b);
	free(sym);
	free(idx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(lego_and_stockholm_match_their_csvs),
	    cmocka_unit_test(shapes_of_qlik_files),
	    cmocka_unit_test(damaged_and_hostile_files_are_refused),
	    cmocka_unit_test(every_sample_round_trips),
	    cmocka_unit_test(writes_nulls_duals_and_escapes),
	    cmocka_unit_test(large_tables_read_in_parts),
	    cmocka_unit_test(narrow_columns_of_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
