"""The ECS Fargate service types (aws_ecs_task_definition, aws_ecs_service,
aws_service_discovery_private_dns_namespace, aws_service_discovery_service,
aws_sns_topic_subscription) against moto, each through: create -> check with
boto3 -> no-op plan -> update in place -> drift shows and is reverted ->
replace -> import into a fresh state -> destroy; plus one stack putting a
Fargate service behind a target group with a service discovery registration.

What a type needs from other families (VPC, subnets, cluster, topic, ...) is
made with boto3 in the lifecycle tests, so each depends only on its own type.
"""
import json
import unittest

from family import FamilyCase

STACK = "svc"
OWNER = {"cairn:stack": STACK}


def kv(tags, key="key", value="value"):
    return {t[key]: t[value] for t in tags}


def namespace_id(sd, op_id):
    op = sd.get_operation(OperationId=op_id)["Operation"]
    return op["Targets"]["NAMESPACE"]


class SnsTopicSubscription(FamilyCase):
    STACK = STACK

    def attrs(self, arn):
        sns = self.boto("sns")
        try:
            return sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
        except sns.exceptions.NotFoundException:
            return None

    def test_lifecycle(self):
        sns, sqs = self.boto("sns"), self.boto("sqs")
        topic = sns.create_topic(Name="svc-events")["TopicArn"]
        queues = []
        for name in ("svc-q1", "svc-q2"):
            url = sqs.create_queue(QueueName=name)["QueueUrl"]
            queues.append(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
                          ["Attributes"]["QueueArn"])
        policy = {"event": ["created", "deleted"]}
        props = {"topic_arn": topic, "protocol": "sqs", "endpoint": queues[0],
                 "raw_message_delivery": True, "filter_policy": policy}
        self.stack("sub", "aws_sns_topic_subscription", props)
        self.apply()
        sid = self.ids()["sub"]
        a = self.attrs(sid)
        self.assertEqual(a["TopicArn"], topic)
        self.assertEqual(a["Protocol"], "sqs")
        self.assertEqual(a["Endpoint"], queues[0])
        self.assertEqual(a["RawMessageDelivery"], "true")
        self.assertEqual(json.loads(a["FilterPolicy"]), policy)
        shown = json.loads(self.cairn("state", "show", "sub", "--json", check=0).stdout)
        self.assertIn(a["Owner"], json.dumps(shown))
        self.assert_noop()

        # update in place: raw delivery and the filter policy
        props["raw_message_delivery"] = False
        props["filter_policy"] = {"event": ["created"]}
        self.stack("sub", "aws_sns_topic_subscription", props)
        self.apply()
        self.assertEqual(self.ids()["sub"], sid)
        a = self.attrs(sid)
        self.assertEqual(a["RawMessageDelivery"], "false")
        self.assertEqual(json.loads(a["FilterPolicy"]), {"event": ["created"]})
        self.assert_noop()

        # drift: both changed outside cairn, apply puts them back
        sns.set_subscription_attributes(SubscriptionArn=sid, AttributeName="RawMessageDelivery",
                                        AttributeValue="true")
        sns.set_subscription_attributes(SubscriptionArn=sid, AttributeName="FilterPolicy",
                                        AttributeValue=json.dumps({"event": ["x"]}))
        self.assert_drift("sub", "raw_message_delivery")
        self.apply()
        a = self.attrs(sid)
        self.assertEqual(a["RawMessageDelivery"], "false")
        self.assertEqual(json.loads(a["FilterPolicy"]), {"event": ["created"]})
        self.assert_noop()

        # removing the filter policy removes it in AWS
        del props["filter_policy"]
        self.stack("sub", "aws_sns_topic_subscription", props)
        self.apply()
        self.assertFalse(self.attrs(sid).get("FilterPolicy"))
        self.assert_noop()

        # replace: another endpoint is another subscription
        props["endpoint"] = queues[1]
        self.stack("sub", "aws_sns_topic_subscription", props)
        self.assertIn("must be replaced", self.cairn("plan").stdout)
        self.apply()
        new_id = self.ids()["sub"]
        self.assertNotEqual(new_id, sid)
        self.assertIsNone(self.attrs(sid))
        self.assertEqual(self.attrs(new_id)["Endpoint"], queues[1])
        self.assert_noop()

        self.import_fresh("sub", new_id)

        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.attrs(new_id))
        self.assertEqual(self.ids(), {})

    def test_bad_endpoint_error_names_resource(self):
        topic = self.boto("sns").create_topic(Name="svc-bad")["TopicArn"]
        self.stack("bad", "aws_sns_topic_subscription",
                   {"topic_arn": topic, "protocol": "sqs", "endpoint": "not-an-arn"})
        p = self.cairn("apply", "--auto-approve")
        self.assertEqual(p.returncode, 1)
        out = p.stdout + p.stderr
        self.assertIn("Subscribe on bad", out)
        self.assertIn("InvalidParameter", out)

    def test_adopted_after_kill_mid_create(self):
        sns = self.boto("sns")
        topic = sns.create_topic(Name="svc-kill")["TopicArn"]
        queue = "arn:aws:sqs:us-east-1:123456789012:svc-kill"
        self.stack("sub", "aws_sns_topic_subscription",
                   {"topic_arn": topic, "protocol": "sqs", "endpoint": queue})
        subs = lambda: sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        self.kill_mid_create("sub", lambda: len(subs()) == 1)
        self.assertEqual(self.ids()["sub"], subs()[0]["SubscriptionArn"])
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertEqual(subs(), [])


