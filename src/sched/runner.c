/* runner.c: the reload runners (each claims one queued execution at a time with FOR UPDATE
 * SKIP LOCKED on PostgreSQL, runs the reload and records the result; idle, they wait to be
 * told of work) and the keeper, which renews the leases of this node's running executions
 * and passes on stop requests. */
#include "sched/sched_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static void look_by(struct sched *s, int64_t at_ms);

/* A pooled connection and the database's clock now (ms and ISO text). On failure no
 * connection is held. */
static int acquire_at(struct sched *s, struct db_conn **c, int64_t *now_ms,
		      char now[ISO_TIME_LEN + 1], struct err *e)
{
	int rc = db_acquire(s->cfg.db, c, e);
	if (rc)
		return rc;
	rc = cluster_db_clock(*c, s->cfg.db, now_ms, e);
	if (rc) {
		db_release(s->cfg.db, *c);
		return rc;
	}
	sched_iso(*now_ms, now);
	return 0;
}

/* ---------------------------------------------------------------- the workers */

struct job {
	char session[UUID_STR_LEN + 1], result[UUID_STR_LEN + 1];
	char task[UUID_STR_LEN + 1], app[UUID_STR_LEN + 1];
	char start[ISO_TIME_LEN + 1];
	int64_t start_ms;
};

/* Takes a connection, reads the database's clock and begins a worker's write transaction
 * on it; on failure no connection is held. The transaction locks execution rows the master
 * may wait for, so a worker paused or cut off inside it must not hold them for long. */
static int work_begin(struct sched *s, struct db_conn **c, int64_t *now_ms,
		      char now[ISO_TIME_LEN + 1], struct err *e)
{
	int rc = acquire_at(s, c, now_ms, now, e);
	if (rc)
		return rc;
	if ((rc = db_begin(*c, true, e)) == 0 && (rc = db_short_waits(*c, s->cfg.db, 3000, e)) != 0)
		db_rollback(*c);
	if (rc)
		db_release(s->cfg.db, *c);
	return rc;
}

/* Commits (rc 0) or rolls back the transaction of work_begin, and gives the connection
 * back. */
static int work_end(struct sched *s, struct db_conn *c, int rc, struct err *e)
{
	rc = rc ? (db_rollback(c), rc) : db_commit(c, e);
	db_release(s->cfg.db, c);
	return rc;
}

/* Marks execution `sid` of `task` started on this node with a new result row. */
static int start_execution(struct sched *s, struct db_conn *c, const char *sid, const char *task,
			   const char *app, int64_t now_ms, const char *now, struct job *j,
			   struct err *e)
{
	struct rowset tr = {0};
	int rc = sched_run(c, &tr, e, "SELECT task_session_timeout FROM reloadtask WHERE id = $1",
			   1, task);
	int64_t timeout_min = tr.n ? sched_cell_i(&tr, 0, 0) : 1440;
	sched_rowset_free(&tr);
	uuid_new(j->result);
	char lease[ISO_TIME_LEN + 1], abort_at[ISO_TIME_LEN + 1];
	sched_iso(now_ms + s->cfg.lease_ms, lease);
	sched_iso(now_ms + (timeout_min > 0 ? timeout_min : 1440) * 60000, abort_at);
	if (rc == 0)
		rc = sched_run(c, NULL, e,
			       "UPDATE executionsession SET status = 2, executing_node_id = $2, "
			       "execution_result_id = $3, lease_until = $4, abort_at = $5, "
			       "modified_date = $6, reload_stored = 0 WHERE id = $1",
			       6, sid, s->node_id, j->result, lease, abort_at, now);
	char msg[400];
	snprintf(msg, sizeof(msg), "started on node %s", s->node_name);
	char *details = sched_details_add(NULL, 2, msg, now_ms);
	if (rc == 0)
		rc =
		    sched_run(c, NULL, e,
			      "INSERT INTO executionresult (id, created_date, modified_date, "
			      "modified_by, task_id, execution_id, app_id, executing_node_id, "
			      "executing_node_name, status, start_time, stop_time, duration, "
			      "file_reference_id, script_log_available, script_log_size, "
			      "details, trigger_id, chain_seen) SELECT $1, $2, $2, "
			      "'INTERNAL\\sa_scheduler', $3, $4, $5, $6, $7, 2, $2, "
			      "'" TIME_NEVER "', 0, '" UUID_EMPTY "', 0, 0, $8, trigger_id, 0 "
			      "FROM executionsession WHERE id = $4",
			      8, j->result, now, task, sid, app, s->node_id, s->node_name, details);
	free(details);
	if (rc == 0) {
		str_copy(j->session, sid, sizeof(j->session));
		str_copy(j->task, task, sizeof(j->task));
		str_copy(j->app, app, sizeof(j->app));
		str_copy(j->start, now, sizeof(j->start));
		j->start_ms = now_ms;
	}
	return rc;
}

