/* scheduler.c: the master scheduler, and starting and stopping the scheduler's threads
 * (runner.c has the reload runners and the keeper; common.c what they share).
 *
 * Threads of a node:
 *   master  renews (or competes for) the central role every third of its TTL and, while it
 *           holds the role, fires time triggers and task chains, gives back executions whose
 *           worker stopped renewing them, and ends those past their timeouts. Every write
 *           it makes is one transaction that first checks the role's fencing token.
 *   runner  (max_reloads of them) claims one queued execution at a time with FOR UPDATE
 *           SKIP LOCKED (PostgreSQL; SQLite serialises writers), runs the reload and
 *           records the result.
 *   keeper  renews the leases of this node's running executions and passes on stop
 *           requests.
 *
 * Times compared across nodes (leases, queue times) come from the database's clock. */
#include "sched/sched_int.h"

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* ---------------------------------------------------------------- the master */

/* Begins a write transaction fenced by the central role's token. */
static int fenced_begin(struct sched *s, struct db_conn *c, struct err *e)
{
	int rc = db_begin(c, true, e);
	if (rc)
		return rc;
	rc = cluster_lease_guard(c, s->cfg.db, e);
	if (rc == 0)
		rc = cluster_lease_fence(c, s->node_id, s->lease.token, e);
	if (rc) {
		db_rollback(c);
		if (rc == ERR_STALE) {
			s->lease.held = false;
			pthread_mutex_lock(&s->mu);
			s->st.refused++;
			pthread_mutex_unlock(&s->mu);
			log_warn("central role: a write was refused (%s); this node steps down",
				 e->message);
		}
	}
	return rc;
}

static int fenced_end(struct db_conn *c, int rc, struct err *e)
{
	if (rc) {
		db_rollback(c);
		return rc;
	}
	return db_commit(c, e);
}

/* In the master's transaction: whether execution `sid`'s attempt `rid` still has an expired
 * lease (the row is then locked: its worker can no longer store its reload), and whether
 * that worker stored its reload before it stopped. A row another transaction holds (a
 * worker storing or recording its run) counts as not expired: the next tick looks again. */
static int still_expired(struct sched *s, struct db_conn *c, const char *sid, const char *rid,
			 const char *now, bool *expired, bool *stored, struct err *e)
{
	struct rowset rs = {0};
	char sql[512];
	snprintf(sql, sizeof(sql),
		 "SELECT reload_stored FROM executionsession WHERE id = $1 AND "
		 "execution_result_id = $2 AND status IN (2, 4, 5) AND lease_until < $3%s",
		 db_kind(s->cfg.db) == DB_POSTGRES ? " FOR UPDATE SKIP LOCKED" : "");
	int rc = sched_run(c, &rs, e, sql, 3, sid, rid, now);
	*expired = rc == 0 && rs.n == 1;
	*stored = *expired && sched_cell_i(&rs, 0, 0) != 0;
	sched_rowset_free(&rs);
	return rc;
}

/* Executions whose worker stopped renewing their lease: retried or ended, or finished when
 * the worker had stored the reload before it stopped. */
