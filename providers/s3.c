/*
 * s3: aws_s3_bucket and its configuration resources, separate as in
 * Terraform's AWS provider v4+ (aws_s3_bucket_versioning,
 * aws_s3_bucket_server_side_encryption_configuration,
 * aws_s3_bucket_public_access_block, aws_s3_bucket_policy,
 * aws_s3_bucket_lifecycle_configuration). rest-xml protocol.
 *
 * The bucket's id is its name, which is unique across AWS: crash recovery
 * adopts the bucket of that name only when GetBucketTagging shows this
 * resource's ownership tags. The tags go in CreateBucket's
 * CreateBucketConfiguration (AWS takes them there) and are put again with
 * PutBucketTagging at once, for endpoints that drop them from the create.
 *
 * A configuration resource's id is its bucket's name too: it exists while
 * the bucket holds that configuration, and belongs to the stack that owns
 * the bucket, so its find is a read of the bucket named in the stack.
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define SVC "s3"
#define S3_WAIT_MS (2L * 60 * 1000)

/* A bucket may not be visible to every S3 endpoint right after creation. */
static const char *const BUCKET_NEW[] = {"NoSuchBucket", NULL};

/* ---- aws_s3_bucket ---- */

/* The tag list of a bucket: *tags a new array ([] when it has none), NULL
 * when the bucket is gone. */
static int bucket_tags(const struct provider_ctx *ctx, const char *bucket, json_t **tags,
		       struct cairn_err *err)
{
	static const char *const gone[] = {"NoSuchBucket", NULL};
	json_t *in = json_pack("{s:s}", "Bucket", bucket), *res = NULL, *t;
	int rc;

	*tags = NULL;
	rc = pcall_found(ctx, SVC, "GetBucketTagging", in, gone, &res, err);
	if (rc != 0 && perr_is(err, "NoSuchTagSet")) {
		err_clear(err);
		*tags = json_array();
		rc = 0;
	} else if (rc == 0 && res) {
		t = json_object_get(res, "TagSet");
		*tags = json_is_array(t) ? json_incref(t) : json_array();
	}
	json_decref(in);
	json_decref(res);
	return rc;
}

/* The bucket's region from HeadBucket: 1 found (region filled), 0 gone. */
static int bucket_head(const struct provider_ctx *ctx, const char *bucket, char *region,
		       size_t region_len, struct cairn_err *err)
{
	static const char *const gone[] = {"NotFound", "NoSuchBucket", NULL};
	json_t *in = json_pack("{s:s}", "Bucket", bucket), *res = NULL;
	const char *r;
	int rc;

	rc = pcall_found(ctx, SVC, "HeadBucket", in, gone, &res, err);
	if (rc == 0) {
		r = pstr(res, "BucketRegion");
		snprintf(region, region_len, "%s", r ? r : aws_client_region(ctx->aws));
		rc = res ? 1 : 0;
	}
	json_decref(in);
	json_decref(res);
	return rc;
}

static json_t *bucket_attrs(const char *bucket, const char *region, json_t *tags, json_t *prior)
{
	json_t *o = json_object(), *fd = json_object_get(prior, "force_destroy");
	char *s;

	json_object_set_new(o, "id", json_string(bucket));
	json_object_set_new(o, "bucket", json_string(bucket));
	/* force_destroy is cairn's own: AWS has nothing to report for it. */
	json_object_set_new(o, "force_destroy", json_boolean(json_is_true(fd)));
	s = xasprintf("arn:aws:s3:::%s", bucket);
	json_object_set_new(o, "arn", json_string(s));
	free(s);
	s = xasprintf("%s.s3.amazonaws.com", bucket);
	json_object_set_new(o, "bucket_domain_name", json_string(s));
	free(s);
	s = xasprintf("%s.s3.%s.amazonaws.com", bucket, region);
	json_object_set_new(o, "bucket_regional_domain_name", json_string(s));
	free(s);
	json_object_set_new(o, "region", json_string(region));
	json_object_set_new(o, "tags", ptags_from_list(tags, "Key", "Value"));
	return o;
}

static int bucket_read(const struct provider_ctx *ctx, const char *id, json_t *prior,
		       json_t **out, struct cairn_err *err)
{
	char region[64];
	json_t *tags = NULL;
	int found;

	*out = NULL;
	found = bucket_head(ctx, id, region, sizeof(region), err);
	if (found <= 0)
		return found;
	if (bucket_tags(ctx, id, &tags, err) != 0)
		return -1;
	if (tags)
		*out = bucket_attrs(id, region, tags, prior);
	json_decref(tags);
	return 0;
}

