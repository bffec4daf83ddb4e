/* qix.c: QIX sessions: the JSON-RPC envelope (qix.md section 1), handles, and the methods
 * of Global and Doc. Object and field methods are in qix_object.c. */
#include "qix/qix_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QIX_VERSION "12.2027.0"

/* ---------------------------------------------------------------- helpers */

json_t *qix_param(json_t *params, int pos, const char *name)
{
	if (json_is_array(params))
		return json_array_get(params, (size_t)pos);
	if (json_is_object(params))
		return json_object_get(params, name);
	return NULL;
}

static const char *param_str(json_t *params, int pos, const char *name, const char *dflt)
{
	json_t *v = qix_param(params, pos, name);
	return json_is_string(v) ? json_string_value(v) : dflt;
}

static json_t *ref(const char *type, int num, const char *gtype, const char *gid)
{
	json_t *r = json_pack("{s:s,s:i}", "qType", type, "qHandle", num);
	if (gtype)
		json_object_set_new(r, "qGenericType", json_string(gtype));
	if (gid)
		json_object_set_new(r, "qGenericId", json_string(gid));
	return json_pack("{s:o}", "qReturn", r);
}

/* What enigma.js and nebula read as "Object not found". */
static json_t *null_ref(void)
{
	return json_pack("{s:{s:n,s:n}}", "qReturn", "qType", "qHandle");
}

/* ---------------------------------------------------------------- handles */

struct qix_handle *qix_sess_handle(struct qix_session *s, int num)
{
	for (int i = 0; i < s->n_h; i++)
		if (s->h[i].num == num)
			return &s->h[i];
	return NULL;
}

struct qix_handle *qix_sess_add_handle(struct qix_session *s, enum qix_kind kind, const char *id,
				       bool session_obj)
{
	for (int i = 0; i < s->n_h; i++)
		if (s->h[i].kind == kind && strcmp(s->h[i].id, id) == 0 &&
		    s->h[i].session_obj == session_obj)
			return &s->h[i];
	pthread_mutex_lock(&s->mu);
	struct qix_handle *h = NULL;
	if (s->n_h == s->cap_h) {
		int cap = s->cap_h ? s->cap_h * 2 : 16;
		struct qix_handle *nh = realloc(s->h, sizeof(*nh) * (size_t)cap);
		if (nh) {
			s->h = nh;
			s->cap_h = cap;
		}
	}
	char *copy = strdup(id);
	if (s->n_h < s->cap_h && copy) {
		h = &s->h[s->n_h++];
		memset(h, 0, sizeof(*h));
		h->num = kind == H_DOC ? 1 : ++s->next_num;
		h->kind = kind;
		h->id = copy;
		h->session_obj = session_obj;
		copy = NULL;
	}
	pthread_mutex_unlock(&s->mu);
	free(copy);
	return h;
}

static void drop_handle(struct qix_session *s, int idx)
{
	pthread_mutex_lock(&s->mu);
	free(s->h[idx].id);
	json_decref(s->h[idx].soft);
	s->h[idx] = s->h[--s->n_h];
	pthread_mutex_unlock(&s->mu);
}

void qix_sess_mark_changed(struct qix_session *s, int num)
{
	for (int i = 0; i < s->n_changed; i++)
		if (s->changed[i] == num)
			return;
	if (s->n_changed == s->cap_changed) {
		int cap = s->cap_changed ? s->cap_changed * 2 : 16;
		int *n = realloc(s->changed, sizeof(int) * (size_t)cap);
		if (!n)
			return;
		s->changed = n;
		s->cap_changed = cap;
	}
	s->changed[s->n_changed++] = num;
}

void qix_sess_mark_all(struct qix_session *s)
{
	s->all_changed = true;
}

/* ---------------------------------------------------------------- selections and data */

void qix_sess_selection_changed(struct qix_session *s)
{
	if (s->st_ok && s->data && s->data->a)
		model_assoc_states_release(s->data->a, &s->st);
	s->st_ok = false;
	qix_sess_mark_all(s);
}

