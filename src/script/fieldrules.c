/* fieldrules.c: statements that set how later loads treat fields and paths: ALIAS (a field
 * is loaded under another name), MAP ... USING and UNMAP (a field's values go through a
 * mapping table as they are loaded), NULLASVALUE and NULLASNULL (a field's NULLs are loaded
 * as the NullValue variable's text), DIRECTORY (the folder relative paths are in); and
 * the hooks the LOAD calls for them. */
#include "script/script_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Sets *slot to a copy of `v` (NULL clears it). */
static int set_text(struct run *r, char **slot, const char *v)
{
	char *c = v ? strdup(v) : NULL;
	if (v && !c)
		return err_set(r->e, ERR_NOMEM, "out of memory");
	free(*slot);
	*slot = c;
	return 0;
}

/* The rule of `field` in a list of (name, value) rules, or -1. */
static int rule_at(const struct field_rule *rules, int n, const char *field)
{
	for (int i = 0; i < n; i++)
		if (strcmp(rules[i].field, field) == 0)
			return i;
	return -1;
}

/* Sets (value non-NULL) or removes the rule of `field`. */
static int set_rule(struct run *r, struct field_rule **rules, int *n, const char *field,
		    const char *value)
{
	int at = rule_at(*rules, *n, field);
	if (!value) {
		if (at >= 0) {
			free((*rules)[at].field);
			free((*rules)[at].value);
			(*rules)[at] = (*rules)[--*n];
		}
		return 0;
	}
	if (at < 0) {
		struct field_rule *g = realloc(*rules, sizeof(*g) * (size_t)(*n + 1));
		if (!g)
			return err_set(r->e, ERR_NOMEM, "out of memory");
		*rules = g;
		at = (*n)++;
		g[at] = (struct field_rule){0};
		if (set_text(r, &g[at].field, field)) {
			--*n;
			return r->e->code;
		}
	}
	return set_text(r, &(*rules)[at].value, value);
}

int script_alias(struct run *r, const struct stmt *s)
{
	int rc = 0;
	for (int i = 0; rc == 0 && i + 1 < s->n_names; i += 2)
		rc = set_rule(r, &r->aliases, &r->n_aliases, s->names[i], s->names[i + 1]);
	return rc;
}

int script_map(struct run *r, const struct stmt *s)
{
	if (!s->until && !script_find_map(r, s->name))
		return script_err(r, s, ERR_INVALID, "there is no mapping table named %s", s->name);
	int rc = 0;
	for (int i = 0; rc == 0 && i < s->n_names; i++) {
		if (s->until && strcmp(s->names[i], "*") == 0) {
			while (r->n_maps_on)
				rc = set_rule(r, &r->maps_on, &r->n_maps_on, r->maps_on[0].field,
					      NULL);
			continue;
		}
		rc =
		    set_rule(r, &r->maps_on, &r->n_maps_on, s->names[i], s->until ? NULL : s->name);
	}
	return rc;
}

/* NULLASVALUE and NULLASNULL patterns are kept in order, as QUALIFY's: the last that
 * matches a field says ("1" on, "0" off). */
int script_nullas(struct run *r, const struct stmt *s)
{
	for (int i = 0; i < s->n_names; i++) {
		struct field_rule *g = realloc(r->null_as, sizeof(*g) * (size_t)(r->n_null_as + 1));
		if (!g)
			return err_set(r->e, ERR_NOMEM, "out of memory");
		r->null_as = g;
		g[r->n_null_as] =
		    (struct field_rule){strdup(s->names[i]), strdup(s->until ? "0" : "1")};
		if (!g[r->n_null_as].field || !g[r->n_null_as].value) {
			free(g[r->n_null_as].field);
			free(g[r->n_null_as].value);
			return err_set(r->e, ERR_NOMEM, "out of memory");
		}
		r->n_null_as++;
	}
	return 0;
}

int script_directory(struct run *r, const struct stmt *s)
{
	return set_text(r, &r->directory, s->raw && *s->raw ? s->raw : NULL);
}

int script_connect(struct run *r, const struct stmt *s)
{
	const char *raw = s->raw ? s->raw : "", *to = strcasestr(raw, " TO ");
	if (strncasecmp(raw, "DISCONNECT", 10) == 0 || !to)
		return set_text(r, &r->connection, NULL);
	to += 4;
	to += strspn(to, " \t\r\n");
	/* 'name', "name" or [name] as written inside its quotes; else up to the credentials */
	char close = *to == '\'' ? '\'' : *to == '"' ? '"' : *to == '[' ? ']' : '\0';
	size_t n = close ? strcspn(to + 1, (char[]){close, '\0'}) : strcspn(to, "(;");
	if (close)
		to++;
	while (!close && n && strchr(" \t\r\n", to[n - 1]))
		n--;
	char *name = strndup(to, n);
	if (!name)
		return err_set(r->e, ERR_NOMEM, "out of memory");
	free(r->connection);
	r->connection = name;
	return 0;
}

const char *script_path(const struct run *r, const char *path, char *buf, size_t n)
{
	if (!r->directory || !path || strncasecmp(path, "lib://", 6) == 0)
		return path;
	size_t d = strlen(r->directory);
	bool slash = d && r->directory[d - 1] == '/';
	snprintf(buf, n, "%s%s%s", r->directory, slash ? "" : "/", path);
	return buf;
}

const char *script_alias_of(const struct run *r, const char *field)
{
	int at = rule_at(r->aliases, r->n_aliases, field);
	return at >= 0 ? r->aliases[at].value : field;
}

/* Whether the last NULLASVALUE or NULLASNULL pattern that matches the field is the first. */
static bool null_as_value(const struct run *r, const char *field)
{
	for (int i = r->n_null_as; i-- > 0;)
		if (script_eval_like(field, r->null_as[i].field))
			return r->null_as[i].value[0] == '1';
	return false;
}

bool script_field_has_rules(const struct run *r, const char *field)
{
	return rule_at(r->maps_on, r->n_maps_on, "*") >= 0 ||
	       rule_at(r->maps_on, r->n_maps_on, field) >= 0 || null_as_value(r, field);
}

int script_field_value(struct run *r, const char *field, struct val *v, struct arena *a)
{
	int at = rule_at(r->maps_on, r->n_maps_on, field);
	if (at < 0)
		at = rule_at(r->maps_on, r->n_maps_on, "*");
	if (at >= 0 && !v->null) {
		struct val out;
		bool found = false;
		int rc = script_apply_map(r, r->maps_on[at].value, v, &out, &found);
		if (rc && rc != ERR_NOT_FOUND)
			return rc;
		if (found) {
			*v = out;
			if (v->text)
				v->text = arena_strdup(a, v->text);
		}
	}
	if (v->null && null_as_value(r, field)) {
		const char *nv = script_var_get(r, "NullValue");
		*v = (struct val){.text = arena_strdup(a, nv ? nv : "")};
	}
	return 0;
}

void script_field_rules_free(struct run *r)
{
	struct field_rule *lists[] = {r->aliases, r->maps_on, r->null_as};
	int counts[] = {r->n_aliases, r->n_maps_on, r->n_null_as};
	for (int l = 0; l < 3; l++) {
		for (int i = 0; i < counts[l]; i++) {
			free(lists[l][i].field);
			free(lists[l][i].value);
		}
		free(lists[l]);
	}
	free(r->directory);
	free(r->connection);
}
