#!/bin/sh
# Hostile configurations: every case in tests/hostile/cases (and the big ones
# gen.py writes into a temp dir) is loaded by a tiny program under the
# library, and what the user sees is compared exactly.
#
# A case is NAME.expect (the exact stderr lines) with, next to it, any of:
#   NAME.ini    the file, as HOSTSHIM_CONFIG=NAME.ini (run from its folder,
#               so messages read "hostshim: NAME.ini:LINE: ..."); without
#               one, HOSTSHIM_CONFIG names an empty file
#   NAME.map    the value of HOSTSHIM_MAP, verbatim
#   NAME.env    more VAR=VALUE lines for the environment
#   NAME.rules  the exact stdout of check mode (HOSTSHIM_CHECK=1)
# Each case runs three times:
#   plain   exit status 0, stderr exactly NAME.expect
#   strict  HOSTSHIM_STRICT=1: with problems, exit status 2 and NAME.expect
#           plus "hostshim: strict mode: N configuration problem(s), exiting";
#           without, as plain
#   check   HOSTSHIM_CHECK=1: stderr exactly NAME.expect, exit status 1 with
#           problems, else 0; stdout exactly NAME.rules when there is one
# and a run killed by a signal, or still running after $HOSTILE_TIMEOUT
# seconds (default 30), fails. Then longnames.c checks lookups of names
# longer than 253 bytes or with 64-byte labels under the library.
#
# Runs inside a network namespace of its own (lo only, its own hosts file
# and a resolver address where nothing listens), so no lookup leaves the
# machine. Needs root and `ip`.
#
# Environment: HOSTSHIM_TEST_LIB (default build/libhostshim.so),
# HOSTSHIM_TEST_PRELOAD_PREFIX (e.g. libasan.so put before it),
# HOSTILE_PROG (default: getent hosts localhost), HOSTILE_TIMEOUT, HOSTILE_SKIP (case
# names to skip, space separated), HOSTILE_ONLY (run only these),
# HOSTILE_UPDATE=1 (after a deliberate change of messages: write what the
# library prints now into the committed .expect and .rules files, to be
# reviewed with git diff; nothing fails).
#
# The cases are copied to a temp dir and made writable by their owner only
# (run as root, the library refuses a file that others can write). The
# cases that need a device, a FIFO or a directory are made there too.
# Output: one line per case, details of failures, then "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

if [ -z "${HOSTILE_INSIDE:-}" ]; then
	exec sh "$repo/tests/in-netns.sh" hostile \
		"$(printf '127.0.0.1 localhost\n::1 localhost\n127.0.0.5 server\n127.0.0.6 gateway')" \
		env HOSTILE_INSIDE=1 sh "$0" "$@"
fi