int qix_sess_states(struct qix_session *s, const struct assoc_states **out, struct err *e)
{
	*out = NULL;
	if (!s->data || !s->data->a)
		return err_set(e, ERR_INVALID, "the app has no data");
	if (!s->st_ok) {
		int rc = model_assoc_compute(s->data->a, &s->sel, &s->st, e);
		if (rc)
			return rc;
		s->st_ok = true;
	}
	*out = &s->st;
	return 0;
}

/* Moves the session to the app's current data, keeping its selections by value. */
static void sync_data(struct qix_session *s)
{
	if (!s->doc)
		return;
	pthread_mutex_lock(&s->mu);
	s->data_moved = false;
	pthread_mutex_unlock(&s->mu);
	struct qix_data *cur = qix_doc_data(s->q, s->doc);
	if (cur == s->data) {
		qix_data_release(s->q, cur);
		return;
	}
	struct assoc_sel sel = {0};
	const struct assoc *na = cur ? cur->a : NULL, *oa = s->data ? s->data->a : NULL;
	if (na && model_assoc_sel_init(na, &sel) == 0 && oa) {
		for (int f = 0; f < s->sel.n_fields; f++) {
			if (!s->sel.selected[f])
				continue;
			int nf = model_assoc_field(na, oa->fields[f].name);
			int64_t *syms = nf >= 0 ? calloc((size_t)oa->fields[f].n_sym + 1, 8) : NULL;
			int n = 0;
			for (int64_t i = 0; syms && i < oa->fields[f].n_sym; i++) {
				if (!s->sel.selected[f][i])
					continue;
				char buf[64];
				int64_t ns = model_assoc_find(
				    na, nf, data_val_text(&oa->fields[f].sym[i], buf, sizeof(buf)));
				if (ns >= 0)
					syms[n++] = ns;
			}
			if (n && model_assoc_select(na, &sel, nf, syms, n) != 0)
				log_warn("engine: a selection could not be carried over");
			free(syms);
		}
	}
	if (s->has_modal_saved) {
		model_assoc_sel_release(&s->modal_saved);
		s->has_modal_saved = false;
	}
	qix_sess_selection_changed(s);
	model_assoc_sel_release(&s->sel);
	s->sel = sel;
	qix_data_release(s->q, s->data);
	s->data = cur;
}

/* ---------------------------------------------------------------- objects */

json_t *qix_sess_object_props(struct qix_session *s, const char *id, bool *out_session_obj)
{
	json_t *p = json_object_get(s->session_objects, id);
	if (p) {
		*out_session_obj = true;
		return json_incref(p);
	}
	*out_session_obj = false;
	if (!s->doc)
		return NULL;
	pthread_mutex_lock(&s->doc->mu);
	p = json_incref(json_object_get(s->doc->objects, id));
	pthread_mutex_unlock(&s->doc->mu);
	return p;
}

void qix_sess_object_store(struct qix_session *s, const char *id, bool session_obj, json_t *props)
{
	if (session_obj) {
		json_object_set_new(s->session_objects, id, props);
		return;
	}
	pthread_mutex_lock(&s->doc->mu);
	json_t *objs = json_copy(s->doc->objects); /* readers may hold the old map */
	json_object_set_new(objs, id, props);
	json_decref(s->doc->objects);
	s->doc->objects = objs;
	s->doc->dirty = true;
	pthread_mutex_unlock(&s->doc->mu);
	qix_doc_notify(s->q, s->doc, s, id);
}

static bool id_taken(struct qix_session *s, const char *id)
{
	bool so;
	json_t *p = qix_sess_object_props(s, id, &so);
	json_decref(p);
	return p != NULL;
}

/* A copy of the properties with a qInfo.qId that is free (generated when absent or
 * taken). NULL when qInfo.qType is missing. */
static json_t *new_object_props(struct qix_session *s, json_t *prop, const char **msg)
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

static const char *object_type(json_t *props)
{
	return json_string_value(json_object_get(json_object_get(props, "qInfo"), "qType"));
}

