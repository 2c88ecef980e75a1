/*
 * ecs: the aws_ecs_cluster resource type (ECS, json protocol).
 *
 * The id is the cluster ARN. A deleted cluster lingers as INACTIVE in
 * DescribeClusters for a while; it counts as gone. Settings are changed
 * with UpdateCluster, which takes the same list as CreateCluster (and,
 * unlike UpdateClusterSettings, is also what moto implements).
 */
#include <string.h>

#include "common.h"
#include "tagdiff.h"

#define ECS_DELETE_TIMEOUT_MS (5 * 60 * 1000L)
#define ECS_CREATE_TIMEOUT_MS (5 * 60 * 1000L)
#define ECS_POLL_MS 2000L
#define ECS_DESCRIBE_MAX 100 /* DescribeClusters takes at most 100 clusters */

/* A cluster as DescribeClusters reports it -> attribute object (new ref). */
static json_t *cluster_attrs(json_t *c)
{
	json_t *out = json_object(), *settings = json_array(), *s;
	size_t i;

	json_object_set_new(out, "id", pstr_json(json_object_get(c, "clusterArn")));
	json_object_set_new(out, "arn", pstr_json(json_object_get(c, "clusterArn")));
	json_object_set_new(out, "name", pstr_json(json_object_get(c, "clusterName")));
	json_array_foreach(json_object_get(c, "settings"), i, s)
		json_array_append_new(settings, json_pack("{s:o,s:o}",
			"name", pstr_json(json_object_get(s, "name")),
			"value", pstr_json(json_object_get(s, "value"))));
	json_object_set_new(out, "setting", settings);
	json_object_set_new(out, "tags", ptags_from_list(json_object_get(c, "tags"), "key", "value"));
	return out;
}

static int cluster_is_gone(json_t *c)
{
	const char *status = json_string_value(json_object_get(c, "status"));

	return !c || (status && strcmp(status, "INACTIVE") == 0);
}

/* The cluster of the array whose ARN or name is id (borrowed), or NULL. */
static json_t *cluster_match(json_t *clusters, const char *id)
{
	json_t *c;
	size_t i;

	json_array_foreach(clusters, i, c) {
		const char *arn = json_string_value(json_object_get(c, "clusterArn"));
		const char *name = json_string_value(json_object_get(c, "clusterName"));

		if ((arn && strcmp(arn, id) == 0) || (name && strcmp(name, id) == 0))
			return c;
	}
	return NULL;
}

/* DescribeClusters with tags and settings for ids (array, borrowed): *clusters new array. */
static int describe(const struct provider_ctx *ctx, json_t *ids, json_t **clusters,
		    struct cairn_err *err)
{
	json_t *in = json_pack("{s:O,s:[ss]}", "clusters", ids, "include", "TAGS", "SETTINGS");
	json_t *out = NULL;
	int rc = -1;

	*clusters = NULL;
	if (pcall(ctx, "ecs", "DescribeClusters", in, &out, err) != 0)
		goto out;
	*clusters = json_incref(json_object_get(out, "clusters"));
	if (!*clusters)
		*clusters = json_array();
	rc = 0;
out:
	json_decref(in);
	json_decref(out);
	return rc;
}

/* One cluster by ARN or name: *c new ref, NULL when gone. */
static int describe_one(const struct provider_ctx *ctx, const char *id, json_t **c,
			struct cairn_err *err)
{
	json_t *ids = json_pack("[s]", id), *clusters = NULL, *m;
	int rc = -1;

	*c = NULL;
	if (describe(ctx, ids, &clusters, err) != 0)
		goto out;
	m = cluster_match(clusters, id);
	if (!cluster_is_gone(m))
		*c = json_incref(m);
	rc = 0;
out:
	json_decref(ids);
	json_decref(clusters);
	return rc;
}

static int ecs_read(const struct provider_ctx *ctx, const char *id, json_t *prior,
		    json_t **out, struct cairn_err *err)
{
	json_t *c = NULL;

	*out = NULL;
	if (describe_one(ctx, id, &c, err) != 0)
		return -1;
	if (c)
		*out = cluster_attrs(c);
	json_decref(c);
	return 0;
}

static int ecs_read_batch(const struct provider_ctx *const *ctxs, size_t n,
			  const char *const *ids, json_t *const *priors, json_t **outs,
			  struct cairn_err *err)
{
	size_t start, i;

	for (i = 0; i < n; i++)
		outs[i] = NULL;
	for (start = 0; start < n; start += ECS_DESCRIBE_MAX) {
		size_t end = n - start > ECS_DESCRIBE_MAX ? start + ECS_DESCRIBE_MAX : n;
		json_t *batch = json_array(), *clusters = NULL;

		for (i = start; i < end; i++)
			json_array_append_new(batch, json_string(ids[i]));
		if (describe(ctxs[start], batch, &clusters, err) != 0) {
			json_decref(batch);
			pouts_clear(outs, n);
			return -1;
		}
		for (i = start; i < end; i++) {
			json_t *c = cluster_match(clusters, ids[i]);

			if (!cluster_is_gone(c))
				outs[i] = cluster_attrs(c);
		}
		json_decref(batch);
		json_decref(clusters);
	}
	return 0;
}

struct active_poll {
	const char *arn;
	json_t *cluster;        /* the last description */
};

static int active_poll(const struct provider_ctx *ctx, void *arg, char *status, size_t status_len,
		       struct cairn_err *err)
{
	struct active_poll *w = arg;

