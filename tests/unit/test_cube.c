/* test_cube.c: hypercubes (engine/cube.c) on a star schema loaded by a real script:
 * aggregations, measures over fields of linked tables, selections, sorting by load order,
 * text and measure value, suppressed zero rows, and errors. */
#include "unit.h"

#include "model/model.h"

static const char script[] = "Customers: LOAD * INLINE [Customer, Country\n"
			     "A, SE\nB, DK\nC, SE];\n"
			     "Orders: LOAD * INLINE [Order, Customer, Product, Amount, Qty\n"
			     "1, A, P1, 10, 1\n2, A, P2, 20, 2\n3, B, P1, 5, 1\n4, C, P1, 0, 3\n"
			     "5, C, P2, 7, 1];\n"
			     "Products: LOAD * INLINE [Product, Price\nP1, 100\nP2, 200];\n";

static struct assoc *a;

static int setup(void **state)
{
	(void)state;
	struct reload_env env = {0};
	struct data_set *m = NULL;
	struct err e;
	err_init(&e);
	if (script_run(script, &env, &m, &e) != 0 || model_assoc_build(m, &a, &e) != 0)
		return -1;
	data_set_free(m);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	model_assoc_free(a);
	return 0;
}

/* The model a script loads (the test fails when it does not load). */
static struct assoc *model_of(const char *text)
{
	struct reload_env env = {0};
	struct data_set *m = NULL;
	struct assoc *ma = NULL;
	struct err e;
	err_init(&e);
	if (script_run(text, &env, &m, &e) || model_assoc_build(m, &ma, &e))
		fail_msg("%s", e.message);
	data_set_free(m);
	return ma;
}

/* The cube as text: rows joined by "; ", cells by " ". */
static void expect(const struct cube_def *d, const char *sel_field, const char *sel_value,
		   const char *want)
{
	struct assoc_sel s;
	assert_int_equal(model_assoc_sel_init(a, &s), 0);
	if (sel_field) {
		int f = model_assoc_field(a, sel_field);
		int64_t sym = model_assoc_find(a, f, sel_value);
		assert_int_equal(model_assoc_select(a, &s, f, &sym, 1), 0);
	}
	struct cube *c = NULL;
	struct err e;
	err_init(&e);
	if (model_cube_compute(a, &s, d, &c, &e) != 0)
		fail_msg("%s", e.message);
	char got[2048] = "";
	for (int64_t r = 0; r < c->n_rows; r++)
		for (int k = 0; k < c->n_cols; k++) {
			const struct cube_cell *cell = &c->cells[r * c->n_cols + k];
			char b[64];
			size_t l = strlen(got);
			snprintf(got + l, sizeof(got) - l, "%s%s%s",
				 k   ? " "
				 : r ? "; "
				     : "",
				 cell->v.null ? "-" : data_val_text(&cell->v, b, sizeof(b)),
				 k < d->n_dims && strcmp(cell->state, "O") ? cell->state : "");
		}
	if (strcmp(got, want) != 0)
		fail_msg("got \"%s\", want \"%s\"", got, want);
	model_cube_free(c);
	model_assoc_sel_release(&s);
}

static void aggregations_by_a_dimension_of_another_table(void **state)
{
	(void)state;
	const char *dims[] = {"Country"};
	const char *ms[] = {"Sum(Amount)", "Count(Order)", "Count(DISTINCT Customer)",
			    "Avg(Amount)", "Max(Qty)",	   "Sum(If(Amount > 6, 1, 0))"};
	struct cube_def d = {.dims = dims, .n_dims = 1, .measures = ms, .n_measures = 6};
	expect(&d, NULL, NULL, "SE 37 4 2 9.25 3 3; DK 5 1 1 5 1 0");
	/* a selection: only DK, selected */
	expect(&d, "Country", "DK", "DKS 5 1 1 5 1 0");
	/* a selection in another table reaches the dimension */
	expect(&d, "Product", "P2", "SE 27 2 2 13.5 2 2");
}

static void measures_over_linked_tables_and_two_dimensions(void **state)
{
	(void)state;
	const char *dims[] = {"Country", "Product"};
	const char *ms[] = {"Sum(Amount * Price)"};
	struct cube_def d = {.dims = dims, .n_dims = 2, .measures = ms, .n_measures = 1};
	expect(&d, NULL, NULL, "SE P1 1000; SE P2 5400; DK P1 500");
}

static void sorting_and_suppressing_zero(void **state)
{
	(void)state;
	const char *dims[] = {"Customer"};
	const char *ms[] = {"Sum(Amount)"};
	struct cube_col_sort by_value[] = {{SORT_LOAD, 1}, {SORT_NUM, 1}};
	int measure_first[] = {1, 0};
	struct cube_def d = {.dims = dims,
			     .n_dims = 1,
			     .measures = ms,
			     .n_measures = 1,
			     .sort = by_value,
			     .order = measure_first};
	expect(&d, NULL, NULL, "B 5; C 7; A 30");
	by_value[1].dir = -1;
	expect(&d, NULL, NULL, "A 30; C 7; B 5");
	struct cube_col_sort by_text_desc[] = {{SORT_TEXT, -1}, {SORT_NONE, 1}};
	struct cube_def t = {
	    .dims = dims, .n_dims = 1, .measures = ms, .n_measures = 1, .sort = by_text_desc};
	expect(&t, NULL, NULL, "C 7; B 5; A 30");
	struct cube_def z = {.dims = dims, .n_dims = 1, .measures = ms, .n_measures = 1};
	expect(&z, "Product", "P1", "A 10; B 5; C 0");
	z.suppress_zero = true;
	expect(&z, "Product", "P1", "A 10; B 5");
}

