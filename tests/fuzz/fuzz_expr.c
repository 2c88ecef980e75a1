/*
 * fuzz_expr: the expression language (engine/expr.h) over arbitrary text:
 * the input is read as a JSON document when it is one (so nested values are
 * walked), else as one string. Every entry point runs: reference listing,
 * full and partial evaluation, single-reference detection, path splitting
 * and walking. Lookups answer from a small fixed world, say "unknown" for
 * one resource and fail for names that do not exist.
 */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "fuzz.h"
#include "../../engine/expr.h"
#include "../../engine/value.h"

static json_t *world;

static void world_init(void)
{
	json_error_t jerr;

	if (world)
		return;
	world = json_loads("{\"var\": {\"env\": \"dev\", \"n\": 3, \"l\": [1, \"a\", {\"k\": true}]},"
			   " \"aws\": {\"region\": \"eu-west-1\", \"account_id\": \"123456789012\"},"
			   " \"stack\": {\"name\": \"web\"},"
			   " \"vpc\": {\"id\": \"vpc-1\", \"tags\": {\"Name\": \"x\"}, \"cidr\": null,"
			   "          \"subnets\": [{\"id\": \"s-1\"}, {\"id\": \"s-2\"}]}}", 0, &jerr);
	if (!world)
		abort();
}

/* full: an unknown name is an error (expr_eval); partial: it stays as text. */
static json_t *lookup(void *ctx, const char *root, const char *path, struct cairn_err *err)
{
	int partial = ctx != NULL;
	json_t *obj, *v;

	if (!strcmp(root, "later"))
		return value_unknown();
	obj = json_object_get(world, root);
	if (!obj) {
		if (!partial)
			err_set(err, CAIRN_EINVAL, "unknown resource '%s'", root);
		return NULL;
	}
	v = expr_walk(obj, path);
	if (!v) {
		err_set(err, CAIRN_EINVAL, "'%s' has no attribute '%s'", root, path);
		return NULL;
	}
	return json_incref(v);
}

static void count_ref(void *ctx, const char *root, const char *path)
{
	(*(size_t *)ctx) += strlen(root) + strlen(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cairn_err err;
	json_error_t jerr;
	json_t *v, *out, *split;
	char *text, *root = NULL, *path = NULL;
	size_t refs = 0;
	int partial = 1;

	world_init();
	v = json_loadb((const char *)data, size, JSON_DECODE_ANY, &jerr);
	if (!v) {
		text = xstrndup((const char *)data, size);
		v = json_string_nocheck(text);
		free(text);
	}
	err_clear(&err);
	(void)expr_refs(v, count_ref, &refs, &err);
	err_clear(&err);
	out = expr_eval(v, lookup, NULL, &err);
	json_decref(out);
	err_clear(&err);
	out = expr_subst(v, lookup, &partial, &err);
	if (out) {
		/* What partial evaluation leaves must read back the same way. */
		json_t *again;

		err_clear(&err);
		again = expr_eval(out, lookup, NULL, &err);
		json_decref(again);
	}
	json_decref(out);
	if (json_is_string(v) && expr_single_ref(json_string_value(v), &root, &path)) {
		split = expr_path_split(path);
		json_decref(split);
		(void)expr_walk(world, path);
		free(root);
		free(path);
	}
	if (json_is_string(v)) {
		split = expr_path_split(json_string_value(v));
		json_decref(split);
		(void)expr_walk(world, json_string_value(v));
	}
	json_decref(v);
	return 0;
}