static int recover(struct sched *s, struct db_conn *c, int64_t now_ms, struct err *e)
{
	char now[ISO_TIME_LEN + 1];
	sched_iso(now_ms, now);
	struct rowset rs = {0};
	struct db_params p;
#define EXPIRED(X)                                                                                 \
	X(EX_SESSION, "s.id")                                                                      \
	X(EX_TASK, "s.reload_task_id")                                                             \
	X(EX_NODE, "s.executing_node_id")                                                          \
	X(EX_RESULT, "s.execution_result_id")                                                      \
	X(EX_RETRIES, "s.retries")                                                                 \
	X(EX_MAX_RETRIES, "t.max_retries")                                                         \
	X(EX_NODE_NAME, "COALESCE(n.name, s.executing_node_id)")                                   \
	X(EX_STATUS, "s.status")                                                                   \
	X(EX_DETAILS, "r.details")                                                                 \
	X(EX_START, "r.start_time")
	enum { EXPIRED(COL_NAME) };
	int rc = sched_run(
	    c, &rs, e,
	    SELECT_LIST(EXPIRED) " FROM executionsession s JOIN reloadtask t ON t.id = "
				 "s.reload_task_id LEFT JOIN servernodeconfiguration n ON "
				 "n.id = s.executing_node_id LEFT JOIN executionresult r "
				 "ON r.id = s.execution_result_id WHERE s.status IN (2, 4, "
				 "5) AND s.lease_until < $1 ORDER BY s.queued_at LIMIT 64",
	    1, now);
	for (int i = 0; rc == 0 && i < rs.n; i++) {
		const char *sid = sched_cell_s(&rs, i, EX_SESSION),
			   *task = sched_cell_s(&rs, i, EX_TASK),
			   *node = sched_cell_s(&rs, i, EX_NODE),
			   *rid = sched_cell_s(&rs, i, EX_RESULT),
			   *node_name = sched_cell_s(&rs, i, EX_NODE_NAME);
		int64_t retries = sched_cell_i(&rs, i, EX_RETRIES),
			max_retries = sched_cell_i(&rs, i, EX_MAX_RETRIES);
		if ((rc = fenced_begin(s, c, e)))
			break;
		bool expired = false, stored = false;
		rc = still_expired(s, c, sid, rid, now, &expired, &stored, e);
		if (rc || !expired) { /* renewed, or finished, since the first look */
			db_rollback(c);
			if (rc)
				break;
			continue;
		}
		bool retry = !stored && sched_cell_i(&rs, i, EX_STATUS) == EXEC_STARTED &&
			     retries < max_retries;
		char msg[512];
		snprintf(msg, sizeof(msg),
			 "node %s stopped renewing its lease on this execution (it stopped, or "
			 "lost the repository database)%s",
			 node_name,
			 stored	 ? " after it stored the reload; the reload counts as finished"
			 : retry ? "; it is retried on another node"
				 : "");
		int status = stored ? EXEC_SUCCESS : EXEC_ERROR;
		char *details =
		    sched_details_add(sched_cell(&rs, i, EX_DETAILS), stored ? 2 : 0, msg, now_ms);
		int64_t dur = now_ms - sched_iso_ms(sched_cell(&rs, i, EX_START));
		db_params_init(&p);
		db_p_text(&p, rid);
		db_p_text(&p, now);
		db_p_int(&p, dur > 0 ? dur : 0);
		db_p_text(&p, details);
		db_p_int(&p, retry);
		db_p_int(&p, status);
		rc = db_exec(
		    c,
		    "UPDATE executionresult SET status = $6, stop_time = $2, modified_date = "
		    "$2, duration = $3, details = $4, chain_seen = $5 WHERE id = $1",
		    &p, NULL, NULL, NULL, e);
		if (rc == 0)
			rc = retry ? sched_requeue(c, sid, now, node, now_ms + 10000, true, e)
				   : sched_drop_session(c, sid, e);
		if (rc == 0)
			rc = sched_task_done(c, task, sid, rid, status, "", now, dur, node_name, e);
		rc = fenced_end(c, rc, e);
		free(details);
		if (rc == 0)
			log_warn("execution %s of task %s: %s", sid, task, msg);
	}
	sched_rowset_free(&rs);
	return rc;
}

/* Running executions past their task's session timeout are stopped; queued ones that no
 * node took within the queue timeout end in Error. */
static int timeouts(struct sched *s, struct db_conn *c, int64_t now_ms, struct err *e)
{
	char now[ISO_TIME_LEN + 1], cut[ISO_TIME_LEN + 1];
	sched_iso(now_ms, now);
	sched_iso(now_ms - s->cfg.queue_timeout_ms, cut);
	struct rowset rs = {0};
	struct db_params p;
#define LATE(X)                                                                                    \
	X(LT_SESSION, "id")                                                                        \
	X(LT_TASK, "reload_task_id")                                                               \
	X(LT_APP, "app_id")                                                                        \
	X(LT_STATUS, "status")                                                                     \
	X(LT_TRIGGER, "trigger_id")
	enum { LATE(COL_NAME) };
	int rc = sched_run(
	    c, &rs, e,
	    SELECT_LIST(LATE) " FROM executionsession WHERE (status = 2 AND abort_at < $1 "
			      "AND stop_requested = 0) OR (status = 3 AND queued_at < "
			      "$2) ORDER BY queued_at LIMIT 64",
	    2, now, cut);
	if (rc == 0 && rs.n > 0 && (rc = fenced_begin(s, c, e)) == 0) {
		for (int i = 0; rc == 0 && i < rs.n; i++) {
			const char *sid = sched_cell_s(&rs, i, LT_SESSION);
			db_params_init(&p);
			db_p_text(&p, sid);
			db_p_text(&p, now);
			if (sched_cell_i(&rs, i, LT_STATUS) == EXEC_STARTED) {
				rc = db_exec(
				    c,
				    "UPDATE executionsession SET status = 4, abort_reason = "
				    "2, stop_requested = 1, modified_date = $2 WHERE id = $1",
				    &p, NULL, NULL, NULL, e);
				log_warn("execution %s ran past its task's session timeout; it is "
					 "stopped",
					 sid);
				continue;
			}
			char msg[256], rid[UUID_STR_LEN + 1];
			snprintf(msg, sizeof(msg),
				 "no node took the execution within the queue timeout of %lld s "
				 "(no free reload slot on a node the load-balancing rules allow)",
				 (long long)(s->cfg.queue_timeout_ms / 1000));
			char *details = sched_details_add(NULL, 0, msg, now_ms);
			uuid_new(rid);
			db_p_text(&p, rid);
			db_p_text(&p, sched_cell_s(&rs, i, LT_TASK));
			db_p_text(&p, sched_cell_s(&rs, i, LT_APP));
			db_p_text(&p, details);
			db_p_text(&p, sched_cell_s(&rs, i, LT_TRIGGER));
			rc = db_exec(
			    c,
			    "INSERT INTO executionresult (id, created_date, modified_date, "
			    "modified_by, task_id, execution_id, app_id, status, start_time, "
			    "stop_time, duration, file_reference_id, script_log_available, "
			    "script_log_size, details, trigger_id, chain_seen) VALUES ($3, $2, "
			    "$2, 'INTERNAL\\sa_scheduler', $4, $1, $5, 11, $2, $2, 0, "
			    "'" UUID_EMPTY "', 0, 0, $6, $7, 0)",
			    &p, NULL, NULL, NULL, e);
			free(details);
			if (rc == 0) {
				rc = sched_drop_session(c, sid, e);
			}
			if (rc == 0)
				log_warn("execution %s: %s", sid, msg);
		}
		rc = fenced_end(c, rc, e);
	}
	sched_rowset_free(&rs);
	return rc;
}

