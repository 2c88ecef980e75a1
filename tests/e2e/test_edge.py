"""Edge networking family (aws_eip, aws_nat_gateway, aws_vpc_endpoint)
against moto: create -> check with boto3 -> no-op plan -> update in place
-> drift shows and is reverted -> replace -> import into a fresh state ->
destroy -> a kill during create is adopted. The VPC, subnets and route
tables they hang on are made with boto3, so each stack holds one type."""
import json
import unittest

from family import FamilyCase
from rewriteproxy import RewriteProxy

STACK = "edge"


def tagmap(item):
    return {t["Key"]: t["Value"] for t in item.get("Tags", [])}


class EdgeCase(FamilyCase):
    STACK = STACK

    def setUp(self):
        super().setUp()
        ec2 = self.boto("ec2")
        self.vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
        self.subnet = ec2.create_subnet(VpcId=self.vpc, CidrBlock="10.9.1.0/24",
                                        AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
        self.subnet2 = ec2.create_subnet(VpcId=self.vpc, CidrBlock="10.9.2.0/24",
                                         AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]

    def address(self, alloc):
        got = self.boto("ec2").describe_addresses(
            Filters=[{"Name": "allocation-id", "Values": [alloc]}])["Addresses"]
        return got[0] if got else None

    def nat(self, nid):
        got = self.boto("ec2").describe_nat_gateways(
            Filters=[{"Name": "nat-gateway-id", "Values": [nid]}])["NatGateways"]
        return got[0] if got and got[0]["State"] not in ("deleted", "failed") else None

    def endpoint(self, eid):
        got = self.boto("ec2").describe_vpc_endpoints()["VpcEndpoints"]
        got = [e for e in got if e["VpcEndpointId"] == eid and e["State"] != "deleted"]
        return got[0] if got else None

    def owned(self, op, key, name):
        items = getattr(self.boto("ec2"), op)()[key]
        return [i for i in items if tagmap(i).get("cairn:resource") == name
                and i.get("State", "available") not in ("deleted", "deleting")]


class Eip(EdgeCase):
    def test_lifecycle(self):
        props = {"tags": {"team": "net"}}
        self.stack("ip", "aws_eip", props)
        self.apply()
        alloc = self.ids()["ip"]
        a = self.address(alloc)
        self.assertEqual(a["Domain"], "vpc")
        self.assertEqual(tagmap(a), {"cairn:stack": STACK, "cairn:resource": "ip",
                                     "team": "net"})
        shown = self.cairn("state", "show", "ip", "--json", check=0).stdout
        self.assertIn(a["PublicIp"], shown)
        self.assertIn("elastic-ip/" + alloc, shown)
        self.assert_noop()

        # update in place: tags, and an association with a network interface
        eni = self.boto("ec2").create_network_interface(SubnetId=self.subnet)[
            "NetworkInterface"]["NetworkInterfaceId"]
        props.update(tags={"team": "edge"}, network_interface=eni)
        self.stack("ip", "aws_eip", props)
        p = self.cairn("plan", check=0)
        self.assertIn("updated in place", p.stdout)
        self.apply()
        self.assertEqual(self.ids()["ip"], alloc)
        a = self.address(alloc)
        self.assertEqual(tagmap(a)["team"], "edge")
        self.assertEqual(a["NetworkInterfaceId"], eni)
        self.assert_noop()

        # drift: a tag changed outside cairn
        self.boto("ec2").create_tags(Resources=[alloc], Tags=[{"Key": "team", "Value": "x"}])
        self.assert_drift("ip", "team")
        self.apply()
        self.assertEqual(tagmap(self.address(alloc))["team"], "edge")
        self.assert_noop()

        # replace: another domain is another address
        props["domain"] = "standard"
        self.stack("ip", "aws_eip", props)
        p = self.cairn("plan")
        self.assertIn("forces replacement", p.stdout)
        props["domain"] = "vpc"
        self.stack("ip", "aws_eip", props)

        self.import_fresh("ip", alloc)
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.address(alloc))
        self.assertEqual(self.ids(), {})

    def test_import_missing(self):
        self.stack("ip", "aws_eip", {})
        p = self.cairn("import", "ip", "eipalloc-0123456789abcdef0")
        self.assertEqual(p.returncode, 1)
        self.assertIn("'eipalloc-0123456789abcdef0' not found", p.stderr)

    def test_adopted_after_kill_mid_create(self):
        self.stack("kill", "aws_eip", {})
        self.kill_mid_create("kill", lambda: self.owned("describe_addresses", "Addresses",
                                                        "kill"))
        self.assertEqual(len(self.owned("describe_addresses", "Addresses", "kill")), 1)
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertEqual(self.owned("describe_addresses", "Addresses", "kill"), [])


