/* entities.c: the entity types of the repository, as data.
 *
 * Adding a type is adding a table here, a migration in db/schema.c, and a line in
 * repo_entities. Field order is the order of the JSON output. */
#include "repo/repo_int.h"
#include "rules/rules.h"

#include <string.h>

#define COMMON_FIELDS                                                                              \
	{"id", "id", FT_GUID, F_RO | F_CONDENSED | F_COMMON, NULL, 0, NULL, NULL},                 \
	    {"createdDate", "created_date", FT_DATE, F_RO | F_COMMON, NULL, 0, NULL, NULL},        \
	    {"modifiedDate", "modified_date", FT_DATE, F_RO | F_COMMON, NULL, 0, NULL, NULL},      \
	{                                                                                          \
		"modifiedByUserName", "modified_by", FT_STRING, F_RO | F_COMMON, NULL, 0, NULL,    \
		    NULL                                                                           \
	}

static const char *const availability_names[] = {
    "NotApplicable", "Available", "NoActiveRoute", "NoConfiguredRoute", "NotSynced",
    "NotMigrated",   NULL};
static const char *const node_purpose_names[] = {"Production", "Development", "Both", NULL};
static const char *const log_on_names[] = {"LogOnServiceUser", "LogOnCurrentUser", NULL};
static const char *const architecture_names[] = {"Undefined", "x86", "x64", NULL};

static const struct field_desc app_fields[] = {
    COMMON_FIELDS,
    {"name", "name", FT_STRING, F_CONDENSED | F_REQUIRED | F_FILENAME, NULL, 255, NULL, NULL},
    {"appId", "app_id", FT_STRING, F_CONDENSED, NULL, 255, NULL, NULL},
    {"description", "description", FT_STRING, F_MULTILINE, NULL, 512, NULL, NULL},
    {"owner", "owner_id", FT_REF, 0, "user", 0, NULL, NULL},
    {"stream", "stream_id", FT_REF, F_RO | F_CONDENSED, "stream", 0, NULL, NULL},
    {"published", "published", FT_BOOL, F_RO | F_CONDENSED, NULL, 0, "false", NULL},
    {"publishTime", "publish_time", FT_DATE, F_RO | F_CONDENSED, NULL, 0, TIME_NEVER, NULL},
    {"fileSize", "file_size", FT_INT, F_RO, NULL, 0, "0", NULL},
    {"lastReloadTime", "last_reload_time", FT_DATE, F_RO, NULL, 0, TIME_NEVER, NULL},
    {"thumbnail", "thumbnail", FT_STRING, 0, NULL, 1024, NULL, NULL},
    {"sourceAppId", "source_app_id", FT_GUID, F_RO, NULL, 0, UUID_EMPTY, NULL},
    {"targetAppId", "target_app_id", FT_GUID, F_RO, NULL, 0, UUID_EMPTY, NULL},
    {"savedInProductVersion", "saved_in_product_version", FT_STRING, F_CONDENSED, NULL, 64, NULL,
     NULL},
    {"migrationHash", "migration_hash", FT_STRING, F_CONDENSED, NULL, 255, NULL, NULL},
    {"dynamicColor", "dynamic_color", FT_STRING, 0, NULL, 64, NULL, NULL},
    {"availabilityStatus", "availability_status", FT_ENUM, F_RO | F_CONDENSED, NULL, 0, "0",
     availability_names},
    {"generation", "generation", FT_STRING, F_HIDDEN, NULL, 0, NULL, NULL},
    {"fileSha256", "file_sha256", FT_STRING, F_HIDDEN, NULL, 0, NULL, NULL},
};

static const struct field_desc stream_fields[] = {
    COMMON_FIELDS,
    {"name", "name", FT_STRING, F_CONDENSED | F_REQUIRED, NULL, 255, NULL, NULL},
    {"owner", "owner_id", FT_REF, 0, "user", 0, NULL, NULL},
};

static const struct field_desc user_fields[] = {
    COMMON_FIELDS,
    {"userId", "user_id", FT_STRING, F_CONDENSED | F_REQUIRED, NULL, 255, NULL, NULL},
    {"userDirectory", "user_directory", FT_STRING, F_CONDENSED | F_REQUIRED, NULL, 255, NULL, NULL},
    {"userDirectoryConnectorName", "user_directory_connector_name", FT_STRING, F_CONDENSED, NULL,
     255, NULL, NULL},
    {"name", "name", FT_STRING, F_CONDENSED, NULL, 255, NULL, NULL},
    {"roles", "roles", FT_STRLIST, 0, NULL, 4096, NULL, NULL},
    {"inactive", "inactive", FT_BOOL, 0, NULL, 0, "false", NULL},
    {"removedExternally", "removed_externally", FT_BOOL, 0, NULL, 0, "false", NULL},
    {"blacklisted", "blacklisted", FT_BOOL, 0, NULL, 0, "false", NULL},
    {"deleteProhibited", "delete_prohibited", FT_BOOL, 0, NULL, 0, "false", NULL},
    {"attributes", "attributes", FT_OBJECT, F_ARRAY, NULL, 65536, NULL, NULL},
};