/* The first string of a stored string list ("\x1fA\x1fB\x1f"), in buf. */
static const char *first_of_list(const char *stored, char *buf, size_t n)
{
	if (!stored || stored[0] != '\x1f' || !stored[1])
		return NULL;
	const char *end = strchr(stored + 1, '\x1f');
	size_t len = end ? (size_t)(end - stored - 1) : strlen(stored + 1);
	if (len >= n)
		len = n - 1;
	memcpy(buf, stored + 1, len);
	buf[len] = '\0';
	return buf;
}

/* Records firing (trigger, fire time) and queues the task, unless it fired before. */
static int fire(struct sched *s, struct db_conn *c, const char *trigger, const char *task,
		const char *fire_time, bool *fired, struct err *e)
{
	*fired = false;
	bool seen = false;
	struct db_params p;
	db_params_init(&p);
	db_p_text(&p, trigger);
	db_p_text(&p, fire_time);
	int rc = db_exec(c, "SELECT 1 FROM trigger_fire WHERE trigger_id = $1 AND fire_time = $2",
			 &p, db_row_seen, &seen, NULL, e);
	if (rc || seen)
		return rc;
	char sid[UUID_STR_LEN + 1] = "";
	rc = repo_task_enqueue(c, task, trigger, fire_time, sid, e);
	if (rc == ERR_INVALID || rc == ERR_NOT_FOUND) {
		log_info("trigger %s: %s; nothing queued", trigger, e->message);
		err_init(e);
		sid[0] = '\0';
		rc = 0;
	}
	if (rc == 0) {
		db_p_text(&p, sid);
		db_p_int(&p, s->lease.token);
		db_p_text(&p, s->node_id);
		rc = db_exec(c,
			     "INSERT INTO trigger_fire (trigger_id, fire_time, session_id, token, "
			     "node_id) VALUES ($1, $2, $3, $4, $5)",
			     &p, NULL, NULL, NULL, e);
	}
	*fired = rc == 0 && sid[0];
	return rc;
}

