/* node.c: `fathom run`: one node serving the repository API until SIGTERM.
 *
 * Startup checks everything a node needs before it opens a port, and says exactly what is
 * wrong when one is missing: the site folder, the lock that keeps a second process off the
 * same node, the certificates, the share, the database, the port. */
#include "ops/ops_int.h"
#include "crypto/crypto.h"

#include "db/db.h"
#include "http/http.h"
#include "proxy/proxy.h"
#include "repo/repo.h"
#include "cluster/cluster.h"
#include "sched/sched.h"
#include "share/share.h"

#include <errno.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static const char usage[] =
    "usage: fathom run --dir DIR [--allow-root] [--log-level LEVEL]\n"
    "\n"
    "Runs the node whose folder is DIR (made by fathom site create) until it receives\n"
    "SIGTERM or SIGINT. Logs go to stderr and to DIR/logs/fathom.log, which turns over\n"
    "at node.conf [log] max_kb (default 65536) and each day (UTC), keeping [log] keep\n"
    "older files (default 7), each also copied to the share's ArchivedLogs/<node name>.\n"
    "SIGHUP reads [log] level again and reloads DIR/certs/server.pem and server_key.pem:\n"
    "new connections get them, open ones keep theirs.\n"
    "\n"
    "  --dir DIR          the node's folder\n"
    "  --allow-root       run even as root (a node should run as its own service user)\n"
    "  --log-level LEVEL  debug, info, warn or error (default: node.conf [log] level)\n"
    "  --gc-interval S    seconds between share garbage-collection passes (default 60)\n"
    "  --heartbeat-interval S  seconds between heartbeats (default 5); a node that misses\n"
    "                     three is shown as NoCommunication in /qrs/servicestatus\n"
    "  -h, --help         show this help\n";

/* Holds an exclusive lock on DIR/node.lock for the life of the process. */
static int lock_node(const char *dir, int *out_fd, struct err *e)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/node.lock", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return err_set(e, ERR_IO, "cannot open lock file \"%s\": %s", path,
			       strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		char pid[32] = "";
		ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		close(fd);
		err_set(e, ERR_BUSY,
			"another fathom process%s%s%s is already running the node in \"%s\"",
			pid[0] ? " (pid " : "", pid, pid[0] ? ")" : "", dir);
		err_hint(e, "stop it first, or run a different --dir");
		return ERR_BUSY;
	}
	char pid[32];
	int len = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len)
		log_warn("cannot write pid to \"%s\"", path);
	*out_fd = fd;
	return 0;
}

static int read_pem(const char *dir, const char *name, char **out, struct err *e)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/certs/%s", dir, name);
	int rc = file_read_all(path, 1 << 20, out, NULL, e);
	if (rc) {
		e->code = 0;
		err_set(e, ERR_CONFIG, "cannot read certificate file \"%s\": %s", path,
			errno ? strerror(errno) : "too large");
	}
	return rc ? ERR_CONFIG : 0;
}

struct node {
	struct conf *conf;
	int lock_fd;
	char *root_pem, *cert_pem, *key_pem;
	char *proxy_cert_pem, *proxy_key_pem; /* [proxy] cert and key, or NULL: the node's */
	struct share *share;
	struct db *db;
	struct repo *repo;
	struct http_server *http;
	struct http_server_config http_cfg; /* limits and TLS for every port */
	struct ops_engine *engine;
	struct sched *sched;
	struct proxy *proxy;
	struct http_server *proxy_https, *proxy_plain, *proxy_api;
	int64_t session_max_age_s; /* a person's kept selections go this long after a change */
	char certs_dir[PATH_MAX];
	int64_t heartbeat_ms;
	int64_t started_ms;  /* when it started (time_now_ms) */
	int gc_running;	     /* a pass of the share's garbage collection runs (atomic) */
	int64_t gc_started;  /* when it began (monotonic ms) */
	bool gc_slow_logged; /* that it has not returned was said */
	bool gc_collect;     /* the pass collects garbage after its probe (else probes only) */
	pthread_mutex_t share_mu;
	char share_state[256];	/* the last pass's probe of the share: "ok" or what failed */
	uint64_t log_max_bytes; /* [log] max_kb */
	int log_keep;		/* [log] keep */
	int64_t stats_ms;	/* [log] stats_s: a line of the node's load this often (0: none) */
	bool engine_on, proxy_on, scheduler_on; /* its row's services, read at start */
	char running[4096];			/* what it started with, for its heartbeat (JSON) */
};

/* The digests of this node's certificates into the repository, so that removing the node
 * can revoke them (cluster/removal.c). */
static void record_certs(struct node *n, const char *dir, const char *node_id)
{
	struct err e;
	err_init(&e);
	char *client = NULL, fps[2][65] = {"", ""};
	int rc = read_pem(dir, "client.pem", &client, &e);
	if (rc == 0)
		rc = crypto_cert_fingerprint(n->cert_pem, fps[0], &e);
	if (rc == 0)
		rc = crypto_cert_fingerprint(client, fps[1], &e);
	const char *const both[2] = {fps[0], fps[1]};
	if (rc == 0)
		rc = cluster_node_certs_record(n->db, node_id, both, &e);
	free(client);
	if (rc)
		log_warn("this node's certificates are not recorded (removing it could not revoke "
			 "them): %s",
			 e.message);
}

/* The certificates of removed nodes, refused at every port that asks for the site's
 * client certificate: read at start and with each heartbeat. */
static void apply_revocations(struct node *n)
{
	static struct cluster_revoked list; /* the main thread's */
	static const char *hex[CLUSTER_MAX_REVOKED];
	struct err e;
	err_init(&e);
	if (cluster_revoked_list(n->db, &list, &e) != 0)
		return; /* the database is away: the last list stands */
	for (size_t i = 0; i < list.n; i++)
		hex[i] = list.fp[i];
	int rc = http_server_set_revoked(n->http, hex, list.n, &e);
	if (rc == 0)
		rc = http_server_set_revoked(n->proxy_api, hex, list.n, &e);
	if (rc == 0)
		rc = ops_engine_set_revoked(n->engine, hex, list.n, &e);
	if (rc)
		log_warn("the revoked certificates are not applied: %s", e.message);
}

