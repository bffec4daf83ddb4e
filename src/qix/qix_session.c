/* qix_session.c: a QIX session's state: its handles, the changes a request makes, its
 * selection and the data it is on, its objects; and the JSON-RPC parameter helpers every
 * method uses. Methods are in qix_app.c and qix_object.c, the envelope in qix.c. */
#include "qix/qix_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- parameters and answers */

json_t *qix_param(json_t *params, int pos, const char *name)
{
	if (json_is_array(params))
		return json_array_get(params, (size_t)pos);
	if (json_is_object(params))
		return json_object_get(params, name);
	return NULL;
}

const char *qix_param_str(json_t *params, int pos, const char *name, const char *dflt)
{
	json_t *v = qix_param(params, pos, name);
	return json_is_string(v) ? json_string_value(v) : dflt;
}

json_t *qix_ref(const char *type, int num, const char *gtype, const char *gid)
{
	json_t *r = json_pack("{s:s,s:i}", "qType", type, "qHandle", num);
	if (gtype)
		json_object_set_new(r, "qGenericType", json_string(gtype));
	if (gid)
		json_object_set_new(r, "qGenericId", json_string(gid));
	return json_pack("{s:o}", "qReturn", r);
}

/* What enigma.js and nebula read as "Object not found". */
json_t *qix_null_ref(void)
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

json_t *qix_sess_close_object(struct qix_session *s, const char *id, bool session_obj)
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

/* ---------------------------------------------------------------- selections and data */

void qix_sess_selection_changed(struct qix_session *s)
{
	s->sel_version++;
	s->sel_key_ok = false;
	qix_cache_states_drop(s);
	s->states_changed = true;
}

int qix_sess_states(struct qix_session *s, const struct assoc_states **out, struct err *e)
{
	*out = NULL;
	if (!s->data || !s->data->a)
		return err_set(e, ERR_INVALID, "the app has no data");
	return qix_cache_states(s, out, e);
}