static const char *object_id(json_t *props)
{
	return json_string_value(json_object_get(json_object_get(props, "qInfo"), "qId"));
}

static json_t *close_handles(struct qix_session *s, const char *id, bool session_obj)
{
	json_t *closed = json_array();
	for (int i = 0; i < s->n_h;) {
		if (s->h[i].kind == H_OBJ && s->h[i].session_obj == session_obj &&
		    strcmp(s->h[i].id, id) == 0) {
			json_array_append_new(closed, json_integer(s->h[i].num));
			drop_handle(s, i);
		} else {
			i++;
		}
	}
	return closed;
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
	pthread_mutex_lock(&d->mu);
	const char *title = json_string_value(json_object_get(d->props, "qTitle"));
	json_t *l = json_pack(
	    "{s:s,s:s,s:s,s:b,s:b,s:[],s:o,s:b,s:b,s:b,s:b,s:b,s:{s:s},s:o}", "qTitle",
	    title && *title ? title : d->info.title, "qFileName", d->id, "qLastReloadTime",
	    d->info.last_reload, "qModified", d->dirty, "qHasScript", d->script && *d->script,
	    "qStateNames", "qMeta",
	    json_pack("{s:[ssss]}", "privileges", "read", "update", "delete", "reload"), "qHasData",
	    s->data && s->data->a, "qReadOnly", 0, "qIsOpenedWithoutData", 0, "qIsSessionApp", 0,
	    "qIsDirectQueryMode", 0, "qThumbnail", "qUrl", "", "qLocaleInfo", locale_info());
	pthread_mutex_unlock(&d->mu);
	return l;
}

/* ---------------------------------------------------------------- Global */

struct doclist {
	struct qix *q;
	json_t *list;
};

static void doclist_add(void *arg, const char *id)
{
	struct doclist *dl = arg;
	struct qix_app_info info;
	struct err e;
	err_init(&e);
	memset(&info, 0, sizeof(info));
	if (dl->q->cfg.env.locate(dl->q->cfg.env.ctx, id, &info, &e) != 0)
		return;
	json_array_append_new(dl->list,
			      json_pack("{s:s,s:s,s:s,s:{},s:s,s:b,s:I,s:s,s:i}", "qDocName",
					info.title, "qDocId", id, "qTitle", info.title, "qMeta",
					"qLastReloadTime", info.last_reload, "qReadOnly", 0,
					"qFileSize", (json_int_t)info.file_size, "qFileTime",
					info.file_time, "qConnectedUsers", 0));
}

static int open_doc(struct qix_session *s, const char *name, json_t **out, const char **msg)
{
	if (s->doc) {
		*msg = "App already open";
		return QIX_APP_ALREADY_OPEN;
	}
	struct err e;
	err_init(&e);
	struct qix_doc *d;
	int rc = qix_doc_open(s->q, name, &d, &e);
	if (rc) {
		log_info("engine: OpenDoc %s: %s", name, e.message);
		*msg = rc == ERR_NOT_FOUND ? "App not found" : "App could not be opened";
		return rc == ERR_NOT_FOUND ? QIX_APP_NOT_FOUND : QIX_INTERNAL;
	}
	pthread_mutex_lock(&s->q->mu);
	s->doc = d;
	s->next_in_doc = d->sessions;
	d->sessions = s;
	pthread_mutex_unlock(&s->q->mu);
	s->data = qix_doc_data(s->q, d);
	if (s->data && s->data->a && model_assoc_sel_init(s->data->a, &s->sel) != 0) {
		*msg = "out of memory";
		return QIX_INTERNAL;
	}
	struct qix_handle *h = qix_sess_add_handle(s, H_DOC, d->id, false);
	if (!h) {
		*msg = "out of memory";
		return QIX_INTERNAL;
	}
	qix_sess_mark_changed(s, h->num);
	*out = ref("Doc", h->num, NULL, d->id);
	return 0;
}

