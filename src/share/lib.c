/* lib.c: lib://Name/path, the paths load scripts use, resolved inside the folder of a
 * folder data connection. User text becomes a file name here only. */
#include "share/share.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int share_lib_init(struct share_lib *out, const char *name, const char *folder, struct err *e)
{
	out->name = name;
	if (!realpath(folder, out->folder))
		return err_set(e, ERR_NOT_FOUND,
			       "the folder \"%s\" of data connection %s does not exist", folder,
			       name);
	return 0;
}

/* Folders of the operating system: no connection may lie in one or hold one. */
static const char *const system_dirs[] = {
    "/bin",	"/boot",    "/dev",	  "/etc",	"/lib",	     "/lib32",	 "/lib64",
    "/libx32",	"/proc",    "/root",	  "/run",	"/sbin",     "/sys",	 "/usr",
    "/var/lib", "/var/log", "/var/cache", "/var/spool", "/var/mail", "/var/run", "/var/backups"};

/* `a` is `b` or a folder inside it (both absolute, without a trailing slash but "/"). */
static bool path_within(const char *a, const char *b)
{
	size_t bl = strlen(b);
	if (bl == 1 && b[0] == '/')
		return true;
	return strncmp(a, b, bl) == 0 && (a[bl] == '/' || a[bl] == '\0');
}

/* The absolute path `in` with ".", ".." and repeated slashes taken out, in `out`. */
static bool path_clean(const char *in, char *out, size_t n)
{
	if (in[0] != '/' || strlen(in) >= n)
		return false;
	size_t ol = 0;
	for (const char *seg = in; *seg;) {
		while (*seg == '/')
			seg++;
		size_t sl = strcspn(seg, "/");
		if (sl == 0 || (sl == 1 && seg[0] == '.')) {
		} else if (sl == 2 && seg[0] == '.' && seg[1] == '.') {
			while (ol > 0 && out[ol - 1] != '/')
				ol--;
			ol = ol > 0 ? ol - 1 : 0;
		} else {
			out[ol++] = '/';
			memcpy(out + ol, seg, sl);
			ol += sl;
		}
		seg += sl;
	}
	if (ol == 0)
		out[ol++] = '/';
	out[ol] = '\0';
	return true;
}

int share_folder_check(const char *folder, const char *const *guarded, int n_guarded, struct err *e)
{
	char real[PATH_MAX], g[PATH_MAX];
	/* a folder that does not exist yet is judged by its name */
	if (!realpath(folder, real) && !path_clean(folder, real, sizeof(real)))
		return err_set(e, ERR_FIELD,
			       "the folder of a data connection is an absolute path (\"%s\" is "
			       "not)",
			       folder);
	for (size_t i = 0; i < ARRAY_LEN(system_dirs); i++)
		if (path_within(real, system_dirs[i]) || path_within(system_dirs[i], real))
			return err_set(e, ERR_FIELD,
				       "%s is or holds %s, a folder of the operating system; a "
				       "data connection may not reach it",
				       real, system_dirs[i]);
	for (int i = 0; i < n_guarded; i++) {
		if (!guarded[i] ||
		    (!realpath(guarded[i], g) && !path_clean(guarded[i], g, sizeof(g))))
			continue;
		if (path_within(real, g) || path_within(g, real))
			return err_set(
			    e, ERR_FIELD,
			    "%s is or holds %s, a folder Fathom keeps to itself (a node's "
			    "folder or the share's apps); a data connection may not "
			    "reach it",
			    real, g);
	}
	return 0;
}

/* No absolute path and no ".." segment or backslash in what follows the name. */
static bool stays_inside(const char *rest)
{
	if (strchr(rest, '\\'))
		return false;
	for (const char *seg = rest; *seg;) {
		const char *end = strchr(seg, '/');
		size_t sl = end ? (size_t)(end - seg) : strlen(seg);
		if (sl == 2 && seg[0] == '.' && seg[1] == '.')
			return false;
		seg = end ? end + 1 : seg + sl;
	}
	return true;
}

/* The connection `path` names and what follows its name. */
static int lookup(const struct share_lib *libs, int n_libs, const char *path,
		  const struct share_lib **out, const char **rest_out, struct err *e)
{
	if (strncasecmp(path, "lib://", 6) != 0)
		return err_set(e, ERR_FORBIDDEN,
			       "%s: files are reached through data connections (lib://Name/path)",
			       path);
	const char *name = path + 6, *slash = strchr(name, '/');
	size_t nl = slash ? (size_t)(slash - name) : strlen(name);
	*rest_out = slash ? slash + 1 : "";
	*out = NULL;
	for (int i = 0; i < n_libs; i++)
		if (strlen(libs[i].name) == nl && strncasecmp(libs[i].name, name, nl) == 0)
			*out = &libs[i];
	if (!*out)
		return err_set(e, ERR_NOT_FOUND, "there is no folder data connection named %.*s",
			       (int)nl, name);
	return 0;
}