static void set_analysis(void **state)
{
	(void)state;
	const char *dims[] = {"Country"};
	const char *ms[] = {"Sum(Amount)",
			    "Sum({1} Amount)",
			    "Sum({<Product={'P2'}>} Amount)",
			    "Count({<Amount={\">6\"}>} Order)",
			    "Sum({$<Customer={\"a*\"}>} Amount)",
			    "Sum(Amount) / Sum({1} Amount)"};
	struct cube_def d = {.dims = dims, .n_dims = 1, .measures = ms, .n_measures = 6};
	expect(&d, NULL, NULL, "SE 37 37 27 3 30 1; DK 5 5 0 0 0 1");
	/* {1} ignores the selection; $ modifiers add to it */
	expect(&d, "Product", "P1", "SE 10 37 27 1 10 0.27027027027027; DK 5 5 0 0 0 1");
	/* F= clears a field's selection for one measure */
	const char *clear[] = {"Sum({<Country=>} Amount)", "Sum(Amount)"};
	const char *by_product[] = {"Product"};
	struct cube_def c = {.dims = by_product, .n_dims = 1, .measures = clear, .n_measures = 2};
	expect(&c, "Country", "DK", "P1 15 5");
}

/* TOTAL: over every row of the chart, or TOTAL <fields> over the rows that share the
 * current row's values of them; with a set, over the set's rows. */
static void totals(void **state)
{
	(void)state;
	const char *dims[] = {"Country", "Product"};
	const char *ms[] = {"Sum(Amount)",
			    "Sum(TOTAL Amount)",
			    "Sum(TOTAL <Country> Amount)",
			    "Sum(TOTAL <Product> Amount)",
			    "Round(Sum(Amount) / Sum(TOTAL Amount), 0.01)",
			    "Sum({1} TOTAL Amount)",
			    "Count(DISTINCT TOTAL Customer)",
			    "Sum(TOTAL <Country, Product> Amount)"};
	struct cube_def d = {.dims = dims, .n_dims = 2, .measures = ms, .n_measures = 8};
	expect(&d, NULL, NULL,
	       "SE P1 10 42 37 15 0.24 42 3 10; SE P2 27 42 37 27 0.64 42 3 27; "
	       "DK P1 5 42 5 15 0.12 42 3 5");
	/* under a selection, TOTAL is the selection's total; {1} TOTAL the whole data's */
	expect(&d, "Product", "P1",
	       "SE P1S 10 15 10 15 0.67 42 3 10; DK P1S 5 15 5 15 0.33 42 3 5");
	struct assoc_sel s;
	assert_int_equal(model_assoc_sel_init(a, &s), 0);
	const char *bad[] = {"Sum(TOTAL <Nope> Amount)"};
	struct cube_def b = {.dims = dims, .n_dims = 2, .measures = bad, .n_measures = 1};
	struct cube *c = NULL;
	struct err e;
	err_init(&e);
	assert_int_equal(model_cube_compute(a, &s, &b, &c, &e), ERR_INVALID);
	assert_non_null(strstr(e.message, "TOTAL <Nope>: there is no field Nope"));
	const char *unclosed[] = {"Sum(TOTAL <Country Amount)"};
	b.measures = unclosed;
	err_init(&e);
	assert_int_equal(model_cube_compute(a, &s, &b, &c, &e), ERR_INVALID);
	assert_non_null(strstr(e.message, "expected ',' or '>' in TOTAL"));
	model_assoc_sel_release(&s);
}

/* The inter-record functions, on the sorted rows: Above, Below, Top and Bottom within the
 * column segment (the rows sharing every dimension but the last; the whole column with
 * TOTAL or one dimension), Column(n) the row's measure n. */
