/* qix_int.h: what the parts of the QIX engine share: apps (docs), their data, sessions and
 * handles.
 *
 * Locks: q->mu guards the app list, each app's session list, its data pointer and the
 * counts; doc->mu guards an app's script and saved objects; s->mu guards a session's handle
 * table for the threads that send it change notifications. Never two at once, except
 * q->mu then s->mu when notifying.
 *
 * Saved and session object properties are never changed in place: a change builds a new
 * tree and swaps it in, so a reader holding a reference reads a consistent tree. */
#ifndef FATHOM_QIX_INT_H
#define FATHOM_QIX_INT_H

#include "model/model.h"
#include "qix/qix.h"

#include <jansson.h>
#include <pthread.h>

struct qix_reduced;

/* One generation's data model, shared by the sessions that use it. */
struct qix_data {
	int refs; /* atomic */
	char gen[64];
	struct assoc *a; /* NULL: the app has no data yet */
	/* section access (qix_access.c): the access tables' model (NULL: none, everyone sees
	 * everything), and the reduced models made of this one, under cache_mu */
	struct assoc *access;
	struct qix_reduced *reduced;
	int64_t reduced_bytes; /* what they take (atomic) */
	int64_t bytes;	       /* an estimate of the memory it takes */
	int64_t rows;
	/* cubes and selection states computed on it (qix_cache.c), under cache_mu */
	pthread_mutex_t cache_mu;
	struct qix_cube_cache *cache;
	int64_t cache_bytes; /* what the cache holds (atomic reads) */
};

struct qix_doc {
	struct qix_doc *next;
	char *id;
	/* under q->mu */
	int n_sessions;
	int64_t last_used;
	struct qix_data *data;
	struct qix_session *sessions;
	/* under doc->mu */
	pthread_mutex_t mu;
	struct qix_app_info info;
	char *script;
	json_t *script_json; /* `script` as a JSON string, made by the first GetScript */
	json_t *props;	     /* the app's properties (qTitle, ...), without the objects */
	json_t *objects;     /* saved objects: qId -> properties */
	json_t *parents;     /* saved child objects: qId -> the parent's qId */
	/* edits to the script or objects since the last save: a save clears only the ones it
	 * stored, never one made while it was writing */
	uint64_t dirty;
};

struct qix_parked;

struct qix {
	struct qix_config cfg;
	pthread_mutex_t mu;
	struct qix_doc *docs;
	int n_sessions;
	struct qix_parked *parked;	   /* sessions without a socket, kept for their TTL */
	int64_t cache_lookups, cache_hits; /* the cube cache's, since the start (atomic) */
};

enum qix_kind { H_DOC = 1, H_OBJ, H_FIELD };

struct qix_handle {
	int num;
	enum qix_kind kind;
	char *id;	    /* object id or field name */
	bool session_obj;   /* a session object (else saved in the app) */
	json_t *soft;	    /* soft patches applied over the properties, or NULL */
	bool in_selections; /* BeginSelections ... EndSelections */
	bool made_selections;
};

struct qix_session {
	struct qix *q;
	char app_hint[256];
	char user[256];
	bool governed;	    /* a person's: env.may_read decides which apps it opens */
	char *attrs;	    /* and the attributes the front door gave (malloc'd JSON), or NULL */
	char platform[512]; /* the client's User-Agent (ClientPlatform()), or "" */
	qix_send_fn send;
	void *send_ctx;
	struct qix_session *next_in_doc; /* under q->mu */
	struct qix_doc *doc;		 /* after OpenDoc */
	struct qix_data *data;		 /* the data the selection is on */
	bool access_user; /* section access let the person in on a USER line (not ADMIN) */
	struct assoc_sel sel;
	struct assoc_sel modal_saved; /* the selection at BeginSelections */
	bool has_modal_saved;
	struct qix_states *st; /* the states of `sel` (shared: qix_cache.c), or NULL */
	char sel_key[65];      /* the fingerprint of `sel` (qix_cache.c), when sel_key_ok */
	bool sel_key_ok;
	json_t *session_objects;   /* qId -> properties */
	json_t *session_parents;   /* session child objects: qId -> the parent's qId */
	json_t *locked;		   /* names of the fields whose selections are locked -> true */
	json_t *back, *forward;	   /* selection history: snapshots by value (Back, Forward) */
	char *search_obj, *search; /* a list object search: the object's id and the text */
	const char *cur_obj;	   /* the object a GenericObject call is on, while it runs */
	pthread_mutex_t mu;	   /* guards the handles for notifiers */
	struct qix_handle *h;
	int n_h, cap_h, next_num;
	bool data_moved; /* under mu: the app has new data (set by another thread) */
	/* what the current request changed: handles to list in "change" */
	int *changed;
	int n_changed, cap_changed;
	bool all_changed;
	bool states_changed; /* the selection: every handle but those apart from it */
	/* the rules' last answer to "may this person change the app" (qix_may_update) */
	bool may_known, may_ok;
	bool may_failed; /* the last question could not be answered (the database is away) */
	int64_t may_at;	 /* monotonic ms */
	/* the person's selections kept in the database (qix_session_keep_state) */
	char state_key[65];
	unsigned sel_version, saved_version; /* changes of `sel`; the one last saved */
};

