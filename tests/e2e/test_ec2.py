"""Networking family (aws_vpc, aws_subnet, aws_internet_gateway, aws_route_table,
aws_route_table_association, aws_security_group) against moto: create -> check
with boto3 -> no-op plan -> update in place -> drift shows and is reverted ->
replace -> import into a fresh state -> destroy."""
import json
import signal
import subprocess
import time
import unittest

import harness
from family import FamilyCase
from faultproxy import FaultProxy

STACK = "net"


def owner_tags(name):
    return {"cairn:stack": STACK, "cairn:resource": name}


class NetCase(FamilyCase):
    """A stack of several resources; boto3 look-ups of the ec2 family."""

    STACK = STACK

    def resources(self, res, path="stack.json"):
        doc = {"stack": STACK, "region": "us-east-1",
               "resources": {n: {"type": t, "properties": p} for n, (t, p) in res.items()}}
        self.write(path, json.dumps(doc, indent=2))

    def ec2(self):
        return self.boto("ec2")

    def tags(self, item):
        return {t["Key"]: t["Value"] for t in item.get("Tags", [])}

    def vpc(self, vid):
        vs = self.ec2().describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [vid]}])["Vpcs"]
        return vs[0] if vs else None

    def vpc_attr(self, vid, attr):
        key = attr[0].upper() + attr[1:]
        return self.ec2().describe_vpc_attribute(VpcId=vid, Attribute=attr)[key]["Value"]

    def subnet(self, sid):
        ss = self.ec2().describe_subnets(
            Filters=[{"Name": "subnet-id", "Values": [sid]}])["Subnets"]
        return ss[0] if ss else None

    def igw(self, gid):
        gs = self.ec2().describe_internet_gateways(
            Filters=[{"Name": "internet-gateway-id", "Values": [gid]}])["InternetGateways"]
        return gs[0] if gs else None

    def rtb(self, rid):
        ts = self.ec2().describe_route_tables(
            Filters=[{"Name": "route-table-id", "Values": [rid]}])["RouteTables"]
        return ts[0] if ts else None

    def routes(self, rid):
        return sorted((r.get("DestinationCidrBlock"), r.get("GatewayId"))
                      for r in self.rtb(rid)["Routes"] if r.get("GatewayId") != "local")

    def sg(self, gid):
        gs = self.ec2().describe_security_groups(
            Filters=[{"Name": "group-id", "Values": [gid]}])["SecurityGroups"]
        return gs[0] if gs else None

    def state_attrs(self, name, *args):
        return self.cairn("state", "show", name, "--json", *args, check=0).stdout

    def import_only(self, name, rtype, props, rid):
        """Imports rid as the only resource of another stack file and state."""
        other = "%s/import-%s.db" % (self.dir, name)
        self.resources({name: (rtype, props)}, "import.json")
        self.cairn("--state", other, "import", "-f", "import.json", name, rid, check=0)
        listed = self.ids("--state", other)
        self.assertEqual(list(listed), [name])
        self.assert_noop("--state", other, "-f", "import.json")
        return listed[name]


