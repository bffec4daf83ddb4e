/* qix_object.c: GenericObject and Field methods: properties, patches, layouts (hypercube,
 * list object, selection object, field list), data pages and selections (qix.md sections
 * 3 and 3.12). */
#include "qix/qix_int.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const state_letter[] = {"O", "S", "A", "X", "XS"};

/* ---------------------------------------------------------------- JSON pointers */

/* The member at a JSON pointer ("/qHyperCubeDef/qDimensions/0"), or NULL. With `parent`,
 * the container of the last step and its key are returned instead, for changes. */
/* A JSON pointer segment as an array index; SIZE_MAX for one that is not. */
static size_t array_index(const char *key)
{
	int64_t i;
	return str_to_i64(key, 0, INT64_MAX, &i) == 0 ? (size_t)i : SIZE_MAX;
}

static json_t *pointer(json_t *root, const char *path, json_t **parent, char *last, size_t n)
{
	json_t *cur = root, *par = NULL;
	char key[256] = "";
	if (!path || path[0] != '/')
		return NULL;
	for (const char *p = path + 1;;) {
		const char *slash = strchr(p, '/');
		size_t kl = slash ? (size_t)(slash - p) : strlen(p);
		if (kl >= sizeof(key))
			return NULL;
		/* ~1 is '/', ~0 is '~' */
		size_t k = 0;
		for (size_t i = 0; i < kl; i++) {
			if (p[i] == '~' && i + 1 < kl && (p[i + 1] == '0' || p[i + 1] == '1')) {
				key[k++] = p[i + 1] == '0' ? '~' : '/';
				i++;
			} else {
				key[k++] = p[i];
			}
		}
		key[k] = '\0';
		par = cur;
		if (json_is_object(cur)) {
			cur = json_object_get(cur, key);
		} else if (json_is_array(cur)) {
			int64_t idx;
			cur = str_to_i64(key, 0, INT64_MAX, &idx) == 0
				  ? json_array_get(cur, (size_t)idx)
				  : NULL;
		} else {
			return NULL;
		}
		if (!slash)
			break;
		if (!cur)
			return NULL;
		p = slash + 1;
	}
	if (parent) {
		*parent = par;
		str_copy(last, key, n);
	}
	return cur;
}

int qix_obj_apply_patches(json_t *props, json_t *patches, const char **msg)
{
	if (!json_is_array(patches)) {
		*msg = "qPatches must be an array";
		return QIX_INVALID_PARAMS;
	}
	size_t i;
	json_t *pt;
	json_array_foreach (patches, i, pt) {
		const char *op = json_string_value(json_object_get(pt, "qOp"));
		const char *path = json_string_value(json_object_get(pt, "qPath"));
		const char *text = json_string_value(json_object_get(pt, "qValue"));
		json_t *parent = NULL;
		char key[256];
		if (!op || !path) {
			*msg = "a patch needs qOp and qPath";
			return QIX_INVALID_PARAMS;
		}
		(void)pointer(props, path, &parent, key, sizeof(key));
		if (!parent || !(json_is_object(parent) || json_is_array(parent))) {
			*msg = "qPath does not lead into the properties";
			return QIX_INVALID_PARAMETER;
		}
		if (str_ieq(op, "remove")) {
			if (json_is_object(parent))
				json_object_del(parent, key);
			else
				json_array_remove(parent, array_index(key));
			continue;
		}
		if (!str_ieq(op, "add") && !str_ieq(op, "replace")) {
			*msg = "qOp must be add, replace or remove";
			return QIX_INVALID_PARAMS;
		}
		json_error_t je;
		json_t *v = text ? json_loads(text, JSON_DECODE_ANY, &je) : NULL;
		if (!v) {
			*msg = "qValue must be JSON text";
			return QIX_INVALID_PARAMS;
		}
		if (json_is_object(parent)) {
			json_object_set_new(parent, key, v);
		} else {
			size_t idx = array_index(key);
			size_t size = json_array_size(parent);
			if (strcmp(key, "-") == 0 || idx == size)
				json_array_append_new(parent, v);
			else if (idx < size)
				str_ieq(op, "add") ? json_array_insert_new(parent, (size_t)idx, v)
						   : json_array_set_new(parent, (size_t)idx, v);
			else {
				json_decref(v);
				*msg = "qPath names no element of the array";
				return QIX_INVALID_PARAMETER;
			}
		}
	}
	return 0;
}

json_t *qix_obj_effective(struct qix_session *s, struct qix_handle *h)
{
	bool so;
	json_t *props = qix_sess_object_props(s, h->id, &so);
	if (!props || !h->soft)
		return qix_library_fill(s, props);
	json_t *eff = json_deep_copy(props);
	json_decref(props);
	const char *msg;
	if (qix_obj_apply_patches(eff, h->soft, &msg) != 0)
		log_debug("engine: a soft patch no longer applies: %s", msg);
	return qix_library_fill(s, eff);
}

