#!/bin/sh
# ThreadSanitizer stress: build/tsan/stress (16 threads by default) under
# build/tsan/libhostshim.so, both built with clang -fsanitize=thread, in a
# network namespace of its own with lo only and a DNS server of its own
# (tests/integration/hs_dns.py: mover.test rotates and changes while the
# threads connect). Fails on any TSan report, any
# wrong answer or a count of operations under HOSTSHIM_TSAN_MIN_OPS.
#
# usage: sh tests/tsan/run.sh [THREADS [ROUNDS]]   (default 16 8000)
# Needs root and ip(8). Cleans up the namespace and /etc/netns on any exit.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
threads=${1:-16}
rounds=${2:-8000}
min_ops=${HOSTSHIM_TSAN_MIN_OPS:-100000}

if [ -z "${TSAN_INSIDE:-}" ]; then
	exec sh "$repo/tests/in-netns.sh" tsan \
		"$(printf '127.0.0.1 localhost\n127.0.0.5 server\n127.0.0.6 gateway\n127.0.0.7 plain.test')" \
		env TSAN_INSIDE=1 sh "$0" "$threads" "$rounds"
fi
# Room for tens of thousands of short connections (in this namespace only).
sysctl -q -w net.ipv4.ip_local_port_range="1024 65000" \
	net.ipv4.tcp_tw_reuse=1 >/dev/null

tmp=$(mktemp -d /tmp/hostshim-tsan.XXXXXX) || exit 1
dns_pid=
trap '[ -n "$dns_pid" ] && kill "$dns_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
cp "$here/stress.ini" "$tmp/stress.ini" && chmod 600 "$tmp/stress.ini"
# shellcheck disable=SC3045 # dash and bash have it
ulimit -n 65536 2>/dev/null

# mover.test, the target of mover.localhost: three records in rotating
# order, a different three every 30 queries (the target moves while the
# threads connect). `timeout`: it can't outlive this script by much.
timeout 1300 python3 "$repo/tests/integration/hs_dns.py" --rotate --every 30 127.0.0.53 53 \
	'mover.test=127.0.0.11,127.0.0.12,127.0.0.13;127.0.0.14,127.0.0.15,127.0.0.16;127.0.0.13,127.0.0.16,127.0.0.11' \
	>"$tmp/dns.log" 2>&1 &
dns_pid=$!
n=0
until getent hosts mover.test >/dev/null 2>&1; do
	n=$((n + 1))
	if [ "$n" -gt 50 ]; then
		echo "tsan: the DNS server for mover.test did not start"
		cat "$tmp/dns.log"
		exit 1
	fi
	sleep 0.1
done

start=$(date +%s)
timeout -k 10 1200 env -i PATH=/usr/bin:/bin \
	LD_PRELOAD="$repo/build/tsan/libhostshim.so" \
	HOSTSHIM_CONFIG="$tmp/stress.ini" \
	TSAN_OPTIONS="halt_on_error=0 exitcode=66 log_path=$tmp/tsan second_deadlock_stack=1" \
	"$repo/build/tsan/stress" "$threads" "$rounds" >"$tmp/out" 2>"$tmp/err"
rc=$?
end=$(date +%s)
cat "$tmp/out"
echo "stderr: $(wc -l <"$tmp/err") lines (hostshim info lines: $(grep -c '^hostshim: .* -> ' "$tmp/err"))"
grep -v '^hostshim: .* -> ' "$tmp/err" | head -n 20
reports=$(cat "$tmp"/tsan.* 2>/dev/null | grep -c '^WARNING: ThreadSanitizer')
ops=$(sed -n 's/.*operations=\([0-9]*\).*/\1/p' "$tmp/out")
echo "tsan: exit status $rc, ${reports} ThreadSanitizer reports, ${ops:-0} operations in $((end - start))s"
if [ "$reports" -gt 0 ]; then
	cat "$tmp"/tsan.* | head -n 200
fi
if [ "$rc" -ne 0 ] || [ "$reports" -gt 0 ] || [ "${ops:-0}" -lt "$min_ops" ]; then
	echo "tsan: FAILED"
	exit 1
fi
echo "tsan: clean"
