/*
 * Unit tests for providers/tagdiff.c: what to untag and tag between two
 * user tag maps.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>

#include "providers/tagdiff.h"

static json_t *J(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &e);

	if (!v)
		fail_msg("bad test JSON %s: %s", text, e.text);
	return v;
}

static void check(const char *old, const char *want, int untag_changed,
		  const char *removed_text, const char *set_text)
{
	json_t *o = old ? J(old) : NULL, *w = want ? J(want) : NULL;
	json_t *removed, *set, *er = J(removed_text), *es = J(set_text);

	tagdiff(o, w, untag_changed, &removed, &set);
	if (!json_equal(removed, er) || !json_equal(set, es)) {
		char *r = json_dumps(removed, JSON_COMPACT), *s = json_dumps(set, JSON_COMPACT);

		fail_msg("removed %s set %s, wanted %s %s", r, s, removed_text, set_text);
	}
	json_decref(o);
	json_decref(w);
	json_decref(removed);
	json_decref(set);
	json_decref(er);
	json_decref(es);
}

static void test_added_removed_changed(void **state)
{
	(void)state;
	check("{\"a\":\"1\",\"b\":\"2\"}", "{\"b\":\"3\",\"c\":\"4\"}", 0,
	      "[\"a\"]", "{\"b\":\"3\",\"c\":\"4\"}");
}

static void test_untag_changed(void **state)
{
	(void)state;
	check("{\"a\":\"1\",\"b\":\"2\"}", "{\"b\":\"3\",\"c\":\"4\"}", 1,
	      "[\"a\",\"b\"]", "{\"b\":\"3\",\"c\":\"4\"}");
}

static void test_same_is_nothing(void **state)
{
	(void)state;
	check("{\"a\":\"1\"}", "{\"a\":\"1\"}", 1, "[]", "{}");
	check(NULL, NULL, 0, "[]", "{}");
	check(NULL, "{}", 0, "[]", "{}");
}

static void test_ownership_tags_untouched(void **state)
{
	(void)state;
	check("{\"cairn:stack\":\"s\",\"cairn:resource\":\"r\",\"a\":\"1\"}", "{}", 0,
	      "[\"a\"]", "{}");
	check("{}", "{\"cairn:stack\":\"x\"}", 0, "[]", "{}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_added_removed_changed),
		cmocka_unit_test(test_untag_changed),
		cmocka_unit_test(test_same_is_nothing),
		cmocka_unit_test(test_ownership_tags_untouched),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
