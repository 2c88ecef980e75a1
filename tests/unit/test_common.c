/*
 * test_common: the provider skeleton in providers/common.c: the one
 * waiter (pwait_until: backoff, timeout, cancel, progress), pcall_retry
 * against a scripted local HTTP server, and the tag shape helpers (whose
 * leaks ASan reports under make SANITIZE=1), and the tag-safe spelling of
 * addresses in the cairn:resource tag.
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
#include <sys/socket.h>
#include <unistd.h>

#include "providers/common.h"
#include "rest_server.h"

/* Injected sleep: recorded, never taken. */
static long slept[64];
static size_t n_slept;
static volatile sig_atomic_t cancel_flag;
static size_t cancel_after = (size_t)-1;

static void fake_sleep(long ms)
{
	if (n_slept < 64)
		slept[n_slept] = ms;
	n_slept++;
	if (n_slept >= cancel_after)
		cancel_flag = 1;
}

static char progress_msgs[8][256];
static size_t n_progress;

static void on_progress(void *arg, const char *name, const char *msg)
{
	if (n_progress < 8)
		snprintf(progress_msgs[n_progress], sizeof(progress_msgs[0]), "%s: %s", name, msg);
	n_progress++;
}

static struct provider_ctx ctx_new(void)
{
	struct provider_ctx c = {0};

	n_slept = 0;
	n_progress = 0;
	cancel_flag = 0;
	cancel_after = (size_t)-1;
	c.stack = "st";
	c.name = "res";
	c.cancel = &cancel_flag;
	c.sleep_ms = fake_sleep;
	c.progress = on_progress;
	return c;
}

/* Done on poll number *arg (counting from 1); says "pending" before. */
struct polls {
	int calls, done_at, fail_at;
};

static int poll_n(const struct provider_ctx *ctx, void *arg, char *status, size_t status_len,
		  struct cairn_err *err)
{
	struct polls *p = arg;

	p->calls++;
	if (p->fail_at && p->calls == p->fail_at) {
		err_set(err, CAIRN_EAWS, "boom");
		return -1;
	}
	if (p->calls >= p->done_at)
		return 1;
	snprintf(status, status_len, "pending");
	return 0;
}

static void test_wait_done_at_once_never_sleeps(void **state)
{
	struct provider_ctx c = ctx_new();
	struct pwait_spec spec = {"waiting", 0, 0, 0};
	struct polls p = {0, 1, 0};
	struct cairn_err err;

	err_clear(&err);
	assert_int_equal(pwait_until(&c, &spec, poll_n, &p, &err), 0);
	assert_int_equal(p.calls, 1);
	assert_int_equal(n_slept, 0);
}

static void test_wait_backs_off_to_the_cap(void **state)
{
	struct provider_ctx c = ctx_new();
	struct pwait_spec spec = {"waiting", 100, 500, 0};
	struct polls p = {0, 6, 0};
	struct cairn_err err;

	err_clear(&err);
	assert_int_equal(pwait_until(&c, &spec, poll_n, &p, &err), 0);
	assert_int_equal(p.calls, 6);
	assert_int_equal(n_slept, 5);
	assert_int_equal(slept[0], 100);
	assert_int_equal(slept[1], 200);
	assert_int_equal(slept[2], 400);
	assert_int_equal(slept[3], 500);
	assert_int_equal(slept[4], 500);
}

static void test_wait_defaults(void **state)
{
	struct provider_ctx c = ctx_new();
	struct pwait_spec spec = {"waiting", 0, 0, 0};
	struct polls p = {0, 3, 0};
	struct cairn_err err;

	err_clear(&err);
	assert_int_equal(pwait_until(&c, &spec, poll_n, &p, &err), 0);
	assert_int_equal(slept[0], PWAIT_FIRST_MS);
	assert_int_equal(slept[1], PWAIT_FIRST_MS * 2);
}

static void test_wait_times_out_with_last_status(void **state)
{
	struct provider_ctx c = ctx_new();
	struct pwait_spec spec = {"waiting for the table", 1000, 1000, 3000};
	struct polls p = {0, 1000, 0};
	struct cairn_err err;

	err_clear(&err);
	assert_int_equal(pwait_until(&c, &spec, poll_n, &p, &err), -1);
	assert_int_equal(err.code, CAIRN_EAWS);
	assert_string_equal(err.msg, "waiting for the table on res: gave up after 3 seconds "
				     "(last status: pending)");
	assert_int_equal(p.calls, 4);
	assert_int_equal(n_slept, 3);
}

