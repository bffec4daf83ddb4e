/* ops.h: the administrator's commands, wiring the modules together: creating a site and
 * running a node. Each takes the arguments after its command words and returns the
 * process exit status (0 ok, 1 failure, 2 usage error), printing errors to stderr. */
#ifndef FATHOM_OPS_H
#define FATHOM_OPS_H

#include "core/core.h"

int ops_site_create(int argc, char **argv);
int ops_node_run(int argc, char **argv);
int ops_secret(int argc, char **argv);
int ops_pg_config(int argc, char **argv);
int ops_node_join(int argc, char **argv);
int ops_config(int argc, char **argv);
int ops_node_approve(int argc, char **argv);
int ops_node_remove(int argc, char **argv);
int ops_db(int argc, char **argv);
int ops_app(int argc, char **argv);
int ops_task(int argc, char **argv);
int ops_monitoring(int argc, char **argv);
int ops_user(int argc, char **argv);
int ops_reload_worker(int argc, char **argv);
int ops_script(int argc, char **argv);
int ops_backup(int argc, char **argv);
int ops_restore(int argc, char **argv);
int ops_migrate(int argc, char **argv);

/* Prints an error (message, detail, hint) to stderr as "fathom: ...". */
void ops_print_err(const struct err *e);

/* The site's schema: every module's migrations, lower layers first (db_config.schema). */
extern const struct db_migration *const ops_schema[];

#endif
