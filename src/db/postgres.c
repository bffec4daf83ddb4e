/* postgres.c: the PostgreSQL driver (libpq), for sites whose nodes share one database.
 *
 * Parameters travel as text with their types inferred by the server; results come back
 * as text and are typed by column OID (integers and booleans as DBV_INT). SQLSTATEs map to
 * Fathom's codes: unique and foreign-key violations are conflicts, serialisation failures
 * and deadlocks are ERR_BUSY, and a lost connection is ERR_UNAVAILABLE, after which the
 * next call on the connection tries to reconnect. */
#include "db/db_int.h"

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct db_conn {
	const struct db_driver *drv; /* must be first: see db.c */
	PGconn *pg;
	struct db_shared *shared; /* the pool's, or `own` for a connection outside one */
	struct db_shared own;
};

/* A database that does not answer (a cut network, a host gone) costs a caller the
 * connect or TCP time-out, seconds. After one such failure the pool's other callers fail
 * at once (503) for HOLD_MS; then one caller tries again while the rest keep failing at
 * once, and the first success ends it. A quick failure (refused) holds nobody off. */
#define HOLD_MS	 1000
#define SLOW_MS	 1000
#define PROBE_MS 6000

static bool may_try(struct db_shared *s)
{
	int64_t until = atomic_load(&s->down_until_ms);
	if (until == 0)
		return true;
	int64_t now = time_mono_ms();
	return now >= until &&
	       atomic_compare_exchange_strong(&s->down_until_ms, &until, now + PROBE_MS);
}

static void answered(struct db_shared *s)
{
	if (atomic_load(&s->down_until_ms))
		atomic_store(&s->down_until_ms, 0);
}

/* A connection-level failure that took `t0`..now: slow means the database is away. A
 * quick one (refused, starting up) ends a probe's claim: trying costs little then. */
static void failed_since(struct db_shared *s, int64_t t0)
{
	int64_t now = time_mono_ms();
	if (now - t0 >= SLOW_MS)
		atomic_store(&s->down_until_ms, now + HOLD_MS);
	else if (atomic_load(&s->down_until_ms) - now > HOLD_MS)
		atomic_store(&s->down_until_ms, 0);
}

static int held_off(struct err *e)
{
	return err_set(e, ERR_UNAVAILABLE,
		       "the repository database is unreachable: it did not answer moments ago");
}

/* The first line of libpq's message, without the "FATAL:  " decoration. */
static void first_line(const char *msg, char *out, size_t n)
{
	if (!msg)
		msg = "";
	if (strncmp(msg, "FATAL:  ", 8) == 0)
		msg += 8;
	else if (strncmp(msg, "ERROR:  ", 8) == 0)
		msg += 8;
	size_t len = strcspn(msg, "\n");
	if (len >= n)
		len = n - 1;
	memcpy(out, msg, len);
	out[len] = '\0';
}

/* libpq prints server notices (and the text of a connection the server ended) to stderr;
 * they go to the log instead. */
static void on_notice(void *arg, const char *message)
{
	(void)arg;
	char line[400];
	first_line(message, line, sizeof(line));
	log_debug("repository database: %s", line);
}

