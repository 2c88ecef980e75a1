/*
 * test_rest: the rest-xml (s3, route53) and rest-json (lambda) protocols.
 * Expected requests are what botocore's serializers produce for the same
 * input from the same models (method, path, query, headers, body); the
 * responses are shaped as S3, Route 53 and Lambda send them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "providers/aws/endpoints.h"
#include "providers/aws/http.h"
#include "providers/aws/proto.h"

static json_t *parse(const char *text)
{
	json_error_t jerr;
	json_t *v = json_loads(text, 0, &jerr);

	assert_non_null(v);
	return v;
}

static const char *header(const struct proto_request *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->n_headers; i++)
		if (strcmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

static void build(const char *service, const char *op, const char *input, int path_style,
		  struct proto_request *r)
{
	struct cairn_err err;
	json_t *in = input ? parse(input) : NULL;

	err_clear(&err);
	assert_int_equal(proto_rest_build(aws_service_find(service), op, in, NULL, 0, path_style,
					  r, &err), 0);
	json_decref(in);
}

static void test_s3_put_object_path_style(void **state)
{
	struct proto_request r;

	(void)state;
	build("s3", "PutObject", "{\"Bucket\":\"b\",\"Key\":\"dir/a b+c.txt\",\"Body\":\"hi\","
	      "\"IfNoneMatch\":\"*\",\"Metadata\":{\"cairn-format\":\"cairn-state\"},"
	      "\"ServerSideEncryption\":\"aws:kms\",\"SSEKMSKeyId\":\"k1\"}", 1, &r);
	assert_string_equal(r.method, "PUT");
	/* The greedy {Key+} keeps its slashes; everything else is encoded. */
	assert_string_equal(r.path, "/b/dir/a%20b%2Bc.txt");
	/* S3 signs the path as sent: the signer gets it unencoded, encodes it once. */
	assert_string_equal(r.sign_path, "/b/dir/a b+c.txt");
	assert_int_equal(r.normalize_path, 0);
	assert_int_equal(r.sign_body, 1);
	assert_null(r.host_prefix);
	assert_string_equal(r.query, "");
	assert_string_equal(header(&r, "If-None-Match"), "*");
	assert_string_equal(header(&r, "x-amz-meta-cairn-format"), "cairn-state");
	assert_string_equal(header(&r, "x-amz-server-side-encryption"), "aws:kms");
	assert_string_equal(header(&r, "x-amz-server-side-encryption-aws-kms-key-id"), "k1");
	assert_int_equal(r.body.len, 2);
	assert_memory_equal(r.body.buf, "hi", 2);
	assert_string_equal(r.content_type, "application/octet-stream");
	proto_request_free(&r);
}

static void test_s3_virtual_hosted_and_blob(void **state)
{
	struct proto_request r;
	struct cairn_err err;
	json_t *in = parse("{\"Bucket\":\"my-bucket\",\"Key\":\"k\",\"Body\":\"ignored\"}");
	static const char bin[] = { 'S', 0, 'Q', (char)0xff };

	(void)state;
	err_clear(&err);
	assert_int_equal(proto_rest_build(aws_service_find("s3"), "PutObject", in, bin,
					  sizeof(bin), 0, &r, &err), 0);
	assert_string_equal(r.host_prefix, "my-bucket.");
	assert_string_equal(r.path, "/k");
	assert_int_equal(r.body.len, 4);
	assert_memory_equal(r.body.buf, bin, 4);
	proto_request_free(&r);
	/* A member the operation does not have is refused, not guessed. */
	assert_int_equal(proto_rest_build(aws_service_find("s3"), "GetObject", in, NULL, 0, 0,
					  &r, &err), -1);
	assert_non_null(strstr(err.msg, "'Body' is not a member"));
	proto_request_free(&r);
	/* Names that are not DNS labels stay in the path. */
	json_object_del(in, "Body");
	json_object_set_new(in, "Bucket", json_string("My.Bucket"));
	assert_int_equal(proto_rest_build(aws_service_find("s3"), "GetObject", in, NULL, 0, 0,
					  &r, &err), 0);
	assert_null(r.host_prefix);
	assert_string_equal(r.path, "/My.Bucket/k");
	assert_string_equal(r.method, "GET");
	assert_int_equal(r.body.len, 0);
	proto_request_free(&r);
	/* A bucket alone: the path is "/". */
	json_object_del(in, "Key");
	json_object_set_new(in, "Bucket", json_string("my-bucket"));
	assert_int_equal(proto_rest_build(aws_service_find("s3"), "HeadBucket", in, NULL, 0, 0,
					  &r, &err), 0);
	assert_string_equal(r.path, "/");
	assert_string_equal(r.method, "HEAD");
	proto_request_free(&r);
	json_decref(in);
}

