/* backup.c: `fathom backup`, `fathom backup verify` and `fathom restore`.
 *
 * A backup is a folder: repository.jsonl (every table of the repository, read in one
 * snapshot while the site runs: a line naming a table and its columns, then a line per row),
 * the app files that snapshot names (each generation, and the exports), the share's static
 * content, custom data and archived logs (reload logs among them), the node's own files (node.conf,
 * secret.key, certs/), and last manifest.json, with every file's size and SHA-256. It is written as
 * PATH.partial and renamed to PATH only when complete, so an interrupted backup never looks like
 * one.
 *
 * The app files stay safe while they are copied: each is opened inside the snapshot's
 * transaction, and an open file keeps its data even if garbage collection removes its name
 * (which it does only to generations superseded longer ago than its grace period).
 *
 * The repository dump is logical, so a backup restores onto either kind of database: the new
 * site's schema is made by this binary's migrations (the backup's schema version must be the
 * binary's), its own first rows are replaced by the backup's in one transaction, and
 * PostgreSQL's sequences are moved past the rows restored. */
#include "ops/ops_int.h"
#include "cluster/cluster.h"
#include "crypto/crypto.h"
#include "db/db.h"
#include "share/share.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "usage: fathom backup --dir DIR --to PATH [--quiet]\n"
    "       fathom backup verify PATH\n"
    "       fathom restore --from PATH --dir DIR --share SHARE [--db URL] [--quiet]\n"
    "\n"
    "backup   copies the site of the node in DIR into the new folder PATH while it runs:\n"
    "         the repository (one consistent snapshot), the app files it names, static\n"
    "         content, custom data and the node's own files, with a manifest of every\n"
    "         file's size and SHA-256. PATH appears only when the backup is complete.\n"
    "         A PATH ending in .tar.zst is one file, a tar archive compressed with zstd;\n"
    "         --to - writes that stream to stdout (pipe it to a remote store).\n"
    "verify   checks every file of a backup against its manifest (an archive, or - for\n"
    "         one on stdin, is unpacked into $TMPDIR first and removed after).\n"
    "restore  makes a new site from a backup: the node folder DIR and the share SHARE\n"
    "         (both new or empty), and the repository on SQLite in DIR, or on the empty\n"
    "         PostgreSQL database of --db. The backup is verified first; the apps, tasks,\n"
    "         rules, users and app objects keep their ids. --from takes a folder, a\n"
    "         .tar.zst archive or - (one on stdin), unpacked beside DIR first.\n"
    "\n"
    "A terminal gets a progress bar; --quiet prints only errors.\n";

#define COPY_BUF (4 << 20)
#define SQL_MAX	 16384

/* ---------------------------------------------------------------- the backup */

struct backup {
	const char *to;		/* PATH.partial (with ar: where repository.jsonl is made) */
	struct ops_archive *ar; /* the backup as one archive stream, or NULL: a folder */
	json_t *files;		/* the manifest's list */
	json_t *apps;		/* [app id, generation] the snapshot names */
	int *fds;		/* their files, opened in the snapshot */
	size_t n_fds;
	uint64_t app_bytes;
	struct ops_progress pg;
};

static int add_manifest(struct backup *b, const char *rel, uint64_t size, const char *sha)
{
	return json_array_append_new(b->files, json_pack("{s:s,s:I,s:s}", "path", rel, "size",
							 (json_int_t)size, "sha256", sha))
		   ? -1
		   : 0;
}

struct dump {
	FILE *out;
	json_t *names; /* tables in creation order */
	json_t *cols;  /* the current table's columns */
	struct backup *b;
	int64_t rows;
	bool bad; /* a value could not be written */
};

static int name_row(void *ctx, int n, const struct db_value *v)
{
	json_t *list = ctx;
	if (n > 0 && v[0].type == DBV_TEXT)
		json_array_append_new(list, json_stringn(v[0].s, v[0].len));
	return 0;
}

static int dump_row(void *ctx, int n, const struct db_value *v)
{
	struct dump *d = ctx;
	json_t *row = json_array();
	for (int i = 0; i < n; i++) {
		json_t *x = v[i].type == DBV_INT    ? json_integer(v[i].i)
			    : v[i].type == DBV_REAL ? json_real(v[i].d)
			    : v[i].type == DBV_TEXT ? json_stringn(v[i].s, v[i].len)
						    : json_null();
		if (!x) { /* text that is not UTF-8: never written as something else */
			json_decref(row);
			d->bad = true;
			return ERR_INVALID;
		}
		json_array_append_new(row, x);
	}
	int rc = json_dumpf(row, d->out, JSON_COMPACT) != 0 || fputc('\n', d->out) == EOF;
	json_decref(row);
	d->rows++;
	return rc ? ERR_IO : 0;
}

/* The tables of the repository, in the order they were made (a table refers only to
 * tables made before it). */
static int list_tables(struct db_conn *c, enum db_driver_kind kind, json_t *out, struct err *e)
{
	const char *sql =
	    kind == DB_SQLITE
		? "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT "
		  "LIKE 'sqlite_%' ORDER BY rowid"
		: "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid "
		  "= c.relnamespace WHERE c.relkind = 'r' AND n.nspname = "
		  "current_schema() ORDER BY c.oid";
	return db_exec(c, sql, NULL, name_row, out, NULL, e);
}

static int list_columns(struct db_conn *c, enum db_driver_kind kind, const char *table, json_t *out,
			struct err *e)
{
	struct db_params p;
	db_params_init(&p);
	db_p_text(&p, table);
	const char *sql = kind == DB_SQLITE
			      ? "SELECT name FROM pragma_table_info($1) ORDER BY cid"
			      : "SELECT column_name::text FROM information_schema.columns WHERE "
				"table_schema = current_schema() AND table_name = $1 ORDER BY "
				"ordinal_position";
	return db_exec(c, sql, &p, name_row, out, NULL, e);
}

/* Appends to the statement in sql[0..n); false when it does not fit. */
static bool sql_cat(char *sql, size_t n, const char *fmt, ...) PRINTF_LIKE(3, 4);
static bool sql_cat(char *sql, size_t n, const char *fmt, ...)
{
	size_t len = strlen(sql);
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(sql + len, n - len, fmt, ap);
	va_end(ap);
	return w >= 0 && (size_t)w < n - len;
}

/* Appends "col1", "col2", ... to the statement. */
static bool column_list(char *sql, size_t n, json_t *cols)
{
	size_t i;
	json_t *col;
	bool ok = true;
	json_array_foreach (cols, i, col)
		ok = ok && sql_cat(sql, n, "%s\"%s\"", i ? ", " : "", json_string_value(col));
	return ok;
}

