/* qix_access.c: section access. An app whose script loaded tables after SECTION ACCESS
 * opens for a person only when a line of those tables names them (USERID, or one of their
 * GROUPs, or '*'), and shows them only the data their lines allow:
 *
 *   - every other field of the access tables that the data model also has (by its upper-case
 *     name) reduces the data: the values the person's lines list are selected, and what is
 *     possible then is all the person's data (Qlik's rule; the rest is not in memory for
 *     them at all); '*' lists every value of that field in the access tables; an empty value
 *     on an ADMIN line leaves the field unreduced, on a USER line it lists nothing;
 *   - strict exclusion: a field whose listed values match none of the data's refuses the
 *     person (Qlik Sense always works so);
 *   - OMIT names fields the person does not see at all;
 *   - access tables without USERID or GROUP are reached over their links: their lines
 *     linked to the person's lines count as the person's.
 *
 * Names and values in the access tables are upper case (the script makes them so), and are
 * matched as they are against the data's field names and values (upper case there too, as
 * in Qlik). The reduced model of one set of reductions is made once and shared by every
 * session with the same set. */
#include "qix/qix_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A reduced model kept on its app's data, by the text of its reductions. */
struct qix_reduced {
	struct qix_reduced *next;
	char *key;
	struct qix_data *data;
};

static const char *const system_fields[] = {"ACCESS",	"USERID",    "GROUP",  "OMIT",
					    "PASSWORD", "SERIAL",    "NTNAME", "NTDOMAINSID",
					    "NTSID",	"USER.EMAIL"};

static bool is_system(const char *name)
{
	for (size_t i = 0; i < sizeof(system_fields) / sizeof(system_fields[0]); i++)
		if (strcmp(name, system_fields[i]) == 0)
			return true;
	return false;
}

static void upper(char *s)
{
	for (; *s; s++)
		*s = (char)toupper((unsigned char)*s);
}

/* Who the session is, as the access tables write it: "DIRECTORY\ID" and the groups. */
struct who {
	char user[300];
	char **groups;
	int n_groups;
};

static void who_read(const struct qix_session *s, struct who *w, struct arena *a)
{
	const char *dir = NULL, *id = NULL;
	size_t dl = 0, il = 0;
	const char *bs = strchr(s->user, '\\');
	if (bs && !strchr(s->user, '=')) {
		dir = s->user;
		dl = (size_t)(bs - s->user);
		id = bs + 1;
		il = strlen(id);
	}
	for (const char *p = s->user; !bs && *p;) {
		while (*p == ' ' || *p == ';')
			p++;
		size_t kl = strcspn(p, "=;");
		if (p[kl] != '=') {
			p += kl;
			continue;
		}
		const char *v = p + kl + 1;
		while (*v == ' ')
			v++;
		size_t vl = strcspn(v, ";");
		while (vl && v[vl - 1] == ' ')
			vl--;
		if (kl == 13 && strncasecmp(p, "UserDirectory", 13) == 0)
			dir = v, dl = vl;
		else if (kl == 6 && strncasecmp(p, "UserId", 6) == 0)
			id = v, il = vl;
		p = v + strcspn(v, ";");
	}
	w->user[0] = '\0';
	if (dir && id && dl && il)
		snprintf(w->user, sizeof(w->user), "%.*s\\%.*s", (int)dl, dir, (int)il, id);
	upper(w->user);
	json_t *list = s->attrs ? json_loads(s->attrs, 0, NULL) : NULL;
	size_t i;
	json_t *it;
	w->groups = arena_alloc(a, sizeof(char *) * (json_array_size(list) + 1));
	json_array_foreach (list, i, it) {
		const char *k;
		json_t *v;
		json_object_foreach (it, k, v) {
			if (strcasecmp(k, "group") != 0 || !json_is_string(v))
				continue;
			char *g = arena_strdup(a, json_string_value(v));
			upper(g);
			w->groups[w->n_groups++] = g;
		}
	}
	json_decref(list);
}

/* The access model's lines that are the person's, and what they allow. */
struct grant {
	const struct assoc *acc;
	uint8_t **mine;	 /* per access table, per row: 1 the person's (or linked to theirs) */
	bool *all;	 /* per access field: every value of the data (an empty ADMIN value) */
	uint8_t **allow; /* per access field, per symbol: listed for the person */
	bool any, admin;
};

