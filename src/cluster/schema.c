/* schema.c: the cluster's tables, as its part of the numbered schema migrations (see
 * db/db.h). */
#include "cluster/cluster.h"

/* 3: node registrations: a node joining the site waits as "pending" until a running node
 * approves it; approval leaves the new node's certificates sealed under a one-time
 * password, which the joining node uses once. */
static const char v3[] =
    "CREATE TABLE node_registration (node_id TEXT PRIMARY KEY REFERENCES "
    "servernodeconfiguration (id) ON DELETE CASCADE, state TEXT NOT NULL, sealed_certs TEXT, "
    "expires_at TEXT, created_at TEXT NOT NULL);\n";

/* 6: the central role. central_lease is one row: the node holding the central role, until
 * when, the fencing token that grows with every change of holder, and (PostgreSQL) the
 * server process of one of the holder's connections, gone as soon as the holder dies. */
static const char v6[] =
    "CREATE TABLE central_lease (id INTEGER PRIMARY KEY, holder TEXT, token {BIGINT} NOT NULL, "
    "expires_at TEXT NOT NULL, changed_at TEXT NOT NULL, holder_pid INTEGER);\n"
    "INSERT INTO central_lease (id, holder, token, expires_at, changed_at) VALUES (1, NULL, 0, "
    "'1970-01-01T00:00:00.000Z', '1970-01-01T00:00:00.000Z');\n";

/* 10: removed nodes (removal.c): the digests of each node's certificates, recorded when it
 * starts, and those revoked when a node is removed, which every node refuses. */
static const char v10[] =
    "CREATE TABLE node_cert (node_id TEXT NOT NULL, fingerprint TEXT NOT NULL, kind TEXT NOT "
    "NULL, PRIMARY KEY (node_id, fingerprint));\n"
    "CREATE TABLE revoked_cert (fingerprint TEXT PRIMARY KEY, node_id TEXT NOT NULL, "
    "node_name TEXT NOT NULL, revoked_at TEXT NOT NULL);\n";

const struct db_migration cluster_migrations[] = {
    {3, v3},
    {6, v6},
    {10, v10},
    {0, NULL},
};
