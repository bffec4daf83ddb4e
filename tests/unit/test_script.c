/* test_script.c: splitting and parsing load scripts (engine/script.c): the statements of
 * engine.md's compact test script, every control statement, expression precedence, and
 * errors that name the line and column. */
#include "unit.h"

#include "script/script.h"

static const char compact[] =
    "SET ThousandSep=','; SET DecimalSep='.'; SET DateFormat='YYYY-MM-DD';\n"
    "LET vYear = 2015;\n"
    "// a comment; with a semicolon\n"
    "Map:    MAPPING LOAD * INLINE [ Code, Name\n"
    "        A, Alpha\n"
    "        B, Beta ];\n"
    "Sales:  LOAD Region, Code, ApplyMap('Map', Code, 'Other') AS CodeName, Year, Amount\n"
    "        INLINE [ Region, Code, Year, Amount\n"
    "        North, A, 2014, 10\n"
    "        South, B, 2015, 20\n"
    "        North, C, 2015, 5 ];\n"
    "CONCATENATE (Sales) LOAD 'East' AS Region, 'A' AS Code, 2015 AS Year, 7 AS Amount\n"
    "        AUTOGENERATE 1;\n"
    "Regions: NOCONCATENATE LOAD DISTINCT Region RESIDENT Sales;\n"
    "LEFT JOIN (Regions) LOAD * INLINE [ Region, Manager\n"
    "        North, Ann ];\n"
    "/* a block\n   comment */\n"
    "Totals: LOAD Region, Sum(Amount) AS Total RESIDENT Sales GROUP BY Region;\n"
    "Sorted: NOCONCATENATE LOAD * RESIDENT Totals ORDER BY Total DESC;\n"
    "REM this whole statement is a comment;\n"
    "DROP TABLE Totals;\n"
    "RENAME FIELD Total TO RegionTotal;\n"
    "STORE Sales INTO [lib://Out/sales.qvd] (qvd);\n"
    "STORE Sorted INTO [lib://Out/sorted.csv] (txt);\n"
    "TRACE Done;\n";

static struct stmt *parse(struct arena *a, const char *text)
{
	struct stmt *s = NULL;
	struct err e;
	err_init(&e);
	if (script_parse(text, 1, 1, false, a, &s, &e) != 0)
		fail_msg("%s: %s", text, e.message);
	return s;
}

static void fails(const char *text, bool control, const char *want)
{
	struct arena *a = arena_new();
	struct stmt *s = NULL;
	struct err e;
	err_init(&e);
	int rc = script_parse(text, 1, 1, control, a, &s, &e);
	if (rc != ERR_INVALID || !strstr(e.message, want))
		fail_msg("%s: got %d \"%s\", wanted \"%s\"", text, rc, e.message, want);
	assert_true(e.position > 0);
	arena_free(a);
}

