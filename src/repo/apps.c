/* apps.c: app files: upload, save (repo_app_save), copy, export and download, publish,
 * replace, delete. Reloads are in reload.c.
 *
 * Every new file is a new generation on the share (share.h); the repository row moves to
 * it in one transaction, and only after the commit is the write considered done. Uploads
 * are checked as app files while they stream in (repo_file_check), and stored with their
 * size and SHA-256. */
#include "repo/repo_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int app_file_row(void *ctx, int n, const struct db_value *c)
{
	struct app_file *f = ctx;
	if (n < 6)
		return 0;
	f->found = true;
	str_copy(f->gen, c[0].type == DBV_TEXT ? c[0].s : "", sizeof(f->gen));
	str_copy(f->sha, c[1].type == DBV_TEXT ? c[1].s : "", sizeof(f->sha));
	f->size = c[2].type == DBV_INT ? c[2].i : 0;
	str_copy(f->modified, c[3].type == DBV_TEXT ? c[3].s : "", sizeof(f->modified));
	str_copy(f->name, c[4].type == DBV_TEXT ? c[4].s : "", sizeof(f->name));
	f->published = c[5].type == DBV_INT ? (int)c[5].i : 0;
	return 0;
}

static int read_app_file(struct qrs *q, struct db_conn *c, const char *id, struct app_file *out)
{
	memset(out, 0, sizeof(*out));
	struct db_params p;
	db_params_init(&p);
	db_p_text(&p, id);
	int rc =
	    db_exec(c,
		    "SELECT generation, file_sha256, file_size, modified_date, name, published "
		    "FROM app WHERE id = $1",
		    &p, app_file_row, out, NULL, &q->err);
	if (rc == 0 && !out->found)
		rc = err_set(&q->err, ERR_NOT_FOUND, "App \"%s\" does not exist", id);
	return rc;
}

int repo_app_file_read_tx(struct qrs *q, const char *id, struct app_file *out)
{
	struct db_conn *c;
	int rc = repo_qrs_begin(q, &c, false);
	if (rc)
		return rc;
	rc = read_app_file(q, c, id, out);
	if (rc == 0 && !out->gen[0])
		rc = err_set(&q->err, ERR_CONFLICT, "App \"%s\" has no file", id);
	return repo_qrs_end(q, c, rc);
}

static int check_app_name(struct qrs *q, const char *name, bool required)
{
	if (!name && !required)
		return 0;
	if (!name || !*name)
		return err_set(&q->err, ERR_PARAM, "query parameter \"name\" is required");
	if (strlen(name) > 255)
		return err_set(&q->err, ERR_FIELD, "app name is longer than 255 bytes");
	if (str_has_ctl(name, false))
		return err_set(&q->err, ERR_FIELD, "app name must not contain control characters");
	if (strchr(name, '/') || strchr(name, '\\'))
		return err_set(&q->err, ERR_FIELD,
			       "app name must not contain path separators ('/' or '\\')");
	return 0;
}

struct colval *repo_app_colv(struct colval *v, const char *json, const char *s, int64_t i)
{
	v->f = repo_entity_field(repo_entity_find("app"), json);
	v->s = s;
	v->i = i;
	v->is_null =
	    (s == NULL && (v->f->type != FT_INT && v->f->type != FT_BOOL && v->f->type != FT_ENUM));
	return v;
}

static void send_app(struct qrs *q, int status, const char *id)
{
	struct db_conn *c;
	json_t *o = NULL;
	int rc = repo_qrs_begin(q, &c, false);
	if (rc == 0) {
		rc = repo_crud_get(q, c, repo_entity_find("app"), id, &o);
		rc = repo_qrs_end(q, c, rc);
	}
	if (rc == 0)
		repo_qrs_send_json(q, status, o);
	else
		repo_qrs_send_error(q, rc);
}

struct fileop *repo_fileop_new(struct qrs *q)
{
	struct fileop *op = arena_alloc(q->a, sizeof(*op));
	err_init(&op->err);
	q->state = op;
	return op;
}