/* Whether `props` holds anything whose layout follows the selection. */
static bool follows_states(json_t *props, int depth)
{
	static const char *const keys[] = {
	    "qHyperCubeDef",	"qListObjectDef",	"qSelectionObjectDef", "qStringExpression",
	    "qValueExpression", "qChildListDef",	"qAppObjectListDef",   "qVariableListDef",
	    "qStateName",	"qEmbeddedSnapshotDef", "qUndoInfoDef"};
	if (depth > 64)
		return true;
	if (json_is_array(props)) {
		size_t i;
		json_t *v;
		json_array_foreach (props, i, v)
			if (follows_states(v, depth + 1))
				return true;
		return false;
	}
	const char *k;
	json_t *v;
	json_object_foreach (props, k, v) {
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strcmp(k, keys[i]) == 0)
				return true;
		if ((json_is_object(v) || json_is_array(v)) && follows_states(v, depth + 1))
			return true;
	}
	return false;
}

/* Whether props define a list of the app's fields, master items or bookmarks. */
static bool names_a_list(json_t *props)
{
	return json_object_get(props, "qFieldListDef") ||
	       json_object_get(props, "qDimensionListDef") ||
	       json_object_get(props, "qMeasureListDef") ||
	       json_object_get(props, "qBookmarkListDef");
}

bool qix_obj_apart_from_states(struct qix_session *s, struct qix_handle *h)
{
	if (h->kind != H_OBJ)
		return false;
	/* most objects are charts: their stored properties name no list, and that is enough
	 * (only the lists are known to stand apart) */
	bool so;
	json_t *raw = qix_sess_object_props(s, h->id, &so);
	bool named = names_a_list(raw);
	json_decref(raw);
	if (!named)
		return false;
	json_t *p = qix_obj_effective(s, h);
	bool apart = json_is_object(p) && names_a_list(p) && !follows_states(p, 0);
	json_decref(p);
	return apart;
}

/* ---------------------------------------------------------------- values */

void qix_obj_set_value(json_t *cell, const struct val *v)
{
	char buf[64];
	if (v->null) {
		json_object_set_new(cell, "qText", json_string("-"));
		json_object_set_new(cell, "qNum", json_string("NaN"));
		json_object_set_new(cell, "qIsNull", json_true());
		return;
	}
	json_object_set_new(cell, "qText", json_string(data_val_text(v, buf, sizeof(buf))));
	json_object_set_new(
	    cell, "qNum", v->has_num && isfinite(v->num) ? json_real(v->num) : json_string("NaN"));
}

const char *qix_strip_eq(const char *expr)
{
	while (*expr == ' ' || *expr == '\t' || *expr == '\n' || *expr == '\r')
		expr++;
	return *expr == '=' ? expr + 1 : expr;
}

/* A cube on the session's selection, over the rows its states (computed once per
 * selection, and shared by every object) say are possible; or the same cube computed
 * before on this data and selection, by any session. */
int qix_obj_cube(struct qix_session *s, const struct cube_def *def, struct cube **out,
		 struct err *e)
{
	char key[65];
	bool keep = qix_cache_key(s, def, key);
	if (keep && (*out = qix_cache_get(s, key)) != NULL)
		return 0; /* computed already on this selection (qix_cache.c) */
	const struct assoc_states *st = NULL;
	struct err se;
	err_init(&se);
	if (qix_sess_states(s, &st, &se) != 0)
		st = NULL; /* the cube computes them itself, and says what is wrong */
	struct cube_def d = *def;
	d.expand = qix_var_expand; /* $(name): the app's variables */
	d.expand_ctx = s;
	int rc = model_cube_compute_in(s->data->a, &s->sel, st, &d, out, e);
	if (rc == 0 && keep)
		qix_cache_put(s, key, *out);
	return rc;
}

int qix_obj_evaluate(struct qix_session *s, const char *expr, struct val *out, struct arena *a,
		     struct err *e)
{
	*out = (struct val){.null = true};
	if (!s->data || !s->data->a)
		return err_set(e, ERR_INVALID, "the app has no data");
	const char *m = qix_strip_eq(expr);
	struct cube_def def = {.measures = &m, .n_measures = 1};
	struct cube *c = NULL;
	int rc = qix_obj_cube(s, &def, &c, e);
	if (rc)
		return rc;
	if (c->n_rows > 0) {
		*out = c->cells[0].v;
		if (out->text)
			out->text = arena_strdup(a, out->text);
	}
	model_cube_free(c);
	return 0;
}

/* Copies the keys that are not QIX's own (no q prefix) from `from` into `to`. */
void qix_copy_custom(json_t *to, json_t *from)
{
	const char *k;
	json_t *v;
	json_object_foreach (from, k, v)
		if (k[0] != 'q')
			json_object_set(to, k, v);
}

/* A sort criterion's direction: 1, -1, or 0 for none. */
int qix_sort_dir(json_t *o, const char *k)
{
	json_int_t v = json_integer_value(json_object_get(o, k));
	return v > 0 ? 1 : v < 0 ? -1 : 0;
}

/* ---------------------------------------------------------------- selections */

static bool *sel_copy_field(const struct assoc *a, const struct assoc_sel *sel, int f)
{
	if (!sel->selected[f])
		return NULL;
	bool *c = malloc((size_t)(a->fields[f].n_sym + 1));
	if (c)
		memcpy(c, sel->selected[f], (size_t)(a->fields[f].n_sym + 1));
	return c;
}

static int sel_copy(const struct assoc *a, const struct assoc_sel *from, struct assoc_sel *to)
{
	if (model_assoc_sel_init(a, to) != 0)
		return ERR_NOMEM;
	for (int f = 0; f < from->n_fields; f++)
		to->selected[f] = sel_copy_field(a, from, f);
	return 0;
}

