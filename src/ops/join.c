/* join.c: `fathom node join` and `fathom node approve`: adding a node to a site on
 * PostgreSQL.
 *
 *   1. node join --dir D2 --share S --db URL --name N   registers N as pending;
 *   2. node approve N --dir D1 (on a node with the site CA) prints a one-time password;
 *   3. node join --dir D2 --password P                  takes N's certificates and finishes.
 *
 * Step 1 checks the database and the share before it creates anything, and undoes what it
 * created if a later step fails. */
#include "cluster/cluster.h"
#include "crypto/crypto.h"
#include "db/db.h"
#include "ops/ops_int.h"
#include "share/share.h"
#include "repo/repo.h"

#include <getopt.h>
#include <jansson.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char join_usage[] =
    "usage: fathom node join --dir DIR --share SHARE --db URL --name NAME [options]\n"
    "       fathom node join --dir DIR --password PASSWORD\n"
    "       fathom node join --dir DIR --share SHARE --db URL --name NAME --password PASSWORD\n"
    "\n"
    "Adds this machine to a site on PostgreSQL. The first form registers the node as\n"
    "pending; approve it on a running node with `fathom node approve NAME --dir DIR`, which\n"
    "prints a one-time password; the second form takes the node's certificates with it.\n"
    "The third joins a node registered and approved through the API (POST\n"
    "/qrs/servernodeconfiguration/container, GET /qrs/servernoderegistration/start/{id}).\n"
    "\n"
    "  --dir DIR               this node's folder (node.conf, certs/, logs/)\n"
    "  --share SHARE           the site's share, mounted here (it must exist)\n"
    "  --db URL                the site's database\n"
    "  --name NAME             this node's name in the site (unique)\n"
    "  --hostname NAME         the name clients use to reach it (default: this host)\n"
    "  --repository-port N     HTTPS port of the repository API (default 4242)\n"
    "  --engine-port N         port of the engine, QIX over secure WebSocket (default 4747;\n"
    "                          0: no QIX sessions on this node)\n"
    "  --proxy-port N          HTTPS port where people sign in (default 443 when the node may\n"
    "                          bind it, else 8443; 0: no proxy on this node)\n"
    "  --proxy-api-port N      HTTPS port of the proxy API (Qlik's QPS: tickets, sessions),\n"
    "                          for services with the site's client certificate (default\n"
    "                          4243; 0: none)\n"
    "  --proxy-http-port N     plain HTTP port that redirects to HTTPS (default 80 or 8080;\n"
    "                          0: none)\n"
    "  --listen ADDR           IPv4 address to listen on (default 0.0.0.0)\n"
    "  --owner USER            hand the node folder to the service user (needs root)\n"
    "  --password PASSWORD     the one-time password from fathom node approve\n";

static const char approve_usage[] =
    "usage: fathom node approve NAME --dir DIR [--valid-for SECONDS]\n"
    "\n"
    "Approves the pending node NAME from a node of the site that holds the site CA (its\n"
    "DIR/certs/root_key.pem), and prints the node's one-time registration password,\n"
    "valid for SECONDS (default 3600).\n";

static const char remove_usage[] =
    "usage: fathom node remove NAME --dir DIR\n"
    "\n"
    "Removes the node NAME from the site of the node in DIR (another node: a node does not\n"
    "remove itself): its certificates are revoked, so that every node refuses its calls\n"
    "within a heartbeat, and its row, heartbeat and registration go. The share and the\n"
    "rest of the repository stay as they are. Stop the node first; a node that holds the\n"
    "central role is not removed (move the role first). The removed node still knows the\n"
    "database's password: change it (fathom secret set) if the machine is not trusted.\n";

