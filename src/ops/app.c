/* app.c: `fathom app file` writes an app file (engine/appfile.h) from a load script, for
 * uploading with POST /qrs/app/upload; `fathom app create` puts such an app straight into
 * a node's repository and share, through the same upload path the API uses. */
#include "ops/ops_int.h"
#include "data/data.h"
#include "script/script.h"
#include "repo/repo.h"
#include "share/share.h"

#include <getopt.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: fathom app file --out FILE [--script SCRIPT] [--objects JSON] [--title TITLE]\n"
    "                       [--padding-bytes N]\n"
    "       fathom app create NAME --dir DIR [--script SCRIPT] [--objects JSON]\n"
    "\n"
    "file    writes an app file holding the load script in SCRIPT (none: an empty script)\n"
    "        and no data yet, ready for POST /qrs/app/upload. --padding-bytes adds a block\n"
    "        of N random bytes that readers pass over (to make large files for tests).\n"
    "create  adds the app NAME to the site of the node in DIR, as an upload would.\n"
    "\n"
    "--objects names a JSON file holding an array of app objects (sheets, charts, ...),\n"
    "each the properties a client would give CreateObject, with qInfo.qId and qInfo.qType,\n"
    "or a property tree {qProperty, qChildren} as GetFullPropertyTree answers it (a\n"
    "filter pane and its list boxes).\n";

/* Adds object o (the properties, or a property tree {qProperty, qChildren}: its children
 * are added too, each noted with its parent in `parents`) to objs. */
static int add_object(const char *path, size_t n, json_t *o, const char *parent, json_t *objs,
		      json_t *parents, int depth, struct err *e)
{
	json_t *kids = json_object_get(o, "qChildren");
	if (json_object_get(o, "qProperty"))
		o = json_object_get(o, "qProperty");
	json_t *info = json_object_get(o, "qInfo");
	const char *id = json_string_value(json_object_get(info, "qId"));
	const char *type = json_string_value(json_object_get(info, "qType"));
	if (!json_is_object(o) || !id || !*id || !type || !*type)
		return err_set(e, ERR_INVALID, "%s: object %zu has no qInfo with a qId and a qType",
			       path, n);
	if (json_object_get(objs, id))
		return err_set(e, ERR_INVALID, "%s: the id \"%s\" is used twice", path, id);
	if ((kids && !json_is_array(kids)) || depth > 16)
		return err_set(e, ERR_INVALID,
			       "%s: object %zu: qChildren must be a list (16 deep at most)", path,
			       n);
	if (json_object_set(objs, id, o) != 0 ||
	    (parent && json_object_set_new(parents, id, json_string(parent)) != 0))
		return err_set(e, ERR_NOMEM, "out of memory");
	size_t i;
	json_t *k;
	int rc = 0;
	json_array_foreach (kids, i, k)
		if (rc == 0)
			rc = add_object(path, n, k, id, objs, parents, depth + 1, e);
	return rc;
}

/* The app objects in the file at `path` (an array of properties or property trees; or in
 * `text` when that is not NULL, `path` naming it), keyed by their qInfo.qId as the engine
 * keeps them in an app's properties, and the children's parents (*parents: child qId ->
 * parent qId). */
static int read_objects(const char *path, const char *text, json_t **out, json_t **parents,
			struct err *e)
{
	json_error_t je;
	json_t *arr = text ? json_loads(text, JSON_REJECT_DUPLICATES, &je)
			   : json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!arr)
		return err_set(e, ERR_INVALID, "%s: line %d: %s", path, je.line, je.text);
	int rc = 0;
	json_t *objs = json_object(), *par = json_object();
	if (!json_is_array(arr))
		rc = err_set(e, ERR_INVALID, "%s: an array of app objects is expected", path);
	size_t i;
	json_t *o;
	json_array_foreach (arr, i, o)
		if (rc == 0)
			rc = add_object(path, i + 1, o, NULL, objs, par, 0, e);
	json_decref(arr);
	if (rc) {
		json_decref(objs);
		json_decref(par);
	} else {
		*out = objs;
		*parents = par;
	}
	return rc;
}

/* Builds the app file for the script in `script_path` (NULL: `script_text`, or empty when
 * that is NULL too) and the objects in `objects_path` (NULL: `objects_text`, or none when
 * that is NULL too) into out. */
static int build(const char *script_path, const char *script_text, const char *objects_path,
		 const char *objects_text, const char *title, uint64_t padding, struct buf *out,
		 struct err *e)
{
	char *script = NULL;
	size_t script_len = 0;
	int rc = 0;
	if (!script_path && script_text && !(script = strdup(script_text)))
		return err_set(e, ERR_NOMEM, "out of memory");
	script_len = script ? strlen(script) : 0;
	json_t *objects = NULL, *parents = NULL;
	if ((objects_path || objects_text) &&
	    (rc = read_objects(objects_path ? objects_path : "the built-in objects",
			       objects_path ? NULL : objects_text, &objects, &parents, e))) {
		free(script);
		return rc;
	}
	if (script_path && (rc = file_read_all(script_path, 64u << 20, &script, &script_len, e))) {
		json_decref(objects);
		json_decref(parents);
		return rc;
	}
	json_t *props = json_pack("{s:s}", "qTitle", title ? title : "");
	if (props && objects)
		json_object_set(props, "objects", objects);
	if (props && json_object_size(parents))
		json_object_set(props, "parents", parents);
	json_decref(objects);
	json_decref(parents);
	char *props_text = props ? json_dumps(props, JSON_COMPACT) : NULL;
	json_decref(props);
	char *pad = NULL;
	if (padding) {
		pad = malloc(padding);
		if (!pad || sodium_init() < 0)
			rc = err_set(e, ERR_NOMEM, "out of memory for %llu padding bytes",
				     (unsigned long long)padding);
		else
			randombytes_buf(pad, padding);
	}
	struct appfile_block blocks[3] = {
	    {.kind = APPFILE_PROPS, .data = props_text, .len = props_text ? strlen(props_text) : 0},
	    {.kind = APPFILE_SCRIPT, .data = script ? script : (char *)"", .len = script_len},
	    {.kind = (enum appfile_kind)99, .data = pad, .len = padding},
	};
	if (rc == 0 && !props_text)
		rc = err_set(e, ERR_NOMEM, "out of memory");
	if (rc == 0)
		rc = data_appfile_write(blocks, padding ? 3 : 2, padding ? 1 : 0, out, e);
	free(pad);
	free(props_text);
	free(script);
	return rc;
}

