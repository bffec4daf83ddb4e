/* log.c: one process-wide log to stderr and optionally a file, one line per message. */
#include "core.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *log_file;
static enum log_level log_min = LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

int log_open(const char *path, enum log_level min, struct err *e)
{
	log_min = min;
	if (!path)
		return 0;
	FILE *f = fopen(path, "ae");
	if (!f)
		return err_set(e, ERR_IO, "cannot open log file \"%s\": %s", path, strerror(errno));
	pthread_mutex_lock(&log_lock);
	if (log_file)
		fclose(log_file);
	log_file = f;
	pthread_mutex_unlock(&log_lock);
	return 0;
}

void log_close(void)
{
	pthread_mutex_lock(&log_lock);
	if (log_file)
		fclose(log_file);
	log_file = NULL;
	pthread_mutex_unlock(&log_lock);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	if (lvl < log_min)
		return;
	char ts[ISO_TIME_LEN + 1];
	time_format_iso(time_now_ms(), ts);
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "%s %-5s %s\n", ts, level_names[lvl], line);
	if (log_file) {
		fprintf(log_file, "%s %-5s [%d] %s\n", ts, level_names[lvl], (int)getpid(), line);
		fflush(log_file);
	}
	pthread_mutex_unlock(&log_lock);
}