class NatGateway(EdgeCase):
    def eip(self):
        return self.boto("ec2").allocate_address(Domain="vpc")["AllocationId"]

    def test_lifecycle(self):
        alloc = self.eip()
        props = {"subnet_id": self.subnet, "allocation_id": alloc, "tags": {"Name": "nat-a"}}
        self.stack("nat", "aws_nat_gateway", props)
        r = self.apply()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        nid = self.ids()["nat"]
        g = self.nat(nid)
        self.assertEqual(g["State"], "available")
        self.assertEqual(g["SubnetId"], self.subnet)
        self.assertEqual(g["NatGatewayAddresses"][0]["AllocationId"], alloc)
        self.assertEqual(tagmap(g), {"cairn:stack": STACK, "cairn:resource": "nat",
                                     "Name": "nat-a"})
        shown = self.cairn("state", "show", "nat", "--json", check=0).stdout
        self.assertIn(g["NatGatewayAddresses"][0]["PublicIp"], shown)
        self.assertIn(self.vpc, shown)
        self.assert_noop()

        # update in place: tags only
        props["tags"] = {"Name": "nat-b"}
        self.stack("nat", "aws_nat_gateway", props)
        self.apply()
        self.assertEqual(self.ids()["nat"], nid)
        self.assertEqual(tagmap(self.nat(nid))["Name"], "nat-b")
        self.assert_noop()

        # drift
        self.boto("ec2").delete_tags(Resources=[nid], Tags=[{"Key": "Name"}])
        self.assert_drift("nat", "Name")
        self.apply()
        self.assertEqual(tagmap(self.nat(nid))["Name"], "nat-b")

        # replace: another subnet is another gateway; the old one is deleted
        props["subnet_id"] = self.subnet2
        props["allocation_id"] = self.eip()
        self.stack("nat", "aws_nat_gateway", props)
        p = self.cairn("plan")
        self.assertIn("forces replacement", p.stdout)
        self.apply()
        nid2 = self.ids()["nat"]
        self.assertNotEqual(nid2, nid)
        self.assertIsNone(self.nat(nid))
        self.assertEqual(self.nat(nid2)["SubnetId"], self.subnet2)
        self.assert_noop()

        self.import_fresh("nat", nid2)
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.nat(nid2))

    def test_with_eip_in_one_stack(self):
        """The usual shape: an EIP and the gateway that uses it, destroyed in order."""
        doc = {"stack": STACK, "region": "us-east-1", "resources": {
            "ip": {"type": "aws_eip", "properties": {}},
            "nat": {"type": "aws_nat_gateway",
                    "properties": {"subnet_id": self.subnet, "allocation_id": "${ip.id}"}}}}
        self.write("stack.json", json.dumps(doc))
        self.cairn("apply", "--auto-approve", check=0)
        ids = self.ids()
        self.assertEqual(self.nat(ids["nat"])["NatGatewayAddresses"][0]["AllocationId"],
                         ids["ip"])
        self.assert_noop()
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.nat(ids["nat"]))
        self.assertIsNone(self.address(ids["ip"]))

    def test_create_waits_until_available(self):
        """AWS keeps a NAT gateway pending for minutes: the apply waits (and
        reports) until it is available, while independent work goes on."""
        px = RewriteProxy(self.moto.url, "DescribeNatGateways", "<state>available</state>",
                          "<state>pending</state>", 12).start()
        self.addCleanup(px.stop)
        self.write("stack.json", json.dumps({"stack": STACK, "region": "us-east-1", "resources": {
            "nat": {"type": "aws_nat_gateway",
                    "properties": {"subnet_id": self.subnet, "allocation_id": self.eip()}},
            "other": {"type": "aws_eip", "properties": {}}}}))
        r = self.cairn("apply", "--auto-approve", env={"AWS_ENDPOINT_URL": px.url})
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertGreater(px.rewritten, 1, r.stdout)
        # the 10 s heartbeat (a loaded machine may print it a second late)
        self.assertRegex(r.stdout, r"nat: Still creating\.\.\. \[1\ds elapsed\]")
        self.assertRegex(r.stdout, r"nat: Created after 1\d\.\ds")
        # the address did not wait for the gateway
        self.assertLess(r.stdout.index("other: Created after"),
                        r.stdout.index("nat: Still creating"))
        self.assertEqual(self.nat(self.ids()["nat"])["State"], "available")
        self.cairn("destroy", "--auto-approve", check=0)

    def test_adopted_after_kill_mid_create(self):
        self.stack("kill", "aws_nat_gateway", {"subnet_id": self.subnet,
                                               "allocation_id": self.eip()})
        self.kill_mid_create("kill", lambda: self.owned("describe_nat_gateways",
                                                        "NatGateways", "kill"))
        self.assertEqual(len(self.owned("describe_nat_gateways", "NatGateways", "kill")), 1)
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertEqual(self.owned("describe_nat_gateways", "NatGateways", "kill"), [])


