/* qix_cache.c: computed cubes kept with the data they were computed on, so that every
 * session with the same selection is answered without computing them again: a new person
 * opening a sheet others have opened, a second chart asking for the grand total the first
 * one computed, a table's pages after its layout, a step back to a selection seen before.
 *
 * The states of a selection (every value's state, every table's possible rows: the
 * selection's propagation, the larger part of a click on a large app) are shared the same
 * way: a session keeps a reference to its states until its selection changes, and the
 * data keeps the last STATES_KEPT computed, so that a session making a selection another
 * made before finds them.
 *
 * The key is the SHA-256 of the session's selection (each selected field with its selected
 * symbols; kept per session until the selection changes) and of the cube's definition
 * (dimensions, measures, sorting, zero suppression). A definition whose measures use
 * dollar-sign expansion is not kept: `$(name)` reads variables, which change without a new
 * selection. Cubes are read-only once computed and shared by reference (model_cube_keep,
 * model_cube_free). The cache of one data generation holds at most CACHE_BYTES of cubes,
 * least recently used out first, and goes with its data: a reload makes new data with an
 * empty cache.
 *
 * Threads: each cache has its own mutex, taken only for a lookup or an insert (never
 * while computing, and never with another lock). Two sessions that miss the same key at
 * once both compute it; the second insert is dropped. */
#include "crypto/crypto.h"
#include "qix/qix_int.h"

#include <stdlib.h>
#include <string.h>

enum {
	CACHE_BYTES = 64 << 20, /* per data generation */
	CACHE_ENTRIES = 512,
	STATES_KEPT = 4, /* per data generation, beyond those sessions hold */
};

struct qix_states {
	int refs; /* under the data's cache_mu: the sessions' and the cache's */
	char key[65];
	uint64_t used;
	size_t bytes;
	struct assoc_states st;
};

struct entry {
	char key[65];
	struct cube *c;
	size_t bytes;
	uint64_t used; /* the cache's clock at the last hit */
};

struct qix_cube_cache {
	pthread_mutex_t mu;
	struct entry e[CACHE_ENTRIES];
	int n;
	size_t bytes; /* of the cubes */
	uint64_t clock;
	struct qix_states *states[STATES_KEPT];
	size_t states_bytes; /* of those in states[] */
};

/* What a cube takes: its cells, and about as much again for the texts its arena holds. */
static size_t cube_bytes(const struct cube *c)
{
	return (size_t)(c->n_rows * c->n_cols + 1) * sizeof(struct cube_cell) * 2 + 256;
}

/* The cache of `d`, made on first use; under cache_mu. */
static struct qix_cube_cache *cache_of(struct qix_data *d)
{
	if (!d->cache)
		d->cache = calloc(1, sizeof(*d->cache));
	return d->cache;
}

/* What the cache of `d` holds, for qix_cache_stats; under cache_mu. */
static void count_bytes(struct qix_data *d)
{
	const struct qix_cube_cache *c = d->cache;
	__atomic_store_n(&d->cache_bytes, c ? (int64_t)(c->bytes + c->states_bytes) : 0,
			 __ATOMIC_RELAXED);
}

/* A text with its length before it (NULL: an empty one, which ends a list). */
static bool put_text(struct buf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	return buf_append(b, &n, sizeof(n)) == 0 && (n == 0 || buf_append(b, s, n) == 0);
}

/* The session's selection as a fingerprint, kept until the selection changes. */
static void sel_key(struct qix_session *s, char out[65])
{
	if (!s->sel_key_ok) {
		struct crypto_sha256 *h = NULL;
		struct err e;
		err_init(&e);
		if (crypto_sha256_new(&h, &e) != 0)
			return;
		const struct assoc *a = s->data->a;
		for (int f = 0; f < s->sel.n_fields && f < a->n_fields; f++) {
			const bool *sel = s->sel.selected[f];
			if (!sel)
				continue;
			crypto_sha256_update(h, &f, sizeof(f));
			for (int64_t i = 0; i < a->fields[f].n_sym; i++)
				if (sel[i])
					crypto_sha256_update(h, &i, sizeof(i));
			int64_t end = -1;
			crypto_sha256_update(h, &end, sizeof(end));
		}
		crypto_sha256_finish(h, s->sel_key);
		s->sel_key_ok = true;
	}
	memcpy(out, s->sel_key, 65);
}