/* Makes a new generation of `app_id` holding a copy of generation `src_gen` of `src_id`. */
static int copy_generation(struct qrs *q, struct fileop *op, const char *src_id,
			   const struct app_file *src, const char *app_id, uint64_t *out_size,
			   char out_sha[65])
{
	char src_path[PATH_MAX], gen[SHARE_GEN_LEN + 1];
	if (share_app_path(q->repo->share, src_id, src->gen, src_path, sizeof(src_path)))
		return err_set(&q->err, ERR_INTERNAL, "bad app file name");
	share_gen_new(gen);
	int rc = share_writer_begin(q->repo->share, app_id, gen, UINT64_MAX, &op->w, &q->err);
	if (rc == 0)
		rc = share_writer_copy_from(op->w, src_path, &q->err);
	if (rc == 0)
		rc = share_writer_finish(op->w, src->sha, out_size, out_sha, &q->err);
	if (rc == ERR_IO && !path_exists(src_path)) {
		q->err.code = 0;
		rc = err_set(&q->err, ERR_NOT_FOUND, "App \"%s\" was deleted or replaced meanwhile",
			     src_id);
	}
	return rc;
}

/* The columns that name an app's new file: its generation, SHA-256 and size. */
void repo_file_cols(struct colval extra[3], const struct fileop *op, const char *sha, uint64_t size)
{
	repo_app_colv(&extra[0], "generation", share_writer_gen(op->w), 0);
	repo_app_colv(&extra[1], "fileSha256", sha, 0);
	repo_app_colv(&extra[2], "fileSize", "", (int64_t)size);
}

/* After the transaction: the new generation is live, or undone. */
int repo_fileop_settle(struct fileop *op, int rc)
{
	if (rc == 0)
		crash_point("app-committed");
	if (rc == 0)
		share_writer_commit_done(op->w);
	else
		share_writer_abort(op->w);
	op->w = NULL;
	return rc;
}

/* ---------------------------------------------------------------- upload */

static int upload_sink(void *ctx, const char *data, size_t len)
{
	struct qrs *q = ctx;
	struct fileop *op = q->state;
	if (op->check) {
		int rc = q->repo->file_check.feed(op->check, data, len, &op->err);
		if (rc)
			return rc;
	}
	return share_writer_write(op->w, data, len, &op->err);
}

/* The replaced app as it is now; an app without a file may get one. */
static int read_target(struct qrs *q, const char *target, struct app_file **out)
{
	*out = arena_alloc(q->a, sizeof(**out));
	int rc = repo_app_file_read_tx(q, target, *out);
	if (rc == ERR_CONFLICT) {
		q->err.code = 0;
		rc = 0;
	}
	return rc;
}

/* POST /qrs/app/upload makes a new app; POST /qrs/app/upload/replace?targetappid= gives an
 * existing app the uploaded file as its new generation. */
static bool is_replace(struct qrs *q)
{
	const char *p = http_req_path(q->req);
	size_t n = strlen(p);
	return n >= 8 && strcmp(p + n - 8, "/replace") == 0;
}

int repo_api_app_upload_begin(struct qrs *q)
{
	q->desc = repo_entity_find("app");
	bool replace = is_replace(q);
	const char *name = http_req_query(q->req, "name");
	const char *target = http_req_query(q->req, "targetappid");
	struct app_file *cur = NULL;
	int rc = 0;
	if (replace && (!target || !*target))
		rc = err_set(&q->err, ERR_PARAM, "targetappid names the app to replace");
	else if (replace) {
		rc = read_target(q, target, &cur);
	} else {
		rc = check_app_name(q, name, true);
	}
	if (rc)
		return rc;
	int64_t cl = http_req_content_length(q->req);
	if (cl >= 0 && (uint64_t)cl > q->repo->max_upload) {
		err_set(&q->err, ERR_TOO_LARGE,
			"the app file (%lld bytes) is larger than this node accepts (%llu bytes)",
			(long long)cl, (unsigned long long)q->repo->max_upload);
		err_hint(&q->err, "raise [repository] max_upload_bytes in node.conf");
		return ERR_TOO_LARGE;
	}
	struct fileop *op = repo_fileop_new(q);
	op->target = cur;
	char id[UUID_STR_LEN + 1], gen[SHARE_GEN_LEN + 1];
	if (replace)
		str_copy(id, target, sizeof(id));
	else
		uuid_new(id);
	share_gen_new(gen);
	rc = share_writer_begin(q->repo->share, id, gen, q->repo->max_upload, &op->w, &q->err);
	if (rc)
		return rc;
	q->id = arena_strdup(q->a, id);
	if (q->repo->file_check.begin && !(op->check = q->repo->file_check.begin()))
		return err_set(&q->err, ERR_NOMEM, "out of memory");
	http_req_stream_body(q->req, upload_sink, q);
	return 0;
}

