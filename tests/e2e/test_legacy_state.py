"""A state file written by cairn before addresses (commit b429eec, state
format 3) opens with today's cairn: its names are addresses unchanged,
plans against it show no change, and it takes the new state commands.

The fixture was made by that cairn applying tests/data/state/legacy-b429eec.yaml
against moto. Nothing here talks to AWS: every command runs with no
credentials and no endpoint, so a call would fail.
"""
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import unittest

import harness

DATA = os.path.join(harness.ROOT, "tests", "data", "state")


class LegacyState(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cairn-legacy-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        shutil.copy(os.path.join(DATA, "legacy-b429eec.yaml"),
                    os.path.join(self.dir, "stack.yaml"))
        self.state = os.path.join(self.dir, "cairn.db")
        shutil.copy(os.path.join(DATA, "legacy-b429eec.sqlite"), self.state)
        os.chmod(self.state, 0o600)

    def cairn(self, *args, check=0):
        env = {"PATH": os.environ.get("PATH", ""), "HOME": self.dir, "NO_COLOR": "1",
               "CAIRN_STATE": self.state, "AWS_EC2_METADATA_DISABLED": "true"}
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                env[k] = os.environ[k]
        p = subprocess.run([harness.CAIRN] + list(args), cwd=self.dir, env=env,
                           capture_output=True, text=True, timeout=60)
        if check is not None:
            self.assertEqual(p.returncode, check, p.stdout + p.stderr)
        return p

    def test_names_are_addresses_and_plans_match(self):
        p = self.cairn("state", "list")
        self.assertEqual(p.stdout.splitlines(), [
            "topic\taws_sns_topic\tarn:aws:sns:us-east-1:123456789012:legacy-events",
            "vpc\taws_vpc\tvpc-83202d0690f1fd646",
            "web-subnet\taws_subnet\tsubnet-c4156433d75ded7f2"])
        shown = json.loads(self.cairn("state", "show", "web-subnet", "--json").stdout)
        self.assertEqual(shown["attributes"]["cidr_block"], "10.9.1.0/24")
        self.assertEqual(shown["dependencies"], ["vpc"])
        p = self.cairn("plan", "--refresh=false", "--detailed-exitcode")
        self.assertIn("No changes", p.stdout)
        out = json.loads(self.cairn("output", "--json").stdout)
        self.assertEqual(out["vpc_id"]["value"], "vpc-83202d0690f1fd646")
        # the --json plan names every change by address
        doc = json.loads(self.cairn("plan", "--refresh=false", "--json").stdout)
        self.assertEqual(sorted(c["address"] for c in doc["changes"]),
                         ["topic", "vpc", "web-subnet"])

    def test_takes_moves_into_for_each(self):
        self.cairn("state", "mv", "web-subnet", 'web-subnet["a"]')
        p = self.cairn("state", "list")
        self.assertIn('web-subnet["a"]\taws_subnet\tsubnet-c4156433d75ded7f2', p.stdout)
        db = sqlite3.connect(self.state)
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
        finally:
            db.close()
        self.assertGreaterEqual(version, 3)


if __name__ == "__main__":
    unittest.main()
