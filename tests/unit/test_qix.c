/* test_qix.c: the QIX engine in-process (engine/qix.h), for what the enigma.js suite cannot
 * see from outside: apps shared between sessions and evicted under the memory limit, a new
 * generation reaching open sessions with their selections carried over, and the JSON-RPC
 * envelope on malformed input. */
#include "unit.h"

#include "data/data.h"
#include "script/script.h"
#include "qix/qix.h"

#include "golden.h"

#include <jansson.h>

static char *dir;
static char gen[3][32]; /* the live generation of apps a, b and c */

static const char *const scripts[] = {
    "T: LOAD * INLINE [\nRegion, Amount\nEast, 1\nWest, 2\nNorth, 3\n];\n",
    "T: LOAD * INLINE [\nRegion, Amount\nEast, 10\nWest, 20\nSouth, 30\nNorth, 40\n];\n",
};

/* Writes app `name`'s generation g from `script`; date_field (or NULL) gets the number
 * format of a date, as a QVD's header gives it. */
static void write_app_dated(const char *name, const char *g, const char *script,
			    const char *date_field)
{
	struct err e;
	err_init(&e);
	struct data_set *m = NULL;
	struct reload_env env = {0};
	struct buf out;
	buf_init(&out, 1 << 24);
	char p[4200];
	snprintf(p, sizeof(p), "%s/%s.%s", dir, name, g);
	if (script_run(script, &env, &m, &e) != 0)
		fail_msg("%s", e.message);
	for (int t = 0; date_field && t < m->n_tables; t++) {
		int f = data_tbl_field(m->tables[t], date_field, false);
		if (f >= 0) {
			str_copy(m->tables[t]->fields[f].number_type, "DATE", 16);
			str_copy(m->tables[t]->fields[f].number_fmt, "DD/MM/YYYY", 64);
		}
	}
	if (data_set_write_app(m, "{\"qTitle\":\"T\"}", 14, script, strlen(script), &out, &e) !=
		0 ||
	    file_write_atomic(p, out.data, out.len, 0600, &e) != 0)
		fail_msg("%s", e.message);
	data_set_free(m);
	buf_release(&out);
}

static void write_app(const char *name, const char *g, const char *script)
{
	write_app_dated(name, g, script, NULL);
}

static int app_index(const char *id)
{
	return strcmp(id, "a") == 0 ? 0 : strcmp(id, "b") == 0 ? 1 : strcmp(id, "c") == 0 ? 2 : -1;
}

static int locate(void *ctx, const char *id, struct qix_app_info *out, struct err *e)
{
	(void)ctx;
	int i = app_index(id);
	if (i < 0)
		return err_set(e, ERR_NOT_FOUND, "no app %s", id);
	str_copy(out->gen, gen[i], sizeof(out->gen));
	snprintf(out->path, sizeof(out->path), "%s/%s.%s", dir, id, gen[i]);
	str_copy(out->title, id, sizeof(out->title));
	return 0;
}

static int save(void *ctx, const char *id, const void *d, size_t len, struct err *e)
{
	(void)ctx, (void)id, (void)d, (void)len;
	return err_set(e, ERR_UNAVAILABLE, "no saves here");
}

static int reload(void *ctx, const char *id, struct err *e)
{
	(void)ctx, (void)id;
	return err_set(e, ERR_UNAVAILABLE, "no reloads here");
}

/* What a session received: every message, as JSON. */
struct inbox {
	json_t *msgs;
};

static void collect(void *ctx, char *json, size_t len)
{
	struct inbox *in = ctx;
	json_error_t je;
	json_t *j = json_loadb(json, len, 0, &je);
	if (!j)
		fail_msg("not JSON: %.*s", (int)len, json);
	free(json);
	json_array_append_new(in->msgs, j);
}

/* A session on app `id` whose answers go to `in`. */
static struct qix_session *open_session(struct qix *q, const char *id, struct inbox *in)
{
	struct qix_session *s = qix_session_new(q, id, "", collect, in);
	assert_non_null(s);
	return s;
}

