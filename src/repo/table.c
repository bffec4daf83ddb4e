/* table.c: POST /qrs/{type}/table, one page of a list as rows of chosen columns (qrs.md
 * section 2.7), the way Qlik's management console pages through long lists:
 *
 *   POST /qrs/app/table?filter=...&skip=0&take=50&sortColumn=name&orderAscending=true
 *   {"entity": "App", "columns": [{"name": "id", "columnType": "Property",
 *                                  "definition": "id"},
 *                                 {"name": "stream", "columnType": "Property",
 *                                  "definition": "stream.name"},
 *                                 {"name": "may", "columnType": "Privileges",
 *                                  "definition": "privileges"}]}
 *   -> 201 {"id": ..., "schemaPath": "Table", "columnNames": ["id", "stream", "may"],
 *           "rows": [["...", "Finance", ["read", "update"]], ...], "totalCount": 1234}
 *
 * A Property column is a dotted path into the full form of each entity (a missing step
 * gives null); a Privileges column lists what the caller may do with the row's entity.
 * `totalCount` (Fathom's, beside Qlik's fields) is how many rows the filter selects that
 * the caller may read, so a page needs no second request for its count. Function and
 * List columns are refused by name. */
#include "repo/repo_int.h"

#include <stdlib.h>
#include <string.h>

enum { MAX_COLUMNS = 64, MAX_TAKE = 10000 };

struct column {
	const char *name, *definition;
	bool privileges;
};

/* columnType as Qlik sends it: a number or its name. */
static int column_type(json_t *v)
{
	if (json_is_integer(v))
		return (int)json_integer_value(v);
	const char *s = json_string_value(v);
	if (!s)
		return -1;
	static const char *const names[] = {"Undefined", "Property", "Function", "List",
					    "Privileges"};
	for (int i = 0; i < (int)ARRAY_LEN(names); i++)
		if (str_ieq(s, names[i]))
			return i;
	return -1;
}

static int parse_columns(struct qrs *q, json_t *body, struct column *cols, int *n)
{
	if (!json_is_object(body))
		return err_set(&q->err, ERR_FIELD, "the body must be a table definition object");
	const char *entity = json_string_value(json_object_get(body, "entity"));
	if (!entity)
		entity = json_string_value(json_object_get(body, "type"));
	if (entity && !str_ieq(entity, q->desc->schema))
		return err_set(&q->err, ERR_FIELD, "entity is \"%s\", but the address names %s",
			       entity, q->desc->schema);
	json_t *arr = json_object_get(body, "columns");
	size_t count = json_array_size(arr);
	if (!json_is_array(arr) || count == 0 || count > MAX_COLUMNS)
		return err_set(&q->err, ERR_FIELD, "columns must list 1 to %d columns",
			       MAX_COLUMNS);
	for (size_t i = 0; i < count; i++) {
		json_t *c = json_array_get(arr, i);
		const char *name = json_string_value(json_object_get(c, "name"));
		const char *def = json_string_value(json_object_get(c, "definition"));
		int type = column_type(json_object_get(c, "columnType"));
		if (!name || !*name || strchr(name, ' '))
			return err_set(&q->err, ERR_FIELD,
				       "column %zu: name must be a text without spaces", i + 1);
		if (type == 1 && (!def || !*def))
			return err_set(&q->err, ERR_FIELD,
				       "column %s: a Property column needs a definition (a "
				       "property path such as \"stream.name\")",
				       name);
		if (type != 1 && type != 4)
			return err_set(&q->err, ERR_FIELD,
				       "column %s: columnType must be Property or Privileges "
				       "(Function and List columns are not supported)",
				       name);
		cols[i] = (struct column){name, def, type == 4};
	}
	*n = (int)count;
	return 0;
}

/* The value at a dotted path of a full entity, or NULL. */
static json_t *at_path(json_t *o, const char *path)
{
	char step[128];
	while (o && *path) {
		size_t n = strcspn(path, ".");
		if (n >= sizeof(step))
			return NULL;
		memcpy(step, path, n);
		step[n] = 0;
		json_t *next = json_object_get(o, step);
		if (!next) { /* property names are matched without case, as in filters */
			const char *k;
			json_t *v;
			json_object_foreach (o, k, v)
				if (str_ieq(k, step)) {
					next = v;
					break;
				}
		}
		o = next;
		path += n + (path[n] == '.');
	}
	return o;
}

