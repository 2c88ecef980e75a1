/*
 * test_route53: what the Route 53 types send, against a scripted server.
 * Expected bodies are botocore's serialization of the same input (route53
 * 2013-04-01, rest-xml, members in the model's order); the waits for
 * INSYNC go through GetChange until it says so.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "providers/registry.h"
#include "rest_server.h"

#define NS "xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\""

static const char CHANGE_PENDING[] =
	"<ChangeResourceRecordSetsResponse><ChangeInfo><Id>/change/C2</Id><Status>PENDING</Status>"
	"</ChangeInfo></ChangeResourceRecordSetsResponse>";
static const char GET_PENDING[] =
	"<GetChangeResponse><ChangeInfo><Id>/change/C2</Id><Status>PENDING</Status></ChangeInfo>"
	"</GetChangeResponse>";
static const char GET_INSYNC[] =
	"<GetChangeResponse><ChangeInfo><Id>/change/C2</Id><Status>INSYNC</Status></ChangeInfo>"
	"</GetChangeResponse>";

static void test_private_zone_create(void **state)
{
	static const struct rs_answer answers[] = {
		{201, NULL, "<CreateHostedZoneResponse><HostedZone><Id>/hostedzone/Z9</Id><Name>"
			    "example.com.</Name></HostedZone><ChangeInfo><Id>/change/C2</Id><Status>"
			    "PENDING</Status></ChangeInfo></CreateHostedZoneResponse>"},
		{200, NULL, "<ChangeTagsForResourceResponse/>"},
		{200, NULL, GET_PENDING},
		{200, NULL, GET_INSYNC},
		{200, NULL, "<GetHostedZoneResponse><HostedZone><Id>/hostedzone/Z9</Id><Name>"
			    "example.com.</Name><Config><Comment>c</Comment><PrivateZone>true"
			    "</PrivateZone></Config></HostedZone><VPCs><VPC><VPCRegion>us-east-1"
			    "</VPCRegion><VPCId>vpc-1</VPCId></VPC></VPCs></GetHostedZoneResponse>"},
		{200, NULL, "<ListTagsForResourceResponse><ResourceTagSet><Tags><Tag><Key>"
			    "cairn:stack</Key><Value>r53u</Value></Tag></Tags></ResourceTagSet>"
			    "</ListTagsForResourceResponse>"},
		{0, NULL, NULL}};
	const struct resource_ops *ops = provider_lookup("aws_route53_zone");
	struct rs_server s;
	struct aws_client *c;
	struct provider_ctx ctx;
	struct cairn_err err;
	json_t *attrs = rs_json("{\"name\":\"example.com\",\"comment\":\"c\",\"vpc\":[{\"vpc_id\":"
				"\"vpc-1\"}],\"tags\":{},\"force_destroy\":false}"), *out = NULL;
	const char *ref;

	(void)state;
	c = rs_open(&s, answers, &ctx, "r53u");
	err_clear(&err);
	assert_int_equal(ops->create(&ctx, attrs, &out, &err), 0);
	assert_string_equal(s.lines[0], "POST /2013-04-01/hostedzone");
	/* botocore, members in model order; the caller reference is random
	 * after the stack and resource names */
	ref = "<CreateHostedZoneRequest " NS "><Name>example.com</Name><VPC><VPCRegion>us-east-1"
	      "</VPCRegion><VPCId>vpc-1</VPCId></VPC><CallerReference>cairn/r53u/res/";
	assert_memory_equal(s.bodies[0], ref, strlen(ref));
	assert_non_null(strstr(s.bodies[0], "</CallerReference><HostedZoneConfig><Comment>c"
					    "</Comment><PrivateZone>true</PrivateZone>"
					    "</HostedZoneConfig></CreateHostedZoneRequest>"));
	assert_string_equal(s.lines[1], "POST /2013-04-01/tags/hostedzone/Z9");
	assert_string_equal(s.bodies[1], "<ChangeTagsForResourceRequest " NS "><AddTags><Tag><Key>"
			    "cairn:resource</Key><Value>res</Value></Tag><Tag><Key>cairn:stack"
			    "</Key><Value>r53u</Value></Tag></AddTags></ChangeTagsForResourceRequest>");
	assert_string_equal(s.lines[2], "GET /2013-04-01/change/C2");
	assert_string_equal(s.lines[3], "GET /2013-04-01/change/C2");
	assert_string_equal(json_string_value(json_object_get(out, "id")), "Z9");
	assert_string_equal(json_string_value(json_object_get(out, "name")), "example.com");
	assert_string_equal(json_string_value(json_object_get(
		json_array_get(json_object_get(out, "vpc"), 0), "vpc_id")), "vpc-1");
	json_decref(out);
	json_decref(attrs);
	rs_close(&s, c);
}

