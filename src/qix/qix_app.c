/* qix_app.c: the methods of Global (the engine) and Doc (an open app). Each is a small
 * handler in the method table at the end; qix.c dispatches to it. */
#include "qix/qix_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QIX_VERSION "12.2027.0"

/* ---------------------------------------------------------------- objects of the app */

/* Whether an object of the session or the app has this id: any, also another person's
 * private bookmark, which the session does not see and must not write over. */
static bool id_taken(struct qix_session *s, const char *id)
{
	if (json_object_get(s->session_objects, id))
		return true;
	json_t *saved = qix_sess_saved_objects(s);
	bool taken = json_object_get(saved, id) != NULL;
	json_decref(saved);
	return taken;
}

json_t *qix_new_object_props(struct qix_session *s, json_t *prop, const char **msg)
{
	json_t *info = json_object_get(prop, "qInfo");
	if (!json_is_object(prop) || !json_is_string(json_object_get(info, "qType"))) {
		*msg = "qInfo.qType is required";
		return NULL;
	}
	json_t *p = json_deep_copy(prop);
	info = json_object_get(p, "qInfo");
	const char *id = json_string_value(json_object_get(info, "qId"));
	if (!id || !*id || id_taken(s, id)) {
		char u[UUID_STR_LEN + 1];
		uuid_new(u);
		json_object_set_new(info, "qId", json_string(u));
	}
	if (json_is_object(json_object_get(p, "qHyperCubeDef")) &&
	    !json_is_array(
		json_object_get(json_object_get(p, "qHyperCubeDef"), "qInterColumnSortOrder")))
		json_object_set_new(json_object_get(p, "qHyperCubeDef"), "qInterColumnSortOrder",
				    json_array());
	return p;
}

const char *qix_object_type(json_t *props)
{
	return json_string_value(json_object_get(json_object_get(props, "qInfo"), "qType"));
}

static const char *object_id(json_t *props)
{
	return json_string_value(json_object_get(json_object_get(props, "qInfo"), "qId"));
}

/* ---------------------------------------------------------------- the app layout */

static json_t *locale_info(void)
{
	return json_pack(
	    "{s:s,s:s,s:s,s:s,s:s,s:i,s:s,s:s,s:s,s:s,s:{s:[sssssss],s:[ssssssssssss],"
	    "s:[sssssss],s:[ssssssssssss]},s:i,s:b,s:i,s:i,s:s,s:s}",
	    "qDecimalSep", ".", "qThousandSep", ",", "qListSep", ",", "qMoneyDecimalSep", ".",
	    "qMoneyThousandSep", ",", "qCurrentYear", 2026, "qMoneyFmt", "$#,##0.00;-$#,##0.00",
	    "qTimeFmt", "h:mm:ss TT", "qDateFmt", "M/D/YYYY", "qTimestampFmt",
	    "M/D/YYYY h:mm:ss[.fff] TT", "qCalendarStrings", "qDayNames", "Mon", "Tue", "Wed",
	    "Thu", "Fri", "Sat", "Sun", "qMonthNames", "Jan", "Feb", "Mar", "Apr", "May", "Jun",
	    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "qLongDayNames", "Monday", "Tuesday",
	    "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "qLongMonthNames", "January",
	    "February", "March", "April", "May", "June", "July", "August", "September", "October",
	    "November", "December", "qFirstWeekDay", 6, "qBrokenWeeks", 1, "qReferenceDay", 0,
	    "qFirstMonthOfYear", 1, "qCollation", "en-US", "qNumericalAbbreviation",
	    "3:k;6:M;9:G;12:T;15:P;18:E;21:Z;24:Y;-3:m;-6:μ;-9:n;-12:p;-15:f;-18:a;-21:z;-24:y");
}

static json_t *app_layout(struct qix_session *s)
{
	struct qix_doc *d = s->doc;
	bool may = qix_may_update(s); /* asks the rules: before the lock */
	pthread_mutex_lock(&d->mu);
	const char *title = json_string_value(json_object_get(d->props, "qTitle"));
	json_t *l = json_pack(
	    "{s:s,s:s,s:s,s:b,s:b,s:[],s:o,s:b,s:b,s:b,s:b,s:b,s:{s:s},s:o}", "qTitle",
	    title && *title ? title : d->info.title, "qFileName", d->id, "qLastReloadTime",
	    d->info.last_reload, "qModified", d->dirty > 0, "qHasScript", d->script && *d->script,
	    "qStateNames", "qMeta",
	    may ? json_pack("{s:[ssss]}", "privileges", "read", "update", "delete", "reload")
		: json_pack("{s:[s]}", "privileges", "read"),
	    "qHasData", s->data && s->data->a, "qReadOnly", !may, "qIsOpenedWithoutData", 0,
	    "qIsSessionApp", 0, "qIsDirectQueryMode", 0, "qThumbnail", "qUrl", "", "qLocaleInfo",
	    locale_info());
	pthread_mutex_unlock(&d->mu);
	return l;
}