static const char *sym_text(const struct assoc *a, int f, int32_t s, char *buf, size_t n)
{
	if (s < 0)
		return NULL;
	struct val v = model_sym(&a->fields[f], s);
	return data_val_text(&v, buf, n);
}

/* Marks the person's lines of the tables that name people. */
static void own_lines(struct grant *g, const struct who *w)
{
	const struct assoc *acc = g->acc;
	int fu = model_assoc_field(acc, "USERID"), fg = model_assoc_field(acc, "GROUP"),
	    fa = model_assoc_field(acc, "ACCESS");
	for (int t = 0; t < acc->n_tables; t++) {
		const struct assoc_table *at = &acc->tables[t];
		int cu = -1, cg = -1, ca = -1;
		for (int c = 0; c < at->n_fields; c++) {
			cu = at->field[c] == fu ? c : cu;
			cg = at->field[c] == fg ? c : cg;
			ca = at->field[c] == fa ? c : ca;
		}
		if (cu < 0 && cg < 0)
			continue;
		for (int64_t r = 0; r < at->n_rows; r++) {
			char b1[64], b2[64], b3[64];
			const char *u =
			    cu >= 0 ? sym_text(acc, fu, data_col_at(&at->col[cu], r), b1, 64)
				    : NULL;
			const char *gr =
			    cg >= 0 ? sym_text(acc, fg, data_col_at(&at->col[cg], r), b2, 64)
				    : NULL;
			const char *ac =
			    ca >= 0 ? sym_text(acc, fa, data_col_at(&at->col[ca], r), b3, 64)
				    : NULL;
			bool named =
			    u && w->user[0] && (strcmp(u, "*") == 0 || strcmp(u, w->user) == 0);
			for (int k = 0; gr && !named && k < w->n_groups; k++)
				named = strcmp(gr, "*") == 0 || strcmp(gr, w->groups[k]) == 0;
			bool admin = ac && strcmp(ac, "ADMIN") == 0;
			if (!named || (ca >= 0 && !admin && !(ac && strcmp(ac, "USER") == 0)))
				continue;
			g->mine[t][r] = 1;
			g->any = true;
			g->admin |= admin;
		}
	}
}

/* The lines of the other access tables linked to the person's: their link values are
 * selected in the access model, and those tables' possible rows count. */
static int linked_lines(struct grant *g, struct err *e)
{
	const struct assoc *acc = g->acc;
	bool *named_table = calloc((size_t)acc->n_tables + 1, sizeof(bool));
	struct assoc_sel sel = {0};
	int rc = named_table && model_assoc_sel_init(acc, &sel) == 0
		     ? 0
		     : err_set(e, ERR_NOMEM, "out of memory");
	bool others = false;
	int fu = model_assoc_field(acc, "USERID"), fg = model_assoc_field(acc, "GROUP");
	for (int t = 0; rc == 0 && t < acc->n_tables; t++) {
		bool names = false;
		for (int c = 0; c < acc->tables[t].n_fields; c++)
			names |= acc->tables[t].field[c] == fu || acc->tables[t].field[c] == fg;
		named_table[t] = names;
		others |= !names;
	}
	if (rc || !others) {
		free(named_table);
		model_assoc_sel_release(&sel);
		return rc;
	}
	/* the fields the people's tables share with the others, by the person's values */
	for (int f = 0; rc == 0 && f < acc->n_fields; f++) {
		bool in_named = false, in_other = false;
		for (int t = 0; t < acc->n_tables; t++)
			for (int c = 0; c < acc->tables[t].n_fields; c++)
				if (acc->tables[t].field[c] == f)
					*(named_table[t] ? &in_named : &in_other) = true;
		if (!in_named || !in_other)
			continue;
		int64_t *syms = calloc((size_t)acc->fields[f].n_sym + 1, sizeof(int64_t));
		int n = 0;
		bool *seen = calloc((size_t)acc->fields[f].n_sym + 1, sizeof(bool));
		for (int t = 0; syms && seen && t < acc->n_tables; t++)
			for (int c = 0; named_table[t] && c < acc->tables[t].n_fields; c++)
				for (int64_t r = 0;
				     acc->tables[t].field[c] == f && r < acc->tables[t].n_rows;
				     r++) {
					int32_t s = data_col_at(&acc->tables[t].col[c], r);
					if (g->mine[t][r] && s >= 0 && !seen[s]) {
						seen[s] = true;
						syms[n++] = s;
					}
				}
		/* nothing of the person's: a value no row holds selects nothing */
		int64_t none = acc->fields[f].n_sym;
		rc = !syms || !seen ? err_set(e, ERR_NOMEM, "out of memory")
		     : n	    ? model_assoc_select(acc, &sel, f, syms, n)
				    : model_assoc_select(acc, &sel, f, &none, 1);
		free(syms);
		free(seen);
	}
	struct assoc_states st = {0};
	if (rc == 0)
		rc = model_assoc_possible_rows(acc, &sel, &st, e);
	for (int t = 0; rc == 0 && t < acc->n_tables; t++)
		for (int64_t r = 0; !named_table[t] && r < acc->tables[t].n_rows; r++)
			g->mine[t][r] = st.possible[t][r];
	if (st.possible)
		model_assoc_states_release(acc, &st);
	model_assoc_sel_release(&sel);
	free(named_table);
	return rc;
}

