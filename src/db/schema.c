/* schema.c: the migrations of the tables db itself owns, and the runner's view of a
 * schema: the version it reaches.
 *
 * A schema is the modules' migration lists (repo_migrations, cluster_migrations,
 * sched_migrations), each a module's part of each numbered version. db_open applies the
 * missing versions in one transaction, each version's parts in the order given, after db's
 * own part. */
#include "db/db_int.h"

/* 1: the schema's version, and the change log every write appends to (db_change_log). */
const struct db_migration db_own_migrations[] = {
    {1, "CREATE TABLE schema_version (version INTEGER NOT NULL);\n"
	"INSERT INTO schema_version (version) VALUES (0);\n"
	"CREATE TABLE change_log (seq {SERIAL_PK}, object_type TEXT NOT NULL, object_id TEXT NOT "
	"NULL, op TEXT NOT NULL, at TEXT NOT NULL);\n"},
    {0, NULL},
};

int db_schema_latest(const struct db_migration *const *schema)
{
	int v = 0;
	for (const struct db_migration *m = db_own_migrations; m->sql; m++)
		v = m->version > v ? m->version : v;
	for (int i = 0; schema && schema[i]; i++)
		for (const struct db_migration *m = schema[i]; m->sql; m++)
			v = m->version > v ? m->version : v;
	return v;
}
