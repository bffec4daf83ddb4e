/* nodes.c: the node endpoints beyond the generic ones: this node, and adding a node
 * through the API as QRS clients do it (Qlik-Cli's New-QlikNode / Register-QlikNode):
 *
 *   POST /qrs/servernodeconfiguration/container {"configuration": {...}}
 *        the node's row and a pending registration, in one transaction; 201 with the
 *        ServerNodeResultContainer;
 *   GET  /qrs/servernoderegistration/start/{id}
 *        approves it and answers its one-time registration password as a bare JSON string
 *        (only on a node that holds the site CA key);
 *   then on the new machine: fathom node join --dir D --share S --db URL --name NAME
 *        --password PASSWORD;
 *   DELETE /qrs/servernodeconfiguration/{id}
 *        removes a node: its certificates revoked (every node refuses them within a
 *        heartbeat), its heartbeat and registration gone; not this node, not the central
 *        role's holder. */
#include "repo/repo_int.h"

#include "cluster/cluster.h"

#include <stdlib.h>
#include <string.h>

#define REGISTRATION_TTL_S 3600
#define EMPTY_GUID	   "00000000-0000-0000-0000-000000000000"

int repo_api_node_local(struct qrs *q)
{
	q->desc = repo_entity_find("servernodeconfiguration");
	q->id = q->repo->node_id;
	return repo_api_get(q);
}

/* The container around a node: QRS also names the node's services. Fathom's services are
 * the node itself: its proxy service has the node's id (/qrs/proxyservice); the others
 * have no entity of their own, so their ids are the empty GUID. */
static json_t *container(json_t *configuration)
{
	json_t *o = json_object();
	json_object_set_new(o, "schemaPath", json_string("ServerNodeResultContainer"));
	json_object_set_new(o, "configuration", configuration);
	static const char *const services[] = {"repositoryServiceID", "engineServiceID",
					       "proxyServiceID", "schedulerServiceID",
					       "printingServiceID"};
	const char *id = json_string_value(json_object_get(configuration, "id"));
	for (size_t i = 0; i < ARRAY_LEN(services); i++)
		json_object_set_new(o, services[i], json_string(i == 2 && id ? id : EMPTY_GUID));
	return o;
}

int repo_api_node_container_template(struct qrs *q)
{
	const struct entity_desc *d = repo_entity_find("servernodeconfiguration");
	json_t *cfg = json_object();
	for (int i = 0; i < d->n_fields; i++) {
		const struct field_desc *f = &d->fields[i];
		if (f->flags & (F_COMMON | F_HIDDEN | F_WRITEONLY))
			continue;
		json_object_set_new(cfg, f->json, repo_field_default_json(f));
	}
	json_object_set_new(cfg, "schemaPath", json_string("ServerNodeConfiguration"));
	repo_qrs_send_json(q, 200, container(cfg));
	return 0;
}

static int site_cluster_row(void *ctx, int n, const struct db_value *c)
{
	if (n > 0 && c[0].type == DBV_TEXT)
		str_copy(ctx, c[0].s, UUID_STR_LEN + 1);
	return 0;
}

