/* ws_echo.c: Fathom's transport alone, for bench/transport_run: a TLS WebSocket echo server
 * on the same event loops, workers and frames as the engine port, without the engine.
 *
 *   ws_echo PORT CERT.pem KEY.pem
 *
 * Serves until SIGTERM or SIGINT. */
#include "http/http.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void on_open(void *state, struct http_ws *ws)
{
	(void)state;
	(void)ws;
}

static void on_message(void *state, struct http_ws *ws, const char *data, size_t len)
{
	(void)state;
	if (http_ws_send(ws, data, len) != 0)
		http_ws_close(ws, 1011, "cannot send");
}

static void on_close(void *state)
{
	(void)state;
}

static const struct http_ws_handler echo = {
    .on_open = on_open, .on_message = on_message, .on_close = on_close, .max_message = 256u << 20};

static void on_headers(void *ctx, struct http_req *r)
{
	(void)ctx;
	if (http_req_is_websocket(r))
		http_req_upgrade_websocket(r, &echo, NULL);
}

static void on_complete(void *ctx, struct http_req *r)
{
	(void)ctx;
	http_respond(r, 400, "text/plain", "WebSocket only\n", 15);
}

static void on_done(void *ctx, struct http_req *r, bool completed)
{
	(void)ctx;
	(void)r;
	(void)completed;
}

static char *slurp(const char *path)
{
	struct err e;
	err_init(&e);
	char *text = NULL;
	size_t len;
	if (file_read_all(path, 1 << 20, &text, &len, &e) != 0) {
		fprintf(stderr, "ws_echo: %s\n", e.message);
		exit(1);
	}
	return text;
}

int main(int argc, char **argv)
{
	int64_t port;
	if (argc != 4 || str_to_i64(argv[1], 1, 65535, &port) != 0) {
		fprintf(stderr, "usage: ws_echo PORT CERT.pem KEY.pem\n");
		return 2;
	}
	struct err e;
	err_init(&e);
	int fd;
	if (log_open(NULL, LOG_WARN, &e) || http_listen("127.0.0.1", (int)port, &fd, &e)) {
		fprintf(stderr, "ws_echo: %s\n", e.message);
		return 1;
	}
	/* SIGTERM and SIGINT wait for sigwait: blocked before any thread starts */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	char *cert = slurp(argv[2]), *key = slurp(argv[3]);
	struct http_server_config cfg = {
	    .name = "echo", .listen_fd = fd, .cert_pem = cert, .key_pem = key, .max_body = 1024};
	struct http_handler h = {NULL, on_headers, on_complete, on_done};
	struct http_server *s;
	if (http_server_start(&cfg, &h, &s, &e)) {
		fprintf(stderr, "ws_echo: %s\n", e.message);
		return 1;
	}
	int sig;
	sigwait(&set, &sig);
	http_server_stop(s);
	free(cert);
	free(key);
	return 0;
}