static int finish_join(const char *dir, const char *password)
{
	struct err e;
	err_init(&e);
	char conf_path[PATH_MAX], certs[PATH_MAX], probe[PATH_MAX + 16];
	snprintf(conf_path, sizeof(conf_path), "%s/node.conf", dir);
	snprintf(certs, sizeof(certs), "%s/certs", dir);
	snprintf(probe, sizeof(probe), "%s/server.pem", certs);
	struct conf *cf = NULL;
	struct db *db = NULL;
	struct cluster_certs cc = {0};
	struct ops_undo *u = calloc(1, sizeof(*u));
	int rc = conf_load(conf_path, &cf, &e);
	const char *node_id = rc == 0 ? conf_get(cf, "node.id", "") : "";
	if (rc == 0 && path_exists(probe))
		rc = err_set(&e, ERR_EXISTS, "the node in \"%s\" has already joined", dir);
	if (rc == 0)
		rc = ops_open_node_db(cf, dir, &db, &e);
	if (rc == 0)
		rc = cluster_take_certs(db, node_id, password, &cc, &e);
	if (rc == 0 &&
	    ((rc = ops_write_file(u, certs, "root.pem", cc.root, 0644, &e)) ||
	     (rc = ops_write_file(u, certs, "server.pem", cc.server, 0644, &e)) ||
	     (rc = ops_write_file(u, certs, "server_key.pem", cc.server_key, 0600, &e)) ||
	     (rc = ops_write_file(u, certs, "client.pem", cc.client, 0644, &e)) ||
	     (rc = ops_write_file(u, certs, "client_key.pem", cc.client_key, 0600, &e))))
		ops_undo_run(u);
	if (rc == 0) {
		const char *owner = conf_get(cf, "node.owner", NULL);
		struct passwd *pw = owner ? getpwnam(owner) : NULL;
		if (pw && geteuid() == 0)
			rc = ops_chown_tree(certs, pw->pw_uid, pw->pw_gid, &e);
	}
	if (rc == 0)
		printf("node \"%s\" joined the site; start it with:\n  fathom run --dir %s\n",
		       conf_get(cf, "node.name", "?"), dir);
	cluster_certs_release(&cc);
	db_close(db);
	conf_free(cf);
	free(u);
	if (rc)
		ops_print_err(&e);
	return rc ? 1 : 0;
}

/* Checks that the share is there (mounted at `root`) with the service cluster's folders,
 * writable, before anything is created. */
static int check_share(struct db *db, const char *root, struct err *e)
{
	struct conf *cf = conf_new();
	if (!cf)
		return err_set(e, ERR_NOMEM, "out of memory");
	conf_set(cf, "share.root", root);
	struct ops_share os;
	int rc = ops_share_resolve(cf, db, &os, e);
	if (rc) {
		conf_free(cf);
		return rc;
	}
	char defaults[OPS_SHARE_FOLDERS][PATH_MAX + 32];
	static const char *const names[] = {"Apps", "StaticContent", "ArchivedLogs", "CustomData"};
	const char *dirs[] = {root, os.sp.apps, os.sp.static_content, os.sp.archived_logs,
			      os.sp.custom_data};
	for (int i = 0; i < OPS_SHARE_FOLDERS; i++) {
		snprintf(defaults[i], sizeof(defaults[i]), "%s/%s", root, names[i]);
		if (!dirs[i + 1])
			dirs[i + 1] = defaults[i];
	}
	for (size_t i = 0; rc == 0 && i < ARRAY_LEN(dirs); i++) {
		if (!dir_is_writable(dirs[i])) {
			err_set(e, ERR_CONFIG, "share folder \"%s\" is missing or not writable",
				dirs[i]);
			err_hint(e, "a joining node uses the site's share: mount it first");
			rc = ERR_CONFIG;
		}
	}
	if (rc == 0)
		rc = share_probe(dirs[1], e);
	ops_share_release(&os);
	conf_free(cf);
	return rc;
}

/* What `node join` was asked for. */
struct join_args {
	const char *dir, *share, *url, *name, *host, *port_s, *listen, *owner, *password,
	    *engine_port_s, *proxy_port_s, *proxy_http_port_s, *proxy_api_port_s;
	struct passwd *pw; /* the --owner's */
	char hostbuf[256];
};

/* Reads the options into *a. Returns -1 when the command goes on, else the exit status;
 * *out_finish says the call only finishes a join (--password without --db). */
