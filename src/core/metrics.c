/* metrics.c: the counters and histograms a node shows at /metrics, in Prometheus's text
 * format. A series is a name and a label set ("route=\"/qrs/app\",code=\"200\""), found in
 * a fixed open-addressing table under one mutex: a request costs one hash and one lock.
 * What is a state rather than a count (sessions open, the central role held) comes from
 * collectors the modules register, asked when the page is made. */
#include "core/core.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SLOTS = 4096, MAX_SERIES = 2048, MAX_COLLECTORS = 16 };

/* Seconds: from a cached answer (a millisecond) to a reload (minutes). */
static const double bounds[METRICS_BUCKETS] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
					       1,     2.5,   5,	   10,	  30,	60,  300};

struct collector {
	metrics_collect_fn fn;
	void *ctx;
};

struct series {
	char name[64];
	char labels[192];
	enum metrics_kind kind;
	double value; /* counter or gauge; a histogram's sum */
	uint64_t count;
	uint64_t buckets[METRICS_BUCKETS];
	const char *help;
};

static struct {
	pthread_mutex_t mu;
	struct series *slot[SLOTS];
	int n;
	bool full_logged;
	struct collector collectors[MAX_COLLECTORS];
	int n_collectors;
} m = {.mu = PTHREAD_MUTEX_INITIALIZER};