/* ---------------------------------------------------------------- Global */

struct doclist {
	struct qix *q;
	json_t *list;
	struct qix_session *s;
};

/* Whether the session may open app `id`: always, unless a person's and the rules say no. */
/* Whether the rules let the session's person open app `id`: 1 yes, 0 no, -1 they could
 * not say (the repository database is away). */
static int may_open(struct qix_session *s, const char *id)
{
	const struct qix_env *env = &s->q->cfg.env;
	if (!s->governed || !env->may_read)
		return 1;
	struct err e;
	err_init(&e);
	bool ok = false;
	if (env->may_read(env->ctx, s->user, s->attrs, id, &ok, &e) != 0) {
		if (e.code == ERR_NOT_FOUND)
			return 0;
		log_warn("engine: may %s open %s? %s", s->user, id, e.message);
		return -1;
	}
	return ok ? 1 : 0;
}

static void doclist_add(void *arg, const char *id)
{
	struct doclist *dl = arg;
	struct qix_app_info info;
	struct err e;
	err_init(&e);
	memset(&info, 0, sizeof(info));
	if (may_open(dl->s, id) != 1 ||
	    dl->q->cfg.env.locate(dl->q->cfg.env.ctx, id, &info, &e) != 0)
		return;
	json_array_append_new(dl->list,
			      json_pack("{s:s,s:s,s:s,s:{},s:s,s:b,s:I,s:s,s:i}", "qDocName",
					info.title, "qDocId", id, "qTitle", info.title, "qMeta",
					"qLastReloadTime", info.last_reload, "qReadOnly", 0,
					"qFileSize", (json_int_t)info.file_size, "qFileTime",
					info.file_time, "qConnectedUsers", 0));
}

static int open_doc_named(struct qix_session *s, const char *name, json_t **out, const char **msg)
{
	if (s->doc) {
		*msg = "App already open";
		return QIX_APP_ALREADY_OPEN;
	}
	int may = may_open(s, name);
	if (may < 0) {
		*msg = "the repository database is not answering; try again";
		return QIX_UNAVAILABLE;
	}
	if (!may) {
		log_info("engine: OpenDoc %s refused to %s by the security rules", name, s->user);
		*msg = "Access denied";
		return QIX_ACCESS_DENIED;
	}
	struct err e;
	err_init(&e);
	struct qix_doc *d;
	int rc = qix_doc_open(s->q, name, &d, &e);
	if (rc) {
		log_info("engine: OpenDoc %s: %s", name, e.message);
		if (rc == ERR_UNAVAILABLE) {
			*msg = "the app's file cannot be read now (its share does not answer); try "
			       "again";
			return QIX_UNAVAILABLE;
		}
		*msg = rc == ERR_NOT_FOUND ? "App not found" : "App could not be opened";
		return rc == ERR_NOT_FOUND ? QIX_APP_NOT_FOUND : QIX_INTERNAL;
	}
	/* section access: what of the data is the person's, if anything */
	struct qix_data *base = qix_doc_data(s->q, d), *mine = NULL;
	const char *why = NULL;
	rc = qix_access_data(s, base, &mine, &s->access_user, &why, &e);
	qix_data_release(s->q, base);
	if (rc || why) {
		qix_doc_release(s->q, d);
		if (rc)
			log_warn("engine: OpenDoc %s: section access: %s", name, e.message);
		*msg = rc ? "out of memory" : why;
		return rc ? QIX_INTERNAL : QIX_ACCESS_DENIED;
	}
	pthread_mutex_lock(&s->q->mu);
	s->doc = d;
	s->next_in_doc = d->sessions;
	d->sessions = s;
	pthread_mutex_unlock(&s->q->mu);
	s->data = mine;
	if (s->data && s->data->a && model_assoc_sel_init(s->data->a, &s->sel) != 0) {
		*msg = "out of memory";
		return QIX_INTERNAL;
	}
	struct qix_handle *h = qix_sess_add_handle(s, H_DOC, d->id, false);
	if (!h) {
		*msg = "out of memory";
		return QIX_INTERNAL;
	}
	qix_sess_state_restore(s);
	qix_sess_mark_changed(s, h->num);
	*out = qix_ref("Doc", h->num, NULL, d->id);
	return 0;
}

