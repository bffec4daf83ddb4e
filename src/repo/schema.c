/* schema.c: the repository's tables, as its part of the numbered schema migrations (see
 * db/db.h), in portable SQL.
 *
 * Statements end with ";\n". Tokens in braces ({SERIAL_PK}, {BIGINT}) are replaced by the
 * driver. Dates are ISO 8601 UTC text with milliseconds, which compare correctly as text on
 * both drivers. Entity tables carry the common columns id, created_date, modified_date,
 * modified_by; their other columns are named by the entity descriptors in entities.c (a
 * unit test checks they agree). */
#include "repo/repo_int.h"

#define COMMON                                                                                     \
	"id TEXT PRIMARY KEY, created_date TEXT NOT NULL, modified_date TEXT NOT NULL, "           \
	"modified_by TEXT NOT NULL"

/* 1: the entity types of the first release. */
static const char v1[] =
    "CREATE TABLE users (" COMMON ", user_id TEXT NOT NULL, user_directory TEXT NOT NULL, "
    "user_directory_connector_name TEXT, name TEXT, roles TEXT, inactive INTEGER NOT NULL, "
    "removed_externally INTEGER NOT NULL, blacklisted INTEGER NOT NULL, delete_prohibited "
    "INTEGER NOT NULL);\n"
    "CREATE UNIQUE INDEX users_dir_id ON users (user_directory, user_id);\n"
    "CREATE TABLE tag (" COMMON ", name TEXT NOT NULL);\n"
    "CREATE TABLE stream (" COMMON ", name TEXT NOT NULL, owner_id TEXT REFERENCES users (id));\n"
    "CREATE TABLE app (" COMMON ", name TEXT NOT NULL, app_id TEXT, description TEXT, owner_id "
    "TEXT REFERENCES users (id), stream_id TEXT REFERENCES stream (id), published INTEGER NOT "
    "NULL, publish_time TEXT NOT NULL, file_size {BIGINT} NOT NULL, last_reload_time TEXT NOT "
    "NULL, thumbnail TEXT, source_app_id TEXT, target_app_id TEXT, saved_in_product_version "
    "TEXT, migration_hash TEXT, dynamic_color TEXT, availability_status INTEGER NOT NULL, "
    "generation TEXT, file_sha256 TEXT);\n"
    "CREATE INDEX app_stream ON app (stream_id);\n"
    "CREATE TABLE dataconnection (" COMMON ", name TEXT NOT NULL, connectionstring TEXT NOT "
    "NULL, type TEXT, engine_object_id TEXT, username TEXT, password TEXT, log_on INTEGER NOT "
    "NULL, architecture INTEGER NOT NULL, owner_id TEXT REFERENCES users (id));\n"
    "CREATE UNIQUE INDEX dataconnection_name ON dataconnection (name);\n"
    "CREATE TABLE servicecluster (" COMMON ", name TEXT NOT NULL, settings TEXT);\n"
    "CREATE TABLE servernodeconfiguration (" COMMON ", name TEXT NOT NULL, host_name TEXT NOT "
    "NULL, is_central INTEGER NOT NULL, node_purpose INTEGER NOT NULL, engine_enabled INTEGER "
    "NOT NULL, proxy_enabled INTEGER NOT NULL, scheduler_enabled INTEGER NOT NULL, "
    "printing_enabled INTEGER NOT NULL, failover_candidate INTEGER NOT NULL, "
    "service_cluster_id TEXT REFERENCES servicecluster (id), temporary_file_path TEXT);\n"
    "CREATE UNIQUE INDEX servernodeconfiguration_name ON servernodeconfiguration (name);\n"
    "CREATE TABLE custompropertydefinition (" COMMON ", name TEXT NOT NULL, value_type TEXT "
    "NOT NULL, choice_values TEXT, object_types TEXT, description TEXT);\n"
    "CREATE UNIQUE INDEX custompropertydefinition_name ON custompropertydefinition (name);\n"
    "CREATE TABLE custom_property_value (" COMMON ", object_type TEXT NOT NULL, object_id TEXT "
    "NOT NULL, definition_id TEXT NOT NULL REFERENCES custompropertydefinition (id) ON DELETE "
    "CASCADE, value TEXT NOT NULL);\n"
    "CREATE INDEX custom_property_value_object ON custom_property_value (object_type, "
    "object_id);\n"
    "CREATE TABLE entity_tag (object_type TEXT NOT NULL, object_id TEXT NOT NULL, tag_id TEXT "
    "NOT NULL REFERENCES tag (id) ON DELETE CASCADE, PRIMARY KEY (object_type, object_id, "
    "tag_id));\n"
    "CREATE INDEX entity_tag_tag ON entity_tag (tag_id);\n"
    "CREATE TABLE app_export (token TEXT PRIMARY KEY, app_id TEXT NOT NULL, generation TEXT "
    "NOT NULL, file_name TEXT NOT NULL, created_at TEXT NOT NULL, user_name TEXT NOT NULL);\n";

