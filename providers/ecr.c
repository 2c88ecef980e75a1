/*
 * ecr: the aws_ecr_repository resource type (ECR, json protocol).
 *
 * The id is the repository name. The lifecycle policy is a JSON document
 * the stack writes as a structure; it is encoded here and decoded on read
 * so the diff compares structures, not text. force_delete is cairn's own
 * setting (passed to DeleteRepository); AWS does not keep it, so reads
 * carry it over from the prior attributes. The encryption configuration
 * is set by CreateRepository only (ECR has no call to change it; the
 * schema replaces the repository when it changes).
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "tagdiff.h"

#define ECR_DESCRIBE_MAX 100

/* DescribeRepositories for names (borrowed array): *repos new array; a
 * missing name makes the whole call fail with RepositoryNotFoundException. */
static int describe(const struct provider_ctx *ctx, json_t *names, json_t **repos,
		    struct cairn_err *err)
{
	json_t *in = json_pack("{s:O}", "repositoryNames", names);
	int rc = aws_call_all(ctx->aws, "ecr", "DescribeRepositories", in, "repositories",
			      repos, err);

	if (rc != 0)
		err_prefix(err, "DescribeRepositories on %s", ctx->name);
	json_decref(in);
	return rc;
}

/* One repository: *repo new ref, NULL when it does not exist. */
static int describe_one(const struct provider_ctx *ctx, const char *name, json_t **repo,
			struct cairn_err *err)
{
	json_t *names = json_pack("[s]", name), *repos = NULL;
	int rc = -1;

	*repo = NULL;
	if (describe(ctx, names, &repos, err) != 0) {
		if (!perr_is(err, "RepositoryNotFoundException"))
			goto out;
		err_clear(err);
	}
	*repo = json_incref(json_array_get(repos, 0));
	rc = 0;
out:
	json_decref(names);
	json_decref(repos);
	return rc;
}

/* The user tags of a repository (without the ownership tags): *tags new
 * object; *raw (if not NULL) the list as AWS gives it. */
static int repo_tags(const struct provider_ctx *ctx, const char *arn, json_t **tags,
		     json_t **raw, struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "resourceArn", arn), *res = NULL;
	int rc = -1;

	*tags = NULL;
	if (pcall(ctx, "ecr", "ListTagsForResource", in, &res, err) != 0)
		goto out;
	*tags = ptags_from_list(json_object_get(res, "tags"), "Key", "Value");
	if (raw)
		*raw = json_incref(json_object_get(res, "tags"));
	rc = 0;
out:
	json_decref(in);
	json_decref(res);
	return rc;
}

/* The lifecycle policy decoded: *policy new ref, NULL when there is none. */
static int repo_lifecycle(const struct provider_ctx *ctx, const char *name, json_t **policy,
			  struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "repositoryName", name), *res = NULL;
	const char *text;
	int rc = -1;

	*policy = NULL;
	if (pcall(ctx, "ecr", "GetLifecyclePolicy", in, &res, err) != 0) {
		if (!perr_is(err, "LifecyclePolicyNotFoundException"))
			goto out;
		err_clear(err);
	}
	text = json_string_value(json_object_get(res, "lifecyclePolicyText"));
	*policy = json_doc_parse(text);
	rc = 0;
out:
	json_decref(in);
	json_decref(res);
	return rc;
}

static json_t *repo_attrs_of(json_t *repo, json_t *tags, json_t *policy, json_t *prior);

/* Attribute object from a DescribeRepositories entry plus the per-repository
 * reads (tags, lifecycle policy). prior supplies force_delete. */
static int repo_attrs(const struct provider_ctx *ctx, json_t *repo, json_t *prior,
		      json_t **out, struct cairn_err *err)
{
	const char *name = json_string_value(json_object_get(repo, "repositoryName"));
	const char *arn = json_string_value(json_object_get(repo, "repositoryArn"));
	json_t *tags = NULL, *policy = NULL;

	*out = NULL;
	if (!name || !arn) {
		err_set(err, CAIRN_EAWS, "DescribeRepositories on %s: repository without "
			"name or ARN in the answer", ctx->name);
		return -1;
	}
	if (repo_tags(ctx, arn, &tags, NULL, err) != 0 ||
	    repo_lifecycle(ctx, name, &policy, err) != 0) {
		json_decref(tags);
		return -1;
	}
	*out = repo_attrs_of(repo, tags, policy, prior);
	return 0;
}

