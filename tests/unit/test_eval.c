/*
 * Unit tests for engine/eval.c: evaluating a resource's configuration and
 * the comparison rules shared by the plan and the executor.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "engine/eval.h"
#include "engine/value.h"

static json_t *J(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &e);

	if (!v)
		fail_msg("bad test JSON %s: %s", text, e.text);
	return v;
}

static void assert_json(json_t *got, const char *want_text)
{
	json_t *want = J(want_text);

	if (!json_equal(got, want)) {
		char *g = json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS);

		fail_msg("got %s, want %s", g, want_text);
	}
	json_decref(want);
}

static struct eval_ctx ctx(json_t *vars, json_t *resources)
{
	struct eval_ctx e = {0};

	e.vars = vars;
	e.region = "eu-west-1";
	e.stack = "web";
	e.account_id = NULL;
	e.resources = resources;
	return e;
}

static void test_eval_references(void **state)
{
	json_t *vars = J("{\"env\":\"prod\"}");
	json_t *res = J("{\"vpc\":{\"id\":\"vpc-1\",\"cidr_block\":\"10.0.0.0/16\"}}");
	struct eval_ctx e = ctx(vars, res);
	struct cairn_err err;
	json_t *cfg, *out;

	(void)state;
	err_clear(&err);
	cfg = J("{\"name\":\"tg-${var.env}\",\"port\":\"8080\",\"vpc_id\":\"${vpc.id}\"}");
	out = eval_resource(&e, "aws_lb_target_group", cfg, &err);
	assert_non_null(out);
	assert_string_equal(json_string_value(json_object_get(out, "name")), "tg-prod");
	/* "8080" is coerced to the schema's number; defaults are applied */
	assert_int_equal(json_integer_value(json_object_get(out, "port")), 8080);
	assert_string_equal(json_string_value(json_object_get(out, "vpc_id")), "vpc-1");
	assert_string_equal(json_string_value(json_object_get(out, "protocol")), "HTTP");
	json_decref(out);
	json_decref(cfg);

	/* region, stack name, account id (unknown without a client) */
	cfg = J("[\"${aws.region}\", \"${stack.name}\", \"${aws.account_id}\"]");
	out = eval_value(&e, cfg, &err);
	assert_non_null(out);
	assert_string_equal(json_string_value(json_array_get(out, 0)), "eu-west-1");
	assert_string_equal(json_string_value(json_array_get(out, 1)), "web");
	assert_true(value_is_unknown(json_array_get(out, 2)));
	json_decref(out);
	json_decref(cfg);

	json_decref(vars);
	json_decref(res);
}

static void test_eval_unknowns(void **state)
{
	json_t *res = J("{\"vpc\":{\"id\":{\"$cairn_unknown\":true}}}");
	struct eval_ctx e = ctx(NULL, res);
	struct cairn_err err;
	json_t *cfg, *out;

	(void)state;
	err_clear(&err);
	/* a resource not planned yet, an unknown attribute, an absent one */
	cfg = J("[\"${vpc.id}\", \"${igw.id}\", \"${vpc.arn}\", \"x-${vpc.id}\"]");
	out = eval_value(&e, cfg, &err);
	assert_non_null(out);
	assert_true(value_is_unknown(json_array_get(out, 0)));
	assert_true(value_is_unknown(json_array_get(out, 1)));
	assert_true(value_is_unknown(json_array_get(out, 2)));
	assert_true(value_has_unknown(json_array_get(out, 3)));
	json_decref(out);
	json_decref(cfg);

	/* a variable without a value is an error, not an unknown */
	cfg = J("\"${var.nope}\"");
	assert_null(eval_value(&e, cfg, &err));
	assert_non_null(strstr(err.msg, "nope"));
	json_decref(cfg);

	assert_null(eval_resource(&e, "aws_nothing", NULL, &err));
	assert_non_null(strstr(err.msg, "aws_nothing"));
	json_decref(res);
}

static void diff(const char *type, const char *want, const char *have, const char *ignore,
		 const char *changed_want, const char *forces_want)
{
	json_t *w = J(want), *h = J(have), *ig = ignore ? J(ignore) : NULL;
	json_t *changed, *forces;
	struct cairn_err err;

	err_clear(&err);
	assert_int_equal(eval_diff(type, w, h, ig, &changed, &forces, &err), 0);
	assert_json(changed, changed_want);
	assert_json(forces, forces_want);
	json_decref(changed);
	json_decref(forces);
	json_decref(w);
	json_decref(h);
	json_decref(ig);
}

