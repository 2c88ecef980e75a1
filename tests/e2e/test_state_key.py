"""Secrets sealed inside the state (issue 14 item 4; README "State
encryption"), against moto in signature-checking mode.

With CAIRN_STATE_KEY (or a KMS data key under CAIRN_STATE_KMS_KEY_ID) the
state holds sensitive attributes, output values, journal intents and the
saved-plan key sealed. Sentinels: an SSM SecureString literal, a sensitive
variable that becomes a Secrets Manager secret_string and a sensitive
output, and a SecureString read by a data source. Every byte of the state
file (and its -wal), of `state pull`'s copy and of the S3 object is
searched for them: zero hits, while plan/apply/refresh/state show/output
and destroy work as without a key. Without the key, or with another,
every command fails clearly and the state's bytes stay as they were.
"""
import base64
import hashlib
import json
import os
import sqlite3

import harness
import test_exec
from harness import CairnTestCase

LITERAL = "S3aled-literal-sentinel-7f3a21"
VARIABLE = "S3aled-variable-sentinel-5c9e04"
DATA = "S3aled-data-sentinel-b81d6f"
KEY = base64.b64encode(bytes(range(32))).decode()
OTHER_KEY = "ab" * 32

STACK = """stack: sealed
region: us-east-1
variables:
  db_pass:
    type: string
    sensitive: true
data:
  given:
    type: aws_ssm_parameter
    properties:
      name: /sealed/given
resources:
  param:
    type: aws_ssm_parameter
    properties:
      name: /sealed/TAG/param
      type: SecureString
      value: %s
  secret:
    type: aws_secretsmanager_secret
    properties:
      name: sealed-secret-TAG
      recovery_window_in_days: 0
  version:
    type: aws_secretsmanager_secret_version
    properties:
      secret_id: ${secret.id}
      secret_string: ${var.db_pass}
  topic:
    type: aws_sns_topic
    properties:
      name: sealed-topic-TAG
outputs:
  pass:
    value: ${var.db_pass}
    sensitive: true
  given:
    value: ${data.given.value}
    sensitive: true
  topic_arn:
    value: ${topic.arn}
""" % LITERAL


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class StateKeyCase(CairnTestCase):
    def setUp(self):
        super().setUp()
        self.boto("ssm").put_parameter(Name="/sealed/given", Value=DATA, Type="SecureString",
                                       Overwrite=True)
        self.env["CAIRN_VAR_db_pass"] = VARIABLE
        self.tag = self._testMethodName[5:25].replace("_", "-")
        self.stack = STACK.replace("TAG", self.tag)
        self.write("stack.yaml", self.stack)
        self.db = os.path.join(self.dir, "cairn.db")

    def with_key(self, key=KEY):
        return {"CAIRN_STATE_KEY": key}

    def assert_clean_bytes(self, where, data):
        for what, secret in (("literal", LITERAL), ("variable", VARIABLE), ("data", DATA)):
            self.assertNotIn(secret.encode(), data, "%s sentinel found in %s" % (what, where))

    def assert_file_clean(self, path):
        for p in (path, path + "-wal"):
            if os.path.exists(p):
                with open(p, "rb") as f:
                    self.assert_clean_bytes(p, f.read())

    def meta(self, path, key):
        c = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
        try:
            row = c.execute("SELECT value FROM cairn_meta WHERE key = ?", (key,)).fetchone()
            return row[0] if row else None
        finally:
            c.close()

    def plan_key_lengths(self, path):
        c = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
        try:
            return [r[0] for r in c.execute("SELECT length(key) FROM plan_keys")]
        finally:
            c.close()

    def check_transparent(self, env):
        """What works with the key exactly as without one."""
        self.cairn("plan", "--detailed-exitcode", env=env, check=0)
        p = self.cairn("state", "show", "version", env=env, check=0)
        self.assertIn("(sensitive)", p.stdout)
        self.assertNotIn(VARIABLE, p.stdout + p.stderr)
        p = self.cairn("state", "show", "data.given", env=env, check=0)
        self.assertNotIn(DATA, p.stdout + p.stderr)
        p = self.cairn("output", "--json", env=env, check=0)
        outs = json.loads(p.stdout)
        self.assertEqual(outs["pass"]["value"], VARIABLE)     # opened again for scripts
        self.assertEqual(outs["given"]["value"], DATA)
        self.assertTrue(outs["pass"]["sensitive"])
        self.cairn("refresh", env=env, check=0)
        self.cairn("plan", "--detailed-exitcode", env=env, check=0)

    def check_refused(self, path, env_none, env_wrong, read_bytes):
        before = read_bytes()
        p = self.cairn("plan", env=env_none)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("sealed", p.stderr)
        self.assertIn("CAIRN_STATE_K", p.stderr)
        p = self.cairn("apply", "--auto-approve", env=env_wrong)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("another key", p.stderr)
        p = self.cairn("state", "list", env=env_wrong)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        p = self.cairn("destroy", "--auto-approve", env=env_none)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertEqual(read_bytes(), before, "a refused run changed the state")


