/* server.c: the request object and the libmicrohttpd server behind http.h. */
#include "http/http.h"
#include "http/http_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---------------------------------------------------------------- listening */

int http_listen(const char *addr, int port, int *out_fd, struct err *e)
{
	*out_fd = -1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_set(e, ERR_IO, "cannot create a socket: %s", strerror(errno));
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (!addr || !*addr || strcmp(addr, "*") == 0)
		sa.sin_addr.s_addr = htonl(INADDR_ANY);
	else if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		close(fd);
		return err_set(e, ERR_CONFIG, "listen address \"%s\" is not an IPv4 address", addr);
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int err = errno;
		close(fd);
		if (err == EADDRINUSE)
			return err_set(e, ERR_IO, "port %d is already in use by another program",
				       port);
		return err_set(e, ERR_IO, "cannot listen on port %d: %s", port, strerror(err));
	}
	if (listen(fd, 128) != 0) {
		int err = errno;
		close(fd);
		return err_set(e, ERR_IO, "cannot listen on port %d: %s", port, strerror(err));
	}
	*out_fd = fd;
	return 0;
}

/* ---------------------------------------------------------------- request accessors */

static struct http_req *req_new(void)
{
	struct arena *a = arena_new();
	struct http_req *r = arena_alloc(a, sizeof(*r));
	r->a = a;
	r->cert_state = -1;
	buf_init(&r->body, 0);
	return r;
}

static void req_free(struct http_req *r)
{
	if (r->resp)
		MHD_destroy_response(r->resp);
	buf_release(&r->body);
	arena_free(r->a);
}

const char *http_req_method(const struct http_req *r)
{
	return r->method;
}

const char *http_req_path(const struct http_req *r)
{
	return r->path;
}

const char *http_req_header(const struct http_req *r, const char *name)
{
	if (r->conn)
		return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
	for (int i = 0; i < r->n_hdr; i++)
		if (str_ieq(r->hdr[i].k, name))
			return r->hdr[i].v;
	return NULL;
}

const char *http_req_query(const struct http_req *r, const char *name)
{
	for (int i = 0; i < r->n_query; i++)
		if (str_ieq(r->query[i].k, name))
			return r->query[i].v;
	return NULL;
}

int http_req_query_count(const struct http_req *r)
{
	return r->n_query;
}

const char *http_req_query_at(const struct http_req *r, int i, const char **out_value)
{
	if (i < 0 || i >= r->n_query)
		return NULL;
	if (out_value)
		*out_value = r->query[i].v;
	return r->query[i].k;
}

int64_t http_req_content_length(const struct http_req *r)
{
	const char *s = http_req_header(r, "Content-Length");
	int64_t v;
	if (!s || str_to_i64(s, 0, INT64_MAX, &v) != 0)
		return -1;
	return v;
}

const char *http_req_body(const struct http_req *r, size_t *out_len)
{
	if (out_len)
		*out_len = r->body.len;
	return r->body.data ? r->body.data : "";
}

int http_req_body_error(const struct http_req *r)
{
	return r->body_error;
}

struct arena *http_req_arena(struct http_req *r)
{
	return r->a;
}

void http_req_set_data(struct http_req *r, void *data)
{
	r->data = data;
}

void *http_req_data(const struct http_req *r)
{
	return r->data;
}

/* Per-connection state: the client certificate is checked once per TLS connection, not
 * once per request (verifying an ECDSA chain costs far more than serving a request). */
struct conn_state {
	int cert_state; /* -1 unknown, else enum http_cert */
};

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	(void)cls;
	(void)conn;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		struct conn_state *cs = malloc(sizeof(*cs));
		if (cs)
			cs->cert_state = -1;
		*socket_context = cs;
	} else {
		free(*socket_context);
		*socket_context = NULL;
	}
}

enum http_cert http_req_client_cert(struct http_req *r)
{
	if (r->cert_state >= 0)
		return (enum http_cert)r->cert_state;
	const union MHD_ConnectionInfo *sc =
	    MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct conn_state *cs = sc ? sc->socket_context : NULL;
	if (cs && cs->cert_state >= 0)
		return (enum http_cert)(r->cert_state = cs->cert_state);
	r->cert_state = HTTP_CERT_NONE;
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (!ci || !ci->tls_session)
		return HTTP_CERT_NONE;
	gnutls_session_t s = (gnutls_session_t)ci->tls_session;
	unsigned int n = 0;
	const gnutls_datum_t *peers = gnutls_certificate_get_peers(s, &n);
	if (!peers || n == 0)
		return HTTP_CERT_NONE;
	unsigned int status = 0;
	if (gnutls_certificate_verify_peers2(s, &status) != GNUTLS_E_SUCCESS || status != 0)
		r->cert_state = HTTP_CERT_FOREIGN;
	else
		r->cert_state = HTTP_CERT_OK;
	if (cs)
		cs->cert_state = r->cert_state;
	return (enum http_cert)r->cert_state;
}

