/* req.c: the request object handlers see, its responses, and in-process requests. */
#include "http/http_int.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

struct http_req *http_req_create(void)
{
	struct arena *a = arena_new();
	struct http_req *r = arena_alloc(a, sizeof(*r));
	r->a = a;
	r->cert_state = -1;
	r->out_fd = -1;
	buf_init(&r->body, 0);
	return r;
}

/* A random prefix per process, then a count: request ids unique across the site's logs. */
static uint32_t id_prefix;
static _Atomic uint64_t id_seq;

static void pick_prefix(void)
{
	if (getrandom(&id_prefix, sizeof(id_prefix), 0) != sizeof(id_prefix))
		id_prefix = (uint32_t)getpid() ^ (uint32_t)time_now_ms();
}

void http_req_new_id(struct http_req *r)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, pick_prefix);
	snprintf(r->id, sizeof(r->id), "%08x%08llx", id_prefix,
		 (unsigned long long)(atomic_fetch_add(&id_seq, 1) + 1));
}

void http_req_destroy(struct http_req *r)
{
	if (!r)
		return;
	if (r->out_fd >= 0)
		close(r->out_fd);
	free(r->out_body);
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

const char *http_req_peer(const struct http_req *r)
{
	return r->conn ? r->conn->addr_str : "local";
}

void http_req_hand_over(struct http_req *r, const struct http_handler *to)
{
	r->h = to;
	to->on_headers(to->ctx, r);
}

void http_req_vouch(struct http_req *r, const char *user, const char *attributes)
{
	r->vouched_user = arena_strdup(r->a, user);
	r->vouched_attrs = arena_strdup(r->a, attributes);
	r->cert_state = HTTP_CERT_OK;
}

bool http_req_xrf_ok(const struct http_req *r)
{
	const char *a = http_req_query(r, "xrfkey"), *b = http_req_header(r, "X-Qlik-Xrfkey");
	if (!a || !b || strlen(a) != 16 || strcmp(a, b) != 0)
		return false;
	for (; *a; a++)
		if (!((*a >= '0' && *a <= '9') || (*a >= 'a' && *a <= 'z') ||
		      (*a >= 'A' && *a <= 'Z')))
			return false;
	return true;
}

void http_req_set_route(struct http_req *r, const char *route)
{
	r->route = route;
}

void http_req_set_actor(struct http_req *r, const char *who)
{
	r->actor = who ? arena_strdup(r->a, who) : NULL;
}

void http_req_set_session_key(struct http_req *r, const char *key)
{
	r->session_key = arena_strdup(r->a, key);
}

const char *http_req_session_key(const struct http_req *r)
{
	return r->session_key;
}

const char *http_req_vouched_attributes(const struct http_req *r)
{
	return r->vouched_attrs;
}

bool http_req_vouched(const struct http_req *r)
{
	return r->vouched_user != NULL;
}

const char *http_req_user(const struct http_req *r)
{
	return r->vouched_user ? r->vouched_user : http_req_header(r, "X-Qlik-User");
}

void http_req_set_path(struct http_req *r, const char *path)
{
	r->path = arena_strdup(r->a, path);
}

enum http_cert http_req_client_cert(struct http_req *r)
{
	if (r->cert_state >= 0)
		return (enum http_cert)r->cert_state;
	struct http_conn *c = r->conn;
	if (!c || !c->tls)
		return (enum http_cert)(r->cert_state = HTTP_CERT_NONE);
	/* checked once per connection: verifying a chain costs more than serving a request;
	 * a revocation (a node removed) reaches the connections open too */
	if (c->cert_state < 0)
		c->cert_state = http_tls_peer_cert(c->tls, c->cert_fp);
	struct http_tls *t = c->loop && c->loop->server ? c->loop->server->tls : NULL;
	if (c->cert_state == HTTP_CERT_OK && t && http_tls_revoked(t, c->cert_fp))
		c->cert_state = HTTP_CERT_REVOKED;
	return (enum http_cert)(r->cert_state = c->cert_state);
}

void http_req_stream_body(struct http_req *r, http_body_sink sink, void *sink_ctx)
{
	r->sink = sink;
	r->sink_ctx = sink_ctx;
}

void http_req_take_body(struct http_req *r, const char *data, size_t len)
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

/* ---------------------------------------------------------------- responses */

void http_add_header(struct http_req *r, const char *name, const char *value)
{
	if (r->n_out_hdr < (int)ARRAY_LEN(r->out_hdr) && !str_has_ctl(name, false) &&
	    !str_has_ctl(value, false)) {
		r->out_hdr[r->n_out_hdr].k = arena_strdup(r->a, name);
		r->out_hdr[r->n_out_hdr].v = arena_strdup(r->a, value);
		r->n_out_hdr++;
	}
}

/* The status line and type of the one response a request gets. */
static void respond_head(struct http_req *r, int status, const char *content_type)
{
	r->responded = true;
	r->status = status;
	r->content_type = content_type ? arena_strdup(r->a, content_type) : NULL;
}

void http_respond(struct http_req *r, int status, const char *content_type, const char *body,
		  size_t len)
{
	if (r->responded)
		return;
	respond_head(r, status, content_type);
	r->out_body = malloc(len + 1);
	if (!r->out_body) {
		r->status = 500;
		r->out_len = 0;
		return;
	}
	memcpy(r->out_body, body, len);
	r->out_body[len] = '\0';
	r->out_len = len;
}

void http_respond_owned(struct http_req *r, int status, const char *content_type, char *body,
			size_t len)
{
	if (r->responded) {
		free(body);
		return;
	}
	respond_head(r, status, content_type);
	r->out_body = body;
	r->out_len = len;
}

void http_respond_fd(struct http_req *r, int status, const char *content_type, int fd,
		     uint64_t size)
{
	if (r->responded) {
		close(fd);
		return;
	}
	respond_head(r, status, content_type);
	r->out_fd = fd;
	r->out_fd_size = size;
}

bool http_responded(const struct http_req *r)
{
	return r->responded;
}

char *http_error_json(int status, const char *message, size_t *out_len)
{
	int code = status == 413   ? ERR_TOO_LARGE
		   : status == 414 ? ERR_URI_TOO_LONG
		   : status == 431 ? ERR_HEADERS_TOO_LARGE
		   : status == 408 ? ERR_TIMEOUT
		   : status == 503 ? ERR_UNAVAILABLE
				   : ERR_HTTP;
	json_t *o = json_pack("{s:i,s:s,s:s}", "status", status, "code", err_name(code), "message",
			      message);
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	*out_len = s ? strlen(s) : 0;
	return s;
}

/* ---------------------------------------------------------------- in-process requests */

static void parse_local_headers(struct http_req *r, const char *headers)
{
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
}

/* The body an in-process response carries, read from its file when it has one. */
static void local_body(struct http_req *r)
{
	if (r->out_fd < 0)
		return;
	struct buf b;
	buf_init(&b, (size_t)r->out_fd_size + 1);
	char tmp[65536];
	ssize_t n;
	while ((n = read(r->out_fd, tmp, sizeof(tmp))) > 0)
		if (buf_append(&b, tmp, (size_t)n))
			break;
	close(r->out_fd);
	r->out_fd = -1;
	free(r->out_body);
	r->out_len = b.len;
	r->out_body = buf_steal(&b);
}

int http_run_local(const struct http_handler *h, const char *method, const char *path,
		   const char *query, const char *headers, const char *body, size_t body_len,
		   size_t chunk, enum http_cert cert, size_t max_body, char **out_body,
		   size_t *out_len)
{
	struct http_req *r = http_req_create();
	r->method = arena_strdup(r->a, method);
	r->cert_state = cert;
	r->body.max = max_body;
	char *target = arena_printf(r->a, "%s%s%s", path, query ? "?" : "", query ? query : "");
	const char *why = NULL;
	if (http_target_split(r->a, target, &r->path, r->query, &r->n_query, &why) != 0) {
		/* the network path refuses these before a handler sees them */
		size_t n;
		char *msg = http_error_json(400, why, &n);
		if (out_body)
			*out_body = msg;
		else
			free(msg);
		if (out_len)
			*out_len = n;
		http_req_destroy(r);
		return 400;
	}
	parse_local_headers(r, headers);
	r->h = h;
	h->on_headers(h->ctx, r);
	h = r->h;
	if (!r->responded) {
		size_t step = chunk ? chunk : (body_len ? body_len : 1);
		for (size_t off = 0; off < body_len; off += step)
			http_req_take_body(r, body + off,
					   body_len - off < step ? body_len - off : step);
		h->on_complete(h->ctx, r);
	}
	int status = r->responded ? r->status : 0;
	h->on_done(h->ctx, r, true);
	local_body(r);
	if (out_body) {
		*out_body = r->out_body;
		r->out_body = NULL;
	}
	if (out_len)
		*out_len = r->out_len;
	http_req_destroy(r);
	return status;
}
