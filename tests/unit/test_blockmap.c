/*
 * Unit tests for blockmap: Terraform blocks to API members and back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "providers/blockmap.h"

static const struct bm_field INNER[] = {
	{"name", "name", BM_STR, NULL, NULL, 0},
	{NULL, NULL, 0, NULL, NULL, 0},
};

static const struct bm_field FIELDS[] = {
	{"image", "image", BM_STR, NULL, NULL, 0},
	{"build_timeout", "timeoutInMinutes", BM_NUM, NULL, NULL, 60},
	{"privileged_mode", "privilegedMode", BM_BOOL, NULL, NULL, 0},
	{"logs", "logsConfig", BM_BLOCK, INNER, NULL, 0},
	{"groups", "targetGroups", BM_LIST, INNER, NULL, 0},
	{"alarms", "alarms", BM_NAMES, NULL, "name", 0},
	{"config", "configuration", BM_MAP, NULL, NULL, 0},
	{"events", "events", BM_STRS, NULL, NULL, 0},
	{NULL, NULL, 0, NULL, NULL, 0},
};

static void expect_json(json_t *got, const char *want)
{
	json_t *w = json_loads(want, 0, NULL);
	char *g = json_dumps(got, JSON_SORT_KEYS);

	assert_non_null(w);
	if (!json_equal(got, w))
		fail_msg("got %s, wanted %s", g, want);
	free(g);
	json_decref(w);
}

static void test_to_aws(void **state)
{
	json_t *tf = json_loads("{\"image\":\"img\",\"build_timeout\":30,\"privileged_mode\":false,"
				"\"logs\":[{\"name\":\"g\"}],\"groups\":[{\"name\":\"a\"},{\"name\":\"b\"}],"
				"\"alarms\":[\"x\"],\"config\":{\"K\":\"v\"},\"events\":[\"E\"]}", 0, NULL);
	json_t *aws = bm_to_aws(tf, FIELDS);

	(void)state;
	expect_json(aws, "{\"image\":\"img\",\"timeoutInMinutes\":30,\"privilegedMode\":false,"
		    "\"logsConfig\":{\"name\":\"g\"},\"targetGroups\":[{\"name\":\"a\"},{\"name\":\"b\"}],"
		    "\"alarms\":[{\"name\":\"x\"}],\"configuration\":{\"K\":\"v\"},\"events\":[\"E\"]}");
	json_decref(tf);
	json_decref(aws);
}

static void test_empty_values_are_left_out(void **state)
{
	json_t *tf = json_loads("{\"image\":\"\",\"logs\":[],\"groups\":[],\"alarms\":[],"
				"\"config\":{},\"events\":[]}", 0, NULL);
	json_t *aws = bm_to_aws(tf, FIELDS);

	(void)state;
	expect_json(aws, "{}");
	json_decref(aws);
	aws = bm_to_aws(NULL, FIELDS);
	expect_json(aws, "{}");
	json_decref(tf);
	json_decref(aws);
}

static void test_from_aws_fills_every_field(void **state)
{
	json_t *aws = json_loads("{\"image\":\"img\",\"alarms\":[{\"name\":\"x\"}],"
				 "\"logsConfig\":{}}", 0, NULL);
	json_t *tf = bm_from_aws(aws, FIELDS);

	(void)state;
	/* absent number: its default; absent bool: false; {} block: none */
	expect_json(tf, "{\"image\":\"img\",\"build_timeout\":60,\"privileged_mode\":false,"
		    "\"logs\":[],\"groups\":[],\"alarms\":[\"x\"],\"config\":{},\"events\":[]}");
	json_decref(aws);
	json_decref(tf);
}

static void test_round_trip(void **state)
{
	const char *text = "{\"image\":\"i\",\"build_timeout\":5,\"privileged_mode\":true,"
			   "\"logs\":[{\"name\":\"g\"}],\"groups\":[{\"name\":\"a\"}],"
			   "\"alarms\":[\"x\",\"y\"],\"config\":{\"A\":\"1\"},\"events\":[\"E\"]}";
	json_t *tf = json_loads(text, 0, NULL), *aws = bm_to_aws(tf, FIELDS);
	json_t *back = bm_from_aws(aws, FIELDS);

	(void)state;
	expect_json(back, text);
	json_decref(tf);
	json_decref(aws);
	json_decref(back);
}

static void test_blocks(void **state)
{
	json_t *b = json_loads("[{\"name\":\"n\"}]", 0, NULL), *aws = bm_block_to_aws(b, INNER);
	json_t *none = json_array(), *back;

	(void)state;
	expect_json(aws, "{\"name\":\"n\"}");
	assert_null(bm_block_to_aws(none, INNER));
	assert_null(bm_block_to_aws(NULL, INNER));
	back = bm_block_from_aws(aws, INNER);
	expect_json(back, "[{\"name\":\"n\"}]");
	json_decref(back);
	back = bm_block_from_aws(NULL, INNER);
	expect_json(back, "[]");
	json_decref(back);
	json_decref(b);
	json_decref(aws);
	json_decref(none);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_to_aws),
		cmocka_unit_test(test_empty_values_are_left_out),
		cmocka_unit_test(test_from_aws_fills_every_field),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_blocks),
	};

	return cmocka_run_group_tests_name("blockmap", tests, NULL, NULL);
}