/* The warnings and errors logged since the last heartbeat, into the repository (the
 * health page shows every node's last ones). */
static void record_log_errors(struct node *n)
{
	static uint64_t done; /* the main thread's */
	static struct log_entry got[32];
	int k = log_recent(done, got, 32);
	struct err e;
	err_init(&e);
	if (k > 0 && repo_node_log_add(n->repo, got, k, &e) == 0)
		done = got[k - 1].seq;
}

/* /metrics: what this node is now (collected when the page is made). */
static void node_metrics(void *ctx, struct buf *b)
{
	struct node *n = ctx;
	char name[300], labels[400];
	metrics_label_text(name, sizeof(name), conf_get(n->conf, "node.name", "?"));
	snprintf(labels, sizeof(labels), "node=\"%s\",version=\"%s\"", name, FATHOM_VERSION);
	metrics_sample(b, "fathom_node_info", "gauge", "this node's name and version", labels, 1);
	metrics_sample(b, "fathom_node_start_time_seconds", "gauge",
		       "when this node started, in seconds since 1970", NULL,
		       (double)n->started_ms / 1000.0);
	if (n->db) {
		int total, in_use;
		db_pool_use(n->db, &total, &in_use);
		metrics_sample(b, "fathom_db_pool_connections", "gauge",
			       "connections of this node's database pool, by state",
			       "state=\"in_use\"", in_use);
		metrics_sample(b, "fathom_db_pool_connections", "gauge", NULL, "state=\"idle\"",
			       total - in_use);
	}
	int64_t queued;
	struct err e;
	err_init(&e);
	if (n->repo && repo_executions_queued(n->repo, &queued, &e) == 0)
		metrics_sample(b, "fathom_reload_queue", "gauge",
			       "executions of the site queued for a node", NULL, (double)queued);
	if (n->sched) {
		struct sched_stats st;
		sched_stats(n->sched, &st);
		metrics_sample(b, "fathom_central_role_held", "gauge",
			       "1 while this node holds the central role", NULL, st.central);
		metrics_sample(b, "fathom_scheduler_triggers_fired_total", "counter",
			       "triggers this node fired while central", NULL, (double)st.fired);
		metrics_sample(b, "fathom_scheduler_executions_claimed_total", "counter",
			       "executions this node took to run", NULL, (double)st.claimed);
	}
	if (n->engine) {
		int apps, sessions;
		int64_t bytes;
		ops_engine_stats(n->engine, &apps, &bytes, &sessions);
		metrics_sample(b, "fathom_engine_sessions", "gauge",
			       "QIX sessions open on this node's engine", NULL, sessions);
		metrics_sample(b, "fathom_engine_apps_loaded", "gauge",
			       "apps in memory in this node's engine", NULL, apps);
		metrics_sample(b, "fathom_engine_app_bytes", "gauge",
			       "bytes the apps in this node's engine hold", NULL, (double)bytes);
	}
}

/* A line of the node's load for the monitoring app: engine sessions, apps in memory and
 * their size, the process's resident memory. */
