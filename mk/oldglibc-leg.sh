#!/bin/sh
# The old-glibc leg: Debian bullseye (glibc 2.31, the oldest glibc SPEC
# promises) in a root file system made by mk/debroot.sh and cached under
# build/roots/bullseye.
#
#   1. The library built on this machine (build/libhostshim.so, glibc 2.36)
#      loads there: /bin/true runs, silent, status 0; a C client built there
#      and Python's urllib are redirected.
#   2. The library builds there (bullseye's gcc and libinih-dev, the
#      repository's Makefile), and that build works there and here.
#
# usage: sh mk/oldglibc-leg.sh          (after make; as root)
# Runs in a mount and network namespace of its own (unshare): the chroot's
# /tmp is a tmpfs and its /etc/hosts a bind mount there, both gone with the
# namespace; only lo is up. Output: one line per check, then
# "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
root=${OLDGLIBC_ROOT:-$repo/build/roots/bullseye}
pkgs=gcc,libc6-dev,make,libinih-dev,uthash-dev,python3

if [ -z "${OLDGLIBC_INSIDE:-}" ]; then
	if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null || ! command -v ip >/dev/null; then
		echo "old glibc: needs root, unshare(1) and ip(8)"
		echo "0 passed, 1 failed"
		exit 1
	fi
	if ! sh "$here/debroot.sh" bullseye "$root" "$pkgs"; then
		echo "FAIL bullseye root file system (mk/debroot.sh)"
		echo "0 passed, 1 failed"
		exit 1
	fi
	exec unshare --mount --net --propagation private \
		env OLDGLIBC_INSIDE=1 sh "$0" "$@"
fi

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() {
	failed=$((failed + 1))
	echo "FAIL $1"
	[ -z "${2-}" ] || printf '%s\n' "$2" | head -n 15 | sed 's/^/    /'
}

lib=$repo/build/libhostshim.so
if [ ! -f "$lib" ]; then
	bad "library present" "no $lib (make)"
	echo "$passed passed, $failed failed"
	exit 1
fi

ip link set lo up || exit 1
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp" || exit 1
mount -t proc proc "$root/proc" || exit 1
printf '127.0.0.1 localhost\n127.0.0.5 server\n127.0.0.1 auth.localhost\n' >"$root/tmp/hosts"
[ -e "$root/etc/hosts" ] || : >"$root/etc/hosts" 2>/dev/null
mount --bind "$root/tmp/hosts" "$root/etc/hosts" || exit 1
printf 'nameserver 127.0.0.53\noptions timeout:1 attempts:1\n' >"$root/tmp/resolv.conf"
[ -e "$root/etc/resolv.conf" ] || : >"$root/etc/resolv.conf" 2>/dev/null
mount --bind "$root/tmp/resolv.conf" "$root/etc/resolv.conf" || exit 1

server=
finish() { [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null; }
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# Listeners (this machine's python3, same network namespace): server:9000
# is the target; auth.localhost:80 (127.0.0.1) is the decoy a lookup
# without the library reaches.
cat >"$root/tmp/listen.py" <<'PY'
import socket, sys, threading
def serve(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port)); s.listen(128)
    while True:
        c, _ = s.accept()
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = c.recv(4096)
            if not chunk: break
            data += chunk
        host = "-"
        for line in data.decode("latin-1").split("\r\n")[1:]:
            if line.lower().startswith("host:"):
                host = line[5:].strip()
        body = "listener=%s:%d host=%s\n" % (addr, port, host)
        c.sendall(("HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)).encode())
        c.close()
for a, p in (("127.0.0.5", 9000), ("127.0.0.1", 80)):
    threading.Thread(target=serve, args=(a, p), daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
PY
python3 "$root/tmp/listen.py" >"$root/tmp/listen.out" 2>&1 &
server=$!
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	grep -q ready "$root/tmp/listen.out" && break
	sleep 0.1
done

glibc=$(chroot "$root" /usr/bin/ldd --version 2>&1 | head -n 1)
echo "info chroot: $glibc"
need=$(objdump -T "$lib" 2>/dev/null | grep -o 'GLIBC_[0-9.]*' | sort -u -V | tail -n 1)
echo "info build/libhostshim.so needs at most ${need:-?}; NEEDED: $(readelf -d "$lib" 2>/dev/null | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')"

# Every versioned glibc symbol the library needs must exist in 2.31: name
# the ones that don't (a newer libc function slipped in).
newer=$(objdump -T "$lib" 2>/dev/null | awk '/GLIBC_[0-9]/ {
	for (i = 1; i <= NF; i++) if ($i ~ /GLIBC_[0-9]/) { v = $i; gsub(/[()]/, "", v) }
	split(substr(v, 7), p, "."); if (p[1] > 2 || (p[1] == 2 && p[2] > 31)) print $NF "@" v }')
if [ -z "$newer" ]; then
	ok "build/libhostshim.so needs no glibc symbol newer than 2.31"
else
	bad "build/libhostshim.so needs no glibc symbol newer than 2.31" "$newer"
fi

# in_root ENV... CMD...: run in the chroot with a clean environment.
in_root() {
	timeout -k 5 60 chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin "$@" \
		>"$root/tmp/out" 2>"$root/tmp/err"
	rc=$?
	out=$(cat "$root/tmp/out")
	err=$(cat "$root/tmp/err")
}
S='listener=127.0.0.5:9000 host=auth.localhost'
PYGET='import urllib.request; print(urllib.request.urlopen("http://auth.localhost/").read().decode().strip())'

# check_lib LABEL PATH-IN-ROOT: the load check and two redirects in the chroot.
check_lib() {
	label=$1 l=$2
	in_root LD_PRELOAD="$l" /bin/true
	if [ "$rc" -eq 0 ] && [ -z "$err" ]; then
		ok "$label: /bin/true runs, status 0, nothing on stderr"
	else
		bad "$label: /bin/true runs, status 0, nothing on stderr" "status $rc; stderr: $err"
	fi
	in_root LD_PRELOAD="$l" HOSTSHIM_MAP=auth.localhost=server:9000 /tmp/http_get auth.localhost 80
	case $out in
		*"body=$S"*) ok "$label: C client (built on bullseye) redirected to server:9000, Host kept" ;;
		*) bad "$label: C client redirected" "status $rc; stdout: $out; stderr: $err" ;;
	esac
	in_root LD_PRELOAD="$l" HOSTSHIM_MAP=auth.localhost=server:9000 HOSTSHIM_LOG=info python3 -c "$PYGET"
	case $out in
		"$S") ok "$label: python3 urllib redirected" ;;
		*) bad "$label: python3 urllib redirected" "status $rc; stdout: $out; stderr: $err" ;;
	esac
}