class PrivateDnsNamespace(FamilyCase):
    STACK = STACK

    def get(self, nid):
        sd = self.boto("servicediscovery")
        try:
            return sd.get_namespace(Id=nid)["Namespace"]
        except sd.exceptions.NamespaceNotFound:
            return None

    def tags(self, arn):
        return kv(self.boto("servicediscovery").list_tags_for_resource(ResourceARN=arn)["Tags"],
                  "Key", "Value")

    def test_lifecycle(self):
        ec2 = self.boto("ec2")
        vpcs = [ec2.create_vpc(CidrBlock="10.%d.0.0/16" % i)["Vpc"]["VpcId"] for i in (31, 32)]
        props = {"name": "svc.internal", "vpc": vpcs[0], "description": "first",
                 "tags": {"team": "core"}}
        self.stack("ns", "aws_service_discovery_private_dns_namespace", props)
        self.apply()
        nid = self.ids()["ns"]
        n = self.get(nid)
        self.assertEqual(n["Name"], "svc.internal")
        self.assertEqual(n["Type"], "DNS_PRIVATE")
        self.assertEqual(n["Description"], "first")
        self.assertEqual(self.tags(n["Arn"]), dict(OWNER, team="core", **{"cairn:resource": "ns"}))
        shown = self.cairn("state", "show", "ns", "--json", check=0).stdout
        self.assertIn(n["Properties"]["DnsProperties"]["HostedZoneId"], shown)
        self.assertIn(n["Arn"], shown)
        self.assert_noop()

        # update in place: description and tags
        props["description"] = "second"
        props["tags"] = {"team": "platform"}
        self.stack("ns", "aws_service_discovery_private_dns_namespace", props)
        self.apply()
        self.assertEqual(self.ids()["ns"], nid)
        self.assertEqual(self.get(nid)["Description"], "second")
        self.assertEqual(self.tags(n["Arn"])["team"], "platform")
        self.assert_noop()

        # drift
        self.boto("servicediscovery").update_private_dns_namespace(
            Id=nid, Namespace={"Description": "changed"})
        self.assert_drift("ns", "description")
        self.apply()
        self.assertEqual(self.get(nid)["Description"], "second")
        self.assert_noop()

        # replace: another VPC
        props["vpc"] = vpcs[1]
        self.stack("ns", "aws_service_discovery_private_dns_namespace", props)
        self.assertIn("must be replaced", self.cairn("plan").stdout)
        self.apply()
        new_id = self.ids()["ns"]
        self.assertNotEqual(new_id, nid)
        self.assertIsNone(self.get(nid))
        self.assertEqual(self.get(new_id)["Description"], "second")
        self.assert_noop()

        # AWS does not report the VPC: the import id carries it (Terraform's form)
        p = self.cairn("--state", self.dir + "/bad.db", "import", "ns", new_id)
        self.assertEqual(p.returncode, 1)
        self.assertIn("NAMESPACE_ID:VPC_ID", p.stdout + p.stderr)
        other = self.dir + "/other.db"
        self.cairn("--state", other, "import", "ns", "%s:%s" % (new_id, vpcs[1]), check=0)
        self.assertEqual(self.ids("--state", other), {"ns": new_id})
        self.assert_noop("--state", other)

        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.get(new_id))
        self.assertEqual(self.ids(), {})

    def test_adopted_after_kill_mid_create(self):
        sd = self.boto("servicediscovery")
        vpc = self.boto("ec2").create_vpc(CidrBlock="10.34.0.0/16")["Vpc"]["VpcId"]
        self.stack("ns", "aws_service_discovery_private_dns_namespace",
                   {"name": "kill.internal", "vpc": vpc})
        found = lambda: [n for n in sd.list_namespaces()["Namespaces"]
                         if n["Name"] == "kill.internal"]
        self.kill_mid_create("ns", lambda: len(found()) == 1)
        self.assertEqual(self.ids()["ns"], found()[0]["Id"])
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertEqual(found(), [])


