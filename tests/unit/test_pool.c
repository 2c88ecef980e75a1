/* Unit tests for engine/pool.c: every job once, bounded concurrency, stop
 * after a failure. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>
#include <time.h>

#include "engine/pool.h"

static struct {
	pthread_mutex_t mu;
	int runs[100];
	int inflight, max_inflight, fail_at, started;
} ps = {.mu = PTHREAD_MUTEX_INITIALIZER};

static int job(void *arg, size_t i)
{
	struct timespec ts = {0, 2000000L};

	(void)arg;
	pthread_mutex_lock(&ps.mu);
	ps.runs[i]++;
	ps.started++;
	if (++ps.inflight > ps.max_inflight)
		ps.max_inflight = ps.inflight;
	pthread_mutex_unlock(&ps.mu);
	nanosleep(&ts, NULL);
	pthread_mutex_lock(&ps.mu);
	ps.inflight--;
	pthread_mutex_unlock(&ps.mu);
	return (int)i == ps.fail_at ? 7 : 0;
}

static void reset(void)
{
	memset(ps.runs, 0, sizeof(ps.runs));
	ps.inflight = ps.max_inflight = ps.started = 0;
	ps.fail_at = -1;
}

static void test_each_once_bounded(void **state)
{
	int i;

	(void)state;
	reset();
	assert_int_equal(pool_each(3, 100, job, NULL), 0);
	for (i = 0; i < 100; i++)
		assert_int_equal(ps.runs[i], 1);
	assert_true(ps.max_inflight <= 3);
	reset();
	assert_int_equal(pool_each(1, 10, job, NULL), 0);
	assert_int_equal(ps.max_inflight, 1);
	assert_int_equal(ps.started, 10);
}

static void test_failure_stops_new_jobs(void **state)
{
	(void)state;
	reset();
	ps.fail_at = 0;
	assert_int_equal(pool_each(1, 50, job, NULL), 7);
	assert_int_equal(ps.started, 1);
	reset();
	ps.fail_at = 5;
	assert_int_equal(pool_each(4, 100, job, NULL), 7);
	assert_true(ps.started < 100);
}

static void test_nothing_to_do(void **state)
{
	(void)state;
	reset();
	assert_int_equal(pool_each(8, 0, job, NULL), 0);
	assert_int_equal(ps.started, 0);
}

static void count(void *arg)
{
	pthread_mutex_lock(&ps.mu);
	(*(int *)arg)++;
	pthread_mutex_unlock(&ps.mu);
}

static void test_run_counts_threads(void **state)
{
	int calls = 0;

	(void)state;
	assert_int_equal(pool_run(4, count, &calls), 4);
	assert_int_equal(calls, 4);
	calls = 0;
	assert_int_equal(pool_run(0, count, &calls), 1);   /* the caller always runs */
	assert_int_equal(calls, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_once_bounded),
		cmocka_unit_test(test_failure_stops_new_jobs),
		cmocka_unit_test(test_nothing_to_do),
		cmocka_unit_test(test_run_counts_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
