/*
 * tagdiff: see tagdiff.h.
 */
#include <string.h>

#include "common.h"
#include "tagdiff.h"

static int is_owner_key(const char *k)
{
	return strcmp(k, OWNER_TAG_STACK) == 0 || strcmp(k, OWNER_TAG_RESOURCE) == 0;
}

void tagdiff(json_t *old, json_t *want, int untag_changed, json_t **removed, json_t **set)
{
	const char *k;
	json_t *v;

	*removed = json_array();
	*set = json_object();
	if (json_is_object(old))
		json_object_foreach(old, k, v) {
			json_t *w = json_is_object(want) ? json_object_get(want, k) : NULL;

			if (is_owner_key(k))
				continue;
			if (!w || (untag_changed && !json_equal(v, w)))
				json_array_append_new(*removed, json_string(k));
		}
	if (json_is_object(want))
		json_object_foreach(want, k, v) {
			json_t *o = json_is_object(old) ? json_object_get(old, k) : NULL;

			if (is_owner_key(k))
				continue;
			if (!o || !json_equal(o, v))
				json_object_set(*set, k, v);
		}
}
