/* test_core.c: the core module: errors, buffers, arenas, ids, time, strings, files, conf. */
#include "unit.h"

#include "core/core.h"

#include <float.h>
#include <jansson.h>
#include <math.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <sys/stat.h>

static void errors_table(void **state)
{
	(void)state;
	assert_int_equal(err_http_status(ERR_STALE), 409);
	assert_int_equal(err_http_status(ERR_FILTER), 400);
	assert_int_equal(err_http_status(ERR_XRF), 403);
	assert_int_equal(err_http_status(12345), 500);
	assert_string_equal(err_name(ERR_NOT_FOUND), "ERR_NOT_FOUND");
	assert_true(ERR_INTERNAL < 0);
	struct err e;
	err_init(&e);
	assert_int_equal(err_set(&e, ERR_INVALID, "first %d", 1), ERR_INVALID);
	err_set(&e, ERR_IO, "second");
	assert_int_equal(e.code, ERR_INVALID);
	assert_string_equal(e.message, "first 1");
	err_hint(&e, "do %s", "this");
	assert_string_equal(e.hint, "do this");
}

static void buffers_cap(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 10);
	assert_int_equal(buf_puts(&b, "12345"), 0);
	assert_int_equal(buf_printf(&b, "%d", 6789), 0);
	assert_string_equal(b.data, "123456789");
	assert_int_equal(buf_puts(&b, "ab"), ERR_TOO_LARGE);
	assert_string_equal(b.data, "123456789"); /* unchanged on failure */
	assert_int_equal(buf_puts(&b, "a"), 0);
	assert_int_equal(buf_append(&b, "", 0), 0);
	assert_int_equal(buf_append(&b, "x", SIZE_MAX), ERR_TOO_LARGE);
	char *s = buf_steal(&b);
	assert_string_equal(s, "123456789a");
	assert_null(b.data);
	free(s);
}

static int cleaned;
static void on_free(void *p)
{
	cleaned += *(int *)p;
}

static void arenas(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	char *big = arena_alloc(a, 100000);
	memset(big, 1, 100000);
	for (int i = 0; i < 1000; i++)
		assert_non_null(arena_alloc(a, 37));
	assert_string_equal(arena_printf(a, "%s-%d", "x", 7), "x-7");
	assert_null(arena_strdup(a, NULL));
	static int v = 5;
	cleaned = 0;
	arena_on_free(a, on_free, &v);
	arena_free(a);
	assert_int_equal(cleaned, 5);
}

static void uuids(void **state)
{
	(void)state;
	char a[UUID_STR_LEN + 1], b[UUID_STR_LEN + 1];
	uuid_new(a);
	uuid_new(b);
	assert_true(uuid_valid(a));
	assert_string_not_equal(a, b);
	assert_int_equal(a[14], '4');
	assert_true(uuid_valid("6BAA5C73-AF76-48C8-A5E8-C185C86A885C"));
	assert_false(uuid_valid("6baa5c73-af76-48c8-a5e8-c185c86a885"));
	assert_false(uuid_valid("6baa5c73-af76-48c8-a5e8-c185c86a885cc"));
	assert_false(uuid_valid("6baa5c73xaf76-48c8-a5e8-c185c86a885c"));
	assert_false(uuid_valid(NULL));
	char up[] = "6BAA5C73-AF76-48C8-A5E8-C185C86A885C";
	uuid_lower(up);
	assert_string_equal(up, "6baa5c73-af76-48c8-a5e8-c185c86a885c");
}

static void times(void **state)
{
	(void)state;
	char s[ISO_TIME_LEN + 1];
	time_format_iso(1545062301204LL, s);
	assert_string_equal(s, "2018-12-17T15:58:21.204Z");
	int64_t ms;
	assert_int_equal(time_parse_iso("2018-12-17T15:58:21.204Z", &ms), 0);
	assert_int_equal(ms, 1545062301204LL);
	assert_int_equal(time_parse_iso("2018-12-17 15:58:21", &ms), 0);
	assert_int_equal(ms, 1545062301000LL);
	assert_int_equal(time_parse_iso("2018-12-17", &ms), 0);
	assert_int_equal(time_parse_iso("2018-12-17T15:58:21.2", &ms), 0);
	assert_int_equal(ms % 1000, 200);
	assert_int_equal(time_parse_iso(TIME_NEVER, &ms), 0);
	time_format_iso(ms, s);
	assert_string_equal(s, TIME_NEVER);
	assert_int_not_equal(time_parse_iso("2018-13-17", &ms), 0);
	assert_int_not_equal(time_parse_iso("2018-12-17T25:00:00", &ms), 0);
	assert_int_not_equal(time_parse_iso("yesterday", &ms), 0);
	assert_int_not_equal(time_parse_iso("2018-12-17T15:58:21Zjunk", &ms), 0);
	assert_int_not_equal(time_parse_iso("2018-12-17T15:58:21.", &ms), 0);
}

