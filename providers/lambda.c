/*
 * lambda: the aws_lambda_function and aws_lambda_permission resource
 * types (Lambda, rest-json protocol).
 *
 * A function's id is its name. Its code comes from a local zip
 * (filename, sent base64 in the call) or from S3 (s3_bucket, s3_key,
 * s3_object_version). source_code_hash is the base64 SHA-256 of the zip
 * as AWS reports it (CodeSha256): a stack that sets it to
 * filebase64sha256(the zip) sees a changed zip as a changed hash, and the
 * update sends the code again (UpdateFunctionCode), as in Terraform;
 * without it a changed file goes unnoticed. Settings change through
 * UpdateFunctionConfiguration, tags through Tag/UntagResource. Lambda
 * applies updates asynchronously: the next update waits, through the
 * waiter, until LastUpdateStatus is no longer InProgress, and create waits
 * until the function's State leaves Pending.
 *
 * A permission's id is "FUNCTION/STATEMENT_ID" (Terraform's import id);
 * it is read from the function's resource policy (GetPolicy). Permissions
 * carry no tags: the function and statement id name one statement, which
 * is how crash adoption finds it; the statement id defaults to
 * "cairn-RESOURCE_NAME".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blockmap.h"
#include "common.h"
#include "tagdiff.h"

#define SVC "lambda"
#define LAMBDA_ROLE_WAIT_MS (60 * 1000L)

static const char *const GONE[] = {"ResourceNotFoundException", NULL};

/* The zip at path as base64 text: owned, NULL with err. */
static char *zip_base64(const char *path, struct cairn_err *err)
{
	size_t len = 0;
	char *data = read_file(path, &len, err), *b64;

	if (!data) {
		err_prefix(err, "cannot read the function's zip '%s'", path);
		return NULL;
	}
	b64 = b64_encode(data, len);
	free(data);
	return b64;
}

/* Code of attrs for CreateFunction / UpdateFunctionCode: new object, NULL
 * with err. */
static json_t *code_input(json_t *attrs, struct cairn_err *err)
{
	const char *file = pstr(attrs, "filename"), *bucket = pstr(attrs, "s3_bucket");
	json_t *c = json_object();
	char *b64;

	if (file && *file) {
		b64 = zip_base64(file, err);
		if (!b64) {
			json_decref(c);
			return NULL;
		}
		json_object_set_new(c, "ZipFile", json_string(b64));
		free(b64);
	} else if (bucket && *bucket) {
		json_object_set_new(c, "S3Bucket", json_string(bucket));
		json_object_set_new(c, "S3Key", json_string(pstr_or(json_object_get(attrs, "s3_key"),
								     "")));
		if (pstr(attrs, "s3_object_version") && *pstr(attrs, "s3_object_version"))
			json_object_set_new(c, "S3ObjectVersion",
					    json_string(pstr(attrs, "s3_object_version")));
	} else {
		err_set(err, CAIRN_EINVAL, "function code: set filename or s3_bucket and s3_key");
		json_decref(c);
		return NULL;
	}
	return c;
}

static const struct bm_field VPC[] = {
	{"subnet_ids", "SubnetIds", BM_STRS, NULL, NULL, 0},
	{"security_group_ids", "SecurityGroupIds", BM_STRS, NULL, NULL, 0},
	{NULL, NULL, 0, NULL, NULL, 0},
};
static const struct bm_field ENVIRONMENT[] = {
	{"variables", "Variables", BM_MAP, NULL, NULL, 0},
	{NULL, NULL, 0, NULL, NULL, 0},
};
static const struct bm_field TRACING[] = {
	{"mode", "Mode", BM_STR, NULL, NULL, 0},
	{NULL, NULL, 0, NULL, NULL, 0},
};
static const struct bm_field STORAGE[] = {
	{"size", "Size", BM_NUM, NULL, NULL, 512},
	{NULL, NULL, 0, NULL, NULL, 0},
};