static int time_triggers(struct sched *s, struct db_conn *c, int64_t now_ms, struct err *e)
{
	char now[ISO_TIME_LEN + 1];
	sched_iso(now_ms, now);
	struct rowset rs = {0};
#define TRIGGER(X)                                                                                 \
	X(TR_ID, "id")                                                                             \
	X(TR_TASK, "reload_task_id")                                                               \
	X(TR_ZONE, "time_zone")                                                                    \
	X(TR_DST, "daylight_saving_time")                                                          \
	X(TR_START, "start_date")                                                                  \
	X(TR_EXPIRES, "expiration_date")                                                           \
	X(TR_FILTER, "schema_filter_description")                                                  \
	X(TR_INCREMENT, "increment_description")                                                   \
	X(TR_OPTION, "increment_option")                                                           \
	X(TR_NEXT, "next_fire")                                                                    \
	X(TR_FROM, "sched_from")                                                                   \
	X(TR_MODIFIED, "modified_date")                                                            \
	X(TR_OPERATIONAL, "operational")
	enum { TRIGGER(COL_NAME) };
	int rc = sched_run(
	    c, &rs, e,
	    SELECT_LIST(TRIGGER) " FROM schemaevent WHERE enabled = 1 AND (sched_from IS "
				 "NULL OR sched_from <> modified_date OR next_fire <= $1) "
				 "ORDER BY next_fire LIMIT 64",
	    1, now);
	for (int i = 0; rc == 0 && i < rs.n; i++) {
		const char *id = sched_cell_s(&rs, i, TR_ID), *task = sched_cell_s(&rs, i, TR_TASK),
			   *md = sched_cell_s(&rs, i, TR_MODIFIED);
		char fbuf[256];
		struct sched_spec_text t = {
		    sched_cell(&rs, i, TR_ZONE),
		    (int)sched_cell_i(&rs, i, TR_DST),
		    sched_cell(&rs, i, TR_START),
		    sched_cell(&rs, i, TR_EXPIRES),
		    sched_cell(&rs, i, TR_INCREMENT),
		    first_of_list(sched_cell(&rs, i, TR_FILTER), fbuf, sizeof(fbuf)),
		    (int)sched_cell_i(&rs, i, TR_OPTION)};
		struct sched_spec spec;
		struct err pe;
		err_init(&pe);
		bool ok = sched_spec_parse(&t, &spec, &pe) == 0;
		if (!ok)
			log_warn("trigger %s does not fire: %s", id, pe.message);
		bool changed =
		    !sched_cell(&rs, i, TR_FROM) || strcmp(sched_cell_s(&rs, i, TR_FROM), md) != 0;
		const char *due = changed ? NULL : sched_cell(&rs, i, TR_NEXT);
		int64_t next_ms = 0;
		char next[ISO_TIME_LEN + 1] = NEVER_FIRES;
		/* A new or changed trigger fires from STORE_GRACE_MS before the moment it was
		 * stored, even when no node was central then: a firing missed meanwhile is due
		 * at once (one that already fired does not fire again: fire() looks). Otherwise
		 * the next firing after now (firings missed while no node was central fire
		 * once, as the one that is due). */
		int64_t from = changed ? sched_iso_ms(md) - STORE_GRACE_MS : now_ms;
		if (due && sched_iso_ms(due) > from)
			from = sched_iso_ms(due);
		if (ok && sched_next_fire(&spec, from, &next_ms) == 0)
			sched_iso(next_ms, next);
		if (ok)
			sched_spec_release(&spec);
		const char *op_text = sched_cell(&rs, i, TR_OPERATIONAL);
		json_t *op = op_text ? json_loads(op_text, 0, NULL) : NULL;
		json_int_t times = json_integer_value(json_object_get(op, "timesTriggered"));
		json_decref(op);
		bool fired = false;
		if ((rc = fenced_begin(s, c, e)))
			break;
		if (due && ok)
			rc = fire(s, c, id, task, due, &fired, e);
		if (fired)
			times++;
		op = json_pack("{s:I,s:s}", "timesTriggered", times, "nextExecution", next);
		if (due)
			json_object_set_new(op, "lastEventDate", json_string(due));
		char *ops = json_dumps(op, JSON_COMPACT);
		json_decref(op);
		if (rc == 0)
			rc = sched_run(c, NULL, e,
				       "UPDATE schemaevent SET next_fire = $3, sched_from = $2, "
				       "operational = $4 WHERE id = $1 AND modified_date = $2",
				       4, id, md, next, ops);
		free(ops);
		rc = fenced_end(c, rc, e);
		if (rc == 0 && fired) {
			pthread_mutex_lock(&s->mu);
			s->st.fired++;
			pthread_mutex_unlock(&s->mu);
			log_info("trigger %s fired for %s (task %s); next at %s", id, due, task,
				 next);
		}
	}
	sched_rowset_free(&rs);
	return rc;
}

/* Whether every rule of a task chain holds: each upstream task's latest result that ended
 * at or after `since` is the one the rule wants. */
static int chain_holds(struct db_conn *c, json_t *rules, const char *since, bool *out,
		       struct err *e)
{
	*out = json_array_size(rules) > 0;
	size_t i;
	json_t *r;
	json_array_foreach (rules, i, r) {
		const char *task =
		    json_string_value(json_object_get(json_object_get(r, "reloadTask"), "id"));
		json_int_t want = json_integer_value(json_object_get(r, "ruleState"));
		if (!task) {
			*out = false;
			return 0;
		}
		struct rowset rs = {0};
		int rc =
		    sched_run(c, &rs, e,
			      "SELECT status FROM executionresult WHERE task_id = $1 AND stop_time "
			      ">= $2 AND status IN (6, 7, 8, 11) ORDER BY stop_time DESC LIMIT 1",
			      2, task, since);
		int64_t st = rs.n ? sched_cell_i(&rs, 0, 0) : -1;
		sched_rowset_free(&rs);
		if (rc)
			return rc;
		bool ok = want == 2 ? (st == EXEC_FAIL || st == EXEC_ERROR || st == EXEC_ABORTED)
				    : st == EXEC_SUCCESS;
		if (!ok) {
			*out = false;
			return 0;
		}
	}
	return 0;
}

