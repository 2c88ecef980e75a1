/*
 * value: see value.h. The marker is an object with a reserved key so it
 * survives JSON round trips (plan files) unchanged.
 */
#include <string.h>

#include "value.h"

#define UNKNOWN_KEY "$cairn_unknown"

json_t *value_unknown(void)
{
	return json_pack("{s:b}", UNKNOWN_KEY, 1);
}

int value_is_unknown(const json_t *v)
{
	return json_is_object(v) && json_object_size(v) == 1 &&
	       json_is_true(json_object_get(v, UNKNOWN_KEY));
}

int value_has_unknown(const json_t *v)
{
	const char *k;
	json_t *e;
	size_t i;

	if (value_is_unknown(v))
		return 1;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, e)
			if (value_has_unknown(e))
				return 1;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e)
			if (value_has_unknown(e))
				return 1;
	}
	return 0;
}

int value_array_has(const json_t *arr, const char *s)
{
	json_t *v;
	size_t i;

	if (!json_is_array(arr))
		return 0;
	json_array_foreach(arr, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return 1;
	return 0;
}