/* PutBucketTagging of the user's tags (borrowed, may be NULL) and the
 * ownership tags: S3 replaces the whole set in one call. */
static int bucket_put_tags(const struct provider_ctx *ctx, const char *bucket, json_t *user,
			   struct cairn_err *err)
{
	json_t *tags = ptags_with_owner(ctx, user);
	json_t *in = json_pack("{s:s,s:{s:o}}", "Bucket", bucket, "Tagging", "TagSet",
			       ptags_to_list(tags, "Key", "Value"));
	int rc = pcall_retry(ctx, SVC, "PutBucketTagging", in, NULL, BUCKET_NEW, S3_WAIT_MS, err);

	json_decref(tags);
	json_decref(in);
	return rc;
}

static int bucket_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
			 struct cairn_err *err)
{
	const char *bucket = pstr(attrs, "bucket"), *region = aws_client_region(ctx->aws);
	json_t *tags = ptags_with_owner(ctx, json_object_get(attrs, "tags"));
	json_t *conf = json_object(), *in;
	char have[64];
	int rc = -1, found;

	*out = NULL;
	/* us-east-1 is the one region named by no LocationConstraint. */
	if (strcmp(region, "us-east-1") != 0)
		json_object_set_new(conf, "LocationConstraint", json_string(region));
	json_object_set_new(conf, "Tags", ptags_to_list(tags, "Key", "Value"));
	in = json_pack("{s:s,s:o}", "Bucket", bucket, "CreateBucketConfiguration", conf);
	/* In us-east-1 CreateBucket answers 200 for a bucket the account
	 * already owns (and resets its ACL): a bucket of that name that is
	 * not this resource's (crash recovery adopts its own before a create
	 * runs) must be refused here, not taken over. */
	found = bucket_head(ctx, bucket, have, sizeof(have), err);
	if (found < 0)
		goto out;
	if (found) {
		err_set(err, CAIRN_EAWS, "CreateBucket on %s: BucketAlreadyOwnedByYou: bucket '%s' "
			"already exists and is not this resource's (import it to manage it)",
			ctx->name, bucket);
		goto out;
	}
	if (pcall_void(ctx, SVC, "CreateBucket", in, err) != 0)
		goto out;
	if (bucket_put_tags(ctx, bucket, json_object_get(attrs, "tags"), err) != 0) {
		pcreated_partial(out, bucket, "bucket");
		goto out;
	}
	rc = pread_created(ctx, bucket_read, "CreateBucket", "bucket", bucket, attrs, "bucket",
			   out, err);
out:
	json_decref(tags);
	json_decref(in);
	return rc;
}

static int bucket_update(const struct provider_ctx *ctx, const char *id, json_t *old,
			 json_t *want, json_t *changed, json_t **out, struct cairn_err *err)
{
	*out = NULL;
	if (pchanged(changed, "tags") &&
	    bucket_put_tags(ctx, id, json_object_get(want, "tags"), err) != 0)
		return -1;
	if (pread_after(ctx, bucket_read, "update", "bucket", id, want, out, err) != 0)
		return -1;
	return 0;
}

/* Deletes every item of list (Versions or DeleteMarkers of one
 * ListObjectVersions page) by key and version. */
static int delete_versions(const struct provider_ctx *ctx, const char *bucket, json_t *list,
			   struct cairn_err *err)
{
	size_t i;
	json_t *v;

