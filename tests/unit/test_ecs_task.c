/*
 * test_ecs_task: aws_ecs_service's wait_for_steady_state against a scripted
 * local ECS (json protocol) server, for what moto cannot show: a rollout
 * that takes a while (progress lines from the shared waiter), the
 * 20-minute timeout (the waiter's clock is the injected sleep), a FAILED
 * rollout's events in the error, and a rollback that replaces the
 * deployment cairn started. In each failure the service is still read back,
 * so the engine records what is deployed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "providers/registry.h"
#include "providers/aws/aws.h"
#include "rest_server.h"

#define TARGET "AmazonEC2ContainerServiceV20141113."
#define MAX_SEQ 8

/* Per operation, answers in order; the last one repeats. */
struct op_answers {
	const char *op;         /* "DescribeServices" */
	const char *bodies[MAX_SEQ];
};

struct server {
	int fd, port;
	const struct op_answers *answers;
	size_t next[8];
	size_t served[8];
	char first_body[8][4096];
	pthread_t thread;
};

static void *serve(void *arg)
{
	struct server *s = arg;

	for (;;) {
		int c = accept(s->fd, NULL, NULL);
		char target[128], body[4096], *resp;
		const char *answer = "{\"__type\":\"Unscripted\",\"message\":\"x\"}";
		int status = 400;
		size_t i;

		if (c < 0)
			break;
		rs_read_target(c, target, sizeof(target), body, sizeof(body));
		for (i = 0; s->answers[i].op; i++) {
			const struct op_answers *a = &s->answers[i];
			size_t k = s->next[i];

			if (strncmp(target, TARGET, strlen(TARGET)) != 0 ||
			    strcmp(target + strlen(TARGET), a->op) != 0)
				continue;
			if (!s->served[i]++)
				snprintf(s->first_body[i], sizeof(s->first_body[0]), "%s", body);
			answer = a->bodies[k];
			if (k + 1 < MAX_SEQ && a->bodies[k + 1])
				s->next[i]++;
			status = 200;
			break;
		}
		resp = xasprintf("HTTP/1.1 %d X\r\nContent-Type: application/x-amz-json-1.1\r\n"
				 "x-amzn-RequestId: rid\r\nConnection: close\r\n"
				 "Content-Length: %zu\r\n\r\n%s", status, strlen(answer), answer);
		if (write(c, resp, strlen(resp)) < 0)
			perror("write");
		free(resp);
		close(c);
	}
	return NULL;
}

static void server_start(struct server *s, const struct op_answers *answers)
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

/* The served count of op. */
static size_t served(struct server *s, const char *op)
{
	size_t i;

	for (i = 0; s->answers[i].op; i++)
		if (strcmp(s->answers[i].op, op) == 0)
			return s->served[i];
	return 0;
}

static char progress_log[4096];
static int progress_calls;

static void record_progress(void *arg, const char *name, const char *msg)
{
	(void)arg;
	progress_calls++;
	snprintf(progress_log + strlen(progress_log), sizeof(progress_log) - strlen(progress_log),
		 "%s: %s\n", name, msg);
}

#define ARN "arn:aws:ecs:us-east-1:123456789012:service/c/web"
#define TD1 "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1"
#define TD2 "arn:aws:ecs:us-east-1:123456789012:task-definition/web:2"

/* A service answer: task definition, running count, deployments and
 * events as JSON text. */
#define SVC(td, running, deployments, events) \
	"{\"serviceArn\":\"" ARN "\",\"serviceName\":\"web\",\"status\":\"ACTIVE\"," \
	"\"clusterArn\":\"arn:aws:ecs:us-east-1:123456789012:cluster/c\"," \
	"\"taskDefinition\":\"" td "\",\"desiredCount\":2,\"runningCount\":" #running "," \
	"\"launchType\":\"FARGATE\",\"deploymentController\":{\"type\":\"ECS\"}," \
	"\"deploymentConfiguration\":{\"maximumPercent\":200,\"minimumHealthyPercent\":100," \
	"\"deploymentCircuitBreaker\":{\"enable\":true,\"rollback\":true}}," \
	"\"deployments\":[" deployments "],\"events\":[" events "]}"
#define DESCRIBED(svc) "{\"services\":[" svc "],\"failures\":[]}"
#define DEP(id, status, td, rollout) \
	"{\"id\":\"" id "\",\"status\":\"" status "\",\"taskDefinition\":\"" td "\"," \
	"\"rolloutState\":\"" rollout "\",\"rolloutStateReason\":\"reason of " id "\"}"
