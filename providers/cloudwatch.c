/*
 * cloudwatch: the aws_cloudwatch_metric_alarm resource type (CloudWatch,
 * query protocol).
 *
 * The id is the alarm name. PutMetricAlarm both creates and replaces an
 * alarm's whole definition, so an update sends every attribute again; it
 * ignores Tags on an existing alarm, so tags change through
 * TagResource/UntagResource. Reads batch DescribeAlarms (100 names a
 * call); tags need ListTagsForResource per alarm. The action lists are
 * sets to AWS: they read back in the order last written.
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "tagdiff.h"

#define SVC "cloudwatch"
#define CW_DESCRIBE_MAX 100

/* Attribute object of one MetricAlarm, its tag list and the prior
 * attributes (may be NULL), all borrowed. New ref. */
static json_t *alarm_attrs(json_t *a, json_t *tags, json_t *prior)
{
	json_t *o = json_object(), *dims = json_object(), *d, *v;
	const char *desc = pstr(a, "AlarmDescription"), *tmd = pstr(a, "TreatMissingData");
	size_t i;

	json_object_set_new(o, "id", json_string(pstr(a, "AlarmName")));
	json_object_set_new(o, "alarm_name", json_string(pstr(a, "AlarmName")));
	json_object_set_new(o, "arn", json_string(pstr(a, "AlarmArn") ? pstr(a, "AlarmArn") : ""));
	json_object_set_new(o, "comparison_operator",
			    json_string(pstr(a, "ComparisonOperator") ?
					pstr(a, "ComparisonOperator") : ""));
	json_object_set_new(o, "evaluation_periods",
			    json_integer(json_integer_value(json_object_get(a, "EvaluationPeriods"))));
	json_object_set_new(o, "metric_name",
			    json_string(pstr(a, "MetricName") ? pstr(a, "MetricName") : ""));
	json_object_set_new(o, "namespace",
			    json_string(pstr(a, "Namespace") ? pstr(a, "Namespace") : ""));
	json_object_set_new(o, "period",
			    json_integer(json_integer_value(json_object_get(a, "Period"))));
	json_object_set_new(o, "statistic",
			    json_string(pstr(a, "Statistic") ? pstr(a, "Statistic") : ""));
	if (pstr(a, "Unit"))
		json_object_set_new(o, "unit", json_string(pstr(a, "Unit")));
	v = json_object_get(a, "Threshold");
	if (json_number_value(v) == (double)(json_int_t)json_number_value(v))
		json_object_set_new(o, "threshold",
				    json_integer((json_int_t)json_number_value(v)));
	else
		json_object_set_new(o, "threshold", json_real(json_number_value(v)));
	json_object_set_new(o, "alarm_description", json_string(desc ? desc : ""));
	v = json_object_get(a, "ActionsEnabled");
	json_object_set_new(o, "actions_enabled", json_boolean(!v || json_is_true(v)));
	json_object_set_new(o, "alarm_actions", porder_like(json_object_get(a, "AlarmActions"),
							   json_object_get(prior, "alarm_actions"), 0));
	json_object_set_new(o, "ok_actions", porder_like(json_object_get(a, "OKActions"),
							json_object_get(prior, "ok_actions"), 0));
	json_object_set_new(o, "insufficient_data_actions",
			    porder_like(json_object_get(a, "InsufficientDataActions"),
				       json_object_get(prior, "insufficient_data_actions"), 0));
	json_array_foreach(json_object_get(a, "Dimensions"), i, d)
		if (pstr(d, "Name"))
			json_object_set_new(dims, pstr(d, "Name"),
					    json_string(pstr(d, "Value") ? pstr(d, "Value") : ""));
	json_object_set_new(o, "dimensions", dims);
	/* AWS leaves it out unless it was set (then all evaluation periods
	 * count); so does the attribute object, and a stack that leaves it
	 * out sees no difference. */
	v = json_object_get(a, "DatapointsToAlarm");
	if (json_is_integer(v))
		json_object_set(o, "datapoints_to_alarm", v);
	json_object_set_new(o, "treat_missing_data", json_string(tmd ? tmd : "missing"));
	json_object_set_new(o, "tags", ptags_from_list(tags, "Key", "Value"));
	return o;
}

/* The tag list of an alarm: *tags new array, NULL when it is gone. */
static int alarm_tags(const struct provider_ctx *ctx, const char *arn, json_t **tags,
		      struct cairn_err *err)
{
	static const char *const gone[] = {"ResourceNotFound", "ResourceNotFoundException", NULL};
	json_t *in = json_pack("{s:s}", "ResourceARN", arn), *res = NULL, *t;
	int rc = pcall_found(ctx, SVC, "ListTagsForResource", in, gone, &res, err);