static int64_t constraint_ms(const char *text)
{
	json_t *j = text ? json_loads(text, 0, NULL) : NULL;
	int64_t ms = 360 * 60000; /* clients' default: 6 hours */
	if (json_is_object(j))
		ms = ((json_integer_value(json_object_get(j, "days")) * 24 +
		       json_integer_value(json_object_get(j, "hours"))) *
			  60 +
		      json_integer_value(json_object_get(j, "minutes"))) *
			 60000 +
		     json_integer_value(json_object_get(j, "seconds")) * 1000;
	json_decref(j);
	return ms > 0 ? ms : 360 * 60000;
}

static int chains(struct sched *s, struct db_conn *c, int64_t now_ms, struct err *e)
{
	struct rowset rs = {0};
#define ENDED(X)                                                                                   \
	X(END_RESULT, "id")                                                                        \
	X(END_TASK, "task_id")                                                                     \
	X(END_STOP, "stop_time")
	enum { ENDED(COL_NAME) };
	int rc = db_exec(c,
			 SELECT_LIST(ENDED) " FROM executionresult WHERE chain_seen = 0 AND status "
					    "IN (6, 7, 8, 11) ORDER BY stop_time LIMIT 64",
			 NULL, sched_rowset_cb, &rs, NULL, e);
	if (rc || rs.n == 0) {
		sched_rowset_free(&rs);
		return rc;
	}
	if ((rc = fenced_begin(s, c, e))) {
		sched_rowset_free(&rs);
		return rc;
	}
	for (int i = 0; rc == 0 && i < rs.n; i++) {
		const char *rid = sched_cell_s(&rs, i, END_RESULT),
			   *task = sched_cell_s(&rs, i, END_TASK),
			   *stop = sched_cell_s(&rs, i, END_STOP);
		struct rowset ce = {0};
#define CHAIN(X)                                                                                   \
	X(CH_ID, "id")                                                                             \
	X(CH_TASK, "reload_task_id")                                                               \
	X(CH_CONSTRAINT, "time_constraint")                                                        \
	X(CH_RULES, "composite_rules")                                                             \
	X(CH_CREATED, "created_date")                                                              \
	X(CH_FIRED, "(SELECT max(fire_time) FROM trigger_fire f WHERE f.trigger_id = "             \
		    "compositeevent.id)")
		enum { CHAIN(COL_NAME) };
		rc = sched_run(c, &ce, e,
			       SELECT_LIST(CHAIN) " FROM compositeevent WHERE enabled = 1 AND "
						  "composite_rules LIKE '%' || $1 || '%'",
			       1, task);
		for (int k = 0; rc == 0 && k < ce.n; k++) {
			/* A result counts within the time constraint, and only once: not one that
			 * ended before the chain was made, nor one the chain's last firing used
			 * (each firing takes a new round of results) */
			int64_t from = now_ms - constraint_ms(sched_cell(&ce, k, CH_CONSTRAINT)), t;
			if (time_parse_iso(sched_cell_s(&ce, k, CH_CREATED), &t) == 0 && t > from)
				from = t;
			const char *last = sched_cell(&ce, k, CH_FIRED);
			if (last && time_parse_iso(last, &t) == 0 && t + 1 > from)
				from = t + 1;
			char since[ISO_TIME_LEN + 1];
			sched_iso(from, since);
			json_t *rules = json_loads(sched_cell_s(&ce, k, CH_RULES), 0, NULL);
			bool holds = false, fired = false;
			rc = chain_holds(c, rules, since, &holds, e);
			json_decref(rules);
			if (rc == 0 && holds)
				rc = fire(s, c, sched_cell_s(&ce, k, CH_ID),
					  sched_cell_s(&ce, k, CH_TASK), stop, &fired, e);
			if (rc == 0 && fired) {
				pthread_mutex_lock(&s->mu);
				s->st.fired++;
				pthread_mutex_unlock(&s->mu);
				log_info("task chain %s fired: task %s ended at %s",
					 sched_cell_s(&ce, k, CH_ID), task, stop);
			}
		}
		sched_rowset_free(&ce);
		if (rc == 0)
			rc = sched_run(c, NULL, e,
				       "UPDATE executionresult SET chain_seen = 1 WHERE id = $1", 1,
				       rid);
	}
	sched_rowset_free(&rs);
	return fenced_end(c, rc, e);
}

/* What the master has to do, in one statement (one transaction a tick): the database's
 * clock; for each of its jobs whether a row wants it now; and when the next one will
 * (a running execution's lease expiring, a session time-out, a queue time-out, a trigger's
 * next firing), so that the master sleeps until then instead of looking every second. The
 * queue time-out's cut-off is from this node's estimate of the database's clock (the last
 * probe's, moved on by the monotonic clock): a second's error only moves when a queued
 * execution times out. */
