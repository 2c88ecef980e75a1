"""Secrets never leak (SPEC: "Secrets (secret keys, session tokens,
sensitive attributes) never appear in output, logs or plan files in clear").

Sentinel secrets: the AWS secret access key and session token of the run's
credentials (a role session from moto's STS), an SSM SecureString written
in the stack, and a variable marked sensitive that becomes another
SecureString and a sensitive output. Every command runs with -v (the
request log), in text and JSON where it has JSON, through saved plans,
drift (the value changed behind cairn's back to a third sentinel), error
paths (a refused call, an unknown variable, a throttled call) and destroy;
every byte of stdout, stderr, every saved plan file and the state's apply
history is searched for every sentinel: zero hits. The one exception is
the explicit request `cairn output NAME` / `cairn output --json`, which
prints an output's value for scripts as Terraform does (its log is clean).
"""
import json
import os
import sqlite3

from faultproxy import FaultProxy
import harness
from harness import CairnTestCase

LITERAL = "S3cr3t-literal-sentinel-4c1e9b"
VARIABLE = "S3cr3t-variable-sentinel-8d2f70"
DRIFTED = "S3cr3t-drifted-sentinel-19ab3c"

STACK = """stack: secrets
region: us-east-1
variables:
  db_pass:
    type: string
    sensitive: true
resources:
  literal:
    type: aws_ssm_parameter
    properties:
      name: /secrets/literal
      type: SecureString
      value: %s
  from_var:
    type: aws_ssm_parameter
    properties:
      name: /secrets/from-var
      type: SecureString
      value: ${var.db_pass}
      description: db password
  topic:
    type: aws_sns_topic
    properties:
      name: secrets-topic
outputs:
  pass:
    value: ${from_var.value}
    sensitive: true
  topic_arn:
    value: ${topic.arn}
""" % LITERAL


