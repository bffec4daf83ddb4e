/* statements.c: STORE, DROP and RENAME in a running reload (reload_int.h). */
#include "engine/appfile.h"
#include "engine/reload_int.h"

#include <stdlib.h>
#include <string.h>

static int csv_quote(struct buf *b, const char *s)
{
	bool q = !*s || strpbrk(s, ",\"\r\n ") != NULL;
	int rc = q ? buf_puts(b, "\"") : 0;
	for (; *s && rc == 0; s++)
		rc = *s == '"' ? buf_puts(b, "\"\"") : buf_append(b, s, 1);
	return rc || (q ? buf_puts(b, "\"") : 0);
}

int reload_store(struct run *r, const struct stmt *s)
{
	struct tbl *t = model_table(r->m, s->store.table);
	if (!t)
		return reload_err(r, s, ERR_INVALID, "there is no table named %s to store",
				  s->store.table);
	if (s->store.items)
		return reload_err(r, s, ERR_INVALID, "STORE of chosen fields is not supported yet");
	char file[4096];
	int rc = r->env->resolve
		     ? r->env->resolve(r->env->ctx, s->store.path, true, file, sizeof(file), r->e)
		     : err_set(r->e, ERR_FORBIDDEN, "no files can be written here");
	if (rc) {
		char msg[sizeof(r->e->message)];
		str_copy(msg, r->e->message, sizeof(msg));
		r->e->code = 0;
		return reload_err(r, s, rc, "%s", msg);
	}
	struct buf b;
	buf_init(&b, MAX_FILE);
	if (s->store.format.qvd) {
		struct qvd_table v;
		rc = tbl_view(t, &v, r->e);
		if (rc == 0)
			rc = qvd_write(&v, &b, r->e);
		tbl_view_free(&v);
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
				tbl_get(t, f, row, &v);
				rc = (f && buf_append(&b, &d, 1)) ||
				     (!v.null && csv_quote(&b, val_text(&v, nb, sizeof(nb))));
			}
			rc = rc || buf_puts(&b, "\r\n");
		}
		if (rc)
			rc =
			    err_set(r->e, ERR_TOO_LARGE, "table %s is too large to store", t->name);
	}
	if (rc == 0)
		rc = file_write_atomic(file, b.data ? b.data : "", b.len, 0644, r->e);
	buf_release(&b);
	if (rc == 0)
		reload_log(r, "stored %s (%lld rows) into %s", t->name, (long long)t->n_rows,
			   s->store.path);
	return rc;
}

int reload_drop(struct run *r, const struct stmt *s)
{
	if (s->kind == ST_DROP_TABLES) {
		for (int i = 0; i < s->n_names; i++) {
			struct tbl *t = model_table(r->m, s->names[i]);
			struct mapping *mp = reload_find_map(r, s->names[i]);
			if (mp) {
				tbl_free(mp->t);
				free(mp->name);
				free(mp->first_row);
				*mp = r->maps[--r->n_maps];
				continue;
			}
			if (!t)
				return reload_err(r, s, ERR_INVALID,
						  "there is no table named %s to drop",
						  s->names[i]);
			reload_remove_table(r, t);
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
			int f = listed ? tbl_field(t, s->names[i], false) : -1;
			if (f < 0)
				continue;
			found = true;
			tbl_drop_field(t, f);
			if (t->n_fields == 0) {
				reload_remove_table(r, t);
				k--;
			}
		}
		if (!found)
			return reload_err(r, s, ERR_INVALID, "there is no field named %s to drop",
					  s->names[i]);
	}
	return 0;
}

int reload_rename(struct run *r, const struct stmt *s)
{
	const char *from = s->names[0], *to = s->names[1];
	if (s->kind == ST_RENAME_TABLE) {
		struct tbl *t = model_table(r->m, from);
		if (!t)
			return reload_err(r, s, ERR_INVALID, "there is no table named %s to rename",
					  from);
		if (model_table(r->m, to))
			return reload_err(r, s, ERR_INVALID, "a table named %s exists already", to);
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
		int f = tbl_field(t, from, false);
		if (f < 0)
			continue;
		if (tbl_field(t, to, false) >= 0)
			return reload_err(r, s, ERR_INVALID,
					  "table %s has a field named %s already", t->name, to);
		char *n = strdup(to);
		if (!n)
			return err_set(r->e, ERR_NOMEM, "out of memory");
		free(t->fields[f].name);
		t->fields[f].name = n;
		found = true;
	}
	return found ? 0
		     : reload_err(r, s, ERR_INVALID, "there is no field named %s to rename", from);
}

int model_write_app(const struct model *m, const char *props, size_t props_len, const char *script,
		    size_t script_len, struct buf *out, struct err *e)
{
	int n_tables = m ? m->n_tables : 0, n_blocks = 2 + n_tables;
	struct appfile_block *blocks = calloc((size_t)n_blocks, sizeof(*blocks));
	size_t *offsets = calloc((size_t)n_blocks + 1, sizeof(size_t));
	struct buf q;
	buf_init(&q, 1ULL << 38);
	int rc = blocks && offsets ? 0 : err_set(e, ERR_NOMEM, "out of memory");
	if (rc == 0) {
		blocks[0] = (struct appfile_block){APPFILE_PROPS, (char *)props, props_len};
		blocks[1] = (struct appfile_block){APPFILE_SCRIPT, (char *)script, script_len};
	}
	/* the tables in QVD layout, one after the other in q */
	for (int t = 0; rc == 0 && t < n_tables; t++) {
		struct qvd_table v;
		offsets[t] = q.len;
		rc = tbl_view(m->tables[t], &v, e);
		if (rc == 0)
			rc = qvd_write(&v, &q, e);
		tbl_view_free(&v);
	}
	offsets[n_tables] = q.len;
	for (int t = 0; rc == 0 && t < n_tables; t++)
		blocks[2 + t] = (struct appfile_block){APPFILE_TABLE, q.data + offsets[t],
						       offsets[t + 1] - offsets[t]};
	if (rc == 0)
		rc = appfile_write(blocks, n_blocks, 0, out, e);
	free(blocks);
	free(offsets);
	buf_release(&q);
	return rc;
}
