/*
 * test_pipeline_wire: the requests the delivery pipeline types send for
 * the calls moto 5.2.1 does not implement (CodeDeploy DeleteApplication,
 * DeleteDeploymentGroup, UpdateDeploymentGroup, UpdateApplication;
 * CodeBuild UpdateProject; CodeCommit tags and UpdateRepositoryDescription),
 * checked against a scripted local server: the X-Amz-Target and the JSON
 * body, whose member names are those of botocore's models
 * (codedeploy 2014-10-06, codebuild 2016-10-06, codecommit 2015-04-13).
 * Plus: a CodeCommit read whose tag call fails with a server error keeps
 * the recorded tags; an EventBridge target refused inside PutTargets' 200
 * answer (FailedEntries) is an error.
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

#include "providers/registry.h"
#include "providers/aws/aws.h"
#include "rest_server.h"

#define MAX_REQ 16

/* Answers each request by its X-Amz-Target (STS, a form post, has none)
 * from a table of canned answers; records every target and body. */
struct answer {
	const char *target;     /* "CodeDeploy_20141006.DeleteApplication"; NULL: STS */
	int status;
	const char *body;
};

struct server {
	int fd, port;
	const struct answer *answers;
	char targets[MAX_REQ][128];
	char bodies[MAX_REQ][4096];
	size_t served;
	pthread_t thread;
};

static void *serve(void *arg)
{
	struct server *s = arg;

	for (;;) {
		int c = accept(s->fd, NULL, NULL);
		const struct answer *a;
		char *resp, *t;
		int status = 200;
		const char *body = "{}", *ctype = "application/x-amz-json-1.1";

		if (c < 0)
			break;
		t = s->served < MAX_REQ ? s->targets[s->served] : s->targets[MAX_REQ - 1];
		rs_read_target(c, t, sizeof(s->targets[0]),
			     s->served < MAX_REQ ? s->bodies[s->served] : s->bodies[MAX_REQ - 1],
			     sizeof(s->bodies[0]));
		if (!*t) {
			body = RS_STS_OK;
			ctype = "text/xml";
		}
		for (a = s->answers; *t && a->target; a++)
			if (strcmp(a->target, t) == 0) {
				status = a->status;
				body = a->body;
				break;
			}
		resp = xasprintf("HTTP/1.1 %d X\r\nContent-Type: %s\r\nx-amzn-RequestId: rid\r\n"
				 "Connection: close\r\nContent-Length: %zu\r\n\r\n%s", status, ctype,
				 strlen(body), body);
		if (write(c, resp, strlen(resp)) < 0)
			perror("write");
		free(resp);
		s->served++;
		close(c);
	}
	return NULL;
}

static void server_start(struct server *s, const struct answer *answers)
{
	memset(s, 0, sizeof(*s));
	s->answers = answers;
	s->fd = rs_listen(&s->port);
	pthread_create(&s->thread, NULL, serve, s);
}

static void server_stop(struct server *s)
{
	rs_halt(s->fd, s->thread);
}

/* Start s on answers; a client at it (the caller frees it) and its ctx. */
static struct aws_client *wire_open(struct server *s, const struct answer *answers,
				    struct provider_ctx *ctx)
{
	struct aws_client *c;

	server_start(s, answers);
	c = rs_client(s->port);
	*ctx = rs_ctx(c, "pipe");
	return c;
}

/* Update id from old to want through ops against answers, and stop s.
 * old, want and changed are borrowed; the new attributes are returned
 * (owned). */
static json_t *wire_update(struct server *s, const struct answer *answers,
			   const struct resource_ops *ops, const char *id, json_t *old, json_t *want,
			   json_t *changed)
{
	struct provider_ctx ctx;
	struct cairn_err err;
	struct aws_client *c = wire_open(s, answers, &ctx);
	json_t *out = NULL;

	err_clear(&err);
	assert_int_equal(ops->update(&ctx, id, old, want, changed, &out, &err), 0);
	server_stop(s);
	aws_client_free(c);
	return out;
}

/* The index of the first request to target (or -1). */
static int find_req(struct server *s, const char *target)
{
	size_t i;

	for (i = 0; i < s->served && i < MAX_REQ; i++)
		if (strcmp(s->targets[i], target) == 0)
			return (int)i;
	return -1;
}

