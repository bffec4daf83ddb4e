/* qix_variable.c: variables. A variable is an object of the app of type "variable" (saved
 * by DoSave like any object) with a qName and a qDefinition. Chart expressions use them by
 * dollar-sign expansion: $(name) is replaced by the definition's text (a definition that
 * starts with "=" by the value of its expression), and $(=expression) by the expression's
 * value, before the expression is parsed; and ClientPlatform() by the session's browser
 * (its User-Agent) as a text. */
#include "qix/qix_int.h"
#include "script/script.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define EXPAND_DEPTH 8 /* a variable that names itself stops here */

static bool is_variable(json_t *props)
{
	const char *t = qix_object_type(props);
	return t && strcmp(t, "variable") == 0;
}

/* The app's variable `name` (a new reference to its properties), or NULL. */
static json_t *by_name(struct qix_session *s, const char *name)
{
	json_t *objs = qix_sess_saved_objects(s);
	json_t *found = NULL;
	const char *k;
	json_t *p;
	json_object_foreach (objs, k, p) {
		const char *n = json_string_value(json_object_get(p, "qName"));
		if (!found && is_variable(p) && n && strcmp(n, name) == 0)
			found = json_incref(p);
	}
	json_decref(objs);
	return found;
}

/* ---------------------------------------------------------------- expansion */

/* Appends n bytes of t (all of it for (size_t)-1); past the buffer's limit (1 MiB) the rest
 * is left out, and the expression that results does not parse. */
static void put(struct buf *out, const char *t, size_t n)
{
	if (n == (size_t)-1)
		n = strlen(t);
	if (buf_append(out, t, n) != 0)
		return;
	if (buf_reserve(out, 1) == 0)
		out->data[out->len] = '\0';
}

static void expand_into(struct qix_session *s, const char *text, struct buf *out, int depth);

/* The value of expression `expr` as text (empty when it does not compute). */
static void value_into(struct qix_session *s, const char *expr, struct buf *out, int depth)
{
	struct buf x;
	buf_init(&x, 1 << 20);
	expand_into(s, expr, &x, depth + 1);
	struct arena *a = arena_new();
	struct val v;
	struct err e;
	err_init(&e);
	char nb[64];
	if (a && x.data && s->data && qix_obj_evaluate(s, x.data, &v, a, &e) == 0 && !v.null)
		put(out, data_val_text(&v, nb, sizeof(nb)), (size_t)-1);
	arena_free(a);
	buf_release(&x);
}

/* The ")" that closes the "(" just before p (parentheses nest), or NULL. */
static const char *closing(const char *p)
{
	for (int open = 1; *p; p++)
		if (*p == '(')
			open++;
		else if (*p == ')' && --open == 0)
			return p;
	return NULL;
}

static void expand_into(struct qix_session *s, const char *text, struct buf *out, int depth)
{
	const char *p = text;
	while (*p) {
		const char *at = depth < EXPAND_DEPTH ? strstr(p, "$(") : NULL;
		const char *end = at ? closing(at + 2) : NULL;
		if (!end) {
			put(out, p, (size_t)-1);
			return;
		}
		put(out, p, (size_t)(at - p));
		char *inner = strndup(at + 2, (size_t)(end - at - 2));
		if (inner && inner[0] == '=') {
			value_into(s, inner + 1, out, depth);
		} else if (inner) {
			json_t *v = by_name(s, inner);
			const char *d = json_string_value(json_object_get(v, "qDefinition"));
			if (d && d[0] == '=')
				value_into(s, d + 1, out, depth);
			else if (d)
				expand_into(s, d, out, depth + 1);
			json_decref(v);
		}
		free(inner);
		p = end + 1;
	}
}

bool qix_var_platform_used(const char *text)
{
	return strcasestr(text, "ClientPlatform") != NULL;
}

/* Where "ClientPlatform ( )" starts at p as a call (not inside a longer name): its end. */
static const char *platform_call(const char *text, const char *p)
{
	static const char name[] = "ClientPlatform";
	if (strncasecmp(p, name, sizeof(name) - 1) != 0 ||
	    (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '_' || p[-1] == '.')))
		return NULL;
	p += sizeof(name) - 1;
	p += strspn(p, " \t\r\n");
	if (*p != '(')
		return NULL;
	p++;
	p += strspn(p, " \t\r\n");
	return *p == ')' ? p + 1 : NULL;
}