static const struct field_desc tag_fields[] = {
    COMMON_FIELDS,
    {"name", "name", FT_STRING, F_CONDENSED | F_REQUIRED, NULL, 255, NULL, NULL},
};

static const struct field_desc dataconnection_fields[] = {
    COMMON_FIELDS,
    {"name", "name", FT_STRING, F_CONDENSED | F_REQUIRED, NULL, 255, NULL, NULL},
    {"connectionstring", "connectionstring", FT_STRING, F_CONDENSED | F_REQUIRED, NULL, 4096, NULL,
     NULL},
    {"type", "type", FT_STRING, F_CONDENSED, NULL, 255, "folder", NULL},
    {"engineObjectId", "engine_object_id", FT_GUID, F_CONDENSED, NULL, 0, NULL, NULL},
    {"username", "username", FT_STRING, F_CONDENSED, NULL, 255, NULL, NULL},
    {"password", "password", FT_STRING, F_WRITEONLY, NULL, 1024, NULL, NULL},
    {"logOn", "log_on", FT_ENUM, 0, NULL, 0, "0", log_on_names},
    {"architecture", "architecture", FT_ENUM, 0, NULL, 0, "0", architecture_names},
    {"owner", "owner_id", FT_REF, 0, "user", 0, NULL, NULL},
};

static const struct field_desc servicecluster_fields[] = {
    COMMON_FIELDS,
    {"name", "name", FT_STRING, F_CONDENSED | F_REQUIRED, NULL, 255, NULL, NULL},
    {"settings", "settings", FT_OBJECT, 0, NULL, 65536, NULL, NULL},
};

static const struct field_desc node_fields[] = {
    COMMON_FIELDS,
    {"name", "name", FT_STRING, F_CONDENSED | F_REQUIRED, NULL, 255, NULL, NULL},
    {"hostName", "host_name", FT_STRING, F_CONDENSED | F_REQUIRED, NULL, 255, NULL, NULL},
    {"isCentral", "is_central", FT_BOOL, F_RO, NULL, 0, "false", NULL},
    {"nodePurpose", "node_purpose", FT_ENUM, 0, NULL, 0, "0", node_purpose_names},
    {"engineEnabled", "engine_enabled", FT_BOOL, 0, NULL, 0, "true", NULL},
    {"proxyEnabled", "proxy_enabled", FT_BOOL, 0, NULL, 0, "true", NULL},
    {"schedulerEnabled", "scheduler_enabled", FT_BOOL, 0, NULL, 0, "true", NULL},
    {"printingEnabled", "printing_enabled", FT_BOOL, 0, NULL, 0, "false", NULL},
    {"failoverCandidate", "failover_candidate", FT_BOOL, 0, NULL, 0, "false", NULL},
    {"serviceCluster", "service_cluster_id", FT_REF, F_CONDENSED, "servicecluster", 0, NULL, NULL},
    {"temporaryfilepath", "temporary_file_path", FT_STRING, F_CONDENSED, NULL, 1024, NULL, NULL},
};

static const struct field_desc cpdef_fields[] = {
    COMMON_FIELDS,
    {"name", "name", FT_STRING, F_CONDENSED | F_REQUIRED, NULL, 255, NULL, NULL},
    {"valueType", "value_type", FT_STRING, F_CONDENSED, NULL, 64, "Text", NULL},
    {"choiceValues", "choice_values", FT_STRLIST, F_CONDENSED, NULL, 16384, NULL, NULL},
    {"objectTypes", "object_types", FT_STRLIST, 0, NULL, 4096, NULL, NULL},
    {"description", "description", FT_STRING, F_MULTILINE, NULL, 1024, NULL, NULL},
};

static const struct field_desc cpv_fields[] = {
    COMMON_FIELDS,
    {"value", "value", FT_STRING, F_CONDENSED, NULL, 1024, NULL, NULL},
    {"definition", "definition_id", FT_REF, F_CONDENSED, "custompropertydefinition", 0, NULL, NULL},
};

#define DESC_CHECK(path_, schema_, table_, fields_, flags_, check_)                                \
	{                                                                                          \
		.path = path_, .schema = schema_, .table = table_, .fields = fields_,              \
		.n_fields = (int)ARRAY_LEN(fields_), .flags = flags_, .check = check_              \
	}
#define DESC(path, schema, table, fields, flags)                                                   \
	DESC_CHECK(path, schema, table, fields, flags, NULL)

static const char *const rule_context_names[] = {"BothQlikSenseAndQMC", "QlikSenseOnly", "QMCOnly",
						 NULL};