/* ---- qix_doc.c ---- */

/* Opens (or finds) the app `id` and counts a session on it. ERR_NOT_FOUND for no app. */
NODISCARD int qix_doc_open(struct qix *q, const char *id, struct qix_doc **out, struct err *e);
void qix_doc_release(struct qix *q, struct qix_doc *d);
/* The app's current data, with a reference the caller drops with qix_data_release. */
struct qix_data *qix_doc_data(struct qix *q, struct qix_doc *d);
void qix_data_release(struct qix *q, struct qix_data *data);
/* Drops a reference (the same, for callers without the engine at hand). */
void qix_data_unref(struct qix_data *data);

/* ---- qix_access.c: section access ---- */

/* The data session s may see of `base` (a new reference): base itself when the app has no
 * section access or nothing of it reduces the person's view, else a reduced model kept on
 * base for every session with the same reductions. When the person may not open the app,
 * *out is NULL and *why says so (the log says why). *user_only: the person's lines are
 * USER lines, not ADMIN. 0, or an error. */
NODISCARD int qix_access_data(struct qix_session *s, struct qix_data *base, struct qix_data **out,
			      bool *user_only, const char **why, struct err *e);
/* Builds the access model of the app's access tables `m` into data->access. */
NODISCARD int qix_access_build(struct data_set *m, struct qix_data *data, struct err *e);
/* Frees the access model and the reduced models kept on `base`. */
void qix_access_free(struct qix_data *base);
/* Reads the live generation again; when it changed, loads it and tells every session. */
NODISCARD int qix_doc_refresh(struct qix *q, struct qix_doc *d, struct err *e);
/* Writes the app with its current script and objects as a new generation (DoSave). */
NODISCARD int qix_doc_save(struct qix *q, struct qix_doc *d, struct err *e);
/* Sends every session on the app, but `except`, a change for its handles on object `id`
 * (NULL: every handle). */
void qix_doc_notify(struct qix *q, struct qix_doc *d, const struct qix_session *except,
		    const char *id);

/* ---- qix_cache.c: computed cubes shared by the sessions with the same selection */

/* The key of a cube on the session's selection; false when it is not to be kept. */
bool qix_cache_key(struct qix_session *s, const struct cube_def *def, char out[65]);
/* The cube kept under `key` on the session's data (a reference the caller frees with
 * model_cube_free), or NULL. */
struct cube *qix_cache_get(struct qix_session *s, const char key[65]);
/* Keeps a reference to `cube` under `key` (unless it is too large). */
void qix_cache_put(struct qix_session *s, const char key[65], struct cube *cube);
/* The states of the session's selection: the session's own (s->st), or those another
 * session computed for the same selection, or computed now. */
NODISCARD int qix_cache_states(struct qix_session *s, const struct assoc_states **out,
			       struct err *e);
/* Drops the session's reference to its states (as its selection or data changes). */
void qix_cache_states_drop(struct qix_session *s);
/* Frees the cubes and states kept on `d` (as the data goes). */
void qix_cache_free(struct qix_data *d);

/* ---- qix_session.c: a session's handles, changes, selection, data and objects ---- */

struct qix_handle *qix_sess_handle(struct qix_session *s, int num);
/* A new handle (or the open one for the same object or field). */
struct qix_handle *qix_sess_add_handle(struct qix_session *s, enum qix_kind kind, const char *id,
				       bool session_obj);
