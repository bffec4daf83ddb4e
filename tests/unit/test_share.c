/* test_share.c: share layout, app generations, recovery and garbage collection. */
#include "unit.h"

#include "crypto/crypto.h"
#include "share/share.h"

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static char *live_gen; /* "id.gen" that is_live reports live */

static int is_live(void *ctx, const char *id, const char *gen)
{
	(void)ctx;
	char both[200];
	snprintf(both, sizeof(both), "%s.%s", id, gen);
	return live_gen && strcmp(both, live_gen) == 0;
}

static int count_files(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	for (struct dirent *de; (de = readdir(d));)
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	closedir(d);
	return n;
}

static struct share *open_share(const char *dir, struct err *e)
{
	char root[4200], journal[4200];
	snprintf(root, sizeof(root), "%s/share", dir);
	snprintf(journal, sizeof(journal), "%s/pending", dir);
	struct share_paths p = {.root = root};
	assert_int_equal(share_layout_create(&p, e), 0);
	struct share *s = NULL;
	assert_int_equal(share_open(&p, "node-a", journal, &s, e), 0);
	return s;
}

static void open_checks(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	char root[4200], journal[4200];
	snprintf(root, sizeof(root), "%s/none", dir);
	snprintf(journal, sizeof(journal), "%s/pending", dir);
	struct share_paths p = {.root = root};
	struct share *s = NULL;
	struct err e;
	err_init(&e);
	assert_int_equal(share_open(&p, "n", journal, &s, &e), ERR_CONFIG);
	assert_null(s);
	assert_non_null(strstr(e.message, "does not exist"));
	rm_tree(dir);
}