static const struct field_desc systemrule_fields[] = {
    COMMON_FIELDS,
    {"category", "category", FT_STRING, F_CONDENSED, NULL, 64, "Security", NULL},
    {"subcategory", "subcategory", FT_STRING, F_CONDENSED, NULL, 255, NULL, NULL},
    {"type", "type", FT_STRING, F_CONDENSED, NULL, 64, "Custom", NULL},
    {"name", "name", FT_STRING, F_CONDENSED | F_REQUIRED, NULL, 255, NULL, NULL},
    {"rule", "rule", FT_STRING, F_CONDENSED | F_MULTILINE, NULL, 2048, NULL, NULL},
    {"resourceFilter", "resource_filter", FT_STRING, F_CONDENSED | F_REQUIRED, NULL, 1024, NULL,
     NULL},
    {"actions", "actions", FT_INT, F_CONDENSED | F_REQUIRED, NULL, 0, NULL, NULL},
    {"comment", "comment", FT_STRING, F_CONDENSED | F_MULTILINE, NULL, 255, NULL, NULL},
    {"disabled", "disabled", FT_BOOL, F_CONDENSED, NULL, 0, "false", NULL},
    {"ruleContext", "rule_context", FT_ENUM, F_CONDENSED, NULL, 0, "0", rule_context_names},
    {"seedId", "seed_id", FT_GUID, F_CONDENSED, NULL, 0, NULL, NULL},
};

/* A system rule's condition must parse, its resource filter too, and its category and
 * type be known ones. */
static int check_systemrule(const struct repo *repo, const struct decoded *in, struct err *e)
{
	(void)repo;
	for (int i = 0; i < in->n_vals; i++) {
		const struct colval *v = &in->vals[i];
		const char *s = v->is_null ? NULL : v->s;
		int rc = 0;
		if (strcmp(v->f->json, "rule") == 0 && s) {
			struct rule *r = NULL;
			rc = rules_parse(s, &r, e);
			rules_free(r);
			if (rc) {
				char msg[sizeof(e->message)];
				str_copy(msg, e->message, sizeof(msg));
				int pos = e->position;
				err_set(e, ERR_FILTER, "rule: %s", msg);
				e->position = pos;
			}
		} else if (strcmp(v->f->json, "resourceFilter") == 0) {
			rc = rules_filter_check(s, e);
		} else if (strcmp(v->f->json, "category") == 0 && s && !str_ieq(s, "Security") &&
			   !str_ieq(s, "License") && !str_ieq(s, "Sync")) {
			rc = err_set(e, ERR_FIELD,
				     "category must be Security, License or Sync, not "
				     "\"%s\"",
				     s);
		} else if (strcmp(v->f->json, "type") == 0 && s && !str_ieq(s, "Custom") &&
			   !str_ieq(s, "Default") && !str_ieq(s, "ReadOnly")) {
			rc = err_set(e, ERR_FIELD,
				     "type must be Custom, Default or ReadOnly, not \"%s\"", s);
		} else if (strcmp(v->f->json, "actions") == 0 && (v->is_null || v->i < 0)) {
			rc = err_set(e, ERR_FIELD, "actions must be a bit mask (0 or more)");
		}
		if (rc)
			return rc;
	}
	return 0;
}

/* ---------------------------------------------------------------- virtual proxies */

static const char *const auth_method_names[] = {"Ticket",
						"HeaderStaticUserDirectory",
						"HeaderDynamicUserDirectory",
						"SAML",
						"JWT",
						"OIDC",
						"Form",
						NULL};

static const struct field_desc vproxy_fields[] = {
    COMMON_FIELDS,
    {"prefix", "prefix", FT_STRING, F_CONDENSED, NULL, 64, "", NULL},
    {"description", "description", FT_STRING, F_CONDENSED | F_REQUIRED, NULL, 255, NULL, NULL},
    {"authenticationMethod", "authentication_method", FT_ENUM, F_CONDENSED, NULL, 0, "0",
     auth_method_names},
    {"sessionCookieHeaderName", "session_cookie_header_name", FT_STRING, F_CONDENSED, NULL, 64,
     "X-Qlik-Session", NULL},
    {"sessionInactivityTimeout", "session_inactivity_timeout", FT_INT, 0, NULL, 0, "30", NULL},
    {"authenticationModuleRedirectUri", "authentication_module_redirect_uri", FT_STRING, 0, NULL,
     1024, NULL, NULL},
    {"headerAuthenticationHeaderName", "header_authentication_header_name", FT_STRING, 0, NULL, 128,
     NULL, NULL},
    {"headerAuthenticationStaticUserDirectory", "header_authentication_static_user_directory",
     FT_STRING, 0, NULL, 128, NULL, NULL},
    {"headerAuthenticationDynamicUserDirectory", "header_authentication_dynamic_user_directory",
     FT_STRING, 0, NULL, 128, NULL, NULL},
    {"headerAuthenticationTrustedAddresses", "header_authentication_trusted_addresses", FT_STRLIST,
     0, NULL, 4096, NULL, NULL},
    {"websocketCrossOriginWhiteList", "websocket_cross_origin_white_list", FT_STRLIST, 0, NULL,
     8192, NULL, NULL},
    {"additionalResponseHeaders", "additional_response_headers", FT_STRING, F_MULTILINE, NULL, 4096,
     NULL, NULL},
    {"jwtPublicKeyCertificate", "jwt_public_key_certificate", FT_STRING, F_MULTILINE, NULL, 16384,
     NULL, NULL},
    {"jwtAttributeUserId", "jwt_attribute_user_id", FT_STRING, 0, NULL, 128, NULL, NULL},
    {"jwtAttributeUserDirectory", "jwt_attribute_user_directory", FT_STRING, 0, NULL, 128, NULL,
     NULL},
    {"jwtAudience", "jwt_audience", FT_STRING, 0, NULL, 255, NULL, NULL},
    {"jwtIssuer", "jwt_issuer", FT_STRING, 0, NULL, 255, NULL, NULL},
    {"oidcConfigurationEndpointUri", "oidc_configuration_endpoint_uri", FT_STRING, 0, NULL, 1024,
     NULL, NULL},
    {"oidcClientId", "oidc_client_id", FT_STRING, 0, NULL, 255, NULL, NULL},
    {"oidcClientSecret", "oidc_client_secret", FT_STRING, F_WRITEONLY, NULL, 511, NULL, NULL},
    {"oidcRealm", "oidc_realm", FT_STRING, 0, NULL, 128, NULL, NULL},
    {"oidcScope", "oidc_scope", FT_STRING, 0, NULL, 255, NULL, NULL},
    {"oidcAttributeSub", "oidc_attribute_sub", FT_STRING, 0, NULL, 128, NULL, NULL},
    {"oidcAttributeName", "oidc_attribute_name", FT_STRING, 0, NULL, 128, NULL, NULL},
    {"oidcAttributeGroups", "oidc_attribute_groups", FT_STRING, 0, NULL, 128, NULL, NULL},
    {"oidcAttributeEmail", "oidc_attribute_email", FT_STRING, 0, NULL, 128, NULL, NULL},
    {"oidcCaCertificate", "oidc_ca_certificate", FT_STRING, F_MULTILINE, NULL, 8192, NULL, NULL},
    {"loadBalancingServerNodes", "load_balancing_server_nodes", FT_OBJECT, F_ARRAY, NULL, 16384,
     NULL, NULL},
};

