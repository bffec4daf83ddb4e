/* rules.h: the condition language of QRS system rules (security, license and load-balancing
 * rules; qrs.md section 4), parsed once into a tree and evaluated many times.
 *
 *   ((user.group = "Sales" or user.roles = "RootAdmin") and !user.IsAnonymous())
 *   resource.@Region like "North*" and node.iscentral = "false"
 *
 * Operators: = and != compare without case, == and !== with case; `like` matches a
 * wildcard pattern (* any run, ? one character) without case; `matches` a regular
 * expression (POSIX extended) against the whole value, without case. A property may have
 * several values (user.group, a custom property): a comparison holds when any value does.
 * NOT binds tighter than AND, AND tighter than OR; `!`, `not`, `&&`, `||` are accepted.
 * Functions: user.IsAnonymous(), X.Empty(), resource.IsOwned(),
 * X.HasPrivilege("action"); any other is a parse error. An empty condition is true.
 *
 * What a condition reads comes from struct rule_subject, so the language knows nothing of
 * the repository. Threads: a parsed rule is read-only and may be evaluated from any thread. */
#ifndef FATHOM_RULES_H
#define FATHOM_RULES_H

#include "core/core.h"

struct rule;

/* Parses a condition. ERR_FILTER with e->position (1-based) and what was expected. */
NODISCARD int rules_parse(const char *text, struct rule **out, struct err *e);
void rules_free(struct rule *r);

struct rule_subject {
	void *ctx;
	/* The values of a property path ("user.group", "resource.stream.name", "node.@Role",
	 * "resource.resourcetype"): `each` once per value, none for no value. Paths are as
	 * written, with the root in lower case. A nonzero return stops the evaluation. */
	int (*values)(void *ctx, const char *path, void (*each)(void *arg, const char *value),
		      void *arg);
	bool anonymous; /* for user.IsAnonymous() */
	/* X.HasPrivilege(action) for the resource at `path` (may be NULL: false). */
	int (*has_privilege)(void *ctx, const char *path, const char *action, bool *out);
};

NODISCARD int rules_eval(const struct rule *r, const struct rule_subject *s, bool *out,
			 struct err *e);

/* Resource filters: "App_*" (every App), "Stream_<id>" (one), "App*" (every type whose name
 * starts with App), "*" (everything), comma-separated. */
NODISCARD int rules_filter_check(const char *filter, struct err *e);
bool rules_filter_matches(const char *filter, const char *type, const char *id);

#endif