static bool plain_name(const char *s)
{
	if (!s || !*s || strlen(s) > 63)
		return false;
	for (; *s; s++)
		if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9')))
			return false;
	return true;
}

static int int_row(void *ctx, int n, const struct db_value *v)
{
	if (n > 0 && v[0].type == DBV_INT)
		*(int *)ctx = (int)v[0].i;
	return 0;
}

/* Rows of two texts, appended to the JSON list at ctx as [a, b] (app and generation;
 * table and column). */
static int pair_row(void *ctx, int n, const struct db_value *v)
{
	json_t *list = ctx;
	if (n == 2 && v[0].type == DBV_TEXT && v[1].type == DBV_TEXT)
		json_array_append_new(
		    list, json_pack("[s#,s#]", v[0].s, (int)v[0].len, v[1].s, (int)v[1].len));
	return 0;
}

/* Every table into repository.jsonl, and the app files named, opened: one snapshot. */
static int dump_repository(struct backup *b, struct db *db, const struct share *sh, int *schema,
			   struct err *e)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/repository.jsonl", b->to);
	struct dump d = {fopen(path, "wx"), json_array(), NULL, b, 0, false};
	if (!d.out)
		return err_set(e, ERR_IO, "cannot create %s: %s", path, strerror(errno));
	struct db_conn *c = NULL;
	enum db_driver_kind kind = db_kind(db);
	int rc = db_acquire(db, &c, e);
	if (rc == 0)
		rc = db_begin(c, false, e);
	if (rc == 0 && kind == DB_POSTGRES)
		rc = db_exec(c, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", NULL,
			     NULL, NULL, NULL, e);
	if (rc == 0)
		rc = list_tables(c, kind, d.names, e);
	size_t i;
	json_t *t;
	json_array_foreach (d.names, i, t) {
		const char *name = json_string_value(t);
		if (rc || !plain_name(name)) {
			rc = rc ? rc : err_set(e, ERR_INVALID, "a table named %s", name);
			break;
		}
		json_t *cols = json_array();
		rc = list_columns(c, kind, name, cols, e);
		json_t *head = json_pack("{s:s,s:o}", "table", name, "columns", cols);
		if (rc == 0 &&
		    (json_dumpf(head, d.out, JSON_COMPACT) != 0 || fputc('\n', d.out) == EOF))
			rc = err_set(e, ERR_IO, "cannot write %s", path);
		char sql[SQL_MAX] = "SELECT ";
		if (rc == 0 && (!column_list(sql, sizeof(sql), cols) ||
				!sql_cat(sql, sizeof(sql), " FROM \"%s\"", name)))
			rc = err_set(e, ERR_INVALID, "table %s has too many columns", name);
		if (rc == 0)
			rc = db_exec(c, sql, NULL, dump_row, &d, NULL, e);
		if (rc && d.bad)
			rc = err_set(e, ERR_INVALID, "a row of %s holds text that is not UTF-8",
				     name);
		else if (rc) /* keeps the database's own message when it gave one */
			rc = err_set(e, rc, "cannot write table %s to %s", name, path);
		json_decref(head);
	}
	if (rc == 0)
		rc = db_exec(
		    c,
		    "SELECT id, generation FROM app WHERE generation IS NOT NULL UNION "
		    "SELECT app_id, generation FROM app_export WHERE generation IS NOT NULL",
		    NULL, pair_row, b->apps, NULL, e);
	if (rc == 0)
		rc = db_exec(c, "SELECT version FROM schema_version", NULL, int_row, schema, NULL,
			     e);
	/* the app files, opened before the snapshot ends */
	b->fds = calloc(json_array_size(b->apps) + 1, sizeof(int));
	if (!b->fds && rc == 0)
		rc = err_set(e, ERR_NOMEM, "out of memory");
	json_array_foreach (b->apps, i, t) {
		char file[PATH_MAX];
		const char *id = json_string_value(json_array_get(t, 0)),
			   *gen = json_string_value(json_array_get(t, 1));
		if (rc || !b->fds)
			break;
		if (share_app_path(sh, id, gen, file, sizeof(file)) != 0) {
			rc = err_set(e, ERR_INVALID, "app %s names a bad generation", id);
			break;
		}
		int fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			rc = err_set(e, ERR_IO, "app %s: cannot open %s: %s", id, file,
				     strerror(errno));
			break;
		}
		struct stat st;
		if (fstat(fd, &st) == 0)
			b->app_bytes += (uint64_t)st.st_size;
		b->fds[b->n_fds++] = fd;
	}
	if (c) {
		db_rollback(c);
		db_release(db, c);
	}
	if (fflush(d.out) != 0 || fsync(fileno(d.out)) != 0)
		rc = rc ? rc : err_set(e, ERR_IO, "cannot write %s", path);
	fclose(d.out);
	json_decref(d.names);
	if (rc == 0) {
		uint64_t size;
		char sha[65];
		struct ops_progress quiet = {.quiet = true};
		rc = ops_hash_file(path, &quiet, &size, sha, e);
		if (rc == 0)
			add_manifest(b, "repository.jsonl", size, sha);
	}
	return rc;
}

/* Copies every regular file under `src` (a share folder or the node's certs) to
 * b->to/rel/..., skipping the names `skip` lists. */
static int copy_tree(struct backup *b, const char *src, const char *rel, const char *const *skip,
		     bool count_only, struct err *e)
{
	DIR *d = opendir(src);
	if (!d)
		return errno == ENOENT
			   ? 0
			   : err_set(e, ERR_IO, "cannot read %s: %s", src, strerror(errno));
	struct dirent *de;
	int rc = 0;
	char here[PATH_MAX];
	if (!count_only && !b->ar &&
	    snprintf(here, sizeof(here), "%s/%s", b->to, rel) < (int)sizeof(here))
		rc = ops_mkdir_p(here, e);
	while (rc == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		bool skipped = false;
		for (int i = 0; skip && skip[i]; i++)
			skipped |= strcmp(de->d_name, skip[i]) == 0;
		size_t nl = strlen(de->d_name); /* a file still being copied in (log archive) */
		skipped |= nl > 5 && strcmp(de->d_name + nl - 5, ".part") == 0;
		if (skipped)
			continue;
		char s[PATH_MAX], r[PATH_MAX], to[PATH_MAX];
		if (snprintf(s, sizeof(s), "%s/%s", src, de->d_name) >= (int)sizeof(s) ||
		    snprintf(r, sizeof(r), "%s/%s", rel, de->d_name) >= (int)sizeof(r) ||
		    snprintf(to, sizeof(to), "%s/%s", b->to, r) >= (int)sizeof(to)) {
			rc = err_set(e, ERR_INVALID, "path too long under %s", src);
			break;
		}
		struct stat st;
		if (lstat(s, &st) != 0)
			continue; /* gone meanwhile */
		if (S_ISDIR(st.st_mode)) {
			rc = copy_tree(b, s, r, NULL, count_only, e);
		} else if (S_ISREG(st.st_mode) && count_only) {
			b->pg.total += (uint64_t)st.st_size;
		} else if (S_ISREG(st.st_mode)) {
			int fd = open(s, O_RDONLY | O_CLOEXEC);
			if (fd < 0 && errno == ENOENT)
				continue; /* gone meanwhile */
			if (fd < 0) {
				rc = err_set(e, ERR_IO, "cannot read %s: %s", s, strerror(errno));
				break;
			}
			uint64_t size;
			char sha[65];
			rc = ops_copy_fd_to(fd, b->ar ? r : to, b->ar, &b->pg, &size, sha, e);
			close(fd);
			if (rc == 0)
				add_manifest(b, r, size, sha);
		}
	}
	closedir(d);
	return rc;
}