static void test_s3_xml_payload_with_namespace(void **state)
{
	struct proto_request r;

	(void)state;
	build("s3", "CreateBucket", "{\"Bucket\":\"b\",\"CreateBucketConfiguration\":"
	      "{\"LocationConstraint\":\"eu-west-1\"}}", 1, &r);
	assert_string_equal(r.method, "PUT");
	assert_string_equal(r.path, "/b");
	assert_string_equal(r.body.buf, "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/"
			    "doc/2006-03-01/\"><LocationConstraint>eu-west-1</LocationConstraint>"
			    "</CreateBucketConfiguration>");
	proto_request_free(&r);
	build("s3", "PutBucketVersioning", "{\"Bucket\":\"b\",\"VersioningConfiguration\":"
	      "{\"Status\":\"Enabled\"}}", 1, &r);
	assert_string_equal(r.query, "versioning");
	assert_string_equal(r.body.buf, "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/"
			    "doc/2006-03-01/\"><Status>Enabled</Status></VersioningConfiguration>");
	proto_request_free(&r);
}

/* S3 refuses configuration calls without an integrity header; the body and
 * its MD5 are what botocore produces (body serialized, hashlib.md5, base64). */
static void test_s3_config_content_md5(void **state)
{
	struct proto_request r;

	(void)state;
	build("s3", "PutBucketTagging", "{\"Bucket\":\"b\",\"Tagging\":{\"TagSet\":"
	      "[{\"Key\":\"k\",\"Value\":\"v\"}]}}", 1, &r);
	assert_string_equal(r.method, "PUT");
	assert_string_equal(r.query, "tagging");
	assert_string_equal(r.body.buf, "<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
			    "<TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>");
	assert_non_null(header(&r, "Content-MD5"));
	assert_string_equal(header(&r, "Content-MD5"), "FqV7h4yLHK9RjIVuFJSqNQ==");
	proto_request_free(&r);
	/* A body-less call carries none. */
	build("s3", "GetBucketTagging", "{\"Bucket\":\"b\"}", 1, &r);
	assert_null(header(&r, "Content-MD5"));
	proto_request_free(&r);
}

static void test_s3_fixed_and_member_query(void **state)
{
	struct proto_request r;

	(void)state;
	build("s3", "ListObjectsV2", "{\"Bucket\":\"b\",\"Prefix\":\"p/\",\"MaxKeys\":5}", 1, &r);
	assert_string_equal(r.path, "/b");
	assert_string_equal(r.query, "list-type=2&prefix=p%2F&max-keys=5");
	proto_request_free(&r);
}

static void test_route53_body_root_and_lists(void **state)
{
	struct proto_request r;

	(void)state;
	build("route53", "ChangeResourceRecordSets", "{\"HostedZoneId\":\"Z1\",\"ChangeBatch\":"
	      "{\"Changes\":[{\"Action\":\"CREATE\",\"ResourceRecordSet\":{\"Name\":\"a.example.com\","
	      "\"Type\":\"A\",\"TTL\":60,\"ResourceRecords\":[{\"Value\":\"1.2.3.4\"}]}}]}}", 0, &r);
	assert_string_equal(r.method, "POST");
	assert_string_equal(r.path, "/2013-04-01/hostedzone/Z1/rrset/");
	assert_int_equal(r.normalize_path, 1);
	assert_int_equal(r.sign_body, 0);
	assert_string_equal(r.body.buf,
		"<ChangeResourceRecordSetsRequest xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\">"
		"<ChangeBatch><Changes><Change><Action>CREATE</Action><ResourceRecordSet>"
		"<Name>a.example.com</Name><Type>A</Type><TTL>60</TTL><ResourceRecords>"
		"<ResourceRecord><Value>1.2.3.4</Value></ResourceRecord></ResourceRecords>"
		"</ResourceRecordSet></Change></Changes></ChangeBatch>"
		"</ChangeResourceRecordSetsRequest>");
	proto_request_free(&r);
}

static void test_lambda_uri_labels_query_and_json(void **state)
{
	struct proto_request r;
	struct cairn_err err;

	(void)state;
	build("lambda", "TagResource", "{\"Resource\":\"arn:aws:lambda:us-east-1:1:function:f\","
	      "\"Tags\":{\"k\":\"v & <w>\"}}", 0, &r);
	assert_string_equal(r.method, "POST");
	assert_string_equal(r.path, "/2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Af");
	/* Outside S3 the signer encodes the sent path once more, as the SDKs do. */
	assert_string_equal(r.sign_path, r.path);
	assert_string_equal(r.body.buf, "{\"Tags\":{\"k\":\"v & <w>\"}}");
	assert_string_equal(r.content_type, "application/json");
	proto_request_free(&r);
	build("lambda", "ListFunctions", "{\"MaxItems\":10,\"Marker\":\"m 1\"}", 0, &r);
	assert_string_equal(r.method, "GET");
	assert_string_equal(r.path, "/2015-03-31/functions");
	assert_string_equal(r.query, "MaxItems=10&Marker=m%201");
	assert_int_equal(r.body.len, 0);
	assert_null(r.content_type);
	proto_request_free(&r);
	/* A missing URI label is the caller's error, not a request to "/functions/". */
	err_clear(&err);
	assert_int_equal(proto_rest_build(aws_service_find("lambda"), "GetFunction", NULL, NULL, 0,
					  0, &r, &err), -1);
	assert_non_null(strstr(err.msg, "FunctionName"));
	proto_request_free(&r);
}