static void test_wait_poll_failure_passes_through(void **state)
{
	struct provider_ctx c = ctx_new();
	struct pwait_spec spec = {"waiting", 0, 0, 0};
	struct polls p = {0, 10, 3};
	struct cairn_err err;

	err_clear(&err);
	assert_int_equal(pwait_until(&c, &spec, poll_n, &p, &err), -1);
	assert_string_equal(err.msg, "boom");
	assert_int_equal(p.calls, 3);
}

static void test_wait_cancel(void **state)
{
	struct provider_ctx c = ctx_new();
	struct pwait_spec spec = {"waiting", 0, 0, 0};
	struct polls p = {0, 1000, 0};
	struct cairn_err err;

	cancel_after = 2;
	err_clear(&err);
	assert_int_equal(pwait_until(&c, &spec, poll_n, &p, &err), -1);
	assert_int_equal(err.code, CAIRN_ECANCEL);
	assert_string_equal(err.msg, "waiting on res: interrupted");
	assert_int_equal(p.calls, 2);
}

static void test_wait_reports_progress(void **state)
{
	struct provider_ctx c = ctx_new();
	struct pwait_spec spec = {"creating", 5000, 5000, 0};
	struct polls p = {0, 6, 0};
	struct cairn_err err;

	err_clear(&err);
	assert_int_equal(pwait_until(&c, &spec, poll_n, &p, &err), 0);
	/* 25 s of waiting: reports at 10 s and 20 s */
	assert_int_equal(n_progress, 2);
	assert_string_equal(progress_msgs[0], "res: still creating (10s elapsed, status: pending)");
	assert_string_equal(progress_msgs[1], "res: still creating (20s elapsed, status: pending)");
}

static char *ec2_answer(int status, const char *body)
{
	return xasprintf("HTTP/1.1 %d X\r\nContent-Type: text/xml\r\nConnection: close\r\n"
			 "Content-Length: %zu\r\n\r\n%s", status, strlen(body), body);
}

static char *ec2_error(const char *code)
{
	char *body = xasprintf("<Response><Errors><Error><Code>%s</Code><Message>m</Message>"
			       "</Error></Errors><RequestID>r</RequestID></Response>", code);
	char *r = ec2_answer(400, body);

	free(body);
	return r;
}

static double half(void *arg)
{
	return 0.5;
}

static void no_sleep(long ms)
{
}

static struct aws_client *client_at(int port)
{
	static char endpoint[64];
	static char *env[] = {
		"AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret",
		"AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=/nonexistent/config", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent/creds",
		"AWS_MAX_ATTEMPTS=1", endpoint, NULL };
	struct aws_client_opts o = {0};
	struct cairn_err err;
	struct aws_client *c;

	snprintf(endpoint, sizeof(endpoint), "AWS_ENDPOINT_URL=http://127.0.0.1:%d", port);
	o.envp = env;
	o.rand01 = half;
	o.sleep_ms = no_sleep;
	err_clear(&err);
	c = aws_client_new(&o, &err);
	assert_non_null(c);
	return c;
}

static void test_call_retry_until_the_code_clears(void **state)
{
	static const char *const codes[] = {"DependencyViolation", NULL};
	struct rs_raw s = {0};
	char *r[3] = {ec2_error("DependencyViolation"), ec2_error("DependencyViolation"),
		      ec2_answer(200, "<DeleteVpcResponse><return>true</return></DeleteVpcResponse>")};
	struct provider_ctx c = ctx_new();
	struct cairn_err err;
	json_t *in = json_pack("{s:s}", "VpcId", "vpc-1"), *out = NULL;

	s.responses[0] = r[0], s.responses[1] = r[1], s.responses[2] = r[2];
	s.n = 3;
	rs_raw_start(&s);
	c.aws = client_at(s.port);
	err_clear(&err);
	assert_int_equal(pcall_retry(&c, "ec2", "DeleteVpc", in, &out, codes, 0, &err), 0);
	assert_non_null(out);
	assert_int_equal(aws_client_requests(c.aws), 3);
	assert_int_equal(n_slept, 2);
	json_decref(out);
	json_decref(in);
	aws_client_free(c.aws);
	rs_raw_stop(&s);
	for (int i = 0; i < 3; i++)
		free(r[i]);
}

