/* registration.c: pending nodes, approval, and the one-time hand-over of certificates. */
#include "cluster/cluster.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define PASSWORD_LEN 20

static int text_row(void *ctx, int n, const struct db_value *c)
{
	char(*out)[512] = ctx;
	for (int i = 0; i < n && i < 4; i++)
		str_copy(out[i], c[i].type == DBV_TEXT ? c[i].s : "", sizeof(out[i]));
	return 0;
}

/* The database's clock, read inside the caller's transaction. */
static int db_now(struct db *db, struct db_conn *c, int64_t *out_ms, struct err *e)
{
	char sql[256], row[4][512] = {{0}};
	snprintf(sql, sizeof(sql), "SELECT %s", db_now_sql(db));
	int rc = db_exec(c, sql, NULL, text_row, row, NULL, e);
	if (rc == 0 && time_parse_iso(row[0], out_ms) != 0)
		rc = err_set(e, ERR_DB, "the database's clock reads \"%s\"", row[0]);
	return rc;
}

int cluster_register(struct db *db, const char *name, const char *host_name,
		     char out_node_id[UUID_STR_LEN + 1], struct err *e)
{
	struct db_conn *c;
	int rc = db_acquire(db, &c, e);
	if (rc)
		return rc;
	char now[ISO_TIME_LEN + 1];
	time_format_iso(time_now_ms(), now);
	uuid_new(out_node_id);
	rc = db_begin(c, true, e);
	if (rc == 0) {
		struct db_params p;
		db_params_init(&p);
		db_p_text(&p, out_node_id);
		db_p_text(&p, now);
		db_p_text(&p, name);
		db_p_text(&p, host_name);
		rc = db_exec(
		    c,
		    "INSERT INTO servernodeconfiguration (id, created_date, modified_date, "
		    "modified_by, name, host_name, is_central, node_purpose, engine_enabled, "
		    "proxy_enabled, scheduler_enabled, printing_enabled, failover_candidate, "
		    "service_cluster_id, temporary_file_path) VALUES ($1, $2, $2, "
		    "'INTERNAL\\sa_repository', $3, $4, 0, 0, 1, 1, 1, 0, 0, (SELECT id FROM "
		    "servicecluster ORDER BY created_date LIMIT 1), NULL)",
		    &p, NULL, NULL, NULL, e);
		if (rc == ERR_CONFLICT) {
			e->code = 0;
			rc = err_set(e, ERR_EXISTS, "the site already has a node named \"%s\"",
				     name);
			err_hint(e, "choose another --name");
		}
	}
	if (rc == 0)
		rc = cluster_registration_add(c, out_node_id, e);
	if (rc == 0)
		rc = db_change_log(c, "ServerNodeConfiguration", out_node_id, "add", NULL, e);
	if (rc == 0)
		rc = db_commit(c, e);
	else
		db_rollback(c);
	db_release(db, c);
	return rc;
}

static char *certs_json(const struct crypto_pem_pair *ca, const struct crypto_pem_pair *srv,
			const struct crypto_pem_pair *cli)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "root", ca->cert, "server", srv->cert,
			      "server_key", srv->key, "client", cli->cert, "client_key", cli->key);
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	return s;
}

int cluster_registration_add(struct db_conn *c, const char *node_id, struct err *e)
{
	char now[ISO_TIME_LEN + 1];
	time_format_iso(time_now_ms(), now);
	struct db_params p;
	db_params_init(&p);
	db_p_text(&p, node_id);
	db_p_text(&p, now);
	return db_exec(c,
		       "INSERT INTO node_registration (node_id, state, created_at) VALUES ($1, "
		       "'pending', $2)",
		       &p, NULL, NULL, NULL, e);
}

