"""Keys and secrets family (aws_kms_key, aws_kms_alias,
aws_secretsmanager_secret, aws_secretsmanager_secret_version) against moto:
create -> check with boto3 -> no-op plan -> update in place -> drift shows
and is reverted -> replace -> import into a fresh state -> destroy -> a kill
during create is adopted. A secret's value never shows in plans (text,
JSON, saved), state show or the -v request log."""
import json
import os
import unittest

from family import FamilyCase

STACK = "sec"
OWNER = {"cairn:stack": STACK}
SECRET = "s3cr3t-Passw0rd-xyzzy"
SECRET2 = "an0ther-Passw0rd-plugh"


def import_settings(case, name, rid, *settings):
    """Imports rid as name into a fresh state. Settings of cairn's own calls
    that AWS cannot report (a deletion window, say) read back as their
    defaults, as in Terraform: the first plan changes only those, in place
    and without an AWS call, and the next is a no-op."""
    other = case.dir + "/other.db"
    case.cairn("--state", other, "import", name, rid, check=0)
    case.assertEqual(case.ids("--state", other), {name: rid})
    p = case.cairn("--state", other, "plan", "--json", check=0)
    changes = [c for c in json.loads(p.stdout)["changes"] if c["action"] != "noop"]
    for c in changes:
        case.assertEqual(c["action"], "update", p.stdout)
        diff = sorted(k for k in set(c["before"]) | set(c["after"])
                      if c["before"].get(k) != c["after"].get(k))
        case.assertEqual(diff, sorted(settings), p.stdout)
    case.cairn("--state", other, "apply", "--auto-approve", check=0)
    case.assert_noop("--state", other)


def stack_doc(resources):
    return json.dumps({"stack": STACK, "region": "us-east-1", "resources": resources})


class KmsKey(FamilyCase):
    STACK = STACK

    def key(self, kid):
        kms = self.boto("kms")
        try:
            m = kms.describe_key(KeyId=kid)["KeyMetadata"]
        except kms.exceptions.NotFoundException:
            return None
        return None if m["KeyState"] == "PendingDeletion" else m

    def tags(self, kid):
        return {t["TagKey"]: t["TagValue"]
                for t in self.boto("kms").list_resource_tags(KeyId=kid)["Tags"]}

    def owned(self, name):
        kms = self.boto("kms")
        return [k["KeyId"] for k in kms.list_keys()["Keys"]
                if self.key(k["KeyId"]) and self.tags(k["KeyId"]).get("cairn:resource") == name]

    def test_lifecycle(self):
        props = {"description": "app key", "deletion_window_in_days": 7,
                 "tags": {"team": "sec"}}
        self.stack("key", "aws_kms_key", props)
        self.apply()
        kid = self.ids()["key"]
        m = self.key(kid)
        self.assertEqual(m["Description"], "app key")
        self.assertEqual(m["KeySpec"], "SYMMETRIC_DEFAULT")
        self.assertEqual(self.tags(kid), dict(OWNER, team="sec", **{"cairn:resource": "key"}))
        shown = self.cairn("state", "show", "key", "--json", check=0).stdout
        self.assertIn(m["Arn"], shown)
        self.assert_noop()

        # update in place: description, rotation, policy, tags
        pol = {"Version": "2012-10-17", "Statement": [
            {"Sid": "root", "Effect": "Allow",
             "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
             "Action": "kms:*", "Resource": "*"}]}
        props.update(description="app key v2", enable_key_rotation=True, policy=pol,
                     tags={"team": "core"})
        self.stack("key", "aws_kms_key", props)
        self.apply()
        self.assertEqual(self.ids()["key"], kid)
        self.assertEqual(self.key(kid)["Description"], "app key v2")
        self.assertTrue(self.boto("kms").get_key_rotation_status(KeyId=kid)["KeyRotationEnabled"])
        self.assertEqual(json.loads(self.boto("kms").get_key_policy(
            KeyId=kid, PolicyName="default")["Policy"]), pol)
        self.assertEqual(self.tags(kid)["team"], "core")
        self.assert_noop()

        # drift: disabled and re-described outside cairn
        self.boto("kms").disable_key(KeyId=kid)
        self.boto("kms").update_key_description(KeyId=kid, Description="hacked")
        self.assert_drift("key", "hacked", "is_enabled")
        self.apply()
        m = self.key(kid)
        self.assertTrue(m["Enabled"])
        self.assertEqual(m["Description"], "app key v2")
        self.assert_noop()

        # replace: another key spec is another key; the old one is scheduled
        props["customer_master_key_spec"] = "RSA_2048"
        props["key_usage"] = "SIGN_VERIFY"
        props["enable_key_rotation"] = False
        self.stack("key", "aws_kms_key", props)
        self.assertIn("forces replacement", self.cairn("plan").stdout)
        self.apply()
        kid2 = self.ids()["key"]
        self.assertNotEqual(kid2, kid)
        self.assertEqual(self.boto("kms").describe_key(KeyId=kid)["KeyMetadata"]["KeyState"],
                         "PendingDeletion")
        self.assertEqual(self.key(kid2)["KeySpec"], "RSA_2048")
        self.assert_noop()

        import_settings(self, "key", kid2, "deletion_window_in_days")
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.key(kid2))

    def test_adopted_after_kill_mid_create(self):
        self.stack("kill", "aws_kms_key", {"deletion_window_in_days": 7})
        self.kill_mid_create("kill", lambda: self.owned("kill"))
        self.assertEqual(len(self.owned("kill")), 1)
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertEqual(self.owned("kill"), [])


