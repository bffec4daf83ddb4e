/* sqlite.c: the embedded SQLite driver (the single-node default).
 *
 * One sqlite3 handle per pooled connection, WAL journal so readers never block the writer,
 * and a busy timeout so writers queue for the lock instead of failing at once. Statements
 * are prepared per call and cached by SQL text in a small per-connection cache. */
#include "db/db_int.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#define STMT_CACHE 32

struct db_conn {
	const struct db_driver *drv; /* must be first: see db.c */
	sqlite3 *h;
	char path[1024];
	struct {
		char *sql;
		sqlite3_stmt *st;
		unsigned long used;
	} cache[STMT_CACHE];
	unsigned long clock;
	struct db_shared *shared;
	bool holds_write; /* this connection holds shared->writers */
};

static void drop_write(struct db_conn *c)
{
	if (c->holds_write) {
		c->holds_write = false;
		pthread_mutex_unlock(&c->shared->writers);
	}
}

static int map_err(struct db_conn *c, int src, const char *what, struct err *e)
{
	int code = ERR_DB;
	int base = src & 0xff;
	if (base == SQLITE_BUSY || base == SQLITE_LOCKED)
		code = ERR_BUSY;
	else if (base == SQLITE_CONSTRAINT)
		code = ERR_CONFLICT;
	else if (base == SQLITE_NOMEM)
		code = ERR_NOMEM;
	if (code == ERR_BUSY)
		return err_set(e, code, "repository database \"%s\" is locked by another process",
			       c->path);
	return err_set(e, code, "repository database error during %s: %s", what,
		       sqlite3_errmsg(c->h));
}

