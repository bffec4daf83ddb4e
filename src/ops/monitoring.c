/* monitoring.c: `fathom monitoring` gives a site its monitoring app: the load script of
 * examples/monitoring/site-logs.qvs and the sheets of site-logs.objects.json (both built
 * into the binary) as the app "Monitoring: site logs", a reload task for it every hour,
 * and a first reload queued. Run again, it keeps
 * what is there and adds what is missing. */
#include "ops/ops.h"
#include "ops/ops_int.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitoring_script.h"

#define APP_NAME  "Monitoring: site logs"
#define TASK_NAME "Reload the monitoring app"

static const char usage[] =
    "usage: fathom monitoring --dir DIR\n"
    "\n"
    "Adds the site's monitoring app, \"" APP_NAME "\": every node's archived log\n"
    "(ArchivedLogs/<node> on the share) read into tables of reloads, task executions,\n"
    "node load, requests and sign-ins, with sheets of charts over them for the hub; and\n"
    "the task \"" TASK_NAME "\" that reloads it every hour, and queues a first\n"
    "reload for a running node. What exists already is kept; run it again after removing\n"
    "either to have it back.\n"
    "\n"
    "  --dir DIR   a node folder of the site\n";

/* The id of the one `type` named `name` into id (empty: none); 0, or 1 after printing why. */
static int find_named(struct ops_local *l, const char *type, const char *name,
		      char id[UUID_STR_LEN + 1])
{
	char path[64], filter[256];
	snprintf(path, sizeof(path), "/qrs/%s", type);
	snprintf(filter, sizeof(filter), "name eq '%s'", name);
	struct buf q;
	buf_init(&q, 1 << 12);
	char *out = NULL;
	size_t len = 0;
	int st = ops_query_param(&q, "filter", filter)
		     ? 0
		     : ops_local_call(l, "GET", path, q.data, NULL, 0, &out, &len);
	buf_release(&q);
	json_t *j = st == 200 ? json_loadb(out, len, 0, NULL) : NULL;
	free(out);
	id[0] = '\0';
	if (!json_is_array(j)) {
		fprintf(stderr, "fathom: cannot list the site's %ss (HTTP %d)\n", type, st);
		json_decref(j);
		return 1;
	}
	if (json_array_size(j))
		str_copy(id, json_string_value(json_object_get(json_array_get(j, 0), "id")),
			 UUID_STR_LEN + 1);
	json_decref(j);
	return 0;
}

/* POST path with body (NULL: none); the answer's `key` into out. The status, or 0. */
static int post_for(struct ops_local *l, const char *path, json_t *body, const char *key,
		    char out[UUID_STR_LEN + 1], char *why, size_t why_len)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL, *ans = NULL;
	size_t len = 0;
	int st = ops_local_call(l, "POST", path, NULL, text ? text : "", text ? strlen(text) : 0,
				&ans, &len);
	free(text);
	json_t *j = ans ? json_loadb(ans, len, 0, NULL) : NULL;
	free(ans);
	out[0] = '\0';
	const char *v = json_string_value(json_object_get(j, key));
	if (v)
		str_copy(out, v, UUID_STR_LEN + 1);
	const char *msg = json_string_value(json_object_get(j, "message"));
	snprintf(why, why_len, "%s", msg ? msg : "no answer");
	json_decref(j);
	return st;
}

static int add_task(struct ops_local *l, const char *app_id, char task_id[UUID_STR_LEN + 1])
{
	/* every hour from the next whole minute, in UTC (an hourly plan has no wall clock) */
	char start[ISO_TIME_LEN + 1];
	time_format_iso((time_now_ms() / 60000 + 1) * 60000, start);
	json_t *body =
	    json_pack("{s:{s:s, s:{s:s}, s:b}, s:[{s:s, s:s, s:i, s:s, s:b, s:i, s:s}]}", "task",
		      "name", TASK_NAME, "app", "id", app_id, "enabled", 1, "schemaEvents", "name",
		      "every hour", "timeZone", "UTC", "daylightSavingTime", 0, "startDate", start,
		      "enabled", 1, "incrementOption", 1, "incrementDescription", "0 1 0 0");
	char why[512] = "out of memory";
	int st =
	    body ? post_for(l, "/qrs/reloadtask/create", body, "id", task_id, why, sizeof(why)) : 0;
	json_decref(body);
	if (st != 201 || !task_id[0]) {
		fprintf(stderr, "fathom: cannot add the task \"%s\" (%d): %s\n", TASK_NAME, st,
			why);
		return 1;
	}
	printf("added the task \"%s\" (%s): every hour\n", TASK_NAME, task_id);
	return 0;
}

static int monitoring(struct ops_local *l)
{
	char app[UUID_STR_LEN + 1], task[UUID_STR_LEN + 1];
	if (find_named(l, "app", APP_NAME, app) || find_named(l, "reloadtask", TASK_NAME, task))
		return 1;
	if (app[0]) {
		printf("the app \"%s\" is there (%s): kept as it is\n", APP_NAME, app);
	} else {
		struct err e;
		err_init(&e);
		if (ops_app_upload(l, APP_NAME, monitoring_script, monitoring_objects, app, &e)) {
			ops_print_err(&e);
			return 1;
		}
		printf("added the app \"%s\" (%s)\n", APP_NAME, app);
	}
	if (task[0])
		printf("the task \"%s\" is there (%s): kept as it is\n", TASK_NAME, task);
	else if (add_task(l, app, task))
		return 1;
	char path[96], sid[UUID_STR_LEN + 1], why[512];
	snprintf(path, sizeof(path), "/qrs/task/%s/start/synchronous", task);
	int st = post_for(l, path, NULL, "value", sid, why, sizeof(why));
	if (st != 201) {
		fprintf(stderr, "fathom: cannot queue a reload of the monitoring app (%d): %s\n",
			st, why);
		return 1;
	}
	printf("queued its first reload (execution %s); follow it with\n"
	       "  fathom task start \"%s\" --dir DIR --follow\n"
	       "or in the console's Tasks\n",
	       sid, TASK_NAME);
	return 0;
}

int ops_monitoring(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"dir", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *dir = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (!dir || optind != argc) {
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
	int rc = monitoring(&l);
	ops_local_close(&l);
	return rc;
}
