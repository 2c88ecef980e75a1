/*
 * endpoints: region and endpoint resolution (SPEC §6), and the per-service
 * facts the client needs (protocol, signing name, API version, target prefix).
 */
#ifndef CAIRN_ENDPOINTS_H
#define CAIRN_ENDPOINTS_H

#include "../../lib/util.h"

enum aws_protocol { AWS_PROTO_QUERY, AWS_PROTO_EC2, AWS_PROTO_JSON, AWS_PROTO_REST_XML,
		    AWS_PROTO_REST_JSON };

struct aws_service {
	const char *name;          /* botocore name: "ec2", "elbv2", ... */
	enum aws_protocol protocol;
	const char *api_version;   /* query/ec2: Version=...; */
	const char *signing_name;  /* "elasticloadbalancing" for elbv2 */
	const char *endpoint_prefix; /* hostname prefix: "elasticloadbalancing" */
	const char *json_version;  /* json: "1.0" or "1.1" */
	const char *target_prefix; /* json: X-Amz-Target prefix, e.g. "DynamoDB_20120810" */
	const char *env_id;        /* AWS_ENDPOINT_URL_<env_id>: "EC2", "ELASTIC_LOAD_BALANCING_V2" */
	int global;                /* iam, route53: one endpoint, signed for us-east-1 */
};

/* The service table entry (borrowed) or NULL for a service cairn does not know. */
const struct aws_service *aws_service_find(const char *name);

/* The region to sign for: the partition's global region for global services
 * (iam: us-east-1, cn-north-1 in China, ...), else region. Borrowed. */
const char *aws_signing_region(const struct aws_service *svc, const char *region);

/* Region: explicit (--region / stack), then AWS_REGION, AWS_DEFAULT_REGION,
 * the profile's region. Owned string or NULL. */
char *aws_resolve_region(char *const *envp, const char *explicit_region, const char *profile);

/* True when AWS_ENDPOINT_URL_<SERVICE> or AWS_ENDPOINT_URL points the service
 * elsewhere (S3 then addresses buckets path-style, as the SDKs do). */
int aws_endpoint_overridden(char *const *envp, const struct aws_service *svc);

/* Endpoint URL for a service in a region: AWS_ENDPOINT_URL_<SERVICE>, then
 * AWS_ENDPOINT_URL, then https://PREFIX.REGION.amazonaws.com (global ones
 * as AWS names them). Owned string, without trailing slash. */
char *aws_endpoint_url(char *const *envp, const struct aws_service *svc, const char *region);

#endif
