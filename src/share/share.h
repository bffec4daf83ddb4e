/* share.h: the file share every node mounts: its layout, and app files as immutable
 * generations.
 *
 * An app file is <Apps>/<app-id>.<generation>. It is written as a hidden temporary file
 * named after the writing node, flushed, recorded in the node's pending journal, renamed
 * into place, and only then named by the repository row (the caller's transaction). After
 * the commit the journal entry goes away. A node that dies anywhere in between finds its
 * temporary files and journal entries at the next start (share_recover) and removes every
 * file the repository does not name, so a crash leaves neither a partial file nor an orphan.
 *
 * Threads: a struct share is immutable after share_open and may be used from any thread;
 * a struct share_writer belongs to one thread. */
#ifndef FATHOM_SHARE_H
#define FATHOM_SHARE_H

#include "core/core.h"

#include <limits.h>

struct share_paths {
	const char *root;
	const char *apps;	    /* default <root>/Apps */
	const char *static_content; /* default <root>/StaticContent */
	const char *archived_logs;  /* default <root>/ArchivedLogs */
	const char *custom_data;    /* default <root>/CustomData */
};

struct share;

/* ERR_UNAVAILABLE for errno values of a share that cannot be reached now (EIO, ENOTCONN,
 * network errors), ERR_NO_SPACE for a full one (ENOSPC, EDQUOT), else ERR_IO. */
int share_errno_code(int errnum);

/* A share that did not answer (a call failed with ERR_UNAVAILABLE) is held off for two
 * seconds: share_available answers ERR_UNAVAILABLE at once meanwhile, rather than let every
 * caller wait for a network share's time-outs (whose client queues calls behind its
 * reconnection, so that each caller adds to the next one's wait). After that one caller
 * at a time tries it again: the one share_available lets through must say how its call
 * ended with share_note (its code; 0 for success), and the others are answered at once
 * until then (or for 15 s at most). share_held_off answers the same without ever being
 * the one that tries, for callers that cannot say how their calls end. */
NODISCARD int share_available(struct share *s, struct err *e);
NODISCARD int share_held_off(struct share *s, struct err *e);
void share_note(struct share *s, int code);

/* Where folder `folder` of a site whose root folder is `site_root` lies on a node that
 * mounts that root at `node_root`: a folder inside the site's root keeps its place under
 * the node's mount; one outside it is the same path on every node. ERR_INVALID for a path
 * that is not absolute, has "." or ".." parts or control characters, or does not fit. */
NODISCARD int share_map_folder(const char *site_root, const char *folder, const char *node_root,
			       char *out, size_t n, struct err *e);

/* Creates the share's folders (for a new site). Existing folders are kept. */
NODISCARD int share_layout_create(const struct share_paths *p, struct err *e);

/* Tries in folder `dir` (the share's apps) what Fathom needs of a share: create, write
 * and fsync a file, rename it over an existing one and read the new content back, fsync
 * the folder (EINVAL accepted). Leaves nothing behind. ERR_CONFIG naming the step that
 * failed. */
NODISCARD int share_probe(const char *dir, struct err *e);

/* Opens the share for node `node_id`, whose pending journal lives in `journal_dir`. Checks
 * that every folder exists and is writable, naming the first that is not.
 * Caller owns *out; free with share_close. */
NODISCARD int share_open(const struct share_paths *p, const char *node_id, const char *journal_dir,
			 struct share **out, struct err *e);
void share_close(struct share *s);
const char *share_apps_dir(const struct share *s);
const char *share_root(const struct share *s);
const char *share_archived_logs_dir(const struct share *s);

#define SHARE_GEN_LEN 16
/* A new generation name: 16 lowercase hex digits, unique with overwhelming probability. */
void share_gen_new(char out[SHARE_GEN_LEN + 1]);
/* Writes the path of an app generation into `out`. Returns 0 or ERR_INVALID (too long, or an
 * id or generation that is not a plain name). */
NODISCARD int share_app_path(const struct share *s, const char *app_id, const char *gen, char *out,
			     size_t n);

/* Writing one app generation. */
struct share_writer;

/* Starts a new generation `gen` of `app_id`, refusing more than `max_bytes` in all.
 * Caller owns *out: finish it with share_writer_commit_done after the repository names the
 * file, or share_writer_abort on any failure. */
NODISCARD int share_writer_begin(struct share *s, const char *app_id, const char *gen,
				 uint64_t max_bytes, struct share_writer **out, struct err *e);
/* Appends bytes (hashing them). ERR_TOO_LARGE past max_bytes; ERR_IO on a write error. */
NODISCARD int share_writer_write(struct share_writer *w, const void *data, size_t len,
				 struct err *e);