static int global_call(struct qix_session *s, const char *m, json_t *p, json_t **out,
		       const char **msg)
{
	if (strcmp(m, "OpenDoc") == 0) {
		const char *name = param_str(p, 0, "qDocName", NULL);
		if (!name || !*name) {
			*msg = "qDocName is required";
			return QIX_INVALID_PARAMS;
		}
		return open_doc(s, name, out, msg);
	}
	if (strcmp(m, "GetActiveDoc") == 0) {
		if (!s->doc) {
			*msg = "No active document";
			return QIX_APP_INVALID;
		}
		*out = ref("Doc", 1, NULL, s->doc->id);
		return 0;
	}
	if (strcmp(m, "EngineVersion") == 0) {
		*out = json_pack("{s:{s:s}}", "qVersion", "qComponentVersion", QIX_VERSION);
		return 0;
	}
	if (strcmp(m, "ProductVersion") == 0 || strcmp(m, "QvVersion") == 0) {
		*out = json_pack("{s:s}", "qReturn", QIX_VERSION);
		return 0;
	}
	if (strcmp(m, "OSName") == 0 || strcmp(m, "OSVersion") == 0) {
		*out = json_pack("{s:s}", "qReturn", strcmp(m, "OSName") == 0 ? "Linux" : "");
		return 0;
	}
	if (strcmp(m, "IsDesktopMode") == 0 || strcmp(m, "AllowCreateApp") == 0) {
		*out = json_pack("{s:b}", "qReturn", 0);
		return 0;
	}
	if (strcmp(m, "GetUniqueID") == 0) {
		char u[UUID_STR_LEN + 1];
		uuid_new(u);
		*out = json_pack("{s:s}", "qUniqueID", u);
		return 0;
	}
	if (strcmp(m, "GetAuthenticatedUser") == 0) {
		*out = json_pack("{s:s}", "qReturn", s->user);
		return 0;
	}
	if (strcmp(m, "CancelRequest") == 0 || strcmp(m, "CancelReload") == 0) {
		*out = json_object();
		return 0;
	}
	if (strcmp(m, "GetDocList") == 0) {
		struct doclist dl = {s->q, json_array()};
		struct err e;
		err_init(&e);
		if (s->q->cfg.env.list &&
		    s->q->cfg.env.list(s->q->cfg.env.ctx, doclist_add, &dl, &e))
			log_warn("engine: GetDocList: %s", e.message);
		*out = json_pack("{s:o}", "qDocList", dl.list);
		return 0;
	}
	*msg = m;
	return QIX_NO_METHOD;
}

/* ---------------------------------------------------------------- Doc */

static int do_reload(struct qix_session *s, bool *ok)
{
	struct err e;
	err_init(&e);
	*ok = false;
	pthread_mutex_lock(&s->doc->mu);
	bool dirty = s->doc->dirty;
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
	sync_data(s);
	return 0;
}

static int create_object(struct qix_session *s, json_t *p, bool session_obj, json_t **out,
			 const char **msg)
{
	json_t *props = new_object_props(s, qix_param(p, 0, "qProp"), msg);
	if (!props)
		return QIX_INVALID_PARAMS;
	const char *id = object_id(props);
	char *idc = strdup(id), *type = strdup(object_type(props));
	qix_sess_object_store(s, idc, session_obj, props);
	struct qix_handle *h = qix_sess_add_handle(s, H_OBJ, idc, session_obj);
	if (h) {
		*out = ref("GenericObject", h->num, type, idc);
		if (!session_obj)
			json_object_set_new(*out, "qInfo",
					    json_pack("{s:s,s:s}", "qId", idc, "qType", type));
		qix_sess_mark_changed(s, h->num);
	}
	free(idc);
	free(type);
	if (!h) {
		*msg = "out of memory";
		return QIX_INTERNAL;
	}
	return 0;
}

