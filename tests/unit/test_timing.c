/*
 * test_timing: per-request timeouts from the environment, the HTTP Date
 * parser, and the clock-skew decision.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/util.h"
#include "providers/aws/timing.h"

static void test_timeouts(void **state)
{
	char *none[] = {NULL};
	char *set[] = {"AWS_CONNECT_TIMEOUT=2.5", "AWS_READ_TIMEOUT=7", NULL};
	char *bad[] = {"AWS_CONNECT_TIMEOUT=-1", "AWS_READ_TIMEOUT=soon", NULL};
	char *huge[] = {"AWS_CONNECT_TIMEOUT=0", "AWS_READ_TIMEOUT=1e9", NULL};
	long conn, total;

	(void)state;
	timing_timeouts(none, &conn, &total);
	assert_int_equal(conn, 10000);
	assert_int_equal(total, 60000);
	timing_timeouts(set, &conn, &total);
	assert_int_equal(conn, 2500);
	assert_int_equal(total, 7000);
	timing_timeouts(bad, &conn, &total);
	assert_int_equal(conn, 10000);
	assert_int_equal(total, 60000);
	timing_timeouts(huge, &conn, &total);
	assert_int_equal(conn, 10000);
	assert_int_equal(total, 60000);
}

static void test_parse_date(void **state)
{
	int64_t t = 0;

	(void)state;
	assert_int_equal(http_date_parse("Sun, 06 Nov 1994 08:49:37 GMT", &t), 0);
	assert_int_equal(t, 784111777);
	assert_int_equal(http_date_parse("Sun, 29 Nov 2026 14:37:30 GMT", &t), 0);
	assert_int_equal(t, 1795963050);
	assert_int_equal(http_date_parse("Mon, 29 Feb 2016 00:00:00 GMT", &t), 0);
	assert_int_equal(t, 1456704000);
	assert_int_equal(http_date_parse("20150830T123600Z", &t), 0);
	assert_int_equal(t, 1440938160);
	assert_int_equal(http_date_parse("Sun, 06 Nov 1994 08:49:37 PST", &t), -1);
	assert_int_equal(http_date_parse("Sun, 06 Foo 1994 08:49:37 GMT", &t), -1);
	assert_int_equal(http_date_parse("Sun, 06 Nov 1994 25:49:37 GMT", &t), -1);
	assert_int_equal(http_date_parse("Sunday, 06-Nov-94 08:49:37 GMT", &t), -1);
	assert_int_equal(http_date_parse("20150830T1236Z", &t), -1);
	assert_int_equal(http_date_parse("", &t), -1);
	assert_int_equal(http_date_parse(NULL, &t), -1);
}

static void test_skew(void **state)
{
	int64_t now = 1795963050, off = 0;

	(void)state;
	assert_true(timing_is_skew_error("RequestTimeTooSkewed"));
	assert_true(timing_is_skew_error("SignatureDoesNotMatch"));
	assert_true(timing_is_skew_error("InvalidSignatureException"));
	assert_false(timing_is_skew_error("AccessDenied"));
	assert_false(timing_is_skew_error(NULL));
	/* The server is an hour ahead. */
	assert_int_equal(timing_skew_offset("Sun, 29 Nov 2026 15:37:30 GMT", now, 0, &off), 1);
	assert_int_equal(off, 3600);
	/* Already corrected: a second refusal is not about the clock. */
	assert_int_equal(timing_skew_offset("Sun, 29 Nov 2026 15:37:31 GMT", now, 3600, &off), 0);
	/* Within the tolerance, or no usable date: nothing to correct. */
	assert_int_equal(timing_skew_offset("Sun, 29 Nov 2026 14:40:30 GMT", now, 0, &off), 0);
	assert_int_equal(timing_skew_offset("garbage", now, 0, &off), 0);
	/* Behind works too. */
	assert_int_equal(timing_skew_offset("Sun, 29 Nov 2026 13:37:30 GMT", now, 0, &off), 1);
	assert_int_equal(off, -3600);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timeouts),
		cmocka_unit_test(test_parse_date),
		cmocka_unit_test(test_skew),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