static int parse_join_args(int argc, char **argv, struct join_args *a, bool *out_finish)
{
	static const struct option opts[] = {
	    {"dir", required_argument, NULL, 'd'},
	    {"share", required_argument, NULL, 's'},
	    {"db", required_argument, NULL, 'D'},
	    {"name", required_argument, NULL, 'n'},
	    {"hostname", required_argument, NULL, 'H'},
	    {"repository-port", required_argument, NULL, 'p'},
	    {"engine-port", required_argument, NULL, 'E'},
	    {"proxy-port", required_argument, NULL, 'X'},
	    {"proxy-http-port", required_argument, NULL, 'Y'},
	    {"proxy-api-port", required_argument, NULL, 'Z'},
	    {"listen", required_argument, NULL, 'l'},
	    {"owner", required_argument, NULL, 'O'},
	    {"password", required_argument, NULL, 'P'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	*a = (struct join_args){.port_s = "4242", .listen = "0.0.0.0", .engine_port_s = "4747"};
	*out_finish = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': a->dir = optarg; break;
		case 's': a->share = optarg; break;
		case 'D': a->url = optarg; break;
		case 'n': a->name = optarg; break;
		case 'H': a->host = optarg; break;
		case 'p': a->port_s = optarg; break;
		case 'E': a->engine_port_s = optarg; break;
		case 'X': a->proxy_port_s = optarg; break;
		case 'Y': a->proxy_http_port_s = optarg; break;
		case 'Z': a->proxy_api_port_s = optarg; break;
		case 'l': a->listen = optarg; break;
		case 'O': a->owner = optarg; break;
		case 'P': a->password = optarg; break;
		case 'h': fputs(join_usage, stdout); return 0;
		default: fputs(join_usage, stderr); return 2;
		}
	}
	if (!a->dir || optind < argc) {
		fputs(join_usage, stderr);
		return 2;
	}
	if (a->password && !a->url) {
		*out_finish = true;
		return -1;
	}
	int64_t port, engine_port;
	if (!a->share || !a->url || !a->name || str_to_i64(a->port_s, 1, 65535, &port) != 0 ||
	    str_to_i64(a->engine_port_s, 0, 65535, &engine_port) != 0 ||
	    !ops_proxy_ports_ok(a->proxy_port_s, a->proxy_http_port_s, a->proxy_api_port_s) ||
	    str_has_ctl(a->name, false) || strlen(a->name) > 255) {
		fputs(join_usage, stderr);
		return 2;
	}
	if (!a->host)
		a->host = ops_host_name(a->hostbuf, sizeof(a->hostbuf));
	if (a->owner && (!(a->pw = getpwnam(a->owner)) || geteuid() != 0)) {
		fprintf(stderr, "fathom: --owner needs root and an existing user (\"%s\")\n",
			a->owner);
		return 2;
	}
	return -1;
}

/* The database must hold a Fathom site; *out gets it open. */
static int open_site_to_join(const struct db_config *dc, struct db **out, struct err *e)
{
	int version = 0;
	bool site = false;
	int rc = db_check(dc, &version, e);
	if (rc == 0 && version > 0 && (rc = db_open(dc, out, e)) == 0)
		rc = repo_site_exists(*out, &site, e);
	if (rc == 0 && !site) {
		rc = err_set(e, ERR_CONFIG, "the database holds no Fathom site to join");
		err_hint(e, "create one with fathom site create --db");
	}
	return rc;
}

/* The joining node's node.conf: its database password sealed (`sealed`, may be NULL),
 * the share's root folder mounted at `ashare`. */
static int write_join_conf(const struct join_args *a, struct ops_undo *u, const char *adir,
			   const char *ashare, const char *node_id, const char *bare,
			   const char *sealed, struct err *e)
{
	struct conf *cf = conf_new();
	char conf_path[PATH_MAX];
	snprintf(conf_path, sizeof(conf_path), "%s/node.conf", adir);
	conf_set(cf, "node.id", node_id);
	conf_set(cf, "node.name", a->name);
	conf_set(cf, "node.hostname", a->host);
	if (a->owner)
		conf_set(cf, "node.owner", a->owner);
	conf_set(cf, "repository.port", a->port_s);
	conf_set(cf, "repository.listen", a->listen);
	conf_set(cf, "engine.port", a->engine_port_s);
	ops_conf_proxy_ports(cf, a->proxy_port_s, a->proxy_http_port_s, a->proxy_api_port_s);
	conf_set(cf, "repository.max_upload_bytes", "34359738368");
	conf_set(cf, "repository.max_body_bytes", "16777216");
	conf_set(cf, "database.driver", "postgres");
	conf_set(cf, "database.conninfo", bare);
	if (sealed)
		conf_set(cf, "database.password", sealed);
	/* the other folders are the service cluster's, mapped onto this mount */
	conf_set(cf, "share.root", ashare);
	conf_set(cf, "log.level", "info");
	ops_undo_add(u, conf_path, false);
	int rc = conf_save(cf, conf_path, e);
	conf_free(cf);
	if (rc == 0 && a->pw)
		rc = ops_chown_tree(adir, a->pw->pw_uid, a->pw->pw_gid, e);
	return rc;
}

