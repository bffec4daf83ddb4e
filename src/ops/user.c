/* user.c: `fathom user`: people of the INTERNAL user directory, who sign in at the proxy
 * with a password (hashed with Argon2id; see proxy/signin.c). The command acts on the
 * site's repository directly, so it works whether or not a node runs. */
#include "ops/ops_int.h"
#include "proxy/proxy.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: fathom user add NAME --dir DIR [--role ROLE]... [--password-file FILE]\n"
    "       fathom user passwd NAME --dir DIR [--password-file FILE]\n"
    "       fathom user remove NAME --dir DIR\n"
    "       fathom user list --dir DIR\n"
    "\n"
    "People of the INTERNAL user directory, who sign in at the proxy with a password.\n"
    "\n"
    "  add      creates the user INTERNAL\\NAME with a password\n"
    "  passwd   sets a new password; the user's sessions end on every node\n"
    "  remove   deletes the user, the password and the user's sessions\n"
    "  list     the users of the INTERNAL directory, their roles, and who has a password\n"
    "  --dir DIR             a node folder of the site\n"
    "  --role ROLE           a role to give (RootAdmin, ContentAdmin, ...); may repeat\n"
    "  --password-file FILE  read the password from the first line of FILE; otherwise it\n"
    "                        is asked on the terminal (twice), or read from the first line\n"
    "                        of stdin when that is not a terminal\n"
    "\n"
    "Passwords are at least 8 characters long.\n";

