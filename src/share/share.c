/* share.c: share layout, app generations, crash recovery and garbage collection. */
#include "share/share.h"
#include "crypto/crypto.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define LEFT_MAX 64

struct share {
	char root[PATH_MAX];
	char apps[PATH_MAX];
	char static_content[PATH_MAX];
	char archived_logs[PATH_MAX];
	char custom_data[PATH_MAX];
	char node_id[64];
	char journal[PATH_MAX];
	int64_t down_until; /* held off until then (monotonic ms; 0: answering); atomic */
	/* unfinished files of this node's that could not be removed while the share was held
	 * off: the next garbage collection removes them (`left_mu` guards them) */
	pthread_mutex_t left_mu;
	char *left[LEFT_MAX];
	int n_left;
};

#define PENDING_SIZE   (4u << 20)
#define RING_SLOTS     8
#define WRITEBACK_STEP (8u << 20)
#define WRITE_BATCH    4
#define SYNC_STEP      (64u << 20)

struct share_writer {
	struct share *s;
	int fd;
	char app_id[64];
	char gen[SHARE_GEN_LEN + 1];
	char tmp_path[PATH_MAX];
	char final_path[PATH_MAX];
	char journal_path[PATH_MAX];
	struct crypto_sha256 *sha;
	uint64_t size, max;
	bool renamed, journaled;
	/* Writes are gathered into `pending` (a slot of `ring`) and written out a buffer at a
	 * time; data written through the page cache is handed to the kernel's writeback every
	 * WRITEBACK_STEP bytes so that the final fsync does not have the whole file left. */
	char *pending;
	size_t n_pending;
	uint64_t flushed, written_back;
	/* Streamed data goes straight to the disk (O_DIRECT) in whole aligned blocks when the
	 * file system allows it: it skips the copy into the page cache, which bounds uploads
	 * otherwise. The unaligned tail is written through the cache. */
	int direct; /* 0 not tried, 1 on, -1 refused */
	/* Large files go through a ring of RING_SLOTS buffers: the caller fills one while
	 * three helper threads work behind it: one hashes the full buffers, one writes them
	 * (each buffer is hashed and written at the same time, in order), and one asks the disk
	 * to persist what is written every SYNC_STEP bytes, so that the final fsync has little
	 * left to flush. Started on the first full buffer; small files never start them.
	 * Counters are in buffers; `mu` guards them, `stop` and `thr_err`. */
	char *ring[RING_SLOTS];
	bool thr_on, thr_tried, stop;
	uint64_t full, hashed, written, synced;
	pthread_t thr[3];
	bool caller_waits;
	pthread_mutex_t mu;
	pthread_cond_t more;  /* a buffer is full, or stop: the hashing and writing threads */
	pthread_cond_t done;  /* a buffer is hashed or written: the caller, when it waits */
	pthread_cond_t flush; /* SYNC_STEP more is written, or stop: the syncing thread */
	struct err thr_err;
};

/* The code of a failed file call on the share: a share that cannot be reached (a network
 * share whose server or link is down answers EIO, ENOTCONN or a network error) is
 * unavailable for now (503, to be retried), a full one has no space (507); the rest are
 * input/output errors. */
int share_errno_code(int errnum)
{
	int code = err_io_code(errnum);
	metrics_add("fathom_share_errors_total",
		    code == ERR_NO_SPACE      ? "kind=\"no_space\""
		    : code == ERR_UNAVAILABLE ? "kind=\"unavailable\""
					      : "kind=\"io\"",
		    "calls to the share that failed, by kind", 1);
	return code;
}

#define HOLD_OFF_MS 2000
/* how long one caller's try of a held-off share may last before another may try: a network
 * share's client queues its calls behind a reconnection, so a second try meanwhile only
 * waits longer */
#define PROBE_MS 15000
/* how long the first call of a write waits for the share before answering 503 */
#define SHARE_CALL_MS 8000

