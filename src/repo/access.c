/* access.c: security rules on requests that carry a person (vouched for by a proxy).
 *
 * Services that present the site's client certificate act as the user they name with every
 * right, as QRS tools expect. A request a proxy vouched for is governed: every action it
 * takes on a resource must be granted by an enabled rule of category Security whose
 * resource filter matches and whose condition holds for the user and the resource (rules
 * only grant; any one suffices). Lists answer only what the user may read.
 *
 * Conditions read the user and the resource as their full JSON representations: a path
 * walks the object without case ("resource.stream.name"), "@Name" reads a custom property,
 * an object counts as its id (so "resource.owner = user" compares ids), a list as each of
 * its values. X.HasPrivilege(action) loads the referenced entity and asks the rules again,
 * at most three deep. */
#include "repo/repo_int.h"
#include "rules/rules.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 3

struct access_rule {
	struct rule *rule;
	char *filter;
	int64_t actions;
	char *id;
};

struct repo_access {
	json_t *user; /* the caller's user entity, full */
	json_t *memo; /* "Type:id:action" -> true/false: HasPrivilege answers of this request */
	struct access_rule *rules;
	int n;
};

static const struct {
	const char *name;
	int64_t bit;
} action_names[] = {
    {"create", ACT_CREATE}, {"read", ACT_READ},	    {"update", ACT_UPDATE},
    {"delete", ACT_DELETE}, {"export", ACT_EXPORT}, {"publish", ACT_PUBLISH},
    {"changeowner", 64},    {"changerole", 128},    {"exportdata", 256},
    {"duplicate", 2048},    {"approve", 4096},
};

static void access_free(void *p)
{
	struct repo_access *a = p;
	for (int i = 0; i < a->n; i++)
		rules_free(a->rules[i].rule);
	free(a->rules);
	json_decref(a->user);
	json_decref(a->memo);
}

struct rule_rows {
	struct repo_access *a;
	struct arena *ar;
	int cap;
};

static int on_rule(void *ctx, int n, const struct db_value *v)
{
	struct rule_rows *rr = ctx;
	struct repo_access *a = rr->a;
	if (n < 5)
		return 0;
	struct rule *r = NULL;
	struct err e;
	err_init(&e);
	if (rules_parse(v[1].s ? v[1].s : "", &r, &e) != 0) {
		log_warn("security rule \"%s\" does not parse and grants nothing: %s",
			 v[0].s ? v[0].s : "?", e.message);
		return 0;
	}
	if (a->n == rr->cap) {
		rr->cap = rr->cap ? rr->cap * 2 : 16;
		struct access_rule *grown = realloc(a->rules, (size_t)rr->cap * sizeof(*grown));
		if (!grown) {
			rules_free(r);
			return ERR_NOMEM;
		}
		a->rules = grown;
	}
	a->rules[a->n++] = (struct access_rule){r, arena_strdup(rr->ar, v[2].s ? v[2].s : ""),
						v[3].i, arena_strdup(rr->ar, v[4].s ? v[4].s : "")};
	return 0;
}

/* The enabled security rules, parsed, into a. */
static int load_rules(struct qrs *q, struct db_conn *c, struct repo_access *a)
{
	struct rule_rows rr = {a, q->a, 0};
	return db_exec(c,
		       "SELECT name, rule, resource_filter, actions, id FROM systemrule WHERE "
		       "lower(category) = 'security' AND disabled = 0 ORDER BY name",
		       NULL, on_rule, &rr, NULL, &q->err);
}

/* Adds the attributes a front door gave with the user (a list of {"name": "value"}) to
 * the user's JSON as lists of values, so that user.group and the like reach the rules. An
 * attribute never changes what the repository holds of the user (userId, roles, ...). */
static json_t *get_ci(json_t *o, const char *key, size_t n);

/* Calls each(ctx, name, value) for every text attribute of a front door's list
 * ([{"name": "value"}, ...], JSON text). False when `attrs` is NULL or not a list. */
static bool each_attribute(const char *attrs, void (*each)(void *ctx, const char *k, json_t *v),
			   void *ctx)
{
	json_t *list = attrs ? json_loads(attrs, 0, NULL) : NULL;
	bool is_list = json_is_array(list);
	size_t i;
	json_t *it;
	json_array_foreach (list, i, it) {
		const char *k;
		json_t *v;
		json_object_foreach (it, k, v) {
			if (json_is_string(v))
				each(ctx, k, v);
		}
	}
	json_decref(list);
	return is_list;
}

struct adding {
	json_t *user;
	json_t *added; /* the keys this made; no other one is touched */
};

static void add_one(void *ctx, const char *k, json_t *v)
{
	struct adding *ad = ctx;
	json_t *have = get_ci(ad->user, k, strlen(k));
	if (!have) {
		have = json_array();
		json_object_set_new(ad->user, k, have);
		json_object_set_new(ad->added, k, json_true());
	} else if (!json_object_get(ad->added, k)) {
		return;
	}
	json_array_append(have, v);
}

