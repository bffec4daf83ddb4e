/* scheduler.c: the node's scheduler, wired to its repository: reloads run through
 * repo_app_reload (a child process per reload, the app's new generation stored as any
 * reload stores it, fenced by the execution's lease).
 *
 * node.conf [scheduler]:
 *   max_reloads        reloads this node runs at once (default 4; 0: none here)
 *   queue_timeout_s    a queued execution no node took by then ends in Error (3600)
 *   execution_lease_s  how long a running execution stays this node's without renewal
 *                      (20; renewed every quarter) */
#include "ops/ops_int.h"
#include "sched/sched.h"

static int run_reload(void *ctx, const char *app_id, const char *session, const char *log_name,
		      struct err *e)
{
	struct repo_reload_opts o = {
	    .user = "sa_scheduler", .session = session, .log_name = log_name};
	return repo_app_reload(ctx, app_id, &o, e);
}

static void cancel_reload(void *ctx, const char *session, bool if_running)
{
	repo_reload_cancel(ctx, session, if_running);
}

static void log_path(void *ctx, const char *name, char *out, size_t n)
{
	repo_reload_log_path(ctx, name, out, n);
}

static bool hears(void *ctx)
{
	return repo_hears_changes(ctx);
}

int ops_sched_start(const struct conf *cf, struct db *db, struct repo *repo, const char *node_id,
		    struct sched **out, struct err *e)
{
	int64_t max_reloads, queue_s, lease_s;
	int rc;
	if ((rc = conf_get_int(cf, "scheduler.max_reloads", 4, 0, 64, &max_reloads, e)) ||
	    (rc =
		 conf_get_int(cf, "scheduler.queue_timeout_s", 3600, 1, 30 * 86400, &queue_s, e)) ||
	    (rc = conf_get_int(cf, "scheduler.execution_lease_s", 20, 4, 3600, &lease_s, e)))
		return rc;
	struct sched_config sc = {
	    .db = db,
	    .node_id = node_id,
	    .node_name = conf_get(cf, "node.name", node_id),
	    .max_reloads = (int)max_reloads,
	    .queue_timeout_ms = queue_s * 1000,
	    .lease_ms = lease_s * 1000,
	    .runner = {repo, run_reload, cancel_reload, log_path},
	    .hears = hears,
	    .hears_ctx = repo,
	};
	return sched_start(&sc, out, e);
}
