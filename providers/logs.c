/*
 * logs: the aws_cloudwatch_log_group resource type (CloudWatch Logs, json
 * protocol).
 *
 * The id is the log group name. Reads go through DescribeLogGroups with
 * logGroupIdentifiers (up to 50 names a call) and keep only exact name
 * matches, so an emulator that ignores the filter and lists every group
 * still gives the right answer; a name missing from that answer is looked
 * up once more by prefix before it counts as gone. Tags come from
 * ListTagsForResource, one call per group (the API has no batched form).
 * AWS leaves retentionInDays out when events never expire: that reads as 0.
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "tagdiff.h"

#define SVC "logs"
#define LOGS_DESCRIBE_MAX 50

/* The log group's ARN as the tagging API takes it: without the ":*" that
 * DescribeLogGroups' arn member ends in. Owned. */
static char *group_arn(json_t *g)
{
	const char *a = pstr(g, "logGroupArn");
	size_t n;

	if (a)
		return xstrdup(a);
	a = pstr(g, "arn");
	if (!a)
		return xstrdup("");
	n = strlen(a);
	if (n >= 2 && strcmp(a + n - 2, ":*") == 0)
		n -= 2;
	return xstrndup(a, n);
}

/* Attribute object of one described group and its tag map (borrowed). New ref. */
static json_t *group_attrs(json_t *g, json_t *tags)
{
	json_t *o = json_object(), *t = json_object(), *v;
	const char *k, *kms = pstr(g, "kmsKeyId");
	json_int_t days = json_integer_value(json_object_get(g, "retentionInDays"));
	char *arn = group_arn(g);

	json_object_set_new(o, "id", json_string(pstr(g, "logGroupName")));
	json_object_set_new(o, "name", json_string(pstr(g, "logGroupName")));
	json_object_set_new(o, "arn", json_string(arn));
	json_object_set_new(o, "retention_in_days", json_integer(days));
	json_object_set_new(o, "kms_key_id", json_string(kms ? kms : ""));
	json_object_foreach(tags, k, v)
		if (json_is_string(v))
			json_object_set(t, k, v);
	json_object_set_new(o, "tags", ptags_strip_owner(t));
	json_decref(t);
	free(arn);
	return o;
}

/* The tags of a group: *tags new object, NULL when the group is gone. */
static int group_tags(const struct provider_ctx *ctx, const char *arn, json_t **tags,
		      struct cairn_err *err)
{
	static const char *const gone[] = {"ResourceNotFoundException", NULL};
	json_t *in = json_pack("{s:s}", "resourceArn", arn), *res = NULL, *t;
	int rc = pcall_found(ctx, SVC, "ListTagsForResource", in, gone, &res, err);

	t = json_object_get(res, "tags");
	*tags = !res ? NULL : json_is_object(t) ? json_incref(t) : json_object();
	json_decref(in);
	json_decref(res);
	return rc;
}

/* Describes names[from, to) into found (name -> described group). */
static int describe_chunk(const struct provider_ctx *ctx, const char *const *names, size_t from,
			  size_t to, json_t *found, struct cairn_err *err)
{
	json_t *ids = json_array(), *in, *items = NULL, *g;
	size_t i;
	int rc = -1;

	for (i = from; i < to; i++)
		json_array_append_new(ids, json_string(names[i]));
	in = json_pack("{s:o}", "logGroupIdentifiers", ids);
	if (aws_call_all(ctx->aws, SVC, "DescribeLogGroups", in, "logGroups", &items, err) != 0) {
		err_prefix(err, "DescribeLogGroups on %s", ctx->name);
		goto out;
	}
	json_array_foreach(items, i, g) {
		const char *n = pstr(g, "logGroupName");
		size_t j;

		for (j = from; n && j < to; j++)
			if (strcmp(n, names[j]) == 0)
				json_object_set(found, n, g);
	}
	rc = 0;
out:
	json_decref(in);
	json_decref(items);
	return rc;
}

/*
 * Looks one name up by prefix into found. Accounts that are CloudWatch
 * cross-account monitoring accounts take only ARNs in
 * logGroupIdentifiers, so a name that did not come back is confirmed
 * this way before it counts as gone.
 */
static int describe_prefix(const struct provider_ctx *ctx, const char *name, json_t *found,
			   struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "logGroupNamePrefix", name), *items = NULL, *g;
	size_t i;
	int rc = -1;

	if (aws_call_all(ctx->aws, SVC, "DescribeLogGroups", in, "logGroups", &items, err) != 0) {
		err_prefix(err, "DescribeLogGroups on %s", ctx->name);
		goto out;
	}
	json_array_foreach(items, i, g)
		if (pstr(g, "logGroupName") && strcmp(pstr(g, "logGroupName"), name) == 0)
			json_object_set(found, name, g);
	rc = 0;
out:
	json_decref(in);
	json_decref(items);
	return rc;
}

/* Reads the groups names[0..n) into outs (NULL when gone); ctxs[i] names each. */
static int read_names(const struct provider_ctx *const *ctxs, size_t n, const char *const *names,
		      json_t **outs, struct cairn_err *err)
{
	json_t *found = json_object();
	size_t i;
	int rc = -1;

	for (i = 0; i < n; i++)
		outs[i] = NULL;
	if (pread_chunks(ctxs, names, n, LOGS_DESCRIBE_MAX, describe_chunk, found, err) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		json_t *g, *tags = NULL;
		char *arn;

		if (!json_object_get(found, names[i]) &&
		    describe_prefix(ctxs[i], names[i], found, err) != 0)
			goto out;
		g = json_object_get(found, names[i]);
		if (!g)
			continue;
		arn = group_arn(g);
		if (group_tags(ctxs[i], arn, &tags, err) != 0) {
			free(arn);
			goto out;
		}
		free(arn);
		if (tags)
			outs[i] = group_attrs(g, tags);
		json_decref(tags);
	}
	rc = 0;
out:
	if (rc != 0)
		pouts_clear(outs, n);
	json_decref(found);
	return rc;
}