static void log_stats(struct node *n)
{
	int apps, sessions;
	int64_t bytes;
	ops_engine_stats(n->engine, &apps, &bytes, &sessions);
	long long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		if (fscanf(f, "%lld %lld", &pages, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	log_info("node stats: %d engine sessions, %d apps loaded (%lld MiB), %lld MiB resident",
		 sessions, apps, (long long)(bytes >> 20),
		 resident * sysconf(_SC_PAGESIZE) / (1 << 20));
}

static void node_release(struct node *n)
{
	metrics_collector_remove(node_metrics, n);
	/* the front door first: it hands requests to the services below */
	http_server_stop(n->proxy_plain);
	http_server_stop(n->proxy_api);
	http_server_stop(n->proxy_https);
	proxy_close(n->proxy);
	sched_stop(n->sched);
	ops_engine_stop(n->engine);
	http_server_stop(n->http);
	repo_close(n->repo);
	db_close(n->db);
	share_close(n->share);
	free(n->root_pem);
	free(n->cert_pem);
	free(n->key_pem);
	free(n->proxy_cert_pem);
	free(n->proxy_key_pem);
	conf_free(n->conf);
	if (n->lock_fd >= 0)
		close(n->lock_fd);
}

/* The node's certificates, checked against the site CA. */
static int load_certs(struct node *n, const char *dir, struct err *e)
{
	struct conf *cf = n->conf;
	char probe[PATH_MAX];
	snprintf(probe, sizeof(probe), "%s/certs/server.pem", dir);
	if (!path_exists(probe) && conf_get(cf, "node.id", NULL) &&
	    strcmp(conf_get(cf, "database.driver", ""), "postgres") == 0) {
		err_set(e, ERR_CONFIG,
			"this node has not finished joining the site (no certificates)");
		err_hint(e,
			 "approve it on a running node (fathom node approve %s --dir NODE_DIR), "
			 "then run fathom node join --dir %s --password PASSWORD",
			 conf_get(cf, "node.name", "NAME"), dir);
		return ERR_CONFIG;
	}
	int rc;
	if ((rc = read_pem(dir, "root.pem", &n->root_pem, e)) ||
	    (rc = read_pem(dir, "server.pem", &n->cert_pem, e)) ||
	    (rc = read_pem(dir, "server_key.pem", &n->key_pem, e)))
		return rc;
	if ((rc = crypto_cert_verify(n->root_pem, n->cert_pem, e)))
		err_detail(e, "checking certs/server.pem against certs/root.pem");
	return rc;
}

/* The repository database: it must hold a Fathom site that knows this node. */
static int open_database(struct node *n, const char *dir, const char *node_id, struct err *e)
{
	struct ops_db db_cfg;
	int rc;
	if ((rc = ops_db_from_conf(n->conf, dir, &db_cfg, e)) ||
	    (rc = ops_localdb_ensure_running(dir, e)))
		return rc;
	/* A database without Fathom's schema is a wrong setting, not a site to create. */
	int version = 0;
	rc = db_check(&db_cfg.cfg, &version, e);
	if (rc == 0 && version == 0) {
		rc = err_set(e, ERR_SCHEMA, "the repository database holds no Fathom site");
		err_hint(e,
			 "check [database] in node.conf (fathom config show --dir %s); a new "
			 "site is made with fathom site create",
			 dir);
	}
	if (rc == 0)
		rc = db_open(&db_cfg.cfg, &n->db, e);
	ops_db_release(&db_cfg);
	if (rc)
		return rc;
	bool known = false;
	struct db_params prm;
	db_params_init(&prm);
	db_p_text(&prm, node_id);
	if ((rc = db_exec_once(n->db, "SELECT 1 FROM servernodeconfiguration WHERE id = $1", &prm,
			       db_row_seen, &known, e)))
		return rc;
	if (!known) {
		err_set(e, ERR_CONFIG, "this node (%s) is not in the site's repository", node_id);
		err_hint(e, "it was removed, or node.conf points at another site's database; "
			    "join it again with fathom node join");
		return ERR_CONFIG;
	}
	return 0;
}

/* The proxy's ports from node.conf [proxy] (0: that port is off). */
static int proxy_ports(const struct conf *cf, int64_t *https, int64_t *http, int64_t *api,
		       struct err *e)
{
	bool low = ops_can_bind_low_ports();
	int rc;
	if ((rc = conf_get_int(cf, "proxy.port", low ? 443 : 8443, 0, 65535, https, e)) ||
	    (rc = conf_get_int(cf, "proxy.api_port", 4243, 0, 65535, api, e)))
		return rc;
	return conf_get_int(cf, "proxy.http_port", low ? 80 : 8080, 0, 65535, http, e);
}

static int services_row(void *ctx, int n, const struct db_value *c)
{
	struct node *nd = ctx;
	if (n >= 3) {
		nd->engine_on = c[0].type == DBV_INT && c[0].i != 0;
		nd->proxy_on = c[1].type == DBV_INT && c[1].i != 0;
		nd->scheduler_on = c[2].type == DBV_INT && c[2].i != 0;
	}
	return 0;
}

/* The services this node's row asks for (the repository always runs), and what its
 * heartbeat says it started with: those services and the service cluster's folders it
 * follows, so that the console can tell which nodes must restart after a change. */
static int node_services(struct node *n, const char *node_id, const struct ops_share *os,
			 struct err *e)
{
	struct db_params p;
	db_params_init(&p);
	db_p_text(&p, node_id);
	n->engine_on = n->proxy_on = n->scheduler_on = true;
	int rc = db_exec_once(n->db,
			      "SELECT engine_enabled, proxy_enabled, scheduler_enabled FROM "
			      "servernodeconfiguration WHERE id = $1",
			      &p, services_row, n, e);
	if (rc)
		return rc;
	json_t *services = json_array(), *own = json_array();
	json_array_append_new(services, json_string("repository"));
	if (n->engine_on)
		json_array_append_new(services, json_string("engine"));
	if (n->proxy_on)
		json_array_append_new(services, json_string("proxy"));
	if (n->scheduler_on)
		json_array_append_new(services, json_string("scheduler"));
	for (int i = 0; i < OPS_SHARE_FOLDERS; i++)
		if (os->own & (1u << i))
			json_array_append_new(own, json_string(ops_share_keys[i][1]));
	json_t *j = json_pack("{s:o, s:O, s:o}", "services", services, "share", os->site,
			      "ownFolders", own);
	int64_t https = 0, http = 0, api = 0;
	if (n->proxy_on && (rc = proxy_ports(n->conf, &https, &http, &api, e)) != 0) {
		json_decref(j);
		return rc;
	}
	if (n->proxy_on && https)
		json_object_set_new(j, "proxy",
				    json_pack("{s:I, s:I, s:I}", "listenPort", (json_int_t)https,
					      "unencryptedListenPort", (json_int_t)http,
					      "restListenPort", (json_int_t)api));
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!text || strlen(text) >= sizeof(n->running)) {
		free(text);
		return err_set(e, ERR_CONFIG, "the service cluster's settings are too long");
	}
	str_copy(n->running, text, sizeof(n->running));
	free(text);
	log_info("node \"%s\" runs the repository%s%s%s", conf_get(n->conf, "node.name", "?"),
		 n->engine_on ? ", the engine" : "", n->proxy_on ? ", the proxy" : "",
		 n->scheduler_on ? ", the scheduler" : "");
	for (int i = 0; i < OPS_SHARE_FOLDERS; i++)
		if (os->own & (1u << i))
			log_info("%s is node.conf's own for this node, not the service cluster's",
				 ops_share_keys[i][0]);
	return 0;
}

/* Finished log files are archived on the share, per node (ArchivedLogs/<node>). */
static void archive_logs(struct node *n)
{
	char archive[PATH_MAX];
	const char *archived = share_archived_logs_dir(n->share);
	snprintf(archive, sizeof(archive), "%s/%s", archived,
		 conf_get(n->conf, "node.name", "node"));
	if (mkdir(archive, 0750) != 0 && errno != EEXIST) {
		log_warn("log files are not archived on the share: cannot make %s: %s", archive,
			 strerror(errno));
		return;
	}
	log_rotation(n->log_max_bytes, n->log_keep, archive);
}

/* Reloads run in a child: this binary's reload-worker, limited in time and memory; their
 * logs go to the share's ArchivedLogs (or the node folder). */
static int reload_config(struct node *n, const char *dir, const char *archived_logs,
			 struct repo_reload *out, struct err *e)
{
	static char exe[PATH_MAX], logs[PATH_MAX + 16];
	int64_t reload_s, reload_mb;
	int rc;
	if ((rc = conf_get_int(n->conf, "engine.reload_timeout_s", 3600, 1, 7 * 86400, &reload_s,
			       e)) ||
	    (rc = conf_get_int(n->conf, "engine.reload_memory_mb", 4096, 16, 1 << 24, &reload_mb,
			       e)))
		return rc;
	ssize_t el = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (el > 0) {
		exe[el] = '\0';
		snprintf(logs, sizeof(logs), "%s/Reload", archived_logs ? archived_logs : dir);
		*out = (struct repo_reload){
		    exe, dir, logs, (int)reload_s, reload_mb << 20, ops_reload_worker_argv};
	}
	return 0;
}

/* This node's engine load as the proxy asks for it (route.c). */
static void engine_load_now(void *ctx, int *sessions, char *apps, size_t n)
{
	struct repo_engine_load l;
	ops_engine_load(ctx, &l);
	*sessions = l.sessions;
	str_copy(apps, l.apps, n);
}

/* The web apps this node's proxy serves: [proxy] web_root, else the web folder beside the
 * binary (a build tree: build/fathom and build/web), else the installed one. NULL when
 * none holds the hub; the proxy then answers /hub/ with how to build it. */
static const char *web_root(struct conf *cf)
{
	static char path[PATH_MAX + 8];
	const char *set = conf_get(cf, "proxy.web_root", NULL);
	if (set && *set)
		return set;
	char exe[PATH_MAX], probe[PATH_MAX + 32];
	ssize_t el = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (el > 0) {
		exe[el] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		snprintf(probe, sizeof(probe), "%s/web/hub/index.html", exe);
		if (path_exists(probe)) {
			snprintf(path, sizeof(path), "%s/web", exe);
			return path;
		}
	}
	return path_exists("/usr/share/fathom/web/hub/index.html") ? "/usr/share/fathom/web" : NULL;
}

/* Opens the repository with `rcfg` and serves it on the repository port. The node that
 * holds the site CA key approves joining nodes through the API too. */
static int serve_repository(struct node *n, const char *dir, struct repo_config *rcfg,
			    struct err *e)
{
	struct crypto_pem_pair ca = {0};
	char ca_key_path[PATH_MAX];
	snprintf(ca_key_path, sizeof(ca_key_path), "%s/certs/root_key.pem", dir);
	struct err ce;
	err_init(&ce);
	if (path_exists(ca_key_path) && read_pem(dir, "root_key.pem", &ca.key, &ce) == 0) {
		ca.cert = n->root_pem;
		rcfg->ca = &ca;
	}
	int fd = -1;
	int rc = http_listen(conf_get(n->conf, "repository.listen", NULL), rcfg->api_port, &fd, e);
	if (rc == 0)
		rc = repo_open(rcfg, &n->repo, e);
	rcfg->ca = NULL;
	if (ca.key) {
		explicit_bzero(ca.key, strlen(ca.key));
		free(ca.key);
	}
	if (rc) {
		if (fd >= 0)
			close(fd);
		return rc;
	}
	struct http_server_config hc = n->http_cfg;
	hc.name = "repository";
	hc.listen_fd = fd;
	hc.max_body = rcfg->max_body;
	struct http_handler h = repo_http_handler(n->repo);
	return http_server_start(&hc, &h, &n->http, e);
}

/* The number in control group file `name` of group `cg` under `dir` (0: none, as
 * memory.max's "max"). */
static int64_t cgroup_file_limit(const char *dir, const char *cg, const char *name)
{
	char path[700], text[32] = "";
	snprintf(path, sizeof(path), "%s%s/%s", dir, strcmp(cg, "/") ? cg : "", name);
	FILE *f = fopen(path, "r");
	if (f && fgets(text, sizeof(text), f))
		text[strcspn(text, "\n")] = '\0';
	if (f)
		fclose(f);
	int64_t n;
	return str_to_i64(text, 1, INT64_MAX, &n) == 0 ? n : 0;
}

/* The memory limit of this process's own control group (cgroup v2's memory.max, or v1's
 * memory.limit_in_bytes: a container's, or a service's MemoryMax=), in bytes; 0 none. */
static int64_t cgroup_memory_limit(void)
{
	FILE *f = fopen("/proc/self/cgroup", "r");
	if (!f)
		return 0;
	int64_t limit = 0;
	char line[512];
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		const char *v1 = strstr(line, ":memory:");
		int64_t n = str_has_prefix(line, "0::")
				? cgroup_file_limit("/sys/fs/cgroup", line + 3, "memory.max")
			    : v1 ? cgroup_file_limit("/sys/fs/cgroup/memory", v1 + 8,
						     "memory.limit_in_bytes")
				 : 0;
		if (n > 0 && (limit == 0 || n < limit))
			limit = n;
	}
	fclose(f);
	return limit;
}

