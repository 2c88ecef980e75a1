/*
 * Unit tests for engine/schema.c: the embedded schemas all parse and
 * follow schemas/README.md, the flag helpers, and schema_normalize
 * (defaults, lossless coercions, nested objects/lists/maps, unknown
 * markers, json attributes, errors). Normalization is tested both on a
 * schema built here and on the real aws_vpc / aws_lb_target_group.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine/schema.h"
#include "engine/value.h"

extern const struct { const char *type; const char *text; } schema_files[];
extern const size_t schema_files_count;

static void assert_json(const json_t *v, const char *want)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

	assert_string_equal(s, want);
	free(s);
}

static int is_type(const char *t)
{
	static const char *const types[] = {"string", "number", "bool", "list", "map", "object",
					    "json", NULL};
	size_t i;

	for (i = 0; types[i]; i++)
		if (!strcmp(types[i], t))
			return 1;
	return 0;
}

/* Every spec (nested too) has a valid type, one of required / optional /
 * computed, a description at top level, and defaults that normalize. */
static void check_specs(const char *type, const json_t *attrs, int top)
{
	const char *k;
	json_t *spec;

	json_object_foreach((json_t *)attrs, k, spec) {
		const json_t *elem = json_object_get(spec, "elem");
		const json_t *def = json_object_get(spec, "default");

		if (!is_type(schema_type_of(spec)))
			fail_msg("%s.%s: bad type %s", type, k, schema_type_of(spec));
		if (!schema_is_required(spec) && !schema_is_computed(spec) &&
		    !json_is_true(json_object_get(spec, "optional")))
			fail_msg("%s.%s: neither required, optional nor computed", type, k);
		if (top && !json_is_string(json_object_get(spec, "description")))
			fail_msg("%s.%s: no description", type, k);
		if (def) {
			struct cairn_err err;
			json_t *n;

			err_clear(&err);
			n = schema_coerce(spec, (json_t *)def, k, &err);
			if (!n)
				fail_msg("%s.%s: default does not fit: %s", type, k, err.msg);
			json_decref(n);
		}
		if (json_object_get(spec, "attributes"))
			check_specs(type, json_object_get(spec, "attributes"), 0);
		if (elem && json_object_get(elem, "attributes"))
			check_specs(type, json_object_get(elem, "attributes"), 0);
	}
}

static void test_embedded_schemas(void **state)
{
	const json_t *types = schema_types();
	json_t *t;
	size_t i;

	(void)state;
	assert_true(schema_files_count > 0);
	assert_int_equal(json_array_size(types) + json_array_size(schema_data_types()),
			 schema_files_count);
	json_array_foreach(types, i, t) {
		const char *name = json_string_value(t);
		const json_t *s = schema_get(name);

		assert_non_null(s);
		assert_string_equal(json_string_value(json_object_get(s, "type")), name);
		assert_true(json_is_string(json_object_get(s, "description")));
		assert_true(schema_is_output(schema_attr(s, "id")));
		if (i > 0)
			assert_true(strcmp(json_string_value(json_array_get(types, i - 1)), name) < 0);
		check_specs(name, schema_attrs(s), 1);
	}
	assert_null(schema_get("aws_nothing"));
	assert_null(schema_get(NULL));
}

/* Data source schemas (schemas/data.TYPE.json): apart from the resource
 * types, each with an "id" it reports, well-formed like the others. */
static void test_data_schemas(void **state)
{
	const json_t *types = schema_data_types();
	json_t *t;
	size_t i;

	(void)state;
	assert_true(json_array_size(types) >= 7);
	json_array_foreach(types, i, t) {
		const char *name = json_string_value(t);
		const json_t *s = schema_data_get(name);

		assert_non_null(s);
		assert_true(schema_get(name) != s);     /* not a resource type's schema */
		assert_string_equal(json_string_value(json_object_get(s, "type")), name);
		assert_true(json_is_true(json_object_get(s, "data")));
		assert_true(schema_is_computed(schema_attr(s, "id")));
		check_specs(name, schema_attrs(s), 1);
	}
	assert_non_null(schema_data_get("aws_vpc"));
	assert_true(schema_is_sensitive(schema_attr(schema_data_get("aws_ssm_parameter"), "value")));
	assert_null(schema_data_get("aws_lb"));
	assert_null(schema_data_get(NULL));
}

