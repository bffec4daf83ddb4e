/* lease.c: the central role as a lease row (central_lease, id 1) with a fencing token.
 *
 * Every comparison uses the database's clock, read at the start of an attempt, so node
 * clocks do not matter. The holder acts only until its monotonic clock says the lease it
 * last renewed could have expired (less a margin); a candidate takes the role only after
 * the database's clock passed expires_at, which is later. So two nodes never both act, and
 * a node that comes back from a pause finds its token refused by cluster_lease_fence. */
#include "cluster/cluster.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct text {
	char *out;
	size_t n;
};

static int text_row(void *ctx, int n, const struct db_value *c)
{
	struct text *t = ctx;
	if (n > 0 && c[0].type == DBV_TEXT)
		str_copy(t->out, c[0].s, t->n);
	return 0;
}

/* A JSON text column, parsed into the json_t * at ctx (NULL when it is not JSON). */
static int json_row(void *ctx, int n, const struct db_value *c)
{
	json_t **out = ctx;
	if (n > 0 && c[0].type == DBV_TEXT && !*out)
		*out = json_loads(c[0].s, 0, NULL);
	return 0;
}

/* The database's clock now, in ms. */
int cluster_db_clock(struct db_conn *c, const struct db *db, int64_t *out, struct err *e)
{
	char sql[256], now[256] = "";
	snprintf(sql, sizeof(sql), "SELECT %s", db_now_sql(db));
	struct text t = {now, sizeof(now)};
	int rc = db_exec(c, sql, NULL, text_row, &t, NULL, e);
	if (rc == 0 && time_parse_iso(now, out) != 0)
		rc = err_set(e, ERR_DB, "the database's clock reads \"%s\"", now);
	return rc;
}

/* The database's clock now, and a lease of `ttl_ms` from now, as ISO text. */
static int lease_times(struct db_conn *c, const struct db *db, int64_t ttl_ms,
		       char now[ISO_TIME_LEN + 1], char until[ISO_TIME_LEN + 1], struct err *e)
{
	int64_t now_ms = 0;
	int rc = cluster_db_clock(c, db, &now_ms, e);
	if (rc == 0) {
		time_format_iso(now_ms, now);
		time_format_iso(now_ms + ttl_ms, until);
	}
	return rc;
}

/* cluster_settings on connection c. */
static int settings_on(struct db_conn *c, json_t **out, struct err *e)
{
	json_t *j = NULL;
	int rc = db_exec(c, "SELECT settings FROM servicecluster ORDER BY created_date LIMIT 1",
			 NULL, json_row, &j, NULL, e);
	if (rc == 0 && !json_is_object(j)) {
		json_decref(j);
		j = json_object();
	}
	*out = rc == 0 ? j : NULL;
	if (rc)
		json_decref(j);
	return rc;
}

int cluster_settings(struct db *db, json_t **out, struct err *e)
{
	*out = NULL;
	struct db_conn *c;
	int rc = db_acquire(db, &c, e);
	if (rc)
		return rc;
	rc = settings_on(c, out, e);
	db_release(db, c);
	return rc;
}

/* cluster_lease_ttl on connection c. */
static int ttl_on(struct db_conn *c, int64_t *out_ms, struct err *e)
{
	*out_ms = 15000;
	json_t *j = NULL;
	int rc = settings_on(c, &j, e);
	if (rc)
		return rc;
	json_t *v = json_object_get(j, "centralRoleTtlSeconds");
	if (json_is_integer(v) && json_integer_value(v) >= 3 && json_integer_value(v) <= 3600)
		*out_ms = json_integer_value(v) * 1000;
	json_decref(j);
	return 0;
}

int cluster_lease_ttl(struct db *db, int64_t *out_ms, struct err *e)
{
	*out_ms = 15000;
	struct db_conn *c;
	int rc = db_acquire(db, &c, e);
	if (rc)
		return rc;
	rc = ttl_on(c, out_ms, e);
	db_release(db, c);
	return rc;
}

struct lease_row {
	bool seen;
	int64_t token;
	char holder[UUID_STR_LEN + 1];
};

