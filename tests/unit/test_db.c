/* test_db.c: the db interface over the SQLite driver: parameters, transactions, errors,
 * and schema versions. */
#include "unit_db.h"

#include "db/db.h"

struct ctx {
	int rows;
	int64_t sum;
	char text[64];
};

static int row(void *p, int n, const struct db_value *c)
{
	struct ctx *x = p;
	x->rows++;
	if (n > 0 && c[0].type == DBV_INT)
		x->sum += c[0].i;
	if (n > 1 && c[1].type == DBV_TEXT)
		snprintf(x->text, sizeof(x->text), "%s", c[1].s);
	return 0;
}

/* The fixture: a new SQLite repository in a temporary folder and one connection. */
struct fix {
	char *dir;
	struct db *db;
	struct db_conn *c;
};

static int fix_setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	struct err e;
	err_init(&e);
	if (open_tmp_sqlite(&f->dir, &f->db) || db_acquire(f->db, &f->c, &e))
		return -1;
	*state = f;
	return 0;
}

static int fix_teardown(void **state)
{
	struct fix *f = *state;
	if (f->c)
		db_release(f->db, f->c);
	db_close(f->db);
	rm_tree(f->dir);
	free(f);
	return 0;
}

static void params_and_rows(void **state)
{
	struct fix *f = *state;
	struct err e;
	err_init(&e);
	assert_int_equal(db_schema_latest(ops_schema), 11);
	struct db_conn *c = f->c;
	struct db_params p;
	db_params_init(&p);
	db_p_int(&p, 7);
	db_p_text(&p, "it's");
	db_p_null(&p);
	struct ctx x = {0};
	/* $2 used twice binds the same value; quotes in values are data, never SQL. */
	assert_int_equal(db_exec(c, "SELECT $1 + 1, $2 || $2, $3 IS NULL", &p, row, &x, NULL, &e),
			 0);
	assert_int_equal(x.rows, 1);
	assert_int_equal(x.sum, 8);
	assert_string_equal(x.text, "it'sit's");
	db_params_init(&p);
	assert_int_equal(db_exec(c, "SELECT $1", &p, NULL, NULL, NULL, &e), ERR_INTERNAL);
	err_init(&e);
	assert_int_equal(db_exec(c, "SELEKT", NULL, NULL, NULL, NULL, &e), ERR_DB);
	db_params_init(&p);
	for (int i = 0; i <= DB_MAX_PARAMS; i++)
		db_p_int(&p, i);
	assert_true(p.overflow);
	err_init(&e);
	assert_int_equal(db_exec(c, "SELECT 1", &p, NULL, NULL, NULL, &e), ERR_INVALID);
}

static void transactions(void **state)
{
	struct fix *f = *state;
	struct err e;
	err_init(&e);
	struct db_conn *c = f->c;
	assert_int_equal(db_begin(c, true, &e), 0);
	struct db_params p;
	db_params_init(&p);
	db_p_text(&p, "t1");
	int64_t changed = 0;
	assert_int_equal(
	    db_exec(c,
		    "INSERT INTO tag (id, created_date, modified_date, modified_by, name) "
		    "VALUES ($1, 'd', 'd', 'u', 'n')",
		    &p, NULL, NULL, &changed, &e),
	    0);
	assert_int_equal(changed, 1);
	db_rollback(c);
	struct ctx x = {0};
	assert_int_equal(db_exec(c, "SELECT count(*) FROM tag", NULL, row, &x, NULL, &e), 0);
	assert_int_equal(x.sum, 0);
	/* A unique violation maps to ERR_CONFLICT. */
	assert_int_equal(db_begin(c, true, &e), 0);
	const char *ins = "INSERT INTO tag (id, created_date, modified_date, modified_by, name) "
			  "VALUES ($1, 'd', 'd', 'u', 'n')";
	assert_int_equal(db_exec(c, ins, &p, NULL, NULL, NULL, &e), 0);
	assert_int_equal(db_exec(c, ins, &p, NULL, NULL, NULL, &e), ERR_CONFLICT);
	assert_int_equal(db_commit(c, &e), 0);
	x = (struct ctx){0};
	assert_int_equal(db_exec(c, "SELECT count(*) FROM tag", NULL, row, &x, NULL, &e), 0);
	assert_int_equal(x.sum, 1);
}

/* What db_work_queued tells this process's subscribers: after the commit, not after a
 * rollback, at once outside a transaction; never after unsubscribing. */
