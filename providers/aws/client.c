/*
 * client: aws.h. Puts the pieces together for one call: the service's
 * protocol builds the body, credentials come from the chain (resolved
 * lazily, refreshed under a lock before they expire), the request is
 * signed (SigV4) and sent over the pooled HTTP connections, failures are
 * retried in the standard mode, and -v logs every request and response
 * through the redactor.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aws.h"
#include "creds.h"
#include "endpoints.h"
#include "http.h"
#include "proto.h"
#include "redact.h"
#include "retry.h"
#include "sigv4.h"
#include "timing.h"

/* Refresh temporary credentials this long before they expire. */
#define CREDS_REFRESH_MARGIN_S 300

struct aws_client {
	char **envp;                    /* owned deep copy */
	char *profile;                  /* owned or NULL */
	char *region;                   /* owned */
	int verbose;
	char **secret_fields;           /* owned, NULL-terminated */
	FILE *log;
	int64_t (*now)(void);
	double (*rand01)(void *ctx);
	void *rand_ctx;
	void (*sleep_ms)(long ms);
	int max_attempts;
	long connect_timeout_ms, timeout_ms;    /* AWS_CONNECT_TIMEOUT, AWS_READ_TIMEOUT */
	int64_t clock_offset;           /* atomic: server time minus ours (skew correction) */
	struct http *http;
	struct retry_bucket bucket;

	pthread_mutex_t creds_lock;     /* guards creds, have_creds */
	struct aws_creds creds;
	int have_creds;

	pthread_mutex_t misc_lock;      /* guards log output, account_id, rand state */
	char *account_id;
	unsigned short xsubi[3];

	uint64_t requests;              /* atomic */
};

static int64_t real_now(void)
{
	return (int64_t)time(NULL);
}

static double real_rand01(void *ctx)
{
	struct aws_client *c = ctx;
	double r;

	pthread_mutex_lock(&c->misc_lock);
	r = erand48(c->xsubi);
	pthread_mutex_unlock(&c->misc_lock);
	return r;
}

static void real_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0)
		;
}

static char **copy_env(char *const *envp)
{
	size_t n = 0, i;
	char **out;

	while (envp && envp[n])
		n++;
	out = xcalloc(n + 1, sizeof(*out));
	for (i = 0; i < n; i++)
		out[i] = xstrdup(envp[i]);
	return out;
}

struct aws_client *aws_client_new(const struct aws_client_opts *opts, struct cairn_err *err)
{
	struct aws_client *c;
	char *region = aws_resolve_region(opts->envp, opts->region, opts->profile);
	int64_t seed;

	if (!region) {
		err_set(err, CAIRN_EINVAL, "no AWS region: use --region, the stack's region, "
			"AWS_REGION, AWS_DEFAULT_REGION or the profile's region");
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->envp = copy_env(opts->envp);
	c->profile = xstrdup(opts->profile);
	c->region = region;
	c->verbose = opts->verbose;
	c->secret_fields = copy_env((char *const *)opts->secret_fields);
	c->log = opts->log ? opts->log : stderr;
	c->now = opts->now ? opts->now : real_now;
	c->rand01 = opts->rand01 ? opts->rand01 : real_rand01;
	c->rand_ctx = opts->rand01 ? opts->rand_ctx : c;
	c->sleep_ms = opts->sleep_ms ? opts->sleep_ms : real_sleep_ms;
	c->max_attempts = retry_max_attempts(c->envp);
	timing_timeouts(c->envp, &c->connect_timeout_ms, &c->timeout_ms);
	c->http = http_new();
	retry_bucket_init(&c->bucket);
	pthread_mutex_init(&c->creds_lock, NULL);
	pthread_mutex_init(&c->misc_lock, NULL);
	seed = c->now() ^ (int64_t)getpid();
	c->xsubi[0] = (unsigned short)seed;
	c->xsubi[1] = (unsigned short)(seed >> 16);
	c->xsubi[2] = (unsigned short)(seed >> 32);
	return c;
}

void aws_client_free(struct aws_client *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; c->envp[i]; i++)
		free(c->envp[i]);
	free(c->envp);
	for (i = 0; c->secret_fields[i]; i++)
		free(c->secret_fields[i]);
	free(c->secret_fields);
	free(c->profile);
	free(c->region);
	http_free(c->http);
	retry_bucket_destroy(&c->bucket);
	if (c->have_creds)
		aws_creds_free(&c->creds);
	pthread_mutex_destroy(&c->creds_lock);
	pthread_mutex_destroy(&c->misc_lock);
	free(c->account_id);
	free(c);
}