/* Asserts that request target was sent with exactly the JSON body want. */
static void expect_body(struct server *s, const char *target, const char *want)
{
	int i = find_req(s, target);
	json_t *got, *w;

	if (i < 0)
		fail_msg("no %s request", target);
	got = json_loads(s->bodies[i], 0, NULL);
	w = json_loads(want, 0, NULL);
	assert_non_null(got);
	assert_non_null(w);
	if (!json_equal(got, w))
		fail_msg("%s body:\n%s\nwanted:\n%s", target, s->bodies[i], want);
	json_decref(got);
	json_decref(w);
}

static void test_codedeploy_deletes(void **state)
{
	static const struct answer answers[] = {{NULL, 0, NULL}};
	const struct resource_ops *app = provider_lookup("aws_codedeploy_app");
	const struct resource_ops *dg = provider_lookup("aws_codedeploy_deployment_group");
	struct server s;
	struct aws_client *c;
	struct provider_ctx ctx;
	struct cairn_err err;

	(void)state;
	c = wire_open(&s, answers, &ctx);
	err_clear(&err);
	assert_int_equal(dg->delete(&ctx, "web:prod", NULL, &err), 0);
	assert_int_equal(app->delete(&ctx, "web", NULL, &err), 0);
	server_stop(&s);
	expect_body(&s, "CodeDeploy_20141006.DeleteDeploymentGroup",
		    "{\"applicationName\":\"web\",\"deploymentGroupName\":\"prod\"}");
	expect_body(&s, "CodeDeploy_20141006.DeleteApplication", "{\"applicationName\":\"web\"}");
	aws_client_free(c);
}

static void test_codedeploy_gone_is_deleted(void **state)
{
	static const struct answer answers[] = {
		{"CodeDeploy_20141006.DeleteDeploymentGroup", 400,
		 "{\"__type\":\"DeploymentGroupDoesNotExistException\",\"message\":\"no\"}"},
		{"CodeDeploy_20141006.DeleteApplication", 400,
		 "{\"__type\":\"ApplicationDoesNotExistException\",\"message\":\"no\"}"},
		{NULL, 0, NULL}};
	struct server s;
	struct aws_client *c;
	struct provider_ctx ctx;
	struct cairn_err err;

	(void)state;
	c = wire_open(&s, answers, &ctx);
	err_clear(&err);
	assert_int_equal(provider_lookup("aws_codedeploy_deployment_group")->delete(
				 &ctx, "web:prod", NULL, &err), 0);
	assert_int_equal(provider_lookup("aws_codedeploy_app")->delete(&ctx, "web", NULL, &err),
			 0);
	server_stop(&s);
	aws_client_free(c);
}

static const char GROUP_INFO[] =
	"{\"deploymentGroupInfo\":{\"applicationName\":\"web\",\"deploymentGroupName\":\"live\","
	"\"deploymentGroupId\":\"dg-1\",\"serviceRoleArn\":\"arn:aws:iam::123456789012:role/cd\","
	"\"deploymentConfigName\":\"CodeDeployDefault.ECSLinear10PercentEvery1Minutes\","
	"\"computePlatform\":\"ECS\",\"ecsServices\":[{\"clusterName\":\"c\",\"serviceName\":\"s\"}],"
	"\"deploymentStyle\":{\"deploymentType\":\"BLUE_GREEN\","
	"\"deploymentOption\":\"WITH_TRAFFIC_CONTROL\"}}}";

