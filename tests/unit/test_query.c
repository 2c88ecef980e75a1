/*
 * test_query: query and ec2 request serialization (proto_query_build) and
 * the json protocol's request. Expected bodies are what botocore's own
 * serializers produce for the same input (urlencoded as botocore's
 * AWSRequest sends them: space as '+').
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "providers/aws/proto.h"

static const struct aws_service ec2 = { "ec2", AWS_PROTO_EC2, "2016-11-15", "ec2", "ec2",
					NULL, NULL, "EC2", 0 };
static const struct aws_service elbv2 = { "elbv2", AWS_PROTO_QUERY, "2015-12-01",
					  "elasticloadbalancing", "elasticloadbalancing",
					  NULL, NULL, "ELASTIC_LOAD_BALANCING_V2", 0 };
static const struct aws_service sns = { "sns", AWS_PROTO_QUERY, "2010-03-31", "sns", "sns",
					NULL, NULL, "SNS", 0 };
static const struct aws_service dynamodb = { "dynamodb", AWS_PROTO_JSON, NULL, "dynamodb",
					     "dynamodb", "1.0", "DynamoDB_20120810", "DYNAMODB", 0 };

static void check(const struct aws_service *svc, const char *op, const char *input,
		  const char *want)
{
	struct proto_request r;
	json_error_t jerr;
	json_t *in = input ? json_loads(input, 0, &jerr) : NULL;

	if (input)
		assert_non_null(in);
	proto_query_build(svc, op, in, &r);
	assert_string_equal(r.body.buf, want);
	assert_string_equal(r.content_type, "application/x-www-form-urlencoded; charset=utf-8");
	assert_string_equal(r.target, "");
	proto_request_free(&r);
	json_decref(in);
}

static void test_ec2_lists_use_wire_names(void **state)
{
	(void)state;
	check(&ec2, "DescribeVpcs",
	      "{\"VpcIds\":[\"vpc-1\",\"vpc-2\"],\"Filters\":[{\"Name\":\"tag:Name\",\"Values\":[\"web a/b\"]}]}",
	      "Action=DescribeVpcs&Version=2016-11-15&VpcId.1=vpc-1&VpcId.2=vpc-2"
	      "&Filter.1.Name=tag%3AName&Filter.1.Value.1=web+a%2Fb");
	check(&ec2, "CreateVpc",
	      "{\"CidrBlock\":\"10.0.0.0/16\",\"TagSpecifications\":[{\"ResourceType\":\"vpc\","
	      "\"Tags\":[{\"Key\":\"k\",\"Value\":\"v=1\"}]}]}",
	      "Action=CreateVpc&Version=2016-11-15&CidrBlock=10.0.0.0%2F16"
	      "&TagSpecification.1.ResourceType=vpc&TagSpecification.1.Tag.1.Key=k"
	      "&TagSpecification.1.Tag.1.Value=v%3D1");
}

static void test_ec2_nested_numbers_utf8(void **state)
{
	(void)state;
	check(&ec2, "AuthorizeSecurityGroupIngress",
	      "{\"GroupId\":\"sg-1\",\"IpPermissions\":[{\"IpProtocol\":\"tcp\",\"FromPort\":80,"
	      "\"ToPort\":80,\"IpRanges\":[{\"CidrIp\":\"0.0.0.0/0\",\"Description\":\"\xc3\xa9\"}]}]}",
	      "Action=AuthorizeSecurityGroupIngress&Version=2016-11-15&GroupId=sg-1"
	      "&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=80&IpPermissions.1.ToPort=80"
	      "&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0%2F0"
	      "&IpPermissions.1.IpRanges.1.Description=%C3%A9");
	check(&ec2, "ModifyVpcAttribute", "{\"VpcId\":\"vpc-1\",\"EnableDnsHostnames\":{\"Value\":true}}",
	      "Action=ModifyVpcAttribute&Version=2016-11-15&VpcId=vpc-1&EnableDnsHostnames.Value=true");
	check(&ec2, "DescribeAvailabilityZones", "{\"AllAvailabilityZones\":false}",
	      "Action=DescribeAvailabilityZones&Version=2016-11-15&AllAvailabilityZones=false");
	/* An empty list is left out by ec2; no input at all is just the action. */
	check(&ec2, "DescribeVpcs", "{\"VpcIds\":[]}", "Action=DescribeVpcs&Version=2016-11-15");
	check(&ec2, "DescribeVpcs", NULL, "Action=DescribeVpcs&Version=2016-11-15");
}

static void test_query_lists_maps_structs(void **state)
{
	(void)state;
	check(&elbv2, "CreateTargetGroup",
	      "{\"Name\":\"tg\",\"Port\":80,\"Protocol\":\"HTTP\",\"VpcId\":\"vpc-1\","
	      "\"Tags\":[{\"Key\":\"a\",\"Value\":\"b\"}],\"Matcher\":{\"HttpCode\":\"200\"}}",
	      "Action=CreateTargetGroup&Version=2015-12-01&Name=tg&Port=80&Protocol=HTTP"
	      "&VpcId=vpc-1&Tags.member.1.Key=a&Tags.member.1.Value=b&Matcher.HttpCode=200");
	check(&elbv2, "DescribeTargetGroups", "{\"Names\":[]}",
	      "Action=DescribeTargetGroups&Version=2015-12-01&Names=");
	check(&sns, "CreateTopic", "{\"Name\":\"t\",\"Attributes\":{\"DisplayName\":\"x y\"}}",
	      "Action=CreateTopic&Version=2010-03-31&Name=t&Attributes.entry.1.key=DisplayName"
	      "&Attributes.entry.1.value=x+y");
}

/*
 * Listener rule conditions of every kind and a weighted forward, and the
 * access log attributes of a load balancer: nested structures inside
 * member lists, a list of structures inside a config.
 */
