/*
 * codebuild: the aws_codebuild_project resource type (CodeBuild, json
 * protocol).
 *
 * The id is the project name (BatchGetProjects takes names and ARNs, so
 * an import by either works). CreateProject takes the ownership tags;
 * every other change is one UpdateProject carrying the whole project,
 * tags included (UpdateProject replaces the tag set, so the ownership
 * tags go again). A batch read is one BatchGetProjects per 100 projects,
 * tags included in the answer. The nested blocks (source, artifacts,
 * environment, logs_config) are converted through blockmap tables.
 */
#include <stdlib.h>
#include <string.h>

#include "blockmap.h"
#include "common.h"

#define SVC "codebuild"
#define CB_GET_MAX 100

static const struct bm_field ENV_VAR[] = {
	{"name", "name", BM_STR, NULL, NULL, 0},
	{"value", "value", BM_STR, NULL, NULL, 0},
	{"type", "type", BM_STR, NULL, NULL, 0},
	{NULL, NULL, 0, NULL, NULL, 0},
};

static const struct bm_field ENVIRONMENT[] = {
	{"compute_type", "computeType", BM_STR, NULL, NULL, 0},
	{"image", "image", BM_STR, NULL, NULL, 0},
	{"type", "type", BM_STR, NULL, NULL, 0},
	{"image_pull_credentials_type", "imagePullCredentialsType", BM_STR, NULL, NULL, 0},
	{"privileged_mode", "privilegedMode", BM_BOOL, NULL, NULL, 0},
	{"certificate", "certificate", BM_STR, NULL, NULL, 0},
	{"environment_variable", "environmentVariables", BM_LIST, ENV_VAR, NULL, 0},
	{NULL, NULL, 0, NULL, NULL, 0},
};

static const struct bm_field SOURCE[] = {
	{"type", "type", BM_STR, NULL, NULL, 0},
	{"location", "location", BM_STR, NULL, NULL, 0},
	{"buildspec", "buildspec", BM_STR, NULL, NULL, 0},
	{"git_clone_depth", "gitCloneDepth", BM_NUM, NULL, NULL, 0},
	{"insecure_ssl", "insecureSsl", BM_BOOL, NULL, NULL, 0},
	{"report_build_status", "reportBuildStatus", BM_BOOL, NULL, NULL, 0},
	{NULL, NULL, 0, NULL, NULL, 0},
};

static const struct bm_field ARTIFACTS[] = {
	{"type", "type", BM_STR, NULL, NULL, 0},
	{"location", "location", BM_STR, NULL, NULL, 0},
	{"name", "name", BM_STR, NULL, NULL, 0},
	{"path", "path", BM_STR, NULL, NULL, 0},
	{"namespace_type", "namespaceType", BM_STR, NULL, NULL, 0},
	{"packaging", "packaging", BM_STR, NULL, NULL, 0},
	{"encryption_disabled", "encryptionDisabled", BM_BOOL, NULL, NULL, 0},
	{"override_artifact_name", "overrideArtifactName", BM_BOOL, NULL, NULL, 0},
	{NULL, NULL, 0, NULL, NULL, 0},
};

static const struct bm_field CW_LOGS[] = {
	{"status", "status", BM_STR, NULL, NULL, 0},
	{"group_name", "groupName", BM_STR, NULL, NULL, 0},
	{"stream_name", "streamName", BM_STR, NULL, NULL, 0},
	{NULL, NULL, 0, NULL, NULL, 0},
};

static const struct bm_field S3_LOGS[] = {
	{"status", "status", BM_STR, NULL, NULL, 0},
	{"location", "location", BM_STR, NULL, NULL, 0},
	{"encryption_disabled", "encryptionDisabled", BM_BOOL, NULL, NULL, 0},
	{NULL, NULL, 0, NULL, NULL, 0},
};

