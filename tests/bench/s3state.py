"""The cost of team state in S3 (issue 10): one apply of N topics at
--parallelism 10 behind 50 ms of added latency per request, once with a
local state file and once with --state s3://BUCKET/KEY, each on a fresh
moto (signature checking on) behind tests/e2e/faultproxy.py. Reports wall
time, requests, the number of state uploads and their bytes (counted at
the proxy: PUTs of the state object), and the ratio of the wall times.

Usage: CAIRN_BIN=build/cairn python3 tests/bench/s3state.py [--n 1000] [--latency-ms 50]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

import harness  # noqa: E402
from faultproxy import FaultProxy  # noqa: E402

STATE_KEY = "bench/state.db"


class CountingProxy(FaultProxy):
    """Counts the PUTs of the state object and their bytes."""

    def __init__(self, *a, **kw):
        self.state_puts = 0
        self.state_bytes = 0
        super().__init__(*a, **kw)

    def _handler(self):
        base = super()._handler()
        proxy = self

        class Counting(base):
            def _handle(self):
                if self.command == "PUT" and self.path.split("?")[0].endswith(STATE_KEY):
                    with proxy.lock:
                        proxy.state_puts += 1
                        proxy.state_bytes += int(self.headers.get("Content-Length") or 0)
                return base._handle(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle

        return Counting


def stack(n):
    lines = ["stack: s3bench", "region: us-east-1", "resources:"]
    for i in range(n):
        lines += ["  topic_%d:" % i, "    type: aws_sns_topic", "    properties:",
                  "      name: s3bench-%d" % i]
    return "\n".join(lines) + "\n"


def run(n, latency_ms, s3):
    moto = harness.Moto().start()
    px = CountingProxy(moto.url, latency_ms=latency_ms).start()
    d = tempfile.mkdtemp(prefix="cairn-s3bench-")
    try:
        env = moto.env(d, endpoint=px.url)
        if s3:
            moto.client("s3").create_bucket(Bucket="cairn-bench-state")
            env["CAIRN_STATE"] = "s3://cairn-bench-state/" + STATE_KEY
        with open(os.path.join(d, "stack.yaml"), "w") as f:
            f.write(stack(n))
        t0 = time.time()
        p = subprocess.run([harness.CAIRN, "apply", "--auto-approve", "--parallelism", "10"],
                           cwd=d, env=env, capture_output=True, text=True)
        wall = time.time() - t0
        if p.returncode != 0:
            sys.exit("apply failed:\n" + p.stdout[-2000:] + p.stderr[-2000:])
        topics = len(moto.client("sns").list_topics()["Topics"])
        return {"wall": wall, "requests": px.requests, "uploads": px.state_puts,
                "bytes": px.state_bytes, "topics": topics}
    finally:
        px.stop()
        moto.stop()
        shutil.rmtree(d, True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--latency-ms", type=int, default=50)
    a = ap.parse_args()
    local = run(a.n, a.latency_ms, False)
    s3 = run(a.n, a.latency_ms, True)
    print("| state | wall | requests | state uploads | bytes uploaded |")
    print("|---|---:|---:|---:|---:|")
    print("| local | %.1f s | %d | - | - |" % (local["wall"], local["requests"]))
    print("| S3 | %.1f s | %d | %d | %.1f MB |" % (s3["wall"], s3["requests"], s3["uploads"],
                                                  s3["bytes"] / 1e6))
    print("\n%d topics at --parallelism 10, %d ms latency: S3 / local wall time = %.2f"
          % (a.n, a.latency_ms, s3["wall"] / local["wall"]))


if __name__ == "__main__":
    main()