/* Claims one queued execution this node may run (load-balancing rules, one execution of a
 * task at a time); *got says whether it did. */
static int claim(struct sched *s, struct job *j, bool *got, struct err *e)
{
	*got = false;
	struct db_conn *c;
	int64_t now_ms = 0;
	char now[ISO_TIME_LEN + 1];
	int rc = work_begin(s, &c, &now_ms, now, e);
	if (rc)
		return rc;
	struct rowset rs = {0};
	struct cluster_balance *bal = NULL;
#define QUEUED(X) X(Q_SESSION, "s.id") X(Q_APP, "s.app_id") X(Q_TASK, "s.reload_task_id")
	enum { QUEUED(COL_NAME) };
	char sql[1024];
	snprintf(sql, sizeof(sql),
		 SELECT_LIST(QUEUED) " FROM executionsession s WHERE s.status = 3 AND "
				     "(s.avoid_node_id IS NULL OR s.avoid_node_id <> $1 OR "
				     "s.avoid_until < $2) AND NOT EXISTS (SELECT 1 FROM reloadtask "
				     "t WHERE t.id = s.reload_task_id AND t.running_session IS NOT "
				     "NULL) ORDER BY s.queued_at, s.id LIMIT 16%s",
		 db_kind(s->cfg.db) == DB_POSTGRES ? " FOR UPDATE OF s SKIP LOCKED" : "");
	rc = sched_run(c, &rs, e, sql, 2, s->node_id, now);
	if (rc == 0 && rs.n > 0)
		rc = cluster_balance_load(c, &bal, e);
	for (int i = 0; rc == 0 && i < rs.n && !*got; i++) {
		const char *sid = sched_cell_s(&rs, i, Q_SESSION),
			   *app = sched_cell_s(&rs, i, Q_APP), *task = sched_cell_s(&rs, i, Q_TASK);
		bool ok = false;
		if ((rc = cluster_balance_allows(bal, c, app, s->node_id, &ok, e)) || !ok)
			continue;
		int64_t n = 0;
		struct db_params p;
		db_params_init(&p);
		db_p_text(&p, task);
		db_p_text(&p, sid);
		rc = db_exec(c,
			     "UPDATE reloadtask SET running_session = $2 WHERE id = $1 AND "
			     "running_session IS NULL",
			     &p, NULL, NULL, &n, e);
		if (rc || n != 1)
			continue;
		rc = start_execution(s, c, sid, task, app, now_ms, now, j, e);
		*got = rc == 0;
	}
	cluster_balance_free(bal);
	sched_rowset_free(&rs);
	rc = work_end(s, c, rc, e);
	if (rc)
		*got = false;
	return rc;
}

#define UNREACHABLE_RETRIES 3

/* Whether a failed run may be retried. One that failed because the site's database or
 * share could not be reached is not the task's failure: it is retried (elsewhere first)
 * even past the task's retries, up to UNREACHABLE_RETRIES more. */
static bool retries_left(int run_rc, int64_t retries, int64_t max_retries)
{
	return retries < max_retries + (run_rc == ERR_UNAVAILABLE ? UNREACHABLE_RETRIES : 0);
}

/* Records how a run ended: the result, a retry or the end of the execution, the task's
 * operational state. */
/* What a run's result says; an aborted run's `reason` 2 is the task's session timeout of
 * `timeout_min`. */
static void run_message(char *msg, size_t n, const char *node, int run_rc, bool shutdown,
			bool aborted, int64_t reason, int64_t timeout_min, const char *run_msg,
			bool retry)
{
	if (run_rc == 0)
		snprintf(msg, n, "the reload finished");
	else if (shutdown)
		snprintf(msg, n, "node %s stopped during the reload; it is queued again", node);
	else if (aborted && reason == 2)
		snprintf(msg, n, "stopped: the task ran past its session timeout of %lld minutes",
			 (long long)timeout_min);
	else if (aborted)
		snprintf(msg, n, "stopped on request");
	else
		snprintf(msg, n, "%s%s", run_msg, retry ? "; it is retried" : "");
}

