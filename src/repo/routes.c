/* routes.c: the route table, request dispatch, the trust checks every request passes
 * (client certificate, xrfkey), error bodies, and /qrs/about with its API description
 * generated from the route table. */
#include "repo/repo_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static int h_about(struct qrs *q);
static int h_description(struct qrs *q);
static int h_enums(struct qrs *q);
static int h_metrics(struct qrs *q);

const struct route repo_routes[] = {
    {"GET", "/qrs/about", h_about, 0, "", NULL, NULL},
    {"GET", "/qrs/about/api/description", h_description, 0,
     "?extended={extended}&method={method}&format={format}", NULL, NULL},
    {"GET", "/qrs/about/api/enums", h_enums, 0, "", NULL, NULL},
    {"GET", "/qrs/about/site", repo_api_about_site, 0, "", NULL, NULL},
    {"GET", "/metrics", h_metrics, R_NO_XRF, "", NULL, NULL},
    {"POST", "/qrs/app/upload", repo_api_app_upload, R_STREAM, "?name={name}",
     repo_api_app_upload_begin, repo_api_app_file_cleanup},
    {"POST", "/qrs/app/upload/replace", repo_api_app_upload, R_STREAM, "?targetappid={targetappid}",
     repo_api_app_upload_begin, repo_api_app_file_cleanup},
    {"POST", "/qrs/app/{id}/copy", repo_api_app_copy, 0,
     "?name={name}&includecustomproperties={includecustomproperties}", NULL,
     repo_api_app_file_cleanup},
    {"GET", "/qrs/app/{id}/export", repo_api_app_export_token, 0, "", NULL, NULL},
    {"POST", "/qrs/app/{id}/export/{token}", repo_api_app_export, 0, "?skipdata={skipdata}", NULL,
     NULL},
    {"DELETE", "/qrs/app/{id}/export/{token}", repo_api_app_export_cancel, 0, "", NULL, NULL},
    {"PUT", "/qrs/app/{id}/publish", repo_api_app_publish, 0, "?stream={stream}&name={name}", NULL,
     NULL},
    {"PUT", "/qrs/app/{id}/replace", repo_api_app_replace, 0, "?app={app}", NULL,
     repo_api_app_file_cleanup},
    {"POST", "/qrs/app/{id}/reload", repo_api_app_reload, 0, "", NULL, repo_api_app_file_cleanup},
    {"GET", "/qrs/app/{id}/reload/log", repo_api_app_reload_log, 0, "", NULL, NULL},
    {"GET", "/qrs/app/{id}/objects", repo_api_app_objects, 0, "", NULL, NULL},
    {"GET", "/tempcontent/{token}/{name}", repo_api_app_download, R_NO_XRF,
     "?serverNodeId={serverNodeId}", NULL, NULL},
    {"POST", "/qrs/reloadtask/create", repo_api_task_create, 0, "", NULL, NULL},
    {"POST", "/qrs/reloadtask/update", repo_api_task_update, 0, "", NULL, NULL},
    {"GET", "/qrs/task", repo_api_task_list, 0, "?filter={filter}&orderby={orderby}", NULL, NULL},
    {"GET", "/qrs/task/full", repo_api_task_list, 0, "?filter={filter}&orderby={orderby}", NULL,
     NULL},
    {"POST", "/qrs/task/start/many", repo_api_task_start_many, 0, "", NULL, NULL},
    {"POST", "/qrs/task/start/synchronous", repo_api_task_start_sync, 0, "?name={name}", NULL,
     NULL},
    {"POST", "/qrs/task/start", repo_api_task_start, 0, "?name={name}", NULL, NULL},
    {"POST", "/qrs/task/stop/many", repo_api_task_stop_many, 0, "", NULL, NULL},
    {"POST", "/qrs/task/{id}/start", repo_api_task_start, 0, "", NULL, NULL},
    {"POST", "/qrs/task/{id}/start/synchronous", repo_api_task_start_sync, 0, "", NULL, NULL},
    {"POST", "/qrs/task/{id}/stop", repo_api_task_stop, 0, "", NULL, NULL},
    {"GET", "/qrs/executionresult/{id}/scriptlog", repo_api_result_log, 0, "?offset={offset}", NULL,
     NULL},
    {"POST", "/qrs/failover/tonode/{id}", repo_api_failover, 0, "", NULL, NULL},
    {"POST", "/qrs/loadbalancing/validengines", repo_api_validengines, 0, "", NULL, NULL},
    {"PUT", "/qrs/user/{id}/password", repo_api_user_password, 0, "", NULL, NULL},
    {"POST", "/qrs/systemrule/security/audit", repo_api_rule_audit, 0, "", NULL, NULL},
    {"POST", "/qrs/systemrule/check", repo_api_rule_check, 0, "", NULL, NULL},
    {"GET", "/qrs/servicestatus", repo_api_status_list, 0, "", NULL, NULL},
    {"GET", "/qrs/servernodeconfiguration/local", repo_api_node_local, 0, "", NULL, NULL},
    {"GET", "/qrs/servernodeconfiguration/container", repo_api_node_container_template, 0, "", NULL,
     NULL},
    {"POST", "/qrs/servernodeconfiguration/container", repo_api_node_container, 0, "", NULL, NULL},
    {"GET", "/qrs/servernoderegistration/start/{id}", repo_api_registration_start, 0, "", NULL,
     NULL},
    {"GET", "/qrs/servicestatus/full", repo_api_status_full, 0, "", NULL, NULL},
    {"GET", "/qrs/servicestatus/count", repo_api_status_count, 0, "", NULL, NULL},
    {"GET", "/qrs/proxyservice", repo_api_proxy_list, 0, "", NULL, NULL},
    {"GET", "/qrs/proxyservice/full", repo_api_proxy_full, 0, "", NULL, NULL},
    {"GET", "/qrs/proxyservice/count", repo_api_proxy_count, 0, "", NULL, NULL},
    {"GET", "/qrs/proxyservice/local", repo_api_proxy_local, 0, "", NULL, NULL},
    {"GET", "/qrs/proxyservice/{id}", repo_api_proxy_get, 0, "", NULL, NULL},
    {"PUT", "/qrs/proxyservice/{id}", repo_api_proxy_put, 0, "", NULL, NULL},
    {"GET", "/qrs/{type}", repo_api_list, R_GENERIC, "?filter={filter}&orderby={orderby}", NULL,
     NULL},
    {"GET", "/qrs/{type}/full", repo_api_full, R_GENERIC, "?filter={filter}&orderby={orderby}",
     NULL, NULL},
    {"GET", "/qrs/{type}/count", repo_api_count, R_GENERIC, "?filter={filter}", NULL, NULL},
    {"POST", "/qrs/{type}/many", repo_api_create_many, R_GENERIC, "", NULL, NULL},
    {"POST", "/qrs/{type}/table", repo_api_table, R_GENERIC,
     "?filter={filter}&skip={skip}&take={take}&sortColumn={sortColumn}&orderAscending={"
     "orderAscending}",
     NULL, NULL},
    {"GET", "/qrs/{type}/{id}", repo_api_get, R_GENERIC, "", NULL, NULL},
    {"POST", "/qrs/{type}", repo_api_create, R_GENERIC, "", NULL, NULL},
    {"PUT", "/qrs/{type}/{id}", repo_api_update, R_GENERIC, "", NULL, NULL},
    {"DELETE", "/qrs/{type}/{id}", repo_api_delete, R_GENERIC, "", NULL, NULL},
};
const int repo_n_routes = (int)ARRAY_LEN(repo_routes);

