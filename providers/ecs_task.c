/*
 * ecs_task: the aws_ecs_task_definition and aws_ecs_service resource types
 * (ECS, json protocol).
 *
 * A task definition revision is immutable: every input but the tags forces
 * a new revision (RegisterTaskDefinition); delete deregisters the revision
 * (AWS keeps INACTIVE revisions describable; they count as gone). ECS
 * fills defaults into the container definitions (cpu 0, essential true,
 * empty lists, protocol tcp, hostPort = containerPort), so both sides are
 * normalised before comparing and the recorded form is kept when they
 * agree.
 *
 * A service's id is its ARN; every call also needs the cluster, taken from
 * the recorded attributes or, for the long ARN format
 * (service/CLUSTER/NAME), from the ARN. Deleting scales to 0, deletes with
 * force and waits until the service is INACTIVE.
 *
 * Deployments (Terraform's names): the deployment controller, the
 * circuit breaker, the percentages, the health check grace period, ECS
 * Exec and tag propagation are sent on CreateService (as AWS documents
 * them) and, when changed, on UpdateService. A describe that leaves one of
 * them out (an emulator that dropped it) keeps the recorded value: AWS
 * always reports them, so a value it does report is never hidden.
 * force_new_deployment and wait_for_steady_state are cairn's alone and
 * read back as recorded. With wait_for_steady_state, a create or update
 * follows the deployment its call started until its rollout is COMPLETED
 * with desired_count tasks running; a FAILED rollout, its replacement by
 * another deployment (a rollback), or the timeout fails the resource with
 * the service's last events, and the service is read back so that the
 * state records what is deployed now.
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "tagdiff.h"

#define SVC_DELETE_TIMEOUT_MS (10 * 60 * 1000L)
#define SVC_CREATE_TIMEOUT_MS (2 * 60 * 1000L)
#define SVC_STEADY_TIMEOUT_MS (20 * 60 * 1000L) /* Terraform's wait_for_steady_state */
#define SVC_EVENTS_SHOWN 5
#define ECS_POLL_MS 2000L
#define SVC_DESCRIBE_MAX 10 /* DescribeServices takes at most 10 services */

/* ---- container definitions ---- */

/* A JSON value without nulls, empty strings, empty lists and empty
 * objects: new ref, or NULL when nothing is left. */
static json_t *cd_strip(json_t *v)
{
	json_t *out, *e, *n;
	const char *k;
	size_t i;

	if (!v || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0))
		return NULL;
	if (json_is_array(v)) {
		out = json_array();
		json_array_foreach(v, i, e)
			if ((n = cd_strip(e)))
				json_array_append_new(out, n);
	} else if (json_is_object(v)) {
		out = json_object();
		json_object_foreach(v, k, e)
			if ((n = cd_strip(e)))
				json_object_set_new(out, k, n);
	} else {
		return json_deep_copy(v);
	}
	if (json_is_nothing(out)) {
		json_decref(out);
		return NULL;
	}
	return out;
}

static int is_int(json_t *v, json_int_t n)
{
	return json_is_number(v) && json_number_value(v) == (double)n;
}

static int cmp_env(const void *a, const void *b)
{
	const char *x = pstr_or(json_object_get(*(json_t *const *)a, "name"), "");
	const char *y = pstr_or(json_object_get(*(json_t *const *)b, "name"), "");

	return strcmp(x, y);
}

/* Sorts a list of {"name":..} objects by name in place (ECS reorders
 * environment variables and secrets). */
static void sort_by_name(json_t *list)
{
	size_t n = json_array_size(list), i;
	json_t **items;

	if (n < 2)
		return;
	items = xcalloc(n, sizeof(*items));
	for (i = 0; i < n; i++)
		items[i] = json_incref(json_array_get(list, i));
	qsort(items, n, sizeof(*items), cmp_env);
	json_array_clear(list);
	for (i = 0; i < n; i++)
		json_array_append_new(list, items[i]);
	free(items);
}

/* Drops the values ECS fills in by default from one container (in place);
 * sort: also put environment and secrets in name order. */
static void cd_drop_defaults(json_t *c, int sort)
{
	json_t *pm;
	size_t i;

	if (json_is_true(json_object_get(c, "essential")))
		json_object_del(c, "essential");
	if (is_int(json_object_get(c, "cpu"), 0))
		json_object_del(c, "cpu");
	json_array_foreach(json_object_get(c, "portMappings"), i, pm) {
		json_t *cp = json_object_get(pm, "containerPort");

		if (strcmp(pstr_or(json_object_get(pm, "protocol"), ""), "tcp") == 0)
			json_object_del(pm, "protocol");
		if (cp && json_is_number(json_object_get(pm, "hostPort")) &&
		    json_number_value(json_object_get(pm, "hostPort")) == json_number_value(cp))
			json_object_del(pm, "hostPort");
	}
	if (sort) {
		sort_by_name(json_object_get(c, "environment"));
		sort_by_name(json_object_get(c, "secrets"));
	}
}

/* Container definitions without ECS's defaults: new ref (an array, maybe
 * empty). A document given as JSON text is parsed first. sort: the
 * compared form, with environment and secrets in name order; without it,
 * the form reported when no recorded form matches (AWS's order kept, so an
 * imported definition reads as it was written). */
static json_t *cd_clean(json_t *defs, int sort)
{
	json_t *parsed = NULL, *out, *c;
	size_t i;

	if (json_is_string(defs))
		defs = parsed = json_loads(json_string_value(defs), 0, NULL);
	out = cd_strip(defs);
	json_decref(parsed);
	if (!json_is_array(out)) {
		json_decref(out);
		return json_array();
	}
	json_array_foreach(out, i, c)
		if (json_is_object(c))
			cd_drop_defaults(c, sort);
	/* Dropping defaults may have emptied lists or objects. */
	c = cd_strip(out);
	json_decref(out);
	return c ? c : json_array();
}