/* ---------------------------------------------------------------- list objects */

struct lsort {
	const struct assoc_field *f;
	const uint8_t *state;
	int by_state, by_num, by_text, by_load;
};

static int state_rank(int x)
{
	return x == STATE_S ? 0 : x == STATE_O ? 1 : x == STATE_A ? 2 : x == STATE_XS ? 3 : 4;
}

static int cmp_syms(const void *pa, const void *pb, void *arg)
{
	const struct lsort *ls = arg;
	int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
	int r;
	if (ls->by_state && (r = state_rank(ls->state[a]) - state_rank(ls->state[b])))
		return r * ls->by_state;
	const struct val xv = model_sym(ls->f, a), yv = model_sym(ls->f, b), *x = &xv, *y = &yv;
	if (ls->by_num && x->has_num != y->has_num)
		return x->has_num ? -1 : 1;
	if (ls->by_num && x->has_num && x->num != y->num)
		return (x->num < y->num ? -1 : 1) * ls->by_num;
	if (ls->by_text) {
		char b1[64], b2[64];
		r = strcmp(data_val_text(x, b1, sizeof(b1)), data_val_text(y, b2, sizeof(b2)));
		if (r)
			return (r < 0 ? -1 : 1) * ls->by_text;
	}
	return (a < b ? -1 : 1) * (ls->by_load < 0 ? -1 : 1);
}

/* Whether `text` matches a list object search: a pattern with * or ? matches the whole
 * text, other text the start of any word; both without case. */
static bool search_match(const char *text, const char *pat)
{
	if (strpbrk(pat, "*?"))
		return str_like(text, pat);
	size_t n = strlen(pat);
	for (const char *t = text; *t; t++)
		if ((t == text || !isalnum((unsigned char)t[-1])) && str_ieqn(t, pat, n))
			return true;
	return n == 0;
}

/* Keeps the rows[0..*n) that the session's search on the current object matches. */
static void search_filter(const struct qix_session *s, const struct assoc_field *fd, int64_t *rows,
			  int64_t *n)
{
	if (!s->search || !s->cur_obj || !s->search_obj || strcmp(s->cur_obj, s->search_obj) != 0)
		return;
	int64_t k = 0;
	for (int64_t i = 0; i < *n; i++) {
		char b[64];
		struct val v = model_sym(fd, rows[i]);
		if (search_match(data_val_text(&v, b, sizeof(b)), s->search))
			rows[k++] = rows[i];
	}
	*n = k;
}

/* The field of a qListObjectDef, its symbols in display order (caller frees; *n of them:
 * those the search on the object matches while one runs), or -1. */
static int list_rows(struct qix_session *s, json_t *lo, const struct assoc_states *st,
		     int64_t **out, int64_t *n)
{
	json_t *qd = json_object_get(lo, "qDef");
	const char *f = json_string_value(json_array_get(json_object_get(qd, "qFieldDefs"), 0));
	int fi = f ? model_assoc_field(s->data->a, qix_strip_eq(f)) : -1;
	*out = NULL;
	if (fi < 0)
		return -1;
	const struct assoc_field *fd = &s->data->a->fields[fi];
	int64_t *rows = calloc((size_t)fd->n_sym + 1, sizeof(int64_t));
	if (!rows)
		return -1;
	for (int64_t i = 0; i < fd->n_sym; i++)
		rows[i] = i;
	json_t *crit = json_array_get(json_object_get(qd, "qSortCriterias"), 0);
	struct lsort ls = {fd,
			   st->state[fi],
			   qix_sort_dir(crit, "qSortByState"),
			   qix_sort_dir(crit, "qSortByNumeric"),
			   qix_sort_dir(crit, "qSortByAscii"),
			   qix_sort_dir(crit, "qSortByLoadOrder")};
	qsort_r(rows, (size_t)fd->n_sym, sizeof(int64_t), cmp_syms, &ls);
	*n = fd->n_sym;
	search_filter(s, fd, rows, n);
	*out = rows;
	return fi;
}

static json_t *list_page(struct qix_session *s, json_t *lo, int f, const int64_t *rows, int64_t n,
			 const struct assoc_states *st, json_t *pg)
{
	const struct assoc_field *fd = &s->data->a->fields[f];
	bool alternatives = !json_is_false(json_object_get(lo, "qShowAlternatives"));
	json_int_t top = json_integer_value(json_object_get(pg, "qTop")),
		   h = json_integer_value(json_object_get(pg, "qHeight")),
		   w = json_integer_value(json_object_get(pg, "qWidth"));
	if (top < 0 || h < 0)
		top = h = 0;
	if (top > n)
		top = n;
	if (h > n - top)
		h = n - top;
	if (w <= 0)
		h = 0;
	json_t *matrix = json_array();
	for (json_int_t r = top; r < top + h; r++) {
		int64_t sym = rows[r];
		int x = st->state[f][sym];
		if (!alternatives && x == STATE_A)
			x = STATE_X;
		json_t *cell = json_object();
		struct val v = model_sym(fd, sym);
		qix_obj_set_value(cell, &v);
		json_object_set_new(cell, "qElemNumber", json_integer(sym));
		json_object_set_new(cell, "qState", json_string(state_letter[x]));
		json_array_append_new(matrix, json_pack("[o]", cell));
	}
	return json_pack("{s:o,s:[],s:{s:i,s:I,s:i,s:I}}", "qMatrix", matrix, "qTails", "qArea",
			 "qLeft", 0, "qTop", top, "qWidth", h ? 1 : 0, "qHeight", h);
}

