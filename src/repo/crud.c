/* crud.c: one implementation of list, full, count, get, create, create-many, update and
 * delete for every entity type, driven by the descriptors in entities.c.
 *
 * Reads select the entity's columns plus, for each reference, the referenced entity's
 * condensed fields as scalar subqueries, so a list is one query however many references
 * it shows; tags and custom properties of the listed rows come in one more query each.
 * Writes run inside the caller's write transaction and append to the change log. */
#include "repo/repo_int.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- select lists */

/* The condensed fields of a reference target that a reference shows (besides id). */
/* A stored integer's text (a default, or a number column read as text); 0 when it is not
 * one. */
static int64_t text_int(const char *s)
{
	int64_t v = 0;
	return s && str_to_i64(s, INT64_MIN, INT64_MAX, &v) == 0 ? v : 0;
}

static bool shown_in_ref(const struct field_desc *tf)
{
	return (tf->flags & F_CONDENSED) && !(tf->flags & (F_COMMON | F_HIDDEN | F_WRITEONLY)) &&
	       tf->type != FT_REF;
}

int repo_crud_prepare(struct repo *r, struct err *e)
{
	r->select_sql = calloc((size_t)repo_n_entities, sizeof(char *));
	if (!r->select_sql)
		return err_set(e, ERR_NOMEM, "out of memory");
	for (int i = 0; i < repo_n_entities; i++) {
		const struct entity_desc *d = repo_entities[i];
		struct buf b;
		buf_init(&b, 1 << 16);
		int rc = 0;
		for (int k = 0; k < d->n_fields && rc == 0; k++) {
			const struct field_desc *f = &d->fields[k];
			rc = buf_printf(&b, "%st0.%s", k ? ", " : "", f->col);
			if (f->type != FT_REF)
				continue;
			const struct entity_desc *t = repo_entity_find(f->ref);
			for (int j = 0; t && j < t->n_fields && rc == 0; j++)
				if (shown_in_ref(&t->fields[j]))
					rc = buf_printf(
					    &b, ", (SELECT r.%s FROM %s r WHERE r.id = t0.%s)",
					    t->fields[j].col, t->table, f->col);
		}
		if (rc) {
			buf_release(&b);
			return err_set(e, ERR_NOMEM, "out of memory");
		}
		r->select_sql[i] = buf_steal(&b);
	}
	return 0;
}

void repo_crud_release(struct repo *r)
{
	if (!r->select_sql)
		return;
	for (int i = 0; i < repo_n_entities; i++)
		free(r->select_sql[i]);
	free(r->select_sql);
}

static const char *select_list(struct repo *r, const struct entity_desc *d)
{
	for (int i = 0; i < repo_n_entities; i++)
		if (repo_entities[i] == d)
			return r->select_sql[i];
	return "t0.id";
}

/* ---------------------------------------------------------------- rows to JSON */

static json_t *value_json(const struct field_desc *f, const struct db_value *v)
{
	if (v->type == DBV_NULL) {
		if (f->type == FT_STRLIST)
			return json_array();
		return json_null();
	}
	switch (f->type) {
	case FT_INT:
	case FT_ENUM: return json_integer(v->type == DBV_INT ? v->i : text_int(v->s));
	case FT_BOOL: return json_boolean(v->type == DBV_INT ? v->i != 0 : false);
	case FT_STRLIST: {
		json_t *arr = json_array();
		const char *s = v->s, *end = v->s + v->len;
		while (s < end) {
			if (*s == '\x1f') {
				s++;
				continue;
			}
			const char *sep = memchr(s, '\x1f', (size_t)(end - s));
			size_t n = sep ? (size_t)(sep - s) : (size_t)(end - s);
			json_array_append_new(arr, json_stringn(s, n));
			s += n;
		}
		return arr;
	}
	case FT_OBJECT: {
		json_t *o = json_loadb(v->s, v->len, 0, NULL);
		return o ? o : json_null();
	}
	default: return v->type == DBV_TEXT ? json_stringn(v->s, v->len) : json_null();
	}
}

struct list_ctx {
	const struct entity_desc *d;
	enum view view;
	json_t *arr;
	json_t *by_id; /* id -> object, for tags and custom properties */
};

static int row_to_json(void *ctx, int n_cols, const struct db_value *cols)
{
	struct list_ctx *lc = ctx;
	const struct entity_desc *d = lc->d;
	json_t *o = json_object();
	int k = 0;
	for (int i = 0; i < d->n_fields && k < n_cols; i++) {
		const struct field_desc *f = &d->fields[i];
		const struct db_value *v = &cols[k++];
		bool show = lc->view == VIEW_FULL ? !(f->flags & (F_HIDDEN | F_WRITEONLY))
						  : (f->flags & F_CONDENSED) != 0;
		if (f->type == FT_REF) {
			const struct entity_desc *t = repo_entity_find(f->ref);
			json_t *ref = NULL;
			if (v->type == DBV_TEXT) {
				ref = json_object();
				json_object_set_new(ref, "id", json_stringn(v->s, v->len));
			}
			for (int j = 0; t && j < t->n_fields; j++) {
				if (!shown_in_ref(&t->fields[j]))
					continue;
				if (ref && k < n_cols)
					json_object_set_new(ref, t->fields[j].json,
							    value_json(&t->fields[j], &cols[k]));
				k++;
			}
			if (ref)
				json_object_set_new(ref, "privileges", json_null());
			if (show)
				json_object_set_new(o, f->json, ref ? ref : json_null());
			else
				json_decref(ref);
			continue;
		}
		if (show)
			json_object_set_new(o, f->json, value_json(f, v));
	}
	if (lc->view == VIEW_FULL) {
		if (d->flags & E_CUSTOM_PROPS)
			json_object_set_new(o, "customProperties", json_array());
		if (d->flags & E_TAGS)
			json_object_set_new(o, "tags", json_array());
		json_object_set_new(o, "privileges", json_null());
		json_object_set_new(o, "schemaPath", json_string(d->schema));
	} else {
		json_object_set_new(o, "privileges", json_null());
	}
	json_t *id = json_object_get(o, "id");
	if (json_is_string(id))
		json_object_set(lc->by_id, json_string_value(id), o);
	json_array_append_new(lc->arr, o);
	return 0;
}

