/*
 * test_redact: secrets disappear from request/response dumps in every form
 * cairn logs; everything else stays as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "providers/aws/redact.h"

/* What cmd would hand over for schemas marking these attributes sensitive
 * (value, password, old_password, new_password). */
static const char *const FIELDS[] = {"Value", "Password", "OldPassword", "NewPassword", NULL};

static void expect(const char *in, const char *want)
{
	char *got = redact_text(in, FIELDS);

	assert_string_equal(got, want);
	free(got);
}

static void test_authorization(void **state)
{
	(void)state;
	expect("POST / HTTP/1.1\n"
	       "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/sts/aws4_request, "
	       "SignedHeaders=content-type;host;x-amz-date, "
	       "Signature=52a8540fea00e731072179f763577cbe2a45eac2c5d32fb4d785f3eefac88165\n"
	       "Host: sts.amazonaws.com\n",
	       "POST / HTTP/1.1\n"
	       "Authorization: AWS4-HMAC-SHA256 Credential=AKID***/20150830/us-east-1/sts/aws4_request, "
	       "SignedHeaders=content-type;host;x-amz-date, Signature=***\n"
	       "Host: sts.amazonaws.com\n");
	/* curl-style prefixes and other schemes */
	expect("> authorization: Basic dXNlcjpwYXNz\r\n> Accept: */*\r\n",
	       "> authorization: ***\r\n> Accept: */*\r\n");
	expect("Authorization:Bearer abc.def\n", "Authorization:***\n");
	/* a short key id is not padded out */
	expect("Credential=AK/20150830/x", "Credential=AK***/20150830/x");
}

static void test_headers(void **state)
{
	(void)state;
	expect("X-Amz-Date: 20150830T123600Z\n"
	       "X-Amz-Security-Token: AQoDYXdzEPT//////////wEXAMPLE+/=\n"
	       "x-aws-ec2-metadata-token: AQAEAFx==\n"
	       "Content-Type: application/json\n",
	       "X-Amz-Date: 20150830T123600Z\n"
	       "X-Amz-Security-Token: ***\n"
	       "x-aws-ec2-metadata-token: ***\n"
	       "Content-Type: application/json\n");
	/* the ttl header is not the token */
	expect("X-aws-ec2-metadata-token-ttl-seconds: 21600", "X-aws-ec2-metadata-token-ttl-seconds: 21600");
}

static void test_query(void **state)
{
	(void)state;
	expect("GET /?Action=DescribeVpcs&X-Amz-Algorithm=AWS4-HMAC-SHA256"
	       "&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fec2%2Faws4_request"
	       "&X-Amz-Security-Token=AQo%2F%2Bx%3D&X-Amz-Signature=deadbeef&Version=2016-11-15 HTTP/1.1",
	       "GET /?Action=DescribeVpcs&X-Amz-Algorithm=AWS4-HMAC-SHA256"
	       "&X-Amz-Credential=AKID***%2F20150830%2Fus-east-1%2Fec2%2Faws4_request"
	       "&X-Amz-Security-Token=***&X-Amz-Signature=***&Version=2016-11-15 HTTP/1.1");
	/* form bodies, nested names, *Password, empty values */
	expect("Action=CreateLoginProfile&UserName=bob&Password=hunter2&PasswordResetRequired=true",
	       "Action=CreateLoginProfile&UserName=bob&Password=***&PasswordResetRequired=true");
	expect("Action=ChangePassword&OldPassword=a%26b&NewPassword=c",
	       "Action=ChangePassword&OldPassword=***&NewPassword=***");
	expect("Attributes.entry.1.key=x&Credentials.SessionToken=tok&Token=", "Attributes.entry.1.key=x&Credentials.SessionToken=***&Token=");
	/* shared credentials file lines */
	expect("[default]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = wJalr/K7+M\n"
	       "aws_session_token=IQo\nregion = us-east-1\n",
	       "[default]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = ***\n"
	       "aws_session_token=***\nregion = us-east-1\n");
	/* similar names that are not secrets */
	expect("NextToken=abc&ClientToken=def&MaxResults=5", "NextToken=abc&ClientToken=def&MaxResults=5");
}

