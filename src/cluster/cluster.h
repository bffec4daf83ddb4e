/* cluster.h: nodes joining a site. A joining node registers itself as pending (it can
 * reach the shared database); a running node that holds the site CA approves it, which
 * issues the new node's certificates and leaves them in the database sealed under a
 * one-time password; the joining node takes them with that password, once.
 *
 * Threads: every function takes its own connection from the pool; thread-safe. */
#ifndef FATHOM_CLUSTER_H
#define FATHOM_CLUSTER_H

#include "core/core.h"
#include "crypto/crypto.h"
#include "db/db.h"

/* Adds node `name` (reached as `host_name`) as pending: its servernodeconfiguration row
 * (not central, not a failover candidate) and its registration, in one transaction.
 * ERR_EXISTS when a node already has that name; nothing is written then. */
NODISCARD int cluster_register(struct db *db, const char *name, const char *host_name,
			       char out_node_id[UUID_STR_LEN + 1], struct err *e);

/* Approves the registration of the node named `name`: issues its server and client
 * certificates with `ca`, seals them with a new one-time password valid for `ttl_s`
 * seconds of the database's clock, and returns the password (caller frees). Approving
 * again replaces the previous password. ERR_NOT_FOUND when no node by that name is
 * waiting to join. */
NODISCARD int cluster_approve(struct db *db, const struct crypto_pem_pair *ca, const char *name,
			      int ttl_s, char **out_password, struct err *e);

/* The same for the node with id `node_id` (the registration endpoint of the API). */
NODISCARD int cluster_approve_node(struct db *db, const struct crypto_pem_pair *ca,
				   const char *node_id, int ttl_s, char **out_password,
				   struct err *e);

/* Marks node `node_id`, just inserted by the caller's transaction on `c`, as pending (the
 * API's POST /qrs/servernodeconfiguration/container). */
NODISCARD int cluster_registration_add(struct db_conn *c, const char *node_id, struct err *e);

/* The id of the node named `name` that has a registration (pending or approved);
 * ERR_NOT_FOUND when there is none. */
NODISCARD int cluster_pending_id(struct db *db, const char *name,
				 char out_node_id[UUID_STR_LEN + 1], struct err *e);

/* The certificates a node takes when it joins. */
struct cluster_certs {
	char *root, *server, *server_key, *client, *client_key;
};
void cluster_certs_release(struct cluster_certs *c);

/* Takes node `node_id`'s certificates with `password` and ends its registration, so the
 * password works once. ERR_NOT_FOUND: not approved (or already taken); ERR_FORBIDDEN: the
 * password expired; ERR_CRYPTO: the password is wrong (the registration stays). */
NODISCARD int cluster_take_certs(struct db *db, const char *node_id, const char *password,
				 struct cluster_certs *out, struct err *e);

#endif