/* ---------------------------------------------------------------- responses */

static int type_of(const struct entity_desc *d)
{
	for (int i = 0; i < repo_n_entities; i++)
		if (repo_entities[i] == d)
			return i;
	return -1;
}

/* The cache key of a GET: its path and its query without the xrfkey. */
static const char *cache_key(struct qrs *q)
{
	struct buf b;
	buf_init(&b, 1 << 16);
	int rc = buf_puts(&b, http_req_path(q->req));
	char sep = '?';
	for (int i = 0; rc == 0 && i < http_req_query_count(q->req); i++) {
		const char *v;
		const char *k = http_req_query_at(q->req, i, &v);
		if (!k || str_ieq(k, "xrfkey"))
			continue;
		rc = buf_printf(&b, "%c%s=%s", sep, k, v ? v : "");
		sep = '&';
	}
	const char *key = rc == 0 && b.data ? arena_strdup(q->a, b.data) : NULL;
	buf_release(&b);
	return key;
}

/* While the database is unreachable: the answer this node gave last, marked stale. */
static bool answer_from_cache(struct qrs *q)
{
	char *body;
	size_t len;
	int64_t age_ms;
	if (repo_cache_get(q->repo->cache, q->cache_key, &body, &len, &age_ms) != 0)
		return false;
	char age[32];
	snprintf(age, sizeof(age), "%lld", (long long)(age_ms / 1000));
	http_add_header(q->req, "Age", age);
	http_add_header(q->req, "Warning", "110 fathom \"Response is Stale\"");
	http_add_header(q->req, "X-Fathom-Cache", "stale; the repository database is unreachable");
	http_respond(q->req, 200, "application/json; charset=utf-8", body, len);
	free(body);
	return true;
}

