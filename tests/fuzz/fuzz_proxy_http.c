/* fuzz_proxy_http.c: the proxy's whole request path without a network: its HTTPS handler
 * (sign-in forms, cookies, tickets in the query, forwarding to a real repository in a
 * temporary folder) and its API handler (tickets and sessions as JSON). The first byte
 * picks the handler; the rest is
 *   METHOD SP PATH[?QUERY] LF {Header: value LF} LF BODY
 * with the xrfkey added for the API. Every request must get a response with a known status,
 * never a crash, and never an internal error. */
#include "../unit/repo_fixture.h"
#include "proxy/proxy.h"
#include "request_input.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct fixture fx;
static struct proxy *px;
static struct http_handler site, api;
static char dir[] = "/tmp/fathom-fuzz-proxy-XXXXXX";

static void cleanup(void)
{
	proxy_close(px);
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
	struct proxy_config pc = {.db = fx.db,
				  .repository = fx.repo,
				  .repo = fx.h,
				  .hostname = "localhost",
				  .https_port = 8443};
	if (proxy_open(&pc, &px, &e) != 0)
		abort();
	site = proxy_http_handler(px);
	api = proxy_api_handler(px);
	atexit(cleanup);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	bool to_api = data[0] & 1;
	struct fuzz_request r;
	fuzz_request_split(data + 1, size - 1, &r);
	char query[4096], hdrs[8192];
	if (to_api) {
		snprintf(query, sizeof(query), "%s%sxrfkey=abcdefghijklmnop",
			 r.query ? r.query : "", r.query ? "&" : "");
		snprintf(hdrs, sizeof(hdrs), "X-Qlik-Xrfkey: abcdefghijklmnop\n%s", r.headers);
	} else {
		snprintf(query, sizeof(query), "%s", r.query ? r.query : "");
		snprintf(hdrs, sizeof(hdrs), "%s", r.headers);
	}
	char *out = NULL;
	int st = http_run_local(to_api ? &api : &site, r.method, r.path,
				r.query || to_api ? query : NULL, hdrs, r.body, r.body_len, 64,
				to_api ? HTTP_CERT_OK : HTTP_CERT_NONE, 1 << 16, &out, NULL);
	if (st < 200 || st > 599)
		abort();
	if (st >= 500 && st != 503)
		abort(); /* a crafted request must never be an internal error */
	free(out);
	fuzz_request_free(&r);
	return 0;
}