/* The default of [engine] memory_mb: 70 % of the memory this node may use (the machine's,
 * or its control group's limit when lower), as Qlik's engine keeps its working set under
 * 70 % by default; at least 1024 MiB. Apps past it are closed only when no session holds
 * them, so a lower default just closes large apps between users. */
static int64_t engine_memory_default_mb(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
	int64_t bytes = pages > 0 && size > 0 ? (int64_t)pages * size : 0,
		limit = cgroup_memory_limit();
	if (limit > 0 && limit < bytes)
		bytes = limit;
	int64_t mb = bytes / 10 * 7 >> 20;
	return mb > 1024 ? mb : 1024;
}

/* The engine: QIX sessions on their own port (0: none on this node). */
static int serve_engine(struct node *n, int64_t engine_port, int64_t engine_mb, struct err *e)
{
	struct conf *cf = n->conf;
	int rc;
	if (engine_port == 0)
		return 0;
	/* proxies relay many people's sessions from one address: no cap of its own by default,
	 * only the node's total */
	struct http_server_config hc = n->http_cfg;
	int64_t per_addr;
	if ((rc = conf_get_int(cf, "engine.max_connections_per_address", 1 << 20, 1, 1 << 20,
			       &per_addr, e)))
		return rc;
	hc.max_conns_per_addr = (unsigned)per_addr;
	struct ops_engine_config ec = {
	    .db = n->db,
	    .share = n->share,
	    .repo = n->repo,
	    .listen = conf_get(cf, "engine.listen", conf_get(cf, "repository.listen", NULL)),
	    .port = (int)engine_port,
	    .http = &hc,
	    .memory_bytes = engine_mb << 20};
	if ((rc = ops_engine_start(&ec, &n->engine, e)))
		return rc;
	log_info("node \"%s\" serves QIX sessions on wss://%s:%lld/app/<app id> (apps no "
		 "session holds are closed past %lld MiB)",
		 conf_get(cf, "node.name", "?"), conf_get(cf, "node.hostname", "localhost"),
		 (long long)engine_port, (long long)engine_mb);
	return 0;
}

