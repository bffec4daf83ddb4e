/* route.c: where a person's engine session goes.
 *
 * The candidates are the engine nodes with a recent heartbeat (three intervals), among the
 * virtual proxy's load-balancing nodes when it names any, that the load-balancing rules
 * allow for the app (cluster_balance: the Sync system rules, as POST
 * /qrs/loadbalancing/validengines answers). They are tried in order: a node that has the
 * app in memory (its heartbeat lists it), then the one with the fewest sessions, this node
 * counting LOCAL_BONUS fewer than it has (a relayed session costs a hop and hangs on the
 * link between two nodes, so sessions stay here until another node is clearly less busy),
 * then this node, then by name (for this node, its engine's own count and apps, not its
 * heartbeat's, which a busy node may write late). This node's engine takes the request
 * in-process, with the
 * person vouched for; another node's is reached over mutual TLS with the site's client
 * certificate and the person named in headers its engine trusts only with that
 * certificate (X-Qlik-User, X-Fathom-Person, X-Fathom-Attributes, X-Fathom-State; the
 * browser's User-Agent goes along for ClientPlatform()), and the
 * WebSocket is relayed message by message. A node that does not answer is passed over for
 * the next, and tried last for DOWN_MS after (a node cut from this one keeps its heartbeat
 * in the database, and every session would otherwise wait CONNECT_MS for it first).
 *
 * Every session carries the key of the person's kept selections (X-Fathom-State, from the
 * session cookie's hash): the engine saves the selections under it at each change, so when
 * a node dies the client's reconnect lands on another node with its selections. */
#include "proxy/proxy_int.h"
#include "cluster/cluster.h"

#include <ctype.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ENGINES 64
#define CONNECT_MS  2500
#define DOWN_MS	    15000
#define LOCAL_BONUS 4
#define MAX_MESSAGE (64u << 20)

struct engine {
	char node[UUID_STR_LEN + 1];
	char name[129];
	char host[256];
	int port;
	int sessions;
	bool has_app, self, down;
};

struct engines {
	const char *app, *self;
	const char *only; /* the virtual proxy's nodes (\x1f-separated), or "" */
	struct engine e[MAX_ENGINES];
	int n;
};

/* Whether the comma-separated list holds `id`. */
static bool list_has(const char *list, const char *id)
{
	size_t n = strlen(id);
	for (const char *s = list; n && s && *s;) {
		size_t l = strcspn(s, ",");
		if (l == n && strncmp(s, id, n) == 0)
			return true;
		s = s[l] ? s + l + 1 : s + l;
	}
	return false;
}

static int engine_row(void *ctx, int n, const struct db_value *c)
{
	struct engines *en = ctx;
	if (n < 6 || en->n >= MAX_ENGINES || c[0].type != DBV_TEXT || c[2].type != DBV_TEXT)
		return 0;
	struct engine *e = &en->e[en->n++];
	memset(e, 0, sizeof(*e));
	str_copy(e->node, c[0].s, sizeof(e->node));
	str_copy(e->name, c[1].type == DBV_TEXT ? c[1].s : "", sizeof(e->name));
	str_copy(e->host, c[2].s, sizeof(e->host));
	e->port = (int)c[3].i;
	e->sessions = (int)c[4].i;
	e->has_app = c[5].type == DBV_TEXT && list_has(c[5].s, en->app);
	e->self = strcmp(e->node, en->self) == 0;
	return 0;
}

