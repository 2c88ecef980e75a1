/*
 * eval: see eval.h. The comparison rules live here, once, because the
 * plan and the executor must agree exactly on what "no change" means:
 * otherwise an apply would be followed by a plan that is not a no-op.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"
#include "expr.h"
#include "schema.h"
#include "value.h"

#define OWNER_TAG_STACK "cairn:stack"
#define OWNER_TAG_RESOURCE "cairn:resource"

static json_t *instance_lookup(const struct eval_ctx *e, const char *root, const char *path);

static json_t *lookup(void *ctxp, const char *root, const char *path, struct cairn_err *err)
{
	const struct eval_ctx *e = ctxp;
	json_t *attrs, *v;

	if (strcmp(root, "var") == 0) {
		v = e->vars ? expr_walk(e->vars, path) : NULL;
		if (!v) {
			err_set(err, CAIRN_EINVAL, "variable '%s' has no value", path);
			return NULL;
		}
		return json_deep_copy(v);
	}
	if (strcmp(root, "aws") == 0) {
		if (strcmp(path, "region") == 0) {
			if (!e->region)
				return value_unknown();
			return json_string(e->region);
		}
		if (strcmp(path, "account_id") == 0) {
			if (!e->account_id)
				return value_unknown();
			return json_string(e->account_id);
		}
		err_set(err, CAIRN_EINVAL, "unknown reference 'aws.%s'", path);
		return NULL;
	}
	if (strcmp(root, "stack") == 0) {
		if (strcmp(path, "name") == 0 && e->stack)
			return json_string(e->stack);
		err_set(err, CAIRN_EINVAL, "unknown reference 'stack.%s'", path);
		return NULL;
	}
	/* ${data.NAME.ATTR}: read before the plan; unknown only where the
	 * data source is not read (validate). A resource named "data" wins,
	 * as it does when the stack is loaded. */
	if (strcmp(root, "data") == 0 && !(e->resources && json_object_get(e->resources, root))) {
		v = e->data ? expr_walk(e->data, path) : NULL;
		return v ? json_deep_copy(v) : value_unknown();
	}
	/* A resource: not planned yet, or the attribute is not known yet
	 * (including a path walking into an unknown marker). */
	attrs = e->resources ? json_object_get(e->resources, root) : NULL;
	if (!attrs && e->resources)
		return instance_lookup(e, root, path);
	if (!attrs || value_is_unknown(attrs))
		return value_unknown();
	if (!*path)
		return json_deep_copy(attrs);
	v = expr_walk(attrs, path);
	if (!v)
		return value_unknown();
	return json_deep_copy(v);
}

/* Every instance of repeated resource root known so far: a list by index
 * (count) or a map by key (for_each); unknown when there is none. */
static json_t *all_instances(const struct eval_ctx *e, const char *root)
{
	size_t n = strlen(root);
	json_t *list = NULL, *map = NULL, *v, *out;
	const char *k;

	json_object_foreach(e->resources, k, v) {
		const char *p = k + n;

		if (strncmp(k, root, n) != 0 || p[0] != '[')
			continue;
		if (p[1] == '"') {
			json_t *key = json_loadb(p + 1, strlen(p + 1) - 1, JSON_DECODE_ANY, NULL);

			if (!map)
				map = json_object();
			if (json_is_string(key))
				json_object_set(map, json_string_value(key), v);
			json_decref(key);
		} else {
			long long i = strtoll(p + 1, NULL, 10);

			if (!list)
				list = json_array();
			while (json_array_size(list) <= (size_t)i)
				json_array_append_new(list, value_unknown());
			json_array_set(list, (size_t)i, v);
		}
	}
	if (map && list) {
		json_decref(list);
		list = NULL;
	}
	out = map ? map : list;
	if (!out)
		return value_unknown();
	v = json_deep_copy(out);
	json_decref(out);
	return v;
}

/* root[0].path or root["key"].path (the key spelt "key" after a dot too). */
static json_t *instance_lookup(const struct eval_ctx *e, const char *root, const char *path)
{
	json_t *segs, *seg, *attrs, *v = NULL;
	char *addr, *k, *rest;
	size_t skip;

	if (!*path)
		return all_instances(e, root);
	segs = expr_path_split(path);
	seg = json_array_get(segs, 0);
	if (json_is_integer(seg)) {
		addr = xasprintf("%s[%lld]", root, (long long)json_integer_value(seg));
		skip = strcspn(path, "]") + 1;
	} else if (json_is_string(seg)) {
		k = json_dumps(seg, JSON_ENCODE_ANY);
		addr = xasprintf("%s[%s]", root, k);
		free(k);
		skip = json_string_length(seg);
	} else {
		json_decref(segs);
		return value_unknown();
	}
	json_decref(segs);
	attrs = json_object_get(e->resources, addr);
	free(addr);
	if (!attrs || value_is_unknown(attrs))
		return value_unknown();
	rest = xstrdup(path + skip + (path[skip] == '.'));
	v = *rest ? expr_walk(attrs, rest) : attrs;
	free(rest);
	return v ? json_deep_copy(v) : value_unknown();
}

