/*
 * codepipeline: the aws_codepipeline resource type (CodePipeline, json
 * protocol).
 *
 * The id is the pipeline name. Stages and actions are written as
 * Terraform writes them: each action names its category, owner, provider
 * and version (AWS's actionTypeId), a string map of configuration (a
 * CodeBuild action's ProjectName, a manual approval's NotificationArn and
 * CustomData, an ECS deploy's ClusterName/ServiceName/FileName, a Lambda
 * invoke's FunctionName/UserParameters, ...) and its artifacts by name.
 * One artifact store without a region is AWS's artifactStore; stores
 * with regions (cross-region actions) are its artifactStores map.
 *
 * CreatePipeline takes the ownership tags; every other change but the
 * name is one UpdatePipeline with the whole declaration (tags through
 * Tag/UntagResource). A pipeline is read from GetPipeline and
 * ListTagsForResource; the API has no batched read.
 */
#include <stdlib.h>
#include <string.h>

#include "blockmap.h"
#include "common.h"
#include "tagdiff.h"

#define SVC "codepipeline"

static const char *const GONE[] = {"PipelineNotFoundException", NULL};

static const struct bm_field ENC_KEY[] = {
	{"id", "id", BM_STR, NULL, NULL, 0},
	{"type", "type", BM_STR, NULL, NULL, 0},
	{NULL, NULL, 0, NULL, NULL, 0},
};

static const struct bm_field STORE[] = {
	{"location", "location", BM_STR, NULL, NULL, 0},
	{"type", "type", BM_STR, NULL, NULL, 0},
	{"encryption_key", "encryptionKey", BM_BLOCK, ENC_KEY, NULL, 0},
	{NULL, NULL, 0, NULL, NULL, 0},
};

/* The members of an action that map one to one; actionTypeId is built
 * by hand. */
static const struct bm_field ACTION[] = {
	{"name", "name", BM_STR, NULL, NULL, 0},
	{"configuration", "configuration", BM_MAP, NULL, NULL, 0},
	{"input_artifacts", "inputArtifacts", BM_NAMES, NULL, "name", 0},
	{"output_artifacts", "outputArtifacts", BM_NAMES, NULL, "name", 0},
	{"role_arn", "roleArn", BM_STR, NULL, NULL, 0},
	{"run_order", "runOrder", BM_NUM, NULL, NULL, 1},
	{"region", "region", BM_STR, NULL, NULL, 0},
	{"namespace", "namespace", BM_STR, NULL, NULL, 0},
	{NULL, NULL, 0, NULL, NULL, 0},
};

static const char *const TYPE_ID[][2] = {
	{"category", "category"}, {"owner", "owner"}, {"provider", "provider"},
	{"version", "version"},
};
#define N_TYPE_ID (sizeof(TYPE_ID) / sizeof(TYPE_ID[0]))

static json_t *action_to_aws(json_t *a)
{
	json_t *o = bm_to_aws(a, ACTION), *t = json_object();
	size_t i;

	for (i = 0; i < N_TYPE_ID; i++)
		json_object_set_new(t, TYPE_ID[i][1],
				    json_string(pstr_or(json_object_get(a, TYPE_ID[i][0]), "")));
	json_object_set_new(o, "actionTypeId", t);
	return o;
}

static json_t *action_from_aws(json_t *a)
{
	json_t *o = bm_from_aws(a, ACTION), *t = json_object_get(a, "actionTypeId");
	size_t i;

	for (i = 0; i < N_TYPE_ID; i++)
		json_object_set_new(o, TYPE_ID[i][0], pstr_json(json_object_get(t, TYPE_ID[i][1])));
	return o;
}

