/*
 * Unit tests for the plan (engine/plan.c, plan_print.c, planfile.c):
 * every action, the cascade of replacements, lifecycle settings, targets,
 * refresh and drift through fake providers, the text and JSON forms
 * against golden files (tests/data/plan/; CAIRN_UPDATE_GOLDEN=1 rewrites
 * them), and saved plan files.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/plan.h"
#include "engine/provider.h"
#include "engine/stack.h"
#include "engine/value.h"
#include "state/state.h"

#define GOLDEN_DIR "tests/data/plan/"

/* The plan key a state would hold (any 32 bytes do for sealing tests). */
static const unsigned char test_key[PLAN_KEY_LEN] = "0123456789abcdef0123456789abcdef";

static char dir[256];

/* ---- fake providers: a JSON "cloud" id -> attributes ---- */

static json_t *cloud;
static int n_read, n_read_batch;

static int fake_read(const struct provider_ctx *ctx, const char *id, json_t *prior,
		     json_t **out, struct cairn_err *err)
{
	json_t *v = json_object_get(cloud, id);

	(void)ctx; (void)prior; (void)err;
	__atomic_add_fetch(&n_read, 1, __ATOMIC_RELAXED);   /* the refresh reads in parallel */
	*out = v ? json_deep_copy(v) : NULL;
	return 0;
}

static int fake_read_batch(const struct provider_ctx *const *ctxs, size_t n,
			   const char *const *ids, json_t *const *priors, json_t **outs,
			   struct cairn_err *err)
{
	size_t i;

	(void)ctxs; (void)priors; (void)err;
	__atomic_add_fetch(&n_read_batch, 1, __ATOMIC_RELAXED);
	for (i = 0; i < n; i++) {
		json_t *v = json_object_get(cloud, ids[i]);

		outs[i] = v ? json_deep_copy(v) : NULL;
	}
	return 0;
}

static const struct resource_ops fake_ops = {.type = "fake", .read = fake_read};
static const struct resource_ops fake_batch_ops = {.type = "fake_batch", .read = fake_read,
						   .read_batch = fake_read_batch};

/* VPCs read in batches, the rest one by one. */
static const struct resource_ops *fake_lookup(const char *type)
{
	return strcmp(type, "aws_vpc") == 0 ? &fake_batch_ops : &fake_ops;
}

/* ---- fake data sources: the arguments come back as attributes, with an id ---- */

static int n_data_read;

static int fake_data_read(const struct provider_ctx *ctx, json_t *args, json_t **out,
			  struct cairn_err *err)
{
	(void)err;
	n_data_read++;
	*out = json_deep_copy(args);
	json_object_set_new(*out, "id", json_string(ctx->name));
	json_object_set_new(*out, "ids", json_pack("[s,s]", "subnet-1", "subnet-2"));
	json_object_set_new(*out, "cidr_block", json_string("10.9.0.0/16"));
	return 0;
}

static const struct data_ops fake_data_ops = {.type = "fake", .read = fake_data_read};

static const struct data_ops *fake_data_lookup(const char *type)
{
	(void)type;
	return &fake_data_ops;
}

/* ---- helpers ---- */

static json_t *J(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &e);

	if (!v)
		fail_msg("bad test JSON %s: %s", text, e.text);
	return v;
}

static char *path_in(const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

static int setup(void **ctx)
{
	(void)ctx;
	/* mkdtemp's template: the prefix and six 'X' */
	snprintf(dir, sizeof(dir), "/tmp/cairn-plan-test-");
	memset(dir + strlen(dir), 'X', 6);
	dir[strlen("/tmp/cairn-plan-test-") + 6] = '\0';
	assert_non_null(mkdtemp(dir));
	cloud = json_object();
	n_read = n_read_batch = 0;
	return 0;
}

static int teardown(void **ctx)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	(void)ctx;
	assert_int_equal(system(cmd), 0);
	free(cmd);
	json_decref(cloud);
	return 0;
}

static struct stack *load(const char *yaml)
{
	char *path = path_in("stack.yaml");
	FILE *f = fopen(path, "w");
	struct stack_opts so = {0};
	struct diags d;
	struct stack *s;

	assert_non_null(f);
	fputs(yaml, f);
	fclose(f);
	diags_init(&d);
	s = stack_load(path, &so, &d);
	if (!s) {
		diags_print(&d, stderr);
		fail_msg("stack did not load");
	}
	diags_free(&d);
	free(path);
	return s;
}

static struct state *open_state(void)
{
	char *path = path_in("cairn.db");
	struct cairn_err err;
	struct state *st = state_open(path, 1, &err);

	if (!st)
		fail_msg("state_open: %s", err.msg);
	free(path);
	return st;
}

/* Records a resource as an apply would, and puts it in the fake cloud as is. */
static void record(struct state *st, const char *name, const char *type, const char *attrs,
		   const char *deps)
{
	struct state_view r = {0};
	struct cairn_err err;

	r.name = name;
	r.type = type;
	r.attrs = J(attrs);
	r.id = json_string_value(json_object_get(r.attrs, "id"));
	r.deps = J(deps ? deps : "[]");
	r.schema_version = 1;
	if (state_put(st, "web", &r, &err) < 0)
		fail_msg("state_put: %s", err.msg);
	json_object_set_new(cloud, r.id, json_deep_copy(r.attrs));
	json_decref(r.attrs);
	json_decref(r.deps);
}

static struct plan *build_opts(struct stack *s, struct state *st, struct plan_opts *o,
			       struct cairn_err *err)
{
	o->lookup = fake_lookup;
	err_clear(err);
	return plan_build(s, st, NULL, o, err);
}

static struct plan *build(struct stack *s, struct state *st)
{
	struct plan_opts o = {0};
	struct cairn_err err;
	struct plan *p = build_opts(s, st, &o, &err);

	if (!p)
		fail_msg("plan_build: %s", err.msg);
	return p;
}

static const struct plan_change *change(const struct plan *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->n_changes; i++)
		if (strcmp(p->changes[i].name, name) == 0)
			return &p->changes[i];
	fail_msg("no change for '%s'", name);
	return NULL;
}

static void assert_json(const json_t *got, const char *want_text)
{
	json_t *want = J(want_text);

	if (!json_equal((json_t *)got, want)) {
		char *g = json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT);

		fail_msg("got %s, want %s", g, want_text);
	}
	json_decref(want);
}

static char *text_of(const struct plan *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	plan_print_text(p, f, 0);
	fclose(f);
	return buf;
}

static void golden(const char *name, const char *got)
{
	char *path = xasprintf(GOLDEN_DIR "%s", name);
	struct cairn_err err;
	char *want;

	if (getenv("CAIRN_UPDATE_GOLDEN")) {
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		fputs(got, f);
		fclose(f);
	}
	want = read_file(path, NULL, &err);
	if (!want)
		fail_msg("%s", err.msg);
	if (strcmp(want, got) != 0)
		fail_msg("%s differs; got:\n%s", path, got);
	free(want);
	free(path);
}

