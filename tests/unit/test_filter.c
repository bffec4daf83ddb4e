/* test_filter.c: the filter language: what parses, what the errors say and where, and the
 * SQL it compiles to (values only ever as parameters). */
#include "unit.h"

#include "repo/repo.h"

static void ok(const char *type, const char *filter, const char *must_contain)
{
	struct err e;
	err_init(&e);
	char *sql = NULL;
	int rc = repo_filter_check(type, filter, &sql, &e);
	if (rc)
		fail_msg("filter \"%s\" on %s failed: %s", filter, type, e.message);
	if (must_contain && !strstr(sql, must_contain))
		fail_msg("filter \"%s\" compiled to \"%s\", which lacks \"%s\"", filter, sql,
			 must_contain);
	free(sql);
}

static void bad(const char *type, const char *filter, int position, const char *in_message)
{
	struct err e;
	err_init(&e);
	int rc = repo_filter_check(type, filter, NULL, &e);
	if (rc != ERR_FILTER)
		fail_msg("filter \"%s\" should fail, got %d", filter, rc);
	if (position && e.position != position)
		fail_msg("filter \"%s\": position %d, want %d (%s)", filter, e.position, position,
			 e.message);
	if (in_message && !strstr(e.message, in_message))
		fail_msg("filter \"%s\": message \"%s\" lacks \"%s\"", filter, e.message,
			 in_message);
	if (strncmp(e.message, "Cannot parse the expression: ", 29) != 0)
		fail_msg("message \"%s\" does not start as QRS's does", e.message);
}

static void accepted(void **state)
{
	(void)state;
	ok("app", "name eq 'Sales'", "lower(t0.name) = $1");
	ok("app", "Name EQ 'x' AND published eq true", " AND ");
	ok("app", "name eq 'a' or name eq 'b' and name eq 'c'", NULL);
	ok("app", "not (name eq 'x')", "NOT (");
	ok("app", "name ne 'x'", "NOT (");
	ok("app", "stream eq null", "t0.stream_id IS NULL");
	ok("app", "stream ne null", "NOT (t0.stream_id IS NULL)");
	ok("app", "stream.name eq null", "NOT (EXISTS (SELECT 1 FROM stream");
	ok("app", "stream.name eq 'Finance'", "EXISTS (SELECT 1 FROM stream");
	ok("app", "stream.id eq 6BAA5C73-AF76-48C8-A5E8-C185C86A885C", "t0.stream_id = $1");
	ok("app", "owner.userId so 'bob'", "LIKE");
	ok("app", "name sw 'a%_!b'", "ESCAPE '!'");
	ok("app", "fileSize gt 100 and fileSize le 2000", ">");
	ok("app", "availabilityStatus eq Available", NULL);
	ok("app", "publishTime gt '2012-05-09 12:00:00'", NULL);
	ok("app", "tags.name eq 'finance'", "entity_tag");
	ok("app", "@Env eq 'Prod'", "custompropertydefinition");
	ok("app", "customProperties.definition.name eq 'Env' and customProperties.value eq 'P'",
	   NULL);
	ok("app", "stream.customProperties.value eq 'Production'", NULL);
	ok("user", "roles eq 'RootAdmin'", "LIKE");
	ok("servernodeconfiguration", "nodePurpose eq 0", NULL);
	ok("tag", "name eq 'O''Brien'", NULL);
	ok("tag", "((name eq 'x'))", NULL);
}

static void refused(void **state)
{
	(void)state;
	bad("app", "", 1, "empty");
	bad("app", "name eq 'open", 9, "unterminated");
	bad("app", "nosuch eq 1", 1, "unknown property 'nosuch'");
	bad("app", "name xx 'a'", 6, "unknown operator");
	bad("app", "name eq", 8, "expected a value");
	bad("app", "name 'a'", 6, "expected an operator");
	bad("app", "(name eq 'a'", 13, "missing ')'");
	bad("app", "name eq 'a' name eq 'b'", 13, "expected 'and'");
	bad("app", "name gt 'a'", 6, "does not apply to text");
	bad("app", "id eq 'x'", 7, "GUID");
	bad("app", "fileSize eq 'big'", 13, "number");
	bad("app", "published eq 1", 14, "true or false");
	bad("app", "publishTime gt 'soon'", 16, "date");
	bad("app", "name.first eq 'x'", 1, "no sub-properties");
	bad("app", "generation eq 'x'", 1, "unknown property");
	bad("app", "tags eq 'x'", 1, "element property");
	bad("tag", "@Env eq 'x'", 1, "does not apply");
	bad("app", "name eq 'a' $", 13, "unexpected character");
	bad("servicecluster", "settings eq 'x'", 1, "cannot be filtered");
	bad("app", "name lt null", 6, "null");
	char deep[400];
	memset(deep, 0, sizeof(deep));
	memset(deep, '(', 100);
	bad("app", deep, 0, "nested too deeply");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(accepted),
	    cmocka_unit_test(refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