int repo_api_node_container(struct qrs *q)
{
	const struct entity_desc *d = repo_entity_find("servernodeconfiguration");
	json_t *body;
	int rc = repo_qrs_body_json(q, &body);
	if (rc)
		return rc;
	json_t *cfg = json_object_get(body, "configuration");
	if (!json_is_object(cfg)) {
		json_decref(body);
		return err_set(&q->err, ERR_FIELD,
			       "the body needs a \"configuration\" object (the new node's "
			       "ServerNodeConfiguration)");
	}
	struct decoded in;
	rc = repo_entity_decode(q->repo, d, cfg, NULL, q->a, &in, &q->err);
	struct db_conn *c = NULL;
	json_t *out = NULL;
	char id[UUID_STR_LEN + 1], cluster[UUID_STR_LEN + 1] = "";
	if (rc == 0 && (rc = repo_qrs_begin(q, &c, true)) == 0) {
		/* A node belongs to the site's service cluster unless the body names one. */
		struct colval extra = {.f = repo_entity_field(d, "serviceCluster")};
		int n_extra = 0;
		if (!json_object_get(cfg, "serviceCluster")) {
			rc = db_exec(c,
				     "SELECT id FROM servicecluster ORDER BY created_date LIMIT 1",
				     NULL, site_cluster_row, cluster, NULL, &q->err);
			extra.s = cluster;
			n_extra = cluster[0] ? 1 : 0;
		}
		if (rc == 0)
			rc = repo_crud_insert(q, c, d, &in, &extra, n_extra, id);
		if (rc == ERR_EXISTS) {
			q->err.code = 0;
			rc =
			    err_set(&q->err, ERR_EXISTS, "the site already has a node named \"%s\"",
				    json_string_value(json_object_get(cfg, "name")));
		}
		if (rc == 0)
			rc = cluster_registration_add(c, id, &q->err);
		if (rc == 0)
			rc = repo_crud_get(q, c, d, id, &out);
		rc = repo_qrs_end(q, c, rc);
	}
	json_decref(body);
	if (rc == 0)
		log_info("node \"%s\" (%s) registered through the API; it waits for approval",
			 json_string_value(json_object_get(out, "name")), id);
	return repo_qrs_reply(q, rc, 201, rc == 0 ? container(out) : out);
}

/* The node that holds the site CA key, as its heartbeat says. */
struct ca_node {
	bool found;
	char host[256], name[256], at[64], now[64];
	int64_t port;
};

static int ca_node_row(void *ctx, int n, const struct db_value *c)
{
	struct ca_node *x = ctx;
	if (n < 5)
		return 0;
	x->found = true;
	str_copy(x->host, c[0].type == DBV_TEXT ? c[0].s : "", sizeof(x->host));
	x->port = c[1].type == DBV_INT ? c[1].i : 0;
	str_copy(x->at, c[2].type == DBV_TEXT ? c[2].s : "", sizeof(x->at));
	str_copy(x->now, c[3].type == DBV_TEXT ? c[3].s : "", sizeof(x->now));
	str_copy(x->name, c[4].type == DBV_TEXT ? c[4].s : "", sizeof(x->name));
	return 0;
}

#define FORWARDED_BY "X-Fathom-Forwarded-By"

/* A node without the CA key passes the approval on to the node that has it: a call from
 * node to node, mutual TLS with the site's certificates, on behalf of the same user. */