void repo_qrs_send_json(struct qrs *q, int status, json_t *j)
{
	size_t len;
	char *s = json_encode(j, &len);
	json_decref(j);
	if (!s) {
		http_respond(q->req, 500, "application/json; charset=utf-8",
			     "{\"message\":\"out of memory\"}", 27);
		return;
	}
	if (status == 200 && q->cache_key)
		repo_cache_put(q->repo->cache, type_of(q->desc), q->cache_key, s, len,
			       q->cache_epoch);
	http_respond_owned(q->req, status, "application/json; charset=utf-8", s, len);
}

void repo_qrs_send_error(struct qrs *q, int code)
{
	if (http_responded(q->req))
		return;
	if (!q->err.code)
		err_set(&q->err, code ? code : ERR_INTERNAL, "%s",
			err_str(code ? code : ERR_INTERNAL));
	int status = err_http_status(q->err.code);
	json_t *o = json_object();
	json_object_set_new(o, "status", json_integer(status));
	json_object_set_new(o, "code", json_string(err_name(q->err.code)));
	json_object_set_new(o, "message", json_string(q->err.message));
	if (q->err.detail[0])
		json_object_set_new(o, "detail", json_string(q->err.detail));
	if (q->err.hint[0])
		json_object_set_new(o, "hint", json_string(q->err.hint));
	if (q->err.position)
		json_object_set_new(o, "position", json_integer(q->err.position));
	if (status == 503)
		http_add_header(q->req, "Retry-After", "2");
	if (status >= 500)
		log_warn("%s %s: %d %s", http_req_method(q->req), http_req_path(q->req), status,
			 q->err.message);
	repo_qrs_send_json(q, status, o);
}

int repo_qrs_body_json(struct qrs *q, json_t **out)
{
	*out = NULL;
	size_t len;
	const char *body = http_req_body(q->req, &len);
	if (len == 0)
		return err_set(&q->err, ERR_JSON, "the request has no body: send a JSON document");
	json_error_t je;
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		err_set(&q->err, ERR_JSON, "malformed JSON at line %d, column %d: %s", je.line,
			je.column, je.text);
		q->err.position = je.position + 1;
		return ERR_JSON;
	}
	*out = j;
	return 0;
}

int repo_qrs_begin(struct qrs *q, struct db_conn **out, bool write)
{
	*out = NULL;
	struct db_conn *c;
	int rc = db_acquire(q->repo->db, &c, &q->err);
	if (rc)
		return rc;
	rc = db_begin(c, write, &q->err);
	if (rc) {
		db_release(q->repo->db, c);
		if (rc == ERR_BUSY) {
			q->err.code = 0;
			err_set(&q->err, ERR_UNAVAILABLE,
				"the repository database is busy; try again");
			return ERR_UNAVAILABLE;
		}
		return rc;
	}
	*out = c;
	return 0;
}