/* Copies the whole of the file at `src_path` into the writer (no hashing: the caller passes
 * the source's known hash to share_writer_finish). */
NODISCARD int share_writer_copy_from(struct share_writer *w, const char *src_path, struct err *e);
/* Flushes the data, records the generation in the journal and renames it into place.
 * *out_size gets the byte count; out_sha (65 bytes) the SHA-256 in hex, unless `known_sha`
 * is given, which is copied instead. After this the file is visible but not yet live. */
NODISCARD int share_writer_finish(struct share_writer *w, const char *known_sha, uint64_t *out_size,
				  char out_sha[65], struct err *e);
/* The generation being written. Borrowed; valid while `w` lives. */
const char *share_writer_gen(const struct share_writer *w);
/* The repository now names the generation: drops the journal entry and frees `w`. */
void share_writer_commit_done(struct share_writer *w);
/* Undoes everything the writer did (temporary file, renamed file, journal entry); frees `w`.
 * NULL is a no-op. */
void share_writer_abort(struct share_writer *w);

/* Answers whether the repository names generation `gen` of `app_id` as live (or otherwise
 * still needs it). Returns 1 for yes, 0 for no, negative for "cannot tell" (keep the file). */
typedef int (*share_is_live_fn)(void *ctx, const char *app_id, const char *gen);

/* Crash recovery for this node: removes its temporary files and, for each journal entry,
 * the file unless `is_live` says the repository names it. Returns the number of files
 * removed, or a negative error. */
int share_recover(struct share *s, share_is_live_fn is_live, void *ctx, struct err *e);
/* Removes app files older than `grace_ms` that `is_live` disowns (superseded generations
 * and files of deleted apps), and temporary files of any node older than a day. Returns the
 * number removed, or a negative error. */
int share_gc(struct share *s, int64_t grace_ms, share_is_live_fn is_live, void *ctx, struct err *e);
/* Marks generation `gen` of `app_id` as superseded now: garbage collection counts its grace
 * period from this moment, not from when the file was written. */
void share_app_superseded(struct share *s, const char *app_id, const char *gen);
/* Removes every generation of `app_id` (after its row is gone). Returns files removed. */
int share_remove_app(struct share *s, const char *app_id);

/* ---------------------------------------------------------------- data connections (lib.c) */

/* A folder data connection as a load script reaches it: lib://Name/path is a file inside
 * `folder`, and nothing a script writes may lead out of it (no "..", no backslash, no
 * symbolic link that points outside). */
struct share_lib {
	const char *name;      /* borrowed */
	char folder[PATH_MAX]; /* the folder's real path */
};

/* Fills *out for connection `name` (borrowed) at `folder`. ERR_NOT_FOUND when the folder
 * does not exist; *out is then unusable. */
NODISCARD int share_lib_init(struct share_lib *out, const char *name, const char *folder,
			     struct err *e);

/* Whether `folder` may be a folder data connection's: an absolute path that neither lies
 * in nor holds a folder of the operating system: "/", /etc, /proc, /var/lib, ... or one of
 * `guarded` (the node's folder, the share's apps; NULL entries are skipped). Links are
 * followed where the folder exists. ERR_FIELD with the reason. */
NODISCARD int share_folder_check(const char *folder, const char *const *guarded, int n_guarded,
				 struct err *e);

/* Resolves `path` (lib://Name/rest, Name in any case) against `libs` into `out`. For a
 * write, the folder of the file must exist; for a read, the file. ERR_FORBIDDEN: not a
 * lib:// path, or it leads out of its folder; ERR_NOT_FOUND: no such connection, file or
 * folder; ERR_INVALID: the path names the folder itself. */
NODISCARD int share_lib_resolve(const struct share_lib *libs, int n_libs, const char *path,
				bool for_write, char *out, size_t out_len, struct err *e);

/* Opens what `path` names, as share_lib_resolve checks it, and then with the kernel
 * resolving it beneath the connection's folder (openat2, RESOLVE_BENEATH): a link swapped
 * in after the check cannot lead out, since the open itself refuses to leave the folder.
 * For a read, *fd is the file (O_RDONLY); for a write, *fd is the folder the file goes
 * into (O_RDONLY | O_DIRECTORY, for file_write_atomic_at) and `leaf` the file's name.
 * Caller closes *fd. */
NODISCARD int share_lib_open(const struct share_lib *libs, int n_libs, const char *path,
			     bool for_write, int *fd, char *leaf, size_t leaf_len, struct err *e);

#endif
