/* site.c: `fathom site create`: a new single-node site on the embedded SQLite repository.
 *
 * Creates, in order: the node folder, the certificates (site CA and the node's server and
 * client certificates), the share folders, the repository database with its first rows, and
 * last node.conf, whose presence marks a complete site. On any failure everything this run
 * created is removed again, so a failed create changes nothing. */
#include "ops/ops_int.h"
#include "crypto/crypto.h"
#include "db/db.h"
#include "repo/repo.h"
#include "share/share.h"

#include <errno.h>
#include <ftw.h>
#include <pwd.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void ops_print_err(const struct err *e)
{
	fprintf(stderr, "fathom: %s\n", e->message[0] ? e->message : err_str(e->code));
	if (e->detail[0])
		fprintf(stderr, "  detail: %s\n", e->detail);
	if (e->hint[0])
		fprintf(stderr, "  hint: %s\n", e->hint);
}

static const char usage[] =
    "usage: fathom site create --dir DIR --share SHARE [options]\n"
    "\n"
    "Creates a new site with one node, on the embedded SQLite repository or on PostgreSQL.\n"
    "\n"
    "  --dir DIR               the node's folder: node.conf, repository.db, certs/, logs/\n"
    "  --share SHARE           the share's root folder (created when missing)\n"
    "  --apps PATH             app files (default SHARE/Apps)\n"
    "  --static-content PATH   static content (default SHARE/StaticContent)\n"
    "  --archived-logs PATH    archived logs (default SHARE/ArchivedLogs)\n"
    "  --custom-data PATH      custom data (default SHARE/CustomData)\n"
    "  --repository-port N     HTTPS port of the repository API (default 4242)\n"
    "  --engine-port N         port of the engine: QIX over secure WebSocket (default 4747;\n"
    "                          0: this node serves no QIX sessions)\n"
    "  --proxy-port N          HTTPS port where people sign in (default 443 when the node may\n"
    "                          bind it, else 8443; 0: this node runs no proxy)\n"
    "  --proxy-api-port N      HTTPS port of the proxy API (Qlik's QPS: tickets, sessions),\n"
    "                          for services with the site's client certificate (default\n"
    "                          4243; 0: none)\n"
    "  --proxy-http-port N     plain HTTP port that redirects to HTTPS (default 80 or 8080;\n"
    "                          0: none)\n"
    "  --admin NAME            make INTERNAL\\NAME the first administrator (RootAdmin), who\n"
    "                          signs in at the proxy; the password is asked on the terminal\n"
    "  --admin-password-file F read that password from the first line of F instead\n"
    "  --listen ADDR           IPv4 address to listen on (default 0.0.0.0)\n"
    "  --hostname NAME         the name clients use to reach this node (default: this host)\n"
    "  --name NAME             the node's name (default: the host name)\n"
    "  --max-upload-bytes N    largest app file accepted (default 34359738368)\n"
    "  --owner USER            make USER (the service user) own the node folder and the share;\n"
    "                          needs root\n"
    "  --db URL                a PostgreSQL database instead of the embedded SQLite repository\n"
    "                          (postgresql://user:password@host:port/database)\n"
    "  --local-db              initialise a PostgreSQL 15 instance that the site owns, in\n"
    "                          DIR/pgdata, and use it (other nodes can join it); manage it\n"
    "                          with fathom db start|stop|status\n"
    "  --local-db-port N       its port (default 4432)\n"
    "  -h, --help              show this help\n";

