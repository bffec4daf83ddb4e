/* util.c: helpers the commands share: creating files and folders with an undo list, so a
 * command that fails part-way removes what it made; absolute paths; handing a tree to the
 * service user. */
#include "ops/ops_int.h"
#include "cluster/cluster.h"
#include "crypto/crypto.h"
#include "proxy/proxy.h"
#include "sched/sched.h"
#include "share/share.h"

#include <jansson.h>

#include <errno.h>
#include <getopt.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

/* Paths this run created, removed in reverse order on failure. */

void ops_undo_add(struct ops_undo *u, const char *path, bool dir)
{
	if (u->n < (int)ARRAY_LEN(u->paths)) {
		str_copy(u->paths[u->n], path, PATH_MAX);
		u->is_dir[u->n] = dir;
		u->n++;
	}
}

void ops_undo_run(struct ops_undo *u)
{
	for (int i = u->n - 1; i >= 0; i--) {
		if (u->is_dir[i])
			rmdir(u->paths[i]);
		else
			unlink(u->paths[i]);
	}
}

/* Creates each missing folder of `path`, recording the ones it made. */
static void undo_folder(void *ctx, const char *path)
{
	ops_undo_add(ctx, path, true);
}

int ops_mkdirs(struct ops_undo *u, const char *path, unsigned mode, struct err *e)
{
	int rc = dir_make_all_cb(path, mode, undo_folder, u, e);
	if (rc)
		return rc;
	if (!dir_is_writable(path))
		return err_set(e, ERR_IO, "\"%s\" is not a writable folder", path);
	return 0;
}

int ops_write_file(struct ops_undo *u, const char *dir, const char *name, const char *data,
		   unsigned mode, struct err *e)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int rc = file_write_atomic(path, data, strlen(data), mode, e);
	if (rc == 0)
		ops_undo_add(u, path, false);
	return rc;
}

static uid_t tree_uid;
static gid_t tree_gid;

static int chown_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return lchown(path, tree_uid, tree_gid) == 0 ? 0 : -1;
}

/* Hands a folder and everything in it to the service user; modes stay as created (keys
 * 0600, so only that user reads them). */
int ops_chown_tree(const char *path, uid_t uid, gid_t gid, struct err *e)
{
	tree_uid = uid;
	tree_gid = gid;
	if (nftw(path, chown_one, 16, FTW_PHYS) != 0)
		return err_set(e, ERR_IO, "cannot give \"%s\" to the service user: %s", path,
			       strerror(errno));
	return 0;
}

const char *ops_host_name(char *buf, size_t n)
{
	if (gethostname(buf, n) != 0)
		str_copy(buf, "localhost", n);
	buf[n - 1] = '\0';
	return buf;
}

char *ops_absolute(const char *p)
{
	if (p[0] == '/')
		return strdup(p);
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof(cwd)))
		return strdup(p);
	char *out = NULL;
	if (asprintf(&out, "%s/%s", cwd, p) < 0)
		return NULL;
	return out;
}

const struct db_migration *const ops_schema[] = {repo_migrations, cluster_migrations,
						 proxy_migrations, sched_migrations, NULL};