static int open_doc(struct qix_call *c)
{
	const char *name = qix_param_str(c->params, 0, "qDocName", NULL);
	if (!name || !*name) {
		c->msg = "qDocName is required";
		return QIX_INVALID_PARAMS;
	}
	return open_doc_named(c->s, name, &c->out, &c->msg);
}

static int get_active_doc(struct qix_call *c)
{
	if (!c->s->doc) {
		c->msg = "No active document";
		return QIX_APP_INVALID;
	}
	c->out = qix_ref("Doc", 1, NULL, c->s->doc->id);
	return 0;
}

static int engine_version(struct qix_call *c)
{
	c->out = json_pack("{s:{s:s}}", "qVersion", "qComponentVersion", QIX_VERSION);
	return 0;
}

static int product_version(struct qix_call *c)
{
	c->out = json_pack("{s:s}", "qReturn", QIX_VERSION);
	return 0;
}

static int os_name(struct qix_call *c)
{
	c->out = json_pack("{s:s}", "qReturn", strcmp(c->method, "OSName") == 0 ? "Linux" : "");
	return 0;
}

static int answer_false(struct qix_call *c)
{
	c->out = json_pack("{s:b}", "qReturn", 0);
	return 0;
}

static int answer_empty(struct qix_call *c)
{
	c->out = json_object();
	return 0;
}

static int get_unique_id(struct qix_call *c)
{
	char u[UUID_STR_LEN + 1];
	uuid_new(u);
	c->out = json_pack("{s:s}", "qUniqueID", u);
	return 0;
}

static int get_authenticated_user(struct qix_call *c)
{
	c->out = json_pack("{s:s}", "qReturn", c->s->user);
	return 0;
}

static int get_doc_list(struct qix_call *c)
{
	struct qix *q = c->s->q;
	struct doclist dl = {q, json_array(), c->s};
	struct err e;
	err_init(&e);
	if (q->cfg.env.list && q->cfg.env.list(q->cfg.env.ctx, doclist_add, &dl, &e))
		log_warn("engine: GetDocList: %s", e.message);
	c->out = json_pack("{s:o}", "qDocList", dl.list);
	return 0;
}

/* ---------------------------------------------------------------- Doc */

static int get_app_layout(struct qix_call *c)
{
	c->out = json_pack("{s:o}", "qLayout", app_layout(c->s));
	return 0;
}

static int get_app_properties(struct qix_call *c)
{
	struct qix_doc *d = c->s->doc;
	pthread_mutex_lock(&d->mu);
	c->out = json_pack("{s:O}", "qProp", d->props);
	pthread_mutex_unlock(&d->mu);
	return 0;
}

static int set_app_properties(struct qix_call *c)
{
	struct qix_doc *d = c->s->doc;
	json_t *np = qix_param(c->params, 0, "qProp");
	if (!json_is_object(np)) {
		c->msg = "qProp must be an object";
		return QIX_INVALID_PARAMS;
	}
	pthread_mutex_lock(&d->mu);
	json_decref(d->props);
	d->props = json_deep_copy(np);
	json_object_del(d->props, "objects");
	d->dirty++;
	pthread_mutex_unlock(&d->mu);
	qix_sess_mark_changed(c->s, 1);
	c->out = json_object();
	return 0;
}

static int get_script(struct qix_call *c)
{
	struct qix_doc *d = c->s->doc;
	if (c->s->access_user) { /* its section access lists people and what they see */
		c->msg = "the script of an app with section access is for its ADMIN lines only";
		return QIX_ACCESS_DENIED;
	}
	pthread_mutex_lock(&d->mu);
	/* a script may be tens of MiB: json_text checks it at memory speed, once; answers
	 * share the string until the script changes */
	if (!d->script_json) {
		const char *script = d->script ? d->script : "";
		d->script_json = json_text(script, strlen(script));
	}
	c->out = json_pack("{s:O}", "qScript", d->script_json);
	pthread_mutex_unlock(&d->mu);
	return 0;
}

