/* status.c: GET /qrs/servicestatus: every node's repository service and whether it is
 * alive, judged from heartbeats against the database's clock (three missed beats and a
 * node is NoCommunication; a node still joining, whose certificates wait for approval or
 * for it to fetch them, is CertificatesNotInstalled, with Fathom's `registration`
 * "pending" or "approved"; the full form adds, as Fathom's, what a running node's last
 * heartbeat said (version, start, engine sessions, apps in memory) and the central role's
 * fencing token and since when, on its holder; the services it runs, and restartNeeded:
 * what it must restart for, services its row turns on or off and service cluster folders
 * changed since it started; and how its last probe of the share went, shareState); and
 * this node's own health, for load balancers. */
#include "repo/repo_int.h"
#include "share/share.h"

#include <errno.h>
#include <sys/statvfs.h>
#include <string.h>
#include <unistd.h>

enum { SERVICE_REPOSITORY = 0 };
enum { STATE_NO_CERTIFICATES = 1, STATE_RUNNING = 2, STATE_NO_COMMUNICATION = 3 };

struct status_ctx {
	struct repo *r;
	bool full;
	json_t *arr;
};

static json_t *json_col(const struct db_value *c)
{
	return c->type == DBV_TEXT ? json_loadb(c->s, c->len, 0, NULL) : NULL;
}

/* Where folder `key` of shared persistence properties `sp` lies on a mount at "/m" ("" when
 * they do not say). */
static void mapped(json_t *sp, const char *key, char *out, size_t n)
{
	struct err e;
	err_init(&e);
	const char *root = json_string_value(json_object_get(sp, "rootFolder"));
	const char *folder = json_string_value(json_object_get(sp, key));
	if (!root || !folder || share_map_folder(root, folder, "/m", out, n, &e) != 0)
		out[0] = '\0';
}

/* What a running node must restart for: services its row turns on or off since it started
 * (columns 13-15) and service cluster folders that changed since (16, against what its
 * heartbeat says it started with, 17), except the folders node.conf gives it. */
static json_t *restart_needed(const struct db_value *c)
{
	json_t *out = json_array(), *running = json_col(&c[17]), *cluster = json_col(&c[16]);
	json_t *services = json_object_get(running, "services");
	if (!json_is_array(services))
		goto done;
	static const char *const names[] = {"engine", "proxy", "scheduler"};
	for (int i = 0; i < 3; i++) {
		bool want = c[13 + i].type == DBV_INT && c[13 + i].i != 0, runs = false;
		size_t k;
		json_t *v;
		json_array_foreach (services, k, v)
			runs |= json_is_string(v) && strcmp(json_string_value(v), names[i]) == 0;
		if (want != runs) {
			char why[64];
			snprintf(why, sizeof(why), "%s the %s", want ? "start" : "stop", names[i]);
			json_array_append_new(out, json_string(why));
		}
	}
	static const char *const folders[][2] = {{"appFolder", "apps"},
						 {"staticContentRootFolder", "static content"},
						 {"archivedLogsRootFolder", "archived logs"},
						 {"customDataRootFolder", "custom data"}};
	json_t *now = json_object_get(cluster, "sharedPersistenceProperties");
	json_t *then = json_object_get(running, "share");
	json_t *own = json_object_get(running, "ownFolders");
	for (size_t i = 0; i < ARRAY_LEN(folders); i++) {
		bool is_own = false;
		size_t k;
		json_t *v;
		json_array_foreach (own, k, v)
			is_own |=
			    json_is_string(v) && strcmp(json_string_value(v), folders[i][0]) == 0;
		char a[PATH_MAX], b[PATH_MAX];
		mapped(now, folders[i][0], a, sizeof(a));
		mapped(then, folders[i][0], b, sizeof(b));
		if (!is_own && strcmp(a, b) != 0) {
			char why[64];
			snprintf(why, sizeof(why), "use the new %s folder", folders[i][1]);
			json_array_append_new(out, json_string(why));
		}
	}
done:
	json_decref(running);
	json_decref(cluster);
	return out;
}

