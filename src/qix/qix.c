/* qix.c: the JSON-RPC envelope of QIX sessions (qix.md section 1) and the dispatch of a
 * request to its method. Methods are data: tables of {class, name, handler, arity} in
 * qix_app.c (Global, Doc) and qix_object.c (GenericObject, Field). */
#include "qix/qix_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- the method table */

static const struct qix_method *const tables[] = {
    qix_app_methods,	  qix_object_methods,  qix_tree_methods, qix_bookmark_methods,
    qix_variable_methods, qix_library_methods, qix_field_methods};

static const char *const class_names[] = {[QIX_GLOBAL] = "Global",
					  [QIX_DOC] = "Doc",
					  [QIX_OBJECT] = "GenericObject",
					  [QIX_FIELD] = "Field"};

static const struct qix_method *find_method(enum qix_class cls, const char *name)
{
	for (size_t t = 0; t < ARRAY_LEN(tables); t++)
		for (const struct qix_method *m = tables[t]; m->name; m++)
			if (m->cls == cls && strcmp(m->name, name) == 0)
				return m;
	return NULL;
}

void qix_method_list(void (*each)(void *ctx, const char *cls, const char *name, int arity),
		     void *ctx)
{
	for (size_t t = 0; t < ARRAY_LEN(tables); t++)
		for (const struct qix_method *m = tables[t]; m->name; m++)
			each(ctx, class_names[m->cls], m->name, m->arity);
}

/* Methods that change the app itself (what a DoSave stores), by class. Bookmarks decide
 * for themselves: a person who may only read the app makes private ones (qix_bookmark.c). */
static const char *const doc_writes[] = {"SetAppProperties",
					 "SetScript",
					 "DoSave",
					 "DoReload",
					 "DoReloadEx",
					 "CreateObject",
					 "DestroyObject",
					 "CreateVariableEx",
					 "DestroyVariableById",
					 "DestroyVariableByName",
					 "CreateDimension",
					 "CreateMeasure",
					 "DestroyDimension",
					 "DestroyMeasure",
					 NULL};
static const char *const object_writes[] = {
    "SetProperties",	  "SetFullPropertyTree", "ApplyPatches", "CreateChild", "DestroyChild",
    "DestroyAllChildren", "SetStringValue",	 "SetNumValue",	 NULL};

static bool in(const char *const *list, const char *name)
{
	for (; *list; list++)
		if (strcmp(*list, name) == 0)
			return true;
	return false;
}

/* How long a session keeps the rules' answer: a rule edit takes effect within this. */
#define MAY_UPDATE_TTL_MS 2000

/* A person's session changes the app only when the security rules let them update it
 * (an app published to a stream is its owner's no more: the default rules say no). The
 * answer is kept for two seconds: every layout of the app says it (qReadOnly), and asking
 * the rules reads the user and every rule from the database. */
bool qix_may_update(struct qix_session *s)
{
	const struct qix_env *env = &s->q->cfg.env;
	if (!s->governed || !env->may_update || !s->doc)
		return true;
	int64_t now = time_mono_ms();
	if (s->may_known && now - s->may_at < MAY_UPDATE_TTL_MS)
		return s->may_ok;
	struct err e;
	err_init(&e);
	bool ok = false;
	s->may_failed = false;
	if (env->may_update(env->ctx, s->user, s->attrs, s->doc->id, &ok, &e) != 0) {
		log_warn("engine: may %s change %s? %s", s->user, s->doc->id, e.message);
		s->may_failed = true;
		return false;
	}
	s->may_known = true;
	s->may_ok = ok;
	s->may_at = now;
	return ok;
}

int qix_may_write(struct qix_call *c)
{
	if (qix_may_update(c->s))
		return 0;
	if (c->s->may_failed) {
		c->msg = "the repository database is not answering; try again";
		return QIX_UNAVAILABLE;
	}
	log_info("engine: %s by %s refused by the security rules", c->method, c->s->user);
	c->msg = "Access denied";
	return QIX_ACCESS_DENIED;
}

/* GenericObject methods work on the object's stored and effective properties. */
static int object_call(const struct qix_method *m, struct qix_call *c)
{
	c->stored = qix_sess_object_props(c->s, c->h->id, &c->session_obj);
	if (!c->stored) {
		c->msg = "Object not found";
		return QIX_NOT_FOUND;
	}
	bool soft = json_is_true(qix_param(c->params, 1, "qSoftPatch"));
	int denied = !c->session_obj && !soft && in(object_writes, m->name) ? qix_may_write(c) : 0;
	if (denied) {
		json_decref(c->stored);
		return denied;
	}
	c->eff = qix_obj_effective(c->s, c->h);
	c->s->cur_obj = c->h->id;
	int rc = m->fn(c);
	c->s->cur_obj = NULL;
	json_decref(c->stored);
	json_decref(c->eff);
	return rc;
}

/* Field methods work on the field's index in the session's data. */
static int field_call(const struct qix_method *m, struct qix_call *c)
{
	const struct assoc *a = c->s->data ? c->s->data->a : NULL;
	c->field = a ? model_assoc_field(a, c->h->id) : -1;
	if (c->field < 0) {
		c->msg = "the field is no longer in the app";
		return QIX_NOT_FOUND;
	}
	return m->fn(c);
}