	json_array_foreach(list, i, v) {
		json_t *in = json_pack("{s:s,s:s}", "Bucket", bucket, "Key", pstr_or(
					       json_object_get(v, "Key"), ""));
		int rc;

		if (pstr(v, "VersionId"))
			json_object_set_new(in, "VersionId", json_string(pstr(v, "VersionId")));
		rc = pcall_gone(ctx, SVC, "DeleteObject", in, "NoSuchKey", err);
		json_decref(in);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/*
 * force_destroy: deletes every object version and delete marker (an
 * unversioned object is the version "null"), a page of ListObjectVersions
 * at a time, until the listing comes back empty.
 */
static int bucket_empty(const struct provider_ctx *ctx, const char *bucket,
			struct cairn_err *err)
{
	static const char *const gone[] = {"NoSuchBucket", NULL};
	json_t *in = json_pack("{s:s}", "Bucket", bucket), *res = NULL;
	int rc = -1;

	for (;;) {
		json_decref(res);
		res = NULL;
		if (pcall_found(ctx, SVC, "ListObjectVersions", in, gone, &res, err) != 0)
			goto out;
		if (!res)
			break;
		if (!json_array_size(json_object_get(res, "Versions")) &&
		    !json_array_size(json_object_get(res, "DeleteMarkers")))
			break;
		/* Markers first: AWS takes either order, moto 5.2.1 fails (HTTP
		 * 500) on a version whose key's latest is a delete marker. */
		if (delete_versions(ctx, bucket, json_object_get(res, "DeleteMarkers"), err) != 0 ||
		    delete_versions(ctx, bucket, json_object_get(res, "Versions"), err) != 0)
			goto out;
		if (ctx->cancel && *ctx->cancel) {
			err_set(err, CAIRN_ECANCEL, "emptying bucket '%s' on %s: cancelled", bucket,
				ctx->name);
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(in);
	json_decref(res);
	return rc;
}

static int bucket_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
			 struct cairn_err *err)
{
	static const char *const gone[] = {"NoSuchBucket", NULL};
	static const char *const head_gone[] = {"NotFound", "NoSuchBucket", NULL};
	json_t *in = json_pack("{s:s}", "Bucket", id);
	int rc = -1;

	if (json_is_true(json_object_get(attrs, "force_destroy")) &&
	    bucket_empty(ctx, id, err) != 0)
		goto out;
	/* Without force_destroy a bucket that holds objects is refused with
	 * BucketNotEmpty, as Terraform leaves it. */
	if (pdelete(ctx, SVC, "DeleteBucket", in, NULL, gone, S3_WAIT_MS, err) != 0)
		goto out;
	rc = pwait_gone(ctx, "waiting for the bucket to go", SVC, "HeadBucket", in, head_gone,
			S3_WAIT_MS, err);
out:
	json_decref(in);
	return rc;
}

/* The bucket called name and its tags (see pnamed_fn). */
static int bucket_named(const struct provider_ctx *ctx, const char *name, json_t *want,
			json_t **out, json_t **tags, struct cairn_err *err)
{
	*out = NULL;
	if (bucket_tags(ctx, name, tags, err) != 0)
		return -1;
	return *tags ? bucket_read(ctx, name, want, out, err) : 0;
}

static int bucket_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		       struct cairn_err *err)
{
	return pfind_by_name(ctx, attrs, "bucket", bucket_named, out, err);
}

const struct resource_ops aws_s3_bucket_ops = {
	.type = "aws_s3_bucket",
	.create = bucket_create,
	.read = bucket_read,
	.update = bucket_update,
	.delete = bucket_delete,
	.find = bucket_find,
};

/* ---- configuration resources: one table, three types ---- */

/*
 * A bucket configuration as data: its Get/Put/Delete calls, the member
 * that carries it, the error that says the bucket has none, and the
 * conversions between cairn's attributes and AWS's shape.
 */
struct s3conf {
	const char *get_op, *put_op, *delete_op;
	const char *member;                 /* the Put input's member */
	const char *get_member;             /* the Get output's, NULL: the whole output */
	const char *none;                   /* error: the bucket has no such configuration */
	/* AWS's configuration (borrowed) -> attributes besides id/bucket, into o;
	 * returns 0 when the answer means "none". */
	int (*to_attrs)(json_t *conf, json_t *o);
	json_t *(*to_aws)(json_t *attrs);   /* new ref */
	/* Delete by a Put of this (new ref) instead of delete_op (versioning). */
	json_t *(*reset)(void);
	/* Why AWS cannot make the update old -> want (static), or NULL. */
	const char *(*refuse)(json_t *old, json_t *want);
};

static int conf_read(const struct provider_ctx *ctx, const struct s3conf *c, const char *id,
		     json_t **out, struct cairn_err *err)
{
	const char *const gone[] = {"NoSuchBucket", c->none, NULL};
	json_t *in = json_pack("{s:s}", "Bucket", id), *res = NULL, *o = NULL, *conf;
	int rc;

	*out = NULL;
	rc = pcall_found(ctx, SVC, c->get_op, in, gone, &res, err);
	if (rc == 0 && res) {
		conf = c->get_member ? json_object_get(res, c->get_member) : res;
		o = json_pack("{s:s,s:s}", "id", id, "bucket", id);
		if (c->to_attrs(conf, o))
			*out = json_incref(o);
	}
	json_decref(o);
	json_decref(in);
	json_decref(res);
	return rc;
}

/* conf (stolen): the configuration to put; NULL puts nothing (versioning
 * "Disabled" on a bucket never versioned). */
static int conf_put(const struct provider_ctx *ctx, const struct s3conf *c, const char *bucket,
		    json_t *conf, struct cairn_err *err)
{
	json_t *in;
	int rc;

	if (!conf)
		return 0;
	in = json_pack("{s:s,s:o}", "Bucket", bucket, c->member, conf);
	rc = pcall_retry(ctx, SVC, c->put_op, in, NULL, BUCKET_NEW, S3_WAIT_MS, err);

	json_decref(in);
	return rc;
}

static int conf_create(const struct provider_ctx *ctx, const struct s3conf *c, json_t *attrs,
		       json_t **out, struct cairn_err *err)
{
	const char *bucket = pstr(attrs, "bucket");

	*out = NULL;
	if (conf_put(ctx, c, bucket, c->to_aws(attrs), err) != 0)
		return -1;
	if (conf_read(ctx, c, bucket, out, err) != 0)
		return pcreated_partial(out, bucket, "bucket");
	if (!*out) {
		err_set(err, CAIRN_ENOTFOUND, "%s on %s: the configuration of bucket '%s' "
			"vanished after creation", c->put_op, ctx->name, bucket);
		return pcreated_partial(out, bucket, "bucket");
	}
	return 0;
}

static int conf_update(const struct provider_ctx *ctx, const struct s3conf *c, const char *id,
		       json_t *old, json_t *want, json_t **out, struct cairn_err *err)
{
	*out = NULL;
	if (c->refuse && c->refuse(old, want)) {
		err_set(err, CAIRN_EINVAL, "%s on %s: %s", c->put_op, ctx->name, c->refuse(old, want));
		return -1;
	}
	if (conf_put(ctx, c, id, c->to_aws(want), err) != 0)
		return -1;
	if (conf_read(ctx, c, id, out, err) != 0)
		return -1;
	if (!*out) {
		err_set(err, CAIRN_ENOTFOUND, "update on %s: the configuration of bucket '%s' is "
			"gone", ctx->name, id);
		return -1;
	}
	return 0;
}

static int conf_delete(const struct provider_ctx *ctx, const struct s3conf *c, const char *id,
		       json_t *attrs, struct cairn_err *err)
{
	json_t *in;
	int rc;

	if (c->reset) {
		/* What puts nothing (versioning "Disabled") has nothing to undo. */
		json_t *was = c->to_aws(attrs);

		if (!was)
			return 0;
		json_decref(was);
		in = json_pack("{s:s,s:o}", "Bucket", id, c->member, c->reset());
		rc = pcall_gone(ctx, SVC, c->put_op, in, "NoSuchBucket", err);
	} else {
		in = json_pack("{s:s}", "Bucket", id);
		rc = pcall_gone(ctx, SVC, c->delete_op, in, "NoSuchBucket", err);
	}
	json_decref(in);
	return rc;
}

/* ---- aws_s3_bucket_versioning ---- */

static int versioning_to_attrs(json_t *conf, json_t *o)
{
	const char *st = pstr(conf, "Status"), *mfa = pstr(conf, "MFADelete");

	/* A bucket never versioned answers no Status: Terraform's "Disabled". */
	json_object_set_new(o, "versioning_configuration",
			    json_pack("{s:s,s:s}", "status", st && *st ? st : "Disabled",
				      "mfa_delete", mfa && *mfa ? mfa : "Disabled"));
	return 1;
}

static const char *versioning_status(json_t *attrs)
{
	return pstr_or(json_object_get(json_object_get(attrs, "versioning_configuration"), "status"),
		       "");
}

/* "Disabled" is the state of a bucket never versioned, which nothing puts
 * back: as in Terraform it is only for creating the resource, and puts
 * nothing then; a versioned bucket can only be suspended. */
static const char *versioning_refuse(json_t *old, json_t *want)
{
	if (strcmp(versioning_status(want), "Disabled") == 0 &&
	    strcmp(versioning_status(old), "Disabled") != 0)
		return "versioning cannot go back to Disabled once enabled; use Suspended";
	return NULL;
}

static json_t *versioning_to_aws(json_t *attrs)
{
	json_t *vc = json_object_get(attrs, "versioning_configuration");
	const char *st = pstr(vc, "status"), *mfa = pstr(vc, "mfa_delete");
	json_t *o;

	if (st && strcmp(st, "Disabled") == 0)
		return NULL;
	o = json_pack("{s:s}", "Status", st && strcmp(st, "Enabled") == 0 ? "Enabled" : "Suspended");

	if (mfa && strcmp(mfa, "Enabled") == 0)
		json_object_set_new(o, "MFADelete", json_string("Enabled"));
	return o;
}

static json_t *versioning_reset(void)
{
	return json_pack("{s:s}", "Status", "Suspended");
}

static const struct s3conf VERSIONING = {
	.get_op = "GetBucketVersioning", .put_op = "PutBucketVersioning",
	.member = "VersioningConfiguration", .none = NULL,
	.to_attrs = versioning_to_attrs, .to_aws = versioning_to_aws, .reset = versioning_reset,
	.refuse = versioning_refuse,
};

/* ---- aws_s3_bucket_public_access_block ---- */

static const char *const PAB[][2] = {
	{"block_public_acls", "BlockPublicAcls"},
	{"block_public_policy", "BlockPublicPolicy"},
	{"ignore_public_acls", "IgnorePublicAcls"},
	{"restrict_public_buckets", "RestrictPublicBuckets"},
};

static int pab_to_attrs(json_t *conf, json_t *o)
{
	size_t i;

	for (i = 0; i < sizeof(PAB) / sizeof(PAB[0]); i++)
		json_object_set_new(o, PAB[i][0],
				    json_boolean(json_is_true(json_object_get(conf, PAB[i][1]))));
	return 1;
}

static json_t *pab_to_aws(json_t *attrs)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < sizeof(PAB) / sizeof(PAB[0]); i++)
		json_object_set_new(o, PAB[i][1],
				    json_boolean(json_is_true(json_object_get(attrs, PAB[i][0]))));
	return o;
}

