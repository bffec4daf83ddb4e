/* rules_bench.c: rule evaluation, for the load-balancing decision of issue 5: which of 8
 * nodes may run each of 1,000 apps, under 4 rules, evaluated with rules/rules.h against
 * the same decisions written directly in C (the floor: no parsing, no lookups by name).
 *
 *   rules_bench
 *
 * Prints "rules_per_s N", "direct_per_s N" and "ratio R" (how many times slower the rule
 * language is than the C code), and checks that both decide the same. */
#include "rules/rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define APPS  1000
#define NODES 8

struct app {
	char id[40], name[64], region[16], stream[32];
};
struct node {
	char name[32], central[8], region[16], role[16];
};

static struct app apps[APPS];
static struct node nodes[NODES];

struct pair {
	const struct app *a;
	const struct node *n;
};

static int values(void *ctx, const char *path, void (*each)(void *arg, const char *value),
		  void *arg)
{
	const struct pair *p = ctx;
	if (strcmp(path, "resource.resourcetype") == 0)
		each(arg, "App");
	else if (strcmp(path, "resource.name") == 0)
		each(arg, p->a->name);
	else if (strcmp(path, "resource.@Region") == 0)
		each(arg, p->a->region);
	else if (strcmp(path, "resource.stream.name") == 0)
		each(arg, p->a->stream);
	else if (strcmp(path, "node.iscentral") == 0)
		each(arg, p->n->central);
	else if (strcmp(path, "node.@Region") == 0)
		each(arg, p->n->region);
	else if (strcmp(path, "node.@Role") == 0)
		each(arg, p->n->role);
	else if (strcmp(path, "node.name") == 0)
		each(arg, p->n->name);
	return 0;
}

static const char *const conditions[] = {
    "((node.iscentral = \"false\"))",
    "resource.@Region = node.@Region and node.@Role != \"Scheduler\"",
    "resource.name like \"Finance*\" and node.name matches \"node-[0-3]\"",
    "resource.stream.name = \"Everyone\" or (resource.@Region.Empty() and "
    "node.iscentral = \"false\")",
};

/* The same four, by hand. */
static bool direct(int k, const struct app *a, const struct node *n)
{
	switch (k) {
	case 0: return strcasecmp(n->central, "false") == 0;
	case 1:
		return strcasecmp(a->region, n->region) == 0 &&
		       strcasecmp(n->role, "Scheduler") != 0;
	case 2:
		return strncasecmp(a->name, "Finance", 7) == 0 &&
		       strncmp(n->name, "node-", 5) == 0 && n->name[5] >= '0' &&
		       n->name[5] <= '3' && n->name[6] == '\0';
	default:
		return strcasecmp(a->stream, "Everyone") == 0 ||
		       (a->region[0] == '\0' && strcasecmp(n->central, "false") == 0);
	}
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
	static const char *const regions[] = {"North", "South", "East", "West", ""};
	for (int i = 0; i < APPS; i++) {
		snprintf(apps[i].id, sizeof(apps[i].id), "app-%04d", i);
		snprintf(apps[i].name, sizeof(apps[i].name), "%s report %d",
			 i % 3 == 0 ? "Finance" : "Sales", i);
		snprintf(apps[i].region, sizeof(apps[i].region), "%s", regions[i % 5]);
		snprintf(apps[i].stream, sizeof(apps[i].stream), "%s",
			 i % 7 == 0 ? "Everyone" : "Team");
	}
	for (int k = 0; k < NODES; k++) {
		snprintf(nodes[k].name, sizeof(nodes[k].name), "node-%d", k);
		snprintf(nodes[k].central, sizeof(nodes[k].central), "%s",
			 k == 0 ? "true" : "false");
		snprintf(nodes[k].region, sizeof(nodes[k].region), "%s", regions[k % 4]);
		snprintf(nodes[k].role, sizeof(nodes[k].role), "%s",
			 k == 1 ? "Scheduler" : "Engine");
	}
	struct rule *rules[4];
	struct err e;
	err_init(&e);
	for (int r = 0; r < 4; r++)
		if (rules_parse(conditions[r], &rules[r], &e) != 0) {
			fprintf(stderr, "rules_bench: %s\n", e.message);
			return 1;
		}
	/* both ways must agree on every decision */
	long allowed = 0;
	for (int i = 0; i < APPS; i++)
		for (int k = 0; k < NODES; k++)
			for (int r = 0; r < 4; r++) {
				struct pair p = {&apps[i], &nodes[k]};
				struct rule_subject s = {.ctx = &p, .values = values};
				bool out;
				if (rules_eval(rules[r], &s, &out, &e) != 0 ||
				    out != direct(r, &apps[i], &nodes[k])) {
					fprintf(stderr,
						"rules_bench: rule %d, app %d, node %d differ\n", r,
						i, k);
					return 1;
				}
				allowed += out;
			}
	int rounds = 20;
	long n = 0;
	double t0 = now_s();
	for (int round = 0; round < rounds; round++)
		for (int i = 0; i < APPS; i++)
			for (int k = 0; k < NODES; k++)
				for (int r = 0; r < 4; r++, n++) {
					struct pair p = {&apps[i], &nodes[k]};
					struct rule_subject s = {.ctx = &p, .values = values};
					bool out;
					if (rules_eval(rules[r], &s, &out, &e) != 0)
						return 1;
					allowed += out;
				}
	double rules_s = now_s() - t0;
	volatile long sink = 0;
	t0 = now_s();
	for (int round = 0; round < rounds * 50; round++)
		for (int i = 0; i < APPS; i++)
			for (int k = 0; k < NODES; k++)
				for (int r = 0; r < 4; r++)
					sink += direct(r, &apps[i], &nodes[k]);
	double direct_s = (now_s() - t0) / 50;
	printf("evaluations %ld (allowed %ld)\n", n, allowed);
	printf("rules_per_s %.0f\ndirect_per_s %.0f\nratio %.1f\n", (double)n / rules_s,
	       (double)n / direct_s, rules_s / direct_s);
	for (int r = 0; r < 4; r++)
		rules_free(rules[r]);
	(void)sink;
	return 0;
}
