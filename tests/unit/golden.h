/* golden.h: what the golden-case runners share (the .case files of tests/golden/SURFACE): how an
 * expected JSON document matches an answer, and the case files of a folder in name order. */
#ifndef FATHOM_GOLDEN_H
#define FATHOM_GOLDEN_H

#include <dirent.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* `want` matches `got` when every key of a wanted object matches, arrays match element by
 * element with the same length, and scalars are equal (numbers by value); the string "*" matches
 * anything present, and a string starting with "~" matches a string containing the rest. */
static inline bool golden_subset(json_t *want, json_t *got)
{
	if (!got)
		return false;
	if (json_is_string(want)) {
		const char *w = json_string_value(want);
		if (strcmp(w, "*") == 0)
			return true;
		if (w[0] == '~')
			return json_is_string(got) && strstr(json_string_value(got), w + 1);
		return json_is_string(got) && strcmp(w, json_string_value(got)) == 0;
	}
	if (json_is_object(want)) {
		const char *k;
		json_t *v;
		json_object_foreach (want, k, v) {
			if (!golden_subset(v, json_object_get(got, k)))
				return false;
		}
		return json_is_object(got);
	}
	if (json_is_array(want)) {
		if (!json_is_array(got) || json_array_size(want) != json_array_size(got))
			return false;
		for (size_t i = 0; i < json_array_size(want); i++)
			if (!golden_subset(json_array_get(want, i), json_array_get(got, i)))
				return false;
		return true;
	}
	if (json_is_number(want) && json_is_number(got)) /* 6 matches 6.0 */
		return json_number_value(want) == json_number_value(got);
	return json_equal(want, got);
}

static inline int golden_cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the *.case files in `dir`, sorted; caller frees each and the array. */
static inline char **golden_cases(const char *dir, int *out_n)
{
	*out_n = 0;
	DIR *d = opendir(dir);
	if (!d)
		return NULL;
	char **names = NULL;
	int n = 0, cap = 0;
	for (struct dirent *de; (de = readdir(d));) {
		size_t l = strlen(de->d_name);
		if (l < 6 || strcmp(de->d_name + l - 5, ".case") != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **more = realloc(names, sizeof(char *) * (size_t)cap);
			if (!more)
				abort();
			names = more;
		}
		names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof(char *), golden_cmp_names);
	*out_n = n;
	return names;
}

#endif