class DiscoveryService(FamilyCase):
    STACK = STACK

    def get(self, sid):
        sd = self.boto("servicediscovery")
        try:
            return sd.get_service(Id=sid)["Service"]
        except sd.exceptions.ServiceNotFound:
            return None

    def test_lifecycle(self):
        sd = self.boto("servicediscovery")
        vpc = self.boto("ec2").create_vpc(CidrBlock="10.33.0.0/16")["Vpc"]["VpcId"]
        ns = namespace_id(sd, sd.create_private_dns_namespace(Name="sd.internal", Vpc=vpc)
                          ["OperationId"])
        props = {"name": "api", "description": "the api",
                 "dns_config": {"namespace_id": ns, "routing_policy": "MULTIVALUE",
                                "dns_records": [{"ttl": 10, "type": "A"}]},
                 "health_check_custom_config": {"failure_threshold": 1},
                 "tags": {"team": "core"}}
        self.stack("disc", "aws_service_discovery_service", props)
        self.apply()
        sid = self.ids()["disc"]
        s = self.get(sid)
        self.assertEqual(s["Name"], "api")
        self.assertEqual(s["Description"], "the api")
        self.assertEqual(s["DnsConfig"]["NamespaceId"], ns)
        self.assertEqual(s["DnsConfig"]["RoutingPolicy"], "MULTIVALUE")
        self.assertEqual(s["DnsConfig"]["DnsRecords"], [{"Type": "A", "TTL": 10}])
        self.assertEqual(s["HealthCheckCustomConfig"], {"FailureThreshold": 1})
        self.assertEqual(kv(sd.list_tags_for_resource(ResourceARN=s["Arn"])["Tags"], "Key", "Value"),
                         dict(OWNER, team="core", **{"cairn:resource": "disc"}))
        shown = self.cairn("state", "show", "disc", "--json", check=0).stdout
        self.assertIn(s["Arn"], shown)
        self.assert_noop()

        # update in place: records, description, tags
        props["description"] = "the api, v2"
        props["dns_config"]["dns_records"] = [{"ttl": 30, "type": "A"}]
        props["tags"] = {"team": "platform"}
        self.stack("disc", "aws_service_discovery_service", props)
        self.apply()
        self.assertEqual(self.ids()["disc"], sid)
        s = self.get(sid)
        self.assertEqual(s["Description"], "the api, v2")
        self.assertEqual(s["DnsConfig"]["DnsRecords"], [{"Type": "A", "TTL": 30}])
        self.assertEqual(kv(sd.list_tags_for_resource(ResourceARN=s["Arn"])["Tags"], "Key",
                            "Value")["team"], "platform")
        self.assert_noop()

        # drift: a TTL changed outside cairn
        sd.update_service(Id=sid, Service={"Description": "the api, v2",
                                           "DnsConfig": {"DnsRecords": [{"Type": "A", "TTL": 99}]}})
        self.assert_drift("disc", "dns_config")
        self.apply()
        self.assertEqual(self.get(sid)["DnsConfig"]["DnsRecords"], [{"Type": "A", "TTL": 30}])
        self.assert_noop()

        # replace: the name
        props["name"] = "api2"
        self.stack("disc", "aws_service_discovery_service", props)
        self.assertIn("must be replaced", self.cairn("plan").stdout)
        self.apply()
        new_id = self.ids()["disc"]
        self.assertNotEqual(new_id, sid)
        self.assertIsNone(self.get(sid))
        self.assertEqual(self.get(new_id)["Name"], "api2")
        self.assert_noop()

        self.import_fresh("disc", new_id)

        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.get(new_id))
        self.assertEqual(self.ids(), {})