static int evaluate(struct qix_session *s, const char *m, json_t *p, json_t **out, const char **msg)
{
	const char *expr = param_str(p, 0, "qExpression", "");
	struct arena *a = arena_new();
	struct val v = {.null = true};
	struct err e;
	err_init(&e);
	int rc = qix_obj_evaluate(s, expr, &v, a, &e);
	char buf[64];
	const char *text = rc ? e.message : v.null ? "-" : data_val_text(&v, buf, sizeof(buf));
	if (strcmp(m, "Evaluate") == 0)
		*out =
		    json_pack("{s:s}", "qReturn", rc ? arena_printf(a, "Error: %s", text) : text);
	else
		*out = json_pack("{s:{s:s,s:b,s:f}}", "qValue", "qText", rc ? "" : text,
				 "qIsNumeric", rc == 0 && !v.null && v.has_num, "qNumber",
				 rc == 0 && v.has_num ? v.num : 0.0);
	arena_free(a);
	(void)msg;
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
			    fields, json_pack("{s:s,s:I,s:I,s:s}", "qName", f->name, "qnRows",
					      (json_int_t)a->tables[t].n_rows,
					      "qnTotalDistinctValues", (json_int_t)f->n_sym,
					      "qKeyType", f->n_tables > 1 ? "ANY_KEY" : "NOT_KEY"));
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