#define EV(n) "{\"id\":\"e" #n "\",\"message\":\"(service web) event " #n "\"}"

static const char *const DESIRED =
	"{\"name\":\"web\",\"cluster\":\"c\",\"task_definition\":\"" TD2 "\","
	"\"desired_count\":2,\"launch_type\":\"FARGATE\",\"wait_for_steady_state\":true,"
	"\"deployment_controller\":{\"type\":\"ECS\"},"
	"\"deployment_circuit_breaker\":{\"enable\":true,\"rollback\":true},"
	"\"deployment_minimum_healthy_percent\":100,\"deployment_maximum_percent\":200,"
	"\"health_check_grace_period_seconds\":0,\"enable_execute_command\":false,"
	"\"propagate_tags\":\"NONE\",\"force_new_deployment\":false,\"tags\":{}}";

struct run {
	struct server s;
	struct aws_client *c;
	struct provider_ctx ctx;
	struct cairn_err err;
	json_t *want, *out;
};

static void run_start(struct run *r, const struct op_answers *answers)
{
	server_start(&r->s, answers);
	r->c = rs_client(r->s.port);
	r->ctx = rs_ctx(r->c, "ecs");
	r->ctx.name = "svc";
	r->ctx.progress = record_progress;
	progress_log[0] = '\0';
	progress_calls = 0;
	err_clear(&r->err);
	r->want = rs_json(DESIRED);
	r->out = NULL;
}

static void run_end(struct run *r)
{
	server_stop(&r->s);
	aws_client_free(r->c);
	json_decref(r->want);
	json_decref(r->out);
}

/* An update of the task definition: the update call's answer starts
 * deployment d2. */
static int update_td(struct run *r)
{
	json_t *old = json_deep_copy(r->want), *changed = json_pack("[s]", "task_definition");
	int rc;

	json_object_set_new(old, "task_definition", json_string(TD1));
	rc = provider_lookup("aws_ecs_service")->update(&r->ctx, ARN, old, r->want, changed,
							 &r->out, &r->err);
	json_decref(old);
	json_decref(changed);
	return rc;
}

#define UPDATED "{\"service\":" SVC(TD2, 2, DEP("d2", "PRIMARY", TD2, "IN_PROGRESS") "," \
				     DEP("d1", "ACTIVE", TD1, "COMPLETED"), "") "}"

static void test_create_waits_with_progress(void **state)
{
	static const struct op_answers answers[] = {
		{"CreateService", {"{\"service\":" SVC(TD2, 0, DEP("d1", "PRIMARY", TD2,
								    "IN_PROGRESS"), "") "}"}},
		{"DescribeServices", {
			DESCRIBED(SVC(TD2, 0, DEP("d1", "PRIMARY", TD2, "IN_PROGRESS"), "")),
			DESCRIBED(SVC(TD2, 1, DEP("d1", "PRIMARY", TD2, "IN_PROGRESS"), "")),
			DESCRIBED(SVC(TD2, 1, DEP("d1", "PRIMARY", TD2, "IN_PROGRESS"), "")),
			DESCRIBED(SVC(TD2, 1, DEP("d1", "PRIMARY", TD2, "IN_PROGRESS"), "")),
			DESCRIBED(SVC(TD2, 1, DEP("d1", "PRIMARY", TD2, "IN_PROGRESS"), "")),
			/* COMPLETED is not enough while the counts differ */
			DESCRIBED(SVC(TD2, 1, DEP("d1", "PRIMARY", TD2, "COMPLETED"), "")),
			DESCRIBED(SVC(TD2, 2, DEP("d1", "PRIMARY", TD2, "COMPLETED"), ""))}},
		{NULL, {NULL}}};
	struct run r;

	(void)state;
	run_start(&r, answers);
	assert_int_equal(provider_lookup("aws_ecs_service")->create(&r.ctx, r.want, &r.out,
								     &r.err), 0);
	assert_non_null(r.out);
	assert_string_equal(json_string_value(json_object_get(r.out, "id")), ARN);
	/* read after create, six polls, the final read */
	assert_int_equal(served(&r.s, "DescribeServices"), 8);
	assert_true(progress_calls >= 1);
	assert_non_null(strstr(progress_log, "svc: still waiting for the deployment to finish ("));
	assert_non_null(strstr(progress_log, "status: IN_PROGRESS, 1 of 2 tasks running)"));
	assert_non_null(strstr(r.s.first_body[0], "\"deploymentCircuitBreaker\":{\"enable\":true,"
					       "\"rollback\":true}"));
	run_end(&r);
}

