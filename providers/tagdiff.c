/*
 * tagdiff: see tagdiff.h.
 */
#include "common.h"
#include "tagdiff.h"

void tagdiff(json_t *old, json_t *want, int untag_changed, json_t **removed, json_t **set)
{
	const char *k;
	json_t *v;

	*removed = json_array();
	*set = json_object();
	if (json_is_object(old))
		json_object_foreach(old, k, v) {
			json_t *w = json_is_object(want) ? json_object_get(want, k) : NULL;

			if (ptags_is_owner(k))
				continue;
			if (!w || (untag_changed && !json_equal(v, w)))
				json_array_append_new(*removed, json_string(k));
		}
	if (json_is_object(want))
		json_object_foreach(want, k, v) {
			json_t *o = json_is_object(old) ? json_object_get(old, k) : NULL;

			if (ptags_is_owner(k))
				continue;
			if (!o || !json_equal(o, v))
				json_object_set(*set, k, v);
		}
}

/* The input both calls share: the resource id and the constant member. New ref. */
static json_t *tag_input(const struct ptag_api *api, const char *id)
{
	json_t *in = api->id_in_list ? json_pack("{s:[s]}", api->id_member, id)
				     : json_pack("{s:s}", api->id_member, id);

	if (api->extra_member)
		json_object_set_new(in, api->extra_member, json_string(api->extra_value));
	return in;
}

int ptags_sync(const struct provider_ctx *ctx, const struct ptag_api *api, const char *id,
	       json_t *old, json_t *want, struct cairn_err *err)
{
	json_t *removed, *set, *in = NULL;
	int rc = -1;

	tagdiff(old, want, api->untag_changed, &removed, &set);
	if (json_array_size(removed) > 0) {
		in = tag_input(api, id);
		json_object_set(in, api->keys_member, removed);
		if (pcall_void(ctx, api->service, api->untag_op, in, err) != 0)
			goto out;
		json_decref(in);
		in = NULL;
	}
	if (json_object_size(set) > 0) {
		in = tag_input(api, id);
		json_object_set_new(in, api->tags_member,
				    api->key_name ? ptags_to_list(set, api->key_name, api->value_name)
						  : json_incref(set));
		if (pcall_void(ctx, api->service, api->tag_op, in, err) != 0)
			goto out;
	}
	rc = 0;
out:
	json_decref(in);
	json_decref(removed);
	json_decref(set);
	return rc;
}
