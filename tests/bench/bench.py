"""make bench: cairn against a plain boto3 script on generated stacks.

For each stack size (10, 100, 1000 resources, see gen.py) and each proxy
latency (0 ms, and 50 ms per request so the local emulator answers more like
a remote AWS API), on a fresh moto server in signature-checking mode
(tests/e2e/harness.py) behind tests/e2e/faultproxy.py with faults off:

  * cairn apply --auto-approve and cairn destroy --auto-approve at
    --parallelism 1 and 10, and a no-op cairn plan (once: it takes no
    --parallelism): wall time, cairn's CPU time, requests that
    went through the proxy, peak RSS of the cairn process (ru_maxrss from
    wait4 in rusage.c, a small C launcher: see there why not os.wait4 here);
  * baseline.py: the same creates as a sequential boto3 script, through the
    same proxy: wall time of the creates, requests.

After each apply and destroy, boto3 checks (straight at moto, not counted)
that every resource exists, or is gone; the no-op plan must exit 0 under
--detailed-exitcode.

Prints one Markdown table, the targets next to the figures, why a target
is missed, where the requests go, and the machine, to stdout and to
tests/bench/results.md; the raw figures go to results.json. Progress goes
to stderr. Exits 1 when a cairn command failed or a check did not hold.

Options: --sizes 10,100 --latency-ms 50 --skip-slow-seconds S (a p=1 cell
expected to take longer than S is estimated, not run) --out FILE
--render RAW.json (print the report of a saved run again).
"""
import argparse
import collections
import datetime
import importlib.metadata
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
sys.path.insert(0, HERE)

import harness  # noqa: E402
from faultproxy import FaultProxy  # noqa: E402
import gen  # noqa: E402

CAIRN = harness.CAIRN
TOOLS = tempfile.mkdtemp(prefix="cairn-bench-tools-")
STEPS = ("apply", "plan", "destroy")
PARALLELISM = (1, 10)

# The targets of issue 8, item 4 (and issue 5's plan wall time and RSS).
PLAN_WALL_S = 2.0
PLAN_RSS_MB = 50.0
PLAN_REQUESTS_PER_RESOURCE = 0.8
APPLY_REQUESTS_VS_BASELINE = 1.5
APPLY_SPEEDUP = 4.0


class CountingProxy(FaultProxy):
    """faultproxy with faults off, also counting requests per operation."""

    def __init__(self, upstream, latency_ms=0):
        self.ops = collections.Counter()
        self.ops_lock = threading.Lock()
        super().__init__(upstream, latency_ms=latency_ms)

    def _handler(self):
        base = super()._handler()
        proxy = self

        class Counting(base):
            def _body(self):
                body = super()._body()
                proxy.note(self.headers, body)
                return body

        return Counting

    def note(self, headers, body):
        m = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", headers.get("Authorization", ""))
        service = m.group(1) if m else "?"
        target = headers.get("X-Amz-Target")
        if target:
            op = target.rsplit(".", 1)[-1]
        else:
            q = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
            op = q.get("Action", ["?"])[0]
        with self.ops_lock:
            self.ops[service + ":" + op] += 1

    def snapshot(self):
        with self.ops_lock:
            return self.requests, collections.Counter(self.ops)


def log(fmt, *args):
    print(fmt % args, file=sys.stderr, flush=True)


def run_cairn(args, cwd, env, timeout=1800):
    """Runs cairn under rusage.c; returns (exit code, wall s, CPU s, peak RSS MB, tail)."""
    out = tempfile.TemporaryFile(mode="w+")
    meas = os.path.join(TOOLS, "rusage.out")
    p = subprocess.Popen([os.path.join(TOOLS, "rusage"), meas, CAIRN] + args, cwd=cwd,
                         env=env, stdin=subprocess.DEVNULL, stdout=out,
                         stderr=subprocess.STDOUT, start_new_session=True)
    try:
        rc = p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, 9)
        rc = p.wait()
    out.seek(0)
    text = out.read()
    out.close()
    try:
        with open(meas) as f:
            wall, cpu, rss_kb = f.read().split()
        os.unlink(meas)
    except (OSError, ValueError):
        return rc if rc else 1, 0.0, 0.0, 0.0, text[-3000:] + "\n(bench: no measurement)"
    return rc, float(wall), float(cpu), int(rss_kb) / 1024.0, text[-3000:]


