/*
 * appautoscaling: the aws_appautoscaling_target and
 * aws_appautoscaling_policy resource types (Application Auto Scaling, json
 * protocol), e.g. an ECS service's desired count between min and max,
 * driven by a target tracking policy on CPU.
 *
 * Both are named by what they scale: a target by its service namespace,
 * resource id and scalable dimension, a policy by those and its name. Their
 * ids are those parts joined by '/' (the form Terraform imports,
 * "ecs/service/CLUSTER/SERVICE/ecs:service:DesiredCount[/POLICY]"), and as
 * AWS keeps one of each per identity, find adopts by identity: registering
 * or putting again only updates. The target takes the ownership tags in
 * RegisterScalableTarget; its tags are read back (ListTagsForResource, one
 * call per target) when the stack gives it some, so a stack that tags no
 * target pays no tag calls. Policies take no tags.
 *
 * The policy configurations are nested objects whose members are the API's
 * names in snake case (Terraform's), converted both ways by one table-free
 * rule plus the one name Terraform spells differently (step_adjustment).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "tagdiff.h"

#define SVC "application-autoscaling"
#define AAS_IDS_MAX 50

static const struct ptag_api TAG_API = {
	.service = SVC, .untag_op = "UntagResource", .tag_op = "TagResource",
	.id_member = "ResourceARN", .keys_member = "TagKeys", .tags_member = "Tags",
	.key_name = NULL, .value_name = NULL,
};

/* Splits "NS/RESOURCE.../DIMENSION[/NAME]" (parts parts: 3 or 4); new strings. */
static int split_id(const char *id, int parts, char **ns, char **res, char **dim, char **name)
{
	const char *first = strchr(id, '/'), *last = strrchr(id, '/'), *dim_start;

	*ns = *res = *dim = NULL;
	if (name)
		*name = NULL;
	if (!first || last == first)
		return -1;
	if (parts == 4) {
		const char *p = last - 1;

		while (p > first && *p != '/')
			p--;
		if (p == first)
			return -1;
		*name = xstrdup(last + 1);
		dim_start = p + 1;
		*dim = xasprintf("%.*s", (int)(last - dim_start), dim_start);
		last = p;
	} else {
		*dim = xstrdup(last + 1);
	}
	*ns = xasprintf("%.*s", (int)(first - id), id);
	*res = xasprintf("%.*s", (int)(last - first - 1), first + 1);
	if (!**ns || !**res || !**dim || (name && !**name)) {
		free(*ns);
		free(*res);
		free(*dim);
		if (name)
			free(*name);
		*ns = *res = *dim = NULL;
		if (name)
			*name = NULL;
		return -1;
	}
	return 0;
}

/* ---- snake_case <-> PascalCase for the policy configurations ---- */

static const char *const renamed[][2] = {
	{"step_adjustment", "StepAdjustments"},
};

static char *to_pascal(const char *k)
{
	struct strbuf sb;
	size_t i;
	int up = 1;

	for (i = 0; i < sizeof(renamed) / sizeof(renamed[0]); i++)
		if (strcmp(k, renamed[i][0]) == 0)
			return xstrdup(renamed[i][1]);
	strbuf_init(&sb);
	for (; *k; k++) {
		if (*k == '_') {
			up = 1;
			continue;
		}
		strbuf_addc(&sb, up ? (char)toupper((unsigned char)*k) : *k);
		up = 0;
	}
	return strbuf_detach(&sb);
}

static char *to_snake(const char *k)
{
	struct strbuf sb;
	size_t i;

	for (i = 0; i < sizeof(renamed) / sizeof(renamed[0]); i++)
		if (strcmp(k, renamed[i][1]) == 0)
			return xstrdup(renamed[i][0]);
	strbuf_init(&sb);
	for (i = 0; k[i]; i++) {
		if (isupper((unsigned char)k[i]) && i > 0)
			strbuf_addc(&sb, '_');
		strbuf_addc(&sb, (char)tolower((unsigned char)k[i]));
	}
	return strbuf_detach(&sb);
}

/* v with every object key renamed by conv, nulls dropped, integral reals
 * as integers (AWS answers 50.0 for a target of 50). New ref. */
