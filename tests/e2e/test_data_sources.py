"""Data sources (SPEC §3.1) against moto: boto3 creates a tagged VPC with
subnets, an SSM SecureString and an IAM policy; a stack reads them through
`data:` and uses them in resources. plan -> apply -> no-op plan; `state list`
shows data.NAME; plans never list data sources as changes; `plan
--refresh=false` still reads them; `validate` reads nothing (it runs with no
credentials and no endpoint) but checks references to them."""
import json
import os
import unittest

from harness import CairnTestCase

SECRET = "data-s3cret-Passw0rd"

STACK = """\
stack: ds
region: us-east-1
data:
  vpc:
    type: aws_vpc
    properties:
      tags: {Name: ds-shared}
  subnets:
    type: aws_subnets
    properties:
      filter:
        - {name: vpc-id, values: ["${data.vpc.id}"]}
  secret:
    type: aws_ssm_parameter
    properties: {name: /ds/db/password}
  policy:
    type: aws_iam_policy
    properties: {name: ds-read}
  azs: {type: aws_availability_zones, properties: {state: available}}
  me: {type: aws_caller_identity}
  here: {type: aws_region}
  cert: {type: aws_acm_certificate, properties: {domain: ds.example.com, statuses: [PENDING_VALIDATION]}}
locals:
  first_az: ${data.azs.names[0]}
resources:
  sg:
    type: aws_security_group
    properties:
      name: ds-sg
      description: in ${data.vpc.cidr_block}
      vpc_id: ${data.vpc.id}
  info:
    type: aws_ssm_parameter
    properties:
      name: /ds/info
      type: String
      value: '${join(",", data.subnets.ids)} ${data.policy.arn} ${data.me.account_id} ${data.here.name} ${local.first_az}'
  secret_copy:
    type: aws_ssm_parameter
    properties: {name: /ds/copy, type: SecureString, value: "${data.secret.value}"}
  per_subnet:
    type: aws_ssm_parameter
    count: ${length(data.subnets.ids)}
    properties: {name: "/ds/subnet/${count.index}", type: String, value: "${data.subnets.ids[count.index]}"}
outputs:
  vpc_id: {value: "${data.vpc.id}"}
  cert_arn: {value: "${data.cert.arn}"}
"""

DATA_NAMES = ["data.azs", "data.cert", "data.here", "data.me", "data.policy", "data.secret",
              "data.subnets", "data.vpc"]