def prepare_tools():
    """Builds rusage.c and snapshots the cairn binary into TOOLS.

    The snapshot keeps the whole run on one binary while the build tree
    changes underneath it."""
    global CAIRN
    subprocess.run(["cc", "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-o",
                    os.path.join(TOOLS, "rusage"), os.path.join(HERE, "rusage.c")], check=True)
    snap = os.path.join(TOOLS, "cairn")
    shutil.copy2(CAIRN, snap)
    CAIRN = snap


def warm_up(moto):
    """moto imports a service's code on its first request: pay that before measuring."""
    moto.client("ec2").describe_vpcs()
    moto.client("elbv2").describe_target_groups()
    moto.client("sns").list_topics()
    moto.client("dynamodb").list_tables()
    moto.client("ecr").describe_repositories()
    moto.client("sts").get_caller_identity()


class Env:
    """A fresh moto and a counting proxy in front of it, for one size and latency."""

    def __init__(self, latency_ms):
        self.moto = harness.Moto().start()
        warm_up(self.moto)
        self.proxy = CountingProxy(self.moto.url, latency_ms=latency_ms).start()
        self.dir = self.env = None

    def new_dir(self):
        """A fresh working directory (and state file) for one cell."""
        self.dir = tempfile.mkdtemp(prefix="cairn-bench-")
        self.env = self.moto.env(self.dir, endpoint=self.proxy.url)

    def close(self):
        self.proxy.stop()
        self.moto.stop()
        try:
            os.unlink(self.moto.log.name)
        except OSError:
            pass


def check_created(moto, stack, res, gone=False):
    """Counts, straight at moto, the resources the stack should have (none when gone);
    returns the differences."""
    want = {t: 0 if gone else c for t, c in gen.counts(res).items()}
    ec2 = moto.client("ec2")
    flt = [{"Name": "tag:cairn:stack", "Values": [stack]}]
    pag = lambda c, op, key, **kw: [x for page in c.get_paginator(op).paginate(**kw)  # noqa: E731
                                    for x in page[key]]
    got = {
        "aws_vpc": len(pag(ec2, "describe_vpcs", "Vpcs", Filters=flt)),
        "aws_subnet": len(pag(ec2, "describe_subnets", "Subnets", Filters=flt)),
        "aws_security_group": len(pag(ec2, "describe_security_groups", "SecurityGroups",
                                      Filters=flt)),
        "aws_lb_target_group": len(pag(moto.client("elbv2"), "describe_target_groups",
                                       "TargetGroups")),
        "aws_sns_topic": len(pag(moto.client("sns"), "list_topics", "Topics")),
        "aws_dynamodb_table": len(pag(moto.client("dynamodb"), "list_tables", "TableNames")),
        "aws_ecr_repository": len(pag(moto.client("ecr"), "describe_repositories",
                                      "repositories")),
    }
    return ["%s: %d in moto, %d in the stack" % (t, got.get(t, -1), n)
            for t, n in sorted(want.items()) if got.get(t) != n]


