/* engine_bench.c: the engine's in-memory work on a reloaded app, timed in-process.
 *
 *   engine_bench cube APPFILE     region x channel with Sum(amount) and
 *                                 Count(DISTINCT customer): without a selection, and with
 *                                 three products selected (median of 10 each)
 *   engine_bench select APPFILE   selection propagation: 100 selections of one product
 *                                 each, states of every value of every field computed
 *                                 (median and 90th percentile)
 *   engine_bench layout APPFILE   the same cube's layout through a QIX session: the first
 *                                 (computed), then again (median of 20: from the engine's
 *                                 cache), and in a second session with the same selection
 *
 * The app opens as the engine opens it (app file -> tables -> associative model); the time
 * that takes is printed too. Output: "name milliseconds" lines. */
#include "data/data.h"
#include "model/model.h"
#include "qix/qix.h"

#include <stdio.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The process's resident memory, MiB (/proc/self/statm). */
static double rss_mib(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (!f || fscanf(f, "%ld %ld", &pages, &resident) != 2)
		resident = 0;
	if (f)
		fclose(f);
	return (double)resident * (double)sysconf(_SC_PAGESIZE) / 1048576.0;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(double), cmp_d);
	return v[n / 2];
}

static struct assoc *open_app(const char *path)
{
	struct err e;
	err_init(&e);
	struct appfile *f = NULL;
	double t0 = now_ms();
	if (data_appfile_read_file(path, &f, &e)) {
		fprintf(stderr, "engine_bench: %s: %s\n", path, e.message);
		exit(1);
	}
	struct data_set *m = NULL;
	struct assoc *a = NULL;
	double t1 = now_ms();
	if (data_set_from_app(f, APPFILE_TABLE, DATA_SET_MODEL, &m, &e)) {
		fprintf(stderr, "engine_bench: %s\n", e.message);
		exit(1);
	}
	double t2 = now_ms();
	if (model_assoc_build(m, &a, &e)) {
		fprintf(stderr, "engine_bench: %s\n", e.message);
		exit(1);
	}
	/* the open's parts: the file read and decompressed, its tables decoded, the model */
	printf("open_file_ms %.1f\nopen_tables_ms %.1f\nopen_model_ms %.1f\n", t1 - t0, t2 - t1,
	       now_ms() - t2);
	data_appfile_free(f);
	data_set_free(m);
	return a;
}

static void select_products(const struct assoc *a, struct assoc_sel *sel, const char *const *names,
			    int n)
{
	int f = model_assoc_field(a, "product");
	int64_t syms[8];
	for (int i = 0; i < n; i++)
		syms[i] = model_assoc_find(a, f, names[i]);
	if (model_assoc_select(a, sel, f, syms, n) != 0)
		exit(1);
}

/* The cubes timed: what the engine benchmark has always timed, a KPI (no dimension) and a
 * bar chart (one dimension), as a sheet of the hub asks for them. */
enum cube_kind { CUBE_TWO, CUBE_KPI, CUBE_BAR };

static double time_cube(const struct assoc *a, const struct assoc_sel *sel, enum cube_kind k,
			int64_t *rows)
{
	static const char *dims[] = {"region", "channel"};
	static const char *measures[] = {"Sum(amount)", "Count(DISTINCT customer)"};
	struct cube_def def = {.dims = dims, .n_dims = 2, .measures = measures, .n_measures = 2};
	if (k == CUBE_KPI)
		def.n_dims = 0, def.n_measures = 1;
	else if (k == CUBE_BAR)
		def.n_dims = 1, def.n_measures = 1;
	struct err e;
	err_init(&e);
	struct cube *c = NULL;
	double t0 = now_ms();
	if (model_cube_compute(a, sel, &def, &c, &e) != 0) {
		fprintf(stderr, "engine_bench: cube: %s\n", e.message);
		exit(1);
	}
	double t = now_ms() - t0;
	*rows = c->n_rows;
	model_cube_free(c);
	return t;
}

/* ---- layout: through a QIX session, as a client asks */

static const char *layout_file;

static int locate_one(void *ctx, const char *id, struct qix_app_info *out, struct err *e)
{
	(void)ctx, (void)e;
	memset(out, 0, sizeof(*out));
	snprintf(out->path, sizeof(out->path), "%s", layout_file);
	snprintf(out->gen, sizeof(out->gen), "g1");
	snprintf(out->title, sizeof(out->title), "%s", id);
	return 0;
}

static int refuse(void *ctx, const char *id, struct err *e)
{
	(void)ctx, (void)id;
	return err_set(e, ERR_UNAVAILABLE, "not here");
}

static int refuse_save(void *ctx, const char *id, const void *d, size_t n, struct err *e)
{
	(void)d, (void)n;
	return refuse(ctx, id, e);
}

