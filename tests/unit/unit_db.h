/* unit_db.h: a fresh SQLite repository database in a fresh temporary folder. */
#ifndef FATHOM_UNIT_DB_H
#define FATHOM_UNIT_DB_H

#include "unit.h"

#include "db/db.h"
#include "ops/ops.h"

/* Creates the folder (*dir, for rm_tree) and opens r.db in it with the current schema and a
 * pool of two connections. Returns 0, or -1 when the database does not open. */
static inline int open_tmp_sqlite(char **dir, struct db **db)
{
	*dir = make_tmpdir();
	char path[4200];
	snprintf(path, sizeof(path), "%s/r.db", *dir);
	struct db_config cfg = {
	    .kind = DB_SQLITE, .schema = ops_schema, .path = path, .pool_size = 2, .create = true};
	struct err e;
	err_init(&e);
	return db_open(&cfg, db, &e) ? -1 : 0;
}

#endif