json_t *eval_value(const struct eval_ctx *e, json_t *value, struct cairn_err *err)
{
	return expr_eval(value, lookup, (void *)e, err);
}

json_t *eval_resource(const struct eval_ctx *e, const char *type, json_t *config,
		      struct cairn_err *err)
{
	const json_t *schema = schema_get(type);
	json_t *props, *out, *empty;

	if (!schema) {
		err_set(err, CAIRN_EINVAL, "unknown resource type '%s'", type);
		return NULL;
	}
	empty = json_object();
	props = expr_eval(config ? config : empty, lookup, (void *)e, err);
	json_decref(empty);
	if (!props)
		return NULL;
	out = schema_normalize(schema, props, err);
	json_decref(props);
	return out;
}

/* null, "", [] and {} all mean "not set": AWS reports an unset description
 * as "" and an untagged resource as {} while the stack simply leaves them out. */
static int is_empty(const json_t *v)
{
	if (!v || json_is_null(v))
		return 1;
	if (json_is_string(v))
		return json_string_length(v) == 0;
	if (json_is_array(v))
		return json_array_size(v) == 0;
	if (json_is_object(v))
		return !value_is_unknown(v) && json_object_size(v) == 0;
	return 0;
}

/* A JSON document may come back from AWS as text: compare it parsed. */
static json_t *parse_if_text(const json_t *v)
{
	if (json_is_string(v)) {
		json_t *p = json_loads(json_string_value(v), JSON_DECODE_ANY, NULL);

		if (p && (json_is_object(p) || json_is_array(p)))
			return p;
		json_decref(p);
	}
	return json_incref((json_t *)v);
}

static int eval_equal(const json_t *spec, const json_t *a, const json_t *b);

static int objects_equal(const json_t *spec, const json_t *a, const json_t *b)
{
	const json_t *nested = spec ? json_object_get(spec, "attributes") : NULL;
	const json_t *elem = spec ? json_object_get(spec, "elem") : NULL;
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)a, k, v) {
		const json_t *sub = nested ? json_object_get(nested, k) : elem;

		/* A nested optional+computed attribute the stack leaves out
		 * takes whatever AWS decides. */
		if (sub && is_empty(v) && schema_is_computed(sub) && !schema_is_output(sub))
			continue;
		if (!eval_equal(sub, v, json_object_get(b, k)))
			return 0;
	}
	json_object_foreach((json_t *)b, k, v) {
		const json_t *sub = nested ? json_object_get(nested, k) : elem;

		if (json_object_get(a, k))
			continue;
		/* Only in b: computed on AWS's side, or set there while the
		 * stack leaves it empty. */
		if (sub && schema_is_computed(sub))
			continue;
		if (!is_empty(v))
			return 0;
	}
	return 1;
}

/* One step of Kuhn's algorithm: finds b's partner for a[i], moving earlier
 * pairs along an augmenting path if need be. eq is n x n, row per a. */
static int augment(const unsigned char *eq, size_t n, size_t i, long *b_partner,
		   unsigned char *seen)
{
	size_t j;

	for (j = 0; j < n; j++) {
		if (!eq[i * n + j] || seen[j])
			continue;
		seen[j] = 1;
		if (b_partner[j] < 0 || augment(eq, n, (size_t)b_partner[j], b_partner, seen)) {
			b_partner[j] = (long)i;
			return 1;
		}
	}
	return 0;
}

/*
 * Two lists of the same size as multisets: equal when every element of a
 * pairs with its own element of b. The element comparison is not an
 * equivalence (an element of a that leaves out a computed nested attribute
 * equals several of b), so a greedy pairing could miss one that exists:
 * this is a maximum bipartite matching.
 */
static int multiset_equal(const json_t *elem, const json_t *a, const json_t *b)
{
	size_t n = json_array_size(a), i, j;
	unsigned char *eq = xcalloc(n * n + 1, 1), *seen = xcalloc(n + 1, 1);
	long *b_partner = xcalloc(n + 1, sizeof(long));
	int rc = 1;

	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			eq[i * n + j] = (unsigned char)eval_equal(elem, json_array_get(a, i),
								  json_array_get(b, j));
	for (j = 0; j < n; j++)
		b_partner[j] = -1;
	for (i = 0; i < n && rc; i++) {
		memset(seen, 0, n);
		rc = augment(eq, n, i, b_partner, seen);
	}
	free(eq);
	free(seen);
	free(b_partner);
	return rc;
}

/*
 * Structural equality under spec (may be NULL: plain JSON). Numbers compare
 * by value (80 == 80.0), empty means unset, unknown is never equal, an
 * unordered list compares as a multiset.
 */
