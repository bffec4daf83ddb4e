/* cache.c: the node's cache of repository read responses, and the threads that keep every
 * node's cache in step with the change log.
 *
 * What it is for: while the repository database is unreachable, a GET that this node
 * answered before is answered again from here (marked stale), instead of 503. While the
 * database answers, every read goes to it, so no node ever serves a value older than an
 * acknowledged write; the cache only records the answers.
 *
 * How it stays true: a node that commits a change drops its own entries at once and queues
 * the change-log rows for its announcer thread, which tells the other nodes with one NOTIFY
 * per batch ("seq Type;seq Type;..."). Each node's follower thread listens on its own
 * connection and drops every entry of a changed type and of the types that show it (an app
 * shows its stream, owner, tags and custom properties). Notifications are not sent from a
 * trigger in the writing transaction: PostgreSQL serialises the commits of notifying
 * transactions, which cost a third of the write throughput (docs/benchmarks.md). So that
 * nothing is missed (a node that died between its commit and its announcement, a dropped
 * listening connection), the follower also reads the change log: every 30 seconds or so while
 * it listens, every second while it cannot, and once whenever it starts listening again; it
 * reads from a little before its high-water mark, to cover transactions that committed out
 * of sequence order, and applies each row once. An answer read before an invalidation of
 * its type is never stored after it (the epoch check), so a slow reader cannot put back a
 * value a change replaced. */
#include "repo/repo_int.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define N_BUCKETS	   4096
#define MAX_TYPES	   32
#define SEEN_RING	   4096	 /* change-log rows remembered, to apply each once */
#define POLL_MS		   1000	 /* poll interval while the listening connection is down */
#define POLL_LIMIT	   10000 /* rows read per poll; more means "drop everything" */
#define LISTEN_WAIT_MS	   250	 /* how often the follower looks at its stop flag */
#define SAFETY_POLL_MS	   30000 /* poll interval while listening (±20 %): lost notifications */
#define ANNOUNCE_MAX	   7000	 /* bytes of one notification payload (PostgreSQL: under 8000) */
#define CATCH_UP_BACK	   256	 /* rows read again below the high-water mark (late commits) */
#define ANNOUNCE_GATHER_MS 50	 /* how long the announcer lets a batch gather */

struct entry {
	struct entry *hnext;	     /* hash chain */
	struct entry *prev, *next;   /* least recently used order, newest first */
	struct entry *tprev, *tnext; /* entries of the same type */
	int type;
	uint64_t hash;
	char *key;
	char *body;
	size_t len;
	int64_t stored_ms;
};

struct cache {
	pthread_mutex_t lock;
	size_t max_bytes, bytes;
	struct entry *buckets[N_BUCKETS];
	struct entry *lru_head, *lru_tail;
	struct entry *by_type[MAX_TYPES];
	uint32_t shows[MAX_TYPES]; /* shows[t]: bit c set when entries of t show type c */
	uint64_t epoch[MAX_TYPES]; /* bumped by every invalidation of the type's entries */
	uint64_t hits, stores, invalidations;

	/* the follower */
	struct db *db;
	pthread_t thread;
	bool running;
	atomic_bool stop;
	int64_t hwm;		 /* highest change-log seq applied */
	int64_t seen[SEEN_RING]; /* seen[s % SEEN_RING] == s: row s was applied */
	bool listening;