static void write_commit_and_abort(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	struct err e;
	err_init(&e);
	struct share *s = open_share(dir, &e);
	char apps[4200], journal[4200];
	snprintf(apps, sizeof(apps), "%s", share_apps_dir(s));
	snprintf(journal, sizeof(journal), "%s/pending", dir);

	struct share_writer *w;
	assert_int_equal(share_writer_begin(s, "app1", "g1", 10, &w, &e), 0);
	assert_int_equal(share_writer_write(w, "hello", 5, &e), 0);
	assert_int_equal(share_writer_write(w, "world!", 6, &e), ERR_TOO_LARGE);
	share_writer_abort(w);
	assert_int_equal(count_files(apps), 0);

	err_init(&e);
	assert_int_equal(share_writer_begin(s, "app1", "g2", 100, &w, &e), 0);
	assert_int_equal(share_writer_write(w, "abc", 3, &e), 0);
	uint64_t size;
	char sha[65];
	assert_int_equal(share_writer_finish(w, NULL, &size, sha, &e), 0);
	assert_int_equal(size, 3);
	assert_string_equal(sha,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(count_files(journal), 1);
	share_writer_commit_done(w);
	assert_int_equal(count_files(journal), 0);
	char path[4200];
	assert_int_equal(share_app_path(s, "app1", "g2", path, sizeof(path)), 0);
	assert_true(path_exists(path));
	assert_int_not_equal(share_app_path(s, "../x", "g", path, sizeof(path)), 0);
	assert_int_not_equal(share_writer_begin(s, "a/b", "g", 1, &w, &e), 0);

	/* Finished but not committed, then aborted: the renamed file goes too. */
	err_init(&e);
	assert_int_equal(share_writer_begin(s, "app2", "g1", 100, &w, &e), 0);
	assert_int_equal(share_writer_write(w, "x", 1, &e), 0);
	assert_int_equal(share_writer_finish(w, NULL, &size, sha, &e), 0);
	share_writer_abort(w);
	assert_int_equal(count_files(apps), 1);
	assert_int_equal(share_remove_app(s, "app1"), 1);
	assert_int_equal(count_files(apps), 0);
	share_close(s);
	rm_tree(dir);
}

static void recovery(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	struct err e;
	err_init(&e);
	struct share *s = open_share(dir, &e);
	char apps[4200];
	snprintf(apps, sizeof(apps), "%s", share_apps_dir(s));
	/* Three writers die at different steps: writing, finished-not-committed (live), and
	 * finished-not-committed (not live). Writers are leaked on purpose: that is the crash. */
	struct share_writer *w1, *w2, *w3;
	uint64_t size;
	char sha[65];
	assert_int_equal(share_writer_begin(s, "a1", "g1", 100, &w1, &e), 0);
	assert_int_equal(share_writer_write(w1, "x", 1, &e), 0);
	assert_int_equal(share_writer_begin(s, "a2", "g1", 100, &w2, &e), 0);
	assert_int_equal(share_writer_finish(w2, NULL, &size, sha, &e), 0);
	assert_int_equal(share_writer_begin(s, "a3", "g1", 100, &w3, &e), 0);
	assert_int_equal(share_writer_finish(w3, NULL, &size, sha, &e), 0);
	assert_int_equal(count_files(apps), 3);
	live_gen = "a2.g1";
	int removed = share_recover(s, is_live, NULL, &e);
	assert_int_equal(removed, 2); /* a1's temporary file and a3's unnamed file */
	assert_int_equal(count_files(apps), 1);
	char path[4200];
	assert_int_equal(share_app_path(s, "a2", "g1", path, sizeof(path)), 0);
	assert_true(path_exists(path));
	/* GC removes disowned files past the grace period only. */
	assert_int_equal(share_gc(s, 3600000, is_live, NULL, &e), 0);
	live_gen = NULL;
	assert_int_equal(share_gc(s, 3600000, is_live, NULL, &e), 0);
	/* An old file that was just superseded keeps its grace period. */
	struct timespec old[2] = {{.tv_sec = 1000000000}, {.tv_sec = 1000000000}};
	assert_int_equal(utimensat(AT_FDCWD, path, old, 0), 0);
	share_app_superseded(s, "a2", "g1");
	assert_int_equal(share_gc(s, 3600000, is_live, NULL, &e), 0);
	assert_int_equal(share_gc(s, 0, is_live, NULL, &e), 1);
	assert_int_equal(count_files(apps), 0);
	/* An unfinished file whose clean-up failed (the share was away): this node's goes
	 * once nobody wrote it for the grace time, another node's is kept for a day. */
	struct share_writer *w4;
	assert_int_equal(share_writer_begin(s, "a4", "g1", 100, &w4, &e), 0);
	char other[4300];
	snprintf(other, sizeof(other), "%s/.a5.g1.other-node.tmp", apps);
	FILE *of = fopen(other, "w");
	assert_non_null(of);
	fclose(of);
	struct timespec hours_ago[2] = {{.tv_sec = time(NULL) - 7200},
					{.tv_sec = time(NULL) - 7200}};
	DIR *dd = opendir(apps);
	struct dirent *de;
	while ((de = readdir(dd)))
		if (de->d_name[0] == '.' && strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			assert_int_equal(utimensat(dirfd(dd), de->d_name, hours_ago, 0), 0);
	closedir(dd);
	assert_int_equal(share_gc(s, 3 * 3600000, is_live, NULL, &e), 0);
	assert_int_equal(share_gc(s, 3600000, is_live, NULL, &e), 1);
	assert_true(path_exists(other));
	/* a probe's files that a probe could not remove: one older than half a minute goes,
	 * whichever node's it was; a fresh one (a probe under way) stays */
	char probe_left[4300], probe_now[4300];
	snprintf(probe_left, sizeof(probe_left), "%s/.probe-0123456789abcdef.old", apps);
	snprintf(probe_now, sizeof(probe_now), "%s/.probe-fedcba9876543210.tmp", apps);
	for (int i = 0; i < 2; i++) {
		FILE *pf = fopen(i ? probe_now : probe_left, "w");
		assert_non_null(pf);
		fclose(pf);
	}
	struct timespec minute_ago[2] = {{.tv_sec = time(NULL) - 60}, {.tv_sec = time(NULL) - 60}};
	assert_int_equal(utimensat(AT_FDCWD, probe_left, minute_ago, 0), 0);
	assert_int_equal(share_gc(s, 3 * 3600000, is_live, NULL, &e), 1);
	assert_false(path_exists(probe_left));
	assert_true(path_exists(probe_now));
	share_writer_abort(w4);
	share_writer_abort(w1);
	/* Leaked writers w2, w3 hold only memory; release it without touching files. */
	share_writer_commit_done(w2);
	share_writer_commit_done(w3);
	share_close(s);
	rm_tree(dir);
}

/* 80 MiB in odd-sized pieces go through the helper threads (the ring of buffers wraps
 * around more than twice, and the syncing thread runs) and the direct-I/O path; the file
 * must hold exactly the bytes written, with the right hash. */
static void large_file_round_trip(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	struct err e;
	err_init(&e);
	struct share *s = open_share(dir, &e);
	size_t total = (80u << 20) + 12345;
	unsigned char *data = malloc(total);
	for (size_t i = 0; i < total; i++)
		data[i] = (unsigned char)((i * 2654435761u) >> 13);
	struct share_writer *w;
	assert_int_equal(share_writer_begin(s, "big", "g1", total, &w, &e), 0);
	for (size_t off = 0, step = 77777; off < total; off += step) {
		size_t n = total - off < step ? total - off : step;
		assert_int_equal(share_writer_write(w, data + off, n, &e), 0);
	}
	uint64_t size;
	char sha[65], want[65];
	assert_int_equal(share_writer_finish(w, NULL, &size, sha, &e), 0);
	share_writer_commit_done(w);
	assert_int_equal(size, total);
	struct crypto_sha256 *h;
	assert_int_equal(crypto_sha256_new(&h, &e), 0);
	crypto_sha256_update(h, data, total);
	crypto_sha256_finish(h, want);
	assert_string_equal(sha, want);
	char path[4200];
	assert_int_equal(share_app_path(s, "big", "g1", path, sizeof(path)), 0);
	char *back;
	size_t back_len;
	assert_int_equal(file_read_all(path, total + 1, &back, &back_len, &e), 0);
	assert_int_equal(back_len, total);
	assert_memory_equal(back, data, total);
	free(back);
	/* A writer aborted in the middle of a large file leaves nothing. */
	assert_int_equal(share_writer_begin(s, "big", "g2", total, &w, &e), 0);
	assert_int_equal(share_writer_write(w, data, 40u << 20, &e), 0);
	share_writer_abort(w);
	assert_int_equal(count_files(share_apps_dir(s)), 1);
	/* A write the helpers fail (here: past the file size limit) is reported, at the
	 * latest by finish, and nothing waits forever. */
	struct rlimit old, lim = {16u << 20, 0};
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim.rlim_max = old.rlim_max;
	void (*was)(int) = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(share_writer_begin(s, "big", "g3", total, &w, &e), 0);
	int rc = 0;
	for (size_t off = 0; off < total && rc == 0; off += 1u << 20)
		rc = share_writer_write(w, data + off,
					total - off < (1u << 20) ? total - off : 1u << 20, &e);
	if (rc == 0)
		rc = share_writer_finish(w, NULL, &size, sha, &e);
	assert_int_equal(rc, ERR_IO);
	assert_non_null(strstr(e.message, "cannot write app file"));
	share_writer_abort(w);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, was);
	assert_int_equal(count_files(share_apps_dir(s)), 1);
	free(data);
	share_close(s);
	rm_tree(dir);
}

/* ---- data connections: lib://Name/path opened beneath the connection's folder ---- */

static char lib_dir[4200];
static atomic_bool lib_stop;

/* Swaps <conn>/f between a plain file and a link to a file outside the connection. */
static void *swapper(void *arg)
{
	(void)arg;
	char link[4300], plain[4300], f[4300];
	snprintf(link, sizeof(link), "%s/conn/.l", lib_dir);
	snprintf(plain, sizeof(plain), "%s/conn/.p", lib_dir);
	snprintf(f, sizeof(f), "%s/conn/f", lib_dir);
	while (!atomic_load(&lib_stop)) {
		unlink(link);
		if (symlink("../secret.txt", link) == 0)
			(void)rename(link, f);
		int fd = open(plain, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			(void)!write(fd, "plain", 5);
			close(fd);
			(void)rename(plain, f);
		}
	}
	return NULL;
}

static void put(const char *dir, const char *name, const char *text)
{
	char p[4300];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void lib_open_stays_beneath(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	str_copy(lib_dir, dir, sizeof(lib_dir));
	char conn[4300], sub[4320];
	snprintf(conn, sizeof(conn), "%s/conn", dir);
	snprintf(sub, sizeof(sub), "%s/sub", conn);
	assert_int_equal(mkdir(conn, 0755), 0);
	assert_int_equal(mkdir(sub, 0755), 0);
	put(dir, "secret.txt", "SECRET");
	put(conn, "plain.txt", "plain");
	char p[4500];
	snprintf(p, sizeof(p), "%s/inside", conn);
	assert_int_equal(symlink("plain.txt", p), 0);
	snprintf(p, sizeof(p), "%s/outside", conn);
	assert_int_equal(symlink("../secret.txt", p), 0);
	snprintf(p, sizeof(p), "%s/away", conn);
	assert_int_equal(symlink("..", p), 0);
	struct share_lib lib;
	struct err e;
	err_init(&e);
	assert_int_equal(share_lib_init(&lib, "C", conn, &e), 0);
	int fd = -1;
	char leaf[256], got[16];
	/* a link that stays inside is followed; one that leads out is refused */
	assert_int_equal(share_lib_open(&lib, 1, "lib://C/inside", false, &fd, NULL, 0, &e), 0);
	assert_int_equal(read(fd, got, sizeof(got)), 5);
	close(fd);
	assert_int_equal(share_lib_open(&lib, 1, "lib://C/outside", false, &fd, NULL, 0, &e),
			 ERR_FORBIDDEN);
	assert_non_null(strstr(e.message, "leads out of its data connection"));
	assert_int_equal(fd, -1);
	/* a write goes into the folder it names, not through a link out of it */
	err_init(&e);
	assert_int_equal(
	    share_lib_open(&lib, 1, "lib://C/sub/out.csv", true, &fd, leaf, sizeof(leaf), &e), 0);
	assert_string_equal(leaf, "out.csv");
	assert_int_equal(file_write_atomic_at(fd, leaf, "a,b\n", 4, 0644, &e), 0);
	close(fd);
	snprintf(p, sizeof(p), "%s/out.csv", sub);
	assert_int_equal(access(p, R_OK), 0);
	err_init(&e);
	assert_int_equal(
	    share_lib_open(&lib, 1, "lib://C/away/x.csv", true, &fd, leaf, sizeof(leaf), &e),
	    ERR_FORBIDDEN);
	/* and a link swapped in and out while the file is opened never lets the outside file
	 * be read (the check and the open used to be two steps) */
	put(conn, "f", "plain");
	atomic_store(&lib_stop, false);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, swapper, NULL), 0);
	int opened = 0;
	for (int i = 0; i < 3000; i++) {
		err_init(&e);
		if (share_lib_open(&lib, 1, "lib://C/f", false, &fd, NULL, 0, &e) != 0)
			continue;
		ssize_t n = read(fd, got, sizeof(got) - 1);
		close(fd);
		got[n > 0 ? n : 0] = '\0';
		assert_string_not_equal(got, "SECRET");
		opened++;
	}
	atomic_store(&lib_stop, true);
	pthread_join(t, NULL);
	assert_true(opened > 0);
	rm_tree(dir);
}

