/*
 * Unit tests for engine/expr.c: whole references keep their type, text
 * interpolation, "$${", paths, unknown markers, and partial substitution.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine/expr.h"
#include "engine/value.h"

/* Resolves against {"var": {...}, "vpc": {...}, ...}; "pending" is unknown;
 * anything else is an error. */
static json_t *lookup(void *ctx, const char *root, const char *path, struct cairn_err *err)
{
	json_t *world = ctx, *v;

	if (strcmp(root, "pending") == 0)
		return value_unknown();
	v = expr_walk(json_object_get(world, root), path);
	if (!v) {
		err_set(err, CAIRN_EINVAL, "no %s.%s", root, path);
		return NULL;
	}
	return json_incref(v);
}

/* Resolves only var.*; leaves the rest (no error). */
static json_t *vars_only(void *ctx, const char *root, const char *path, struct cairn_err *err)
{
	(void)err;
	if (strcmp(root, "var") != 0)
		return NULL;
	return lookup(ctx, root, path, err);
}

/* "loc.NAME" stands for the expression "vpc.id" (a residual); var.* resolves. */
static json_t *residual_lookup(void *ctx, const char *root, const char *path, struct cairn_err *err)
{
	if (!strcmp(root, "loc")) {
		json_t *r = expr_residual("vpc.id");
		char *t;

		if (!strcmp(path, "x") || !strcmp(path, "y"))
			return r;
		t = xasprintf("vpc.id%s", strchr(path, '.'));
		json_decref(r);
		r = expr_residual(t);
		free(t);
		return r;
	}
	return vars_only(ctx, root, path, err);
}

static json_t *world(void)
{
	return json_pack("{s:{s:s,s:i,s:b,s:[s,s],s:{s:s},s:f,s:n}, s:{s:s,s:[{s:s}]}}",
			 "var", "env", "dev", "count", 3, "on", 1, "azs", "a", "b", "tags",
			 "Name", "web", "ratio", 0.5, "nothing",
			 "vpc", "id", "vpc-1", "subnets", "id", "subnet-1");
}