static int finish(struct sched *s, const struct job *j, int run_rc, const char *run_msg,
		  struct err *e)
{
	struct db_conn *c;
	int64_t now_ms = 0;
	char now[ISO_TIME_LEN + 1];
	int rc = work_begin(s, &c, &now_ms, now, e);
	if (rc)
		return rc;
	struct rowset rs = {0};
	struct db_params p;
#define MINE(X)                                                                                    \
	X(M_STOP, "s.stop_requested")                                                              \
	X(M_ABORT_REASON, "s.abort_reason")                                                        \
	X(M_RETRIES, "s.retries")                                                                  \
	X(M_MAX_RETRIES, "t.max_retries")                                                          \
	X(M_TIMEOUT, "t.task_session_timeout")                                                     \
	X(M_DETAILS, "r.details")
	enum { MINE(COL_NAME) };
	rc = sched_run(
	    c, &rs, e,
	    SELECT_LIST(
		MINE) " FROM executionsession s JOIN "
		      "reloadtask t ON t.id = s.reload_task_id JOIN executionresult r ON r.id = "
		      "s.execution_result_id WHERE s.id = $1 AND s.executing_node_id = $2 AND "
		      "s.execution_result_id = $3",
	    3, j->session, s->node_id, j->result);
	if (rc == 0 && rs.n == 0) {
		log_warn("execution %s was taken from this node while it ran (its lease "
			 "expired); this run's result is not recorded",
			 j->session);
		rc = ERR_STALE;
		err_set(e, ERR_STALE, "the execution is no longer this node's");
	}
	bool shutdown = run_rc != 0 && sched_stopping(s);
	bool aborted = rc == 0 && sched_cell_i(&rs, 0, M_STOP) != 0;
	int status = run_rc == 0 ? EXEC_SUCCESS : aborted ? EXEC_ABORTED : EXEC_FAIL;
	bool retry = rc == 0 && !shutdown && status == EXEC_FAIL &&
		     retries_left(run_rc, sched_cell_i(&rs, 0, M_RETRIES),
				  sched_cell_i(&rs, 0, M_MAX_RETRIES));
	char msg[1200];
	run_message(msg, sizeof(msg), s->node_name, run_rc, shutdown, aborted,
		    sched_cell_i(&rs, 0, M_ABORT_REASON), sched_cell_i(&rs, 0, M_TIMEOUT), run_msg,
		    retry);
	char *details = sched_details_add(rc == 0 ? sched_cell(&rs, 0, M_DETAILS) : NULL,
					  run_rc == 0 ? 2
					  : aborted   ? 1
						      : 0,
					  msg, now_ms);
	char log_path[1024] = "";
	s->cfg.runner.log_path(s->cfg.runner.ctx, j->result, log_path, sizeof(log_path));
	struct stat lst;
	bool have_log = stat(log_path, &lst) == 0;
	int64_t dur = now_ms - j->start_ms;
	db_params_init(&p);
	db_p_text(&p, j->result);
	db_p_int(&p, shutdown ? EXEC_ERROR : status);
	db_p_text(&p, now);
	db_p_int(&p, dur);
	db_p_text(&p, details);
	db_p_int(&p, have_log);
	db_p_text(&p, have_log ? log_path : NULL);
	db_p_int(&p, have_log ? (int64_t)lst.st_size : 0);
	db_p_int(&p, retry || shutdown);
	if (rc == 0)
		rc =
		    db_exec(c,
			    "UPDATE executionresult SET status = $2, stop_time = $3, modified_date "
			    "= $3, duration = $4, details = $5, script_log_available = $6, "
			    "script_log_location = $7, script_log_size = $8, chain_seen = $9 WHERE "
			    "id = $1",
			    &p, NULL, NULL, NULL, e);
	free(details);
	if (rc == 0)
		rc = retry || shutdown
			 ? sched_requeue(c, j->session, now, retry ? s->node_id : NULL,
					 now_ms + RETRY_AVOID_MS, retry, e)
			 : sched_drop_session(c, j->session, e);
	if (rc == 0)
		rc = sched_task_done(c, j->task, j->session, j->result,
				     shutdown ? EXEC_ERROR : status, j->start, now, dur,
				     s->node_name, e);
	sched_rowset_free(&rs);
	rc = work_end(s, c, rc, e);
	if (rc == 0)
		log_info("execution %s of task %s on app %s: %s: %s (%lld ms)", j->session, j->task,
			 j->app,
			 status == EXEC_SUCCESS	  ? "succeeded"
			 : status == EXEC_ABORTED ? "aborted"
						  : "failed",
			 msg, (long long)dur);
	if (rc == 0 && retry) /* others may take it now; this node once its avoidance ends */
		look_by(s, time_mono_ms() + RETRY_AVOID_MS + 100);
	return rc;
}

