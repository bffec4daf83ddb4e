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
#include "engine/engine.h"

#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

struct conn {
	const char *name;
	char path[PATH_MAX];
};

struct worker {
	struct conn conns[64];
	int n_conns;
	FILE *log;
};

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
static int resolve(void *ctx, const char *path, bool for_write, char *out, size_t n, struct err *e)
{
	struct worker *w = ctx;
	if (strncasecmp(path, "lib://", 6) != 0)
		return err_set(e, ERR_FORBIDDEN,
			       "%s: files are reached through data connections (lib://Name/path)",
			       path);
	const char *name = path + 6, *slash = strchr(name, '/');
	size_t nl = slash ? (size_t)(slash - name) : strlen(name);
	const char *rest = slash ? slash + 1 : "";
	const struct conn *c = NULL;
	for (int i = 0; i < w->n_conns; i++)
		if (strlen(w->conns[i].name) == nl && strncasecmp(w->conns[i].name, name, nl) == 0)
			c = &w->conns[i];
	if (!c)
		return err_set(e, ERR_NOT_FOUND, "there is no folder data connection named %.*s",
			       (int)nl, name);
	/* no absolute path and no ".." segment */
	for (const char *seg = rest; *seg;) {
		const char *end = strchr(seg, '/');
		size_t sl = end ? (size_t)(end - seg) : strlen(seg);
		if ((sl == 2 && seg[0] == '.' && seg[1] == '.') || strchr(rest, '\\'))
			return err_set(e, ERR_FORBIDDEN, "%s leads out of its data connection",
				       path);
		seg = end ? end + 1 : seg + sl;
	}
	if (!*rest)
		return err_set(e, ERR_INVALID, "%s names the folder, not a file", path);
	snprintf(out, n, "%s/%s", c->path, rest);
	/* and no symbolic link out of it either */
	char real[PATH_MAX], dir[PATH_MAX];
	str_copy(dir, out, sizeof(dir));
	char *cut = strrchr(dir, '/');
	if (cut)
		*cut = '\0';
	if (!realpath(for_write ? dir : out, real))
		return for_write
			   ? err_set(e, ERR_NOT_FOUND, "the folder of %s does not exist", path)
			   : err_set(e, ERR_NOT_FOUND, "%s does not exist", path);
	size_t cl = strlen(c->path);
	if (strncmp(real, c->path, cl) != 0 || (real[cl] != '/' && real[cl] != '\0'))
		return err_set(e, ERR_FORBIDDEN, "%s leads out of its data connection", path);
	return 0;
}

int ops_reload_worker(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"in", required_argument, NULL, 'i'},
	    {"out", required_argument, NULL, 'o'},
	    {"log", required_argument, NULL, 'l'},
	    {"connection", required_argument, NULL, 'c'},
	    {NULL, 0, NULL, 0},
	};
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
			if (!eq || w.n_conns == 64 || !realpath(eq + 1, w.conns[w.n_conns].path)) {
				fprintf(stderr, "fathom reload-worker: bad --connection %s\n",
					optarg);
				break; /* a connection whose folder is missing is simply not there
					*/
			}
			*eq = '\0';
			w.conns[w.n_conns++].name = optarg;
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
	struct model *m = NULL;
	struct buf out;
	buf_init(&out, 1ULL << 40);
	int64_t t0 = time_now_ms();
	logf_(&w, "reload started (fathom %s)", FATHOM_VERSION);
	int rc = appfile_read_file(in, &app, &e);
	const struct appfile_block *script = app ? appfile_find(app, APPFILE_SCRIPT) : NULL;
	const struct appfile_block *props = app ? appfile_find(app, APPFILE_PROPS) : NULL;
	struct reload_env env = {.ctx = &w, .resolve = resolve, .log = log_line};
	if (rc == 0)
		rc = reload_run(script ? script->data : "", &env, &m, &e);
	/* the new app file: the same properties and script, and the tables */
	int64_t rows = 0;
	for (int t = 0; m && t < m->n_tables; t++) {
		rows += m->tables[t]->n_rows;
		logf_(&w, "table %s: %lld rows, %d fields", m->tables[t]->name,
		      (long long)m->tables[t]->n_rows, m->tables[t]->n_fields);
	}
	if (rc == 0)
		rc =
		    model_write_app(m, props ? props->data : "{}", props ? props->len : 2,
				    script ? script->data : "", script ? script->len : 0, &out, &e);
	if (rc == 0)
		rc = file_write_atomic(outp, out.data, out.len, 0644, &e);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	if (rc == 0)
		logf_(&w, "reload finished in %lld ms: %d tables, %lld rows, peak memory %ld MiB",
		      (long long)(time_now_ms() - t0), m->n_tables, (long long)rows,
		      ru.ru_maxrss / 1024);
	else
		logf_(&w, "error: %s", e.message);
	buf_release(&out);
	model_free(m);
	appfile_free(app);
	if (w.log)
		fclose(w.log);
	return rc ? 1 : 0;
}
