/*
 * ssm: the aws_ssm_parameter resource type (Systems Manager Parameter
 * Store, json protocol).
 *
 * The id is the parameter name. A read takes three calls per batch:
 * GetParameters (10 names a call, decrypted) for the value, type, version
 * and ARN; DescribeParameters with a Name filter (50 names a call) for the
 * description and tier; ListTagsForResource per parameter for the tags.
 * Changes of value, type, description or tier are one PutParameter with
 * Overwrite (which AWS refuses together with Tags, so tags change through
 * Add/RemoveTagsFromResource); only a move from the Advanced tier back to
 * Standard needs the parameter deleted and put again.
 *
 * The value is a secret for SecureString parameters: it is never put in
 * an error message here.
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "tagdiff.h"

#define SVC "ssm"
#define SSM_GET_MAX 10
#define SSM_DESCRIBE_MAX 50

/* GetParameters of names[from, to) into found (name -> Parameter). */
static int get_chunk(const struct provider_ctx *ctx, const char *const *names, size_t from,
		     size_t to, json_t *found, struct cairn_err *err)
{
	json_t *list = json_array(), *in, *res = NULL, *p;
	size_t i;
	int rc = -1;

	for (i = from; i < to; i++)
		json_array_append_new(list, json_string(names[i]));
	in = json_pack("{s:o,s:b}", "Names", list, "WithDecryption", 1);
	if (pcall(ctx, SVC, "GetParameters", in, &res, err) != 0)
		goto out;
	json_array_foreach(json_object_get(res, "Parameters"), i, p)
		if (pstr(p, "Name"))
			json_object_set(found, pstr(p, "Name"), p);
	rc = 0;
out:
	json_decref(in);
	json_decref(res);
	return rc;
}

/* DescribeParameters of names[from, to) into meta (name -> ParameterMetadata). */
static int describe_chunk(const struct provider_ctx *ctx, const char *const *names, size_t from,
			  size_t to, json_t *meta, struct cairn_err *err)
{
	json_t *list = json_array(), *in, *items = NULL, *p;
	size_t i;
	int rc = -1;

	for (i = from; i < to; i++)
		json_array_append_new(list, json_string(names[i]));
	in = json_pack("{s:[{s:s,s:s,s:o}]}", "ParameterFilters", "Key", "Name", "Option", "Equals",
		       "Values", list);
	if (aws_call_all(ctx->aws, SVC, "DescribeParameters", in, "Parameters", &items, err) != 0) {
		err_prefix(err, "DescribeParameters on %s", ctx->name);
		goto out;
	}
	json_array_foreach(items, i, p)
		if (pstr(p, "Name"))
			json_object_set(meta, pstr(p, "Name"), p);
	rc = 0;
out:
	json_decref(in);
	json_decref(items);
	return rc;
}

/* The tag list of a parameter: *tags new array, NULL when it is gone. */
static int param_tags(const struct provider_ctx *ctx, const char *name, json_t **tags,
		      struct cairn_err *err)
{
	static const char *const gone[] = {"InvalidResourceId", "ParameterNotFound", NULL};
	json_t *in = json_pack("{s:s,s:s}", "ResourceType", "Parameter", "ResourceId", name);
	json_t *res = NULL, *t;
	int rc = pcall_found(ctx, SVC, "ListTagsForResource", in, gone, &res, err);

	t = json_object_get(res, "TagList");
	*tags = !res ? NULL : json_is_array(t) ? json_incref(t) : json_array();
	json_decref(in);
	json_decref(res);
	return rc;
}

/* Attribute object from GetParameters' item, DescribeParameters' item (may
 * be NULL) and the tag list. New ref. */