static int make_certs(struct ops_undo *u, const char *certs, const char *host, const char *name,
		      struct err *e)
{
	struct crypto_pem_pair ca = {0}, server = {0}, client = {0};
	int rc = crypto_ca_create("Fathom site CA", &ca, e);
	const char *dns[] = {"localhost", name};
	if (rc == 0)
		rc = crypto_cert_issue(&ca, CRYPTO_CERT_SERVER, host, dns, 2, &server, e);
	if (rc == 0)
		rc = crypto_cert_issue(&ca, CRYPTO_CERT_CLIENT, "QlikClient", NULL, 0, &client, e);
	if (rc == 0)
		rc = ops_write_file(u, certs, "root.pem", ca.cert, 0644, e);
	if (rc == 0)
		rc = ops_write_file(u, certs, "root_key.pem", ca.key, 0600, e);
	if (rc == 0)
		rc = ops_write_file(u, certs, "server.pem", server.cert, 0644, e);
	if (rc == 0)
		rc = ops_write_file(u, certs, "server_key.pem", server.key, 0600, e);
	if (rc == 0)
		rc = ops_write_file(u, certs, "client.pem", client.cert, 0644, e);
	if (rc == 0)
		rc = ops_write_file(u, certs, "client_key.pem", client.key, 0600, e);
	crypto_pem_pair_release(&ca);
	crypto_pem_pair_release(&server);
	crypto_pem_pair_release(&client);
	return rc;
}

/* What `site create` was asked for. */
struct site_args {
	const char *dir, *share, *apps, *stat_c, *logs, *custom, *port_s, *listen, *host, *name,
	    *max_up, *db_url, *owner, *local_port_s, *engine_port_s, *proxy_port_s,
	    *proxy_http_port_s, *proxy_api_port_s, *admin, *admin_pw_file;
	char *admin_pw;
	bool local_db;
	int64_t port, max_upload, local_port, engine_port;
	uid_t owner_uid;
	gid_t owner_gid;
	char hostbuf[256];
};

/* Reads the options into *a. Returns -1 when the command goes on, else the exit status
 * (after printing help or what is wrong). */
static int parse_site_args(int argc, char **argv, struct site_args *a)
{
	static const struct option opts[] = {
	    {"dir", required_argument, NULL, 'd'},
	    {"share", required_argument, NULL, 's'},
	    {"apps", required_argument, NULL, 'A'},
	    {"static-content", required_argument, NULL, 'S'},
	    {"archived-logs", required_argument, NULL, 'L'},
	    {"custom-data", required_argument, NULL, 'C'},
	    {"repository-port", required_argument, NULL, 'p'},
	    {"engine-port", required_argument, NULL, 'E'},
	    {"proxy-port", required_argument, NULL, 'X'},
	    {"proxy-http-port", required_argument, NULL, 'Y'},
	    {"proxy-api-port", required_argument, NULL, 'Z'},
	    {"admin", required_argument, NULL, 'a'},
	    {"admin-password-file", required_argument, NULL, 'w'},
	    {"listen", required_argument, NULL, 'l'},
	    {"hostname", required_argument, NULL, 'H'},
	    {"name", required_argument, NULL, 'n'},
	    {"max-upload-bytes", required_argument, NULL, 'm'},
	    {"db", required_argument, NULL, 'D'},
	    {"owner", required_argument, NULL, 'O'},
	    {"local-db", no_argument, NULL, 'B'},
	    {"local-db-port", required_argument, NULL, 'P'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	*a = (struct site_args){.port_s = "4242",
				.listen = "0.0.0.0",
				.max_up = "34359738368",
				.local_port_s = "4432",
				.engine_port_s = "4747"};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': a->dir = optarg; break;
		case 's': a->share = optarg; break;
		case 'A': a->apps = optarg; break;
		case 'S': a->stat_c = optarg; break;
		case 'L': a->logs = optarg; break;
		case 'C': a->custom = optarg; break;
		case 'p': a->port_s = optarg; break;
		case 'E': a->engine_port_s = optarg; break;
		case 'X': a->proxy_port_s = optarg; break;
		case 'Y': a->proxy_http_port_s = optarg; break;
		case 'Z': a->proxy_api_port_s = optarg; break;
		case 'a': a->admin = optarg; break;
		case 'w': a->admin_pw_file = optarg; break;
		case 'l': a->listen = optarg; break;
		case 'H': a->host = optarg; break;
		case 'n': a->name = optarg; break;
		case 'm': a->max_up = optarg; break;
		case 'D': a->db_url = optarg; break;
		case 'O': a->owner = optarg; break;
		case 'B': a->local_db = true; break;
		case 'P': a->local_port_s = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "fathom: unexpected argument \"%s\"\n%s", argv[optind], usage);
		return 2;
	}
	if (!a->dir || !a->share) {
		fprintf(stderr, "fathom: site create needs --dir and --share\n%s", usage);
		return 2;
	}
	if (a->local_db && a->db_url) {
		fprintf(stderr, "fathom: give --db or --local-db, not both\n");
		return 2;
	}
	return -1;
}

