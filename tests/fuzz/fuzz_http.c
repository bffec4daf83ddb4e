/* fuzz_http.c: the whole request path (routing, trust checks, body handling, handlers)
 * against a real repository in a temporary folder, without a network. The input is
 *   METHOD SP PATH[?QUERY] LF {Header: value LF} LF BODY
 * and the xrfkey is added so that most inputs reach the handlers. Every request must get
 * a response with a known status, never a crash. */
#include "../unit/repo_fixture.h"
#include "request_input.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct fixture fx;
static char dir[] = "/tmp/fathom-fuzz-XXXXXX";

static void cleanup(void)
{
	fixture_close(&fx);
	dir_remove_all(dir, &(struct err){0});
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	struct err e;
	err_init(&e);
	if (log_open(NULL, LOG_ERROR, &e) || !mkdtemp(dir) || fixture_open(&fx, dir))
		abort();
	atexit(cleanup);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_request r;
	fuzz_request_split(data, size, &r);
	char query[4096];
	snprintf(query, sizeof(query), "%s%sxrfkey=abcdefghijklmnop", r.query ? r.query : "",
		 r.query ? "&" : "");
	char hdrs[8192];
	snprintf(hdrs, sizeof(hdrs), "X-Qlik-Xrfkey: abcdefghijklmnop\n%s", r.headers);
	char *out = NULL;
	int st = http_run_local(&fx.h, r.method, r.path, query, hdrs, r.body, r.body_len, 64,
				HTTP_CERT_OK, 1 << 16, &out, NULL);
	if (st < 200 || st > 599)
		abort();
	if (st >= 500 && st != 503)
		abort(); /* a crafted request must never be an internal error */
	free(out);
	fuzz_request_free(&r);
	return 0;
}