static void test_flags(void **state)
{
	json_t *req = json_pack("{s:s,s:b,s:b}", "type", "string", "required", 1, "force_new", 1);
	json_t *out = json_pack("{s:s,s:b}", "type", "string", "computed", 1);
	json_t *optc = json_pack("{s:s,s:b,s:b,s:b}", "type", "map", "optional", 1, "computed", 1,
				 "sensitive", 1);

	(void)state;
	assert_true(schema_is_required(req));
	assert_true(schema_forces_new(req));
	assert_false(schema_is_computed(req));
	assert_false(schema_is_output(req));
	assert_true(schema_is_output(out));
	assert_true(schema_is_computed(out));
	assert_true(schema_is_computed(optc));
	assert_false(schema_is_output(optc));
	assert_true(schema_is_sensitive(optc));
	assert_false(schema_is_sensitive(req));
	assert_string_equal(schema_type_of(optc), "map");
	json_decref(req);
	json_decref(out);
	json_decref(optc);
}

static json_t *test_schema(void)
{
	return json_loads(
		"{\"type\":\"t\",\"attributes\":{"
		" \"name\":{\"type\":\"string\",\"required\":true},"
		" \"port\":{\"type\":\"number\",\"optional\":true,\"default\":80},"
		" \"on\":{\"type\":\"bool\",\"optional\":true},"
		" \"label\":{\"type\":\"string\",\"optional\":true},"
		" \"tags\":{\"type\":\"map\",\"optional\":true},"
		" \"ports\":{\"type\":\"list\",\"optional\":true,\"elem\":{\"type\":\"number\"}},"
		" \"rules\":{\"type\":\"list\",\"optional\":true,\"elem\":{\"type\":\"object\",\"attributes\":{"
		"   \"from\":{\"type\":\"number\",\"required\":true},"
		"   \"proto\":{\"type\":\"string\",\"optional\":true,\"default\":\"tcp\"}}}},"
		" \"check\":{\"type\":\"object\",\"optional\":true,\"attributes\":{"
		"   \"path\":{\"type\":\"string\",\"optional\":true,\"default\":\"/\"}}},"
		" \"policy\":{\"type\":\"json\",\"optional\":true},"
		" \"id\":{\"type\":\"string\",\"computed\":true}}}", 0, NULL);
}

static json_t *norm(const json_t *schema, const char *props_json, struct cairn_err *err)
{
	json_t *p = json_loads(props_json, 0, NULL), *r;

	assert_non_null(p);
	err_clear(err);
	r = schema_normalize(schema, p, err);
	json_decref(p);
	return r;
}

static void test_normalize(void **state)
{
	json_t *s = test_schema(), *r;
	struct cairn_err err;

	(void)state;
	r = norm(s, "{\"name\":\"a\",\"port\":\"8080\",\"on\":\"true\",\"label\":5,"
		 "\"tags\":{\"n\":3,\"b\":false},\"ports\":[\"1\",2],"
		 "\"rules\":[{\"from\":\"22\"},{\"from\":80,\"proto\":\"udp\"}],"
		 "\"check\":{},\"policy\":\"{\\\"Version\\\":\\\"1\\\"}\"}", &err);
	if (!r)
		fail_msg("%s", err.msg);
	assert_json(r, "{\"check\":{\"path\":\"/\"},\"label\":\"5\",\"name\":\"a\",\"on\":true,"
		    "\"policy\":{\"Version\":\"1\"},\"port\":8080,\"ports\":[1,2],"
		    "\"rules\":[{\"from\":22,\"proto\":\"tcp\"},{\"from\":80,\"proto\":\"udp\"}],"
		    "\"tags\":{\"b\":\"false\",\"n\":\"3\"}}");
	json_decref(r);
	/* defaults only where left out (or null); structures as written */
	r = norm(s, "{\"name\":\"a\",\"port\":null,\"policy\":{\"Statement\":[1]}}", &err);
	assert_json(r, "{\"name\":\"a\",\"policy\":{\"Statement\":[1]},\"port\":80}");
	json_decref(r);
	json_decref(s);
}

