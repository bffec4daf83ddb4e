/* log.c: one process-wide log to stderr and optionally a file, one line per message. The
 * file turns over when it reaches its size or a new day (UTC) begins: fathom.log becomes
 * fathom.log.1 (the older ones move up, the last is dropped), and a copy of the finished
 * file goes to the archive folder (the share's ArchivedLogs/<node>), made by a thread of
 * its own so that no request waits for it. */
#include "core.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
/* the last warnings and errors, for the node to record where the site can see them */
enum { RECENT = 32 };
static struct log_entry recent[RECENT];
static uint64_t recent_seq; /* how many were ever kept */
static FILE *log_file;
static _Atomic int log_min = LOG_INFO;
static struct {
	char path[4096];
	char archive[4096]; /* "" : none */
	uint64_t max_bytes; /* 0: no limit */
	int keep;	    /* rotated files kept beside the log */
	uint64_t written;   /* bytes in the open file */
	int64_t day;	    /* the UTC day of its first line */
} rot;

static const char *const level_names[] = {"debug", "info", "warn", "error"};
static char log_node[64] = "-";
static _Thread_local char log_service[24] = "", log_request[40] = "";

/* A field of the brackets: at most n - 1 bytes, '-' when empty, no spaces or brackets. */
static void field_copy(char *out, size_t n, const char *s)
{
	size_t k = 0;
	for (; s && *s && k + 1 < n; s++)
		out[k++] =
		    *s == ' ' || *s == ']' || *s == '[' || (unsigned char)*s < 0x20 ? '_' : *s;
	out[k] = '\0';
}

void log_set_node(const char *name)
{
	pthread_mutex_lock(&log_lock);
	field_copy(log_node, sizeof(log_node), name && *name ? name : "-");
	pthread_mutex_unlock(&log_lock);
}

void log_context_set(const char *service, const char *request)
{
	/* a server's name is its service's and then what sets it apart ("proxy API") */
	char first[sizeof(log_service)] = "";
	if (service)
		snprintf(first, sizeof(first), "%.*s", (int)strcspn(service, " "), service);
	field_copy(log_service, sizeof(log_service), first);
	field_copy(log_request, sizeof(log_request), request);
}

static int64_t day_of(int64_t ms)
{
	return ms / 86400000;
}

int log_open(const char *path, enum log_level min, struct err *e)
{
	log_min = (int)min;
	if (!path)
		return 0;
	FILE *f = fopen(path, "ae");
	if (!f)
		return err_set(e, ERR_IO, "cannot open log file \"%s\": %s", path, strerror(errno));
	struct stat st;
	pthread_mutex_lock(&log_lock);
	if (log_file)
		fclose(log_file);
	log_file = f;
	str_copy(rot.path, path, sizeof(rot.path));
	rot.written = fstat(fileno(f), &st) == 0 ? (uint64_t)st.st_size : 0;
	rot.day = day_of(fstat(fileno(f), &st) == 0 && st.st_size > 0 ? (int64_t)st.st_mtime * 1000
								      : time_now_ms());
	pthread_mutex_unlock(&log_lock);
	return 0;
}

void log_set_level(enum log_level min)
{
	log_min = (int)min;
}

static _Atomic bool log_each_request;

void log_set_requests(bool on)
{
	log_each_request = on;
}

bool log_requests(void)
{
	return log_each_request;
}

void log_rotation(uint64_t max_bytes, int keep, const char *archive_dir)
{
	pthread_mutex_lock(&log_lock);
	rot.max_bytes = max_bytes;
	rot.keep = keep < 1 ? 1 : keep > 99 ? 99 : keep;
	str_copy(rot.archive, archive_dir ? archive_dir : "", sizeof(rot.archive));
	pthread_mutex_unlock(&log_lock);
}

struct archive_job {
	char from[4200], to[8400];
};

/* Copies a finished log file to the archive folder; a failure is said on stderr only (the
 * log would call itself). */
static void *archive_copy(void *arg)
{
	struct archive_job *j = arg;
	int in = open(j->from, O_RDONLY | O_CLOEXEC);
	char tmp[8500];
	snprintf(tmp, sizeof(tmp), "%s.part", j->to);
	int out = in < 0 ? -1 : open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	bool ok = in >= 0 && out >= 0;
	char buf[1 << 16];
	for (ssize_t n; ok && (n = read(in, buf, sizeof(buf))) != 0;) {
		if (n < 0) {
			ok = errno == EINTR;
			continue;
		}
		for (ssize_t off = 0; ok && off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			ok = w > 0 || (w < 0 && errno == EINTR);
			off += w > 0 ? w : 0;
		}
	}
	ok = ok && fsync(out) == 0;
	if (out >= 0)
		ok = close(out) == 0 && ok;
	if (in >= 0)
		close(in);
	ok = ok && rename(tmp, j->to) == 0;
	if (!ok) {
		fprintf(stderr, "log: cannot archive %s to %s: %s\n", j->from, j->to,
			strerror(errno));
		unlink(tmp);
	}
	free(j);
	return NULL;
}

