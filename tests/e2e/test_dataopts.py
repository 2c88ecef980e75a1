"""DynamoDB table options (local secondary indexes, point-in-time recovery,
server-side encryption) and ECR repository encryption against moto: create
-> check with boto3 -> no-op plan -> update in place -> drift -> replace ->
import into a fresh state -> destroy; a kill mid-create adopted; and the
requests checked against botocore's models through test_wire's recorder,
for the call moto ignores (UpdateTable's SSESpecification)."""
import json
import unittest

import test_wire
from family import FamilyCase

STACK = "opts"


def table_props(**extra):
    props = {"name": "opt-orders", "billing_mode": "PAY_PER_REQUEST",
             "hash_key": "pk", "range_key": "sk",
             "attribute": [{"name": "pk", "type": "S"}, {"name": "sk", "type": "S"},
                           {"name": "created", "type": "N"}],
             "local_secondary_index": [{"name": "by_created", "range_key": "created",
                                        "projection_type": "INCLUDE",
                                        "non_key_attributes": ["total", "status"]}]}
    props.update(extra)
    return props


class TableOptions(FamilyCase):
    STACK = STACK

    def describe(self, name):
        ddb = self.boto("dynamodb")
        try:
            return ddb.describe_table(TableName=name)["Table"]
        except ddb.exceptions.ResourceNotFoundException:
            return None

    def pitr(self, name):
        d = self.boto("dynamodb").describe_continuous_backups(TableName=name)
        return d["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"][
            "PointInTimeRecoveryStatus"]

    def recorded(self, name, *state):
        out = self.cairn(*state, "state", "show", name, "--json", check=0).stdout
        doc = json.loads(out)
        return doc.get("attributes", doc)

    def test_lifecycle(self):
        props = table_props(point_in_time_recovery={"enabled": True},
                            server_side_encryption={"enabled": True})
        self.stack("orders", "aws_dynamodb_table", props)
        self.apply()
        self.assertEqual(self.ids()["orders"], "opt-orders")
        t = self.describe("opt-orders")
        lsi = {l["IndexName"]: l for l in t["LocalSecondaryIndexes"]}
        self.assertEqual(list(lsi), ["by_created"])
        self.assertEqual(lsi["by_created"]["KeySchema"],
                         [{"AttributeName": "pk", "KeyType": "HASH"},
                          {"AttributeName": "created", "KeyType": "RANGE"}])
        self.assertEqual(lsi["by_created"]["Projection"],
                         {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["total", "status"]})
        self.assertEqual({a["AttributeName"]: a["AttributeType"]
                          for a in t["AttributeDefinitions"]},
                         {"pk": "S", "sk": "S", "created": "N"})
        self.assertEqual(self.pitr("opt-orders"), "ENABLED")
        self.assertEqual((t["SSEDescription"]["Status"], t["SSEDescription"]["SSEType"]),
                         ("ENABLED", "KMS"))
        # AWS's managed key is recorded as the key in use
        rec = self.recorded("orders")
        self.assertEqual(rec["server_side_encryption"],
                         {"enabled": True, "kms_key_arn": t["SSEDescription"]["KMSMasterKeyArn"]})
        self.assertEqual(rec["point_in_time_recovery"], {"enabled": True})
        self.assert_noop()

        # in place: point-in-time recovery off
        props["point_in_time_recovery"] = {"enabled": False}
        self.stack("orders", "aws_dynamodb_table", props)
        p = self.cairn("plan", check=0)
        self.assertIn("will be updated in place", p.stdout)
        self.assertIn("point_in_time_recovery", p.stdout)
        self.assertNotIn("must be replaced", p.stdout)
        self.apply()
        self.assertEqual(self.pitr("opt-orders"), "DISABLED")
        self.assertEqual(self.describe("opt-orders")["TableArn"], t["TableArn"])
        self.assert_noop()

        # drift: recovery switched on outside cairn is reported and undone
        self.boto("dynamodb").update_continuous_backups(
            TableName="opt-orders",
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        p = self.assert_drift("orders", "point_in_time_recovery")
        self.assertIn("will be updated in place", p.stdout)
        self.apply()
        self.assertEqual(self.pitr("opt-orders"), "DISABLED")
        self.assert_noop()

        # import reads the indexes, recovery and encryption back
        self.import_fresh("orders", "opt-orders")
        other = self.recorded("orders", "--state", self.dir + "/other.db")
        self.assertEqual(other["local_secondary_index"], props["local_secondary_index"])
        self.assertEqual(other["point_in_time_recovery"], {"enabled": False})
        self.assertTrue(other["server_side_encryption"]["enabled"])

        # a local index changes only with a new table
        props["local_secondary_index"][0]["projection_type"] = "ALL"
        del props["local_secondary_index"][0]["non_key_attributes"]
        self.stack("orders", "aws_dynamodb_table", props)
        p = self.cairn("plan")
        self.assertIn("must be replaced", p.stdout)
        self.assertIn("forces replacement", p.stdout)
        self.apply()
        t2 = self.describe("opt-orders")
        self.assertEqual(t2["LocalSecondaryIndexes"][0]["Projection"], {"ProjectionType": "ALL"})
        self.assertEqual(t2["SSEDescription"]["Status"], "ENABLED")
        self.assertEqual(self.pitr("opt-orders"), "DISABLED")
        self.assert_noop()

        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.describe("opt-orders"))
        self.assertEqual(self.ids(), {})

    def test_customer_key_and_defaults(self):
        key = self.boto("kms").create_key(Description="opt")["KeyMetadata"]["Arn"]
        props = {"name": "opt-enc", "billing_mode": "PAY_PER_REQUEST", "hash_key": "id",
                 "attribute": [{"name": "id", "type": "S"}],
                 "server_side_encryption": {"enabled": True, "kms_key_arn": key}}
        self.stack("t", "aws_dynamodb_table", props)
        self.apply()
        sse = self.describe("opt-enc")["SSEDescription"]
        self.assertEqual((sse["Status"], sse["KMSMasterKeyArn"]), ("ENABLED", key))
        self.assert_noop()
        # an encryption change is in place (the request itself: TableWire)
        props["server_side_encryption"] = {"enabled": False}
        self.stack("t", "aws_dynamodb_table", props)
        p = self.cairn("plan", "--detailed-exitcode")
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("will be updated in place", p.stdout)
        self.assertNotIn("must be replaced", p.stdout)

        # left out, the options take AWS's values: no local index, recovery
        # off, the AWS owned key, and no change planned
        self.stack("plain", "aws_dynamodb_table", {
            "name": "opt-plain", "billing_mode": "PAY_PER_REQUEST", "hash_key": "id",
            "attribute": [{"name": "id", "type": "S"}]})
        self.apply()
        t = self.describe("opt-plain")
        self.assertNotIn("SSEDescription", t)
        self.assertEqual(self.pitr("opt-plain"), "DISABLED")
        self.assertEqual(self.recorded("plain")["server_side_encryption"], {"enabled": False})
        self.assert_noop()
        # recovery switched on outside, with the stack silent on it: drift
        # reported, nothing planned (AWS's setting is accepted)
        self.boto("dynamodb").update_continuous_backups(
            TableName="opt-plain",
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        p = self.cairn("plan", "--detailed-exitcode")
        self.assertIn("Changed outside cairn:", p.stdout)
        self.assertIn("point_in_time_recovery", p.stdout)
        self.assertIn("No changes", p.stdout)
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.describe("opt-plain"))

    def test_checks_before_any_call(self):
        props = table_props()
        del props["range_key"]
        props["attribute"] = [a for a in props["attribute"] if a["name"] != "sk"]
        self.stack("t", "aws_dynamodb_table", props)
        p = self.cairn("apply", "--auto-approve")
        self.assertEqual(p.returncode, 1)
        self.assertIn("local_secondary_index needs the table's range_key", p.stdout + p.stderr)
        props = table_props(server_side_encryption={
            "enabled": False, "kms_key_arn": "arn:aws:kms:us-east-1:123456789012:key/x"})
        self.stack("t", "aws_dynamodb_table", props)
        p = self.cairn("apply", "--auto-approve")
        self.assertEqual(p.returncode, 1)
        self.assertIn("kms_key_arn goes with enabled: true", p.stdout + p.stderr)
        self.assertIsNone(self.describe("opt-orders"))
        self.assertEqual(self.ids(), {})

    def test_adopted_after_kill_mid_create(self):
        self.stack("kill", "aws_dynamodb_table", table_props(
            name="opt-kill", point_in_time_recovery={"enabled": True}))
        # killed before the recovery follow-up: the adopting run completes it
        self.kill_mid_create("kill", lambda: self.describe("opt-kill") is not None)
        self.assertEqual(self.pitr("opt-kill"), "ENABLED")
        self.assertEqual(len(self.describe("opt-kill")["LocalSecondaryIndexes"]), 1)
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.describe("opt-kill"))


