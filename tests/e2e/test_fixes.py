"""End-to-end checks of fixes from the layering review (issue 8).

- every command exits 1 when its standard output cannot be written
  (`cairn schema > /dev/full` used to exit 0);
- `plan --refresh=false` asks AWS nothing, so it works with no environment
  at all (`env -i`): ${aws.account_id} is known after apply, or the account
  recorded by the last apply;
- `cairn refresh` honours lifecycle.ignore_changes as `plan` does: a change
  of an ignored attribute is recorded but not reported as drift.
"""
import os
import subprocess

import harness

ACCOUNT_STACK = """\
stack: acct
region: us-east-1
resources:
  t:
    type: aws_sns_topic
    properties:
      name: t-${aws.account_id}
outputs:
  acct: {value: "${aws.account_id}"}
"""

IGNORE_STACK = """\
stack: ign
resources:
  t:
    type: aws_sns_topic
    lifecycle: {ignore_changes: [display_name]}
    properties:
      name: ign-topic
      display_name: first
"""


class StdoutErrorTest(harness.CairnTestCase):
    def run_full(self, *args):
        with open("/dev/full", "w") as full:
            return subprocess.run([harness.CAIRN] + list(args), cwd=self.dir, env=self.env,
                                  stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)

    def test_write_error_exits_1(self):
        self.write("stack.yaml", ACCOUNT_STACK)
        for args in (["schema"], ["schema", "aws_sns_topic"], ["version"], ["validate"],
                     ["graph"], ["plan", "--refresh=false"]):
            p = self.run_full(*args)
            self.assertEqual(p.returncode, 1, "%s: %s" % (args, p.stderr))
            self.assertIn("cannot write to standard output", p.stderr)


class OfflinePlanTest(harness.CairnTestCase):
    def bare(self, *args, check=0):
        # env -i: no credentials, no region, no HOME, nothing
        p = subprocess.run([harness.CAIRN] + list(args), cwd=self.dir, env={},
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, check, p.stdout + p.stderr)
        return p

    def test_no_credentials_at_all(self):
        self.write("stack.yaml", ACCOUNT_STACK)
        p = self.bare("plan", "--refresh=false")
        self.assertIn("+ name                        = (known after apply)", p.stdout)
        self.assertIn("Plan: 1 to add, 0 to change, 0 to destroy.", p.stdout)
        self.assertEqual(p.stderr, "")

    def test_account_from_the_state(self):
        self.write("stack.yaml", ACCOUNT_STACK)
        db = os.path.join(self.dir, "cairn.db")
        self.cairn("apply", "--auto-approve", env={"CAIRN_STATE": db}, check=0)
        arns = [t["TopicArn"] for t in self.boto("sns").list_topics()["Topics"]]
        self.assertTrue(any(a.endswith(":t-123456789012") for a in arns), arns)
        # the state (cairn.db in the current directory) recorded the account
        p = self.bare("plan", "--refresh=false", "--detailed-exitcode")
        self.assertIn("No changes.", p.stdout)


class RefreshIgnoreChangesTest(harness.CairnTestCase):
    def test_ignored_attribute_is_not_drift(self):
        self.write("stack.yaml", IGNORE_STACK)
        self.cairn("apply", "--auto-approve", check=0)
        sns = self.boto("sns")
        arn = [t["TopicArn"] for t in sns.list_topics()["Topics"]
               if t["TopicArn"].endswith(":ign-topic")][0]
        sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName",
                                 AttributeValue="changed")
        plan = self.cairn("plan", "--detailed-exitcode", check=0)
        self.assertNotIn("Changed outside cairn", plan.stdout)
        p = self.cairn("refresh", check=0)
        self.assertIn("Refresh complete: no changes outside cairn.", p.stdout)
        # recorded as AWS reports it all the same
        show = self.cairn("state", "show", "t", "--json", check=0)
        self.assertIn('"changed"', show.stdout)
