/*
 * test_endpoints: the service table against botocore's model metadata, the
 * region chain and the endpoint precedence.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "providers/aws/endpoints.h"

/* From botocore's models: name, protocol, apiVersion, signing name,
 * endpointPrefix, jsonVersion, targetPrefix, serviceId. */
static const struct {
	const char *name;
	enum aws_protocol proto;
	const char *version, *signing, *prefix, *json, *target, *service_id;
} model[] = {
	{ "ec2", AWS_PROTO_EC2, "2016-11-15", "ec2", "ec2", NULL, NULL, "EC2" },
	{ "elbv2", AWS_PROTO_QUERY, "2015-12-01", "elasticloadbalancing", "elasticloadbalancing", NULL, NULL,
	  "Elastic Load Balancing v2" },
	{ "sns", AWS_PROTO_QUERY, "2010-03-31", "sns", "sns", NULL, NULL, "SNS" },
	{ "iam", AWS_PROTO_QUERY, "2010-05-08", "iam", "iam", NULL, NULL, "IAM" },
	{ "sts", AWS_PROTO_QUERY, "2011-06-15", "sts", "sts", NULL, NULL, "STS" },
	{ "cloudwatch", AWS_PROTO_QUERY, "2010-08-01", "monitoring", "monitoring", NULL, NULL, "CloudWatch" },
	{ "dynamodb", AWS_PROTO_JSON, "2012-08-10", "dynamodb", "dynamodb", "1.0", "DynamoDB_20120810", "DynamoDB" },
	{ "ecs", AWS_PROTO_JSON, "2014-11-13", "ecs", "ecs", "1.1", "AmazonEC2ContainerServiceV20141113", "ECS" },
	{ "ecr", AWS_PROTO_JSON, "2015-09-21", "ecr", "api.ecr", "1.1", "AmazonEC2ContainerRegistry_V20150921", "ECR" },
	{ "servicediscovery", AWS_PROTO_JSON, "2017-03-14", "servicediscovery", "servicediscovery", "1.1",
	  "Route53AutoNaming_v20170314", "ServiceDiscovery" },
	{ "logs", AWS_PROTO_JSON, "2014-03-28", "logs", "logs", "1.1", "Logs_20140328", "CloudWatch Logs" },
	{ "ssm", AWS_PROTO_JSON, "2014-11-06", "ssm", "ssm", "1.1", "AmazonSSM", "SSM" },
	{ "ses", AWS_PROTO_QUERY, "2010-12-01", "ses", "email", NULL, NULL, "SES" },
	{ "events", AWS_PROTO_JSON, "2015-10-07", "events", "events", "1.1", "AWSEvents", "EventBridge" },
	{ "codecommit", AWS_PROTO_JSON, "2015-04-13", "codecommit", "codecommit", "1.1",
	  "CodeCommit_20150413", "CodeCommit" },
	{ "codebuild", AWS_PROTO_JSON, "2016-10-06", "codebuild", "codebuild", "1.1",
	  "CodeBuild_20161006", "CodeBuild" },
	{ "codepipeline", AWS_PROTO_JSON, "2015-07-09", "codepipeline", "codepipeline", "1.1",
	  "CodePipeline_20150709", "CodePipeline" },
	{ "codedeploy", AWS_PROTO_JSON, "2014-10-06", "codedeploy", "codedeploy", "1.1",
	  "CodeDeploy_20141006", "CodeDeploy" },
	{ "resourcegroupstaggingapi", AWS_PROTO_JSON, "2017-01-26", "tagging", "tagging", "1.1",
	  "ResourceGroupsTaggingAPI_20170126", "Resource Groups Tagging API" },
	{ "s3", AWS_PROTO_REST_XML, "2006-03-01", "s3", "s3", NULL, NULL, "S3" },
	{ "route53", AWS_PROTO_REST_XML, "2013-04-01", "route53", "route53", NULL, NULL, "Route 53" },
	{ "lambda", AWS_PROTO_REST_JSON, "2015-03-31", "lambda", "lambda", NULL, NULL, "Lambda" },
	{ "rds", AWS_PROTO_QUERY, "2014-10-31", "rds", "rds", NULL, NULL, "RDS" },
	{ "kms", AWS_PROTO_JSON, "2014-11-01", "kms", "kms", "1.1", "TrentService", "KMS" },
	{ "secretsmanager", AWS_PROTO_JSON, "2017-10-17", "secretsmanager", "secretsmanager", "1.1",
	  "secretsmanager", "Secrets Manager" },
	{ "acm", AWS_PROTO_JSON, "2015-12-08", "acm", "acm", "1.1", "CertificateManager", "ACM" },
	{ "application-autoscaling", AWS_PROTO_JSON, "2016-02-06", "application-autoscaling",
	  "application-autoscaling", "1.1", "AnyScaleFrontendService", "Application Auto Scaling" },
};

