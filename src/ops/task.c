/* task.c: `fathom task`, reload tasks from the command line: list them, start one and
 * follow its script log until it ends. The command queues the execution in the site's
 * repository; a running node of the site runs it. */
#include "ops/ops_int.h"
#include "sched/sched.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: fathom task list --dir DIR\n"
    "       fathom task start TASK --dir DIR [--follow] [--timeout S]\n"
    "\n"
    "  list         the site's reload tasks: name, app, whether enabled, the last result\n"
    "               and when it ended\n"
    "  start        queues TASK (its name or id) for a node of the site to run; with\n"
    "               --follow, prints the script log as the reload runs and exits 0 when\n"
    "               it ends FinishedSuccess, 1 otherwise (a node must be running)\n"
    "  --dir DIR    a node folder of the site\n"
    "  --timeout S  with --follow: stop waiting after S seconds (default 3600)\n";

static const char *status_name(json_int_t st)
{
	return st >= 0 && st <= EXEC_ERROR + 1 ? repo_exec_status_names[st] : "?";
}

/* GET path?query; the parsed answer, or NULL with the message printed. */
static json_t *get_json(struct ops_local *l, const char *path, const char *query)
{
	char *out = NULL;
	size_t len = 0;
	int st = ops_local_call(l, "GET", path, query, NULL, 0, &out, &len);
	json_t *j = st == 200 ? json_loadb(out, len, 0, NULL) : NULL;
	if (st != 200)
		fprintf(stderr, "fathom: GET %s: HTTP %d\n", path, st);
	free(out);
	return j;
}

static int list(struct ops_local *l)
{
	json_t *tasks = get_json(l, "/qrs/reloadtask/full", "orderby=name");
	if (!tasks)
		return 1;
	printf("%-32s %-24s %-9s %-16s %s\n", "NAME", "APP", "ENABLED", "LAST RESULT", "ENDED");
	size_t i;
	json_t *t;
	json_array_foreach (tasks, i, t) {
		json_t *last =
		    json_object_get(json_object_get(t, "operational"), "lastExecutionResult");
		printf("%-32s %-24s %-9s %-16s %s\n", json_string_value(json_object_get(t, "name")),
		       json_string_value(json_object_get(json_object_get(t, "app"), "name")),
		       json_is_true(json_object_get(t, "enabled")) ? "yes" : "no",
		       last ? status_name(json_integer_value(json_object_get(last, "status")))
			    : "NeverStarted",
		       last ? json_string_value(json_object_get(last, "stopTime")) : "-");
	}
	json_decref(tasks);
	return 0;
}

static bool terminal(json_int_t st)
{
	return st == EXEC_ABORTED || st == EXEC_SUCCESS || st == EXEC_FAIL || st == EXEC_SKIPPED ||
	       st == EXEC_ERROR;
}

