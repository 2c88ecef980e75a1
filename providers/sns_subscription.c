/*
 * sns_subscription: the aws_sns_topic_subscription resource type (SNS,
 * query protocol).
 *
 * The id is the subscription ARN. Subscriptions carry no tags; a
 * subscription is unique per (topic, protocol, endpoint) and Subscribe is
 * idempotent on that triple, so find looks it up there. Attributes come
 * back as a map of strings: RawMessageDelivery as "true"/"false", the
 * filter policy as JSON text (decoded here so the diff compares
 * structures).
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"

/* The filter policy as SNS takes it (owned text; "" removes it). */
static char *policy_text(json_t *policy)
{
	char *t = json_doc_text(policy);

	return t ? t : xstrdup("");
}

/* GetSubscriptionAttributes' map -> attribute object (new ref). */
static json_t *sub_attrs(const char *arn, json_t *a)
{
	json_t *o = json_object();
	const char *text = pstr_or(json_object_get(a, "FilterPolicy"), "");

	json_object_set_new(o, "id", json_string(arn));
	json_object_set_new(o, "arn", json_string(arn));
	json_object_set_new(o, "topic_arn", json_string(pstr_or(json_object_get(a, "TopicArn"), "")));
	json_object_set_new(o, "protocol", json_string(pstr_or(json_object_get(a, "Protocol"), "")));
	json_object_set_new(o, "endpoint", json_string(pstr_or(json_object_get(a, "Endpoint"), "")));
	json_object_set_new(o, "owner_id", json_string(pstr_or(json_object_get(a, "Owner"), "")));
	json_object_set_new(o, "raw_message_delivery", json_boolean(
		strcmp(pstr_or(json_object_get(a, "RawMessageDelivery"), "false"), "true") == 0));
	/* Text that is not JSON is kept as text so drift still shows. */
	json_object_set_new(o, "filter_policy", json_doc_parse(text));
	return o;
}

static int sub_read(const struct provider_ctx *ctx, const char *id, json_t *prior,
		    json_t **out, struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "SubscriptionArn", id), *res = NULL;
	int rc = -1;

	*out = NULL;
	if (pcall(ctx, "sns", "GetSubscriptionAttributes", in, &res, err) != 0) {
		if (perr_is(err, "NotFound") || perr_is(err, "NotFoundException")) {
			err_clear(err);
			rc = 0;
		}
		goto out;
	}
	*out = sub_attrs(id, json_object_get(res, "Attributes"));
	rc = 0;
out:
	json_decref(in);
	json_decref(res);
	return rc;
}

/* SetSubscriptionAttributes for one attribute. */
static int set_attr(const struct provider_ctx *ctx, const char *arn, const char *name,
		    const char *value, struct cairn_err *err)
{
	json_t *in = json_pack("{s:s,s:s,s:s}", "SubscriptionArn", arn, "AttributeName", name,
			       "AttributeValue", value);
	json_t *res = NULL;
	int rc = pcall(ctx, "sns", "SetSubscriptionAttributes", in, &res, err);

	json_decref(in);
	json_decref(res);
	return rc;
}

static int sub_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		      struct cairn_err *err)
{
	json_t *sattrs = json_object(), *in, *res = NULL;
	json_t *policy = json_object_get(attrs, "filter_policy");
	const char *arn;
	int rc = -1;

	*out = NULL;
	/* Both go in the Subscribe call itself, so no message is delivered
	 * with the wrong envelope or unfiltered. */
	if (json_is_true(json_object_get(attrs, "raw_message_delivery")))
		json_object_set_new(sattrs, "RawMessageDelivery", json_string("true"));
	if (!json_is_nothing(policy)) {
		char *text = policy_text(policy);

		json_object_set_new(sattrs, "FilterPolicy", json_string(text));
		free(text);
	}
	in = json_pack("{s:s,s:s,s:s,s:b}",
		       "TopicArn", pstr_or(json_object_get(attrs, "topic_arn"), ""),
		       "Protocol", pstr_or(json_object_get(attrs, "protocol"), ""),
		       "Endpoint", pstr_or(json_object_get(attrs, "endpoint"), ""),
		       "ReturnSubscriptionArn", 1);
	if (json_object_size(sattrs) > 0)
		json_object_set(in, "Attributes", sattrs);
	if (pcall(ctx, "sns", "Subscribe", in, &res, err) != 0)
		goto out;
	arn = json_string_value(json_object_get(res, "SubscriptionArn"));
	if (!arn || !strchr(arn, ':')) {
		err_set(err, CAIRN_EAWS, "Subscribe on %s: no subscription ARN in the answer "
			"(got '%s')", ctx->name, arn ? arn : "");
		goto out;
	}
	if (pread_created(ctx, sub_read, "Subscribe", "subscription", arn, NULL, "arn", out,
			  err) != 0)
		goto out;
	rc = 0;
out:
	json_decref(sattrs);
	json_decref(in);
	json_decref(res);
	return rc;
}