static int cd_equal(json_t *a, json_t *b)
{
	json_t *na = cd_clean(a, 1), *nb = cd_clean(b, 1);
	int eq = json_equal(na, nb);

	json_decref(na);
	json_decref(nb);
	return eq;
}

/* ---- aws_ecs_task_definition ---- */

/* DescribeTaskDefinition output -> attribute object (new ref). prior_defs:
 * the recorded container definitions (kept when equal to AWS's). */
static json_t *td_attrs(json_t *td, json_t *tags, json_t *prior_defs)
{
	json_t *o = json_object(), *defs = json_object_get(td, "containerDefinitions");
	json_t *rc = json_object_get(td, "requiresCompatibilities");
	const char *arn = pstr_or(json_object_get(td, "taskDefinitionArn"), "");

	json_object_set_new(o, "id", json_string(arn));
	json_object_set_new(o, "arn", json_string(arn));
	json_object_set_new(o, "family", json_string(pstr_or(json_object_get(td, "family"), "")));
	json_object_set_new(o, "revision", json_integer(
		(json_int_t)json_number_value(json_object_get(td, "revision"))));
	if (prior_defs && cd_equal(prior_defs, defs))
		json_object_set_new(o, "container_definitions", json_deep_copy(prior_defs));
	else
		json_object_set_new(o, "container_definitions", cd_clean(defs, 0));
	json_object_set_new(o, "cpu", json_string(pstr_or(json_object_get(td, "cpu"), "")));
	json_object_set_new(o, "memory", json_string(pstr_or(json_object_get(td, "memory"), "")));
	json_object_set_new(o, "network_mode",
			    json_string(pstr_or(json_object_get(td, "networkMode"), "")));
	json_object_set_new(o, "requires_compatibilities",
			    json_is_array(rc) ? json_deep_copy(rc) : json_array());
	json_object_set_new(o, "execution_role_arn",
			    json_string(pstr_or(json_object_get(td, "executionRoleArn"), "")));
	json_object_set_new(o, "task_role_arn",
			    json_string(pstr_or(json_object_get(td, "taskRoleArn"), "")));
	json_object_set_new(o, "tags", ptags_from_list(tags, "key", "value"));
	return o;
}

/* DescribeTaskDefinition with tags: *res new ref (the whole answer), NULL
 * when the revision does not exist or is INACTIVE. */
static int td_describe(const struct provider_ctx *ctx, const char *id, json_t **res,
		       struct cairn_err *err)
{
	json_t *in = json_pack("{s:s,s:[s]}", "taskDefinition", id, "include", "TAGS");
	const char *status;
	int rc = -1;

	*res = NULL;
	if (pcall(ctx, "ecs", "DescribeTaskDefinition", in, res, err) != 0) {
		/* ECS answers ClientException "Unable to describe task
		 * definition" for a revision that does not exist. */
		if (perr_is(err, "ClientException")) {
			err_clear(err);
			rc = 0;
		}
		goto out;
	}
	status = pstr_or(json_object_get(json_object_get(*res, "taskDefinition"), "status"), "");
	if (strcmp(status, "INACTIVE") == 0 || strcmp(status, "DELETE_IN_PROGRESS") == 0) {
		json_decref(*res);
		*res = NULL;
	}
	rc = 0;
out:
	json_decref(in);
	return rc;
}

static int td_read(const struct provider_ctx *ctx, const char *id, json_t *prior,
		   json_t **out, struct cairn_err *err)
{
	json_t *res = NULL;

	*out = NULL;
	if (td_describe(ctx, id, &res, err) != 0)
		return -1;
	if (res)
		*out = td_attrs(json_object_get(res, "taskDefinition"), json_object_get(res, "tags"),
				json_object_get(prior, "container_definitions"));
	json_decref(res);
	return 0;
}

/* Sets member to attrs' string attribute unless it is empty. */
static void set_str(json_t *in, const char *member, json_t *attrs, const char *name)
{
	const char *v = pstr_or(json_object_get(attrs, name), "");

	if (*v)
		json_object_set_new(in, member, json_string(v));
}

static int td_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		     struct cairn_err *err)
{
	json_t *tags = ptags_with_owner(ctx, json_object_get(attrs, "tags"));
	json_t *defs = json_object_get(attrs, "container_definitions");
	json_t *parsed = NULL, *rc_list = json_object_get(attrs, "requires_compatibilities");
	json_t *in = NULL, *res = NULL, *td;
	const char *arn;
	int rc = -1;

	*out = NULL;
	if (json_is_string(defs))
		defs = parsed = json_loads(json_string_value(defs), 0, NULL);
	if (!json_is_array(defs)) {
		err_set(err, CAIRN_EINVAL, "%s: container_definitions must be a list of "
			"container definitions", ctx->name);
		goto out;
	}
	in = json_pack("{s:s,s:O,s:o}", "family", pstr_or(json_object_get(attrs, "family"), ""),
		       "containerDefinitions", defs, "tags", ptags_to_list(tags, "key", "value"));
	set_str(in, "cpu", attrs, "cpu");
	set_str(in, "memory", attrs, "memory");
	set_str(in, "networkMode", attrs, "network_mode");
	set_str(in, "executionRoleArn", attrs, "execution_role_arn");
	set_str(in, "taskRoleArn", attrs, "task_role_arn");
	if (json_array_size(rc_list) > 0)
		json_object_set(in, "requiresCompatibilities", rc_list);
	if (pcall(ctx, "ecs", "RegisterTaskDefinition", in, &res, err) != 0)
		goto out;
	td = json_object_get(res, "taskDefinition");
	arn = json_string_value(json_object_get(td, "taskDefinitionArn"));
	if (!arn) {
		err_set(err, CAIRN_EAWS, "RegisterTaskDefinition on %s: no task definition ARN "
			"in the answer", ctx->name);
		goto out;
	}
	/* The answer carries the registered revision; read it back for the tags. */
	if (pread_created(ctx, td_read, "RegisterTaskDefinition", "revision", arn, attrs, "arn",
			  out, err) != 0)
		goto out;
	rc = 0;
out:
	json_decref(in);
	json_decref(res);
	json_decref(parsed);
	json_decref(tags);
	return rc;
}