/* Attribute object from a repository as AWS describes it, its user tags
 * and lifecycle policy (both stolen; policy may be NULL). */
static json_t *repo_attrs_of(json_t *repo, json_t *tags, json_t *policy, json_t *prior)
{
	const char *name = json_string_value(json_object_get(repo, "repositoryName"));
	const char *arn = json_string_value(json_object_get(repo, "repositoryArn"));
	json_t *scan = json_object_get(repo, "imageScanningConfiguration");
	json_t *enc = json_object_get(repo, "encryptionConfiguration");
	json_t *force = json_object_get(prior, "force_delete");
	json_t *o = json_object();
	json_t *eo = json_pack("{s:s}", "encryption_type",
			       pstr_or(json_object_get(enc, "encryptionType"), "AES256"));

	json_object_set_new(o, "id", json_string(name));
	json_object_set_new(o, "name", json_string(name));
	json_object_set_new(o, "arn", json_string(arn));
	json_object_set_new(o, "registry_id", pstr_json(json_object_get(repo, "registryId")));
	json_object_set_new(o, "repository_url",
			    pstr_json(json_object_get(repo, "repositoryUri")));
	json_object_set_new(o, "image_tag_mutability",
			    pstr_json(json_object_get(repo, "imageTagMutability")));
	json_object_set_new(o, "image_scanning_configuration",
			    json_pack("{s:b}", "scan_on_push",
				      json_is_true(json_object_get(scan, "scanOnPush"))));
	if (pstr(enc, "kmsKey") && *pstr(enc, "kmsKey"))
		json_object_set_new(eo, "kms_key", json_string(pstr(enc, "kmsKey")));
	json_object_set_new(o, "encryption_configuration", eo);
	json_object_set_new(o, "force_delete", json_boolean(json_is_true(force)));
	if (policy)
		json_object_set_new(o, "lifecycle_policy", policy);
	json_object_set_new(o, "tags", tags);
	return o;
}

static int ecr_read(const struct provider_ctx *ctx, const char *id, json_t *prior,
		    json_t **out, struct cairn_err *err)
{
	json_t *repo = NULL;
	int rc;

	*out = NULL;
	if (describe_one(ctx, id, &repo, err) != 0)
		return -1;
	rc = repo ? repo_attrs(ctx, repo, prior, out, err) : 0;
	json_decref(repo);
	return rc;
}

/* The repository of the array named name (borrowed), or NULL. */
static json_t *repo_match(json_t *repos, const char *name)
{
	json_t *r;
	size_t i;

	json_array_foreach(repos, i, r) {
		const char *n = json_string_value(json_object_get(r, "repositoryName"));

		if (n && strcmp(n, name) == 0)
			return r;
	}
	return NULL;
}

static int ecr_read_batch(const struct provider_ctx *const *ctxs, size_t n,
			  const char *const *ids, json_t *const *priors, json_t **outs,
			  struct cairn_err *err)
{
	size_t start, i;

	for (i = 0; i < n; i++)
		outs[i] = NULL;
	for (start = 0; start < n; start += ECR_DESCRIBE_MAX) {
		size_t end = n - start > ECR_DESCRIBE_MAX ? start + ECR_DESCRIBE_MAX : n;
		json_t *names = json_array(), *repos = NULL;
		int failed = 0;

		for (i = start; i < end; i++)
			json_array_append_new(names, json_string(ids[i]));
		if (describe(ctxs[start], names, &repos, err) != 0) {
			/* One missing name fails the whole call: read one by one. */
			if (!perr_is(err, "RepositoryNotFoundException"))
				failed = 1;
			err_clear(err);
			for (i = start; i < end && !failed; i++)
				if (ecr_read(ctxs[i], ids[i], priors[i], &outs[i], err) != 0)
					failed = 1;
		} else {
			for (i = start; i < end && !failed; i++) {
				json_t *r = repo_match(repos, ids[i]);

				if (r && repo_attrs(ctxs[i], r, priors[i], &outs[i], err) != 0)
					failed = 1;
			}
		}
		json_decref(names);
		json_decref(repos);
		if (failed) {
			pouts_clear(outs, n);
			return -1;
		}
	}
	return 0;
}

