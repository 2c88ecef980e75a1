/*
 * test_client: aws_call / aws_call_all end to end against a scripted local
 * HTTP server: standard-mode retries with injected randomness and sleep,
 * final errors, the request counter, pagination, and connection errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "providers/aws/aws.h"
#include "rest_server.h"

static char *response(int status, const char *body)
{
	return xasprintf("HTTP/1.1 %d X\r\nContent-Type: text/xml\r\nx-amzn-RequestId: rid-%d\r\n"
			 "Connection: close\r\nContent-Length: %zu\r\n\r\n%s",
			 status, status, strlen(body), body);
}

/* Injected sleep and randomness: sleeps are recorded, never taken. */
static long slept[16];
static size_t n_slept;
static void fake_sleep(long ms)
{
	slept[n_slept++] = ms;
}
static double fake_rand(void *ctx)
{
	return *(double *)ctx;
}
static int64_t fake_now(void)
{
	return 1700000000;
}

/* container: take credentials from the server (ECS container endpoint) instead of the environment. */
static struct aws_client *client_with(int port, const char *attempts, double *r, int container)
{
	static char endpoint[64], max[64], full_uri[96];
	static char *env_keys[] = {
		"AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret",
		"AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=/nonexistent/config", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent/creds",
		endpoint, max, NULL };
	static char *env_container[] = {
		"AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=/nonexistent/config", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent/creds",
		endpoint, max, full_uri, NULL };
	struct aws_client_opts o = {0};
	struct cairn_err err;
	struct aws_client *c;

	snprintf(endpoint, sizeof(endpoint), "AWS_ENDPOINT_URL=http://127.0.0.1:%d", port);
	snprintf(max, sizeof(max), "AWS_MAX_ATTEMPTS=%s", attempts);
	snprintf(full_uri, sizeof(full_uri),
		 "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:%d/creds", port);
	o.envp = container ? env_container : env_keys;
	o.now = fake_now;
	o.rand01 = fake_rand;
	o.rand_ctx = r;
	o.sleep_ms = fake_sleep;
	n_slept = 0;
	err_clear(&err);
	c = aws_client_new(&o, &err);
	assert_non_null(c);
	return c;
}

static struct aws_client *client_for(int port, const char *attempts, double *r)
{
	return client_with(port, attempts, r, 0);
}

/* Start s answering its s->n scripted responses, and a client at it. */
static struct aws_client *scripted_client(struct rs_raw *s, const char *attempts, double *r,
					  int container)
{
	rs_raw_start(s);
	return client_with(s->port, attempts, r, container);
}

/* Free the client, stop the server and free its responses. */
static void scripted_end(struct rs_raw *s, struct aws_client *c)
{
	aws_client_free(c);
	rs_raw_stop(s);
	for (size_t i = 0; i < s->n; i++)
		free((char *)s->responses[i]);
}

static const char topics_ok[] =
	"<ListTopicsResponse><ListTopicsResult><Topics><member><TopicArn>arn:b</TopicArn></member>"
	"</Topics></ListTopicsResult></ListTopicsResponse>";

static void test_retries_5xx_then_succeeds(void **state)
{
	struct rs_raw s = {0};
	double r = 0.5;
	struct aws_client *c;
	struct cairn_err err;
	json_t *out = NULL;

	(void)state;
	s.responses[0] = response(503, "<ErrorResponse><Error><Code>ServiceUnavailable</Code>"
				  "<Message>busy</Message></Error></ErrorResponse>");
	s.responses[1] = response(500, "oops");
	s.responses[2] = response(200, topics_ok);
	s.n = 3;
	c = scripted_client(&s, "3", &r, 0);
	err_clear(&err);
	assert_int_equal(aws_call(c, "sns", "ListTopics", NULL, &out, &err), 0);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
		json_object_get(out, "Topics"), 0), "TopicArn")), "arn:b");
	assert_int_equal(aws_client_requests(c), 3);
	/* Full jitter with r = 0.5: half of 100 ms, then half of 200 ms. */
	assert_int_equal(n_slept, 2);
	assert_int_equal(slept[0], 50);
	assert_int_equal(slept[1], 100);
	assert_string_equal(s.bodies[2], "Action=ListTopics&Version=2010-03-31");
	assert_non_null(strstr(s.heads[2], "Credential=AKIDEXAMPLE/20231114/us-east-1/sns/aws4_request"));
	assert_non_null(strstr(s.heads[2], "Host: 127.0.0.1:"));
	json_decref(out);
	scripted_end(&s, c);
}

