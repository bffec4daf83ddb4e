/* tuples.h: groups of a hypercube or a TOTAL by their dimension symbols (cube.c's). */
#ifndef FATHOM_MODEL_TUPLES_H
#define FATHOM_MODEL_TUPLES_H

#include <stddef.h>
#include <stdint.h>

/* Groups by their dimension symbols: tuples of n int32 mapped to group numbers in order of
 * first appearance (open addressing over the tuples). */
struct model_tuples {
	int n;
	int32_t *keys; /* n per group */
	int64_t n_groups, cap_groups;
	int64_t *slots; /* group + 1 */
	size_t n_slots;
};

/* The group of tuple k (t->n symbols); -1 when there is none. */
int64_t model_tuples_find(const struct model_tuples *t, const int32_t *k);
/* The group of tuple k, added when new; -1 when out of memory. */
int64_t model_tuples_add(struct model_tuples *t, const int32_t *k);
void model_tuples_free(struct model_tuples *t);

#endif
