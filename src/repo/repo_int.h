/* repo_int.h: descriptors and shared internals of the repo module. Not for other modules. */
#ifndef FATHOM_REPO_INT_H
#define FATHOM_REPO_INT_H

#include "repo/repo.h"

#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <sys/types.h>

/* ---------------------------------------------------------------- descriptors */

enum ftype {
	FT_GUID,    /* text UUID */
	FT_STRING,  /* text */
	FT_INT,	    /* 64-bit integer */
	FT_BOOL,    /* 0/1 */
	FT_ENUM,    /* integer with names */
	FT_DATE,    /* ISO 8601 text */
	FT_REF,	    /* GUID of another entity, shown as its condensed form */
	FT_STRLIST, /* list of strings, stored as \x1f-joined text with \x1f at both ends */
	FT_OBJECT,  /* a JSON object stored as text, not filterable */
};

enum fflag {
	F_RO = 1 << 0,	      /* clients may not change it (may echo it unchanged) */
	F_CONDENSED = 1 << 1, /* part of the condensed form */
	F_REQUIRED = 1 << 2,  /* must be given on create */
	F_HIDDEN = 1 << 3,    /* never shown (internal column) */
	F_WRITEONLY = 1 << 4, /* accepted, never shown (passwords) */
	F_FILENAME = 1 << 5,  /* no path separators (used to name files) */
	F_MULTILINE = 1 << 6, /* tabs and newlines allowed */
	F_COMMON = 1 << 7,    /* id and the bookkeeping dates: handled by the generic code */
	F_SERVER = 1 << 8,    /* kept by the server (run-time state): what a client sends is
				 ignored, so an echo of an older read is no error */
	F_ARRAY = 1 << 9,     /* FT_OBJECT: a JSON array instead of an object */
};

struct field_desc {
	const char *json; /* JSON property name */
	const char *col;  /* column */
	enum ftype type;
	unsigned flags;
	const char *ref;  /* FT_REF: the target type's path */
	int max_len;	  /* strings: longest accepted, in bytes; 0 = 4096 */
	const char *dflt; /* default on create, as text ("0", "false", a date); NULL = null */
	const char *const *enum_names; /* FT_ENUM: names by value, NULL-terminated */
};

enum eflag {
	E_TAGS = 1 << 0,	 /* has tags */
	E_CUSTOM_PROPS = 1 << 1, /* has customProperties */
	E_NO_CREATE = 1 << 2,	 /* no POST (apps come from upload/copy) */
	E_NO_UPDATE = 1 << 3,
	E_NO_DELETE = 1 << 4,
	E_INTERNAL = 1 << 5, /* not reachable through /qrs/{type} */
	E_OWNER = 1 << 6,    /* has an owner that defaults to the caller */
	E_NO_CACHE = 1 << 7, /* run-time state the scheduler writes without the change log */
};

struct decoded;
struct qrs;

struct entity_desc {
	const char *path;   /* lowercase URL name: "app" */
	const char *schema; /* schemaPath: "App" */
	const char *table;
	const struct field_desc *fields;
	int n_fields;
	unsigned flags;
	/* Checks a decoded body beyond field types (create and update); NULL: none. `r` may
	 * be NULL (a check without a repository: tests, the fuzzer). */
	int (*check)(const struct repo *r, const struct decoded *in, struct err *e);
	/* POST /qrs/{type} and DELETE /qrs/{type}/{id} of a type that does more than write
	 * rows (an app has a file): they replace the generic handler. NULL: generic. */
	int (*create)(struct qrs *q);
	int (*remove)(struct qrs *q);
};

/* Every entity type, and lookup by URL name (case-insensitive). */
extern const struct entity_desc *const repo_entities[];
extern const int repo_n_entities;
const struct entity_desc *repo_entity_find(const char *path);
const struct field_desc *repo_entity_field(const struct entity_desc *d, const char *json);
const struct field_desc *repo_entity_field_by_col(const struct entity_desc *d, const char *col);
/* The pseudo-type for custom property values (filters over customProperties). */
extern const struct entity_desc repo_cpv_desc;

/* ---------------------------------------------------------------- the repo */