static int by_preference(const void *a, const void *b)
{
	const struct engine *x = a, *y = b;
	if (x->down != y->down)
		return x->down ? 1 : -1;
	if (x->has_app != y->has_app)
		return x->has_app ? -1 : 1;
	int xs = x->sessions - (x->self ? LOCAL_BONUS : 0),
	    ys = y->sessions - (y->self ? LOCAL_BONUS : 0);
	if (xs != ys)
		return xs < ys ? -1 : 1;
	if (x->self != y->self)
		return x->self ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Whether `node` failed to take a session lately; with `mark`, notes that it did now. */
static bool engine_down(struct proxy *p, const char *node, bool mark)
{
	int64_t now = time_mono_ms(); /* a step of the wall clock changes nothing */
	bool down = false;
	pthread_mutex_lock(&p->down_mu);
	int slot = 0;
	for (int i = 0; i < (int)(sizeof(p->down) / sizeof(p->down[0])); i++) {
		if (strcmp(p->down[i].node, node) == 0) {
			down = p->down[i].until > now;
			slot = i;
			break;
		}
		if (p->down[i].until < p->down[slot].until)
			slot = i; /* else the oldest entry makes room */
	}
	if (mark) {
		str_copy(p->down[slot].node, node, sizeof(p->down[slot].node));
		p->down[slot].until = now + DOWN_MS;
	}
	pthread_mutex_unlock(&p->down_mu);
	return down;
}

/* The engines that may serve `app` ("" for a session without one), best first. */
static int candidates(struct proxy *p, struct engines *en, bool local, struct err *e)
{
	int64_t beat = p->cfg.heartbeat_ms > 0 ? p->cfg.heartbeat_ms : 5000, now = 0;
	char since[ISO_TIME_LEN + 1];
	struct db_conn *c = NULL;
	struct cluster_balance *b = NULL;
	struct db_params prm;
	db_params_init(&prm);
	int rc = db_acquire(p->cfg.db, &c, e);
	if (rc == 0)
		rc = cluster_db_clock(c, p->cfg.db, &now, e); /* heartbeats carry its time */
	time_format_iso(now - 3 * beat, since);
	db_p_text(&prm, since);
	if (rc == 0)
		rc =
		    db_exec(c,
			    "SELECT n.id, n.name, n.host_name, h.engine_port, h.engine_sessions, "
			    "h.engine_apps FROM servernodeconfiguration n JOIN node_heartbeat h ON "
			    "h.node_id = n.id WHERE h.at >= $1 AND h.engine_port > 0",
			    &prm, engine_row, en, NULL, e);
	bool seen = false;
	for (int i = 0; i < en->n; i++)
		seen = seen || en->e[i].self;
	if (rc == 0 && !seen && local && en->n < MAX_ENGINES) {
		/* this node before its first heartbeat */
		struct engine *me = &en->e[en->n++];
		memset(me, 0, sizeof(*me));
		str_copy(me->node, en->self, sizeof(me->node));
		me->self = true;
	}
	for (int i = 0; rc == 0 && p->cfg.engine_load && i < en->n; i++)
		if (en->e[i].self) { /* this node's engine as it is, not as its heartbeat was */
			char apps[4096];
			apps[0] = '\0';
			p->cfg.engine_load(p->cfg.engine_load_ctx, &en->e[i].sessions, apps,
					   sizeof(apps));
			en->e[i].has_app = en->app[0] && list_has(apps, en->app);
		}
	if (rc == 0 && en->app[0])
		rc = cluster_balance_load(c, &b, e);
	int kept = 0;
	for (int i = 0; rc == 0 && i < en->n; i++) {
		bool ok = !en->only[0] || proxy_list_has(en->only, en->e[i].node);
		if (ok && b)
			rc = cluster_balance_allows(b, c, en->app, en->e[i].node, &ok, e);
		if (rc == 0 && ok) {
			en->e[i].down = !en->e[i].self && engine_down(p, en->e[i].node, false);
			en->e[kept++] = en->e[i];
		}
	}
	en->n = rc == 0 ? kept : 0;
	cluster_balance_free(b);
	if (c)
		db_release(p->cfg.db, c);
	qsort(en->e, (size_t)en->n, sizeof(en->e[0]), by_preference);
	return rc;
}

/* ---------------------------------------------------------------- the relay */

struct relay {
	struct http_wsc *up;  /* the other node's engine */
	struct http_ws *down; /* the person's browser */
	pthread_t reader;
	bool reading;
};

/* A close code that may go on the wire; anything else becomes 1011 (server error). */
static int wire_code(int code)
{
	bool ok = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
		  (code >= 3000 && code <= 4999);
	return ok ? code : 1011;
}

/* The other node's messages, in order, to the browser. When that node goes away the
 * browser's socket closes too, and its client reconnects. */
static void *relay_read(void *arg)
{
	struct relay *rl = arg;
	int code = 1006;
	for (;;) {
		char *msg;
		size_t len;
		if (http_wsc_recv(rl->up, MAX_MESSAGE, &msg, &len, &code) != 0)
			break;
		if (http_ws_send_owned(rl->down, msg, len) != 0)
			break;
	}
	http_ws_close(rl->down, wire_code(code),
		      code == 1000 ? "" : "the engine node closed the session");
	return NULL;
}

static void relay_open(void *state, struct http_ws *ws)
{
	struct relay *rl = state;
	rl->down = ws;
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, 256u << 10);
	rl->reading = pthread_create(&rl->reader, &at, relay_read, rl) == 0;
	pthread_attr_destroy(&at);
	if (!rl->reading)
		http_ws_close(ws, 1011, "the proxy cannot relay this session now");
}