static void test_json(void **state)
{
	(void)state;
	expect("{\"Credentials\":{\"AccessKeyId\":\"ASIAEXAMPLE\",\"SecretAccessKey\":\"wJalr/K7+MDENG\","
	       "\"SessionToken\":\"AQo\\\"DY\\\\\",\"Expiration\":1700000000},\"NextToken\":\"n\"}",
	       "{\"Credentials\":{\"AccessKeyId\":\"ASIAEXAMPLE\",\"SecretAccessKey\":\"***\","
	       "\"SessionToken\":\"***\",\"Expiration\":1700000000},\"NextToken\":\"n\"}");
	/* container/IMDS answers, with spacing */
	expect("{\n  \"Code\" : \"Success\",\n  \"Token\" : \"IQoJb3JpZ2lu\",\n  \"Type\" : \"AWS-HMAC\"\n}",
	       "{\n  \"Code\" : \"Success\",\n  \"Token\" : \"***\",\n  \"Type\" : \"AWS-HMAC\"\n}");
	expect("{\"authorizationData\":[{\"authorizationToken\":\"QVdTOmV5Sg==\",\"proxyEndpoint\":\"https://x\"}]}",
	       "{\"authorizationData\":[{\"authorizationToken\":\"***\",\"proxyEndpoint\":\"https://x\"}]}");
	expect("{\"WebIdentityToken\":\"eyJ.a.b\",\"RoleArn\":\"arn\"}", "{\"WebIdentityToken\":\"***\",\"RoleArn\":\"arn\"}");
	/* SSM parameter values */
	expect("{\"Name\":\"/db/pw\",\"Type\":\"SecureString\",\"Value\":\"hunter2\"}",
	       "{\"Name\":\"/db/pw\",\"Type\":\"SecureString\",\"Value\":\"***\"}");
	/* non-string values and ordinary strings are left alone */
	expect("{\"Password\":null,\"Message\":\"the password: is required\"}",
	       "{\"Password\":null,\"Message\":\"the password: is required\"}");
	/* JSON carried as an escaped string inside another message */
	expect("error: {\\\"SecretAccessKey\\\":\\\"abc\\\",\\\"x\\\":1}",
	       "error: {\\\"SecretAccessKey\\\":\\\"***\\\",\\\"x\\\":1}");
}

static void test_xml(void **state)
{
	(void)state;
	expect("<AssumeRoleResult><Credentials>\n"
	       "  <AccessKeyId>ASIAEXAMPLE</AccessKeyId>\n"
	       "  <SecretAccessKey>wJalr/K7+MDENG</SecretAccessKey>\n"
	       "  <SessionToken>AQoDYXdz</SessionToken>\n"
	       "  <Expiration>2023-11-14T23:13:20Z</Expiration>\n"
	       "</Credentials><NextToken>n</NextToken><Password/></AssumeRoleResult>",
	       "<AssumeRoleResult><Credentials>\n"
	       "  <AccessKeyId>ASIAEXAMPLE</AccessKeyId>\n"
	       "  <SecretAccessKey>***</SecretAccessKey>\n"
	       "  <SessionToken>***</SessionToken>\n"
	       "  <Expiration>2023-11-14T23:13:20Z</Expiration>\n"
	       "</Credentials><NextToken>n</NextToken><Password/></AssumeRoleResult>");
	expect("<ns:Password xmlns:ns=\"u\">p</ns:Password>", "<ns:Password xmlns:ns=\"u\">***</ns:Password>");
	/* unterminated: hide to the end */
	expect("<Token>abc", "<Token>***");
}

/* Resource fields are hidden only when a schema marks them sensitive. */
static void test_fields_from_schemas(void **state)
{
	static const char *const none[] = {NULL};
	const char *in = "{\"Key\":\"k\",\"Value\":\"v\"} Tags.member.1.Value=v <Value>v</Value>";
	char *s = redact_text(in, NULL);

	assert_string_equal(s, in);
	free(s);
	s = redact_text(in, none);
	assert_string_equal(s, in);
	free(s);
	s = redact_text(in, FIELDS);
	assert_string_equal(s, "{\"Key\":\"k\",\"Value\":\"***\"} Tags.member.1.Value=*** "
			       "<Value>***</Value>");
	free(s);
	/* camelCase JSON APIs, exact otherwise */
	s = redact_text("{\"value\":\"v\",\"values\":\"w\",\"VALUE\":\"x\"}", FIELDS);
	assert_string_equal(s, "{\"value\":\"***\",\"values\":\"w\",\"VALUE\":\"x\"}");
	free(s);
	/* the client's own credentials are hidden whatever the schemas say */
	s = redact_text("SessionToken=t&X-Amz-Signature=abc", NULL);
	assert_string_equal(s, "SessionToken=***&X-Amz-Signature=***");
	free(s);
}

static void test_plain(void **state)
{
	char *s;

	(void)state;
	expect("", "");
	expect("nothing secret here: a=b, c: d <e>f</e> \"g\":\"h\"", "nothing secret here: a=b, c: d <e>f</e> \"g\":\"h\"");
	s = redact_text(NULL, FIELDS);
	assert_string_equal(s, "");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_authorization),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_xml),
		cmocka_unit_test(test_fields_from_schemas),
		cmocka_unit_test(test_plain),
	};

	return cmocka_run_group_tests_name("redact", tests, NULL, NULL);
}