/* 2: heartbeats, one row per node, written with the database's clock. Kept apart from
 * servernodeconfiguration so that a heartbeat changes no entity and logs no change. */
static const char v2[] =
    "CREATE TABLE node_heartbeat (node_id TEXT PRIMARY KEY, at TEXT NOT NULL, "
    "started_at TEXT NOT NULL, version TEXT NOT NULL, pid INTEGER NOT NULL);\n";

/* 4: what other nodes need to call a node: its API port, and whether it holds the site CA
 * key (the node that approves joining nodes). */
static const char v4[] =
    "ALTER TABLE node_heartbeat ADD COLUMN api_port INTEGER NOT NULL DEFAULT 0;\n"
    "ALTER TABLE node_heartbeat ADD COLUMN holds_ca INTEGER NOT NULL DEFAULT 0;\n";

/* 5: system rules (security, license and load-balancing rules), their conditions in the
 * rule language of rules/rules.h. */
static const char v5[] =
    "CREATE TABLE systemrule (" COMMON ", name TEXT NOT NULL, category TEXT NOT NULL, "
    "subcategory TEXT, type TEXT NOT NULL, rule TEXT, resource_filter TEXT NOT NULL, actions "
    "{BIGINT} NOT NULL, comment TEXT, disabled INTEGER NOT NULL, rule_context INTEGER NOT NULL, "
    "seed_id TEXT);\n"
    "CREATE INDEX systemrule_category ON systemrule (category);\n";

/* 6: reload tasks and their triggers, and executions. executionsession is the queue and
 * the running executions (deleted when one ends); executionresult is one row per attempt.
 * Hidden scheduler state: schemaevent.next_fire (computed from the row as modified at
 * sched_from), reloadtask.running_session (one execution of a task at a time) and
 * executionresult.chain_seen (task chains evaluated). */