def cairn_cell(e, n, par, latency, results, problems, steps=STEPS):
    """apply, no-op plan, destroy (or the steps given) of n resources at parallelism par."""
    tag = "bench-n%d-p%d" % (n, par)
    res = gen.resources(n, tag)
    e.new_dir()
    try:
        with open(os.path.join(e.dir, "stack.json"), "w") as f:
            f.write(gen.stack_json(tag, res))
        cmds = {
            "apply": ["apply", "-f", "stack.json", "--auto-approve", "--parallelism", str(par)],
            "plan": ["plan", "-f", "stack.json", "--detailed-exitcode"],
            "destroy": ["destroy", "-f", "stack.json", "--auto-approve",
                        "--parallelism", str(par)],
        }
        for step in steps:
            req0, ops0 = e.proxy.snapshot()
            rc, wall, cpu, rss, tail = run_cairn(cmds[step], e.dir, e.env)
            req1, ops1 = e.proxy.snapshot()
            ops1.subtract(ops0)
            r = {"wall": wall, "cpu": cpu, "requests": req1 - req0, "rss": rss, "rc": rc,
                 "ops": {k: v for k, v in ops1.items() if v}}
            results[(n, latency, step, par)] = r
            log("  n=%-4d latency=%-3d p=%-2d %-7s exit %d  %7.2f s (CPU %5.2f s)  %6d requests"
                "  %6.1f MB", n, latency, par, step, rc, wall, cpu, r["requests"], rss)
            if rc != 0:
                problems.append("n=%d latency=%d ms p=%d: cairn %s exited %d:\n%s"
                                % (n, latency, par, step, rc, tail.strip()[-1500:]))
                r["failed"] = True
                if step == "apply":
                    # still tear down what was made, but the figures are void
                    run_cairn(cmds["destroy"], e.dir, e.env)
                    break
            if step in ("apply", "destroy"):
                bad = check_created(e.moto, tag, res, gone=step == "destroy")
                if bad:
                    problems.append("n=%d latency=%d ms p=%d: after %s, %s"
                                    % (n, latency, par, step, "; ".join(bad)))
                    r["failed"] = True
    finally:
        shutil.rmtree(e.dir, True)


def baseline_cell(e, n, latency, results, problems):
    """The sequential boto3 creates of the same stack (run last on a moto: it leaves them)."""
    tag = "bench-n%d-base" % n
    res = gen.resources(n, tag)
    e.new_dir()
    try:
        path = os.path.join(e.dir, "resources.json")
        with open(path, "w") as f:
            json.dump(res, f)
        env = dict(e.env)
        env["PYTHONPATH"] = ""
        req0, ops0 = e.proxy.snapshot()
        p = subprocess.run([sys.executable, os.path.join(HERE, "baseline.py"), path, tag],
                           env=env, capture_output=True, text=True, timeout=1800)
        req1, ops1 = e.proxy.snapshot()
        ops1.subtract(ops0)
        if p.returncode != 0:
            problems.append("n=%d latency=%d ms: baseline failed:\n%s"
                            % (n, latency, p.stderr[-1500:]))
            results[(n, latency, "baseline", 1)] = {"failed": True}
            return
        out = json.loads(p.stdout.strip().splitlines()[-1])
        results[(n, latency, "baseline", 1)] = {"wall": out["seconds"], "requests": req1 - req0,
                                                "rss": None,
                                                "ops": {k: v for k, v in ops1.items() if v}}
        log("  n=%-4d latency=%-3d baseline        %7.2f s  %6d requests",
            n, latency, out["seconds"], req1 - req0)
        bad = check_created(e.moto, tag, res)
        if bad:
            problems.append("n=%d latency=%d ms: after the baseline, %s"
                            % (n, latency, "; ".join(bad)))
    finally:
        shutil.rmtree(e.dir, True)


# ---- the report ----