static int copy_apps(struct backup *b, struct err *e)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/apps", b->to);
	int rc = b->ar ? 0 : ops_mkdir_p(dir, e);
	size_t i;
	json_t *t;
	json_array_foreach (b->apps, i, t) {
		if (rc)
			break;
		char rel[PATH_MAX], to[PATH_MAX];
		if (snprintf(rel, sizeof(rel), "apps/%s.%s",
			     json_string_value(json_array_get(t, 0)),
			     json_string_value(json_array_get(t, 1))) >= (int)sizeof(rel) ||
		    snprintf(to, sizeof(to), "%s/%s", b->to, rel) >= (int)sizeof(to)) {
			rc = err_set(e, ERR_INVALID, "path too long under %s", b->to);
			break;
		}
		uint64_t size;
		char sha[65];
		lseek(b->fds[i], 0, SEEK_SET);
		rc = ops_copy_fd_to(b->fds[i], b->ar ? rel : to, b->ar, &b->pg, &size, sha, e);
		if (rc == 0)
			add_manifest(b, rel, size, sha);
	}
	return rc;
}

static int write_manifest(struct backup *b, const struct conf *cf, int schema,
			  enum db_driver_kind kind, struct err *e)
{
	char when[32], path[PATH_MAX];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_t *m = json_pack(
	    "{s:s,s:i,s:s,s:s,s:i,s:s,s:{s:s,s:s},s:O,s:O}", "format", "fathom-backup", "version",
	    1, "created", when, "fathom", FATHOM_VERSION, "schema", schema, "database",
	    kind == DB_SQLITE ? "sqlite" : "postgres", "node", "id", conf_get(cf, "node.id", ""),
	    "name", conf_get(cf, "node.name", ""), "apps", b->apps, "files", b->files);
	char *text = json_dumps(m, JSON_INDENT(1));
	json_decref(m);
	snprintf(path, sizeof(path), "%s/manifest.json", b->to);
	int rc = 0;
	if (!text)
		rc = err_set(e, ERR_NOMEM, "out of memory");
	else if (!b->ar)
		rc = file_write_atomic(path, text, strlen(text), 0600, e);
	else if ((rc = ops_archive_file_begin(b->ar, "manifest.json", strlen(text), e)) == 0 &&
		 (rc = ops_archive_write(b->ar, text, strlen(text), e)) == 0)
		rc = ops_archive_file_end(b->ar, e);
	free(text);
	return rc;
}

/* The folder that holds `path`, written into buf. */
static const char *partial_parent(const char *path, char *buf, size_t n)
{
	snprintf(buf, n, "%s", path);
	char *slash = strrchr(buf, '/');
	if (!slash)
		return ".";
	if (slash == buf)
		slash[1] = '\0';
	else
		*slash = '\0';
	return buf;
}

/* Whether PATH names an archive stream: "-" (stdout) or a name ending in .tar.zst. */
static bool is_archive(const char *path)
{
	size_t n = strlen(path);
	return strcmp(path, "-") == 0 || (n > 8 && strcmp(path + n - 8, ".tar.zst") == 0);
}

/* Where the backup goes: a new folder PATH (written as PATH.partial), or an archive: a new
 * file PATH (written as PATH.partial) or stdout, with repository.jsonl made in a scratch
 * folder first (*scratch) and put in the archive from there. */