/* Folders of the system, of the node and of the share's apps are out of any connection's
 * reach: in them or above them. */
static void folder_check_refuses(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	char node[4300], apps[4300], data[4300], other[4300];
	snprintf(node, sizeof(node), "%s/node", dir);
	snprintf(apps, sizeof(apps), "%s/share/Apps", dir);
	snprintf(data, sizeof(data), "%s/data", dir);
	snprintf(other, sizeof(other), "%s/data/other", dir);
	assert_int_equal(mkdir(node, 0755), 0);
	assert_int_equal(mkdir(data, 0755), 0);
	assert_int_equal(mkdir(other, 0755), 0);
	const char *guarded[] = {node, apps, NULL};
	struct err e;
	const char *refused[] = {
	    "/",	  "/etc",	 "/etc/ssl",	  "/var", "/var/lib/postgresql",
	    "/proc/self", "/usr/../etc", "relative/path", node,	  apps,
	    dir};
	for (size_t i = 0; i < ARRAY_LEN(refused); i++) {
		err_init(&e);
		assert_int_equal(share_folder_check(refused[i], guarded, 3, &e), ERR_FIELD);
	}
	char p[4400];
	snprintf(p, sizeof(p), "%s/certs", node);
	err_init(&e);
	assert_int_equal(share_folder_check(p, guarded, 3, &e), ERR_FIELD);
	assert_non_null(strstr(e.message, "keeps to itself"));
	/* a link into the node's folder is judged by where it leads */
	snprintf(p, sizeof(p), "%s/link", dir);
	assert_int_equal(symlink(node, p), 0);
	err_init(&e);
	assert_int_equal(share_folder_check(p, guarded, 3, &e), ERR_FIELD);
	const char *allowed[] = {data,		other,	    "/srv/data", "/home/someone/csv",
				 "/tmp/x/../y", "/variable"};
	for (size_t i = 0; i < ARRAY_LEN(allowed); i++) {
		err_init(&e);
		assert_int_equal(share_folder_check(allowed[i], guarded, 3, &e), 0);
	}
	/* at run time a folder holding node.conf, another node's, is not entered */
	put(other, "node.conf", "[node]\n");
	put(other, "key.pem", "SECRET");
	put(data, "ok.csv", "a\n1\n");
	struct share_lib lib;
	assert_int_equal(share_lib_init(&lib, "D", data, &e), 0);
	int fd = -1;
	char leaf[64];
	assert_int_equal(share_lib_open(&lib, 1, "lib://D/ok.csv", false, &fd, NULL, 0, &e), 0);
	close(fd);
	err_init(&e);
	assert_int_equal(share_lib_open(&lib, 1, "lib://D/other/key.pem", false, &fd, NULL, 0, &e),
			 ERR_FORBIDDEN);
	assert_non_null(strstr(e.message, "node's folder"));
	err_init(&e);
	assert_int_equal(
	    share_lib_open(&lib, 1, "lib://D/other/new.qvd", true, &fd, leaf, sizeof(leaf), &e),
	    ERR_FORBIDDEN);
	assert_int_equal(share_lib_init(&lib, "O", other, &e), 0);
	err_init(&e);
	assert_int_equal(share_lib_open(&lib, 1, "lib://O/key.pem", false, &fd, NULL, 0, &e),
			 ERR_FORBIDDEN);
	/* a connection at the root reaches what is below it (it was refused every path) */
	assert_int_equal(share_lib_init(&lib, "R", "/", &e), 0);
	char full[4400], res[4400];
	snprintf(full, sizeof(full), "lib://R%s/ok.csv", data);
	err_init(&e);
	assert_int_equal(share_lib_resolve(&lib, 1, full, false, res, sizeof(res), &e), 0);
	rm_tree(dir);
}

