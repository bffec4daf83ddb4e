/* localdb.c: a PostgreSQL 15 instance that the site owns ("the database on one of the
 * nodes"): `site create --local-db` makes it, `fathom db start|stop|status` manage it, and
 * `fathom run` starts it when it is down.
 *
 * The instance lives in DIR/pgdata and runs as the node folder's service user (the --owner
 * of site create, or the user who ran it); PostgreSQL refuses to run as root, so root
 * without --owner runs it as the "postgres" user. Its one role, "fathom", owns the
 * database "fathom" and has a random password that node.conf keeps sealed like any other.
 * Local socket connections (in DIR/pgdata, reachable by that user only) are trusted; TCP
 * needs the password: from this host, and from the hosts of this host's own subnets
 * (pg_hba "samenet"), so nodes on the same network can join. */
#include "ops/ops_int.h"
#include "crypto/crypto.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG_DEFAULT_BIN "/usr/lib/postgresql/15/bin"

/* Where PostgreSQL's programs are: FATHOM_PG_BIN, else the Debian PostgreSQL 15 path. */
static const char *pg_bin(void)
{
	const char *b = getenv("FATHOM_PG_BIN");
	return b && *b ? b : PG_DEFAULT_BIN;
}

static int check_bin(const char *prog, char *out, size_t n, struct err *e)
{
	snprintf(out, n, "%s/%s", pg_bin(), prog);
	if (access(out, X_OK) != 0) {
		err_set(e, ERR_CONFIG, "PostgreSQL 15's %s is not at %s", prog, out);
		err_hint(e, "install postgresql-15 (scripts/deps.sh does), or set FATHOM_PG_BIN to "
			    "the folder that holds initdb and pg_ctl");
		return ERR_CONFIG;
	}
	return 0;
}

/* Runs argv as uid:gid (switching only when it differs from ours), output to `log` (or
 * discarded). Returns the exit status, or -1 when it could not run. */
static int run_as(const char *const argv[], uid_t uid, gid_t gid, const char *log)
{
	struct proc_spec spec = {
	    .argv = argv, .output = log, .quiet = !log, .as_user = true, .uid = uid, .gid = gid};
	struct proc_status st;
	struct err e;
	err_init(&e);
	if (proc_run(&spec, &st, &e) != 0 || st.end != PROC_EXITED)
		return -1;
	return st.code;
}

/* The last line of a log file (where programs say what failed), for an error's detail. */
static void log_tail(const char *path, char *out, size_t n)
{
	out[0] = '\0';
	char *text = NULL;
	size_t len = 0;
	struct err e;
	err_init(&e);
	if (file_read_all(path, 1 << 20, &text, &len, &e) != 0)
		return;
	size_t start = len > n - 1 ? len - (n - 1) : 0;
	const char *nl = start ? memchr(text + start, '\n', len - start) : NULL;
	str_copy(out, nl ? nl + 1 : text + start, n);
	size_t l = strlen(out);
	while (l && (out[l - 1] == '\n' || out[l - 1] == ' '))
		out[--l] = '\0';
	const char *last = strrchr(out, '\n');
	if (last)
		memmove(out, last + 1, strlen(last + 1) + 1);
	free(text);
}