static int set_script(struct qix_call *c)
{
	struct qix_doc *d = c->s->doc;
	const char *script = qix_param_str(c->params, 0, "qScript", NULL);
	char *copy = script ? strdup(script) : NULL;
	if (!copy) {
		c->msg = "qScript must be a string";
		return QIX_INVALID_PARAMS;
	}
	pthread_mutex_lock(&d->mu);
	free(d->script);
	json_decref(d->script_json);
	d->script_json = NULL;
	d->script = copy;
	d->dirty++;
	pthread_mutex_unlock(&d->mu);
	c->out = json_object();
	return 0;
}

static int do_save(struct qix_call *c)
{
	struct qix_doc *d = c->s->doc;
	struct err e;
	err_init(&e);
	if (qix_doc_save(c->s->q, d, &e) != 0) {
		log_warn("engine: DoSave of app %s: %s", d->id, e.message);
		c->msg = "the app could not be saved";
		return QIX_INTERNAL;
	}
	qix_sess_mark_changed(c->s, 1);
	c->out = json_object();
	return 0;
}

static int do_reload(struct qix_session *s, bool *ok)
{
	struct err e;
	err_init(&e);
	*ok = false;
	pthread_mutex_lock(&s->doc->mu);
	bool dirty = s->doc->dirty > 0;
	pthread_mutex_unlock(&s->doc->mu);
	/* the reload runs the saved script: save what was changed here first */
	int rc = dirty ? qix_doc_save(s->q, s->doc, &e) : 0;
	if (rc == 0)
		rc = s->q->cfg.env.reload(s->q->cfg.env.ctx, s->doc->id, &e);
	if (rc) {
		log_info("engine: DoReload of app %s: %s", s->doc->id, e.message);
		return 0; /* a failed reload answers qReturn false, not an error */
	}
	*ok = true;
	if (qix_doc_refresh(s->q, s->doc, &e) != 0)
		log_warn("engine: app %s: %s", s->doc->id, e.message);
	qix_sess_sync_data(s);
	return 0;
}

static int do_reload_method(struct qix_call *c)
{
	bool ok;
	do_reload(c->s, &ok);
	qix_sess_mark_all(c->s);
	if (strcmp(c->method, "DoReload") == 0)
		c->out = json_pack("{s:b}", "qReturn", ok);
	else
		c->out = json_pack("{s:{s:b,s:s,s:b}}", "qResult", "qSuccess", ok, "qScriptLogFile",
				   "", "qEndedWithMemoryConstraint", 0);
	return 0;
}

static int create_object(struct qix_call *c)
{
	bool session_obj = strcmp(c->method, "CreateSessionObject") == 0;
	json_t *props = qix_new_object_props(c->s, qix_param(c->params, 0, "qProp"), &c->msg);
	if (!props)
		return QIX_INVALID_PARAMS;
	char *idc = strdup(object_id(props)), *type = strdup(qix_object_type(props));
	qix_sess_object_store(c->s, idc, session_obj, props);
	struct qix_handle *h =
	    type ? qix_answer_handle(c, idc, session_obj, "GenericObject", type, !session_obj)
		 : NULL;
	if (h) /* the new handle's layout is new */
		qix_sess_mark_changed(c->s, h->num);
	free(idc);
	free(type);
	return h ? 0 : QIX_INTERNAL;
}

static int get_object(struct qix_call *c)
{
	const char *id = qix_param_str(c->params, 0, "qId", "");
	bool so;
	json_t *props = qix_sess_object_props(c->s, id, &so);
	if (!props) { /* what nebula.js's stardust expects, as Qlik's engines answer */
		c->msg = "Object not found";
		return QIX_NOT_FOUND;
	}
	struct qix_handle *h =
	    qix_answer_handle(c, id, so, "GenericObject", qix_object_type(props), false);
	json_decref(props);
	return h ? 0 : QIX_INTERNAL;
}

/* DestroyObject and DestroySessionObject: the object and its children */
static int destroy_object(struct qix_call *c)
{
	bool session_obj = strcmp(c->method, "DestroySessionObject") == 0;
	const char *id = qix_param_str(c->params, 0, "qId", "");
	return qix_answer_destroyed(c, id, session_obj);
}

static int get_all_infos(struct qix_call *c)
{
	struct qix_doc *d = c->s->doc;
	json_t *infos = json_array();
	pthread_mutex_lock(&d->mu);
	const char *k;
	json_t *v;
	json_object_foreach (d->objects, k, v)
		if (!qix_sess_hidden(c->s, v))
			json_array_append_new(
			    infos, json_pack("{s:s,s:s?}", "qId", k, "qType", qix_object_type(v)));
	pthread_mutex_unlock(&d->mu);
	c->out = json_pack("{s:o}", "qInfos", infos);
	return 0;
}