static json_t *param_attrs(json_t *p, json_t *m, json_t *tags)
{
	json_t *o = json_object();
	const char *desc = pstr(m, "Description"), *tier = pstr(m, "Tier");

	json_object_set_new(o, "id", json_string(pstr(p, "Name")));
	json_object_set_new(o, "name", json_string(pstr(p, "Name")));
	json_object_set_new(o, "type", json_string(pstr(p, "Type") ? pstr(p, "Type") : ""));
	json_object_set_new(o, "value", json_string(pstr(p, "Value") ? pstr(p, "Value") : ""));
	json_object_set_new(o, "description", json_string(desc ? desc : ""));
	json_object_set_new(o, "tier", json_string(tier ? tier : "Standard"));
	if (pstr(m, "KeyId"))
		json_object_set_new(o, "key_id", json_string(pstr(m, "KeyId")));
	json_object_set_new(o, "arn", json_string(pstr(p, "ARN") ? pstr(p, "ARN") : ""));
	json_object_set_new(o, "version",
			    json_integer(json_integer_value(json_object_get(p, "Version"))));
	json_object_set_new(o, "tags", ptags_from_list(tags, "Key", "Value"));
	return o;
}

/* Reads names[0..n) into outs (NULL when gone); ctxs[i] names each. */
static int read_names(const struct provider_ctx *const *ctxs, size_t n, const char *const *names,
		      json_t **outs, struct cairn_err *err)
{
	json_t *found = json_object(), *meta = json_object();
	size_t i;
	int rc = -1;

	for (i = 0; i < n; i++)
		outs[i] = NULL;
	if (pread_chunks(ctxs, names, n, SSM_GET_MAX, get_chunk, found, err) != 0)
		goto out;
	if (pread_chunks(ctxs, names, n, SSM_DESCRIBE_MAX, describe_chunk, meta, err) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		json_t *p = json_object_get(found, names[i]), *tags = NULL;

		if (!p)
			continue;
		if (param_tags(ctxs[i], names[i], &tags, err) != 0)
			goto out;
		if (tags)
			outs[i] = param_attrs(p, json_object_get(meta, names[i]), tags);
		json_decref(tags);
	}
	rc = 0;
out:
	if (rc != 0)
		pouts_clear(outs, n);
	json_decref(found);
	json_decref(meta);
	return rc;
}

static int ssm_read_batch(const struct provider_ctx *const *ctxs, size_t n,
			  const char *const *ids, json_t *const *priors, json_t **outs,
			  struct cairn_err *err)
{
	return read_names(ctxs, n, ids, outs, err);
}

static int ssm_read(const struct provider_ctx *ctx, const char *id, json_t *prior, json_t **out,
		    struct cairn_err *err)
{
	return read_names(&ctx, 1, &id, out, err);
}

/* PutParameter's input for attrs (borrowed): new object. */
static json_t *put_input(json_t *attrs)
{
	json_t *in = json_pack("{s:s,s:s,s:s,s:s}", "Name", pstr(attrs, "name"),
			       "Type", pstr(attrs, "type"), "Value", pstr(attrs, "value"),
			       "Tier", pstr(attrs, "tier") ? pstr(attrs, "tier") : "Standard");

	if (pstr(attrs, "description"))
		json_object_set_new(in, "Description", json_string(pstr(attrs, "description")));
	/* AWS takes a key only for SecureString. */
	if (strcmp(pstr(attrs, "type") ? pstr(attrs, "type") : "", "SecureString") == 0 &&
	    pstr(attrs, "key_id") && *pstr(attrs, "key_id"))
		json_object_set_new(in, "KeyId", json_string(pstr(attrs, "key_id")));
	return in;
}

static int ssm_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		      struct cairn_err *err)
{
	const char *name = pstr(attrs, "name");
	json_t *tags = ptags_with_owner(ctx, json_object_get(attrs, "tags"));
	json_t *in = put_input(attrs);
	int rc = -1, created = 0;

	*out = NULL;
	json_object_set_new(in, "Tags", ptags_to_list(tags, "Key", "Value"));
	if (pcall_void(ctx, SVC, "PutParameter", in, err) != 0)
		goto out;
	created = 1;
	if (pread_back(ctx, ssm_read, "PutParameter", "parameter", name, attrs, out, err) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0 && created && !*out)
		pcreated_partial(out, name, "name");
	json_decref(tags);
	json_decref(in);
	return rc;
}