/* What the person's lines list in each field ('*': every value the field lists). */
static void listed_values(struct grant *g)
{
	const struct assoc *acc = g->acc;
	int fa = model_assoc_field(acc, "ACCESS");
	for (int t = 0; t < acc->n_tables; t++) {
		const struct assoc_table *at = &acc->tables[t];
		int ca = -1;
		for (int c = 0; c < at->n_fields; c++)
			ca = at->field[c] == fa ? c : ca;
		for (int64_t r = 0; r < at->n_rows; r++) {
			if (!g->mine[t][r])
				continue;
			char b[64];
			const char *ac =
			    ca >= 0 ? sym_text(acc, fa, data_col_at(&at->col[ca], r), b, 64) : NULL;
			bool admin = ac && strcmp(ac, "ADMIN") == 0;
			for (int c = 0; c < at->n_fields; c++) {
				int f = at->field[c];
				int32_t s = data_col_at(&at->col[c], r);
				char vb[64];
				const char *v = sym_text(acc, f, s, vb, sizeof(vb));
				if (!v || !*v) {
					g->all[f] |= admin;
				} else if (strcmp(v, "*") == 0) {
					for (int64_t k = 0; k < acc->fields[f].n_sym; k++)
						g->allow[f][k] = 1;
					g->allow[f][s] = 0;
				} else {
					g->allow[f][s] = 1;
				}
			}
		}
	}
}

/* Selects in sel the data's symbols of field df that access field af allows; *n: how many. */
static int select_allowed(const struct assoc *acc, int af, const uint8_t *allow,
			  const struct assoc *a, int df, struct assoc_sel *sel, int64_t *n)
{
	const struct assoc_field *d = &a->fields[df], *x = &acc->fields[af];
	int64_t *syms = malloc(sizeof(int64_t) * (size_t)(d->n_sym + 1));
	*n = 0;
	if (!syms)
		return ERR_NOMEM;
	for (int64_t s = 0; s < d->n_sym; s++) {
		char db[64];
		struct val dv = model_sym(d, s);
		const char *dt = data_val_text(&dv, db, sizeof(db));
		for (int64_t k = 0; k < x->n_sym; k++) {
			char xb[64];
			const struct val xs = model_sym(x, k), *xv = &xs;
			if (allow[k] && (strcmp(dt, data_val_text(xv, xb, sizeof(xb))) == 0 ||
					 (dv.has_num && xv->has_num && dv.num == xv->num))) {
				syms[(*n)++] = s;
				break;
			}
		}
	}
	int rc = *n ? model_assoc_select(a, sel, df, syms, (int)*n) : 0;
	free(syms);
	return rc;
}

static void grant_free(struct grant *g)
{
	for (int t = 0; g->mine && t < g->acc->n_tables; t++)
		free(g->mine[t]);
	for (int f = 0; g->allow && f < g->acc->n_fields; f++)
		free(g->allow[f]);
	free(g->mine);
	free(g->allow);
	free(g->all);
}

static int grant_init(struct grant *g, const struct assoc *acc, struct err *e)
{
	memset(g, 0, sizeof(*g));
	g->acc = acc;
	g->mine = calloc((size_t)acc->n_tables + 1, sizeof(uint8_t *));
	g->allow = calloc((size_t)acc->n_fields + 1, sizeof(uint8_t *));
	g->all = calloc((size_t)acc->n_fields + 1, sizeof(bool));
	bool ok = g->mine && g->allow && g->all;
	for (int t = 0; ok && t < acc->n_tables; t++)
		ok = (g->mine[t] = calloc((size_t)acc->tables[t].n_rows + 1, 1)) != NULL;
	for (int f = 0; ok && f < acc->n_fields; f++)
		ok = (g->allow[f] = calloc((size_t)acc->fields[f].n_sym + 1, 1)) != NULL;
	return ok ? 0 : err_set(e, ERR_NOMEM, "out of memory");
}