/* The wait between an idle runner's own looks (see LOOK_MS), and the longest it may be. */
static int64_t look_interval(struct sched *s, int64_t *longest)
{
	if (db_kind(s->cfg.db) == DB_SQLITE)
		return *longest = LOOK_SQLITE_MS;
	if (s->cfg.hears && !s->cfg.hears(s->cfg.hears_ctx))
		return *longest = LOOK_UNHEARD_MS;
	*longest = LOOK_MS + LOOK_MS / 5;
	return time_jitter_ms(LOOK_MS, 20);
}

/* An idle runner waits until work_gen is no longer `gen` and it is woken, or it is its
 * turn to look (next_look passed: it sets the next one), or stop. `failing` (the last
 * claim failed): it looks again within a second. True when stopping. */
static bool wait_work(struct sched *s, uint64_t gen, bool failing)
{
	int64_t longest = 0, look = look_interval(s, &longest);
	if (failing && look > 1000)
		look = longest = 1000;
	pthread_mutex_lock(&s->mu);
	if (s->next_look > time_mono_ms() + longest) /* the node stopped hearing, or failed */
		s->next_look = time_mono_ms() + look;
	while (!s->stop && s->work_gen == gen) {
		int64_t now = time_mono_ms();
		if (now >= s->next_look) {
			s->next_look = now + look;
			break;
		}
		(void)time_cond_wait_ms(&s->work_cv, &s->mu, s->next_look - now);
	}
	bool stop = s->stop;
	pthread_mutex_unlock(&s->mu);
	return stop;
}

/* Runners look once more by `at_ms` (monotonic): work that becomes this node's then. */
static void look_by(struct sched *s, int64_t at_ms)
{
	pthread_mutex_lock(&s->mu);
	if (s->next_look > at_ms)
		s->next_look = at_ms;
	pthread_cond_signal(&s->work_cv);
	pthread_mutex_unlock(&s->mu);
}

/* A change this process heard of (db_changes_subscribe). */
void sched_on_change(void *ctx, const char *type)
{
	struct sched *s = ctx;
	bool work = strcmp(type, DB_WORK_TYPE) == 0 || strcmp(type, "*") == 0;
	bool master = work || strcmp(type, "SchemaEvent") == 0 ||
		      strcmp(type, "CompositeEvent") == 0 || strcmp(type, "ReloadTask") == 0;
	pthread_mutex_lock(&s->mu);
	if (work) {
		s->work_gen++;
		pthread_cond_signal(&s->work_cv);
	}
	bool lease = strcmp(type, "ServerNodeConfiguration") == 0 || strcmp(type, "*") == 0;
	if (master || lease) {
		s->master_due |= master;
		s->lease_due |= lease;
		pthread_cond_signal(&s->master_cv);
	}
	pthread_mutex_unlock(&s->mu);
}

void *sched_runner_main(void *arg)
{
	struct runner_arg *ra = arg;
	struct sched *s = ra->s;
	int idx = ra->idx;
	free(ra);
	log_context_set("scheduler", NULL);
	bool failing = false;
	/* the first runner looks at once (work queued while the node was down); the others
	 * wait until it finds some */
	if (idx > 0 && wait_work(s, 0, false))
		return NULL;
	while (!sched_stopping(s)) {
		struct job j = {0};
		struct err e;
		err_init(&e);
		bool got = false;
		pthread_mutex_lock(&s->mu);
		uint64_t gen = s->work_gen; /* a wake from here on is not missed */
		pthread_mutex_unlock(&s->mu);
		int rc = claim(s, &j, &got, &e);
		if (rc && !failing)
			log_warn("reload worker: cannot claim executions: %s", e.message);
		failing = rc != 0;
		if (!got) {
			if (wait_work(s, gen, failing))
				break;
			continue;
		}
		pthread_mutex_lock(&s->mu);
		str_copy(s->running[idx], j.session, sizeof(s->running[idx]));
		s->st.claimed++;
		s->work_gen++; /* there may be more: another idle runner looks */
		pthread_cond_signal(&s->work_cv);
		pthread_mutex_unlock(&s->mu);
		log_context_set("scheduler", j.session); /* its lines name the execution */
		struct err re;
		err_init(&re);
		int run_rc =
		    s->cfg.runner.reload(s->cfg.runner.ctx, j.app, j.session, j.result, &re);
		pthread_mutex_lock(&s->mu);
		s->running[idx][0] = '\0';
		pthread_mutex_unlock(&s->mu);
		/* the result must be recorded: retry while the database is away */
		for (int attempt = 0;; attempt++) {
			struct err fe;
			err_init(&fe);
			rc = finish(s, &j, run_rc, re.message, &fe);
			if (rc == 0 || rc == ERR_STALE)
				break;
			if (attempt == 0)
				log_warn("execution %s: cannot record its result yet: %s",
					 j.session, fe.message);
			if (sched_wait_ms(s, 1000) && attempt > 5)
				break;
		}
		log_context_set("scheduler", NULL);
	}
	return NULL;
}