static json_t *list_layout(struct qix_session *s, json_t *lo)
{
	json_t *l = json_object();
	qix_copy_custom(l, lo);
	const struct assoc_states *st = NULL;
	struct err e;
	err_init(&e);
	int64_t *rows = NULL, n = 0;
	int f = s->data && s->data->a && qix_sess_states(s, &st, &e) == 0
		    ? list_rows(s, lo, st, &rows, &n)
		    : -1;
	if (f < 0) {
		json_object_set_new(l, "qError", json_pack("{s:i}", "qErrorCode", 8));
		json_object_set_new(l, "qSize", json_pack("{s:i,s:i}", "qcx", 0, "qcy", 0));
		json_object_set_new(l, "qDataPages", json_array());
		json_object_set_new(l, "qDimensionInfo", json_object());
		return l;
	}
	const struct assoc_field *fd = &s->data->a->fields[f];
	json_t *qd = json_object_get(lo, "qDef");
	const char *label =
	    json_string_value(json_array_get(json_object_get(qd, "qFieldLabels"), 0));
	json_t *di =
	    qix_cube_dim_info(s->data->a, st, f, label && *label ? label : fd->name, qd, "A");
	json_object_set_new(di, "qIsOneAndOnlyOne", json_false());
	json_object_set_new(di, "qLocked", json_boolean(qix_sess_field_locked(s, f)));
	json_object_set_new(l, "qSize", json_pack("{s:i,s:I}", "qcx", 1, "qcy", (json_int_t)n));
	json_object_set_new(l, "qDimensionInfo", di);
	json_object_set_new(l, "qExpressions", json_array());
	json_t *dp = json_array();
	size_t i;
	json_t *pg;
	json_array_foreach (json_object_get(lo, "qInitialDataFetch"), i, pg)
		json_array_append_new(dp, list_page(s, lo, f, rows, n, st, pg));
	json_object_set_new(l, "qDataPages", dp);
	free(rows);
	return l;
}

/* ---------------------------------------------------------------- other layouts */

static json_t *selection_layout(struct qix_session *s)
{
	json_t *list = json_array();
	const struct assoc_states *st = NULL;
	struct err e;
	err_init(&e);
	const struct assoc *a = s->data ? s->data->a : NULL;
	if (a && qix_sess_states(s, &st, &e) == 0)
		for (int f = 0; f < s->sel.n_fields; f++) {
			if (!s->sel.selected[f])
				continue;
			json_t *names = json_array();
			struct buf text;
			buf_init(&text, 1 << 16);
			int n = 0;
			for (int64_t i = 0; i < a->fields[f].n_sym; i++) {
				if (!s->sel.selected[f][i])
					continue;
				char b[64];
				struct val v = model_sym(&a->fields[f], i);
				const char *t = data_val_text(&v, b, sizeof(b));
				json_array_append_new(names,
						      json_pack("{s:s,s:s}", "qName", t,
								"qFieldSelectionMode", "NORMAL"));
				if (n < 6 && buf_printf(&text, "%s%s", n ? ", " : "", t) != 0)
					break;
				n++;
			}
			char summary[64];
			snprintf(summary, sizeof(summary), "%d of %lld", n,
				 (long long)a->fields[f].n_sym);
			json_array_append_new(
			    list,
			    json_pack(
				"{s:s,s:I,s:i,s:s,s:o,s:[],s:[],s:i,s:o,s:i,s:b}", "qField",
				a->fields[f].name, "qTotal", (json_int_t)a->fields[f].n_sym,
				"qSelectedCount", n, "qSelected",
				n > 6 ? summary : (text.data ? text.data : ""),
				"qSelectedFieldSelectionInfo", names,
				"qNotSelectedFieldSelectionInfo", "qRangeInfo", "qSortIndex", 0,
				"qStateCounts", qix_cube_state_counts(st, f, a->fields[f].n_sym),
				"qSelectionThreshold", 6, "qLocked", qix_sess_field_locked(s, f)));
			buf_release(&text);
		}
	return json_pack("{s:i,s:i,s:o}", "qBackCount", (int)json_array_size(s->back),
			 "qForwardCount", (int)json_array_size(s->forward), "qSelections", list);
}

static json_t *field_list(struct qix_session *s)
{
	json_t *items = json_array();
	const struct assoc *a = s->data ? s->data->a : NULL;
	for (int f = 0; a && f < a->n_fields; f++) {
		json_t *tables = json_array();
		for (int t = 0; t < a->n_tables; t++)
			for (int c = 0; c < a->tables[t].n_fields; c++)
				if (a->tables[t].field[c] == f)
					json_array_append_new(tables,
							      json_string(a->tables[t].name));
		json_array_append_new(
		    items, json_pack("{s:s,s:I,s:o,s:o}", "qName", a->fields[f].name, "qCardinal",
				     (json_int_t)a->fields[f].n_sym, "qTags",
				     qix_field_tags(&a->fields[f]), "qSrcTables", tables));
	}
	return json_pack("{s:o}", "qItems", items);
}