static const struct s3conf PUBLIC_ACCESS_BLOCK = {
	.get_op = "GetPublicAccessBlock", .put_op = "PutPublicAccessBlock",
	.delete_op = "DeletePublicAccessBlock", .member = "PublicAccessBlockConfiguration",
	.get_member = "PublicAccessBlockConfiguration",
	.none = "NoSuchPublicAccessBlockConfiguration",
	.to_attrs = pab_to_attrs, .to_aws = pab_to_aws,
};

/* ---- aws_s3_bucket_server_side_encryption_configuration ---- */

static int sse_to_attrs(json_t *conf, json_t *o)
{
	json_t *rules = json_array(), *r;
	size_t i;

	json_array_foreach(json_object_get(conf, "Rules"), i, r) {
		json_t *d = json_object_get(r, "ApplyServerSideEncryptionByDefault");
		json_t *rule = json_object(), *def = json_object();

		json_object_set_new(def, "sse_algorithm",
				    json_string(pstr_or(json_object_get(d, "SSEAlgorithm"), "")));
		json_object_set_new(def, "kms_master_key_id",
				    json_string(pstr_or(json_object_get(d, "KMSMasterKeyID"), "")));
		json_object_set_new(rule, "apply_server_side_encryption_by_default", def);
		json_object_set_new(rule, "bucket_key_enabled",
				    json_boolean(json_is_true(json_object_get(r, "BucketKeyEnabled"))));
		json_array_append_new(rules, rule);
	}
	json_object_set_new(o, "rule", rules);
	return 1;
}