static void test_alias_record_create(void **state)
{
	static const struct rs_answer answers[] = {
		{200, NULL, CHANGE_PENDING},
		{200, NULL, GET_INSYNC},
		{200, NULL, "<ListResourceRecordSetsResponse><ResourceRecordSets><ResourceRecordSet>"
			    "<Name>app.example.com.</Name><Type>A</Type><AliasTarget><HostedZoneId>"
			    "Z35SXDOTRQ7X7K</HostedZoneId><DNSName>LB-1.us-east-1.elb.amazonaws.com."
			    "</DNSName><EvaluateTargetHealth>true</EvaluateTargetHealth></AliasTarget>"
			    "</ResourceRecordSet></ResourceRecordSets></ListResourceRecordSetsResponse>"},
		{0, NULL, NULL}};
	const struct resource_ops *ops = provider_lookup("aws_route53_record");
	struct rs_server s;
	struct aws_client *c;
	struct provider_ctx ctx;
	struct cairn_err err;
	json_t *attrs = rs_json("{\"zone_id\":\"Z1\",\"name\":\"app.example.com\",\"type\":\"A\","
				"\"alias\":{\"name\":\"lb-1.us-east-1.elb.amazonaws.com\",\"zone_id\":"
				"\"Z35SXDOTRQ7X7K\",\"evaluate_target_health\":true},"
				"\"allow_overwrite\":false}"), *out = NULL;
	json_t *alias;

	(void)state;
	c = rs_open(&s, answers, &ctx, "r53u");
	err_clear(&err);
	assert_int_equal(ops->create(&ctx, attrs, &out, &err), 0);
	assert_string_equal(s.lines[0], "POST /2013-04-01/hostedzone/Z1/rrset/");
	assert_string_equal(s.bodies[0], "<ChangeResourceRecordSetsRequest " NS "><ChangeBatch>"
			    "<Changes><Change><Action>CREATE</Action><ResourceRecordSet><Name>"
			    "app.example.com</Name><Type>A</Type><AliasTarget><HostedZoneId>"
			    "Z35SXDOTRQ7X7K</HostedZoneId><DNSName>lb-1.us-east-1.elb.amazonaws.com"
			    "</DNSName><EvaluateTargetHealth>true</EvaluateTargetHealth></AliasTarget>"
			    "</ResourceRecordSet></Change></Changes></ChangeBatch>"
			    "</ChangeResourceRecordSetsRequest>");
	assert_string_equal(s.lines[1], "GET /2013-04-01/change/C2");
	assert_string_equal(s.lines[2], "GET /2013-04-01/hostedzone/Z1/rrset?name=app.example.com"
			    "&type=A&maxitems=1");
	assert_string_equal(json_string_value(json_object_get(out, "id")), "Z1_app.example.com_A");
	/* AWS's trailing dot and case are not a change */
	alias = json_object_get(out, "alias");
	assert_string_equal(json_string_value(json_object_get(alias, "name")),
			    "lb-1.us-east-1.elb.amazonaws.com");
	assert_null(json_object_get(out, "ttl"));
	json_decref(out);
	json_decref(attrs);
	rs_close(&s, c);
}