static void test_throttling_gives_up_after_max_attempts(void **state)
{
	struct rs_raw s = {0};
	double r = 0.0;
	struct aws_client *c;
	struct cairn_err err;
	json_t *out = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++)
		s.responses[i] = response(400, "<ErrorResponse><Error><Code>Throttling</Code>"
					  "<Message>Rate exceeded</Message></Error>"
					  "<RequestId>r-9</RequestId></ErrorResponse>");
	s.n = 2;
	c = scripted_client(&s, "2", &r, 0);
	err_clear(&err);
	assert_int_equal(aws_call(c, "sns", "ListTopics", NULL, &out, &err), -1);
	assert_null(out);
	assert_int_equal(err.code, CAIRN_EAWS);
	assert_int_equal(err.remote.status, 400);
	assert_string_equal(err.remote.code, "Throttling");
	assert_string_equal(err.remote.request_id, "r-9");
	assert_string_equal(err.msg, "Throttling: Rate exceeded");
	assert_true(err.remote.retryable);
	assert_int_equal(aws_client_requests(c), 2);
	assert_int_equal(n_slept, 1);
	scripted_end(&s, c);
}

/* The server's clock is an hour ahead (fake_now is 2023-11-14T22:13:20Z):
 * the request is re-signed with its time and retried once, at once. */
static void test_clock_skew_resigns_and_retries_once(void **state)
{
	static const char skewed[] =
		"<ErrorResponse><Error><Code>RequestTimeTooSkewed</Code><Message>The difference "
		"between the request time and the current time is too large.</Message></Error>"
		"</ErrorResponse>";
	struct rs_raw s = {0};
	double r = 0.5;
	struct aws_client *c;
	struct cairn_err err;
	json_t *out = NULL;

	(void)state;
	s.responses[0] = xasprintf("HTTP/1.1 403 X\r\nDate: Tue, 14 Nov 2023 23:13:20 GMT\r\n"
				   "Connection: close\r\nContent-Length: %zu\r\n\r\n%s",
				   strlen(skewed), skewed);
	s.responses[1] = response(200, topics_ok);
	/* A second refusal with the same Date is not about our clock any more. */
	s.responses[2] = xasprintf("%s", s.responses[0]);
	s.n = 3;
	c = scripted_client(&s, "3", &r, 0);
	err_clear(&err);
	assert_int_equal(aws_call(c, "sns", "ListTopics", NULL, &out, &err), 0);
	assert_int_equal(aws_client_requests(c), 2);
	assert_int_equal(n_slept, 0);
	assert_non_null(strstr(s.heads[0], "X-Amz-Date: 20231114T221320Z"));
	assert_non_null(strstr(s.heads[1], "X-Amz-Date: 20231114T231320Z"));
	json_decref(out);
	out = NULL;
	err_clear(&err);
	assert_int_equal(aws_call(c, "sns", "ListTopics", NULL, &out, &err), -1);
	assert_string_equal(err.remote.code, "RequestTimeTooSkewed");
	assert_int_equal(aws_client_requests(c), 3);
	scripted_end(&s, c);
}

/* An answer that breaks off after its status line: AWS did the request. A
 * write is not sent again (it could be done twice); a read is. */