/* Names the written generation as the replaced app's file. */
static int store_replace(struct qrs *q, struct fileop *op, uint64_t size, const char *sha)
{
	struct colval extra[3];
	repo_file_cols(extra, op, sha, size);
	struct decoded in = {0};
	struct db_conn *c;
	int rc = repo_qrs_begin(q, &c, true);
	if (rc == 0) {
		rc = repo_crud_update(q, c, q->desc, q->id, op->target->modified, &in, extra, 3);
		rc = repo_qrs_end(q, c, rc);
	}
	rc = repo_fileop_settle(op, rc);
	if (rc)
		return rc;
	if (op->target->gen[0])
		share_app_superseded(q->repo->share, q->id, op->target->gen);
	log_info("app %s replaced (%llu bytes)", q->id, (unsigned long long)size);
	return 0;
}

/* The end of a file that came in whole or streamed: checked, flushed, and not empty. */
static int finish_file(struct qrs *q, struct fileop *op, uint64_t *size, char sha[65])
{
	int rc = 0;
	if (op->check)
		rc = q->repo->file_check.end(op->check, &q->err);
	if (rc == 0)
		rc = share_writer_finish(op->w, NULL, size, sha, &q->err);
	if (rc == 0 && *size == 0)
		rc = err_set(&q->err, ERR_INVALID, "the request body is empty: send the app file");
	return rc;
}

static int save(struct qrs *q, const void *data, size_t len)
{
	q->desc = repo_entity_find("app");
	struct app_file *cur;
	int rc = read_target(q, q->id, &cur);
	if (rc)
		return rc;
	struct fileop *op = repo_fileop_new(q);
	op->target = cur;
	char gen[SHARE_GEN_LEN + 1], sha[65];
	uint64_t size = 0;
	share_gen_new(gen);
	rc = share_writer_begin(q->repo->share, q->id, gen, q->repo->max_upload, &op->w, &q->err);
	if (rc == 0 && q->repo->file_check.begin && !(op->check = q->repo->file_check.begin()))
		rc = err_set(&q->err, ERR_NOMEM, "out of memory");
	if (rc == 0 && op->check)
		rc = q->repo->file_check.feed(op->check, data, len, &q->err);
	if (rc == 0)
		rc = share_writer_write(op->w, data, len, &q->err);
	if (rc == 0)
		rc = finish_file(q, op, &size, sha);
	if (rc == 0)
		rc = store_replace(q, op, size, sha);
	repo_api_app_file_cleanup(q, rc == 0);
	return rc;
}

int repo_app_save(struct repo *r, const char *app_id, const void *data, size_t len,
		  const char *user, struct err *e)
{
	struct arena *a = arena_new();
	if (!a)
		return err_set(e, ERR_NOMEM, "out of memory");
	struct qrs q;
	repo_qrs_local_init(&q, r, a, user);
	q.id = arena_strdup(a, app_id);
	int rc = save(&q, data, len);
	if (rc)
		*e = q.err;
	arena_free(a);
	return rc;
}

int repo_api_app_upload(struct qrs *q)
{
	struct fileop *op = q->state;
	int rc = http_req_body_error(q->req);
	if (rc) {
		q->err = op->err;
		if (!q->err.code)
			err_set(&q->err, rc, "the upload could not be stored");
		if (rc == ERR_TOO_LARGE)
			err_hint(&q->err, "raise [repository] max_upload_bytes in node.conf");
		return repo_fileop_settle(op, rc);
	}
	uint64_t size = 0;
	char sha[65];
	rc = finish_file(q, op, &size, sha);
	if (rc)
		return repo_fileop_settle(op, rc);
	if (op->target) {
		rc = store_replace(q, op, size, sha);
		if (rc == 0)
			send_app(q, 201, q->id);
		return rc;
	}
	struct colval vals[1], extra[3];
	struct decoded in = {.id = q->id, .vals = vals, .n_vals = 1};
	repo_app_colv(&vals[0], "name", http_req_query(q->req, "name"), 0);
	repo_file_cols(extra, op, sha, size);
	struct db_conn *c;
	char id[UUID_STR_LEN + 1];
	rc = repo_qrs_begin(q, &c, true);
	if (rc == 0) {
		rc = repo_crud_insert(q, c, q->desc, &in, extra, 3, id);
		rc = repo_qrs_end(q, c, rc);
	}
	rc = repo_fileop_settle(op, rc);
	if (rc == 0) {
		log_info("app \"%s\" uploaded as %s (%llu bytes)", in.vals[0].s, id,
			 (unsigned long long)size);
		send_app(q, 201, id);
	}
	return rc;
}