static int app_file(const char *out_path, const char *script, const char *objects,
		    const char *title, uint64_t pad)
{
	struct err e;
	err_init(&e);
	struct buf b;
	buf_init(&b, 1ULL << 40);
	int rc = build(script, NULL, objects, NULL, title, pad, &b, &e);
	if (rc == 0)
		rc = file_write_atomic(out_path, b.data, b.len, 0644, &e);
	buf_release(&b);
	if (rc) {
		ops_print_err(&e);
		return 1;
	}
	printf("wrote %s\n", out_path);
	return 0;
}

/* Uploads are checked as app files while they stream in (node.c and app create). */
static void *check_begin(void)
{
	return data_appfile_check_new();
}

static int check_feed(void *state, const void *data, size_t len, struct err *e)
{
	return data_appfile_check_feed(state, data, len, e);
}

static int check_end(void *state, struct err *e)
{
	return data_appfile_check_end(state, e);
}

static void check_free(void *state)
{
	data_appfile_check_free(state);
}

static int empty_app(const char *title, struct buf *out, struct err *e)
{
	return build(NULL, NULL, NULL, NULL, title, 0, out, e);
}

const struct repo_file_check ops_file_check = {check_begin, check_feed, check_end, check_free,
					       empty_app};

/* Uploads the app file in b as NAME; its id into id_out. */
static int upload(struct ops_local *l, const char *name, const struct buf *b,
		  char id_out[UUID_STR_LEN + 1], struct err *e)
{
	char *body = NULL;
	size_t body_len = 0;
	struct buf q;
	buf_init(&q, 1 << 16);
	int rc = ops_query_param(&q, "name", name);
	int status = rc ? 0
			: ops_local_call(l, "POST", "/qrs/app/upload", q.data, b->data, b->len,
					 &body, &body_len);
	json_t *j = body ? json_loadb(body, body_len, 0, NULL) : NULL;
	if (rc)
		rc = err_set(e, ERR_NOMEM, "out of memory");
	else if (status == 201)
		str_copy(id_out, json_string_value(json_object_get(j, "id")), UUID_STR_LEN + 1);
	else {
		const char *msg = json_string_value(json_object_get(j, "message"));
		rc = err_set(e, ERR_INVALID, "the app could not be created (%d): %s", status,
			     msg ? msg : "no answer");
	}
	json_decref(j);
	free(body);
	buf_release(&q);
	return rc;
}

int ops_app_upload(struct ops_local *l, const char *name, const char *script, const char *objects,
		   char id_out[UUID_STR_LEN + 1], struct err *e)
{
	struct buf b;
	buf_init(&b, 1ULL << 30);
	int rc = build(NULL, script, NULL, objects, name, 0, &b, e);
	if (rc == 0)
		rc = upload(l, name, &b, id_out, e);
	buf_release(&b);
	return rc;
}

static int app_create(const char *name, const char *dir, const char *script, const char *objects)
{
	struct err e;
	err_init(&e);
	struct ops_local l;
	struct buf b;
	buf_init(&b, 1ULL << 34);
	char id[UUID_STR_LEN + 1];
	int rc = build(script, NULL, objects, NULL, name, 0, &b, &e);
	if (rc == 0 && (rc = ops_local_open(dir, &l, &e)) == 0) {
		rc = upload(&l, name, &b, id, &e);
		if (rc == 0)
			printf("created app \"%s\" (%s)\n", name, id);
		ops_local_close(&l);
	}
	buf_release(&b);
	if (rc) {
		ops_print_err(&e);
		return 1;
	}
	return 0;
}

int ops_app(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"out", required_argument, NULL, 'o'},
	    {"script", required_argument, NULL, 's'},
	    {"objects", required_argument, NULL, 'j'},
	    {"title", required_argument, NULL, 't'},
	    {"padding-bytes", required_argument, NULL, 'p'},
	    {"dir", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *sub = argv[1], *out = NULL, *script = NULL, *title = NULL, *pad_s = "0",
		   *dir = NULL, *objects = NULL;
	int c;
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 's': script = optarg; break;
		case 'j': objects = optarg; break;
		case 't': title = optarg; break;
		case 'p': pad_s = optarg; break;
		case 'd': dir = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	int64_t pad;
	if (str_to_i64(pad_s, 0, 1LL << 36, &pad) != 0) {
		fprintf(stderr, "fathom: --padding-bytes must be a number of bytes\n");
		return 2;
	}
	if (strcmp(sub, "file") == 0 && out && optind == argc)
		return app_file(out, script, objects, title, (uint64_t)pad);
	if (strcmp(sub, "create") == 0 && dir && optind == argc - 1)
		return app_create(argv[optind], dir, script, objects);
	fputs(usage, stderr);
	return 2;
}