class VpcEndpoint(EdgeCase):
    def test_gateway_lifecycle(self):
        ec2 = self.boto("ec2")
        rt1 = ec2.create_route_table(VpcId=self.vpc)["RouteTable"]["RouteTableId"]
        rt2 = ec2.create_route_table(VpcId=self.vpc)["RouteTable"]["RouteTableId"]
        props = {"vpc_id": self.vpc, "service_name": "com.amazonaws.us-east-1.s3",
                 "route_table_ids": [rt1, rt2], "tags": {"team": "net"}}
        self.stack("s3", "aws_vpc_endpoint", props)
        self.apply()
        eid = self.ids()["s3"]
        e = self.endpoint(eid)
        self.assertEqual(e["ServiceName"], "com.amazonaws.us-east-1.s3")
        self.assertEqual(sorted(e["RouteTableIds"]), sorted([rt1, rt2]))
        self.assertEqual(tagmap(e), {"cairn:stack": STACK, "cairn:resource": "s3",
                                     "team": "net"})
        self.assert_noop()

        # update in place: route tables, policy, tags. (moto's
        # ModifyVpcEndpoint adds no route for an added route table, and its
        # delete then fails on the missing route: the test only removes one.)
        pol = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}]}
        props.update(route_table_ids=[rt1], policy=pol, tags={"team": "edge"})
        self.stack("s3", "aws_vpc_endpoint", props)
        self.apply()
        self.assertEqual(self.ids()["s3"], eid)
        e = self.endpoint(eid)
        self.assertEqual(e["RouteTableIds"], [rt1])
        self.assertEqual(json.loads(e["PolicyDocument"]), pol)
        self.assertEqual(tagmap(e)["team"], "edge")
        self.assert_noop()

        # drift: the policy reset and a tag changed outside cairn
        ec2.modify_vpc_endpoint(VpcEndpointId=eid, PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}))
        ec2.create_tags(Resources=[eid], Tags=[{"Key": "team", "Value": "x"}])
        self.assert_drift("s3", "policy", "team")
        self.apply()
        e = self.endpoint(eid)
        self.assertEqual(json.loads(e["PolicyDocument"]), pol)
        self.assertEqual(tagmap(e)["team"], "edge")
        self.assert_noop()

        # replace: another service
        props["service_name"] = "com.amazonaws.us-east-1.dynamodb"
        self.stack("s3", "aws_vpc_endpoint", props)
        self.assertIn("forces replacement", self.cairn("plan").stdout)
        r = self.apply()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        eid2 = self.ids()["s3"]
        self.assertNotEqual(eid2, eid)
        self.assertIsNone(self.endpoint(eid), r.stdout)
        self.assert_noop()

        self.import_fresh("s3", eid2)
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.endpoint(eid2))

    def test_interface(self):
        ec2 = self.boto("ec2")
        sg = ec2.create_security_group(GroupName="vpce", Description="vpce",
                                       VpcId=self.vpc)["GroupId"]
        sg2 = ec2.create_security_group(GroupName="vpce2", Description="vpce2",
                                        VpcId=self.vpc)["GroupId"]
        props = {"vpc_id": self.vpc, "service_name": "com.amazonaws.us-east-1.ecr.api",
                 "vpc_endpoint_type": "Interface", "subnet_ids": [self.subnet],
                 "security_group_ids": [sg], "private_dns_enabled": True}
        self.stack("ecr", "aws_vpc_endpoint", props)
        self.apply()
        eid = self.ids()["ecr"]
        e = self.endpoint(eid)
        self.assertEqual(e["VpcEndpointType"], "Interface")
        self.assertEqual(e["SubnetIds"], [self.subnet])
        self.assertEqual([g["GroupId"] for g in e["Groups"]], [sg])
        shown = self.cairn("state", "show", "ecr", "--json", check=0).stdout
        self.assertIn(e["DnsEntries"][0]["DnsName"], shown)
        self.assertIn(e["NetworkInterfaceIds"][0], shown)
        self.assert_noop()

        props.update(subnet_ids=[self.subnet, self.subnet2], security_group_ids=[sg2])
        self.stack("ecr", "aws_vpc_endpoint", props)
        self.apply()
        e = self.endpoint(eid)
        self.assertEqual(sorted(e["SubnetIds"]), sorted([self.subnet, self.subnet2]))
        self.assertEqual([g["GroupId"] for g in e["Groups"]], [sg2])
        self.assert_noop()
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.endpoint(eid))

    def test_adopted_after_kill_mid_create(self):
        self.stack("kill", "aws_vpc_endpoint", {"vpc_id": self.vpc,
                                                "service_name": "com.amazonaws.us-east-1.s3"})
        self.kill_mid_create("kill", lambda: self.owned("describe_vpc_endpoints",
                                                        "VpcEndpoints", "kill"))
        self.assertEqual(len(self.owned("describe_vpc_endpoints", "VpcEndpoints", "kill")), 1)
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertEqual(self.owned("describe_vpc_endpoints", "VpcEndpoints", "kill"), [])


if __name__ == "__main__":
    unittest.main()
