#!/usr/bin/env bash
# shellcheck disable=SC2317 # functions run from traps
# hostshim end to end: the docker-compose scenario without Docker.
#
#   sudo tests/e2e/run.sh            (from the repository root, as root)
#
# Network namespaces stand in for the containers, joined by a bridge that
# lives in a namespace of its own (nothing is connected to the host's
# network; addresses 10.203.0.0/24 exist only inside these namespaces):
#
#   server  10.203.0.2  oidc-provider on :9000, issuer built from the Host header
#   web     10.203.0.3  next start: NextAuth v4 app on :3000 (Auth.js v5 app on :3001)
#                       auth.localhost -> 127.0.0.1 here (nothing listens), server -> 10.203.0.2
#   proxy   10.203.0.4  reverse proxy on :80 by Host: auth.localhost -> server:9000,
#                       app.localhost -> web:3000, app5.localhost -> web:3001
#   browser 10.203.0.5  chromium (playwright-core); --host-resolver-rules map the
#                       public names to the proxy, like a published port 80
#
# Cases, for each app: the web server without the library (sign-in must fail,
# with ECONNREFUSED in the server log), with LD_PRELOAD + HOSTSHIM_CONFIG in
# its environment (must sign in), and through the launcher (must sign in).
#
# Environment: HOSTSHIM_LIB (default build/libhostshim.so), HOSTSHIM_LAUNCHER
# (default build/hostshim), E2E_OUT (default build/e2e), E2E_V5=0 to skip the
# Auth.js v5 app. Needs: root, iproute2, chromium, node >= 20, and
# `npm ci` done in tests/e2e. Installs nothing.
set -u -o pipefail

T0=$(date +%s)
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
E2E=$ROOT/tests/e2e
OUT=${E2E_OUT:-build/e2e}
mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd)
abspath() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$ROOT/$1" ;; esac; }
LIB=$(abspath "${HOSTSHIM_LIB:-build/libhostshim.so}")
LAUNCHER=$(abspath "${HOSTSHIM_LAUNCHER:-build/hostshim}")
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
unset LD_PRELOAD HOSTSHIM_CONFIG HOSTSHIM_MAP HOSTSHIM_LOG HOSTSHIM_STRICT

PASSED=0 FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "PASS e2e: $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL e2e: $*"; }
say() { echo "e2e: $*" >&2; }
finish() {
  echo "e2e: total run time $(($(date +%s) - T0)) s; output in $OUT"
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
  exit
}

# ---------------------------------------------------------------- the examples
# No Docker engine here: check what can be checked without one.
EX=examples/nextjs-authentik
if ! command -v docker-compose >/dev/null; then
  fail "examples: $EX/docker-compose.yml: docker-compose not installed (apt-get install docker-compose)"
elif out=$(cd "$EX" && timeout 60 docker-compose --env-file .env.example -f docker-compose.yml config -q 2>&1) &&
  out2=$(cd "$EX" && APP_DOCKERFILE=Dockerfile.alpine timeout 60 docker-compose --env-file .env.example -f docker-compose.yml config 2>&1 | grep -c 'dockerfile: examples/nextjs-authentik/Dockerfile.alpine'); then
  pass "examples: $EX/docker-compose.yml is valid (docker-compose config -q)"
else
  fail "examples: $EX/docker-compose.yml: docker-compose config: ${out:-}${out2:-}"
