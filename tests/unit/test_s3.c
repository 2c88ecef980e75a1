/*
 * test_s3: what the S3 bucket types send, against a scripted server.
 * Expected bodies are botocore's serialization of the same input (s3
 * 2006-03-01, rest-xml), for the parts moto 5.2.1 drops or cannot show:
 * the ownership tags in CreateBucketConfiguration, the Content-MD5 of the
 * configuration calls, the order force_destroy deletes versions in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "providers/registry.h"
#include "rest_server.h"

static const char TAGS_XML[] =
	"<Tagging><TagSet><Tag><Key>cairn:resource</Key><Value>res</Value></Tag>"
	"<Tag><Key>cairn:stack</Key><Value>s3u</Value></Tag>"
	"<Tag><Key>team</Key><Value>a</Value></Tag></TagSet></Tagging>";

static void test_bucket_create_wire(void **state)
{
	static const struct rs_answer answers[] = {
		{404, NULL, ""},                                  /* HeadBucket: free */
		{200, NULL, ""},                                  /* CreateBucket */
		{204, NULL, ""},                                  /* PutBucketTagging */
		{200, "x-amz-bucket-region: us-east-1\r\n", ""},  /* HeadBucket */
		{200, NULL, TAGS_XML},                            /* GetBucketTagging */
		{0, NULL, NULL}};
	const struct resource_ops *ops = provider_lookup("aws_s3_bucket");
	struct rs_server s;
	struct aws_client *c;
	struct provider_ctx ctx;
	struct cairn_err err;
	json_t *attrs = rs_json("{\"bucket\":\"bkt-1\",\"force_destroy\":false,"
				"\"tags\":{\"team\":\"a\"}}"), *out = NULL;

	(void)state;
	c = rs_open(&s, answers, &ctx, "s3u");
	err_clear(&err);
	assert_int_equal(ops->create(&ctx, attrs, &out, &err), 0);
	assert_string_equal(s.lines[0], "HEAD /bkt-1");
	assert_string_equal(s.lines[1], "PUT /bkt-1");
	/* botocore: CreateBucketConfiguration with Tags (us-east-1: no LocationConstraint) */
	assert_string_equal(s.bodies[1],
			    "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
			    "<Tags><Tag><Key>cairn:resource</Key><Value>res</Value></Tag><Tag><Key>"
			    "cairn:stack</Key><Value>s3u</Value></Tag><Tag><Key>team</Key><Value>a"
			    "</Value></Tag></Tags></CreateBucketConfiguration>");
	assert_string_equal(s.lines[2], "PUT /bkt-1?tagging");
	assert_true(s.md5[2][0] != '\0');
	assert_string_equal(json_string_value(json_object_get(out, "arn")), "arn:aws:s3:::bkt-1");
	assert_string_equal(json_string_value(json_object_get(json_object_get(out, "tags"), "team")),
			    "a");
	assert_null(json_object_get(json_object_get(out, "tags"), "cairn:stack"));
	assert_string_equal(json_string_value(json_object_get(out, "bucket_regional_domain_name")),
			    "bkt-1.s3.us-east-1.amazonaws.com");
	json_decref(out);
	json_decref(attrs);
	rs_close(&s, c);
}

/* A bucket of that name that exists already is refused, never taken over. */
static void test_bucket_create_refuses_existing(void **state)
{
	static const struct rs_answer answers[] = {
		{200, "x-amz-bucket-region: us-east-1\r\n", ""},  /* HeadBucket: taken */
		{0, NULL, NULL}};
	const struct resource_ops *ops = provider_lookup("aws_s3_bucket");
	struct rs_server s;
	struct aws_client *c;
	struct provider_ctx ctx;
	struct cairn_err err;
	json_t *attrs = rs_json("{\"bucket\":\"bkt-1\",\"tags\":{}}"), *out = NULL;

	(void)state;
	c = rs_open(&s, answers, &ctx, "s3u");
	err_clear(&err);
	assert_int_equal(ops->create(&ctx, attrs, &out, &err), -1);
	assert_null(out);
	assert_non_null(strstr(err.msg, "BucketAlreadyOwnedByYou"));
	assert_int_equal(s.served, 1);
	json_decref(attrs);
	rs_close(&s, c);
}