class Vpc(NetCase):

    def test_lifecycle(self):
        props = {"cidr_block": "10.10.0.0/16", "enable_dns_hostnames": True,
                 "instance_tenancy": "dedicated", "tags": {"Name": "main"}}
        self.resources({"vpc": ("aws_vpc", props)})
        self.apply()
        vid = self.ids()["vpc"]
        v = self.vpc(vid)
        self.assertEqual(v["CidrBlock"], "10.10.0.0/16")
        self.assertEqual(v["InstanceTenancy"], "dedicated")
        self.assertTrue(self.vpc_attr(vid, "enableDnsSupport"))
        self.assertTrue(self.vpc_attr(vid, "enableDnsHostnames"))
        self.assertEqual(self.tags(v), dict(owner_tags("vpc"), Name="main"))
        main = self.ec2().describe_route_tables(Filters=[
            {"Name": "vpc-id", "Values": [vid]},
            {"Name": "association.main", "Values": ["true"]}])["RouteTables"][0]
        default_sg = self.ec2().describe_security_groups(Filters=[
            {"Name": "vpc-id", "Values": [vid]},
            {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]
        shown = self.state_attrs("vpc")
        self.assertIn(main["RouteTableId"], shown)
        self.assertIn(default_sg["GroupId"], shown)
        self.assertIn("arn:aws:ec2:us-east-1:%s:vpc/%s" % (v["OwnerId"], vid), shown)
        self.assert_noop()

        # update in place: tenancy, DNS attributes and tags
        props.update(enable_dns_hostnames=False, enable_dns_support=False,
                     instance_tenancy="default", tags={"Name": "main", "env": "test"})
        self.resources({"vpc": ("aws_vpc", props)})
        self.apply()
        self.assertEqual(self.ids()["vpc"], vid)
        self.assertEqual(self.vpc(vid)["InstanceTenancy"], "default")
        self.assertFalse(self.vpc_attr(vid, "enableDnsSupport"))
        self.assertFalse(self.vpc_attr(vid, "enableDnsHostnames"))
        self.assertEqual(self.tags(self.vpc(vid)),
                         dict(owner_tags("vpc"), Name="main", env="test"))
        self.assert_noop()

        # drift made outside cairn shows, and apply reverts it
        ec2 = self.ec2()
        ec2.modify_vpc_attribute(VpcId=vid, EnableDnsSupport={"Value": True})
        ec2.create_tags(Resources=[vid], Tags=[{"Key": "extra", "Value": "x"}])
        ec2.delete_tags(Resources=[vid], Tags=[{"Key": "env"}])
        self.assert_drift("vpc", "enable_dns_support")
        self.apply()
        self.assertFalse(self.vpc_attr(vid, "enableDnsSupport"))
        self.assertEqual(self.tags(self.vpc(vid)),
                         dict(owner_tags("vpc"), Name="main", env="test"))
        self.assert_noop()

        # replace: the CIDR block forces a new VPC
        props["cidr_block"] = "10.11.0.0/16"
        self.resources({"vpc": ("aws_vpc", props)})
        p = self.cairn("plan")
        self.assertIn("must be replaced", p.stdout)
        self.assertIn("cidr_block", p.stdout)
        self.apply()
        new_id = self.ids()["vpc"]
        self.assertNotEqual(new_id, vid)
        self.assertIsNone(self.vpc(vid))
        self.assertEqual(self.vpc(new_id)["CidrBlock"], "10.11.0.0/16")
        self.assertFalse(self.vpc_attr(new_id, "enableDnsSupport"))
        self.assert_noop()

        self.import_fresh("vpc", new_id)

        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.vpc(new_id))
        self.assertEqual(self.ids(), {})

    def test_deleted_outside_is_recreated(self):
        self.resources({"v": ("aws_vpc", {"cidr_block": "10.20.0.0/16"})})
        self.apply()
        vid = self.ids()["v"]
        # deleted outside cairn: the plan re-creates it
        self.ec2().delete_vpc(VpcId=vid)
        p = self.cairn("plan", "--detailed-exitcode")
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.apply()
        self.assertNotEqual(self.ids()["v"], vid)
        self.assertIsNotNone(self.vpc(self.ids()["v"]))
        self.assert_noop()
        self.cairn("destroy", "--auto-approve", check=0)

    def test_import_unknown_id_fails(self):
        self.resources({"v": ("aws_vpc", {"cidr_block": "10.21.0.0/16"})})
        p = self.cairn("import", "v", "vpc-0123456789abcdef0")
        self.assertEqual(p.returncode, 1)
        self.assertIn("vpc-0123456789abcdef0", p.stderr)


class Subnet(NetCase):

    def test_lifecycle(self):
        vpc = ("aws_vpc", {"cidr_block": "10.30.0.0/16"})
        props = {"vpc_id": "${vpc.id}", "cidr_block": "10.30.1.0/24",
                 "availability_zone": "us-east-1a", "map_public_ip_on_launch": True,
                 "tags": {"tier": "public"}}
        self.resources({"vpc": vpc, "sub": ("aws_subnet", props)})
        self.apply()
        ids = self.ids()
        vid, sid = ids["vpc"], ids["sub"]
        s = self.subnet(sid)
        self.assertEqual(s["VpcId"], vid)
        self.assertEqual(s["CidrBlock"], "10.30.1.0/24")
        self.assertEqual(s["AvailabilityZone"], "us-east-1a")
        self.assertTrue(s["MapPublicIpOnLaunch"])
        self.assertEqual(self.tags(s), dict(owner_tags("sub"), tier="public"))
        self.assertIn(s["SubnetArn"], self.state_attrs("sub"))
        self.assert_noop()

        # update in place
        props.update(map_public_ip_on_launch=False, tags={"tier": "private"})
        self.resources({"vpc": vpc, "sub": ("aws_subnet", props)})
        self.apply()
        self.assertEqual(self.ids()["sub"], sid)
        s = self.subnet(sid)
        self.assertFalse(s["MapPublicIpOnLaunch"])
        self.assertEqual(self.tags(s), dict(owner_tags("sub"), tier="private"))
        self.assert_noop()

        # drift
        self.ec2().modify_subnet_attribute(SubnetId=sid, MapPublicIpOnLaunch={"Value": True})
        self.assert_drift("sub", "map_public_ip_on_launch")
        self.apply()
        self.assertFalse(self.subnet(sid)["MapPublicIpOnLaunch"])
        self.assert_noop()

        # replace: the CIDR block and the zone force a new subnet
        props.update(cidr_block="10.30.2.0/24", availability_zone="us-east-1b")
        self.resources({"vpc": vpc, "sub": ("aws_subnet", props)})
        p = self.cairn("plan")
        self.assertIn("must be replaced", p.stdout)
        self.apply()
        new_id = self.ids()["sub"]
        self.assertNotEqual(new_id, sid)
        self.assertIsNone(self.subnet(sid))
        s = self.subnet(new_id)
        self.assertEqual((s["CidrBlock"], s["AvailabilityZone"]), ("10.30.2.0/24", "us-east-1b"))
        self.assertEqual(self.ids()["vpc"], vid)
        self.assert_noop()

        # availability_zone left out: AWS picks one, and that is no difference
        del props["availability_zone"]
        self.resources({"vpc": vpc, "sub": ("aws_subnet", props)})
        self.assert_noop()

        self.import_only("sub", "aws_subnet", dict(props, vpc_id=vid), new_id)

        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.subnet(new_id))
        self.assertIsNone(self.vpc(vid))
        self.assertEqual(self.ids(), {})

    def test_aws_error_names_resource_operation_and_code(self):
        self.resources({"vpc": ("aws_vpc", {"cidr_block": "10.31.0.0/16"}),
                        "bad": ("aws_subnet", {"vpc_id": "${vpc.id}",
                                               "cidr_block": "10.99.0.0/24"})})
        p = self.cairn("apply", "--auto-approve")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("CreateSubnet", p.stderr)
        self.assertIn("bad", p.stderr)
        self.assertIn("InvalidSubnet.Range", p.stderr)
        self.assertIn("vpc", self.ids())
        self.cairn("destroy", "--auto-approve", check=0)


