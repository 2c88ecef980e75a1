"""End-to-end: replacements that AWS's unique names constrain, and lists AWS
treats as sets, against moto, verified with boto3.

A create_before_destroy replacement that keeps a unique name (schema flag
"unique") cannot create the new object first: the plan falls back to
deleting first, with the resources referring to it replaced in cascade, and
one apply completes. An "unordered" list written in another order than
AWS's is no change.
"""
import json

import harness


def gone(fn, **kw):
    """True if the describe call says the thing does not exist."""
    try:
        fn(**kw)
    except Exception as e:  # botocore ClientError: *NotFound
        return "NotFound" in str(e)
    return False


class ReplaceTest(harness.CairnTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ec2 = cls.moto.client("ec2")
        cls.vpc = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
        cls.subnets = [
            ec2.create_subnet(VpcId=cls.vpc, CidrBlock="10.30.%d.0/24" % i,
                              AvailabilityZone="us-east-1" + az)["Subnet"]["SubnetId"]
            for i, az in ((1, "a"), (2, "b"))]
        cls.sgs = [ec2.create_security_group(GroupName="e2e-rep-%d" % i, Description="e2e",
                                             VpcId=cls.vpc)["GroupId"] for i in (1, 2)]

    def setUp(self):
        super().setUp()
        self.elb = self.boto("elbv2")
        self.ec2 = self.boto("ec2")

    def write_stack(self, name, resources):
        doc = {"stack": name, "region": harness.REGION, "resources": resources}
        self.write("stack.json", json.dumps(doc, indent=2))

    def apply(self):
        p = self.cairn("apply", "--auto-approve", check=0)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return p

    def assert_noop(self):
        p = self.cairn("plan", "--detailed-exitcode", check=0)
        self.assertEqual(p.returncode, 0, "plan is not a no-op:\n" + p.stdout + p.stderr)

    def plan_json(self):
        p = self.cairn("plan", "--json", check=0)
        self.assertEqual(p.returncode, 0, p.stderr)
        return {c["name"]: c for c in json.loads(p.stdout)["changes"]}

    def lb_stack(self, tg_port, subnets=None, sgs=None):
        return {
            "lb": {"type": "aws_lb", "properties": {
                "name": "e2e-rep-lb", "subnets": subnets or self.subnets,
                "security_groups": sgs or self.sgs}},
            "web_tg": {"type": "aws_lb_target_group",
                       "lifecycle": {"create_before_destroy": True},
                       "properties": {"name": "e2e-keep", "port": tg_port,
                                      "vpc_id": self.vpc}},
            "http": {"type": "aws_lb_listener", "properties": {
                "load_balancer_arn": "${lb.arn}", "port": 80,
                "default_action": [{"type": "forward", "target_group_arn": "${web_tg.arn}"}]}},
        }

    def test_create_before_destroy_with_kept_name_deletes_first(self):
        """A port change of a create_before_destroy target group that keeps
        its name: deleted first (the listener replaced with it), one apply."""
        self.write_stack("rep-tg", self.lb_stack(80))
        self.apply()
        lb_arn = self.elb.describe_load_balancers(Names=["e2e-rep-lb"])[
            "LoadBalancers"][0]["LoadBalancerArn"]
        old_tg = self.elb.describe_target_groups(Names=["e2e-keep"])[
            "TargetGroups"][0]["TargetGroupArn"]

        self.write_stack("rep-tg", self.lb_stack(8080))
        p = self.cairn("plan", check=0)
        self.assertIn("-/+ web_tg (aws_lb_target_group)", p.stdout)
        self.assertIn('# create_before_destroy not possible: name "e2e-keep" must stay '
                      'unique; deleting first', p.stdout)
        self.assertIn("-/+ http (aws_lb_listener)", p.stdout)
        changes = self.plan_json()
        self.assertEqual(changes["web_tg"]["action"], "replace")
        self.assertEqual(changes["http"]["action"], "replace")
        self.assertIn("web_tg is replaced", changes["http"]["replace_because"])
        self.assertEqual(changes["lb"]["action"], "noop")

        p = self.apply()
        self.assertIn("Apply complete!", p.stdout)
        [tg] = self.elb.describe_target_groups(Names=["e2e-keep"])["TargetGroups"]
        self.assertNotEqual(tg["TargetGroupArn"], old_tg)
        self.assertEqual(tg["Port"], 8080)
        self.assertTrue(gone(self.elb.describe_target_groups, TargetGroupArns=[old_tg]))
        [listener] = self.elb.describe_listeners(LoadBalancerArn=lb_arn)["Listeners"]
        self.assertEqual(listener["DefaultActions"][0]["TargetGroupArn"], tg["TargetGroupArn"])
        self.assert_noop()

        # subnets and security groups are sets: AWS's order or ours is no change
        self.write_stack("rep-tg", self.lb_stack(8080, subnets=self.subnets[::-1],
                                                 sgs=self.sgs[::-1]))
        self.assert_noop()
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertTrue(gone(self.elb.describe_load_balancers, Names=["e2e-rep-lb"]))
        self.assertTrue(gone(self.elb.describe_target_groups, Names=["e2e-keep"]))

    def test_security_group_default_name_deletes_first(self):
        """A security group whose name is left out gets STACK-RESOURCE again
        on replacement, so create_before_destroy falls back to delete first."""
        def stack(desc):
            return {"sg": {"type": "aws_security_group",
                           "lifecycle": {"create_before_destroy": True},
                           "properties": {"vpc_id": self.vpc, "description": desc,
                                          "ingress": [{"from_port": 443, "to_port": 443,
                                                       "protocol": "tcp",
                                                       "cidr_blocks": ["10.0.0.0/8",
                                                                       "192.168.0.0/16"]}]}}}

        def group():
            return self.ec2.describe_security_groups(Filters=[
                {"Name": "group-name", "Values": ["rep-sg-sg"]},
                {"Name": "vpc-id", "Values": [self.vpc]}])["SecurityGroups"]

        self.write_stack("rep-sg", stack("first"))
        self.apply()
        [old] = group()
        self.write_stack("rep-sg", stack("second"))
        changes = self.plan_json()
        self.assertEqual(changes["sg"]["action"], "replace")
        p = self.cairn("plan", check=0)
        self.assertIn('create_before_destroy not possible: name "rep-sg-sg" must stay unique',
                      p.stdout)
        self.apply()
        [new] = group()
        self.assertNotEqual(new["GroupId"], old["GroupId"])
        self.assertEqual(new["Description"], "second")
        self.assert_noop()
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertEqual(group(), [])