static int clear_all(struct qix_call *c)
{
	struct qix_session *s = c->s;
	bool locked_also = json_is_true(qix_param(c->params, 0, "qLockedAlso"));
	qix_sess_remember(s);
	for (int f = 0; f < s->sel.n_fields; f++) {
		if (qix_sess_field_locked(s, f)) {
			if (!locked_also)
				continue;
			qix_sess_field_lock(s, f, false);
		}
		if (model_assoc_select(s->data->a, &s->sel, f, NULL, 0) != 0)
			return QIX_INTERNAL;
	}
	qix_sess_selection_changed(s);
	c->out = json_object();
	return 0;
}

/* Back and Forward: one step through the session's selection history. */
static int step(struct qix_call *c)
{
	if (qix_sess_step(c->s, strcmp(c->method, "Forward") == 0) != 0)
		return QIX_INTERNAL;
	c->out = json_object();
	return 0;
}

static int get_field(struct qix_call *c)
{
	const char *name = qix_param_str(c->params, 0, "qFieldName", "");
	const struct assoc *a = c->s->data ? c->s->data->a : NULL;
	struct qix_handle *h = a && model_assoc_field(a, name) >= 0
				   ? qix_sess_add_handle(c->s, H_FIELD, name, false)
				   : NULL;
	c->out = h ? qix_ref("Field", h->num, NULL, NULL) : qix_null_ref();
	return 0;
}

static int abort_modal(struct qix_call *c)
{
	bool accept = json_is_true(qix_param(c->params, 0, "qAccept"));
	for (int i = 0; i < c->s->n_h; i++)
		if (c->s->h[i].in_selections)
			qix_obj_end_selections(c->s, &c->s->h[i], accept);
	c->out = json_object();
	return 0;
}

static int evaluate(struct qix_call *c)
{
	const char *expr = qix_param_str(c->params, 0, "qExpression", "");
	struct arena *a = arena_new();
	struct val v = {.null = true};
	struct err e;
	err_init(&e);
	int rc = qix_obj_evaluate(c->s, expr, &v, a, &e);
	char buf[64];
	const char *text = rc ? e.message : v.null ? "-" : data_val_text(&v, buf, sizeof(buf));
	if (strcmp(c->method, "Evaluate") == 0)
		c->out =
		    json_pack("{s:s}", "qReturn", rc ? arena_printf(a, "Error: %s", text) : text);
	else
		c->out = json_pack("{s:{s:s,s:b,s:f}}", "qValue", "qText", rc ? "" : text,
				   "qIsNumeric", rc == 0 && !v.null && v.has_num, "qNumber",
				   rc == 0 && v.has_num ? v.num : 0.0);
	arena_free(a);
	return 0;
}

/* CheckExpression: the expression is computed once, over the session's selections; what
 * stops it is the error message, empty when it computes. */
static int check_expression(struct qix_call *c)
{
	const char *expr = qix_param_str(c->params, 0, "qExpr", "");
	expr += strspn(expr, " \t\r\n");
	if (*expr == '=')
		expr++;
	struct arena *a = arena_new();
	struct val v = {.null = true};
	struct err e;
	err_init(&e);
	int rc =
	    a ? qix_obj_evaluate(c->s, expr, &v, a, &e) : err_set(&e, ERR_NOMEM, "out of memory");
	c->out = json_pack("{s:s,s:[],s:[]}", "qErrorMsg", rc ? e.message : "", "qBadFieldNames",
			   "qDangerousFieldNames");
	arena_free(a);
	return 0;
}

static int get_locale_info(struct qix_call *c)
{
	c->out = json_pack("{s:o}", "qReturn", locale_info());
	return 0;
}

