"""RDS family (aws_db_subnet_group, aws_db_instance) against moto: create ->
check with boto3 -> no-op plan -> update in place -> drift -> replace ->
import -> destroy (final snapshot rules, deletion protection) -> a kill
during create is adopted. The password never shows in plans, saved plans,
state show or the -v request log."""
import json
import os
import unittest

from family import FamilyCase
from rewriteproxy import RewriteProxy

STACK = "rds"
OWNER = {"cairn:stack": STACK}
PASSWORD = "Db-Passw0rd-quux-1234"
PASSWORD2 = "Db-Passw0rd-corge-5678"


def tagmap(items):
    return {t["Key"]: t["Value"] for t in items}


class RdsCase(FamilyCase):
    STACK = STACK

    def setUp(self):
        super().setUp()
        ec2 = self.boto("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
        self.subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock="10.7.%d.0/24" % i,
                                          AvailabilityZone="us-east-1" + z)["Subnet"]["SubnetId"]
                        for i, z in ((1, "a"), (2, "b"), (3, "c"))]
        self.sg = ec2.create_security_group(GroupName="db", Description="db",
                                            VpcId=vpc)["GroupId"]

    def group(self, name):
        rds = self.boto("rds")
        try:
            return rds.describe_db_subnet_groups(DBSubnetGroupName=name)["DBSubnetGroups"][0]
        except rds.exceptions.DBSubnetGroupNotFoundFault:
            return None

    def db(self, ident):
        rds = self.boto("rds")
        try:
            return rds.describe_db_instances(DBInstanceIdentifier=ident)["DBInstances"][0]
        except rds.exceptions.DBInstanceNotFoundFault:
            return None

    def assert_hidden(self, p, *secrets):
        for s in secrets:
            self.assertNotIn(s, p.stdout)
            self.assertNotIn(s, p.stderr)


class DbSubnetGroup(RdsCase):
    def test_lifecycle(self):
        props = {"name": "rds-app", "description": "app db", "subnet_ids": self.subnets[:2],
                 "tags": {"team": "data"}}
        self.stack("grp", "aws_db_subnet_group", props)
        self.apply()
        self.assertEqual(self.ids()["grp"], "rds-app")
        g = self.group("rds-app")
        self.assertEqual(sorted(s["SubnetIdentifier"] for s in g["Subnets"]),
                         sorted(self.subnets[:2]))
        self.assertEqual(tagmap(self.boto("rds").list_tags_for_resource(
            ResourceName=g["DBSubnetGroupArn"])["TagList"]),
            dict(OWNER, team="data", **{"cairn:resource": "grp"}))
        self.assert_noop()

        # update in place: tags (moto's ModifyDBSubnetGroup deletes the
        # group, so the subnet change is only planned here; test_wire
        # checks the request against botocore's model)
        props["tags"] = {"team": "core"}
        self.stack("grp", "aws_db_subnet_group", props)
        self.apply()
        self.assertEqual(tagmap(self.boto("rds").list_tags_for_resource(
            ResourceName=g["DBSubnetGroupArn"])["TagList"])["team"], "core")
        self.assert_noop()
        props["subnet_ids"] = self.subnets
        self.stack("grp", "aws_db_subnet_group", props)
        p = self.cairn("plan")
        self.assertIn("updated in place", p.stdout)
        self.assertIn(self.subnets[2], p.stdout)
        props["subnet_ids"] = self.subnets[:2]

        # drift: a tag changed outside cairn
        self.boto("rds").add_tags_to_resource(ResourceName=g["DBSubnetGroupArn"],
                                              Tags=[{"Key": "team", "Value": "x"}])
        self.stack("grp", "aws_db_subnet_group", props)
        self.assert_drift("grp", "team")
        self.apply()
        self.assert_noop()

        # replace: a new name
        props["name"] = "rds-app2"
        self.stack("grp", "aws_db_subnet_group", props)
        self.assertIn("forces replacement", self.cairn("plan").stdout)
        self.apply()
        self.assertIsNone(self.group("rds-app"))
        self.assertIsNotNone(self.group("rds-app2"))
        self.assert_noop()

        self.import_fresh("grp", "rds-app2")
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.group("rds-app2"))

    def test_adopted_after_kill_mid_create(self):
        self.stack("kill", "aws_db_subnet_group", {"name": "rds-kill",
                                                   "subnet_ids": self.subnets[:2]})
        self.kill_mid_create("kill", lambda: self.group("rds-kill"))
        self.assertEqual(self.ids()["kill"], "rds-kill")
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.group("rds-kill"))