static int doc_call(struct qix_session *s, const char *m, json_t *p, json_t **out, const char **msg,
		    json_t *closed)
{
	struct qix_doc *d = s->doc;
	if (strcmp(m, "GetAppLayout") == 0) {
		*out = json_pack("{s:o}", "qLayout", app_layout(s));
		return 0;
	}
	if (strcmp(m, "GetAppProperties") == 0) {
		pthread_mutex_lock(&d->mu);
		*out = json_pack("{s:O}", "qProp", d->props);
		pthread_mutex_unlock(&d->mu);
		return 0;
	}
	if (strcmp(m, "SetAppProperties") == 0) {
		json_t *np = qix_param(p, 0, "qProp");
		if (!json_is_object(np)) {
			*msg = "qProp must be an object";
			return QIX_INVALID_PARAMS;
		}
		pthread_mutex_lock(&d->mu);
		json_decref(d->props);
		d->props = json_deep_copy(np);
		json_object_del(d->props, "objects");
		d->dirty = true;
		pthread_mutex_unlock(&d->mu);
		qix_sess_mark_changed(s, 1);
		*out = json_object();
		return 0;
	}
	if (strcmp(m, "GetScript") == 0) {
		pthread_mutex_lock(&d->mu);
		*out = json_pack("{s:s}", "qScript", d->script ? d->script : "");
		pthread_mutex_unlock(&d->mu);
		return 0;
	}
	if (strcmp(m, "SetScript") == 0) {
		const char *script = param_str(p, 0, "qScript", NULL);
		char *copy = script ? strdup(script) : NULL;
		if (!copy) {
			*msg = "qScript must be a string";
			return QIX_INVALID_PARAMS;
		}
		pthread_mutex_lock(&d->mu);
		free(d->script);
		d->script = copy;
		d->dirty = true;
		pthread_mutex_unlock(&d->mu);
		*out = json_object();
		return 0;
	}
	if (strcmp(m, "DoSave") == 0) {
		struct err e;
		err_init(&e);
		if (qix_doc_save(s->q, d, &e) != 0) {
			log_warn("engine: DoSave of app %s: %s", d->id, e.message);
			*msg = "the app could not be saved";
			return QIX_INTERNAL;
		}
		qix_sess_mark_changed(s, 1);
		*out = json_object();
		return 0;
	}
	if (strcmp(m, "DoReload") == 0 || strcmp(m, "DoReloadEx") == 0) {
		bool ok;
		do_reload(s, &ok);
		qix_sess_mark_all(s);
		if (strcmp(m, "DoReload") == 0)
			*out = json_pack("{s:b}", "qReturn", ok);
		else
			*out = json_pack("{s:{s:b,s:s,s:b}}", "qResult", "qSuccess", ok,
					 "qScriptLogFile", "", "qEndedWithMemoryConstraint", 0);
		return 0;
	}
	if (strcmp(m, "CreateSessionObject") == 0)
		return create_object(s, p, true, out, msg);
	if (strcmp(m, "CreateObject") == 0)
		return create_object(s, p, false, out, msg);
	if (strcmp(m, "GetObject") == 0) {
		const char *id = param_str(p, 0, "qId", "");
		bool so;
		json_t *props = qix_sess_object_props(s, id, &so);
		struct qix_handle *h = props ? qix_sess_add_handle(s, H_OBJ, id, so) : NULL;
		*out = h ? ref("GenericObject", h->num, object_type(props), id) : null_ref();
		json_decref(props);
		return 0;
	}
	if (strcmp(m, "DestroySessionObject") == 0 || strcmp(m, "DestroyObject") == 0) {
		bool session_obj = strcmp(m, "DestroySessionObject") == 0;
		const char *id = param_str(p, 0, "qId", "");
		bool ok = false;
		if (session_obj) {
			ok = json_object_get(s->session_objects, id) != NULL;
			json_object_del(s->session_objects, id);
		} else {
			pthread_mutex_lock(&d->mu);
			ok = json_object_get(d->objects, id) != NULL;
			if (ok) {
				json_t *objs = json_copy(d->objects);
				json_object_del(objs, id);
				json_decref(d->objects);
				d->objects = objs;
				d->dirty = true;
			}
			pthread_mutex_unlock(&d->mu);
			if (ok)
				qix_doc_notify(s->q, d, s, id);
		}
		json_t *c = close_handles(s, id, session_obj);
		json_array_extend(closed, c);
		json_decref(c);
		*out = json_pack("{s:b}", "qSuccess", ok);
		return 0;
	}
	if (strcmp(m, "GetAllInfos") == 0) {
		json_t *infos = json_array();
		pthread_mutex_lock(&d->mu);
		const char *k;
		json_t *v;
		json_object_foreach (d->objects, k, v)
			json_array_append_new(
			    infos, json_pack("{s:s,s:s?}", "qId", k, "qType", object_type(v)));
		pthread_mutex_unlock(&d->mu);
		*out = json_pack("{s:o}", "qInfos", infos);
		return 0;
	}
	if (strcmp(m, "ClearAll") == 0) {
		for (int f = 0; f < s->sel.n_fields; f++)
			if (model_assoc_select(s->data->a, &s->sel, f, NULL, 0) != 0)
				return QIX_INTERNAL;
		qix_sess_selection_changed(s);
		*out = json_object();
		return 0;
	}
	if (strcmp(m, "GetField") == 0) {
		const char *name = param_str(p, 0, "qFieldName", "");
		const struct assoc *a = s->data ? s->data->a : NULL;
		struct qix_handle *h = a && model_assoc_field(a, name) >= 0
					   ? qix_sess_add_handle(s, H_FIELD, name, false)
					   : NULL;
		*out = h ? ref("Field", h->num, NULL, NULL) : null_ref();
		return 0;
	}
	if (strcmp(m, "AbortModal") == 0) {
		bool accept = json_is_true(qix_param(p, 0, "qAccept"));
		for (int i = 0; i < s->n_h; i++)
			if (s->h[i].in_selections) {
				json_t *args = json_pack("[b]", accept), *r = NULL;
				const char *m2 = NULL;
				qix_obj_call(s, &s->h[i], "EndSelections", args, &r, &m2);
				json_decref(args);
				json_decref(r);
			}
		*out = json_object();
		return 0;
	}
	if (strcmp(m, "Evaluate") == 0 || strcmp(m, "EvaluateEx") == 0)
		return evaluate(s, m, p, out, msg);
	if (strcmp(m, "GetLocaleInfo") == 0) {
		*out = json_pack("{s:o}", "qReturn", locale_info());
		return 0;
	}
	if (strcmp(m, "GetTablesAndKeys") == 0) {
		*out = tables_and_keys(s);
		return 0;
	}
	*msg = m;
	return QIX_NO_METHOD;
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
	case QIX_APP_INVALID: return "App invalid";
	case QIX_MODAL: return "Object is already in modal state";
	default: return "Internal error";
	}
}