/* The probe of site create and node join: passes on a local folder and leaves nothing;
 * names the step a folder fails at. */
static void probe(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	struct err e;
	err_init(&e);
	assert_int_equal(share_probe(dir, &e), 0);
	assert_int_equal(count_files(dir), 0);
	DIR *d = opendir(dir);
	int entries = 0;
	for (struct dirent *de; (de = readdir(d));)
		entries += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	assert_int_equal(entries, 0);
	char gone[4300];
	snprintf(gone, sizeof(gone), "%s/missing", dir);
	assert_int_equal(share_probe(gone, &e), ERR_CONFIG);
	assert_non_null(strstr(e.message, "cannot create a file"));
	assert_non_null(strstr(e.hint, "docs/reliability.md"));
	rm_tree(dir);
}

/* A share that did not answer is held off for two seconds: callers get ERR_UNAVAILABLE at
 * once, then one of them tries again; an answer ends the hold-off. */
static void held_off_after_no_answer(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	struct err e;
	err_init(&e);
	struct share *s = open_share(dir, &e);
	assert_int_equal(share_available(s, &e), 0);
	int64_t noted = time_mono_ms();
	share_note(s, ERR_UNAVAILABLE);
	int avail = share_available(s, &e);
	struct share_writer *w = NULL;
	err_init(&e);
	int begun = share_writer_begin(s, "app", "g1", 1 << 20, &w, &e);
	if (time_mono_ms() - noted >= 2000) {
		/* starved past the hold-off before it could be asked (an idle-priority run on a
		 * busy machine, as the allocation-failure runs are): nothing here can be judged */
		if (w)
			share_writer_abort(w);
		share_close(s);
		rm_tree(dir);
		skip();
	}
	assert_int_equal(avail, ERR_UNAVAILABLE);
	assert_int_equal(begun, ERR_UNAVAILABLE);
	assert_null(w);
	sleep_ms(2100);
	err_init(&e);
	assert_int_equal(share_held_off(s, &e), 0);		   /* reads may go */
	assert_int_equal(share_available(s, &e), 0);		   /* this caller tries */
	assert_int_equal(share_available(s, &e), ERR_UNAVAILABLE); /* the others wait */
	/* ... for as long as its try lasts, past the hold-off, reads and gc included */
	sleep_ms(2100);
	err_init(&e);
	assert_int_equal(share_available(s, &e), ERR_UNAVAILABLE);
	assert_int_equal(share_held_off(s, &e), ERR_UNAVAILABLE);
	assert_int_equal(share_gc(s, 0, is_live, NULL, &e), ERR_UNAVAILABLE);
	share_note(s, ERR_IO); /* it answered, if with an error */
	err_init(&e);
	assert_int_equal(share_held_off(s, &e), 0);
	assert_int_equal(share_available(s, &e), 0);
	assert_int_equal(share_writer_begin(s, "app", "g2", 1 << 20, &w, &e), 0);
	share_writer_abort(w);
	share_close(s);
	rm_tree(dir);
}

