/* tasks.c: reload tasks and their triggers beyond the generic endpoints, the central role
 * and load balancing:
 *
 *   POST /qrs/reloadtask/create            a task with its triggers, in one transaction
 *   POST /qrs/reloadtask/update            a task's changes, triggers added and deleted
 *   POST /qrs/task/{id}/start[/synchronous], /qrs/task/start[/synchronous]?name=,
 *        /qrs/task/start/many              queue executions (the scheduler runs them)
 *   POST /qrs/task/{id}/stop, /qrs/task/stop/many
 *   GET  /qrs/executionresult/{id}/scriptlog?offset=N   the script log as it grows
 *   POST /qrs/failover/tonode/{id}         moves the central role
 *   POST /qrs/loadbalancing/validengines   the engines that may serve an app
 *
 * Triggers are checked when stored: a schedule that does not parse or never fires, a task
 * chain without rules, a task without an app are refused with the reason. */
#include "repo/repo_int.h"

#include "cluster/cluster.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---------------------------------------------------------------- checks */

/* A GUID as the repository stores it, in lower case. */
static void guid_lower(char out[UUID_STR_LEN + 1], const char *id)
{
	str_copy(out, id, UUID_STR_LEN + 1);
	uuid_lower(out);
}

static const struct colval *val(const struct decoded *in, const char *json)
{
	for (int i = 0; i < in->n_vals; i++)
		if (strcmp(in->vals[i].f->json, json) == 0)
			return &in->vals[i];
	return NULL;
}

int repo_check_reloadtask(const struct repo *r, const struct decoded *in, struct err *e)
{
	(void)r;
	const struct colval *v;
	if ((v = val(in, "taskType")) && !v->is_null && v->i != 0)
		return err_set(e, ERR_FIELD, "taskType: only reload tasks (0) run on Fathom");
	if ((v = val(in, "taskSessionTimeout")) && (v->is_null || v->i < 1 || v->i > 525600))
		return err_set(e, ERR_FIELD,
			       "taskSessionTimeout must be 1 to 525600 minutes (a year)");
	if ((v = val(in, "maxRetries")) && (v->is_null || v->i < 0 || v->i > 20))
		return err_set(e, ERR_FIELD, "maxRetries must be 0 to 20");
	return 0;
}

int repo_check_schemaevent(const struct repo *r, const struct decoded *in, struct err *e)
{
	const struct colval *v;
	if ((v = val(in, "eventType")) && !v->is_null && v->i != 0)
		return err_set(e, ERR_FIELD, "a schema event has eventType 0 (Schema)");
	/* the schedule as a whole, with defaults for what the body leaves out */
	struct repo_schedule t = {.time_zone = "UTC",
				  .expiration = "9999-01-01T00:00:00.000Z",
				  .increment = "0 0 1 0",
				  .option = 2};
	char filter[1100];
	const struct colval *start = val(in, "startDate");
	if ((v = val(in, "timeZone")))
		t.time_zone = v->is_null ? NULL : v->s;
	if ((v = val(in, "daylightSavingTime")))
		t.dst_mode = v->is_null ? -1 : (int)v->i;
	if (start)
		t.start = start->is_null ? NULL : start->s;
	if ((v = val(in, "expirationDate")))
		t.expiration = v->is_null ? NULL : v->s;
	if ((v = val(in, "incrementDescription")))
		t.increment = v->is_null ? NULL : v->s;
	if ((v = val(in, "incrementOption")))
		t.option = v->is_null ? -1 : (int)v->i;
	if ((v = val(in, "schemaFilterDescription")) && !v->is_null && v->s[0] == '\x1f') {
		const char *end = strchr(v->s + 1, '\x1f');
		size_t n = end ? (size_t)(end - v->s - 1) : 0;
		if (end && strchr(end + 1, '\x1f'))
			return err_set(e, ERR_FIELD,
				       "schemaFilterDescription holds one filter string");
		if (n >= sizeof(filter))
			n = sizeof(filter) - 1;
		memcpy(filter, v->s + 1, n);
		filter[n] = '\0';
		t.filter = filter;
	}
	if (!start && !val(in, "incrementDescription") && !val(in, "timeZone") &&
	    !val(in, "schemaFilterDescription"))
		return 0; /* a change that leaves the schedule alone */
	if (!t.start)
		return err_set(e, ERR_FIELD, "startDate is required");
	if (!r || !r->schedule_check)
		return 0;
	int rc = r->schedule_check(&t, e);
	if (rc)
		e->code = ERR_FIELD;
	return rc ? ERR_FIELD : 0;
}

