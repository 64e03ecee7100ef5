#!/usr/bin/env bash
# state_fsync: an acknowledged weight change is durable, not merely in the
# page cache (which SIGKILL cannot show, see state.sh): the proxy's system
# calls, seen by strace, go write(tmp) -> fsync(tmp) -> rename(tmp, file)
# -> fsync(directory) -> the admin answer, for every change.
#
# strace rather than an LD_PRELOAD shim: it watches the real binary as
# built (an ASan build refuses a preloaded library ahead of its runtime),
# and -yy names each descriptor's file or socket, so the answer's write
# is told from the others without wrapping libevent's writev.  Skipped
# (77) only where ptrace is not permitted.
set -euo pipefail
source "$TESTLIB"
sw_init

if ! command -v strace >/dev/null; then
	echo "state_fsync: strace is needed (apt-get install strace)" >&2
	exit 1
fi
if ! strace -f -o /dev/null true 2>"$TMP/ptrace.err"; then
	echo "SKIP: state_fsync: ptrace is not permitted here: $(cat "$TMP/ptrace.err")"
	echo "SKIP: state_fsync: the fsync order of the state file is NOT checked"
	exit 77
fi

P=$(free_port)
WORKERS=1 proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$(free_port)" 1 "127.0.0.1:$(free_port)" 0 "
[state]
file = $TMP/state.json"
A="http://127.0.0.1:$ADMIN_PORT"

# strace blocks fatal signals when it runs the program itself (-I 3):
# the proxy, its child, is the one to stop; strace ends with it.
strace -f -qq -yy -s 64 -o "$TMP/strace.out" \
    -e trace=openat,write,writev,sendmsg,sendto,fsync,fdatasync,rename,renameat,renameat2 \
    "$SWITCHOVER" -c "$TMP/sw.conf" >>"$TMP/switchover.log" 2>&1 &
ST=$!
PIDS+=($ST)
wait_port "$ADMIN_PORT"
# The proxy answers, so it is strace's child by now (it was not always
# within 10 s of the start on a loaded machine, and without its PID the
# cleanup could stop nothing: strace ignores the SIGTERM).
SW_PID=
for i in $(seq 100); do
	SW_PID=$(cat "/proc/$ST/task/$ST/children" 2>/dev/null | awk '{ print $1 }')
	[ -n "$SW_PID" ] && break
	sleep 0.1
done
if [ -z "$SW_PID" ]; then
	fail "found the proxy under strace (pid $ST has no child)"
	kill -KILL "$ST" 2>/dev/null || true
	finish
fi
PIDS=($SW_PID $ST)

# order: the durability events of the trace, one word each, in order
# (a blocked call shows as "<unfinished ...>" then "<... resumed>").
order() {
	python3 - "$TMP/strace.out" "$TMP" "$ADMIN_PORT" <<'PY'
import re, sys
trace, tmpdir, port = sys.argv[1], sys.argv[2], sys.argv[3]
tmp, final = tmpdir + "/state.json.tmp", tmpdir + "/state.json"
pending, out = {}, []
for line in open(trace):
    m = re.match(r"(\d+) +(.*?)\s*$", line)
    if not m:
        continue
    pid, call = m.groups()
    if call.endswith("<unfinished ...>"):
        pending[pid] = call[:-len("<unfinished ...>")]
        continue
    r = re.match(r"<\.\.\. \w+ resumed>(.*)", call)
    if r:
        call = pending.pop(pid, "") + r.group(1)
    ok = re.search(r"= (-?\d+)", call)
    ok = ok is not None and int(ok.group(1)) >= 0
    word = None
    if re.match(r"write\(\d+<%s>" % re.escape(tmp), call):
        word = "write"
    elif re.match(r"f(data)?sync\(\d+<%s>\)" % re.escape(tmp), call):
        word = "fsync-tmp"
    elif re.match(r"rename(at2?)?\(.*\"%s\", .*\"%s\"" % (re.escape(tmp), re.escape(final)), call):
        word = "rename"
    elif re.match(r"f(data)?sync\(\d+<%s>\)" % re.escape(tmpdir), call):
        word = "fsync-dir"
    elif re.match(r"(write|writev|sendmsg|sendto)\(\d+<TCP:\[127\.0\.0\.1:%s->" % port, call):
        word = "answer"
    if word is None:
        continue
    if not ok:
        word += "-FAILED"
    if word != "write" or not out or out[-1] != word:
        out.append(word)	# one word for a run of writes
print(" ".join(out))
PY
}

# wait_answers N: until the trace shows N admin answers (5 s at most).
wait_answers() {
	local i
	for i in $(seq 50); do
		[ "$(order | grep -o answer | wc -l)" -ge "$1" ] && return 0
		sleep 0.1
	done
}

check "nothing saved at start" "" "$(order)"
check "a GET is only an answer" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$A/weights")"
wait_answers 1
check "  in the trace too" "answer" "$(order)"

want="answer"
for w in 2 3 4; do
	check "PUT target=$w acknowledged" 200 \
	    "$(curl -s -o /dev/null -w '%{http_code}' -X PUT -d "{\"target\":$w}" "$A/weights")"
	want+=" write fsync-tmp rename fsync-dir answer"
done
# The last answer's writev may be logged a moment after curl has it.
wait_answers 4
check "each change: write, fsync(tmp), rename, fsync(dir), then the answer" "$want" "$(order)"
check_match "the file holds the last change" '"target": *4' "$(cat "$TMP/state.json")"

# A refused change writes nothing.
check "a refused PUT" 400 "$(curl -s -o /dev/null -w '%{http_code}' -X PUT -d '{"target":-1}' "$A/weights")"
wait_answers 5
check "  touches no file" "$want answer" "$(order)"
sw_finish
