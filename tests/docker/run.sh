#!/usr/bin/env bash
# make docker: the example (examples/nextjs-authentik) built and run by
# Docker itself, as a user runs it: Debian's docker.io 20.10 and
# docker-compose 1.29, a daemon of the leg's own (mk/dockerd.sh), the
# example's Dockerfiles and compose file as they are, plus ONE override
# (tests/docker/compose.override.yml) replacing what can't be had here
# (Authentik's server, worker and PostgreSQL: the e2e's OIDC provider serves
# Authentik's paths as server:9000). Chromium on this machine signs in
# through the proxy's port, published on 127.0.0.1.
#
# Then the conditions a compose user meets, each a check: the API (Go,
# supervised, Docker's default seccomp profile and capabilities) with the
# sign-in's ID token and a forged one; the stack without the library; the
# provider recreated at a new address; two replicas with one stopped;
# HTTP_PORT=8080; the app as root; the development override with shim.ini
# edited from here while the stack runs; the Kubernetes mechanics (an init
# container's copy from the tools image, a ConfigMap's ..data swap).
#
# Needs root, what .ci/install-image-deps and .ci/install-deps install
# (docker.io, docker-compose, mmdebstrap, chromium, the e2e's npm packages).
# Everything it starts is removed on every way out: containers, networks,
# volumes, the daemon. Prints "N passed, N failed" last.
set -uo pipefail
repo=${DOCKER_LEG_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$repo" || exit 1
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
export DOCKER_HOST="unix://$repo/build/docker/docker.sock"
export DOCKER_BUILDKIT=1 COMPOSE_DOCKER_CLI_BUILD=1
ex=examples/nextjs-authentik
out=build/docker/leg
mkdir -p "$out"
T0=$(date +%s)
lap() { echo "docker: $1 ($(($(date +%s) - T0)) s so far)"; }
passed=0
failed=0
failures=()
# Every check below, counted: a check that didn't run (an early exit, or a
# signal landing while bash expands a $(...), which can skip the command
# around it) is a failure too.
expected=14
pass() { passed=$((passed + 1)); echo "PASS docker: $*"; }
fail() { failed=$((failed + 1)); failures+=("$*"); echo "FAIL docker: $*"; }

project=hostshim-docker
C() {
	docker-compose -p "$project" --env-file "$out/env" -f "$ex/docker-compose.yml" \
		-f tests/docker/compose.override.yml "$@"
}

cleanup() {
	rc=$?
	trap - EXIT INT TERM HUP
	if [ -f "$out/shim.ini.orig" ]; then
		cat "$out/shim.ini.orig" >"$ex/shim.ini.restore" && mv -f "$ex/shim.ini.restore" "$ex/shim.ini"
		chown "$(stat -c %u:%g "$out/shim.ini.orig")" "$ex/shim.ini" 2>/dev/null
		chmod "$(stat -c %a "$out/shim.ini.orig")" "$ex/shim.ini"
		rm -f "$out/shim.ini.orig"
	fi
	if sh mk/dockerd.sh status >/dev/null 2>&1; then
		C logs --no-color -t >"$out/stack.log" 2>&1
		C -f "$ex/docker-compose.dev.yml" down -v --remove-orphans -t 3 >"$out/down.log" 2>&1 || tail -n 5 "$out/down.log"
	fi
	sh mk/dockerd.sh stop
	left=$(ip -o link 2>/dev/null | grep -c ' br-' || true)
	lap "cleaned up (daemon stopped; bridges left on the host: $left)"
	if [ $((passed + failed)) -ne "$expected" ]; then
		fail "$((passed + failed)) of $expected checks ran"
	fi
	if [ ${#failures[@]} -gt 0 ]; then
		echo "docker: failed:"
		printf '  %s\n' "${failures[@]}"
	fi
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ] && [ "$rc" -eq 0 ] || exit 1
	exit 0
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

sh mk/dockerd.sh start || { fail "dockerd did not start (build/docker/dockerd.log)"; exit 1; }
docker version --format 'docker: client {{.Client.Version}}, server {{.Server.Version}}'
echo "docker: $(docker-compose version --short 2>/dev/null | sed 's/^/docker-compose /')"
docker info --format 'docker: security options {{.SecurityOptions}}, cgroup {{.CgroupVersion}}, storage {{.Driver}}'

# shellcheck source=tests/docker/images.sh
. tests/docker/images.sh
if ! { image_debian && image_node && image_nginx && image_tools && image_provider; }; then
	fail "stand-in images (see above)"
	exit 1
fi

# The user's .env: the example's, with secrets made up.
rnd() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
sed -e "s/^PG_PASS=.*/PG_PASS=$(rnd)/" \
	-e "s/^AUTHENTIK_SECRET_KEY=.*/AUTHENTIK_SECRET_KEY=$(rnd)$(rnd)/" \
	-e "s/^AUTHENTIK_BOOTSTRAP_PASSWORD=.*/AUTHENTIK_BOOTSTRAP_PASSWORD=$(rnd)/" \
	-e "s/^AUTHENTIK_CLIENT_SECRET=.*/AUTHENTIK_CLIENT_SECRET=$(rnd)/" \
	-e "s/^NEXTAUTH_SECRET=.*/NEXTAUTH_SECRET=$(rnd)/" "$ex/.env.example" >"$out/env"
SIGNING_KEY=$(openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 2>/dev/null)
COOKIE_KEY=$(rnd)
export SIGNING_KEY COOKIE_KEY
unset HTTP_PORT AUTH_URL APP_URL

# --- the example's Dockerfiles, as they are, built by compose (BuildKit)
if C build >"$out/build.log" 2>&1; then
	pass "docker-compose build: $ex/Dockerfile and Dockerfile.api as written (BuildKit, no syntax line, COPY --from=$(sed -n 's/^# image: //p' dist/tools.Dockerfile))"
else
	tail -n 30 "$out/build.log"
	fail "docker-compose build (log: $out/build.log)"
	exit 1
fi
lap "built app and api"

# --- helpers
port=80
# wait_app: the app answers through the proxy.
wait_app() {
	local _ code
	for _ in $(seq 1 $((${1:-60} * 2))); do
		code=$(curl -s -o /dev/null -m 3 -w '%{http_code}' -H "Host: app.localhost:$port" "http://127.0.0.1:$port/" 2>/dev/null)
		[ "$code" = 200 ] && return 0
		sleep 0.5
	done
	echo "docker: the app did not answer 200 through the proxy (last: $code)"
	return 1
}
# shellcheck disable=SC2016 # JavaScript template strings
# signin NAME: Chromium on this machine, through the proxy; result in $out/NAME.json.
signin() {
	local t0=$SECONDS
	local url=http://app.localhost/
	[ "$port" = 80 ] || url="http://app.localhost:$port/"
	(cd tests/e2e && node browser.mjs --url "$url" --proxy 127.0.0.1 --names app.localhost,auth.localhost \
		--shot "$repo/$out/$1.png" --timeout 60 --session 1) >"$out/$1.json" 2>"$out/$1.browser.log"
	echo "docker: $1: $(node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1])); console.log(`${r.outcome}, ${JSON.stringify(r.status)}, api ${JSON.stringify(r.api)}, at ${r.url}${r.error ? `, error ${JSON.stringify(r.error)}` : ""}`)' "$out/$1.json" 2>/dev/null) ($((SECONDS - t0)) s)"
}
field() { node -e 'let v = JSON.parse(require("fs").readFileSync(process.argv[1])); for (const k of process.argv[2].split(".")) v = v == null ? v : v[k]; process.stdout.write(v == null ? "" : String(v))' "$out/$1.json" "$2" 2>/dev/null; }
signed_in() { [ "$(field "$1" outcome)" = signed-in ] && [ "$(field "$1" user.name)" = "Alice Admin" ]; }
api_ok() { case $(field "$1" api) in "200 "*'"iss":"'"$2"'"'*) return 0 ;; esac; return 1; }
cid() { C ps -q "$1" | head -n 1; }
started() { docker inspect --format '{{.State.StartedAt}}' "$(cid "$1")"; }
ips_of() { docker inspect --format '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$1"; }
ips() { local c; for c in $(C ps -q "$1"); do ips_of "$c"; done | tr '\n' ' ' | sed 's/ $//'; }
net() { docker network ls --filter "name=${project}_default" -q | head -n 1; }
# onnet CMD...: node in the provider image, on the compose network.
onnet() { docker run --rm --network "$(net)" hostshim-test/provider "$@" 2> >(grep -v '^WARNING: IPv4 forwarding' >&2); }
# logs SERVICE: its containers' output, without compose's "name_1 | " prefix
logs() { C logs --no-color "$@" 2>&1 | sed 's/^[^ ]*_[0-9]* *| //'; }
# newlog SERVICE MARK: the service's log since line MARK
mark() { logs "$1" | wc -l; }
since() { logs "$1" | tail -n +"$(($2 + 1))"; }
iss=http://auth.localhost/application/o/nextjs/

# --- the stack, and a sign-in
if ! C up -d >"$out/up.log" 2>&1 || ! wait_app; then
	tail -n 20 "$out/up.log"
	logs | tail -n 30
	fail "docker-compose up"
	exit 1
fi
lap "stack up: $(C ps --services | tr '\n' ' ')"
docker inspect --format 'docker: api container: user {{.Config.User}}, seccomp {{.HostConfig.SecurityOpt}}, cap_add {{.HostConfig.CapAdd}}, privileged {{.HostConfig.Privileged}}' "$(cid api)"

signin main
if signed_in main; then
	pass "sign-in: Chromium through the proxy on 127.0.0.1:80, signed in as Alice Admin"
else
	fail "sign-in: $(field main outcome) $(field main error)"
fi
redirect=$(logs app | grep -o 'hostshim: auth.localhost:80 -> server:9000.*' | head -n 1)
token_req=$(logs server | grep -c 'POST auth.localhost /application/o/token/')
if [ -n "$redirect" ] && [ "$token_req" -ge 1 ]; then
	pass "the app's server side reached the provider by the public name: '$redirect'; token request with Host auth.localhost"
else
	fail "the app's redirect line ('$redirect') or the provider's token request (count $token_req)"
fi
echo "docker: the page's API answer for the session's ID token: $(field main api)"
echo "docker: api log: $(logs api | grep -o 'hostshim.*' | head -n 3 | tr '\n' '|')"

# A forged token: the sign-in's claims, signed by a key of our own under
# the provider's key ID; and the real token with its payload altered.
forge='
const crypto = require("crypto");
const [real, iss, aud] = process.argv.slice(1);
const b = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
const now = Math.floor(Date.now() / 1000);
const claims = real ? JSON.parse(Buffer.from(real.split(".")[1], "base64url")) : { sub: "akadmin", iss, aud, iat: now, exp: now + 600 };
const { privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
const head = b({ alg: "RS256", kid: "e2e-rs256", typ: "JWT" });
const body = b({ ...claims, sub: "mallory" });
const signed = head + "." + body + "." + crypto.sign("sha256", Buffer.from(head + "." + body), privateKey).toString("base64url");
const tampered = real ? real.split(".")[0] + "." + body + "." + real.split(".")[2] : "";
const ask = async (t) => { const r = await fetch("http://api:8000/me", { headers: { authorization: "Bearer " + t } }); return r.status + " " + (await r.text()).trim(); };
(async () => {
  const [a, b, c] = await Promise.all([real ? ask(real) : "none", ask(signed), tampered ? ask(tampered) : ""]);
  console.log("real: " + a);
  console.log("forged: " + b);
  if (tampered) console.log("tampered: " + c);
})().catch((e) => { console.log("error: " + e.message); process.exit(1); });
'
idt=$(field main idToken)
onnet node -e "$forge" "$idt" "$iss" nextjs >"$out/forged.txt" 2>&1
sed 's/^/docker: API: /' "$out/forged.txt"
if grep -q '^real: 200 ' "$out/forged.txt" && grep -q '^forged: 401 .*bad signature' "$out/forged.txt" &&
	grep -q '^tampered: 401 .*bad signature' "$out/forged.txt" && api_ok main "$iss"; then
	pass "the API (Go, hostshim --supervise, USER nobody, Docker's default seccomp profile and capabilities) accepts the sign-in's ID token by the public issuer and refuses a forged one (foreign key) and a tampered one: 401 bad signature"
else
	# Until branch "supervise" is merged, the supervisor can't read the
	# program's memory under Docker's default profile (process_vm_readv
	# refused) and redirects nothing: Go's lookup of auth.localhost times out.
	fail "the API (supervised, default seccomp profile) with real/forged/tampered tokens: $(tr '\n' '|' <"$out/forged.txt")"
	logs api | grep -v -e ' rejected: ' -e ' accepted: ' | tail -n 5 | sed 's/^/    /'
fi
lap "sign-in and API"

# --- the control: the same stack without the library (and the API without
# the supervisor). What a user sees.
m_app=$(mark app)
C -f tests/docker/control.override.yml up -d app api >"$out/control-up.log" 2>&1 && wait_app
signin control
eai=$(since app "$m_app" | grep -m 1 -o '.*EAI_AGAIN auth.localhost.*')
since app "$m_app" | grep -i -m 3 -e error -e EAI | sed 's/^/docker: control app log: /'
if [ "$(field control outcome)" != signed-in ] && [ -n "$eai" ]; then
	pass "control without LD_PRELOAD: no sign-in ($(field control url)); the app logs: $eai"
else
	fail "control without LD_PRELOAD: $(field control outcome), EAI_AGAIN line: '$eai'"
fi
onnet node -e "$forge" "$idt" "$iss" nextjs >"$out/control-api.txt" 2>&1
sed 's/^/docker: control API: /' "$out/control-api.txt"
if grep -q '^real: 401 .*auth.localhost' "$out/control-api.txt"; then
	pass "control: the API without the supervisor refuses the real token: $(grep '^real:' "$out/control-api.txt")"
else
	fail "control: the API without the supervisor: $(tr '\n' '|' <"$out/control-api.txt")"
fi
if ! { C up -d app api >>"$out/control-up.log" 2>&1 && wait_app; }; then
	fail "back to the stack with hostshim"
fi
lap "control"

# --- the provider recreated at a new address: nothing else restarted
app0=$(started app)
proxy0=$(started proxy)
api0=$(started api)
old_ip=$(ips server)
# Stopped, removed, started again: Docker hands out the lowest free
# address, so a placeholder takes the old one first (as another container
# would on a busy host) and the new provider gets a new one.
C rm -s -f server >"$out/recreate.log" 2>&1
docker run -d --name "${project}_placeholder" --network "$(net)" debian:12-slim sleep 600 >/dev/null 2>&1
C up -d --no-deps server >>"$out/recreate.log" 2>&1
docker rm -f "${project}_placeholder" >/dev/null 2>&1
new_ip=$(ips server)
signin recreated
echo "docker: provider moved from $old_ip to $new_ip"
if signed_in recreated && [ "$old_ip" != "$new_ip" ] &&
	[ "$(started app)$(started proxy)$(started api)" = "$app0$proxy0$api0" ]; then
	pass "provider recreated ($old_ip-> $new_ip), app, proxy and API not restarted: signed in; API: $(field recreated api | head -c 40)"
else
	fail "provider recreated ($old_ip-> $new_ip): $(field recreated outcome) $(field recreated error), API $(field recreated api), restarts: $([ "$(started app)$(started proxy)$(started api)" = "$app0$proxy0$api0" ] && echo none || echo some)"
fi
logs app | grep -o 'hostshim: auth.localhost:80 -> .*' | sed 's/^/docker: app log: /' | tail -n 3

# --- two replicas, one stopped
C up -d --no-deps --scale server=2 server >"$out/scale.log" 2>&1
both=$(ips server)
# Stop the replica the app and the proxy have been using.
for c in $(C ps -q server); do
	[ "$(ips_of "$c")" = "$new_ip" ] && docker stop -t 2 "$c" >/dev/null && echo "docker: stopped the replica at $new_ip"
done
t0=$SECONDS
signin scaled
took=$((SECONDS - t0))
if signed_in scaled && [ "$(started app)$(started proxy)$(started api)" = "$app0$proxy0$api0" ]; then
	pass "two replicas ($both), one stopped: signed in in $took s, nothing restarted; API: $(field scaled api | head -c 40)"
else
	fail "two replicas ($both), one stopped: $(field scaled outcome) $(field scaled error) in $took s, API $(field scaled api)"
fi
C up -d --no-deps --scale server=1 server >>"$out/scale.log" 2>&1
lap "provider moved, replicas"

# --- development: shim.ini from the checkout, edited while the stack runs
cp -p "$ex/shim.ini" "$out/shim.ini.orig"
# edit SEDEXPR: as an editor saves, a new file renamed over the old one
edit() {
	sed "$1" "$out/shim.ini.orig" >"$ex/.shim.ini.edit"
	chmod 644 "$ex/.shim.ini.edit"
	mv -f "$ex/.shim.ini.edit" "$ex/shim.ini"
}
DEV() { C -f "$ex/docker-compose.dev.yml" "$@"; }
DEV up -d app >"$out/dev.log" 2>&1 && wait_app
dev_started=$(started app)
echo "docker: dev: $(docker inspect --format '{{range .Mounts}}{{.Source}} -> {{.Destination}} {{.Mode}} {{end}}' "$(cid app)")"
echo "docker: dev: shim.ini $(stat -c '%U %a' "$ex/shim.ini"), its directory $(stat -c '%U %a' "$ex")"
m_app=$(mark app)
edit 's/^auth.localhost = server:9000$/auth.localhost = server:9001/'
sleep 2
signin dev1
since app "$m_app" >"$out/dev1-app.log"
dev1_log=$(grep -m 1 -o -e '.*9001.*' -e '.*ECONNREFUSED.*' "$out/dev1-app.log")
m_app=$(mark app)
edit 's/^$/&/'
sleep 2
signin dev2
dev2_log=$(since app "$m_app" | grep -m 1 -o 'hostshim: auth.localhost.*server:9000.*')
echo "docker: dev: after the edit to server:9001: $(field dev1 outcome), app log: $dev1_log"
echo "docker: dev: after the edit back: $(field dev2 outcome), app log: $dev2_log"
if [ "$(field dev1 outcome)" != signed-in ] && [ -n "$dev1_log" ] && signed_in dev2 &&
	[ "$(started app)" = "$dev_started" ]; then
	pass "dev override: shim.ini edited from the host while running (a new file renamed over it, as editors save), no restart; the next sign-in follows each edit: to server:9001 refused ($dev1_log), back to server:9000 signed in"
else
	fail "dev override: to 9001 $(field dev1 outcome) ('$dev1_log'), back $(field dev2 outcome), restarted: $([ "$(started app)" = "$dev_started" ] && echo no || echo yes)"
fi

# --- the app as root (the image's USER is node), with the development
# mount: as root the library takes shim.ini only if it is owned by root
# (or the running user) and not writable by group or others, nor its
# directory. A user's checkout is owned by the user: uid 1000 stands in.
DEV -f tests/docker/root.override.yml up -d app >>"$out/dev.log" 2>&1 && wait_app
uid=$(docker exec "$(cid app)" id -u 2>&1)
signin root
if [ "$uid" = 0 ] && signed_in root; then
	pass "the app as root (uid $uid), shim.ini owned by root, 644, directory 755: signed in"
else
	fail "the app as root (uid $uid): $(field root outcome) $(field root error)"
fi
m_app=$(mark app)
chown 1000 "$ex/shim.ini"
docker restart -t 3 "$(cid app)" >/dev/null
wait_app 20
docker inspect --format 'docker: as root after the chown: app {{.State.Status}}, restarts {{.RestartCount}}, exit {{.State.ExitCode}}' "$(cid app)"
signin devroot1
trust_log=$(since app "$m_app" | grep -m 1 -o 'hostshim: .*owned by.*')
chown "$(stat -c %u "$out/shim.ini.orig")" "$ex/shim.ini"
echo "docker: as root, shim.ini owned by uid 1000, app restarted: $(field devroot1 outcome); app log: $trust_log"
if [ "$(field devroot1 outcome)" != signed-in ] && [ -n "$trust_log" ]; then
	pass "as root, a shim.ini owned by another uid is refused at start, as the trust rule says: '$trust_log'"
else
	fail "as root, shim.ini owned by uid 1000: $(field devroot1 outcome) ('$trust_log')"
fi
C up -d app >>"$out/dev.log" 2>&1 && wait_app
[ "$(docker exec "$(cid app)" id -un 2>&1)" = node ] && echo "docker: the app back as its image's USER node, shim.ini from the image"
lap "development override, root"

# --- Kubernetes' mechanics, with the same images (examples/kubernetes/):
# the manifests validated offline against the API's types; the init
# container's copy from the tools image into a shared volume; the app's
# image with LD_PRELOAD pointing into that volume and the rules in a
# ConfigMap-style directory, updated as the kubelet does (a new
# ..<timestamp> directory, the ..data symlink swapped by a rename): the
# running process follows each swap.
if /usr/bin/python3 tests/kubernetes/validate.py examples/kubernetes/*.yaml >"$out/k8s-validate.txt" 2>&1; then
	pass "examples/kubernetes: $(grep -c '^valid:' "$out/k8s-validate.txt") objects valid against the Kubernetes API's types (python3-kubernetes $(/usr/bin/python3 -c 'import kubernetes; print(kubernetes.__version__)'), unknown fields refused)"
else
	fail "examples/kubernetes: $(tr '\n' '|' <"$out/k8s-validate.txt")"
fi
tools=$(sed -n 's/^# image: //p' dist/tools.Dockerfile | head -n 1)
init=$(sed -n 's/^ *command: \(\["\/bin\/busybox".*\]\)$/\1/p' examples/kubernetes/app.yaml | head -n 1)
cm=$repo/$out/configmap
rm -rf "$cm" && mkdir -p "$cm"
# cm_version N TARGET: the kubelet's layout, ..data pointing at version N
cm_version() {
	mkdir -p "$cm/..v$1"
	sed "s/^\( *\)auth.localhost = .*/\1auth.localhost = $2/" examples/kubernetes/shim-configmap.yaml |
		/usr/bin/python3 -c 'import sys, yaml; sys.stdout.write(yaml.safe_load(sys.stdin)["data"]["shim.ini"])' >"$cm/..v$1/shim.ini"
	chmod 644 "$cm/..v$1/shim.ini"
	ln -sfn "..v$1" "$cm/..data_tmp" && mv -T "$cm/..data_tmp" "$cm/..data"
	ln -sfn ..data/shim.ini "$cm/shim.ini"
}
cm_version 1 server:9000
docker volume create "${project}_k8s_hostshim" >/dev/null
# the init container: the tools image, its command from the manifest
eval "set -- $(printf '%s' "$init" | tr -d '[],')"
# an emptyDir is 0777 (any pod user writes it); a fresh Docker volume is root's 0755
docker run --rm --network none -v "${project}_k8s_hostshim:/hostshim" "$tools" /bin/busybox chmod 777 /hostshim 2>/dev/null
docker run --rm --network none --user 65534 --cap-drop ALL -v "${project}_k8s_hostshim:/hostshim" "$tools" "$@" >"$out/k8s-init.log" 2>&1
copied=$(docker run --rm --network none -v "${project}_k8s_hostshim:/v:ro" "$tools" /bin/busybox find /v -type f | sort | tr '\n' ' ')
echo "docker: k8s: init container ($init) copied: $copied"
# A new connection each time (agent: false): a kept-alive one would stay
# with the old target, as it should.
probe='
const http = require("http");
const url = "http://auth.localhost/application/o/nextjs/.well-known/openid-configuration";
setInterval(() => {
  const req = http.get(url, { agent: false, timeout: 3000 }, (r) => {
    let body = "";
    r.on("data", (c) => (body += c));
    r.on("end", () => { try { console.log("ok", r.statusCode, JSON.parse(body).issuer); } catch (e) { console.log("err", e.message); } });
  });
  req.on("timeout", () => req.destroy(new Error("timeout")));
  req.on("error", (e) => console.log("err", e.code || e.message));
}, 500);
'
k8s_app=${project}_k8s_app
docker run -d --name "$k8s_app" --network "$(net)" --user 1000 --cap-drop ALL --security-opt no-new-privileges \
	-v "${project}_k8s_hostshim:/opt/hostshim:ro" -v "$cm:/etc/hostshim:ro" \
	-e LD_PRELOAD=/opt/hostshim/lib/hostshim/libhostshim.so -e HOSTSHIM_CONFIG=/etc/hostshim/shim.ini \
	--entrypoint node "$(C images -q app | head -n 1)" -e "$probe" >/dev/null 2>&1
# wait_line PATTERN: a line of the probe's output, since the last mark
k8s_mark=0
# (The log goes to a file first: with pipefail, `docker logs | grep -q`
# fails when grep stops reading early.)
wait_line() {
	local _ found=1
	for _ in $(seq 1 40); do
		docker logs "$k8s_app" >"$out/k8s-probe.log" 2>&1
		if tail -n +"$((k8s_mark + 1))" "$out/k8s-probe.log" | grep -- "$1" >/dev/null; then
			found=0
			break
		fi
		sleep 0.5
	done
	k8s_mark=$(wc -l <"$out/k8s-probe.log")
	return $found
}
k1=no k2=no k3=no
wait_line '^ok 200 http://auth.localhost/' && k1=yes
cm_version 2 server:9001
rm -rf "$cm/..v1"
wait_line '^err ECONNREFUSED' && k2=yes
cm_version 3 server:9000
rm -rf "$cm/..v2"
wait_line '^ok 200 http://auth.localhost/' && k3=yes
docker logs "$k8s_app" >"$out/k8s-app.log" 2>&1
grep '^hostshim' "$out/k8s-app.log" | sort -u | sed 's/^/docker: k8s: app log: /'
docker rm -f "$k8s_app" >/dev/null 2>&1
docker volume rm "${project}_k8s_hostshim" >/dev/null 2>&1
if [ -n "$copied" ] && [ $k1$k2$k3 = yesyesyes ]; then
	pass "k8s mechanics: the init container's copy from $tools into a shared volume; LD_PRELOAD into it as uid 1000, no capabilities; the rules in a ConfigMap directory, ..data swapped to server:9001 then back: the running process followed both (ok, ECONNREFUSED, ok)"
else
	fail "k8s mechanics: copied '$copied'; start $k1, swap to 9001 $k2, swap back $k3"
	tail -n 5 "$out/k8s-app.log"
fi
lap "kubernetes mechanics"

# --- HTTP_PORT=8080, the public URLs with it (as .env.example says)
export HTTP_PORT=8080 AUTH_URL=http://auth.localhost:8080 APP_URL=http://app.localhost:8080
port=8080
C up -d >"$out/8080.log" 2>&1 && wait_app
signin p8080
r8080=$(logs app | grep -m 1 -o 'hostshim: auth.localhost:8080 -> server:9000.*')
if signed_in p8080 && [ -n "$r8080" ]; then
	pass "HTTP_PORT=8080: signed in through 127.0.0.1:8080; '$r8080'; API: $(field p8080 api | head -c 60)"
else
	fail "HTTP_PORT=8080: $(field p8080 outcome) $(field p8080 error) ('$r8080')"
fi
lap "HTTP_PORT=8080"