static int tag_row(void *ctx, int n, const struct db_value *c)
{
	struct list_ctx *lc = ctx;
	if (n < 3 || c[0].type != DBV_TEXT)
		return 0;
	json_t *o = json_object_get(lc->by_id, c[0].s);
	if (!o)
		return 0;
	json_t *t = json_object();
	json_object_set_new(t, "id", json_stringn(c[1].s, c[1].len));
	json_object_set_new(t, "name", json_stringn(c[2].s, c[2].len));
	json_object_set_new(t, "privileges", json_null());
	json_array_append_new(json_object_get(o, "tags"), t);
	return 0;
}

static int cp_row(void *ctx, int n, const struct db_value *c)
{
	struct list_ctx *lc = ctx;
	if (n < 10 || c[0].type != DBV_TEXT)
		return 0;
	json_t *o = json_object_get(lc->by_id, c[0].s);
	if (!o)
		return 0;
	static const struct field_desc list = {"choiceValues", "", FT_STRLIST, 0,
					       NULL,	       0,  NULL,       NULL};
	json_t *def = json_object();
	json_object_set_new(def, "id", json_stringn(c[6].s, c[6].len));
	json_object_set_new(def, "name", json_stringn(c[7].s, c[7].len));
	json_object_set_new(def, "valueType", json_stringn(c[8].s, c[8].len));
	json_object_set_new(def, "choiceValues", value_json(&list, &c[9]));
	json_object_set_new(def, "privileges", json_null());
	json_t *v = json_object();
	json_object_set_new(v, "id", json_stringn(c[1].s, c[1].len));
	json_object_set_new(v, "createdDate", json_stringn(c[3].s, c[3].len));
	json_object_set_new(v, "modifiedDate", json_stringn(c[4].s, c[4].len));
	json_object_set_new(v, "modifiedByUserName", json_stringn(c[5].s, c[5].len));
	json_object_set_new(v, "value", json_stringn(c[2].s, c[2].len));
	json_object_set_new(v, "definition", def);
	json_object_set_new(v, "schemaPath", json_string("CustomPropertyValue"));
	json_array_append_new(json_object_get(o, "customProperties"), v);
	return 0;
}

/* Appends " WHERE <filter>" (or "t0.id = $n") to b; nothing when neither is given. */
static int where(struct qrs *q, const struct entity_desc *d, const char *filter, const char *id,
		 struct sqlb *b, const char *lead)
{
	if (id) {
		int n = db_p_text(&b->p, id);
		return buf_printf(&b->sql, "%st0.id = $%d", lead, n) ? ERR_NOMEM : 0;
	}
	if (!filter || !*filter)
		return 0;
	if (buf_puts(&b->sql, lead))
		return ERR_NOMEM;
	return repo_filter_compile(d, filter, b, &q->err);
}

/* Appends the order of a list (the caller's, then the creation order) and, with a window
 * (take > 0), its LIMIT and OFFSET. */
static int order_and_window(struct qrs *q, const struct entity_desc *d, const char *orderby,
			    const struct repo_window *w, struct sqlb *b)
{
	int rc = buf_puts(&b->sql, " ORDER BY ") ? ERR_NOMEM : 0;
	if (rc == 0 && orderby && *orderby) {
		size_t before = b->sql.len;
		rc = repo_orderby_compile(d, orderby, b, &q->err);
		/* A blank orderby adds nothing, and then needs no separator. */
		if (rc == 0 && b->sql.len > before)
			rc = buf_puts(&b->sql, ", ") ? ERR_NOMEM : 0;
	}
	if (rc == 0)
		rc = buf_puts(&b->sql, "t0.created_date, t0.id") ? ERR_NOMEM : 0;
	if (rc == 0 && w && w->take > 0) {
		int lim = db_p_int(&b->p, w->take);
		int off = db_p_int(&b->p, w->skip);
		rc = buf_printf(&b->sql, " LIMIT $%d OFFSET $%d", lim, off) ? ERR_NOMEM : 0;
	}
	return rc;
}

