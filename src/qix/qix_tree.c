/* qix_tree.c: child objects. A generic object may have children (a filter pane's list
 * boxes): each child is an object of its own, with its own handle, kept with its parent
 * (saved with the app, or in the session), and the parent is noted in a map beside the
 * objects (the app's `parents`, the session's `session_parents`: child qId -> parent qId).
 * A parent's layout lists its children where its properties have a qChildListDef; a
 * parent destroyed takes its children with it; the full property tree reads and writes a
 * parent with all of its descendants. */
#include "qix/qix_int.h"

#include <stdlib.h>
#include <string.h>

/* How deep a property tree may nest: a filter pane is two levels. */
#define TREE_DEPTH_MAX 16

/* ---------------------------------------------------------------- the parent map */

static json_t *lock_parents(struct qix_session *s, bool so)
{
	if (so)
		return s->session_parents;
	pthread_mutex_lock(&s->doc->mu);
	return s->doc->parents;
}

static void unlock_parents(struct qix_session *s, bool so)
{
	if (!so) {
		s->doc->dirty++;
		pthread_mutex_unlock(&s->doc->mu);
	}
}

/* Notes (or, with parent NULL, forgets) child's parent; a child noted again moves to the
 * end of its parent's list. */
static void set_parent(struct qix_session *s, const char *child, const char *parent, bool so)
{
	json_t *map = lock_parents(s, so);
	json_object_del(map, child);
	if (parent)
		json_object_set_new(map, child, json_string(parent));
	unlock_parents(s, so);
}

json_t *qix_tree_children(struct qix_session *s, const char *id, bool so)
{
	json_t *out = json_array();
	if (!so && !s->doc)
		return out;
	json_t *map = lock_parents(s, so);
	const char *k;
	json_t *v;
	json_object_foreach (map, k, v) /* (a map read from an app file may hold anything) */
		if (json_is_string(v) && strcmp(json_string_value(v), id) == 0)
			json_array_append_new(out, json_string(k));
	if (!so)
		pthread_mutex_unlock(&s->doc->mu);
	return out;
}

/* The qId of id's parent (a new string), or NULL for an object without one. */
static char *parent_of(struct qix_session *s, const char *id, bool so)
{
	json_t *map = lock_parents(s, so);
	const char *p = json_string_value(json_object_get(map, id));
	char *out = p ? strdup(p) : NULL;
	if (!so)
		pthread_mutex_unlock(&s->doc->mu);
	return out;
}

/* Marks every handle of this session on object `id` changed. */
static void mark_object(struct qix_session *s, const char *id)
{
	for (int i = 0; i < s->n_h; i++)
		if (s->h[i].kind == H_OBJ && strcmp(s->h[i].id, id) == 0)
			qix_sess_mark_changed(s, s->h[i].num);
}

/* The parent's list of children changed: its layout is new, here and in other sessions. */
static void parent_changed(struct qix_session *s, const char *id, bool so)
{
	mark_object(s, id);
	if (!so)
		qix_doc_notify(s->q, s->doc, s, id);
}

/* ---------------------------------------------------------------- destroying */

/* (an app file may hold a parent map with a loop: the depth bounds the walk) */
static json_t *destroy(struct qix_session *s, const char *id, bool so, bool *found, int depth)
{
	json_t *closed = json_array();
	json_t *kids = depth < TREE_DEPTH_MAX ? qix_tree_children(s, id, so) : json_array();
	size_t i;
	json_t *k;
	json_array_foreach (kids, i, k) {
		json_t *more = destroy(s, json_string_value(k), so, NULL, depth + 1);
		json_array_extend(closed, more);
		json_decref(more);
	}
	json_decref(kids);
	set_parent(s, id, NULL, so);
	bool ok = qix_sess_object_remove(s, id, so);
	if (found)
		*found = ok;
	json_t *mine = qix_sess_close_object(s, id, so);
	json_array_extend(closed, mine);
	json_decref(mine);
	return closed;
}

json_t *qix_tree_destroy(struct qix_session *s, const char *id, bool so, bool *found)
{
	return destroy(s, id, so, found, 0);
}

int qix_answer_destroyed(struct qix_call *c, const char *id, bool so)
{
	bool found = false;
	if (id) {
		json_t *closed = qix_tree_destroy(c->s, id, so, &found);
		json_array_extend(c->closed, closed);
		json_decref(closed);
	}
	c->out = json_pack("{s:b}", "qSuccess", found);
	return 0;
}