int repo_check_compositeevent(const struct repo *repo, const struct decoded *in, struct err *e)
{
	(void)repo;
	const struct colval *v;
	if ((v = val(in, "eventType")) && !v->is_null && v->i != 1)
		return err_set(e, ERR_FIELD, "a composite event has eventType 1 (Composite)");
	if ((v = val(in, "timeConstraint")) && !v->is_null) {
		json_t *j = json_loads(v->s, 0, NULL);
		static const char *const keys[] = {"days", "hours", "minutes", "seconds"};
		int rc = 0;
		for (size_t i = 0; i < ARRAY_LEN(keys) && rc == 0; i++) {
			json_t *x = json_object_get(j, keys[i]);
			if (x && (!json_is_integer(x) || json_integer_value(x) < 0 ||
				  json_integer_value(x) > 1000000))
				rc = err_set(e, ERR_FIELD,
					     "timeConstraint.%s must be a whole number 0 or more",
					     keys[i]);
		}
		json_decref(j);
		if (rc)
			return rc;
	}
	if (!(v = val(in, "compositeRules")))
		return 0;
	json_t *rules = v->is_null ? NULL : json_loads(v->s, 0, NULL);
	int rc = 0;
	if (json_array_size(rules) == 0)
		rc = err_set(e, ERR_FIELD, "compositeRules must list at least one rule");
	size_t i;
	json_t *r;
	json_array_foreach (rules, i, r) {
		if (rc)
			break;
		json_t *st = json_object_get(r, "ruleState");
		const char *task =
		    json_string_value(json_object_get(json_object_get(r, "reloadTask"), "id"));
		if (!json_is_object(r) ||
		    (st && (!json_is_integer(st) || json_integer_value(st) < 1 ||
			    json_integer_value(st) > 2)))
			rc =
			    err_set(e, ERR_FIELD,
				    "compositeRules[%zu].ruleState must be 1 (TaskSuccessful) or 2 "
				    "(TaskFail)",
				    i);
		else if (!task || !uuid_valid(task))
			rc = err_set(e, ERR_FIELD,
				     "compositeRules[%zu] must name a reload task: "
				     "{\"reloadTask\": {\"id\": \"<guid>\"}}",
				     i);
	}
	json_decref(rules);
	return rc;
}

/* The upstream tasks of a chain exist (inside the transaction that stores it). */
static int check_chain_tasks(struct qrs *q, struct db_conn *c, json_t *ev)
{
	json_t *rules = json_object_get(ev, "compositeRules");
	size_t i;
	json_t *r;
	json_array_foreach (rules, i, r) {
		const char *task =
		    json_string_value(json_object_get(json_object_get(r, "reloadTask"), "id"));
		if (!task)
			continue;
		bool seen = false;
		struct db_params p;
		db_params_init(&p);
		db_p_text(&p, task);
		int rc = db_exec(c, "SELECT 1 FROM reloadtask WHERE lower(id) = lower($1)", &p,
				 db_row_seen, &seen, NULL, &q->err);
		if (rc)
			return rc;
		if (!seen)
			return err_set(&q->err, ERR_FIELD,
				       "compositeRules[%zu]: there is no reload task %s", i, task);
	}
	return 0;
}

/* ---------------------------------------------------------------- create and update */

