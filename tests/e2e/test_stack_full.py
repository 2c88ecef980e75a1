"""The whole web stack, every resource type of issue 4 together:
plan -> apply -> no-op plan -> edit -> apply -> destroy, checked with boto3."""
import json
import unittest

from harness import CairnTestCase

EXTRA = """
  api_tg:
    type: aws_lb_target_group
    properties:
      name: web-${var.env}-api
      port: 9000
      vpc_id: ${vpc.id}
      target_type: ip

  api_rule:
    type: aws_lb_listener_rule
    properties:
      listener_arn: ${http.arn}
      priority: 10
      condition:
        - path_pattern: { values: ["/api/*"] }
      action:
        - type: forward
          target_group_arn: ${api_tg.arn}
"""


STACK = r"""stack: web-${var.env}
region: us-east-1

variables:
  env:
    type: string
    default: dev
    description: Deployment environment (part of every name)
  cidr:
    type: string
    default: 10.20.0.0/16
    description: Address range of the VPC

resources:
  vpc:
    type: aws_vpc
    properties:
      cidr_block: ${var.cidr}
      enable_dns_support: true
      enable_dns_hostnames: true
      tags: { Name: "web-${var.env}" }

  public_a:
    type: aws_subnet
    properties:
      vpc_id: ${vpc.id}
      cidr_block: 10.20.1.0/24
      availability_zone: ${aws.region}a
      map_public_ip_on_launch: true
      tags: { Name: "web-${var.env}-public-a" }

  public_b:
    type: aws_subnet
    properties:
      vpc_id: ${vpc.id}
      cidr_block: 10.20.2.0/24
      availability_zone: ${aws.region}b
      map_public_ip_on_launch: true
      tags: { Name: "web-${var.env}-public-b" }

  igw:
    type: aws_internet_gateway
    properties:
      vpc_id: ${vpc.id}
      tags: { Name: "web-${var.env}" }

  public_routes:
    type: aws_route_table
    properties:
      vpc_id: ${vpc.id}
      route:
        - cidr_block: 0.0.0.0/0
          gateway_id: ${igw.id}
      tags: { Name: "web-${var.env}-public" }

  public_a_routes:
    type: aws_route_table_association
    properties:
      subnet_id: ${public_a.id}
      route_table_id: ${public_routes.id}

  public_b_routes:
    type: aws_route_table_association
    properties:
      subnet_id: ${public_b.id}
      route_table_id: ${public_routes.id}

  web_sg:
    type: aws_security_group
    properties:
      name: web-${var.env}-alb
      description: HTTP from anywhere to the load balancer
      vpc_id: ${vpc.id}
      ingress:
        - from_port: 80
          to_port: 80
          protocol: tcp
          cidr_blocks: [0.0.0.0/0]
      egress:
        - from_port: 0
          to_port: 0
          protocol: "-1"
          cidr_blocks: [0.0.0.0/0]

  alb:
    type: aws_lb
    depends_on: [igw]
    properties:
      name: web-${var.env}
      subnets: ["${public_a.id}", "${public_b.id}"]
      security_groups: ["${web_sg.id}"]
      tags: { Service: web }

  app_tg:
    type: aws_lb_target_group
    properties:
      name: web-${var.env}-app
      port: 8080
      protocol: HTTP
      vpc_id: ${vpc.id}
      target_type: ip
      health_check:
        path: /healthz
        matcher: "200"

  http:
    type: aws_lb_listener
    properties:
      load_balancer_arn: ${alb.arn}
      port: 80
      protocol: HTTP
      default_action:
        - type: forward
          target_group_arn: ${app_tg.arn}

  cluster:
    type: aws_ecs_cluster
    properties:
      name: web-${var.env}
      setting:
        - name: containerInsights
          value: enabled

  images:
    type: aws_ecr_repository
    properties:
      name: web-${var.env}/app
      image_tag_mutability: IMMUTABLE
      image_scanning_configuration: { scan_on_push: true }
      force_delete: true
      lifecycle_policy:
        rules:
          - rulePriority: 1
            description: keep the last 20 images
            selection: { tagStatus: any, countType: imageCountMoreThan, countNumber: 20 }
            action: { type: expire }

  sessions:
    type: aws_dynamodb_table
    properties:
      name: web-${var.env}-sessions
      billing_mode: PAY_PER_REQUEST
      hash_key: session_id
      attribute:
        - { name: session_id, type: S }
        - { name: user_id, type: S }
      global_secondary_index:
        - name: by_user
          hash_key: user_id
          projection_type: ALL
      ttl: { attribute_name: expires_at, enabled: true }

  events:
    type: aws_sns_topic
    properties:
      name: web-${var.env}-events
      display_name: Web events

outputs:
  alb_dns:
    value: ${alb.dns_name}
    description: Public address of the load balancer
  image_repository:
    value: ${images.repository_url}
  sessions_table:
    value: ${sessions.name}
  events_topic:
    value: ${events.arn}
"""


def stack_text(display="Web events"):
    text = STACK.replace("display_name: Web events", "display_name: " + display)
    return text.replace("\noutputs:", EXTRA + "\noutputs:")