static int query(struct qrs *q, struct db_conn *c, const struct entity_desc *d, const char *filter,
		 const char *id, const char *orderby, const struct repo_window *w, enum view v,
		 json_t **out)
{
	*out = NULL;
	struct sqlb b;
	repo_sqlb_init(&b, q->a);
	struct list_ctx lc = {.d = d, .view = v, .arr = json_array(), .by_id = json_object()};
	int rc = buf_printf(&b.sql, "SELECT %s FROM %s t0", select_list(q->repo, d), d->table)
		     ? ERR_NOMEM
		     : where(q, d, filter, id, &b, " WHERE ");
	if (rc == 0)
		rc = order_and_window(q, d, orderby, w, &b);
	if (rc == 0)
		rc = db_exec(c, b.sql.data, &b.p, row_to_json, &lc, NULL, &q->err);
	repo_sqlb_release(&b);

	bool extras = v == VIEW_FULL && json_array_size(lc.arr) > 0;
	for (int pass = 0; rc == 0 && extras && pass < 2; pass++) {
		bool tags = pass == 0;
		if (!(d->flags & (tags ? E_TAGS : E_CUSTOM_PROPS)))
			continue;
		repo_sqlb_init(&b, q->a);
		int pt = db_p_text(&b.p, d->schema);
		if (tags)
			rc = buf_printf(
			    &b.sql,
			    "SELECT j.object_id, t.id, t.name FROM entity_tag j JOIN tag t "
			    "ON t.id = j.tag_id WHERE j.object_type = $%d",
			    pt);
		else
			rc = buf_printf(
			    &b.sql,
			    "SELECT v.object_id, v.id, v.value, v.created_date, "
			    "v.modified_date, v.modified_by, d.id, d.name, d.value_type, "
			    "d.choice_values FROM custom_property_value v JOIN "
			    "custompropertydefinition d ON d.id = v.definition_id WHERE "
			    "v.object_type = $%d",
			    pt);
		rc = rc ? ERR_NOMEM : 0;
		if (rc == 0 && (id || (filter && *filter) || (w && w->take > 0))) {
			rc = buf_printf(&b.sql, " AND %s.object_id IN (SELECT t0.id FROM %s t0",
					tags ? "j" : "v", d->table)
				 ? ERR_NOMEM
				 : where(q, d, filter, id, &b, " WHERE ");
			if (rc == 0 && w && w->take > 0)
				rc = order_and_window(q, d, orderby, w, &b);
			if (rc == 0)
				rc = buf_puts(&b.sql, ")") ? ERR_NOMEM : 0;
		}
		if (rc == 0)
			rc = buf_puts(&b.sql, tags ? " ORDER BY lower(t.name), t.id"
						   : " ORDER BY lower(d.name), v.value, v.id")
				 ? ERR_NOMEM
				 : 0;
		if (rc == 0)
			rc = db_exec(c, b.sql.data, &b.p, tags ? tag_row : cp_row, &lc, NULL,
				     &q->err);
		repo_sqlb_release(&b);
	}
	json_decref(lc.by_id);
	if (rc) {
		json_decref(lc.arr);
		if (rc == ERR_NOMEM)
			err_set(&q->err, rc, "the query is too large");
		return rc;
	}
	*out = lc.arr;
	return 0;
}

int repo_crud_list(struct qrs *q, struct db_conn *c, const struct entity_desc *d,
		   const char *filter, const char *orderby, enum view v, json_t **out)
{
	return query(q, c, d, filter, NULL, orderby, NULL, v, out);
}

int repo_crud_page(struct qrs *q, struct db_conn *c, const struct entity_desc *d,
		   const char *filter, const char *orderby, const struct repo_window *w,
		   json_t **out, int64_t *total)
{
	struct sqlb b;
	repo_sqlb_init(&b, q->a);
	int rc = buf_printf(&b.sql, "SELECT count(*) FROM %s t0", d->table) ? ERR_NOMEM : 0;
	if (rc == 0)
		rc = where(q, d, filter, NULL, &b, " WHERE ");
	*total = 0;
	if (rc == 0)
		rc = db_exec(c, b.sql.data, &b.p, repo_int_row, total, NULL, &q->err);
	repo_sqlb_release(&b);
	return rc ? rc : query(q, c, d, filter, NULL, orderby, w, VIEW_FULL, out);
}

int repo_crud_get(struct qrs *q, struct db_conn *c, const struct entity_desc *d, const char *id,
		  json_t **out)
{
	json_t *arr;
	*out = NULL;
	int rc = query(q, c, d, NULL, id, NULL, NULL, VIEW_FULL, &arr);
	if (rc)
		return rc;
	if (json_array_size(arr) == 0) {
		json_decref(arr);
		return err_set(&q->err, ERR_NOT_FOUND, "%s \"%s\" does not exist", d->schema, id);
	}
	*out = json_incref(json_array_get(arr, 0));
	json_decref(arr);
	return 0;
}

/* ---------------------------------------------------------------- writes */

int repo_text_row(void *ctx, int n, const struct db_value *c)
{
	char *out = ctx;
	if (n > 0 && c[0].type == DBV_TEXT)
		str_copy(out, c[0].s, 128);
	else if (n > 0 && c[0].type == DBV_INT)
		snprintf(out, 128, "%lld", (long long)c[0].i);
	return 0;
}

/* Fails with a 400 naming the field when a referenced entity does not exist. */
static int check_exists(struct qrs *q, struct db_conn *c, const struct entity_desc *t,
			const char *id, const struct entity_desc *d, const char *field)
{
	struct db_params p;
	db_params_init(&p);
	db_p_text(&p, id);
	char sql[160], found[128] = "";
	snprintf(sql, sizeof(sql), "SELECT id FROM %s WHERE id = $1", t->table);
	int rc = db_exec(c, sql, &p, repo_text_row, found, NULL, &q->err);
	if (rc)
		return rc;
	if (!found[0])
		return err_set(&q->err, ERR_FIELD,
			       "field \"%s\" of %s refers to %s \"%s\", which "
			       "does not exist",
			       field, d->schema, t->schema, id);
	return 0;
}