static const char v6[] =
    "CREATE TABLE reloadtask (" COMMON ", name TEXT NOT NULL, task_type INTEGER NOT NULL, "
    "enabled INTEGER NOT NULL, task_session_timeout INTEGER NOT NULL, max_retries INTEGER NOT "
    "NULL, app_id TEXT NOT NULL REFERENCES app (id) ON DELETE CASCADE, is_manually_triggered "
    "INTEGER NOT NULL, is_partial_reload INTEGER NOT NULL, operational TEXT, running_session "
    "TEXT);\n"
    "CREATE INDEX reloadtask_app ON reloadtask (app_id);\n"
    "CREATE TABLE schemaevent (" COMMON ", name TEXT NOT NULL, enabled INTEGER NOT NULL, "
    "event_type INTEGER NOT NULL, reload_task_id TEXT NOT NULL REFERENCES reloadtask (id) ON "
    "DELETE CASCADE, time_zone TEXT NOT NULL, daylight_saving_time INTEGER NOT NULL, "
    "start_date TEXT NOT NULL, expiration_date TEXT NOT NULL, schema_filter_description TEXT, "
    "increment_description TEXT NOT NULL, increment_option INTEGER NOT NULL, operational TEXT, "
    "next_fire TEXT, sched_from TEXT);\n"
    "CREATE INDEX schemaevent_task ON schemaevent (reload_task_id);\n"
    "CREATE TABLE compositeevent (" COMMON ", name TEXT NOT NULL, enabled INTEGER NOT NULL, "
    "event_type INTEGER NOT NULL, reload_task_id TEXT NOT NULL REFERENCES reloadtask (id) ON "
    "DELETE CASCADE, time_constraint TEXT, composite_rules TEXT NOT NULL, operational TEXT);\n"
    "CREATE INDEX compositeevent_task ON compositeevent (reload_task_id);\n"
    "CREATE TABLE executionsession (" COMMON ", reload_task_id TEXT NOT NULL REFERENCES "
    "reloadtask (id) ON DELETE CASCADE, app_id TEXT NOT NULL, trigger_id TEXT NOT NULL, "
    "fire_time TEXT NOT NULL, status INTEGER NOT NULL, executing_node_id TEXT, "
    "execution_result_id TEXT, abort_at TEXT, retries INTEGER NOT NULL, abort_reason INTEGER "
    "NOT NULL, queued_at TEXT NOT NULL, lease_until TEXT, stop_requested INTEGER NOT NULL, "
    "avoid_node_id TEXT, avoid_until TEXT, reload_stored INTEGER NOT NULL DEFAULT 0);\n"
    "CREATE INDEX executionsession_status ON executionsession (status, queued_at);\n"
    "CREATE TABLE executionresult (" COMMON ", task_id TEXT NOT NULL, execution_id TEXT NOT "
    "NULL, app_id TEXT, executing_node_id TEXT, executing_node_name TEXT, status INTEGER NOT "
    "NULL, start_time TEXT NOT NULL, stop_time TEXT NOT NULL, duration {BIGINT} NOT NULL, "
    "file_reference_id TEXT, script_log_available INTEGER NOT NULL, script_log_location TEXT, "
    "script_log_size {BIGINT} NOT NULL, details TEXT, trigger_id TEXT, chain_seen INTEGER NOT "
    "NULL);\n"
    "CREATE INDEX executionresult_task ON executionresult (task_id, stop_time);\n"
    "CREATE INDEX executionresult_execution ON executionresult (execution_id);\n"
    "CREATE INDEX executionresult_chain ON executionresult (chain_seen);\n"
    "ALTER TABLE node_heartbeat ADD COLUMN engine_port INTEGER NOT NULL DEFAULT 0;\n";

/* 7: virtual proxies, with the default one (no prefix, form sign-in); and the default
 * security rules, which govern requests a proxy makes for a person (type
 * Default, with fixed seed ids). Services with the site's client certificate are not
 * governed by rules. */
