#!/bin/sh
# tests/in-netns.sh NAME HOSTS COMMAND [ARG]...
#
# Runs COMMAND in a network namespace of its own with only lo up, where
# /etc/hosts holds HOSTS (lines) and the resolver asks 127.0.0.53 (nothing
# there, or a test's own DNS server), so nothing a test does can leave the
# machine. The namespace and its /etc/netns entry go away on every way out.
# Needs root and ip(8). Exit status: COMMAND's.
set -u
name=$1 hosts=$2
shift 2
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null; then
	echo "$name: needs root and ip(8) for a network namespace"
	echo "0 passed, 1 failed"
	exit 1
fi
ns=hostshim-$name-$$
child=
# shellcheck disable=SC2317 # called from the EXIT trap
cleanup() {
	[ -n "$child" ] && kill "$child" 2>/dev/null && wait "$child" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "/etc/netns/$ns"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
ip netns add "$ns" || exit 1
mkdir -p "/etc/netns/$ns"
printf '%s\n' "$hosts" >"/etc/netns/$ns/hosts"
printf 'nameserver 127.0.0.53\noptions timeout:1 attempts:1\n' >"/etc/netns/$ns/resolv.conf"
ip netns exec "$ns" ip link set lo up || exit 1
ip netns exec "$ns" "$@" &
child=$!
wait "$child"
rc=$?
child=
exit $rc
