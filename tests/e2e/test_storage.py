"""Broken storage under a running cairn: a full disk during apply
(RLIMIT_FSIZE, SIGXFSZ ignored, so writes fail with EFBIG as on a full
disk), a read-only state directory, the state file deleted or replaced
mid-run, and bytes flipped inside a state file.

Each: a clear error naming the state file and the cause, exit 1, nothing
AWS confirmed lost without the user being told (what was created but could
not be recorded is named with its id, and the ownership tags let the next
apply adopt it once the disk is back), and a damaged file never
overwritten.
"""
import hashlib
import os
import resource
import shutil
import signal
import subprocess
import time

import harness
from faultproxy import FaultProxy
from harness import CairnTestCase

CRASH_MARKS = ("AddressSanitizer", "runtime error", "Segmentation fault", "core dumped",
               "LeakSanitizer")


def topics_stack(stack, n):
    lines = ["stack: %s" % stack, "region: us-east-1", "resources:"]
    for i in range(n):
        lines += ["  t%d:" % i, "    type: aws_sns_topic", "    properties:",
                  "      name: %s-t%d" % (stack, i)]
    return "\n".join(lines) + "\n"


class StorageCase(CairnTestCase):
    N = 6

    def setUp(self):
        super().setUp()
        self.stack = "s-" + self._testMethodName.replace("test_", "").replace("_", "-")[:40]
        self.write("stack.yaml", topics_stack(self.stack, self.N))
        self.state = self.env["CAIRN_STATE"]

    def assert_clean(self, p, code=1):
        out = p.stdout + p.stderr
        for mark in CRASH_MARKS:
            self.assertNotIn(mark, out)
        self.assertEqual(p.returncode, code, out)

    def aws_topics(self):
        arns = [t["TopicArn"] for t in self.boto("sns").list_topics()["Topics"]]
        return sorted(a for a in arns if (":%s-t" % self.stack) in a)

    def state_ids(self, *args):
        p = self.cairn("state", "list", *args)
        if "no state file" in p.stderr:
            return {}
        self.assertEqual(p.returncode, 0, p.stderr)
        out = p.stdout
        return {l.split("\t")[0]: l.split("\t")[2] for l in out.strip().splitlines()}

    def assert_converges(self):
        p = self.cairn("apply", "--auto-approve")
        self.assert_clean(p, 0)
        ids = self.state_ids()
        self.assertEqual(len(ids), self.N)
        self.assertEqual(sorted(ids.values()), self.aws_topics())
        p = self.cairn("plan", "--detailed-exitcode")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def reported_unrecorded(self, p):
        """Topics AWS holds that the state does not: each must be named in the output."""
        recorded = set(self.state_ids().values())
        for arn in self.aws_topics():
            if arn not in recorded:
                self.assertIn(arn, p.stdout + p.stderr, "an unrecorded object is not reported")


class TestFullDisk(StorageCase):
    def run_limited(self, limit, *args):
        def preexec():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        return subprocess.run([harness.CAIRN] + list(args), cwd=self.dir, env=self.env,
                              capture_output=True, text=True, timeout=300, preexec_fn=preexec)

    def test_disk_full_during_apply(self):
        # The state exists (a first resource recorded); then writes may only
        # grow files a little: the apply runs out of space part way.
        self.write("stack.yaml", topics_stack(self.stack, 1))
        self.assert_clean(self.cairn("apply", "--auto-approve"), 0)
        self.write("stack.yaml", topics_stack(self.stack, self.N))
        sizes = [os.path.getsize(p) for p in (self.state, self.state + "-wal")
                 if os.path.exists(p)]
        p = self.run_limited(max(sizes) + 6000, "apply", "--auto-approve")
        self.assert_clean(p, 1)
        self.assertIn(self.state, p.stderr)
        self.assertRegex(p.stderr, r"(disk is full|File too large|disk I/O error)")
        self.reported_unrecorded(p)
        # the file is still a sound state, and the disk back, apply adopts the rest
        self.assertEqual(self.cairn("state", "list").returncode, 0)
        self.assert_converges()


