#!/usr/bin/env bash
# containerfile: the Containerfile's runtime stage installs exactly the
# Debian packages of the shared libraries switchover and switchoverctl
# link (as built here, on Debian 12: the image's release), plus
# ca-certificates and curl (HEALTHCHECK); the build stage's packages are
# ones bootstrap knows; non-root user, ports, health check and config
# path are there.  No image is built here (`make image` does, where podman
# or docker runs).
set -euo pipefail
source "$TESTLIB"
CF="$TOP_SRCDIR/Containerfile"
B=$(cd "$(dirname "$SWITCHOVERCTL")" && pwd)
if ! grep -q '^12\.' /etc/debian_version 2>/dev/null || ! command -v objdump >/dev/null; then
	echo "# not Debian 12 with objdump: package names cannot be compared"
	exit 77
fi

# The packages of every DT_NEEDED library but libc's (in every base
# image) and the sanitizers' (an --enable-asan build; not in an image).
needed=$(for bin in "$B/switchover" "$B/switchoverctl"; do
	for lib in $(objdump -p "$bin" | awk '/NEEDED/ { print $2 }'); do
		case "$lib" in
		libc.so.*|libm.so.*|libpthread.so.*|libasan.so.*|libubsan.so.*) continue ;;
		esac
		path=$(ldd "$bin" | awk -v l="$lib" '$1 == l { print $3; exit }')
		dpkg -S "$(readlink -f "$path")" 2>/dev/null | cut -d: -f1 ||
		    dpkg -S "$path" | cut -d: -f1
	done
done | sort -u | tr '\n' ' ')
# The runtime stage's apt-get install list (after the last FROM).
stage=$(awk '/^FROM /{ n++ } n == 2' "$CF")
runtime=$(echo "$stage" | sed -n '/apt-get install/,/rm -rf/p' | tr ' \\' '\n\n' |
    grep -E '^[a-z0-9][a-z0-9.+-]+$' | grep -vE '^(apt-get|install|rm|useradd|install|d)$' |
    grep -vE '^(ca-certificates|curl)$' | sort -u | tr '\n' ' ')
check "runtime packages = the linked libraries' packages" "$needed" "$runtime"
check "and ca-certificates, curl" 1 "$(echo "$stage" | grep -cE '^ +ca-certificates curl && \\$')"

build=$(awk '/^FROM /{ n++ } n == 1' "$CF" | sed -n '/apt-get install/,/rm -rf/p' | tr ' \\' '\n\n' |
    grep -E '^[a-z0-9][a-z0-9.+-]+$' | grep -vE '^(apt-get|install|rm)$' | sort -u)
missing=""
for p in $build; do
	grep -qw -- "$p" "$TOP_SRCDIR/bootstrap" || missing="$missing $p"
done
check "build packages are bootstrap's" "" "$missing"
check "build on Debian 12, run on its slim image" "FROM debian:12 AS build|FROM debian:12-slim" \
    "$(grep '^FROM' "$CF" | paste -sd '|')"
check_match "runs as a non-root user" '^USER 10001' "$(grep '^USER' "$CF")"
check "exposes 9200 and 9901" "EXPOSE 9200 9901" "$(grep '^EXPOSE' "$CF")"
check_match "health check on /healthz" '/healthz' "$(grep -A1 '^HEALTHCHECK' "$CF")"
check_match "config from SWITCHOVER_CONFIG" 'switchover -c \\"\$SWITCHOVER_CONFIG\\"' "$(grep '^ENTRYPOINT' "$CF")"
# The entrypoint, run by the same shell form: the config path from the
# environment, extra arguments passed on, the program exec'd (PID 1).
entry=$(sed -n 's/^ENTRYPOINT \["\/bin\/sh", "-c", "\(.*\)", "switchover"\]$/\1/p' "$CF" |
    sed 's/\\"/"/g; s|/usr/bin/switchover|'"$B"'/switchover|')
check "the entrypoint checks the named config" "configuration OK" \
    "$(SWITCHOVER_CONFIG="$TOP_SRCDIR/conf/switchover.conf" sh -c "$entry" switchover -t 2>&1)"
check_match "and says which one when it is missing" "nowhere.conf" \
    "$(SWITCHOVER_CONFIG=/nowhere.conf sh -c "$entry" switchover -t 2>&1 || true)"
sw_finish