/* The reductions of the person on data `a`: sel (the selections), drop (omitted fields),
 * the key that names them (in the arena), or *why when the person may not open the app. */
struct reduction {
	struct assoc_sel sel;
	bool *drop;
	struct buf key;
	bool reduces, admin;
	const char *why;
};

static int reduce_by(struct grant *g, const struct assoc *a, struct reduction *rd, struct arena *ar,
		     struct err *e)
{
	const struct assoc *acc = g->acc;
	int rc = 0;
	for (int f = 0; rc == 0 && f < acc->n_fields; f++) {
		const char *name = acc->fields[f].name;
		int df = model_assoc_field(a, name);
		if (strcmp(name, "OMIT") == 0) {
			for (int64_t k = 0; k < acc->fields[f].n_sym; k++) {
				char b[64];
				struct val ov = model_sym(&acc->fields[f], k);
				int of =
				    g->allow[f][k]
					? model_assoc_field(a, data_val_text(&ov, b, sizeof(b)))
					: -1;
				if (of >= 0 && !rd->drop[of]) {
					rd->drop[of] = true;
					rd->reduces = true;
					rc = buf_printf(&rd->key, "omit %s\n", a->fields[of].name);
				}
			}
			continue;
		}
		if (is_system(name) || df < 0 || g->all[f])
			continue;
		int64_t n = 0;
		if (select_allowed(acc, f, g->allow[f], a, df, &rd->sel, &n) != 0)
			return err_set(e, ERR_NOMEM, "out of memory");
		if (n == 0) {
			bool listed = memchr(g->allow[f], 1, (size_t)acc->fields[f].n_sym) != NULL;
			rd->why =
			    arena_printf(ar,
					 listed ? "none of the values their lines list in field "
						  "%s is in the data"
						: "their lines list no value of field %s",
					 name);
			return 0;
		}
		rd->reduces = true;
		rc = buf_printf(&rd->key, "field %s:", name);
		for (int64_t s = 0; rc == 0 && s < a->fields[df].n_sym; s++)
			if (rd->sel.selected[df][s])
				rc = buf_printf(&rd->key, " %lld", (long long)s);
		if (rc == 0)
			rc = buf_puts(&rd->key, "\n");
	}
	return rc ? err_set(e, ERR_NOMEM, "out of memory") : 0;
}

/* A new qix_data for a reduced model (or none: a = NULL). */
static struct qix_data *data_new(const struct qix_data *base, struct assoc *a)
{
	struct qix_data *d = calloc(1, sizeof(*d));
	if (!d) {
		model_assoc_free(a);
		return NULL;
	}
	pthread_mutex_init(&d->cache_mu, NULL);
	d->refs = 1;
	str_copy(d->gen, base->gen, sizeof(d->gen));
	d->a = a;
	for (int t = 0; a && t < a->n_tables; t++) {
		d->rows += a->tables[t].n_rows;
		d->bytes += a->tables[t].n_rows * a->tables[t].n_fields * (int64_t)sizeof(int32_t);
	}
	return d;
}

/* The reduced data kept on base under `key` (a new reference), or NULL. Under cache_mu. */
static struct qix_data *reduced_find(struct qix_data *base, const char *key)
{
	for (struct qix_reduced *r = base->reduced; r; r = r->next)
		if (strcmp(r->key, key) == 0) {
			__atomic_add_fetch(&r->data->refs, 1, __ATOMIC_ACQ_REL);
			return r->data;
		}
	return NULL;
}

/* The reduced data of `key` on base (a new reference): the one kept, or made now from the
 * selection and the omitted fields. NULL with e on failure. */