/* TXT values travel quoted and read back without; an import id whose
 * name holds underscores splits at the first and last one. */
static void test_txt_record_and_import_id(void **state)
{
	static const struct rs_answer answers[] = {
		{200, NULL, "<ListResourceRecordSetsResponse><ResourceRecordSets><ResourceRecordSet>"
			    "<Name>_acme.example.com.</Name><Type>TXT</Type><TTL>60</TTL>"
			    "<ResourceRecords><ResourceRecord><Value>\"v=1\"</Value></ResourceRecord>"
			    "</ResourceRecords></ResourceRecordSet></ResourceRecordSets>"
			    "</ListResourceRecordSetsResponse>"},
		{0, NULL, NULL}};
	const struct resource_ops *ops = provider_lookup("aws_route53_record");
	struct rs_server s;
	struct aws_client *c;
	struct provider_ctx ctx;
	struct cairn_err err;
	json_t *out = NULL;

	(void)state;
	c = rs_open(&s, answers, &ctx, "r53u");
	err_clear(&err);
	assert_int_equal(ops->read(&ctx, "Z1__acme.example.com_TXT", NULL, &out, &err), 0);
	assert_string_equal(s.lines[0], "GET /2013-04-01/hostedzone/Z1/rrset?name=_acme.example.com"
			    "&type=TXT&maxitems=1");
	assert_string_equal(json_string_value(json_array_get(json_object_get(out, "records"), 0)),
			    "v=1");
	assert_int_equal(json_integer_value(json_object_get(out, "ttl")), 60);
	json_decref(out);
	out = NULL;
	assert_int_equal(ops->read(&ctx, "Z1-www-A", NULL, &out, &err), -1);
	assert_null(out);
	assert_int_equal(err.code, CAIRN_EINVAL);
	assert_non_null(strstr(err.msg, "ZONEID_NAME_TYPE"));
	rs_close(&s, c);
}

/* AWS answers names lowercase with the root's dot; the stack's spelling of
 * the same name is kept, so it is no change. */
static void test_names_keep_the_stack_spelling(void **state)
{
	static const struct rs_answer answers[] = {
		{200, NULL, "<ListResourceRecordSetsResponse><ResourceRecordSets><ResourceRecordSet>"
			    "<Name>app.example.com.</Name><Type>A</Type><AliasTarget><HostedZoneId>Z35"
			    "</HostedZoneId><DNSName>my-lb-1.us-east-1.elb.amazonaws.com.</DNSName>"
			    "<EvaluateTargetHealth>false</EvaluateTargetHealth></AliasTarget>"
			    "</ResourceRecordSet></ResourceRecordSets></ListResourceRecordSetsResponse>"},
		{0, NULL, NULL}};
	const struct resource_ops *ops = provider_lookup("aws_route53_record");
	struct rs_server s;
	struct aws_client *c;
	struct provider_ctx ctx;
	struct cairn_err err;
	json_t *prior = rs_json("{\"name\":\"App.Example.com.\",\"alias\":{\"name\":"
				"\"My-LB-1.us-east-1.elb.amazonaws.com\"}}"), *out = NULL;

	(void)state;
	c = rs_open(&s, answers, &ctx, "r53u");
	err_clear(&err);
	assert_int_equal(ops->read(&ctx, "Z1_app.example.com_A", prior, &out, &err), 0);
	assert_string_equal(json_string_value(json_object_get(out, "name")), "App.Example.com.");
	assert_string_equal(json_string_value(json_object_get(out, "fqdn")), "app.example.com");
	assert_string_equal(json_string_value(json_object_get(json_object_get(out, "alias"), "name")),
			    "My-LB-1.us-east-1.elb.amazonaws.com");
	json_decref(out);
	json_decref(prior);
	rs_close(&s, c);
}