/* text with every ClientPlatform() outside quotes and brackets replaced by the session's
 * browser as a quoted text, or Null() when it has none. */
static void platform_into(struct qix_session *s, const char *text, struct buf *out)
{
	char quote = 0;
	for (const char *p = text; *p;) {
		const char *end = quote ? NULL : platform_call(text, p);
		if (end) {
			put(out, s->platform[0] ? "'" : "Null()", (size_t)-1);
			for (const char *c = s->platform; *c; c++)
				put(out, *c == '\'' ? "''" : c, *c == '\'' ? 2 : 1);
			if (s->platform[0])
				put(out, "'", 1);
			p = end;
			continue;
		}
		if (quote && *p == quote)
			quote = 0;
		else if (!quote && (*p == '\'' || *p == '"'))
			quote = *p;
		else if (!quote && *p == '[')
			quote = ']';
		put(out, p++, 1);
	}
}

/* how deep expansions nest on this thread: an expression's value computed during an
 * expansion expands its own text again ($(=...) of a variable that names itself) */
static _Thread_local int nesting;

const char *qix_var_expand(void *session, const char *text, struct arena *a)
{
	bool dollar = strstr(text, "$(") != NULL, platform = qix_var_platform_used(text);
	if (nesting >= EXPAND_DEPTH || (!dollar && !platform))
		return text;
	struct buf out;
	buf_init(&out, 1 << 20);
	nesting++;
	expand_into(session, text, &out, 0);
	nesting--;
	if (platform && out.data) {
		struct buf with;
		buf_init(&with, 1 << 20);
		platform_into(session, out.data, &with);
		buf_release(&out);
		out = with;
	}
	const char *r = out.data ? arena_strdup(a, out.data) : arena_strdup(a, "");
	buf_release(&out);
	return r;
}

/* ---------------------------------------------------------------- layouts */

void qix_var_value(struct qix_session *s, json_t *props, json_t *layout)
{
	const char *d = json_string_value(json_object_get(props, "qDefinition"));
	struct buf out;
	buf_init(&out, 1 << 20);
	if (d && d[0] == '=')
		value_into(s, d + 1, &out, 0);
	else if (d)
		put(&out, d, (size_t)-1);
	const char *text = out.data ? out.data : "";
	json_object_set_new(layout, "qText", json_string(text));
	/* a number when the text reads as one, as the load script reads numbers */
	struct val v = {.text = text};
	double num;
	if (*text && script_val_number(&v, &num))
		json_object_set_new(layout, "qNum", json_real(num));
	json_object_set_new(layout, "qIsScriptCreated",
			    json_boolean(json_is_true(json_object_get(props, "qIsScriptCreated"))));
	buf_release(&out);
}

json_t *qix_var_list(struct qix_session *s, json_t *def)
{
	json_t *items = json_array();
	json_t *want = json_object_get(def, "qData");
	json_t *objs = qix_sess_saved_objects(s);
	const char *k;
	json_t *p;
	json_object_foreach (objs, k, p) {
		if (!is_variable(p))
			continue;
		const char *def_text = json_string_value(json_object_get(p, "qDefinition"));
		json_array_append_new(items,
				      json_pack("{s:s?,s:s,s:{s:s,s:s},s:b,s:o}", "qName",
						json_string_value(json_object_get(p, "qName")),
						"qDefinition", def_text ? def_text : "", "qInfo",
						"qId", k, "qType", "variable", "qIsScriptCreated",
						0, "qData", qix_list_data(p, want)));
	}
	json_decref(objs);
	return json_pack("{s:o}", "qItems", items);
}

/* ---------------------------------------------------------------- Doc methods */

static int answer_handle(struct qix_call *c, const char *id, bool with_info)
{
	return qix_answer_handle(c, id, false, "GenericVariable", "variable", with_info)
		   ? 0
		   : QIX_INTERNAL;
}