	/* the announcer: rows this node committed, sent as one notification per batch */
	pthread_t announcer;
	bool announcing;
	pthread_cond_t wake;
	struct buf pending; /* "seq Type;" entries, under lock */
	bool overflow;	    /* more than one payload's worth: send "*" (drop everything) */
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static int type_index(const char *name)
{
	const struct entity_desc *d = repo_entity_find(name);
	for (int i = 0; d && i < repo_n_entities && i < MAX_TYPES; i++)
		if (repo_entities[i] == d)
			return i;
	return -1;
}

struct cache *repo_cache_new(size_t max_bytes)
{
	struct cache *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->wake, NULL);
	buf_init(&c->pending, ANNOUNCE_MAX);
	c->max_bytes = max_bytes;
	for (int t = 0; t < repo_n_entities && t < MAX_TYPES; t++) {
		const struct entity_desc *d = repo_entities[t];
		c->shows[t] |= 1u << t;
		for (int k = 0; k < d->n_fields; k++) {
			int r = d->fields[k].type == FT_REF ? type_index(d->fields[k].ref) : -1;
			if (r >= 0)
				c->shows[t] |= 1u << r;
		}
		int tag = type_index("tag"), cpd = type_index("custompropertydefinition");
		if ((d->flags & E_TAGS) && tag >= 0)
			c->shows[t] |= 1u << tag;
		if ((d->flags & E_CUSTOM_PROPS) && cpd >= 0)
			c->shows[t] |= 1u << cpd;
	}
	return c;
}

static void unlink_entry(struct cache *c, struct entry *x)
{
	struct entry **pp = &c->buckets[x->hash % N_BUCKETS];
	while (*pp != x)
		pp = &(*pp)->hnext;
	*pp = x->hnext;
	if (x->prev)
		x->prev->next = x->next;
	else
		c->lru_head = x->next;
	if (x->next)
		x->next->prev = x->prev;
	else
		c->lru_tail = x->prev;
	if (x->tprev)
		x->tprev->tnext = x->tnext;
	else
		c->by_type[x->type] = x->tnext;
	if (x->tnext)
		x->tnext->tprev = x->tprev;
	c->bytes -= x->len + strlen(x->key) + sizeof(*x);
	free(x->key);
	free(x->body);
	free(x);
}

static struct entry *find(struct cache *c, const char *key, uint64_t h)
{
	for (struct entry *x = c->buckets[h % N_BUCKETS]; x; x = x->hnext)
		if (x->hash == h && strcmp(x->key, key) == 0)
			return x;
	return NULL;
}

uint64_t repo_cache_epoch(struct cache *c, int type)
{
	if (type < 0 || type >= MAX_TYPES)
		return 0;
	pthread_mutex_lock(&c->lock);
	uint64_t e = c->epoch[type];
	pthread_mutex_unlock(&c->lock);
	return e;
}

void repo_cache_put(struct cache *c, int type, const char *key, const char *body, size_t len,
		    uint64_t epoch)
{
	if (type < 0 || type >= MAX_TYPES)
		return;
	size_t need = len + strlen(key) + sizeof(struct entry);
	if (need > c->max_bytes / 8)
		return; /* one answer may not push out most of the others */
	struct entry *x = calloc(1, sizeof(*x));
	char *k = x ? strdup(key) : NULL;
	char *b = k ? malloc(len ? len : 1) : NULL;
	if (!b) {
		free(k);
		free(x);
		return;
	}
	memcpy(b, body, len);
	x->key = k;
	x->body = b;
	x->len = len;
	x->type = type;
	x->hash = hash_str(key);
	x->stored_ms = time_mono_ms();
	pthread_mutex_lock(&c->lock);
	if (epoch != c->epoch[type]) {
		/* A change arrived while this answer was being read: it may be stale. */
		pthread_mutex_unlock(&c->lock);
		free(k);
		free(b);
		free(x);
		return;
	}
	struct entry *old = find(c, key, x->hash);
	if (old)
		unlink_entry(c, old);
	while (c->lru_tail && c->bytes + need > c->max_bytes)
		unlink_entry(c, c->lru_tail);
	x->hnext = c->buckets[x->hash % N_BUCKETS];
	c->buckets[x->hash % N_BUCKETS] = x;
	x->next = c->lru_head;
	if (c->lru_head)
		c->lru_head->prev = x;
	c->lru_head = x;
	if (!c->lru_tail)
		c->lru_tail = x;
	x->tnext = c->by_type[type];
	if (x->tnext)
		x->tnext->tprev = x;
	c->by_type[type] = x;
	c->bytes += need;
	c->stores++;
	pthread_mutex_unlock(&c->lock);
}

