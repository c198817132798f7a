#!/bin/sh
# The npm packages (make npm), installed the way a user installs them and
# used: `npm i hostshim` in a clean directory, then `npx hostshim -m
# auth.localhost=127.0.0.1:9000 -- node -e "fetch('http://auth.localhost/')"`
# reaches a listener on 127.0.0.1:9000.
#
# Nothing is published, and no registry is asked: everything runs in a
# network namespace with only lo, npm is --offline with an empty cache of
# its own, and the test project's package.json points the four platform
# packages at their tarballs with "overrides" (file: specs), so npm itself
# reads their os, cpu and libc fields and picks one, as it would from the
# registry. npm's --os, --cpu and --libc exercise that choice for the other
# platforms (installed, not run). The Linux-only message is checked with
# the platform given to the wrapper through HOSTSHIM_NPM_TEST_PLATFORM (a
# variable for tests only), and through its check() function.
#
# usage: sh mk/npm-test.sh VERSION   (as root, after make npm). Output: one
# line per check, then "N passed, N failed".
set -u
version=${1:?usage: npm-test.sh VERSION}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
pkgs=$repo/build/npm

if [ -z "${NPM_TEST_INSIDE:-}" ]; then
	if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null || ! command -v ip >/dev/null ||
		! command -v npm >/dev/null; then
		echo "npm-test: needs root, unshare(1), ip(8) and npm"
		echo "0 passed, 1 failed"
		exit 1
	fi
	exec unshare --net env NPM_TEST_INSIDE=1 sh "$0" "$@"
fi

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() {
	failed=$((failed + 1))
	echo "FAIL $1"
	[ -z "${2-}" ] || printf '%s\n' "$2" | head -n 20 | sed 's/^/    /'
}

work=$(mktemp -d /tmp/hostshim-npm-test.XXXXXX) || exit 1
server=
finish() {
	[ -z "$server" ] || { kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; }
	rm -rf "$work"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
ip link set lo up || exit 1

export npm_config_update_notifier=false npm_config_audit=false npm_config_fund=false
export npm_config_cache="$work/npm-cache" npm_config_offline=true
proj=$work/app
main_tgz=$pkgs/hostshim-$version.tgz
PLATFORMS="linux-x64-gnu linux-x64-musl linux-arm64-gnu linux-arm64-musl"

# run CMD...: sets rc, out, err (in the project directory).
run() {
	(cd "$proj" && timeout -k 5 300 "$@") >"$work/out" 2>"$work/err" </dev/null
	rc=$?
	out=$(cat "$work/out")
	err=$(cat "$work/err")
}
show() { printf 'status %s\nstdout: %s\nstderr: %s' "$rc" "$out" "$err"; }

# install [NPM-OPTION]...: a clean project, then `npm i hostshim` from its
# tarball; sets $installed to the @hostshim packages npm put in.
install() {
	rm -rf "$proj"
	mkdir -p "$proj"
	{
		printf '{\n  "name": "app",\n  "version": "1.0.0",\n  "private": true,\n  "overrides": {\n'
		sep=''
		for p in $PLATFORMS; do
			printf '%s    "@hostshim/%s": "file:%s/hostshim-%s-%s.tgz"' "$sep" "$p" "$pkgs" "$p" "$version"
			sep=',
'
		done
		printf '\n  }\n}\n'
	} >"$proj/package.json"
	run npm i --no-audit --no-fund "$@" "$main_tgz"
	# shellcheck disable=SC2012 # package names: no odd characters
	installed=$(cd "$proj/node_modules/@hostshim" 2>/dev/null && ls | tr '\n' ' ')
	installed=${installed% }
}

# The package files themselves: names, versions in lockstep, fields.
for p in $PLATFORMS; do
	t=$pkgs/hostshim-$p-$version.tgz
	got=$(tar -xOzf "$t" package/package.json 2>&1 | node -e '
		const p = JSON.parse(require("fs").readFileSync(0, "utf8"));
		console.log([p.name, p.version, p.os, p.cpu, p.libc].join(" "))' 2>&1)
	cpu=${p#linux-} cpu=${cpu%-*} libc=${p##*-}
	[ "$libc" = gnu ] && libc=glibc
	want="@hostshim/$p $version linux $cpu $libc"
	if [ "$got" = "$want" ]; then ok "$p: package.json says $want"; else bad "$p: package.json says $want" "$got"; fi
done
got=$(tar -xOzf "$main_tgz" package/package.json | node -e '
	const p = JSON.parse(require("fs").readFileSync(0, "utf8"));
	console.log(p.name, p.version, JSON.stringify(p.optionalDependencies), JSON.stringify(p.bin), p.os || "any")')
want="hostshim $version {\"@hostshim/linux-x64-gnu\":\"$version\",\"@hostshim/linux-x64-musl\":\"$version\",\"@hostshim/linux-arm64-gnu\":\"$version\",\"@hostshim/linux-arm64-musl\":\"$version\"} {\"hostshim\":\"bin/hostshim.js\"} any"
if [ "$got" = "$want" ]; then ok "hostshim: package.json: the four platform packages at $version, bin, any os"; else bad "hostshim: package.json" "want $want
got  $got"; fi

# ---- npm's choice ---------------------------------------------------------
here_cpu=$(node -p process.arch)
here_libc=$(node -p 'process.report.getReport().header.glibcVersionRuntime ? "gnu" : "musl"')
here_pkg=linux-$here_cpu-$here_libc
for c in x64:glibc:linux-x64-gnu x64:musl:linux-x64-musl arm64:glibc:linux-arm64-gnu \
	arm64:musl:linux-arm64-musl; do
	IFS=: read -r cpu libc want <<EOT
$c
EOT
	install --cpu="$cpu" --libc="$libc"
	if [ "$rc" = 0 ] && [ "$installed" = "$want" ]; then
		ok "npm i --cpu=$cpu --libc=$libc hostshim: npm picks @hostshim/$want alone"
	else
		bad "npm i --cpu=$cpu --libc=$libc hostshim: npm picks @hostshim/$want alone" "installed: [$installed]
$(show)"
	fi
done
install --os=darwin
if [ "$rc" = 0 ] && [ -z "$installed" ] && [ -f "$proj/node_modules/hostshim/bin/hostshim.js" ]; then
	ok "npm i --os=darwin hostshim: succeeds, with no platform package"
else
	bad "npm i --os=darwin hostshim: succeeds, with no platform package" "installed: [$installed]
$(show)"
fi
# On Linux, with the platform package left out: it says what is missing.
run npx hostshim -- true
case $rc:$err in
	125:*"@hostshim/$here_pkg is not installed"*) ok "hostshim without its platform package: says which is missing, status 125" ;;
	*) bad "hostshim without its platform package: says which is missing, status 125" "$(show)" ;;
esac
for os in darwin win32; do
	run env HOSTSHIM_NPM_TEST_PLATFORM=$os npx hostshim -m auth.localhost=127.0.0.1:9000 -- true
	case $rc:$err in
		125:"hostshim runs on Linux only (this is $os)"*) ok "hostshim on $os (HOSTSHIM_NPM_TEST_PLATFORM): Linux only, status 125" ;;
		*) bad "hostshim on $os (HOSTSHIM_NPM_TEST_PLATFORM): Linux only, status 125" "$(show)" ;;
	esac