/* CreateVariableEx({qInfo, qName, qDefinition, qComment}) */
static int create_variable(struct qix_call *c)
{
	json_t *prop = qix_param(c->params, 0, "qProp");
	const char *name = json_string_value(json_object_get(prop, "qName"));
	if (!name || !*name || strstr(name, "$(") || strchr(name, ')')) {
		c->msg = "a variable needs a qName";
		return QIX_INVALID_PARAMS;
	}
	json_t *old = by_name(c->s, name);
	json_decref(old);
	if (old) {
		c->msg = "a variable of that name exists";
		return QIX_INVALID_PARAMETER;
	}
	json_t *info = json_object_get(prop, "qInfo");
	json_t *p = json_deep_copy(prop);
	if (!json_is_object(info))
		json_object_set_new(p, "qInfo", json_object());
	json_object_set_new(json_object_get(p, "qInfo"), "qType", json_string("variable"));
	json_t *props = qix_new_object_props(c->s, p, &c->msg);
	json_decref(p);
	if (!props)
		return QIX_INVALID_PARAMS;
	if (!json_is_string(json_object_get(props, "qDefinition")))
		json_object_set_new(props, "qDefinition", json_string(""));
	char *id =
	    strdup(json_string_value(json_object_get(json_object_get(props, "qInfo"), "qId")));
	qix_sess_object_store(c->s, id, false, props);
	int rc = id ? answer_handle(c, id, true) : QIX_INTERNAL;
	free(id);
	return rc;
}

static int get_variable(struct qix_call *c)
{
	bool by_id = strcmp(c->method, "GetVariableById") == 0;
	const char *key = qix_param_str(c->params, 0, by_id ? "qId" : "qName", "");
	bool so;
	json_t *p = by_id ? qix_sess_object_props(c->s, key, &so) : by_name(c->s, key);
	char *id =
	    p && is_variable(p)
		? strdup(json_string_value(json_object_get(json_object_get(p, "qInfo"), "qId")))
		: NULL;
	json_decref(p);
	if (!id) {
		c->msg = "Object not found";
		return QIX_NOT_FOUND;
	}
	int rc = answer_handle(c, id, false);
	free(id);
	return rc;
}

static int destroy_variable(struct qix_call *c)
{
	bool by_id = strcmp(c->method, "DestroyVariableById") == 0;
	const char *key = qix_param_str(c->params, 0, by_id ? "qId" : "qName", "");
	bool so;
	json_t *p = by_id ? qix_sess_object_props(c->s, key, &so) : by_name(c->s, key);
	const char *id =
	    p && is_variable(p)
		? json_string_value(json_object_get(json_object_get(p, "qInfo"), "qId"))
		: NULL;
	int rc = qix_answer_destroyed(c, id, false);
	json_decref(p);
	return rc;
}

/* ---------------------------------------------------------------- GenericVariable */

static int set_value(struct qix_call *c)
{
	if (!is_variable(c->stored)) {
		c->msg = "the object is not a variable";
		return QIX_INVALID_PARAMETER;
	}
	json_t *v = qix_param(c->params, 0, "qVal");
	json_t *np = json_deep_copy(c->stored);
	char nb[64];
	if (strcmp(c->method, "SetNumValue") == 0) {
		struct val x = {.has_num = true, .num = json_number_value(v)};
		json_object_set_new(np, "qDefinition",
				    json_string(data_val_text(&x, nb, sizeof(nb))));
	} else {
		json_object_set_new(np, "qDefinition",
				    json_string(json_is_string(v) ? json_string_value(v) : ""));
	}
	qix_tree_replace(c->s, c->h->id, c->session_obj, c->stored, np);
	json_decref(np);
	c->out = json_object();
	return 0;
}

static int get_raw_content(struct qix_call *c)
{
	json_t *d = json_object_get(c->stored, "qDefinition");
	c->out = json_pack("{s:s}", "qReturn", json_is_string(d) ? json_string_value(d) : "");
	return 0;
}

const struct qix_method qix_variable_methods[] = {
    {QIX_DOC, "CreateVariableEx", create_variable, 1},
    {QIX_DOC, "GetVariableByName", get_variable, 1},
    {QIX_DOC, "GetVariableById", get_variable, 1},
    {QIX_DOC, "DestroyVariableByName", destroy_variable, 1},
    {QIX_DOC, "DestroyVariableById", destroy_variable, 1},
    {QIX_OBJECT, "SetStringValue", set_value, 1},
    {QIX_OBJECT, "SetNumValue", set_value, 1},
    {QIX_OBJECT, "GetRawContent", get_raw_content, 0},
    {0, NULL, NULL, 0},
};
