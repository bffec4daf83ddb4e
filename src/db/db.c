/* db.c: the driver-independent part of the repository database: the connection pool,
 * parameters, call wrappers and schema migrations. */
#include "db/db_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct db {
	const struct db_driver *drv;
	enum db_driver_kind kind;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct db_conn **free_conns;
	int n_free;
	int n_total;
	struct db_config cfg; /* kept for connections outside the pool (listeners) */
	char *conninfo, *password, *app_name;
	struct db_shared shared; /* what the pool's connections share */
};

/* Every driver's connection and listener starts with this, so the pool can find its
 * driver. */
struct db_conn_head {
	const struct db_driver *drv;
};

int db_row_seen(void *ctx, int n_cols, const struct db_value *cols)
{
	(void)n_cols;
	(void)cols;
	*(bool *)ctx = true;
	return 0;
}

void db_params_init(struct db_params *p)
{
	p->n = 0;
	p->overflow = false;
}

static struct db_value *p_next(struct db_params *p)
{
	if (p->n >= DB_MAX_PARAMS) {
		p->overflow = true;
		return NULL;
	}
	struct db_value *v = &p->v[p->n++];
	memset(v, 0, sizeof(*v));
	return v;
}

int db_p_text(struct db_params *p, const char *s)
{
	struct db_value *v = p_next(p);
	if (!v)
		return 0;
	if (s) {
		v->type = DBV_TEXT;
		v->s = s;
		v->len = strlen(s);
	}
	return p->n;
}

int db_p_int(struct db_params *p, int64_t i)
{
	struct db_value *v = p_next(p);
	if (!v)
		return 0;
	v->type = DBV_INT;
	v->i = i;
	return p->n;
}

int db_p_real(struct db_params *p, double d)
{
	struct db_value *v = p_next(p);
	if (!v)
		return 0;
	v->type = DBV_REAL;
	v->d = d;
	return p->n;
}

int db_p_null(struct db_params *p)
{
	return p_next(p) ? p->n : 0;
}

char *db_substitute(const char *sql, const struct db_token *t, size_t n)
{
	struct buf b;
	buf_init(&b, 1 << 24);
	for (const char *s = sql; *s;) {
		size_t i = 0;
		while (i < n && strncmp(s, t[i].from, strlen(t[i].from)) != 0)
			i++;
		int rc = i < n ? buf_puts(&b, t[i].to) : buf_append(&b, s, 1);
		if (rc) {
			buf_release(&b);
			return NULL;
		}
		s += i < n ? strlen(t[i].from) : 1;
	}
	return buf_steal(&b);
}

int db_schema_version_known(const struct db *db)
{
	return db_schema_latest(db->cfg.schema);
}

static int version_row(void *ctx, int n, const struct db_value *cols)
{
	if (n > 0 && cols[0].type == DBV_INT)
		*(int *)ctx = (int)cols[0].i;
	return 0;
}

/* Reads the version inside an open transaction; 0 when the schema table is missing. */
static int read_version(struct db *db, struct db_conn *c, int *out, struct err *e)
{
	*out = 0;
	bool exists = false;
	int rc = db->drv->table_exists(c, "schema_version", &exists, e);
	if (rc || !exists)
		return rc;
	return db_exec(c, "SELECT version FROM schema_version", NULL, version_row, out, NULL, e);
}

/* Runs one migration text: statements separated by ";\n". */
static int apply_sql(struct db *db, struct db_conn *c, const char *text, struct err *e)
{
	char *sql = db->drv->dialect(text);
	if (!sql)
		return err_set(e, ERR_NOMEM, "out of memory");
	int rc = 0;
	char *s = sql;
	while (rc == 0 && s && *s) {
		char *end = strstr(s, ";\n");
		if (end)
			*end = '\0';
		const char *p = s;
		while (*p == ' ' || *p == '\n' || *p == '\t')
			p++;
		if (*p)
			rc = db_exec(c, p, NULL, NULL, NULL, NULL, e);
		s = end ? end + 2 : NULL;
	}
	free(sql);
	return rc;
}