const char *aws_client_region(const struct aws_client *c)
{
	return c->region;
}

uint64_t aws_client_requests(const struct aws_client *c)
{
	return __atomic_load_n(&c->requests, __ATOMIC_RELAXED);
}

/* Writes text to the -v log through the redactor, one block at a time. */
static void log_block(struct aws_client *c, const char *text)
{
	char *safe = redact_text(text, (const char *const *)c->secret_fields);

	pthread_mutex_lock(&c->misc_lock);
	fputs(safe, c->log);
	fflush(c->log);
	pthread_mutex_unlock(&c->misc_lock);
	free(safe);
}

/* "https://host:port/path" -> host ("host:port", owned) and path (owned, "/" at least). */
static void split_url(const char *url, char **host, char **path)
{
	const char *h = strstr(url, "://");
	const char *slash;

	h = h ? h + 3 : url;
	slash = strchr(h, '/');
	*host = slash ? xstrndup(h, (size_t)(slash - h)) : xstrdup(h);
	*path = xstrdup(slash ? slash : "/");
}

/* After a time-related refusal: adopt the server's clock offset when its
 * Date header says ours is off (the SDKs' clock-skew correction). */
static void note_skew(struct aws_client *c, const struct http_response *resp, int64_t used,
		      int *skewed)
{
	char date[64];
	int64_t cur = __atomic_load_n(&c->clock_offset, __ATOMIC_RELAXED), off;

	if (cur != used) {
		/* Another call corrected the clock while this one was in flight. */
		*skewed = 1;
		return;
	}
	if (!http_header(resp, "Date", date, sizeof(date)) ||
	    !timing_skew_offset(date, c->now(), cur, &off))
		return;
	__atomic_store_n(&c->clock_offset, off, __ATOMIC_RELAXED);
	*skewed = 1;
	if (c->verbose) {
		char *m = xasprintf("cairn: aws: clock skew: the server's time is %+lld s from "
				    "ours; signing with its time\n", (long long)off);

		log_block(c, m);
		free(m);
	}
}

/*
 * The request's URL, and the Host and path to sign. query/json: the
 * endpoint itself (path "/"). REST: the endpoint's path followed by the
 * operation's, S3's virtual-hosted bucket in front of the host name.
 */
static void request_target(const char *endpoint, const struct proto_request *preq,
			   char **url, char **host, char **sign_path)
{
	const char *scheme_end = strstr(endpoint, "://");
	size_t scheme_len = scheme_end ? (size_t)(scheme_end - endpoint) + 3 : 0;
	char *ehost, *epath;

	split_url(endpoint, &ehost, &epath);
	if (strcmp(epath, "/") == 0)
		epath[0] = '\0';
	if (!preq->method[0]) {
		*host = ehost;
		*url = xasprintf("%.*s%s%s", (int)scheme_len, endpoint, ehost, epath[0] ? epath : "/");
		*sign_path = xstrdup(epath[0] ? epath : "/");
		free(epath);
		return;
	}
	*host = xasprintf("%s%s", preq->host_prefix ? preq->host_prefix : "", ehost);
	*url = xasprintf("%.*s%s%s%s%s%s", (int)scheme_len, endpoint, *host, epath,
			 preq->path ? preq->path : "/", preq->query && *preq->query ? "?" : "",
			 preq->query ? preq->query : "");
	*sign_path = xasprintf("%s%s", epath, preq->sign_path ? preq->sign_path : "/");
	free(ehost);
	free(epath);
}

