/*
 * codecommit: the aws_codecommit_repository resource type (CodeCommit,
 * json protocol).
 *
 * The id is the repository name. CreateRepository takes the ownership
 * tags; a new name is UpdateRepositoryName and a new description
 * UpdateRepositoryDescription (both in place, as in Terraform); the
 * default branch can only name a branch that exists, so it is set only
 * when it is given and differs. A repository is read from GetRepository
 * and ListTagsForResource.
 *
 * The tags are the one part of a read that may be missing without harm:
 * when ListTagsForResource answers with a server error (after the
 * client's retries; moto 5.2.1 has no CodeCommit tag calls and always
 * answers 500), the recorded tags stand in, so tag drift shows on a later
 * plan instead of the read failing. Crash adoption needs the tags to
 * prove ownership and adopts nothing without them.
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "tagdiff.h"

#define SVC "codecommit"

static const char *const GONE[] = {"RepositoryDoesNotExistException", NULL};

/* GetRepository's repositoryMetadata of name: *meta new ref, NULL when gone. */
static int repo_get(const struct provider_ctx *ctx, const char *name, json_t **meta,
		    struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "repositoryName", name), *res = NULL;
	int rc = pcall_found(ctx, SVC, "GetRepository", in, GONE, &res, err);

	*meta = NULL;
	if (rc == 0 && json_is_object(json_object_get(res, "repositoryMetadata")))
		*meta = json_incref(json_object_get(res, "repositoryMetadata"));
	json_decref(in);
	json_decref(res);
	return rc;
}

/* The repository's tags as a {"k":"v"} map, ownership tags included:
 * *tags new ref, NULL when the service could not answer (see the top). */
static int repo_tags(const struct provider_ctx *ctx, const char *arn, json_t **tags,
		     struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "resourceArn", arn), *res = NULL;
	int rc = 0;

	*tags = NULL;
	if (pcall(ctx, SVC, "ListTagsForResource", in, &res, err) == 0) {
		*tags = json_is_object(json_object_get(res, "tags")) ?
			json_incref(json_object_get(res, "tags")) : json_object();
	} else if (err->code == CAIRN_EAWS && err->remote.status >= 500) {
		err_clear(err);
	} else {
		rc = -1;
	}
	json_decref(in);
	json_decref(res);
	return rc;
}

static int repo_read(const struct provider_ctx *ctx, const char *id, json_t *prior, json_t **out,
		     struct cairn_err *err)
{
	json_t *meta = NULL, *tags = NULL, *o;
	int rc = -1;

	*out = NULL;
	if (repo_get(ctx, id, &meta, err) != 0)
		goto out;
	if (!meta) {
		rc = 0;
		goto out;
	}
	if (repo_tags(ctx, pstr_or(json_object_get(meta, "Arn"), ""), &tags, err) != 0)
		goto out;
	o = json_object();
	json_object_set_new(o, "id", pstr_json(json_object_get(meta, "repositoryName")));
	json_object_set_new(o, "repository_name",
			    pstr_json(json_object_get(meta, "repositoryName")));
	json_object_set_new(o, "description",
			    pstr_json(json_object_get(meta, "repositoryDescription")));
	json_object_set_new(o, "default_branch", pstr_json(json_object_get(meta, "defaultBranch")));
	if (pstr(meta, "kmsKeyId"))
		json_object_set_new(o, "kms_key_id", json_string(pstr(meta, "kmsKeyId")));
	json_object_set_new(o, "tags", tags ? ptags_strip_owner(tags) :
			    json_deep_copy(json_object_get(prior, "tags")));
	if (json_is_null(json_object_get(o, "tags")))
		json_object_set_new(o, "tags", json_object());
	json_object_set_new(o, "arn", pstr_json(json_object_get(meta, "Arn")));
	json_object_set_new(o, "repository_id", pstr_json(json_object_get(meta, "repositoryId")));
	json_object_set_new(o, "clone_url_http", pstr_json(json_object_get(meta, "cloneUrlHttp")));
	json_object_set_new(o, "clone_url_ssh", pstr_json(json_object_get(meta, "cloneUrlSsh")));
	*out = o;
	rc = 0;
out:
	json_decref(meta);
	json_decref(tags);
	return rc;
}

/* Sets the default branch when one is wanted and differs. */
static int set_branch(const struct provider_ctx *ctx, const char *name, json_t *want,
		      json_t *have, struct cairn_err *err)
{
	const char *b = pstr(want, "default_branch"), *cur = pstr(have, "default_branch");
	json_t *in;
	int rc;

	if (!b || !*b || (cur && strcmp(cur, b) == 0))
		return 0;
	in = json_pack("{s:s,s:s}", "repositoryName", name, "defaultBranchName", b);
	rc = pcall_void(ctx, SVC, "UpdateDefaultBranch", in, err);
	json_decref(in);
	return rc;
}

