/* fn_file.c: the functions that look at files and at the reload itself: file functions
 * (FileSize, FileTime; FileList and DirList in FOR EACH), QVD functions (QvdNoOfRecords,
 * QvdNoOfFields, QvdFieldName, QvdTableName, QvdCreateTime: the file's XML header only) and
 * system functions (DocumentPath, DocumentName, DocumentTitle, ReloadTime,
 * IsPartialReload, EngineVersion, QlikViewVersion, ProductVersion, ComputerName,
 * ConnectString, GetCollationLocale), Attribute (a media file's meta tags), and
 * GetFolderPath and GetRegistryString (NULL: Windows' folders and registry, which Qlik
 * Sense's standard mode keeps from scripts too).
 *
 * Files are reached only through the reload's env->open, as a LOAD reaches them: a path
 * outside the script's data connections answers NULL, as a missing file does. In chart
 * expressions (no reload) they answer NULL. */
#include "script/eval_int.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* The path of argument i, else (no such argument) the file the running LOAD reads. */
static const char *path_arg(struct eval *ev, const struct expr *x, const struct val *v, int i)
{
	return i < x->n_args ? script_text_arg(ev, x, v, i) : ev->file;
}

/* Opens a script path for reading: the file's descriptor, or -1. */
static int open_path(struct eval *ev, const char *path)
{
	int fd = -1;
	struct err e;
	err_init(&e);
	if (!path || !ev->env || !ev->env->open ||
	    ev->env->open(ev->env->ctx, path, false, &fd, NULL, 0, &e) != 0)
		return -1;
	return fd;
}

enum { OP_FILESIZE, OP_FILETIME };

/* FileSize([path]), FileTime([path]): the size in bytes and the time of the last change
 * (a timestamp, local time) of the file, or of the file the running LOAD reads. */
static int fn_file_stat(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	*out = script_null();
	int fd = open_path(ev, path_arg(ev, x, v, 0));
	struct stat st;
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		*out =
		    x->fn->op == OP_FILESIZE
			? script_num((double)st.st_size)
			: script_timestamp(ev, script_local_serial(st.st_mtim.tv_sec,
								   st.st_mtim.tv_nsec / 1000000));
	close(fd);
	return 0;
}

/* The header of the QVD at argument 0, or NULL (no such file, not a QVD). */
static struct qvd_info *qvd_info(struct eval *ev, const struct expr *x, const struct val *v)
{
	int fd = open_path(ev, path_arg(ev, x, v, 0));
	struct stat st;
	struct qvd_info *info = NULL;
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		struct err e;
		err_init(&e);
		if (m != MAP_FAILED) {
			if (data_qvd_read_info(m, (size_t)st.st_size, &info, &e) != 0)
				info = NULL;
			munmap(m, (size_t)st.st_size);
		}
	}
	close(fd);
	return info;
}

/* "YYYY-MM-DD hh:mm:ss" as a serial, or false. */
static bool read_moment(const char *s, double *out)
{
	int y, mo, d, h = 0, mi = 0, sec = 0;
	int n = sscanf(s, "%4d-%2d-%2d %2d:%2d:%2d", &y, &mo, &d, &h, &mi, &sec);
	if (n != 3 && n != 6)
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return false;
	*out = (double)data_serial_date(y, mo, d) + (h * 3600.0 + mi * 60.0 + sec) / 86400.0;
	return true;
}

enum { OP_QVD_RECORDS, OP_QVD_FIELDS, OP_QVD_FIELDNAME, OP_QVD_TABLENAME, OP_QVD_CREATED };

/* QvdNoOfRecords(path), QvdNoOfFields(path), QvdFieldName(path, n) (from 1),
 * QvdTableName(path), QvdCreateTime(path) (the header's CreateUtcTime, as written). */
static int fn_qvd(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	*out = script_null();
	struct qvd_info *q = qvd_info(ev, x, v);
	double n = 0, t;
	if (!q)
		return 0;
	switch (x->fn->op) {
	case OP_QVD_RECORDS: *out = script_num((double)q->n_records); break;
	case OP_QVD_FIELDS: *out = script_num(q->n_fields); break;
	case OP_QVD_FIELDNAME:
		if (script_val_number(&v[1], &n) && n >= 1 && n <= q->n_fields &&
		    q->fields[(int)n - 1])
			*out = script_text(arena_strdup(ev->a, q->fields[(int)n - 1]));
		break;
	case OP_QVD_TABLENAME:
		if (q->table_name)
			*out = script_text(arena_strdup(ev->a, q->table_name));
		break;
	default:
		if (read_moment(q->create_time, &t)) {
			*out = script_num(t);
			out->text = arena_strdup(ev->a, q->create_time);
		}
	}
	data_qvd_info_free(q);
	return 0;
}