static void bind_colval(struct db_params *p, const struct colval *v)
{
	if (v->is_null)
		db_p_null(p);
	else if (v->f->type == FT_INT || v->f->type == FT_BOOL || v->f->type == FT_ENUM)
		db_p_int(p, v->i);
	else
		db_p_text(p, v->s);
}

static void bind_default(struct db_params *p, const struct field_desc *f)
{
	if (!f->dflt || f->type == FT_STRLIST)
		db_p_null(p);
	else if (f->type == FT_BOOL)
		db_p_int(p, strcmp(f->dflt, "true") == 0);
	else if (f->type == FT_INT || f->type == FT_ENUM)
		db_p_int(p, text_int(f->dflt));
	else
		db_p_text(p, f->dflt);
}

static const struct colval *find_val(const struct colval *v, int n, const struct field_desc *f)
{
	for (int i = 0; i < n; i++)
		if (v[i].f == f)
			return &v[i];
	return NULL;
}

static int check_refs(struct qrs *q, struct db_conn *c, const struct entity_desc *d,
		      const struct colval *v, int n)
{
	for (int i = 0; i < n; i++) {
		if (v[i].f->type != FT_REF || v[i].is_null)
			continue;
		int rc = check_exists(q, c, repo_entity_find(v[i].f->ref), v[i].s, d, v[i].f->json);
		if (rc)
			return rc;
	}
	return 0;
}

int repo_crud_log_change(struct qrs *q, struct db_conn *c, const struct entity_desc *d,
			 const char *id, const char *op)
{
	int64_t seq = 0;
	int rc = db_change_log(c, d->schema, id, op, &seq, &q->err);
	if (rc == 0) {
		/* Announced to the other nodes once the transaction commits (repo_qrs_end). */
		struct qrs_change *ch = arena_alloc(q->a, sizeof(*ch));
		ch->seq = seq;
		ch->type = d->schema;
		ch->next = q->changes;
		q->changes = ch;
	}
	return rc;
}

static int write_tags(struct qrs *q, struct db_conn *c, const struct entity_desc *d, const char *id,
		      const struct decoded *in, bool replace)
{
	struct db_params p;
	int rc = 0;
	if (replace) {
		db_params_init(&p);
		db_p_text(&p, d->schema);
		db_p_text(&p, id);
		rc = db_exec(c, "DELETE FROM entity_tag WHERE object_type = $1 AND object_id = $2",
			     &p, NULL, NULL, NULL, &q->err);
	}
	for (int i = 0; rc == 0 && i < in->n_tags; i++) {
		rc = check_exists(q, c, repo_entity_find("tag"), in->tag_ids[i], d, "tags");
		if (rc)
			break;
		db_params_init(&p);
		db_p_text(&p, d->schema);
		db_p_text(&p, id);
		db_p_text(&p, in->tag_ids[i]);
		rc = db_exec(
		    c,
		    "INSERT INTO entity_tag (object_type, object_id, tag_id) VALUES ($1, $2, $3)",
		    &p, NULL, NULL, NULL, &q->err);
	}
	return rc;
}

struct cpdef {
	bool found;
	char name[256];
	char *choices;
	char *types;
};

static int cpdef_row(void *ctx, int n, const struct db_value *c)
{
	struct cpdef *cd = ctx;
	if (n < 3)
		return 0;
	cd->found = true;
	str_copy(cd->name, c[0].s ? c[0].s : "", sizeof(cd->name));
	cd->choices = c[1].type == DBV_TEXT ? strndup(c[1].s, c[1].len) : NULL;
	cd->types = c[2].type == DBV_TEXT ? strndup(c[2].s, c[2].len) : NULL;
	return 0;
}

/* True when the \x1f-joined list `list` holds `item` (case-insensitive when `ci`). */
static bool list_has(const char *list, const char *item, bool ci)
{
	size_t n = strlen(item);
	for (const char *s = list; s && *s;) {
		if (*s == '\x1f') {
			s++;
			continue;
		}
		const char *end = strchr(s, '\x1f');
		size_t len = end ? (size_t)(end - s) : strlen(s);
		if (len == n && (ci ? str_ieqn(s, item, n) : strncmp(s, item, n) == 0))
			return true;
		s += len;
	}
	return false;
}

static int write_cps(struct qrs *q, struct db_conn *c, const struct entity_desc *d, const char *id,
		     const struct decoded *in, bool replace)
{
	struct db_params p;
	int rc = 0;
	if (replace) {
		db_params_init(&p);
		db_p_text(&p, d->schema);
		db_p_text(&p, id);
		rc = db_exec(
		    c,
		    "DELETE FROM custom_property_value WHERE object_type = $1 AND object_id = $2",
		    &p, NULL, NULL, NULL, &q->err);
	}
	char now[ISO_TIME_LEN + 1];
	time_format_iso(time_now_ms(), now);
	for (int i = 0; rc == 0 && i < in->n_cps; i++) {
		const struct cpv_in *cv = &in->cps[i];
		struct cpdef cd = {0};
		db_params_init(&p);
		db_p_text(&p, cv->definition_id);
		rc = db_exec(c,
			     "SELECT name, choice_values, object_types FROM "
			     "custompropertydefinition WHERE id = $1",
			     &p, cpdef_row, &cd, NULL, &q->err);
		if (rc == 0 && !cd.found)
			rc = err_set(&q->err, ERR_FIELD,
				     "custom property definition \"%s\" does not exist",
				     cv->definition_id);
		if (rc == 0 && cd.types && !list_has(cd.types, d->schema, true))
			rc = err_set(
			    &q->err, ERR_FIELD,
			    "custom property \"%s\" does not apply to %s (its objectTypes do "
			    "not list it)",
			    cd.name, d->schema);
		if (rc == 0 && cd.choices && !list_has(cd.choices, cv->value, false))
			rc = err_set(
			    &q->err, ERR_FIELD,
			    "\"%s\" is not one of the choice values of custom property \"%s\"",
			    cv->value, cd.name);
		free(cd.choices);
		free(cd.types);
		if (rc)
			break;
		char vid[UUID_STR_LEN + 1];
		uuid_new(vid);
		db_params_init(&p);
		db_p_text(&p, vid);
		db_p_text(&p, now);
		db_p_text(&p, q->user);
		db_p_text(&p, d->schema);
		db_p_text(&p, id);
		db_p_text(&p, cv->definition_id);
		db_p_text(&p, cv->value);
		rc = db_exec(
		    c,
		    "INSERT INTO custom_property_value (id, created_date, modified_date, "
		    "modified_by, object_type, object_id, definition_id, value) VALUES ($1, "
		    "$2, $2, $3, $4, $5, $6, $7)",
		    &p, NULL, NULL, NULL, &q->err);
	}
	return rc;
}

