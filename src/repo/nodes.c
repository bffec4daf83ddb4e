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
 *        --password PASSWORD. */
#include "repo/repo_int.h"

#include "cluster/cluster.h"

#include <stdlib.h>
#include <string.h>

#define REGISTRATION_TTL_S 3600
#define EMPTY_GUID	   "00000000-0000-0000-0000-000000000000"

int h_node_local(struct qrs *q)
{
	q->desc = entity_find("servernodeconfiguration");
	q->id = q->repo->node_id;
	return h_get(q);
}

/* The container around a node: QRS also names the node's services; Fathom's services are
 * the node itself, so those ids are the empty GUID. */
static json_t *container(json_t *configuration)
{
	json_t *o = json_object();
	json_object_set_new(o, "schemaPath", json_string("ServerNodeResultContainer"));
	json_object_set_new(o, "configuration", configuration);
	static const char *const services[] = {"repositoryServiceID", "engineServiceID",
					       "proxyServiceID", "schedulerServiceID",
					       "printingServiceID"};
	for (size_t i = 0; i < ARRAY_LEN(services); i++)
		json_object_set_new(o, services[i], json_string(EMPTY_GUID));
	return o;
}

int h_node_container_template(struct qrs *q)
{
	const struct entity_desc *d = entity_find("servernodeconfiguration");
	json_t *cfg = json_object();
	for (int i = 0; i < d->n_fields; i++) {
		const struct field_desc *f = &d->fields[i];
		if (f->flags & (F_COMMON | F_HIDDEN | F_WRITEONLY))
			continue;
		json_object_set_new(cfg, f->json, field_default_json(f));
	}
	json_object_set_new(cfg, "schemaPath", json_string("ServerNodeConfiguration"));
	qrs_send_json(q, 200, container(cfg));
	return 0;
}

static int site_cluster_row(void *ctx, int n, const struct db_value *c)
{
	if (n > 0 && c[0].type == DBV_TEXT)
		str_copy(ctx, c[0].s, UUID_STR_LEN + 1);
	return 0;
}

int h_node_container(struct qrs *q)
{
	const struct entity_desc *d = entity_find("servernodeconfiguration");
	json_t *body;
	int rc = qrs_body_json(q, &body);
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
	rc = entity_decode(d, cfg, NULL, q->a, &in, &q->err);
	struct db_conn *c = NULL;
	json_t *out = NULL;
	char id[UUID_STR_LEN + 1], cluster[UUID_STR_LEN + 1] = "";
	if (rc == 0 && (rc = qrs_begin(q, &c, true)) == 0) {
		/* A node belongs to the site's service cluster unless the body names one. */
		struct colval extra = {.f = entity_field(d, "serviceCluster")};
		int n_extra = 0;
		if (!json_object_get(cfg, "serviceCluster")) {
			rc = db_exec(c,
				     "SELECT id FROM servicecluster ORDER BY created_date LIMIT 1",
				     NULL, site_cluster_row, cluster, NULL, &q->err);
			extra.s = cluster;
			n_extra = cluster[0] ? 1 : 0;
		}
		if (rc == 0)
			rc = crud_insert(q, c, d, &in, &extra, n_extra, id);
		if (rc == ERR_EXISTS) {
			q->err.code = 0;
			rc =
			    err_set(&q->err, ERR_EXISTS, "the site already has a node named \"%s\"",
				    json_string_value(json_object_get(cfg, "name")));
		}
		if (rc == 0)
			rc = cluster_registration_add(c, id, &q->err);
		if (rc == 0)
			rc = crud_get(q, c, d, id, &out);
		rc = qrs_end(q, c, rc);
	}
	json_decref(body);
	if (rc == 0)
		log_info("node \"%s\" (%s) registered through the API; it waits for approval",
			 json_string_value(json_object_get(out, "name")), id);
	return qrs_reply(q, rc, 201, rc == 0 ? container(out) : out);
}

int h_registration_start(struct qrs *q)
{
	if (!q->repo->ca.key) {
		err_set(&q->err, ERR_CONFLICT,
			"this node cannot approve nodes: it does not hold the site CA key");
		err_hint(&q->err, "send this request to the node that created the site");
		return ERR_CONFLICT;
	}
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
	qrs_send_json(q, 200, s);
	return 0;
}