static void test_codedeploy_update_group_renames(void **state)
{
	static const struct answer answers[] = {
		{"CodeDeploy_20141006.GetDeploymentGroup", 200, GROUP_INFO},
		{"CodeDeploy_20141006.ListTagsForResource", 200,
		 "{\"Tags\":[{\"Key\":\"cairn:stack\",\"Value\":\"pipe\"}]}"},
		{NULL, 0, NULL}};
	const struct resource_ops *dg = provider_lookup("aws_codedeploy_deployment_group");
	json_t *old = json_pack("{s:s,s:s,s:s,s:s}", "app_name", "web", "deployment_group_name",
				"prod", "service_role_arn", "arn:aws:iam::123456789012:role/cd",
				"deployment_config_name", "CodeDeployDefault.ECSAllAtOnce");
	json_t *want = json_deep_copy(old), *out = NULL;
	json_t *changed = json_pack("[s,s]", "deployment_group_name", "deployment_config_name");
	struct server s;

	(void)state;
	json_object_set_new(want, "deployment_group_name", json_string("live"));
	json_object_set_new(want, "deployment_config_name",
			    json_string("CodeDeployDefault.ECSLinear10PercentEvery1Minutes"));
	json_object_set_new(want, "ecs_service", json_pack("[{s:s,s:s}]", "cluster_name", "c",
							   "service_name", "s"));
	json_object_set_new(want, "deployment_style",
			    json_pack("[{s:s,s:s}]", "deployment_option", "WITH_TRAFFIC_CONTROL",
				      "deployment_type", "BLUE_GREEN"));
	out = wire_update(&s, answers, dg, "web:prod", old, want, changed);
	expect_body(&s, "CodeDeploy_20141006.UpdateDeploymentGroup",
		    "{\"applicationName\":\"web\",\"currentDeploymentGroupName\":\"prod\","
		    "\"newDeploymentGroupName\":\"live\","
		    "\"serviceRoleArn\":\"arn:aws:iam::123456789012:role/cd\","
		    "\"deploymentConfigName\":\"CodeDeployDefault.ECSLinear10PercentEvery1Minutes\","
		    "\"ecsServices\":[{\"clusterName\":\"c\",\"serviceName\":\"s\"}],"
		    "\"deploymentStyle\":{\"deploymentOption\":\"WITH_TRAFFIC_CONTROL\","
		    "\"deploymentType\":\"BLUE_GREEN\"}}");
	expect_body(&s, "CodeDeploy_20141006.GetDeploymentGroup",
		    "{\"applicationName\":\"web\",\"deploymentGroupName\":\"live\"}");
	expect_body(&s, "CodeDeploy_20141006.ListTagsForResource",
		    "{\"ResourceArn\":\"arn:aws:codedeploy:us-east-1:123456789012:"
		    "deploymentgroup:web/live\"}");
	assert_string_equal(json_string_value(json_object_get(out, "id")), "web:live");
	assert_string_equal(json_string_value(json_object_get(out, "deployment_group_id")), "dg-1");
	json_decref(old);
	json_decref(want);
	json_decref(changed);
	json_decref(out);
}

static void test_codedeploy_rename_app(void **state)
{
	static const struct answer answers[] = {
		{"CodeDeploy_20141006.GetApplication", 200,
		 "{\"application\":{\"applicationName\":\"web2\",\"applicationId\":\"a-1\","
		 "\"computePlatform\":\"ECS\"}}"},
		{"CodeDeploy_20141006.ListTagsForResource", 200, "{\"Tags\":[]}"},
		{NULL, 0, NULL}};
	json_t *old = json_pack("{s:s,s:s}", "name", "web", "compute_platform", "ECS");
	json_t *want = json_pack("{s:s,s:s}", "name", "web2", "compute_platform", "ECS");
	json_t *changed = json_pack("[s]", "name"), *out = NULL;
	struct server s;

	(void)state;
	out = wire_update(&s, answers, provider_lookup("aws_codedeploy_app"), "web", old,
			  want, changed);
	expect_body(&s, "CodeDeploy_20141006.UpdateApplication",
		    "{\"applicationName\":\"web\",\"newApplicationName\":\"web2\"}");
	assert_string_equal(json_string_value(json_object_get(out, "id")), "web2");
	json_decref(old);
	json_decref(want);
	json_decref(changed);
	json_decref(out);
}

