/* reload_worker.c: `fathom reload-worker`, the child process a node runs a reload in, so a
 * script that crashes, loops or eats memory takes only this process with it.
 *
 *   fathom reload-worker --in APP --out NEWAPP --log LOG [--connection NAME=FOLDER]...
 *
 * It reads the app file, runs its load script with lib://NAME/... resolved inside the
 * given folders, and writes a new app file (the same properties and script, one QVD-layout
 * block per table) to NEWAPP. The log gets a line per step; the last line of a failed run
 * is the error. Exit 0 on success, 1 on a script or data error, 2 on bad arguments. */
#include "ops/ops_int.h"
#include "data/data.h"
#include "script/script.h"

#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* The command line, declared once: ops_reload_worker parses it and
 * ops_reload_worker_argv writes it. */
enum { OPT_IN, OPT_OUT, OPT_LOG, OPT_CONNECTION, N_OPTS };
static const struct option opts[N_OPTS + 1] = {
    [OPT_IN] = {"in", required_argument, NULL, 'i'},
    [OPT_OUT] = {"out", required_argument, NULL, 'o'},
    [OPT_LOG] = {"log", required_argument, NULL, 'l'},
    [OPT_CONNECTION] = {"connection", required_argument, NULL, 'c'},
    [N_OPTS] = {NULL, 0, NULL, 0},
};
#define MAX_CONNS 64

struct worker {
	struct share_lib conns[MAX_CONNS];
	int n_conns;
	FILE *log;
};

static const char *flag(struct arena *a, int opt)
{
	return arena_printf(a, "--%s", opts[opt].name);
}

const char *const *ops_reload_worker_argv(const char *exe, const struct repo_reload_job *job,
					  struct arena *a)
{
	if (job->n_conns < 0 || job->n_conns > MAX_CONNS)
		return NULL;
	const char **argv = arena_alloc(a, sizeof(char *) * (size_t)(2 * job->n_conns + 9));
	int k = 0;
	argv[k++] = exe;
	argv[k++] = "reload-worker";
	const char *fixed[] = {[OPT_IN] = job->in, [OPT_OUT] = job->out, [OPT_LOG] = job->log};
	for (int o = OPT_IN; o <= OPT_LOG; o++) {
		argv[k++] = flag(a, o);
		argv[k++] = fixed[o];
	}
	for (int i = 0; i < job->n_conns; i++) {
		argv[k++] = flag(a, OPT_CONNECTION);
		argv[k++] = arena_printf(a, "%s=%s", job->conn_names[i], job->conn_folders[i]);
	}
	argv[k] = NULL;
	return argv;
}

static void log_line(void *ctx, const char *line)
{
	struct worker *w = ctx;
	char now[ISO_TIME_LEN + 1];
	time_format_iso(time_now_ms(), now);
	if (w->log) {
		fprintf(w->log, "%s %s\n", now, line);
		fflush(w->log);
	}
}

static void logf_(struct worker *w, const char *fmt, ...) PRINTF_LIKE(2, 3);

