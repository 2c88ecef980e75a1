/*
 * Unit tests for stack loading (engine/stack.c, doc.c, graph.c): the
 * document model, variables, references, every class of validation error
 * with its exact file:line:col, and the dependency graph. Run from the
 * repository root (make unit): stacks under tests/data/stacks/ are read
 * there, and inline stacks are written to a temporary directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "engine/doc.h"
#include "engine/stack.h"

static char tmpdir[] = "/tmp/cairn-test-stack-XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd);
}

/* Writes text to tmpdir/name; returns the path (static). */
static const char *put(const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* The diagnostics as diags_print writes them, with the temporary
 * directory removed from file names. Owned. */
static char *printed(const struct diags *d)
{
	char *buf = NULL, *p;
	size_t len = 0, n = strlen(tmpdir) + 1;
	FILE *f = open_memstream(&buf, &len);

	diags_print(d, f);
	fclose(f);
	while ((p = strstr(buf, tmpdir)))
		memmove(p, p + n, strlen(p + n) + 1);
	return buf;
}

static struct stack *load_opts(const char *name, const char *text, const struct stack_opts *o,
			       char **out)
{
	struct stack_opts none = {0};
	struct diags d;
	struct stack *s;

	diags_init(&d);
	s = stack_load(text ? put(name, text) : name, o ? o : &none, &d);
	*out = printed(&d);
	if (s)
		assert_int_equal(d.n, 0);
	else
		assert_true(d.n > 0);
	diags_free(&d);
	return s;
}

/* Loads a stack expected to fail and checks the exact output. */
static void expect_errors(const char *text, const char *want)
{
	char *got;
	struct stack *s = load_opts("s.yaml", text, NULL, &got);

	assert_null(s);
	assert_string_equal(got, want);
	free(got);
}

static struct stack *expect_ok(const char *name, const char *text, const struct stack_opts *o)
{
	char *got;
	struct stack *s = load_opts(name, text, o, &got);

	if (!s)
		fail_msg("unexpected errors:\n%s", got);
	free(got);
	return s;
}

static char *dump(const json_t *v)
{
	return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

static void assert_json(const json_t *v, const char *want)
{
	char *s = dump(v);

	assert_string_equal(s, want);
	free(s);
}

/* ---- good input ---- */

static void test_good_yaml(void **state)
{
	struct stack *s = expect_ok("tests/data/stacks/good.yaml", NULL, NULL);
	const struct stack_resource *vpc, *sub, *sg, *tg;

	(void)state;
	assert_string_equal(s->name, "portal-dev");
	assert_string_equal(s->region, "us-east-1");
	assert_int_equal(s->n_resources, 4);
	vpc = &s->resources[0];
	sub = &s->resources[1];
	sg = &s->resources[2];
	tg = &s->resources[3];
	assert_string_equal(vpc->name, "vpc");
	assert_int_equal(vpc->pos.line, 15);
	assert_int_equal(vpc->pos.col, 3);
	assert_json(vpc->properties, "{\"cidr_block\":\"10.0.0.0/16\",\"enable_dns_hostnames\":true,"
		    "\"tags\":{\"Literal\":\"$${not.a.ref}\",\"Name\":\"portal-dev\","
		    "\"Stack\":\"portal-dev\"}}");
	assert_json(sub->properties, "{\"availability_zone\":\"us-east-1a\","
		    "\"cidr_block\":\"10.0.1.0/24\",\"vpc_id\":\"${vpc.id}\"}");
	assert_json(sub->deps, "[\"vpc\"]");
	assert_json(sg->deps, "[\"public_a\",\"vpc\"]");
	assert_json(sg->depends_on, "[\"public_a\"]");
	assert_true(sg->create_before_destroy);
	assert_false(sg->prevent_destroy);
	assert_json(sg->ignore_changes, "[\"tags\"]");
	/* a whole ${var.port} keeps the number type */
	assert_json(json_object_get(tg->properties, "port"), "80");
	assert_json(json_object_get(json_array_get(json_object_get(sg->properties, "ingress"), 0),
				    "from_port"), "80");
	assert_int_equal(s->n_outputs, 2);
	assert_json(s->outputs[0].value, "\"${vpc.id}\"");
	assert_string_equal(s->outputs[0].description, "The VPC");
	assert_json(s->outputs[1].value, "\"${web_sg.id} in us-east-1\"");
	assert_true(s->outputs[1].sensitive);
	assert_json(s->vars, "{\"azs\":[\"a\",\"b\"],\"env\":\"dev\",\"port\":80}");
	assert_int_equal(stack_find(s, "api_tg"), 3);
	assert_int_equal(stack_find(s, "nope"), -1);
	assert_int_equal(stack_pos(s, "resources.public_a.properties.cidr_block", 0).line, 25);
	assert_int_equal(stack_pos(s, "resources.public_a.properties.cidr_block", 0).col, 19);
	assert_int_equal(stack_pos(s, "resources.public_a.properties.cidr_block", 1).col, 7);
	stack_free(s);
}

static void test_good_json(void **state)
{
	struct stack *s = expect_ok("tests/data/stacks/good.json", NULL, NULL);
	struct srcpos p;

	(void)state;
	assert_string_equal(s->name, "json-stack");
	assert_null(s->region);
	assert_int_equal(s->n_resources, 2);
	/* JSON integers stay integers; strings stay strings */
	assert_true(json_is_integer(json_object_get(s->resources[1].properties, "port")));
	assert_json(s->resources[0].properties, "{\"cidr_block\":\"10.0.0.0/16\",\"tags\":{\"Count\":\"3\"}}");
	p = stack_pos(s, "resources.tg.properties.port", 0);
	assert_int_equal(p.line, 6);
	assert_int_equal(p.col, 47);
	assert_int_equal(s->resources[0].pos.line, 4);
	assert_int_equal(s->resources[0].pos.col, 3);   /* after a tab: tabs count as one column */
	stack_free(s);
}

static void test_json_errors_positioned(void **state)
{
	char *got;
	struct stack *s;

	(void)state;
	s = load_opts("s.json", "{\"stack\": \"j\",\n \"resources\": {\"v\": {\"type\": \"aws_vpc\",\n"
		      "   \"properties\": {\"cidr_block\": \"10.0.0.0/16\", \"cidr\": 1}}}}\n", NULL, &got);
	assert_null(s);
	assert_string_equal(got, "s.json:3:48: error: unknown attribute 'cidr' for aws_vpc; "
			    "did you mean 'cidr_block'?\n");
	free(got);
}

static void test_json_escapes(void **state)
{
	char *got;
	struct stack *s;

	(void)state;
	/* libyaml refuses surrogate pairs; the values come from jansson and
	 * the positions still line up */
	s = load_opts("e.json", "{\"stack\": \"smile-\\ud83d\\ude00\", \"resources\": {\"v\": {\"type\": \"aws_vpc\",\n"
		      "\t\"properties\": {\"tags\": {\"a\\/b\": \"\\u00e9\"}, \"cidr\": 1}}}}\n", NULL, &got);
	assert_null(s);
	assert_string_equal(got, "e.json:1:47: error: missing required attribute 'cidr_block' for aws_vpc\n"
			    "e.json:2:45: error: unknown attribute 'cidr' for aws_vpc; did you mean 'cidr_block'?\n");
	free(got);
	s = expect_ok("e2.json", "{\"stack\": \"smile-\\ud83d\\ude00\", \"resources\": {}}", NULL);
	assert_string_equal(s->name, "smile-\xf0\x9f\x98\x80");
	stack_free(s);
}

/* ---- the YAML document model ---- */

static void test_core_schema_typing(void **state)
{
	static const char text[] =
		"a: [true, True, TRUE, false, null, ~, 12, -3, +4, 010, 0x1F, 0o17, 1.5, 1e3, .5]\n"
		"b: [yes, no, on, off, 'true', \"12\", 0b1, 1_000, 12abc, \"${x}\", !!str 5]\n"
		"c:\n";
	struct diags d;
	struct doc doc;

	(void)state;
	diags_init(&d);
	assert_int_equal(doc_parse("t.yaml", text, strlen(text), 0, &doc, &d), 0);
	assert_int_equal(d.n, 0);
	assert_json(json_object_get(doc.root, "a"),
		    "[true,true,true,false,null,null,12,-3,4,10,31,15,1.5,1000.0,0.5]");
	assert_true(json_is_null(json_object_get(doc.root, "c")));
	assert_json(json_object_get(doc.root, "b"),
		    "[\"yes\",\"no\",\"on\",\"off\",\"true\",\"12\",\"0b1\",\"1_000\",\"12abc\","
		    "\"${x}\",\"5\"]");
	assert_true(json_is_integer(json_array_get(json_object_get(doc.root, "a"), 6)));
	assert_true(json_is_real(json_array_get(json_object_get(doc.root, "a"), 13)));
	assert_int_equal(doc_pos(doc.pos, "b[3]", 0).line, 2);
	assert_int_equal(doc_pos(doc.pos, "b[3]", 0).col, 18);
	doc_free(&doc);
	diags_free(&d);
}

static void test_infinity_rejected(void **state)
{
	(void)state;
	expect_errors("stack: x\nregion: .inf\n",
		      "s.yaml:2:9: error: infinite and NaN numbers cannot be used: '.inf'\n");
}

static void test_duplicate_keys(void **state)
{
	(void)state;
	expect_errors("stack: x\nresources:\n  vpc:\n    type: aws_vpc\n    properties:\n"
		      "      cidr_block: 10.0.0.0/16\n      cidr_block: 10.1.0.0/16\n",
		      "s.yaml:7:7: error: duplicate key 'cidr_block' (first set at line 6, column 7)\n");
}

static void test_alias_of_scalar(void **state)
{
	struct stack *s;

	(void)state;
	s = expect_ok("s.yaml", "stack: &n us-east-1\nregion: *n\nresources: {}\n", NULL);
	assert_string_equal(s->region, "us-east-1");
	stack_free(s);
}

static void test_yaml_syntax_error(void **state)
{
	(void)state;
	expect_errors("stack: x\nresources:\n  vpc: [a\n  b: c\n",
		      "s.yaml:4:4: error: syntax error: did not find expected ',' or ']' "
		      "while parsing a flow sequence\n");
}

static void test_json_syntax_error(void **state)
{
	char *got;

	(void)state;
	assert_null(load_opts("bad.json", "{\"stack\": \"x\",\n  \"resources\": {,}}\n", NULL, &got));
	assert_string_equal(got, "bad.json:2:17: error: syntax error: string or '}' expected near ','\n");
	free(got);
}

static void test_missing_file(void **state)
{
	char *got;

	(void)state;
	assert_null(load_opts("/nonexistent/stack.yaml", NULL, NULL, &got));
	assert_string_equal(got, "/nonexistent/stack.yaml:1:1: error: cannot open "
			    "'/nonexistent/stack.yaml': No such file or directory\n");
	free(got);
}

/* ---- validation errors, one class each ---- */

static void test_missing_stack(void **state)
{
	(void)state;
	expect_errors("resources:\n  a:\n    type: aws_sns_topic\n    properties: {name: a}\n",
		      "s.yaml:1:1: error: missing 'stack:' (the name the state is kept under)\n");
}

static void test_unknown_top_key(void **state)
{
	(void)state;
	expect_errors("stack: x\nresource: {}\n",
		      "s.yaml:2:1: error: unknown key 'resource' in the stack file; "
		      "did you mean 'resources'?\n");
}

static void test_bad_resource_name(void **state)
{
	(void)state;
	expect_errors("stack: x\nresources:\n  9vpc:\n    type: aws_sns_topic\n    properties: {name: a}\n",
		      "s.yaml:3:3: error: invalid resource name '9vpc': use letters, digits, '_' and "
		      "'-', starting with a letter\n");
}

static void test_unknown_type(void **state)
{
	(void)state;
	expect_errors("stack: x\nresources:\n  v:\n    type: aws_vcp\n    properties: {}\n",
		      "s.yaml:4:11: error: unknown resource type 'aws_vcp'; did you mean 'aws_vpc'?\n");
}

/* ---- data sources (SPEC §3.1) ---- */

static void test_data_sources_loaded_in_read_order(void **state)
{
	struct stack *s;

	(void)state;
	s = expect_ok("s.yaml", "stack: x\n"
		      "variables:\n  env: {default: dev}\n"
		      "locals:\n  subnet_ids: ${data.nets.ids}\n"
		      "data:\n"
		      "  nets:\n    type: aws_subnets\n    properties:\n"
		      "      filter: [{name: vpc-id, values: [\"${data.vpc.id}\"]}]\n"
		      "  vpc:\n    type: aws_vpc\n    properties: {tags: {Env: \"${var.env}\"}}\n"
		      "resources:\n  t:\n    type: aws_sns_topic\n"
		      "    properties: {name: \"${data.vpc.cidr_block}-${length(local.subnet_ids)}\"}\n",
		      NULL);
	assert_int_equal(s->n_data, 2);
	assert_string_equal(s->data[0].name, "vpc");
	assert_string_equal(s->data[0].type, "aws_vpc");
	assert_json(s->data[0].properties, "{\"tags\":{\"Env\":\"dev\"}}");
	assert_json(s->data[0].deps, "[]");
	assert_string_equal(s->data[1].name, "nets");
	assert_json(s->data[1].deps, "[\"vpc\"]");
	/* data sources are no resources: no edge, no dependency */
	assert_int_equal(s->n_resources, 1);
	assert_json(s->resources[0].deps, "[]");
	stack_free(s);
}

static void test_data_source_errors(void **state)
{
	(void)state;
	expect_errors("stack: x\n"
		      "data:\n"
		      "  vpc:\n    type: aws_vpcs\n"
		      "  me:\n    type: aws_caller_identity\n    properties: {account: 1}\n"
		      "  a:\n    type: aws_region\n    properties: {name: \"${data.b.id}\"}\n"
		      "  b:\n    type: aws_region\n    properties: {name: \"${data.a.id}\"}\n"
		      "  p:\n    type: aws_ssm_parameter\n    count: 2\n"
		      "resources:\n  t:\n    type: aws_sns_topic\n"
		      "    properties: {name: \"${data.me.acount_id}${data.nope.id}\"}\n",
		      "s.yaml:4:11: error: unknown data source type 'aws_vpcs'; did you mean 'aws_vpc'?\n"
		      "s.yaml:7:18: error: unknown attribute 'account' for aws_caller_identity; "
		      "did you mean 'account_id'?\n"
		      "s.yaml:13:25: error: data source 'a' depends on itself (a cycle of data sources)\n"
		      "s.yaml:14:3: error: missing required attribute 'name' for aws_ssm_parameter\n"
		      "s.yaml:16:5: error: data source 'p': count and for_each are not supported on "
		      "data sources; declare one entry per object to read\n"
		      "s.yaml:20:25: error: unknown attribute 'acount_id' of data source 'me' "
		      "(aws_caller_identity) in '${data.me.acount_id}'; did you mean 'account_id'?\n"
		      "s.yaml:20:45: error: reference to unknown data source 'nope' in '${data.nope.id}'\n");
}

/* A reader that answers two subnet ids (and counts its calls). */
static int n_reads;

static int read_two_subnets(void *arg, const char *region, const char *name, const char *type,
			    json_t *args, json_t **out, struct cairn_err *err)
{
	(void)arg; (void)region; (void)args; (void)err;
	n_reads++;
	assert_string_equal(name, "data.nets");
	assert_string_equal(type, "aws_subnets");
	*out = json_pack("{s:s, s:[s,s]}", "id", "us-east-1", "ids", "subnet-a", "subnet-b");
	return 0;
}

static const char COUNT_FROM_DATA[] =
	"stack: x\n"
	"data:\n  nets: {type: aws_subnets, properties: {vpc_id: vpc-1}}\n"
	"locals:\n  ids: ${data.nets.ids}\n"
	"resources:\n  t:\n    type: aws_sns_topic\n    count: ${length(local.ids)}\n"
	"    properties: {name: \"t-${local.ids[count.index]}\"}\n"
	"  u:\n    type: aws_sns_topic\n    properties: {name: \"${t[1].name}\"}\n";

/* With a reader (plan, apply), count and for_each may use data sources. */
static void test_count_from_data_source(void **state)
{
	struct stack_opts o = {0};
	struct stack *s;

	(void)state;
	o.read_data = read_two_subnets;
	n_reads = 0;
	s = expect_ok("s.yaml", COUNT_FROM_DATA, &o);
	assert_int_equal(n_reads, 1);
	assert_int_equal(s->n_resources, 3);
	assert_string_equal(s->resources[1].name, "t[1]");
	assert_json(s->resources[1].properties, "{\"name\":\"t-subnet-b\"}");
	assert_json(json_object_get(s->data_read, "nets"),
		    "{\"id\":\"us-east-1\",\"ids\":[\"subnet-a\",\"subnet-b\"]}");
	stack_free(s);
}

/* Without one (validate), nothing is read and the instances wait for the plan. */
static void test_count_from_data_source_offline(void **state)
{
	struct stack *s;

	(void)state;
	s = expect_ok("s.yaml", COUNT_FROM_DATA, NULL);
	assert_null(s->data_read);
	assert_int_equal(s->n_resources, 1);
	assert_string_equal(s->resources[0].name, "u");
	stack_free(s);
}

static void test_unknown_attribute(void **state)
{
	(void)state;
	expect_errors("stack: x\nresources:\n  v:\n    type: aws_vpc\n    properties:\n"
		      "      cidr_block: 10.0.0.0/16\n      cidr: 10.0.0.0/16\n",
		      "s.yaml:7:7: error: unknown attribute 'cidr' for aws_vpc; did you mean 'cidr_block'?\n");
}

static void test_output_only_attribute(void **state)
{
	(void)state;
	expect_errors("stack: x\nresources:\n  v:\n    type: aws_vpc\n    properties:\n"
		      "      cidr_block: 10.0.0.0/16\n      arn: arn:aws:ec2:x\n",
		      "s.yaml:7:7: error: attribute 'arn' of aws_vpc is computed by AWS and cannot be set\n");
}

static void test_missing_required(void **state)
{
	(void)state;
	expect_errors("stack: x\nresources:\n  v:\n    type: aws_vpc\n    properties:\n"
		      "      enable_dns_support: true\n",
		      "s.yaml:3:3: error: missing required attribute 'cidr_block' for aws_vpc\n");
}

static void test_wrong_type(void **state)
{
	(void)state;
	expect_errors("stack: x\nresources:\n  v:\n    type: aws_vpc\n    properties:\n"
		      "      cidr_block: 10.0.0.0/16\n      enable_dns_support: maybe\n"
		      "      tags: [a, b]\n",
		      "s.yaml:7:27: error: wrong type for 'enable_dns_support' of aws_vpc: expected bool, "
		      "got string \"maybe\"\n"
		      "s.yaml:8:13: error: wrong type for 'tags' of aws_vpc: expected map, got list\n");
}

static void test_lossless_coercions_accepted(void **state)
{
	struct stack *s;

	(void)state;
	s = expect_ok("c.yaml", "stack: x\nresources:\n  v:\n    type: aws_vpc\n    properties:\n"
		      "      cidr_block: 10.0.0.0/16\n      enable_dns_support: \"true\"\n"
		      "      tags: {n: 5, b: true}\n"
		      "  tg:\n    type: aws_lb_target_group\n    properties:\n"
		      "      {name: tg, port: \"80\", vpc_id: \"${v.id}\"}\n", NULL);
	/* properties stay as written; the schema normalizes them at plan time */
	assert_json(json_object_get(s->resources[1].properties, "port"), "\"80\"");
	stack_free(s);
}

static void test_allowed_values(void **state)
{
	(void)state;
	expect_errors("stack: x\nresources:\n  v:\n    type: aws_vpc\n    properties:\n"
		      "      cidr_block: 10.0.0.0/16\n      instance_tenancy: shared\n",
		      "s.yaml:7:25: error: invalid value \"shared\" for 'instance_tenancy' of aws_vpc; "
		      "allowed values: \"default\", \"dedicated\"\n");
}

static void test_pattern(void **state)
{
	(void)state;
	expect_errors("stack: x\nresources:\n  v:\n    type: aws_vpc\n    properties:\n"
		      "      cidr_block: ten-slash-16\n",
		      "s.yaml:6:19: error: invalid value \"ten-slash-16\" for 'cidr_block' of aws_vpc: "
		      "must match ^[0-9]{1,3}(\\.[0-9]{1,3}){3}/[0-9]{1,2}$\n");
}

static void test_nested_checks(void **state)
{
	(void)state;
	expect_errors("stack: x\nresources:\n"
		      "  sg:\n    type: aws_security_group\n    properties:\n"
		      "      name: sg\n      description: d\n      vpc_id: vpc-1\n"
		      "      ingress:\n"
		      "        - from_port: 80\n          to_port: 80\n          protocol: tcp\n"
		      "        - from_port: http\n          protocl: tcp\n"
		      "  tg:\n    type: aws_lb_target_group\n    properties:\n"
		      "      name: tg\n      port: 80\n      vpc_id: vpc-1\n"
		      "      health_check: {pth: /}\n",
		      "s.yaml:13:11: error: missing required attribute 'ingress[1].to_port' for aws_security_group\n"
		      "s.yaml:13:11: error: missing required attribute 'ingress[1].protocol' for aws_security_group\n"
		      "s.yaml:13:22: error: wrong type for 'ingress[1].from_port' of aws_security_group: "
		      "expected number, got string \"http\"\n"
		      "s.yaml:14:11: error: unknown attribute 'ingress[1].protocl' for aws_security_group; "
		      "did you mean 'ingress[1].protocol'?\n"
		      "s.yaml:21:22: error: unknown attribute 'health_check.pth' for aws_lb_target_group; "
		      "did you mean 'health_check.path'?\n");
}

static void test_unknown_resource_reference(void **state)
{
	(void)state;
	expect_errors("stack: x\nresources:\n" "  vpc:\n    type: aws_vpc\n    properties:\n"
		      "      cidr_block: 10.0.0.0/16\n"
		      "  sub:\n    type: aws_subnet\n    properties:\n"
		      "      vpc_id: ${vpcc.id}\n      cidr_block: 10.0.1.0/24\n",
		      "s.yaml:10:15: error: reference to unknown resource 'vpcc' in '${vpcc.id}'; "
		      "did you mean 'vpc'?\n");
}

static void test_unknown_reference_attribute(void **state)
{
	(void)state;
	expect_errors("stack: x\nresources:\n" "  vpc:\n    type: aws_vpc\n    properties:\n"
		      "      cidr_block: 10.0.0.0/16\n"
		      "  sub:\n    type: aws_subnet\n    properties:\n"
		      "      vpc_id: ${vpc.id}\n      cidr_block: \"${vpc.cidr}\"\n",
		      "s.yaml:11:20: error: unknown attribute 'cidr' of resource 'vpc' (aws_vpc) in "
		      "'${vpc.cidr}'; did you mean 'cidr_block'?\n");
}

static void test_reference_type_checked(void **state)
{
	(void)state;
	expect_errors("stack: x\nresources:\n" "  vpc:\n    type: aws_vpc\n    properties:\n"
		      "      cidr_block: 10.0.0.0/16\n"
		      "  sub:\n    type: aws_subnet\n    properties:\n"
		      "      vpc_id: ${vpc.tags}\n      cidr_block: 10.0.1.0/24\n",
		      "s.yaml:10:15: error: wrong type for 'vpc_id' of aws_subnet: expected string, but "
		      "'${vpc.tags}' is a map\n");
}

static void test_unknown_variable(void **state)
{
	(void)state;
	expect_errors("stack: x\nvariables:\n  env: {default: dev}\nresources:\n"
		      "  t:\n    type: aws_sns_topic\n    properties:\n      name: t-${var.evn}\n"
		      "      display_name: \"\xc3\xa9 ${var.zz}\"\n",
		      "s.yaml:8:15: error: unknown variable 'evn' in '${var.evn}'; did you mean 'env'?\n"
		      "s.yaml:9:24: error: unknown variable 'zz' in '${var.zz}'\n");
}

static void test_bad_reference_syntax(void **state)
{
	(void)state;
	expect_errors("stack: x\nresources:\n"
		      "  t:\n    type: aws_sns_topic\n    properties:\n      name: t-${var.env\n"
		      "      display_name: ${aws.zone}\n",
		      "s.yaml:6:15: error: unterminated reference '${var.env' (write '$${' for a literal '${')\n"
		      "s.yaml:7:21: error: unknown reference '${aws.zone}': use ${aws.region} or "
		      "${aws.account_id}\n");
}

static void test_unknown_depends_on(void **state)
{
	(void)state;
	expect_errors("stack: x\nresources:\n" "  vpc:\n    type: aws_vpc\n    depends_on: [vcp]\n"
		      "    properties:\n      cidr_block: 10.0.0.0/16\n",
		      "s.yaml:5:18: error: depends_on names unknown resource 'vcp'; did you mean 'vpc'?\n");
}

static void test_ignore_changes_unknown(void **state)
{
	(void)state;
	expect_errors("stack: x\nresources:\n" "  vpc:\n    type: aws_vpc\n"
		      "    lifecycle: {ignore_changes: [tag], prevent_destroy: yes}\n"
		      "    properties:\n      cidr_block: 10.0.0.0/16\n",
		      "s.yaml:5:34: error: ignore_changes names unknown attribute 'tag' of aws_vpc; "
		      "did you mean 'tags'?\n"
		      "s.yaml:5:57: error: 'prevent_destroy' must be true or false\n");
}

static void test_cycle(void **state)
{
	char *got;

	(void)state;
	assert_null(load_opts("tests/data/stacks/cycle.yaml", NULL, NULL, &got));
	assert_string_equal(got, "tests/data/stacks/cycle.yaml:3:3: error: dependency cycle: "
			    "a -> c -> b -> a (a at tests/data/stacks/cycle.yaml:3:3, "
			    "c at tests/data/stacks/cycle.yaml:12:3, b at tests/data/stacks/cycle.yaml:8:3)\n");
	free(got);
}

static void test_self_cycle(void **state)
{
	(void)state;
	expect_errors("stack: x\nresources:\n  t:\n    type: aws_sns_topic\n"
		      "    properties: {name: t, display_name: \"${t.arn}\"}\n",
		      "s.yaml:3:3: error: dependency cycle: t -> t (t at s.yaml:3:3)\n");
}

static void test_many_errors_at_once(void **state)
{
	char *got;

	(void)state;
	assert_null(load_opts("tests/data/stacks/bad_many.yaml", NULL, NULL, &got));
	assert_string_equal(got,
		"tests/data/stacks/bad_many.yaml:3:3: error: missing required attribute 'cidr_block' for aws_vpc\n"
		"tests/data/stacks/bad_many.yaml:6:7: error: unknown attribute 'cidr' for aws_vpc; did you mean 'cidr_block'?\n"
		"tests/data/stacks/bad_many.yaml:7:25: error: invalid value \"shared\" for 'instance_tenancy' of aws_vpc; allowed values: \"default\", \"dedicated\"\n"
		"tests/data/stacks/bad_many.yaml:9:11: error: unknown resource type 'aws_subnett'; did you mean 'aws_subnet'?\n"
		"tests/data/stacks/bad_many.yaml:15:13: error: wrong type for 'port' of aws_lb_target_group: expected number, got string \"eighty\"\n"
		"tests/data/stacks/bad_many.yaml:16:15: error: reference to unknown resource 'vpcc' in '${vpcc.id}'; did you mean 'vpc'?\n");
	free(got);
}

/* ---- variables ---- */

static const char vars_stack[] =
	"stack: s-${var.env}\n"
	"variables:\n"
	"  env: {type: string, default: dev}\n"
	"  count: {type: number, default: 1}\n"
	"  flag: {type: bool, default: false}\n"
	"  zones: {type: list, default: []}\n"
	"  extra: {type: map, default: {}}\n"
	"resources: {}\n";

static void test_variable_precedence(void **state)
{
	const char *vars[] = {"count=3", "zones=[\"a\",\"b\"]", "count=4"};
	const char *files[2];
	char *env[] = {"CAIRN_VAR_env=fromenv", "CAIRN_VAR_flag=true", "CAIRN_VAR_extra={\"k\":1}", NULL};
	struct stack_opts o = {0};
	struct stack *s;

	(void)state;
	/* default only */
	s = expect_ok("v.yaml", vars_stack, &o);
	assert_string_equal(s->name, "s-dev");
	assert_json(s->vars, "{\"count\":1,\"env\":\"dev\",\"extra\":{},\"flag\":false,\"zones\":[]}");
	stack_free(s);
	/* environment over defaults */
	o.envp = env;
	s = expect_ok("v.yaml", vars_stack, &o);
	assert_string_equal(s->name, "s-fromenv");
	assert_json(s->vars, "{\"count\":1,\"env\":\"fromenv\",\"extra\":{\"k\":1},\"flag\":true,\"zones\":[]}");
	stack_free(s);
	/* var files over the environment, later files over earlier ones */
	files[0] = xstrdup(put("a.yaml", "env: fromfile\ncount: \"2\"\n"));
	files[1] = xstrdup(put("b.json", "{\"env\": \"fromjson\"}"));
	o.var_files = files;
	o.n_var_files = 2;
	s = expect_ok("v.yaml", vars_stack, &o);
	assert_string_equal(s->name, "s-fromjson");
	assert_json(json_object_get(s->vars, "count"), "2");
	stack_free(s);
	/* --var over everything, the last one winning; typed losslessly */
	o.vars = vars;
	o.n_vars = 3;
	s = expect_ok("v.yaml", vars_stack, &o);
	assert_json(json_object_get(s->vars, "count"), "4");
	assert_json(json_object_get(s->vars, "zones"), "[\"a\",\"b\"]");
	assert_string_equal(s->name, "s-fromjson");
	stack_free(s);
	free((char *)files[0]);
	free((char *)files[1]);
}

static void test_variable_errors(void **state)
{
	const char *vars[] = {"count=three", "nope=1", "flag"};
	struct stack_opts o = {0};
	char *got;

	(void)state;
	o.vars = vars;
	o.n_vars = 3;
	assert_null(load_opts("v.yaml", vars_stack, &o, &got));
	assert_string_equal(got,
		"v.yaml:2:1: error: variable 'count' (--var): expected a number, got \"three\"\n"
		"v.yaml:2:1: error: --var 'nope=1': no variable 'nope' is declared in this stack\n"
		"v.yaml:2:1: error: --var 'flag': expected NAME=VALUE\n");
	free(got);
}

static void test_variable_without_value(void **state)
{
	(void)state;
	expect_errors("stack: x\nvariables:\n  env:\n    type: string\nresources: {}\n",
		      "s.yaml:3:3: error: variable 'env' has no value: give it a default, or set it with "
		      "--var env=VALUE, --var-file or CAIRN_VAR_env\n");
}

static void test_variable_file_errors(void **state)
{
	const char *files[1];
	struct stack_opts o = {0};
	char *got;

	(void)state;
	files[0] = xstrdup(put("vf.yaml", "count: many\nenvv: x\n"));
	o.var_files = files;
	o.n_var_files = 1;
	assert_null(load_opts("v.yaml", vars_stack, &o, &got));
	assert_string_equal(got,
		"vf.yaml:1:8: error: variable 'count' (vf.yaml): expected a number, got \"many\"\n"
		"vf.yaml:2:1: error: variable 'envv' is not declared in 'v.yaml'; did you mean 'env'?\n");
	free(got);
	free((char *)files[0]);
}

/* ---- graph ---- */

/* The order stack_topo_order promises, the slow way: repeatedly the
 * smallest-named resource whose dependencies are all placed. */
static void reference_order(const struct stack *s, size_t *out)
{
	size_t n = s->n_resources, k, i, j;
	int *done = calloc(n + 1, sizeof(int));

	for (k = 0; k < n; k++) {
		long pick = -1;

		for (i = 0; i < n; i++) {
			json_t *dep;
			int ready = !done[i];

			json_array_foreach(s->resources[i].deps, j, dep)
				if (!done[stack_find(s, json_string_value(dep))])
					ready = 0;
			if (ready && (pick < 0 ||
				      strcmp(s->resources[i].name, s->resources[pick].name) < 0))
				pick = (long)i;
		}
		assert_true(pick >= 0);
		done[pick] = 1;
		out[k] = (size_t)pick;
	}
	free(done);
}

static void test_topo_order_large(void **state)
{
	struct strbuf y;
	struct stack *s;
	size_t *order, *want, i, n = 300;
	unsigned seed = 12345;

	(void)state;
	strbuf_init(&y);
	strbuf_adds(&y, "stack: g\nresources:\n");
	/* names in another order than the dependencies: r<scrambled>_<i> */
	for (i = 0; i < n; i++) {
		size_t d, k;

		strbuf_addf(&y, "  r%03zu_%03zu:\n    type: aws_sns_topic\n", (i * 7919) % n, i);
		strbuf_addf(&y, "    properties: {name: t%zu}\n", i);
		if (i == 0)
			continue;
		strbuf_adds(&y, "    depends_on: [");
		for (k = 0; k < 3; k++) {
			seed = seed * 1103515245u + 12345u;
			d = (seed >> 8) % i;
			strbuf_addf(&y, "%sr%03zu_%03zu", k ? ", " : "", (d * 7919) % n, d);
		}
		strbuf_adds(&y, "]\n");
	}
	s = expect_ok("big.yaml", y.buf, NULL);
	strbuf_free(&y);
	assert_int_equal(s->n_resources, n);
	for (i = 0; i < n; i++)
		assert_int_equal(stack_find(s, s->resources[i].name), (long)i);
	want = calloc(n, sizeof(*want));
	reference_order(s, want);
	stack_topo_order(s, &order);
	for (i = 0; i < n; i++)
		assert_string_equal(s->resources[order[i]].name, s->resources[want[i]].name);
	free(order);
	free(want);
	stack_free(s);
}

static void test_topo_order_and_dot(void **state)
{
	struct stack *s;
	size_t *order;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	s = expect_ok("g.yaml", "stack: g\nresources:\n"
		      "  z:\n    type: aws_sns_topic\n    properties: {name: z}\n"
		      "  c:\n    type: aws_sns_topic\n    properties: {name: \"c-${z.arn}\"}\n"
		      "  b:\n    type: aws_sns_topic\n    depends_on: [c]\n    properties: {name: b}\n"
		      "  a:\n    type: aws_sns_topic\n    properties: {name: a}\n", NULL);
	stack_topo_order(s, &order);
	assert_string_equal(s->resources[order[0]].name, "a");
	assert_string_equal(s->resources[order[1]].name, "z");
	assert_string_equal(s->resources[order[2]].name, "c");
	assert_string_equal(s->resources[order[3]].name, "b");
	free(order);
	f = open_memstream(&buf, &len);
	stack_write_dot(s, f);
	fclose(f);
	assert_string_equal(buf,
		"digraph cairn {\n\trankdir=RL;\n\tnode [shape=box];\n"
		"\t\"a\" [label=\"a (aws_sns_topic)\"];\n"
		"\t\"z\" [label=\"z (aws_sns_topic)\"];\n"
		"\t\"c\" [label=\"c (aws_sns_topic)\"];\n"
		"\t\"b\" [label=\"b (aws_sns_topic)\"];\n"
		"\t\"c\" -> \"z\";\n"
		"\t\"b\" -> \"c\";\n"
		"}\n");
	free(buf);
	stack_free(s);
}

static void test_outputs_make_no_edges(void **state)
{
	struct stack *s;

	(void)state;
	s = expect_ok("o.yaml", "stack: o\nresources:\n" "  t:\n    type: aws_sns_topic\n"
		      "    properties: {name: t}\noutputs:\n  arn: {value: \"${t.arn}\"}\n", NULL);
	assert_int_equal(json_array_size(s->resources[0].deps), 0);
	assert_json(s->outputs[0].value, "\"${t.arn}\"");
	stack_free(s);
}

static void test_default_file(void **state)
{
	char cwd[4096], sub[300];

	(void)state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	snprintf(sub, sizeof(sub), "%s/default", tmpdir);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(chdir(sub), 0);
	assert_null(stack_default_file());
	put("default/stack.json", "{}");
	assert_string_equal(stack_default_file(), "stack.json");
	put("default/stack.yml", "a: 1");
	assert_string_equal(stack_default_file(), "stack.yml");
	put("default/stack.yaml", "a: 1");
	assert_string_equal(stack_default_file(), "stack.yaml");
	assert_int_equal(chdir(cwd), 0);
}

/* Found by fuzzing (tests/fuzz/corpus/stack_json/nul-after-value): jansson
 * stops at a NUL byte and took "1" for the whole file, and the copy made
 * for positions was shorter than the text (a heap overflow). */
static void test_nul_byte_refused(void **state)
{
	static const char *const texts[] = {"1\0 ", "{\"stack\": \"a\"}\n\0junk",
					    "stack: a\nresources: {}\0\n"};
	static const char *const names[] = {"nul.json", "nul2.json", "nul.yaml"};
	static const char *const where[] = {"nul.json:1:2: ", "nul2.json:2:1: ", "nul.yaml:2:14: "};
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		char path[256];
		struct stack_opts none = {0};
		struct diags d;
		char *out;
		FILE *f;
		size_t len = strlen(texts[i]) + 1 + strlen(texts[i] + strlen(texts[i]) + 1);

		snprintf(path, sizeof(path), "%s/%s", tmpdir, names[i]);
		f = fopen(path, "w");
		assert_non_null(f);
		assert_int_equal(fwrite(texts[i], 1, len, f), len);
		fclose(f);
		diags_init(&d);
		assert_null(stack_load(path, &none, &d));
		out = printed(&d);
		assert_non_null(strstr(out, where[i]));
		assert_non_null(strstr(out, "a NUL byte in the file"));
		free(out);
		diags_free(&d);
	}
}

static void test_expression_errors_positioned(void **state)
{
	(void)state;
	expect_errors(
		"stack: s\n"
		"variables:\n"
		"  n: {type: number, default: 0}\n"
		"resources:\n"
		"  vpc:\n"
		"    type: aws_vpc\n"
		"    properties:\n"
		"      cidr_block: ${cidrsubnet(\"10.0.0.0/8\", 8)}\n"
		"      tags: {A: \"x-${10 / var.n}\", B: '${nosuch(1)}', C: \"${[1][3 - 1]}\"}\n",
		"s.yaml:8:21: error: wrong number of arguments to cidrsubnet (2 given): "
		"cidrsubnet(prefix string, newbits number, netnum number)\n"
		"s.yaml:9:25: error: division by zero\n"
		"s.yaml:9:42: error: unknown function 'nosuch'\n"
		"s.yaml:9:61: error: index 2 out of range for a list of 1 element\n");
}

static void test_locals(void **state)
{
	struct stack *s;
	char *got;

	(void)state;
	s = expect_ok("s.yaml",
		"stack: s-${local.short}\n"
		"variables:\n"
		"  env: {type: string, default: production}\n"
		"locals:\n"
		"  short: ${substr(var.env, 0, 4)}\n"
		"  cidrs: '${[for i in range(2) : cidrsubnet(\"10.0.0.0/16\", 8, i)]}'\n"
		"  vpc_id: ${vpc.id}\n"
		"resources:\n"
		"  vpc:\n"
		"    type: aws_vpc\n"
		"    properties: {cidr_block: '${local.cidrs[1]}'}\n"
		"  sub:\n"
		"    type: aws_subnet\n"
		"    properties: {vpc_id: '${local.vpc_id}', cidr_block: 10.0.0.0/24}\n", NULL);
	assert_string_equal(s->name, "s-prod");
	assert_string_equal(json_string_value(json_object_get(s->resources[0].properties, "cidr_block")),
			    "10.0.1.0/24");
	got = json_dumps(s->resources[1].deps, JSON_COMPACT);
	assert_string_equal(got, "[\"vpc\"]");
	free(got);
	assert_string_equal(json_string_value(json_object_get(s->resources[1].properties, "vpc_id")),
			    "${(((vpc.id)))}");
	stack_free(s);
	expect_errors(
		"stack: s\n"
		"locals:\n"
		"  a: ${local.b}\n"
		"  b: ${local.a}\n"
		"  c: ${local.nope}\n"
		"resources: {}\n",
		"s.yaml:4:6: error: local value 'a' depends on itself (a cycle of locals)\n"
		"s.yaml:5:6: error: unknown local value 'nope' in '${local.nope}'\n");
}

static void test_yaml_anchors(void **state)
{
	struct stack *s;
	char *got;

	(void)state;
	s = expect_ok("s.yaml",
		"stack: s\n"
		"x-tags: &common {Team: platform, Env: dev}\n"
		"resources:\n"
		"  vpc:\n"
		"    type: aws_vpc\n"
		"    properties:\n"
		"      cidr_block: &cidr 10.0.0.0/16\n"
		"      tags: {<<: *common, Env: prod, Cidr: *cidr}\n", NULL);
	got = json_dumps(json_object_get(s->resources[0].properties, "tags"), JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(got, "{\"Cidr\":\"10.0.0.0/16\",\"Env\":\"prod\",\"Team\":\"platform\"}");
	free(got);
	stack_free(s);
	/* Errors inside aliased or merged content point at the anchor's text. */
	expect_errors(
		"stack: s\n"
		"x-tg: &tg\n"
		"  port: eighty\n"
		"resources:\n"
		"  tg:\n"
		"    type: aws_lb_target_group\n"
		"    properties: {<<: *tg, name: a, vpc_id: v}\n"
		"  tg2:\n"
		"    type: aws_lb_target_group\n"
		"    properties: *missing\n",
		"s.yaml:3:9: error: wrong type for 'port' of aws_lb_target_group: expected number, got string \"eighty\"\n"
		"s.yaml:8:3: error: missing required attribute 'name' for aws_lb_target_group\n"
		"s.yaml:8:3: error: missing required attribute 'port' for aws_lb_target_group\n"
		"s.yaml:8:3: error: missing required attribute 'vpc_id' for aws_lb_target_group\n"
		"s.yaml:10:17: error: unknown anchor '*missing' (an alias must follow its '&missing')\n");
	expect_errors(
		"stack: s\n"
		"resources:\n"
		"  vpc: {<<: 3}\n",
		"s.yaml:3:13: error: a merge key '<<' takes a map or a list of maps (e.g. '<<: *defaults')\n");
}

static void test_modules_nested(void **state)
{
	struct stack *s;
	char *got;
	long i;

	(void)state;
	put("inner.yaml",
	    "variables:\n  vpc: {type: string}\n  n: {type: number, default: 1}\n"
	    "resources:\n  sub:\n    type: aws_subnet\n    count: ${var.n}\n"
	    "    properties: {vpc_id: \"${var.vpc}\", cidr_block: '${cidrsubnet(\"10.0.0.0/16\", 8, count.index)}'}\n"
	    "outputs:\n  ids: {value: '${sub[*].id}'}\n");
	put("outer.yaml",
	    "variables:\n  vpc: {type: string}\n"
	    "modules:\n  net:\n    source: ./inner.yaml\n    inputs: {vpc: \"${var.vpc}\", n: 2}\n"
	    "resources:\n  sg:\n    type: aws_security_group\n"
	    "    properties: {name: sg, description: d, vpc_id: \"${var.vpc}\"}\n"
	    "outputs:\n  first: {value: '${module.net.ids[0]}'}\n  sg: {value: '${sg.id}'}\n");
	s = expect_ok("s.yaml",
		"stack: s\n"
		"modules:\n  app:\n    source: outer.yaml\n    inputs: {vpc: \"${vpc.id}\"}\n"
		"resources:\n"
		"  vpc: {type: aws_vpc, properties: {cidr_block: 10.0.0.0/16}}\n"
		"  topic:\n    type: aws_sns_topic\n"
		"    properties: {name: t, tags: {Sub: '${module.app.first}', Sg: '${module.app.sg}'}}\n",
		NULL);
	assert_true(stack_find(s, "module.app.module.net.sub[1]") >= 0);
	assert_true(stack_find(s, "module.app.sg") >= 0);
	i = stack_find(s, "module.app.module.net.sub[1]");
	got = json_dumps(s->resources[i].deps, JSON_COMPACT);
	assert_string_equal(got, "[\"vpc\"]");
	free(got);
	assert_string_equal(json_string_value(json_object_get(s->resources[i].properties, "cidr_block")),
			    "10.0.1.0/24");
	i = stack_find(s, "topic");
	got = json_dumps(s->resources[i].deps, JSON_COMPACT);
	assert_string_equal(got, "[\"module.app.module.net.sub[0]\",\"module.app.module.net.sub[1]\","
			    "\"module.app.sg\"]");
	free(got);
	stack_free(s);
	/* an error inside a nested module names the chain of calls */
	put("inner.yaml", "variables:\n  vpc: {type: string}\n  n: {type: number}\nresources:\n"
	    "  sub: {type: aws_subnet, properties: {vpc_id: \"${var.vpc}\", cidr: x}}\n"
	    "outputs:\n  ids: {value: [a]}\n");
	expect_errors("stack: s\nmodules:\n  app:\n    source: outer.yaml\n    inputs: {vpc: v}\n",
		      "inner.yaml:5:3: error: missing required attribute 'cidr_block' for aws_subnet "
		      "(in module 'net' called at outer.yaml:4:3) (in module 'app' called at s.yaml:3:3)\n"
		      "inner.yaml:5:62: error: unknown attribute 'cidr' for aws_subnet; did you mean "
		      "'cidr_block'? (in module 'net' called at outer.yaml:4:3) (in module 'app' "
		      "called at s.yaml:3:3)\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_yaml),
		cmocka_unit_test(test_good_json),
		cmocka_unit_test(test_json_errors_positioned),
		cmocka_unit_test(test_json_escapes),
		cmocka_unit_test(test_core_schema_typing),
		cmocka_unit_test(test_infinity_rejected),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_alias_of_scalar),
		cmocka_unit_test(test_yaml_syntax_error),
		cmocka_unit_test(test_json_syntax_error),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_missing_stack),
		cmocka_unit_test(test_unknown_top_key),
		cmocka_unit_test(test_bad_resource_name),
		cmocka_unit_test(test_unknown_type),
		cmocka_unit_test(test_data_sources_loaded_in_read_order),
		cmocka_unit_test(test_data_source_errors),
		cmocka_unit_test(test_count_from_data_source),
		cmocka_unit_test(test_count_from_data_source_offline),
		cmocka_unit_test(test_unknown_attribute),
		cmocka_unit_test(test_output_only_attribute),
		cmocka_unit_test(test_missing_required),
		cmocka_unit_test(test_wrong_type),
		cmocka_unit_test(test_lossless_coercions_accepted),
		cmocka_unit_test(test_allowed_values),
		cmocka_unit_test(test_pattern),
		cmocka_unit_test(test_nested_checks),
		cmocka_unit_test(test_unknown_resource_reference),
		cmocka_unit_test(test_unknown_reference_attribute),
		cmocka_unit_test(test_reference_type_checked),
		cmocka_unit_test(test_unknown_variable),
		cmocka_unit_test(test_bad_reference_syntax),
		cmocka_unit_test(test_unknown_depends_on),
		cmocka_unit_test(test_ignore_changes_unknown),
		cmocka_unit_test(test_cycle),
		cmocka_unit_test(test_self_cycle),
		cmocka_unit_test(test_many_errors_at_once),
		cmocka_unit_test(test_variable_precedence),
		cmocka_unit_test(test_variable_errors),
		cmocka_unit_test(test_variable_without_value),
		cmocka_unit_test(test_variable_file_errors),
		cmocka_unit_test(test_topo_order_and_dot),
		cmocka_unit_test(test_topo_order_large),
		cmocka_unit_test(test_outputs_make_no_edges),
		cmocka_unit_test(test_default_file),
		cmocka_unit_test(test_nul_byte_refused),
		cmocka_unit_test(test_expression_errors_positioned),
		cmocka_unit_test(test_locals),
		cmocka_unit_test(test_yaml_anchors),
		cmocka_unit_test(test_modules_nested),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