static void relay_message(void *state, struct http_ws *ws, const char *data, size_t len)
{
	struct relay *rl = state;
	if (http_wsc_send(rl->up, data, len) != 0)
		http_ws_close(ws, 1011, "the engine node went away");
}

static void relay_close(void *state)
{
	struct relay *rl = state;
	http_wsc_shutdown(rl->up);
	if (rl->reading)
		pthread_join(rl->reader, NULL);
	http_wsc_free(rl->up);
	free(rl);
}

static const struct http_ws_handler relay_handler = {.on_open = relay_open,
						     .on_message = relay_message,
						     .on_close = relay_close,
						     .max_message = MAX_MESSAGE};

/* The request's path for the other node: each segment percent-encoded again. */
static const char *encoded_path(struct arena *a, const char *path)
{
	struct buf b;
	buf_init(&b, SIZE_MAX);
	bool bad = false;
	for (const char *s = path; *s;) {
		size_t n = strcspn(s, "/");
		if (n) {
			char *seg = arena_strndup(a, s, n);
			bad = bad || buf_puts(&b, str_url_encode(a, seg));
		}
		if (s[n] == '/')
			bad = bad || buf_puts(&b, "/");
		s += n + (s[n] == '/');
	}
	const char *out = bad || !b.data ? NULL : arena_strdup(a, b.data);
	buf_release(&b);
	return out;
}

/* Opens the session on engine `en` for `u`; 0 with *out, or why not in `e`. */
static int connect_engine(struct proxy *p, struct http_req *r, const struct session_user *u,
			  const struct engine *en, struct http_wsc **out, struct err *e)
{
	struct arena *a = http_req_arena(r);
	char user[600];
	if (!proxy_user_header(u, user, sizeof(user)))
		return err_set(e, ERR_INVALID, "this user's name cannot be used");
	const char *path = encoded_path(a, http_req_path(r));
	if (!path)
		return err_set(e, ERR_NOMEM, "out of memory");
	const char *url = arena_printf(a, "wss://%s:%d%s", en->host, en->port, path);
	const char *hdrs[6] = {arena_printf(a, "X-Qlik-User: %s", user), "X-Fathom-Person: 1"};
	int nh = 2;
	const char *agent = http_req_header(r, "User-Agent");
	if (agent) /* the browser's, for ClientPlatform() */
		hdrs[nh++] = arena_printf(a, "User-Agent: %s", agent);
	if (u->attrs)
		hdrs[nh++] =
		    arena_printf(a, "X-Fathom-Attributes: %s", str_url_encode(a, u->attrs));
	if (u->state[0])
		hdrs[nh++] = arena_printf(a, "X-Fathom-State: %s", u->state);
	char ca[PATH_MAX], cert[PATH_MAX], key[PATH_MAX];
	snprintf(ca, sizeof(ca), "%s/root.pem", p->cfg.certs_dir);
	snprintf(cert, sizeof(cert), "%s/client.pem", p->cfg.certs_dir);
	snprintf(key, sizeof(key), "%s/client_key.pem", p->cfg.certs_dir);
	struct http_client_tls tls = {.ca_file = ca, .cert_file = cert, .key_file = key};
	int status;
	return http_wsc_open(&tls, url, hdrs, CONNECT_MS, out, &status, e);
}

