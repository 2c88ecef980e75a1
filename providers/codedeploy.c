/*
 * codedeploy: the aws_codedeploy_app and aws_codedeploy_deployment_group
 * resource types (CodeDeploy, json protocol), made for ECS blue/green:
 * a deployment group names the ECS service, the two target groups and
 * the production (and optional test) listener it shifts traffic between.
 *
 * An application's id is its name; a new name is UpdateApplication, the
 * compute platform cannot change. A deployment group's id is
 * "APP:GROUP" (Terraform's import id); every change but the application
 * is one UpdateDeploymentGroup carrying the whole group, a new name
 * included. Both are created with the ownership tags and read from
 * Get* plus ListTagsForResource (the Get answers carry no ARN: it is
 * built from the region, the account and the names, as AWS forms it).
 * The nested blocks are converted through blockmap tables.
 */
#include <stdlib.h>
#include <string.h>

#include "blockmap.h"
#include "common.h"
#include "tagdiff.h"

#define SVC "codedeploy"

static const char *const GONE[] = {"ApplicationDoesNotExistException",
				   "DeploymentGroupDoesNotExistException", NULL};

static const struct ptag_api TAG_API = {
	.service = SVC, .untag_op = "UntagResource", .tag_op = "TagResource",
	.id_member = "ResourceArn", .keys_member = "TagKeys", .tags_member = "Tags",
	.key_name = "Key", .value_name = "Value",
};

/* arn:PARTITION:codedeploy:REGION:ACCOUNT:KIND:NAME, owned; NULL with err
 * when the account is unknown. */
static char *cd_arn(const struct provider_ctx *ctx, const char *kind, const char *name,
		    struct cairn_err *err)
{
	const char *region = aws_client_region(ctx->aws), *acct = aws_account_id(ctx->aws, err);
	const char *part = strncmp(region, "cn-", 3) == 0 ? "aws-cn" :
			   strncmp(region, "us-gov-", 7) == 0 ? "aws-us-gov" : "aws";

	if (!acct)
		return NULL;
	return xasprintf("arn:%s:codedeploy:%s:%s:%s:%s", part, region, acct, kind, name);
}

/* The tag list of arn: *tags new array, NULL when the resource is gone. */
static int cd_tags(const struct provider_ctx *ctx, const char *arn, json_t **tags,
		   struct cairn_err *err)
{
	static const char *const gone[] = {"ResourceArnRequiredException",
					   "ApplicationDoesNotExistException",
					   "DeploymentGroupDoesNotExistException",
					   "ResourceNotFoundException", NULL};
	json_t *in = json_pack("{s:s}", "ResourceArn", arn), *res = NULL;
	int rc = pcall_found(ctx, SVC, "ListTagsForResource", in, gone, &res, err);

	*tags = NULL;
	if (rc == 0 && res)
		*tags = json_is_array(json_object_get(res, "Tags")) ?
			json_incref(json_object_get(res, "Tags")) : json_array();
	json_decref(in);
	json_decref(res);
	return rc;
}

/* ---- aws_codedeploy_app ---- */

/* Reads application name: *out, *tags (raw list, may be NULL) new refs;
 * both NULL when gone. */
static int app_get(const struct provider_ctx *ctx, const char *name, json_t **out,
		   json_t **tags, struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "applicationName", name), *res = NULL, *a, *o;
	char *arn = NULL;
	int rc = -1;

	*out = NULL;
	if (tags)
		*tags = NULL;
	if (pcall_found(ctx, SVC, "GetApplication", in, GONE, &res, err) != 0)
		goto out;
	a = json_object_get(res, "application");
	if (!json_is_object(a)) {
		rc = 0;
		goto out;
	}
	arn = cd_arn(ctx, "application", name, err);
	if (!arn)
		goto out;
	o = json_object();
	json_object_set_new(o, "id", json_string(name));
	json_object_set_new(o, "name", json_string(name));
	json_object_set_new(o, "compute_platform",
			    json_string(pstr_or(json_object_get(a, "computePlatform"), "Server")));
	json_object_set_new(o, "application_id", pstr_json(json_object_get(a, "applicationId")));
	json_object_set_new(o, "arn", json_string(arn));
	*out = o;
	{
		json_t *t = NULL;

		if (cd_tags(ctx, arn, &t, err) != 0)
			goto out;
		json_object_set_new(o, "tags", ptags_from_list(t, "Key", "Value"));
		if (tags)
			*tags = t ? t : json_array();
		else
			json_decref(t);
	}
	rc = 0;
