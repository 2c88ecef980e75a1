/*
 * sns: the aws_sns_topic resource type (SNS, query protocol).
 *
 * The id is the topic ARN. Topic attributes come back as a map of strings
 * (GetTopicAttributes): booleans as "true"/"false", the policy as JSON
 * text, decoded here so the diff compares structures. AWS fills in a
 * default access policy when none is given; the schema makes policy
 * optional+computed so that default reads back without a diff.
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "tagdiff.h"

/* An attribute map value as a boolean: "true" (or a JSON true). */
static int attr_true(json_t *v)
{
	return json_is_true(v) || (json_is_string(v) && strcmp(json_string_value(v), "true") == 0);
}

/* The topic name is the last ':'-separated part of its ARN. */
static const char *arn_topic_name(const char *arn)
{
	const char *p = strrchr(arn, ':');

	return p ? p + 1 : arn;
}

/* A policy as SNS takes it (owned text), or NULL when policy is empty. */
/* The topic's attributes map and tag list: *attrs and *tags new refs, both
 * NULL when the topic does not exist. known: the tag list when already
 * read (borrowed), or NULL to ask ListTagsForResource. */
static int topic_get(const struct provider_ctx *ctx, const char *arn, json_t *known,
		     json_t **attrs, json_t **tags, struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "TopicArn", arn), *res = NULL, *tin = NULL;
	json_t *tres = NULL;
	int rc = -1;

	*attrs = NULL;
	*tags = NULL;
	if (pcall(ctx, "sns", "GetTopicAttributes", in, &res, err) != 0) {
		if (perr_is(err, "NotFound") || perr_is(err, "NotFoundException")) {
			err_clear(err);
			rc = 0;
		}
		goto out;
	}
	if (!known) {
		tin = json_pack("{s:s}", "ResourceArn", arn);
		if (pcall(ctx, "sns", "ListTagsForResource", tin, &tres, err) != 0) {
			if (perr_is(err, "ResourceNotFound") || perr_is(err, "NotFound")) {
				err_clear(err);
				rc = 0;
			}
			goto out;
		}
		known = json_object_get(tres, "Tags");
	}
	*attrs = json_incref(json_object_get(res, "Attributes"));
	if (!*attrs)
		*attrs = json_object();
	*tags = known ? json_incref(known) : json_array();
	rc = 0;
out:
	json_decref(in);
	json_decref(res);
	json_decref(tin);
	json_decref(tres);
	return rc;
}

/* Attribute object from GetTopicAttributes' map and the tag list (new ref). */
static json_t *topic_attrs(const char *arn, json_t *attrs, json_t *tags)
{
	json_t *o = json_object(), *v;
	const char *policy = json_string_value(json_object_get(attrs, "Policy"));

	json_object_set_new(o, "id", json_string(arn));
	json_object_set_new(o, "arn", json_string(arn));
	json_object_set_new(o, "name", json_string(arn_topic_name(arn)));
	v = json_object_get(attrs, "Owner");
	json_object_set_new(o, "owner", json_string(json_is_string(v) ? json_string_value(v) : ""));
	v = json_object_get(attrs, "DisplayName");
	json_object_set_new(o, "display_name",
			    json_string(json_is_string(v) ? json_string_value(v) : ""));
	json_object_set_new(o, "fifo_topic", json_boolean(attr_true(json_object_get(attrs,
									   "FifoTopic"))));
	json_object_set_new(o, "content_based_deduplication",
			    json_boolean(attr_true(json_object_get(attrs,
								   "ContentBasedDeduplication"))));
	if (policy && *policy) {
		json_object_set_new(o, "policy", json_doc_parse(policy));
	}
	json_object_set_new(o, "tags", ptags_from_list(tags, "Key", "Value"));
	return o;
}

static int sns_read(const struct provider_ctx *ctx, const char *id, json_t *prior,
		    json_t **out, struct cairn_err *err)
{
	json_t *attrs = NULL, *tags = NULL;

	*out = NULL;
	if (!prior && strncmp(id, "arn:", 4) != 0) {
		err_set(err, CAIRN_EINVAL, "'%s' is not a topic ARN (arn:aws:sns:REGION:"
			"ACCOUNT:NAME)", id);
		return -1;
	}
	if (topic_get(ctx, id, NULL, &attrs, &tags, err) != 0)
		return -1;
	if (attrs)
		*out = topic_attrs(id, attrs, tags);
	json_decref(attrs);
	json_decref(tags);
	return 0;
}