static void splits_and_parses_the_compact_script(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	struct script_piece *pc;
	int n;
	struct err e;
	err_init(&e);
	assert_int_equal(script_split(compact, a, &pc, &n, &e), 0);
	assert_int_equal(n, 16);
	assert_int_equal(pc[2].line, 1); /* three SETs on line 1 */
	assert_int_equal(pc[2].col, 42);
	assert_int_equal(pc[4].line, 4); /* Map: */
	struct stmt *st[16];
	for (int i = 0; i < n; i++) {
		if (script_parse(pc[i].text, pc[i].line, pc[i].col, pc[i].control, a, &st[i], &e))
			fail_msg("statement %d: %s", i + 1, e.message);
	}
	assert_int_equal(st[0]->kind, ST_SET);
	assert_string_equal(st[0]->name, "ThousandSep");
	assert_string_equal(st[0]->raw, "','");
	assert_int_equal(st[3]->kind, ST_LET);
	assert_int_equal(st[3]->expr->kind, EX_NUM);

	const struct load *m = &st[4]->load;
	assert_string_equal(st[4]->label, "Map");
	assert_true(m->mapping);
	assert_int_equal(m->source, SRC_INLINE);
	assert_non_null(strstr(m->inline_data, "B, Beta"));
	assert_null(m->items[0].expr); /* * */

	const struct load *sl = &st[5]->load;
	assert_int_equal(sl->n_items, 5);
	assert_int_equal(sl->items[2].expr->kind, EX_CALL);
	assert_string_equal(sl->items[2].expr->text, "ApplyMap");
	assert_int_equal(sl->items[2].expr->n_args, 3);
	assert_string_equal(sl->items[2].as, "CodeName");
	assert_int_equal(sl->format.delimiter, ',');
	assert_int_equal(sl->format.labels, LABELS_EMBEDDED);

	const struct load *c = &st[6]->load;
	assert_true(c->concatenate);
	assert_string_equal(c->target, "Sales");
	assert_int_equal(c->source, SRC_AUTOGENERATE);
	assert_int_equal(c->items[0].expr->kind, EX_STR);

	assert_true(st[7]->load.noconcatenate && st[7]->load.distinct);
	assert_int_equal(st[7]->load.source, SRC_RESIDENT);
	assert_string_equal(st[7]->load.path, "Sales");

	assert_int_equal(st[8]->load.join, JOIN_LEFT);
	assert_false(st[8]->load.keep);
	assert_string_equal(st[8]->load.target, "Regions");

	assert_int_equal(st[9]->load.n_group_by, 1);
	assert_string_equal(st[9]->load.group_by[0], "Region");
	assert_int_equal(st[10]->load.n_order_by, 1);
	assert_true(st[10]->load.order_desc[0]);

	assert_int_equal(st[11]->kind, ST_DROP_TABLES);
	assert_string_equal(st[11]->names[0], "Totals");
	assert_int_equal(st[12]->kind, ST_RENAME_FIELD);
	assert_string_equal(st[12]->names[1], "RegionTotal");
	assert_int_equal(st[13]->kind, ST_STORE);
	assert_string_equal(st[13]->store.path, "lib://Out/sales.qvd");
	assert_true(st[13]->store.format.qvd);
	assert_false(st[14]->store.format.qvd);
	assert_int_equal(st[15]->kind, ST_TRACE);
	assert_string_equal(st[15]->raw, "Done");
	arena_free(a);
}

static void sources_formats_and_prefixes(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	struct stmt *s =
	    parse(a, "LOAD * FROM [lib://DataFiles/sales.csv]\n"
		     "  (txt, codepage is 28591, embedded labels, delimiter is ';', msq)");
	assert_int_equal(s->load.source, SRC_FILE);
	assert_string_equal(s->load.path, "lib://DataFiles/sales.csv");
	assert_int_equal(s->load.format.codepage, 28591);
	assert_int_equal(s->load.format.delimiter, ';');
	assert_true(s->load.format.msq);
	s = parse(a, "LOAD a, b FROM lib://DataFiles/x.qvd (qvd)");
	assert_true(s->load.format.qvd);
	assert_string_equal(s->load.path, "lib://DataFiles/x.qvd");
	s = parse(a, "LOAD @1 AS A FROM 'lib://D/t.txt' (txt, no labels, delimiter is '\\t')");
	assert_int_equal(s->load.format.labels, LABELS_NONE);
	assert_int_equal(s->load.format.delimiter, '\t');
	assert_string_equal(s->load.items[0].expr->text, "@1");
	s = parse(a, "INNER KEEP (T) LOAD * INLINE [A|B\n1|x] (delimiter is '|')");
	assert_true(s->load.keep);
	assert_int_equal(s->load.join, JOIN_INNER);
	assert_int_equal(s->load.format.delimiter, '|');
	s = parse(a, "[My Table]: LOAD \"Field With Space\" AS [Other Name], * RESIDENT T "
		     "WHERE Year >= 2015 AND Region <> 'North'");
	assert_string_equal(s->label, "My Table");
	assert_string_equal(s->load.items[0].expr->text, "Field With Space");
	assert_string_equal(s->load.items[0].as, "Other Name");
	assert_null(s->load.items[1].expr);
	assert_int_equal(s->load.where->op, OP_AND);
	s = parse(a, "LOAD a * 2 AS b");
	assert_int_equal(s->load.source, SRC_PRECEDING);
	s = parse(a, "STORE A, B AS Bee FROM Sales INTO [lib://D/ab.csv] (txt, delimiter is ';')");
	assert_int_equal(s->store.n_items, 2);
	assert_string_equal(s->store.table, "Sales");
	assert_string_equal(s->store.items[1].as, "Bee");
	s = parse(a, "STORE * FROM Sales INTO [lib://D/s.csv] (txt)");
	assert_int_equal(s->store.n_items, 0);
	s = parse(a, "DROP FIELDS A, B FROM X, Y");
	assert_int_equal(s->kind, ST_DROP_FIELDS);
	assert_int_equal(s->n_names, 2);
	assert_int_equal(s->n_from, 2);
	s = parse(a, "QUALIFY *");
	assert_int_equal(s->kind, ST_QUALIFY);
	assert_string_equal(s->names[0], "*");
	s = parse(a, "UNQUALIFY TransID, [Other*]");
	assert_int_equal(s->n_names, 2);
	assert_string_equal(s->names[1], "Other*");
	s = parse(a, "x = $y + 1");
	assert_int_equal(s->kind, ST_LET);
	s = parse(a, "SET vPath = lib://DataFiles/;");
	assert_string_equal(s->raw, "lib://DataFiles/;");
	arena_free(a);
}