static void test_query_rule_conditions(void **state)
{
	(void)state;
	check(&elbv2, "CreateRule",
	      "{\"ListenerArn\":\"arn:l\",\"Priority\":5,\"Conditions\":["
	      "{\"Field\":\"http-header\",\"HttpHeaderConfig\":{\"HttpHeaderName\":\"X-Env\","
	      "\"Values\":[\"a b\",\"c\"]}},"
	      "{\"Field\":\"http-request-method\",\"HttpRequestMethodConfig\":{\"Values\":[\"GET\"]}},"
	      "{\"Field\":\"query-string\",\"QueryStringConfig\":{\"Values\":["
	      "{\"Key\":\"k\",\"Value\":\"v\"},{\"Value\":\"w*\"}]}},"
	      "{\"Field\":\"source-ip\",\"SourceIpConfig\":{\"Values\":[\"10.0.0.0/8\"]}}],"
	      "\"Actions\":[{\"Type\":\"forward\",\"Order\":1,\"ForwardConfig\":{\"TargetGroups\":["
	      "{\"TargetGroupArn\":\"arn:a\",\"Weight\":90},{\"TargetGroupArn\":\"arn:b\",\"Weight\":10}],"
	      "\"TargetGroupStickinessConfig\":{\"Enabled\":true,\"DurationSeconds\":600}}}]}",
	      "Action=CreateRule&Version=2015-12-01&ListenerArn=arn%3Al&Priority=5"
	      "&Conditions.member.1.Field=http-header"
	      "&Conditions.member.1.HttpHeaderConfig.HttpHeaderName=X-Env"
	      "&Conditions.member.1.HttpHeaderConfig.Values.member.1=a+b"
	      "&Conditions.member.1.HttpHeaderConfig.Values.member.2=c"
	      "&Conditions.member.2.Field=http-request-method"
	      "&Conditions.member.2.HttpRequestMethodConfig.Values.member.1=GET"
	      "&Conditions.member.3.Field=query-string"
	      "&Conditions.member.3.QueryStringConfig.Values.member.1.Key=k"
	      "&Conditions.member.3.QueryStringConfig.Values.member.1.Value=v"
	      "&Conditions.member.3.QueryStringConfig.Values.member.2.Value=w%2A"
	      "&Conditions.member.4.Field=source-ip"
	      "&Conditions.member.4.SourceIpConfig.Values.member.1=10.0.0.0%2F8"
	      "&Actions.member.1.Type=forward&Actions.member.1.Order=1"
	      "&Actions.member.1.ForwardConfig.TargetGroups.member.1.TargetGroupArn=arn%3Aa"
	      "&Actions.member.1.ForwardConfig.TargetGroups.member.1.Weight=90"
	      "&Actions.member.1.ForwardConfig.TargetGroups.member.2.TargetGroupArn=arn%3Ab"
	      "&Actions.member.1.ForwardConfig.TargetGroups.member.2.Weight=10"
	      "&Actions.member.1.ForwardConfig.TargetGroupStickinessConfig.Enabled=true"
	      "&Actions.member.1.ForwardConfig.TargetGroupStickinessConfig.DurationSeconds=600");
	check(&elbv2, "ModifyLoadBalancerAttributes",
	      "{\"LoadBalancerArn\":\"arn:lb\",\"Attributes\":["
	      "{\"Key\":\"access_logs.s3.enabled\",\"Value\":\"true\"},"
	      "{\"Key\":\"access_logs.s3.bucket\",\"Value\":\"logs\"},"
	      "{\"Key\":\"access_logs.s3.prefix\",\"Value\":\"a/b\"}]}",
	      "Action=ModifyLoadBalancerAttributes&Version=2015-12-01&LoadBalancerArn=arn%3Alb"
	      "&Attributes.member.1.Key=access_logs.s3.enabled&Attributes.member.1.Value=true"
	      "&Attributes.member.2.Key=access_logs.s3.bucket&Attributes.member.2.Value=logs"
	      "&Attributes.member.3.Key=access_logs.s3.prefix&Attributes.member.3.Value=a%2Fb");
}

/* Operations outside the table: generic conventions. */
static void test_generic(void **state)
{
	(void)state;
	check(&sns, "Frobnicate", "{\"Ids\":[\"a\",\"b\"],\"Opt\":{\"Deep\":1.5,\"On\":true},\"N\":null}",
	      "Action=Frobnicate&Version=2010-03-31&Ids.member.1=a&Ids.member.2=b"
	      "&Opt.Deep=1.5&Opt.On=true");
	check(&ec2, "Frobnicate", "{\"Ids\":[\"a\"]}", "Action=Frobnicate&Version=2016-11-15&Ids.1=a");
}

static void test_json_request(void **state)
{
	struct proto_request r;
	json_t *in = json_pack("{s:s}", "TableName", "t");

	(void)state;
	proto_json_build(&dynamodb, "DescribeTable", in, &r);
	assert_string_equal(r.body.buf, "{\"TableName\":\"t\"}");
	assert_string_equal(r.content_type, "application/x-amz-json-1.0");
	assert_string_equal(r.target, "DynamoDB_20120810.DescribeTable");
	proto_request_free(&r);
	proto_json_build(&dynamodb, "ListTables", NULL, &r);
	assert_string_equal(r.body.buf, "{}");
	proto_request_free(&r);
	json_decref(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ec2_lists_use_wire_names),
		cmocka_unit_test(test_ec2_nested_numbers_utf8),
		cmocka_unit_test(test_query_lists_maps_structs),
		cmocka_unit_test(test_query_rule_conditions),
		cmocka_unit_test(test_generic),
		cmocka_unit_test(test_json_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