/* Applies every module's part of version `v`, db's own first, and records the version. */
static int apply_version(struct db *db, struct db_conn *c, int v, struct err *e)
{
	int rc = 0, parts = 0;
	for (const struct db_migration *m = db_own_migrations; rc == 0 && m->sql; m++)
		if (m->version == v && ++parts)
			rc = apply_sql(db, c, m->sql, e);
	for (int i = 0; rc == 0 && db->cfg.schema && db->cfg.schema[i]; i++)
		for (const struct db_migration *m = db->cfg.schema[i]; rc == 0 && m->sql; m++)
			if (m->version == v && ++parts)
				rc = apply_sql(db, c, m->sql, e);
	if (rc == 0 && parts == 0)
		rc = err_set(e, ERR_INTERNAL, "no module has a migration for schema version %d", v);
	struct db_params prm;
	db_params_init(&prm);
	db_p_int(&prm, v);
	if (rc == 0)
		rc =
		    db_exec(c, "UPDATE schema_version SET version = $1", &prm, NULL, NULL, NULL, e);
	if (rc == 0)
		log_info("repository schema migrated to version %d", v);
	return rc;
}

static int migrate(struct db *db, struct err *e)
{
	struct db_conn *c;
	int rc = db_acquire(db, &c, e);
	if (rc)
		return rc;
	rc = db_begin(c, true, e);
	if (rc)
		goto out;
	int v = 0;
	rc = db->drv->lock_schema(c, e);
	if (rc == 0)
		rc = read_version(db, c, &v, e);
	if (rc)
		goto fail;
	int latest = db_schema_latest(db->cfg.schema);
	if (v > latest) {
		rc = err_set(e, ERR_SCHEMA,
			     "the repository database has schema version %d, newer than this "
			     "fathom (%d)",
			     v, latest);
		err_hint(e, "run a fathom release that knows schema version %d", v);
		goto fail;
	}
	for (int next = v + 1; rc == 0 && next <= latest; next++)
		rc = apply_version(db, c, next, e);
	if (rc)
		goto fail;
	rc = db_commit(c, e);
	goto out;
fail:
	db_rollback(c);
out:
	db_release(db, c);
	return rc;
}

