#!/bin/sh
# bench/supervise.sh [N]: supervise_bench without and with supervision, in
# a network namespace of its own (tests/in-netns.sh). `make bench-supervise`.
set -eu
cd "$(dirname "$0")/.."
n=${1:-20000}
run() {
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
exec sh tests/in-netns.sh bench "127.0.0.1 localhost" sh bench/supervise.sh --inside "$n"
