/*
 * secretsmanager: the aws_secretsmanager_secret and
 * aws_secretsmanager_secret_version resource types (Secrets Manager, json
 * protocol).
 *
 * A secret is the container (name, key, policy, tags; its id is its ARN),
 * created with its ownership tags in CreateSecret; a version is one value
 * put into it. Destroying a secret schedules its deletion after
 * recovery_window_in_days (0: at once, without recovery); a secret marked
 * deleted reads as gone, and its name stays taken until the window ends,
 * as on AWS.
 *
 * Versions take no tags. Their id is "SECRET_ARN|VERSION_ID" (as
 * Terraform's); find adopts the version of the secret that holds the
 * wanted value, comparing values without ever printing them. The value is
 * a secret: it is never put in an error message here, and the request log
 * redacts SecretString / SecretBinary (providers/aws/redact.c).
 *
 * Secrets Manager describes one secret per call: the types have no batch
 * read, and the engine reads them concurrently.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "common.h"
#include "tagdiff.h"

#define SVC "secretsmanager"
#define SM_PROPAGATION_MS (60L * 1000)

static const char *const sm_gone[] = {"ResourceNotFoundException", NULL};

static const struct ptag_api TAG_API = {
	.service = SVC, .untag_op = "UntagResource", .tag_op = "TagResource",
	.id_member = "SecretId", .keys_member = "TagKeys", .tags_member = "Tags",
	.key_name = "Key", .value_name = "Value",
};

/*
 * Sets in's ClientRequestToken to a fresh random UUID, as the SDKs make
 * one: AWS requires it from callers that are not an SDK, for the calls
 * that may put a version (UpdateSecret, PutSecretValue).
 */
static int put_token(json_t *in, struct cairn_err *err)
{
	unsigned char b[16];
	char *t;

	if (RAND_bytes(b, sizeof(b)) != 1) {
		err_set(err, CAIRN_EINTERNAL, "cannot get random bytes for a request token");
		return -1;
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	t = xasprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		      b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
		      b[12], b[13], b[14], b[15]);
	json_object_set_new(in, "ClientRequestToken", json_string(t));
	free(t);
	return 0;
}

/* ---- aws_secretsmanager_secret ---- */

/* DescribeSecret of id (name or ARN): *desc NULL when gone or marked deleted. */
static int secret_describe(const struct provider_ctx *ctx, const char *id, json_t **desc,
			   struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "SecretId", id), *deleted;
	int rc = pcall_found(ctx, SVC, "DescribeSecret", in, sm_gone, desc, err);

	json_decref(in);
	deleted = *desc ? json_object_get(*desc, "DeletedDate") : NULL;
	if (rc == 0 && deleted && !json_is_null(deleted)) {
		json_decref(*desc);
		*desc = NULL;
	}
	return rc;
}

static int secret_read(const struct provider_ctx *ctx, const char *id, json_t *prior,
		       json_t **out, struct cairn_err *err)
{
	json_t *desc = NULL, *pol = NULL, *in = NULL, *o, *v;
	const char *arn;
	int rc = -1;

	*out = NULL;
	if (secret_describe(ctx, id, &desc, err) != 0)
		goto out;
	if (!desc) {
		rc = 0;
		goto out;
	}
	arn = pstr_or(json_object_get(desc, "ARN"), id);
	in = json_pack("{s:s}", "SecretId", arn);
	if (pcall_found(ctx, SVC, "GetResourcePolicy", in, sm_gone, &pol, err) != 0)
		goto out;
	o = json_object();
	json_object_set_new(o, "id", json_string(arn));
	json_object_set_new(o, "arn", json_string(arn));
	json_object_set_new(o, "name", json_string(pstr_or(json_object_get(desc, "Name"), "")));
	json_object_set_new(o, "description",
			    json_string(pstr_or(json_object_get(desc, "Description"), "")));
	json_object_set_new(o, "kms_key_id",
			    json_string(pstr_or(json_object_get(desc, "KmsKeyId"), "")));
	json_object_set_new(o, "policy", pdoc_json(pstr(pol, "ResourcePolicy")));
	/* a setting of the delete call, which AWS cannot report */
	v = json_object_get(prior, "recovery_window_in_days");
	json_object_set_new(o, "recovery_window_in_days",
			    json_is_integer(v) ? json_incref(v) : json_integer(30));
	json_object_set_new(o, "tags", ptags_from_list(json_object_get(desc, "Tags"), "Key",
						       "Value"));
	*out = o;
	rc = 0;
out:
	json_decref(in);
	json_decref(desc);
	json_decref(pol);
	return rc;
}

