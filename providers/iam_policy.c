/*
 * iam_policy: the aws_iam_policy and aws_iam_role_policy_attachment
 * resource types (IAM, query protocol).
 *
 * A customer managed policy's id is its ARN. It is read from GetPolicy,
 * the default version's document (GetPolicyVersion) and ListPolicyTags.
 * A changed document is a new default version (CreatePolicyVersion), as
 * Terraform does it; IAM keeps at most five versions, so the oldest
 * non-default one goes first when five exist. Name, path and description
 * cannot change in place (Terraform replaces the policy). Deleting takes
 * the non-default versions first, as IAM requires.
 *
 * An attachment's id is "ROLE/POLICY_ARN" (Terraform's import id); it is
 * read from ListAttachedRolePolicies of its role, one call per role for a
 * whole batch. Attachments carry no tags: crash adoption finds them by
 * role and ARN, which name one attachment.
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "tagdiff.h"

#define SVC "iam"
#define IAM_CONSISTENCY_MS (2 * 60 * 1000L)
#define IAM_MAX_VERSIONS 5

static const char *const GONE[] = {"NoSuchEntity", NULL};

/* ---- aws_iam_policy ---- */

/* Reads the policy at arn: *out the attribute object, NULL when gone. */
static int policy_read(const struct provider_ctx *ctx, const char *id, json_t *prior,
		       json_t **out, struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "PolicyArn", id), *res = NULL, *ver = NULL, *vin = NULL;
	json_t *tags = NULL, *p, *o;
	int rc = -1;

	*out = NULL;
	if (pcall_found(ctx, SVC, "GetPolicy", in, GONE, &res, err) != 0)
		goto out;
	p = json_object_get(res, "Policy");
	if (!json_is_object(p)) {
		rc = 0;
		goto out;
	}
	vin = json_pack("{s:s,s:s}", "PolicyArn", id, "VersionId",
			pstr_or(json_object_get(p, "DefaultVersionId"), "v1"));
	if (pcall_found(ctx, SVC, "GetPolicyVersion", vin, GONE, &ver, err) != 0)
		goto out;
	if (aws_call_all(ctx->aws, SVC, "ListPolicyTags", in, "Tags", &tags, err) != 0) {
		if (!perr_is(err, "NoSuchEntity")) {
			err_prefix(err, "ListPolicyTags on %s", ctx->name);
			goto out;
		}
		err_clear(err);
	}
	if (!ver || !tags) {            /* deleted while read */
		rc = 0;
		goto out;
	}
	o = json_object();
	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "arn", pstr_json(json_object_get(p, "Arn")));
	json_object_set_new(o, "name", pstr_json(json_object_get(p, "PolicyName")));
	json_object_set_new(o, "path", json_string(pstr_or(json_object_get(p, "Path"), "/")));
	json_object_set_new(o, "description", pstr_json(json_object_get(p, "Description")));
	json_object_set_new(o, "policy",
			    json_doc_parse(pstr(json_object_get(ver, "PolicyVersion"), "Document")));
	json_object_set_new(o, "policy_id", pstr_json(json_object_get(p, "PolicyId")));
	json_object_set_new(o, "tags", ptags_from_list(tags, "Key", "Value"));
	*out = o;
	rc = 0;
out:
	json_decref(in);
	json_decref(vin);
	json_decref(res);
	json_decref(ver);
	json_decref(tags);
	return rc;
}

/* The partition of ARNs in the client's region (endpoints.json's rule). */
static const char *partition(const struct provider_ctx *ctx)
{
	const char *r = aws_client_region(ctx->aws);

	if (strncmp(r, "cn-", 3) == 0)
		return "aws-cn";
	if (strncmp(r, "us-gov-", 7) == 0)
		return "aws-us-gov";
	return "aws";
}

/* The ARN a policy of this name and path has in the caller's account:
 * owned string, NULL with err when the account is unknown. */
static char *policy_arn(const struct provider_ctx *ctx, json_t *attrs, struct cairn_err *err)
{
	const char *acct = aws_account_id(ctx->aws, err);

	if (!acct)
		return NULL;
	return xasprintf("arn:%s:iam::%s:policy%s%s", partition(ctx), acct,
			 pstr_or(json_object_get(attrs, "path"), "/"), pstr(attrs, "name"));
}