static void test_answer_cut_off_retries_reads_only(void **state)
{
	static const char cut[] = "HTTP/1.1 200 X\r\nContent-Type: text/xml\r\n"
		"Connection: close\r\nContent-Length: 400\r\n\r\n<CreateTopicResponse><Create";
	struct rs_raw s = {0};
	double r = 0.5;
	struct aws_client *c;
	struct cairn_err err;
	json_t *out = NULL;

	(void)state;
	s.responses[0] = xasprintf("%s", cut);
	s.responses[1] = xasprintf("%s", cut);
	s.responses[2] = response(200, topics_ok);
	s.n = 3;
	c = scripted_client(&s, "3", &r, 0);
	err_clear(&err);
	assert_int_equal(aws_call(c, "sns", "CreateTopic", NULL, &out, &err), -1);
	assert_int_equal(err.code, CAIRN_ENET);
	assert_int_equal(err.remote.status, 200);
	assert_int_equal(aws_client_requests(c), 1);
	err_clear(&err);
	assert_int_equal(aws_call(c, "sns", "ListTopics", NULL, &out, &err), 0);
	assert_int_equal(aws_client_requests(c), 3);
	json_decref(out);
	scripted_end(&s, c);
}

/* No answer at all: a Create* call is not sent again (the engine looks for
 * what it may have made first); another write is, and the refusal that
 * follows says an earlier attempt may have been carried out. */
static void test_unanswered_create_is_not_resent(void **state)
{
	static const char exists[] = "<ErrorResponse><Error><Type>Sender</Type>"
		"<Code>InvalidParameter</Code><Message>exists</Message></Error></ErrorResponse>";
	struct rs_raw s = {0};
	double r = 0.5;
	struct aws_client *c;
	struct cairn_err err;
	json_t *out = NULL;

	(void)state;
	s.responses[0] = xstrdup("");
	s.responses[1] = xstrdup("");
	s.responses[2] = response(400, exists);
	s.n = 3;
	c = scripted_client(&s, "3", &r, 0);
	err_clear(&err);
	assert_int_equal(aws_call(c, "sns", "CreateTopic", NULL, &out, &err), -1);
	assert_int_equal(err.code, CAIRN_ENET);
	assert_int_equal(err.remote.retryable, 1);
	assert_int_equal(err.remote.maybe_done, 1);
	assert_int_equal(aws_client_requests(c), 1);
	err_clear(&err);
	assert_int_equal(aws_call(c, "sns", "SetTopicAttributes", NULL, &out, &err), -1);
	assert_int_equal(err.code, CAIRN_EAWS);
	assert_string_equal(err.remote.code, "InvalidParameter");
	assert_int_equal(err.remote.maybe_done, 1);
	assert_int_equal(aws_client_requests(c), 3);
	scripted_end(&s, c);
}

static void test_client_error_is_not_retried(void **state)
{
	struct rs_raw s = {0};
	double r = 0.5;
	struct aws_client *c;
	struct cairn_err err;
	json_t *out = NULL;

	(void)state;
	s.responses[0] = response(400, "<Response><Errors><Error><Code>InvalidVpcID.NotFound</Code>"
				  "<Message>nope</Message></Error></Errors><RequestID>q</RequestID>"
				  "</Response>");
	s.n = 1;
	c = scripted_client(&s, "5", &r, 0);
	err_clear(&err);
	assert_int_equal(aws_call(c, "ec2", "DescribeVpcs", NULL, &out, &err), -1);
	assert_string_equal(err.remote.code, "InvalidVpcID.NotFound");
	assert_false(err.remote.retryable);
	assert_int_equal(aws_client_requests(c), 1);
	assert_int_equal(n_slept, 0);
	scripted_end(&s, c);
}

static void test_pagination(void **state)
{
	struct rs_raw s = {0};
	double r = 0.5;
	struct aws_client *c;
	struct cairn_err err;
	json_t *items = NULL, *in = json_pack("{s:s}", "TopicArn", "arn:t");

	(void)state;
	s.responses[0] = response(200, "<ListSubscriptionsByTopicResponse><ListSubscriptionsByTopicResult>"
				  "<Subscriptions><member><Protocol>sqs</Protocol></member></Subscriptions>"
				  "<NextToken>tok/1</NextToken></ListSubscriptionsByTopicResult>"
				  "</ListSubscriptionsByTopicResponse>");
	s.responses[1] = response(200, "<ListSubscriptionsByTopicResponse><ListSubscriptionsByTopicResult>"
				  "<Subscriptions><member><Protocol>email</Protocol></member>"
				  "<member><Protocol>https</Protocol></member></Subscriptions>"
				  "</ListSubscriptionsByTopicResult></ListSubscriptionsByTopicResponse>");
	s.n = 2;
	c = scripted_client(&s, "3", &r, 0);
	err_clear(&err);
	assert_int_equal(aws_call_all(c, "sns", "ListSubscriptionsByTopic", in, "Subscriptions",
				      &items, &err), 0);
	assert_int_equal(json_array_size(items), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(items, 2), "Protocol")),
			    "https");
	assert_non_null(strstr(s.bodies[1], "&NextToken=tok%2F1"));
	assert_null(strstr(s.bodies[0], "NextToken"));
	/* The caller's input is left alone. */
	assert_null(json_object_get(in, "NextToken"));
	json_decref(items);
	json_decref(in);
	scripted_end(&s, c);
}

