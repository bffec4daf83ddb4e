/* entity_io.c: decoding entity JSON bodies against their descriptors.
 *
 * Clients send back whole GET payloads (Qlik-Cli, qlik-repo-api), so read-only fields are
 * accepted when they hold the value the entity already has, and refused when they try to
 * change it. Unknown fields are refused, naming the field. */
#include "repo/repo_int.h"

#include <stdlib.h>
#include <string.h>

json_t *repo_field_default_json(const struct field_desc *f)
{
	if (!f->dflt)
		return NULL;
	switch (f->type) {
	case FT_BOOL: return json_boolean(strcmp(f->dflt, "true") == 0);
	case FT_INT:
	case FT_ENUM: {
		int64_t v = 0;
		return json_integer(str_to_i64(f->dflt, INT64_MIN, INT64_MAX, &v) == 0 ? v : 0);
	}
	case FT_STRLIST: return json_array();
	default: return json_string(f->dflt);
	}
}

static int bad(struct err *e, const struct entity_desc *d, const char *field, const char *why)
{
	return err_set(e, ERR_FIELD, "field \"%s\" of %s %s", field, d->schema, why);
}

static const char *ref_id(json_t *v)
{
	if (json_is_object(v))
		v = json_object_get(v, "id");
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* True when a read-only field's value `v` equals `cur` (the stored or default value). */
static bool same_value(const struct field_desc *f, json_t *v, json_t *cur)
{
	if (json_is_null(v) && (!cur || json_is_null(cur)))
		return true;
	if (f->type == FT_REF) {
		const char *a = ref_id(v), *b = ref_id(cur);
		return a && b && str_ieq(a, b);
	}
	if (!cur)
		return false;
	if (f->type == FT_DATE && json_is_string(v) && json_is_string(cur)) {
		int64_t x, y;
		return time_parse_iso(json_string_value(v), &x) == 0 &&
		       time_parse_iso(json_string_value(cur), &y) == 0 && x == y;
	}
	if ((f->type == FT_GUID) && json_is_string(v) && json_is_string(cur))
		return str_ieq(json_string_value(v), json_string_value(cur));
	return json_equal(v, cur);
}

static int decode_string(const struct entity_desc *d, const struct field_desc *f, json_t *v,
			 struct arena *a, struct colval *cv, struct err *e)
{
	if (!json_is_string(v))
		return bad(e, d, f->json, "must be a string");
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	size_t max = f->max_len ? (size_t)f->max_len : 4096;
	if (len > max) {
		char why[64];
		snprintf(why, sizeof(why), "is longer than %zu bytes", max);
		return bad(e, d, f->json, why);
	}
	if (strlen(s) != len)
		return bad(e, d, f->json, "must not contain NUL characters");
	if (str_has_ctl(s, (f->flags & F_MULTILINE) != 0))
		return bad(e, d, f->json, "must not contain control characters");
	if ((f->flags & F_FILENAME) && (strchr(s, '/') || strchr(s, '\\')))
		return bad(e, d, f->json, "must not contain path separators ('/' or '\\')");
	if ((f->flags & F_REQUIRED) && len == 0)
		return bad(e, d, f->json, "must not be empty");
	cv->s = arena_strndup(a, s, len);
	return 0;
}

/* An enumeration: its number, or one of its names (any case). */
static int decode_enum(const struct entity_desc *d, const struct field_desc *f, json_t *v,
		       struct colval *cv, struct err *e)
{
	int n = 0;
	while (f->enum_names && f->enum_names[n])
		n++;
	int64_t iv = -1;
	if (json_is_integer(v))
		iv = json_integer_value(v);
	else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		if (str_to_i64(s, 0, n - 1, &iv) != 0)
			for (int i = 0; i < n; i++)
				if (str_ieq(f->enum_names[i], s))
					iv = i;
	}
	if (iv < 0 || iv >= n)
		return bad(e, d, f->json, "is not one of its allowed values");
	cv->i = iv;
	return 0;
}

/* A list of strings, stored \x1f-joined with \x1f at both ends. */
static int decode_strlist(const struct entity_desc *d, const struct field_desc *f, json_t *v,
			  struct arena *a, struct colval *cv, struct err *e)
{
	if (!json_is_array(v))
		return bad(e, d, f->json, "must be a list of strings");
	struct buf b;
	buf_init(&b, f->max_len ? (size_t)f->max_len : 4096);
	size_t i;
	json_t *it;
	int rc = 0;
	json_array_foreach (v, i, it) {
		if (!json_is_string(it) ||
		    strlen(json_string_value(it)) != json_string_length(it) ||
		    str_has_ctl(json_string_value(it), false)) {
			rc = bad(e, d, f->json,
				 "must be a list of strings without control characters");
			break;
		}
		if ((i == 0 && buf_puts(&b, "\x1f")) || buf_puts(&b, json_string_value(it)) ||
		    buf_puts(&b, "\x1f")) {
			rc = bad(e, d, f->json, "is too long");
			break;
		}
	}
	if (rc == 0) {
		if (b.len == 0)
			cv->is_null = true;
		else
			cv->s = arena_strndup(a, b.data, b.len);
	}
	buf_release(&b);
	return rc;
}

