/* db.h: the repository database, one SQL interface over two drivers (SQLite for a single
 * node, PostgreSQL for a site of any size). SQL is written once, portable, with $1-style
 * parameters; values reach SQL only as bound parameters. Each module registers its own
 * tables' migrations (struct db_migration); db runs them and owns the change log.
 *
 * Threads: a struct db is thread-safe: it holds a pool of connections, and db_acquire hands
 * one connection to one thread until db_release. A struct db_conn is used by one thread at
 * a time. Calls block on the database (disk, network): never make them on a thread that
 * multiplexes many sockets. */
#ifndef FATHOM_DB_H
#define FATHOM_DB_H

#include "core/core.h"

enum db_vtype { DBV_NULL, DBV_INT, DBV_REAL, DBV_TEXT };

/* One parameter or one column value. Text is borrowed: for parameters until the call
 * returns, for columns until the row callback returns. */
struct db_value {
	enum db_vtype type;
	int64_t i;
	double d;
	const char *s;
	size_t len;
};

#define DB_MAX_PARAMS 400

/* An ordered parameter list; $1 is p->v[0]. Embedded in its owner, filled by db_p_*. */
struct db_params {
	struct db_value v[DB_MAX_PARAMS];
	int n;
	bool overflow; /* set when more than DB_MAX_PARAMS were added; db_exec then fails */
};

void db_params_init(struct db_params *p);
/* Each returns the 1-based index of the parameter it added ($n), or 0 on overflow. */
int db_p_text(struct db_params *p, const char *s); /* NULL adds a NULL */
int db_p_int(struct db_params *p, int64_t v);
int db_p_real(struct db_params *p, double v);
int db_p_null(struct db_params *p);

/* A row callback that sets the bool at ctx to true: "did any row come back?" */
int db_row_seen(void *ctx, int n_cols, const struct db_value *cols);

/* Called once per result row with `n_cols` values. Return 0 to go on, non-zero to stop
 * (db_exec then returns that value). */
typedef int (*db_row_cb)(void *ctx, int n_cols, const struct db_value *cols);

enum db_driver_kind { DB_SQLITE, DB_POSTGRES };

/* One module's part of schema version `version`: statements that each end with ";\n", in
 * portable SQL with the drivers' tokens ({SERIAL_PK}, {BIGINT}). A module lists its parts
 * in version order, ended by {0, NULL}; the module that creates a table owns it. */
struct db_migration {
	int version;
	const char *sql;
};

struct db_config {
	enum db_driver_kind kind;
	/* The modules' migration lists, NULL-terminated, lower layers first: each version's
	 * parts are applied in this order, after db's own (schema_version, change_log). */
	const struct db_migration *const *schema;
	const char *path;     /* sqlite: the database file */
	const char *conninfo; /* postgres: a libpq connection string or URL */
	const char *password; /* postgres: overrides any password in conninfo; may be NULL */
	int pool_size;	      /* connections in the pool; default 8 */
	int busy_timeout_ms;  /* sqlite: how long a writer waits for a lock; default 5000 */
	bool create;	      /* sqlite: create the file when missing */
	/* postgres: application_name of the pool's connections (a listener adds
	 * " listener"), so pg_stat_activity shows which node holds which connection; the
	 * connection string's own setting wins. NULL: "fathom". */
	const char *app_name;
};

struct db;
struct db_conn;

/* Opens the pool and checks the schema: applies missing migrations in one transaction, and
 * refuses (ERR_SCHEMA) a database whose schema is newer than this binary knows.
 * Caller owns *out; free with db_close. On failure *out is NULL and nothing was changed. */
NODISCARD int db_open(const struct db_config *cfg, struct db **out, struct err *e);
void db_close(struct db *db);
/* Connects once and reads the schema version (0 for a database without Fathom's schema),
 * changing nothing. Reports why a connection fails (unreachable host, wrong password,
 * missing role or database) as ERR_UNAVAILABLE. */
NODISCARD int db_check(const struct db_config *cfg, int *out_version, struct err *e);
/* Connects once and counts the tables (and views) in the database's schema, changing
 * nothing: 0 for a database made empty for a new site. */
NODISCARD int db_count_tables(const struct db_config *cfg, int64_t *out, struct err *e);
/* The schema version that `schema` (as in db_config) brings a database to. */
int db_schema_latest(const struct db_migration *const *schema);
/* The schema version `db` was opened with, and the one the database holds. */
int db_schema_version_known(const struct db *db);
NODISCARD int db_schema_version(struct db *db, int *out, struct err *e);

/* Appends a change of object `id` of entity type `type` (a schema name, "App") with `op`
 * ("add", "update", "delete") to the change log inside the caller's write transaction; the
 * one way anything writes it. *out_seq (may be NULL) gets its sequence number, which the
 * caller announces to the other nodes after the commit. */
NODISCARD int db_change_log(struct db_conn *c, const char *type, const char *id, const char *op,
			    int64_t *out_seq, struct err *e);

/* Takes a connection from the pool, waiting while all are in use. */
NODISCARD int db_acquire(struct db *db, struct db_conn **out, struct err *e);
void db_release(struct db *db, struct db_conn *c);
/* A connection of its own, outside the pool: never waits for a free one, and its server
 * process lives as long as it (the central role's lease names that process). Reconnects by
 * itself as the pool's do; PostgreSQL shows it as the pool's application name and `what`.
 * One thread at a time; close with db_own_close. */