/* Closes the handles on object `id`; returns their numbers (a new array). */
json_t *qix_sess_close_object(struct qix_session *s, const char *id, bool session_obj);
void qix_sess_mark_changed(struct qix_session *s, int num);
/* Marks the doc and every object handle changed (after a selection). */
void qix_sess_mark_all(struct qix_session *s);
/* The selections kept under the session's state key: applied once the app is open, saved
 * after a request that changed them. */
void qix_sess_state_restore(struct qix_session *s);
void qix_sess_state_save(struct qix_session *s);
/* The states of the session's selection (computed when needed). */
NODISCARD int qix_sess_states(struct qix_session *s, const struct assoc_states **out,
			      struct err *e);
/* The selection changed: states are stale. */
void qix_sess_selection_changed(struct qix_session *s);
/* Moves the session to the app's current data, keeping its selections by value. */
void qix_sess_sync_data(struct qix_session *s);
/* An object's stored properties (a new reference), or NULL when there is no such object
 * (or it is another person's private bookmark). */
json_t *qix_sess_object_props(struct qix_session *s, const char *id, bool *out_session_obj);
/* Whether saved object `props` is a private bookmark of someone other than the session's
 * person: as if it were not there. */
bool qix_sess_hidden(const struct qix_session *s, json_t *props);
/* The person a private bookmark belongs to, or NULL for an object everyone sees. */
const char *qix_obj_private_to(json_t *props);
/* Replaces an object's properties (takes the reference). */
void qix_sess_object_store(struct qix_session *s, const char *id, bool session_obj, json_t *props);
/* The app's saved objects, qId -> properties (a new reference to a map that is replaced,
 * never changed in place), or NULL before OpenDoc. */
json_t *qix_sess_saved_objects(struct qix_session *s);
/* Removes an object (its properties only); false when there is none. */
bool qix_sess_object_remove(struct qix_session *s, const char *id, bool session_obj);
/* The session's selection by value: {field name: [texts]} (a new object). */
json_t *qix_sess_snapshot(const struct qix_session *s);
/* Makes a snapshot the session's selection (remembered for Back; locked fields keep
 * theirs; values the data no longer holds are left out). */
NODISCARD int qix_sess_apply(struct qix_session *s, json_t *snap);
/* Sends one JSON message to the session's client (borrowed). */
void qix_sess_send(struct qix_session *s, json_t *msg);

/* JSON-RPC parameter by position or by name: params may be an array or an object. */
json_t *qix_param(json_t *params, int pos, const char *name);
/* The same as a string, or `dflt` when it is none. */
const char *qix_param_str(json_t *params, int pos, const char *name, const char *dflt);
/* {qReturn: {qType, qHandle, qGenericType?, qGenericId?}}: a new handle's answer. */
json_t *qix_ref(const char *type, int num, const char *gtype, const char *gid);
/* What enigma.js and nebula read as "Object not found". */
json_t *qix_null_ref(void);

/* ---- the methods (qix.c dispatches; qix_app.c and qix_object.c implement) ---- */

enum qix_class { QIX_GLOBAL, QIX_DOC, QIX_OBJECT, QIX_FIELD };

/* One call: what it is on, and what the handler answers. */
struct qix_call {
	struct qix_session *s;
	struct qix_handle *h; /* NULL on Global */
	const char *method;
	json_t *params; /* an array or an object */
	json_t *closed; /* handles the call closed (the "close" list) */
	/* GenericObject: its stored properties, and those with the handle's soft patches */
	json_t *stored, *eff;
	bool session_obj;
	int field;	 /* Field: the field's index in the session's data */
	json_t *out;	 /* the result, on success (the handler's reference) */
	const char *msg; /* the error's parameter text, on failure */
};

/* A method: 0 with c->out, or a QIX error code with c->msg. */
struct qix_method {
	enum qix_class cls;
	const char *name;
	int (*fn)(struct qix_call *c);
	int arity; /* positional parameters in Qlik's schema; a call with more is refused */
};

/* Answers a handle on object id: {qReturn: {qType: cls, qHandle, qGenericType: type,
 * qGenericId: id}} and, with_info, its qInfo; NULL (with c->msg) when out of memory. */
struct qix_handle *qix_answer_handle(struct qix_call *c, const char *id, bool session_obj,
				     const char *cls, const char *type, bool with_info);

/* Whether the session may change its app (qix.c): always for a site-certificate session,
 * as the security rules say for a person's (asks the repository: call it without locks). */