int repo_crud_caller_user(struct qrs *q, struct db_conn *c, char out_id[UUID_STR_LEN + 1])
{
	struct db_params p;
	db_params_init(&p);
	db_p_text(&p, q->user_dir);
	db_p_text(&p, q->user_id);
	char found[128] = "";
	int rc = db_exec(c,
			 "SELECT id FROM users WHERE lower(user_directory) = lower($1) AND "
			 "lower(user_id) = lower($2)",
			 &p, repo_text_row, found, NULL, &q->err);
	if (rc)
		return rc;
	if (found[0]) {
		str_copy(out_id, found, UUID_STR_LEN + 1);
		return 0;
	}
	char now[ISO_TIME_LEN + 1];
	time_format_iso(time_now_ms(), now);
	uuid_new(out_id);
	db_params_init(&p);
	db_p_text(&p, out_id);
	db_p_text(&p, now);
	db_p_text(&p, q->user);
	db_p_text(&p, q->user_id);
	db_p_text(&p, q->user_dir);
	rc = db_exec(
	    c,
	    "INSERT INTO users (id, created_date, modified_date, modified_by, user_id, "
	    "user_directory, user_directory_connector_name, name, roles, inactive, "
	    "removed_externally, blacklisted, delete_prohibited) VALUES ($1, $2, $2, $3, $4, "
	    "$5, $5, $4, NULL, 0, 0, 0, 0)",
	    &p, NULL, NULL, NULL, &q->err);
	if (rc == 0)
		rc = repo_crud_log_change(q, c, repo_entity_find("user"), out_id, "add");
	return rc;
}

int repo_crud_insert(struct qrs *q, struct db_conn *c, const struct entity_desc *d,
		     const struct decoded *in, const struct colval *extra, int n_extra,
		     char out_id[UUID_STR_LEN + 1])
{
	int rc = check_refs(q, c, d, in->vals, in->n_vals);
	if (rc)
		return rc;
	char owner[UUID_STR_LEN + 1] = "";
	const struct field_desc *owner_f = repo_entity_field(d, "owner");
	if ((d->flags & E_OWNER) && owner_f && !find_val(in->vals, in->n_vals, owner_f) &&
	    !find_val(extra, n_extra, owner_f)) {
		rc = repo_crud_caller_user(q, c, owner);
		if (rc)
			return rc;
	}
	if (in->id)
		str_copy(out_id, in->id, UUID_STR_LEN + 1);
	else
		uuid_new(out_id);
	char now[ISO_TIME_LEN + 1];
	time_format_iso(time_now_ms(), now);

	struct buf cols, vals;
	buf_init(&cols, 1 << 16);
	buf_init(&vals, 1 << 16);
	struct db_params p;
	db_params_init(&p);
	db_p_text(&p, out_id);
	db_p_text(&p, now);
	db_p_text(&p, q->user);
	rc = buf_puts(&cols, "id, created_date, modified_date, modified_by") ||
	     buf_puts(&vals, "$1, $2, $2, $3");
	for (int i = 0; rc == 0 && i < d->n_fields; i++) {
		const struct field_desc *f = &d->fields[i];
		if (f->flags & F_COMMON)
			continue;
		const struct colval *v = find_val(in->vals, in->n_vals, f);
		if (!v)
			v = find_val(extra, n_extra, f);
		if (v)
			bind_colval(&p, v);
		else if (f == owner_f && owner[0])
			db_p_text(&p, owner);
		else
			bind_default(&p, f);
		rc = buf_printf(&cols, ", %s", f->col) || buf_printf(&vals, ", $%d", p.n);
	}
	if (rc == 0) {
		char *sql = NULL;
		if (asprintf(&sql, "INSERT INTO %s (%s) VALUES (%s)", d->table, cols.data,
			     vals.data) < 0)
			rc = err_set(&q->err, ERR_NOMEM, "out of memory");
		else {
			rc = db_exec(c, sql, &p, NULL, NULL, NULL, &q->err);
			free(sql);
		}
	} else {
		rc = err_set(&q->err, ERR_NOMEM, "out of memory");
	}
	buf_release(&cols);
	buf_release(&vals);
	if (rc == ERR_CONFLICT) {
		q->err.code = 0;
		q->err.message[0] = '\0';
		return err_set(&q->err, ERR_EXISTS, "a %s with this %s already exists", d->schema,
			       in->id ? "id or name" : "name");
	}
	if (rc == 0 && in->has_tags)
		rc = write_tags(q, c, d, out_id, in, false);
	if (rc == 0 && in->has_cps)
		rc = write_cps(q, c, d, out_id, in, false);
	if (rc == 0)
		rc = repo_crud_log_change(q, c, d, out_id, "add");
	return rc;
}