static int p_connect(const struct db_config *cfg, struct db_shared *shared, struct db_conn **out,
		     struct err *e)
{
	/* PostgreSQL queues its writers itself: `shared` only holds callers off */
	*out = NULL;
	struct db_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return err_set(e, ERR_NOMEM, "out of memory");
	c->drv = &db_postgres_driver;
	atomic_init(&c->own.down_until_ms, 0);
	c->shared = shared = shared ? shared : &c->own;
	if (!may_try(shared)) {
		free(c);
		return held_off(e);
	}
	int64_t t0 = time_mono_ms();
	/* A default connect timeout (the connection string may set its own: the expanded
	 * dbname comes later and wins), so an unreachable host cannot hang a request. */
	/* Keepalives notice a database host that vanished without closing connections (a
	 * failed-over primary, a cut network) in about 10 s rather than the kernel's hours;
	 * tcp_user_timeout does the same for a query sent and never acknowledged, which
	 * keepalives do not cover (a request waited 15 minutes of retransmissions for its
	 * BEGIN while the node was cut from the database). */
	const char *const keys[] = {"connect_timeout",
				    "application_name",
				    "keepalives_idle",
				    "keepalives_interval",
				    "keepalives_count",
				    "tcp_user_timeout",
				    "dbname",
				    cfg->password ? "password" : NULL,
				    NULL};
	const char *const vals[] = {"5",	   cfg->app_name ? cfg->app_name : "fathom",
				    "4",	   "2",
				    "3",	   "4000",
				    cfg->conninfo, cfg->password,
				    NULL};
	c->pg = PQconnectdbParams(keys, vals, 1);
	if (!c->pg || PQstatus(c->pg) != CONNECTION_OK) {
		failed_since(shared, t0);
		char line[400];
		first_line(c->pg ? PQerrorMessage(c->pg) : "out of memory", line, sizeof(line));
		err_set(e, ERR_UNAVAILABLE, "cannot connect to the repository database: %s", line);
		PQfinish(c->pg);
		free(c);
		return ERR_UNAVAILABLE;
	}
	answered(shared);
	PQsetNoticeProcessor(c->pg, on_notice, NULL);
	/* Every session works in UTC and answers errors in English. */
	PGresult *r = PQexec(c->pg, "SET TIME ZONE 'UTC'; SET lc_messages TO 'C'");
	PQclear(r);
	*out = c;
	return 0;
}

static void p_disconnect(struct db_conn *c)
{
	PQfinish(c->pg);
	free(c);
}

/* Connects `c` again, in place (PQreset), unless the pool is held off. */
static int reopen(struct db_conn *c, struct err *e)
{
	if (!may_try(c->shared))
		return held_off(e);
	int64_t t0 = time_mono_ms();
	PQreset(c->pg);
	if (PQstatus(c->pg) == CONNECTION_OK) {
		answered(c->shared);
		PGresult *r = PQexec(c->pg, "SET TIME ZONE 'UTC'; SET lc_messages TO 'C'");
		PQclear(r);
		return 0;
	}
	failed_since(c->shared, t0);
	char line[400];
	first_line(PQerrorMessage(c->pg), line, sizeof(line));
	return err_set(e, ERR_UNAVAILABLE, "the repository database is unreachable: %s", line);
}

/* Reconnects a connection that the server or the network dropped. */
static int ensure_open(struct db_conn *c, struct err *e)
{
	return PQstatus(c->pg) == CONNECTION_OK ? 0 : reopen(c, e);
}

static int map_result(struct db_conn *c, PGresult *r, struct err *e)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	char line[400];
	first_line(r ? PQresultErrorMessage(r) : PQerrorMessage(c->pg), line, sizeof(line));
	if (!line[0])
		first_line(PQerrorMessage(c->pg), line, sizeof(line));
	if (PQstatus(c->pg) != CONNECTION_OK || (state && strncmp(state, "08", 2) == 0) ||
	    (state && strncmp(state, "57P", 3) == 0))
		return err_set(e, ERR_UNAVAILABLE, "the repository database is unreachable: %s",
			       line);
	if (state && (strcmp(state, "23505") == 0 || strcmp(state, "23503") == 0))
		return err_set(e, ERR_CONFLICT, "repository database constraint: %s", line);
	if (state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
		      strcmp(state, "55P03") == 0))
		return err_set(e, ERR_BUSY, "repository database busy: %s", line);
	return err_set(e, ERR_DB, "repository database error: %s", line);
}

