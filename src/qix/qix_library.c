/* qix_library.c: master items. A master dimension (qType "dimension", its definition in
 * qDim) or measure (qType "measure", in qMeasure) is an object of the app, saved with it;
 * a chart's dimension, measure or list that names one by qLibraryId takes its definition
 * when the chart is computed (the object's effective properties have it filled in). */
#include "qix/qix_int.h"

#include <stdlib.h>
#include <string.h>

static bool is_type(json_t *props, const char *type)
{
	const char *t = qix_object_type(props);
	return t && strcmp(t, type) == 0;
}

/* The master item `id` of `type` (a new reference to its properties), or NULL. */
static json_t *master(struct qix_session *s, const char *id, const char *type)
{
	bool so;
	json_t *p = id && *id ? qix_sess_object_props(s, id, &so) : NULL;
	if (p && !is_type(p, type)) {
		json_decref(p);
		p = NULL;
	}
	return p;
}

/* ---------------------------------------------------------------- in charts */

/* Fills in a dimension's (or list's) qDef from master dimension qLibraryId. */
static void fill_dimension(struct qix_session *s, json_t *d)
{
	json_t *m = master(s, json_string_value(json_object_get(d, "qLibraryId")), "dimension");
	json_t *dim = json_object_get(m, "qDim");
	if (json_is_object(dim)) {
		json_t *qd = json_object_get(d, "qDef");
		if (!json_is_object(qd))
			json_object_set_new(d, "qDef", qd = json_object());
		json_object_set(qd, "qFieldDefs", json_object_get(dim, "qFieldDefs"));
		json_t *labels = json_object_get(dim, "qFieldLabels");
		if (json_array_size(labels) && json_string_length(json_array_get(labels, 0)))
			json_object_set(qd, "qFieldLabels", labels);
		else
			json_object_set_new(qd, "qFieldLabels",
					    json_pack("[O?]", json_object_get(dim, "title")));
	}
	json_decref(m);
}

/* Fills in a measure's qDef from master measure qLibraryId. */
static void fill_measure(struct qix_session *s, json_t *me)
{
	json_t *m = master(s, json_string_value(json_object_get(me, "qLibraryId")), "measure");
	json_t *mm = json_object_get(m, "qMeasure");
	if (json_is_object(mm)) {
		json_t *qd = json_object_get(me, "qDef");
		if (!json_is_object(qd))
			json_object_set_new(me, "qDef", qd = json_object());
		json_object_set(qd, "qDef", json_object_get(mm, "qDef"));
		if (json_is_string(json_object_get(mm, "qLabel")))
			json_object_set(qd, "qLabel", json_object_get(mm, "qLabel"));
		if (json_is_object(json_object_get(mm, "qNumFormat")))
			json_object_set(qd, "qNumFormat", json_object_get(mm, "qNumFormat"));
	}
	json_decref(m);
}

static bool names_library(json_t *v, int depth)
{
	if (depth > 32)
		return false;
	if (json_is_object(v)) {
		const char *k;
		json_t *x;
		json_object_foreach (v, k, x)
			if ((strcmp(k, "qLibraryId") == 0 && json_string_length(x)) ||
			    names_library(x, depth + 1))
				return true;
	} else if (json_is_array(v)) {
		size_t i;
		json_t *x;
		json_array_foreach (v, i, x)
			if (names_library(x, depth + 1))
				return true;
	}
	return false;
}

/* Every qHyperCubeDef and qListObjectDef under v, at any depth (a chart keeps them in
 * nested properties too), gets its master items filled in. */
static void fill_all(struct qix_session *s, json_t *v, int depth)
{
	if (depth > 32 || !(json_is_object(v) || json_is_array(v)))
		return;
	size_t i;
	json_t *x;
	if (json_is_array(v)) {
		json_array_foreach (v, i, x)
			fill_all(s, x, depth + 1);
		return;
	}
	const char *k;
	json_object_foreach (v, k, x) {
		if (strcmp(k, "qHyperCubeDef") == 0) {
			json_t *d;
			json_array_foreach (json_object_get(x, "qDimensions"), i, d)
				fill_dimension(s, d);
			json_array_foreach (json_object_get(x, "qMeasures"), i, d)
				fill_measure(s, d);
		} else if (strcmp(k, "qListObjectDef") == 0) {
			fill_dimension(s, x);
		}
		fill_all(s, x, depth + 1);
	}
}

json_t *qix_library_fill(struct qix_session *s, json_t *props)
{
	if (!props || !names_library(props, 0))
		return props;
	json_t *copy = json_deep_copy(props);
	json_decref(props);
	fill_all(s, copy, 0);
	return copy;
}