/* The layout of a property tree: every *Def replaced by what it computes (qix.md 3.2). */
static json_t *layout_of(struct qix_session *s, json_t *props)
{
	if (json_is_array(props)) {
		json_t *arr = json_array();
		size_t i;
		json_t *v;
		json_array_foreach (props, i, v)
			json_array_append_new(arr, layout_of(s, v));
		return arr;
	}
	if (!json_is_object(props))
		return json_incref(props);
	json_t *se = json_object_get(props, "qStringExpression");
	json_t *ve = json_object_get(props, "qValueExpression");
	if ((se || ve) && json_object_size(props) == 1) {
		json_t *x = se ? se : ve;
		const char *expr = json_is_string(x)
				       ? json_string_value(x)
				       : json_string_value(json_object_get(x, "qExpr"));
		struct arena *a = arena_new();
		struct val v;
		struct err e;
		err_init(&e);
		json_t *r;
		char b[64];
		if (!expr || qix_obj_evaluate(s, expr, &v, a, &e) != 0 || v.null)
			r = se ? json_string("") : json_string("NaN");
		else
			r = se ? json_string(data_val_text(&v, b, sizeof(b)))
			       : (v.has_num ? json_real(v.num) : json_string("NaN"));
		arena_free(a);
		return r;
	}
	json_t *l = json_object();
	const char *k;
	json_t *v;
	json_object_foreach (props, k, v) {
		if (strcmp(k, "qHyperCubeDef") == 0)
			json_object_set_new(l, "qHyperCube", qix_cube_layout(s, v));
		else if (strcmp(k, "qListObjectDef") == 0)
			json_object_set_new(l, "qListObject", list_layout(s, v));
		else if (strcmp(k, "qSelectionObjectDef") == 0)
			json_object_set_new(l, "qSelectionObject", selection_layout(s));
		else if (strcmp(k, "qFieldListDef") == 0)
			json_object_set_new(l, "qFieldList", field_list(s));
		else if (strcmp(k, "qChildListDef") == 0)
			json_object_set_new(l, "qChildList", qix_tree_child_list(s, v));
		else if (strcmp(k, "qBookmarkListDef") == 0)
			json_object_set_new(l, "qBookmarkList", qix_bookmark_list(s, v));
		else if (strcmp(k, "qVariableListDef") == 0)
			json_object_set_new(l, "qVariableList", qix_var_list(s, v));
		else if (strcmp(k, "qDimensionListDef") == 0 || strcmp(k, "qMeasureListDef") == 0)
			json_object_set_new(
			    l, k[1] == 'D' ? "qDimensionList" : "qMeasureList",
			    qix_library_list(s, v, k[1] == 'D' ? "dimension" : "measure"));
		else if (strcmp(k, "qMetaDef") == 0) {
			json_t *meta = json_deep_copy(v);
			json_object_set_new(
			    meta, "privileges",
			    json_pack("[ssss]", "read", "update", "delete", "exportdata"));
			json_object_set_new(l, "qMeta", meta);
		} else if (strcmp(k, "qLayoutExclude") != 0)
			json_object_set_new(l, k, layout_of(s, v));
	}
	return l;
}

static json_t *object_layout(struct qix_session *s, struct qix_handle *h, json_t *props)
{
	json_t *l = layout_of(s, props);
	if (!json_object_get(l, "qMeta"))
		json_object_set_new(l, "qMeta",
				    json_pack("{s:[ssss]}", "privileges", "read", "update",
					      "delete", "exportdata"));
	json_object_set_new(l, "qSelectionInfo",
			    h->in_selections ? json_pack("{s:b,s:b}", "qInSelections", 1,
							 "qMadeSelections", h->made_selections)
					     : json_object());
	json_object_set_new(l, "qHasSoftPatches", json_boolean(h->soft != NULL));
	const char *type = qix_object_type(props);
	if (type && strcmp(type, "variable") == 0)
		qix_var_value(s, props, l);
	return l;
}

/* ---------------------------------------------------------------- GenericObject */

static int object_data(struct qix_session *s, json_t *props, const char *m, json_t *p, json_t **out,
		       const char **msg)
{
	const char *path = json_string_value(qix_param(p, 0, "qPath"));
	json_t *def = path ? pointer(props, path, NULL, NULL, 0) : NULL;
	json_t *req = qix_param(p, 1, "qPages");
	if (!json_is_object(def) || !json_is_array(req)) {
		*msg = "qPath names no definition of the object";
		return QIX_INVALID_PARAMETER;
	}
	if (strcmp(m, "GetListObjectData") == 0) {
		const struct assoc_states *st;
		struct err e;
		err_init(&e);
		int64_t *rows = NULL, n = 0;
		int f = s->data && s->data->a && qix_sess_states(s, &st, &e) == 0
			    ? list_rows(s, def, st, &rows, &n)
			    : -1;
		if (f < 0) {
			*msg = "the list object names no field of the app";
			return QIX_INVALID_PARAMETER;
		}
		json_t *dp = json_array();
		size_t i;
		json_t *pg;
		json_array_foreach (req, i, pg)
			json_array_append_new(dp, list_page(s, def, f, rows, n, st, pg));
		free(rows);
		*out = json_pack("{s:o}", "qDataPages", dp);
		return 0;
	}
	/* a stacked page holds at most qMaxNbrCells cells (10,000, the most, by default) */
	bool stack = strcmp(m, "GetHyperCubeStackData") == 0;
	json_int_t max = json_integer_value(qix_param(p, 2, "qMaxNbrCells"));
	return qix_cube_data(s, def, req, stack, max > 0 && max < 10000 ? max : 10000, out, msg);
}