class InternetGateway(NetCase):

    def test_lifecycle(self):
        vpcs = {"vpc": ("aws_vpc", {"cidr_block": "10.40.0.0/16"}),
                "vpc2": ("aws_vpc", {"cidr_block": "10.41.0.0/16"})}
        props = {"vpc_id": "${vpc.id}", "tags": {"Name": "gw"}}
        self.resources(dict(vpcs, gw=("aws_internet_gateway", props)))
        self.apply()
        ids = self.ids()
        gid = ids["gw"]
        g = self.igw(gid)
        self.assertEqual([a["VpcId"] for a in g["Attachments"]], [ids["vpc"]])
        self.assertEqual(self.tags(g), dict(owner_tags("gw"), Name="gw"))
        self.assertIn("internet-gateway/" + gid, self.state_attrs("gw"))
        self.assert_noop()

        # update in place: moved to the other VPC, and new tags
        props.update(vpc_id="${vpc2.id}", tags={"Name": "gw2"})
        self.resources(dict(vpcs, gw=("aws_internet_gateway", props)))
        self.apply()
        self.assertEqual(self.ids()["gw"], gid)
        g = self.igw(gid)
        self.assertEqual([a["VpcId"] for a in g["Attachments"]], [ids["vpc2"]])
        self.assertEqual(self.tags(g), dict(owner_tags("gw"), Name="gw2"))
        self.assert_noop()

        # drift: detached outside cairn, re-attached by apply
        self.ec2().detach_internet_gateway(InternetGatewayId=gid, VpcId=ids["vpc2"])
        self.assert_drift("gw", "vpc_id")
        self.apply()
        self.assertEqual([a["VpcId"] for a in self.igw(gid)["Attachments"]], [ids["vpc2"]])
        self.assert_noop()

        # deleted outside cairn (it has no attribute that forces replacement):
        # the plan creates a new one
        self.ec2().detach_internet_gateway(InternetGatewayId=gid, VpcId=ids["vpc2"])
        self.ec2().delete_internet_gateway(InternetGatewayId=gid)
        p = self.cairn("plan", "--detailed-exitcode")
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.apply()
        new_id = self.ids()["gw"]
        self.assertNotEqual(new_id, gid)
        self.assertEqual([a["VpcId"] for a in self.igw(new_id)["Attachments"]], [ids["vpc2"]])
        self.assert_noop()

        self.import_only("gw", "aws_internet_gateway", dict(props, vpc_id=ids["vpc2"]), new_id)

        # destroy detaches before deleting
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.igw(new_id))
        self.assertIsNone(self.vpc(ids["vpc2"]))
        self.assertEqual(self.ids(), {})