NODISCARD int db_own_open(struct db *db, const char *what, struct db_conn **out, struct err *e);
void db_own_close(struct db *db, struct db_conn *c);
/* What the database is, safe to show an administrator: PostgreSQL's connection string
 * without any password, or that it is the node's SQLite file. Caller frees; NULL when out of
 * memory. */
char *db_shown(const struct db *db);
/* The pool's size and how many of its connections are lent out now (for /metrics). */
void db_pool_use(struct db *db, int *total, int *in_use);

/* Transactions. `write` takes the write lock at the start (sqlite BEGIN IMMEDIATE) so that
 * read-then-write transactions never deadlock. db_rollback never fails visibly. */
NODISCARD int db_begin(struct db_conn *c, bool write, struct err *e);
/* Runs fn in one write transaction on a pooled connection: committed when it returns 0,
 * rolled back otherwise; the connection goes back to the pool either way. */
NODISCARD int db_write_tx(struct db *db, int (*fn)(struct db_conn *c, void *ctx, struct err *e),
			  void *ctx, struct err *e);
NODISCARD int db_commit(struct db_conn *c, struct err *e);
void db_rollback(struct db_conn *c);
/* For the rest of the current transaction (PostgreSQL; nothing on SQLite, whose writers are
 * serialized): the server ends the session after `ms` idle inside the transaction, and a
 * statement gives up after `ms` waiting for a lock. A paused or cut-off client then cannot
 * keep rows locked that others wait for. */
NODISCARD int db_short_waits(struct db_conn *c, const struct db *db, int ms, struct err *e);

/* Runs one statement. Rows go to `cb` (may be NULL). *out_changes (may be NULL) gets the
 * number of rows an INSERT/UPDATE/DELETE changed. Returns 0, the callback's non-zero value,
 * ERR_BUSY (lock timeout), ERR_CONFLICT (unique constraint) or ERR_DB. */
NODISCARD int db_exec(struct db_conn *c, const char *sql, const struct db_params *p, db_row_cb cb,
		      void *ctx, int64_t *out_changes, struct err *e);

/* Splits a PostgreSQL connection string or URL into one without the password (as
 * key='value' pairs) and the password (NULL when there is none). Caller frees both.
 * ERR_CONFIG when it does not parse. */
NODISCARD int db_pg_split_password(const char *conninfo, char **out_conninfo, char **out_password,
				   struct err *e);

/* Sets one keyword (host, port, user, dbname, sslmode, ...) of a PostgreSQL connection
 * string, returning it as key='value' pairs. Caller frees. ERR_CONFIG for an unknown
 * keyword or a string that does not parse. */
NODISCARD int db_pg_conninfo_set(const char *conninfo, const char *key, const char *value,
				 char **out, struct err *e);

/* db_exec on a connection taken from the pool for this one statement (autocommit), then
 * given back. For single statements outside a transaction. */
NODISCARD int db_exec_once(struct db *db, const char *sql, const struct db_params *p, db_row_cb cb,
			   void *ctx, struct err *e);

/* The driver in use, for the few places that must know (error texts, about). */
enum db_driver_kind db_kind(const struct db *db);

/* Change notifications (PostgreSQL LISTEN/NOTIFY) on DB_CHANGE_CHANNEL: nodes announce the
 * change-log rows they committed (repo/cache.c says how and why not from a trigger). A
 * listener is one connection outside the pool, for one thread. db_listen gives ERR_INVALID
 * on a driver without notifications (SQLite). */
#define DB_CHANGE_CHANNEL "fathom_change"
struct db_listener;
typedef void (*db_notify_cb)(void *ctx, const char *payload);
bool db_can_listen(const struct db *db);
NODISCARD int db_listen(struct db *db, const char *channel, struct db_listener **out,
			struct err *e);
/* Waits up to timeout_ms and calls cb once per notification that arrived, in commit order.
 * Returns 0, or ERR_UNAVAILABLE when the connection dropped: close it and listen again
 * (notifications sent meanwhile are lost; read the change log to catch up). */
NODISCARD int db_listen_wait(struct db_listener *l, int timeout_ms, db_notify_cb cb, void *ctx,
			     struct err *e);
void db_listen_close(struct db_listener *l);

/* Changes this process hears of, for those that wait on them instead of polling (the
 * scheduler): a change-log type ("SchemaEvent") that a node committed, from the change
 * notifications (repo/cache.c), or DB_WORK_TYPE when an execution was queued or a task
 * freed. Callbacks run on the thread that heard of the change: they must only wake
 * someone. Up to 16 subscribers per process; a subscriber unsubscribes before it goes. */
#define DB_WORK_TYPE "ExecutionSession"
typedef void (*db_change_cb)(void *ctx, const char *type);
void db_changes_subscribe(db_change_cb cb, void *ctx);
void db_changes_unsubscribe(db_change_cb cb, void *ctx);
/* Tells this process's subscribers that `type` changed. */
void db_changes_publish(const char *type);
/* In a transaction on `c` (or alone, outside one): work for the scheduler's runners was
 * queued. On PostgreSQL the other nodes hear of it when the transaction commits (a
 * notification on DB_CHANGE_CHANNEL, "0 ExecutionSession"); this process's subscribers
 * hear of it once db_commit succeeded (at once outside a transaction), never after a
 * rollback. */
NODISCARD int db_work_queued(struct db_conn *c, struct err *e);
/* An SQL expression for the database's own clock, as ISO 8601 UTC text with milliseconds
 * (what every node compares heartbeats with, so node clocks do not matter). */
const char *db_now_sql(const struct db *db);
/* The same as milliseconds since 1970, an integer expression. */
const char *db_now_ms_sql(const struct db *db);
const char *db_provider_name(const struct db *db);

#endif