int repo_crud_update(struct qrs *q, struct db_conn *c, const struct entity_desc *d, const char *id,
		     const char *read_date, const struct decoded *in, const struct colval *extra,
		     int n_extra)
{
	int rc = check_refs(q, c, d, in->vals, in->n_vals);
	if (rc)
		return rc;
	/* The update applies when the stored modifiedDate is not newer than the one sent (QRS:
	 * clients such as qlik-repo-api send the time of their request). The new one is later
	 * than the one sent, even within one millisecond, so a client holding an older one
	 * never matches again; a date sent from more than a minute ahead moves nothing. */
	int64_t read_ms = 0, now_ms = time_now_ms();
	char sent[ISO_TIME_LEN + 1];
	if (time_parse_iso(read_date, &read_ms) != 0)
		return err_set(&q->err, ERR_FIELD,
			       "modifiedDate \"%s\" is not a date and time (ISO 8601)", read_date);
	time_format_iso(read_ms, sent);
	read_date = sent;
	if (now_ms <= read_ms && read_ms - now_ms < 60000)
		now_ms = read_ms + 1;
	char now[ISO_TIME_LEN + 1];
	time_format_iso(now_ms, now);
	struct buf sql;
	buf_init(&sql, 1 << 16);
	struct db_params p;
	db_params_init(&p);
	db_p_text(&p, now);
	db_p_text(&p, q->user);
	rc = buf_printf(&sql, "UPDATE %s SET modified_date = $1, modified_by = $2", d->table);
	for (int pass = 0; pass < 2 && rc == 0; pass++) {
		const struct colval *v = pass ? extra : in->vals;
		int n = pass ? n_extra : in->n_vals;
		for (int i = 0; i < n && rc == 0; i++) {
			bind_colval(&p, &v[i]);
			rc = buf_printf(&sql, ", %s = $%d", v[i].f->col, p.n);
		}
	}
	int pid = db_p_text(&p, id), pdate = db_p_text(&p, read_date);
	if (rc == 0)
		rc = buf_printf(&sql, " WHERE id = $%d AND modified_date <= $%d", pid, pdate);
	int64_t changed = 0;
	if (rc)
		rc = err_set(&q->err, ERR_NOMEM, "out of memory");
	else
		rc = db_exec(c, sql.data, &p, NULL, NULL, &changed, &q->err);
	buf_release(&sql);
	if (rc == ERR_CONFLICT) {
		q->err.code = 0;
		return err_set(&q->err, ERR_EXISTS, "another %s already has this name", d->schema);
	}
	if (rc)
		return rc;
	if (changed == 0) {
		char cur[128] = "";
		char s2[160];
		snprintf(s2, sizeof(s2), "SELECT modified_date FROM %s WHERE id = $1", d->table);
		db_params_init(&p);
		db_p_text(&p, id);
		rc = db_exec(c, s2, &p, repo_text_row, cur, NULL, &q->err);
		if (rc)
			return rc;
		if (!cur[0])
			return err_set(&q->err, ERR_NOT_FOUND, "%s \"%s\" does not exist",
				       d->schema, id);
		err_set(
		    &q->err, ERR_STALE,
		    "%s \"%s\" was changed after it was read (you read modifiedDate %s; it is now "
		    "%s)",
		    d->schema, id, read_date, cur);
		err_hint(&q->err, "read the entity again and reapply your change");
		return ERR_STALE;
	}
	if (in->has_tags)
		rc = write_tags(q, c, d, id, in, true);
	if (rc == 0 && in->has_cps)
		rc = write_cps(q, c, d, id, in, true);
	if (rc == 0)
		rc = repo_crud_log_change(q, c, d, id, "update");
	return rc;
}

int repo_crud_delete(struct qrs *q, struct db_conn *c, const struct entity_desc *d, const char *id)
{
	struct db_params p;
	db_params_init(&p);
	db_p_text(&p, d->schema);
	db_p_text(&p, id);
	int rc = db_exec(c, "DELETE FROM entity_tag WHERE object_type = $1 AND object_id = $2", &p,
			 NULL, NULL, NULL, &q->err);
	if (rc == 0)
		rc = db_exec(
		    c,
		    "DELETE FROM custom_property_value WHERE object_type = $1 AND object_id = $2",
		    &p, NULL, NULL, NULL, &q->err);
	if (rc)
		return rc;
	char sql[160];
	snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE id = $1", d->table);
	db_params_init(&p);
	db_p_text(&p, id);
	int64_t changed = 0;
	rc = db_exec(c, sql, &p, NULL, NULL, &changed, &q->err);
	if (rc == ERR_CONFLICT) {
		q->err.code = 0;
		return err_set(&q->err, ERR_CONFLICT,
			       "%s \"%s\" cannot be deleted: other entities refer to it", d->schema,
			       id);
	}
	if (rc)
		return rc;
	if (changed == 0)
		return err_set(&q->err, ERR_NOT_FOUND, "%s \"%s\" does not exist", d->schema, id);
	return repo_crud_log_change(q, c, d, id, "delete");
}

/* ---------------------------------------------------------------- generic handlers */

