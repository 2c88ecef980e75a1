"""aws_lb_listener over HTTPS with an aws_acm_certificate of the same stack,
and the default actions besides a plain forward: weighted forward between
two target groups (a blue/green shift is a plain update), redirect and
fixed-response. Checked with boto3; no-op plans after each apply; drift of
the weights shown and reverted; import by listener ARN."""
import json
import unittest

import test_elbv2


class ListenerHttps(test_elbv2.Elbv2Test):
    """Reuses Elbv2Test's VPC, subnets and helpers; load_tests below keeps
    its inherited tests from running a second time here."""

    def stack(self, https_action, cert=True, policy=None):
        res = {
            "alb": {"type": "aws_lb", "properties": {
                "name": "e2e-tls", "subnets": self.subnets[:2],
                "security_groups": self.sgs[:1]}},
            "blue": {"type": "aws_lb_target_group", "properties": {
                "name": "e2e-blue", "port": 80, "vpc_id": "${var.vpc_id}"}},
            "green": {"type": "aws_lb_target_group", "properties": {
                "name": "e2e-green", "port": 80, "vpc_id": "${var.vpc_id}"}},
            "cert": {"type": "aws_acm_certificate", "properties": {
                "domain_name": "app.e2e-tls.example", "validation_method": "DNS"}},
            "http": {"type": "aws_lb_listener", "properties": {
                "load_balancer_arn": "${alb.arn}", "port": 80,
                "default_action": [{"type": "redirect", "redirect": {
                    "protocol": "HTTPS", "port": "443", "status_code": "HTTP_301"}}]}},
            "https": {"type": "aws_lb_listener", "properties": {
                "load_balancer_arn": "${alb.arn}", "port": 443, "protocol": "HTTPS",
                "certificate_arn": "${cert.arn}",
                "default_action": https_action}},
        }
        if policy:
            res["https"]["properties"]["ssl_policy"] = policy
        self.write_stack(res, name="tls")

    def weighted(self, blue, green):
        return [{"type": "forward", "forward": {"target_group": [
            {"arn": "${blue.arn}", "weight": blue}, {"arn": "${green.arn}", "weight": green}]}}]

    def listener(self, port):
        lb = self.lb_by_name("e2e-tls")
        return [l for l in self.listeners(lb["LoadBalancerArn"]) if l["Port"] == port][0]

    def weights(self, l):
        groups = l["DefaultActions"][0]["ForwardConfig"]["TargetGroups"]
        names = {self.tg_by_name(n)["TargetGroupArn"]: n for n in ("e2e-blue", "e2e-green")}
        return {names[g["TargetGroupArn"]]: g["Weight"] for g in groups}

    def test_https_weighted_forward(self):
        self.stack(self.weighted(100, 0), policy="ELBSecurityPolicy-TLS13-1-2-2021-06")
        self.apply()
        cert = self.state_ids()["cert"]
        l = self.listener(443)
        self.assertEqual(l["Protocol"], "HTTPS")
        self.assertEqual(l["Certificates"][0]["CertificateArn"], cert)
        self.assertEqual(l["SslPolicy"], "ELBSecurityPolicy-TLS13-1-2-2021-06")
        self.assertEqual(self.weights(l), {"e2e-blue": 100, "e2e-green": 0})
        r = self.listener(80)["DefaultActions"][0]
        self.assertEqual((r["Type"], r["RedirectConfig"]["Protocol"],
                          r["RedirectConfig"]["StatusCode"]), ("redirect", "HTTPS", "HTTP_301"))
        self.assert_noop()

        # the blue/green shift: a plain update of the weights, same listener
        arn = l["ListenerArn"]
        self.stack(self.weighted(20, 80), policy="ELBSecurityPolicy-TLS13-1-2-2021-06")
        p = self.plan()
        self.assertEqual(p.returncode, 2)
        self.assertNotIn("forces replacement", p.stdout)
        self.apply()
        l = self.listener(443)
        self.assertEqual(l["ListenerArn"], arn)
        self.assertEqual(self.weights(l), {"e2e-blue": 20, "e2e-green": 80})
        self.assert_noop()

        # drift: weights moved outside cairn
        tgs = [self.tg_by_name(n)["TargetGroupArn"] for n in ("e2e-blue", "e2e-green")]
        self.elb.modify_listener(ListenerArn=arn, DefaultActions=[{
            "Type": "forward", "ForwardConfig": {"TargetGroups": [
                {"TargetGroupArn": tgs[0], "Weight": 50},
                {"TargetGroupArn": tgs[1], "Weight": 50}]}}])
        p = self.plan()
        self.assertEqual(p.returncode, 2, p.stdout)
        self.assertIn("Changed outside cairn:", p.stdout)
        self.apply()
        self.assertEqual(self.weights(self.listener(443)), {"e2e-blue": 20, "e2e-green": 80})
        self.assert_noop()

        # import by listener ARN into a fresh state: reads back as applied
        other = self.dir + "/other.db"
        self.cairn("--state", other, "import", "https", arn, check=0)
        shown = self.cairn("--state", other, "state", "show", "https", "--json", check=0).stdout
        self.assertIn(cert, shown)
        self.assertIn('"weight": 80', json.dumps(json.loads(shown)))

        # fixed-response and back to a plain forward, in place
        self.stack([{"type": "fixed-response", "fixed_response": {
            "content_type": "text/plain", "message_body": "down", "status_code": "503"}}])
        self.apply()
        l = self.listener(443)
        self.assertEqual(l["ListenerArn"], arn)
        self.assertEqual(l["DefaultActions"][0]["FixedResponseConfig"]["StatusCode"], "503")
        self.assert_noop()
        self.stack([{"type": "forward", "target_group_arn": "${green.arn}"}])
        self.apply()
        self.assertEqual(self.listener(443)["DefaultActions"][0]["TargetGroupArn"], tgs[1])
        self.assert_noop()
        self.cairn("destroy", "--auto-approve", *self.vars(), check=0)
        self.assertEqual(self.state_ids(), {})


def load_tests(loader, tests, pattern):
    return unittest.TestSuite(ListenerHttps(n) for n in loader.getTestCaseNames(ListenerHttps)
                              if n not in loader.getTestCaseNames(test_elbv2.Elbv2Test))
