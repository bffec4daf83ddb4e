/* repo.h: the repository service: the site's metadata as a QRS-compatible REST API.
 *
 * Entity types are described by tables of field descriptors (entities.c); one generic
 * implementation serves list, full, count, get, create, create-many, update, delete and the
 * filter language for all of them (crud.c, filter.c). App files live on the share as
 * immutable generations (apps.c). The route table (routes.c) is data, and /qrs/about/api/
 * description is generated from it.
 *
 * Threads: a struct repo is shared by all connection threads; every request takes its own
 * database connection from the pool for the length of its work. */
#ifndef FATHOM_REPO_H
#define FATHOM_REPO_H

#include "core/core.h"
#include "db/db.h"
#include "crypto/crypto.h"
#include "http/http.h"
#include "share/share.h"

/* How uploaded app files are checked as they stream in (the engine's app file format; the
 * repository does not know it). NULL members: uploads are stored unchecked. */
struct repo_file_check {
	void *(*begin)(void);
	/* ERR_INVALID with the reason when the bytes so far are not a valid file */
	int (*feed)(void *state, const void *data, size_t len, struct err *e);
	int (*end)(void *state, struct err *e);
	void (*free)(void *state);
	/* Writes a new app file with no script and no data (POST /qrs/app). NULL: apps can
	 * only be uploaded. */
	int (*empty)(const char *title, struct buf *out, struct err *e);
};

/* What one reload worker is given: the app file to read, the new app file to write, its
 * log, and the folder data connections its script may reach. */
struct repo_reload_job {
	const char *in, *out, *log;
	int n_conns;
	const char *const *conn_names;	 /* by connection */
	const char *const *conn_folders; /* by connection */
};

/* How a reload worker ends: 0 done, 1 the script or app failed (its log says why), this when
 * it could not read the app file from the share (unreachable now: the reload is 503, to be
 * tried again; EX_TEMPFAIL). */
#define REPO_RELOAD_EXIT_UNAVAILABLE 75

/* The command line of the reload worker for `job`: argv[0] is `exe`, NULL-terminated,
 * allocated in `a`. The worker's own module declares its options, once; NULL when the job
 * does not fit them. */
typedef const char *const *(*repo_worker_argv_fn)(const char *exe,
						  const struct repo_reload_job *job,
						  struct arena *a);

/* Where and how reloads run: `exe reload-worker ...` as a child process. exe NULL: this
 * node does not reload (503). */
struct repo_reload {
	const char *exe;      /* the fathom binary */
	const char *work_dir; /* scratch space for the new app file (the node folder) */
	const char *log_dir; /* reload logs, one per app (on the share, so every node reads them) */
	int timeout_s;	     /* wall-clock limit; the worker is killed after it */
	int64_t memory_bytes;		 /* address-space limit of the worker */
	repo_worker_argv_fn worker_argv; /* required with exe */
};

/* A time trigger's schedule as stored, for the check the scheduler provides (the
 * repository sits below the scheduler, so it takes the check as a callback, given in
 * repo_config; without one only the fields' own types are checked). The check returns
 * ERR_FIELD or ERR_INVALID with the reason, including a schedule that never fires. */
struct repo_schedule {
	const char *time_zone, *start, *expiration, *increment, *filter;
	int dst_mode, option;
};
typedef int (*repo_schedule_check_fn)(const struct repo_schedule *s, struct err *e);

struct repo_config {
	struct db *db;	      /* borrowed; outlives the repo */
	struct share *share;  /* borrowed; outlives the repo */
	const char *node_id;  /* this node's servernodeconfiguration id */
	const char *version;  /* build version for /qrs/about */
	uint64_t max_upload;  /* largest app file accepted, in bytes */
	size_t max_body;      /* largest JSON body, in bytes */
	int64_t gc_grace_ms;  /* how long superseded app generations are kept */
	int64_t heartbeat_ms; /* how often nodes heartbeat; 3 missed beats mean not alive */
	/* Memory for answers kept to serve reads while the database is unreachable
	 * (PostgreSQL sites; see cache.c); 0 turns the cache off. */
	int64_t cache_bytes;
	/* The site CA (certificate and key PEM), on the node that holds the key: it lets the
	 * API approve joining nodes. NULL elsewhere. Copied. */
	const struct crypto_pem_pair *ca;
	struct repo_file_check file_check;
	repo_schedule_check_fn schedule_check; /* the scheduler's; NULL: fields only */
	struct repo_reload reload;
	int api_port;	       /* this node's repository port, for other nodes' calls */
	int engine_port;       /* this node's QIX port (0: none), for load balancing */
	const char *running;   /* what the node started with (JSON, servicestatus/full) */
	const char *certs_dir; /* root.pem, client.pem, client_key.pem for calls to nodes */
	const char *node_dir;  /* this node's folder, out of every data connection's reach */
	/* Sets the password of user row `user_ref` (the proxy's; hashed, and the user's
	 * sessions ended) for PUT /qrs/user/{id}/password. NULL: no such endpoint. */
	int (*password_set)(struct db *db, const char *user_ref, const char *password,
			    struct err *e);
};

