/*
 * fuzz_query_xml: query and ec2 protocol responses (proto_query_parse over
 * xml.c and the shape table). Input: byte 0 picks the operation (every
 * query/ec2 operation with an output in the shape table, plus one the table
 * does not know), byte 1 the HTTP status, the rest is the body. The same
 * body also goes through the bare XML tree and the generic conversion.
 */
#include <stdlib.h>
#include <jansson.h>

#include "fuzz.h"
#include "../../providers/aws/endpoints.h"
#include "../../providers/aws/proto.h"
#include "../../providers/aws/shapes.h"
#include "../../providers/aws/xml.h"

static const struct { const char *svc, *op; } ops[] = {
	{"ec2", "CreateVpc"},
	{"ec2", "DescribeVpcs"},
	{"ec2", "DescribeVpcAttribute"},
	{"ec2", "CreateSubnet"},
	{"ec2", "DescribeSubnets"},
	{"ec2", "CreateInternetGateway"},
	{"ec2", "DescribeInternetGateways"},
	{"ec2", "CreateRouteTable"},
	{"ec2", "DescribeRouteTables"},
	{"ec2", "CreateRoute"},
	{"ec2", "AssociateRouteTable"},
	{"ec2", "CreateSecurityGroup"},
	{"ec2", "DescribeSecurityGroups"},
	{"ec2", "DeleteSecurityGroup"},
	{"ec2", "RevokeSecurityGroupIngress"},
	{"ec2", "RevokeSecurityGroupEgress"},
	{"ec2", "DescribeTags"},
	{"ec2", "DescribeAvailabilityZones"},
	{"elbv2", "CreateLoadBalancer"},
	{"elbv2", "DescribeLoadBalancers"},
	{"elbv2", "DeleteLoadBalancer"},
	{"elbv2", "CreateTargetGroup"},
	{"elbv2", "DescribeTargetGroups"},
	{"elbv2", "DeleteTargetGroup"},
	{"elbv2", "CreateListener"},
	{"elbv2", "DescribeListeners"},
	{"elbv2", "DeleteListener"},
	{"elbv2", "CreateRule"},
	{"elbv2", "DescribeRules"},
	{"elbv2", "DeleteRule"},
	{"elbv2", "ModifyTargetGroup"},
	{"elbv2", "ModifyTargetGroupAttributes"},
	{"elbv2", "SetSubnets"},
	{"elbv2", "SetSecurityGroups"},
	{"elbv2", "SetIpAddressType"},
	{"elbv2", "ModifyListener"},
	{"elbv2", "ModifyRule"},
	{"elbv2", "SetRulePriorities"},
	{"elbv2", "AddTags"},
	{"elbv2", "RemoveTags"},
	{"elbv2", "DescribeTags"},
	{"sns", "CreateTopic"},
	{"sns", "GetTopicAttributes"},
	{"sns", "ListTopics"},
	{"sns", "TagResource"},
	{"sns", "UntagResource"},
	{"sns", "ListTagsForResource"},
	{"sns", "Subscribe"},
	{"sns", "ListSubscriptionsByTopic"},
	{"sns", "GetSubscriptionAttributes"},
	{"sts", "GetCallerIdentity"},
	{"sts", "AssumeRole"},
	{"sts", "AssumeRoleWithWebIdentity"},
	{"iam", "CreateRole"},
	{"iam", "GetRole"},
	{"iam", "ListAttachedRolePolicies"},
	{"iam", "ListRolePolicies"},
	{"iam", "GetRolePolicy"},
	{"iam", "ListRoleTags"},
	{"iam", "UpdateRole"},
	{"iam", "CreateUser"},
	{"iam", "CreateAccessKey"},
	{"cloudwatch", "DescribeAlarms"},
	{"cloudwatch", "TagResource"},
	{"cloudwatch", "UntagResource"},
	{"cloudwatch", "ListTagsForResource"},
	{"ec2", "FrobnicateWidgets"},
	{"sns", "FrobnicateWidgets"},
};

static const long statuses[] = {200, 200, 200, 200, 400, 403, 404, 409, 500, 503, 301, 204};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct aws_service *svc;
	const char *op;
	struct cairn_err err;
	struct xml_node *root;
	json_t *out = NULL;
	long status;

	if (size < 2)
		return 0;
	svc = aws_service_find(ops[data[0] % (sizeof(ops) / sizeof(ops[0]))].svc);
	op = ops[data[0] % (sizeof(ops) / sizeof(ops[0]))].op;
	status = statuses[data[1] % (sizeof(statuses) / sizeof(statuses[0]))];
	data += 2;
	size -= 2;
	if (!svc)
		abort();
	err_clear(&err);
	if (proto_query_parse(svc, op, status, (const char *)data, size, "hdr-rid", &out, &err) == 0)
		json_decref(out);
	err_clear(&err);
	proto_xml_error(status, (const char *)data, size, NULL, &err);
	err_clear(&err);
	root = xml_parse((const char *)data, size, &err);
	if (root) {
		struct shape none = {SHAPE_NONE, NULL, 0};

		(void)xml_child_text(root, "RequestId");
		json_decref(xml_to_json(root, &none, svc->protocol == AWS_PROTO_EC2));
		xml_free(root);
	}
	return 0;
}