/* A batch read: the topics, and their tags when the tagging API knew them. */
struct topics_read {
	const char *const *ids;
	json_t *const *priors;
	json_t *known;                  /* ARN -> tag list (ptags_bulk) */
	json_t **outs;
};

static int topic_read_one(const struct provider_ctx *ctx, size_t i, void *arg,
			  struct cairn_err *err)
{
	struct topics_read *b = arg;
	json_t *attrs = NULL, *tags = NULL;

	if (topic_get(ctx, b->ids[i], ptags_bulk_confirmed(json_object_get(b->known, b->ids[i]),
							    b->priors[i]), &attrs, &tags, err) != 0)
		return -1;
	b->outs[i] = attrs ? topic_attrs(b->ids[i], attrs, tags) : NULL;
	json_decref(attrs);
	json_decref(tags);
	return 0;
}

/* SNS describes one topic per call; the tags of all come from the tagging API. */
static int sns_read_batch(const struct provider_ctx *const *ctxs, size_t n,
			  const char *const *ids, json_t *const *priors, json_t **outs,
			  struct cairn_err *err)
{
	struct topics_read b = { ids, priors, ptags_bulk(ctxs, n, "sns"), outs };
	int rc = peach(ctxs, n, topic_read_one, &b, err);

	if (rc != 0)
		pouts_clear(outs, n);
	json_decref(b.known);
	return rc;
}

static int set_attr(const struct provider_ctx *ctx, const char *arn, const char *name,
		    const char *value, struct cairn_err *err)
{
	json_t *in = json_pack("{s:s,s:s,s:s}", "TopicArn", arn, "AttributeName", name,
			       "AttributeValue", value);
	int rc = pcall_void(ctx, "sns", "SetTopicAttributes", in, err);

	json_decref(in);
	return rc;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int sns_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		      struct cairn_err *err)
{
	const char *name = json_string_value(json_object_get(attrs, "name"));
	const char *display = json_string_value(json_object_get(attrs, "display_name"));
	int fifo = json_is_true(json_object_get(attrs, "fifo_topic"));
	json_t *tags = ptags_with_owner(ctx, json_object_get(attrs, "tags"));
	json_t *tattrs = json_object(), *in = NULL, *res = NULL, *got = NULL, *tags_got = NULL;
	char *policy = json_doc_text(json_object_get(attrs, "policy"));
	const char *arn = NULL;
	int rc = -1;

	*out = NULL;
	if (fifo != ends_with(name, ".fifo")) {
		err_set(err, CAIRN_EINVAL, "CreateTopic on %s: %s", ctx->name, fifo ?
			"a FIFO topic's name must end in '.fifo'" :
			"a topic whose name ends in '.fifo' needs fifo_topic: true");
		goto out;
	}
	if (display && *display)
		json_object_set_new(tattrs, "DisplayName", json_string(display));
	if (policy)
		json_object_set_new(tattrs, "Policy", json_string(policy));
	if (fifo)
		json_object_set_new(tattrs, "FifoTopic", json_string("true"));
	if (json_is_true(json_object_get(attrs, "content_based_deduplication")))
		json_object_set_new(tattrs, "ContentBasedDeduplication", json_string("true"));
	in = json_pack("{s:s,s:O,s:o}", "Name", name, "Attributes", tattrs,
		       "Tags", ptags_to_list(tags, "Key", "Value"));
	if (pcall(ctx, "sns", "CreateTopic", in, &res, err) != 0)
		goto out;
	arn = json_string_value(json_object_get(res, "TopicArn"));
	if (!arn) {
		err_set(err, CAIRN_EAWS, "CreateTopic on %s: no topic ARN in the answer",
			ctx->name);
		goto out;
	}
	/* The tags are what was just set: only the attributes AWS fills in
	 * (owner, its default policy) are read back. */
	if (topic_get(ctx, arn, json_object_get(in, "Tags"), &got, &tags_got, err) != 0)
		goto out;
	if (!got) {
		err_set(err, CAIRN_ENOTFOUND, "CreateTopic on %s: topic '%s' not found "
			"after creation", ctx->name, arn);
		goto out;
	}
	*out = topic_attrs(arn, got, tags_got);
	rc = 0;
out:
	json_decref(got);
	json_decref(tags_got);
	if (rc != 0 && arn) {
		pcreated_partial(out, arn, "arn");
		json_object_set_new(*out, "name", json_string(name));
	}
	free(policy);
	json_decref(tags);
	json_decref(tattrs);
	json_decref(in);
	json_decref(res);
	return rc;
}

