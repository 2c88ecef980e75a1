"""The endurance run of `make soak` (issue 14, item 5); not part of `make test`.

On tests/soak/stack.yaml, 200 resources of seven types in a short file
(a VPC, a topic, and 33 cells of a module: subnet -> security group ->
parameter, topic -> alarm -> parameter, table), against moto in
signature-checking mode:

1. SIGKILL trials (CAIRN_SOAK_TRIALS, default 20), trial t seeded with
   CAIRN_SOAK_SEED + t: an apply through a latency proxy (so that creates
   are in flight) is killed at a seeded moment within the time an apply
   takes to create everything; a second apply runs to completion; then
   exact convergence: the state lists exactly the 200 addresses, moto
   holds exactly one object
   per address (counted by the cairn:stack / cairn:resource tags, so an
   orphan or a duplicate shows), each with the id the state records, and
   `plan --detailed-exitcode` exits 0. Every trial then destroys the stack
   (every fourth one killing the first destroy too) and checks that
   nothing tagged for it remains.
2. A fault run: the fault proxy answers CAIRN_SOAK_FAULT_RATE (default
   30%) of the requests with a fault — 503s, throttling, dropped
   connections, and answers lost after moto did the work; apply is
   repeated until it succeeds (at most CAIRN_SOAK_MAX_APPLIES), the same
   exact-convergence checks follow, then destroy under the same faults
   (repeated the same way) and a check that nothing remains.

The machinery (moto, the proxy, the kill, the inventory of what moto holds)
is test_exec.py's. The summary table is printed and written to
build/soak-report.txt; the output of every fault-run command goes to
build/soak-logs/ (with -v when CAIRN_SOAK_VERBOSE is set). Run: `make
soak`, or CAIRN_BIN=build/cairn python3 tests/soak/soak.py [test_1_sigkill_trials
| test_2_fault_run].
"""
import os
import random
import shutil
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

from test_exec import ExecCase  # noqa: E402

SEED = int(os.environ.get("CAIRN_SOAK_SEED", "20261129"))
TRIALS = int(os.environ.get("CAIRN_SOAK_TRIALS", "20"))
FAULT_RATE = float(os.environ.get("CAIRN_SOAK_FAULT_RATE", "0.30"))
MAX_APPLIES = int(os.environ.get("CAIRN_SOAK_MAX_APPLIES", "15"))
MAX_ATTEMPTS = 10  # AWS_MAX_ATTEMPTS in the fault run
LATENCY_MS = 60   # per request in the kill trials: creates take time, kills land among them
STACK = "soak"
CELLS = 33
CELL_RESOURCES = ("subnet", "sg", "topic", "table", "alarm", "param")
ADDRESSES = ["vpc", "alerts"] + ['module.cell["c%02d"].%s' % (i, r)
                                 for i in range(CELLS) for r in CELL_RESOURCES]
REPORT = os.path.join(ROOT, "build", "soak-report.txt")
LOGS = os.path.join(ROOT, "build", "soak-logs")   # the output of every fault-run command

# Figures the tests fill in and report() prints: part -> dict.
FIGURES = {}


def say(msg):
    print("soak: " + msg, file=sys.stderr, flush=True)