int cluster_pending_id(struct db *db, const char *name, char out_node_id[UUID_STR_LEN + 1],
		       struct err *e)
{
	char row[4][512] = {{0}};
	struct db_params p;
	db_params_init(&p);
	db_p_text(&p, name);
	int rc = db_exec_once(db,
			      "SELECT n.id FROM servernodeconfiguration n JOIN node_registration r "
			      "ON r.node_id = n.id WHERE n.name = $1",
			      &p, text_row, row, e);
	if (rc == 0 && !row[0][0]) {
		rc = err_set(e, ERR_NOT_FOUND, "no node named \"%s\" is waiting to join", name);
		err_hint(e, "register it first (fathom node join without --password, or POST "
			    "/qrs/servernodeconfiguration/container)");
	}
	if (rc == 0)
		str_copy(out_node_id, row[0], UUID_STR_LEN + 1);
	return rc;
}

static int approve(struct db *db, const struct crypto_pem_pair *ca, bool by_id, const char *key,
		   int ttl_s, char **out_password, struct err *e);

int cluster_approve(struct db *db, const struct crypto_pem_pair *ca, const char *name, int ttl_s,
		    char **out_password, struct err *e)
{
	return approve(db, ca, false, name, ttl_s, out_password, e);
}

int cluster_approve_node(struct db *db, const struct crypto_pem_pair *ca, const char *node_id,
			 int ttl_s, char **out_password, struct err *e)
{
	return approve(db, ca, true, node_id, ttl_s, out_password, e);
}

static int approve(struct db *db, const struct crypto_pem_pair *ca, bool by_id, const char *key,
		   int ttl_s, char **out_password, struct err *e)
{
	*out_password = NULL;
	struct db_conn *c;
	int rc = db_acquire(db, &c, e);
	if (rc)
		return rc;
	rc = db_begin(c, true, e);
	char row[4][512] = {{0}};
	if (rc == 0) {
		struct db_params p;
		db_params_init(&p);
		db_p_text(&p, key);
		rc = db_exec(
		    c,
		    by_id ? "SELECT n.id, n.host_name, n.name FROM servernodeconfiguration n "
			    "JOIN node_registration r ON r.node_id = n.id WHERE n.id = $1"
			  : "SELECT n.id, n.host_name, n.name FROM servernodeconfiguration n "
			    "JOIN node_registration r ON r.node_id = n.id WHERE n.name = $1",
		    &p, text_row, row, NULL, e);
		if (rc == 0 && !row[0][0])
			rc = err_set(e, ERR_NOT_FOUND, "no node %s \"%s\" is waiting to join",
				     by_id ? "with id" : "named", key);
	}
	struct crypto_pem_pair srv = {0}, cli = {0};
	char password[PASSWORD_LEN + 1];
	char *plain = NULL, *sealed = NULL;
	int64_t now_ms = 0;
	if (rc == 0) {
		const char *dns[] = {"localhost", row[2]};
		rc = crypto_cert_issue(ca, CRYPTO_CERT_SERVER, row[1], dns, 2, &srv, e);
	}
	if (rc == 0)
		rc = crypto_cert_issue(ca, CRYPTO_CERT_CLIENT, "QlikClient", NULL, 0, &cli, e);
	if (rc == 0 && !(plain = certs_json(ca, &srv, &cli)))
		rc = err_set(e, ERR_NOMEM, "out of memory");
	if (rc == 0) {
		crypto_random_password(password, PASSWORD_LEN);
		rc = crypto_seal_pw(password, plain, &sealed, e);
	}
	if (rc == 0)
		rc = db_now(db, c, &now_ms, e);
	if (rc == 0) {
		char expires[ISO_TIME_LEN + 1];
		time_format_iso(now_ms + (int64_t)ttl_s * 1000, expires);
		struct db_params p;
		db_params_init(&p);
		db_p_text(&p, row[0]);
		db_p_text(&p, sealed);
		db_p_text(&p, expires);
		rc = db_exec(c,
			     "UPDATE node_registration SET state = 'approved', sealed_certs = $2, "
			     "expires_at = $3 WHERE node_id = $1",
			     &p, NULL, NULL, NULL, e);
	}
	if (rc == 0)
		rc = db_commit(c, e);
	else
		db_rollback(c);
	db_release(db, c);
	if (plain) {
		memset(plain, 0, strlen(plain));
		free(plain);
	}
	free(sealed);
	crypto_pem_pair_release(&srv);
	crypto_pem_pair_release(&cli);
	if (rc == 0 && !(*out_password = strdup(password)))
		rc = err_set(e, ERR_NOMEM, "out of memory");
	memset(password, 0, sizeof(password));
	return rc;
}