static int lease_row(void *ctx, int n, const struct db_value *c)
{
	struct lease_row *r = ctx;
	r->seen = true;
	if (n > 0 && c[0].type == DBV_INT)
		r->token = c[0].i;
	if (n > 1 && c[1].type == DBV_TEXT)
		str_copy(r->holder, c[1].s, sizeof(r->holder));
	return 0;
}

/* The ids of the node rows whose isCentral changes, NUL-separated. */
static int collect_id(void *ctx, int n, const struct db_value *cols)
{
	if (n >= 1 && cols[0].type == DBV_TEXT)
		return buf_append(ctx, cols[0].s, strlen(cols[0].s) + 1);
	return 0;
}

/* isCentral on every node row agrees with the holder; changed rows are logged so caches
 * and other nodes see them. */
static int mark_central(struct db_conn *c, const struct db *db, const char *node_id,
			const char *now, struct err *e)
{
	struct db_params p;
	db_params_init(&p);
	db_p_text(&p, node_id);
	db_p_text(&p, now);
	struct db_params q; /* the select takes the node alone (PostgreSQL counts them) */
	db_params_init(&q);
	db_p_text(&q, node_id);
	struct buf ids;
	buf_init(&ids, 1 << 20);
	int rc = db_exec(c,
			 "SELECT id FROM servernodeconfiguration WHERE is_central <> (CASE WHEN "
			 "id = $1 THEN 1 ELSE 0 END)",
			 &q, collect_id, &ids, NULL, e);
	int64_t changed = 0;
	for (size_t at = 0; rc == 0 && at < ids.len; at += strlen(ids.data + at) + 1, changed++)
		rc = db_change_log(c, "ServerNodeConfiguration", ids.data + at, "update", NULL, e);
	buf_release(&ids);
	if (rc == 0 && changed > 0)
		rc = db_exec(c,
			     "UPDATE servernodeconfiguration SET is_central = (CASE WHEN id = $1 "
			     "THEN 1 ELSE 0 END), modified_date = $2 WHERE is_central <> (CASE "
			     "WHEN id = $1 THEN 1 ELSE 0 END)",
			     &p, NULL, NULL, NULL, e);
	if (rc == 0 && changed > 0 && db_kind(db) == DB_POSTGRES)
		rc = db_exec(c, "SELECT pg_notify('" DB_CHANGE_CHANNEL "', '*')", NULL, NULL, NULL,
			     NULL, e);
	return rc;
}

