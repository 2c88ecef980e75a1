"""End-to-end: `cairn plan` (SPEC §2 "Plan output").

The offline tests plan tests/data/plan/e2e_stack.yaml (every resource type
of the provider issue) with --refresh=false and compare the output byte for
byte with e2e_stack.txt / e2e_stack.json. The online tests apply a small
stack to moto, change it behind cairn's back with boto3, and check that the
plan reports the drift, plans the repair, and never writes the state.

When a schema changes on purpose, regenerate the expected files with
  cd tests/data/plan && NO_COLOR=1 ../../../cairn plan --refresh=false -f e2e_stack.yaml \
      > e2e_stack.txt
  (and the same with --json > e2e_stack.json), then review the diff.
"""
import json
import os
import shutil
import stat

import harness

DATA = os.path.join(harness.ROOT, "tests", "data", "plan")


def read(name):
    with open(os.path.join(DATA, name)) as f:
        return f.read()


class PlanOfflineTest(harness.CairnTestCase):

    def setUp(self):
        super().setUp()
        shutil.copy(os.path.join(DATA, "e2e_stack.yaml"), os.path.join(self.dir, "stack.yaml"))
        self.db = os.path.join(self.dir, "cairn.db")
        # No AWS at all: an offline plan must not need it.
        self.env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"

    def test_text_exact(self):
        p = self.cairn("plan", "--refresh=false", check=0)
        self.assertEqual(p.stdout, read("e2e_stack.txt"))
        self.assertEqual(p.stderr, "")
        self.assertTrue(p.stdout.endswith("\nPlan: 17 to add, 0 to change, 0 to destroy.\n"))
        # plan never creates the state
        self.assertFalse(os.path.exists(self.db))

    def test_json_exact(self):
        p = self.cairn("plan", "--refresh=false", "--json", check=0)
        self.assertEqual(p.stdout, read("e2e_stack.json"))
        doc = json.loads(p.stdout)
        self.assertEqual(doc["format_version"], "1")
        self.assertEqual(doc["stack"], "plan-e2e")
        self.assertEqual(doc["summary"], {"create": 17, "update": 0, "replace": 0,
                                          "delete": 0, "noop": 0})
        self.assertNotIn("$cairn_unknown", p.stdout)
        alb = [c for c in doc["changes"] if c["name"] == "alb"][0]
        self.assertIn("dns_name", alb["after_unknown"])
        self.assertIsNone(alb["after"]["dns_name"])
        self.assertEqual(doc["outputs"]["sessions_table"],
                         {"value": "web-dev-sessions", "known_after_apply": False})
        self.assertEqual(doc["outputs"]["alb_dns"], {"value": None, "known_after_apply": True})
        self.assertFalse(os.path.exists(self.db))

    def test_detailed_exitcode(self):
        p = self.cairn("plan", "--refresh=false", "--detailed-exitcode")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertEqual(p.stdout, read("e2e_stack.txt"))
        p = self.cairn("plan", "--refresh=false")
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_out_writes_plan_file(self):
        p = self.cairn("plan", "--refresh=false", "--out", "web.plan", check=0)
        path = os.path.join(self.dir, "web.plan")
        self.assertTrue(p.stdout.startswith(read("e2e_stack.txt")))
        self.assertIn("Saved the plan to: web.plan", p.stdout)
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        with open(path) as f:
            doc = json.load(f)
        self.assertEqual(doc["kind"], "cairn-plan")
        self.assertEqual(doc["stack"], "plan-e2e")
        self.assertEqual(doc["region"], "us-east-1")
        self.assertEqual(doc["serial"], 0)
        self.assertEqual(len(doc["changes"]), 17)
        http = [c for c in doc["changes"] if c["name"] == "http"][0]
        self.assertEqual(http["config"]["load_balancer_arn"], "${alb.arn}")
        self.assertEqual(http["deps"], ["alb", "app_tg"])
        # the variables are sealed with the stack's key, kept in the state
        self.assertEqual(list(doc["vars"]), ["$cairn_sealed"])
        self.assertTrue(os.path.exists(self.db))
        self.assertEqual(self.cairn("state", "list", check=0).stdout, "")

    def test_var_and_target(self):
        p = self.cairn("plan", "--refresh=false", "--var", "env=prod", "--target", "http",
                       "--json", check=0)
        doc = json.loads(p.stdout)
        names = [c["name"] for c in doc["changes"]]
        # http and everything it needs, in address order (SPEC §2)
        self.assertEqual(names, sorted(["vpc", "igw", "public_a", "public_b", "web_sg",
                                        "alb", "app_tg", "http"]))
        alb = [c for c in doc["changes"] if c["name"] == "alb"][0]
        self.assertEqual(alb["after"]["name"], "web-prod")

    def test_bad_options_and_stack(self):
        p = self.cairn("plan", "--refresh=maybe")
        self.assertEqual(p.returncode, 1)
        self.assertIn("--refresh", p.stderr)
        p = self.cairn("plan", "--refresh=false", "--target", "nope")
        self.assertEqual(p.returncode, 1)
        self.assertIn("target 'nope'", p.stderr)
        self.write("bad.yaml", "stack: x\nregion: us-east-1\nresources:\n"
                   "  v:\n    type: aws_vpc\n    properties:\n      cidr_blok: 10.0.0.0/16\n")
        p = self.cairn("plan", "-f", "bad.yaml")
        self.assertEqual(p.returncode, 1)
        self.assertIn("bad.yaml:7:7: error:", p.stderr)
        self.assertEqual(p.stdout, "")
        self.assertFalse(os.path.exists(self.db))