static int status_row(void *ctx, int n, const struct db_value *c)
{
	struct status_ctx *sc = ctx;
	if (n < 19)
		return 0;
	bool alive = false;
	int64_t at_ms, now_ms;
	if (c[3].type == DBV_TEXT && c[4].type == DBV_TEXT && time_parse_iso(c[3].s, &at_ms) == 0 &&
	    time_parse_iso(c[4].s, &now_ms) == 0)
		alive = now_ms - at_ms <= 3 * sc->r->heartbeat_ms;
	json_t *node = json_pack("{s:s%, s:s%, s:s%, s:n}", "id", c[0].s, c[0].len, "name", c[1].s,
				 c[1].len, "hostName", c[2].s, c[2].len, "privileges");
	json_t *o = json_object();
	json_object_set_new(o, "id", json_stringn(c[0].s, c[0].len));
	json_object_set_new(o, "serviceType", json_integer(SERVICE_REPOSITORY));
	bool joining = !alive && c[5].type == DBV_TEXT;
	json_object_set_new(o, "serviceState",
			    json_integer(alive	   ? STATE_RUNNING
					 : joining ? STATE_NO_CERTIFICATES
						   : STATE_NO_COMMUNICATION));
	if (joining)
		json_object_set_new(o, "registration", json_stringn(c[5].s, c[5].len));
	json_object_set_new(o, "timestamp",
			    c[3].type == DBV_TEXT ? json_stringn(c[3].s, c[3].len)
						  : json_string(TIME_NEVER));
	json_object_set_new(o, "serverNodeConfiguration", node);
	json_object_set_new(o, "privileges", json_null());
	if (sc->full) {
		json_object_set_new(o, "schemaPath", json_string("ServiceStatus"));
		/* Fathom's: what the node's last heartbeat said of it, and the central role */
		if (alive && c[6].type == DBV_TEXT && c[7].type == DBV_TEXT &&
		    c[8].type == DBV_INT) {
			json_object_set_new(o, "version", json_stringn(c[6].s, c[6].len));
			json_object_set_new(o, "startedAt", json_stringn(c[7].s, c[7].len));
			json_object_set_new(o, "engineSessions", json_integer(c[8].i));
			int apps = 0;
			for (size_t i = 0; c[9].type == DBV_TEXT && i < c[9].len; i++)
				apps += i == 0 || c[9].s[i] == ',';
			json_object_set_new(o, "appsLoaded", json_integer(apps));
			json_t *running = json_col(&c[17]);
			json_t *services = json_object_get(running, "services");
			if (json_is_array(services))
				json_object_set(o, "services", services);
			json_decref(running);
			json_object_set_new(o, "restartNeeded", restart_needed(c));
			if (c[18].type == DBV_TEXT && c[18].len)
				json_object_set_new(o, "shareState",
						    json_stringn(c[18].s, c[18].len));
		}
		if (c[10].type == DBV_TEXT && c[11].type == DBV_INT && c[12].type == DBV_TEXT &&
		    c[10].len == c[0].len && memcmp(c[10].s, c[0].s, c[0].len) == 0) {
			json_object_set_new(o, "centralToken", json_integer(c[11].i));
			json_object_set_new(o, "centralSince", json_stringn(c[12].s, c[12].len));
		}
	}
	json_array_append_new(sc->arr, o);
	return 0;
}

/* Answers with `rows` (taken): their count, the first alone (`one`), or all; or, when
 * `rc` is an error, nothing but it. */
static int send_rows(struct qrs *q, int rc, json_t *rows, bool count, bool one)
{
	if (rc == 0 && count)
		repo_qrs_send_json(q, 200,
				   json_pack("{s:I}", "value", (json_int_t)json_array_size(rows)));
	else if (rc == 0)
		repo_qrs_send_json(q, 200,
				   one ? json_incref(json_array_get(rows, 0)) : json_incref(rows));
	json_decref(rows);
	return rc;
}

static int status(struct qrs *q, bool full, bool count)
{
	if (http_req_query(q->req, "filter"))
		return err_set(&q->err, ERR_PARAM, "servicestatus does not take a filter yet");
	char sql[1024];
	snprintf(sql, sizeof(sql),
		 "SELECT n.id, n.name, n.host_name, h.at, %s, r.state, h.version, h.started_at, "
		 "h.engine_sessions, h.engine_apps, l.holder, l.token, l.changed_at, "
		 "n.engine_enabled, n.proxy_enabled, n.scheduler_enabled, (SELECT settings FROM "
		 "servicecluster ORDER BY created_date LIMIT 1), h.running, h.share_state FROM "
		 "servernodeconfiguration n LEFT JOIN node_heartbeat h ON h.node_id = n.id LEFT "
		 "JOIN node_registration r ON r.node_id = n.id LEFT JOIN central_lease l ON "
		 "l.holder = n.id ORDER BY n.name, n.id",
		 db_now_sql(q->repo->db));
	struct status_ctx sc = {q->repo, full, json_array()};
	struct db_conn *c;
	int rc = repo_qrs_begin(q, &c, false);
	if (rc == 0)
		rc = repo_qrs_end(q, c, db_exec(c, sql, NULL, status_row, &sc, NULL, &q->err));
	return send_rows(q, rc, sc.arr, count, false);
}

