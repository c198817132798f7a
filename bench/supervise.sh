#!/bin/sh
# bench/supervise.sh [N]: supervise_bench without and with supervision, in
# a network namespace of its own (tests/in-netns.sh), with its nameserver
# (supervise_bench --dns-server, unsupervised) on 127.0.0.53:53, the
# namespace's resolv.conf nameserver. `make bench-supervise`.
set -eu
cd "$(dirname "$0")/.."
n=${1:-20000}
run() {
	build/bench/supervise_bench --dns-server &
	dns=$!
	trap 'kill "$dns" 2>/dev/null' EXIT
	sleep 0.2
	echo "== without supervision"
	build/bench/supervise_bench "$n"
	echo "== hostshim --supervise (rule 127.0.0.9:80 = 127.0.0.5:9100)"
	build/hostshim --supervise -m '127.0.0.9:80=127.0.0.5:9100' -- \
		build/bench/supervise_bench "$n"
}
if [ "${1:-}" = --inside ]; then
	n=${2:-20000}
	run
	exit 0
fi
exec sh tests/in-netns.sh bench-supervise "127.0.0.1 localhost" sh bench/supervise.sh --inside "$n"
