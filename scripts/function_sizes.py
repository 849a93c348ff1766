#!/usr/bin/env python3
"""function_sizes.py - the function-size check of `make test`. Every function
defined in src/ and tools/ (SIMD kernels, src/tensor/kernels*, excepted: a
kernel's unrolled body reads best whole) may have at most LIMIT lines, body
braces included. The few that are longer are listed in
scripts/function_size_budget.txt ("path function lines"); such a function
may shrink but never grow, and the budget may only lose entries. Exits 1
naming every function over its allowance (and every stale budget entry, so
that a split function's allowance cannot be spent again).

usage: function_sizes.py [REPO_ROOT] [--report]   (--report: the 20 longest)"""
import os
import re
import sys

LIMIT = 80
args = [a for a in sys.argv[1:] if not a.startswith("--")]
root = args[0] if args else os.path.join(os.path.dirname(__file__), "..")
report = "--report" in sys.argv

def functions(path):
    """(name, first_line, n_lines) of each top-level function definition: a
    '{' alone at the start of a line after a signature line, closed by '}'
    at the start of a line (the house style, which clang-format keeps)."""
    lines = open(path, encoding="utf-8", errors="replace").read().split("\n")
    out, i = [], 0
    while i < len(lines):
        if lines[i] == "{" and i > 0:
            # the signature's first line: the nearest line above that starts
            # in column 0 (not a comment) and opens a parameter list
            m = None
            for k in range(i - 1, max(-1, i - 5), -1):
                ln = lines[k]
                if ln and not ln[0].isspace() and not ln.startswith(("/*", " *", "*", "//", "#")):
                    m = re.search(r"(\w+)\s*\(", ln)
                    break
            j = i + 1
            while j < len(lines) and not lines[j].startswith("}"):
                j += 1
            if m and not re.search(r"=\s*$", lines[i - 1]):
                out.append((m.group(1), i, j - i + 1))
            i = j
        i += 1
    return out

found = {}
for top in ("src", "tools"):
    for dirpath, _, files in os.walk(os.path.join(root, top)):
        for fn in sorted(files):
            if not fn.endswith(".c"):
                continue
            rel = os.path.relpath(os.path.join(dirpath, fn), root).replace(os.sep, "/")
            if rel.startswith("src/tensor/kernels"):
                continue
            for name, line, n in functions(os.path.join(dirpath, fn)):
                found[(rel, name)] = max(n, found.get((rel, name), 0))

budget = {}
bpath = os.path.join(root, "scripts", "function_size_budget.txt")
for ln in open(bpath, encoding="utf-8"):
    ln = ln.split("#")[0].split()
    if len(ln) == 3:
        budget[(ln[0], ln[1])] = int(ln[2])

bad = []
for key, n in sorted(found.items()):
    allowed = budget.get(key, LIMIT)
    if n > allowed:
        bad.append(f"{key[0]}: {key[1]}() has {n} lines (allowed {allowed})")
for key, allowed in sorted(budget.items()):
    n = found.get(key)
    if n is None:
        bad.append(f"budget entry {key[0]} {key[1]} names no function: remove it")
    elif n <= LIMIT:
        bad.append(f"{key[0]}: {key[1]}() is {n} lines now, within {LIMIT}: remove its budget entry")
    elif n < allowed:
        bad.append(f"{key[0]}: {key[1]}() shrank to {n} lines: lower its budget from {allowed}")
if report:
    for key, n in sorted(found.items(), key=lambda kv: -kv[1])[:20]:
        print(f"{n:5d}  {key[0]}: {key[1]}()")
for b in bad:
    print(b)
print(f"function_sizes: {len(found)} functions, {sum(1 for n in found.values() if n > LIMIT)} over {LIMIT} lines "
      f"({len(budget)} budgeted), {len(bad)} problem(s)")
sys.exit(1 if bad else 0)
