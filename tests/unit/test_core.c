/* test_core.c: the core module: errors, buffers, arenas, ids, time, strings, files, conf. */
#include "unit.h"

#include "core/core.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(errors_table),   cmocka_unit_test(buffers_cap),
	    cmocka_unit_test(arenas),	      cmocka_unit_test(uuids),
	    cmocka_unit_test(times),	      cmocka_unit_test(strings),
	    cmocka_unit_test(files_and_conf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