static int list_common(struct qrs *q, enum view v)
{
	struct db_conn *c;
	int rc = repo_qrs_begin(q, &c, false);
	if (rc)
		return rc;
	json_t *arr = NULL;
	const char *filter = http_req_query(q->req, "filter");
	const char *orderby = http_req_query(q->req, "orderby");
	/* a person sees what the rules let them read; the rules read the full form */
	rc = repo_crud_list(q, c, q->desc, filter, orderby, q->access ? VIEW_FULL : v, &arr);
	if (rc == 0 && q->access) {
		rc = repo_access_filter(q, c, q->desc, arr);
		if (rc == 0 && v == VIEW_CONDENSED)
			rc = repo_access_condense(q, c, q->desc, filter, orderby, &arr);
	}
	rc = repo_qrs_end(q, c, rc);
	if (rc == 0)
		repo_qrs_send_json(q, 200, arr);
	return rc;
}

int repo_api_list(struct qrs *q)
{
	return list_common(q, VIEW_CONDENSED);
}

int repo_api_full(struct qrs *q)
{
	return list_common(q, VIEW_FULL);
}

int repo_int_row(void *ctx, int n, const struct db_value *c)
{
	if (n > 0 && c[0].type == DBV_INT)
		*(int64_t *)ctx = c[0].i;
	return 0;
}

int repo_api_count(struct qrs *q)
{
	if (q->access) {
		struct db_conn *c;
		json_t *arr = NULL;
		int rc = repo_qrs_begin(q, &c, false);
		if (rc)
			return rc;
		rc = repo_crud_list(q, c, q->desc, http_req_query(q->req, "filter"), NULL,
				    VIEW_FULL, &arr);
		if (rc == 0)
			rc = repo_access_filter(q, c, q->desc, arr);
		rc = repo_qrs_end(q, c, rc);
		json_t *o =
		    rc ? NULL : json_pack("{s:I}", "value", (json_int_t)json_array_size(arr));
		json_decref(arr);
		return repo_qrs_reply(q, rc, 200, o);
	}
	struct sqlb b;
	repo_sqlb_init(&b, q->a);
	int rc = buf_printf(&b.sql, "SELECT count(*) FROM %s t0", q->desc->table) ? ERR_NOMEM : 0;
	if (rc == 0)
		rc = where(q, q->desc, http_req_query(q->req, "filter"), NULL, &b, " WHERE ");
	int64_t n = 0;
	struct db_conn *c = NULL;
	if (rc == 0 && (rc = repo_qrs_begin(q, &c, false)) == 0) {
		rc = db_exec(c, b.sql.data, &b.p, repo_int_row, &n, NULL, &q->err);
		rc = repo_qrs_end(q, c, rc);
	}
	repo_sqlb_release(&b);
	if (rc == 0) {
		json_t *o = json_object();
		json_object_set_new(o, "value", json_integer(n));
		repo_qrs_send_json(q, 200, o);
	}
	return rc;
}

int repo_api_get(struct qrs *q)
{
	struct db_conn *c;
	int rc = repo_qrs_begin(q, &c, false);
	if (rc)
		return rc;
	json_t *o = NULL;
	rc = repo_crud_get(q, c, q->desc, q->id, &o);
	rc = repo_qrs_end(q, c, rc);
	if (rc == 0)
		repo_qrs_send_json(q, 200, o);
	return rc;
}

/* The end of a handler that answers one JSON document: sends `out` with `status` when
 * rc is 0, frees it otherwise. Returns rc. */
int repo_qrs_reply(struct qrs *q, int rc, int status, json_t *out)
{
	if (rc == 0)
		repo_qrs_send_json(q, status, out);
	else
		json_decref(out);
	return rc;
}

static int refuse(struct qrs *q, const char *what)
{
	return err_set(&q->err, ERR_METHOD, "%s entities cannot be %s through this endpoint",
		       q->desc->schema, what);
}

int repo_api_create(struct qrs *q)
{
	if (q->desc->create)
		return q->desc->create(q);
	if (q->desc->flags & E_NO_CREATE)
		return refuse(q, "created");
	json_t *body;
	int rc = repo_qrs_body_json(q, &body);
	if (rc)
		return rc;
	struct decoded in;
	rc = repo_entity_decode(q->repo, q->desc, body, NULL, q->a, &in, &q->err);
	struct db_conn *c = NULL;
	json_t *out = NULL;
	char id[UUID_STR_LEN + 1];
	if (rc == 0 && (rc = repo_qrs_begin(q, &c, true)) == 0) {
		rc = repo_crud_insert(q, c, q->desc, &in, NULL, 0, id);
		if (rc == 0)
			rc = repo_crud_get(q, c, q->desc, id, &out);
		rc = repo_qrs_end(q, c, rc);
	}
	json_decref(body);
	return repo_qrs_reply(q, rc, 201, out);
}

