/* test_cluster.c: the central-role lease (cluster/lease.c) on a real SQLite repository:
 * who may take it and when, the fencing token that grows with every change of holder and
 * refuses the old holder's writes, moving the role on purpose, and isCentral on the node
 * rows. */
#include "unit_db.h"

#include "cluster/cluster.h"

#define A "aaaaaaaa-0000-4000-8000-000000000001"
#define B "bbbbbbbb-0000-4000-8000-000000000002"
#define C "cccccccc-0000-4000-8000-000000000003"

struct fix {
	char *dir;
	struct db *db;
};

static void exec(struct db *db, const char *sql)
{
	struct err e;
	err_init(&e);
	if (db_exec_once(db, sql, NULL, NULL, NULL, &e) != 0)
		fail_msg("%s: %s", sql, e.message);
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	if (open_tmp_sqlite(&f->dir, &f->db))
		return -1;
	/* A and B are failover candidates, C is not */
	static const char *const nodes[][2] = {{A, "1"}, {B, "1"}, {C, "0"}};
	for (int i = 0; i < 3; i++) {
		char sql[1024];
		snprintf(sql, sizeof(sql),
			 "INSERT INTO servernodeconfiguration (id, created_date, modified_date, "
			 "modified_by, name, host_name, is_central, node_purpose, engine_enabled, "
			 "proxy_enabled, scheduler_enabled, printing_enabled, failover_candidate) "
			 "VALUES ('%s', 'x', 'x', 'x', 'n%d', 'h', 0, 0, 1, 1, 1, 0, %s)",
			 nodes[i][0], i, nodes[i][1]);
		exec(f->db, sql);
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	db_close(f->db);
	rm_tree(f->dir);
	free(f);
	return 0;
}

static int fence(struct db *db, const char *node, int64_t token)
{
	struct err e;
	err_init(&e);
	struct db_conn *c;
	assert_int_equal(db_acquire(db, &c, &e), 0);
	assert_int_equal(db_begin(c, true, &e), 0);
	int rc = cluster_lease_fence(c, node, token, &e);
	db_rollback(c);
	db_release(db, c);
	return rc;
}

static bool is_central(struct db *db, const char *node)
{
	char sql[256];
	bool seen = false;
	struct err e;
	err_init(&e);
	snprintf(sql, sizeof(sql),
		 "SELECT 1 FROM servernodeconfiguration WHERE is_central = 1 AND id = '%s'", node);
	assert_int_equal(db_exec_once(db, sql, NULL, db_row_seen, &seen, &e), 0);
	return seen;
}

static void take_renew_fence_move(void **state)
{
	struct fix *f = *state;
	struct err e;
	err_init(&e);
	struct cluster_lease a = {0}, b = {0}, c = {0};
	/* A takes the free role; B and C find it held */
	assert_int_equal(cluster_lease_tick(f->db, A, &a, &e), 0);
	assert_true(a.held);
	assert_true(cluster_lease_valid(&a));
	assert_int_equal(a.token, 1);
	assert_int_equal(a.ttl_ms, 15000);
	assert_true(is_central(f->db, A));
	assert_int_equal(cluster_lease_tick(f->db, B, &b, &e), 0);
	assert_false(b.held);
	assert_string_equal(b.holder, A);
	/* renewing keeps the token */
	assert_int_equal(cluster_lease_tick(f->db, A, &a, &e), 0);
	assert_int_equal(a.token, 1);
	assert_int_equal(fence(f->db, A, 1), 0);
	assert_int_equal(fence(f->db, B, 1), ERR_STALE);
	/* moved to B on purpose: a new token; A's writes are refused from now on */
	struct db_conn *conn;
	assert_int_equal(db_acquire(f->db, &conn, &e), 0);
	assert_int_equal(cluster_lease_move(f->db, conn, B, 15000, &e), 0);
	db_release(f->db, conn);
	assert_int_equal(fence(f->db, A, 1), ERR_STALE);
	assert_int_equal(cluster_lease_tick(f->db, A, &a, &e), 0);
	assert_false(a.held);
	assert_int_equal(cluster_lease_tick(f->db, B, &b, &e), 0);
	assert_true(b.held);
	assert_int_equal(b.token, 2);
	assert_int_equal(fence(f->db, B, 2), 0);
	assert_true(is_central(f->db, B));
	assert_false(is_central(f->db, A));
	/* expired: C is no candidate and may not take it; A may, with a new token */
	exec(f->db, "UPDATE central_lease SET expires_at = '2000-01-01T00:00:00.000Z'");
	assert_int_equal(cluster_lease_tick(f->db, C, &c, &e), 0);
	assert_false(c.held);
	assert_int_equal(cluster_lease_tick(f->db, A, &a, &e), 0);
	assert_true(a.held);
	assert_int_equal(a.token, 3);
	assert_int_equal(fence(f->db, B, 2), ERR_STALE);
	/* B learns it lost the role at its next renewal */
	assert_int_equal(cluster_lease_tick(f->db, B, &b, &e), 0);
	assert_false(b.held);
	assert_false(cluster_lease_valid(&b));
	/* a clean stop releases it at once for the next candidate */
	cluster_lease_release(f->db, A, &a);
	assert_int_equal(cluster_lease_tick(f->db, B, &b, &e), 0);
	assert_true(b.held);
	assert_int_equal(b.token, 4);
}

static void beat(struct db *db, const char *node, const char *at)
{
	char sql[512];
	snprintf(sql, sizeof(sql),
		 "INSERT INTO node_heartbeat (node_id, at, started_at, version, pid) VALUES ('%s', "
		 "'%s', '%s', 'x', 1) ON CONFLICT (node_id) DO UPDATE SET at = excluded.at",
		 node, at, at);
	exec(db, sql);
}

/* A look tells a node whether it may take the role and whether it is first in line: the
 * living candidate of smallest id other than the holder looks often, the others seldom. */
static void who_looks_often(void **state)
{
	struct fix *f = *state;
	struct err e;
	err_init(&e);
	struct cluster_lease a = {0};
	struct cluster_lease_look l;
	const char *fresh = "2026-01-01T00:00:00.000Z";
	assert_int_equal(cluster_lease_tick(f->db, A, &a, &e), 0);
	assert_true(a.held);
	beat(f->db, A, "2026-06-01T00:00:00.000Z");
	beat(f->db, B, "2026-06-01T00:00:00.000Z");
	beat(f->db, C, "2026-06-01T00:00:00.000Z");
	assert_int_equal(cluster_lease_look(f->db, B, fresh, &l, &e), 0);
	assert_false(l.takeable); /* A holds it, unexpired */
	assert_false(l.mine);
	assert_true(l.first); /* A, of smaller id, is the holder */
	assert_true(l.candidate);
	assert_int_equal(cluster_lease_look(f->db, C, fresh, &l, &e), 0);
	assert_false(l.first); /* no candidate */
	assert_false(l.candidate);
	assert_int_equal(cluster_lease_look(f->db, A, fresh, &l, &e), 0);
	assert_true(l.mine);
	/* expired: a candidate may take it, a non-candidate may not */
	exec(f->db, "UPDATE central_lease SET expires_at = '2000-01-01T00:00:00.000Z'");
	assert_int_equal(cluster_lease_look(f->db, B, fresh, &l, &e), 0);
	assert_true(l.takeable);
	assert_int_equal(cluster_lease_look(f->db, C, fresh, &l, &e), 0);
	assert_false(l.takeable);
	/* B holds it now: A is first in line (no candidate of smaller id) */
	struct cluster_lease b = {0};
	assert_int_equal(cluster_lease_tick(f->db, B, &b, &e), 0);
	assert_true(b.held);
	assert_int_equal(cluster_lease_look(f->db, A, fresh, &l, &e), 0);
	assert_true(l.first);
	assert_false(l.mine);
	/* a third candidate of larger id is not first while A lives, and is once A is stale */
	exec(f->db, "UPDATE servernodeconfiguration SET failover_candidate = 1 WHERE id = '" C "'");
	exec(f->db, "UPDATE central_lease SET holder = NULL");
	assert_int_equal(cluster_lease_look(f->db, C, fresh, &l, &e), 0);
	assert_false(l.first);
	beat(f->db, A, "2025-01-01T00:00:00.000Z");
	beat(f->db, B, "2025-01-01T00:00:00.000Z");
	assert_int_equal(cluster_lease_look(f->db, C, fresh, &l, &e), 0);
	assert_true(l.first);
}

static void ttl_setting(void **state)
{
	struct fix *f = *state;
	struct err e;
	err_init(&e);
	exec(f->db,
	     "INSERT INTO servicecluster (id, created_date, modified_date, modified_by, name, "
	     "settings) VALUES ('dddddddd-0000-4000-8000-000000000004', 'x', 'x', 'x', 'S', "
	     "'{\"persistenceMode\":2,\"sharedPersistenceProperties\":{\"rootFolder\":"
	     "\"/some/long/path/to/make/the/settings/longer/than/two/hundred/and/fifty/six/"
	     "characters/which/they/are/in/practice/with/all/the/share/folders/listed\"},"
	     "\"centralRoleTtlSeconds\":6}')");
	int64_t ttl = 0;
	assert_int_equal(cluster_lease_ttl(f->db, &ttl, &e), 0);
	assert_int_equal(ttl, 6000);
	struct cluster_lease a = {0};
	assert_int_equal(cluster_lease_tick(f->db, A, &a, &e), 0);
	assert_int_equal(a.ttl_ms, 6000);
	/* out of range: the default */
	exec(f->db, "UPDATE servicecluster SET settings = '{\"centralRoleTtlSeconds\":1}'");
	assert_int_equal(cluster_lease_ttl(f->db, &ttl, &e), 0);
	assert_int_equal(ttl, 15000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(take_renew_fence_move, setup, teardown),
	    cmocka_unit_test_setup_teardown(ttl_setting, setup, teardown),
	    cmocka_unit_test_setup_teardown(who_looks_often, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
