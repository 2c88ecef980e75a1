/*
 * Unit tests for engine/plan_diff.c: one attribute's nested diff as the
 * text plan prints it — only changed members, the hidden counts, list
 * elements matched by key, as sets or in order, JSON documents diffed
 * parsed, sensitive and unknown values.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "engine/plan_diff.h"
#include "engine/schema.h"
#include "engine/value.h"

static json_t *J(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &e);

	if (!v)
		fail_msg("bad test JSON %s: %s", text, e.text);
	return v;
}

/* The lines of attribute NAME of TYPE (spec from the schema, or spec_text). */
static void check(const char *type, const char *name, const char *spec_text,
		  const char *before, const char *after, const char *want)
{
	json_t *spec = spec_text ? J(spec_text) : NULL;
	json_t *b = before ? J(before) : NULL, *a = after ? J(after) : NULL;
	const json_t *s = spec;
	struct strbuf sb;

	if (type)
		s = schema_attr(schema_get(type), name);
	strbuf_init(&sb);
	plan_diff_attr(&sb, s, name, strlen(name), b, a, 6, NULL, 0);
	if (strcmp(sb.buf, want) != 0)
		fail_msg("got:\n%s\nwant:\n%s", sb.buf, want);
	strbuf_free(&sb);
	json_decref(spec);
	json_decref(b);
	json_decref(a);
}

static void test_object_member(void **ctx)
{
	(void)ctx;
	check("aws_lb_target_group", "health_check", NULL,
	      "{\"path\":\"/\",\"interval\":30,\"matcher\":\"200\"}",
	      "{\"path\":\"/healthz\",\"interval\":30,\"matcher\":\"200\"}",
	      "      ~ health_check = {\n"
	      "          ~ path = \"/\" -> \"/healthz\"\n"
	      "            # (2 unchanged attributes hidden)\n"
	      "        }\n");
	/* one hidden: singular; a member added and one removed */
	check(NULL, "o", NULL, "{\"a\":1,\"b\":2}", "{\"a\":1,\"c\":3}",
	      "      ~ o = {\n"
	      "          - b = 2 -> null\n"
	      "          + c = 3\n"
	      "            # (1 unchanged attribute hidden)\n"
	      "        }\n");
}

static void test_equal_prints_nothing(void **ctx)
{
	(void)ctx;
	/* an unordered set in another order, numbers as text: no change */
	check("aws_lb", "subnets", NULL, "[\"a\",\"b\"]", "[\"b\",\"a\"]", "");
	check(NULL, "n", NULL, "80", "80.0", "");
}

static void test_ordered_list(void **ctx)
{
	(void)ctx;
	check(NULL, "l", NULL, "[\"a\",\"c\",\"d\"]", "[\"a\",\"b\",\"c\",\"d\"]",
	      "      ~ l = [\n"
	      "          + \"b\",\n"
	      "            # (3 unchanged elements hidden)\n"
	      "        ]\n");
	/* objects in the same place pair up as a change */
	check(NULL, "l", NULL, "[{\"x\":1,\"y\":1},{\"x\":2}]", "[{\"x\":1,\"y\":2},{\"x\":2}]",
	      "      ~ l = [\n"
	      "          ~ {\n"
	      "              ~ y = 1 -> 2\n"
	      "                # (1 unchanged attribute hidden)\n"
	      "            },\n"
	      "            # (1 unchanged element hidden)\n"
	      "        ]\n");
}

static void test_keyed_list(void **ctx)
{
	(void)ctx;
	/* a GSI matched by name although the list order changed */
	check("aws_dynamodb_table", "global_secondary_index", NULL,
	      "[{\"name\":\"a\",\"hash_key\":\"k\",\"projection_type\":\"ALL\"},"
	      "{\"name\":\"b\",\"hash_key\":\"k\",\"projection_type\":\"ALL\"}]",
	      "[{\"name\":\"b\",\"hash_key\":\"k\",\"projection_type\":\"KEYS_ONLY\"},"
	      "{\"name\":\"a\",\"hash_key\":\"k\",\"projection_type\":\"ALL\"}]",
	      "      ~ global_secondary_index = [\n"
	      "          ~ {\n"
	      "              ~ projection_type = \"ALL\" -> \"KEYS_ONLY\"\n"
	      "                # (2 unchanged attributes hidden)\n"
	      "            },\n"
	      "            # (1 unchanged element hidden)\n"
	      "        ]\n");
}

static void test_json_document(void **ctx)
{
	(void)ctx;
	/* recorded as text, planned as a document: diffed parsed */
	check(NULL, "policy", "{\"type\":\"json\"}",
	      "\"{\\\"Version\\\":\\\"2012-10-17\\\",\\\"Statement\\\":[{\\\"Effect\\\":"
	      "\\\"Allow\\\",\\\"Action\\\":\\\"s3:GetObject\\\"}]}\"",
	      "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
	      "\"Action\":\"s3:PutObject\"}]}",
	      "      ~ policy = {\n"
	      "          ~ Statement = [\n"
	      "              ~ {\n"
	      "                  ~ Action = \"s3:GetObject\" -> \"s3:PutObject\"\n"
	      "                    # (1 unchanged attribute hidden)\n"
	      "                },\n"
	      "            ]\n"
	      "            # (1 unchanged attribute hidden)\n"
	      "        }\n");
}

static void test_sensitive_and_unknown(void **ctx)
{
	json_t *unknown = value_unknown(), *arn = json_string("arn:1");
	struct strbuf sb;

	(void)ctx;
	check(NULL, "o", "{\"type\":\"object\",\"attributes\":{\"pw\":{\"type\":\"string\","
	      "\"sensitive\":true}}}", "{\"pw\":\"old\",\"u\":\"x\"}", "{\"pw\":\"new\",\"u\":\"x\"}",
	      "      ~ o = {\n"
	      "          ~ pw = (sensitive) -> (sensitive)\n"
	      "            # (1 unchanged attribute hidden)\n"
	      "        }\n");
	strbuf_init(&sb);
	plan_diff_attr(&sb, NULL, "arn", 3, arn, unknown, 6, " # forces replacement",
		       0);
	assert_string_equal(sb.buf, "      ~ arn = \"arn:1\" -> (known after apply)"
				    " # forces replacement\n");
	strbuf_free(&sb);
	json_decref(unknown);
	json_decref(arn);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_object_member),
		cmocka_unit_test(test_equal_prints_nothing),
		cmocka_unit_test(test_ordered_list),
		cmocka_unit_test(test_keyed_list),
		cmocka_unit_test(test_json_document),
		cmocka_unit_test(test_sensitive_and_unknown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