static int repo_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		       struct cairn_err *err)
{
	const char *name = pstr(attrs, "repository_name"), *desc = pstr(attrs, "description");
	const char *kms = pstr(attrs, "kms_key_id");
	json_t *in = json_pack("{s:s,s:o}", "repositoryName", name, "tags",
			       ptags_with_owner(ctx, json_object_get(attrs, "tags")));
	int rc = -1, created = 0;

	*out = NULL;
	if (desc && *desc)
		json_object_set_new(in, "repositoryDescription", json_string(desc));
	if (kms && *kms)
		json_object_set_new(in, "kmsKeyId", json_string(kms));
	if (pcall_void(ctx, SVC, "CreateRepository", in, err) != 0)
		goto out;
	created = 1;
	if (pread_back(ctx, repo_read, "CreateRepository", "repository", name, attrs, out, err) != 0)
		goto out;
	if (pstr(attrs, "default_branch") && *pstr(attrs, "default_branch")) {
		if (set_branch(ctx, name, attrs, *out, err) != 0)
			goto out;
		json_decref(*out);
		if (repo_read(ctx, name, attrs, out, err) != 0 || !*out)
			goto out;
	}
	rc = 0;
out:
	if (rc != 0 && created && !*out)
		*out = json_pack("{s:s,s:s}", "id", name, "repository_name", name);
	json_decref(in);
	return rc;
}

static const struct ptag_api TAG_API = {
	.service = SVC, .untag_op = "UntagResource", .tag_op = "TagResource",
	.id_member = "resourceArn", .keys_member = "tagKeys", .tags_member = "tags",
};

static int repo_update(const struct provider_ctx *ctx, const char *id, json_t *old, json_t *want,
		       json_t *changed, json_t **out, struct cairn_err *err)
{
	const char *name = pstr(want, "repository_name");
	json_t *in = NULL;
	int rc = -1;

	*out = NULL;
	if (pchanged(changed, "repository_name")) {
		in = json_pack("{s:s,s:s}", "oldName", id, "newName", name);
		if (pcall_void(ctx, SVC, "UpdateRepositoryName", in, err) != 0)
			goto out;
		json_decref(in);
		in = NULL;
	}
	if (pchanged(changed, "description")) {
		in = json_pack("{s:s,s:s}", "repositoryName", name, "repositoryDescription",
			       pstr_or(json_object_get(want, "description"), ""));
		if (pcall_void(ctx, SVC, "UpdateRepositoryDescription", in, err) != 0)
			goto out;
	}
	if (pchanged(changed, "default_branch") && set_branch(ctx, name, want, old, err) != 0)
		goto out;
	if (pchanged(changed, "tags") &&
	    ptags_sync(ctx, &TAG_API, pstr(old, "arn"), json_object_get(old, "tags"),
		       json_object_get(want, "tags"), err) != 0)
		goto out;
	if (pread_after(ctx, repo_read, "update", "repository", name, want, out, err) != 0)
		goto out;
	rc = 0;
out:
	json_decref(in);
	return rc;
}

/* DeleteRepository of a repository that is not there succeeds. */
static int repo_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
		       struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "repositoryName", id);
	int rc = pcall_void(ctx, SVC, "DeleteRepository", in, err);

	json_decref(in);
	return rc;
}

/* Names are unique per region: adopt the repository of that name only if
 * its tags show it is this resource's. */
static int repo_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		     struct cairn_err *err)
{
	json_t *meta = NULL, *tags = NULL, *list = NULL;
	int rc = -1;

	*out = NULL;
	if (!pstr(attrs, "repository_name"))
		return 0;
	if (repo_get(ctx, pstr(attrs, "repository_name"), &meta, err) != 0)
		goto out;
	if (!meta || repo_tags(ctx, pstr_or(json_object_get(meta, "Arn"), ""), &tags, err) != 0) {
		rc = meta ? -1 : 0;
		goto out;
	}
	list = tags ? ptags_to_list(tags, "Key", "Value") : json_array();
	if (ptags_owned_by(list, "Key", "Value", ctx) &&
	    repo_read(ctx, pstr(attrs, "repository_name"), attrs, out, err) != 0)
		goto out;
	rc = 0;
out:
	json_decref(meta);
	json_decref(tags);
	json_decref(list);
	return rc;
}

const struct resource_ops aws_codecommit_repository_ops = {
	.type = "aws_codecommit_repository",
	.create = repo_create,
	.read = repo_read,
	.update = repo_update,
	.delete = repo_delete,
	.find = repo_find,
};
