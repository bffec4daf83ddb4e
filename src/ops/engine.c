/* engine.c: the node's engine service: the QIX engine (engine/qix.h) on the engine port,
 * given what it needs of the site. Apps are found through the repository database and the
 * share; saves and reloads go through repo_app_save and repo_app_reload, the paths of POST
 * /qrs/app/upload/replace and POST /qrs/app/{id}/reload. A thread looks for new app
 * generations every few seconds. */
#include "ops/ops_int.h"
#include "qix/qix.h"
#include "http/http.h"
#include "share/share.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct ops_engine {
	struct db *db;
	struct share *share;
	struct repo *repo;
	struct qix *qix;
	struct http_server *http;
	pthread_t poller;
	bool poller_started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	int64_t poll_ms;
};

/* ---------------------------------------------------------------- what the engine asks */

struct app_row {
	bool found;
	struct qix_app_info *info;
};

static int app_row(void *ctx, int n, const struct db_value *c)
{
	struct app_row *r = ctx;
	if (n < 5)
		return 0;
	r->found = true;
	str_copy(r->info->gen, c[0].type == DBV_TEXT ? c[0].s : "", sizeof(r->info->gen));
	str_copy(r->info->title, c[1].type == DBV_TEXT ? c[1].s : "", sizeof(r->info->title));
	str_copy(r->info->last_reload, c[2].type == DBV_TEXT ? c[2].s : "",
		 sizeof(r->info->last_reload));
	str_copy(r->info->file_time, c[3].type == DBV_TEXT ? c[3].s : "",
		 sizeof(r->info->file_time));
	r->info->file_size = c[4].type == DBV_INT ? c[4].i : 0;
	return 0;
}

static int locate(void *ctx, const char *id, struct qix_app_info *out, struct err *e)
{
	struct ops_engine *en = ctx;
	struct app_row r = {false, out};
	struct db_params p;
	db_params_init(&p);
	db_p_text(&p, id);
	int rc = db_exec_once(en->db,
			      "SELECT generation, name, last_reload_time, modified_date, file_size "
			      "FROM app WHERE id = $1",
			      &p, app_row, &r, e);
	if (rc)
		return rc;
	if (!r.found || !out->gen[0])
		return err_set(e, ERR_NOT_FOUND, "there is no app %s%s", id,
			       r.found ? " with a file" : "");
	/* the year 1753 is QRS's "never" */
	if (strncmp(out->last_reload, "1753", 4) == 0)
		out->last_reload[0] = '\0';
	/* a share known to be away now is not waited for, should the file be read */
	struct err he;
	err_init(&he);
	out->share_away = share_held_off(en->share, &he) != 0;
	if (share_app_path(en->share, id, out->gen, out->path, sizeof(out->path)))
		return err_set(e, ERR_INTERNAL, "bad app file name");
	return 0;
}

static int save(void *ctx, const char *id, const void *data, size_t len, struct err *e)
{
	struct ops_engine *en = ctx;
	return repo_app_save(en->repo, id, data, len, "sa_engine", e);
}

static int reload(void *ctx, const char *id, struct err *e)
{
	struct ops_engine *en = ctx;
	struct repo_reload_opts o = {.user = "sa_engine"};
	return repo_app_reload(en->repo, id, &o, e);
}

struct list_ctx {
	void (*each)(void *arg, const char *id);
	void *arg;
};

static int list_row(void *ctx, int n, const struct db_value *c)
{
	struct list_ctx *l = ctx;
	if (n >= 1 && c[0].type == DBV_TEXT)
		l->each(l->arg, c[0].s);
	return 0;
}

/* A person's session opens what the security rules let them read, and changes what they
 * let them update. */
static int may_read(void *ctx, const char *user, const char *attrs, const char *id, bool *out,
		    struct err *e)
{
	struct ops_engine *en = ctx;
	return repo_user_may(en->repo, user, attrs, "app", id, REPO_ACTION_READ, out, e);
}

static int may_update(void *ctx, const char *user, const char *attrs, const char *id, bool *out,
		      struct err *e)
{
	struct ops_engine *en = ctx;
	return repo_user_may(en->repo, user, attrs, "app", id, REPO_ACTION_UPDATE, out, e);
}

/* A person's selections, kept in the database under the key the proxy gave. */
static int text_row(void *ctx, int n, const struct db_value *c)
{
	char **out = ctx;
	if (n >= 1 && c[0].type == DBV_TEXT && !*out)
		*out = strdup(c[0].s);
	return 0;
}

static int state_load(void *ctx, const char *key, const char *id, char **out, struct err *e)
{
	struct ops_engine *en = ctx;
	*out = NULL;
	struct db_params p;
	db_params_init(&p);
	db_p_text(&p, key);
	db_p_text(&p, id);
	return db_exec_once(
	    en->db,
	    "SELECT selections FROM engine_session_state WHERE state_key = $1 AND app_id = $2", &p,
	    text_row, out, e);
}