struct repo {
	struct db *db;
	struct share *share;
	char node_id[64];
	char version[64];
	uint64_t max_upload;
	size_t max_body;
	int64_t gc_grace_ms;
	int64_t heartbeat_ms;
	char **select_sql;	   /* per entity: the column list of SELECT (see crud.c) */
	struct crypto_pem_pair ca; /* the site CA, on the node that holds its key; else empty */
	int api_port;
	char certs_dir[PATH_MAX], node_dir[PATH_MAX];
	struct repo_file_check file_check;
	repo_schedule_check_fn schedule_check; /* NULL: schedules are checked field by field */
	int (*password_set)(struct db *db, const char *user_ref, const char *password,
			    struct err *e);
	struct repo_reload reload;
	char reload_exe[PATH_MAX], reload_work[PATH_MAX], reload_logs[PATH_MAX];
	struct cache *cache; /* NULL when off (SQLite, or cache_bytes 0) */
	int engine_port;
	char *running; /* repo_config.running, or "{}" */
	/* scheduled reloads running on this node, by execution session (apps.c) */
	pthread_mutex_t runs_mu;
	struct reload_run {
		char session[UUID_STR_LEN + 1];
		pid_t pid; /* 0: not started yet */
		bool cancelled;
	} runs[64];
};

/* The folders no data connection may reach: this node's folder, its certificates and the
 * share's apps, in out[3]. Returns how many. */
int repo_guarded_dirs(const struct repo *r, const char *out[3]);

/* A change-log row the request's transaction wrote. */
struct qrs_change {
	int64_t seq;
	const char *type; /* schema name, "App" */
	struct qrs_change *next;
};

/* One request's state. */
struct repo_access;

struct qrs {
	struct repo *repo;
	struct http_req *req;
	struct arena *a;
	struct err err;
	const char *user;     /* DIRECTORY\userid of the caller */
	const char *user_dir; /* its two parts */
	const char *user_id;
	const struct entity_desc *desc; /* from {type} */
	const char *id;			/* from {id} */
	const char *token;		/* from {token} */
	const char *tail;		/* from {name} */
	void *state;			/* a streaming handler's own state */
	const struct route *route;
	struct qrs_change *changes; /* written by the open transaction (repo_crud_log_change) */
	const char *cache_key;	    /* a cacheable GET: its key; the 200 answer is stored */
	uint64_t cache_epoch;	    /* the cache's epoch when the request began */
	struct repo_access *access; /* a person's request: the rules that govern it; NULL: a
				       service's, with every right */
};

struct route {
	const char *method;
	const char *pattern; /* literal segments, {type} {id} {token} {name} */
	int (*fn)(struct qrs *q);
	unsigned flags;
	const char *doc; /* shown by /qrs/about/api/description after the path */
	/* streaming routes: called from on_headers to set up the body sink */
	int (*begin)(struct qrs *q);
	/* streaming routes: called from on_done to undo what did not finish */
	void (*cleanup)(struct qrs *q, bool completed);
};

enum route_flag {
	R_NO_XRF = 1 << 0, /* the xrfkey check does not apply (downloads) */
	R_STREAM = 1 << 1, /* the body streams to the handler's sink */
	R_GENERIC = 1 << 2 /* {type}: expands per entity type in the description */
};

extern const struct route repo_routes[];
extern const int repo_n_routes;

/* ---------------------------------------------------------------- filter (filter.c) */

struct sqlb {
	struct buf sql;
	struct db_params p;
	int alias; /* next free table alias number */
	struct arena *a;
};

void repo_sqlb_init(struct sqlb *b, struct arena *a);
void repo_sqlb_release(struct sqlb *b);

/* Compiles `filter` for type `d` (row alias t0) into b->sql, adding parameters. */
NODISCARD int repo_filter_compile(const struct entity_desc *d, const char *filter, struct sqlb *b,
				  struct err *e);
/* Compiles `orderby` into b->sql as "expr ASC, ..." (nothing when orderby is empty). */
NODISCARD int repo_orderby_compile(const struct entity_desc *d, const char *orderby, struct sqlb *b,
				   struct err *e);

/* ---------------------------------------------------------------- entity JSON (entity_io.c) */

/* One decoded column value. */
struct colval {
	const struct field_desc *f;
	bool is_null;
	int64_t i;
	const char *s;
};

struct cpv_in {
	const char *definition_id;
	const char *value;
};

struct decoded {
	const char *id;		   /* given id (create) or NULL */
	const char *modified_date; /* given modifiedDate, canonical, or NULL */
	struct colval *vals;
	int n_vals;
	bool has_tags;
	const char **tag_ids;
	int n_tags;
	bool has_cps;
	struct cpv_in *cps;
	int n_cps;
};

/* Decodes a JSON object for `d`. `stored` is the current full JSON of the entity on update
 * (read-only fields must equal it), NULL on create (read-only fields must equal their
 * defaults). Everything is allocated in `a`. */
NODISCARD int repo_entity_decode(const struct repo *r, const struct entity_desc *d, json_t *body,
				 json_t *stored, struct arena *a, struct decoded *out,
				 struct err *e);
