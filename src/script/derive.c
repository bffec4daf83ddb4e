/* derive.c: DECLARE FIELD DEFINITION and DERIVE FIELDS, as the data manager's calendars
 * use them ([autoCalendar]: DECLARE ...; DERIVE FIELDS FROM FIELDS [OrderDate] USING
 * [autoCalendar]). A definition's fields are expressions of $1; deriving it from a field
 * makes a table of the field's distinct values with each definition field computed on
 * them, named field.definition.name (OrderDate.autoCalendar.Year), linked to the data by
 * the field itself: what Qlik keeps as derived fields, here as a calendar table. */
#include "script/script_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int script_declare(struct run *r, const struct stmt *s)
{
	for (int i = 0; i < r->n_decls; i++)
		if (strcasecmp(r->decls[i]->label, s->label) == 0) {
			r->decls[i] = s; /* declared again: the new one */
			return 0;
		}
	const struct stmt **grown = realloc(r->decls, sizeof(*grown) * (size_t)(r->n_decls + 1));
	if (!grown)
		return err_set(r->e, ERR_NOMEM, "out of memory");
	r->decls = grown;
	r->decls[r->n_decls++] = s;
	return 0;
}

/* The tag's entry for the field in the TAG statements so far, or -1. */
static int tag_at(const struct run *r, const char *field, const char *tag)
{
	for (int i = 0; i < r->n_tags; i++)
		if (strcmp(r->tags[i].field, field) == 0 && strcasecmp(r->tags[i].tag, tag) == 0)
			return i;
	return -1;
}

/* TAG (or UNTAG) of one field with one tag: on the fields there are now (a STORE after it
 * writes them), and on those of the same name when the script ends (reload.c). */
static int tag_field(struct run *r, const char *field, const char *tag, bool untag)
{
	if (data_tag_computed(tag) || strchr(tag, '\n'))
		return 0; /* the engine's own tags are computed, never given */
	for (int t = 0; t < r->m->n_tables; t++) {
		int f = data_tbl_field(r->m->tables[t], field, false);
		struct tbl_field *tf = f >= 0 ? &r->m->tables[t]->fields[f] : NULL;
		if (!tf)
			continue;
		if (untag)
			data_field_untag(tf, tag);
		else if (!data_field_tag(tf, tag))
			return err_set(r->e, ERR_NOMEM, "out of memory");
	}
	int at = tag_at(r, field, tag);
	if (untag && at >= 0) {
		free(r->tags[at].field);
		free(r->tags[at].tag);
		r->tags[at] = r->tags[--r->n_tags];
	} else if (!untag && at < 0) {
		struct field_tag *g = realloc(r->tags, sizeof(*g) * (size_t)(r->n_tags + 1));
		char *f = strdup(field), *t = strdup(tag);
		if (!g || !f || !t) {
			free(f);
			free(t);
			if (g)
				r->tags = g;
			return err_set(r->e, ERR_NOMEM, "out of memory");
		}
		r->tags = g;
		r->tags[r->n_tags++] = (struct field_tag){f, t};
	}
	return 0;
}

/* TAG FIELDS [fields] USING map: each row of the mapping table gives a field (its first
 * column) a tag (its second), for the fields listed, or all of them when none are. */
static int tag_using(struct run *r, const struct stmt *s)
{
	struct tbl *t = script_map_table(r, s->name);
	if (!t)
		return script_err(r, s, ERR_NOT_FOUND, "no mapping table named %s", s->name);
	int rc = 0;
	for (int64_t i = 0; rc == 0 && i < t->n_rows; i++) {
		struct val fv, tv;
		char b1[64], b2[64];
		data_tbl_get(t, 0, i, &fv);
		data_tbl_get(t, 1, i, &tv);
		if (fv.null || tv.null)
			continue;
		const char *field = data_val_text(&fv, b1, sizeof(b1));
		bool listed = s->n_names == 0;
		for (int k = 0; k < s->n_names && !listed; k++)
			listed = strcmp(s->names[k], field) == 0;
		if (listed)
			rc = tag_field(r, field, data_val_text(&tv, b2, sizeof(b2)), s->until);
	}
	return rc;
}

int script_tag(struct run *r, const struct stmt *s)
{
	if (s->name)
		return tag_using(r, s);
	int rc = 0;
	for (int i = 0; i < s->n_names && rc == 0; i++)
		for (int k = 0; k < s->n_from && rc == 0; k++)
			rc = tag_field(r, s->names[i], s->from[k], s->until);
	return rc;
}

/* Whether a field carries a tag: from TAG FIELD, or from its number format ($date,
 * $timestamp, $time). */