void http_req_stream_body(struct http_req *r, http_body_sink sink, void *sink_ctx)
{
	r->sink = sink;
	r->sink_ctx = sink_ctx;
}

/* ---------------------------------------------------------------- responses */

void http_add_header(struct http_req *r, const char *name, const char *value)
{
	if (r->n_out_hdr < (int)ARRAY_LEN(r->out_hdr)) {
		r->out_hdr[r->n_out_hdr].k = arena_strdup(r->a, name);
		r->out_hdr[r->n_out_hdr].v = arena_strdup(r->a, value);
		r->n_out_hdr++;
	}
}

static void finish_resp(struct http_req *r, int status, const char *content_type)
{
	r->responded = true;
	r->status = status;
	if (!r->resp)
		return;
	if (content_type)
		MHD_add_response_header(r->resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	for (int i = 0; i < r->n_out_hdr; i++)
		MHD_add_response_header(r->resp, r->out_hdr[i].k, r->out_hdr[i].v);
}

void http_respond(struct http_req *r, int status, const char *content_type, const char *body,
		  size_t len)
{
	if (r->responded)
		return;
	if (!r->conn) {
		r->local_body = malloc(len + 1);
		if (r->local_body) {
			memcpy(r->local_body, body, len);
			r->local_body[len] = '\0';
			r->local_len = len;
		}
		r->responded = true;
		r->status = status;
		return;
	}
	r->resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	finish_resp(r, status, content_type);
}

void http_respond_fd(struct http_req *r, int status, const char *content_type, int fd,
		     uint64_t size)
{
	if (r->responded) {
		close(fd);
		return;
	}
	if (!r->conn) {
		struct buf b;
		buf_init(&b, (size_t)size + 1);
		char tmp[65536];
		ssize_t n;
		while ((n = read(fd, tmp, sizeof(tmp))) > 0)
			if (buf_append(&b, tmp, (size_t)n))
				break;
		close(fd);
		r->local_len = b.len;
		r->local_body = buf_steal(&b);
		r->responded = true;
		r->status = status;
		return;
	}
	r->resp = MHD_create_response_from_fd64(size, fd);
	if (!r->resp)
		close(fd);
	finish_resp(r, status, content_type);
}

bool http_responded(const struct http_req *r)
{
	return r->responded;
}

/* ---------------------------------------------------------------- body intake */

static void take_body(struct http_req *r, const char *data, size_t len)
{
	if (r->body_error || r->responded)
		return;
	if (r->sink) {
		int rc = r->sink(r->sink_ctx, data, len);
		if (rc)
			r->body_error = rc;
		return;
	}
	if (buf_append(&r->body, data, len) != 0)
		r->body_error = ERR_TOO_LARGE;
}

/* ---------------------------------------------------------------- MHD glue */

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	(void)kind;
	struct http_req *r = cls;
	if (r->n_query < MAX_KV) {
		r->query[r->n_query].k = arena_strdup(r->a, key);
		r->query[r->n_query].v = arena_strdup(r->a, value ? value : "");
		r->n_query++;
	}
	return MHD_YES;
}

static enum MHD_Result queue(struct http_req *r)
{
	if (!r->resp) {
		/* The handler responded without a body or failed to build one. */
		r->resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
		if (!r->resp)
			return MHD_NO;
		if (!r->status)
			r->status = 500;
	}
	enum MHD_Result ok = MHD_queue_response(r->conn, (unsigned)r->status, r->resp);
	MHD_destroy_response(r->resp);
	r->resp = NULL;
	return ok;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
				 const char *method, const char *version, const char *upload_data,
				 size_t *upload_data_size, void **con_cls)
{
	(void)version;
	struct http_server *s = cls;
	struct http_req *r = *con_cls;
	if (!r) {
		r = req_new();
		r->conn = conn;
		r->server = s;
		r->method = arena_strdup(r->a, method);
		r->path = arena_strdup(r->a, url);
		r->body.max = s->max_body;
		MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, r);
		*con_cls = r;
		s->h.on_headers(s->h.ctx, r);
		r->started = true;
		if (r->responded)
			return queue(r);
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		take_body(r, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->responded && !r->resp)
		return MHD_YES; /* already queued in an earlier call */
	if (!r->responded)
		s->h.on_complete(s->h.ctx, r);
	if (!r->responded)
		http_respond(r, 500, "application/json", "{\"message\":\"no response\"}", 25);
	return queue(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)conn;
	struct http_server *s = cls;
	struct http_req *r = *con_cls;
	if (!r)
		return;
	if (r->upgrade) { /* the 101 never went out */
		http_ws_abandon(r->upgrade);
		r->upgrade = NULL;
	}
	s->h.on_done(s->h.ctx, r, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK);
	req_free(r);
	*con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char line[512];
	vsnprintf(line, sizeof(line), fmt, ap);
	size_t n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	log_debug("http: %s", line);
}