static void test_diff_basics(void **state)
{
	(void)state;
	/* equal, output-only attributes ignored */
	diff("aws_vpc", "{\"cidr_block\":\"10.0.0.0/16\",\"enable_dns_support\":true}",
	     "{\"cidr_block\":\"10.0.0.0/16\",\"enable_dns_support\":true,\"id\":\"vpc-1\","
	     "\"arn\":\"arn:x\"}", NULL, "[]", "[]");
	/* an in-place change, and a forcing one */
	diff("aws_vpc", "{\"cidr_block\":\"10.1.0.0/16\",\"enable_dns_support\":false}",
	     "{\"cidr_block\":\"10.0.0.0/16\",\"enable_dns_support\":true}", NULL,
	     "[\"cidr_block\",\"enable_dns_support\"]", "[\"cidr_block\"]");
	/* numbers by value, strings of digits against numbers */
	diff("aws_lb_target_group", "{\"port\":80,\"deregistration_delay\":300}",
	     "{\"port\":80.0,\"deregistration_delay\":\"300\"}", NULL, "[]", "[]");
	diff("aws_lb_target_group", "{\"port\":8080}", "{\"port\":80}", NULL, "[\"port\"]",
	     "[\"port\"]");
	/* unknown counts as different */
	diff("aws_lb_target_group", "{\"vpc_id\":{\"$cairn_unknown\":true}}",
	     "{\"vpc_id\":\"vpc-1\"}", NULL, "[\"vpc_id\"]", "[\"vpc_id\"]");
	/* ignore_changes */
	diff("aws_lb_target_group", "{\"port\":8080,\"tags\":{\"a\":\"1\"}}", "{\"port\":80}",
	     "[\"port\",\"tags\"]", "[]", "[]");
}

static void test_diff_tags_and_empty(void **state)
{
	(void)state;
	/* ownership tags never count; an empty map equals no tags */
	diff("aws_vpc", "{\"tags\":{\"Name\":\"a\"}}",
	     "{\"tags\":{\"Name\":\"a\",\"cairn:stack\":\"web\",\"cairn:resource\":\"vpc\"}}",
	     NULL, "[]", "[]");
	diff("aws_vpc", "{}", "{\"tags\":{}}", NULL, "[]", "[]");
	diff("aws_vpc", "{\"tags\":{\"Name\":\"a\"}}", "{\"tags\":{\"Name\":\"b\"}}", NULL,
	     "[\"tags\"]", "[]");
	/* a tag added outside cairn is a difference */
	diff("aws_vpc", "{\"tags\":{}}", "{\"tags\":{\"x\":\"y\"}}", NULL, "[\"tags\"]", "[]");
	/* "" from AWS equals an unset description */
	diff("aws_sns_topic", "{\"name\":\"t\"}", "{\"name\":\"t\",\"display_name\":\"\"}", NULL,
	     "[]", "[]");
}

static void test_diff_nested(void **state)
{
	(void)state;
	/* optional+computed attribute left out of the stack: AWS decides */
	diff("aws_lb_target_group", "{\"port\":80}",
	     "{\"port\":80,\"health_check\":{\"path\":\"/\",\"interval\":30}}", NULL, "[]", "[]");
	/* set in the stack: compared, nested attributes by value */
	diff("aws_lb_target_group", "{\"health_check\":{\"path\":\"/up\",\"interval\":30}}",
	     "{\"health_check\":{\"path\":\"/\",\"interval\":30}}", NULL, "[\"health_check\"]",
	     "[]");
	diff("aws_lb_target_group", "{\"health_check\":{\"path\":\"/\",\"interval\":30}}",
	     "{\"health_check\":{\"path\":\"/\",\"interval\":30.0}}", NULL, "[]", "[]");
	/* a list of objects compares element-wise; a key AWS leaves out equals empty */
	diff("aws_lb_listener",
	     "{\"default_action\":[{\"type\":\"forward\",\"target_group_arn\":\"a\"}]}",
	     "{\"default_action\":[{\"type\":\"forward\",\"target_group_arn\":\"a\","
	     "\"fixed_response\":null}]}", NULL, "[]", "[]");
	diff("aws_lb_listener",
	     "{\"default_action\":[{\"type\":\"forward\",\"target_group_arn\":\"b\"}]}",
	     "{\"default_action\":[{\"type\":\"forward\",\"target_group_arn\":\"a\"}]}", NULL,
	     "[\"default_action\"]", "[]");
	/* json documents structurally, whatever the key order or spelling */
	diff("aws_sns_topic", "{\"policy\":{\"Version\":\"2012-10-17\",\"Statement\":[]}}",
	     "{\"policy\":\"{\\\"Statement\\\":[],\\\"Version\\\":\\\"2012-10-17\\\"}\"}", NULL,
	     "[]", "[]");
	diff("aws_sns_topic", "{\"policy\":{\"Version\":\"2012-10-17\"}}",
	     "{\"policy\":{\"Version\":\"2008-10-17\"}}", NULL, "[\"policy\"]", "[]");
}

