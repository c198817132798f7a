#!/bin/sh
# The musl leg: C clients built against musl (build/musl/tests/) run under
# the musl build of the library (build/musl/libhostshim.so). Every result
# the library hands out is freed by the client with musl's own freeaddrinfo
# (AI_CANONNAME, socktype 0, AF_INET6 + AI_V4MAPPED, with and without a
# service), and musl's gethostbyname* go through the library too.
#
# usage: sh mk/musl-leg.sh     (after make musl and the musl clients)
# The same checks run for another build and its clients (mk/cross.mk: the
# aarch64 builds under qemu) with LEG_LIB (the library), LEG_BIN (the
# directory of the clients), LEG_RUN (a command prefix, e.g. an emulator;
# the environment reaches the program through it) and LEG_NAME.
# Runs in a network namespace of its own (lo only; hosts: server=127.0.0.5,
# auth.localhost=127.0.0.1 where a decoy listens), with HTTP listeners
# that answer "listener=ADDR:PORT host=HOST". Needs root and ip(8).
# Output: one line per check, then "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)

if [ -z "${MUSL_LEG_INSIDE:-}" ]; then
	exec sh "$repo/tests/in-netns.sh" musl \
		"$(printf '127.0.0.1 localhost\n::1 localhost\n127.0.0.5 server\n127.0.0.1 auth.localhost')" \
		env MUSL_LEG_INSIDE=1 sh "$0" "$@"
fi

lib=${LEG_LIB:-$repo/build/musl/libhostshim.so}
bin=${LEG_BIN:-$repo/build/musl/tests}
leg=${LEG_NAME:-musl leg}
for f in "$lib" "$bin/gai" "$bin/ghbn" "$bin/gai_loop" "$bin/http_get"; do
	if [ ! -e "$f" ]; then
		echo "$leg: missing $f (make musl-test or make cross builds it)"
		echo "0 passed, 1 failed"
		exit 1
	fi
done