class TestLocalStateKey(StateKeyCase):
    def test_sealed_apply_plan_destroy(self):
        env = self.with_key()
        self.cairn("plan", "--out", "p.plan", env=env, check=0)
        p = self.cairn("apply", "--auto-approve", "p.plan", env=env, check=0)
        self.assertIn("Apply complete", p.stdout)
        # The secrets really went to AWS.
        self.assertEqual(self.boto("ssm").get_parameter(Name="/sealed/%s/param" % self.tag,
                                                         WithDecryption=True)
                         ["Parameter"]["Value"], LITERAL)
        self.assertEqual(self.boto("secretsmanager").get_secret_value(
            SecretId="sealed-secret-" + self.tag)
                         ["SecretString"], VARIABLE)
        self.assert_file_clean(self.db)
        self.assertIsNotNone(self.meta(self.db, "seal_check"))
        self.assertEqual(self.meta(self.db, "seal_kind"), "key")
        self.assertEqual(self.plan_key_lengths(self.db), [60])   # the plan key is wrapped
        self.check_transparent(env)
        self.cairn("state", "pull", "copy.db", env=env, check=0)
        self.assert_file_clean(os.path.join(self.dir, "copy.db"))
        self.assert_file_clean(self.db)
        self.check_refused(self.db, {}, self.with_key(OTHER_KEY),
                           lambda: sha(self.db))
        # A saved plan against the sealed state still applies.
        self.write("stack.yaml", self.stack.replace("/param", "/param2"))
        self.cairn("plan", "--out", "p2.plan", env=env, check=0)
        self.cairn("apply", "--auto-approve", "p2.plan", env=env, check=0)
        self.assert_file_clean(self.db)
        self.cairn("destroy", "--auto-approve", env=env, check=0)
        self.assertEqual(self.boto("ssm").describe_parameters(
            ParameterFilters=[{"Key": "Name", "Values": ["/sealed/%s/param2" % self.tag]}])["Parameters"], [])
        self.assert_file_clean(self.db)

    def test_enabling_the_key_seals_an_existing_state(self):
        self.cairn("plan", "--out", "p.plan", check=0)    # a plan key in clear too
        self.cairn("apply", "--auto-approve", check=0)
        with open(self.db, "rb") as f:
            plain = f.read()
        # Without a key the state is plain, as before: the test can fail.
        for secret in (LITERAL, VARIABLE, DATA):
            self.assertIn(secret.encode(), plain)
        self.assertEqual(self.plan_key_lengths(self.db), [32])
        env = self.with_key()
        p = self.cairn("apply", "--auto-approve", "--detailed-exitcode", env=env)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)   # nothing to change
        self.assert_file_clean(self.db)
        self.assertEqual(self.plan_key_lengths(self.db), [60])
        self.check_transparent(env)
        self.check_refused(self.db, {}, self.with_key(OTHER_KEY), lambda: sha(self.db))

    def test_rotation_kms_and_back_to_clear(self):
        self.cairn("plan", "--out", "p.plan", env=self.with_key(), check=0)
        self.cairn("apply", "--auto-approve", env=self.with_key(), check=0)
        first = self.meta(self.db, "seal_check")
        # Rotate: the new key, the old one as previous; any locking run rewrites it all.
        p = self.cairn("refresh", env={"CAIRN_STATE_KEY": OTHER_KEY,
                                       "CAIRN_STATE_KEY_PREVIOUS": KEY})
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertNotEqual(self.meta(self.db, "seal_check"), first)
        self.assert_file_clean(self.db)
        self.check_transparent(self.with_key(OTHER_KEY))
        p = self.cairn("plan", env=self.with_key())
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("another key", p.stderr)
        # Move it to a KMS data key.
        key_id = self.boto("kms").create_key()["KeyMetadata"]["KeyId"]
        p = self.cairn("refresh", env={"CAIRN_STATE_KMS_KEY_ID": key_id,
                                       "CAIRN_STATE_KEY_PREVIOUS": OTHER_KEY})
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(self.meta(self.db, "seal_kind"), "kms")
        self.assert_file_clean(self.db)
        kms_env = {"CAIRN_STATE_KMS_KEY_ID": key_id}
        self.check_transparent(kms_env)
        self.assertEqual(self.plan_key_lengths(self.db), [60])
        # And back to a state in clear: the previous key alone.
        p = self.cairn("refresh", env={"CAIRN_STATE_KEY_PREVIOUS": "kms"})
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIsNone(self.meta(self.db, "seal_check"))
        self.assertEqual(self.plan_key_lengths(self.db), [32])
        with open(self.db, "rb") as f:
            self.assertIn(LITERAL.encode(), f.read())
        self.check_transparent({})
        self.cairn("destroy", "--auto-approve", check=0)

    def test_bad_key_text(self):
        p = self.cairn("apply", "--auto-approve", env={"CAIRN_STATE_KEY": "too-short"})
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("64 hex digits or as base64", p.stderr)
        p = self.cairn("apply", "--auto-approve",
                       env={"CAIRN_STATE_KEY": KEY, "CAIRN_STATE_KMS_KEY_ID": "k"})
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("not both", p.stderr)
        # Refused before any AWS call.
        self.assertEqual(self.boto("ssm").describe_parameters(ParameterFilters=[
            {"Key": "Name", "Values": ["/sealed/%s/param" % self.tag]}])["Parameters"], [])

    def test_kms_data_key(self):
        kms = self.boto("kms")
        key_id = kms.create_key(Description="cairn state")["KeyMetadata"]["KeyId"]
        env = {"CAIRN_STATE_KMS_KEY_ID": key_id}
        self.cairn("apply", "--auto-approve", env=env, check=0)
        self.assertEqual(self.meta(self.db, "seal_kind"), "kms")
        self.assertEqual(self.meta(self.db, "seal_kms_key_id"), key_id)
        wrapped = self.meta(self.db, "seal_kms_data_key")
        self.assertTrue(wrapped)
        # What the state keeps is what KMS decrypts (boto3's own view).
        self.assertEqual(len(kms.decrypt(CiphertextBlob=base64.b64decode(wrapped))["Plaintext"]),
                         32)
        self.assert_file_clean(self.db)
        self.check_transparent(env)
        # The data key never reaches the -v request log.
        data_key = kms.decrypt(CiphertextBlob=base64.b64decode(wrapped))["Plaintext"]
        p = self.cairn("-v", "plan", env=env, check=0)
        self.assertIn("Decrypt", p.stderr)
        self.assertNotIn(base64.b64encode(data_key).decode(), p.stdout + p.stderr)
        before = sha(self.db)
        p = self.cairn("plan", env=self.with_key())
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("CAIRN_STATE_KMS_KEY_ID", p.stderr)
        p = self.cairn("plan")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("CAIRN_STATE_KMS_KEY_ID", p.stderr)
        self.assertEqual(sha(self.db), before)
        self.cairn("destroy", "--auto-approve", env=env, check=0)


