/* repo.c: the repository service's lifecycle, garbage collection, the new site's first
 * rows, and entry points that check filters and bodies without a server (tests, fuzzers). */
#include "repo/repo_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

int repo_open(const struct repo_config *cfg, struct repo **out, struct err *e)
{
	*out = NULL;
	struct repo *r = calloc(1, sizeof(*r));
	if (!r)
		return err_set(e, ERR_NOMEM, "out of memory");
	r->db = cfg->db;
	r->share = cfg->share;
	str_copy(r->node_id, cfg->node_id, sizeof(r->node_id));
	str_copy(r->version, cfg->version ? cfg->version : "0", sizeof(r->version));
	r->max_upload = cfg->max_upload ? cfg->max_upload : (32ULL << 30);
	r->max_body = cfg->max_body ? cfg->max_body : (16u << 20);
	r->gc_grace_ms = cfg->gc_grace_ms > 0 ? cfg->gc_grace_ms : 600000;
	r->heartbeat_ms = cfg->heartbeat_ms > 0 ? cfg->heartbeat_ms : 5000;
	r->api_port = cfg->api_port;
	r->engine_port = cfg->engine_port;
	r->running = strdup(cfg->running ? cfg->running : "{}");
	pthread_mutex_init(&r->runs_mu, NULL);
	r->file_check = cfg->file_check;
	r->schedule_check = cfg->schedule_check;
	r->password_set = cfg->password_set;
	r->reload = cfg->reload;
	if (cfg->reload.exe) {
		str_copy(r->reload_exe, cfg->reload.exe, sizeof(r->reload_exe));
		str_copy(r->reload_work, cfg->reload.work_dir ? cfg->reload.work_dir : "/tmp",
			 sizeof(r->reload_work));
		repo_reload_sweep(r);
	}
	if (cfg->reload.exe || cfg->reload.log_dir)
		str_copy(r->reload_logs, cfg->reload.log_dir ? cfg->reload.log_dir : r->reload_work,
			 sizeof(r->reload_logs));
	if (cfg->certs_dir)
		str_copy(r->certs_dir, cfg->certs_dir, sizeof(r->certs_dir));
	if (cfg->node_dir)
		str_copy(r->node_dir, cfg->node_dir, sizeof(r->node_dir));
	if (cfg->ca && cfg->ca->cert && cfg->ca->key) {
		r->ca.cert = strdup(cfg->ca->cert);
		r->ca.key = strdup(cfg->ca->key);
	}
	int rc = r->running ? repo_crud_prepare(r, e) : err_set(e, ERR_NOMEM, "out of memory");
	if (rc == 0 && cfg->cache_bytes > 0 && db_can_listen(r->db)) {
		r->cache = repo_cache_new((size_t)cfg->cache_bytes);
		rc = r->cache ? repo_cache_follow(r->cache, r->db, e)
			      : err_set(e, ERR_NOMEM, "out of memory");
	}
	if (rc == 0) {
		int n = share_recover(r->share, repo_apps_is_live, r, e);
		if (n < 0)
			rc = n;
		else if (n > 0)
			log_info("recovery: removed %d unfinished app file(s)", n);
	}
	if (rc) {
		repo_close(r);
		return rc;
	}
	*out = r;
	return 0;
}

void repo_close(struct repo *r)
{
	if (!r)
		return;
	repo_cache_free(r->cache);
	crypto_pem_pair_release(&r->ca);
	repo_crud_release(r);
	pthread_mutex_destroy(&r->runs_mu);
	free(r->running);
	free(r);
}

int repo_gc(struct repo *r, struct err *e)
{
	/* Exports never downloaded expire after a day, releasing their generations. */
	char cutoff[ISO_TIME_LEN + 1];
	time_format_iso(time_now_ms() - 86400000LL, cutoff);
	struct db_params p;
	db_params_init(&p);
	db_p_text(&p, cutoff);
	int rc =
	    db_exec_once(r->db, "DELETE FROM app_export WHERE created_at < $1", &p, NULL, NULL, e);
	if (rc)
		return rc;
	return share_gc(r->share, r->gc_grace_ms, repo_apps_is_live, r, e);
}