lib=${HOSTSHIM_TEST_LIB:-build/libhostshim.so}
case $lib in /*) ;; *) lib=$repo/$lib ;; esac
preload=$lib
for p in ${HOSTSHIM_TEST_PRELOAD_PREFIX:-}; do
	preload="$p:$preload"
done
# A program that looks a name up: the configuration is read on first use.
prog=${HOSTILE_PROG:-/usr/bin/getent hosts localhost}
limit=${HOSTILE_TIMEOUT:-30}
if [ ! -f "$lib" ]; then
	echo "tests/hostile: no library at $lib (run make first)"
	echo "0 passed, 1 failed"
	exit 1
fi

tmp=$(mktemp -d /tmp/hostshim-hostile.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
python3 "$here/gen.py" "$tmp/gen" || exit 1
cp -R "$here/cases" "$tmp/cases" && chmod -R go-w "$tmp/cases" "$tmp/gen" || exit 1
: >"$tmp/empty.conf"
chmod 600 "$tmp/empty.conf"

# Not regular files: a character device like /dev/zero that only its owner
# can write (endless, no newline), a FIFO nobody writes to (open blocks),
# a directory (reads fail with EISDIR). The first two must be refused
# before anything is read (open with O_NONBLOCK + fstat, or stat first).
mknod "$tmp/gen/chardev-zero" c 1 5 && chmod 644 "$tmp/gen/chardev-zero"
printf 'HOSTSHIM_CONFIG=chardev-zero\n' >"$tmp/gen/chardev-zero.env"
echo 'hostshim: chardev-zero: not a regular file; no rules from it' \
	>"$tmp/gen/chardev-zero.expect"
mkfifo -m 644 "$tmp/gen/fifo"
printf 'HOSTSHIM_CONFIG=fifo\n' >"$tmp/gen/fifo.env"
echo 'hostshim: fifo: not a regular file; no rules from it' >"$tmp/gen/fifo.expect"
mkdir -m 755 "$tmp/gen/directory.d"
printf 'HOSTSHIM_CONFIG=directory.d\n' >"$tmp/gen/directory.env"
echo 'hostshim: directory.d: cannot read: Is a directory; no rules from it' \
	>"$tmp/gen/directory.expect"

passed=0 failed=0

# run DIR NAME MODE: runs the case, leaves $tmp/out, $tmp/err, $rc.
run() {
	dir=$1 name=$2 mode=$3
	set -- PATH=/usr/bin:/bin LD_PRELOAD="$preload"
	if [ -n "${HOSTSHIM_TEST_PRELOAD_PREFIX:-}" ]; then
		set -- "$@" ASAN_OPTIONS=detect_leaks=0
	fi
	if [ -f "$dir/$name.ini" ]; then
		set -- "$@" HOSTSHIM_CONFIG="$name.ini"
	else
		set -- "$@" HOSTSHIM_CONFIG="$tmp/empty.conf"
	fi
	if [ -f "$dir/$name.map" ]; then
		set -- "$@" HOSTSHIM_MAP="$(cat "$dir/$name.map")"
	fi
	if [ -f "$dir/$name.env" ]; then
		while IFS= read -r line; do
			[ -n "$line" ] && set -- "$@" "$line"
		done <"$dir/$name.env"
	fi
	case $mode in
	strict) set -- "$@" HOSTSHIM_STRICT=1 ;;
	check) set -- "$@" HOSTSHIM_CHECK=1 ;;
	esac
	# A memory limit too, so that a runaway case can't take the machine
	# down with it (not with ASan, which reserves terabytes of addresses).
	(cd "$dir" &&
		if [ -z "${HOSTSHIM_TEST_PRELOAD_PREFIX:-}" ]; then
			# shellcheck disable=SC3045 # dash and bash have it
			ulimit -v 2097152
		fi &&
		# shellcheck disable=SC2086 # prog is a command line
		exec timeout -k 5 "$limit" env -i "$@" $prog) \
		>"$tmp/out" 2>"$tmp/err"
	rc=$?
}

# The number of problems strict mode counts: the lines shown (a bad
# HOSTSHIM_* value is one too), with "K more ... not shown" standing for K;
# the info line saying where the rules came from is not one.
problems() {
	awk '/^hostshim: [0-9]+ more configuration problems not shown$/ { n += $2; next }
	     /^hostshim: [0-9]+ rules? from / { next }
	     { n++ } END { print n + 0 }' "$1"
}

fail() {
	failed=$((failed + 1))
	echo "FAIL $1: $2"
	if [ -n "${3:-}" ]; then
		diff "$3" "$4" | head -n 20 | sed 's/^/    /' | cut -c 1-300
	fi
}

# status_ok WHAT: 1 if $rc is a crash or a timeout (and says so).
crashed() {
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		fail "$1" "still running after ${limit}s (killed)"
		return 0
	fi
	if [ "$rc" -gt 128 ]; then
		fail "$1" "killed by signal $((rc - 128))"
		head -n 5 "$tmp/err" | sed 's/^/    /' | cut -c 1-300
		return 0
	fi
	return 1
}

one_case() {
	dir=$1 name=$2
	expect=$dir/$name.expect
	case " ${HOSTILE_SKIP:-} " in *" $name "*)
		echo "skip $name"
		return
		;;
	esac
	if [ -n "${HOSTILE_ONLY:-}" ]; then
		case " $HOSTILE_ONLY " in *" $name "*) ;; *) return ;; esac
	fi
	n=$(problems "$expect")

	run "$dir" "$name" plain
	crashed "$name (plain)" && return
	if [ -n "${HOSTILE_UPDATE:-}" ] && [ "$dir" = "$tmp/cases" ]; then
		cp "$tmp/err" "$here/cases/$name.expect"
		run "$dir" "$name" check
		cp "$tmp/out" "$here/cases/$name.rules"
		echo "updated $name"
		return
	fi
	if ! cmp -s "$expect" "$tmp/err"; then
		fail "$name (plain)" "stderr differs from $name.expect" "$expect" "$tmp/err"
		return
	fi
	if [ "$rc" -ne 0 ]; then
		fail "$name (plain)" "exit status $rc, not 0"
		return
	fi

	run "$dir" "$name" strict
	crashed "$name (strict)" && return
	cp "$expect" "$tmp/strict.expect"
	want=0
	if [ "$n" -gt 0 ]; then
		want=2
		s=s
		[ "$n" -eq 1 ] && s=
		echo "hostshim: strict mode: $n configuration problem$s, exiting" \
			>>"$tmp/strict.expect"
	fi
	if ! cmp -s "$tmp/strict.expect" "$tmp/err"; then
		fail "$name (strict)" "stderr differs" "$tmp/strict.expect" "$tmp/err"
		return
	fi
	if [ "$rc" -ne "$want" ]; then
		fail "$name (strict)" "exit status $rc, not $want"
		return
	fi

	run "$dir" "$name" check
	crashed "$name (check)" && return
	want=0
	[ "$n" -gt 0 ] && want=1
	if ! cmp -s "$expect" "$tmp/err"; then
		fail "$name (check)" "stderr differs" "$expect" "$tmp/err"
		return
	fi
	if [ -f "$dir/$name.rules" ] && ! cmp -s "$dir/$name.rules" "$tmp/out"; then
		fail "$name (check)" "stdout differs from $name.rules" "$dir/$name.rules" "$tmp/out"
		return
	fi
	if [ "$rc" -ne "$want" ]; then
		fail "$name (check)" "exit status $rc, not $want"
		return
	fi
	passed=$((passed + 1))
	echo "ok   $name"
}

for dir in "$tmp/cases" "$tmp/gen"; do
	for expect in "$dir"/*.expect; do
		name=$(basename "$expect" .expect)
		one_case "$dir" "$name"
	done
done

# Long names at run time: lookups and reverse lookups under the library.
if [ -z "${HOSTILE_ONLY:-}" ]; then
	cc=${CC:-cc}
	if "$cc" -std=gnu11 -O1 -g -Wall -Wextra -Werror -o "$tmp/longnames" \
		"$here/longnames.c" 2>"$tmp/err"; then
		(cd "$tmp" && timeout -k 5 "$limit" env -i PATH=/usr/bin:/bin \
			LD_PRELOAD="$preload" \
			${HOSTSHIM_TEST_PRELOAD_PREFIX:+ASAN_OPTIONS=detect_leaks=0} \
			HOSTSHIM_CONFIG="$tmp/empty.conf" \
			HOSTSHIM_MAP="*.localhost = 127.0.0.5:9000" ./longnames) \
			>"$tmp/out" 2>&1
		rc=$?
		if ! crashed longnames; then
			if [ "$rc" -eq 0 ]; then
				passed=$((passed + 1))
				echo "ok   longnames ($(tail -n 1 "$tmp/out"))"
			else
				fail longnames "exit status $rc"
				grep -v '^ok ' "$tmp/out" | head -n 30 | sed 's/^/    /'
			fi
		fi
	else
		fail longnames "does not compile"
		head -n 20 "$tmp/err"
	fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