out:
	if (rc != 0) {
		json_decref(*out);
		*out = NULL;
	}
	free(arn);
	json_decref(in);
	json_decref(res);
	return rc;
}

static int app_read(const struct provider_ctx *ctx, const char *id, json_t *prior, json_t **out,
		    struct cairn_err *err)
{
	return app_get(ctx, id, out, NULL, err);
}

static int app_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		      struct cairn_err *err)
{
	const char *name = pstr(attrs, "name");
	json_t *tags = ptags_with_owner(ctx, json_object_get(attrs, "tags"));
	json_t *in = json_pack("{s:s,s:s,s:o}", "applicationName", name, "computePlatform",
			       pstr_or(json_object_get(attrs, "compute_platform"), "Server"),
			       "tags", ptags_to_list(tags, "Key", "Value"));
	int rc = -1, created = 0;

	*out = NULL;
	if (pcall_void(ctx, SVC, "CreateApplication", in, err) != 0)
		goto out;
	created = 1;
	if (pread_back(ctx, app_read, "CreateApplication", "application", name, attrs, out, err) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0 && created && !*out)
		*out = json_pack("{s:s,s:s}", "id", name, "name", name);
	json_decref(tags);
	json_decref(in);
	return rc;
}

static int app_update(const struct provider_ctx *ctx, const char *id, json_t *old, json_t *want,
		      json_t *changed, json_t **out, struct cairn_err *err)
{
	const char *name = pstr(want, "name");
	json_t *in = NULL;
	char *arn = NULL;
	int rc = -1;

	*out = NULL;
	if (pchanged(changed, "name")) {
		in = json_pack("{s:s,s:s}", "applicationName", id, "newApplicationName", name);
		if (pcall_void(ctx, SVC, "UpdateApplication", in, err) != 0)
			goto out;
	}
	if (pchanged(changed, "tags")) {
		arn = cd_arn(ctx, "application", name, err);
		if (!arn || ptags_sync(ctx, &TAG_API, arn, json_object_get(old, "tags"),
				       json_object_get(want, "tags"), err) != 0)
			goto out;
	}
	if (pread_after(ctx, app_read, "update", "application", name, want, out, err) != 0)
		goto out;
	rc = 0;
out:
	json_decref(in);
	free(arn);
	return rc;
}

/* Deleting an application deletes its deployment groups with it. */
static int app_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
		      struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "applicationName", id);
	int rc = pcall_gone(ctx, SVC, "DeleteApplication", in, "ApplicationDoesNotExistException",
			    err);

	json_decref(in);
	return rc;
}

static int app_named(const struct provider_ctx *ctx, const char *name, json_t *want,
		     json_t **out, json_t **tags, struct cairn_err *err)
{
	return app_get(ctx, name, out, tags, err);
}

/* Names are unique per region: adopt the application of that name only if
 * it carries this resource's ownership tags. */
static int app_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		    struct cairn_err *err)
{
	return pfind_by_name(ctx, attrs, "name", app_named, out, err);
}

const struct resource_ops aws_codedeploy_app_ops = {
	.type = "aws_codedeploy_app",
	.create = app_create,
	.read = app_read,
	.update = app_update,
	.delete = app_delete,
	.find = app_find,
};

/* ---- aws_codedeploy_deployment_group ---- */

#define END {NULL, NULL, 0, NULL, NULL, 0}