/* Makes the node folder with its secret key, registers the node (or, with --password,
 * finds the registration the API made) and writes node.conf. */
static int register_join(const struct join_args *a, struct ops_undo *u, struct db *db,
			 const char *adir, const char *ashare, struct err *e)
{
	char certs[PATH_MAX], key_path[PATH_MAX], node_id[UUID_STR_LEN + 1];
	snprintf(certs, sizeof(certs), "%s/certs", adir);
	snprintf(key_path, sizeof(key_path), "%s/secret.key", adir);
	char *bare = NULL, *dbpw = NULL, *sealed = NULL;
	unsigned char key[CRYPTO_KEY_LEN];
	int rc;
	if ((rc = check_share(db, ashare, e)) ||
	    (rc = db_pg_split_password(a->url, &bare, &dbpw, e)) ||
	    (rc = ops_mkdirs(u, adir, 0750, e)) || (rc = ops_mkdirs(u, certs, 0750, e)) ||
	    (rc = crypto_key_create(key_path, e)))
		goto out;
	ops_undo_add(u, key_path, false);
	if ((rc = crypto_key_load(key_path, key, e)) ||
	    (dbpw && (rc = crypto_seal(key, dbpw, &sealed, e))))
		goto out;
	if ((rc = a->password ? cluster_pending_id(db, a->name, node_id, e)
			      : cluster_register(db, a->name, a->host, node_id, e)))
		goto out;
	rc = write_join_conf(a, u, adir, ashare, node_id, bare, sealed, e);
	if (rc == 0 && !a->password)
		printf("node \"%s\" (%s) is registered and waits for approval. Next:\n"
		       "  1. on a running node of the site:  fathom node approve %s --dir "
		       "NODE_DIR\n"
		       "  2. here, with the password it prints:  fathom node join --dir %s "
		       "--password PASSWORD\n",
		       a->name, node_id, a->name, a->dir);
out:
	explicit_bzero(key, sizeof(key));
	if (dbpw) {
		explicit_bzero(dbpw, strlen(dbpw));
		free(dbpw);
	}
	free(bare);
	free(sealed);
	return rc;
}

int ops_node_join(int argc, char **argv)
{
	struct join_args a;
	bool finish;
	int st = parse_join_args(argc, argv, &a, &finish);
	if (st >= 0)
		return st;
	if (finish)
		return finish_join(a.dir, a.password);
	struct err e;
	err_init(&e);
	char *adir = ops_absolute(a.dir), *ashare = ops_absolute(a.share);
	char conf_path[PATH_MAX];
	snprintf(conf_path, sizeof(conf_path), "%s/node.conf", adir);
	struct ops_undo *u = calloc(1, sizeof(*u));
	struct db *db = NULL;
	struct db_config dc = {
	    .kind = DB_POSTGRES, .schema = ops_schema, .conninfo = a.url, .pool_size = 1};
	int rc = 0;
	if (!u)
		rc = err_set(&e, ERR_NOMEM, "out of memory");
	else if (path_exists(conf_path))
		rc = err_set(&e, ERR_EXISTS, "folder \"%s\" already holds a node", adir);
	/* Everything that can be checked is checked before anything is created. */
	else if ((rc = open_site_to_join(&dc, &db, &e)) == 0)
		rc = register_join(&a, u, db, adir, ashare, &e);
	db_close(db);
	if (rc) {
		ops_print_err(&e);
		if (u && (e.code != ERR_EXISTS || u->n)) {
			ops_undo_run(u);
			fprintf(stderr, "fathom: nothing was created\n");
		}
	} else if (a.password && finish_join(adir, a.password) != 0) {
		ops_undo_run(u);
		fprintf(stderr, "fathom: nothing was created\n");
		rc = ERR_CRYPTO; /* finish_join said why */
	}
	free(u);
	free(adir);
	free(ashare);
	return rc ? 1 : 0;
}

