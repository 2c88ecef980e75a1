"""Route 53 family (aws_route53_zone, aws_route53_record) against moto:
create -> check with boto3 -> no-op plan -> update in place -> drift shows
and is reverted -> replace -> import into a fresh state (zone id;
ZONEID_NAME_TYPE for records) -> destroy; a private zone with its VPCs;
an alias record to an ALB of the same stack; a kill during create adopted
(zone by its caller reference or tags, record by its name, type and
values)."""
import json

from family import FamilyCase

STACK = "dns"


def stack_doc(resources, variables=None):
    doc = {"stack": STACK, "region": "us-east-1", "resources": resources}
    return json.dumps(doc)


class Route53(FamilyCase):
    STACK = STACK

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ec2 = cls.moto.client("ec2")
        cls.vpc = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
        cls.vpc2 = ec2.create_vpc(CidrBlock="10.31.0.0/16")["Vpc"]["VpcId"]
        cls.subnets = [
            ec2.create_subnet(VpcId=cls.vpc, CidrBlock="10.30.%d.0/24" % i,
                              AvailabilityZone="us-east-1" + az)["Subnet"]["SubnetId"]
            for i, az in ((1, "a"), (2, "b"))]

    def r53(self):
        return self.boto("route53")

    def zone_tags(self, zid):
        t = self.r53().list_tags_for_resource(ResourceType="hostedzone", ResourceId=zid)
        return {x["Key"]: x["Value"] for x in t["ResourceTagSet"]["Tags"]}

    def zones(self, name):
        return [z for z in self.r53().list_hosted_zones()["HostedZones"]
                if z["Name"].rstrip(".") == name]

    def rrset(self, zid, name, rtype):
        for s in self.r53().list_resource_record_sets(HostedZoneId=zid)["ResourceRecordSets"]:
            if s["Name"].rstrip(".") == name and s["Type"] == rtype:
                return s
        return None

    def test_zone_lifecycle(self):
        props = {"name": "e2e-one.example", "comment": "first", "tags": {"team": "net"}}
        self.stack("zone", "aws_route53_zone", props)
        self.apply()
        zid = self.ids()["zone"]
        z = self.r53().get_hosted_zone(Id=zid)
        self.assertEqual(z["HostedZone"]["Name"], "e2e-one.example.")
        self.assertEqual(z["HostedZone"]["Config"]["Comment"], "first")
        self.assertFalse(z["HostedZone"]["Config"]["PrivateZone"])
        self.assertEqual(self.zone_tags(zid),
                         {"team": "net", "cairn:stack": STACK, "cairn:resource": "zone"})
        shown = self.cairn("state", "show", "zone", "--json", check=0).stdout
        self.assertIn(z["DelegationSet"]["NameServers"][0], shown)
        self.assert_noop()

        props.update(comment="second", tags={"team": "dns"})
        self.stack("zone", "aws_route53_zone", props)
        self.apply()
        self.assertEqual(self.ids()["zone"], zid)
        z = self.r53().get_hosted_zone(Id=zid)
        self.assertEqual(z["HostedZone"]["Config"]["Comment"], "second")
        self.assertEqual(self.zone_tags(zid)["team"], "dns")
        self.assert_noop()

        self.r53().change_tags_for_resource(ResourceType="hostedzone", ResourceId=zid,
                                            AddTags=[{"Key": "team", "Value": "hacked"}])
        self.assert_drift("zone", "hacked")
        self.apply()
        self.assertEqual(self.zone_tags(zid)["team"], "dns")
        self.assert_noop()

        # import by zone id; force_destroy (cairn's own) reads back as its default
        other = self.dir + "/other.db"
        self.cairn("--state", other, "import", "zone", zid, check=0)
        self.assertEqual(self.ids("--state", other), {"zone": zid})
        self.assert_noop("--state", other)

        # replace: another name is another zone
        props["name"] = "e2e-two.example"
        self.stack("zone", "aws_route53_zone", props)
        self.assertIn("forces replacement", self.cairn("plan").stdout)
        self.apply()
        zid2 = self.ids()["zone"]
        self.assertNotEqual(zid2, zid)
        self.assertEqual(self.zones("e2e-one.example"), [])
        self.assert_noop()
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertEqual(self.zones("e2e-two.example"), [])

    def test_names_as_the_stack_spells_them(self):
        """Zone and record names written with the root's trailing dot name
        what AWS reports without it: no change, no replacement. (Capitals
        are not tested: moto, unlike AWS, compares names case-sensitively.)"""
        res = {"zone": {"type": "aws_route53_zone",
                        "properties": {"name": "e2e-case.example.", "force_destroy": True}},
               "www": {"type": "aws_route53_record", "properties": {
                   "zone_id": "${zone.zone_id}", "name": "www.e2e-case.example.",
                   "type": "CNAME", "ttl": 60, "records": ["target.example.org"]}}}
        self.write("stack.json", stack_doc(res))
        self.apply()
        self.assertEqual(len(self.zones("e2e-case.example")), 1)
        self.assert_noop()
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertEqual(self.zones("e2e-case.example"), [])

    def test_private_zone_vpcs(self):
        props = {"name": "e2e-private.internal", "vpc": [{"vpc_id": self.vpc}]}
        self.stack("zone", "aws_route53_zone", props)
        self.apply()
        zid = self.ids()["zone"]
        z = self.r53().get_hosted_zone(Id=zid)
        self.assertTrue(z["HostedZone"]["Config"]["PrivateZone"])
        self.assertEqual([v["VPCId"] for v in z["VPCs"]], [self.vpc])
        self.assert_noop()
        props["vpc"] = [{"vpc_id": self.vpc}, {"vpc_id": self.vpc2}]
        self.stack("zone", "aws_route53_zone", props)
        self.apply()
        self.assertEqual(self.ids()["zone"], zid)
        z = self.r53().get_hosted_zone(Id=zid)
        self.assertEqual(sorted(v["VPCId"] for v in z["VPCs"]), sorted([self.vpc, self.vpc2]))
        self.assert_noop()
        props["vpc"] = [{"vpc_id": self.vpc2}]
        self.stack("zone", "aws_route53_zone", props)
        self.apply()
        z = self.r53().get_hosted_zone(Id=zid)
        self.assertEqual([v["VPCId"] for v in z["VPCs"]], [self.vpc2])
        self.assert_noop()
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertEqual(self.zones("e2e-private.internal"), [])

    def record_stack(self, records, force_destroy=True, zone="e2e-rec.example"):
        res = {"zone": {"type": "aws_route53_zone",
                        "properties": {"name": zone,
                                       "force_destroy": force_destroy}}}
        res.update(records)
        self.write("stack.json", stack_doc(res))

    def test_record_lifecycle(self):
        www = {"type": "aws_route53_record",
               "properties": {"zone_id": "${zone.zone_id}", "name": "www.e2e-rec.example",
                              "type": "A", "ttl": 300, "records": ["10.0.0.1", "10.0.0.2"]}}
        txt = {"type": "aws_route53_record",
               "properties": {"zone_id": "${zone.zone_id}", "name": "e2e-rec.example",
                              "type": "TXT", "ttl": 60, "records": ["v=spf1 -all"]}}
        self.record_stack({"www": www, "txt": txt})
        self.apply()
        ids = self.ids()
        zid = ids["zone"]
        self.assertEqual(ids["www"], "%s_www.e2e-rec.example_A" % zid)
        s = self.rrset(zid, "www.e2e-rec.example", "A")
        self.assertEqual(s["TTL"], 300)
        self.assertEqual(sorted(r["Value"] for r in s["ResourceRecords"]),
                         ["10.0.0.1", "10.0.0.2"])
        self.assertEqual(self.rrset(zid, "e2e-rec.example", "TXT")["ResourceRecords"],
                         [{"Value": '"v=spf1 -all"'}])
        self.assert_noop()

        # update in place (UPSERT)
        www["properties"].update(ttl=60, records=["10.0.0.3"])
        self.record_stack({"www": www, "txt": txt})
        self.apply()
        self.assertEqual(self.ids()["www"], ids["www"])
        s = self.rrset(zid, "www.e2e-rec.example", "A")
        self.assertEqual((s["TTL"], s["ResourceRecords"]), (60, [{"Value": "10.0.0.3"}]))
        self.assert_noop()

        # drift
        self.r53().change_resource_record_sets(HostedZoneId=zid, ChangeBatch={"Changes": [
            {"Action": "UPSERT", "ResourceRecordSet": {
                "Name": "www.e2e-rec.example", "Type": "A", "TTL": 60,
                "ResourceRecords": [{"Value": "10.9.9.9"}]}}]})
        self.assert_drift("www", "10.9.9.9")
        self.apply()
        s = self.rrset(zid, "www.e2e-rec.example", "A")
        self.assertEqual(s["ResourceRecords"], [{"Value": "10.0.0.3"}])
        self.assert_noop()

        # import by ZONEID_NAME_TYPE
        other = self.dir + "/other.db"
        self.cairn("--state", other, "import", "zone", zid, check=0)
        self.cairn("--state", other, "import", "www", ids["www"], check=0)
        self.cairn("--state", other, "import", "txt", ids["txt"], check=0)
        p = self.cairn("--state", other, "plan", "--json", check=0)
        changes = [c for c in json.loads(p.stdout)["changes"] if c["action"] != "noop"]
        # only the zone's force_destroy, which AWS cannot report
        self.assertEqual([c["action"] for c in changes], ["update"], p.stdout)

        # replace: another type is another record
        www["properties"].update(type="CNAME", records=["app.e2e-rec.example"])
        self.record_stack({"www": www, "txt": txt})
        self.assertIn("forces replacement", self.cairn("plan").stdout)
        self.apply()
        self.assertEqual(self.ids()["www"], "%s_www.e2e-rec.example_CNAME" % zid)
        self.assertIsNone(self.rrset(zid, "www.e2e-rec.example", "A"))
        self.assertIsNotNone(self.rrset(zid, "www.e2e-rec.example", "CNAME"))
        self.assert_noop()

        # a record made outside cairn: force_destroy removes it with the zone
        self.r53().change_resource_record_sets(HostedZoneId=zid, ChangeBatch={"Changes": [
            {"Action": "CREATE", "ResourceRecordSet": {
                "Name": "stray.e2e-rec.example", "Type": "A", "TTL": 60,
                "ResourceRecords": [{"Value": "10.1.1.1"}]}}]})
        d = self.cairn("destroy", "--auto-approve", check=0)
        self.assertEqual(self.zones("e2e-rec.example"), [], d.stdout + d.stderr)
        self.assertEqual(self.ids(), {})

    def test_zone_not_empty_without_force_destroy(self):
        self.stack("zone", "aws_route53_zone", {"name": "e2e-keep.example"})
        self.apply()
        zid = self.ids()["zone"]
        self.r53().change_resource_record_sets(HostedZoneId=zid, ChangeBatch={"Changes": [
            {"Action": "CREATE", "ResourceRecordSet": {
                "Name": "a.e2e-keep.example", "Type": "A", "TTL": 60,
                "ResourceRecords": [{"Value": "10.1.1.1"}]}}]})
        p = self.cairn("destroy", "--auto-approve")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("HostedZoneNotEmpty", p.stdout + p.stderr)
        self.assertEqual(len(self.zones("e2e-keep.example")), 1)

    def test_alias_to_alb(self):
        res = {
            "lb": {"type": "aws_lb", "properties": {"name": "e2e-dns-lb",
                                                    "subnets": self.subnets}},
            "zone": {"type": "aws_route53_zone",
                     "properties": {"name": "e2e-alias.example", "force_destroy": True}},
            "app": {"type": "aws_route53_record", "properties": {
                "zone_id": "${zone.zone_id}", "name": "app.e2e-alias.example", "type": "A",
                "alias": {"name": "${lb.dns_name}", "zone_id": "${lb.zone_id}",
                          "evaluate_target_health": True}}}}
        self.write("stack.json", stack_doc(res))
        self.apply()
        zid = self.ids()["zone"]
        lb = self.boto("elbv2").describe_load_balancers(Names=["e2e-dns-lb"])["LoadBalancers"][0]
        s = self.rrset(zid, "app.e2e-alias.example", "A")
        self.assertEqual(s["AliasTarget"]["DNSName"].rstrip(".").lower(), lb["DNSName"].lower())
        self.assertEqual(s["AliasTarget"]["HostedZoneId"], lb["CanonicalHostedZoneId"])
        self.assertTrue(s["AliasTarget"]["EvaluateTargetHealth"])
        self.assertFalse(s.get("TTL"))   # moto answers TTL 0 for an alias; AWS none
        self.assert_noop()
        res["app"]["properties"]["alias"]["evaluate_target_health"] = False
        self.write("stack.json", stack_doc(res))
        self.apply()
        s = self.rrset(zid, "app.e2e-alias.example", "A")
        self.assertFalse(s["AliasTarget"]["EvaluateTargetHealth"])
        self.assert_noop()
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertEqual(self.zones("e2e-alias.example"), [])

    def test_kill_during_zone_create_adopted(self):
        self.stack("zone", "aws_route53_zone", {"name": "e2e-kill.example"})
        self.kill_mid_create("zone", lambda: len(self.zones("e2e-kill.example")) > 0)
        self.assertEqual(len(self.zones("e2e-kill.example")), 1)
        zid = self.ids()["zone"]
        self.assertEqual(self.zone_tags(zid)["cairn:resource"], "zone")

    def test_kill_during_record_create_adopted(self):
        self.record_stack({}, zone="e2e-krec.example")
        self.apply()
        zid = self.ids()["zone"]
        rec = {"type": "aws_route53_record",
               "properties": {"zone_id": "${zone.zone_id}", "name": "k.e2e-krec.example",
                              "type": "A", "ttl": 60, "records": ["10.2.2.2"]}}
        self.record_stack({"k": rec}, zone="e2e-krec.example")

        def exists():
            return self.rrset(zid, "k.e2e-krec.example", "A") is not None
        self.kill_mid_create_keep("k", exists)
        self.assertEqual(self.ids()["k"], "%s_k.e2e-krec.example_A" % zid)
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertEqual(self.zones("e2e-krec.example"), [])

    def kill_mid_create_keep(self, name, exists):
        """kill_mid_create for a resource added to a stack already applied."""
        import subprocess
        import time
        import harness
        from faultproxy import FaultProxy
        px = FaultProxy(self.moto.url, answer_latency_ms=800).start()
        self.addCleanup(px.stop)
        env = dict(self.env, AWS_ENDPOINT_URL=px.url)
        p = subprocess.Popen([harness.CAIRN, "apply", "--auto-approve"], cwd=self.dir, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: p.poll() is None and p.kill())
        deadline = time.time() + 60
        while not exists():
            if p.poll() is not None or time.time() > deadline:
                self.fail("apply ended (%s) before the resource appeared" % p.returncode)
            time.sleep(0.02)
        p.kill()
        p.wait()
        self.assertNotIn(name, self.ids(), "the create was recorded before the kill")
        r = self.apply()
        self.assertIn("Found the resource an interrupted run created", r.stdout)
        self.assertIn(name, self.ids())
        self.assert_noop()