static void inter_record(void **state)
{
	(void)state;
	const char *one[] = {"Customer"};
	const char *ms[] = {"Sum(Amount)",
			    "Above(Sum(Amount))",
			    "Below(Sum(Amount))",
			    "Top(Sum(Amount))",
			    "Bottom(Sum(Amount))",
			    "Column(1) * 2",
			    "Sum(Amount) - Above(Sum(Amount))",
			    "Above(Sum(Amount), 2)",
			    "Above(Sum(Amount), 0) + Above(Above(Sum(Amount)))"};
	struct cube_def d = {.dims = one, .n_dims = 1, .measures = ms, .n_measures = 9};
	expect(&d, NULL, NULL,
	       "A 30 - 5 30 7 60 - - -; B 5 30 7 30 7 10 -25 - -; C 7 5 - 30 7 14 2 30 37");
	/* sorted by the measure the other way, the rows above change */
	struct cube_col_sort by_value[] = {{SORT_NONE, 1}, {SORT_NUM, -1}};
	int measure_first[] = {1, 0, 2, 3, 4, 5, 6, 7, 8, 9};
	d.sort = by_value;
	d.order = measure_first;
	const char *two_ms[] = {"Sum(Amount)", "Above(Sum(Amount))"};
	d.measures = two_ms;
	d.n_measures = 2;
	expect(&d, NULL, NULL, "A 30 -; C 7 30; B 5 7");
	const char *dims[] = {"Country", "Product"};
	const char *seg[] = {
	    "Sum(Amount)",
	    "Above(Sum(Amount))",
	    "Above(TOTAL Sum(Amount))",
	    "Top(Sum(Amount))",
	    "Bottom(TOTAL Sum(Amount))",
	    "GetObjectField() & '/' & GetObjectField(1) & '/' & GetObjectDimension(0)",
	    "IsNull(GetObjectField(2))"};
	struct cube_def t = {.dims = dims, .n_dims = 2, .measures = seg, .n_measures = 7};
	expect(&t, NULL, NULL,
	       "SE P1 10 - - 10 5 Country/Product/Country -1; SE P2 27 10 10 10 5 "
	       "Country/Product/Country -1; DK P1 5 - 27 5 5 Country/Product/Country -1");
	struct assoc_sel s;
	assert_int_equal(model_assoc_sel_init(a, &s), 0);
	/* ranges of rows in range functions: a running total, a moving average of two */
	const char *ranges[] = {"RangeSum(Above(Sum(Amount), 0, 3))",
				"RangeAvg(Above(Sum(Amount), 0, 2))",
				"RangeCount(Below(Sum(Amount), 1, 5), 9)",
				"RangeMax(Top(Sum(Amount), 0, 2), Bottom(Sum(Amount)))"};
	struct cube_def rs = {.dims = one, .n_dims = 1, .measures = ranges, .n_measures = 4};
	expect(&rs, NULL, NULL, "A 30 30 3 30; B 35 17.5 2 30; C 42 6 1 30");
	const char *range[] = {"Above(Sum(Amount), 0, 3)"};
	struct cube_def r = {.dims = one, .n_dims = 1, .measures = range, .n_measures = 1};
	struct cube *c = NULL;
	struct err e;
	err_init(&e);
	assert_int_equal(model_cube_compute(a, &s, &r, &c, &e), ERR_INVALID);
	assert_non_null(strstr(e.message, "gives a range of rows: use it inside a range function"));
	const char *zero[] = {"RangeSum(Above(Sum(Amount), 0, 0))"};
	r.measures = zero;
	err_init(&e);
	assert_int_equal(model_cube_compute(a, &s, &r, &c, &e), ERR_INVALID);
	assert_non_null(strstr(e.message, "the count is a whole number from 1"));
	model_assoc_sel_release(&s);
}

/* Measures m of def over `sel`, computed with the states given (model_assoc_compute's) or
 * not: both must agree cell for cell. */
static struct cube *cube_both_ways(const struct cube_def *d, const struct assoc_sel *sel)
{
	struct cube *c = NULL, *c2 = NULL;
	struct assoc_states st;
	struct err e;
	err_init(&e);
	if (model_cube_compute(a, sel, d, &c, &e) != 0 ||
	    model_assoc_compute(a, sel, &st, &e) != 0 ||
	    model_cube_compute_in(a, sel, &st, d, &c2, &e) != 0)
		fail_msg("%s", e.message);
	assert_int_equal(c->n_rows, c2->n_rows);
	for (int64_t i = 0; i < c->n_rows * c->n_cols; i++) {
		const struct val *x = &c->cells[i].v, *y = &c2->cells[i].v;
		assert_int_equal(x->null, y->null);
		assert_int_equal(x->has_num, y->has_num);
		assert_true(!x->has_num || x->num == y->num);
		assert_true(!x->text == !y->text && (!x->text || strcmp(x->text, y->text) == 0));
	}
	model_assoc_states_release(a, &st);
	model_cube_free(c2);
	return c;
}

/* A plain aggregation of one field is computed in one pass over the rows; wrapped in an
 * expression (m + 0) it goes through the general evaluator. Both must agree, NULLs, texts
 * in a number field and linked tables included, whatever the dimensions: none (one
 * group), of the measures' table (grouped by slot, measures in the grouping pass), or of
 * a linked table (grouped by hashing). */