bool qix_cache_key(struct qix_session *s, const struct cube_def *def, char out[65])
{
	if (!s->data || !s->data->a)
		return false;
	for (int m = 0; m < def->n_measures; m++)
		if (strstr(def->measures[m], "$(") || qix_var_platform_used(def->measures[m]))
			return false; /* what they compute to differs by session */
	char sk[65];
	sel_key(s, sk);
	if (!s->sel_key_ok)
		return false;
	struct buf b;
	buf_init(&b, 1 << 20); /* a longer definition is computed every time */
	bool ok = put_text(&b, sk) && put_text(&b, NULL);
	for (int d = 0; ok && d < def->n_dims; d++)
		ok = put_text(&b, def->dims[d]);
	ok = ok && put_text(&b, NULL);
	for (int m = 0; ok && m < def->n_measures; m++)
		ok = put_text(&b, def->measures[m]);
	int cols = def->n_dims + def->n_measures;
	ok = ok && buf_append(&b, &def->suppress_zero, sizeof(def->suppress_zero)) == 0 &&
	     buf_append(&b, &cols, sizeof(cols)) == 0;
	for (int k = 0; ok && def->sort && k < cols; k++)
		ok = buf_append(&b, &def->sort[k], sizeof(def->sort[k])) == 0;
	int none = -1;
	ok = ok && buf_append(&b, &none, sizeof(none)) == 0;
	for (int k = 0; ok && def->order && k < cols; k++)
		ok = buf_append(&b, &def->order[k], sizeof(def->order[k])) == 0;
	if (ok)
		crypto_sha256_hex(b.data, b.len, out);
	buf_release(&b);
	return ok;
}

struct cube *qix_cache_get(struct qix_session *s, const char key[65])
{
	struct qix_data *d = s->data;
	__atomic_add_fetch(&s->q->cache_lookups, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&d->cache_mu);
	struct qix_cube_cache *c = d->cache;
	struct cube *found = NULL;
	for (int i = 0; c && i < c->n; i++)
		if (memcmp(c->e[i].key, key, 64) == 0) {
			c->e[i].used = ++c->clock;
			found = model_cube_keep(c->e[i].c);
			break;
		}
	pthread_mutex_unlock(&d->cache_mu);
	if (found)
		__atomic_add_fetch(&s->q->cache_hits, 1, __ATOMIC_RELAXED);
	return found;
}

void qix_cache_put(struct qix_session *s, const char key[65], struct cube *cube)
{
	struct qix_data *d = s->data;
	size_t bytes = cube_bytes(cube);
	if (bytes > CACHE_BYTES / 4)
		return; /* one cube would push out most of the others */
	struct cube *drop[CACHE_ENTRIES];
	int n_drop = 0;
	pthread_mutex_lock(&d->cache_mu);
	struct qix_cube_cache *c = cache_of(d);
	if (!c) {
		pthread_mutex_unlock(&d->cache_mu);
		return;
	}
	for (int i = 0; i < c->n; i++)
		if (memcmp(c->e[i].key, key, 64) == 0) {
			pthread_mutex_unlock(&d->cache_mu);
			return; /* another session computed it meanwhile */
		}
	while (c->n > 0 && (c->n == CACHE_ENTRIES || c->bytes + bytes > CACHE_BYTES)) {
		int old = 0;
		for (int i = 1; i < c->n; i++)
			if (c->e[i].used < c->e[old].used)
				old = i;
		drop[n_drop++] = c->e[old].c;
		c->bytes -= c->e[old].bytes;
		c->e[old] = c->e[--c->n];
	}
	struct entry *e = &c->e[c->n++];
	memcpy(e->key, key, 65);
	e->c = model_cube_keep(cube);
	e->bytes = bytes;
	e->used = ++c->clock;
	c->bytes += bytes;
	count_bytes(d);
	pthread_mutex_unlock(&d->cache_mu);
	for (int i = 0; i < n_drop; i++)
		model_cube_free(drop[i]);
}

