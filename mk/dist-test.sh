#!/bin/sh
# The release archives (make dist), each unpacked into a clean root and
# used there the way a user would (docs/install.md): `tar -xzf ARCHIVE -C
# /usr/local --strip-components=1 hostshim-VERSION/bin hostshim-VERSION/lib`,
# then `hostshim --version` and a real redirect: a
# client resolves a name nothing else knows (api.dist.test), with
# `hostshim -m api.dist.test=127.0.0.1:9000 -- CLIENT`, and reaches the
# listener on 127.0.0.1:9000; without hostshim the same lookup fails.
#
#   x86_64 gnu    on this machine (unpacked in an empty directory), and in
#                 Debian bullseye (glibc 2.31; mk/debroot.sh's root, shared
#                 with make old-glibc) with bullseye's python3 as client
#   x86_64 musl   a root of busybox and musl's loader alone (as Alpine is),
#                 with a C client built by musl-gcc
#   aarch64 gnu   roots of busybox (arm64) and that libc alone, the C
#   aarch64 musl  clients of make cross, everything under qemu-aarch64:
#                 the launcher's shell too, through a binfmt_misc entry
#                 private to a user namespace (Linux 6.7+), or the
#                 machine's own qemu-aarch64 entry when it has one
# The x86_64 roots also run the client supervised (--supervise), with the
# archive's static supervisor (not under qemu: qemu-user refuses the
# supervisor's clone(CLONE_FILES)).
#
# usage: sh mk/dist-test.sh VERSION   (as root, after make dist and the
# clients: make dist-test). Runs in mount and network namespaces of its
# own (only lo, which is up); everything it makes is under a temporary
# directory, removed at the end. Output: one line per check, then
# "N passed, N failed".
set -u
version=${1:?usage: dist-test.sh VERSION}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
dist=$repo/build/dist
name=hostshim-$version
bullseye=${OLDGLIBC_ROOT:-$repo/build/roots/bullseye}
# The same packages as mk/oldglibc-leg.sh, so that the two share the root.
bullseye_pkgs=gcc,libc6-dev,make,libinih-dev,uthash-dev,python3
cache=$repo/build/roots/dist-test

if [ -z "${DIST_TEST_INSIDE:-}" ]; then
	if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null || ! command -v ip >/dev/null; then
		echo "dist-test: needs root, unshare(1) and ip(8)"
		echo "0 passed, 1 failed"
		exit 1
	fi
	sh "$here/debroot.sh" bullseye "$bullseye" "$bullseye_pkgs" ||
		echo "dist-test: no bullseye root (mk/debroot.sh); its checks will fail"
	# busybox for arm64 (busybox-static:arm64 can't be installed beside
	# amd64's): its package, fetched once from the machine's apt sources.
	if ! ls "$cache"/busybox-static_*_arm64.deb >/dev/null 2>&1; then
		mkdir -p "$cache"
		(cd "$cache" && apt-get download -q busybox-static:arm64 >/dev/null 2>&1) ||
			echo "dist-test: apt-get download busybox-static:arm64 failed"
	fi
	exec unshare --mount --net --propagation private \
		env DIST_TEST_INSIDE=1 sh "$0" "$@"
fi

passed=0 failed=0 skipped=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() {
	failed=$((failed + 1))
	echo "FAIL $1"
	[ -z "${2-}" ] || printf '%s\n' "$2" | head -n 15 | sed 's/^/    /'
}
skip() { skipped=$((skipped + 1)); echo "skip $1 ($2)"; }