struct todo {
	int64_t now;
	bool recover, timeouts, triggers, chains;
	int64_t next; /* the database's ms of the earliest instant a job falls due; 0 none */
};

static void earliest(int64_t *next, const struct db_value *v, int64_t plus)
{
	int64_t ms;
	if (v->type == DBV_TEXT && time_parse_iso(v->s, &ms) == 0 && (!*next || ms + plus < *next))
		*next = ms + plus;
}

struct todo_ctx {
	struct todo *t;
	int64_t queue_timeout_ms;
};

static int todo_row(void *ctx, int n, const struct db_value *c)
{
	struct todo_ctx *x = ctx;
	struct todo *t = x->t;
	if (n < 9 || c[0].type != DBV_TEXT || time_parse_iso(c[0].s, &t->now) != 0)
		return ERR_DB;
	t->recover = c[1].type == DBV_INT && c[1].i;
	t->timeouts = c[2].type == DBV_INT && c[2].i;
	t->triggers = c[3].type == DBV_INT && c[3].i;
	t->chains = c[4].type == DBV_INT && c[4].i;
	earliest(&t->next, &c[5], 0);
	earliest(&t->next, &c[6], 0);
	earliest(&t->next, &c[7], x->queue_timeout_ms);
	earliest(&t->next, &c[8], 0);
	return 0;
}

static int probe(struct sched *s, struct db_conn *c, struct todo *t, struct err *e)
{
	char sql[2000], cut[ISO_TIME_LEN + 1];
	int64_t est = s->clock_known ? time_mono_ms() + s->clock_skew : time_now_ms();
	sched_iso(est - s->cfg.queue_timeout_ms, cut);
	snprintf(sql, sizeof(sql),
		 "WITH t AS (SELECT %s AS now) SELECT t.now, CASE WHEN EXISTS (SELECT 1 FROM "
		 "executionsession WHERE status IN (2, 4, 5) AND lease_until < t.now) THEN 1 ELSE "
		 "0 END, CASE WHEN EXISTS (SELECT 1 FROM executionsession WHERE (status = 2 AND "
		 "abort_at < t.now AND stop_requested = 0) OR (status = 3 AND queued_at < $1)) "
		 "THEN 1 ELSE 0 END, CASE WHEN EXISTS (SELECT 1 FROM schemaevent WHERE enabled = 1 "
		 "AND (sched_from IS NULL OR sched_from <> modified_date OR next_fire <= t.now)) "
		 "THEN 1 ELSE 0 END, CASE WHEN EXISTS (SELECT 1 FROM executionresult WHERE "
		 "chain_seen = 0 AND status IN (6, 7, 8, 11)) THEN 1 ELSE 0 END, (SELECT "
		 "min(lease_until) FROM executionsession WHERE status IN (2, 4, 5)), (SELECT "
		 "min(abort_at) FROM executionsession WHERE status = 2 AND stop_requested = 0), "
		 "(SELECT min(queued_at) FROM executionsession WHERE status = 3), (SELECT "
		 "min(next_fire) FROM schemaevent WHERE enabled = 1) FROM t",
		 db_now_sql(s->cfg.db));
	struct db_params p;
	db_params_init(&p);
	db_p_text(&p, cut);
	*t = (struct todo){0};
	struct todo_ctx x = {t, s->cfg.queue_timeout_ms};
	int rc = db_exec(c, sql, &p, todo_row, &x, NULL, e);
	if (rc == ERR_DB && !e->code)
		rc = err_set(e, ERR_DB, "the database's clock could not be read");
	if (rc == 0) {
		s->clock_skew = t->now - time_mono_ms();
		s->clock_known = true;
	}
	return rc;
}

/* Looks at what is due and does it. Returns how long the master may sleep (ms): tick_ms
 * after it did something (what it did moves the next deadlines) or could not look, else
 * until the next deadline, within tick_ms and MASTER_LOOK_MS (the safety net for a lost
 * notification). */
#define MASTER_LOOK_MS 15000