static int forward_to_ca(struct qrs *q)
{
	if (http_req_header(q->req, FORWARDED_BY)) {
		err_set(&q->err, ERR_CONFLICT,
			"this node cannot approve nodes: it does not hold the site CA key");
		return ERR_CONFLICT;
	}
	struct ca_node x = {0};
	char sql[512];
	snprintf(sql, sizeof(sql),
		 "SELECT n.host_name, h.api_port, h.at, %s, n.name FROM node_heartbeat h JOIN "
		 "servernodeconfiguration n ON n.id = h.node_id WHERE h.holds_ca = 1 AND "
		 "h.node_id <> $1 AND h.api_port > 0 ORDER BY h.at DESC LIMIT 1",
		 db_now_sql(q->repo->db));
	struct db_params p;
	db_params_init(&p);
	db_p_text(&p, q->repo->node_id);
	int rc = db_exec_once(q->repo->db, sql, &p, ca_node_row, &x, &q->err);
	if (rc)
		return rc;
	if (!x.found) {
		err_set(&q->err, ERR_UNAVAILABLE,
			"no running node holds the site CA key, which approving a node needs");
		err_hint(&q->err, "start the node that created the site");
		return ERR_UNAVAILABLE;
	}
	int64_t at_ms = 0, now_ms = 0;
	if (time_parse_iso(x.at, &at_ms) != 0 || time_parse_iso(x.now, &now_ms) != 0 ||
	    now_ms - at_ms > 3 * q->repo->heartbeat_ms) {
		err_set(
		    &q->err, ERR_UNAVAILABLE,
		    "node \"%s\", which holds the site CA key, is not running (last heartbeat %s)",
		    x.name, x.at);
		err_hint(&q->err, "start it, then try again");
		return ERR_UNAVAILABLE;
	}
	char xrf[17], url[512], h_xrf[64], h_user[300], h_by[128], ca[PATH_MAX + 16],
	    cert[PATH_MAX + 16], key[PATH_MAX + 16];
	crypto_random_password(xrf, 16);
	snprintf(url, sizeof(url), "https://%s:%lld/qrs/servernoderegistration/start/%s?xrfkey=%s",
		 x.host, (long long)x.port, q->id, xrf);
	snprintf(h_xrf, sizeof(h_xrf), "X-Qlik-Xrfkey: %s", xrf);
	snprintf(h_user, sizeof(h_user), "X-Qlik-User: UserDirectory=%s; UserId=%s", q->user_dir,
		 q->user_id);
	snprintf(h_by, sizeof(h_by), "%s: %s", FORWARDED_BY, q->repo->node_id);
	const char *headers[] = {h_xrf, h_user, h_by, NULL};
	snprintf(ca, sizeof(ca), "%s/root.pem", q->repo->certs_dir);
	snprintf(cert, sizeof(cert), "%s/client.pem", q->repo->certs_dir);
	snprintf(key, sizeof(key), "%s/client_key.pem", q->repo->certs_dir);
	struct http_client_tls tls = {.ca_file = ca, .cert_file = cert, .key_file = key};
	struct http_response resp;
	struct err ce;
	err_init(&ce);
	if (http_call(&tls, "GET", url, headers, NULL, 0, 15000, 1 << 20, &resp, &ce) != 0) {
		err_set(&q->err, ERR_UNAVAILABLE,
			"cannot reach node \"%s\", which holds the site CA key: %s", x.name,
			ce.message);
		return ERR_UNAVAILABLE;
	}
	log_info("node approval for %s passed to node \"%s\": %d", q->id, x.name, resp.status);
	http_add_header(q->req, "X-Fathom-Answered-By", x.name);
	http_respond(q->req, resp.status, resp.content_type, resp.body, resp.len);
	explicit_bzero(resp.body, resp.len);
	http_response_release(&resp);
	return 0;
}

int repo_api_registration_start(struct qrs *q)
{
	if (!q->repo->ca.key)
		return forward_to_ca(q);
	char *password = NULL;
	int rc = cluster_approve_node(q->repo->db, &q->repo->ca, q->id, REGISTRATION_TTL_S,
				      &password, &q->err);
	if (rc == ERR_BUSY) {
		q->err.code = 0;
		rc =
		    err_set(&q->err, ERR_UNAVAILABLE, "the repository database is busy; try again");
	}
	if (rc)
		return rc;
	log_info("node %s approved through the API; its password is valid for %d s", q->id,
		 REGISTRATION_TTL_S);
	json_t *s = json_string(password);
	explicit_bzero(password, strlen(password));
	free(password);
	repo_qrs_send_json(q, 200, s);
	return 0;
}

int repo_api_node_delete(struct qrs *q)
{
	struct db_conn *c;
	int rc = repo_qrs_begin(q, &c, true);
	if (rc)
		return rc;
	rc = cluster_node_remove(c, q->id, q->repo->node_id, &q->err);
	if (rc == 0)
		rc = repo_crud_delete(q, c, q->desc, q->id);
	rc = repo_qrs_end(q, c, rc);
	if (rc == 0) {
		log_info("node %s removed by %s; its certificates are revoked", q->id, q->user);
		http_respond(q->req, 204, NULL, "", 0);
	}
	return rc;
}