/* Whether uid:gid can open the folder `path` (every parent folder lets it through). */
static bool can_reach_as(const char *path, uid_t uid, gid_t gid)
{
	if (uid == geteuid())
		return true;
	pid_t pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		if (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(uid) != 0)
			_exit(1);
		_exit(access(path, X_OK) == 0 ? 0 : 1);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return false;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* The user PostgreSQL runs as for a new instance. */
static int pick_user(const char *owner, uid_t *uid, gid_t *gid, char *name, size_t n, struct err *e)
{
	if (geteuid() != 0) {
		*uid = geteuid();
		*gid = getegid();
		struct passwd *pw = getpwuid(*uid);
		str_copy(name, pw ? pw->pw_name : "?", n);
		return 0;
	}
	const char *who = owner ? owner : "postgres";
	struct passwd *pw = getpwnam(who);
	if (!pw || pw->pw_uid == 0) {
		err_set(e, ERR_CONFIG, "PostgreSQL cannot run as root, and there is no user \"%s\"",
			who);
		err_hint(e, "give the service user with --owner USER");
		return ERR_CONFIG;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	str_copy(name, who, n);
	return 0;
}

static int pg_ctl(const char *data, const char *action, uid_t uid, gid_t gid, struct err *e)
{
	char prog[PATH_MAX], log[PATH_MAX + 16];
	int rc = check_bin("pg_ctl", prog, sizeof(prog), e);
	if (rc)
		return rc;
	snprintf(log, sizeof(log), "%s/server.log", data);
	const char *start[] = {prog, "-D", data, "-l", log, "-w", "-t", "60", "start", NULL};
	const char *stop[] = {prog, "-D", data, "-m", "fast", "-w", "-t", "60", "stop", NULL};
	const char *promote[] = {prog, "-D", data, "-w", "-t", "60", "promote", NULL};
	bool is_start = strcmp(action, "start") == 0;
	int st = run_as(is_start			 ? start
			: strcmp(action, "promote") == 0 ? promote
							 : stop,
			uid, gid, NULL);
	if (st != 0) {
		char tail[600];
		log_tail(log, tail, sizeof(tail));
		err_set(e, ERR_UNAVAILABLE, "pg_ctl %s failed for %s", action, data);
		if (tail[0])
			err_detail(e, "%s", tail);
		return ERR_UNAVAILABLE;
	}
	return 0;
}

/* Who runs the instance, and that they can reach it. */
struct pg_owner {
	uid_t uid;
	gid_t gid;
	char user[64];
};

/* The service user must reach DIR/pgdata through the node folder, and the socket's path
 * must fit. */
static int check_reach(const struct ops_localdb *ld, const struct pg_owner *o, const char *data,
		       struct err *e)
{
	char sock_probe[PATH_MAX + 32];
	snprintf(sock_probe, sizeof(sock_probe), "%s/.s.PGSQL.%d", data, ld->port);
	if (strlen(sock_probe) >= 108) {
		err_set(e, ERR_CONFIG,
			"the node folder's path is too long for PostgreSQL's socket");
		err_detail(e, "%s is over 107 bytes", sock_probe);
		return ERR_CONFIG;
	}
	if (o->uid != geteuid() && chmod(ld->dir, 0751) != 0)
		return err_set(e, ERR_IO, "cannot open %s to %s: %s", ld->dir, o->user,
			       strerror(errno));
	if (!can_reach_as(ld->dir, o->uid, o->gid)) {
		err_set(e, ERR_IO, "PostgreSQL runs as %s, who cannot reach %s", o->user, ld->dir);
		err_hint(e,
			 "every folder above the node folder must let %s through (o+x), or give "
			 "--owner for a service user who can",
			 o->user);
		return ERR_IO;
	}
	return 0;
}

/* initdb into `data` (made here, so that it may sit in a folder the service user cannot
 * write) with role "fathom" and `password`. On failure nothing is left. */
static int run_initdb(const struct ops_localdb *ld, const struct pg_owner *o, const char *initdb,
		      const char *data, const char *password, struct err *e)
{
	if (mkdir(data, 0700) != 0)
		return err_set(e, ERR_IO, "cannot create %s: %s", data, strerror(errno));
	if (chown(data, o->uid, o->gid) != 0 && geteuid() == 0) {
		rmdir(data);
		return err_set(e, ERR_IO, "cannot hand %s to %s: %s", data, o->user,
			       strerror(errno));
	}
	char pwfile[PATH_MAX];
	snprintf(pwfile, sizeof(pwfile), "%s/.pgpass.tmp", ld->dir);
	int rc = file_write_atomic(pwfile, password, strlen(password), 0600, e);
	if (rc) {
		rmdir(data);
		return rc;
	}
	if (chown(pwfile, o->uid, o->gid) != 0 && geteuid() == 0) {
		unlink(pwfile);
		rmdir(data);
		return err_set(e, ERR_IO, "cannot hand %s to %s: %s", pwfile, o->user,
			       strerror(errno));
	}
	char pwarg[PATH_MAX + 16], log[PATH_MAX + 16];
	snprintf(pwarg, sizeof(pwarg), "--pwfile=%s", pwfile);
	snprintf(log, sizeof(log), "%s/initdb.log", ld->dir);
	printf("initialising PostgreSQL in %s (as %s) ...\n", data, o->user);
	fflush(stdout);
	const char *args[] = {
	    initdb, "-D",	data,	   "-U",	   "fathom", pwarg,	    "-E",
	    "UTF8", "--locale", "C.UTF-8", "--auth-local", "trust",  "--auth-host", "scram-sha-256",
	    NULL};
	int st = run_as(args, o->uid, o->gid, log);
	unlink(pwfile);
	if (st == 0) {
		unlink(log);
		return 0;
	}
	char tail[600];
	log_tail(log, tail, sizeof(tail));
	err_set(e, ERR_IO, "initdb failed (exit %d)", st);
	if (tail[0])
		err_detail(e, "%s", tail);
	unlink(log);
	dir_remove_all(data, &(struct err){0});
	return ERR_IO;
}

/* Appends `text` to the file at `path` (written anew, atomically, mode 0600) and hands it
 * to the instance's user. */
static int append_to(const char *path, const char *text, const struct pg_owner *o, struct err *e)
{
	char *old = NULL;
	size_t len = 0;
	int rc = file_read_all(path, 1 << 20, &old, &len, e);
	if (rc == 0) {
		struct buf b;
		buf_init(&b, 2 << 20);
		rc = buf_append(&b, old, len);
		if (rc == 0)
			rc = buf_puts(&b, text);
		if (rc == 0)
			rc = file_write_atomic(path, b.data, b.len, 0600, e);
		buf_release(&b);
		free(old);
	}
	if (rc == 0 && geteuid() == 0 && chown(path, o->uid, o->gid) != 0)
		rc = err_set(e, ERR_IO, "cannot hand %s to %s", path, o->user);
	return rc;
}

/* The instance's port, addresses and socket, and pg_hba.conf's line for the site's nodes
 * on this host's networks. */
static int configure(const struct ops_localdb *ld, const struct pg_owner *o, const char *data,
		     struct err *e)
{
	char conf[PATH_MAX + 32], hba[PATH_MAX + 32], text[PATH_MAX * 2];
	snprintf(conf, sizeof(conf), "%s/postgresql.auto.conf", data);
	snprintf(text, sizeof(text),
		 "# Written by fathom site create --local-db.\n"
		 "port = %d\n"
		 "listen_addresses = '%s'\n"
		 "unix_socket_directories = '%s'\n"
		 "password_encryption = scram-sha-256\n",
		 ld->port, strcmp(ld->listen, "0.0.0.0") == 0 ? "*" : ld->listen, data);
	snprintf(hba, sizeof(hba), "%s/pg_hba.conf", data);
	int rc = file_write_atomic(conf, text, strlen(text), 0600, e);
	if (rc == 0 && geteuid() == 0 && chown(conf, o->uid, o->gid) != 0)
		rc = err_set(e, ERR_IO, "cannot hand %s to %s", conf, o->user);
	if (rc == 0)
		rc = append_to(hba,
			       "\n# fathom: the site's nodes on this host's networks, and standbys "
			       "(fathom db standby)\n"
			       "host fathom fathom samenet scram-sha-256\n"
			       "host replication fathom samenet scram-sha-256\n",
			       o, e);
	return rc;
}

/* Starts the instance and creates database "fathom"; stops it again when that fails. */
static int start_and_create(const struct ops_localdb *ld, const struct pg_owner *o,
			    const char *createdb, const char *data, struct err *e)
{
	int rc = pg_ctl(data, "start", o->uid, o->gid, e);
	if (rc)
		return rc;
	char port[16], log[PATH_MAX + 16];
	snprintf(port, sizeof(port), "%d", ld->port);
	snprintf(log, sizeof(log), "%s/createdb.log", data);
	const char *cargs[] = {createdb, "-h", data, "-p", port, "-U", "fathom", "fathom", NULL};
	if (run_as(cargs, o->uid, o->gid, log) != 0) {
		char tail[600];
		log_tail(log, tail, sizeof(tail));
		rc = err_set(e, ERR_DB, "createdb failed");
		if (tail[0])
			err_detail(e, "%s", tail);
	}
	unlink(log);
	if (rc) {
		struct err ignore;
		err_init(&ignore);
		(void)pg_ctl(data, "stop", o->uid, o->gid, &ignore);
	}
	return rc;
}

int ops_localdb_create(const struct ops_localdb *ld, char **out_url, struct err *e)
{
	*out_url = NULL;
	char initdb[PATH_MAX], createdb[PATH_MAX], data[PATH_MAX];
	struct pg_owner o;
	int rc;
	if ((rc = check_bin("initdb", initdb, sizeof(initdb), e)) ||
	    (rc = check_bin("createdb", createdb, sizeof(createdb), e)) ||
	    (rc = pick_user(ld->owner, &o.uid, &o.gid, o.user, sizeof(o.user), e)))
		return rc;
	snprintf(data, sizeof(data), "%s/pgdata", ld->dir);
	char password[33];
	crypto_random_password(password, sizeof(password) - 1);
	if ((rc = check_reach(ld, &o, data, e)) ||
	    (rc = run_initdb(ld, &o, initdb, data, password, e)))
		return rc;
	/* From here on, a failure removes the instance again. */
	if ((rc = configure(ld, &o, data, e)) == 0)
		rc = start_and_create(ld, &o, createdb, data, e);
	char *url = rc == 0 ? malloc(256) : NULL;
	if (rc == 0 && !url) {
		rc = err_set(e, ERR_NOMEM, "out of memory");
		(void)pg_ctl(data, "stop", o.uid, o.gid, &(struct err){0});
	}
	if (rc) {
		explicit_bzero(password, sizeof(password));
		dir_remove_all(data, &(struct err){0});
		return rc;
	}
	snprintf(url, 256, "postgresql://fathom:%s@127.0.0.1:%d/fathom", password, ld->port);
	explicit_bzero(password, sizeof(password));
	*out_url = url;
	printf("PostgreSQL 15 runs on port %d (data in %s, log in %s/server.log)\n", ld->port, data,
	       data);
	return 0;
}

void ops_localdb_destroy(const char *dir)
{
	char data[PATH_MAX];
	snprintf(data, sizeof(data), "%s/pgdata", dir);
	struct stat st;
	if (stat(data, &st) != 0)
		return;
	struct err e;
	err_init(&e);
	(void)pg_ctl(data, "stop", st.st_uid, st.st_gid, &e);
	dir_remove_all(data, &(struct err){0});
}

/* Whether the instance in `data` runs: pg_ctl status exits 0 when it does, 3 when not. */
static int status_of(const char *data, uid_t uid, gid_t gid, bool *out, struct err *e)
{
	char prog[PATH_MAX];
	int rc = check_bin("pg_ctl", prog, sizeof(prog), e);
	if (rc)
		return rc;
	const char *args[] = {prog, "-D", data, "status", NULL};
	int st = run_as(args, uid, gid, NULL);
	if (st != 0 && st != 3)
		return err_set(e, ERR_IO, "pg_ctl status failed for %s (exit %d)", data, st);
	*out = st == 0;
	return 0;
}

int ops_localdb_ensure_running(const char *dir, struct err *e)
{
	char data[PATH_MAX];
	snprintf(data, sizeof(data), "%s/pgdata", dir);
	struct stat st;
	if (stat(data, &st) != 0)
		return 0; /* no local database */
	bool up = false;
	int rc = status_of(data, st.st_uid, st.st_gid, &up, e);
	if (rc || up)
		return rc;
	log_info("starting the site's PostgreSQL in %s", data);
	return pg_ctl(data, "start", st.st_uid, st.st_gid, e);
}

/* ---------------------------------------------------------------- standby */

struct standby_args {
	const char *dir, *primary, *listen, *owner, *name;
	int port;
};

/* A password as a .pgpass field: ':' and '\\' escaped. */
static void pgpass_field(const char *in, char *out, size_t n)
{
	size_t k = 0;
	for (; *in && k + 2 < n; in++) {
		if (*in == ':' || *in == '\\')
			out[k++] = '\\';
		out[k++] = *in;
	}
	out[k] = '\0';
}

/* A replication slot's name from the standby's name: lower-case letters, digits and '_'. */
static void slot_name(const char *name, char *out, size_t n)
{
	size_t k = (size_t)snprintf(out, n, "fathom_");
	for (; *name && k + 1 < n && k < 63; name++)
		out[k++] =
		    isalnum((unsigned char)*name) ? (char)tolower((unsigned char)*name) : '_';
	out[k] = '\0';
}

/* The standby's own port, addresses and socket after what pg_basebackup copied (and the
 * primary_conninfo it wrote). */
static int standby_configure(const struct standby_args *a, const struct pg_owner *o,
			     const char *data, struct err *e)
{
	char conf[PATH_MAX + 32], text[PATH_MAX * 2];
	snprintf(conf, sizeof(conf), "%s/postgresql.auto.conf", data);
	snprintf(text, sizeof(text),
		 "# Written by fathom db standby.\n"
		 "port = %d\n"
		 "listen_addresses = '%s'\n"
		 "unix_socket_directories = '%s'\n"
		 "hot_standby = on\n",
		 a->port, strcmp(a->listen, "0.0.0.0") == 0 ? "*" : a->listen, data);
	return append_to(conf, text, o, e);
}

/* pg_basebackup of the primary into `data`, a slot made for the standby, and the standby's
 * connection written (-R) with the password in a passfile beside it, not in the command
 * line or the configuration. */
static int base_backup(const struct standby_args *a, const struct pg_owner *o, const char *data,
		       const char *passfile, struct err *e)
{
	char prog[PATH_MAX], log[PATH_MAX + 16], slot[80];
	int rc = check_bin("pg_basebackup", prog, sizeof(prog), e);
	char *bare = NULL, *password = NULL;
	if (rc == 0)
		rc = db_pg_split_password(a->primary, &bare, &password, e);
	if (rc == 0 && !password)
		rc = err_set(e, ERR_CONFIG, "--primary needs the role's password");
	if (rc == 0) {
		char field[512], line[600];
		pgpass_field(password, field, sizeof(field));
		snprintf(line, sizeof(line), "*:*:*:*:%s\n", field);
		rc = file_write_atomic(passfile, line, strlen(line), 0600, e);
		explicit_bzero(line, sizeof(line));
		explicit_bzero(field, sizeof(field));
		if (rc == 0 && geteuid() == 0 && chown(passfile, o->uid, o->gid) != 0)
			rc = err_set(e, ERR_IO, "cannot hand %s to %s", passfile, o->user);
	}
	char conninfo[4096];
	slot_name(a->name, slot, sizeof(slot));
	if (rc == 0 &&
	    snprintf(conninfo, sizeof(conninfo), "%s passfile='%s' application_name='%s'", bare,
		     passfile, slot) >= (int)sizeof(conninfo))
		rc = err_set(e, ERR_INVALID, "the primary's connection string is too long");
	if (rc == 0) {
		snprintf(log, sizeof(log), "%s/basebackup.log", a->dir);
		printf("copying the primary's database into %s (as %s) ...\n", data, o->user);
		fflush(stdout);
		const char *args[] = {prog, "-D", data, "-d", conninfo, "-X",	"stream",
				      "-R", "-C", "-S", slot, "-c",	"fast", "--no-password",
				      NULL};
		int st = run_as(args, o->uid, o->gid, log);
		if (st != 0) {
			char tail[600];
			log_tail(log, tail, sizeof(tail));
			rc = err_set(e, ERR_DB, "pg_basebackup failed (exit %d)", st);
			if (tail[0])
				err_detail(e, "%s", tail);
			err_hint(e,
				 "the primary's role needs REPLICATION, pg_hba.conf a replication "
				 "line for this host, and no slot named %s yet",
				 slot);
		} else {
			unlink(log);
		}
	}
	if (password)
		explicit_bzero(password, strlen(password));
	free(password);
	free(bare);
	return rc;
}

static int db_standby(const struct standby_args *a, struct err *e)
{
	char data[PATH_MAX], passfile[PATH_MAX];
	struct pg_owner o;
	struct ops_localdb ld = {.dir = a->dir, .port = a->port, .listen = a->listen};
	int rc = pick_user(a->owner, &o.uid, &o.gid, o.user, sizeof(o.user), e);
	snprintf(data, sizeof(data), "%s/pgdata", a->dir);
	snprintf(passfile, sizeof(passfile), "%s/standby.pgpass", a->dir);
	struct stat st;
	if (rc == 0 && stat(data, &st) == 0)
		rc = err_set(e, ERR_EXISTS, "%s holds a database already", data);
	if (rc == 0 && dir_make_all(a->dir, 0750, e) != 0)
		rc = e->code;
	if (rc == 0)
		rc = check_reach(&ld, &o, data, e);
	if (rc == 0 && mkdir(data, 0700) != 0)
		rc = err_set(e, ERR_IO, "cannot create %s: %s", data, strerror(errno));
	if (rc == 0 && geteuid() == 0 && chown(data, o.uid, o.gid) != 0)
		rc = err_set(e, ERR_IO, "cannot hand %s to %s", data, o.user);
	bool made = rc == 0;
	if (rc == 0)
		rc = base_backup(a, &o, data, passfile, e);
	if (rc == 0)
		rc = standby_configure(a, &o, data, e);
	if (rc == 0)
		rc = pg_ctl(data, "start", o.uid, o.gid, e);
	if (rc && made) { /* nothing half made stays */
		dir_remove_all(data, &(struct err){0});
		unlink(passfile);
	}
	return rc;
}

static const char standby_usage[] =
    "usage: fathom db standby --dir DIR --primary URL --port PORT [--listen ADDR]\n"
    "                         [--name NAME] [--owner USER]\n"
    "       fathom db promote --dir DIR\n"
    "\n"
    "standby  makes DIR/pgdata a PostgreSQL 15 streaming replica of the primary at URL (a\n"
    "         role with REPLICATION and its password: the local database's own role\n"
    "         has it) and starts it on PORT: a base backup, a replication slot on the\n"
    "         primary named after NAME (default: this host), and the connection to the\n"
    "         primary with its password in DIR/standby.pgpass. fathom db start, stop and\n"
    "         status manage it afterwards.\n"
    "promote  makes the standby in DIR the primary (it takes writes from then on).\n";

static int standby_command(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"dir", required_argument, NULL, 'd'},  {"primary", required_argument, NULL, 'p'},
	    {"port", required_argument, NULL, 'P'}, {"listen", required_argument, NULL, 'l'},
	    {"name", required_argument, NULL, 'n'}, {"owner", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},	    {NULL, 0, NULL, 0}};
	char host[256];
	struct standby_args a = {.listen = "127.0.0.1", .name = ops_host_name(host, sizeof(host))};
	const char *port = NULL;
	int c;
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': a.dir = optarg; break;
		case 'p': a.primary = optarg; break;
		case 'P': port = optarg; break;
		case 'l': a.listen = optarg; break;
		case 'n': a.name = optarg; break;
		case 'o': a.owner = optarg; break;
		case 'h': fputs(standby_usage, stdout); return 0;
		default: fputs(standby_usage, stderr); return 2;
		}
	}
	int64_t p = 0;
	if (!a.dir || !a.primary || !port || str_to_i64(port, 1, 65535, &p) != 0 ||
	    optind != argc) {
		fputs(standby_usage, stderr);
		return 2;
	}
	a.port = (int)p;
	struct err e;
	err_init(&e);
	if (db_standby(&a, &e) != 0) {
		ops_print_err(&e);
		fprintf(stderr, "fathom: no standby was made\n");
		return 1;
	}
	char slot[80];
	slot_name(a.name, slot, sizeof(slot));
	printf("the standby runs on port %d (data in %s/pgdata), streaming from the primary\n"
	       "through slot %s; promote it with: fathom db promote --dir %s\n",
	       a.port, a.dir, slot, a.dir);
	return 0;
}

