/* ops_int.h: helpers shared by the commands in ops/. Not for other modules. */
#ifndef FATHOM_OPS_INT_H
#define FATHOM_OPS_INT_H

#include "db/db.h"
#include "http/http.h"
#include "ops/ops.h"
#include "repo/repo.h"
#include "share/share.h"

#include <jansson.h>

#include <limits.h>
#include <stdio.h>
#include <sys/types.h>

/* Paths a command created, removed in reverse order when it fails. */
struct ops_undo {
	char paths[128][PATH_MAX];
	bool is_dir[128];
	int n;
};

void ops_undo_add(struct ops_undo *u, const char *path, bool dir);
/* Removes every recorded path, newest first (folders only when empty). */
void ops_undo_run(struct ops_undo *u);
/* Creates each missing folder of `path` with `mode`, recording the ones it made; fails
 * unless the result is a writable folder. */
NODISCARD int ops_mkdirs(struct ops_undo *u, const char *path, unsigned mode, struct err *e);
/* Writes `data` to dir/name atomically with `mode`, recording it. */
NODISCARD int ops_write_file(struct ops_undo *u, const char *dir, const char *name,
			     const char *data, unsigned mode, struct err *e);
/* Hands a folder and everything in it to uid:gid. */
NODISCARD int ops_chown_tree(const char *path, uid_t uid, gid_t gid, struct err *e);
/* This machine's host name in buf (or "localhost" when it has none); returns buf. */
const char *ops_host_name(char *buf, size_t n);
/* `p` made absolute against the working folder. Caller frees. */
char *ops_absolute(const char *p);

/* copy.c: a progress bar over bytes and files (a line at the end when stderr is not a
 * terminal; nothing with quiet), and the file operations backup, restore and migrate share. */
struct ops_progress {
	bool tty, quiet;
	uint64_t total, done, files;
	struct timespec start, last;
	const char *what;
};

void ops_progress_show(struct ops_progress *p, bool final);
struct ops_archive;
/* Copies the open file `in` to `path` (a new file), or with `ar` into the archive as `path`
 * (its size declared first; a file that grew meanwhile is taken at that size), hashing what
 * it copies; the data reach the disk when the caller flushes them (ops_sync_tree). */
NODISCARD int ops_copy_fd_to(int in, const char *path, struct ops_archive *ar,
			     struct ops_progress *pg, uint64_t *size, char sha[65], struct err *e);
NODISCARD int ops_copy_fd(int in, const char *path, struct ops_progress *pg, uint64_t *size,
			  char sha[65], struct err *e);
/* Flushes the file system that holds `path`. */
NODISCARD int ops_sync_tree(const char *path, struct err *e);
/* SHA-256 and size of the file at `path`. */
NODISCARD int ops_hash_file(const char *path, struct ops_progress *pg, uint64_t *size, char sha[65],
			    struct err *e);
NODISCARD int ops_mkdir_p(const char *path, struct err *e);
/* Removes a folder with all it holds (or a file). */
void ops_remove_tree(const char *path);
/* A folder that does not exist, or exists and is empty. */
bool ops_empty_or_missing(const char *path);

/* A backup as one stream: a tar archive compressed with zstd (archive.c). Files are
 * written whole, their size declared first: ops_archive_file_end fails when fewer bytes
 * came than were declared, ops_archive_write when more do. */
struct ops_archive;
NODISCARD int ops_archive_open(int fd, struct ops_archive **out, struct err *e);
NODISCARD int ops_archive_file_begin(struct ops_archive *a, const char *rel, uint64_t size,
				     struct err *e);
NODISCARD int ops_archive_write(struct ops_archive *a, const void *p, size_t n, struct err *e);
NODISCARD int ops_archive_file_end(struct ops_archive *a, struct err *e);
/* Ends the archive and the compressed stream. */
NODISCARD int ops_archive_close(struct ops_archive *a, struct err *e);
void ops_archive_free(struct ops_archive *a);
/* Unpacks an archive read from fd into the folder `dir` (which exists): regular files
 * under safe relative paths only. */
NODISCARD int ops_archive_extract(int fd, const char *dir, uint64_t *out_bytes, int *out_files,
				  struct err *e);

/* Pieces of backup.c that migrate.c puts together: a backup into the new folder `to`;
 * its check against its manifest (*m: the manifest); its share files (apps, static
 * content, custom data) into the share `sp`; its rows into the PostgreSQL database of
 * `pg` (conninfo and password set; db_url for the messages), the service cluster then
 * naming `sp`'s folders (NULL: left as they were); a folder removed with all it holds. */