class RouteTable(NetCase):

    def test_lifecycle(self):
        base = {"vpc": ("aws_vpc", {"cidr_block": "10.50.0.0/16"}),
                "vpc2": ("aws_vpc", {"cidr_block": "10.51.0.0/16"}),
                "gw": ("aws_internet_gateway", {"vpc_id": "${vpc.id}"}),
                "a": ("aws_subnet", {"vpc_id": "${vpc.id}", "cidr_block": "10.50.1.0/24"}),
                "b": ("aws_subnet", {"vpc_id": "${vpc.id}", "cidr_block": "10.50.2.0/24"})}
        rt = {"vpc_id": "${vpc.id}", "tags": {"Name": "public"},
              "route": [{"cidr_block": "0.0.0.0/0", "gateway_id": "${gw.id}"}]}
        rt2 = {"vpc_id": "${vpc.id}"}
        assoc = {"subnet_id": "${a.id}", "route_table_id": "${rt.id}"}

        def write():
            self.resources(dict(base, rt=("aws_route_table", rt), rt2=("aws_route_table", rt2),
                                assoc=("aws_route_table_association", assoc)))

        write()
        self.apply()
        ids = self.ids()
        rid, gid, aid = ids["rt"], ids["gw"], ids["assoc"]
        t = self.rtb(rid)
        self.assertEqual(t["VpcId"], ids["vpc"])
        self.assertEqual(self.routes(rid), [("0.0.0.0/0", gid)])
        self.assertEqual(self.tags(t), dict(owner_tags("rt"), Name="public"))
        self.assertEqual([(a["RouteTableAssociationId"], a["SubnetId"]) for a in t["Associations"]],
                         [(aid, ids["a"])])
        self.assertEqual(self.routes(ids["rt2"]), [])
        self.assert_noop()

        # update in place: a second route, then the first one removed; tags
        rt["route"] = [{"cidr_block": "0.0.0.0/0", "gateway_id": "${gw.id}"},
                       {"cidr_block": "192.168.0.0/16", "gateway_id": "${gw.id}"}]
        rt["tags"] = {"Name": "public", "env": "test"}
        write()
        self.apply()
        self.assertEqual(self.ids()["rt"], rid)
        self.assertEqual(self.routes(rid), [("0.0.0.0/0", gid), ("192.168.0.0/16", gid)])
        self.assertEqual(self.tags(self.rtb(rid)),
                         dict(owner_tags("rt"), Name="public", env="test"))
        self.assert_noop()
        rt["route"] = [{"cidr_block": "192.168.0.0/16", "gateway_id": "${gw.id}"}]
        write()
        self.apply()
        self.assertEqual(self.routes(rid), [("192.168.0.0/16", gid)])
        self.assert_noop()

        # drift: a route deleted and one added outside cairn
        self.ec2().delete_route(RouteTableId=rid, DestinationCidrBlock="192.168.0.0/16")
        self.ec2().create_route(RouteTableId=rid, DestinationCidrBlock="172.16.0.0/12",
                                GatewayId=gid)
        self.assert_drift("rt", "route")
        self.apply()
        self.assertEqual(self.routes(rid), [("192.168.0.0/16", gid)])
        self.assert_noop()

        # association: moved to the other table in place (AWS gives it a new id)
        assoc["route_table_id"] = "${rt2.id}"
        write()
        p = self.cairn("plan")
        self.assertIn("updated in place", p.stdout)
        self.apply()
        self.assertEqual([a["SubnetId"] for a in self.rtb(ids["rt2"])["Associations"]],
                         [ids["a"]])
        self.assertEqual(self.rtb(rid)["Associations"], [])
        self.assert_noop()

        # association: another subnet replaces it
        assoc["subnet_id"] = "${b.id}"
        write()
        p = self.cairn("plan")
        self.assertIn("must be replaced", p.stdout)
        self.apply()
        self.assertEqual([a["SubnetId"] for a in self.rtb(ids["rt2"])["Associations"]],
                         [ids["b"]])
        aid = self.ids()["assoc"]
        self.assert_noop()

        # drift: the association removed outside cairn is made again
        self.ec2().disassociate_route_table(AssociationId=aid)
        p = self.cairn("plan", "--detailed-exitcode")
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.apply()
        self.assertEqual([a["SubnetId"] for a in self.rtb(ids["rt2"])["Associations"]],
                         [ids["b"]])
        aid = self.ids()["assoc"]
        self.assert_noop()

        # replace: a route table moved to another VPC
        rt2["vpc_id"] = "${vpc2.id}"
        self.resources(dict(base, rt=("aws_route_table", rt), rt2=("aws_route_table", rt2)))
        self.apply()
        new_rt2 = self.ids()["rt2"]
        self.assertNotEqual(new_rt2, ids["rt2"])
        self.assertIsNone(self.rtb(ids["rt2"]))
        self.assertEqual(self.rtb(new_rt2)["VpcId"], ids["vpc2"])
        self.assertNotIn("assoc", self.ids())
        self.assert_noop()

        # import: the table by id, an association by SUBNET/TABLE as Terraform does
        self.import_only("rt", "aws_route_table",
                         dict(rt, vpc_id=ids["vpc"],
                              route=[{"cidr_block": "192.168.0.0/16", "gateway_id": gid}]), rid)
        new_aid = self.ec2().associate_route_table(RouteTableId=rid,
                                                   SubnetId=ids["a"])["AssociationId"]
        got = self.import_only("assoc", "aws_route_table_association",
                               {"subnet_id": ids["a"], "route_table_id": rid},
                               "%s/%s" % (ids["a"], rid))
        self.assertEqual(got, new_aid)
        self.ec2().disassociate_route_table(AssociationId=new_aid)

        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.rtb(rid))
        self.assertIsNone(self.rtb(new_rt2))
        self.assertIsNone(self.vpc(ids["vpc"]))
        self.assertEqual(self.ids(), {})