CONTAINERS = [{"name": "app", "image": "nginx:1.25",
               "portMappings": [{"containerPort": 80}],
               "environment": [{"name": "B", "value": "2"}, {"name": "A", "value": "1"}]}]
EXEC_ROLE = "arn:aws:iam::123456789012:role/svc-exec"


class EcsTaskDefinition(FamilyCase):
    STACK = STACK

    def describe(self, arn):
        r = self.boto("ecs").describe_task_definition(taskDefinition=arn, include=["TAGS"])
        return r["taskDefinition"], kv(r.get("tags", []))

    def test_lifecycle(self):
        props = {"family": "svc-web", "container_definitions": json.loads(json.dumps(CONTAINERS)),
                 "cpu": "256", "memory": "512", "network_mode": "awsvpc",
                 "requires_compatibilities": ["FARGATE"], "execution_role_arn": EXEC_ROLE,
                 "task_role_arn": EXEC_ROLE, "tags": {"team": "core"}}
        self.stack("td", "aws_ecs_task_definition", props)
        self.apply()
        tid = self.ids()["td"]
        td, tags = self.describe(tid)
        self.assertEqual(td["taskDefinitionArn"], tid)
        self.assertEqual(td["family"], "svc-web")
        self.assertEqual(td["revision"], 1)
        self.assertEqual(td["status"], "ACTIVE")
        self.assertEqual(td["cpu"], "256")
        self.assertEqual(td["memory"], "512")
        self.assertEqual(td["networkMode"], "awsvpc")
        self.assertEqual(td["requiresCompatibilities"], ["FARGATE"])
        self.assertEqual(td["executionRoleArn"], EXEC_ROLE)
        self.assertEqual(td["taskRoleArn"], EXEC_ROLE)
        c = td["containerDefinitions"][0]
        self.assertEqual((c["name"], c["image"]), ("app", "nginx:1.25"))
        self.assertEqual(c["portMappings"][0]["containerPort"], 80)
        self.assertEqual(tags, dict(OWNER, team="core", **{"cairn:resource": "td"}))
        shown = json.loads(self.cairn("state", "show", "td", "--json", check=0).stdout)
        self.assertIn('"revision": 1', json.dumps(shown))
        # ECS's filled-in defaults (cpu 0, essential, empty lists) are no change
        self.assert_noop()

        # update in place: only the tags can change on a revision
        props["tags"] = {"team": "platform", "env": "test"}
        self.stack("td", "aws_ecs_task_definition", props)
        self.apply()
        self.assertEqual(self.ids()["td"], tid)
        self.assertEqual(self.describe(tid)[1], dict(OWNER, team="platform", env="test",
                                                     **{"cairn:resource": "td"}))
        self.assert_noop()

        # drift: a tag removed outside cairn
        self.boto("ecs").untag_resource(resourceArn=tid, tagKeys=["env"])
        self.assert_drift("td", "tags")
        self.apply()
        self.assertEqual(self.describe(tid)[1].get("env"), "test")
        self.assert_noop()

        # replace: a new image registers a new revision, the old one is deregistered
        props["container_definitions"][0]["image"] = "nginx:1.27"
        self.stack("td", "aws_ecs_task_definition", props)
        self.assertIn("must be replaced", self.cairn("plan").stdout)
        self.apply()
        new_id = self.ids()["td"]
        self.assertNotEqual(new_id, tid)
        self.assertEqual(self.describe(new_id)[0]["revision"], 2)
        self.assertEqual(self.describe(new_id)[0]["containerDefinitions"][0]["image"], "nginx:1.27")
        self.assertEqual(self.describe(tid)[0]["status"], "INACTIVE")
        self.assert_noop()

        # deregistered outside cairn: the plan registers it again
        self.boto("ecs").deregister_task_definition(taskDefinition=new_id)
        p = self.cairn("plan", "--detailed-exitcode")
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.apply()
        newest = self.ids()["td"]
        self.assertEqual(self.describe(newest)[0]["revision"], 3)
        self.assert_noop()

        self.import_fresh("td", newest)

        self.cairn("destroy", "--auto-approve", check=0)
        self.assertEqual(self.describe(newest)[0]["status"], "INACTIVE")
        self.assertEqual(self.ids(), {})

    def test_adopted_after_kill_mid_create(self):
        ecs = self.boto("ecs")
        self.stack("td", "aws_ecs_task_definition",
                   {"family": "svc-kill", "container_definitions": CONTAINERS,
                    "memory": "512"})
        arns = lambda: ecs.list_task_definitions(familyPrefix="svc-kill",
                                                 status="ACTIVE")["taskDefinitionArns"]
        self.kill_mid_create("td", lambda: len(arns()) == 1)
        self.assertEqual(self.ids()["td"], arns()[0])
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertEqual(arns(), [])


