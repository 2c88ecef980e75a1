/*
 * Unit tests for peach (providers/common.c): every item runs once, on
 * several threads, and a failure reports the lowest failed index.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>
#include <time.h>

#include "providers/common.h"

#define N 100

struct run {
	int calls[N];
	const char *fail[N];            /* items that fail, with this message */
	pthread_t seen[PEACH_THREADS * 2];
	size_t n_seen;
	pthread_mutex_t mu;
};

static int item(const struct provider_ctx *ctx, size_t i, void *arg, struct cairn_err *err)
{
	struct run *r = arg;
	pthread_t self = pthread_self();
	size_t k;

	(void)ctx;
	pthread_mutex_lock(&r->mu);
	r->calls[i]++;
	for (k = 0; k < r->n_seen && !pthread_equal(r->seen[k], self); k++)
		;
	if (k == r->n_seen && r->n_seen < sizeof(r->seen) / sizeof(r->seen[0]))
		r->seen[r->n_seen++] = self;
	pthread_mutex_unlock(&r->mu);
	/* long enough that the other threads get items too */
	nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	if (r->fail[i]) {
		err_set(err, CAIRN_EINVAL, "%s", r->fail[i]);
		return -1;
	}
	return 0;
}

static void run_init(struct run *r, const struct provider_ctx **ctxs, struct provider_ctx *ctx)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->mu, NULL);
	memset(ctx, 0, sizeof(*ctx));
	for (i = 0; i < N; i++)
		ctxs[i] = ctx;
}

static void test_every_item_once(void **state)
{
	static struct run r;
	const struct provider_ctx *ctxs[N];
	struct provider_ctx ctx;
	struct cairn_err err;
	size_t i;

	(void)state;
	run_init(&r, ctxs, &ctx);
	err_clear(&err);
	assert_int_equal(peach(ctxs, N, item, &r, &err), 0);
	for (i = 0; i < N; i++)
		assert_int_equal(r.calls[i], 1);
	assert_true(r.n_seen > 1);
	assert_true(r.n_seen <= PEACH_THREADS);
	assert_int_equal(peach(ctxs, 0, item, &r, &err), 0);
}

static void test_lowest_failure_wins(void **state)
{
	static struct run r;
	const struct provider_ctx *ctxs[N];
	struct provider_ctx ctx;
	struct cairn_err err;
	size_t i;

	(void)state;
	run_init(&r, ctxs, &ctx);
	r.fail[7] = "seven";
	r.fail[30] = "thirty";
	err_clear(&err);
	assert_int_equal(peach(ctxs, N, item, &r, &err), -1);
	assert_string_equal(err.msg, "seven");
	for (i = 0; i < N; i++)
		assert_true(r.calls[i] <= 1);
	assert_int_equal(r.calls[7], 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_item_once),
		cmocka_unit_test(test_lowest_failure_wins),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