static void golden_json(const char *name, const struct plan *p)
{
	json_t *doc = plan_to_json(p);
	char *s = json_dumps(doc, JSON_INDENT(2));
	char *t = xasprintf("%s\n", s);

	golden(name, t);
	free(t);
	free(s);
	json_decref(doc);
}

/* ---- the stacks ---- */

static const char web_stack[] =
	"stack: web\n"
	"region: us-east-1\n"
	"resources:\n"
	"  vpc:\n"
	"    type: aws_vpc\n"
	"    properties:\n"
	"      cidr_block: 10.0.0.0/16\n"
	"  web_sg:\n"
	"    type: aws_security_group\n"
	"    properties:\n"
	"      name: web\n"
	"      description: web servers\n"
	"      vpc_id: ${vpc.id}\n"
	"      tags: {Name: new}\n"
	"  api_tg:\n"
	"    type: aws_lb_target_group\n"
	"    properties:\n"
	"      name: api\n"
	"      port: 8080\n"
	"      vpc_id: ${vpc.id}\n"
	"  events:\n"
	"    type: aws_sns_topic\n"
	"    properties:\n"
	"      name: events\n"
	"outputs:\n"
	"  vpc_id:\n"
	"    value: ${vpc.id}\n"
	"  tg_arn:\n"
	"    value: ${api_tg.arn}\n"
	"  secret:\n"
	"    value: ${vpc.cidr_block}\n"
	"    sensitive: true\n";

#define VPC_ATTRS "{\"id\":\"vpc-1\",\"arn\":\"arn:aws:ec2:us-east-1:1:vpc/vpc-1\"," \
	"\"cidr_block\":\"10.0.0.0/16\",\"instance_tenancy\":\"default\"," \
	"\"enable_dns_support\":true,\"enable_dns_hostnames\":false,\"tags\":{}," \
	"\"default_security_group_id\":\"sg-0\",\"main_route_table_id\":\"rtb-0\"," \
	"\"owner_id\":\"1\"}"
#define SG_ATTRS "{\"id\":\"sg-1\",\"arn\":\"arn:sg-1\",\"name\":\"web\"," \
	"\"description\":\"web servers\",\"vpc_id\":\"vpc-1\",\"ingress\":[],\"egress\":[]," \
	"\"tags\":{\"Name\":\"old\"},\"owner_id\":\"1\"}"
#define TG_ATTRS "{\"id\":\"arn:tg/api\",\"arn\":\"arn:tg/api\",\"arn_suffix\":\"tg/api\"," \
	"\"name\":\"api\",\"port\":80,\"protocol\":\"HTTP\",\"vpc_id\":\"vpc-1\"," \
	"\"target_type\":\"instance\",\"deregistration_delay\":300,\"tags\":{}," \
	"\"health_check\":{\"enabled\":true,\"path\":\"/\",\"port\":\"traffic-port\"," \
	"\"protocol\":\"HTTP\",\"interval\":30,\"timeout\":5,\"healthy_threshold\":3," \
	"\"unhealthy_threshold\":3,\"matcher\":\"200\"}}"
#define TOPIC_ATTRS(n) "{\"id\":\"arn:sns:" n "\",\"arn\":\"arn:sns:" n "\",\"name\":\"" n \
	"\",\"fifo_topic\":false,\"display_name\":\"\",\"content_based_deduplication\":false," \
	"\"policy\":{\"Version\":\"2012-10-17\"},\"tags\":{},\"owner\":\"1\"}"

/* ---- tests ---- */

static void test_create(void **ctx)
{
	struct stack *s = load(web_stack);
	struct plan *p = build(s, NULL);
	const struct plan_change *c;
	struct plan_summary sum;
	char *text;

	(void)ctx;
	plan_summarize(p, &sum);
	assert_int_equal(sum.create, 4);
	assert_int_equal(p->serial, 0);
	c = change(p, "api_tg");
	assert_int_equal(c->action, PLAN_CREATE);
	assert_null(c->before);
	assert_null(c->id);
	/* computed values and references to what is not created yet are unknown */
	assert_true(value_is_unknown(json_object_get(c->after, "id")));
	assert_true(value_is_unknown(json_object_get(c->after, "vpc_id")));
	assert_int_equal(json_integer_value(json_object_get(c->after, "port")), 8080);
	assert_json(c->deps, "[\"vpc\"]");
	assert_non_null(c->config);
	/* dependency order: vpc before what references it */
	assert_string_equal(p->changes[0].name, "events");
	assert_string_equal(p->changes[3].name, "web_sg");
	assert_true(plan_has_changes(p));
	text = text_of(p);
	golden("create.txt", text);
	free(text);
	golden_json("create.json", p);
	plan_free(p);
	stack_free(s);
}

static void test_mixed(void **ctx)
{
	struct stack *s = load(web_stack);
	struct state *st = open_state();
	struct plan *p;
	const struct plan_change *c;
	struct plan_summary sum;
	char *text;

	(void)ctx;
	record(st, "vpc", "aws_vpc", VPC_ATTRS, NULL);
	record(st, "web_sg", "aws_security_group", SG_ATTRS, "[\"vpc\"]");
	record(st, "api_tg", "aws_lb_target_group", TG_ATTRS, "[\"vpc\"]");
	record(st, "legacy_topic", "aws_sns_topic", TOPIC_ATTRS("legacy"), NULL);
	p = build(s, st);
	assert_int_equal(p->serial, 4);
	assert_true(strlen(p->lineage) > 0);

	c = change(p, "vpc");
	assert_int_equal(c->action, PLAN_NOOP);
	assert_string_equal(c->id, "vpc-1");
	c = change(p, "web_sg");
	assert_int_equal(c->action, PLAN_UPDATE);
	assert_json(c->changed, "[\"tags\"]");
	assert_json(json_object_get(c->after, "tags"), "{\"Name\":\"new\"}");
	assert_string_equal(json_string_value(json_object_get(c->after, "id")), "sg-1");
	c = change(p, "api_tg");
	assert_int_equal(c->action, PLAN_REPLACE);
	assert_json(c->replace_because, "[\"port\"]");
	assert_true(value_is_unknown(json_object_get(c->after, "arn")));
	assert_null(c->note);
	c = change(p, "legacy_topic");
	assert_int_equal(c->action, PLAN_DELETE);
	assert_null(c->after);
	assert_null(c->config);
	assert_string_equal(p->changes[p->n_changes - 1].name, "legacy_topic");
	c = change(p, "events");
	assert_int_equal(c->action, PLAN_CREATE);

	plan_summarize(p, &sum);
	assert_int_equal(sum.create, 1);
	assert_int_equal(sum.update, 1);
	assert_int_equal(sum.replace, 1);
	assert_int_equal(sum.delete, 1);
	assert_int_equal(sum.noop, 1);
	text = text_of(p);
	assert_non_null(strstr(text, "Plan: 2 to add, 1 to change, 2 to destroy.\n"));
	golden("mixed.txt", text);
	free(text);
	golden_json("mixed.json", p);
	plan_free(p);
	state_close(st);
	stack_free(s);
}

