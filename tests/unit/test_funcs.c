/*
 * Unit tests for engine/funcs.c through the language (engine/expr.c):
 * each function with examples from Terraform's documentation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "engine/expr.h"
#include "engine/funcs.h"
#include "engine/value.h"

static char dir[64];

static json_t *lookup(void *ctx, const char *root, const char *path, struct cairn_err *err)
{
	if (!strcmp(root, "pending"))
		return value_unknown();
	err_set(err, CAIRN_EINVAL, "no %s.%s", root, path);
	return NULL;
}

/* Evaluates "${in}" and compares the compact JSON of the result. */
static void check(const char *in, const char *want)
{
	struct expr_env env = {lookup, NULL, dir};
	struct cairn_err err;
	char *s = xasprintf("${%s}", in), *got;
	json_t *r;

	err_clear(&err);
	r = expr_string(s, &env, 0, NULL, &err);
	if (!r)
		fail_msg("%s: %s", in, err.msg);
	got = value_is_unknown(r) ? xstrdup("UNKNOWN") :
	      json_dumps(r, JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS);
	if (strcmp(got, want))
		fail_msg("%s: got %s, want %s", in, got, want);
	free(got);
	free(s);
	json_decref(r);
}

/* Evaluation fails with a message containing want, at byte offset off. */
static void check_err(const char *in, const char *want, size_t off)
{
	struct expr_env env = {lookup, NULL, dir};
	struct cairn_err err;
	size_t got_off = 999;
	json_t *r;

	err_clear(&err);
	r = expr_string(in, &env, 0, &got_off, &err);
	if (r)
		fail_msg("%s: no error", in);
	if (!strstr(err.msg, want))
		fail_msg("%s: error '%s' lacks '%s'", in, err.msg, want);
	if (got_off != off)
		fail_msg("%s: error at %zu, want %zu (%s)", in, got_off, off, err.msg);
}

static void test_collections(void **state)
{
	(void)state;
	check("length([\"a\", \"b\"])", "2");
	check("length({a = 1})", "1");
	check("length(\"héllo\")", "5");
	check("keys({a=1, c=2, d=3})", "[\"a\",\"c\",\"d\"]");
	check("values({a=3, c=2, d=1})", "[3,2,1]");
	check("lookup({a=\"ay\", b=\"bee\"}, \"a\", \"what?\")", "\"ay\"");
	check("lookup({a=\"ay\", b=\"bee\"}, \"c\", \"what?\")", "\"what?\"");
	check("merge({a=\"b\", c=\"d\"}, {e=\"f\", c=\"z\"})", "{\"a\":\"b\",\"c\":\"z\",\"e\":\"f\"}");
	check("concat([\"a\", \"\"], [\"b\", \"c\"])", "[\"a\",\"\",\"b\",\"c\"]");
	check("flatten([[\"a\", \"b\"], [], [\"c\"]])", "[\"a\",\"b\",\"c\"]");
	check("flatten([[[\"a\", \"b\"], []], [\"c\"]])", "[\"a\",\"b\",\"c\"]");
	check("distinct([\"a\", \"b\", \"a\", \"c\", \"d\", \"b\"])", "[\"a\",\"b\",\"c\",\"d\"]");
	check("contains([\"a\", \"b\", \"c\"], \"a\")", "true");
	check("contains([\"a\", \"b\", \"c\"], \"d\")", "false");
	check("element([\"a\", \"b\", \"c\"], 1)", "\"b\"");
	check("element([\"a\", \"b\", \"c\"], 3)", "\"a\"");
	check("range(3)", "[0,1,2]");
	check("range(1, 4)", "[1,2,3]");
	check("range(1, 8, 2)", "[1,3,5,7]");
	check("range(4, 1)", "[4,3,2]");
	check("range(0)", "[]");
	check("setproduct([\"development\", \"staging\"], [\"app1\", \"app2\"])",
	      "[[\"development\",\"app1\"],[\"development\",\"app2\"],[\"staging\",\"app1\"],"
	      "[\"staging\",\"app2\"]]");
	check("setproduct([\"a\"], [])", "[]");
	check("zipmap([\"a\", \"b\"], [1, 2])", "{\"a\":1,\"b\":2}");
	check("tolist([\"a\", \"b\"])", "[\"a\",\"b\"]");
	check("tomap({a = 1})", "{\"a\":1}");
}