int repo_api_create_many(struct qrs *q)
{
	if (q->desc->flags & E_NO_CREATE)
		return refuse(q, "created");
	json_t *body;
	int rc = repo_qrs_body_json(q, &body);
	if (rc)
		return rc;
	if (!json_is_array(body)) {
		json_decref(body);
		return err_set(&q->err, ERR_JSON, "the body must be a JSON array of %s objects",
			       q->desc->schema);
	}
	size_t n = json_array_size(body);
	struct decoded *in = arena_alloc(q->a, (n ? n : 1) * sizeof(*in));
	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = repo_entity_decode(q->repo, q->desc, json_array_get(body, i), NULL, q->a,
					&in[i], &q->err);
		if (rc) {
			char msg[sizeof(q->err.message) + 32];
			snprintf(msg, sizeof(msg), "item %zu: %s", i, q->err.message);
			str_copy(q->err.message, msg, sizeof(q->err.message));
		}
	}
	json_t *out = json_array();
	struct db_conn *c = NULL;
	if (rc == 0 && (rc = repo_qrs_begin(q, &c, true)) == 0) {
		for (size_t i = 0; i < n && rc == 0; i++) {
			char id[UUID_STR_LEN + 1];
			json_t *o = NULL;
			rc = repo_crud_insert(q, c, q->desc, &in[i], NULL, 0, id);
			if (rc == 0)
				rc = repo_crud_get(q, c, q->desc, id, &o);
			if (rc == 0)
				json_array_append_new(out, o);
		}
		rc = repo_qrs_end(q, c, rc);
	}
	json_decref(body);
	return repo_qrs_reply(q, rc, 201, out);
}

/* A published app moves to another stream when a PUT names it, as Qlik's console does it
 * (an app is published only through /publish; its stream is otherwise read-only). The
 * caller must be allowed to publish to the new stream. The body then carries the stored
 * stream, for the read-only check, and *move the new one. */
static int app_move(struct qrs *q, struct db_conn *c, json_t *body, json_t *stored,
		    struct colval *move, int *n)
{
	const char *to = json_string_value(json_object_get(json_object_get(body, "stream"), "id"));
	json_t *from = json_object_get(stored, "stream");
	const char *from_id = json_string_value(json_object_get(from, "id"));
	if (!to || !from_id || str_ieq(to, from_id))
		return 0;
	if (!uuid_valid(to))
		return err_set(&q->err, ERR_FIELD, "stream.id must be a GUID");
	json_t *stream = NULL;
	int rc = repo_crud_get(q, c, repo_entity_find("stream"), to, &stream);
	if (rc == ERR_NOT_FOUND) {
		q->err.code = 0;
		return err_set(&q->err, ERR_FIELD, "there is no stream %s to move the app to", to);
	}
	bool ok = true;
	if (rc == 0)
		rc = repo_access_may(q, c, "Stream", stream, ACT_PUBLISH, &ok);
	json_decref(stream);
	if (rc == 0 && !ok)
		rc = err_set(&q->err, ERR_FORBIDDEN, "you may not publish to stream %s", to);
	if (rc)
		return rc;
	char *id = arena_strdup(q->a, to);
	uuid_lower(id);
	json_object_set(body, "stream", from);
	repo_app_colv(move, "stream", id, 0);
	*n = 1;
	return 0;
}

/* True when `body` holds a read-only field that must be compared with the stored entity. */
static bool needs_stored(const struct entity_desc *d, json_t *body)
{
	const char *key;
	json_t *v;
	json_object_foreach (body, key, v) {
		const struct field_desc *f = repo_entity_field(d, key);
		if (f && (f->flags & F_RO) && !(f->flags & (F_COMMON | F_SERVER)))
			return true;
	}
	return false;
}

int repo_api_update(struct qrs *q)
{
	if (q->desc->flags & E_NO_UPDATE)
		return refuse(q, "changed");
	json_t *body;
	int rc = repo_qrs_body_json(q, &body);
	if (rc)
		return rc;
	struct db_conn *c = NULL;
	json_t *stored = NULL, *out = NULL;
	if ((rc = repo_qrs_begin(q, &c, true)) == 0) {
		/* The stored entity is read only when the body echoes read-only fields; otherwise
		 * the conditional UPDATE alone tells a missing entity (404) from a stale one (409).
		 */
		bool app = strcmp(q->desc->path, "app") == 0;
		if (json_is_object(body) && (app || needs_stored(q->desc, body)))
			rc = repo_crud_get(q, c, q->desc, q->id, &stored);
		else
			stored = json_pack("{s:s}", "id", q->id);
		struct colval move;
		int n_move = 0;
		if (rc == 0 && app)
			rc = app_move(q, c, body, stored, &move, &n_move);
		struct decoded in;
		if (rc == 0)
			rc = repo_entity_decode(q->repo, q->desc, body, stored, q->a, &in, &q->err);
		if (rc == 0 && !in.modified_date) {
			rc = err_set(
			    &q->err, ERR_FIELD,
			    "field \"modifiedDate\" is required: send the modifiedDate you read");
			err_hint(&q->err, "GET /qrs/%s/%s, change it, and PUT it back",
				 q->desc->path, q->id);
		}
		if (rc == 0)
			rc = repo_crud_update(q, c, q->desc, q->id, in.modified_date, &in, &move,
					      n_move);
		if (rc == 0)
			rc = repo_crud_get(q, c, q->desc, q->id, &out);
		rc = repo_qrs_end(q, c, rc);
	}
	json_decref(body);
	json_decref(stored);
	return repo_qrs_reply(q, rc, 200, out);
}

int repo_api_delete(struct qrs *q)
{
	if (q->desc->flags & E_NO_DELETE)
		return refuse(q, "deleted");
	if (q->desc->remove)
		return q->desc->remove(q);
	struct db_conn *c;
	int rc = repo_qrs_begin(q, &c, true);
	if (rc)
		return rc;
	rc = repo_crud_delete(q, c, q->desc, q->id);
	rc = repo_qrs_end(q, c, rc);
	if (rc == 0)
		http_respond(q->req, 204, NULL, "", 0);
	return rc;
}