static const struct bm_field LOGS[] = {
	{"cloudwatch_logs", "cloudWatchLogs", BM_BLOCK, CW_LOGS, NULL, 0},
	{"s3_logs", "s3Logs", BM_BLOCK, S3_LOGS, NULL, 0},
	{NULL, NULL, 0, NULL, NULL, 0},
};

/* The project's top-level members and blocks. */
static const struct bm_field PROJECT[] = {
	{"name", "name", BM_STR, NULL, NULL, 0},
	{"description", "description", BM_STR, NULL, NULL, 0},
	{"service_role", "serviceRole", BM_STR, NULL, NULL, 0},
	{"build_timeout", "timeoutInMinutes", BM_NUM, NULL, NULL, 60},
	{"queued_timeout", "queuedTimeoutInMinutes", BM_NUM, NULL, NULL, 480},
	{"encryption_key", "encryptionKey", BM_STR, NULL, NULL, 0},
	{"source_version", "sourceVersion", BM_STR, NULL, NULL, 0},
	{"source", "source", BM_BLOCK, SOURCE, NULL, 0},
	{"artifacts", "artifacts", BM_BLOCK, ARTIFACTS, NULL, 0},
	{"environment", "environment", BM_BLOCK, ENVIRONMENT, NULL, 0},
	{"logs_config", "logsConfig", BM_BLOCK, LOGS, NULL, 0},
	{NULL, NULL, 0, NULL, NULL, 0},
};

/* Attribute object of a project as BatchGetProjects reports it. New ref. */
static json_t *project_attrs(json_t *p)
{
	json_t *o = bm_from_aws(p, PROJECT);

	json_object_set_new(o, "id", pstr_json(json_object_get(p, "name")));
	json_object_set_new(o, "arn", pstr_json(json_object_get(p, "arn")));
	json_object_set_new(o, "badge_url",
			    pstr_json(json_object_get(json_object_get(p, "badge"), "badgeRequestUrl")));
	json_object_set_new(o, "tags", ptags_from_list(json_object_get(p, "tags"), "key", "value"));
	return o;
}

/* BatchGetProjects of names[from, to) into found (name and ARN -> project). */
static int get_chunk(const struct provider_ctx *ctx, const char *const *names, size_t from,
		     size_t to, json_t *found, struct cairn_err *err)
{
	json_t *list = json_array(), *in, *res = NULL, *p;
	size_t i;
	int rc;

	for (i = from; i < to; i++)
		json_array_append_new(list, json_string(names[i]));
	in = json_pack("{s:o}", "names", list);
	rc = pcall(ctx, SVC, "BatchGetProjects", in, &res, err);
	if (rc == 0)
		json_array_foreach(json_object_get(res, "projects"), i, p) {
			if (pstr(p, "name"))
				json_object_set(found, pstr(p, "name"), p);
			if (pstr(p, "arn"))
				json_object_set(found, pstr(p, "arn"), p);
		}
	json_decref(in);
	json_decref(res);
	return rc;
}

/* Reads ids[0, n) into outs; *raw (may be NULL) gets the projects found. */
static int read_projects(const struct provider_ctx *const *ctxs, size_t n,
			 const char *const *ids, json_t **outs, json_t **raw,
			 struct cairn_err *err)
{
	json_t *found = json_object(), *p;
	size_t i;
	int rc = -1;

	for (i = 0; i < n; i++)
		outs[i] = NULL;
	if (pread_chunks(ctxs, ids, n, CB_GET_MAX, get_chunk, found, err) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		p = json_object_get(found, ids[i]);
		if (p)
			outs[i] = project_attrs(p);
	}
	rc = 0;
out:
	if (raw && rc == 0)
		*raw = json_incref(found);
	json_decref(found);
	return rc;
}

static int cb_read_batch(const struct provider_ctx *const *ctxs, size_t n,
			 const char *const *ids, json_t *const *priors, json_t **outs,
			 struct cairn_err *err)
{
	return read_projects(ctxs, n, ids, outs, NULL, err);
}