static void test_codebuild_update_project(void **state)
{
	static const struct answer answers[] = {
		{"CodeBuild_20161006.BatchGetProjects", 200,
		 "{\"projects\":[{\"name\":\"build\",\"arn\":\"arn:aws:codebuild:us-east-1:1:project/build\","
		 "\"timeoutInMinutes\":20,\"tags\":[]}]}"},
		{NULL, 0, NULL}};
	json_t *want = json_pack(
		"{s:s,s:s,s:i,s:i,s:[{s:s,s:s}],s:[{s:s}],s:[{s:s,s:s,s:s,s:s,s:b,"
		"s:[{s:s,s:s,s:s}]}],s:{s:s}}",
		"name", "build", "service_role", "arn:aws:iam::1:role/cb", "build_timeout", 20,
		"queued_timeout", 480,
		"source", "type", "CODEPIPELINE", "buildspec", "version: 0.2\n",
		"artifacts", "type", "CODEPIPELINE",
		"environment", "compute_type", "BUILD_GENERAL1_SMALL", "image",
		"aws/codebuild/standard:7.0", "type", "LINUX_CONTAINER",
		"image_pull_credentials_type", "CODEBUILD", "privileged_mode", 1,
		"environment_variable", "name", "A", "value", "1", "type", "PLAINTEXT",
		"tags", "team", "ci");
	json_t *changed = json_pack("[s,s]", "build_timeout", "tags"), *out = NULL;
	struct server s;

	(void)state;
	out = wire_update(&s, answers, provider_lookup("aws_codebuild_project"), "build", want,
			  want, changed);
	/* the whole project, the tag set with the ownership tags (UpdateProject
	 * replaces the tags) */
	expect_body(&s, "CodeBuild_20161006.UpdateProject",
		    "{\"name\":\"build\",\"serviceRole\":\"arn:aws:iam::1:role/cb\","
		    "\"timeoutInMinutes\":20,\"queuedTimeoutInMinutes\":480,"
		    "\"source\":{\"type\":\"CODEPIPELINE\",\"buildspec\":\"version: 0.2\\n\"},"
		    "\"artifacts\":{\"type\":\"CODEPIPELINE\"},"
		    "\"environment\":{\"computeType\":\"BUILD_GENERAL1_SMALL\","
		    "\"image\":\"aws/codebuild/standard:7.0\",\"type\":\"LINUX_CONTAINER\","
		    "\"imagePullCredentialsType\":\"CODEBUILD\",\"privilegedMode\":true,"
		    "\"environmentVariables\":[{\"name\":\"A\",\"value\":\"1\",\"type\":\"PLAINTEXT\"}]},"
		    "\"tags\":[{\"key\":\"cairn:resource\",\"value\":\"res\"},"
		    "{\"key\":\"cairn:stack\",\"value\":\"pipe\"},{\"key\":\"team\",\"value\":\"ci\"}]}");
	assert_int_equal(json_integer_value(json_object_get(out, "build_timeout")), 20);
	json_decref(want);
	json_decref(changed);
	json_decref(out);
}

static const char REPO[] =
	"{\"repositoryMetadata\":{\"repositoryName\":\"app\",\"repositoryId\":\"r-1\","
	"\"repositoryDescription\":\"new\",\"Arn\":\"arn:aws:codecommit:us-east-1:1:app\"}}";

static void test_codecommit_update_and_tags(void **state)
{
	static const struct answer answers[] = {
		{"CodeCommit_20150413.GetRepository", 200, REPO},
		{"CodeCommit_20150413.ListTagsForResource", 200,
		 "{\"tags\":{\"cairn:stack\":\"pipe\",\"team\":\"cd\"}}"},
		{NULL, 0, NULL}};
	json_t *old = json_pack("{s:s,s:s,s:s,s:{s:s,s:s}}", "repository_name", "app",
				"description", "old", "arn", "arn:aws:codecommit:us-east-1:1:app",
				"tags", "team", "ci", "gone", "x");
	json_t *want = json_pack("{s:s,s:s,s:{s:s}}", "repository_name", "app", "description",
				 "new", "tags", "team", "cd");
	json_t *changed = json_pack("[s,s]", "description", "tags"), *out = NULL;
	struct server s;

	(void)state;
	out = wire_update(&s, answers, provider_lookup("aws_codecommit_repository"), "app", old,
			  want, changed);
	expect_body(&s, "CodeCommit_20150413.UpdateRepositoryDescription",
		    "{\"repositoryName\":\"app\",\"repositoryDescription\":\"new\"}");
	expect_body(&s, "CodeCommit_20150413.UntagResource",
		    "{\"resourceArn\":\"arn:aws:codecommit:us-east-1:1:app\",\"tagKeys\":[\"gone\"]}");
	expect_body(&s, "CodeCommit_20150413.TagResource",
		    "{\"resourceArn\":\"arn:aws:codecommit:us-east-1:1:app\","
		    "\"tags\":{\"team\":\"cd\"}}");
	assert_true(json_equal(json_object_get(out, "tags"), json_object_get(want, "tags")));
	json_decref(old);
	json_decref(want);
	json_decref(changed);
	json_decref(out);
}

