#!/usr/bin/env bash
# install: `make install DESTDIR=...` puts the two programs, the sample
# config as $(sysconfdir)/switchover.conf, the three man pages and the
# systemd unit in place, nothing else; the installed program accepts the
# installed config; the unit names the installed paths and passes
# `systemd-analyze verify` (when systemd is on the machine); a second
# install keeps a changed config; uninstall leaves no file behind.
set -euo pipefail
source "$TESTLIB"
sw_init
B=$(cd "$(dirname "$SWITCHOVERCTL")" && pwd)	# the build tree
R="$TMP/root"

make -s -C "$B" install DESTDIR="$R" >"$TMP/install.log" 2>&1 ||
    { cat "$TMP/install.log"; fail "make install failed"; sw_finish; exit 1; }
(cd "$R" && find . -type f | sed 's|^\./|/|' | sort) >"$TMP/files"
cat "$TMP/files"
check "7 files installed" 7 "$(wc -l <"$TMP/files")"
for f in /bin/switchover /bin/switchoverctl /etc/switchover.conf \
    /share/man/man8/switchover.8 /share/man/man8/switchoverctl.8 \
    /share/man/man5/switchover.conf.5 /lib/systemd/system/switchover.service; do
	check "installed: ...$f" 1 "$(grep -c -- "$f\$" "$TMP/files" || true)"
done
bin=$(grep '/bin/switchover$' "$TMP/files")
conf=$(grep '/switchover.conf$' "$TMP/files")
unit=$(grep '/switchover.service$' "$TMP/files")
check "the installed program takes the installed config" "configuration OK" \
    "$("$R$bin" -t -c "$R$conf" 2>&1)"
check "the installed program's default config is the installed one" true \
    "$("$R$bin" -h | grep -qF -- "$conf" && echo true || echo false)"
check_match "the unit starts the installed program" "^ExecStart=$bin -c $conf\$" \
    "$(grep '^ExecStart=' "$R$unit")"
check "no @placeholder@ left in the unit" 0 "$(grep -c '@[a-z]*@' "$R$unit" || true)"
check "Type=notify" 1 "$(grep -c '^Type=notify$' "$R$unit")"
check "checks the config before it starts" 1 "$(grep -c "^ExecStartPre=$bin -t -c $conf\$" "$R$unit")"
if command -v systemd-analyze >/dev/null; then
	# The unit as it would be on the machine, pointing into DESTDIR; the
	# man pages are not on the machine's man path yet: --man=no.
	sed "s|$bin|$R$bin|g; s|$conf|$R$conf|g" "$R$unit" >"$TMP/switchover.service"
	out=$(systemd-analyze verify --man=no "$TMP/switchover.service" 2>&1) && rc=0 || rc=$?
	check "systemd-analyze verify is clean" "0:" "$rc:$out"
else
	echo "# systemd-analyze not installed: unit not verified"
fi

# A changed config survives a second install, and uninstall.
echo "# mine" >>"$R$conf"
make -s -C "$B" install DESTDIR="$R" >>"$TMP/install.log" 2>&1
check "a changed config is kept" 1 "$(grep -c '^# mine$' "$R$conf")"
make -s -C "$B" uninstall DESTDIR="$R" >>"$TMP/install.log" 2>&1
check "uninstall leaves only the changed config" "$conf" "$(cd "$R" && find . -type f | sed 's|^\./|/|')"
rm -f "$R$conf"
make -s -C "$B" install DESTDIR="$R" >>"$TMP/install.log" 2>&1
make -s -C "$B" uninstall DESTDIR="$R" >>"$TMP/install.log" 2>&1
check "an unchanged config goes with uninstall" "" "$(cd "$R" && find . -type f)"
sw_finish