/* A JSON object (or list, F_ARRAY), stored as its compact text. */
static int decode_object(const struct entity_desc *d, const struct field_desc *f, json_t *v,
			 struct arena *a, struct colval *cv, struct err *e)
{
	if ((f->flags & F_ARRAY) ? !json_is_array(v) : !json_is_object(v))
		return bad(e, d, f->json,
			   (f->flags & F_ARRAY) ? "must be a list" : "must be an object");
	char *s = json_dumps(v, JSON_COMPACT);
	if (!s)
		return err_set(e, ERR_NOMEM, "out of memory");
	size_t max = f->max_len ? (size_t)f->max_len : 4096;
	int rc = strlen(s) > max ? bad(e, d, f->json, "is too large") : 0;
	if (rc == 0)
		cv->s = arena_strdup(a, s);
	free(s);
	return rc;
}

static int decode_value(const struct entity_desc *d, const struct field_desc *f, json_t *v,
			struct arena *a, struct colval *cv, struct err *e)
{
	cv->f = f;
	if (json_is_null(v)) {
		if (f->flags & F_REQUIRED)
			return bad(e, d, f->json, "cannot be null");
		cv->is_null = true;
		return 0;
	}
	switch (f->type) {
	case FT_STRING: return decode_string(d, f, v, a, cv, e);
	case FT_GUID:
		if (!json_is_string(v) || !uuid_valid(json_string_value(v)))
			return bad(e, d, f->json, "must be a GUID");
		cv->s = arena_strdup(a, json_string_value(v));
		uuid_lower((char *)cv->s);
		return 0;
	case FT_INT:
		if (!json_is_integer(v))
			return bad(e, d, f->json, "must be a whole number");
		cv->i = json_integer_value(v);
		return 0;
	case FT_BOOL:
		if (!json_is_boolean(v))
			return bad(e, d, f->json, "must be true or false");
		cv->i = json_is_true(v);
		return 0;
	case FT_ENUM: return decode_enum(d, f, v, cv, e);
	case FT_STRLIST: return decode_strlist(d, f, v, a, cv, e);
	case FT_OBJECT: return decode_object(d, f, v, a, cv, e);
	case FT_DATE: {
		int64_t ms;
		if (!json_is_string(v) || time_parse_iso(json_string_value(v), &ms) != 0)
			return bad(e, d, f->json,
				   "must be a date like \"2024-01-31T12:00:00.000Z\"");
		char *iso = arena_alloc(a, ISO_TIME_LEN + 1);
		time_format_iso(ms, iso);
		cv->s = iso;
		return 0;
	}
	case FT_REF: {
		const char *id = json_is_object(v) ? ref_id(v) : NULL;
		if (!id || !uuid_valid(id))
			return bad(e, d, f->json, "must be null or an object with a GUID \"id\"");
		cv->s = arena_strdup(a, id);
		uuid_lower((char *)cv->s);
		return 0;
	}
	}
	return bad(e, d, f->json, "has an unsupported type");
}

static int decode_tags(const struct entity_desc *d, json_t *v, struct arena *a, struct decoded *out,
		       struct err *e)
{
	out->has_tags = true;
	if (json_is_null(v))
		return 0;
	if (!json_is_array(v) || json_array_size(v) > 1000)
		return bad(e, d, "tags", "must be a list of {\"id\": GUID} (at most 1000)");
	out->tag_ids = arena_alloc(a, (json_array_size(v) + 1) * sizeof(char *));
	size_t i;
	json_t *it;
	json_array_foreach (v, i, it) {
		const char *id = ref_id(it);
		if (!json_is_object(it) || !id || !uuid_valid(id))
			return bad(e, d, "tags", "must be a list of {\"id\": GUID}");
		char *l = arena_strdup(a, id);
		uuid_lower(l);
		bool dup = false;
		for (int k = 0; k < out->n_tags; k++)
			dup |= strcmp(out->tag_ids[k], l) == 0;
		if (!dup)
			out->tag_ids[out->n_tags++] = l;
	}
	return 0;
}