/* ---------------------------------------------------------------- the full property tree */

static json_t *tree_of(struct qix_session *s, const char *id, bool so, int depth)
{
	bool so2;
	json_t *props = qix_sess_object_props(s, id, &so2);
	if (!props)
		return NULL;
	json_t *kids = json_array();
	json_t *ids = depth < TREE_DEPTH_MAX ? qix_tree_children(s, id, so) : json_array();
	size_t i;
	json_t *k;
	json_array_foreach (ids, i, k) {
		json_t *t = tree_of(s, json_string_value(k), so, depth + 1);
		if (t)
			json_array_append_new(kids, t);
	}
	json_decref(ids);
	return json_pack("{s:o,s:o,s:n}", "qProperty", props, "qChildren", kids,
			 "qEmbeddedSnapshotRef");
}

/* Replaces object id's properties with a copy of np, keeping its qId, and its qType unless
 * np names one. */
void qix_tree_replace(struct qix_session *s, const char *id, bool so, json_t *old, json_t *np)
{
	json_t *copy = json_deep_copy(np);
	json_t *info = json_object_get(copy, "qInfo");
	if (!json_is_object(info))
		json_object_set_new(copy, "qInfo", info = json_object());
	json_t *old_info = json_object_get(old, "qInfo");
	json_object_set(info, "qId", json_object_get(old_info, "qId"));
	if (!json_is_string(json_object_get(info, "qType")))
		json_object_set(info, "qType", json_object_get(old_info, "qType"));
	qix_sess_object_store(s, id, so, copy);
	mark_object(s, id);
}

/* Adds a child of `parent` from properties `prop`; its qId (a new string) or NULL with
 * *msg. */
static char *add_child(struct qix_session *s, const char *parent, bool so, json_t *prop,
		       const char **msg)
{
	json_t *props = qix_new_object_props(s, prop, msg);
	if (!props)
		return NULL;
	char *id =
	    strdup(json_string_value(json_object_get(json_object_get(props, "qInfo"), "qId")));
	if (!id) {
		json_decref(props);
		*msg = "out of memory";
		return NULL;
	}
	qix_sess_object_store(s, id, so, props);
	set_parent(s, id, parent, so);
	return id;
}

static int sync_children(struct qix_session *s, const char *id, bool so, json_t *entries, int depth,
			 const char **msg);

/* One entry of a qChildren list: the child it names (when it is one of id's) takes its
 * properties, else a new child is made; *out_id is the child's qId (a new string). */
static int sync_child(struct qix_session *s, const char *id, bool so, json_t *entry,
		      json_t *existing, int depth, char **out_id, const char **msg)
{
	json_t *prop = json_object_get(entry, "qProperty");
	if (!json_is_object(prop)) {
		*msg = "each of qChildren needs a qProperty object";
		return QIX_INVALID_PARAMS;
	}
	const char *want =
	    json_string_value(json_object_get(json_object_get(prop, "qInfo"), "qId"));
	bool mine = false;
	size_t i;
	json_t *k;
	json_array_foreach (existing, i, k)
		mine = mine || (want && strcmp(json_string_value(k), want) == 0);
	char *cid;
	if (mine) {
		bool so2;
		json_t *old = qix_sess_object_props(s, want, &so2);
		qix_tree_replace(s, want, so, old, prop);
		json_decref(old);
		cid = strdup(want);
	} else if (!(cid = add_child(s, id, so, prop, msg))) {
		return QIX_INVALID_PARAMS;
	}
	*out_id = cid;
	json_t *kids = json_object_get(entry, "qChildren");
	return kids ? sync_children(s, cid, so, kids, depth + 1, msg) : 0;
}

/* Makes id's children those of `entries` (a qChildren list), in its order: those named by
 * qId take their entry's properties, the others are new, and children not named are
 * destroyed. */