int db_open(const struct db_config *cfg, struct db **out, struct err *e)
{
	*out = NULL;
	const struct db_driver *drv =
	    cfg->kind == DB_SQLITE ? &db_sqlite_driver : &db_postgres_driver;
	int n = cfg->pool_size > 0 ? cfg->pool_size : 8;
	struct db *db = calloc(1, sizeof(*db));
	if (!db)
		return err_set(e, ERR_NOMEM, "out of memory");
	db->drv = drv;
	db->kind = cfg->kind;
	db->cfg = *cfg;
	db->conninfo = cfg->conninfo ? strdup(cfg->conninfo) : NULL;
	db->password = cfg->password ? strdup(cfg->password) : NULL;
	db->cfg.conninfo = db->conninfo;
	db->cfg.password = db->password;
	db->cfg.path = NULL; /* listeners are PostgreSQL only */
	db->app_name = cfg->app_name ? strdup(cfg->app_name) : NULL;
	db->cfg.app_name = db->app_name;
	pthread_mutex_init(&db->lock, NULL);
	pthread_cond_init(&db->cond, NULL);
	pthread_mutex_init(&db->shared.writers, NULL);
	atomic_init(&db->shared.down_until_ms, 0);
	db->free_conns = calloc((size_t)n, sizeof(*db->free_conns));
	if (!db->free_conns) {
		free(db);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	int rc = 0;
	for (int i = 0; i < n; i++) {
		struct db_conn *c;
		rc = drv->connect(cfg, &db->shared, &c, e);
		if (rc)
			break;
		db->free_conns[db->n_free++] = c;
		db->n_total++;
	}
	if (rc == 0)
		rc = migrate(db, e);
	if (rc) {
		db_close(db);
		return rc;
	}
	*out = db;
	return 0;
}

static int version_row(void *ctx, int n, const struct db_value *cols);

/* Runs fn on one connection made for it, outside any pool. */
static int on_one_conn(const struct db_config *cfg,
		       int (*fn)(const struct db_driver *drv, struct db_conn *c, void *ctx,
				 struct err *e),
		       void *ctx, struct err *e)
{
	const struct db_driver *drv =
	    cfg->kind == DB_SQLITE ? &db_sqlite_driver : &db_postgres_driver;
	struct db_conn *c;
	struct db_shared shared;
	pthread_mutex_init(&shared.writers, NULL);
	atomic_init(&shared.down_until_ms, 0);
	int rc = drv->connect(cfg, &shared, &c, e);
	if (rc == 0) {
		rc = fn(drv, c, ctx, e);
		drv->disconnect(c);
	}
	pthread_mutex_destroy(&shared.writers);
	return rc;
}

static int read_schema_version(const struct db_driver *drv, struct db_conn *c, void *ctx,
			       struct err *e)
{
	bool exists = false;
	int rc = drv->table_exists(c, "schema_version", &exists, e);
	if (rc == 0 && exists)
		rc = drv->exec(c, "SELECT version FROM schema_version", NULL, version_row, ctx,
			       NULL, e);
	return rc;
}

int db_check(const struct db_config *cfg, int *out_version, struct err *e)
{
	*out_version = 0;
	return on_one_conn(cfg, read_schema_version, out_version, e);
}

static int count_row(void *ctx, int n, const struct db_value *cols)
{
	if (n > 0 && cols[0].type == DBV_INT)
		*(int64_t *)ctx = cols[0].i;
	return 0;
}

static int count_tables(const struct db_driver *drv, struct db_conn *c, void *ctx, struct err *e)
{
	const char *sql = drv == &db_sqlite_driver
			      ? "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
			      : "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = "
				"c.relnamespace WHERE c.relkind IN ('r', 'p', 'v', 'm') AND "
				"n.nspname = current_schema()";
	return drv->exec(c, sql, NULL, count_row, ctx, NULL, e);
}

int db_count_tables(const struct db_config *cfg, int64_t *out, struct err *e)
{
	*out = 0;
	return on_one_conn(cfg, count_tables, out, e);
}

void db_close(struct db *db)
{
	if (!db)
		return;
	pthread_mutex_lock(&db->lock);
	while (db->n_free < db->n_total)
		pthread_cond_wait(&db->cond, &db->lock);
	pthread_mutex_unlock(&db->lock);
	for (int i = 0; i < db->n_free; i++)
		db->drv->disconnect(db->free_conns[i]);
	free(db->free_conns);
	free(db->conninfo);
	free(db->app_name);
	if (db->password) {
		explicit_bzero(db->password, strlen(db->password));
		free(db->password);
	}
	pthread_mutex_destroy(&db->lock);
	pthread_cond_destroy(&db->cond);
	pthread_mutex_destroy(&db->shared.writers);
	free(db);
}

int db_schema_version(struct db *db, int *out, struct err *e)
{
	*out = 0;
	return db_exec_once(db, "SELECT version FROM schema_version", NULL, version_row, out, e);
}

int db_exec_once(struct db *db, const char *sql, const struct db_params *p, db_row_cb cb, void *ctx,
		 struct err *e)
{
	struct db_conn *c;
	int rc = db_acquire(db, &c, e);
	if (rc)
		return rc;
	rc = db_exec(c, sql, p, cb, ctx, NULL, e);
	db_release(db, c);
	return rc;
}

int db_acquire(struct db *db, struct db_conn **out, struct err *e)
{
	(void)e;
	int64_t waited_from = -1;
	pthread_mutex_lock(&db->lock);
	if (db->n_free == 0)
		waited_from = time_mono_ms();
	while (db->n_free == 0)
		pthread_cond_wait(&db->cond, &db->lock);
	*out = db->free_conns[--db->n_free];
	pthread_mutex_unlock(&db->lock);
	if (waited_from >= 0) {
		metrics_add("fathom_db_pool_waits_total", NULL,
			    "times a request waited for a connection of the database pool", 1);
		metrics_add("fathom_db_pool_wait_seconds_total", NULL,
			    "time requests waited for a connection of the database pool",
			    (double)(time_mono_ms() - waited_from) / 1000.0);
	}
	return 0;
}

int db_write_tx(struct db *db, int (*fn)(struct db_conn *c, void *ctx, struct err *e), void *ctx,
		struct err *e)
{
	struct db_conn *c;
	int rc = db_acquire(db, &c, e);
	if (rc)
		return rc;
	rc = db_begin(c, true, e);
	if (rc == 0)
		rc = fn(c, ctx, e);
	if (rc == 0)
		rc = db_commit(c, e);
	else
		db_rollback(c);
	db_release(db, c);
	return rc;
}

char *db_shown(const struct db *db)
{
	if (db->kind != DB_POSTGRES)
		return strdup("the node's own SQLite file (repository.db in its folder)");
	char *conninfo = NULL, *password = NULL;
	struct err e;
	err_init(&e);
	if (db_pg_split_password(db->conninfo ? db->conninfo : "", &conninfo, &password, &e) != 0)
		return strdup("(a connection string that does not parse)");
	if (password) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	return conninfo;
}

void db_pool_use(struct db *db, int *total, int *in_use)
{
	pthread_mutex_lock(&db->lock);
	*total = db->n_total;
	*in_use = db->n_total - db->n_free;
	pthread_mutex_unlock(&db->lock);
}

int db_own_open(struct db *db, const char *what, struct db_conn **out, struct err *e)
{
	/* named in pg_stat_activity as "<the pool's name> <what>" */
	struct db_config oc = db->cfg;
	char app[128];
	snprintf(app, sizeof(app), "%s %s", db->cfg.app_name ? db->cfg.app_name : "fathom", what);
	oc.app_name = app;
	return db->drv->connect(&oc, &db->shared, out, e);
}

void db_own_close(struct db *db, struct db_conn *c)
{
	if (c)
		db->drv->disconnect(c);
}

void db_release(struct db *db, struct db_conn *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&db->lock);
	db->free_conns[db->n_free++] = c;
	pthread_cond_signal(&db->cond);
	pthread_mutex_unlock(&db->lock);
}