static void one_pass_measures_equal_the_evaluator(void **state)
{
	(void)state;
	static const char *const plain[] = {
	    "Sum(Amount)",  "Count(Amount)",  "Count(DISTINCT Customer)",
	    "Count(*)",	    "Avg(Qty)",	      "Min(Amount)",
	    "Max(Price)",   "Count(Country)", "Sum(Customer)",
	    "Min(Customer)"};
	static const char *const dim_sets[][2] = {
	    {"Country", NULL}, {"Customer", NULL}, {"Customer", "Product"}, {NULL, NULL}};
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		char wrapped[64];
		snprintf(wrapped, sizeof(wrapped), "%s + 0", plain[i]);
		for (size_t ds = 0; ds < sizeof(dim_sets) / sizeof(dim_sets[0]); ds++) {
			int nd = (dim_sets[ds][0] != NULL) + (dim_sets[ds][1] != NULL);
			const char *ms[] = {plain[i], wrapped, plain[i]};
			/* alone (every measure fast), and beside the evaluated one */
			struct cube_def alone = {.dims = (const char **)dim_sets[ds],
						 .n_dims = nd,
						 .measures = ms + 2,
						 .n_measures = 1};
			struct cube_def d = {.dims = (const char **)dim_sets[ds],
					     .n_dims = nd,
					     .measures = ms,
					     .n_measures = 2};
			for (int with_sel = 0; with_sel < 2; with_sel++) {
				struct assoc_sel sel;
				assert_int_equal(model_assoc_sel_init(a, &sel), 0);
				if (with_sel) {
					int f = model_assoc_field(a, "Product");
					int64_t sym = model_assoc_find(a, f, "P1");
					assert_int_equal(model_assoc_select(a, &sel, f, &sym, 1),
							 0);
				}
				struct cube *c = cube_both_ways(&d, &sel),
					    *c1 = cube_both_ways(&alone, &sel);
				assert_true(c->n_rows > 0);
				assert_int_equal(c->n_rows, c1->n_rows);
				for (int64_t r = 0; r < c->n_rows; r++) {
					const struct val *x = &c->cells[r * c->n_cols + nd].v,
							 *y = &c->cells[r * c->n_cols + nd + 1].v,
							 *z = &c1->cells[r * c1->n_cols + nd].v;
					/* x + 0 of NULL is 0 in the evaluator: compare numbers only
					 */
					double dx = x->null ? 0 : x->num, dy = y->null ? 0 : y->num,
					       dz = z->null ? 0 : z->num;
					if (dx != dy || dx != dz)
						fail_msg(
						    "%s by %zu dimensions (set %zu), row %lld: one "
						    "pass %g, evaluator %g, alone %g",
						    plain[i], (size_t)nd, ds, (long long)r, dx, dy,
						    dz);
				}
				model_cube_free(c);
				model_cube_free(c1);
				model_assoc_sel_release(&sel);
			}
		}
	}
}

/* The same with every cube split into parts computed by two threads (from one row on):
 * the groups come in the same order, with the same values. */
static void measures_in_parts_equal_the_evaluator(void **state)
{
	int64_t was = model_cube_split_rows;
	model_cube_split_rows = 1;
	one_pass_measures_equal_the_evaluator(state);
	model_cube_split_rows = was;
}

/* One measure's number (NULL: -1e300) in a cube of no dimension. */
static double kpi(struct assoc *ka, const struct assoc_sel *s, const char *measure)
{
	const char *ms[] = {measure};
	struct cube_def d = {.measures = ms, .n_measures = 1};
	struct cube *c = NULL;
	struct err e;
	err_init(&e);
	if (model_cube_compute(ka, s, &d, &c, &e) != 0)
		fail_msg("%s: %s", measure, e.message);
	assert_int_equal(c->n_rows, 1);
	double x = c->cells[0].v.null ? -1e300 : c->cells[0].v.num;
	model_cube_free(c);
	return x;
}

/* A cube of no dimension without a selection takes its fast measures from the counts of
 * their fields' values, made once and kept with the model: the same numbers as a pass over
 * the rows (a selection of every value of another field makes every row possible too, and
 * the evaluator's m + 0 reads the rows), texts and NULLs in a number field included. A
 * field with a value for every few rows has no counts and reads the rows. */
static void kpis_without_a_selection_from_value_counts(void **state)
{
	(void)state;
	struct assoc *ka =
	    model_of("T: LOAD Mod(RecNo(), 5) AS V, Mod(RecNo(), 3) AS G, RecNo() AS Id,\n"
		     "  If(Mod(RecNo(), 7) = 0, Null(), If(Mod(RecNo(), 11) = 0, 'x',\n"
		     "  Mod(RecNo(), 4) * 1.5 - 2)) AS Amt AUTOGENERATE 1000;");
	int col_amt = -1, col_id = -1;
	for (int c = 0; c < ka->tables[0].n_fields; c++) {
		const char *name = ka->fields[ka->tables[0].field[c]].name;
		col_amt = strcmp(name, "Amt") == 0 ? c : col_amt;
		col_id = strcmp(name, "Id") == 0 ? c : col_id;
	}
	assert_true(col_amt >= 0 && col_id >= 0);
	assert_false(model_assoc_counted(ka, 0, col_amt));

	struct assoc_sel none, every_g;
	assert_int_equal(model_assoc_sel_init(ka, &none), 0);
	assert_int_equal(model_assoc_sel_init(ka, &every_g), 0);
	int g = model_assoc_field(ka, "G");
	int64_t all_g[3] = {0, 1, 2};
	assert_int_equal(model_assoc_select(ka, &every_g, g, all_g, 3), 0);
	static const char *const measures[] = {
	    "Sum(Amt)", "Count(Amt)", "Count(DISTINCT Amt)", "Count(*)", "Avg(Amt)", "Min(Amt)",
	    "Max(Amt)", "Sum(V)",     "Count(DISTINCT V)",   "Sum(Id)"};
	for (size_t i = 0; i < sizeof(measures) / sizeof(measures[0]); i++) {
		char wrapped[64];
		snprintf(wrapped, sizeof(wrapped), "%s + 0", measures[i]);
		double counted = kpi(ka, &none, measures[i]), rows = kpi(ka, &every_g, measures[i]),
		       evaluated = kpi(ka, &none, wrapped);
		if (counted != rows || counted != evaluated)
			fail_msg("%s: %g from the counts, %g from the rows, %g evaluated",
				 measures[i], counted, rows, evaluated);
	}
	/* the 1,000 rows less the 142 NULLs (a text counts) */
	assert_true(kpi(ka, &none, "Count(Amt)") == 1000 - 142);
	assert_true(model_assoc_counted(ka, 0, col_amt));
	assert_false(model_assoc_counted(ka, 0, col_id));
	assert_null(model_assoc_counts(ka, 0, col_id));
	const int64_t *n = model_assoc_counts(ka, 0, col_amt);
	int64_t total = 0;
	for (int64_t s = 0; s < ka->fields[ka->tables[0].field[col_amt]].n_sym; s++)
		total += n[s];
	assert_int_equal(total, 1000 - 142);
	model_assoc_sel_release(&none);
	model_assoc_sel_release(&every_g);
	model_assoc_free(ka);
}

