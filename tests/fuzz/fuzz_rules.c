/* fuzz_rules.c: the rule condition language. Any input must parse to a rule or to
 * ERR_FILTER with a position, and a rule must evaluate without a crash; the same input is
 * also tried as a resource filter. */
#include "rules/rules.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int values(void *ctx, const char *path, void (*each)(void *arg, const char *value),
		  void *arg)
{
	(void)ctx;
	if (strstr(path, "group")) {
		each(arg, "Sales");
		each(arg, "HR");
	} else if (!strstr(path, "email")) {
		each(arg, path);
	}
	return 0;
}

static int privilege(void *ctx, const char *path, const char *action, bool *out)
{
	(void)ctx;
	*out = strlen(path) > strlen(action);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	struct rule *r = NULL;
	struct err e;
	err_init(&e);
	int rc = rules_parse(text, &r, &e);
	if (rc != 0 && (rc != ERR_FILTER || e.position <= 0 || r))
		abort();
	if (rc == 0) {
		struct rule_subject s = {.values = values, .has_privilege = privilege};
		bool out;
		if (rules_eval(r, &s, &out, &e) != 0)
			abort();
		rules_free(r);
	}
	err_init(&e);
	if (rules_filter_check(text, &e) == 0)
		(void)rules_filter_matches(text, "App", "a1");
	else if (e.position <= 0)
		abort();
	free(text);
	return 0;
}
