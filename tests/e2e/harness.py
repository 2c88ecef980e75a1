"""End-to-end test harness: a moto server in signature-checking mode.

Each test class gets its own moto server on a free loopback port, started
with INITIAL_NO_AUTH_ACTION_COUNT so that only the set-up calls (create an
IAM user, an access key and an allow-all policy) go through unsigned; every
later request must be signed with that key. The server is stopped when the
class ends, whether its tests passed or not.

CairnTestCase.cairn() runs the binary named by $CAIRN_BIN (default ./cairn)
in a fresh temporary directory with an environment that points every AWS
endpoint at moto and holds nothing of the developer's own AWS set-up.
"""
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

import boto3

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CAIRN = os.environ.get("CAIRN_BIN") or os.path.join(ROOT, "cairn")
REGION = "us-east-1"
ALLOW_ALL = json.dumps({"Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
SETUP_CALLS = 3  # CreateUser, CreateAccessKey, PutUserPolicy


def free_port():
    """A free loopback port. Parallel workers (run.py -j) each keep to their
    own residue class modulo the number of workers, so two workers never
    pick the same port between its probe here and a server binding it.
    (Probed explicitly: Linux hands out bind(0) ports of one parity only.)"""
    workers = int(os.environ.get("CAIRN_E2E_WORKERS", "1"))
    worker = int(os.environ.get("CAIRN_E2E_WORKER", "0"))
    rng = random.Random()
    for _ in range(10000):
        port = rng.randrange(20000, 32000)
        port -= port % workers
        port += worker
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            s.close()
        return port
    raise RuntimeError("no free port in this worker's class")


def moto_command(port, script="moto_fixed.py"):
    """moto_server through moto_fixed.py, which corrects two cases of moto's
    signature check (see that file); authentication stays on. script: a
    wrapper of it that adds to moto (moto_ecs.py)."""
    return [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                         script), "-H", "127.0.0.1", "-p", str(port)]


class Moto:
    """A moto server; use start() and stop(). extra_env: variables the
    server runs with (moto's own switches, e.g. MOTO_ECS_SERVICE_RUNNING);
    script: the wrapper it runs through (default moto_fixed.py)."""

    def __init__(self, extra_env=None, script="moto_fixed.py"):
        self.extra_env = dict(extra_env or {})
        self.script = script
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.proc = None
        self.key_id = None
        self.secret = None
        self.log = tempfile.NamedTemporaryFile(prefix="moto-", suffix=".log", delete=False)

    def start(self):
        # A port probed free may be taken before moto binds it (by another
        # server of a parallel run): then moto exits, and we try a new port.
        for attempt in range(3):
            if self._launch():
                break
            if attempt == 2:
                raise RuntimeError("moto_server did not start; see " + self.log.name)
            self.port = free_port()
            self.url = "http://127.0.0.1:%d" % self.port
        iam = boto3.client("iam", endpoint_url=self.url, region_name=REGION,
                           aws_access_key_id="setup", aws_secret_access_key="setup")
        iam.create_user(UserName="cairn-test")
        key = iam.create_access_key(UserName="cairn-test")["AccessKey"]
        iam.put_user_policy(UserName="cairn-test", PolicyName="allow-all",
                            PolicyDocument=ALLOW_ALL)
        self.key_id, self.secret = key["AccessKeyId"], key["SecretAccessKey"]
        return self

    def _launch(self):
        env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT=str(SETUP_CALLS), **self.extra_env)
        env.pop("AWS_ENDPOINT_URL", None)
        self.proc = subprocess.Popen(moto_command(self.port, self.script), env=env,
                                     stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(self.url + "/moto-api/", timeout=1)
                # answered, but by our server? one that failed to bind exits
                time.sleep(0.2)
                if self.proc.poll() is None:
                    return True
            except Exception:
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                return False
            time.sleep(0.05)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def client(self, service, region=REGION):
        """A boto3 client signed with the test user's key (checks what cairn did)."""
        return boto3.client(service, endpoint_url=self.url, region_name=region,
                            aws_access_key_id=self.key_id, aws_secret_access_key=self.secret)

    def env(self, home, endpoint=None):
        """The environment cairn runs with: only moto, nothing of the developer's."""
        keep = ("PATH", "LANG", "LC_ALL", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS",
                "TMPDIR")
        env = {k: v for k, v in os.environ.items() if k in keep}
        env.update({
            "HOME": home,
            "AWS_ACCESS_KEY_ID": self.key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret,
            "AWS_REGION": REGION,
            "AWS_ENDPOINT_URL": endpoint or self.url,
            "AWS_CONFIG_FILE": os.path.join(home, "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, "no-aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "NO_COLOR": "1",
            "CAIRN_STATE": os.path.join(home, "cairn.db"),
        })
        return env


class CairnTestCase(unittest.TestCase):
    """Base class: one moto per class, one temporary directory per test.
    A class may set MOTO_ENV (variables for its moto server) and
    MOTO_SCRIPT (the wrapper moto runs through)."""

    moto = None
    MOTO_ENV = None
    MOTO_SCRIPT = "moto_fixed.py"

    @classmethod
    def setUpClass(cls):
        cls.moto = Moto(cls.MOTO_ENV, cls.MOTO_SCRIPT).start()
        cls.addClassCleanup(cls.moto.stop)

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cairn-e2e-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.env = self.moto.env(self.dir)

    def cairn(self, *args, input=None, env=None, timeout=600, check=None):
        """Runs cairn in the test directory. check=0 asserts the exit code."""
        e = dict(self.env)
        if env:
            e.update(env)
        p = subprocess.run([CAIRN] + [str(a) for a in args], cwd=self.dir, env=e,
                           input=input, capture_output=True, text=True, timeout=timeout)
        if check is not None and p.returncode != check:
            self.fail("cairn %s: exit %d, wanted %d\nstdout:\n%s\nstderr:\n%s"
                      % (" ".join(map(str, args)), p.returncode, check, p.stdout, p.stderr))
        return p

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def boto(self, service):
        return self.moto.client(service)