void repo_api_app_file_cleanup(struct qrs *q, bool completed)
{
	(void)completed;
	struct fileop *op = q->state;
	if (op && op->w) {
		share_writer_abort(op->w);
		op->w = NULL;
	}
	if (op && op->check) {
		q->repo->file_check.free(op->check);
		op->check = NULL;
	}
}

/* ---------------------------------------------------------------- copy */

int repo_api_app_copy(struct qrs *q)
{
	const char *name = http_req_query(q->req, "name");
	int rc = check_app_name(q, name, false);
	if (rc)
		return rc;
	struct app_file src;
	rc = repo_app_file_read_tx(q, q->id, &src);
	if (rc)
		return rc;
	struct fileop *op = repo_fileop_new(q);
	char id[UUID_STR_LEN + 1], sha[65];
	uint64_t size;
	uuid_new(id);
	rc = copy_generation(q, op, q->id, &src, id, &size, sha);
	if (rc)
		return repo_fileop_settle(op, rc);

	/* The copy keeps the source's descriptive fields; it is not published. */
	struct db_conn *c;
	json_t *s = NULL;
	rc = repo_qrs_begin(q, &c, true);
	if (rc)
		return repo_fileop_settle(op, rc);
	rc = repo_crud_get(q, c, q->desc, q->id, &s);
	struct colval vals[4], extra[4];
	struct decoded in = {.id = id, .vals = vals};
	if (rc == 0) {
		repo_app_colv(&vals[in.n_vals++], "name", name ? name : src.name, 0);
		const char *keep[] = {"description", "thumbnail", "dynamicColor"};
		for (size_t i = 0; i < ARRAY_LEN(keep); i++) {
			json_t *v = json_object_get(s, keep[i]);
			if (json_is_string(v))
				repo_app_colv(&vals[in.n_vals++], keep[i],
					      arena_strdup(q->a, json_string_value(v)), 0);
		}
		if (repo_qrs_query_true(q, "includecustomproperties")) {
			json_t *cps = json_object_get(s, "customProperties");
			in.has_cps = true;
			in.cps = arena_alloc(q->a, (json_array_size(cps) + 1) * sizeof(*in.cps));
			size_t i;
			json_t *it;
			json_array_foreach (cps, i, it) {
				json_t *def =
				    json_object_get(json_object_get(it, "definition"), "id");
				in.cps[in.n_cps].definition_id =
				    arena_strdup(q->a, json_string_value(def));
				in.cps[in.n_cps].value = arena_strdup(
				    q->a, json_string_value(json_object_get(it, "value")));
				in.n_cps++;
			}
		}
		repo_file_cols(extra, op, sha, size);
		repo_app_colv(&extra[3], "sourceAppId", q->id, 0);
		char out_id[UUID_STR_LEN + 1];
		rc = repo_crud_insert(q, c, q->desc, &in, extra, 4, out_id);
	}
	json_decref(s);
	rc = repo_fileop_settle(op, repo_qrs_end(q, c, rc));
	if (rc == 0)
		send_app(q, 201, id);
	return rc;
}

/* ---------------------------------------------------------------- replace */