class SecurityGroup(NetCase):

    def ingress(self, gid):
        return self.sg(gid)["IpPermissions"]

    def flat(self, perms):
        """Every (protocol, from, to, source, description), sorted."""
        out = []
        for p in perms:
            key = (p["IpProtocol"], p.get("FromPort", 0), p.get("ToPort", 0))
            for r in p.get("IpRanges", []):
                out.append(key + (r["CidrIp"], r.get("Description", "")))
            for r in p.get("UserIdGroupPairs", []):
                out.append(key + (r["GroupId"], r.get("Description", "")))
        return sorted(out)

    def test_lifecycle(self):
        vpc = ("aws_vpc", {"cidr_block": "10.60.0.0/16"})
        other = ("aws_security_group", {"name": "net-other", "vpc_id": "${vpc.id}"})
        props = {"name": "net-web", "description": "web servers", "vpc_id": "${vpc.id}",
                 "ingress": [
                     {"from_port": 80, "to_port": 80, "protocol": "tcp",
                      "cidr_blocks": ["0.0.0.0/0", "10.0.0.0/8"], "description": "http"},
                     {"from_port": 443, "to_port": 443, "protocol": "tcp", "self": True,
                      "security_groups": ["${other.id}"]}],
                 "egress": [{"from_port": 0, "to_port": 0, "protocol": "-1",
                             "cidr_blocks": ["0.0.0.0/0"]}],
                 "tags": {"Name": "web"}}

        def write():
            self.resources({"vpc": vpc, "other": other, "web": ("aws_security_group", props)})

        write()
        self.apply()
        ids = self.ids()
        gid, oid = ids["web"], ids["other"]
        g = self.sg(gid)
        self.assertEqual((g["GroupName"], g["Description"], g["VpcId"]),
                         ("net-web", "web servers", ids["vpc"]))
        self.assertEqual(self.flat(g["IpPermissions"]), sorted([
            ("tcp", 80, 80, "0.0.0.0/0", "http"), ("tcp", 80, 80, "10.0.0.0/8", "http"),
            ("tcp", 443, 443, gid, ""), ("tcp", 443, 443, oid, "")]))
        self.assertEqual(self.flat(g["IpPermissionsEgress"]), [("-1", 0, 0, "0.0.0.0/0", "")])
        self.assertEqual(self.tags(g), dict(owner_tags("web"), Name="web"))
        self.assertIn(g["SecurityGroupArn"], self.state_attrs("web"))
        # the group without egress rules lost AWS's default allow-all egress
        self.assertEqual(self.sg(oid)["IpPermissionsEgress"], [])
        self.assert_noop()

        # update in place: a rule added, a description changed, a source
        # dropped, egress removed, tags changed
        props["ingress"] = [
            {"from_port": 80, "to_port": 80, "protocol": "tcp", "cidr_blocks": ["10.0.0.0/8"],
             "description": "http inside"},
            {"from_port": 443, "to_port": 443, "protocol": "tcp", "self": True},
            {"from_port": 22, "to_port": 22, "protocol": "tcp", "cidr_blocks": ["10.1.0.0/16"]}]
        props["egress"] = []
        props["tags"] = {"Name": "web", "env": "test"}
        write()
        self.apply()
        self.assertEqual(self.ids()["web"], gid)
        g = self.sg(gid)
        self.assertEqual(self.flat(g["IpPermissions"]), sorted([
            ("tcp", 80, 80, "10.0.0.0/8", "http inside"), ("tcp", 443, 443, gid, ""),
            ("tcp", 22, 22, "10.1.0.0/16", "")]))
        self.assertEqual(g["IpPermissionsEgress"], [])
        self.assertEqual(self.tags(g), dict(owner_tags("web"), Name="web", env="test"))
        self.assert_noop()

        # drift: a rule added and one revoked outside cairn
        ec2 = self.ec2()
        ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080,
             "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        ec2.revoke_security_group_ingress(GroupId=gid, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
             "IpRanges": [{"CidrIp": "10.1.0.0/16"}]}])
        self.assert_drift("web", "ingress")
        self.apply()
        self.assertEqual(self.flat(self.ingress(gid)), sorted([
            ("tcp", 80, 80, "10.0.0.0/8", "http inside"), ("tcp", 443, 443, gid, ""),
            ("tcp", 22, 22, "10.1.0.0/16", "")]))
        self.assert_noop()

        # replace: the description forces a new group
        props["description"] = "web tier"
        write()
        p = self.cairn("plan")
        self.assertIn("must be replaced", p.stdout)
        self.apply()
        new_id = self.ids()["web"]
        self.assertNotEqual(new_id, gid)
        self.assertIsNone(self.sg(gid))
        g = self.sg(new_id)
        self.assertEqual(g["Description"], "web tier")
        self.assertEqual(self.flat(g["IpPermissions"]), sorted([
            ("tcp", 80, 80, "10.0.0.0/8", "http inside"), ("tcp", 443, 443, new_id, ""),
            ("tcp", 22, 22, "10.1.0.0/16", "")]))
        self.assert_noop()

        # import: rules come back in protocol, port, description order
        self.import_only("web", "aws_security_group", {
            "name": "net-web", "description": "web tier", "vpc_id": ids["vpc"],
            "ingress": [
                {"from_port": 22, "to_port": 22, "protocol": "tcp",
                 "cidr_blocks": ["10.1.0.0/16"]},
                {"from_port": 80, "to_port": 80, "protocol": "tcp",
                 "cidr_blocks": ["10.0.0.0/8"], "description": "http inside"},
                {"from_port": 443, "to_port": 443, "protocol": "tcp", "self": True}],
            "tags": {"Name": "web", "env": "test"}}, new_id)

        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.sg(new_id))
        self.assertIsNone(self.sg(oid))
        self.assertIsNone(self.vpc(ids["vpc"]))
        self.assertEqual(self.ids(), {})

    def test_name_left_out_and_declared_allow_all_egress_kept(self):
        vpc = ("aws_vpc", {"cidr_block": "10.61.0.0/16"})
        sg = {"vpc_id": "${vpc.id}",
              "egress": [{"from_port": 0, "to_port": 0, "protocol": "all",
                          "cidr_blocks": ["0.0.0.0/0"]}]}
        self.resources({"vpc": vpc, "anon": ("aws_security_group", sg)})
        self.apply()
        g = self.sg(self.ids()["anon"])
        self.assertEqual(g["GroupName"], "net-anon")
        self.assertEqual(g["Description"], "Managed by cairn")
        self.assertEqual(self.flat(g["IpPermissionsEgress"]), [("-1", 0, 0, "0.0.0.0/0", "")])
        self.assert_noop()
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertEqual(self.ids(), {})

    def test_rule_without_source_is_refused_before_any_call(self):
        self.resources({"vpc": ("aws_vpc", {"cidr_block": "10.62.0.0/16"}),
                        "bad": ("aws_security_group", {"vpc_id": "${vpc.id}", "ingress": [
                            {"from_port": 80, "to_port": 80, "protocol": "tcp"}]})})
        p = self.cairn("apply", "--auto-approve")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("ingress rule 1 has no source", p.stderr)
        vid = self.ids()["vpc"]
        groups = self.ec2().describe_security_groups(
            Filters=[{"Name": "vpc-id", "Values": [vid]}])["SecurityGroups"]
        self.assertEqual([g["GroupName"] for g in groups], ["default"])
        self.cairn("destroy", "--auto-approve", check=0)