static const struct bm_field STYLE[] = {
	{"deployment_option", "deploymentOption", BM_STR, NULL, NULL, 0},
	{"deployment_type", "deploymentType", BM_STR, NULL, NULL, 0},
	END,
};
static const struct bm_field READY[] = {
	{"action_on_timeout", "actionOnTimeout", BM_STR, NULL, NULL, 0},
	{"wait_time_in_minutes", "waitTimeInMinutes", BM_NUM, NULL, NULL, 0},
	END,
};
static const struct bm_field GREEN[] = {
	{"action", "action", BM_STR, NULL, NULL, 0},
	END,
};
static const struct bm_field TERMINATE[] = {
	{"action", "action", BM_STR, NULL, NULL, 0},
	{"termination_wait_time_in_minutes", "terminationWaitTimeInMinutes", BM_NUM, NULL, NULL, 0},
	END,
};
static const struct bm_field BLUE_GREEN[] = {
	{"deployment_ready_option", "deploymentReadyOption", BM_BLOCK, READY, NULL, 0},
	{"green_fleet_provisioning_option", "greenFleetProvisioningOption", BM_BLOCK, GREEN, NULL,
	 0},
	{"terminate_blue_instances_on_deployment_success",
	 "terminateBlueInstancesOnDeploymentSuccess", BM_BLOCK, TERMINATE, NULL, 0},
	END,
};
static const struct bm_field ECS_SERVICE[] = {
	{"cluster_name", "clusterName", BM_STR, NULL, NULL, 0},
	{"service_name", "serviceName", BM_STR, NULL, NULL, 0},
	END,
};
static const struct bm_field ROUTE[] = {
	{"listener_arns", "listenerArns", BM_STRS, NULL, NULL, 0},
	END,
};
static const struct bm_field NAMED[] = {
	{"name", "name", BM_STR, NULL, NULL, 0},
	END,
};
static const struct bm_field TG_PAIR[] = {
	{"prod_traffic_route", "prodTrafficRoute", BM_BLOCK, ROUTE, NULL, 0},
	{"test_traffic_route", "testTrafficRoute", BM_BLOCK, ROUTE, NULL, 0},
	{"target_group", "targetGroups", BM_LIST, NAMED, NULL, 0},
	END,
};
static const struct bm_field LB_INFO[] = {
	{"target_group_pair_info", "targetGroupPairInfoList", BM_LIST, TG_PAIR, NULL, 0},
	{"target_group_info", "targetGroupInfoList", BM_LIST, NAMED, NULL, 0},
	END,
};
static const struct bm_field ROLLBACK[] = {
	{"enabled", "enabled", BM_BOOL, NULL, NULL, 0},
	{"events", "events", BM_STRS, NULL, NULL, 0},
	END,
};
static const struct bm_field ALARMS[] = {
	{"alarms", "alarms", BM_NAMES, NULL, "name", 0},
	{"enabled", "enabled", BM_BOOL, NULL, NULL, 0},
	{"ignore_poll_alarm_failure", "ignorePollAlarmFailure", BM_BOOL, NULL, NULL, 0},
	END,
};
/* The group's members but its names (set apart: create and update name
 * the group differently). */
static const struct bm_field GROUP[] = {
	{"service_role_arn", "serviceRoleArn", BM_STR, NULL, NULL, 0},
	{"deployment_config_name", "deploymentConfigName", BM_STR, NULL, NULL, 0},
	{"deployment_style", "deploymentStyle", BM_BLOCK, STYLE, NULL, 0},
	{"blue_green_deployment_config", "blueGreenDeploymentConfiguration", BM_BLOCK, BLUE_GREEN,
	 NULL, 0},
	{"ecs_service", "ecsServices", BM_LIST, ECS_SERVICE, NULL, 0},
	{"load_balancer_info", "loadBalancerInfo", BM_BLOCK, LB_INFO, NULL, 0},
	{"auto_rollback_configuration", "autoRollbackConfiguration", BM_BLOCK, ROLLBACK, NULL, 0},
	{"alarm_configuration", "alarmConfiguration", BM_BLOCK, ALARMS, NULL, 0},
	{"autoscaling_groups", "autoScalingGroups", BM_STRS, NULL, NULL, 0},
	END,
};

/* Splits "APP:GROUP" at the last ':': both owned. -1 when malformed. */
static int split_id(const char *id, char **app, char **group)
{
	const char *c = strrchr(id, ':');

	if (!c || c == id || !c[1])
		return -1;
	*app = xstrndup(id, (size_t)(c - id));
	*group = xstrdup(c + 1);
	return 0;
}