fi
# One place for the public URLs: .env's HTTP_PORT, AUTH_URL and APP_URL
# reach NEXTAUTH_URL, the issuer, the blueprint's redirect URI and the
# published port; the proxy passes the Host header on with its port.
if command -v docker-compose >/dev/null; then
  sed -e 's/^HTTP_PORT=.*/HTTP_PORT=8080/' -e 's|^AUTH_URL=.*|AUTH_URL=http://auth.localhost:8080|' \
    -e 's|^APP_URL=.*|APP_URL=http://app.localhost:8080|' "$EX/.env.example" >"$OUT/env-8080"
  cfg=$(cd "$EX" && timeout 60 docker-compose --env-file "$OUT/env-8080" -f docker-compose.yml config 2>&1)
  bad=
  for want in 'NEXTAUTH_URL: http://app.localhost:8080' 'AUTHENTIK_ISSUER: http://auth.localhost:8080/application/o/nextjs/' \
    'NEXTJS_REDIRECT_URI: http://app.localhost:8080/api/auth/callback/authentik' '127.0.0.1:8080:80'; do
    grep -qF "$want" <<<"$cfg" || bad="$bad [$want]"
  done
  # shellcheck disable=SC2016 # a literal $host
  grep -q 'proxy_set_header Host \$host;' "$EX/proxy/default.conf" && bad="$bad [proxy drops the port: \$host]"
  grep -q 'url: !Env \[NEXTJS_REDIRECT_URI' "$EX/authentik/blueprints/nextjs.yaml" || bad="$bad [blueprint redirect URI not from .env]"
  if [ -z "$bad" ]; then
    pass "examples: HTTP_PORT=8080 in .env moves every public URL (NEXTAUTH_URL, issuer, redirect URI, port)"
  else
    fail "examples: HTTP_PORT=8080 in .env: missing$bad"
  fi
fi
bad=
for df in "$EX/Dockerfile" "$EX/Dockerfile.alpine"; do
  # every COPY from the build context (the repository root) names a path that exists
  while read -r src; do
    [ -e "$src" ] || bad="$bad $df:$src"
  done < <(awk '$1 == "COPY" && $0 !~ /--from=/ { for (i = 2; i < NF; i++) if ($i !~ /^--/) print $i }' "$df")
  # the glibc build, or the musl one (musl/) for Dockerfile.alpine
  grep -Eq '^ENV LD_PRELOAD=/usr/local/lib/hostshim/(musl/)?libhostshim.so$' "$df" || bad="$bad $df:no-ENV-LD_PRELOAD"
  grep -q '^ENV HOSTSHIM_CONFIG=/etc/hostshim/shim.ini$' "$df" || bad="$bad $df:no-ENV-HOSTSHIM_CONFIG"
done
if [ -z "$bad" ]; then
  pass "examples: the Dockerfiles copy existing paths and preload the library"
else
  fail "examples: Dockerfile problems:$bad"
fi

# ---------------------------------------------------------------- prerequisites
missing=
[ "$(id -u)" = 0 ] || missing="$missing root"
command -v ip >/dev/null || missing="$missing iproute2(ip)"
command -v node >/dev/null || missing="$missing node"
command -v setsid >/dev/null || missing="$missing setsid"
[ -x "$CHROMIUM" ] || missing="$missing chromium($CHROMIUM)"
[ -d "$E2E/node_modules/next" ] && [ -d "$E2E/node_modules/playwright-core" ] && [ -d "$E2E/node_modules/oidc-provider" ] ||
  missing="$missing node_modules(cd tests/e2e && npm ci)"
if [ -n "$missing" ]; then
  fail "prerequisites missing:$missing"
  finish
fi
V5=${E2E_V5:-1}
# the Auth.js v5 app runs when next-auth@5 installed (npm nests it under app-v5/)
grep -qs '"version": "5\.' "$E2E/app-v5/node_modules/next-auth/package.json" || V5=0

# ---------------------------------------------------------------- cleanup
TAG=hse2e$$
NS_HUB=$TAG-hub NS_SERVER=$TAG-server NS_WEB=$TAG-web NS_PROXY=$TAG-proxy NS_BROWSER=$TAG-browser NS_API=$TAG-api
ALL_NS=("$NS_HUB" "$NS_SERVER" "$NS_WEB" "$NS_PROXY" "$NS_BROWSER" "$NS_API")
PIDS=()
TMP=$(mktemp -d /tmp/hostshim-e2e.XXXXXX)

