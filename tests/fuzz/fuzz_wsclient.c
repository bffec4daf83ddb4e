/* fuzz_wsclient.c: what the WebSocket client (a proxy relaying a session to another node's
 * engine) reads from the other side. The first byte chooses:
 *   even: the rest is the answer's head to an upgrade (http_wsc_answer_ok), which must
 *         never pass unless it is a 101 with the right Sec-WebSocket-Accept;
 *   odd:  the rest is the stream of frames after the upgrade, read by http_wsc_recv over a
 *         socket pair until it ends; every message it gives is at most the limit, and the
 *         client answers pings and closes on its own side.
 * Never a crash, a hang or a leak. */
#include "http/http_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define KEY	"dGhlIHNhbXBsZSBub25jZQ=="
#define MAX_MSG 4096

static void head(const uint8_t *data, size_t size)
{
	char *h = malloc(size + 1);
	if (!h)
		return;
	memcpy(h, data, size);
	h[size] = '\0';
	int status;
	bool ok = http_wsc_answer_ok(h, KEY, &status);
	/* RFC 6455's example: the only accept value for this key */
	if (ok && (status != 101 || !strstr(h, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")))
		abort();
	free(h);
}

/* The other side reads what the client sends (its pongs and its close) until the client
 * closes, as an engine would: unread, thousands of small pongs fill the socket pair's
 * buffer (each one costs its own buffer overhead) and the client waits forever. */
static void *drain(void *arg)
{
	int fd = *(int *)arg;
	char buf[4096];
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	return NULL;
}

static void frames(const uint8_t *data, size_t size)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		abort();
	/* the socket pair's buffer holds the whole input (libFuzzer's -max_len is 4096) */
	size_t at = 0;
	while (at < size) {
		ssize_t n = send(sv[1], data + at, size - at, MSG_NOSIGNAL);
		if (n <= 0)
			break;
		at += (size_t)n;
	}
	shutdown(sv[1], SHUT_WR);
	pthread_t reader;
	if (pthread_create(&reader, NULL, drain, &sv[1]) != 0)
		abort();
	struct http_wsc *w = http_wsc_over_fd(sv[0]);
	if (!w)
		abort();
	for (int i = 0; i < 10000; i++) {
		char *msg;
		size_t len;
		int code;
		int rc = http_wsc_recv(w, MAX_MSG, &msg, &len, &code);
		if (rc)
			break;
		if (len > MAX_MSG || msg[len] != '\0')
			abort();
		free(msg);
	}
	http_wsc_shutdown(w);
	http_wsc_free(w); /* (closes sv[0]: the reader sees the end) */
	pthread_join(reader, NULL);
	close(sv[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] % 2 == 0)
		head(data + 1, size - 1);
	else
		frames(data + 1, size - 1);
	return 0;
}