/* Reads the group: *out and *tags (raw list; may be NULL) new refs, both
 * NULL when gone. */
static int group_get(const struct provider_ctx *ctx, const char *app, const char *group,
		     json_t **out, json_t **tags, struct cairn_err *err)
{
	json_t *in = json_pack("{s:s,s:s}", "applicationName", app, "deploymentGroupName", group);
	json_t *res = NULL, *g, *o, *t = NULL;
	char *name = xasprintf("%s/%s", app, group), *arn = NULL, *id = NULL;
	int rc = -1;

	*out = NULL;
	if (tags)
		*tags = NULL;
	if (pcall_found(ctx, SVC, "GetDeploymentGroup", in, GONE, &res, err) != 0)
		goto out;
	g = json_object_get(res, "deploymentGroupInfo");
	if (!json_is_object(g)) {
		rc = 0;
		goto out;
	}
	arn = cd_arn(ctx, "deploymentgroup", name, err);
	if (!arn || cd_tags(ctx, arn, &t, err) != 0)
		goto out;
	o = bm_from_aws(g, GROUP);
	id = xasprintf("%s:%s", app, group);
	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "app_name", json_string(app));
	json_object_set_new(o, "deployment_group_name", json_string(group));
	json_object_set_new(o, "deployment_group_id",
			    pstr_json(json_object_get(g, "deploymentGroupId")));
	json_object_set_new(o, "compute_platform",
			    pstr_json(json_object_get(g, "computePlatform")));
	json_object_set_new(o, "arn", json_string(arn));
	json_object_set_new(o, "tags", ptags_from_list(t, "Key", "Value"));
	*out = o;
	if (tags)
		*tags = t ? json_incref(t) : json_array();
	rc = 0;
out:
	free(name);
	free(arn);
	free(id);
	json_decref(t);
	json_decref(in);
	json_decref(res);
	return rc;
}

static int group_read(const struct provider_ctx *ctx, const char *id, json_t *prior,
		      json_t **out, struct cairn_err *err)
{
	char *app, *group;
	int rc;

	*out = NULL;
	if (split_id(id, &app, &group) != 0) {
		err_set(err, CAIRN_EINVAL, "%s: '%s' is not APP:GROUP", ctx->name, id);
		return -1;
	}
	rc = group_get(ctx, app, group, out, NULL, err);
	free(app);
	free(group);
	return rc;
}

/* The group's input but its names: new ref. */
static json_t *group_input(json_t *attrs)
{
	json_t *in = bm_to_aws(attrs, GROUP);

	json_object_set_new(in, "applicationName", json_string(pstr_or(json_object_get(attrs,
									"app_name"), "")));
	return in;
}

/* A new service role may not be usable by CodeDeploy yet: AWS refuses
 * with InvalidRoleException until IAM has propagated it. */
static const char *const ROLE_NOT_READY[] = {"InvalidRoleException", NULL};
#define CD_ROLE_WAIT_MS (60 * 1000L)

static int group_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
			struct cairn_err *err)
{
	const char *app = pstr(attrs, "app_name"), *group = pstr(attrs, "deployment_group_name");
	json_t *tags = ptags_with_owner(ctx, json_object_get(attrs, "tags"));
	json_t *in = group_input(attrs);
	char *id = xasprintf("%s:%s", app, group);
	int rc = -1, created = 0;

	*out = NULL;
	json_object_set_new(in, "deploymentGroupName", json_string(group));
	json_object_set_new(in, "tags", ptags_to_list(tags, "Key", "Value"));
	if (pcall_retry(ctx, SVC, "CreateDeploymentGroup", in, NULL, ROLE_NOT_READY,
			CD_ROLE_WAIT_MS, err) != 0)
		goto out;
	created = 1;
	if (group_get(ctx, app, group, out, NULL, err) != 0)
		goto out;
	if (!*out) {
		err_set(err, CAIRN_ENOTFOUND, "CreateDeploymentGroup on %s: group '%s' not found "
			"after creation", ctx->name, id);
		goto out;
	}
	rc = 0;
out:
	if (rc != 0 && created && !*out)
		*out = json_pack("{s:s,s:s,s:s}", "id", id, "app_name", app,
				 "deployment_group_name", group);
	json_decref(tags);
	json_decref(in);
	free(id);
	return rc;
}

