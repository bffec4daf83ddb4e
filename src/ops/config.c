/* config.c: `fathom config show|set`: a node's database settings and share paths. `set`
 * checks the new settings before it saves anything (the database answers and holds this
 * site; every share folder exists and is writable) and says exactly what failed. */
#include "crypto/crypto.h"
#include "db/db.h"
#include "ops/ops_int.h"
#include "repo/repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: fathom config show --dir DIR\n"
    "       fathom config set --dir DIR KEY=VALUE...\n"
    "\n"
    "Shows or changes this node's database settings and share paths. Keys:\n"
    "  database.host database.port database.user database.dbname database.sslmode\n"
    "  database.sslrootcert          (PostgreSQL sites; the password: fathom secret set)\n"
    "  database.KEYWORD              any other libpq keyword (target_session_attrs, ...)\n"
    "  share.root                    where the site's share is mounted on this node\n"
    "  share.apps share.static_content share.archived_logs share.custom_data\n"
    "                                this node's own folder instead of the service\n"
    "                                cluster's (set the site's in the console or with\n"
    "                                PUT /qrs/servicecluster/{id})\n"
    "`set` connects with the new settings and checks the share folders first; nothing is\n"
    "saved unless all of it works. Restart the node to use them.\n";

static const char *const share_keys[] = {"share.root", "share.apps", "share.static_content",
					 "share.archived_logs", "share.custom_data"};

static int show(const struct conf *cf, const char *dir)
{
	printf("database.driver = %s\n", conf_get(cf, "database.driver", "sqlite"));
	if (conf_get(cf, "database.conninfo", NULL)) {
		printf("database.conninfo = %s\n", conf_get(cf, "database.conninfo", ""));
		printf("database.password = %s\n", conf_get(cf, "database.password", NULL)
						       ? "(sealed; fathom secret show)"
						       : "(none)");
	} else {
		printf("database.path = %s\n", conf_get(cf, "database.path", ""));
	}
	printf("share.root = %s\n", conf_get(cf, "share.root", ""));
	/* the folders this node uses: its own or the service cluster's */
	struct db *db = NULL;
	struct ops_share os = {0};
	struct err e;
	err_init(&e);
	bool known =
	    ops_open_node_db(cf, dir, &db, &e) == 0 && ops_share_resolve(cf, db, &os, &e) == 0;
	db_close(db);
	const char *paths[OPS_SHARE_FOLDERS] = {os.sp.apps, os.sp.static_content,
						os.sp.archived_logs, os.sp.custom_data};
	for (int i = 0; i < OPS_SHARE_FOLDERS; i++) {
		const char *own = conf_get(cf, ops_share_keys[i][0], NULL);
		if (own)
			printf("%s = %s (this node's own)\n", ops_share_keys[i][0], own);
		else if (known)
			printf("%s = %s (the service cluster's)\n", ops_share_keys[i][0], paths[i]);
		else
			printf("%s = (the service cluster's; the database does not answer: %s)\n",
			       ops_share_keys[i][0], e.message);
	}
	ops_share_release(&os);
	return 0;
}

/* Applies KEY=VALUE arguments to `cf` (in memory). */
static int apply(struct conf *cf, int n, char **args, struct err *e)
{
	for (int i = 0; i < n; i++) {
		char *eq = strchr(args[i], '=');
		if (!eq || eq == args[i])
			return err_set(e, ERR_INVALID, "\"%s\" is not KEY=VALUE", args[i]);
		*eq = '\0';
		const char *key = args[i], *value = eq + 1;
		if (str_has_ctl(value, false))
			return err_set(e, ERR_INVALID, "the value of %s has control characters",
				       key);
		bool is_share = false;
		for (size_t k = 0; k < ARRAY_LEN(share_keys); k++)
			is_share |= strcmp(key, share_keys[k]) == 0;
		if (is_share) {
			if (value[0] != '/')
				return err_set(e, ERR_INVALID, "%s must be an absolute path", key);
			conf_set(cf, key, value);
			continue;
		}
		if (strncmp(key, "database.", 9) != 0 || strcmp(key, "database.password") == 0 ||
		    strcmp(key, "database.driver") == 0)
			return err_set(e, ERR_INVALID, "\"%s\" cannot be set here%s", key,
				       strcmp(key, "database.password") == 0
					   ? " (use fathom secret set)"
					   : "");
		const char *conninfo = conf_get(cf, "database.conninfo", NULL);
		if (!conninfo)
			return err_set(e, ERR_INVALID,
				       "this node uses the embedded SQLite repository: "
				       "it has no %s",
				       key);
		char *next = NULL;
		int rc = db_pg_conninfo_set(conninfo, key + 9, value, &next, e);
		if (rc)
			return rc;
		conf_set(cf, "database.conninfo", next);
		free(next);
	}
	return 0;
}

/* The checks a new configuration must pass before it is saved. */
static int check(const struct conf *cf, const char *dir, struct err *e)
{
	for (size_t k = 0; k < ARRAY_LEN(share_keys); k++) {
		const char *p = conf_get(cf, share_keys[k], NULL);
		if (p && !dir_is_writable(p))
			return err_set(e, ERR_CONFIG,
				       "%s: \"%s\" is not a writable folder (is the "
				       "share mounted?)",
				       share_keys[k], p);
	}
	struct ops_db odb;
	int rc = ops_db_from_conf(cf, dir, &odb, e);
	int version = 0;
	if (rc == 0)
		rc = db_check(&odb.cfg, &version, e);
	if (rc == 0 && version == 0)
		rc = err_set(e, ERR_CONFIG, "the database answers but holds no Fathom site");
	if (rc == 0) {
		struct db *db = NULL;
		bool site = false;
		odb.cfg.pool_size = 1;
		if (version <= db_schema_latest(ops_schema) &&
		    (rc = db_open(&odb.cfg, &db, e)) == 0)
			rc = repo_site_exists(db, &site, e);
		db_close(db);
		if (rc == 0 && !site)
			rc =
			    err_set(e, ERR_CONFIG, "the database answers but holds no Fathom site");
	}
	ops_db_release(&odb);
	return rc;
}

int ops_config(int argc, char **argv)
{
	bool set;
	const char *dir;
	int first;
	int st = ops_parse_show_set(argc, argv, usage, &set, &dir, &first);
	if (st >= 0)
		return st;
	if ((set && first >= argc) || (!set && first < argc)) {
		fputs(usage, stderr);
		return 2;
	}
	struct err e;
	err_init(&e);
	char conf_path[PATH_MAX];
	snprintf(conf_path, sizeof(conf_path), "%s/node.conf", dir);
	struct conf *cf = NULL;
	int rc = conf_load(conf_path, &cf, &e);
	if (rc == 0 && !set)
		rc = show(cf, dir);
	if (rc == 0 && set && (rc = apply(cf, argc - first, argv + first, &e)) == 0 &&
	    (rc = check(cf, dir, &e)) == 0 && (rc = conf_save(cf, conf_path, &e)) == 0)
		fprintf(stderr, "saved; restart the node to use the new settings\n");
	conf_free(cf);
	if (rc) {
		ops_print_err(&e);
		if (set)
			fprintf(stderr, "fathom: node.conf was not changed\n");
	}
	return rc ? 1 : 0;
}