class TestSecretsNeverLeak(CairnTestCase):
    def setUp(self):
        super().setUp()
        iam = self.boto("iam")
        trust = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]})
        role = iam.create_role(RoleName="secrets-" + self._testMethodName[-20:],
                               AssumeRolePolicyDocument=trust)["Role"]
        iam.put_role_policy(RoleName=role["RoleName"], PolicyName="all",
                            PolicyDocument=harness.ALLOW_ALL)
        c = self.boto("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="secrets")[
            "Credentials"]
        self.env.update({"AWS_ACCESS_KEY_ID": c["AccessKeyId"],
                         "AWS_SECRET_ACCESS_KEY": c["SecretAccessKey"],
                         "AWS_SESSION_TOKEN": c["SessionToken"],
                         "CAIRN_VAR_db_pass": VARIABLE})
        self.sentinels = {"secret key": c["SecretAccessKey"], "session token": c["SessionToken"],
                          "literal SecureString": LITERAL, "sensitive variable": VARIABLE,
                          "drifted value": DRIFTED}
        self.write("stack.yaml", STACK)
        self.searched = 0

    def assert_clean(self, where, text):
        self.searched += len(text)
        for what, secret in self.sentinels.items():
            self.assertNotIn(secret, text, "%s found in %s" % (what, where))

    def run_all(self, *args, code=None, env=None):
        p = self.cairn("-v", *args, env=env)
        name = "cairn -v " + " ".join(args)
        self.assertNotIn("Sanitizer", p.stderr)
        if code is not None:
            self.assertEqual(p.returncode, code, name + "\n" + p.stdout + p.stderr[-3000:])
        self.assert_clean(name + " stdout", p.stdout)
        self.assert_clean(name + " stderr", p.stderr)
        return p

    def assert_file_clean(self, path):
        with open(path, "rb") as f:
            self.assert_clean(path, f.read().decode("utf-8", "replace"))

    def test_no_command_prints_a_secret(self):
        self.run_all("validate", code=0)
        self.run_all("plan", code=0)
        self.run_all("plan", "--json", code=0)
        self.run_all("plan", "--out", "first.plan", code=0)
        self.assert_file_clean(os.path.join(self.dir, "first.plan"))
        p = self.run_all("apply", "--auto-approve", "first.plan", code=0)
        self.assertIn("Apply complete", p.stdout)
        ssm = self.boto("ssm")
        got = ssm.get_parameter(Name="/secrets/from-var", WithDecryption=True)["Parameter"]
        self.assertEqual(got["Value"], VARIABLE)     # the sentinels really went to AWS
        self.assertGreater(len(self.run_all("plan", code=0).stderr), 1000)
        self.run_all("plan", "--detailed-exitcode", code=0)
        self.run_all("apply", "--auto-approve", code=0)
        self.run_all("state", "list", code=0)
        for name in ("literal", "from_var", "topic"):
            self.run_all("state", "show", name, code=0)
            self.run_all("state", "show", name, "--json", code=0)
        p = self.run_all("output", code=0)
        self.assertIn("pass", p.stdout)
        # Asked for by name or as JSON for scripts, an output's value is
        # printed, sensitive or not (as Terraform does): only the log is clean.
        p = self.cairn("-v", "output", "--json", check=0)
        self.assertTrue(json.loads(p.stdout)["pass"]["sensitive"])
        self.assert_clean("cairn -v output --json stderr", p.stderr)
        self.assert_clean("cairn -v output pass stderr",
                          self.cairn("-v", "output", "pass").stderr)
        self.run_all("refresh", code=0)
        self.run_all("graph", code=0)

        # drift: the value changed behind cairn's back, then an update in place
        ssm.put_parameter(Name="/secrets/literal", Value=DRIFTED, Type="SecureString",
                          Overwrite=True)
        self.run_all("plan", code=0)
        self.run_all("plan", "--json", code=0)
        self.run_all("refresh")
        self.run_all("plan", "--out", "drift.plan", code=0)
        self.assert_file_clean(os.path.join(self.dir, "drift.plan"))
        self.run_all("apply", "--auto-approve", "drift.plan", code=0)
        self.write("stack.yaml", STACK.replace("db password", "the db password"))
        self.run_all("apply", "--auto-approve", code=0)

        # error paths: a refused call, a throttled one, a stale plan, a missing variable
        self.write("stack.yaml", STACK.replace("secrets-topic", "secrets-topic2"))
        self.run_all("plan", "--out", "stale.plan", code=0)
        self.assert_file_clean(os.path.join(self.dir, "stale.plan"))
        self.run_all("apply", "--auto-approve", code=0)
        self.run_all("apply", "--auto-approve", "stale.plan", code=1)
        px = FaultProxy(self.moto.url).start()
        self.addCleanup(px.stop)
        px.add_rule("throttle", service="ssm")
        self.write("stack.yaml", STACK.replace("db password", "db password v3"))
        self.run_all("apply", "--auto-approve", code=1,
                     env={"AWS_ENDPOINT_URL": px.url, "AWS_MAX_ATTEMPTS": "2"})
        px.clear_rules()
        px.add_rule("error200", service="ssm", code="AccessDeniedException")
        self.run_all("apply", "--auto-approve", code=1, env={"AWS_ENDPOINT_URL": px.url})
        self.run_all("plan", "--var", "undeclared=1", code=1)
        self.run_all("plan", code=1, env={"AWS_SECRET_ACCESS_KEY": "wrong" + "x" * 35})
        self.run_all("apply", "--auto-approve", code=0)
        self.run_all("destroy", "--auto-approve", code=0)

        # the state's apply history
        db = sqlite3.connect(self.env["CAIRN_STATE"])
        rows = db.execute("SELECT command, result, summary FROM history").fetchall()
        db.close()
        self.assertGreater(len(rows), 5)
        self.assert_clean("state history", json.dumps(rows))
        self.assertGreater(self.searched, 100000)
        print("secrets: %d bytes searched for %d sentinels, 0 found" % (self.searched, len(self.sentinels)))
