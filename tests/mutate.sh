#!/usr/bin/env bash
# mutate.sh: does the suite notice a bug?  Each mutation in
# tests/mutations.txt (a one-line change inside a named function) is
# applied alone to a scratch copy of the tree, built, and run against the
# tests listed with it: "caught" if they fail, "SURVIVED" if they pass.
# Ends with a score line; exits 1 unless every mutation was caught.
#
#   tests/mutate.sh [NAME...]     all mutations, or the ones named
#
# The scratch copy is of the tracked files as they are in the work tree
# (uncommitted edits included), in MUTATE_DIR (default a new directory
# under ${TMPDIR:-/tmp}, removed at the end unless MUTATE_KEEP=1).  First
# the listed tests run unmutated: a suite already failing proves nothing.
# Not part of `make check`: it rebuilds and reruns once per mutation.
# Run it (make mutate) before resolving an issue that touches the request
# path, drain, state or pool, and quote the score.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
LIST=${MUTATIONS_FILE:-$SRC/tests/mutations.txt}
JOBS=${MUTATE_JOBS:-2}

# mut CMD ARGS: the mutation list, through one small parser.
#   mut names            every mutation's name, one a line
#   mut get NAME FIELD   one field of a mutation
#   mut apply NAME DIR   apply it to the tree in DIR; 1 if it no longer applies
mut() {
	python3 - "$LIST" "$@" <<'PY'
import re, sys

path, cmd = sys.argv[1], sys.argv[2]
muts, cur = [], None
for n, line in enumerate(open(path), 1):
    line = line.rstrip("\n")
    if line.startswith("== "):
        name, _, why = line[3:].partition(":")
        cur = {"name": name.strip(), "why": why.strip(), "line": n}
        muts.append(cur)
    elif cur is not None and re.match(r"^(file|function|from|to|tests): ", line):
        k, _, v = line.partition(": ")
        cur[k] = v.strip()
for m in muts:
    for k in ("file", "function", "from", "to", "tests"):
        if k not in m:
            sys.exit("%s:%d: mutation %s has no %s:" % (path, m["line"], m["name"], k))
by = {m["name"]: m for m in muts}
if len(by) != len(muts):
    sys.exit("%s: two mutations share a name" % path)
if cmd == "names":
    print("\n".join(m["name"] for m in muts))
elif cmd == "get":
    print(by[sys.argv[3]][sys.argv[4]])
elif cmd == "apply":
    m, root = by[sys.argv[3]], sys.argv[4]
    f = root + "/" + m["file"]
    try:
        lines = open(f).read().split("\n")
    except OSError as e:
        print("mutation %s no longer applies: %s" % (m["name"], e))
        sys.exit(1)
    # The function: its name at the start of a line, up to the next "}"
    # at the start of a line.
    start = [i for i, l in enumerate(lines) if re.match(re.escape(m["function"]) + r"\(", l)]
    if len(start) != 1:
        print("mutation %s no longer applies: function %s found %d times in %s"
              % (m["name"], m["function"], len(start), m["file"]))
        sys.exit(1)
    end = start[0]
    while end < len(lines) and lines[end] != "}":
        end += 1
    hits = [i for i in range(start[0], end) if lines[i].strip() == m["from"]]
    if len(hits) != 1:
        print("mutation %s no longer applies: '%s' found %d times in %s()"
              % (m["name"], m["from"], len(hits), m["function"]))
        sys.exit(1)
    i = hits[0]
    indent = lines[i][:len(lines[i]) - len(lines[i].lstrip())]
    lines[i] = indent + m["to"]
    open(f, "w").write("\n".join(lines))
    print("%s:%d: %s" % (m["file"], i + 1, lines[i].strip()))
PY
}

names=$(mut names)
if [ $# -gt 0 ]; then
	for n in "$@"; do
		grep -qx "$n" <<<"$names" || { echo "mutate: no mutation named $n in $LIST" >&2; exit 2; }
	done
	names=$(printf '%s\n' "$@")
fi

W=${MUTATE_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/switchover-mutate.XXXXXX")}
PRISTINE=$W/pristine
TREE=$W/tree
cleanup() {
	if [ "${MUTATE_KEEP:-0}" = 1 ]; then
		echo "mutate: scratch copy kept in $W"
	else
		rm -rf "$W"
	fi
}
trap cleanup EXIT

echo "mutate: copying the tracked files of $SRC to $TREE"
mkdir -p "$TREE" "$PRISTINE"
(cd "$SRC" && git ls-files -z | xargs -0 tar cf - 2>/dev/null) | tar xf - -C "$TREE"
# The files mutations touch, as they were, to restore between mutations.
for n in $names; do
	f=$(mut get "$n" file)
	mkdir -p "$PRISTINE/$(dirname "$f")"
	[ -f "$TREE/$f" ] && cp -p "$TREE/$f" "$PRISTINE/$f"
done

echo "mutate: building the scratch copy (log: $W/build.log)"
(cd "$TREE" && autoreconf -fi && ./configure && make -j"$JOBS" &&
    make -j"$JOBS" check TESTS=) >"$W/build.log" 2>&1 ||
    { tail -n 30 "$W/build.log"; echo "mutate: the unmutated tree does not build" >&2; exit 1; }

# run_tests TESTS...: make check on them in the scratch tree; 0 if all pass.
run_tests() {
	(cd "$TREE" && make -j"$JOBS" >>"$W/build.log" 2>&1 &&
	    make check TESTS="$*" >"$W/check.log" 2>&1)
}

all_tests=$(for n in $names; do mut get "$n" tests; done | tr ' ' '\n' | sort -u | xargs)
echo "mutate: the tests, unmutated: $all_tests"
if ! run_tests $all_tests; then
	grep -E '^(FAIL|ERROR)' "$W/check.log" || tail -n 30 "$W/check.log"
	echo "mutate: these tests fail without any mutation: fix that first" >&2
	exit 1
fi
# A skipped test catches nothing: say which, once.
skipped=$(sed -n 's/^SKIP: //p' "$W/check.log" | xargs)

caught=0 total=0 bad=""
for n in $names; do
	total=$((total + 1))
	f=$(mut get "$n" file)
	tests=$(mut get "$n" tests)
	if ! where=$(mut apply "$n" "$TREE"); then
		echo "MUTATION $n: $where"
		bad="$bad $n(no-longer-applies)"
		continue
	fi
	if ! (cd "$TREE" && make -j"$JOBS" >"$W/mutant-build.log" 2>&1 &&
	    make -j"$JOBS" check TESTS= >>"$W/mutant-build.log" 2>&1); then
		echo "MUTATION $n: does not build ($where)"
		bad="$bad $n(does-not-build)"
	elif run_tests $tests; then
		echo "SURVIVED  $n: $(mut get "$n" why)"
		echo "          at $where; passed: $tests"
		bad="$bad $n"
	else
		caught=$((caught + 1))
		failed=$(sed -n 's/^FAIL: //p' "$W/check.log" | xargs)
		echo "caught    $n: by ${failed:-$tests}"
	fi
	# A fresh mtime: make must rebuild what the mutant built.
	cp "$PRISTINE/$f" "$TREE/$f"
done
# The tree rebuilt as it was, in case MUTATE_KEEP wants it.
(cd "$TREE" && make -j"$JOBS" >>"$W/build.log" 2>&1) || true

[ -z "$skipped" ] || echo "mutate: skipped tests (catch nothing here): $skipped"
echo "mutate: score $caught/$total caught${bad:+; not caught:$bad}"
[ "$caught" -eq "$total" ]
