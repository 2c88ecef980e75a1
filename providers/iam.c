/*
 * iam: the aws_iam_role resource type (IAM, query protocol, one global
 * endpoint that the client picks).
 *
 * The id is the role name. A role is read from GetRole (trust policy,
 * description, session duration, tags), ListAttachedRolePolicies and
 * ListRolePolicies + GetRolePolicy per inline policy; IAM has no batched
 * read. Policy documents come back URL-decoded from the client and are
 * parsed here, so the diff compares structures, not text.
 *
 * IAM is eventually consistent: a role just created may be unknown to
 * the next call for a few seconds (so create waits until GetRole sees it
 * before adding policies), a trust policy may name a principal not yet
 * propagated (MalformedPolicyDocument "Invalid principal"), and a role
 * whose policies were just detached may still refuse deletion
 * (DeleteConflict); each is retried within IAM_CONSISTENCY_MS.
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "tagdiff.h"

#define SVC "iam"
#define IAM_CONSISTENCY_MS (2 * 60 * 1000L)
#define IAM_POLL_MS 1000L

/*
 * call, retrying while AWS answers retry_code (eventual consistency) up
 * to IAM_CONSISTENCY_MS; with msg_part, only errors whose message has it.
 */
static int call_retry(const struct provider_ctx *ctx, const char *op, json_t *in,
		      const char *retry_code, const char *msg_part, struct cairn_err *err)
{
	const char *codes[] = {retry_code, NULL}, *msgs[] = {msg_part, NULL};

	return pcall_retry_if(ctx, SVC, op, in, NULL, codes, msg_part ? msgs : NULL,
			      IAM_CONSISTENCY_MS, err);
}

/* A policy document as IAM takes it: owned text ("" for none). */
static char *policy_text(json_t *doc)
{
	char *t = json_doc_text(doc);

	return t ? t : xstrdup("");
}

/* A policy document as IAM returns it (text) -> structure (new ref). */
static json_t *policy_doc(const char *text)
{
	return text ? json_doc_parse(text) : json_null();
}

/*
 * The role's pieces: *role (GetRole's Role), *managed (array of ARNs),
 * *inline_names (array of names) and *inline_docs (name -> document
 * structure), all new refs; all NULL when the role does not exist.
 */
struct role_parts {
	json_t *role, *managed, *inline_names, *inline_docs;
};

static void parts_free(struct role_parts *p)
{
	json_decref(p->role);
	json_decref(p->managed);
	json_decref(p->inline_names);
	json_decref(p->inline_docs);
	memset(p, 0, sizeof(*p));
}

/* One inline policy's document (structure) into docs[policy]. */
static int get_inline(const struct provider_ctx *ctx, const char *name, const char *policy,
		      json_t *docs, struct cairn_err *err)
{
	json_t *in = json_pack("{s:s,s:s}", "RoleName", name, "PolicyName", policy), *res = NULL;
	int rc = pcall(ctx, SVC, "GetRolePolicy", in, &res, err);

	if (rc == 0)
		json_object_set_new(docs, policy, policy_doc(pstr(res, "PolicyDocument")));
	json_decref(in);
	json_decref(res);
	return rc;
}

static int role_get(const struct provider_ctx *ctx, const char *name, struct role_parts *p,
		    struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "RoleName", name), *res = NULL, *items = NULL, *e;
	size_t i;
	int rc = -1;

	memset(p, 0, sizeof(*p));
	if (pcall(ctx, SVC, "GetRole", in, &res, err) != 0)
		goto out;
	p->role = json_incref(json_object_get(res, "Role"));
	if (!json_is_object(p->role)) {
		err_set(err, CAIRN_EAWS, "GetRole on %s: no role in the answer", ctx->name);
		goto out;
	}
	if (aws_call_all(ctx->aws, SVC, "ListAttachedRolePolicies", in, "AttachedPolicies",
			 &items, err) != 0) {
		err_prefix(err, "ListAttachedRolePolicies on %s", ctx->name);
		goto out;
	}
	p->managed = json_array();
	json_array_foreach(items, i, e)
		if (pstr(e, "PolicyArn"))
			json_array_append_new(p->managed, json_string(pstr(e, "PolicyArn")));
	if (aws_call_all(ctx->aws, SVC, "ListRolePolicies", in, "PolicyNames", &p->inline_names,
			 err) != 0) {
		err_prefix(err, "ListRolePolicies on %s", ctx->name);
		goto out;
	}
	p->inline_docs = json_object();
	json_array_foreach(p->inline_names, i, e)
		if (get_inline(ctx, name, json_string_value(e), p->inline_docs, err) != 0)
			goto out;
	rc = 0;
