/*
 * schema: see schema.h. The embedded schema texts (build/schemas_gen.c,
 * made by schemas/embed.sh) are parsed once, on first use, under
 * pthread_once so any thread may call in.
 */
#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"
#include "value.h"

extern const struct { const char *type; const char *text; } schema_files[];
extern const size_t schema_files_count;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static json_t *all;     /* type -> schema; immutable after load_all */
static json_t *types;   /* sorted names of resource types */
static json_t *data_types;   /* sorted names of data source types ("aws_vpc") */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void load_all(void)
{
	const char **names = xcalloc(schema_files_count + 1, sizeof(*names));
	size_t i, n = 0;

	all = json_object();
	types = json_array();
	data_types = json_array();
	for (i = 0; i < schema_files_count; i++) {
		json_error_t jerr;
		json_t *s = json_loads(schema_files[i].text, 0, &jerr);

		/* A broken embedded schema is a build defect; the type is left
		 * out (and the schema unit test fails) rather than crashing. */
		if (!json_is_object(s) || !json_is_object(json_object_get(s, "attributes"))) {
			fprintf(stderr, "cairn: internal error: schema %s.json: %s\n",
				schema_files[i].type, s ? "no attributes" : jerr.text);
			json_decref(s);
			continue;
		}
		json_object_set_new(all, schema_files[i].type, s);
		names[n++] = schema_files[i].type;
	}
	qsort(names, n, sizeof(*names), cmp_str);
	/* schemas/data.TYPE.json: data sources, kept apart from resource types */
	for (i = 0; i < n; i++)
		if (!strncmp(names[i], "data.", 5))
			json_array_append_new(data_types, json_string(names[i] + 5));
		else
			json_array_append_new(types, json_string(names[i]));
	free(names);
}

const json_t *schema_get(const char *type)
{
	pthread_once(&once, load_all);
	return type ? json_object_get(all, type) : NULL;
}

const json_t *schema_types(void)
{
	pthread_once(&once, load_all);
	return types;
}

const json_t *schema_data_get(const char *type)
{
	const json_t *s;
	char *key;

	if (!type)
		return NULL;
	pthread_once(&once, load_all);
	key = xasprintf("data.%s", type);
	s = json_object_get(all, key);
	free(key);
	return s;
}

const json_t *schema_data_types(void)
{
	pthread_once(&once, load_all);
	return data_types;
}

const json_t *schema_attrs(const json_t *schema)
{
	return json_object_get(schema, "attributes");
}

const json_t *schema_attr(const json_t *schema, const char *name)
{
	return json_object_get(schema_attrs(schema), name);
}

static int flag(const json_t *spec, const char *name)
{
	return json_is_true(json_object_get(spec, name));
}

int schema_is_required(const json_t *spec)
{
	return flag(spec, "required");
}

int schema_is_computed(const json_t *spec)
{
	return flag(spec, "computed");
}

int schema_is_output(const json_t *spec)
{
	return flag(spec, "computed") && !flag(spec, "optional") && !flag(spec, "required");
}

int schema_forces_new(const json_t *spec)
{
	return flag(spec, "force_new");
}

int schema_is_sensitive(const json_t *spec)
{
	return flag(spec, "sensitive");
}

int schema_is_unordered(const json_t *spec)
{
	return flag(spec, "unordered");
}

int schema_is_unique(const json_t *spec)
{
	return flag(spec, "unique");
}

const json_t *schema_list_key(const json_t *spec)
{
	const json_t *k = spec ? json_object_get(spec, "key") : NULL;

	return json_is_array(k) && json_array_size(k) ? k : NULL;
}

/* Compiled patterns: pattern text -> index in regexes (or -1 when the
 * pattern does not compile). Compiling is far costlier than matching and
 * a large stack checks the same few patterns thousands of times. */
static pthread_mutex_t regex_lock = PTHREAD_MUTEX_INITIALIZER;
static json_t *regex_index;
static regex_t **regexes;
static size_t n_regexes;