/* UpdateDeploymentGroup's input turning old into want: the whole group,
 * a new name as newDeploymentGroupName. New ref. */
static json_t *update_input(json_t *old, json_t *want)
{
	json_t *in = group_input(want);
	const char *from = pstr(old, "deployment_group_name"),
		   *to = pstr(want, "deployment_group_name");

	json_object_set_new(in, "currentDeploymentGroupName", json_string(from ? from : ""));
	if (to && from && strcmp(from, to) != 0)
		json_object_set_new(in, "newDeploymentGroupName", json_string(to));
	return in;
}

static int group_update(const struct provider_ctx *ctx, const char *id, json_t *old,
			json_t *want, json_t *changed, json_t **out, struct cairn_err *err)
{
	const char *app = pstr(want, "app_name"), *group = pstr(want, "deployment_group_name");
	json_t *in = NULL, *c;
	char *name = NULL, *arn = NULL;
	size_t i;
	int rc = -1, put = 0;

	*out = NULL;
	json_array_foreach(changed, i, c)
		put |= strcmp(json_string_value(c), "tags") != 0;
	if (put) {
		in = update_input(old, want);
		bm_clear_changed(in, changed, GROUP);
		if (pcall_retry(ctx, SVC, "UpdateDeploymentGroup", in, NULL, ROLE_NOT_READY,
				CD_ROLE_WAIT_MS, err) != 0)
			goto out;
	}
	if (pchanged(changed, "tags")) {
		name = xasprintf("%s/%s", app, group);
		arn = cd_arn(ctx, "deploymentgroup", name, err);
		if (!arn || ptags_sync(ctx, &TAG_API, arn, json_object_get(old, "tags"),
				       json_object_get(want, "tags"), err) != 0)
			goto out;
	}
	if (group_get(ctx, app, group, out, NULL, err) != 0)
		goto out;
	if (!*out) {
		err_set(err, CAIRN_ENOTFOUND, "update on %s: group '%s:%s' is gone", ctx->name, app,
			group);
		goto out;
	}
	rc = 0;
out:
	json_decref(in);
	free(name);
	free(arn);
	return rc;
}

static int group_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
			struct cairn_err *err)
{
	char *app, *group;
	json_t *in;
	int rc;

	if (split_id(id, &app, &group) != 0) {
		err_set(err, CAIRN_EINVAL, "%s: '%s' is not APP:GROUP", ctx->name, id);
		return -1;
	}
	in = json_pack("{s:s,s:s}", "applicationName", app, "deploymentGroupName", group);
	/* A group whose application is gone went with it. */
	rc = pcall_gone(ctx, SVC, "DeleteDeploymentGroup", in, "ApplicationDoesNotExistException",
			err);
	if (rc != 0 && perr_is(err, "DeploymentGroupDoesNotExistException")) {
		err_clear(err);
		rc = 0;
	}
	json_decref(in);
	free(app);
	free(group);
	return rc;
}

/* Names are unique per application: adopt the group of that name only if
 * it carries this resource's ownership tags. */
static int group_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		      struct cairn_err *err)
{
	json_t *tags = NULL;
	int rc;

	*out = NULL;
	if (!pstr(attrs, "app_name") || !pstr(attrs, "deployment_group_name"))
		return 0;
	rc = group_get(ctx, pstr(attrs, "app_name"), pstr(attrs, "deployment_group_name"), out,
		       &tags, err);
	if (rc == 0 && *out && !ptags_owned_by(tags, "Key", "Value", ctx)) {
		json_decref(*out);
		*out = NULL;
	}
	json_decref(tags);
	return rc;
}

const struct resource_ops aws_codedeploy_deployment_group_ops = {
	.type = "aws_codedeploy_deployment_group",
	.create = group_create,
	.read = group_read,
	.update = group_update,
	.delete = group_delete,
	.find = group_find,
};
