/* core.h: Fathom's shared utilities, the bottom layer every module may use.
 *
 * Errors (an int code from errors.def plus a request-owned detail object), logging,
 * capped growable buffers, arenas, UUIDs, ISO 8601 UTC time, string helpers and the
 * node configuration file. Nothing here depends on any other Fathom module.
 *
 * Threads: everything is thread-safe except where an object says it belongs to one
 * thread (struct buf, struct arena, struct err are owned by the caller and not shared). */
#ifndef FATHOM_CORE_H
#define FATHOM_CORE_H

/* The version of this build (fathom --version, the QRS about, EngineVersion()). */
#define FATHOM_VERSION "0.1.0"

#include <stdarg.h>
#include <stdbool.h>
#include <limits.h>
#include <stddef.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#define NODISCARD	  __attribute__((warn_unused_result))
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#define ARRAY_LEN(a)	  (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------- errors */

enum err_code {
	ERR_OK = 0,
#define X(name, http, rpc, msg) name,
	ERR_FIRST_ = -1000,
#include "errors.def"
#undef X
};

/* The default message of `code` ("internal error" for unknown codes). Never NULL. */
const char *err_str(int code);
/* The symbolic name of `code`, e.g. "ERR_STALE". Never NULL. */
const char *err_name(int code);
/* The HTTP status QRS answers for `code` (500 for unknown codes). */
int err_http_status(int code);
/* The JSON-RPC error code for `code`. */
int err_rpc_code(int code);
/* The code of a failed file call's errno: a file system that cannot be reached now (a
 * network share whose server or link is down answers EIO, ENOTCONN or a network error) is
 * ERR_UNAVAILABLE (to be retried), a full one ERR_NO_SPACE (ENOSPC, EDQUOT), else ERR_IO. */
int err_io_code(int errnum);

/* Detail of a failure, owned by whoever runs the operation (a request, a CLI command).
 * The first error set wins; later err_set calls on a set object are ignored. */
struct err {
	int code;	   /* 0 while no error is set */
	char message[512]; /* what failed, lowercase, quoting the subject */
	char detail[512];  /* optional: more about why */
	char hint[256];	   /* optional: what to do about it */
	int position;	   /* optional: 1-based position in parsed input; 0 when unset */
};

void err_init(struct err *e);
/* Sets code and message (printf format) unless an error is already set.
 * Returns `code`, so `return err_set(e, ERR_X, "...")` reads naturally. */
int err_set(struct err *e, int code, const char *fmt, ...) PRINTF_LIKE(3, 4);
/* Adds a detail or hint to the error already set (no-op when none is set or one exists). */
void err_detail(struct err *e, const char *fmt, ...) PRINTF_LIKE(2, 3);
void err_hint(struct err *e, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* ---------------------------------------------------------------- logging */

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Starts logging to stderr and, when `path` is not NULL, appending to that file.
 * Returns 0 or ERR_IO (message in `e`). Call once per process before other threads start. */
NODISCARD int log_open(const char *path, enum log_level min, struct err *e);
void log_close(void);
/* The least level written from now on (node.conf [log] level, read again on SIGHUP). */
void log_set_level(enum log_level min);
/* The file turns over at `max_bytes` (0: no limit) and at each new UTC day, keeping `keep`
 * older files beside it (NAME.1 the newest); each finished file is copied into
 * `archive_dir` (NULL: none) as fathom-<time>-<pid>.log. */
void log_rotation(uint64_t max_bytes, int keep, const char *archive_dir);
void log_msg(enum log_level lvl, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* An audit line ("audit: ..."): written at level info whatever the level set, so that the
 * record of who changed what never depends on it. */
void log_audit(const char *fmt, ...) PRINTF_LIKE(1, 2);
/* Who and what a line of the log file is about, between brackets after the level:
 * `[pid node service request]` ("-" where unknown). The node is the process's (its name,
 * set once); the service and the request are the calling thread's, set while it works on
 * one (a request's id; NULL clears). The service is its first word ("proxy API": proxy);
 * spaces and brackets in the others become '_'. */
void log_set_node(const char *name);
/* Whether servers write a line per answered request ("http: GET /qrs/app 200 1.2 ms"; the
 * route, not the path, so no id or name of a resource is in it). */
void log_set_requests(bool on);
bool log_requests(void);
void log_context_set(const char *service, const char *request);
/* The last warnings and errors (the last 32 kept), those after sequence number `after`,
 * oldest first, into out[max]; returns how many. */
struct log_entry {
	uint64_t seq;
	enum log_level level;
	char at[32];
	char message[512];
};
int log_recent(uint64_t after, struct log_entry *out, int max);
const char *log_level_name(enum log_level l);
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

/* ---------------------------------------------------------------- buffers */

/* A growable byte buffer with a hard cap. Always NUL-terminated after the data.
 * Embedded in its owner: buf_init / buf_release. */
struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max; /* the most bytes it may ever hold */
};

void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b);
/* Appends `len` bytes. Returns 0, ERR_TOO_LARGE past `max`, or ERR_NOMEM; on failure the
 * buffer is unchanged. */