static const regex_t *compiled(const char *pattern)
{
	const regex_t *re = NULL;
	json_t *at;

	pthread_mutex_lock(&regex_lock);
	if (!regex_index)
		regex_index = json_object();
	at = json_object_get(regex_index, pattern);
	if (!at) {
		regex_t *r = xmalloc(sizeof(*r));

		if (regcomp(r, pattern, REG_EXTENDED | REG_NOSUB) == 0) {
			regexes = xrealloc(regexes, (n_regexes + 1) * sizeof(*regexes));
			regexes[n_regexes] = r;
			at = json_integer((json_int_t)n_regexes++);
		} else {
			free(r);
			at = json_integer(-1);
		}
		json_object_set_new(regex_index, pattern, at);
	}
	if (json_integer_value(at) >= 0)
		re = regexes[json_integer_value(at)];
	pthread_mutex_unlock(&regex_lock);
	return re;
}

int schema_pattern_ok(const json_t *spec, const char *s)
{
	const json_t *pattern = json_object_get(spec, "pattern");
	const regex_t *re;

	if (!json_is_string(pattern))
		return 1;
	re = compiled(json_string_value(pattern));
	/* regexec is thread-safe on a shared compiled regex (POSIX) */
	return !re || regexec(re, s, 0, NULL, 0) == 0;
}

const char *schema_type_of(const json_t *spec)
{
	const char *t = json_string_value(json_object_get(spec, "type"));

	return t ? t : "string";
}

static json_t *norm_value(const json_t *spec, json_t *v, const char *name, struct cairn_err *err);

static json_t *norm_attrs(const json_t *attrs, json_t *props, const char *prefix,
			  struct cairn_err *err)
{
	json_t *out = json_object(), *spec, *v;
	const char *k;

	json_object_foreach(props, k, v) {
		if (!json_object_get(attrs, k)) {
			err_set(err, CAIRN_EINVAL, "unknown attribute '%s%s'", prefix, k);
			goto fail;
		}
	}
	json_object_foreach((json_t *)attrs, k, spec) {
		char *name = xasprintf("%s%s", prefix, k);
		json_t *n;

		v = json_object_get(props, k);
		if (!v || json_is_null(v)) {
			v = json_object_get(spec, "default");
			if (!v) {
				if (schema_is_required(spec)) {
					err_set(err, CAIRN_EINVAL, "missing required attribute '%s'", name);
					free(name);
					goto fail;
				}
				free(name);
				continue;
			}
		}
		n = norm_value(spec, v, name, err);
		free(name);
		if (!n)
			goto fail;
		json_object_set_new(out, k, n);
	}
	return out;
fail:
	json_decref(out);
	return NULL;
}

static json_t *wrong(struct cairn_err *err, const char *name, const char *want, json_t *v)
{
	char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

	err_set(err, CAIRN_EINVAL, "attribute '%s' must be a %s, not %s", name, want, s);
	free(s);
	return NULL;
}