done
run node -e '
	const { check } = require("hostshim/bin/hostshim.js");
	const r = [check({ platform: "darwin" }).message, check({ platform: "linux", arch: "ia32" }).message,
		check({ platform: "linux", arch: "x64", libc: "gnu",
			resolve: (id) => "/nm/" + id }).launcher];
	console.log(r.join("\n"));'
case $out in
	"hostshim runs on Linux only (this is darwin)"*"no build for Linux on ia32"*"/nm/@hostshim/linux-x64-gnu/bin/hostshim")
		ok "check(): darwin and ia32 refused, linux x64 gnu runs @hostshim/linux-x64-gnu's launcher" ;;
	*) bad "check(): darwin and ia32 refused, linux x64 gnu runs @hostshim/linux-x64-gnu's launcher" "$(show)" ;;
esac

# ---- this machine: installed and used -------------------------------------
install
if [ "$rc" = 0 ] && [ "$installed" = "$here_pkg" ]; then
	ok "npm i hostshim: npm picks @hostshim/$here_pkg alone for this machine"
else
	bad "npm i hostshim: npm picks @hostshim/$here_pkg alone for this machine" "installed: [$installed]
$(show)"
fi
run npx hostshim --version
if [ "$rc" = 0 ] && [ "$out" = "hostshim $version" ]; then
	ok "npx hostshim --version says 'hostshim $version'"
else
	bad "npx hostshim --version says 'hostshim $version'" "$(show)"
fi

cat >"$work/listen.py" <<'PY'
import http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        b = ("listener=127.0.0.1:9000 host=%s\n" % self.headers.get("Host")).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 9000), H)
print("ready", flush=True)
s.serve_forever()
PY
python3 "$work/listen.py" >"$work/listen.out" 2>&1 &
server=$!
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	grep -q ready "$work/listen.out" && break
	sleep 0.1
done
FETCH="fetch('http://auth.localhost/').then(r => r.text()).then(t => process.stdout.write(t), e => { console.error(String(e.cause || e)); process.exit(1) })"
WANT="listener=127.0.0.1:9000 host=auth.localhost"
run node -e "$FETCH"
case $rc:$out in
	0:*"$WANT"*) bad "without hostshim, node's fetch of auth.localhost does not reach 127.0.0.1:9000" "$(show)" ;;
	*) ok "without hostshim, node's fetch of auth.localhost does not reach 127.0.0.1:9000" ;;
esac
run npx hostshim --log=info -m auth.localhost=127.0.0.1:9000 -- node -e "$FETCH"
case $rc:$out:$err in
	0:*"$WANT"*:*"auth.localhost:80 -> 127.0.0.1:9000"*)
		ok "npx hostshim -m auth.localhost=127.0.0.1:9000 -- node -e fetch(...): reaches it, said at info" ;;
	*) bad "npx hostshim -m auth.localhost=127.0.0.1:9000 -- node -e fetch(...): reaches it, said at info" "$(show)" ;;
esac
printf '%s\n' "$out" | sed 's/^/info stdout: /'
printf '%s\n' "$err" | sed 's/^/info stderr: /'
# The platform package's supervisor, as for Go and static programs.
run npx hostshim --supervise -m auth.localhost=127.0.0.1:9000 -- node -e "$FETCH"
case $rc:$out in
	0:*"$WANT"*) ok "npx hostshim --supervise -m auth.localhost=127.0.0.1:9000 -- node -e fetch(...): reaches it" ;;
	*) bad "npx hostshim --supervise -m auth.localhost=127.0.0.1:9000 -- node -e fetch(...): reaches it" "$(show)" ;;
esac
# The exit status of the command comes through the wrapper.
run npx hostshim -m auth.localhost=127.0.0.1:9000 -- sh -c 'exit 7'
if [ "$rc" = 7 ]; then ok "the command's exit status (7) comes through"; else bad "the command's exit status (7) comes through" "$(show)"; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