# The C client, built with bullseye's gcc against glibc 2.31.
mkdir -p "$root/tmp/src"
cp -R "$repo/Makefile" "$repo/shim" "$root/tmp/src/"
mkdir -p "$root/tmp/src/tests/clients"
cp "$repo/tests/clients/http_get.c" "$repo/tests/clients/client_net.h" "$root/tmp/src/tests/clients/"
# glibc 2.31 has no strerrorname_np (2.32): the client gets a stand-in.
printf '#define _GNU_SOURCE\n#include <string.h>\n#if !__GLIBC_PREREQ(2, 32)\n#define strerrorname_np(e) ((const char *)0)\n#endif\n' \
	>"$root/tmp/src/compat.h"
in_root gcc -std=gnu11 -O1 -include /tmp/src/compat.h -o /tmp/http_get /tmp/src/tests/clients/http_get.c
if [ "$rc" -ne 0 ]; then
	bad "C client builds on bullseye" "$err"
fi

# Without the library, the decoy answers: the redirect checks mean something.
in_root /tmp/http_get auth.localhost 80
case $out in
	*"body=listener=127.0.0.1:80 host=auth.localhost"*) ok "without the library the C client reaches the decoy" ;;
	*) bad "without the library the C client reaches the decoy" "status $rc; stdout: $out; stderr: $err" ;;
esac

cp "$lib" "$root/tmp/host-built.so"
check_lib "built here ($(ldd --version 2>&1 | head -n 1 | grep -o '[0-9.]*$'))" /tmp/host-built.so

# Built on bullseye, with the repository's Makefile.
in_root make -C /tmp/src build/libhostshim.so
if [ "$rc" -eq 0 ] && [ -f "$root/tmp/src/build/libhostshim.so" ]; then
	ok "builds on bullseye (make build/libhostshim.so)"
	check_lib "built on bullseye" /tmp/src/build/libhostshim.so
	# and that build, here
	timeout -k 5 30 env -i PATH=/usr/bin:/bin LD_PRELOAD="$root/tmp/src/build/libhostshim.so" \
		/bin/true >"$root/tmp/out" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ] && [ ! -s "$root/tmp/out" ]; then
		ok "built on bullseye, loaded here: /bin/true"
	else
		bad "built on bullseye, loaded here: /bin/true" "status $rc; $(cat "$root/tmp/out")"
	fi
	if [ -x "$repo/build/tests/http_get" ]; then
		out=$(timeout -k 5 30 env -i PATH=/usr/bin:/bin LD_PRELOAD="$root/tmp/src/build/libhostshim.so" \
			HOSTSHIM_MAP=auth.localhost=127.0.0.5:9000 "$repo/build/tests/http_get" auth.localhost 80 2>&1)
		case $out in
			*"body=$S"*) ok "built on bullseye, loaded here: C client redirected" ;;
			*) bad "built on bullseye, loaded here: C client redirected" "$out" ;;
		esac
	fi
else
	bad "builds on bullseye (make build/libhostshim.so)" "status $rc; $out
$err"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