/* Operations that change nothing, by the APIs' naming convention. */
static int read_only(const char *operation)
{
	return strncmp(operation, "Describe", 8) == 0 || strncmp(operation, "Get", 3) == 0 ||
	       strncmp(operation, "Head", 4) == 0 ||
	       strncmp(operation, "List", 4) == 0;
}

/*
 * Operations that make a new object each time AWS carries them out, by the
 * APIs' naming convention (CreateVpc makes a second VPC when sent twice).
 * Some so named are idempotent (CreateTopic, CreateTags); the name cannot
 * tell, so they are treated alike.
 */
static int makes_new(const char *operation)
{
	return strncmp(operation, "Create", 6) == 0 || strncmp(operation, "Run", 3) == 0 ||
	       strncmp(operation, "Allocate", 8) == 0 || strncmp(operation, "Register", 8) == 0 ||
	       strncmp(operation, "Request", 7) == 0;
}

/*
 * One HTTP exchange: sign (with creds, or unsigned when NULL), send, parse.
 * blob (may be NULL): where a blob payload goes, and the Date header.
 * Returns 0 with *out, or -1 with err; *skewed is set when AWS refused the
 * request for its time and the clock offset was corrected (retry it).
 */
static int send_once(struct aws_client *c, const struct aws_service *svc, const char *operation,
		     const char *endpoint, const struct proto_request *preq,
		     const struct aws_creds *creds, struct aws_blob_io *blob, json_t **out,
		     int *skewed,
		     struct cairn_err *err)
{
	struct sigv4_header *base, *signed_hdrs = NULL;
	size_t n_base = 0, n_signed = 0, i;
	char *host, *sign_path, *full_url;
	const char **lines = NULL;
	const char *method = preq->method[0] ? preq->method : "POST";
	struct http_request hr = {0};
	struct http_response resp;
	char rid[128], etype[256];
	int64_t used_offset = 0;
	int rc = -1, sent = 0, binary;