/* The app a path names: /app/<id>[/...]; "" for /app or /app/. Lower case. */
static void app_of(const char *path, char *out, size_t n)
{
	const char *id = path[4] == '/' ? path + 5 : "";
	size_t l = strcspn(id, "/");
	if (l >= n)
		l = n - 1;
	for (size_t i = 0; i < l; i++)
		out[i] = (char)tolower((unsigned char)id[i]);
	out[l] = '\0';
}

void proxy_route_engine(struct proxy *p, struct http_req *r, const struct vproxy *vp,
			const struct session_user *u)
{
	bool local = p->cfg.engine.on_headers != NULL;
	if (!http_req_is_websocket(r)) {
		if (local)
			proxy_forward(r, u, &p->cfg.engine);
		else
			proxy_json_answer(r, 400, "the engine speaks QIX over WebSocket only");
		return;
	}
	char app[128];
	app_of(http_req_path(r), app, sizeof(app));
	struct engines *en = calloc(1, sizeof(*en));
	struct err e;
	err_init(&e);
	if (!en || (en->app = app, en->self = p->cfg.node_id ? p->cfg.node_id : "",
		    en->only = vp->engine_nodes, candidates(p, en, local, &e) != 0)) {
		log_error("proxy: cannot choose an engine for app %s: %s", app,
			  en ? e.message : "out of memory");
		free(en);
		proxy_json_answer(r, 503, "the repository database is not answering; try again");
		return;
	}
	/* the order as chosen, for the log: "n2 (here, app, 3 sessions), n1 (2 sessions)" */
	char ranked[512];
	size_t at = 0;
	ranked[0] = '\0';
	for (int i = 0; i < en->n && at < sizeof(ranked); i++)
		at += (size_t)snprintf(ranked + at, sizeof(ranked) - at, "%s%s (%s%s%d sessions)",
				       i ? ", " : "", en->e[i].name, en->e[i].self ? "here, " : "",
				       en->e[i].has_app ? "app, " : "", en->e[i].sessions);
	for (int i = 0; i < en->n; i++) {
		const struct engine *c = &en->e[i];
		if (c->self) {
			if (!local)
				continue;
			free(en);
			proxy_forward(r, u, &p->cfg.engine);
			return;
		}
		struct http_wsc *up = NULL;
		err_init(&e);
		if (connect_engine(p, r, u, c, &up, &e) != 0) {
			log_warn("proxy: node %s cannot take an engine session on app %s: %s "
				 "(the order: %s)",
				 c->name, app, e.message, ranked);
			engine_down(p, c->node, true);
			continue;
		}
		struct relay *rl = calloc(1, sizeof(*rl));
		if (!rl) {
			http_wsc_free(up);
			break;
		}
		rl->up = up;
		log_info("proxy: %s\\%s's engine session on app %s goes to node %s (the order: %s)",
			 u->dir, u->id, app, c->name, ranked);
		free(en);
		http_req_upgrade_websocket(r, &relay_handler, rl);
		return;
	}
	free(en);
	log_warn("proxy: no engine node can take a session on app %s now", app);
	proxy_json_answer(r, 503, "no engine node can serve this app now; try again");
}