static int secret_put_policy(const struct provider_ctx *ctx, const char *arn, json_t *want,
			     struct cairn_err *err)
{
	char *policy = pdoc_text(json_object_get(want, "policy"));
	json_t *in = json_pack("{s:s}", "SecretId", arn);
	int rc;

	if (policy) {
		json_object_set_new(in, "ResourcePolicy", json_string(policy));
		rc = pcall_void(ctx, SVC, "PutResourcePolicy", in, err);
	} else {
		rc = pcall_void(ctx, SVC, "DeleteResourcePolicy", in, err);
	}
	free(policy);
	json_decref(in);
	return rc;
}

static int secret_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
			 struct cairn_err *err)
{
	json_t *tags = ptags_with_owner(ctx, json_object_get(attrs, "tags"));
	json_t *in = json_pack("{s:s,s:o}", "Name", pstr_or(json_object_get(attrs, "name"), ""),
			       "Tags", ptags_to_list(tags, "Key", "Value"));
	json_t *res = NULL, *pol = json_object_get(attrs, "policy");
	const char *s;
	char *arn = NULL;
	int rc = -1;

	*out = NULL;
	if ((s = pstr(attrs, "description")) && *s)
		json_object_set_new(in, "Description", json_string(s));
	if ((s = pstr(attrs, "kms_key_id")) && *s)
		json_object_set_new(in, "KmsKeyId", json_string(s));
	if (pcall(ctx, SVC, "CreateSecret", in, &res, err) != 0)
		goto out;
	arn = xstrdup(pstr_or(json_object_get(res, "ARN"), ""));
	if (pol && !json_is_null(pol) && secret_put_policy(ctx, arn, attrs, err) != 0)
		goto out;
	if (pread_back(ctx, secret_read, "CreateSecret", "secret", arn, attrs, out, err) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0 && arn && !*out)
		*out = json_pack("{s:s,s:s}", "id", arn, "arn", arn);
	free(arn);
	json_decref(tags);
	json_decref(in);
	json_decref(res);
	return rc;
}

static int secret_update(const struct provider_ctx *ctx, const char *id, json_t *old,
			 json_t *want, json_t *changed, json_t **out, struct cairn_err *err)
{
	json_t *in = NULL;
	int rc = -1;

	*out = NULL;
	if (pchanged(changed, "description") || pchanged(changed, "kms_key_id")) {
		in = json_pack("{s:s,s:s}", "SecretId", id, "Description",
			       pstr_or(json_object_get(want, "description"), ""));
		if (pchanged(changed, "kms_key_id") && pstr(want, "kms_key_id"))
			json_object_set_new(in, "KmsKeyId", json_string(pstr(want, "kms_key_id")));
		if (put_token(in, err) != 0 || pcall_void(ctx, SVC, "UpdateSecret", in, err) != 0)
			goto out;
	}
	if (pchanged(changed, "policy") && secret_put_policy(ctx, id, want, err) != 0)
		goto out;
	if (pchanged(changed, "tags") &&
	    ptags_sync(ctx, &TAG_API, id, json_object_get(old, "tags"),
		       json_object_get(want, "tags"), err) != 0)
		goto out;
	if (pread_after(ctx, secret_read, "update", "secret", id, want, out, err) != 0)
		goto out;
	rc = 0;
out:
	json_decref(in);
	return rc;
}

static int secret_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
			 struct cairn_err *err)
{
	json_t *desc = NULL, *in, *days = json_object_get(attrs, "recovery_window_in_days");
	int rc;