static int64_t master_tick(struct sched *s)
{
	struct err e;
	err_init(&e);
	struct db_conn *c;
	if (db_acquire(s->cfg.db, &c, &e) != 0)
		return s->cfg.tick_ms; /* the lease tick says when the database is away */
	struct todo t;
	int rc = probe(s, c, &t, &e);
	int64_t now = t.now;
	int64_t sleep = time_jitter_ms(MASTER_LOOK_MS, 20);
	if (rc || t.recover || t.timeouts || t.triggers || t.chains)
		sleep = s->cfg.tick_ms;
	else if (t.next && t.next - now < sleep)
		sleep = t.next - now < s->cfg.tick_ms ? s->cfg.tick_ms : t.next - now;
	if (rc == 0 && t.recover)
		rc = recover(s, c, now, &e);
	if (rc == 0 && t.timeouts && cluster_lease_valid(&s->lease))
		rc = timeouts(s, c, now, &e);
	if (rc == 0 && t.triggers && cluster_lease_valid(&s->lease))
		rc = time_triggers(s, c, now, &e);
	if (rc == 0 && t.chains && cluster_lease_valid(&s->lease))
		rc = chains(s, c, now, &e);
	db_release(s->cfg.db, c);
	if (rc && rc != ERR_STALE)
		log_warn("master scheduler: %s", e.message);
	return sleep;
}

/* How long a node that does not hold the central role waits before it looks at the role
 * again: the failover candidate first in line often (FIRST_LOOK_MS), so that it takes over
 * soon after the holder dies; the other candidates seldom (OTHER_LOOK_MS, ±20 %), as a
 * safety net should the first be gone too; a node that is no candidate rarely
 * (NONCANDIDATE_LOOK_MS: it cannot take the role, and a change of candidacy is announced).
 * A moved or released role is announced too, and every node looks at once. */
#define FIRST_LOOK_MS	     1000
#define OTHER_LOOK_MS	     10000
#define NONCANDIDATE_LOOK_MS 60000

static int64_t candidate_wait(struct sched *s)
{
	char fresh[ISO_TIME_LEN + 1];
	sched_iso(time_now_ms() - FRESH_BEAT_MS, fresh);
	struct cluster_lease_look l;
	struct err e;
	err_init(&e);
	if (cluster_lease_look(s->cfg.db, s->node_id, fresh, &l, &e) != 0)
		return FIRST_LOOK_MS; /* the database is away: look again soon */
	if (l.takeable || l.mine)
		return 0;
	if (!l.candidate)
		return time_jitter_ms(NONCANDIDATE_LOOK_MS, 20);
	return l.first ? FIRST_LOOK_MS : time_jitter_ms(OTHER_LOOK_MS, 20);
}

/* Waits until `until` (monotonic ms), a change for the master, or stop. True when
 * stopping. */
static bool master_wait(struct sched *s, int64_t until)
{
	pthread_mutex_lock(&s->mu);
	while (!s->stop && !s->master_due && !s->lease_due && time_mono_ms() < until)
		(void)time_cond_wait_ms(&s->master_cv, &s->mu, until - time_mono_ms());
	bool stop = s->stop;
	pthread_mutex_unlock(&s->mu);
	return stop;
}

static void *master_main(void *arg)
{
	struct sched *s = arg;
	log_context_set("scheduler", NULL);
	int64_t next_lease = 0, next_tick = 0, last_tick = INT64_MIN / 2;
	bool failing = false;
	for (;;) {
		pthread_mutex_lock(&s->mu);
		bool due = s->master_due, lease_due = s->lease_due;
		s->master_due = s->lease_due = false;
		pthread_mutex_unlock(&s->mu);
		int64_t now = time_mono_ms();
		if (lease_due && !s->lease.held)
			next_lease = now;
		/* a node that does not hold the role looks first (one statement), and ticks the
		 * lease (a transaction) only when it may take it or holds it by the row */
		if (now >= next_lease && !s->lease.held) {
			int64_t w = candidate_wait(s);
			if (w > 0)
				next_lease = time_mono_ms() + w;
		}
		if (time_mono_ms() >= next_lease) {
			struct err e;
			err_init(&e);
			bool was_held = s->lease.held;
			int rc = cluster_lease_tick(s->cfg.db, s->node_id, &s->lease, &e);
			if (rc && !failing)
				log_warn("central role: cannot reach the lease: %s", e.message);
			failing = rc != 0;
			/* the holder renews every third of the TTL; another looks again */
			next_lease =
			    time_mono_ms() + (s->lease.held ? s->lease.ttl_ms / 3 : FIRST_LOOK_MS);
			pthread_mutex_lock(&s->mu);
			s->st.central = s->lease.held;
			s->st.token = s->lease.token;
			pthread_mutex_unlock(&s->mu);
			if (s->lease.held && !was_held)
				due = true; /* new to the role: look at everything now */
		}
		/* the holder probes (one statement) when the next job falls due, at least every
		 * MASTER_LOOK_MS, and when told of a change, at most once a tick_ms then (a busy
		 * site's every finished execution tells it) */
		if (due && next_tick > last_tick + s->cfg.tick_ms)
			next_tick =
			    last_tick + s->cfg.tick_ms; /* told: soon, not at every change */
		if (cluster_lease_valid(&s->lease) && time_mono_ms() >= next_tick) {
			last_tick = time_mono_ms();
			next_tick = last_tick + master_tick(s);
		}
		int64_t until = next_lease;
		if (cluster_lease_valid(&s->lease) && next_tick < until)
			until = next_tick;
		if (until < time_mono_ms() + 10)
			until = time_mono_ms() + 10;
		if (master_wait(s, until))
			break;
	}
	cluster_lease_release(s->cfg.db, s->node_id, &s->lease);
	return NULL;
}

