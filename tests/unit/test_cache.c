/* test_cache.c: the repository's answer cache (repo/cache.c): what a change invalidates,
 * the epoch check that keeps a slow reader from storing a replaced value, and eviction
 * under its memory limit. The change-log follower is tested with real nodes in
 * tests/integration/outage.bats. */
#include "unit.h"

#include "repo/repo_int.h"

static int type(const char *name)
{
	const struct entity_desc *d = repo_entity_find(name);
	for (int i = 0; i < repo_n_entities; i++)
		if (repo_entities[i] == d)
			return i;
	fail_msg("no entity type %s", name);
	return -1;
}

static bool has(struct cache *c, const char *key, const char *want)
{
	char *body;
	size_t len;
	int64_t age;
	if (repo_cache_get(c, key, &body, &len, &age) != 0)
		return false;
	bool same = len == strlen(want) && memcmp(body, want, len) == 0;
	free(body);
	assert_true(same);
	return true;
}

static void put(struct cache *c, const char *name, const char *key, const char *body)
{
	int t = type(name);
	repo_cache_put(c, t, key, body, strlen(body), repo_cache_epoch(c, t));
}

static void invalidation_follows_what_an_answer_shows(void **state)
{
	(void)state;
	struct cache *c = repo_cache_new(1 << 20);
	assert_non_null(c);
	put(c, "app", "/qrs/app/full", "[app]");
	put(c, "tag", "/qrs/tag/full", "[tag]");
	put(c, "stream", "/qrs/stream/full", "[stream]");
	put(c, "servicecluster", "/qrs/servicecluster/full", "[cluster]");
	assert_true(has(c, "/qrs/app/full", "[app]"));
	assert_false(has(c, "/qrs/app/count", "x"));

	/* A stream change drops streams and apps (an app shows its stream), not tags. */
	repo_cache_invalidate(c, "Stream");
	assert_false(has(c, "/qrs/stream/full", "[stream]"));
	assert_false(has(c, "/qrs/app/full", "[app]"));
	assert_true(has(c, "/qrs/tag/full", "[tag]"));

	/* A tag change drops everything that shows tags; the cluster shows none. */
	put(c, "app", "/qrs/app/full", "[app2]");
	repo_cache_invalidate(c, "Tag");
	assert_false(has(c, "/qrs/tag/full", "[tag]"));
	assert_false(has(c, "/qrs/app/full", "[app2]"));
	assert_true(has(c, "/qrs/servicecluster/full", "[cluster]"));

	/* An unknown type could be shown anywhere: everything goes. */
	repo_cache_invalidate(c, "SomethingNew");
	assert_false(has(c, "/qrs/servicecluster/full", "[cluster]"));
	repo_cache_free(c);
}

static void a_read_older_than_a_change_is_not_stored(void **state)
{
	(void)state;
	struct cache *c = repo_cache_new(1 << 20);
	assert_non_null(c);
	int app = type("app"), tag = type("tag");
	uint64_t app_before = repo_cache_epoch(c, app), tag_before = repo_cache_epoch(c, tag);
	repo_cache_invalidate(c, "User"); /* arrives while both reads are under way */
	repo_cache_put(c, app, "/qrs/app", "[old]", 5, app_before);
	repo_cache_put(c, tag, "/qrs/tag", "[tag]", 5, tag_before);
	assert_false(has(c, "/qrs/app", "[old]")); /* an app shows its owner */
	assert_true(has(c, "/qrs/tag", "[tag]"));  /* a tag does not */
	/* Storing again replaces. */
	put(c, "tag", "/qrs/tag", "[tag2]");
	assert_true(has(c, "/qrs/tag", "[tag2]"));
	repo_cache_free(c);
}

static void eviction_keeps_within_the_limit(void **state)
{
	(void)state;
	struct cache *c = repo_cache_new(64 << 10);
	assert_non_null(c);
	char body[1000], key[32];
	memset(body, 'x', sizeof(body) - 1);
	body[sizeof(body) - 1] = '\0';
	for (int i = 0; i < 500; i++) {
		snprintf(key, sizeof(key), "/qrs/tag/%d", i);
		put(c, "tag", key, body);
	}
	struct cache_stats st;
	repo_cache_stats(c, &st);
	assert_true(st.bytes <= 64 << 10);
	assert_true(st.bytes > 32 << 10);
	assert_true(has(c, "/qrs/tag/499", body)); /* the newest stay */
	assert_false(has(c, "/qrs/tag/0", body));  /* the oldest went */
	/* One answer larger than an eighth of the cache is not kept at all. */
	char *big = malloc(16 << 10);
	memset(big, 'y', (16 << 10) - 1);
	big[(16 << 10) - 1] = '\0';
	put(c, "tag", "/qrs/tag/big", big);
	assert_false(has(c, "/qrs/tag/big", big));
	free(big);
	repo_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(invalidation_follows_what_an_answer_shows),
	    cmocka_unit_test(a_read_older_than_a_change_is_not_stored),
	    cmocka_unit_test(eviction_keeps_within_the_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