	/* already gone, or already marked deleted (AWS refuses a second delete) */
	if (secret_describe(ctx, id, &desc, err) != 0)
		return -1;
	if (!desc)
		return 0;
	json_decref(desc);
	in = json_pack("{s:s}", "SecretId", id);
	if (json_is_integer(days) && json_integer_value(days) == 0)
		json_object_set_new(in, "ForceDeleteWithoutRecovery", json_true());
	else if (json_is_integer(days))
		json_object_set(in, "RecoveryWindowInDays", days);
	rc = pcall_gone(ctx, SVC, "DeleteSecret", in, "ResourceNotFoundException", err);
	json_decref(in);
	return rc;
}

/* The name is unique: adopt the secret of that name if it carries this
 * resource's ownership tags. */
static int secret_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		       struct cairn_err *err)
{
	const char *name = pstr(attrs, "name");
	json_t *desc = NULL;
	int rc = -1;

	*out = NULL;
	if (!name)
		return 0;
	if (secret_describe(ctx, name, &desc, err) != 0)
		goto out;
	if (desc && ptags_owned_by(json_object_get(desc, "Tags"), "Key", "Value", ctx) &&
	    secret_read(ctx, pstr_or(json_object_get(desc, "ARN"), name), attrs, out, err) != 0)
		goto out;
	rc = 0;
out:
	json_decref(desc);
	return rc;
}

const struct resource_ops aws_secretsmanager_secret_ops = {
	.type = "aws_secretsmanager_secret",
	.create = secret_create,
	.read = secret_read,
	.update = secret_update,
	.delete = secret_delete,
	.find = secret_find,
};

/* ---- aws_secretsmanager_secret_version ---- */

/* Splits "ARN|VERSION" into two new strings; -1 when id has no '|'. */
static int version_id_split(const char *id, char **secret, char **version)
{
	const char *bar = strrchr(id, '|');

	if (!bar || bar == id || !bar[1])
		return -1;
	*secret = xasprintf("%.*s", (int)(bar - id), id);
	*version = xstrdup(bar + 1);
	return 0;
}

static json_t *version_attrs(json_t *v, json_t *prior)
{
	json_t *o = json_object();
	const char *arn = pstr_or(json_object_get(v, "ARN"), "");
	const char *vid = pstr_or(json_object_get(v, "VersionId"), "");
	char *id = xasprintf("%s|%s", arn, vid);

	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "arn", json_string(arn));
	json_object_set_new(o, "secret_id", json_string(arn));
	json_object_set_new(o, "version_id", json_string(vid));
	if (pstr(v, "SecretString"))
		json_object_set_new(o, "secret_string", json_string(pstr(v, "SecretString")));
	if (pstr(v, "SecretBinary"))
		json_object_set_new(o, "secret_binary", json_string(pstr(v, "SecretBinary")));
	json_object_set_new(o, "version_stages",
			    porder_like(json_object_get(v, "VersionStages"),
					json_object_get(prior, "version_stages"), 1));
	/* the stack may name the secret by name or ARN: keep its spelling */
	if (pstr(prior, "secret_id"))
		json_object_set_new(o, "secret_id", json_string(pstr(prior, "secret_id")));
	free(id);
	return o;
}

/* GetSecretValue of one version: *v NULL when it or its secret is gone. */
static int version_get(const struct provider_ctx *ctx, const char *secret, const char *version,
		       json_t **v, struct cairn_err *err)
{
	json_t *in = json_pack("{s:s,s:s}", "SecretId", secret, "VersionId", version);
	int rc = pcall_found(ctx, SVC, "GetSecretValue", in, sm_gone, v, err);

	/* a secret marked deleted answers InvalidRequestException */
	if (rc != 0 && perr_is(err, "InvalidRequestException")) {
		json_t *desc = NULL;
		struct cairn_err e2;

		err_clear(&e2);
		if (secret_describe(ctx, secret, &desc, &e2) == 0 && !desc) {
			err_clear(err);
			*v = NULL;
			rc = 0;
		}
		json_decref(desc);
	}
	json_decref(in);
	return rc;
}

