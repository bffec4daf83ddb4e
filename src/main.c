/* main.c: command-line dispatch. Every command lives in ops/; the table below names them,
 * and the usage is printed from it. */
#include "ops/ops.h"

#include <stdio.h>
#include <string.h>

static int print_version(int argc, char **argv);
static int print_help(int argc, char **argv);

/* A command is one word, or a word and a subcommand ("node join"). The function gets the
 * arguments from the last command word on (argv[0] is that word). A command without help
 * text is internal and not listed. */
static const struct command {
	const char *word, *sub;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
    {"site", "create", ops_site_create, "create a new site with one node"},
    {"node", "join", ops_node_join, "add this machine to a site on PostgreSQL"},
    {"node", "approve", ops_node_approve, "approve a joining node"},
    {"node", "remove", ops_node_remove, "remove a node from the site"},
    {"run", NULL, ops_node_run, "run a node"},
    {"config", NULL, ops_config, "show or change the database settings and share paths"},
    {"secret", NULL, ops_secret, "show or replace the sealed database password"},
    {"pg-config", NULL, ops_pg_config, "print the PostgreSQL settings a site needs"},
    {"db", NULL, ops_db, "start, stop or check a site's own PostgreSQL"},
    {"app", NULL, ops_app, "write an app file, or add an app to a site"},
    {"task", NULL, ops_task, "list reload tasks, start one and follow its log"},
    {"monitoring", NULL, ops_monitoring, "add the monitoring app and its hourly reload task"},
    {"user", NULL, ops_user, "add people who sign in, set their passwords, remove them"},
    {"script", NULL, ops_script, "list the functions load scripts and charts may use"},
    {"backup", NULL, ops_backup, "back up a running site, or verify a backup"},
    {"restore", NULL, ops_restore, "make a new site from a backup"},
    {"migrate", NULL, ops_migrate,
     "move a single-node SQLite site to PostgreSQL and a shared share"},
    {"version", NULL, print_version, "print the version"},
    {"help", NULL, print_help, "show this help"},
    {"reload-worker", NULL, ops_reload_worker, NULL}, /* run by a node, not by people */
};

static void usage(FILE *out)
{
	fputs("usage: fathom <command> [options]\n\n"
	      "Fathom is an associative analytics server. Commands:\n\n",
	      out);
	for (size_t i = 0; i < ARRAY_LEN(commands); i++) {
		const struct command *c = &commands[i];
		if (!c->help)
			continue;
		char name[32];
		snprintf(name, sizeof(name), "%s%s%s", c->word, c->sub ? " " : "",
			 c->sub ? c->sub : "");
		fprintf(out, "  %-13s %s\n", name, c->help);
	}
	fputs("\nRun `fathom <command> --help` for a command's options.\n", out);
}

static int print_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("fathom %s\n", FATHOM_VERSION);
	return 0;
}

static int print_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	usage(stdout);
	return 0;
}

/* "join or approve": the subcommands of `word`. */
static void list_subs(const char *word, char *out, size_t n)
{
	size_t at = 0, k = 0, total = 0;
	for (size_t i = 0; i < ARRAY_LEN(commands); i++)
		total += commands[i].sub && strcmp(commands[i].word, word) == 0;
	out[0] = '\0';
	for (size_t i = 0; i < ARRAY_LEN(commands) && at < n; i++) {
		if (!commands[i].sub || strcmp(commands[i].word, word) != 0)
			continue;
		k++;
		int w = snprintf(out + at, n - at, "%s%s",
				 k == 1	      ? ""
				 : k == total ? " or "
					      : ", ",
				 commands[i].sub);
		at += w > 0 ? (size_t)w : 0;
	}
}

int main(int argc, char **argv)
{
	/* the commands that hold an app's data in memory: a node, and its reload workers */
	if (argc >= 2 && (strcmp(argv[1], "run") == 0 || strcmp(argv[1], "reload-worker") == 0))
		proc_huge_malloc(argv);
	json_use_huge_pages();
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0)
		cmd = "help";
	else if (strcmp(cmd, "--version") == 0)
		cmd = "version";
	bool has_subs = false;
	for (size_t i = 0; i < ARRAY_LEN(commands); i++) {
		const struct command *c = &commands[i];
		if (strcmp(c->word, cmd) != 0)
			continue;
		if (!c->sub)
			return c->fn(argc - 1, argv + 1);
		has_subs = true;
		if (argc >= 3 && strcmp(argv[2], c->sub) == 0)
			return c->fn(argc - 2, argv + 2);
	}
	if (has_subs) {
		char subs[256];
		list_subs(cmd, subs, sizeof(subs));
		fprintf(stderr, "fathom: %s takes a subcommand: %s\n", cmd, subs);
		return 2;
	}
	fprintf(stderr, "fathom: unknown command \"%s\"\n", cmd);
	usage(stderr);
	return 2;
}