static bool field_has_tag(const struct run *r, const struct tbl_field *f, const char *tag)
{
	const char *t = f->number_type;
	return tag_at(r, f->name, tag) >= 0 ||
	       (strcasecmp(tag, "$date") == 0 && strcasecmp(t, "DATE") == 0) ||
	       (strcasecmp(tag, "$timestamp") == 0 && strcasecmp(t, "TIMESTAMP") == 0) ||
	       (strcasecmp(tag, "$time") == 0 && strcasecmp(t, "TIME") == 0);
}

/* The distinct values of `field` over every table, as one field named $1. */
static int values_of(struct run *r, const char *field, struct tbl **out)
{
	struct tbl *v = data_tbl_new("values");
	if (!v || data_tbl_field(v, "$1", true) != 0) {
		data_tbl_free(v);
		return err_set(r->e, ERR_NOMEM, "out of memory");
	}
	for (int t = 0; t < r->m->n_tables; t++) {
		struct tbl *src = r->m->tables[t];
		int f = data_tbl_field(src, field, false);
		for (int64_t k = 0; f >= 0 && k < src->fields[f].n_sym; k++) {
			struct val x;
			data_tbl_symbol(src, f, k, &x);
			if (data_tbl_lookup(v, 0, &x) < 0 && data_tbl_append(v, &x, 1) != 0) {
				data_tbl_free(v);
				return err_set(r->e, ERR_NOMEM, "out of memory");
			}
		}
	}
	*out = v;
	return 0;
}

/* The table of definition `d` derived from `field`. */
static int derive_one(struct run *r, const struct stmt *s, const struct stmt *d, const char *field)
{
	struct tbl *vals = NULL;
	int rc = values_of(r, field, &vals);
	if (rc)
		return rc;
	struct arena *a = arena_new();
	int n = d->load.n_items + 1;
	struct load_item *it = arena_alloc(a, sizeof(*it) * (size_t)n);
	struct expr *key = arena_alloc(a, sizeof(*key));
	*key = (struct expr){.kind = EX_FIELD, .text = "$1", .line = s->line, .col = s->col};
	it[0] = (struct load_item){.expr = key, .as = field, .text = "$1"};
	for (int i = 1; i < n; i++) {
		it[i] = d->load.items[i - 1];
		it[i].as = arena_printf(a, "%s.%s.%s", field, d->label, it[i].as);
	}
	struct stmt one = *s;
	one.kind = ST_LOAD;
	one.label = arena_printf(a, "%s.%s", field, d->label);
	one.load = (struct load){
	    .noconcatenate = true, .items = it, .n_items = n, .source = SRC_PRECEDING};
	rc = script_load(r, &one, vals, NULL);
	arena_free(a);
	data_tbl_free(vals);
	return rc;
}

/* Whether field `name` matches the DERIVE's tags (or, IMPLICIT, the definition's) in
 * some table. */
static bool tagged_for(const struct run *r, const struct stmt *s, const struct stmt *d,
		       const char *name)
{
	const char *const *tags = s->until ? d->names : s->from;
	int n = s->until ? d->n_names : s->n_from;
	for (int t = 0; t < r->m->n_tables; t++) {
		const struct tbl *src = r->m->tables[t];
		for (int f = 0; f < src->n_fields; f++)
			for (int k = 0; k < n && strcmp(src->fields[f].name, name) == 0; k++)
				if (field_has_tag(r, &src->fields[f], tags[k]))
					return true;
	}
	return false;
}

int script_derive(struct run *r, const struct stmt *s)
{
	const struct stmt *d = NULL;
	for (int i = 0; i < r->n_decls; i++)
		if (strcasecmp(r->decls[i]->label, s->name) == 0)
			d = r->decls[i];
	if (!d)
		return script_err(r, s, ERR_INVALID, "DERIVE uses %s, which no DECLARE defined",
				  s->name);
	int rc = 0;
	for (int i = 0; rc == 0 && i < s->n_names; i++)
		rc = derive_one(r, s, d, s->names[i]);
	if (s->n_names)
		return rc;
	/* by tags: each field name once, in the order the tables hold them */
	int n_tables = r->m->n_tables;
	for (int t = 0; rc == 0 && t < n_tables; t++)
		for (int f = 0; rc == 0 && f < r->m->tables[t]->n_fields; f++) {
			const char *name = r->m->tables[t]->fields[f].name;
			bool earlier = false;
			for (int u = 0; u < t && !earlier; u++)
				earlier = data_tbl_field(r->m->tables[u], name, false) >= 0;
			if (!earlier && tagged_for(r, s, d, name))
				rc = derive_one(r, s, d, name);
		}
	return rc;
}
