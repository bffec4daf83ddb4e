/* conf.c: node.conf, an INI file read with inih and written back in a stable order. */
#include "core.h"

#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct conf_entry {
	char *key; /* "section.key" */
	char *value;
};

struct conf {
	struct conf_entry *v;
	size_t n, cap;
};

struct conf *conf_new(void)
{
	struct conf *c = calloc(1, sizeof(*c));
	if (!c)
		abort();
	return c;
}

void conf_free(struct conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].key);
		free(c->v[i].value);
	}
	free(c->v);
	free(c);
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		abort();
	return p;
}

void conf_set(struct conf *c, const char *key, const char *value)
{
	for (size_t i = 0; i < c->n; i++) {
		if (strcmp(c->v[i].key, key) == 0) {
			free(c->v[i].value);
			c->v[i].value = xstrdup(value);
			return;
		}
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct conf_entry *nv = realloc(c->v, cap * sizeof(*nv));
		if (!nv)
			abort();
		c->v = nv;
		c->cap = cap;
	}
	c->v[c->n].key = xstrdup(key);
	c->v[c->n].value = xstrdup(value);
	c->n++;
}

void conf_unset(struct conf *c, const char *key)
{
	for (size_t i = 0; i < c->n; i++) {
		if (strcmp(c->v[i].key, key) == 0) {
			free(c->v[i].key);
			free(c->v[i].value);
			memmove(&c->v[i], &c->v[i + 1], (c->n - i - 1) * sizeof(c->v[0]));
			c->n--;
			return;
		}
	}
}

const char *conf_get(const struct conf *c, const char *key, const char *dflt)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->v[i].key, key) == 0)
			return c->v[i].value;
	return dflt;
}

int conf_get_int(const struct conf *c, const char *key, int64_t dflt, int64_t min, int64_t max,
		 int64_t *out, struct err *e)
{
	const char *s = conf_get(c, key, NULL);
	if (!s) {
		*out = dflt;
		return 0;
	}
	if (str_to_i64(s, min, max, out) != 0)
		return err_set(
		    e, ERR_CONFIG,
		    "node.conf: \"%s\" must be a whole number from %lld to %lld, not \"%s\"", key,
		    (long long)min, (long long)max, s);
	return 0;
}

static int on_entry(void *user, const char *section, const char *name, const char *value)
{
	char key[256];
	snprintf(key, sizeof(key), "%s.%s", section, name);
	conf_set(user, key, value);
	return 1;
}

int conf_load(const char *path, struct conf **out, struct err *e)
{
	*out = NULL;
	FILE *f = fopen(path, "re");
	if (!f)
		return err_set(e, ERR_IO, "cannot read node configuration \"%s\": %m", path);
	struct conf *c = conf_new();
	int line = ini_parse_file(f, on_entry, c);
	fclose(f);
	if (line != 0) {
		conf_free(c);
		return err_set(e, ERR_CONFIG,
			       "node configuration \"%s\" has a syntax error on line %d", path,
			       line);
	}
	*out = c;
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct conf_entry *)a)->key, ((const struct conf_entry *)b)->key);
}

int conf_save(const struct conf *c, const char *path, struct err *e)
{
	struct conf_entry *sorted = malloc((c->n ? c->n : 1) * sizeof(*sorted));
	if (!sorted)
		return err_set(e, ERR_NOMEM, "out of memory");
	memcpy(sorted, c->v, c->n * sizeof(*sorted));
	qsort(sorted, c->n, sizeof(*sorted), cmp_entry);
	struct buf b;
	buf_init(&b, 1 << 20);
	int rc = buf_puts(&b, "# Fathom node configuration. Edit with care; see docs/admin.md.\n");
	char section[128] = "";
	for (size_t i = 0; i < c->n && rc == 0; i++) {
		const char *dot = strchr(sorted[i].key, '.');
		size_t slen = dot ? (size_t)(dot - sorted[i].key) : 0;
		if (slen >= sizeof(section))
			slen = sizeof(section) - 1;
		if (strlen(section) != slen || strncmp(section, sorted[i].key, slen) != 0) {
			memcpy(section, sorted[i].key, slen);
			section[slen] = '\0';
			rc = buf_printf(&b, "\n[%s]\n", section);
		}
		if (rc == 0)
			rc = buf_printf(&b, "%s = %s\n", dot ? dot + 1 : sorted[i].key,
					sorted[i].value);
	}
	free(sorted);
	if (rc == 0)
		rc = file_write_atomic(path, b.data, b.len, 0640, e);
	else
		err_set(e, rc, "node configuration too large");
	buf_release(&b);
	return rc;
}
