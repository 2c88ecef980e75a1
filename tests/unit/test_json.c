/*
 * test_json: lib/json helpers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "lib/json.h"

static void test_array_has_str(void **state)
{
	json_t *a = json_pack("[s,i,s]", "a", 1, "b");

	assert_true(json_array_has_str(a, "a"));
	assert_true(json_array_has_str(a, "b"));
	assert_false(json_array_has_str(a, "1"));
	assert_false(json_array_has_str(a, ""));
	assert_false(json_array_has_str(NULL, "a"));
	json_decref(a);
}

static void test_is_nothing(void **state)
{
	json_t *vals[] = {json_null(), json_string(""), json_object(), json_array(),
			  json_string("x"), json_false(), json_integer(0), json_pack("[i]", 1),
			  json_pack("{s:i}", "a", 1)};
	int want[] = {1, 1, 1, 1, 0, 0, 0, 0, 0};
	size_t i;

	assert_true(json_is_nothing(NULL));
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(json_is_nothing(vals[i]), want[i]);
		json_decref(vals[i]);
	}
}

static void test_int_of(void **state)
{
	json_t *i = json_integer(300), *r = json_real(2.9), *s = json_string("45");
	json_t *bad = json_string("4x"), *empty = json_string(""), *t = json_true();
	json_int_t n = -7;

	assert_int_equal(json_int_of(i, &n), 0);
	assert_int_equal(n, 300);
	assert_int_equal(json_int_of(r, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(json_int_of(s, &n), 0);
	assert_int_equal(n, 45);
	assert_int_equal(json_int_of(bad, &n), -1);
	assert_int_equal(json_int_of(empty, &n), -1);
	assert_int_equal(json_int_of(t, &n), -1);
	assert_int_equal(json_int_of(NULL, &n), -1);
	assert_int_equal(n, 45);
	assert_int_equal(json_int_or(bad, 9), 9);
	assert_int_equal(json_int_or(s, 9), 45);
	json_decref(i);
	json_decref(r);
	json_decref(s);
	json_decref(bad);
	json_decref(empty);
}

static void test_string_or_empty(void **state)
{
	json_t *a = json_string_or_empty(NULL), *b = json_string_or_empty("x");

	assert_string_equal(json_string_value(a), "");
	assert_string_equal(json_string_value(b), "x");
	json_decref(a);
	json_decref(b);
}

static void test_doc_text_and_parse(void **state)
{
	json_t *obj = json_pack("{s:i,s:[s]}", "b", 1, "a", "x"), *str = json_string("{\"k\":1}");
	json_t *empty = json_string(""), *num = json_integer(3), *v;
	char *t;

	t = json_doc_text(obj);
	assert_string_equal(t, "{\"a\":[\"x\"],\"b\":1}");
	v = json_doc_parse(t);
	assert_true(json_equal(v, obj));
	json_decref(v);
	free(t);
	t = json_doc_text(str);
	assert_string_equal(t, "{\"k\":1}");
	free(t);
	assert_null(json_doc_text(empty));
	assert_null(json_doc_text(num));
	assert_null(json_doc_text(NULL));
	assert_null(json_doc_parse(NULL));
	v = json_doc_parse("not json");
	assert_string_equal(json_string_value(v), "not json");
	json_decref(v);
	v = json_doc_parse("7");
	assert_int_equal(json_integer_value(v), 7);
	json_decref(v);
	json_decref(obj);
	json_decref(str);
	json_decref(empty);
	json_decref(num);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_array_has_str),
		cmocka_unit_test(test_is_nothing),
		cmocka_unit_test(test_int_of),
		cmocka_unit_test(test_string_or_empty),
		cmocka_unit_test(test_doc_text_and_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