json_t *qix_library_list(struct qix_session *s, json_t *def, const char *type)
{
	json_t *items = json_array();
	json_t *want = json_object_get(def, "qData");
	json_t *objs = qix_sess_saved_objects(s);
	const char *k;
	json_t *p;
	json_object_foreach (objs, k, p) {
		if (!is_type(p, type))
			continue;
		json_t *meta = json_object_get(p, "qMetaDef");
		json_array_append_new(items, json_pack("{s:{s:s,s:s},s:o,s:o}", "qInfo", "qId", k,
						       "qType", type, "qMeta",
						       meta ? json_incref(meta) : json_object(),
						       "qData", qix_list_data(p, want)));
	}
	json_decref(objs);
	return json_pack("{s:o}", "qItems", items);
}

/* ---------------------------------------------------------------- Doc methods */

/* CreateDimension({qInfo, qDim, qMetaDef}) and CreateMeasure({qInfo, qMeasure, qMetaDef}) */
static int create_item(struct qix_call *c)
{
	bool dim = strcmp(c->method, "CreateDimension") == 0;
	const char *type = dim ? "dimension" : "measure";
	json_t *prop = qix_param(c->params, 0, "qProp");
	if (!json_is_object(json_object_get(prop, dim ? "qDim" : "qMeasure"))) {
		c->msg = dim ? "a master dimension needs qDim" : "a master measure needs qMeasure";
		return QIX_INVALID_PARAMS;
	}
	json_t *p = json_deep_copy(prop);
	if (!json_is_object(json_object_get(p, "qInfo")))
		json_object_set_new(p, "qInfo", json_object());
	json_object_set_new(json_object_get(p, "qInfo"), "qType", json_string(type));
	json_t *props = qix_new_object_props(c->s, p, &c->msg);
	json_decref(p);
	if (!props)
		return QIX_INVALID_PARAMS;
	char *id =
	    strdup(json_string_value(json_object_get(json_object_get(props, "qInfo"), "qId")));
	qix_sess_object_store(c->s, id, false, props);
	struct qix_handle *h = qix_answer_handle(
	    c, id, false, dim ? "GenericDimension" : "GenericMeasure", type, true);
	free(id);
	return h ? 0 : QIX_INTERNAL;
}

static int get_item(struct qix_call *c)
{
	bool dim = strcmp(c->method, "GetDimension") == 0;
	const char *id = qix_param_str(c->params, 0, "qId", "");
	json_t *m = master(c->s, id, dim ? "dimension" : "measure");
	json_decref(m);
	if (!m) {
		c->msg = "Object not found";
		return QIX_NOT_FOUND;
	}
	return qix_answer_handle(c, id, false, dim ? "GenericDimension" : "GenericMeasure",
				 dim ? "dimension" : "measure", false)
		   ? 0
		   : QIX_INTERNAL;
}

static int destroy_item(struct qix_call *c)
{
	bool dim = strcmp(c->method, "DestroyDimension") == 0;
	const char *id = qix_param_str(c->params, 0, "qId", "");
	json_t *m = master(c->s, id, dim ? "dimension" : "measure");
	int rc = qix_answer_destroyed(c, m ? id : NULL, false);
	json_decref(m);
	return rc;
}

/* ---------------------------------------------------------------- GenericDimension/Measure */

/* GetDimension: {qDim}; GetMeasure: {qMeasure} */
static int item_definition(struct qix_call *c)
{
	const char *key = strcmp(c->method, "GetDimension") == 0 ? "qDim" : "qMeasure";
	json_t *d = json_object_get(c->stored, key);
	if (!json_is_object(d)) {
		c->msg = "the object is not that kind of master item";
		return QIX_INVALID_PARAMETER;
	}
	c->out = json_pack("{s:O}", key, d);
	return 0;
}

const struct qix_method qix_library_methods[] = {
    {QIX_DOC, "CreateDimension", create_item, 1},
    {QIX_DOC, "CreateMeasure", create_item, 1},
    {QIX_DOC, "GetDimension", get_item, 1},
    {QIX_DOC, "GetMeasure", get_item, 1},
    {QIX_DOC, "DestroyDimension", destroy_item, 1},
    {QIX_DOC, "DestroyMeasure", destroy_item, 1},
    {QIX_OBJECT, "GetDimension", item_definition, 0},
    {QIX_OBJECT, "GetMeasure", item_definition, 0},
    {0, NULL, NULL, 0},
};