class EcsService(FamilyCase):
    STACK = STACK

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ec2, ecs = cls.moto.client("ec2"), cls.moto.client("ecs")
        cls.vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
        cls.subnets = [ec2.create_subnet(VpcId=cls.vpc, CidrBlock="10.40.%d.0/24" % i,
                                         AvailabilityZone="us-east-1" + az)["Subnet"]["SubnetId"]
                       for i, az in ((1, "a"), (2, "b"))]
        cls.sg = ec2.create_security_group(GroupName="svc-ecs", Description="e2e",
                                           VpcId=cls.vpc)["GroupId"]
        cls.cluster = ecs.create_cluster(clusterName="svc-cluster")["cluster"]["clusterArn"]
        cls.tds = [ecs.register_task_definition(
            family="svc-api", containerDefinitions=[{"name": "app", "image": "nginx:%s" % v}],
            cpu="256", memory="512", networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"])["taskDefinition"]["taskDefinitionArn"]
            for v in ("1", "2")]

    def describe(self, name):
        s = self.boto("ecs").describe_services(cluster="svc-cluster", services=[name],
                                               include=["TAGS"])["services"]
        return s[0] if s else None

    def test_lifecycle(self):
        props = {"name": "api", "cluster": self.cluster, "task_definition": self.tds[0],
                 "desired_count": 1, "launch_type": "FARGATE",
                 "network_configuration": {"subnets": [self.subnets[0]],
                                           "security_groups": [self.sg],
                                           "assign_public_ip": True},
                 "tags": {"team": "core"}}
        self.stack("svc", "aws_ecs_service", props)
        self.apply()
        sid = self.ids()["svc"]
        s = self.describe("api")
        self.assertEqual(s["serviceArn"], sid)
        self.assertEqual(s["status"], "ACTIVE")
        self.assertEqual(s["clusterArn"], self.cluster)
        self.assertEqual(s["taskDefinition"], self.tds[0])
        self.assertEqual(s["desiredCount"], 1)
        self.assertEqual(s["launchType"], "FARGATE")
        self.assertEqual(s["networkConfiguration"]["awsvpcConfiguration"],
                         {"subnets": [self.subnets[0]], "securityGroups": [self.sg],
                          "assignPublicIp": "ENABLED"})
        self.assertEqual(kv(s["tags"]), dict(OWNER, team="core", **{"cairn:resource": "svc"}))
        self.assert_noop()

        # update in place: task definition, count, networking, tags
        props["task_definition"] = self.tds[1]
        props["desired_count"] = 2
        props["network_configuration"] = {"subnets": self.subnets, "security_groups": [self.sg],
                                          "assign_public_ip": False}
        props["tags"] = {"team": "platform"}
        self.stack("svc", "aws_ecs_service", props)
        self.apply()
        self.assertEqual(self.ids()["svc"], sid)
        s = self.describe("api")
        self.assertEqual(s["taskDefinition"], self.tds[1])
        self.assertEqual(s["desiredCount"], 2)
        self.assertEqual(s["networkConfiguration"]["awsvpcConfiguration"]["subnets"], self.subnets)
        self.assertEqual(s["networkConfiguration"]["awsvpcConfiguration"]["assignPublicIp"],
                         "DISABLED")
        self.assertEqual(kv(s["tags"])["team"], "platform")
        self.assert_noop()

        # drift: scaled outside cairn
        self.boto("ecs").update_service(cluster="svc-cluster", service="api", desiredCount=5)
        self.assert_drift("svc", "desired_count")
        self.apply()
        self.assertEqual(self.describe("api")["desiredCount"], 2)
        self.assert_noop()

        # replace: the name
        props["name"] = "api2"
        self.stack("svc", "aws_ecs_service", props)
        self.assertIn("must be replaced", self.cairn("plan").stdout)
        self.apply()
        new_id = self.ids()["svc"]
        self.assertNotEqual(new_id, sid)
        self.assertEqual(self.describe("api")["status"], "INACTIVE")
        self.assertEqual(self.describe("api2")["status"], "ACTIVE")
        self.assert_noop()

        # import by CLUSTER/SERVICE (the cluster is then recorded as its ARN,
        # which is what the stack says)
        other = self.dir + "/other.db"
        self.cairn("--state", other, "import", "svc", "svc-cluster/api2", check=0)
        self.assertEqual(self.ids("--state", other), {"svc": new_id})
        self.assert_noop("--state", other)
        bad = self.cairn("--state", self.dir + "/bad.db", "import", "svc", "api2")
        self.assertEqual(bad.returncode, 1)
        self.assertIn("CLUSTER/SERVICE", bad.stdout + bad.stderr)

        self.cairn("destroy", "--auto-approve", check=0)
        s = self.describe("api2")
        self.assertEqual(s["status"], "INACTIVE")
        self.assertEqual(s["desiredCount"], 0)
        self.assertEqual(self.ids(), {})

    def test_error_names_resource_and_operation(self):
        self.stack("svc", "aws_ecs_service",
                   {"name": "lost", "cluster": "no-such-cluster", "task_definition": self.tds[0],
                    "launch_type": "FARGATE",
                    "network_configuration": {"subnets": [self.subnets[0]]}})
        p = self.cairn("apply", "--auto-approve")
        self.assertEqual(p.returncode, 1)
        out = p.stdout + p.stderr
        self.assertIn("CreateService on svc", out)
        self.assertIn("ClusterNotFoundException", out)
        self.assertEqual(self.ids(), {})

    def test_adopted_after_kill_mid_create(self):
        self.stack("svc", "aws_ecs_service",
                   {"name": "killed", "cluster": self.cluster, "task_definition": self.tds[0],
                    "launch_type": "FARGATE",
                    "network_configuration": {"subnets": [self.subnets[0]]}})
        self.kill_mid_create("svc", lambda: (self.describe("killed") or {}).get("status")
                             == "ACTIVE")
        self.assertEqual(self.ids()["svc"], self.describe("killed")["serviceArn"])
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertEqual(self.describe("killed")["status"], "INACTIVE")


FARGATE_STACK = r"""stack: svc
region: us-east-1

resources:
  vpc:
    type: aws_vpc
    properties:
      cidr_block: 10.50.0.0/16
      enable_dns_support: true
      enable_dns_hostnames: true

  subnet_a:
    type: aws_subnet
    properties:
      vpc_id: ${vpc.id}
      cidr_block: 10.50.1.0/24
      availability_zone: us-east-1a

  subnet_b:
    type: aws_subnet
    properties:
      vpc_id: ${vpc.id}
      cidr_block: 10.50.2.0/24
      availability_zone: us-east-1b

  tasks_sg:
    type: aws_security_group
    properties:
      name: svc-tasks
      description: Fargate tasks
      vpc_id: ${vpc.id}
      ingress:
        - { protocol: tcp, from_port: 8080, to_port: 8080, cidr_blocks: ["10.50.0.0/16"] }

  alb:
    type: aws_lb
    properties:
      name: svc-alb
      subnets: ["${subnet_a.id}", "${subnet_b.id}"]
      security_groups: ["${tasks_sg.id}"]

  api_tg:
    type: aws_lb_target_group
    properties:
      name: svc-api
      port: 8080
      vpc_id: ${vpc.id}
      target_type: ip

  http:
    type: aws_lb_listener
    properties:
      load_balancer_arn: ${alb.arn}
      port: 80
      default_action:
        - type: forward
          target_group_arn: ${api_tg.arn}

  ns:
    type: aws_service_discovery_private_dns_namespace
    properties:
      name: svc.internal
      vpc: ${vpc.id}

  api_discovery:
    type: aws_service_discovery_service
    properties:
      name: api
      dns_config:
        namespace_id: ${ns.id}
        dns_records:
          - { ttl: 10, type: A }
      health_check_custom_config:
        failure_threshold: 1

  cluster:
    type: aws_ecs_cluster
    properties:
      name: svc-cluster

  api_task:
    type: aws_ecs_task_definition
    properties:
      family: svc-api
      cpu: "256"
      memory: "512"
      network_mode: awsvpc
      requires_compatibilities: [FARGATE]
      container_definitions:
        - name: api
          image: example/api:COUNT
          essential: true
          portMappings:
            - containerPort: 8080
          environment:
            - { name: PORT, value: "8080" }

  api:
    type: aws_ecs_service
    properties:
      name: api
      cluster: ${cluster.arn}
      task_definition: ${api_task.arn}
      desired_count: COUNT
      launch_type: FARGATE
      network_configuration:
        subnets: ["${subnet_a.id}", "${subnet_b.id}"]
        security_groups: ["${tasks_sg.id}"]
      load_balancer:
        - target_group_arn: ${api_tg.arn}
          container_name: api
          container_port: 8080
      service_registries:
        registry_arn: ${api_discovery.arn}
      tags: { app: api }

  worker:
    type: aws_ecs_service
    properties:
      name: worker
      cluster: ${cluster.arn}
      task_definition: ${api_task.arn}
      launch_type: FARGATE
      network_configuration:
        subnets: ["${subnet_b.id}", "${subnet_a.id}"]

  alerts:
    type: aws_sns_topic
    properties:
      name: svc-alerts

  alerts_queue_sub:
    type: aws_sns_topic_subscription
    properties:
      topic_arn: ${alerts.arn}
      protocol: sqs
      endpoint: arn:aws:sqs:us-east-1:123456789012:svc-alerts
"""


class FargateStack(FamilyCase):
    STACK = STACK

    def test_apply_edit_destroy(self):
        self.write("stack.yaml", FARGATE_STACK.replace("COUNT", "2"))
        self.apply()
        ids = self.ids()
        ecs, sd, elb = self.boto("ecs"), self.boto("servicediscovery"), self.boto("elbv2")
        svc = ecs.describe_services(cluster="svc-cluster", services=["api"],
                                    include=["TAGS"])["services"][0]
        self.assertEqual(svc["serviceArn"], ids["api"])
        self.assertEqual(svc["status"], "ACTIVE")
        self.assertEqual(svc["taskDefinition"], ids["api_task"])
        self.assertEqual(svc["desiredCount"], 2)
        self.assertEqual(svc["loadBalancers"], [{"targetGroupArn": ids["api_tg"],
                                                 "containerName": "api", "containerPort": 8080}])
        disc = sd.get_service(Id=ids["api_discovery"])["Service"]
        self.assertEqual(svc["serviceRegistries"], [{"registryArn": disc["Arn"]}])
        self.assertEqual(disc["DnsConfig"]["NamespaceId"], ids["ns"])
        self.assertEqual(sd.get_namespace(Id=ids["ns"])["Namespace"]["Name"], "svc.internal")
        self.assertEqual(sorted(svc["networkConfiguration"]["awsvpcConfiguration"]["subnets"]),
                         sorted([ids["subnet_a"], ids["subnet_b"]]))
        listener = elb.describe_listeners(ListenerArns=[ids["http"]])["Listeners"][0]
        self.assertEqual(listener["DefaultActions"][0]["TargetGroupArn"], ids["api_tg"])
        sub = self.boto("sns").get_subscription_attributes(
            SubscriptionArn=ids["alerts_queue_sub"])["Attributes"]
        self.assertEqual(sub["TopicArn"], ids["alerts"])
        self.assert_noop()

        # a service deleted outside cairn: the batched read of both services
        # reports it gone, the other one unchanged, and apply makes it again
        ecs.delete_service(cluster="svc-cluster", service="worker", force=True)
        p = self.cairn("plan", "--detailed-exitcode")
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("worker", p.stdout)
        self.assertNotIn("api (aws_ecs_service)", p.stdout)
        self.apply()
        worker = ecs.describe_services(cluster="svc-cluster", services=["worker"])["services"]
        self.assertEqual([w["status"] for w in worker], ["ACTIVE"])
        self.assertEqual(self.ids()["worker"], worker[0]["serviceArn"])
        self.assert_noop()

        # edit: a new image is a new task definition revision; the service
        # is updated in place to run it, with the new count
        self.write("stack.yaml", FARGATE_STACK.replace("COUNT", "3"))
        p = self.cairn("plan")
        self.assertIn("api_task", p.stdout)
        self.apply()
        ids2 = self.ids()
        self.assertEqual(ids2["api"], ids["api"])
        self.assertNotEqual(ids2["api_task"], ids["api_task"])
        svc = ecs.describe_services(cluster="svc-cluster", services=["api"])["services"][0]
        self.assertEqual(svc["taskDefinition"], ids2["api_task"])
        self.assertEqual(svc["desiredCount"], 3)
        old = ecs.describe_task_definition(taskDefinition=ids["api_task"])["taskDefinition"]
        self.assertEqual(old["status"], "INACTIVE")
        self.assert_noop()

        self.cairn("destroy", "--auto-approve", check=0)
        self.assertEqual(self.ids(), {})
        svc = ecs.describe_services(cluster="svc-cluster", services=["api", "worker"])["services"]
        self.assertEqual([s["status"] for s in svc if s["status"] != "INACTIVE"], [])
        self.assertEqual(sd.list_services()["Services"], [])
        self.assertEqual(sd.list_namespaces()["Namespaces"], [])
        self.assertEqual(elb.describe_target_groups()["TargetGroups"], [])
        self.assertEqual(self.boto("sns").list_subscriptions()["Subscriptions"], [])
        td = ecs.describe_task_definition(taskDefinition=ids2["api_task"])["taskDefinition"]
        self.assertEqual(td["status"], "INACTIVE")


if __name__ == "__main__":
    unittest.main()