/* Sends one request and returns its answer (the last message with that id). */
static json_t *call(struct qix_session *s, struct inbox *in, const char *fmt, ...)
{
	static int id = 100;
	char body[2048], req[2300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	int my = ++id;
	snprintf(req, sizeof(req), "{\"jsonrpc\":\"2.0\",\"id\":%d,%s}", my, body);
	qix_session_message(s, req, strlen(req));
	for (size_t i = json_array_size(in->msgs); i-- > 0;) {
		json_t *m = json_array_get(in->msgs, i);
		if (json_integer_value(json_object_get(m, "id")) == my)
			return m;
	}
	fail_msg("no answer to %s", req);
	return NULL;
}

/* An expression's value in an open session, as text ("-" for an error). */
static void evaluate(struct qix_session *s, struct inbox *in, const char *expr, char *out, size_t n)
{
	json_t *r = call(s, in, "\"handle\":1,\"method\":\"Evaluate\",\"params\":[\"%s\"]", expr);
	const char *t = json_string_value(json_object_get(json_object_get(r, "result"), "qReturn"));
	snprintf(out, n, "%s", t ? t : "-");
}

static const char list_props[] =
    "{\"qInfo\":{\"qType\":\"l\"},\"qListObjectDef\":{\"qDef\":{\"qFieldDefs\":[\"Region\"],"
    "\"qSortCriterias\":[{\"qSortByAscii\":1}]},\"qInitialDataFetch\":[{\"qWidth\":1,"
    "\"qHeight\":10}]}}";

/* The list object's rows as "text:state,...". */
static void list_states(struct qix_session *s, struct inbox *in, int handle, char *out, size_t n)
{
	json_t *r = call(s, in, "\"handle\":%d,\"method\":\"GetLayout\",\"params\":[]", handle);
	json_t *matrix = json_object_get(
	    json_array_get(
		json_object_get(
		    json_object_get(json_object_get(json_object_get(r, "result"), "qLayout"),
				    "qListObject"),
		    "qDataPages"),
		0),
	    "qMatrix");
	out[0] = '\0';
	size_t i;
	json_t *row;
	json_array_foreach (matrix, i, row) {
		json_t *c = json_array_get(row, 0);
		size_t l = strlen(out);
		snprintf(out + l, n - l, "%s%s:%s", i ? "," : "",
			 json_string_value(json_object_get(c, "qText")),
			 json_string_value(json_object_get(c, "qState")));
	}
}

/* An engine over apps a, b and c with a memory limit (0: the default). */
static struct qix *new_engine(int64_t memory_bytes)
{
	struct qix_config cfg = {.env = {.locate = locate, .save = save, .reload = reload},
				 .memory_bytes = memory_bytes};
	struct qix *q = NULL;
	struct err e;
	err_init(&e);
	if (qix_new(&cfg, &q, &e) != 0)
		fail_msg("%s", e.message);
	return q;
}

static int setup(void **state)
{
	(void)state;
	dir = make_tmpdir();
	str_copy(gen[0], "g1", sizeof(gen[0]));
	str_copy(gen[1], "g1", sizeof(gen[1]));
	str_copy(gen[2], "g1", sizeof(gen[2]));
	write_app("a", "g1", scripts[0]);
	write_app("b", "g1", scripts[0]);
	write_app("c", "g1", scripts[0]);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rm_tree(dir);
	return 0;
}

static void sessions_share_apps_and_keep_their_selections(void **state)
{
	(void)state;
	struct qix *q = new_engine(0);
	struct inbox ia = {json_array()}, ib = {json_array()};
	struct qix_session *sa = open_session(q, "a", &ia);
	struct qix_session *sb = open_session(q, "a", &ib);
	/* the greeting comes first */
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(ia.msgs, 0), "method")),
	    "OnConnected");
	call(sa, &ia, "\"handle\":-1,\"method\":\"OpenDoc\",\"params\":[\"a\"]");
	call(sb, &ib, "\"handle\":-1,\"method\":\"OpenDoc\",\"params\":{\"qDocName\":\"a\"}");
	int apps;
	int64_t bytes;
	int sessions;
	qix_stats(q, &apps, &bytes, &sessions);
	assert_int_equal(apps, 1); /* one copy of the app for both sessions */
	assert_int_equal(sessions, 2);
	call(sa, &ia, "\"handle\":1,\"method\":\"CreateSessionObject\",\"params\":[%s]",
	     list_props);
	call(sb, &ib, "\"handle\":1,\"method\":\"CreateSessionObject\",\"params\":[%s]",
	     list_props);
	json_t *f = call(sa, &ia, "\"handle\":1,\"method\":\"GetField\",\"params\":[\"Region\"]");
	int fh = (int)json_integer_value(
	    json_object_get(json_object_get(json_object_get(f, "result"), "qReturn"), "qHandle"));
	json_t *r = call(sa, &ia,
			 "\"handle\":%d,\"method\":\"SelectValues\",\"params\":[[{\"qText\":"
			 "\"West\"}]]",
			 fh);
	assert_true(json_is_true(json_object_get(json_object_get(r, "result"), "qReturn")));
	char got[256];
	list_states(sa, &ia, 2, got, sizeof(got));
	assert_string_equal(got, "East:A,North:A,West:S");
	list_states(sb, &ib, 2, got, sizeof(got));
	assert_string_equal(got, "East:O,North:O,West:O");

	/* a new generation: both sessions hear of it; A keeps West selected by value */
	write_app("a", "g2", scripts[1]);
	str_copy(gen[0], "g2", sizeof(gen[0]));
	size_t before = json_array_size(ib.msgs);
	qix_poll_generations(q);
	bool told = false;
	for (size_t i = before; i < json_array_size(ib.msgs); i++) {
		json_t *m = json_array_get(ib.msgs, i);
		told |=
		    !json_object_get(m, "id") && json_array_size(json_object_get(m, "change")) >= 2;
	}
	assert_true(told);
	list_states(sa, &ia, 2, got, sizeof(got));
	assert_string_equal(got, "East:A,North:A,South:A,West:S");
	list_states(sb, &ib, 2, got, sizeof(got));
	assert_string_equal(got, "East:O,North:O,South:O,West:O");
	qix_session_free(sa);
	qix_session_free(sb);
	json_decref(ia.msgs);
	json_decref(ib.msgs);
	qix_free(q);
	str_copy(gen[0], "g1", sizeof(gen[0]));
}

/* Selects the value `text` of field Region in a session; the field's handle. */
static int select_region(struct qix_session *s, struct inbox *in, const char *text)
{
	json_t *f = call(s, in, "\"handle\":1,\"method\":\"GetField\",\"params\":[\"Region\"]");
	int fh = (int)json_integer_value(
	    json_object_get(json_object_get(json_object_get(f, "result"), "qReturn"), "qHandle"));
	call(s, in, "\"handle\":%d,\"method\":\"SelectValues\",\"params\":[[{\"qText\":\"%s\"}]]",
	     fh, text);
	return fh;
}

/* The rows of a cube's layout as "Region:Amount,...", and its grand total after "=". */
static void cube_rows(struct qix_session *s, struct inbox *in, int handle, char *out, size_t n)
{
	json_t *r = call(s, in, "\"handle\":%d,\"method\":\"GetLayout\",\"params\":[]", handle);
	json_t *hc =
	    json_object_get(json_object_get(json_object_get(r, "result"), "qLayout"), "qHyperCube");
	json_t *matrix =
	    json_object_get(json_array_get(json_object_get(hc, "qDataPages"), 0), "qMatrix");
	out[0] = '\0';
	size_t i;
	json_t *row;
	json_array_foreach (matrix, i, row) {
		size_t l = strlen(out);
		snprintf(out + l, n - l, "%s%s:%s", i ? "," : "",
			 json_string_value(json_object_get(json_array_get(row, 0), "qText")),
			 json_string_value(json_object_get(json_array_get(row, 1), "qText")));
	}
	size_t l = strlen(out);
	snprintf(out + l, n - l, "=%s",
		 json_string_value(json_object_get(
		     json_array_get(json_object_get(hc, "qGrandTotalRow"), 0), "qText")));
}