/* Under log_lock: fathom.log -> .1 -> .2 ..., a new fathom.log, and the finished one
 * copied to the archive. */
static void rotate(int64_t now_ms)
{
	char from[4200], to[4200];
	snprintf(from, sizeof(from), "%s.%d", rot.path, rot.keep);
	unlink(from);
	for (int i = rot.keep - 1; i >= 1; i--) {
		snprintf(from, sizeof(from), "%s.%d", rot.path, i);
		snprintf(to, sizeof(to), "%s.%d", rot.path, i + 1);
		(void)rename(from, to);
	}
	snprintf(to, sizeof(to), "%s.1", rot.path);
	fclose(log_file);
	log_file = NULL;
	if (rename(rot.path, to) != 0)
		fprintf(stderr, "log: cannot rotate %s: %s\n", rot.path, strerror(errno));
	log_file = fopen(rot.path, "ae");
	if (!log_file)
		fprintf(stderr, "log: cannot open %s again: %s\n", rot.path, strerror(errno));
	rot.written = 0;
	rot.day = day_of(now_ms);
	if (!rot.archive[0])
		return;
	struct archive_job *j = malloc(sizeof(*j));
	if (!j)
		return;
	char ts[ISO_TIME_LEN + 1];
	time_format_iso(now_ms, ts);
	for (char *c = ts; *c; c++)
		if (*c == ':')
			*c = '-';
	str_copy(j->from, to, sizeof(j->from));
	snprintf(j->to, sizeof(j->to), "%s/fathom-%s-%d.log", rot.archive, ts, (int)getpid());
	/* the copy may not be done before the file moves up again: it copies .1 in a moment,
	 * and a log that turns over faster than that loses an archive, not a line */
	pthread_t t;
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &a, archive_copy, j) != 0)
		free(j);
	pthread_attr_destroy(&a);
}

void log_close(void)
{
	pthread_mutex_lock(&log_lock);
	if (log_file)
		fclose(log_file);
	log_file = NULL;
	pthread_mutex_unlock(&log_lock);
}

static void log_line(enum log_level lvl, const char *fmt, va_list ap) PRINTF_LIKE(2, 0);

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	if ((int)lvl < log_min)
		return;
	va_list ap;
	va_start(ap, fmt);
	log_line(lvl, fmt, ap);
	va_end(ap);
}

void log_audit(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_line(LOG_INFO, fmt, ap);
	va_end(ap);
}

/* One line, whatever the level: stderr, and the log file with its context. */
static void log_line(enum log_level lvl, const char *fmt, va_list ap)
{
	char ts[ISO_TIME_LEN + 1];
	time_format_iso(time_now_ms(), ts);
	char line[2048];
	vsnprintf(line, sizeof(line), fmt, ap);
	pthread_mutex_lock(&log_lock);
	if (lvl >= LOG_WARN) {
		struct log_entry *r = &recent[recent_seq % RECENT];
		r->seq = ++recent_seq;
		r->level = lvl;
		str_copy(r->at, ts, sizeof(r->at));
		str_copy(r->message, line, sizeof(r->message));
	}
	fprintf(stderr, "%s %-5s %s\n", ts, level_names[lvl], line);
	if (log_file) {
		int n = fprintf(log_file, "%s %-5s [%d %s %s %s] %s\n", ts, level_names[lvl],
				(int)getpid(), log_node, log_service[0] ? log_service : "-",
				log_request[0] ? log_request : "-", line);
		fflush(log_file);
		rot.written += n > 0 ? (uint64_t)n : 0;
		int64_t now = time_now_ms();
		if ((rot.max_bytes && rot.written >= rot.max_bytes) || day_of(now) != rot.day)
			rotate(now);
	}
	pthread_mutex_unlock(&log_lock);
}

int log_recent(uint64_t after, struct log_entry *out, int max)
{
	int n = 0;
	pthread_mutex_lock(&log_lock);
	uint64_t first = recent_seq > RECENT ? recent_seq - RECENT + 1 : 1;
	if (after + 1 > first)
		first = after + 1;
	for (uint64_t s = first; s <= recent_seq && n < max; s++)
		out[n++] = recent[s % RECENT];
	pthread_mutex_unlock(&log_lock);
	return n;
}

const char *log_level_name(enum log_level l)
{
	return level_names[l];
}