/* force_destroy: the records of each page go in one DELETE batch, waited
 * for; the listing is read again until only the apex NS and SOA are left. */
static void test_zone_force_destroy(void **state)
{
	static const char NS_SOA[] =
		"<ResourceRecordSet><Name>example.com.</Name><Type>NS</Type><TTL>172800</TTL>"
		"<ResourceRecords><ResourceRecord><Value>ns-1.example.</Value></ResourceRecord>"
		"</ResourceRecords></ResourceRecordSet><ResourceRecordSet><Name>example.com.</Name>"
		"<Type>SOA</Type><TTL>900</TTL><ResourceRecords><ResourceRecord><Value>ns-1 x 1"
		"</Value></ResourceRecord></ResourceRecords></ResourceRecordSet>";
	char page1[2048], page2[1024];
	struct rs_answer answers[] = {
		{200, NULL, page1},
		{200, NULL, CHANGE_PENDING},
		{200, NULL, GET_INSYNC},
		{200, NULL, page2},
		{200, NULL, "<DeleteHostedZoneResponse><ChangeInfo><Id>/change/C3</Id><Status>"
			    "PENDING</Status></ChangeInfo></DeleteHostedZoneResponse>"},
		{0, NULL, NULL}};
	const struct resource_ops *ops = provider_lookup("aws_route53_zone");
	struct rs_server s;
	struct aws_client *c;
	struct provider_ctx ctx;
	struct cairn_err err;
	json_t *attrs = rs_json("{\"name\":\"example.com\",\"force_destroy\":true}");

	(void)state;
	snprintf(page1, sizeof(page1), "<ListResourceRecordSetsResponse><ResourceRecordSets>%s"
		 "<ResourceRecordSet><Name>a.example.com.</Name><Type>A</Type><TTL>60</TTL>"
		 "<ResourceRecords><ResourceRecord><Value>10.0.0.1</Value></ResourceRecord>"
		 "</ResourceRecords></ResourceRecordSet></ResourceRecordSets>"
		 "</ListResourceRecordSetsResponse>", NS_SOA);
	snprintf(page2, sizeof(page2), "<ListResourceRecordSetsResponse><ResourceRecordSets>%s"
		 "</ResourceRecordSets></ListResourceRecordSetsResponse>", NS_SOA);
	c = rs_open(&s, answers, &ctx, "r53u");
	err_clear(&err);
	assert_int_equal(ops->delete(&ctx, "Z9", attrs, &err), 0);
	assert_string_equal(s.lines[0], "GET /2013-04-01/hostedzone/Z9/rrset");
	assert_string_equal(s.lines[1], "POST /2013-04-01/hostedzone/Z9/rrset/");
	assert_string_equal(s.bodies[1], "<ChangeResourceRecordSetsRequest " NS "><ChangeBatch>"
			    "<Changes><Change><Action>DELETE</Action><ResourceRecordSet><Name>"
			    "a.example.com.</Name><Type>A</Type><TTL>60</TTL><ResourceRecords>"
			    "<ResourceRecord><Value>10.0.0.1</Value></ResourceRecord></ResourceRecords>"
			    "</ResourceRecordSet></Change></Changes></ChangeBatch>"
			    "</ChangeResourceRecordSetsRequest>");
	assert_string_equal(s.lines[2], "GET /2013-04-01/change/C2");
	assert_string_equal(s.lines[3], "GET /2013-04-01/hostedzone/Z9/rrset");
	assert_string_equal(s.lines[4], "DELETE /2013-04-01/hostedzone/Z9");
	json_decref(attrs);
	rs_close(&s, c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_private_zone_create),
		cmocka_unit_test(test_alias_record_create),
		cmocka_unit_test(test_txt_record_and_import_id),
		cmocka_unit_test(test_names_keep_the_stack_spelling),
		cmocka_unit_test(test_zone_force_destroy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