static void test_call_retry_other_code_fails_at_once(void **state)
{
	static const char *const codes[] = {"DependencyViolation", NULL};
	struct rs_raw s = {0};
	char *r = ec2_error("InvalidVpcID.NotFound");
	struct provider_ctx c = ctx_new();
	struct cairn_err err;
	json_t *in = json_pack("{s:s}", "VpcId", "vpc-1"), *out = NULL;

	s.responses[0] = r;
	s.n = 1;
	rs_raw_start(&s);
	c.aws = client_at(s.port);
	err_clear(&err);
	assert_int_equal(pcall_retry(&c, "ec2", "DeleteVpc", in, &out, codes, 0, &err), -1);
	assert_null(out);
	assert_string_equal(err.remote.code, "InvalidVpcID.NotFound");
	assert_non_null(strstr(err.msg, "DeleteVpc on res"));
	assert_int_equal(aws_client_requests(c.aws), 1);
	assert_int_equal(n_slept, 0);
	json_decref(in);
	aws_client_free(c.aws);
	rs_raw_stop(&s);
	free(r);
}

static void test_call_retry_gives_up(void **state)
{
	static const char *const codes[] = {"DependencyViolation", NULL};
	struct rs_raw s = {0};
	char *r = ec2_error("DependencyViolation");
	struct provider_ctx c = ctx_new();
	struct cairn_err err;
	json_t *in = json_pack("{s:s}", "VpcId", "vpc-1");
	size_t i;

	for (i = 0; i < 3; i++)
		s.responses[i] = r;
	s.n = 3;
	rs_raw_start(&s);
	c.aws = client_at(s.port);
	err_clear(&err);
	/* 200 + 400 ms of waiting, then the budget is spent */
	assert_int_equal(pcall_retry(&c, "ec2", "DeleteVpc", in, NULL, codes, 600, &err), -1);
	assert_non_null(strstr(err.msg, "DeleteVpc on res: gave up after 0 seconds "
					"(last status: DependencyViolation)"));
	assert_int_equal(aws_client_requests(c.aws), 3);
	json_decref(in);
	aws_client_free(c.aws);
	rs_raw_stop(&s);
	free(r);
}

static void test_tags_to_list_sorted(void **state)
{
	json_t *tags = json_pack("{s:s,s:s,s:i}", "b", "2", "a", "1", "c", 3);
	json_t *list = ptags_to_list(tags, "Key", "Value");
	json_t *want = json_pack("[{s:s,s:s},{s:s,s:s},{s:s,s:s}]", "Key", "a", "Value", "1",
				 "Key", "b", "Value", "2", "Key", "c", "Value", "");

	assert_true(json_equal(list, want));
	json_decref(want);
	json_decref(list);
	json_decref(tags);
}

static void test_tags_bulk_confirmed(void **state)
{
	json_t *list = json_pack("[{s:s,s:s},{s:s,s:s}]", "Key", "cairn:stack", "Value", "st",
				 "Key", "env", "Value", "prod");
	json_t *owner_only = json_pack("[{s:s,s:s}]", "Key", "cairn:stack", "Value", "st");
	json_t *same = json_pack("{s:{s:s}}", "tags", "env", "prod");
	json_t *other = json_pack("{s:{s:s}}", "tags", "env", "dev");
	json_t *none = json_object();

	assert_ptr_equal(ptags_bulk_confirmed(list, same), list);
	assert_null(ptags_bulk_confirmed(list, other));
	assert_null(ptags_bulk_confirmed(list, none));
	assert_null(ptags_bulk_confirmed(list, NULL));
	assert_ptr_equal(ptags_bulk_confirmed(owner_only, none), owner_only);
	assert_ptr_equal(ptags_bulk_confirmed(owner_only, NULL), owner_only);
	assert_null(ptags_bulk_confirmed(NULL, same));
	json_decref(list);
	json_decref(owner_only);
	json_decref(same);
	json_decref(other);
	json_decref(none);
}

/* ---- the tag-safe spelling of addresses (SPEC §3.1) ---- */

static void check_tag(const char *address, const char *want)
{
	char *got = ptag_resource_value(address);

	assert_string_equal(got, want);
	free(got);
}

static void test_tag_safe_addresses(void **state)
{
	(void)state;
	check_tag("vpc", "vpc");
	check_tag("web_sg-2", "web_sg-2");
	check_tag("subnet[0]", "subnet/0");
	check_tag("subnet[12]", "subnet/12");
	check_tag("repo[\"api\"]", "repo/api");
	check_tag("module.svc[\"api\"].tg", "module.svc/api.tg");
	check_tag("module.net[1].subnet[\"a b\"]", "module.net/1.subnet/a b");
	check_tag("repo[\"a+b\"]", "repo/a+2Bb");
	check_tag("repo[\"x\\\"y\"]", "repo/x+22y");
	check_tag("repo[\"é\"]", "repo/+C3+A9");
	check_tag("repo[\"k@host:1/2=3\"]", "repo/k@host:1/2=3");
}