/* [proxy] cert and key: the certificate (with its chain) and key that people's browsers see,
 * PEM files the administrator keeps (from a public CA, say); both or neither. Neither: *cert
 * and *key stay NULL and the proxy shows the node's certificate. */
static int proxy_pem(const struct conf *cf, char **cert, char **key, struct err *e)
{
	*cert = *key = NULL;
	const char *paths[2] = {conf_get(cf, "proxy.cert", NULL), conf_get(cf, "proxy.key", NULL)};
	if (!paths[0] && !paths[1])
		return 0;
	if (!paths[0] || !paths[1])
		return err_set(e, ERR_CONFIG, "node.conf [proxy] names a %s without a %s",
			       paths[0] ? "cert" : "key", paths[0] ? "key" : "cert");
	char **out[2] = {cert, key};
	for (int i = 0; i < 2; i++) {
		if (file_read_all(paths[i], 1 << 20, out[i], NULL, e) != 0) {
			int err = errno;
			e->code = 0;
			free(*cert);
			*cert = NULL;
			return err_set(e, ERR_CONFIG, "cannot read [proxy] %s \"%s\": %s",
				       i ? "key" : "cert", paths[i],
				       err ? strerror(err) : "too large");
		}
	}
	return 0;
}

/* The proxy: HTTPS on [proxy] port (default 443 when this process may bind it, else 8443;
 * 0: none), plain HTTP that redirects on [proxy] http_port (80 or 8080; 0: none). */
static int serve_proxy(struct node *n, int64_t max_body, struct err *e)
{
	struct conf *cf = n->conf;
	int64_t port, plain, api, max_age;
	int rc;
	if ((rc = proxy_ports(cf, &port, &plain, &api, e)) ||
	    (rc = conf_get_int(cf, "proxy.session_max_age_s", 43200, 60, 30 * 86400, &max_age, e)))
		return rc;
	n->session_max_age_s = max_age;
	if (port == 0)
		return 0;
	const char *listen = conf_get(cf, "proxy.listen", conf_get(cf, "repository.listen", NULL));
	const char *host = conf_get(cf, "node.hostname", "localhost");
	struct proxy_config pc = {.db = n->db,
				  .repository = n->repo,
				  .repo = repo_http_handler(n->repo),
				  .engine = ops_engine_handler(n->engine),
				  .hostname = host,
				  .https_port = (int)port,
				  .max_age_s = max_age,
				  .web_root = web_root(cf),
				  .node_id = conf_get(cf, "node.id", ""),
				  .certs_dir = n->certs_dir,
				  .heartbeat_ms = n->heartbeat_ms,
				  .engine_load = n->engine ? engine_load_now : NULL,
				  .engine_load_ctx = n->engine};
	if ((rc = proxy_open(&pc, &n->proxy, e)))
		return rc;
	int fd = -1;
	if ((rc = http_listen(listen, (int)port, &fd, e)))
		return rc;
	struct http_server_config hc = n->http_cfg;
	hc.name = "proxy";
	hc.listen_fd = fd;
	hc.max_body = (size_t)max_body;
	hc.trust_pem = NULL; /* people present no certificate */
	if ((rc = proxy_pem(cf, &n->proxy_cert_pem, &n->proxy_key_pem, e)))
		return rc;
	if (n->proxy_cert_pem) {
		hc.cert_pem = n->proxy_cert_pem;
		hc.key_pem = n->proxy_key_pem;
	}
	struct http_handler h = proxy_http_handler(n->proxy);
	if ((rc = http_server_start(&hc, &h, &n->proxy_https, e))) {
		if (n->proxy_cert_pem)
			err_detail(
			    e, "with the certificate and key of node.conf [proxy] cert and key");
		return rc;
	}
	log_info("node \"%s\" signs people in on https://%s:%lld/", conf_get(cf, "node.name", "?"),
		 host, (long long)port);
	if (pc.web_root)
		log_info("node \"%s\" serves the hub from %s", conf_get(cf, "node.name", "?"),
			 pc.web_root);
	else
		log_warn("no hub on this node: build it with make (web/), or set [proxy] web_root");
	if (api != 0) {
		if ((rc = http_listen(listen, (int)api, &fd, e)))
			return rc;
		hc = n->http_cfg; /* client certificates of the site only */
		hc.name = "proxy API";
		hc.listen_fd = fd;
		hc.max_body = 1 << 16;
		h = proxy_api_handler(n->proxy);
		if ((rc = http_server_start(&hc, &h, &n->proxy_api, e)))
			return rc;
	}
	if (plain == 0)
		return 0;
	if ((rc = http_listen(listen, (int)plain, &fd, e)))
		return rc;
	hc = n->http_cfg;
	hc.name = "proxy (plain HTTP)";
	hc.listen_fd = fd;
	hc.cert_pem = hc.key_pem = hc.trust_pem = NULL;
	hc.max_body = 0;
	h = proxy_redirect_handler(n->proxy);
	return http_server_start(&hc, &h, &n->proxy_plain, e);
}

