/* test_assoc.c: the associative model (engine/assoc.c): golden selection states on small
 * models loaded by real scripts: two linked tables, a chain of three, two tables sharing two
 * fields (a synthetic key), NULLs from concatenation, contradicting selections, and a loop
 * that is cut. */
#include "unit.h"

#include "model/model.h"

static struct assoc *model(const char *script)
{
	struct reload_env env = {0};
	struct data_set *m = NULL;
	struct err e;
	err_init(&e);
	if (script_run(script, &env, &m, &e) != 0)
		fail_msg("%s", e.message);
	struct assoc *a = NULL;
	assert_int_equal(model_assoc_build(m, &a, &e), 0);
	data_set_free(m);
	return a;
}

/* Selects values (by text) in fields: "Field=v1|v2" pairs, NULL-terminated. */
static void select_(struct assoc *a, struct assoc_sel *s, const char *const *pairs)
{
	assert_int_equal(model_assoc_sel_init(a, s), 0);
	for (int i = 0; pairs && pairs[i]; i++) {
		char buf[256];
		snprintf(buf, sizeof(buf), "%s", pairs[i]);
		char *eq = strchr(buf, '=');
		*eq = '\0';
		int f = model_assoc_field(a, buf);
		assert_true(f >= 0);
		int64_t sym[16];
		int n = 0;
		for (char *v = eq + 1, *bar; v; v = bar ? bar + 1 : NULL) {
			if ((bar = strchr(v, '|')))
				*bar = '\0';
			sym[n] = model_assoc_find(a, f, v);
			if (sym[n] < 0)
				fail_msg("no value %s in %s", v, buf);
			n++;
		}
		assert_int_equal(model_assoc_select(a, s, f, sym, n), 0);
	}
}

/* The states of a field as "v:S v:O ..." in symbol order. */
static void states(struct assoc *a, const struct assoc_states *st, const char *field,
		   const char *want)
{
	static const char *const names[] = {"O", "S", "A", "X", "XS"};
	int f = model_assoc_field(a, field);
	assert_true(f >= 0);
	char got[1024] = "";
	for (int64_t v = 0; v < a->fields[f].n_sym; v++) {
		char b[64];
		size_t l = strlen(got);
		struct val sv = model_sym(&a->fields[f], v);
		snprintf(got + l, sizeof(got) - l, "%s%s:%s", v ? " " : "",
			 data_val_text(&sv, b, sizeof(b)), names[st->state[f][v]]);
	}
	if (strcmp(got, want) != 0)
		fail_msg("%s: got \"%s\", want \"%s\"", field, got, want);
}

static void check(struct assoc *a, const char *const *sel, const char *const *want)
{
	struct assoc_sel s;
	select_(a, &s, sel);
	struct assoc_states st;
	struct err e;
	err_init(&e);
	assert_int_equal(model_assoc_compute(a, &s, &st, &e), 0);
	for (int i = 0; want[i]; i += 2)
		states(a, &st, want[i], want[i + 1]);
	model_assoc_states_release(a, &st);
	model_assoc_sel_release(&s);
}

static const char two[] = "Customers: LOAD * INLINE [\n"
			  "Customer, Country\n"
			  "A, SE\n"
			  "B, DK\n"
			  "C, SE\n"
			  "D, NO\n"
			  "];\n"
			  "Orders: LOAD * INLINE [\n"
			  "Order, Customer, Amount\n"
			  "1, A, 10\n"
			  "2, A, 20\n"
			  "3, B, 5\n"
			  "4, E, 7\n"
			  "];\n";

static void two_linked_tables(void **state)
{
	(void)state;
	struct assoc *a = model(two);
	assert_int_equal(a->n_links, 1);
	check(a, NULL,
	      (const char *const[]){"Country", "SE:O DK:O NO:O", "Customer", "A:O B:O C:O D:O E:O",
				    NULL});
	check(a, (const char *const[]){"Country=SE", NULL},
	      (const char *const[]){"Country", "SE:S DK:A NO:A", "Customer", "A:O B:X C:O D:X E:X",
				    "Order", "1:O 2:O 3:X 4:X", "Amount", "10:O 20:O 5:X 7:X",
				    NULL});
	/* a value with no partner rows stays selected; the other table is all excluded */
	check(a, (const char *const[]){"Customer=E", NULL},
	      (const char *const[]){"Customer", "A:A B:A C:A D:A E:S", "Country", "SE:X DK:X NO:X",
				    "Order", "1:X 2:X 3:X 4:O", NULL});
	/* selections that contradict each other: both become selected-excluded; SE would go
	 * with Order 1, so it is the alternative */
	check(a, (const char *const[]){"Country=NO", "Order=1", NULL},
	      (const char *const[]){"Country", "SE:A DK:X NO:XS", "Order", "1:XS 2:X 3:X 4:X",
				    "Customer", "A:X B:X C:X D:X E:X", NULL});
	/* two values in one field, and a selection in each table that agree */
	check(a, (const char *const[]){"Country=SE|DK", "Amount=5|10", NULL},
	      (const char *const[]){"Customer", "A:O B:O C:X D:X E:X", "Country", "SE:S DK:S NO:X",
				    "Amount", "10:S 20:A 5:S 7:X", NULL});
	model_assoc_free(a);
}

