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
		cmocka_unit_test(test_unknown_type),
	};

	return cmocka_run_group_tests_name("registry", tests, NULL, NULL);
}
