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

/* ---------------------------------------------------------------- removing a node */

/* Records the SHA-256 digests (hex) of node `node_id`'s server and client certificates
 * (fps[0], fps[1]; NULL or "" skipped), so that removing the node can revoke them. */
NODISCARD int cluster_node_certs_record(struct db *db, const char *node_id,
					const char *const fps[2], struct err *e);

/* The digests of every revoked certificate (at most CLUSTER_MAX_REVOKED). */
enum { CLUSTER_MAX_REVOKED = 1024 };
struct cluster_revoked {
	char fp[CLUSTER_MAX_REVOKED][65];
	size_t n;
};
NODISCARD int cluster_revoked_list(struct db *db, struct cluster_revoked *out, struct err *e);

/* In the caller's write transaction on `c`: revokes node `node_id`'s certificates and
 * deletes its heartbeat and registration; the caller deletes its row. Refused for
 * `self_id` (the node that asks; NULL: none) and for the central role's holder
 * (ERR_CONFLICT: move the role first); ERR_NOT_FOUND when there is no such node. */
NODISCARD int cluster_node_remove(struct db_conn *c, const char *node_id, const char *self_id,
				  struct err *e);

/* *out: node `node_id` is no longer in the site (it was removed while it ran). */
NODISCARD int cluster_node_removed(struct db *db, const char *node_id, bool *out, struct err *e);

/* ---------------------------------------------------------------- the central role */

/* The central role is one row of the repository database: its holder, the instant it
 * expires (by the database's clock) and a fencing token that grows with every change of
 * holder. A failover candidate takes it once it has expired; the holder renews it every
 * third of its TTL and, when it cannot, stops acting before any other node may take it. */
struct cluster_lease {
	bool held;
	int64_t token;		       /* the token this node holds (valid while held) */
	int64_t valid_until;	       /* monotonic ms: this node may act as central until then */
	int64_t ttl_ms;		       /* the TTL of the last attempt */
	char holder[UUID_STR_LEN + 1]; /* who holds it, as last seen ("" none) */
	/* PostgreSQL: the lease's own connection (opened by the first tick, closed by
	 * cluster_lease_release). The row names its server process as the holder's: a
	 * pooled one could be closed under it (a transaction left idle past its time-out, in
	 * any other work) and hand the role over while the holder lives, and a tick could wait
	 * behind a busy pool. Zero-initialise the struct. */
	struct db_conn *conn;
};

/* The service cluster's settings (an empty object when the site has none). Caller
 * decrefs. */
NODISCARD int cluster_settings(struct db *db, json_t **out, struct err *e);
/* The role's TTL: servicecluster settings.centralRoleTtlSeconds (default 15, 3..3600). */
NODISCARD int cluster_lease_ttl(struct db *db, int64_t *out_ms, struct err *e);
/* Takes or renews the role for `node_id` and updates `l`. Taking it sets isCentral on the
 * node rows. A failure leaves `l->held` true only while its validity lasts. */
NODISCARD int cluster_lease_tick(struct db *db, const char *node_id, struct cluster_lease *l,
				 struct err *e);
/* A candidate's look at the role, in one statement: whether it may be taken now (expired,
 * or its holder's database connection is gone), whether `node_id` holds it by the row
 * (moved to it), and whether `node_id` is first in line (the failover candidate of
 * smallest id, other than the holder, with a heartbeat since `fresh_iso`: that one looks
 * often, the others seldom). Takeable only for a failover candidate. Takes nothing:
 * cluster_lease_tick does. */
struct cluster_lease_look {
	bool takeable, mine, first;
	bool candidate; /* `node_id` is a failover candidate */
};
NODISCARD int cluster_lease_look(struct db *db, const char *node_id, const char *fresh_iso,
				 struct cluster_lease_look *out, struct err *e);
/* True while this node may act as central (held and within its validity). */
bool cluster_lease_valid(const struct cluster_lease *l);
/* Inside a transaction that touches the lease (PostgreSQL): a node paused or cut off in
 * the middle of it loses the transaction after 3 s, and waits at most 3 s for a lock, so
 * it cannot hold the lease row and block a takeover. */
NODISCARD int cluster_lease_guard(struct db_conn *c, const struct db *db, struct err *e);
/* Inside a write transaction: ERR_STALE unless `node_id` still holds the role with `token`
 * (a fenced write of the master scheduler). Holds the row until the transaction ends. */
NODISCARD int cluster_lease_fence(struct db_conn *c, const char *node_id, int64_t token,
				  struct err *e);
/* Gives the role to `node_id` now (POST /qrs/failover/tonode), inside the caller's write
 * transaction: a new token, so the old holder's writes are refused from now on. */
NODISCARD int cluster_lease_move(struct db *db, struct db_conn *c, const char *node_id,
				 int64_t ttl_ms, struct err *e);
/* Releases the role if `node_id` holds it (a node stopping cleanly), so a candidate takes
 * over at once, and closes the lease's connection. */
void cluster_lease_release(struct db *db, const char *node_id, struct cluster_lease *l);
/* The database's clock now, in ms (what leases and queue times are compared with). */
NODISCARD int cluster_db_clock(struct db_conn *c, const struct db *db, int64_t *out, struct err *e);

/* ---------------------------------------------------------------- load balancing */

/* Which nodes may reload or serve an app: the enabled Sync system rules whose resource
 * filter matches the app, evaluated for each engine node with the app as the resource;
 * when no rule applies, every engine node. */
struct cluster_balance;
NODISCARD int cluster_balance_load(struct db_conn *c, struct cluster_balance **out, struct err *e);
void cluster_balance_free(struct cluster_balance *b);
/* Whether node `node_id` may take app `app_id`. */
NODISCARD int cluster_balance_allows(struct cluster_balance *b, struct db_conn *c,
				     const char *app_id, const char *node_id, bool *out,
				     struct err *e);
/* The engine nodes allowed for `app_id`: `each` once per node id, in name order. */
NODISCARD int cluster_balance_nodes(struct cluster_balance *b, struct db_conn *c,
				    const char *app_id,
				    void (*each)(void *ctx, const char *node_id), void *ctx,
				    struct err *e);

/* The cluster's tables (registrations, the central lease): its part of the schema. */
extern const struct db_migration cluster_migrations[];

#endif
