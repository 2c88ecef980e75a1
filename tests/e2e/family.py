"""FamilyCase: helpers for the resource family tests (one resource per stack,
written as stack.json; state list parsing; no-op and drift assertions)."""
import json

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