static void control_statements(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	struct script_piece *pc;
	int n;
	struct err e;
	err_init(&e);
	static const char src[] = "SUB LoadOne(file, tbl)\n"
				  "  TRACE in sub;\n"
				  "END SUB\n"
				  "CALL LoadOne('lib://D/a.qvd', 'A')\n"
				  "IF vRows > 0 THEN\n"
				  "ELSEIF vRows = 0 THEN\n"
				  "ELSE\n"
				  "END IF\n"
				  "FOR i = 1 TO 9 STEP 2\n"
				  "  EXIT FOR WHEN i = 5;\n"
				  "NEXT i\n"
				  "FOR EACH f IN 'a.csv', 'b.csv'\n"
				  "NEXT\n"
				  "DO WHILE x < 3\n"
				  "LOOP UNTIL x > 10\n"
				  "EXIT SCRIPT;\n";
	assert_int_equal(script_split(src, a, &pc, &n, &e), 0);
	enum stmt_kind want[] = {ST_SUB,  ST_TRACE,  ST_END_SUB, ST_CALL, ST_IF,   ST_ELSEIF,
				 ST_ELSE, ST_END_IF, ST_FOR,	 ST_EXIT, ST_NEXT, ST_FOR_EACH,
				 ST_NEXT, ST_DO,     ST_LOOP,	 ST_EXIT};
	assert_int_equal(n, (int)(sizeof(want) / sizeof(want[0])));
	struct stmt *s[16];
	for (int i = 0; i < n; i++) {
		if (script_parse(pc[i].text, pc[i].line, pc[i].col, pc[i].control, a, &s[i], &e))
			fail_msg("line %d: %s", pc[i].line, e.message);
		assert_int_equal(s[i]->kind, want[i]);
	}
	assert_int_equal(s[0]->n_names, 2);
	assert_string_equal(s[0]->names[1], "tbl");
	assert_int_equal(s[3]->n_args, 2);
	assert_int_equal(s[4]->expr->op, '>');
	assert_non_null(s[8]->step);
	assert_string_equal(s[9]->name, "FOR");
	assert_int_equal(s[9]->expr->op, '=');
	assert_string_equal(s[10]->name, "i");
	assert_int_equal(s[11]->n_args, 2);
	assert_false(s[13]->until);
	assert_true(s[14]->until);
	arena_free(a);
}