static int backup_target(const char *to, char *partial, size_t n, char *scratch, size_t sn,
			 int *out_fd, struct err *e)
{
	struct stat st;
	*out_fd = -1;
	scratch[0] = '\0';
	bool stream = strcmp(to, "-") == 0;
	if (!stream && stat(to, &st) == 0)
		return err_set(e, ERR_EXISTS, "%s exists already: a backup goes to a new path", to);
	if (stream) {
		if (isatty(STDOUT_FILENO))
			return err_set(e, ERR_INVALID,
				       "--to - writes the backup to stdout: send it to a file or "
				       "a pipe, not a terminal");
		snprintf(partial, n, "-");
	} else if (snprintf(partial, n, "%s.partial", to) >= (int)n) {
		return err_set(e, ERR_INVALID, "path too long: %s", to);
	}
	if (!stream)
		ops_remove_tree(partial); /* what an interrupted backup left */
	if (!is_archive(to))
		return mkdir(partial, 0700) == 0
			   ? 0
			   : err_set(e, ERR_IO, "cannot create %s: %s", partial, strerror(errno));
	const char *tmp = getenv("TMPDIR");
	snprintf(scratch, sn, "%s/fathom-backup-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(scratch)) {
		int err = errno;
		scratch[0] = '\0';
		return err_set(e, ERR_IO, "cannot make a scratch folder in %s: %s",
			       tmp && *tmp ? tmp : "/tmp", strerror(err));
	}
	*out_fd =
	    stream ? STDOUT_FILENO : open(partial, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (*out_fd < 0)
		return err_set(e, ERR_IO, "cannot create %s: %s", partial, strerror(errno));
	return 0;
}

/* An archive's file flushed and renamed into place, or a folder's files flushed, the
 * manifest written last, and the folder renamed into place. */
static int backup_finish(struct backup *b, const struct conf *cf, int schema,
			 enum db_driver_kind kind, const char *to, const char *partial, int fd,
			 bool *renamed, struct err *e)
{
	int rc = b->ar ? 0 : ops_sync_tree(partial, e); /* every file before the manifest */
	if (rc == 0)
		rc = write_manifest(b, cf, schema, kind, e);
	if (rc == 0 && b->ar)
		rc = ops_archive_close(b->ar, e);
	if (strcmp(to, "-") == 0)
		return rc;
	if (rc == 0 && fd >= 0 && fsync(fd) != 0)
		rc = err_set(e, ERR_IO, "cannot write %s: %s", partial, strerror(errno));
	if (rc == 0 && rename(partial, to) != 0)
		rc = err_set(e, ERR_IO, "cannot rename %s to %s: %s", partial, to, strerror(errno));
	*renamed = rc == 0;
	char parent[PATH_MAX]; /* the rename on disk too */
	if (rc == 0 && (rc = ops_sync_tree(partial_parent(to, parent, sizeof(parent)), e)) != 0)
		err_detail(e, "%s is complete, but the folder that holds it was not flushed", to);
	return rc;
}

static int do_backup(const char *dir, const char *to, bool quiet, struct err *e)
{
	char partial[PATH_MAX], conf_path[PATH_MAX], scratch[PATH_MAX], jsonl[PATH_MAX + 32];
	int out_fd = -1;
	int rc = backup_target(to, partial, sizeof(partial), scratch, sizeof(scratch), &out_fd, e);
	if (rc) {
		if (scratch[0])
			ops_remove_tree(scratch);
		return rc;
	}
	snprintf(conf_path, sizeof(conf_path), "%s/node.conf", dir);
	struct conf *cf = NULL;
	struct db *db = NULL;
	struct share *sh = NULL;
	struct backup b = {
	    .to = scratch[0] ? scratch : partial,
	    .files = json_array(),
	    .apps = json_array(),
	    .pg = {.tty = isatty(STDERR_FILENO) != 0, .quiet = quiet, .what = "backup"}};
	if (out_fd >= 0)
		rc = ops_archive_open(out_fd, &b.ar, e);
	int schema = 0;
	if (rc == 0)
		rc = conf_load(conf_path, &cf, e);
	if (rc == 0)
		rc = ops_open_node_db(cf, dir, &db, e);
	struct ops_share os = {0};
	char journal[PATH_MAX];
	snprintf(journal, sizeof(journal), "%s/pending", dir);
	if (rc == 0 && (rc = ops_share_resolve(cf, db, &os, e)) == 0)
		rc = share_open(&os.sp, conf_get(cf, "node.id", ""), journal, &sh, e);
	const struct share_paths sp = os.sp;
	if (rc == 0)
		rc = dump_repository(&b, db, sh, &schema, e);
	if (rc == 0 && b.ar) { /* the dump into the archive, from its scratch folder */
		snprintf(jsonl, sizeof(jsonl), "%s/repository.jsonl", scratch);
		int fd = open(jsonl, O_RDONLY | O_CLOEXEC);
		uint64_t size;
		char sha[65];
		struct ops_progress none = {.quiet = true};
		rc = fd >= 0 ? ops_copy_fd_to(fd, "repository.jsonl", b.ar, &none, &size, sha, e)
			     : err_set(e, ERR_IO, "cannot read %s: %s", jsonl, strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	static const char *const node_skip[] = {"repository.db",
						"repository.db-wal",
						"repository.db-shm",
						"pending",
						"logs",
						"pgdata",
						NULL};
	clock_gettime(CLOCK_MONOTONIC, &b.pg.start);
	b.pg.total = b.app_bytes;
	if (rc == 0)
		rc = copy_tree(&b, sp.static_content, "static", NULL, true, e);
	if (rc == 0)
		rc = copy_tree(&b, sp.custom_data, "custom", NULL, true, e);
	if (rc == 0)
		rc = copy_tree(&b, sp.archived_logs, "logs", NULL, true, e);
	if (rc == 0)
		rc = copy_tree(&b, dir, "node", node_skip, true, e);
	if (rc == 0)
		rc = copy_apps(&b, e);
	if (rc == 0) /* (tests kill a backup here: the files half copied) */
		crash_point("backup-files");
	if (rc == 0)
		rc = copy_tree(&b, sp.static_content, "static", NULL, false, e);
	if (rc == 0)
		rc = copy_tree(&b, sp.custom_data, "custom", NULL, false, e);
	if (rc == 0)
		rc = copy_tree(&b, sp.archived_logs, "logs", NULL, false, e);
	if (rc == 0)
		rc = copy_tree(&b, dir, "node", node_skip, false, e);
	ops_progress_show(&b.pg, true);
	bool renamed = false;
	if (rc == 0)
		rc = backup_finish(&b, cf, schema, db_kind(db), to, partial, out_fd, &renamed, e);
	if (out_fd >= 0 && out_fd != STDOUT_FILENO)
		close(out_fd);
	if (rc && !renamed && strcmp(partial, "-") != 0)
		ops_remove_tree(partial);
	else if (rc == 0 && !quiet)
		fprintf(strcmp(to, "-") == 0 ? stderr : stdout,
			"backed up %zu apps and %zu files to %s\n", json_array_size(b.apps),
			json_array_size(b.files), strcmp(to, "-") == 0 ? "stdout" : to);
	if (scratch[0])
		ops_remove_tree(scratch);
	ops_archive_free(b.ar);
	for (size_t i = 0; i < b.n_fds; i++)
		close(b.fds[i]);
	free(b.fds);
	json_decref(b.files);
	json_decref(b.apps);
	share_close(sh);
	ops_share_release(&os);
	db_close(db);
	conf_free(cf);
	return rc;
}

/* ---------------------------------------------------------------- verify */

static bool safe_rel(const char *rel)
{
	if (!rel || !*rel || rel[0] == '/' || strstr(rel, "..") || strstr(rel, "//"))
		return false;
	return strncmp(rel, "apps/", 5) == 0 || strncmp(rel, "static/", 7) == 0 ||
	       strncmp(rel, "custom/", 7) == 0 || strncmp(rel, "logs/", 5) == 0 ||
	       strncmp(rel, "node/", 5) == 0 || strcmp(rel, "repository.jsonl") == 0;
}

/* Reads PATH/manifest.json and checks every file it lists. Caller owns *out. */
static int verify(const char *from, bool quiet, json_t **out, struct err *e)
{
	*out = NULL;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/manifest.json", from);
	json_error_t je;
	json_t *m = json_load_file(path, 0, &je);
	if (!m)
		return err_set(e, ERR_INVALID, "%s is not a backup: %s: %s", from, path, je.text);
	const char *format = json_string_value(json_object_get(m, "format"));
	json_t *files = json_object_get(m, "files");
	if (!format || strcmp(format, "fathom-backup") != 0 ||
	    json_integer_value(json_object_get(m, "version")) != 1 || !json_is_array(files)) {
		json_decref(m);
		return err_set(e, ERR_INVALID,
			       "%s is not a Fathom backup of a version this fathom reads", path);
	}
	struct ops_progress pg = {
	    .tty = isatty(STDERR_FILENO) != 0, .quiet = quiet, .what = "verify"};
	clock_gettime(CLOCK_MONOTONIC, &pg.start);
	size_t i;
	json_t *f;
	json_array_foreach (files, i, f)
		pg.total += (uint64_t)json_integer_value(json_object_get(f, "size"));
	int rc = 0;
	bool has_repo = false;
	json_array_foreach (files, i, f) {
		const char *rel = json_string_value(json_object_get(f, "path"));
		const char *want = json_string_value(json_object_get(f, "sha256"));
		if (!safe_rel(rel) || !want) {
			rc = err_set(e, ERR_INVALID, "%s lists a file it may not: %s", path,
				     rel ? rel : "(none)");
			break;
		}
		has_repo |= strcmp(rel, "repository.jsonl") == 0;
		char file[PATH_MAX], sha[65];
		uint64_t size;
		snprintf(file, sizeof(file), "%s/%s", from, rel);
		if ((rc = ops_hash_file(file, &pg, &size, sha, e)))
			break;
		if (size != (uint64_t)json_integer_value(json_object_get(f, "size")) ||
		    strcmp(sha, want) != 0) {
			rc =
			    err_set(e, ERR_INVALID,
				    "%s is damaged: its %s does not match the manifest", file,
				    size != (uint64_t)json_integer_value(json_object_get(f, "size"))
					? "size"
					: "SHA-256");
			break;
		}
	}
	if (rc == 0 && !has_repo)
		rc = err_set(e, ERR_INVALID, "%s lists no repository.jsonl", path);
	ops_progress_show(&pg, true);
	if (rc)
		json_decref(m);
	else
		*out = m;
	return rc;
}

/* ---------------------------------------------------------------- restore */

struct restore_args {
	const char *from, *dir, *share, *db_url;
	bool quiet;
};

static int file_copy(const char *from, const char *to, struct ops_progress *pg, struct err *e)
{
	int fd = open(from, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, ERR_IO, "cannot open %s: %s", from, strerror(errno));
	uint64_t size;
	char sha[65];
	int rc = ops_copy_fd(fd, to, pg, &size, sha, e);
	close(fd);
	return rc;
}

/* The files of the backup into the node folder and the share. */
static int restore_files(const struct restore_args *a, json_t *m, const struct share_paths *sp,
			 struct err *e)
{
	struct ops_progress pg = {
	    .tty = isatty(STDERR_FILENO) != 0, .quiet = a->quiet, .what = "restore"};
	clock_gettime(CLOCK_MONOTONIC, &pg.start);
	size_t i;
	json_t *f;
	json_array_foreach (json_object_get(m, "files"), i, f)
		pg.total += (uint64_t)json_integer_value(json_object_get(f, "size"));
	int rc = 0;
	json_array_foreach (json_object_get(m, "files"), i, f) {
		const char *rel = json_string_value(json_object_get(f, "path"));
		const char *base = NULL, *rest = NULL;
		if (strncmp(rel, "apps/", 5) == 0)
			base = sp->apps, rest = rel + 5;
		else if (strncmp(rel, "static/", 7) == 0)
			base = sp->static_content, rest = rel + 7;
		else if (strncmp(rel, "custom/", 7) == 0)
			base = sp->custom_data, rest = rel + 7;
		else if (strncmp(rel, "logs/", 5) == 0)
			base = sp->archived_logs, rest = rel + 5;
		else if (strncmp(rel, "node/", 5) == 0)
			base = a->dir, rest = rel + 5; /* none without a node folder (migrate) */
		if (!base || strcmp(rel, "node/node.conf") == 0)
			continue; /* the repository and node.conf are made, not copied */
		char from[PATH_MAX], to[PATH_MAX];
		snprintf(from, sizeof(from), "%s/%s", a->from, rel);
		if (snprintf(to, sizeof(to), "%s/%s", base, rest) >= (int)sizeof(to)) {
			rc = err_set(e, ERR_INVALID, "path too long: %s", rel);
			break;
		}
		char *slash = strrchr(to, '/');
		*slash = '\0';
		rc = ops_mkdir_p(to, e);
		*slash = '/';
		if (rc == 0)
			rc = file_copy(from, to, &pg, e);
		if (rc)
			break;
	}
	ops_progress_show(&pg, true);
	return rc;
}

/* node.conf of the backup, pointed at the new share and repository. */
static int restore_conf(const struct restore_args *a, const struct share_paths *sp,
			const char *db_path, struct err *e)
{
	char from[PATH_MAX], to[PATH_MAX];
	snprintf(from, sizeof(from), "%s/node/node.conf", a->from);
	snprintf(to, sizeof(to), "%s/node.conf", a->dir);
	struct conf *cf = NULL;
	int rc = conf_load(from, &cf, e);
	if (rc)
		return rc;
	/* the other folders are the restored service cluster's (point_cluster) */
	conf_set(cf, "share.root", sp->root);
	for (int i = 0; i < OPS_SHARE_FOLDERS; i++)
		conf_unset(cf, ops_share_keys[i][0]);
	bool made_key;
	if (a->db_url) {
		rc = ops_conf_postgres(cf, a->dir, a->db_url, &made_key, e);
	} else {
		conf_set(cf, "database.driver", "sqlite");
		conf_set(cf, "database.path", db_path);
		conf_unset(cf, "database.conninfo");
		conf_unset(cf, "database.password");
	}
	if (rc == 0)
		rc = conf_save(cf, to, e);
	conf_free(cf);
	return rc;
}

/* One table's rows from the dump, inserted. */
struct loader {
	struct db_conn *c;
	FILE *in;
	struct err *e;
	enum db_driver_kind kind;
	int64_t rows;
};

static int insert_rows(struct loader *l, const char *table, json_t *cols, char **line, size_t *cap,
		       bool *more)
{
	char sql[SQL_MAX] = "";
	bool ok = sql_cat(sql, sizeof(sql), "INSERT INTO \"%s\" (", table) &&
		  column_list(sql, sizeof(sql), cols) && sql_cat(sql, sizeof(sql), ") VALUES (");
	for (size_t i = 0; ok && i < json_array_size(cols); i++)
		ok = sql_cat(sql, sizeof(sql), "%s$%zu", i ? ", " : "", i + 1);
	if (!ok || !sql_cat(sql, sizeof(sql), ")"))
		return err_set(l->e, ERR_INVALID, "table %s has too many columns", table);
	int rc = 0;
	ssize_t n;
	*more = false;
	while ((n = getline(line, cap, l->in)) > 0) {
		if ((*line)[0] == '{') { /* the next table */
			*more = true;
			break;
		}
		json_error_t je;
		json_t *row = json_loads(*line, 0, &je);
		if (!json_is_array(row) || json_array_size(row) != json_array_size(cols)) {
			json_decref(row);
			rc = err_set(l->e, ERR_INVALID,
				     "repository.jsonl: a row of %s does not parse", table);
			break;
		}
		struct db_params p;
		db_params_init(&p);
		size_t i;
		json_t *v;
		json_array_foreach (row, i, v) {
			if (json_is_integer(v))
				db_p_int(&p, json_integer_value(v));
			else if (json_is_real(v))
				db_p_real(&p, json_real_value(v));
			else if (json_is_string(v))
				db_p_text(&p, json_string_value(v));
			else
				db_p_null(&p);
		}
		rc = db_exec(l->c, sql, &p, NULL, NULL, NULL, l->e);
		json_decref(row);
		if (rc) {
			err_detail(l->e, "restoring a row of %s", table);
			break;
		}
		l->rows++;
	}
	return rc;
}

/* The backup's rows in place of the new repository's first ones, in one transaction. */
static int restore_rows(const struct restore_args *a, struct db *db, json_t *tables, int64_t *rows,
			struct err *e)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/repository.jsonl", a->from);
	struct loader l = {NULL, fopen(path, "r"), e, db_kind(db), 0};
	if (!l.in)
		return err_set(e, ERR_IO, "cannot read %s: %s", path, strerror(errno));
	int rc = db_acquire(db, &l.c, e);
	if (rc == 0)
		rc = db_begin(l.c, true, e);
	if (rc == 0)
		rc = list_tables(l.c, l.kind, tables, e);
	for (size_t i = json_array_size(tables); rc == 0 && i-- > 0;) {
		char sql[160];
		snprintf(sql, sizeof(sql), "DELETE FROM \"%s\"",
			 json_string_value(json_array_get(tables, i)));
		rc = db_exec(l.c, sql, NULL, NULL, NULL, NULL, e);
	}
	char *line = NULL;
	size_t cap = 0;
	bool more = rc == 0 && getline(&line, &cap, l.in) > 0;
	while (rc == 0 && more) {
		json_error_t je;
		json_t *head = json_loads(line, 0, &je);
		const char *table = json_string_value(json_object_get(head, "table"));
		json_t *cols = json_object_get(head, "columns");
		bool known = false;
		size_t i;
		json_t *t;
		json_array_foreach (tables, i, t)
			known |= table && strcmp(json_string_value(t), table) == 0;
		bool cols_ok = json_is_array(cols) && json_array_size(cols) > 0;
		for (i = 0; cols_ok && i < json_array_size(cols); i++)
			cols_ok = plain_name(json_string_value(json_array_get(cols, i)));
		if (!table || !plain_name(table) || !known || !cols_ok)
			rc = err_set(
			    e, ERR_INVALID,
			    "repository.jsonl names a table this repository does not have: %s",
			    table ? table : "(none)");
		else
			rc = insert_rows(&l, table, cols, &line, &cap, &more);
		json_decref(head);
	}
	if (rc == 0 && l.kind == DB_POSTGRES) { /* sequences past the rows restored */
		json_t *seqs = json_array();
		rc = db_exec(
		    l.c,
		    "SELECT table_name::text, column_name::text FROM information_schema.columns "
		    "WHERE table_schema = current_schema() AND column_default LIKE 'nextval(%'",
		    NULL, pair_row, seqs, NULL, e);
		size_t i;
		json_t *s;
		json_array_foreach (seqs, i, s) {
			const char *t = json_string_value(json_array_get(s, 0)),
				   *col = json_string_value(json_array_get(s, 1));
			if (rc || !plain_name(t) || !plain_name(col))
				continue;
			char sql[512];
			snprintf(sql, sizeof(sql),
				 "SELECT setval(pg_get_serial_sequence('\"%s\"', '%s'), "
				 "COALESCE((SELECT "
				 "max(\"%s\") FROM \"%s\"), 0) + 1, false)",
				 t, col, col, t);
			rc = db_exec(l.c, sql, NULL, NULL, NULL, NULL, e);
		}
		json_decref(seqs);
	}
	if (rc == 0)
		rc = db_commit(l.c, e);
	else if (l.c)
		db_rollback(l.c);
	if (l.c)
		db_release(db, l.c);
	free(line);
	fclose(l.in);
	*rows = l.rows;
	return rc;
}

/* Drops the tables a failed restore made in an empty database: the backup's, as the
 * migrations made them (nothing else was there). */
static void drop_tables(const struct db_config *cfg, json_t *tables)
{
	struct db *db = NULL;
	struct err e;
	err_init(&e);
	if (db_open(cfg, &db, &e) != 0) {
		log_warn("restore: could not open the database again to empty it: %s", e.message);
		return;
	}
	for (size_t i = json_array_size(tables); i-- > 0;) {
		const char *t = json_string_value(json_array_get(tables, i));
		char sql[160];
		snprintf(sql, sizeof(sql), "DROP TABLE IF EXISTS \"%s\" CASCADE", t);
		if (plain_name(t) && db_exec_once(db, sql, NULL, NULL, NULL, &e) != 0)
			log_warn("restore: could not drop table %s: %s", t, e.message);
	}
	db_close(db);
}

/* A restore's node folder and share: both new or empty. */
static int targets_empty(const char *dir, const char *share, struct err *e)
{
	char conf[PATH_MAX];
	snprintf(conf, sizeof(conf), "%s/node.conf", dir);
	if (!ops_empty_or_missing(dir)) {
		err_set(e, ERR_EXISTS, "%s is not empty: a restore makes a new node folder", dir);
		if (access(conf, F_OK) != 0)
			err_hint(e, "it has no node.conf: what a stopped restore leaves; remove it "
				    "and the share (and empty the database of --db) and run the "
				    "restore again");
		return ERR_EXISTS;
	}
	if (!ops_empty_or_missing(share))
		return err_set(e, ERR_EXISTS, "%s is not empty: a restore makes a new share",
			       share);
	return 0;
}

/* What must hold before a restore makes anything: new or empty folders, a backup that
 * verifies, of this binary's schema, and (with --db) an empty database. *m gets the
 * manifest; pg the database's settings (conninfo and password owned by the caller). */
static int restore_check(const struct restore_args *a, json_t **m, struct db_config *pg,
			 struct err *e)
{
	int rc = targets_empty(a->dir, a->share, e);
	if (rc == 0)
		rc = verify(a->from, a->quiet, m, e);
	if (rc)
		return rc;
	int latest = db_schema_latest(ops_schema);
	json_int_t schema = json_integer_value(json_object_get(*m, "schema"));
	if (schema != latest)
		return err_set(e, ERR_SCHEMA,
			       "the backup has schema version %lld and this fathom %d: restore it "
			       "with the fathom release that made it",
			       (long long)schema, latest);
	if (!a->db_url)
		return 0;
	int version = 0;
	int64_t tables = 0;
	char *bare = NULL, *password = NULL;
	rc = db_pg_split_password(a->db_url, &bare, &password, e);
	pg->conninfo = bare;
	pg->password = password;
	if (rc == 0)
		rc = db_check(pg, &version, e);
	if (rc == 0 && version != 0)
		rc = err_set(e, ERR_EXISTS,
			     "the database of --db holds a Fathom repository already");
	if (rc == 0)
		rc = db_count_tables(pg, &tables, e);
	if (rc == 0 && tables > 0)
		rc = err_set(e, ERR_EXISTS,
			     "the database of --db is not empty: a restore needs an empty one");
	return rc;
}

/* Removes what is inside `path`, and `path` itself when `self`. */
static void clear_tree(const char *path, bool self)
{
	if (self) {
		ops_remove_tree(path);
		return;
	}
	DIR *d = opendir(path);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		char sub[PATH_MAX];
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) < (int)sizeof(sub))
			ops_remove_tree(sub);
	}
	if (d)
		closedir(d);
}

