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

int ops_site_create(int argc, char **argv)
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
	const char *dir = NULL, *share = NULL, *apps = NULL, *stat_c = NULL, *logs = NULL,
		   *custom = NULL, *port_s = "4242", *listen = "0.0.0.0", *host = NULL,
		   *name = NULL, *max_up = "34359738368", *db_url = NULL, *owner = NULL,
		   *local_port_s = "4432", *engine_port_s = "4747";
	bool local_db = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 's': share = optarg; break;
		case 'A': apps = optarg; break;
		case 'S': stat_c = optarg; break;
		case 'L': logs = optarg; break;
		case 'C': custom = optarg; break;
		case 'p': port_s = optarg; break;
		case 'E': engine_port_s = optarg; break;
		case 'l': listen = optarg; break;
		case 'H': host = optarg; break;
		case 'n': name = optarg; break;
		case 'm': max_up = optarg; break;
		case 'D': db_url = optarg; break;
		case 'O': owner = optarg; break;
		case 'B': local_db = true; break;
		case 'P': local_port_s = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "fathom: unexpected argument \"%s\"\n%s", argv[optind], usage);
		return 2;
	}
	if (!dir || !share) {
		fprintf(stderr, "fathom: site create needs --dir and --share\n%s", usage);
		return 2;
	}
	if (local_db && db_url) {
		fprintf(stderr, "fathom: give --db or --local-db, not both\n");
		return 2;
	}
	int64_t port, max_upload, local_port;
	if (str_to_i64(local_port_s, 1, 65535, &local_port) != 0) {
		fprintf(stderr,
			"fathom: --local-db-port must be a port number (1-65535), not \"%s\"\n",
			local_port_s);
		return 2;
	}
	if (str_to_i64(port_s, 1, 65535, &port) != 0) {
		fprintf(stderr,
			"fathom: --repository-port must be a port number (1-65535), not \"%s\"\n",
			port_s);
		return 2;
	}
	int64_t engine_port;
	if (str_to_i64(engine_port_s, 0, 65535, &engine_port) != 0) {
		fprintf(stderr,
			"fathom: --engine-port must be a port number (0-65535), not \"%s\"\n",
			engine_port_s);
		return 2;
	}
	if (str_to_i64(max_up, 1, INT64_MAX, &max_upload) != 0) {
		fprintf(stderr, "fathom: --max-upload-bytes must be a positive number\n");
		return 2;
	}
	char hostbuf[256];
	if (!host)
		host = ops_host_name(hostbuf, sizeof(hostbuf));
	if (!name)
		name = host;
	uid_t owner_uid = 0;
	gid_t owner_gid = 0;
	if (owner) {
		struct passwd *pw = getpwnam(owner);
		if (!pw) {
			fprintf(stderr, "fathom: --owner: there is no user \"%s\"\n", owner);
			return 2;
		}
		if (geteuid() != 0) {
			fprintf(stderr,
				"fathom: --owner needs root (to hand the files to \"%s\")\n",
				owner);
			return 2;
		}
		owner_uid = pw->pw_uid;
		owner_gid = pw->pw_gid;
	}
	if (str_has_ctl(name, false) || strlen(name) > 255 || str_has_ctl(host, false)) {
		fprintf(stderr, "fathom: --name and --hostname must be printable and short\n");
		return 2;
	}

	struct err e;
	err_init(&e);
	char *adir = ops_absolute(dir), *ashare = ops_absolute(share);
	char *aapps = apps ? ops_absolute(apps) : NULL,
	     *astat = stat_c ? ops_absolute(stat_c) : NULL;
	char *alogs = logs ? ops_absolute(logs) : NULL,
	     *acust = custom ? ops_absolute(custom) : NULL;
	char conf_path[PATH_MAX], db_path[PATH_MAX], certs[PATH_MAX];
	snprintf(conf_path, sizeof(conf_path), "%s/node.conf", adir);
	snprintf(db_path, sizeof(db_path), "%s/repository.db", adir);
	snprintf(certs, sizeof(certs), "%s/certs", adir);
	struct ops_undo *u = calloc(1, sizeof(*u));
	struct db *db = NULL;
	char *local_url = NULL;
	bool made_local_db = false;
	int rc = 0;
	char pgdata[PATH_MAX + 8];
	snprintf(pgdata, sizeof(pgdata), "%s/pgdata", adir);
	if (path_exists(conf_path) || path_exists(db_path) || (local_db && path_exists(pgdata))) {
		rc = err_set(&e, ERR_EXISTS, "folder \"%s\" already holds a site", adir);
		err_hint(&e,
			 "nothing was changed; choose another --dir, or run the site with "
			 "fathom run --dir %s",
			 dir);
		goto out;
	}
	if (local_db) {
		/* The site's own instance comes first: everything after uses it like --db. */
		struct ops_localdb ld = {adir, (int)local_port, listen, owner};
		if ((rc = ops_mkdirs(u, adir, 0750, &e)) ||
		    (rc = ops_localdb_create(&ld, &local_url, &e)))
			goto out;
		made_local_db = true;
		db_url = local_url;
	}
	/* A shared database is checked before anything is created: it must answer, and it
	 * must not already hold a site. */
	struct db_config pg = {
	    .kind = DB_POSTGRES, .schema = ops_schema, .conninfo = db_url, .pool_size = 1};
	if (db_url) {
		int version = 0;
		if ((rc = db_check(&pg, &version, &e)))
			goto out;
		if (version > 0) {
			struct db *probe = NULL;
			bool exists = false;
			if ((rc = db_open(&pg, &probe, &e)) == 0)
				rc = repo_site_exists(probe, &exists, &e);
			db_close(probe);
			if (rc)
				goto out;
			if (exists) {
				rc = err_set(&e, ERR_EXISTS,
					     "the database already holds a Fathom site");
				err_hint(&e,
					 "nothing was changed; to add this machine to that site, "
					 "join it as a node (fathom node join)");
				goto out;
			}
		}
	}
	if ((rc = ops_mkdirs(u, adir, 0750, &e)) || (rc = ops_mkdirs(u, certs, 0750, &e)))
		goto out;
	if ((rc = make_certs(u, certs, host, name, &e)))
		goto out;

	char d_apps[PATH_MAX], d_stat[PATH_MAX], d_logs[PATH_MAX], d_cust[PATH_MAX];
	snprintf(d_apps, sizeof(d_apps), "%s/Apps", ashare);
	snprintf(d_stat, sizeof(d_stat), "%s/StaticContent", ashare);
	snprintf(d_logs, sizeof(d_logs), "%s/ArchivedLogs", ashare);
	snprintf(d_cust, sizeof(d_cust), "%s/CustomData", ashare);
	struct share_paths sp = {ashare, aapps ? aapps : d_apps, astat ? astat : d_stat,
				 alogs ? alogs : d_logs, acust ? acust : d_cust};
	const char *share_dirs[] = {sp.root, sp.apps, sp.static_content, sp.archived_logs,
				    sp.custom_data};
	for (size_t i = 0; i < ARRAY_LEN(share_dirs) && rc == 0; i++)
		rc = ops_mkdirs(u, share_dirs[i], 0750, &e);
	static const char *const sub[] = {"AppContent", "Content", "Extensions", "DefaultApps"};
	for (size_t i = 0; i < ARRAY_LEN(sub) && rc == 0; i++) {
		char p[PATH_MAX + 32];
		snprintf(p, sizeof(p), "%s/%s", sp.static_content, sub[i]);
		rc = ops_mkdirs(u, p, 0750, &e);
	}
	if (rc)
		goto out;

	struct db_config dc = {.kind = DB_SQLITE,
			       .schema = ops_schema,
			       .path = db_path,
			       .pool_size = 1,
			       .create = true};
	if (!db_url) {
		ops_undo_add(u, db_path, false);
		char side[PATH_MAX + 8];
		snprintf(side, sizeof(side), "%s-wal", db_path);
		ops_undo_add(u, side, false);
		snprintf(side, sizeof(side), "%s-shm", db_path);
		ops_undo_add(u, side, false);
	}
	if ((rc = db_open(db_url ? &pg : &dc, &db, &e)))
		goto out;
	if (!db_url)
		chmod(db_path, 0640);
	char node_id[UUID_STR_LEN + 1];
	struct repo_site_init init = {name, host, &sp};
	if ((rc = repo_site_init(db, &init, node_id, &e)))
		goto out;
	db_close(db);
	db = NULL;

	struct conf *cf = conf_new();
	char port_str[16];
	snprintf(port_str, sizeof(port_str), "%lld", (long long)port);
	conf_set(cf, "node.id", node_id);
	conf_set(cf, "node.name", name);
	conf_set(cf, "node.hostname", host);
	conf_set(cf, "repository.port", port_str);
	conf_set(cf, "repository.listen", listen);
	conf_set(cf, "engine.port", engine_port_s);
	conf_set(cf, "repository.max_upload_bytes", max_up);
	conf_set(cf, "repository.max_body_bytes", "16777216");
	if (db_url) {
		/* node.conf never holds the password in clear: it is sealed with secret.key. */
		char *bare = NULL, *password = NULL, *sealed = NULL, key_path[PATH_MAX];
		unsigned char key[CRYPTO_KEY_LEN];
		snprintf(key_path, sizeof(key_path), "%s/secret.key", adir);
		rc = db_pg_split_password(db_url, &bare, &password, &e);
		if (rc == 0 && (rc = crypto_key_create(key_path, &e)) == 0)
			ops_undo_add(u, key_path, false);
		if (rc == 0)
			rc = crypto_key_load(key_path, key, &e);
		if (rc == 0 && password)
			rc = crypto_seal(key, password, &sealed, &e);
		if (rc == 0) {
			conf_set(cf, "database.driver", "postgres");
			conf_set(cf, "database.conninfo", bare);
			if (sealed)
				conf_set(cf, "database.password", sealed);
		}
		free(bare);
		free(password);
		free(sealed);
		if (rc) {
			conf_free(cf);
			goto out;
		}
	} else {
		conf_set(cf, "database.driver", "sqlite");
		conf_set(cf, "database.path", db_path);
	}
	conf_set(cf, "share.root", sp.root);
	conf_set(cf, "share.apps", sp.apps);
	conf_set(cf, "share.static_content", sp.static_content);
	conf_set(cf, "share.archived_logs", sp.archived_logs);
	conf_set(cf, "share.custom_data", sp.custom_data);
	conf_set(cf, "log.level", "info");
	ops_undo_add(u, conf_path,
		     false); /* the last file written; also undone if a later step fails */
	rc = conf_save(cf, conf_path, &e);
	conf_free(cf);
	if (rc)
		goto out;
	if (owner) {
		const char *roots[] = {
		    adir, sp.root, sp.apps, sp.static_content, sp.archived_logs, sp.custom_data};
		for (size_t i = 0; i < ARRAY_LEN(roots) && rc == 0; i++)
			rc = ops_chown_tree(roots[i], owner_uid, owner_gid, &e);
		if (rc)
			goto out;
	}
	printf("created site in %s\n"
	       "  node:        %s (%s)\n"
	       "  share:       %s\n"
	       "  repository:  https://%s:%lld/qrs (mutual TLS; client certificate in %s)\n"
	       "start it with:\n"
	       "  fathom run --dir %s\n",
	       adir, name, node_id, sp.root, host, (long long)port, certs, dir);
	if (local_db)
		printf("other nodes join with:\n"
		       "  fathom node join --db 'postgresql://fathom:PASSWORD@%s:%lld/fathom' ...\n"
		       "  (PASSWORD: fathom secret show --dir %s)\n",
		       host, (long long)local_port, dir);
out:
	if (db)
		db_close(db);
	if (rc) {
		ops_print_err(&e);
		if (e.code != ERR_EXISTS) {
			if (made_local_db)
				ops_localdb_destroy(adir);
			ops_undo_run(u);
			fprintf(stderr, "fathom: nothing was created\n");
		}
	}
	free(u);
	if (local_url) {
		explicit_bzero(local_url, strlen(local_url));
		free(local_url);
	}
	free(adir);
	free(ashare);
	free(aapps);
	free(astat);
	free(alogs);
	free(acust);
	return rc ? 1 : 0;
}