static int version_read(const struct provider_ctx *ctx, const char *id, json_t *prior,
			json_t **out, struct cairn_err *err)
{
	char *secret = NULL, *version = NULL;
	json_t *v = NULL;
	int rc = -1;

	*out = NULL;
	if (version_id_split(id, &secret, &version) != 0) {
		err_set(err, CAIRN_EINVAL, "read on %s: '%s' is not a secret version id "
			"(SECRET_ARN|VERSION_ID)", ctx->name, id);
		return -1;
	}
	if (version_get(ctx, secret, version, &v, err) != 0)
		goto out;
	if (v)
		*out = version_attrs(v, prior);
	rc = 0;
out:
	json_decref(v);
	free(secret);
	free(version);
	return rc;
}

static int version_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
			  struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "SecretId", pstr_or(json_object_get(attrs, "secret_id"), ""));
	json_t *res = NULL, *stages = json_object_get(attrs, "version_stages");
	char *id = NULL;
	int rc = -1;

	*out = NULL;
	if (pstr(attrs, "secret_string"))
		json_object_set_new(in, "SecretString", json_string(pstr(attrs, "secret_string")));
	if (pstr(attrs, "secret_binary"))
		json_object_set_new(in, "SecretBinary", json_string(pstr(attrs, "secret_binary")));
	if (json_array_size(stages))
		json_object_set(in, "VersionStages", stages);
	if (put_token(in, err) != 0)
		goto out;
	/* a secret created a moment ago may not be visible yet */
	if (pcall_retry(ctx, SVC, "PutSecretValue", in, &res, sm_gone, SM_PROPAGATION_MS,
			err) != 0)
		goto out;
	id = xasprintf("%s|%s", pstr_or(json_object_get(res, "ARN"), ""),
		       pstr_or(json_object_get(res, "VersionId"), ""));
	if (version_read(ctx, id, attrs, out, err) != 0)
		goto out;
	if (!*out) {
		err_set(err, CAIRN_ENOTFOUND, "PutSecretValue on %s: version not found after "
			"creation", ctx->name);
		goto out;
	}
	rc = 0;
out:
	if (rc != 0 && id && !*out)
		*out = json_pack("{s:s}", "id", id);
	free(id);
	json_decref(in);
	json_decref(res);
	return rc;
}

/* The version that holds stage now (borrowed from desc's map), or NULL. */
static const char *stage_holder(json_t *desc, const char *stage)
{
	json_t *map = json_object_get(desc, "VersionIdsToStages"), *stages;
	const char *vid;

	json_object_foreach(map, vid, stages)
		if (json_array_has_str(stages, stage))
			return vid;
	return NULL;
}

/* Moves stage onto version (add) or off it (!add). */
static int stage_move(const struct provider_ctx *ctx, const char *secret, const char *version,
		      const char *stage, int add, struct cairn_err *err)
{
	json_t *desc = NULL, *in = json_pack("{s:s,s:s}", "SecretId", secret, "VersionStage", stage);
	const char *holder;
	int rc = -1;

	if (add) {
		if (secret_describe(ctx, secret, &desc, err) != 0)
			goto out;
		holder = stage_holder(desc, stage);
		if (holder && strcmp(holder, version) == 0) {
			rc = 0;
			goto out;
		}
		json_object_set_new(in, "MoveToVersionId", json_string(version));
		if (holder)
			json_object_set_new(in, "RemoveFromVersionId", json_string(holder));
	} else {
		json_object_set_new(in, "RemoveFromVersionId", json_string(version));
	}
	rc = pcall_void(ctx, SVC, "UpdateSecretVersionStage", in, err);
out:
	json_decref(desc);
	json_decref(in);
	return rc;
}