static void test_strings(void **state)
{
	(void)state;
	check("join(\", \", [\"foo\", \"bar\", \"baz\"])", "\"foo, bar, baz\"");
	check("join(\", \", [\"foo\"])", "\"foo\"");
	check("split(\",\", \"foo,bar,baz\")", "[\"foo\",\"bar\",\"baz\"]");
	check("split(\",\", \"foo\")", "[\"foo\"]");
	check("split(\",\", \"\")", "[\"\"]");
	check("format(\"Hello, %s!\", \"Ander\")", "\"Hello, Ander!\"");
	check("format(\"There are %d lights\", 4)", "\"There are 4 lights\"");
	check("format(\"%03d\", 7)", "\"007\"");
	check("format(\"%-5s|\", \"ab\")", "\"ab   |\"");
	check("format(\"%5.2f\", 3.14159)", "\" 3.14\"");
	check("format(\"%x %X %o %b\", 255, 255, 8, 5)", "\"ff FF 10 101\"");
	check("format(\"%q\", \"a\")", "\"\\\"a\\\"\"");
	check("format(\"%v %v %t\", 1.5, true, false)", "\"1.5 true false\"");
	check("format(\"%%\")", "\"%\"");
	check("formatlist(\"Hello, %s!\", [\"Valentina\", \"Ander\"])",
	      "[\"Hello, Valentina!\",\"Hello, Ander!\"]");
	check("formatlist(\"%s, %s!\", \"Salutations\", [\"Valentina\", \"Ander\"])",
	      "[\"Salutations, Valentina!\",\"Salutations, Ander!\"]");
	check("upper(\"hello\")", "\"HELLO\"");
	check("lower(\"HELLO\")", "\"hello\"");
	check("title(\"hello world\")", "\"Hello World\"");
	check("trimspace(\"  hello\\n\\n\")", "\"hello\"");
	check("replace(\"1 + 2 + 3\", \"+\", \"-\")", "\"1 - 2 - 3\"");
	check("replace(\"hello world\", \"/w.*d/\", \"everybody\")", "\"hello everybody\"");
	check("replace(\"a-1 b-2\", \"/([a-z])-([0-9])/\", \"$2$1\")", "\"1a 2b\"");
	check("substr(\"hello world\", 1, 4)", "\"ello\"");
	check("substr(\"🤔🤷\", 0, 1)", "\"🤔\"");
	check("substr(\"hello world\", -5, -1)", "\"world\"");
	check("substr(\"hello world\", 6, 10)", "\"world\"");
	check("startswith(\"hello world\", \"hello\")", "true");
	check("startswith(\"hello world\", \"world\")", "false");
	check("endswith(\"hello world\", \"world\")", "true");
	check("coalesce(\"a\", \"b\")", "\"a\"");
	check("coalesce(\"\", \"b\")", "\"b\"");
	check("coalesce(null, 1, 2)", "1");
	check("min(12, 54, 3)", "3");
	check("max(12, 54, 3)", "54");
	check("max([12, 54, 3]...)", "54");
	check("tostring(\"hello\")", "\"hello\"");
	check("tostring(1)", "\"1\"");
	check("tostring(true)", "\"true\"");
	check("tostring(null)", "null");
	check("tonumber(1)", "1");
	check("tonumber(\"1\")", "1");
	check("tonumber(null)", "null");
}

static void test_network_and_encoding(void **state)
{
	(void)state;
	check("cidrsubnet(\"172.16.0.0/12\", 4, 2)", "\"172.18.0.0/16\"");
	check("cidrsubnet(\"10.1.2.0/24\", 4, 15)", "\"10.1.2.240/28\"");
	check("cidrsubnet(\"10.0.0.0/16\", 8, 2)", "\"10.0.2.0/24\"");
	check("cidrsubnet(\"fd00:fd12:3456:7890::/56\", 16, 162)", "\"fd00:fd12:3456:7800:a200::/72\"");
	check("cidrhost(\"10.12.112.0/20\", 16)", "\"10.12.112.16\"");
	check("cidrhost(\"10.12.112.0/20\", 268)", "\"10.12.113.12\"");
	check("cidrhost(\"10.12.112.0/20\", -1)", "\"10.12.127.255\"");
	check("cidrhost(\"fd00:fd12:3456:7890:00a2::/72\", 34)", "\"fd00:fd12:3456:7890::22\"");
	check("[for i in range(3) : cidrsubnet(\"10.0.0.0/16\", 8, i)]",
	      "[\"10.0.0.0/24\",\"10.0.1.0/24\",\"10.0.2.0/24\"]");
	check("jsonencode({\"hello\"=\"world\"})", "\"{\\\"hello\\\":\\\"world\\\"}\"");
	check("jsonencode(\"<&>\")", "\"\\\"\\\\u003c\\\\u0026\\\\u003e\\\"\"");
	check("jsondecode(\"{\\\"hello\\\": \\\"world\\\"}\")", "{\"hello\":\"world\"}");
	check("jsondecode(\"true\")", "true");
	check("base64encode(\"Hello World\")", "\"SGVsbG8gV29ybGQ=\"");
	check("base64decode(\"SGVsbG8gV29ybGQ=\")", "\"Hello World\"");
	check("sha256(\"hello world\")",
	      "\"b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9\"");
	check("md5(\"hello world\")", "\"5eb63bbbe01eeed093cb22bb8f5acdc3\"");
}