class DataSources(CairnTestCase):

    def setUp(self):
        super().setUp()
        ec2 = self.boto("ec2")
        self.vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
        self.addCleanup(self.cleanup)
        ec2.create_tags(Resources=[self.vpc], Tags=[{"Key": "Name", "Value": "ds-shared"}])
        self.subnets = sorted(
            ec2.create_subnet(VpcId=self.vpc, CidrBlock=c)["Subnet"]["SubnetId"]
            for c in ("10.42.1.0/24", "10.42.2.0/24"))
        self.boto("ssm").put_parameter(Name="/ds/db/password", Type="SecureString",
                                       Value=SECRET, Overwrite=True)
        iam = self.boto("iam")
        doc = {"Version": "2012-10-17",
               "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
        try:
            self.policy = iam.create_policy(PolicyName="ds-read",
                                            PolicyDocument=json.dumps(doc))["Policy"]["Arn"]
        except iam.exceptions.EntityAlreadyExistsException:
            self.policy = [p["Arn"] for p in iam.list_policies(Scope="Local")["Policies"]
                           if p["PolicyName"] == "ds-read"][0]
        self.account = self.boto("sts").get_caller_identity()["Account"]
        acm = self.boto("acm")
        self.cert = acm.request_certificate(DomainName="ds.example.com")["CertificateArn"]
        self.addCleanup(acm.delete_certificate, CertificateArn=self.cert)
        self.write("stack.yaml", STACK)

    def cleanup(self):
        self.cairn("destroy", "--auto-approve")
        ec2 = self.boto("ec2")
        for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [self.vpc]}])["Subnets"]:
            ec2.delete_subnet(SubnetId=s["SubnetId"])
        ec2.delete_vpc(VpcId=self.vpc)

    def state_list(self):
        out = self.cairn("state", "list", check=0).stdout
        return [line.split("\t") for line in out.splitlines()]

    def test_plan_apply_noop_and_state(self):
        p = self.cairn("plan", "--json", check=0)
        plan = json.loads(p.stdout)
        names = sorted(c["name"] for c in plan["changes"])
        self.assertEqual(names, ["info", "per_subnet", "per_subnet", "secret_copy", "sg"],
                         p.stdout)
        self.assertEqual(sorted(c["address"] for c in plan["changes"]
                                if c["name"] == "per_subnet"),
                         ["per_subnet[0]", "per_subnet[1]"])
        self.assertNotIn(SECRET, p.stdout)
        self.assertEqual(plan["outputs"]["vpc_id"]["value"], self.vpc)
        sg = [c for c in plan["changes"] if c["name"] == "sg"][0]
        self.assertEqual(sg["after"]["vpc_id"], self.vpc)
        self.assertEqual(sg["after"]["description"], "in 10.42.0.0/16")

        a = self.cairn("apply", "--auto-approve", check=0)
        self.assertNotIn(SECRET, a.stdout + a.stderr)
        # what AWS holds now, read with boto3
        ssm = self.boto("ssm")
        info = ssm.get_parameter(Name="/ds/info")["Parameter"]["Value"]
        zone = sorted(z["ZoneName"] for z in self.boto("ec2").describe_availability_zones(
            Filters=[{"Name": "state", "Values": ["available"]}])["AvailabilityZones"])[0]
        self.assertEqual(info, "%s %s %s us-east-1 %s" % (",".join(self.subnets), self.policy,
                                                          self.account, zone))
        # count from a data source: one parameter per subnet
        self.assertEqual([ssm.get_parameter(Name="/ds/subnet/%d" % i)["Parameter"]["Value"]
                          for i in range(2)], self.subnets)
        copy = ssm.get_parameter(Name="/ds/copy", WithDecryption=True)["Parameter"]["Value"]
        self.assertEqual(copy, SECRET)
        groups = self.boto("ec2").describe_security_groups(
            Filters=[{"Name": "group-name", "Values": ["ds-sg"]}])["SecurityGroups"]
        self.assertEqual([g["VpcId"] for g in groups], [self.vpc])

        rows = self.state_list()
        self.assertEqual([r[0] for r in rows], sorted([r[0] for r in rows]))
        data = {r[0]: r for r in rows if r[0].startswith("data.")}
        self.assertEqual(sorted(data), DATA_NAMES)
        self.assertEqual(data["data.vpc"][1:], ["aws_vpc", self.vpc])
        self.assertEqual(data["data.policy"][1:], ["aws_iam_policy", self.policy])
        self.assertEqual(data["data.me"][1:], ["aws_caller_identity", self.account])
        show = self.cairn("state", "show", "data.secret", check=0)
        self.assertNotIn(SECRET, show.stdout)
        outputs = json.loads(self.cairn("output", "--json", check=0).stdout)
        self.assertEqual(outputs["vpc_id"]["value"], self.vpc)
        self.assertEqual(outputs["cert_arn"]["value"], self.cert)

        # refresh keeps the outputs that use data sources (from the recorded reads)
        self.cairn("refresh", check=0)
        outputs = json.loads(self.cairn("output", "--json", check=0).stdout)
        self.assertEqual(outputs["vpc_id"]["value"], self.vpc)

        # no-op plan, with and without refresh; the serial does not move
        self.cairn("plan", "--detailed-exitcode", check=0)
        p = self.cairn("plan", "--refresh=false", "--json", "--detailed-exitcode", check=0)
        self.assertEqual({c["action"] for c in json.loads(p.stdout)["changes"]}, {"noop"})
        serial = json.loads(p.stdout)["serial"]
        self.cairn("apply", "--auto-approve", check=0)
        p = self.cairn("plan", "--json", check=0)
        self.assertEqual(json.loads(p.stdout)["serial"], serial)

        # a change outside cairn is read at the next plan, even without refresh
        self.boto("ec2").create_tags(Resources=[self.vpc],
                                     Tags=[{"Key": "Name", "Value": "ds-other"}])
        p = self.cairn("plan", "--refresh=false")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("data.vpc", p.stderr)
        self.assertIn("no VPC matches", p.stderr)
        self.boto("ec2").create_tags(Resources=[self.vpc],
                                     Tags=[{"Key": "Name", "Value": "ds-shared"}])

        # destroy forgets the data sources too
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertEqual(self.state_list(), [])

    def test_refresh_false_reads_data_sources(self):
        p = self.cairn("plan", "--refresh=false", "--json", check=0)
        sg = [c for c in json.loads(p.stdout)["changes"] if c["name"] == "sg"][0]
        self.assertEqual(sg["after"]["vpc_id"], self.vpc)

    def test_saved_plan_keeps_data_sealed(self):
        self.cairn("plan", "--out", "p.plan", check=0)
        with open(os.path.join(self.dir, "p.plan"), "rb") as f:
            self.assertNotIn(SECRET.encode(), f.read())
        self.cairn("apply", "--auto-approve", "p.plan", check=0)
        copy = self.boto("ssm").get_parameter(Name="/ds/copy",
                                              WithDecryption=True)["Parameter"]["Value"]
        self.assertEqual(copy, SECRET)
        self.assertIn("data.secret", [r[0] for r in self.state_list()])
        self.cairn("plan", "--detailed-exitcode", check=0)

    def test_validate_reads_nothing(self):
        env = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
               "AWS_ENDPOINT_URL": "http://127.0.0.1:1"}
        self.cairn("validate", env=env, check=0)
        self.write("bad.yaml", STACK.replace("data.vpc.cidr_block", "data.vpc.cidr_blok")
                   .replace("data.policy.arn", "data.polcy.arn")
                   .replace("type: aws_region", "type: aws_regin"))
        p = self.cairn("validate", "-f", "bad.yaml", env=env)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("bad.yaml:30:23: error: unknown attribute 'cidr_blok' of data source "
                      "'vpc' (aws_vpc) in '${data.vpc.cidr_blok}'; did you mean 'cidr_block'?",
                      p.stderr)
        self.assertIn("bad.yaml:37:46: error: reference to unknown data source 'polcy' in "
                      "'${data.polcy.arn}'; did you mean 'policy'?", p.stderr)
        self.assertIn("bad.yaml:21:16: error: unknown data source type 'aws_regin'; "
                      "did you mean 'aws_region'?",
                      p.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "cairn.db")))

    def test_data_source_cannot_use_a_resource(self):
        self.write("bad.yaml", STACK.replace('values: ["${data.vpc.id}"]',
                                             'values: ["${sg.vpc_id}"]'))
        p = self.cairn("validate", "-f", "bad.yaml")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("data source 'subnets' uses resource 'sg'", p.stderr)


