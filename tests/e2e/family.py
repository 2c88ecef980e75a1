"""FamilyCase: helpers for the resource family tests (one resource per stack,
written as stack.json; state list parsing; no-op and drift assertions)."""
import json
import subprocess
import time

import harness
from faultproxy import FaultProxy
from harness import CairnTestCase


class FamilyCase(CairnTestCase):
    """Helpers shared by the family tests: one resource per stack."""

    STACK = "ctr"

    def stack(self, name, rtype, props):
        doc = {"stack": self.STACK, "region": "us-east-1",
               "resources": {name: {"type": rtype, "properties": props}}}
        self.write("stack.json", json.dumps(doc, indent=2))

    def ids(self, *args):
        out = self.cairn("state", "list", *args, check=0).stdout
        return {l.split("\t")[0]: l.split("\t")[2] for l in out.strip().splitlines()}

    def apply(self):
        return self.cairn("apply", "--auto-approve", check=0)

    def assert_noop(self, *args):
        p = self.cairn("plan", "--detailed-exitcode", *args)
        self.assertEqual(p.returncode, 0, "plan not a no-op:\n" + p.stdout + p.stderr)

    def assert_drift(self, *words):
        p = self.cairn("plan", "--detailed-exitcode")
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("Changed outside cairn:", p.stdout)
        drift = p.stdout.split("Changed outside cairn:")[1]
        for w in words:
            self.assertIn(w, drift)
        return p

    def import_fresh(self, name, rid):
        other = self.dir + "/other.db"
        self.cairn("--state", other, "import", name, rid, check=0)
        self.assertEqual(self.ids("--state", other), {name: rid})
        self.assert_noop("--state", other)

    def kill_mid_create(self, name, exists):
        """Runs apply through a slow proxy and SIGKILLs it as soon as moto
        holds the resource (exists() true), before cairn can record it; the
        next apply must find the resource and adopt it, not make another."""
        # the answers are held: the resource exists in moto while cairn
        # still waits for the create's answer, the moment of a crash that
        # matters (a create whose answer says it all records at once)
        px = FaultProxy(self.moto.url, answer_latency_ms=800).start()
        self.addCleanup(px.stop)
        env = dict(self.env, AWS_ENDPOINT_URL=px.url)
        p = subprocess.Popen([harness.CAIRN, "apply", "--auto-approve"], cwd=self.dir, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: p.poll() is None and p.kill())
        deadline = time.time() + 60
        while not exists():
            if p.poll() is not None or time.time() > deadline:
                self.fail("apply ended (%s) before the resource appeared" % p.returncode)
            time.sleep(0.02)
        p.kill()
        p.wait()
        self.assertEqual(self.ids(), {}, "the create was recorded before the kill")
        r = self.apply()
        self.assertIn("Found the resource an interrupted run created", r.stdout)
        self.assertIn(name, self.ids())
        self.assert_noop()
        return r