static int policy_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
			 struct cairn_err *err)
{
	json_t *tags = ptags_with_owner(ctx, json_object_get(attrs, "tags"));
	char *doc = json_doc_text(json_object_get(attrs, "policy"));
	const char *desc = pstr(attrs, "description");
	json_t *in, *res = NULL, *got = NULL;
	const char *arn;
	int rc = -1;

	*out = NULL;
	in = json_pack("{s:s,s:s,s:s,s:o}", "PolicyName", pstr(attrs, "name"),
		       "Path", pstr_or(json_object_get(attrs, "path"), "/"), "PolicyDocument",
		       doc ? doc : "", "Tags", ptags_to_list(tags, "Key", "Value"));
	if (desc && *desc)
		json_object_set_new(in, "Description", json_string(desc));
	if (pcall(ctx, SVC, "CreatePolicy", in, &res, err) != 0)
		goto out;
	arn = pstr(json_object_get(res, "Policy"), "Arn");
	if (!arn) {
		err_set(err, CAIRN_EAWS, "CreatePolicy on %s: no ARN in the answer", ctx->name);
		goto out;
	}
	*out = json_pack("{s:s,s:s}", "id", arn, "arn", arn);
	if (policy_read(ctx, arn, attrs, &got, err) != 0)
		goto out;
	if (got) {
		json_decref(*out);
		*out = got;
	}
	rc = 0;
out:
	json_decref(tags);
	json_decref(in);
	json_decref(res);
	free(doc);
	return rc;
}

/* Makes room for a new version: IAM keeps five, so the oldest non-default
 * one goes when five exist. */
static int prune_versions(const struct provider_ctx *ctx, const char *arn, struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "PolicyArn", arn), *vers = NULL, *v, *oldest = NULL, *d;
	size_t i;
	int rc = -1;

	if (aws_call_all(ctx->aws, SVC, "ListPolicyVersions", in, "Versions", &vers, err) != 0) {
		err_prefix(err, "ListPolicyVersions on %s", ctx->name);
		goto out;
	}
	if (json_array_size(vers) >= IAM_MAX_VERSIONS) {
		json_array_foreach(vers, i, v)
			if (!json_is_true(json_object_get(v, "IsDefaultVersion")) &&
			    (!oldest || strcmp(pstr_or(json_object_get(v, "CreateDate"), ""),
					       pstr_or(json_object_get(oldest, "CreateDate"), "")) < 0))
				oldest = v;
		if (oldest) {
			d = json_pack("{s:s,s:s}", "PolicyArn", arn, "VersionId",
				      pstr_or(json_object_get(oldest, "VersionId"), ""));
			rc = pcall_gone(ctx, SVC, "DeletePolicyVersion", d, "NoSuchEntity", err);
			json_decref(d);
			if (rc != 0)
				goto out;
		}
	}
	rc = 0;
out:
	json_decref(in);
	json_decref(vers);
	return rc;
}

static const struct ptag_api POLICY_TAGS = {
	.service = SVC, .untag_op = "UntagPolicy", .tag_op = "TagPolicy",
	.id_member = "PolicyArn", .keys_member = "TagKeys", .tags_member = "Tags",
	.key_name = "Key", .value_name = "Value",
};

static int policy_update(const struct provider_ctx *ctx, const char *id, json_t *old,
			 json_t *want, json_t *changed, json_t **out, struct cairn_err *err)
{
	json_t *in = NULL;
	char *doc = NULL;
	int rc = -1;

	*out = NULL;
	if (pchanged(changed, "policy")) {
		if (prune_versions(ctx, id, err) != 0)
			goto out;
		doc = json_doc_text(json_object_get(want, "policy"));
		in = json_pack("{s:s,s:s,s:b}", "PolicyArn", id, "PolicyDocument",
			       doc ? doc : "", "SetAsDefault", 1);
		if (pcall_void(ctx, SVC, "CreatePolicyVersion", in, err) != 0)
			goto out;
	}
	if (pchanged(changed, "tags") &&
	    ptags_sync(ctx, &POLICY_TAGS, id, json_object_get(old, "tags"),
		       json_object_get(want, "tags"), err) != 0)
		goto out;
	if (pread_after(ctx, policy_read, "update", "policy", id, want, out, err) != 0)
		goto out;
	rc = 0;
out:
	json_decref(in);
	free(doc);
	return rc;
}

static int policy_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
			 struct cairn_err *err)
{
	static const char *const conflict[] = {"DeleteConflict", NULL};
	json_t *in = json_pack("{s:s}", "PolicyArn", id), *vers = NULL, *v, *d;
	size_t i;
	int rc = -1;

