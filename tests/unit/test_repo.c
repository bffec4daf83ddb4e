/* test_repo.c: the repository service through its real request handler, in process:
 * golden cases (the .case files in tests/golden/repo: request in, response out, run in name order
 * on one repository) and checks that need more than one request. */
#include "unit.h"

#include "golden.h"
#include "repo_fixture.h"

#include <dirent.h>
#include <jansson.h>

static const char *golden_dir(void)
{
	const char *d = getenv("FATHOM_GOLDEN");
	return d ? d : GOLDEN_DIR "/repo";
}

/* Runs one case file; returns 0 when it passes. */
static int run_case(struct fixture *f, const char *path)
{
	char *text = NULL;
	size_t len;
	struct err e;
	err_init(&e);
	if (file_read_all(path, 1 << 20, &text, &len, &e)) {
		fprintf(stderr, "%s: %s\n", path, e.message);
		return 1;
	}
	/* Drop comment lines. */
	struct buf clean;
	buf_init(&clean, 1 << 20);
	for (char *l = text; *l;) {
		char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l + 1) : strlen(l);
		if (l[0] != '#' && buf_append(&clean, l, n))
			fail_msg("out of memory");
		l += n;
	}
	free(text);
	char *req = clean.data ? clean.data : (char *)"";
	char *sep = strstr(req, "\n===\n");
	if (!sep) {
		fprintf(stderr, "%s: no === line\n", path);
		buf_release(&clean);
		return 1;
	}
	*sep = '\0';
	char *expect = sep + 5;
	/* Request line, headers, blank line, body. */
	char *nl = strchr(req, '\n');
	char *first = req, *headers = nl ? nl + 1 : (char *)"";
	if (nl)
		*nl = '\0';
	char *body = strstr(headers, "\n\n");
	if (headers[0] == '\n') {
		body = headers + 1;
		headers = (char *)"";
	} else if (body) {
		*body = '\0';
		body += 2;
	} else {
		body = (char *)"";
	}
	size_t body_len = strlen(body);
	while (body_len && body[body_len - 1] == '\n')
		body[--body_len] = '\0';
	char method[16], target[2048];
	if (sscanf(first, "%15s %2047s", method, target) != 2) {
		fprintf(stderr, "%s: bad request line\n", path);
		buf_release(&clean);
		return 1;
	}
	char *q = strchr(target, '?');
	char query[2300];
	if (q)
		*q++ = '\0';
	snprintf(query, sizeof(query), "%s%sxrfkey=abcdefghijklmnop", q ? q : "", q ? "&" : "");
	char hdrs[4096];
	snprintf(hdrs, sizeof(hdrs), "X-Qlik-Xrfkey: abcdefghijklmnop\n%s", headers);
	char *out = NULL;
	size_t out_len = 0;
	int status = http_run_local(&f->h, method, target, query, hdrs, body, body_len, 7,
				    HTTP_CERT_OK, 1 << 16, &out, &out_len);
	int64_t status_want = 0;
	const char *status_end;
	assert_int_equal(str_to_i64_prefix(expect, &status_end, 100, 599, &status_want), 0);
	int want_status = (int)status_want;
	char *want_json = strchr(expect, '\n');
	int rc = 0;
	if (status != want_status) {
		fprintf(stderr, "%s: status %d, want %d; body: %s\n", path, status, want_status,
			out ? out : "");
		rc = 1;
	}
	if (rc == 0 && want_json && strspn(want_json, " \n") != strlen(want_json)) {
		json_error_t je;
		json_t *w = json_loads(want_json, JSON_DECODE_ANY, &je);
		json_t *g = out ? json_loadb(out, out_len, 0, NULL) : NULL;
		if (!w) {
			fprintf(stderr, "%s: expected JSON does not parse: %s\n", path, je.text);
			rc = 1;
		} else if (!golden_subset(w, g)) {
			fprintf(stderr, "%s: body does not match\n  got:  %s\n  want: %s\n", path,
				out ? out : "", want_json);
			rc = 1;
		}
		json_decref(w);
		json_decref(g);
	}
	free(out);
	buf_release(&clean);
	return rc;
}