bool qix_may_update(struct qix_session *s);

/* The tables, each ended by an entry with a NULL name. */
extern const struct qix_method qix_app_methods[];    /* Global and Doc (qix_app.c) */
extern const struct qix_method qix_object_methods[]; /* GenericObject (qix_object.c) */
extern const struct qix_method qix_field_methods[];  /* Field (qix_select.c) */
extern const struct qix_method qix_tree_methods[];   /* child objects (qix_tree.c) */

/* qix_select.c: selects (or toggles) symbols of field f; a selection that leaves nothing
 * clears it. The selection is remembered for Back first. QIX_SEL_LOCKED (nothing changed)
 * for a locked field, else 0 or an ERR_ code. */
#define QIX_SEL_LOCKED 1
NODISCARD int qix_sel_syms(struct qix_session *s, int f, const int64_t *syms, int n, bool toggle);
/* Selects the values of field f in state `which` ("All", "Possible", "Excluded",
 * "Alternative"). */
NODISCARD int qix_sel_by_state(struct qix_session *s, int f, const char *which);
/* The integers of a JSON list (caller frees; *n of them). */
int64_t *qix_elem_list(json_t *arr, int *n);

/* An object's qInfo.qType (borrowed from props). */
const char *qix_object_type(json_t *props);
/* A copy of the properties with a qInfo.qId that is free (generated when absent or
 * taken). NULL with *msg when qInfo.qType is missing. */
json_t *qix_new_object_props(struct qix_session *s, json_t *prop, const char **msg);

/* ---- qix_tree.c: child objects ---- */

/* The qIds of object id's children, in their order (a new list). */
json_t *qix_tree_children(struct qix_session *s, const char *id, bool session_obj);
/* Destroys object id and its descendants, closing this session's handles on them; returns
 * the handle numbers closed (a new list); *found (if given): whether id was an object. */
json_t *qix_tree_destroy(struct qix_session *s, const char *id, bool session_obj, bool *found);
/* Destroys object id (NULL: none) and its descendants for a Destroy* method: the handles it
 * closed go in the call's close list, and the answer is {qSuccess}. */
int qix_answer_destroyed(struct qix_call *c, const char *id, bool session_obj);
/* 0 when the session may change the app (the security rules), else the error to answer
 * (c->msg set). */
int qix_may_write(struct qix_call *c);
/* Replaces object id's properties (old: its current ones) with a copy of np, keeping its
 * qId, and its qType unless np names one; marks its handles changed. */
void qix_tree_replace(struct qix_session *s, const char *id, bool session_obj, json_t *old,
		      json_t *np);
/* The layout of a qChildListDef of the object the current call is on: {qItems}. */
json_t *qix_tree_child_list(struct qix_session *s, json_t *def);
/* The value at JSON pointer `path` ("/a/0/b") in v (borrowed), or NULL. */
json_t *qix_json_at(json_t *v, const char *path);
/* {key: the value at path} for each {key: path} of `want` (qData of a list definition). */
json_t *qix_list_data(json_t *props, json_t *want);

/* ---- qix_library.c: master dimensions and measures ---- */

/* props (a reference the call takes) with the master items its charts name by qLibraryId
 * filled in: the same reference when it names none, else a new copy. */
json_t *qix_library_fill(struct qix_session *s, json_t *props);
/* The layout of a qDimensionListDef (type "dimension") or qMeasureListDef ("measure"). */
json_t *qix_library_list(struct qix_session *s, json_t *def, const char *type);
extern const struct qix_method qix_library_methods[]; /* Doc, GenericDimension/Measure */

/* ---- qix_variable.c: variables ---- */

/* $(name) and $(=expression) in `text`, expanded with the app's variables (the context is
 * the session), into the arena; an unknown name expands to nothing. */
const char *qix_var_expand(void *session, const char *text, struct arena *a);
/* Whether an expression calls ClientPlatform(), which qix_var_expand replaces with the
 * session's browser (a text literal; NULL when it has none). */
bool qix_var_platform_used(const char *text);
/* The layout of a qVariableListDef: {qItems}. */
json_t *qix_var_list(struct qix_session *s, json_t *def);
/* A variable's value for its layout: qText, and qNum when it is a number. */
void qix_var_value(struct qix_session *s, json_t *props, json_t *layout);
extern const struct qix_method qix_variable_methods[]; /* Doc and GenericVariable */