/* A table without rows: every kind of cube answers no row (and reads no row). */
static void an_empty_table(void **state)
{
	(void)state;
	struct assoc *ea = model_of("E: LOAD * INLINE [K, V\n];\nF: LOAD * INLINE [K, W\n1, 2];");
	struct err e;
	err_init(&e);
	struct assoc_sel s;
	assert_int_equal(model_assoc_sel_init(ea, &s), 0);
	const char *dims[] = {"V", "W"};
	const char *ms[] = {"Sum(V)", "Count(V)", "Sum(V) + 1"};
	for (int nd = 0; nd <= 2; nd++) {
		struct cube_def d = {.dims = dims, .n_dims = nd, .measures = ms, .n_measures = 3};
		struct cube *c = NULL;
		if (model_cube_compute(ea, &s, &d, &c, &e) != 0)
			fail_msg("%d dimensions: %s", nd, e.message);
		assert_true(c->n_rows <= 1);
		model_cube_free(c);
	}
	model_assoc_sel_release(&s);
	model_assoc_free(ea);
}

/* The model of the tables a script loads as an app opens them: written to an app file,
 * read back with the dense fields left without values (DATA_SET_MODEL). `dense` gets
 * "Table.Field" of each field the reader found dense, space-separated. */
static struct assoc *model_from_app_file(const char *text, char *dense, size_t n)
{
	struct reload_env env = {0};
	struct data_set *m = NULL, *back = NULL;
	struct assoc *ma = NULL;
	struct appfile *f = NULL;
	struct buf b;
	buf_init(&b, 1 << 30);
	struct err e;
	err_init(&e);
	if (script_run(text, &env, &m, &e) || data_set_write_app(m, "{}", 2, "", 0, &b, &e) ||
	    data_appfile_read(b.data, b.len, &f, &e) ||
	    data_set_from_app(f, APPFILE_TABLE, DATA_SET_MODEL, &back, &e))
		fail_msg("%s", e.message);
	/* (the layout the test asked for: column tables, raw, with a bound of 0) */
	const char *min = getenv("FATHOM_COLUMN_TABLES_MIN_ROWS");
	for (int i = 0; i < f->n_blocks; i++)
		if (f->blocks[i].kind == APPFILE_TABLE)
			assert_int_equal(f->blocks[i].raw, min && strcmp(min, "0") == 0);
	dense[0] = '\0';
	for (int t = 0; t < back->n_tables; t++)
		for (int c = 0; c < back->tables[t]->n_fields; c++)
			if (back->tables[t]->fields[c].dense) {
				size_t l = strlen(dense);
				snprintf(dense + l, n - l, "%s%s.%s", l ? " " : "",
					 back->tables[t]->name, back->tables[t]->fields[c].name);
			}
	if (model_assoc_build(back, &ma, &e))
		fail_msg("%s", e.message);
	data_set_free(back);
	data_set_free(m);
	data_appfile_free(f);
	buf_release(&b);
	return ma;
}

/* A field of consecutive whole numbers (ids) keeps no value of its own (dense): found by
 * text, selected, shown in a cube, counted and summed as a field that keeps them all, and
 * linked to a table that holds some of them; a gap, or a text the number does not write
 * ("007"), keeps the values. The same whether the model is built from the script's tables
 * or from an app file whose reader left the dense fields' values unread. */
static const char dense_script[] =
    "T: LOAD RecNo() + 99 AS Id, Mod(RecNo(), 3) AS G AUTOGENERATE 5000;\n"
    "L: LOAD Id, 'x' & Id AS Label RESIDENT T WHERE Id <= 101;\n"
    "Gap: LOAD If(RecNo() = 4000, 9999999, RecNo()) AS Gapped AUTOGENERATE 5000;\n"
    "Pad: LOAD Num(RecNo(), '000') AS Padded AUTOGENERATE 5000;\n"
    "Few: LOAD RecNo() AS Few AUTOGENERATE 4095;\n"
    "Neg: LOAD RecNo() - 2500 AS Neg, Text(RecNo() - 2500) AS NegText AUTOGENERATE 5000;";