static int promote_command(const char *dir)
{
	char data[PATH_MAX], signal[PATH_MAX + 32];
	snprintf(data, sizeof(data), "%s/pgdata", dir);
	snprintf(signal, sizeof(signal), "%s/standby.signal", data);
	struct stat st;
	struct err e;
	err_init(&e);
	int rc = 0;
	if (stat(data, &st) != 0)
		rc = err_set(&e, ERR_NOT_FOUND, "%s holds no database (no %s)", dir, data);
	else if (access(signal, F_OK) != 0)
		rc = err_set(&e, ERR_INVALID, "the database in %s is not a standby", data);
	else
		rc = pg_ctl(data, "promote", st.st_uid, st.st_gid, &e);
	if (rc) {
		ops_print_err(&e);
		return 1;
	}
	printf("promoted: %s takes writes now; the old primary must not (stop it, or make it a "
	       "standby of this one)\n",
	       data);
	return 0;
}

static const char db_usage[] =
    "usage: fathom db start|stop|status|promote --dir DIR\n"
    "       fathom db standby --dir DIR --primary URL --port PORT (see fathom db standby -h)\n"
    "\n"
    "Manages the PostgreSQL instance a site made with `site create --local-db` owns\n"
    "(in DIR/pgdata). `fathom run` starts it when it is down; stop it only when no node\n"
    "of the site runs, or they answer 503 until it is back.\n"
    "\n"
    "  start     start it (waits until it accepts connections)\n"
    "  stop      stop it (fast shutdown: clients are disconnected)\n"
    "  status    say whether it runs; exit 0 when it does, 3 when it does not\n"
    "  promote   make a standby (fathom db standby) the primary\n"
    "  --dir DIR the node folder\n"
    "  -h, --help\n";

