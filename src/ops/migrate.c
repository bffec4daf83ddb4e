/* migrate.c: `fathom migrate`, a single-node site on SQLite made a site on PostgreSQL that
 * other nodes can join, with its share moved to a network share if asked.
 *
 * The steps, each checked before the next: the node is stopped (its lock is held
 * throughout, so it cannot start meanwhile); the target database holds no site; a backup
 * of the site is made beside the node folder and verified against its manifest; the share's
 * files are copied into the new share (each hashed as it is copied) and the repository's
 * rows into the database in one transaction, with their ids; the rows of every table are
 * counted on both sides. Only then is node.conf switched to the new database and share, in
 * one atomic write: until that step the SQLite site is as it was, and after it the old
 * repository.db stays in the node folder, unused. A run that stops anywhere can be run
 * again: a database with Fathom's tables and no site or this same site (its service
 * cluster's id), a new share marked as this migration's, and the scratch folder named
 * after the site are taken as what the stopped run left. Crash points migrate-share and
 * migrate-rows (docs/testing.md) stop it after the files and after the rows. */
#include "ops/ops_int.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
    "usage: fathom migrate --dir DIR --to-db URL [--to-share SHARE] [--quiet]\n"
    "\n"
    "Moves the single-node site in DIR (on its embedded SQLite repository) to the PostgreSQL\n"
    "database of URL, which must hold no site, and with --to-share its share's files to\n"
    "SHARE (new or empty; the network share the other nodes will mount). The node must be\n"
    "stopped. Every row and file is copied and checked before node.conf changes, in its\n"
    "last step; if anything fails the site is left as it was, and the command can be run\n"
    "again. Afterwards start the node with fathom run, and add nodes with fathom node join.\n";

#define MARKER ".fathom-migrating"

/* Rows per table in a backup's repository.jsonl: a line naming a table and its columns,
 * then a line per row. */
static int dump_counts(const char *from, json_t *counts, struct err *e)
{
	char path[PATH_MAX + 128];
	snprintf(path, sizeof(path), "%s/repository.jsonl", from);
	FILE *f = fopen(path, "r");
	if (!f)
		return err_set(e, ERR_IO, "cannot read %s: %s", path, strerror(errno));
	char *line = NULL;
	size_t cap = 0;
	const char *table = NULL;
	int rc = 0;
	while (rc == 0 && getline(&line, &cap, f) > 0) {
		if (strncmp(line, "{\"table\":", 9) == 0) {
			json_t *head = json_loads(line, 0, NULL);
			const char *name = json_string_value(json_object_get(head, "table"));
			if (!name)
				rc = err_set(e, ERR_INVALID, "%s: a bad table line", path);
			else
				json_object_set_new(counts, name, json_integer(0));
			table =
			    name ? json_object_iter_key(json_object_iter_at(counts, name)) : NULL;
			json_decref(head);
		} else if (table) {
			json_t *n = json_object_get(counts, table);
			json_integer_set(n, json_integer_value(n) + 1);
		}
	}
	free(line);
	fclose(f);
	return rc;
}

static int count_row(void *ctx, int n, const struct db_value *v)
{
	if (n > 0 && v[0].type == DBV_INT)
		*(int64_t *)ctx = v[0].i;
	return 0;
}

/* Every table's rows in the database against the backup's. */
static int check_counts(struct db *db, json_t *counts, struct err *e)
{
	const char *table;
	json_t *want;
	json_object_foreach (counts, table, want) {
		char sql[160];
		int64_t got = -1;
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM \"%s\"", table);
		int rc = db_exec_once(db, sql, NULL, count_row, &got, e);
		if (rc)
			return rc;
		if (got != json_integer_value(want))
			return err_set(e, ERR_INTERNAL,
				       "table %s has %lld rows in the new database where the site "
				       "has %lld: nothing was switched",
				       table, (long long)got, (long long)json_integer_value(want));
	}
	return 0;
}

static int text_row(void *ctx, int n, const struct db_value *v)
{
	if (n > 0 && v[0].type == DBV_TEXT)
		str_copy(ctx, v[0].s, UUID_STR_LEN + 1);
	return 0;
}

/* The id of the site's service cluster in `db` ("" without one). */
static int cluster_id(struct db *db, char out[UUID_STR_LEN + 1], struct err *e)
{
	out[0] = '\0';
	return db_exec_once(db, "SELECT id FROM servicecluster ORDER BY created_date LIMIT 1", NULL,
			    text_row, out, e);
}

/* The target: PostgreSQL that answers and holds no site, or holds this very site (same
 * service cluster id: what a run that stopped after its rows went in left), and is
 * filled again; Fathom's tables without a site are what an earlier stop left too. */
