/* test_proxy.c: the proxy's parsers of untrusted input: cookies, form bodies, and the
 * targets a sign-in may send a browser to. (Sign-in, sessions and forwarding are tested
 * end to end in tests/integration/proxy.bats and tests/qix.) */
#include "unit.h"

#include "proxy/proxy.h"

static void cookies(void **state)
{
	(void)state;
	char v[64];
	assert_true(proxy_cookie_value("X-Qlik-Session=abc", PROXY_COOKIE, v, sizeof(v)));
	assert_string_equal(v, "abc");
	assert_true(proxy_cookie_value("a=1; X-Qlik-Session=xyz; b=2", PROXY_COOKIE, v, sizeof(v)));
	assert_string_equal(v, "xyz");
	assert_true(proxy_cookie_value("a=1;X-Qlik-Session=\"q\" ", PROXY_COOKIE, v, sizeof(v)));
	assert_string_equal(v, "q");
	/* a longer name that starts with ours is another cookie */
	assert_false(proxy_cookie_value("X-Qlik-Session2=no", PROXY_COOKIE, v, sizeof(v)));
	assert_false(proxy_cookie_value("x-qlik-session=case", PROXY_COOKIE, v, sizeof(v)));
	assert_false(proxy_cookie_value("X-Qlik-Session=", PROXY_COOKIE, v, sizeof(v)));
	assert_false(proxy_cookie_value("", PROXY_COOKIE, v, sizeof(v)));
	assert_false(proxy_cookie_value(";;;", PROXY_COOKIE, v, sizeof(v)));
	char small[4];
	assert_false(proxy_cookie_value("X-Qlik-Session=abcd", PROXY_COOKIE, small, sizeof(small)));
	assert_true(proxy_cookie_value("X-Qlik-Session=abc", PROXY_COOKIE, small, sizeof(small)));
}

static void forms(void **state)
{
	(void)state;
	char v[32];
	const char *b = "username=al%20ice&password=a+b%26c%3D&next=%2Fhub";
	size_t n = strlen(b);
	assert_true(proxy_form_value(b, n, "username", v, sizeof(v)));
	assert_string_equal(v, "al ice");
	assert_true(proxy_form_value(b, n, "password", v, sizeof(v)));
	assert_string_equal(v, "a b&c=");
	assert_true(proxy_form_value(b, n, "next", v, sizeof(v)));
	assert_string_equal(v, "/hub");
	assert_false(proxy_form_value(b, n, "user", v, sizeof(v)));
	assert_false(proxy_form_value(b, n, "name", v, sizeof(v)));
	/* the body is not NUL-terminated where the length ends */
	assert_true(proxy_form_value("a=1&b=2", 3, "a", v, sizeof(v)));
	assert_string_equal(v, "1");
	assert_false(proxy_form_value("a=1&b=2", 3, "b", v, sizeof(v)));
	assert_true(proxy_form_value("a=", 2, "a", v, sizeof(v)));
	assert_string_equal(v, "");
	/* malformed escapes, NULs and values too long are refused */
	assert_false(proxy_form_value("a=%4", 4, "a", v, sizeof(v)));
	assert_false(proxy_form_value("a=%zz", 5, "a", v, sizeof(v)));
	assert_false(proxy_form_value("a=%00x", 6, "a", v, sizeof(v)));
	assert_false(
	    proxy_form_value("a=0123456789012345678901234567890123", 35, "a", v, sizeof(v)));
}

static void targets(void **state)
{
	(void)state;
	assert_true(proxy_local_target("/"));
	assert_true(proxy_local_target("/hub/stream/1?x=y"));
	assert_false(proxy_local_target(""));
	assert_false(proxy_local_target("//evil.example/"));
	assert_false(proxy_local_target("/\\evil.example/"));
	assert_false(proxy_local_target("https://evil.example/"));
	assert_false(proxy_local_target("hub"));
	assert_false(proxy_local_target("/a\r\nSet-Cookie: x=y"));
	char long_path[1100];
	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[0] = '/';
	long_path[sizeof(long_path) - 1] = '\0';
	assert_false(proxy_local_target(long_path));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(cookies),
	    cmocka_unit_test(forms),
	    cmocka_unit_test(targets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