	t = json_object_get(res, "Tags");
	*tags = !res ? NULL : json_is_array(t) ? json_incref(t) : json_array();
	json_decref(in);
	json_decref(res);
	return rc;
}

/* DescribeAlarms of names[from, to) into found (name -> MetricAlarm). */
static int describe_chunk(const struct provider_ctx *ctx, const char *const *names, size_t from,
			  size_t to, json_t *found, struct cairn_err *err)
{
	json_t *list = json_array(), *in, *items = NULL, *a;
	size_t i;
	int rc = -1;

	for (i = from; i < to; i++)
		json_array_append_new(list, json_string(names[i]));
	in = json_pack("{s:o,s:[s]}", "AlarmNames", list, "AlarmTypes", "MetricAlarm");
	if (aws_call_all(ctx->aws, SVC, "DescribeAlarms", in, "MetricAlarms", &items, err) != 0) {
		err_prefix(err, "DescribeAlarms on %s", ctx->name);
		goto out;
	}
	json_array_foreach(items, i, a)
		if (pstr(a, "AlarmName"))
			json_object_set(found, pstr(a, "AlarmName"), a);
	rc = 0;
out:
	json_decref(in);
	json_decref(items);
	return rc;
}

static int read_names(const struct provider_ctx *const *ctxs, size_t n, const char *const *names,
		      json_t *const *priors, json_t **outs, struct cairn_err *err)
{
	json_t *found = json_object();
	size_t i;
	int rc = -1;

	for (i = 0; i < n; i++)
		outs[i] = NULL;
	if (pread_chunks(ctxs, names, n, CW_DESCRIBE_MAX, describe_chunk, found, err) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		json_t *a = json_object_get(found, names[i]), *tags = NULL;

		if (!a || !pstr(a, "AlarmArn"))
			continue;
		if (alarm_tags(ctxs[i], pstr(a, "AlarmArn"), &tags, err) != 0)
			goto out;
		if (tags)
			outs[i] = alarm_attrs(a, tags, priors ? priors[i] : NULL);
		json_decref(tags);
	}
	rc = 0;
out:
	if (rc != 0)
		pouts_clear(outs, n);
	json_decref(found);
	return rc;
}

static int cw_read_batch(const struct provider_ctx *const *ctxs, size_t n, const char *const *ids,
			 json_t *const *priors, json_t **outs, struct cairn_err *err)
{
	return read_names(ctxs, n, ids, priors, outs, err);
}

static int cw_read(const struct provider_ctx *ctx, const char *id, json_t *prior, json_t **out,
		   struct cairn_err *err)
{
	return read_names(&ctx, 1, &id, &prior, out, err);
}

/* PutMetricAlarm's input for attrs (borrowed), without tags: new object. */
static json_t *put_input(json_t *attrs)
{
	json_t *in = json_object(), *dims = json_array(), *v;
	const char *k;

	json_object_set_new(in, "AlarmName", json_string(pstr(attrs, "alarm_name")));
	json_object_set_new(in, "ComparisonOperator",
			    json_string(pstr(attrs, "comparison_operator")));
	json_object_set(in, "EvaluationPeriods", json_object_get(attrs, "evaluation_periods"));
	json_object_set_new(in, "MetricName", json_string(pstr(attrs, "metric_name")));
	json_object_set_new(in, "Namespace", json_string(pstr(attrs, "namespace")));
	json_object_set(in, "Period", json_object_get(attrs, "period"));
	json_object_set_new(in, "Statistic", json_string(pstr(attrs, "statistic")));
	json_object_set(in, "Threshold", json_object_get(attrs, "threshold"));
	if (pstr(attrs, "unit") && *pstr(attrs, "unit"))
		json_object_set_new(in, "Unit", json_string(pstr(attrs, "unit")));
	if (pstr(attrs, "alarm_description"))
		json_object_set_new(in, "AlarmDescription",
				    json_string(pstr(attrs, "alarm_description")));
	json_object_set_new(in, "ActionsEnabled",
			    json_boolean(!json_is_false(json_object_get(attrs, "actions_enabled"))));
	json_object_set(in, "AlarmActions", json_object_get(attrs, "alarm_actions"));
	json_object_set(in, "OKActions", json_object_get(attrs, "ok_actions"));
	json_object_set(in, "InsufficientDataActions",
			json_object_get(attrs, "insufficient_data_actions"));
	json_object_foreach(json_object_get(attrs, "dimensions"), k, v)
		json_array_append_new(dims, json_pack("{s:s,s:O}", "Name", k, "Value", v));
	json_object_set_new(in, "Dimensions", dims);
	if (json_is_number(json_object_get(attrs, "datapoints_to_alarm")))
		json_object_set(in, "DatapointsToAlarm", json_object_get(attrs,
									 "datapoints_to_alarm"));
	if (pstr(attrs, "treat_missing_data"))
		json_object_set_new(in, "TreatMissingData",
				    json_string(pstr(attrs, "treat_missing_data")));
	return in;
}

