/* test_rules.c: the rule condition language (rules/rules.h): what parses and what does not
 * (with the position), how each operator and function evaluates on single and multiple
 * values, precedence, and resource filters. */
#include "unit.h"

#include "rules/rules.h"

#include <strings.h>

/* A subject: path=value lines ("user.group=Sales\nuser.group=HR\n"). */
struct subject {
	const char *lines;
};

static int values(void *ctx, const char *path, void (*each)(void *arg, const char *value),
		  void *arg)
{
	const struct subject *s = ctx;
	size_t pl = strlen(path);
	for (const char *l = s->lines; l && *l;) {
		const char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) : strlen(l);
		if (n > pl && strncasecmp(l, path, pl) == 0 && l[pl] == '=') {
			char v[256];
			snprintf(v, sizeof(v), "%.*s", (int)(n - pl - 1), l + pl + 1);
			each(arg, v);
		}
		l = nl ? nl + 1 : l + n;
	}
	return 0;
}

static int privilege(void *ctx, const char *path, const char *action, bool *out)
{
	(void)ctx;
	*out = strcmp(path, "resource.stream") == 0 && strcasecmp(action, "read") == 0;
	return 0;
}

static const char people[] = "user.name=Alice\n"
			     "user.userdirectory=CORP\n"
			     "user.group=Sales\n"
			     "user.group=HR\n"
			     "user.@Region=North East\n"
			     "resource.resourcetype=App\n"
			     "resource.name=Sales Dashboard 2026\n"
			     "resource.id=7f3a\n"
			     "resource.owner=u1\n"
			     "resource.stream.name=Finance\n"
			     "node.iscentral=false\n"
			     "node.@Role=Scheduler\n";

static bool holds(const char *cond, bool anonymous)
{
	struct subject sub = {people};
	struct rule_subject s = {
	    .ctx = &sub, .values = values, .anonymous = anonymous, .has_privilege = privilege};
	struct rule *r = NULL;
	struct err e;
	err_init(&e);
	if (rules_parse(cond, &r, &e) != 0)
		fail_msg("%s: %s", cond, e.message);
	bool out = false;
	if (rules_eval(r, &s, &out, &e) != 0)
		fail_msg("%s: %s", cond, e.message);
	rules_free(r);
	return out;
}

static void parse_fails(const char *cond, int position, const char *want)
{
	struct rule *r = NULL;
	struct err e;
	err_init(&e);
	int rc = rules_parse(cond, &r, &e);
	if (rc != ERR_FILTER || e.position != position || !strstr(e.message, want))
		fail_msg("%s: wanted \"%s\" at %d, got %d \"%s\" at %d", cond, want, position, rc,
			 e.message, e.position);
	assert_null(r);
}

static void operators_and_values(void **state)
{
	(void)state;
	assert_true(holds("", false)); /* empty: applies to all */
	assert_true(holds("user.name = \"alice\"", false));
	assert_false(holds("user.name == \"alice\"", false));
	assert_true(holds("user.name == \"Alice\"", false));
	assert_true(holds("user.name !== \"alice\"", false));
	assert_false(holds("user.name != \"ALICE\"", false));
	/* several values: = when any matches */
	assert_true(holds("user.group = \"hr\"", false));
	assert_false(holds("user.group = \"Finance\"", false));
	assert_true(holds("user.group != \"Sales\"", false)); /* HR does not match */
	/* no value */
	assert_false(holds("user.email = \"\"", false));
	assert_true(holds("user.email != \"x\"", false));
	assert_true(holds("user.email.Empty()", false));
	assert_false(holds("resource.stream.name.Empty()", false));
	/* like and matches */
	assert_true(holds("resource.name like \"sales*\"", false));
	assert_true(holds("resource.name like \"*dash?oard*\"", false));
	assert_false(holds("resource.name like \"dash*\"", false));
	assert_false(holds("resource.name = \"sales*\"", false));
	assert_true(holds("resource.name matches \"sales.*20[0-9]+\"", false));
	assert_false(holds("resource.name matches \"sales\"", false)); /* anchored */
	assert_true(holds("user.group matches \"(finance|hr)\"", false));
	/* custom properties, nodes, both sides properties */
	assert_true(holds("user.@Region = \"north east\"", false));
	assert_true(holds("node.@Role=\"Scheduler\" and node.iscentral = \"false\"", false));
	assert_true(holds("resource.owner = resource.owner", false));
	assert_false(holds("resource.stream.name = user.name", false));
	assert_true(holds("resource.resourcetype = \"App\"", false));
	/* functions */
	assert_true(holds("user.IsAnonymous()", true));
	assert_false(holds("user.IsAnonymous()", false));
	assert_true(holds("!user.IsAnonymous()", false));
	assert_true(holds("resource.IsOwned()", false));
	assert_true(holds("resource.stream.HasPrivilege(\"read\")", false));
	assert_false(holds("resource.stream.HasPrivilege(\"update\")", false));
	/* precedence: not, then and, then or */
	assert_true(
	    holds("user.name = \"x\" or user.name = \"alice\" and user.group = \"HR\"", false));
	assert_false(
	    holds("(user.name = \"x\" or user.name = \"alice\") and user.group = \"IT\"", false));
	assert_true(holds("not user.name = \"x\" && !(user.group = \"IT\") || false", false));
	assert_true(holds("((user.roles=\"RootAdmin\")) or ((user.group=\"Sales\"))", false));
	assert_true(holds("true", false));
	assert_false(holds("false and true", false));
	assert_true(holds("user.name = \"Alice\" AND user.group = \"Sales\"", false));
}