/* Moves the session to the app's current data, keeping its selections by value. */
void qix_sess_sync_data(struct qix_session *s)
{
	if (!s->doc)
		return;
	pthread_mutex_lock(&s->mu);
	s->data_moved = false;
	pthread_mutex_unlock(&s->mu);
	struct qix_data *base = qix_doc_data(s->q, s->doc);
	if (base == s->data || (base && s->data && strcmp(base->gen, s->data->gen) == 0)) {
		qix_data_release(s->q, base); /* the same generation (or the part of it for them) */
		return;
	}
	/* a new generation: what section access gives the person in it */
	struct qix_data *cur = NULL;
	const char *why = NULL;
	struct err ae;
	err_init(&ae);
	if (qix_access_data(s, base, &cur, &s->access_user, &why, &ae) != 0)
		log_warn("engine: section access of app %s: %s", s->doc->id, ae.message);
	qix_data_release(s->q, base);
	if (!cur) { /* refused now: the session goes on without data */
		cur = calloc(1, sizeof(*cur));
		if (cur) {
			pthread_mutex_init(&cur->cache_mu, NULL);
			cur->refs = 1;
			str_copy(cur->gen, base ? base->gen : "", sizeof(cur->gen));
		}
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
				struct val v = model_sym(&oa->fields[f], i);
				int64_t ns =
				    model_assoc_find(na, nf, data_val_text(&v, buf, sizeof(buf)));
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
	qix_sess_mark_all(s); /* new data: the lists of fields too */
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
	if (p && qix_sess_hidden(s, p)) {
		json_decref(p);
		return NULL;
	}
	return p;
}

const char *qix_obj_private_to(json_t *props)
{
	return json_string_value(json_object_get(json_object_get(props, "qMetaDef"), "privateTo"));
}

bool qix_sess_hidden(const struct qix_session *s, json_t *props)
{
	const char *to = qix_obj_private_to(props);
	return to && strcmp(to, s->user) != 0;
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
	s->doc->dirty++;
	pthread_mutex_unlock(&s->doc->mu);
	qix_doc_notify(s->q, s->doc, s, id);
}

json_t *qix_sess_saved_objects(struct qix_session *s)
{
	if (!s->doc)
		return NULL;
	pthread_mutex_lock(&s->doc->mu);
	json_t *objs = json_incref(s->doc->objects); /* replaced, never changed in place */
	pthread_mutex_unlock(&s->doc->mu);
	return objs;
}

bool qix_sess_object_remove(struct qix_session *s, const char *id, bool session_obj)
{
	if (session_obj) {
		bool ok = json_object_get(s->session_objects, id) != NULL;
		json_object_del(s->session_objects, id);
		return ok;
	}
	struct qix_doc *d = s->doc;
	pthread_mutex_lock(&d->mu);
	bool ok = json_object_get(d->objects, id) != NULL;
	if (ok) {
		json_t *objs = json_copy(d->objects); /* readers may hold the old map */
		json_object_del(objs, id);
		json_decref(d->objects);
		d->objects = objs;
		d->dirty++;
	}
	pthread_mutex_unlock(&d->mu);
	if (ok)
		qix_doc_notify(s->q, d, s, id);
	return ok;
}

struct qix_handle *qix_answer_handle(struct qix_call *c, const char *id, bool session_obj,
				     const char *cls, const char *type, bool with_info)
{
	struct qix_handle *h = id ? qix_sess_add_handle(c->s, H_OBJ, id, session_obj) : NULL;
	if (!h) {
		c->msg = "out of memory";
		return NULL;
	}
	c->out = qix_ref(cls, h->num, type, id);
	if (with_info)
		json_object_set_new(c->out, "qInfo",
				    json_pack("{s:s,s:s?}", "qId", id, "qType", type));
	return h;
}

/* ---------------------------------------------------------------- sessions */

void qix_sess_send(struct qix_session *s, json_t *msg)
{
	size_t n;
	char *text = json_encode(msg, &n);
	if (text)
		s->send(s->send_ctx, text, n);
}

#define HISTORY_MAX 100

/* The session's selection by value: {field name: [texts]}, fields with a selection only. */
json_t *qix_sess_snapshot(const struct qix_session *s)
{
	json_t *o = json_object();
	const struct assoc *a = s->data ? s->data->a : NULL;
	for (int f = 0; a && f < s->sel.n_fields; f++) {
		if (!s->sel.selected[f])
			continue;
		json_t *texts = json_array();
		for (int64_t i = 0; i < a->fields[f].n_sym; i++) {
			char b[64];
			struct val v = model_sym(&a->fields[f], i);
			if (s->sel.selected[f][i])
				json_array_append_new(texts,
						      json_string(data_val_text(&v, b, sizeof(b))));
		}
		json_object_set_new(o, a->fields[f].name, texts);
	}
	return o;
}

void qix_sess_remember(struct qix_session *s)
{
	if (!s->back)
		s->back = json_array();
	json_array_append_new(s->back, qix_sess_snapshot(s));
	if (json_array_size(s->back) > HISTORY_MAX)
		json_array_remove(s->back, 0);
	json_decref(s->forward);
	s->forward = NULL;
}

/* Makes `snap` the session's selection; locked fields keep theirs. */
static int restore(struct qix_session *s, json_t *snap)
{
	const struct assoc *a = s->data ? s->data->a : NULL;
	struct assoc_sel sel = {0};
	if (!a || model_assoc_sel_init(a, &sel) != 0)
		return ERR_NOMEM;
	json_t *now = qix_sess_snapshot(s);
	int rc = 0;
	for (int f = 0; f < a->n_fields && rc == 0; f++) {
		json_t *texts =
		    json_object_get(qix_sess_field_locked(s, f) ? now : snap, a->fields[f].name);
		int64_t *syms = texts ? calloc(json_array_size(texts) + 1, sizeof(int64_t)) : NULL;
		int n = 0;
		size_t i;
		json_t *t;
		json_array_foreach (texts, i, t) {
			int64_t sym = syms ? model_assoc_find(a, f, json_string_value(t)) : -1;
			if (sym >= 0)
				syms[n++] = sym;
		}
		if (n)
			rc = model_assoc_select(a, &sel, f, syms, n) ? ERR_NOMEM : 0;
		free(syms);
	}
	json_decref(now);
	if (rc) {
		model_assoc_sel_release(&sel);
		return rc;
	}
	qix_sess_selection_changed(s);
	model_assoc_sel_release(&s->sel);
	s->sel = sel;
	return 0;
}

int qix_sess_apply(struct qix_session *s, json_t *snap)
{
	qix_sess_remember(s);
	return restore(s, snap);
}

int qix_sess_step(struct qix_session *s, bool forward)
{
	json_t **from = forward ? &s->forward : &s->back, **to = forward ? &s->back : &s->forward;
	size_t n = json_array_size(*from);
	if (n == 0)
		return 0;
	json_t *snap = json_incref(json_array_get(*from, n - 1));
	if (!*to)
		*to = json_array();
	json_array_append_new(*to, qix_sess_snapshot(s));
	json_array_remove(*from, n - 1);
	int rc = restore(s, snap);
	json_decref(snap);
	return rc;
}

bool qix_sess_field_locked(const struct qix_session *s, int f)
{
	const struct assoc *a = s->data ? s->data->a : NULL;
	return a && f >= 0 && f < a->n_fields && s->locked &&
	       json_object_get(s->locked, a->fields[f].name) != NULL;
}

void qix_sess_field_lock(struct qix_session *s, int f, bool lock)
{
	const struct assoc *a = s->data ? s->data->a : NULL;
	if (!a || f < 0 || f >= a->n_fields)
		return;
	if (!s->locked)
		s->locked = json_object();
	if (lock)
		json_object_set_new(s->locked, a->fields[f].name, json_true());
	else
		json_object_del(s->locked, a->fields[f].name);
}

/* ---------------------------------------------------------------- kept selections */

#define STATE_MAX (1u << 20) /* larger selections are not kept */

void qix_session_keep_state(struct qix_session *s, const char *key)
{
	str_copy(s->state_key, key ? key : "", sizeof(s->state_key));
}

void qix_sess_state_restore(struct qix_session *s)
{
	const struct qix_env *env = &s->q->cfg.env;
	if (!s->state_key[0] || !env->state_load || !s->doc || !s->data || !s->data->a)
		return;
	char *text = NULL;
	struct err e;
	err_init(&e);
	if (env->state_load(env->ctx, s->state_key, s->doc->id, &text, &e) != 0) {
		log_warn("engine: cannot read a session's kept selections in app %s: %s",
			 s->doc->id, e.message);
		return;
	}
	json_t *snap = text ? json_loads(text, JSON_REJECT_DUPLICATES, NULL) : NULL;
	free(text);
	if (json_is_object(snap) && json_object_size(snap) > 0) {
		if (restore(s, snap) == 0)
			log_info("engine: %s resumes %zu field selections in app %s", s->user,
				 json_object_size(snap), s->doc->id);
	}
	json_decref(snap);
	s->saved_version = s->sel_version;
}

void qix_sess_state_save(struct qix_session *s)
{
	const struct qix_env *env = &s->q->cfg.env;
	if (!s->state_key[0] || !env->state_save || !s->doc || s->saved_version == s->sel_version)
		return;
	s->saved_version = s->sel_version;
	json_t *snap = qix_sess_snapshot(s);
	char *text = snap ? json_dumps(snap, JSON_COMPACT) : NULL;
	json_decref(snap);
	struct err e;
	err_init(&e);
	if (!text)
		log_warn("engine: out of memory keeping a session's selections");
	else if (strlen(text) > STATE_MAX)
		log_info("engine: a session's selections in app %s take more than 1 MiB; they are "
			 "not kept for another node",
			 s->doc->id);
	else if (env->state_save(env->ctx, s->state_key, s->doc->id, text, &e) != 0)
		log_warn("engine: cannot keep a session's selections in app %s: %s", s->doc->id,
			 e.message);
	free(text);
}

void qix_session_govern(struct qix_session *s, const char *attrs)
{
	s->governed = true;
	free(s->attrs);
	s->attrs = attrs ? strdup(attrs) : NULL;
}

void qix_session_set_platform(struct qix_session *s, const char *user_agent)
{
	str_copy(s->platform, user_agent ? user_agent : "", sizeof(s->platform));
}

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
	s->session_parents = json_object();
	s->next_num = 1; /* 1 is the doc */
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_lock(&q->mu);
	q->n_sessions++;
	pthread_mutex_unlock(&q->mu);
	json_t *hello = json_pack("{s:s,s:s,s:{s:s}}", "jsonrpc", "2.0", "method", "OnConnected",
				  "params", "qSessionState", "SESSION_CREATED");
	qix_sess_send(s, hello);
	json_decref(hello);
	return s;
}