static void repo_golden_cases(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	struct fixture f;
	assert_int_equal(fixture_open(&f, dir), 0);
	int n;
	char **names = golden_cases(golden_dir(), &n);
	assert_non_null(names);
	assert_true(n >= 10);
	int failed = 0;
	for (int i = 0; i < n; i++) {
		char path[4200];
		snprintf(path, sizeof(path), "%s/%s", golden_dir(), names[i]);
		failed += run_case(&f, path);
		free(names[i]);
	}
	free(names);
	fixture_close(&f);
	rm_tree(dir);
	assert_int_equal(failed, 0);
}

static void certificate_states(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	struct fixture f;
	assert_int_equal(fixture_open(&f, dir), 0);
	const char *h = "X-Qlik-Xrfkey: abcdefghijklmnop\n";
	const char *q = "xrfkey=abcdefghijklmnop";
	char *out;
	assert_int_equal(http_run_local(&f.h, "GET", "/qrs/about", q, h, "", 0, 0, HTTP_CERT_NONE,
					1024, &out, NULL),
			 403);
	free(out);
	assert_int_equal(http_run_local(&f.h, "GET", "/qrs/about", q, h, "", 0, 0,
					HTTP_CERT_FOREIGN, 1024, &out, NULL),
			 403);
	assert_non_null(strstr(out, "not signed by this site"));
	free(out);
	assert_int_equal(http_run_local(&f.h, "GET", "/qrs/about", q, h, "", 0, 0, HTTP_CERT_OK,
					1024, &out, NULL),
			 200);
	free(out);
	fixture_close(&f);
	rm_tree(dir);
}

static void upload_in_pieces(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	struct fixture f;
	assert_int_equal(fixture_open(&f, dir), 0);
	char body[5000];
	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (char)(i * 7);
	char *out;
	size_t out_len;
	int st =
	    http_run_local(&f.h, "POST", "/qrs/app/upload", "name=Pieces&xrfkey=abcdefghijklmnop",
			   "X-Qlik-Xrfkey: abcdefghijklmnop\n", body, sizeof(body), 333,
			   HTTP_CERT_OK, 1024, &out, &out_len);
	assert_int_equal(st, 201);
	json_t *j = json_loadb(out, out_len, 0, NULL);
	assert_int_equal(json_integer_value(json_object_get(j, "fileSize")), 5000);
	json_decref(j);
	free(out);
	/* Over the node's upload limit (1 MiB in the fixture), streamed: 413, no row. */
	size_t big_len = (1 << 20) + 1;
	char *big = calloc(1, big_len);
	st = http_run_local(&f.h, "POST", "/qrs/app/upload", "name=Big&xrfkey=abcdefghijklmnop",
			    "X-Qlik-Xrfkey: abcdefghijklmnop\n", big, big_len, 65536, HTTP_CERT_OK,
			    1024, &out, NULL);
	assert_int_equal(st, 413);
	free(out);
	free(big);
	st = http_run_local(&f.h, "GET", "/qrs/app/count", "xrfkey=abcdefghijklmnop",
			    "X-Qlik-Xrfkey: abcdefghijklmnop\n", "", 0, 0, HTTP_CERT_OK, 1024, &out,
			    NULL);
	assert_int_equal(st, 200);
	assert_string_equal(out, "{\"value\":1}");
	free(out);
	fixture_close(&f);
	rm_tree(dir);
}

static void descriptors_match_schema(void **state)
{
	(void)state;
	assert_int_equal(repo_type_count(), 15);
	assert_null(repo_type_name(15));
	/* Every filterable property of every type compiles, so each descriptor's columns
	 * exist in the schema (a wrong column fails when the query runs in golden cases;
	 * here we at least check that every field is reachable by name). */
	struct err e;
	for (int i = 0; i < repo_type_count(); i++) {
		err_init(&e);
		char *sql = NULL;
		assert_int_equal(repo_filter_check(repo_type_name(i),
						   "id eq 6baa5c73-af76-48c8-a5e8-c185c86a885c",
						   &sql, &e),
				 0);
		assert_non_null(strstr(sql, "t0.id"));
		free(sql);
	}
	err_init(&e);
	assert_int_equal(repo_filter_check("nosuch", "id eq null", NULL, &e), ERR_NOT_FOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(repo_golden_cases),
	    cmocka_unit_test(certificate_states),
	    cmocka_unit_test(upload_in_pieces),
	    cmocka_unit_test(descriptors_match_schema),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