static json_t *convert(json_t *v, char *(*conv)(const char *))
{
	json_t *o, *e;
	const char *k;
	size_t i;

	if (json_is_object(v)) {
		o = json_object();
		json_object_foreach(v, k, e) {
			char *nk;

			if (json_is_null(e))
				continue;
			nk = conv(k);
			json_object_set_new(o, nk, convert(e, conv));
			free(nk);
		}
		return o;
	}
	if (json_is_array(v)) {
		o = json_array();
		json_array_foreach(v, i, e)
			json_array_append_new(o, convert(e, conv));
		return o;
	}
	if (json_is_real(v) && json_real_value(v) == (double)(json_int_t)json_real_value(v))
		return json_integer((json_int_t)json_real_value(v));
	return json_incref(v);
}

/* ---- aws_appautoscaling_target ---- */

static json_t *target_attrs(json_t *t, json_t *tags)
{
	json_t *o = json_object(), *susp = json_object_get(t, "SuspendedState");
	const char *ns = pstr_or(json_object_get(t, "ServiceNamespace"), "");
	const char *res = pstr_or(json_object_get(t, "ResourceId"), "");
	const char *dim = pstr_or(json_object_get(t, "ScalableDimension"), "");
	char *id = xasprintf("%s/%s/%s", ns, res, dim);

	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "service_namespace", json_string(ns));
	json_object_set_new(o, "resource_id", json_string(res));
	json_object_set_new(o, "scalable_dimension", json_string(dim));
	json_object_set_new(o, "min_capacity",
			    json_integer(json_integer_value(json_object_get(t, "MinCapacity"))));
	json_object_set_new(o, "max_capacity",
			    json_integer(json_integer_value(json_object_get(t, "MaxCapacity"))));
	json_object_set_new(o, "role_arn", json_string(pstr_or(json_object_get(t, "RoleARN"), "")));
	json_object_set_new(o, "arn", json_string(pstr_or(json_object_get(t, "ScalableTargetARN"),
							    "")));
	json_object_set_new(o, "suspended_state", json_pack(
		"{s:b,s:b,s:b}",
		"dynamic_scaling_in_suspended",
		json_is_true(json_object_get(susp, "DynamicScalingInSuspended")),
		"dynamic_scaling_out_suspended",
		json_is_true(json_object_get(susp, "DynamicScalingOutSuspended")),
		"scheduled_scaling_suspended",
		json_is_true(json_object_get(susp, "ScheduledScalingSuspended"))));
	json_object_set_new(o, "tags", tags ? ptags_strip_owner(tags) : json_object());
	free(id);
	return o;
}

/* The tags of a target as a map (ownership tags included), *tags NULL when
 * it is gone. */
static int target_tags(const struct provider_ctx *ctx, const char *arn, json_t **tags,
		       struct cairn_err *err)
{
	static const char *const gone[] = {"ResourceNotFoundException", NULL};
	json_t *in = json_pack("{s:s}", "ResourceARN", arn), *res = NULL;
	int rc = pcall_found(ctx, SVC, "ListTagsForResource", in, gone, &res, err);
	json_t *t = json_object_get(res, "Tags");

	*tags = !res ? NULL : json_is_object(t) ? json_incref(t) : json_object();
	json_decref(in);
	json_decref(res);
	return rc;
}

/* DescribeScalableTargets of ids[from, to) (one namespace per call): found id -> item. */
static int target_chunk(const struct provider_ctx *ctx, const char *const *ids, size_t from,
			size_t to, json_t *found, struct cairn_err *err)
{
	json_t *byns = json_object(), *list, *in, *items, *t;
	const char *ns;
	size_t i;
	int rc = -1;

	for (i = from; i < to; i++) {
		char *n = NULL, *r = NULL, *d = NULL;

		if (split_id(ids[i], 3, &n, &r, &d, NULL) != 0)
			continue;
		if (!json_object_get(byns, n))
			json_object_set_new(byns, n, json_array());
		json_array_append_new(json_object_get(byns, n), json_string(r));
		free(n);
		free(r);
		free(d);
	}
	json_object_foreach(byns, ns, list) {
		items = NULL;
		in = json_pack("{s:s,s:O}", "ServiceNamespace", ns, "ResourceIds", list);
		if (aws_call_all(ctx->aws, SVC, "DescribeScalableTargets", in, "ScalableTargets",
				 &items, err) != 0) {
			json_decref(in);
			err_prefix(err, "DescribeScalableTargets on %s", ctx->name);
			goto out;
		}
		json_decref(in);
		json_array_foreach(items, i, t) {
			char *id = xasprintf("%s/%s/%s", ns,
					     pstr_or(json_object_get(t, "ResourceId"), ""),
					     pstr_or(json_object_get(t, "ScalableDimension"), ""));

			json_object_set(found, id, t);
			free(id);
		}
		json_decref(items);
	}
	rc = 0;
out:
	json_decref(byns);
	return rc;
}

