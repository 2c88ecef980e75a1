/*
 * endpoints: the services cairn calls and where to reach them. Every fact in
 * the service table comes from the "metadata" block of botocore's models
 * (protocol, apiVersion, signingName, which defaults to endpointPrefix,
 * jsonVersion, targetPrefix, serviceId); hostnames follow botocore's
 * endpoints.json partitions.
 */
#include "endpoints.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "creds.h"

/*
 * env_id is the model's serviceId upper-cased with spaces turned into '_',
 * the rule the SDKs use for AWS_ENDPOINT_URL_<SERVICE>. CloudWatch's newest
 * model prefers smithy-rpc-v2-cbor but still lists the query protocol, which
 * is the one cairn speaks.
 */
static const struct aws_service services[] = {
	{ "ec2", AWS_PROTO_EC2, "2016-11-15", "ec2", "ec2", NULL, NULL, "EC2", 0 },
	{ "elbv2", AWS_PROTO_QUERY, "2015-12-01", "elasticloadbalancing", "elasticloadbalancing",
	  NULL, NULL, "ELASTIC_LOAD_BALANCING_V2", 0 },
	{ "sns", AWS_PROTO_QUERY, "2010-03-31", "sns", "sns", NULL, NULL, "SNS", 0 },
	{ "iam", AWS_PROTO_QUERY, "2010-05-08", "iam", "iam", NULL, NULL, "IAM", 1 },
	{ "sts", AWS_PROTO_QUERY, "2011-06-15", "sts", "sts", NULL, NULL, "STS", 0 },
	{ "cloudwatch", AWS_PROTO_QUERY, "2010-08-01", "monitoring", "monitoring", NULL, NULL,
	  "CLOUDWATCH", 0 },
	{ "dynamodb", AWS_PROTO_JSON, "2012-08-10", "dynamodb", "dynamodb", "1.0",
	  "DynamoDB_20120810", "DYNAMODB", 0 },
	{ "ecs", AWS_PROTO_JSON, "2014-11-13", "ecs", "ecs", "1.1",
	  "AmazonEC2ContainerServiceV20141113", "ECS", 0 },
	{ "ecr", AWS_PROTO_JSON, "2015-09-21", "ecr", "api.ecr", "1.1",
	  "AmazonEC2ContainerRegistry_V20150921", "ECR", 0 },
	{ "servicediscovery", AWS_PROTO_JSON, "2017-03-14", "servicediscovery", "servicediscovery",
	  "1.1", "Route53AutoNaming_v20170314", "SERVICEDISCOVERY", 0 },
	{ "logs", AWS_PROTO_JSON, "2014-03-28", "logs", "logs", "1.1", "Logs_20140328",
	  "CLOUDWATCH_LOGS", 0 },
	{ "ssm", AWS_PROTO_JSON, "2014-11-06", "ssm", "ssm", "1.1", "AmazonSSM", "SSM", 0 },
	{ "ses", AWS_PROTO_QUERY, "2010-12-01", "ses", "email", NULL, NULL, "SES", 0 },
	{ "events", AWS_PROTO_JSON, "2015-10-07", "events", "events", "1.1", "AWSEvents",
	  "EVENTBRIDGE", 0 },
	{ "codecommit", AWS_PROTO_JSON, "2015-04-13", "codecommit", "codecommit", "1.1",
	  "CodeCommit_20150413", "CODECOMMIT", 0 },
	{ "codebuild", AWS_PROTO_JSON, "2016-10-06", "codebuild", "codebuild", "1.1",
	  "CodeBuild_20161006", "CODEBUILD", 0 },
	{ "codepipeline", AWS_PROTO_JSON, "2015-07-09", "codepipeline", "codepipeline", "1.1",
	  "CodePipeline_20150709", "CODEPIPELINE", 0 },
	{ "codedeploy", AWS_PROTO_JSON, "2014-10-06", "codedeploy", "codedeploy", "1.1",
	  "CodeDeploy_20141006", "CODEDEPLOY", 0 },
	{ "s3", AWS_PROTO_REST_XML, "2006-03-01", "s3", "s3", NULL, NULL, "S3", 0 },
	{ "route53", AWS_PROTO_REST_XML, "2013-04-01", "route53", "route53", NULL, NULL,
	  "ROUTE_53", 1 },
	{ "lambda", AWS_PROTO_REST_JSON, "2015-03-31", "lambda", "lambda", NULL, NULL, "LAMBDA", 0 },
	{ "resourcegroupstaggingapi", AWS_PROTO_JSON, "2017-01-26", "tagging", "tagging", "1.1",
	  "ResourceGroupsTaggingAPI_20170126", "RESOURCE_GROUPS_TAGGING_API", 0 },
	{ "rds", AWS_PROTO_QUERY, "2014-10-31", "rds", "rds", NULL, NULL, "RDS", 0 },
	{ "kms", AWS_PROTO_JSON, "2014-11-01", "kms", "kms", "1.1", "TrentService", "KMS", 0 },
	{ "secretsmanager", AWS_PROTO_JSON, "2017-10-17", "secretsmanager", "secretsmanager", "1.1",
	  "secretsmanager", "SECRETS_MANAGER", 0 },
	{ "acm", AWS_PROTO_JSON, "2015-12-08", "acm", "acm", "1.1", "CertificateManager", "ACM", 0 },
	{ "application-autoscaling", AWS_PROTO_JSON, "2016-02-06", "application-autoscaling",
	  "application-autoscaling", "1.1", "AnyScaleFrontendService", "APPLICATION_AUTO_SCALING",
	  0 },
};