static void test_noop(void **ctx)
{
	struct stack *s = load(
		"stack: web\nregion: us-east-1\nresources:\n"
		"  vpc:\n    type: aws_vpc\n    properties:\n      cidr_block: 10.0.0.0/16\n");
	struct state *st = open_state();
	struct plan *p;
	char *text;

	(void)ctx;
	record(st, "vpc", "aws_vpc", VPC_ATTRS, NULL);
	p = build(s, st);
	assert_int_equal(p->n_changes, 1);
	assert_int_equal(p->changes[0].action, PLAN_NOOP);
	assert_false(plan_has_changes(p));
	text = text_of(p);
	assert_string_equal(text, "No changes. Your infrastructure matches the stack.\n");
	free(text);
	plan_free(p);
	state_close(st);
	stack_free(s);
}

static const char listener_stack[] =
	"stack: web\nregion: us-east-1\nresources:\n"
	"  vpc:\n    type: aws_vpc\n    properties:\n      cidr_block: 10.0.0.0/16\n"
	"  api_tg:\n    type: aws_lb_target_group\n"
	"%s"
	"    properties:\n      name: %s\n      port: 8080\n      vpc_id: ${vpc.id}\n"
	"  http:\n    type: aws_lb_listener\n"
	"    properties:\n      load_balancer_arn: arn:lb/1\n      port: 80\n"
	"      default_action:\n        - type: forward\n          target_group_arn: ${api_tg.arn}\n"
	"  alarm_topic:\n    type: aws_sns_topic\n    depends_on: [api_tg]\n"
	"    properties:\n      name: alarms\n";

#define LISTENER_ATTRS "{\"id\":\"arn:listener/1\",\"arn\":\"arn:listener/1\"," \
	"\"load_balancer_arn\":\"arn:lb/1\",\"port\":80,\"protocol\":\"HTTP\",\"tags\":{}," \
	"\"default_action\":[{\"type\":\"forward\",\"target_group_arn\":\"arn:tg/api\"}]}"

/* The listener stack with the target group's lifecycle and name (recorded as "api"). */
static struct plan *listener_plan(const char *lifecycle, const char *tg_name, struct state **stp,
				  struct stack **sp)
{
	char *yaml = xasprintf(listener_stack, lifecycle, tg_name);
	struct stack *s = load(yaml);
	struct state *st = open_state();

	free(yaml);
	record(st, "vpc", "aws_vpc", VPC_ATTRS, NULL);
	record(st, "api_tg", "aws_lb_target_group", TG_ATTRS, "[\"vpc\"]");
	record(st, "http", "aws_lb_listener", LISTENER_ATTRS, "[\"api_tg\"]");
	record(st, "alarm_topic", "aws_sns_topic", TOPIC_ATTRS("alarms"), "[\"api_tg\"]");
	*stp = st;
	*sp = s;
	return build(s, st);
}

static void test_cascade_replace(void **ctx)
{
	struct state *st;
	struct stack *s;
	struct plan *p = listener_plan("", "api", &st, &s);
	const struct plan_change *c;
	char *text;

	(void)ctx;
	c = change(p, "api_tg");
	assert_int_equal(c->action, PLAN_REPLACE);
	/* the listener holds a reference AWS enforces: replaced as well */
	c = change(p, "http");
	assert_int_equal(c->action, PLAN_REPLACE);
	assert_json(c->replace_because, "[\"api_tg is replaced\"]");
	assert_string_equal(c->note, "replaced because api_tg must be replaced and it holds "
			    "a reference to it");
	/* only ordered by depends_on: not cascaded */
	assert_int_equal(change(p, "alarm_topic")->action, PLAN_NOOP);
	text = text_of(p);
	golden("cascade.txt", text);
	free(text);
	golden_json("cascade.json", p);
	plan_free(p);
	state_close(st);
	stack_free(s);
}

static void test_create_before_destroy(void **ctx)
{
	struct state *st;
	struct stack *s;
	/* a new name too: AWS wants target group names unique */
	struct plan *p = listener_plan("    lifecycle: {create_before_destroy: true}\n", "api-2",
				       &st, &s);
	const struct plan_change *c;
	char *text;

	(void)ctx;
	c = change(p, "api_tg");
	assert_int_equal(c->action, PLAN_REPLACE);
	assert_true(c->create_before_destroy);
	assert_string_equal(c->note, "the new api_tg is created before the old one is deleted");
	/* the listener is pointed at the new group in place */
	c = change(p, "http");
	assert_int_equal(c->action, PLAN_UPDATE);
	assert_json(c->changed, "[\"default_action\"]");
	assert_json(c->replace_because, "[]");
	assert_string_equal(c->note, "updated to refer to the new api_tg, created before the old "
			    "one is deleted");
	assert_true(value_has_unknown(json_object_get(c->after, "default_action")));
	text = text_of(p);
	golden("create_before_destroy.txt", text);
	free(text);
	plan_free(p);
	state_close(st);
	stack_free(s);
}

static void test_create_before_destroy_unique_name(void **ctx)
{
	struct state *st;
	struct stack *s;
	/* only the port changes: a second group named "api" cannot exist */
	struct plan *p = listener_plan("    lifecycle: {create_before_destroy: true}\n", "api",
				       &st, &s);
	const struct plan_change *c;
	char *text;

	(void)ctx;
	c = change(p, "api_tg");
	assert_int_equal(c->action, PLAN_REPLACE);
	assert_false(c->create_before_destroy);
	assert_json(c->replace_because, "[\"port\"]");
	assert_string_equal(c->note, "create_before_destroy not possible: name \"api\" must stay "
			    "unique; deleting first");
	/* so the listener is replaced in cascade, as without create_before_destroy */
	c = change(p, "http");
	assert_int_equal(c->action, PLAN_REPLACE);
	assert_false(c->create_before_destroy);
	assert_json(c->replace_because, "[\"api_tg is replaced\"]");
	assert_string_equal(c->note, "replaced because api_tg must be replaced and it holds "
			    "a reference to it");
	assert_int_equal(change(p, "alarm_topic")->action, PLAN_NOOP);
	text = text_of(p);
	golden("create_before_destroy_unique.txt", text);
	free(text);
	plan_free(p);
	state_close(st);
	stack_free(s);
}