static void states_free(struct qix_data *d, struct qix_states *st)
{
	model_assoc_states_release(d->a, &st->st);
	free(st);
}

/* Drops a reference under cache_mu; the states to free after unlocking, or NULL. */
static struct qix_states *states_unref(struct qix_states *st)
{
	return st && --st->refs == 0 ? st : NULL;
}

static size_t states_bytes(const struct assoc *a)
{
	size_t n = 64;
	for (int t = 0; t < a->n_tables; t++)
		n += (size_t)a->tables[t].n_rows;
	for (int f = 0; f < a->n_fields; f++)
		n += (size_t)a->fields[f].n_sym;
	return n;
}

int qix_cache_states(struct qix_session *s, const struct assoc_states **out, struct err *e)
{
	struct qix_data *d = s->data;
	if (s->st) {
		*out = &s->st->st;
		return 0;
	}
	char key[65];
	sel_key(s, key);
	bool keyed = s->sel_key_ok;
	pthread_mutex_lock(&d->cache_mu);
	struct qix_cube_cache *c = keyed ? d->cache : NULL;
	for (int i = 0; c && i < STATES_KEPT; i++)
		if (c->states[i] && memcmp(c->states[i]->key, key, 64) == 0) {
			s->st = c->states[i];
			s->st->refs++;
			s->st->used = ++c->clock;
			break;
		}
	pthread_mutex_unlock(&d->cache_mu);
	if (s->st) {
		*out = &s->st->st;
		return 0;
	}
	struct qix_states *n = calloc(1, sizeof(*n));
	if (!n)
		return err_set(e, ERR_NOMEM, "out of memory");
	int rc = model_assoc_compute(d->a, &s->sel, &n->st, e);
	if (rc) {
		free(n);
		return rc;
	}
	n->refs = 1;
	n->bytes = states_bytes(d->a);
	s->st = n;
	*out = &n->st;
	if (!keyed)
		return 0;
	memcpy(n->key, key, 65);
	struct qix_states *gone = NULL;
	pthread_mutex_lock(&d->cache_mu);
	if ((c = cache_of(d)) != NULL) {
		int slot = 0; /* an empty one, else the least recently used */
		for (int i = 0; i < STATES_KEPT && c->states[slot]; i++)
			if (!c->states[i] || c->states[i]->used < c->states[slot]->used)
				slot = i;
		if (c->states[slot])
			c->states_bytes -= c->states[slot]->bytes;
		gone = states_unref(c->states[slot]);
		c->states[slot] = n;
		n->refs++;
		n->used = ++c->clock;
		c->states_bytes += n->bytes;
		count_bytes(d);
	}
	pthread_mutex_unlock(&d->cache_mu);
	if (gone)
		states_free(d, gone);
	return 0;
}

void qix_cache_states_drop(struct qix_session *s)
{
	if (!s->st)
		return;
	struct qix_data *d = s->data;
	pthread_mutex_lock(&d->cache_mu);
	struct qix_states *gone = states_unref(s->st);
	pthread_mutex_unlock(&d->cache_mu);
	s->st = NULL;
	if (gone)
		states_free(d, gone);
}

void qix_cache_free(struct qix_data *d)
{
	struct qix_cube_cache *c = d->cache;
	for (int i = 0; c && i < c->n; i++)
		model_cube_free(c->e[i].c);
	for (int i = 0; c && i < STATES_KEPT; i++) {
		struct qix_states *st = states_unref(c->states[i]);
		if (st)
			states_free(d, st);
	}
	free(c);
	d->cache = NULL;
}
