/*
 * test_xml: XML -> JSON conversion (xml.c with the shape table) on real
 * responses captured from moto (tests/data/aws/), through the query and ec2
 * response parsers, plus the generic fallback and the json protocol parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "providers/aws/proto.h"
#include "providers/aws/xml.h"

static const struct aws_service ec2 = { "ec2", AWS_PROTO_EC2, "2016-11-15", "ec2", "ec2",
					NULL, NULL, "EC2", 0 };
static const struct aws_service elbv2 = { "elbv2", AWS_PROTO_QUERY, "2015-12-01",
					  "elasticloadbalancing", "elasticloadbalancing",
					  NULL, NULL, "ELASTIC_LOAD_BALANCING_V2", 0 };
static const struct aws_service sns = { "sns", AWS_PROTO_QUERY, "2010-03-31", "sns", "sns",
					NULL, NULL, "SNS", 0 };
static const struct aws_service iam = { "iam", AWS_PROTO_QUERY, "2010-05-08", "iam", "iam",
					NULL, NULL, "IAM", 1 };
static const struct aws_service sts = { "sts", AWS_PROTO_QUERY, "2011-06-15", "sts", "sts",
					NULL, NULL, "STS", 0 };

static json_t *parse_sample(const struct aws_service *svc, const char *op, const char *file)
{
	struct cairn_err err;
	char *path = xasprintf("tests/data/aws/%s", file);
	size_t len;
	char *body = read_file(path, &len, &err);
	json_t *out = NULL;

	assert_non_null(body);
	err_clear(&err);
	assert_int_equal(proto_query_parse(svc, op, 200, body, len, NULL, &out, &err), 0);
	assert_true(json_is_object(out));
	free(body);
	free(path);
	return out;
}

static void test_ec2_describe_vpcs(void **state)
{
	json_t *o = parse_sample(&ec2, "DescribeVpcs", "ec2_describe_vpcs.xml");
	json_t *vpcs = json_object_get(o, "Vpcs"), *v, *tags;

	(void)state;
	assert_true(json_is_array(vpcs));
	assert_int_equal(json_array_size(vpcs), 1);
	v = json_array_get(vpcs, 0);
	assert_string_equal(json_string_value(json_object_get(v, "VpcId")), "vpc-59336fb69dae83a45");
	assert_string_equal(json_string_value(json_object_get(v, "CidrBlock")), "10.1.0.0/16");
	/* Typed: a boolean, and an all-digit owner id that stays a string. */
	assert_true(json_is_false(json_object_get(v, "IsDefault")));
	assert_string_equal(json_string_value(json_object_get(v, "OwnerId")), "123456789012");
	/* EC2 wire names mapped back: tagSet -> Tags, a one-element list stays a list. */
	tags = json_object_get(v, "Tags");
	assert_int_equal(json_array_size(tags), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(tags, 0), "Key")), "Name");
	assert_string_equal(json_string_value(json_object_get(json_array_get(tags, 0), "Value")), "web");
	/* An empty wrapper is an empty list. */
	assert_true(json_is_array(json_object_get(v, "Ipv6CidrBlockAssociationSet")));
	assert_int_equal(json_array_size(json_object_get(v, "Ipv6CidrBlockAssociationSet")), 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
		json_array_get(json_object_get(v, "CidrBlockAssociationSet"), 0), "CidrBlockState"),
		"State")), "associated");
	/* requestId is response metadata, not output. */
	assert_null(json_object_get(o, "RequestId"));
	assert_null(json_object_get(o, "requestId"));
	json_decref(o);
}

static void test_ec2_security_groups(void **state)
{
	json_t *o = parse_sample(&ec2, "DescribeSecurityGroups", "ec2_describe_security_groups.xml");
	json_t *sg = json_array_get(json_object_get(o, "SecurityGroups"), 0), *eg;

	(void)state;
	assert_non_null(sg);
	assert_string_equal(json_string_value(json_object_get(sg, "Description")), "d");
	assert_string_equal(json_string_value(json_object_get(sg, "GroupName")), "g");
	assert_int_equal(json_array_size(json_object_get(sg, "IpPermissions")), 0);
	assert_true(json_is_array(json_object_get(sg, "Tags")));
	eg = json_array_get(json_object_get(sg, "IpPermissionsEgress"), 0);
	/* "-1" is a string member, not a number. */
	assert_string_equal(json_string_value(json_object_get(eg, "IpProtocol")), "-1");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
		json_object_get(eg, "IpRanges"), 0), "CidrIp")), "0.0.0.0/0");
	assert_true(json_is_array(json_object_get(eg, "UserIdGroupPairs")));
	json_decref(o);
}