static json_t *sse_to_aws(json_t *attrs)
{
	json_t *rules = json_array(), *r;
	size_t i;

	json_array_foreach(json_object_get(attrs, "rule"), i, r) {
		json_t *d = json_object_get(r, "apply_server_side_encryption_by_default");
		json_t *def = json_pack("{s:s}", "SSEAlgorithm",
					pstr_or(json_object_get(d, "sse_algorithm"), "AES256"));
		const char *kms = pstr(d, "kms_master_key_id");

		if (kms && *kms)
			json_object_set_new(def, "KMSMasterKeyID", json_string(kms));
		json_array_append_new(rules, json_pack(
			"{s:o,s:b}", "ApplyServerSideEncryptionByDefault", def, "BucketKeyEnabled",
			json_is_true(json_object_get(r, "bucket_key_enabled"))));
	}
	return json_pack("{s:o}", "Rules", rules);
}

static const struct s3conf SSE = {
	.get_op = "GetBucketEncryption", .put_op = "PutBucketEncryption",
	.delete_op = "DeleteBucketEncryption", .member = "ServerSideEncryptionConfiguration",
	.get_member = "ServerSideEncryptionConfiguration",
	.none = "ServerSideEncryptionConfigurationNotFoundError",
	.to_attrs = sse_to_attrs, .to_aws = sse_to_aws,
};