int repo_qrs_end(struct qrs *q, struct db_conn *c, int rc)
{
	if (rc == 0)
		rc = db_commit(c, &q->err);
	else
		db_rollback(c);
	db_release(q->repo->db, c);
	/* Committed changes drop this node's cached answers now, and the other nodes' soon. */
	for (struct qrs_change *ch = q->changes; rc == 0 && ch; ch = ch->next) {
		if (q->repo->cache) {
			repo_cache_invalidate(q->repo->cache, ch->type);
			repo_cache_announce(q->repo->cache, ch->seq, ch->type);
		}
		db_changes_publish(ch->type); /* this process's waiters (the scheduler) */
	}
	q->changes = NULL;
	if (rc == ERR_BUSY) {
		q->err.code = 0;
		err_set(&q->err, ERR_UNAVAILABLE, "the repository database is busy; try again");
		rc = ERR_UNAVAILABLE;
	}
	return rc;
}

bool repo_qrs_query_true(struct qrs *q, const char *name)
{
	const char *v = http_req_query(q->req, name);
	return v && str_ieq(v, "true");
}

/* ---------------------------------------------------------------- routing */

/* Matches `path` against `pattern`, filling q's {type} {id} {token} {name}. Returns 1 on a
 * match, 0 on none, -1 when the pattern matched but {type} named no entity type. */
static int match(struct qrs *q, const char *pattern, const char *path, const char **bad_name)
{
	const char *p = pattern, *s = path;
	const struct entity_desc *desc = NULL;
	const char *id = NULL, *token = NULL, *tail = NULL;
	bool bad_type = false;
	while (*p && *s) {
		if (*p != '/' || *s != '/')
			return 0;
		p++;
		s++;
		const char *pe = strchr(p, '/'), *se = strchr(s, '/');
		size_t pl = pe ? (size_t)(pe - p) : strlen(p);
		size_t sl = se ? (size_t)(se - s) : strlen(s);
		if (sl == 0)
			return 0;
		char *seg = arena_strndup(q->a, s, sl);
		if (pl == 6 && strncmp(p, "{type}", 6) == 0) {
			desc = repo_entity_find(seg);
			if (!desc || (desc->flags & E_INTERNAL)) {
				bad_type = true;
				*bad_name = seg;
			}
		} else if (pl == 4 && strncmp(p, "{id}", 4) == 0) {
			if (!uuid_valid(seg))
				return 0;
			uuid_lower(seg);
			id = seg;
		} else if (pl == 7 && strncmp(p, "{token}", 7) == 0) {
			if (!uuid_valid(seg))
				return 0;
			uuid_lower(seg);
			token = seg;
		} else if (pl == 6 && strncmp(p, "{name}", 6) == 0) {
			tail = seg;
		} else if (pl != sl || !str_ieqn(p, s, sl)) {
			return 0;
		}
		p += pl;
		s += sl;
	}
	if (*p || *s)
		return 0;
	if (bad_type)
		return -1;
	if (!desc && str_has_prefix(pattern, "/qrs/")) {
		/* Fixed routes take their entity type from their second segment (/qrs/app/...). */
		const char *t = pattern + 5, *end = strchr(t, '/');
		char name[64];
		size_t tl = end ? (size_t)(end - t) : strlen(t);
		if (tl < sizeof(name)) {
			memcpy(name, t, tl);
			name[tl] = '\0';
			desc = repo_entity_find(name);
		}
	}
	if (!desc && str_has_prefix(pattern, "/tempcontent/"))
		desc = repo_entity_find("app");
	q->desc = desc;
	q->id = id;
	q->token = token;
	q->tail = tail;
	return 1;
}

static const struct route *route_find(struct qrs *q, const char *method, const char *path)
{
	bool path_known = false, bad_type = false;
	const char *bad_name = "";
	for (int i = 0; i < repo_n_routes; i++) {
		const struct route *rt = &repo_routes[i];
		int m = match(q, rt->pattern, path, &bad_name);
		if (m < 0)
			bad_type = true;
		if (m <= 0)
			continue;
		path_known = true;
		if (strcmp(rt->method, method) == 0) {
			if (q->req)
				http_req_set_route(q->req, rt->pattern);
			return rt;
		}
	}
	if (path_known)
		err_set(&q->err, ERR_METHOD, "%s is not allowed on %s", method, path);
	else if (bad_type)
		err_set(&q->err, ERR_NO_ROUTE, "unknown entity type \"%s\" in %s", bad_name, path);
	else
		err_set(&q->err, ERR_NO_ROUTE, "no endpoint %s %s", method, path);
	return NULL;
}