class CrashRecovery(NetCase):
    """cairn killed right after AWS made a resource: the next apply adopts it
    (through the ownership tags, or the subnet and table of an association)
    instead of making a second one."""

    RESOURCES = {
        "vpc": ("aws_vpc", {"cidr_block": "10.70.0.0/16"}),
        "sub": ("aws_subnet", {"vpc_id": "${vpc.id}", "cidr_block": "10.70.1.0/24"}),
        "gw": ("aws_internet_gateway", {"vpc_id": "${vpc.id}"}),
        "rt": ("aws_route_table", {"vpc_id": "${vpc.id}", "route": [
            {"cidr_block": "0.0.0.0/0", "gateway_id": "${gw.id}"}]}),
        "assoc": ("aws_route_table_association",
                  {"subnet_id": "${sub.id}", "route_table_id": "${rt.id}"}),
        "sg": ("aws_security_group", {"vpc_id": "${vpc.id}", "ingress": [
            {"from_port": 80, "to_port": 80, "protocol": "tcp",
             "cidr_blocks": ["0.0.0.0/0"]}]}),
    }

    def tagged(self, describe, key, name):
        items = describe(Filters=[{"Name": "tag:cairn:stack", "Values": [STACK]},
                                  {"Name": "tag:cairn:resource", "Values": [name]}])[key]
        return items

    def counts(self):
        ec2 = self.ec2()
        c = {"vpc": len(self.tagged(ec2.describe_vpcs, "Vpcs", "vpc")),
             "sub": len(self.tagged(ec2.describe_subnets, "Subnets", "sub")),
             "gw": len(self.tagged(ec2.describe_internet_gateways, "InternetGateways", "gw")),
             "rt": len(self.tagged(ec2.describe_route_tables, "RouteTables", "rt")),
             "sg": len(self.tagged(ec2.describe_security_groups, "SecurityGroups", "sg"))}
        subs = self.tagged(ec2.describe_subnets, "Subnets", "sub")
        c["assoc"] = len(ec2.describe_route_tables(Filters=[
            {"Name": "association.subnet-id", "Values": [s["SubnetId"] for s in subs]}]
        )["RouteTables"]) if subs else 0
        return c

    def kill_when(self, name):
        """Runs apply slowly and SIGKILLs it as soon as moto holds name."""
        px = FaultProxy(self.moto.url, latency_ms=400).start()
        self.addCleanup(px.stop)
        env = dict(self.env, AWS_ENDPOINT_URL=px.url)
        p = subprocess.Popen([harness.CAIRN, "apply", "--auto-approve"], cwd=self.dir, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: p.poll() is None and p.kill())
        deadline = time.time() + 120
        while self.counts()[name] == 0:
            self.assertIsNone(p.poll(), "apply ended before %s was made" % name)
            self.assertLess(time.time(), deadline)
            time.sleep(0.05)
        p.send_signal(signal.SIGKILL)
        p.wait()

    def test_killed_after_create_calls(self):
        self.resources(self.RESOURCES)
        self.kill_when("sg")
        self.kill_when("assoc")
        self.apply()
        self.assertEqual(self.counts(), {n: 1 for n in self.RESOURCES})
        ids = self.ids()
        self.assertEqual(sorted(ids), sorted(self.RESOURCES))
        sg = self.sg(ids["sg"])
        self.assertEqual(sg["IpPermissionsEgress"], [])
        self.assertEqual(len(sg["IpPermissions"]), 1)
        self.assertEqual(self.routes(ids["rt"]), [("0.0.0.0/0", ids["gw"])])
        self.assert_noop()
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertEqual(self.counts(), {n: 0 for n in self.RESOURCES})