/* AWS cannot move an Advanced parameter back to Standard. */
static int downgrade(json_t *old, json_t *want)
{
	const char *from = pstr(old, "tier"), *to = pstr(want, "tier");

	return from && to && strcmp(from, "Advanced") == 0 && strcmp(to, "Standard") == 0;
}

/* Deletes and puts the parameter again (the one way to a lower tier, as
 * Terraform replaces it); its version history starts over. */
static int recreate(const struct provider_ctx *ctx, const char *name, json_t *want,
		    struct cairn_err *err)
{
	json_t *tags = ptags_with_owner(ctx, json_object_get(want, "tags"));
	json_t *del = json_pack("{s:s}", "Name", name), *in = put_input(want);
	int rc = -1;

	json_object_set_new(in, "Name", json_string(name));
	json_object_set_new(in, "Tags", ptags_to_list(tags, "Key", "Value"));
	if (pcall_void(ctx, SVC, "DeleteParameter", del, err) != 0 && !perr_is(err, "ParameterNotFound"))
		goto out;
	err_clear(err);
	if (pcall_void(ctx, SVC, "PutParameter", in, err) != 0)
		goto out;
	rc = 0;
out:
	json_decref(tags);
	json_decref(del);
	json_decref(in);
	return rc;
}

/* The service's tagging calls for ptags_sync. */
static const struct ptag_api TAG_API = {
	.service = SVC, .untag_op = "RemoveTagsFromResource", .tag_op = "AddTagsToResource",
	.id_member = "ResourceId", .keys_member = "TagKeys", .tags_member = "Tags",
	.key_name = "Key", .value_name = "Value",
	.extra_member = "ResourceType", .extra_value = "Parameter",
};

static int ssm_update(const struct provider_ctx *ctx, const char *id, json_t *old, json_t *want,
		      json_t *changed, json_t **out, struct cairn_err *err)
{
	json_t *in = NULL;
	int rc = -1;

	*out = NULL;
	if (downgrade(old, want)) {
		if (recreate(ctx, id, want, err) != 0)
			goto out;
	} else if (pchanged(changed, "value") || pchanged(changed, "type") ||
		   pchanged(changed, "description") || pchanged(changed, "tier") ||
		   pchanged(changed, "key_id")) {
		in = put_input(want);
		json_object_set_new(in, "Name", json_string(id));
		json_object_set_new(in, "Overwrite", json_true());
		if (pcall_void(ctx, SVC, "PutParameter", in, err) != 0)
			goto out;
	}
	if (pchanged(changed, "tags") && !downgrade(old, want) &&
	    ptags_sync(ctx, &TAG_API, id, json_object_get(old, "tags"),
		       json_object_get(want, "tags"), err) != 0)
		goto out;
	if (pread_after(ctx, ssm_read, "update", "parameter", id, want, out, err) != 0)
		goto out;
	rc = 0;
out:
	json_decref(in);
	return rc;
}

static int ssm_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
		      struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "Name", id);
	int rc = pcall_gone(ctx, SVC, "DeleteParameter", in, "ParameterNotFound", err);

	json_decref(in);
	return rc;
}


/* Names are unique per region: adopt the parameter of that name only if
 * it carries this resource's ownership tags. */
/* The parameter called name and its tags (see pnamed_fn). */
static int ssm_named(const struct provider_ctx *ctx, const char *name, json_t *want,
		     json_t **out, json_t **tags, struct cairn_err *err)
{
	*out = NULL;
	if (param_tags(ctx, name, tags, err) != 0)
		return -1;
	return *tags ? ssm_read(ctx, name, want, out, err) : 0;
}

static int ssm_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		    struct cairn_err *err)
{
	return pfind_by_name(ctx, attrs, "name", ssm_named, out, err);
}

const struct resource_ops aws_ssm_parameter_ops = {
	.type = "aws_ssm_parameter",
	.create = ssm_create,
	.read = ssm_read,
	.read_batch = ssm_read_batch,
	.update = ssm_update,
	.delete = ssm_delete,
	.find = ssm_find,
};