/* ---------------------------------------------------------------- start and stop */

int sched_start(const struct sched_config *cfg, struct sched **out, struct err *e)
{
	*out = NULL;
	if (cfg->max_reloads < 0 || cfg->max_reloads > MAX_RUNNERS)
		return err_set(e, ERR_CONFIG, "max concurrent reloads must be 0 to %d",
			       MAX_RUNNERS);
	struct sched *s = calloc(1, sizeof(*s));
	if (!s)
		return err_set(e, ERR_NOMEM, "out of memory");
	s->cfg = *cfg;
	if (s->cfg.tick_ms <= 0)
		s->cfg.tick_ms = 1000;
	if (s->cfg.lease_ms <= 0)
		s->cfg.lease_ms = 20000;
	if (s->cfg.queue_timeout_ms <= 0)
		s->cfg.queue_timeout_ms = 3600 * 1000;
	str_copy(s->node_id, cfg->node_id, sizeof(s->node_id));
	str_copy(s->node_name, cfg->node_name ? cfg->node_name : cfg->node_id,
		 sizeof(s->node_name));
	s->cfg.node_id = s->node_id;
	s->cfg.node_name = s->node_name;
	pthread_mutex_init(&s->mu, NULL);
	time_cond_init(&s->cv);
	time_cond_init(&s->work_cv);
	time_cond_init(&s->master_cv);
	s->next_look = time_mono_ms() + time_jitter_ms(LOOK_MS, 20);
	db_changes_subscribe(sched_on_change, s);
	s->lease.ttl_ms = 15000;
	int rc = 0;
	if (pthread_create(&s->master, NULL, master_main, s) != 0)
		rc = err_set(e, ERR_INTERNAL, "cannot start the master scheduler thread");
	s->have_master = rc == 0;
	if (rc == 0 && cfg->max_reloads > 0) {
		if (pthread_create(&s->keeper, NULL, sched_keeper_main, s) != 0)
			rc = err_set(e, ERR_INTERNAL, "cannot start the lease keeper thread");
		s->have_keeper = rc == 0;
	}
	for (int i = 0; rc == 0 && i < cfg->max_reloads; i++) {
		struct runner_arg *ra = malloc(sizeof(*ra));
		if (!ra) {
			rc = err_set(e, ERR_NOMEM, "out of memory");
			break;
		}
		*ra = (struct runner_arg){s, i};
		if (pthread_create(&s->runners[i], NULL, sched_runner_main, ra) != 0) {
			free(ra);
			rc = err_set(e, ERR_INTERNAL, "cannot start a reload worker thread");
			break;
		}
		s->n_runners++;
	}
	if (rc) {
		sched_stop(s);
		return rc;
	}
	*out = s;
	return 0;
}

void sched_stop(struct sched *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_cond_broadcast(&s->cv);
	pthread_cond_broadcast(&s->work_cv);
	pthread_cond_broadcast(&s->master_cv);
	char ids[MAX_RUNNERS][UUID_STR_LEN + 1];
	int n = sched_running_ids(s, ids);
	pthread_mutex_unlock(&s->mu);
	for (int i = 0; i < n; i++)
		s->cfg.runner.cancel(s->cfg.runner.ctx, ids[i], false);
	for (int i = 0; i < s->n_runners; i++)
		pthread_join(s->runners[i], NULL);
	if (s->have_keeper)
		pthread_join(s->keeper, NULL);
	if (s->have_master)
		pthread_join(s->master, NULL);
	db_changes_unsubscribe(sched_on_change, s);
	pthread_cond_destroy(&s->cv);
	pthread_cond_destroy(&s->work_cv);
	pthread_cond_destroy(&s->master_cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

void sched_stats(struct sched *s, struct sched_stats *out)
{
	pthread_mutex_lock(&s->mu);
	*out = s->st;
	pthread_mutex_unlock(&s->mu);
}

int sched_check_schedule(const struct repo_schedule *r, struct err *e)
{
	struct sched_spec_text t = {r->time_zone, r->dst_mode, r->start, r->expiration,
				    r->increment, r->filter,   r->option};
	struct sched_spec spec;
	int rc = sched_spec_parse(&t, &spec, e);
	if (rc == 0)
		sched_spec_release(&spec);
	return rc;
}