/* The object's definition at qPath (params[0]), or NULL. */
json_t *qix_obj_definition(struct qix_call *c)
{
	const char *path = json_string_value(qix_param(c->params, 0, "qPath"));
	json_t *def = path ? pointer(c->eff, path, NULL, NULL, 0) : NULL;
	return json_is_object(def) ? def : NULL;
}

/* The field of a list object's (or dimension's) qDef, or -1. */
int qix_obj_def_field(const struct assoc *a, json_t *def)
{
	json_t *qd = json_object_get(def, "qDef");
	const char *name = json_string_value(json_array_get(json_object_get(qd, "qFieldDefs"), 0));
	return name ? model_assoc_field(a, qix_strip_eq(name)) : -1;
}

static int get_data(struct qix_call *c)
{
	bool reduced = strcmp(c->method, "GetHyperCubeReducedData") == 0;
	/* the reduced data of a stacked cube is its stacked pages, which the layout has: none
	 * here, as the engine answers (sn-bar-chart then reads the layout's) */
	const char *mode =
	    reduced ? json_string_value(json_object_get(qix_obj_definition(c), "qMode")) : NULL;
	if (mode && strcmp(mode, "K") == 0) {
		c->out = json_pack("{s:[]}", "qDataPages");
		return 0;
	}
	return object_data(c->s, c->eff, reduced ? "GetHyperCubeData" : c->method, c->params,
			   &c->out, &c->msg);
}

/* ClearSelections: a list object's field, or the listed (qColIndices; none: every)
 * dimensions of a hypercube. */
static int clear_selections(struct qix_call *c)
{
	json_t *def = qix_obj_definition(c);
	const struct assoc *a = c->s->data ? c->s->data->a : NULL;
	if (!def || !a) {
		c->msg = "qPath names no definition of the object";
		return QIX_INVALID_PARAMETER;
	}
	int f = qix_obj_def_field(a, def), rc = 0;
	if (f >= 0) {
		rc = qix_sel_syms(c->s, f, NULL, 0, false);
		rc = rc == QIX_SEL_LOCKED ? 0 : rc; /* a locked field keeps its selection */
	} else {
		json_t *dims = json_object_get(def, "qDimensions"),
		       *cols = qix_param(c->params, 1, "qColIndices");
		size_t i;
		json_t *d;
		json_array_foreach (dims, i, d) {
			bool listed = json_array_size(cols) == 0;
			size_t k;
			json_t *col;
			json_array_foreach (cols, k, col)
				listed |= json_integer_value(col) == (json_int_t)i;
			int df = qix_obj_def_field(a, d);
			if (listed && df >= 0 && rc == 0) {
				rc = qix_sel_syms(c->s, df, NULL, 0, false);
				rc = rc == QIX_SEL_LOCKED ? 0 : rc;
			}
		}
	}
	c->out = json_object();
	return rc ? QIX_INTERNAL : 0;
}

/* SearchListObjectFor: the list object shows only the values its search matches, until
 * AcceptListObjectSearch selects them or AbortListObjectSearch ends it. One search per
 * session, as one listbox has the keyboard at a time. */
static void search_end(struct qix_session *s)
{
	free(s->search_obj);
	free(s->search);
	s->search_obj = s->search = NULL;
}

static int search_list(struct qix_call *c)
{
	json_t *def = qix_obj_definition(c);
	const char *match = json_string_value(qix_param(c->params, 1, "qMatch"));
	if (!def || !json_object_get(def, "qDef")) {
		c->msg = "qPath names no list object of the object";
		return QIX_INVALID_PARAMETER;
	}
	search_end(c->s);
	c->s->search_obj = strdup(c->h->id);
	c->s->search = strdup(match ? match : "");
	qix_sess_mark_changed(c->s, c->h->num);
	c->out = json_pack("{s:b}", "qSuccess", c->s->search_obj && c->s->search);
	return 0;
}

static int search_done(struct qix_call *c)
{
	json_t *def = qix_obj_definition(c);
	const struct assoc *a = c->s->data ? c->s->data->a : NULL;
	bool ours = c->s->search_obj && strcmp(c->s->search_obj, c->h->id) == 0;
	int rc = 0;
	if (ours && def && a && strcmp(c->method, "AcceptListObjectSearch") == 0) {
		const struct assoc_states *st;
		struct err e;
		err_init(&e);
		int64_t *rows = NULL, n = 0;
		int f =
		    qix_sess_states(c->s, &st, &e) == 0 ? list_rows(c->s, def, st, &rows, &n) : -1;
		/* qToggleMode keeps what was selected before, and adds the matches */
		const bool *had = f >= 0 && json_is_true(qix_param(c->params, 1, "qToggleMode"))
				      ? c->s->sel.selected[f]
				      : NULL;
		bool *matched = had && rows ? calloc((size_t)a->fields[f].n_sym + 1, 1) : NULL;
		for (int64_t k = 0; matched && k < n; k++)
			matched[rows[k]] = true;
		for (int64_t i = 0; matched && i < a->fields[f].n_sym; i++)
			if (had[i] && !matched[i])
				rows[n++] = i; /* rows holds room for every symbol */
		free(matched);
		if (f >= 0 && n > 0)
			rc = qix_sel_syms(c->s, f, rows, (int)n, false);
		free(rows);
	}
	search_end(c->s);
	qix_sess_mark_changed(c->s, c->h->num);
	c->out = json_object();
	return rc && rc != QIX_SEL_LOCKED ? QIX_INTERNAL : 0;
}