SMALL = """stack: drift
region: us-east-1
resources:
  vpc:
    type: aws_vpc
    properties:
      cidr_block: 10.30.0.0/16
      tags: { Name: drift }
  topic:
    type: aws_sns_topic
    properties:
      name: drift-events
      display_name: Drift events
outputs:
  vpc_id:
    value: ${vpc.id}
"""


class PlanRefreshTest(harness.CairnTestCase):

    def serial(self):
        return json.loads(self.cairn("plan", "--refresh=false", "--json", check=0).stdout)["serial"]

    def test_noop_drift_and_no_state_write(self):
        self.write("stack.yaml", SMALL)
        self.cairn("apply", "--auto-approve", check=0)
        ids = dict(l.split("\t")[0::2] for l in
                   self.cairn("state", "list", check=0).stdout.splitlines())
        vpc_id, topic_arn = ids["vpc"], ids["topic"]

        p = self.cairn("plan", "--detailed-exitcode")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(p.stdout, "No changes. Your infrastructure matches the stack.\n")
        doc = json.loads(self.cairn("plan", "--json", check=0).stdout)
        self.assertEqual(doc["summary"]["noop"], 2)
        self.assertEqual(doc["drift"], [])
        self.assertEqual(doc["outputs"]["vpc_id"], {"value": vpc_id, "known_after_apply": False})

        # change the VPC and delete the topic behind cairn's back
        self.boto("ec2").create_tags(Resources=[vpc_id], Tags=[{"Key": "Name", "Value": "manual"}])
        self.boto("sns").delete_topic(TopicArn=topic_arn)
        before = self.serial()
        db = os.path.join(self.dir, "cairn.db")
        mtime = os.stat(db).st_mtime_ns

        p = self.cairn("plan", "--detailed-exitcode")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertTrue(p.stdout.startswith(
            "Changed outside cairn:\n"
            "  - topic (aws_sns_topic) was deleted outside cairn\n"
            "  ~ vpc (aws_vpc)\n"
            "      ~ tags = {\n"
            "          ~ Name = \"drift\" -> \"manual\"\n"
            "        }\n"
            "\n"), p.stdout)
        self.assertIn("\n  + topic (aws_sns_topic)\n", p.stdout)
        self.assertIn("\n  ~ vpc (aws_vpc) will be updated in place\n", p.stdout)
        self.assertTrue(p.stdout.endswith("\nPlan: 1 to add, 1 to change, 0 to destroy.\n"))

        doc = json.loads(self.cairn("plan", "--json", check=0).stdout)
        self.assertEqual([(d["name"], d["after"] is None) for d in doc["drift"]],
                         [("topic", True), ("vpc", False)])
        self.assertEqual(doc["drift"][1]["after"]["tags"], {"Name": "manual"})
        actions = {c["name"]: c["action"] for c in doc["changes"]}
        self.assertEqual(actions, {"vpc": "update", "topic": "create"})

        # the refresh did not write the state
        self.assertEqual(self.serial(), before)
        self.assertEqual(os.stat(db).st_mtime_ns, mtime)

        # --refresh=false plans from the state alone: nothing to do
        p = self.cairn("plan", "--refresh=false", "--detailed-exitcode")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_replace_and_delete(self):
        self.write("stack.yaml", SMALL)
        self.cairn("apply", "--auto-approve", check=0)
        topic_arn = dict(l.split("\t")[0::2] for l in
                         self.cairn("state", "list", check=0).stdout.splitlines())["topic"]
        self.write("stack.yaml", SMALL.replace("10.30.0.0/16", "10.31.0.0/16")
                   .split("  topic:")[0] + "outputs: {}\n")
        p = self.cairn("plan", "--detailed-exitcode")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertEqual(p.stdout,
                         "  - topic (aws_sns_topic) will be deleted\n"
                         "-/+ vpc (aws_vpc) must be replaced\n"
                         "      ~ cidr_block = \"10.30.0.0/16\" -> \"10.31.0.0/16\""
                         " # forces replacement\n"
                         "\n"
                         "Plan: 1 to add, 0 to change, 2 to destroy.\n")
        doc = json.loads(self.cairn("plan", "--json", check=0).stdout)
        vpc = doc["changes"][1]
        self.assertEqual([c["name"] for c in doc["changes"]], ["topic", "vpc"])
        self.assertEqual((vpc["action"], vpc["replace_because"]), ("replace", ["cidr_block"]))
        self.assertIsNone(doc["changes"][0]["after"])
        # nothing was touched in AWS
        self.assertIn(topic_arn, [t["TopicArn"] for t in self.boto("sns").list_topics()["Topics"]])

    def test_saved_plan_applies(self):
        self.write("stack.yaml", SMALL.replace("drift", "saved"))
        p = self.cairn("plan", "--out", "saved.plan", check=0)
        self.assertIn("Plan: 2 to add, 0 to change, 0 to destroy.", p.stdout)
        # only the key that seals the plan's secrets was recorded
        self.assertEqual(self.cairn("state", "list", check=0).stdout, "")
        # the executor works from the file alone: the stack may be gone
        os.remove(os.path.join(self.dir, "stack.yaml"))
        self.cairn("apply", "--auto-approve", "saved.plan", check=0)
        vpcs = self.boto("ec2").describe_vpcs(
            Filters=[{"Name": "tag:Name", "Values": ["saved"]}])["Vpcs"]
        self.assertEqual([v["CidrBlock"] for v in vpcs], ["10.30.0.0/16"])
        # the same file again is stale: the state has moved on
        p = self.cairn("apply", "--auto-approve", "saved.plan")
        self.assertEqual(p.returncode, 1)
        self.assertIn("stale", p.stderr)