/* The pipeline declaration of attrs (name given separately). New ref. */
static json_t *declaration(const char *name, json_t *attrs)
{
	json_t *p = json_pack("{s:s,s:s}", "name", name, "roleArn",
			      pstr_or(json_object_get(attrs, "role_arn"), ""));
	json_t *stages = json_array(), *stores = json_object(), *s, *a, *actions, *st;
	json_t *list = json_object_get(attrs, "artifact_store");
	size_t i, j;

	json_array_foreach(list, i, s) {
		st = bm_to_aws(s, STORE);
		if (pstr(s, "region") && *pstr(s, "region"))
			json_object_set_new(stores, pstr(s, "region"), st);
		else
			json_object_set_new(p, "artifactStore", st);
	}
	if (json_object_size(stores))
		json_object_set(p, "artifactStores", stores);
	json_array_foreach(json_object_get(attrs, "stage"), i, s) {
		actions = json_array();
		json_array_foreach(json_object_get(s, "action"), j, a)
			json_array_append_new(actions, action_to_aws(a));
		json_array_append_new(stages, json_pack("{s:s,s:o}", "name",
							pstr_or(json_object_get(s, "name"), ""),
							"actions", actions));
	}
	json_object_set_new(p, "stages", stages);
	if (pstr(attrs, "pipeline_type") && *pstr(attrs, "pipeline_type"))
		json_object_set_new(p, "pipelineType", json_string(pstr(attrs, "pipeline_type")));
	if (pstr(attrs, "execution_mode") && *pstr(attrs, "execution_mode"))
		json_object_set_new(p, "executionMode", json_string(pstr(attrs, "execution_mode")));
	json_decref(stores);
	return p;
}

/* Attribute object of GetPipeline's answer and the tag list. New ref. */
static json_t *pipeline_attrs(json_t *res, json_t *tags)
{
	json_t *p = json_object_get(res, "pipeline"), *o = json_object();
	json_t *stores = json_array(), *stages = json_array(), *s, *a, *actions, *e;
	const char *region;
	size_t i, j;

	json_object_set_new(o, "id", pstr_json(json_object_get(p, "name")));
	json_object_set_new(o, "name", pstr_json(json_object_get(p, "name")));
	json_object_set_new(o, "role_arn", pstr_json(json_object_get(p, "roleArn")));
	json_object_set_new(o, "pipeline_type",
			    json_string(pstr_or(json_object_get(p, "pipelineType"), "V1")));
	json_object_set_new(o, "execution_mode",
			    json_string(pstr_or(json_object_get(p, "executionMode"), "SUPERSEDED")));
	if (json_is_object(json_object_get(p, "artifactStore"))) {
		e = bm_from_aws(json_object_get(p, "artifactStore"), STORE);
		json_object_set_new(e, "region", json_string(""));
		json_array_append_new(stores, e);
	}
	json_object_foreach(json_object_get(p, "artifactStores"), region, s) {
		e = bm_from_aws(s, STORE);
		json_object_set_new(e, "region", json_string(region));
		json_array_append_new(stores, e);
	}
	json_object_set_new(o, "artifact_store", stores);
	json_array_foreach(json_object_get(p, "stages"), i, s) {
		actions = json_array();
		json_array_foreach(json_object_get(s, "actions"), j, a)
			json_array_append_new(actions, action_from_aws(a));
		json_array_append_new(stages, json_pack("{s:O,s:o}", "name",
							json_object_get(s, "name"), "action",
							actions));
	}
	json_object_set_new(o, "stage", stages);
	json_object_set_new(o, "tags", ptags_from_list(tags, "key", "value"));
	json_object_set_new(o, "arn",
			    pstr_json(json_object_get(json_object_get(res, "metadata"),
						      "pipelineArn")));
	json_object_set_new(o, "version",
			    json_integer(json_integer_value(json_object_get(p, "version"))));
	return o;
}

/* GetPipeline's answer (*res) and the tag list (*tags), new refs; both
 * NULL when the pipeline is gone. */
static int pipeline_get(const struct provider_ctx *ctx, const char *name, json_t **res,
			json_t **tags, struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "name", name), *tin = NULL, *tres = NULL;
	const char *arn;
	int rc = -1;

	*res = *tags = NULL;
	if (pcall_found(ctx, SVC, "GetPipeline", in, GONE, res, err) != 0)
		goto out;
	arn = pstr(json_object_get(*res, "metadata"), "pipelineArn");
	if (!*res || !arn) {
		rc = 0;
		goto out;
	}
	tin = json_pack("{s:s}", "resourceArn", arn);
	if (pcall_found(ctx, SVC, "ListTagsForResource", tin, GONE, &tres, err) != 0)
		goto out;
	if (tres)
		*tags = json_is_array(json_object_get(tres, "tags")) ?
			json_incref(json_object_get(tres, "tags")) : json_array();
	rc = 0;
out:
	if (rc != 0 || !*tags) {
		json_decref(*res);
		*res = NULL;
	}
	json_decref(in);
	json_decref(tin);
	json_decref(tres);
	return rc;
}