/* ---- aws_s3_bucket_policy ---- */

static int policy_to_attrs(json_t *conf, json_t *o)
{
	json_t *doc = json_doc_parse(json_string_value(conf));

	if (!doc)
		return 0;
	json_object_set_new(o, "policy", doc);
	return 1;
}

static json_t *policy_to_aws(json_t *attrs)
{
	char *text = json_doc_text(json_object_get(attrs, "policy"));
	json_t *v = json_string(text ? text : "");

	free(text);
	return v;
}

static const struct s3conf POLICY = {
	.get_op = "GetBucketPolicy", .put_op = "PutBucketPolicy",
	.delete_op = "DeleteBucketPolicy", .member = "Policy", .get_member = "Policy",
	.none = "NoSuchBucketPolicy",
	.to_attrs = policy_to_attrs, .to_aws = policy_to_aws,
};

/* ---- aws_s3_bucket_lifecycle_configuration ---- */

/* Copies the integer src[from] into dst[to] when present. */
static void copy_int(json_t *dst, const char *to, json_t *src, const char *from)
{
	json_t *v = json_object_get(src, from);

	if (json_is_integer(v))
		json_object_set_new(dst, to, json_integer(json_integer_value(v)));
}

/* A nested block of integers named by pairs {attr, AWS member}: the
 * object of the other side, or NULL when src is absent. */
static json_t *int_block(json_t *src, const char *const (*pairs)[2], size_t n, int to_aws)
{
	json_t *o;
	size_t i;

	if (!json_is_object(src))
		return NULL;
	o = json_object();
	for (i = 0; i < n; i++)
		copy_int(o, pairs[i][to_aws ? 1 : 0], src, pairs[i][to_aws ? 0 : 1]);
	return o;
}

static const char *const EXPIRATION[][2] = {{"days", "Days"}};
static const char *const NONCURRENT_EXP[][2] = {
	{"noncurrent_days", "NoncurrentDays"},
	{"newer_noncurrent_versions", "NewerNoncurrentVersions"},
};
static const char *const ABORT_MPU[][2] = {{"days_after_initiation", "DaysAfterInitiation"}};

/* Sets dst[key] to block (stolen) when it is not NULL. */
static void set_block(json_t *dst, const char *key, json_t *block)
{
	if (block)
		json_object_set_new(dst, key, block);
}

static json_t *transitions(json_t *list, int to_aws)
{
	json_t *out = json_array(), *t;
	size_t i;

	json_array_foreach(list, i, t) {
		json_t *o = json_object();

		copy_int(o, to_aws ? "Days" : "days", t, to_aws ? "days" : "Days");
		json_object_set_new(o, to_aws ? "StorageClass" : "storage_class",
				    json_string(pstr_or(json_object_get(
					    t, to_aws ? "storage_class" : "StorageClass"), "")));
		json_array_append_new(out, o);
	}
	return out;
}

static int lifecycle_to_attrs(json_t *conf, json_t *o)
{
	json_t *rules = json_array(), *r;
	size_t i;

	json_array_foreach(conf, i, r) {
		json_t *rule = json_object(), *f = json_object_get(r, "Filter");
		const char *prefix = pstr(f, "Prefix") ? pstr(f, "Prefix") : pstr(r, "Prefix");
		json_t *exp = json_object_get(r, "Expiration");

		json_object_set_new(rule, "id", json_string(pstr_or(json_object_get(r, "ID"), "")));
		json_object_set_new(rule, "status",
				    json_string(pstr_or(json_object_get(r, "Status"), "")));
		json_object_set_new(rule, "filter", json_pack("{s:s}", "prefix",
							      prefix ? prefix : ""));
		if (json_is_integer(json_object_get(exp, "Days")))
			set_block(rule, "expiration", int_block(exp, EXPIRATION, 1, 0));
		set_block(rule, "noncurrent_version_expiration",
			  int_block(json_object_get(r, "NoncurrentVersionExpiration"),
				    NONCURRENT_EXP, 2, 0));
		set_block(rule, "abort_incomplete_multipart_upload",
			  int_block(json_object_get(r, "AbortIncompleteMultipartUpload"),
				    ABORT_MPU, 1, 0));
		json_object_set_new(rule, "transition",
				    transitions(json_object_get(r, "Transitions"), 0));
		json_array_append_new(rules, rule);
	}
	json_object_set_new(o, "rule", rules);
	return 1;
}

