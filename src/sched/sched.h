/* sched.h: reload tasks run on time and in chains. Time triggers and task chains are
 * evaluated by the node holding the central role (the master scheduler); every node that
 * runs reloads claims queued executions from the repository database.
 *
 *   schedule.c  when a time trigger fires (calendar, repeats, filters)
 *   tz.c        IANA time zones from their TZif files
 *   scheduler.c the master scheduler, the workers, and their leases
 *
 * Threads: the schedule functions are pure; a parsed spec is read-only once made. The
 * scheduler runs its own threads and takes its own connections from the pool. */
#ifndef FATHOM_SCHED_H
#define FATHOM_SCHED_H

#include "core/core.h"
#include "db/db.h"

/* ---------------------------------------------------------------- time triggers */

/* A schemaevent's schedule as the API gives it. */
struct sched_spec_text {
	const char *time_zone;	/* NULL: UTC */
	int dst_mode;		/* daylightSavingTime */
	const char *start;	/* ISO 8601; its wall-clock time in the zone */
	const char *expiration; /* likewise */
	const char *increment;	/* "<minutes> <hours> <days> <weeks>"; NULL: daily */
	const char *filter;	/* the first schemaFilterDescription string, or NULL */
	int option;		/* incrementOption: 0 once .. 5 custom */
};

struct sched_spec {
	struct tz_zone *tz;
	int dst_mode;
	int64_t start, expiration; /* wall-clock seconds */
	int64_t step_s;		   /* minutes and hours of the repeat */
	int64_t step_days;	   /* days and weeks of the repeat */
	uint8_t weekdays;	   /* bit d: weekday d (0 Sunday); 0: any */
	uint32_t monthdays;	   /* bit d: day d of the month; 0: any */
	int week_step;		   /* with weekdays: every N weeks */
	bool once;
};

/* Parses and checks a schedule: ERR_FIELD (or ERR_INVALID for an unknown zone) says what is
 * wrong, including a schedule that never fires. Release with sched_spec_release. */
NODISCARD int sched_spec_parse(const struct sched_spec_text *t, struct sched_spec *out,
			       struct err *e);
void sched_spec_release(struct sched_spec *s);
/* The first firing (UTC ms) strictly after `after_ms`; ERR_NOT_FOUND when there is none
 * before the expiration. */
NODISCARD int sched_next_fire(const struct sched_spec *s, int64_t after_ms, int64_t *out_ms);

/* ---------------------------------------------------------------- executions */

/* TaskExecutionStatus (qrs.md section 5). */
enum {
	EXEC_NEVER_STARTED = 0,
	EXEC_TRIGGERED = 1,
	EXEC_STARTED = 2,
	EXEC_QUEUED = 3,
	EXEC_ABORT_INITIATED = 4,
	EXEC_ABORTING = 5,
	EXEC_ABORTED = 6,
	EXEC_SUCCESS = 7,
	EXEC_FAIL = 8,
	EXEC_SKIPPED = 9,
	EXEC_RETRY = 10,
	EXEC_ERROR = 11,
};

/* The schedule check the repository calls for time triggers (repo_config.schedule_check). */
struct repo_schedule;
int sched_check_schedule(const struct repo_schedule *s, struct err *e);

/* Runs a reload for the scheduler: the app's new generation replaces the old one only when
 * the run succeeds; `log_path` gets the script log. Returns 0 or the error. `cancel` stops
 * the reload of execution `session_id` (from another thread); unless `if_running`, a
 * cancel that comes before the reload starts stops it as it starts. */
struct sched_runner {
	void *ctx;
	int (*reload)(void *ctx, const char *app_id, const char *session_id, const char *log_name,
		      struct err *e);
	void (*cancel)(void *ctx, const char *session_id, bool if_running);
	/* the file a log name stands for, so results can show its size and place */
	void (*log_path)(void *ctx, const char *log_name, char *out, size_t n);
};

struct sched_config {
	struct db *db;
	const char *node_id, *node_name;
	int max_reloads;	  /* reloads this node runs at once; 0: it runs none */
	int64_t queue_timeout_ms; /* a queued execution no node took by then ends in Error */
	int64_t lease_ms;	  /* a running execution's lease; renewed every quarter */
	int64_t tick_ms;	  /* how often the master looks at triggers; 0: 1 s */
	struct sched_runner runner;
	/* Whether this process hears the other nodes' change notifications now (the
	 * repository's listening connection is up); NULL: it does. Runners that do not
	 * look for work every second instead of waiting to be told. */
	bool (*hears)(void *ctx);
	void *hears_ctx;
};

struct sched;
NODISCARD int sched_start(const struct sched_config *cfg, struct sched **out, struct err *e);
/* Stops the threads; running reloads are cancelled and their executions given back. */
void sched_stop(struct sched *s);

struct sched_stats {
	bool central;	  /* this node holds the central role now */
	int64_t token;	  /* its fencing token when it does */
	uint64_t fired;	  /* triggers this node fired as master */
	uint64_t claimed; /* executions this node claimed */
	uint64_t refused; /* master writes refused for a stale token */
};
void sched_stats(struct sched *s, struct sched_stats *out);

/* The scheduler's table (trigger firings): its part of the schema. */
extern const struct db_migration sched_migrations[];

#endif