/* ---------------------------------------------------------------- trust checks */

/* "UserDirectory=X; UserId=Y" in any order and case, or "X\Y". */
int repo_qrs_parse_user(struct qrs *q, const char *h)
{
	const char *dir = NULL, *uid = NULL;
	if (!h || !*h) {
		dir = "INTERNAL";
		uid = "sa_repository";
	} else if (!strchr(h, '=') && strchr(h, '\\')) {
		const char *bs = strchr(h, '\\');
		dir = arena_strndup(q->a, h, (size_t)(bs - h));
		uid = arena_strdup(q->a, bs + 1);
	} else {
		char *copy = arena_strdup(q->a, h);
		for (char *part = copy; part && *part;) {
			char *semi = strchr(part, ';');
			if (semi)
				*semi = '\0';
			char *eq = strchr(part, '=');
			if (eq) {
				*eq = '\0';
				char *k = part, *v = eq + 1;
				while (*k == ' ')
					k++;
				while (*v == ' ')
					v++;
				size_t kl = strlen(k), vl = strlen(v);
				while (kl && k[kl - 1] == ' ')
					k[--kl] = '\0';
				while (vl && v[vl - 1] == ' ')
					v[--vl] = '\0';
				if (str_ieq(k, "UserDirectory"))
					dir = v;
				else if (str_ieq(k, "UserId"))
					uid = v;
			}
			part = semi ? semi + 1 : NULL;
		}
	}
	if (!dir || !uid || !*dir || !*uid || strlen(dir) > 128 || strlen(uid) > 128 ||
	    str_has_ctl(dir, false) || str_has_ctl(uid, false) || strchr(dir, '\\')) {
		err_set(&q->err, ERR_INVALID, "header X-Qlik-User is malformed");
		err_hint(&q->err, "send \"UserDirectory=DIR; UserId=ID\"");
		return ERR_INVALID;
	}
	q->user_dir = dir;
	q->user_id = uid;
	q->user = arena_printf(q->a, "%s\\%s", dir, uid);
	return 0;
}

static int admit(struct qrs *q)
{
	enum http_cert cert = http_req_client_cert(q->req);
	if (cert == HTTP_CERT_NONE) {
		err_set(&q->err, ERR_CERT, "a client certificate is required");
		err_hint(&q->err,
			 "present client.pem and client_key.pem from the site's certs folder");
		return ERR_CERT;
	}
	if (cert != HTTP_CERT_OK)
		return err_set(&q->err, ERR_CERT, "%s", http_cert_problem(cert));
	if (!(q->route->flags & R_NO_XRF) && !http_req_xrf_ok(q->req))
		return err_set(&q->err, ERR_XRF, "%s", err_str(ERR_XRF));
	return repo_qrs_parse_user(q, http_req_user(q->req));
}

/* ---------------------------------------------------------------- handler callbacks */

static void on_headers(void *ctx, struct http_req *r)
{
	struct qrs *q = arena_alloc(http_req_arena(r), sizeof(*q));
	q->repo = ctx;
	q->req = r;
	q->a = http_req_arena(r);
	err_init(&q->err);
	http_req_set_data(r, q);
	char *path = arena_strdup(q->a, http_req_path(r));
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		path[--n] = '\0';
	q->route = route_find(q, http_req_method(r), path);
	int rc = q->route ? admit(q) : q->err.code;
	if (rc == 0) {
		http_req_set_actor(r, q->user);
		rc = repo_access_begin(q);
	}
	if (rc == 0)
		rc = repo_access_gate(q);
	if (rc == 0 && (q->route->flags & R_STREAM))
		rc = q->route->begin(q);
	if (rc)
		repo_qrs_send_error(q, rc);
}

