/* qix.h: the QIX engine API: JSON-RPC 2.0 sessions (qix.md) over the apps of the site.
 *
 * An app opens lazily from its live generation on the share, the first time a session asks
 * for it, and is shared by every session on it: the data model, the script and the saved
 * objects. Each session keeps its own selections, session objects and handles. Apps no
 * session holds are evicted, least recently used first, while the open apps take more than
 * the memory limit. When an app's live generation changes (a reload here or on another
 * node), sessions move to the new data at their next request, keeping their selections by
 * value, and get a change notification for every open handle at once.
 *
 * What the engine needs of the site comes through struct qix_env, so the engine knows
 * nothing of the repository or the database.
 *
 * Threads: a struct qix is shared by all sockets; a session's messages are handled one at
 * a time, on its socket's thread. */
#ifndef FATHOM_QIX_H
#define FATHOM_QIX_H

#include "core/core.h"
#include "http/http.h"

struct qix_app_info {
	char gen[64];	      /* the live generation */
	char path[4096];      /* its file */
	char title[512];      /* the app's name */
	char last_reload[48]; /* ISO time, or "" */
	char file_time[48];   /* ISO time of the last change, or "" */
	int64_t file_size;
	bool share_away; /* the share is known not to answer now: the file is not read */
};

struct qix_env {
	void *ctx;
	/* The live generation of app `id`. ERR_NOT_FOUND when there is no such app. */
	int (*locate)(void *ctx, const char *id, struct qix_app_info *out, struct err *e);
	/* Stores `data` as the app's new live generation (DoSave). */
	int (*save)(void *ctx, const char *id, const void *data, size_t len, struct err *e);
	/* Reloads the app from its saved script (DoReload); the error names the cause. */
	int (*reload)(void *ctx, const char *id, struct err *e);
	/* The text of the app's last reload log, or NULL. Caller frees. May be NULL. */
	char *(*reload_log)(void *ctx, const char *id);
	/* Whether the person `user` ("UserDirectory=D; UserId=U", with the attributes the
	 * front door gave, JSON or NULL) may read app `id`, for
	 * governed sessions (qix_session_govern). May be NULL: everyone may. */
	int (*may_read)(void *ctx, const char *user, const char *attrs, const char *id, bool *out,
			struct err *e);
	/* Whether that person may change app `id` (save objects, the script, properties;
	 * reload). May be NULL: everyone may. */
	int (*may_update)(void *ctx, const char *user, const char *attrs, const char *id, bool *out,
			  struct err *e);
	/* A person's selections in app `id` kept under `key` (qix_session_keep_state), as JSON
	 * text ({"field": ["value", ...]}), so that a session on any node resumes them. Load
	 * answers 0 with *out NULL when none is kept; the caller frees *out. Both may be NULL:
	 * nothing is kept. */
	int (*state_load)(void *ctx, const char *key, const char *id, char **out, struct err *e);
	int (*state_save)(void *ctx, const char *key, const char *id, const char *json,
			  struct err *e);
	/* Every app's id, one call of `each` per app (GetDocList). May be NULL. */
	int (*list)(void *ctx, void (*each)(void *arg, const char *id), void *arg, struct err *e);
};

struct qix_config {
	struct qix_env env;
	int64_t memory_bytes; /* open apps past this are evicted when unused; 0: 1 GiB */
};

struct qix;
struct qix_session;

NODISCARD int qix_new(const struct qix_config *cfg, struct qix **out, struct err *e);
/* Sessions must all be closed first. */
void qix_free(struct qix *q);

/* Where a session's messages go: one JSON text each, malloc'd, which the function owns and
 * must free (a large answer is handed on without a copy). Called on the session's thread,
 * and from other threads for change notifications. */
typedef void (*qix_send_fn)(void *ctx, char *json, size_t len);

/* A new session; `app_id` from the URL (/app/<id>) may be "" (a global connection). The
 * OnConnected notification is sent at once. `user` names the caller ("" anonymous). */
struct qix_session *qix_session_new(struct qix *q, const char *app_id, const char *user,
				    qix_send_fn send, void *send_ctx);
/* Marks a new session as a person's (vouched for by a proxy): OpenDoc and GetDocList
 * answer only the apps env.may_read allows, and what changes the app (DoSave, SetScript,
 * CreateObject, SetProperties of a saved object, DoReload, ...) only env.may_update. */
void qix_session_govern(struct qix_session *s, const char *attrs);
/* Keeps the session's selections under `key` (at most 64 characters, from the front door:
 * one per person's session): each change is saved through env.state_save, and the app the
 * session opens starts from the selections saved under the key. */
void qix_session_keep_state(struct qix_session *s, const char *key);
/* The client's browser (its User-Agent, or NULL): what ClientPlatform() answers in the
 * session's chart expressions. Before the session's first message. */
void qix_session_set_platform(struct qix_session *s, const char *user_agent);
/* Handles one request; every answer goes out through `send`. Malformed input gets a
 * JSON-RPC error, never a crash. */
void qix_session_message(struct qix_session *s, const char *json, size_t len);
/* Ends the session; after it returns, `send` is not called again. */
void qix_session_free(struct qix_session *s);
/* Keeps a session whose socket closed for `ttl_s` seconds under `key` (user, app and
 * identity), with nothing sent meanwhile; an older session parked under the same key ends.
 * After the TTL it ends (qix_poll_generations looks). */
void qix_session_park(struct qix_session *s, const char *key, int ttl_s);
/* Takes back the session parked under `key`, if its TTL has not run out: answers go to
 * `send` from now on, and it greets with OnConnected SESSION_ATTACHED. NULL when none. */
struct qix_session *qix_session_resume(struct qix *q, const char *key, qix_send_fn send,
				       void *send_ctx);

/* Looks at the live generation of every open app and moves sessions to new data (the
 * node calls it every few seconds; reloads through QIX do it at once). */
void qix_poll_generations(struct qix *q);

/* Open apps and the memory they take, for the node's status. */
void qix_stats(struct qix *q, int *out_apps, int64_t *out_bytes, int *out_sessions);
/* The cube cache (cubes shared by sessions with the same selection): lookups and hits since
 * the engine started, and the bytes it holds now. */
void qix_cache_stats(struct qix *q, int64_t *out_lookups, int64_t *out_hits, int64_t *out_bytes);
/* The ids of the apps in memory, comma-separated, into out[n] (as many as fit). */
void qix_open_apps(struct qix *q, char *out, size_t n);

/* Every method the engine answers, by class ("Global", "Doc", "GenericObject", "Field"),
 * with its number of positional parameters: for tests and documentation. Any other method
 * is answered -32601 (method not found). */
void qix_method_list(void (*each)(void *ctx, const char *cls, const char *name, int arity),
		     void *ctx);

/* The HTTP handler of the engine port: WebSocket upgrades on /app/<id>[/...], for clients
 * with a certificate of the site (the header X-Qlik-User names the user). ctx is the qix. */
struct http_handler qix_http_handler(struct qix *q);

#endif