static int privileges(struct qrs *q, struct db_conn *c, json_t *entity, json_t **out)
{
	static const struct {
		int64_t action;
		const char *word;
	} acts[] = {{ACT_CREATE, "create"}, {ACT_READ, "read"},	    {ACT_UPDATE, "update"},
		    {ACT_DELETE, "delete"}, {ACT_EXPORT, "export"}, {ACT_PUBLISH, "publish"}};
	json_t *list = json_array();
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < ARRAY_LEN(acts); i++) {
		bool ok = false;
		rc = repo_access_may(q, c, q->desc->schema, entity, acts[i].action, &ok);
		if (rc == 0 && ok)
			json_array_append_new(list, json_string(acts[i].word));
	}
	if (rc) {
		json_decref(list);
		return rc;
	}
	*out = list;
	return 0;
}

/* A query parameter that must be a whole number in [lo, hi] when given. */
static int query_int(struct qrs *q, const char *key, int64_t dflt, int64_t lo, int64_t hi,
		     int64_t *out)
{
	const char *s = http_req_query(q->req, key);
	*out = dflt;
	if (!s || !*s)
		return 0;
	if (str_to_i64(s, lo, hi, out) != 0) {
		*out = dflt;
		return err_set(&q->err, ERR_INVALID, "%s must be a whole number from %lld to %lld",
			       key, (long long)lo, (long long)hi);
	}
	return 0;
}

int repo_api_table(struct qrs *q)
{
	json_t *body = NULL;
	struct column cols[MAX_COLUMNS];
	int ncols = 0;
	int64_t skip, take;
	int rc = repo_qrs_body_json(q, &body);
	if (rc == 0)
		rc = parse_columns(q, body, cols, &ncols);
	if (rc == 0)
		rc = query_int(q, "skip", 0, 0, INT32_MAX, &skip);
	if (rc == 0)
		rc = query_int(q, "take", MAX_TAKE, 1, MAX_TAKE, &take);
	const char *orderby = NULL;
	const char *sort = http_req_query(q->req, "sortColumn");
	if (rc == 0 && sort && *sort) {
		const char *def = NULL;
		for (int i = 0; i < ncols && !def; i++)
			if (str_ieq(cols[i].name, sort) && !cols[i].privileges)
				def = cols[i].definition;
		if (!def)
			rc = err_set(&q->err, ERR_INVALID,
				     "sortColumn \"%s\" is not a Property column of the table",
				     sort);
		else
			orderby = arena_printf(q->a, "%s %s", def,
					       repo_qrs_query_true(q, "orderAscending") ||
						       !http_req_query(q->req, "orderAscending")
						   ? "asc"
						   : "desc");
	}
	if (rc) {
		json_decref(body);
		return rc;
	}
	struct db_conn *c;
	if ((rc = repo_qrs_begin(q, &c, false)) != 0) {
		json_decref(body);
		return rc;
	}
	/* Someone who may read every row (an administrator, a service) gets the window from
	 * the database; anyone else's rows are filtered by the rules one by one first. */
	bool everything = false;
	rc = repo_access_reads_all(q, c, q->desc, &everything);
	json_t *all = NULL;
	int64_t total = 0, from = skip;
	const char *filter = http_req_query(q->req, "filter");
	if (rc == 0 && everything) {
		struct repo_window w = {skip, take};
		rc = repo_crud_page(q, c, q->desc, filter, orderby, &w, &all, &total);
		from = 0;
	} else if (rc == 0) {
		rc = repo_crud_list(q, c, q->desc, filter, orderby, VIEW_FULL, &all);
		if (rc == 0)
			rc = repo_access_filter(q, c, q->desc, all);
		total = (int64_t)json_array_size(all);
	}
	json_t *rows = json_array();
	size_t have = json_array_size(all);
	for (size_t i = (size_t)from; rc == 0 && i < have && i < (size_t)(from + take); i++) {
		json_t *entity = json_array_get(all, i);
		json_t *row = json_array();
		for (int k = 0; rc == 0 && k < ncols; k++) {
			json_t *v = NULL;
			if (cols[k].privileges)
				rc = privileges(q, c, entity, &v);
			else
				v = json_incref(at_path(entity, cols[k].definition));
			json_array_append_new(row, v ? v : json_null());
		}
		json_array_append_new(rows, row);
	}
	rc = repo_qrs_end(q, c, rc);
	json_decref(all);
	json_t *out = NULL;
	if (rc == 0) {
		char id[UUID_STR_LEN + 1];
		uuid_new(id);
		json_t *names = json_array();
		for (int k = 0; k < ncols; k++)
			json_array_append_new(names, json_string(cols[k].name));
		out =
		    json_pack("{s:s,s:s,s:o,s:O,s:I}", "id", id, "schemaPath", "Table",
			      "columnNames", names, "rows", rows, "totalCount", (json_int_t)total);
	}
	json_decref(rows);
	json_decref(body);
	return repo_qrs_reply(q, rc, 201, out);
}