int ops_node_approve(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"dir", required_argument, NULL, 'd'},
	    {"valid-for", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *dir = NULL, *ttl_s = "3600";
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 't': ttl_s = optarg; break;
		case 'h': fputs(approve_usage, stdout); return 0;
		default: fputs(approve_usage, stderr); return 2;
		}
	}
	int64_t ttl;
	if (!dir || optind != argc - 1 || str_to_i64(ttl_s, 1, 7 * 86400, &ttl) != 0) {
		fputs(approve_usage, stderr);
		return 2;
	}
	const char *name = argv[optind];
	struct err e;
	err_init(&e);
	char conf_path[PATH_MAX], path[PATH_MAX + 32];
	snprintf(conf_path, sizeof(conf_path), "%s/node.conf", dir);
	struct conf *cf = NULL;
	struct db *db = NULL;
	struct crypto_pem_pair ca = {0};
	char *password = NULL;
	int rc = conf_load(conf_path, &cf, &e);
	if (rc == 0) {
		snprintf(path, sizeof(path), "%s/certs/root.pem", dir);
		rc = file_read_all(path, 1 << 20, &ca.cert, NULL, &e);
	}
	if (rc == 0) {
		snprintf(path, sizeof(path), "%s/certs/root_key.pem", dir);
		rc = file_read_all(path, 1 << 20, &ca.key, NULL, &e);
		if (rc)
			err_hint(&e,
				 "approve on the node that created the site (it holds the CA key)");
	}
	if (rc == 0)
		rc = ops_open_node_db(cf, dir, &db, &e);
	if (rc == 0)
		rc = cluster_approve(db, &ca, name, (int)ttl, &password, &e);
	if (rc == 0) {
		fprintf(stderr,
			"node \"%s\" approved; its one-time registration password, valid for "
			"%lld s:\n",
			name, (long long)ttl);
		printf("%s\n", password);
	}
	free(password);
	crypto_pem_pair_release(&ca);
	db_close(db);
	conf_free(cf);
	if (rc)
		ops_print_err(&e);
	return rc ? 1 : 0;
}

/* "filter=name eq '<name>'" as a query string: the quote doubled, the rest %-encoded. */
static void filter_for_name(const char *name, char *out, size_t n)
{
	size_t o = (size_t)snprintf(out, n, "filter=name%%20eq%%20%%27");
	for (const char *p = name; *p && o + 7 < n; p++) {
		unsigned char ch = (unsigned char)*p;
		if (ch == '\'')
			o += (size_t)snprintf(out + o, n - o, "%%27%%27");
		else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			 (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.')
			out[o++] = (char)ch;
		else
			o += (size_t)snprintf(out + o, n - o, "%%%02X", ch);
	}
	snprintf(out + o, n - o, "%%27");
}

int ops_node_remove(int argc, char **argv)
{
	const char *dir, *name;
	int args = ops_dir_and_word(argc, argv, remove_usage, &dir, &name);
	if (args >= 0)
		return args;
	struct err e;
	err_init(&e);
	struct ops_local l;
	int rc = ops_local_open(dir, &l, &e);
	char *out = NULL, path[128], filter[600];
	json_t *list = NULL;
	const char *id = NULL;
	if (rc == 0) {
		filter_for_name(name, filter, sizeof(filter));
		int st = ops_local_call(&l, "GET", "/qrs/servernodeconfiguration", filter, NULL, 0,
					&out, NULL);
		list = st == 200 && out ? json_loads(out, 0, NULL) : NULL;
		id = json_string_value(json_object_get(json_array_get(list, 0), "id"));
		if (!id)
			rc = err_set(&e, ERR_NOT_FOUND, "the site has no node named \"%s\"", name);
	}
	if (rc == 0) {
		free(out);
		out = NULL;
		snprintf(path, sizeof(path), "/qrs/servernodeconfiguration/%s", id);
		int st = ops_local_call(&l, "DELETE", path, NULL, NULL, 0, &out, NULL);
		if (st != 204) {
			json_t *why = out ? json_loads(out, 0, NULL) : NULL;
			const char *msg = json_string_value(json_object_get(why, "message"));
			const char *hint = json_string_value(json_object_get(why, "hint"));
			rc = err_set(&e, ERR_INVALID, "node \"%s\" was not removed: %s", name,
				     msg ? msg : "no reason given");
			if (hint)
				err_hint(&e, "%s", hint);
			json_decref(why);
		}
	}
	if (rc == 0)
		printf("removed node \"%s\" (%s); its certificates are revoked\n", name, id);
	json_decref(list);
	free(out);
	if (l.cf)
		ops_local_close(&l);
	if (rc)
		ops_print_err(&e);
	return rc ? 1 : 0;
}