/* The service's tagging calls for ptags_sync. */
static const struct ptag_api TAG_API = {
	.service = "ecs", .untag_op = "UntagResource", .tag_op = "TagResource",
	.id_member = "resourceArn", .keys_member = "tagKeys", .tags_member = "tags",
	.key_name = "key", .value_name = "value",
};

static int td_update(const struct provider_ctx *ctx, const char *id, json_t *old,
		     json_t *want, json_t *changed, json_t **out, struct cairn_err *err)
{
	*out = NULL;
	if (pchanged(changed, "tags") &&
	    ptags_sync(ctx, &TAG_API, id, json_object_get(old, "tags"),
		       json_object_get(want, "tags"), err) != 0)
		return -1;
	if (pread_after(ctx, td_read, "TagResource", "task definition", id, want, out, err) != 0)
		return -1;
	return 0;
}

static int td_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
		     struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "taskDefinition", id), *res = NULL;
	int rc = 0;

	if (pcall_void(ctx, "ecs", "DeregisterTaskDefinition", in, err) != 0) {
		/* Already deregistered (or never there) counts as gone. */
		if (perr_is(err, "ClientException") && td_describe(ctx, id, &res, err) == 0 &&
		    !res)
			err_clear(err);
		else
			rc = -1;
	}
	json_decref(in);
	json_decref(res);
	return rc;
}


/* The newest ACTIVE revision of the family that carries our tags and the
 * desired container definitions (an older owned revision is the one a
 * replacement leaves behind). */
static int td_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		   struct cairn_err *err)
{
	const char *family = json_string_value(json_object_get(attrs, "family"));
	json_t *in, *arns = NULL, *a;
	size_t i;
	int rc = -1;

	*out = NULL;
	if (!family)
		return 0;
	in = json_pack("{s:s,s:s,s:s}", "familyPrefix", family, "status", "ACTIVE",
		       "sort", "DESC");
	if (aws_call_all(ctx->aws, "ecs", "ListTaskDefinitions", in, "taskDefinitionArns", &arns,
			 err) != 0) {
		err_prefix(err, "ListTaskDefinitions on %s", ctx->name);
		goto out;
	}
	json_array_foreach(arns, i, a) {
		json_t *res = NULL, *td;
		int match;

		if (td_describe(ctx, json_string_value(a), &res, err) != 0)
			goto out;
		td = json_object_get(res, "taskDefinition");
		match = res && strcmp(pstr_or(json_object_get(td, "family"), ""), family) == 0 &&
			ptags_owned_by(json_object_get(res, "tags"), "key", "value", ctx) &&
			cd_equal(json_object_get(attrs, "container_definitions"),
				 json_object_get(td, "containerDefinitions"));
		if (match)
			*out = td_attrs(td, json_object_get(res, "tags"),
					json_object_get(attrs, "container_definitions"));
		json_decref(res);
		if (match)
			break;
	}
	rc = 0;
out:
	json_decref(in);
	json_decref(arns);
	return rc;
}

const struct resource_ops aws_ecs_task_definition_ops = {
	.type = "aws_ecs_task_definition",
	.create = td_create,
	.read = td_read,
	.update = td_update,
	.delete = td_delete,
	.find = td_find,
};

/* ---- aws_ecs_service ---- */

/* The cluster of a service: the recorded one, else the CLUSTER of a long
 * ARN (...:service/CLUSTER/NAME). New string or NULL. */
static char *svc_cluster(const char *arn, json_t *prior)
{
	const char *c = pstr_or(json_object_get(prior, "cluster"), ""), *p, *slash;

	if (*c)
		return xstrdup(c);
	p = strstr(arn, ":service/");
	if (!p)
		return NULL;
	p += strlen(":service/");
	slash = strchr(p, '/');
	return slash ? xstrndup(p, (size_t)(slash - p)) : NULL;
}

/* The last '/'-separated part of an ARN (a cluster or service name). */
static const char *arn_tail(const char *arn)
{
	const char *p = strrchr(arn, '/');

	return p ? p + 1 : arn;
}

/* list as a sorted set of strings equals other's? */
static int same_set(json_t *a, json_t *b)
{
	json_t *v;
	size_t i, j;

	if (json_array_size(a) != json_array_size(b))
		return 0;
	json_array_foreach(a, i, v) {
		int found = 0;

		for (j = 0; j < json_array_size(b) && !found; j++)
			found = json_equal(v, json_array_get(b, j));
		if (!found)
			return 0;
	}
	return 1;
}

/* AWS's list, or the recorded one when it holds the same elements (AWS
 * does not keep the order of subnets and security groups). New ref. */
static json_t *keep_order(json_t *aws_list, json_t *prior_list)
{
	if (json_is_array(prior_list) && same_set(aws_list, prior_list))
		return json_deep_copy(prior_list);
	return json_is_array(aws_list) ? json_deep_copy(aws_list) : json_array();
}

/* The recorded reference (name, family:revision, ...) when it denotes the
 * same object as AWS's ARN, else the ARN. */
static const char *keep_ref(const char *arn, json_t *prior_v, int task_def)
{
	const char *p = pstr_or(prior_v, "");
	const char *tail = arn_tail(arn);
	size_t n;

	if (!*p || strcmp(p, arn) == 0)
		return arn;
	if (strcmp(p, tail) == 0) /* cluster name, or family:revision */
		return p;
	n = strlen(p);
	/* A bare family means its latest revision when the service was made. */
	if (task_def && !strchr(p, ':') && strncmp(tail, p, n) == 0 && tail[n] == ':')
		return p;
	return arn;
}

/* AWS's whole number v, else the recorded one, else dflt. */
static json_int_t int_or_prior(json_t *v, json_t *prior_v, json_int_t dflt)
{
	return json_int_or(v, json_int_or(prior_v, dflt));
}

