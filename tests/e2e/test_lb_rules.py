"""aws_lb_listener_rule conditions besides path_pattern / host_header
(http_header, http_request_method, query_string, source_ip), weighted
forward in listener rules (a blue/green shift is a plain ModifyRule), and
aws_lb access_logs. Checked with boto3: create, no-op plans, updates in
place (same ARNs), drift made with boto3 shown and reverted, import of every
resource into a fresh state with a no-op plan, destroy. The requests cairn
sends for them are also validated against botocore's model (test_wire's
recorder and checker)."""
import json
import os
import unittest

import test_elbv2
import test_wire
from test_elbv2 import gone, lb_attributes


class LbRules(test_elbv2.Elbv2Test):
    """Reuses Elbv2Test's VPC, subnets and helpers; load_tests below keeps
    its inherited tests from running a second time here."""

    def weighted(self, blue, green, stickiness=None):
        fw = {"target_group": [{"arn": "${blue.arn}", "weight": blue},
                               {"arn": "${green.arn}", "weight": green}]}
        if stickiness:
            fw["stickiness"] = stickiness
        return [{"type": "forward", "forward": fw}]

    def rules_stack(self, weights=(90, 10), header=("canary",), query="v2",
                    methods=("POST", "PUT"), cidrs=("10.0.0.0/8", "192.168.1.0/24")):
        res = {
            "alb": {"type": "aws_lb", "properties": {
                "name": "e2e-rules", "subnets": self.subnets[:2],
                "security_groups": self.sgs[:1]}},
            "blue": {"type": "aws_lb_target_group", "properties": {
                "name": "e2e-rblue", "port": 80, "vpc_id": "${var.vpc_id}"}},
            "green": {"type": "aws_lb_target_group", "properties": {
                "name": "e2e-rgreen", "port": 80, "vpc_id": "${var.vpc_id}"}},
            "http": {"type": "aws_lb_listener", "properties": {
                "load_balancer_arn": "${alb.arn}", "port": 80,
                "default_action": [{"type": "fixed-response", "fixed_response": {
                    "content_type": "text/plain", "status_code": "404"}}]}},
            "canary": {"type": "aws_lb_listener_rule", "properties": {
                "listener_arn": "${http.arn}", "priority": 10,
                "condition": [{"http_header": {"http_header_name": "X-Canary",
                                               "values": list(header)}}],
                "action": self.weighted(*weights, stickiness={"enabled": True,
                                                              "duration": 600})}},
            "writes": {"type": "aws_lb_listener_rule", "properties": {
                "listener_arn": "${http.arn}", "priority": 20,
                "condition": [{"http_request_method": {"values": list(methods)}},
                              {"path_pattern": {"values": ["/api/*"]}}],
                "action": [{"type": "forward", "target_group_arn": "${blue.arn}"}]}},
            "beta": {"type": "aws_lb_listener_rule", "properties": {
                "listener_arn": "${http.arn}", "priority": 30,
                "condition": [{"query_string": [{"key": "version", "value": query},
                                                {"value": "beta"}]}],
                "action": [{"type": "forward", "target_group_arn": "${green.arn}"}]}},
            "office": {"type": "aws_lb_listener_rule", "properties": {
                "listener_arn": "${http.arn}", "priority": 40,
                "condition": [{"source_ip": {"values": list(cidrs)}}],
                "action": [{"type": "fixed-response", "fixed_response": {
                    "content_type": "text/plain", "message_body": "office",
                    "status_code": "403"}}]}},
        }
        self.write_stack(res, name="rules")

    def by_priority(self):
        lb = self.lb_by_name("e2e-rules")
        [l] = self.listeners(lb["LoadBalancerArn"])
        return {int(r["Priority"]): r for r in self.rules(l["ListenerArn"])}

    def tg_names(self):
        return {self.tg_by_name(n)["TargetGroupArn"]: n for n in ("e2e-rblue", "e2e-rgreen")}

    def weights(self, rule):
        fc = rule["Actions"][0]["ForwardConfig"]
        names = self.tg_names()
        return ({names[g["TargetGroupArn"]]: g["Weight"] for g in fc["TargetGroups"]},
                fc.get("TargetGroupStickinessConfig"))

    def drift_of(self, p):
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("Changed outside cairn:", p.stdout)
        return p.stdout.split("Changed outside cairn:")[1]

    def test_conditions_and_weighted_rule(self):
        self.rules_stack()
        self.apply()
        rules = self.by_priority()
        self.assertEqual(sorted(rules), [10, 20, 30, 40])
        ids = self.state_ids()
        self.assertEqual({ids[n] for n in ("canary", "writes", "beta", "office")},
                         {r["RuleArn"] for r in rules.values()})
        c = rules[10]["Conditions"]
        self.assertEqual([x["Field"] for x in c], ["http-header"])
        self.assertEqual(c[0]["HttpHeaderConfig"]["HttpHeaderName"], "X-Canary")
        self.assertEqual(c[0]["HttpHeaderConfig"]["Values"], ["canary"])
        self.assertEqual(self.weights(rules[10]),
                         ({"e2e-rblue": 90, "e2e-rgreen": 10},
                          {"Enabled": True, "DurationSeconds": 600}))
        c = {x["Field"]: x for x in rules[20]["Conditions"]}
        self.assertEqual(sorted(c), ["http-request-method", "path-pattern"])
        self.assertEqual(c["http-request-method"]["HttpRequestMethodConfig"]["Values"],
                         ["POST", "PUT"])
        [c] = rules[30]["Conditions"]
        self.assertEqual(c["Field"], "query-string")
        self.assertEqual(c["QueryStringConfig"]["Values"],
                         [{"Key": "version", "Value": "v2"}, {"Value": "beta"}])
        [c] = rules[40]["Conditions"]
        self.assertEqual((c["Field"], sorted(c["SourceIpConfig"]["Values"])),
                         ("source-ip", ["10.0.0.0/8", "192.168.1.0/24"]))
        self.assertEqual(rules[40]["Actions"][0]["FixedResponseConfig"]["StatusCode"], "403")
        self.assert_noop()
        shown = json.loads(self.cairn("state", "show", "beta", "--json", check=0).stdout)
        self.assertIn('"key": "version"', json.dumps(shown))

        # the blue/green shift and new condition values: updates in place
        self.rules_stack(weights=(20, 80), header=("canary", "beta"), query="v3",
                         methods=("POST",), cidrs=("10.0.0.0/8",))
        p = self.plan()
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertNotIn("must be replaced", p.stdout)
        self.assertIn("4 to change", p.stdout)
        self.apply()
        after = self.by_priority()
        self.assertEqual({k: r["RuleArn"] for k, r in after.items()},
                         {k: r["RuleArn"] for k, r in rules.items()})
        self.assertEqual(self.weights(after[10])[0], {"e2e-rblue": 20, "e2e-rgreen": 80})
        self.assertEqual(sorted(after[10]["Conditions"][0]["HttpHeaderConfig"]["Values"]),
                         ["beta", "canary"])
        self.assertIn({"Key": "version", "Value": "v3"},
                      after[30]["Conditions"][0]["QueryStringConfig"]["Values"])
        self.assertEqual(after[40]["Conditions"][0]["SourceIpConfig"]["Values"], ["10.0.0.0/8"])
        self.assert_noop()

        # drift: weights and header moved, a source range added, outside cairn
        tgs = {n: a for a, n in self.tg_names().items()}
        self.elb.modify_rule(RuleArn=rules[10]["RuleArn"], Conditions=[{
            "Field": "http-header", "HttpHeaderConfig": {
                "HttpHeaderName": "X-Other", "Values": ["canary", "beta"]}}], Actions=[{
            "Type": "forward", "ForwardConfig": {"TargetGroups": [
                {"TargetGroupArn": tgs["e2e-rblue"], "Weight": 0},
                {"TargetGroupArn": tgs["e2e-rgreen"], "Weight": 100}],
                "TargetGroupStickinessConfig": {"Enabled": True, "DurationSeconds": 600}}}])
        self.elb.modify_rule(RuleArn=rules[40]["RuleArn"], Conditions=[{
            "Field": "source-ip", "SourceIpConfig": {"Values": ["10.0.0.0/8", "172.16.0.0/12"]}}])
        drift = self.drift_of(self.plan())
        for word in ("X-Other", "172.16.0.0/12", "canary", "office"):
            self.assertIn(word, drift)
        self.apply()
        after = self.by_priority()
        self.assertEqual(after[10]["Conditions"][0]["HttpHeaderConfig"]["HttpHeaderName"],
                         "X-Canary")
        self.assertEqual(self.weights(after[10])[0], {"e2e-rblue": 20, "e2e-rgreen": 80})
        self.assertEqual(after[40]["Conditions"][0]["SourceIpConfig"]["Values"], ["10.0.0.0/8"])
        self.assert_noop()

        # import every resource into a fresh state: the plan is a no-op
        other = os.path.join(self.dir, "imported.db")
        cur = self.state_ids()
        for name in sorted(cur):
            self.cairn("--state", other, "import", name, cur[name], *self.vars(), check=0)
        self.assertEqual(self.state_ids("--state", other), cur)
        self.assert_noop("--state", other)

        # back to a single target group, in place
        self.rules_stack(weights=(20, 80), header=("canary", "beta"), query="v3",
                         methods=("POST",), cidrs=("10.0.0.0/8",))
        doc = json.load(open(os.path.join(self.dir, "stack.json")))
        doc["resources"]["canary"]["properties"]["action"] = [
            {"type": "forward", "target_group_arn": "${green.arn}"}]
        self.write("stack.json", json.dumps(doc))
        self.apply()
        after = self.by_priority()
        self.assertEqual(after[10]["RuleArn"], rules[10]["RuleArn"])
        self.assertEqual(forward_target(after[10]), tgs["e2e-rgreen"])
        self.assert_noop()

        self.cairn("destroy", "--auto-approve", *self.vars(), check=0)
        self.assertTrue(gone(self.elb.describe_load_balancers, Names=["e2e-rules"]))
        self.assertTrue(gone(self.elb.describe_rules, RuleArns=[rules[10]["RuleArn"]]))
        self.assertEqual(self.state_ids(), {})

    def test_condition_needs_exactly_one_kind(self):
        self.rules_stack()
        doc = json.load(open(os.path.join(self.dir, "stack.json")))
        # lower-case methods are refused offline (AWS takes A-Z, '-', '_')
        doc["resources"]["office"]["properties"]["condition"] = [
            {"http_request_method": {"values": ["get"]}}]
        self.write("stack.json", json.dumps(doc))
        p = self.cairn("validate", *self.vars())
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("invalid value \"get\"", p.stderr)
        doc["resources"]["office"]["properties"]["condition"] = [
            {"source_ip": {"values": ["10.0.0.0/8"]},
             "http_request_method": {"values": ["GET"]}}]
        self.write("stack.json", json.dumps(doc))
        p = self.cairn("apply", "--auto-approve", *self.vars())
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("condition 1 must set exactly one of", p.stderr)
        self.assertEqual(len(self.by_priority()), 3)
        self.assertNotIn("office", self.state_ids())
        self.rules_stack()
        self.cairn("destroy", "--auto-approve", *self.vars(), check=0)
        self.assertEqual(self.state_ids(), {})

    def logs_stack(self, logs, bucket="e2e-alb-logs"):
        res = {
            "logs": {"type": "aws_s3_bucket", "properties": {"bucket": bucket}},
            "alb": {"type": "aws_lb", "properties": {
                "name": "e2e-logs", "subnets": self.subnets[:2],
                "security_groups": self.sgs[:1]}},
        }
        if logs is not None:
            res["alb"]["properties"]["access_logs"] = logs
        self.write_stack(res, name="logs")

    def logs_attrs(self):
        a = lb_attributes(self.elb, self.lb_by_name("e2e-logs")["LoadBalancerArn"])
        return (a.get("access_logs.s3.enabled", "false"), a.get("access_logs.s3.bucket"),
                a.get("access_logs.s3.prefix"))

    def test_access_logs(self):
        self.logs_stack({"bucket": "${logs.bucket}", "prefix": "alb", "enabled": True})
        self.apply()
        arn = self.lb_by_name("e2e-logs")["LoadBalancerArn"]
        self.assertEqual(self.logs_attrs(), ("true", "e2e-alb-logs", "alb"))
        self.assert_noop()

        # a new prefix: in place
        self.logs_stack({"bucket": "${logs.bucket}", "prefix": "alb2", "enabled": True})
        p = self.plan()
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertNotIn("must be replaced", p.stdout)
        self.assertIn("alb2", p.stdout)
        self.apply()
        self.assertEqual(self.lb_by_name("e2e-logs")["LoadBalancerArn"], arn)
        self.assertEqual(self.logs_attrs(), ("true", "e2e-alb-logs", "alb2"))
        self.assert_noop()

        # drift: prefix changed, then logging turned off, outside cairn
        self.elb.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[
            {"Key": "access_logs.s3.prefix", "Value": "moved"}])
        self.assertIn("moved", self.drift_of(self.plan()))
        self.apply()
        self.assertEqual(self.logs_attrs(), ("true", "e2e-alb-logs", "alb2"))
        self.elb.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[
            {"Key": "access_logs.s3.enabled", "Value": "false"}])
        self.assertIn("enabled", self.drift_of(self.plan()))
        self.apply()
        self.assertEqual(self.logs_attrs()[0], "true")
        self.assert_noop()

        # import into a fresh state: a no-op plan
        other = os.path.join(self.dir, "imported.db")
        cur = self.state_ids()
        for name in sorted(cur):
            self.cairn("--state", other, "import", name, cur[name], *self.vars(), check=0)
        self.assert_noop("--state", other)

        # disabled (bucket kept in the stack, as Terraform allows), then removed
        self.logs_stack({"bucket": "${logs.bucket}", "prefix": "alb2", "enabled": False})
        self.apply()
        self.assertEqual(self.logs_attrs()[0], "false")
        self.assert_noop()
        self.logs_stack({"bucket": "${logs.bucket}", "prefix": "alb2", "enabled": True})
        self.apply()
        self.assertEqual(self.logs_attrs()[0], "true")
        self.logs_stack(None)
        p = self.plan()
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.apply()
        self.assertEqual(self.logs_attrs()[0], "false")
        self.assertEqual(self.lb_by_name("e2e-logs")["LoadBalancerArn"], arn)
        self.assert_noop()
        # logging turned on outside cairn for a stack without the block is drift
        self.elb.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[
            {"Key": "access_logs.s3.enabled", "Value": "true"}])
        self.assertIn("access_logs", self.drift_of(self.plan()))
        self.apply()
        self.assertEqual(self.logs_attrs()[0], "false")

        self.cairn("destroy", "--auto-approve", *self.vars(), check=0)
        self.assertTrue(gone(self.elb.describe_load_balancers, Names=["e2e-logs"]))
        self.assertEqual(self.state_ids(), {})

    def test_wire(self):
        """Every ELBv2 request of these features, as AWS's model takes it."""
        rec = test_wire.Recorder(self.moto.url)
        self.addCleanup(rec.stop)
        self.env = dict(self.env, AWS_ENDPOINT_URL=rec.url)
        self.rules_stack()
        doc = json.load(open(os.path.join(self.dir, "stack.json")))
        doc["resources"]["alb"]["properties"]["access_logs"] = {
            "bucket": "e2e-wire-logs", "prefix": "p", "enabled": True}
        self.write("stack.json", json.dumps(doc))
        self.apply()
        self.rules_stack(weights=(0, 100), header=("x",), query="v9")
        doc = json.load(open(os.path.join(self.dir, "stack.json")))
        doc["resources"]["alb"]["properties"]["access_logs"] = {
            "bucket": "e2e-wire-logs", "enabled": False}
        self.write("stack.json", json.dumps(doc))
        self.apply()
        self.cairn("destroy", "--auto-approve", *self.vars(), check=0)
        seen, bad, forms = set(), [], []
        for headers, body in rec.requests:
            op, problems = test_wire.check_request(headers, body)
            seen.add(op)
            if problems:
                bad.append("%s: %s" % (op, "; ".join(problems)))
            if op in ("CreateRule", "ModifyRule", "ModifyLoadBalancerAttributes"):
                forms.append(body.decode())
        self.maxDiff = None
        self.assertEqual(bad, [])
        for op in ("CreateRule", "ModifyRule", "DescribeRules",
                   "ModifyLoadBalancerAttributes", "DescribeLoadBalancerAttributes"):
            self.assertIn(op, seen)
        sent = "\n".join(forms)
        for part in ("Conditions.member.1.HttpHeaderConfig.HttpHeaderName=X-Canary",
                     "Conditions.member.1.QueryStringConfig.Values.member.1.Key=version",
                     "Conditions.member.1.SourceIpConfig.Values.member.1=10.0.0.0%2F8",
                     "Conditions.member.1.HttpRequestMethodConfig.Values.member.1=POST",
                     "Actions.member.1.ForwardConfig.TargetGroups.member.2.Weight=10",
                     "ForwardConfig.TargetGroupStickinessConfig.DurationSeconds=600",
                     "Attributes.member.4.Key=access_logs.s3.enabled",
                     "Value=e2e-wire-logs"):
            self.assertIn(part, sent)


def forward_target(rule):
    """The one target group a forward action sends to."""
    a = rule["Actions"][0]
    if "TargetGroupArn" in a:
        return a["TargetGroupArn"]
    [g] = a["ForwardConfig"]["TargetGroups"]
    return g["TargetGroupArn"]


def load_tests(loader, tests, pattern):
    return unittest.TestSuite(LbRules(n) for n in loader.getTestCaseNames(LbRules)
                              if n not in loader.getTestCaseNames(test_elbv2.Elbv2Test))