/* Checks the numbers, the names and the owner of *a. Returns -1 or the exit status. */
static int check_site_args(struct site_args *a)
{
	if (str_to_i64(a->local_port_s, 1, 65535, &a->local_port) != 0) {
		fprintf(stderr,
			"fathom: --local-db-port must be a port number (1-65535), not \"%s\"\n",
			a->local_port_s);
		return 2;
	}
	if (str_to_i64(a->port_s, 1, 65535, &a->port) != 0) {
		fprintf(stderr,
			"fathom: --repository-port must be a port number (1-65535), not \"%s\"\n",
			a->port_s);
		return 2;
	}
	if (str_to_i64(a->engine_port_s, 0, 65535, &a->engine_port) != 0) {
		fprintf(stderr,
			"fathom: --engine-port must be a port number (0-65535), not \"%s\"\n",
			a->engine_port_s);
		return 2;
	}
	if (!ops_proxy_ports_ok(a->proxy_port_s, a->proxy_http_port_s, a->proxy_api_port_s)) {
		fprintf(stderr, "fathom: --proxy-port, --proxy-http-port and --proxy-api-port must "
				"be port numbers (0-65535)\n");
		return 2;
	}
	if (a->admin_pw_file && !a->admin) {
		fprintf(stderr, "fathom: --admin-password-file goes with --admin NAME\n");
		return 2;
	}
	if (a->admin && (!*a->admin || strlen(a->admin) > 128 || str_has_ctl(a->admin, false) ||
			 strpbrk(a->admin, "'\\\"/;="))) {
		fprintf(stderr, "fathom: --admin: \"%s\" cannot be a user name\n", a->admin);
		return 2;
	}
	if (str_to_i64(a->max_up, 1, INT64_MAX, &a->max_upload) != 0) {
		fprintf(stderr, "fathom: --max-upload-bytes must be a positive number\n");
		return 2;
	}
	if (!a->host)
		a->host = ops_host_name(a->hostbuf, sizeof(a->hostbuf));
	if (!a->name)
		a->name = a->host;
	if (a->owner) {
		struct passwd *pw = getpwnam(a->owner);
		if (!pw) {
			fprintf(stderr, "fathom: --owner: there is no user \"%s\"\n", a->owner);
			return 2;
		}
		if (geteuid() != 0) {
			fprintf(stderr,
				"fathom: --owner needs root (to hand the files to \"%s\")\n",
				a->owner);
			return 2;
		}
		a->owner_uid = pw->pw_uid;
		a->owner_gid = pw->pw_gid;
	}
	if (str_has_ctl(a->name, false) || strlen(a->name) > 255 || str_has_ctl(a->host, false)) {
		fprintf(stderr, "fathom: --name and --hostname must be printable and short\n");
		return 2;
	}
	return -1;
}

/* A shared database is checked before anything is created: it must answer, and it must
 * not already hold a site. */
static int check_database_free(const struct db_config *pg, struct err *e)
{
	int version = 0;
	int rc = db_check(pg, &version, e);
	if (rc || version == 0)
		return rc;
	struct db *probe = NULL;
	bool exists = false;
	if ((rc = db_open(pg, &probe, e)) == 0)
		rc = repo_site_exists(probe, &exists, e);
	db_close(probe);
	if (rc == 0 && exists) {
		rc = err_set(e, ERR_EXISTS, "the database already holds a Fathom site");
		err_hint(e, "nothing was changed; to add this machine to that site, join it as a "
			    "node (fathom node join)");
	}
	return rc;
}