stop_pid() { # stop what start_bg started (a session of its own, led by PID), bounded
  local pid=$1 left
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  fi
  # children that outlived the leader are still in its session
  left=$(ps -o pid= -s "$pid" 2>/dev/null)
  # shellcheck disable=SC2086 # a list of PIDs, split on purpose
  [ -z "$left" ] || kill -KILL $left 2>/dev/null
  return 0
}
cleanup() {
  trap - EXIT INT TERM HUP
  local pid ns
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  for ns in "${ALL_NS[@]}"; do
    ip netns pids "$ns" 2>/dev/null | while read -r pid; do kill -KILL "$pid" 2>/dev/null; done
    ip netns delete "$ns" 2>/dev/null
    rm -rf "/etc/netns/$ns"
  done
  rm -rf "$TMP"
}
trap cleanup EXIT
# namespaces left by an earlier run of this script that was killed outright
# (named hse2e<PID>-...; its PID is gone and nothing runs in them any more)
for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^hse2e[0-9]+-[a-z]+$'); do
  pid=${ns#hse2e}
  pid=${pid%%-*}
  if ! kill -0 "$pid" 2>/dev/null && [ -z "$(ip netns pids "$ns" 2>/dev/null)" ]; then
    ip netns delete "$ns" 2>/dev/null && rm -rf "/etc/netns/$ns" && say "removed stale namespace $ns"
  fi
done
trap 'echo "e2e: interrupted" >&2; exit 130' INT TERM HUP

# start_bg NAME NS DIR LOG CMD...: run CMD in namespace NS, cwd DIR, in a
# process group of its own (so that stopping it stops its children), with a
# clean environment given by the caller through `env -i`.
start_bg() {
  local name=$1 ns=$2 dir=$3 log=$4
  shift 4
  (cd "$dir" && exec ip netns exec "$ns" setsid "$@" >"$log" 2>&1 </dev/null) &
  PIDS+=("$!")
  eval "PID_$name=$!"
}
forget_pid() {
  local p keep=()
  for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}
stop_bg() {
  local name=$1 pid
  eval "pid=\${PID_$name:-}"
  [ -n "$pid" ] || return 0
  stop_pid "$pid"
  forget_pid "$pid"
  eval "PID_$name="
}
# wait_port NAME NS IP PORT SECONDS: until something accepts, the process dies, or time runs out
wait_port() {
  local name=$1 ns=$2 ip=$3 port=$4 secs=$5 pid
  eval "pid=\${PID_$name:-}"
  for _ in $(seq $((secs * 4))); do
    if ip netns exec "$ns" timeout 2 bash -c "exec 3<>/dev/tcp/$ip/$port" 2>/dev/null; then return 0; fi
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then say "$name exited before listening on $ip:$port"; return 1; fi
    sleep 0.25
  done
  say "$name: nothing listens on $ip:$port after ${secs}s"
  return 1
}

# ---------------------------------------------------------------- build the apps
APPS=(v4)
[ "$V5" = 1 ] && APPS+=(v5)
# Each app runs the Next.js it depends on: app-v5 its own (npm nests a
# version that differs from the hoisted one under app-v5/node_modules).
next_bin() {
  if [ -x "$E2E/app-$1/node_modules/.bin/next" ]; then echo "$E2E/app-$1/node_modules/.bin/next"; else echo "$E2E/node_modules/.bin/next"; fi
}
build_app() { # rebuild when a source is newer than the last build
  local app=$1 dir=$E2E/app-$1
  if [ -f "$dir/.next/BUILD_ID" ] &&
    [ -z "$(find "$dir" -path "$dir/.next" -prune -o -path "$dir/node_modules" -prune -o -type f -newer "$dir/.next/BUILD_ID" -print -quit)" ] &&
    [ "$E2E/package-lock.json" -ot "$dir/.next/BUILD_ID" ]; then
    return 0
  fi
  say "next build app-$app"
  (cd "$dir" && env -i PATH="$PATH" HOME="$TMP" NEXT_TELEMETRY_DISABLED=1 timeout 300 "$(next_bin "$app")" build) \
    >"$OUT/build-$app.log" 2>&1
}
for app in "${APPS[@]}"; do
  case ${E2E_CASES:-} in image*) break ;; esac # the image brings its own build
  if ! build_app "$app"; then
    fail "$app: next build failed (see $OUT/build-$app.log)"
    tail -20 "$OUT/build-$app.log" >&2
    finish
  fi