static int sub_update(const struct provider_ctx *ctx, const char *id, json_t *old,
		      json_t *want, json_t *changed, json_t **out, struct cairn_err *err)
{
	*out = NULL;
	if (pchanged(changed, "raw_message_delivery") &&
	    set_attr(ctx, id, "RawMessageDelivery",
		     json_is_true(json_object_get(want, "raw_message_delivery")) ? "true" : "false",
		     err) != 0)
		return -1;
	if (pchanged(changed, "filter_policy")) {
		json_t *p = json_object_get(want, "filter_policy");
		char *text = json_is_nothing(p) ? xstrdup("") : policy_text(p);
		int rc = set_attr(ctx, id, "FilterPolicy", text, err);

		free(text);
		if (rc != 0)
			return -1;
	}
	if (pread_after(ctx, sub_read, "SetSubscriptionAttributes", "subscription",
			id, NULL, out, err) != 0)
		return -1;
	return 0;
}

static int sub_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
		      struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "SubscriptionArn", id), *res = NULL;
	int rc = 0;

	if (pcall(ctx, "sns", "Unsubscribe", in, &res, err) != 0) {
		if (perr_is(err, "NotFound") || perr_is(err, "NotFoundException"))
			err_clear(err);
		else
			rc = -1;
	}
	json_decref(in);
	json_decref(res);
	return rc;
}


/* The subscription of the topic with this protocol and endpoint. */
static int sub_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		    struct cairn_err *err)
{
	const char *topic = json_string_value(json_object_get(attrs, "topic_arn"));
	const char *protocol = json_string_value(json_object_get(attrs, "protocol"));
	const char *endpoint = json_string_value(json_object_get(attrs, "endpoint"));
	json_t *in, *subs = NULL, *s;
	size_t i;
	int rc = -1;

	*out = NULL;
	if (!topic || !protocol || !endpoint)
		return 0;
	in = json_pack("{s:s}", "TopicArn", topic);
	if (aws_call_all(ctx->aws, "sns", "ListSubscriptionsByTopic", in, "Subscriptions",
			 &subs, err) != 0) {
		if (perr_is(err, "NotFound")) {
			err_clear(err);
			rc = 0;
		} else {
			err_prefix(err, "ListSubscriptionsByTopic on %s", ctx->name);
		}
		goto out;
	}
	json_array_foreach(subs, i, s) {
		const char *arn = json_string_value(json_object_get(s, "SubscriptionArn"));

		if (arn && strchr(arn, ':') &&
		    strcmp(pstr_or(json_object_get(s, "Protocol"), ""), protocol) == 0 &&
		    strcmp(pstr_or(json_object_get(s, "Endpoint"), ""), endpoint) == 0) {
			if (sub_read(ctx, arn, NULL, out, err) != 0)
				goto out;
			break;
		}
	}
	rc = 0;
out:
	json_decref(in);
	json_decref(subs);
	return rc;
}

const struct resource_ops aws_sns_topic_subscription_ops = {
	.type = "aws_sns_topic_subscription",
	.create = sub_create,
	.read = sub_read,
	.update = sub_update,
	.delete = sub_delete,
	.find = sub_find,
};