	*out = NULL;
	request_target(endpoint, preq, &full_url, &host, &sign_path);
	base = xcalloc(3 + preq->n_headers, sizeof(*base));
	base[n_base++] = (struct sigv4_header){ "Host", host };
	if (preq->content_type)
		base[n_base++] = (struct sigv4_header){ "Content-Type", (char *)preq->content_type };
	if (preq->target[0])
		base[n_base++] = (struct sigv4_header){ "X-Amz-Target", (char *)preq->target };
	for (i = 0; i < preq->n_headers; i++)
		base[n_base++] = (struct sigv4_header){ preq->headers[i].name, preq->headers[i].value };
	binary = preq->content_type && strcmp(preq->content_type, "application/octet-stream") == 0;
	if (creds) {
		struct sigv4_params p = {0};
		struct sigv4_request r = {0};

		p.access_key_id = creds->access_key_id;
		p.secret_access_key = creds->secret_access_key;
		p.session_token = creds->session_token;
		p.region = aws_signing_region(svc, c->region);
		p.service = svc->signing_name;
		used_offset = __atomic_load_n(&c->clock_offset, __ATOMIC_RELAXED);
		p.time = c->now() + used_offset;
		p.normalize_path = preq->method[0] ? preq->normalize_path : 1;
		p.sign_body = preq->sign_body;
		r.method = method;
		r.path = sign_path;
		r.query = preq->query ? preq->query : "";
		r.headers = base;
		r.n_headers = n_base;
		r.body = preq->body.buf;
		r.body_len = preq->body.len;
		if (sigv4_sign_headers(&p, &r, &signed_hdrs, &n_signed, err) < 0) {
			err_prefix(err, "cannot sign %s %s", svc->name, operation);
			goto out;
		}
	}
	lines = xcalloc(n_base + n_signed, sizeof(*lines));
	for (i = 0; i < n_base; i++)
		lines[i] = xasprintf("%s: %s", base[i].name, base[i].value);
	for (i = 0; i < n_signed; i++)
		lines[n_base + i] = xasprintf("%s: %s", signed_hdrs[i].name, signed_hdrs[i].value);
	hr.method = method;
	hr.url = full_url;
	hr.headers = lines;
	hr.n_headers = n_base + n_signed;
	hr.body = preq->body.buf;
	hr.body_len = preq->body.len;
	hr.timeout_ms = c->timeout_ms;
	hr.connect_timeout_ms = c->connect_timeout_ms;
	/* A write goes out on a new connection: on a reused one that closes
	 * before any answer, libcurl sends the request again by itself, and a
	 * write that AWS carried out the first time would be done twice
	 * (ParameterAlreadyExists, a second VPC) without the retry logic
	 * below ever knowing. */
	hr.fresh_connection = !read_only(operation);
	if (c->verbose) {
		struct strbuf sb;

		strbuf_init(&sb);
		strbuf_addf(&sb, "cairn: aws: %s %s -> %s %s\n", svc->name, operation, method,
			    full_url);
		for (i = 0; i < hr.n_headers; i++)
			strbuf_addf(&sb, "  %s\n", lines[i]);
		if (binary)
			strbuf_addf(&sb, "  \n  (%zu bytes of data)\n", preq->body.len);
		else
			strbuf_addf(&sb, "  \n  %s\n", preq->body.buf);
		log_block(c, sb.buf);
		strbuf_free(&sb);
	}
	__atomic_add_fetch(&c->requests, 1, __ATOMIC_RELAXED);
	sent = 1;
	if (http_do(c->http, &hr, &resp, err) < 0) {
		if (c->verbose) {
			char *m = xasprintf("cairn: aws: %s %s <- connection error: %s\n",
					    svc->name, operation, err->msg);

			log_block(c, m);
			free(m);
		}
		goto out;
	}
	if (c->verbose) {
		char *m = blob && resp.status < 300 && strlen(resp.body.buf) != resp.body.len
			? xasprintf("cairn: aws: %s %s <- %ld (%.0f ms)\n  (%zu bytes of data)\n",
				    svc->name, operation, resp.status, resp.elapsed_ms, resp.body.len)
			: xasprintf("cairn: aws: %s %s <- %ld (%.0f ms)\n  %s\n", svc->name,
				    operation, resp.status, resp.elapsed_ms, resp.body.buf);

		log_block(c, m);
		free(m);
	}
	if (!http_header(&resp, "x-amzn-RequestId", rid, sizeof(rid)) &&
	    !http_header(&resp, "x-amz-request-id", rid, sizeof(rid)))
		rid[0] = '\0';
	if (blob && !http_header(&resp, "Date", blob->date, sizeof(blob->date)))
		blob->date[0] = '\0';
	if (svc->protocol == AWS_PROTO_REST_XML || svc->protocol == AWS_PROTO_REST_JSON)
		rc = proto_rest_parse(svc, operation, &resp, blob ? &blob->out : NULL, out, err);
	else if (svc->protocol == AWS_PROTO_JSON)
		rc = proto_json_parse(resp.status, resp.body.buf, resp.body.len, rid[0] ? rid : NULL,
				      http_header(&resp, "x-amzn-ErrorType", etype, sizeof(etype)),
				      out, err);
	else
		rc = proto_query_parse(svc, operation, resp.status, resp.body.buf, resp.body.len,
				       rid[0] ? rid : NULL, out, err);
	if (rc < 0 && creds && err->code == CAIRN_EAWS && timing_is_skew_error(err->remote.code))
		note_skew(c, &resp, used_offset, skewed);
out:
	if (sent)
		http_response_free(&resp);
	/* The header lines hold the session token. */
	for (i = 0; lines && i < n_base + n_signed; i++) {
		secure_zero((char *)lines[i], strlen(lines[i]));
		free((char *)lines[i]);
	}
	free(lines);
	free(base);
	sigv4_headers_free(signed_hdrs, n_signed);
	free(host);
	free(sign_path);
	free(full_url);
	return rc;
}