out:
	if (rc != 0) {
		parts_free(p);
		/* Deleted before or while it was read: gone, not an error. */
		if (perr_is(err, "NoSuchEntity")) {
			err_clear(err);
			rc = 0;
		}
	}
	json_decref(in);
	json_decref(res);
	json_decref(items);
	return rc;
}

/* The inline_policy list of a role read by role_get, in the order of
 * prior's list (may be NULL), the others by name. New array. */
static json_t *inline_list(struct role_parts *p, json_t *prior)
{
	json_t *prior_names = json_array(), *names, *list = json_array(), *e;
	size_t i;

	json_array_foreach(json_object_get(prior, "inline_policy"), i, e)
		if (pstr(e, "name"))
			json_array_append_new(prior_names, json_string(pstr(e, "name")));
	names = porder_like(p->inline_names, prior_names, 1);
	json_array_foreach(names, i, e)
		json_array_append_new(list, json_pack("{s:O,s:O}", "name", e, "policy",
						      json_object_get(p->inline_docs,
								      json_string_value(e))));
	json_decref(prior_names);
	json_decref(names);
	return list;
}

/* Attribute object of a role read by role_get; prior (may be NULL) gives
 * the list orders. New ref. */
static json_t *role_attrs(struct role_parts *p, json_t *prior)
{
	json_t *r = p->role, *o = json_object(), *v;

	json_object_set_new(o, "id", pstr_json(json_object_get(r, "RoleName")));
	json_object_set_new(o, "name", pstr_json(json_object_get(r, "RoleName")));
	json_object_set_new(o, "path", json_string(pstr(r, "Path") ? pstr(r, "Path") : "/"));
	json_object_set_new(o, "description", pstr_json(json_object_get(r, "Description")));
	json_object_set_new(o, "assume_role_policy",
			    policy_doc(pstr(r, "AssumeRolePolicyDocument")));
	v = json_object_get(r, "MaxSessionDuration");
	json_object_set_new(o, "max_session_duration",
			    json_integer(json_is_integer(v) ? json_integer_value(v) : 3600));
	json_object_set_new(o, "permissions_boundary",
			    pstr_json(json_object_get(json_object_get(r, "PermissionsBoundary"),
							     "PermissionsBoundaryArn")));
	json_object_set_new(o, "managed_policy_arns",
			    porder_like(p->managed, json_object_get(prior, "managed_policy_arns"), 1));
	json_object_set_new(o, "inline_policy", inline_list(p, prior));
	json_object_set_new(o, "tags", ptags_from_list(json_object_get(r, "Tags"), "Key", "Value"));
	json_object_set_new(o, "arn", pstr_json(json_object_get(r, "Arn")));
	json_object_set_new(o, "unique_id", pstr_json(json_object_get(r, "RoleId")));
	json_object_set_new(o, "create_date", pstr_json(json_object_get(r, "CreateDate")));
	return o;
}

static int iam_read(const struct provider_ctx *ctx, const char *id, json_t *prior, json_t **out,
		    struct cairn_err *err)
{
	struct role_parts p;

	*out = NULL;
	if (!prior && strncmp(id, "arn:", 4) == 0) {
		err_set(err, CAIRN_EINVAL, "'%s' is an ARN; import a role by its name", id);
		return -1;
	}
	if (role_get(ctx, id, &p, err) != 0)
		return -1;
	if (p.role)
		*out = role_attrs(&p, prior);
	parts_free(&p);
	return 0;
}