int ops_db_from_conf(const struct conf *cf, const char *dir, struct ops_db *out, struct err *e)
{
	memset(out, 0, sizeof(*out));
	struct db_config *dc = &out->cfg;
	dc->schema = ops_schema;
	dc->busy_timeout_ms = 5000;
	const char *driver = conf_get(cf, "database.driver", "sqlite");
	int64_t pool;
	int rc = conf_get_int(cf, "database.pool_size", 8, 1, 256, &pool, e);
	if (rc)
		return rc;
	dc->pool_size = (int)pool;
	snprintf(out->app_name, sizeof(out->app_name), "fathom %s",
		 conf_get(cf, "node.name", "node"));
	dc->app_name = out->app_name;
	if (strcmp(driver, "postgres") == 0) {
		dc->kind = DB_POSTGRES;
		dc->conninfo = conf_get(cf, "database.conninfo", NULL);
		if (!dc->conninfo)
			return err_set(e, ERR_CONFIG, "node.conf [database] has no conninfo");
		const char *sealed = conf_get(cf, "database.password", NULL);
		if (sealed) {
			char key_path[PATH_MAX];
			unsigned char key[CRYPTO_KEY_LEN];
			snprintf(key_path, sizeof(key_path), "%s/secret.key", dir);
			if ((rc = crypto_key_load(key_path, key, e)))
				return rc;
			if ((rc = crypto_unseal(key, sealed, &out->password, e))) {
				err_detail(e,
					   "node.conf [database] password cannot be opened with %s",
					   key_path);
				return rc;
			}
			dc->password = out->password;
		}
		return 0;
	}
	if (strcmp(driver, "sqlite") == 0) {
		dc->kind = DB_SQLITE;
		dc->path = conf_get(cf, "database.path", NULL);
		if (!dc->path) {
			snprintf(out->path, sizeof(out->path), "%s/repository.db", dir);
			dc->path = out->path;
		}
		if (!path_exists(dc->path))
			return err_set(e, ERR_CONFIG, "repository database \"%s\" does not exist",
				       dc->path);
		return 0;
	}
	return err_set(e, ERR_CONFIG,
		       "node.conf [database] driver \"%s\" is unknown (sqlite or postgres)",
		       driver);
}

void ops_db_release(struct ops_db *d)
{
	if (d->password) {
		memset(d->password, 0, strlen(d->password));
		free(d->password);
		d->password = NULL;
	}
}