enum { OP_DOCPATH, OP_DOCNAME, OP_DOCTITLE, OP_RELOADTIME, OP_PARTIAL, OP_VERSION, OP_HOST };

/* DocumentPath(), DocumentName(), DocumentTitle(): the app's file and title as the node
 * gives them; ReloadTime(): when this reload started; IsPartialReload(): false (partial
 * reloads are not supported); EngineVersion() and its aliases: the engine's version;
 * ComputerName(): the node's host name. */
static int fn_system(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)v;
	*out = script_null();
	const struct reload_env *env = ev->env;
	const char *p = env ? env->doc_path : NULL, *slash;
	char host[256];
	switch (x->fn->op) {
	case OP_DOCPATH:
		if (p)
			*out = script_text(p);
		break;
	case OP_DOCNAME:
		if (p)
			*out = script_text((slash = strrchr(p, '/')) ? slash + 1 : p);
		break;
	case OP_DOCTITLE:
		if (env && env->doc_title)
			*out = script_text(env->doc_title);
		break;
	case OP_RELOADTIME:
		if (ev->reload_time > 0)
			*out = script_timestamp(ev, ev->reload_time);
		break;
	case OP_PARTIAL: *out = script_bool(false); break;
	case OP_VERSION: *out = script_text(FATHOM_VERSION); break;
	default:
		if (gethostname(host, sizeof(host)) == 0) {
			host[sizeof(host) - 1] = '\0';
			*out = script_text(arena_strdup(ev->a, host));
		}
	}
	return 0;
}

/* Attribute(path, name): the meta tag `name` of a media file (MP3, PNG, JPEG, WMA, WMV:
 * data_media_attribute), or NULL. */
static int fn_attribute(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	*out = script_null();
	const char *name = v[1].null ? NULL : script_tx(ev, &v[1]);
	int fd = name ? open_path(ev, path_arg(ev, x, v, 0)) : -1;
	struct stat st;
	if (fd < 0)
		return 0;
	char *text = NULL;
	int rc = 0;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m != MAP_FAILED) {
			rc = data_media_attribute(m, (size_t)st.st_size, name, &text);
			munmap(m, (size_t)st.st_size);
		}
	}
	close(fd);
	if (rc < 0 || rc == ERR_NOMEM)
		return err_set(ev->e, ERR_NOMEM, "out of memory");
	if (text)
		*out = script_text(arena_strdup(ev->a, text));
	free(text);
	return 0;
}

/* ConnectString(): the data connection the last LIB CONNECT TO (or CONNECT) named, "" when
 * none has, or after DISCONNECT; NULL in chart expressions. */
static int fn_connect_string(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)x, (void)v;
	*out = ev->env ? script_text(ev->connection ? ev->connection : "") : script_null();
	return 0;
}

/* NULL: GetFolderPath(name) and GetRegistryString(key, value) read Windows' folders and
 * registry, which Qlik Sense's standard mode keeps from scripts (it answers NULL too);
 * ClientPlatform() is the browser of the person whose chart asks, and the engine puts
 * that in the call's place in each session's expressions (qix_variable.c), so what is left
 * to answer is a reload's, which has no browser. */
static int fn_none(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)ev, (void)x, (void)v;
	*out = script_null();
	return 0;
}

/* GetCollationLocale(): the CollationLocale variable, else the locale the engine's app
 * layout gives (qCollation). */
static int fn_collation(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)x, (void)v;
	const char *c = ev->variable ? ev->variable(ev->ctx, "CollationLocale") : NULL;
	*out = script_text(c && *c ? c : "en-US");
	return 0;
}

/* FileList and DirList outside FOR EACH: Qlik allows them only there. */
static int fn_list(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)v, (void)out;
	return err_set(ev->e, ERR_INVALID, "line %d, column %d: %s may only be used in FOR EACH",
		       x->line, x->col, x->fn->name);
}

