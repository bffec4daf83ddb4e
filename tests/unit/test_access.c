/* test_access.c: which of the repository's specific routes people reach at all (access.c:
 * a request a proxy vouched for). A route added to routes.c answers people "this endpoint
 * is for services only" until access.c lists it with the right it needs; this test names,
 * on purpose, every route people do not reach, so that adding a route makes that a
 * decision (four routes the console needed had answered people so). */
#include "unit.h"

#include "repo/repo_int.h"

#include <string.h>

static const char *const services_only[] = {
    "GET /metrics",		   /* a scraper's, with the site's certificate */
    "POST /qrs/reloadtask/update", /* the task is named in the body */
    "POST /qrs/task/start/many",   /* by list, by name: a service's tools */
    "POST /qrs/task/start/synchronous",
    "POST /qrs/task/start",
    "POST /qrs/task/stop/many",
    "POST /qrs/loadbalancing/validengines", /* the proxies' question */
    NULL,
};

static void every_route_is_open_to_people_or_named_here(void **state)
{
	(void)state;
	int closed = 0, wrong = 0;
	for (int i = 0; i < repo_n_routes; i++) {
		const struct route *rt = &repo_routes[i];
		if (rt->flags & R_GENERIC)
			continue; /* governed by the rules on the entity type */
		char name[256];
		snprintf(name, sizeof(name), "%s %s", rt->method, rt->pattern);
		bool listed = false;
		for (int k = 0; services_only[k]; k++)
			listed |= strcmp(services_only[k], name) == 0;
		bool open = repo_access_route_open(rt->method, rt->pattern);
		if (open == listed)
			print_message("%s: %s\n", name,
				      open ? "open to people, but listed as services only here"
					   : "for services only: list it here, or in access.c with "
					     "the right people need");
		wrong += open == listed;
		closed += !open;
	}
	assert_int_equal(wrong, 0);
	int n = 0;
	while (services_only[n])
		n++;
	assert_int_equal(closed, n); /* every name here is a route */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_route_is_open_to_people_or_named_here),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