int repo_cache_get(struct cache *c, const char *key, char **out_body, size_t *out_len,
		   int64_t *out_age_ms)
{
	*out_body = NULL;
	*out_len = 0;
	uint64_t h = hash_str(key);
	pthread_mutex_lock(&c->lock);
	struct entry *x = find(c, key, h);
	char *b = x ? malloc(x->len ? x->len : 1) : NULL;
	if (b) {
		memcpy(b, x->body, x->len);
		*out_len = x->len;
		*out_age_ms = time_mono_ms() - x->stored_ms;
		c->hits++;
	}
	pthread_mutex_unlock(&c->lock);
	*out_body = b;
	return b ? 0 : ERR_NOT_FOUND;
}

static void invalidate_locked(struct cache *c, int changed)
{
	c->invalidations++;
	for (int t = 0; t < MAX_TYPES; t++) {
		if (changed >= 0 && !(c->shows[t] & (1u << changed)))
			continue;
		c->epoch[t]++;
		while (c->by_type[t])
			unlink_entry(c, c->by_type[t]);
	}
}

void repo_cache_invalidate(struct cache *c, const char *object_type)
{
	/* An object type this binary does not know could be shown anywhere: drop all. */
	int t = object_type ? type_index(object_type) : -1;
	pthread_mutex_lock(&c->lock);
	invalidate_locked(c, t);
	pthread_mutex_unlock(&c->lock);
}

void repo_cache_stats(struct cache *c, struct cache_stats *out)
{
	pthread_mutex_lock(&c->lock);
	out->bytes = c->bytes;
	out->hits = c->hits;
	out->stores = c->stores;
	out->invalidations = c->invalidations;
	out->listening = c->listening;
	out->hwm = c->hwm;
	pthread_mutex_unlock(&c->lock);
}

/* ---------------------------------------------------------------- the follower */

/* Applies change-log row `seq` once; false when it was applied before. */
static bool apply(struct cache *c, int64_t seq, const char *type)
{
	pthread_mutex_lock(&c->lock);
	if (seq > 0 && seq > c->hwm - SEEN_RING && c->seen[seq % SEEN_RING] == seq) {
		pthread_mutex_unlock(&c->lock);
		return false;
	}
	if (seq > 0 && seq > c->hwm - SEEN_RING)
		c->seen[seq % SEEN_RING] = seq;
	if (seq > c->hwm)
		c->hwm = seq;
	invalidate_locked(c, type ? type_index(type) : -1);
	pthread_mutex_unlock(&c->lock);
	db_changes_publish(type ? type : "*");
	return true;
}

/* Applies one notification: "seq Type;seq Type;..." entries, or "*" (anything may have
 * changed). An entry that does not parse counts as "*". */
static void on_notify(void *ctx, const char *payload)
{
	struct cache *c = ctx;
	const char *p = payload;
	while (*p) {
		const char *end = strchr(p, ';');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char entry[96], *sp;
		int64_t seq = 0;
		if (n == 0 || n >= sizeof(entry)) {
			(void)apply(c, 0, NULL);
		} else {
			memcpy(entry, p, n);
			entry[n] = '\0';
			sp = strchr(entry, ' ');
			if (sp)
				*sp = '\0';
			/* seq 0: a change announced without a change-log row (queued work,
			 * the central role moved: db.h) */
			if (!sp || str_to_i64(entry, 0, INT64_MAX, &seq) != 0 || !sp[1])
				(void)apply(c, 0, NULL);
			else
				(void)apply(c, seq, sp + 1);
		}
		p = end ? end + 1 : p + n;
	}
}