/* The executions this node's runners run now, into ids; how many. The caller holds s->mu. */
int sched_running_ids(struct sched *s, char ids[MAX_RUNNERS][UUID_STR_LEN + 1])
{
	int n = 0;
	for (int i = 0; i < s->n_runners; i++)
		if (s->running[i][0])
			str_copy(ids[n++], s->running[i], UUID_STR_LEN + 1);
	return n;
}

/* Whether a runner of this node still runs execution `session`. */
static bool still_running(struct sched *s, const char *session)
{
	bool found = false;
	pthread_mutex_lock(&s->mu);
	for (int i = 0; i < s->n_runners && !found; i++)
		found = strcmp(s->running[i], session) == 0;
	pthread_mutex_unlock(&s->mu);
	return found;
}

/* Renews the leases of this node's running executions and passes on stop requests. */
void *sched_keeper_main(void *arg)
{
	struct sched *s = arg;
	log_context_set("scheduler", NULL);
	while (!sched_wait_ms(s, s->cfg.lease_ms / 4)) {
		char ids[MAX_RUNNERS][UUID_STR_LEN + 1];
		pthread_mutex_lock(&s->mu);
		int n = sched_running_ids(s, ids);
		pthread_mutex_unlock(&s->mu);
		if (n == 0)
			continue;
		struct err e;
		err_init(&e);
		struct db_conn *c;
		int64_t now_ms = 0;
		char now[ISO_TIME_LEN + 1], until[ISO_TIME_LEN + 1];
		if (acquire_at(s, &c, &now_ms, now, &e) != 0) {
			log_warn("reload worker: cannot renew execution leases: %s", e.message);
			continue;
		}
		int rc = 0;
		sched_iso(now_ms + s->cfg.lease_ms, until);
		for (int i = 0; rc == 0 && i < n; i++) {
			struct db_params p;
			db_params_init(&p);
			db_p_text(&p, ids[i]);
			db_p_text(&p, s->node_id);
			db_p_text(&p, until);
			struct rowset rs = {0};
			enum { RENEW_STOP, RENEW_STATUS }; /* what RETURNING gives */
			rc = db_exec(
			    c,
			    "UPDATE executionsession SET lease_until = $3 WHERE id = $1 AND "
			    "executing_node_id = $2 RETURNING stop_requested, status",
			    &p, sched_rowset_cb, &rs, NULL, &e);
			if (rc == 0 && rs.n == 0 && still_running(s, ids[i])) {
				/* given to another node while this one could not renew (paused,
				 * or cut off): its reload could no longer be stored anyway */
				log_warn("execution %s was taken from this node (its lease "
					 "expired); stopping its reload",
					 ids[i]);
				s->cfg.runner.cancel(s->cfg.runner.ctx, ids[i], true);
			}
			if (rc == 0 && rs.n && sched_cell_i(&rs, 0, RENEW_STOP) &&
			    sched_cell_i(&rs, 0, RENEW_STATUS) != 5) {
				log_info("execution %s: stop requested; stopping its reload",
					 ids[i]);
				s->cfg.runner.cancel(s->cfg.runner.ctx, ids[i], false);
				rc = sched_run(
				    c, NULL, &e,
				    "UPDATE executionsession SET status = 5 WHERE id = $1", 1,
				    ids[i]);
			}
			sched_rowset_free(&rs);
		}
		db_release(s->cfg.db, c);
		if (rc)
			log_warn("reload worker: cannot renew execution leases: %s", e.message);
	}
	return NULL;
}