static const char cube_props[] =
    "{\"qInfo\":{\"qType\":\"c\"},\"qHyperCubeDef\":{\"qDimensions\":[{\"qDef\":{"
    "\"qFieldDefs\":[\"Region\"]}}],\"qMeasures\":[{\"qDef\":{\"qDef\":\"Sum(Amount)\"}}],"
    "\"qInitialDataFetch\":[{\"qWidth\":2,\"qHeight\":10}]}}";

/* Cubes are computed once per selection and data: a second session with the same
 * selection is answered from the cache, a different selection is not, and new data starts
 * a new cache (no answer from the old data). A measure with $(...) is never kept. */
static void cubes_are_shared_by_sessions_with_one_selection(void **state)
{
	(void)state;
	struct qix *q = new_engine(0);
	struct inbox ia = {json_array()}, ib = {json_array()};
	struct qix_session *sa = open_session(q, "a", &ia);
	struct qix_session *sb = open_session(q, "a", &ib);
	call(sa, &ia, "\"handle\":-1,\"method\":\"OpenDoc\",\"params\":[\"a\"]");
	call(sb, &ib, "\"handle\":-1,\"method\":\"OpenDoc\",\"params\":[\"a\"]");
	call(sa, &ia, "\"handle\":1,\"method\":\"CreateSessionObject\",\"params\":[%s]",
	     cube_props);
	call(sb, &ib, "\"handle\":1,\"method\":\"CreateSessionObject\",\"params\":[%s]",
	     cube_props);
	int64_t look0, hit0, look, hit, bytes;
	qix_cache_stats(q, &look0, &hit0, &bytes);
	char got[256];
	cube_rows(sa, &ia, 2, got, sizeof(got));
	assert_string_equal(got, "East:1,West:2,North:3=6");
	qix_cache_stats(q, &look, &hit, &bytes);
	assert_true(look > look0);
	assert_int_equal(hit, hit0); /* nothing computed before */
	assert_true(bytes > 0);
	cube_rows(sb, &ib, 2, got, sizeof(got));
	assert_string_equal(got, "East:1,West:2,North:3=6");
	int64_t hit1;
	qix_cache_stats(q, &look, &hit1, &bytes);
	assert_true(hit1 >= hit + 2); /* the cube and its grand total */

	/* A selects West: its cube is new; B's is still the cached one */
	select_region(sa, &ia, "West");
	qix_cache_stats(q, &look, &hit, &bytes);
	cube_rows(sa, &ia, 2, got, sizeof(got));
	assert_string_equal(got, "West:2=2");
	qix_cache_stats(q, &look0, &hit0, &bytes);
	assert_int_equal(hit0, hit);
	cube_rows(sb, &ib, 2, got, sizeof(got));
	assert_string_equal(got, "East:1,West:2,North:3=6");
	/* B selects West too: A's cube, on A's states (the cache holds nothing new) */
	int64_t held;
	qix_cache_stats(q, &look, &hit, &held);
	int fb = select_region(sb, &ib, "West");
	qix_cache_stats(q, &look, &hit, &bytes);
	cube_rows(sb, &ib, 2, got, sizeof(got));
	assert_string_equal(got, "West:2=2");
	qix_cache_stats(q, &look0, &hit0, &bytes);
	assert_true(hit0 >= hit + 2);
	assert_int_equal(bytes, held);

	/* a measure that expands a variable is computed every time */
	call(sb, &ib, "\"handle\":1,\"method\":\"CreateSessionObject\",\"params\":[%s]",
	     "{\"qInfo\":{\"qType\":\"c\"},\"qHyperCubeDef\":{\"qMeasures\":[{\"qDef\":{\"qDef\":"
	     "\"Sum(Amount)$(x)\"}}],\"qInitialDataFetch\":[{\"qWidth\":1,\"qHeight\":1}]}}");
	qix_cache_stats(q, &look, &hit, &bytes);
	call(sb, &ib, "\"handle\":%d,\"method\":\"GetLayout\",\"params\":[]", fb + 1);
	qix_cache_stats(q, &look0, &hit0, &bytes);
	assert_int_equal(look0, look);

	/* new data: B (West selected by value) sees West's new amount, not the cached one */
	write_app("a", "g2", scripts[1]);
	str_copy(gen[0], "g2", sizeof(gen[0]));
	qix_poll_generations(q);
	cube_rows(sb, &ib, 2, got, sizeof(got));
	assert_string_equal(got, "West:20=20");
	cube_rows(sa, &ia, 2, got, sizeof(got));
	assert_string_equal(got, "West:20=20");
	qix_session_free(sa);
	qix_session_free(sb);
	json_decref(ia.msgs);
	json_decref(ib.msgs);
	qix_free(q);
	str_copy(gen[0], "g1", sizeof(gen[0]));
}

/* The field functions in a chart's expressions (a title, a value): the selection's counts
 * and texts, before and after West is selected. */
static void field_functions_in_chart_expressions(void **state)
{
	(void)state;
	struct qix *q = new_engine(0);
	struct inbox in = {json_array()};
	struct qix_session *s = open_session(q, "a", &in);
	call(s, &in, "\"handle\":-1,\"method\":\"OpenDoc\",\"params\":[\"a\"]");
	call(s, &in, "\"handle\":1,\"method\":\"CreateSessionObject\",\"params\":[%s]",
	     "{\"qInfo\":{\"qType\":\"t\"},\"title\":{\"qStringExpression\":{\"qExpr\":\"='In ' & "
	     "GetFieldSelections(Region) & ' (' & GetSelectedCount(Region) & '/' & "
	     "GetPossibleCount([Region]) & '/' & GetExcludedCount('Region') & ')'\"}},"
	     "\"all\":{\"qStringExpression\":{\"qExpr\":\"=GetCurrentSelections(' | ')\"}}}");
	char want[3][128] = {"In  (0/3/0)", "In West (1/1/2)", ""};
	for (int round = 0; round < 2; round++) {
		if (round == 1)
			select_region(s, &in, "West");
		json_t *r = call(s, &in, "\"handle\":2,\"method\":\"GetLayout\",\"params\":[]");
		json_t *l = json_object_get(json_object_get(r, "result"), "qLayout");
		assert_string_equal(json_string_value(json_object_get(l, "title")), want[round]);
		assert_string_equal(json_string_value(json_object_get(l, "all")),
				    round ? "Region: West" : want[2]);
	}
	qix_session_free(s);
	json_decref(in.msgs);
	qix_free(q);
}