NODISCARD int buf_append(struct buf *b, const void *data, size_t len);
NODISCARD int buf_puts(struct buf *b, const char *s);
NODISCARD int buf_printf(struct buf *b, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* Makes room for `extra` more bytes without adding any (to write into data + len directly;
 * pages never written take no memory). ERR_TOO_LARGE or ERR_NOMEM. */
NODISCARD int buf_reserve(struct buf *b, size_t extra);
/* Takes the data out of the buffer (caller owns it; free with free()); the buffer is empty. */
char *buf_steal(struct buf *b);

/* Large memory is faulted in as 2 MiB pages where the kernel allows it (transparent huge
 * pages in "madvise" mode): a fresh 64 MiB buffer cost about 200 ms of page faults on this
 * project's virtual machines, and 15-20 ms with huge pages. mem_advise_huge marks the
 * whole 2 MiB pages inside [p, p + len) when len is at least MEM_HUGE_MIN; mem_alloc is
 * malloc with that advice. Buffers grown past MEM_HUGE_MIN get it by themselves. */
#define MEM_HUGE_MIN ((size_t)4 << 20)
void mem_advise_huge(void *p, size_t len);
void *mem_alloc(size_t len);

/* ---------------------------------------------------------------- JSON out */

/* Writing jansson values as compact JSON in one pass, and making strings of large texts
 * without jansson's per-character work (json.c). json_encode writes exactly what
 * json_dumps(v, JSON_COMPACT) writes (the unit tests and fuzz_qix compare the two), any
 * value, at memory speed for long strings: jansson took about 1.4 s for a 64 MiB script. */
typedef struct json_t json_t; /* jansson's, the same type */

/* Appends the compact JSON of `v` to `out`. 0, ERR_TOO_LARGE (the buffer's cap, or nesting
 * deeper than 2,048), or ERR_NOMEM; on failure `out` holds a partial text. */
NODISCARD int json_encode_buf(const json_t *v, struct buf *out);
/* The compact JSON of `v` as a new NUL-terminated string (free with free()), its length in
 * *len; NULL when out of memory. */
char *json_encode(const json_t *v, size_t *len);

/* True when the `n` bytes at `s` are valid UTF-8 (as jansson checks it: no surrogates, no
 * overlong forms, nothing past U+10FFFF). */
bool utf8_valid(const char *s, size_t n);
/* A JSON string of `n` bytes of UTF-8 (NUL bytes allowed); NULL when invalid or out of
 * memory. Like json_stringn, with a faster check. */
json_t *json_text(const char *s, size_t n);

/* Makes jansson allocate with mem_alloc, so that a large string it copies lands in huge
 * pages. Process-wide; safe at any time (both allocators are malloc's). */
void json_use_huge_pages(void);

/* ---------------------------------------------------------------- arenas */

/* A region allocator for one scope (a request, a query). Everything allocated from it is
 * freed at once by arena_free, which also runs the registered cleanups in reverse order.
 * Owned by one thread. Allocation failure aborts the process (see arena.c for why). */
struct arena;
typedef void (*arena_cleanup_fn)(void *p);

/* Caller owns the result; free with arena_free. */
struct arena *arena_new(void);
void arena_free(struct arena *a);
void *arena_alloc(struct arena *a, size_t n);	    /* zeroed, 16-aligned */
char *arena_strdup(struct arena *a, const char *s); /* NULL in, NULL out */
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* Runs fn(p) when the arena is freed. */
void arena_on_free(struct arena *a, arena_cleanup_fn fn, void *p);

/* ---------------------------------------------------------------- ids and time */

#define UUID_STR_LEN 36
/* Writes a random (version 4) lowercase UUID and a NUL into out[37]. */
void uuid_new(char out[UUID_STR_LEN + 1]);
/* True when `s` is a UUID in 8-4-4-4-12 hex form (any case). */
bool uuid_valid(const char *s);
/* Lowercases a valid UUID in place. */
void uuid_lower(char *s);
#define UUID_EMPTY "00000000-0000-0000-0000-000000000000"

#define ISO_TIME_LEN 24 /* 2018-12-17T15:58:21.204Z */
/* Milliseconds since the epoch, from the real-time clock: for what is stored or shown. It
 * may step (seen on this project's virtual machines: several seconds at once), so it never
 * measures a wait. */
int64_t time_now_ms(void);
/* Milliseconds of a clock that never steps (CLOCK_MONOTONIC): for deadlines, time-outs,
 * intervals and durations. Only differences mean anything. */
int64_t time_mono_ms(void);
/* A condition whose timed waits count on CLOCK_MONOTONIC: a step of the wall clock (an hour
 * back, as the fault suite makes) neither stretches nor cuts them. */
void time_cond_init(pthread_cond_t *cv);
/* Waits on `cv` (made by time_cond_init, `mu` held) for at most ms; ETIMEDOUT when the time
 * ran out, else 0 (woken, or spuriously). */
int time_cond_wait_ms(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t ms);
/* Sleeps for ms milliseconds (resuming after signals). */
void sleep_ms(int64_t ms);
/* `ms` spread by up to `pct` percent either way, at random: periodic work of many nodes
 * then does not beat together. */
int64_t time_jitter_ms(int64_t ms, int pct);
/* Formats `ms` as ISO 8601 UTC with milliseconds into out[25]. */
void time_format_iso(int64_t ms, char out[ISO_TIME_LEN + 1]);
/* Parses "YYYY-MM-DD", "YYYY-MM-DD hh:mm:ss", "YYYY-MM-DDThh:mm:ss[.fff][Z]" (UTC).
 * Returns 0 and sets *out_ms, or ERR_INVALID. */
NODISCARD int time_parse_iso(const char *s, int64_t *out_ms);
#define TIME_NEVER "1753-01-01T00:00:00.000Z"

/* ---------------------------------------------------------------- strings */

/* Copies at most size-1 bytes and NUL-terminates. Returns strlen(src) (truncated when >= size). */
size_t str_copy(char *dst, const char *src, size_t size);
bool str_ieq(const char *a, const char *b);
bool str_ieqn(const char *a, const char *b, size_t n);
bool str_has_prefix(const char *s, const char *prefix);
/* Wildcard match of the whole of `s`, without case: * any run, ? one character. */
bool str_like(const char *s, const char *pattern);
/* Parses a whole decimal integer in [min, max]. Returns 0 or ERR_INVALID. */
NODISCARD int str_to_i64(const char *s, int64_t min, int64_t max, int64_t *out);
/* The same for the decimal number at the start of `s` (an optional sign, then digits), for
 * numbers inside a larger text: *out_end gets the first character after it. ERR_INVALID
 * without a digit, or out of [min, max]; then *out and *out_end are unchanged. */
NODISCARD int str_to_i64_prefix(const char *s, const char **out_end, int64_t min, int64_t max,
				int64_t *out);
/* True when `s` holds a control character (< 0x20 or 0x7f); tabs and newlines count only
 * when `allow_space_ctl` is false. */
bool str_has_ctl(const char *s, bool allow_space_ctl);
/* Percent-encodes `s` for a URL path segment into the arena. */
char *str_url_encode(struct arena *a, const char *s);

/* ---------------------------------------------------------------- files */

/* Writes `len` bytes to `path` atomically: a temporary file in the same folder, fsync,
 * rename, fsync of the folder. `mode` applies to the new file. Returns 0 or ERR_IO. */
NODISCARD int file_write_atomic(const char *path, const void *data, size_t len, unsigned mode,
				struct err *e);
/* The same, written piece by piece: file_atomic_begin makes the temporary file (fd, to
 * write to), file_atomic_commit flushes it and renames it over the path, and
 * file_atomic_abort (after a failure, or instead of committing) removes it. */
struct file_atomic {
	int fd;
	char tmp[PATH_MAX], path[PATH_MAX];
};
NODISCARD int file_atomic_begin(struct file_atomic *a, const char *path, unsigned mode,
				struct err *e);
NODISCARD int file_atomic_commit(struct file_atomic *a, struct err *e);
void file_atomic_abort(struct file_atomic *a);
/* write(2) and pwrite(2) of all `len` bytes (retrying where interrupted): 0 or -1 (errno). */
int file_write_all(int fd, const void *data, size_t len);
int file_pwrite_all(int fd, const void *data, size_t len, uint64_t at);
/* The same for file `name` in the folder open as `dirfd` (O_RDONLY | O_DIRECTORY): the
 * temporary file is made there without following links, and renamed over `name` (a link
 * named `name` is replaced, not followed). */
NODISCARD int file_write_atomic_at(int dirfd, const char *name, const void *data, size_t len,
				   unsigned mode, struct err *e);
/* Reads a whole file of at most `max` bytes. Caller owns *out (free()). Returns 0, ERR_IO
 * or ERR_TOO_LARGE. */
NODISCARD int file_read_all(const char *path, size_t max, char **out, size_t *out_len,
			    struct err *e);
/* fsyncs a folder. Returns 0 or ERR_IO. */
NODISCARD int dir_sync(const char *path, struct err *e);
/* mkdir -p with `mode` for created folders. Returns 0 or ERR_IO. */
NODISCARD int dir_make_all(const char *path, unsigned mode, struct err *e);
/* The same, calling created(ctx, folder) for each folder it made (may be NULL). */
typedef void (*dir_created_fn)(void *ctx, const char *path);
NODISCARD int dir_make_all_cb(const char *path, unsigned mode, dir_created_fn created, void *ctx,
			      struct err *e);
/* rm -rf: removes `path` and everything below it, without following symbolic links. 0,
 * or ERR_IO when something could not be removed (a missing path is no error); cleanups
 * that cannot do better may ignore it. */
int dir_remove_all(const char *path, struct err *e);
bool path_exists(const char *path);
bool dir_is_writable(const char *path);
/* open(path, flags, mode), waited for `ms` milliseconds at most: for a file on a network
 * share, whose client may keep a call waiting for as long as its link is down. On a
 * time-out it answers -1 with errno ETIMEDOUT, and a thread of its own waits for the call
 * to end (closing what it opened, and removing a file it made with O_CREAT | O_EXCL).
 * Otherwise as open(). */
int file_open_within(const char *path, int flags, unsigned mode, int64_t ms);

/* ---------------------------------------------------------------- child processes */

/* One program run as a child process, waited for (proc.c). The only fork and exec of the
 * code base: reload workers and PostgreSQL's tools go through it. */
struct proc_spec {
	const char *const *argv; /* argv[0] is the program's path; NULL-terminated */
	/* stdout and stderr are appended to this file (created 0600, owned by the child's
	 * user); NULL: stdout goes to /dev/null, and stderr too when `quiet` (else it stays
	 * the parent's) */
	const char *output;
	bool quiet;
	bool as_user; /* run as uid:gid (switching only when it differs from ours) */
	uid_t uid;
	gid_t gid;
	int64_t memory_bytes; /* address-space limit of the child; 0: none */
	int64_t timeout_ms;   /* killed with SIGKILL after it; 0: no limit */
	/* Called once with the child's pid before it is waited for; false kills it at once (a
	 * cancel that came first). Another thread may kill(pid) while it runs. May be NULL. */
	bool (*started)(void *ctx, pid_t pid);
	void *ctx;
};

enum proc_end {
	PROC_EXITED,	/* code: the exit status (127: the program could not run) */
	PROC_SIGNALED,	/* code: the signal */
	PROC_TIMED_OUT, /* killed at timeout_ms */
};

struct proc_status {
	enum proc_end end;
	int code;
};

/* Runs the child and waits for it. Returns 0 with *out filled, or ERR_INTERNAL when no
 * child could be made (then `started` was not called). Threads: any; it blocks the caller
 * for the child's life, polling every 20 ms while a timeout applies. */
NODISCARD int proc_run(const struct proc_spec *spec, struct proc_status *out, struct err *e);

/* Runs this program again (the same pid and arguments) with glibc's malloc advising
 * transparent huge pages for its large allocations (GLIBC_TUNABLES glibc.malloc.hugetlb=1),
 * which the kernel offers in its "madvise" mode: an app's columns and states are faulted
 * in 2 MiB at a time. Opening a 10 M-row app took 7.4 s on this project's virtual
 * machines, 3.4 s so; a cube with three products selected, 66 ms and 18 ms. Returns (and
 * the program goes on as it is) when the setting is there already, when
 * FATHOM_HUGE_PAGES=0, when the kernel never gives huge pages, when the exec fails, or in
 * a build with AddressSanitizer (whose malloc no glibc setting reaches). */
void proc_huge_malloc(char **argv);

/* ---------------------------------------------------------------- metrics */

/* What a node counts for /metrics (Prometheus text format, metrics.c). A series is a name
 * ("fathom_http_requests_total") and a label set written as Prometheus writes it
 * ("service=\"repository\",code=\"200\"", or NULL for none); it is made on first use
 * (at most 2048). `help` is the name's description, kept from the first use. Thread-safe. */
enum metrics_kind { METRICS_COUNTER, METRICS_GAUGE, METRICS_HISTOGRAM };
enum { METRICS_BUCKETS = 15 };
void metrics_add(const char *name, const char *labels, const char *help, double v);
void metrics_set(const char *name, const char *labels, const char *help, double v);
/* A duration in seconds into a histogram (buckets from 1 ms to 5 minutes). */
void metrics_observe(const char *name, const char *labels, const char *help, double seconds);
/* A collector writes the samples of what is a state, not a count (sessions open, the
 * central role), when the page is made; metrics_sample writes one (HELP and TYPE first
 * when `help` is given). */
typedef void (*metrics_collect_fn)(void *ctx, struct buf *out);
void metrics_collector_add(metrics_collect_fn fn, void *ctx);
void metrics_collector_remove(metrics_collect_fn fn, void *ctx);
void metrics_sample(struct buf *b, const char *name, const char *type, const char *help,
		    const char *labels, double v);
/* The page: every series sorted by name and labels, then the collectors'. */
NODISCARD int metrics_render(struct buf *out);
/* A label value with \, " and newlines escaped, into out[n]. */
void metrics_label_text(char *out, size_t n, const char *s);

/* ---------------------------------------------------------------- crash points */

/* For crash tests: kills the process with SIGKILL when the environment variable
 * FATHOM_CRASH_POINT equals `name` (with FATHOM_CRASH_ONCE=FILE, only the process that
 * creates FILE, so that a retry or a restarted process goes on). Costs one cached
 * comparison otherwise. Each point is named where it is called (see docs/testing.md for
 * the list). */
void crash_point(const char *name);

/* ---------------------------------------------------------------- node configuration */

/* node.conf: an INI file. Keys are "section.key". Values are strings; a missing key reads
 * as the default given to conf_get. */
struct conf;

/* Caller owns *out; free with conf_free. Returns 0, ERR_IO (cannot read) or ERR_CONFIG
 * (syntax error, with the line in `e`). */
NODISCARD int conf_load(const char *path, struct conf **out, struct err *e);
struct conf *conf_new(void);
void conf_free(struct conf *c);
/* Borrowed; valid until the key is set again or the conf is freed. */
const char *conf_get(const struct conf *c, const char *key, const char *dflt);
NODISCARD int conf_get_int(const struct conf *c, const char *key, int64_t dflt, int64_t min,
			   int64_t max, int64_t *out, struct err *e);
void conf_set(struct conf *c, const char *key, const char *value);
/* Removes a key (nothing when it is not there). */
void conf_unset(struct conf *c, const char *key);
/* Writes the file atomically with mode 0640. */
NODISCARD int conf_save(const struct conf *c, const char *path, struct err *e);

/* ---------------------------------------------------------------- calendar and zones */

int64_t cal_floor_div(int64_t a, int64_t b);
int64_t cal_days_from_civil(int y, int m, int d);
void cal_civil_from_days(int64_t days, int *y, int *m, int *d);
int cal_weekday(int64_t days); /* 0 Sunday .. 6 Saturday */
int cal_month_days(int y, int m);

struct tz_zone;
/* Reads zone `name` ("Europe/Paris") from $TZDIR or /usr/share/zoneinfo. ERR_INVALID names
 * an unknown zone. */
NODISCARD int tz_load(const char *name, struct tz_zone **out, struct err *e);
/* Reads a TZif file (version 2 or later) from memory. ERR_INVALID when it is damaged. */
NODISCARD int tz_parse(const char *name, const void *data, size_t len, struct tz_zone **out,
		       struct err *e);
void tz_free(struct tz_zone *tz);
const char *tz_name(const struct tz_zone *tz);
/* The offset from UTC (seconds east) at UTC second t, and whether it is daylight time. */
void tz_offset(const struct tz_zone *tz, int64_t t, int32_t *off, bool *dst);

/* QRS daylightSavingTime: follow the zone, or keep its standard or its daylight offset. */
enum { TZ_DST_OBSERVE = 0, TZ_DST_PERMANENT_STD = 1, TZ_DST_PERMANENT_DST = 2 };
int32_t tz_offset_mode(const struct tz_zone *tz, int mode, int64_t t);
/* The UTC second of wall-clock second `wall` (seconds since 1970 as if the zone were UTC).
 * A skipped time moves forward by the gap; a repeated one is the earlier instant. */
int64_t tz_to_utc(const struct tz_zone *tz, int mode, int64_t wall);

#endif
