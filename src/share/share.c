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
#include <unistd.h>

struct share {
	char root[PATH_MAX];
	char apps[PATH_MAX];
	char static_content[PATH_MAX];
	char archived_logs[PATH_MAX];
	char custom_data[PATH_MAX];
	char node_id[64];
	char journal[PATH_MAX];
};

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
	/* Writes are gathered into `pending` and flushed a megabyte at a time; written data
	 * is handed to the kernel's writeback every WRITEBACK_STEP bytes so that the final
	 * fsync does not have the whole file left to write. */
	char *pending;
	size_t n_pending;
	uint64_t flushed, written_back;
	/* Streamed data goes straight to the disk (O_DIRECT) in whole aligned blocks when the
	 * file system allows it: it skips the copy into the page cache, which bounds uploads
	 * otherwise. The unaligned tail is written through the cache. */
	int direct; /* 0 not tried, 1 on, -1 refused */
	/* Large uploads write on a helper thread from the buffer just filled while the
	 * caller fills the other one, so receiving and writing overlap. Started on the first
	 * full buffer; small files never start it. */
	char *spare;
	bool thr_on, job, stop;
	const char *job_buf;
	size_t job_len;
	pthread_t thr;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct err thr_err;
};

#define PENDING_SIZE   (1u << 20)
#define WRITEBACK_STEP (8u << 20)

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
			free(s);
			return ERR_CONFIG;
		}
		if (!dir_is_writable(dirs[i].path)) {
			err_set(e, ERR_CONFIG, "share folder %s \"%s\" is not a writable folder",
				dirs[i].what, dirs[i].path);
			free(s);
			return ERR_CONFIG;
		}
	}
	int rc = dir_make_all(s->journal, 0700, e);
	if (rc) {
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void share_close(struct share *s)
{
	free(s);
}

const char *share_apps_dir(const struct share *s)
{
	return s->apps;
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
	if (posix_memalign((void **)&w->pending, 4096, PENDING_SIZE) != 0)
		w->pending = NULL;
	if (!w->pending) {
		free(w);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	int rc = crypto_sha256_new(&w->sha, e);
	if (rc) {
		free(w->pending);
		free(w);
		return rc;
	}
	w->fd = open(w->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (w->fd < 0) {
		err_set(e, ERR_IO, "cannot create app file \"%s\": %s", w->tmp_path,
			strerror(errno));
		crypto_sha256_free(w->sha);
		free(w->pending);
		free(w);
		return ERR_IO;
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

static int write_out(struct share_writer *w, const char *p, size_t len, struct err *e)
{
	bool aligned = len % 4096 == 0 && w->flushed % 4096 == 0;
	if (w->direct == 0 && aligned)
		set_direct(w, true);
	else if (w->direct == 1 && !aligned)
		set_direct(w, false);
	while (len) {
		ssize_t n = write(w->fd, p, len);
		if (n < 0) {
			if (errno == EINVAL && w->direct == 1) {
				set_direct(w, false); /* the file system refuses direct I/O */
				continue;
			}
			if (errno == EINTR)
				continue;
			return err_set(e, ERR_IO, "cannot write app file \"%s\": %s", w->tmp_path,
				       strerror(errno));
		}
		p += n;
		len -= (size_t)n;
		w->flushed += (uint64_t)n;
	}
	if (w->direct != 1 && w->flushed - w->written_back >= WRITEBACK_STEP) {
		/* Start writeback now; errors surface at the final fsync. */
		(void)sync_file_range(w->fd, (off_t)w->written_back,
				      (off_t)(w->flushed - w->written_back), SYNC_FILE_RANGE_WRITE);
		w->written_back = w->flushed;
	}
	return 0;
}

static void *writer_thread(void *arg)
{
	struct share_writer *w = arg;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->job && !w->stop)
			pthread_cond_wait(&w->cv, &w->mu);
		if (!w->job)
			break;
		pthread_mutex_unlock(&w->mu);
		/* hashed here, not as the bytes arrive: the receiving thread is busy decrypting */
		crypto_sha256_update(w->sha, w->job_buf, w->job_len);
		int rc = w->thr_err.code ? 0 : write_out(w, w->job_buf, w->job_len, &w->thr_err);
		(void)rc;
		pthread_mutex_lock(&w->mu);
		w->job = false;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Waits until the helper thread is idle; returns its error, if any, copied into `e`. */
static int thread_idle(struct share_writer *w, struct err *e)
{
	if (!w->thr_on)
		return 0;
	pthread_mutex_lock(&w->mu);
	while (w->job)
		pthread_cond_wait(&w->cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
	if (w->thr_err.code) {
		if (e && !e->code)
			*e = w->thr_err;
		return w->thr_err.code;
	}
	return 0;
}

static void thread_stop(struct share_writer *w)
{
	if (!w->thr_on)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thr, NULL);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	w->thr_on = false;
}

/* Hands the full buffer to the helper thread (starting it the first time) and swaps in
 * the spare one. Falls back to writing here when a thread cannot be had. */
static int submit_full(struct share_writer *w, struct err *e)
{
	if (!w->thr_on && !w->spare) {
		if (posix_memalign((void **)&w->spare, 4096, PENDING_SIZE) != 0)
			w->spare = NULL;
		if (w->spare) {
			err_init(&w->thr_err);
			pthread_mutex_init(&w->mu, NULL);
			pthread_cond_init(&w->cv, NULL);
			if (pthread_create(&w->thr, NULL, writer_thread, w) == 0) {
				w->thr_on = true;
			} else {
				pthread_mutex_destroy(&w->mu);
				pthread_cond_destroy(&w->cv);
			}
		}
	}
	if (!w->thr_on) {
		crypto_sha256_update(w->sha, w->pending, w->n_pending);
		int rc = write_out(w, w->pending, w->n_pending, e);
		w->n_pending = 0;
		return rc;
	}
	int rc = thread_idle(w, e);
	if (rc)
		return rc;
	pthread_mutex_lock(&w->mu);
	w->job_buf = w->pending;
	w->job_len = w->n_pending;
	w->job = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	char *t = w->pending;
	w->pending = w->spare;
	w->spare = t;
	w->n_pending = 0;
	return 0;
}

/* Writes out everything still buffered, here, after the helper thread is done. */
static int flush_pending(struct share_writer *w, struct err *e)
{
	int rc = thread_idle(w, e);
	thread_stop(w);
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
		return err_set(e, ERR_IO, "cannot open app file \"%s\": %s", src_path,
			       strerror(errno));
	struct stat st;
	if (fstat(src, &st) != 0) {
		close(src);
		return err_set(e, ERR_IO, "cannot read app file \"%s\": %s", src_path,
			       strerror(errno));
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
						rc = err_set(e, ERR_IO, "cannot write \"%s\": %s",
							     w->tmp_path, strerror(errno));
						break;
					}
					left -= r;
				}
				if (r < 0)
					rc = err_set(e, ERR_IO, "cannot read \"%s\": %s", src_path,
						     strerror(errno));
				break;
			}
			rc = err_set(e, ERR_IO, "cannot copy app file \"%s\": %s", src_path,
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
		return err_set(e, ERR_IO, "cannot write journal entry \"%s\": %s", w->journal_path,
			       strerror(errno));
	int ok = fsync(fd);
	close(fd);
	if (ok != 0)
		return err_set(e, ERR_IO, "cannot flush journal entry \"%s\": %s", w->journal_path,
			       strerror(errno));
	w->journaled = true;
	return dir_sync(w->s->journal, e);
}

int share_writer_finish(struct share_writer *w, const char *known_sha, uint64_t *out_size,
			char out_sha[65], struct err *e)
{
	int frc = flush_pending(w, e);
	if (frc)
		return frc;
	if (fsync(w->fd) != 0)
		return err_set(e, ERR_IO, "cannot flush app file \"%s\": %s", w->tmp_path,
			       strerror(errno));
	close(w->fd);
	w->fd = -1;
	int rc = journal_add(w, e);
	if (rc)
		return rc;
	crash_point("share-journaled");
	if (rename(w->tmp_path, w->final_path) != 0)
		return err_set(e, ERR_IO, "cannot move app file into place \"%s\": %s",
			       w->final_path, strerror(errno));
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
	thread_stop(w);
	free(w->spare);
	if (w->fd >= 0)
		close(w->fd);
	crypto_sha256_free(w->sha);
	free(w->pending);
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
	if (w->renamed)
		unlink(w->final_path);
	else
		unlink(w->tmp_path);
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
		return err_set(e, ERR_IO, "cannot list \"%s\": %s", s->apps, strerror(errno));
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
		return err_set(e, ERR_IO, "cannot list \"%s\": %s", s->journal, strerror(errno));
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

int share_gc(struct share *s, int64_t grace_ms, share_is_live_fn is_live, void *ctx, struct err *e)
{
	DIR *d = opendir(s->apps);
	if (!d)
		return err_set(e, ERR_IO, "cannot list \"%s\": %s", s->apps, strerror(errno));
	int removed = 0;
	int64_t now = time_now_ms();
	struct dirent *de;
	while ((de = readdir(d))) {
		char path[PATH_MAX + 256];
		snprintf(path, sizeof(path), "%s/%s", s->apps, de->d_name);
		struct stat st;
		if (de->d_name[0] == '.' && strlen(de->d_name) > 4 &&
		    strcmp(de->d_name + strlen(de->d_name) - 4, ".tmp") == 0) {
			if (stat(path, &st) == 0 &&
			    now - (int64_t)st.st_mtime * 1000 > 86400000LL && unlink(path) == 0)
				removed++;
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