/* ClientPlatform() in a chart expression is the session's browser, its own in each session
 * (not another session's cached value), NULL without one, and left alone inside quotes. */
static void client_platform_is_the_sessions_browser(void **state)
{
	(void)state;
	struct qix *q = new_engine(0);
	struct inbox ia = {json_array()}, ib = {json_array()};
	struct qix_session *sa = open_session(q, "a", &ia), *sb = open_session(q, "a", &ib);
	qix_session_set_platform(sa, "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0 it's");
	call(sa, &ia, "\"handle\":-1,\"method\":\"OpenDoc\",\"params\":[\"a\"]");
	call(sb, &ib, "\"handle\":-1,\"method\":\"OpenDoc\",\"params\":[\"a\"]");
	char v[256];
	evaluate(sa, &ia, "ClientPlatform()", v, sizeof(v));
	assert_string_equal(v, "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0 it's");
	evaluate(sa, &ia, "If(WildMatch(clientplatform ( ), '*Firefox*'), 'wide', 'narrow')", v,
		 sizeof(v));
	assert_string_equal(v, "wide");
	evaluate(sb, &ib, "ClientPlatform()", v, sizeof(v));
	assert_string_equal(v, "-");
	evaluate(sb, &ib, "If(WildMatch(clientplatform ( ), '*Firefox*'), 'wide', 'narrow')", v,
		 sizeof(v));
	assert_string_equal(v, "narrow");
	evaluate(sa, &ia, "'ClientPlatform()' & Len(ClientPlatform())", v, sizeof(v));
	assert_string_equal(v, "ClientPlatform()50");
	qix_session_free(sa);
	qix_session_free(sb);
	json_decref(ia.msgs);
	json_decref(ib.msgs);
	qix_free(q);
}

/* A field loaded with a date's number format keeps it in the app file, and a chart's
 * dimension on it says so: the $date tag and a qNumFormat of type D with its code. */
static void date_fields_are_tagged(void **state)
{
	(void)state;
	write_app_dated("c", "g3", "T: LOAD * INLINE [\nDay, Amount\n45047, 1\n45048, 2\n];\n",
			"Day");
	str_copy(gen[2], "g3", sizeof(gen[2]));
	struct qix *q = new_engine(0);
	struct inbox in = {json_array()};
	struct qix_session *s = open_session(q, "c", &in);
	call(s, &in, "\"handle\":-1,\"method\":\"OpenDoc\",\"params\":[\"c\"]");
	call(s, &in,
	     "\"handle\":1,\"method\":\"CreateSessionObject\",\"params\":[{\"qInfo\":{\"qType\":"
	     "\"x\"},\"qHyperCubeDef\":{\"qDimensions\":[{\"qDef\":{\"qFieldDefs\":[\"Day\"]}},"
	     "{\"qDef\":{\"qFieldDefs\":[\"Amount\"]}}]}}]");
	json_t *l = call(s, &in, "\"handle\":2,\"method\":\"GetLayout\",\"params\":[]");
	json_t *di = json_object_get(
	    json_object_get(json_object_get(json_object_get(l, "result"), "qLayout"), "qHyperCube"),
	    "qDimensionInfo");
	char *day = json_dumps(json_array_get(di, 0), JSON_COMPACT);
	char *amount = json_dumps(json_array_get(di, 1), JSON_COMPACT);
	assert_non_null(day);
	assert_non_null(amount);
	assert_non_null(strstr(day, "\"$date\""));
	assert_non_null(strstr(day, "\"qNumFormat\":{\"qType\":\"D\""));
	assert_non_null(strstr(day, "\"qFmt\":\"DD/MM/YYYY\""));
	assert_null(strstr(amount, "$date"));
	free(day);
	free(amount);
	/* a measure's date format writes its text; with an automatic format, Max of the date
	 * field shows as the field's dates do, and Sum does not */
	call(s, &in,
	     "\"handle\":1,\"method\":\"CreateSessionObject\",\"params\":[{\"qInfo\":{\"qType\":"
	     "\"k\"},\"qHyperCubeDef\":{\"qMeasures\":["
	     "{\"qDef\":{\"qDef\":\"Max(Day)\",\"qNumFormat\":{\"qType\":\"D\",\"qFmt\":"
	     "\"YYYY-MM-DD\"}}},{\"qDef\":{\"qDef\":\"=max( [Day] )\"}},"
	     "{\"qDef\":{\"qDef\":\"Sum(Day)\"}},"
	     "{\"qDef\":{\"qDef\":\"Min(Day)\",\"qNumFormat\":{\"qType\":\"TS\",\"qFmt\":"
	     "\"M/D/YYYY hh:mm\"}}}],"
	     "\"qInitialDataFetch\":[{\"qWidth\":4,\"qHeight\":1}]}}]");
	l = call(s, &in, "\"handle\":3,\"method\":\"GetLayout\",\"params\":[]");
	json_t *row = json_array_get(
	    json_object_get(
		json_array_get(
		    json_object_get(
			json_object_get(json_object_get(json_object_get(l, "result"), "qLayout"),
					"qHyperCube"),
			"qDataPages"),
		    0),
		"qMatrix"),
	    0);
	static const char *const texts[] = {"2023-05-02", "02/05/2023", "90095", "5/1/2023 00:00"};
	for (size_t k = 0; k < 4; k++)
		assert_string_equal(
		    json_string_value(json_object_get(json_array_get(row, k), "qText")), texts[k]);
	qix_session_free(s);
	json_decref(in.msgs);
	qix_free(q);
	str_copy(gen[2], "g1", sizeof(gen[2]));
}

/* ---------------------------------------------------------------- section access */