struct repo;

/* Caller owns *out; free with repo_close. Runs share recovery for this node first. */
NODISCARD int repo_open(const struct repo_config *cfg, struct repo **out, struct err *e);
void repo_close(struct repo *r);

/* The HTTP handler that serves /qrs/... and /tempcontent/... (ctx is the repo). */
struct http_handler repo_http_handler(struct repo *r);

/* What a new site's repository starts with. */
struct repo_site_init {
	const char *node_name;
	const char *host_name;
	const struct share_paths *share; /* resolved paths */
};

/* Fills a new repository (inside one transaction): the service cluster with the share
 * settings, the first node (central, failover candidate), the INTERNAL service users and
 * the folder data connections ArchivedLogsFolder and CustomData. *out_node_id gets the
 * node's id. On failure nothing was written. */
NODISCARD int repo_site_init(struct db *db, const struct repo_site_init *init,
			     char out_node_id[UUID_STR_LEN + 1], struct err *e);

/* What this node's engine holds, for proxies choosing where a session goes. */
struct repo_engine_load {
	int sessions;
	char apps[4096]; /* the ids of the apps in memory, comma-separated ("" for none) */
};
/* Records this node's last warnings and errors (log_recent) where the site can read them
 * (GET /qrs/about/site), keeping each node's last 50. */
NODISCARD int repo_node_log_add(struct repo *r, const struct log_entry *entries, int n,
				struct err *e);
/* How many executions of the site wait in the queue for a node (for /metrics). */
NODISCARD int repo_executions_queued(struct repo *r, int64_t *out, struct err *e);
/* Records that this node is alive, stamped with the database's clock, with its engine's
 * load (NULL: none) and how its last probe of the share went ("ok", what failed, or NULL:
 * not probed yet). `stop` removes the record instead (a clean shutdown). */
NODISCARD int repo_heartbeat(struct repo *r, int64_t started_ms,
			     const struct repo_engine_load *load, const char *share_state,
			     bool stop, struct err *e);

/* ---------------------------------------------------------------- reloads and saves */

/* How a reload runs: by whom, and for which scheduled execution. */
struct repo_reload_opts {
	const char *user; /* the INTERNAL service user it runs as ("sa_scheduler"); NULL:
			     "sa_repository" */
	/* A scheduled execution (both GUIDs, or both NULL): session S can be cancelled with
	 * repo_reload_cancel, the script log goes to the file repo_reload_log_path names for
	 * execution result L, and the new generation is stored only while S is still this
	 * attempt's with a live lease (else ERR_STALE). */
	const char *session, *log_name;
};

/* Reloads app `app_id`: runs its load script in a worker process with the node's limits
 * and stores the result as the app's new generation, in one transaction with its row. The
 * one way every reload runs: POST /qrs/app/{id}/reload, the scheduler's workers and QIX
 * DoReload. Blocks until the worker ends. On failure the app keeps its generation and `e`
 * says why (ERR_INVALID: the script failed, with its last log line; ERR_ABORTED: killed,
 * timed out or cancelled; ERR_UNAVAILABLE: this node does not reload). Threads: any. */
NODISCARD int repo_app_reload(struct repo *r, const char *app_id,
			      const struct repo_reload_opts *opts, struct err *e);

/* Stores `data` (a whole app file, borrowed) as the new generation of app `app_id`, checked
 * as an upload is: the path of POST /qrs/app/upload/replace, and QIX DoSave. `user` is the
 * INTERNAL service user it runs as. Threads: any. */