int repo_api_status_list(struct qrs *q)
{
	return status(q, false, false);
}

int repo_api_status_full(struct qrs *q)
{
	return status(q, true, false);
}

int repo_api_status_count(struct qrs *q)
{
	return status(q, false, true);
}

/* ---------------------------------------------------------------- proxy services */

/* GET /qrs/proxyservice: one per node whose row runs a proxy, under the node's id (Fathom's
 * services are the node itself). Its ports are what the node's last heartbeat said it
 * started with (node.conf [proxy]; absent when unknown); every virtual proxy is served by
 * every proxy. Read-only: the ports change in each node's node.conf. */
struct proxy_ctx {
	bool full;
	json_t *arr, *vproxies;
};

static int vproxy_row(void *ctx, int n, const struct db_value *c)
{
	json_t *arr = ctx;
	if (n >= 3 && c[0].type == DBV_TEXT)
		json_array_append_new(
		    arr, json_pack("{s:s%, s:s%, s:s%, s:n}", "id", c[0].s, c[0].len, "prefix",
				   c[1].type == DBV_TEXT ? c[1].s : "",
				   c[1].type == DBV_TEXT ? c[1].len : 0, "description",
				   c[2].type == DBV_TEXT ? c[2].s : "",
				   c[2].type == DBV_TEXT ? c[2].len : 0, "privileges"));
	return 0;
}

static int proxy_row(void *ctx, int n, const struct db_value *c)
{
	struct proxy_ctx *pc = ctx;
	if (n < 6 || c[0].type != DBV_TEXT)
		return 0;
	json_t *o = json_pack("{s:s%, s:n}", "id", c[0].s, c[0].len, "privileges");
	if (pc->full) {
		json_object_set_new(o, "createdDate",
				    c[4].type == DBV_TEXT ? json_stringn(c[4].s, c[4].len)
							  : json_string(TIME_NEVER));
		json_object_set_new(o, "modifiedDate",
				    c[5].type == DBV_TEXT ? json_stringn(c[5].s, c[5].len)
							  : json_string(TIME_NEVER));
		json_object_set_new(o, "serverNodeConfiguration",
				    json_pack("{s:s%, s:s%, s:s%, s:n}", "id", c[0].s, c[0].len,
					      "name", c[1].s, c[1].len, "hostName", c[2].s,
					      c[2].len, "privileges"));
		json_t *running = json_col(&c[3]);
		json_t *ports = json_object_get(running, "proxy");
		json_t *settings = json_is_object(ports) ? json_deep_copy(ports) : json_object();
		json_t *plain = json_object_get(settings, "unencryptedListenPort");
		json_object_set_new(settings, "allowHttp",
				    json_boolean(json_integer_value(plain) > 0));
		json_object_set(settings, "virtualProxies", pc->vproxies);
		json_object_set_new(o, "settings", settings);
		json_object_set_new(o, "schemaPath", json_string("ProxyService"));
		json_decref(running);
	}
	json_array_append_new(pc->arr, o);
	return 0;
}

static int proxies(struct qrs *q, bool full, bool count, const char *id)
{
	if (http_req_query(q->req, "filter"))
		return err_set(&q->err, ERR_PARAM, "proxyservice does not take a filter yet");
	struct proxy_ctx pc = {full, json_array(), json_array()};
	struct db_params p;
	db_params_init(&p);
	if (id)
		db_p_text(&p, id);
	char sql[512];
	snprintf(sql, sizeof(sql),
		 "SELECT n.id, n.name, n.host_name, h.running, n.created_date, n.modified_date "
		 "FROM servernodeconfiguration n LEFT JOIN node_heartbeat h ON h.node_id = n.id "
		 "WHERE n.proxy_enabled <> 0%s ORDER BY n.name, n.id",
		 id ? " AND n.id = $1" : "");
	struct db_conn *c;
	int rc = repo_qrs_begin(q, &c, false);
	if (rc == 0) {
		rc = db_exec(c,
			     "SELECT id, prefix, description FROM virtualproxyconfig ORDER BY "
			     "prefix, id",
			     NULL, vproxy_row, pc.vproxies, NULL, &q->err);
		if (rc == 0)
			rc = db_exec(c, sql, &p, proxy_row, &pc, NULL, &q->err);
		rc = repo_qrs_end(q, c, rc);
	}
	json_decref(pc.vproxies);
	if (rc == 0 && id && json_array_size(pc.arr) == 0)
		rc = err_set(&q->err, ERR_NOT_FOUND, "no proxy service %s", id);
	return send_rows(q, rc, pc.arr, count, id != NULL);
}