static void test_failed_rollout_has_events(void **state)
{
	static const struct op_answers answers[] = {
		{"UpdateService", {UPDATED}},
		{"DescribeServices", {
			DESCRIBED(SVC(TD2, 1, DEP("d2", "PRIMARY", TD2, "IN_PROGRESS") "," DEP(
				"d1", "ACTIVE", TD1, "COMPLETED"), "")),
			DESCRIBED(SVC(TD2, 1, DEP("d2", "PRIMARY", TD2, "FAILED") "," DEP(
				"d1", "ACTIVE", TD1, "COMPLETED"),
				EV(7) "," EV(6) "," EV(5) "," EV(4) "," EV(3) "," EV(2) "," EV(1)))}},
		{NULL, {NULL}}};
	struct run r;

	(void)state;
	run_start(&r, answers);
	assert_int_equal(update_td(&r), -1);
	assert_non_null(strstr(r.err.msg, "deployment d2 on svc failed: reason of d2; the "
				      "service's last events:\n  (service web) event 7\n"));
	assert_non_null(strstr(r.err.msg, "event 3"));
	assert_null(strstr(r.err.msg, "event 2"));       /* the last five */
	/* still read back for the state */
	assert_non_null(r.out);
	assert_string_equal(json_string_value(json_object_get(r.out, "task_definition")), TD2);
	assert_int_equal(progress_calls, 0);
	run_end(&r);
}

static void test_rollback_is_a_failure_recorded_as_deployed(void **state)
{
	/* ECS rolled back: a new PRIMARY deployment of the old revision, the
	 * service's task definition back to it. */
	static const struct op_answers answers[] = {
		{"UpdateService", {UPDATED}},
		{"DescribeServices", {
			DESCRIBED(SVC(TD2, 1, DEP("d2", "PRIMARY", TD2, "IN_PROGRESS"), "")),
			DESCRIBED(SVC(TD1, 2, DEP("d3", "PRIMARY", TD1, "IN_PROGRESS"), EV(1)))}},
		{NULL, {NULL}}};
	struct run r;

	(void)state;
	run_start(&r, answers);
	assert_int_equal(update_td(&r), -1);
	assert_non_null(strstr(r.err.msg, "deployment d2 on svc did not finish: ECS replaced "
				      "it with deployment d3"));
	assert_non_null(strstr(r.err.msg, "(service web) event 1"));
	assert_string_equal(json_string_value(json_object_get(r.out, "task_definition")), TD1);
	run_end(&r);
}

static void test_timeout(void **state)
{
	static const struct op_answers answers[] = {
		{"UpdateService", {UPDATED}},
		{"DescribeServices", {
			DESCRIBED(SVC(TD2, 1, DEP("d2", "PRIMARY", TD2, "IN_PROGRESS"), ""))}},
		{NULL, {NULL}}};
	struct run r;

	(void)state;
	run_start(&r, answers);
	assert_int_equal(update_td(&r), -1);
	assert_non_null(strstr(r.err.msg, "waiting for the deployment to finish on svc: gave up "
				      "after 1201 seconds (last status: IN_PROGRESS, 1 of 2 tasks "
				      "running); the service reports no events"));
	assert_non_null(r.out);
	assert_true(progress_calls >= 100);
	run_end(&r);
}

static void test_no_wait_no_polls(void **state)
{
	static const struct op_answers answers[] = {
		{"UpdateService", {UPDATED}},
		{"DescribeServices", {
			DESCRIBED(SVC(TD2, 1, DEP("d2", "PRIMARY", TD2, "FAILED"), ""))}},
		{NULL, {NULL}}};
	struct run r;

	(void)state;
	run_start(&r, answers);
	json_object_set_new(r.want, "wait_for_steady_state", json_false());
	assert_int_equal(update_td(&r), 0);
	assert_int_equal(served(&r.s, "DescribeServices"), 1);
	run_end(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_waits_with_progress),
		cmocka_unit_test(test_failed_rollout_has_events),
		cmocka_unit_test(test_rollback_is_a_failure_recorded_as_deployed),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_no_wait_no_polls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
