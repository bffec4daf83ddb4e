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
	size_t cl = strlen(c->folder);
	if (strncmp(real, c->folder, cl) != 0 || (real[cl] != '/' && real[cl] != '\0'))
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
