"""The executor end to end (issue 5): failures, locking, SIGINT, saved plans,
SIGKILL at random moments, and apply/destroy through injected faults.

Every check of what exists is made in moto with boto3, by the ownership
tags cairn sets (cairn:stack / cairn:resource), and compared with what
`cairn state list` records.
"""
import os
import pty
import random
import re
import select
import signal
import subprocess
import sys
import threading
import time

import harness
from faultproxy import FaultProxy

KILL_TRIALS = int(os.environ.get("CAIRN_KILL_TRIALS", "10"))
KILL_SEED = int(os.environ.get("CAIRN_KILL_SEED", "20261122"))
KILL_LATENCY_MS = 120


def big_stack(stack, topics=6):
    """A 16+ resource stack: networking chain, tables, ECR, ECS, topics."""
    lines = ["stack: %s" % stack, "region: us-east-1", "resources:",
             "  vpc:", "    type: aws_vpc", "    properties:",
             "      cidr_block: 10.0.0.0/16", "      tags: {Name: %s}" % stack,
             "  igw:", "    type: aws_internet_gateway", "    properties:",
             "      vpc_id: ${vpc.id}",
             "  rt:", "    type: aws_route_table", "    properties:",
             "      vpc_id: ${vpc.id}",
             "      route:", "        - cidr_block: 0.0.0.0/0", "          gateway_id: ${igw.id}",
             "  sg:", "    type: aws_security_group", "    properties:",
             "      name: %s-sg" % stack, "      description: web", "      vpc_id: ${vpc.id}"]
    for i, az in enumerate("ab"):
        lines += ["  subnet_%s:" % az, "    type: aws_subnet", "    properties:",
                  "      vpc_id: ${vpc.id}", "      cidr_block: 10.0.%d.0/24" % (i + 1),
                  "      availability_zone: us-east-1%s" % az,
                  "  assoc_%s:" % az, "    type: aws_route_table_association", "    properties:",
                  "      subnet_id: ${subnet_%s.id}" % az, "      route_table_id: ${rt.id}"]
    for t in ("a", "b"):
        lines += ["  table_%s:" % t, "    type: aws_dynamodb_table", "    properties:",
                  "      name: %s-%s" % (stack, t), "      billing_mode: PAY_PER_REQUEST",
                  "      hash_key: id", "      attribute: [{name: id, type: S}]"]
    lines += ["  repo:", "    type: aws_ecr_repository", "    properties:",
              "      name: %s-repo" % stack.lower(),
              "  cluster:", "    type: aws_ecs_cluster", "    properties:",
              "      name: %s-cluster" % stack]
    for i in range(topics):
        lines += ["  topic_%d:" % i, "    type: aws_sns_topic", "    properties:",
                  "      name: %s-t%d" % (stack, i)]
    return "\n".join(lines) + "\n"


def tag_of(address):
    """The cairn:resource tag of an address: module.svc["api"].tg ->
    module.svc/api.tg, subnet[0] -> subnet/0 (providers/common.h)."""
    return re.sub(r'\["([^"]*)"\]|\[(\d+)\]', lambda m: "/" + (m.group(1) or m.group(2)),
                  address)


def topics_stack(stack, n, extra=""):
    lines = ["stack: %s" % stack, "region: us-east-1", "resources:"]
    for i in range(n):
        lines += ["  topic_%d:" % i, "    type: aws_sns_topic", "    properties:",
                  "      name: %s-t%d" % (stack, i)]
    return "\n".join(lines) + "\n" + extra