/* Prints the log and the results of execution `sid` until it ends. */
static int follow(struct ops_local *l, const char *sid, int64_t timeout_s)
{
	char query[256], rid[UUID_STR_LEN + 1] = "", path[256];
	snprintf(query, sizeof(query), "filter=executionID%%20eq%%20%s&orderby=startTime", sid);
	size_t offset = 0;
	int64_t deadline = time_mono_ms() + timeout_s * 1000;
	bool said_queued = false;
	for (;;) {
		json_t *res = get_json(l, "/qrs/executionresult/full", query);
		if (!res)
			return 1;
		json_t *cur = json_array_get(res, json_array_size(res) - 1);
		const char *id = json_string_value(json_object_get(cur, "id"));
		if (id && strcmp(id, rid) != 0) {
			if (rid[0])
				printf("-- retried --\n");
			str_copy(rid, id, sizeof(rid));
			offset = 0;
		}
		if (!id && !said_queued) {
			printf("queued; waiting for a node to take it\n");
			said_queued = true;
		}
		if (rid[0]) { /* the log so far */
			snprintf(path, sizeof(path), "/qrs/executionresult/%s/scriptlog", rid);
			char q[64], *out = NULL;
			size_t len = 0;
			snprintf(q, sizeof(q), "offset=%zu", offset);
			if (ops_local_call(l, "GET", path, q, NULL, 0, &out, &len) == 200 && len) {
				fwrite(out, 1, len, stdout);
				offset += len;
			}
			free(out);
			fflush(stdout);
		}
		/* done when the session is gone (no retry pending) and the last result ended */
		json_int_t st = json_integer_value(json_object_get(cur, "status"));
		snprintf(path, sizeof(path), "/qrs/executionsession/%s", sid);
		char *out = NULL;
		int sst = cur && terminal(st)
			      ? ops_local_call(l, "GET", path, NULL, NULL, 0, &out, NULL)
			      : 200;
		free(out);
		if (sst == 404) {
			json_t *details = json_object_get(cur, "details");
			json_t *last = json_array_get(details, json_array_size(details) - 1);
			printf("execution %s: %s after %lld ms on %s: %s\n", sid, status_name(st),
			       (long long)json_integer_value(json_object_get(cur, "duration")),
			       json_string_value(json_object_get(cur, "executingNodeName"))
				   ? json_string_value(json_object_get(cur, "executingNodeName"))
				   : "no node",
			       json_string_value(json_object_get(last, "message")));
			json_decref(res);
			return st == EXEC_SUCCESS ? 0 : 1;
		}
		json_decref(res);
		if (time_mono_ms() > deadline) {
			fprintf(stderr, "fathom: execution %s did not end within %lld s\n", sid,
				(long long)timeout_s);
			return 1;
		}
		sleep_ms(500);
	}
}

static int start(struct ops_local *l, const char *task, bool follow_it, int64_t timeout_s)
{
	char path[256];
	struct buf query;
	buf_init(&query, 1 << 16);
	const char *q = NULL;
	if (uuid_valid(task)) {
		snprintf(path, sizeof(path), "/qrs/task/%s/start/synchronous", task);
	} else {
		snprintf(path, sizeof(path), "/qrs/task/start/synchronous");
		if (ops_query_param(&query, "name", task) == 0)
			q = query.data;
	}
	char *out = NULL;
	size_t len = 0;
	int st = ops_local_call(l, "POST", path, q, "", 0, &out, &len);
	buf_release(&query);
	json_t *j = out ? json_loadb(out, len, 0, NULL) : NULL;
	free(out);
	if (st != 201) {
		const char *msg = json_string_value(json_object_get(j, "message"));
		fprintf(stderr, "fathom: cannot start task \"%s\": %s\n", task,
			msg ? msg : "no answer");
		json_decref(j);
		return 1;
	}
	char sid[UUID_STR_LEN + 1];
	str_copy(sid, json_string_value(json_object_get(j, "value")), sizeof(sid));
	json_decref(j);
	printf("queued execution %s of task \"%s\"\n", sid, task);
	fflush(stdout);
	return follow_it ? follow(l, sid, timeout_s) : 0;
}

int ops_task(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"dir", required_argument, NULL, 'd'},
	    {"follow", no_argument, NULL, 'f'},
	    {"timeout", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *sub = argv[1], *dir = NULL, *timeout_s = "3600";
	bool follow_it = false;
	int c;
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'f': follow_it = true; break;
		case 't': timeout_s = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	int64_t timeout;
	bool is_list = strcmp(sub, "list") == 0 && optind == argc;
	bool is_start = strcmp(sub, "start") == 0 && optind == argc - 1;
	if (!dir || (!is_list && !is_start) || str_to_i64(timeout_s, 1, 86400 * 30, &timeout)) {
		fputs(usage, stderr);
		return 2;
	}
	struct err e;
	err_init(&e);
	struct ops_local l;
	if (ops_local_open(dir, &l, &e) != 0) {
		ops_print_err(&e);
		return 1;
	}
	int rc = is_list ? list(&l) : start(&l, argv[optind], follow_it, timeout);
	ops_local_close(&l);
	return rc;
}