/* A call with given credentials (NULL: unsigned), with standard-mode retries. */
static int call_with(struct aws_client *c, const struct aws_service *svc, const char *operation,
		     json_t *input, const struct aws_creds *creds, struct aws_blob_io *blob,
		     json_t **out, struct cairn_err *err)
{
	struct proto_request preq;
	char *url = aws_endpoint_url(c->envp, svc, c->region);
	int attempt, rc = -1, last_cost = 0, skew_retried = 0, maybe_done = 0;

	if (svc->protocol == AWS_PROTO_REST_XML || svc->protocol == AWS_PROTO_REST_JSON) {
		if (proto_rest_build(svc, operation, input, blob ? blob->body : NULL,
				     blob ? blob->body_len : 0,
				     aws_endpoint_overridden(c->envp, svc), &preq, err) < 0) {
			err_prefix(err, "%s %s", svc->name, operation);
			goto out;
		}
	} else if (svc->protocol == AWS_PROTO_JSON) {
		proto_json_build(svc, operation, input, &preq);
	} else {
		proto_query_build(svc, operation, input, &preq);
	}
	for (attempt = 0;; attempt++) {
		enum retry_class cls;
		long delay;
		int cost, skewed = 0;

		err_clear(err);
		if (blob)
			strbuf_reset(&blob->out);
		if (send_once(c, svc, operation, url, &preq, creds, blob, out, &skewed, err) == 0) {
			retry_bucket_success(&c->bucket, last_cost);
			rc = 0;
			break;
		}
		if (skewed && !skew_retried) {
			/* Signed with a corrected clock, the same request is new to AWS:
			 * once, at once, outside the retry budget (as the SDKs do). */
			skew_retried = 1;
			attempt--;
			continue;
		}
		/* An answer lost or a 5xx: AWS may have carried this attempt out. */
		if (err->code == CAIRN_ENET || err->remote.status >= 500)
			maybe_done = 1;
		if (err->code == CAIRN_ENET && err->remote.status >= 200 && err->remote.status < 300 &&
		    !read_only(operation))
			/* AWS did it and its answer broke off: a retry could do it
			 * twice. The engine looks for what it made instead. */
			break;
		if (err->code == CAIRN_ENET && makes_new(operation)) {
			/* No answer: AWS may or may not have made the object, and
			 * a blind resend could make a second one. The engine looks
			 * for it first and sends again only when there is none. */
			err->remote.retryable = 1;
			break;
		}
		cls = retry_classify(err);
		err->remote.retryable = cls != RETRY_NO;
		if (cls == RETRY_NO || attempt + 1 >= c->max_attempts)
			break;
		cost = retry_bucket_acquire(&c->bucket, cls);
		if (cost < 0)
			break;
		last_cost = cost;
		delay = retry_backoff_ms(attempt, c->rand01(c->rand_ctx));
		if (c->verbose) {
			char *m = xasprintf("cairn: aws: %s %s: retrying in %ld ms (attempt %d of %d): %s\n",
					    svc->name, operation, delay, attempt + 2, c->max_attempts,
					    err->msg);

			log_block(c, m);
			free(m);
		}
		c->sleep_ms(delay);
	}
	if (rc < 0)
		/* Failed now, but an earlier attempt may have done it: a create
		 * refused as "already exists" after a lost answer is one. */
		err->remote.maybe_done = maybe_done;
	if (rc < 0 && err->code == CAIRN_ENET)
		err_prefix(err, "cannot reach %s for %s", svc->name, operation);
	proto_request_free(&preq);
out:
	free(url);
	return rc;
}

