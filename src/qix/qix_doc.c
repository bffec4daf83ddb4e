/* qix_doc.c: the open apps: loading a generation from its app file, sharing it between
 * sessions, moving to a new generation, saving, and evicting what no session uses. */
#include "data/data.h"
#include "qix/qix_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- loading */

struct loaded {
	char *script;
	json_t *props, *objects, *parents;
	struct qix_data *data;
};

/* One generation's data, with the cubes computed on it. */
static void data_free(struct qix_data *d)
{
	if (!d)
		return;
	qix_cache_free(d);
	qix_access_free(d);
	pthread_mutex_destroy(&d->cache_mu);
	model_assoc_free(d->a);
	free(d);
}

static void loaded_release(struct loaded *l)
{
	free(l->script);
	json_decref(l->props);
	json_decref(l->objects);
	json_decref(l->parents);
	data_free(l->data);
	memset(l, 0, sizeof(*l));
}

/* Takes member `key` (an object, else a new empty one) out of the app's properties. */
static json_t *take_object(json_t *props, const char *key)
{
	json_t *o = json_incref(json_object_get(props, key));
	json_object_del(props, key);
	if (json_is_object(o))
		return o;
	json_decref(o);
	return json_object();
}

/* A rough size of the model in memory: row columns, symbols and their texts. */
static int64_t model_bytes(const struct assoc *a)
{
	int64_t b = 0;
	for (int t = 0; t < a->n_tables; t++) /* each column as narrow as it is kept */
		for (int c = 0; c < a->tables[t].n_fields; c++)
			b += a->tables[t].n_rows * a->tables[t].col[c].width;
	for (int f = 0; f < a->n_fields; f++) /* a dense field keeps no values */
		for (int64_t i = 0; a->fields[f].sym && i < a->fields[f].n_sym; i++)
			b += (int64_t)sizeof(struct val) +
			     (a->fields[f].sym[i].text ? (int64_t)strlen(a->fields[f].sym[i].text)
						       : 0);
	return b;
}

static int load_tables(const struct appfile *f, struct qix_data *data, struct err *e)
{
	struct data_set *m = NULL, *acc = NULL;
	int rc = data_set_from_app(f, APPFILE_TABLE, DATA_SET_MODEL, &m, e);
	for (int i = 0; rc == 0 && i < m->n_tables; i++)
		data->rows += m->tables[i]->n_rows;
	if (rc == 0 && m->n_tables)
		rc = model_assoc_build(m, &data->a, e);
	data_set_free(m);
	if (rc == 0 && data->a)
		data->bytes += model_bytes(data->a);
	if (rc == 0)
		rc = data_set_from_app(f, APPFILE_ACCESS, 0, &acc, e);
	if (rc == 0)
		rc = qix_access_build(acc, data, e);
	data_set_free(acc);
	return rc;
}

static int load(const struct qix_app_info *info, struct loaded *out, struct err *e)
{
	memset(out, 0, sizeof(*out));
	if (info->share_away)
		return err_set(
		    e, ERR_UNAVAILABLE,
		    "the share that holds the app did not answer moments ago; try again");
	struct appfile *f = NULL;
	int rc = data_appfile_read_file(info->path, &f, e);
	if (rc)
		return rc;
	const struct appfile_block *sb = data_appfile_find(f, APPFILE_SCRIPT);
	const struct appfile_block *pb = data_appfile_find(f, APPFILE_PROPS);
	out->script = strdup(sb ? sb->data : "");
	json_error_t je;
	out->props = pb ? json_loadb(pb->data, pb->len, 0, &je) : json_object();
	if (!json_is_object(out->props)) {
		json_decref(out->props);
		out->props = json_object();
	}
	out->objects = take_object(out->props, "objects");
	out->parents = take_object(out->props, "parents");
	out->data = calloc(1, sizeof(*out->data));
	if (out->data)
		pthread_mutex_init(&out->data->cache_mu, NULL);
	if (!out->script || !out->props || !out->objects || !out->parents || !out->data)
		rc = err_set(e, ERR_NOMEM, "out of memory");
	if (rc == 0) {
		str_copy(out->data->gen, info->gen, sizeof(out->data->gen));
		out->data->refs = 1; /* the doc's own */
		out->data->bytes = (int64_t)strlen(out->script);
		rc = load_tables(f, out->data, e);
	}
	data_appfile_free(f);
	if (rc)
		loaded_release(out);
	return rc;
}

/* ---------------------------------------------------------------- the app list */

static void doc_free(struct qix_doc *d)
{
	data_free(d->data);
	free(d->script);
	json_decref(d->script_json);
	json_decref(d->props);
	json_decref(d->objects);
	json_decref(d->parents);
	pthread_mutex_destroy(&d->mu);
	free(d->id);
	free(d);
}