static int simple(struct db_conn *c, const char *sql, struct err *e)
{
	int rc = ensure_open(c, e);
	if (rc)
		return rc;
	int64_t t0 = time_mono_ms();
	PGresult *r = PQexec(c->pg, sql);
	if (PQstatus(c->pg) != CONNECTION_OK)
		failed_since(c->shared, t0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = map_result(c, r, e);
	PQclear(r);
	return rc;
}

static int p_begin(struct db_conn *c, bool write, struct err *e)
{
	(void)write; /* writers are ordered by row locks and the conditional updates */
	struct err first;
	err_init(&first);
	if (PQstatus(c->pg) == CONNECTION_OK && atomic_load(&c->shared->down_until_ms) &&
	    time_mono_ms() < atomic_load(&c->shared->down_until_ms))
		return held_off(e); /* this connection would wait out the same time-out */
	int64_t t0 = time_mono_ms();
	int rc = simple(c, "BEGIN", &first);
	if (rc == ERR_UNAVAILABLE && time_mono_ms() - t0 < SLOW_MS) {
		/* A pooled connection may have died while the database was away (it fails at
		 * once); BEGIN is the first statement of a transaction, so one retry on a fresh
		 * connection is safe. One that timed out would only time out again. */
		rc = reopen(c, e);
		if (rc == 0)
			rc = simple(c, "BEGIN", e);
	} else if (rc) {
		*e = first;
	}
	return rc;
}

static int p_commit(struct db_conn *c, struct err *e)
{
	int rc = simple(c, "COMMIT", e);
	if (rc && PQstatus(c->pg) == CONNECTION_OK && PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
		PGresult *r = PQexec(c->pg, "ROLLBACK");
		PQclear(r);
	}
	return rc;
}

static void p_rollback(struct db_conn *c)
{
	if (PQstatus(c->pg) == CONNECTION_OK && PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
		PGresult *r = PQexec(c->pg, "ROLLBACK");
		PQclear(r);
	}
}

static enum db_vtype type_of(Oid oid)
{
	switch (oid) {
	case 16: /* bool */
	case 20: /* int8 */
	case 21: /* int2 */
	case 23: /* int4 */
	case 26: /* oid */ return DBV_INT;
	case 700: /* float4 */
	case 701: /* float8 */
	case 1700: /* numeric */ return DBV_REAL;
	default: return DBV_TEXT;
	}
}

static int p_exec(struct db_conn *c, const char *sql, const struct db_params *p, db_row_cb cb,
		  void *ctx, int64_t *out_changes, struct err *e)
{
	int rc = ensure_open(c, e);
	if (rc)
		return rc;
	int n = p ? p->n : 0;
	const char *values[DB_MAX_PARAMS];
	char nums[DB_MAX_PARAMS][32];
	for (int i = 0; i < n; i++) {
		const struct db_value *v = &p->v[i];
		switch (v->type) {
		case DBV_INT:
			snprintf(nums[i], sizeof(nums[i]), "%lld", (long long)v->i);
			values[i] = nums[i];
			break;
		case DBV_REAL:
			snprintf(nums[i], sizeof(nums[i]), "%.17g", v->d);
			values[i] = nums[i];
			break;
		case DBV_TEXT: values[i] = v->s; break;
		default: values[i] = NULL; break;
		}
	}
	int64_t t0 = time_mono_ms();
	PGresult *r = PQexecParams(c->pg, sql, n, NULL, values, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);
	if (PQstatus(c->pg) != CONNECTION_OK)
		failed_since(c->shared, t0);
	if (st == PGRES_COMMAND_OK) {
		if (out_changes) {
			int64_t ch = 0;
			const char *t = PQcmdTuples(r);
			if (t && *t && str_to_i64(t, 0, INT64_MAX, &ch) != 0)
				ch = 0;
			*out_changes = ch;
		}
	} else if (st == PGRES_TUPLES_OK) {
		int rows = PQntuples(r), cols = PQnfields(r);
		if (cols > 64)
			cols = 64;
		enum db_vtype types[64];
		for (int j = 0; j < cols; j++)
			types[j] = type_of(PQftype(r, j));
		struct db_value vals[64];
		for (int i = 0; i < rows && rc == 0; i++) {
			for (int j = 0; j < cols; j++) {
				struct db_value *v = &vals[j];
				memset(v, 0, sizeof(*v));
				if (PQgetisnull(r, i, j)) {
					v->type = DBV_NULL;
					continue;
				}
				const char *s = PQgetvalue(r, i, j);
				v->type = types[j];
				if (v->type == DBV_INT) {
					if (PQftype(r, j) == 16)
						v->i = s[0] == 't';
					else if (str_to_i64(s, INT64_MIN, INT64_MAX, &v->i) != 0)
						v->i = 0;
				} else if (v->type == DBV_REAL) {
					v->d = strtod(s, NULL);
				} else {
					v->s = s;
					v->len = (size_t)PQgetlength(r, i, j);
				}
			}
			if (cb)
				rc = cb(ctx, cols, vals);
		}
		if (out_changes)
			*out_changes = rows;
	} else {
		rc = map_result(c, r, e);
	}
	PQclear(r);
	return rc;
}

static int p_table_exists(struct db_conn *c, const char *table, bool *out, struct err *e)
{
	*out = false;
	int rc = ensure_open(c, e);
	if (rc)
		return rc;
	const char *values[1] = {table};
	PGresult *r = PQexecParams(c->pg, "SELECT to_regclass($1) IS NOT NULL", 1, NULL, values,
				   NULL, NULL, 0);
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		*out = PQgetvalue(r, 0, 0)[0] == 't';
	else
		rc = map_result(c, r, e);
	PQclear(r);
	return rc;
}

static int p_lock_schema(struct db_conn *c, struct err *e)
{
	/* Nodes starting together migrate one at a time. */
	PGresult *r = PQexec(c->pg, "SELECT pg_advisory_xact_lock(4242)");
	int rc = PQresultStatus(r) == PGRES_TUPLES_OK ? 0 : map_result(c, r, e);
	PQclear(r);
	return rc;
}

/* ---------------------------------------------------------------- notifications */

/* A listener is a connection of its own; its head is the same as a pooled one's. */
struct db_listener {
	const struct db_driver *drv;
	PGconn *pg;
};

static int p_listen_open(const struct db_config *cfg, const char *channel, struct db_listener **out,
			 struct err *e)
{
	*out = NULL;
	struct db_config lc = *cfg;
	char app[128];
	snprintf(app, sizeof(app), "%s listener", cfg->app_name ? cfg->app_name : "fathom");
	lc.app_name = app;
	struct db_conn *c;
	int rc = p_connect(&lc, NULL, &c, e);
	if (rc)
		return rc;
	char *ident = PQescapeIdentifier(c->pg, channel, strlen(channel));
	char sql[200];
	snprintf(sql, sizeof(sql), "LISTEN %s", ident ? ident : "\"\"");
	PQfreemem(ident);
	rc = simple(c, sql, e);
	if (rc) {
		p_disconnect(c);
		return rc;
	}
	struct db_listener *l = calloc(1, sizeof(*l));
	if (!l) {
		p_disconnect(c);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	l->drv = &db_postgres_driver;
	l->pg = c->pg;
	free(c);
	*out = l;
	return 0;
}

static int p_listen_wait(struct db_listener *l, int timeout_ms, db_notify_cb cb, void *ctx,
			 struct err *e)
{
	int fd = PQsocket(l->pg);
	if (fd < 0 || PQstatus(l->pg) != CONNECTION_OK)
		return err_set(e, ERR_UNAVAILABLE, "the listening connection is closed");
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int n = poll(&p, 1, timeout_ms);
	if (n < 0 && errno != EINTR)
		return err_set(e, ERR_UNAVAILABLE, "poll: %s", strerror(errno));
	bool lost = n > 0 && !PQconsumeInput(l->pg);
	/* What arrived before a drop still counts. */
	PGnotify *nt;
	while ((nt = PQnotifies(l->pg)) != NULL) {
		cb(ctx, nt->extra ? nt->extra : "");
		PQfreemem(nt);
	}
	if (lost) {
		char line[400];
		first_line(PQerrorMessage(l->pg), line, sizeof(line));
		return err_set(e, ERR_UNAVAILABLE, "the listening connection dropped: %s", line);
	}
	if (PQstatus(l->pg) != CONNECTION_OK)
		return err_set(e, ERR_UNAVAILABLE, "the listening connection dropped");
	return 0;
}

static void p_listen_close(struct db_listener *l)
{
	PQfinish(l->pg);
	free(l);
}

static char *p_dialect(const char *sql)
{
	static const struct db_token tokens[] = {
	    {"{SERIAL_PK}", "BIGSERIAL PRIMARY KEY"},
	    {"{BIGINT}", "BIGINT"},
	};
	return db_substitute(sql, tokens, ARRAY_LEN(tokens));
}

const struct db_driver db_postgres_driver = {
    .name = "PostgreSQL",
    .connect = p_connect,
    .disconnect = p_disconnect,
    .begin = p_begin,
    .commit = p_commit,
    .rollback = p_rollback,
    .exec = p_exec,
    .dialect = p_dialect,
    .table_exists = p_table_exists,
    .now_sql = "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')",
    .now_ms_sql = "(extract(epoch FROM now()) * 1000)::BIGINT",
    .lock_schema = p_lock_schema,
    .listen_open = p_listen_open,
    .listen_wait = p_listen_wait,
    .listen_close = p_listen_close,
};

/* Rebuilds a connection string from parsed options, leaving out `skip` and writing
 * `key` as `value` (when key is not NULL). */
static char *rebuild(PQconninfoOption *opts, const char *skip, const char *key, const char *value,
		     bool *out_key_known)
{
	struct buf b;
	buf_init(&b, 1 << 16);
	int rc = 0;
	for (PQconninfoOption *o = opts; o->keyword && rc == 0; o++) {
		const char *v = o->val;
		if (key && strcmp(o->keyword, key) == 0) {
			v = value && *value ? value : NULL;
			*out_key_known = true;
		}
		if (!v || (skip && strcmp(o->keyword, skip) == 0))
			continue;
		rc = buf_printf(&b, "%s%s='", b.len ? " " : "", o->keyword);
		for (; *v && rc == 0; v++)
			rc = buf_printf(&b, "%s%c", (*v == '\'' || *v == '\\') ? "\\" : "", *v);
		if (rc == 0)
			rc = buf_puts(&b, "'");
	}
	if (rc) {
		buf_release(&b);
		return NULL;
	}
	return buf_steal(&b);
}

static PQconninfoOption *parse(const char *conninfo, struct err *e)
{
	char *msg = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &msg);
	if (!opts) {
		char line[300];
		first_line(msg ? msg : "out of memory", line, sizeof(line));
		PQfreemem(msg);
		err_set(e, ERR_CONFIG, "the database connection string does not parse: %s", line);
	}
	return opts;
}

int db_pg_conninfo_set(const char *conninfo, const char *key, const char *value, char **out,
		       struct err *e)
{
	*out = NULL;
	PQconninfoOption *opts = parse(conninfo, e);
	if (!opts)
		return ERR_CONFIG;
	bool known = false;
	char *s = rebuild(opts, "password", key, value, &known);
	PQconninfoFree(opts);
	if (!known) {
		free(s);
		return err_set(e, ERR_CONFIG, "\"%s\" is not a PostgreSQL connection setting", key);
	}
	if (!s)
		return err_set(e, ERR_CONFIG, "the database connection string is too long");
	*out = s;
	return 0;
}

int db_pg_split_password(const char *conninfo, char **out_conninfo, char **out_password,
			 struct err *e)
{
	*out_conninfo = NULL;
	*out_password = NULL;
	PQconninfoOption *opts = parse(conninfo, e);
	if (!opts)
		return ERR_CONFIG;
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val)
			*out_password = strdup(o->val);
	bool unused = false;
	char *s = rebuild(opts, "password", NULL, NULL, &unused);
	PQconninfoFree(opts);
	if (!s) {
		free(*out_password);
		*out_password = NULL;
		return err_set(e, ERR_CONFIG, "the database connection string is too long");
	}
	*out_conninfo = s;
	return 0;
}