/* The lifecycle policy as the text AWS takes (owned), or NULL for none. */
/* Puts the lifecycle policy, or deletes it when policy is empty. */
static int put_lifecycle(const struct provider_ctx *ctx, const char *name, json_t *policy,
			 struct cairn_err *err)
{
	char *text = json_doc_text(policy);
	json_t *in;
	int rc;

	if (text) {
		in = json_pack("{s:s,s:s}", "repositoryName", name, "lifecyclePolicyText", text);
		rc = pcall_void(ctx, "ecr", "PutLifecyclePolicy", in, err);
	} else {
		in = json_pack("{s:s}", "repositoryName", name);
		rc = pcall_gone(ctx, "ecr", "DeleteLifecyclePolicy", in,
				"LifecyclePolicyNotFoundException", err);
	}
	free(text);
	json_decref(in);
	return rc;
}

/* True if policy holds a lifecycle policy to put. */
static int has_policy(json_t *policy)
{
	return json_is_object(policy) || json_is_array(policy) ||
	       (json_is_string(policy) && json_string_length(policy) > 0);
}

static int ecr_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		      struct cairn_err *err)
{
	const char *name = json_string_value(json_object_get(attrs, "name"));
	json_t *tags = ptags_with_owner(ctx, json_object_get(attrs, "tags"));
	json_t *scan = json_object_get(attrs, "image_scanning_configuration");
	json_t *mut = json_object_get(attrs, "image_tag_mutability");
	json_t *policy = json_object_get(attrs, "lifecycle_policy");
	json_t *enc = json_object_get(attrs, "encryption_configuration");
	const char *enc_type = pstr_or(json_object_get(enc, "encryption_type"), "AES256");
	const char *key = pstr(enc, "kms_key");
	json_t *in = NULL, *res = NULL, *repo, *set_policy;
	char *text;
	int created = 0, rc = -1;

	*out = NULL;
	if (key && *key && strcmp(enc_type, "AES256") == 0) {
		err_set(err, CAIRN_EINVAL, "%s: encryption_configuration.kms_key goes with "
			"encryption_type KMS or KMS_DSSE, not AES256", ctx->name);
		goto out;
	}
	in = json_pack("{s:s,s:o}", "repositoryName", name,
		       "tags", ptags_to_list(tags, "Key", "Value"));
	if (json_is_object(enc)) {
		json_t *ec = json_pack("{s:s}", "encryptionType", enc_type);

		if (key && *key)
			json_object_set_new(ec, "kmsKey", json_string(key));
		json_object_set_new(in, "encryptionConfiguration", ec);
	}
	if (json_is_string(mut))
		json_object_set(in, "imageTagMutability", mut);
	if (json_is_object(scan))
		json_object_set_new(in, "imageScanningConfiguration",
				    json_pack("{s:b}", "scanOnPush",
					      json_is_true(json_object_get(scan, "scan_on_push"))));
	if (pcall(ctx, "ecr", "CreateRepository", in, &res, err) != 0)
		goto out;
	created = 1;
	if (has_policy(policy) && put_lifecycle(ctx, name, policy, err) != 0)
		goto out;
	/* The answer describes the repository; tags and policy are what was
	 * just set: nothing to read back. */
	repo = json_object_get(res, "repository");
	if (!pstr(repo, "repositoryName") || !pstr(repo, "repositoryArn")) {
		err_set(err, CAIRN_EAWS, "CreateRepository on %s: no repository name or ARN in "
			"the answer", ctx->name);
		goto out;
	}
	text = has_policy(policy) ? json_doc_text(policy) : NULL;
	set_policy = json_doc_parse(text);
	free(text);
	*out = repo_attrs_of(repo, ptags_strip_owner(tags), set_policy, attrs);
	rc = 0;
out:
	if (rc != 0 && created) {
		json_t *arn = json_object_get(json_object_get(res, "repository"), "repositoryArn");

		pcreated_partial(out, name, "name");
		if (json_is_string(arn))
			json_object_set(*out, "arn", arn);
	}
	json_decref(tags);
	json_decref(in);
	json_decref(res);
	return rc;
}