static void add_attributes(json_t *user, const char *attrs)
{
	struct adding ad = {user, json_object()};
	(void)each_attribute(attrs, add_one, &ad);
	json_decref(ad.added);
}

/* The attributes stored with the user (attributes: QRS's UserAttribute list) in a front
 * door's form, for a request whose session carries none; NULL when there are none. */
static char *front_door_attributes(json_t *user)
{
	json_t *list = json_object_get(user, "attributes");
	if (!json_array_size(list))
		return NULL;
	json_t *out = json_array();
	size_t i;
	json_t *it;
	json_array_foreach (list, i, it) {
		json_t *t = json_object_get(it, "attributeType"),
		       *v = json_object_get(it, "attributeValue");
		if (json_is_string(t) && json_is_string(v))
			json_array_append_new(out, json_pack("{s:O}", json_string_value(t), v));
	}
	char *text = json_dumps(out, JSON_COMPACT);
	json_decref(out);
	return text;
}

/* Loads the caller's user and the rules into q->access. */
static int load(struct qrs *q, const char *attrs)
{
	struct repo_access *a = arena_alloc(q->a, sizeof(*a));
	arena_on_free(q->a, access_free, a);
	struct db_conn *c;
	int rc = repo_qrs_begin(q, &c, false);
	if (rc)
		return rc;
	char id[128] = "";
	struct db_params p;
	db_params_init(&p);
	db_p_text(&p, q->user_dir);
	db_p_text(&p, q->user_id);
	rc = db_exec(c,
		     "SELECT id FROM users WHERE lower(user_directory) = lower($1) AND "
		     "lower(user_id) = lower($2)",
		     &p, repo_text_row, id, NULL, &q->err);
	if (rc == 0 && !id[0])
		rc = err_set(&q->err, ERR_FORBIDDEN, "the user %s is not in the repository",
			     q->user);
	if (rc == 0)
		rc = repo_crud_get(q, c, repo_entity_find("user"), id, &a->user);
	if (rc == 0) {
		char *stored = attrs ? NULL : front_door_attributes(a->user);
		add_attributes(a->user, attrs ? attrs : stored);
		free(stored);
	}
	if (rc == 0)
		rc = load_rules(q, c, a);
	rc = repo_qrs_end(q, c, rc);
	if (rc == 0)
		q->access = a;
	return rc;
}

int repo_access_begin(struct qrs *q)
{
	return q->req && http_req_vouched(q->req) ? load(q, http_req_vouched_attributes(q->req))
						  : 0;
}

/* ---------------------------------------------------------------- the subject */

struct eval {
	struct qrs *q;
	struct db_conn *c;
	const char *type;
	json_t *resource;
	int depth;
};

static json_t *get_ci(json_t *o, const char *key, size_t n)
{
	const char *k;
	json_t *v;
	json_object_foreach (o, k, v)
		if (strlen(k) == n && str_ieqn(k, key, n))
			return v;
	return NULL;
}

/* The values of custom property `name` of `o`. */
static void custom_values(json_t *o, const char *name, size_t n,
			  void (*each)(void *arg, const char *value), void *arg)
{
	size_t i;
	json_t *cp;
	json_array_foreach (get_ci(o, "customProperties", 16), i, cp) {
		const char *dn =
		    json_string_value(json_object_get(json_object_get(cp, "definition"), "name"));
		const char *val = json_string_value(json_object_get(cp, "value"));
		if (dn && val && strlen(dn) == n && str_ieqn(dn, name, n))
			each(arg, val);
	}
}

static void emit(json_t *v, void (*each)(void *arg, const char *value), void *arg)
{
	char num[32];
	if (json_is_string(v)) {
		each(arg, json_string_value(v));
	} else if (json_is_boolean(v)) {
		each(arg, json_is_true(v) ? "true" : "false");
	} else if (json_is_integer(v)) {
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
		each(arg, num);
	} else if (json_is_real(v)) {
		snprintf(num, sizeof(num), "%.17g", json_real_value(v));
		each(arg, num);
	} else if (json_is_object(v)) {
		emit(json_object_get(v, "id"), each, arg);
	} else if (json_is_array(v)) {
		size_t i;
		json_t *it;
		json_array_foreach (v, i, it)
			emit(it, each, arg);
	}
}

/* Walks `path` after its root from `o`; the value at its end, or NULL. A custom property
 * segment ("@Name") must be the last and is answered through each. */
static json_t *walk(json_t *o, const char *path, void (*each)(void *arg, const char *value),
		    void *arg, bool *done)
{
	*done = false;
	for (const char *s = path; o && *s;) {
		const char *dot = strchr(s, '.');
		size_t n = dot ? (size_t)(dot - s) : strlen(s);
		if (s[0] == '@') {
			if (!dot && each)
				custom_values(o, s + 1, n - 1, each, arg);
			*done = true;
			return NULL;
		}
		o = get_ci(o, s, n);
		s = dot ? dot + 1 : s + n;
	}
	return o;
}