int repo_api_app_replace(struct qrs *q)
{
	const char *target = http_req_query(q->req, "app");
	if (!target || !uuid_valid(target))
		return err_set(&q->err, ERR_PARAM,
			       "query parameter \"app\" must be the GUID of the app to overwrite");
	char *tid = arena_strdup(q->a, target);
	uuid_lower(tid);
	if (strcmp(tid, q->id) == 0)
		return err_set(&q->err, ERR_INVALID, "an app cannot replace itself");
	struct app_file src, dst;
	int rc = repo_app_file_read_tx(q, q->id, &src);
	if (rc == 0) {
		struct db_conn *c;
		rc = repo_qrs_begin(q, &c, false);
		if (rc == 0)
			rc = repo_qrs_end(q, c, read_app_file(q, c, tid, &dst));
	}
	if (rc)
		return rc;
	struct fileop *op = repo_fileop_new(q);
	char sha[65];
	uint64_t size;
	rc = copy_generation(q, op, q->id, &src, tid, &size, sha);
	if (rc)
		return repo_fileop_settle(op, rc);
	struct colval extra[3];
	repo_file_cols(extra, op, sha, size);
	struct decoded in = {0};
	struct db_conn *c;
	rc = repo_qrs_begin(q, &c, true);
	if (rc == 0) {
		/* Guarded by the modifiedDate read above: a change to the target meanwhile wins. */
		rc = repo_crud_update(q, c, q->desc, tid, dst.modified, &in, extra, 3);
		rc = repo_qrs_end(q, c, rc);
	}
	rc = repo_fileop_settle(op, rc);
	if (rc == 0) {
		if (dst.gen[0])
			share_app_superseded(q->repo->share, tid, dst.gen);
		log_info("app %s replaced with the content of app %s", tid, q->id);
		send_app(q, 200, tid);
	}
	return rc;
}

/* ---------------------------------------------------------------- publish */

int repo_api_app_publish(struct qrs *q)
{
	const char *stream = http_req_query(q->req, "stream");
	const char *name = http_req_query(q->req, "name");
	if (!stream || !uuid_valid(stream))
		return err_set(&q->err, ERR_PARAM,
			       "query parameter \"stream\" must be the GUID of a stream");
	int rc = check_app_name(q, name && *name ? name : NULL, false);
	if (rc)
		return rc;
	char *sid = arena_strdup(q->a, stream);
	uuid_lower(sid);
	struct db_conn *c;
	rc = repo_qrs_begin(q, &c, true);
	if (rc)
		return rc;
	struct app_file f;
	rc = read_app_file(q, c, q->id, &f);
	if (rc == 0 && f.published)
		rc = err_set(&q->err, ERR_INVALID, "App \"%s\" is already published", q->id);
	char now[ISO_TIME_LEN + 1];
	time_format_iso(time_now_ms(), now);
	struct colval extra[4];
	int n = 0;
	repo_app_colv(&extra[n++], "stream", sid, 0);
	repo_app_colv(&extra[n++], "published", "", 1);
	repo_app_colv(&extra[n++], "publishTime", now, 0);
	if (name && *name)
		repo_app_colv(&extra[n++], "name", name, 0);
	struct decoded in = {.vals = extra, .n_vals = 1}; /* checks that the stream exists */
	if (rc == 0)
		rc = repo_crud_update(q, c, q->desc, q->id, f.modified, &in, extra + 1, n - 1);
	rc = repo_qrs_end(q, c, rc);
	if (rc == 0)
		send_app(q, 200, q->id);
	return rc;
}

/* ---------------------------------------------------------------- export and download */

int repo_api_app_export_token(struct qrs *q)
{
	struct app_file f;
	int rc = repo_app_file_read_tx(q, q->id, &f);
	if (rc)
		return rc;
	char token[UUID_STR_LEN + 1];
	uuid_new(token);
	repo_qrs_send_json(q, 200, json_string(token));
	return 0;
}

static json_t *export_json(struct qrs *q, const char *token, const char *app_id,
			   const char *file_name, bool cancelled)
{
	json_t *o = json_object();
	json_object_set_new(o, "schemaPath", json_string("AppExportResponse"));
	json_object_set_new(o, "exportToken", json_string(token));
	json_object_set_new(o, "appId", json_string(app_id));
	char *path = arena_printf(q->a, "/tempcontent/%s/%s?serverNodeId=%s", token,
				  str_url_encode(q->a, file_name), q->repo->node_id);
	json_object_set_new(o, "downloadPath", json_string(path));
	json_object_set_new(o, "cancelled", json_boolean(cancelled));
	return o;
}

struct export_row {
	bool found;
	char app_id[64], gen[32], file_name[600];
};

static int export_row(void *ctx, int n, const struct db_value *c)
{
	struct export_row *x = ctx;
	if (n < 3)
		return 0;
	x->found = true;
	str_copy(x->app_id, c[0].s ? c[0].s : "", sizeof(x->app_id));
	str_copy(x->gen, c[1].s ? c[1].s : "", sizeof(x->gen));
	str_copy(x->file_name, c[2].s ? c[2].s : "", sizeof(x->file_name));
	return 0;
}