/* ---------------------------------------------------------------- parked sessions */

struct qix_parked {
	struct qix_parked *next;
	struct qix_session *s;
	int64_t expires_ms;
	char key[];
};

static void send_nowhere(void *ctx, char *json, size_t len)
{
	(void)ctx;
	(void)len;
	free(json);
}

void qix_session_park(struct qix_session *s, const char *key, int ttl_s)
{
	struct qix *q = s->q;
	struct qix_parked *p = malloc(sizeof(*p) + strlen(key) + 1);
	if (!p) {
		qix_session_free(s);
		return;
	}
	p->s = s;
	p->expires_ms = time_mono_ms() + (int64_t)ttl_s * 1000;
	memcpy(p->key, key, strlen(key) + 1);
	struct qix_session *older = NULL;
	pthread_mutex_lock(&q->mu);
	s->send = send_nowhere; /* change notifications come under q->mu */
	s->send_ctx = NULL;
	for (struct qix_parked **pp = &q->parked; *pp; pp = &(*pp)->next)
		if (strcmp((*pp)->key, key) == 0) {
			struct qix_parked *old = *pp;
			*pp = old->next;
			older = old->s;
			free(old);
			break;
		}
	p->next = q->parked;
	q->parked = p;
	pthread_mutex_unlock(&q->mu);
	qix_session_free(older);
}