/* The settings UpdateFunctionConfiguration takes (and CreateFunction). */
static const struct bm_field CONFIG[] = {
	{"role", "Role", BM_STR, NULL, NULL, 0},
	{"handler", "Handler", BM_STR, NULL, NULL, 0},
	{"runtime", "Runtime", BM_STR, NULL, NULL, 0},
	{"description", "Description", BM_STR, NULL, NULL, 0},
	{"timeout", "Timeout", BM_NUM, NULL, NULL, 3},
	{"memory_size", "MemorySize", BM_NUM, NULL, NULL, 128},
	{"kms_key_arn", "KMSKeyArn", BM_STR, NULL, NULL, 0},
	{"layers", "Layers", BM_STRS, NULL, NULL, 0},
	{"environment", "Environment", BM_BLOCK, ENVIRONMENT, NULL, 0},
	{"vpc_config", "VpcConfig", BM_BLOCK, VPC, NULL, 0},
	{"tracing_config", "TracingConfig", BM_BLOCK, TRACING, NULL, 0},
	{"ephemeral_storage", "EphemeralStorage", BM_BLOCK, STORAGE, NULL, 0},
	{NULL, NULL, 0, NULL, NULL, 0},
};

/* The API Gateway invocation ARN of function ARN
 * arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME, as Terraform reports
 * it: owned, NULL when arn has no such form. */
static char *invoke_arn(const char *arn)
{
	const char *f[4];
	size_t k = 0;
	const char *p;

	if (!arn || strncmp(arn, "arn:", 4) != 0)
		return NULL;
	/* f[0]: partition, f[1]: service, f[2]: region, f[3]: account */
	for (p = arn + 4; k < 4 && p; p = strchr(p, ':'), p = p ? p + 1 : NULL)
		f[k++] = p;
	if (k < 4)
		return NULL;
	return xasprintf("arn:%.*s:apigateway:%.*s:lambda:path/2015-03-31/functions/%s/invocations",
			 (int)(f[1] - f[0] - 1), f[0], (int)(f[3] - f[2] - 1), f[2], arn);
}

/* Attribute object of GetFunction's answer; prior gives what AWS cannot
 * report (where the code came from). New ref. */
static json_t *function_attrs(json_t *res, json_t *prior)
{
	json_t *c = json_object_get(res, "Configuration"), *o = bm_from_aws(c, CONFIG), *l, *e;
	const char *keep[] = {"filename", "s3_bucket", "s3_key", "s3_object_version"};
	const char *arn = pstr(c, "FunctionArn");
	size_t i;
	char *invoke;

	/* Layers come back as objects with their ARN. */
	l = json_array();
	json_array_foreach(json_object_get(c, "Layers"), i, e)
		if (pstr(e, "Arn"))
			json_array_append_new(l, json_string(pstr(e, "Arn")));
	json_object_set_new(o, "layers", l);
	json_object_set_new(o, "id", pstr_json(json_object_get(c, "FunctionName")));
	json_object_set_new(o, "function_name", pstr_json(json_object_get(c, "FunctionName")));
	json_object_set_new(o, "package_type",
			    json_string(pstr_or(json_object_get(c, "PackageType"), "Zip")));
	e = json_object_get(c, "Architectures");
	json_object_set_new(o, "architectures", json_array_size(e) ? json_deep_copy(e) :
			    json_pack("[s]", "x86_64"));
	json_object_set_new(o, "source_code_hash", pstr_json(json_object_get(c, "CodeSha256")));
	json_object_set_new(o, "source_code_size",
			    json_integer(json_integer_value(json_object_get(c, "CodeSize"))));
	json_object_set_new(o, "arn", json_string(arn ? arn : ""));
	json_object_set_new(o, "qualified_arn", json_string(""));
	if (arn && pstr(c, "Version")) {
		char *q = xasprintf("%s:%s", arn, pstr(c, "Version"));

		json_object_set_new(o, "qualified_arn", json_string(q));
		free(q);
	}
	json_object_set_new(o, "version", pstr_json(json_object_get(c, "Version")));
	json_object_set_new(o, "last_modified", pstr_json(json_object_get(c, "LastModified")));
	invoke = invoke_arn(arn);
	json_object_set_new(o, "invoke_arn", json_string(invoke ? invoke : ""));
	free(invoke);
	json_object_set_new(o, "tags", ptags_strip_owner(json_is_object(json_object_get(res,
						"Tags")) ? json_object_get(res, "Tags") : NULL));
	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		json_object_set_new(o, keep[i], json_string(pstr_or(json_object_get(prior, keep[i]),
								    "")));
	return o;
}

