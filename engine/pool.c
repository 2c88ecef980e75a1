/*
 * pool: see pool.h. Threads are started per run: the engine runs a few
 * pools per command, each for seconds to minutes, so a start costs
 * nothing worth keeping threads alive for.
 */
#include <pthread.h>
#include <stdlib.h>

#include "pool.h"
#include "../lib/util.h"

struct trampoline {
	void (*fn)(void *arg);
	void *arg;
};

static void *thread_main(void *p)
{
	struct trampoline *t = p;

	t->fn(t->arg);
	return NULL;
}

size_t pool_run(size_t workers, void (*fn)(void *arg), void *arg)
{
	struct trampoline t = {fn, arg};
	pthread_t *threads = xcalloc(workers + 1, sizeof(*threads));
	size_t started, i;

	for (started = 0; started + 1 < workers; started++)
		if (pthread_create(&threads[started], NULL, thread_main, &t) != 0)
			break;
	fn(arg);
	for (i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	free(threads);
	return started + 1;
}

struct each {
	int (*job)(void *arg, size_t i);
	void *arg;
	size_t n, next;
	int rc;
	pthread_mutex_t mu;
};

static void each_worker(void *p)
{
	struct each *e = p;

	for (;;) {
		size_t i;
		int rc;

		pthread_mutex_lock(&e->mu);
		if (e->rc || e->next >= e->n) {
			pthread_mutex_unlock(&e->mu);
			return;
		}
		i = e->next++;
		pthread_mutex_unlock(&e->mu);
		rc = e->job(e->arg, i);
		if (rc) {
			pthread_mutex_lock(&e->mu);
			if (!e->rc)
				e->rc = rc;
			pthread_mutex_unlock(&e->mu);
		}
	}
}

int pool_each(size_t workers, size_t n, int (*job)(void *arg, size_t i), void *arg)
{
	struct each e = {0};

	e.job = job;
	e.arg = arg;
	e.n = n;
	pthread_mutex_init(&e.mu, NULL);
	pool_run(workers < n ? workers : n, each_worker, &e);
	pthread_mutex_destroy(&e.mu);
	return e.rc;
}