void cluster_certs_release(struct cluster_certs *c)
{
	char **all[] = {&c->root, &c->server, &c->server_key, &c->client, &c->client_key};
	for (size_t i = 0; i < ARRAY_LEN(all); i++) {
		free(*all[i]);
		*all[i] = NULL;
	}
}

struct reg_row {
	bool found;
	char state[32];
	char expires[64];
	char *sealed;
};

static int reg_row(void *ctx, int n, const struct db_value *c)
{
	struct reg_row *r = ctx;
	if (n < 3)
		return 0;
	r->found = true;
	str_copy(r->state, c[0].type == DBV_TEXT ? c[0].s : "", sizeof(r->state));
	str_copy(r->expires, c[1].type == DBV_TEXT ? c[1].s : "", sizeof(r->expires));
	r->sealed = c[2].type == DBV_TEXT ? strndup(c[2].s, c[2].len) : NULL;
	return 0;
}

static char *member(json_t *j, const char *k)
{
	json_t *v = json_object_get(j, k);
	return json_is_string(v) ? strdup(json_string_value(v)) : NULL;
}

int cluster_take_certs(struct db *db, const char *node_id, const char *password,
		       struct cluster_certs *out, struct err *e)
{
	memset(out, 0, sizeof(*out));
	struct db_conn *c;
	int rc = db_acquire(db, &c, e);
	if (rc)
		return rc;
	struct reg_row r = {0};
	rc = db_begin(c, true, e);
	if (rc == 0) {
		struct db_params p;
		db_params_init(&p);
		db_p_text(&p, node_id);
		rc = db_exec(c,
			     "SELECT state, expires_at, sealed_certs FROM node_registration WHERE "
			     "node_id = $1",
			     &p, reg_row, &r, NULL, e);
	}
	if (rc == 0 && (!r.found || strcmp(r.state, "approved") != 0 || !r.sealed)) {
		rc = err_set(e, ERR_NOT_FOUND,
			     r.found ? "this node is not approved yet"
				     : "this node has no registration waiting (was "
				       "its password already used?)");
		err_hint(e, "approve it on a running node with fathom node approve NAME --dir DIR");
	}
	int64_t now_ms = 0, exp_ms = 0;
	if (rc == 0)
		rc = db_now(db, c, &now_ms, e);
	if (rc == 0 && (time_parse_iso(r.expires, &exp_ms) != 0 || now_ms > exp_ms)) {
		rc =
		    err_set(e, ERR_FORBIDDEN, "the registration password expired at %s", r.expires);
		err_hint(e, "approve the node again for a new password");
	}
	char *plain = NULL;
	if (rc == 0)
		rc = crypto_unseal_pw(password, r.sealed, &plain, e);
	json_t *j = plain ? json_loads(plain, 0, NULL) : NULL;
	if (rc == 0) {
		out->root = member(j, "root");
		out->server = member(j, "server");
		out->server_key = member(j, "server_key");
		out->client = member(j, "client");
		out->client_key = member(j, "client_key");
		if (!out->root || !out->server || !out->server_key || !out->client ||
		    !out->client_key)
			rc = err_set(e, ERR_CRYPTO, "the sealed certificates are incomplete");
	}
	if (rc == 0) {
		/* One use: the registration ends with the hand-over. */
		struct db_params p;
		db_params_init(&p);
		db_p_text(&p, node_id);
		rc = db_exec(c, "DELETE FROM node_registration WHERE node_id = $1", &p, NULL, NULL,
			     NULL, e);
	}
	if (rc == 0)
		rc = db_commit(c, e);
	else
		db_rollback(c);
	db_release(db, c);
	json_decref(j);
	if (plain) {
		memset(plain, 0, strlen(plain));
		free(plain);
	}
	free(r.sealed);
	if (rc)
		cluster_certs_release(out);
	return rc;
}
