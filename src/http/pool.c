/* pool.c: the worker threads that run handlers. Threads are started when work arrives and
 * none is idle, up to a maximum; a thread idle for 5 s ends, so a quiet server holds no
 * more threads than its event loops. Jobs run in the order they were queued. */
#include "http/http_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define IDLE_EXIT_MS 5000

struct job {
	struct job *next;
	void (*fn)(void *);
	void *arg;
};

struct http_pool {
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	struct job *head, *tail;
	int queued; /* jobs no worker took yet */
	int threads, idle, max;
	bool stopping;
};

struct http_pool *http_pool_new(int max_threads)
{
	struct http_pool *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	pthread_mutex_init(&p->mu, NULL);
	time_cond_init(&p->work);
	pthread_cond_init(&p->done, NULL);
	p->max = max_threads > 0 ? max_threads : 256;
	return p;
}

static void *worker_main(void *arg)
{
	struct http_pool *p = arg;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		if (p->head) {
			struct job *j = p->head;
			p->head = j->next;
			if (!p->head)
				p->tail = NULL;
			p->queued--;
			pthread_mutex_unlock(&p->mu);
			j->fn(j->arg);
			free(j);
			pthread_mutex_lock(&p->mu);
			continue;
		}
		if (p->stopping)
			break;
		int64_t until = time_mono_ms() + IDLE_EXIT_MS;
		p->idle++;
		int rc = 0;
		while (!p->head && !p->stopping && rc != ETIMEDOUT)
			rc = time_cond_wait_ms(&p->work, &p->mu, until - time_mono_ms());
		p->idle--;
		if (!p->head && rc == ETIMEDOUT)
			break;
	}
	p->threads--;
	pthread_cond_broadcast(&p->done);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

bool http_pool_run(struct http_pool *p, void (*fn)(void *), void *arg)
{
	struct job *j = malloc(sizeof(*j));
	if (!j)
		return false;
	*j = (struct job){NULL, fn, arg};
	pthread_mutex_lock(&p->mu);
	if (p->tail)
		p->tail->next = j;
	else
		p->head = j;
	p->tail = j;
	p->queued++;
	bool ok = true;
	/* every queued job needs a worker of its own: one busy with a long job (a reload) must
	 * not hold up the others */
	if (p->idle >= p->queued) {
		pthread_cond_signal(&p->work);
	} else if (p->threads < p->max) {
		pthread_t t;
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &attr, worker_main, p) == 0)
			p->threads++;
		else if (p->threads == 0)
			ok = false; /* nobody would ever run it */
		pthread_attr_destroy(&attr);
	}
	if (!ok) {
		/* take the job back out: it is the tail */
		struct job **pp = &p->head;
		while (*pp != j)
			pp = &(*pp)->next;
		*pp = NULL;
		p->tail = NULL;
		p->queued--;
		for (struct job *q = p->head; q; q = q->next)
			p->tail = q;
		free(j);
	}
	pthread_mutex_unlock(&p->mu);
	return ok;
}

void http_pool_free(struct http_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = true;
	pthread_cond_broadcast(&p->work);
	while (p->threads > 0)
		pthread_cond_wait(&p->done, &p->mu);
	pthread_mutex_unlock(&p->mu);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
