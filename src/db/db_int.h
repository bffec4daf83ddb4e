/* db_int.h: the driver interface inside the db module. Not for other modules. */
#ifndef FATHOM_DB_INT_H
#define FATHOM_DB_INT_H

#include "db/db.h"

#include <pthread.h>
#include <stdatomic.h>

/* What the connections of one pool share; db.c owns it. SQLite admits one writer at a
 * time: a pool's writers queue on `writers` instead of SQLite's busy handler, which sleeps
 * in steps of milliseconds and so turns a few concurrent writers into idle time (other
 * pools and processes still meet the busy timeout). */
struct db_shared {
	pthread_mutex_t writers;
	/* PostgreSQL: while the database does not answer, when the next caller may try it
	 * (monotonic ms; 0: it answers). Others fail at once meanwhile (postgres.c). */
	_Atomic int64_t down_until_ms;
};

struct db_driver {
	const char *name;
	/* Opens one connection of the pool that shares `shared` (borrowed; outlives it). */
	int (*connect)(const struct db_config *cfg, struct db_shared *shared, struct db_conn **out,
		       struct err *e);
	void (*disconnect)(struct db_conn *c);
	int (*begin)(struct db_conn *c, bool write, struct err *e);
	int (*commit)(struct db_conn *c, struct err *e);
	void (*rollback)(struct db_conn *c);
	int (*exec)(struct db_conn *c, const char *sql, const struct db_params *p, db_row_cb cb,
		    void *ctx, int64_t *out_changes, struct err *e);
	/* Rewrites portable schema SQL into the driver's dialect (caller frees). */
	char *(*dialect)(const char *sql);
	/* Whether `table` exists, without disturbing an open transaction. */
	int (*table_exists)(struct db_conn *c, const char *table, bool *out, struct err *e);
	/* An SQL expression for the database's current time as ISO 8601 UTC with milliseconds. */
	const char *now_sql;
	/* The same as milliseconds since 1970 (an integer). */
	const char *now_ms_sql;
	/* Inside the migration transaction: keeps other nodes from migrating at the same time. */
	int (*lock_schema)(struct db_conn *c, struct err *e);
	/* Change notifications; NULL where the driver has none (SQLite: one node, one
	 * process). listen_open connects outside the pool and listens on `channel`. */
	int (*listen_open)(const struct db_config *cfg, const char *channel,
			   struct db_listener **out, struct err *e);
	int (*listen_wait)(struct db_listener *l, int timeout_ms, db_notify_cb cb, void *ctx,
			   struct err *e);
	void (*listen_close)(struct db_listener *l);
};

extern const struct db_driver db_sqlite_driver;
extern const struct db_driver db_postgres_driver;

/* A dialect token and what a driver writes for it. */
struct db_token {
	const char *from, *to;
};
/* Replaces every token of `t` in `sql`. Caller frees the result; NULL when out of memory. */
char *db_substitute(const char *sql, const struct db_token *t, size_t n);

/* The migrations of db's own tables (schema.c). */
extern const struct db_migration db_own_migrations[];

#endif