int share_lib_resolve(const struct share_lib *libs, int n_libs, const char *path, bool for_write,
		      char *out, size_t out_len, struct err *e)
{
	const struct share_lib *c;
	const char *rest;
	int lrc = lookup(libs, n_libs, path, &c, &rest, e);
	if (lrc)
		return lrc;
	if (!stays_inside(rest))
		return err_set(e, ERR_FORBIDDEN, "%s leads out of its data connection", path);
	if (!*rest)
		return err_set(e, ERR_INVALID, "%s names the folder, not a file", path);
	if ((size_t)snprintf(out, out_len, "%s/%s", c->folder, rest) >= out_len)
		return err_set(e, ERR_INVALID, "%s is too long", path);
	/* and no symbolic link out of it either */
	char real[PATH_MAX], dir[PATH_MAX];
	str_copy(dir, out, sizeof(dir));
	char *cut = strrchr(dir, '/');
	if (cut)
		*cut = '\0';
	if (!realpath(for_write ? dir : out, real))
		return for_write
			   ? err_set(e, ERR_NOT_FOUND, "the folder of %s does not exist", path)
			   : err_set(e, ERR_NOT_FOUND, "%s does not exist", path);
	if (!path_within(real, c->folder))
		return err_set(e, ERR_FORBIDDEN, "%s leads out of its data connection", path);
	return 0;
}

/* openat2 beneath `root`: the kernel refuses any step (a "..", an absolute or relative link)
 * that would leave it, at the moment of the open. glibc 2.36 has no wrapper. */
static int open_beneath(int root, const char *rest, int flags)
{
	struct open_how how = {.flags = (uint64_t)flags | O_CLOEXEC,
			       .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
	/* EAGAIN: a rename raced the walk; someone renaming in a loop gets no endless spin */
	int fd, tries = 0;
	while ((fd = (int)syscall(SYS_openat2, root, rest, &how, sizeof(how))) < 0 &&
	       (errno == EINTR || errno == EAGAIN) && ++tries < 100)
		;
	return fd;
}

/* Whether a folder on the way from `root` to the file `rest` (the root included) is a
 * node's folder, which holds node.conf: another node's folder on this host is known by
 * that alone. Each step is opened beneath the root, as the file is. */
static bool through_node_folder(int root, const char *rest)
{
	struct stat st;
	if (fstatat(root, "node.conf", &st, AT_SYMLINK_NOFOLLOW) == 0)
		return true;
	char prefix[PATH_MAX];
	for (const char *slash = strchr(rest, '/'); slash; slash = strchr(slash + 1, '/')) {
		size_t pl = (size_t)(slash - rest);
		if (pl == 0 || pl >= sizeof(prefix))
			continue;
		memcpy(prefix, rest, pl);
		prefix[pl] = '\0';
		int d = open_beneath(root, prefix, O_PATH | O_DIRECTORY);
		if (d < 0)
			continue; /* the open of the file itself says why */
		bool found = fstatat(d, "node.conf", &st, AT_SYMLINK_NOFOLLOW) == 0;
		close(d);
		if (found)
			return true;
	}
	return false;
}

static int open_error(const char *path, bool folder, struct err *e)
{
	switch (errno) {
	case EXDEV:
	case ELOOP: return err_set(e, ERR_FORBIDDEN, "%s leads out of its data connection", path);
	case ENOENT:
	case ENOTDIR:
		return folder ? err_set(e, ERR_NOT_FOUND, "the folder of %s does not exist", path)
			      : err_set(e, ERR_NOT_FOUND, "%s does not exist", path);
	case ENOSYS:
		return err_set(e, ERR_IO,
			       "cannot open %s: this kernel lacks openat2 (Linux 5.6 or later)",
			       path);
	default: return err_set(e, ERR_IO, "cannot open %s: %s", path, strerror(errno));
	}
}

int share_lib_open(const struct share_lib *libs, int n_libs, const char *path, bool for_write,
		   int *fd, char *leaf, size_t leaf_len, struct err *e)
{
	*fd = -1;
	char file[PATH_MAX];
	int rc = share_lib_resolve(libs, n_libs, path, for_write, file, sizeof(file), e);
	if (rc)
		return rc;
	/* the checks above give clear errors; the open below is what holds */
	const struct share_lib *c;
	const char *rest;
	rc = lookup(libs, n_libs, path, &c, &rest, e);
	if (rc)
		return rc;
	while (*rest == '/')
		rest++;
	int root = open(c->folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return err_set(e, ERR_NOT_FOUND, "the folder of data connection %s is gone: %s",
			       c->name, strerror(errno));
	if (through_node_folder(root, rest)) {
		close(root);
		return err_set(e, ERR_FORBIDDEN,
			       "%s lies in a node's folder (one that holds node.conf), which no "
			       "data connection may reach",
			       path);
	}
	if (!for_write) {
		/* O_NONBLOCK: a FIFO must not hold the reload; the caller wants a regular file */
		*fd = open_beneath(root, rest, O_RDONLY | O_NONBLOCK);
		rc = *fd < 0 ? open_error(path, false, e) : 0;
		close(root);
		return rc;
	}
	const char *slash = strrchr(rest, '/');
	const char *name = slash ? slash + 1 : rest;
	if (!*name || strcmp(name, ".") == 0 || str_copy(leaf, name, leaf_len) >= leaf_len) {
		close(root);
		return err_set(e, ERR_INVALID, "%s does not name a file", path);
	}
	if (!slash) {
		*fd = root;
		return 0;
	}
	char dir[PATH_MAX];
	str_copy(dir, rest, sizeof(dir));
	dir[slash - rest] = '\0';
	*fd = open_beneath(root, dir, O_RDONLY | O_DIRECTORY);
	rc = *fd < 0 ? open_error(path, true, e) : 0;
	close(root);
	return rc;
}