static int logs_read_batch(const struct provider_ctx *const *ctxs, size_t n,
			   const char *const *ids, json_t *const *priors, json_t **outs,
			   struct cairn_err *err)
{
	return read_names(ctxs, n, ids, outs, err);
}

static int logs_read(const struct provider_ctx *ctx, const char *id, json_t *prior,
		     json_t **out, struct cairn_err *err)
{
	return read_names(&ctx, 1, &id, out, err);
}

static int set_retention(const struct provider_ctx *ctx, const char *name, json_t *days,
			 struct cairn_err *err)
{
	json_int_t d = json_integer_value(days);
	json_t *in;
	int rc;

	if (d > 0)
		in = json_pack("{s:s,s:I}", "logGroupName", name, "retentionInDays", d);
	else
		in = json_pack("{s:s}", "logGroupName", name);
	rc = pcall_void(ctx, SVC, d > 0 ? "PutRetentionPolicy" : "DeleteRetentionPolicy", in, err);
	json_decref(in);
	return rc;
}

static int logs_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		       struct cairn_err *err)
{
	const char *name = pstr(attrs, "name"), *kms = pstr(attrs, "kms_key_id");
	json_t *in = json_pack("{s:s,s:o}", "logGroupName", name,
			       "tags", ptags_with_owner(ctx, json_object_get(attrs, "tags")));
	json_t *days = json_object_get(attrs, "retention_in_days");
	int rc = -1, created = 0;

	*out = NULL;
	if (kms && *kms)
		json_object_set_new(in, "kmsKeyId", json_string(kms));
	if (pcall_void(ctx, SVC, "CreateLogGroup", in, err) != 0)
		goto out;
	created = 1;
	if (json_integer_value(days) > 0 && set_retention(ctx, name, days, err) != 0)
		goto out;
	if (pread_back(ctx, logs_read, "CreateLogGroup", "log group", name, attrs, out, err) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0 && created && !*out)
		pcreated_partial(out, name, "name");
	json_decref(in);
	return rc;
}

static int sync_kms(const struct provider_ctx *ctx, const char *name, const char *kms,
		    struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "logGroupName", name);
	int rc;

	if (kms && *kms)
		json_object_set_new(in, "kmsKeyId", json_string(kms));
	rc = pcall_void(ctx, SVC, kms && *kms ? "AssociateKmsKey" : "DisassociateKmsKey", in, err);
	json_decref(in);
	return rc;
}

/* The service's tagging calls for ptags_sync. */
static const struct ptag_api TAG_API = {
	.service = SVC, .untag_op = "UntagResource", .tag_op = "TagResource",
	.id_member = "resourceArn", .keys_member = "tagKeys", .tags_member = "tags",
};

static int logs_update(const struct provider_ctx *ctx, const char *id, json_t *old,
		       json_t *want, json_t *changed, json_t **out, struct cairn_err *err)
{
	*out = NULL;
	if (pchanged(changed, "retention_in_days") &&
	    set_retention(ctx, id, json_object_get(want, "retention_in_days"), err) != 0)
		return -1;
	if (pchanged(changed, "kms_key_id") &&
	    sync_kms(ctx, id, pstr(want, "kms_key_id"), err) != 0)
		return -1;
	if (pchanged(changed, "tags") &&
	    ptags_sync(ctx, &TAG_API, pstr(old, "arn"), json_object_get(old, "tags"),
		       json_object_get(want, "tags"), err) != 0)
		return -1;
	if (pread_after(ctx, logs_read, "update", "log group", id, want, out, err) != 0)
		return -1;
	return 0;
}

static int logs_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
		       struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "logGroupName", id);
	int rc = pcall_gone(ctx, SVC, "DeleteLogGroup", in, "ResourceNotFoundException", err);

	json_decref(in);
	return rc;
}


/* True if the tag map carries this ctx's ownership tags. */
/* Names are unique per region: adopt the group of that name only if it
 * carries this resource's ownership tags. */
/* The log group called name and its tags (see pnamed_fn). */
static int logs_named(const struct provider_ctx *ctx, const char *name, json_t *want,
		      json_t **out, json_t **tags, struct cairn_err *err)
{
	json_t *found = json_object(), *g, *map = NULL;
	char *arn = NULL;
	int rc = -1;

	*out = NULL;
	if (describe_chunk(ctx, &name, 0, 1, found, err) != 0 ||
	    (!json_object_get(found, name) && describe_prefix(ctx, name, found, err) != 0))
		goto out;
	g = json_object_get(found, name);
	if (g) {
		arn = group_arn(g);
		if (group_tags(ctx, arn, &map, err) != 0)
			goto out;
		if (map) {
			*out = group_attrs(g, map);
			*tags = ptags_to_list(map, "Key", "Value");
		}
	}
	rc = 0;
out:
	free(arn);
	json_decref(map);
	json_decref(found);
	return rc;
}

static int logs_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		     struct cairn_err *err)
{
	return pfind_by_name(ctx, attrs, "name", logs_named, out, err);
}

const struct resource_ops aws_cloudwatch_log_group_ops = {
	.type = "aws_cloudwatch_log_group",
	.create = logs_create,
	.read = logs_read,
	.read_batch = logs_read_batch,
	.update = logs_update,
	.delete = logs_delete,
	.find = logs_find,
};