class WholeStack(CairnTestCase):

    def owned(self, state_list):
        return {line.split("\t")[0]: line.split("\t")[2]
                for line in state_list.strip().splitlines()}

    def test_lifecycle(self):
        self.write("stack.yaml", stack_text())
        args = ["--var", "env=e2e"]

        p = self.cairn("validate", *args, check=0)
        p = self.cairn("plan", *args, "--detailed-exitcode", check=2)
        self.assertIn("Plan: 17 to add, 0 to change, 0 to destroy.", p.stdout)

        self.cairn("apply", *args, "--auto-approve", check=0)
        ids = self.owned(self.cairn("state", "list", *args, check=0).stdout)
        self.assertEqual(len(ids), 17)

        ec2 = self.boto("ec2")
        vpc = ec2.describe_vpcs(VpcIds=[ids["vpc"]])["Vpcs"][0]
        self.assertEqual(vpc["CidrBlock"], "10.20.0.0/16")
        tags = {t["Key"]: t["Value"] for t in vpc["Tags"]}
        self.assertEqual(tags["cairn:stack"], "web-e2e")
        self.assertEqual(tags["cairn:resource"], "vpc")
        self.assertEqual(tags["Name"], "web-e2e")
        subnets = ec2.describe_subnets(SubnetIds=[ids["public_a"], ids["public_b"]])["Subnets"]
        self.assertEqual(sorted(s["CidrBlock"] for s in subnets), ["10.20.1.0/24", "10.20.2.0/24"])
        rt = ec2.describe_route_tables(RouteTableIds=[ids["public_routes"]])["RouteTables"][0]
        self.assertIn(ids["igw"], [r.get("GatewayId") for r in rt["Routes"]])
        self.assertEqual(sorted(a["SubnetId"] for a in rt["Associations"] if "SubnetId" in a),
                         sorted([ids["public_a"], ids["public_b"]]))
        sg = ec2.describe_security_groups(GroupIds=[ids["web_sg"]])["SecurityGroups"][0]
        self.assertEqual(sg["IpPermissions"][0]["FromPort"], 80)

        elb = self.boto("elbv2")
        lb = elb.describe_load_balancers(Names=["web-e2e"])["LoadBalancers"][0]
        self.assertEqual(lb["LoadBalancerArn"], ids["alb"])
        listener = elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"][0]
        self.assertEqual(listener["DefaultActions"][0]["TargetGroupArn"], ids["app_tg"])
        rules = elb.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]
        api = [r for r in rules if not r["IsDefault"]][0]
        self.assertEqual(api["Actions"][0]["TargetGroupArn"], ids["api_tg"])

        ecs = self.boto("ecs")
        cluster = ecs.describe_clusters(clusters=["web-e2e"])["clusters"][0]
        self.assertEqual(cluster["status"], "ACTIVE")
        ecr = self.boto("ecr")
        repo = ecr.describe_repositories(repositoryNames=["web-e2e/app"])["repositories"][0]
        self.assertEqual(repo["imageTagMutability"], "IMMUTABLE")
        policy = json.loads(ecr.get_lifecycle_policy(repositoryName="web-e2e/app")["lifecyclePolicyText"])
        self.assertEqual(policy["rules"][0]["selection"]["countNumber"], 20)
        ddb = self.boto("dynamodb")
        table = ddb.describe_table(TableName="web-e2e-sessions")["Table"]
        self.assertEqual(table["GlobalSecondaryIndexes"][0]["IndexName"], "by_user")
        sns = self.boto("sns")
        attrs = sns.get_topic_attributes(TopicArn=ids["events"])["Attributes"]
        self.assertEqual(attrs["DisplayName"], "Web events")

        p = self.cairn("plan", *args, "--detailed-exitcode")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("No changes", p.stdout)

        out = json.loads(self.cairn("output", *args, "--json", check=0).stdout)
        self.assertEqual(out["sessions_table"]["value"], "web-e2e-sessions")
        self.assertEqual(out["alb_dns"]["value"], lb["DNSName"])

        # Edit: an in-place change.
        self.write("stack.yaml", stack_text(display="Web events v2"))
        p = self.cairn("plan", *args, "--detailed-exitcode", check=2)
        self.assertIn("Plan: 0 to add, 1 to change, 0 to destroy.", p.stdout)
        self.cairn("apply", *args, "--auto-approve", check=0)
        attrs = sns.get_topic_attributes(TopicArn=ids["events"])["Attributes"]
        self.assertEqual(attrs["DisplayName"], "Web events v2")
        self.cairn("plan", *args, "--detailed-exitcode", check=0)

        self.cairn("destroy", *args, "--auto-approve", check=0)
        self.assertEqual(self.cairn("state", "list", *args, check=0).stdout.strip(), "")
        left = ec2.describe_vpcs(Filters=[{"Name": "tag:cairn:stack", "Values": ["web-e2e"]}])
        self.assertEqual(left["Vpcs"], [])
        self.assertEqual(elb.describe_load_balancers()["LoadBalancers"], [])
        self.assertEqual(elb.describe_target_groups()["TargetGroups"], [])
        self.assertEqual([c for c in ecs.describe_clusters(clusters=["web-e2e"])["clusters"]
                          if c["status"] == "ACTIVE"], [])
        self.assertEqual(ecr.describe_repositories()["repositories"], [])
        self.assertNotIn("web-e2e-sessions", ddb.list_tables()["TableNames"])
        self.assertEqual(sns.list_topics()["Topics"], [])


if __name__ == "__main__":
    unittest.main()