static int eval_equal(const json_t *spec, const json_t *a, const json_t *b)
{
	const char *type = spec ? json_string_value(json_object_get(spec, "type")) : NULL;
	int rc;

	if (value_has_unknown(a) || value_has_unknown(b))
		return 0;
	if (is_empty(a) && is_empty(b))
		return 1;
	if (!a || !b)
		return 0;
	if (type && strcmp(type, "json") == 0) {
		json_t *pa = parse_if_text(a), *pb = parse_if_text(b);

		rc = eval_equal(NULL, pa, pb);
		json_decref(pa);
		json_decref(pb);
		return rc;
	}
	if (json_is_number(a) && json_is_number(b))
		return fabs(json_number_value(a) - json_number_value(b)) < 1e-9;
	if (json_is_number(a) && json_is_string(b))
		return eval_equal(spec, b, a);
	if (json_is_string(a) && json_is_number(b)) {
		/* "80" recorded from a string-typed API against 80 in the stack */
		char *end;
		double d = strtod(json_string_value(a), &end);

		return *json_string_value(a) && !*end && fabs(d - json_number_value(b)) < 1e-9;
	}
	if (json_is_array(a) && json_is_array(b)) {
		const json_t *elem = spec ? json_object_get(spec, "elem") : NULL;
		size_t i;

		if (json_array_size(a) != json_array_size(b))
			return 0;
		if (spec && schema_is_unordered(spec))
			return multiset_equal(elem, a, b);
		for (i = 0; i < json_array_size(a); i++)
			if (!eval_equal(elem, json_array_get(a, i), json_array_get(b, i)))
				return 0;
		return 1;
	}
	if (json_is_object(a) && json_is_object(b))
		return objects_equal(spec, a, b);
	return json_equal((json_t *)a, (json_t *)b);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The names of an object's keys, sorted: owned array of borrowed strings. */
const char **eval_sorted_keys(const json_t *obj, size_t *n)
{
	const char **keys = xcalloc(json_object_size(obj) + 1, sizeof(*keys));
	const char *k;
	json_t *v;

	*n = 0;
	json_object_foreach((json_t *)obj, k, v)
		keys[(*n)++] = k;
	qsort(keys, *n, sizeof(*keys), cmp_str);
	return keys;
}

/* A copy of a tag map without the ownership tags (new reference). */
static json_t *user_tags(const json_t *tags)
{
	json_t *out = json_deep_copy(tags);

	json_object_del(out, OWNER_TAG_STACK);
	json_object_del(out, OWNER_TAG_RESOURCE);
	return out;
}

int eval_value_equal(const json_t *spec, const json_t *want, const json_t *have)
{
	return eval_equal(spec, want, have);
}

int eval_is_empty(const json_t *v)
{
	return is_empty(v);
}

int eval_attr_equal(const char *type, const char *name, const json_t *a, const json_t *b)
{
	const json_t *schema = schema_get(type);
	const json_t *spec = schema ? schema_attr(schema, name) : NULL;
	json_t *ta, *tb;
	int rc;

	if (strcmp(name, "tags") != 0 || !(json_is_object(a) || json_is_object(b)))
		return eval_equal(spec, a, b);
	/* The ownership tags are cairn's business, never a difference. */
	ta = json_is_object(a) ? user_tags(a) : json_incref((json_t *)a);
	tb = json_is_object(b) ? user_tags(b) : json_incref((json_t *)b);
	rc = eval_equal(spec, ta, tb);
	json_decref(ta);
	json_decref(tb);
	return rc;
}

int eval_diff(const char *type, json_t *want, json_t *have, json_t *ignore,
	      json_t **changed, json_t **forces, struct cairn_err *err)
{
	const json_t *schema = schema_get(type);
	const json_t *attrs;
	const char **names;
	size_t n, i;

	*changed = NULL;
	*forces = NULL;
	if (!schema) {
		err_set(err, CAIRN_EINVAL, "unknown resource type '%s'", type);
		return -1;
	}
	attrs = schema_attrs(schema);
	*changed = json_array();
	*forces = json_array();
	names = eval_sorted_keys(attrs, &n);
	for (i = 0; i < n; i++) {
		const json_t *spec = json_object_get(attrs, names[i]);
		json_t *w = want ? json_object_get(want, names[i]) : NULL;
		json_t *h = have ? json_object_get(have, names[i]) : NULL;

		if (value_array_has(ignore, names[i]) || schema_is_output(spec))
			continue;
		if (schema_is_computed(spec) && is_empty(w))
			continue;
		if (eval_attr_equal(type, names[i], w, h))
			continue;
		json_array_append_new(*changed, json_string(names[i]));
		if (schema_forces_new(spec))
			json_array_append_new(*forces, json_string(names[i]));
	}
	free(names);
	return 0;
}