/* A token of HTTP (a header or cookie name): letters, digits and -_. */
static bool http_token(const char *s, bool may_be_empty)
{
	size_t n = strlen(s);
	return (n > 0 || may_be_empty) &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") == n;
}

/* Additional response headers: "Name: value" lines, no control characters in a value. */
static bool header_lines(const char *s)
{
	for (const char *line = s; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line) : strlen(line);
		const char *colon = memchr(line, ':', n);
		if (n && line[n - 1] == '\r')
			n--;
		if (n && (!colon || colon == line))
			return false;
		for (const char *c = line; n && c < line + n; c++)
			if ((c < colon &&
			     !strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				     "0123456789-_",
				     *c)) ||
			    (unsigned char)*c < 0x20)
				return false;
		line = end ? end + 1 : NULL;
	}
	return true;
}

/* A prefix is lowercase letters, digits, - and _ (and "" for the default); names and
 * header lines must be usable in HTTP as they are. */
/* attributes: QRS's UserAttribute list, objects with text attributeType and attributeValue
 * (and externalId). */
static int check_user(const struct repo *repo, const struct decoded *in, struct err *e)
{
	(void)repo;
	for (int i = 0; i < in->n_vals; i++) {
		const struct colval *v = &in->vals[i];
		if (strcmp(v->f->json, "attributes") != 0 || v->is_null)
			continue;
		json_t *a = json_loads(v->s, 0, NULL);
		bool ok = json_is_array(a);
		size_t k;
		json_t *it;
		json_array_foreach (a, k, it) {
			json_t *x = json_object_get(it, "externalId");
			ok = ok && json_is_string(json_object_get(it, "attributeType")) &&
			     json_is_string(json_object_get(it, "attributeValue")) &&
			     (!x || json_is_string(x) || json_is_null(x));
		}
		json_decref(a);
		if (!ok)
			return err_set(e, ERR_FIELD,
				       "attributes lists objects with a text attributeType and "
				       "attributeValue");
	}
	return 0;
}

/* A folder connection's folder must not reach the operating system's folders, this node's
 * folder or the share's apps (share_folder_check); other types are not files. */
static int check_dataconnection(const struct repo *repo, const struct decoded *in, struct err *e)
{
	const char *folder = NULL;
	bool is_folder = true;
	for (int i = 0; i < in->n_vals; i++) {
		const struct colval *v = &in->vals[i];
		if (strcmp(v->f->json, "connectionstring") == 0 && !v->is_null)
			folder = v->s;
		if (strcmp(v->f->json, "type") == 0)
			is_folder = v->is_null || str_ieq(v->s, "folder");
	}
	if (!folder || !is_folder)
		return 0;
	const char *guarded[3];
	int n = repo ? repo_guarded_dirs(repo, guarded) : 0;
	return share_folder_check(folder, guarded, n, e);
}

/* The service cluster's settings: the central role's TTL in range, and each shared
 * persistence folder an absolute path that, mapped onto this node's mount of the root
 * folder, is a writable folder here (other nodes check theirs when they start). */