static int read_export(struct qrs *q, struct db_conn *c, const char *token, struct export_row *x)
{
	memset(x, 0, sizeof(*x));
	struct db_params p;
	db_params_init(&p);
	db_p_text(&p, token);
	return db_exec(c, "SELECT app_id, generation, file_name FROM app_export WHERE token = $1",
		       &p, export_row, x, NULL, &q->err);
}

static int delete_export(struct qrs *q, struct db_conn *c, const char *token)
{
	struct db_params p;
	db_params_init(&p);
	db_p_text(&p, token);
	return db_exec(c, "DELETE FROM app_export WHERE token = $1", &p, NULL, NULL, NULL, &q->err);
}

int repo_api_app_export(struct qrs *q)
{
	struct db_conn *c;
	int rc = repo_qrs_begin(q, &c, true);
	if (rc)
		return rc;
	struct app_file f;
	struct export_row x;
	rc = read_app_file(q, c, q->id, &f);
	if (rc == 0 && !f.gen[0])
		rc = err_set(&q->err, ERR_CONFLICT, "App \"%s\" has no file to export", q->id);
	if (rc == 0)
		rc = read_export(q, c, q->token, &x);
	char *file_name = arena_printf(q->a, "%s.qvf", f.name);
	if (rc == 0 && x.found && strcmp(x.app_id, q->id) != 0)
		rc = err_set(&q->err, ERR_CONFLICT, "export token \"%s\" is in use for another app",
			     q->token);
	if (rc == 0 && !x.found) {
		char now[ISO_TIME_LEN + 1];
		time_format_iso(time_now_ms(), now);
		struct db_params p;
		db_params_init(&p);
		db_p_text(&p, q->token);
		db_p_text(&p, q->id);
		db_p_text(&p, f.gen);
		db_p_text(&p, file_name);
		db_p_text(&p, now);
		db_p_text(&p, q->user);
		rc = db_exec(
		    c,
		    "INSERT INTO app_export (token, app_id, generation, file_name, created_at, "
		    "user_name) VALUES ($1, $2, $3, $4, $5, $6)",
		    &p, NULL, NULL, NULL, &q->err);
	}
	if (rc == 0 && x.found)
		file_name = arena_strdup(q->a, x.file_name);
	rc = repo_qrs_end(q, c, rc);
	if (rc == 0)
		repo_qrs_send_json(q, 201, export_json(q, q->token, q->id, file_name, false));
	return rc;
}

int repo_api_app_export_cancel(struct qrs *q)
{
	struct db_conn *c;
	int rc = repo_qrs_begin(q, &c, true);
	if (rc)
		return rc;
	struct export_row x;
	rc = read_export(q, c, q->token, &x);
	if (rc == 0 && (!x.found || strcmp(x.app_id, q->id) != 0))
		rc = err_set(&q->err, ERR_NOT_FOUND, "no export \"%s\" of App \"%s\"", q->token,
			     q->id);
	if (rc == 0)
		rc = delete_export(q, c, q->token);
	rc = repo_qrs_end(q, c, rc);
	if (rc == 0)
		repo_qrs_send_json(q, 200, export_json(q, q->token, q->id, x.file_name, true));
	return rc;
}

int repo_api_app_download(struct qrs *q)
{
	struct db_conn *c;
	int rc = repo_qrs_begin(q, &c, true);
	if (rc)
		return rc;
	struct export_row x;
	rc = read_export(q, c, q->token, &x);
	if (rc == 0 && !x.found)
		rc = err_set(
		    &q->err, ERR_NOT_FOUND,
		    "no export with token \"%s\" (it was downloaded, cancelled or never made)",
		    q->token);
	int fd = -1;
	struct stat st;
	char path[PATH_MAX];
	if (rc == 0) {
		if (share_app_path(q->repo->share, x.app_id, x.gen, path, sizeof(path)) != 0 ||
		    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0)
			rc = err_set(&q->err, ERR_NOT_FOUND, "the exported app file is gone");
	}
	/* One download per export: the token is spent once the file is open. */
	if (rc == 0)
		rc = delete_export(q, c, q->token);
	rc = repo_qrs_end(q, c, rc);
	if (rc) {
		if (fd >= 0)
			close(fd);
		return rc;
	}
	char *disp = arena_printf(q->a, "attachment; filename=\"%s\"", x.file_name);
	for (char *p = disp + 22; *p; p++)
		if (*p == '"' && p[1] != '\0')
			*p = '_';
	http_add_header(q->req, "Content-Disposition", disp);
	http_respond_fd(q->req, 200, "application/vnd.qlik.sense.app", fd, (uint64_t)st.st_size);
	return 0;
}

