/*
 * state_s3: the remote object store of state.h over S3, so that
 * `--state s3://BUCKET/KEY` keeps the state in S3 (SPEC §5.1). state/
 * knows the store only through struct state_remote_ops; this file is the
 * one place that joins it to the AWS client. Objects are written with one
 * PutObject each (never multipart), conditional (If-Match / If-None-Match),
 * with server-side encryption: AES256, or aws:kms with ?kms_key_id=.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "../providers/aws/aws.h"
#include "../state/state.h"

struct s3_store {
	struct aws_client *aws;     /* owned */
	char *bucket, *url;
	char *kms_key_id;           /* NULL: AES256 */
};

int cmd_state_is_remote(const char *path)
{
	return path && strncmp(path, "s3://", 5) == 0;
}

/* What S3 said, as a message a user can act on. */
static void explain(const struct s3_store *s, const char *op, const char *key,
		    struct cairn_err *err)
{
	const char *code = err->remote.code;
	char was[2048];

	memcpy(was, err->msg, sizeof(was));
	was[sizeof(was) - 1] = '\0';
	if (!strcmp(code, "NoSuchBucket"))
		err_set(err, CAIRN_EAWS, "bucket '%s' does not exist (state %s); create it first, "
			"in the region cairn uses", s->bucket, s->url);
	else if (!strcmp(code, "AccessDenied") || !strcmp(code, "Forbidden") ||
		 !strcmp(code, "AllAccessDisabled"))
		err_set(err, CAIRN_EAWS, "access denied to s3://%s/%s (s3:%s): the credentials "
			"need s3:GetObject, s3:PutObject and s3:DeleteObject on the state and its "
			".lock object (see README, S3 state); S3 said: %.600s", s->bucket, key,
			op, was);
	else if (!strcmp(code, "PermanentRedirect") || !strcmp(code, "AuthorizationHeaderMalformed") ||
		 !strcmp(code, "IllegalLocationConstraintException") || err->remote.status == 301)
		err_set(err, CAIRN_EAWS, "bucket '%s' is in another region than the one cairn uses "
			"(%.600s); set --region, AWS_REGION or ?region= on the state URL", s->bucket,
			was);
	else
		return;
	err->remote.status = 0;
}

static void fill_info(json_t *out, const struct aws_blob_io *io, struct state_remote_info *info)
{
	json_t *meta = json_object_get(out, "Metadata");
	const char *etag = json_string_value(json_object_get(out, "ETag"));
	const char *modified = json_string_value(json_object_get(out, "LastModified"));

	memset(info, 0, sizeof(*info));
	snprintf(info->etag, sizeof(info->etag), "%s", etag ? etag : "");
	snprintf(info->last_modified, sizeof(info->last_modified), "%s", modified ? modified : "");
	snprintf(info->date, sizeof(info->date), "%s", io->date);
	info->meta = json_is_object(meta) ? json_incref(meta) : json_object();
}

static int s3_read(void *ctx, const char *op, const char *key, struct strbuf *body,
		   struct state_remote_info *info, struct cairn_err *err)
{
	struct s3_store *s = ctx;
	struct aws_blob_io io = {0};
	json_t *in = json_pack("{s:s,s:s}", "Bucket", s->bucket, "Key", key), *out = NULL;
	int rc;

	memset(info, 0, sizeof(*info));
	strbuf_init(&io.out);
	rc = aws_call_blob(s->aws, "s3", op, in, &io, &out, err);
	if (rc == 0) {
		fill_info(out, &io, info);
		if (body)
			strbuf_add(body, io.out.buf, io.out.len);
	} else if (!strcmp(err->remote.code, "NoSuchKey") ||
		   (!strcmp(err->remote.code, "NotFound") && !strcmp(op, "HeadObject"))) {
		rc = STATE_REMOTE_NOTFOUND;
	} else {
		explain(s, op, key, err);
	}
	json_decref(in);
	json_decref(out);
	strbuf_free(&io.out);
	return rc;
}

static int s3_get(void *ctx, const char *key, struct strbuf *body, struct state_remote_info *info,
		  struct cairn_err *err)
{
	return s3_read(ctx, "GetObject", key, body, info, err);
}

static int s3_head(void *ctx, const char *key, struct state_remote_info *info,
		   struct cairn_err *err)
{
	return s3_read(ctx, "HeadObject", key, NULL, info, err);
}

static int s3_put(void *ctx, const char *key, const void *data, size_t len, const char *if_match,
		  json_t *meta, struct state_remote_info *info, struct cairn_err *err)
{
	struct s3_store *s = ctx;
	struct aws_blob_io io = {0};
	json_t *in = json_pack("{s:s,s:s,s:O}", "Bucket", s->bucket, "Key", key, "Metadata", meta);
	json_t *out = NULL;
	int rc;

	memset(info, 0, sizeof(*info));
	if (if_match)
		json_object_set_new(in, "IfMatch", json_string(if_match));
	else
		json_object_set_new(in, "IfNoneMatch", json_string("*"));
	json_object_set_new(in, "ServerSideEncryption", json_string(s->kms_key_id ? "aws:kms"
									       : "AES256"));
	if (s->kms_key_id)
		json_object_set_new(in, "SSEKMSKeyId", json_string(s->kms_key_id));
	io.body = data;
	io.body_len = len;
	strbuf_init(&io.out);
	rc = aws_call_blob(s->aws, "s3", "PutObject", in, &io, &out, err);
	if (rc == 0) {
		fill_info(out, &io, info);
	} else if (err->remote.status == 412 || !strcmp(err->remote.code, "PreconditionFailed")) {
		rc = STATE_REMOTE_CONFLICT;
	} else {
		explain(s, "PutObject", key, err);
	}
	json_decref(in);
	json_decref(out);
	strbuf_free(&io.out);
	return rc;
}