static void response(struct http_response *resp, long status, const char *headers,
		     const char *body)
{
	memset(resp, 0, sizeof(*resp));
	resp->status = status;
	strbuf_init(&resp->headers);
	strbuf_init(&resp->body);
	strbuf_adds(&resp->headers, headers);
	strbuf_adds(&resp->body, body);
}

static void test_s3_parse_headers_meta_and_blob(void **state)
{
	struct http_response resp;
	struct cairn_err err;
	struct strbuf blob;
	json_t *out;

	(void)state;
	err_clear(&err);
	response(&resp, 200, "HTTP/1.1 200 OK\r\nETag: \"abc\"\r\nContent-Length: 5\r\n"
		 "x-amz-meta-Cairn-Format: cairn-state\r\nx-amz-meta-cairn-serial: 7\r\n"
		 "Last-Modified: Sun, 29 Nov 2026 10:00:00 GMT\r\nx-amz-request-id: R1\r\n\r\n",
		 "hello");
	strbuf_init(&blob);
	assert_int_equal(proto_rest_parse(aws_service_find("s3"), "GetObject", &resp, &blob, &out,
					  &err), 0);
	assert_string_equal(json_string_value(json_object_get(out, "ETag")), "\"abc\"");
	assert_int_equal(json_integer_value(json_object_get(out, "ContentLength")), 5);
	assert_string_equal(json_string_value(json_object_get(json_object_get(out, "Metadata"),
							      "cairn-format")), "cairn-state");
	assert_string_equal(json_string_value(json_object_get(json_object_get(out, "Metadata"),
							      "cairn-serial")), "7");
	assert_null(json_object_get(out, "Body"));
	assert_string_equal(blob.buf, "hello");
	json_decref(out);
	/* Without a blob sink the body is a member. */
	assert_int_equal(proto_rest_parse(aws_service_find("s3"), "GetObject", &resp, NULL, &out,
					  &err), 0);
	assert_string_equal(json_string_value(json_object_get(out, "Body")), "hello");
	json_decref(out);
	strbuf_free(&blob);
	http_response_free(&resp);
}

/* An operation without output (PutBucketPolicy: AWS answers 204) ignores
 * a body an endpoint sends anyway (moto's "True"). */
static void test_s3_no_output_ignores_body(void **state)
{
	struct http_response resp;
	struct cairn_err err;
	json_t *out;

	(void)state;
	err_clear(&err);
	response(&resp, 200, "HTTP/1.1 200 OK\r\n\r\n", "True");
	assert_int_equal(proto_rest_parse(aws_service_find("s3"), "PutBucketPolicy", &resp, NULL,
					  &out, &err), 0);
	assert_int_equal(json_object_size(out), 0);
	json_decref(out);
	http_response_free(&resp);
	/* An error still is one. */
	response(&resp, 404, "HTTP/1.1 404 Not Found\r\n\r\n", "<Error><Code>NoSuchBucket</Code>"
		 "<Message>gone</Message></Error>");
	assert_int_equal(proto_rest_parse(aws_service_find("s3"), "PutBucketPolicy", &resp, NULL,
					  &out, &err), -1);
	assert_non_null(strstr(err.msg, "NoSuchBucket"));
	http_response_free(&resp);
}

static void test_s3_parse_list_buckets(void **state)
{
	struct http_response resp;
	struct cairn_err err;
	json_t *out, *b;

	(void)state;
	err_clear(&err);
	response(&resp, 200, "HTTP/1.1 200 OK\r\n\r\n",
		 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListAllMyBucketsResult "
		 "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Owner><ID>o</ID></Owner>"
		 "<Buckets><Bucket><Name>a</Name><CreationDate>2026-01-01T00:00:00.000Z</CreationDate>"
		 "</Bucket></Buckets></ListAllMyBucketsResult>");
	assert_int_equal(proto_rest_parse(aws_service_find("s3"), "ListBuckets", &resp, NULL, &out,
					  &err), 0);
	b = json_object_get(out, "Buckets");
	assert_int_equal(json_array_size(b), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(b, 0), "Name")), "a");
	json_decref(out);
	http_response_free(&resp);
}

