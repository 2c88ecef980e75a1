/*
 * Unit tests for the provider registry: every schema has a provider and
 * every provider the operations the engine relies on.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "providers/registry.h"
#include "engine/schema.h"

static void test_every_schema_has_a_provider(void **ctx)
{
	const json_t *types = schema_types();
	json_t *t;
	size_t i;

	(void)ctx;
	assert_true(json_array_size(types) >= 23);
	json_array_foreach(types, i, t) {
		const char *type = json_string_value(t);
		const struct resource_ops *ops = provider_lookup(type);
		const json_t *schema = schema_get(type);

		if (!ops)
			fail_msg("no provider for schema type %s", type);
		assert_string_equal(ops->type, type);
		assert_non_null(ops->create);
		assert_non_null(ops->read);
		assert_non_null(ops->delete);
		assert_non_null(ops->find);
		/* every type reports its physical id */
		assert_non_null(schema_attr(schema, "id"));
		assert_true(schema_is_output(schema_attr(schema, "id")));
	}
}

/* Every data source schema has its reader, and every reader its schema. */
static void test_every_data_schema_has_a_reader(void **ctx)
{
	const json_t *types = schema_data_types();
	static const char *const readers[] = {"aws_acm_certificate", "aws_availability_zones",
					      "aws_caller_identity",
					      "aws_iam_policy", "aws_region", "aws_route53_zone",
					      "aws_ssm_parameter",
					      "aws_subnets", "aws_vpc", NULL};
	json_t *t;
	size_t i;

	(void)ctx;
	json_array_foreach(types, i, t) {
		const struct data_ops *ops = provider_data_lookup(json_string_value(t));

		if (!ops)
			fail_msg("no reader for data source type %s", json_string_value(t));
		assert_string_equal(ops->type, json_string_value(t));
		assert_non_null(ops->read);
	}
	for (i = 0; readers[i]; i++)
		assert_non_null(schema_data_get(readers[i]));
	assert_int_equal(json_array_size(types), i);
	assert_null(provider_data_lookup("aws_lb"));
	assert_null(provider_data_lookup(NULL));
}

static void test_unknown_type(void **ctx)
{
	(void)ctx;
	assert_null(provider_lookup("aws_nothing"));
	assert_null(schema_get("aws_nothing"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_schema_has_a_provider),
		cmocka_unit_test(test_every_data_schema_has_a_reader),
		cmocka_unit_test(test_unknown_type),
	};

	return cmocka_run_group_tests_name("registry", tests, NULL, NULL);
}
