/* sched_int.h: what the scheduler's files share (scheduler.c: the master, start and
 * stop; runner.c: the reload runners and the lease keeper; common.c: row and time helpers
 * and the writes both make). Not for other modules. */
#ifndef FATHOM_SCHED_INT_H
#define FATHOM_SCHED_INT_H

#include "cluster/cluster.h"
#include "repo/repo.h"
#include "sched/sched.h"

#include <pthread.h>

#define MAX_RUNNERS 64
#define BATCH	    64
#define COLS	    16

/* Queries that read several columns declare them once, as X(NAME, "sql expression"): the
 * SELECT list is made from the same list as the names the rows are read by. */
#define COL_NAME(name, sql) name,
#define COL_SQL(name, sql)  sql ", "
#define SELECT_LIST(cols)   "SELECT " cols(COL_SQL) "NULL"
#define NEVER_FIRES	    "9999-12-31T00:00:00.000Z"
/* A trigger stored up to this long after one of its fire times still fires for it: a
 * client that asks for "in one second" through a slow API, or on a busy machine, has its
 * trigger stored after that second. */
#define STORE_GRACE_MS 60000
#define RETRY_AVOID_MS 5000 /* a failed run is retried elsewhere first: here after this */

struct sched {
	struct sched_config cfg;
	char node_id[UUID_STR_LEN + 1], node_name[256];
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	pthread_t master, keeper, runners[MAX_RUNNERS];
	int n_runners;
	bool have_master, have_keeper;
	struct cluster_lease lease; /* the master thread's own */
	struct sched_stats st;	    /* under mu */
	/* the execution each runner runs ("" idle), under mu */
	char running[MAX_RUNNERS][UUID_STR_LEN + 1];
	/* Idle runners wait on work_cv for work_gen to change (an execution was queued or a
	 * task freed, here or on another node: db_changes_subscribe) and claim; a runner that
	 * claimed one wakes another, since there may be more. One of them looks anyway when
	 * next_look (monotonic ms) has passed: the safety net for a lost notification, and
	 * for work that becomes this node's at a time (avoid_until). All under mu. */
	pthread_cond_t work_cv;
	uint64_t work_gen;
	int64_t next_look;
	/* master_due: a change the master acts on (a trigger, a chain, a finished
	 * execution); lease_due: the role moved or was released. The master waits on
	 * master_cv. */
	pthread_cond_t master_cv;
	bool master_due, lease_due;
	/* the database's clock less the monotonic clock, as the master last read it */
	int64_t clock_skew;
	bool clock_known;
};

/* A node whose heartbeat is older than this is not counted in line for the central role. */
#define FRESH_BEAT_MS 20000

/* How long idle runners wait between looks of their own when nothing wakes them: with
 * PostgreSQL, every node hears of queued work from the change notifications, and a look is
 * only the safety net (LOOK_MS, ±20 %); without notifications (the listening connection is
 * down) they look every LOOK_UNHEARD_MS. On SQLite this process hears of what it queues
 * itself, but a command run beside the node (fathom task start) writes from another
 * process: LOOK_SQLITE_MS. */
#define LOOK_MS		30000
#define LOOK_UNHEARD_MS 1000
#define LOOK_SQLITE_MS	2000

/* Up to BATCH rows of up to COLS columns, as text (NULL for NULL). */
struct rowset {
	int n;
	char *cell[BATCH * COLS];
};

struct runner_arg {
	struct sched *s;
	int idx;
};

bool sched_wait_ms(struct sched *s, int64_t ms);
bool sched_stopping(struct sched *s);
int sched_rowset_cb(void *ctx, int n, const struct db_value *v);
const char *sched_cell(const struct rowset *rs, int r, int c);
const char *sched_cell_s(const struct rowset *rs, int r, int c);
int64_t sched_cell_i(const struct rowset *rs, int r, int c);
void sched_rowset_free(struct rowset *rs);
int sched_run(struct db_conn *c, struct rowset *rs, struct err *e, const char *sql, int n, ...);
void sched_iso(int64_t ms, char out[ISO_TIME_LEN + 1]);
int64_t sched_iso_ms(const char *s);
char *sched_details_add(const char *existing, int type, const char *msg, int64_t at_ms);
int sched_task_done(struct db_conn *c, const char *task, const char *session, const char *rid,
		    int status, const char *start, const char *stop, int64_t duration,
		    const char *node_name, struct err *e);
int sched_requeue(struct db_conn *c, const char *session, const char *now, const char *avoid,
		  int64_t avoid_ms, bool count, struct err *e);
int sched_drop_session(struct db_conn *c, const char *session, struct err *e);
void sched_on_change(void *ctx, const char *type);
void *sched_runner_main(void *arg);
int sched_running_ids(struct sched *s, char ids[MAX_RUNNERS][UUID_STR_LEN + 1]);
void *sched_keeper_main(void *arg);

#endif