static int node_start(struct node *n, const char *dir, int64_t heartbeat_ms, struct err *e)
{
	struct conf *cf = n->conf;
	int rc = lock_node(dir, &n->lock_fd, e);
	if (rc == 0)
		rc = load_certs(n, dir, e);
	if (rc)
		return rc;
	const char *node_id = conf_get(cf, "node.id", NULL);
	if (!node_id || !uuid_valid(node_id))
		return err_set(e, ERR_CONFIG, "node.conf has no valid [node] id");
	if ((rc = http_config_read(cf, &n->http_cfg, e)))
		return rc;
	n->http_cfg.cert_pem = n->cert_pem;
	n->http_cfg.key_pem = n->key_pem;
	n->http_cfg.trust_pem = n->root_pem;
	long fds = http_raise_fd_limit();
	log_info("node can hold %ld open descriptors (connections, files)", fds);
	if (crypto_password_hash_weak())
		log_warn("passwords are hashed at Argon2id's least cost "
			 "(FATHOM_TEST_WEAK_PASSWORD_HASH=1): for test suites only");
	if (!conf_get(cf, "share.root", NULL))
		return err_set(e, ERR_CONFIG, "node.conf has no [share] root");
	char journal[PATH_MAX];
	snprintf(journal, sizeof(journal), "%s/pending", dir);
	struct ops_share os;
	if ((rc = open_database(n, dir, node_id, e)) || (rc = ops_share_resolve(cf, n->db, &os, e)))
		return rc;
	rc = share_open(&os.sp, node_id, journal, &n->share, e);
	if (rc == 0)
		rc = node_services(n, node_id, &os, e);
	ops_share_release(&os);
	if (rc)
		return rc;
	archive_logs(n);
	int64_t port, max_upload, max_body, cache_mb, engine_port, engine_mb;
	if ((rc = conf_get_int(cf, "repository.port", 4242, 1, 65535, &port, e)) ||
	    (rc = conf_get_int(cf, "repository.max_upload_bytes", 32LL << 30, 1, INT64_MAX,
			       &max_upload, e)) ||
	    (rc = conf_get_int(cf, "repository.max_body_bytes", 16 << 20, 1024, 1LL << 30,
			       &max_body, e)) ||
	    (rc = conf_get_int(cf, "repository.cache_mb", 64, 0, 1 << 20, &cache_mb, e)) ||
	    (rc = conf_get_int(cf, "engine.port", 4747, 0, 65535, &engine_port, e)) ||
	    (rc = conf_get_int(cf, "engine.memory_mb", engine_memory_default_mb(), 16, 1 << 24,
			       &engine_mb, e)))
		return rc;
	char *certs_dir = n->certs_dir;
	snprintf(n->certs_dir, sizeof(n->certs_dir), "%s/certs", dir);
	n->heartbeat_ms = heartbeat_ms;
	struct repo_config rcfg = {.db = n->db,
				   .share = n->share,
				   .node_id = node_id,
				   .version = FATHOM_VERSION,
				   .max_upload = (uint64_t)max_upload,
				   .max_body = (size_t)max_body,
				   .heartbeat_ms = heartbeat_ms,
				   .cache_bytes = cache_mb << 20,
				   .api_port = (int)port,
				   .engine_port = n->engine_on ? (int)engine_port : 0,
				   .running = n->running,
				   .certs_dir = certs_dir,
				   .node_dir = dir,
				   .file_check = ops_file_check,
				   .schedule_check = sched_check_schedule,
				   .password_set = proxy_password_set};
	if ((rc = reload_config(n, dir, share_archived_logs_dir(n->share), &rcfg.reload, e)) ||
	    (rc = serve_repository(n, dir, &rcfg, e)))
		return rc;
	log_info("node \"%s\" (%s) serves the repository API on https://%s:%lld/qrs",
		 conf_get(cf, "node.name", "?"), node_id,
		 conf_get(cf, "node.hostname", "localhost"), (long long)port);
	/* the scheduler: the central role, triggers, and this node's reload workers */
	if ((n->scheduler_on &&
	     (rc = ops_sched_start(cf, n->db, n->repo, node_id, &n->sched, e))) ||
	    (rc = serve_engine(n, n->engine_on ? engine_port : 0, engine_mb, e)))
		return rc;
	n->started_ms = time_now_ms();
	metrics_collector_add(node_metrics, n);
	record_certs(n, dir, node_id);
	n->session_max_age_s = 43200; /* [proxy] session_max_age_s's default, without a proxy */
	if (n->proxy_on && (rc = serve_proxy(n, max_body, e)))
		return rc;
	apply_revocations(n);
	return 0;
}

static enum log_level parse_level(const char *s)
{
	if (s && str_ieq(s, "debug"))
		return LOG_DEBUG;
	if (s && str_ieq(s, "warn"))
		return LOG_WARN;
	if (s && str_ieq(s, "error"))
		return LOG_ERROR;
	return LOG_INFO;
}

/* SIGHUP: node.conf's [log] level again. */
static void reload_log_level(const char *dir)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/node.conf", dir);
	struct conf *cf = NULL;
	struct err e;
	err_init(&e);
	if (conf_load(path, &cf, &e) != 0) {
		log_error("SIGHUP: node.conf was not read again: %s", e.message);
		return;
	}
	const char *level = conf_get(cf, "log.level", "info");
	log_set_level(parse_level(level));
	int64_t requests = 0;
	if (conf_get_int(cf, "log.requests", 0, 0, 1, &requests, &e) != 0)
		log_error("SIGHUP: %s", e.message);
	else
		log_set_requests(requests != 0);
	log_info("SIGHUP: logging at level %s%s", level,
		 log_requests() ? ", a line per request" : "");
	conf_free(cf);
}

/* SIGHUP: the files of [proxy] cert and key again, for the proxy's new connections. */
static void reload_proxy_cert(struct node *n)
{
	struct err e;
	err_init(&e);
	char *cert, *key;
	int rc = proxy_pem(n->conf, &cert, &key, &e);
	if (rc == 0 && (rc = http_server_reload_cert(n->proxy_https, cert, key, &e)) != 0) {
		free(cert);
		free(key);
	}
	if (rc) {
		log_error("SIGHUP: the proxy's certificate was not reloaded: %s", e.message);
		log_error("hint: the proxy goes on with the certificate it had; fix the files that "
			  "node.conf [proxy] cert and key name, and send SIGHUP again");
		return;
	}
	free(n->proxy_cert_pem);
	free(n->proxy_key_pem);
	n->proxy_cert_pem = cert;
	n->proxy_key_pem = key;
	log_info("SIGHUP: the proxy's certificate is reloaded; new connections get it");
}