/* GetFunction: *res new ref, NULL when gone. */
static int function_get(const struct provider_ctx *ctx, const char *name, json_t **res,
			struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "FunctionName", name);
	int rc = pcall_found(ctx, SVC, "GetFunction", in, GONE, res, err);

	json_decref(in);
	return rc;
}

static int fn_read(const struct provider_ctx *ctx, const char *id, json_t *prior, json_t **out,
		   struct cairn_err *err)
{
	json_t *res = NULL;

	*out = NULL;
	if (function_get(ctx, id, &res, err) != 0)
		return -1;
	if (res && json_is_object(json_object_get(res, "Configuration")))
		*out = function_attrs(res, prior);
	json_decref(res);
	return 0;
}

/* Polls until the function is usable: State not Pending and
 * LastUpdateStatus not InProgress; Failed is an error. */
static int ready_poll(const struct provider_ctx *ctx, void *arg, char *status, size_t status_len,
		      struct cairn_err *err)
{
	const char *name = arg;
	json_t *res = NULL, *c;
	const char *state, *update;
	int rc = -1;

	if (function_get(ctx, name, &res, err) != 0)
		return -1;
	c = json_object_get(res, "Configuration");
	if (!c) {
		err_set(err, CAIRN_ENOTFOUND, "function '%s' is gone", name);
		goto out;
	}
	state = pstr_or(json_object_get(c, "State"), "Active");
	update = pstr_or(json_object_get(c, "LastUpdateStatus"), "Successful");
	if (strcmp(state, "Failed") == 0 || strcmp(update, "Failed") == 0) {
		err_set(err, CAIRN_EAWS, "function '%s' failed: %s", name,
			pstr_or(json_object_get(c, strcmp(state, "Failed") == 0 ? "StateReason" :
						"LastUpdateStatusReason"), "no reason given"));
		goto out;
	}
	rc = strcmp(state, "Pending") != 0 && strcmp(update, "InProgress") != 0;
	if (!rc)
		snprintf(status, status_len, "%s/%s", state, update);
out:
	json_decref(res);
	return rc;
}

static int wait_ready(const struct provider_ctx *ctx, const char *name, struct cairn_err *err)
{
	struct pwait_spec spec = {"waiting for the function to become active", 500, 5000, 0};

	return pwait_until(ctx, &spec, ready_poll, (void *)name, err);
}

/* A role created moments ago may not be assumable by Lambda yet
 * (InvalidParameterValueException "The role defined for the function
 * cannot be assumed by Lambda"); only that refusal is waited out. */
static const char *const ROLE_CODES[] = {"InvalidParameterValueException", NULL};
static const char *const ROLE_MSGS[] = {"cannot be assumed", NULL};

static int call_role_ready(const struct provider_ctx *ctx, const char *op, json_t *in,
			   struct cairn_err *err)
{
	return pcall_retry_if(ctx, SVC, op, in, NULL, ROLE_CODES, ROLE_MSGS, LAMBDA_ROLE_WAIT_MS,
			      err);
}

static int fn_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		     struct cairn_err *err)
{
	const char *name = pstr(attrs, "function_name");
	json_t *tags = ptags_with_owner(ctx, json_object_get(attrs, "tags"));
	json_t *in = bm_to_aws(attrs, CONFIG), *code = code_input(attrs, err);
	int rc = -1, created = 0;

	*out = NULL;
	if (!code)
		goto out;
	json_object_set_new(in, "FunctionName", json_string(name));
	json_object_set_new(in, "Code", code);
	json_object_set_new(in, "PackageType",
			    json_string(pstr_or(json_object_get(attrs, "package_type"), "Zip")));
	if (json_array_size(json_object_get(attrs, "architectures")))
		json_object_set(in, "Architectures", json_object_get(attrs, "architectures"));
	json_object_set(in, "Tags", tags);
	if (call_role_ready(ctx, "CreateFunction", in, err) != 0)
		goto out;
	created = 1;
	if (wait_ready(ctx, name, err) != 0 ||
	    pread_back(ctx, fn_read, "CreateFunction", "function", name, attrs, out, err) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0 && created && !*out)
		*out = json_pack("{s:s,s:s}", "id", name, "function_name", name);
	json_decref(tags);
	json_decref(in);
	return rc;
}

