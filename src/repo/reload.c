/* reload.c: reloads, with one entry point (repo_app_reload) that the route, the scheduler's
 * workers and QIX DoReload all call. A reload gathers the folder data connections, runs
 * the worker process with the node's limits (core's proc_run), and stores the new app file
 * as the app's next generation in one transaction with its row. A scheduled execution's
 * run can be cancelled from another thread, and its store is fenced by the execution's
 * lease. */
#include "repo/repo_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---------------------------------------------------------------- the runs of scheduled reloads */

static struct reload_run *run_slot(struct repo *r, const char *session, bool make)
{
	struct reload_run *free_slot = NULL;
	for (size_t i = 0; i < ARRAY_LEN(r->runs); i++) {
		if (strcmp(r->runs[i].session, session) == 0)
			return &r->runs[i];
		if (!free_slot && !r->runs[i].session[0])
			free_slot = &r->runs[i];
	}
	if (make && free_slot) {
		str_copy(free_slot->session, session, sizeof(free_slot->session));
		free_slot->pid = 0;
		free_slot->cancelled = false;
	}
	return make ? free_slot : NULL;
}

void repo_reload_cancel(struct repo *r, const char *session, bool if_running)
{
	pthread_mutex_lock(&r->runs_mu);
	struct reload_run *run = run_slot(r, session, !if_running);
	if (run) {
		run->cancelled = true;
		if (run->pid > 0)
			kill(run->pid, SIGKILL);
	}
	pthread_mutex_unlock(&r->runs_mu);
}

void repo_reload_log_path(struct repo *r, const char *name, char *out, size_t n)
{
	snprintf(out, n, "%s/tasks/%s.log", r->reload_logs, name);
}

struct run_ref {
	struct repo *r;
	const char *session; /* NULL: not a scheduled execution */
};

/* proc_spec.started: records the worker of the session; false when it was cancelled. */
static bool run_started(void *ctx, pid_t pid)
{
	struct run_ref *ref = ctx;
	if (!ref->session)
		return true;
	pthread_mutex_lock(&ref->r->runs_mu);
	struct reload_run *run = run_slot(ref->r, ref->session, true);
	bool go = !run || !run->cancelled;
	if (run)
		run->pid = pid;
	pthread_mutex_unlock(&ref->r->runs_mu);
	return go;
}

/* Forgets the session's run; true when it had been cancelled. */
static bool run_ended(struct repo *r, const char *session)
{
	if (!session)
		return false;
	pthread_mutex_lock(&r->runs_mu);
	struct reload_run *run = run_slot(r, session, false);
	bool cancelled = run && run->cancelled;
	if (run)
		memset(run, 0, sizeof(*run));
	pthread_mutex_unlock(&r->runs_mu);
	return cancelled;
}

/* ---------------------------------------------------------------- the worker */

struct conn_list {
	struct arena *a;
	const struct repo *r;
	const char **names, **folders;
	int n, cap;
};

/* A connection whose folder may not be reached (made before that was checked, or a node
 * folder moved under it since) is left out of the reload, with a warning. */
static int conn_row(void *ctx, int n, const struct db_value *c)
{
	struct conn_list *l = ctx;
	if (n < 2 || c[0].type != DBV_TEXT || c[1].type != DBV_TEXT || l->n == l->cap)
		return 0;
	const char *guarded[3];
	int ng = repo_guarded_dirs(l->r, guarded);
	struct err e;
	err_init(&e);
	if (share_folder_check(c[1].s, guarded, ng, &e) != 0) {
		log_warn("data connection %s is left out of reloads: %s", c[0].s, e.message);
		return 0;
	}
	l->names[l->n] = arena_strdup(l->a, c[0].s);
	l->folders[l->n++] = arena_strdup(l->a, c[1].s);
	return 0;
}

/* The last line of the reload log: the error of a failed run. */
static void last_log_line(const char *path, char *out, size_t n)
{
	char *text = NULL;
	size_t len = 0;
	struct err e;
	err_init(&e);
	out[0] = '\0';
	if (file_read_all(path, 16u << 20, &text, &len, &e) != 0)
		return;
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		text[--len] = '\0';
	const char *nl = strrchr(text, '\n');
	const char *line = nl ? nl + 1 : text;
	const char *msg = strstr(line, "error: ");
	str_copy(out, msg ? msg + 7 : line, n);
	free(text);
}

/* Why a worker that ended with `st` failed, in `why`. */
static void failure(const struct repo *r, const struct proc_status *st, const char *logp, char *why,
		    size_t n)
{
	if (st->end == PROC_TIMED_OUT)
		snprintf(why, n, "the reload ran longer than %d s and was stopped",
			 r->reload.timeout_s);
	else if (st->end == PROC_SIGNALED)
		snprintf(why, n, "the reload worker ended with signal %d%s", st->code,
			 st->code == SIGKILL || st->code == SIGSEGV || st->code == SIGABRT
			     ? " (out of memory?)"
			     : "");
	else if (st->code == 127 || st->code == 126)
		snprintf(why, n, "the reload worker could not run");
	else
		last_log_line(logp, why, n);
}