done
# The Go API the v4 app calls with the ID token (pure Go, standard library).
API_BIN=
if ! command -v go >/dev/null; then
  say "go not installed (golang-go): the Go API checks will fail"
elif (env -i PATH="$PATH" HOME="$TMP" GOCACHE="$TMP/gocache" GO111MODULE=off CGO_ENABLED=0 \
  timeout 300 go build -o "$OUT/api" "$ROOT/examples/nextjs-authentik/api/main.go") >"$OUT/build-api.log" 2>&1; then
  API_BIN=$OUT/api
else
  say "go build of the API failed (see $OUT/build-api.log)"
fi

# ---------------------------------------------------------------- namespaces
NET=10.203.0
IP_SERVER=$NET.2 IP_WEB=$NET.3 IP_PROXY=$NET.4 IP_BROWSER=$NET.5 IP_API=$NET.6
netns_hosts() { # NS HOSTS-CONTENT
  mkdir -p "/etc/netns/$1"
  printf '%s\n' "$2" >"/etc/netns/$1/hosts"
  # no DNS server anywhere: unknown names fail at once, nothing leaves the namespace
  printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"/etc/netns/$1/resolv.conf"
}
setup_net() {
  ip netns add "$NS_HUB" || return 1
  ip -n "$NS_HUB" link set lo up &&
    ip -n "$NS_HUB" link add br0 type bridge &&
    ip -n "$NS_HUB" link set br0 up || return 1
  local ns addr port
  for spec in "$NS_SERVER $IP_SERVER p-server" "$NS_WEB $IP_WEB p-web" "$NS_PROXY $IP_PROXY p-proxy" "$NS_BROWSER $IP_BROWSER p-browser" "$NS_API $IP_API p-api"; do
    read -r ns addr port <<<"$spec"
    ip netns add "$ns" &&
      ip -n "$NS_HUB" link add "$port" type veth peer name eth0 netns "$ns" &&
      ip -n "$NS_HUB" link set "$port" master br0 up &&
      ip -n "$ns" link set lo up &&
      ip -n "$ns" addr add "$addr/24" dev eth0 &&
      ip -n "$ns" link set eth0 up || return 1
  done
  netns_hosts "$NS_SERVER" "127.0.0.1 localhost
$IP_SERVER server"
  netns_hosts "$NS_WEB" "127.0.0.1 localhost
127.0.0.1 auth.localhost app.localhost app5.localhost
$IP_SERVER server
$IP_WEB web
$IP_API api"
  # The Go API's container: auth.localhost is in no hosts file, and the
  # nameserver (127.0.0.1) answers nothing; Go asks it, and only the
  # supervisor's DNS stub can answer.
  netns_hosts "$NS_API" "127.0.0.1 localhost
$IP_SERVER server"
  netns_hosts "$NS_PROXY" "127.0.0.1 localhost
$IP_SERVER server
$IP_WEB web
$IP_PROXY proxy"
  netns_hosts "$NS_BROWSER" "127.0.0.1 localhost"
}
if ! setup_net; then
  fail "network namespaces could not be set up"
  finish
fi