/* elbv2's NextMarker goes back as Marker; IAM pages with IsTruncated + Marker. */
static void test_pagination_markers(void **state)
{
	struct rs_raw s = {0};
	double r = 0.5;
	struct aws_client *c;
	struct cairn_err err;
	json_t *items = NULL;

	(void)state;
	s.responses[0] = response(200, "<DescribeTargetGroupsResponse><DescribeTargetGroupsResult>"
				  "<TargetGroups><member><Port>80</Port></member></TargetGroups>"
				  "<NextMarker>m1</NextMarker></DescribeTargetGroupsResult>"
				  "</DescribeTargetGroupsResponse>");
	s.responses[1] = response(200, "<DescribeTargetGroupsResponse><DescribeTargetGroupsResult>"
				  "<TargetGroups><member><Port>81</Port></member></TargetGroups>"
				  "</DescribeTargetGroupsResult></DescribeTargetGroupsResponse>");
	s.responses[2] = response(200, "<ListRolesResponse><ListRolesResult><Roles><member>"
				  "<RoleName>a</RoleName></member></Roles><IsTruncated>true</IsTruncated>"
				  "<Marker>x2</Marker></ListRolesResult></ListRolesResponse>");
	s.responses[3] = response(200, "<ListRolesResponse><ListRolesResult><Roles><member>"
				  "<RoleName>b</RoleName></member></Roles><IsTruncated>false</IsTruncated>"
				  "</ListRolesResult></ListRolesResponse>");
	s.n = 4;
	c = scripted_client(&s, "1", &r, 0);
	err_clear(&err);
	assert_int_equal(aws_call_all(c, "elbv2", "DescribeTargetGroups", NULL, "TargetGroups",
				      &items, &err), 0);
	assert_int_equal(json_array_size(items), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 1), "Port")), 81);
	assert_non_null(strstr(s.bodies[1], "&Marker=m1"));
	json_decref(items);
	assert_int_equal(aws_call_all(c, "iam", "ListRoles", NULL, "Roles", &items, &err), 0);
	assert_int_equal(json_array_size(items), 2);
	assert_non_null(strstr(s.bodies[3], "&Marker=x2"));
	json_decref(items);
	scripted_end(&s, c);
}

static void test_connection_error(void **state)
{
	struct rs_raw s = {0};
	double r = 0.25;
	struct aws_client *c;
	struct cairn_err err;
	json_t *out = NULL;
	int port;

	(void)state;
	/* A port that was just free: bind, note it, close. */
	rs_raw_start(&s);
	port = s.port;
	rs_raw_stop(&s);
	c = client_for(port, "3", &r);
	err_clear(&err);
	assert_int_equal(aws_call(c, "sts", "GetCallerIdentity", NULL, &out, &err), -1);
	assert_int_equal(err.code, CAIRN_ENET);
	assert_true(err.remote.retryable);
	assert_int_equal(aws_client_requests(c), 3);
	assert_int_equal(n_slept, 2);
	assert_int_equal(slept[0], 25);
	assert_int_equal(slept[1], 50);
	aws_client_free(c);
}

