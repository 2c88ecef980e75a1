/*
 * aws: the AWS client core as the rest of cairn sees it.
 *
 * One calling convention for every protocol (query, ec2, json 1.0/1.1,
 * rest-xml, rest-json):
 * the request is a jansson object using the API's own member names and
 * shapes (as in the AWS API reference / botocore models), and the response
 * comes back as a jansson object in the operation's output shape. XML
 * responses are converted with expat using the shape table in shapes.c.
 *
 * A client is safe to use from several threads at once.
 */
#ifndef CAIRN_AWS_H
#define CAIRN_AWS_H

#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

#include "../../lib/util.h"

struct aws_client;

/* Options the caller (cmd/) fills. Every pointer is borrowed for the call. */
struct aws_client_opts {
	char *const *envp;      /* process environment (see env_get) */
	const char *profile;    /* --profile, or NULL (then AWS_PROFILE, then "default") */
	const char *region;     /* --region / stack region, or NULL (then env, then profile) */
	int verbose;            /* -v: log requests/responses (redacted) to log */
	/* Wire names of the fields the -v log hides besides credentials
	 * (NULL-terminated, may be NULL): the sensitive attributes of the
	 * schemas, which the caller knows and the client does not. */
	const char *const *secret_fields;
	FILE *log;              /* where -v goes; NULL means stderr */
	/* Injected for tests; NULL means the real ones. */
	int64_t (*now)(void);                 /* unix seconds */
	double (*rand01)(void *ctx);          /* uniform [0,1) for retry jitter */
	void *rand_ctx;
	void (*sleep_ms)(long ms);
};

/*
 * Creates a client. Resolves the region (SPEC §6) eagerly; credentials are
 * resolved lazily on the first call (so `validate`-like paths never need them).
 * Returns NULL with err set if no region can be found.
 */
struct aws_client *aws_client_new(const struct aws_client_opts *opts, struct cairn_err *err);
void aws_client_free(struct aws_client *c);

/* The resolved region (borrowed, lives as long as the client). */
const char *aws_client_region(const struct aws_client *c);

/* Number of HTTP requests sent so far (retries included). Thread-safe. */
uint64_t aws_client_requests(const struct aws_client *c);

/*
 * Calls SERVICE OPERATION (service as botocore names it: "ec2", "elbv2",
 * "sns", "sts", "iam", "dynamodb", "ecs", "ecr", "logs", "ssm",
 * "servicediscovery", "cloudwatch", "s3", "route53", "lambda"; operation as
 * in the API: "DescribeVpcs").
 * input: borrowed, may be NULL (empty input).
 * On success returns 0 and *out is a new reference (an object, possibly empty).
 * On failure returns -1, *out is NULL, err is filled: code CAIRN_EAWS with
 * remote.status/code/request_id and msg "AWS_CODE: AWS's message"
 * (so the code survives any err_prefix), or CAIRN_ENET.
 * Retries (standard mode) happen inside.
 */
int aws_call(struct aws_client *c, const char *service, const char *operation,
	     json_t *input, json_t **out, struct cairn_err *err);

/*
 * Blob payloads of the REST protocols (S3 PutObject / GetObject Body) kept
 * out of JSON: body is sent as the payload instead of a string member, and
 * a blob payload received lands in out (reset before each attempt). date
 * is the response's Date header, the service's own clock. The caller
 * initialises and frees out.
 */
struct aws_blob_io {
	const void *body;       /* borrowed, may be NULL */
	size_t body_len;
	struct strbuf out;
	char date[64];
};
int aws_call_blob(struct aws_client *c, const char *service, const char *operation,
		  json_t *input, struct aws_blob_io *blob, json_t **out, struct cairn_err *err);

/*
 * Like aws_call but follows pagination (NextToken / Marker / nextToken /
 * NextMarker) and concatenates the list member named result_key
 * (e.g. "Vpcs", "TargetGroups", "Topics") into *items (new reference array).
 */
int aws_call_all(struct aws_client *c, const char *service, const char *operation,
		 json_t *input, const char *result_key, json_t **items, struct cairn_err *err);

/* The caller's account id (STS GetCallerIdentity, cached). Returns borrowed string or NULL. */
const char *aws_account_id(struct aws_client *c, struct cairn_err *err);

#endif
