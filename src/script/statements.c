/* statements.c: STORE, DROP and RENAME in a running reload (reload_int.h). */
#include "data/data.h"
#include "script/script_int.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int csv_quote(struct buf *b, const char *s)
{
	bool q = !*s || strpbrk(s, ",\"\r\n ") != NULL;
	int rc = q ? buf_puts(b, "\"") : 0;
	for (; *s && rc == 0; s++)
		rc = *s == '"' ? buf_puts(b, "\"\"") : buf_append(b, s, 1);
	return rc || (q ? buf_puts(b, "\"") : 0);
}

int script_store(struct run *r, const struct stmt *s)
{
	struct tbl *t = data_set_table(r->m, s->store.table);
	if (!t)
		return script_err(r, s, ERR_INVALID, "there is no table named %s to store",
				  s->store.table);
	if (s->store.items)
		return script_err(r, s, ERR_INVALID, "STORE of chosen fields is not supported yet");
	char leaf[256], full[4200];
	int dirfd = -1;
	const char *path = script_path(r, s->store.path, full, sizeof(full));
	int rc = r->env->open
		     ? r->env->open(r->env->ctx, path, true, &dirfd, leaf, sizeof(leaf), r->e)
		     : err_set(r->e, ERR_FORBIDDEN, "no files can be written here");
	if (rc) {
		char msg[sizeof(r->e->message)];
		str_copy(msg, r->e->message, sizeof(msg));
		r->e->code = 0;
		return script_err(r, s, rc, "%s", msg);
	}
	struct buf b;
	buf_init(&b, MAX_FILE);
	if (s->store.format.qvd) {
		struct qvd_table v;
		rc = data_tbl_view(t, 0, &v, r->e);
		if (rc == 0)
			rc = data_qvd_write(&v, &b, r->e);
		data_tbl_view_free(&v);
	} else {
		char d = s->store.format.delimiter ? s->store.format.delimiter : ',';
		rc = buf_puts(&b, "\xEF\xBB\xBF");
		for (int f = 0; f < t->n_fields && rc == 0; f++)
			rc = (f && buf_append(&b, &d, 1)) || csv_quote(&b, t->fields[f].name);
		rc = rc || buf_puts(&b, "\r\n");
		for (int64_t row = 0; row < t->n_rows && rc == 0; row++) {
			for (int f = 0; f < t->n_fields && rc == 0; f++) {
				struct val v;
				char nb[64];
				data_tbl_get(t, f, row, &v);
				rc = (f && buf_append(&b, &d, 1)) ||
				     (!v.null && csv_quote(&b, data_val_text(&v, nb, sizeof(nb))));
			}
			rc = rc || buf_puts(&b, "\r\n");
		}
		if (rc)
			rc =
			    err_set(r->e, ERR_TOO_LARGE, "table %s is too large to store", t->name);
	}
	if (rc == 0)
		rc = file_write_atomic_at(dirfd, leaf, b.data ? b.data : "", b.len, 0644, r->e);
	close(dirfd);
	buf_release(&b);
	if (rc == 0)
		script_log(r, "stored %s (%lld rows) into %s", t->name, (long long)t->n_rows,
			   s->store.path);
	return rc;
}

int script_drop(struct run *r, const struct stmt *s)
{
	if (s->kind == ST_DROP_TABLES) {
		for (int i = 0; i < s->n_names; i++) {
			struct tbl *t = data_set_table(r->m, s->names[i]);
			struct mapping *mp = script_find_map(r, s->names[i]);
			if (mp) {
				data_tbl_free(mp->t);
				free(mp->name);
				free(mp->first_row);
				*mp = r->maps[--r->n_maps];
				continue;
			}
			if (!t)
				return script_err(r, s, ERR_INVALID,
						  "there is no table named %s to drop",
						  s->names[i]);
			script_remove_table(r, t);
		}
		return 0;
	}
	for (int i = 0; i < s->n_names; i++) {
		bool found = false;
		for (int k = 0; k < r->m->n_tables; k++) {
			struct tbl *t = r->m->tables[k];
			bool listed = s->n_from == 0;
			for (int j = 0; j < s->n_from; j++)
				listed |= strcmp(s->from[j], t->name) == 0;
			int f = listed ? data_tbl_field(t, s->names[i], false) : -1;
			if (f < 0)
				continue;
			found = true;
			data_tbl_drop_field(t, f);
			if (t->n_fields == 0) {
				script_remove_table(r, t);
				k--;
			}
		}
		if (!found)
			return script_err(r, s, ERR_INVALID, "there is no field named %s to drop",
					  s->names[i]);
	}
	return 0;
}

/* One RENAME pair; `quiet`: a name that is not there is no error (RENAME ... USING). */
static int rename_one(struct run *r, const struct stmt *s, const char *from, const char *to,
		      bool quiet)
{
	if (s->kind == ST_RENAME_TABLE) {
		struct tbl *t = data_set_table(r->m, from);
		if (!t && quiet)
			return 0;
		if (!t)
			return script_err(r, s, ERR_INVALID, "there is no table named %s to rename",
					  from);
		if (data_set_table(r->m, to))
			return script_err(r, s, ERR_INVALID, "a table named %s exists already", to);
		char *n = strdup(to);
		if (!n)
			return err_set(r->e, ERR_NOMEM, "out of memory");
		free(t->name);
		t->name = n;
		return 0;
	}
	bool found = false;
	for (int k = 0; k < r->m->n_tables; k++) {
		struct tbl *t = r->m->tables[k];
		int f = data_tbl_field(t, from, false);
		if (f < 0)
			continue;
		if (data_tbl_field(t, to, false) >= 0)
			return script_err(r, s, ERR_INVALID,
					  "table %s has a field named %s already", t->name, to);
		char *n = strdup(to);
		if (!n)
			return err_set(r->e, ERR_NOMEM, "out of memory");
		free(t->fields[f].name);
		t->fields[f].name = n;
		found = true;
	}
	return found || quiet
		   ? 0
		   : script_err(r, s, ERR_INVALID, "there is no field named %s to rename", from);
}

int script_rename(struct run *r, const struct stmt *s)
{
	int rc = 0;
	for (int i = 0; rc == 0 && i + 1 < s->n_names; i += 2)
		rc = rename_one(r, s, s->names[i], s->names[i + 1], false);
	if (!s->name || s->n_names)
		return rc;
	/* USING a mapping table: each of its rows is a pair; names not there are left */
	struct mapping *m = script_find_map(r, s->name);
	if (!m)
		return script_err(r, s, ERR_INVALID, "there is no mapping table named %s", s->name);
	for (int64_t i = 0; rc == 0 && i < m->t->n_rows; i++) {
		struct val a, b;
		char na[64], nb[64];
		data_tbl_get(m->t, 0, i, &a);
		data_tbl_get(m->t, 1, i, &b);
		if (a.null || b.null)
			continue;
		char from[512];
		str_copy(from, data_val_text(&a, na, sizeof(na)), sizeof(from));
		rc = rename_one(r, s, from, data_val_text(&b, nb, sizeof(nb)), true);
	}
	return rc;
}