tmp=$(mktemp -d /tmp/hostshim-musl.XXXXXX) || exit 1
server=
finish() {
	[ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
	rm -rf "$tmp"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

cat >"$tmp/listen.py" <<'PY'
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
python3 "$tmp/listen.py" >"$tmp/listen.out" 2>&1 &
server=$!
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	grep -q ready "$tmp/listen.out" && break
	sleep 0.1
done

# Under emulation (LEG_RUN) nothing may need the library's background
# thread, since under this machine's qemu-user a glibc thread never starts:
# the address rule's target is a literal (a named one is resolved there),
# and the file is not followed (a process that only connects keeps the
# thread to look at it).
addr_target=server:9000 shim=
if [ -n "${LEG_RUN:-}" ]; then
	addr_target=127.0.0.5:9000 shim='[shim]\nreload = false\n'
fi
printf "$shim"'[map]\nauth.localhost = server:9000\n*.api.localhost = server:9000\n127.0.0.1:8080 = %s\nv6.localhost = [::1]:9000\n' \
	"$addr_target" >"$tmp/shim.ini"
chmod 600 "$tmp/shim.ini"

passed=0 failed=0
# check NAME REGEX CMD...: runs CMD under the musl library; passes when it
# exits 0 and its output matches every line of REGEX (separated by '|||').
check() {
	name=$1 want=$2
	shift 2
	# shellcheck disable=SC2086 # LEG_RUN is a command prefix, split on purpose
	timeout -k 5 60 env -i PATH=/usr/bin:/bin LD_PRELOAD="$lib" \
		HOSTSHIM_CONFIG="$tmp/shim.ini" ${LEG_RUN:-} "$@" >"$tmp/out" 2>&1
	rc=$?
	ok=1
	[ "$rc" -eq "${want_rc:-0}" ] || ok=0
	rest=$want
	while [ -n "$rest" ]; do
		pattern=${rest%%|||*}
		if [ "$pattern" = "$rest" ]; then rest=; else rest=${rest#*|||}; fi
		grep -Eq -- "$pattern" "$tmp/out" || { ok=0; break; }
	done
	if [ "$ok" -eq 1 ]; then
		passed=$((passed + 1))
		echo "ok   $name"
	else
		failed=$((failed + 1))
		echo "FAIL $name (exit status $rc${pattern:+, no line matching /$pattern/})"
		sed 's/^/    /' "$tmp/out" | head -n 15
	fi
}

S='listener=127\.0\.0\.5:9000 host=auth\.localhost'
V4='addr=127\.88\.[0-9]+\.[0-9]+'
V6='addr=::ffff:127\.88\.[0-9]+\.[0-9]+'
# getaddrinfo: every answer shape, each freed by musl's freeaddrinfo.
check "gai AF_UNSPEC stream + connect" "$V4|||$S" "$bin/gai" -t stream -c -p 80 auth.localhost
check "gai service \"80\"" "$V4 port=80" "$bin/gai" -t stream auth.localhost 80
# (musl answers socktype 0 with stream and dgram; glibc adds raw.)
check "gai socktype 0 (stream and dgram)" "socktype=stream|||socktype=dgram" \
	"$bin/gai" -t 0 auth.localhost
check "gai AI_CANONNAME" "canon=auth\.localhost( |$)" "$bin/gai" -F canonname auth.localhost
check "gai AI_CANONNAME, socktype 0, service" "canon=auth\.localhost( |$)" \
	"$bin/gai" -t 0 -F canonname auth.localhost https
check "gai AI_CANONNAME, long name" "canon=a-rather-long-name-for-the-canon-buffer\.api\.localhost( |$)" \
	"$bin/gai" -F canonname a-rather-long-name-for-the-canon-buffer.api.localhost
check "gai AF_INET6 + AI_V4MAPPED + connect" "$V6|||$S" \
	"$bin/gai" -f inet6 -F v4mapped -t stream -c -p 80 auth.localhost
check "gai AF_INET6 + AI_V4MAPPED|AI_ALL|AI_CANONNAME, socktype 0" "$V6|||canon=auth\.localhost( |$)" \
	"$bin/gai" -f inet6 -F v4mapped,all,canonname -t 0 auth.localhost
# AI_ADDRCONFIG with only lo up: musl ignores the flag; glibc drops both
# families, for the target as for any name. The mapped name answers as
# libc answers for its target.
# shellcheck disable=SC2086 # LEG_RUN is a command prefix, split on purpose
ref=$(timeout -k 5 60 env -i PATH=/usr/bin:/bin ${LEG_RUN:-} "$bin/gai" -f inet -F addrconfig server 2>&1)
case $ref in
	*addr=127.0.0.5*)
		check "gai AF_INET + AI_ADDRCONFIG" "$V4" "$bin/gai" -f inet -F addrconfig auth.localhost ;;
	*)
		ref_rc=$(printf '%s\n' "$ref" | grep -o 'gai rc=EAI_[A-Z]*' | head -n 1)
		want_rc=1 check "gai AF_INET + AI_ADDRCONFIG: as libc for the target (${ref_rc:-?})" \
			"${ref_rc:-gai rc=EAI_}" "$bin/gai" -f inet -F addrconfig auth.localhost ;;
esac
check "getnameinfo + gethostbyaddr of the answer" "$V4" "$bin/gai" -t stream -n -r auth.localhost
check "gai unmapped name is libc's" "addr=127\.0\.0\.1 " "$bin/gai" -f inet -t stream localhost
# The hostent family: musl's own gethostbyname* never call getaddrinfo.
for mode in gethostbyname gethostbyname2-inet gethostbyname_r gethostbyname2_r-inet; do
	check "ghbn $mode + connect" "ok name=auth\.localhost|||$S" "$bin/ghbn" -c 80 "$mode" auth.localhost
done
# IPv6 answers come from a target with IPv6 (an IPv4-only one has none, as
# libc says for the target itself)
for mode in gethostbyname2-inet6 gethostbyname2_r-inet6; do
	check "ghbn $mode" "ok name=v6\.localhost type=inet6" "$bin/ghbn" "$mode" v6.localhost
done
check "ghbn gethostbyaddr" "ok name=auth\.localhost" "$bin/ghbn" -r gethostbyname auth.localhost
# As Node does (service NULL, port set afterwards), blocking and not.
check "http_get" "$S" "$bin/http_get" auth.localhost 80
check "http_get non-blocking" "$S" "$bin/http_get" -n auth.localhost 80
check "http_get AF_INET6 socket, v4-mapped" "$S" "$bin/http_get" -6 auth.localhost 80
check "address rule 127.0.0.1:8080" "listener=127\.0\.0\.5:9000" "$bin/http_get" -H auth.localhost 127.0.0.1 8080
# Many rounds of every hint shape: musl's allocator aborts on a bad free.
check "gai_loop 4000 rounds" "rounds=4000 ok=4000 fail=0" \
	"$bin/gai_loop" 4000 auth.localhost x.api.localhost a-rather-long-name-for-the-canon-buffer.api.localhost

# Informational: the glibc build preloaded into a musl program (what the
# launcher must avoid). It loads, but its AI_CANONNAME path frees a pointer
# into musl's single allocation.
if [ -z "${LEG_LIB:-}" ] && [ -f "$repo/build/libhostshim.so" ]; then
	timeout -k 5 30 env -i PATH=/usr/bin:/bin LD_PRELOAD="$repo/build/libhostshim.so" \
		HOSTSHIM_CONFIG="$tmp/shim.ini" "$bin/gai" -F canonname auth.localhost \
		>"$tmp/out" 2>&1
	rc=$?
	echo "info the glibc build in a musl program, AI_CANONNAME: exit status $rc$( [ "$rc" -gt 128 ] && echo " (signal $((rc - 128)))")"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