static void expect_str(const char *got, const char *want)
{
	if (!want)
		assert_null(got);
	else
		assert_string_equal(got, want);
}

static void test_service_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(model) / sizeof(model[0]); i++) {
		const struct aws_service *s = aws_service_find(model[i].name);
		char env_id[64];
		size_t k;

		assert_non_null(s);
		assert_string_equal(s->name, model[i].name);
		assert_int_equal(s->protocol, model[i].proto);
		assert_string_equal(s->api_version, model[i].version);
		assert_string_equal(s->signing_name, model[i].signing);
		assert_string_equal(s->endpoint_prefix, model[i].prefix);
		expect_str(s->json_version, model[i].json);
		expect_str(s->target_prefix, model[i].target);
		/* the SDKs' rule: serviceId upper-cased, spaces to '_' */
		for (k = 0; model[i].service_id[k]; k++) {
			char c = model[i].service_id[k];

			env_id[k] = c == ' ' ? '_' : (char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
		}
		env_id[k] = '\0';
		assert_string_equal(s->env_id, env_id);
		assert_int_equal(s->global, !strcmp(model[i].name, "iam") ||
					    !strcmp(model[i].name, "route53"));
	}
	assert_string_equal(aws_service_find("elbv2")->env_id, "ELASTIC_LOAD_BALANCING_V2");
	assert_string_equal(aws_service_find("logs")->env_id, "CLOUDWATCH_LOGS");
	assert_string_equal(aws_service_find("resourcegroupstaggingapi")->env_id,
			    "RESOURCE_GROUPS_TAGGING_API");
	assert_null(aws_service_find("sqs"));
	assert_null(aws_service_find("EC2"));
	assert_null(aws_service_find(""));
	assert_null(aws_service_find(NULL));
}

static void expect_url(char **envp, const char *service, const char *region, const char *want)
{
	char *url = aws_endpoint_url(envp, aws_service_find(service), region);

	assert_string_equal(url, want);
	free(url);
}

static void test_default_endpoints(void **state)
{
	char *envp[] = { NULL };

	(void)state;
	expect_url(envp, "ec2", "eu-west-1", "https://ec2.eu-west-1.amazonaws.com");
	expect_url(envp, "elbv2", "us-east-2", "https://elasticloadbalancing.us-east-2.amazonaws.com");
	expect_url(envp, "cloudwatch", "us-east-1", "https://monitoring.us-east-1.amazonaws.com");
	expect_url(envp, "ecr", "ap-south-1", "https://api.ecr.ap-south-1.amazonaws.com");
	expect_url(envp, "sts", "eu-central-1", "https://sts.eu-central-1.amazonaws.com");
	expect_url(envp, "logs", "cn-north-1", "https://logs.cn-north-1.amazonaws.com.cn");
	expect_url(envp, "dynamodb", "us-gov-west-1", "https://dynamodb.us-gov-west-1.amazonaws.com");
	expect_url(envp, "resourcegroupstaggingapi", "eu-west-3", "https://tagging.eu-west-3.amazonaws.com");
	/* IAM is global: one host per partition, signed for its global region */
	expect_url(envp, "iam", "eu-west-1", "https://iam.amazonaws.com");
	expect_url(envp, "iam", "cn-northwest-1", "https://iam.cn-north-1.amazonaws.com.cn");
	expect_url(envp, "iam", "us-gov-east-1", "https://iam.us-gov.amazonaws.com");
	assert_string_equal(aws_signing_region(aws_service_find("iam"), "eu-west-1"), "us-east-1");
	assert_string_equal(aws_signing_region(aws_service_find("iam"), "cn-northwest-1"), "cn-north-1");
	assert_string_equal(aws_signing_region(aws_service_find("iam"), "us-gov-east-1"), "us-gov-west-1");
	assert_string_equal(aws_signing_region(aws_service_find("ec2"), "eu-west-1"), "eu-west-1");
	/* S3 and Lambda are regional; Route 53 is global like IAM. */
	expect_url(envp, "s3", "eu-west-1", "https://s3.eu-west-1.amazonaws.com");
	expect_url(envp, "lambda", "us-west-2", "https://lambda.us-west-2.amazonaws.com");
	expect_url(envp, "route53", "eu-west-1", "https://route53.amazonaws.com");
	expect_url(envp, "route53", "cn-north-1", "https://route53.amazonaws.com.cn");
	assert_string_equal(aws_signing_region(aws_service_find("route53"), "eu-west-1"), "us-east-1");
	assert_int_equal(aws_endpoint_overridden(envp, aws_service_find("s3")), 0);
}