static int s3_del(void *ctx, const char *key, const char *if_match, struct cairn_err *err)
{
	struct s3_store *s = ctx;
	json_t *in = json_pack("{s:s,s:s}", "Bucket", s->bucket, "Key", key), *out = NULL;
	int rc;

	if (if_match)
		json_object_set_new(in, "IfMatch", json_string(if_match));
	rc = aws_call(s->aws, "s3", "DeleteObject", in, &out, err);
	if (rc < 0 && !strcmp(err->remote.code, "NoSuchKey"))
		rc = 0;
	else if (rc < 0 && (err->remote.status == 412 || !strcmp(err->remote.code, "PreconditionFailed")))
		rc = STATE_REMOTE_CONFLICT;
	else if (rc < 0)
		explain(s, "DeleteObject", key, err);
	json_decref(in);
	json_decref(out);
	return rc;
}

static void s3_release(void *ctx)
{
	struct s3_store *s = ctx;

	aws_client_free(s->aws);
	free(s->bucket);
	free(s->url);
	free(s->kms_key_id);
	free(s);
}

/* The CI job that runs us, if any: GitHub Actions, GitLab CI, Jenkins. Owned or NULL. */
static char *ci_job(char **envp)
{
	const char *server = env_get(envp, "GITHUB_SERVER_URL");
	const char *repo = env_get(envp, "GITHUB_REPOSITORY");
	const char *run = env_get(envp, "GITHUB_RUN_ID");

	if (server && repo && run)
		return xasprintf("%s/%s/actions/runs/%s", server, repo, run);
	if (env_get(envp, "CI_JOB_URL"))
		return xstrdup(env_get(envp, "CI_JOB_URL"));
	if (env_get(envp, "BUILD_URL"))
		return xstrdup(env_get(envp, "BUILD_URL"));
	return NULL;
}

/* s3://BUCKET/KEY[?kms_key_id=ID&region=R]: *bucket, *key, *kms, *region owned (may be NULL). */
static int parse_url(const char *url, char **bucket, char **key, char **kms, char **region)
{
	const char *b = url + 5, *slash = strchr(b, '/'), *q;
	char *params, *p, *save = NULL;

	*bucket = *key = *kms = *region = NULL;
	if (!slash || slash == b)
		return -1;
	q = strchr(slash, '?');
	*bucket = xstrndup(b, (size_t)(slash - b));
	*key = q ? xstrndup(slash + 1, (size_t)(q - slash - 1)) : xstrdup(slash + 1);
	if (!**key)
		return -1;
	if (!q)
		return 0;
	params = xstrdup(q + 1);
	for (p = strtok_r(params, "&", &save); p; p = strtok_r(NULL, "&", &save)) {
		if (!strncmp(p, "kms_key_id=", 11) && p[11]) {
			free(*kms);
			*kms = xstrdup(p + 11);
		} else if (!strncmp(p, "region=", 7) && p[7]) {
			free(*region);
			*region = xstrdup(p + 7);
		} else {
			free(params);
			return -1;
		}
	}
	free(params);
	return 0;
}

struct state *cmd_open_remote_state(const struct global_opts *g, int create)
{
	struct state_remote r = {0};
	struct aws_client_opts o = {0};
	struct s3_store *s;
	struct passwd *pw = getpwuid(getuid());
	struct cairn_err err;
	struct state *st = NULL;
	char *bucket, *key, *kms, *region, *job = NULL, host[256];
	const char *lease = env_get(g->envp, "CAIRN_LOCK_LEASE");
	const char *test_host = env_get(g->envp, "CAIRN_TEST_HOSTNAME");

	err_clear(&err);
	if (parse_url(g->state_path, &bucket, &key, &kms, &region) < 0) {
		msg_error("bad state URL '%s': expected s3://BUCKET/KEY, optionally with "
			  "?kms_key_id=ID and &region=NAME", g->state_path);
		goto out;
	}
	/* The bucket's own client (common.c's cmd_aws_client would make a circle of files). */
	o.envp = g->envp;
	o.profile = g->profile;
	o.region = region ? region : g->region;
	o.verbose = g->verbose;
	o.log = stderr;
	s = xcalloc(1, sizeof(*s));
	s->aws = aws_client_new(&o, &err);
	if (!s->aws) {
		msg_err(&err);
		free(s);
		goto out;
	}
	s->bucket = xstrdup(bucket);
	s->url = xasprintf("s3://%s/%s", bucket, key);
	s->kms_key_id = xstrdup(kms);
	if (test_host && *test_host)      /* test hook: act as another machine */
		snprintf(host, sizeof(host), "%s", test_host);
	else if (gethostname(host, sizeof(host) - 1) != 0)
		strcpy(host, "unknown");
	host[sizeof(host) - 1] = '\0';
	job = ci_job(g->envp);
	r.ops.get = s3_get;
	r.ops.head = s3_head;
	r.ops.put = s3_put;
	r.ops.del = s3_del;
	r.ops.release = s3_release;
	r.ops.ctx = s;
	r.url = s->url;
	r.key = key;
	r.host = host;
	r.user = pw && pw->pw_name ? pw->pw_name : "unknown";
	r.ci_job = job;
	r.lease_s = lease ? atoi(lease) : 60;
	r.tmpdir = env_get(g->envp, "TMPDIR");
	st = state_open_remote(&r, create, &err);
	if (!st)
		msg_err(&err);
out:
	free(bucket);
	free(key);
	free(kms);
	free(region);
	free(job);
	return st;
}
