/* fuzz_ws.c: WebSocket frames from a client, through a real server (plain TCP on loopback:
 * event loop, wslay, the message pump) with an echo handler. Each input is sent after a
 * valid handshake, then the client stops sending. Whatever the frames, the server must
 * close the connection within 5 s, and every WebSocket it took must be closed (on_close
 * once per upgrade, after its on_open) within 5 s more. */
#include "http/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef FUZZ_TIMEOUT_S
#define FUZZ_TIMEOUT_S 10 /* libFuzzer's -timeout (CMakeLists.txt: FUZZ_TIMEOUT) */
#endif
#define WAIT_MS (FUZZ_TIMEOUT_S * 1000 / 2)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct http_server *server;
static int port;
/* on_open runs on the socket's pump, which may come after the loop has closed the socket:
 * what must match is on_close against the upgrades, counted before the 101 goes out */
static atomic_int upgraded, opened, closed;

static void ws_open(void *state, struct http_ws *ws)
{
	(void)state;
	(void)ws;
	atomic_fetch_add(&opened, 1);
}

static void ws_message(void *state, struct http_ws *ws, const char *data, size_t len)
{
	(void)state;
	(void)http_ws_send(ws, data, len);
}

static void ws_close(void *state)
{
	(void)state;
	atomic_fetch_add(&closed, 1);
}

static const struct http_ws_handler echo = {
    .on_open = ws_open, .on_message = ws_message, .on_close = ws_close, .max_message = 1 << 16};

static void on_headers(void *ctx, struct http_req *r)
{
	(void)ctx;
	if (http_req_is_websocket(r)) {
		atomic_fetch_add(&upgraded, 1);
		http_req_upgrade_websocket(r, &echo, NULL);
	} else
		http_respond(r, 400, "text/plain", "no", 2);
}

static void on_complete(void *ctx, struct http_req *r)
{
	(void)ctx;
	http_respond(r, 400, "text/plain", "no", 2);
}

static void on_done(void *ctx, struct http_req *r, bool completed)
{
	(void)ctx;
	(void)r;
	(void)completed;
}

static void stop(void)
{
	http_server_stop(server);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	struct err e;
	err_init(&e);
	int fd;
	if (log_open(NULL, LOG_ERROR, &e) || http_listen("127.0.0.1", 0, &fd, &e))
		abort();
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	getsockname(fd, (struct sockaddr *)&sa, &len);
	port = ntohs(sa.sin_port);
	struct http_server_config cfg = {.name = "fuzz", .listen_fd = fd, .max_body = 1 << 16};
	struct http_handler h = {NULL, on_headers, on_complete, on_done};
	if (http_server_start(&cfg, &h, &server, &e))
		abort();
	atexit(stop);
	return 0;
}

static long drained; /* bytes the last drain read, for the failure message */

/* Reads until EOF; false when the server keeps the connection open past `ms`. */
static bool drain(int fd, int ms)
{
	char buf[65536];
	int64_t end = time_mono_ms() + ms;
	drained = 0;
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		int left = (int)(end - time_mono_ms());
		if (left <= 0)
			return false;
		int rc = poll(&p, 1, left);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			return false;
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return true;
		drained += n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* libFuzzer's -timeout runs on SIGALRM, which interrupts connect(), write() and poll()
	 * here (EINTR). It is held back on this thread during a run: another thread takes it,
	 * or it comes when the run is over. */
	sigset_t alarm, old;
	sigemptyset(&alarm);
	sigaddset(&alarm, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &alarm, &old);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		fprintf(stderr, "cannot connect to the server: %s\n", strerror(errno));
		abort();
	}
	const char *hs =
	    "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: "
	    "13\r\n\r\n";
	if (write(fd, hs, strlen(hs)) != (ssize_t)strlen(hs) ||
	    (size && write(fd, data, size) != (ssize_t)size)) {
		fprintf(stderr, "cannot send to the server: %s\n", strerror(errno));
		abort();
	}
	shutdown(fd, SHUT_WR);
	/* half the time one input may take (5 s of libFuzzer's 10 s: an ASan build on a busy
	 * machine; longer where make check runs the fuzzers at idle priority) */
	int64_t start = time_mono_ms();
	if (!drain(fd, WAIT_MS)) {
		fprintf(stderr,
			"the server kept a WebSocket open for %lld ms after its client stopped "
			"sending (%ld bytes came)\n",
			(long long)(time_mono_ms() - start), drained);
		abort();
	}
	close(fd);
	int64_t end = time_mono_ms() + WAIT_MS;
	while (atomic_load(&closed) != atomic_load(&upgraded) && time_mono_ms() < end)
		sleep_ms(1);
	int u = atomic_load(&upgraded), c = atomic_load(&closed), o = atomic_load(&opened);
	if (c != u || o > c) {
		fprintf(stderr,
			"%d WebSockets, %d on_open, %d on_close 5 s after the last socket closed\n",
			u, o, c);
		abort();
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return 0;
}