static const char v7[] =
    "CREATE TABLE virtualproxyconfig (" COMMON ", prefix TEXT NOT NULL, description TEXT NOT "
    "NULL, authentication_method INTEGER NOT NULL, session_cookie_header_name TEXT NOT NULL, "
    "session_inactivity_timeout INTEGER NOT NULL, authentication_module_redirect_uri TEXT, "
    "header_authentication_header_name TEXT, header_authentication_static_user_directory "
    "TEXT, header_authentication_dynamic_user_directory TEXT, "
    "header_authentication_trusted_addresses TEXT, websocket_cross_origin_white_list TEXT, "
    "additional_response_headers TEXT, jwt_public_key_certificate TEXT, jwt_attribute_user_id "
    "TEXT, jwt_attribute_user_directory TEXT, jwt_audience TEXT, jwt_issuer TEXT);\n"
    "CREATE UNIQUE INDEX virtualproxyconfig_prefix ON virtualproxyconfig (prefix);\n"
    "INSERT INTO virtualproxyconfig (id, created_date, modified_date, modified_by, prefix, "
    "description, authentication_method, session_cookie_header_name, "
    "session_inactivity_timeout) VALUES ('5eed0000-0000-4000-8001-000000000001', "
    "'2026-12-04T00:00:00.000Z', '2026-12-04T00:00:00.000Z', 'INTERNAL\\sa_repository', '', "
    "'Central Proxy (Default)', 5, 'X-Qlik-Session', 30);\n"
    "INSERT INTO systemrule (id, created_date, modified_date, modified_by, name, category, "
    "subcategory, type, rule, resource_filter, actions, comment, disabled, rule_context, seed_id) "
    "VALUES ('5eed0000-0000-4000-8000-000000000001', '2026-12-04T00:00:00.000Z', "
    "'2026-12-04T00:00:00.000Z', "
    "'INTERNAL\\sa_repository', 'RootAdmin', 'Security', NULL, 'Default', 'user.roles = "
    "\"RootAdmin\"', '*', 8191, "
    "'Root administrators may do everything.', 0, 0, '5eed0000-0000-4000-8000-000000000001');\n"
    "INSERT INTO systemrule (id, created_date, modified_date, modified_by, name, category, "
    "subcategory, type, rule, resource_filter, actions, comment, disabled, rule_context, seed_id) "
    "VALUES ('5eed0000-0000-4000-8000-000000000002', '2026-12-04T00:00:00.000Z', "
    "'2026-12-04T00:00:00.000Z', "
    "'INTERNAL\\sa_repository', 'ContentAdmin', 'Security', NULL, 'Default', 'user.roles = "
    "\"ContentAdmin\"', "
    "'App*,Stream_*,DataConnection_*,ReloadTask_*,Tag_*,CustomPropertyDefinition_*,ExecutionResult_"
    "*,User_*', 8191, "
    "'Content administrators manage apps, streams, data connections, tasks, tags and users.', 0, "
    "0, '5eed0000-0000-4000-8000-000000000002');\n"
    "INSERT INTO systemrule (id, created_date, modified_date, modified_by, name, category, "
    "subcategory, type, rule, resource_filter, actions, comment, disabled, rule_context, seed_id) "
    "VALUES ('5eed0000-0000-4000-8000-000000000003', '2026-12-04T00:00:00.000Z', "
    "'2026-12-04T00:00:00.000Z', "
    "'INTERNAL\\sa_repository', 'Stream', 'Security', NULL, 'Default', 'resource.owner = user', "
    "'Stream_*', 38, "
    "'The owner of a stream reads it, changes it and publishes to it.', 0, 0, "
    "'5eed0000-0000-4000-8000-000000000003');\n"
    "INSERT INTO systemrule (id, created_date, modified_date, modified_by, name, category, "
    "subcategory, type, rule, resource_filter, actions, comment, disabled, rule_context, seed_id) "
    "VALUES ('5eed0000-0000-4000-8000-000000000004', '2026-12-04T00:00:00.000Z', "
    "'2026-12-04T00:00:00.000Z', "
    "'INTERNAL\\sa_repository', 'EveryoneStream', 'Security', NULL, 'Default', 'resource.name = "
    "\"Everyone\" and !user.IsAnonymous()', 'Stream_*', 2, "
    "'Every signed-in user reads the stream named Everyone.', 0, 0, "
    "'5eed0000-0000-4000-8000-000000000004');\n"
    "INSERT INTO systemrule (id, created_date, modified_date, modified_by, name, category, "
    "subcategory, type, rule, resource_filter, actions, comment, disabled, rule_context, seed_id) "
    "VALUES ('5eed0000-0000-4000-8000-000000000005', '2026-12-04T00:00:00.000Z', "
    "'2026-12-04T00:00:00.000Z', "
    "'INTERNAL\\sa_repository', 'PublishedApp', 'Security', NULL, 'Default', 'resource.published = "
    "\"true\" and resource.stream.HasPrivilege(\"read\")', 'App_*', 2, "
    "'A published app is read by whoever reads its stream.', 0, 0, "
    "'5eed0000-0000-4000-8000-000000000005');\n"
    "INSERT INTO systemrule (id, created_date, modified_date, modified_by, name, category, "
    "subcategory, type, rule, resource_filter, actions, comment, disabled, rule_context, seed_id) "
    "VALUES ('5eed0000-0000-4000-8000-000000000006', '2026-12-04T00:00:00.000Z', "
    "'2026-12-04T00:00:00.000Z', "
    "'INTERNAL\\sa_repository', 'OwnApp', 'Security', NULL, 'Default', 'resource.owner = user and "
    "resource.published = \"false\"', 'App_*', 62, "
    "'The owner of an unpublished app reads, changes, deletes, exports and publishes it.', 0, 0, "
    "'5eed0000-0000-4000-8000-000000000006');\n"
    "INSERT INTO systemrule (id, created_date, modified_date, modified_by, name, category, "
    "subcategory, type, rule, resource_filter, actions, comment, disabled, rule_context, seed_id) "
    "VALUES ('5eed0000-0000-4000-8000-000000000007', '2026-12-04T00:00:00.000Z', "
    "'2026-12-04T00:00:00.000Z', "
    "'INTERNAL\\sa_repository', 'OwnPublishedApp', 'Security', NULL, 'Default', 'resource.owner = "
    "user and resource.published = \"true\"', 'App_*', 18, "
    "'The owner of a published app reads and exports it.', 0, 0, "
    "'5eed0000-0000-4000-8000-000000000007');\n"
    "INSERT INTO systemrule (id, created_date, modified_date, modified_by, name, category, "
    "subcategory, type, rule, resource_filter, actions, comment, disabled, rule_context, seed_id) "
    "VALUES ('5eed0000-0000-4000-8000-000000000008', '2026-12-04T00:00:00.000Z', "
    "'2026-12-04T00:00:00.000Z', "
    "'INTERNAL\\sa_repository', 'CreateApp', 'Security', NULL, 'Default', '!user.IsAnonymous()', "
    "'App_*', 1, "
    "'Every signed-in user creates apps (upload, copy).', 0, 0, "
    "'5eed0000-0000-4000-8000-000000000008');\n"
    "INSERT INTO systemrule (id, created_date, modified_date, modified_by, name, category, "
    "subcategory, type, rule, resource_filter, actions, comment, disabled, rule_context, seed_id) "
    "VALUES ('5eed0000-0000-4000-8000-000000000009', '2026-12-04T00:00:00.000Z', "
    "'2026-12-04T00:00:00.000Z', "
    "'INTERNAL\\sa_repository', 'OwnUser', 'Security', NULL, 'Default', 'resource.id = user.id', "
    "'User_*', 2, "
    "'Every user reads their own user entity.', 0, 0, '5eed0000-0000-4000-8000-000000000009');\n"
    "INSERT INTO systemrule (id, created_date, modified_date, modified_by, name, category, "
    "subcategory, type, rule, resource_filter, actions, comment, disabled, rule_context, seed_id) "
    "VALUES ('5eed0000-0000-4000-8000-000000000010', '2026-12-04T00:00:00.000Z', "
    "'2026-12-04T00:00:00.000Z', "
    "'INTERNAL\\sa_repository', 'ReadTags', 'Security', NULL, 'Default', '', "
    "'Tag_*,CustomPropertyDefinition_*', 2, "
    "'Every user reads tags and custom property definitions.', 0, 0, "
    "'5eed0000-0000-4000-8000-000000000010');\n"
    "INSERT INTO systemrule (id, created_date, modified_date, modified_by, name, category, "
    "subcategory, type, rule, resource_filter, actions, comment, disabled, rule_context, seed_id) "
    "VALUES ('5eed0000-0000-4000-8000-000000000011', '2026-12-04T00:00:00.000Z', "
    "'2026-12-04T00:00:00.000Z', "
    "'INTERNAL\\sa_repository', 'OwnDataConnection', 'Security', NULL, 'Default', 'resource.owner "
    "= user', 'DataConnection_*', 14, "
    "'The owner of a data connection reads, changes and deletes it.', 0, 0, "
    "'5eed0000-0000-4000-8000-000000000011');\n";