/* SIGHUP: certs/server.pem and server_key.pem again, checked against the site CA, for new
 * connections on every port; connections open keep theirs. When they are not usable the
 * node goes on with the ones it has, and says why. */
static void reload_certs(struct node *n, const char *dir)
{
	struct err e;
	err_init(&e);
	char *cert = NULL, *key = NULL;
	int rc = read_pem(dir, "server.pem", &cert, &e);
	if (rc == 0)
		rc = read_pem(dir, "server_key.pem", &key, &e);
	if (rc == 0 && (rc = crypto_cert_verify(n->root_pem, cert, &e)))
		err_detail(&e, "checking certs/server.pem against certs/root.pem");
	if (rc == 0)
		rc = http_server_reload_cert(n->http, cert, key, &e);
	if (rc == 0)
		rc = ops_engine_reload_cert(n->engine, cert, key, &e);
	if (rc == 0 && n->proxy_https && !n->proxy_cert_pem)
		rc = http_server_reload_cert(n->proxy_https, cert, key, &e);
	if (rc == 0 && n->proxy_api)
		rc = http_server_reload_cert(n->proxy_api, cert, key, &e);
	if (rc) {
		log_error("SIGHUP: the server certificate was not reloaded: %s%s%s", e.message,
			  e.detail[0] ? ": " : "", e.detail);
		log_error("hint: the node goes on with the certificate it had; fix the files in "
			  "%s/certs and send SIGHUP again",
			  dir);
		free(cert);
		free(key);
		return;
	}
	free(n->cert_pem);
	free(n->key_pem);
	n->http_cfg.cert_pem = n->cert_pem = cert;
	n->http_cfg.key_pem = n->key_pem = key;
	log_info("SIGHUP: the server certificate is reloaded; new connections get it");
}

/* One pass of the share's probe and garbage collection, in a thread of its own: a share
 * that does not answer holds the pass, not the main thread (heartbeats, signals). */
static void *gc_pass(void *arg)
{
	struct node *n = arg;
	struct err ge;
	err_init(&ge);
	/* first whether the share does what Fathom needs of it, for the health page */
	int pc = share_probe(share_apps_dir(n->share), &ge);
	pthread_mutex_lock(&n->share_mu);
	str_copy(n->share_state, pc == 0 ? "ok" : ge.message, sizeof(n->share_state));
	pthread_mutex_unlock(&n->share_mu);
	err_init(&ge);
	if (n->gc_collect && repo_gc(n->repo, &ge) < 0)
		log_warn("share garbage collection: %s", ge.message);
	__atomic_store_n(&n->gc_running, 0, __ATOMIC_RELEASE);
	return NULL;
}

/* Starts a pass of the share's probe and, with `collect`, garbage collection, unless one
 * still runs (then says so once, after a minute). */
static void gc_start(struct node *n, bool collect)
{
	int64_t now = time_mono_ms();
	if (__atomic_load_n(&n->gc_running, __ATOMIC_ACQUIRE)) {
		if (!n->gc_slow_logged && now - n->gc_started >= 60000) {
			log_warn("the share's probe and garbage collection have waited %lld s for "
				 "the share: it does "
				 "not answer",
				 (long long)((now - n->gc_started) / 1000));
			n->gc_slow_logged = true;
		}
		return;
	}
	n->gc_started = now;
	n->gc_slow_logged = false;
	n->gc_collect = collect;
	__atomic_store_n(&n->gc_running, 1, __ATOMIC_RELEASE);
	pthread_attr_t at;
	pthread_t t;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&at, 512u << 10);
	if (pthread_create(&t, &at, gc_pass, n) != 0)
		gc_pass(n); /* no thread now: in this one */
	pthread_attr_destroy(&at);
}

/* Whether the garbage collection pass ended within `ms` (a stopping node waits for it). */
static bool gc_wait(struct node *n, int64_t ms)
{
	int64_t until = time_mono_ms() + ms;
	while (__atomic_load_n(&n->gc_running, __ATOMIC_ACQUIRE)) {
		if (time_mono_ms() >= until)
			return false;
		sleep_ms(20);
	}
	return true;
}

/* The main thread heartbeats every interval, probes the share every 10 s and starts a pass
 * of garbage collection every gc interval (seconds both), waiting for signals in between (SIGHUP
 * reloads the server certificate), until SIGTERM or SIGINT. A heartbeat that fails (the database is
 * away) is logged once and retried at the next beat; the node keeps serving. */
