"""ci/cairn-ci.sh, the script the GitHub Actions workflow and the Jenkinsfile
wrap (issue 13), run as CI runs it against moto: a pull request (validate,
plan --out, the markdown comment written to a file instead of posted), the
merge (apply the reviewed plan), a stale plan refused, an invalid stack
reported in the comment, and a merge without a saved plan."""
import os
import shutil
import sqlite3
import subprocess
import unittest

from harness import CairnTestCase, CAIRN, ROOT

SCRIPT = os.path.join(ROOT, "ci", "cairn-ci.sh")

STACK = """stack: ci
region: us-east-1
resources:
  vpc:
    type: aws_vpc
    properties:
      cidr_block: 10.70.0.0/16
      tags: {Name: ci-NAME}
  events:
    type: aws_sns_topic
    properties:
      name: ci-events
"""


class CiScriptTest(CairnTestCase):
    def ci(self, mode, env=None):
        e = dict(self.env)
        e.update({"CAIRN": CAIRN, "CAIRN_STATE": os.path.join(self.dir, "team.db"),
                  "GITHUB_OUTPUT": os.path.join(self.dir, "gh-output")})
        e.pop("NO_COLOR", None)    # CI=true alone must keep colours out
        if env:
            e.update(env)
        return subprocess.run(["sh", SCRIPT, mode], cwd=self.dir, env=e, capture_output=True,
                              text=True, timeout=600)

    def read(self, name):
        with open(os.path.join(self.dir, name)) as f:
            return f.read()

    def vpcs(self):
        return self.boto("ec2").describe_vpcs(
            Filters=[{"Name": "cidr", "Values": ["10.70.0.0/16"]}])["Vpcs"]

    def test_pull_request_then_merge(self):
        self.write("stack.yaml", STACK.replace("NAME", "one"))
        p = self.ci("pr")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        comment = self.read("cairn-plan.md")
        self.assertTrue(comment.startswith("<!-- cairn-plan: stack -->\n"
                                           "### Plan: 2 to add, 0 to change, 0 to destroy.\n"),
                        comment)
        self.assertIn("| `+` | create | `vpc` | aws_vpc |", comment)
        self.assertNotIn("\033[", p.stdout + p.stderr + comment)
        self.assertIn("  + vpc (aws_vpc)\n", p.stdout)          # the log has the text plan
        self.assertIn("changes=true\n", self.read("gh-output"))
        self.assertTrue(os.path.exists(os.path.join(self.dir, "plan.bin")))
        self.assertEqual(self.vpcs(), [])                       # a PR changes nothing

        if shutil.which("cmark-gfm"):
            html = subprocess.run(["cmark-gfm", "-e", "table", "--unsafe"], input=comment,
                                  capture_output=True, text=True, check=True).stdout
            self.assertIn("<table>", html)
            self.assertIn("<details>", html)

        p = self.ci("merge")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("applying the reviewed plan plan.bin", p.stdout)
        self.assertIn("cairn-ci: applied", p.stdout)
        vpcs = self.vpcs()
        self.assertEqual(len(vpcs), 1)
        self.assertIn({"Key": "Name", "Value": "ci-one"}, vpcs[0]["Tags"])
        topics = [t["TopicArn"] for t in self.boto("sns").list_topics()["Topics"]]
        self.assertTrue(any(t.endswith(":ci-events") for t in topics), topics)

        # the next pull request changes nothing: the comment says so
        os.remove(os.path.join(self.dir, "plan.bin"))
        p = self.ci("pr")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("### No changes.", self.read("cairn-plan.md"))
        self.assertTrue(self.read("gh-output").endswith("changes=false\n"))

        # a reviewed plan goes stale when the state changes before the merge
        self.write("stack.yaml", STACK.replace("NAME", "two"))
        self.assertEqual(self.ci("pr").returncode, 0)
        self.write("stack.yaml", STACK.replace("NAME", "three"))
        os.rename(os.path.join(self.dir, "plan.bin"), os.path.join(self.dir, "reviewed.bin"))
        self.assertEqual(self.ci("merge").returncode, 0)        # another change merged first
        p = self.ci("merge", {"CAIRN_PLAN": "reviewed.bin"})
        self.assertEqual(p.returncode, 1)
        self.assertIn("saved plan is stale", p.stderr)
        self.assertIn({"Key": "Name", "Value": "ci-three"}, self.vpcs()[0]["Tags"])

        # the merge without a saved plan plans now, then applies that plan
        os.remove(os.path.join(self.dir, "plan.bin"))
        self.write("stack.yaml", STACK.replace("NAME", "four"))
        p = self.ci("merge")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("planning now", p.stdout)
        self.assertIn({"Key": "Name", "Value": "ci-four"}, self.vpcs()[0]["Tags"])

        self.cairn("--state", os.path.join(self.dir, "team.db"), "destroy", "--auto-approve",
                   check=0)
        self.assertEqual(self.vpcs(), [])

    def test_invalid_stack_is_reported_in_the_comment(self):
        self.write("web.yaml", STACK.replace("cidr_block", "cidr_blok"))
        p = self.ci("pr", {"CAIRN_STACK": "web.yaml", "CAIRN_COMMENT": "comment.md"})
        self.assertEqual(p.returncode, 1)
        comment = self.read("comment.md")
        self.assertTrue(comment.startswith("<!-- cairn-plan: web.yaml -->\n"
                                           "### cairn validate failed\n"), comment)
        self.assertIn("web.yaml:", comment)
        self.assertIn("cidr_blok", comment)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "plan.bin")))

    def test_lock_wait_has_a_heartbeat(self):
        # a CI job waiting for the lock says so at least every 30 s
        self.write("stack.yaml", STACK.replace("NAME", "lock").replace("10.70.", "10.71."))
        db = os.path.join(self.dir, "team.db")
        self.cairn("--state", db, "apply", "--auto-approve", check=0)
        con = sqlite3.connect(db)
        con.execute("INSERT INTO locks (stack, host, pid, operation, since) VALUES "
                    "('ci', 'runner-7', 4242, 'apply', '2026-01-01T00:00:00Z')")
        con.commit()
        con.close()
        p = self.cairn("--state", db, "apply", "--auto-approve", "--lock-timeout", "31",
                       env={"CI": "true"})
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("Still waiting for the lock [30s of 31s elapsed]: stack 'ci' is locked by",
                      p.stdout)
        self.assertIn("runner-7", p.stderr)
        con = sqlite3.connect(db)
        con.execute("DELETE FROM locks")
        con.commit()
        con.close()
        self.cairn("--state", db, "destroy", "--auto-approve", check=0)

    def test_usage(self):
        p = self.ci("deploy")
        self.assertEqual(p.returncode, 1)
        self.assertIn("usage: cairn-ci.sh pr|merge", p.stderr)


if __name__ == "__main__":
    unittest.main()
