#!/usr/bin/env bash
# replay: every fuzz target runs over its committed seeds and over every
# input that once broke it (tests/fuzz/regress/NAME/), without libFuzzer.
# A broken invariant aborts the target, and the test fails.
set -euo pipefail
source "$TESTLIB"

for t in $FUZZ_TARGETS; do
	dirs=()
	for d in corpus regress; do
		[ -d "$FUZZ_SRC/$d/$t" ] && dirs+=("$FUZZ_SRC/$d/$t")
	done
	set +e
	out=$("$FUZZ_BUILD/replay_$t" "${dirs[@]}" 2>&1)
	rc=$?
	set -e
	check "$t: every input replays cleanly" 0 "$rc"
	[ "$rc" -eq 0 ] || echo "$out" | tail -n 20
	n=$(echo "$out" | sed -n 's/.*: \([0-9]*\) inputs replayed/\1/p')
	if [ "${n:-0}" -ge 3 ]; then ok "$t: $n inputs"; else fail "$t: only '${n:-0}' inputs"; fi
done
sw_finish
