/* fn_json.c: MapSubString, and JSON texts as REST sources give them: JsonGet(json, path) (a value
 * found by an RFC 6901 pointer: a string as its text, a number as a number, anything else as JSON),
 * JsonSet(json, path, value) (the JSON with the value, itself JSON, put at the pointer) and
 * IsJson(json[, type]) (whether the text is JSON, of the type: value, object, array, string,
 * number, boolean or null). Anything that is not JSON, or a pointer to nothing, is NULL. */
#include "script/eval_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static json_t *load(const char *text)
{
	json_error_t je;
	return json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
}

/* The next step of a pointer ("/a~1b" gives "a/b") into buf; the rest after it. */
static const char *step(const char *p, char *buf, size_t n)
{
	size_t k = 0;
	for (p++; *p && *p != '/' && k + 1 < n; p++)
		buf[k++] = *p == '~' && p[1] == '1'   ? (p++, '/')
			   : *p == '~' && p[1] == '0' ? (p++, '~')
						      : *p;
	buf[k] = '\0';
	return p;
}

/* The value the pointer names, or NULL; *parent and *key (or *index) name where it is. */
static json_t *walk(json_t *root, const char *ptr, json_t **parent, char *key, size_t kn)
{
	json_t *cur = root;
	*parent = NULL;
	key[0] = '\0';
	while (cur && *ptr == '/') {
		ptr = step(ptr, key, kn);
		*parent = cur;
		if (json_is_object(cur)) {
			cur = json_object_get(cur, key);
		} else if (json_is_array(cur)) {
			int64_t i;
			cur = str_to_i64(key, 0, INT32_MAX, &i) == 0
				  ? json_array_get(cur, (size_t)i)
				  : NULL;
		} else {
			cur = NULL;
		}
	}
	return *ptr ? NULL : cur;
}

/* A JSON value as the script sees it: a string's text, a number, or JSON text. */
static struct val as_value(struct eval *ev, json_t *j)
{
	if (json_is_string(j))
		return script_text(
		    arena_strndup(ev->a, json_string_value(j), json_string_length(j)));
	if (json_is_number(j))
		return script_num(json_number_value(j));
	char *t = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	struct val v = t ? script_text(arena_strdup(ev->a, t)) : script_null();
	free(t);
	return v;
}

static int fn_json_get(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)x;
	*out = script_null();
	json_t *root = v[0].null || v[1].null ? NULL : load(script_tx(ev, &v[0])), *parent;
	char key[1024];
	json_t *j = root ? walk(root, script_tx(ev, &v[1]), &parent, key, sizeof(key)) : NULL;
	if (j)
		*out = as_value(ev, j);
	json_decref(root);
	return 0;
}

static int fn_json_set(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)x;
	*out = script_null();
	json_t *root = v[0].null || v[1].null ? NULL : load(script_tx(ev, &v[0]));
	json_t *val = root && !v[2].null ? load(script_tx(ev, &v[2])) : NULL, *parent;
	const char *ptr = root ? script_tx(ev, &v[1]) : "";
	char key[1024];
	bool ok = false;
	if (val && !*ptr) { /* the whole document */
		json_decref(root);
		root = json_incref(val);
		ok = true;
	} else if (val) {
		const char *last = strrchr(ptr, '/');
		char up[1024];
		snprintf(up, sizeof(up), "%.*s", (int)(last - ptr), ptr);
		json_t *p = walk(root, up, &parent, key, sizeof(key));
		step(last, key, sizeof(key));
		int64_t i;
		if (json_is_object(p))
			ok = json_object_set(p, key, val) == 0;
		else if (json_is_array(p) && str_to_i64(key, 0, INT32_MAX, &i) == 0)
			ok = (size_t)i < json_array_size(p) ? json_array_set(p, (size_t)i, val) == 0
			     : (size_t)i == json_array_size(p) ? json_array_append(p, val) == 0
							       : false;
	}
	if (ok)
		*out = as_value(ev, root);
	if (ok && json_is_string(root)) { /* a document that is one string stays JSON */
		char *t = json_dumps(root, JSON_ENCODE_ANY);
		*out = t ? script_text(arena_strdup(ev->a, t)) : script_null();
		free(t);
	}
	json_decref(val);
	json_decref(root);
	return 0;
}

static int fn_is_json(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	json_t *j = v[0].null ? NULL : load(script_tx(ev, &v[0]));
	const char *type = script_text_arg(ev, x, v, 1);
	bool ok = j != NULL;
	if (ok && type && strcasecmp(type, "value") != 0)
		ok = (strcasecmp(type, "object") == 0 && json_is_object(j)) ||
		     (strcasecmp(type, "array") == 0 && json_is_array(j)) ||
		     (strcasecmp(type, "string") == 0 && json_is_string(j)) ||
		     (strcasecmp(type, "number") == 0 && json_is_number(j)) ||
		     (strcasecmp(type, "boolean") == 0 && json_is_boolean(j)) ||
		     (strcasecmp(type, "null") == 0 && json_is_null(j));
	json_decref(j);
	*out = script_bool(ok);
	return 0;
}

/* MapSubString(map, text): each part of the text that is a key of the mapping table becomes
 * its value, from left to right, the longest key at each place first; what a replacement
 * put in is not looked at again. */
static int fn_map_substring(struct eval *ev, struct expr *x, const struct val *v, struct val *out)
{
	(void)x;
	struct tbl *m = !v[0].null && ev->mapping_table
			    ? ev->mapping_table(ev->ctx, script_tx(ev, &v[0]))
			    : NULL;
	*out = v[1];
	if (!m || v[1].null || m->n_fields < 2)
		return 0;
	const char *s = script_tx(ev, &v[1]);
	struct buf b;
	buf_init(&b, 64u << 20);
	int rc = 0;
	for (size_t i = 0; s[i] && rc == 0;) {
		size_t best = 0;
		int64_t at = -1;
		for (int64_t k = 0; k < m->n_rows; k++) {
			struct val key;
			char nb[64];
			data_tbl_get(m, 0, k, &key);
			const char *t = key.null ? "" : data_val_text(&key, nb, sizeof(nb));
			size_t n = strlen(t);
			if (n > best && strncmp(s + i, t, n) == 0)
				best = n, at = k;
		}
		if (at < 0) {
			rc = buf_append(&b, s + i, 1);
			i++;
			continue;
		}
		struct val rep;
		char nb[64];
		data_tbl_get(m, 1, at, &rep);
		rc = buf_puts(&b, rep.null ? "" : data_val_text(&rep, nb, sizeof(nb)));
		i += best;
	}
	if (rc == 0)
		*out = script_text(arena_strndup(ev->a, b.data ? b.data : "", b.len));
	buf_release(&b);
	return rc ? err_set(ev->e, ERR_TOO_LARGE, "MapSubString made a text over 64 MiB") : 0;
}

const struct script_func script_json_functions[] = {
    SCALAR("MapSubString", 2, 2, fn_map_substring, 0),
    SCALAR("JsonGet", 2, 2, fn_json_get, 0),
    SCALAR("JsonSet", 3, 3, fn_json_set, 0),
    SCALAR("IsJson", 1, 2, fn_is_json, 0),
};

const size_t script_n_json_functions =
    sizeof(script_json_functions) / sizeof(script_json_functions[0]);