work=$(mktemp -d /tmp/hostshim-dist-test.XXXXXX) || exit 1
server=
finish() {
	[ -z "$server" ] || { kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; }
	# Mounts are the namespace's: they go with it. The files go now.
	umount -R "$bullseye/usr/local" "$bullseye/proc" "$bullseye/tmp" 2>/dev/null
	for r in "$work"/root-*; do umount -R "$r/proc" 2>/dev/null; done
	rm -rf "$work"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

ip link set lo up || exit 1

cat >"$work/listen.py" <<'PY'
import socket, threading
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 9000)); s.listen(128)
print("ready", flush=True)
def answer(c):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = c.recv(4096)
        if not chunk: break
        data += chunk
    host = "-"
    for line in data.decode("latin-1").split("\r\n")[1:]:
        if line.lower().startswith("host:"):
            host = line[5:].strip()
    body = "listener=127.0.0.1:9000 host=%s\n" % host
    c.sendall(("HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)).encode())
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=answer, args=(c,), daemon=True).start()
PY
python3 "$work/listen.py" >"$work/listen.out" 2>&1 &
server=$!
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	grep -q ready "$work/listen.out" && break
	sleep 0.1
done

WANT="listener=127.0.0.1:9000 host=api.dist.test"
MAP=api.dist.test=127.0.0.1:9000

# run CMD...: sets rc, out, err.
run() {
	timeout -k 5 120 "$@" >"$work/out" 2>"$work/err" </dev/null
	rc=$?
	out=$(cat "$work/out")
	err=$(cat "$work/err")
}
show() { printf 'status %s\nstdout: %s\nstderr: %s' "$rc" "$out" "$err"; }

# check LABEL RUNNER... -- CLIENT...: the three checks, with RUNNER (the
# command that enters the root) before each command.
check() {
	label=$1
	shift
	runner=
	while [ "$1" != -- ]; do runner="$runner $1"; shift; done
	shift
	# shellcheck disable=SC2086 # the runner is words
	run $runner hostshim --version
	if [ "$rc" = 0 ] && [ "$out" = "hostshim $version" ]; then
		ok "$label: hostshim --version says 'hostshim $version'"
	else
		bad "$label: hostshim --version says 'hostshim $version'" "$(show)"
	fi
	# shellcheck disable=SC2086
	run $runner "$@"
	# It runs (not 126/127) and fails: the name is unknown there.
	case $rc:$out in
		0:* | 126:* | 127:* | *"$WANT"*)
			bad "$label: without hostshim the client runs and fails to resolve the name" "$(show)" ;;
		*) ok "$label: without hostshim the client runs and fails to resolve the name" ;;
	esac
	# shellcheck disable=SC2086
	run $runner hostshim -m "$MAP" -- "$@"
	case $rc:$out in
		0:*"$WANT"*) ok "$label: hostshim -m $MAP -- ${1##*/} reaches it" ;;
		*) bad "$label: hostshim -m $MAP -- ${1##*/} reaches it" "$(show)" ;;
	esac
	[ -n "${supervised:-}" ] || return 0
	# shellcheck disable=SC2086
	run $runner hostshim --supervise -m "$MAP" -- "$@"
	case $rc:$out in
		0:*"$WANT"*) ok "$label: hostshim --supervise -m $MAP -- ${1##*/} reaches it" ;;
		*) bad "$label: hostshim --supervise -m $MAP -- ${1##*/} reaches it" "$(show)" ;;
	esac
}

# unpack ARCHIVE DIR: as a user installs it, under DIR/usr/local.
# The command of docs/install.md: bin/ and lib/ alone, so that no LICENSE
# or README.md lands in /usr/local itself.
unpack() {
	mkdir -p "$2/usr/local" &&
		tar -xzf "$dist/$1" -C "$2/usr/local" --strip-components=1 --no-same-owner \
			"$name/bin" "$name/lib"
}

if (cd "$dist" && sha256sum -c --quiet SHA256SUMS) >"$work/sums" 2>&1; then
	ok "SHA256SUMS matches the four archives"
else
	bad "SHA256SUMS matches the four archives" "$(cat "$work/sums")"
fi
for f in x86_64-gnu x86_64-musl aarch64-gnu aarch64-musl; do
	t=$name-linux-$f.tar.gz
	want="$name/
$name/LICENSE
$name/README.md
$name/THIRD-PARTY-NOTICES
$name/bin/
$name/bin/hostshim
$name/lib/
$name/lib/hostshim/
$name/lib/hostshim/hostshim-supervise
$name/lib/hostshim/libhostshim.so
$name/shim.ini"
	got=$(tar -tzf "$dist/$t" 2>&1)
	if [ "$got" = "$want" ]; then ok "$t: the files, in order"; else bad "$t: the files, in order" "$got"; fi