int repo_api_proxy_list(struct qrs *q)
{
	return proxies(q, false, false, NULL);
}

int repo_api_proxy_full(struct qrs *q)
{
	return proxies(q, true, false, NULL);
}

int repo_api_proxy_count(struct qrs *q)
{
	return proxies(q, false, true, NULL);
}

int repo_api_proxy_get(struct qrs *q)
{
	if (!uuid_valid(q->id))
		return err_set(&q->err, ERR_PARAM, "\"%s\" is not an id", q->id);
	return proxies(q, true, false, q->id);
}

int repo_api_proxy_put(struct qrs *q)
{
	err_set(&q->err, ERR_METHOD, "a proxy service's settings are read-only here");
	err_hint(&q->err, "its ports are [proxy] port, http_port and api_port in the node's "
			  "node.conf; its virtual proxies are every virtualproxyconfig");
	return ERR_METHOD;
}

int repo_api_proxy_local(struct qrs *q)
{
	return proxies(q, true, false, q->repo->node_id);
}

int repo_health(struct repo *r, struct err *e)
{
	bool seen = false;
	struct err de;
	err_init(&de);
	if (db_exec_once(r->db, "SELECT 1", NULL, db_row_seen, &seen, &de) != 0 || !seen)
		return err_set(e, ERR_UNAVAILABLE, "the repository database does not answer: %s",
			       de.message);
	const char *apps = share_apps_dir(r->share);
	if (share_held_off(r->share, e))
		return err_set(e, ERR_UNAVAILABLE,
			       "the share's app folder %s did not answer moments ago", apps);
	if (access(apps, R_OK | W_OK | X_OK) != 0)
		return err_set(e, ERR_UNAVAILABLE, "the share's app folder %s cannot be used: %s",
			       apps, strerror(errno));
	return 0;
}

int repo_executions_queued(struct repo *r, int64_t *out, struct err *e)
{
	struct db_conn *c;
	*out = 0;
	int rc = db_acquire(r->db, &c, e);
	if (rc)
		return rc;
	rc = db_exec(c, "SELECT count(*) FROM executionsession WHERE status = 3", NULL,
		     repo_int_row, out, NULL, e);
	db_release(r->db, c);
	return rc;
}

/* ---------------------------------------------------------------- the nodes' last errors */

struct log_add {
	struct repo *r;
	const struct log_entry *entries;
	int n;
};

static int log_add(struct db_conn *c, void *ctx, struct err *e)
{
	const struct log_add *x = ctx;
	int rc = 0;
	for (int i = 0; rc == 0 && i < x->n; i++) {
		struct db_params p;
		db_params_init(&p);
		db_p_text(&p, x->r->node_id);
		db_p_text(&p, x->entries[i].at);
		db_p_text(&p, log_level_name(x->entries[i].level));
		db_p_text(&p, x->entries[i].message);
		rc = db_exec(
		    c,
		    "INSERT INTO node_log (node_id, at, level, message) VALUES ($1, $2, $3, "
		    "$4)",
		    &p, NULL, NULL, NULL, e);
	}
	if (rc == 0) { /* the last 50 of this node */
		struct db_params p;
		db_params_init(&p);
		db_p_text(&p, x->r->node_id);
		rc = db_exec(
		    c,
		    "DELETE FROM node_log WHERE node_id = $1 AND at < (SELECT at FROM node_log "
		    "WHERE node_id = $1 ORDER BY at DESC LIMIT 1 OFFSET 49)",
		    &p, NULL, NULL, NULL, e);
	}
	return rc;
}

int repo_node_log_add(struct repo *r, const struct log_entry *entries, int n, struct err *e)
{
	struct log_add x = {r, entries, n};
	return n <= 0 ? 0 : db_write_tx(r->db, log_add, &x, e);
}

/* Rows of four texts into objects with these keys, appended to an array. */
struct texts4 {
	const char *const *keys;
	json_t *arr;
};