class ExecCase(harness.CairnTestCase):
    """Helpers: what moto holds for a stack, and what the state records."""

    def owned(self, stack):
        """cairn:resource tag -> list of the ids/ARNs/names moto holds tagged for stack
        (every page of every listing: a soak stack has hundreds)."""
        found = {}

        def add(tags, ids):
            tags = {t.get("Key", t.get("key")): t.get("Value", t.get("value")) for t in tags}
            if tags.get("cairn:stack") == stack:
                found.setdefault(tags.get("cairn:resource"), []).append(ids)

        def pages(client, op, key, **kw):
            for page in client.get_paginator(op).paginate(**kw):
                yield from page[key]

        ec2 = self.boto("ec2")
        flt = [{"Name": "tag:cairn:stack", "Values": [stack]}]
        for v in pages(ec2, "describe_vpcs", "Vpcs", Filters=flt):
            add(v.get("Tags", []), {v["VpcId"]})
        for s in pages(ec2, "describe_subnets", "Subnets", Filters=flt):
            add(s.get("Tags", []), {s["SubnetId"]})
        for g in pages(ec2, "describe_internet_gateways", "InternetGateways", Filters=flt):
            add(g.get("Tags", []), {g["InternetGatewayId"]})
        for r in pages(ec2, "describe_route_tables", "RouteTables", Filters=flt):
            add(r.get("Tags", []), {r["RouteTableId"]})
            for a in r.get("Associations", []):
                if a.get("SubnetId"):
                    # associations carry no tags: named after their route table's owner
                    found.setdefault(("assoc", stack), []).append(
                        {a["RouteTableAssociationId"]})
        for g in pages(ec2, "describe_security_groups", "SecurityGroups", Filters=flt):
            add(g.get("Tags", []), {g["GroupId"]})
        sns = self.boto("sns")
        for t in pages(sns, "list_topics", "Topics"):
            add(sns.list_tags_for_resource(ResourceArn=t["TopicArn"])["Tags"], {t["TopicArn"]})
        ddb = self.boto("dynamodb")
        for name in pages(ddb, "list_tables", "TableNames"):
            arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
            add(ddb.list_tags_of_resource(ResourceArn=arn).get("Tags", []), {name, arn})
        ecr = self.boto("ecr")
        for r in pages(ecr, "describe_repositories", "repositories"):
            add(ecr.list_tags_for_resource(resourceArn=r["repositoryArn"]).get("tags", []),
                {r["repositoryName"], r["repositoryArn"]})
        ecs = self.boto("ecs")
        arns = list(pages(ecs, "list_clusters", "clusterArns"))
        if arns:
            for c in ecs.describe_clusters(clusters=arns, include=["TAGS"])["clusters"]:
                if c.get("status") == "ACTIVE":
                    add(c.get("tags", []), {c["clusterName"], c["clusterArn"]})
        cw = self.boto("cloudwatch")
        for a in pages(cw, "describe_alarms", "MetricAlarms"):
            add(cw.list_tags_for_resource(ResourceARN=a["AlarmArn"])["Tags"],
                {a["AlarmName"], a["AlarmArn"]})
        ssm = self.boto("ssm")
        for prm in pages(ssm, "describe_parameters", "Parameters"):
            tags = ssm.list_tags_for_resource(ResourceType="Parameter",
                                              ResourceId=prm["Name"])["TagList"]
            add(tags, {prm["Name"]})
        return found

    def state(self, *args):
        p = self.cairn("state", "list", *args, check=0)
        rows = [line.split("\t") for line in p.stdout.splitlines() if line.strip()]
        names = [r[0] for r in rows]
        self.assertEqual(len(names), len(set(names)), "a name listed twice:\n" + p.stdout)
        return {r[0]: (r[1], r[2]) for r in rows}

    def assert_exact(self, stack, expect_names, *args):
        """Each resource exists once in moto, is recorded once, with the same id."""
        st = self.state(*args)
        moto = self.owned(stack)
        n_assoc = len(moto.pop(("assoc", stack), []))
        self.assertEqual(sorted(st), sorted(expect_names), "state: %r" % st)
        tagged = [n for n in expect_names if st[n][0] != "aws_route_table_association"]
        self.assertEqual(sorted(moto), sorted(tag_of(n) for n in tagged), "in moto: %r" % moto)
        for name in tagged:
            ids = moto[tag_of(name)]
            self.assertEqual(len(ids), 1, "%s exists %d times: %r" % (name, len(ids), ids))
            self.assertIn(st[name][1], ids[0], "%s: state id %s, moto %r"
                          % (name, st[name][1], ids[0]))
        self.assertEqual(n_assoc, len(expect_names) - len(tagged))

    def assert_noop_plan(self, *args):
        p = self.cairn("plan", "--detailed-exitcode", *args)
        self.assertEqual(p.returncode, 0, "plan is not a no-op:\n" + p.stdout + p.stderr)

    def proxy(self, **kw):
        p = FaultProxy(self.moto.url, **kw).start()
        self.addCleanup(p.stop)
        return p

    def popen(self, *args, env=None):
        e = dict(self.env)
        e.update(env or {})
        p = subprocess.Popen([harness.CAIRN] + list(args), cwd=self.dir, env=e,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        p.lines = []
        p.err = []

        def pump(stream, into):
            for line in stream:
                into.append(line)

        p.threads = [threading.Thread(target=pump, args=(p.stdout, p.lines), daemon=True),
                     threading.Thread(target=pump, args=(p.stderr, p.err), daemon=True)]
        for t in p.threads:
            t.start()
        self.addCleanup(lambda: p.poll() is None and p.kill())
        return p

    def finish(self, p, timeout=300):
        rc = p.wait(timeout=timeout)
        for t in p.threads:
            t.join(5)
        return rc, "".join(p.lines), "".join(p.err)

    def kill_run(self, px, env, delay, command="apply"):
        """Starts `cairn COMMAND --auto-approve` through the proxy px,
        SIGKILLs it after delay seconds and waits until what it sent has
        reached moto (a request overtaken by a later, faster run is not a
        crash case). Returns (creates in flight at the kill, journal
        entries the run resolved). Shared with tests/soak/soak.py."""
        p = self.popen(command, "--auto-approve", env=env)
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        _, out, _ = self.finish(p)
        self.assertTrue(px.wait_idle())
        return out.count("Creating...") > out.count("Created after"), \
            out.count("an interrupted run")

    def wait_output(self, p, text, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if any(text in line for line in p.lines):
                return
            if p.poll() is not None:
                break
            time.sleep(0.02)
        self.fail("no %r in output:\n%s%s" % (text, "".join(p.lines), "".join(p.err)))


class TestFailures(ExecCase):
    def test_failed_resource_leaves_the_rest_applied(self):
        stack = "fail1"
        text = """stack: fail1
region: us-east-1
variables:
  cidr: {type: string, default: 10.99.1.0/24}
resources:
  vpc:
    type: aws_vpc
    properties: {cidr_block: 10.0.0.0/16}
  rt:
    type: aws_route_table
    properties: {vpc_id: "${vpc.id}"}
  good:
    type: aws_subnet
    properties: {vpc_id: "${vpc.id}", cidr_block: 10.0.1.0/24}
  bad:
    type: aws_subnet
    properties: {vpc_id: "${vpc.id}", cidr_block: "${var.cidr}"}
  bad_assoc:
    type: aws_route_table_association
    properties: {subnet_id: "${bad.id}", route_table_id: "${rt.id}"}
  topic_a:
    type: aws_sns_topic
    properties: {name: fail1-a}
  topic_b:
    type: aws_sns_topic
    properties: {name: fail1-b, display_name: "${topic_a.arn}"}
"""
        self.write("stack.yaml", text)
        p = self.cairn("apply", "--auto-approve")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        # the error names the resource, the operation and AWS's code
        self.assertIn("bad (aws_subnet): create failed", p.stderr)
        self.assertIn("InvalidSubnet.Range", p.stderr)
        self.assertIn("CreateSubnet", p.stderr)
        self.assertIn("skipped: bad_assoc", p.stdout)
        done = ["vpc", "rt", "good", "topic_a", "topic_b"]
        self.assert_exact(stack, done)
        # the fix: a second apply finishes the rest, and only the rest
        p = self.cairn("apply", "--auto-approve", "--var", "cidr=10.0.2.0/24", check=0)
        self.assertIn("2 added, 0 changed, 0 destroyed", p.stdout)
        self.assert_exact(stack, done + ["bad", "bad_assoc"])
        self.assert_noop_plan("--var", "cidr=10.0.2.0/24")
        self.cairn("destroy", "--auto-approve", "--var", "cidr=10.0.2.0/24", check=0)
        self.assert_exact(stack, [])

    def test_create_before_destroy_replace(self):
        text = """stack: cbd
region: us-east-1
variables:
  suffix: {type: string, default: one}
resources:
  topic:
    type: aws_sns_topic
    lifecycle: {create_before_destroy: true}
    properties: {name: "cbd-${var.suffix}"}
  watcher:
    type: aws_sns_topic
    properties: {name: cbd-watcher, display_name: "${topic.name}"}
"""
        self.write("stack.yaml", text)
        self.cairn("apply", "--auto-approve", check=0)
        old = self.state()["topic"][1]
        p = self.cairn("apply", "--auto-approve", "--var", "suffix=two", check=0)
        out = p.stdout
        self.assertIn("1 added, 1 changed, 1 destroyed", out)
        # new one first, the dependent moved to it, then the old one deleted
        self.assertLess(out.index("topic: Creating..."), out.index("watcher: Modifying..."))
        self.assertLess(out.index("watcher: Modifications complete"),
                        out.index("topic (deposed object): Destroying... [id=%s]" % old))
        self.assert_exact("cbd", ["topic", "watcher"])
        self.assertNotEqual(self.state()["topic"][1], old)
        self.assert_noop_plan("--var", "suffix=two")
        self.cairn("destroy", "--auto-approve", "--var", "suffix=two", check=0)
        self.assert_exact("cbd", [])

    def test_targets(self):
        self.write("stack.yaml", topics_stack("tgt", 3, """  watcher:
    type: aws_sns_topic
    properties: {name: tgt-w, display_name: "${topic_1.name}"}
"""))
        p = self.cairn("apply", "--auto-approve", "--target", "watcher", check=0)
        self.assertIn("2 added", p.stdout)
        self.assert_exact("tgt", ["topic_1", "watcher"])
        self.cairn("apply", "--auto-approve", check=0)
        # destroy --target: NAME and what depends on it
        p = self.cairn("destroy", "--auto-approve", "--target", "topic_1", check=0)
        self.assertIn("Destroy complete! Resources: 2 destroyed.", p.stdout)
        self.assert_exact("tgt", ["topic_0", "topic_2"])
        self.cairn("destroy", "--auto-approve", check=0)
        self.assert_exact("tgt", [])

    def test_refuses_without_terminal(self):
        self.write("stack.yaml", topics_stack("noterm", 1))
        p = self.cairn("apply")
        self.assertEqual(p.returncode, 1)
        self.assertIn("cairn: error: apply needs confirmation: run it on a terminal or pass "
                      "--auto-approve", p.stderr)
        self.assertEqual(self.owned("noterm"), {})
        self.cairn("apply", "--auto-approve", check=0)
        p = self.cairn("destroy")
        self.assertEqual(p.returncode, 1)
        self.assertIn("cairn: error: destroy needs confirmation", p.stderr)
        self.assert_exact("noterm", ["topic_0"])
        self.cairn("destroy", "--auto-approve", check=0)
        self.assert_exact("noterm", [])

    def on_terminal(self, answer, *args):
        """Runs cairn with stdin/stdout on a pseudo-terminal, answering the prompt."""
        master, slave = pty.openpty()
        p = subprocess.Popen([harness.CAIRN] + list(args), cwd=self.dir, env=self.env,
                             stdin=slave, stdout=slave, stderr=subprocess.PIPE, text=True)
        os.close(slave)
        out = b""
        deadline = time.time() + 120
        while b"Enter 'yes' to" not in out and time.time() < deadline:
            r, _, _ = select.select([master], [], [], 0.5)
            if r:
                try:
                    out += os.read(master, 65536)
                except OSError:
                    break
        os.write(master, answer.encode() + b"\n")
        while True:
            r, _, _ = select.select([master], [], [], 0.5)
            if r:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            elif p.poll() is not None:
                break
        rc = p.wait(timeout=120)
        os.close(master)
        return rc, out.decode(errors="replace"), p.stderr.read()

    def test_prompt_on_terminal(self):
        self.write("stack.yaml", topics_stack("tty", 1))
        rc, out, err = self.on_terminal("no", "apply")
        self.assertEqual(rc, 1, out + err)
        self.assertIn("Enter 'yes' to apply:", out)
        self.assertIn("apply cancelled", err)
        self.assertEqual(self.owned("tty"), {})
        rc, out, err = self.on_terminal("yes", "apply")
        self.assertEqual(rc, 0, out + err)
        self.assertIn("Apply complete! Resources: 1 added", out)
        self.assert_exact("tty", ["topic_0"])
        rc, out, err = self.on_terminal("yes", "destroy")
        self.assertEqual(rc, 0, out + err)
        self.assertIn("Enter 'yes' to destroy:", out)
        self.assert_exact("tty", [])

    def test_progress_outputs_and_noop(self):
        self.write("stack.yaml", topics_stack("prog", 2, """outputs:
  first_arn:
    value: ${topic_0.arn}
  secret:
    value: ${topic_1.arn}
    sensitive: true
"""))
        p = self.cairn("apply", "--auto-approve", check=0)
        self.assertIn("topic_0: Creating...", p.stdout)
        self.assertRegex(p.stdout, r"topic_0: Created after \d+\.\ds \[id=arn:aws:sns:")
        self.assertIn("Apply complete! Resources: 2 added, 0 changed, 0 destroyed.", p.stdout)
        arn = self.state()["topic_0"][1]
        self.assertIn('Outputs:\n\nfirst_arn = "%s"\nsecret = (sensitive)\n' % arn, p.stdout)
        p = self.cairn("apply", "--auto-approve", check=0)
        self.assertIn("No changes.", p.stdout)
        p = self.cairn("destroy", "--auto-approve", check=0)
        self.assertIn("topic_0: Destroying... [id=%s]" % arn, p.stdout)
        self.assertIn("Destroy complete! Resources: 2 destroyed.", p.stdout)
        self.assert_exact("prog", [])


class TestRefreshImport(ExecCase):
    def test_refresh_records_drift_and_gone(self):
        self.write("stack.yaml", topics_stack("refr", 2))
        self.cairn("apply", "--auto-approve", check=0)
        st = self.state()
        sns = self.boto("sns")
        sns.set_topic_attributes(TopicArn=st["topic_0"][1], AttributeName="DisplayName",
                                 AttributeValue="changed")
        sns.delete_topic(TopicArn=st["topic_1"][1])
        p = self.cairn("refresh", check=0)
        self.assertIn("topic_0: Changed outside cairn: display_name", p.stdout)
        self.assertIn("topic_1: Gone from AWS; removed from the state", p.stdout)
        self.assertEqual(sorted(self.state()), ["topic_0"])
        shown = self.cairn("state", "show", "topic_0", "--json", check=0)
        self.assertIn('"changed"', shown.stdout)
        p = self.cairn("refresh", check=0)
        self.assertIn("no changes outside cairn", p.stdout)
        self.cairn("apply", "--auto-approve", check=0)
        self.assert_exact("refr", ["topic_0", "topic_1"])
        self.cairn("destroy", "--auto-approve", check=0)

    def test_import(self):
        arn = self.boto("sns").create_topic(Name="imp-t0")["TopicArn"]
        self.write("stack.yaml", topics_stack("imp", 1))
        p = self.cairn("import", "nothing", arn)
        self.assertEqual(p.returncode, 1)
        self.assertIn("resource 'nothing' is not declared", p.stderr)
        p = self.cairn("import", "topic_0", arn, check=0)
        self.assertIn("topic_0: Import complete [id=%s]" % arn, p.stdout)
        self.assertEqual(self.state()["topic_0"], ("aws_sns_topic", arn))
        self.assert_noop_plan()
        p = self.cairn("import", "topic_0", arn)
        self.assertEqual(p.returncode, 1)
        self.assertIn("'topic_0' is already in the state", p.stderr)
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertNotIn(arn, [t["TopicArn"] for t in self.boto("sns").list_topics()["Topics"]])


class TestLockAndSignals(ExecCase):
    def test_concurrent_apply_fails_on_the_lock(self):
        px = self.proxy(latency_ms=250)
        self.write("stack.yaml", topics_stack("lock1", 4))
        env = {"AWS_ENDPOINT_URL": px.url}
        first = self.popen("apply", "--auto-approve", "--parallelism", "1", env=env)
        self.wait_output(first, "Creating...")
        second = self.cairn("apply", "--auto-approve", env=env)
        self.assertEqual(second.returncode, 1, second.stdout + second.stderr)
        self.assertIn("locked by pid %d" % first.pid, second.stderr)
        rc, out, err = self.finish(first)
        self.assertEqual(rc, 0, out + err)
        self.assert_exact("lock1", ["topic_%d" % i for i in range(4)])
        # the lock was released: the next run gets it
        self.assert_noop_plan()
        self.cairn("destroy", "--auto-approve", check=0)

    def test_still_creating_every_10s(self):
        # every call takes 6 s: the create (of a topic, on an empty state: the
        # only calls of the run, CreateTopic and GetTopicAttributes) needs
        # more than 10 s
        px = self.proxy(latency_ms=6000)
        self.write("stack.yaml", topics_stack("slow", 1))
        env = {"AWS_ENDPOINT_URL": px.url}
        p = self.popen("apply", "--auto-approve", env=env)
        rc, out, err = self.finish(p)
        self.assertEqual(rc, 0, out + err)
        # the 10 s heartbeat (a loaded machine may print it a second late)
        self.assertRegex(out, r"topic_0: Still creating\.\.\. \[1\ds elapsed\]")
        self.assertRegex(out, r"topic_0: Created after 1\d\.\ds")
        px.set(latency_ms=0)
        self.cairn("destroy", "--auto-approve", check=0)

    def test_sigint_stops_and_records(self):
        px = self.proxy(latency_ms=200)
        self.write("stack.yaml", topics_stack("int1", 8))
        env = {"AWS_ENDPOINT_URL": px.url}
        p = self.popen("apply", "--auto-approve", "--parallelism", "2", env=env)
        self.wait_output(p, "Creating...")
        p.send_signal(signal.SIGINT)
        rc, out, err = self.finish(p)
        self.assertEqual(rc, 130, out + err)
        self.assertRegex(out, r"Interrupted: \d+ operations were in flight and have been "
                              r"recorded")
        recorded = self.state()
        self.assertGreater(len(recorded), 0)
        self.assertLess(len(recorded), 8, "SIGINT did not stop the run:\n" + out)
        # the state is exact: everything in moto is recorded, once
        self.assert_exact("int1", sorted(recorded))
        self.cairn("apply", "--auto-approve", check=0)
        self.assert_exact("int1", ["topic_%d" % i for i in range(8)])
        self.cairn("destroy", "--auto-approve", check=0)

    def test_second_sigint_exits_at_once(self):
        px = self.proxy(latency_ms=400)
        self.write("stack.yaml", topics_stack("int2", 4))
        env = {"AWS_ENDPOINT_URL": px.url}
        p = self.popen("apply", "--auto-approve", "--parallelism", "4", env=env)
        self.wait_output(p, "Creating...")
        p.send_signal(signal.SIGINT)
        time.sleep(0.05)
        p.send_signal(signal.SIGINT)
        t0 = time.time()
        rc, out, err = self.finish(p)
        self.assertEqual(rc, 130, out + err)
        self.assertLess(time.time() - t0, 2.0)
        # the journal makes the next run safe: no duplicate, nothing lost
        px.set(latency_ms=0)
        self.cairn("apply", "--auto-approve", check=0)
        self.assert_exact("int2", ["topic_%d" % i for i in range(4)])
        self.assert_noop_plan()
        self.cairn("destroy", "--auto-approve", check=0)


class TestSavedPlans(ExecCase):
    def test_apply_saved_plan_and_refuse_stale(self):
        self.write("stack.yaml", topics_stack("saved", 2))
        self.cairn("plan", "--out", "one.plan", check=0)
        p = self.cairn("apply", "--auto-approve", "one.plan", check=0)
        self.assertIn("2 added", p.stdout)
        self.assert_exact("saved", ["topic_0", "topic_1"])
        self.assert_noop_plan()
        # a plan made, then the state changes: the plan is refused, nothing changes
        self.write("stack.yaml", topics_stack("saved", 3))
        self.cairn("plan", "--out", "two.plan", check=0)
        self.write("stack.yaml", topics_stack("saved", 1))
        self.cairn("apply", "--auto-approve", check=0)
        p = self.cairn("apply", "--auto-approve", "two.plan")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("saved plan is stale: the state changed since it was made", p.stderr)
        self.assert_exact("saved", ["topic_0"])
        self.cairn("destroy", "--auto-approve", check=0)
        self.assert_exact("saved", [])


class TestCrashSafety(ExecCase):
    def test_sigkill_at_random_moments(self):
        rng = random.Random(KILL_SEED)
        # Enough latency that an 18-resource apply outlasts the kill window.
        px = self.proxy(latency_ms=KILL_LATENCY_MS)
        env = {"AWS_ENDPOINT_URL": px.url}
        mid_flight = adopted = 0
        for trial in range(KILL_TRIALS):
            stack = "kill%d" % trial
            state_file = os.path.join(self.dir, "%s.db" % stack)
            env["CAIRN_STATE"] = state_file
            self.env["CAIRN_STATE"] = state_file
            self.write("stack.yaml", big_stack(stack))
            # two kills at random moments, each run resuming the last one
            for _ in range(2):
                flying, resolved = self.kill_run(px, env, rng.uniform(0.1, 2.5))
                mid_flight += flying
                adopted += resolved
            px.set(latency_ms=0)
            r = self.cairn("apply", "--auto-approve", env=env)
            self.assertEqual(r.returncode, 0, "trial %d: %s%s" % (trial, r.stdout, r.stderr))
            adopted += r.stdout.count("an interrupted run")
            names = sorted(self.state())
            self.assertEqual(len(names), 18, names)
            self.assert_exact(stack, names)
            self.assert_noop_plan()
            px.set(latency_ms=KILL_LATENCY_MS)
        # the kills must have hit creates in flight, or the test proves nothing
        self.assertGreaterEqual(mid_flight, KILL_TRIALS // 2,
                                "only %d kills landed mid-create" % mid_flight)
        print("\n  %d of %d kills landed with creates in flight; %d journal entries "
              "resolved by the next run" % (mid_flight, 2 * KILL_TRIALS, adopted),
              file=sys.stderr)


    def test_sigkill_during_destroy(self):
        rng = random.Random(KILL_SEED + 1)
        px = self.proxy(latency_ms=0)
        env = {"AWS_ENDPOINT_URL": px.url}
        self.write("stack.yaml", big_stack("killd"))
        self.cairn("apply", "--auto-approve", check=0)
        self.assertEqual(len(self.state()), 18)
        px.set(latency_ms=40)
        for _ in range(3):
            self.kill_run(px, env, rng.uniform(0.2, 2.0), "destroy")
            # whatever the kill interrupted, nothing in moto is unknown to the
            # state (a delete done but not yet recorded is resolved next run)
            st = self.state()
            moto = self.owned("killd")
            moto.pop(("assoc", "killd"), None)
            for name, ids in moto.items():
                self.assertIn(name, st, "orphan in moto: %s %r" % (name, ids))
                self.assertEqual(len(ids), 1, "%s exists %d times" % (name, len(ids)))
                self.assertIn(st[name][1], ids[0])
        px.set(latency_ms=0)
        p = self.cairn("destroy", "--auto-approve", env=env)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assert_exact("killd", [])


class TestFaults(ExecCase):
    def test_apply_and_destroy_through_faults(self):
        px = self.proxy(fault_rate=0.2, drop_rate=0.05, seed=7)
        env = {"AWS_ENDPOINT_URL": px.url, "AWS_MAX_ATTEMPTS": "10"}
        self.write("stack.yaml", big_stack("faults", topics=4))
        p = self.cairn("apply", "--auto-approve", env=env)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertGreater(px.faults + px.drops, 10)
        names = sorted(self.state())
        self.assertEqual(len(names), 16)
        self.assert_exact("faults", names)
        p = self.cairn("plan", "--detailed-exitcode", env=env)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        p = self.cairn("destroy", "--auto-approve", env=env)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assert_exact("faults", [])

    def test_lost_create_answers_make_no_duplicates(self):
        # Found by `make soak`: a create whose answer was lost after AWS made
        # the object was sent again, making a second VPC (unnamed types) or
        # failing on "already exists" at every later apply (named types).
        px = self.proxy()
        for pat in ("Action=CreateVpc", "Action=CreateSubnet", "Action=CreateSecurityGroup",
                    "CreateTable", "Action=CreateTopic", "CreateRepository",
                    "PutParameter"):
            px.lose(pat)
        env = {"AWS_ENDPOINT_URL": px.url}
        stack = big_stack("lostans", topics=2) + (
            "  param:\n    type: aws_ssm_parameter\n    properties:\n"
            "      name: /lostans/p\n      type: String\n      value: ${vpc.id}\n")
        self.write("stack.yaml", stack)
        # A create found after its answer was lost is recorded but reported
        # failed (its later calls, if any, did not run): its dependents wait
        # for the next apply.
        for _ in range(4):
            p = self.cairn("apply", "--auto-approve", env=env)
            if p.returncode == 0:
                break
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(px.lost, 7)
        names = sorted(self.state())
        self.assertEqual(len(names), 15)
        self.assert_exact("lostans", names)
        self.assert_noop_plan()

    def test_write_on_a_reused_connection_is_not_resent_unseen(self):
        # Found by `make soak`: libcurl sends a request again by itself when
        # a reused connection closes before any answer; a PutParameter that
        # AWS had carried out then came back "already exists", with no sign
        # of the first attempt, at this and every later apply. Writes now go
        # out on new connections, so the lost answer is seen and looked up.
        px = self.proxy()
        px.lose('"Name":"/reuse/b"')
        env = {"AWS_ENDPOINT_URL": px.url, "AWS_MAX_ATTEMPTS": "1"}
        self.write("stack.yaml", "stack: reuse\nregion: us-east-1\nresources:\n"
                   "  a: {type: aws_ssm_parameter, properties: {name: /reuse/a, type: String,"
                   " value: x}}\n"
                   "  b: {type: aws_ssm_parameter, depends_on: [a], properties:"
                   " {name: /reuse/b, type: String, value: y}}\n")
        self.cairn("apply", "--auto-approve", "--parallelism", "1", env=env)
        self.assertEqual(px.lost, 1)
        p = self.cairn("apply", "--auto-approve", env=env)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assert_exact("reuse", ["a", "b"])
        self.assert_noop_plan()


if __name__ == "__main__":
    import unittest
    unittest.main()