static void dense_checks(struct assoc *da)
{
	struct err e;
	err_init(&e);
	int neg = model_assoc_field(da, "Neg");
	assert_null(da->fields[neg].sym);
	assert_int_equal(model_assoc_find(da, neg, "-2499"), 0);
	assert_int_equal(model_assoc_find(da, neg, "0"), 2499);
	assert_non_null(da->fields[model_assoc_field(da, "Few")].sym);
	int nt = model_assoc_field(da, "NegText"); /* texts, not numbers: kept */
	assert_non_null(da->fields[nt].sym);
	assert_false(da->fields[nt].numeric);
	int id = model_assoc_field(da, "Id");
	assert_null(da->fields[id].sym);
	assert_true(da->fields[id].numeric && da->fields[id].integer);
	assert_non_null(da->fields[model_assoc_field(da, "Gapped")].sym);
	assert_non_null(da->fields[model_assoc_field(da, "Padded")].sym);
	assert_int_equal(model_assoc_find(da, id, "100"), 0);
	assert_int_equal(model_assoc_find(da, id, "5099"), 4999);
	assert_int_equal(model_assoc_find(da, id, "5100"), -1);
	assert_int_equal(model_assoc_find(da, id, "100.5"), -1);
	assert_int_equal(model_assoc_find(da, id, "abc"), -1);
	struct val v = model_sym(&da->fields[id], 1);
	char b[64];
	assert_string_equal(data_val_text(&v, b, sizeof(b)), "101");

	struct assoc_sel s;
	assert_int_equal(model_assoc_sel_init(da, &s), 0);
	int64_t sel[2] = {model_assoc_find(da, id, "101"), model_assoc_find(da, id, "4000")};
	assert_int_equal(model_assoc_select(da, &s, id, sel, 2), 0);
	const char *dims[] = {"Id", "Label"};
	const char *ms[] = {"Sum(Id)", "Count(DISTINCT Id)", "Max(Id) & '!'"};
	struct cube_def d = {.dims = dims, .n_dims = 1, .measures = ms, .n_measures = 3};
	struct cube *c = NULL;
	if (model_cube_compute(da, &s, &d, &c, &e) != 0)
		fail_msg("%s", e.message);
	assert_int_equal(c->n_rows, 2);
	static const char *const want[2][4] = {{"101", "101", "1", "101!"},
					       {"4000", "4000", "1", "4000!"}};
	for (int r = 0; r < 2; r++)
		for (int k = 0; k < 4; k++)
			assert_string_equal(data_val_text(&c->cells[r * 4 + k].v, b, sizeof(b)),
					    want[r][k]);
	model_cube_free(c);
	/* the link: Label's rows of Id 101 are possible, those of 100 are not */
	d.dims = dims + 1;
	d.n_measures = 0;
	if (model_cube_compute(da, &s, &d, &c, &e) != 0)
		fail_msg("%s", e.message);
	assert_int_equal(c->n_rows, 1);
	assert_string_equal(data_val_text(&c->cells[0].v, b, sizeof(b)), "x101");
	model_cube_free(c);
	model_assoc_sel_release(&s);
	model_assoc_free(da);
}

static void dense_fields(void **state)
{
	(void)state;
	dense_checks(model_of(dense_script));
	/* the app file's tables in QVD layout (the QVD reader finds the dense fields) and in
	 * column layout (the writer found them) */
	for (int cols = 0; cols < 2; cols++) {
		setenv("FATHOM_COLUMN_TABLES_MIN_ROWS", cols ? "0" : "1000000000", 1);
		char dense[256];
		dense_checks(model_from_app_file(dense_script, dense, sizeof(dense)));
		/* (L's three ids are too few; Id is T's and L's, so the model maps both to
		 * one table of values) */
		assert_string_equal(dense, "T.Id Neg.Neg");
	}
	unsetenv("FATHOM_COLUMN_TABLES_MIN_ROWS");
}

/* Symbol columns of each width: what is put is what is read, a row, a range or a gather at
 * a time, NULL included, at the largest symbol each width holds. */
