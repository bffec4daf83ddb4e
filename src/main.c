/* main.c: command-line dispatch. Every command lives in ops/. */
#include "ops/ops.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: fathom <command> [options]\n"
    "\n"
    "Fathom is an associative analytics server. Commands:\n"
    "\n"
    "  site create   create a new site with one node (fathom site create --help)\n"
    "  node join     add this machine to a site on PostgreSQL (fathom node join --help)\n"
    "  node approve  approve a joining node (fathom node approve --help)\n"
    "  run           run a node (fathom run --help)\n"
    "  config        show or change the database settings and share paths (fathom config --help)\n"
    "  secret        show or replace the sealed database password (fathom secret --help)\n"
    "  pg-config     print the PostgreSQL settings a site needs (fathom pg-config --help)\n"
    "  db            start, stop or check a site's own PostgreSQL (fathom db --help)\n"
    "  app           write an app file, or add an app to a site (fathom app --help)\n"
    "  task          list reload tasks, start one and follow its log (fathom task --help)\n"
    "  version       print the version\n"
    "  help          show this help\n"
    "\n"
    "Run `fathom <command> --help` for a command's options.\n";

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("fathom %s\n", FATHOM_VERSION);
		return 0;
	}
	if (strcmp(cmd, "node") == 0) {
		if (argc >= 3 && strcmp(argv[2], "join") == 0)
			return ops_node_join(argc - 2, argv + 2);
		if (argc >= 3 && strcmp(argv[2], "approve") == 0)
			return ops_node_approve(argc - 2, argv + 2);
		fprintf(stderr, "fathom: node takes a subcommand: join or approve\n");
		return 2;
	}
	if (strcmp(cmd, "reload-worker") == 0)
		return ops_reload_worker(argc - 1, argv + 1);
	if (strcmp(cmd, "app") == 0)
		return ops_app(argc - 1, argv + 1);
	if (strcmp(cmd, "task") == 0)
		return ops_task(argc - 1, argv + 1);
	if (strcmp(cmd, "db") == 0)
		return ops_db(argc - 1, argv + 1);
	if (strcmp(cmd, "config") == 0)
		return ops_config(argc - 1, argv + 1);
	if (strcmp(cmd, "pg-config") == 0)
		return ops_pg_config(argc - 1, argv + 1);
	if (strcmp(cmd, "secret") == 0)
		return ops_secret(argc - 1, argv + 1);
	if (strcmp(cmd, "run") == 0)
		return ops_node_run(argc - 1, argv + 1);
	if (strcmp(cmd, "site") == 0) {
		if (argc >= 3 && strcmp(argv[2], "create") == 0)
			return ops_site_create(argc - 2, argv + 2);
		fprintf(stderr, "fathom: site takes a subcommand: create\n"
				"usage: fathom site create --dir DIR --share SHARE [options]\n");
		return 2;
	}
	fprintf(stderr, "fathom: unknown command \"%s\"\n%s", cmd, usage);
	return 2;
}