NODISCARD int repo_app_save(struct repo *r, const char *app_id, const void *data, size_t len,
			    const char *user, struct err *e);

/* The log file of execution result `name`, in `out`. */
void repo_reload_log_path(struct repo *r, const char *name, char *out, size_t n);
/* Kills the run of execution session `session` (from any thread). Unless `if_running`, a
 * cancel that comes before the run starts stops it as it starts. */
void repo_reload_cancel(struct repo *r, const char *session, bool if_running);

/* Executions of reload tasks (executionsession, executionresult) carry QRS's
 * TaskExecutionStatus numbers; their names by number, NULL-terminated. */
extern const char *const repo_exec_status_names[];

/* Queues an execution of reload task `task_id` inside the caller's write transaction on
 * `c`, keyed by (trigger_id, fire_time) (a manual start passes its own unique key).
 * ERR_NOT_FOUND: no such task; ERR_INVALID: the task is disabled. */
NODISCARD int repo_task_enqueue(struct db_conn *c, const char *task_id, const char *trigger_id,
				const char *fire_time, char out_session[UUID_STR_LEN + 1],
				struct err *e);

/* Whether the repository already holds a site (a service cluster). */
NODISCARD int repo_site_exists(struct db *db, bool *out, struct err *e);
/* Whether this node can use the repository database and the share now (a query answered, the
 * app folder readable and writable): 0, or ERR_UNAVAILABLE saying which cannot. Blocks as
 * long as they take to answer. */
NODISCARD int repo_health(struct repo *r, struct err *e);
/* The row id of user DIR\\ID, made when it is not in the repository yet (a person signed
 * in from another directory). */
NODISCARD int repo_user_ensure(struct repo *r, const char *dir, const char *id,
			       char out_ref[UUID_STR_LEN + 1], struct err *e);
/* Keeps what an identity provider says of user `ref` at sign-in, when it differs from what
 * the repository holds: the name (NULL: left as it is) and the attributes, given as a front
 * door gives them ([{"group": "finance"}, ...]; NULL: left as they are) and stored as QRS's
 * UserAttribute list (attributeType, attributeValue), which the security rules read as
 * user.group and so on when a session carries none. */
NODISCARD int repo_user_sync(struct repo *r, const char *ref, const char *name, const char *attrs,
			     struct err *e);
/* Security rule actions, QRS's bit values (the ones other modules ask about). */
#define REPO_ACTION_READ   2
#define REPO_ACTION_UPDATE 4
/* Whether the person `user` ("UserDirectory=D; UserId=U", with the front door's
 * `attrs`, JSON or NULL) may do `action` on entity `id` of type `type` ("app") under the
 * security rules. ERR_NOT_FOUND when there is no such entity. */
NODISCARD int repo_user_may(struct repo *r, const char *user, const char *attrs, const char *type,
			    const char *id, int64_t action, bool *ok, struct err *e);

/* One garbage-collection pass over the share. Returns files removed or a negative error. */
int repo_gc(struct repo *r, struct err *e);

/* The entity types reachable under /qrs/{type}: their count, and the URL name of the i-th
 * (NULL past the end). For tests, fuzzers and tools that go over every type. */
int repo_type_count(void);
const char *repo_type_name(int i);

/* Checks a filter against an entity type without running it: compiles it to SQL.
 * Returns 0, ERR_NOT_FOUND (unknown type) or ERR_FILTER (with e->position). For tests,
 * the fuzzer and tools. *out_sql (may be NULL) gets the WHERE clause; caller frees. */
NODISCARD int repo_filter_check(const char *type, const char *filter, char **out_sql,
				struct err *e);

/* Validates a JSON entity body for `type` as POST would (no database access for
 * references). For tests and the fuzzer. */
NODISCARD int repo_decode_check(const char *type, const char *json, size_t len, struct err *e);

/* The repository's tables: its part of the schema (db_config.schema). */
extern const struct db_migration repo_migrations[];

/* Whether this process hears the other nodes' changes as they are committed (PostgreSQL:
 * the cache's listening connection is up; SQLite: there are no other nodes). */
bool repo_hears_changes(struct repo *r);

#endif