static void test_ec2_empty_list(void **state)
{
	json_t *o = parse_sample(&ec2, "DescribeTags", "ec2_describe_tags_empty.xml");

	(void)state;
	assert_true(json_is_array(json_object_get(o, "Tags")));
	assert_int_equal(json_array_size(json_object_get(o, "Tags")), 0);
	json_decref(o);
}

static void test_query_target_group(void **state)
{
	json_t *o = parse_sample(&elbv2, "CreateTargetGroup", "elbv2_create_target_group.xml");
	json_t *tg = json_array_get(json_object_get(o, "TargetGroups"), 0);

	(void)state;
	assert_string_equal(json_string_value(json_object_get(tg, "TargetGroupName")), "tg1");
	assert_true(json_is_integer(json_object_get(tg, "Port")));
	assert_int_equal(json_integer_value(json_object_get(tg, "Port")), 80);
	assert_int_equal(json_integer_value(json_object_get(tg, "HealthCheckIntervalSeconds")), 15);
	assert_true(json_is_true(json_object_get(tg, "HealthCheckEnabled")));
	/* HttpCode "200" is a string in the API. */
	assert_string_equal(json_string_value(json_object_get(json_object_get(tg, "Matcher"),
							      "HttpCode")), "200");
	assert_null(json_object_get(o, "ResponseMetadata"));
	json_decref(o);
}

/* A listener rule with a condition of every kind and a weighted forward. */
static void test_query_rule_conditions(void **state)
{
	json_t *o = parse_sample(&elbv2, "DescribeRules", "elbv2_describe_rules.xml");
	json_t *r = json_array_get(json_object_get(o, "Rules"), 0);
	json_t *c = json_object_get(r, "Conditions"), *q, *fc;

	(void)state;
	assert_int_equal(json_array_size(c), 4);
	/* Priority is a string in the API ("default" for the default rule). */
	assert_string_equal(json_string_value(json_object_get(r, "Priority")), "1");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
		json_array_get(c, 0), "HttpHeaderConfig"), "HttpHeaderName")), "X-Env");
	assert_int_equal(json_array_size(json_object_get(json_object_get(
		json_array_get(c, 0), "HttpHeaderConfig"), "Values")), 2);
	q = json_object_get(json_object_get(json_array_get(c, 2), "QueryStringConfig"), "Values");
	assert_int_equal(json_array_size(q), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(q, 0), "Key")), "k");
	assert_null(json_object_get(json_array_get(q, 1), "Key"));
	assert_string_equal(json_string_value(json_object_get(json_array_get(q, 1), "Value")), "w");
	assert_string_equal(json_string_value(json_array_get(json_object_get(json_object_get(
		json_array_get(c, 3), "SourceIpConfig"), "Values"), 0)), "10.0.0.0/8");
	fc = json_object_get(json_array_get(json_object_get(r, "Actions"), 0), "ForwardConfig");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
		json_object_get(fc, "TargetGroups"), 1), "Weight")), 10);
	assert_true(json_is_true(json_object_get(json_object_get(
		fc, "TargetGroupStickinessConfig"), "Enabled")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
		fc, "TargetGroupStickinessConfig"), "DurationSeconds")), 600);
	assert_true(json_is_false(json_object_get(r, "IsDefault")));
	json_decref(o);
}

static void test_query_map(void **state)
{
	json_t *o = parse_sample(&sns, "GetTopicAttributes", "sns_get_topic_attributes.xml");
	json_t *a = json_object_get(o, "Attributes");

	(void)state;
	assert_true(json_is_object(a));
	assert_string_equal(json_string_value(json_object_get(a, "TopicArn")),
			    "arn:aws:sns:us-east-1:123456789012:t1");
	/* Map values are strings, even when they look like numbers. */
	assert_string_equal(json_string_value(json_object_get(a, "SubscriptionsPending")), "0");
	assert_string_equal(json_string_value(json_object_get(a, "DisplayName")), "");
	json_decref(o);
}

static void test_query_list_and_strings(void **state)
{
	json_t *o = parse_sample(&sns, "ListTopics", "sns_list_topics.xml");
	json_t *s;

	(void)state;
	assert_int_equal(json_array_size(json_object_get(o, "Topics")), 1);
	json_decref(o);
	s = parse_sample(&sts, "GetCallerIdentity", "sts_get_caller_identity.xml");
	assert_string_equal(json_string_value(json_object_get(s, "Account")), "123456789012");
	assert_string_equal(json_string_value(json_object_get(s, "Arn")),
			    "arn:aws:sts::123456789012:user/moto");
	json_decref(s);
}

