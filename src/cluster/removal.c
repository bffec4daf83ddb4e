/* removal.c: removing a node from a site. Each node records the SHA-256 digests of its
 * certificates when it starts (node_cert); removing a node moves them to revoked_cert,
 * which every node reads with its heartbeat and refuses at its ports, and deletes the
 * node's row, its heartbeat and any registration. The share and the rest of the repository
 * stay as they are. */
#include "cluster/cluster.h"

#include <string.h>

struct certs_ctx {
	const char *node_id;
	const char *const *fps;
};

static int record(struct db_conn *c, void *ctx, struct err *e)
{
	static const char *const kinds[2] = {"server", "client"};
	const struct certs_ctx *x = ctx;
	int rc = 0;
	for (int i = 0; rc == 0 && i < 2; i++) {
		if (!x->fps[i] || !*x->fps[i])
			continue;
		struct db_params p;
		db_params_init(&p);
		db_p_text(&p, x->node_id);
		db_p_text(&p, x->fps[i]);
		db_p_text(&p, kinds[i]);
		rc = db_exec(
		    c,
		    "INSERT INTO node_cert (node_id, fingerprint, kind) VALUES ($1, $2, $3) "
		    "ON CONFLICT (node_id, fingerprint) DO NOTHING",
		    &p, NULL, NULL, NULL, e);
	}
	return rc;
}

int cluster_node_certs_record(struct db *db, const char *node_id, const char *const fps[2],
			      struct err *e)
{
	struct certs_ctx x = {node_id, fps};
	return db_write_tx(db, record, &x, e);
}

static int text_into(void *ctx, int n, const struct db_value *v)
{
	struct cluster_revoked *r = ctx;
	if (n < 1 || v[0].type != DBV_TEXT || r->n >= CLUSTER_MAX_REVOKED)
		return 0;
	str_copy(r->fp[r->n++], v[0].s, sizeof(r->fp[0]));
	return 0;
}

int cluster_revoked_list(struct db *db, struct cluster_revoked *out, struct err *e)
{
	out->n = 0;
	return db_exec_once(db, "SELECT fingerprint FROM revoked_cert ORDER BY fingerprint", NULL,
			    text_into, out, e);
}

struct node_row {
	bool found, central;
	char name[256];
};

static int node_row(void *ctx, int n, const struct db_value *v)
{
	struct node_row *r = ctx;
	if (n < 2)
		return 0;
	r->found = true;
	str_copy(r->name, v[0].type == DBV_TEXT ? v[0].s : "", sizeof(r->name));
	r->central = v[1].type == DBV_INT && v[1].i != 0;
	return 0;
}

int cluster_node_remove(struct db_conn *c, const char *node_id, const char *self_id, struct err *e)
{
	if (self_id && str_ieq(node_id, self_id))
		return err_set(e, ERR_INVALID,
			       "a node cannot remove itself: remove it through another node");
	struct db_params p;
	db_params_init(&p);
	db_p_text(&p, node_id);
	struct node_row r = {0};
	int rc = db_exec(c,
			 "SELECT n.name, CASE WHEN l.holder = n.id THEN 1 ELSE 0 END FROM "
			 "servernodeconfiguration n LEFT JOIN central_lease l ON l.holder = n.id "
			 "WHERE n.id = $1",
			 &p, node_row, &r, NULL, e);
	if (rc)
		return rc;
	if (!r.found)
		return err_set(e, ERR_NOT_FOUND, "there is no node %s", node_id);
	if (r.central) {
		err_set(e, ERR_CONFLICT, "node \"%s\" holds the central role", r.name);
		err_hint(e, "move the central role to another node first (POST "
			    "/qrs/failover/tonode/{id}), then remove it");
		return ERR_CONFLICT;
	}
	char now[ISO_TIME_LEN + 1];
	time_format_iso(time_now_ms(), now);
	db_p_text(&p, r.name);
	db_p_text(&p, now);
	static const char *const steps[] = {
	    "INSERT INTO revoked_cert (fingerprint, node_id, node_name, revoked_at) SELECT "
	    "fingerprint, node_id, $2, $3 FROM node_cert WHERE node_id = $1 ON CONFLICT "
	    "(fingerprint) DO NOTHING",
	    "DELETE FROM node_cert WHERE node_id = $1",
	    "DELETE FROM node_heartbeat WHERE node_id = $1",
	    "DELETE FROM node_registration WHERE node_id = $1",
	};
	for (size_t i = 0; rc == 0 && i < ARRAY_LEN(steps); i++) {
		struct db_params q = p;
		if (i > 0) { /* the others take the id only */
			db_params_init(&q);
			db_p_text(&q, node_id);
		}
		rc = db_exec(c, steps[i], &q, NULL, NULL, NULL, e);
	}
	return rc;
}

int cluster_node_removed(struct db *db, const char *node_id, bool *out, struct err *e)
{
	bool there = false;
	struct db_params p;
	db_params_init(&p);
	db_p_text(&p, node_id);
	int rc = db_exec_once(db, "SELECT 1 FROM servernodeconfiguration WHERE id = $1", &p,
			      db_row_seen, &there, e);
	*out = rc == 0 && !there;
	return rc;
}