/* Decodes and inserts the triggers of `list` (schema or composite) for task `task_id`. */
static int insert_events(struct qrs *q, struct db_conn *c, const char *type, json_t *list,
			 const char *task_id)
{
	if (!list || json_is_null(list))
		return 0;
	if (!json_is_array(list))
		return err_set(&q->err, ERR_JSON, "%s must be a list", type);
	const struct entity_desc *d =
	    repo_entity_find(strcmp(type, "schemaEvents") == 0 ? "schemaevent" : "compositeevent");
	size_t i;
	json_t *ev;
	json_array_foreach (list, i, ev) {
		if (!json_is_object(ev))
			return err_set(&q->err, ERR_JSON, "%s[%zu] must be an object", type, i);
		json_t *copy = json_deep_copy(ev);
		json_t *ref = json_object_get(copy, "reloadTask");
		const char *given = json_string_value(json_object_get(ref, "id"));
		if (!task_id && !given) {
			json_decref(copy);
			return err_set(&q->err, ERR_FIELD, "%s[%zu] names no reload task", type, i);
		}
		if (task_id)
			json_object_set_new(copy, "reloadTask", json_pack("{s:s}", "id", task_id));
		struct decoded in;
		char id[UUID_STR_LEN + 1];
		int rc = repo_entity_decode(q->repo, d, copy, NULL, q->a, &in, &q->err);
		if (rc == 0 && d == repo_entity_find("compositeevent"))
			rc = check_chain_tasks(q, c, copy);
		if (rc == 0)
			rc = repo_crud_insert(q, c, d, &in, NULL, 0, id);
		json_decref(copy);
		if (rc) {
			char msg[sizeof(q->err.message) + 64];
			snprintf(msg, sizeof(msg), "%s[%zu]: %s", type, i, q->err.message);
			str_copy(q->err.message, msg, sizeof(q->err.message));
			return rc;
		}
	}
	return 0;
}

/* A bundle's new triggers, schemaEvents then compositeEvents, for task `task_id`. */
static int insert_bundle_events(struct qrs *q, struct db_conn *c, json_t *body, const char *task_id)
{
	int rc =
	    insert_events(q, c, "schemaEvents", json_object_get(body, "schemaEvents"), task_id);
	if (rc == 0)
		rc = insert_events(q, c, "compositeEvents",
				   json_object_get(body, "compositeEvents"), task_id);
	return rc;
}

int repo_api_task_create(struct qrs *q)
{
	json_t *body;
	int rc = repo_qrs_body_json(q, &body);
	if (rc)
		return rc;
	const struct entity_desc *d = repo_entity_find("reloadtask");
	json_t *task = json_object_get(body, "task");
	struct decoded in;
	if (!json_is_object(task))
		rc = err_set(&q->err, ERR_JSON,
			     "the body must be a ReloadTaskBundle: {\"task\": {...}, "
			     "\"schemaEvents\": [...], \"compositeEvents\": [...]}");
	if (rc == 0)
		rc = repo_entity_decode(q->repo, d, task, NULL, q->a, &in, &q->err);
	struct db_conn *c = NULL;
	json_t *out = NULL;
	char id[UUID_STR_LEN + 1];
	if (rc == 0 && (rc = repo_qrs_begin(q, &c, true)) == 0) {
		rc = repo_crud_insert(q, c, d, &in, NULL, 0, id);
		if (rc == 0)
			rc = insert_bundle_events(q, c, body, id);
		if (rc == 0)
			rc = repo_crud_get(q, c, d, id, &out);
		rc = repo_qrs_end(q, c, rc);
	}
	json_decref(body);
	return repo_qrs_reply(q, rc, 201, out);
}

static int delete_events(struct qrs *q, struct db_conn *c, const char *type, json_t *ids)
{
	if (!ids || json_is_null(ids))
		return 0;
	const struct entity_desc *d = repo_entity_find(type);
	size_t i;
	json_t *v;
	json_array_foreach (ids, i, v) {
		const char *id = json_is_string(v) ? json_string_value(v)
						   : json_string_value(json_object_get(v, "id"));
		if (!id || !uuid_valid(id))
			return err_set(&q->err, ERR_FIELD, "%sToDelete[%zu] is not a GUID", d->path,
				       i);
		char lid[UUID_STR_LEN + 1];
		guid_lower(lid, id);
		int rc = repo_crud_delete(q, c, d, lid);
		if (rc)
			return rc;
	}
	return 0;
}