/* Makes the folder `dir` of reload logs (on the share: one that cannot be reached now is
 * ERR_UNAVAILABLE, to be tried again). */
static int log_folder(struct qrs *q, const char *dir)
{
	if (dir_make_all_cb(dir, 0750, NULL, NULL, &q->err) == 0) {
		share_note(q->repo->share, 0);
		return 0;
	}
	int errnum = errno;
	if (q->err.code == ERR_IO)
		q->err.code = share_errno_code(errnum);
	share_note(q->repo->share, q->err.code);
	return q->err.code;
}

/* The log of this run: the execution result's for a scheduled one, else the app's. */
static int log_file(struct qrs *q, const char *log_name, char *out, size_t n)
{
	struct repo *r = q->repo;
	if (share_available(r->share, &q->err) || log_folder(q, r->reload_logs))
		return q->err.code;
	if (!log_name) {
		snprintf(out, n, "%s/%s.log", r->reload_logs, q->id);
		return 0;
	}
	char dir[PATH_MAX + 16];
	snprintf(dir, sizeof(dir), "%s/tasks", r->reload_logs);
	if (log_folder(q, dir))
		return q->err.code;
	repo_reload_log_path(r, log_name, out, n);
	return 0;
}

/* The last line of a log whose worker was stopped, so that the log says so. */
static void log_stopped(const char *logp, const char *why)
{
	FILE *f = fopen(logp, "a");
	if (!f)
		return;
	char now[ISO_TIME_LEN + 1];
	time_format_iso(time_now_ms(), now);
	fprintf(f, "%s error: %s\n", now, why);
	fclose(f);
}

/* Runs the worker for the app's generation `gen` into `out`, its log in `logp`. */
static int run_worker(struct qrs *q, const char *gen, const char *session, const char *out,
		      const char *logp)
{
	struct repo *r = q->repo;
	char src[PATH_MAX];
	if (share_app_path(r->share, q->id, gen, src, sizeof(src)))
		return err_set(&q->err, ERR_INTERNAL, "bad app file name");
	struct conn_list conns = {.a = q->a, .r = r, .cap = 64};
	conns.names = arena_alloc(q->a, sizeof(char *) * (size_t)conns.cap);
	conns.folders = arena_alloc(q->a, sizeof(char *) * (size_t)conns.cap);
	int rc = db_exec_once(r->db,
			      "SELECT name, connectionstring FROM dataconnection WHERE lower(type) "
			      "= 'folder' ORDER BY name",
			      NULL, conn_row, &conns, &q->err);
	if (rc)
		return rc;
	struct repo_reload_job job = {src, out, logp, conns.n, conns.names, conns.folders};
	const char *const *argv = r->reload.worker_argv(r->reload_exe, &job, q->a);
	if (!argv)
		return err_set(&q->err, ERR_INTERNAL, "the reload worker cannot take this job");
	struct run_ref ref = {r, session};
	struct proc_spec spec = {
	    .argv = argv,
	    .memory_bytes = r->reload.memory_bytes,
	    .timeout_ms = (int64_t)(r->reload.timeout_s > 0 ? r->reload.timeout_s : 3600) * 1000,
	    .started = run_started,
	    .ctx = &ref};
	struct proc_status st = {PROC_EXITED, 0};
	rc = proc_run(&spec, &st, &q->err);
	if (run_ended(r, session) && (rc || st.code != 0 || st.end != PROC_EXITED)) {
		log_info("reload of app %s (execution %s) was stopped", q->id, session);
		log_stopped(logp, "the reload was stopped before it finished");
		q->err.code = 0;
		return err_set(&q->err, ERR_ABORTED, "the reload was stopped");
	}
	if (rc || (st.end == PROC_EXITED && st.code == 0))
		return rc;
	char why[600];
	failure(r, &st, logp, why, sizeof(why));
	if (st.end != PROC_EXITED || st.code == 127 || st.code == 126)
		log_stopped(logp, why); /* the worker could not say it */
	log_warn("reload of app %s failed: %s", q->id, why);
	bool exited = st.end == PROC_EXITED;
	if (exited && st.code == REPO_RELOAD_EXIT_UNAVAILABLE)
		share_note(r->share, ERR_UNAVAILABLE);
	err_set(&q->err,
		exited && st.code == 1				    ? ERR_INVALID
		: exited && st.code == REPO_RELOAD_EXIT_UNAVAILABLE ? ERR_UNAVAILABLE
								    : ERR_ABORTED,
		"the reload failed: %s", why);
	err_hint(&q->err,
		 "the app keeps its previous data; the log is at GET /qrs/app/%s/reload/log",
		 q->id);
	return q->err.code;
}