static int version_update(const struct provider_ctx *ctx, const char *id, json_t *old,
			  json_t *want, json_t *changed, json_t **out, struct cairn_err *err)
{
	json_t *from = json_object_get(old, "version_stages");
	json_t *to = json_object_get(want, "version_stages"), *s;
	char *secret = NULL, *version = NULL;
	size_t i;
	int rc = -1;

	*out = NULL;
	if (version_id_split(id, &secret, &version) != 0) {
		err_set(err, CAIRN_EINVAL, "update on %s: bad version id '%s'", ctx->name, id);
		return -1;
	}
	if (pchanged(changed, "version_stages")) {
		json_array_foreach(to, i, s)
			if (!json_array_has_str(from, json_string_value(s)) &&
			    stage_move(ctx, secret, version, json_string_value(s), 1, err) != 0)
				goto out;
		json_array_foreach(from, i, s)
			if (!json_array_has_str(to, json_string_value(s)) &&
			    stage_move(ctx, secret, version, json_string_value(s), 0, err) != 0)
				goto out;
	}
	if (version_read(ctx, id, want, out, err) != 0)
		goto out;
	if (!*out) {
		err_set(err, CAIRN_ENOTFOUND, "update on %s: secret version is gone", ctx->name);
		goto out;
	}
	rc = 0;
out:
	free(secret);
	free(version);
	return rc;
}

/*
 * A version cannot be deleted on its own: as Terraform does, its stages
 * are taken off so AWS deprecates it, except AWSCURRENT, which a secret's
 * current version keeps until another value is put or the secret goes.
 */
static int version_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
			  struct cairn_err *err)
{
	char *secret = NULL, *version = NULL;
	json_t *v = NULL, *s;
	size_t i;
	int rc = -1;

	if (version_id_split(id, &secret, &version) != 0)
		return 0;
	if (version_get(ctx, secret, version, &v, err) != 0)
		goto out;
	json_array_foreach(json_object_get(v, "VersionStages"), i, s)
		if (strcmp(json_string_value(s) ? json_string_value(s) : "", "AWSCURRENT") != 0 &&
		    stage_move(ctx, secret, version, json_string_value(s), 0, err) != 0)
			goto out;
	rc = 0;
out:
	json_decref(v);
	free(secret);
	free(version);
	return rc;
}

/* Same value (string or binary) as wanted? Compared, never shown. */
static int same_value(json_t *v, json_t *want)
{
	const char *a = pstr(v, "SecretString"), *b = pstr(want, "secret_string");
	const char *c = pstr(v, "SecretBinary"), *d = pstr(want, "secret_binary");

	return (a && b && strcmp(a, b) == 0) || (c && d && strcmp(c, d) == 0);
}

/* Versions take no tags: the version of the secret that holds the wanted
 * value is the one the interrupted create put. */
static int version_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
			struct cairn_err *err)
{
	const char *secret = pstr(attrs, "secret_id");
	json_t *in, *versions = NULL, *ver;
	size_t i;
	int rc = -1;

	*out = NULL;
	if (!secret)
		return 0;
	in = json_pack("{s:s}", "SecretId", secret);
	if (aws_call_all(ctx->aws, SVC, "ListSecretVersionIds", in, "Versions", &versions,
			 err) != 0) {
		if (perr_is(err, "ResourceNotFoundException")) {
			err_clear(err);
			rc = 0;
		} else {
			err_prefix(err, "ListSecretVersionIds on %s", ctx->name);
		}
		goto out;
	}
	json_array_foreach(versions, i, ver) {
		json_t *v = NULL;
		int same;

		if (version_get(ctx, secret, pstr_or(json_object_get(ver, "VersionId"), ""), &v,
				err) != 0)
			goto out;
		same = v && same_value(v, attrs);
		if (same)
			*out = version_attrs(v, attrs);
		json_decref(v);
		if (same)
			break;
	}
	rc = 0;
out:
	json_decref(in);
	json_decref(versions);
	return rc;
}

const struct resource_ops aws_secretsmanager_secret_version_ops = {
	.type = "aws_secretsmanager_secret_version",
	.create = version_create,
	.read = version_read,
	.update = version_update,
	.delete = version_delete,
	.find = version_find,
};