int repo_api_task_update(struct qrs *q)
{
	json_t *body;
	int rc = repo_qrs_body_json(q, &body);
	if (rc)
		return rc;
	const struct entity_desc *d = repo_entity_find("reloadtask");
	json_t *task = json_object_get(body, "task");
	const char *task_id = NULL;
	struct db_conn *c = NULL;
	json_t *out = NULL;
	if (!json_is_object(body))
		rc = err_set(&q->err, ERR_JSON, "the body must be a ReloadTaskChange object");
	if (rc == 0 && (rc = repo_qrs_begin(q, &c, true)) == 0) {
		if (json_is_object(task)) {
			task_id = json_string_value(json_object_get(task, "id"));
			json_t *stored = NULL;
			struct decoded in;
			if (!task_id || !uuid_valid(task_id))
				rc = err_set(&q->err, ERR_FIELD, "task.id must be the task's GUID");
			char lid[UUID_STR_LEN + 1] = "";
			if (rc == 0) {
				guid_lower(lid, task_id);
				rc = repo_crud_get(q, c, d, lid, &stored);
			}
			if (rc == 0)
				rc = repo_entity_decode(q->repo, d, task, stored, q->a, &in,
							&q->err);
			if (rc == 0 && !in.modified_date)
				rc = err_set(&q->err, ERR_FIELD,
					     "task.modifiedDate must be the date read from the "
					     "server");
			if (rc == 0)
				rc = repo_crud_update(q, c, d, lid, in.modified_date, &in, NULL, 0);
			json_decref(stored);
			task_id = arena_strdup(q->a, lid);
		}
		if (rc == 0)
			rc = delete_events(q, c, "schemaevent",
					   json_object_get(body, "schemaEventsToDelete"));
		if (rc == 0)
			rc = delete_events(q, c, "compositeevent",
					   json_object_get(body, "compositeEventsToDelete"));
		if (rc == 0)
			rc = insert_bundle_events(q, c, body, task_id);
		/* the task the events belong to */
		if (rc == 0 && !task_id) {
			json_t *ev = json_array_get(json_object_get(body, "schemaEvents"), 0);
			if (!ev)
				ev = json_array_get(json_object_get(body, "compositeEvents"), 0);
			task_id = json_string_value(
			    json_object_get(json_object_get(ev, "reloadTask"), "id"));
		}
		if (rc == 0 && task_id) {
			char lid[UUID_STR_LEN + 1];
			guid_lower(lid, task_id);
			rc = repo_crud_get(q, c, d, lid, &out);
		} else if (rc == 0) {
			rc = err_set(&q->err, ERR_FIELD, "the change names no task");
		}
		rc = repo_qrs_end(q, c, rc);
	}
	json_decref(body);
	return repo_qrs_reply(q, rc, 201, out);
}

/* ---------------------------------------------------------------- start and stop */

struct task_row {
	bool seen, enabled;
	char app[UUID_STR_LEN + 1], name[512];
};

static int task_row(void *ctx, int n, const struct db_value *c)
{
	struct task_row *t = ctx;
	if (n < 3)
		return 0;
	t->seen = true;
	if (c[0].type == DBV_TEXT)
		str_copy(t->app, c[0].s, sizeof(t->app));
	t->enabled = c[1].i != 0;
	if (c[2].type == DBV_TEXT)
		str_copy(t->name, c[2].s, sizeof(t->name));
	return 0;
}

int repo_task_enqueue(struct db_conn *c, const char *task_id, const char *trigger_id,
		      const char *fire_time, char out_session[UUID_STR_LEN + 1], struct err *e)
{
	struct task_row t = {0};
	struct db_params p;
	db_params_init(&p);
	db_p_text(&p, task_id);
	int rc = db_exec(c, "SELECT app_id, enabled, name FROM reloadtask WHERE id = $1", &p,
			 task_row, &t, NULL, e);
	if (rc == 0 && !t.seen)
		rc = err_set(e, ERR_NOT_FOUND, "there is no reload task %s", task_id);
	if (rc == 0 && !t.enabled)
		rc = err_set(e, ERR_INVALID, "the task \"%s\" is disabled", t.name);
	if (rc)
		return rc;
	char now[ISO_TIME_LEN + 1];
	time_format_iso(time_now_ms(), now);
	uuid_new(out_session);
	db_params_init(&p);
	db_p_text(&p, out_session);
	db_p_text(&p, now);
	db_p_text(&p, task_id);
	db_p_text(&p, t.app);
	db_p_text(&p, trigger_id);
	db_p_text(&p, fire_time);
	rc = db_exec(c,
		     "INSERT INTO executionsession (id, created_date, modified_date, modified_by, "
		     "reload_task_id, app_id, trigger_id, fire_time, status, retries, "
		     "abort_reason, queued_at, stop_requested) VALUES ($1, $2, $2, "
		     "'INTERNAL\\sa_scheduler', $3, $4, $5, $6, 3, 0, 0, $2, 0)",
		     &p, NULL, NULL, NULL, e);
	return rc ? rc : db_work_queued(c, e); /* idle runners wait to be told */
}