struct qix_session *qix_session_resume(struct qix *q, const char *key, qix_send_fn send,
				       void *send_ctx)
{
	struct qix_session *s = NULL;
	int64_t now = time_mono_ms();
	pthread_mutex_lock(&q->mu);
	for (struct qix_parked **pp = &q->parked; *pp; pp = &(*pp)->next) {
		struct qix_parked *p = *pp;
		if (strcmp(p->key, key) != 0 || p->expires_ms <= now)
			continue;
		*pp = p->next;
		s = p->s;
		s->send = send;
		s->send_ctx = send_ctx;
		free(p);
		break;
	}
	pthread_mutex_unlock(&q->mu);
	if (s) {
		json_t *hello =
		    json_pack("{s:s,s:s,s:{s:s}}", "jsonrpc", "2.0", "method", "OnConnected",
			      "params", "qSessionState", "SESSION_ATTACHED");
		qix_sess_send(s, hello);
		json_decref(hello);
	}
	return s;
}

void qix_sess_expire(struct qix *q, bool all)
{
	struct qix_parked *gone = NULL;
	int64_t now = time_mono_ms();
	pthread_mutex_lock(&q->mu);
	for (struct qix_parked **pp = &q->parked; *pp;) {
		struct qix_parked *p = *pp;
		if (all || p->expires_ms <= now) {
			*pp = p->next;
			p->next = gone;
			gone = p;
		} else {
			pp = &p->next;
		}
	}
	pthread_mutex_unlock(&q->mu);
	for (struct qix_parked *p = gone, *next; p; p = next) {
		next = p->next;
		qix_session_free(p->s);
		free(p);
	}
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
	qix_cache_states_drop(s);
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
	json_decref(s->session_parents);
	json_decref(s->locked);
	json_decref(s->back);
	json_decref(s->forward);
	free(s->search_obj);
	free(s->search);
	pthread_mutex_destroy(&s->mu);
	free(s->attrs);
	free(s);
}