static void logf_(struct worker *w, const char *fmt, ...)
{
	char line[1200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_line(w, line);
}

/* lib://Name/path inside the folder of connection Name; nothing may lead out of it. */
static int open_file(void *ctx, const char *path, bool for_write, int *fd, char *leaf, size_t n,
		     struct err *e)
{
	struct worker *w = ctx;
	return share_lib_open(w->conns, w->n_conns, path, for_write, fd, leaf, n, e);
}

/* The app's properties with the script's variables among its objects: each is a variable
 * object (qIsScriptCreated) of its name, which takes the script's value; variables the
 * script made at an earlier reload and no longer sets are removed. A new text (free it). */
static char *with_script_vars(const char *props, size_t len, const struct data_set *m)
{
	json_error_t je;
	json_t *p = json_loadb(props, len, 0, &je);
	if (!json_is_object(p)) {
		json_decref(p);
		p = json_object();
	}
	json_t *objs = json_object_get(p, "objects");
	if (!json_is_object(objs))
		json_object_set_new(p, "objects", objs = json_object());
	const char *k;
	json_t *o, *tmp;
	json_object_foreach_safe(objs, tmp, k, o)
	{
		const char *t =
		    json_string_value(json_object_get(json_object_get(o, "qInfo"), "qType"));
		if (t && strcmp(t, "variable") == 0 &&
		    json_is_true(json_object_get(o, "qIsScriptCreated")))
			json_object_del(objs, k);
	}
	for (int i = 0; i < m->n_vars; i++) {
		json_t *same = NULL;
		json_object_foreach (objs, k, o) {
			const char *t = json_string_value(
			    json_object_get(json_object_get(o, "qInfo"), "qType"));
			const char *n = json_string_value(json_object_get(o, "qName"));
			if (t && n && strcmp(t, "variable") == 0 && strcmp(n, m->var_names[i]) == 0)
				same = o;
		}
		if (same) { /* one made in the app: the script sets its value */
			json_object_set_new(same, "qDefinition", json_string(m->var_values[i]));
			continue;
		}
		char id[300];
		snprintf(id, sizeof(id), "script-variable-%s", m->var_names[i]);
		json_object_set_new(objs, id,
				    json_pack("{s:{s:s,s:s},s:s,s:s,s:b}", "qInfo", "qId", id,
					      "qType", "variable", "qName", m->var_names[i],
					      "qDefinition", m->var_values[i], "qIsScriptCreated",
					      1));
	}
	char *text = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	return text;
}

/* DocumentPath(): the app's file without its generation (Apps/<id>), as Qlik's is the
 * app's file under its Apps folder (DocumentName() is then the app's id). */
static void document_path(const char *in, char *out, size_t n)
{
	str_copy(out, in, n);
	char *leaf = strrchr(out, '/');
	leaf = leaf ? leaf + 1 : out;
	if (strlen(leaf) > 37 && leaf[36] == '.')
		leaf[36] = '\0';
}

/* The new app file at outp: written to its file as it is made (a large table's columns a
 * few MiB at a time), a temporary one renamed over outp once whole and flushed. */
static int write_app(const char *outp, struct data_set *m, const char *props,
		     const struct appfile_block *script, struct err *e)
{
	struct file_atomic fa = {.fd = -1};
	int rc = file_atomic_begin(&fa, outp, 0644, e);
	if (rc)
		return rc;
	struct data_out out;
	data_out_init(&out, fa.fd);
	rc = data_set_write_app_freeing(m, props, strlen(props), script ? script->data : "",
					script ? script->len : 0, &out, e);
	if (rc == 0)
		rc = data_out_finish(&out, e);
	data_out_release(&out);
	if (rc == 0)
		return file_atomic_commit(&fa, e);
	file_atomic_abort(&fa);
	return rc;
}

int ops_reload_worker(int argc, char **argv)
{
	struct worker w = {0};
	const char *in = NULL, *outp = NULL, *logp = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'i': in = optarg; break;
		case 'o': outp = optarg; break;
		case 'l': logp = optarg; break;
		case 'c': {
			char *eq = strchr(optarg, '=');
			struct err ce;
			err_init(&ce);
			if (eq)
				*eq = '\0';
			/* a connection whose folder is missing is simply not there */
			if (!eq || w.n_conns == MAX_CONNS ||
			    share_lib_init(&w.conns[w.n_conns], optarg, eq + 1, &ce) != 0) {
				fprintf(stderr, "fathom reload-worker: bad --connection %s\n",
					optarg);
				break;
			}
			w.n_conns++;
			break;
		}
		default: return 2;
		}
	}
	if (!in || !outp || !logp || optind != argc) {
		fprintf(stderr, "usage: fathom reload-worker --in APP --out NEWAPP --log LOG "
				"[--connection NAME=FOLDER]...\n");
		return 2;
	}
	w.log = fopen(logp, "w");
	struct err e;
	err_init(&e);
	struct appfile *app = NULL;
	struct data_set *m = NULL;
	int64_t t0 = time_mono_ms();
	logf_(&w, "reload started (fathom %s)", FATHOM_VERSION);
	int rc = data_appfile_read_file(in, &app, &e);
	bool read_failed = rc == ERR_UNAVAILABLE; /* the share did not answer */
	const struct appfile_block *script = app ? data_appfile_find(app, APPFILE_SCRIPT) : NULL;
	const struct appfile_block *props = app ? data_appfile_find(app, APPFILE_PROPS) : NULL;
	char doc_path[PATH_MAX];
	document_path(in, doc_path, sizeof(doc_path));
	json_error_t je;
	json_t *pj = props ? json_loadb(props->data, props->len, 0, &je) : NULL;
	struct reload_env env = {.ctx = &w,
				 .open = open_file,
				 .log = log_line,
				 .doc_path = doc_path,
				 .doc_title = json_string_value(json_object_get(pj, "qTitle"))};
	if (rc == 0)
		rc = script_run(script ? script->data : "", &env, &m, &e);
	json_decref(pj);
	if (rc == 0)
		crash_point("worker-loaded");
	/* the new app file: the same properties and script, and the tables */
	int64_t rows = 0;
	for (int t = 0; m && t < m->n_tables; t++) {
		rows += m->tables[t]->n_rows;
		logf_(&w, "table %s: %lld rows, %d fields%s", m->tables[t]->name,
		      (long long)m->tables[t]->n_rows, m->tables[t]->n_fields,
		      m->tables[t]->access ? " (section access)" : "");
	}
	char *new_props =
	    rc == 0 ? with_script_vars(props ? props->data : "{}", props ? props->len : 2, m)
		    : NULL;
	if (rc == 0 && !new_props)
		rc = err_set(&e, ERR_NOMEM, "out of memory");
	if (rc == 0)
		rc = write_app(outp, m, new_props, script, &e);
	free(new_props);
	if (rc == 0)
		crash_point("worker-written");
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	if (rc == 0)
		logf_(&w, "reload finished in %lld ms: %d tables, %lld rows, peak memory %ld MiB",
		      (long long)(time_mono_ms() - t0), m->n_tables, (long long)rows,
		      ru.ru_maxrss / 1024);
	else
		logf_(&w, "error: %s", e.message);
	data_set_free(m);
	data_appfile_free(app);
	if (w.log)
		fclose(w.log);
	/* an app file that could not be read (not one that could not be decoded) */
	return !rc ? 0 : read_failed ? REPO_RELOAD_EXIT_UNAVAILABLE : 1;
}