class KmsAlias(FamilyCase):
    STACK = STACK

    def alias(self, name):
        got = [a for a in self.boto("kms").list_aliases()["Aliases"] if a["AliasName"] == name]
        return got[0] if got else None

    def test_lifecycle(self):
        kms = self.boto("kms")
        k1 = kms.create_key()["KeyMetadata"]
        k2 = kms.create_key()["KeyMetadata"]
        props = {"name": "alias/sec-app", "target_key_id": k1["KeyId"]}
        self.stack("al", "aws_kms_alias", props)
        self.apply()
        self.assertEqual(self.ids()["al"], "alias/sec-app")
        self.assertEqual(self.alias("alias/sec-app")["TargetKeyId"], k1["KeyId"])
        shown = self.cairn("state", "show", "al", "--json", check=0).stdout
        self.assertIn(k1["Arn"], shown)
        self.assert_noop()

        # update in place: another key, given by ARN
        props["target_key_id"] = k2["Arn"]
        self.stack("al", "aws_kms_alias", props)
        self.assertIn("updated in place", self.cairn("plan").stdout)
        self.apply()
        self.assertEqual(self.alias("alias/sec-app")["TargetKeyId"], k2["KeyId"])
        self.assert_noop()

        # drift: pointed back outside cairn
        kms.update_alias(AliasName="alias/sec-app", TargetKeyId=k1["KeyId"])
        self.assert_drift("al", k1["KeyId"])
        self.apply()
        self.assertEqual(self.alias("alias/sec-app")["TargetKeyId"], k2["KeyId"])

        # replace: a new name
        props["name"] = "alias/sec-app2"
        self.stack("al", "aws_kms_alias", props)
        self.assertIn("forces replacement", self.cairn("plan").stdout)
        self.apply()
        self.assertIsNone(self.alias("alias/sec-app"))
        self.assertEqual(self.alias("alias/sec-app2")["TargetKeyId"], k2["KeyId"])
        self.assert_noop()

        import_settings(self, "al", "alias/sec-app2", "target_key_id")
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.alias("alias/sec-app2"))

    def test_key_and_alias_in_one_stack(self):
        self.write("stack.json", stack_doc({
            "key": {"type": "aws_kms_key", "properties": {"deletion_window_in_days": 7}},
            "al": {"type": "aws_kms_alias",
                   "properties": {"name": "alias/sec-one", "target_key_id": "${key.key_id}"}}}))
        self.cairn("apply", "--auto-approve", check=0)
        self.assertEqual(self.alias("alias/sec-one")["TargetKeyId"], self.ids()["key"])
        self.assert_noop()
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.alias("alias/sec-one"))

    def test_adopted_after_kill_mid_create(self):
        kid = self.boto("kms").create_key()["KeyMetadata"]["KeyId"]
        self.stack("kill", "aws_kms_alias", {"name": "alias/sec-kill", "target_key_id": kid})
        self.kill_mid_create("kill", lambda: self.alias("alias/sec-kill"))
        self.assertEqual(self.ids()["kill"], "alias/sec-kill")
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.alias("alias/sec-kill"))