static struct qix_data *reduced_get(struct qix *q, struct qix_data *base, const char *key,
				    const struct assoc_sel *sel, const bool *drop, struct err *e)
{
	pthread_mutex_lock(&base->cache_mu);
	struct qix_data *kept = reduced_find(base, key);
	pthread_mutex_unlock(&base->cache_mu);
	if (kept)
		return kept;
	/* made outside the lock (two sessions may both make it: the first one kept wins) */
	struct assoc_states st = {0};
	struct assoc *na = NULL;
	int64_t t0 = time_mono_ms();
	int rc = model_assoc_possible_rows(base->a, sel, &st, e);
	if (rc == 0)
		rc = model_assoc_reduce(base->a, st.possible, drop, &na, e);
	if (st.possible)
		model_assoc_states_release(base->a, &st);
	struct qix_data *d = rc == 0 ? data_new(base, na) : NULL;
	struct qix_reduced *r = d ? calloc(1, sizeof(*r)) : NULL;
	if (r && !(r->key = strdup(key))) {
		free(r);
		r = NULL;
	}
	if (!r) {
		qix_data_release(q, d);
		if (rc == 0)
			err_set(e, ERR_NOMEM, "out of memory");
		return NULL;
	}
	log_info("engine: section access: a reduced model of %lld rows made in %lld ms",
		 (long long)d->rows, (long long)(time_mono_ms() - t0));
	r->data = d;
	__atomic_add_fetch(&d->refs, 1, __ATOMIC_ACQ_REL); /* the list's and the caller's */
	pthread_mutex_lock(&base->cache_mu);
	if ((kept = reduced_find(base, key)) == NULL) {
		r->next = base->reduced;
		base->reduced = r;
		__atomic_add_fetch(&base->reduced_bytes, d->bytes, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&base->cache_mu);
	if (kept) { /* another session's came first */
		free(r->key);
		free(r);
		qix_data_unref(d);
		qix_data_unref(d);
		return kept;
	}
	return d;
}

void qix_access_free(struct qix_data *base)
{
	while (base->reduced) {
		struct qix_reduced *r = base->reduced;
		base->reduced = r->next;
		qix_data_unref(r->data);
		free(r->key);
		free(r);
	}
	model_assoc_free(base->access);
}

int qix_access_data(struct qix_session *s, struct qix_data *base, struct qix_data **out,
		    bool *user_only, const char **why, struct err *e)
{
	*out = NULL;
	*why = NULL;
	*user_only = false;
	if (!base || !base->access) {
		if (base)
			__atomic_add_fetch(&base->refs, 1, __ATOMIC_ACQ_REL);
		*out = base;
		return 0;
	}
	struct arena *ar = arena_new();
	struct who w = {0};
	who_read(s, &w, ar);
	struct grant g;
	struct reduction rd = {0};
	buf_init(&rd.key, 1ULL << 30);
	int rc = grant_init(&g, base->access, e);
	if (rc == 0) {
		own_lines(&g, &w);
		rc = linked_lines(&g, e);
	}
	if (rc == 0 && !g.any)
		*why = "no line of the app's section access names them";
	if (rc == 0 && !*why) {
		listed_values(&g);
		if (!base->a) { /* no data to reduce */
			__atomic_add_fetch(&base->refs, 1, __ATOMIC_ACQ_REL);
			*out = base;
		} else if (!(rd.drop = calloc((size_t)base->a->n_fields + 1, sizeof(bool))) ||
			   model_assoc_sel_init(base->a, &rd.sel) != 0) {
			rc = err_set(e, ERR_NOMEM, "out of memory");
		} else {
			rc = reduce_by(&g, base->a, &rd, ar, e);
			*why = rd.why;
		}
	}
	if (rc == 0 && !*why && !*out) {
		if (!rd.reduces) {
			__atomic_add_fetch(&base->refs, 1, __ATOMIC_ACQ_REL);
			*out = base;
		} else {
			*out = reduced_get(s->q, base, rd.key.data, &rd.sel, rd.drop, e);
			rc = *out ? 0 : e->code ? e->code : ERR_NOMEM;
		}
	}
	*user_only = rc == 0 && !*why && !g.admin;
	if (*why)
		log_info("engine: section access refuses %s: %s",
			 s->user[0] ? s->user : "anonymous", *why);
	if (*why)
		*why = "Access denied";
	if (rd.sel.selected)
		model_assoc_sel_release(&rd.sel);
	free(rd.drop);
	buf_release(&rd.key);
	grant_free(&g);
	arena_free(ar);
	return rc;
}

int qix_access_build(struct data_set *m, struct qix_data *data, struct err *e)
{
	return m->n_tables ? model_assoc_build(m, &data->access, e) : 0;
}