static void serve(struct node *n, const char *dir, const sigset_t *set, int64_t started,
		  int64_t heartbeat, int64_t gc_interval)
{
	int64_t last_gc = time_mono_ms(), last_stats = last_gc;
	bool beat_ok = true;
	gc_start(n, false); /* the share's first probe, for the health page */
	for (;;) {
		/* the beat first, and on its interval whatever else each beat does: a beat that
		 * comes late makes the other nodes (and this one's proxy) count the node out */
		int64_t beat_at = time_mono_ms();
		struct err he;
		err_init(&he);
		struct repo_engine_load load;
		ops_engine_load(n->engine, &load);
		char share_state[sizeof(n->share_state)];
		pthread_mutex_lock(&n->share_mu);
		str_copy(share_state, n->share_state, sizeof(share_state));
		pthread_mutex_unlock(&n->share_mu);
		int64_t waited = time_mono_ms() - n->gc_started;
		if (__atomic_load_n(&n->gc_running, __ATOMIC_ACQUIRE) && waited >= 10000)
			snprintf(share_state, sizeof(share_state),
				 "the share has not answered for %lld s",
				 (long long)(waited / 1000));
		if (repo_heartbeat(n->repo, started, &load, share_state, false, &he) != 0) {
			if (beat_ok)
				log_warn("heartbeat: %s", he.message);
			beat_ok = false;
		} else if (!beat_ok) {
			log_info("heartbeat: the repository database answers again");
			beat_ok = true;
		}
		bool removed = false;
		if (beat_ok &&
		    cluster_node_removed(n->db, conf_get(n->conf, "node.id", ""), &removed, &he) ==
			0 &&
		    removed) {
			log_error(
			    "this node was removed from the site (fathom node remove): it stops; "
			    "the other nodes refuse its certificates");
			return;
		}
		if (beat_ok) {
			apply_revocations(n);
			record_log_errors(n);
		}
		if (n->stats_ms && beat_at - last_stats >= n->stats_ms) {
			log_stats(n);
			last_stats = beat_at;
		}
		int64_t wait_ms = beat_at + heartbeat * 1000 - time_mono_ms();
		if (wait_ms < 50)
			wait_ms = 50;
		struct timespec ts = {.tv_sec = wait_ms / 1000,
				      .tv_nsec = (wait_ms % 1000) * 1000000};
		int sig = sigtimedwait(set, NULL, &ts);
		if (sig == SIGTERM || sig == SIGINT) {
			log_info("received %s; stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
			return;
		}
		if (sig == SIGHUP) {
			reload_log_level(dir);
			reload_certs(n, dir);
			if (n->proxy_https && n->proxy_cert_pem)
				reload_proxy_cert(n);
		}
		/* the share is probed every 10 s (or each gc interval, if shorter), garbage
		 * collected after the probe each gc interval */
		int64_t now = time_mono_ms();
		bool gc_due = now - last_gc >= gc_interval * 1000;
		if (gc_due || now - n->gc_started >= 10000)
			gc_start(n, gc_due);
		if (gc_due) {
			last_gc = now;
			ops_engine_gc(n->engine, n->session_max_age_s * 1000);
		}
	}
}

/* Loads node.conf of `dir` into n->conf and opens the log; prints why not and returns 1. */
static int open_conf_and_log(struct node *n, const char *dir, const char *level)
{
	struct err e;
	err_init(&e);
	char conf_path[PATH_MAX];
	snprintf(conf_path, sizeof(conf_path), "%s/node.conf", dir);
	if (!path_exists(conf_path)) {
		fprintf(stderr,
			"fathom: folder \"%s\" holds no site (no node.conf)\n"
			"  hint: create one with fathom site create --dir %s --share SHARE\n",
			dir, dir);
		return 1;
	}
	if (conf_load(conf_path, &n->conf, &e) != 0) {
		ops_print_err(&e);
		return 1;
	}
	char logs[PATH_MAX], log_path[PATH_MAX + 16];
	snprintf(logs, sizeof(logs), "%s/logs", dir);
	snprintf(log_path, sizeof(log_path), "%s/fathom.log", logs);
	int64_t max_kb, keep, stats_s, requests;
	if (dir_make_all(logs, 0750, &e) != 0 ||
	    log_open(log_path, parse_level(level ? level : conf_get(n->conf, "log.level", "info")),
		     &e) != 0 ||
	    conf_get_int(n->conf, "log.max_kb", 64 << 10, 0, 1 << 30, &max_kb, &e) != 0 ||
	    conf_get_int(n->conf, "log.keep", 7, 1, 99, &keep, &e) != 0 ||
	    conf_get_int(n->conf, "log.stats_s", 300, 0, 86400, &stats_s, &e) != 0 ||
	    conf_get_int(n->conf, "log.requests", 0, 0, 1, &requests, &e) != 0) {
		ops_print_err(&e);
		conf_free(n->conf);
		n->conf = NULL;
		return 1;
	}
	n->log_max_bytes = (uint64_t)max_kb << 10;
	n->log_keep = (int)keep;
	n->stats_ms = stats_s * 1000;
	log_set_requests(requests != 0);
	log_rotation(n->log_max_bytes, n->log_keep, NULL);
	log_set_node(conf_get(n->conf, "node.name", NULL));
	return 0;
}

int ops_node_run(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"dir", required_argument, NULL, 'd'},
	    {"allow-root", no_argument, NULL, 'r'},
	    {"log-level", required_argument, NULL, 'l'},
	    {"gc-interval", required_argument, NULL, 'g'},
	    {"heartbeat-interval", required_argument, NULL, 'b'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *dir = NULL, *level = NULL, *gc_s = "60", *beat_s = "5";
	bool allow_root = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'r': allow_root = true; break;
		case 'l': level = optarg; break;
		case 'g': gc_s = optarg; break;
		case 'b': beat_s = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	int64_t gc_interval;
	int64_t heartbeat;
	if (!dir || optind < argc || str_to_i64(gc_s, 1, 86400, &gc_interval) != 0 ||
	    str_to_i64(beat_s, 1, 3600, &heartbeat) != 0) {
		fputs(usage, stderr);
		return 2;
	}
	if (geteuid() == 0 && !allow_root) {
		fprintf(stderr,
			"fathom: refusing to run as root\n"
			"  hint: run as the site's service user, or pass --allow-root if you "
			"really mean it\n");
		return 1;
	}
	struct err e;
	err_init(&e);
	struct node n = {.lock_fd = -1, .share_mu = PTHREAD_MUTEX_INITIALIZER};
	if (open_conf_and_log(&n, dir, level))
		return 1;
	/* Signals are taken by this thread only: block them before any thread starts. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	int rc = node_start(&n, dir, heartbeat * 1000, &e);
	if (rc) {
		log_error("cannot start: %s", e.message);
		if (e.hint[0])
			log_error("hint: %s", e.hint);
		node_release(&n);
		log_close();
		return 1;
	}
	int64_t started = time_now_ms();
	serve(&n, dir, &set, started, heartbeat, gc_interval);
	struct err se;
	err_init(&se);
	if (repo_heartbeat(n.repo, started, NULL, NULL, true, &se) != 0)
		log_warn("cannot clear this node's heartbeat: %s", se.message);
	if (!gc_wait(&n, 10000)) {
		/* a pass stuck in a share that does not answer uses what node_release frees:
		 * everything acknowledged is on disk already, so the process ends as it is */
		log_warn("share garbage collection has waited %lld s for the share, which does not "
			 "answer; the node stops without it",
			 (long long)((time_mono_ms() - n.gc_started) / 1000));
		log_info("stopped");
		log_close();
		_exit(0);
	}
	node_release(&n);
	log_info("stopped");
	log_close();
	return 0;
}