static int s_connect(const struct db_config *cfg, struct db_shared *shared, struct db_conn **out,
		     struct err *e)
{
	*out = NULL;
	struct db_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return err_set(e, ERR_NOMEM, "out of memory");
	c->drv = &db_sqlite_driver;
	c->shared = shared;
	str_copy(c->path, cfg->path, sizeof(c->path));
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	if (cfg->create)
		flags |= SQLITE_OPEN_CREATE;
	int rc = sqlite3_open_v2(cfg->path, &c->h, flags, NULL);
	if (rc != SQLITE_OK) {
		err_set(e, ERR_DB, "cannot open repository database \"%s\": %s", cfg->path,
			c->h ? sqlite3_errmsg(c->h) : sqlite3_errstr(rc));
		sqlite3_close(c->h);
		free(c);
		return ERR_DB;
	}
	sqlite3_busy_timeout(c->h, cfg->busy_timeout_ms > 0 ? cfg->busy_timeout_ms : 5000);
	sqlite3_extended_result_codes(c->h, 1);
	char *msg = NULL;
	rc = sqlite3_exec(c->h,
			  "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
			  "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;",
			  NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		int code = ((rc & 0xff) == SQLITE_BUSY) ? ERR_BUSY : ERR_DB;
		if (code == ERR_BUSY)
			err_set(e, code, "repository database \"%s\" is locked by another process",
				cfg->path);
		else
			err_set(e, code, "cannot set up repository database \"%s\": %s", cfg->path,
				msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		sqlite3_close(c->h);
		free(c);
		return code;
	}
	*out = c;
	return 0;
}

static void s_disconnect(struct db_conn *c)
{
	for (int i = 0; i < STMT_CACHE; i++) {
		sqlite3_finalize(c->cache[i].st);
		free(c->cache[i].sql);
	}
	sqlite3_close(c->h);
	free(c);
}

static int simple(struct db_conn *c, const char *sql, struct err *e)
{
	int rc = sqlite3_exec(c->h, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : map_err(c, rc, sql, e);
}

static int s_begin(struct db_conn *c, bool write, struct err *e)
{
	if (write) {
		pthread_mutex_lock(&c->shared->writers);
		c->holds_write = true;
	}
	int rc = simple(c, write ? "BEGIN IMMEDIATE" : "BEGIN", e);
	if (rc)
		drop_write(c);
	return rc;
}

static int s_commit(struct db_conn *c, struct err *e)
{
	int rc = simple(c, "COMMIT", e);
	if (rc)
		sqlite3_exec(c->h, "ROLLBACK", NULL, NULL, NULL);
	drop_write(c);
	return rc;
}

static void s_rollback(struct db_conn *c)
{
	if (!sqlite3_get_autocommit(c->h))
		sqlite3_exec(c->h, "ROLLBACK", NULL, NULL, NULL);
	drop_write(c);
}

static sqlite3_stmt *cached(struct db_conn *c, const char *sql, int *out_rc)
{
	c->clock++;
	int victim = 0;
	for (int i = 0; i < STMT_CACHE; i++) {
		if (c->cache[i].sql && strcmp(c->cache[i].sql, sql) == 0) {
			c->cache[i].used = c->clock;
			*out_rc = SQLITE_OK;
			return c->cache[i].st;
		}
		if (c->cache[i].used < c->cache[victim].used)
			victim = i;
	}
	sqlite3_stmt *st = NULL;
	*out_rc = sqlite3_prepare_v2(c->h, sql, -1, &st, NULL);
	if (*out_rc != SQLITE_OK)
		return NULL;
	char *copy = strdup(sql);
	if (!copy)
		return st; /* uncached; the caller finalizes statements it cannot find */
	sqlite3_finalize(c->cache[victim].st);
	free(c->cache[victim].sql);
	c->cache[victim].sql = copy;
	c->cache[victim].st = st;
	c->cache[victim].used = c->clock;
	return st;
}

static bool is_cached(struct db_conn *c, sqlite3_stmt *st)
{
	for (int i = 0; i < STMT_CACHE; i++)
		if (c->cache[i].st == st)
			return true;
	return false;
}

static int bind(struct db_conn *c, sqlite3_stmt *st, const struct db_params *p, struct err *e)
{
	int np = sqlite3_bind_parameter_count(st);
	for (int i = 1; i <= np; i++) {
		const char *name = sqlite3_bind_parameter_name(st, i);
		int64_t idx;
		if (!name || name[0] != '$' || str_to_i64(name + 1, 1, DB_MAX_PARAMS, &idx) != 0)
			return err_set(e, ERR_INTERNAL, "bad SQL parameter name \"%s\"",
				       name ? name : "?");
		if (!p || idx > p->n)
			return err_set(e, ERR_INTERNAL, "SQL parameter %s has no value", name);
		const struct db_value *v = &p->v[idx - 1];
		int rc;
		switch (v->type) {
		case DBV_INT: rc = sqlite3_bind_int64(st, i, v->i); break;
		case DBV_REAL: rc = sqlite3_bind_double(st, i, v->d); break;
		case DBV_TEXT:
			rc = sqlite3_bind_text(st, i, v->s, (int)v->len, SQLITE_STATIC);
			break;
		default: rc = sqlite3_bind_null(st, i); break;
		}
		if (rc != SQLITE_OK)
			return map_err(c, rc, "bind", e);
	}
	return 0;
}

static int s_exec(struct db_conn *c, const char *sql, const struct db_params *p, db_row_cb cb,
		  void *ctx, int64_t *out_changes, struct err *e)
{
	int prc;
	sqlite3_stmt *st = cached(c, sql, &prc);
	if (!st)
		return map_err(c, prc, "prepare", e);
	int rc = bind(c, st, p, e);
	struct db_value cols[64];
	while (rc == 0) {
		int s = sqlite3_step(st);
		if (s == SQLITE_DONE)
			break;
		if (s != SQLITE_ROW) {
			rc = map_err(c, s, "query", e);
			break;
		}
		int n = sqlite3_column_count(st);
		if (n > (int)ARRAY_LEN(cols))
			n = (int)ARRAY_LEN(cols);
		for (int i = 0; i < n; i++) {
			struct db_value *v = &cols[i];
			memset(v, 0, sizeof(*v));
			switch (sqlite3_column_type(st, i)) {
			case SQLITE_INTEGER:
				v->type = DBV_INT;
				v->i = sqlite3_column_int64(st, i);
				break;
			case SQLITE_FLOAT:
				v->type = DBV_REAL;
				v->d = sqlite3_column_double(st, i);
				break;
			case SQLITE_NULL: v->type = DBV_NULL; break;
			default:
				v->type = DBV_TEXT;
				v->s = (const char *)sqlite3_column_text(st, i);
				v->len = (size_t)sqlite3_column_bytes(st, i);
				if (!v->s)
					v->type = DBV_NULL;
				break;
			}
		}
		if (cb)
			rc = cb(ctx, n, cols);
	}
	if (rc == 0 && out_changes)
		*out_changes = sqlite3_changes64(c->h);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (!is_cached(c, st))
		sqlite3_finalize(st);
	return rc;
}

/* The portable schema uses a few tokens the drivers replace. */
static char *s_dialect(const char *sql)
{
	static const struct db_token tokens[] = {
	    {"{SERIAL_PK}", "INTEGER PRIMARY KEY AUTOINCREMENT"},
	    {"{BIGINT}", "INTEGER"},
	};
	return db_substitute(sql, tokens, ARRAY_LEN(tokens));
}

static int s_table_exists(struct db_conn *c, const char *table, bool *out, struct err *e)
{
	*out = false;
	struct db_params p;
	db_params_init(&p);
	db_p_text(&p, table);
	return s_exec(c, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $1", &p,
		      db_row_seen, out, NULL, e);
}

static int s_lock_schema(struct db_conn *c, struct err *e)
{
	(void)c;
	(void)e;
	return 0; /* BEGIN IMMEDIATE already holds the only write lock */
}

const struct db_driver db_sqlite_driver = {
    .name = "SQLite",
    .connect = s_connect,
    .disconnect = s_disconnect,
    .begin = s_begin,
    .commit = s_commit,
    .rollback = s_rollback,
    .exec = s_exec,
    .dialect = s_dialect,
    .table_exists = s_table_exists,
    .now_sql = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
    .now_ms_sql = "CAST(ROUND((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER)",
    .lock_schema = s_lock_schema,
};