/* ---------------------------------------------------------------- new site */

static void cv(struct colval *v, const struct entity_desc *d, const char *json, const char *s,
	       int64_t i)
{
	v->f = repo_entity_field(d, json);
	v->s = s;
	v->i = i;
	v->is_null = false;
}

int repo_site_init(struct db *db, const struct repo_site_init *init,
		   char out_node_id[UUID_STR_LEN + 1], struct err *e)
{
	struct repo r = {.db = db};
	struct arena *a = arena_new();
	struct qrs q = {.repo = &r,
			.a = a,
			.user = "INTERNAL\\sa_repository",
			.user_dir = "INTERNAL",
			.user_id = "sa_repository"};
	err_init(&q.err);
	struct db_conn *c;
	int rc = db_acquire(db, &c, e);
	if (rc) {
		arena_free(a);
		return rc;
	}
	rc = db_begin(c, true, &q.err);
	char id[UUID_STR_LEN + 1], cluster_id[UUID_STR_LEN + 1];

	/* Service users. */
	static const char *const users[] = {"sa_repository", "sa_api", "sa_scheduler", "sa_engine",
					    "sa_proxy"};
	for (size_t i = 0; rc == 0 && i < ARRAY_LEN(users); i++) {
		q.user_id = users[i];
		rc = repo_crud_caller_user(&q, c, id);
	}
	q.user_id = "sa_repository";

	/* The service cluster with the share settings. */
	const struct share_paths *sp = init->share;
	json_t *settings = json_pack(
	    "{s:i, s:i, s:{s:s, s:s, s:s, s:s, s:s}}", "persistenceType", 2, "persistenceMode", 1,
	    "sharedPersistenceProperties", "rootFolder", sp->root, "appFolder", sp->apps,
	    "staticContentRootFolder", sp->static_content, "archivedLogsRootFolder",
	    sp->archived_logs, "customDataRootFolder", sp->custom_data);
	char *settings_s = json_dumps(settings, JSON_COMPACT);
	json_decref(settings);
	const struct entity_desc *cd = repo_entity_find("servicecluster");
	struct colval v[8];
	struct decoded in = {.vals = v};
	if (rc == 0) {
		cv(&v[0], cd, "name", "ServiceCluster", 0);
		cv(&v[1], cd, "settings", settings_s, 0);
		in.n_vals = 2;
		rc = repo_crud_insert(&q, c, cd, &in, NULL, 0, cluster_id);
	}
	free(settings_s);

	/* The first node: central and a failover candidate. */
	const struct entity_desc *nd = repo_entity_find("servernodeconfiguration");
	if (rc == 0) {
		cv(&v[0], nd, "name", init->node_name, 0);
		cv(&v[1], nd, "hostName", init->host_name, 0);
		cv(&v[2], nd, "failoverCandidate", NULL, 1);
		cv(&v[3], nd, "serviceCluster", cluster_id, 0);
		struct colval extra[1];
		cv(&extra[0], nd, "isCentral", NULL, 1);
		in.n_vals = 4;
		rc = repo_crud_insert(&q, c, nd, &in, extra, 1, out_node_id);
	}

	/* Folder data connections. */
	const struct entity_desc *dd = repo_entity_find("dataconnection");
	const char *conns[][2] = {{"ArchivedLogsFolder", sp->archived_logs},
				  {"CustomData", sp->custom_data}};
	for (size_t i = 0; rc == 0 && i < ARRAY_LEN(conns); i++) {
		cv(&v[0], dd, "name", conns[i][0], 0);
		cv(&v[1], dd, "connectionstring", conns[i][1], 0);
		cv(&v[2], dd, "type", "folder", 0);
		in.n_vals = 3;
		rc = repo_crud_insert(&q, c, dd, &in, NULL, 0, id);
	}
	if (rc == 0)
		rc = db_commit(c, &q.err);
	else
		db_rollback(c);
	db_release(db, c);
	if (rc && e && !e->code)
		*e = q.err;
	arena_free(a);
	return rc;
}

