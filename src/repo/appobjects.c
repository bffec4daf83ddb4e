/* appobjects.c: GET /qrs/app/{id}/objects (Fathom's): the objects an app file holds (sheets,
 * stories, bookmarks, master dimensions and measures, variables, and the charts on sheets),
 * read from the properties block of its current generation without the rest of the file,
 * for whoever may read the app. Each is its engine id, type, title, parent (a chart's
 * sheet) and whether the load script made it (a variable the script sets). */
#include "data/data.h"
#include "repo/repo_int.h"
#include "share/share.h"

#include <stdlib.h>
#include <string.h>

static int by_type_then_title(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int c = strcmp(json_string_value(json_object_get(x, "objectType")),
		       json_string_value(json_object_get(y, "objectType")));
	return c ? c
		 : strcmp(json_string_value(json_object_get(x, "name")),
			  json_string_value(json_object_get(y, "name")));
}

/* The objects of a properties text, sorted by type and title. */
static json_t *objects_of(const char *props, size_t len)
{
	json_t *p = props ? json_loadb(props, len, 0, NULL) : NULL;
	json_t *objs = json_object_get(p, "objects"), *parents = json_object_get(p, "parents");
	size_t n = json_object_size(objs), k = 0;
	json_t **list = calloc(n ? n : 1, sizeof(*list));
	const char *id;
	json_t *o;
	json_object_foreach (objs, id, o) {
		if (!list)
			break;
		json_t *info = json_object_get(o, "qInfo");
		const char *type = json_string_value(json_object_get(info, "qType"));
		const char *title =
		    json_string_value(json_object_get(json_object_get(o, "qMetaDef"), "title"));
		if (!title || !*title) /* a chart's own title, or a variable's name */
			title = json_string_value(json_object_get(o, "title"));
		if (!title || !*title)
			title = json_string_value(json_object_get(o, "qName"));
		const char *parent = json_string_value(json_object_get(parents, id));
		list[k++] = json_pack("{s:s, s:s, s:s, s:s?, s:b}", "engineObjectId", id,
				      "objectType", type ? type : "", "name", title ? title : id,
				      "parent", parent, "scriptCreated",
				      json_is_true(json_object_get(o, "qIsScriptCreated")));
	}
	qsort(list, k, sizeof(*list), by_type_then_title);
	json_t *out = json_array();
	for (size_t i = 0; i < k; i++)
		json_array_append_new(out, list[i]);
	free(list);
	json_decref(p);
	return out;
}

int repo_api_app_objects(struct qrs *q)
{
	struct app_file cur;
	int rc = repo_app_file_read_tx(q, q->id, &cur);
	char path[PATH_MAX];
	if (rc == 0 && share_app_path(q->repo->share, q->id, cur.gen, path, sizeof(path)) != 0)
		rc = err_set(&q->err, ERR_INTERNAL, "app %s names a bad generation", q->id);
	char *props = NULL;
	size_t len = 0;
	if (rc == 0 && share_held_off(q->repo->share, &q->err))
		rc = q->err.code;
	if (rc == 0)
		rc = data_appfile_read_props(path, &props, &len, &q->err);
	if (rc)
		return rc;
	repo_qrs_send_json(q, 200, objects_of(props, len));
	free(props);
	return 0;
}