static void test_create_before_destroy_unique_computed(void **ctx)
{
	/* a security group's name left out: the provider names the new one
	 * STACK-RESOURCE again, so it keeps the recorded name */
	const char *yaml = "stack: web\nregion: us-east-1\nresources:\n"
		"  sg:\n    type: aws_security_group\n"
		"    lifecycle: {create_before_destroy: true}\n"
		"    properties:\n      vpc_id: vpc-1\n      description: second\n";
	struct stack *s = load(yaml);
	struct state *st = open_state();
	const struct plan_change *c;
	struct plan *p;

	(void)ctx;
	record(st, "sg", "aws_security_group",
	       "{\"id\":\"sg-1\",\"arn\":\"arn:sg-1\",\"owner_id\":\"1\",\"name\":\"web-sg\","
	       "\"description\":\"first\",\"vpc_id\":\"vpc-1\",\"ingress\":[],\"egress\":[],"
	       "\"tags\":{}}", NULL);
	p = build(s, st);
	c = change(p, "sg");
	assert_int_equal(c->action, PLAN_REPLACE);
	assert_false(c->create_before_destroy);
	assert_string_equal(c->note, "create_before_destroy not possible: name \"web-sg\" must "
			    "stay unique; deleting first");
	plan_free(p);
	stack_free(s);
	/* a name of its own: created first */
	s = load("stack: web\nregion: us-east-1\nresources:\n"
		 "  sg:\n    type: aws_security_group\n"
		 "    lifecycle: {create_before_destroy: true}\n"
		 "    properties:\n      vpc_id: vpc-1\n      description: second\n"
		 "      name: web-sg-2\n");
	p = build(s, st);
	c = change(p, "sg");
	assert_int_equal(c->action, PLAN_REPLACE);
	assert_true(c->create_before_destroy);
	plan_free(p);
	stack_free(s);
	state_close(st);
}

static void test_ignore_changes(void **ctx)
{
	struct stack *s = load(
		"stack: web\nregion: us-east-1\nresources:\n"
		"  vpc:\n    type: aws_vpc\n    lifecycle: {ignore_changes: [tags, cidr_block]}\n"
		"    properties:\n      cidr_block: 10.9.0.0/16\n      tags: {Name: x}\n");
	struct state *st = open_state();
	struct plan *p;

	(void)ctx;
	record(st, "vpc", "aws_vpc", VPC_ATTRS, NULL);
	p = build(s, st);
	assert_int_equal(change(p, "vpc")->action, PLAN_NOOP);
	assert_string_equal(json_string_value(json_object_get(change(p, "vpc")->after,
							      "cidr_block")), "10.0.0.0/16");
	plan_free(p);
	state_close(st);
	stack_free(s);
}

static void test_targets(void **ctx)
{
	struct stack *s = load(web_stack);
	struct state *st = open_state();
	const char *targets[] = {"api_tg"};
	const char *bad_targets[] = {"nope"};
	struct plan_opts o = {0};
	struct cairn_err err;
	struct plan *p;

	(void)ctx;
	record(st, "legacy_topic", "aws_sns_topic", TOPIC_ATTRS("legacy"), NULL);
	o.targets = targets;
	o.n_targets = 1;
	p = build_opts(s, st, &o, &err);
	assert_non_null(p);
	/* api_tg and its dependency, nothing else (no delete either) */
	assert_int_equal(p->n_changes, 2);
	assert_string_equal(p->changes[0].name, "vpc");
	assert_string_equal(p->changes[1].name, "api_tg");
	plan_free(p);

	o.targets = bad_targets;
	assert_null(build_opts(s, st, &o, &err));
	assert_non_null(strstr(err.msg, "target 'nope'"));
	state_close(st);
	stack_free(s);
}

static void test_prevent_destroy(void **ctx)
{
	struct state *st;
	struct stack *s;
	struct plan_opts o = {0};
	struct cairn_err err;
	struct plan *p;

	(void)ctx;
	p = listener_plan("    lifecycle: {prevent_destroy: false}\n", "api", &st, &s);
	plan_free(p);
	stack_free(s);
	state_close(st);

	/* replacing a protected resource fails the plan */
	s = load(
		"stack: web\nregion: us-east-1\nresources:\n"
		"  vpc:\n    type: aws_vpc\n    lifecycle: {prevent_destroy: true}\n"
		"    properties:\n      cidr_block: 10.9.0.0/16\n");
	st = open_state();
	record(st, "vpc", "aws_vpc", VPC_ATTRS, NULL);
	assert_null(build_opts(s, st, &o, &err));
	assert_non_null(strstr(err.msg, "'vpc' has lifecycle.prevent_destroy set but the plan "
				       "would replace it"));
	assert_non_null(strstr(err.msg, "cidr_block"));
	/* and so does destroying it */
	o.destroy = 1;
	assert_null(build_opts(s, st, &o, &err));
	assert_non_null(strstr(err.msg, "would delete it"));
	state_close(st);
	stack_free(s);
}

static void test_destroy(void **ctx)
{
	struct state *st;
	struct stack *s;
	struct plan_opts o = {0};
	struct cairn_err err;
	struct plan *p;
	size_t i;

	(void)ctx;
	p = listener_plan("", "api", &st, &s);
	plan_free(p);
	o.destroy = 1;
	p = build_opts(s, st, &o, &err);
	assert_non_null(p);
	assert_int_equal(p->n_changes, 4);
	for (i = 0; i < p->n_changes; i++)
		assert_int_equal(p->changes[i].action, PLAN_DELETE);
	/* dependents first, ties by name */
	assert_string_equal(p->changes[0].name, "alarm_topic");
	assert_string_equal(p->changes[1].name, "http");
	assert_string_equal(p->changes[2].name, "api_tg");
	assert_string_equal(p->changes[3].name, "vpc");
	assert_int_equal(json_object_size(p->outputs), 0);
	plan_free(p);

	/* destroy --target: the target and what depends on it */
	{
		const char *t[] = {"api_tg"};

		o.targets = t;
		o.n_targets = 1;
		p = build_opts(s, st, &o, &err);
		assert_non_null(p);
		assert_int_equal(p->n_changes, 3);
		assert_string_equal(p->changes[2].name, "api_tg");
		plan_free(p);
	}
	state_close(st);
	stack_free(s);
}