/* creds_env.sts: STS calls of the credential chain (runs under creds_lock). */
static int sts_hook(void *ctx, const struct aws_creds *with, const char *operation,
		    const char *const *params, struct aws_creds *out, struct cairn_err *err)
{
	struct aws_client *c = ctx;
	const struct aws_service *svc = aws_service_find("sts");
	json_t *input = json_object(), *resp = NULL, *cr;
	const char *exp;
	size_t i;
	int rc = -1;

	for (i = 0; params && params[i] && params[i + 1]; i += 2)
		json_object_set_new(input, params[i], json_string(params[i + 1]));
	if (call_with(c, svc, operation, input, with, NULL, &resp, err) < 0)
		goto out;
	cr = json_object_get(resp, "Credentials");
	if (!json_is_object(cr)) {
		err_set(err, CAIRN_EAWS, "sts %s: response has no Credentials", operation);
		goto out;
	}
	out->access_key_id = xstrdup(json_string_value(json_object_get(cr, "AccessKeyId")));
	out->secret_access_key = xstrdup(json_string_value(json_object_get(cr, "SecretAccessKey")));
	out->session_token = xstrdup(json_string_value(json_object_get(cr, "SessionToken")));
	exp = json_string_value(json_object_get(cr, "Expiration"));
	if (exp && creds_parse_time(exp, &out->expiration) < 0) {
		err_set(err, CAIRN_EAWS, "sts %s: bad Expiration '%s'", operation, exp);
		goto out;
	}
	rc = 0;
out:
	json_decref(input);
	json_decref(resp);
	return rc;
}

/* creds_env.http: container and instance metadata endpoints. */
static int http_hook(void *ctx, const char *method, const char *url,
		     const char *const *headers, size_t n_headers, const char *body,
		     long timeout_ms, int *status, char **body_out, struct cairn_err *err)
{
	struct aws_client *c = ctx;
	struct http_request r = {0};
	struct http_response resp;
	int rc;

	r.method = method;
	r.url = url;
	r.headers = headers;
	r.n_headers = n_headers;
	r.body = body;
	r.body_len = body ? strlen(body) : 0;
	r.timeout_ms = timeout_ms;
	*body_out = NULL;
	rc = http_do(c->http, &r, &resp, err);
	if (rc == 0) {
		*status = (int)resp.status;
		*body_out = strbuf_detach(&resp.body);
	}
	http_response_free(&resp);
	return rc;
}

/* Copies the current credentials into *out (owned), resolving or refreshing them first. */
static int get_creds(struct aws_client *c, struct aws_creds *out, struct cairn_err *err)
{
	int64_t now = c->now();
	int rc = -1;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&c->creds_lock);
	if (!c->have_creds || creds_expiring(&c->creds, now, CREDS_REFRESH_MARGIN_S)) {
		struct creds_env env = {0};
		struct aws_creds fresh = {0};

		env.envp = c->envp;
		env.profile = c->profile;
		env.now = c->now;
		env.http = http_hook;
		env.http_ctx = c;
		env.sts = sts_hook;
		env.sts_ctx = c;
		if (creds_resolve(&env, &fresh, err) == 0) {
			if (c->have_creds)
				aws_creds_free(&c->creds);
			c->creds = fresh;
			c->have_creds = 1;
		} else if (!c->have_creds || creds_expiring(&c->creds, now, 0)) {
			goto out;
		}
		/* A failed refresh of still-valid credentials keeps them until they expire. */
	}
	out->access_key_id = xstrdup(c->creds.access_key_id);
	out->secret_access_key = xstrdup(c->creds.secret_access_key);
	out->session_token = xstrdup(c->creds.session_token);
	out->expiration = c->creds.expiration;
	memcpy(out->source, c->creds.source, sizeof(out->source));
	err_clear(err);
	rc = 0;
out:
	pthread_mutex_unlock(&c->creds_lock);
	return rc;
}

/* Drops the cached credentials if they are still the ones used (another
 * thread may have refreshed them already). */
static void forget_creds(struct aws_client *c, const struct aws_creds *used)
{
	pthread_mutex_lock(&c->creds_lock);
	if (c->have_creds && strcmp(c->creds.access_key_id, used->access_key_id) == 0 &&
	    strcmp(c->creds.session_token ? c->creds.session_token : "",
		   used->session_token ? used->session_token : "") == 0) {
		aws_creds_free(&c->creds);
		c->have_creds = 0;
	}
	pthread_mutex_unlock(&c->creds_lock);
}