static void on_complete(void *ctx, struct http_req *r)
{
	(void)ctx;
	struct qrs *q = http_req_data(r);
	if (http_responded(r))
		return;
	int rc = http_req_body_error(r);
	if (rc && !(q->route->flags & R_STREAM)) {
		err_set(&q->err, rc, "the request body is larger than %zu bytes",
			q->repo->max_body);
		err_hint(&q->err, "raise [repository] max_body_bytes in node.conf");
		repo_qrs_send_error(q, rc);
		return;
	}
	/* a person's answers depend on who asks: not kept for outages */
	if (q->repo->cache && !q->access && (q->route->flags & R_GENERIC) && q->desc &&
	    !(q->desc->flags & E_NO_CACHE) && strcmp(http_req_method(r), "GET") == 0) {
		q->cache_key = cache_key(q);
		q->cache_epoch = repo_cache_epoch(q->repo->cache, type_of(q->desc));
	}
	rc = q->route->fn(q);
	if (rc == ERR_UNAVAILABLE && q->cache_key && !http_responded(r) && answer_from_cache(q))
		rc = 0;
	if (rc)
		repo_qrs_send_error(q, rc);
	else if (!http_responded(r))
		repo_qrs_send_error(q, ERR_INTERNAL);
}

static void on_done(void *ctx, struct http_req *r, bool completed)
{
	(void)ctx;
	struct qrs *q = http_req_data(r);
	if (!q)
		return;
	if (q->route && q->route->cleanup)
		q->route->cleanup(q, completed);
	if (!completed && q->route && (q->route->flags & R_STREAM))
		log_info("%s %s: the client went away before the request finished",
			 http_req_method(r), http_req_path(r));
}

void repo_qrs_local_init(struct qrs *q, struct repo *r, struct arena *a, const char *user)
{
	memset(q, 0, sizeof(*q));
	q->repo = r;
	q->a = a;
	err_init(&q->err);
	q->user_dir = "INTERNAL";
	q->user_id = user ? user : "sa_repository";
	q->user = arena_printf(a, "INTERNAL\\%s", q->user_id);
}

struct http_handler repo_http_handler(struct repo *r)
{
	struct http_handler h = {r, on_headers, on_complete, on_done};
	return h;
}

/* ---------------------------------------------------------------- about */

static int h_about(struct qrs *q)
{
	json_t *o = json_object();
	json_object_set_new(o, "schemaPath", json_string("About"));
	json_object_set_new(o, "buildVersion", json_string(q->repo->version));
	json_object_set_new(o, "buildDate", json_string(__DATE__));
	json_object_set_new(o, "databaseProvider", json_string(db_provider_name(q->repo->db)));
	json_object_set_new(o, "nodeType", json_integer(1));
	json_object_set_new(o, "sharedPersistence", json_true());
	json_object_set_new(o, "requiresBootstrap", json_false());
	json_object_set_new(o, "singleNodeOnly", json_boolean(db_kind(q->repo->db) == DB_SQLITE));
	json_object_set_new(o, "schemaVersion", json_integer(db_schema_version_known(q->repo->db)));
	json_object_set_new(o, "serverNodeId", json_string(q->repo->node_id));
	repo_qrs_send_json(q, 200, o);
	return 0;
}

/* GET /qrs/about/api/enums: every enumeration of the entities, as QRS answers it: keyed by
 * name, its values as "n: Name" and where it is used ("Schema.property"). An enumeration
 * is named after its first use (TaskExecutionStatus for the statuses of executions). */