/* The share's folders: the ones named, or the default layout under its root. */
static int make_share(struct ops_undo *u, const struct share_paths *sp, struct err *e)
{
	const char *share_dirs[] = {sp->root, sp->apps, sp->static_content, sp->archived_logs,
				    sp->custom_data};
	int rc = 0;
	for (size_t i = 0; i < ARRAY_LEN(share_dirs) && rc == 0; i++)
		rc = ops_mkdirs(u, share_dirs[i], 0750, e);
	static const char *const sub[] = {"AppContent", "Content", "Extensions", "DefaultApps"};
	for (size_t i = 0; i < ARRAY_LEN(sub) && rc == 0; i++) {
		char p[PATH_MAX + 32];
		snprintf(p, sizeof(p), "%s/%s", sp->static_content, sub[i]);
		rc = ops_mkdirs(u, p, 0750, e);
	}
	return rc;
}

/* Writes node.conf, the last file of a new site (also undone if a later step fails). */
static int write_node_conf(const struct site_args *a, struct ops_undo *u, const char *adir,
			   const char *db_path, const char *node_id, const struct share_paths *sp,
			   struct err *e)
{
	struct conf *cf = conf_new();
	char port_str[16], conf_path[PATH_MAX];
	snprintf(port_str, sizeof(port_str), "%lld", (long long)a->port);
	snprintf(conf_path, sizeof(conf_path), "%s/node.conf", adir);
	conf_set(cf, "node.id", node_id);
	conf_set(cf, "node.name", a->name);
	conf_set(cf, "node.hostname", a->host);
	conf_set(cf, "repository.port", port_str);
	conf_set(cf, "repository.listen", a->listen);
	conf_set(cf, "engine.port", a->engine_port_s);
	ops_conf_proxy_ports(cf, a->proxy_port_s, a->proxy_http_port_s, a->proxy_api_port_s);
	conf_set(cf, "repository.max_upload_bytes", a->max_up);
	conf_set(cf, "repository.max_body_bytes", "16777216");
	int rc = 0;
	if (a->db_url) {
		bool made_key = false;
		rc = ops_conf_postgres(cf, adir, a->db_url, &made_key, e);
		char key_path[PATH_MAX];
		snprintf(key_path, sizeof(key_path), "%s/secret.key", adir);
		if (made_key)
			ops_undo_add(u, key_path, false);
	} else {
		conf_set(cf, "database.driver", "sqlite");
		conf_set(cf, "database.path", db_path);
	}
	/* the other folders are the service cluster's (ops_share_resolve) */
	conf_set(cf, "share.root", sp->root);
	conf_set(cf, "log.level", "info");
	if (rc == 0) {
		ops_undo_add(u, conf_path, false);
		rc = conf_save(cf, conf_path, e);
	}
	conf_free(cf);
	return rc;
}

/* The repository: a new SQLite file in the node folder, or the shared database; filled
 * with the site and its first node. */
static int make_repository(const struct site_args *a, struct ops_undo *u, const char *db_path,
			   const struct share_paths *sp, char node_id[UUID_STR_LEN + 1],
			   struct err *e)
{
	struct db_config pg = {
	    .kind = DB_POSTGRES, .schema = ops_schema, .conninfo = a->db_url, .pool_size = 1};
	struct db_config dc = {.kind = DB_SQLITE,
			       .schema = ops_schema,
			       .path = db_path,
			       .pool_size = 1,
			       .create = true};
	if (!a->db_url) {
		ops_undo_add(u, db_path, false);
		char side[PATH_MAX + 8];
		snprintf(side, sizeof(side), "%s-wal", db_path);
		ops_undo_add(u, side, false);
		snprintf(side, sizeof(side), "%s-shm", db_path);
		ops_undo_add(u, side, false);
	}
	struct db *db = NULL;
	int rc = db_open(a->db_url ? &pg : &dc, &db, e);
	if (rc)
		return rc;
	if (!a->db_url)
		chmod(db_path, 0640);
	struct repo_site_init init = {a->name, a->host, sp};
	rc = repo_site_init(db, &init, node_id, e);
	db_close(db);
	return rc;
}