/* Documents AWS sends as strings parse; what is not JSON reads as null;
 * a string attribute goes back as it is, other JSON compact and sorted. */
static void test_doc_json_and_text(void **state)
{
	json_t *v, *o = json_pack("{s:i,s:i}", "b", 2, "a", 1), *n = json_null(),
		*str = json_string("{ \"x\": 1 }");
	char *t;

	(void)state;
	v = pdoc_json("{\"a\":1}");
	assert_int_equal(json_integer_value(json_object_get(v, "a")), 1);
	json_decref(v);
	v = pdoc_json("not json");
	assert_true(json_is_null(v));
	json_decref(v);
	assert_true(json_is_null(pdoc_json("")));
	assert_true(json_is_null(pdoc_json(NULL)));
	t = pdoc_text(o);
	assert_string_equal(t, "{\"a\":1,\"b\":2}");
	free(t);
	t = pdoc_text(str);
	assert_string_equal(t, "{ \"x\": 1 }");
	free(t);
	assert_null(pdoc_text(n));
	assert_null(pdoc_text(NULL));
	json_decref(o);
	json_decref(n);
	json_decref(str);
}

/* A read for pread_back: finds "here", fails on "broken", else nothing. */
static int read_fake(const struct provider_ctx *ctx, const char *id, json_t *prior, json_t **out,
		     struct cairn_err *err)
{
	*out = NULL;
	if (strcmp(id, "broken") == 0) {
		err_set(err, CAIRN_EAWS, "boom");
		return -1;
	}
	if (strcmp(id, "here") == 0)
		*out = json_pack("{s:s}", "id", id);
	return 0;
}

/* The read-back after a create: found is success, nothing is a not
 * found error naming the call, a failed read keeps its own error. */
static void test_read_back(void **state)
{
	struct provider_ctx c = ctx_new();
	struct cairn_err err;
	json_t *out = NULL;

	(void)state;
	assert_int_equal(pread_back(&c, read_fake, "CreateThing", "thing", "here", NULL, &out,
				    &err), 0);
	assert_string_equal(pstr(out, "id"), "here");
	json_decref(out);
	assert_int_equal(pread_back(&c, read_fake, "CreateThing", "thing", "gone", NULL, &out,
				    &err), -1);
	assert_null(out);
	assert_int_equal(err.code, CAIRN_ENOTFOUND);
	assert_string_equal(err.msg, "CreateThing on res: thing 'gone' not found after creation");
	assert_int_equal(pread_back(&c, read_fake, "CreateThing", "thing", "broken", NULL, &out,
				    &err), -1);
	assert_int_equal(err.code, CAIRN_EAWS);
	assert_string_equal(err.msg, "boom");
}

/* The read-back after a change: nothing found is "is gone". */
static void test_read_after(void **state)
{
	struct provider_ctx c = ctx_new();
	struct cairn_err err;
	json_t *out = NULL;

	(void)state;
	assert_int_equal(pread_after(&c, read_fake, "update", "thing", "here", NULL, &out, &err),
			 0);
	assert_string_equal(pstr(out, "id"), "here");
	json_decref(out);
	assert_int_equal(pread_after(&c, read_fake, "update", "thing", "gone", NULL, &out, &err),
			 -1);
	assert_null(out);
	assert_int_equal(err.code, CAIRN_ENOTFOUND);
	assert_string_equal(err.msg, "update on res: thing 'gone' is gone");
	assert_int_equal(pread_after(&c, read_fake, "update", "thing", "broken", NULL, &out,
				     &err), -1);
	assert_string_equal(err.msg, "boom");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wait_done_at_once_never_sleeps),
		cmocka_unit_test(test_wait_backs_off_to_the_cap),
		cmocka_unit_test(test_wait_defaults),
		cmocka_unit_test(test_wait_times_out_with_last_status),
		cmocka_unit_test(test_wait_poll_failure_passes_through),
		cmocka_unit_test(test_wait_cancel),
		cmocka_unit_test(test_wait_reports_progress),
		cmocka_unit_test(test_call_retry_until_the_code_clears),
		cmocka_unit_test(test_call_retry_other_code_fails_at_once),
		cmocka_unit_test(test_call_retry_gives_up),
		cmocka_unit_test(test_tags_to_list_sorted),
		cmocka_unit_test(test_tags_bulk_confirmed),
		cmocka_unit_test(test_tag_safe_addresses),
		cmocka_unit_test(test_doc_json_and_text),
		cmocka_unit_test(test_read_back),
		cmocka_unit_test(test_read_after),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