static int check_target(const char *url, const char *ours, struct db_config *pg, struct err *e)
{
	char *bare = NULL, *password = NULL;
	int rc = db_pg_split_password(url, &bare, &password, e);
	pg->kind = DB_POSTGRES;
	pg->schema = ops_schema;
	pg->conninfo = bare;
	pg->password = password;
	pg->pool_size = 1;
	int version = 0;
	if (rc == 0)
		rc = db_check(pg, &version, e);
	if (rc == 0 && version > db_schema_latest(ops_schema))
		rc = err_set(e, ERR_SCHEMA,
			     "the database has a newer Fathom schema (%d): it is another site's",
			     version);
	if (rc == 0 && version > 0) {
		struct db *db = NULL;
		char theirs[UUID_STR_LEN + 1] = "";
		if ((rc = db_open(pg, &db, e)) == 0)
			rc = cluster_id(db, theirs, e);
		db_close(db);
		if (rc == 0 && theirs[0] && strcmp(theirs, ours) != 0) {
			rc = err_set(e, ERR_EXISTS, "the database holds a Fathom site already");
			err_hint(e,
				 "migrate into an empty database (CREATE DATABASE ... OWNER ...)");
		}
	}
	return rc;
}

/* The new share: new, empty, or marked as this migration's (then emptied again). */
static int prepare_share(const char *share, struct share_paths *sp, char bufs[4][PATH_MAX],
			 struct err *e)
{
	char marker[PATH_MAX];
	snprintf(marker, sizeof(marker), "%s/" MARKER, share);
	struct stat st;
	if (stat(marker, &st) == 0) {
		ops_remove_tree(share); /* what an interrupted run copied */
	} else if (!ops_empty_or_missing(share)) {
		return err_set(e, ERR_EXISTS, "%s is not empty: the site's files go to a new share",
			       share);
	}
	static const char *const names[] = {"Apps", "StaticContent", "ArchivedLogs", "CustomData"};
	for (int i = 0; i < 4; i++)
		snprintf(bufs[i], PATH_MAX, "%s/%s", share, names[i]);
	*sp = (struct share_paths){share, bufs[0], bufs[1], bufs[2], bufs[3]};
	int rc = share_layout_create(sp, e);
	if (rc == 0)
		rc = file_write_atomic(marker, "fathom migrate\n", 15, 0600, e);
	return rc;
}

/* node.conf pointed at the new database (its password sealed) and share, in one write. */
static int switch_conf(const char *dir, struct conf *cf, const char *url, const char *share,
		       struct err *e)
{
	bool made_key = false;
	int rc = ops_conf_postgres(cf, dir, url, &made_key, e);
	if (rc)
		return rc;
	conf_unset(cf, "database.path");
	if (share) {
		conf_set(cf, "share.root", share);
		for (int i = 0; i < OPS_SHARE_FOLDERS; i++)
			conf_unset(cf, ops_share_keys[i][0]);
	}
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/node.conf", dir);
	return conf_save(cf, path, e);
}

/* The scratch folder beside the node folder, named after the site so that a later run
 * removes what a stopped one left. */
static int make_scratch(const char *dir, const char *ours, char *scratch, size_t n, struct err *e)
{
	char parent[PATH_MAX];
	char *adir = ops_absolute(dir);
	snprintf(parent, sizeof(parent), "%s", adir ? adir : dir);
	free(adir);
	char *slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = '\0';
	int len = snprintf(scratch, n, "%s/.fathom-migrate-%s", parent, ours);
	if (len < 0 || (size_t)len >= n) {
		scratch[0] = '\0';
		return err_set(e, ERR_INVALID,
			       "the path of %s is too long for a scratch folder beside it", dir);
	}
	ops_remove_tree(scratch);
	if (mkdir(scratch, 0700) == 0)
		return 0;
	int rc = err_set(e, ERR_IO, "cannot make %s: %s", scratch, strerror(errno));
	scratch[0] = '\0';
	return rc;
}

/* What the migration says at the end. */
static void say_done(const char *dir, const char *share, int64_t rows)
{
	printf("the site in %s runs on PostgreSQL now (%lld rows%s%s); its old repository.db "
	       "stays, unused\n"
	       "start it:       fathom run --dir %s\n"
	       "add a node:     fathom node join --dir NODE_DIR --share SHARE --db URL --name "
	       "NAME\n",
	       dir, (long long)rows, share ? ", the share at " : "", share ? share : "", dir);
}

