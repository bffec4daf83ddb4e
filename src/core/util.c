/* util.c: UUIDs, ISO 8601 time, string and file helpers. */
#include "core.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- uuid */

void uuid_new(char out[UUID_STR_LEN + 1])
{
	unsigned char b[16];
	size_t got = 0;
	while (got < sizeof(b)) {
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			abort(); /* the kernel's generator does not fail after boot */
		}
		got += (size_t)n;
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 15];
	}
	out[o] = '\0';
}

bool uuid_valid(const char *s)
{
	if (!s)
		return false;
	for (int i = 0; i < UUID_STR_LEN; i++) {
		char c = s[i];
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return false;
		} else if (!isxdigit((unsigned char)c)) {
			return false;
		}
	}
	return s[UUID_STR_LEN] == '\0';
}

void uuid_lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* ---------------------------------------------------------------- time */

int64_t time_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t time_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void time_cond_init(pthread_cond_t *cv)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(cv, &ca);
	pthread_condattr_destroy(&ca);
}

int time_cond_wait_ms(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (ms < 0)
		ms = 0;
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return pthread_cond_timedwait(cv, mu, &ts);
}

int64_t time_jitter_ms(int64_t ms, int pct)
{
	static _Thread_local uint64_t x;
	if (!x) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		x = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)pthread_self() ^ (uint64_t)getpid() ^
		    (uint64_t)ts.tv_sec;
		x |= 1;
	}
	x ^= x << 13; /* xorshift64: no secret here, only spread */
	x ^= x >> 7;
	x ^= x << 17;
	int64_t span = ms * pct / 100;
	return span > 0 ? ms - span + (int64_t)(x % (uint64_t)(2 * span + 1)) : ms;
}

void sleep_ms(int64_t ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void time_format_iso(int64_t ms, char out[ISO_TIME_LEN + 1])
{
	time_t secs = (time_t)(ms / 1000);
	int frac = (int)(ms % 1000);
	if (frac < 0) {
		frac += 1000;
		secs -= 1;
	}
	struct tm tm;
	gmtime_r(&secs, &tm);
	/* Each part is bounded to its width, so the text is always exactly ISO_TIME_LEN. */
	snprintf(out, ISO_TIME_LEN + 1, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ",
		 (unsigned)(tm.tm_year + 1900) % 10000u, (unsigned)(tm.tm_mon + 1) % 100u,
		 (unsigned)tm.tm_mday % 100u, (unsigned)tm.tm_hour % 100u,
		 (unsigned)tm.tm_min % 100u, (unsigned)tm.tm_sec % 100u, (unsigned)frac % 1000u);
}

static int digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int time_parse_iso(const char *s, int64_t *out_ms)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0;
	size_t n = strlen(s);
	if (n < 10 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
	    digits(s + 8, 2, &d))
		return ERR_INVALID;
	const char *p = s + 10;
	if (*p == 'T' || *p == ' ') {
		if (strlen(p) < 9 || digits(p + 1, 2, &h) || p[3] != ':' || digits(p + 4, 2, &mi) ||
		    p[6] != ':' || digits(p + 7, 2, &sec))
			return ERR_INVALID;
		p += 9;
		if (*p == '.') {
			p++;
			int nd = 0, v = 0;
			while (isdigit((unsigned char)*p)) {
				if (nd < 3)
					v = v * 10 + (*p - '0');
				nd++;
				p++;
			}
			if (nd == 0)
				return ERR_INVALID;
			while (nd < 3) {
				v *= 10;
				nd++;
			}
			ms = v;
		}
	}
	if (*p == 'Z')
		p++;
	if (*p != '\0')
		return ERR_INVALID;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return ERR_INVALID;
	struct tm tm = {0};
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	time_t t = timegm(&tm);
	*out_ms = (int64_t)t * 1000 + ms;
	return 0;
}

/* ---------------------------------------------------------------- strings */

size_t str_copy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);
	if (size) {
		size_t c = n < size - 1 ? n : size - 1;
		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

bool str_ieq(const char *a, const char *b)
{
	for (;; a++, b++) {
		int ca = tolower((unsigned char)*a), cb = tolower((unsigned char)*b);
		if (ca != cb)
			return false;
		if (!ca)
			return true;
	}
}

bool str_ieqn(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int ca = tolower((unsigned char)a[i]), cb = tolower((unsigned char)b[i]);
		if (ca != cb)
			return false;
		if (!ca)
			return true;
	}
	return true;
}