/* ---------------------------------------------------------------- storing the result */

/* A scheduled reload stores its generation only while its execution is still this run's:
 * the same attempt (`result`), its lease not expired by the database's clock. The row
 * stays locked until the commit, and reload_stored tells the master scheduler the reload
 * landed, so an execution whose worker stops after this point is finished, not run again.
 * A worker paused here cannot hold the lock for long (db_short_waits). */
static int execution_fence(struct qrs *q, struct db_conn *c, const char *session,
			   const char *result)
{
	int rc = db_short_waits(c, q->repo->db, 3000, &q->err);
	if (rc)
		return rc;
	char sql[512];
	snprintf(sql, sizeof(sql),
		 "UPDATE executionsession SET reload_stored = 1 WHERE id = $1 AND "
		 "execution_result_id = $2 AND status IN (2, 4, 5) AND lease_until >= %s",
		 db_now_sql(q->repo->db));
	struct db_params p;
	db_params_init(&p);
	db_p_text(&p, session);
	db_p_text(&p, result);
	int64_t n = 0;
	rc = db_exec(c, sql, &p, NULL, NULL, &n, &q->err);
	if (rc == 0 && n != 1) {
		log_warn("reload of app %s: execution %s is no longer this run's (its lease "
			 "expired); the new data is not stored",
			 q->id, session);
		rc = err_set(&q->err, ERR_STALE,
			     "execution %s was taken from this node (its lease expired); the "
			     "reload is not stored",
			     session);
	}
	return rc;
}

/* Copies the worker's file `out` to a new generation through the share's writer, which
 * hashes what passes. */
static int copy_result(struct qrs *q, struct fileop *op, const char *out, uint64_t *size,
		       char sha[65])
{
	char gen[SHARE_GEN_LEN + 1];
	share_gen_new(gen);
	int rc = share_writer_begin(q->repo->share, q->id, gen, UINT64_MAX, &op->w, &q->err);
	int fd = rc == 0 ? open(out, O_RDONLY | O_CLOEXEC) : -1;
	if (rc == 0 && fd < 0)
		rc = err_set(&q->err, ERR_IO, "cannot read the reload's result: %s",
			     strerror(errno));
	char *chunk = rc == 0 ? malloc(1 << 20) : NULL;
	if (rc == 0 && !chunk)
		rc = err_set(&q->err, ERR_NOMEM, "out of memory");
	for (ssize_t n; rc == 0 && (n = read(fd, chunk, 1 << 20)) != 0;) {
		if (n < 0 && errno == EINTR)
			continue;
		rc = n < 0 ? err_set(&q->err, ERR_IO, "cannot read the reload's result: %s",
				     strerror(errno))
			   : share_writer_write(op->w, chunk, (size_t)n, &q->err);
	}
	free(chunk);
	if (fd >= 0)
		close(fd);
	if (rc == 0)
		rc = share_writer_finish(op->w, NULL, size, sha, &q->err);
	return rc;
}

/* The new generation, in one transaction with the app's row (and the execution's fence). */
static int store(struct qrs *q, const struct app_file *cur, const char *out, const char *session,
		 const char *log_name, uint64_t *size)
{
	struct fileop *op = repo_fileop_new(q);
	char sha[65], now[ISO_TIME_LEN + 1];
	int rc = copy_result(q, op, out, size, sha);
	if (rc)
		return op->w ? repo_fileop_settle(op, rc) : rc;
	time_format_iso(time_now_ms(), now);
	struct colval extra[4];
	repo_file_cols(extra, op, sha, *size);
	repo_app_colv(&extra[3], "lastReloadTime", now, 0);
	struct decoded in = {0};
	struct db_conn *c;
	rc = repo_qrs_begin(q, &c, true);
	if (rc == 0) {
		if (session)
			rc = execution_fence(q, c, session, log_name);
		if (rc == 0)
			rc = repo_crud_update(q, c, q->desc, q->id, cur->modified, &in, extra, 4);
		rc = repo_qrs_end(q, c, rc);
	}
	return repo_fileop_settle(op, rc);
}

/* Removes from the reload work folder the results of workers that nobody waits for: with
 * `prefix`, this run's leftovers (a worker stopped while writing leaves its temporary
 * beside `out`); without (when the repository opens, before any reload of this process),
 * every result whose node process is gone (named reload-PID-UUID.fapp, and temporaries
 * beside them), such as a node killed mid-reload leaves, and those of an earlier process
 * that had this one's id. Returns how many it removed. */