static void test_force_destroy_versions_then_bucket(void **state)
{
	static const struct rs_answer answers[] = {
		{200, NULL, "<ListVersionsResult><Version><Key>k</Key><VersionId>v1</VersionId>"
			    "</Version><DeleteMarker><Key>k</Key><VersionId>m1</VersionId>"
			    "</DeleteMarker></ListVersionsResult>"},
		{204, NULL, ""},                    /* DeleteObject m1 */
		{204, NULL, ""},                    /* DeleteObject v1 */
		{200, NULL, "<ListVersionsResult></ListVersionsResult>"},
		{204, NULL, ""},                    /* DeleteBucket */
		{404, NULL, ""},                    /* HeadBucket: gone */
		{0, NULL, NULL}};
	const struct resource_ops *ops = provider_lookup("aws_s3_bucket");
	struct rs_server s;
	struct aws_client *c;
	struct provider_ctx ctx;
	struct cairn_err err;
	json_t *attrs = rs_json("{\"bucket\":\"bkt-1\",\"force_destroy\":true}");

	(void)state;
	c = rs_open(&s, answers, &ctx, "s3u");
	err_clear(&err);
	assert_int_equal(ops->delete(&ctx, "bkt-1", attrs, &err), 0);
	assert_string_equal(s.lines[0], "GET /bkt-1?versions");
	assert_string_equal(s.lines[1], "DELETE /bkt-1/k?versionId=m1");
	assert_string_equal(s.lines[2], "DELETE /bkt-1/k?versionId=v1");
	assert_string_equal(s.lines[4], "DELETE /bkt-1");
	assert_string_equal(s.lines[5], "HEAD /bkt-1");
	json_decref(attrs);
	rs_close(&s, c);
}

/* Configuration calls carry Content-MD5; a missing configuration reads as gone. */
static void test_public_access_block_wire(void **state)
{
	static const struct rs_answer answers[] = {
		{200, NULL, ""},                    /* PutPublicAccessBlock */
		{200, NULL, "<PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls>"
			    "<BlockPublicPolicy>false</BlockPublicPolicy><IgnorePublicAcls>false"
			    "</IgnorePublicAcls><RestrictPublicBuckets>false</RestrictPublicBuckets>"
			    "</PublicAccessBlockConfiguration>"},
		{404, NULL, "<Error><Code>NoSuchPublicAccessBlockConfiguration</Code><Message>none"
			    "</Message></Error>"},
		{0, NULL, NULL}};
	const struct resource_ops *ops = provider_lookup("aws_s3_bucket_public_access_block");
	struct rs_server s;
	struct aws_client *c;
	struct provider_ctx ctx;
	struct cairn_err err;
	json_t *attrs = rs_json("{\"bucket\":\"bkt-1\",\"block_public_acls\":true}"), *out = NULL;

	(void)state;
	c = rs_open(&s, answers, &ctx, "s3u");
	err_clear(&err);
	assert_int_equal(ops->create(&ctx, attrs, &out, &err), 0);
	assert_string_equal(s.lines[0], "PUT /bkt-1?publicAccessBlock");
	/* botocore: the four flags in model order */
	assert_string_equal(s.bodies[0],
			    "<PublicAccessBlockConfiguration xmlns=\"http://s3.amazonaws.com/doc/"
			    "2006-03-01/\"><BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>"
			    "false</IgnorePublicAcls><BlockPublicPolicy>false</BlockPublicPolicy>"
			    "<RestrictPublicBuckets>false</RestrictPublicBuckets>"
			    "</PublicAccessBlockConfiguration>");
	assert_true(s.md5[0][0] != '\0');
	assert_true(json_is_true(json_object_get(out, "block_public_acls")));
	json_decref(out);
	out = NULL;
	assert_int_equal(ops->read(&ctx, "bkt-1", attrs, &out, &err), 0);
	assert_null(out);
	json_decref(attrs);
	rs_close(&s, c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket_create_wire),
		cmocka_unit_test(test_bucket_create_refuses_existing),
		cmocka_unit_test(test_force_destroy_versions_then_bucket),
		cmocka_unit_test(test_public_access_block_wire),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