static void test_drift(void **ctx)
{
	struct stack *s = load(web_stack);
	struct state *st = open_state();
	struct plan_opts o = {0};
	struct cairn_err err;
	struct plan *p;
	const struct plan_change *c;
	json_t *d;
	char *text;

	(void)ctx;
	record(st, "vpc", "aws_vpc", VPC_ATTRS, NULL);
	record(st, "web_sg", "aws_security_group", SG_ATTRS, "[\"vpc\"]");
	record(st, "api_tg", "aws_lb_target_group", TG_ATTRS, "[\"vpc\"]");
	/* someone changed the VPC and deleted the security group */
	json_object_set_new(json_object_get(cloud, "vpc-1"), "enable_dns_hostnames", json_true());
	json_object_del(cloud, "sg-1");
	/* ownership tags showing up in a read are not drift */
	json_object_set_new(json_object_get(cloud, "arn:tg/api"), "tags",
			    J("{\"cairn:stack\":\"web\",\"cairn:resource\":\"api_tg\"}"));
	o.refresh = 1;
	p = build_opts(s, st, &o, &err);
	if (!p)
		fail_msg("%s", err.msg);
	assert_int_equal(n_read_batch, 0);   /* a batch of one is a plain read */
	assert_int_equal(n_read, 3);
	assert_int_equal(json_array_size(p->drift), 2);
	d = json_array_get(p->drift, 0);
	assert_string_equal(json_string_value(json_object_get(d, "name")), "vpc");
	assert_true(json_is_true(json_object_get(json_object_get(d, "after"),
						 "enable_dns_hostnames")));
	d = json_array_get(p->drift, 1);
	assert_string_equal(json_string_value(json_object_get(d, "name")), "web_sg");
	assert_true(json_is_null(json_object_get(d, "after")));
	/* the plan compares against what exists: revert the VPC, re-create the group */
	c = change(p, "vpc");
	assert_int_equal(c->action, PLAN_UPDATE);
	assert_json(c->changed, "[\"enable_dns_hostnames\"]");
	assert_int_equal(change(p, "web_sg")->action, PLAN_CREATE);
	text = text_of(p);
	golden("drift.txt", text);
	free(text);
	golden_json("drift.json", p);
	plan_free(p);

	/* --refresh=false: no provider call, no drift */
	n_read = 0;
	o.refresh = 0;
	p = build_opts(s, st, &o, &err);
	assert_non_null(p);
	assert_int_equal(n_read, 0);
	assert_int_equal(json_array_size(p->drift), 0);
	plan_free(p);
	state_close(st);
	stack_free(s);
}

static void test_batch_refresh(void **ctx)
{
	struct stack *s = load(
		"stack: web\nregion: us-east-1\nresources:\n"
		"  a:\n    type: aws_vpc\n    properties:\n      cidr_block: 10.0.0.0/16\n"
		"  b:\n    type: aws_vpc\n    properties:\n      cidr_block: 10.0.0.0/16\n");
	struct state *st = open_state();
	struct plan_opts o = {0};
	struct cairn_err err;
	struct plan *p;
	json_t *b;

	(void)ctx;
	record(st, "a", "aws_vpc", VPC_ATTRS, NULL);
	b = J(VPC_ATTRS);
	json_object_set_new(b, "id", json_string("vpc-2"));
	{
		char *t = json_dumps(b, 0);

		record(st, "b", "aws_vpc", t, NULL);
		free(t);
	}
	json_decref(b);
	o.refresh = 1;
	p = build_opts(s, st, &o, &err);
	assert_non_null(p);
	assert_int_equal(n_read_batch, 1);
	assert_int_equal(n_read, 0);
	assert_false(plan_has_changes(p));
	plan_free(p);
	state_close(st);
	stack_free(s);
}

static void test_outputs(void **ctx)
{
	struct stack *s = load(web_stack);
	struct state *st = open_state();
	struct plan *p;
	json_t *doc, *outs;

	(void)ctx;
	record(st, "vpc", "aws_vpc", VPC_ATTRS, NULL);
	p = build(s, st);
	doc = plan_to_json(p);
	outs = json_object_get(doc, "outputs");
	assert_json(json_object_get(outs, "vpc_id"), "{\"value\":\"vpc-1\",\"known_after_apply\":false}");
	assert_json(json_object_get(outs, "tg_arn"), "{\"value\":null,\"known_after_apply\":true}");
	assert_json(json_object_get(outs, "secret"),
		    "{\"value\":\"(sensitive)\",\"known_after_apply\":false}");
	json_decref(doc);
	plan_free(p);
	state_close(st);
	stack_free(s);
}

