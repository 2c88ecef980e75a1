"""Plans for review and CI (issue 13, SPEC §2 "Plan output"):

- no phantom changes: every example stack and e2e fixture, applied, plans
  "no changes" twice (exit 0 with --detailed-exitcode);
- --markdown renders as GitHub does (cmark-gfm: a <table>, <details>);
- `cairn show PLANFILE` prints what `plan` printed, in each form, with no
  state and no credentials;
- apply --detailed-exitcode (2 when something changed, 0 when nothing did)
  and CI=true (no prompt waiting: a clear error at once).
"""
import json
import os
import shutil
import subprocess
import unittest

from harness import CairnTestCase, ROOT

# Stacks that apply against moto; each must plan no change once applied.
APPLIED_STACKS = [
    "stacks/web.yaml",
    "tests/data/plan/e2e_stack.yaml",
    "tests/data/stacks/good.yaml",
    "tests/data/plan/phantom.yaml",
]

SMALL = """stack: review
region: us-east-1
resources:
  vpc:
    type: aws_vpc
    properties:
      cidr_block: 10.50.0.0/16
      tags: {Name: review}
  web_sg:
    type: aws_security_group
    properties:
      name: review-web
      description: web
      vpc_id: ${vpc.id}
      ingress:
        - {protocol: tcp, from_port: 80, to_port: 80, cidr_blocks: [10.0.0.0/8]}
        - {protocol: tcp, from_port: 443, to_port: 443, cidr_blocks: [10.0.0.0/8]}
        - {protocol: tcp, from_port: 8080, to_port: 8080, cidr_blocks: [10.0.0.0/8]}
  sessions:
    type: aws_dynamodb_table
    properties:
      name: review-sessions
      billing_mode: PAY_PER_REQUEST
      hash_key: id
      attribute: [{name: id, type: S}, {name: user, type: S}]
      global_secondary_index:
        - {name: by_user, hash_key: user, projection_type: ALL}
"""


def render_gfm(text):
    """HTML as GitHub renders comments: CommonMark + the table extension."""
    exe = shutil.which("cmark-gfm")
    if not exe:
        raise unittest.SkipTest("cmark-gfm is not installed (make deps)")
    return subprocess.run([exe, "-e", "table", "--unsafe"], input=text, capture_output=True,
                          text=True, check=True).stdout


def fixture_stacks():
    """The stacks the other e2e modules apply, as (name, text)."""
    import test_platform
    import test_services
    import test_stack_full
    return [("test_stack_full", test_stack_full.stack_text()),
            ("test_platform", test_platform.STACK_YAML),
            ("test_services", test_services.FARGATE_STACK.replace("COUNT", "2"))]


class NoPhantomChangesTest(CairnTestCase):
    def test_applied_stacks_plan_no_change(self):
        stacks = []
        # the example stacks call the modules next to them (stacks/modules/)
        shutil.copytree(os.path.join(ROOT, "stacks", "modules"), os.path.join(self.dir, "modules"),
                        dirs_exist_ok=True)
        for rel in APPLIED_STACKS:
            with open(os.path.join(ROOT, rel)) as f:
                stacks.append((rel, f.read()))
        for rel, text in stacks + fixture_stacks():
            with self.subTest(stack=rel):
                stack = self.write(os.path.basename(rel) + ".yaml", text)
                state = os.path.join(self.dir, os.path.basename(rel) + ".db")
                self.cairn("--state", state, "apply", "-f", stack, "--auto-approve", check=0)
                for _ in range(2):
                    p = self.cairn("--state", state, "plan", "-f", stack, "--detailed-exitcode")
                    self.assertEqual(p.returncode, 0, "%s plans changes after apply:\n%s%s"
                                     % (rel, p.stdout, p.stderr))
                    self.assertIn("No changes.", p.stdout)
                self.cairn("--state", state, "destroy", "-f", stack, "--auto-approve", check=0)


