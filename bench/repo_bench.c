/* repo_bench.c: the repository API against direct SQLite access, in one run.
 *
 *   repo_bench SITE_DIR BASE_URL
 *
 * SITE_DIR's node must be running at BASE_URL and its database must hold the apps to read
 * (bench/run inserts 10,000). Measures:
 *   1. GET /qrs/app/full: requests per second (one client, keep-alive, mutual TLS), against
 *      a C loop that reads the same rows and builds the same JSON straight from the file;
 *   2. PUT /qrs/app/{id} by 4 concurrent clients, each on its own apps: updates per second,
 *      against 4 threads doing the same conditional UPDATE on the file.
 * Prints one line per measure: name, fathom figure, baseline figure, ratio. */
#include "core/core.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define XRF	"abcdefghijklmnop"
#define CLIENTS 4
#define SECONDS 5.0

static const char *site, *base;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct sink {
	char *data;
	size_t len;
};

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
	struct sink *s = ctx;
	size_t add = size * n;
	char *d = realloc(s->data, s->len + add + 1);
	if (!d)
		return 0;
	memcpy(d + s->len, p, add);
	s->data = d;
	s->len += add;
	s->data[s->len] = '\0';
	return add;
}

static CURL *client(struct curl_slist **hdrs)
{
	CURL *c = curl_easy_init();
	char path[1024];
	snprintf(path, sizeof(path), "%s/certs/root.pem", site);
	curl_easy_setopt(c, CURLOPT_CAINFO, path);
	snprintf(path, sizeof(path), "%s/certs/client.pem", site);
	curl_easy_setopt(c, CURLOPT_SSLCERT, path);
	snprintf(path, sizeof(path), "%s/certs/client_key.pem", site);
	curl_easy_setopt(c, CURLOPT_SSLKEY, path);
	*hdrs = curl_slist_append(NULL, "X-Qlik-Xrfkey: " XRF);
	*hdrs = curl_slist_append(*hdrs, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	return c;
}

static long request(CURL *c, const char *method, const char *url, const char *body,
		    struct sink *out)
{
	out->len = 0;
	curl_easy_setopt(c, CURLOPT_URL, url);
	/* without a body, no body at all: POSTFIELDS NULL would make libcurl send a chunked
	 * body read from stdin, even under a GET */
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	else
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	if (curl_easy_perform(c) != CURLE_OK)
		return -1;
	long code = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	return code;
}

/* ---- 1. reads ---- */

static double http_full(void)
{
	struct curl_slist *h;
	CURL *c = client(&h);
	char url[512];
	snprintf(url, sizeof(url), "%s/qrs/app/full?xrfkey=" XRF, base);
	struct sink s = {0};
	int n = 0;
	double t0 = now_s();
	while (now_s() - t0 < SECONDS) {
		if (request(c, "GET", url, NULL, &s) != 200) {
			fprintf(stderr, "GET full failed\n");
			exit(1);
		}
		n++;
	}
	double rate = n / (now_s() - t0);
	free(s.data);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return rate;
}

static sqlite3 *open_db(void)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/repository.db", site);
	sqlite3 *db;
	if (sqlite3_open(path, &db) != SQLITE_OK)
		exit(1);
	sqlite3_busy_timeout(db, 5000);
	sqlite3_exec(db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
	return db;
}

/* The baseline reads the same columns (with owner and stream names) and builds the same
 * kind of JSON array with jansson, then serialises it. */
static double direct_full(void)
{
	sqlite3 *db = open_db();
	sqlite3_stmt *st;
	sqlite3_prepare_v2(
	    db,
	    "SELECT a.id, a.created_date, a.modified_date, a.modified_by, a.name, "
	    "a.app_id, a.description, a.owner_id, u.user_id, u.user_directory, u.name, "
	    "a.stream_id, s.name, a.published, a.publish_time, a.file_size, "
	    "a.last_reload_time, a.thumbnail, a.availability_status FROM app a LEFT JOIN "
	    "users u ON u.id = a.owner_id LEFT JOIN stream s ON s.id = a.stream_id "
	    "ORDER BY a.created_date, a.id",
	    -1, &st, NULL);
	int n = 0;
	double t0 = now_s();
	while (now_s() - t0 < SECONDS) {
		sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
		json_t *arr = json_array();
		while (sqlite3_step(st) == SQLITE_ROW) {
			json_t *o = json_object();
			for (int i = 0; i < sqlite3_column_count(st); i++) {
				const char *name = sqlite3_column_name(st, i);
				if (sqlite3_column_type(st, i) == SQLITE_INTEGER)
					json_object_set_new(
					    o, name, json_integer(sqlite3_column_int64(st, i)));
				else if (sqlite3_column_type(st, i) == SQLITE_NULL)
					json_object_set_new(o, name, json_null());
				else
					json_object_set_new(
					    o, name,
					    json_string((const char *)sqlite3_column_text(st, i)));
			}
			json_array_append_new(arr, o);
		}
		sqlite3_reset(st);
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		char *s = json_dumps(arr, JSON_COMPACT);
		free(s);
		json_decref(arr);
		n++;
	}
	double rate = n / (now_s() - t0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rate;
}

/* ---- 2. updates ---- */

struct worker {
	int index;
	long done;
	char (*ids)[40];
	char (*dates)[32];
	int n_ids;
};

static char ids[20000][40], dates[20000][32];
static int n_ids;

static void load_ids(void)
{
	sqlite3 *db = open_db();
	sqlite3_stmt *st;
	sqlite3_prepare_v2(db, "SELECT id, modified_date FROM app ORDER BY id", -1, &st, NULL);
	while (sqlite3_step(st) == SQLITE_ROW && n_ids < 20000) {
		snprintf(ids[n_ids], 40, "%s", sqlite3_column_text(st, 0));
		snprintf(dates[n_ids], 32, "%s", sqlite3_column_text(st, 1));
		n_ids++;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void *http_put_worker(void *p)
{
	struct worker *w = p;
	struct curl_slist *h;
	CURL *c = client(&h);
	struct sink s = {0};
	double t0 = now_s();
	for (int k = w->index; now_s() - t0 < SECONDS; k += CLIENTS) {
		int i = k % n_ids;
		if (i % CLIENTS != w->index)
			i = (i / CLIENTS) * CLIENTS + w->index;
		if (i >= n_ids)
			continue;
		char url[512], body[256];
		snprintf(url, sizeof(url), "%s/qrs/app/%s?xrfkey=" XRF, base, ids[i]);
		snprintf(body, sizeof(body),
			 "{\"description\":\"bench %ld\",\"modifiedDate\":\"%s\"}", w->done,
			 dates[i]);
		long code = request(c, "PUT", url, body, &s);
		if (code != 200) {
			fprintf(stderr, "PUT failed: %ld %s\n", code, s.data ? s.data : "");
			exit(1);
		}
		json_t *j = json_loads(s.data, 0, NULL);
		snprintf(dates[i], 32, "%s", json_string_value(json_object_get(j, "modifiedDate")));
		json_decref(j);
		w->done++;
	}
	free(s.data);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return NULL;
}

static void *direct_put_worker(void *p)
{
	struct worker *w = p;
	sqlite3 *db = open_db();
	sqlite3_stmt *st;
	sqlite3_prepare_v2(db,
			   "UPDATE app SET description = ?1, modified_date = ?2, modified_by = ?3 "
			   "WHERE id = ?4 AND modified_date = ?5",
			   -1, &st, NULL);
	double t0 = now_s();
	for (int i = w->index; now_s() - t0 < SECONDS; i = (i + CLIENTS) % n_ids) {
		char desc[64], date[32];
		snprintf(desc, sizeof(desc), "direct %ld", w->done);
		snprintf(date, sizeof(date), "2030-01-01T00:00:%02ld.%03ldZ", (w->done / 1000) % 60,
			 w->done % 1000);
		sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		sqlite3_bind_text(st, 1, desc, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, date, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, "INTERNAL\\sa_repository", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, ids[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, dates[i], -1, SQLITE_STATIC);
		sqlite3_step(st);
		sqlite3_reset(st);
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		snprintf(dates[i], 32, "%s", date);
		w->done++;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return NULL;
}

static double run_workers(void *(*fn)(void *))
{
	pthread_t t[CLIENTS];
	struct worker w[CLIENTS];
	double t0 = now_s();
	for (int i = 0; i < CLIENTS; i++) {
		w[i] = (struct worker){.index = i};
		pthread_create(&t[i], NULL, fn, &w[i]);
	}
	long total = 0;
	for (int i = 0; i < CLIENTS; i++) {
		pthread_join(t[i], NULL);
		total += w[i].done;
	}
	return total / (now_s() - t0);
}

/* ---- 3. cluster measures ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Write through node A, read through node B until the new value shows; time from A's
 * acknowledgement to B's answer with it. Prints p50 and p99 in milliseconds. */
static void visibility(const char *base_a, const char *base_b, int n)
{
	struct curl_slist *h;
	CURL *a = client(&h), *b = client(&h);
	struct sink s = {0};
	char url[512];
	snprintf(url, sizeof(url), "%s/qrs/tag?xrfkey=" XRF, base_a);
	if (request(a, "POST", url, "{\"name\":\"v0\"}", &s) != 201)
		exit(1);
	json_t *j = json_loads(s.data, 0, NULL);
	char id[64], md[64];
	snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(j, "id")));
	snprintf(md, sizeof(md), "%s", json_string_value(json_object_get(j, "modifiedDate")));
	json_decref(j);
	double *lat = calloc((size_t)n, sizeof(double));
	for (int i = 0; i < n; i++) {
		char body[256], want[32], put[512], get[512];
		snprintf(want, sizeof(want), "v%d", i + 1);
		snprintf(body, sizeof(body), "{\"name\":\"%s\",\"modifiedDate\":\"%s\"}", want, md);
		snprintf(put, sizeof(put), "%s/qrs/tag/%s?xrfkey=" XRF, base_a, id);
		snprintf(get, sizeof(get), "%s/qrs/tag/%s?xrfkey=" XRF, base_b, id);
		if (request(a, "PUT", put, body, &s) != 200)
			exit(1);
		double t0 = now_s();
		j = json_loads(s.data, 0, NULL);
		snprintf(md, sizeof(md), "%s",
			 json_string_value(json_object_get(j, "modifiedDate")));
		json_decref(j);
		for (;;) {
			if (request(b, "GET", get, NULL, &s) != 200)
				exit(1);
			j = json_loads(s.data, 0, NULL);
			bool seen =
			    strcmp(json_string_value(json_object_get(j, "name")), want) == 0;
			json_decref(j);
			if (seen)
				break;
		}
		lat[i] = (now_s() - t0) * 1000.0;
	}
	qsort(lat, (size_t)n, sizeof(double), cmp_double);
	printf("visibility_ms\t%.2f\t%.2f\n", lat[n / 2], lat[(n * 99) / 100]);
	free(lat);
	free(s.data);
	curl_easy_cleanup(a);
	curl_easy_cleanup(b);
}

/* `clients` threads each updating their own tag through node (i mod n_bases). */
static const char **bases;
static int n_bases;

static void *cluster_put_worker(void *p)
{
	struct worker *w = p;
	struct curl_slist *h;
	CURL *c = client(&h);
	struct sink s = {0};
	const char *b = bases[w->index % n_bases];
	char url[512], body[256], md[64], id[64];
	snprintf(url, sizeof(url), "%s/qrs/tag?xrfkey=" XRF, b);
	snprintf(body, sizeof(body), "{\"name\":\"load%d\"}", w->index);
	if (request(c, "POST", url, body, &s) != 201)
		exit(1);
	json_t *j = json_loads(s.data, 0, NULL);
	snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(j, "id")));
	snprintf(md, sizeof(md), "%s", json_string_value(json_object_get(j, "modifiedDate")));
	json_decref(j);
	snprintf(url, sizeof(url), "%s/qrs/tag/%s?xrfkey=" XRF, b, id);
	double t0 = now_s();
	while (now_s() - t0 < SECONDS) {
		snprintf(body, sizeof(body), "{\"name\":\"load%d-%ld\",\"modifiedDate\":\"%s\"}",
			 w->index, w->done, md);
		if (request(c, "PUT", url, body, &s) != 200)
			exit(1);
		j = json_loads(s.data, 0, NULL);
		snprintf(md, sizeof(md), "%s",
			 json_string_value(json_object_get(j, "modifiedDate")));
		json_decref(j);
		w->done++;
	}
	free(s.data);
	curl_easy_cleanup(c);
	return NULL;
}

static void cluster_throughput(int clients)
{
	pthread_t t[64];
	struct worker w[64];
	double t0 = now_s();
	long total = 0;
	for (int i = 0; i < clients; i++) {
		w[i] = (struct worker){.index = i};
		pthread_create(&t[i], NULL, cluster_put_worker, &w[i]);
	}
	for (int i = 0; i < clients; i++) {
		pthread_join(t[i], NULL);
		total += w[i].done;
	}
	printf("cluster_put_per_s\t%.1f\n", total / (now_s() - t0));
}

/* GET /qrs/about from `conns` keep-alive connections at once (a thread each) for SECONDS,
 * after one second to open them: requests per second. */
struct about_worker {
	pthread_t t;
	double t0;
	long done, failed;
};

static void *about_main(void *arg)
{
	struct about_worker *w = arg;
	struct curl_slist *h;
	CURL *c = client(&h);
	char url[512];
	snprintf(url, sizeof(url), "%s/qrs/about?xrfkey=" XRF, base);
	struct sink s = {0};
	while (now_s() - w->t0 < SECONDS + 1) {
		long code = request(c, "GET", url, NULL, &s);
		if (now_s() - w->t0 < 1)
			continue;
		if (code == 200)
			w->done++;
		else
			w->failed++;
	}
	free(s.data);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return NULL;
}

static void about_rate(int conns)
{
	struct about_worker *w = calloc((size_t)conns, sizeof(*w));
	double t0 = now_s();
	for (int i = 0; i < conns; i++) {
		w[i].t0 = t0;
		pthread_create(&w[i].t, NULL, about_main, &w[i]);
	}
	long done = 0, failed = 0;
	for (int i = 0; i < conns; i++) {
		pthread_join(w[i].t, NULL);
		done += w[i].done;
		failed += w[i].failed;
	}
	printf("about_per_s\t%.1f\t%ld\n", done / SECONDS, failed);
	free(w);
}

/* A count from the command line; exits with a message when it is not one. */
static int count_arg(const char *s)
{
	int64_t v;
	if (str_to_i64(s, 1, 1000000, &v) != 0) {
		fprintf(stderr, "repo_bench: \"%s\" is not a count from 1 to 1000000\n", s);
		exit(2);
	}
	return (int)v;
}

int main(int argc, char **argv)
{
	if (argc >= 5 && strcmp(argv[1], "visibility") == 0) {
		/* repo_bench visibility SITE_DIR BASE_A BASE_B [N] */
		site = argv[2];
		curl_global_init(CURL_GLOBAL_DEFAULT);
		visibility(argv[3], argv[4], argc > 5 ? count_arg(argv[5]) : 1000);
		return 0;
	}
	if (argc >= 5 && strcmp(argv[1], "throughput") == 0) {
		/* repo_bench throughput SITE_DIR CLIENTS BASE... */
		site = argv[2];
		bases = (const char **)argv + 4;
		n_bases = argc - 4;
		curl_global_init(CURL_GLOBAL_DEFAULT);
		cluster_throughput(count_arg(argv[3]));
		return 0;
	}
	if (argc == 5 && strcmp(argv[1], "about") == 0) {
		/* repo_bench about SITE_DIR BASE CONNECTIONS */
		site = argv[2];
		base = argv[3];
		curl_global_init(CURL_GLOBAL_DEFAULT);
		int n = count_arg(argv[4]);
		about_rate(n < 1024 ? n : 1024);
		return 0;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: repo_bench SITE_DIR BASE_URL\n"
				"       repo_bench about SITE_DIR BASE_URL CONNECTIONS\n"
				"       repo_bench visibility SITE_DIR BASE_A BASE_B [N]\n"
				"       repo_bench throughput SITE_DIR CLIENTS BASE...\n");
		return 2;
	}
	site = argv[1];
	base = argv[2];
	curl_global_init(CURL_GLOBAL_DEFAULT);
	load_ids();
	double a = http_full(), b = direct_full();
	printf("get_app_full\t%.1f\t%.1f\t%.2f\n", a, b, a / b);
	fflush(stdout);
	double c = run_workers(http_put_worker);
	load_ids(); /* the HTTP run moved every modifiedDate */
	double d = run_workers(direct_put_worker);
	printf("put_4_clients\t%.1f\t%.1f\t%.2f\n", c, d, c / d);
	curl_global_cleanup();
	return 0;
}