/* The repository of the new site: SQLite in the node folder, or the database of --db. */
/* The restored site's service cluster names the new share's folders, and the folder data
 * connections that named the old ones name the new ones. */
static int point_cluster(struct db *db, const struct share_paths *sp, struct err *e)
{
	json_t *settings = NULL;
	int rc = cluster_settings(db, &settings, e);
	if (rc)
		return rc;
	json_t *old = json_object_get(settings, "sharedPersistenceProperties");
	const char *const keys[] = {"rootFolder", "appFolder", "staticContentRootFolder",
				    "archivedLogsRootFolder", "customDataRootFolder"};
	const char *const now[] = {sp->root, sp->apps, sp->static_content, sp->archived_logs,
				   sp->custom_data};
	json_t *props = json_object();
	for (size_t i = 0; i < ARRAY_LEN(keys); i++)
		json_object_set_new(props, keys[i], json_string(now[i]));
	for (size_t i = 3; rc == 0 && i < ARRAY_LEN(keys); i++) {
		const char *was = json_string_value(json_object_get(old, keys[i]));
		if (!was)
			continue;
		struct db_params p;
		db_params_init(&p);
		db_p_text(&p, now[i]);
		db_p_text(&p, was);
		rc = db_exec_once(db,
				  "UPDATE dataconnection SET connectionstring = $1 WHERE "
				  "connectionstring = $2",
				  &p, NULL, NULL, e);
	}
	json_object_set_new(settings, "sharedPersistenceProperties", props);
	char *text = json_dumps(settings, JSON_COMPACT);
	json_decref(settings);
	if (rc == 0 && !text)
		rc = err_set(e, ERR_NOMEM, "out of memory");
	if (rc == 0) {
		struct db_params p;
		db_params_init(&p);
		db_p_text(&p, text);
		rc = db_exec_once(db, "UPDATE servicecluster SET settings = $1", &p, NULL, NULL, e);
	}
	free(text);
	return rc;
}