static const struct db_driver *drv_of(struct db_conn *c)
{
	return ((struct db_conn_head *)c)->drv;
}

/* The transaction this thread has open, and whether it queued work (db_work_queued): a
 * transaction runs on one thread from db_begin to db_commit or db_rollback. */
static _Thread_local struct db_conn *tx_conn;
static _Thread_local bool tx_work;

int db_begin(struct db_conn *c, bool write, struct err *e)
{
	int rc = drv_of(c)->begin(c, write, e);
	if (rc == 0) {
		tx_conn = c;
		tx_work = false;
	}
	return rc;
}

int db_commit(struct db_conn *c, struct err *e)
{
	int rc = drv_of(c)->commit(c, e);
	bool work = tx_conn == c && tx_work;
	if (tx_conn == c) {
		tx_conn = NULL;
		tx_work = false;
	}
	if (rc == 0 && work)
		db_changes_publish(DB_WORK_TYPE);
	return rc;
}

void db_rollback(struct db_conn *c)
{
	drv_of(c)->rollback(c);
	if (tx_conn == c) {
		tx_conn = NULL;
		tx_work = false;
	}
}

/* ---------------------------------------------------------------- changes heard of */

#define SUBSCRIBERS 16
static pthread_mutex_t subs_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
	db_change_cb cb;
	void *ctx;
} subs[SUBSCRIBERS];

void db_changes_subscribe(db_change_cb cb, void *ctx)
{
	pthread_mutex_lock(&subs_mu);
	for (int i = 0; i < SUBSCRIBERS; i++)
		if (!subs[i].cb) {
			subs[i].cb = cb;
			subs[i].ctx = ctx;
			break;
		}
	pthread_mutex_unlock(&subs_mu);
}

void db_changes_unsubscribe(db_change_cb cb, void *ctx)
{
	pthread_mutex_lock(&subs_mu);
	for (int i = 0; i < SUBSCRIBERS; i++)
		if (subs[i].cb == cb && subs[i].ctx == ctx)
			subs[i].cb = NULL;
	pthread_mutex_unlock(&subs_mu);
}