int share_available(struct share *s, struct err *e)
{
	int64_t until = __atomic_load_n(&s->down_until, __ATOMIC_ACQUIRE);
	if (until == 0)
		return 0;
	int64_t now = time_mono_ms();
	/* past the hold-off, this caller tries (and says how it went with share_note); the
	 * others are answered at once until it has */
	if (now >= until && __atomic_compare_exchange_n(&s->down_until, &until, now + PROBE_MS,
							false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return 0;
	return err_set(e, ERR_UNAVAILABLE, "the share did not answer moments ago; try again");
}

int share_held_off(struct share *s, struct err *e)
{
	int64_t until = __atomic_load_n(&s->down_until, __ATOMIC_ACQUIRE);
	if (until == 0 || time_mono_ms() >= until)
		return 0;
	return err_set(e, ERR_UNAVAILABLE, "the share did not answer moments ago; try again");
}

void share_note(struct share *s, int code)
{
	if (code == ERR_UNAVAILABLE)
		__atomic_store_n(&s->down_until, time_mono_ms() + HOLD_OFF_MS, __ATOMIC_RELEASE);
	else if (__atomic_load_n(&s->down_until, __ATOMIC_ACQUIRE) != 0)
		__atomic_store_n(&s->down_until, 0, __ATOMIC_RELEASE);
}

static const char *or_default(char *buf, size_t n, const char *given, const char *root,
			      const char *leaf)
{
	if (given && *given)
		return given;
	snprintf(buf, n, "%s/%s", root, leaf);
	return buf;
}

static void resolve(const struct share_paths *p, struct share *s)
{
	char tmp[PATH_MAX];
	str_copy(s->root, p->root, sizeof(s->root));
	str_copy(s->apps, or_default(tmp, sizeof(tmp), p->apps, p->root, "Apps"), sizeof(s->apps));
	str_copy(s->static_content,
		 or_default(tmp, sizeof(tmp), p->static_content, p->root, "StaticContent"),
		 sizeof(s->static_content));
	str_copy(s->archived_logs,
		 or_default(tmp, sizeof(tmp), p->archived_logs, p->root, "ArchivedLogs"),
		 sizeof(s->archived_logs));
	str_copy(s->custom_data,
		 or_default(tmp, sizeof(tmp), p->custom_data, p->root, "CustomData"),
		 sizeof(s->custom_data));
}

/* An absolute path without "." or ".." parts, empty parts or control characters. */
static bool plain_absolute(const char *p)
{
	if (p[0] != '/' || str_has_ctl(p, false))
		return false;
	for (const char *s = p; *s;) {
		const char *part = ++s;
		while (*s && *s != '/')
			s++;
		size_t len = (size_t)(s - part);
		if ((len == 0 && *s) || (len == 1 && part[0] == '.') ||
		    (len == 2 && part[0] == '.' && part[1] == '.'))
			return false;
	}
	return true;
}

int share_map_folder(const char *site_root, const char *folder, const char *node_root, char *out,
		     size_t n, struct err *e)
{
	const char *paths[] = {site_root, folder, node_root};
	for (size_t i = 0; i < ARRAY_LEN(paths); i++)
		if (!plain_absolute(paths[i]))
			return err_set(e, ERR_INVALID,
				       "\"%s\" is not an absolute path without . or .. parts",
				       paths[i]);
	size_t rl = strlen(site_root);
	while (rl > 1 && site_root[rl - 1] == '/')
		rl--;
	bool inside = strncmp(folder, site_root, rl) == 0 &&
		      (folder[rl] == '\0' || folder[rl] == '/' || rl == 1);
	size_t nl = strlen(node_root);
	while (nl > 1 && node_root[nl - 1] == '/')
		nl--;
	const char *suffix = rl == 1 ? folder : folder + rl; /* "" or "/..." */
	int w = inside ? snprintf(out, n, "%.*s%s", nl == 1 && suffix[0] ? 0 : (int)nl, node_root,
				  suffix)
		       : snprintf(out, n, "%s", folder);
	if (w < 0 || (size_t)w >= n)
		return err_set(e, ERR_INVALID, "the folder \"%s\" is too long", folder);
	return 0;
}

int share_layout_create(const struct share_paths *p, struct err *e)
{
	struct share s;
	resolve(p, &s);
	const char *dirs[] = {s.root, s.apps, s.static_content, s.archived_logs, s.custom_data};
	for (size_t i = 0; i < ARRAY_LEN(dirs); i++) {
		int rc = dir_make_all(dirs[i], 0750, e);
		if (rc)
			return rc;
	}
	static const char *const sub[] = {"AppContent", "Content", "Extensions", "DefaultApps"};
	for (size_t i = 0; i < ARRAY_LEN(sub); i++) {
		char path[PATH_MAX + 32];
		snprintf(path, sizeof(path), "%s/%s", s.static_content, sub[i]);
		int rc = dir_make_all(path, 0750, e);
		if (rc)
			return rc;
	}
	return 0;
}

int share_open(const struct share_paths *p, const char *node_id, const char *journal_dir,
	       struct share **out, struct err *e)
{
	*out = NULL;
	struct share *s = calloc(1, sizeof(*s));
	if (!s)
		return err_set(e, ERR_NOMEM, "out of memory");
	pthread_mutex_init(&s->left_mu, NULL);
	resolve(p, s);
	str_copy(s->node_id, node_id, sizeof(s->node_id));
	str_copy(s->journal, journal_dir, sizeof(s->journal));
	const struct {
		const char *what, *path;
	} dirs[] = {{"share root", s->root},
		    {"Apps", s->apps},
		    {"StaticContent", s->static_content},
		    {"ArchivedLogs", s->archived_logs},
		    {"CustomData", s->custom_data}};
	for (size_t i = 0; i < ARRAY_LEN(dirs); i++) {
		if (!path_exists(dirs[i].path)) {
			err_set(e, ERR_CONFIG, "share folder %s \"%s\" does not exist",
				dirs[i].what, dirs[i].path);
			err_hint(e, "is the share mounted? the paths are in node.conf [share]");
			share_close(s);
			return ERR_CONFIG;
		}
		if (!dir_is_writable(dirs[i].path)) {
			err_set(e, ERR_CONFIG, "share folder %s \"%s\" is not a writable folder",
				dirs[i].what, dirs[i].path);
			share_close(s);
			return ERR_CONFIG;
		}
	}
	int rc = dir_make_all(s->journal, 0700, e);
	if (rc) {
		share_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

/* One step of the probe: on failure, the error and the hint. */
static int probe_fail(const char *dir, const char *what, int errnum, struct err *e)
{
	err_set(e, ERR_CONFIG, "the share folder \"%s\" cannot %s: %s", dir, what,
		strerror(errnum));
	err_hint(e, "Fathom needs a share that creates, writes, flushes and renames files, a "
		    "rename replacing an existing file at once (docs/reliability.md lists what "
		    "it needs and what an sshfs share offers)");
	return ERR_CONFIG;
}

int share_probe(const char *dir, struct err *e)
{
	char gen[SHARE_GEN_LEN + 1], a[PATH_MAX], b[PATH_MAX];
	share_gen_new(gen);
	snprintf(a, sizeof(a), "%s/.probe-%s.tmp", dir, gen);
	snprintf(b, sizeof(b), "%s/.probe-%s.old", dir, gen);
	static const char content[] = "a probe of the share by fathom; it removes this file\n";
	int rc = 0, fa = -1, fb = -1;
	char back[sizeof(content)] = {0};
	if ((fa = open(a, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640)) < 0)
		return probe_fail(dir, "create a file", errno, e);
	if (write(fa, content, sizeof(content) - 1) != (ssize_t)sizeof(content) - 1)
		rc = probe_fail(dir, "write a file", errno, e);
	else if (fsync(fa) != 0)
		rc = probe_fail(dir, "flush a file (fsync)", errno, e);
	close(fa);
	if (rc == 0 && ((fb = open(b, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640)) < 0 ||
			write(fb, "old", 3) != 3))
		rc = probe_fail(dir, "create a second file", errno, e);
	if (fb >= 0)
		close(fb);
	if (rc == 0 && rename(a, b) != 0)
		rc = probe_fail(dir, "rename a file over an existing one", errno, e);
	if (rc == 0) {
		int fd = open(b, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, back, sizeof(back) - 1) : -1;
		if (fd >= 0)
			close(fd);
		if (n != (ssize_t)sizeof(content) - 1 || memcmp(back, content, sizeof(content) - 1))
			rc = probe_fail(dir,
					"replace a file by renaming another over it (the old "
					"content stayed)",
					EIO, e);
	}
	int fd = rc == 0 ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (fd >= 0 && fsync(fd) != 0 && errno != EINVAL)
		rc = probe_fail(dir, "flush a folder (fsync)", errno, e);
	if (fd >= 0)
		close(fd);
	unlink(a);
	if (unlink(b) != 0 && errno != ENOENT && rc == 0)
		rc = probe_fail(dir, "remove a file", errno, e);
	return rc;
}

void share_close(struct share *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->n_left; i++)
		free(s->left[i]);
	pthread_mutex_destroy(&s->left_mu);
	free(s);
}

/* Remembers an unfinished file to remove at the next garbage collection (past LEFT_MAX,
 * the collection's grace time removes it). */
static void leave(struct share *s, const char *path)
{
	pthread_mutex_lock(&s->left_mu);
	if (s->n_left < LEFT_MAX) {
		char *p = strdup(path);
		if (p)
			s->left[s->n_left++] = p;
	}
	pthread_mutex_unlock(&s->left_mu);
}

/* Removes the files leave() remembered; those the share still refuses are remembered
 * again. The list is taken out first, so that a removal that hangs in the share never
 * keeps a request's leave() waiting. */
static int remove_left(struct share *s)
{
	char *take[LEFT_MAX];
	pthread_mutex_lock(&s->left_mu);
	int n = s->n_left;
	memcpy(take, s->left, (size_t)n * sizeof(*take));
	s->n_left = 0;
	pthread_mutex_unlock(&s->left_mu);
	int removed = 0;
	for (int i = 0; i < n; i++) {
		int rc = unlink(take[i]);
		if (rc == 0) {
			log_info("gc: removed unfinished app file \"%s\"", take[i]);
			removed++;
		} else if (errno != ENOENT) {
			leave(s, take[i]);
		}
		free(take[i]);
	}
	return removed;
}

const char *share_apps_dir(const struct share *s)
{
	return s->apps;
}

const char *share_archived_logs_dir(const struct share *s)
{
	return s->archived_logs;
}

const char *share_root(const struct share *s)
{
	return s->root;
}

void share_gen_new(char out[SHARE_GEN_LEN + 1])
{
	unsigned char b[8];
	while (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		;
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < 8; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[SHARE_GEN_LEN] = '\0';
}

/* An id or generation that can be a file-name part: no separators, no dots, not empty. */
static bool plain_name(const char *s)
{
	if (!s || !*s || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= 'A' && *s <= 'Z') || *s == '-' || *s == '_'))
			return false;
	return true;
}

int share_app_path(const struct share *s, const char *app_id, const char *gen, char *out, size_t n)
{
	if (!plain_name(app_id) || !plain_name(gen))
		return ERR_INVALID;
	if ((size_t)snprintf(out, n, "%s/%s.%s", s->apps, app_id, gen) >= n)
		return ERR_INVALID;
	return 0;
}

int share_writer_begin(struct share *s, const char *app_id, const char *gen, uint64_t max_bytes,
		       struct share_writer **out, struct err *e)
{
	*out = NULL;
	if (!plain_name(app_id) || !plain_name(gen))
		return err_set(e, ERR_INVALID, "invalid app file name \"%s.%s\"", app_id, gen);
	int rc = share_available(s, e);
	if (rc)
		return rc;
	struct share_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return err_set(e, ERR_NOMEM, "out of memory");
	w->s = s;
	w->fd = -1;
	w->max = max_bytes;
	str_copy(w->app_id, app_id, sizeof(w->app_id));
	str_copy(w->gen, gen, sizeof(w->gen));
	if ((size_t)snprintf(w->tmp_path, sizeof(w->tmp_path), "%s/.%s.%s.%s.tmp", s->apps, app_id,
			     gen, s->node_id) >= sizeof(w->tmp_path) ||
	    (size_t)snprintf(w->final_path, sizeof(w->final_path), "%s/%s.%s", s->apps, app_id,
			     gen) >= sizeof(w->final_path) ||
	    (size_t)snprintf(w->journal_path, sizeof(w->journal_path), "%s/%s.%s", s->journal,
			     app_id, gen) >= sizeof(w->journal_path)) {
		free(w);
		return err_set(e, ERR_IO, "app file path too long under \"%s\"", s->apps);
	}
	if (posix_memalign((void **)&w->ring[0], 4096, PENDING_SIZE) != 0)
		w->ring[0] = NULL;
	w->pending = w->ring[0];
	if (!w->pending) {
		free(w);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	rc = crypto_sha256_new(&w->sha, e);
	if (rc) {
		free(w->pending);
		free(w);
		return rc;
	}
	/* the first call of an upload or reload on the share: one that hangs (a network share
	 * whose link just went down) is given up after a while, and the share held off */
	w->fd = file_open_within(w->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640,
				 SHARE_CALL_MS);
	int errnum = errno;
	int code = w->fd < 0 ? share_errno_code(errnum) : 0;
	share_note(s, code);
	if (w->fd < 0) {
		if (errnum == ETIMEDOUT)
			err_set(e, ERR_UNAVAILABLE,
				"the share did not answer within %d s (creating app file \"%s\")",
				SHARE_CALL_MS / 1000, w->tmp_path);
		else
			err_set(e, code, "cannot create app file \"%s\": %s", w->tmp_path,
				strerror(errnum));
		crypto_sha256_free(w->sha);
		free(w->pending);
		free(w);
		return e->code;
	}
	*out = w;
	return 0;
}

static void set_direct(struct share_writer *w, bool on)
{
	int fl = fcntl(w->fd, F_GETFL);
	if (fl < 0 || fcntl(w->fd, F_SETFL, on ? (fl | O_DIRECT) : (fl & ~O_DIRECT)) != 0) {
		w->direct = -1;
		return;
	}
	w->direct = on ? 1 : -1;
}

/* Writes `n` pieces in order (several full buffers go to the disk in one call). */
static int write_outv(struct share_writer *w, struct iovec *iov, int n, struct err *e)
{
	size_t len = 0;
	for (int i = 0; i < n; i++)
		len += iov[i].iov_len;
	bool aligned = len % 4096 == 0 && w->flushed % 4096 == 0;
	if (w->direct == 0 && aligned)
		set_direct(w, true);
	else if (w->direct == 1 && !aligned)
		set_direct(w, false);
	while (n > 0) {
		ssize_t k = writev(w->fd, iov, n);
		if (k < 0) {
			if (errno == EINVAL && w->direct == 1) {
				set_direct(w, false); /* the file system refuses direct I/O */
				continue;
			}
			if (errno == EINTR)
				continue;
			int errnum = errno;
			int code = share_errno_code(errnum);
			share_note(w->s, code);
			return err_set(e, code, "cannot write app file \"%s\": %s", w->tmp_path,
				       strerror(errnum));
		}
		w->flushed += (uint64_t)k;
		while (n > 0 && (size_t)k >= iov->iov_len) {
			k -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + k;
			iov->iov_len -= (size_t)k;
		}
	}
	if (w->direct != 1 && w->flushed - w->written_back >= WRITEBACK_STEP) {
		/* Start writeback now; errors surface at the final fsync. */
		(void)sync_file_range(w->fd, (off_t)w->written_back,
				      (off_t)(w->flushed - w->written_back), SYNC_FILE_RANGE_WRITE);
		w->written_back = w->flushed;
	}
	return 0;
}

static int write_out(struct share_writer *w, const char *p, size_t len, struct err *e)
{
	struct iovec v = {(void *)p, len};
	return len ? write_outv(w, &v, 1, e) : 0;
}

/* ---- the pipeline of large files (see struct share_writer) ---- */

/* Keeps the first error of any helper; called with `mu` held. */
static void keep_error(struct share_writer *w, const struct err *e)
{
	if (e->code && !w->thr_err.code)
		w->thr_err = *e;
}

static void *hash_thread(void *arg)
{
	struct share_writer *w = arg;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->stop && w->hashed == w->full)
			pthread_cond_wait(&w->more, &w->mu);
		if (w->stop)
			break;
		const char *buf = w->ring[w->hashed % RING_SLOTS];
		pthread_mutex_unlock(&w->mu);
		crypto_sha256_update(w->sha, buf, PENDING_SIZE);
		pthread_mutex_lock(&w->mu);
		w->hashed++;
		if (w->caller_waits)
			pthread_cond_signal(&w->done);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static void *write_thread(void *arg)
{
	struct share_writer *w = arg;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->stop && w->written == w->full)
			pthread_cond_wait(&w->more, &w->mu);
		if (w->stop)
			break;
		/* all the full buffers there are, up to WRITE_BATCH, in one write */
		struct iovec iov[WRITE_BATCH];
		int n = 0;
		while (n < WRITE_BATCH && w->written + (uint64_t)n < w->full) {
			iov[n].iov_base = w->ring[(w->written + (uint64_t)n) % RING_SLOTS];
			iov[n++].iov_len = PENDING_SIZE;
		}
		bool failed = w->thr_err.code != 0;
		pthread_mutex_unlock(&w->mu);
		struct err e;
		err_init(&e);
		if (!failed)
			(void)write_outv(w, iov, n, &e);
		pthread_mutex_lock(&w->mu);
		keep_error(w, &e);
		w->written += (uint64_t)n;
		if (w->caller_waits)
			pthread_cond_signal(&w->done);
		if (w->written - w->synced >= SYNC_STEP / PENDING_SIZE)
			pthread_cond_signal(&w->flush);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* fdatasync of what is written, every SYNC_STEP. An error here is kept: the kernel
 * reports a write-back error to one fsync only, so the final one would not see it. */
static void *sync_thread(void *arg)
{
	struct share_writer *w = arg;
	const uint64_t step = SYNC_STEP / PENDING_SIZE;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->stop && w->written - w->synced < step)
			pthread_cond_wait(&w->flush, &w->mu);
		if (w->stop)
			break;
		uint64_t upto = w->written;
		pthread_mutex_unlock(&w->mu);
		struct err e;
		err_init(&e);
		if (fdatasync(w->fd) != 0)
			err_set(&e, ERR_IO, "cannot flush app file \"%s\": %s", w->tmp_path,
				strerror(errno));
		pthread_mutex_lock(&w->mu);
		keep_error(w, &e);
		w->synced = upto;
		if (e.code && w->caller_waits)
			pthread_cond_signal(&w->done);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Stops and joins the first `n` helpers, and frees what they share. */
static void helpers_end(struct share_writer *w, int n)
{
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_broadcast(&w->more);
	pthread_cond_signal(&w->flush);
	pthread_mutex_unlock(&w->mu);
	for (int i = 0; i < n; i++)
		pthread_join(w->thr[i], NULL);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->more);
	pthread_cond_destroy(&w->done);
	pthread_cond_destroy(&w->flush);
}

static void pipeline_stop(struct share_writer *w)
{
	if (w->thr_on)
		helpers_end(w, 3);
	w->thr_on = false;
}

/* Starts the helpers with a ring of buffers; false (nothing started) when either cannot be
 * had, and the caller writes on its own thread. */
static bool pipeline_start(struct share_writer *w)
{
	for (int i = 1; i < RING_SLOTS; i++)
		if (posix_memalign((void **)&w->ring[i], 4096, PENDING_SIZE) != 0) {
			w->ring[i] = NULL;
			return false;
		}
	err_init(&w->thr_err);
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->more, NULL);
	pthread_cond_init(&w->done, NULL);
	pthread_cond_init(&w->flush, NULL);
	void *(*fn[3])(void *) = {hash_thread, write_thread, sync_thread};
	int started = 0;
	while (started < 3 && pthread_create(&w->thr[started], NULL, fn[started], w) == 0)
		started++;
	if (started < 3) {
		helpers_end(w, started);
		w->stop = false;
		return false;
	}
	w->thr_on = true;
	return true;
}

/* Waits until the helpers have hashed and written at least up to `upto` buffers, and
 * returns their error, if any, copied into `e`. */
static int pipeline_wait(struct share_writer *w, uint64_t upto, struct err *e)
{
	pthread_mutex_lock(&w->mu);
	w->caller_waits = true;
	while (!w->thr_err.code && (w->hashed < upto || w->written < upto))
		pthread_cond_wait(&w->done, &w->mu);
	w->caller_waits = false;
	struct err te = w->thr_err;
	pthread_mutex_unlock(&w->mu);
	if (te.code && e && !e->code)
		*e = te;
	return te.code;
}

/* The full buffer is handed to the helpers (started the first time) and the next slot,
 * once they are done with it, becomes `pending`. Without helpers, it is hashed and written
 * here. */
static int submit_full(struct share_writer *w, struct err *e)
{
	if (!w->thr_tried) {
		w->thr_tried = true;
		(void)pipeline_start(w);
	}
	if (!w->thr_on) {
		crypto_sha256_update(w->sha, w->pending, w->n_pending);
		int rc = write_out(w, w->pending, w->n_pending, e);
		w->n_pending = 0;
		return rc;
	}
	pthread_mutex_lock(&w->mu);
	uint64_t n = ++w->full;
	pthread_cond_broadcast(&w->more);
	pthread_mutex_unlock(&w->mu);
	w->n_pending = 0;
	w->pending = w->ring[n % RING_SLOTS];
	return n >= RING_SLOTS ? pipeline_wait(w, n - RING_SLOTS + 1, e) : 0;
}

/* Writes out everything still buffered, here, after the helpers are done. */
static int flush_pending(struct share_writer *w, struct err *e)
{
	int rc = w->thr_on ? pipeline_wait(w, w->full, e) : 0;
	pipeline_stop(w);
	if (rc)
		return rc;
	crypto_sha256_update(w->sha, w->pending, w->n_pending);
	rc = write_out(w, w->pending, w->n_pending, e);
	w->n_pending = 0;
	return rc;
}

int share_writer_write(struct share_writer *w, const void *data, size_t len, struct err *e)
{
	if (len > w->max || w->size > w->max - len)
		return err_set(e, ERR_TOO_LARGE, "app file is larger than the limit of %llu bytes",
			       (unsigned long long)w->max);
	w->size += len; /* hashed as each megabyte is written (writer_thread, submit_full) */
	const char *p = data;
	while (len) {
		size_t room = PENDING_SIZE - w->n_pending;
		size_t n = len < room ? len : room;
		memcpy(w->pending + w->n_pending, p, n);
		w->n_pending += n;
		p += n;
		len -= n;
		if (w->n_pending == PENDING_SIZE) {
			int rc = submit_full(w, e);
			if (rc)
				return rc;
		}
	}
	crash_point("share-writing");
	return 0;
}

int share_writer_copy_from(struct share_writer *w, const char *src_path, struct err *e)
{
	int src = open(src_path, O_RDONLY | O_CLOEXEC);
	if (src < 0)
		return err_set(e, share_errno_code(errno), "cannot open app file \"%s\": %s",
			       src_path, strerror(errno));
	struct stat st;
	if (fstat(src, &st) != 0) {
		close(src);
		return err_set(e, share_errno_code(errno), "cannot read app file \"%s\": %s",
			       src_path, strerror(errno));
	}
	if ((uint64_t)st.st_size > w->max) {
		close(src);
		return err_set(e, ERR_TOO_LARGE, "app file is larger than the limit of %llu bytes",
			       (unsigned long long)w->max);
	}
	int rc = 0;
	off_t left = st.st_size;
	while (left > 0) {
		ssize_t n = copy_file_range(src, NULL, w->fd, NULL, (size_t)left, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* Some file systems (and kernels) refuse copy_file_range: copy by hand. */
			if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP ||
				      errno == EINVAL)) {
				char buf[1 << 16];
				ssize_t r;
				while ((r = read(src, buf, sizeof(buf))) > 0) {
					if (write(w->fd, buf, (size_t)r) != r) {
						rc = err_set(e, share_errno_code(errno),
							     "cannot write \"%s\": %s", w->tmp_path,
							     strerror(errno));
						break;
					}
					left -= r;
				}
				if (r < 0)
					rc = err_set(e, share_errno_code(errno),
						     "cannot read \"%s\": %s", src_path,
						     strerror(errno));
				break;
			}
			rc = err_set(e, share_errno_code(errno), "cannot copy app file \"%s\": %s",
				     src_path,
				     n < 0 ? strerror(errno) : "file shrank while copying");
			break;
		}
		left -= n;
		crash_point("share-writing");
	}
	close(src);
	if (rc == 0)
		w->size = (uint64_t)st.st_size;
	return rc;
}