static int attach(const struct provider_ctx *ctx, const char *name, const char *arn,
		  struct cairn_err *err)
{
	json_t *in = json_pack("{s:s,s:s}", "RoleName", name, "PolicyArn", arn);
	int rc = pcall_void(ctx, SVC, "AttachRolePolicy", in, err);

	json_decref(in);
	return rc;
}

/* Detaching a policy that is no longer attached succeeds. */
static int detach(const struct provider_ctx *ctx, const char *name, const char *arn,
		  struct cairn_err *err)
{
	json_t *in = json_pack("{s:s,s:s}", "RoleName", name, "PolicyArn", arn);
	int rc = pcall_gone(ctx, SVC, "DetachRolePolicy", in, "NoSuchEntity", err);

	json_decref(in);
	return rc;
}

static int put_inline(const struct provider_ctx *ctx, const char *name, json_t *pol,
		      struct cairn_err *err)
{
	char *text = policy_text(json_object_get(pol, "policy"));
	json_t *in = json_pack("{s:s,s:s,s:s}", "RoleName", name, "PolicyName", pstr(pol, "name"),
			       "PolicyDocument", text);
	int rc = pcall_void(ctx, SVC, "PutRolePolicy", in, err);

	json_decref(in);
	free(text);
	return rc;
}

static int delete_inline(const struct provider_ctx *ctx, const char *name, const char *policy,
			 struct cairn_err *err)
{
	json_t *in = json_pack("{s:s,s:s}", "RoleName", name, "PolicyName", policy);
	int rc = pcall_gone(ctx, SVC, "DeleteRolePolicy", in, "NoSuchEntity", err);

	json_decref(in);
	return rc;
}

/* The policy named name in an inline_policy list, or NULL. Borrowed. */
static json_t *inline_named(json_t *list, const char *name)
{
	json_t *e;
	size_t i;

	json_array_foreach(list, i, e)
		if (pstr(e, "name") && strcmp(pstr(e, "name"), name) == 0)
			return e;
	return NULL;
}

/* Turns the managed policy set old into want (arrays of ARNs, may be NULL). */
static int sync_managed(const struct provider_ctx *ctx, const char *name, json_t *old,
			json_t *want, struct cairn_err *err)
{
	json_t *e;
	size_t i;

	json_array_foreach(old, i, e)
		if (!json_array_has_str(want, json_string_value(e)) &&
		    detach(ctx, name, json_string_value(e), err) != 0)
			return -1;
	json_array_foreach(want, i, e)
		if (!json_array_has_str(old, json_string_value(e)) &&
		    attach(ctx, name, json_string_value(e), err) != 0)
			return -1;
	return 0;
}

/* Turns the inline policies old into want (inline_policy lists, may be NULL). */
static int sync_inline(const struct provider_ctx *ctx, const char *name, json_t *old,
		       json_t *want, struct cairn_err *err)
{
	json_t *e, *prev;
	size_t i;

	json_array_foreach(old, i, e)
		if (pstr(e, "name") && !inline_named(want, pstr(e, "name")) &&
		    delete_inline(ctx, name, pstr(e, "name"), err) != 0)
			return -1;
	json_array_foreach(want, i, e) {
		prev = pstr(e, "name") ? inline_named(old, pstr(e, "name")) : NULL;
		if (prev && json_equal(json_object_get(prev, "policy"),
				       json_object_get(e, "policy")))
			continue;
		if (put_inline(ctx, name, e, err) != 0)
			return -1;
	}
	return 0;
}

struct shows_poll {
	const char *name;
	json_t *attrs, **out;
};

static int shows_poll(const struct provider_ctx *ctx, void *arg, char *status, size_t status_len,
		      struct cairn_err *err)
{
	struct shows_poll *w = arg;