done

# What each archive's binaries are: the architecture, the library's libc
# (glibc's libc.so.6, or musl's libc.so), a supervisor with no ELF
# interpreter (static).
for f in x86_64-gnu x86_64-musl aarch64-gnu aarch64-musl; do
	d=$work/shape-$f
	mkdir -p "$d"
	tar -xzf "$dist/$name-linux-$f.tar.gz" -C "$d" --strip-components=3 --no-same-owner "$name/lib/hostshim"
	case $f in x86_64-*) machine='Advanced Micro Devices X86-64' ;; *) machine=AArch64 ;; esac
	case $f in *-gnu) libc='libc.so.6' ;; *) libc='libc.so' ;; esac
	lib_m=$(readelf -h "$d/libhostshim.so" | sed -n 's/^ *Machine: *//p')
	sup_m=$(readelf -h "$d/hostshim-supervise" | sed -n 's/^ *Machine: *//p')
	needed=$(readelf -d "$d/libhostshim.so" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')
	interp=$(readelf -l "$d/hostshim-supervise" | grep -c 'Requesting program interpreter')
	case $needed in *"$libc "*) has_libc=1 ;; *) has_libc= ;; esac
	if [ "$lib_m" = "$machine" ] && [ "$sup_m" = "$machine" ] && [ -n "$has_libc" ] && [ "$interp" = 0 ]; then
		ok "$f: $machine library needing $libc, static $machine supervisor"
	else
		bad "$f: $machine library needing $libc, static $machine supervisor" \
			"library: $lib_m, needs $needed; supervisor: $sup_m, interpreter lines: $interp"
	fi
done

# ---- x86_64 gnu, on this machine ----------------------------------------
root=$work/native
mkdir -p "$root"
unpack "$name-linux-x86_64-gnu.tar.gz" "$root"
supervised=1
check "x86_64 gnu, this machine (glibc $(ldd --version | sed -n '1s/.* //p'))" \
	env -i PATH="$root/usr/local/bin:/usr/bin:/bin" -- "$repo/build/tests/http_get" api.dist.test 80

# ---- x86_64 gnu, bullseye (glibc 2.31) ----------------------------------
if [ -x "$bullseye/usr/bin/python3" ]; then
	mount -t tmpfs tmpfs "$bullseye/usr/local" && mount -t tmpfs -o mode=1777 tmpfs "$bullseye/tmp" &&
		mount -t proc proc "$bullseye/proc" || exit 1
	unpack "$name-linux-x86_64-gnu.tar.gz" "$bullseye"
	cat >"$bullseye/tmp/get.py" <<'PY'
import urllib.request
print(urllib.request.urlopen("http://api.dist.test/", timeout=20).read().decode().strip())
PY
	check "x86_64 gnu, bullseye ($(chroot "$bullseye" /usr/bin/ldd --version | sed -n '1s/.* //p;1q'))" \
		chroot "$bullseye" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin -- python3 /tmp/get.py
else
	bad "x86_64 gnu, bullseye: the root" "no $bullseye/usr/bin/python3 (mk/debroot.sh failed?)"
fi

# ---- busybox roots ------------------------------------------------------
# mkroot DIR BUSYBOX LIBC-FILE... : busybox with its applets in /bin, the
# files of the libc (as SRC=DEST-IN-ROOT), /tmp, /proc, /dev/null, and an
# /etc/resolv.conf naming a server nobody answers on.
mkroot() {
	r=$1 bb=$2
	shift 2
	mkdir -p "$r/bin" "$r/lib" "$r/tmp" "$r/proc" "$r/etc" "$r/usr/bin"
	cp "$bb" "$r/bin/busybox"
	for a in $(busybox --list); do
		[ "$a" = busybox ] || ln -s busybox "$r/bin/$a"
	done
	for pair in "$@"; do
		cp -L "${pair%%=*}" "$r/${pair#*=}"
	done
	: >"$r/etc/hosts"
	printf 'nameserver 127.0.0.53\n' >"$r/etc/resolv.conf"
	mkdir -p "$r/dev" && mknod -m 666 "$r/dev/null" c 1 3
}