int cluster_lease_tick(struct db *db, const char *node_id, struct cluster_lease *l, struct err *e)
{
	int64_t t0 = time_mono_ms();
	int64_t ttl = 15000;
	/* PostgreSQL: on the lease's own connection (struct cluster_lease), else the pool's */
	bool own = db_kind(db) == DB_POSTGRES;
	struct db_conn *c = NULL;
	int rc = 0;
	if (own && !l->conn)
		rc = db_own_open(db, "lease", &l->conn, e);
	if (rc == 0 && own)
		c = l->conn;
	else if (rc == 0)
		rc = db_acquire(db, &c, e);
	if (rc == 0)
		rc = ttl_on(c, &ttl, e);
	char now[ISO_TIME_LEN + 1] = "", until[ISO_TIME_LEN + 1] = "";
	if (rc == 0)
		rc = lease_times(c, db, ttl, now, until, e);
	struct lease_row row = {0};
	bool began = false;
	if (rc == 0)
		rc = db_begin(c, true, e);
	began = rc == 0;
	if (rc == 0)
		rc = cluster_lease_guard(c, db, e);
	if (rc == 0) {
		struct db_params p;
		db_params_init(&p);
		db_p_text(&p, node_id);
		db_p_text(&p, now);
		db_p_text(&p, until);
		/* PostgreSQL: the role is also free when the server process of the holder's
		 * connection is gone (the holder died: the kernel closed its sockets), so a
		 * candidate need not wait for the expiry. A paused or cut-off holder keeps its
		 * connections open and is waited out. Fencing keeps this safe either way. */
		bool pg = db_kind(db) == DB_POSTGRES;
		char sql[1024];
		snprintf(
		    sql, sizeof(sql),
		    "UPDATE central_lease SET token = CASE WHEN holder = $1 THEN token ELSE "
		    "token + 1 END, changed_at = CASE WHEN holder = $1 THEN changed_at ELSE $2 "
		    "END, holder = $1, expires_at = $3, holder_pid = %s WHERE id = 1 AND "
		    "(holder = $1 OR ((expires_at < $2 OR %s) AND EXISTS (SELECT 1 FROM "
		    "servernodeconfiguration WHERE id = $1 AND failover_candidate = 1))) "
		    "RETURNING token, holder",
		    pg ? "pg_backend_pid()" : "NULL",
		    pg ? "(holder_pid IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "
			 "pg_stat_activity a WHERE a.pid = central_lease.holder_pid))"
		       : "0 = 1");
		rc = db_exec(c, sql, &p, lease_row, &row, NULL, e);
	}
	if (rc == 0 && row.seen && (!l->held || l->token != row.token))
		rc = mark_central(c, db, node_id, now, e);
	struct lease_row cur = {0};
	if (rc == 0 && !row.seen)
		rc = db_exec(c, "SELECT token, holder FROM central_lease WHERE id = 1", NULL,
			     lease_row, &cur, NULL, e);
	if (began)
		rc = rc ? (db_rollback(c), rc) : db_commit(c, e);
	if (c && !own)
		db_release(db, c);
	l->ttl_ms = ttl;
	if (rc) {
		if (l->held && time_mono_ms() >= l->valid_until) {
			l->held = false;
			log_warn("central role: could not renew the lease in time (%s); this node "
				 "steps down",
				 e->message);
		}
		return rc;
	}
	if (row.seen) {
		if (!l->held || l->token != row.token)
			log_info("central role: this node holds it (token %lld)",
				 (long long)row.token);
		l->held = true;
		l->token = row.token;
		/* others may take it once the database's clock passes now + ttl: stop a second
		 * before our own clock could get there */
		l->valid_until = t0 + ttl - (ttl / 10 > 1000 ? ttl / 10 : 1000);
		str_copy(l->holder, node_id, sizeof(l->holder));
	} else {
		if (l->held)
			log_warn("central role: node %s holds it now (token %lld); this node "
				 "steps down",
				 cur.holder[0] ? cur.holder : "(none)", (long long)cur.token);
		l->held = false;
		str_copy(l->holder, cur.holder, sizeof(l->holder));
	}
	return 0;
}

static int look_row(void *ctx, int n, const struct db_value *c)
{
	struct cluster_lease_look *l = ctx;
	if (n >= 4) {
		l->takeable = c[0].type == DBV_INT && c[0].i != 0;
		l->mine = c[1].type == DBV_INT && c[1].i != 0;
		l->first = c[2].type == DBV_INT && c[2].i != 0;
		l->candidate = c[3].type == DBV_INT && c[3].i != 0;
	}
	return 0;
}

int cluster_lease_look(struct db *db, const char *node_id, const char *fresh_iso,
		       struct cluster_lease_look *out, struct err *e)
{
	*out = (struct cluster_lease_look){0};
	bool pg = db_kind(db) == DB_POSTGRES;
	char sql[1400];
	/* first in line: a candidate with no other candidate of smaller id alive and not the
	 * holder (one that finds nobody before it counts as first: someone looks often) */
	snprintf(sql, sizeof(sql),
		 "WITH me AS (SELECT EXISTS (SELECT 1 FROM servernodeconfiguration WHERE id = $1 "
		 "AND failover_candidate = 1) AS cand) SELECT CASE WHEN me.cand AND (l.expires_at "
		 "< %s OR %s) THEN 1 ELSE 0 END, CASE WHEN l.holder = $1 THEN 1 ELSE 0 END, CASE "
		 "WHEN me.cand AND NOT EXISTS (SELECT 1 FROM servernodeconfiguration n JOIN "
		 "node_heartbeat h ON h.node_id = n.id WHERE n.failover_candidate = 1 AND n.id < "
		 "$1 AND (l.holder IS NULL OR n.id <> l.holder) AND h.at >= $2) THEN 1 ELSE 0 END "
		 ", CASE WHEN me.cand THEN 1 ELSE 0 END FROM central_lease l, me WHERE l.id = 1",
		 db_now_sql(db),
		 pg ? "(l.holder_pid IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a "
		      "WHERE a.pid = l.holder_pid))"
		    : "0 = 1");
	struct db_params p;
	db_params_init(&p);
	db_p_text(&p, node_id);
	db_p_text(&p, fresh_iso);
	return db_exec_once(db, sql, &p, look_row, out, e);
}