static void expression_precedence(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	/* or < and < not < comparison < & < + - < * / < unary - */
	struct stmt *s = parse(a, "LET x = 1 + 2 * -3 = 7 & 'a' and not A or B");
	struct expr *x = s->expr;
	assert_int_equal(x->op, OP_OR);
	assert_int_equal(x->args[0]->op, OP_AND);
	struct expr *cmp = x->args[0]->args[0];
	assert_int_equal(cmp->op, '=');
	assert_int_equal(cmp->args[0]->op, '+');
	assert_int_equal(cmp->args[0]->args[1]->op, '*');
	assert_int_equal(cmp->args[0]->args[1]->args[1]->kind, EX_UNARY);
	assert_int_equal(cmp->args[1]->op, '&');
	assert_int_equal(x->args[0]->args[1]->kind, EX_UNARY);
	assert_int_equal(x->args[0]->args[1]->op, 'n');
	s = parse(a, "LET y = Count(DISTINCT Customer) + Count(*) + Sum(If(A like 'x*', 1, 0))");
	assert_true(s->expr->args[0]->args[0]->distinct);
	assert_int_equal(s->expr->args[0]->args[1]->args[0]->kind, EX_STAR);
	s = parse(a, "LET z = 'it''s'");
	assert_string_equal(s->expr->text, "it's");
	s = parse(a, "LET w = 1.5e3 + .25");
	assert_true(s->expr->args[0]->num == 1500);
	assert_true(s->expr->args[1]->num == 0.25);
	arena_free(a);
}

static void errors_name_line_and_column(void **state)
{
	(void)state;
	fails("LOAD a, b FROM", false, "line 1, column 15: expected a file name");
	fails("LOAD a b", false, "line 1, column 8: unexpected \"b\"");
	fails("LOAD * FROM x.csv (txt, fix)", false, "the fix format is not supported yet");
	fails("LOAD * FROM x.csv (txt, bogus)", false, "unknown format specifier bogus");
	fails("LOAD * FROM x.csv (delimiter is 'ab')", false, "one character");
	fails("LOAD 1 +", false, "expected a value");
	fails("LOAD Sum(a, FROM x", false, "expected ',' or ')' in the arguments of Sum");
	fails("LOAD Sum(a,", false, "line 1, column 12: expected a value");
	fails("LOAD * INLINE [a\n1", false, "not closed");
	fails("LOAD * RESIDENT T ORDER BY", false, "expected a field after ORDER BY");
	fails("LOAD * FROM x.csv ORDER BY a", false, "ORDER BY works only with RESIDENT");
	fails("OUTER KEEP LOAD * RESIDENT T", false, "OUTER KEEP does not exist");
	fails("SQL SELECT * FROM t", false, "SQL SELECT is not supported");
	fails("DROP THING x", false, "expected TABLE or FIELD");
	fails("IF x > 1", true, "expected THEN");
	fails("FOR i = 1", true, "expected TO");
	fails("EXIT NOW", true, "expected SCRIPT, FOR, SUB or DO");
	/* a statement that starts further down: positions count from there */
	struct arena *a = arena_new();
	struct script_piece *pc;
	int n;
	struct err e;
	err_init(&e);
	assert_int_equal(
	    script_split("SET a = 1;\n\nT: LOAD x,\n  y z FROM f.csv;", a, &pc, &n, &e), 0);
	assert_int_equal(n, 2);
	struct stmt *s;
	assert_int_equal(script_parse(pc[1].text, pc[1].line, pc[1].col, false, a, &s, &e),
			 ERR_INVALID);
	assert_non_null(strstr(e.message, "line 4, column 5"));
	/* splitting errors */
	err_init(&e);
	assert_int_equal(script_split("LOAD 'abc FROM x;", a, &pc, &n, &e), ERR_INVALID);
	assert_non_null(strstr(e.message, "line 1, column 6: a string is not closed"));
	/* a comment not closed runs to the end, as in Qlik */
	err_init(&e);
	assert_int_equal(script_split("SET a = 1;\n/* open\nSET b = 2;", a, &pc, &n, &e), 0);
	assert_int_equal(n, 1);
	/* lib:// is no comment; // after a blank is */
	assert_int_equal(script_split("LOAD * FROM lib://D/x.qvd (qvd); // done", a, &pc, &n, &e),
			 0);
	assert_int_equal(n, 1);
	assert_int_equal(script_parse(pc[0].text, 1, 1, false, a, &s, &e), 0);
	assert_string_equal(s->load.path, "lib://D/x.qvd");
	arena_free(a);
}