/* 8: authenticationMethod 5 is OIDC and 6 Form, as in QRS (5 was Form); the OpenID Connect
 * settings of a virtual proxy, with QRS's names, and the PEM of the CA an identity provider
 * outside the public ones chains to (ours). */
static const char v8[] =
    "UPDATE virtualproxyconfig SET authentication_method = 11 - authentication_method WHERE "
    "authentication_method IN (5, 6);\n"
    "ALTER TABLE virtualproxyconfig ADD COLUMN oidc_configuration_endpoint_uri TEXT;\n"
    "ALTER TABLE virtualproxyconfig ADD COLUMN oidc_client_id TEXT;\n"
    "ALTER TABLE virtualproxyconfig ADD COLUMN oidc_client_secret TEXT;\n"
    "ALTER TABLE virtualproxyconfig ADD COLUMN oidc_realm TEXT;\n"
    "ALTER TABLE virtualproxyconfig ADD COLUMN oidc_scope TEXT;\n"
    "ALTER TABLE virtualproxyconfig ADD COLUMN oidc_attribute_sub TEXT;\n"
    "ALTER TABLE virtualproxyconfig ADD COLUMN oidc_attribute_name TEXT;\n"
    "ALTER TABLE virtualproxyconfig ADD COLUMN oidc_attribute_groups TEXT;\n"
    "ALTER TABLE virtualproxyconfig ADD COLUMN oidc_attribute_email TEXT;\n"
    "ALTER TABLE virtualproxyconfig ADD COLUMN oidc_ca_certificate TEXT;\n";