int http_server_start(const struct http_server_config *cfg, const struct http_handler *h,
		      struct http_server **out, struct err *e)
{
	*out = NULL;
	struct http_server *s = calloc(1, sizeof(*s));
	if (!s) {
		close(cfg->listen_fd);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	s->h = *h;
	pthread_mutex_init(&s->ws_mu, NULL);
	s->max_body = cfg->max_body;
	s->cert = strdup(cfg->cert_pem);
	s->key = strdup(cfg->key_pem);
	s->trust = cfg->trust_pem ? strdup(cfg->trust_pem) : NULL;
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
			 MHD_USE_TLS | MHD_USE_ERROR_LOG | MHD_ALLOW_UPGRADE;
	struct MHD_OptionItem opts[14];
	int n = 0;
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, cfg->listen_fd, NULL};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, s->cert};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, s->key};
	if (s->trust)
		opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, s->trust};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT,
					    cfg->conn_timeout_s ? cfg->conn_timeout_s : 300, NULL};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT,
					    cfg->max_conns ? cfg->max_conns : 512, NULL};
	/* A larger per-connection pool lets MHD read uploads in bigger pieces. */
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT, 64 << 10, NULL};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, s};
	opts[n++] =
	    (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, NULL};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log, NULL};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
	if (!s->cert || !s->key || (cfg->trust_pem && !s->trust)) {
		close(cfg->listen_fd);
		http_server_stop(s);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_access, s, MHD_OPTION_ARRAY, opts,
				MHD_OPTION_END);
	if (!s->d) {
		close(cfg->listen_fd);
		http_server_stop(s);
		return err_set(
		    e, ERR_IO,
		    "cannot start the HTTPS server (is the certificate or key invalid?)");
	}
	*out = s;
	return 0;
}

void http_server_stop(struct http_server *s)
{
	if (!s)
		return;
	if (s->d) {
		http_ws_close_all(s);
		MHD_stop_daemon(s->d);
	}
	pthread_mutex_destroy(&s->ws_mu);
	free(s->cert);
	free(s->key);
	free(s->trust);
	free(s);
}

/* ---------------------------------------------------------------- in-process requests */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static char *url_decode(struct arena *a, const char *s, size_t n)
{
	char *out = arena_alloc(a, n + 1), *o = out;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			*o++ = ' ';
		} else if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
			   hexval(s[i + 2]) >= 0) {
			*o++ = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

int http_run_local(const struct http_handler *h, const char *method, const char *path,
		   const char *query, const char *headers, const char *body, size_t body_len,
		   size_t chunk, enum http_cert cert, size_t max_body, char **out_body,
		   size_t *out_len)
{
	struct http_req *r = req_new();
	r->method = arena_strdup(r->a, method);
	r->path = arena_strdup(r->a, path);
	r->cert_state = cert;
	r->body.max = max_body;
	for (const char *q = query; q && *q && r->n_query < MAX_KV;) {
		const char *amp = strchr(q, '&');
		size_t len = amp ? (size_t)(amp - q) : strlen(q);
		const char *eq = memchr(q, '=', len);
		if (len) {
			size_t klen = eq ? (size_t)(eq - q) : len;
			r->query[r->n_query].k = url_decode(r->a, q, klen);
			r->query[r->n_query].v =
			    eq ? url_decode(r->a, eq + 1, len - klen - 1) : arena_strdup(r->a, "");
			r->n_query++;
		}
		q = amp ? amp + 1 : q + len;
	}
	for (const char *l = headers; l && *l && r->n_hdr < MAX_KV;) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);
		const char *colon = memchr(l, ':', len);
		if (colon) {
			const char *v = colon + 1;
			while (v < l + len && *v == ' ')
				v++;
			size_t vlen = (size_t)(l + len - v);
			while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == ' '))
				vlen--;
			r->hdr[r->n_hdr].k = arena_strndup(r->a, l, (size_t)(colon - l));
			r->hdr[r->n_hdr].v = arena_strndup(r->a, v, vlen);
			r->n_hdr++;
		}
		l = nl ? nl + 1 : l + len;
	}
	h->on_headers(h->ctx, r);
	bool completed = true;
	if (!r->responded) {
		size_t step = chunk ? chunk : (body_len ? body_len : 1);
		for (size_t off = 0; off < body_len; off += step)
			take_body(r, body + off, body_len - off < step ? body_len - off : step);
		h->on_complete(h->ctx, r);
	}
	int status = r->responded ? r->status : 0;
	h->on_done(h->ctx, r, completed);
	if (out_body) {
		*out_body = r->local_body;
		r->local_body = NULL;
	}
	if (out_len)
		*out_len = r->local_len;
	free(r->local_body);
	req_free(r);
	return status;
}