static void test_diff_unordered(void **state)
{
	(void)state;
	/* an unordered list: AWS's order is no difference */
	diff("aws_lb", "{\"subnets\":[\"subnet-a\",\"subnet-b\"],\"security_groups\":[\"sg-1\",\"sg-2\"]}",
	     "{\"subnets\":[\"subnet-b\",\"subnet-a\"],\"security_groups\":[\"sg-2\",\"sg-1\"]}",
	     NULL, "[]", "[]");
	/* but another member, a missing one or another count is */
	diff("aws_lb", "{\"subnets\":[\"subnet-a\",\"subnet-b\"]}",
	     "{\"subnets\":[\"subnet-b\",\"subnet-c\"]}", NULL, "[\"subnets\"]", "[]");
	diff("aws_lb", "{\"subnets\":[\"subnet-a\",\"subnet-b\"]}",
	     "{\"subnets\":[\"subnet-b\"]}", NULL, "[\"subnets\"]", "[]");
	/* a multiset: duplicates count */
	diff("aws_lb", "{\"subnets\":[\"subnet-a\",\"subnet-a\",\"subnet-b\"]}",
	     "{\"subnets\":[\"subnet-a\",\"subnet-b\",\"subnet-b\"]}", NULL, "[\"subnets\"]", "[]");
	/* unknown members are never equal */
	diff("aws_lb", "{\"subnets\":[{\"$cairn_unknown\":true},\"subnet-b\"]}",
	     "{\"subnets\":[\"subnet-b\",\"subnet-a\"]}", NULL, "[\"subnets\"]", "[]");
	/* nested: rules in another order, each rule's sources in another order */
	diff("aws_security_group",
	     "{\"ingress\":[{\"from_port\":80,\"to_port\":80,\"protocol\":\"tcp\","
	     "\"cidr_blocks\":[\"10.0.0.0/8\",\"192.168.0.0/16\"]},"
	     "{\"from_port\":443,\"to_port\":443,\"protocol\":\"tcp\",\"security_groups\":[\"sg-1\",\"sg-2\"]}]}",
	     "{\"ingress\":[{\"from_port\":443,\"to_port\":443,\"protocol\":\"tcp\",\"security_groups\":[\"sg-2\",\"sg-1\"]},"
	     "{\"from_port\":80,\"to_port\":80,\"protocol\":\"tcp\","
	     "\"cidr_blocks\":[\"192.168.0.0/16\",\"10.0.0.0/8\"]}]}", NULL, "[]", "[]");
	diff("aws_security_group",
	     "{\"ingress\":[{\"from_port\":80,\"to_port\":80,\"protocol\":\"tcp\",\"cidr_blocks\":[\"10.0.0.0/8\"]},"
	     "{\"from_port\":443,\"to_port\":443,\"protocol\":\"tcp\",\"cidr_blocks\":[\"10.0.0.0/8\"]}]}",
	     "{\"ingress\":[{\"from_port\":443,\"to_port\":443,\"protocol\":\"tcp\",\"cidr_blocks\":[\"10.0.0.0/8\"]},"
	     "{\"from_port\":80,\"to_port\":81,\"protocol\":\"tcp\",\"cidr_blocks\":[\"10.0.0.0/8\"]}]}",
	     NULL, "[\"ingress\"]", "[]");
	/* listener rule conditions and their values */
	diff("aws_lb_listener_rule",
	     "{\"condition\":[{\"path_pattern\":{\"values\":[\"/a\",\"/b\"]}},"
	     "{\"host_header\":{\"values\":[\"x.example.com\"]}}]}",
	     "{\"condition\":[{\"host_header\":{\"values\":[\"x.example.com\"]}},"
	     "{\"path_pattern\":{\"values\":[\"/b\",\"/a\"]}}]}", NULL, "[]", "[]");
	/* an ordered list keeps its order */
	diff("aws_lb_listener",
	     "{\"default_action\":[{\"type\":\"forward\",\"target_group_arn\":\"a\"},"
	     "{\"type\":\"forward\",\"target_group_arn\":\"b\"}]}",
	     "{\"default_action\":[{\"type\":\"forward\",\"target_group_arn\":\"b\"},"
	     "{\"type\":\"forward\",\"target_group_arn\":\"a\"}]}", NULL, "[\"default_action\"]", "[]");
	/* eval_attr_equal follows the same rule */
	{
		json_t *a = J("[\"sg-1\",\"sg-2\"]"), *b = J("[\"sg-2\",\"sg-1\"]");

		assert_true(eval_attr_equal("aws_lb", "security_groups", a, b));
		json_decref(a);
		json_decref(b);
	}
}

static void test_diff_unknown_type(void **state)
{
	json_t *changed, *forces, *o = json_object();
	struct cairn_err err;

	(void)state;
	err_clear(&err);
	assert_int_equal(eval_diff("aws_nothing", o, o, NULL, &changed, &forces, &err), -1);
	assert_non_null(strstr(err.msg, "aws_nothing"));
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eval_references),
		cmocka_unit_test(test_eval_unknowns),
		cmocka_unit_test(test_diff_basics),
		cmocka_unit_test(test_diff_tags_and_empty),
		cmocka_unit_test(test_diff_nested),
		cmocka_unit_test(test_diff_unordered),
		cmocka_unit_test(test_diff_unknown_type),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