static void test_endpoint_overrides(void **state)
{
	char *envp[] = {
		"AWS_ENDPOINT_URL=http://127.0.0.1:5000/",
		"AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2=http://lb.local:1///",
		"AWS_ENDPOINT_URL_CLOUDWATCH_LOGS=http://logs.local",
		"AWS_ENDPOINT_URL_DYNAMODB=",
		"AWS_ENDPOINT_URL_IAM=http://iam.local",
		"AWS_ENDPOINT_URL_RESOURCE_GROUPS_TAGGING_API=http://tagging.local",
		NULL, NULL,
	};
	char *only_service[] = { "AWS_ENDPOINT_URL_EC2=https://ec2.local", NULL };

	(void)state;
	/* the per-service variable wins, trailing slashes dropped */
	expect_url(envp, "elbv2", "us-east-1", "http://lb.local:1");
	expect_url(envp, "logs", "us-east-1", "http://logs.local");
	expect_url(envp, "iam", "us-east-1", "http://iam.local");
	expect_url(envp, "resourcegroupstaggingapi", "us-east-1", "http://tagging.local");
	/* then the global one; an empty variable counts as unset */
	expect_url(envp, "ec2", "us-east-1", "http://127.0.0.1:5000");
	expect_url(envp, "dynamodb", "us-east-1", "http://127.0.0.1:5000");
	/* CloudWatch Logs' variable is not CloudWatch's */
	expect_url(envp, "cloudwatch", "us-east-1", "http://127.0.0.1:5000");
	expect_url(only_service, "ec2", "us-west-2", "https://ec2.local");
	expect_url(only_service, "sns", "us-west-2", "https://sns.us-west-2.amazonaws.com");
	/* an overridden S3 endpoint is addressed path-style */
	assert_int_equal(aws_endpoint_overridden(envp, aws_service_find("s3")), 1);
	assert_int_equal(aws_endpoint_overridden(only_service, aws_service_find("s3")), 0);
	/* the SDKs' switch to ignore configured endpoints */
	envp[5] = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true";
	expect_url(envp, "ec2", "us-east-1", "https://ec2.us-east-1.amazonaws.com");
	expect_url(envp, "elbv2", "us-east-1", "https://elasticloadbalancing.us-east-1.amazonaws.com");
}

static void expect_region(char **envp, const char *explicit_region, const char *profile, const char *want)
{
	char *r = aws_resolve_region(envp, explicit_region, profile);

	expect_str(r, want);
	free(r);
}

static void test_region_chain(void **state)
{
	char dir[64];
	char path[256], conf_var[300];
	FILE *f;
	char *envp[5] = { NULL };

	(void)state;
	/* mkdtemp's template: the prefix and six placeholder characters */
	snprintf(dir, sizeof(dir), "/tmp/cairn-endpoints-%c%c%c%c%c%c", 'X', 'X', 'X', 'X', 'X', 'X');
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/config", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("[default]\nregion = eu-north-1\n[profile dev]\nregion = ap-southeast-2\n", f);
	fclose(f);
	snprintf(conf_var, sizeof(conf_var), "AWS_CONFIG_FILE=%s", path);

	expect_region(envp, NULL, NULL, NULL);
	envp[0] = conf_var;
	expect_region(envp, NULL, NULL, "eu-north-1");
	expect_region(envp, NULL, "dev", "ap-southeast-2");
	envp[1] = "AWS_DEFAULT_REGION=us-west-1";
	expect_region(envp, NULL, "dev", "us-west-1");
	envp[2] = "AWS_REGION=us-west-2";
	expect_region(envp, NULL, "dev", "us-west-2");
	expect_region(envp, "sa-east-1", "dev", "sa-east-1");
	/* empty values are skipped */
	expect_region(envp, "", NULL, "us-west-2");
	envp[2] = "AWS_REGION=";
	expect_region(envp, NULL, NULL, "us-west-1");

	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_service_table),
		cmocka_unit_test(test_default_endpoints),
		cmocka_unit_test(test_endpoint_overrides),
		cmocka_unit_test(test_region_chain),
	};

	return cmocka_run_group_tests_name("endpoints", tests, NULL, NULL);
}
