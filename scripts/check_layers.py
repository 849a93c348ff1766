#!/usr/bin/env python3
"""check_layers.py - the layering check of `make test`: every #include "..."
of src/ and tools/ against the layer order CONTRIBUTING.md writes down (its
line starting "Layers, bottom to top:" and the one starting "Applications
may include:"). A file may include the public header, headers of its own
layer and of the layers below; nothing may include a header from a layer
above its own. Prints each violation and exits 1 when there is any.

usage: check_layers.py [REPO_ROOT]"""
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
contrib = open(os.path.join(root, "CONTRIBUTING.md"), encoding="utf-8").read()
m = re.search(r"^Layers, bottom to top:\s*(.+)$", contrib, re.M)
a = re.search(r"^Applications may include:\s*(.+)$", contrib, re.M)
if not m or not a:
    sys.exit("check_layers: CONTRIBUTING.md lacks the 'Layers, bottom to top:' or 'Applications may include:' line")
order = [x.strip(" .`") for x in m.group(1).split(",")]
apps_may = {x.strip(" .`") for x in a.group(1).split(",")}
# "src/LAYER may include:" or "src/LAYER/FILE may include:" narrows a layer
# (or one file of it) to a list; the most specific line wins.
narrow = {p: {x.strip(" .`") for x in lst.split(",")}
          for p, lst in re.findall(r"^`?(src/[\w./-]+)`? may include:\s*(.+)$", contrib, re.M)}
app_may = {d: {x.strip(" .`") for x in lst.split(",")}
           for d, lst in re.findall(r"^`?tools/([\w-]+)`? may include:\s*(.+)$", contrib, re.M)}
rank = {name: i for i, name in enumerate(order)}

def layer_of_src(rel):
    """src/LAYER/... -> LAYER ('backends' for src/backends/*/...)."""
    parts = rel.split("/")
    return parts[1] if len(parts) > 2 else None

violations, checked = [], 0
for top in ("src", "tools"):
    for dirpath, _, files in os.walk(os.path.join(root, top)):
        for fn in files:
            if not fn.endswith((".c", ".h")):
                continue
            path = os.path.join(dirpath, fn)
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            own = layer_of_src(rel) if top == "src" else None
            if top == "src" and own not in rank:
                violations.append(f"{rel}: folder src/{own} is not a layer of CONTRIBUTING.md")
                continue
            tool_dir = rel.split("/")[1] if top == "tools" else None
            for n, line in enumerate(open(path, encoding="utf-8", errors="replace"), 1):
                inc = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
                if not inc:
                    continue
                h = inc.group(1)
                checked += 1
                if h == "inference.h" or "/" not in h:
                    continue  # the public header, or a header beside the file
                target = h.split("/")[0]
                if top == "src":
                    if target not in rank:
                        violations.append(f"{rel}:{n}: includes \"{h}\" from outside the library's layers")
                    elif rank[target] > rank[own]:
                        violations.append(f"{rel}:{n}: {own} includes \"{h}\" of {target}, a layer above it")
                    else:
                        only = narrow.get(rel, narrow.get(f"src/{own}"))
                        if only is not None and target != own and target not in only:
                            violations.append(f"{rel}:{n}: includes \"{h}\" (it may include: "
                                              f"{', '.join(sorted(only))})")
                elif target != tool_dir and target not in app_may.get(tool_dir, apps_may):
                    allowed = app_may.get(tool_dir, apps_may)
                    violations.append(f"{rel}:{n}: the application tools/{tool_dir} includes \"{h}\" "
                                      f"(it may include: {', '.join(sorted(allowed))})")
for v in violations:
    print(v)
print(f"check_layers: {checked} includes checked, {len(violations)} violation(s); "
      f"order: {' < '.join(order)}")
sys.exit(1 if violations else 0)