class TestS3StateKey(StateKeyCase):
    def setUp(self):
        super().setUp()
        self.bucket = "cairn-sealed-%s" % self._testMethodName[-12:].replace("_", "-")
        self.s3 = self.boto("s3")
        self.s3.create_bucket(Bucket=self.bucket)
        self.key = "team/sealed.db"
        self.env["CAIRN_STATE"] = "s3://%s/%s" % (self.bucket, self.key)

    def obj(self):
        return self.s3.get_object(Bucket=self.bucket, Key=self.key)["Body"].read()

    def test_sealed_object(self):
        env = self.with_key()
        self.cairn("apply", "--auto-approve", env=env, check=0)
        body = self.obj()
        self.assertTrue(body.startswith(b"SQLite format 3"))
        self.assert_clean_bytes("the S3 object", body)
        path = os.path.join(self.dir, "image.db")
        with open(path, "wb") as f:
            f.write(body)
        self.assertEqual(self.meta(path, "seal_kind"), "key")
        self.check_transparent(env)
        self.assert_clean_bytes("the S3 object", self.obj())
        self.cairn("state", "pull", "copy.db", env=env, check=0)
        self.assert_file_clean(os.path.join(self.dir, "copy.db"))
        self.check_refused(None, {}, self.with_key(OTHER_KEY),
                           lambda: (self.s3.head_object(Bucket=self.bucket, Key=self.key)
                                    ["ETag"], self.keys()))
        self.cairn("destroy", "--auto-approve", env=env, check=0)
        self.assert_clean_bytes("the S3 object", self.obj())

    def keys(self):
        return sorted(o["Key"] for o in
                      self.s3.list_objects_v2(Bucket=self.bucket).get("Contents", []))

    def test_kms_object(self):
        key_id = self.boto("kms").create_key()["KeyMetadata"]["KeyId"]
        env = {"CAIRN_STATE_KMS_KEY_ID": key_id}
        self.cairn("apply", "--auto-approve", env=env, check=0)
        self.assert_clean_bytes("the S3 object", self.obj())
        self.cairn("plan", "--detailed-exitcode", env=env, check=0)
        p = self.cairn("plan")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("CAIRN_STATE_KMS_KEY_ID", p.stderr)
        self.cairn("destroy", "--auto-approve", env=env, check=0)



class TestCrashSafetySealed(test_exec.TestCrashSafety):
    """test_exec's SIGKILL trials (apply and destroy killed at seeded random
    moments, then resumed) with a state key: the journal's intents are
    sealed, and the next run still opens them and adopts what was made."""

    def setUp(self):
        super().setUp()
        self.env["CAIRN_STATE_KEY"] = KEY