static int h_enums(struct qrs *q)
{
	json_t *out = json_object();
	const char *const *seen[64];
	json_t *usages[64];
	int n = 0;
	for (int k = 0; k < repo_n_entities; k++) {
		const struct entity_desc *d = repo_entities[k];
		for (int i = 0; !(d->flags & E_INTERNAL) && i < d->n_fields; i++) {
			const struct field_desc *f = &d->fields[i];
			if (f->type != FT_ENUM || !f->enum_names)
				continue;
			int at = 0;
			while (at < n && seen[at] != f->enum_names)
				at++;
			if (at == n && n < 64) {
				char name[160];
				if (f->enum_names == repo_exec_status_names)
					str_copy(name, "TaskExecutionStatus", sizeof(name));
				else
					snprintf(name, sizeof(name), "%s%c%s", d->schema,
						 toupper((unsigned char)f->json[0]), f->json + 1);
				json_t *values = json_array();
				for (int v = 0; f->enum_names[v]; v++)
					json_array_append_new(
					    values, json_sprintf("%d: %s", v, f->enum_names[v]));
				usages[n] = json_array();
				json_object_set_new(
				    out, name,
				    json_pack("{s:o, s:O}", "values", values, "usages", usages[n]));
				json_decref(usages[n]);
				seen[n++] = f->enum_names;
			}
			if (at < n)
				json_array_append_new(usages[at],
						      json_sprintf("%s.%s", d->schema, f->json));
		}
	}
	repo_qrs_send_json(q, 200, out);
	return 0;
}

static bool route_applies(const struct route *rt, const struct entity_desc *d)
{
	if (rt->fn == repo_api_create || rt->fn == repo_api_create_many)
		return !(d->flags & E_NO_CREATE);
	if (rt->fn == repo_api_update)
		return !(d->flags & E_NO_UPDATE);
	if (rt->fn == repo_api_delete)
		return !(d->flags & E_NO_DELETE);
	return true;
}

static void describe(json_t *out, const struct route *rt, const char *path, bool as_json,
		     bool extended)
{
	if (as_json) {
		json_t *o = json_object();
		json_object_set_new(o, "method", json_string(rt->method));
		json_object_set_new(o, "path", json_string(path));
		json_object_set_new(o, "query", json_string(rt->doc));
		if (extended) {
			json_object_set_new(o, "generated", json_boolean(rt->flags & R_GENERIC));
			json_object_set_new(o, "streamsBody", json_boolean(rt->flags & R_STREAM));
			json_object_set_new(o, "needsXrfkey",
					    json_boolean(!(rt->flags & R_NO_XRF)));
		}
		json_array_append_new(out, o);
		return;
	}
	char line[512];
	snprintf(line, sizeof(line), "%-6s %s%s", rt->method, path, rt->doc);
	json_array_append_new(out, json_string(line));
}

static int h_description(struct qrs *q)
{
	const char *method = http_req_query(q->req, "method");
	const char *format = http_req_query(q->req, "format");
	bool as_json = format && str_ieq(format, "json");
	bool extended = repo_qrs_query_true(q, "extended");
	json_t *out = json_array();
	for (int i = 0; i < repo_n_routes; i++) {
		const struct route *rt = &repo_routes[i];
		if (method && *method && !str_ieq(method, rt->method))
			continue;
		if (!(rt->flags & R_GENERIC)) {
			describe(out, rt, rt->pattern, as_json, extended);
			continue;
		}
		for (int k = 0; k < repo_n_entities; k++) {
			const struct entity_desc *d = repo_entities[k];
			if ((d->flags & E_INTERNAL) || !route_applies(rt, d))
				continue;
			const char *rest = rt->pattern + strlen("/qrs/{type}");
			char path[256];
			snprintf(path, sizeof(path), "/qrs/%s%s", d->path, rest);
			describe(out, rt, path, as_json, extended);
		}
	}
	repo_qrs_send_json(q, 200, out);
	return 0;
}

/* GET /metrics: this node's counters in Prometheus's text format, for services with the
 * site's client certificate (a scraper), without an xrfkey. */
static int h_metrics(struct qrs *q)
{
	struct buf b;
	buf_init(&b, 16u << 20);
	if (metrics_render(&b) != 0) {
		buf_release(&b);
		return err_set(&q->err, ERR_NOMEM, "the metrics page is larger than 16 MiB");
	}
	http_add_header(q->req, "Cache-Control", "no-store");
	size_t n = b.len;
	http_respond_owned(q->req, 200, "text/plain; version=0.0.4; charset=utf-8", buf_steal(&b),
			   n);
	return 0;
}