static void test_plan_file(void **ctx)
{
	struct stack *s = load(web_stack);
	struct state *st = open_state();
	char *path = path_in("web.plan"), *bad = path_in("bad.plan"), *text;
	struct cairn_err err;
	struct plan *p, *q;
	json_t *a, *b;
	struct stat sb;
	FILE *f;

	(void)ctx;
	record(st, "vpc", "aws_vpc", VPC_ATTRS, NULL);
	record(st, "api_tg", "aws_lb_target_group", TG_ATTRS, "[\"vpc\"]");
	record(st, "legacy_topic", "aws_sns_topic", TOPIC_ATTRS("legacy"), NULL);
	p = build(s, st);
	assert_int_equal(plan_save(p, path, test_key, &err), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	text = read_file(path, NULL, &err);
	/* the sensitive output's value is not in the file */
	assert_null(strstr(text, "10.0.0.0/16\"\n  },"));
	assert_non_null(strstr(text, "\"planned\": \"(sensitive)\""));
	free(text);

	q = plan_load(path, &err);
	if (!q)
		fail_msg("plan_load: %s", err.msg);
	/* secrets stay sealed until unsealed with the same key */
	assert_false(json_equal(q->vars, p->vars));
	{
		unsigned char other[PLAN_KEY_LEN];

		memset(other, 7, sizeof(other));
		assert_int_equal(plan_unseal(q, other, &err), -1);
		assert_non_null(strstr(err.msg, "not made against this state"));
	}
	assert_int_equal(plan_unseal(q, test_key, &err), 0);
	assert_string_equal(q->stack, "web");
	assert_string_equal(q->region, "us-east-1");
	assert_string_equal(q->lineage, p->lineage);
	assert_int_equal(q->serial, p->serial);
	assert_int_equal(q->n_changes, p->n_changes);
	assert_true(json_equal(q->changes[0].config, p->changes[0].config));
	assert_true(json_equal(q->vars, p->vars));
	assert_true(value_is_unknown(json_object_get(change(q, "api_tg")->after, "arn")));
	assert_string_equal(change(q, "api_tg")->id, "arn:tg/api");
	assert_json(change(q, "api_tg")->deps, "[\"vpc\"]");
	a = plan_to_json(p);
	b = plan_to_json(q);
	json_object_del(a, "outputs");   /* the sensitive value was masked on the way */
	json_object_del(b, "outputs");
	assert_true(json_equal(a, b));
	json_decref(a);
	json_decref(b);
	plan_free(q);

	/* bad files fail clearly */
	assert_null(plan_load(bad, &err));
	assert_non_null(strstr(err.msg, "bad.plan"));
	f = fopen(bad, "w");
	fputs("{\"kind\":\"something else\"}", f);
	fclose(f);
	assert_null(plan_load(bad, &err));
	assert_non_null(strstr(err.msg, "not a cairn plan"));
	f = fopen(bad, "w");
	fputs("{\"kind\":\"cairn-plan\",\"format_version\":\"1\",\"stack\":\"web\",\"serial\":1,"
	      "\"lineage\":\"x\",\"drift\":[],\"outputs\":{},\"vars\":{\"$cairn_sealed\":\"AA==\"},\"changes\":"
	      "[{\"name\":\"a\",\"type\":\"aws_vpc\",\"action\":\"explode\"}]}", f);
	fclose(f);
	assert_null(plan_load(bad, &err));
	assert_non_null(strstr(err.msg, "changes[0]: missing or unknown action"));
	f = fopen(bad, "w");
	fputs("{\"kind\":", f);
	fclose(f);
	assert_null(plan_load(bad, &err));
	assert_non_null(strstr(err.msg, "invalid plan file"));

	plan_free(p);
	free(path);
	free(bad);
	state_close(st);
	stack_free(s);
}

static void test_sensitive(void **ctx)
{
	struct stack *s = load(
		"stack: web\nregion: us-east-1\nresources:\n"
		"  db_password:\n    type: aws_ssm_parameter\n    properties:\n"
		"      name: /web/db\n      type: SecureString\n      value: new-secret\n"
		"  db_user:\n    type: aws_ssm_parameter\n    properties:\n"
		"      name: /web/user\n      type: String\n      value: ${db_password.value}\n");
	struct state *st = open_state();
	char *path = path_in("s.plan"), *text, *file;
	struct cairn_err err;
	struct plan *p;
	json_t *doc;

	(void)ctx;
	record(st, "db_password", "aws_ssm_parameter",
	       "{\"id\":\"/web/db\",\"arn\":\"arn:ssm:/web/db\",\"name\":\"/web/db\","
	       "\"type\":\"SecureString\",\"value\":\"old-secret\",\"description\":\"\","
	       "\"tier\":\"Standard\",\"tags\":{},\"version\":1}", NULL);
	p = build(s, st);
	assert_int_equal(change(p, "db_password")->action, PLAN_UPDATE);
	/* the value still goes to the executor in after */
	assert_string_equal(json_string_value(json_object_get(change(p, "db_password")->after,
							      "value")), "new-secret");
	text = text_of(p);
	assert_null(strstr(text, "secret"));
	assert_non_null(strstr(text, "      ~ value = (sensitive) -> (sensitive)\n"));
	assert_non_null(strstr(text, "      + value   = (sensitive)\n"));
	golden("sensitive.txt", text);
	free(text);
	{
		size_t len = 0;
		FILE *f;

		text = NULL;
		f = open_memstream(&text, &len);
		plan_print_markdown(p, f);
		fclose(f);
		assert_null(strstr(text, "secret"));
		assert_non_null(strstr(text, "      ~ value = (sensitive) -> (sensitive)\n"));
		free(text);
	}
	doc = plan_to_json(p);
	text = json_dumps(doc, 0);
	assert_null(strstr(text, "secret"));
	free(text);
	json_decref(doc);
	assert_int_equal(plan_save(p, path, test_key, &err), 0);
	file = read_file(path, NULL, &err);
	/* before/after are masked and the configuration's secret is sealed */
	assert_null(strstr(file, "secret"));
	assert_non_null(strstr(file, "\"value\": \"(sensitive)\""));
	free(file);
	{
		struct plan *q = plan_load(path, &err);

		assert_non_null(q);
		assert_int_equal(plan_unseal(q, test_key, &err), 0);
		assert_string_equal(json_string_value(json_object_get(
			change(q, "db_password")->config, "value")), "new-secret");
		plan_free(q);
	}
	free(path);
	plan_free(p);
	state_close(st);
	stack_free(s);
}

/* ---- the plan a reviewer reads (SPEC §2): every form, golden ---- */

static const char review_stack[] =
	"stack: web\n"
	"region: us-east-1\n"
	"resources:\n"
	"  vpc:\n"
	"    type: aws_vpc\n"
	"    properties: {cidr_block: 10.0.0.0/16}\n"
	"  web_sg:\n"
	"    type: aws_security_group\n"
	"    properties:\n"
	"      name: web\n"
	"      description: web servers\n"
	"      vpc_id: ${vpc.id}\n"
	"      ingress:\n"
	"        - {protocol: tcp, from_port: 8000, to_port: 8000, cidr_blocks: [10.0.0.0/8]}\n"
	"        - {protocol: tcp, from_port: 8001, to_port: 8001, cidr_blocks: [10.0.0.0/8]}\n"
	"        - {protocol: tcp, from_port: 8002, to_port: 8002, cidr_blocks: [10.0.0.0/8]}\n"
	"        - {protocol: tcp, from_port: 8003, to_port: 8003, cidr_blocks: [10.0.0.0/8]}\n"
	"        - {protocol: tcp, from_port: 8004, to_port: 8004, cidr_blocks: [10.0.0.0/8]}\n"
	"        - {protocol: tcp, from_port: 8005, to_port: 8005,"
	" cidr_blocks: [10.0.0.0/8, 192.168.0.0/16]}\n"
	"        - {protocol: tcp, from_port: 8006, to_port: 8006, cidr_blocks: [10.0.0.0/8]}\n"
	"        - {protocol: tcp, from_port: 8007, to_port: 8007, cidr_blocks: [10.0.0.0/8]}\n"
	"        - {protocol: tcp, from_port: 8008, to_port: 8008, cidr_blocks: [10.0.0.0/8]}\n"
	"        - {protocol: tcp, from_port: 9000, to_port: 9000, cidr_blocks: [10.0.0.0/8]}\n"
	"  api_tg:\n"
	"    type: aws_lb_target_group\n"
	"    properties:\n"
	"      name: api\n"
	"      port: 80\n"
	"      vpc_id: ${vpc.id}\n"
	"      health_check: {path: /healthz}\n"
	"  sessions:\n"
	"    type: aws_dynamodb_table\n"
	"    properties:\n"
	"      name: sessions\n"
	"      billing_mode: PAY_PER_REQUEST\n"
	"      hash_key: sid\n"
	"      attribute: [{name: sid, type: S}, {name: user, type: S}]\n"
	"      global_secondary_index:\n"
	"        - {name: by_user, hash_key: user, projection_type: ALL}\n"
	"  events:\n"
	"    type: aws_sns_topic\n"
	"    properties: {name: events}\n";

#define TABLE_ATTRS "{\"id\":\"sessions\",\"arn\":\"arn:ddb:sessions\",\"name\":\"sessions\"," \
	"\"billing_mode\":\"PAY_PER_REQUEST\",\"read_capacity\":0,\"write_capacity\":0," \
	"\"hash_key\":\"id\",\"attribute\":[{\"name\":\"id\",\"type\":\"S\"}," \
	"{\"name\":\"user\",\"type\":\"S\"}],\"global_secondary_index\":[{\"name\":\"by_user\"," \
	"\"hash_key\":\"user\",\"projection_type\":\"ALL\",\"read_capacity\":0," \
	"\"write_capacity\":0}],\"stream_enabled\":false,\"tags\":{}}"
#define REPO_ATTRS "{\"id\":\"images\",\"arn\":\"arn:ecr:images\",\"name\":\"images\"," \
	"\"image_tag_mutability\":\"MUTABLE\",\"registry_id\":\"1\"," \
	"\"repository_url\":\"1.dkr.ecr/images\",\"tags\":{}}"

/* The security group as recorded: port 8005 open to 10.0.0.0/8 only,
 * a rule on 8009 the stack no longer has, none on 9000 yet. */
static char *sg_with_rules(void)
{
	struct strbuf sb;
	int port;

	strbuf_init(&sb);
	strbuf_adds(&sb, "{\"id\":\"sg-1\",\"arn\":\"arn:sg-1\",\"name\":\"web\","
		    "\"description\":\"web servers\",\"vpc_id\":\"vpc-1\",\"egress\":[],"
		    "\"tags\":{},\"owner_id\":\"1\",\"ingress\":[");
	/* AWS returns the rules in an order of its own */
	for (port = 8009; port >= 8000; port--)
		strbuf_addf(&sb, "%s{\"protocol\":\"tcp\",\"from_port\":%d,\"to_port\":%d,"
			    "\"cidr_blocks\":[\"10.0.0.0/8\"],\"self\":false}",
			    port == 8009 ? "" : ",", port, port);
	strbuf_adds(&sb, "]}");
	return strbuf_detach(&sb);
}

static void test_review_forms(void **ctx)
{
	struct stack *s = load(review_stack);
	struct state *st = open_state();
	struct plan_opts o = {0};
	char *sg = sg_with_rules(), *text, *path = path_in("review.plan");
	struct cairn_err err;
	struct plan *p, *q;
	size_t len = 0;
	FILE *f;

	(void)ctx;
	record(st, "vpc", "aws_vpc", VPC_ATTRS, NULL);
	record(st, "web_sg", "aws_security_group", sg, "[\"vpc\"]");
	record(st, "api_tg", "aws_lb_target_group", TG_ATTRS, "[\"vpc\"]");
	record(st, "sessions", "aws_dynamodb_table", TABLE_ATTRS, NULL);
	record(st, "images", "aws_ecr_repository", REPO_ATTRS, NULL);
	/* changed outside cairn: the VPC's DNS hostnames */
	json_object_set_new(json_object_get(cloud, "vpc-1"), "enable_dns_hostnames", json_true());
	o.refresh = 1;
	p = build_opts(s, st, &o, &err);
	if (!p)
		fail_msg("%s", err.msg);
	assert_int_equal(change(p, "events")->action, PLAN_CREATE);
	assert_int_equal(change(p, "web_sg")->action, PLAN_UPDATE);
	assert_int_equal(change(p, "api_tg")->action, PLAN_UPDATE);
	assert_int_equal(change(p, "sessions")->action, PLAN_REPLACE);
	assert_int_equal(change(p, "images")->action, PLAN_DELETE);
	assert_int_equal(change(p, "vpc")->action, PLAN_UPDATE);
	/* the capacities AWS reports for a PAY_PER_REQUEST index are no change */
	assert_json(change(p, "sessions")->changed, "[\"attribute\",\"hash_key\"]");

	text = text_of(p);
	/* one changed rule of ten is one nested change */
	assert_non_null(strstr(text,
		"      ~ ingress = [\n"
		"          - {\n"));
	assert_non_null(strstr(text, "            # (8 unchanged elements hidden)\n        ]\n"));
	assert_non_null(strstr(text,
		"      ~ health_check = {\n"
		"          ~ path = \"/\" -> \"/healthz\"\n"
		"            # (8 unchanged attributes hidden)\n"
		"        }\n"));
	assert_null(strstr(text, "capacity"));
	golden("review.txt", text);
	free(text);
	golden_json("review.json", p);

	text = NULL;
	f = open_memstream(&text, &len);
	plan_print_markdown(p, f);
	fclose(f);
	assert_non_null(strstr(text, "### Plan: 2 to add, 3 to change, 2 to destroy.\n"));
	/* the warning comes before the table */
	assert_non_null(strstr(text, "will be **replaced**"));
	assert_true(strstr(text, "`images` (aws_ecr_repository) will be **deleted**") <
		    strstr(text, "| Action |"));
	assert_non_null(strstr(text, "| `-/+` | replace | `sessions` | aws_dynamodb_table |"
				     " `hash_key` |\n"));
	golden("review.md", text);

	/* a saved plan shows the same */
	assert_int_equal(plan_save(p, path, test_key, &err), 0);
	q = plan_load(path, &err);
	assert_non_null(q);
	{
		char *again = NULL;

		len = 0;
		f = open_memstream(&again, &len);
		plan_print_markdown(q, f);
		fclose(f);
		assert_string_equal(again, text);
		free(again);
	}
	free(text);
	plan_free(q);
	plan_free(p);
	free(path);
	free(sg);
	state_close(st);
	stack_free(s);
}

/* Capacities set on a PAY_PER_REQUEST table mean nothing there; AWS
 * reports 0 for them, and that is no change (issue 13). */
static void test_unused_mode_attrs(void **ctx)
{
	struct stack *s = load(
		"stack: web\nregion: us-east-1\nresources:\n"
		"  sessions:\n    type: aws_dynamodb_table\n    properties:\n"
		"      name: sessions\n      billing_mode: PAY_PER_REQUEST\n"
		"      read_capacity: 5\n      write_capacity: 5\n      hash_key: id\n"
		"      attribute: [{name: id, type: S}, {name: user, type: S}]\n"
		"      global_secondary_index:\n"
		"        - {name: by_user, hash_key: user, projection_type: ALL,"
		" read_capacity: 5, write_capacity: 5}\n");
	struct state *st = open_state();
	struct plan *p;

	(void)ctx;
	record(st, "sessions", "aws_dynamodb_table",
	       "{\"id\":\"sessions\",\"arn\":\"arn:ddb:sessions\",\"name\":\"sessions\","
	       "\"billing_mode\":\"PAY_PER_REQUEST\",\"read_capacity\":0,\"write_capacity\":0,"
	       "\"hash_key\":\"id\",\"attribute\":[{\"name\":\"id\",\"type\":\"S\"},"
	       "{\"name\":\"user\",\"type\":\"S\"}],\"global_secondary_index\":[{\"name\":"
	       "\"by_user\",\"hash_key\":\"user\",\"projection_type\":\"ALL\",\"read_capacity\":0,"
	       "\"write_capacity\":0}],\"stream_enabled\":false,\"tags\":{}}", NULL);
	p = build(s, st);
	assert_int_equal(change(p, "sessions")->action, PLAN_NOOP);
	assert_false(plan_has_changes(p));
	plan_free(p);
	stack_free(s);

	/* under PROVISIONED they are the table's capacity, and a change */
	s = load(
		"stack: web\nregion: us-east-1\nresources:\n"
		"  sessions:\n    type: aws_dynamodb_table\n    properties:\n"
		"      name: sessions\n      billing_mode: PROVISIONED\n"
		"      read_capacity: 5\n      write_capacity: 5\n      hash_key: id\n"
		"      attribute: [{name: id, type: S}, {name: user, type: S}]\n"
		"      global_secondary_index:\n"
		"        - {name: by_user, hash_key: user, projection_type: ALL,"
		" read_capacity: 5, write_capacity: 5}\n");
	p = build(s, st);
	assert_int_equal(change(p, "sessions")->action, PLAN_UPDATE);
	assert_json(change(p, "sessions")->changed,
		    "[\"billing_mode\",\"global_secondary_index\",\"read_capacity\","
		    "\"write_capacity\"]");
	plan_free(p);
	state_close(st);
	stack_free(s);
}

/* A comment stays under GitHub's 65536 characters: diffs stop, the table stays. */
static void test_markdown_budget(void **ctx)
{
	struct strbuf yaml;
	struct stack *s;
	struct plan *p;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int i;

	(void)ctx;
	strbuf_init(&yaml);
	strbuf_adds(&yaml, "stack: web\nregion: us-east-1\nresources:\n");
	for (i = 0; i < 400; i++)
		strbuf_addf(&yaml, "  topic_%03d:\n    type: aws_sns_topic\n    properties:\n"
			    "      name: topic-%03d\n      display_name: the topic number %d\n",
			    i, i, i);
	s = load(yaml.buf);
	p = build(s, NULL);
	f = open_memstream(&text, &len);
	plan_print_markdown(p, f);
	fclose(f);
	assert_true(len < 65536);
	assert_non_null(strstr(text, "| `+` | create | `topic_399` | aws_sns_topic |"));
	assert_non_null(strstr(text, "more changes are left out to keep this comment short"));
	free(text);
	plan_free(p);
	stack_free(s);
	strbuf_free(&yaml);
}

/* Data sources are read before the plan, each after those it uses, with or
 * without refresh; resources, locals and outputs see their values; they are
 * never changes; destroy reads none; without readers they cannot be planned. */
static void test_data_sources(void **state)
{
	struct stack *s;
	struct plan *p;
	struct plan_opts o = {0};
	struct cairn_err err;

	(void)state;
	s = load("stack: web\n"
		 "locals:\n  n: ${length(data.nets.ids)}\n"
		 "data:\n"
		 "  nets:\n    type: aws_subnets\n    properties: {vpc_id: \"${data.vpc.id}\"}\n"
		 "  vpc:\n    type: aws_vpc\n    properties: {tags: {Name: shared}}\n"
		 "resources:\n  t:\n    type: aws_sns_topic\n"
		 "    properties: {name: \"t-${local.n}-${data.nets.vpc_id}\"}\n"
		 "outputs:\n  cidr: {value: \"${data.vpc.cidr_block}\"}\n");
	n_data_read = 0;
	o.data_lookup = fake_data_lookup;
	p = build_opts(s, NULL, &o, &err);
	if (!p)
		fail_msg("plan_build: %s", err.msg);
	assert_int_equal(n_data_read, 2);
	assert_int_equal(p->n_changes, 1);
	assert_string_equal(json_string_value(json_object_get(change(p, "t")->after, "name")),
			    "t-2-data.vpc");
	assert_json(json_object_get(json_object_get(p->data, "nets"), "vpc_id"), "\"data.vpc\"");
	assert_json(p->data_types, "{\"nets\": \"aws_subnets\", \"vpc\": \"aws_vpc\"}");
	assert_json(json_object_get(json_object_get(p->outputs, "cidr"), "planned"),
		    "\"10.9.0.0/16\"");
	plan_free(p);

	/* destroy reads nothing */
	n_data_read = 0;
	o.destroy = 1;
	p = build_opts(s, NULL, &o, &err);
	assert_non_null(p);
	assert_int_equal(n_data_read, 0);
	plan_free(p);

	/* no readers: an error naming the data source */
	memset(&o, 0, sizeof(o));
	p = build_opts(s, NULL, &o, &err);
	assert_null(p);
	assert_non_null(strstr(err.msg, "data.vpc: data source type 'aws_vpc' cannot be read here"));
	stack_free(s);
}

static void test_address_order(void **ctx)
{
	static const char *const sorted[] = {
		"a", "api_tg", "b[\"x\"]", "b[\"y\"]", "subnet", "subnet[0]", "subnet[2]",
		"subnet[10]", "subnet[\"a\"]", "z", "module.a.x", "module.a.y",
		"module.a[\"k\"].x", "module.a[\"k\"].module.b.w", "module.b.a",
	};
	size_t i, j, n = sizeof(sorted) / sizeof(sorted[0]);

	(void)ctx;
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			int c = plan_address_cmp(sorted[i], sorted[j]);

			if ((i < j && c >= 0) || (i == j && c != 0) || (i > j && c <= 0))
				fail_msg("%s vs %s: %d", sorted[i], sorted[j], c);
		}
}

static void test_type_change_refused(void **ctx)
{
	struct stack *s = load(
		"stack: web\nregion: us-east-1\nresources:\n"
		"  vpc:\n    type: aws_sns_topic\n    properties:\n      name: x\n");
	struct state *st = open_state();
	struct plan_opts o = {0};
	struct cairn_err err;

	(void)ctx;
	record(st, "vpc", "aws_vpc", VPC_ATTRS, NULL);
	assert_null(build_opts(s, st, &o, &err));
	assert_non_null(strstr(err.msg, "recorded as aws_vpc"));
	state_close(st);
	stack_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mixed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_noop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cascade_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_before_destroy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_before_destroy_unique_name, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_create_before_destroy_unique_computed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ignore_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_targets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prevent_destroy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drift, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_refresh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outputs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_type_change_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sensitive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_review_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_data_sources, setup, teardown),
		cmocka_unit_test(test_address_order),
		cmocka_unit_test_setup_teardown(test_markdown_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unused_mode_attrs, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
