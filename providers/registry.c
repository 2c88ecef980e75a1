/*
 * registry: the resource types cairn supports, one ops table per type.
 * Each providers/<family>.c defines `const struct resource_ops <type>_ops`.
 */
#include <string.h>

#include "registry.h"
#include "aws/aws.h"

extern const struct resource_ops aws_vpc_ops, aws_subnet_ops, aws_internet_gateway_ops,
	aws_route_table_ops, aws_route_table_association_ops, aws_security_group_ops,
	aws_lb_ops, aws_lb_target_group_ops, aws_lb_listener_ops, aws_lb_listener_rule_ops,
	aws_ecs_cluster_ops, aws_ecr_repository_ops, aws_dynamodb_table_ops, aws_sns_topic_ops;
extern const struct resource_ops aws_ecs_task_definition_ops, aws_ecs_service_ops,
	aws_service_discovery_private_dns_namespace_ops, aws_service_discovery_service_ops,
	aws_sns_topic_subscription_ops;
extern const struct resource_ops aws_iam_role_ops, aws_cloudwatch_log_group_ops,
	aws_ssm_parameter_ops, aws_cloudwatch_metric_alarm_ops;

static const struct resource_ops *const registry[] = {
	&aws_vpc_ops, &aws_subnet_ops, &aws_internet_gateway_ops, &aws_route_table_ops,
	&aws_route_table_association_ops, &aws_security_group_ops,
	&aws_lb_ops, &aws_lb_target_group_ops, &aws_lb_listener_ops, &aws_lb_listener_rule_ops,
	&aws_ecs_cluster_ops, &aws_ecr_repository_ops, &aws_dynamodb_table_ops, &aws_sns_topic_ops,
	&aws_ecs_task_definition_ops, &aws_ecs_service_ops,
	&aws_service_discovery_private_dns_namespace_ops, &aws_service_discovery_service_ops,
	&aws_sns_topic_subscription_ops,
	&aws_iam_role_ops, &aws_cloudwatch_log_group_ops, &aws_ssm_parameter_ops,
	&aws_cloudwatch_metric_alarm_ops,
};

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