class TestReadOnly(StorageCase):
    def test_read_only_state_directory(self):
        # root writes anywhere: run cairn as nobody against a directory it cannot write.
        d = os.path.join(self.dir, "ro")
        os.mkdir(d)
        state = os.path.join(d, "cairn.db")
        self.assert_clean(self.cairn("apply", "--auto-approve", env={"CAIRN_STATE": state}), 0)
        before = hashlib.sha256(open(state, "rb").read()).hexdigest()
        for p in (state, state + "-wal", state + "-shm"):
            if os.path.exists(p):
                os.chmod(p, 0o644)
        os.chmod(d, 0o555)
        os.chmod(self.dir, 0o755)
        self.write("stack.yaml", topics_stack(self.stack, self.N + 1))
        os.chmod(os.path.join(self.dir, "stack.yaml"), 0o644)

        def as_nobody():
            os.setgid(65534)
            os.setuid(65534)
        env = dict(self.env, CAIRN_STATE=state, HOME=d)
        t0 = len(self.aws_topics())
        p = subprocess.run([harness.CAIRN, "apply", "--auto-approve"], cwd=self.dir, env=env,
                           capture_output=True, text=True, timeout=120, preexec_fn=as_nobody)
        self.assert_clean(p, 1)
        self.assertIn(state, p.stderr)
        # refused before touching AWS, the file untouched
        self.assertEqual(len(self.aws_topics()), t0)
        self.assertEqual(hashlib.sha256(open(state, "rb").read()).hexdigest(), before)
        os.chmod(d, 0o755)
        self.env["CAIRN_STATE"] = state
        self.N += 1
        self.assert_converges()


class TestStateSwappedMidRun(StorageCase):
    def slow_apply(self):
        px = FaultProxy(self.moto.url, latency_ms=400).start()
        self.addCleanup(px.stop)
        env = dict(self.env, AWS_ENDPOINT_URL=px.url)
        p = subprocess.Popen([harness.CAIRN, "apply", "--auto-approve", "--parallelism", "1"],
                             cwd=self.dir, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: p.poll() is None and p.kill())
        deadline = time.time() + 60
        while len(self.aws_topics()) < 2:
            self.assertIsNone(p.poll(), "apply ended before the state could be swapped")
            self.assertLess(time.time(), deadline)
            time.sleep(0.05)
        return p

    def check_reported(self, p):
        out, err = p.communicate(timeout=120)
        res = subprocess.CompletedProcess(p.args, p.returncode, out, err)
        self.assert_clean(res, 1)
        self.assertIn(self.state, err)
        self.assertRegex(err, r"(deleted|replaced|moved)")
        return res

    def test_state_deleted_mid_run(self):
        p = self.slow_apply()
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(self.state + suffix):
                os.unlink(self.state + suffix)
        res = self.check_reported(p)
        self.reported_unrecorded(res)

    def test_state_replaced_mid_run(self):
        # an older copy put back while apply runs (a restore from backup)
        self.write("stack.yaml", topics_stack(self.stack, 1))
        self.assert_clean(self.cairn("apply", "--auto-approve"), 0)
        self.cairn("state", "list", check=0)
        other = os.path.join(self.dir, "older.db")
        shutil.copy(self.state, other)
        self.write("stack.yaml", topics_stack(self.stack, self.N))
        p = self.slow_apply()
        os.replace(other, self.state)
        res = self.check_reported(p)
        self.reported_unrecorded(res)


class TestFlippedBytes(StorageCase):
    def test_flipped_bytes_refused_never_overwritten(self):
        self.assert_clean(self.cairn("apply", "--auto-approve"), 0)
        self.cairn("state", "list", check=0)  # checkpoints the WAL into the file
        data = bytearray(open(self.state, "rb").read())
        page = int.from_bytes(data[16:18], "big") or 65536
        # the b-tree page headers of every page after the schema's
        for start in range(page, len(data), page):
            for off in range(start, start + 12):
                data[off] ^= 0x5A
        with open(self.state, "wb") as f:
            f.write(data)
        for suffix in ("-wal", "-shm"):
            if os.path.exists(self.state + suffix):
                os.unlink(self.state + suffix)
        before = hashlib.sha256(bytes(data)).hexdigest()
        for args in (("plan",), ("apply", "--auto-approve"), ("state", "list")):
            p = self.cairn(*args)
            self.assert_clean(p, 1)
            self.assertIn(self.state, p.stderr)
            self.assertIn("damaged", p.stderr)
        self.assertEqual(hashlib.sha256(open(self.state, "rb").read()).hexdigest(), before)
