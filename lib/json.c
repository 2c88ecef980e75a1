/*
 * lib/json: see json.h.
 */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "util.h"

int json_array_has_str(const json_t *a, const char *s)
{
	size_t i, n = json_is_array(a) ? json_array_size(a) : 0;

	for (i = 0; i < n; i++) {
		const char *e = json_string_value(json_array_get(a, i));

		if (e && strcmp(e, s) == 0)
			return 1;
	}
	return 0;
}

int json_is_nothing(const json_t *v)
{
	return !v || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0) ||
	       (json_is_object(v) && json_object_size(v) == 0) ||
	       (json_is_array(v) && json_array_size(v) == 0);
}

int json_int_of(const json_t *v, json_int_t *n)
{
	const char *s;
	char *end;
	long long x;

	if (json_is_integer(v)) {
		*n = json_integer_value(v);
		return 0;
	}
	if (json_is_real(v)) {
		*n = (json_int_t)json_real_value(v);
		return 0;
	}
	s = json_string_value(v);
	if (!s || !*s)
		return -1;
	x = strtoll(s, &end, 10);
	if (*end)
		return -1;
	*n = (json_int_t)x;
	return 0;
}

json_int_t json_int_or(const json_t *v, json_int_t dflt)
{
	json_int_t n;

	return json_int_of(v, &n) == 0 ? n : dflt;
}

json_t *json_string_or_empty(const char *s)
{
	return json_string(s ? s : "");
}

char *json_doc_text(const json_t *doc)
{
	if (json_is_string(doc))
		return json_string_length(doc) ? xstrdup(json_string_value(doc)) : NULL;
	if (json_is_object(doc) || json_is_array(doc))
		return json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	return NULL;
}

json_t *json_doc_parse(const char *text)
{
	json_t *v;

	if (!text)
		return NULL;
	v = json_loads(text, JSON_DECODE_ANY, NULL);
	return v ? v : json_string(text);
}
