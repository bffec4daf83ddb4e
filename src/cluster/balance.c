/* balance.c: load-balancing rules, the Sync system rules that say which engine nodes may
 * reload or serve an app. A rule applies to an app when its resource filter matches
 * App_<id>; a node may take the app when any applying rule holds with the app as
 * `resource` and the node as `node`. No applying rule: every engine node may. */
#include "cluster/cluster.h"
#include "rules/rules.h"

#include <stdlib.h>
#include <string.h>

struct bnode {
	char id[UUID_STR_LEN + 1];
	char *name, *host, *purpose;
	bool central, engine;
};

struct brule {
	char *filter;
	struct rule *rule;
};

struct cluster_balance {
	struct bnode *nodes;
	int n_nodes;
	struct brule *rules;
	int n_rules;
};

/* The app being decided, read once per decision. */
struct bapp {
	char id[UUID_STR_LEN + 1];
	char *name, *stream_id, *stream_name;
	bool loaded, exists;
};

struct subj {
	struct db_conn *c;
	struct bapp *app;
	const struct bnode *node;
	int rc;
	struct err *e;
};

static const char *const purpose_names[] = {"Production", "Development", "Both"};

static int node_row(void *ctx, int n, const struct db_value *c)
{
	struct cluster_balance *b = ctx;
	if (n < 6 || c[0].type != DBV_TEXT)
		return 0;
	struct bnode *nn = realloc(b->nodes, sizeof(*nn) * (size_t)(b->n_nodes + 1));
	if (!nn)
		return ERR_NOMEM;
	b->nodes = nn;
	struct bnode *x = &b->nodes[b->n_nodes++];
	memset(x, 0, sizeof(*x));
	str_copy(x->id, c[0].s, sizeof(x->id));
	x->name = strdup(c[1].type == DBV_TEXT ? c[1].s : "");
	x->host = strdup(c[2].type == DBV_TEXT ? c[2].s : "");
	x->central = c[3].i != 0;
	x->purpose = strdup(purpose_names[c[4].i >= 0 && c[4].i <= 2 ? c[4].i : 0]);
	x->engine = c[5].i != 0;
	return 0;
}

struct rule_load {
	struct cluster_balance *b;
	struct err *e;
};

static int rule_row(void *ctx, int n, const struct db_value *c)
{
	struct rule_load *l = ctx;
	if (n < 2)
		return 0;
	struct brule *nr = realloc(l->b->rules, sizeof(*nr) * (size_t)(l->b->n_rules + 1));
	if (!nr)
		return ERR_NOMEM;
	l->b->rules = nr;
	struct brule *r = &l->b->rules[l->b->n_rules];
	memset(r, 0, sizeof(*r));
	struct err pe;
	err_init(&pe);
	/* a stored rule that no longer parses (none should) applies to nothing */
	if (rules_parse(c[0].type == DBV_TEXT ? c[0].s : "", &r->rule, &pe) != 0) {
		log_warn("load balancing: a Sync rule does not parse (%s); it is ignored",
			 pe.message);
		return 0;
	}
	r->filter = strdup(c[1].type == DBV_TEXT ? c[1].s : "");
	l->b->n_rules++;
	return 0;
}

int cluster_balance_load(struct db_conn *c, struct cluster_balance **out, struct err *e)
{
	struct cluster_balance *b = calloc(1, sizeof(*b));
	if (!b)
		return err_set(e, ERR_NOMEM, "out of memory");
	int rc =
	    db_exec(c,
		    "SELECT id, name, host_name, is_central, node_purpose, engine_enabled FROM "
		    "servernodeconfiguration WHERE id NOT IN (SELECT node_id FROM "
		    "node_registration) ORDER BY name",
		    NULL, node_row, b, NULL, e);
	struct rule_load rl = {b, e};
	if (rc == 0)
		rc = db_exec(c,
			     "SELECT rule, resource_filter FROM systemrule WHERE lower(category) = "
			     "'sync' AND disabled = 0 ORDER BY name",
			     NULL, rule_row, &rl, NULL, e);
	if (rc == ERR_NOMEM)
		err_set(e, ERR_NOMEM, "out of memory");
	if (rc) {
		cluster_balance_free(b);
		return rc;
	}
	*out = b;
	return 0;
}

void cluster_balance_free(struct cluster_balance *b)
{
	if (!b)
		return;
	for (int i = 0; i < b->n_nodes; i++) {
		free(b->nodes[i].name);
		free(b->nodes[i].host);
		free(b->nodes[i].purpose);
	}
	for (int i = 0; i < b->n_rules; i++) {
		free(b->rules[i].filter);
		rules_free(b->rules[i].rule);
	}
	free(b->nodes);
	free(b->rules);
	free(b);
}

static int app_row(void *ctx, int n, const struct db_value *c)
{
	struct bapp *a = ctx;
	a->exists = true;
	a->name = strdup(n > 0 && c[0].type == DBV_TEXT ? c[0].s : "");
	a->stream_id = n > 1 && c[1].type == DBV_TEXT ? strdup(c[1].s) : NULL;
	a->stream_name = n > 2 && c[2].type == DBV_TEXT ? strdup(c[2].s) : NULL;
	return 0;
}

static void app_release(struct bapp *a)
{
	free(a->name);
	free(a->stream_id);
	free(a->stream_name);
}