/* ---- qix_bookmark.c: bookmarks ---- */

/* The layout of a qBookmarkListDef: {qItems}. */
json_t *qix_bookmark_list(struct qix_session *s, json_t *def);
extern const struct qix_method qix_bookmark_methods[]; /* Doc and GenericBookmark */

/* ---- qix_object.c: GenericObject and Field methods, layouts ---- */

/* Leaves selection mode on handle h, keeping the selection made in it when `accept`
 * (EndSelections; AbortModal uses it for every handle in selection mode). */
void qix_obj_end_selections(struct qix_session *s, struct qix_handle *h, bool accept);
/* The properties with the handle's soft patches applied (a new reference). */
json_t *qix_obj_effective(struct qix_session *s, struct qix_handle *h);
/* Whether the object's layout stands apart from the selection (a list of the app's fields,
 * master items or bookmarks): a new selection does not change it. */
bool qix_obj_apart_from_states(struct qix_session *s, struct qix_handle *h);
/* Applies QIX patches ({qOp, qPath, qValue as JSON text}) to `props` in place. */
NODISCARD int qix_obj_apply_patches(json_t *props, json_t *patches, const char **msg);
/* Evaluates a chart expression over the session's selection ("=Sum(X)" or "Sum(X)"). */
NODISCARD int qix_obj_evaluate(struct qix_session *s, const char *expr, struct val *out,
			       struct arena *a, struct err *e);
/* A value as QIX cell fields: qText, qNum ("NaN" for text). */
void qix_obj_set_value(json_t *cell, const struct val *v);
/* An expression without its leading blanks and '='. */
const char *qix_strip_eq(const char *expr);
/* A cube over the session's selection and variables (its states computed once per
 * selection and shared by every object). */
NODISCARD int qix_obj_cube(struct qix_session *s, const struct cube_def *def, struct cube **out,
			   struct err *e);
/* The object's definition at the call's qPath (params[0]), or NULL. */
json_t *qix_obj_definition(struct qix_call *c);
/* The field of a list object's (or dimension's) qDef, or -1. */
int qix_obj_def_field(const struct assoc *a, json_t *def);
/* A sort criterion's direction (qSortByNumeric and the like): 1, -1, or 0 for none. */
int qix_sort_dir(json_t *o, const char *k);
/* Copies the keys that are not QIX's own (no q prefix) from `from` into `to`. */
void qix_copy_custom(json_t *to, json_t *from);

/* ---- qix_cube.c: hypercubes ---- */

#define QIX_MAX_CELLS 10000 /* per Get*Data call, as the engine (CALC_PAGES_TOO_LARGE) */

/* A qHyperCubeDef as read for computing. */
struct cube_spec {
	struct cube_def def;
	const char *dims[64], *measures[64], *dim_label[64], *mes_label[64];
	json_t *dim_def[64], *mes_def[64]; /* qDef objects: their custom keys go to the layout */
	json_t *mes_nf[64]; /* a measure's qNumFormat when its qText follows it, else NULL */
	/* how a measure's qText is written: a number format code (type F), a date and time
	 * one (D: the measure's qNumFormat D, T or TS, or Min, Max or Only of a date field
	 * with an automatic format, as Qlik writes them), or none (0) */
	struct {
		char type;
		const char *fmt, *dec, *thou;
	} mes_text[64];
	struct cube_col_sort sort[128];
	int order[128];
	int dim_field[64];
	int64_t n_sym[64]; /* each dimension's number of values in the field */
	/* measures the client asked for; after them, one hidden measure per dimension sorted
	 * by expression, which the layout does not show */
	int n_user, width;   /* width: dimensions and user measures */
	int user_order[128]; /* qInterColumnSortOrder as given (or the default) */
};

/* Reads a qHyperCubeDef. 0, or an error for the layout's qError with *why. */
NODISCARD int qix_cube_spec_read(const struct assoc *a, json_t *hc, struct cube_spec *sp,
				 const char **why);
/* Reads `hc` into *sp and computes its cube over the session's selection; 0 or a QIX error
 * with *why. */
NODISCARD int qix_cube_compute(struct qix_session *s, json_t *hc, struct cube_spec *sp,
			       struct cube **out, const char **why);