static const struct ptag_api TAG_API = {
	.service = SVC, .untag_op = "UntagResource", .tag_op = "TagResource",
	.id_member = "Resource", .keys_member = "TagKeys", .tags_member = "Tags",
};

/* The attributes UpdateFunctionConfiguration changes. */
static int config_changed(json_t *changed)
{
	const struct bm_field *f;

	for (f = CONFIG; f->tf; f++)
		if (pchanged(changed, f->tf))
			return 1;
	return 0;
}

static int fn_update(const struct provider_ctx *ctx, const char *id, json_t *old, json_t *want,
		     json_t *changed, json_t **out, struct cairn_err *err)
{
	json_t *in = NULL, *code = NULL;
	int rc = -1;

	*out = NULL;
	if (config_changed(changed)) {
		in = bm_to_aws(want, CONFIG);
		bm_clear_changed(in, changed, CONFIG);
		/* no environment / VPC: Lambda's way of saying none */
		if (pchanged(changed, "environment") && !json_object_get(in, "Environment"))
			json_object_set_new(in, "Environment", json_pack("{s:{}}", "Variables"));
		if (pchanged(changed, "vpc_config") && !json_object_get(in, "VpcConfig"))
			json_object_set_new(in, "VpcConfig", json_pack("{s:[],s:[]}", "SubnetIds",
								       "SecurityGroupIds"));
		json_object_set_new(in, "FunctionName", json_string(id));
		if (wait_ready(ctx, id, err) != 0 ||
		    call_role_ready(ctx, "UpdateFunctionConfiguration", in, err) != 0)
			goto out;
		json_decref(in);
		in = NULL;
	}
	if (pchanged(changed, "source_code_hash") || pchanged(changed, "filename") ||
	    pchanged(changed, "s3_bucket") || pchanged(changed, "s3_key") ||
	    pchanged(changed, "s3_object_version") || pchanged(changed, "architectures")) {
		code = code_input(want, err);
		if (!code)
			goto out;
		in = json_deep_copy(code);
		json_object_set_new(in, "FunctionName", json_string(id));
		if (json_array_size(json_object_get(want, "architectures")))
			json_object_set(in, "Architectures", json_object_get(want, "architectures"));
		if (wait_ready(ctx, id, err) != 0 ||
		    pcall_void(ctx, SVC, "UpdateFunctionCode", in, err) != 0)
			goto out;
	}
	if (pchanged(changed, "tags") &&
	    ptags_sync(ctx, &TAG_API, pstr(old, "arn"), json_object_get(old, "tags"),
		       json_object_get(want, "tags"), err) != 0)
		goto out;
	if (wait_ready(ctx, id, err) != 0 ||
	    pread_after(ctx, fn_read, "update", "function", id, want, out, err) != 0)
		goto out;
	rc = 0;
out:
	json_decref(in);
	json_decref(code);
	return rc;
}

static int fn_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
		     struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "FunctionName", id);
	int rc = pcall_gone(ctx, SVC, "DeleteFunction", in, "ResourceNotFoundException", err);

	json_decref(in);
	return rc;
}

static int fn_named(const struct provider_ctx *ctx, const char *name, json_t *want,
		    json_t **out, json_t **tags, struct cairn_err *err)
{
	json_t *res = NULL;

	*out = *tags = NULL;
	if (function_get(ctx, name, &res, err) != 0)
		return -1;
	if (res && json_is_object(json_object_get(res, "Configuration"))) {
		*out = function_attrs(res, want);
		*tags = ptags_to_list(json_object_get(res, "Tags"), "Key", "Value");
	}
	json_decref(res);
	return 0;
}