static void forget(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

int ops_read_new_password(const char *file, const char *who, char **out, struct err *e)
{
	*out = NULL;
	if (file) {
		FILE *f = fopen(file, "re");
		if (!f)
			return err_set(e, ERR_IO, "cannot read the password file \"%s\"", file);
		*out = ops_read_line(f, "");
		fclose(f);
		if (!*out)
			return err_set(e, ERR_INVALID, "the password file \"%s\" is empty", file);
	} else if (isatty(STDIN_FILENO)) {
		char prompt[300];
		snprintf(prompt, sizeof(prompt), "new password for %s: ", who);
		char *a = ops_read_line(stdin, prompt),
		     *b = a ? ops_read_line(stdin, "again: ") : NULL;
		if (!a || !b || strcmp(a, b) != 0) {
			forget(a);
			forget(b);
			return err_set(e, ERR_INVALID, "the two passwords differ");
		}
		forget(b);
		*out = a;
	} else if (!(*out = ops_read_line(stdin, ""))) {
		return err_set(e, ERR_INVALID, "no password on stdin");
	}
	size_t n = strlen(*out);
	if (n < PROXY_PASSWORD_MIN || n > 1024) {
		forget(*out);
		*out = NULL;
		return err_set(e, ERR_INVALID, "a password must be %d to 1024 characters long",
			       PROXY_PASSWORD_MIN);
	}
	return 0;
}

/* NAME or INTERNAL\NAME; NULL when the name cannot be a user id of ours. */
static const char *user_name(const char *arg)
{
	const char *name = str_ieqn(arg, "INTERNAL\\", 9) ? arg + 9 : arg;
	if (!*name || strlen(name) > 128 || str_has_ctl(name, false) || strpbrk(name, "'\\\"/;="))
		return NULL;
	return name;
}

/* The row id of INTERNAL\name into id[64]; "" when there is none. */
static int find_user(struct ops_local *l, const char *name, char id[64], struct err *e)
{
	id[0] = '\0';
	struct arena *a = arena_new();
	char *filter = arena_printf(a, "userDirectory eq 'INTERNAL' and userId eq '%s'", name);
	char *query = arena_printf(a, "filter=%s", str_url_encode(a, filter));
	char *out = NULL;
	size_t len = 0;
	int st = ops_local_call(l, "GET", "/qrs/user", query, NULL, 0, &out, &len);
	arena_free(a);
	json_t *j = st == 200 ? json_loadb(out, len, 0, NULL) : NULL;
	free(out);
	if (!j)
		return err_set(e, ERR_DB, "cannot read the users (HTTP %d)", st);
	json_t *first = json_array_get(j, 0);
	const char *s = json_string_value(json_object_get(first, "id"));
	if (s)
		str_copy(id, s, 64);
	json_decref(j);
	return 0;
}

int ops_user_create(struct ops_local *l, const char *name, const char *const *roles, int n_roles,
		    const char *password, struct err *e)
{
	json_t *r = json_array();
	for (int i = 0; i < n_roles; i++)
		json_array_append_new(r, json_string(roles[i]));
	json_t *body = json_pack("{s:s, s:s, s:s, s:o}", "userId", name, "userDirectory",
				 "INTERNAL", "name", name, "roles", r);
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (!text)
		return err_set(e, ERR_NOMEM, "out of memory");
	char *out = NULL;
	size_t len = 0;
	int st = ops_local_call(l, "POST", "/qrs/user", NULL, text, strlen(text), &out, &len);
	free(text);
	json_t *j = json_loadb(out ? out : "", len, 0, NULL);
	free(out);
	const char *id = json_string_value(json_object_get(j, "id"));
	int rc = 0;
	if (st == 409 || (st != 201 && st != 200)) {
		const char *msg = json_string_value(json_object_get(j, "message"));
		rc = err_set(e, st == 409 ? ERR_EXISTS : ERR_INVALID,
			     "cannot create INTERNAL\\%s: %s", name,
			     st == 409 ? "the user exists"
			     : msg     ? msg
				       : "refused");
	} else if (!id) {
		rc = err_set(e, ERR_DB, "cannot create INTERNAL\\%s", name);
	} else if ((rc = proxy_password_set(l->db, id, password, e)) != 0) {
		char path[128];
		snprintf(path, sizeof(path), "/qrs/user/%s", id);
		char *ignored = NULL;
		(void)ops_local_call(l, "DELETE", path, NULL, NULL, 0, &ignored, NULL);
		free(ignored);
	}
	json_decref(j);
	return rc;
}

static int on_listed(void *ctx, int n, const struct db_value *v)
{
	(void)ctx;
	if (n < 3)
		return 0;
	char roles[4200] = "";
	size_t o = 0;
	for (const char *s = v[1].s ? v[1].s : ""; *s && o + 2 < sizeof(roles); s++) {
		if (*s != '\x1f')
			roles[o++] = *s;
		else if (o && s[1])
			roles[o++] = ',';
	}
	roles[o] = '\0';
	printf("%-32s %-12s %s\n", v[0].s ? v[0].s : "", v[2].i ? "password" : "no password",
	       roles[0] ? roles : "-");
	return 0;
}

static int list_users(struct ops_local *l, struct err *e)
{
	printf("%-32s %-12s %s\n", "USER", "SIGN-IN", "ROLES");
	return db_exec_once(l->db,
			    "SELECT u.user_id, u.roles, (SELECT COUNT(*) FROM user_credential c "
			    "WHERE c.user_ref = u.id) FROM users u WHERE u.user_directory = "
			    "'INTERNAL' ORDER BY u.user_id",
			    NULL, on_listed, NULL, e);
}

static int act(struct ops_local *l, const char *verb, const char *name, const char *const *roles,
	       int n_roles, const char *pw_file, struct err *e)
{
	char id[64], who[160];
	snprintf(who, sizeof(who), "INTERNAL\\%s", name ? name : "");
	int rc = name ? find_user(l, name, id, e) : 0;
	if (rc)
		return rc;
	if (strcmp(verb, "list") == 0)
		return list_users(l, e);
	if (strcmp(verb, "add") == 0 && id[0])
		return err_set(e, ERR_EXISTS, "the user %s exists", who);
	if (strcmp(verb, "add") != 0 && !id[0])
		return err_set(e, ERR_NOT_FOUND, "there is no user %s", who);
	if (strcmp(verb, "remove") == 0) {
		char path[128], *out = NULL;
		snprintf(path, sizeof(path), "/qrs/user/%s", id);
		int st = ops_local_call(l, "DELETE", path, NULL, NULL, 0, &out, NULL);
		free(out);
		if (st != 204 && st != 200)
			return err_set(e, ERR_DB, "cannot remove %s (HTTP %d)", who, st);
		printf("removed %s\n", who);
		return 0;
	}
	char *pw = NULL;
	if ((rc = ops_read_new_password(pw_file, who, &pw, e)))
		return rc;
	rc = strcmp(verb, "add") == 0 ? ops_user_create(l, name, roles, n_roles, pw, e)
				      : proxy_password_set(l->db, id, pw, e);
	forget(pw);
	if (rc == 0)
		printf("%s %s\n", strcmp(verb, "add") == 0 ? "added" : "new password for", who);
	return rc;
}

int ops_user(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"dir", required_argument, NULL, 'd'},
	    {"role", required_argument, NULL, 'r'},
	    {"password-file", required_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *dir = NULL, *pw_file = NULL, *roles[16];
	int n_roles = 0, c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'p': pw_file = optarg; break;
		case 'r':
			if (n_roles == (int)ARRAY_LEN(roles) || !*optarg ||
			    str_has_ctl(optarg, false)) {
				fprintf(stderr, "fathom: --role: at most 16 printable roles\n");
				return 2;
			}
			roles[n_roles++] = optarg;
			break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	const char *verb = optind < argc ? argv[optind] : NULL;
	bool list = verb && strcmp(verb, "list") == 0;
	bool known = verb && (list || strcmp(verb, "add") == 0 || strcmp(verb, "passwd") == 0 ||
			      strcmp(verb, "remove") == 0);
	if (!dir || !known || argc - optind != (list ? 1 : 2)) {
		fputs(usage, stderr);
		return 2;
	}
	const char *name = list ? NULL : user_name(argv[optind + 1]);
	if (!list && !name) {
		fprintf(stderr,
			"fathom: \"%s\" cannot be a user name (printable, at most 128 "
			"characters, no quotes, slashes, backslashes, ; or =)\n",
			argv[optind + 1]);
		return 2;
	}
	struct err e;
	err_init(&e);
	struct ops_local l;
	int rc = ops_local_open(dir, &l, &e);
	if (rc == 0)
		rc = act(&l, verb, name, roles, n_roles, pw_file, &e);
	if (rc)
		ops_print_err(&e);
	ops_local_close(&l);
	return rc ? 1 : 0;
}