static void parse_errors_name_the_position(void **state)
{
	(void)state;
	parse_fails("user.name = ", 13, "expected a property, a text or a number");
	parse_fails("user.name \"x\"", 11, "expected =, !=, ==, !==, like or matches");
	parse_fails("(user.name = \"x\"", 17, "expected \")\" to close");
	parse_fails("user.name = \"x", 13, "a text is not closed");
	parse_fails("owner.name = \"x\"", 1, "is not a property");
	parse_fails("user.name like user.group", 16, "like needs a text");
	parse_fails("user.name matches \"(\"", 19, "does not compile");
	parse_fails("resource.Frobnicate()", 10, "unknown function Frobnicate");
	parse_fails("user.name matches \"a{1000}\"", 19, "too complex");
	parse_fails("user.name matches \"(((((a+)+)+)+)+)+\"", 19, "too complex");
	assert_true(holds("user.name matches \"((a|l)+i?)+ce\"", false));
	parse_fails("user.name matches \"a++++++++++++++++++++++++++++++++++++\"", 19,
		    "too complex");
	parse_fails("resource.IsAnonymous()", 1, "applies to user only");
	parse_fails("user.name = \"x\" user.group = \"y\"", 17, "expected and, or or the end");
	parse_fails("user.name = \"x\" & true", 17, "expected and, or or the end");
	parse_fails("user..name = \"x\"", 1, "not a property path");
	parse_fails("user.name", 10, "expected =, !=");
	char deep[400];
	memset(deep, '(', 200);
	deep[200] = '\0';
	parse_fails(deep, 65, "nests more than 64 deep");
}

static void resource_filters(void **state)
{
	(void)state;
	struct err e;
	err_init(&e);
	assert_true(rules_filter_matches("App_*", "App", "a1"));
	assert_false(rules_filter_matches("App_*", "App.Object", "o1"));
	assert_true(rules_filter_matches("App*", "App.Object", "o1"));
	assert_true(rules_filter_matches("Stream_*, App_*", "App", "a1"));
	assert_true(rules_filter_matches("Stream_s1", "stream", "S1"));
	assert_false(rules_filter_matches("Stream_s1", "Stream", "s2"));
	assert_true(rules_filter_matches("*", "ReloadTask", "t"));
	assert_false(rules_filter_matches("ReloadTask_*", "App", "a"));
	assert_int_equal(rules_filter_check("App_*, Stream_1f2e-33", &e), 0);
	assert_int_equal(rules_filter_check("", &e), ERR_FILTER);
	assert_int_equal(rules_filter_check("App_*,,Stream_*", &e), ERR_FILTER);
	assert_int_equal(e.position, 7);
	assert_int_equal(rules_filter_check("App_*x", &e), ERR_FILTER);
	assert_int_equal(rules_filter_check("App;Stream", &e), ERR_FILTER);
	assert_int_equal(e.position, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(operators_and_values),
	    cmocka_unit_test(parse_errors_name_the_position),
	    cmocka_unit_test(resource_filters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