/* The JSON of a field's default, or NULL for null. Caller owns (json_decref). */
json_t *repo_field_default_json(const struct field_desc *f);

/* ---------------------------------------------------------------- CRUD (crud.c) */

enum view { VIEW_CONDENSED, VIEW_FULL };

/* Builds the SELECT column lists for all types (at repo_open). */
NODISCARD int repo_crud_prepare(struct repo *r, struct err *e);
void repo_crud_release(struct repo *r);

/* Lists entities of `d` matching `filter` (may be NULL) in `orderby` order. */
NODISCARD int repo_crud_list(struct qrs *q, struct db_conn *c, const struct entity_desc *d,
			     const char *filter, const char *orderby, enum view v, json_t **out);
/* Rows [skip, skip + take) of a list, by the database. */
struct repo_window {
	int64_t skip, take;
};
/* One window of the full list `filter` selects, in `orderby` order, and in *total how many
 * rows it selects in all. For callers who may read every row (repo_access_reads_all). */
NODISCARD int repo_crud_page(struct qrs *q, struct db_conn *c, const struct entity_desc *d,
			     const char *filter, const char *orderby, const struct repo_window *w,
			     json_t **out, int64_t *total);
/* Reads one entity (full); ERR_NOT_FOUND when there is none. */
NODISCARD int repo_crud_get(struct qrs *q, struct db_conn *c, const struct entity_desc *d,
			    const char *id, json_t **out);
/* Inserts one decoded entity inside the caller's write transaction. `extra` sets hidden or
 * read-only columns (may be NULL). Writes the change log. */
NODISCARD int repo_crud_insert(struct qrs *q, struct db_conn *c, const struct entity_desc *d,
			       const struct decoded *in, const struct colval *extra, int n_extra,
			       char out_id[UUID_STR_LEN + 1]);
/* Updates columns of `id` if its modifiedDate is still `read_date` (else ERR_STALE or
 * ERR_NOT_FOUND), inside the caller's write transaction. Stamps a new modifiedDate. */
NODISCARD int repo_crud_update(struct qrs *q, struct db_conn *c, const struct entity_desc *d,
			       const char *id, const char *read_date, const struct decoded *in,
			       const struct colval *extra, int n_extra);
/* Deletes `id` with its tags and custom property values, inside the caller's transaction. */
NODISCARD int repo_crud_delete(struct qrs *q, struct db_conn *c, const struct entity_desc *d,
			       const char *id);
/* Appends to the change log. */
NODISCARD int repo_crud_log_change(struct qrs *q, struct db_conn *c, const struct entity_desc *d,
				   const char *id, const char *op);
/* A row callback that copies the first column, as text (an integer in decimal), into the
 * char[128] at ctx. */
int repo_text_row(void *ctx, int n, const struct db_value *c);

/* Sets q->user, user_dir and user_id from an X-Qlik-User value ("UserDirectory=D;
 * UserId=U" or "D\\U"; NULL or "": INTERNAL\\sa_repository). ERR_INVALID when malformed. */
NODISCARD int repo_qrs_parse_user(struct qrs *q, const char *h);

/* ---------------------------------------------------------------- access.c */

/* Security rule actions (QRS's bit values). */
enum {
	ACT_CREATE = 1,
	ACT_READ = 2,
	ACT_UPDATE = 4,
	ACT_DELETE = 8,
	ACT_EXPORT = 16,
	ACT_PUBLISH = 32,
};
/* For a request a proxy vouched for: loads the caller's user entity and the enabled
 * security rules into q->access. A service's request stays ungoverned (NULL). */
NODISCARD int repo_access_begin(struct qrs *q);
/* Whether people (requests a proxy vouched for) reach the specific route (method,
 * pattern) at all, governed by the rules; the others are for services only. */
bool repo_access_route_open(const char *method, const char *pattern);
/* Refuses a governed request (ERR_FORBIDDEN) whose route's action the rules do not grant:
 * read, update or delete of {id}, create of {type}, and each specific route's own. */
NODISCARD int repo_access_gate(struct qrs *q);
/* *ok: the caller may do `action` on `resource` (full JSON) of type `type` (its schema
 * name). Always true for an ungoverned request. */
NODISCARD int repo_access_may(struct qrs *q, struct db_conn *c, const char *type, json_t *resource,
			      int64_t action, bool *ok);
/* Removes from `arr` (full JSON) what the caller may not read. */
NODISCARD int repo_access_filter(struct qrs *q, struct db_conn *c, const struct entity_desc *d,
				 json_t *arr);