class RepositoryEncryption(FamilyCase):
    STACK = STACK

    def enc(self, name):
        ecr = self.boto("ecr")
        try:
            repos = ecr.describe_repositories(repositoryNames=[name])["repositories"]
        except ecr.exceptions.RepositoryNotFoundException:
            return None
        return repos[0]["encryptionConfiguration"]

    def test_lifecycle(self):
        props = {"name": "opt/app", "encryption_configuration": {"encryption_type": "KMS"}}
        self.stack("repo", "aws_ecr_repository", props)
        self.apply()
        enc = self.enc("opt/app")
        self.assertEqual(enc["encryptionType"], "KMS")
        self.assertTrue(enc["kmsKey"].startswith("arn:aws:kms:"))
        shown = json.loads(self.cairn("state", "show", "repo", "--json", check=0).stdout)
        shown = shown.get("attributes", shown)
        self.assertEqual(shown["encryption_configuration"],
                         {"encryption_type": "KMS", "kms_key": enc["kmsKey"]})
        self.assert_noop()

        self.import_fresh("repo", "opt/app")

        # encryption is set at creation only: a change replaces the repository
        props["encryption_configuration"] = {"encryption_type": "AES256"}
        self.stack("repo", "aws_ecr_repository", props)
        p = self.cairn("plan")
        self.assertIn("must be replaced", p.stdout)
        self.assertIn("forces replacement", p.stdout)
        self.apply()
        self.assertEqual(self.enc("opt/app"), {"encryptionType": "AES256"})
        self.assert_noop()

        # a customer key by ARN
        key = self.boto("kms").create_key(Description="ecr")["KeyMetadata"]["Arn"]
        props["encryption_configuration"] = {"encryption_type": "KMS", "kms_key": key}
        self.stack("repo", "aws_ecr_repository", props)
        self.apply()
        self.assertEqual(self.enc("opt/app"), {"encryptionType": "KMS", "kmsKey": key})
        self.assert_noop()

        # left out: AWS's AES256 is accepted, nothing planned
        self.stack("repo", "aws_ecr_repository", {"name": "opt/app"})
        p = self.cairn("plan", "--detailed-exitcode")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.enc("opt/app"))

    def test_key_without_kms_type_refused(self):
        self.stack("repo", "aws_ecr_repository", {
            "name": "opt/bad", "encryption_configuration": {
                "kms_key": "arn:aws:kms:us-east-1:123456789012:key/x"}})
        p = self.cairn("apply", "--auto-approve")
        self.assertEqual(p.returncode, 1)
        self.assertIn("kms_key goes with encryption_type KMS", p.stdout + p.stderr)
        self.assertIsNone(self.enc("opt/bad"))