static void a_chain_of_three(void **state)
{
	(void)state;
	struct assoc *a = model("T1: LOAD * INLINE [K1, A\n1, x\n2, y];\n"
				"T2: LOAD * INLINE [K1, K2\n1, 10\n2, 20];\n"
				"T3: LOAD * INLINE [K2, B\n10, p\n30, q];\n");
	assert_int_equal(a->n_links, 2);
	check(a, (const char *const[]){"B=p", NULL},
	      (const char *const[]){"A", "x:O y:X", "K1", "1:O 2:X", "B", "p:S q:A", NULL});
	check(a, (const char *const[]){"A=y", NULL},
	      (const char *const[]){"B", "p:X q:X", "K2", "10:X 20:O 30:X", "A", "x:A y:S", NULL});
	model_assoc_free(a);
}

static void two_tables_sharing_two_fields(void **state)
{
	(void)state;
	struct assoc *a = model("S1: LOAD * INLINE [Y, M, V\n2020, 1, a\n2020, 2, b\n2021, 1, c];\n"
				"S2: LOAD * INLINE [Y, M, W\n2020, 1, p\n2021, 2, q];\n");
	assert_int_equal(a->n_links, 1);
	/* linked by (Y, M) together: 2021/2 has no partner in S1 */
	check(a, (const char *const[]){"W=q", NULL},
	      (const char *const[]){"V", "a:X b:X c:X", "W", "p:A q:S", NULL});
	check(a, (const char *const[]){"V=a", NULL},
	      (const char *const[]){"W", "p:O q:X", "Y", "2020:O 2021:X", NULL});
	model_assoc_free(a);
}

static void nulls_never_link(void **state)
{
	(void)state;
	struct assoc *a = model("N: LOAD * INLINE [K, C\n1, a];\n"
				"CONCATENATE (N) LOAD * INLINE [K\n2];\n"
				"M: LOAD * INLINE [K, D\n1, u\n2, v];\n");
	check(a, (const char *const[]){"C=a", NULL}, (const char *const[]){"D", "u:O v:X", NULL});
	check(a, (const char *const[]){"D=v", NULL},
	      (const char *const[]){"C", "a:X", "K", "1:X 2:O", NULL});
	model_assoc_free(a);
}

static void a_loop_is_cut(void **state)
{
	(void)state;
	struct assoc *a = model("A: LOAD * INLINE [X, Y\n1, 2];\n"
				"B: LOAD * INLINE [Y, Z\n2, 3];\n"
				"C: LOAD * INLINE [Z, X\n3, 1];\n");
	assert_int_equal(a->n_links, 2);
	assert_int_equal(a->n_cut, 1);
	check(a, (const char *const[]){"X=1", NULL}, (const char *const[]){"Y", "2:O", NULL});
	model_assoc_free(a);
}

/* A reduced model: the possible rows of Country=SE, without the field Amount; values no
 * kept row holds are gone, and the link is made again. Dropping the key unlinks. */
static void a_reduced_model(void **state)
{
	(void)state;
	struct assoc *a = model(two);
	struct assoc_sel s;
	select_(a, &s, (const char *const[]){"Country=SE", NULL});
	struct assoc_states st = {0};
	struct err e;
	err_init(&e);
	assert_int_equal(model_assoc_possible_rows(a, &s, &st, &e), 0);
	bool drop[8] = {0};
	drop[model_assoc_field(a, "Amount")] = true;
	struct assoc *r = NULL;
	assert_int_equal(model_assoc_reduce(a, st.possible, drop, &r, &e), 0);
	model_assoc_states_release(a, &st);
	model_assoc_sel_release(&s);
	assert_int_equal(r->n_fields, a->n_fields - 1);
	assert_int_equal(model_assoc_field(r, "Amount"), -1);
	assert_int_equal(r->n_links, 1);
	assert_int_equal(r->tables[0].n_rows, 2); /* A and C */
	assert_int_equal(r->tables[1].n_rows, 2); /* orders 1 and 2 */
	check(r, NULL,
	      (const char *const[]){"Country", "SE:O", "Customer", "A:O C:O", "Order", "1:O 2:O",
				    NULL});
	check(r, (const char *const[]){"Customer=C", NULL},
	      (const char *const[]){"Order", "1:X 2:X", NULL});
	model_assoc_free(r);
	/* every row, without the key: two tables that no longer link */
	memset(drop, 0, sizeof(drop));
	drop[model_assoc_field(a, "Customer")] = true;
	assert_int_equal(model_assoc_reduce(a, NULL, drop, &r, &e), 0);
	assert_int_equal(r->n_links, 0);
	check(r, (const char *const[]){"Country=DK", NULL},
	      (const char *const[]){"Order", "1:O 2:O 3:O 4:O", NULL});
	model_assoc_free(r);
	model_assoc_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(two_linked_tables),
	    cmocka_unit_test(a_chain_of_three),
	    cmocka_unit_test(two_tables_sharing_two_fields),
	    cmocka_unit_test(nulls_never_link),
	    cmocka_unit_test(a_loop_is_cut),
	    cmocka_unit_test(a_reduced_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