/* The first administrator, who signs in at the proxy. */
static int make_admin(const struct site_args *a, const char *adir, struct err *e)
{
	struct ops_local l;
	const char *roles[] = {"RootAdmin"};
	int rc = ops_local_open(adir, &l, e);
	if (rc == 0)
		rc = ops_user_create(&l, a->admin, roles, 1, a->admin_pw, e);
	ops_local_close(&l);
	return rc;
}

/* Hands the node folder and the share to --owner. */
static int give_to_owner(const struct site_args *a, const char *adir, const struct share_paths *sp,
			 struct err *e)
{
	const char *roots[] = {
	    adir, sp->root, sp->apps, sp->static_content, sp->archived_logs, sp->custom_data};
	int rc = 0;
	for (size_t i = 0; i < ARRAY_LEN(roots) && rc == 0; i++)
		rc = ops_chown_tree(roots[i], a->owner_uid, a->owner_gid, e);
	return rc;
}

static void print_created(const struct site_args *a, const char *adir, const char *node_id,
			  const struct share_paths *sp, const char *certs)
{
	printf("created site in %s\n"
	       "  node:        %s (%s)\n"
	       "  share:       %s\n"
	       "  repository:  https://%s:%lld/qrs (mutual TLS; client certificate in %s)\n"
	       "start it with:\n"
	       "  fathom run --dir %s\n",
	       adir, a->name, node_id, sp->root, a->host, (long long)a->port, certs, a->dir);
	const char *proxy = a->proxy_port_s ? a->proxy_port_s : "8443";
	if (strcmp(proxy, "0") != 0)
		printf("people sign in at:\n  https://%s:%s/%s%s\n", a->host, proxy,
		       a->admin ? " as INTERNAL\\" : "", a->admin ? a->admin : "");
	if (a->local_db)
		printf("other nodes join with:\n"
		       "  fathom node join --db 'postgresql://fathom:PASSWORD@%s:%lld/fathom' ...\n"
		       "  (PASSWORD: fathom secret show --dir %s)\n",
		       a->host, (long long)a->local_port, a->dir);
}

/* The absolute paths of the node folder and the share's folders. */
struct site_paths {
	char *adir, *ashare, *aapps, *astat, *alogs, *acust;
	char conf[PATH_MAX], db[PATH_MAX], certs[PATH_MAX], pgdata[PATH_MAX + 8];
	char d_apps[PATH_MAX], d_stat[PATH_MAX], d_logs[PATH_MAX], d_cust[PATH_MAX];
	struct share_paths sp;
};

static void site_paths_init(struct site_paths *p, const struct site_args *a)
{
	p->adir = ops_absolute(a->dir);
	p->ashare = ops_absolute(a->share);
	p->aapps = a->apps ? ops_absolute(a->apps) : NULL;
	p->astat = a->stat_c ? ops_absolute(a->stat_c) : NULL;
	p->alogs = a->logs ? ops_absolute(a->logs) : NULL;
	p->acust = a->custom ? ops_absolute(a->custom) : NULL;
	snprintf(p->conf, sizeof(p->conf), "%s/node.conf", p->adir);
	snprintf(p->db, sizeof(p->db), "%s/repository.db", p->adir);
	snprintf(p->certs, sizeof(p->certs), "%s/certs", p->adir);
	snprintf(p->pgdata, sizeof(p->pgdata), "%s/pgdata", p->adir);
	snprintf(p->d_apps, sizeof(p->d_apps), "%s/Apps", p->ashare);
	snprintf(p->d_stat, sizeof(p->d_stat), "%s/StaticContent", p->ashare);
	snprintf(p->d_logs, sizeof(p->d_logs), "%s/ArchivedLogs", p->ashare);
	snprintf(p->d_cust, sizeof(p->d_cust), "%s/CustomData", p->ashare);
	p->sp = (struct share_paths){
	    p->ashare, p->aapps ? p->aapps : p->d_apps, p->astat ? p->astat : p->d_stat,
	    p->alogs ? p->alogs : p->d_logs, p->acust ? p->acust : p->d_cust};
}