/* One text column of the first row, and whether a row came. */
struct log_row {
	char location[1024];
	bool seen;
};

static int log_row(void *ctx, int n, const struct db_value *c)
{
	struct log_row *l = ctx;
	l->seen = true;
	if (n > 0 && c[0].type == DBV_TEXT)
		str_copy(l->location, c[0].s, sizeof(l->location));
	return 0;
}

/* Queues one execution of task `id`; the session id goes to out. */
static int start_one(struct qrs *q, struct db_conn *c, const char *id, char out[UUID_STR_LEN + 1])
{
	char key[64], now[ISO_TIME_LEN + 1];
	char tok[UUID_STR_LEN + 1];
	uuid_new(tok);
	snprintf(key, sizeof(key), "manual:%s", tok);
	time_format_iso(time_now_ms(), now);
	return repo_task_enqueue(c, id, key, now, out, &q->err);
}

static int task_id_by_name(struct qrs *q, struct db_conn *c, const char *name, char *out)
{
	struct db_params p;
	db_params_init(&p);
	db_p_text(&p, name);
	struct log_row id = {0};
	int rc = db_exec(c, "SELECT id FROM reloadtask WHERE name = $1", &p, log_row, &id, NULL,
			 &q->err);
	if (rc == 0 && !id.seen)
		rc = err_set(&q->err, ERR_NOT_FOUND, "there is no task named \"%s\"", name);
	if (rc == 0)
		str_copy(out, id.location, UUID_STR_LEN + 1);
	return rc;
}

/* How long start/synchronous waits for a node to take the execution. */
#define SYNC_START_WAIT_MS 15000

/* QRS answers start/synchronous once the execution has started: waits until it left the
 * queue (started, or already over), or SYNC_START_WAIT_MS passed (it is still queued, and
 * is answered all the same: the caller can follow it). */
static void wait_started(struct qrs *q, const char *sid)
{
	int64_t until = time_mono_ms() + SYNC_START_WAIT_MS;
	for (;;) {
		struct db_params p;
		db_params_init(&p);
		db_p_text(&p, sid);
		bool queued = false;
		struct err e;
		err_init(&e);
		if (db_exec_once(q->repo->db,
				 "SELECT 1 FROM executionsession WHERE id = $1 AND status = 3", &p,
				 db_row_seen, &queued, &e) != 0 ||
		    !queued)
			return;
		if (time_mono_ms() >= until) {
			log_info("execution %s: no node took it within %d s; answered while queued",
				 sid, SYNC_START_WAIT_MS / 1000);
			return;
		}
		sleep_ms(100);
	}
}

static int start(struct qrs *q, bool sync)
{
	const char *name = q->id ? NULL : http_req_query(q->req, "name");
	if (!q->id && !name)
		return err_set(&q->err, ERR_PARAM, "name the task: /qrs/task/start?name=NAME");
	struct db_conn *c;
	int rc = repo_qrs_begin(q, &c, true);
	if (rc)
		return rc;
	char id[UUID_STR_LEN + 1], sid[UUID_STR_LEN + 1];
	if (q->id)
		str_copy(id, q->id, sizeof(id));
	else
		rc = task_id_by_name(q, c, name, id);
	bool disabled = false;
	if (rc == 0 && (rc = start_one(q, c, id, sid)) == ERR_INVALID && sync) {
		/* enqueue's one refusal: the task is disabled. QRS answers the synchronous
		 * start with an empty GUID ("did not start") */
		disabled = true;
		str_copy(sid, UUID_EMPTY, sizeof(sid));
		log_info("task %s not started for %s: %s", id, q->user, q->err.message);
		err_init(&q->err);
	}
	rc = repo_qrs_end(q, c, disabled ? 0 : rc);
	if (rc)
		return rc;
	if (!disabled)
		log_info("task %s queued by %s (execution %s)", id, q->user, sid);
	if (!sync) {
		http_respond(q->req, 204, NULL, "", 0);
		return 0;
	}
	if (!disabled)
		wait_started(q, sid);
	repo_qrs_send_json(q, 201, json_pack("{s:s}", "value", sid));
	return 0;
}