/* ---------------------------------------------------------------- delete */

int repo_api_app_delete(struct qrs *q)
{
	struct db_conn *c;
	int rc = repo_qrs_begin(q, &c, true);
	if (rc)
		return rc;
	rc = repo_crud_delete(q, c, q->desc, q->id);
	if (rc == 0) {
		struct db_params p;
		db_params_init(&p);
		db_p_text(&p, q->id);
		rc = db_exec(c, "DELETE FROM app_export WHERE app_id = $1", &p, NULL, NULL, NULL,
			     &q->err);
	}
	rc = repo_qrs_end(q, c, rc);
	if (rc == 0) {
		int n = share_remove_app(q->repo->share, q->id);
		log_info("app %s deleted with %d file(s)", q->id, n);
		http_respond(q->req, 204, NULL, "", 0);
	}
	return rc;
}

/* ---------------------------------------------------------------- garbage collection */

int repo_apps_is_live(void *ctx, const char *app_id, const char *gen)
{
	struct repo *r = ctx;
	struct err e;
	err_init(&e);
	bool live = false;
	struct db_params p;
	db_params_init(&p);
	db_p_text(&p, app_id);
	db_p_text(&p, gen);
	int rc =
	    db_exec_once(r->db,
			 "SELECT 1 FROM app WHERE id = $1 AND generation = $2 UNION ALL SELECT 1 "
			 "FROM app_export WHERE app_id = $1 AND generation = $2",
			 &p, db_row_seen, &live, &e);
	return rc ? -1 : live;
}

/* ---------------------------------------------------------------- create */

/* POST /qrs/app: a new app with no script and no data, from an App body. */
int repo_api_app_create(struct qrs *q)
{
	if (!q->repo->file_check.empty) {
		err_set(&q->err, ERR_METHOD,
			"App entities cannot be created through this endpoint");
		err_hint(&q->err, "upload an app with POST /qrs/app/upload?name=...");
		return ERR_METHOD;
	}
	json_t *body;
	int rc = repo_qrs_body_json(q, &body);
	if (rc)
		return rc;
	struct decoded in;
	rc = repo_entity_decode(q->repo, q->desc, body, NULL, q->a, &in, &q->err);
	const char *name = arena_strdup(q->a, json_string_value(json_object_get(body, "name")));
	if (rc == 0)
		rc = check_app_name(q, name, true);
	struct buf file;
	buf_init(&file, 1 << 20);
	if (rc == 0)
		rc = q->repo->file_check.empty(name, &file, &q->err);
	struct fileop *op = repo_fileop_new(q);
	char id[UUID_STR_LEN + 1], gen[SHARE_GEN_LEN + 1], sha[65];
	uint64_t size = 0;
	if (in.id)
		str_copy(id, in.id, sizeof(id));
	else
		uuid_new(id);
	share_gen_new(gen);
	if (rc == 0)
		rc = share_writer_begin(q->repo->share, id, gen, q->repo->max_upload, &op->w,
					&q->err);
	if (rc == 0)
		rc = share_writer_write(op->w, file.data, file.len, &q->err);
	if (rc == 0)
		rc = share_writer_finish(op->w, NULL, &size, sha, &q->err);
	buf_release(&file);
	if (rc) {
		json_decref(body);
		return op->w ? repo_fileop_settle(op, rc) : rc;
	}
	struct colval extra[3];
	repo_file_cols(extra, op, sha, size);
	in.id = id;
	struct db_conn *c;
	char out_id[UUID_STR_LEN + 1];
	rc = repo_qrs_begin(q, &c, true);
	if (rc == 0) {
		rc = repo_crud_insert(q, c, q->desc, &in, extra, 3, out_id);
		rc = repo_qrs_end(q, c, rc);
	}
	json_decref(body);
	rc = repo_fileop_settle(op, rc);
	if (rc == 0) {
		log_info("app \"%s\" created as %s", name, id);
		send_app(q, 201, id);
	}
	return rc;
}