struct cp_each {
	void (*each)(void *arg, const char *value);
	void *arg;
};

static int cp_row(void *ctx, int n, const struct db_value *c)
{
	struct cp_each *ce = ctx;
	if (n > 0 && c[0].type == DBV_TEXT)
		ce->each(ce->arg, c[0].s);
	return 0;
}

/* Custom property `name` of object (type, id). */
static int cp_values(struct subj *s, const char *type, const char *id, const char *name,
		     void (*each)(void *arg, const char *value), void *arg)
{
	struct db_params p;
	db_params_init(&p);
	db_p_text(&p, type);
	db_p_text(&p, id);
	db_p_text(&p, name);
	struct cp_each ce = {each, arg};
	return db_exec(s->c,
		       "SELECT v.value FROM custom_property_value v JOIN custompropertydefinition "
		       "d ON d.id = v.definition_id WHERE v.object_type = $1 AND v.object_id = $2 "
		       "AND lower(d.name) = lower($3)",
		       &p, cp_row, &ce, NULL, s->e);
}

static int values(void *ctx, const char *path, void (*each)(void *arg, const char *value),
		  void *arg)
{
	struct subj *s = ctx;
	if (strncmp(path, "node.", 5) == 0) {
		const char *k = path + 5;
		const struct bnode *nd = s->node;
		if (k[0] == '@')
			return cp_values(s, "ServerNodeConfiguration", nd->id, k + 1, each, arg);
		if (str_ieq(k, "id"))
			each(arg, nd->id);
		else if (str_ieq(k, "name"))
			each(arg, nd->name);
		else if (str_ieq(k, "hostname"))
			each(arg, nd->host);
		else if (str_ieq(k, "iscentral"))
			each(arg, nd->central ? "true" : "false");
		else if (str_ieq(k, "nodepurpose"))
			each(arg, nd->purpose);
		else if (str_ieq(k, "engineenabled"))
			each(arg, nd->engine ? "true" : "false");
		return 0;
	}
	if (strncmp(path, "resource.", 9) == 0) {
		const char *k = path + 9;
		struct bapp *a = s->app;
		if (str_ieq(k, "resourcetype")) {
			each(arg, "App");
			return 0;
		}
		if (str_ieq(k, "id")) {
			each(arg, a->id);
			return 0;
		}
		if (!a->loaded) {
			a->loaded = true;
			struct db_params p;
			db_params_init(&p);
			db_p_text(&p, a->id);
			int rc = db_exec(s->c,
					 "SELECT a.name, a.stream_id, s.name FROM app a LEFT JOIN "
					 "stream s ON s.id = a.stream_id WHERE a.id = $1",
					 &p, app_row, a, NULL, s->e);
			if (rc)
				return s->rc = rc;
		}
		if (k[0] == '@')
			return cp_values(s, "App", a->id, k + 1, each, arg);
		if (str_ieq(k, "name") && a->name)
			each(arg, a->name);
		else if (str_ieq(k, "stream.name") && a->stream_name)
			each(arg, a->stream_name);
		else if (str_ieq(k, "stream.id") && a->stream_id)
			each(arg, a->stream_id);
		return 0;
	}
	return 0; /* user.* and others: no values when a node decides */
}

static int decide(struct cluster_balance *b, struct subj *s, const struct bnode *nd, bool *out)
{
	*out = false;
	if (!nd->engine)
		return 0;
	s->node = nd;
	struct rule_subject rs = {.ctx = s, .values = values, .anonymous = false};
	bool any = false;
	for (int i = 0; i < b->n_rules; i++) {
		if (!rules_filter_matches(b->rules[i].filter, "App", s->app->id))
			continue;
		any = true;
		bool ok = false;
		int rc = rules_eval(b->rules[i].rule, &rs, &ok, s->e);
		if (rc == 0 && s->rc)
			rc = s->rc;
		if (rc)
			return rc;
		if (ok) {
			*out = true;
			return 0;
		}
	}
	*out = !any;
	return 0;
}

int cluster_balance_allows(struct cluster_balance *b, struct db_conn *c, const char *app_id,
			   const char *node_id, bool *out, struct err *e)
{
	*out = false;
	struct bapp app = {0};
	str_copy(app.id, app_id, sizeof(app.id));
	struct subj s = {.c = c, .app = &app, .e = e};
	int rc = 0;
	for (int i = 0; i < b->n_nodes && rc == 0; i++)
		if (str_ieq(b->nodes[i].id, node_id))
			rc = decide(b, &s, &b->nodes[i], out);
	app_release(&app);
	return rc;
}

int cluster_balance_nodes(struct cluster_balance *b, struct db_conn *c, const char *app_id,
			  void (*each)(void *ctx, const char *node_id), void *ctx, struct err *e)
{
	struct bapp app = {0};
	str_copy(app.id, app_id, sizeof(app.id));
	struct subj s = {.c = c, .app = &app, .e = e};
	int rc = 0;
	for (int i = 0; i < b->n_nodes && rc == 0; i++) {
		bool ok = false;
		rc = decide(b, &s, &b->nodes[i], &ok);
		if (rc == 0 && ok)
			each(ctx, b->nodes[i].id);
	}
	app_release(&app);
	return rc;
}