struct batch {
	const char *const *ids;
	json_t *const *priors;
	json_t **outs;
	json_t *found;
};

/* Tags are read where the stack (or the record) gives the target some. */
static int target_finish(const struct provider_ctx *ctx, size_t i, void *arg,
			 struct cairn_err *err)
{
	struct batch *b = arg;
	json_t *t = json_object_get(b->found, b->ids[i]), *tags = NULL;
	json_t *want = json_object_get(b->priors[i], "tags");

	if (!t)
		return 0;
	if (json_object_size(want) && pstr(t, "ScalableTargetARN")) {
		if (target_tags(ctx, pstr(t, "ScalableTargetARN"), &tags, err) != 0)
			return -1;
		if (!tags)
			return 0;
	}
	b->outs[i] = target_attrs(t, tags);
	json_decref(tags);
	return 0;
}

static int target_read_batch(const struct provider_ctx *const *ctxs, size_t n,
			     const char *const *ids, json_t *const *priors, json_t **outs,
			     struct cairn_err *err)
{
	struct batch b = {ids, priors, outs, json_object()};
	size_t i;
	int rc = -1;

	for (i = 0; i < n; i++)
		outs[i] = NULL;
	if (pread_chunks(ctxs, ids, n, AAS_IDS_MAX, target_chunk, b.found, err) != 0)
		goto out;
	if (peach(ctxs, n, target_finish, &b, err) != 0) {
		pouts_clear(outs, n);
		goto out;
	}
	rc = 0;
out:
	json_decref(b.found);
	return rc;
}

static int target_read(const struct provider_ctx *ctx, const char *id, json_t *prior,
		       json_t **out, struct cairn_err *err)
{
	return target_read_batch(&ctx, 1, &id, &prior, out, err);
}

/* RegisterScalableTarget's input for want (borrowed): new object. */
static json_t *register_input(json_t *want)
{
	json_t *in = json_pack("{s:s,s:s,s:s,s:O,s:O}",
			       "ServiceNamespace", pstr_or(json_object_get(want, "service_namespace"),
							   ""),
			       "ResourceId", pstr_or(json_object_get(want, "resource_id"), ""),
			       "ScalableDimension", pstr_or(json_object_get(want,
									    "scalable_dimension"), ""),
			       "MinCapacity", json_object_get(want, "min_capacity"),
			       "MaxCapacity", json_object_get(want, "max_capacity"));
	json_t *susp = json_object_get(want, "suspended_state");

	if (pstr(want, "role_arn") && *pstr(want, "role_arn"))
		json_object_set_new(in, "RoleARN", json_string(pstr(want, "role_arn")));
	if (json_is_object(susp))
		json_object_set_new(in, "SuspendedState", convert(susp, to_pascal));
	return in;
}

static char *target_id(json_t *attrs)
{
	return xasprintf("%s/%s/%s", pstr_or(json_object_get(attrs, "service_namespace"), ""),
			 pstr_or(json_object_get(attrs, "resource_id"), ""),
			 pstr_or(json_object_get(attrs, "scalable_dimension"), ""));
}

static int target_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
			 struct cairn_err *err)
{
	json_t *in = register_input(attrs);
	char *id = target_id(attrs);
	int rc = -1, made = 0;

	*out = NULL;
	json_object_set_new(in, "Tags", ptags_with_owner(ctx, json_object_get(attrs, "tags")));
	if (pcall_void(ctx, SVC, "RegisterScalableTarget", in, err) != 0)
		goto out;
	made = 1;
	if (target_read(ctx, id, attrs, out, err) != 0)
		goto out;
	if (!*out) {
		err_set(err, CAIRN_ENOTFOUND, "RegisterScalableTarget on %s: target '%s' not found "
			"after registration", ctx->name, id);
		goto out;
	}
	rc = 0;
out:
	if (rc != 0 && made && !*out)
		*out = json_pack("{s:s}", "id", id);
	free(id);
	json_decref(in);
	return rc;
}