static int subject_values(void *ctx, const char *path, void (*each)(void *arg, const char *value),
			  void *arg)
{
	struct eval *ev = ctx;
	json_t *root;
	const char *rest;
	if (str_ieqn(path, "resource", 8) && (path[8] == '.' || !path[8])) {
		root = ev->resource;
		rest = path[8] ? path + 9 : "";
		if (str_ieq(rest, "resourcetype")) {
			each(arg, ev->type);
			return 0;
		}
	} else if (str_ieqn(path, "user", 4) && (path[4] == '.' || !path[4])) {
		root = ev->q->access->user;
		rest = path[4] ? path + 5 : "";
	} else {
		return 0; /* node.* and environment.* have no values here */
	}
	bool done;
	json_t *v = walk(root, rest, each, arg, &done);
	if (!done)
		emit(v, each, arg);
	return 0;
}

/* The entity type a path segment names ("stream", "owner", "app"). */
static const struct entity_desc *segment_type(const char *path)
{
	const char *last = strrchr(path, '.');
	const char *seg = last ? last + 1 : path;
	if (str_ieq(seg, "owner"))
		return repo_entity_find("user");
	return repo_entity_find(seg);
}

static int check(struct eval *ev, int64_t action, bool *ok);

static int subject_privilege(void *ctx, const char *path, const char *action, bool *out)
{
	struct eval *ev = ctx;
	*out = false;
	int64_t bit = 0;
	for (size_t i = 0; i < ARRAY_LEN(action_names); i++)
		if (str_ieq(action, action_names[i].name))
			bit = action_names[i].bit;
	if (!bit || ev->depth >= MAX_DEPTH)
		return 0;
	if (str_ieq(path, "resource")) {
		struct eval same = *ev;
		same.depth++;
		return check(&same, bit, out);
	}
	if (!str_ieqn(path, "resource.", 9))
		return 0;
	bool done;
	json_t *ref = walk(ev->resource, path + 9, NULL, NULL, &done);
	const char *id = json_string_value(json_object_get(ref, "id"));
	const struct entity_desc *d = segment_type(path);
	if (!id || !d)
		return 0;
	/* a list of apps asks about the same few streams again and again */
	struct repo_access *a = ev->q->access;
	char key[160];
	snprintf(key, sizeof(key), "%s:%s:%lld", d->schema, id, (long long)bit);
	json_t *known = a->memo ? json_object_get(a->memo, key) : NULL;
	if (known) {
		*out = json_is_true(known);
		return 0;
	}
	json_t *full = NULL;
	struct err saved = ev->q->err;
	int rc = repo_crud_get(ev->q, ev->c, d, id, &full);
	if (rc == ERR_NOT_FOUND) {
		ev->q->err = saved;
		return 0;
	}
	if (rc)
		return rc;
	struct eval sub = {ev->q, ev->c, d->schema, full, ev->depth + 1};
	rc = check(&sub, bit, out);
	json_decref(full);
	if (rc == 0) {
		if (!a->memo)
			a->memo = json_object();
		json_object_set_new(a->memo, key, json_boolean(*out));
	}
	return rc;
}