static int sync_children(struct qix_session *s, const char *id, bool so, json_t *entries, int depth,
			 const char **msg)
{
	if (!json_is_array(entries)) {
		*msg = "qChildren must be a list";
		return QIX_INVALID_PARAMS;
	}
	if (depth > TREE_DEPTH_MAX) {
		*msg = "the property tree nests too deep";
		return QIX_INVALID_PARAMS;
	}
	json_t *existing = qix_tree_children(s, id, so), *kept = json_array();
	int rc = 0;
	size_t i;
	json_t *e;
	json_array_foreach (entries, i, e) {
		char *cid = NULL;
		rc = sync_child(s, id, so, e, existing, depth, &cid, msg);
		if (cid) /* (made, even when one of its own children was refused) */
			json_array_append_new(kept, json_string(cid));
		free(cid);
		if (rc)
			break;
	}
	json_array_foreach (existing, i, e) {
		bool keep = false;
		size_t j;
		json_t *k;
		json_array_foreach (kept, j, k)
			keep = keep || json_equal(k, e);
		if (!keep && rc == 0)
			json_decref(qix_tree_destroy(s, json_string_value(e), so, NULL));
	}
	/* in the order given */
	json_array_foreach (kept, i, e)
		set_parent(s, json_string_value(e), id, so);
	json_decref(existing);
	json_decref(kept);
	parent_changed(s, id, so);
	return rc;
}

/* ---------------------------------------------------------------- the layout */

json_t *qix_json_at(json_t *v, const char *path)
{
	if (*path != '/')
		return NULL;
	char seg[256];
	while (v && *path == '/') {
		path++;
		size_t n = strcspn(path, "/");
		size_t o = 0;
		for (size_t i = 0; i < n && o + 1 < sizeof(seg); i++) {
			if (path[i] == '~' && i + 1 < n &&
			    (path[i + 1] == '0' || path[i + 1] == '1'))
				seg[o++] = path[++i] == '0' ? '~' : '/';
			else
				seg[o++] = path[i];
		}
		seg[o] = '\0';
		path += n;
		if (json_is_array(v)) {
			int64_t idx;
			v = str_to_i64(seg, 0, INT32_MAX, &idx) == 0
				? json_array_get(v, (size_t)idx)
				: NULL;
		} else {
			v = json_object_get(v, seg);
		}
	}
	return v;
}

json_t *qix_list_data(json_t *props, json_t *want)
{
	json_t *data = json_object();
	const char *key;
	json_t *path;
	json_object_foreach (want, key, path) {
		json_t *v =
		    json_is_string(path) ? qix_json_at(props, json_string_value(path)) : NULL;
		json_object_set(data, key, v ? v : json_null());
	}
	return data;
}

json_t *qix_tree_child_list(struct qix_session *s, json_t *def)
{
	json_t *items = json_array();
	const char *id = s->cur_obj;
	bool so = false;
	json_t *self = id ? qix_sess_object_props(s, id, &so) : NULL;
	json_decref(self);
	json_t *ids = self ? qix_tree_children(s, id, so) : json_array();
	json_t *want = json_object_get(def, "qData");
	size_t i;
	json_t *k;
	json_array_foreach (ids, i, k) {
		bool so2;
		json_t *props = qix_sess_object_props(s, json_string_value(k), &so2);
		if (!props)
			continue;
		json_t *data = qix_list_data(props, want);
		json_t *info = json_object_get(props, "qInfo");
		json_array_append_new(items,
				      json_pack("{s:{s:O?,s:O?},s:o}", "qInfo", "qId",
						json_object_get(info, "qId"), "qType",
						json_object_get(info, "qType"), "qData", data));
		json_decref(props);
	}
	json_decref(ids);
	return json_pack("{s:o}", "qItems", items);
}

/* ---------------------------------------------------------------- the methods */

/* qPropForThis, the parent's new properties that may come with a child's change */
static void maybe_set_own(struct qix_call *c, int pos)
{
	json_t *np = qix_param(c->params, pos, "qPropForThis");
	if (json_is_object(np))
		qix_tree_replace(c->s, c->h->id, c->session_obj, c->stored, np);
}

static int create_child(struct qix_call *c)
{
	json_t *prop = qix_param(c->params, 0, "qProp");
	char *id = add_child(c->s, c->h->id, c->session_obj, prop, &c->msg);
	if (!id)
		return QIX_INVALID_PARAMS;
	maybe_set_own(c, 1);
	parent_changed(c->s, c->h->id, c->session_obj);
	const char *type =
	    json_string_value(json_object_get(json_object_get(prop, "qInfo"), "qType"));
	struct qix_handle *h =
	    qix_answer_handle(c, id, c->session_obj, "GenericObject", type, true);
	free(id);
	return h ? 0 : QIX_INTERNAL;
}