static const char access_script[] = "Section Access;\n"
				    "LOAD * INLINE [\n"
				    "ACCESS, USERID, GROUP, REGION, OMIT\n"
				    "ADMIN, INTERNAL\\boss, , ,\n"
				    "user, dir\\ann, , East,\n"
				    "USER, DIR\\bob, , *, AMOUNT\n"
				    "USER, DIR\\cid, , Nowhere,\n"
				    "USER, DIR\\dan, , ,\n"
				    "USER, , west team, WEST,\n"
				    "];\n"
				    "Section Application;\n"
				    "T: LOAD * INLINE [\n"
				    "REGION, AMOUNT, Customer\n"
				    "EAST, 1, c1\n"
				    "WEST, 2, c2\n"
				    "NORTH, 3, c3\n"
				    "EAST, 4, c4\n"
				    "];\n"
				    "C: LOAD * INLINE [\n"
				    "Customer, Name\n"
				    "c1, Alpha\n"
				    "c2, Beta\n"
				    "c3, Gamma\n"
				    "c4, Delta\n"
				    "];\n";

static const char name_list[] =
    "{\"qInfo\":{\"qType\":\"l\"},\"qListObjectDef\":{\"qDef\":{\"qFieldDefs\":[\"Name\"],"
    "\"qSortCriterias\":[{\"qSortByAscii\":1}]},\"qInitialDataFetch\":[{\"qWidth\":1,"
    "\"qHeight\":10}]}}";

/* A session of `user` (with the front door's attributes, or NULL) on app c: OpenDoc's
 * error code (0 when it opened) and, when it opened, its Name values as list_states writes
 * them. The session is left open in *out (or freed when out is NULL). */
static int open_as(struct qix *q, const char *user, const char *attrs, struct inbox *in,
		   char *names, size_t n, struct qix_session **out)
{
	struct qix_session *s = qix_session_new(q, "c", user, collect, in);
	assert_non_null(s);
	if (attrs)
		qix_session_govern(s, attrs);
	json_t *r = call(s, in, "\"handle\":-1,\"method\":\"OpenDoc\",\"params\":[\"c\"]");
	int code = (int)json_integer_value(json_object_get(json_object_get(r, "error"), "code"));
	names[0] = '\0';
	if (code == 0) {
		call(s, in, "\"handle\":1,\"method\":\"CreateSessionObject\",\"params\":[%s]",
		     name_list);
		list_states(s, in, 2, names, n);
	}
	if (out)
		*out = s;
	else
		qix_session_free(s);
	return code;
}

/* The data model's tables and fields as "T(f,f) T(f)" (GetTablesAndKeys). */
static void model_fields(struct qix_session *s, struct inbox *in, char *out, size_t n)
{
	json_t *r = call(s, in,
			 "\"handle\":1,\"method\":\"GetTablesAndKeys\",\"params\":[{\"qcx\":0,"
			 "\"qcy\":0},{\"qcx\":0,\"qcy\":0},0,true,false]");
	json_t *tables = json_object_get(json_object_get(r, "result"), "qtr");
	size_t i, k;
	json_t *t, *f;
	out[0] = '\0';
	json_array_foreach (tables, i, t) {
		size_t l = strlen(out);
		snprintf(out + l, n - l, "%s%s(", i ? " " : "",
			 json_string_value(json_object_get(t, "qName")));
		json_array_foreach (json_object_get(t, "qFields"), k, f) {
			l = strlen(out);
			snprintf(out + l, n - l, "%s%s", k ? "," : "",
				 json_string_value(json_object_get(f, "qName")));
		}
		l = strlen(out);
		snprintf(out + l, n - l, ")");
	}
}

static void section_access_reduces_what_each_person_sees(void **state)
{
	(void)state;
	write_app("c", "g4", access_script);
	str_copy(gen[2], "g4", sizeof(gen[2]));
	struct qix *q = new_engine(0);
	struct inbox in = {json_array()};
	char names[256], v[64];
	struct qix_session *s = NULL;

	/* the ADMIN line with no region: everything, and the script */
	assert_int_equal(
	    open_as(q, "UserDirectory=INTERNAL; UserId=boss", NULL, &in, names, sizeof(names), &s),
	    0);
	assert_string_equal(names, "Alpha:O,Beta:O,Delta:O,Gamma:O");
	evaluate(s, &in, "Sum(AMOUNT)", v, sizeof(v));
	assert_string_equal(v, "10");
	json_t *r = call(s, &in, "\"handle\":1,\"method\":\"GetScript\",\"params\":[]");
	assert_non_null(json_object_get(r, "result"));
	qix_session_free(s);

	/* a USER line: East's rows and what links to them, names matched in any case */
	assert_int_equal(open_as(q, "DIR\\Ann", NULL, &in, names, sizeof(names), &s), 0);
	assert_string_equal(names, "Alpha:O,Delta:O");
	evaluate(s, &in, "Sum(AMOUNT)", v, sizeof(v));
	assert_string_equal(v, "5");
	r = call(s, &in, "\"handle\":1,\"method\":\"GetScript\",\"params\":[]");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "error"), "code")),
			 5);
	/* the access tables are not part of the data */
	char fields[256];
	model_fields(s, &in, fields, sizeof(fields));
	assert_string_equal(fields, "T(REGION,AMOUNT,Customer) C(Customer,Name)");
	qix_session_free(s);

	/* '*' lists the values the access table lists (East, Nowhere, West), not all of the
	 * data (North); OMIT hides a field */
	assert_int_equal(
	    open_as(q, "UserDirectory=DIR; UserId=bob", NULL, &in, names, sizeof(names), &s), 0);
	assert_string_equal(names, "Alpha:O,Beta:O,Delta:O");
	model_fields(s, &in, fields, sizeof(fields));
	assert_string_equal(fields, "T(REGION,Customer) C(Customer,Name)");
	qix_session_free(s);

	/* a group of the front door's attributes */
	assert_int_equal(
	    open_as(q, "DIR\\eve", "[{\"group\":\"West Team\"}]", &in, names, sizeof(names), NULL),
	    0);
	assert_string_equal(names, "Beta:O");

	/* refused: a value the data does not hold (strict exclusion), an empty value on a USER
	 * line, no line at all, no user */
	assert_int_equal(open_as(q, "DIR\\cid", NULL, &in, names, sizeof(names), NULL), 5);
	assert_int_equal(open_as(q, "DIR\\dan", NULL, &in, names, sizeof(names), NULL), 5);
	assert_int_equal(
	    open_as(q, "DIR\\zoe", "[{\"group\":\"East Team\"}]", &in, names, sizeof(names), NULL),
	    5);
	assert_int_equal(open_as(q, "", NULL, &in, names, sizeof(names), NULL), 5);

	/* a new generation without Ann's line: her open session loses the data */
	assert_int_equal(open_as(q, "DIR\\ann", NULL, &in, names, sizeof(names), &s), 0);
	char *changed = strdup(access_script);
	assert_non_null(changed);
	memcpy(strstr(changed, "dir\\ann"), "dir\\ann", 7);
	strstr(changed, "dir\\ann")[4] = 'x'; /* dir\xnn */
	write_app("c", "g5", changed);
	free(changed);
	str_copy(gen[2], "g5", sizeof(gen[2]));
	qix_poll_generations(q);
	list_states(s, &in, 2, names, sizeof(names));
	assert_string_equal(names, "");
	qix_session_free(s);

	json_decref(in.msgs);
	qix_free(q);
	str_copy(gen[2], "g1", sizeof(gen[2]));
}