/* Temporary credentials that AWS says have expired are fetched anew, once. */
static void test_expired_token_refreshes_credentials(void **state)
{
	struct rs_raw s = {0};
	double r = 0.5;
	struct aws_client *c;
	struct cairn_err err;
	json_t *out = NULL;

	(void)state;
	s.responses[0] = response(200, "{\"AccessKeyId\":\"ASIAONE\",\"SecretAccessKey\":\"s1\","
				  "\"Token\":\"t1\",\"Expiration\":\"2030-01-01T00:00:00Z\"}");
	s.responses[1] = response(400, "<ErrorResponse><Error><Code>ExpiredToken</Code>"
				  "<Message>The security token included in the request is expired"
				  "</Message></Error></ErrorResponse>");
	s.responses[2] = response(200, "{\"AccessKeyId\":\"ASIATWO\",\"SecretAccessKey\":\"s2\","
				  "\"Token\":\"t2\",\"Expiration\":\"2030-01-01T01:00:00Z\"}");
	s.responses[3] = response(200, topics_ok);
	s.n = 4;
	c = scripted_client(&s, "3", &r, 1);
	err_clear(&err);
	assert_int_equal(aws_call(c, "sns", "ListTopics", NULL, &out, &err), 0);
	assert_int_equal(json_array_size(json_object_get(out, "Topics")), 1);
	assert_int_equal(s.served, 4);
	assert_non_null(strstr(s.heads[1], "Credential=ASIAONE/"));
	assert_non_null(strstr(s.heads[1], "X-Amz-Security-Token: t1"));
	assert_non_null(strstr(s.heads[2], "GET /creds"));
	assert_non_null(strstr(s.heads[3], "Credential=ASIATWO/"));
	assert_non_null(strstr(s.heads[3], "X-Amz-Security-Token: t2"));
	/* ExpiredToken is not a retry: no backoff was taken. */
	assert_int_equal(n_slept, 0);
	json_decref(out);
	scripted_end(&s, c);
}

struct caller {
	struct aws_client *c;
	int rc;
	json_t *out;
};

static void *call_thread(void *arg)
{
	struct caller *k = arg;
	struct cairn_err err;

	err_clear(&err);
	k->rc = aws_call(k->c, "sns", "ListTopics", NULL, &k->out, &err);
	return NULL;
}

/* One client, several threads at once (as the executor uses it). */
static void test_threads_share_a_client(void **state)
{
	struct rs_raw s = {0};
	struct caller k[4];
	pthread_t t[4];
	double r = 0.5;
	struct aws_client *c;
	size_t i;

	(void)state;
	for (i = 0; i < 4; i++)
		s.responses[i] = response(200, topics_ok);
	s.n = 4;
	c = scripted_client(&s, "1", &r, 0);
	for (i = 0; i < 4; i++) {
		k[i].c = c;
		k[i].out = NULL;
		pthread_create(&t[i], NULL, call_thread, &k[i]);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(k[i].rc, 0);
		assert_int_equal(json_array_size(json_object_get(k[i].out, "Topics")), 1);
		json_decref(k[i].out);
	}
	assert_int_equal(aws_client_requests(c), 4);
	scripted_end(&s, c);
}

static void test_unknown_service(void **state)
{
	double r = 0.5;
	struct aws_client *c = client_for(1, "1", &r);
	struct cairn_err err;
	json_t *out = NULL;

	(void)state;
	err_clear(&err);
	assert_int_equal(aws_call(c, "nosuch", "Op", NULL, &out, &err), -1);
	assert_int_equal(err.code, CAIRN_EINVAL);
	assert_non_null(strstr(err.msg, "unknown AWS service 'nosuch'"));
	assert_int_equal(aws_client_requests(c), 0);
	assert_string_equal(aws_client_region(c), "us-east-1");
	aws_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retries_5xx_then_succeeds),
		cmocka_unit_test(test_throttling_gives_up_after_max_attempts),
		cmocka_unit_test(test_unanswered_create_is_not_resent),
		cmocka_unit_test(test_client_error_is_not_retried),
		cmocka_unit_test(test_clock_skew_resigns_and_retries_once),
		cmocka_unit_test(test_answer_cut_off_retries_reads_only),
		cmocka_unit_test(test_pagination),
		cmocka_unit_test(test_pagination_markers),
		cmocka_unit_test(test_connection_error),
		cmocka_unit_test(test_expired_token_refreshes_credentials),
		cmocka_unit_test(test_threads_share_a_client),
		cmocka_unit_test(test_unknown_service),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