/* *all: the caller may read every entity of `d`, whatever it holds (a service; or a rule
 * granting read on the whole type whose condition holds without reading the resource, as
 * RootAdmin's does), so a list needs no filtering row by row. */
NODISCARD int repo_access_reads_all(struct qrs *q, struct db_conn *c, const struct entity_desc *d,
				    bool *all);
/* Replaces the filtered full list *arr with the condensed list of the same entities. */
NODISCARD int repo_access_condense(struct qrs *q, struct db_conn *c, const struct entity_desc *d,
				   const char *filter, const char *orderby, json_t **arr);

/* The id of the caller's user row, creating it when missing (inside a write transaction). */
NODISCARD int repo_crud_caller_user(struct qrs *q, struct db_conn *c,
				    char out_id[UUID_STR_LEN + 1]);

/* Generic route handlers. */
int repo_api_list(struct qrs *q);
int repo_api_full(struct qrs *q);
int repo_api_count(struct qrs *q);
/* A row callback that reads column 0 as an integer into the int64_t at ctx. */
int repo_int_row(void *ctx, int n, const struct db_value *c);

/* ---------------------------------------------------------------- cache (cache.c) */

struct cache;
struct cache_stats {
	size_t bytes;
	uint64_t hits, stores, invalidations;
	bool listening;
	int64_t hwm;
};
struct cache *repo_cache_new(size_t max_bytes);
/* Starts the thread that follows the change log (PostgreSQL only). */
NODISCARD int repo_cache_follow(struct cache *c, struct db *db, struct err *e);
void repo_cache_free(struct cache *c);
/* The epoch of entity type index `type`: repo_cache_put takes it from before the read. */
uint64_t repo_cache_epoch(struct cache *c, int type);
/* Stores an answer of entity type index `type`, unless a change that could touch it
 * arrived since `epoch`. */
void repo_cache_put(struct cache *c, int type, const char *key, const char *body, size_t len,
		    uint64_t epoch);
/* A copy of the answer stored under key (caller frees) and its age; ERR_NOT_FOUND. */
NODISCARD int repo_cache_get(struct cache *c, const char *key, char **out_body, size_t *out_len,
			     int64_t *out_age_ms);
/* Drops what a change of object_type (a schema name, "App") could have changed; NULL drops
 * everything. */
void repo_cache_invalidate(struct cache *c, const char *object_type);
void repo_cache_stats(struct cache *c, struct cache_stats *out);
/* Queues change-log row `seq` of `type`, committed by this node, for the notification that
 * tells the other nodes (sent by the follower's announcer thread, batched). */
void repo_cache_announce(struct cache *c, int64_t seq, const char *type);
int repo_api_get(struct qrs *q);
int repo_api_create(struct qrs *q);
int repo_api_create_many(struct qrs *q);
int repo_api_update(struct qrs *q);
int repo_api_delete(struct qrs *q);

/* ---------------------------------------------------------------- apps (apps.c) */

int repo_api_app_upload_begin(struct qrs *q);
int repo_api_app_upload(struct qrs *q);
void repo_api_app_file_cleanup(struct qrs *q, bool completed);
int repo_api_app_copy(struct qrs *q);
int repo_api_app_export_token(struct qrs *q);
int repo_api_app_export(struct qrs *q);
int repo_api_app_export_cancel(struct qrs *q);
int repo_api_app_download(struct qrs *q);
int repo_api_app_publish(struct qrs *q);
int repo_api_app_replace(struct qrs *q);
int repo_api_app_reload(struct qrs *q);
/* Removes reload results that processes which have stopped left behind (reload.c). */
void repo_reload_sweep(struct repo *r);
int repo_api_app_create(struct qrs *q);
int repo_api_app_reload_log(struct qrs *q);

/* The state of a file operation (a new generation being written), freed by the request's
 * cleanup. */
struct fileop {
	struct share_writer *w; /* NULL once committed or aborted */
	struct err err;
	void *check;		 /* the upload's file check, or NULL */
	struct app_file *target; /* upload/replace: the app replaced, as it was read */
};

/* The columns of an app that file operations need. */
struct app_file {
	bool found;
	char gen[SHARE_GEN_LEN + 8];
	char sha[80];
	int64_t size;
	char modified[ISO_TIME_LEN + 8];
	char name[512];
	int published;
};

/* The app's file columns, read in a transaction of their own; ERR_NOT_FOUND without the
 * app, ERR_CONFLICT when it has no file. */