static int destroy_child(struct qix_call *c)
{
	const char *id = qix_param_str(c->params, 0, "qId", "");
	char *parent = parent_of(c->s, id, c->session_obj);
	bool ok = parent && strcmp(parent, c->h->id) == 0;
	free(parent);
	if (ok) {
		json_t *closed = qix_tree_destroy(c->s, id, c->session_obj, NULL);
		json_array_extend(c->closed, closed);
		json_decref(closed);
		maybe_set_own(c, 1);
		parent_changed(c->s, c->h->id, c->session_obj);
	}
	c->out = json_pack("{s:b}", "qSuccess", ok);
	return 0;
}

static int destroy_all_children(struct qix_call *c)
{
	json_t *ids = qix_tree_children(c->s, c->h->id, c->session_obj);
	size_t i;
	json_t *k;
	json_array_foreach (ids, i, k) {
		json_t *closed = qix_tree_destroy(c->s, json_string_value(k), c->session_obj, NULL);
		json_array_extend(c->closed, closed);
		json_decref(closed);
	}
	json_decref(ids);
	maybe_set_own(c, 0);
	parent_changed(c->s, c->h->id, c->session_obj);
	c->out = json_pack("{s:b}", "qSuccess", 1);
	return 0;
}

static int get_child_infos(struct qix_call *c)
{
	json_t *ids = qix_tree_children(c->s, c->h->id, c->session_obj), *infos = json_array();
	size_t i;
	json_t *k;
	json_array_foreach (ids, i, k) {
		bool so;
		json_t *props = qix_sess_object_props(c->s, json_string_value(k), &so);
		if (props)
			json_array_append_new(infos, json_pack("{s:O,s:s?}", "qId", k, "qType",
							       qix_object_type(props)));
		json_decref(props);
	}
	json_decref(ids);
	c->out = json_pack("{s:o}", "qInfos", infos);
	return 0;
}

static int get_parent(struct qix_call *c)
{
	char *parent = parent_of(c->s, c->h->id, c->session_obj);
	bool so;
	json_t *props = parent ? qix_sess_object_props(c->s, parent, &so) : NULL;
	struct qix_handle *h =
	    props ? qix_answer_handle(c, parent, so, "GenericObject", qix_object_type(props), false)
		  : NULL;
	json_decref(props);
	free(parent);
	if (!props) {
		c->msg = "Object not found";
		return QIX_NOT_FOUND;
	}
	return h ? 0 : QIX_INTERNAL;
}

static int get_full_property_tree(struct qix_call *c)
{
	json_t *t = tree_of(c->s, c->h->id, c->session_obj, 0);
	if (!t) {
		c->msg = "Object not found";
		return QIX_NOT_FOUND;
	}
	c->out = json_pack("{s:o}", "qPropEntry", t);
	return 0;
}

static int set_full_property_tree(struct qix_call *c)
{
	json_t *entry = qix_param(c->params, 0, "qPropEntry");
	json_t *np = json_object_get(entry, "qProperty");
	if (!json_is_object(np)) {
		c->msg = "the properties must be an object";
		return QIX_INVALID_PARAMS;
	}
	json_t *kids = json_object_get(entry, "qChildren");
	if (kids && !json_is_array(kids)) {
		c->msg = "qChildren must be a list";
		return QIX_INVALID_PARAMS;
	}
	qix_tree_replace(c->s, c->h->id, c->session_obj, c->stored, np);
	int rc = kids ? sync_children(c->s, c->h->id, c->session_obj, kids, 1, &c->msg) : 0;
	if (rc == 0)
		c->out = json_object();
	return rc;
}

const struct qix_method qix_tree_methods[] = {
    {QIX_OBJECT, "CreateChild", create_child, 2},
    {QIX_OBJECT, "DestroyChild", destroy_child, 2},
    {QIX_OBJECT, "DestroyAllChildren", destroy_all_children, 1},
    {QIX_OBJECT, "GetChildInfos", get_child_infos, 0},
    {QIX_OBJECT, "GetParent", get_parent, 0},
    {QIX_OBJECT, "GetFullPropertyTree", get_full_property_tree, 0},
    {QIX_OBJECT, "SetFullPropertyTree", set_full_property_tree, 1},
    {0, NULL, NULL, 0},
};