void db_changes_publish(const char *type)
{
	/* under the lock, so that an unsubscribed one is never called after it returned */
	pthread_mutex_lock(&subs_mu);
	for (int i = 0; i < SUBSCRIBERS; i++)
		if (subs[i].cb)
			subs[i].cb(subs[i].ctx, type);
	pthread_mutex_unlock(&subs_mu);
}

int db_work_queued(struct db_conn *c, struct err *e)
{
	if (drv_of(c) == &db_postgres_driver) {
		struct db_params p;
		db_params_init(&p);
		db_p_text(&p, DB_CHANGE_CHANNEL);
		db_p_text(&p, "0 " DB_WORK_TYPE);
		int rc = db_exec(c, "SELECT pg_notify($1, $2)", &p, NULL, NULL, NULL, e);
		if (rc)
			return rc;
	}
	if (tx_conn == c)
		tx_work = true;
	else
		db_changes_publish(DB_WORK_TYPE);
	return 0;
}

int db_exec(struct db_conn *c, const char *sql, const struct db_params *p, db_row_cb cb, void *ctx,
	    int64_t *out_changes, struct err *e)
{
	if (p && p->overflow)
		return err_set(e, ERR_INVALID, "query needs more than %d parameters",
			       DB_MAX_PARAMS);
	return drv_of(c)->exec(c, sql, p, cb, ctx, out_changes, e);
}

int db_short_waits(struct db_conn *c, const struct db *db, int ms, struct err *e)
{
	if (db->kind != DB_POSTGRES)
		return 0;
	char v[24];
	snprintf(v, sizeof(v), "%d", ms);
	struct db_params p;
	db_params_init(&p);
	db_p_text(&p, v);
	return db_exec(c,
		       "SELECT set_config('idle_in_transaction_session_timeout', $1, true), "
		       "set_config('lock_timeout', $1, true)",
		       &p, NULL, NULL, NULL, e);
}

const char *db_now_sql(const struct db *db)
{
	return db->drv->now_sql;
}

const char *db_now_ms_sql(const struct db *db)
{
	return db->drv->now_ms_sql;
}

enum db_driver_kind db_kind(const struct db *db)
{
	return db->kind;
}

const char *db_provider_name(const struct db *db)
{
	return db->drv->name;
}

bool db_can_listen(const struct db *db)
{
	return db->drv->listen_open != NULL;
}

int db_listen(struct db *db, const char *channel, struct db_listener **out, struct err *e)
{
	*out = NULL;
	if (!db->drv->listen_open)
		return err_set(e, ERR_INVALID, "%s has no change notifications", db->drv->name);
	return db->drv->listen_open(&db->cfg, channel, out, e);
}

int db_listen_wait(struct db_listener *l, int timeout_ms, db_notify_cb cb, void *ctx, struct err *e)
{
	return ((struct db_conn_head *)l)->drv->listen_wait(l, timeout_ms, cb, ctx, e);
}

void db_listen_close(struct db_listener *l)
{
	if (l)
		((struct db_conn_head *)l)->drv->listen_close(l);
}

/* ---------------------------------------------------------------- the change log */

static int seq_row(void *ctx, int n, const struct db_value *cols)
{
	if (n > 0 && cols[0].type == DBV_INT)
		*(int64_t *)ctx = cols[0].i;
	return 0;
}

int db_change_log(struct db_conn *c, const char *type, const char *id, const char *op,
		  int64_t *out_seq, struct err *e)
{
	char now[ISO_TIME_LEN + 1];
	time_format_iso(time_now_ms(), now);
	struct db_params p;
	db_params_init(&p);
	db_p_text(&p, type);
	db_p_text(&p, id);
	db_p_text(&p, op);
	db_p_text(&p, now);
	int64_t seq = 0;
	int rc = db_exec(c,
			 "INSERT INTO change_log (object_type, object_id, op, at) VALUES ($1, $2, "
			 "$3, $4) RETURNING seq",
			 &p, seq_row, &seq, NULL, e);
	if (rc == 0 && out_seq)
		*out_seq = seq;
	return rc;
}