class ReviewFormsTest(CairnTestCase):
    def test_golden_markdown_renders(self):
        with open(os.path.join(ROOT, "tests/data/plan/review.md")) as f:
            html = render_gfm(f.read())
        self.assertIn("<table>", html)
        self.assertIn("<td><code>-/+</code></td>", html)
        self.assertEqual(html.count("<details>"), 6)
        self.assertIn("<summary><code>-/+ sessions</code> (aws_dynamodb_table): replace</summary>",
                      html)
        self.assertLess(html.index("This plan deletes resources that hold data"),
                        html.index("<table>"))
        self.assertNotIn("raw HTML omitted", html)

    def test_markdown_show_and_exit_codes(self):
        self.write("stack.yaml", SMALL)
        p = self.cairn("apply", "--auto-approve", "--detailed-exitcode")
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        p = self.cairn("apply", "--auto-approve", "--detailed-exitcode")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("No changes.", p.stdout)

        # one rule of three changes; the table gets a new key (replacement)
        self.write("stack.yaml", SMALL.replace("port: 443, to_port: 443, cidr_blocks: [10.0.0.0/8]",
                                               "port: 443, to_port: 443, cidr_blocks: [10.1.0.0/16]")
                   .replace("hash_key: id\n", "hash_key: user\n")
                   .replace("[{name: id, type: S}, {name: user, type: S}]", "[{name: user, type: S}]"))
        p = self.cairn("plan", "--out", "plan.bin", check=0)
        text = p.stdout.split("\nSaved the plan")[0]
        self.assertIn("      ~ ingress = [\n", text)
        self.assertIn("            # (2 unchanged elements hidden)\n", text)
        self.assertNotIn("from_port   = 80\n", text)
        p = self.cairn("plan", "--markdown", "--json")
        self.assertEqual(p.returncode, 1)
        self.assertIn("choose one", p.stderr)
        md = self.cairn("plan", "--markdown", check=0).stdout
        self.assertTrue(md.startswith("### Plan: 1 to add, 1 to change, 1 to destroy.\n"), md)
        self.assertIn("> - `sessions` (aws_dynamodb_table) will be **replaced**", md)
        html = render_gfm(md)
        self.assertIn("<table>", html)
        self.assertIn("<details>", html)
        self.assertIn("<strong>replaced</strong>", html)

        # show reads only the file: no state, no credentials
        bare = {k: v for k, v in self.env.items() if not k.startswith("AWS_")}
        bare["CAIRN_STATE"] = os.path.join(self.dir, "no-such.db")
        env = {"CAIRN_STATE": bare["CAIRN_STATE"], "AWS_ACCESS_KEY_ID": "",
               "AWS_SECRET_ACCESS_KEY": "", "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}
        self.assertEqual(self.cairn("show", "plan.bin", env=env, check=0).stdout, text + "\n"
                         if not text.endswith("\n") else text)
        self.assertEqual(self.cairn("show", "plan.bin", "--markdown", env=env, check=0).stdout,
                         md)
        shown = json.loads(self.cairn("show", "plan.bin", "--json", env=env, check=0).stdout)
        planned = json.loads(self.cairn("plan", "--json", check=0).stdout)
        self.assertEqual(shown["changes"], planned["changes"])
        self.assertFalse(os.path.exists(bare["CAIRN_STATE"]))
        p = self.cairn("show", "plan.bin", "--json", "--markdown")
        self.assertEqual(p.returncode, 1)
        self.assertIn("choose one", p.stderr)
        p = self.cairn("show")
        self.assertEqual(p.returncode, 1)
        self.assertIn("missing the plan file", p.stderr)

        # CI=true: no prompt waiting, a clear error, nothing changed
        p = self.cairn("apply", "plan.bin", env={"CI": "true"})
        self.assertEqual(p.returncode, 1)
        self.assertIn("CI=true", p.stderr)
        self.assertIn("--auto-approve", p.stderr)
        self.assertNotIn("\033[", p.stdout + p.stderr)
        p = self.cairn("apply", "plan.bin", "--auto-approve", "--detailed-exitcode",
                       env={"CI": "true"})
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        table = self.boto("dynamodb").describe_table(TableName="review-sessions")["Table"]
        self.assertEqual(table["KeySchema"], [{"AttributeName": "user", "KeyType": "HASH"}])
        perms = self.boto("ec2").describe_security_groups(
            Filters=[{"Name": "group-name", "Values": ["review-web"]}])["SecurityGroups"][0]
        cidrs = {r["FromPort"]: [c["CidrIp"] for c in r["IpRanges"]]
                 for r in perms["IpPermissions"]}
        self.assertEqual(cidrs[443], ["10.1.0.0/16"])
        self.assertEqual(cidrs[80], ["10.0.0.0/8"])
        self.cairn("destroy", "--auto-approve", check=0)


if __name__ == "__main__":
    unittest.main()