	if (iam_read(ctx, w->name, w->attrs, w->out, err) != 0)
		return -1;
	snprintf(status, status_len, "not visible yet");
	return *w->out != NULL;
}

/* Reads a role, riding out the seconds before a new role is visible. */
static int read_new(const struct provider_ctx *ctx, const char *name, json_t *attrs,
		    json_t **out, struct cairn_err *err)
{
	struct shows_poll w = {name, attrs, out};
	struct pwait_spec spec = {"waiting for the new role to show", IAM_POLL_MS, 0,
				  IAM_CONSISTENCY_MS};

	return pwait_until(ctx, &spec, shows_poll, &w, err);
}

static int iam_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		      struct cairn_err *err)
{
	const char *name = pstr(attrs, "name"), *desc = pstr(attrs, "description");
	const char *boundary = pstr(attrs, "permissions_boundary");
	json_t *tags = ptags_with_owner(ctx, json_object_get(attrs, "tags"));
	char *trust = policy_text(json_object_get(attrs, "assume_role_policy"));
	json_t *in, *msd = json_object_get(attrs, "max_session_duration"), *e;
	size_t i;
	int rc = -1, created = 0;

	*out = NULL;
	in = json_pack("{s:s,s:s,s:s,s:o}", "RoleName", name,
		       "Path", pstr(attrs, "path") ? pstr(attrs, "path") : "/",
		       "AssumeRolePolicyDocument", trust,
		       "Tags", ptags_to_list(tags, "Key", "Value"));
	if (desc && *desc)
		json_object_set_new(in, "Description", json_string(desc));
	if (json_is_number(msd))
		json_object_set_new(in, "MaxSessionDuration",
				    json_integer((json_int_t)json_number_value(msd)));
	if (boundary && *boundary)
		json_object_set_new(in, "PermissionsBoundary", json_string(boundary));
	/* A trust policy naming a principal created moments ago is refused
	 * until IAM has propagated it. */
	if (call_retry(ctx, "CreateRole", in, "MalformedPolicyDocument", "Invalid principal",
		       err) != 0)
		goto out;
	created = 1;
	/* Policies go on once the role is visible; if one fails, *out keeps
	 * the role as read so far and the next plan shows what is missing. */
	if (read_new(ctx, name, attrs, out, err) != 0)
		goto out;
	json_array_foreach(json_object_get(attrs, "managed_policy_arns"), i, e)
		if (attach(ctx, name, json_string_value(e), err) != 0)
			goto out;
	json_array_foreach(json_object_get(attrs, "inline_policy"), i, e)
		if (put_inline(ctx, name, e, err) != 0)
			goto out;
	json_decref(*out);
	if (pread_after(ctx, iam_read, "CreateRole", "role", name, attrs, out, err) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0 && created && !*out)
		pcreated_partial(out, name, "name");
	json_decref(tags);
	json_decref(in);
	free(trust);
	return rc;
}

/* Puts the permissions boundary, or deletes it for an empty ARN. */
static int set_boundary(const struct provider_ctx *ctx, const char *name, const char *arn,
			struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "RoleName", name);
	int rc;

	if (arn && *arn) {
		json_object_set_new(in, "PermissionsBoundary", json_string(arn));
		rc = pcall_void(ctx, SVC, "PutRolePermissionsBoundary", in, err);
	} else {
		rc = pcall_void(ctx, SVC, "DeleteRolePermissionsBoundary", in, err);
	}
	json_decref(in);
	return rc;
}

/* The service's tagging calls for ptags_sync. */
static const struct ptag_api TAG_API = {
	.service = SVC, .untag_op = "UntagRole", .tag_op = "TagRole",
	.id_member = "RoleName", .keys_member = "TagKeys", .tags_member = "Tags",
	.key_name = "Key", .value_name = "Value",
};

