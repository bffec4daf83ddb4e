/* qix_bookmark.c: bookmarks. A bookmark names a session's selections: it is an object of
 * the app (qType "bookmark", saved with it by DoSave like any object) whose qBookmark holds
 * the selections by value, field by field, as Qlik's NxBookmark shapes them (qStateData of
 * the default state "$", a qFieldItems entry per field with its selected texts). Applying
 * it makes those the session's selections (a step Back undoes). */
#include "qix/qix_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---------------------------------------------------------------- by value */

/* {qStateData: [{qStateName: "$", qFieldItems: [{qDef: {qName}, qValues: [{qText}]}]}]}
 * from a snapshot {field: [texts]} */
static json_t *bookmark_of(json_t *snap)
{
	json_t *items = json_array();
	const char *f;
	json_t *texts;
	json_object_foreach (snap, f, texts) {
		json_t *vals = json_array();
		size_t i;
		json_t *t;
		json_array_foreach (texts, i, t)
			json_array_append_new(vals, json_pack("{s:O}", "qText", t));
		json_array_append_new(
		    items, json_pack("{s:{s:s},s:o}", "qDef", "qName", f, "qValues", vals));
	}
	char now[32];
	time_t t = time(NULL);
	struct tm tm;
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%S.000Z", gmtime_r(&t, &tm));
	return json_pack("{s:[{s:s,s:o}],s:s}", "qStateData", "qStateName", "$", "qFieldItems",
			 items, "qUtcModifyTime", now);
}

/* The snapshot a bookmark's properties hold (a new object). */
static json_t *snapshot_of(json_t *props)
{
	json_t *snap = json_object();
	json_t *states = json_object_get(json_object_get(props, "qBookmark"), "qStateData");
	size_t i, j, k;
	json_t *st, *item, *v;
	json_array_foreach (states, i, st) {
		const char *name = json_string_value(json_object_get(st, "qStateName"));
		if (name && strcmp(name, "$") != 0)
			continue;
		json_array_foreach (json_object_get(st, "qFieldItems"), j, item) {
			const char *f = json_string_value(
			    json_object_get(json_object_get(item, "qDef"), "qName"));
			json_t *texts = json_array();
			json_array_foreach (json_object_get(item, "qValues"), k, v)
				if (json_is_string(json_object_get(v, "qText")))
					json_array_append(texts, json_object_get(v, "qText"));
			if (f)
				json_object_set_new(snap, f, texts);
			else
				json_decref(texts);
		}
	}
	return snap;
}

static bool is_bookmark(json_t *props)
{
	const char *t = qix_object_type(props);
	return t && strcmp(t, "bookmark") == 0;
}

/* Makes bookmark id's selections the session's; false when there is no such bookmark. */
static int apply(struct qix_session *s, const char *id, bool *ok)
{
	bool so;
	json_t *props = qix_sess_object_props(s, id, &so);
	*ok = props && is_bookmark(props) && s->data && s->data->a;
	json_t *snap = *ok ? snapshot_of(props) : NULL;
	json_decref(props);
	int rc = snap ? qix_sess_apply(s, snap) : 0;
	json_decref(snap);
	return rc;
}

/* ---------------------------------------------------------------- the list */

json_t *qix_bookmark_list(struct qix_session *s, json_t *def)
{
	json_t *items = json_array();
	json_t *want = json_object_get(def, "qData");
	json_t *objs = qix_sess_saved_objects(s);
	const char *k;
	json_t *props;
	json_object_foreach (objs, k, props) {
		if (!is_bookmark(props) || qix_sess_hidden(s, props))
			continue;
		json_t *meta = json_object_get(props, "qMetaDef");
		json_array_append_new(items, json_pack("{s:{s:s,s:s},s:o,s:o}", "qInfo", "qId", k,
						       "qType", "bookmark", "qMeta",
						       meta ? json_incref(meta) : json_object(),
						       "qData", qix_list_data(props, want)));
	}
	json_decref(objs);
	return json_pack("{s:o}", "qItems", items);
}

/* ---------------------------------------------------------------- Doc methods */

/* A bookmark that only its maker sees is saved at once: its maker may not save the app. */
static int save_private(struct qix_call *c)
{
	struct err e;
	err_init(&e);
	if (qix_doc_save(c->s->q, c->s->doc, &e) == 0)
		return 0;
	log_warn("engine: a private bookmark of app %s: %s", c->s->doc->id, e.message);
	c->msg = "the bookmark could not be saved";
	return QIX_INTERNAL;
}

/* CreateBookmark: for a person who may change the app, a bookmark of the app; for one who
 * may only read it, a private one (qMetaDef.privateTo: their name), which no one else
 * lists, opens or applies. */