static int journal_add(struct share_writer *w, struct err *e)
{
	int fd = open(w->journal_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set(e, share_errno_code(errno), "cannot write journal entry \"%s\": %s",
			       w->journal_path, strerror(errno));
	int ok = fsync(fd);
	close(fd);
	if (ok != 0)
		return err_set(e, share_errno_code(errno), "cannot flush journal entry \"%s\": %s",
			       w->journal_path, strerror(errno));
	w->journaled = true;
	return dir_sync(w->s->journal, e);
}

int share_writer_finish(struct share_writer *w, const char *known_sha, uint64_t *out_size,
			char out_sha[65], struct err *e)
{
	int frc = flush_pending(w, e);
	if (frc)
		return frc;
	if (fsync(w->fd) != 0) {
		int errnum = errno;
		int code = share_errno_code(errnum);
		share_note(w->s, code);
		return err_set(e, code, "cannot flush app file \"%s\": %s", w->tmp_path,
			       strerror(errnum));
	}
	close(w->fd);
	w->fd = -1;
	int rc = journal_add(w, e);
	if (rc)
		return rc;
	crash_point("share-journaled");
	if (rename(w->tmp_path, w->final_path) != 0)
		return err_set(e, share_errno_code(errno),
			       "cannot move app file into place \"%s\": %s", w->final_path,
			       strerror(errno));
	w->renamed = true;
	rc = dir_sync(w->s->apps, e);
	if (rc)
		return rc;
	crash_point("share-renamed");
	if (known_sha) {
		str_copy(out_sha, known_sha, 65);
	} else {
		crypto_sha256_finish(w->sha, out_sha);
		w->sha = NULL;
	}
	*out_size = w->size;
	return 0;
}

const char *share_writer_gen(const struct share_writer *w)
{
	return w->gen;
}

static void writer_free(struct share_writer *w)
{
	pipeline_stop(w);
	for (int i = 0; i < RING_SLOTS; i++)
		free(w->ring[i]);
	if (w->fd >= 0)
		close(w->fd);
	crypto_sha256_free(w->sha);
	free(w);
}

void share_writer_commit_done(struct share_writer *w)
{
	if (!w)
		return;
	if (w->journaled && unlink(w->journal_path) != 0)
		log_warn("cannot remove journal entry \"%s\": %s", w->journal_path,
			 strerror(errno));
	writer_free(w);
}

void share_writer_abort(struct share_writer *w)
{
	if (!w)
		return;
	struct err e;
	err_init(&e);
	if (!w->renamed && !w->journaled && share_available(w->s, &e) != 0) {
		/* a share that does not answer is not asked to clean up (each call would wait
		 * for its time-out): the next garbage collection removes the unfinished file */
		leave(w->s, w->tmp_path);
		writer_free(w);
		return;
	}
	/* closed first: an SMB server refuses to remove a file that is still open (EBUSY) */
	pipeline_stop(w);
	if (w->fd >= 0) {
		close(w->fd);
		w->fd = -1;
	}
	const char *path = w->renamed ? w->final_path : w->tmp_path;
	int rc = unlink(path);
	int errnum = errno;
	share_note(w->s, rc == 0 || errnum == ENOENT ? 0 : share_errno_code(errnum));
	if (rc != 0 && errnum != ENOENT)
		log_warn("cannot remove the unfinished app file \"%s\": %s", path,
			 strerror(errnum));
	if (w->journaled)
		unlink(w->journal_path);
	writer_free(w);
}

/* Splits "<id>.<gen>" into its parts; false for other names. */
static bool split_app_file(const char *name, char *id, size_t id_n, char *gen, size_t gen_n)
{
	const char *dot = strchr(name, '.');
	if (!dot || dot == name || strchr(dot + 1, '.'))
		return false;
	size_t il = (size_t)(dot - name);
	if (il >= id_n)
		return false;
	memcpy(id, name, il);
	id[il] = '\0';
	if (str_copy(gen, dot + 1, gen_n) >= gen_n)
		return false;
	return plain_name(id) && plain_name(gen);
}

int share_recover(struct share *s, share_is_live_fn is_live, void *ctx, struct err *e)
{
	int removed = 0;
	DIR *d = opendir(s->apps);
	if (!d)
		return err_set(e, share_errno_code(errno), "cannot list \"%s\": %s", s->apps,
			       strerror(errno));
	char suffix[80];
	snprintf(suffix, sizeof(suffix), ".%s.tmp", s->node_id);
	size_t sl = strlen(suffix);
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (de->d_name[0] == '.' && n > sl && strcmp(de->d_name + n - sl, suffix) == 0) {
			char path[PATH_MAX + 256];
			snprintf(path, sizeof(path), "%s/%s", s->apps, de->d_name);
			if (unlink(path) == 0) {
				log_info("recovery: removed unfinished app file \"%s\"", path);
				removed++;
			}
		}
	}
	closedir(d);

	d = opendir(s->journal);
	if (!d)
		return err_set(e, share_errno_code(errno), "cannot list \"%s\": %s", s->journal,
			       strerror(errno));
	while ((de = readdir(d))) {
		char id[80], gen[80];
		if (!split_app_file(de->d_name, id, sizeof(id), gen, sizeof(gen)))
			continue;
		int live = is_live(ctx, id, gen);
		if (live < 0) {
			closedir(d);
			return err_set(e, ERR_UNAVAILABLE,
				       "recovery: cannot ask the repository about app file %s.%s",
				       id, gen);
		}
		char path[PATH_MAX + 256], jpath[PATH_MAX + 256];
		snprintf(path, sizeof(path), "%s/%s.%s", s->apps, id, gen);
		snprintf(jpath, sizeof(jpath), "%s/%s", s->journal, de->d_name);
		if (!live && unlink(path) == 0) {
			log_info("recovery: removed app file \"%s\" that no app names", path);
			removed++;
		}
		unlink(jpath);
	}
	closedir(d);
	if (removed)
		if (dir_sync(s->apps, e) != 0)
			log_warn("recovery: cannot flush \"%s\"", s->apps);
	return removed;
}