class OptionsWire(FamilyCase):
    """Every request checked against botocore's model, including the
    UpdateTable that changes encryption (moto takes it and ignores it)."""
    STACK = STACK

    def setUp(self):
        super().setUp()
        self.rec = test_wire.Recorder(self.moto.url)
        self.addCleanup(self.rec.stop)
        self.env = dict(self.env, AWS_ENDPOINT_URL=self.rec.url)

    def sent(self, op):
        out = []
        for headers, body in self.rec.requests:
            if headers.get("X-Amz-Target", "").endswith("." + op):
                out.append(json.loads(body))
        return out

    def test_wire(self):
        key = self.boto("kms").create_key(Description="w")["KeyMetadata"]["Arn"]
        key2 = self.boto("kms").create_key(Description="w2")["KeyMetadata"]["Arn"]
        base = {
            "t": {"type": "aws_dynamodb_table", "properties": table_props(
                name="opt-wire", point_in_time_recovery={"enabled": True},
                server_side_encryption={"enabled": True, "kms_key_arn": key})},
            "r": {"type": "aws_ecr_repository", "properties": {
                "name": "opt/wire",
                "encryption_configuration": {"encryption_type": "KMS", "kms_key": key}}}}
        changed = json.loads(json.dumps(base))
        changed["t"]["properties"].update(point_in_time_recovery={"enabled": False},
                                          server_side_encryption={"enabled": True,
                                                                  "kms_key_arn": key2})
        off = json.loads(json.dumps(changed))
        off["t"]["properties"]["server_side_encryption"] = {"enabled": False}
        for doc in (base, changed, off):
            self.write("stack.json", json.dumps({"stack": STACK, "region": "us-east-1",
                                                 "resources": doc}))
            self.cairn("apply", "--auto-approve", check=0)
        self.cairn("destroy", "--auto-approve", check=0)

        bad = []
        for headers, body in self.rec.requests:
            op, problems = test_wire.check_request(headers, body)
            if problems:
                bad.append("%s: %s" % (op, "; ".join(problems)))
        self.assertEqual(bad, [])
        create = self.sent("CreateTable")[0]
        self.assertEqual(create["SSESpecification"],
                         {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key})
        self.assertEqual(create["LocalSecondaryIndexes"], [{
            "IndexName": "by_created",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                          {"AttributeName": "created", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "INCLUDE",
                           "NonKeyAttributes": ["total", "status"]}}])
        # encryption changes go alone, as DynamoDB requires
        sse = [u for u in self.sent("UpdateTable") if "SSESpecification" in u]
        self.assertEqual(sse, [
            {"TableName": "opt-wire", "SSESpecification": {"Enabled": True, "SSEType": "KMS",
                                                           "KMSMasterKeyId": key2}},
            {"TableName": "opt-wire", "SSESpecification": {"Enabled": False}}])
        self.assertEqual(
            [u["PointInTimeRecoverySpecification"] for u in self.sent("UpdateContinuousBackups")],
            [{"PointInTimeRecoveryEnabled": True}, {"PointInTimeRecoveryEnabled": False}])
        self.assertEqual(self.sent("CreateRepository")[0]["encryptionConfiguration"],
                         {"encryptionType": "KMS", "kmsKey": key})


if __name__ == "__main__":
    unittest.main()
