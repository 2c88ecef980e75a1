/*
 * registry: the resource types cairn supports, one ops table per type.
 * Each providers/<family>.c defines `const struct resource_ops <type>_ops`;
 * TYPES below lists them.
 */
#include <string.h>

#include "registry.h"
#include "aws/aws.h"

/* Every type, one line each: adding a type adds its line here. */
#define TYPES(X) \
	X(aws_vpc) \
	X(aws_subnet) \
	X(aws_internet_gateway) \
	X(aws_route_table) \
	X(aws_route_table_association) \
	X(aws_security_group) \
	X(aws_lb) \
	X(aws_lb_target_group) \
	X(aws_lb_listener) \
	X(aws_lb_listener_rule) \
	X(aws_ecs_cluster) \
	X(aws_ecr_repository) \
	X(aws_dynamodb_table) \
	X(aws_sns_topic) \
	X(aws_ecs_task_definition) \
	X(aws_ecs_service) \
	X(aws_service_discovery_private_dns_namespace) \
	X(aws_service_discovery_service) \
	X(aws_sns_topic_subscription) \
	X(aws_iam_role) \
	X(aws_cloudwatch_log_group) \
	X(aws_ssm_parameter) \
	X(aws_cloudwatch_metric_alarm) \
	X(aws_iam_policy) \
	X(aws_iam_role_policy_attachment) \
	X(aws_ses_email_identity) \
	X(aws_cloudwatch_event_rule) \
	X(aws_cloudwatch_event_target) \
	X(aws_codecommit_repository) \
	X(aws_codebuild_project) \
	X(aws_codepipeline) \
	X(aws_codedeploy_app) \
	X(aws_codedeploy_deployment_group) \
	X(aws_lambda_function) \
	X(aws_lambda_permission) \
	X(aws_eip) \
	X(aws_nat_gateway) \
	X(aws_vpc_endpoint) \
	X(aws_kms_key) \
	X(aws_kms_alias) \
	X(aws_secretsmanager_secret) \
	X(aws_secretsmanager_secret_version) \
	X(aws_acm_certificate) \
	X(aws_db_subnet_group) \
	X(aws_db_instance) \
	X(aws_appautoscaling_target) \
	X(aws_appautoscaling_policy) \
	X(aws_s3_bucket) \
	X(aws_s3_bucket_versioning) \
	X(aws_s3_bucket_public_access_block) \
	X(aws_s3_bucket_server_side_encryption_configuration) \
	X(aws_s3_bucket_policy) \
	X(aws_s3_bucket_lifecycle_configuration) \
	X(aws_route53_zone) \
	X(aws_route53_record)

#define DECLARE(t) extern const struct resource_ops t##_ops;
TYPES(DECLARE)

#define ENTRY(t) &t##_ops,
static const struct resource_ops *const registry[] = {TYPES(ENTRY)};

const struct resource_ops *provider_lookup(const char *type)
{
	size_t i;

	for (i = 0; i < sizeof(registry) / sizeof(registry[0]); i++)
		if (strcmp(registry[i]->type, type) == 0)
			return registry[i];
	return NULL;
}

const char *provider_account_id(struct aws_client *aws, struct cairn_err *err)
{
	return aws_account_id(aws, err);
}