static int cmp_text(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int script_file_list(struct eval *ev, const struct expr *x, char ***out, int *n)
{
	*out = NULL;
	*n = 0;
	struct val pat;
	int rc = x->n_args == 1 ? script_eval(ev, x->args[0], &pat) : ERR_INVALID;
	if (rc || pat.null)
		return rc;
	char b[64];
	return script_match_files(ev->env, data_val_text(&pat, b, sizeof(b)),
				  strcasecmp(x->fn->name, "DirList") == 0, out, n, ev->e);
}

int script_match_files(const struct reload_env *env, const char *pattern, bool dirs, char ***out,
		       int *n, struct err *e)
{
	*out = NULL;
	*n = 0;
	if (!env || !env->open)
		return 0;
	char leaf[256];
	int fd = -1, rc = 0;
	struct err ie;
	err_init(&ie);
	/* the folder the pattern's last part lies in (the open for a write gives it) */
	if (env->open(env->ctx, pattern, true, &fd, leaf, sizeof(leaf), &ie) != 0)
		return 0; /* no such folder: nothing to go through, as in Qlik */
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return 0;
	}
	size_t dir_len = strlen(pattern) - strlen(leaf);
	struct dirent *de;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		struct stat st;
		if (de->d_name[0] == '.' || !script_eval_like(de->d_name, leaf) ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    (dirs ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)))
			continue;
		char **grown = realloc(*out, sizeof(char *) * (size_t)(*n + 1));
		size_t len = dir_len + strlen(de->d_name) + 1;
		char *item = grown ? malloc(len) : NULL;
		if (grown)
			*out = grown;
		if (!item) {
			rc = err_set(e, ERR_NOMEM, "out of memory");
			break;
		}
		snprintf(item, len, "%.*s%s", (int)dir_len, pattern, de->d_name);
		(*out)[(*n)++] = item;
	}
	closedir(d);
	if (*n > 1)
		qsort(*out, (size_t)*n, sizeof(char *), cmp_text);
	return rc;
}

const struct script_func script_file_functions[] = {
    SCALAR("FileSize", 0, 1, fn_file_stat, OP_FILESIZE),
    SCALAR("FileTime", 0, 1, fn_file_stat, OP_FILETIME),
    SCALAR("FileList", 1, 1, fn_list, 0),
    SCALAR("DirList", 1, 1, fn_list, 0),
    SCALAR("QvdNoOfRecords", 1, 1, fn_qvd, OP_QVD_RECORDS),
    SCALAR("QvdNoOfFields", 1, 1, fn_qvd, OP_QVD_FIELDS),
    SCALAR("QvdFieldName", 2, 2, fn_qvd, OP_QVD_FIELDNAME),
    SCALAR("QvdTableName", 1, 1, fn_qvd, OP_QVD_TABLENAME),
    SCALAR("QvdCreateTime", 1, 1, fn_qvd, OP_QVD_CREATED),
    SCALAR("DocumentPath", 0, 0, fn_system, OP_DOCPATH),
    SCALAR("DocumentName", 0, 0, fn_system, OP_DOCNAME),
    SCALAR("DocumentTitle", 0, 0, fn_system, OP_DOCTITLE),
    SCALAR("ReloadTime", 0, 0, fn_system, OP_RELOADTIME),
    SCALAR("IsPartialReload", 0, 0, fn_system, OP_PARTIAL),
    SCALAR("EngineVersion", 0, 0, fn_system, OP_VERSION),
    SCALAR("QlikViewVersion", 0, 0, fn_system, OP_VERSION),
    SCALAR("ProductVersion", 0, 0, fn_system, OP_VERSION),
    SCALAR("ComputerName", 0, 0, fn_system, OP_HOST),
    SCALAR("Attribute", 2, 2, fn_attribute, 0),
    SCALAR("ConnectString", 0, 0, fn_connect_string, 0),
    SCALAR("GetFolderPath", 1, 1, fn_none, 0),
    SCALAR("GetRegistryString", 2, 2, fn_none, 0),
    SCALAR("GetCollationLocale", 0, 0, fn_collation, 0),
    SCALAR("ClientPlatform", 0, 0, fn_none, 0),
};

const size_t script_n_file_functions =
    sizeof(script_file_functions) / sizeof(script_file_functions[0]);