int ops_parse_show_set(int argc, char **argv, const char *usage, bool *out_set,
		       const char **out_dir, int *out_first)
{
	bool help = argc >= 2 && strcmp(argv[1], "--help") == 0;
	if (argc < 2 || (strcmp(argv[1], "show") != 0 && strcmp(argv[1], "set") != 0)) {
		fputs(usage, help ? stdout : stderr);
		return help ? 0 : 2;
	}
	*out_set = strcmp(argv[1], "set") == 0;
	static const struct option opts[] = {
	    {"dir", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	*out_dir = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': *out_dir = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (!*out_dir) {
		fputs(usage, stderr);
		return 2;
	}
	*out_first = optind + 1; /* optind counts within argv + 1 */
	return -1;
}

int ops_open_node_db(const struct conf *cf, const char *dir, struct db **out, struct err *e)
{
	*out = NULL;
	struct ops_db odb;
	int rc = ops_db_from_conf(cf, dir, &odb, e);
	if (rc == 0) {
		odb.cfg.pool_size = 1;
		rc = db_open(&odb.cfg, out, e);
	}
	ops_db_release(&odb);
	return rc;
}

const char *const ops_share_keys[OPS_SHARE_FOLDERS][2] = {
    {"share.apps", "appFolder"},
    {"share.static_content", "staticContentRootFolder"},
    {"share.archived_logs", "archivedLogsRootFolder"},
    {"share.custom_data", "customDataRootFolder"},
};

int ops_share_resolve(const struct conf *cf, struct db *db, struct ops_share *out, struct err *e)
{
	memset(out, 0, sizeof(*out));
	out->sp.root = conf_get(cf, "share.root", NULL);
	if (!out->sp.root)
		return err_set(e, ERR_CONFIG, "node.conf has no [share] root");
	json_t *settings = NULL;
	int rc = cluster_settings(db, &settings, e);
	if (rc)
		return rc;
	json_t *props = json_object_get(settings, "sharedPersistenceProperties");
	out->site = json_is_object(props) ? json_incref(props) : json_object();
	json_decref(settings);
	const char *site_root = json_string_value(json_object_get(out->site, "rootFolder"));
	const char **dst[OPS_SHARE_FOLDERS] = {&out->sp.apps, &out->sp.static_content,
					       &out->sp.archived_logs, &out->sp.custom_data};
	for (int i = 0; rc == 0 && i < OPS_SHARE_FOLDERS; i++) {
		const char *own = conf_get(cf, ops_share_keys[i][0], NULL);
		const char *site =
		    json_string_value(json_object_get(out->site, ops_share_keys[i][1]));
		if (own) {
			*dst[i] = own;
			out->own |= 1u << i;
		} else if (site_root && site) {
			rc = share_map_folder(site_root, site, out->sp.root, out->folders[i],
					      sizeof(out->folders[i]), e);
			if (rc)
				err_detail(e, "the service cluster's %s", ops_share_keys[i][1]);
			*dst[i] = out->folders[i];
		} else {
			static const char *const names[] = {"Apps", "StaticContent", "ArchivedLogs",
							    "CustomData"};
			snprintf(out->folders[i], sizeof(out->folders[i]), "%s/%s", out->sp.root,
				 names[i]);
			*dst[i] = out->folders[i];
		}
	}
	if (rc)
		ops_share_release(out);
	return rc;
}

void ops_share_release(struct ops_share *s)
{
	json_decref(s->site);
	s->site = NULL;
}

int ops_local_open(const char *dir, struct ops_local *l, struct err *e)
{
	memset(l, 0, sizeof(*l));
	char conf_path[PATH_MAX], journal[PATH_MAX];
	snprintf(conf_path, sizeof(conf_path), "%s/node.conf", dir);
	snprintf(journal, sizeof(journal), "%s/pending", dir);
	int rc = conf_load(conf_path, &l->cf, e);
	if (rc == 0)
		rc = ops_open_node_db(l->cf, dir, &l->db, e);
	struct ops_share os = {0};
	if (rc == 0 && (rc = ops_share_resolve(l->cf, l->db, &os, e)) == 0) {
		rc = share_open(&os.sp, conf_get(l->cf, "node.id", ""), journal, &l->share, e);
		ops_share_release(&os);
	}
	if (rc == 0) {
		/* reload logs live on the share, where the running nodes write them */
		static char logs[PATH_MAX + 16];
		snprintf(logs, sizeof(logs), "%s/Reload", share_archived_logs_dir(l->share));
		struct repo_config rcfg = {.db = l->db,
					   .share = l->share,
					   .node_id = conf_get(l->cf, "node.id", ""),
					   .version = FATHOM_VERSION,
					   .file_check = ops_file_check,
					   .schedule_check = sched_check_schedule,
					   .reload = {.log_dir = logs}};
		rc = repo_open(&rcfg, &l->repo, e);
	}
	if (rc) {
		ops_local_close(l);
		return rc;
	}
	l->h = repo_http_handler(l->repo);
	return 0;
}

int ops_dir_and_word(int argc, char **argv, const char *usage, const char **dir, const char **word)
{
	static const struct option opts[] = {
	    {"dir", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	*dir = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': *dir = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (!*dir || optind != argc - 1) {
		fputs(usage, stderr);
		return 2;
	}
	*word = argv[optind];
	return -1;
}

void ops_local_close(struct ops_local *l)
{
	repo_close(l->repo);
	share_close(l->share);
	db_close(l->db);
	conf_free(l->cf);
	memset(l, 0, sizeof(*l));
}

int ops_local_call(struct ops_local *l, const char *method, const char *path, const char *query,
		   const void *body, size_t len, char **out, size_t *out_len)
{
	char q[1024];
	snprintf(q, sizeof(q), "xrfkey=fathomcommand000%s%s", query ? "&" : "", query ? query : "");
	return http_run_local(&l->h, method, path, q, "X-Qlik-Xrfkey: fathomcommand000\n",
			      body ? body : "", len, 1 << 20, HTTP_CERT_OK, 64u << 20, out,
			      out_len);
}

int ops_query_param(struct buf *q, const char *key, const char *value)
{
	int rc = buf_printf(q, "%s%s=", q->len ? "&" : "", key);
	for (const unsigned char *p = (const unsigned char *)value; *p && rc == 0; p++)
		rc = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			     (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'
			 ? buf_append(q, p, 1)
			 : buf_printf(q, "%%%02X", *p);
	return rc;
}

bool ops_can_bind_low_ports(void)
{
	if (geteuid() == 0)
		return true;
	char *status = NULL;
	struct err e;
	err_init(&e);
	bool can = false;
	if (file_read_all("/proc/self/status", 1 << 16, &status, NULL, &e) == 0) {
		const char *cap = strstr(status, "\nCapEff:");
		uint64_t bits = 0;
		for (const char *s = cap ? cap + 8 : ""; *s && *s != '\n'; s++) {
			int d = *s >= '0' && *s <= '9'	 ? *s - '0'
				: *s >= 'a' && *s <= 'f' ? *s - 'a' + 10
							 : -1;
			if (d >= 0)
				bits = bits << 4 | (uint64_t)d;
		}
		can = bits & (1ULL << 10); /* CAP_NET_BIND_SERVICE */
		free(status);
	}
	char *start = NULL;
	if (!can && file_read_all("/proc/sys/net/ipv4/ip_unprivileged_port_start", 64, &start, NULL,
				  &e) == 0) {
		int64_t v = 1024;
		start[strcspn(start, "\n")] = '\0';
		can = str_to_i64(start, 0, 65536, &v) == 0 && v <= 443;
		free(start);
	}
	return can;
}

char *ops_read_line(FILE *in, const char *prompt)
{
	struct termios old, quiet;
	bool tty = isatty(fileno(in)) && tcgetattr(fileno(in), &old) == 0;
	if (tty) {
		fputs(prompt, stderr);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fileno(in), TCSAFLUSH, &quiet);
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, in);
	if (tty) {
		tcsetattr(fileno(in), TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (n < 0) {
		free(line);
		return NULL;
	}
	line[strcspn(line, "\r\n")] = '\0';
	return line;
}

bool ops_proxy_ports_ok(const char *port, const char *http, const char *api)
{
	const char *given[] = {port, http, api};
	int64_t v;
	for (size_t i = 0; i < ARRAY_LEN(given); i++)
		if (given[i] && str_to_i64(given[i], 0, 65535, &v) != 0)
			return false;
	return true;
}

void ops_conf_proxy_ports(struct conf *cf, const char *port, const char *http, const char *api)
{
	if (port)
		conf_set(cf, "proxy.port", port);
	if (http)
		conf_set(cf, "proxy.http_port", http);
	if (api)
		conf_set(cf, "proxy.api_port", api);
}

int ops_conf_postgres(struct conf *cf, const char *dir, const char *db_url, bool *made_key,
		      struct err *e)
{
	char *bare = NULL, *password = NULL, *sealed = NULL, key_path[PATH_MAX];
	unsigned char key[CRYPTO_KEY_LEN];
	*made_key = false;
	snprintf(key_path, sizeof(key_path), "%s/secret.key", dir);
	int rc = db_pg_split_password(db_url, &bare, &password, e);
	if (rc == 0 && access(key_path, F_OK) != 0 && (rc = crypto_key_create(key_path, e)) == 0)
		*made_key = true;
	if (rc == 0)
		rc = crypto_key_load(key_path, key, e);
	if (rc == 0 && password)
		rc = crypto_seal(key, password, &sealed, e);
	if (rc == 0) {
		conf_set(cf, "database.driver", "postgres");
		conf_set(cf, "database.conninfo", bare);
		if (sealed)
			conf_set(cf, "database.password", sealed);
		else
			conf_unset(cf, "database.password");
		conf_unset(cf, "database.path");
	}
	explicit_bzero(key, sizeof(key));
	free(bare);
	free(password);
	free(sealed);
	return rc;
}