/* Registering again changes capacities, role and suspension in place. */
static int target_update(const struct provider_ctx *ctx, const char *id, json_t *old,
			 json_t *want, json_t *changed, json_t **out, struct cairn_err *err)
{
	json_t *in = register_input(want);
	int rc = -1;

	*out = NULL;
	if ((pchanged(changed, "min_capacity") || pchanged(changed, "max_capacity") ||
	     pchanged(changed, "role_arn") || pchanged(changed, "suspended_state")) &&
	    pcall_void(ctx, SVC, "RegisterScalableTarget", in, err) != 0)
		goto out;
	if (pchanged(changed, "tags") &&
	    ptags_sync(ctx, &TAG_API, pstr_or(json_object_get(old, "arn"), ""),
		       json_object_get(old, "tags"), json_object_get(want, "tags"), err) != 0)
		goto out;
	if (pread_after(ctx, target_read, "update", "scalable target", id, want, out, err) != 0)
		goto out;
	rc = 0;
out:
	json_decref(in);
	return rc;
}

static int target_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
			 struct cairn_err *err)
{
	json_t *now = NULL, *in;
	char *ns, *res, *dim;
	int rc;

	if (target_read(ctx, id, NULL, &now, err) != 0)
		return -1;
	if (!now)
		return 0;
	json_decref(now);
	if (split_id(id, 3, &ns, &res, &dim, NULL) != 0)
		return 0;
	in = json_pack("{s:s,s:s,s:s}", "ServiceNamespace", ns, "ResourceId", res,
		       "ScalableDimension", dim);
	rc = pcall_gone(ctx, SVC, "DeregisterScalableTarget", in, "ObjectNotFoundException", err);
	json_decref(in);
	free(ns);
	free(res);
	free(dim);
	return rc;
}

/* One target per identity: what is registered there is this resource's. */
static int target_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		       struct cairn_err *err)
{
	char *id = target_id(attrs);
	int rc = target_read(ctx, id, attrs, out, err);

	free(id);
	return rc;
}

const struct resource_ops aws_appautoscaling_target_ops = {
	.type = "aws_appautoscaling_target",
	.create = target_create,
	.read = target_read,
	.read_batch = target_read_batch,
	.update = target_update,
	.delete = target_delete,
	.find = target_find,
};

/* ---- aws_appautoscaling_policy ---- */

static json_t *policy_attrs(json_t *p)
{
	json_t *o = json_object(), *alarms = json_array(), *a, *cfg;
	const char *ns = pstr_or(json_object_get(p, "ServiceNamespace"), "");
	const char *res = pstr_or(json_object_get(p, "ResourceId"), "");
	const char *dim = pstr_or(json_object_get(p, "ScalableDimension"), "");
	const char *name = pstr_or(json_object_get(p, "PolicyName"), "");
	char *id = xasprintf("%s/%s/%s/%s", ns, res, dim, name);
	size_t i;

	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "name", json_string(name));
	json_object_set_new(o, "service_namespace", json_string(ns));
	json_object_set_new(o, "resource_id", json_string(res));
	json_object_set_new(o, "scalable_dimension", json_string(dim));
	json_object_set_new(o, "policy_type",
			    json_string(pstr_or(json_object_get(p, "PolicyType"), "StepScaling")));
	json_object_set_new(o, "arn", json_string(pstr_or(json_object_get(p, "PolicyARN"), "")));
	json_array_foreach(json_object_get(p, "Alarms"), i, a)
		if (pstr(a, "AlarmARN"))
			json_array_append_new(alarms, json_string(pstr(a, "AlarmARN")));
	json_object_set_new(o, "alarm_arns", alarms);
	cfg = json_object_get(p, "TargetTrackingScalingPolicyConfiguration");
	json_object_set_new(o, "target_tracking_scaling_policy_configuration",
			    cfg ? convert(cfg, to_snake) : json_null());
	cfg = json_object_get(p, "StepScalingPolicyConfiguration");
	json_object_set_new(o, "step_scaling_policy_configuration",
			    cfg ? convert(cfg, to_snake) : json_null());
	free(id);
	return o;
}

/* DescribeScalingPolicies of one policy: *p NULL when it is gone. */
static int policy_describe(const struct provider_ctx *ctx, const char *id, json_t **p,
			   struct cairn_err *err)
{
	char *ns = NULL, *res = NULL, *dim = NULL, *name = NULL;
	json_t *in, *items = NULL, *it;
	size_t i;
	int rc = -1;