NODISCARD int ops_backup_to_folder(const char *dir, const char *to, bool quiet, struct err *e);
NODISCARD int ops_backup_verify(const char *from, bool quiet, json_t **m, struct err *e);
NODISCARD int ops_backup_restore_share(const char *from, json_t *m, const struct share_paths *sp,
				       bool quiet, struct err *e);
NODISCARD int ops_backup_restore_rows(const char *from, const char *db_url, struct db_config *pg,
				      const struct share_paths *sp, int64_t *rows, struct err *e);

/* How uploads are checked: as app files, while they stream in (app.c). */
extern const struct repo_file_check ops_file_check;

/* The site's own PostgreSQL instance (localdb.c). */
struct ops_localdb {
	const char *dir; /* the node folder; the instance goes in dir/pgdata */
	int port;
	const char *listen; /* an IPv4 address; 0.0.0.0 means every interface */
	const char *owner;  /* the service user when run as root; NULL: postgres */
};
/* Initialises, configures and starts the instance, creates role and database "fathom",
 * and gives the URL to reach it (password included; caller frees). On failure nothing is
 * left behind. */
NODISCARD int ops_localdb_create(const struct ops_localdb *ld, char **out_url, struct err *e);
/* Stops and removes the instance of a node folder (undoing a failed site create). */
void ops_localdb_destroy(const char *dir);
/* Starts the node folder's instance when it has one and it is down (fathom run). */
NODISCARD int ops_localdb_ensure_running(const char *dir, struct err *e);

/* The database settings of a node's node.conf, with its password unsealed. */
struct ops_db {
	struct db_config cfg; /* borrows from the conf and from this struct */
	char *password;
	char path[PATH_MAX];
	char app_name[96]; /* "fathom NODE-NAME" */
};
/* Reads [database] of `cf` for the node in `dir`; release with ops_db_release. */
NODISCARD int ops_db_from_conf(const struct conf *cf, const char *dir, struct ops_db *out,
			       struct err *e);
void ops_db_release(struct ops_db *d);

/* Parses "show|set --dir DIR [ARGS...]" (argv[1] is show or set). Returns -1 when the
 * command goes on, with the first positional argument's index in *out_first; otherwise the
 * exit status to return (after printing help or usage). */
int ops_parse_show_set(int argc, char **argv, const char *usage, bool *out_set,
		       const char **out_dir, int *out_first);

/* node.conf's [database] for PostgreSQL at `db_url`: its password sealed with the node's
 * DIR/secret.key (made when missing; *made_key says so), never written in clear. */
NODISCARD int ops_conf_postgres(struct conf *cf, const char *dir, const char *db_url,
				bool *made_key, struct err *e);

/* Opens the database of the node in `dir` (one connection) as its node.conf says.
 * Caller owns *out (db_close). */
NODISCARD int ops_open_node_db(const struct conf *cf, const char *dir, struct db **out,
			       struct err *e);

/* A node's share folders. node.conf's [share] root is where the site's root folder is
 * mounted on this node; every other folder is the service cluster's (its
 * sharedPersistenceProperties, mapped onto this mount by share_map_folder) unless node.conf
 * names one of its own for this node; <root>/Apps and so on when neither does. */
enum { OPS_SHARE_FOLDERS = 4 };
struct ops_share {
	struct share_paths sp; /* points into this struct and the conf */
	char folders[OPS_SHARE_FOLDERS][PATH_MAX];
	json_t *site; /* the cluster's sharedPersistenceProperties as read (caller decrefs) */
	unsigned own; /* bit i: folder i is node.conf's own */
};
/* The folders' node.conf keys and sharedPersistenceProperties names, in sp's order. */
extern const char *const ops_share_keys[OPS_SHARE_FOLDERS][2];
NODISCARD int ops_share_resolve(const struct conf *cf, struct db *db, struct ops_share *out,
				struct err *e);
void ops_share_release(struct ops_share *s);

/* A node's repository opened in-process from its folder, for commands that act on the
 * site without going through a running node (app create, task start). */
struct ops_local {
	struct conf *cf;
	struct db *db;
	struct share *share;
	struct repo *repo;
	struct http_handler h;
};
NODISCARD int ops_local_open(const char *dir, struct ops_local *out, struct err *e);
/* The arguments of a command that takes --dir DIR and one word (a name, an action):
 * -1 when they are right (*dir and *word set), else the exit status (0 after --help, 2 with
 * the usage on stderr). */