static void test_iam_role(void **state)
{
	json_t *o = parse_sample(&iam, "GetRole", "iam_get_role.xml");
	json_t *role = json_object_get(o, "Role");

	(void)state;
	assert_string_equal(json_string_value(json_object_get(role, "RoleName")), "r1");
	assert_int_equal(json_integer_value(json_object_get(role, "MaxSessionDuration")), 7200);
	/* Timestamps keep AWS's ISO 8601 text. */
	assert_string_equal(json_string_value(json_object_get(role, "CreateDate")),
			    "2026-11-22T00:12:35.712065Z");
	/* IAM URL-encodes policy documents; they come back as the JSON text. */
	assert_string_equal(json_string_value(json_object_get(role, "AssumeRolePolicyDocument")),
			    "{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", "
			    "\"Principal\": {\"Service\": \"ecs-tasks.amazonaws.com\"}, "
			    "\"Action\": \"sts:AssumeRole\"}]}");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
		json_object_get(role, "Tags"), 0), "Value")), "v w");
	assert_true(json_is_object(json_object_get(role, "RoleLastUsed")));
	json_decref(o);
}

/* An operation the table does not know: generic conventions. */
static void test_generic_fallback(void **state)
{
	static const char body[] =
		"<DoThingResponse><DoThingResult><Items><member><Name>a</Name><Count>12</Count>"
		"<On>true</On></member></Items><Label>x1</Label></DoThingResult>"
		"<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DoThingResponse>";
	struct cairn_err err;
	json_t *o = NULL, *item;

	(void)state;
	err_clear(&err);
	assert_int_equal(proto_query_parse(&sns, "DoThing", 200, body, strlen(body), NULL, &o, &err), 0);
	item = json_array_get(json_object_get(o, "Items"), 0);
	assert_string_equal(json_string_value(json_object_get(item, "Name")), "a");
	assert_int_equal(json_integer_value(json_object_get(item, "Count")), 12);
	assert_true(json_is_true(json_object_get(item, "On")));
	assert_string_equal(json_string_value(json_object_get(o, "Label")), "x1");
	json_decref(o);
}

static void test_ec2_generic_names(void **state)
{
	static const char body[] = "<FooResponse><requestId>r</requestId><thingSet><item>"
				   "<thingId>t-1</thingId></item></thingSet></FooResponse>";
	struct cairn_err err;
	json_t *o = NULL;

	(void)state;
	err_clear(&err);
	assert_int_equal(proto_query_parse(&ec2, "Foo", 200, body, strlen(body), NULL, &o, &err), 0);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
		json_object_get(o, "ThingSet"), 0), "ThingId")), "t-1");
	assert_null(json_object_get(o, "RequestId"));
	json_decref(o);
}

static void test_malformed(void **state)
{
	struct cairn_err err;
	json_t *o = NULL;

	(void)state;
	err_clear(&err);
	assert_null(xml_parse("<a><b></a>", 10, &err));
	assert_non_null(strstr(err.msg, "malformed XML"));
	err_clear(&err);
	assert_int_equal(proto_query_parse(&sns, "ListTopics", 200, "<a>", 3, NULL, &o, &err), -1);
	assert_null(o);
}

static void test_json_protocol(void **state)
{
	struct cairn_err err;
	size_t len;
	char *body;
	json_t *o = NULL, *td;

	(void)state;
	err_clear(&err);
	body = read_file("tests/data/aws/dynamodb_create_table.json", &len, &err);
	assert_non_null(body);
	assert_int_equal(proto_json_parse(200, body, len, "rid", NULL, &o, &err), 0);
	td = json_object_get(o, "TableDescription");
	assert_string_equal(json_string_value(json_object_get(td, "TableName")), "t");
	assert_true(json_is_number(json_object_get(td, "CreationDateTime")));
	json_decref(o);
	free(body);
	o = NULL;
	assert_int_equal(proto_json_parse(200, "", 0, NULL, NULL, &o, &err), 0);
	assert_true(json_is_object(o));
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ec2_describe_vpcs),
		cmocka_unit_test(test_ec2_security_groups),
		cmocka_unit_test(test_ec2_empty_list),
		cmocka_unit_test(test_query_target_group),
		cmocka_unit_test(test_query_rule_conditions),
		cmocka_unit_test(test_query_map),
		cmocka_unit_test(test_query_list_and_strings),
		cmocka_unit_test(test_iam_role),
		cmocka_unit_test(test_generic_fallback),
		cmocka_unit_test(test_ec2_generic_names),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_json_protocol),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