	*p = NULL;
	if (split_id(id, 4, &ns, &res, &dim, &name) != 0) {
		err_set(err, CAIRN_EINVAL, "read on %s: '%s' is not a scaling policy id "
			"(NAMESPACE/RESOURCE_ID/DIMENSION/NAME)", ctx->name, id);
		return -1;
	}
	in = json_pack("{s:s,s:s,s:s,s:[s]}", "ServiceNamespace", ns, "ResourceId", res,
		       "ScalableDimension", dim, "PolicyNames", name);
	if (aws_call_all(ctx->aws, SVC, "DescribeScalingPolicies", in, "ScalingPolicies", &items,
			 err) != 0) {
		err_prefix(err, "DescribeScalingPolicies on %s", ctx->name);
		goto out;
	}
	json_array_foreach(items, i, it)
		if (strcmp(pstr_or(json_object_get(it, "PolicyName"), ""), name) == 0)
			*p = json_incref(it);
	rc = 0;
out:
	json_decref(in);
	json_decref(items);
	free(ns);
	free(res);
	free(dim);
	free(name);
	return rc;
}

static int policy_read(const struct provider_ctx *ctx, const char *id, json_t *prior,
		       json_t **out, struct cairn_err *err)
{
	json_t *p = NULL;

	*out = NULL;
	if (policy_describe(ctx, id, &p, err) != 0)
		return -1;
	if (p)
		*out = policy_attrs(p);
	json_decref(p);
	return 0;
}

/*
 * A batch read: DescribeScalingPolicies takes the names of up to 50
 * policies of one target, so the policies are read one call per target
 * (and per 50 names).
 */
static int policy_read_batch(const struct provider_ctx *const *ctxs, size_t n,
			     const char *const *ids, json_t *const *priors, json_t **outs,
			     struct cairn_err *err)
{
	json_t *groups = json_object(), *found = json_object(), *names, *p;
	const char *key;
	size_t i, k;
	int rc = -1;

	for (i = 0; i < n; i++) {
		char *ns = NULL, *res = NULL, *dim = NULL, *name = NULL, *g;

		outs[i] = NULL;
		if (split_id(ids[i], 4, &ns, &res, &dim, &name) != 0) {
			err_set(err, CAIRN_EINVAL, "read on %s: '%s' is not a scaling policy id "
				"(NAMESPACE/RESOURCE_ID/DIMENSION/NAME)", ctxs[i]->name, ids[i]);
			goto out;
		}
		/* '\n' cannot occur in the parts: it separates them in the key */
		g = xasprintf("%s\n%s\n%s", ns, res, dim);
		if (!json_object_get(groups, g))
			json_object_set_new(groups, g, json_pack("{s:I,s:[]}", "ctx", (json_int_t)i,
								 "names"));
		json_array_append_new(json_object_get(json_object_get(groups, g), "names"),
				      json_string(name));
		free(g);
		free(ns);
		free(res);
		free(dim);
		free(name);
	}
	json_object_foreach(groups, key, p) {
		const char *nl1 = strchr(key, '\n'), *nl2 = strchr(nl1 + 1, '\n');
		const struct provider_ctx *ctx = ctxs[json_integer_value(json_object_get(p, "ctx"))];
		char *ns = xasprintf("%.*s", (int)(nl1 - key), key);
		char *res = xasprintf("%.*s", (int)(nl2 - nl1 - 1), nl1 + 1);

		names = json_object_get(p, "names");
		for (k = 0; k < json_array_size(names); k += AAS_IDS_MAX) {
			json_t *chunk = json_array(), *in, *items = NULL, *it;
			size_t j;

			for (j = k; j < k + AAS_IDS_MAX && j < json_array_size(names); j++)
				json_array_append(chunk, json_array_get(names, j));
			in = json_pack("{s:s,s:s,s:s,s:o}", "ServiceNamespace", ns, "ResourceId", res,
				       "ScalableDimension", nl2 + 1, "PolicyNames", chunk);
			if (aws_call_all(ctx->aws, SVC, "DescribeScalingPolicies", in,
					 "ScalingPolicies", &items, err) != 0) {
				err_prefix(err, "DescribeScalingPolicies on %s", ctx->name);
				json_decref(in);
				free(ns);
				free(res);
				goto out;
			}
			json_array_foreach(items, j, it) {
				char *id = xasprintf("%s/%s/%s/%s", ns, res, nl2 + 1,
						     pstr_or(json_object_get(it, "PolicyName"), ""));

				json_object_set(found, id, it);
				free(id);
			}
			json_decref(in);
			json_decref(items);
		}
		free(ns);
		free(res);
	}
	for (i = 0; i < n; i++)
		if ((p = json_object_get(found, ids[i])))
			outs[i] = policy_attrs(p);
	rc = 0;
out:
	if (rc != 0)
		pouts_clear(outs, n);
	json_decref(groups);
	json_decref(found);
	return rc;
}