# ---------------------------------------------------------------- provider and proxy
SLUG=e2e
ISSUER=http://auth.localhost/application/o/$SLUG/
CLIENT_ID=hostshim-e2e
CLIENT_SECRET=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
AUTH_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
CLIENTS='[{"client_id":"'$CLIENT_ID'","client_secret":"'$CLIENT_SECRET'","redirect_uris":["http://app.localhost/api/auth/callback/authentik","http://app5.localhost/api/auth/callback/authentik"]}]'
BASE_ENV=(env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$TMP" LANG=C.UTF-8 NODE_ENV=production NEXT_TELEMETRY_DISABLED=1)

start_bg provider "$NS_SERVER" "$E2E" "$OUT/provider.log" \
  "${BASE_ENV[@]}" PORT=9000 SLUG="$SLUG" CLIENTS="$CLIENTS" node provider.mjs
start_bg proxy "$NS_PROXY" "$E2E" "$OUT/proxy.log" \
  "${BASE_ENV[@]}" PORT=80 ROUTES="auth.localhost=server:9000,app.localhost=web:3000,app5.localhost=web:3001" node proxy.mjs
if ! wait_port provider "$NS_PROXY" "$IP_SERVER" 9000 30 || ! wait_port proxy "$NS_BROWSER" "$IP_PROXY" 80 30; then
  fail "provider or proxy did not start (see $OUT/provider.log, $OUT/proxy.log)"
  finish
fi

SHIM_INI=$OUT/shim.ini
cat >"$SHIM_INI" <<'EOF'
; the seed's mapping: the public name of the identity provider -> its internal address
[shim]
log = info

[map]
auth.localhost = server:9000
EOF

# The Go API, supervised (Go connects with raw system calls: no preload).
if [ -n "$API_BIN" ]; then
  start_bg api "$NS_API" "$E2E" "$OUT/api.log" "${BASE_ENV[@]}" OIDC_ISSUER="$ISSUER" OIDC_AUDIENCE="$CLIENT_ID" \
    LISTEN=0.0.0.0:8000 "$LAUNCHER" --supervise -c "$SHIM_INI" -- "$API_BIN"
  wait_port api "$NS_WEB" "$IP_API" 8000 30 || say "the Go API did not start (see $OUT/api.log)"
fi

# ---------------------------------------------------------------- the cases
app_port() { case $1 in v4) echo 3000 ;; v5) echo 3001 ;; esac; }
app_host() { case $1 in v4) echo app.localhost ;; v5) echo app5.localhost ;; esac; }
app_env() { # APP: the app's own configuration, one public URL for the provider
  local host
  host=$(app_host "$1")
  printf '%s\n' AUTHENTIK_ISSUER="$ISSUER" AUTHENTIK_CLIENT_ID="$CLIENT_ID" AUTHENTIK_CLIENT_SECRET="$CLIENT_SECRET" \
    NEXTAUTH_URL="http://$host" NEXTAUTH_SECRET="$AUTH_SECRET" AUTH_URL="http://$host" AUTH_SECRET="$AUTH_SECRET" \
    E2E_API_URL=http://api:8000
}

# The reload case's file: the app starts without the rule, which is added
# to the file while it runs (add_rule).
RELOAD_INI=$OUT/shim-reload.ini
add_rule() {
  sed -n '/^\[map\]/,$p' "$SHIM_INI" | grep -v '^\[map\]' >>"$RELOAD_INI"
}

# start_web MODE APP: MODE is nolib | preload | launcher | reload
start_web() {
  local mode=$1 app=$2 port envs=() cmd
  port=$(app_port "$app")
  mapfile -t envs < <(app_env "$app")
  cmd=("$(next_bin "$app")" start -H 0.0.0.0 -p "$port")
  case $mode in
  nolib) start_bg "web_$app" "$NS_WEB" "$E2E/app-$app" "$OUT/web-$app-$mode.log" "${BASE_ENV[@]}" "${envs[@]}" "${cmd[@]}" ;;
  preload) start_bg "web_$app" "$NS_WEB" "$E2E/app-$app" "$OUT/web-$app-$mode.log" "${BASE_ENV[@]}" "${envs[@]}" \
    LD_PRELOAD="$LIB" HOSTSHIM_CONFIG="$SHIM_INI" "${cmd[@]}" ;;
  launcher) start_bg "web_$app" "$NS_WEB" "$E2E/app-$app" "$OUT/web-$app-$mode.log" "${BASE_ENV[@]}" "${envs[@]}" \
    "$LAUNCHER" -c "$SHIM_INI" -- "${cmd[@]}" ;;
  reload)
    printf '[shim]\nlog = info\n\n[map]\n' >"$RELOAD_INI"
    chmod 644 "$RELOAD_INI"
    start_bg "web_$app" "$NS_WEB" "$E2E/app-$app" "$OUT/web-$app-$mode.log" "${BASE_ENV[@]}" "${envs[@]}" \
      LD_PRELOAD="$LIB" HOSTSHIM_CONFIG="$RELOAD_INI" "${cmd[@]}" ;;
  # a built image's root file system (mk/images.sh): its own ENV, LD_PRELOAD included
  image) start_bg "web_$app" "$NS_WEB" "$E2E" "$OUT/web-$app-$mode.log" \
    unshare --mount --propagation private bash "$E2E/in-image.sh" "$E2E_IMAGE_ROOTFS" \
    "${E2E_IMAGE_WORKDIR:-/}" "${E2E_IMAGE_USER:-root}" "$E2E_IMAGE_ENV" "$E2E_IMAGE_CMD" "${envs[@]}" ;;
  # the same image with its ENV LD_PRELOAD left out: must fail as nolib does
  image-nolib) grep -v '^LD_PRELOAD=' "$E2E_IMAGE_ENV" >"$TMP/image-nolib.env"
    start_bg "web_$app" "$NS_WEB" "$E2E" "$OUT/web-$app-$mode.log" \
    unshare --mount --propagation private bash "$E2E/in-image.sh" "$E2E_IMAGE_ROOTFS" \
    "${E2E_IMAGE_WORKDIR:-/}" "${E2E_IMAGE_USER:-root}" "$TMP/image-nolib.env" "$E2E_IMAGE_CMD" "${envs[@]}" ;;
  esac
}