static json_t *tables_and_keys(struct qix_session *s)
{
	json_t *tr = json_array(), *keys = json_array();
	const struct assoc *a = s->data ? s->data->a : NULL;
	for (int t = 0; a && t < a->n_tables; t++) {
		json_t *fields = json_array();
		for (int c = 0; c < a->tables[t].n_fields; c++) {
			const struct assoc_field *f = &a->fields[a->tables[t].field[c]];
			json_array_append_new(
			    fields, json_pack("{s:s,s:I,s:I,s:s,s:o}", "qName", f->name, "qnRows",
					      (json_int_t)a->tables[t].n_rows,
					      "qnTotalDistinctValues", (json_int_t)f->n_sym,
					      "qKeyType", f->n_tables > 1 ? "ANY_KEY" : "NOT_KEY",
					      "qTags", qix_field_tags(f)));
		}
		json_array_append_new(tr,
				      json_pack("{s:s,s:I,s:o,s:b,s:b}", "qName", a->tables[t].name,
						"qNoOfRows", (json_int_t)a->tables[t].n_rows,
						"qFields", fields, "qLoose", 0, "qIsSynthetic", 0));
	}
	for (int l = 0; a && l < a->n_links; l++) {
		json_t *kf = json_array();
		for (int k = 0; k < a->links[l].n_keys; k++) {
			int col = a->links[l].col[0][k];
			json_array_append_new(
			    kf,
			    json_string(a->fields[a->tables[a->links[l].t[0]].field[col]].name));
		}
		json_array_append_new(keys, json_pack("{s:o,s:[ss]}", "qKeyFields", kf, "qTables",
						      a->tables[a->links[l].t[0]].name,
						      a->tables[a->links[l].t[1]].name));
	}
	return json_pack("{s:o,s:o}", "qtr", tr, "qk", keys);
}

static int get_tables_and_keys(struct qix_call *c)
{
	c->out = tables_and_keys(c->s);
	return 0;
}

/* ---------------------------------------------------------------- the table */

/* Arity: the positional parameters of the method in Qlik's schema (enigma.js's
 * schemas/12.2027.0.json); a call with more is refused. */
const struct qix_method qix_app_methods[] = {
    {QIX_GLOBAL, "OpenDoc", open_doc, 5},
    {QIX_GLOBAL, "GetActiveDoc", get_active_doc, 0},
    {QIX_GLOBAL, "EngineVersion", engine_version, 0},
    {QIX_GLOBAL, "ProductVersion", product_version, 0},
    {QIX_GLOBAL, "QvVersion", product_version, 0},
    {QIX_GLOBAL, "OSName", os_name, 0},
    {QIX_GLOBAL, "OSVersion", os_name, 0},
    {QIX_GLOBAL, "IsDesktopMode", answer_false, 0},
    {QIX_GLOBAL, "AllowCreateApp", answer_false, 0},
    {QIX_GLOBAL, "GetUniqueID", get_unique_id, 0},
    {QIX_GLOBAL, "GetAuthenticatedUser", get_authenticated_user, 0},
    {QIX_GLOBAL, "CancelRequest", answer_empty, 1},
    {QIX_GLOBAL, "CancelReload", answer_empty, 0},
    {QIX_GLOBAL, "GetDocList", get_doc_list, 0},
    {QIX_DOC, "GetAppLayout", get_app_layout, 0},
    {QIX_DOC, "GetAppProperties", get_app_properties, 0},
    {QIX_DOC, "SetAppProperties", set_app_properties, 1},
    {QIX_DOC, "GetScript", get_script, 0},
    {QIX_DOC, "SetScript", set_script, 1},
    {QIX_DOC, "DoSave", do_save, 1},
    {QIX_DOC, "DoReload", do_reload_method, 3},
    {QIX_DOC, "DoReloadEx", do_reload_method, 1},
    {QIX_DOC, "CreateSessionObject", create_object, 1},
    {QIX_DOC, "CreateObject", create_object, 1},
    {QIX_DOC, "GetObject", get_object, 1},
    {QIX_DOC, "Back", step, 0},
    {QIX_DOC, "Forward", step, 0},
    {QIX_DOC, "DestroySessionObject", destroy_object, 1},
    {QIX_DOC, "DestroyObject", destroy_object, 1},
    {QIX_DOC, "GetAllInfos", get_all_infos, 0},
    {QIX_DOC, "ClearAll", clear_all, 2},
    {QIX_DOC, "GetField", get_field, 2},
    {QIX_DOC, "AbortModal", abort_modal, 1},
    /* the engine keeps no undo buffer of property changes: there is nothing to clear */
    {QIX_DOC, "ClearUndoBuffer", answer_empty, 0},
    {QIX_DOC, "Evaluate", evaluate, 1},
    {QIX_DOC, "EvaluateEx", evaluate, 1},
    {QIX_DOC, "CheckExpression", check_expression, 2},
    {QIX_DOC, "GetLocaleInfo", get_locale_info, 0},
    {QIX_DOC, "GetTablesAndKeys", get_tables_and_keys, 5},
    {0, NULL, NULL, 0},
};