/* AWS's boolean v, else the recorded one, else dflt. */
static int bool_or_prior(json_t *v, json_t *prior_v, int dflt)
{
	if (json_is_boolean(v))
		return json_is_true(v);
	if (json_is_boolean(prior_v))
		return json_is_true(prior_v);
	return dflt;
}

/* The deployment attributes of service s into o (see the file comment for
 * what a value AWS leaves out reads as). */
static void svc_deploy_attrs(json_t *o, json_t *s, json_t *prior)
{
	json_t *dc = json_object_get(s, "deploymentConfiguration");
	json_t *cb = json_object_get(dc, "deploymentCircuitBreaker");
	json_t *pcb = json_object_get(prior, "deployment_circuit_breaker");
	const char *ctrl = pstr(json_object_get(s, "deploymentController"), "type");
	const char *prop = pstr(s, "propagateTags");

	if (!ctrl)
		ctrl = pstr(json_object_get(prior, "deployment_controller"), "type");
	json_object_set_new(o, "deployment_controller",
			    json_pack("{s:s}", "type", ctrl && *ctrl ? ctrl : "ECS"));
	if (!json_is_object(cb))
		cb = NULL;
	json_object_set_new(o, "deployment_circuit_breaker", json_pack("{s:b,s:b}",
		"enable", bool_or_prior(json_object_get(cb, "enable"),
					cb ? NULL : json_object_get(pcb, "enable"), 0),
		"rollback", bool_or_prior(json_object_get(cb, "rollback"),
					  cb ? NULL : json_object_get(pcb, "rollback"), 0)));
	json_object_set_new(o, "deployment_minimum_healthy_percent", json_integer(int_or_prior(
		json_object_get(dc, "minimumHealthyPercent"),
		json_object_get(prior, "deployment_minimum_healthy_percent"), 100)));
	json_object_set_new(o, "deployment_maximum_percent", json_integer(int_or_prior(
		json_object_get(dc, "maximumPercent"),
		json_object_get(prior, "deployment_maximum_percent"), 200)));
	json_object_set_new(o, "health_check_grace_period_seconds", json_integer(int_or_prior(
		json_object_get(s, "healthCheckGracePeriodSeconds"),
		json_object_get(prior, "health_check_grace_period_seconds"), 0)));
	json_object_set_new(o, "enable_execute_command", json_boolean(bool_or_prior(
		json_object_get(s, "enableExecuteCommand"),
		json_object_get(prior, "enable_execute_command"), 0)));
	/* AWS leaves propagateTags out when it is NONE. */
	json_object_set_new(o, "propagate_tags", json_string(prop && *prop ? prop : "NONE"));
	json_object_set_new(o, "force_new_deployment", json_boolean(
		json_is_true(json_object_get(prior, "force_new_deployment"))));
	json_object_set_new(o, "wait_for_steady_state", json_boolean(
		json_is_true(json_object_get(prior, "wait_for_steady_state"))));
}

/* A service as DescribeServices reports it -> attribute object (new ref). */
static json_t *svc_attrs(json_t *s, json_t *prior)
{
	json_t *o = json_object(), *v, *lbs = json_array(), *lb;
	json_t *net = json_object_get(json_object_get(s, "networkConfiguration"),
				      "awsvpcConfiguration");
	json_t *prior_net = json_object_get(prior, "network_configuration");
	json_t *regs = json_object_get(s, "serviceRegistries");
	const char *arn = pstr_or(json_object_get(s, "serviceArn"), "");
	size_t i;

	json_object_set_new(o, "id", json_string(arn));
	json_object_set_new(o, "arn", json_string(arn));
	json_object_set_new(o, "name", json_string(pstr_or(json_object_get(s, "serviceName"), "")));
	json_object_set_new(o, "cluster", json_string(keep_ref(
		pstr_or(json_object_get(s, "clusterArn"), ""), json_object_get(prior, "cluster"), 0)));
	json_object_set_new(o, "task_definition", json_string(keep_ref(
		pstr_or(json_object_get(s, "taskDefinition"), ""),
		json_object_get(prior, "task_definition"), 1)));
	v = json_object_get(s, "desiredCount");
	json_object_set_new(o, "desired_count",
			    json_integer(json_is_number(v) ? (json_int_t)json_number_value(v) : 0));
	json_object_set_new(o, "launch_type",
			    json_string(pstr_or(json_object_get(s, "launchType"), "")));
	if (json_is_object(net) && json_array_size(json_object_get(net, "subnets")) > 0)
		json_object_set_new(o, "network_configuration", json_pack("{s:o,s:o,s:b}",
			"subnets", keep_order(json_object_get(net, "subnets"),
					      json_object_get(prior_net, "subnets")),
			"security_groups", keep_order(json_object_get(net, "securityGroups"),
						      json_object_get(prior_net, "security_groups")),
			"assign_public_ip",
			strcmp(pstr_or(json_object_get(net, "assignPublicIp"), ""), "ENABLED") == 0));
	json_array_foreach(json_object_get(s, "loadBalancers"), i, lb) {
		json_t *port = json_object_get(lb, "containerPort");

		json_array_append_new(lbs, json_pack("{s:s,s:s,s:I}",
			"target_group_arn", pstr_or(json_object_get(lb, "targetGroupArn"), ""),
			"container_name", pstr_or(json_object_get(lb, "containerName"), ""),
			"container_port",
			(json_int_t)(json_is_number(port) ? json_number_value(port) : 0)));
	}
	json_object_set_new(o, "load_balancer", lbs);
	if (json_array_size(regs) > 0)
		json_object_set_new(o, "service_registries", json_pack("{s:s}", "registry_arn",
			pstr_or(json_object_get(json_array_get(regs, 0), "registryArn"), "")));
	svc_deploy_attrs(o, s, prior);
	json_object_set_new(o, "tags", ptags_from_list(json_object_get(s, "tags"), "key", "value"));
	return o;
}

/* DescribeServices of names (array, borrowed) in cluster: *services new
 * array of the services found, INACTIVE ones included. A missing cluster
 * gives an empty array. */