bool str_like(const char *s, const char *p)
{
	const char *star = NULL, *back = NULL;
	while (*s) {
		if (*p == '*') {
			star = p++;
			back = s;
		} else if (*p == '?' ||
			   (*p && tolower((unsigned char)*p) == tolower((unsigned char)*s))) {
			p++;
			s++;
		} else if (star) {
			p = star + 1;
			s = ++back;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return !*p;
}

bool str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int str_to_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	if (!s || !*s)
		return ERR_INVALID;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return ERR_INVALID;
	*out = v;
	return 0;
}

int str_to_i64_prefix(const char *s, const char **out_end, int64_t min, int64_t max, int64_t *out)
{
	if (!s)
		return ERR_INVALID;
	const char *d = s + (*s == '-' || *s == '+');
	if (!isdigit((unsigned char)*d))
		return ERR_INVALID;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || v < min || v > max)
		return ERR_INVALID;
	*out = v;
	*out_end = end;
	return 0;
}

bool str_has_ctl(const char *s, bool allow_space_ctl)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == 0x7f)
			return true;
		if (c < 0x20) {
			if (allow_space_ctl && (c == '\t' || c == '\n' || c == '\r'))
				continue;
			return true;
		}
	}
	return false;
}

char *str_url_encode(struct arena *a, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *out = arena_alloc(a, n * 3 + 1), *o = out;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
			*o++ = (char)c;
		} else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	return out;
}

/* ---------------------------------------------------------------- crash points */

void crash_point(const char *name)
{
	static const char *armed;
	static bool read;
	if (!read) {
		/* Racy first read is harmless: every thread computes the same value. */
		armed = getenv("FATHOM_CRASH_POINT");
		read = true;
	}
	if (armed && strcmp(armed, name) == 0) {
		/* once per site, not per process: the first to make the file dies */
		const char *once = getenv("FATHOM_CRASH_ONCE");
		if (once && *once) {
			int fd = open(once, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
			if (fd < 0)
				return;
			close(fd);
		}
		log_warn("crash point \"%s\" reached: killing this process", name);
		kill(getpid(), SIGKILL);
	}
}

/* ---------------------------------------------------------------- files */

int dir_sync(const char *path, struct err *e)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, ERR_IO, "cannot open folder \"%s\": %s", path, strerror(errno));
	int rc = 0;
	if (fsync(fd) != 0 && errno != EINVAL)
		rc = err_set(e, ERR_IO, "cannot flush folder \"%s\": %s", path, strerror(errno));
	close(fd);
	return rc;
}

/* write(2) of all of data, or with `positioned` pwrite(2) at offset `at`. */
static int write_whole(int fd, const void *data, size_t len, bool positioned, uint64_t at)
{
	const char *p = data;
	while (len) {
		ssize_t n = positioned ? pwrite(fd, p, len, (off_t)at) : write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		at += (uint64_t)n;
	}
	return 0;
}

int file_write_all(int fd, const void *data, size_t len)
{
	return write_whole(fd, data, len, false, 0);
}

int file_pwrite_all(int fd, const void *data, size_t len, uint64_t at)
{
	return write_whole(fd, data, len, true, at);
}