/* What an app's data takes: the model, and the cubes and states kept on it. */
static int64_t data_bytes(const struct qix_data *d)
{
	return d ? d->bytes + __atomic_load_n(&d->cache_bytes, __ATOMIC_RELAXED) +
		       __atomic_load_n(&d->reduced_bytes, __ATOMIC_RELAXED)
		 : 0;
}

/* Frees apps no session uses, least recently used first, while the open apps take more
 * than the limit. Under q->mu. */
static void evict(struct qix *q)
{
	int64_t limit = q->cfg.memory_bytes > 0 ? q->cfg.memory_bytes : 1LL << 30;
	for (;;) {
		int64_t total = 0;
		struct qix_doc **victim = NULL;
		for (struct qix_doc **pp = &q->docs; *pp; pp = &(*pp)->next) {
			struct qix_doc *d = *pp;
			total += data_bytes(d->data);
			if (d->n_sessions == 0 &&
			    (!d->data || __atomic_load_n(&d->data->refs, __ATOMIC_ACQUIRE) == 1) &&
			    (!victim || d->last_used < (*victim)->last_used))
				victim = pp;
		}
		if (total <= limit || !victim)
			return;
		struct qix_doc *d = *victim;
		*victim = d->next;
		log_info("engine: app %s closed to free memory (%lld bytes)", d->id,
			 (long long)data_bytes(d->data));
		doc_free(d);
	}
}

static struct qix_doc *find(struct qix *q, const char *id)
{
	for (struct qix_doc *d = q->docs; d; d = d->next)
		if (strcmp(d->id, id) == 0)
			return d;
	return NULL;
}