static int svc_describe(const struct provider_ctx *ctx, const char *cluster, json_t *names,
			json_t **services, struct cairn_err *err)
{
	json_t *in = json_pack("{s:s,s:O,s:[s]}", "cluster", cluster, "services", names,
			       "include", "TAGS");
	json_t *res = NULL;
	int rc = -1;

	*services = NULL;
	if (pcall(ctx, "ecs", "DescribeServices", in, &res, err) != 0) {
		if (perr_is(err, "ClusterNotFoundException")) {
			err_clear(err);
			*services = json_array();
			rc = 0;
		}
		goto out;
	}
	*services = json_incref(json_object_get(res, "services"));
	if (!*services)
		*services = json_array();
	rc = 0;
out:
	json_decref(in);
	json_decref(res);
	return rc;
}

/* The live (not INACTIVE) service of the array whose ARN or name is id. */
static json_t *svc_match(json_t *services, const char *id)
{
	json_t *s;
	size_t i;

	json_array_foreach(services, i, s) {
		const char *arn = pstr_or(json_object_get(s, "serviceArn"), "");
		const char *name = pstr_or(json_object_get(s, "serviceName"), "");

		if (strcmp(pstr_or(json_object_get(s, "status"), ""), "INACTIVE") == 0)
			continue;
		if (strcmp(arn, id) == 0 || strcmp(name, id) == 0 ||
		    strcmp(name, arn_tail(id)) == 0)
			return s;
	}
	return NULL;
}

/* One live service: *s new ref, NULL when gone. */
static int svc_describe_one(const struct provider_ctx *ctx, const char *cluster,
			    const char *id, json_t **s, struct cairn_err *err)
{
	json_t *names = json_pack("[s]", id), *services = NULL;
	int rc;

	*s = NULL;
	rc = svc_describe(ctx, cluster, names, &services, err);
	if (rc == 0)
		*s = json_incref(svc_match(services, id));
	json_decref(names);
	json_decref(services);
	return rc;
}

/* With no prior (an import), id may also be "CLUSTER/SERVICE" (Terraform's
 * form) besides the service's long ARN. */
static int svc_read(const struct provider_ctx *ctx, const char *id, json_t *prior,
		    json_t **out, struct cairn_err *err)
{
	char *cluster = svc_cluster(id, prior);
	const char *name = id, *slash = strchr(id, '/');
	json_t *s = NULL;
	int rc = -1;

	*out = NULL;
	if (!cluster && !prior && strncmp(id, "arn:", 4) != 0 && slash && slash != id &&
	    slash[1] && !strchr(slash + 1, '/')) {
		cluster = xstrndup(id, (size_t)(slash - id));
		name = slash + 1;
	}
	if (!cluster && !prior) {
		err_set(err, CAIRN_EINVAL, "import of an ECS service takes CLUSTER/SERVICE "
			"(e.g. web/api) or the service's long ARN; got '%s'", id);
		return -1;
	}
	if (!cluster) {
		err_set(err, CAIRN_EINVAL, "%s: no cluster known for service '%s'", ctx->name, id);
		return -1;
	}
	if (svc_describe_one(ctx, cluster, name, &s, err) != 0)
		goto out;
	if (s)
		*out = svc_attrs(s, prior);
	rc = 0;
out:
	free(cluster);
	json_decref(s);
	return rc;
}

/* Reads services grouped by cluster, SVC_DESCRIBE_MAX per call. */
static int svc_read_batch(const struct provider_ctx *const *ctxs, size_t n,
			  const char *const *ids, json_t *const *priors, json_t **outs,
			  struct cairn_err *err)
{
	char **clusters = xcalloc(n ? n : 1, sizeof(*clusters));
	char *done = xcalloc(n ? n : 1, 1);
	size_t i, j;
	int rc = -1;