int aws_call(struct aws_client *c, const char *service, const char *operation,
	     json_t *input, json_t **out, struct cairn_err *err)
{
	return aws_call_blob(c, service, operation, input, NULL, out, err);
}

int aws_call_blob(struct aws_client *c, const char *service, const char *operation,
		  json_t *input, struct aws_blob_io *blob, json_t **out, struct cairn_err *err)
{
	const struct aws_service *svc = aws_service_find(service);
	struct aws_creds creds;
	int rc;

	*out = NULL;
	if (!svc) {
		err_set(err, CAIRN_EINVAL, "unknown AWS service '%s'", service);
		return -1;
	}
	if (get_creds(c, &creds, err) < 0)
		return -1;
	rc = call_with(c, svc, operation, input, &creds, blob, out, err);
	if (rc < 0 && creds.expiration != 0 && (strcmp(err->remote.code, "ExpiredToken") == 0 ||
						strcmp(err->remote.code, "ExpiredTokenException") == 0)) {
		/* Temporary credentials ended earlier than announced: drop them, try once more. */
		forget_creds(c, &creds);
		aws_creds_free(&creds);
		if (get_creds(c, &creds, err) < 0)
			return -1;
		rc = call_with(c, svc, operation, input, &creds, blob, out, err);
	}
	aws_creds_free(&creds);
	return rc;
}

/* Sets the next page's token in input from output; returns 0 when there is no next page. */
static int next_page(json_t *input, json_t *output, struct strbuf *last)
{
	static const char *const pairs[][2] = {
		{ "NextToken", "NextToken" }, { "nextToken", "nextToken" },
		{ "NextMarker", "Marker" },
	};
	const char *tok = NULL, *in_name = NULL;
	size_t i;

	for (i = 0; !tok && i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		tok = json_string_value(json_object_get(output, pairs[i][0]));
		in_name = pairs[i][1];
	}
	/* IAM: IsTruncated with Marker. */
	if (!tok && json_is_true(json_object_get(output, "IsTruncated"))) {
		tok = json_string_value(json_object_get(output, "Marker"));
		in_name = "Marker";
	}
	if (!tok || !*tok || strcmp(tok, last->buf) == 0)
		return 0;
	strbuf_reset(last);
	strbuf_adds(last, tok);
	json_object_set_new(input, in_name, json_string(tok));
	return 1;
}

int aws_call_all(struct aws_client *c, const char *service, const char *operation,
		 json_t *input, const char *result_key, json_t **items, struct cairn_err *err)
{
	json_t *in = input ? json_deep_copy(input) : json_object();
	json_t *all = json_array(), *page = NULL;
	struct strbuf last;
	int rc = -1;

	*items = NULL;
	strbuf_init(&last);
	for (;;) {
		json_t *list;

		if (aws_call(c, service, operation, in, &page, err) < 0)
			goto out;
		list = json_object_get(page, result_key);
		if (json_is_array(list))
			json_array_extend(all, list);
		if (!next_page(in, page, &last))
			break;
		json_decref(page);
		page = NULL;
	}
	*items = all;
	all = NULL;
	rc = 0;
out:
	json_decref(page);
	json_decref(all);
	json_decref(in);
	strbuf_free(&last);
	return rc;
}

const char *aws_account_id(struct aws_client *c, struct cairn_err *err)
{
	json_t *out = NULL;
	const char *id;

	pthread_mutex_lock(&c->misc_lock);
	id = c->account_id;
	pthread_mutex_unlock(&c->misc_lock);
	if (id)
		return id;
	if (aws_call(c, "sts", "GetCallerIdentity", NULL, &out, err) < 0)
		return NULL;
	id = json_string_value(json_object_get(out, "Account"));
	if (!id) {
		err_set(err, CAIRN_EAWS, "sts GetCallerIdentity returned no account id");
		json_decref(out);
		return NULL;
	}
	pthread_mutex_lock(&c->misc_lock);
	if (!c->account_id)
		c->account_id = xstrdup(id);
	id = c->account_id;
	pthread_mutex_unlock(&c->misc_lock);
	json_decref(out);
	return id;
}