# browse MODE APP: one sign-in attempt; sets R_OUTCOME R_USER R_ERROR R_URL, screenshot in $OUT
browse() {
  local mode=$1 app=$2 json pid host rc
  host=$(app_host "$app")
  json=$OUT/browser-$app-$mode.json
  rm -f "$json" "$OUT/$app-$mode.png"
  (cd "$E2E" && exec ip netns exec "$NS_BROWSER" setsid "${BASE_ENV[@]}" CHROMIUM="$CHROMIUM" \
    timeout -k 5 150 node browser.mjs --url "http://$host/" --proxy "$IP_PROXY" \
    --names "auth.localhost,$host" --shot "$OUT/$app-$mode.png" --timeout 45 \
    >"$json" 2>"$OUT/browser-$app-$mode.log" </dev/null) &
  pid=$!
  PIDS+=("$pid")
  wait "$pid"
  rc=$?
  forget_pid "$pid"
  local fields=()
  mapfile -t fields < <(node -e '
    let r = {};
    try { r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); } catch { r.outcome = "no-result"; }
    const line = (v) => String(v ?? "").replace(/\s+/g, " ");
    console.log([line(r.outcome), r.user ? line(r.user.name + " <" + r.user.email + ">") : "", line(r.error), line(r.url), line(r.api)].join("\n"));
  ' "$json")
  R_OUTCOME=${fields[0]:-no-result} R_USER=${fields[1]:-} R_ERROR=${fields[2]:-} R_URL=${fields[3]:-} R_API=${fields[4]:-}
  [ "$rc" = 0 ] || say "browser exited with status $rc (see $OUT/browser-$app-$mode.log)"
}

EXPECT_USER='Alice Admin <alice@auth.localhost>'
describe() { case $1 in nolib) echo "without library fails with ECONNREFUSED" ;; preload) echo "with LD_PRELOAD + HOSTSHIM_CONFIG signs in" ;; launcher) echo "via launcher signs in" ;;
  reload) echo "the rule added to the running app's file: the next sign-in succeeds, no restart" ;;
  image) echo "the built image's server (its ENV LD_PRELOAD, its shim.ini) signs in" ;; image-nolib) echo "the built image's server without its ENV LD_PRELOAD fails with ECONNREFUSED" ;; esac; }