static void deep_nesting_is_an_error(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	size_t n = 20000;
	char *t = malloc(n * 2 + 16);
	memcpy(t, "LET x = ", 9);
	size_t at = strlen(t);
	for (size_t i = 0; i < n; i++)
		t[at++] = '(';
	t[at++] = '1';
	for (size_t i = 0; i < n; i++)
		t[at++] = ')';
	t[at] = '\0';
	struct stmt *s;
	struct err e;
	err_init(&e);
	assert_int_equal(script_parse(t, 1, 1, false, a, &s, &e), ERR_INVALID);
	assert_non_null(strstr(e.message, "nests too deep"));
	memset(t, '-', n);
	memcpy(t + n, "1", 2);
	char *l = malloc(n + 16);
	snprintf(l, n + 16, "LET y = %s", t);
	err_init(&e);
	assert_int_equal(script_parse(l, 1, 1, false, a, &s, &e), ERR_INVALID);
	free(l);
	free(t);
	arena_free(a);
}

struct fn_seen {
	int n, n_aggr;
	bool sum_aggr, median_aggr, if_scalar, bad_range, unresolved;
};

static void fn_one(void *ctx, const char *name, enum script_fn_kind kind, int lo, int hi)
{
	struct fn_seen *f = ctx;
	f->n++;
	f->n_aggr += kind == SCRIPT_FN_AGGR;
	f->sum_aggr |= strcmp(name, "Sum") == 0 && kind == SCRIPT_FN_AGGR && lo == 1 && hi == 1;
	f->median_aggr |= strcmp(name, "Median") == 0 && kind == SCRIPT_FN_AGGR;
	f->if_scalar |= strcmp(name, "If") == 0 && kind == SCRIPT_FN_SCALAR && lo == 2 && hi == 3;
	f->bad_range |= lo < 0 || hi < lo || hi > 16;
	f->unresolved |= script_func_find(name) == NULL;
}

/* Functions are one table, and a call is resolved against it when it is parsed. */
static void functions_are_resolved_when_parsed(void **state)
{
	(void)state;
	struct fn_seen f = {0};
	script_func_list(fn_one, &f);
	assert_true(f.n >= 50);
	/* Sum, Count, Min, Max, Avg, Only, Concat, MinString, MaxString (eval.c), the
	 * statistical ones (fn_stats.c: Median ... MissingCount, FractileExc, Skew, Kurtosis,
	 * Sterr, Correl, ten LINEST_* and STEYX) and the cash flows (fn_cash.c: NPV, IRR,
	 * XNPV, XIRR) */
	assert_int_equal(f.n_aggr, 40);
	assert_true(f.sum_aggr && f.median_aggr && f.if_scalar);
	assert_false(f.bad_range);
	assert_false(f.unresolved);
	assert_ptr_equal(script_func_find("wildmatch"), script_func_find("WildMatch"));
	assert_null(script_func_find("NoSuchFunction"));

	struct arena *a = arena_new();
	struct stmt *st;
	struct err e;
	err_init(&e);
	assert_int_equal(script_parse("LET x = upper(Trim(y)) & Nope(1)", 1, 1, false, a, &st, &e),
			 0);
	struct expr *cat = st->expr;
	assert_int_equal(cat->kind, EX_BINARY);
	assert_ptr_equal(cat->args[0]->fn, script_func_find("Upper"));
	assert_ptr_equal(cat->args[0]->args[0]->fn, script_func_find("Trim"));
	assert_null(cat->args[1]->fn);
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(splits_and_parses_the_compact_script),
	    cmocka_unit_test(sources_formats_and_prefixes),
	    cmocka_unit_test(control_statements),
	    cmocka_unit_test(expression_precedence),
	    cmocka_unit_test(errors_name_line_and_column),
	    cmocka_unit_test(deep_nesting_is_an_error),
	    cmocka_unit_test(functions_are_resolved_when_parsed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