void repo_cache_announce(struct cache *c, int64_t seq, const char *type)
{
	pthread_mutex_lock(&c->lock);
	/* This node's own rows count as applied (repo_qrs_end dropped their entries already). */
	if (seq > c->hwm - SEEN_RING)
		c->seen[seq % SEEN_RING] = seq;
	if (seq > c->hwm)
		c->hwm = seq;
	if (c->announcing && !c->overflow &&
	    buf_printf(&c->pending, "%lld %s;", (long long)seq, type) != 0)
		c->overflow = true;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
}

/* Sends what was queued, one notification per batch, from a pooled connection. The commit
 * does not wait for the disk: a lost notification costs only a later poll. */
static void *announce(void *arg)
{
	struct cache *c = arg;
	int64_t last_sent = 0;
	pthread_mutex_lock(&c->lock);
	while (!atomic_load(&c->stop)) {
		if (c->pending.len == 0 && !c->overflow) {
			pthread_cond_wait(&c->wake, &c->lock);
			continue;
		}
		/* At most one notification per ANNOUNCE_GATHER_MS: the first change after a quiet
		 * spell goes at once, changes during a busy spell gather into batches. */
		int64_t wait = last_sent + ANNOUNCE_GATHER_MS - time_mono_ms();
		if (wait > 0) {
			pthread_mutex_unlock(&c->lock);
			sleep_ms(wait);
			pthread_mutex_lock(&c->lock);
		}
		last_sent = time_mono_ms();
		char *payload = c->overflow ? strdup("*") : buf_steal(&c->pending);
		c->overflow = false;
		buf_init(&c->pending, ANNOUNCE_MAX);
		pthread_mutex_unlock(&c->lock);
		if (payload) {
			size_t n = strlen(payload);
			if (n && payload[n - 1] == ';')
				payload[n - 1] = '\0';
			struct db_params p;
			db_params_init(&p);
			db_p_text(&p, DB_CHANGE_CHANNEL);
			db_p_text(&p, payload);
			struct err e;
			err_init(&e);
			if (db_exec_once(c->db,
					 "SELECT set_config('synchronous_commit', 'off', true), "
					 "pg_notify($1, $2)",
					 &p, NULL, NULL, &e) != 0)
				log_debug("cache: cannot announce changes: %s", e.message);
			free(payload);
		}
		pthread_mutex_lock(&c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

struct poll_ctx {
	struct cache *c;
	int rows, applied;
	int64_t last;
};

static int poll_row(void *ctx, int n, const struct db_value *cols)
{
	struct poll_ctx *p = ctx;
	if (n < 2 || cols[0].type != DBV_INT)
		return 0;
	if (apply(p->c, cols[0].i, cols[1].type == DBV_TEXT ? cols[1].s : NULL))
		p->applied++;
	p->rows++;
	p->last = cols[0].i;
	return 0;
}

/* Reads the change log from a little before the high-water mark; `report` logs what it
 * applied (after notifications were missed). */
static int catch_up(struct cache *c, bool report, struct err *e)
{
	pthread_mutex_lock(&c->lock);
	int64_t from = c->hwm > CATCH_UP_BACK ? c->hwm - CATCH_UP_BACK : 0;
	pthread_mutex_unlock(&c->lock);
	struct db_params p;
	db_params_init(&p);
	db_p_int(&p, from);
	db_p_int(&p, POLL_LIMIT);
	struct poll_ctx pc = {c, 0, 0, 0};
	int rc = db_exec_once(c->db,
			      "SELECT seq, object_type FROM change_log WHERE seq > $1 ORDER BY seq "
			      "LIMIT $2",
			      &p, poll_row, &pc, e);
	if (rc == 0 && pc.rows >= POLL_LIMIT) {
		/* Too far behind to go row by row: forget everything and start from the end. */
		repo_cache_invalidate(c, NULL);
		int64_t top = 0;
		rc = db_exec_once(c->db, "SELECT max(seq) FROM change_log", NULL, repo_int_row,
				  &top, e);
		pthread_mutex_lock(&c->lock);
		if (top > c->hwm)
			c->hwm = top;
		pthread_mutex_unlock(&c->lock);
	}
	if (rc == 0 && pc.applied > 0 && report)
		log_info("cache: %d change(s) read from the change log, up to seq %lld", pc.applied,
			 (long long)pc.last);
	return rc;
}

static void set_listening(struct cache *c, bool on)
{
	pthread_mutex_lock(&c->lock);
	c->listening = on;
	pthread_mutex_unlock(&c->lock);
}

static void *follow(void *arg)
{
	struct cache *c = arg;
	struct db_listener *l = NULL;
	bool warned = false;
	int64_t last_poll = time_mono_ms(), poll_every = time_jitter_ms(SAFETY_POLL_MS, 20);
	while (!atomic_load(&c->stop)) {
		struct err e;
		err_init(&e);
		if (!l) {
			/* Listen first, then read the log: nothing falls between the two. */
			int rc = db_listen(c->db, DB_CHANGE_CHANNEL, &l, &e);
			struct err pe;
			err_init(&pe);
			int prc = catch_up(c, warned, &pe);
			if (rc == 0 && prc) {
				/* Listening, but what came before is unknown: try again. */
				db_listen_close(l);
				l = NULL;
				rc = prc;
				e = pe;
			}
			if (rc == 0) {
				last_poll = time_mono_ms();
				set_listening(c, true);
				if (warned)
					log_info("cache: listening to the change log again");
				warned = false;
				continue;
			}
			if (!warned)
				log_warn("cache: cannot listen to the change log (%s); polling it "
					 "every %d ms%s",
					 e.message, POLL_MS,
					 prc ? " once the database answers" : "");
			warned = true;
			for (int i = 0; i < POLL_MS / 50 && !atomic_load(&c->stop); i++)
				sleep_ms(50);
			continue;
		}
		if (time_mono_ms() - last_poll >= poll_every) {
			struct err pe;
			err_init(&pe);
			if (catch_up(c, true, &pe) == 0)
				last_poll = time_mono_ms();
			poll_every = time_jitter_ms(SAFETY_POLL_MS, 20);
		}
		if (db_listen_wait(l, LISTEN_WAIT_MS, on_notify, c, &e) != 0) {
			log_warn("cache: %s; polling the change log every %d ms", e.message,
				 POLL_MS);
			warned = true;
			set_listening(c, false);
			db_listen_close(l);
			l = NULL;
		}
	}
	db_listen_close(l);
	return NULL;
}

int repo_cache_follow(struct cache *c, struct db *db, struct err *e)
{
	c->db = db;
	/* Start at the end of the log: the cache is empty, so nothing older matters. */
	int64_t top = 0;
	int rc = db_exec_once(db, "SELECT coalesce(max(seq), 0) FROM change_log", NULL,
			      repo_int_row, &top, e);
	if (rc)
		return rc;
	c->hwm = top;
	atomic_store(&c->stop, false);
	if (pthread_create(&c->thread, NULL, follow, c) != 0)
		return err_set(e, ERR_INTERNAL, "cannot start the cache follower thread");
	c->running = true;
	if (pthread_create(&c->announcer, NULL, announce, c) != 0)
		return err_set(e, ERR_INTERNAL, "cannot start the change announcer thread");
	pthread_mutex_lock(&c->lock);
	c->announcing = true;
	pthread_mutex_unlock(&c->lock);
	return 0;
}

void repo_cache_free(struct cache *c)
{
	if (!c)
		return;
	atomic_store(&c->stop, true);
	if (c->running)
		pthread_join(c->thread, NULL);
	if (c->announcing) {
		pthread_mutex_lock(&c->lock);
		pthread_cond_signal(&c->wake);
		pthread_mutex_unlock(&c->lock);
		pthread_join(c->announcer, NULL);
	}
	buf_release(&c->pending);
	pthread_cond_destroy(&c->wake);
	while (c->lru_head)
		unlink_entry(c, c->lru_head);
	pthread_mutex_destroy(&c->lock);
	free(c);
}
