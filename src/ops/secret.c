/* secret.c: `fathom secret show|set`: the database password that node.conf keeps sealed
 * with the node's key file (secret.key, readable by the service user only). */
#include "crypto/crypto.h"
#include "ops/ops_int.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: fathom secret show --dir DIR\n"
    "       fathom secret set --dir DIR        (reads the new password from stdin)\n"
    "\n"
    "Reads or replaces the repository database password, which node.conf holds sealed with\n"
    "DIR/secret.key. Both need the key, so run them as the node's service user. `set` does\n"
    "not connect: change the password in PostgreSQL too, then restart the node.\n";

int ops_secret(int argc, char **argv)
{
	bool set;
	const char *dir;
	int first;
	int st = ops_parse_show_set(argc, argv, usage, &set, &dir, &first);
	if (st >= 0)
		return st;
	if (first < argc) {
		fputs(usage, stderr);
		return 2;
	}
	struct err e;
	err_init(&e);
	char conf_path[PATH_MAX], key_path[PATH_MAX];
	snprintf(conf_path, sizeof(conf_path), "%s/node.conf", dir);
	snprintf(key_path, sizeof(key_path), "%s/secret.key", dir);
	struct conf *cf = NULL;
	unsigned char key[CRYPTO_KEY_LEN];
	char *plain = NULL, *sealed = NULL;
	int rc = conf_load(conf_path, &cf, &e);
	if (rc == 0 && strcmp(conf_get(cf, "database.driver", "sqlite"), "postgres") != 0)
		rc = err_set(&e, ERR_CONFIG,
			     "this node uses the embedded SQLite repository: it "
			     "has no database password");
	if (rc == 0)
		rc = crypto_key_load(key_path, key, &e);
	if (rc == 0 && !set) {
		const char *s = conf_get(cf, "database.password", NULL);
		if (!s)
			rc = err_set(&e, ERR_CONFIG, "node.conf holds no database password");
		else if ((rc = crypto_unseal(key, s, &plain, &e)) == 0)
			printf("%s\n", plain);
	}
	if (rc == 0 && set) {
		plain = ops_read_line(stdin, "new database password: ");
		if (!plain || !*plain)
			rc = err_set(&e, ERR_INVALID, "no password given on stdin");
		if (rc == 0 && (rc = crypto_seal(key, plain, &sealed, &e)) == 0) {
			conf_set(cf, "database.password", sealed);
			rc = conf_save(cf, conf_path, &e);
		}
		if (rc == 0)
			fprintf(stderr, "database password replaced; restart the node to use it\n");
	}
	if (plain) {
		memset(plain, 0, strlen(plain));
		free(plain);
	}
	free(sealed);
	conf_free(cf);
	if (rc)
		ops_print_err(&e);
	return rc ? 1 : 0;
}
