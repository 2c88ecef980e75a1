/*
 * Unit tests for providers/common.c: the tag-safe spelling of addresses in
 * the cairn:resource tag (SPEC §3.1).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "providers/common.h"

static void check(const char *address, const char *want)
{
	char *got = ptag_resource_value(address);

	assert_string_equal(got, want);
	free(got);
}

static void test_tag_safe_addresses(void **state)
{
	(void)state;
	check("vpc", "vpc");
	check("web_sg-2", "web_sg-2");
	check("subnet[0]", "subnet/0");
	check("subnet[12]", "subnet/12");
	check("repo[\"api\"]", "repo/api");
	check("module.svc[\"api\"].tg", "module.svc/api.tg");
	check("module.net[1].subnet[\"a b\"]", "module.net/1.subnet/a b");
	check("repo[\"a+b\"]", "repo/a+2Bb");
	check("repo[\"x\\\"y\"]", "repo/x+22y");
	check("repo[\"é\"]", "repo/+C3+A9");
	check("repo[\"k@host:1/2=3\"]", "repo/k@host:1/2=3");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tag_safe_addresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
