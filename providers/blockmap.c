/*
 * blockmap: table-driven conversion of nested attribute blocks (see
 * blockmap.h).
 */
#include "blockmap.h"

#include <string.h>

#include "../lib/json.h"

/* True for the values a request leaves out. */
static int empty(json_t *v)
{
	return !v || json_is_null(v) || (json_is_string(v) && !*json_string_value(v)) ||
	       (json_is_array(v) && json_array_size(v) == 0) ||
	       (json_is_object(v) && json_object_size(v) == 0);
}

json_t *bm_block_to_aws(json_t *block, const struct bm_field *fields)
{
	json_t *e = json_is_array(block) ? json_array_get(block, 0) : block;

	return json_is_object(e) ? bm_to_aws(e, fields) : NULL;
}

json_t *bm_block_from_aws(json_t *aws, const struct bm_field *fields)
{
	json_t *l = json_array();

	if (json_is_object(aws) && json_object_size(aws))
		json_array_append_new(l, bm_from_aws(aws, fields));
	return l;
}

/* One field of tf as the API's value (new ref), NULL to leave it out. */
static json_t *field_to_aws(json_t *v, const struct bm_field *f)
{
	json_t *out, *e;
	size_t i;

	if (f->kind == BM_BOOL)
		return json_is_boolean(v) ? json_incref(v) : NULL;
	if (empty(v))
		return NULL;
	switch (f->kind) {
	case BM_STR:
	case BM_MAP:
	case BM_STRS:
		return json_deep_copy(v);
	case BM_NUM:
		return json_is_number(v) ? json_integer((json_int_t)json_number_value(v)) : NULL;
	case BM_BLOCK:
		out = bm_block_to_aws(v, f->sub);
		if (out && json_object_size(out) == 0) {
			json_decref(out);
			return NULL;
		}
		return out;
	case BM_LIST:
		out = json_array();
		json_array_foreach(v, i, e)
			json_array_append_new(out, bm_to_aws(e, f->sub));
		return out;
	case BM_NAMES:
		out = json_array();
		json_array_foreach(v, i, e)
			json_array_append_new(out, json_pack("{s:O}", f->key, e));
		return out;
	default:
		return NULL;
	}
}

json_t *bm_to_aws(json_t *tf, const struct bm_field *fields)
{
	json_t *o = json_object(), *v;
	const struct bm_field *f;

	for (f = fields; f->tf; f++) {
		v = field_to_aws(json_object_get(tf, f->tf), f);
		if (v)
			json_object_set_new(o, f->aws, v);
	}
	return o;
}

/* One field as Terraform reads it (new ref). */
static json_t *field_from_aws(json_t *v, const struct bm_field *f)
{
	json_t *out, *e;
	size_t i;

	switch (f->kind) {
	case BM_STR:
		return json_string(json_is_string(v) ? json_string_value(v) : "");
	case BM_NUM:
		return json_is_number(v) ? json_integer((json_int_t)json_number_value(v)) :
		       json_integer((json_int_t)f->dflt_num);
	case BM_BOOL:
		return json_boolean(json_is_true(v));
	case BM_BLOCK:
		return bm_block_from_aws(v, f->sub);
	case BM_LIST:
		out = json_array();
		json_array_foreach(v, i, e)
			json_array_append_new(out, bm_from_aws(e, f->sub));
		return out;
	case BM_MAP:
		return json_is_object(v) ? json_deep_copy(v) : json_object();
	case BM_STRS:
		return json_is_array(v) ? json_deep_copy(v) : json_array();
	case BM_NAMES:
		out = json_array();
		json_array_foreach(v, i, e)
			if (json_is_string(json_object_get(e, f->key)))
				json_array_append(out, json_object_get(e, f->key));
		return out;
	default:
		return json_null();
	}
}

json_t *bm_from_aws(json_t *aws, const struct bm_field *fields)
{
	json_t *o = json_object();
	const struct bm_field *f;

	for (f = fields; f->tf; f++)
		json_object_set_new(o, f->tf, field_from_aws(json_object_get(aws, f->aws), f));
	return o;
}

void bm_clear_changed(json_t *in, json_t *changed, const struct bm_field *fields)
{
	const struct bm_field *f;

	for (f = fields; f->tf; f++) {
		if (!json_array_has_str(changed, f->tf) || json_object_get(in, f->aws))
			continue;
		if (f->kind == BM_STR)
			json_object_set_new(in, f->aws, json_string(""));
		else if (f->kind == BM_LIST || f->kind == BM_STRS || f->kind == BM_NAMES)
			json_object_set_new(in, f->aws, json_array());
		else if (f->kind == BM_MAP)
			json_object_set_new(in, f->aws, json_object());
	}
}