int repo_api_task_start(struct qrs *q)
{
	return start(q, false);
}

int repo_api_task_start_sync(struct qrs *q)
{
	return start(q, true);
}

/* The body of the .../many endpoints: a list (checked item by item by the caller). On
 * success the caller owns *out. */
static int task_list_body(struct qrs *q, json_t **out)
{
	int rc = repo_qrs_body_json(q, out);
	if (rc == 0 && !json_is_array(*out)) {
		json_decref(*out);
		*out = NULL;
		rc = err_set(&q->err, ERR_JSON, "the body must be a list of task GUIDs");
	}
	return rc;
}

int repo_api_task_start_many(struct qrs *q)
{
	json_t *body;
	int rc = task_list_body(q, &body);
	if (rc)
		return rc;
	struct db_conn *c = NULL;
	if ((rc = repo_qrs_begin(q, &c, true)) == 0) {
		size_t i;
		json_t *v;
		json_array_foreach (body, i, v) {
			const char *id = json_string_value(v);
			char sid[UUID_STR_LEN + 1], lid[UUID_STR_LEN + 1];
			if (!id || !uuid_valid(id)) {
				rc = err_set(&q->err, ERR_FIELD, "item %zu is not a task GUID", i);
				break;
			}
			guid_lower(lid, id);
			if ((rc = start_one(q, c, lid, sid)))
				break;
		}
		rc = repo_qrs_end(q, c, rc);
	}
	json_decref(body);
	if (rc == 0)
		http_respond(q->req, 204, NULL, "", 0);
	return rc;
}

/* Stops task `id`: its running execution is told to stop, its queued ones end Aborted. */
static int stop_one(struct qrs *q, struct db_conn *c, const char *id)
{
	char now[ISO_TIME_LEN + 1];
	time_format_iso(time_now_ms(), now);
	bool seen = false;
	struct db_params p;
	db_params_init(&p);
	db_p_text(&p, id);
	int rc = db_exec(c, "SELECT 1 FROM reloadtask WHERE id = $1", &p, db_row_seen, &seen, NULL,
			 &q->err);
	if (rc == 0 && !seen)
		return err_set(&q->err, ERR_NOT_FOUND, "there is no reload task %s", id);
	db_p_text(&p, now);
	if (rc == 0)
		rc =
		    db_exec(c,
			    "UPDATE executionsession SET stop_requested = 1, abort_reason = 1, "
			    "status = 4, modified_date = $2 WHERE reload_task_id = $1 AND status = "
			    "2",
			    &p, NULL, NULL, NULL, &q->err);
	if (rc == 0)
		rc = db_exec(c,
			     "INSERT INTO executionresult (id, created_date, modified_date, "
			     "modified_by, task_id, execution_id, app_id, status, start_time, "
			     "stop_time, duration, file_reference_id, script_log_available, "
			     "script_log_size, details, trigger_id, chain_seen) SELECT id, $2, $2, "
			     "'INTERNAL\\sa_scheduler', reload_task_id, id, app_id, 6, $2, $2, 0, "
			     "'" UUID_EMPTY "', 0, 0, '[{\"detailsType\":1,\"message\":\"stopped "
			     "before it started\"}]', trigger_id, 1 FROM executionsession WHERE "
			     "reload_task_id = $1 AND status = 3",
			     &p, NULL, NULL, NULL, &q->err);
	db_params_init(&p);
	db_p_text(&p, id);
	if (rc == 0)
		rc = db_exec(
		    c, "DELETE FROM executionsession WHERE reload_task_id = $1 AND status = 3", &p,
		    NULL, NULL, NULL, &q->err);
	return rc;
}