/* Names are unique per region: adopt the function of that name only if it
 * carries this resource's ownership tags. */
static int fn_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		   struct cairn_err *err)
{
	return pfind_by_name(ctx, attrs, "function_name", fn_named, out, err);
}

const struct resource_ops aws_lambda_function_ops = {
	.type = "aws_lambda_function",
	.create = fn_create,
	.read = fn_read,
	.update = fn_update,
	.delete = fn_delete,
	.find = fn_find,
};

/* ---- aws_lambda_permission ---- */

/* Splits "FUNCTION/STATEMENT" at the last '/': both owned. */
static int split_perm(const char *id, char **fn, char **sid)
{
	const char *s = strrchr(id, '/');

	if (!s || s == id || !s[1])
		return -1;
	*fn = xstrndup(id, (size_t)(s - id));
	*sid = xstrdup(s + 1);
	return 0;
}

/* The statement id: the given one, else one from the resource name. Owned. */
static char *statement_id(const struct provider_ctx *ctx, json_t *attrs)
{
	const char *given = pstr(attrs, "statement_id");
	char *id;
	size_t i;

	if (given && *given)
		return xstrdup(given);
	id = xasprintf("cairn-%.90s", ctx->name);
	for (i = 0; id[i]; i++)
		if (!strchr("_-", id[i]) && !(id[i] >= '0' && id[i] <= '9') &&
		    !((id[i] | 0x20) >= 'a' && (id[i] | 0x20) <= 'z'))
			id[i] = '-';
	return id;
}

/* The principal of a statement as Terraform writes it: a service name,
 * an account id or ARN, or "*". */
static const char *principal_of(json_t *st)
{
	json_t *p = json_object_get(st, "Principal");

	if (json_is_string(p))
		return json_string_value(p);
	if (pstr(p, "Service"))
		return pstr(p, "Service");
	/* an account principal: AWS may report it as the account's root ARN */
	if (pstr(p, "AWS"))
		return pstr(p, "AWS");
	return "";
}

/* The principal as the stack writes it: AWS turns an account id into the
 * account's root ARN (arn:PARTITION:iam::ACCOUNT:root), which reads back
 * as the id (the common form, and what an import can only guess) unless
 * the prior record has the ARN itself. New ref. */
static json_t *principal_as(json_t *st, json_t *prior)
{
	const char *got = principal_of(st), *was = pstr(prior, "principal");
	const char *acct = strstr(got, ":iam::");
	size_t n = strlen(got);

	if (strncmp(got, "arn:", 4) != 0 || !acct || n < 5 || strcmp(got + n - 5, ":root") != 0 ||
	    (was && strcmp(was, got) == 0))
		return json_string(got);
	acct += strlen(":iam::");
	if ((size_t)(got + n - 5 - acct) != 12 || strspn(acct, "0123456789") < 12)
		return json_string(got);
	return json_stringn(acct, 12);
}

/* A condition value: Condition[op][key] as a string, or "". */
static const char *condition(json_t *st, const char *op, const char *key)
{
	return pstr_or(json_object_get(json_object_get(json_object_get(st, "Condition"), op), key),
		       "");
}

static int perm_read(const struct provider_ctx *ctx, const char *id, json_t *prior, json_t **out,
		     struct cairn_err *err)
{
	char *fn = NULL, *sid = NULL;
	json_t *in = NULL, *res = NULL, *doc = NULL, *st, *o;
	const char *q = pstr(prior, "qualifier"), *src;
	size_t i;
	int rc = -1;