static int decode_cps(const struct entity_desc *d, json_t *v, struct arena *a, struct decoded *out,
		      struct err *e)
{
	out->has_cps = true;
	if (json_is_null(v))
		return 0;
	if (!json_is_array(v) || json_array_size(v) > 1000)
		return bad(e, d, "customProperties", "must be a list (at most 1000)");
	out->cps = arena_alloc(a, (json_array_size(v) + 1) * sizeof(*out->cps));
	size_t i;
	json_t *it;
	json_array_foreach (v, i, it) {
		json_t *val = json_object_get(it, "value");
		const char *def = ref_id(json_object_get(it, "definition"));
		if (!json_is_object(it) || !json_is_string(val) || !def || !uuid_valid(def))
			return bad(
			    e, d, "customProperties",
			    "must be a list of {\"value\": text, \"definition\": {\"id\": GUID}}");
		const char *s = json_string_value(val);
		if (strlen(s) != json_string_length(val) || str_has_ctl(s, false) ||
		    strlen(s) > 1024)
			return bad(
			    e, d, "customProperties",
			    "values must be text of at most 1024 bytes without control characters");
		struct cpv_in *c = &out->cps[out->n_cps++];
		c->definition_id = arena_strdup(a, def);
		uuid_lower((char *)c->definition_id);
		c->value = arena_strdup(a, s);
	}
	return 0;
}

int repo_entity_decode(const struct repo *r, const struct entity_desc *d, json_t *body,
		       json_t *stored, struct arena *a, struct decoded *out, struct err *e)
{
	memset(out, 0, sizeof(*out));
	if (!json_is_object(body))
		return err_set(e, ERR_JSON, "the body must be a JSON object describing a %s",
			       d->schema);
	out->vals = arena_alloc(a, (size_t)d->n_fields * sizeof(*out->vals));
	const char *key;
	json_t *v;
	int rc = 0;
	json_object_foreach (body, key, v) {
		if (str_ieq(key, "privileges") || str_ieq(key, "schemaPath"))
			continue;
		if (str_ieq(key, "tags") && (d->flags & E_TAGS)) {
			if ((rc = decode_tags(d, v, a, out, e)))
				return rc;
			continue;
		}
		if (str_ieq(key, "customProperties") && (d->flags & E_CUSTOM_PROPS)) {
			if ((rc = decode_cps(d, v, a, out, e)))
				return rc;
			continue;
		}
		const struct field_desc *f = repo_entity_field(d, key);
		if (!f || (f->flags & F_HIDDEN))
			return err_set(e, ERR_FIELD, "unknown field \"%s\" for %s", key, d->schema);
		if (f->flags & F_COMMON) {
			if (strcmp(f->col, "id") == 0) {
				if (json_is_null(v))
					continue;
				if (!json_is_string(v) || !uuid_valid(json_string_value(v)))
					return bad(e, d, "id", "must be a GUID");
				char *id = arena_strdup(a, json_string_value(v));
				uuid_lower(id);
				json_t *sid = stored ? json_object_get(stored, "id") : NULL;
				if (sid && !str_ieq(json_string_value(sid), id))
					return bad(e, d, "id", "does not match the id in the path");
				out->id = id;
			} else if (strcmp(f->col, "modified_date") == 0 && stored) {
				int64_t ms;
				if (!json_is_string(v) ||
				    time_parse_iso(json_string_value(v), &ms) != 0)
					return bad(e, d, "modifiedDate",
						   "must be the date read from the server");
				char *iso = arena_alloc(a, ISO_TIME_LEN + 1);
				time_format_iso(ms, iso);
				out->modified_date = iso;
			}
			continue;
		}
		if (f->flags & F_SERVER)
			continue;
		if (f->flags & F_RO) {
			json_t *cur = stored ? json_incref(json_object_get(stored, f->json))
					     : repo_field_default_json(f);
			bool same = same_value(f, v, cur);
			json_decref(cur);
			if (!same)
				return bad(e, d, f->json, "is read-only");
			continue;
		}
		/* owner {} or null: the calling user on create, no change on update (what QRS
		 * clients such as qlik-repo-api send) */
		if (f->type == FT_REF && strcmp(f->json, "owner") == 0 &&
		    (json_is_null(v) || (json_is_object(v) && json_object_size(v) == 0)))
			continue;
		struct colval cv = {0};
		if ((rc = decode_value(d, f, v, a, &cv, e)))
			return rc;
		/* A later key that differs only in case replaces an earlier one. */
		int slot = out->n_vals;
		for (int k = 0; k < out->n_vals; k++)
			if (out->vals[k].f == f)
				slot = k;
		out->vals[slot] = cv;
		if (slot == out->n_vals)
			out->n_vals++;
	}
	if (!stored) {
		for (int i = 0; i < d->n_fields; i++) {
			const struct field_desc *f = &d->fields[i];
			if (!(f->flags & F_REQUIRED))
				continue;
			bool given = false;
			for (int k = 0; k < out->n_vals; k++)
				given |= out->vals[k].f == f;
			if (!given)
				return err_set(e, ERR_FIELD,
					       "field \"%s\" is required for a new %s", f->json,
					       d->schema);
		}
	}
	return d->check ? d->check(r, out, e) : 0;
}