static void check(const char *in, const char *want)
{
	json_t *w = world(), *s = json_string(in), *r;
	struct cairn_err err;
	char *got;

	err_clear(&err);
	r = expr_eval(s, lookup, w, &err);
	if (!r)
		fail_msg("%s: %s", in, err.msg);
	got = json_dumps(r, JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(got, want);
	free(got);
	json_decref(r);
	json_decref(s);
	json_decref(w);
}

static void test_whole_reference_keeps_type(void **state)
{
	(void)state;
	check("${var.count}", "3");
	check("${var.on}", "true");
	check("${var.azs}", "[\"a\",\"b\"]");
	check("${var.tags}", "{\"Name\":\"web\"}");
	check("${ vpc.id }", "\"vpc-1\"");
	check("${var.nothing}", "null");
}

static void test_interpolation_stringifies(void **state)
{
	(void)state;
	check("n=${var.count}", "\"n=3\"");
	check("${var.on}!", "\"true!\"");
	check("r=${var.ratio}", "\"r=0.5\"");
	check("azs=${var.azs}", "\"azs=[\\\"a\\\",\\\"b\\\"]\"");
	check("t=${var.tags}", "\"t={\\\"Name\\\":\\\"web\\\"}\"");
	check("${var.env}-${vpc.id}", "\"dev-vpc-1\"");
	check("plain", "\"plain\"");
	check("", "\"\"");
}

static void test_paths(void **state)
{
	(void)state;
	check("${var.tags.Name}", "\"web\"");
	check("${var.azs[1]}", "\"b\"");
	check("${var.azs.0}", "\"a\"");
	check("${vpc.subnets[0].id}", "\"subnet-1\"");
}

static void test_escape(void **state)
{
	(void)state;
	check("$${var.env}", "\"${var.env}\"");
	check("a $${x} ${var.env}", "\"a ${x} dev\"");
	check("$$ and $ alone", "\"$$ and $ alone\"");
}

static void test_deep_and_unknown(void **state)
{
	json_t *w = world(), *v, *r;
	struct cairn_err err;
	char *got;

	(void)state;
	v = json_pack("{s:[s,s],s:s,s:s,s:i}", "list", "${var.env}", "${pending.id}",
		      "text", "id=${pending.id}", "whole", "${pending.arn}", "n", 5);
	err_clear(&err);
	r = expr_eval(v, lookup, w, &err);
	assert_non_null(r);
	assert_true(value_is_unknown(json_array_get(json_object_get(r, "list"), 1)));
	assert_true(value_is_unknown(json_object_get(r, "text")));
	assert_true(value_is_unknown(json_object_get(r, "whole")));
	got = json_dumps(json_array_get(json_object_get(r, "list"), 0), JSON_ENCODE_ANY);
	assert_string_equal(got, "\"dev\"");
	free(got);
	assert_int_equal(json_integer_value(json_object_get(r, "n")), 5);
	json_decref(r);
	json_decref(v);
	json_decref(w);
}

static void test_errors(void **state)
{
	json_t *w = world(), *s;
	struct cairn_err err;

	(void)state;
	s = json_string("x ${var.env");
	err_clear(&err);
	assert_null(expr_eval(s, lookup, w, &err));
	assert_string_equal(err.msg, "unterminated reference '${var.env' (write '$${' for a literal '${')");
	json_decref(s);
	s = json_string("${novalue}");
	err_clear(&err);
	assert_null(expr_eval(s, lookup, w, &err));
	assert_non_null(strstr(err.msg, "no novalue."));
	json_decref(s);
	s = json_string("${vpc.nope}");
	err_clear(&err);
	assert_null(expr_eval(s, lookup, w, &err));
	assert_string_equal(err.msg, "no vpc.nope");
	json_decref(s);
	json_decref(w);
}

static void collect(void *ctx, const char *root, const char *path)
{
	json_array_append_new(ctx, json_sprintf("%s|%s", root, path));
}

static void test_refs(void **state)
{
	json_t *v = json_pack("{s:s,s:[s,{s:s}]}", "a", "${vpc.id}-${var.x} $${no.ref}",
			      "b", "${aws.region}", "c", "${sub.ids[2].x}");
	json_t *out = json_array();
	struct cairn_err err;
	char *got;

	(void)state;
	err_clear(&err);
	assert_int_equal(expr_refs(v, collect, out, &err), 0);
	got = json_dumps(out, JSON_COMPACT);
	assert_string_equal(got, "[\"vpc|id\",\"var|x\",\"aws|region\",\"sub|ids[2].x\"]");
	free(got);
	json_decref(out);
	json_decref(v);
}

static void test_single_ref_and_split(void **state)
{
	char *root, *path, *s;
	json_t *segs;

	(void)state;
	assert_int_equal(expr_single_ref("${vpc.tags.Name}", &root, &path), 1);
	assert_string_equal(root, "vpc");
	assert_string_equal(path, "tags.Name");
	free(root);
	free(path);
	assert_int_equal(expr_single_ref("x${vpc.id}", &root, &path), 0);
	assert_int_equal(expr_single_ref("$${vpc.id}", &root, &path), 0);
	segs = expr_path_split("a.b[3].c");
	s = json_dumps(segs, JSON_COMPACT);
	assert_string_equal(s, "[\"a\",\"b\",3,\"c\"]");
	free(s);
	json_decref(segs);
	assert_null(expr_path_split("a..b"));
	assert_null(expr_path_split("a[x]"));
}

static void test_subst_partial(void **state)
{
	json_t *w = world(), *v, *r;
	struct cairn_err err;
	char *got;

	(void)state;
	json_object_set_new(json_object_get(w, "var"), "tricky", json_string("has ${x}"));
	v = json_pack("[s,s,s,s,s]", "${var.count}", "${vpc.id}", "${var.env}-${vpc.id} $${lit}",
		      "${var.tricky}", "n-${var.tricky}");
	err_clear(&err);
	r = expr_subst(v, vars_only, w, &err);
	assert_non_null(r);
	got = json_dumps(r, JSON_COMPACT);
	assert_string_equal(got, "[3,\"${vpc.id}\",\"dev-${vpc.id} $${lit}\",\"has $${x}\","
			    "\"n-has $${x}\"]");
	free(got);
	json_decref(r);
	json_decref(v);
	json_decref(w);
}

/* Evaluation fails with a message containing want, at byte offset off. */
static void check_err(const char *in, const char *want, size_t off)
{
	struct expr_env env = {lookup, NULL, NULL};
	json_t *w = world();
	struct cairn_err err;
	size_t got_off = 999;
	json_t *r;

	env.ctx = w;
	err_clear(&err);
	r = expr_string(in, &env, 0, &got_off, &err);
	if (r)
		fail_msg("%s: no error", in);
	if (!strstr(err.msg, want))
		fail_msg("%s: error '%s' lacks '%s'", in, err.msg, want);
	if (got_off != off)
		fail_msg("%s: error at %zu, want %zu (%s)", in, got_off, off, err.msg);
	json_decref(w);
}

static void test_literals_and_operators(void **state)
{
	(void)state;
	check("${42}", "42");
	check("${1.5}", "1.5");
	check("${\"text\"}", "\"text\"");
	check("${true}", "true");
	check("${null}", "null");
	check("${[1, \"a\", true]}", "[1,\"a\",true]");
	check("${{ k = 1, \"j\": 2 }}", "{\"j\":2,\"k\":1}");
	check("${1 + 2 * 3}", "7");
	check("${(1 + 2) * 3}", "9");
	check("${10 / 4}", "2.5");
	check("${10 / 5}", "2");
	check("${7 % 3}", "1");
	check("${-var.count + 1}", "-2");
	check("${var.count == 3}", "true");
	check("${var.env != \"dev\"}", "false");
	check("${1 < 2 && 2 <= 2 && 3 > 2 && 3 >= 4}", "false");
	check("${!var.on || false}", "false");
	check("${var.env == \"production\" ? 3 : 1}", "1");
	check("${var.on ? \"yes\" : \"no\"}", "\"yes\"");
	check("${\"${var.env}-x\"}", "\"dev-x\"");
	check("${\"a\\\"b\\n\"}", "\"a\\\"b\\n\"");
}

/* "${~" strips the white space before it (a use after free once: the new
 * text was cut from the old string after that string was released). */
static void test_strip_markers(void **state)
{
	(void)state;
	check("a  \t${~ \"b\"}", "\"ab\"");
	check("x ${~ var.env ~} y", "\"xdevy\"");
}

static void test_traversals_and_for(void **state)
{
	(void)state;
	check("${var.tags[\"Name\"]}", "\"web\"");
	check("${var.azs[var.count - 2]}", "\"b\"");
	check("${vpc.subnets[*].id}", "[\"subnet-1\"]");
	check("${[{n = 1}, {n = 2}][*].n}", "[1,2]");
	check("${[for s in var.azs : upper(s)]}", "[\"A\",\"B\"]");
	check("${[for i, s in var.azs : \"${i}:${s}\"]}", "[\"0:a\",\"1:b\"]");
	check("${[for s in var.azs : s if s != \"a\"]}", "[\"b\"]");
	check("${{for k, v in var.tags : lower(v) => k}}", "{\"web\":\"Name\"}");
	check("${{for s in [\"a\", \"b\", \"a\"] : s => s...}}", "{\"a\":[\"a\",\"a\"],\"b\":[\"b\"]}");
	check("${[for k, v in {b = 2, a = 1} : k]}", "[\"a\",\"b\"]");
	check("${length(var.azs) + 1}", "3");
	check("x=${var.count * 2}!", "\"x=6!\"");
}

static void test_unknown_flows(void **state)
{
	json_t *w = world(), *v, *r;
	struct cairn_err err;
	size_t i;
	const char *cases[] = {"${pending.id + 1}", "${pending.on ? 1 : 2}", "${!pending.x}",
			       "${upper(pending.id)}", "${[for s in pending.list : s]}",
			       "${pending.list[0]}", "${{(pending.k) = 1}}", "a-${pending.id}"};

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = json_string(cases[i]);
		err_clear(&err);
		r = expr_eval(v, lookup, w, &err);
		if (!r || !value_is_unknown(r))
			fail_msg("%s: not unknown (%s)", cases[i], err.msg);
		json_decref(r);
		json_decref(v);
	}
	json_decref(w);
}

