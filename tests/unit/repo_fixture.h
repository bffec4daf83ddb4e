/* repo_fixture.h: a whole repository (SQLite, share, first rows) in a temporary folder,
 * answering in-process requests through the real HTTP handler. Shared by test_repo.c and
 * the fuzz target for the request path. */
#ifndef FATHOM_REPO_FIXTURE_H
#define FATHOM_REPO_FIXTURE_H

#include "ops/ops.h"
#include "repo/repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fixture {
	char dir[256];
	struct db *db;
	struct share *share;
	struct repo *repo;
	struct http_handler h;
};

static inline int fixture_open(struct fixture *f, const char *dir)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "%s", dir);
	char root[512], journal[512], dbp[512], apps[600], st[600], logs[600], cd[600];
	snprintf(root, sizeof(root), "%s/share", dir);
	snprintf(journal, sizeof(journal), "%s/pending", dir);
	snprintf(dbp, sizeof(dbp), "%s/repository.db", dir);
	snprintf(apps, sizeof(apps), "%s/Apps", root);
	snprintf(st, sizeof(st), "%s/StaticContent", root);
	snprintf(logs, sizeof(logs), "%s/ArchivedLogs", root);
	snprintf(cd, sizeof(cd), "%s/CustomData", root);
	struct share_paths sp = {root, apps, st, logs, cd};
	struct err e;
	err_init(&e);
	struct db_config dc = {
	    .kind = DB_SQLITE, .schema = ops_schema, .path = dbp, .pool_size = 2, .create = true};
	char node_id[UUID_STR_LEN + 1];
	struct repo_site_init init = {"node1", "localhost", &sp};
	if (share_layout_create(&sp, &e) || db_open(&dc, &f->db, &e) ||
	    repo_site_init(f->db, &init, node_id, &e) ||
	    share_open(&sp, node_id, journal, &f->share, &e)) {
		fprintf(stderr, "fixture: %s\n", e.message);
		return -1;
	}
	struct repo_config rc = {.db = f->db,
				 .share = f->share,
				 .node_id = node_id,
				 .version = "test",
				 .max_upload = 1 << 20,
				 .max_body = 1 << 16};
	if (repo_open(&rc, &f->repo, &e)) {
		fprintf(stderr, "fixture: %s\n", e.message);
		return -1;
	}
	f->h = repo_http_handler(f->repo);
	return 0;
}

static inline void fixture_close(struct fixture *f)
{
	repo_close(f->repo);
	share_close(f->share);
	db_close(f->db);
}

#endif