/* How old a probe's file may be before the garbage collection takes it for left over: a
 * probe takes milliseconds on a share that answers, and its files are removed at its end. */
#define PROBE_LEFT_MS 30000

int share_gc(struct share *s, int64_t grace_ms, share_is_live_fn is_live, void *ctx, struct err *e)
{
	if (share_available(s, e))
		return e->code;
	DIR *d = opendir(s->apps);
	share_note(s, d ? 0 : share_errno_code(errno));
	if (!d)
		return err_set(e, share_errno_code(errno), "cannot list \"%s\": %s", s->apps,
			       strerror(errno));
	int removed = remove_left(s);
	int64_t now = time_now_ms();
	char own[80];
	snprintf(own, sizeof(own), ".%s.tmp", s->node_id);
	size_t ol = strlen(own);
	struct dirent *de;
	while ((de = readdir(d))) {
		char path[PATH_MAX + 256];
		snprintf(path, sizeof(path), "%s/%s", s->apps, de->d_name);
		struct stat st;
		size_t nl = strlen(de->d_name);
		if (strncmp(de->d_name, ".probe-", 7) == 0) {
			/* a probe's files live for a moment (share_probe); one older than
			 * PROBE_LEFT_MS was left by a probe that could not remove it (the share
			 * went away under it, or its node was killed), whichever node's it was */
			if (stat(path, &st) == 0 &&
			    now - (int64_t)st.st_mtime * 1000 > PROBE_LEFT_MS &&
			    unlink(path) == 0) {
				log_info("gc: removed a probe's file \"%s\"", path);
				removed++;
			}
			continue;
		}
		if (de->d_name[0] == '.' && nl > 4 && strcmp(de->d_name + nl - 4, ".tmp") == 0) {
			/* an unfinished file of this node's that nobody has written for the grace
			 * time was left by an upload whose clean-up failed (the share was away
			 * then); another node's gets a day, in case its clock or writes lag */
			bool mine = nl > ol && strcmp(de->d_name + nl - ol, own) == 0;
			int64_t keep = mine ? grace_ms : 86400000LL;
			if (stat(path, &st) == 0 && now - (int64_t)st.st_mtime * 1000 > keep &&
			    unlink(path) == 0) {
				log_info("gc: removed unfinished app file \"%s\"", path);
				removed++;
			}
			continue;
		}
		char id[80], gen[80];
		if (!split_app_file(de->d_name, id, sizeof(id), gen, sizeof(gen)))
			continue;
		if (stat(path, &st) != 0 || now - (int64_t)st.st_mtime * 1000 < grace_ms)
			continue;
		if (is_live(ctx, id, gen) == 0 && unlink(path) == 0) {
			log_info("gc: removed app file \"%s\"", path);
			removed++;
		}
	}
	closedir(d);
	return removed;
}

void share_app_superseded(struct share *s, const char *app_id, const char *gen)
{
	char path[PATH_MAX];
	if (share_app_path(s, app_id, gen, path, sizeof(path)) != 0)
		return;
	if (utimensat(AT_FDCWD, path, NULL, 0) != 0 && errno != ENOENT)
		log_warn("cannot mark \"%s\" as superseded: %s", path, strerror(errno));
}

int share_remove_app(struct share *s, const char *app_id)
{
	if (!plain_name(app_id))
		return 0;
	DIR *d = opendir(s->apps);
	if (!d)
		return 0;
	int removed = 0;
	size_t il = strlen(app_id);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, app_id, il) == 0 && de->d_name[il] == '.') {
			char path[PATH_MAX + 256];
			snprintf(path, sizeof(path), "%s/%s", s->apps, de->d_name);
			if (unlink(path) == 0)
				removed++;
		}
	}
	closedir(d);
	return removed;
}