/* The script's tags show in qTags after the engine's own: in the data model, the field
 * list and a list object's dimension. */
static void script_tags_show_in_qtags(void **state)
{
	(void)state;
	write_app("c", "g6",
		  "T: LOAD * INLINE [\nCity, Amount\nOslo, 1\nBergen, 2\n];\n"
		  "U: LOAD * INLINE [\nCity, Note\nOslo, x\n];\n"
		  "TAG FIELD City WITH '$geoname';\nTAG FIELD Note WITH '$hidden';\n");
	str_copy(gen[2], "g6", sizeof(gen[2]));
	struct qix *q = new_engine(0);
	struct inbox in = {json_array()};
	struct qix_session *s = open_session(q, "c", &in);
	call(s, &in, "\"handle\":-1,\"method\":\"OpenDoc\",\"params\":[\"c\"]");
	json_t *r = call(s, &in,
			 "\"handle\":1,\"method\":\"GetTablesAndKeys\",\"params\":[{},{},0,true,"
			 "false]");
	json_t *t0 = json_array_get(json_object_get(json_object_get(r, "result"), "qtr"), 0);
	char *city =
	    json_dumps(json_object_get(json_array_get(json_object_get(t0, "qFields"), 0), "qTags"),
		       JSON_COMPACT);
	char *amount =
	    json_dumps(json_object_get(json_array_get(json_object_get(t0, "qFields"), 1), "qTags"),
		       JSON_COMPACT);
	assert_string_equal(city, "[\"$text\",\"$ascii\",\"$key\",\"$geoname\"]");
	assert_string_equal(amount, "[\"$numeric\",\"$integer\"]");
	free(city);
	free(amount);
	call(s, &in,
	     "\"handle\":1,\"method\":\"CreateSessionObject\",\"params\":[{\"qInfo\":{\"qType\":"
	     "\"f\"},\"qFieldListDef\":{}}]");
	json_t *l = call(s, &in, "\"handle\":2,\"method\":\"GetLayout\",\"params\":[]");
	json_t *items = json_object_get(
	    json_object_get(json_object_get(json_object_get(l, "result"), "qLayout"), "qFieldList"),
	    "qItems");
	size_t i;
	json_t *it;
	bool hidden = false;
	json_array_foreach (items, i, it)
		if (strcmp(json_string_value(json_object_get(it, "qName")), "Note") == 0)
			hidden = strcmp(json_string_value(
					    json_array_get(json_object_get(it, "qTags"), 2)),
					"$hidden") == 0;
	assert_true(hidden);
	qix_session_free(s);
	json_decref(in.msgs);
	qix_free(q);
	str_copy(gen[2], "g1", sizeof(gen[2]));
}

static void unused_apps_are_evicted_past_the_limit(void **state)
{
	(void)state;
	/* a limit below one app: only apps in use stay */
	struct qix *q = new_engine(1);
	struct inbox in = {json_array()};
	const char *ids[] = {"a", "b", "c"};
	struct qix_session *s[3];
	int apps, sessions;
	int64_t bytes;
	for (int i = 0; i < 3; i++) {
		s[i] = open_session(q, ids[i], &in);
		call(s[i], &in, "\"handle\":-1,\"method\":\"OpenDoc\",\"params\":[\"%s\"]", ids[i]);
	}
	qix_stats(q, &apps, &bytes, &sessions);
	assert_int_equal(apps, 3); /* all in use: none can go */
	assert_true(bytes > 1);
	qix_session_free(s[0]);
	qix_stats(q, &apps, &bytes, &sessions);
	assert_int_equal(apps, 2);
	qix_session_free(s[1]);
	qix_session_free(s[2]);
	qix_stats(q, &apps, &bytes, &sessions);
	assert_int_equal(apps, 0);
	assert_int_equal(sessions, 0);
	/* with room for all, they stay open for the next session */
	qix_free(q);
	q = new_engine(1 << 30);
	for (int i = 0; i < 3; i++) {
		s[i] = open_session(q, ids[i], &in);
		call(s[i], &in, "\"handle\":-1,\"method\":\"OpenDoc\",\"params\":[\"%s\"]", ids[i]);
		qix_session_free(s[i]);
	}
	qix_stats(q, &apps, &bytes, &sessions);
	assert_int_equal(apps, 3);
	qix_free(q);
	json_decref(in.msgs);
}

