/*
 * test_retry: standard-mode classification, backoff bounds with injected
 * randomness, AWS_MAX_ATTEMPTS, and the retry token bucket.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "providers/aws/retry.h"

static struct cairn_err aws_err(int status, const char *code)
{
	struct cairn_err e;

	err_clear(&e);
	e.code = CAIRN_EAWS;
	e.remote.status = status;
	strcpy(e.remote.code, code);
	return e;
}

static void test_classify(void **state)
{
	static const char *const throttles[] = {
		"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
		"TooManyRequestsException", "ProvisionedThroughputExceededException",
		"TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
		"LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
		"EC2ThrottledException",
	};
	struct cairn_err e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(throttles) / sizeof(*throttles); i++) {
		e = aws_err(400, throttles[i]);
		assert_int_equal(retry_classify(&e), RETRY_THROTTLE);
	}
	e = aws_err(400, "RequestTimeout");
	assert_int_equal(retry_classify(&e), RETRY_TRANSIENT);
	e = aws_err(500, "InternalError");
	assert_int_equal(retry_classify(&e), RETRY_TRANSIENT);
	e = aws_err(503, "");
	assert_int_equal(retry_classify(&e), RETRY_TRANSIENT);
	e = aws_err(502, "Whatever");
	assert_int_equal(retry_classify(&e), RETRY_TRANSIENT);
	e = aws_err(504, "");
	assert_int_equal(retry_classify(&e), RETRY_TRANSIENT);
	/* Client errors are final. */
	e = aws_err(400, "InvalidVpcID.NotFound");
	assert_int_equal(retry_classify(&e), RETRY_NO);
	e = aws_err(403, "SignatureDoesNotMatch");
	assert_int_equal(retry_classify(&e), RETRY_NO);
	e = aws_err(501, "NotImplemented");
	assert_int_equal(retry_classify(&e), RETRY_NO);
	err_set(&e, CAIRN_ENET, "connection refused");
	assert_int_equal(retry_classify(&e), RETRY_TIMEOUT);
	err_set(&e, CAIRN_EINVAL, "bad input");
	assert_int_equal(retry_classify(&e), RETRY_NO);
}

static void test_backoff_bounds(void **state)
{
	int a;

	(void)state;
	/* r = 0 gives no wait; r -> 1 approaches the cap of the attempt. */
	assert_int_equal(retry_backoff_ms(0, 0.0), 0);
	assert_int_equal(retry_backoff_ms(0, 0.5), 50);
	assert_int_equal(retry_backoff_ms(1, 0.5), 100);
	assert_int_equal(retry_backoff_ms(3, 0.5), 400);
	assert_in_range(retry_backoff_ms(0, 0.9999999), 99, 100);
	for (a = 0; a < 40; a++) {
		long hi = retry_backoff_ms(a, 0.9999999);

		assert_true(hi <= RETRY_MAX_BACKOFF_MS);
		assert_true(retry_backoff_ms(a, 0.25) <= hi);
	}
	/* Capped at 20 s from attempt 8 on (100 ms * 2^8 = 25.6 s). */
	assert_int_equal(retry_backoff_ms(8, 0.5), 10000);
	assert_int_equal(retry_backoff_ms(30, 0.5), 10000);
	/* Out-of-range randomness is clamped. */
	assert_int_equal(retry_backoff_ms(2, -1.0), 0);
	assert_true(retry_backoff_ms(2, 7.0) < 400);
}

static void test_max_attempts(void **state)
{
	char *none[] = { NULL };
	char *five[] = { "AWS_MAX_ATTEMPTS=5", NULL };
	char *one[] = { "AWS_MAX_ATTEMPTS=1", NULL };
	char *bad[] = { "AWS_MAX_ATTEMPTS=lots", NULL };
	char *zero[] = { "AWS_MAX_ATTEMPTS=0", NULL };

	(void)state;
	assert_int_equal(retry_max_attempts(none), 3);
	assert_int_equal(retry_max_attempts(five), 5);
	assert_int_equal(retry_max_attempts(one), 1);
	assert_int_equal(retry_max_attempts(bad), 3);
	assert_int_equal(retry_max_attempts(zero), 3);
}

static void test_bucket(void **state)
{
	struct retry_bucket b;
	int i, n = 0;

	(void)state;
	retry_bucket_init(&b);
	assert_int_equal(retry_bucket_tokens(&b), 500);
	assert_int_equal(retry_bucket_acquire(&b, RETRY_THROTTLE), 5);
	assert_int_equal(retry_bucket_acquire(&b, RETRY_TIMEOUT), 10);
	assert_int_equal(retry_bucket_tokens(&b), 485);
	/* A success after a retry gives that retry's cost back. */
	retry_bucket_success(&b, 10);
	assert_int_equal(retry_bucket_tokens(&b), 495);
	/* A success without retry refunds 1, never above the size. */
	retry_bucket_success(&b, 0);
	retry_bucket_success(&b, 0);
	retry_bucket_success(&b, 0);
	retry_bucket_success(&b, 0);
	retry_bucket_success(&b, 0);
	retry_bucket_success(&b, 0);
	assert_int_equal(retry_bucket_tokens(&b), 500);
	/* A failing endpoint drains it: then retries stop. */
	for (i = 0; i < 1000; i++)
		if (retry_bucket_acquire(&b, RETRY_TRANSIENT) > 0)
			n++;
	assert_int_equal(n, 100);
	assert_int_equal(retry_bucket_acquire(&b, RETRY_TRANSIENT), -1);
	assert_int_equal(retry_bucket_tokens(&b), 0);
	retry_bucket_destroy(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_backoff_bounds),
		cmocka_unit_test(test_max_attempts),
		cmocka_unit_test(test_bucket),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