int repo_heartbeat(struct repo *r, int64_t started_ms, const struct repo_engine_load *load,
		   const char *share_state, bool stop, struct err *e)
{
	int rc;
	struct db_params p;
	db_params_init(&p);
	db_p_text(&p, r->node_id);
	if (stop) {
		rc = db_exec_once(r->db, "DELETE FROM node_heartbeat WHERE node_id = $1", &p, NULL,
				  NULL, e);
	} else {
		char started[ISO_TIME_LEN + 1], sql[1024];
		time_format_iso(started_ms, started);
		db_p_text(&p, started);
		db_p_text(&p, r->version);
		db_p_int(&p, (int64_t)getpid());
		db_p_int(&p, r->api_port);
		db_p_int(&p, r->ca.key ? 1 : 0);
		db_p_int(&p, r->engine_port);
		db_p_int(&p, load ? load->sessions : 0);
		db_p_text(&p, load ? load->apps : "");
		db_p_text(&p, r->running);
		db_p_text(&p, share_state ? share_state : "");
		snprintf(
		    sql, sizeof(sql),
		    "INSERT INTO node_heartbeat (node_id, at, started_at, version, pid, "
		    "api_port, holds_ca, engine_port, engine_sessions, engine_apps, running, "
		    "share_state) VALUES ($1, %s, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON "
		    "CONFLICT (node_id) DO UPDATE SET at = excluded.at, started_at = "
		    "excluded.started_at, version = excluded.version, pid = excluded.pid, "
		    "api_port = excluded.api_port, holds_ca = excluded.holds_ca, engine_port = "
		    "excluded.engine_port, engine_sessions = excluded.engine_sessions, "
		    "engine_apps = excluded.engine_apps, running = excluded.running, "
		    "share_state = excluded.share_state",
		    db_now_sql(r->db));
		rc = db_exec_once(r->db, sql, &p, NULL, NULL, e);
	}
	return rc;
}

int repo_site_exists(struct db *db, bool *out, struct err *e)
{
	*out = false;
	return db_exec_once(db, "SELECT 1 FROM servicecluster", NULL, db_row_seen, out, e);
}

/* ---------------------------------------------------------------- checks without a server */

int repo_filter_check(const char *type, const char *filter, char **out_sql, struct err *e)
{
	if (out_sql)
		*out_sql = NULL;
	const struct entity_desc *d = repo_entity_find(type);
	if (!d)
		return err_set(e, ERR_NOT_FOUND, "unknown entity type \"%s\"", type);
	struct arena *a = arena_new();
	struct sqlb b;
	repo_sqlb_init(&b, a);
	int rc = repo_filter_compile(d, filter, &b, e);
	if (rc == 0 && out_sql && !(*out_sql = strdup(b.sql.data ? b.sql.data : "")))
		rc = err_set(e, ERR_NOMEM, "out of memory");
	repo_sqlb_release(&b);
	arena_free(a);
	return rc;
}

int repo_decode_check(const char *type, const char *json, size_t len, struct err *e)
{
	const struct entity_desc *d = repo_entity_find(type);
	if (!d)
		return err_set(e, ERR_NOT_FOUND, "unknown entity type \"%s\"", type);
	json_error_t je;
	json_t *j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		return err_set(e, ERR_JSON, "malformed JSON: %s", je.text);
	struct arena *a = arena_new();
	struct decoded out;
	int rc = repo_entity_decode(NULL, d, j, NULL, a, &out, e);
	arena_free(a);
	json_decref(j);
	return rc;
}

int repo_guarded_dirs(const struct repo *r, const char *out[3])
{
	int n = 0;
	if (r->node_dir[0])
		out[n++] = r->node_dir;
	if (r->certs_dir[0])
		out[n++] = r->certs_dir;
	if (r->share)
		out[n++] = share_apps_dir(r->share);
	return n;
}

bool repo_hears_changes(struct repo *r)
{
	if (!r->cache)
		return !db_can_listen(r->db); /* SQLite: this process makes the changes itself */
	struct cache_stats st;
	repo_cache_stats(r->cache, &st);
	return st.listening;
}