static char *policy_id(json_t *attrs)
{
	return xasprintf("%s/%s/%s/%s", pstr_or(json_object_get(attrs, "service_namespace"), ""),
			 pstr_or(json_object_get(attrs, "resource_id"), ""),
			 pstr_or(json_object_get(attrs, "scalable_dimension"), ""),
			 pstr_or(json_object_get(attrs, "name"), ""));
}

/* PutScalingPolicy creates or replaces the policy of that name. */
static int policy_put(const struct provider_ctx *ctx, json_t *want, struct cairn_err *err)
{
	/* a target registered a moment ago may not be visible yet */
	static const char *const not_yet[] = {"ObjectNotFoundException", NULL};
	const char *type = pstr_or(json_object_get(want, "policy_type"), "StepScaling");
	json_t *in = json_pack("{s:s,s:s,s:s,s:s,s:s}",
			       "PolicyName", pstr_or(json_object_get(want, "name"), ""),
			       "ServiceNamespace", pstr_or(json_object_get(want, "service_namespace"),
							   ""),
			       "ResourceId", pstr_or(json_object_get(want, "resource_id"), ""),
			       "ScalableDimension", pstr_or(json_object_get(want,
									    "scalable_dimension"), ""),
			       "PolicyType", type);
	json_t *tt = json_object_get(want, "target_tracking_scaling_policy_configuration");
	json_t *step = json_object_get(want, "step_scaling_policy_configuration");
	int rc;

	if (strcmp(type, "TargetTrackingScaling") == 0 && json_is_object(tt))
		json_object_set_new(in, "TargetTrackingScalingPolicyConfiguration",
				    convert(tt, to_pascal));
	if (strcmp(type, "StepScaling") == 0 && json_is_object(step))
		json_object_set_new(in, "StepScalingPolicyConfiguration", convert(step, to_pascal));
	rc = pcall_retry(ctx, SVC, "PutScalingPolicy", in, NULL, not_yet, 60L * 1000, err);
	json_decref(in);
	return rc;
}

static int policy_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
			 struct cairn_err *err)
{
	char *id = policy_id(attrs);
	int rc = -1, made = 0;

	*out = NULL;
	if (policy_put(ctx, attrs, err) != 0)
		goto out;
	made = 1;
	if (pread_back(ctx, policy_read, "PutScalingPolicy", "policy", id, attrs, out, err) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0 && made && !*out)
		*out = json_pack("{s:s}", "id", id);
	free(id);
	return rc;
}

static int policy_update(const struct provider_ctx *ctx, const char *id, json_t *old,
			 json_t *want, json_t *changed, json_t **out, struct cairn_err *err)
{
	*out = NULL;
	if (policy_put(ctx, want, err) != 0 ||
	    pread_after(ctx, policy_read, "update", "scaling policy", id, want, out, err) != 0)
		return -1;
	return 0;
}

static int policy_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
			 struct cairn_err *err)
{
	char *ns = NULL, *res = NULL, *dim = NULL, *name = NULL;
	json_t *p = NULL, *in;
	int rc;

	if (policy_describe(ctx, id, &p, err) != 0)
		return -1;
	if (!p)
		return 0;
	json_decref(p);
	if (split_id(id, 4, &ns, &res, &dim, &name) != 0)
		return 0;
	in = json_pack("{s:s,s:s,s:s,s:s}", "PolicyName", name, "ServiceNamespace", ns,
		       "ResourceId", res, "ScalableDimension", dim);
	rc = pcall_gone(ctx, SVC, "DeleteScalingPolicy", in, "ObjectNotFoundException", err);
	json_decref(in);
	free(ns);
	free(res);
	free(dim);
	free(name);
	return rc;
}

/* One policy per name and target: what is there under the name is ours. */
static int policy_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		       struct cairn_err *err)
{
	char *id = policy_id(attrs);
	int rc = policy_read(ctx, id, attrs, out, err);

	free(id);
	return rc;
}

const struct resource_ops aws_appautoscaling_policy_ops = {
	.type = "aws_appautoscaling_policy",
	.create = policy_create,
	.read = policy_read,
	.read_batch = policy_read_batch,
	.update = policy_update,
	.delete = policy_delete,
	.find = policy_find,
};