int file_atomic_begin(struct file_atomic *a, const char *path, unsigned mode, struct err *e)
{
	a->fd = -1;
	if ((size_t)snprintf(a->tmp, sizeof(a->tmp), "%s.tmp-%d", path, (int)getpid()) >=
	    sizeof(a->tmp))
		return err_set(e, ERR_IO, "path too long: \"%s\"", path);
	str_copy(a->path, path, sizeof(a->path));
	a->fd = open(a->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (a->fd < 0)
		return err_set(e, ERR_IO, "cannot create \"%s\": %s", a->tmp, strerror(errno));
	if (fchmod(a->fd, mode) != 0) {
		err_set(e, ERR_IO, "cannot write \"%s\": %s", a->tmp, strerror(errno));
		file_atomic_abort(a);
		return ERR_IO;
	}
	return 0;
}

void file_atomic_abort(struct file_atomic *a)
{
	if (a->fd < 0)
		return;
	close(a->fd);
	a->fd = -1;
	unlink(a->tmp);
}

int file_atomic_commit(struct file_atomic *a, struct err *e)
{
	if (fsync(a->fd) != 0) {
		err_set(e, ERR_IO, "cannot write \"%s\": %s", a->tmp, strerror(errno));
		file_atomic_abort(a);
		return ERR_IO;
	}
	close(a->fd);
	a->fd = -1;
	if (rename(a->tmp, a->path) != 0) {
		err_set(e, ERR_IO, "cannot rename \"%s\" to \"%s\": %s", a->tmp, a->path,
			strerror(errno));
		unlink(a->tmp);
		return ERR_IO;
	}
	char dir[PATH_MAX];
	str_copy(dir, a->path, sizeof(dir));
	char *slash = strrchr(dir, '/');
	if (slash == dir)
		dir[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		str_copy(dir, ".", sizeof(dir));
	return dir_sync(dir, e);
}

int file_write_atomic(const char *path, const void *data, size_t len, unsigned mode, struct err *e)
{
	struct file_atomic a;
	int rc = file_atomic_begin(&a, path, mode, e);
	if (rc)
		return rc;
	if (file_write_all(a.fd, data, len) != 0) {
		err_set(e, ERR_IO, "cannot write \"%s\": %s", a.tmp, strerror(errno));
		file_atomic_abort(&a);
		return ERR_IO;
	}
	return file_atomic_commit(&a, e);
}

int file_write_atomic_at(int dirfd, const char *name, const void *data, size_t len, unsigned mode,
			 struct err *e)
{
	char tmp[PATH_MAX];
	if (!*name || strchr(name, '/') ||
	    (size_t)snprintf(tmp, sizeof(tmp), ".%s.tmp-%d", name, (int)getpid()) >= sizeof(tmp))
		return err_set(e, ERR_IO, "not a file name: \"%s\"", name);
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0 && errno == EEXIST && unlinkat(dirfd, tmp, 0) == 0)
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return err_set(e, ERR_IO, "cannot create \"%s\": %s", tmp, strerror(errno));
	if (fchmod(fd, mode) != 0 || file_write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		err_set(e, ERR_IO, "cannot write \"%s\": %s", name, strerror(errno));
		close(fd);
		unlinkat(dirfd, tmp, 0);
		return ERR_IO;
	}
	close(fd);
	if (renameat(dirfd, tmp, dirfd, name) != 0) {
		err_set(e, ERR_IO, "cannot rename \"%s\" to \"%s\": %s", tmp, name,
			strerror(errno));
		unlinkat(dirfd, tmp, 0);
		return ERR_IO;
	}
	if (fsync(dirfd) != 0)
		return err_set(e, ERR_IO, "cannot flush the folder of \"%s\": %s", name,
			       strerror(errno));
	return 0;
}

int file_read_all(const char *path, size_t max, char **out, size_t *out_len, struct err *e)
{
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, err_io_code(errno), "cannot read \"%s\": %s", path,
			       strerror(errno));
	struct buf b;
	buf_init(&b, max);
	/* room for the whole file at once, read straight into it: a large buffer doubled
	 * again and again is moved each time (and a moved page reads slowly the first time
	 * after on some machines) */
	struct stat st;
	int rc = 0;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    (uint64_t)st.st_size <= max && buf_reserve(&b, (size_t)st.st_size))
		rc = err_set(e, ERR_NOMEM, "out of memory reading \"%s\"", path);
	while (rc == 0) {
		/* with no room left, one byte tells whether there is more: the end of the file
		 * needs no more room, a byte past the limit is one too many */
		size_t room = b.cap > b.len + 1 ? b.cap - b.len - 1 : 0;
		if (room > max - b.len)
			room = max - b.len;
		char one;
		ssize_t n = read(fd, room ? b.data + b.len : &one, room ? room : 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = err_set(e, err_io_code(errno), "cannot read \"%s\": %s", path,
				     strerror(errno));
			break;
		}
		if (n == 0)
			break;
		if (room) {
			b.len += (size_t)n;
			b.data[b.len] = '\0';
			continue;
		}
		if (b.len == max) {
			rc = err_set(e, ERR_TOO_LARGE, "file \"%s\" is larger than %zu bytes", path,
				     max);
			break;
		}
		size_t grow = max - b.len < 65536 ? max - b.len : 65536;
		if (buf_reserve(&b, grow) || buf_append(&b, &one, 1))
			rc = err_set(e, ERR_NOMEM, "out of memory reading \"%s\"", path);
	}
	close(fd);
	if (rc) {
		buf_release(&b);
		return rc;
	}
	if (out_len)
		*out_len = b.len;
	*out = buf_steal(&b);
	return 0;
}

int dir_make_all(const char *path, unsigned mode, struct err *e)
{
	return dir_make_all_cb(path, mode, NULL, NULL, e);
}