int ops_db(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "standby") == 0)
		return standby_command(argc, argv);
	const char *dir, *action;
	int args = ops_dir_and_word(argc, argv, db_usage, &dir, &action);
	if (args >= 0)
		return args;
	if (strcmp(action, "promote") == 0)
		return promote_command(dir);
	if (strcmp(action, "start") != 0 && strcmp(action, "stop") != 0 &&
	    strcmp(action, "status") != 0) {
		fprintf(stderr,
			"fathom: db takes start, stop, status, standby or promote, not "
			"\"%s\"\n%s",
			action, db_usage);
		return 2;
	}
	char data[PATH_MAX];
	snprintf(data, sizeof(data), "%s/pgdata", dir);
	struct stat st;
	if (stat(data, &st) != 0) {
		fprintf(stderr,
			"fathom: %s has no site database of its own (no %s)\n"
			"  hint: only a site made with `fathom site create --local-db` has one\n",
			dir, data);
		return 1;
	}
	if (geteuid() != 0 && geteuid() != st.st_uid) {
		struct passwd *pw = getpwuid(st.st_uid);
		fprintf(stderr, "fathom: the database in %s belongs to %s; run this as that user\n",
			data, pw ? pw->pw_name : "another user");
		return 1;
	}
	struct err e;
	err_init(&e);
	bool up = false;
	int rc = status_of(data, st.st_uid, st.st_gid, &up, &e);
	if (rc == 0 && strcmp(action, "status") == 0) {
		printf("%s: %s\n", data, up ? "running" : "stopped");
		return up ? 0 : 3;
	}
	if (rc == 0 && strcmp(action, "start") == 0) {
		if (up)
			printf("already running: %s\n", data);
		else if ((rc = pg_ctl(data, "start", st.st_uid, st.st_gid, &e)) == 0)
			printf("started: %s\n", data);
	}
	if (rc == 0 && strcmp(action, "stop") == 0) {
		if (!up)
			printf("already stopped: %s\n", data);
		else if ((rc = pg_ctl(data, "stop", st.st_uid, st.st_gid, &e)) == 0)
			printf("stopped: %s\n", data);
	}
	if (rc) {
		ops_print_err(&e);
		return 1;
	}
	return 0;
}