static int cw_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		     struct cairn_err *err)
{
	const char *name = pstr(attrs, "alarm_name");
	json_t *tags = ptags_with_owner(ctx, json_object_get(attrs, "tags"));
	json_t *in = put_input(attrs);
	int rc = -1, created = 0;

	*out = NULL;
	json_object_set_new(in, "Tags", ptags_to_list(tags, "Key", "Value"));
	if (pcall_void(ctx, SVC, "PutMetricAlarm", in, err) != 0)
		goto out;
	created = 1;
	if (pread_back(ctx, cw_read, "PutMetricAlarm", "alarm", name, attrs, out, err) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0 && created && !*out)
		pcreated_partial(out, name, "alarm_name");
	json_decref(tags);
	json_decref(in);
	return rc;
}

/* The service's tagging calls for ptags_sync. */
static const struct ptag_api TAG_API = {
	.service = SVC, .untag_op = "UntagResource", .tag_op = "TagResource",
	.id_member = "ResourceARN", .keys_member = "TagKeys", .tags_member = "Tags",
	.key_name = "Key", .value_name = "Value",
};

static int cw_update(const struct provider_ctx *ctx, const char *id, json_t *old, json_t *want,
		     json_t *changed, json_t **out, struct cairn_err *err)
{
	json_t *in = NULL, *c;
	size_t i;
	int rc = -1, put = 0;

	*out = NULL;
	json_array_foreach(changed, i, c)
		if (strcmp(json_string_value(c), "tags") != 0)
			put = 1;
	if (put) {
		in = put_input(want);
		json_object_set_new(in, "AlarmName", json_string(id));
		if (pcall_void(ctx, SVC, "PutMetricAlarm", in, err) != 0)
			goto out;
	}
	if (pchanged(changed, "tags") &&
	    ptags_sync(ctx, &TAG_API, pstr(old, "arn"), json_object_get(old, "tags"),
		       json_object_get(want, "tags"), err) != 0)
		goto out;
	if (pread_after(ctx, cw_read, "update", "alarm", id, want, out, err) != 0)
		goto out;
	rc = 0;
out:
	json_decref(in);
	return rc;
}

/* AWS answers ResourceNotFound for a name that no longer exists: gone is success. */
static int cw_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
		     struct cairn_err *err)
{
	json_t *in = json_pack("{s:[s]}", "AlarmNames", id);
	int rc = pcall_gone(ctx, SVC, "DeleteAlarms", in, "ResourceNotFound", err);

	json_decref(in);
	return rc;
}


/* Names are unique per region: adopt the alarm of that name only if it
 * carries this resource's ownership tags. */
/* The alarm called name and its tags (see pnamed_fn). */
static int cw_named(const struct provider_ctx *ctx, const char *name, json_t *want,
		    json_t **out, json_t **tags, struct cairn_err *err)
{
	json_t *found = json_object(), *a;
	int rc = -1;

	*out = NULL;
	if (describe_chunk(ctx, &name, 0, 1, found, err) != 0)
		goto out;
	a = json_object_get(found, name);
	if (a && pstr(a, "AlarmArn")) {
		if (alarm_tags(ctx, pstr(a, "AlarmArn"), tags, err) != 0)
			goto out;
		if (*tags)
			*out = alarm_attrs(a, *tags, want);
	}
	rc = 0;
out:
	json_decref(found);
	return rc;
}

static int cw_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		   struct cairn_err *err)
{
	return pfind_by_name(ctx, attrs, "alarm_name", cw_named, out, err);
}

const struct resource_ops aws_cloudwatch_metric_alarm_ops = {
	.type = "aws_cloudwatch_metric_alarm",
	.create = cw_create,
	.read = cw_read,
	.read_batch = cw_read_batch,
	.update = cw_update,
	.delete = cw_delete,
	.find = cw_find,
};