int dir_make_all_cb(const char *path, unsigned mode, dir_created_fn created, void *ctx,
		    struct err *e)
{
	char p[PATH_MAX];
	if (str_copy(p, path, sizeof(p)) >= sizeof(p))
		return err_set(e, ERR_IO, "path too long: \"%s\"", path);
	for (char *s = p + 1;; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;
			*s = '\0';
			if (mkdir(p, mode) == 0) {
				if (created)
					created(ctx, p);
			} else if (errno != EEXIST) {
				return err_set(e, ERR_IO, "cannot create folder \"%s\": %s", p,
					       strerror(errno));
			}
			*s = c;
			if (!c)
				break;
		}
	}
	struct stat st;
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return err_set(e, ERR_IO, "\"%s\" is not a folder", path);
	return 0;
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (type == FTW_DP ? rmdir(path) : unlink(path)) == 0 || errno == ENOENT ? 0 : -1;
}

int dir_remove_all(const char *path, struct err *e)
{
	if (nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT)
		return err_set(e, ERR_IO, "cannot remove \"%s\": %s", path, strerror(errno));
	return 0;
}

bool path_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

bool dir_is_writable(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode) && access(path, W_OK | X_OK) == 0;
}

/* ---------------------------------------------------------------- calls that may hang */

/* An open() that a thread of its own makes, so that the caller can stop waiting for it.
 * The block belongs to whichever of the two is last: the caller frees it when the call
 * ended in time, the thread when the caller gave up (closing what it opened, and removing
 * a file it made with O_CREAT | O_EXCL). The caller waits in poll() on an eventfd with a
 * relative time-out, which neither a stepped clock nor an LD_PRELOADed fake one moves. */
struct opening {
	pthread_mutex_t mu;
	bool done, abandoned;
	int flags, fd, errnum, event;
	mode_t mode;
	char path[];
};

static void opening_free(struct opening *o)
{
	close(o->event);
	pthread_mutex_destroy(&o->mu);
	free(o);
}

static void *opening_run(void *arg)
{
	struct opening *o = arg;
	int fd = open(o->path, o->flags, o->mode);
	int errnum = errno;
	pthread_mutex_lock(&o->mu);
	bool abandoned = o->abandoned;
	o->fd = fd;
	o->errnum = errnum;
	o->done = true;
	if (!abandoned) {
		uint64_t one = 1;
		ssize_t w = write(o->event, &one, sizeof(one));
		(void)w; /* an eventfd takes it; the caller also looks at `done` */
	}
	pthread_mutex_unlock(&o->mu);
	if (abandoned) {
		if (fd >= 0) {
			close(fd);
			/* a file this call made for a caller that is gone is nobody's */
			if ((o->flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
				unlink(o->path);
		}
		opening_free(o);
	}
	return NULL;
}

int file_open_within(const char *path, int flags, unsigned mode, int64_t ms)
{
	size_t n = strlen(path) + 1;
	struct opening *o = calloc(1, sizeof(*o) + n);
	if (!o) {
		errno = ENOMEM;
		return -1;
	}
	memcpy(o->path, path, n);
	o->flags = flags;
	o->mode = (mode_t)mode;
	o->event = eventfd(0, EFD_CLOEXEC);
	pthread_mutex_init(&o->mu, NULL);
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_t t;
	int rc = o->event < 0 ? -1 : pthread_create(&t, &at, opening_run, o);
	pthread_attr_destroy(&at);
	if (rc != 0) { /* no thread: the call is made here, unbounded */
		if (o->event >= 0)
			close(o->event);
		pthread_mutex_destroy(&o->mu);
		free(o);
		return open(path, flags, (mode_t)mode);
	}
	int64_t deadline = time_mono_ms() + ms;
	pthread_mutex_lock(&o->mu);
	while (!o->done) {
		int64_t left = deadline - time_mono_ms();
		if (left <= 0)
			break;
		pthread_mutex_unlock(&o->mu);
		struct pollfd p = {.fd = o->event, .events = POLLIN};
		(void)poll(&p, 1, (int)(left < 1000 ? left : 1000));
		pthread_mutex_lock(&o->mu);
	}
	if (!o->done) {
		o->abandoned = true; /* the thread frees it */
		pthread_mutex_unlock(&o->mu);
		errno = ETIMEDOUT;
		return -1;
	}
	pthread_mutex_unlock(&o->mu);
	int fd = o->fd, errnum = o->errnum;
	opening_free(o);
	errno = errnum;
	return fd;
}