static int cp_read(const struct provider_ctx *ctx, const char *id, json_t *prior, json_t **out,
		   struct cairn_err *err)
{
	json_t *res = NULL, *tags = NULL;

	*out = NULL;
	if (pipeline_get(ctx, id, &res, &tags, err) != 0)
		return -1;
	if (res)
		*out = pipeline_attrs(res, tags);
	json_decref(res);
	json_decref(tags);
	return 0;
}

/* A role created moments ago may not be assumable yet: CodePipeline
 * refuses with InvalidStructureException "... not authorized to perform
 * AssumeRole on role ..."; only that refusal is waited out. */
#define CP_ROLE_WAIT_MS (60 * 1000L)
static const char *const ROLE_CODES[] = {"InvalidStructureException", NULL};
static const char *const ROLE_MSGS[] = {"AssumeRole", NULL};

static int call_role_ready(const struct provider_ctx *ctx, const char *op, json_t *in,
			   struct cairn_err *err)
{
	return pcall_retry_if(ctx, SVC, op, in, NULL, ROLE_CODES, ROLE_MSGS, CP_ROLE_WAIT_MS, err);
}

static int cp_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		     struct cairn_err *err)
{
	const char *name = pstr(attrs, "name");
	json_t *tags = ptags_with_owner(ctx, json_object_get(attrs, "tags"));
	json_t *in = json_pack("{s:o,s:o}", "pipeline", declaration(name, attrs), "tags",
			       ptags_to_list(tags, "key", "value"));
	int rc = -1, created = 0;

	*out = NULL;
	if (call_role_ready(ctx, "CreatePipeline", in, err) != 0)
		goto out;
	created = 1;
	if (pread_back(ctx, cp_read, "CreatePipeline", "pipeline", name, attrs, out, err) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0 && created && !*out)
		*out = json_pack("{s:s,s:s}", "id", name, "name", name);
	json_decref(tags);
	json_decref(in);
	return rc;
}

static const struct ptag_api TAG_API = {
	.service = SVC, .untag_op = "UntagResource", .tag_op = "TagResource",
	.id_member = "resourceArn", .keys_member = "tagKeys", .tags_member = "tags",
	.key_name = "key", .value_name = "value",
};

static int cp_update(const struct provider_ctx *ctx, const char *id, json_t *old, json_t *want,
		     json_t *changed, json_t **out, struct cairn_err *err)
{
	json_t *in = NULL, *c;
	size_t i;
	int rc = -1, decl = 0;

	*out = NULL;
	json_array_foreach(changed, i, c)
		decl |= strcmp(json_string_value(c), "tags") != 0;
	if (decl) {
		in = json_pack("{s:o}", "pipeline", declaration(id, want));
		if (call_role_ready(ctx, "UpdatePipeline", in, err) != 0)
			goto out;
	}
	if (pchanged(changed, "tags") &&
	    ptags_sync(ctx, &TAG_API, pstr(old, "arn"), json_object_get(old, "tags"),
		       json_object_get(want, "tags"), err) != 0)
		goto out;
	if (pread_after(ctx, cp_read, "update", "pipeline", id, want, out, err) != 0)
		goto out;
	rc = 0;
out:
	json_decref(in);
	return rc;
}

static int cp_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
		     struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "name", id);
	int rc = pcall_gone(ctx, SVC, "DeletePipeline", in, "PipelineNotFoundException", err);

	json_decref(in);
	return rc;
}

/* Names are unique per region: adopt the pipeline of that name only if it
 * carries this resource's ownership tags. */
static int cp_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		   struct cairn_err *err)
{
	json_t *res = NULL, *tags = NULL;

	*out = NULL;
	if (!pstr(attrs, "name"))
		return 0;
	if (pipeline_get(ctx, pstr(attrs, "name"), &res, &tags, err) != 0)
		return -1;
	if (res && ptags_owned_by(tags, "key", "value", ctx))
		*out = pipeline_attrs(res, tags);
	json_decref(res);
	json_decref(tags);
	return 0;
}

const struct resource_ops aws_codepipeline_ops = {
	.type = "aws_codepipeline",
	.create = cp_create,
	.read = cp_read,
	.update = cp_update,
	.delete = cp_delete,
	.find = cp_find,
};