static void test_codecommit_tag_server_error_keeps_recorded_tags(void **state)
{
	static const struct answer answers[] = {
		{"CodeCommit_20150413.GetRepository", 200, REPO},
		{"CodeCommit_20150413.ListTagsForResource", 500, "<html>500</html>"},
		{NULL, 0, NULL}};
	json_t *prior = json_pack("{s:{s:s}}", "tags", "team", "cd"), *out = NULL;
	struct server s;
	struct aws_client *c;
	struct provider_ctx ctx;
	struct cairn_err err;

	(void)state;
	c = wire_open(&s, answers, &ctx);
	err_clear(&err);
	assert_int_equal(provider_lookup("aws_codecommit_repository")->read(&ctx, "app", prior,
									    &out, &err), 0);
	server_stop(&s);
	assert_non_null(out);
	assert_true(json_equal(json_object_get(out, "tags"), json_object_get(prior, "tags")));
	assert_string_equal(json_string_value(json_object_get(out, "description")), "new");
	json_decref(prior);
	json_decref(out);
	aws_client_free(c);
}

static void test_codecommit_tag_client_error_fails(void **state)
{
	static const struct answer answers[] = {
		{"CodeCommit_20150413.GetRepository", 200, REPO},
		{"CodeCommit_20150413.ListTagsForResource", 400,
		 "{\"__type\":\"AccessDeniedException\",\"message\":\"no\"}"},
		{NULL, 0, NULL}};
	json_t *out = NULL;
	struct server s;
	struct aws_client *c;
	struct provider_ctx ctx;
	struct cairn_err err;

	(void)state;
	c = wire_open(&s, answers, &ctx);
	err_clear(&err);
	assert_int_equal(provider_lookup("aws_codecommit_repository")->read(&ctx, "app", NULL,
									    &out, &err), -1);
	server_stop(&s);
	assert_null(out);
	assert_non_null(strstr(err.msg, "AccessDeniedException"));
	aws_client_free(c);
}

static void test_event_target_failed_entry_is_an_error(void **state)
{
	static const struct answer answers[] = {
		{"AWSEvents.PutTargets", 200,
		 "{\"FailedEntryCount\":1,\"FailedEntries\":[{\"TargetId\":\"t\","
		 "\"ErrorCode\":\"ValidationException\",\"ErrorMessage\":\"bad arn\"}]}"},
		{NULL, 0, NULL}};
	json_t *attrs = json_pack("{s:s,s:s,s:s,s:s}", "rule", "push", "event_bus_name", "default",
				  "target_id", "t", "arn", "arn:aws:sns:us-east-1:1:x"), *out = NULL;
	struct server s;
	struct aws_client *c;
	struct provider_ctx ctx;
	struct cairn_err err;

	(void)state;
	c = wire_open(&s, answers, &ctx);
	err_clear(&err);
	assert_int_equal(provider_lookup("aws_cloudwatch_event_target")->create(&ctx, attrs, &out,
										 &err), -1);
	server_stop(&s);
	assert_null(out);
	assert_non_null(strstr(err.msg, "ValidationException: bad arn"));
	expect_body(&s, "AWSEvents.PutTargets",
		    "{\"Rule\":\"push\",\"EventBusName\":\"default\",\"Targets\":[{\"Id\":\"t\","
		    "\"Arn\":\"arn:aws:sns:us-east-1:1:x\"}]}");
	assert_int_equal(find_req(&s, "AWSEvents.ListTargetsByRule"), -1);
	json_decref(attrs);
	aws_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codedeploy_deletes),
		cmocka_unit_test(test_codedeploy_gone_is_deleted),
		cmocka_unit_test(test_codedeploy_update_group_renames),
		cmocka_unit_test(test_codedeploy_rename_app),
		cmocka_unit_test(test_codebuild_update_project),
		cmocka_unit_test(test_codecommit_update_and_tags),
		cmocka_unit_test(test_codecommit_tag_server_error_keeps_recorded_tags),
		cmocka_unit_test(test_codecommit_tag_client_error_fails),
		cmocka_unit_test(test_event_target_failed_entry_is_an_error),
	};

	return cmocka_run_group_tests_name("pipeline_wire", tests, NULL, NULL);
}