static void malformed_requests_get_errors(void **state)
{
	(void)state;
	struct qix *q = new_engine(0);
	struct inbox in = {json_array()};
	struct qix_session *s = open_session(q, "a", &in);
	static const struct {
		const char *req;
		int code;
	} cases[] = {
	    {"{\"jsonrpc\":\"2.0\",\"id\":1,", -32700},
	    {"[1,2]", -32600},
	    {"{\"jsonrpc\":\"2.0\",\"id\":2,\"handle\":-1,\"method\":7,\"params\":[]}", -32600},
	    {"{\"jsonrpc\":\"2.0\",\"id\":3,\"handle\":-1,\"method\":\"Nope\",\"params\":[]}",
	     -32601},
	    {"{\"jsonrpc\":\"2.0\",\"id\":4,\"handle\":5,\"method\":\"GetLayout\",\"params\":[]}",
	     -32602},
	    {"{\"jsonrpc\":\"2.0\",\"id\":5,\"handle\":-1,\"method\":\"OpenDoc\",\"params\":["
	     "\"zz\"]}",
	     1003},
	    {"{\"jsonrpc\":\"2.0\",\"id\":6,\"handle\":-1,\"method\":\"GetActiveDoc\"}", 1007},
	    {"{\"jsonrpc\":\"2.0\",\"id\":7,\"handle\":-1,\"method\":\"OpenDoc\",\"params\":[]}",
	     -32602},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t before = json_array_size(in.msgs);
		qix_session_message(s, cases[i].req, strlen(cases[i].req));
		assert_int_equal(json_array_size(in.msgs), before + 1);
		json_t *err = json_object_get(json_array_get(in.msgs, before), "error");
		if (json_integer_value(json_object_get(err, "code")) != cases[i].code)
			fail_msg("%s: wanted %d, got %s", cases[i].req, cases[i].code,
				 json_dumps(json_array_get(in.msgs, before), 0));
	}
	/* a notification (no id) gets no answer */
	size_t before = json_array_size(in.msgs);
	const char *note = "{\"jsonrpc\":\"2.0\",\"handle\":-1,\"method\":\"EngineVersion\"}";
	qix_session_message(s, note, strlen(note));
	assert_int_equal(json_array_size(in.msgs), before);
	qix_session_free(s);
	json_decref(in.msgs);
	qix_free(q);
}

struct listed {
	int n, n_global, n_doc, n_object, n_field;
	bool get_layout_0, select_values_3, dup;
	char seen[128][64];
};

static void list_one(void *ctx, const char *cls, const char *name, int arity)
{
	struct listed *l = ctx;
	char key[64];
	snprintf(key, sizeof(key), "%s.%s", cls, name);
	for (int i = 0; i < l->n && i < 128; i++)
		l->dup |= strcmp(l->seen[i], key) == 0;
	if (l->n < 128)
		snprintf(l->seen[l->n], sizeof(l->seen[0]), "%s", key);
	l->n++;
	l->n_global += strcmp(cls, "Global") == 0;
	l->n_doc += strcmp(cls, "Doc") == 0;
	l->n_object += strcmp(cls, "GenericObject") == 0;
	l->n_field += strcmp(cls, "Field") == 0;
	l->get_layout_0 |= strcmp(key, "GenericObject.GetLayout") == 0 && arity == 0;
	l->select_values_3 |= strcmp(key, "Field.SelectValues") == 0 && arity == 3;
}

/* The methods are a table: it lists what is implemented, once each, and a method of another
 * class, an unlisted one or one called with more parameters than it takes is refused. */
/* An engine whose saves write app "s"'s next generation; the poll's question about the app
 * (when `stale` is set) is answered with the generation before, after a save of the session
 * made while the question was out: a database read just before that save. */
struct saving {
	int gen;	       /* the live generation: file s.N */
	bool stale;	       /* the next question is the poll's */
	struct qix_session *s; /* what the session does meanwhile */
	struct inbox *in;
};

static int saving_locate(void *ctx, const char *id, struct qix_app_info *out, struct err *e)
{
	struct saving *sv = ctx;
	if (strcmp(id, "s") != 0)
		return err_set(e, ERR_NOT_FOUND, "no app %s", id);
	int g = sv->gen;
	if (sv->stale) {
		sv->stale = false;
		call(sv->s, sv->in,
		     "\"handle\":1,\"method\":\"CreateObject\",\"params\":[{\"qInfo\":{\"qId\":"
		     "\"sheet-2\",\"qType\":\"sheet\"}}]");
		call(sv->s, sv->in, "\"handle\":1,\"method\":\"DoSave\",\"params\":[]");
		assert_int_equal(sv->gen, g + 1);
	}
	snprintf(out->gen, sizeof(out->gen), "g%d", g);
	snprintf(out->path, sizeof(out->path), "%s/s.g%d", dir, g);
	str_copy(out->title, id, sizeof(out->title));
	return 0;
}

static int saving_save(void *ctx, const char *id, const void *d, size_t len, struct err *e)
{
	struct saving *sv = ctx;
	char p[4200];
	snprintf(p, sizeof(p), "%s/%s.g%d", dir, id, sv->gen + 1);
	if (file_write_atomic(p, d, len, 0600, e) != 0)
		return -1;
	sv->gen++;
	return 0;
}

static bool has_object(struct qix_session *s, struct inbox *in, const char *id)
{
	json_t *r = call(s, in, "\"handle\":1,\"method\":\"GetObject\",\"params\":[\"%s\"]", id);
	return json_object_get(r, "result") != NULL;
}

/* A poll that read the app's generation just before a save here must not put the older
 * file's objects over the saved ones (the hub lost a sheet it had just made this way). */
static void a_poll_never_goes_back_past_a_save(void **state)
{
	(void)state;
	write_app("s", "g1", scripts[0]);
	struct saving sv = {.gen = 1};
	struct qix_config cfg = {
	    .env = {.ctx = &sv, .locate = saving_locate, .save = saving_save, .reload = reload}};
	struct qix *q = NULL;
	struct err e;
	err_init(&e);
	if (qix_new(&cfg, &q, &e) != 0)
		fail_msg("%s", e.message);
	struct inbox in = {json_array()};
	struct qix_session *s = open_session(q, "s", &in);
	call(s, &in, "\"handle\":-1,\"method\":\"OpenDoc\",\"params\":[\"s\"]");
	call(s, &in,
	     "\"handle\":1,\"method\":\"CreateObject\",\"params\":[{\"qInfo\":{\"qId\":"
	     "\"sheet-1\",\"qType\":\"sheet\"}}]");
	call(s, &in, "\"handle\":1,\"method\":\"DoSave\",\"params\":[]");
	assert_int_equal(sv.gen, 2);
	sv.s = s;
	sv.in = &in;
	sv.stale = true;
	qix_poll_generations(q); /* told g2 while g3 (with sheet-2) is saved */
	assert_int_equal(sv.gen, 3);
	assert_true(has_object(s, &in, "sheet-1"));
	assert_true(has_object(s, &in, "sheet-2"));
	qix_poll_generations(q); /* told g3: nothing to do */
	assert_true(has_object(s, &in, "sheet-2"));
	json_t *l = call(s, &in, "\"handle\":1,\"method\":\"GetAppLayout\",\"params\":[]");
	assert_true(json_is_false(json_object_get(
	    json_object_get(json_object_get(l, "result"), "qLayout"), "qModified")));
	qix_session_free(s);
	json_decref(in.msgs);
	qix_free(q);
}