static int texts4_row(void *ctx, int n, const struct db_value *c)
{
	const struct texts4 *t = ctx;
	if (n < 4)
		return 0;
	json_t *o = json_object();
	for (int i = 0; i < 4; i++)
		json_object_set_new(o, t->keys[i],
				    c[i].type == DBV_TEXT ? json_stringn(c[i].s, c[i].len)
							  : json_null());
	json_array_append_new(t->arr, o);
	return 0;
}

/* ---------------------------------------------------------------- GET /qrs/about/site */

static int database_json(struct qrs *q, struct db_conn *c, json_t *out)
{
	struct repo *r = q->repo;
	int total, in_use;
	db_pool_use(r->db, &total, &in_use);
	char *shown = db_shown(r->db);
	json_object_set_new(out, "connection", shown ? json_string(shown) : json_null());
	free(shown);
	json_object_set_new(out, "poolSize", json_integer(total));
	json_object_set_new(out, "poolInUse", json_integer(in_use));
	if (db_kind(r->db) != DB_POSTGRES) {
		json_object_set_new(out, "provider", json_string("SQLite"));
		return 0;
	}
	json_object_set_new(out, "provider", json_string("PostgreSQL"));
	int64_t conns = 0, max = 0;
	int rc =
	    db_exec(c, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()",
		    NULL, repo_int_row, &conns, NULL, &q->err);
	if (rc == 0)
		rc = db_exec(c,
			     "SELECT CAST(setting AS BIGINT) FROM pg_settings WHERE name = "
			     "'max_connections'",
			     NULL, repo_int_row, &max, NULL, &q->err);
	static const char *const keys[] = {"name", "address", "state", "sync"};
	json_t *standbys = json_array();
	struct texts4 t = {keys, standbys};
	if (rc == 0)
		rc =
		    db_exec(c,
			    "SELECT application_name, CAST(client_addr AS TEXT), state, sync_state "
			    "FROM pg_stat_replication ORDER BY application_name",
			    NULL, texts4_row, &t, NULL, &q->err);
	json_object_set_new(out, "connections", json_integer(conns));
	json_object_set_new(out, "maxConnections", json_integer(max));
	json_object_set_new(out, "standbys", standbys);
	return rc;
}

/* What the site runs on, as an administrator's health page shows it (Fathom's): the
 * database (its connections against max_connections, the standbys that stream from it)
 * and the share as this node sees it (free and total bytes, whether it can be used). */
int repo_api_about_site(struct qrs *q)
{
	struct db_conn *c;
	int rc = repo_qrs_begin(q, &c, false);
	if (rc)
		return rc;
	json_t *db = json_object(), *errors = json_array();
	static const char *const keys[] = {"node", "at", "level", "message"};
	struct texts4 t = {keys, errors};
	rc = database_json(q, c, db);
	if (rc == 0)
		rc = db_exec(
		    c,
		    "SELECT n.name, l.at, l.level, l.message FROM node_log l JOIN "
		    "servernodeconfiguration n ON n.id = l.node_id ORDER BY l.at DESC LIMIT 20",
		    NULL, texts4_row, &t, NULL, &q->err);
	rc = repo_qrs_end(q, c, rc);
	if (rc) {
		json_decref(db);
		json_decref(errors);
		return rc;
	}
	json_t *sh = json_object();
	const char *apps = share_apps_dir(q->repo->share);
	struct statvfs vs;
	if (statvfs(apps, &vs) == 0) {
		json_object_set_new(
		    sh, "freeBytes",
		    json_integer((json_int_t)((uint64_t)vs.f_bavail * vs.f_frsize)));
		json_object_set_new(
		    sh, "totalBytes",
		    json_integer((json_int_t)((uint64_t)vs.f_blocks * vs.f_frsize)));
	}
	struct err e;
	err_init(&e);
	bool usable = repo_health(q->repo, &e) == 0;
	json_object_set_new(sh, "usable", json_boolean(usable));
	if (!usable)
		json_object_set_new(sh, "problem", json_string(e.message));
	json_object_set_new(sh, "appFolder", json_string(apps));
	json_t *out = json_object();
	json_object_set_new(out, "database", db);
	json_object_set_new(out, "share", sh);
	json_object_set_new(out, "lastErrors", errors);
	json_object_set_new(out, "node", json_string(q->repo->node_id));
	repo_qrs_send_json(q, 200, out);
	return 0;
}