class LostAnswers(NetCase):
    """An attach / associate / authorize call that AWS carried out but whose
    answer never came back (the fault proxy drops it): the client's retry
    meets "already so", which is success; with no retry left the run fails
    and the next apply converges."""

    RESOURCES = CrashRecovery.RESOURCES

    def proxied(self, *patterns, times=1):
        px = FaultProxy(self.moto.url).start()
        self.addCleanup(px.stop)
        for pat in patterns:
            px.lose(pat, times)
        env = dict(self.env, AWS_ENDPOINT_URL=px.url, AWS_MAX_ATTEMPTS="2")
        r = subprocess.run([harness.CAIRN, "apply", "--auto-approve"], cwd=self.dir, env=env,
                           capture_output=True, text=True, timeout=300)
        return px, r

    def check_converged(self):
        ids = self.ids()
        self.assertEqual(sorted(ids), sorted(self.RESOURCES))
        self.assertEqual([a["VpcId"] for a in self.igw(ids["gw"])["Attachments"]],
                         [ids["vpc"]])
        self.assertEqual(self.routes(ids["rt"]), [("0.0.0.0/0", ids["gw"])])
        self.assertEqual(len(self.sg(ids["sg"])["IpPermissions"]), 1)
        assocs = [a for a in self.rtb(ids["rt"])["Associations"] if a.get("SubnetId")]
        self.assertEqual([a["SubnetId"] for a in assocs], [ids["sub"]])
        self.assert_noop()

    def test_retried_calls_meet_already_so(self):
        self.resources(self.RESOURCES)
        px, r = self.proxied("Action=AttachInternetGateway", "Action=AssociateRouteTable",
                             "Action=AuthorizeSecurityGroupIngress")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(px.lost, 3)
        self.check_converged()

    def test_second_apply_converges(self):
        self.resources(self.RESOURCES)
        # every answer lost (libcurl, too, resends once on a dead connection)
        px, r = self.proxied("Action=AttachInternetGateway", times=100)
        self.assertGreaterEqual(px.lost, 2)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.apply()
        self.check_converged()

    def test_moved_gateway_attach_lost(self):
        vpcs = {"vpc": ("aws_vpc", {"cidr_block": "10.42.0.0/16"}),
                "vpc2": ("aws_vpc", {"cidr_block": "10.43.0.0/16"})}
        self.resources(dict(vpcs, gw=("aws_internet_gateway", {"vpc_id": "${vpc.id}"})))
        self.apply()
        self.resources(dict(vpcs, gw=("aws_internet_gateway", {"vpc_id": "${vpc2.id}"})))
        px, r = self.proxied("Action=AttachInternetGateway")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(px.lost, 1)
        ids = self.ids()
        self.assertEqual([a["VpcId"] for a in self.igw(ids["gw"])["Attachments"]],
                         [ids["vpc2"]])
        self.assert_noop()


if __name__ == "__main__":
    unittest.main()