class DbInstance(RdsCase):
    def doc(self, db_props):
        return json.dumps({"stack": STACK, "region": "us-east-1", "resources": {
            "grp": {"type": "aws_db_subnet_group",
                    "properties": {"name": "rds-db", "subnet_ids": self.subnets[:2]}},
            "db": {"type": "aws_db_instance", "properties": db_props}}})

    def test_lifecycle(self):
        props = {"identifier": "rds-mysql", "engine": "mysql", "instance_class": "db.t3.micro",
                 "allocated_storage": 20, "username": "admin", "password": PASSWORD,
                 "db_subnet_group_name": "${grp.name}", "vpc_security_group_ids": [self.sg],
                 "skip_final_snapshot": True, "tags": {"team": "data"}}
        self.write("stack.json", self.doc(props))
        p = self.cairn("plan", "--out", "plan.bin")
        self.assertIn("(sensitive)", p.stdout)
        self.assert_hidden(p, PASSWORD)
        with open(os.path.join(self.dir, "plan.bin"), "rb") as f:
            self.assertNotIn(PASSWORD.encode(), f.read())
        p = self.cairn("-v", "apply", "--auto-approve", "plan.bin", check=0)
        self.assert_hidden(p, PASSWORD)
        self.assertEqual(self.ids()["db"], "rds-mysql")
        d = self.db("rds-mysql")
        self.assertEqual(d["DBInstanceClass"], "db.t3.micro")
        self.assertEqual(d["Engine"], "mysql")
        self.assertEqual(d["DBSubnetGroup"]["DBSubnetGroupName"], "rds-db")
        self.assertEqual([g["VpcSecurityGroupId"] for g in d["VpcSecurityGroups"]], [self.sg])
        self.assertEqual(tagmap(d["TagList"]), dict(OWNER, team="data",
                                                    **{"cairn:resource": "db"}))
        shown = json.loads(self.cairn("state", "show", "db", "--json", check=0).stdout)
        shown = shown.get("attributes", shown)
        self.assertEqual(shown["address"], d["Endpoint"]["Address"])
        self.assertEqual(shown["endpoint"], "%s:%d" % (d["Endpoint"]["Address"],
                                                       d["Endpoint"]["Port"]))
        for args in (("state", "show", "db"), ("state", "show", "db", "--json"),
                     ("-v", "plan"), ("-v", "refresh"), ("plan", "--json")):
            self.assert_hidden(self.cairn(*args, check=0), PASSWORD)
        self.assert_noop()

        # update in place: class, password, backups, tags, deletion protection
        props.update(instance_class="db.t3.small", password=PASSWORD2,
                     backup_retention_period=7, apply_immediately=True,
                     deletion_protection=True, tags={"team": "core"})
        self.write("stack.json", self.doc(props))
        p = self.cairn("-v", "plan")
        self.assertIn("updated in place", p.stdout)
        self.assert_hidden(p, PASSWORD, PASSWORD2)
        p = self.cairn("-v", "apply", "--auto-approve", check=0)
        self.assert_hidden(p, PASSWORD, PASSWORD2)
        d = self.db("rds-mysql")
        self.assertEqual(d["DBInstanceClass"], "db.t3.small")
        self.assertEqual(d["BackupRetentionPeriod"], 7)
        self.assertTrue(d["DeletionProtection"])
        self.assertEqual(tagmap(d["TagList"])["team"], "core")
        self.assert_noop()

        # deletion protection honoured: destroy refuses and deletes nothing
        p = self.cairn("destroy", "--auto-approve")
        self.assertEqual(p.returncode, 1)
        self.assertIn("deletion_protection", p.stderr)
        self.assertIsNotNone(self.db("rds-mysql"))
        props["deletion_protection"] = False
        self.write("stack.json", self.doc(props))
        self.apply()

        # drift: the class changed outside cairn
        self.boto("rds").modify_db_instance(DBInstanceIdentifier="rds-mysql",
                                            DBInstanceClass="db.t3.medium",
                                            ApplyImmediately=True)
        self.assert_drift("db", "db.t3.medium")
        self.apply()
        self.assertEqual(self.db("rds-mysql")["DBInstanceClass"], "db.t3.small")
        self.assert_noop()

        # replace: another engine; the old instance goes under its recorded
        # settings (skip_final_snapshot), then one of the same identifier comes
        props["engine"] = "postgres"
        self.write("stack.json", self.doc(props))
        self.assertIn("forces replacement", self.cairn("plan").stdout)
        self.apply()
        self.assertEqual(self.db("rds-mysql")["Engine"], "postgres")
        self.assert_noop()

        other = self.dir + "/other.db"
        self.cairn("--state", other, "import", "grp", "rds-db", check=0)
        self.cairn("--state", other, "import", "db", "rds-mysql", check=0)
        p = self.cairn("--state", other, "plan", "--json", check=0)
        changed = [c for c in json.loads(p.stdout)["changes"] if c["action"] != "noop"]
        # the write-only password and cairn's own delete settings are all
        # that an import cannot know
        self.assertEqual([c["name"] for c in changed], ["db"])
        self.assertEqual(changed[0]["action"], "update")

        props.update(skip_final_snapshot=False, final_snapshot_identifier="rds-pg-final")
        self.write("stack.json", self.doc(props))
        self.apply()
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.db("rds-mysql"))
        self.assertIsNone(self.group("rds-db"))
        snaps = [s["DBSnapshotIdentifier"] for s in
                 self.boto("rds").describe_db_snapshots()["DBSnapshots"]]
        self.assertIn("rds-pg-final", snaps)

    def test_final_snapshot_required(self):
        props = {"identifier": "rds-snap", "engine": "postgres", "instance_class": "db.t3.micro",
                 "allocated_storage": 20, "username": "admin", "password": PASSWORD,
                 "db_subnet_group_name": "${grp.name}"}
        self.write("stack.json", self.doc(props))
        self.apply()
        p = self.cairn("destroy", "--auto-approve")
        self.assertEqual(p.returncode, 1)
        self.assertIn("final_snapshot_identifier is required", p.stderr)
        self.assertIsNotNone(self.db("rds-snap"))
        props["skip_final_snapshot"] = True
        self.write("stack.json", self.doc(props))
        self.apply()
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.db("rds-snap"))

    def test_managed_master_password(self):
        props = {"identifier": "rds-managed", "engine": "mysql", "instance_class": "db.t3.micro",
                 "allocated_storage": 20, "username": "admin",
                 "manage_master_user_password": True, "skip_final_snapshot": True,
                 "db_subnet_group_name": "${grp.name}"}
        self.write("stack.json", self.doc(props))
        self.apply()
        d = self.db("rds-managed")
        self.assertIn("SecretArn", d["MasterUserSecret"])
        shown = self.cairn("state", "show", "db", "--json", check=0).stdout
        self.assertIn(d["MasterUserSecret"]["SecretArn"], shown)
        self.assert_noop()
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.db("rds-managed"))

    def test_create_waits_until_available(self):
        """AWS takes minutes to make an instance available: the apply waits
        (with progress) and only then records it."""
        px = RewriteProxy(self.moto.url, "DescribeDBInstances",
                          "<DBInstanceStatus>available</DBInstanceStatus>",
                          "<DBInstanceStatus>creating</DBInstanceStatus>", 11).start()
        self.addCleanup(px.stop)
        self.stack("db", "aws_db_instance", {
            "identifier": "rds-wait", "engine": "mysql", "instance_class": "db.t3.micro",
            "allocated_storage": 20, "username": "admin", "password": PASSWORD,
            "skip_final_snapshot": True})
        r = self.cairn("apply", "--auto-approve", env={"AWS_ENDPOINT_URL": px.url})
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertGreater(px.rewritten, 1, r.stdout)
        # the 10 s heartbeat (a loaded machine may print it a second late)
        self.assertRegex(r.stdout, r"db: Still creating\.\.\. \[1\ds elapsed\]")
        self.assertEqual(self.ids()["db"], "rds-wait")
        self.assert_noop()
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.db("rds-wait"))

    def test_adopted_after_kill_mid_create(self):
        self.boto("rds").create_db_subnet_group(DBSubnetGroupName="rds-k",
                                                DBSubnetGroupDescription="k",
                                                SubnetIds=self.subnets[:2])
        self.stack("kill", "aws_db_instance", {
            "identifier": "rds-kill", "engine": "mysql", "instance_class": "db.t3.micro",
            "allocated_storage": 20, "username": "admin", "password": PASSWORD,
            "db_subnet_group_name": "rds-k", "skip_final_snapshot": True})
        self.kill_mid_create("kill", lambda: self.db("rds-kill"))
        self.assertEqual(self.ids()["kill"], "rds-kill")
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.db("rds-kill"))


if __name__ == "__main__":
    unittest.main()
