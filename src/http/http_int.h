/* http_int.h: what server.c and ws.c share: the request and server structures. */
#ifndef FATHOM_HTTP_INT_H
#define FATHOM_HTTP_INT_H

#include "http/http.h"

#include <microhttpd.h>
#include <pthread.h>

#define MAX_KV 128

struct kv {
	const char *k, *v;
};

struct http_req {
	struct arena *a;
	struct MHD_Connection *conn; /* NULL for in-process requests */
	struct http_server *server;  /* NULL for in-process requests */
	const char *method, *path;
	struct kv query[MAX_KV];
	int n_query;
	struct kv hdr[MAX_KV]; /* in-process requests only */
	int n_hdr;
	struct buf body;
	int body_error;
	http_body_sink sink;
	void *sink_ctx;
	void *data;
	struct http_ws *upgrade; /* the WebSocket this request asked for, until it starts */
	int cert_state;		 /* -1 unknown, else enum http_cert */
	bool started;		 /* on_headers has run */
	/* the response */
	bool responded;
	int status;
	struct MHD_Response *resp;
	struct kv out_hdr[16];
	int n_out_hdr;
	/* in-process capture */
	char *local_body;
	size_t local_len;
};

struct http_server {
	struct MHD_Daemon *d;
	/* live WebSockets: each runs on a detached thread of its own */
	pthread_mutex_t ws_mu;
	struct http_ws *ws_list;
	int n_ws;
	struct http_handler h;
	size_t max_body;
	char *cert, *key, *trust;
};

/* ws.c: starts a WebSocket once the 101 went out (MHD's upgrade callback). */
void http_ws_upgraded(void *cls, struct MHD_Connection *conn, void *con_cls, const char *extra_in,
		      size_t extra_in_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh);
/* ws.c: an upgrade that never happened (the client left first): releases it. */
void http_ws_abandon(struct http_ws *ws);
/* ws.c: closes every live WebSocket of the server and waits for their threads. */
void http_ws_close_all(struct http_server *s);

#endif