static void drop(void *ctx, char *json, size_t len)
{
	(void)len;
	int *answers = ctx;
	if (strstr(json, "\"error\""))
		fprintf(stderr, "engine_bench: %.300s\n", json);
	(*answers)++;
	free(json);
}

/* Sends one request to a session; the time until it was answered. */
static double ask(struct qix_session *s, int *answers, const char *req)
{
	int before = *answers;
	double t0 = now_ms();
	qix_session_message(s, req, strlen(req));
	double t = now_ms() - t0;
	if (*answers == before) {
		fprintf(stderr, "engine_bench: no answer to %s\n", req);
		exit(1);
	}
	return t;
}

/* The OpenDoc request of the app engine_of serves. */
static const char open[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"handle\":-1,\"method\":"
			   "\"OpenDoc\",\"params\":[\"bench\"]}";

/* An engine whose one app ("bench") is the file at `path`; exits on failure. */
static struct qix *engine_of(const char *path)
{
	layout_file = path;
	/* as a node's default budget: 70 % of the machine (qix's own default, 1 GiB, closed a
	 * 100 M-row app between the measurements and said so in a log line that read like a
	 * fault) */
	long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
	struct qix_config cfg = {
	    .env = {.locate = locate_one, .save = refuse_save, .reload = refuse},
	    .memory_bytes = pages > 0 && size > 0 ? (int64_t)pages * size / 10 * 7 : 0};
	struct qix *q = NULL;
	struct err e;
	err_init(&e);
	if (qix_new(&cfg, &q, &e) != 0) {
		fprintf(stderr, "engine_bench: %s\n", e.message);
		exit(1);
	}
	return q;
}

static int time_layouts(const char *path)
{
	struct qix *q = engine_of(path);
	static const char make[] =
	    "{\"jsonrpc\":\"2.0\",\"id\":2,\"handle\":1,\"method\":\"CreateSessionObject\","
	    "\"params\":[{\"qInfo\":{\"qType\":\"c\"},\"qHyperCubeDef\":{\"qDimensions\":["
	    "{\"qDef\":{\"qFieldDefs\":[\"region\"]}},{\"qDef\":{\"qFieldDefs\":[\"channel\"]}}],"
	    "\"qMeasures\":[{\"qDef\":{\"qDef\":\"Sum(amount)\"}},{\"qDef\":{\"qDef\":"
	    "\"Count(DISTINCT customer)\"}}],\"qInitialDataFetch\":[{\"qWidth\":4,"
	    "\"qHeight\":100}]}}]}";
	static const char layout[] =
	    "{\"jsonrpc\":\"2.0\",\"id\":3,\"handle\":2,\"method\":\"GetLayout\",\"params\":[]}";
	int na = 0, nb = 0;
	struct qix_session *a = qix_session_new(q, "bench", "", drop, &na);
	struct qix_session *b = qix_session_new(q, "bench", "", drop, &nb);
	double t0 = now_ms();
	ask(a, &na, open);
	printf("layout_open_ms %.1f\n", now_ms() - t0);
	ask(a, &na, make);
	printf("layout_first_ms %.2f\n", ask(a, &na, layout));
	double t[20];
	for (int i = 0; i < 20; i++)
		t[i] = ask(a, &na, layout);
	printf("layout_repeat_ms %.3f\n", median(t, 20));
	ask(b, &nb, open);
	ask(b, &nb, make);
	printf("layout_other_session_ms %.3f\n", ask(b, &nb, layout));
	qix_session_free(a);
	qix_session_free(b);
	qix_free(q);
	return 0;
}

/* A click on a field of a dimension table of the three-table model, as a client makes it:
 * a product category selected (Field.SelectValues) and then the layout of a listbox of a
 * customer field, whose values' states the selection gave (GetLayout). Each category is
 * selected first in one session (its states computed: the selection's propagation over
 * the 10 M sales rows) and then in a second (the same selection: its states from the
 * engine's cache). Medians over the categories. */
static int time_states(const char *path)
{
	struct qix *q = engine_of(path);
	/* handle 2: the listbox; handle 3: the field */
	static const char listbox[] =
	    "{\"jsonrpc\":\"2.0\",\"id\":2,\"handle\":1,\"method\":\"CreateSessionObject\","
	    "\"params\":[{\"qInfo\":{\"qType\":\"l\"},\"qListObjectDef\":{\"qDef\":{"
	    "\"qFieldDefs\":[\"segment\"]},\"qInitialDataFetch\":[{\"qWidth\":1,"
	    "\"qHeight\":50}]}}]}";
	static const char field[] = "{\"jsonrpc\":\"2.0\",\"id\":3,\"handle\":1,\"method\":"
				    "\"GetField\",\"params\":[\"category\"]}";
	static const char layout[] =
	    "{\"jsonrpc\":\"2.0\",\"id\":5,\"handle\":2,\"method\":\"GetLayout\",\"params\":[]}";
	int na = 0, nb = 0;
	struct qix_session *a = qix_session_new(q, "bench", "", drop, &na);
	struct qix_session *b = qix_session_new(q, "bench", "", drop, &nb);
	struct qix_session *both[2] = {a, b};
	int *answers[2] = {&na, &nb};
	for (int k = 0; k < 2; k++) {
		ask(both[k], answers[k], open);
		ask(both[k], answers[k], listbox);
		ask(both[k], answers[k], field);
	}
	enum { N = 20 };
	double t[2][N];
	for (int i = 0; i < N; i++) {
		char sel[256];
		snprintf(sel, sizeof(sel),
			 "{\"jsonrpc\":\"2.0\",\"id\":4,\"handle\":3,\"method\":\"SelectValues\","
			 "\"params\":[[{\"qText\":\"Category %02d\"}],false,false]}",
			 i + 1);
		for (int k = 0; k < 2; k++)
			t[k][i] = ask(both[k], answers[k], sel) + ask(both[k], answers[k], layout);
	}
	printf("states_computed_ms %.2f\nstates_cached_ms %.3f\n", median(t[0], N),
	       median(t[1], N));
	qix_session_free(a);
	qix_session_free(b);
	qix_free(q);
	return 0;
}

int main(int argc, char **argv)
{
	proc_huge_malloc(argv); /* as a node runs (FATHOM_HUGE_PAGES=0: without) */
	if (argc == 3 && strcmp(argv[1], "layout") == 0)
		return time_layouts(argv[2]);
	if (argc == 3 && strcmp(argv[1], "states") == 0)
		return time_states(argv[2]);
	if (argc != 3) {
		fprintf(stderr, "usage: engine_bench cube|select|layout|states APPFILE\n");
		return 2;
	}
	double t0 = now_ms();
	struct assoc *a = open_app(argv[2]);
	printf("open_ms %.1f\n", now_ms() - t0);
	/* resident memory once open: as the process holds it, and with what malloc kept of
	 * the file's decoded tables (freed once the model is built) given back */
	printf("rss_open_mib %.0f\n", rss_mib());
	malloc_trim(0);
	printf("rss_open_trimmed_mib %.0f\n", rss_mib());
	struct assoc_sel sel;
	if (model_assoc_sel_init(a, &sel) != 0)
		return 1;
	if (strcmp(argv[1], "cube") == 0) {
		double t[10];
		int64_t rows = 0;
		static const char *const names[] = {"", "kpi_", "bar_"};
		for (int k = CUBE_TWO; k <= CUBE_BAR; k++) {
			for (int i = 0; i < 10; i++)
				t[i] = time_cube(a, &sel, (enum cube_kind)k, &rows);
			printf("cube_%sall_ms %.2f\ncube_%sall_rows %lld\n", names[k],
			       median(t, 10), names[k], (long long)rows);
			if (k == CUBE_TWO)
				printf("rss_query_mib %.0f\n", rss_mib());
		}
		static const char *const three[] = {"P0001", "P0002", "P0003"};
		select_products(a, &sel, three, 3);
		for (int k = CUBE_TWO; k <= CUBE_BAR; k++) {
			for (int i = 0; i < 10; i++)
				t[i] = time_cube(a, &sel, (enum cube_kind)k, &rows);
			printf("cube_%sthree_ms %.2f\ncube_%sthree_rows %lld\n", names[k],
			       median(t, 10), names[k], (long long)rows);
		}
	} else if (strcmp(argv[1], "select") == 0) {
		double t[100];
		struct err e;
		err_init(&e);
		for (int i = 0; i < 100; i++) {
			char name[16];
			snprintf(name, sizeof(name), "P%04d", i * 17 % 2000 + 1);
			const char *one[] = {name};
			select_products(a, &sel, one, 1);
			struct assoc_states st;
			double s0 = now_ms();
			if (model_assoc_compute(a, &sel, &st, &e) != 0) {
				fprintf(stderr, "engine_bench: %s\n", e.message);
				return 1;
			}
			t[i] = now_ms() - s0;
			model_assoc_states_release(a, &st);
		}
		qsort(t, 100, sizeof(double), cmp_d);
		printf("select_median_ms %.2f\nselect_p90_ms %.2f\nselect_min_ms %.2f\n", t[50],
		       t[90], t[0]);
	} else {
		fprintf(stderr, "usage: engine_bench cube|select|layout|states APPFILE\n");
		return 2;
	}
	model_assoc_sel_release(&sel);
	model_assoc_free(a);
	return 0;
}