int ops_dir_and_word(int argc, char **argv, const char *usage, const char **dir, const char **word);
void ops_local_close(struct ops_local *l);
/* A request to it as the administrator; returns the HTTP status, the body in *out (caller
 * frees). `query` may be NULL. */
int ops_local_call(struct ops_local *l, const char *method, const char *path, const char *query,
		   const void *body, size_t len, char **out, size_t *out_len);
/* Appends `key=value` to the query in q ('&' first unless empty), every byte of the value
 * that is not plain percent-encoded. */
NODISCARD int ops_query_param(struct buf *q, const char *key, const char *value);
/* app.c: uploads an app NAME holding `script` (NULL: empty) and the app objects in the
 * JSON array `objects` (NULL: none; as app create --objects reads them) to the site of l;
 * its id into id_out. */
NODISCARD int ops_app_upload(struct ops_local *l, const char *name, const char *script,
			     const char *objects, char id_out[UUID_STR_LEN + 1], struct err *e);

/* The proxy's ports as given to site create or node join (NULL: not given): whether each
 * given one is a port number (0-65535), and writing them into node.conf's [proxy]. */
bool ops_proxy_ports_ok(const char *port, const char *http, const char *api);
void ops_conf_proxy_ports(struct conf *cf, const char *port, const char *http, const char *api);
/* One line of `in`, without its line end; read without echo after `prompt` (on stderr)
 * when `in` is a terminal. NULL at the end of input. Caller frees. */
char *ops_read_line(FILE *in, const char *prompt);
/* user.c: a new password from `file` (its first line), the terminal (asked twice) or
 * stdin, checked for length; `who` names the user in the prompt. Caller frees. */
NODISCARD int ops_read_new_password(const char *file, const char *who, char **out, struct err *e);
/* Creates INTERNAL\`name` with `roles` and `password`. */
NODISCARD int ops_user_create(struct ops_local *l, const char *name, const char *const *roles,
			      int n_roles, const char *password, struct err *e);

/* The reload worker's command line for `job` (reload_worker.c, which declares its options
 * once for both ends); a repo_worker_argv_fn. */
const char *const *ops_reload_worker_argv(const char *exe, const struct repo_reload_job *job,
					  struct arena *a);

/* The node's scheduler (scheduler.c): the central role, triggers and reload workers, with
 * node.conf's [scheduler] settings. */
struct sched;
NODISCARD int ops_sched_start(const struct conf *cf, struct db *db, struct repo *repo,
			      const char *node_id, struct sched **out, struct err *e);

/* The node's engine service (engine.c): QIX sessions on the engine port. */
struct ops_engine_config {
	struct db *db;	     /* borrowed */
	struct share *share; /* borrowed */
	struct repo *repo;   /* this node's repository, for saves and reloads; borrowed */
	const char *listen;  /* NULL: every interface */
	int port;
	const struct http_server_config *http; /* limits and TLS of the node's ports */
	int64_t memory_bytes;		       /* open apps past this are evicted when unused */
	int64_t poll_ms; /* how often to look for new app generations; 0: 2 s */
};
struct ops_engine;
NODISCARD int ops_engine_start(const struct ops_engine_config *cfg, struct ops_engine **out,
			       struct err *e);
void ops_engine_stop(struct ops_engine *en);
/* The engine port presents this certificate to new connections from now on. */
NODISCARD int ops_engine_reload_cert(struct ops_engine *en, const char *cert_pem,
				     const char *key_pem, struct err *e);
/* How many sessions the engine holds and which apps it has in memory (all zero without an
 * engine), for the heartbeat. */
void ops_engine_load(struct ops_engine *en, struct repo_engine_load *out);
/* The apps in memory, the bytes they hold and the sessions open (zeros without an engine). */
void ops_engine_stats(struct ops_engine *en, int *apps, int64_t *bytes, int *sessions);
/* Drops people's kept selections not changed for keep_ms. */
void ops_engine_gc(struct ops_engine *en, int64_t keep_ms);
/* The client certificates the engine port refuses (http_server_set_revoked); NULL en: none. */
NODISCARD int ops_engine_set_revoked(struct ops_engine *en, const char *const *hex, size_t n,
				     struct err *e);
/* The engine's QIX handler, for the proxy to hand sessions to; all NULL without an engine. */
struct http_handler ops_engine_handler(struct ops_engine *en);
/* Whether this process may bind ports below 1024 (root, CAP_NET_BIND_SERVICE, or a lowered
 * net.ipv4.ip_unprivileged_port_start). */
bool ops_can_bind_low_ports(void);

#endif