int qix_doc_open(struct qix *q, const char *id, struct qix_doc **out, struct err *e)
{
	*out = NULL;
	pthread_mutex_lock(&q->mu);
	struct qix_doc *d = find(q, id);
	if (d) {
		d->n_sessions++;
		d->last_used = time_mono_ms();
		pthread_mutex_unlock(&q->mu);
		/* it may have been reloaded since it was opened */
		struct err re;
		err_init(&re);
		if (qix_doc_refresh(q, d, &re) != 0)
			log_warn("engine: app %s: %s", id, re.message);
		*out = d;
		return 0;
	}
	pthread_mutex_unlock(&q->mu);
	struct qix_app_info info;
	memset(&info, 0, sizeof(info));
	int rc = q->cfg.env.locate(q->cfg.env.ctx, id, &info, e);
	struct loaded l;
	if (rc == 0)
		rc = load(&info, &l, e);
	if (rc)
		return rc;
	d = calloc(1, sizeof(*d));
	if (!d || !(d->id = strdup(id))) {
		free(d);
		loaded_release(&l);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	pthread_mutex_init(&d->mu, NULL);
	d->info = info;
	d->script = l.script;
	d->props = l.props;
	d->objects = l.objects;
	d->parents = l.parents;
	d->data = l.data;
	pthread_mutex_lock(&q->mu);
	struct qix_doc *other = find(q, id);
	if (other) { /* another session opened it meanwhile */
		doc_free(d);
		d = other;
	} else {
		d->next = q->docs;
		q->docs = d;
		log_info("engine: app %s opened (%lld rows, about %lld bytes)", id,
			 (long long)(d->data ? d->data->rows : 0),
			 (long long)(d->data ? d->data->bytes : 0));
	}
	d->n_sessions++;
	d->last_used = time_mono_ms();
	evict(q);
	pthread_mutex_unlock(&q->mu);
	*out = d;
	return 0;
}

void qix_doc_release(struct qix *q, struct qix_doc *d)
{
	pthread_mutex_lock(&q->mu);
	d->n_sessions--;
	d->last_used = time_mono_ms();
	evict(q);
	pthread_mutex_unlock(&q->mu);
}

struct qix_data *qix_doc_data(struct qix *q, struct qix_doc *d)
{
	pthread_mutex_lock(&q->mu);
	struct qix_data *data = d->data;
	if (data)
		__atomic_add_fetch(&data->refs, 1, __ATOMIC_ACQ_REL);
	pthread_mutex_unlock(&q->mu);
	return data;
}

void qix_data_release(struct qix *q, struct qix_data *data)
{
	(void)q;
	qix_data_unref(data);
}

void qix_data_unref(struct qix_data *data)
{
	if (data && __atomic_sub_fetch(&data->refs, 1, __ATOMIC_ACQ_REL) == 0)
		data_free(data);
}

/* ---------------------------------------------------------------- generations */

void qix_doc_notify(struct qix *q, struct qix_doc *d, const struct qix_session *except,
		    const char *id)
{
	pthread_mutex_lock(&q->mu);
	for (struct qix_session *s = d->sessions; s; s = s->next_in_doc) {
		if (s == except)
			continue;
		pthread_mutex_lock(&s->mu);
		json_t *change = json_array();
		for (int i = 0; i < s->n_h; i++) {
			struct qix_handle *h = &s->h[i];
			if (id ? (h->kind == H_OBJ && strcmp(h->id, id) == 0) : h->kind != H_FIELD)
				json_array_append_new(change, json_integer(h->num));
		}
		if (!id)
			s->data_moved = true;
		pthread_mutex_unlock(&s->mu);
		if (json_array_size(change)) {
			json_t *msg = json_pack("{s:s,s:o}", "jsonrpc", "2.0", "change", change);
			size_t n;
			char *text = msg ? json_encode(msg, &n) : NULL;
			if (text)
				s->send(s->send_ctx, text, n);
			json_decref(msg);
		} else {
			json_decref(change);
		}
	}
	pthread_mutex_unlock(&q->mu);
}

int qix_doc_refresh(struct qix *q, struct qix_doc *d, struct err *e)
{
	/* the generation held before asking: a save here while the question is out moves it,
	 * and the answer (read before the save) may name an older file */
	char was[sizeof(d->info.gen)];
	pthread_mutex_lock(&d->mu);
	str_copy(was, d->info.gen, sizeof(was));
	pthread_mutex_unlock(&d->mu);
	struct qix_app_info info;
	memset(&info, 0, sizeof(info));
	int rc = q->cfg.env.locate(q->cfg.env.ctx, d->id, &info, e);
	if (rc)
		return rc;
	if (strcmp(info.gen, was) == 0)
		return 0;
	struct loaded l;
	if ((rc = load(&info, &l, e)))
		return rc;
	pthread_mutex_lock(&d->mu);
	if (strcmp(d->info.gen, was) != 0) {
		/* a save here (or another refresh) moved the app on meanwhile: what was read
		 * may be older than what the app holds now; the next poll looks again */
		pthread_mutex_unlock(&d->mu);
		loaded_release(&l);
		return 0;
	}
	d->info = info;
	if (!d->dirty) { /* unsaved edits here win over the new file's */
		free(d->script);
		json_decref(d->script_json);
		d->script_json = NULL;
		d->script = l.script;
		l.script = NULL;
		json_decref(d->objects);
		d->objects = l.objects;
		l.objects = NULL;
		json_decref(d->parents);
		d->parents = l.parents;
		l.parents = NULL;
	}
	json_decref(d->props);
	d->props = l.props;
	l.props = NULL;
	pthread_mutex_unlock(&d->mu);
	pthread_mutex_lock(&q->mu);
	struct qix_data *old = d->data;
	d->data = l.data;
	l.data = NULL;
	pthread_mutex_unlock(&q->mu);
	qix_data_unref(old);
	loaded_release(&l);
	log_info("engine: app %s moved to generation %s", d->id, info.gen);
	qix_doc_notify(q, d, NULL, NULL);
	return 0;
}

void qix_poll_generations(struct qix *q)
{
	qix_sess_expire(q, false);
	/* pin the apps that sessions use, then look at each outside the lock */
	pthread_mutex_lock(&q->mu);
	int n = 0;
	for (struct qix_doc *d = q->docs; d; d = d->next)
		n += d->n_sessions > 0;
	struct qix_doc **pinned = calloc((size_t)n + 1, sizeof(*pinned));
	n = 0;
	for (struct qix_doc *d = q->docs; pinned && d; d = d->next)
		if (d->n_sessions > 0) {
			d->n_sessions++;
			pinned[n++] = d;
		}
	pthread_mutex_unlock(&q->mu);
	for (int i = 0; i < n; i++) {
		struct err e;
		err_init(&e);
		if (qix_doc_refresh(q, pinned[i], &e) != 0 && e.code != ERR_NOT_FOUND)
			log_warn("engine: app %s: %s", pinned[i]->id, e.message);
		qix_doc_release(q, pinned[i]);
	}
	free(pinned);
}

/* ---------------------------------------------------------------- saving */

int qix_doc_save(struct qix *q, struct qix_doc *d, struct err *e)
{
	pthread_mutex_lock(&d->mu);
	char path[sizeof(d->info.path)];
	str_copy(path, d->info.path, sizeof(path));
	json_t *props = json_deep_copy(d->props);
	if (props) {
		json_object_set(props, "objects", d->objects);
		if (json_object_size(d->parents))
			json_object_set_new(props, "parents", json_deep_copy(d->parents));
	}
	char *script = strdup(d->script ? d->script : "");
	uint64_t edits = d->dirty; /* what this save stores */
	pthread_mutex_unlock(&d->mu);
	char *props_text = props ? json_dumps(props, JSON_COMPACT) : NULL;
	json_decref(props);
	struct appfile *f = NULL;
	struct appfile_block *blocks = NULL;
	struct buf out;
	buf_init(&out, 1ULL << 40);
	int rc = props_text && script ? 0 : err_set(e, ERR_NOMEM, "out of memory");
	/* the data blocks come over from the live generation as they are */
	if (rc == 0)
		rc = data_appfile_read_file(path, &f, e);
	if (rc == 0 && !(blocks = calloc((size_t)f->n_blocks + 2, sizeof(*blocks))))
		rc = err_set(e, ERR_NOMEM, "out of memory");
	int n = 0;
	if (rc == 0) {
		blocks[n++] = (struct appfile_block){
		    .kind = APPFILE_PROPS, .data = props_text, .len = strlen(props_text)};
		blocks[n++] = (struct appfile_block){
		    .kind = APPFILE_SCRIPT, .data = script, .len = strlen(script)};
		for (int i = 0; i < f->n_blocks; i++)
			if (f->blocks[i].kind != APPFILE_PROPS &&
			    f->blocks[i].kind != APPFILE_SCRIPT)
				blocks[n++] = f->blocks[i];
		rc = data_appfile_write(blocks, n, 0, &out, e);
	}
	data_appfile_free(f);
	free(blocks);
	free(props_text);
	free(script);
	if (rc == 0)
		rc = q->cfg.env.save(q->cfg.env.ctx, d->id, out.data, out.len, e);
	buf_release(&out);
	if (rc)
		return rc;
	/* the saved file holds this data: take its generation without loading it again */
	struct qix_app_info info;
	memset(&info, 0, sizeof(info));
	if (q->cfg.env.locate(q->cfg.env.ctx, d->id, &info, e) == 0) {
		pthread_mutex_lock(&d->mu);
		d->info = info;
		d->dirty = d->dirty > edits ? d->dirty - edits : 0;
		pthread_mutex_unlock(&d->mu);
	}
	return 0;
}

/* ---------------------------------------------------------------- the engine */

int qix_new(const struct qix_config *cfg, struct qix **out, struct err *e)
{
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return err_set(e, ERR_NOMEM, "out of memory");
	(*out)->cfg = *cfg;
	pthread_mutex_init(&(*out)->mu, NULL);
	return 0;
}

void qix_free(struct qix *q)
{
	if (!q)
		return;
	qix_sess_expire(q, true);
	for (struct qix_doc *d = q->docs, *next; d; d = next) {
		next = d->next;
		doc_free(d);
	}
	pthread_mutex_destroy(&q->mu);
	free(q);
}

void qix_stats(struct qix *q, int *out_apps, int64_t *out_bytes, int *out_sessions)
{
	pthread_mutex_lock(&q->mu);
	int n = 0;
	int64_t b = 0;
	for (struct qix_doc *d = q->docs; d; d = d->next) {
		n++;
		b += data_bytes(d->data);
	}
	*out_apps = n;
	*out_bytes = b;
	*out_sessions = q->n_sessions;
	pthread_mutex_unlock(&q->mu);
}

void qix_cache_stats(struct qix *q, int64_t *out_lookups, int64_t *out_hits, int64_t *out_bytes)
{
	*out_lookups = __atomic_load_n(&q->cache_lookups, __ATOMIC_RELAXED);
	*out_hits = __atomic_load_n(&q->cache_hits, __ATOMIC_RELAXED);
	int64_t b = 0;
	pthread_mutex_lock(&q->mu);
	for (struct qix_doc *d = q->docs; d; d = d->next)
		b += d->data ? __atomic_load_n(&d->data->cache_bytes, __ATOMIC_RELAXED) : 0;
	pthread_mutex_unlock(&q->mu);
	*out_bytes = b;
}

void qix_open_apps(struct qix *q, char *out, size_t n)
{
	size_t at = 0;
	if (n)
		out[0] = '\0';
	pthread_mutex_lock(&q->mu);
	for (struct qix_doc *d = q->docs; d; d = d->next) {
		size_t l = strlen(d->id);
		if (at + l + 2 > n)
			break;
		if (at)
			out[at++] = ',';
		memcpy(out + at, d->id, l + 1);
		at += l;
	}
	pthread_mutex_unlock(&q->mu);
}
