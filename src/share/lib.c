/* lib.c: lib://Name/path, the paths load scripts use, resolved inside the folder of a
 * folder data connection. User text becomes a file name here only. */
#include "share/share.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

int share_lib_resolve(const struct share_lib *libs, int n_libs, const char *path, bool for_write,
		      char *out, size_t out_len, struct err *e)
{
	if (strncasecmp(path, "lib://", 6) != 0)
		return err_set(e, ERR_FORBIDDEN,
			       "%s: files are reached through data connections (lib://Name/path)",
			       path);
	const char *name = path + 6, *slash = strchr(name, '/');
	size_t nl = slash ? (size_t)(slash - name) : strlen(name);
	const char *rest = slash ? slash + 1 : "";
	const struct share_lib *c = NULL;
	for (int i = 0; i < n_libs; i++)
		if (strlen(libs[i].name) == nl && strncasecmp(libs[i].name, name, nl) == 0)
			c = &libs[i];
	if (!c)
		return err_set(e, ERR_NOT_FOUND, "there is no folder data connection named %.*s",
			       (int)nl, name);
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