static int check_cluster_settings(const struct repo *repo, const char *text, struct err *e)
{
	json_t *j = json_loads(text, 0, NULL);
	int rc = json_is_object(j) ? 0 : err_set(e, ERR_FIELD, "settings must be an object");
	json_t *ttl = json_object_get(j, "centralRoleTtlSeconds");
	if (rc == 0 && ttl &&
	    (!json_is_integer(ttl) || json_integer_value(ttl) < 3 ||
	     json_integer_value(ttl) > 3600))
		rc = err_set(e, ERR_FIELD,
			     "centralRoleTtlSeconds must be a whole number of seconds from 3 to "
			     "3600");
	json_t *sp = json_object_get(j, "sharedPersistenceProperties");
	if (rc == 0 && sp && !json_is_object(sp))
		rc = err_set(e, ERR_FIELD, "sharedPersistenceProperties must be an object");
	static const char *const keys[] = {"rootFolder", "appFolder", "staticContentRootFolder",
					   "archivedLogsRootFolder", "customDataRootFolder"};
	const char *root = json_string_value(json_object_get(sp, "rootFolder"));
	for (size_t i = 0; rc == 0 && sp && i < ARRAY_LEN(keys); i++) {
		json_t *v = json_object_get(sp, keys[i]);
		if (!v && i > 0)
			continue;
		if (!json_is_string(v) || !root) {
			rc = err_set(e, ERR_FIELD, "sharedPersistenceProperties.%s must be a path",
				     keys[i]);
			break;
		}
		char here[PATH_MAX];
		const char *mount = repo && repo->share ? share_root(repo->share) : root;
		struct err me;
		err_init(&me);
		if (share_map_folder(root, json_string_value(v), mount, here, sizeof(here), &me)) {
			rc = err_set(e, ERR_FIELD, "sharedPersistenceProperties.%s: %s", keys[i],
				     me.message);
		} else if (repo && repo->share && !dir_is_writable(here)) {
			rc = err_set(
			    e, ERR_FIELD,
			    "sharedPersistenceProperties.%s: \"%s\" is not a writable folder "
			    "on this node",
			    keys[i], here);
			err_hint(e, "make the folder on the share first (it is %s here)", here);
		}
	}
	json_decref(j);
	return rc;
}

static int check_servicecluster(const struct repo *repo, const struct decoded *in, struct err *e)
{
	for (int i = 0; i < in->n_vals; i++) {
		const struct colval *v = &in->vals[i];
		if (strcmp(v->f->json, "settings") == 0 && !v->is_null)
			return check_cluster_settings(repo, v->s, e);
	}
	return 0;
}

/* A JSON array of objects that each hold a GUID under "id" (at most 64). */
static bool node_list_ok(const char *json)
{
	json_t *a = json_loads(json, 0, NULL);
	bool ok = json_is_array(a) && json_array_size(a) <= 64;
	size_t i;
	json_t *n;
	json_array_foreach (a, i, n) {
		const char *id = json_string_value(json_object_get(n, "id"));
		ok = ok && id && uuid_valid(id);
	}
	json_decref(a);
	return ok;
}