	for (i = 0; i < n; i++) {
		outs[i] = NULL;
		clusters[i] = svc_cluster(ids[i], priors[i]);
		if (!clusters[i]) {
			err_set(err, CAIRN_EINVAL, "%s: no cluster known for service '%s'",
				ctxs[i]->name, ids[i]);
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		json_t *names, *services = NULL;
		size_t batch[SVC_DESCRIBE_MAX], nb = 0, k;

		if (done[i])
			continue;
		names = json_array();
		for (j = i; j < n && nb < SVC_DESCRIBE_MAX; j++)
			if (!done[j] && strcmp(clusters[j], clusters[i]) == 0) {
				batch[nb++] = j;
				done[j] = 1;
				json_array_append_new(names, json_string(ids[j]));
			}
		if (svc_describe(ctxs[i], clusters[i], names, &services, err) != 0) {
			json_decref(names);
			goto out;
		}
		for (k = 0; k < nb; k++) {
			json_t *s = svc_match(services, ids[batch[k]]);

			if (s)
				outs[batch[k]] = svc_attrs(s, priors[batch[k]]);
		}
		json_decref(names);
		json_decref(services);
	}
	rc = 0;
out:
	if (rc != 0)
		pouts_clear(outs, n);
	for (i = 0; i < n; i++)
		free(clusters[i]);
	free(clusters);
	free(done);
	return rc;
}

/* network_configuration -> {"awsvpcConfiguration": ...} (new ref). */
static json_t *net_in(json_t *net)
{
	json_t *sgs = json_object_get(net, "security_groups");

	/* securityGroups always, [] when none (the VPC's default group):
	 * moto fails on a configuration without the member. */
	return json_pack("{s:{s:O,s:o,s:s}}", "awsvpcConfiguration",
			 "subnets", json_object_get(net, "subnets"),
			 "securityGroups", json_is_array(sgs) ? json_incref(sgs) : json_array(),
			 "assignPublicIp",
			 json_is_true(json_object_get(net, "assign_public_ip")) ? "ENABLED"
										: "DISABLED");
}

/* service_registries -> [{"registryArn": ..}] or [] (new ref). */
static json_t *registries_in(json_t *reg)
{
	const char *arn = pstr_or(json_object_get(reg, "registry_arn"), "");

	return *arn ? json_pack("[{s:s}]", "registryArn", arn) : json_array();
}

/* deploymentConfiguration from the attributes (new ref). The circuit
 * breaker goes along where it applies (the ECS controller) or is on. */
static json_t *deploy_config_in(json_t *attrs)
{
	json_t *cb = json_object_get(attrs, "deployment_circuit_breaker");
	const char *ctrl = pstr_or(json_object_get(json_object_get(attrs, "deployment_controller"),
						   "type"), "ECS");
	int enable = json_is_true(json_object_get(cb, "enable"));
	int rollback = json_is_true(json_object_get(cb, "rollback"));
	json_t *dc = json_pack("{s:I,s:I}",
		"maximumPercent", json_int_or(json_object_get(attrs, "deployment_maximum_percent"), 200),
		"minimumHealthyPercent",
		json_int_or(json_object_get(attrs, "deployment_minimum_healthy_percent"), 100));

	if (strcmp(ctrl, "ECS") == 0 || enable || rollback)
		json_object_set_new(dc, "deploymentCircuitBreaker",
				    json_pack("{s:b,s:b}", "enable", enable, "rollback", rollback));
	return dc;
}

/* The deployment of service s whose id is id; id NULL: the PRIMARY one.
 * Borrowed, NULL if none. */
static json_t *svc_deployment(json_t *s, const char *id)
{
	json_t *d;
	size_t i;

	json_array_foreach(json_object_get(s, "deployments"), i, d) {
		const char *v = pstr_or(json_object_get(d, id ? "id" : "status"), "");

		if (strcmp(v, id ? id : "PRIMARY") == 0)
			return d;
	}
	return NULL;
}

/* The id of the PRIMARY deployment of the service in a CreateService or
 * UpdateService answer (new string), NULL if none. */
static char *primary_of(json_t *res)
{
	json_t *d = svc_deployment(json_object_get(res, "service"), NULL);

	return xstrdup(pstr(d, "id"));
}

struct svc_steady {
	const char *cluster, *id;
	const char *deployment;     /* the one to follow; NULL: the PRIMARY one */
	json_t *last;               /* the service as last described (owned) */
};

/* 1 once the followed deployment is COMPLETED and the service runs
 * desired_count tasks; -1 (err set) when it FAILED, was replaced (a
 * rollback, or a newer deployment), or the service is gone. A deployment
 * without a rolloutState (other controllers) counts as done when it is the
 * only one and the counts agree, as AWS's services-stable waiter has it. */
static int svc_steady_poll(const struct provider_ctx *ctx, void *arg, char *status,
			   size_t status_len, struct cairn_err *err)
{
	struct svc_steady *w = arg;
	json_t *s = NULL, *d, *primary;
	const char *rollout, *did;
	json_int_t running, desired;

	if (svc_describe_one(ctx, w->cluster, w->id, &s, err) != 0)
		return -1;
	if (!s) {
		err_set(err, CAIRN_ENOTFOUND, "%s: service '%s' vanished during its deployment",
			ctx->name, w->id);
		return -1;
	}
	json_decref(w->last);
	w->last = s;
	running = json_int_or(json_object_get(s, "runningCount"), 0);
	desired = json_int_or(json_object_get(s, "desiredCount"), 0);
	primary = svc_deployment(s, NULL);
	d = w->deployment ? svc_deployment(s, w->deployment) : primary;
	did = w->deployment ? w->deployment : pstr_or(json_object_get(d, "id"), "");
	rollout = pstr(d, "rolloutState");
	snprintf(status, status_len, "%s, %lld of %lld tasks running",
		 rollout ? rollout : pstr_or(json_object_get(d, "status"), "no deployment"),
		 (long long)running, (long long)desired);
	if (rollout && strcmp(rollout, "FAILED") == 0) {
		err_set(err, CAIRN_EAWS, "deployment %s on %s failed: %s", did, ctx->name,
			pstr_or(json_object_get(d, "rolloutStateReason"), "rollout FAILED"));
		return -1;
	}
	if (w->deployment && d != primary) {
		err_set(err, CAIRN_EAWS, "deployment %s on %s did not finish: ECS replaced it "
			"with deployment %s (a rollback or a newer deployment)", did, ctx->name,
			pstr_or(json_object_get(primary, "id"), "(none)"));
		return -1;
	}
	if (running != desired)
		return 0;
	if (rollout)
		return strcmp(rollout, "COMPLETED") == 0;
	return json_array_size(json_object_get(s, "deployments")) <= 1;
}

/* Appends the service's last events (newest first, as ECS lists them) to
 * err's message. */
static void add_events(struct cairn_err *err, json_t *s)
{
	json_t *events = json_object_get(s, "events"), *e;
	char *msg;
	size_t i;

	if (json_array_size(events) == 0) {
		msg = xasprintf("%s; the service reports no events", err->msg);
	} else {
		msg = xasprintf("%s; the service's last events:", err->msg);
		json_array_foreach(events, i, e) {
			char *more;

			if (i == SVC_EVENTS_SHOWN)
				break;
			more = xasprintf("%s\n  %s", msg, pstr_or(json_object_get(e, "message"), ""));
			free(msg);
			msg = more;
		}
	}
	snprintf(err->msg, sizeof(err->msg), "%s", msg);
	free(msg);
}

/*
 * The end of a create or an update: with wait_for_steady_state (in want),
 * waits for deployment (the one the call started; NULL: the PRIMARY one)
 * to finish. Then reads the service back into *out (replacing what it
 * held; kept when the read fails after a failed wait), so a failure still
 * leaves *out as what is deployed now.
 */
static int svc_settle(const struct provider_ctx *ctx, const char *id, json_t *want,
		      const char *deployment, json_t **out, struct cairn_err *err)
{
	char *cluster;
	struct svc_steady w = {NULL, id, deployment, NULL};
	struct pwait_spec spec = {"waiting for the deployment to finish", ECS_POLL_MS, 0,
				  SVC_STEADY_TIMEOUT_MS};
	struct cairn_err rerr;
	json_t *now = NULL;
	int rc;

	if (!json_is_true(json_object_get(want, "wait_for_steady_state")))
		return 0;
	cluster = svc_cluster(id, want);
	if (!cluster) {
		err_set(err, CAIRN_EINVAL, "%s: no cluster known for service '%s'", ctx->name, id);
		return -1;
	}
	w.cluster = cluster;
	rc = pwait_until(ctx, &spec, svc_steady_poll, &w, err);
	if (rc != 0 && err->code != CAIRN_ECANCEL && w.last)
		add_events(err, w.last);
	err_clear(&rerr);
	if (svc_read(ctx, id, want, &now, &rerr) != 0 || !now) {
		if (rc == 0) {
			if (!now && rerr.code == 0)
				err_set(&rerr, CAIRN_ENOTFOUND, "%s: service '%s' vanished after its "
					"deployment", ctx->name, id);
			*err = rerr;
			rc = -1;
		}
	} else {
		json_decref(*out);
		*out = now;
	}
	json_decref(w.last);
	free(cluster);
	return rc;
}

/* CreateService errors that clear up by themselves: the target group's
 * listener or the service-linked role not visible to ECS yet. */
static const char *const CREATE_RETRY_CODES[] = {"InvalidParameterException", NULL};
static const char *const CREATE_RETRY_MSGS[] = {
	"does not have an associated load balancer", "verify that the ECS service role",
	"Unable to assume the service linked role", NULL,
};

static int svc_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		      struct cairn_err *err)
{
	json_t *tags = ptags_with_owner(ctx, json_object_get(attrs, "tags"));
	json_t *net = json_object_get(attrs, "network_configuration");
	json_t *reg = json_object_get(attrs, "service_registries");
	json_t *lbs = json_array(), *lb, *in, *res = NULL;
	const char *arn, *launch = pstr_or(json_object_get(attrs, "launch_type"), "");
	const char *prop = pstr_or(json_object_get(attrs, "propagate_tags"), "NONE");
	json_int_t grace = json_int_or(json_object_get(attrs, "health_check_grace_period_seconds"), 0);
	char *deployment = NULL;
	size_t i;
	int rc = -1;

	*out = NULL;
	json_array_foreach(json_object_get(attrs, "load_balancer"), i, lb)
		json_array_append_new(lbs, json_pack("{s:s,s:s,s:I}",
			"targetGroupArn", pstr_or(json_object_get(lb, "target_group_arn"), ""),
			"containerName", pstr_or(json_object_get(lb, "container_name"), ""),
			"containerPort",
			(json_int_t)json_number_value(json_object_get(lb, "container_port"))));
	in = json_pack("{s:s,s:s,s:s,s:I,s:o}",
		       "cluster", pstr_or(json_object_get(attrs, "cluster"), ""),
		       "serviceName", pstr_or(json_object_get(attrs, "name"), ""),
		       "taskDefinition", pstr_or(json_object_get(attrs, "task_definition"), ""),
		       "desiredCount",
		       (json_int_t)json_number_value(json_object_get(attrs, "desired_count")),
		       "tags", ptags_to_list(tags, "key", "value"));
	if (*launch)
		json_object_set_new(in, "launchType", json_string(launch));
	if (json_is_object(net))
		json_object_set_new(in, "networkConfiguration", net_in(net));
	if (json_array_size(lbs) > 0)
		json_object_set(in, "loadBalancers", lbs);
	if (json_is_object(reg))
		json_object_set_new(in, "serviceRegistries", registries_in(reg));
	json_object_set_new(in, "deploymentController", json_pack("{s:s}", "type", pstr_or(
		json_object_get(json_object_get(attrs, "deployment_controller"), "type"), "ECS")));
	json_object_set_new(in, "deploymentConfiguration", deploy_config_in(attrs));
	/* Left out at their defaults: AWS refuses a grace period on a service
	 * without a load balancer. */
	if (grace > 0)
		json_object_set_new(in, "healthCheckGracePeriodSeconds", json_integer(grace));
	if (json_is_true(json_object_get(attrs, "enable_execute_command")))
		json_object_set_new(in, "enableExecuteCommand", json_true());
	if (strcmp(prop, "NONE") != 0)
		json_object_set_new(in, "propagateTags", json_string(prop));
	if (pcall_retry_if(ctx, "ecs", "CreateService", in, &res, CREATE_RETRY_CODES,
			   CREATE_RETRY_MSGS, SVC_CREATE_TIMEOUT_MS, err) != 0)
		goto out;
	arn = json_string_value(json_object_get(json_object_get(res, "service"), "serviceArn"));
	if (!arn) {
		err_set(err, CAIRN_EAWS, "CreateService on %s: no service ARN in the answer",
			ctx->name);
		goto out;
	}
	if (pread_created(ctx, svc_read, "CreateService", "service", arn, attrs, "arn", out,
			  err) != 0) {
		json_object_set(*out, "cluster", json_object_get(attrs, "cluster"));
		goto out;
	}
	deployment = primary_of(res);
	if (svc_settle(ctx, arn, attrs, deployment, out, err) != 0)
		goto out;
	rc = 0;
out:
	free(deployment);
	json_decref(tags);
	json_decref(lbs);
	json_decref(in);
	json_decref(res);
	return rc;
}