/* SelectListObjectValues, -Possible, -Excluded, -All, -Alternative */
static int select_list(struct qix_call *c)
{
	json_t *def = qix_obj_definition(c);
	const struct assoc *a = c->s->data ? c->s->data->a : NULL;
	if (!def || !a) {
		c->msg = "qPath names no definition of the object";
		return QIX_INVALID_PARAMETER;
	}
	int f = qix_obj_def_field(a, def), rc;
	if (f < 0) {
		c->msg = "the list object names no field of the app";
		return QIX_INVALID_PARAMETER;
	}
	if (strcmp(c->method, "SelectListObjectValues") == 0) {
		int n;
		int64_t *syms = qix_elem_list(qix_param(c->params, 1, "qValues"), &n);
		rc = syms ? qix_sel_syms(c->s, f, syms, n,
					 json_is_true(qix_param(c->params, 2, "qToggleMode")))
			  : ERR_NOMEM;
		free(syms);
	} else {
		rc = qix_sel_by_state(c->s, f, c->method + 16);
	}
	c->out = json_pack("{s:b}", "qSuccess", rc == 0);
	return 0;
}

/* ---- selection mode */

static int begin_selections(struct qix_call *c)
{
	struct qix_session *s = c->s;
	struct qix_handle *h = c->h;
	const struct assoc *a = s->data ? s->data->a : NULL;
	for (int i = 0; i < s->n_h; i++)
		if (s->h[i].in_selections && &s->h[i] != h) {
			c->msg = "another object is in selection mode";
			return QIX_MODAL;
		}
	if (!h->in_selections && a) {
		if (s->has_modal_saved)
			model_assoc_sel_release(&s->modal_saved);
		s->has_modal_saved = sel_copy(a, &s->sel, &s->modal_saved) == 0;
	}
	h->in_selections = true;
	h->made_selections = false;
	qix_sess_mark_changed(s, h->num);
	c->out = json_object();
	return 0;
}

/* Goes back to the selection of BeginSelections unless `accept`; `end` leaves selection
 * mode (EndSelections), else it stays (ResetMadeSelections). */
static void leave_selections(struct qix_session *s, struct qix_handle *h, bool accept, bool end)
{
	const struct assoc *a = s->data ? s->data->a : NULL;
	if (h->in_selections && !accept && s->has_modal_saved && a) {
		struct assoc_sel back;
		if (sel_copy(a, &s->modal_saved, &back) == 0) {
			model_assoc_sel_release(&s->sel);
			s->sel = back;
		}
	}
	if (end) {
		h->in_selections = false;
		if (s->has_modal_saved)
			model_assoc_sel_release(&s->modal_saved);
		s->has_modal_saved = false;
	}
	h->made_selections = false;
	qix_sess_selection_changed(s);
	qix_sess_mark_changed(s, h->num);
}

void qix_obj_end_selections(struct qix_session *s, struct qix_handle *h, bool accept)
{
	leave_selections(s, h, accept, true);
}

static int end_selections(struct qix_call *c)
{
	bool end = strcmp(c->method, "EndSelections") == 0;
	leave_selections(c->s, c->h, end && json_is_true(qix_param(c->params, 0, "qAccept")), end);
	c->out = json_object();
	return 0;
}

/* ---- properties */

static int get_layout(struct qix_call *c)
{
	c->out = json_pack("{s:o}", "qLayout", object_layout(c->s, c->h, c->eff));
	return 0;
}

static int get_properties(struct qix_call *c)
{
	c->out = json_pack("{s:O}", "qProp", c->stored);
	return 0;
}

static int get_effective_properties(struct qix_call *c)
{
	c->out = json_pack("{s:O}", "qProp", c->eff);
	return 0;
}

static int get_info(struct qix_call *c)
{
	c->out = json_pack("{s:O}", "qInfo", json_object_get(c->stored, "qInfo"));
	return 0;
}

/* SetProperties: the object keeps its qId, and its qType unless the new properties name
 * one. */
static int set_properties(struct qix_call *c)
{
	json_t *np = qix_param(c->params, 0, "qProp");
	if (!json_is_object(np)) {
		c->msg = "the properties must be an object";
		return QIX_INVALID_PARAMS;
	}
	qix_tree_replace(c->s, c->h->id, c->session_obj, c->stored, np);
	c->out = json_object();
	return 0;
}

static int apply_patches(struct qix_call *c)
{
	json_t *patches = qix_param(c->params, 0, "qPatches");
	int rc;
	if (json_is_true(qix_param(c->params, 1, "qSoftPatch"))) {
		json_t *trial = json_deep_copy(c->eff);
		rc = qix_obj_apply_patches(trial, patches, &c->msg);
		json_decref(trial);
		if (rc == 0) {
			if (!c->h->soft)
				c->h->soft = json_array();
			json_array_extend(c->h->soft, patches);
		}
	} else {
		json_t *copy = json_deep_copy(c->stored);
		rc = qix_obj_apply_patches(copy, patches, &c->msg);
		if (rc == 0)
			qix_sess_object_store(c->s, c->h->id, c->session_obj, copy);
		else
			json_decref(copy);
	}
	if (rc)
		return rc;
	qix_sess_mark_changed(c->s, c->h->num);
	c->out = json_object();
	return 0;
}