/* The service's tagging calls for ptags_sync. */
static const struct ptag_api TAG_API = {
	.service = "ecr", .untag_op = "UntagResource", .tag_op = "TagResource",
	.id_member = "resourceArn", .keys_member = "tagKeys", .tags_member = "tags",
	.key_name = "Key", .value_name = "Value",
};

static int ecr_update(const struct provider_ctx *ctx, const char *id, json_t *old,
		      json_t *want, json_t *changed, json_t **out, struct cairn_err *err)
{
	json_t *scan = json_object_get(want, "image_scanning_configuration");
	json_t *in = NULL;
	const char *arn;
	int rc = -1;

	*out = NULL;
	if (pchanged(changed, "image_tag_mutability")) {
		in = json_pack("{s:s,s:O}", "repositoryName", id, "imageTagMutability",
			       json_object_get(want, "image_tag_mutability"));
		if (pcall_void(ctx, "ecr", "PutImageTagMutability", in, err) != 0)
			goto out;
		json_decref(in);
		in = NULL;
	}
	if (pchanged(changed, "image_scanning_configuration") && json_is_object(scan)) {
		in = json_pack("{s:s,s:{s:b}}", "repositoryName", id,
			       "imageScanningConfiguration", "scanOnPush",
			       json_is_true(json_object_get(scan, "scan_on_push")));
		if (pcall_void(ctx, "ecr", "PutImageScanningConfiguration", in, err) != 0)
			goto out;
	}
	if (pchanged(changed, "lifecycle_policy") &&
	    put_lifecycle(ctx, id, json_object_get(want, "lifecycle_policy"), err) != 0)
		goto out;
	if (pchanged(changed, "tags")) {
		arn = json_string_value(json_object_get(old, "arn"));
		if (!arn) {
			err_set(err, CAIRN_EINTERNAL, "TagResource on %s: no recorded ARN",
				ctx->name);
			goto out;
		}
		if (ptags_sync(ctx, &TAG_API, arn, json_object_get(old, "tags"),
			       json_object_get(want, "tags"), err) != 0)
			goto out;
	}
	if (pread_after(ctx, ecr_read, "update", "repository", id, want, out, err) != 0)
		goto out;
	rc = 0;
out:
	json_decref(in);
	return rc;
}

static int ecr_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
		      struct cairn_err *err)
{
	int force = json_is_true(json_object_get(attrs, "force_delete"));
	json_t *in = json_pack("{s:s,s:b}", "repositoryName", id, "force", force);
	int rc = pcall_void(ctx, "ecr", "DeleteRepository", in, err);

	if (rc != 0 && perr_is(err, "RepositoryNotFoundException")) {
		err_clear(err);
		rc = 0;
	} else if (rc != 0 && perr_is(err, "RepositoryNotEmptyException")) {
		err_prefix(err, "repository '%s' still holds images (set force_delete: true "
			   "to delete them with it)", id);
	}
	json_decref(in);
	return rc;
}


/* The name is unique per registry; adopt the repository only if our tags are on it. */
/* The repository called name and its tags (see pnamed_fn). */
static int ecr_named(const struct provider_ctx *ctx, const char *name, json_t *want,
		     json_t **out, json_t **tags, struct cairn_err *err)
{
	json_t *repo = NULL, *user = NULL;
	int rc = -1;

	*out = NULL;
	if (describe_one(ctx, name, &repo, err) != 0)
		goto out;
	if (repo) {
		if (repo_tags(ctx, pstr(repo, "repositoryArn"), &user, tags, err) != 0 ||
		    repo_attrs(ctx, repo, want, out, err) != 0)
			goto out;
	}
	rc = 0;
out:
	json_decref(repo);
	json_decref(user);
	return rc;
}

static int ecr_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		    struct cairn_err *err)
{
	return pfind_by_name(ctx, attrs, "name", ecr_named, out, err);
}

const struct resource_ops aws_ecr_repository_ops = {
	.type = "aws_ecr_repository",
	.create = ecr_create,
	.read = ecr_read,
	.read_batch = ecr_read_batch,
	.update = ecr_update,
	.delete = ecr_delete,
	.find = ecr_find,
};
