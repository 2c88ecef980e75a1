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
	assert_non_null(strstr(err.msg, "invalid reference '${novalue}'"));
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
