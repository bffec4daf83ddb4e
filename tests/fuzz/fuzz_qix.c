/* fuzz_qix.c: the QIX JSON-RPC dispatcher, on a real app: an input is one or more JSON-RPC
 * messages, one per line, sent in one session (so a run can open the app, make objects and
 * select in them). Whatever comes in, every answer must be one valid JSON object, written
 * as jansson would write it, and nothing may crash or leak. */
#include "data/data.h"
#include "script/script.h"
#include "qix/qix.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char app_path[256];
static struct qix *engine;

static const char script[] =
    "Customers: LOAD * INLINE [\nCustomerId, Customer, Region\n1, Alice, East\n2, Bob, West\n"
    "3, Carol, East\n4, Dave, North\n];\n"
    "Sales: LOAD * INLINE [\nOrderId, CustomerId, Amount\n100, 1, 5\n101, 1, 3\n102, 2, 7\n"
    "103, 3, 2\n];\n";

static int locate(void *ctx, const char *id, struct qix_app_info *out, struct err *e)
{
	(void)ctx;
	if (strcmp(id, "app") != 0)
		return err_set(e, ERR_NOT_FOUND, "no app %s", id);
	str_copy(out->gen, "g1", sizeof(out->gen));
	str_copy(out->path, app_path, sizeof(out->path));
	str_copy(out->title, "Fuzz", sizeof(out->title));
	return 0;
}

static int save(void *ctx, const char *id, const void *d, size_t len, struct err *e)
{
	(void)ctx, (void)id, (void)d, (void)len;
	return err_set(e, ERR_UNAVAILABLE, "saving is off while fuzzing");
}

static int reload(void *ctx, const char *id, struct err *e)
{
	(void)ctx, (void)id;
	return err_set(e, ERR_UNAVAILABLE, "reloads are off while fuzzing");
}

static void setup(void)
{
	struct err e;
	err_init(&e);
	struct data_set *m = NULL;
	struct reload_env env = {0};
	struct buf out;
	buf_init(&out, 1 << 24);
	snprintf(app_path, sizeof(app_path), "/tmp/fathom-fuzz-qix-%d.fapp", (int)getpid());
	if (script_run(script, &env, &m, &e) != 0 ||
	    data_set_write_app(m, "{}", 2, script, strlen(script), &out, &e) != 0 ||
	    file_write_atomic(app_path, out.data, out.len, 0600, &e) != 0) {
		fprintf(stderr, "fuzz_qix: setup: %s\n", e.message);
		abort();
	}
	data_set_free(m);
	buf_release(&out);
	struct qix_config cfg = {.env = {.locate = locate, .save = save, .reload = reload}};
	if (qix_new(&cfg, &engine, &e) != 0)
		abort();
}

static void check_json(void *ctx, char *json, size_t len)
{
	(void)ctx;
	json_error_t je;
	json_t *j = json_loadb(json, len, 0, &je);
	if (!json_is_object(j))
		abort();
	/* the answer was written by json_encode: jansson must write the same bytes */
	char *again = json_dumps(j, JSON_COMPACT);
	if (!again || strlen(again) != len || memcmp(again, json, len) != 0) {
		fprintf(stderr, "json_encode wrote %.*s\njson_dumps writes %s\n", (int)len, json,
			again ? again : "(nothing)");
		abort();
	}
	free(again);
	free(json);
	json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!engine)
		setup();
	struct qix_session *s = qix_session_new(engine, "app", "fuzz", check_json, NULL);
	if (!s)
		return 0;
	const char *p = (const char *)data, *end = p + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		qix_session_message(s, p, n);
		p += n + 1;
	}
	qix_session_free(s);
	return 0;
}