static int check_vproxy(const struct repo *repo, const struct decoded *in, struct err *e)
{
	(void)repo;
	for (int i = 0; i < in->n_vals; i++) {
		const struct colval *v = &in->vals[i];
		const char *s = v->is_null ? NULL : v->s;
		const char *f = v->f->json;
		if (strcmp(f, "prefix") == 0 && s &&
		    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-_") != strlen(s))
			return err_set(e, ERR_FIELD,
				       "prefix may hold lowercase letters, digits, - and _ only");
		if ((strcmp(f, "sessionCookieHeaderName") == 0 ||
		     strcmp(f, "headerAuthenticationHeaderName") == 0) &&
		    s && !http_token(s, strcmp(f, "headerAuthenticationHeaderName") == 0))
			return err_set(e, ERR_FIELD,
				       "%s must be a name of letters, digits, - and _", f);
		if (strcmp(f, "sessionInactivityTimeout") == 0 && (v->i < 1 || v->i > 10080))
			return err_set(e, ERR_FIELD,
				       "sessionInactivityTimeout is in minutes, from 1 to 10080");
		if (strcmp(f, "additionalResponseHeaders") == 0 && s && !header_lines(s))
			return err_set(e, ERR_FIELD,
				       "additionalResponseHeaders must be \"Name: value\" lines");
		if (strcmp(f, "oidcConfigurationEndpointUri") == 0 && s && *s &&
		    !str_has_prefix(s, "https://"))
			return err_set(e, ERR_FIELD,
				       "oidcConfigurationEndpointUri must be an https:// address "
				       "(the provider's .well-known/openid-configuration)");
		if (strcmp(f, "oidcRealm") == 0 && s &&
		    (strpbrk(s, "\\;=") || str_has_ctl(s, false)))
			return err_set(e, ERR_FIELD,
				       "oidcRealm names a user directory: no \\, ; or =");
		if (strcmp(f, "loadBalancingServerNodes") == 0 && s && !node_list_ok(s))
			return err_set(
			    e, ERR_FIELD,
			    "loadBalancingServerNodes lists nodes as objects with an \"id\" "
			    "(a server node configuration's GUID)");
		if (strcmp(f, "oidcCaCertificate") == 0 && s && *s &&
		    !strstr(s, "-----BEGIN CERTIFICATE-----"))
			return err_set(e, ERR_FIELD,
				       "oidcCaCertificate must be one or more PEM certificates");
	}
	return 0;
}

/* ---------------------------------------------------------------- tasks and triggers */

const char *const repo_exec_status_names[] = {
    "NeverStarted",    "Triggered",    "Started", "Queued", "AbortInitiated", "Aborting", "Aborted",
    "FinishedSuccess", "FinishedFail", "Skipped", "Retry",  "Error",	      "Reset",	  NULL};

static const char *const task_type_names[] = {"Reload", "ExternalProgram", "UserSync", "Distribute",
					      NULL};
static const char *const event_type_names[] = {"Schema", "Composite", NULL};
static const char *const dst_names[] = {"ObserveDaylightSavingTime", "PermanentStandardTime",
					"PermanentDaylightSavingTime", NULL};
static const char *const increment_names[] = {"once",	 "hourly", "daily", "weekly",
					      "monthly", "custom", NULL};
static const char *const abort_reason_names[] = {"Undefined", "Manual", "Timeout", "DeletedTask",
						 NULL};

static const struct field_desc reloadtask_fields[] = {
    COMMON_FIELDS,
    {"name", "name", FT_STRING, F_CONDENSED | F_REQUIRED, NULL, 500, NULL, NULL},
    {"taskType", "task_type", FT_ENUM, F_CONDENSED, NULL, 0, "0", task_type_names},
    {"enabled", "enabled", FT_BOOL, F_CONDENSED, NULL, 0, "true", NULL},
    {"taskSessionTimeout", "task_session_timeout", FT_INT, F_CONDENSED, NULL, 0, "1440", NULL},
    {"maxRetries", "max_retries", FT_INT, F_CONDENSED, NULL, 0, "0", NULL},
    {"app", "app_id", FT_REF, F_CONDENSED | F_REQUIRED, "app", 0, NULL, NULL},
    {"isManuallyTriggered", "is_manually_triggered", FT_BOOL, 0, NULL, 0, "false", NULL},
    {"isPartialReload", "is_partial_reload", FT_BOOL, 0, NULL, 0, "false", NULL},
    {"operational", "operational", FT_OBJECT, F_RO | F_SERVER | F_CONDENSED, NULL, 0, NULL, NULL},
    {"runningSession", "running_session", FT_GUID, F_HIDDEN, NULL, 0, NULL, NULL},
};

static const struct field_desc schemaevent_fields[] = {
    COMMON_FIELDS,
    {"name", "name", FT_STRING, F_CONDENSED | F_REQUIRED, NULL, 255, NULL, NULL},
    {"enabled", "enabled", FT_BOOL, F_CONDENSED, NULL, 0, "true", NULL},
    {"eventType", "event_type", FT_ENUM, F_CONDENSED, NULL, 0, "0", event_type_names},
    {"reloadTask", "reload_task_id", FT_REF, F_CONDENSED | F_REQUIRED, "reloadtask", 0, NULL, NULL},
    {"timeZone", "time_zone", FT_STRING, F_CONDENSED, NULL, 64, "UTC", NULL},
    {"daylightSavingTime", "daylight_saving_time", FT_ENUM, F_CONDENSED, NULL, 0, "0", dst_names},
    {"startDate", "start_date", FT_DATE, F_CONDENSED | F_REQUIRED, NULL, 0, NULL, NULL},
    {"expirationDate", "expiration_date", FT_DATE, F_CONDENSED, NULL, 0, "9999-01-01T00:00:00.000Z",
     NULL},
    {"schemaFilterDescription", "schema_filter_description", FT_STRLIST, F_CONDENSED, NULL, 1024,
     NULL, NULL},
    {"incrementDescription", "increment_description", FT_STRING, F_CONDENSED, NULL, 64, "0 0 1 0",
     NULL},
    {"incrementOption", "increment_option", FT_ENUM, F_CONDENSED, NULL, 0, "2", increment_names},
    {"operational", "operational", FT_OBJECT, F_RO | F_SERVER | F_CONDENSED, NULL, 0, NULL, NULL},
    {"nextFire", "next_fire", FT_DATE, F_HIDDEN, NULL, 0, NULL, NULL},
    {"schedFrom", "sched_from", FT_STRING, F_HIDDEN, NULL, 0, NULL, NULL},
};

static const struct field_desc compositeevent_fields[] = {
    COMMON_FIELDS,
    {"name", "name", FT_STRING, F_CONDENSED | F_REQUIRED, NULL, 255, NULL, NULL},
    {"enabled", "enabled", FT_BOOL, F_CONDENSED, NULL, 0, "true", NULL},
    {"eventType", "event_type", FT_ENUM, F_CONDENSED, NULL, 0, "1", event_type_names},
    {"reloadTask", "reload_task_id", FT_REF, F_CONDENSED | F_REQUIRED, "reloadtask", 0, NULL, NULL},
    {"timeConstraint", "time_constraint", FT_OBJECT, F_CONDENSED, NULL, 512, NULL, NULL},
    {"compositeRules", "composite_rules", FT_OBJECT, F_ARRAY | F_CONDENSED | F_REQUIRED, NULL,
     16384, NULL, NULL},
    {"operational", "operational", FT_OBJECT, F_RO | F_SERVER | F_CONDENSED, NULL, 0, NULL, NULL},
};

static const struct field_desc executionsession_fields[] = {
    COMMON_FIELDS,
    {"reloadTask", "reload_task_id", FT_REF, F_RO | F_CONDENSED, "reloadtask", 0, NULL, NULL},
    {"app", "app_id", FT_GUID, F_RO | F_CONDENSED, NULL, 0, NULL, NULL},
    {"triggerId", "trigger_id", FT_STRING, F_RO | F_CONDENSED, NULL, 0, NULL, NULL},
    {"fireTime", "fire_time", FT_DATE, F_RO | F_CONDENSED, NULL, 0, NULL, NULL},
    {"status", "status", FT_ENUM, F_RO | F_CONDENSED, NULL, 0, "3", repo_exec_status_names},
    {"executingNodeId", "executing_node_id", FT_GUID, F_RO | F_CONDENSED, NULL, 0, NULL, NULL},
    {"executionResult", "execution_result_id", FT_GUID, F_RO | F_CONDENSED, NULL, 0, NULL, NULL},
    {"abortAt", "abort_at", FT_DATE, F_RO | F_CONDENSED, NULL, 0, NULL, NULL},
    {"retries", "retries", FT_INT, F_RO | F_CONDENSED, NULL, 0, "0", NULL},
    {"abortReason", "abort_reason", FT_ENUM, F_RO | F_CONDENSED, NULL, 0, "0", abort_reason_names},
    {"queuedAt", "queued_at", FT_DATE, F_RO | F_CONDENSED, NULL, 0, NULL, NULL},
    {"leaseUntil", "lease_until", FT_DATE, F_HIDDEN, NULL, 0, NULL, NULL},
    {"stopRequested", "stop_requested", FT_BOOL, F_HIDDEN, NULL, 0, "false", NULL},
    {"avoidNodeId", "avoid_node_id", FT_GUID, F_HIDDEN, NULL, 0, NULL, NULL},
    {"avoidUntil", "avoid_until", FT_DATE, F_HIDDEN, NULL, 0, NULL, NULL},
    {"reloadStored", "reload_stored", FT_BOOL, F_HIDDEN, NULL, 0, "false", NULL},
};

static const struct field_desc executionresult_fields[] = {
    COMMON_FIELDS,
    {"taskID", "task_id", FT_GUID, F_RO | F_CONDENSED, NULL, 0, NULL, NULL},
    {"executionID", "execution_id", FT_GUID, F_RO | F_CONDENSED, NULL, 0, NULL, NULL},
    {"appID", "app_id", FT_GUID, F_RO | F_CONDENSED, NULL, 0, NULL, NULL},
    {"executingNodeID", "executing_node_id", FT_GUID, F_RO | F_CONDENSED, NULL, 0, NULL, NULL},
    {"executingNodeName", "executing_node_name", FT_STRING, F_RO | F_CONDENSED, NULL, 0, NULL,
     NULL},
    {"status", "status", FT_ENUM, F_RO | F_CONDENSED, NULL, 0, "0", repo_exec_status_names},
    {"startTime", "start_time", FT_DATE, F_RO | F_CONDENSED, NULL, 0, TIME_NEVER, NULL},
    {"stopTime", "stop_time", FT_DATE, F_RO | F_CONDENSED, NULL, 0, TIME_NEVER, NULL},
    {"duration", "duration", FT_INT, F_RO | F_CONDENSED, NULL, 0, "0", NULL},
    {"fileReferenceID", "file_reference_id", FT_GUID, F_RO | F_CONDENSED, NULL, 0, UUID_EMPTY,
     NULL},
    {"scriptLogAvailable", "script_log_available", FT_BOOL, F_RO | F_CONDENSED, NULL, 0, "false",
     NULL},
    {"scriptLogLocation", "script_log_location", FT_STRING, F_RO | F_CONDENSED, NULL, 0, NULL,
     NULL},
    {"scriptLogSize", "script_log_size", FT_INT, F_RO | F_CONDENSED, NULL, 0, "0", NULL},
    {"details", "details", FT_OBJECT, F_ARRAY | F_RO | F_CONDENSED, NULL, 0, NULL, NULL},
    {"triggerId", "trigger_id", FT_STRING, F_HIDDEN, NULL, 0, NULL, NULL},
    {"chainSeen", "chain_seen", FT_BOOL, F_HIDDEN, NULL, 0, "false", NULL},
};

static const struct entity_desc reloadtask_desc =
    DESC_CHECK("reloadtask", "ReloadTask", "reloadtask", reloadtask_fields,
	       E_TAGS | E_CUSTOM_PROPS | E_NO_CACHE, repo_check_reloadtask);
static const struct entity_desc schemaevent_desc =
    DESC_CHECK("schemaevent", "SchemaEvent", "schemaevent", schemaevent_fields, E_NO_CACHE,
	       repo_check_schemaevent);
static const struct entity_desc compositeevent_desc =
    DESC_CHECK("compositeevent", "CompositeEvent", "compositeevent", compositeevent_fields,
	       E_NO_CACHE, repo_check_compositeevent);
static const struct entity_desc executionsession_desc =
    DESC("executionsession", "ExecutionSession", "executionsession", executionsession_fields,
	 E_NO_CREATE | E_NO_UPDATE | E_NO_DELETE | E_NO_CACHE);
static const struct entity_desc executionresult_desc =
    DESC("executionresult", "ExecutionResult", "executionresult", executionresult_fields,
	 E_NO_CREATE | E_NO_UPDATE | E_NO_CACHE);

/* An app is a file as well as a row: POST makes an empty app file, DELETE removes its
 * files. Generic creation stays off (E_NO_CREATE): apps come from uploads, copies and
 * POST /qrs/app when the node can write an empty app file. */
static const struct entity_desc app_desc = {.path = "app",
					    .schema = "App",
					    .table = "app",
					    .fields = app_fields,
					    .n_fields = (int)ARRAY_LEN(app_fields),
					    .flags =
						E_TAGS | E_CUSTOM_PROPS | E_NO_CREATE | E_OWNER,
					    .create = repo_api_app_create,
					    .remove = repo_api_app_delete};
static const struct entity_desc stream_desc =
    DESC("stream", "Stream", "stream", stream_fields, E_TAGS | E_CUSTOM_PROPS | E_OWNER);
static const struct entity_desc user_desc =
    DESC_CHECK("user", "User", "users", user_fields, E_TAGS | E_CUSTOM_PROPS, check_user);
static const struct entity_desc tag_desc = DESC("tag", "Tag", "tag", tag_fields, 0);
static const struct entity_desc dataconnection_desc =
    DESC_CHECK("dataconnection", "DataConnection", "dataconnection", dataconnection_fields,
	       E_TAGS | E_CUSTOM_PROPS | E_OWNER, check_dataconnection);
static const struct entity_desc node_desc = {.path = "servernodeconfiguration",
					     .schema = "ServerNodeConfiguration",
					     .table = "servernodeconfiguration",
					     .fields = node_fields,
					     .n_fields = (int)ARRAY_LEN(node_fields),
					     .flags = E_TAGS | E_CUSTOM_PROPS,
					     .remove = repo_api_node_delete};
static const struct entity_desc cluster_desc =
    DESC_CHECK("servicecluster", "ServiceCluster", "servicecluster", servicecluster_fields, 0,
	       check_servicecluster);
static const struct entity_desc cpdef_desc =
    DESC("custompropertydefinition", "CustomPropertyDefinition", "custompropertydefinition",
	 cpdef_fields, 0);
const struct entity_desc repo_cpv_desc = DESC("custompropertyvalue", "CustomPropertyValue",
					      "custom_property_value", cpv_fields, E_INTERNAL);
static const struct entity_desc systemrule_desc = DESC_CHECK(
    "systemrule", "SystemRule", "systemrule", systemrule_fields, E_TAGS, check_systemrule);

static const struct entity_desc vproxy_desc =
    DESC_CHECK("virtualproxyconfig", "VirtualProxyConfig", "virtualproxyconfig", vproxy_fields,
	       E_TAGS | E_CUSTOM_PROPS, check_vproxy);

const struct entity_desc *const repo_entities[] = {
    &app_desc,
    &stream_desc,
    &user_desc,
    &tag_desc,
    &dataconnection_desc,
    &node_desc,
    &cluster_desc,
    &cpdef_desc,
    &repo_cpv_desc,
    &systemrule_desc,
    &reloadtask_desc,
    &schemaevent_desc,
    &compositeevent_desc,
    &executionsession_desc,
    &executionresult_desc,
    &vproxy_desc,
};
const int repo_n_entities = (int)ARRAY_LEN(repo_entities);

int repo_type_count(void)
{
	int n = 0;
	for (int i = 0; i < repo_n_entities; i++)
		n += !(repo_entities[i]->flags & E_INTERNAL);
	return n;
}

const char *repo_type_name(int i)
{
	for (int k = 0; k < repo_n_entities; k++)
		if (!(repo_entities[k]->flags & E_INTERNAL) && i-- == 0)
			return repo_entities[k]->path;
	return NULL;
}

const struct entity_desc *repo_entity_find(const char *path)
{
	for (int i = 0; i < repo_n_entities; i++)
		if (str_ieq(repo_entities[i]->path, path))
			return repo_entities[i];
	return NULL;
}

const struct field_desc *repo_entity_field(const struct entity_desc *d, const char *json)
{
	for (int i = 0; i < d->n_fields; i++)
		if (str_ieq(d->fields[i].json, json))
			return &d->fields[i];
	return NULL;
}

const struct field_desc *repo_entity_field_by_col(const struct entity_desc *d, const char *col)
{
	for (int i = 0; i < d->n_fields; i++)
		if (strcmp(d->fields[i].col, col) == 0)
			return &d->fields[i];
	return NULL;
}
