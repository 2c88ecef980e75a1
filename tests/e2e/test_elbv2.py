"""End-to-end: the load balancing family (aws_lb, aws_lb_target_group,
aws_lb_listener, aws_lb_listener_rule) against moto, verified with boto3.

The VPC, subnets and security groups the stacks need are made with boto3
and passed in as variables, so these tests depend on nothing but the
elbv2 types.
"""
import json
import os
import random
import signal
import subprocess
import time

import harness
from faultproxy import FaultProxy


def tags_of(elb, arn):
    d = elb.describe_tags(ResourceArns=[arn])["TagDescriptions"]
    return {t["Key"]: t["Value"] for t in d[0]["Tags"]} if d else {}


def lb_attributes(elb, arn):
    a = elb.describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"]
    return {x["Key"]: x["Value"] for x in a}


def tg_attributes(elb, arn):
    a = elb.describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]
    return {x["Key"]: x["Value"] for x in a}


def gone(fn, **kw):
    """True if the describe call says the thing does not exist."""
    try:
        fn(**kw)
    except Exception as e:  # botocore ClientError: *NotFound
        return "NotFound" in str(e)
    return False


class Elbv2Test(harness.CairnTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ec2 = cls.moto.client("ec2")
        cls.vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
        cls.subnets = [
            ec2.create_subnet(VpcId=cls.vpc, CidrBlock="10.20.%d.0/24" % i,
                              AvailabilityZone="us-east-1" + az)["Subnet"]["SubnetId"]
            for i, az in ((1, "a"), (2, "b"), (3, "c"))]
        cls.sgs = [ec2.create_security_group(GroupName="e2e-elb-%d" % i, Description="e2e",
                                             VpcId=cls.vpc)["GroupId"] for i in (1, 2)]

    def setUp(self):
        super().setUp()
        self.elb = self.boto("elbv2")

    # ---- helpers ----

    def vars(self):
        return ["--var", "vpc_id=" + self.vpc]

    def write_stack(self, resources, name="elb"):
        doc = {"stack": name, "region": harness.REGION,
               # The default also serves the commands that take no --var.
               "variables": {"vpc_id": {"type": "string", "default": self.vpc}},
               "resources": resources}
        self.write("stack.json", json.dumps(doc, indent=2))

    def apply(self, *extra):
        return self.cairn("apply", "--auto-approve", *self.vars(), *extra, check=0)

    def plan(self, *extra):
        return self.cairn("plan", "--detailed-exitcode", *self.vars(), *extra)

    def assert_noop(self, *extra):
        p = self.plan(*extra)
        self.assertEqual(p.returncode, 0, "plan is not a no-op:\n" + p.stdout + p.stderr)

    def state_ids(self, *extra):
        out = self.cairn("state", "list", *extra, check=0).stdout
        return {l.split("\t")[0]: l.split("\t")[2] for l in out.splitlines() if l.strip()}

    def lb_by_name(self, name):
        return self.elb.describe_load_balancers(Names=[name])["LoadBalancers"][0]

    def tg_by_name(self, name):
        return self.elb.describe_target_groups(Names=[name])["TargetGroups"][0]

    def listeners(self, lb_arn):
        return self.elb.describe_listeners(LoadBalancerArn=lb_arn)["Listeners"]

    def rules(self, listener_arn):
        return [r for r in self.elb.describe_rules(ListenerArn=listener_arn)["Rules"]
                if not r["IsDefault"]]

    def full_stack(self, lb_name="e2e-alb", idle=60, lb_tags=None, subnets=None, sgs=None,
                   web_hc=None, web_delay=30, api_name="e2e-api", default_action=None,
                   rule_priority=10, rule_condition=None, rule_tags=None):
        return {
            "alb": {"type": "aws_lb", "properties": {
                "name": lb_name,
                "subnets": subnets or self.subnets[:2],
                "security_groups": sgs or self.sgs[:1],
                "idle_timeout": idle,
                "tags": lb_tags if lb_tags is not None else {"env": "test"}}},
            "web_tg": {"type": "aws_lb_target_group", "properties": {
                "name": "e2e-web", "port": 80, "vpc_id": "${var.vpc_id}",
                "health_check": web_hc or {"path": "/health", "matcher": "200-299",
                                           "interval": 15},
                "deregistration_delay": web_delay,
                "tags": {"tier": "web"}}},
            "api_tg": {"type": "aws_lb_target_group", "properties": {
                "name": api_name, "port": 8000, "vpc_id": "${var.vpc_id}"}},
            "http": {"type": "aws_lb_listener", "properties": {
                "load_balancer_arn": "${alb.arn}", "port": 80,
                "default_action": default_action or
                [{"type": "forward", "target_group_arn": "${web_tg.arn}"}]}},
            "api_rule": {"type": "aws_lb_listener_rule", "properties": {
                "listener_arn": "${http.arn}", "priority": rule_priority,
                "condition": rule_condition or [{"path_pattern": {"values": ["/api/*"]}}],
                "action": [{"type": "forward", "target_group_arn": "${api_tg.arn}"}],
                "tags": rule_tags or {"route": "api"}}},
        }

    # ---- tests ----

    def test_lifecycle(self):
        elb = self.elb
        # create
        self.write_stack(self.full_stack())
        self.apply()
        lb = self.lb_by_name("e2e-alb")
        arn = lb["LoadBalancerArn"]
        self.assertEqual(lb["Scheme"], "internet-facing")
        self.assertEqual(lb["Type"], "application")
        self.assertEqual(lb["IpAddressType"], "ipv4")
        self.assertEqual(sorted(z["SubnetId"] for z in lb["AvailabilityZones"]),
                         sorted(self.subnets[:2]))
        self.assertEqual(lb["SecurityGroups"], self.sgs[:1])
        self.assertEqual(lb["State"]["Code"], "active")
        attrs = lb_attributes(elb, arn)
        self.assertEqual(attrs["idle_timeout.timeout_seconds"], "60")
        self.assertEqual(attrs["deletion_protection.enabled"], "false")
        self.assertEqual(attrs["routing.http2.enabled"], "true")
        self.assertEqual(tags_of(elb, arn), {"env": "test", "cairn:stack": "elb",
                                             "cairn:resource": "alb"})
        web = self.tg_by_name("e2e-web")
        self.assertEqual((web["Port"], web["Protocol"], web["VpcId"], web["TargetType"]),
                         (80, "HTTP", self.vpc, "instance"))
        self.assertEqual(web["HealthCheckPath"], "/health")
        self.assertEqual(web["Matcher"]["HttpCode"], "200-299")
        self.assertEqual(web["HealthCheckIntervalSeconds"], 15)
        self.assertEqual(web["HealthCheckPort"], "traffic-port")
        self.assertEqual((web["HealthyThresholdCount"], web["UnhealthyThresholdCount"]), (3, 3))
        self.assertEqual(tg_attributes(elb, web["TargetGroupArn"])
                         ["deregistration_delay.timeout_seconds"], "30")
        self.assertEqual(tags_of(elb, web["TargetGroupArn"])["tier"], "web")
        api = self.tg_by_name("e2e-api")
        self.assertEqual(tags_of(elb, api["TargetGroupArn"])["cairn:resource"], "api_tg")
        [listener] = self.listeners(arn)
        self.assertEqual((listener["Port"], listener["Protocol"]), (80, "HTTP"))
        self.assertEqual([(a["Type"], a["TargetGroupArn"]) for a in listener["DefaultActions"]],
                         [("forward", web["TargetGroupArn"])])
        self.assertEqual(tags_of(elb, listener["ListenerArn"])["cairn:resource"], "http")
        [rule] = self.rules(listener["ListenerArn"])
        self.assertEqual(rule["Priority"], "10")
        self.assertEqual(rule["Conditions"][0]["Field"], "path-pattern")
        self.assertEqual(rule["Conditions"][0]["PathPatternConfig"]["Values"], ["/api/*"])
        self.assertEqual(rule["Actions"][0]["TargetGroupArn"], api["TargetGroupArn"])
        self.assertEqual(tags_of(elb, rule["RuleArn"]),
                         {"route": "api", "cairn:stack": "elb", "cairn:resource": "api_rule"})
        ids = self.state_ids()
        self.assertEqual(ids["alb"], arn)
        self.assertEqual(ids["http"], listener["ListenerArn"])
        self.assertEqual(ids["api_rule"], rule["RuleArn"])
        out = json.loads(self.cairn("state", "show", "alb", "--json", check=0).stdout)
        self.assertEqual(out.get("dns_name", out.get("attributes", {}).get("dns_name")),
                         lb["DNSName"])
        self.assert_noop()

        # update in place
        fixed = [{"type": "fixed-response",
                  "fixed_response": {"content_type": "text/plain", "message_body": "nope",
                                     "status_code": "404"}}]
        self.write_stack(self.full_stack(
            idle=120, lb_tags={"env": "prod"}, subnets=[self.subnets[2], self.subnets[0]],
            sgs=self.sgs, web_hc={"path": "/ready", "matcher": "200", "healthy_threshold": 2},
            web_delay=60, default_action=fixed, rule_priority=20,
            rule_condition=[{"host_header": {"values": ["api.example.com"]}}],
            rule_tags={"route": "api2"}))
        p = self.plan()
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertNotIn("must be replaced", p.stdout)
        self.apply()
        lb2 = self.lb_by_name("e2e-alb")
        self.assertEqual(lb2["LoadBalancerArn"], arn)
        self.assertEqual(sorted(z["SubnetId"] for z in lb2["AvailabilityZones"]),
                         sorted([self.subnets[0], self.subnets[2]]))
        self.assertEqual(sorted(lb2["SecurityGroups"]), sorted(self.sgs))
        self.assertEqual(lb_attributes(elb, arn)["idle_timeout.timeout_seconds"], "120")
        t = tags_of(elb, arn)
        self.assertEqual((t.get("env"), "cairn:stack" in t), ("prod", True))
        web2 = self.tg_by_name("e2e-web")
        self.assertEqual(web2["TargetGroupArn"], web["TargetGroupArn"])
        self.assertEqual((web2["HealthCheckPath"], web2["Matcher"]["HttpCode"],
                          web2["HealthyThresholdCount"], web2["HealthCheckIntervalSeconds"]),
                         ("/ready", "200", 2, 30))
        self.assertEqual(tg_attributes(elb, web["TargetGroupArn"])
                         ["deregistration_delay.timeout_seconds"], "60")
        [listener2] = self.listeners(arn)
        self.assertEqual(listener2["ListenerArn"], listener["ListenerArn"])
        action = listener2["DefaultActions"][0]
        self.assertEqual(action["Type"], "fixed-response")
        self.assertEqual(action["FixedResponseConfig"]["MessageBody"], "nope")
        self.assertEqual(action["FixedResponseConfig"]["StatusCode"], "404")
        [rule2] = self.rules(listener["ListenerArn"])
        self.assertEqual(rule2["RuleArn"], rule["RuleArn"])
        self.assertEqual(rule2["Priority"], "20")
        self.assertEqual(rule2["Conditions"][0]["Field"], "host-header")
        self.assertEqual(rule2["Conditions"][0]["HostHeaderConfig"]["Values"],
                         ["api.example.com"])
        self.assertEqual(tags_of(elb, rule["RuleArn"])["route"], "api2")
        self.assert_noop()

        # drift made outside cairn shows in plan and apply reverts it
        elb.modify_target_group(TargetGroupArn=web["TargetGroupArn"], HealthCheckPath="/drift")
        elb.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[
            {"Key": "idle_timeout.timeout_seconds", "Value": "300"}])
        elb.modify_listener(ListenerArn=listener["ListenerArn"], Port=8081)
        elb.set_rule_priorities(RulePriorities=[{"RuleArn": rule["RuleArn"], "Priority": 30}])
        p = self.plan()
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("Changed outside cairn:", p.stdout)
        drifted = p.stdout.split("Changed outside cairn:")[1]
        for name in ("web_tg", "alb", "http", "api_rule"):
            self.assertIn(name, drifted)
        self.apply()
        self.assertEqual(self.tg_by_name("e2e-web")["HealthCheckPath"], "/ready")
        self.assertEqual(lb_attributes(elb, arn)["idle_timeout.timeout_seconds"], "120")
        self.assertEqual(self.listeners(arn)[0]["Port"], 80)
        self.assertEqual(self.rules(listener["ListenerArn"])[0]["Priority"], "20")
        self.assert_noop()

        # import every resource into a fresh state: the plan is a no-op.
        # Subnets and security groups are sets to AWS, lists to the schema
        # format: an import (no recorded order to keep) reads them sorted,
        # so the stack lists them sorted here.
        self.write_stack(self.full_stack(
            idle=120, lb_tags={"env": "prod"}, subnets=sorted([self.subnets[2], self.subnets[0]]),
            sgs=sorted(self.sgs), web_hc={"path": "/ready", "matcher": "200",
                                          "healthy_threshold": 2},
            web_delay=60, default_action=fixed, rule_priority=20,
            rule_condition=[{"host_header": {"values": ["api.example.com"]}}],
            rule_tags={"route": "api2"}))
        other = os.path.join(self.dir, "imported.db")
        cur = self.state_ids()
        for name in ("alb", "web_tg", "api_tg", "http", "api_rule"):
            self.cairn("--state", other, "import", name, cur[name], *self.vars(), check=0)
        self.assertEqual(self.state_ids("--state", other), cur)
        self.assert_noop("--state", other)

        # replace: a new name for api_tg; the rule forwarding to it is replaced too
        self.write_stack(self.full_stack(
            idle=120, lb_tags={"env": "prod"}, subnets=[self.subnets[2], self.subnets[0]],
            sgs=self.sgs, web_hc={"path": "/ready", "matcher": "200", "healthy_threshold": 2},
            web_delay=60, default_action=fixed, rule_priority=20,
            rule_condition=[{"host_header": {"values": ["api.example.com"]}}],
            rule_tags={"route": "api2"}, api_name="e2e-api-v2"))
        p = self.plan()
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("api_rule", p.stdout)
        self.apply()
        self.assertTrue(gone(elb.describe_target_groups, Names=["e2e-api"]))
        api2 = self.tg_by_name("e2e-api-v2")
        self.assertNotEqual(api2["TargetGroupArn"], api["TargetGroupArn"])
        [rule3] = self.rules(listener["ListenerArn"])
        self.assertEqual(rule3["Actions"][0]["TargetGroupArn"], api2["TargetGroupArn"])
        self.assertEqual(self.state_ids()["api_tg"], api2["TargetGroupArn"])
        self.assert_noop()

        # destroy
        self.cairn("destroy", "--auto-approve", *self.vars(), check=0)
        self.assertTrue(gone(elb.describe_load_balancers, Names=["e2e-alb"]))
        self.assertTrue(gone(elb.describe_target_groups, Names=["e2e-web"]))
        self.assertTrue(gone(elb.describe_target_groups, Names=["e2e-api-v2"]))
        self.assertTrue(gone(elb.describe_listeners, ListenerArns=[listener["ListenerArn"]]))
        self.assertEqual(self.state_ids(), {})

    def test_replace_load_balancer(self):
        """A new name replaces the load balancer; its listener follows it."""
        elb = self.elb
        res = {
            "lb": {"type": "aws_lb", "properties": {"name": "e2e-rlb",
                                                    "subnets": self.subnets[:2]}},
            "tg": {"type": "aws_lb_target_group", "properties": {
                "name": "e2e-rlb-tg", "port": 80, "vpc_id": "${var.vpc_id}"}},
            "l": {"type": "aws_lb_listener", "properties": {
                "load_balancer_arn": "${lb.arn}", "port": 80,
                "default_action": [{"type": "redirect", "redirect": {
                    "protocol": "HTTPS", "port": "443", "status_code": "HTTP_301"}}]}},
        }
        self.write_stack(res, name="elb-rlb")
        self.apply()
        old = self.lb_by_name("e2e-rlb")["LoadBalancerArn"]
        [listener] = self.listeners(old)
        rd = listener["DefaultActions"][0]["RedirectConfig"]
        self.assertEqual((rd["Protocol"], rd["Port"], rd["StatusCode"], rd["Path"]),
                         ("HTTPS", "443", "HTTP_301", "/#{path}"))
        self.assert_noop()
        res["lb"]["properties"]["name"] = "e2e-rlb2"
        self.write_stack(res, name="elb-rlb")
        p = self.plan()
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("-/+ lb (aws_lb)", p.stdout)
        self.assertIn("-/+ l (aws_lb_listener)", p.stdout)
        self.apply()
        self.assertTrue(gone(elb.describe_load_balancers, LoadBalancerArns=[old]))
        new = self.lb_by_name("e2e-rlb2")["LoadBalancerArn"]
        self.assertEqual(len(self.listeners(new)), 1)
        self.assert_noop()
        self.cairn("destroy", "--auto-approve", *self.vars(), check=0)
        self.assertTrue(gone(elb.describe_load_balancers, Names=["e2e-rlb2"]))
        self.assertTrue(gone(elb.describe_target_groups, Names=["e2e-rlb-tg"]))

    def referenced_tg_stack(self, port, cbd=False, tg_name="e2e-ref"):
        tg = {"type": "aws_lb_target_group", "properties": {
            "name": tg_name, "port": port, "vpc_id": "${var.vpc_id}"}}
        if cbd:
            tg["lifecycle"] = {"create_before_destroy": True}
        return {
            "lb": {"type": "aws_lb", "properties": {"name": "e2e-ref-lb",
                                                    "subnets": self.subnets[:2]}},
            "web_tg": tg,
            "http": {"type": "aws_lb_listener", "properties": {
                "load_balancer_arn": "${lb.arn}", "port": 80,
                "default_action": [{"type": "forward", "target_group_arn": "${web_tg.arn}"}]}},
        }

    def test_replace_referenced_target_group(self):
        """Changing the port of a named target group a listener forwards to
        completes in one apply and leaves the listener on the new group."""
        elb = self.elb
        self.write_stack(self.referenced_tg_stack(80), name="elb-ref")
        self.apply()
        lb_arn = self.lb_by_name("e2e-ref-lb")["LoadBalancerArn"]
        old_tg = self.tg_by_name("e2e-ref")["TargetGroupArn"]
        [old_listener] = self.listeners(lb_arn)
        self.assertEqual(old_listener["DefaultActions"][0]["TargetGroupArn"], old_tg)

        self.write_stack(self.referenced_tg_stack(8080), name="elb-ref")
        p = self.plan()
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("-/+ web_tg (aws_lb_target_group)", p.stdout)
        self.assertIn("-/+ http (aws_lb_listener)", p.stdout)
        self.assertIn("replaced because web_tg must be replaced", p.stdout)
        plan = json.loads(self.cairn("plan", "--json", *self.vars(), check=0).stdout)
        actions = {c["name"]: c for c in plan["changes"]}
        self.assertEqual(actions["web_tg"]["action"], "replace")
        self.assertIn("port", actions["web_tg"]["replace_because"])
        self.assertEqual(actions["http"]["action"], "replace")
        self.assertIn("web_tg is replaced", actions["http"]["replace_because"])
        self.assertEqual(actions["lb"]["action"], "noop")

        self.apply()
        new_tg = self.tg_by_name("e2e-ref")
        self.assertNotEqual(new_tg["TargetGroupArn"], old_tg)
        self.assertEqual(new_tg["Port"], 8080)
        self.assertTrue(gone(elb.describe_target_groups, TargetGroupArns=[old_tg]))
        [listener] = self.listeners(lb_arn)
        self.assertEqual(listener["DefaultActions"][0]["TargetGroupArn"],
                         new_tg["TargetGroupArn"])
        self.assertEqual(self.lb_by_name("e2e-ref-lb")["LoadBalancerArn"], lb_arn)
        self.assertEqual(self.state_ids()["web_tg"], new_tg["TargetGroupArn"])
        self.assert_noop()
        self.cairn("destroy", "--auto-approve", *self.vars(), check=0)
        self.assertTrue(gone(elb.describe_target_groups, Names=["e2e-ref"]))
        self.assertTrue(gone(elb.describe_load_balancers, Names=["e2e-ref-lb"]))

    def test_replace_referenced_target_group_create_before_destroy(self):
        """With create_before_destroy (and a new name, as AWS wants unique
        names) the listener is repointed in place before the old group goes."""
        elb = self.elb
        self.write_stack(self.referenced_tg_stack(80, cbd=True, tg_name="e2e-cbd"),
                         name="elb-cbd")
        self.apply()
        lb_arn = self.lb_by_name("e2e-ref-lb")["LoadBalancerArn"]
        old_tg = self.tg_by_name("e2e-cbd")["TargetGroupArn"]
        [old_listener] = self.listeners(lb_arn)

        self.write_stack(self.referenced_tg_stack(8080, cbd=True, tg_name="e2e-cbd-2"),
                         name="elb-cbd")
        plan = json.loads(self.cairn("plan", "--json", *self.vars(), check=0).stdout)
        actions = {c["name"]: c["action"] for c in plan["changes"]}
        self.assertEqual((actions["web_tg"], actions["http"]), ("replace", "update"))
        self.apply()
        new_tg = self.tg_by_name("e2e-cbd-2")
        self.assertEqual(new_tg["Port"], 8080)
        self.assertTrue(gone(elb.describe_target_groups, TargetGroupArns=[old_tg]))
        [listener] = self.listeners(lb_arn)
        self.assertEqual(listener["ListenerArn"], old_listener["ListenerArn"])
        self.assertEqual(listener["DefaultActions"][0]["TargetGroupArn"],
                         new_tg["TargetGroupArn"])
        self.assert_noop()
        self.cairn("destroy", "--auto-approve", *self.vars(), check=0)
        self.assertTrue(gone(elb.describe_load_balancers, Names=["e2e-ref-lb"]))

    def test_aws_errors_name_the_resource(self):
        """An AWS refusal surfaces with the resource, operation and AWS code."""
        self.write_stack({"bad_tg": {"type": "aws_lb_target_group", "properties": {
            "name": "e2e-bad", "port": 80, "vpc_id": "vpc-00000000000000000"}}},
            name="elb-bad")
        p = self.cairn("apply", "--auto-approve", *self.vars())
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("CreateTargetGroup on bad_tg", p.stderr)
        self.assertIn("ValidationError", p.stderr)

    def test_deleted_outside_is_recreated(self):
        """One of several target groups deleted outside cairn: the batched
        read (which AWS fails as a whole) falls back to single reads, the
        plan re-creates only that one, apply makes it again."""
        res = {n: {"type": "aws_lb_target_group", "properties": {
            "name": "e2e-gone-%s" % n, "port": 80, "vpc_id": "${var.vpc_id}"}}
            for n in ("a", "b", "c")}
        self.write_stack(res, name="elb-gone")
        self.apply()
        ids = self.state_ids()
        self.elb.delete_target_group(TargetGroupArn=ids["b"])
        p = self.cairn("plan", "--json", check=0)
        changes = {c["name"]: c["action"] for c in json.loads(p.stdout)["changes"]}
        self.assertEqual(changes, {"a": "noop", "b": "create", "c": "noop"})
        self.apply()
        new = self.state_ids()
        self.assertEqual((new["a"], new["c"]), (ids["a"], ids["c"]))
        self.assertNotEqual(new["b"], ids["b"])
        self.assertEqual(self.tg_by_name("e2e-gone-b")["TargetGroupArn"], new["b"])
        self.assert_noop()
        self.cairn("destroy", "--auto-approve", check=0)
        for n in ("a", "b", "c"):
            self.assertTrue(gone(self.elb.describe_target_groups, Names=["e2e-gone-" + n]))

    def owned_elbv2(self, stack):
        """resource name -> ARNs moto holds tagged for stack (all four types)."""
        elb, found = self.elb, {}
        arns = []
        for lb in elb.describe_load_balancers()["LoadBalancers"]:
            arns.append(lb["LoadBalancerArn"])
            for l in self.listeners(lb["LoadBalancerArn"]):
                arns.append(l["ListenerArn"])
                arns += [r["RuleArn"] for r in self.rules(l["ListenerArn"])]
        arns += [t["TargetGroupArn"] for t in elb.describe_target_groups()["TargetGroups"]]
        for i in range(0, len(arns), 20):
            for d in elb.describe_tags(ResourceArns=arns[i:i + 20])["TagDescriptions"]:
                t = {x["Key"]: x["Value"] for x in d["Tags"]}
                if t.get("cairn:stack") == stack:
                    found.setdefault(t["cairn:resource"], []).append(d["ResourceArn"])
        return found

    def test_sigkill_then_apply_adopts(self):
        """Killed at random moments (SIGKILL), the next apply finds what was
        made through the ownership tags (listener, rule) or the unique name
        (load balancer, target group): one of each, recorded, no-op plan."""
        rng = random.Random(4242)
        px = FaultProxy(self.moto.url, latency_ms=60).start()
        self.addCleanup(px.stop)
        env = dict(self.env, AWS_ENDPOINT_URL=px.url)
        for trial in range(3):
            stack = "elb-kill%d" % trial
            env["CAIRN_STATE"] = self.env["CAIRN_STATE"] = os.path.join(self.dir, stack + ".db")
            res = self.full_stack(lb_name="e2e-kill%d" % trial)
            for name in ("web_tg", "api_tg"):
                res[name]["properties"]["name"] += "-k%d" % trial
            del res["api_rule"]["properties"]["priority"]   # chosen by cairn
            self.write_stack(res, name=stack)
            for _ in range(2):
                p = subprocess.Popen([harness.CAIRN, "apply", "--auto-approve"], cwd=self.dir,
                                     env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
                time.sleep(rng.uniform(0.2, 3.0))
                p.send_signal(signal.SIGKILL)
                p.wait(timeout=60)
            px.set(latency_ms=0)
            self.apply()
            ids = self.state_ids()
            owned = self.owned_elbv2(stack)
            self.assertEqual(sorted(ids), sorted(res), "trial %d" % trial)
            self.assertEqual(sorted(owned), sorted(res), "trial %d: %r" % (trial, owned))
            for name, arns in owned.items():
                self.assertEqual(arns, [ids[name]], "trial %d: %s" % (trial, name))
            self.assert_noop()
            self.cairn("destroy", "--auto-approve", check=0)
            self.assertEqual(self.owned_elbv2(stack), {})
            px.set(latency_ms=60)


if __name__ == "__main__":
    import unittest
    unittest.main()