	if (aws_call_all(ctx->aws, SVC, "ListPolicyVersions", in, "Versions", &vers, err) != 0) {
		if (perr_is(err, "NoSuchEntity")) {
			err_clear(err);
			rc = 0;
		} else {
			err_prefix(err, "ListPolicyVersions on %s", ctx->name);
		}
		goto out;
	}
	json_array_foreach(vers, i, v) {
		if (json_is_true(json_object_get(v, "IsDefaultVersion")))
			continue;
		d = json_pack("{s:s,s:s}", "PolicyArn", id, "VersionId",
			      pstr_or(json_object_get(v, "VersionId"), ""));
		rc = pcall_gone(ctx, SVC, "DeletePolicyVersion", d, "NoSuchEntity", err);
		json_decref(d);
		if (rc != 0)
			goto out;
	}
	/* An attachment deleted a moment ago may still hold the policy. */
	rc = pcall_retry(ctx, SVC, "DeletePolicy", in, NULL, conflict, IAM_CONSISTENCY_MS, err);
	if (rc != 0 && perr_is(err, "NoSuchEntity")) {
		err_clear(err);
		rc = 0;
	}
out:
	json_decref(in);
	json_decref(vers);
	return rc;
}

/* Name and path make the ARN: adopt the policy there only if it carries
 * this resource's ownership tags. */
static int policy_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		       struct cairn_err *err)
{
	char *arn = NULL;
	json_t *in = NULL, *tags = NULL;
	int rc = -1;

	*out = NULL;
	if (!pstr(attrs, "name"))
		return 0;
	arn = policy_arn(ctx, attrs, err);
	if (!arn)
		goto out;
	in = json_pack("{s:s}", "PolicyArn", arn);
	if (aws_call_all(ctx->aws, SVC, "ListPolicyTags", in, "Tags", &tags, err) != 0) {
		if (perr_is(err, "NoSuchEntity")) {
			err_clear(err);
			rc = 0;
		}
		goto out;
	}
	if (ptags_owned_by(tags, "Key", "Value", ctx) &&
	    policy_read(ctx, arn, attrs, out, err) != 0)
		goto out;
	rc = 0;
out:
	free(arn);
	json_decref(in);
	json_decref(tags);
	return rc;
}

const struct resource_ops aws_iam_policy_ops = {
	.type = "aws_iam_policy",
	.create = policy_create,
	.read = policy_read,
	.update = policy_update,
	.delete = policy_delete,
	.find = policy_find,
};

/* ---- aws_iam_role_policy_attachment ---- */

/* Splits "ROLE/ARN" at the first '/' (role names hold no '/'): *role owned,
 * *arn borrowed from id. -1 when id has no such form. */
static int split_id(const char *id, char **role, const char **arn)
{
	const char *slash = strchr(id, '/');

	if (!slash || slash == id || strncmp(slash + 1, "arn:", 4) != 0)
		return -1;
	*role = xstrndup(id, (size_t)(slash - id));
	*arn = slash + 1;
	return 0;
}

/* The ARNs of the policies attached to role: *arns new array, NULL when
 * the role is gone. */
static int attached(const struct provider_ctx *ctx, const char *role, json_t **arns,
		    struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "RoleName", role), *items = NULL, *e;
	size_t i;
	int rc = -1;

	*arns = NULL;
	if (aws_call_all(ctx->aws, SVC, "ListAttachedRolePolicies", in, "AttachedPolicies",
			 &items, err) != 0) {
		if (perr_is(err, "NoSuchEntity")) {
			err_clear(err);
			rc = 0;
		} else {
			err_prefix(err, "ListAttachedRolePolicies on %s", ctx->name);
		}
		goto out;
	}
	*arns = json_array();
	json_array_foreach(items, i, e)
		if (pstr(e, "PolicyArn"))
			json_array_append_new(*arns, json_string(pstr(e, "PolicyArn")));
	rc = 0;
out:
	json_decref(in);
	json_decref(items);
	return rc;
}

static json_t *attachment_attrs(const char *role, const char *arn)
{
	json_t *o = json_pack("{s:s,s:s}", "role", role, "policy_arn", arn);
	char *id = xasprintf("%s/%s", role, arn);

	json_object_set_new(o, "id", json_string(id));
	free(id);
	return o;
}

/* One role's attachments for a batch: roles[i] is read into lists[i]. */
struct role_batch {
	const char **roles;
	json_t **lists;
};