static void site_paths_release(struct site_paths *p)
{
	free(p->adir);
	free(p->ashare);
	free(p->aapps);
	free(p->astat);
	free(p->alogs);
	free(p->acust);
}

/* Every step of a new site, each recorded in `u` so that a failure undoes them. */
static int create_site(struct site_args *a, struct site_paths *p, struct ops_undo *u,
		       bool *made_local_db, char **local_url, struct err *e)
{
	int rc;
	if (path_exists(p->conf) || path_exists(p->db) || (a->local_db && path_exists(p->pgdata))) {
		rc = err_set(e, ERR_EXISTS, "folder \"%s\" already holds a site", p->adir);
		err_hint(e,
			 "nothing was changed; choose another --dir, or run the site with "
			 "fathom run --dir %s",
			 a->dir);
		return rc;
	}
	if (a->local_db) {
		/* The site's own instance comes first: everything after uses it like --db. */
		struct ops_localdb ld = {p->adir, (int)a->local_port, a->listen, a->owner};
		if ((rc = ops_mkdirs(u, p->adir, 0750, e)) ||
		    (rc = ops_localdb_create(&ld, local_url, e)))
			return rc;
		*made_local_db = true;
		a->db_url = *local_url;
	}
	struct db_config pg = {
	    .kind = DB_POSTGRES, .schema = ops_schema, .conninfo = a->db_url, .pool_size = 1};
	char node_id[UUID_STR_LEN + 1];
	if ((a->db_url && (rc = check_database_free(&pg, e))) ||
	    (rc = ops_mkdirs(u, p->adir, 0750, e)) || (rc = ops_mkdirs(u, p->certs, 0750, e)) ||
	    (rc = make_certs(u, p->certs, a->host, a->name, e)) ||
	    (rc = make_share(u, &p->sp, e)) || (rc = share_probe(p->sp.apps, e)) ||
	    (rc = make_repository(a, u, p->db, &p->sp, node_id, e)) ||
	    (rc = write_node_conf(a, u, p->adir, p->db, node_id, &p->sp, e)) ||
	    (a->admin && (rc = make_admin(a, p->adir, e))) ||
	    (a->owner && (rc = give_to_owner(a, p->adir, &p->sp, e))))
		return rc;
	print_created(a, p->adir, node_id, &p->sp, p->certs);
	return 0;
}

int ops_site_create(int argc, char **argv)
{
	struct site_args a;
	int st = parse_site_args(argc, argv, &a);
	if (st < 0)
		st = check_site_args(&a);
	if (st >= 0)
		return st;
	struct err e;
	err_init(&e);
	struct site_paths p;
	site_paths_init(&p, &a);
	if (a.admin) {
		char who[160];
		snprintf(who, sizeof(who), "INTERNAL\\%s", a.admin);
		if (ops_read_new_password(a.admin_pw_file, who, &a.admin_pw, &e) != 0) {
			ops_print_err(&e);
			site_paths_release(&p);
			return 2;
		}
	}
	struct ops_undo *u = calloc(1, sizeof(*u));
	char *local_url = NULL;
	bool made_local_db = false;
	int rc = u ? create_site(&a, &p, u, &made_local_db, &local_url, &e)
		   : err_set(&e, ERR_NOMEM, "out of memory");
	if (rc) {
		ops_print_err(&e);
		if (e.code != ERR_EXISTS && u) {
			if (made_local_db)
				ops_localdb_destroy(p.adir);
			ops_undo_run(u);
			fprintf(stderr, "fathom: nothing was created\n");
		}
	}
	free(u);
	if (a.admin_pw) {
		explicit_bzero(a.admin_pw, strlen(a.admin_pw));
		free(a.admin_pw);
	}
	if (local_url) {
		explicit_bzero(local_url, strlen(local_url));
		free(local_url);
	}
	site_paths_release(&p);
	return rc ? 1 : 0;
}