static int dispatch(struct qix_call *c)
{
	enum qix_class cls = !c->h		     ? QIX_GLOBAL
			     : c->h->kind == H_DOC   ? QIX_DOC
			     : c->h->kind == H_FIELD ? QIX_FIELD
						     : QIX_OBJECT;
	const struct qix_method *m = find_method(cls, c->method);
	if (!m) {
		c->msg = c->method;
		return QIX_NO_METHOD;
	}
	if (json_is_array(c->params) && json_array_size(c->params) > (size_t)m->arity) {
		c->msg = "too many parameters";
		return QIX_INVALID_PARAMS;
	}
	if (cls == QIX_DOC && in(doc_writes, m->name)) {
		int denied = qix_may_write(c);
		if (denied)
			return denied;
	}
	switch (cls) {
	case QIX_OBJECT: return object_call(m, c);
	case QIX_FIELD: return field_call(m, c);
	default: return m->fn(c);
	}
}

/* ---------------------------------------------------------------- the envelope */

static const char *code_message(int code)
{
	switch (code) {
	case QIX_PARSE: return "Parse error";
	case QIX_INVALID_REQUEST: return "Invalid Request";
	case QIX_NO_METHOD: return "Method not found";
	case QIX_INVALID_PARAMS: return "Invalid params";
	case QIX_NOT_FOUND: return "Object not found";
	case QIX_INVALID_PARAMETER: return "Invalid parameter";
	case QIX_ABORTED: return "Request aborted";
	case QIX_APP_ALREADY_OPEN: return "App already open";
	case QIX_APP_NOT_FOUND: return "App not found";
	case QIX_ACCESS_DENIED: return "Access denied";
	case QIX_APP_INVALID: return "App invalid";
	case QIX_MODAL: return "Object is already in modal state";
	case QIX_UNAVAILABLE: return "Service unavailable";
	default: return "Internal error";
	}
}

static void reply(struct qix_session *s, json_t *id, int code, const char *msg, json_t *result,
		  json_t *closed)
{
	if (!id) { /* a notification: no answer */
		json_decref(result);
		return;
	}
	json_t *r = json_pack("{s:s,s:O}", "jsonrpc", "2.0", "id", id);
	if (code || !result) {
		json_object_set_new(r, "error",
				    json_pack("{s:i,s:s,s:s}", "code", code ? code : QIX_INTERNAL,
					      "parameter", msg ? msg : "", "message",
					      code_message(code)));
		json_decref(result);
	} else {
		json_object_set_new(r, "result", result);
	}
	json_t *change = json_array();
	for (int i = 0; i < s->n_h; i++) {
		bool listed = false;
		for (int k = 0; k < s->n_changed && !listed; k++)
			listed = s->changed[k] == s->h[i].num;
		bool every = s->h[i].kind != H_FIELD &&
			     (s->all_changed ||
			      (s->states_changed && !qix_obj_apart_from_states(s, &s->h[i])));
		if (listed || every)
			json_array_append_new(change, json_integer(s->h[i].num));
	}
	if (json_array_size(change))
		json_object_set(r, "change", change);
	json_decref(change);
	if (json_array_size(closed))
		json_object_set(r, "close", closed);
	qix_sess_send(s, r);
	json_decref(r);
}

void qix_session_message(struct qix_session *s, const char *text, size_t len)
{
	json_error_t je;
	json_t *req = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	json_t *null_id = json_null();
	if (!req) {
		reply(s, null_id, QIX_PARSE, je.text, NULL, NULL);
		json_decref(null_id);
		return;
	}
	json_t *id = json_object_get(req, "id");
	json_t *jm = json_object_get(req, "method"), *jh = json_object_get(req, "handle");
	json_t *p = json_object_get(req, "params");
	s->n_changed = 0;
	s->all_changed = s->states_changed = false;
	struct qix_call c = {.s = s, .closed = json_array()};
	int code = 0;
	if (!json_is_object(req) || !json_is_string(jm) || (jh && !json_is_integer(jh)) ||
	    (p && !json_is_array(p) && !json_is_object(p))) {
		code = QIX_INVALID_REQUEST;
		c.msg = "a request needs a method, a handle and params as an array or object";
		if (!id)
			id = null_id;
	} else {
		if (!p)
			p = json_array(), json_object_set_new(req, "params", p);
		c.method = json_string_value(jm);
		c.params = p;
		int hn = jh ? (int)json_integer_value(jh) : -1;
		qix_sess_sync_data(s);
		c.h = hn == -1 ? NULL : qix_sess_handle(s, hn);
		if (hn != -1 && !c.h) {
			code = QIX_INVALID_PARAMS;
			c.msg = "Invalid handle";
		} else {
			code = dispatch(&c);
		}
		if (code == 0 && !c.out)
			code = QIX_INTERNAL, c.msg = "out of memory";
	}
	reply(s, id, code, c.msg, code ? NULL : c.out, c.closed);
	qix_sess_state_save(s);
	if (code)
		json_decref(c.out);
	json_decref(c.closed);
	json_decref(null_id);
	json_decref(req);
}