static int sweep_work(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int n = 0;
	for (struct dirent *de; (de = readdir(d)) != NULL;) {
		int pid = 0, len = 0;
		bool stale =
		    prefix
			? strncmp(de->d_name, prefix, strlen(prefix)) == 0
			: sscanf(de->d_name, "reload-%d-%*36[0-9a-f-].fapp%n", &pid, &len) == 1 &&
			      len > 0 && pid > 0 &&
			      (pid == getpid() || (kill(pid, 0) != 0 && errno == ESRCH));
		if (stale && unlinkat(dirfd(d), de->d_name, 0) == 0)
			n++;
	}
	closedir(d);
	return n;
}

void repo_reload_sweep(struct repo *r)
{
	if (!r->reload_exe[0])
		return;
	int n = sweep_work(r->reload_work, NULL);
	if (n > 0)
		log_info("removed %d reload result%s that stopped processes left in %s", n,
			 n == 1 ? "" : "s", r->reload_work);
}

/* The reload of q->id, for any caller. */
static int reload(struct qrs *q, const char *session, const char *log_name)
{
	struct repo *r = q->repo;
	if (!r->reload_exe[0])
		return err_set(&q->err, ERR_UNAVAILABLE, "this node does not run reloads");
	if ((session && !uuid_valid(session)) || (log_name && !uuid_valid(log_name)))
		return err_set(&q->err, ERR_PARAM, "session and log must be GUIDs");
	if (session && !log_name)
		return err_set(&q->err, ERR_PARAM, "session needs log (the execution's result)");
	q->desc = repo_entity_find("app");
	struct app_file cur;
	int rc = repo_app_file_read_tx(q, q->id, &cur);
	char tok[UUID_STR_LEN + 1], out[PATH_MAX + 64], logp[PATH_MAX + 64];
	uuid_new(tok);
	snprintf(out, sizeof(out), "%s/reload-%d-%s.fapp", r->reload_work, (int)getpid(), tok);
	if (rc == 0)
		rc = log_file(q, log_name, logp, sizeof(logp));
	if (rc)
		return rc;
	int64_t t0 = time_mono_ms();
	uint64_t size = 0;
	rc = run_worker(q, cur.gen, session, out, logp);
	if (rc == 0)
		rc = store(q, &cur, out, session, log_name, &size);
	unlink(out);
	char tmp[96];
	snprintf(tmp, sizeof(tmp), "%s.tmp-", strrchr(out, '/') + 1);
	sweep_work(r->reload_work, tmp);
	metrics_observe(
	    "fathom_reload_duration_seconds",
	    rc == 0		? "result=\"success\""
	    : rc == ERR_ABORTED ? "result=\"cancelled\""
				: "result=\"failure\"",
	    "reloads run on this node, from the worker's start to the new app file stored",
	    (double)(time_mono_ms() - t0) / 1000.0);
	if (rc)
		return rc;
	share_app_superseded(r->share, q->id, cur.gen);
	log_info("app %s reloaded in %lld ms (%llu bytes)", q->id, (long long)(time_mono_ms() - t0),
		 (unsigned long long)size);
	return 0;
}

int repo_app_reload(struct repo *r, const char *app_id, const struct repo_reload_opts *opts,
		    struct err *e)
{
	struct arena *a = arena_new();
	if (!a)
		return err_set(e, ERR_NOMEM, "out of memory");
	struct qrs q;
	repo_qrs_local_init(&q, r, a, opts ? opts->user : NULL);
	q.id = arena_strdup(a, app_id);
	int rc = reload(&q, opts ? opts->session : NULL, opts ? opts->log_name : NULL);
	if (rc)
		*e = q.err;
	arena_free(a);
	return rc;
}

/* ---------------------------------------------------------------- routes */

/* POST /qrs/app/{id}/reload[?session=S&log=L] */
int repo_api_app_reload(struct qrs *q)
{
	int rc = reload(q, http_req_query(q->req, "session"), http_req_query(q->req, "log"));
	if (rc == 0)
		http_respond(q->req, 204, NULL, "", 0);
	return rc;
}

/* GET /qrs/app/{id}/reload/log */
int repo_api_app_reload_log(struct qrs *q)
{
	char logp[PATH_MAX + 64];
	snprintf(logp, sizeof(logp), "%s/%s.log", q->repo->reload_logs, q->id);
	char *text = NULL;
	size_t len = 0;
	if (!q->repo->reload_logs[0] || file_read_all(logp, 64u << 20, &text, &len, &q->err) != 0) {
		q->err.code = 0;
		return err_set(&q->err, ERR_NOT_FOUND, "app %s has no reload log", q->id);
	}
	http_respond(q->req, 200, "text/plain; charset=utf-8", text, len);
	free(text);
	return 0;
}