static int svc_update(const struct provider_ctx *ctx, const char *id, json_t *old,
		      json_t *want, json_t *changed, json_t **out, struct cairn_err *err)
{
	const char *cluster = pstr_or(json_object_get(want, "cluster"), "");
	json_t *in = json_pack("{s:s,s:s}", "cluster", cluster, "service", id), *res = NULL;
	char *deployment = NULL;
	int rc = -1, call;
	size_t i;

	*out = NULL;
	if (pchanged(changed, "task_definition"))
		json_object_set(in, "taskDefinition", json_object_get(want, "task_definition"));
	if (pchanged(changed, "desired_count"))
		json_object_set_new(in, "desiredCount", json_integer((json_int_t)
			json_number_value(json_object_get(want, "desired_count"))));
	if (pchanged(changed, "network_configuration") &&
	    json_is_object(json_object_get(want, "network_configuration")))
		json_object_set_new(in, "networkConfiguration",
				    net_in(json_object_get(want, "network_configuration")));
	if (pchanged(changed, "service_registries"))
		json_object_set_new(in, "serviceRegistries",
				    registries_in(json_object_get(want, "service_registries")));
	if (pchanged(changed, "deployment_minimum_healthy_percent") ||
	    pchanged(changed, "deployment_maximum_percent") ||
	    pchanged(changed, "deployment_circuit_breaker"))
		json_object_set_new(in, "deploymentConfiguration", deploy_config_in(want));
	if (pchanged(changed, "health_check_grace_period_seconds"))
		json_object_set_new(in, "healthCheckGracePeriodSeconds", json_integer(json_int_or(
			json_object_get(want, "health_check_grace_period_seconds"), 0)));
	if (pchanged(changed, "enable_execute_command"))
		json_object_set(in, "enableExecuteCommand",
				json_object_get(want, "enable_execute_command"));
	if (pchanged(changed, "propagate_tags"))
		json_object_set(in, "propagateTags", json_object_get(want, "propagate_tags"));
	/* As Terraform: with force_new_deployment on, every change but the
	 * tags (and the wait, which is cairn's) starts a new deployment. */
	call = json_object_size(in) > 2;
	for (i = 0; i < json_array_size(changed) && !call; i++) {
		const char *c = json_string_value(json_array_get(changed, i));

		call = c && strcmp(c, "tags") != 0 && strcmp(c, "wait_for_steady_state") != 0 &&
		       json_is_true(json_object_get(want, "force_new_deployment"));
	}
	if (call && json_is_true(json_object_get(want, "force_new_deployment")))
		json_object_set_new(in, "forceNewDeployment", json_true());
	if (call) {
		if (pcall(ctx, "ecs", "UpdateService", in, &res, err) != 0)
			goto out;
		deployment = primary_of(res);
	}
	if (pchanged(changed, "tags") &&
	    ptags_sync(ctx, &TAG_API, id, json_object_get(old, "tags"),
		       json_object_get(want, "tags"), err) != 0)
		goto out;
	if (pread_after(ctx, svc_read, "UpdateService", "service", id, want, out, err) != 0)
		goto out;
	/* Only a change AWS acted on has a deployment to wait for. */
	if (call && svc_settle(ctx, id, want, deployment, out, err) != 0)
		goto out;
	rc = 0;
out:
	free(deployment);
	json_decref(res);
	json_decref(in);
	return rc;
}