static json_t *norm_value(const json_t *spec, json_t *v, const char *name, struct cairn_err *err)
{
	const char *t = schema_type_of(spec), *k;
	const json_t *elem = json_object_get(spec, "elem");
	json_t *out, *e, *n;
	size_t i;

	if (value_is_unknown(v))
		return json_incref(v);
	if (strcmp(t, "string") == 0) {
		if (json_is_string(v))
			return json_incref(v);
		if (json_is_integer(v) || json_is_real(v) || json_is_boolean(v)) {
			char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));

			out = json_string(s);
			free(s);
			return out;
		}
		return wrong(err, name, "string", v);
	}
	if (strcmp(t, "number") == 0) {
		if (json_is_number(v))
			return json_incref(v);
		if (json_is_string(v)) {
			const char *s = json_string_value(v);
			char *end;
			long long ll;
			double d;

			errno = 0;
			ll = strtoll(s, &end, 10);
			if (*s && !*end && errno == 0)
				return json_integer(ll);
			d = strtod(s, &end);
			if (*s && !*end && errno == 0 && d == d)
				return json_real(d);
		}
		return wrong(err, name, "number", v);
	}
	if (strcmp(t, "bool") == 0) {
		if (json_is_boolean(v))
			return json_incref(v);
		if (json_is_string(v) && strcmp(json_string_value(v), "true") == 0)
			return json_true();
		if (json_is_string(v) && strcmp(json_string_value(v), "false") == 0)
			return json_false();
		return wrong(err, name, "bool", v);
	}
	if (strcmp(t, "list") == 0) {
		if (!json_is_array(v))
			return wrong(err, name, "list", v);
		out = json_array();
		json_array_foreach(v, i, e) {
			char *en = xasprintf("%s[%zu]", name, i);

			n = elem ? norm_value(elem, e, en, err) : json_incref(e);
			free(en);
			if (!n) {
				json_decref(out);
				return NULL;
			}
			json_array_append_new(out, n);
		}
		return out;
	}
	if (strcmp(t, "map") == 0) {
		if (!json_is_object(v))
			return wrong(err, name, "map", v);
		out = json_object();
		json_object_foreach(v, k, e) {
			char *en = xasprintf("%s.%s", name, k);
			json_t *string_spec = json_pack("{s:s}", "type", "string");

			n = norm_value(elem ? elem : string_spec, e, en, err);
			json_decref(string_spec);
			free(en);
			if (!n) {
				json_decref(out);
				return NULL;
			}
			json_object_set_new(out, k, n);
		}
		return out;
	}
	if (strcmp(t, "object") == 0) {
		char *prefix;

		if (!json_is_object(v))
			return wrong(err, name, "object", v);
		prefix = xasprintf("%s.", name);
		out = norm_attrs(json_object_get(spec, "attributes"), v, prefix, err);
		free(prefix);
		return out;
	}
	if (strcmp(t, "json") == 0) {
		/* A document written as a JSON string is kept as the structure too,
		 * so both spellings diff the same. */
		if (json_is_string(v)) {
			json_t *doc = json_loads(json_string_value(v), 0, NULL);

			if (json_is_object(doc) || json_is_array(doc))
				return doc;
			json_decref(doc);
		}
		return json_deep_copy(v);
	}
	err_set(err, CAIRN_EINTERNAL, "attribute '%s' has unknown schema type '%s'", name, t);
	return NULL;
}

/* Whether spec's "only_when" ({"ATTR": [values]}) holds for the resource's
 * top-level attributes; an unknown or missing ATTR keeps the attribute. */
static int used(const json_t *spec, const json_t *top)
{
	const json_t *cond = json_object_get(spec, "only_when");
	const char *k;
	json_t *allowed, *v, *a;
	size_t i;

	json_object_foreach((json_t *)cond, k, allowed) {
		int ok = 0;

		v = json_object_get(top, k);
		if (!v || value_has_unknown(v))
			continue;
		json_array_foreach(allowed, i, a)
			if (json_equal(a, v))
				ok = 1;
		if (!ok)
			return 0;
	}
	return 1;
}

/* Removes, in obj and below, the attributes whose mode is not in use. */
static void drop_unused(const json_t *attrs, json_t *obj, const json_t *top)
{
	const char *k;
	json_t *v, *e;
	void *tmp;
	size_t i;

	json_object_foreach_safe(obj, tmp, k, v) {
		const json_t *spec = json_object_get(attrs, k);
		const json_t *elem = spec ? json_object_get(spec, "elem") : NULL;

		if (!spec)
			continue;
		if (!used(spec, top)) {
			json_object_del(obj, k);
			continue;
		}
		if (json_is_object(v) && !value_is_unknown(v) && json_object_get(spec, "attributes"))
			drop_unused(json_object_get(spec, "attributes"), v, top);
		if (json_is_array(v) && elem && json_object_get(elem, "attributes"))
			json_array_foreach(v, i, e)
				if (json_is_object(e) && !value_is_unknown(e))
					drop_unused(json_object_get(elem, "attributes"), e, top);
	}
}

json_t *schema_normalize(const json_t *schema, json_t *props, struct cairn_err *err)
{
	json_t *out;

	if (!json_is_object(props)) {
		err_set(err, CAIRN_EINVAL, "properties must be a map");
		return NULL;
	}
	out = norm_attrs(schema_attrs(schema), props, "", err);
	if (out)
		drop_unused(schema_attrs(schema), out, out);
	return out;
}

json_t *schema_coerce(const json_t *spec, json_t *v, const char *name, struct cairn_err *err)
{
	return norm_value(spec, v, name, err);
}