/* An upload given up while the share was held off leaves its unfinished file; the next
 * garbage collection, once the share answers, removes it (not a day later). */
static void left_files_removed_by_gc(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	struct err e;
	err_init(&e);
	struct share *s = open_share(dir, &e);
	struct share_writer *w = NULL;
	assert_int_equal(share_writer_begin(s, "app", "g1", 1 << 20, &w, &e), 0);
	char apps[600];
	snprintf(apps, sizeof(apps), "%s", share_apps_dir(s));
	assert_int_equal(count_files(apps), 1);
	share_note(s, ERR_UNAVAILABLE);
	share_writer_abort(w); /* not asked of a held-off share */
	assert_int_equal(count_files(apps), 1);
	assert_int_equal(share_gc(s, 3600000, is_live, NULL, &e), ERR_UNAVAILABLE);
	sleep_ms(2100);
	err_init(&e);
	assert_int_equal(share_gc(s, 3600000, is_live, NULL, &e), 1);
	assert_int_equal(count_files(apps), 0);
	share_close(s);
	rm_tree(dir);
}

/* A folder inside the site's root keeps its place under each node's mount; one outside
 * it is the same everywhere; relative paths and ".." are refused. */
static void map_folder(void **state)
{
	(void)state;
	char out[64];
	struct err e;
	err_init(&e);
	assert_int_equal(
	    share_map_folder("/srv/share", "/srv/share/Apps", "/mnt/s", out, sizeof(out), &e), 0);
	assert_string_equal(out, "/mnt/s/Apps");
	assert_int_equal(
	    share_map_folder("/srv/share/", "/srv/share", "/mnt/s/", out, sizeof(out), &e), 0);
	assert_string_equal(out, "/mnt/s");
	assert_int_equal(
	    share_map_folder("/srv/share", "/srv/shared/Apps", "/mnt/s", out, sizeof(out), &e), 0);
	assert_string_equal(out, "/srv/shared/Apps");
	assert_int_equal(share_map_folder("/", "/Apps", "/mnt/s", out, sizeof(out), &e), 0);
	assert_string_equal(out, "/mnt/s/Apps");
	assert_int_equal(share_map_folder("/srv/share", "/srv/share/A", "/", out, sizeof(out), &e),
			 0);
	assert_string_equal(out, "/A");
	static const char *const bad[] = {"Apps", "/srv/share/../etc", "/srv//share", "/srv/./x",
					  "/srv/\nx"};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		err_init(&e);
		assert_int_equal(
		    share_map_folder("/srv/share", bad[i], "/mnt/s", out, sizeof(out), &e),
		    ERR_INVALID);
	}
	assert_int_equal(share_map_folder("/srv/share",
					  "/srv/share/a-name-long-enough-to-overflow-the-output",
					  "/mnt/a-long-mount-point", out, sizeof(out), &e),
			 ERR_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(open_checks),
	    cmocka_unit_test(write_commit_and_abort),
	    cmocka_unit_test(recovery),
	    cmocka_unit_test(large_file_round_trip),
	    cmocka_unit_test(lib_open_stays_beneath),
	    cmocka_unit_test(folder_check_refuses),
	    cmocka_unit_test(probe),
	    cmocka_unit_test(held_off_after_no_answer),
	    cmocka_unit_test(left_files_removed_by_gc),
	    cmocka_unit_test(map_folder),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