# ---- x86_64 musl ---------------------------------------------------------
root=$work/root-x86_64-musl
mkroot "$root" /bin/busybox /usr/lib/x86_64-linux-musl/libc.so=lib/ld-musl-x86_64.so.1
cp "$repo/build/musl/tests/http_get" "$root/usr/bin/"
unpack "$name-linux-x86_64-musl.tar.gz" "$root"
mount -t proc proc "$root/proc" || exit 1
check "x86_64 musl, busybox + musl root" \
	chroot "$root" /bin/env -i PATH=/usr/local/bin:/usr/bin:/bin -- http_get api.dist.test 80

# ---- aarch64, under qemu -------------------------------------------------
# A binfmt_misc entry that runs aarch64 ELF programs with qemu-aarch64-static
# ("F": the interpreter is opened now, so it need not be in the root; "P":
# argv[0] is kept, which busybox's applets go by).
QEMU=$(command -v qemu-aarch64-static)
REG=':hostshim-aarch64:M::\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:'"$QEMU"':FP'
cat >"$work/in-binfmt.sh" <<'EOF'
# in a new user namespace: a binfmt_misc of its own with REG, then CMD
mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null &&
	printf '%s' "$REG" >/proc/sys/fs/binfmt_misc/register || exit 99
exec "$@"
EOF
aarch64_runner=
bbdeb=
for f in "$cache"/busybox-static_*_arm64.deb; do [ -f "$f" ] && bbdeb=$f; done
if [ -z "$QEMU" ]; then
	why="no qemu-aarch64-static (.ci/install-image-deps)"
elif [ -z "$bbdeb" ]; then
	why="no busybox-static arm64 package in $cache"
elif REG=$REG unshare --user --map-root-user --mount sh "$work/in-binfmt.sh" true 2>/dev/null; then
	aarch64_runner="env REG=$REG unshare --user --map-root-user --mount sh $work/in-binfmt.sh"
	echo "info aarch64: a binfmt_misc entry private to a user namespace"
elif grep -qx enabled /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null &&
	grep -q '^flags:.*F' /proc/sys/fs/binfmt_misc/qemu-aarch64 &&
	grep -q '^flags:.*P' /proc/sys/fs/binfmt_misc/qemu-aarch64; then
	aarch64_runner="env"
	echo "info aarch64: this machine's qemu-aarch64 binfmt_misc entry"
else
	why="no private binfmt_misc (Linux < 6.7?) and no qemu-aarch64 entry with flags F and P on this machine"
fi
if [ -n "$aarch64_runner" ]; then
	dpkg-deb -x "$bbdeb" "$work/bb-arm64"
	for libc in gnu musl; do
		root=$work/root-aarch64-$libc
		if [ $libc = gnu ]; then
			mkroot "$root" "$work/bb-arm64/bin/busybox" \
				/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1=lib/ld-linux-aarch64.so.1 \
				/usr/aarch64-linux-gnu/lib/libc.so.6=lib/libc.so.6 \
				/usr/aarch64-linux-gnu/lib/libdl.so.2=lib/libdl.so.2
			cp "$repo/build/aarch64/tests/http_get" "$root/usr/bin/"
		else
			mkroot "$root" "$work/bb-arm64/bin/busybox" \
				/usr/lib/aarch64-linux-musl/libc.so=lib/ld-musl-aarch64.so.1
			cp "$repo/build/aarch64-musl/tests/http_get" "$root/usr/bin/"
		fi
		unpack "$name-linux-aarch64-$libc.tar.gz" "$root"
		supervised=''
		# shellcheck disable=SC2086 # the runner is words
		check "aarch64 $libc, busybox + $libc root under qemu" \
			$aarch64_runner chroot "$root" /bin/env -i PATH=/usr/local/bin:/usr/bin:/bin -- \
			http_get api.dist.test 80
	done
else
	skip "aarch64 gnu and musl in their roots" "$why"
fi

[ "$skipped" -eq 0 ] || echo "($skipped skipped)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