static int restore_db(const struct restore_args *a, struct db_config *pg, const char *db_path,
		      const struct share_paths *sp, json_t *made_tables, int64_t *rows,
		      struct err *e)
{
	struct db_config sq = {.kind = DB_SQLITE,
			       .schema = ops_schema,
			       .path = db_path,
			       .create = true,
			       .pool_size = 1,
			       .busy_timeout_ms = 5000};
	pg->pool_size = 1;
	struct db *db = NULL;
	int rc = db_open(a->db_url ? pg : &sq, &db, e);
	if (rc == 0)
		rc = restore_rows(a, db, made_tables, rows, e);
	if (rc == 0 && sp)
		rc = point_cluster(db, sp, e);
	db_close(db);
	if (rc && a->db_url && db) /* leave the database as empty as it was */
		drop_tables(pg, made_tables);
	return rc;
}

static int do_restore(const struct restore_args *a, struct err *e)
{
	json_t *m = NULL, *made_tables = json_array();
	struct db_config pg = {.kind = DB_POSTGRES, .schema = ops_schema};
	int rc = restore_check(a, &m, &pg, e);
	bool made_dir = access(a->dir, F_OK) != 0, made_share = access(a->share, F_OK) != 0;
	char *dir = NULL, *share = NULL;
	char apps[PATH_MAX], stat_c[PATH_MAX], logs[PATH_MAX], custom[PATH_MAX], db_path[PATH_MAX];
	struct share_paths sp = {0};
	if (rc == 0 && (rc = ops_mkdir_p(a->dir, e)) == 0)
		rc = ops_mkdir_p(a->share, e);
	if (rc == 0) {
		dir = ops_absolute(a->dir);
		share = ops_absolute(a->share);
		if (!dir || !share)
			rc = err_set(e, ERR_IO, "cannot resolve %s or %s", a->dir, a->share);
	}
	if (rc == 0) {
		snprintf(apps, sizeof(apps), "%s/Apps", share);
		snprintf(stat_c, sizeof(stat_c), "%s/StaticContent", share);
		snprintf(logs, sizeof(logs), "%s/ArchivedLogs", share);
		snprintf(custom, sizeof(custom), "%s/CustomData", share);
		snprintf(db_path, sizeof(db_path), "%s/repository.db", dir);
		sp = (struct share_paths){share, apps, stat_c, logs, custom};
		rc = share_layout_create(&sp, e);
	}
	struct restore_args abs = *a;
	abs.dir = dir;
	int64_t rows = 0;
	if (rc == 0)
		rc = restore_files(&abs, m, &sp, e);
	if (rc == 0 && (rc = ops_sync_tree(share, e)) == 0)
		rc = ops_sync_tree(dir, e);
	if (rc == 0)
		rc = restore_db(a, &pg, db_path, &sp, made_tables, &rows, e);
	/* node.conf last: a folder without it is no node, so a restore stopped before here,
	 * even by kill -9, leaves nothing that starts */
	if (rc == 0)
		crash_point("restore-conf");
	if (rc == 0 && (rc = restore_conf(&abs, &sp, db_path, e)) != 0 && a->db_url)
		drop_tables(&pg, made_tables);
	if (rc && dir) /* nothing half made stays */
		clear_tree(dir, made_dir);
	if (rc && share)
		clear_tree(share, made_share);
	if (rc == 0 && !a->quiet)
		printf(
		    "restored %zu apps and %lld rows from %s: the node folder is %s and the share "
		    "%s\nstart it with: fathom run --dir %s\n",
		    json_array_size(json_object_get(m, "apps")), (long long)rows, a->from, dir,
		    share, dir);
	free(dir);
	free(share);
	free((char *)pg.conninfo);
	if (pg.password)
		explicit_bzero((char *)pg.password, strlen(pg.password));
	free((char *)pg.password);
	json_decref(made_tables);
	json_decref(m);
	return rc;
}