static json_t *lifecycle_to_aws(json_t *attrs)
{
	json_t *rules = json_array(), *r;
	size_t i;

	json_array_foreach(json_object_get(attrs, "rule"), i, r) {
		json_t *rule = json_pack("{s:s,s:s,s:{s:s}}", "ID",
					 pstr_or(json_object_get(r, "id"), ""), "Status",
					 pstr_or(json_object_get(r, "status"), "Enabled"), "Filter",
					 "Prefix", pstr_or(json_object_get(json_object_get(r, "filter"),
								      "prefix"), ""));

		set_block(rule, "Expiration",
			  int_block(json_object_get(r, "expiration"), EXPIRATION, 1, 1));
		set_block(rule, "NoncurrentVersionExpiration",
			  int_block(json_object_get(r, "noncurrent_version_expiration"),
				    NONCURRENT_EXP, 2, 1));
		set_block(rule, "AbortIncompleteMultipartUpload",
			  int_block(json_object_get(r, "abort_incomplete_multipart_upload"),
				    ABORT_MPU, 1, 1));
		if (json_array_size(json_object_get(r, "transition")))
			json_object_set_new(rule, "Transitions",
					    transitions(json_object_get(r, "transition"), 1));
		json_array_append_new(rules, rule);
	}
	return json_pack("{s:o}", "Rules", rules);
}

static const struct s3conf LIFECYCLE = {
	.get_op = "GetBucketLifecycleConfiguration", .put_op = "PutBucketLifecycleConfiguration",
	.delete_op = "DeleteBucketLifecycle", .member = "LifecycleConfiguration",
	.get_member = "Rules", .none = "NoSuchLifecycleConfiguration",
	.to_attrs = lifecycle_to_attrs, .to_aws = lifecycle_to_aws,
};

/* The four functions of each configuration type over its table. */
#define S3CONF_OPS(T, conf)                                                            \
	static int T##_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out, \
				 struct cairn_err *err)                                    \
	{                                                                                  \
		return conf_create(ctx, &conf, attrs, out, err);                           \
	}                                                                                  \
	static int T##_read(const struct provider_ctx *ctx, const char *id, json_t *prior, \
			       json_t **out, struct cairn_err *err)                        \
	{                                                                                  \
		return conf_read(ctx, &conf, id, out, err);                                \
	}                                                                                  \
	static int T##_update(const struct provider_ctx *ctx, const char *id, json_t *old, \
				 json_t *want, json_t *changed, json_t **out,              \
				 struct cairn_err *err)                                    \
	{                                                                                  \
		return conf_update(ctx, &conf, id, old, want, out, err);                   \
	}                                                                                  \
	static int T##_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs, \
				 struct cairn_err *err)                                    \
	{                                                                                  \
		return conf_delete(ctx, &conf, id, attrs, err);                            \
	}                                                                                  \
	static int T##_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out, \
			       struct cairn_err *err)                                      \
	{                                                                                  \
		return conf_read(ctx, &conf, pstr_or(json_object_get(attrs, "bucket"), ""), \
				 out, err);                                                \
	}                                                                                  \
	const struct resource_ops T##_ops = {                                           \
		.type = #T, .create = T##_create, .read = T##_read,               \
		.update = T##_update, .delete = T##_delete, .find = T##_find,     \
	};

S3CONF_OPS(aws_s3_bucket_versioning, VERSIONING)
S3CONF_OPS(aws_s3_bucket_public_access_block, PUBLIC_ACCESS_BLOCK)
S3CONF_OPS(aws_s3_bucket_server_side_encryption_configuration, SSE)
S3CONF_OPS(aws_s3_bucket_policy, POLICY)
S3CONF_OPS(aws_s3_bucket_lifecycle_configuration, LIFECYCLE)
