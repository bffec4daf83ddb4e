/* schema.c: the proxy's tables, its part of the numbered schema migrations (see db/db.h).
 *
 * Times are milliseconds since the epoch of the node that wrote them. A session row holds
 * only the SHA-256 of the session id, so a copy of the database signs nobody in. Both
 * tables follow their user: deleting the user ends the sessions and drops the password. */
#include "proxy/proxy.h"

/* 7: passwords of the INTERNAL directory, failed sign-ins, sessions, one-time tickets. */
static const char v7[] =
    "CREATE TABLE user_credential (user_ref TEXT PRIMARY KEY REFERENCES users (id) ON DELETE "
    "CASCADE, hash TEXT NOT NULL, changed_at {BIGINT} NOT NULL);\n"
    "CREATE TABLE signin_failure (name_key TEXT PRIMARY KEY, failures INTEGER NOT NULL, "
    "locked_until {BIGINT} NOT NULL, last_at {BIGINT} NOT NULL);\n"
    "CREATE TABLE proxy_session (id_hash TEXT PRIMARY KEY, user_ref TEXT NOT NULL REFERENCES "
    "users (id) ON DELETE CASCADE, virtual_proxy TEXT NOT NULL, created_at {BIGINT} NOT NULL, "
    "last_seen {BIGINT} NOT NULL, expires_at {BIGINT} NOT NULL, address TEXT NOT NULL, "
    "attributes TEXT);\n"
    "CREATE INDEX proxy_session_user ON proxy_session (user_ref);\n"
    "CREATE INDEX proxy_session_seen ON proxy_session (last_seen);\n"
    "CREATE TABLE proxy_ticket (id_hash TEXT PRIMARY KEY, user_directory TEXT NOT NULL, "
    "user_id TEXT NOT NULL, attributes TEXT, virtual_proxy TEXT NOT NULL, expires_at {BIGINT} "
    "NOT NULL);\n";

const struct db_migration proxy_migrations[] = {
    {7, v7},
    {0, NULL},
};