static int check(struct eval *ev, int64_t action, bool *ok)
{
	*ok = false;
	struct repo_access *a = ev->q->access;
	const char *id = json_string_value(json_object_get(ev->resource, "id"));
	struct rule_subject s = {ev, subject_values, false, subject_privilege};
	for (int i = 0; i < a->n && !*ok; i++) {
		if (!(a->rules[i].actions & action) ||
		    !rules_filter_matches(a->rules[i].filter, ev->type, id ? id : ""))
			continue;
		int rc = rules_eval(a->rules[i].rule, &s, ok, &ev->q->err);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---------------------------------------------------------------- checks */

int repo_access_may(struct qrs *q, struct db_conn *c, const char *type, json_t *resource,
		    int64_t action, bool *ok)
{
	*ok = true;
	if (!q->access)
		return 0;
	struct eval ev = {q, c, type, resource, 0};
	return check(&ev, action, ok);
}

int repo_access_filter(struct qrs *q, struct db_conn *c, const struct entity_desc *d, json_t *arr)
{
	if (!q->access)
		return 0;
	for (size_t i = json_array_size(arr); i-- > 0;) {
		bool ok;
		int rc = repo_access_may(q, c, d->schema, json_array_get(arr, i), ACT_READ, &ok);
		if (rc)
			return rc;
		if (!ok)
			json_array_remove(arr, i);
	}
	return 0;
}

/* The rules evaluated for no resource in particular: a rule that reads the resource
 * (a property, IsOwned, Empty, HasPrivilege of resource...) stops with `touched`. */
struct probe {
	struct eval *ev;
	bool touched;
};

static bool of_resource(const char *path)
{
	return str_ieqn(path, "resource", 8) && (path[8] == 0 || path[8] == '.');
}

static int probe_values(void *ctx, const char *path, void (*each)(void *arg, const char *value),
			void *arg)
{
	struct probe *p = ctx;
	if (of_resource(path)) {
		p->touched = true;
		return ERR_INVALID;
	}
	return subject_values(p->ev, path, each, arg);
}

static int probe_privilege(void *ctx, const char *path, const char *action, bool *out)
{
	struct probe *p = ctx;
	if (of_resource(path)) {
		p->touched = true;
		return ERR_INVALID;
	}
	return subject_privilege(p->ev, path, action, out);
}

int repo_access_reads_all(struct qrs *q, struct db_conn *c, const struct entity_desc *d, bool *all)
{
	*all = true;
	struct repo_access *a = q->access;
	if (!a)
		return 0;
	*all = false;
	json_t *none = json_object();
	struct eval ev = {q, c, d->schema, none, 0};
	for (int i = 0; i < a->n && !*all; i++) {
		if (!(a->rules[i].actions & ACT_READ) ||
		    !rules_filter_matches(a->rules[i].filter, d->schema, NULL))
			continue;
		struct probe p = {&ev, false};
		struct rule_subject s = {&p, probe_values, false, probe_privilege};
		struct err saved = q->err;
		bool ok = false;
		int rc = rules_eval(a->rules[i].rule, &s, &ok, &q->err);
		if (p.touched) {
			q->err = saved; /* it depends on the resource: not for every one */
			continue;
		}
		if (rc) {
			json_decref(none);
			return rc;
		}
		*all = ok;
	}
	json_decref(none);
	return 0;
}

static const char *action_word(int64_t action)
{
	for (size_t i = 0; i < ARRAY_LEN(action_names); i++)
		if (action_names[i].bit == action)
			return action_names[i].name;
	return "use";
}

/* Refuses unless the caller may do `action` on entity `id` of `d` (NULL id: on the type). */
static int require(struct qrs *q, const struct entity_desc *d, const char *id, int64_t action)
{
	if (!d)
		return err_set(&q->err, ERR_FORBIDDEN, "this endpoint is for services only");
	struct db_conn *c;
	int rc = repo_qrs_begin(q, &c, false);
	if (rc)
		return rc;
	json_t *res = NULL;
	if (id && *id)
		rc = repo_crud_get(q, c, d, id, &res);
	else
		res = json_object();
	bool ok = false;
	if (rc == 0)
		rc = repo_access_may(q, c, d->schema, res, action, &ok);
	rc = repo_qrs_end(q, c, rc);
	json_decref(res);
	if (rc == 0 && !ok)
		rc = err_set(&q->err, ERR_FORBIDDEN, "%s may not %s %s%s%s", q->user,
			     action_word(action), d->schema, id ? " " : "s", id ? id : "");
	return rc;
}

/* What a specific (not generic) route needs: an action on its {id}, on an entity named by
 * a query parameter, or on the type. Routes not listed are for services only. */
static const struct {
	const char *method, *pattern, *type;
	int64_t action;
	const char *id_from; /* "{id}", a query parameter, or NULL for the type */
	const char *type2;   /* a second check, on the type (copy: create an app) */
	int64_t action2;
	const char *id2_from;
} special[] = {
    {"GET", "/qrs/about", NULL, 0, NULL, NULL, 0, NULL},
    {"GET", "/qrs/about/api/description", NULL, 0, NULL, NULL, 0, NULL},
    {"GET", "/qrs/about/api/enums", NULL, 0, NULL, NULL, 0, NULL},
    {"GET", "/tempcontent/{token}/{name}", NULL, 0, NULL, NULL, 0, NULL},
    {"POST", "/qrs/app/upload", "app", ACT_CREATE, NULL, NULL, 0, NULL},
    {"POST", "/qrs/app/upload/replace", "app", ACT_UPDATE, "targetappid", NULL, 0, NULL},
    {"POST", "/qrs/app/{id}/copy", "app", ACT_READ, "{id}", "app", ACT_CREATE, NULL},
    {"GET", "/qrs/app/{id}/export", "app", ACT_EXPORT, "{id}", NULL, 0, NULL},
    {"POST", "/qrs/app/{id}/export/{token}", "app", ACT_EXPORT, "{id}", NULL, 0, NULL},
    {"DELETE", "/qrs/app/{id}/export/{token}", "app", ACT_EXPORT, "{id}", NULL, 0, NULL},
    {"PUT", "/qrs/app/{id}/publish", "app", ACT_PUBLISH, "{id}", "stream", ACT_PUBLISH, "stream"},
    /* {id} is the source, read; ?app= the app overwritten, which needs update */
    {"PUT", "/qrs/app/{id}/replace", "app", ACT_READ, "{id}", "app", ACT_UPDATE, "app"},
    {"POST", "/qrs/app/{id}/reload", "app", ACT_UPDATE, "{id}", NULL, 0, NULL},
    {"GET", "/qrs/app/{id}/reload/log", "app", ACT_READ, "{id}", NULL, 0, NULL},
    {"GET", "/qrs/app/{id}/objects", "app", ACT_READ, "{id}", NULL, 0, NULL},
    {"POST", "/qrs/reloadtask/create", "reloadtask", ACT_CREATE, NULL, NULL, 0, NULL},
    {"GET", "/qrs/task", "reloadtask", ACT_READ, NULL, NULL, 0, NULL},
    {"GET", "/qrs/task/full", "reloadtask", ACT_READ, NULL, NULL, 0, NULL},
    {"POST", "/qrs/task/{id}/start", "reloadtask", ACT_UPDATE, "{id}", NULL, 0, NULL},
    {"POST", "/qrs/task/{id}/start/synchronous", "reloadtask", ACT_UPDATE, "{id}", NULL, 0, NULL},
    {"POST", "/qrs/task/{id}/stop", "reloadtask", ACT_UPDATE, "{id}", NULL, 0, NULL},
    {"GET", "/qrs/executionresult/{id}/scriptlog", "executionresult", ACT_READ, "{id}", NULL, 0,
     NULL},
    {"PUT", "/qrs/user/{id}/password", "user", ACT_UPDATE, "{id}", NULL, 0, NULL},
    {"POST", "/qrs/systemrule/security/audit", "systemrule", ACT_READ, NULL, NULL, 0, NULL},
    {"POST", "/qrs/systemrule/check", NULL, 0, NULL, NULL, 0, NULL},
    {"GET", "/qrs/servernodeconfiguration/local", "servernodeconfiguration", ACT_READ, NULL, NULL,
     0, NULL},
    {"GET", "/qrs/servernodeconfiguration/container", "servernodeconfiguration", ACT_READ, NULL,
     NULL, 0, NULL},
    {"POST", "/qrs/servernodeconfiguration/container", "servernodeconfiguration", ACT_CREATE, NULL,
     NULL, 0, NULL},
    {"GET", "/qrs/servernoderegistration/start/{id}", "servernodeconfiguration", ACT_UPDATE, "{id}",
     NULL, 0, NULL},
    {"POST", "/qrs/failover/tonode/{id}", "servernodeconfiguration", ACT_UPDATE, "{id}", NULL, 0,
     NULL},
    {"GET", "/qrs/servicestatus", "servernodeconfiguration", ACT_READ, NULL, NULL, 0, NULL},
    {"GET", "/qrs/about/site", "servernodeconfiguration", ACT_READ, NULL, NULL, 0, NULL},
    {"GET", "/qrs/servicestatus/full", "servernodeconfiguration", ACT_READ, NULL, NULL, 0, NULL},
    {"GET", "/qrs/servicestatus/count", "servernodeconfiguration", ACT_READ, NULL, NULL, 0, NULL},
    {"GET", "/qrs/proxyservice", "servernodeconfiguration", ACT_READ, NULL, NULL, 0, NULL},
    {"GET", "/qrs/proxyservice/full", "servernodeconfiguration", ACT_READ, NULL, NULL, 0, NULL},
    {"GET", "/qrs/proxyservice/count", "servernodeconfiguration", ACT_READ, NULL, NULL, 0, NULL},
    {"GET", "/qrs/proxyservice/local", "servernodeconfiguration", ACT_READ, NULL, NULL, 0, NULL},
    {"GET", "/qrs/proxyservice/{id}", "servernodeconfiguration", ACT_READ, "{id}", NULL, 0, NULL},
    {"PUT", "/qrs/proxyservice/{id}", "servernodeconfiguration", ACT_READ, "{id}", NULL, 0, NULL},
};

bool repo_access_route_open(const char *method, const char *pattern)
{
	for (size_t i = 0; i < ARRAY_LEN(special); i++)
		if (strcmp(special[i].method, method) == 0 &&
		    strcmp(special[i].pattern, pattern) == 0)
			return true;
	return false;
}

static const char *id_from(struct qrs *q, const char *from)
{
	if (!from)
		return NULL;
	return strcmp(from, "{id}") == 0 ? q->id : http_req_query(q->req, from);
}

int repo_access_gate(struct qrs *q)
{
	if (!q->access)
		return 0;
	const struct route *rt = q->route;
	const char *m = rt->method;
	if (rt->flags & R_GENERIC) {
		if (q->desc->flags & E_INTERNAL)
			return err_set(&q->err, ERR_FORBIDDEN,
				       "this endpoint is for services only");
		if (strcmp(m, "GET") == 0 || strcmp(rt->pattern, "/qrs/{type}/table") == 0)
			return q->id ? require(q, q->desc, q->id, ACT_READ) : 0; /* lists filter */
		if (strcmp(m, "PUT") == 0)
			return require(q, q->desc, q->id, ACT_UPDATE);
		if (strcmp(m, "DELETE") == 0)
			return require(q, q->desc, q->id, ACT_DELETE);
		return require(q, q->desc, NULL, ACT_CREATE);
	}
	for (size_t i = 0; i < ARRAY_LEN(special); i++) {
		if (strcmp(special[i].method, m) != 0 ||
		    strcmp(special[i].pattern, rt->pattern) != 0)
			continue;
		if (!special[i].type)
			return 0;
		int rc = require(q, repo_entity_find(special[i].type),
				 id_from(q, special[i].id_from), special[i].action);
		if (rc == 0 && special[i].type2)
			rc = require(q, repo_entity_find(special[i].type2),
				     id_from(q, special[i].id2_from), special[i].action2);
		return rc;
	}
	return err_set(&q->err, ERR_FORBIDDEN, "this endpoint is for services only");
}

int repo_access_condense(struct qrs *q, struct db_conn *c, const struct entity_desc *d,
			 const char *filter, const char *orderby, json_t **arr)
{
	json_t *allowed = json_object();
	size_t i;
	json_t *it;
	json_array_foreach (*arr, i, it) {
		const char *id = json_string_value(json_object_get(it, "id"));
		if (id)
			json_object_set_new(allowed, id, json_true());
	}
	json_t *condensed = NULL;
	int rc = repo_crud_list(q, c, d, filter, orderby, VIEW_CONDENSED, &condensed);
	for (size_t k = json_array_size(condensed); rc == 0 && k-- > 0;) {
		const char *id =
		    json_string_value(json_object_get(json_array_get(condensed, k), "id"));
		if (!id || !json_object_get(allowed, id))
			json_array_remove(condensed, k);
	}
	json_decref(allowed);
	if (rc)
		return rc;
	json_decref(*arr);
	*arr = condensed;
	return 0;
}

int repo_user_may(struct repo *r, const char *user, const char *attrs, const char *type,
		  const char *id, int64_t action, bool *ok, struct err *e)
{
	*ok = false;
	const struct entity_desc *d = repo_entity_find(type);
	if (!d)
		return err_set(e, ERR_INVALID, "no entity type \"%s\"", type);
	struct arena *a = arena_new();
	struct qrs q;
	repo_qrs_local_init(&q, r, a, NULL);
	int rc = repo_qrs_parse_user(&q, user);
	if (rc == 0)
		rc = load(&q, attrs);
	struct db_conn *c = NULL;
	json_t *res = NULL;
	if (rc == 0 && (rc = repo_qrs_begin(&q, &c, false)) == 0) {
		rc = repo_crud_get(&q, c, d, id, &res);
		if (rc == 0)
			rc = repo_access_may(&q, c, d->schema, res, action, ok);
		rc = repo_qrs_end(&q, c, rc);
	}
	json_decref(res);
	if (rc)
		*e = q.err;
	arena_free(a);
	return rc;
}

int repo_user_ensure(struct repo *r, const char *dir, const char *id,
		     char out_ref[UUID_STR_LEN + 1], struct err *e)
{
	struct arena *a = arena_new();
	struct qrs q;
	repo_qrs_local_init(&q, r, a, NULL);
	q.user_dir = dir;
	q.user_id = id;
	q.user = arena_printf(a, "%s\\%s", dir, id);
	struct db_conn *c;
	int rc = repo_qrs_begin(&q, &c, true);
	if (rc == 0) {
		rc = repo_crud_caller_user(&q, c, out_ref);
		rc = repo_qrs_end(&q, c, rc);
	}
	if (rc)
		*e = q.err;
	arena_free(a);
	return rc;
}

/* A front door's attributes ([{"type": "value"}, ...]) as QRS's UserAttribute list. NULL
 * for NULL or something else than a list. */
static void qrs_attribute(void *ctx, const char *k, json_t *v)
{
	json_array_append_new(ctx, json_pack("{s:s,s:O,s:s}", "attributeType", k, "attributeValue",
					     v, "externalId", ""));
}

static char *user_attributes(const char *attrs)
{
	json_t *out = json_array();
	char *text =
	    each_attribute(attrs, qrs_attribute, out) ? json_dumps(out, JSON_COMPACT) : NULL;
	json_decref(out);
	return text;
}

int repo_user_sync(struct repo *r, const char *ref, const char *name, const char *attrs,
		   struct err *e)
{
	char *stored = user_attributes(attrs);
	if (attrs && !stored)
		return err_set(e, ERR_INVALID, "the attributes are not a list");
	struct arena *a = arena_new();
	struct qrs q;
	repo_qrs_local_init(&q, r, a, NULL);
	struct db_conn *c;
	int rc = repo_qrs_begin(&q, &c, true);
	if (rc == 0) {
		char now[ISO_TIME_LEN + 1];
		time_format_iso(time_now_ms(), now);
		struct db_params p;
		db_params_init(&p);
		db_p_text(&p, ref);
		db_p_text(&p, name);
		db_p_text(&p, stored);
		db_p_text(&p, now);
		int64_t n = 0;
		rc =
		    db_exec(c,
			    "UPDATE users SET name = coalesce($2, name), attributes = coalesce($3, "
			    "attributes), modified_date = $4 WHERE id = $1 AND (coalesce(name, '') "
			    "<> coalesce($2, name, '') OR coalesce(attributes, '') <> coalesce($3, "
			    "attributes, ''))",
			    &p, NULL, NULL, &n, &q.err);
		if (rc == 0 && n > 0)
			rc = repo_crud_log_change(&q, c, repo_entity_find("user"), ref, "update");
		rc = repo_qrs_end(&q, c, rc);
	}
	if (rc)
		*e = q.err;
	free(stored);
	arena_free(a);
	return rc;
}

int repo_api_user_password(struct qrs *q)
{
	if (!q->repo->password_set)
		return err_set(&q->err, ERR_METHOD, "this node keeps no passwords");
	json_t *body;
	int rc = repo_qrs_body_json(q, &body);
	if (rc)
		return rc;
	const char *pw = json_string_value(json_object_get(body, "password"));
	struct db_conn *c;
	json_t *user = NULL;
	if (!pw || strlen(pw) != json_string_length(json_object_get(body, "password")))
		rc = err_set(&q->err, ERR_FIELD, "field \"password\" is required: text");
	if (rc == 0 && (rc = repo_qrs_begin(q, &c, false)) == 0) {
		rc = repo_crud_get(q, c, repo_entity_find("user"), q->id, &user);
		rc = repo_qrs_end(q, c, rc);
	}
	const char *dir = json_string_value(json_object_get(user, "userDirectory"));
	if (rc == 0 && (!dir || !str_ieq(dir, "INTERNAL")))
		rc = err_set(&q->err, ERR_FIELD,
			     "only users of the INTERNAL directory sign in with a password");
	if (rc == 0)
		rc = q->repo->password_set(q->repo->db, q->id, pw, &q->err);
	if (rc == 0) {
		log_info("%s set the password of %s\\%s", q->user, dir,
			 json_string_value(json_object_get(user, "userId")));
		http_respond(q->req, 204, NULL, "", 0);
	}
	json_decref(user);
	json_decref(body);
	return rc;
}

/* ---------------------------------------------------------------- the syntax check */

/* {"rule": "...", "resourceFilter": "..."} -> {"valid": true} or {"valid": false, "field":
 * "rule", "message": "...", "position": N}: what saving the rule would say, without saving
 * it, so an editor can check as the administrator types. */
int repo_api_rule_check(struct qrs *q)
{
	json_t *body = NULL;
	int rc = repo_qrs_body_json(q, &body);
	if (rc == 0 && !json_is_object(body))
		rc = err_set(&q->err, ERR_FIELD,
			     "the body must be an object with rule and "
			     "resourceFilter");
	if (rc) {
		json_decref(body);
		return rc;
	}
	const char *text = json_string_value(json_object_get(body, "rule"));
	const char *filter = json_string_value(json_object_get(body, "resourceFilter"));
	struct err e;
	err_init(&e);
	const char *field = NULL;
	struct rule *r = NULL;
	if (text && rules_parse(text, &r, &e) != 0)
		field = "rule";
	rules_free(r);
	if (!field && filter && rules_filter_check(filter, &e) != 0)
		field = "resourceFilter";
	json_t *out = json_pack("{s:b}", "valid", !field);
	if (field) {
		json_object_set_new(out, "field", json_string(field));
		json_object_set_new(out, "message", json_string(e.message));
		if (e.position > 0)
			json_object_set_new(out, "position", json_integer(e.position));
	}
	json_decref(body);
	return repo_qrs_reply(q, 0, 200, out);
}

/* ---------------------------------------------------------------- the audit */

static int64_t body_int(json_t *body, const char *key, int64_t dflt, int64_t max)
{
	json_t *v = json_object_get(body, key);
	int64_t n = json_is_integer(v) ? json_integer_value(v) : dflt;
	return n < 0 ? 0 : n > max ? max : n;
}

/* Keeps arr[skip, skip + take) of a list. */
static void window(json_t *arr, int64_t skip, int64_t take)
{
	for (size_t i = json_array_size(arr); i-- > 0;)
		if ((int64_t)i < skip || (int64_t)i >= skip + take)
			json_array_remove(arr, i);
}

static int audit_list(struct qrs *q, struct db_conn *c, const struct entity_desc *d, json_t *body,
		      const char *filter_key, const char *skip_key, const char *take_key,
		      json_t **out)
{
	const char *filter = json_string_value(json_object_get(body, filter_key));
	int rc = repo_crud_list(q, c, d, filter, NULL, VIEW_FULL, out);
	if (rc == 0)
		window(*out, body_int(body, skip_key, 0, 1 << 30),
		       body_int(body, take_key, 100, 1000));
	return rc;
}

/* Every (user, resource, rule) whose rule's filter matches: whether the rule grants its
 * actions to that user on that resource. Users and resources are picked by QRS filters. */
static int audit(struct qrs *q, struct db_conn *c, json_t *body, json_t *out)
{
	const char *type = json_string_value(json_object_get(body, "resourceType"));
	const struct entity_desc *d = NULL;
	for (int i = 0; type && i < repo_n_entities && !d; i++)
		if (str_ieq(repo_entities[i]->schema, type) &&
		    !(repo_entities[i]->flags & E_INTERNAL))
			d = repo_entities[i];
	if (!d)
		return err_set(&q->err, ERR_FIELD,
			       "resourceType must name an entity type (\"App\")");
	bool all = json_is_true(json_object_get(body, "includeNonGrantingRules"));
	struct repo_access a = {0};
	json_t *users = NULL, *res = NULL;
	int rc = load_rules(q, c, &a);
	if (rc == 0)
		rc = audit_list(q, c, repo_entity_find("user"), body, "userFilter", "userSkip",
				"userTake", &users);
	if (rc == 0)
		rc = audit_list(q, c, d, body, "resourceFilter", "resourceSkip", "resourceTake",
				&res);
	json_t *ou = json_object(), *orr = json_object(), *orules = json_object(),
	       *apps = json_array();
	struct repo_access *saved = q->access;
	q->access = &a;
	size_t iu, ir;
	json_t *u, *r;
	json_array_foreach (rc == 0 ? users : NULL, iu, u) {
		a.user = u;
		json_decref(a.memo); /* what a stream grants depends on the user */
		a.memo = NULL;
		json_array_foreach (res, ir, r) {
			const char *rid = json_string_value(json_object_get(r, "id"));
			struct eval ev = {q, c, d->schema, r, 0};
			struct rule_subject sub = {&ev, subject_values, false, subject_privilege};
			for (int k = 0; rc == 0 && k < a.n; k++) {
				if (!rules_filter_matches(a.rules[k].filter, d->schema,
							  rid ? rid : ""))
					continue;
				bool ok = false;
				rc = rules_eval(a.rules[k].rule, &sub, &ok, &q->err);
				if (rc || (!ok && !all))
					continue;
				json_array_append_new(
				    apps,
				    json_pack("{s:O, s:s, s:s, s:b, s:I, s:s}", "userID",
					      json_object_get(u, "id"), "resourceID",
					      rid ? rid : "", "ruleID", a.rules[k].id, "allowed",
					      ok, "actions", (json_int_t)a.rules[k].actions,
					      "evaluationState", "evaluated"));
				json_object_set(orules, a.rules[k].id, json_null());
			}
			json_object_set_new(orr, rid ? rid : "",
					    json_pack("{s:O}", "name", json_object_get(r, "name")));
		}
		json_object_set_new(ou, json_string_value(json_object_get(u, "id")),
				    json_pack("{s:O, s:O, s:O}", "userId",
					      json_object_get(u, "userId"), "userDirectory",
					      json_object_get(u, "userDirectory"), "name",
					      json_object_get(u, "name")));
	}
	q->access = saved;
	a.user = NULL;
	access_free(&a);
	json_decref(users);
	json_decref(res);
	json_object_set_new(out, "users", ou);
	json_object_set_new(out, "resources", orr);
	json_object_set_new(out, "rules", orules);
	json_object_set_new(out, "ruleApplication", apps);
	return rc;
}

/* The rules' own fields for the audit's "rules" map. */
static int audit_rules(struct qrs *q, struct db_conn *c, json_t *out)
{
	json_t *rules = json_object_get(out, "rules");
	const char *id;
	json_t *v;
	int rc = 0;
	json_object_foreach (rules, id, v) {
		json_t *full = NULL;
		rc = repo_crud_get(q, c, repo_entity_find("systemrule"), id, &full);
		if (rc)
			break;
		json_object_set_new(rules, id,
				    json_pack("{s:O, s:O, s:O, s:O, s:O}", "name",
					      json_object_get(full, "name"), "type",
					      json_object_get(full, "type"), "rule",
					      json_object_get(full, "rule"), "resourceFilter",
					      json_object_get(full, "resourceFilter"), "actions",
					      json_object_get(full, "actions")));
		json_decref(full);
	}
	return rc;
}

int repo_api_rule_audit(struct qrs *q)
{
	json_t *body;
	int rc = repo_qrs_body_json(q, &body);
	if (rc)
		return rc;
	json_t *out = json_object();
	struct db_conn *c;
	if ((rc = repo_qrs_begin(q, &c, false)) == 0) {
		rc = audit(q, c, body, out);
		if (rc == 0)
			rc = audit_rules(q, c, out);
		rc = repo_qrs_end(q, c, rc);
	}
	json_decref(body);
	return repo_qrs_reply(q, rc, 200, out);
}