static int clear_soft_patches(struct qix_call *c)
{
	json_decref(c->h->soft);
	c->h->soft = NULL;
	qix_sess_mark_changed(c->s, c->h->num);
	c->out = json_object();
	return 0;
}

/* Lock and Unlock of a list object's field (qPath), or of a hypercube's dimensions
 * (qColIndices; none: all). */
static int object_lock(struct qix_call *c)
{
	json_t *def = qix_obj_definition(c);
	const struct assoc *a = c->s->data ? c->s->data->a : NULL;
	if (!def || !a) {
		c->msg = "qPath names no definition of the object";
		return QIX_INVALID_PARAMETER;
	}
	bool lock = strcmp(c->method, "Lock") == 0;
	int f = qix_obj_def_field(a, def);
	if (f >= 0) {
		qix_sess_field_lock(c->s, f, lock);
	} else {
		json_t *dims = json_object_get(def, "qDimensions"),
		       *cols = qix_param(c->params, 1, "qColIndices");
		size_t i, k;
		json_t *d, *col;
		json_array_foreach (dims, i, d) {
			bool listed = json_array_size(cols) == 0;
			json_array_foreach (cols, k, col)
				listed |= json_integer_value(col) == (json_int_t)i;
			if (listed)
				qix_sess_field_lock(c->s, qix_obj_def_field(a, d), lock);
		}
	}
	qix_sess_selection_changed(c->s);
	c->out = json_object();
	return 0;
}

/* ---------------------------------------------------------------- the table */

/* Arity: the positional parameters of the method in Qlik's schema (enigma.js's
 * schemas/12.2027.0.json); a call with more is refused. */
const struct qix_method qix_object_methods[] = {
    {QIX_OBJECT, "GetLayout", get_layout, 0},
    {QIX_OBJECT, "GetProperties", get_properties, 0},
    {QIX_OBJECT, "GetEffectiveProperties", get_effective_properties, 0},
    {QIX_OBJECT, "GetInfo", get_info, 0},
    {QIX_OBJECT, "SetProperties", set_properties, 1},
    {QIX_OBJECT, "ApplyPatches", apply_patches, 2},
    {QIX_OBJECT, "ClearSoftPatches", clear_soft_patches, 0},
    {QIX_OBJECT, "GetHyperCubeData", get_data, 2},
    {QIX_OBJECT, "GetListObjectData", get_data, 2},
    {QIX_OBJECT, "GetHyperCubeReducedData", get_data, 4},
    {QIX_OBJECT, "GetHyperCubeStackData", get_data, 3},
    {QIX_OBJECT, "GetHyperCubePivotData", qix_pivot_data, 2},
    {QIX_OBJECT, "ExpandLeft", qix_pivot_expand, 4},
    {QIX_OBJECT, "ExpandTop", qix_pivot_expand, 4},
    {QIX_OBJECT, "CollapseLeft", qix_pivot_expand, 4},
    {QIX_OBJECT, "CollapseTop", qix_pivot_expand, 4},
    {QIX_OBJECT, "SelectPivotCells", qix_pivot_select, 4},
    {QIX_OBJECT, "SelectHyperCubeValues", qix_cube_select, 4},
    {QIX_OBJECT, "SelectHyperCubeCells", qix_cube_select, 5},
    {QIX_OBJECT, "RangeSelectHyperCubeValues", qix_cube_range_select, 5},
    {QIX_OBJECT, "MultiRangeSelectHyperCubeValues", qix_cube_range_select, 4},
    {QIX_OBJECT, "SelectHyperCubeContinuousRange", qix_cube_continuous_range, 3},
    {QIX_OBJECT, "GetHyperCubeBinnedData", qix_cube_binned, 7},
    {QIX_OBJECT, "SelectListObjectContinuousRange", qix_cube_continuous_range, 3},
    {QIX_OBJECT, "SelectListObjectValues", select_list, 4},
    {QIX_OBJECT, "SearchListObjectFor", search_list, 2},
    {QIX_OBJECT, "AcceptListObjectSearch", search_done, 3},
    {QIX_OBJECT, "AbortListObjectSearch", search_done, 1},
    {QIX_OBJECT, "SelectListObjectPossible", select_list, 2},
    {QIX_OBJECT, "SelectListObjectExcluded", select_list, 2},
    {QIX_OBJECT, "SelectListObjectAll", select_list, 2},
    {QIX_OBJECT, "SelectListObjectAlternative", select_list, 2},
    {QIX_OBJECT, "ClearSelections", clear_selections, 2},
    {QIX_OBJECT, "BeginSelections", begin_selections, 1},
    {QIX_OBJECT, "EndSelections", end_selections, 1},
    {QIX_OBJECT, "ResetMadeSelections", end_selections, 0},
    {QIX_OBJECT, "Lock", object_lock, 2},
    {QIX_OBJECT, "Unlock", object_lock, 2},
    {0, NULL, NULL, 0},
};
