/*
 * ses: the aws_ses_email_identity resource type (SES v1, query protocol).
 *
 * The id is the email address. VerifyEmailIdentity starts the
 * verification (AWS mails a link; the identity exists, pending, from that
 * moment) and is idempotent. SES v1 identities carry no tags, so nothing
 * marks one as cairn's: crash adoption finds the identity by its address,
 * which names one identity per region. A batch read is one
 * GetIdentityVerificationAttributes per 100 addresses.
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define SVC "ses"
#define SES_GET_MAX 100

/* GetIdentityVerificationAttributes of names[from, to) into found
 * (address -> attributes). */
static int get_chunk(const struct provider_ctx *ctx, const char *const *names, size_t from,
		     size_t to, json_t *found, struct cairn_err *err)
{
	json_t *list = json_array(), *in, *res = NULL, *v;
	const char *k;
	size_t i;
	int rc;

	for (i = from; i < to; i++)
		json_array_append_new(list, json_string(names[i]));
	in = json_pack("{s:o}", "Identities", list);
	rc = pcall(ctx, SVC, "GetIdentityVerificationAttributes", in, &res, err);
	if (rc == 0)
		json_object_foreach(json_object_get(res, "VerificationAttributes"), k, v)
			json_object_set(found, k, v);
	json_decref(in);
	json_decref(res);
	return rc;
}

/* The identity's ARN: owned, NULL with err when the account is unknown. */
static char *identity_arn(const struct provider_ctx *ctx, const char *email,
			  struct cairn_err *err)
{
	const char *region = aws_client_region(ctx->aws), *acct = aws_account_id(ctx->aws, err);
	const char *part = strncmp(region, "cn-", 3) == 0 ? "aws-cn" :
			   strncmp(region, "us-gov-", 7) == 0 ? "aws-us-gov" : "aws";

	if (!acct)
		return NULL;
	return xasprintf("arn:%s:ses:%s:%s:identity/%s", part, region, acct, email);
}

static int ses_read_batch(const struct provider_ctx *const *ctxs, size_t n,
			  const char *const *ids, json_t *const *priors, json_t **outs,
			  struct cairn_err *err)
{
	json_t *found = json_object(), *v;
	size_t i;
	char *arn;
	int rc = -1;

	for (i = 0; i < n; i++)
		outs[i] = NULL;
	if (pread_chunks(ctxs, ids, n, SES_GET_MAX, get_chunk, found, err) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		v = json_object_get(found, ids[i]);
		if (!v)
			continue;
		arn = identity_arn(ctxs[i], ids[i], err);
		if (!arn)
			goto out;
		outs[i] = json_pack("{s:s,s:s,s:s,s:s}", "id", ids[i], "email", ids[i], "arn", arn,
				    "verification_status",
				    pstr_or(json_object_get(v, "VerificationStatus"), ""));
		free(arn);
	}
	rc = 0;
out:
	if (rc != 0)
		pouts_clear(outs, n);
	json_decref(found);
	return rc;
}

static int ses_read(const struct provider_ctx *ctx, const char *id, json_t *prior, json_t **out,
		    struct cairn_err *err)
{
	return ses_read_batch(&ctx, 1, &id, &prior, out, err);
}

static int ses_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		      struct cairn_err *err)
{
	const char *email = pstr(attrs, "email");
	json_t *in = json_pack("{s:s}", "EmailAddress", email);
	int rc = -1, created = 0;

	*out = NULL;
	if (pcall_void(ctx, SVC, "VerifyEmailIdentity", in, err) != 0)
		goto out;
	created = 1;
	if (pread_back(ctx, ses_read, "VerifyEmailIdentity", "identity", email, attrs, out, err) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0 && created && !*out)
		*out = json_pack("{s:s,s:s}", "id", email, "email", email);
	json_decref(in);
	return rc;
}

/* DeleteIdentity of an identity that is not there succeeds. */
static int ses_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
		      struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "Identity", id);
	int rc = pcall_void(ctx, SVC, "DeleteIdentity", in, err);

	json_decref(in);
	return rc;
}

/* Untaggable: the address names the one identity this resource can be. */
static int ses_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		    struct cairn_err *err)
{
	*out = NULL;
	if (!pstr(attrs, "email"))
		return 0;
	return ses_read(ctx, pstr(attrs, "email"), attrs, out, err);
}

const struct resource_ops aws_ses_email_identity_ops = {
	.type = "aws_ses_email_identity",
	.create = ses_create,
	.read = ses_read,
	.read_batch = ses_read_batch,
	.delete = ses_delete,
	.find = ses_find,
};