ZONE_STACK = """\
stack: dz
region: us-east-1
data:
  pub: {type: aws_route53_zone, properties: {name: dz.example.com.}}
  priv: {type: aws_route53_zone, properties: {name: dz.example.com, private_zone: true, vpc_id: %s}}
  byid: {type: aws_route53_zone, properties: {zone_id: "${data.pub.zone_id}"}}
resources:
  www:
    type: aws_route53_record
    properties: {zone_id: "${data.pub.zone_id}", name: www.dz.example.com, type: A, ttl: 60,
                 records: [192.0.2.1]}
  db:
    type: aws_route53_record
    properties: {zone_id: "${data.priv.zone_id}", name: db.dz.example.com, type: A, ttl: 60,
                 records: [10.0.0.5]}
outputs:
  pub: {value: "${data.pub.zone_id}"}
  priv: {value: "${data.priv.zone_id}"}
  byid_name: {value: "${data.byid.name}"}
  priv_flag: {value: "${data.priv.private_zone}"}
  ns: {value: "${length(data.pub.name_servers)}"}
"""


class Route53ZoneDataSource(CairnTestCase):
    """aws_route53_zone by name (public, or private in a VPC) and by zone_id."""

    def setUp(self):
        super().setUp()
        ec2, r53 = self.boto("ec2"), self.boto("route53")
        self.vpc = ec2.create_vpc(CidrBlock="10.43.0.0/16")["Vpc"]["VpcId"]
        self.pub = r53.create_hosted_zone(Name="dz.example.com", CallerReference="dz-pub")[
            "HostedZone"]["Id"].split("/")[-1]
        self.priv = r53.create_hosted_zone(
            Name="dz.example.com", CallerReference="dz-priv",
            VPC={"VPCRegion": "us-east-1", "VPCId": self.vpc},
            HostedZoneConfig={"Comment": "inner", "PrivateZone": True})["HostedZone"]["Id"].split("/")[-1]
        self.addCleanup(self.cleanup)
        self.write("stack.yaml", ZONE_STACK % self.vpc)

    def cleanup(self):
        self.cairn("destroy", "--auto-approve")
        r53 = self.boto("route53")
        for z in (self.pub, self.priv):
            r53.delete_hosted_zone(Id=z)
        self.boto("ec2").delete_vpc(VpcId=self.vpc)

    def records(self, zone):
        sets = self.boto("route53").list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
        return sorted((r["Name"], r["Type"]) for r in sets if r["Type"] == "A")

    def test_plan_apply_noop(self):
        self.assertNotEqual(self.pub, self.priv)
        p = self.cairn("plan", "--json", check=0)
        plan = json.loads(p.stdout)
        self.assertEqual(plan["outputs"]["pub"]["value"], self.pub)
        self.assertEqual(plan["outputs"]["priv"]["value"], self.priv)
        self.cairn("apply", "--auto-approve", check=0)
        self.assertEqual(self.records(self.pub), [("www.dz.example.com.", "A")])
        self.assertEqual(self.records(self.priv), [("db.dz.example.com.", "A")])
        outputs = json.loads(self.cairn("output", "--json", check=0).stdout)
        self.assertEqual(outputs["byid_name"]["value"], "dz.example.com")
        self.assertIn(outputs["priv_flag"]["value"], (True, "true"))
        self.assertGreater(int(outputs["ns"]["value"]), 0)
        show = self.cairn("state", "show", "data.priv", check=0).stdout
        self.assertIn("inner", show)
        self.assertIn("dz-priv", show)
        self.assertIn("resource_record_set_count = 2", show)
        self.assertIn("private_zone              = true", show)
        self.cairn("plan", "--detailed-exitcode", check=0)

    def test_no_zone_is_a_clear_error(self):
        self.write("stack.yaml", ZONE_STACK.replace("dz.example.com.}", "nope.example.com}")
                   % self.vpc)
        p = self.cairn("plan")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("data.pub", p.stderr)
        self.assertIn("no public hosted zone named 'nope.example.com'", p.stderr)

    def test_private_zone_in_another_vpc_is_not_found(self):
        other = self.boto("ec2").create_vpc(CidrBlock="10.44.0.0/16")["Vpc"]["VpcId"]
        self.addCleanup(self.boto("ec2").delete_vpc, VpcId=other)
        self.write("stack.yaml", ZONE_STACK % other)
        p = self.cairn("plan")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("no private hosted zone named 'dz.example.com' in VPC %s" % other, p.stderr)

    def test_two_public_zones_of_the_name_is_an_error(self):
        r53 = self.boto("route53")
        twin = r53.create_hosted_zone(Name="dz.example.com", CallerReference="dz-twin")[
            "HostedZone"]["Id"]
        self.addCleanup(r53.delete_hosted_zone, Id=twin)
        p = self.cairn("plan")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("more than one public hosted zone named 'dz.example.com'", p.stderr)


if __name__ == "__main__":
    unittest.main()