static void write_file(const char *name, const char *text)
{
	char *p = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(p);
}

static void test_files(void **state)
{
	(void)state;
	write_file("hello.txt", "Hello World");
	write_file("backends.tftpl", "%{ for addr in ip_addrs ~}\nbackend ${addr}:${port}\n%{ endfor ~}\n");
	write_file("cond.tftpl", "%{ if on }yes%{ else }no%{ endif } $${x} %%{y}");
	write_file("bad.tftpl", "line one\n  ${nope}\n");
	check("file(\"hello.txt\")", "\"Hello World\"");
	check("filebase64sha256(\"hello.txt\")", "\"pZGm1Av0IEBKARczz7exkNYsZb8LzaMrV7J32a2fFG4=\"");
	check("templatefile(\"backends.tftpl\", { port = 8080, ip_addrs = [\"10.0.0.1\", \"10.0.0.2\"] })",
	      "\"backend 10.0.0.1:8080\\nbackend 10.0.0.2:8080\\n\"");
	check("templatefile(\"cond.tftpl\", {on = true})", "\"yes ${x} %{y}\"");
	check("templatefile(\"cond.tftpl\", {on = false})", "\"no ${x} %{y}\"");
	check_err("${file(\"missing.txt\")}", "file: no file 'missing.txt'", 2);
	check_err("x ${templatefile(\"bad.tftpl\", {})}", "bad.tftpl:2:5: unknown variable 'nope'", 4);
}

static void test_try_can_unknown(void **state)
{
	(void)state;
	check("try(tonumber(\"x\"), 5)", "5");
	check("try({a=1}.b, \"fallback\")", "\"fallback\"");
	check("can(tonumber(\"x\"))", "false");
	check("can(tonumber(\"1\"))", "true");
	check("upper(pending.id)", "UNKNOWN");
	check("length([pending.id, 1])", "2");
	check("concat([pending.id], [1])[1]", "1");
	check("jsonencode({a = pending.id})", "UNKNOWN");
}

static void test_call_errors(void **state)
{
	(void)state;
	check_err("${nosuch(1)}", "unknown function 'nosuch'", 2);
	check_err("${formta(\"x\")}", "did you mean 'format'?", 2);
	check_err("a ${cidrsubnet(\"10.0.0.0/16\", 8)}",
		  "wrong number of arguments to cidrsubnet (2 given): "
		  "cidrsubnet(prefix string, newbits number, netnum number)", 4);
	check_err("${cidrsubnet(\"10.0.0.0/16\", [], 1)}",
		  "wrong type for argument 2 of cidrsubnet(prefix string, newbits number, "
		  "netnum number): expected number, got list", 2);
	check_err("${cidrsubnet(\"10.0.0.0/16\", 8, 256)}", "cannot accommodate a subnet numbered 256", 2);
	check_err("${lookup({}, \"k\")}", "no key 'k'", 2);
	check_err("${coalesce(null, \"\")}", "no non-null", 2);
	check_err("${element([], 0)}", "empty list", 2);
	check_err("${tonumber(\"abc\")}", "cannot convert \"abc\" to a number", 2);
	check_err("${format(\"%d %d\", 1)}", "not enough arguments", 2);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/cairn-funcs-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);
	int rc;

	(void)state;
	rc = system(cmd);
	free(cmd);
	return rc == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_collections),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_network_and_encoding),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_try_can_unknown),
		cmocka_unit_test(test_call_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