static int create_bookmark(struct qix_call *c)
{
	bool may = qix_may_update(c->s);
	if (!may && c->s->may_failed) { /* not known: neither kind is made */
		c->msg = "the repository database is not answering; try again";
		return QIX_UNAVAILABLE;
	}
	json_t *props = qix_new_object_props(c->s, qix_param(c->params, 0, "qProp"), &c->msg);
	if (!props)
		return QIX_INVALID_PARAMS;
	if (!is_bookmark(props) || !c->s->data) {
		json_decref(props);
		c->msg =
		    !c->s->data ? "the app has no data" : "a bookmark's qInfo.qType is bookmark";
		return QIX_INVALID_PARAMS;
	}
	json_t *meta = json_object_get(props, "qMetaDef");
	if (!json_is_object(meta))
		json_object_set_new(props, "qMetaDef", meta = json_object());
	if (may) /* the name is the engine's to give, never the client's */
		json_object_del(meta, "privateTo");
	else
		json_object_set_new(meta, "privateTo", json_string(c->s->user));
	json_t *snap = qix_sess_snapshot(c->s);
	json_object_set_new(props, "qBookmark", bookmark_of(snap));
	json_decref(snap);
	char *id =
	    strdup(json_string_value(json_object_get(json_object_get(props, "qInfo"), "qId")));
	qix_sess_object_store(c->s, id, false, props);
	int rc = may ? 0 : save_private(c);
	struct qix_handle *h =
	    rc ? NULL : qix_answer_handle(c, id, false, "GenericBookmark", "bookmark", true);
	free(id);
	return rc ? rc : h ? 0 : QIX_INTERNAL;
}

static int get_bookmark(struct qix_call *c)
{
	const char *id = qix_param_str(c->params, 0, "qId", "");
	bool so;
	json_t *props = qix_sess_object_props(c->s, id, &so);
	bool ok = props && is_bookmark(props);
	json_decref(props);
	if (!ok) {
		c->msg = "Object not found";
		return QIX_NOT_FOUND;
	}
	return qix_answer_handle(c, id, so, "GenericBookmark", "bookmark", false) ? 0
										  : QIX_INTERNAL;
}

static int apply_bookmark(struct qix_call *c)
{
	bool ok;
	if (apply(c->s, qix_param_str(c->params, 0, "qId", ""), &ok) != 0)
		return QIX_INTERNAL;
	c->out = json_pack("{s:b}", "qSuccess", ok);
	return 0;
}

/* DestroyBookmark: one's own private bookmark, or (for a person who may change the app)
 * any of the app's. */
static int destroy_bookmark(struct qix_call *c)
{
	const char *id = qix_param_str(c->params, 0, "qId", "");
	bool so;
	json_t *props = qix_sess_object_props(c->s, id, &so);
	bool mine = props && qix_obj_private_to(props);
	int rc = props && !mine ? qix_may_write(c) : 0;
	if (rc == 0)
		rc = qix_answer_destroyed(c, props && is_bookmark(props) ? id : NULL, so);
	if (rc == 0 && mine && json_is_true(json_object_get(c->out, "qSuccess")))
		rc = save_private(c);
	json_decref(props);
	return rc;
}

/* GetBookmarks(qOptions: {qTypes, qData}): {qList: [{qInfo, qMeta, qData}]} */
static int get_bookmarks(struct qix_call *c)
{
	json_t *opts = qix_param(c->params, 0, "qOptions");
	json_t *l = qix_bookmark_list(c->s, json_object_get(opts, "qData") ? opts : NULL);
	c->out = json_pack("{s:O}", "qList", json_object_get(l, "qItems"));
	json_decref(l);
	return 0;
}

/* ---------------------------------------------------------------- GenericBookmark */

static int bookmark_apply(struct qix_call *c)
{
	bool ok;
	if (apply(c->s, c->h->id, &ok) != 0)
		return QIX_INTERNAL;
	c->out = json_pack("{s:b}", "qSuccess", ok);
	return 0;
}

const struct qix_method qix_bookmark_methods[] = {
    {QIX_DOC, "CreateBookmark", create_bookmark, 1},
    {QIX_DOC, "GetBookmark", get_bookmark, 1},
    {QIX_DOC, "ApplyBookmark", apply_bookmark, 1},
    {QIX_DOC, "DestroyBookmark", destroy_bookmark, 1},
    {QIX_DOC, "GetBookmarks", get_bookmarks, 1},
    {QIX_OBJECT, "Apply", bookmark_apply, 0},
    {0, NULL, NULL, 0},
};