static int migrate(const char *dir, const char *url, const char *share_arg, bool quiet,
		   struct err *e)
{
	char path[PATH_MAX], scratch[PATH_MAX + 32], from[PATH_MAX + 48];
	snprintf(path, sizeof(path), "%s/node.conf", dir);
	if (access(path, F_OK) != 0)
		return err_set(e, ERR_CONFIG, "folder \"%s\" holds no site (no node.conf)", dir);
	snprintf(path, sizeof(path), "%s/node.lock", dir);
	int lock = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (lock < 0)
		return err_set(e, ERR_IO, "cannot open %s: %s", path, strerror(errno));
	if (flock(lock, LOCK_EX | LOCK_NB) != 0) {
		close(lock);
		err_set(e, ERR_BUSY, "the node in \"%s\" is running", dir);
		err_hint(e, "stop it first: the site must not change while it moves");
		return ERR_BUSY;
	}
	struct conf *cf = NULL;
	struct db_config pg = {0};
	json_t *m = NULL, *counts = json_object();
	char *share = share_arg ? ops_absolute(share_arg) : NULL;
	scratch[0] = '\0';
	snprintf(path, sizeof(path), "%s/node.conf", dir);
	int rc = conf_load(path, &cf, e);
	if (rc == 0 && strcmp(conf_get(cf, "database.driver", "sqlite"), "sqlite") != 0)
		rc = err_set(e, ERR_CONFIG, "the site in %s is on PostgreSQL already", dir);
	if (rc == 0 && share_arg && !share)
		rc = err_set(e, ERR_IO, "cannot resolve %s", share_arg);
	char ours[UUID_STR_LEN + 1] = "";
	struct db *src = NULL;
	if (rc == 0 && (rc = ops_open_node_db(cf, dir, &src, e)) == 0)
		rc = cluster_id(src, ours, e);
	db_close(src);
	if (rc == 0)
		rc = check_target(url, ours, &pg, e);
	/* 1. a backup beside the node folder, checked */
	if (rc == 0)
		rc = make_scratch(dir, ours, scratch, sizeof(scratch), e);
	snprintf(from, sizeof(from), "%s/backup", scratch);
	if (rc == 0 && !quiet)
		fprintf(stderr, "1/4 backing up the site\n");
	if (rc == 0)
		rc = ops_backup_to_folder(dir, from, true, e);
	if (rc == 0)
		rc = ops_backup_verify(from, true, &m, e);
	if (rc == 0)
		rc = dump_counts(from, counts, e);
	/* 2. the share's files */
	struct share_paths sp = {0};
	char bufs[4][PATH_MAX];
	if (rc == 0 && share) {
		if (!quiet)
			fprintf(stderr, "2/4 copying the share's files to %s\n", share);
		if ((rc = prepare_share(share, &sp, bufs, e)) == 0)
			rc = ops_backup_restore_share(from, m, &sp, quiet, e);
		crash_point("migrate-share");
	}
	/* 3. the rows, counted on both sides */
	int64_t rows = 0;
	if (rc == 0 && !quiet)
		fprintf(stderr, "3/4 copying the repository's rows to PostgreSQL\n");
	if (rc == 0)
		rc = ops_backup_restore_rows(from, url, &pg, share ? &sp : NULL, &rows, e);
	crash_point("migrate-rows");
	if (rc == 0) {
		struct db *db = NULL;
		if ((rc = db_open(&pg, &db, e)) == 0)
			rc = check_counts(db, counts, e);
		db_close(db);
	}
	/* 4. the switch */
	if (rc == 0 && !quiet)
		fprintf(stderr, "4/4 pointing node.conf at the new database%s\n",
			share ? " and share" : "");
	if (rc == 0)
		rc = switch_conf(dir, cf, url, share, e);
	if (rc == 0 && share) {
		char marker[PATH_MAX];
		snprintf(marker, sizeof(marker), "%s/" MARKER, share);
		unlink(marker);
	}
	if (scratch[0])
		ops_remove_tree(scratch);
	if (rc == 0 && !quiet)
		say_done(dir, share, rows);
	json_decref(m);
	json_decref(counts);
	free((char *)pg.conninfo);
	if (pg.password)
		explicit_bzero((char *)pg.password, strlen(pg.password));
	free((char *)pg.password);
	free(share);
	conf_free(cf);
	close(lock);
	return rc;
}

int ops_migrate(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"dir", required_argument, NULL, 'd'},	{"to-db", required_argument, NULL, 'b'},
	    {"to-share", required_argument, NULL, 's'}, {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},		{NULL, 0, NULL, 0}};
	const char *dir = NULL, *url = NULL, *share = NULL;
	bool quiet = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'b': url = optarg; break;
		case 's': share = optarg; break;
		case 'q': quiet = true; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (!dir || !url || optind != argc) {
		fputs(usage, stderr);
		return 2;
	}
	struct err e;
	err_init(&e);
	if (log_open(NULL, LOG_WARN, &e) != 0) { /* not each migration of the new schema */
		ops_print_err(&e);
		return 1;
	}
	if (migrate(dir, url, share, quiet, &e) != 0) {
		ops_print_err(&e);
		fprintf(stderr, "fathom: the site was not changed; fix that and run it again\n");
		return 1;
	}
	return 0;
}