	*out = NULL;
	if (split_perm(id, &fn, &sid) != 0) {
		err_set(err, CAIRN_EINVAL, "%s: '%s' is not FUNCTION/STATEMENT_ID", ctx->name, id);
		return -1;
	}
	in = json_pack("{s:s}", "FunctionName", fn);
	if (q && *q)
		json_object_set_new(in, "Qualifier", json_string(q));
	if (pcall_found(ctx, SVC, "GetPolicy", in, GONE, &res, err) != 0)
		goto out;
	doc = res && pstr(res, "Policy") ? json_loads(pstr(res, "Policy"), 0, NULL) : NULL;
	json_array_foreach(json_object_get(doc, "Statement"), i, st) {
		if (!pstr(st, "Sid") || strcmp(pstr(st, "Sid"), sid) != 0)
			continue;
		src = condition(st, "ArnLike", "AWS:SourceArn");
		o = json_object();
		json_object_set_new(o, "id", json_string(id));
		json_object_set_new(o, "function_name", json_string(fn));
		json_object_set_new(o, "statement_id", json_string(sid));
		json_object_set_new(o, "action", pstr_json(json_object_get(st, "Action")));
		json_object_set_new(o, "principal", principal_as(st, prior));
		json_object_set_new(o, "source_arn", json_string(*src ? src :
				    condition(st, "ArnEquals", "AWS:SourceArn")));
		json_object_set_new(o, "source_account",
				    json_string(condition(st, "StringEquals", "AWS:SourceAccount")));
		json_object_set_new(o, "qualifier", json_string(q ? q : ""));
		*out = o;
		break;
	}
	rc = 0;
out:
	free(fn);
	free(sid);
	json_decref(in);
	json_decref(res);
	json_decref(doc);
	return rc;
}

static int perm_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		       struct cairn_err *err)
{
	const char *fn = pstr(attrs, "function_name");
	char *sid = statement_id(ctx, attrs), *id = xasprintf("%s/%s", fn, sid);
	json_t *in = json_pack("{s:s,s:s,s:s,s:s}", "FunctionName", fn, "StatementId", sid,
			       "Action", pstr_or(json_object_get(attrs, "action"), ""),
			       "Principal", pstr_or(json_object_get(attrs, "principal"), ""));
	const char *v;
	int rc = -1, created = 0;

	*out = NULL;
	if ((v = pstr(attrs, "source_arn")) && *v)
		json_object_set_new(in, "SourceArn", json_string(v));
	if ((v = pstr(attrs, "source_account")) && *v)
		json_object_set_new(in, "SourceAccount", json_string(v));
	if ((v = pstr(attrs, "qualifier")) && *v)
		json_object_set_new(in, "Qualifier", json_string(v));
	if (pcall_void(ctx, SVC, "AddPermission", in, err) != 0) {
		/* "already so": a statement of that id is there (a retried call) */
		if (!perr_is(err, "ResourceConflictException"))
			goto out;
		err_clear(err);
	}
	created = 1;
	if (pread_back(ctx, perm_read, "AddPermission", "statement", id, attrs, out, err) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0 && created && !*out)
		*out = json_pack("{s:s,s:s,s:s}", "id", id, "function_name", fn, "statement_id", sid);
	json_decref(in);
	free(sid);
	free(id);
	return rc;
}

static int perm_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
		       struct cairn_err *err)
{
	char *fn, *sid;
	json_t *in;
	const char *q = pstr(attrs, "qualifier");
	int rc;

	if (split_perm(id, &fn, &sid) != 0) {
		err_set(err, CAIRN_EINVAL, "%s: '%s' is not FUNCTION/STATEMENT_ID", ctx->name, id);
		return -1;
	}
	in = json_pack("{s:s,s:s}", "FunctionName", fn, "StatementId", sid);
	if (q && *q)
		json_object_set_new(in, "Qualifier", json_string(q));
	/* gone: the statement, or the whole function */
	rc = pcall_gone(ctx, SVC, "RemovePermission", in, "ResourceNotFoundException", err);
	json_decref(in);
	free(fn);
	free(sid);
	return rc;
}

/* The function and statement id name the one statement this can be. */
static int perm_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		     struct cairn_err *err)
{
	char *sid, *id;
	int rc;

	*out = NULL;
	if (!pstr(attrs, "function_name"))
		return 0;
	sid = statement_id(ctx, attrs);
	id = xasprintf("%s/%s", pstr(attrs, "function_name"), sid);
	rc = perm_read(ctx, id, attrs, out, err);
	free(sid);
	free(id);
	return rc;
}

const struct resource_ops aws_lambda_permission_ops = {
	.type = "aws_lambda_permission",
	.create = perm_create,
	.read = perm_read,
	.delete = perm_delete,
	.find = perm_find,
};