static int state_save(void *ctx, const char *key, const char *id, const char *json, struct err *e)
{
	struct ops_engine *en = ctx;
	struct db_params p;
	db_params_init(&p);
	db_p_text(&p, key);
	db_p_text(&p, id);
	db_p_text(&p, json);
	/* the database's clock, as every node's garbage collection compares with it: a node
	 * whose own clock is off must not make a person's selections look old (or young) */
	char sql[512];
	snprintf(sql, sizeof(sql),
		 "INSERT INTO engine_session_state (state_key, app_id, selections, "
		 "updated_at) VALUES ($1, $2, $3, %s) ON CONFLICT (state_key, app_id) DO "
		 "UPDATE SET selections = excluded.selections, updated_at = "
		 "excluded.updated_at",
		 db_now_ms_sql(en->db));
	return db_exec_once(en->db, sql, &p, NULL, NULL, e);
}

void ops_engine_gc(struct ops_engine *en, int64_t keep_ms)
{
	if (!en)
		return;
	struct db_params p;
	db_params_init(&p);
	db_p_int(&p, keep_ms);
	struct err e;
	err_init(&e);
	char sql[256];
	snprintf(sql, sizeof(sql), "DELETE FROM engine_session_state WHERE updated_at < %s - $1",
		 db_now_ms_sql(en->db));
	if (db_exec_once(en->db, sql, &p, NULL, NULL, &e) != 0)
		log_warn("engine: cannot drop old kept selections: %s", e.message);
}

void ops_engine_stats(struct ops_engine *en, int *apps, int64_t *bytes, int *sessions)
{
	*apps = *sessions = 0;
	*bytes = 0;
	if (en)
		qix_stats(en->qix, apps, bytes, sessions);
}

void ops_engine_load(struct ops_engine *en, struct repo_engine_load *out)
{
	memset(out, 0, sizeof(*out));
	if (!en)
		return;
	int apps;
	int64_t bytes;
	qix_stats(en->qix, &apps, &bytes, &out->sessions);
	qix_open_apps(en->qix, out->apps, sizeof(out->apps));
}

static int list(void *ctx, void (*each)(void *arg, const char *id), void *arg, struct err *e)
{
	struct ops_engine *en = ctx;
	struct list_ctx l = {each, arg};
	return db_exec_once(en->db, "SELECT id FROM app WHERE generation IS NOT NULL ORDER BY name",
			    NULL, list_row, &l, e);
}

/* ---------------------------------------------------------------- the service */

static void *poll_main(void *arg)
{
	struct ops_engine *en = arg;
	pthread_mutex_lock(&en->mu);
	while (!en->stop) {
		(void)time_cond_wait_ms(&en->cv, &en->mu, en->poll_ms);
		if (en->stop)
			break;
		pthread_mutex_unlock(&en->mu);
		qix_poll_generations(en->qix);
		pthread_mutex_lock(&en->mu);
	}
	pthread_mutex_unlock(&en->mu);
	return NULL;
}

int ops_engine_start(const struct ops_engine_config *cfg, struct ops_engine **out, struct err *e)
{
	*out = NULL;
	struct ops_engine *en = calloc(1, sizeof(*en));
	if (!en)
		return err_set(e, ERR_NOMEM, "out of memory");
	en->db = cfg->db;
	en->share = cfg->share;
	en->repo = cfg->repo;
	en->poll_ms = cfg->poll_ms > 0 ? cfg->poll_ms : 2000;
	pthread_mutex_init(&en->mu, NULL);
	time_cond_init(&en->cv); /* a wall clock stepped back would stop the polls */
	struct qix_config qc = {.env = {.ctx = en,
					.locate = locate,
					.save = save,
					.reload = reload,
					.may_read = may_read,
					.may_update = may_update,
					.state_load = state_load,
					.state_save = state_save,
					.list = list},
				.memory_bytes = cfg->memory_bytes};
	int fd = -1;
	int rc = qix_new(&qc, &en->qix, e);
	if (rc == 0)
		rc = http_listen(cfg->listen, cfg->port, &fd, e);
	if (rc == 0) {
		struct http_server_config hc = *cfg->http;
		hc.name = "engine";
		hc.listen_fd = fd;
		hc.max_body = 1 << 20;
		struct http_handler h = qix_http_handler(en->qix);
		rc = http_server_start(&hc, &h, &en->http, e);
	}
	if (rc == 0) {
		if (pthread_create(&en->poller, NULL, poll_main, en) == 0)
			en->poller_started = true;
		else
			rc = err_set(e, ERR_INTERNAL, "cannot start the engine's poller thread");
	}
	if (rc) {
		ops_engine_stop(en);
		return rc;
	}
	*out = en;
	return 0;
}

int ops_engine_reload_cert(struct ops_engine *en, const char *cert_pem, const char *key_pem,
			   struct err *e)
{
	return en && en->http ? http_server_reload_cert(en->http, cert_pem, key_pem, e) : 0;
}

struct http_handler ops_engine_handler(struct ops_engine *en)
{
	return en ? qix_http_handler(en->qix) : (struct http_handler){0};
}

void ops_engine_stop(struct ops_engine *en)
{
	if (!en)
		return;
	pthread_mutex_lock(&en->mu);
	en->stop = true;
	pthread_cond_broadcast(&en->cv);
	pthread_mutex_unlock(&en->mu);
	if (en->poller_started)
		pthread_join(en->poller, NULL);
	http_server_stop(en->http); /* closes every session first */
	qix_free(en->qix);
	pthread_cond_destroy(&en->cv);
	pthread_mutex_destroy(&en->mu);
	free(en);
}

int ops_engine_set_revoked(struct ops_engine *en, const char *const *hex, size_t n, struct err *e)
{
	return en ? http_server_set_revoked(en->http, hex, n, e) : 0;
}