static void heard(void *ctx, const char *type)
{
	if (strcmp(type, DB_WORK_TYPE) == 0)
		(*(int *)ctx)++;
}

static void work_heard_after_commit(void **state)
{
	struct fix *f = *state;
	struct err e;
	err_init(&e);
	int n = 0;
	db_changes_subscribe(heard, &n);
	assert_int_equal(db_begin(f->c, true, &e), 0);
	assert_int_equal(db_work_queued(f->c, &e), 0);
	assert_int_equal(n, 0); /* not before the commit: a runner would find nothing */
	assert_int_equal(db_commit(f->c, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(db_begin(f->c, true, &e), 0);
	assert_int_equal(db_work_queued(f->c, &e), 0);
	db_rollback(f->c);
	assert_int_equal(n, 1);
	assert_int_equal(db_begin(f->c, true, &e), 0); /* a commit that queued nothing */
	assert_int_equal(db_commit(f->c, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(db_work_queued(f->c, &e), 0); /* no transaction: at once */
	assert_int_equal(n, 2);
	db_changes_publish("SchemaEvent");
	assert_int_equal(n, 2);
	db_changes_unsubscribe(heard, &n);
	db_changes_publish(DB_WORK_TYPE);
	assert_int_equal(n, 2);
}

static void newer_schema_refused(void **state)
{
	struct fix *f = *state;
	struct err e;
	err_init(&e);
	assert_int_equal(
	    db_exec(f->c, "UPDATE schema_version SET version = 50", NULL, NULL, NULL, NULL, &e), 0);
	/* Close the fixture's repository so that it opens again from scratch. */
	db_release(f->db, f->c);
	f->c = NULL;
	db_close(f->db);
	f->db = NULL;
	char path[4200];
	snprintf(path, sizeof(path), "%s/r.db", f->dir);
	struct db_config cfg = {.kind = DB_SQLITE, .schema = ops_schema, .path = path};
	struct db *db = NULL;
	assert_int_equal(db_open(&cfg, &db, &e), ERR_SCHEMA);
	assert_null(db);
	assert_non_null(strstr(e.message, "newer than this fathom"));
	/* A missing file is not created unless asked. */
	snprintf(path, sizeof(path), "%s/none.db", f->dir);
	err_init(&e);
	assert_int_equal(db_open(&cfg, &db, &e), ERR_DB);
	assert_null(db);
}

static void postgres_unreachable(void **state)
{
	(void)state;
	struct db_config cfg = {.kind = DB_POSTGRES,
				.schema = ops_schema,
				.conninfo = "host=127.0.0.1 port=1 connect_timeout=2 dbname=x"};
	struct db *db = NULL;
	struct err e;
	err_init(&e);
	assert_int_equal(db_open(&cfg, &db, &e), ERR_UNAVAILABLE);
	assert_null(db);
	assert_non_null(strstr(e.message, "cannot connect to the repository database"));
	int version = -1;
	err_init(&e);
	assert_int_equal(db_check(&cfg, &version, &e), ERR_UNAVAILABLE);
	assert_int_equal(version, 0);
}

static void conninfo_split(void **state)
{
	(void)state;
	struct err e;
	err_init(&e);
	char *bare, *pw;
	assert_int_equal(
	    db_pg_split_password("postgresql://u:p%40ss@h:5432/d?sslmode=require", &bare, &pw, &e),
	    0);
	assert_string_equal(pw, "p@ss");
	assert_null(strstr(bare, "p@ss"));
	assert_non_null(strstr(bare, "dbname='d'"));
	assert_non_null(strstr(bare, "sslmode='require'"));
	free(bare);
	free(pw);
	assert_int_equal(db_pg_split_password("host=h dbname='it\\'s'", &bare, &pw, &e), 0);
	assert_null(pw);
	assert_non_null(strstr(bare, "dbname='it\\'s'"));
	free(bare);
	assert_int_equal(db_pg_split_password("host=h nonsense", &bare, &pw, &e), ERR_CONFIG);
	assert_null(bare);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(params_and_rows, fix_setup, fix_teardown),
	    cmocka_unit_test_setup_teardown(transactions, fix_setup, fix_teardown),
	    cmocka_unit_test_setup_teardown(work_heard_after_commit, fix_setup, fix_teardown),
	    cmocka_unit_test_setup_teardown(newer_schema_refused, fix_setup, fix_teardown),
	    cmocka_unit_test(postgres_unreachable),
	    cmocka_unit_test(conninfo_split),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
