/* fuzz_http_wire.c: request heads and bodies as they come off the wire, through the
 * server's parser (http-parser with Fathom's limits and rules) and the target splitter,
 * fed in two pieces split where the input's first byte says. Whatever the bytes, the
 * parser must end in a known state: a head with a decoded path, or a refusal with a status
 * of 400, 414 or 431 and a reason. */
#include "http/http_int.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void count_body(void *ctx, const char *data, size_t len)
{
	(void)data;
	*(size_t *)ctx += len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t cut = data[0] % (size);
	const char *in = (const char *)data + 1;
	size_t len = size - 1;
	if (cut > len)
		cut = len;
	struct arena *a = arena_new();
	struct http_head h;
	http_head_begin(&h, a);
	size_t body = 0;
	size_t used = http_head_feed(&h, in, cut);
	used += http_head_feed(&h, in + used, len - used);
	if (h.headers_done && !h.status) {
		const char *path = NULL, *why = NULL;
		struct kv q[MAX_KV];
		int nq = 0;
		int rc =
		    http_target_split(a, h.target.data ? h.target.data : "", &path, q, &nq, &why);
		if (rc != 0 && (rc != 400 || !why))
			abort();
		if (rc == 0 && (!path || path[0] != '/' || nq > MAX_KV))
			abort();
		h.on_body = count_body;
		h.body_ctx = &body;
		http_head_resume(&h);
		while (used < len && !h.message_done && !h.status) {
			size_t n = http_head_feed(&h, in + used, len - used);
			if (!n)
				break;
			used += n;
		}
	}
	if (h.status && h.status != 400 && h.status != 414 && h.status != 431)
		abort();
	if (h.status && !h.why)
		abort();
	if (h.n_hdr > MAX_KV || body > len)
		abort();
	http_head_release(&h);
	arena_free(a);
	return 0;
}