/* ---------------------------------------------------------------- for migrate.c */

int ops_backup_to_folder(const char *dir, const char *to, bool quiet, struct err *e)
{
	return is_archive(to) ? err_set(e, ERR_INVALID, "%s: a folder is needed here", to)
			      : do_backup(dir, to, quiet, e);
}

int ops_backup_verify(const char *from, bool quiet, json_t **m, struct err *e)
{
	return verify(from, quiet, m, e);
}

int ops_backup_restore_share(const char *from, json_t *m, const struct share_paths *sp, bool quiet,
			     struct err *e)
{
	struct restore_args a = {.from = from, .quiet = quiet};
	return restore_files(&a, m, sp, e);
}

int ops_backup_restore_rows(const char *from, const char *db_url, struct db_config *pg,
			    const struct share_paths *sp, int64_t *rows, struct err *e)
{
	struct restore_args a = {.from = from, .db_url = db_url, .quiet = true};
	json_t *made = json_array();
	int rc = restore_db(&a, pg, NULL, sp, made, rows, e);
	json_decref(made);
	return rc;
}

/* ---------------------------------------------------------------- commands */

/* An archive (a .tar.zst file, or "-": stdin) unpacked into a new hidden folder in `near`,
 * named in tmp; for a folder, tmp is "" and nothing is done. */