static uint64_t hash(const char *name, const char *labels)
{
	uint64_t h = 1469598103934665603ULL;
	for (const char *s = name; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	h = (h ^ 0xff) * 1099511628211ULL;
	for (const char *s = labels; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* The series (name, labels), made on first use; NULL when the table is full or a text is
 * too long. Under m.mu. */
static struct series *find(const char *name, const char *labels, enum metrics_kind kind,
			   const char *help)
{
	if (!labels)
		labels = "";
	if (strlen(name) >= sizeof(((struct series *)0)->name) ||
	    strlen(labels) >= sizeof(((struct series *)0)->labels))
		return NULL;
	for (uint64_t i = hash(name, labels) % SLOTS, tries = 0; tries < SLOTS;
	     i = (i + 1) % SLOTS, tries++) {
		struct series *s = m.slot[i];
		if (s && strcmp(s->name, name) == 0 && strcmp(s->labels, labels) == 0)
			return s->kind == kind ? s : NULL;
		if (s)
			continue;
		if (m.n >= MAX_SERIES) {
			if (!m.full_logged)
				log_warn("metrics: %d series already; %s{%s} is not kept", m.n,
					 name, labels);
			m.full_logged = true;
			return NULL;
		}
		s = calloc(1, sizeof(*s));
		if (!s)
			return NULL;
		str_copy(s->name, name, sizeof(s->name));
		str_copy(s->labels, labels, sizeof(s->labels));
		s->kind = kind;
		s->help = help;
		m.slot[i] = s;
		m.n++;
		return s;
	}
	return NULL;
}

void metrics_add(const char *name, const char *labels, const char *help, double v)
{
	pthread_mutex_lock(&m.mu);
	struct series *s = find(name, labels, METRICS_COUNTER, help);
	if (s)
		s->value += v;
	pthread_mutex_unlock(&m.mu);
}

void metrics_set(const char *name, const char *labels, const char *help, double v)
{
	pthread_mutex_lock(&m.mu);
	struct series *s = find(name, labels, METRICS_GAUGE, help);
	if (s)
		s->value = v;
	pthread_mutex_unlock(&m.mu);
}

void metrics_observe(const char *name, const char *labels, const char *help, double seconds)
{
	pthread_mutex_lock(&m.mu);
	struct series *s = find(name, labels, METRICS_HISTOGRAM, help);
	if (s) {
		s->value += seconds;
		s->count++;
		for (int i = 0; i < METRICS_BUCKETS; i++)
			if (seconds <= bounds[i])
				s->buckets[i]++;
	}
	pthread_mutex_unlock(&m.mu);
}

void metrics_collector_add(metrics_collect_fn fn, void *ctx)
{
	pthread_mutex_lock(&m.mu);
	for (int i = 0; i < m.n_collectors; i++)
		if (m.collectors[i].fn == fn && m.collectors[i].ctx == ctx) {
			pthread_mutex_unlock(&m.mu);
			return;
		}
	if (m.n_collectors < MAX_COLLECTORS)
		m.collectors[m.n_collectors++] = (struct collector){fn, ctx};
	else
		log_warn("metrics: more than %d collectors; one is left out", MAX_COLLECTORS);
	pthread_mutex_unlock(&m.mu);
}

void metrics_collector_remove(metrics_collect_fn fn, void *ctx)
{
	pthread_mutex_lock(&m.mu);
	for (int i = 0; i < m.n_collectors; i++)
		if (m.collectors[i].fn == fn && m.collectors[i].ctx == ctx) {
			m.collectors[i] = m.collectors[--m.n_collectors];
			break;
		}
	pthread_mutex_unlock(&m.mu);
}

static int by_name(const void *a, const void *b)
{
	const struct series *x = *(struct series *const *)a, *y = *(struct series *const *)b;
	int c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->labels, y->labels);
}

static int number(struct buf *b, double v)
{
	if (isinf(v))
		return buf_puts(b, v > 0 ? "+Inf" : "-Inf");
	if (v == floor(v) && fabs(v) < 1e15)
		return buf_printf(b, "%.0f", v);
	return buf_printf(b, "%.15g", v);
}

/* One sample line: name{labels[,extra]} value. */
static int line(struct buf *b, const char *name, const char *suffix, const char *labels,
		const char *extra, double v)
{
	int bad = buf_printf(b, "%s%s", name, suffix);
	bool any = *labels || (extra && *extra);
	if (any)
		bad |= buf_printf(b, "{%s%s%s}", labels, *labels && extra && *extra ? "," : "",
				  extra ? extra : "");
	bad |= buf_puts(b, " ");
	bad |= number(b, v);
	bad |= buf_puts(b, "\n");
	return bad;
}

void metrics_sample(struct buf *b, const char *name, const char *type, const char *help,
		    const char *labels, double v)
{
	/* a full page is cut short: its end says nothing false */
	if (help && buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type))
		return;
	if (line(b, name, "", labels ? labels : "", NULL, v))
		return;
}

int metrics_render(struct buf *b)
{
	pthread_mutex_lock(&m.mu);
	struct series **all = malloc((size_t)(m.n ? m.n : 1) * sizeof(*all));
	if (!all) {
		pthread_mutex_unlock(&m.mu);
		return ERR_NOMEM;
	}
	int n = 0;
	for (int i = 0; i < SLOTS; i++)
		if (m.slot[i])
			all[n++] = m.slot[i];
	qsort(all, (size_t)n, sizeof(*all), by_name);
	int bad = 0;
	static const char *const types[] = {"counter", "gauge", "histogram"};
	for (int i = 0; i < n && !bad; i++) {
		const struct series *s = all[i];
		if (i == 0 || strcmp(all[i - 1]->name, s->name) != 0)
			bad |= buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", s->name,
					  s->help ? s->help : s->name, s->name, types[s->kind]);
		if (s->kind != METRICS_HISTOGRAM) {
			bad |= line(b, s->name, "", s->labels, NULL, s->value);
			continue;
		}
		for (int k = 0; k < METRICS_BUCKETS; k++) {
			char le[32];
			snprintf(le, sizeof(le), "le=\"%g\"", bounds[k]);
			bad |= line(b, s->name, "_bucket", s->labels, le, (double)s->buckets[k]);
		}
		bad |= line(b, s->name, "_bucket", s->labels, "le=\"+Inf\"", (double)s->count);
		bad |= line(b, s->name, "_sum", s->labels, NULL, s->value);
		bad |= line(b, s->name, "_count", s->labels, NULL, (double)s->count);
	}
	int nc = m.n_collectors;
	struct collector cs[MAX_COLLECTORS];
	memcpy(cs, m.collectors, sizeof(cs));
	pthread_mutex_unlock(&m.mu);
	free(all);
	/* collectors may take their own locks and ask a database: not under ours */
	for (int i = 0; i < nc && !bad; i++)
		cs[i].fn(cs[i].ctx, b);
	return bad ? ERR_NOMEM : 0;
}

void metrics_label_text(char *out, size_t n, const char *s)
{
	size_t o = 0;
	for (; s && *s && o + 3 < n; s++) {
		if (*s == '"' || *s == '\\') {
			out[o++] = '\\';
			out[o++] = *s;
		} else if (*s == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else {
			out[o++] = *s;
		}
	}
	out[o] = 0;
}
