#!/usr/bin/env python3
"""make layers: checks the layer rule of SPEC section 1.

1. Includes point down: every `#include "..."` of a source file resolves to
   a file in its own folder or in a folder the arrows allow
   (cmd -> engine -> state -> lib; cmd -> providers -> providers/aws -> lib;
   providers may see the engine only through engine/provider.h).
2. No two files call each other in a circle: from the object files, a file
   A depends on B when A uses a symbol B defines; the strongly connected
   components of that graph must all be single files.

Usage: check.py BUILD_DIR   (exit 1 with every violation listed)
"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FOLDERS = ["lib", "state", "engine", "providers/aws", "providers", "cmd"]
ALLOWED = {
    "lib": {"lib"},
    "state": {"state", "lib"},
    "engine": {"engine", "state", "lib"},
    "providers/aws": {"providers/aws", "lib"},
    "providers": {"providers", "providers/aws", "lib"},
    "cmd": {"cmd", "engine", "state", "providers", "providers/aws", "lib"},
}
# The one door from providers into the engine (SPEC section 1).
EXCEPTIONS = {("providers", "engine/provider.h")}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def folder_of(rel):
    d = os.path.dirname(rel)
    return d if d in FOLDERS else None


def sources():
    for top in FOLDERS:
        for name in sorted(os.listdir(os.path.join(ROOT, top))):
            if name.endswith((".c", ".h")):
                yield os.path.join(top, name)


def check_includes():
    bad = []
    for rel in sources():
        src = folder_of(rel)
        text = open(os.path.join(ROOT, rel), encoding="utf-8").read()
        for inc in INCLUDE.findall(text):
            target = os.path.normpath(os.path.join(os.path.dirname(rel), inc))
            if not os.path.exists(os.path.join(ROOT, target)):
                continue  # generated or system header found through -I
            dst = folder_of(target)
            if dst is None:
                bad.append(f"{rel}: includes {target}, outside the layered folders")
            elif dst not in ALLOWED[src] and (src, target) not in EXCEPTIONS:
                bad.append(f"{rel}: includes {target} ({src} may not include {dst})")
    return bad


def symbols(obj):
    out = subprocess.run(["nm", "--defined-only", "-g", obj], capture_output=True,
                         text=True, check=True).stdout
    defined = {l.split()[-1] for l in out.splitlines() if l.strip()}
    out = subprocess.run(["nm", "-u", obj], capture_output=True, text=True,
                         check=True).stdout
    used = {l.split()[-1] for l in out.splitlines() if l.strip()}
    return defined, used


def check_circles(build):
    files = {}
    for rel in sources():
        if rel.endswith(".c"):
            obj = os.path.join(build, rel[:-2] + ".o")
            if os.path.exists(obj):
                files[rel] = symbols(obj)
    owner = {}
    for rel, (defined, _) in files.items():
        for s in defined:
            owner[s] = rel
    edges = {rel: sorted({owner[s] for s in used if s in owner and owner[s] != rel})
             for rel, (_, used) in files.items()}
    # Tarjan's strongly connected components, iteratively.
    index, low, stack, on, comps, n = {}, {}, [], set(), [], [0]
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = n[0]
                n[0] += 1
                stack.append(v)
                on.add(v)
            recurse = False
            for j in range(i, len(edges[v])):
                w = edges[v][j]
                if w not in index:
                    work.append((v, j + 1))
                    work.append((w, 0))
                    recurse = True
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            if recurse:
                continue
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    comps.append(sorted(comp))
            if work:
                u = work[-1][0]
                low[u] = min(low[u], low[v])
    bad = []
    for comp in comps:
        detail = "; ".join(f"{a} -> {', '.join(b for b in edges[a] if b in comp)}"
                           for a in comp)
        bad.append(f"files calling each other in a circle: {detail}")
    return bad, len(files)


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build")
    bad = check_includes()
    circles, nobj = check_circles(build)
    bad += circles
    for b in bad:
        print(f"layers: {b}", file=sys.stderr)
    if bad:
        return 1
    print(f"layers: ok ({nobj} object files, includes point down, no circles)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