static int unpack(const char *from, const char *near, bool quiet, char *tmp, size_t n,
		  struct err *e)
{
	tmp[0] = '\0';
	if (!is_archive(from))
		return 0;
	int fd = strcmp(from, "-") == 0 ? STDIN_FILENO : open(from, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, ERR_NOT_FOUND, "cannot read %s: %s", from, strerror(errno));
	snprintf(tmp, n, "%s/.fathom-unpack-XXXXXX", near);
	if (!mkdtemp(tmp)) {
		int err = errno;
		tmp[0] = '\0';
		if (fd != STDIN_FILENO)
			close(fd);
		return err_set(e, ERR_IO, "cannot make a folder in %s to unpack %s into: %s", near,
			       from, strerror(err));
	}
	uint64_t bytes = 0;
	int files = 0;
	int rc = ops_archive_extract(fd, tmp, &bytes, &files, e);
	if (fd != STDIN_FILENO)
		close(fd);
	if (rc)
		err_detail(e, "unpacking %s", strcmp(from, "-") == 0 ? "stdin" : from);
	else if (!quiet)
		fprintf(stderr, "unpacked %d files, %.1f MiB, from %s\n", files,
			(double)bytes / (1 << 20), strcmp(from, "-") == 0 ? "stdin" : from);
	return rc;
}

int ops_backup(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "verify") == 0) {
		if (argc != 3 || (argv[2][0] == '-' && argv[2][1])) {
			fputs(usage, argc == 3 ? stdout : stderr);
			return argc == 3 ? 0 : 2;
		}
		json_t *m = NULL;
		struct err e;
		err_init(&e);
		const char *tmpdir = getenv("TMPDIR");
		char tmp[PATH_MAX];
		int rc = unpack(argv[2], tmpdir && *tmpdir ? tmpdir : "/tmp", false, tmp,
				sizeof(tmp), &e);
		if (rc == 0)
			rc = verify(tmp[0] ? tmp : argv[2], false, &m, &e);
		if (tmp[0])
			ops_remove_tree(tmp);
		if (rc != 0) {
			ops_print_err(&e);
			return 1;
		}
		printf("%s is complete: %zu files match the manifest\n", argv[2],
		       json_array_size(json_object_get(m, "files")));
		json_decref(m);
		return 0;
	}
	static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
					     {"to", required_argument, NULL, 't'},
					     {"quiet", no_argument, NULL, 'q'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	const char *dir = NULL, *to = NULL;
	bool quiet = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 't': to = optarg; break;
		case 'q': quiet = true; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (!dir || !to || optind != argc) {
		fputs(usage, stderr);
		return 2;
	}
	struct err e;
	err_init(&e);
	if (do_backup(dir, to, quiet, &e) != 0) {
		ops_print_err(&e);
		return 1;
	}
	return 0;
}

int ops_restore(int argc, char **argv)
{
	static const struct option opts[] = {{"from", required_argument, NULL, 'f'},
					     {"dir", required_argument, NULL, 'd'},
					     {"share", required_argument, NULL, 's'},
					     {"db", required_argument, NULL, 'b'},
					     {"quiet", no_argument, NULL, 'q'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	struct restore_args a = {0};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': a.from = optarg; break;
		case 'd': a.dir = optarg; break;
		case 's': a.share = optarg; break;
		case 'b': a.db_url = optarg; break;
		case 'q': a.quiet = true; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (!a.from || !a.dir || !a.share || optind != argc) {
		fputs(usage, stderr);
		return 2;
	}
	struct err e;
	err_init(&e);
	if (log_open(NULL, LOG_WARN, &e) != 0) { /* not each migration of the new schema */
		ops_print_err(&e);
		return 1;
	}
	/* an archive is unpacked beside the new node folder, once the targets are known empty */
	char tmp[PATH_MAX] = "", parent[PATH_MAX];
	int rc = targets_empty(a.dir, a.share, &e);
	if (rc == 0)
		rc = unpack(a.from, partial_parent(a.dir, parent, sizeof(parent)), a.quiet, tmp,
			    sizeof(tmp), &e);
	const char *given = a.from;
	if (tmp[0])
		a.from = tmp;
	if (rc == 0)
		rc = do_restore(&a, &e);
	if (tmp[0])
		ops_remove_tree(tmp);
	if (rc != 0) {
		if (tmp[0] && !e.detail[0])
			err_detail(&e, "restoring from %s", strcmp(given, "-") ? given : "stdin");
		ops_print_err(&e);
		return 1;
	}
	return 0;
}