static void columns_of_every_width(void **state)
{
	(void)state;
	assert_int_equal(data_col_width(0), 1);
	assert_int_equal(data_col_width(255), 1);
	assert_int_equal(data_col_width(256), 2);
	assert_int_equal(data_col_width(65535), 2);
	assert_int_equal(data_col_width(65536), 3);
	assert_int_equal(data_col_width(16777215), 3);
	assert_int_equal(data_col_width(16777216), 4);
	enum { N = 1000 };
	static const int64_t n_sym[] = {255, 65535, 16777215, 2000000000};
	for (int w = 1; w <= 4; w++) {
		int32_t in[N], out[N], back[N];
		int64_t rows[N];
		for (int r = 0; r < N; r++) {
			/* NULL, the largest symbol, 0, and others in between */
			in[r] = r % 5 == 0   ? -1
				: r % 5 == 1 ? (int32_t)(n_sym[w - 1] - 1)
				: r % 5 == 2 ? 0
					     : (int32_t)((r * 7919) % n_sym[w - 1]);
			rows[r] = (r * 37) % N;
		}
		struct data_col c;
		assert_true(data_col_alloc(&c, w, N));
		data_col_write(&c, 0, in, N);
		data_col_range(&c, 0, N, out);
		assert_memory_equal(in, out, sizeof(in));
		for (int r = 0; r < N; r++)
			assert_int_equal(data_col_at(&c, r), in[r]);
		data_col_range(&c, 3, N - 3, out);
		assert_memory_equal(in + 3, out, sizeof(int32_t) * (N - 3));
		data_col_gather(&c, rows, N, out);
		for (int r = 0; r < N; r++)
			assert_int_equal(out[r], in[rows[r]]);
		struct data_col d;
		assert_true(data_col_alloc(&d, w, N));
		for (int r = 0; r < N; r++)
			data_col_put(&d, r, in[r]);
		data_col_range(&d, 0, N, back);
		assert_memory_equal(in, back, sizeof(in));
		/* written in two pieces, the second from a row in the middle */
		struct data_col h;
		assert_true(data_col_alloc(&h, w, N));
		data_col_write(&h, 0, in, N / 3);
		data_col_write(&h, N / 3, in + N / 3, N - N / 3);
		data_col_range(&h, 0, N, back);
		assert_memory_equal(in, back, sizeof(in));
		data_col_free(&c);
		data_col_free(&d);
		data_col_free(&h);
	}
	int32_t id[N], out[N];
	for (int r = 0; r < N; r++)
		id[r] = r;
	assert_true(data_col_identity(id, N));
	struct data_col z = {.width = 0};
	data_col_range(&z, 10, 5, out);
	assert_int_equal(out[4], 14);
	assert_int_equal(data_col_at(&z, 77), 77);
	id[N - 1] = -1;
	assert_false(data_col_identity(id, N));
}

/* The model keeps each column as narrow as its field's symbols allow, none for a key of
 * distinct values in row order: cubes, selections and a section-access reduction over
 * columns of each width give the numbers the script's formulas give. */
static const char narrow_script[] =
    "T: LOAD RecNo() AS K, If(Mod(RecNo(), 7) = 0, Null(), Mod(RecNo(), 255)) AS A,\n"
    "  If(Mod(RecNo(), 7) = 0, Null(), Mod(RecNo(), 256)) AS B, Mod(RecNo(), 65535) AS C,\n"
    "  Mod(RecNo(), 65536) AS D AUTOGENERATE 70000;\n"
    "L: LOAD RecNo() * 2 AS K, RecNo() AS Half AUTOGENERATE 100;";

static int col_of(const struct assoc *na, int t, const char *field)
{
	for (int c = 0; c < na->tables[t].n_fields; c++)
		if (strcmp(na->fields[na->tables[t].field[c]].name, field) == 0)
			return c;
	fail_msg("no column %s", field);
	return -1;
}

static void narrow_checks(struct assoc *na, bool reduced)
{
	enum { ROWS = 70000 };
	if (!reduced) {
		/* K is also L's, so a global field: its symbols are T's rows in order */
		static const char *const names[] = {"K", "A", "B", "C", "D"};
		static const int widths[] = {0, 1, 2, 2, 3};
		for (int i = 0; i < 5; i++)
			assert_int_equal(na->tables[0].col[col_of(na, 0, names[i])].width,
					 widths[i]);
	}
	/* expected from the formulas: rows kept (all, or the even ones when reduced) */
	double sum_a = 0, sum_k_d = 0;
	int64_t n_a254 = 0, distinct_b[256] = {0}, n_distinct_b = 0;
	for (int64_t r = 1; r <= ROWS; r++) {
		if (reduced && r % 2)
			continue;
		bool null = r % 7 == 0;
		sum_a += null ? 0 : (double)(r % 255);
		if (!null && r % 255 == 254) {
			n_a254++;
			n_distinct_b += !distinct_b[r % 256]++;
		}
		sum_k_d += r % 65536 == 65534 ? (double)r : 0;
	}
	struct assoc_sel none, a254, d_top;
	assert_int_equal(model_assoc_sel_init(na, &none), 0);
	assert_int_equal(model_assoc_sel_init(na, &a254), 0);
	assert_int_equal(model_assoc_sel_init(na, &d_top), 0);
	int fa = model_assoc_field(na, "A"), fd = model_assoc_field(na, "D");
	int64_t s254 = model_assoc_find(na, fa, "254"), stop = model_assoc_find(na, fd, "65534");
	assert_true(s254 >= 0 && stop >= 0);
	assert_int_equal(model_assoc_select(na, &a254, fa, &s254, 1), 0);
	assert_int_equal(model_assoc_select(na, &d_top, fd, &stop, 1), 0);
	assert_true(kpi(na, &none, "Sum(A)") == sum_a);
	assert_true(kpi(na, &none, "Sum(A) + 0") == sum_a);
	assert_true(kpi(na, &a254, "Count(*)") == (double)n_a254);
	assert_true(kpi(na, &a254, "Count(DISTINCT B)") == (double)n_distinct_b);
	assert_true(kpi(na, &d_top, "Sum(K)") == sum_k_d);
	/* the states: with A = 254, B's values are those of its rows */
	struct assoc_states st;
	struct err e;
	err_init(&e);
	assert_int_equal(model_assoc_compute(na, &a254, &st, &e), 0);
	int fb = model_assoc_field(na, "B");
	int64_t optional = 0;
	for (int64_t s = 0; s < na->fields[fb].n_sym; s++)
		optional += st.state[fb][s] == STATE_O;
	assert_int_equal(optional, n_distinct_b);
	model_assoc_states_release(na, &st);
	/* a cube by A, in one part and in two */
	const char *dims[] = {"A"};
	const char *ms[] = {"Count(*)", "Sum(C)"};
	struct cube_def d = {.dims = dims, .n_dims = 1, .measures = ms, .n_measures = 2};
	int64_t was = model_cube_split_rows;
	for (int split = 0; split < 2; split++) {
		model_cube_split_rows = split ? 1 : was;
		struct cube *c = NULL;
		if (model_cube_compute(na, &none, &d, &c, &e))
			fail_msg("%s", e.message);
		assert_int_equal(c->n_rows, 255);
		double rows = 0;
		for (int64_t r = 0; r < c->n_rows; r++)
			rows += c->cells[r * c->n_cols + 1].v.num;
		assert_true(rows == (reduced ? ROWS / 2 : ROWS) - (reduced ? 5000 : 10000));
		model_cube_free(c);
	}
	model_cube_split_rows = was;
	model_assoc_sel_release(&none);
	model_assoc_sel_release(&a254);
	model_assoc_sel_release(&d_top);
}