class Soak(ExecCase):
    def setUp(self):
        super().setUp()
        for name in ("stack.yaml", "cell.yaml"):
            shutil.copy(os.path.join(HERE, name), os.path.join(self.dir, name))
        self.assertEqual(len(ADDRESSES), 200)

    def converged(self, env=None):
        """Exact convergence: state, moto and a no-op plan agree."""
        self.assert_exact(STACK, ADDRESSES)
        p = self.cairn("plan", "--detailed-exitcode", env=env)
        self.assertEqual(p.returncode, 0, "plan is not a no-op:\n" + p.stdout[-3000:]
                         + p.stderr[-3000:])

    def gone(self):
        self.assert_exact(STACK, [])

    def test_1_sigkill_trials(self):
        fig = FIGURES.setdefault("kill", {"trials": TRIALS, "passed": 0, "in_flight": 0,
                                          "resolved": 0, "destroy_kills": 0, "rows": [],
                                          "failures": []})
        start = time.time()
        px = self.proxy(latency_ms=LATENCY_MS)
        env = {"AWS_ENDPOINT_URL": px.url}
        # The kill window: from the start of an apply through the proxy to
        # its last create's answer, measured once moto has warmed up (its
        # first calls to each service are slow).
        self.cairn("apply", "--auto-approve", check=0)
        self.cairn("destroy", "--auto-approve", check=0)
        t0 = time.time()
        p = self.popen("apply", "--auto-approve", env=env)
        while p.poll() is None and \
                sum("Created after" in line for line in p.lines) < len(ADDRESSES):
            time.sleep(0.02)
        whole = time.time() - t0
        rc, out, err = self.finish(p)
        self.assertEqual(rc, 0, out[-3000:] + err)
        self.cairn("destroy", "--auto-approve", check=0)
        self.gone()
        fig["whole_apply_s"] = whole
        say("an apply through %d ms latency has created everything after %.1f s; "
            "seed %d, %d trials" % (LATENCY_MS, whole, SEED, TRIALS))
        for trial in range(TRIALS):
            rng = random.Random(SEED + trial)
            at = rng.uniform(0.05, 0.95) * whole
            row = {"trial": trial, "seed": SEED + trial, "kill_at": at}
            try:
                flying, resolved = self.kill_run(px, env, at)
                row["recorded"] = len(self.state())
                row["in_flight"] = flying
                r = self.cairn("apply", "--auto-approve")
                self.assertEqual(r.returncode, 0, "apply after the kill:\n%s%s"
                                 % (r.stdout[-3000:], r.stderr[-3000:]))
                resolved += r.stdout.count("an interrupted run")
                row["resolved"] = resolved
                self.converged()
                if trial % 4 == 3:
                    # now and then the destroy is killed too, at a seeded moment
                    self.kill_run(px, env, rng.uniform(0.1, 0.6) * whole, "destroy")
                    fig["destroy_kills"] += 1
                r = self.cairn("destroy", "--auto-approve")
                self.assertEqual(r.returncode, 0, "destroy:\n%s%s"
                                 % (r.stdout[-3000:], r.stderr[-3000:]))
                self.gone()
                row["result"] = "pass"
                fig["passed"] += 1
                fig["in_flight"] += flying
                fig["resolved"] += resolved
            except AssertionError as e:
                row["result"] = "FAIL"
                fig["failures"].append("trial %d (seed %d): %s" % (trial, SEED + trial,
                                                                   str(e)[:2000]))
                # leave nothing behind for the next trial
                self.cairn("destroy", "--auto-approve")
            fig["rows"].append(row)
            say("trial %2d seed %d: killed at %.2f s, %s records, %s in flight, "
                "%s journal entries resolved: %s"
                % (trial, SEED + trial, at, row.get("recorded", "?"),
                   "creates" if row.get("in_flight") else "nothing",
                   row.get("resolved", "?"), row["result"]))
        fig["requests"] = px.requests
        fig["wall_s"] = time.time() - start
        self.assertEqual(fig["failures"], [], "\n".join(fig["failures"]))
        # the kills must have hit creates in flight, or the run proves little
        self.assertGreaterEqual(fig["in_flight"], TRIALS // 2)

    def test_2_fault_run(self):
        start = time.time()
        # Faults before moto (503 / throttling, dropped connections) on 80%
        # of FAULT_RATE of the requests; of the rest, answers lost after
        # moto did the work, so that FAULT_RATE of all requests meet one.
        before = 0.8 * FAULT_RATE
        lost = (FAULT_RATE - before) / (1.0 - before)
        px = self.proxy(fault_rate=0.75 * before, drop_rate=0.25 * before, seed=SEED,
                        lost_answer_rate=lost, lost_answer_match=r"^")
        # A network this bad needs the SDKs' setting for it: more attempts
        # per call (the standard mode's default is 3).
        env = {"AWS_ENDPOINT_URL": px.url, "AWS_MAX_ATTEMPTS": str(MAX_ATTEMPTS)}
        fig = FIGURES.setdefault("faults", {"rate": FAULT_RATE, "errors": []})

        def repeat(command):
            for n in range(1, MAX_APPLIES + 1):
                verbose = ["-v"] if os.environ.get("CAIRN_SOAK_VERBOSE") else []
                r = self.cairn(command, "--auto-approve", *verbose, env=env)
                with open(os.path.join(LOGS, "faults-%s-%d.txt" % (command, n)), "w") as log:
                    log.write(r.stdout + r.stderr)
                errors = [line for line in r.stderr.splitlines() if "error" in line]
                say("%s under faults, run %d: exit %d%s" % (
                    command, n, r.returncode, "".join("\n  " + e for e in errors)))
                fig["errors"] += ["%s run %d: %s" % (command, n, e) for e in errors]
                fig.setdefault(command + "_failed", []).append(len(errors))
                if r.returncode == 0:
                    return n
                last = r
            self.fail("%s did not succeed in %d runs:\n%s%s"
                      % (command, MAX_APPLIES, last.stdout[-3000:], last.stderr[-3000:]))

        fig["applies"] = repeat("apply")
        fig["apply_requests"] = px.requests
        px.wait_idle()
        self.converged()
        fig["destroys"] = repeat("destroy")
        px.wait_idle()
        self.gone()
        fig.update(requests=px.requests, faults=px.faults, drops=px.drops,
                   lost=px.lost_answers, wall_s=time.time() - start, passed=True)


def report(result, wall):
    k, f = FIGURES.get("kill", {}), FIGURES.get("faults", {})
    lines = ["cairn soak (make soak): %s, seed %d, %d-resource stack tests/soak/stack.yaml"
             % (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), SEED, len(ADDRESSES)),
             ""]
    lines.append("%-34s %s" % ("part", "figure"))
    if k:
        lines += [
            "%-34s %d of %d passed" % ("SIGKILL trials", k["passed"], k["trials"]),
            "%-34s %d of %d" % ("kills with creates in flight", k["in_flight"], k["trials"]),
            "%-34s %d" % ("journal entries resolved", k["resolved"]),
            "%-34s %d" % ("destroys killed too", k["destroy_kills"]),
            "%-34s %.1f s" % ("kill window (apply to last create)", k.get("whole_apply_s", 0)),
            "%-34s %d" % ("requests (kill runs)", k.get("requests", 0)),
            "%-34s %.0f s" % ("wall time (trials)", k.get("wall_s", 0)),
        ]
    if f:
        total = f.get("faults", 0) + f.get("drops", 0) + f.get("lost", 0)
        lines += [
            "%-34s %s" % ("fault run", "passed" if f.get("passed") else "FAILED"),
            "%-34s %d (%d during apply)" % ("requests", f.get("requests", 0),
                                            f.get("apply_requests", 0)),
            "%-34s %d = %.1f%% (%d 503/throttling, %d dropped, %d answers lost)"
            % ("faults injected", total, 100.0 * total / max(f.get("requests", 1), 1),
               f.get("faults", 0), f.get("drops", 0), f.get("lost", 0)),
            "%-34s %s" % ("applies needed", f.get("applies", "-")),
            "%-34s %s" % ("resources failed, per apply", ", ".join(
                str(n) for n in f.get("apply_failed", [])) or "-"),
            "%-34s %s" % ("destroys needed", f.get("destroys", "-")),
            "%-34s %.0f s" % ("wall time (fault run)", f.get("wall_s", 0)),
        ]
    lines += ["%-34s %.0f s" % ("wall time (all)", wall), ""]
    if k.get("rows"):
        lines.append("trial  seed       kill at  records at kill  in flight  resolved  result")
        for r in k["rows"]:
            lines.append("%5d  %-9d  %6.2f s  %15s  %9s  %8s  %s"
                         % (r["trial"], r["seed"], r["kill_at"], r.get("recorded", "?"),
                            "yes" if r.get("in_flight") else "no", r.get("resolved", "?"),
                            r["result"]))
        lines.append("")
    for failure in k.get("failures", []):
        lines.append("FAILED " + failure)
    for test, tb in result.failures + result.errors:
        lines.append("FAILED %s:\n%s" % (test.id(), tb[-3000:]))
    lines.append("result: %s" % ("PASS" if result.wasSuccessful() else "FAIL"))
    text = "\n".join(lines) + "\n"
    os.makedirs(os.path.dirname(REPORT), exist_ok=True)
    with open(REPORT, "w") as out:
        out.write(text)
    print("\n" + text + "(written to %s)" % os.path.relpath(REPORT, ROOT))


def main():
    start = time.time()
    shutil.rmtree(LOGS, ignore_errors=True)
    os.makedirs(LOGS)
    say("seed %d (CAIRN_SOAK_SEED), %d trials, %.0f%% faults"
        % (SEED, TRIALS, 100 * FAULT_RATE))
    # arguments narrow the run: soak.py test_2_fault_run
    names = sys.argv[1:] or unittest.TestLoader().getTestCaseNames(Soak)
    suite = unittest.TestSuite(Soak(n) for n in names)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    report(result, time.time() - start)
    sys.exit(0 if result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