/* Partitions by region prefix (endpoints.json), the default last. For the
 * global services (IAM) each partition has one host and one signing region. */
struct partition {
	const char *region_prefix;
	const char *dns_suffix;
	const char *global_host;     /* IAM, the one global service cairn calls */
	const char *global_region;
};

static const struct partition partitions[] = {
	{ "cn-", "amazonaws.com.cn", "iam.cn-north-1.amazonaws.com.cn", "cn-north-1" },
	{ "us-gov-", "amazonaws.com", "iam.us-gov.amazonaws.com", "us-gov-west-1" },
	{ "us-isob-", "sc2s.sgov.gov", "iam.us-isob-east-1.sc2s.sgov.gov", "us-isob-east-1" },
	{ "us-isof-", "csp.hci.ic.gov", "iam.us-isof-south-1.csp.hci.ic.gov", "us-isof-south-1" },
	{ "us-iso-", "c2s.ic.gov", "iam.us-iso-east-1.c2s.ic.gov", "us-iso-east-1" },
	{ "eu-isoe-", "cloud.adc-e.uk", "iam.eu-isoe-west-1.cloud.adc-e.uk", "eu-isoe-west-1" },
	{ "eusc-", "amazonaws.eu", "iam.eusc-de-east-1.amazonaws.eu", "eusc-de-east-1" },
	{ "", "amazonaws.com", "iam.amazonaws.com", "us-east-1" },
};

static const struct partition *partition_of(const char *region)
{
	size_t i;

	for (i = 0; i < sizeof(partitions) / sizeof(partitions[0]) - 1; i++)
		if (region && !strncmp(region, partitions[i].region_prefix,
				       strlen(partitions[i].region_prefix)))
			return &partitions[i];
	return &partitions[i];
}

const struct aws_service *aws_service_find(const char *name)
{
	size_t i;

	for (i = 0; name && i < sizeof(services) / sizeof(services[0]); i++)
		if (!strcmp(services[i].name, name))
			return &services[i];
	return NULL;
}

const char *aws_signing_region(const struct aws_service *svc, const char *region)
{
	return svc->global ? partition_of(region)->global_region : region;
}

static const char *env_nonempty(char *const *envp, const char *name)
{
	const char *v = env_get(envp, name);

	return v && *v ? v : NULL;
}

char *aws_resolve_region(char *const *envp, const char *explicit_region, const char *profile)
{
	const char *r = explicit_region && *explicit_region ? explicit_region : NULL;

	if (!r)
		r = env_nonempty(envp, "AWS_REGION");
	if (!r)
		r = env_nonempty(envp, "AWS_DEFAULT_REGION");
	if (r)
		return xstrdup(r);
	return creds_profile_region(envp, profile);
}

static char *strip_slash(char *url)
{
	size_t n = strlen(url);

	while (n && url[n - 1] == '/')
		url[--n] = '\0';
	return url;
}

/* The configured endpoint (borrowed) or NULL. */
static const char *configured(char *const *envp, const struct aws_service *svc)
{
	const char *ignore = env_get(envp, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
	const char *v = NULL;

	if (!ignore || strcasecmp(ignore, "true")) {
		char *var = xasprintf("AWS_ENDPOINT_URL_%s", svc->env_id);

		v = env_nonempty(envp, var);
		free(var);
		if (!v)
			v = env_nonempty(envp, "AWS_ENDPOINT_URL");
	}
	return v;
}

int aws_endpoint_overridden(char *const *envp, const struct aws_service *svc)
{
	return configured(envp, svc) != NULL;
}

char *aws_endpoint_url(char *const *envp, const struct aws_service *svc, const char *region)
{
	const struct partition *part = partition_of(region);
	const char *v = configured(envp, svc);

	if (v)
		return strip_slash(xstrdup(v));
	if (svc->global && strcmp(svc->name, "iam") == 0)
		return xasprintf("https://%s", part->global_host);
	if (svc->global)    /* route53: one host per partition, no region */
		return xasprintf("https://%s.%s", svc->endpoint_prefix, part->dns_suffix);
	return xasprintf("https://%s.%s.%s", svc->endpoint_prefix, region, part->dns_suffix);
}