static void narrow_columns(void **state)
{
	(void)state;
	struct assoc *na = model_of(narrow_script);
	narrow_checks(na, false);
	/* T's even rows (L keeps all of its own) */
	uint8_t *keep[2];
	keep[0] = malloc(70000);
	keep[1] = malloc(100);
	assert_non_null(keep[0]);
	assert_non_null(keep[1]);
	for (int r = 0; r < 70000; r++)
		keep[0][r] = (r + 1) % 2 == 0;
	memset(keep[1], 1, 100);
	struct assoc *ra = NULL;
	struct err e;
	err_init(&e);
	assert_int_equal(model_assoc_reduce(na, keep, NULL, &ra, &e), 0);
	narrow_checks(ra, true);
	model_assoc_free(ra);
	free(keep[0]);
	free(keep[1]);
	model_assoc_free(na);
	for (int cols = 0; cols < 2; cols++) { /* QVD layout, column layout */
		setenv("FATHOM_COLUMN_TABLES_MIN_ROWS", cols ? "0" : "1000000000", 1);
		char dense[64];
		na = model_from_app_file(narrow_script, dense, sizeof(dense));
		narrow_checks(na, false);
		model_assoc_free(na);
	}
	unsetenv("FATHOM_COLUMN_TABLES_MIN_ROWS");
}

static void errors(void **state)
{
	(void)state;
	struct assoc_sel s;
	assert_int_equal(model_assoc_sel_init(a, &s), 0);
	struct cube *c = NULL;
	struct err e;
	const char *bad_dim[] = {"Nope"};
	struct cube_def d = {.dims = bad_dim, .n_dims = 1};
	err_init(&e);
	assert_int_equal(model_cube_compute(a, &s, &d, &c, &e), ERR_INVALID);
	assert_non_null(strstr(e.message, "no field Nope"));
	const char *dims[] = {"Country"};
	const char *ms[] = {"Sum(Amount"};
	struct cube_def m = {.dims = dims, .n_dims = 1, .measures = ms, .n_measures = 1};
	err_init(&e);
	assert_int_equal(model_cube_compute(a, &s, &m, &c, &e), ERR_INVALID);
	assert_non_null(strstr(e.message, "measure 1"));
	const char *ms2[] = {"Sum(Sum(Amount))"};
	m.measures = ms2;
	err_init(&e);
	assert_int_equal(model_cube_compute(a, &s, &m, &c, &e), ERR_INVALID);
	assert_non_null(strstr(e.message, "inside another aggregation"));
	assert_null(c);
	const char *ms3[] = {"Sum({<Product={P2}>} Amount)"};
	m.measures = ms3;
	err_init(&e);
	assert_int_equal(model_cube_compute(a, &s, &m, &c, &e), ERR_INVALID);
	assert_non_null(strstr(e.message, "expected a value in the set"));
	const char *ms4[] = {"Sum({<Nope={1}>} Amount)"};
	m.measures = ms4;
	err_init(&e);
	assert_int_equal(model_cube_compute(a, &s, &m, &c, &e), ERR_INVALID);
	assert_non_null(strstr(e.message, "does not exist: Nope"));
	model_assoc_sel_release(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(aggregations_by_a_dimension_of_another_table),
	    cmocka_unit_test(measures_over_linked_tables_and_two_dimensions),
	    cmocka_unit_test(sorting_and_suppressing_zero),
	    cmocka_unit_test(set_analysis),
	    cmocka_unit_test(totals),
	    cmocka_unit_test(inter_record),
	    cmocka_unit_test(one_pass_measures_equal_the_evaluator),
	    cmocka_unit_test(measures_in_parts_equal_the_evaluator),
	    cmocka_unit_test(kpis_without_a_selection_from_value_counts),
	    cmocka_unit_test(an_empty_table),
	    cmocka_unit_test(dense_fields),
	    cmocka_unit_test(columns_of_every_width),
	    cmocka_unit_test(narrow_columns),
	    cmocka_unit_test(errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