/* The cells a list of pages (NxPage: qWidth x qHeight each) asks for. */
json_int_t qix_cube_cells(json_t *req);
/* A measure's cell fields: its value, and its qText by the measure's qNumFormat. */
void qix_cube_set_measure(json_t *cell, const struct val *v, const struct cube_spec *sp, int m);

/* The layout of a qHyperCubeDef (a qError inside it when it cannot be computed). */
json_t *qix_cube_layout(struct qix_session *s, json_t *hc);
/* GetHyperCubeData, GetHyperCubeStackData: the pages `req` asks of the cube `def`. */
NODISCARD int qix_cube_data(struct qix_session *s, json_t *def, json_t *req, bool stacked,
			    json_int_t max_cells, json_t **out, const char **msg);
/* A dimension's (or list object's) qDimensionInfo on field f. */
json_t *qix_cube_dim_info(const struct assoc *a, const struct assoc_states *st, int f,
			  const char *label, json_t *qdef, const char *sort_ind);
/* A field's qTags: the engine's ($numeric or $text, $integer, $ascii, $key, $date, ...)
 * and then the script's (TAG FIELD) and a QVD's. */
json_t *qix_field_tags(const struct assoc_field *fd);
/* qStateCounts of field f's n values. */
json_t *qix_cube_state_counts(const struct assoc_states *st, int f, int64_t n);
/* SelectHyperCubeValues and SelectHyperCubeCells. */
int qix_cube_select(struct qix_call *c);
/* RangeSelectHyperCubeValues and MultiRangeSelectHyperCubeValues. */
int qix_cube_range_select(struct qix_call *c);
/* SelectHyperCubeContinuousRange and SelectListObjectContinuousRange. */
int qix_cube_continuous_range(struct qix_call *c);
/* GetHyperCubeBinnedData: a scatter plot's points in a data range when there are at most
 * qMaxNbrCells of them (the second page), else a grid of 2^qQueryLevel cells a side with
 * the points each holds (the first page), as sn-scatter-plot reads them. */
int qix_cube_binned(struct qix_call *c);

/* ---- qix_pivot.c: pivot hypercubes (qMode P) ---- */

/* Sets a pivot layout's qPivotDataPages, qSize, qNoOfLeftDims, qEffectiveInterColumnSortOrder
 * and qMode in `l` (and qError when it cannot be computed). */
void qix_pivot_layout(struct qix_session *s, json_t *hc, json_t *l);
/* GetHyperCubePivotData. */
int qix_pivot_data(struct qix_call *c);
/* ExpandLeft, ExpandTop, CollapseLeft, CollapseTop. */
int qix_pivot_expand(struct qix_call *c);
/* SelectPivotCells. */
int qix_pivot_select(struct qix_call *c);

/* QIX error codes */
enum {
	QIX_PARSE = -32700,
	QIX_INVALID_REQUEST = -32600,
	QIX_NO_METHOD = -32601,
	QIX_INVALID_PARAMS = -32602,
	QIX_INTERNAL = -32603,
	QIX_NOT_FOUND = 2,
	QIX_ACCESS_DENIED = 5,
	QIX_INVALID_PARAMETER = 8,
	QIX_ABORTED = 15,
	QIX_APP_ALREADY_OPEN = 1002,
	QIX_APP_NOT_FOUND = 1003,
	QIX_APP_INVALID = 1007,
	QIX_MODAL = 6003,
	QIX_UNAVAILABLE = 503, /* LOCERR_HTTP_503: the repository or share is away; try again */
};

/* qix_session.c: whether field `f` of the session's data is locked (Field.Lock); locking
 * and unlocking it. A locked field's selection stays as it is: selecting in it answers
 * false, ClearAll leaves it unless asked for locked fields too. */
bool qix_sess_field_locked(const struct qix_session *s, int f);
void qix_sess_field_lock(struct qix_session *s, int f, bool lock);

/* qix_session.c: the selection history. Before a selection changes, remember pushes the
 * current one (by value: field name -> selected texts, so it survives new data) and
 * forgets what Forward had; step moves one back (or forward), keeping locked fields as they
 * are. Returns 0, or an ERR_ code. */
void qix_sess_remember(struct qix_session *s);
NODISCARD int qix_sess_step(struct qix_session *s, bool forward);

/* qix_session.c: ends parked sessions whose TTL ran out (all of them when `all`). */
void qix_sess_expire(struct qix *q, bool all);

#endif
