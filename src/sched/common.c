/* common.c: what the scheduler's master and runners share: waits, rows read as text, ISO
 * times, execution details, and the writes that end or requeue an execution. */
#include "sched/sched_int.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Waits up to ms or until stopped; true when stopping. */
bool sched_wait_ms(struct sched *s, int64_t ms)
{
	pthread_mutex_lock(&s->mu);
	if (!s->stop)
		(void)time_cond_wait_ms(&s->cv, &s->mu, ms);
	bool stop = s->stop;
	pthread_mutex_unlock(&s->mu);
	return stop;
}

bool sched_stopping(struct sched *s)
{
	pthread_mutex_lock(&s->mu);
	bool stop = s->stop;
	pthread_mutex_unlock(&s->mu);
	return stop;
}

int sched_rowset_cb(void *ctx, int n, const struct db_value *v)
{
	struct rowset *rs = ctx;
	if (rs->n >= BATCH)
		return 0;
	for (int i = 0; i < n && i < COLS; i++) {
		char tmp[32];
		const char *t = NULL;
		if (v[i].type == DBV_TEXT)
			t = v[i].s;
		else if (v[i].type == DBV_INT)
			snprintf(tmp, sizeof(tmp), "%lld", (long long)v[i].i), t = tmp;
		else if (v[i].type == DBV_REAL)
			snprintf(tmp, sizeof(tmp), "%.17g", v[i].d), t = tmp;
		rs->cell[rs->n * COLS + i] = t ? strdup(t) : NULL;
	}
	rs->n++;
	return 0;
}

const char *sched_cell(const struct rowset *rs, int r, int c)
{
	return rs->cell[r * COLS + c];
}

const char *sched_cell_s(const struct rowset *rs, int r, int c)
{
	const char *v = sched_cell(rs, r, c);
	return v ? v : "";
}

int64_t sched_cell_i(const struct rowset *rs, int r, int c)
{
	int64_t v = 0;
	return str_to_i64(sched_cell(rs, r, c), INT64_MIN, INT64_MAX, &v) == 0 ? v : 0;
}

void sched_rowset_free(struct rowset *rs)
{
	for (int i = 0; i < rs->n * COLS; i++)
		free(rs->cell[i]);
	rs->n = 0;
}

/* Runs `sql` on `c` with `n` text parameters (NULL for SQL NULL); rows go to `rs` (may be
 * NULL). */
int sched_run(struct db_conn *c, struct rowset *rs, struct err *e, const char *sql, int n, ...)
{
	struct db_params p;
	db_params_init(&p);
	va_list ap;
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		db_p_text(&p, va_arg(ap, const char *));
	va_end(ap);
	return db_exec(c, sql, &p, rs ? sched_rowset_cb : NULL, rs, NULL, e);
}

void sched_iso(int64_t ms, char out[ISO_TIME_LEN + 1])
{
	time_format_iso(ms, out);
}

int64_t sched_iso_ms(const char *s)
{
	int64_t ms = 0;
	return s && time_parse_iso(s, &ms) == 0 ? ms : 0;
}

/* `existing` (a JSON list or NULL) with one more detail; caller frees. */
char *sched_details_add(const char *existing, int type, const char *msg, int64_t at_ms)
{
	json_t *arr = existing ? json_loads(existing, 0, NULL) : NULL;
	if (!json_is_array(arr)) {
		json_decref(arr);
		arr = json_array();
	}
	char at[ISO_TIME_LEN + 1];
	sched_iso(at_ms, at);
	json_array_append_new(arr, json_pack("{s:i,s:s,s:s}", "detailsType", type, "message", msg,
					     "detailCreatedDate", at));
	char *out = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return out;
}

/* reloadtask.operational after a result, and the task free to run again. */
int sched_task_done(struct db_conn *c, const char *task, const char *session, const char *rid,
		    int status, const char *start, const char *stop, int64_t duration,
		    const char *node_name, struct err *e)
{
	json_t *op =
	    json_pack("{s:s,s:{s:s,s:i,s:s,s:s,s:I,s:s}}", "id", task, "lastExecutionResult", "id",
		      rid, "status", status, "startTime", start, "stopTime", stop, "duration",
		      (json_int_t)duration, "executingNodeName", node_name);
	char *ops = json_dumps(op, JSON_COMPACT);
	json_decref(op);
	int rc = sched_run(
	    c, NULL, e,
	    "UPDATE reloadtask SET running_session = NULL, operational = $3 WHERE id = $1 "
	    "AND running_session = $2",
	    3, task, session, ops);
	free(ops);
	/* the task's next queued execution may start, and a chain may fire */
	return rc ? rc : db_work_queued(c, e);
}

/* Puts a claimed execution back at the end of the queue (a retry counts one more; the
 * queue timeout counts from now), avoiding node `avoid` (may be NULL) until `avoid_ms`. */
int sched_requeue(struct db_conn *c, const char *session, const char *now, const char *avoid,
		  int64_t avoid_ms, bool count, struct err *e)
{
	char until[ISO_TIME_LEN + 1];
	sched_iso(avoid_ms, until);
	struct db_params p;
	db_params_init(&p);
	db_p_text(&p, session);
	db_p_text(&p, now);
	db_p_text(&p, avoid);
	db_p_text(&p, avoid ? until : NULL);
	db_p_int(&p, count ? 1 : 0);
	int rc = db_exec(c,
			 "UPDATE executionsession SET status = 3, retries = retries + $5, "
			 "executing_node_id = NULL, execution_result_id = NULL, lease_until = "
			 "NULL, reload_stored = 0, abort_at = NULL, stop_requested = 0, "
			 "modified_date = $2, queued_at = $2, avoid_node_id = $3, avoid_until = "
			 "$4 WHERE id = $1",
			 &p, NULL, NULL, NULL, e);
	return rc ? rc : db_work_queued(c, e);
}

int sched_drop_session(struct db_conn *c, const char *session, struct err *e)
{
	return sched_run(c, NULL, e, "DELETE FROM executionsession WHERE id = $1", 1, session);
}