static void test_positioned_errors(void **state)
{
	(void)state;
	check_err("ab ${1 / 0}", "division by zero", 7);
	check_err("${var.azs[2 + 3]}", "index 5 out of range for a list of 2 elements", 2);
	check_err("${var.tags[lower(\"X\")]}", "no key 'x'", 2);
	check_err("${1 +}", "expected a value", 5);
	check_err("${\"a\" + 1}", "'+' needs numbers: the left operand is string", 2);
	check_err("${var.count ? 1 : 2}", "the condition must be a bool", 2);
	check_err("${[for s in 3 : s]}", "needs a list or map", 12);
	check_err("${{for s in [\"a\", \"a\"] : s => 1}}", "duplicate key 'a'", 25);
	check_err("${\"open}", "unterminated string", 2);
	check_err("${ (1 }", "expected ')'", 6);
	check_err("${ a.b c }", "expected '}'", 7);
}

static void test_residual(void **state)
{
	json_t *w = world(), *v, *r;
	struct cairn_err err;
	char *got;

	(void)state;
	v = json_pack("[s,s,s]", "${upper(var.env)}-${loc.x}", "${loc.x.id}", "${1 + loc.y}");
	err_clear(&err);
	r = expr_subst(v, residual_lookup, w, &err);
	assert_non_null(r);
	got = json_dumps(r, JSON_COMPACT);
	assert_string_equal(got, "[\"DEV-${(vpc.id)}\",\"${(vpc.id.id)}\",\"${1 + (vpc.id)}\"]");
	free(got);
	json_decref(r);
	json_decref(v);
	json_decref(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_reference_keeps_type),
		cmocka_unit_test(test_interpolation_stringifies),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_deep_and_unknown),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_refs),
		cmocka_unit_test(test_single_ref_and_split),
		cmocka_unit_test(test_subst_partial),
		cmocka_unit_test(test_literals_and_operators),
		cmocka_unit_test(test_traversals_and_for),
		cmocka_unit_test(test_unknown_flows),
		cmocka_unit_test(test_positioned_errors),
		cmocka_unit_test(test_residual),
		cmocka_unit_test(test_strip_markers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