static void methods_are_a_table(void **state)
{
	(void)state;
	struct listed l = {0};
	qix_method_list(list_one, &l);
	assert_false(l.dup);
	assert_int_equal(l.n, l.n_global + l.n_doc + l.n_object + l.n_field);
	assert_true(l.n_global >= 10 && l.n_doc >= 20 && l.n_object >= 20 && l.n_field >= 10);
	assert_true(l.get_layout_0 && l.select_values_3);

	struct qix *q = new_engine(0);
	struct inbox in = {json_array()};
	struct qix_session *s = open_session(q, "a", &in);
	json_t *r = call(s, &in, "\"handle\":-1,\"method\":\"OpenDoc\",\"params\":[\"a\"]");
	assert_null(json_object_get(r, "error"));
	static const struct {
		const char *body;
		int code;
	} cases[] = {
	    /* a Doc method on Global, a Global method on the Doc */
	    {"\"handle\":-1,\"method\":\"GetAppLayout\",\"params\":[]", -32601},
	    {"\"handle\":1,\"method\":\"EngineVersion\",\"params\":[]", -32601},
	    {"\"handle\":1,\"method\":\"GetAppLayoutX\",\"params\":[]", -32601},
	    {"\"handle\":1,\"method\":\"GetAppLayout\",\"params\":[1]", -32602},
	    {"\"handle\":1,\"method\":\"GetAppLayout\",\"params\":[]", 0},
	    {"\"handle\":1,\"method\":\"GetAppLayout\",\"params\":{\"x\":1}", 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *m = call(s, &in, "%s", cases[i].body);
		json_t *err = json_object_get(m, "error");
		int code = err ? (int)json_integer_value(json_object_get(err, "code")) : 0;
		if (code != cases[i].code)
			fail_msg("%s: wanted %d, got %d", cases[i].body, cases[i].code, code);
	}
	qix_session_free(s);
	json_decref(in.msgs);
	qix_free(q);
}

/* Runs one QIX case file: each ">>> request" line is sent to a new session on app a (the
 * runner adds jsonrpc and id), and the answer must match the "<<< expected" line after it
 * (golden_subset). Returns 0 when every answer matches. */
static int run_qix_case(const char *path)
{
	char *text = NULL;
	size_t len;
	struct err e;
	err_init(&e);
	if (file_read_all(path, 1 << 20, &text, &len, &e)) {
		fprintf(stderr, "%s: %s\n", path, e.message);
		return 1;
	}
	struct qix *q = new_engine(0);
	struct inbox in = {json_array()};
	struct qix_session *s = open_session(q, "a", &in);
	json_t *got = NULL;
	int failed = 0, line = 0;
	for (char *l = text, *nl; l && *l; l = nl ? nl + 1 : NULL) {
		nl = strchr(l, '\n');
		if (nl)
			*nl = '\0';
		line++;
		json_error_t je;
		if (strncmp(l, ">>> ", 4) == 0) {
			json_t *req = json_loads(l + 4, 0, &je);
			if (!req)
				fail_msg("%s:%d: %s", path, line, je.text);
			char *body = json_dumps(req, JSON_COMPACT);
			got = call(s, &in, "%.*s", (int)strlen(body) - 2, body + 1);
			free(body);
			json_decref(req);
		} else if (strncmp(l, "<<< ", 4) == 0) {
			json_t *want = json_loads(l + 4, 0, &je);
			if (!want)
				fail_msg("%s:%d: %s", path, line, je.text);
			if (!got || !golden_subset(want, got)) {
				char *g = got ? json_dumps(got, JSON_COMPACT) : NULL;
				fprintf(stderr, "%s:%d: wanted %s\n  got %s\n", path, line, l + 4,
					g ? g : "no answer");
				free(g);
				failed = 1;
			}
			json_decref(want);
		}
	}
	free(text);
	qix_session_free(s);
	json_decref(in.msgs);
	qix_free(q);
	return failed;
}

static void qix_golden_cases(void **state)
{
	(void)state;
	const char *dirname = getenv("FATHOM_GOLDEN") ? getenv("FATHOM_GOLDEN") : GOLDEN_DIR "/qix";
	int n;
	char **names = golden_cases(dirname, &n);
	assert_non_null(names);
	assert_true(n >= 5);
	int failed = 0;
	for (int i = 0; i < n; i++) {
		char path[4200];
		snprintf(path, sizeof(path), "%s/%s", dirname, names[i]);
		failed += run_qix_case(path);
		free(names[i]);
	}
	free(names);
	assert_int_equal(failed, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    /* each test on apps of its own: one that stops half-way leaves nothing behind */
	    cmocka_unit_test_setup_teardown(sessions_share_apps_and_keep_their_selections, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(cubes_are_shared_by_sessions_with_one_selection, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(field_functions_in_chart_expressions, setup, teardown),
	    cmocka_unit_test_setup_teardown(date_fields_are_tagged, setup, teardown),
	    cmocka_unit_test_setup_teardown(client_platform_is_the_sessions_browser, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(section_access_reduces_what_each_person_sees, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(script_tags_show_in_qtags, setup, teardown),
	    cmocka_unit_test_setup_teardown(unused_apps_are_evicted_past_the_limit, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(a_poll_never_goes_back_past_a_save, setup, teardown),
	    cmocka_unit_test_setup_teardown(malformed_requests_get_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(methods_are_a_table, setup, teardown),
	    cmocka_unit_test_setup_teardown(qix_golden_cases, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
