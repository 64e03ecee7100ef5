#!/usr/bin/env bash
# layering: the modules of src/ depend on each other without a circle.
# A module is a .c file; it depends on module Y when it includes
# switchover/Y.h, directly or through the headers and the private
# headers (src/*.h) it includes.  A circle (worker.c calling client.c
# calling back into worker.c, config.c parsing with route.c that reads
# the config) makes a module impossible to understand, test or replace
# alone; this fails naming the circle and each of its edges.
set -euo pipefail
source "$TESTLIB"
command -v python3 >/dev/null || { echo "python3 is needed"; exit 1; }

out=$(python3 - "$TOP_SRCDIR" <<'PY'
import glob, os, re, sys

top = sys.argv[1]
inc_re = re.compile(r'#include "switchover/((?:aws/)?[a-z_0-9]+)\.h"')
priv_re = re.compile(r'#include "([a-z_0-9]+\.h)"')

def deps(path, seen):
    """Header names path includes, following headers it includes."""
    out = set()
    text = open(path).read()
    for h in inc_re.findall(text):
        out.add(os.path.basename(h))
        hp = os.path.join(top, "include", "switchover", h + ".h")
        if hp not in seen and os.path.exists(hp):
            seen.add(hp)
            out |= deps(hp, seen)
    for h in priv_re.findall(text):
        hp = os.path.join(os.path.dirname(path), h)
        if hp not in seen and os.path.exists(hp):
            seen.add(hp)
            out |= deps(hp, seen)
    return out

files = glob.glob(os.path.join(top, "src", "*.c")) + \
    glob.glob(os.path.join(top, "src", "aws", "*.c"))
mods = {os.path.basename(f)[:-2]: f for f in files}
graph = {m: sorted(d for d in deps(f, set()) if d in mods and d != m)
    for m, f in mods.items()}

# Tarjan: every strongly connected component of more than one module.
index, low, stack, on, comps, n = {}, {}, [], set(), [], [0]
sys.setrecursionlimit(10000)
def visit(v):
    index[v] = low[v] = n[0]; n[0] += 1
    stack.append(v); on.add(v)
    for w in graph[v]:
        if w not in index:
            visit(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v:
                break
        if len(comp) > 1:
            comps.append(sorted(comp))
for v in sorted(graph):
    if v not in index:
        visit(v)
print("modules %d" % len(graph))
for c in comps:
    print("circle: " + " ".join(c))
    for m in c:
        print("  %s -> %s" % (m, ", ".join(x for x in graph[m] if x in c)))
PY
)
echo "$out"
# The walk saw the tree (a wrong path would find no module and pass).
nmod=$(echo "$out" | sed -n 's/^modules //p')
check "the module graph covers src/ (more than 30 modules)" 1 "$((nmod > 30))"
check "no circle between modules" "" "$(echo "$out" | grep '^circle' || true)"
sw_finish