/* 9: engine sessions spread over the nodes. Each heartbeat says how many sessions the node's
 * engine holds and which apps it has in memory (ids, comma-separated), so a proxy sends a
 * person to a node that has the app loaded, else to the least busy one. A person's
 * selections are kept by the engine under a key the proxy derives from the person's session
 * (never the session id itself), so that after a node dies any node resumes them. A
 * virtual proxy may name the nodes its sessions go to (loadBalancingServerNodes). A user
 * keeps the attributes an identity provider gave at sign-in (QRS's UserAttribute list). */
static const char v9[] =
    "ALTER TABLE node_heartbeat ADD COLUMN engine_sessions INTEGER NOT NULL DEFAULT 0;\n"
    "ALTER TABLE node_heartbeat ADD COLUMN engine_apps TEXT NOT NULL DEFAULT '';\n"
    "CREATE TABLE engine_session_state (state_key TEXT NOT NULL, app_id TEXT NOT NULL, "
    "selections TEXT NOT NULL, updated_at {BIGINT} NOT NULL, PRIMARY KEY (state_key, "
    "app_id));\n"
    "CREATE INDEX engine_session_state_updated ON engine_session_state (updated_at);\n"
    "ALTER TABLE virtualproxyconfig ADD COLUMN load_balancing_server_nodes TEXT;\n"
    "ALTER TABLE users ADD COLUMN attributes TEXT;\n";

/* 10: each node's last warnings and errors (at most 50 per node), for the health page. */
static const char v10[] =
    "CREATE TABLE node_log (node_id TEXT NOT NULL, at TEXT NOT NULL, level TEXT NOT NULL, "
    "message TEXT NOT NULL);\n"
    "CREATE INDEX node_log_at ON node_log (node_id, at);\n";

/* 11: what each node started with (its services and the service cluster's folders it
 * follows), so that the console can tell which nodes a change waits for; and how its last
 * probe of the share went ("ok" or what failed; "" before the first). */
static const char v11[] =
    "ALTER TABLE node_heartbeat ADD COLUMN running TEXT NOT NULL DEFAULT '{}';\n"
    "ALTER TABLE node_heartbeat ADD COLUMN share_state TEXT NOT NULL DEFAULT '';\n";

const struct db_migration repo_migrations[] = {
    {1, v1}, {2, v2}, {4, v4},	 {5, v5},   {6, v6},   {7, v7},
    {8, v8}, {9, v9}, {10, v10}, {11, v11}, {0, NULL},
};