static int iam_update(const struct provider_ctx *ctx, const char *id, json_t *old, json_t *want,
		      json_t *changed, json_t **out, struct cairn_err *err)
{
	json_t *in = NULL, *msd = json_object_get(want, "max_session_duration");
	char *trust = NULL;
	int rc = -1;

	*out = NULL;
	if (pchanged(changed, "description") || pchanged(changed, "max_session_duration")) {
		in = json_pack("{s:s,s:s}", "RoleName", id, "Description",
			       pstr(want, "description") ? pstr(want, "description") : "");
		if (json_is_number(msd))
			json_object_set_new(in, "MaxSessionDuration",
					    json_integer((json_int_t)json_number_value(msd)));
		if (pcall_void(ctx, SVC, "UpdateRole", in, err) != 0)
			goto out;
		json_decref(in);
		in = NULL;
	}
	if (pchanged(changed, "assume_role_policy")) {
		trust = policy_text(json_object_get(want, "assume_role_policy"));
		in = json_pack("{s:s,s:s}", "RoleName", id, "PolicyDocument", trust);
		if (pcall_void(ctx, SVC, "UpdateAssumeRolePolicy", in, err) != 0)
			goto out;
	}
	if (pchanged(changed, "permissions_boundary") &&
	    set_boundary(ctx, id, pstr(want, "permissions_boundary"), err) != 0)
		goto out;
	if (pchanged(changed, "managed_policy_arns") &&
	    sync_managed(ctx, id, json_object_get(old, "managed_policy_arns"),
			 json_object_get(want, "managed_policy_arns"), err) != 0)
		goto out;
	if (pchanged(changed, "inline_policy") &&
	    sync_inline(ctx, id, json_object_get(old, "inline_policy"),
			json_object_get(want, "inline_policy"), err) != 0)
		goto out;
	if (pchanged(changed, "tags") &&
	    ptags_sync(ctx, &TAG_API, id, json_object_get(old, "tags"),
		       json_object_get(want, "tags"), err) != 0)
		goto out;
	if (pread_after(ctx, iam_read, "update", "role", id, want, out, err) != 0)
		goto out;
	rc = 0;
out:
	json_decref(in);
	free(trust);
	return rc;
}

/* A role cannot be deleted while policies are attached to it or inline in
 * it: those go first, whatever AWS holds now (not only what cairn set). */
static int iam_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
		      struct cairn_err *err)
{
	struct role_parts p;
	json_t *in = NULL, *e;
	size_t i;
	int rc = -1;

	if (role_get(ctx, id, &p, err) != 0)
		return -1;
	if (!p.role)
		return 0;
	json_array_foreach(p.managed, i, e)
		if (detach(ctx, id, json_string_value(e), err) != 0)
			goto out;
	json_array_foreach(p.inline_names, i, e)
		if (delete_inline(ctx, id, json_string_value(e), err) != 0)
			goto out;
	in = json_pack("{s:s}", "RoleName", id);
	if (call_retry(ctx, "DeleteRole", in, "DeleteConflict", NULL, err) != 0) {
		if (!perr_is(err, "NoSuchEntity"))
			goto out;
		err_clear(err);
	}
	rc = 0;
out:
	parts_free(&p);
	json_decref(in);
	return rc;
}


/* Role names are unique per account: adopt the role of that name only if
 * it carries this resource's ownership tags. */
/* The role called name and its tags (see pnamed_fn). */
static int iam_named(const struct provider_ctx *ctx, const char *name, json_t *want,
		     json_t **out, json_t **tags, struct cairn_err *err)
{
	struct role_parts p;

	*out = NULL;
	if (role_get(ctx, name, &p, err) != 0)
		return -1;
	if (p.role) {
		*out = role_attrs(&p, want);
		*tags = json_incref(json_object_get(p.role, "Tags"));
	}
	parts_free(&p);
	return 0;
}

static int iam_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		    struct cairn_err *err)
{
	return pfind_by_name(ctx, attrs, "name", iam_named, out, err);
}

const struct resource_ops aws_iam_role_ops = {
	.type = "aws_iam_role",
	.create = iam_create,
	.read = iam_read,
	.update = iam_update,
	.delete = iam_delete,
	.find = iam_find,
};