	json_decref(w->cluster);
	if (describe_one(ctx, w->arn, &w->cluster, err) != 0)
		return -1;
	if (!w->cluster) {
		err_set(err, CAIRN_EAWS, "CreateCluster on %s: cluster '%s' vanished after creation",
			ctx->name, w->arn);
		return -1;
	}
	snprintf(status, status_len, "%s", pstr_or(json_object_get(w->cluster, "status"), "?"));
	return strcmp(status, "PROVISIONING") != 0;
}

/* Waits while a new cluster is PROVISIONING (capacity providers being attached). */
static int wait_active(const struct provider_ctx *ctx, const char *arn, json_t **out,
		       struct cairn_err *err)
{
	struct active_poll w = {arn, NULL};
	struct pwait_spec spec = {"waiting for the cluster to leave PROVISIONING", ECS_POLL_MS, 0,
				  ECS_CREATE_TIMEOUT_MS};
	int rc = pwait_until(ctx, &spec, active_poll, &w, err);

	*out = rc == 0 ? cluster_attrs(w.cluster) : NULL;
	json_decref(w.cluster);
	return rc;
}

static int ecs_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		      struct cairn_err *err)
{
	json_t *tags = ptags_with_owner(ctx, json_object_get(attrs, "tags"));
	json_t *settings = json_object_get(attrs, "setting");
	json_t *in, *res = NULL, *c;
	const char *arn;
	int rc = -1;

	*out = NULL;
	in = json_pack("{s:s,s:o}", "clusterName",
		       json_string_value(json_object_get(attrs, "name")),
		       "tags", ptags_to_list(tags, "key", "value"));
	if (json_array_size(settings) > 0)
		json_object_set(in, "settings", settings);
	if (pcall(ctx, "ecs", "CreateCluster", in, &res, err) != 0)
		goto out;
	arn = json_string_value(json_object_get(json_object_get(res, "cluster"), "clusterArn"));
	if (!arn) {
		err_set(err, CAIRN_EAWS, "CreateCluster on %s: no cluster ARN in the answer",
			ctx->name);
		goto out;
	}
	/* The answer describes the cluster (its tags are the ones just set);
	 * read back only while it is PROVISIONING. */
	c = json_object_get(res, "cluster");
	if (strcmp(pstr_or(json_object_get(c, "status"), ""), "PROVISIONING") != 0) {
		*out = cluster_attrs(c);
		json_object_set_new(*out, "tags", ptags_strip_owner(tags));
	} else if (wait_active(ctx, arn, out, err) != 0) {
		pcreated_partial(out, arn, "arn");
		goto out;
	}
	rc = 0;
out:
	json_decref(tags);
	json_decref(in);
	json_decref(res);
	return rc;
}

/* The service's tagging calls for ptags_sync. */
static const struct ptag_api TAG_API = {
	.service = "ecs", .untag_op = "UntagResource", .tag_op = "TagResource",
	.id_member = "resourceArn", .keys_member = "tagKeys", .tags_member = "tags",
	.key_name = "key", .value_name = "value",
};

static int ecs_update(const struct provider_ctx *ctx, const char *id, json_t *old,
		      json_t *want, json_t *changed, json_t **out, struct cairn_err *err)
{
	json_t *settings = json_object_get(want, "setting");
	json_t *in = NULL;
	int rc = -1;

	*out = NULL;
	if (pchanged(changed, "setting") && json_array_size(settings) > 0) {
		in = json_pack("{s:s,s:O}", "cluster", id, "settings", settings);
		if (pcall_void(ctx, "ecs", "UpdateCluster", in, err) != 0)
			goto out;
	}
	if (pchanged(changed, "tags") &&
	    ptags_sync(ctx, &TAG_API, id, json_object_get(old, "tags"),
		       json_object_get(want, "tags"), err) != 0)
		goto out;
	if (pread_after(ctx, ecs_read, "UpdateCluster", "cluster", id, NULL, out, err) != 0)
		goto out;
	rc = 0;
out:
	json_decref(in);
	return rc;
}

/* Errors DeleteCluster gives while services, tasks or instances drain. */
static const char *const DELETE_BUSY[] = {
	"ClusterContainsServicesException", "ClusterContainsTasksException",
	"ClusterContainsContainerInstancesException", "ClusterContainsCapacityProviderException",
	"UpdateInProgressException", "ResourceInUseException", NULL,
};

static int ecs_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
		      struct cairn_err *err)
{
	static const char *const gone[] = {"ClusterNotFoundException", NULL};
	json_t *in = json_pack("{s:s}", "cluster", id);
	int rc = pdelete(ctx, "ecs", "DeleteCluster", in, DELETE_BUSY, gone, ECS_DELETE_TIMEOUT_MS,
			 err);

	json_decref(in);
	return rc;
}


/* The name is unique per region; adopt the cluster only if our tags are on it. */
static int ecs_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		    struct cairn_err *err)
{
	const char *name = json_string_value(json_object_get(attrs, "name"));
	json_t *c = NULL;

	*out = NULL;
	if (!name)
		return 0;
	if (describe_one(ctx, name, &c, err) != 0)
		return -1;
	if (c && ptags_owned_by(json_object_get(c, "tags"), "key", "value", ctx))
		*out = cluster_attrs(c);
	json_decref(c);
	return 0;
}

const struct resource_ops aws_ecs_cluster_ops = {
	.type = "aws_ecs_cluster",
	.create = ecs_create,
	.read = ecs_read,
	.read_batch = ecs_read_batch,
	.update = ecs_update,
	.delete = ecs_delete,
	.find = ecs_find,
};