static int stop(struct qrs *q, json_t *ids)
{
	struct db_conn *c;
	int rc = repo_qrs_begin(q, &c, true);
	if (rc)
		return rc;
	if (!ids) {
		rc = stop_one(q, c, q->id);
	} else {
		size_t i;
		json_t *v;
		json_array_foreach (ids, i, v) {
			const char *id = json_string_value(v);
			char lid[UUID_STR_LEN + 1];
			if (!id || !uuid_valid(id)) {
				rc = err_set(&q->err, ERR_FIELD, "item %zu is not a task GUID", i);
				break;
			}
			guid_lower(lid, id);
			if ((rc = stop_one(q, c, lid)))
				break;
		}
	}
	rc = repo_qrs_end(q, c, rc);
	if (rc == 0)
		http_respond(q->req, 204, NULL, "", 0);
	return rc;
}

int repo_api_task_stop(struct qrs *q)
{
	return stop(q, NULL);
}

int repo_api_task_stop_many(struct qrs *q)
{
	json_t *body;
	int rc = task_list_body(q, &body);
	if (rc)
		return rc;
	rc = stop(q, body);
	json_decref(body);
	return rc;
}

int repo_api_task_list(struct qrs *q)
{
	q->desc = repo_entity_find("reloadtask");
	return strstr(http_req_path(q->req), "/full") ? repo_api_full(q) : repo_api_list(q);
}

/* ---------------------------------------------------------------- script logs */

int repo_api_result_log(struct qrs *q)
{
	struct log_row l = {0};
	struct db_params p;
	db_params_init(&p);
	db_p_text(&p, q->id);
	int rc = db_exec_once(q->repo->db,
			      "SELECT script_log_location FROM executionresult WHERE id = $1", &p,
			      log_row, &l, &q->err);
	if (rc)
		return rc;
	if (!l.seen)
		return err_set(&q->err, ERR_NOT_FOUND, "there is no execution result %s", q->id);
	/* while it runs the log has no location yet: it is where this share keeps it */
	char path[PATH_MAX + 64];
	repo_reload_log_path(q->repo, q->id, path, sizeof(path));
	int64_t offset = 0;
	const char *os = http_req_query(q->req, "offset");
	if (os && str_to_i64(os, 0, INT64_MAX, &offset) != 0)
		return err_set(&q->err, ERR_PARAM, "offset must be a byte count");
	char *text = NULL;
	size_t len = 0;
	struct err fe;
	err_init(&fe);
	if (file_read_all(path, 64u << 20, &text, &len, &fe) != 0) {
		/* not started yet, or this node cannot see it: an empty log so far */
		http_respond(q->req, 200, "text/plain; charset=utf-8", "", 0);
		return 0;
	}
	size_t from = (uint64_t)offset < len ? (size_t)offset : len;
	http_respond(q->req, 200, "text/plain; charset=utf-8", text + from, len - from);
	free(text);
	return 0;
}

/* ---------------------------------------------------------------- failover */

int repo_api_failover(struct qrs *q)
{
	struct repo *r = q->repo;
	struct db_conn *c;
	int rc = repo_qrs_begin(q, &c, true);
	if (rc)
		return rc;
	struct db_params p;
	db_params_init(&p);
	db_p_text(&p, q->id);
	int64_t cand = -1, alive = 0;
	rc = db_exec(c, "SELECT failover_candidate FROM servernodeconfiguration WHERE id = $1", &p,
		     repo_int_row, &cand, NULL, &q->err);
	if (rc == 0 && cand < 0)
		rc = err_set(&q->err, ERR_NOT_FOUND, "there is no node %s", q->id);
	if (rc == 0 && cand == 0) {
		rc = err_set(&q->err, ERR_FIELD, "node %s is not a failover candidate", q->id);
		err_hint(&q->err, "set failoverCandidate on it first "
				  "(PUT /qrs/servernodeconfiguration/{id})");
	}
	/* the node must be running: a heartbeat within three intervals */
	char since[ISO_TIME_LEN + 1];
	time_format_iso(time_now_ms() - 3 * (r->heartbeat_ms > 0 ? r->heartbeat_ms : 5000), since);
	db_p_text(&p, since);
	if (rc == 0)
		rc = db_exec(c,
			     "SELECT count(*) FROM node_heartbeat WHERE node_id = $1 AND at >= $2",
			     &p, repo_int_row, &alive, NULL, &q->err);
	if (rc == 0 && alive == 0)
		rc = err_set(&q->err, ERR_UNAVAILABLE,
			     "node %s is not running (no recent heartbeat); the central role "
			     "stays where it is",
			     q->id);
	int64_t ttl = 15000;
	if (rc == 0)
		rc = cluster_lease_ttl(r->db, &ttl, &q->err);
	if (rc == 0)
		rc = cluster_lease_move(r->db, c, q->id, ttl, &q->err);
	rc = repo_qrs_end(q, c, rc);
	if (rc)
		return rc;
	log_info("central role moved to node %s by %s", q->id, q->user);
	http_respond(q->req, 204, NULL, "", 0);
	return 0;
}