def machine(load):
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = "%.1f GiB" % (int(line.split()[1]) / 1024.0 / 1024.0)
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                capture_output=True, text=True).stdout.strip()
    except OSError:
        commit = "?"
    try:
        version = subprocess.run([CAIRN, "version"], capture_output=True,
                                 text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        version = "?"
    return [
        ("nproc", str(os.cpu_count())),
        ("CPU", cpu),
        ("RAM", mem),
        ("kernel", platform.release()),
        ("moto", importlib.metadata.version("moto")),
        ("boto3", importlib.metadata.version("boto3")),
        ("python", platform.python_version()),
        ("cairn", "%s (commit %s)" % (version, commit)),
        ("load average (1/5/15 min) at start, at end", load),
    ]


def fmt_wall(r):
    if r is None:
        return "—"
    if r.get("same_as"):
        return "as p=%d" % r["same_as"]
    if r.get("failed"):
        return "FAILED"
    s = "%.2f" % r["wall"] if r["wall"] < 100 else "%.0f" % r["wall"]
    if r.get("estimated"):
        return "~" + s
    if r.get("cpu") is not None:
        s += " (%.2f)" % r["cpu"]
    return s


def fmt_num(r, key, fmt):
    if r is None or r.get("failed") or r.get("same_as") or r.get(key) is None:
        return "—"
    s = fmt % r[key]
    return ("~" + s) if r.get("estimated") else s


def table(results, sizes, latencies):
    names = {"apply": "cairn apply", "plan": "cairn plan (no-op)",
             "destroy": "cairn destroy", "baseline": "boto3 sequential creates"}
    lines = ["| resources | latency | run | p=1 wall (CPU) s | p=1 requests | p=1 peak RSS MB "
             "| p=10 wall (CPU) s | p=10 requests | p=10 peak RSS MB |",
             "|---:|---:|---|---:|---:|---:|---:|---:|---:|"]
    for n in sizes:
        for lat in latencies:
            for step in STEPS + ("baseline",):
                row = ["%d" % n, "%d ms" % lat, names[step]]
                pars = (1,) if step == "baseline" else PARALLELISM
                for par in PARALLELISM:
                    r = results.get((n, lat, step, par)) if par in pars else None
                    row += [fmt_wall(r), fmt_num(r, "requests", "%d"),
                            fmt_num(r, "rss", "%.1f")]
                lines.append("| " + " | ".join(row) + " |")
    return lines


def ok(r, cond):
    if r is None or r.get("failed"):
        return "not measured"
    return "**met**" if cond else "**missed**"


def targets(results, sizes, latencies):
    lines = ["| target | measured | |", "|---|---|---|"]
    big = max(sizes)
    for lat in latencies:
        plans = [results.get((big, lat, "plan", p)) for p in PARALLELISM]
        plans = [r for r in plans if r and "wall" in r and not r.get("failed")
                 and not r.get("estimated")]
        r = min(plans, key=lambda x: x["wall"]) if plans else None
        tail = " (%d resources, %d ms latency)" % (big, lat)
        if r:
            lines.append("| no-op plan < %.0f s wall%s | %.2f s | %s |"
                         % (PLAN_WALL_S, tail, r["wall"], ok(r, r["wall"] < PLAN_WALL_S)))
            lines.append("| no-op plan < %.0f MB peak RSS%s | %.1f MB | %s |"
                         % (PLAN_RSS_MB, tail, r["rss"], ok(r, r["rss"] < PLAN_RSS_MB)))
            lines.append("| no-op plan ≤ %.1f AWS requests per resource%s | %d requests (%.2f) | %s |"
                         % (PLAN_REQUESTS_PER_RESOURCE, tail, r["requests"],
                            r["requests"] / float(big),
                            ok(r, r["requests"] <= PLAN_REQUESTS_PER_RESOURCE * big)))
    for lat in latencies:
        a = results.get((big, lat, "apply", 10))
        b = results.get((big, lat, "baseline", 1))
        if not a or not b or a.get("failed") or b.get("failed"):
            continue
        lines.append("| apply ≤ %.1f× the baseline's requests (%d resources, %d ms latency) | "
                     "%d vs %d (%.2f×) | %s |"
                     % (APPLY_REQUESTS_VS_BASELINE, big, lat, a["requests"], b["requests"],
                        a["requests"] / float(b["requests"]),
                        ok(a, a["requests"] <= APPLY_REQUESTS_VS_BASELINE * b["requests"])))
    for n in sizes:
        for lat in latencies:
            if lat == 0:
                continue
            a = results.get((n, lat, "apply", 10))
            b = results.get((n, lat, "baseline", 1))
            if not a or not b or a.get("failed") or b.get("failed"):
                continue
            speed = b["wall"] / a["wall"]
            lines.append("| apply at p=10 ≥ %.0f× faster than sequential boto3 "
                         "(%d resources, %d ms latency) | %.1f× (%.2f s vs %.2f s) | %s |"
                         % (APPLY_SPEEDUP, n, lat, speed, a["wall"], b["wall"],
                            ok(a, speed >= APPLY_SPEEDUP)))
    return lines


def usable(r):
    return r and "wall" in r and not r.get("failed") and not r.get("estimated")


def explain(results, sizes, latencies):
    """Why a target is missed, from the figures themselves."""
    out = []
    big = max(sizes)
    counts = gen.counts(gen.resources(big, "x"))
    for lat in latencies:
        r = results.get((big, lat, "plan", 10))
        b = results.get((big, lat, "baseline", 1))
        if not usable(r):
            continue
        each, alone = r["wall"] / r["requests"], usable(b) and b["wall"] / b["requests"]
        if r["wall"] >= PLAN_WALL_S and alone and each > 0.7 * alone:
            out.append("No-op plan wall time (%d ms): its %d requests took %.1f s, %.0f ms "
                       "each, about what one request takes here when sent alone (the "
                       "sequential baseline: %.0f ms per request), so the refresh sends them "
                       "one after another; cairn's own work was %.2f s of CPU. Under %.0f s "
                       "needs the reads sent in parallel and fewer of them."
                       % (lat, r["requests"], r["wall"], 1000 * r["wall"] / r["requests"],
                          1000 * b["wall"] / b["requests"], r["cpu"], PLAN_WALL_S))
        elif r["wall"] >= PLAN_WALL_S:
            floor = " With %d ms per request and at most 10 in flight, %d requests need at " \
                    "least %.1f s." % (lat, r["requests"], r["requests"] * lat / 10000.0) \
                if lat else ""
            out.append("No-op plan wall time (%d ms): %d requests in %.1f s, %.0f per second, "
                       "with %.2f s of cairn CPU: the time is spent waiting for moto.%s"
                       % (lat, r["requests"], r["wall"], r["requests"] / r["wall"], r["cpu"],
                          floor))
        if lat == 0 and r["requests"] > PLAN_REQUESTS_PER_RESOURCE * big:
            per = []
            for typ, c in sorted(counts.items()):
                ops = [(op.split(":", 1)[1], k) for op, k in r["ops"].items()
                       if op_type(op) == typ and k >= c]
                if ops:
                    per.append("`%s` %s" % (typ, " + ".join(
                        "%s%s" % ("%d× " % (k // c) if k // c > 1 else "", op)
                        for op, k in sorted(ops))))
            out.append("No-op plan requests: %d for %d resources. Batched reads cover whole "
                       "types (DescribeVpcs, DescribeSubnets, DescribeSecurityGroups, "
                       "DescribeTargetGroups and DescribeTags, DescribeRepositories take many "
                       "ids per call), but these reads take one resource per call in the AWS "
                       "APIs: %s. (ECR tags could come batched from the Resource Groups "
                       "Tagging API's GetResources on AWS, but moto's does not list ECR "
                       "repositories; the rest has no batch form.)"
                       % (r["requests"], big, "; ".join(per)))
    for n in sorted(sizes, reverse=True):  # the largest stack that has the figures
        for lat in latencies:
            a = results.get((n, lat, "apply", 10))
            b = results.get((n, lat, "baseline", 1))
            if not lat or not usable(a) or not usable(b):
                continue
            if b["wall"] / a["wall"] >= APPLY_SPEEDUP:
                continue
            bound = 10.0 * b["requests"] / a["requests"]
            out.append("Apply speed-up (%d resources, %d ms): cairn sent %.1f requests per "
                       "resource (the create, its follow-up calls, and reads of what their "
                       "answers lack, see below) against the baseline's %.1f. "
                       "When every request waits the latency, 10 at a time can be at most "
                       "10 × %d / %d = %.1f× faster than one at a time. moto, one Python "
                       "process on this machine, also caps the rate: cairn got %.0f requests/s "
                       "at p=10 against the baseline's %.0f one at a time."
                       % (n, lat, a["requests"] / float(n), b["requests"] / float(n),
                          b["requests"], a["requests"], bound, a["requests"] / a["wall"],
                          b["requests"] / b["wall"]))
            return ["- " + x for x in out]
    return ["- " + x for x in out]


# Which resource type an operation serves, for the per-type request counts.
EC2_OP_TYPES = {"Vpc": "aws_vpc", "RouteTables": "aws_vpc", "Subnet": "aws_subnet",
                "SecurityGroup": "aws_security_group"}
SERVICE_TYPES = {"elasticloadbalancing": "aws_lb_target_group", "sns": "aws_sns_topic",
                 "dynamodb": "aws_dynamodb_table", "ecr": "aws_ecr_repository"}


def op_type(op):
    service, name = op.split(":", 1)
    if service == "ec2":
        for key, typ in EC2_OP_TYPES.items():
            if key in name:
                return typ
        return "other"
    return SERVICE_TYPES.get(service, "other")


def per_type(results, n, lat):
    """Requests per resource of each type: no-op plan, apply, baseline (at p=10)."""
    runs = [("cairn plan (no-op)", results.get((n, lat, "plan", 10))),
            ("cairn apply", results.get((n, lat, "apply", 10))),
            ("boto3 creates", results.get((n, lat, "baseline", 1)))]
    runs = [(name, r) for name, r in runs if r and r.get("ops") and not r.get("failed")]
    if not runs:
        return []
    counts = gen.counts(gen.resources(n, "x"))
    head = "| type | resources | " + " | ".join("%s: requests (per resource), operations" % nm
                                                for nm, _ in runs) + " |"
    lines = ["Requests by resource type (%d resources, %d ms, p=10):" % (n, lat), "",
             head, "|---|---:|" + "---|" * len(runs)]
    for typ in sorted(counts) + ["other"]:
        row = ["`%s`" % typ if typ != "other" else "other", str(counts.get(typ, "")) or "—"]
        used = False
        for _, r in runs:
            ops = {op: c for op, c in r["ops"].items() if op_type(op) == typ}
            total = sum(ops.values())
            used = used or total > 0
            per = " (%.2f)" % (total / counts[typ]) if typ in counts else ""
            row.append("%d%s: %s" % (total, per, ", ".join(
                "%s %d" % (op.split(":", 1)[1], c)
                for op, c in sorted(ops.items(), key=lambda kv: (-kv[1], kv[0])))))
        if used or typ != "other":
            lines.append("| " + " | ".join(row) + " |")
    return lines


def report(results, sizes, latencies, notes, problems, started, elapsed, mach):
    res = gen.resources(max(sizes), "x")
    mix = ", ".join("%d %s" % (c, t) for t, c in sorted(gen.counts(res).items()))
    out = ["# cairn benchmark", "",
           "Produced by `make bench` (tests/bench/bench.py) on %s UTC in %.0f s."
           % (started.strftime("%Y-%m-%d %H:%M"), elapsed), "",
           "Each stack size is a generated stack of blocks of ten resources (tests/bench/gen.py); "
           "%d resources are %s. Every cell runs on a fresh moto server (signature checking on) "
           "behind tests/e2e/faultproxy.py with faults off, which counts the requests and, in "
           "the latency rows, holds each request for that long before forwarding it, as a "
           "remote API would. Wall is elapsed time; CPU (in brackets) is the cairn process's user + "
           "system time, which does not depend on how fast moto answers. `p` is `--parallelism` (the no-op plan takes none and runs "
           "once per size and latency). Peak RSS is the cairn process's `ru_maxrss` (wait4 in tests/bench/rusage.c). The baseline "
           "creates the same resources, with the same tags, one call after another with boto3 "
           "through the same proxy, without waiting or reading anything back; its time counts "
           "only the calls (no interpreter start-up or imports)." % (max(sizes), mix), ""]
    out += table(results, sizes, latencies)
    out += ["", "## Targets", ""]
    out += targets(results, sizes, latencies)
    why = explain(results, sizes, latencies)
    if why:
        out += ["", "Where a target is missed:", ""] + why
    big = max(sizes)
    details = per_type(results, big, 0)
    if details:
        out += ["", "## Where the requests go", ""] + details
    if notes:
        out += ["", "## Notes", ""] + ["- " + x for x in notes]
    if problems:
        out += ["", "## Failures", ""] + ["```\n%s\n```" % p for p in problems]
    out += ["", "## Machine", "", "| | |", "|---|---|"]
    out += ["| %s | %s |" % tuple(kv) for kv in mach]
    return "\n".join(out) + "\n"


def project_p1(results, n, lat):
    """Expected seconds of apply + destroy at p=1, or None when nothing tells."""
    r0 = [results.get((n, 0, st, 1)) for st in ("apply", "destroy")]
    if lat and all(r and not r.get("failed") and not r.get("estimated") for r in r0):
        return sum(r["wall"] + r["requests"] * lat / 1000.0 for r in r0)
    small = n // 10
    rs = [results.get((small, lat, st, 1)) for st in ("apply", "destroy")]
    if all(r and not r.get("failed") and not r.get("estimated") for r in rs):
        return sum(r["wall"] for r in rs) * n / small
    return None


def estimate_p1(results, n, lat):
    """Fills the p=1 apply and destroy of n resources in without running them.

    Requests are the p=10 run's (the same calls, in another order). Wall
    time: with latency, the 0 ms p=1 run plus the latency once per request,
    as p=1 sends them one after another; without, the p=1 run of a tenth of
    the size scaled by the number of requests. Returns how, or None."""
    how = None
    for st in ("apply", "destroy"):
        r10 = results.get((n, lat, st, 10))
        r0 = results.get((n, 0, st, 1))
        rs = results.get((n // 10, lat, st, 1))
        if not r10 or r10.get("failed"):
            return None
        if lat and r0 and not r0.get("failed") and not r0.get("estimated"):
            wall = r0["wall"] + r10["requests"] * lat / 1000.0
            how = ("the 0 ms p=1 run's wall time plus %d ms for each request, which p=1 "
                   "sends one after another" % lat)
        elif rs and not rs.get("failed") and not rs.get("estimated"):
            wall = rs["wall"] * r10["requests"] / rs["requests"]
            how = ("the p=1 run of %d resources scaled by the number of requests (a low "
                   "guess: moto gets slower as it holds more)" % (n // 10))
        else:
            return None
        results[(n, lat, st, 1)] = {"wall": wall, "requests": r10["requests"], "rss": None,
                                    "cpu": None, "estimated": True, "ops": {}}
    return how


def group(e, n, lat, slow, results, notes, problems):
    """Every cell of one size and latency on one moto: cairn at p=10, at p=1, then boto3.

    The no-op plan takes no --parallelism: it runs once, in the p=10 cell. A
    p=1 cell expected to take longer than `slow` seconds is estimated."""
    cairn_cell(e, n, 10, lat, results, problems)
    results[(n, lat, "plan", 1)] = {"same_as": 10}
    guess = project_p1(results, n, lat)
    how = estimate_p1(results, n, lat) if guess is not None and guess > slow else None
    if how:
        notes.append("%d resources at p=1 with %d ms latency: apply and destroy would take "
                     "about %.0f s together, so they are estimated (marked ~), not measured: "
                     "%s. Requests are the p=10 run's." % (n, lat, guess, how))
        log("  n=%d latency=%d p=1: estimated (%.0f s expected)", n, lat, guess)
    else:
        cairn_cell(e, n, 1, lat, results, problems, steps=("apply", "destroy"))
    baseline_cell(e, n, lat, results, problems)


def for_each_plan(notes, problems):
    """Offline plan of one resource with a 1,000-key for_each (SPEC 3.1): the
    expression language and instance expansion, no AWS; target < 0.3 s CPU, < 60 MB."""
    d = tempfile.mkdtemp(prefix="cairn-bench-fe-")
    try:
        keys = ", ".join("s%04d" % i for i in range(1000))
        with open(os.path.join(d, "stack.yaml"), "w") as f:
            f.write("stack: bench-fe\nregion: us-east-1\nlocals:\n  names: [%s]\n"
                    "resources:\n  topic:\n    type: aws_sns_topic\n"
                    "    for_each: ${local.names}\n    properties:\n"
                    "      name: fe-${each.key}\n"
                    "      tags: {Index: \"${each.value}\", Env: '${upper(\"dev\")}'}\n" % keys)
        env = dict(os.environ, CAIRN_STATE=os.path.join(d, "cairn.db"),
                   AWS_ENDPOINT_URL="http://127.0.0.1:9")
        rc, wall, cpu, rss, tail = run_cairn(["plan", "--refresh=false"], d, env)
        if rc != 0 or "Plan: 1000 to add" not in tail:
            problems.append("for_each plan: exit %d\n%s" % (rc, tail[-1500:]))
            return
        notes.append("Offline plan (`plan --refresh=false`) of a stack with one 1,000-key "
                     "`for_each`: %.2f s CPU, %.0f MB peak RSS (targets: under 0.3 s and 60 MB: %s)."
                     % (cpu, rss, "met" if cpu < 0.3 and rss < 60 else "missed"))
    finally:
        shutil.rmtree(d, True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="10,100,1000")
    ap.add_argument("--latency-ms", type=int, default=50)
    ap.add_argument("--skip-slow-seconds", type=float, default=180.0,
                    help="estimate instead of run a p=1 cell expected to take longer")
    ap.add_argument("--out", default=os.path.join(HERE, "results.md"))
    ap.add_argument("--render", metavar="RAW",
                    help="only print the report again from the figures a run saved in RAW "
                    "(OUT with .json for .md)")
    a = ap.parse_args()
    raw = os.path.splitext(a.out)[0] + ".json"
    if a.render:
        with open(a.render) as f:
            d = json.load(f)
        results = {tuple(k): v for k, v in d["results"]}
        print(report(results, d["sizes"], d["latencies"], d["notes"], d["problems"],
                     datetime.datetime.fromisoformat(d["started"]), d["elapsed"],
                     d["machine"]), end="")
        return
    sizes = [int(s) for s in a.sizes.split(",")]
    latencies = [0, a.latency_ms] if a.latency_ms else [0]
    if not os.access(CAIRN, os.X_OK):
        sys.exit("bench: no cairn binary at %s (set CAIRN_BIN)" % CAIRN)

    prepare_tools()
    started = datetime.datetime.now(datetime.timezone.utc)
    load0 = "%.1f / %.1f / %.1f" % os.getloadavg()
    t0 = time.monotonic()
    results, notes, problems = {}, [], []
    for_each_plan(notes, problems)
    for n in sizes:
        for lat in latencies:
            log("%d resources, %d ms latency", n, lat)
            e = Env(lat)
            try:
                group(e, n, lat, a.skip_slow_seconds, results, notes, problems)
            finally:
                e.close()
    load = "%s, %.1f / %.1f / %.1f" % ((load0,) + os.getloadavg())
    busy = max(float(load0.split()[0]), os.getloadavg()[0])
    if busy > os.cpu_count():
        notes.append("The machine was shared with other work during the run (1-minute load "
                     "average up to %.1f on %d CPUs, see Machine): moto, a Python server, "
                     "then answers several times slower, which inflates every wall time here, "
                     "the baseline's included. cairn's CPU time is the figure that does not "
                     "depend on it." % (busy, os.cpu_count()))
    elapsed = time.monotonic() - t0
    mach = machine(load)
    text = report(results, sizes, latencies, notes, problems, started, elapsed, mach)
    with open(raw, "w") as f:
        json.dump({"sizes": sizes, "latencies": latencies, "notes": notes, "problems": problems,
                   "started": started.isoformat(), "elapsed": elapsed, "load": load,
                   "machine": mach,
                   "results": [[list(k), v] for k, v in sorted(results.items())]}, f, indent=1)
    shutil.rmtree(TOOLS, True)
    with open(a.out, "w") as f:
        f.write(text)
    print(text, end="")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