run_case() { # MODE
  local mode=$1 app log why plines
  for app in "${APPS[@]}"; do
    log=$OUT/web-$app-$mode.log
    why=
    if [ "$mode" = preload ] && [ ! -f "$LIB" ]; then why="library not found: $LIB"; fi
    if [ "$mode" = launcher ] && [ ! -x "$LAUNCHER" ]; then why="launcher not found: $LAUNCHER"; fi
    if [ "${mode%-nolib}" = image ] && [ ! -d "${E2E_IMAGE_ROOTFS:-}" ]; then why="no image root file system (E2E_IMAGE_ROOTFS)"; fi
    if [ -z "$why" ]; then
      start_web "$mode" "$app"
      wait_port "web_$app" "$NS_PROXY" "$IP_WEB" "$(app_port "$app")" 60 || why="next start did not come up (see $log)"
    fi
    if [ -n "$why" ]; then
      fail "$app $(describe "$mode"): $why"
      stop_bg "web_$app"
      continue
    fi
    if [ "$mode" = reload ]; then
      browse "$mode-before" "$app" # without the rule: fails, and the file is read
      if [ "$R_OUTCOME" = signed-in ]; then
        fail "$app $(describe "$mode"): signed in before the rule was added"
      fi
      add_rule
      sleep 2 # a lookup looks at the file at most once a second
    fi
    plines=$(wc -l <"$OUT/provider.log")
    browse "$mode" "$app"
    stop_bg "web_$app" # flushes the log
    case $mode in
    nolib | image-nolib)
      if [ "$R_OUTCOME" != error ]; then
        why="expected the sign-in to fail, browser outcome: $R_OUTCOME $R_USER $R_ERROR"
      elif ! grep -q ECONNREFUSED "$log"; then
        why="sign-in failed, but no ECONNREFUSED in $log"
      fi
      ;;
    *)
      if [ "$R_OUTCOME" != signed-in ] || [ "$R_USER" != "$EXPECT_USER" ]; then
        why="expected to be signed in as $EXPECT_USER, browser outcome: $R_OUTCOME${R_USER:+ ($R_USER)}${R_ERROR:+: $R_ERROR} at $R_URL"
        grep -m3 -E 'ECONNREFUSED|hostshim:|\[(next-auth|auth)\]\[error\]' "$log" | sed 's/^/e2e:   web: /' >&2
      elif [ "$mode" = reload ] && ! grep -q "hostshim: $RELOAD_INI changed: 1 rules in force" "$log"; then
        why="signed in, but the library did not log that it reloaded $RELOAD_INI in $log"
      elif ! grep -q 'hostshim: auth.localhost:80 -> server:9000' "$log"; then
        why="signed in, but the library logged no redirect line 'hostshim: auth.localhost:80 -> server:9000 ...' at log = info in $log"
      elif ! tail -n +$((plines + 1)) "$OUT/provider.log" | grep -q "from $IP_WEB POST auth.localhost /application/o/token/"; then
        why="signed in, but the provider saw no token request from web ($IP_WEB) with Host auth.localhost"
      fi
      ;;
    esac
    if [ -z "$why" ]; then
      pass "$app $(describe "$mode")"
    else
      fail "$app $(describe "$mode"): $why"
    fi
    # (the image is the example app, which does not call the API)
    case $mode in preload | launcher) [ "$app" != v4 ] || check_api "$mode" ;; esac
  done
}

# check_api MODE: the v4 app, signed in, called the Go API with the ID token
# the sign-in produced; the API, supervised, fetched the provider's keys by
# the public URL and accepted it.
check_api() {
  local why=
  case $R_API in
  '200 '*'"iss":"'"$ISSUER"'"'*'"sub":"'*) ;;
  *) why="the app's call to the Go API gave: ${R_API:-nothing} (see $OUT/api.log)" ;;
  esac
  if [ -z "$why" ] && ! grep -q 'hostshim: auth.localhost:80 -> server:9000' "$OUT/api.log"; then
    why="the API accepted the token, but the supervisor logged no redirect line in $OUT/api.log"
  fi
  if [ -z "$why" ]; then
    pass "v4 ($1): the Go API, supervised, accepts the sign-in's ID token (issuer and keys by the public URL)"
  else
    fail "v4 ($1): the Go API, supervised: $why"
  fi
}

# E2E_CASES: which cases (default all but image; mk/images.sh runs image)
for mode in ${E2E_CASES:-nolib preload launcher reload}; do
  run_case "$mode"
done
finish