static int gone_err(const struct cairn_err *err)
{
	return perr_is(err, "ServiceNotFoundException") ||
	       perr_is(err, "ClusterNotFoundException") ||
	       perr_is(err, "ServiceNotActiveException");
}

struct svc_gone {
	const char *cluster, *id;
};

/* 1 once the service is gone or INACTIVE. */
static int svc_gone_poll(const struct provider_ctx *ctx, void *arg, char *status,
			 size_t status_len, struct cairn_err *err)
{
	struct svc_gone *g = arg;
	json_t *s = NULL;
	int rc;

	if (svc_describe_one(ctx, g->cluster, g->id, &s, err) != 0)
		return -1;
	snprintf(status, status_len, "%s", pstr_or(json_object_get(s, "status"), "gone"));
	rc = !s || strcmp(status, "INACTIVE") == 0;
	json_decref(s);
	return rc;
}

static int svc_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
		      struct cairn_err *err)
{
	char *cluster = svc_cluster(id, attrs);
	struct svc_gone g = {cluster, id};
	struct pwait_spec spec = {"waiting for the service to drain", ECS_POLL_MS, 0,
				  SVC_DELETE_TIMEOUT_MS};
	json_t *in = NULL;
	int rc = -1;

	if (!cluster) {
		err_set(err, CAIRN_EINVAL, "%s: no cluster known for service '%s'", ctx->name, id);
		return -1;
	}
	/* Scale in first so the tasks stop before the service goes away. */
	in = json_pack("{s:s,s:s,s:i}", "cluster", cluster, "service", id, "desiredCount", 0);
	if (pcall_void(ctx, "ecs", "UpdateService", in, err) != 0) {
		if (!gone_err(err))
			goto out;
		err_clear(err);
	}
	json_decref(in);
	in = json_pack("{s:s,s:s,s:b}", "cluster", cluster, "service", id, "force", 1);
	if (pcall_void(ctx, "ecs", "DeleteService", in, err) != 0) {
		if (!gone_err(err))
			goto out;
		err_clear(err);
	}
	/* DRAINING until the tasks are stopped, then INACTIVE. */
	rc = pwait_until(ctx, &spec, svc_gone_poll, &g, err);
out:
	free(cluster);
	json_decref(in);
	return rc;
}

/* By "CLUSTER/SERVICE" (Terraform's form) or by a long-format ARN. */

/* The name is unique per cluster; adopt the service only if our tags are on it. */
static int svc_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		    struct cairn_err *err)
{
	const char *name = json_string_value(json_object_get(attrs, "name"));
	const char *cluster = json_string_value(json_object_get(attrs, "cluster"));
	json_t *s = NULL;

	*out = NULL;
	if (!name || !cluster)
		return 0;
	if (svc_describe_one(ctx, cluster, name, &s, err) != 0)
		return -1;
	if (s && ptags_owned_by(json_object_get(s, "tags"), "key", "value", ctx))
		*out = svc_attrs(s, attrs);
	json_decref(s);
	return 0;
}

const struct resource_ops aws_ecs_service_ops = {
	.type = "aws_ecs_service",
	.create = svc_create,
	.read = svc_read,
	.read_batch = svc_read_batch,
	.update = svc_update,
	.delete = svc_delete,
	.find = svc_find,
};