static void send_json(struct qix_session *s, json_t *msg)
{
	char *text = json_dumps(msg, JSON_COMPACT);
	if (text)
		s->send(s->send_ctx, text, strlen(text));
	free(text);
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
		if (listed || (s->all_changed && s->h[i].kind != H_FIELD))
			json_array_append_new(change, json_integer(s->h[i].num));
	}
	if (json_array_size(change))
		json_object_set(r, "change", change);
	json_decref(change);
	if (json_array_size(closed))
		json_object_set(r, "close", closed);
	send_json(s, r);
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
	s->all_changed = false;
	json_t *out = NULL, *closed = json_array();
	const char *msg = NULL;
	int code = 0;
	if (!json_is_object(req) || !json_is_string(jm) || (jh && !json_is_integer(jh)) ||
	    (p && !json_is_array(p) && !json_is_object(p))) {
		code = QIX_INVALID_REQUEST;
		msg = "a request needs a method, a handle and params as an array or object";
		if (!id)
			id = null_id;
	} else {
		if (!p)
			p = json_array(), json_object_set_new(req, "params", p);
		const char *m = json_string_value(jm);
		int hn = jh ? (int)json_integer_value(jh) : -1;
		sync_data(s);
		struct qix_handle *h = hn == -1 ? NULL : qix_sess_handle(s, hn);
		if (hn == -1)
			code = global_call(s, m, p, &out, &msg);
		else if (!h) {
			code = QIX_INVALID_PARAMS;
			msg = "Invalid handle";
		} else if (h->kind == H_DOC)
			code = doc_call(s, m, p, &out, &msg, closed);
		else
			code = qix_obj_call(s, h, m, p, &out, &msg);
		if (code == 0 && !out)
			code = QIX_INTERNAL, msg = "out of memory";
	}
	reply(s, id, code, msg, code ? NULL : out, closed);
	if (code)
		json_decref(out);
	json_decref(closed);
	json_decref(null_id);
	json_decref(req);
}

/* ---------------------------------------------------------------- sessions */

struct qix_session *qix_session_new(struct qix *q, const char *app_id, const char *user,
				    qix_send_fn send, void *send_ctx)
{
	struct qix_session *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->q = q;
	str_copy(s->app_hint, app_id ? app_id : "", sizeof(s->app_hint));
	str_copy(s->user, user ? user : "", sizeof(s->user));
	s->send = send;
	s->send_ctx = send_ctx;
	s->session_objects = json_object();
	s->next_num = 1; /* 1 is the doc */
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_lock(&q->mu);
	q->n_sessions++;
	pthread_mutex_unlock(&q->mu);
	json_t *hello = json_pack("{s:s,s:s,s:{s:s}}", "jsonrpc", "2.0", "method", "OnConnected",
				  "params", "qSessionState", "SESSION_CREATED");
	send_json(s, hello);
	json_decref(hello);
	return s;
}

void qix_session_free(struct qix_session *s)
{
	if (!s)
		return;
	struct qix *q = s->q;
	pthread_mutex_lock(&q->mu);
	q->n_sessions--;
	if (s->doc)
		for (struct qix_session **pp = &s->doc->sessions; *pp; pp = &(*pp)->next_in_doc)
			if (*pp == s) {
				*pp = s->next_in_doc;
				break;
			}
	pthread_mutex_unlock(&q->mu);
	if (s->st_ok && s->data && s->data->a)
		model_assoc_states_release(s->data->a, &s->st);
	model_assoc_sel_release(&s->sel);
	if (s->has_modal_saved)
		model_assoc_sel_release(&s->modal_saved);
	qix_data_release(q, s->data);
	if (s->doc)
		qix_doc_release(q, s->doc);
	for (int i = 0; i < s->n_h; i++) {
		free(s->h[i].id);
		json_decref(s->h[i].soft);
	}
	free(s->h);
	free(s->changed);
	json_decref(s->session_objects);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