/* The service's tagging calls for ptags_sync. */
static const struct ptag_api TAG_API = {
	.service = "sns", .untag_op = "UntagResource", .tag_op = "TagResource",
	.id_member = "ResourceArn", .keys_member = "TagKeys", .tags_member = "Tags",
	.key_name = "Key", .value_name = "Value",
};

static int sns_update(const struct provider_ctx *ctx, const char *id, json_t *old,
		      json_t *want, json_t *changed, json_t **out, struct cairn_err *err)
{
	const char *display = json_string_value(json_object_get(want, "display_name"));
	char *policy = json_doc_text(json_object_get(want, "policy"));
	int rc = -1;

	*out = NULL;
	if (pchanged(changed, "display_name") &&
	    set_attr(ctx, id, "DisplayName", display ? display : "", err) != 0)
		goto out;
	if (pchanged(changed, "policy") && policy &&
	    set_attr(ctx, id, "Policy", policy, err) != 0)
		goto out;
	if (pchanged(changed, "content_based_deduplication") &&
	    set_attr(ctx, id, "ContentBasedDeduplication",
		     json_is_true(json_object_get(want, "content_based_deduplication")) ?
		     "true" : "false", err) != 0)
		goto out;
	if (pchanged(changed, "tags") &&
	    ptags_sync(ctx, &TAG_API, id, json_object_get(old, "tags"),
		       json_object_get(want, "tags"), err) != 0)
		goto out;
	if (pread_after(ctx, sns_read, "update", "topic", id, want, out, err) != 0)
		goto out;
	rc = 0;
out:
	free(policy);
	return rc;
}

static int sns_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
		      struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "TopicArn", id);
	int rc = pcall_void(ctx, "sns", "DeleteTopic", in, err);

	if (rc != 0 && (perr_is(err, "NotFound") || perr_is(err, "NotFoundException"))) {
		err_clear(err);
		rc = 0;
	}
	json_decref(in);
	return rc;
}


/* Topic names are unique per account and region: look the name up in
 * ListTopics, and adopt it only if our ownership tags are on it. */
static int sns_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		    struct cairn_err *err)
{
	const char *name = json_string_value(json_object_get(attrs, "name"));
	json_t *topics = NULL, *t, *tattrs = NULL, *tags = NULL;
	const char *arn = NULL;
	size_t i;
	int rc = -1;

	*out = NULL;
	if (!name)
		return 0;
	if (aws_call_all(ctx->aws, "sns", "ListTopics", NULL, "Topics", &topics, err) != 0) {
		err_prefix(err, "ListTopics on %s", ctx->name);
		goto out;
	}
	json_array_foreach(topics, i, t) {
		const char *a = json_string_value(json_object_get(t, "TopicArn"));

		if (a && strcmp(arn_topic_name(a), name) == 0)
			arn = a;
	}
	if (arn) {
		if (topic_get(ctx, arn, NULL, &tattrs, &tags, err) != 0)
			goto out;
		if (tattrs && ptags_owned_by(tags, "Key", "Value", ctx))
			*out = topic_attrs(arn, tattrs, tags);
	}
	rc = 0;
out:
	json_decref(topics);
	json_decref(tattrs);
	json_decref(tags);
	return rc;
}

const struct resource_ops aws_sns_topic_ops = {
	.type = "aws_sns_topic",
	.create = sns_create,
	.read = sns_read,
	.read_batch = sns_read_batch,
	.update = sns_update,
	.delete = sns_delete,
	.find = sns_find,
};
