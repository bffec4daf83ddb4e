/* schema.c: the scheduler's table, as its part of the numbered schema migrations (see
 * db/db.h). */
#include "sched/sched.h"

/* 6: trigger_fire keeps every firing's (trigger, fire time) for good, so a trigger fires
 * once even across a failover. */
static const char v6[] =
    "CREATE TABLE trigger_fire (trigger_id TEXT NOT NULL, fire_time TEXT NOT NULL, "
    "session_id TEXT NOT NULL, token {BIGINT} NOT NULL, node_id TEXT NOT NULL, PRIMARY KEY "
    "(trigger_id, fire_time));\n";

const struct db_migration sched_migrations[] = {
    {6, v6},
    {0, NULL},
};