/* ---------------------------------------------------------------- load balancing */

struct engines {
	struct qrs *q;
	struct db_conn *c;
	json_t *list;
	int64_t purpose;
	const char *since;
	int rc;
};

static int engine_row(void *ctx, int n, const struct db_value *c)
{
	struct engines *en = ctx;
	if (n < 3 || c[0].type != DBV_TEXT)
		return 0;
	int64_t purpose = c[2].i;
	if (en->purpose != 2 && purpose != 2 && purpose != en->purpose)
		return 0;
	json_array_append_new(en->list, json_sprintf("wss://%s:%lld", c[0].s, (long long)c[1].i));
	return 0;
}

static void each_engine(void *ctx, const char *node_id)
{
	struct engines *en = ctx;
	if (en->rc)
		return;
	struct db_params p;
	db_params_init(&p);
	db_p_text(&p, node_id);
	db_p_text(&p, en->since);
	en->rc =
	    db_exec(en->c,
		    "SELECT n.host_name, h.engine_port, n.node_purpose FROM "
		    "servernodeconfiguration n JOIN node_heartbeat h ON h.node_id = n.id WHERE "
		    "n.id = $1 AND h.at >= $2 AND h.engine_port > 0",
		    &p, engine_row, en, NULL, &en->q->err);
}

int repo_api_validengines(struct qrs *q)
{
	json_t *body;
	int rc = repo_qrs_body_json(q, &body);
	if (rc)
		return rc;
	const char *app = json_string_value(json_object_get(body, "appID"));
	json_t *pv = json_object_get(body, "loadBalancingPurpose");
	int64_t purpose = json_is_integer(pv) ? json_integer_value(pv) : 2;
	if (!app || !uuid_valid(app))
		rc = err_set(&q->err, ERR_FIELD, "appID must be an app's GUID");
	else if (purpose < 0 || purpose > 2)
		rc = err_set(&q->err, ERR_FIELD,
			     "loadBalancingPurpose must be 0 (Production), 1 (Development) or 2 "
			     "(Any)");
	char lid[UUID_STR_LEN + 1] = "";
	if (rc == 0) {
		guid_lower(lid, app);
	}
	struct db_conn *c = NULL;
	json_t *out = NULL;
	if (rc == 0 && (rc = repo_qrs_begin(q, &c, false)) == 0) {
		bool exists = false;
		struct db_params p;
		db_params_init(&p);
		db_p_text(&p, lid);
		rc = db_exec(c, "SELECT 1 FROM app WHERE id = $1", &p, db_row_seen, &exists, NULL,
			     &q->err);
		char since[ISO_TIME_LEN + 1];
		time_format_iso(time_now_ms() -
				    3 * (q->repo->heartbeat_ms > 0 ? q->repo->heartbeat_ms : 5000),
				since);
		struct engines en = {q, c, json_array(), purpose, since, 0};
		struct cluster_balance *b = NULL;
		if (rc == 0 && exists && (rc = cluster_balance_load(c, &b, &q->err)) == 0)
			rc = cluster_balance_nodes(b, c, lid, each_engine, &en, &q->err);
		if (rc == 0)
			rc = en.rc;
		cluster_balance_free(b);
		out = json_pack("{s:s,s:s,s:o,s:i}", "schemaPath", "LoadBalancingResult", "appID",
				lid, "validEngines", en.list, "loadBalancingResultCode",
				exists ? 0 : 1);
		rc = repo_qrs_end(q, c, rc);
	}
	json_decref(body);
	return repo_qrs_reply(q, rc, 201, out);
}