static int cb_read(const struct provider_ctx *ctx, const char *id, json_t *prior, json_t **out,
		   struct cairn_err *err)
{
	return read_projects(&ctx, 1, &id, out, NULL, err);
}

/* CreateProject / UpdateProject input: the whole project with the tags
 * (ownership tags included). New ref. */
static json_t *project_input(const struct provider_ctx *ctx, json_t *attrs)
{
	json_t *in = bm_to_aws(attrs, PROJECT);
	json_t *tags = ptags_with_owner(ctx, json_object_get(attrs, "tags"));

	json_object_set_new(in, "tags", ptags_to_list(tags, "key", "value"));
	json_decref(tags);
	return in;
}

/* A service role created moments ago may not be assumable by CodeBuild
 * yet: AWS refuses with InvalidInputException "CodeBuild is not
 * authorized to perform: sts:AssumeRole"; only that refusal is waited
 * out, any other invalid input fails at once. */
#define CB_ROLE_WAIT_MS (60 * 1000L)
static const char *const ROLE_CODES[] = {"InvalidInputException", NULL};
static const char *const ROLE_MSGS[] = {"sts:AssumeRole", NULL};

static int call_role_ready(const struct provider_ctx *ctx, const char *op, json_t *in,
			   json_t **res, struct cairn_err *err)
{
	return pcall_retry_if(ctx, SVC, op, in, res, ROLE_CODES, ROLE_MSGS, CB_ROLE_WAIT_MS, err);
}

static int cb_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		     struct cairn_err *err)
{
	const char *name = pstr(attrs, "name");
	json_t *in = project_input(ctx, attrs), *res = NULL;
	int rc = -1, created = 0;

	*out = NULL;
	if (call_role_ready(ctx, "CreateProject", in, &res, err) != 0)
		goto out;
	created = 1;
	/* Read back as every later read sees it (BatchGetProjects fills in
	 * what CreateProject's answer may leave out). */
	if (pread_back(ctx, cb_read, "CreateProject", "project", name, attrs, out, err) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0 && created && !*out)
		*out = json_pack("{s:s,s:s}", "id", name, "name", name);
	json_decref(in);
	json_decref(res);
	return rc;
}

static int cb_update(const struct provider_ctx *ctx, const char *id, json_t *old, json_t *want,
		     json_t *changed, json_t **out, struct cairn_err *err)
{
	json_t *in = project_input(ctx, want), *res = NULL;
	int rc = -1;

	*out = NULL;
	bm_clear_changed(in, changed, PROJECT);
	json_object_set_new(in, "name", json_string(id));
	if (call_role_ready(ctx, "UpdateProject", in, &res, err) != 0)
		goto out;
	if (pread_after(ctx, cb_read, "update", "project", id, want, out, err) != 0)
		goto out;
	rc = 0;
out:
	json_decref(in);
	json_decref(res);
	return rc;
}

static int cb_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
		     struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "name", id);
	int rc = pcall_gone(ctx, SVC, "DeleteProject", in, "ResourceNotFoundException", err);

	json_decref(in);
	return rc;
}

/* Names are unique per region: adopt the project of that name only if it
 * carries this resource's ownership tags. */
static int cb_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		   struct cairn_err *err)
{
	const char *name = pstr(attrs, "name");
	json_t *raw = NULL, *p;
	int rc;

	*out = NULL;
	if (!name)
		return 0;
	rc = read_projects(&ctx, 1, &name, out, &raw, err);
	p = json_object_get(raw, name);
	if (rc == 0 && *out && !ptags_owned_by(json_object_get(p, "tags"), "key", "value", ctx)) {
		json_decref(*out);
		*out = NULL;
	}
	json_decref(raw);
	return rc;
}

const struct resource_ops aws_codebuild_project_ops = {
	.type = "aws_codebuild_project",
	.create = cb_create,
	.read = cb_read,
	.read_batch = cb_read_batch,
	.update = cb_update,
	.delete = cb_delete,
	.find = cb_find,
};