static int batch_item(const struct provider_ctx *ctx, size_t i, void *arg,
		      struct cairn_err *err)
{
	struct role_batch *b = arg;

	return attached(ctx, b->roles[i], &b->lists[i], err);
}

/* Reads attachments ids[0, n): one ListAttachedRolePolicies per role. */
static int attachment_read_batch(const struct provider_ctx *const *ctxs, size_t n,
				 const char *const *ids, json_t *const *priors, json_t **outs,
				 struct cairn_err *err)
{
	char **roles = xcalloc(n ? n : 1, sizeof(*roles));
	const char **arns = xcalloc(n ? n : 1, sizeof(*arns));
	const char **distinct = xcalloc(n ? n : 1, sizeof(*distinct));
	const struct provider_ctx **dctx = xcalloc(n ? n : 1, sizeof(*dctx));
	size_t *slot = xcalloc(n ? n : 1, sizeof(*slot));
	struct role_batch b = {distinct, NULL};
	size_t i, k, nd = 0;
	int rc = -1;

	for (i = 0; i < n; i++) {
		outs[i] = NULL;
		if (split_id(ids[i], &roles[i], &arns[i]) != 0) {
			err_set(err, CAIRN_EINVAL, "%s: '%s' is not ROLE/POLICY_ARN", ctxs[i]->name,
				ids[i]);
			goto out;
		}
		for (k = 0; k < nd && strcmp(distinct[k], roles[i]) != 0; k++)
			;
		if (k == nd) {
			distinct[nd] = roles[i];
			dctx[nd++] = ctxs[i];
		}
		slot[i] = k;
	}
	b.lists = xcalloc(nd ? nd : 1, sizeof(*b.lists));
	if (peach(dctx, nd, batch_item, &b, err) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if (json_array_has_str(b.lists[slot[i]], arns[i]))
			outs[i] = attachment_attrs(roles[i], arns[i]);
	rc = 0;
out:
	for (i = 0; i < n; i++)
		free(roles[i]);
	for (k = 0; b.lists && k < nd; k++)
		json_decref(b.lists[k]);
	free(b.lists);
	free(roles);
	free(arns);
	free(distinct);
	free(dctx);
	free(slot);
	return rc;
}

static int attachment_read(const struct provider_ctx *ctx, const char *id, json_t *prior,
			   json_t **out, struct cairn_err *err)
{
	return attachment_read_batch(&ctx, 1, &id, &prior, out, err);
}

static int attachment_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
			     struct cairn_err *err)
{
	/* A role created moments ago may be unknown to IAM for a few seconds. */
	static const char *const retry[] = {"NoSuchEntity", NULL};
	const char *role = pstr(attrs, "role"), *arn = pstr(attrs, "policy_arn");
	json_t *in = json_pack("{s:s,s:s}", "RoleName", role, "PolicyArn", arn);
	int rc;

	*out = NULL;
	/* AttachRolePolicy of an attached policy succeeds: "already so". */
	rc = pcall_retry(ctx, SVC, "AttachRolePolicy", in, NULL, retry, 30 * 1000L, err);
	if (rc == 0)
		*out = attachment_attrs(role, arn);
	json_decref(in);
	return rc;
}

static int attachment_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
			     struct cairn_err *err)
{
	const char *arn;
	char *role;
	json_t *in;
	int rc;

	if (split_id(id, &role, &arn) != 0) {
		err_set(err, CAIRN_EINVAL, "%s: '%s' is not ROLE/POLICY_ARN", ctx->name, id);
		return -1;
	}
	in = json_pack("{s:s,s:s}", "RoleName", role, "PolicyArn", arn);
	rc = pcall_gone(ctx, SVC, "DetachRolePolicy", in, "NoSuchEntity", err);
	json_decref(in);
	free(role);
	return rc;
}

/* Role and policy name the one attachment there can be. */
static int attachment_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
			   struct cairn_err *err)
{
	char *id;
	int rc;

	*out = NULL;
	if (!pstr(attrs, "role") || !pstr(attrs, "policy_arn"))
		return 0;
	id = xasprintf("%s/%s", pstr(attrs, "role"), pstr(attrs, "policy_arn"));
	rc = attachment_read(ctx, id, attrs, out, err);
	free(id);
	return rc;
}

const struct resource_ops aws_iam_role_policy_attachment_ops = {
	.type = "aws_iam_role_policy_attachment",
	.create = attachment_create,
	.read = attachment_read,
	.read_batch = attachment_read_batch,
	.delete = attachment_delete,
	.find = attachment_find,
};
