"""Runs every tests/e2e/test_*.py with unittest; exits non-zero on failure.

Arguments narrow the run: `python3 tests/e2e/run.py test_api` runs one module.
`-j N` runs the modules in N worker processes (each module, and each test
class in it, still gets its own moto server); the workers take ports from
disjoint residue classes (harness.free_port), so their servers never collide.
A worker's output is printed whole when it ends, so the log stays readable.
"""
import os
import subprocess
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def run_here(names):
    loader = unittest.TestLoader()
    if names:
        suite = unittest.TestSuite(loader.loadTestsFromName(n) for n in names)
    else:
        suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    print("e2e tests: %d run, %d failures, %d errors, %d skipped"
          % (result.testsRun, len(result.failures), len(result.errors), len(result.skipped)))
    return 0 if result.wasSuccessful() else 1


def modules(names):
    if names:
        return names
    return sorted(f[:-3] for f in os.listdir(HERE) if f.startswith("test_") and f.endswith(".py"))


def split(mods, jobs):
    """Greedy longest-first by source size (a rough proxy for run time)."""
    groups = [[] for _ in range(jobs)]
    load = [0] * jobs
    sized = sorted(mods, key=lambda m: -os.path.getsize(os.path.join(HERE, m.split(".")[0] + ".py")))
    for m in sized:
        k = load.index(min(load))
        groups[k].append(m)
        load[k] += os.path.getsize(os.path.join(HERE, m.split(".")[0] + ".py"))
    return [g for g in groups if g]


def run_parallel(mods, jobs):
    groups = split(mods, jobs)
    results = [None] * len(groups)
    lock = threading.Lock()

    def worker(k):
        env = dict(os.environ, CAIRN_E2E_WORKER=str(k), CAIRN_E2E_WORKERS=str(len(groups)))
        start = time.time()
        p = subprocess.run([sys.executable, os.path.abspath(__file__)] + groups[k], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        results[k] = p.returncode
        with lock:
            print("==== e2e worker %d (%s): exit %d after %.0f s" %
                  (k, " ".join(groups[k]), p.returncode, time.time() - start))
            print(p.stdout, flush=True)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(len(groups))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    failed = [k for k, rc in enumerate(results) if rc != 0]
    print("e2e workers: %d, failed: %s" % (len(groups), failed or "none"))
    return 1 if failed else 0


def main():
    args = sys.argv[1:]
    jobs = 1
    if args and args[0].startswith("-j"):
        jobs = int(args[0][2:] or args[1])
        args = args[1:] if args[0][2:] else args[2:]
    if jobs > 1:
        sys.exit(run_parallel(modules(args), jobs))
    sys.exit(run_here(args))


if __name__ == "__main__":
    main()