static void test_normalize_unknown(void **state)
{
	json_t *s = test_schema(), *p, *r;
	struct cairn_err err;

	(void)state;
	p = json_pack("{s:o,s:[o,i],s:{s:o}}", "name", value_unknown(), "ports", value_unknown(), 5,
		      "tags", "a", value_unknown());
	err_clear(&err);
	r = schema_normalize(s, p, &err);
	assert_non_null(r);
	assert_true(value_is_unknown(json_object_get(r, "name")));
	assert_true(value_is_unknown(json_array_get(json_object_get(r, "ports"), 0)));
	assert_true(value_is_unknown(json_object_get(json_object_get(r, "tags"), "a")));
	assert_int_equal(json_integer_value(json_object_get(r, "port")), 80);
	json_decref(r);
	json_decref(p);
	json_decref(s);
}

static void test_normalize_errors(void **state)
{
	json_t *s = test_schema();
	struct cairn_err err;

	(void)state;
	assert_null(norm(s, "{\"name\":\"a\",\"port\":\"eighty\"}", &err));
	assert_string_equal(err.msg, "attribute 'port' must be a number, not \"eighty\"");
	assert_null(norm(s, "{\"port\":1}", &err));
	assert_string_equal(err.msg, "missing required attribute 'name'");
	assert_null(norm(s, "{\"name\":\"a\",\"nme\":1}", &err));
	assert_string_equal(err.msg, "unknown attribute 'nme'");
	assert_null(norm(s, "{\"name\":\"a\",\"rules\":[{\"from\":1,\"x\":2}]}", &err));
	assert_string_equal(err.msg, "unknown attribute 'rules[0].x'");
	assert_null(norm(s, "{\"name\":\"a\",\"on\":\"yes\"}", &err));
	assert_string_equal(err.msg, "attribute 'on' must be a bool, not \"yes\"");
	assert_null(norm(s, "{\"name\":[1]}", &err));
	assert_string_equal(err.msg, "attribute 'name' must be a string, not [1]");
	json_decref(s);
}

static void test_normalize_real_schemas(void **state)
{
	const json_t *vpc = schema_get("aws_vpc"), *tg = schema_get("aws_lb_target_group");
	struct cairn_err err;
	json_t *r;

	(void)state;
	if (!vpc || !tg)
		skip();
	r = norm(vpc, "{\"cidr_block\":\"10.0.0.0/16\",\"enable_dns_hostnames\":\"true\"}", &err);
	assert_non_null(r);
	assert_json(json_object_get(r, "enable_dns_hostnames"), "true");
	assert_json(json_object_get(r, "cidr_block"), "\"10.0.0.0/16\"");
	assert_null(json_object_get(r, "id"));
	json_decref(r);
	r = norm(tg, "{\"name\":\"tg\",\"port\":\"80\",\"vpc_id\":\"vpc-1\",\"health_check\":{}}", &err);
	assert_non_null(r);
	assert_json(json_object_get(r, "port"), "80");
	assert_json(json_object_get(r, "protocol"), "\"HTTP\"");
	assert_json(json_object_get(json_object_get(r, "health_check"), "path"), "\"/\"");
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_embedded_schemas),
		cmocka_unit_test(test_data_schemas),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_normalize_unknown),
		cmocka_unit_test(test_normalize_errors),
		cmocka_unit_test(test_normalize_real_schemas),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
