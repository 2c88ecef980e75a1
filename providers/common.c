/*
 * providers/common: see common.h.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"

json_t *ptags_with_owner(const struct provider_ctx *ctx, json_t *user_tags)
{
	json_t *t = json_is_object(user_tags) ? json_deep_copy(user_tags) : json_object();

	json_object_set_new(t, OWNER_TAG_STACK, json_string(ctx->stack));
	json_object_set_new(t, OWNER_TAG_RESOURCE, json_string(ctx->name));
	return t;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

json_t *ptags_to_list(json_t *tags, const char *key_name, const char *value_name)
{
	json_t *list = json_array();
	const char **keys;
	const char *k;
	json_t *v;
	size_t n = 0, i;

	if (!json_is_object(tags))
		return list;
	keys = xcalloc(json_object_size(tags), sizeof(*keys));
	json_object_foreach(tags, k, v)
		keys[n++] = k;
	qsort(keys, n, sizeof(*keys), cmp_str);
	for (i = 0; i < n; i++) {
		v = json_object_get(tags, keys[i]);
		json_array_append_new(list, json_pack("{s:s,s:O}", key_name, keys[i], value_name,
						      json_is_string(v) ? v : json_string("")));
	}
	free(keys);
	return list;
}

static int is_owner_key(const char *k)
{
	return strcmp(k, OWNER_TAG_STACK) == 0 || strcmp(k, OWNER_TAG_RESOURCE) == 0;
}

json_t *ptags_from_list(json_t *list, const char *key_name, const char *value_name)
{
	json_t *tags = json_object(), *e;
	size_t i;

	json_array_foreach(list, i, e) {
		const char *k = json_string_value(json_object_get(e, key_name));
		json_t *v = json_object_get(e, value_name);

		if (k && !is_owner_key(k))
			json_object_set_new(tags, k, json_string(json_is_string(v) ?
								  json_string_value(v) : ""));
	}
	return tags;
}

json_t *ptags_strip_owner(json_t *tags)
{
	json_t *out = json_object(), *v;
	const char *k;

	if (json_is_object(tags))
		json_object_foreach(tags, k, v)
			if (!is_owner_key(k))
				json_object_set(out, k, v);
	return out;
}

int ptags_owned_by(json_t *list, const char *key_name, const char *value_name,
		   const struct provider_ctx *ctx)
{
	int stack_ok = 0, name_ok = 0;
	json_t *e;
	size_t i;

	json_array_foreach(list, i, e) {
		const char *k = json_string_value(json_object_get(e, key_name));
		const char *v = json_string_value(json_object_get(e, value_name));

		if (!k || !v)
			continue;
		if (strcmp(k, OWNER_TAG_STACK) == 0 && strcmp(v, ctx->stack) == 0)
			stack_ok = 1;
		if (strcmp(k, OWNER_TAG_RESOURCE) == 0 && strcmp(v, ctx->name) == 0)
			name_ok = 1;
	}
	return stack_ok && name_ok;
}

int pwait(const struct provider_ctx *ctx, long ms)
{
	if (ctx->cancel && *ctx->cancel)
		return -1;
	if (ctx->sleep_ms) {
		ctx->sleep_ms(ms);
	} else {
		struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

		while (nanosleep(&ts, &ts) != 0)
			;
	}
	return ctx->cancel && *ctx->cancel ? -1 : 0;
}

int pcall(const struct provider_ctx *ctx, const char *service, const char *operation,
	  json_t *input, json_t **out, struct cairn_err *err)
{
	if (aws_call(ctx->aws, service, operation, input, out, err) == 0)
		return 0;
	err_prefix(err, "%s on %s", operation, ctx->name);
	return -1;
}

int perr_is(const struct cairn_err *err, const char *code)
{
	size_t n = strlen(code);

	return err->code == CAIRN_EAWS && strncmp(err->aws_code, code, n) == 0 &&
	       (err->aws_code[n] == '\0' || err->aws_code[n] == '.');
}