static void test_s3_errors(void **state)
{
	struct http_response resp;
	struct cairn_err err;
	json_t *out;

	(void)state;
	/* S3's bare <Error>, no envelope. */
	err_clear(&err);
	response(&resp, 412, "HTTP/1.1 412\r\n\r\n", "<?xml version=\"1.0\"?><Error>"
		 "<Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you "
		 "specified did not hold</Message><RequestId>R2</RequestId></Error>");
	assert_int_equal(proto_rest_parse(aws_service_find("s3"), "PutObject", &resp, NULL, &out,
					  &err), -1);
	assert_null(out);
	assert_int_equal(err.code, CAIRN_EAWS);
	assert_int_equal(err.remote.status, 412);
	assert_string_equal(err.remote.code, "PreconditionFailed");
	assert_string_equal(err.remote.request_id, "R2");
	http_response_free(&resp);
	/* HEAD errors have no body: the code comes from the status. */
	err_clear(&err);
	response(&resp, 404, "HTTP/1.1 404 Not Found\r\nx-amz-request-id: R3\r\n\r\n", "");
	assert_int_equal(proto_rest_parse(aws_service_find("s3"), "HeadObject", &resp, NULL, &out,
					  &err), -1);
	assert_string_equal(err.remote.code, "NotFound");
	assert_string_equal(err.remote.request_id, "R3");
	http_response_free(&resp);
	/* A bucket in another region says where it is. */
	err_clear(&err);
	response(&resp, 301, "HTTP/1.1 301\r\nx-amz-bucket-region: eu-west-1\r\n\r\n", "");
	assert_int_equal(proto_rest_parse(aws_service_find("s3"), "HeadBucket", &resp, NULL, &out,
					  &err), -1);
	assert_string_equal(err.remote.code, "PermanentRedirect");
	assert_non_null(strstr(err.msg, "eu-west-1"));
	http_response_free(&resp);
}

static void test_route53_error_envelope(void **state)
{
	struct http_response resp;
	struct cairn_err err;
	json_t *out;

	(void)state;
	err_clear(&err);
	response(&resp, 404, "HTTP/1.1 404\r\n\r\n", "<ErrorResponse xmlns=\"https://route53."
		 "amazonaws.com/doc/2013-04-01/\"><Error><Type>Sender</Type><Code>NoSuchHostedZone"
		 "</Code><Message>No hosted zone found with ID: Z9</Message></Error><RequestId>R4"
		 "</RequestId></ErrorResponse>");
	assert_int_equal(proto_rest_parse(aws_service_find("route53"), "GetHostedZone", &resp, NULL,
					  &out, &err), -1);
	assert_string_equal(err.remote.code, "NoSuchHostedZone");
	assert_string_equal(err.remote.request_id, "R4");
	http_response_free(&resp);
}

static void test_lambda_parse(void **state)
{
	struct http_response resp;
	struct cairn_err err;
	json_t *out;

	(void)state;
	err_clear(&err);
	response(&resp, 200, "HTTP/1.1 200\r\n\r\n", "{\"Functions\":[{\"FunctionName\":\"f\"}],"
		 "\"NextMarker\":\"n\"}");
	assert_int_equal(proto_rest_parse(aws_service_find("lambda"), "ListFunctions", &resp, NULL,
					  &out, &err), 0);
	assert_string_equal(json_string_value(json_object_get(out, "NextMarker")), "n");
	json_decref(out);
	http_response_free(&resp);
	response(&resp, 404, "HTTP/1.1 404\r\nx-amzn-ErrorType: ResourceNotFoundException\r\n"
		 "x-amzn-RequestId: R5\r\n\r\n", "{\"Type\":\"User\",\"Message\":\"Function not found\"}");
	assert_int_equal(proto_rest_parse(aws_service_find("lambda"), "GetFunction", &resp, NULL,
					  &out, &err), -1);
	assert_string_equal(err.remote.code, "ResourceNotFoundException");
	assert_string_equal(err.remote.request_id, "R5");
	assert_non_null(strstr(err.msg, "Function not found"));
	http_response_free(&resp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_s3_put_object_path_style),
		cmocka_unit_test(test_s3_virtual_hosted_and_blob),
		cmocka_unit_test(test_s3_xml_payload_with_namespace),
		cmocka_unit_test(test_s3_fixed_and_member_query),
		cmocka_unit_test(test_route53_body_root_and_lists),
		cmocka_unit_test(test_lambda_uri_labels_query_and_json),
		cmocka_unit_test(test_s3_parse_headers_meta_and_blob),
		cmocka_unit_test(test_s3_parse_list_buckets),
		cmocka_unit_test(test_s3_config_content_md5),
		cmocka_unit_test(test_s3_no_output_ignores_body),
		cmocka_unit_test(test_s3_errors),
		cmocka_unit_test(test_route53_error_envelope),
		cmocka_unit_test(test_lambda_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
