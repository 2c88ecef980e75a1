/*
 * test_errors: AWS error responses of every protocol (captured from moto
 * where possible) into struct cairn_err: code CAIRN_EAWS, HTTP status, AWS
 * code, request id, message "CODE: message".
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
static const struct aws_service iam = { "iam", AWS_PROTO_QUERY, "2010-05-08", "iam", "iam",
					NULL, NULL, "IAM", 1 };

static void query_sample(const struct aws_service *svc, const char *op, const char *file,
			 long status, struct cairn_err *err)
{
	char *path = xasprintf("tests/data/aws/%s", file);
	size_t len;
	char *body;
	json_t *out = NULL;

	err_clear(err);
	body = read_file(path, &len, err);
	assert_non_null(body);
	assert_int_equal(proto_query_parse(svc, op, status, body, len, "hdr-rid", &out, err), -1);
	assert_null(out);
	assert_int_equal(err->code, CAIRN_EAWS);
	assert_int_equal(err->remote.status, status);
	free(body);
	free(path);
}

static void test_ec2_error(void **state)
{
	struct cairn_err e;

	(void)state;
	query_sample(&ec2, "DescribeVpcs", "ec2_error.xml", 400, &e);
	assert_string_equal(e.remote.code, "InvalidVpcID.NotFound");
	assert_string_equal(e.remote.request_id, "request-id");
	assert_string_equal(e.msg, "InvalidVpcID.NotFound: VpcID {'vpc-nope'} does not exist.");
}

static void test_query_errors(void **state)
{
	struct cairn_err e;

	(void)state;
	query_sample(&elbv2, "DescribeTargetGroups", "elbv2_error.xml", 400, &e);
	assert_string_equal(e.remote.code, "TargetGroupNotFound");
	assert_string_equal(e.remote.request_id, "AH8C1hb3wLqZK4ifhM3MqoxIBqJIh4RTeJvHgPxmmc2ABHVazUuQ");
	assert_string_equal(e.msg, "TargetGroupNotFound: One or more target groups not found");
	query_sample(&iam, "GetRole", "iam_error.xml", 404, &e);
	assert_string_equal(e.remote.code, "NoSuchEntity");
	assert_string_equal(e.msg, "NoSuchEntity: Role nope not found");
}

static void test_query_error_without_xml(void **state)
{
	static const char body[] = "<html>Bad Gateway</html";
	struct cairn_err e;
	json_t *out = NULL;

	(void)state;
	err_clear(&e);
	assert_int_equal(proto_query_parse(&elbv2, "DescribeTargetGroups", 502, body, strlen(body),
					   "hdr-rid", &out, &e), -1);
	assert_int_equal(e.code, CAIRN_EAWS);
	assert_int_equal(e.remote.status, 502);
	assert_string_equal(e.remote.code, "");
	assert_string_equal(e.remote.request_id, "hdr-rid");
	assert_non_null(strstr(e.msg, "HTTP 502"));
	/* A 2xx that is not XML is an error too, never a half output. */
	err_clear(&e);
	assert_int_equal(proto_query_parse(&elbv2, "DescribeTargetGroups", 200, "{}", 2, NULL, &out, &e), -1);
	assert_null(out);
}

static void test_json_errors(void **state)
{
	struct cairn_err e;
	size_t len;
	char *file;
	const char *body;
	json_t *out = NULL;

	(void)state;
	err_clear(&e);
	file = read_file("tests/data/aws/dynamodb_error.json", &len, &e);
	assert_non_null(file);
	body = file;
	assert_int_equal(proto_json_parse(400, body, len, "rid-1", NULL, &out, &e), -1);
	assert_int_equal(e.code, CAIRN_EAWS);
	assert_int_equal(e.remote.status, 400);
	assert_string_equal(e.remote.code, "ResourceNotFoundException");
	assert_string_equal(e.remote.request_id, "rid-1");
	assert_string_equal(e.msg, "ResourceNotFoundException: Requested resource not found: "
			    "Table: nope not found");
	free(file);
	/* Message with a capital M (ecs, ecr); code only in the header. */
	err_clear(&e);
	body = "{\"__type\":\"ClusterNotFoundException\",\"Message\":\"no cluster\"}";
	assert_int_equal(proto_json_parse(400, body, strlen(body), NULL, NULL, &out, &e), -1);
	assert_string_equal(e.msg, "ClusterNotFoundException: no cluster");
	err_clear(&e);
	body = "{\"message\":\"bad sig\"}";
	assert_int_equal(proto_json_parse(403, body, strlen(body), NULL,
					  "UnrecognizedClientException:http://internal.amazon.com/",
					  &out, &e), -1);
	assert_string_equal(e.remote.code, "UnrecognizedClientException");
	assert_string_equal(e.msg, "UnrecognizedClientException: bad sig");
	/* An XML error to a json call (moto's signature check answers so). */
	err_clear(&e);
	body = "<?xml version=\"1.0\"?>\n<ErrorResponse><Errors><Error><Code>SignatureDoesNotMatch"
	       "</Code><Message>bad signature</Message></Error></Errors></ErrorResponse>";
	assert_int_equal(proto_json_parse(403, body, strlen(body), "r2", NULL, &out, &e), -1);
	assert_string_equal(e.remote.code, "SignatureDoesNotMatch");
	assert_string_equal(e.msg, "SignatureDoesNotMatch: bad signature");
	assert_string_equal(e.remote.request_id, "r2");
	/* Not JSON at all. */
	err_clear(&e);
	body = "Service Unavailable";
	assert_int_equal(proto_json_parse(503, body, strlen(body), NULL, NULL, &out, &e), -1);
	assert_int_equal(e.remote.status, 503);
	assert_non_null(strstr(e.msg, "HTTP 503"));
}

/* A success without output may be the body "null": an empty answer, not an error. */
static void test_json_null_success(void **state)
{
	struct cairn_err e;
	json_t *out = NULL;

	(void)state;
	err_clear(&e);
	assert_int_equal(proto_json_parse(200, "null", 4, NULL, NULL, &out, &e), 0);
	assert_true(json_is_object(out));
	assert_int_equal(json_object_size(out), 0);
	json_decref(out);
	/* a bare string is still malformed */
	assert_int_equal(proto_json_parse(200, "\"x\"", 3, NULL, NULL, &out, &e), -1);
	assert_null(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ec2_error),
		cmocka_unit_test(test_query_errors),
		cmocka_unit_test(test_query_error_without_xml),
		cmocka_unit_test(test_json_errors),
		cmocka_unit_test(test_json_null_success),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