class Secret(FamilyCase):
    STACK = STACK

    def secret(self, sid):
        sm = self.boto("secretsmanager")
        try:
            d = sm.describe_secret(SecretId=sid)
        except sm.exceptions.ResourceNotFoundException:
            return None
        return None if d.get("DeletedDate") else d

    def assert_hidden(self, p, *secrets):
        for s in secrets:
            self.assertNotIn(s, p.stdout)
            self.assertNotIn(s, p.stderr)

    def test_secret_lifecycle(self):
        props = {"name": "sec/db", "description": "db", "recovery_window_in_days": 0,
                 "tags": {"team": "sec"}}
        self.stack("sec", "aws_secretsmanager_secret", props)
        self.apply()
        arn = self.ids()["sec"]
        d = self.secret(arn)
        self.assertEqual(d["Name"], "sec/db")
        self.assertEqual(d["Description"], "db")
        self.assertEqual({t["Key"]: t["Value"] for t in d["Tags"]},
                         dict(OWNER, team="sec", **{"cairn:resource": "sec"}))
        self.assert_noop()

        # update in place: description, policy, tags
        pol = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
             "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}
        props.update(description="db v2", policy=pol, tags={"team": "core"})
        self.stack("sec", "aws_secretsmanager_secret", props)
        self.apply()
        self.assertEqual(self.ids()["sec"], arn)
        d = self.secret(arn)
        self.assertEqual(d["Description"], "db v2")
        self.assertEqual({t["Key"]: t["Value"] for t in d["Tags"]}["team"], "core")
        self.assertEqual(json.loads(self.boto("secretsmanager").get_resource_policy(
            SecretId=arn)["ResourcePolicy"]), pol)
        self.assert_noop()

        # drift
        self.boto("secretsmanager").update_secret(SecretId=arn, Description="hacked")
        self.assert_drift("sec", "hacked")
        self.apply()
        self.assertEqual(self.secret(arn)["Description"], "db v2")
        self.assert_noop()

        # replace: a new name
        props["name"] = "sec/db2"
        self.stack("sec", "aws_secretsmanager_secret", props)
        self.assertIn("forces replacement", self.cairn("plan").stdout)
        self.apply()
        arn2 = self.ids()["sec"]
        self.assertNotEqual(arn2, arn)
        self.assertIsNone(self.secret(arn))
        self.assert_noop()

        import_settings(self, "sec", arn2, "recovery_window_in_days")
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.secret(arn2))

    def test_destroy_keeps_recovery_window(self):
        self.stack("sec", "aws_secretsmanager_secret", {"name": "sec/window",
                                                        "recovery_window_in_days": 7})
        self.apply()
        arn = self.ids()["sec"]
        self.cairn("destroy", "--auto-approve", check=0)
        d = self.boto("secretsmanager").describe_secret(SecretId=arn)
        self.assertIn("DeletedDate", d)
        self.assertEqual(self.ids(), {})

    def test_version_lifecycle_and_secrecy(self):
        secret = {"type": "aws_secretsmanager_secret",
                  "properties": {"name": "sec/pw", "recovery_window_in_days": 0}}
        version = {"type": "aws_secretsmanager_secret_version",
                   "properties": {"secret_id": "${sec.id}", "secret_string": SECRET}}
        self.write("stack.json", stack_doc({"sec": secret, "pw": version}))
        p = self.cairn("plan", "--out", "plan.bin")
        self.assertIn("(sensitive)", p.stdout)
        self.assert_hidden(p, SECRET)
        with open(os.path.join(self.dir, "plan.bin"), "rb") as f:
            self.assertNotIn(SECRET.encode(), f.read())
        p = self.cairn("-v", "apply", "--auto-approve", "plan.bin", check=0)
        self.assert_hidden(p, SECRET)
        ids = self.ids()
        arn, vid = ids["pw"].split("|")
        self.assertEqual(arn, ids["sec"])
        sm = self.boto("secretsmanager")
        v = sm.get_secret_value(SecretId=arn)
        self.assertEqual(v["SecretString"], SECRET)
        self.assertEqual(v["VersionId"], vid)
        for args in (("state", "show", "pw"), ("state", "show", "pw", "--json"),
                     ("-v", "plan"), ("-v", "refresh"), ("plan", "--json")):
            self.assert_hidden(self.cairn(*args, check=0), SECRET)
        self.assert_noop()

        # update in place: staging labels
        version["properties"]["version_stages"] = ["AWSCURRENT", "blue"]
        self.write("stack.json", stack_doc({"sec": secret, "pw": version}))
        self.apply()
        self.assertEqual(sorted(sm.describe_secret(SecretId=arn)["VersionIdsToStages"][vid]),
                         ["AWSCURRENT", "blue"])
        self.assert_noop()

        # drift: a label taken off outside cairn
        sm.update_secret_version_stage(SecretId=arn, VersionStage="blue",
                                       RemoveFromVersionId=vid)
        p = self.assert_drift("pw", "blue")
        self.assert_hidden(p, SECRET)
        self.apply()
        self.assertIn("blue", sm.describe_secret(SecretId=arn)["VersionIdsToStages"][vid])

        # replace: a new value is a new version; the old keeps no label
        version["properties"]["secret_string"] = SECRET2
        self.write("stack.json", stack_doc({"sec": secret, "pw": version}))
        p = self.cairn("-v", "plan")
        self.assertIn("forces replacement", p.stdout)
        self.assert_hidden(p, SECRET, SECRET2)
        p = self.cairn("-v", "apply", "--auto-approve", check=0)
        self.assert_hidden(p, SECRET, SECRET2)
        vid2 = self.ids()["pw"].split("|")[1]
        self.assertNotEqual(vid2, vid)
        self.assertEqual(sm.get_secret_value(SecretId=arn)["SecretString"], SECRET2)
        # AWS moves AWSPREVIOUS onto the version that was current
        self.assertEqual(sm.describe_secret(SecretId=arn)["VersionIdsToStages"].get(vid, []),
                         ["AWSPREVIOUS"])
        self.assert_noop()

        # import both into a fresh state: the secret by ARN, the version by ARN|VERSION
        other = self.dir + "/other.db"
        self.cairn("--state", other, "import", "sec", arn, check=0)
        self.cairn("--state", other, "import", "pw", arn + "|" + vid2, check=0)
        self.assertEqual(self.ids("--state", other), {"sec": arn, "pw": arn + "|" + vid2})
        p = self.cairn("--state", other, "plan", check=0)
        self.assert_hidden(p, SECRET2)
        self.assertIn("recovery_window_in_days = 30 -> 0", p.stdout)
        self.assertIn("1 to change", p.stdout)
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.secret(arn))

    def test_adopted_after_kill_mid_create(self):
        self.stack("kill", "aws_secretsmanager_secret", {"name": "sec/kill",
                                                         "recovery_window_in_days": 0})
        self.kill_mid_create("kill", lambda: self.secret("sec/kill"))
        self.assertEqual(self.ids()["kill"], self.secret("sec/kill")["ARN"])
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.secret("sec/kill"))

    def test_version_adopted_after_kill_mid_create(self):
        arn = self.boto("secretsmanager").create_secret(Name="sec/vkill")["ARN"]
        self.stack("kill", "aws_secretsmanager_secret_version",
                   {"secret_id": arn, "secret_string": SECRET})
        sm = self.boto("secretsmanager")
        self.kill_mid_create("kill", lambda: sm.list_secret_version_ids(SecretId=arn)["Versions"])
        self.assertEqual(len(sm.list_secret_version_ids(SecretId=arn)["Versions"]), 1)
        self.assertEqual(self.ids()["kill"].split("|")[1],
                         sm.get_secret_value(SecretId=arn)["VersionId"])


if __name__ == "__main__":
    unittest.main()