bool cluster_lease_valid(const struct cluster_lease *l)
{
	return l->held && time_mono_ms() < l->valid_until;
}

int cluster_lease_guard(struct db_conn *c, const struct db *db, struct err *e)
{
	return db_short_waits(c, db, 3000, e);
}

int cluster_lease_fence(struct db_conn *c, const char *node_id, int64_t token, struct err *e)
{
	struct db_params p;
	db_params_init(&p);
	db_p_text(&p, node_id);
	db_p_int(&p, token);
	int64_t n = 0;
	int rc = db_exec(c,
			 "UPDATE central_lease SET token = token WHERE id = 1 AND holder = $1 AND "
			 "token = $2",
			 &p, NULL, NULL, &n, e);
	if (rc == 0 && n != 1)
		rc = err_set(e, ERR_STALE,
			     "the central role's token %lld is no longer this node's (fenced)",
			     (long long)token);
	return rc;
}

/* Nodes look at the role seldom unless told: a change of holder tells them at once
 * (PostgreSQL; on SQLite there is one node). */
static int notify_lease(struct db_conn *c, const struct db *db, struct err *e)
{
	if (db_kind(db) != DB_POSTGRES)
		return 0;
	return db_exec(c, "SELECT pg_notify('" DB_CHANGE_CHANNEL "', '0 ServerNodeConfiguration')",
		       NULL, NULL, NULL, NULL, e);
}

int cluster_lease_move(struct db *db, struct db_conn *c, const char *node_id, int64_t ttl_ms,
		       struct err *e)
{
	char now[ISO_TIME_LEN + 1], until[ISO_TIME_LEN + 1];
	int rc = lease_times(c, db, ttl_ms, now, until, e);
	if (rc)
		return rc;
	struct db_params p;
	db_params_init(&p);
	db_p_text(&p, node_id);
	db_p_text(&p, now);
	db_p_text(&p, until);
	rc = db_exec(c,
		     "UPDATE central_lease SET holder = $1, token = token + 1, changed_at = $2, "
		     "expires_at = $3 WHERE id = 1",
		     &p, NULL, NULL, NULL, e);
	return rc ? rc : notify_lease(c, db, e);
}

/* The role given up: expired at once, and the candidates told. */
static void release_row(struct db *db, const char *node_id, const struct cluster_lease *l)
{
	struct db_params p;
	db_params_init(&p);
	db_p_text(&p, node_id);
	db_p_int(&p, l->token);
	struct err e;
	err_init(&e);
	if (db_exec_once(db,
			 "UPDATE central_lease SET expires_at = '1970-01-01T00:00:00.000Z' WHERE "
			 "id = 1 AND holder = $1 AND token = $2",
			 &p, NULL, NULL, &e) != 0) {
		log_warn("central role: could not release the lease: %s", e.message);
		return;
	}
	log_info("central role: released");
	struct db_conn *c;
	if (db_acquire(db, &c, &e) == 0) {
		(void)notify_lease(c, db, &e); /* else candidates find it free at their next look */
		db_release(db, c);
	}
}

void cluster_lease_release(struct db *db, const char *node_id, struct cluster_lease *l)
{
	if (l->held)
		release_row(db, node_id, l);
	db_own_close(db, l->conn);
	l->conn = NULL;
}