NODISCARD int repo_app_file_read_tx(struct qrs *q, const char *id, struct app_file *out);
/* A file operation owned by the request (q->state). */
struct fileop *repo_fileop_new(struct qrs *q);
/* Sets `v` to app field `json` with text `s` or number `i`; returns v. */
struct colval *repo_app_colv(struct colval *v, const char *json, const char *s, int64_t i);
/* The columns that name an app's new file: its generation, SHA-256 and size. */
void repo_file_cols(struct colval extra[3], const struct fileop *op, const char *sha,
		    uint64_t size);
/* After the transaction that named the new generation: it is live (rc 0) or undone.
 * Returns rc. */
int repo_fileop_settle(struct fileop *op, int rc);

/* ---------------------------------------------------------------- tasks (tasks.c) */

int repo_check_reloadtask(const struct repo *r, const struct decoded *in, struct err *e);
int repo_check_schemaevent(const struct repo *r, const struct decoded *in, struct err *e);
int repo_check_compositeevent(const struct repo *r, const struct decoded *in, struct err *e);
int repo_api_task_create(struct qrs *q);
/* PUT /qrs/user/{id}/password and POST /qrs/systemrule/security/audit (access.c) */
int repo_api_user_password(struct qrs *q);
int repo_api_rule_audit(struct qrs *q);
/* POST /qrs/systemrule/check: a rule's condition and resource filter checked, not stored */
int repo_api_rule_check(struct qrs *q);
/* POST /qrs/{type}/table: one page of a list as rows of chosen columns (table.c) */
int repo_api_table(struct qrs *q);
int repo_api_task_update(struct qrs *q);
int repo_api_task_start(struct qrs *q);
int repo_api_task_start_sync(struct qrs *q);
int repo_api_task_start_many(struct qrs *q);
int repo_api_task_stop(struct qrs *q);
int repo_api_task_stop_many(struct qrs *q);
int repo_api_task_list(struct qrs *q);
int repo_api_result_log(struct qrs *q);
int repo_api_failover(struct qrs *q);
int repo_api_validengines(struct qrs *q);
int repo_api_app_delete(struct qrs *q);
int repo_api_status_list(struct qrs *q);
int repo_api_status_full(struct qrs *q);
int repo_api_status_count(struct qrs *q);
int repo_api_app_objects(struct qrs *q);
int repo_api_proxy_list(struct qrs *q);
int repo_api_proxy_full(struct qrs *q);
int repo_api_proxy_count(struct qrs *q);
int repo_api_proxy_get(struct qrs *q);
int repo_api_proxy_local(struct qrs *q);
int repo_api_proxy_put(struct qrs *q);
int repo_api_about_site(struct qrs *q);
/* DELETE /qrs/servernodeconfiguration/{id}: removes a node, revoking its certificates */
int repo_api_node_delete(struct qrs *q);
/* share_is_live_fn over the repository (ctx is the repo). */
int repo_apps_is_live(void *ctx, const char *app_id, const char *gen);

/* ---------------------------------------------------------------- responses (routes.c) */

/* Sends `j` (consumed) with `status`. */
void repo_qrs_send_json(struct qrs *q, int status, json_t *j);
/* Sends the error in q->err (or `code` with its default message). */
void repo_qrs_send_error(struct qrs *q, int code);
/* The parsed JSON body; ERR_JSON with the position when it does not parse. */
NODISCARD int repo_qrs_body_json(struct qrs *q, json_t **out);
/* A request made in-process, with no HTTP behind it (q->req NULL), by INTERNAL\`user`:
 * for the C entry points that share the handlers' code (repo_app_reload). */
void repo_qrs_local_init(struct qrs *q, struct repo *r, struct arena *a, const char *user);
/* Begins a write transaction on a pooled connection; on failure nothing is held. */
NODISCARD int repo_qrs_begin(struct qrs *q, struct db_conn **out, bool write);
/* Commits (or on rc != 0 rolls back) and releases the connection. Returns rc or the
 * commit's error. */
int repo_qrs_end(struct qrs *q, struct db_conn *c, int rc);
/* True when a query parameter is "true" (any case). */
bool repo_qrs_query_true(struct qrs *q, const char *name);
/* The end of a handler that answers one JSON document: sends `out` with `status` when rc
 * is 0, frees it otherwise. Returns rc. */
int repo_qrs_reply(struct qrs *q, int rc, int status, json_t *out);

/* ---------------------------------------------------------------- nodes (nodes.c) */

int repo_api_node_local(struct qrs *q);
int repo_api_node_container_template(struct qrs *q);
int repo_api_node_container(struct qrs *q);
int repo_api_registration_start(struct qrs *q);

#endif
