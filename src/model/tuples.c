/* tuples.c: tuples of int32 symbols mapped to group numbers in order of first appearance,
 * by open addressing (see tuples.h). */
#include "model/tuples.h"

#include "core/core.h"

#include <stdlib.h>
#include <string.h>

static uint64_t tuple_hash(const int32_t *k, int n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL;
	for (int i = 0; i < n; i++) {
		h ^= (uint32_t)k[i];
		h *= 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	return h;
}

int64_t model_tuples_find(const struct model_tuples *t, const int32_t *k)
{
	if (!t->n_slots)
		return -1;
	size_t mask = t->n_slots - 1;
	for (size_t i = tuple_hash(k, t->n) & mask; t->slots[i]; i = (i + 1) & mask) {
		int64_t g = t->slots[i] - 1;
		if (memcmp(&t->keys[g * t->n], k, sizeof(int32_t) * (size_t)t->n) == 0)
			return g;
	}
	return -1;
}

static int tuples_grow(struct model_tuples *t)
{
	size_t n = t->n_slots ? t->n_slots * 2 : 1024;
	int64_t *sl = calloc(n, sizeof(int64_t));
	if (!sl)
		return ERR_NOMEM;
	for (int64_t g = 0; g < t->n_groups; g++) {
		size_t i = tuple_hash(&t->keys[g * t->n], t->n) & (n - 1);
		while (sl[i])
			i = (i + 1) & (n - 1);
		sl[i] = g + 1;
	}
	free(t->slots);
	t->slots = sl;
	t->n_slots = n;
	return 0;
}

int64_t model_tuples_add(struct model_tuples *t, const int32_t *k)
{
	if ((size_t)(t->n_groups + 1) * 2 > t->n_slots && tuples_grow(t))
		return -1;
	size_t mask = t->n_slots - 1, i = tuple_hash(k, t->n) & mask;
	for (; t->slots[i]; i = (i + 1) & mask) {
		int64_t g = t->slots[i] - 1;
		if (memcmp(&t->keys[g * t->n], k, sizeof(int32_t) * (size_t)t->n) == 0)
			return g;
	}
	if (t->n_groups == t->cap_groups) {
		int64_t cap = t->cap_groups ? t->cap_groups * 2 : 256;
		int32_t *nk = realloc(t->keys, sizeof(int32_t) * (size_t)(cap * (t->n ? t->n : 1)));
		if (!nk)
			return -1;
		t->keys = nk;
		t->cap_groups = cap;
	}
	if (t->n)
		memcpy(&t->keys[t->n_groups * t->n], k, sizeof(int32_t) * (size_t)t->n);
	t->slots[i] = t->n_groups + 1;
	return t->n_groups++;
}

void model_tuples_free(struct model_tuples *t)
{
	free(t->keys);
	free(t->slots);
}