static void strings(void **state)
{
	(void)state;
	char small[4];
	assert_int_equal(str_copy(small, "abcdef", sizeof(small)), 6);
	assert_string_equal(small, "abc");
	assert_true(str_ieq("XrfKey", "xrfkey"));
	assert_false(str_ieq("xrfkey", "xrfke"));
	int64_t v;
	assert_int_equal(str_to_i64("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_not_equal(str_to_i64("101", 0, 100, &v), 0);
	assert_int_not_equal(str_to_i64("4x", 0, 100, &v), 0);
	assert_int_not_equal(str_to_i64("", 0, 100, &v), 0);
	assert_true(str_has_ctl("a\x01", false));
	assert_true(str_has_ctl("a\n", false));
	assert_false(str_has_ctl("a\n\t", true));
	assert_true(str_has_ctl("a\x7f", true));
	struct arena *a = arena_new();
	assert_string_equal(str_url_encode(a, "Sales Q1/2.qvf"), "Sales%20Q1%2F2.qvf");
	arena_free(a);
}

static void files_and_conf(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	char path[4200];
	snprintf(path, sizeof(path), "%s/a/b/c", dir);
	struct err e;
	err_init(&e);
	assert_int_equal(dir_make_all(path, 0750, &e), 0);
	assert_true(dir_is_writable(path));
	snprintf(path, sizeof(path), "%s/node.conf", dir);
	struct conf *c = conf_new();
	conf_set(c, "repository.port", "4242");
	conf_set(c, "node.name", "n1");
	conf_set(c, "node.name", "n2");
	assert_int_equal(conf_save(c, path, &e), 0);
	conf_free(c);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(conf_load(path, &c, &e), 0);
	assert_string_equal(conf_get(c, "node.name", NULL), "n2");
	int64_t port;
	assert_int_equal(conf_get_int(c, "repository.port", 1, 1, 65535, &port, &e), 0);
	assert_int_equal(port, 4242);
	assert_int_equal(conf_get_int(c, "node.name", 1, 1, 10, &port, &e), ERR_CONFIG);
	assert_non_null(strstr(e.message, "node.name"));
	conf_free(c);
	char *data;
	size_t len;
	err_init(&e);
	assert_int_equal(file_read_all(path, 10, &data, &len, &e), ERR_TOO_LARGE);
	assert_null(data);
	FILE *f = fopen(path, "w");
	fputs("[node\nname = x\n", f);
	fclose(f);
	err_init(&e);
	assert_int_equal(conf_load(path, &c, &e), ERR_CONFIG);
	assert_non_null(strstr(e.message, "line 1"));
	rm_tree(dir);
}

/* file_read_all reads a file whole: at its limit exactly, refused a byte past it, empty,
 * larger than its first read, and a /proc file whose size says 0. */
static void files_read_whole(void **state)
{
	(void)state;
	char *dir = make_tmpdir(), path[256];
	snprintf(path, sizeof(path), "%s/f", dir);
	size_t big = 200000;
	char *want = malloc(big);
	assert_non_null(want);
	for (size_t i = 0; i < big; i++)
		want[i] = (char)('a' + i % 26);
	struct err e;
	char *data = NULL;
	size_t len = 0;
	for (size_t size = 0; size <= big; size += size < 70000 ? 65535 : 130000 - 65535) {
		FILE *f = fopen(path, "w");
		assert_int_equal(fwrite(want, 1, size, f), size);
		fclose(f);
		err_init(&e);
		assert_int_equal(file_read_all(path, size, &data, &len, &e), 0);
		assert_int_equal(len, size);
		assert_memory_equal(data, want, size);
		assert_int_equal(data[len], '\0');
		free(data);
		if (size) {
			err_init(&e);
			assert_int_equal(file_read_all(path, size - 1, &data, &len, &e),
					 ERR_TOO_LARGE);
			assert_null(data);
		}
	}
	err_init(&e);
	assert_int_equal(file_read_all("/proc/self/status", 1 << 20, &data, &len, &e), 0);
	assert_true(len > 0 && strstr(data, "Name:") != NULL && strlen(data) == len);
	free(data);
	free(want);
	rm_tree(dir);
}

/* A random string of valid UTF-8 with what needs escaping mixed in: control characters,
 * quotes, backslashes, NUL, and characters of two, three and four bytes. */
static size_t random_text(char *out, size_t max, unsigned *seed)
{
	static const char *const pieces[] = {"a",
					     "\"",
					     "\\",
					     "\n",
					     "\t",
					     "\x01",
					     "\x1f",
					     "\x7f",
					     "/",
					     "\xc3\xa9",
					     "\xe2\x82\xac",
					     "\xf0\x9f\x98\x80",
					     "0123456789abcdefXYZ",
					     " "};
	size_t n = 0, want = (size_t)rand_r(seed) % 40;
	if (rand_r(seed) % 8 == 0)
		want += 300; /* long runs: the eight-byte path */
	while (n < want && n + 20 < max) {
		unsigned k = (unsigned)rand_r(seed) % (ARRAY_LEN(pieces) + 1);
		if (k == ARRAY_LEN(pieces)) {
			out[n++] = '\0';
			continue;
		}
		size_t len = strlen(pieces[k]);
		memcpy(out + n, pieces[k], len);
		n += len;
	}
	return n;
}

static json_t *random_value(unsigned *seed, int depth)
{
	static const double reals[] = {0.0,	-0.0,	0.1,	 1.0,	  -1.5,
				       1e300,	1e-300, 1e21,	 1e22,	  123456789012345678.0,
				       3.14159, 2.5e-5, DBL_MAX, DBL_MIN, 1e16,
				       -7e-7};
	static const json_int_t ints[] = {0, 1, -1, 9, 10, 99, INT64_MAX, INT64_MIN, 1234567890123};
	char text[1024];
	switch (rand_r(seed) % (depth > 4 ? 6 : 8)) {
	case 0: return json_null();
	case 1: return json_boolean(rand_r(seed) % 2);
	case 2: return json_integer(ints[rand_r(seed) % ARRAY_LEN(ints)]);
	case 3:
		return json_real(rand_r(seed) % 2 ? reals[rand_r(seed) % ARRAY_LEN(reals)]
						  : (double)rand_r(seed) / (rand_r(seed) + 1) *
							(rand_r(seed) % 2 ? 1e-9 : 1e9));
	case 4:
	case 5: return json_stringn(text, random_text(text, sizeof(text), seed));
	case 6: {
		json_t *a = json_array();
		for (int i = rand_r(seed) % 5; i > 0; i--)
			json_array_append_new(a, random_value(seed, depth + 1));
		return a;
	}
	default: {
		json_t *o = json_object();
		for (int i = rand_r(seed) % 5; i > 0; i--) {
			size_t n = random_text(text, sizeof(text), seed);
			json_object_setn_new(o, text, n, random_value(seed, depth + 1));
		}
		return o;
	}
	}
}

/* json_encode writes what json_dumps writes, byte for byte, for thousands of values. */
static void json_encoder(void **state)
{
	(void)state;
	unsigned seed = 12345;
	for (int i = 0; i < 3000; i++) {
		json_t *v = json_array();
		json_array_append_new(v, random_value(&seed, 0));
		char *want = json_dumps(v, JSON_COMPACT);
		size_t n = 0;
		char *got = json_encode(v, &n);
		assert_non_null(want);
		assert_non_null(got);
		if (n != strlen(want) || memcmp(got, want, n) != 0)
			fail_msg("value %d: json_dumps gives %s\njson_encode gives %s", i, want,
				 got);
		free(want);
		free(got);
		json_decref(v);
	}
	/* nesting past its bound is refused, not a stack overflow */
	json_t *deep = json_array(), *inner = deep;
	for (int i = 0; i < 3000; i++) {
		json_t *next = json_array();
		json_array_append_new(inner, next);
		inner = next;
	}
	assert_null(json_encode(deep, NULL));
	json_decref(deep);
}

/* utf8_valid agrees with jansson's own check, on random bytes and on the edge cases. */
static void utf8_checks(void **state)
{
	(void)state;
	static const char *const bad[] = {"\x80",
					  "\xc0\x80",
					  "\xc1\xbf",
					  "\xe0\x80\x80",
					  "\xed\xa0\x80",
					  "\xf4\x90\x80\x80",
					  "\xf5\x80\x80\x80",
					  "\xc3",
					  "abcdefgh\xe2\x82"};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		assert_false(utf8_valid(bad[i], strlen(bad[i])));
		assert_null(json_text(bad[i], strlen(bad[i])));
	}
	static const char *const good[] = {"",
					   "plain ascii, longer than eight",
					   "\xc2\x80",
					   "\xed\x9f\xbf",
					   "\xee\x80\x80",
					   "\xf4\x8f\xbf\xbf",
					   "\xf0\x9f\x98\x80 after"};
	for (size_t i = 0; i < ARRAY_LEN(good); i++)
		assert_true(utf8_valid(good[i], strlen(good[i])));
	unsigned seed = 7;
	unsigned char b[32];
	for (int i = 0; i < 200000; i++) {
		size_t n = (size_t)rand_r(&seed) % sizeof(b);
		for (size_t k = 0; k < n; k++) {
			int r = rand_r(&seed) % 4;
			b[k] = (unsigned char)(r == 0	? rand_r(&seed) % 0x80
					       : r == 1 ? 0x80 + rand_r(&seed) % 0x40
							: rand_r(&seed) % 256);
		}
		json_t *j = json_stringn((const char *)b, n);
		assert_int_equal(utf8_valid((const char *)b, n), j != NULL);
		json_decref(j);
	}
}

/* An open that does not end in time (a FIFO nobody reads: it waits as a lost network
 * share's calls do) is given up with ETIMEDOUT; the call ends later on its own thread,
 * which closes what it opened. */
static void open_within_gives_up(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	char fifo[600], plain[600];
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	snprintf(plain, sizeof(plain), "%s/plain", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	int64_t t0 = time_mono_ms();
	assert_int_equal(file_open_within(fifo, O_WRONLY | O_CLOEXEC, 0, 200), -1);
	assert_int_equal(errno, ETIMEDOUT);
	int64_t took = time_mono_ms() - t0;
	assert_true(took >= 190 && took < 5000);
	/* a reader lets the abandoned call end; its thread closes the FIFO again, after which
	 * a writer-less FIFO reads end-of-file */
	int r = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	assert_true(r >= 0);
	char c;
	ssize_t n = -1;
	for (int i = 0; i < 500; i++) {
		n = read(r, &c, 1);
		if (n == 0)
			break;
		sleep_ms(10);
	}
	assert_int_equal(n, 0);
	close(r);
	/* a call that ends in time is open()'s own answer */
	int fd = file_open_within(plain, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600, 2000);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(
	    file_open_within(plain, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600, 2000), -1);
	assert_int_equal(errno, EEXIST);
	rm_tree(dir);
}

static void collect(void *ctx, struct buf *b)
{
	metrics_sample(b, "test_state", "gauge", "a state", "of=\"test\"", *(int *)ctx);
}

/* /metrics: counters add up, histograms fill every bucket at or above the value, series
 * are sorted with one HELP and TYPE per name, collectors are asked at each page. */
static void metrics_page(void **state)
{
	(void)state;
	metrics_add("test_requests_total", "code=\"200\"", "requests", 1);
	metrics_add("test_requests_total", "code=\"200\"", "requests", 2);
	metrics_add("test_requests_total", "code=\"404\"", "requests", 1);
	metrics_observe("test_seconds", NULL, "durations", 0.02);
	metrics_observe("test_seconds", NULL, "durations", 3);
	metrics_set("test_level", NULL, "a level", 7.5);
	metrics_set("test_level", NULL, "a level", 2.25);
	int held = 1;
	metrics_collector_add(collect, &held);
	metrics_collector_add(collect, &held); /* once only */
	struct buf b;
	buf_init(&b, 1 << 20);
	assert_int_equal(metrics_render(&b), 0);
	const char *page = b.data;
	assert_non_null(strstr(page, "# HELP test_requests_total requests\n"
				     "# TYPE test_requests_total counter\n"
				     "test_requests_total{code=\"200\"} 3\n"
				     "test_requests_total{code=\"404\"} 1\n"));
	assert_non_null(strstr(page, "# TYPE test_seconds histogram\n"));
	assert_non_null(strstr(page, "test_seconds_bucket{le=\"0.01\"} 0\n"));
	assert_non_null(strstr(page, "test_seconds_bucket{le=\"0.025\"} 1\n"));
	assert_non_null(strstr(page, "test_seconds_bucket{le=\"2.5\"} 1\n"));
	assert_non_null(strstr(page, "test_seconds_bucket{le=\"5\"} 2\n"));
	assert_non_null(strstr(page, "test_seconds_bucket{le=\"+Inf\"} 2\n"));
	assert_non_null(strstr(page, "test_seconds_sum 3.02\n"));
	assert_non_null(strstr(page, "test_seconds_count 2\n"));
	assert_non_null(strstr(page, "test_level 2.25\n"));
	const char *state_line = "test_state{of=\"test\"} 1\n";
	assert_non_null(strstr(page, state_line));
	assert_null(strstr(strstr(page, state_line) + 1, "test_state{")); /* collected once */
	/* a name used as another kind is not mixed in */
	metrics_add("test_level", NULL, "a level", 1);
	buf_release(&b);
	buf_init(&b, 1 << 20);
	held = 0;
	assert_int_equal(metrics_render(&b), 0);
	assert_non_null(strstr(b.data, "test_level 2.25\n"));
	assert_non_null(strstr(b.data, "test_state{of=\"test\"} 0\n"));
	assert_null(strstr(strstr(b.data, "test_state{") + 1, "test_state{"));
	metrics_collector_remove(collect, &held);
	buf_release(&b);
	buf_init(&b, 1 << 20);
	assert_int_equal(metrics_render(&b), 0);
	assert_null(strstr(b.data, "test_state"));
	buf_release(&b);
	char esc[64];
	metrics_label_text(esc, sizeof(esc), "a\"b\\c\nd");
	assert_string_equal(esc, "a\\\"b\\\\c\\nd");
}

/* A line of the log file names the process, the node, the service and the request; what
 * could break the brackets apart is replaced. */
static void log_context(void **state)
{
	(void)state;
	char *dir = make_tmpdir(), path[256], line[512];
	snprintf(path, sizeof(path), "%s/t.log", dir);
	struct err e;
	err_init(&e);
	assert_int_equal(log_open(path, LOG_INFO, &e), 0);
	log_info("before");
	log_set_node("node one");
	log_context_set("proxy API", "req]1");
	log_info("during");
	log_context_set(NULL, NULL);
	log_info("after");
	log_close();
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char want[3][96];
	snprintf(want[0], sizeof(want[0]), "[%d - - -] before\n", (int)getpid());
	snprintf(want[1], sizeof(want[1]), "[%d node_one proxy req_1] during\n", (int)getpid());
	snprintf(want[2], sizeof(want[2]), "[%d node_one - -] after\n", (int)getpid());
	for (int i = 0; i < 3; i++) {
		assert_non_null(fgets(line, sizeof(line), f));
		assert_non_null(strstr(line, " info  "));
		assert_string_equal(strstr(line, "["), want[i]);
	}
	assert_null(fgets(line, sizeof(line), f));
	fclose(f);
	log_set_node(NULL);
	rm_tree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(metrics_page),   cmocka_unit_test(errors_table),
	    cmocka_unit_test(buffers_cap),    cmocka_unit_test(files_read_whole),
	    cmocka_unit_test(arenas),	      cmocka_unit_test(uuids),
	    cmocka_unit_test(times),	      cmocka_unit_test(strings),
	    cmocka_unit_test(files_and_conf), cmocka_unit_test(json_encoder),
	    cmocka_unit_test(utf8_checks),    cmocka_unit_test(open_within_gives_up),
	    cmocka_unit_test(log_context),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
