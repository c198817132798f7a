#!/bin/sh
# Tests for the hostshim launcher (shim/hostshim, run as build/hostshim).
#
#   sh tests/launcher_test.sh            # from the repository root, after make
#   HOSTSHIM_LAUNCHER=/usr/local/bin/hostshim sh tests/launcher_test.sh
#
# The library under test is the one the launcher finds (HOSTSHIM_LIB, if the
# caller sets it, is honoured). Without it the argument tests still run with
# a stub library, the library-dependent ones are skipped, and the run fails.
# Network: only loopback inside a network namespace made with `unshare -n`
# (needs root); those tests are skipped when that is not possible.
# Ends with "N passed, N failed"; exit status 1 if anything failed.

# Single-quoted $VARS below are meant for the commands the launcher runs.
# shellcheck disable=SC2016

set -u
unset CDPATH

L=${HOSTSHIM_LAUNCHER:-build/hostshim}
case $L in
    /*) ;;
    */*) L=$(pwd)/$L ;;
    *) L=$(command -v "$L" 2>/dev/null) || L=$(pwd)/${HOSTSHIM_LAUNCHER:-} ;;
esac

pass=0 fail=0 skip=0
pids=''
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hostshim-launcher-test.XXXXXX") || exit 1
tmp=$(cd -P "$tmp" && pwd)

cleanup() {
    for p in $pids $(cat "$tmp"/*.pid 2>/dev/null); do
        kill "$p" 2>/dev/null
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

ok() {
    pass=$((pass + 1))
    printf 'ok   %s\n' "$1"
}
bad() { # name why
    fail=$((fail + 1))
    printf 'FAIL %s\n' "$1"
    printf '%s\n' "$2" | sed 's/^/       /'
}
skipped() { # name why
    skip=$((skip + 1))
    printf 'skip %s (%s)\n' "$1" "$2"
}

# run CMD...: runs it, sets $st, $out (stdout) and $err (stderr).
run() {
    "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
    st=$?
    out=$(cat "$tmp/out")
    err=$(cat "$tmp/err")
}
show() { printf 'status %s\nstdout: %s\nstderr: %s' "$st" "$out" "$err"; }

# Assertions on the last run.
t_status() { # name want
    if [ "$st" = "$2" ]; then ok "$1"; else bad "$1" "want status $2; $(show)"; fi
}
t_out() { # name exact-stdout
    if [ "$out" = "$2" ]; then ok "$1"; else bad "$1" "want stdout [$2]; $(show)"; fi
}
t_out_has() { # name substring
    case $out in
        *"$2"*) ok "$1" ;;
        *) bad "$1" "want [$2] in stdout; $(show)" ;;
    esac
}
t_err_has() { # name substring
    case $err in
        *"$2"*) ok "$1" ;;
        *) bad "$1" "want [$2] in stderr; $(show)" ;;
    esac
}
t_err_empty() {
    if [ -z "$err" ]; then ok "$1"; else bad "$1" "want empty stderr; $(show)"; fi
}
t_out_empty() {
    if [ -z "$out" ]; then ok "$1"; else bad "$1" "want empty stdout; $(show)"; fi
}

# A clean environment: nothing inherited from the caller's hostshim setup,
# and a config file that exists and is empty (so /etc/hostshim/shim.ini on
# this machine plays no part).
caller_lib=${HOSTSHIM_LIB:-}
unset LD_PRELOAD HOSTSHIM_CONFIG HOSTSHIM_MAP HOSTSHIM_LOG HOSTSHIM_STRICT \
    HOSTSHIM_CHECK HOSTSHIM_LIB
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY \
    no_proxy NO_PROXY
: >"$tmp/empty.ini"
HOSTSHIM_CONFIG=$tmp/empty.ini
export HOSTSHIM_CONFIG

printf '# launcher: %s\n' "$L"
if [ ! -f "$L" ] || [ ! -x "$L" ]; then
    bad "launcher exists and is executable" "no executable at $L (run make first)"
    printf '%s passed, %s failed\n' "$pass" "$fail"
    exit 1
fi

# The library the launcher should find.
real_lib=''
if [ -n "$caller_lib" ]; then
    case $caller_lib in
        /*) real_lib=$caller_lib ;;
        *) real_lib=$(pwd)/$caller_lib ;;
    esac
else
    ldir=$(dirname "$(readlink -f "$L")")
    for c in "$ldir/libhostshim.so" "$ldir/../lib/hostshim/libhostshim.so" \
        "$ldir/../build/libhostshim.so"; do
        if [ -f "$c" ]; then
            real_lib=$(cd -P "$(dirname "$c")" && pwd)/libhostshim.so
            break
        fi
    done
fi
if [ -n "$real_lib" ] && [ -f "$real_lib" ]; then
    ok "library present: $real_lib"
    lib=$real_lib
    have_real=1
    [ -z "$caller_lib" ] || { HOSTSHIM_LIB=$caller_lib; export HOSTSHIM_LIB; }
else
    bad "library present" "no libhostshim.so beside $L (run make); using a stub for the argument tests"
    have_real=''
    mkdir -p "$tmp/stub"
    lib=$tmp/stub/libhostshim.so
    printf 'void hostshim_launcher_test_stub(void) {}\n' >"$tmp/stub/stub.c"
    if ! gcc -shared -fPIC -o "$lib" "$tmp/stub/stub.c" 2>/dev/null; then
        printf 'not a library\n' >"$lib"
    fi
    HOSTSHIM_LIB=$lib
    export HOSTSHIM_LIB
fi
need_real() { # name: true if the real library is there, else a skip
    [ -n "$have_real" ] && return 0
    skipped "$1" "no library"
    return 1
}

# ---------------------------------------------------------------- usage
run "$L" -h
t_status "-h exits 0" 0
t_out_has "-h prints usage on stdout" "Usage: hostshim"
t_err_empty "-h prints nothing on stderr"
run "$L" --help
t_status "--help exits 0" 0
t_out_has "--help mentions --check" "--check"
run "$L" --version
t_status "--version exits 0" 0
t_out_has "--version prints the name" "hostshim "
# The release version lives in the file VERSION alone; make stamps it in.
want_version=$(cat "$(dirname "$0")/../VERSION" 2>/dev/null)
t_out "--version prints the version in VERSION" "hostshim ${want_version:-(no VERSION file)}"

run "$L"
t_status "no arguments: status 125" 125
t_err_has "no arguments: usage on stderr" "Usage: hostshim"
t_out_empty "no arguments: nothing on stdout"

for args in "-x" "--bogus" "-c" "-m" "-l" "-l loud" "-l INFO" "--log=" \
    "-m no-equals-sign -- true" "-m" "-l info" "-l info --" "--" \
    "-l info --check" "--check a b" "--print-env a b" "--check -x"; do
    # shellcheck disable=SC2086 # split on purpose
    run "$L" $args
    if [ "$st" = 125 ] && [ -z "$out" ]; then
        case $err in
            *"Usage: hostshim"*) ok "bad arguments '$args': usage, status 125" ;;
            *) bad "bad arguments '$args': usage, status 125" "$(show)" ;;
        esac
    else
        bad "bad arguments '$args': usage, status 125" "$(show)"
    fi
done
run "$L" -l loud true
t_err_has "-l names the valid levels" "off|error|warn|info|debug"
run "$L" -m '' true
t_status "-m with an empty rule: status 125" 125

# ---------------------------------------------------------------- variables
for lv in off error warn info debug; do
    run "$L" -l "$lv" -- sh -c 'printf %s "$HOSTSHIM_LOG"'
    t_out "-l $lv sets HOSTSHIM_LOG" "$lv"
done
run "$L" --log=info sh -c 'printf %s "$HOSTSHIM_LOG"'
t_out "--log=info" info
run "$L" -ldebug sh -c 'printf %s "$HOSTSHIM_LOG"'
t_out "-ldebug" debug
run "$L" --log error sh -c 'printf %s "$HOSTSHIM_LOG"'
t_out "--log error" error
run "$L" -l info -l debug sh -c 'printf %s "$HOSTSHIM_LOG"'
t_out "-l given twice: the last wins" debug
run env HOSTSHIM_LOG=debug "$L" -- sh -c 'printf %s "$HOSTSHIM_LOG"'
t_out "no -l keeps an inherited HOSTSHIM_LOG" debug
run env HOSTSHIM_LOG=debug "$L" -l error -- sh -c 'printf %s "$HOSTSHIM_LOG"'
t_out "-l overrides an inherited HOSTSHIM_LOG" error

mkdir -p "$tmp/cfg dir" "$tmp/cfg"
printf '[map]\nvar.launcher.test = 127.0.0.1:9\n' >"$tmp/cfg/a.ini"
cp "$tmp/cfg/a.ini" "$tmp/cfg dir/b.ini"
run sh -c 'cd "$1" && "$2" -c cfg/a.ini -- sh -c "printf %s \"\$HOSTSHIM_CONFIG\""' \
    sh "$tmp" "$L"
t_out "-c relative path becomes absolute" "$tmp/cfg/a.ini"
run sh -c 'cd "$1/cfg" && "$2" -c ./a.ini -- sh -c "printf %s \"\$HOSTSHIM_CONFIG\""' \
    sh "$tmp" "$L"
t_out "-c ./FILE becomes absolute" "$tmp/cfg/a.ini"
run sh -c 'cd "$1/cfg" && "$2" -c ../cfg/a.ini -- sh -c "printf %s \"\$HOSTSHIM_CONFIG\""' \
    sh "$tmp" "$L"
t_out "-c ../dir/FILE becomes absolute" "$tmp/cfg/a.ini"
run "$L" -c "$tmp/cfg dir/b.ini" -- sh -c 'printf %s "$HOSTSHIM_CONFIG"'
t_out "-c path with a space" "$tmp/cfg dir/b.ini"
run "$L" --config="$tmp/cfg/a.ini" -- sh -c 'printf %s "$HOSTSHIM_CONFIG"'
t_out "--config=FILE" "$tmp/cfg/a.ini"
run "$L" -c"$tmp/cfg/a.ini" -- sh -c 'printf %s "$HOSTSHIM_CONFIG"'
t_out "-cFILE" "$tmp/cfg/a.ini"
run "$L" -- sh -c 'printf %s "$HOSTSHIM_CONFIG"'
t_out "no -c keeps an inherited HOSTSHIM_CONFIG" "$tmp/empty.ini"
run "$L" -c "$tmp/cfg/a.ini" -- sh -c 'printf %s "$HOSTSHIM_CONFIG"'
t_out "-c overrides an inherited HOSTSHIM_CONFIG" "$tmp/cfg/a.ini"
run "$L" -c "$tmp/no-such.ini" -- touch "$tmp/ran-c"
t_status "-c missing file: status 125" 125
t_err_has "-c missing file: named" "$tmp/no-such.ini"
if [ -e "$tmp/ran-c" ]; then bad "-c missing file: command not run" "it ran"; else ok "-c missing file: command not run"; fi
run "$L" -c "$tmp/cfg" -- true
t_status "-c directory: status 125" 125

r1='one.launcher.test=127.0.0.1:1'
r2='two.launcher.test = 127.0.0.1:2, three.launcher.test=127.0.0.1:3'
r0='zero.launcher.test=127.0.0.1:4'
nl='
'
run "$L" -m "$r1" -- sh -c 'printf %s "$HOSTSHIM_MAP"'
t_out "-m sets HOSTSHIM_MAP" "$r1"
run "$L" -m "$r1" --map "$r2" -- sh -c 'printf %s "$HOSTSHIM_MAP"'
t_out "-m twice: joined with a newline" "$r1$nl$r2"
run "$L" --map="$r1" -- sh -c 'printf %s "$HOSTSHIM_MAP"'
t_out "--map=RULE" "$r1"
run "$L" -m"$r1" -- sh -c 'printf %s "$HOSTSHIM_MAP"'
t_out "-mRULE" "$r1"
run env HOSTSHIM_MAP="$r0" "$L" -m "$r1" -m "$r2" -- sh -c 'printf %s "$HOSTSHIM_MAP"'
t_out "-m appends after an inherited HOSTSHIM_MAP" "$r0$nl$r1$nl$r2"
run env HOSTSHIM_MAP="$r0" "$L" -- sh -c 'printf %s "$HOSTSHIM_MAP"'
t_out "no -m keeps an inherited HOSTSHIM_MAP" "$r0"
run "$L" -- sh -c 'printf %s "${HOSTSHIM_MAP-unset}"'
t_out "no -m and none inherited: HOSTSHIM_MAP unset" unset

run env HOSTSHIM_CHECK=1 "$L" -- sh -c 'printf "%s ran" "${HOSTSHIM_CHECK-unset}"'
t_out "an inherited HOSTSHIM_CHECK is dropped, the command runs" "unset ran"
t_status "an inherited HOSTSHIM_CHECK: status 0" 0

# ---------------------------------------------------------------- LD_PRELOAD
o1=/nonexistent-hostshim-test/one.so
o2=/nonexistent-hostshim-test/two.so
pre() { run env "$@" "$L" -- sh -c 'printf %s "$LD_PRELOAD"'; }
pre
t_out "LD_PRELOAD unset: just the library" "$lib"
case $lib in
    /*) ok "library path is absolute" ;;
    *) bad "library path is absolute" "$lib" ;;
esac
pre LD_PRELOAD="$o1"
t_out "library goes in front, the rest is kept" "$lib:$o1"
pre LD_PRELOAD="$o1 $o2"
t_out "space-separated LD_PRELOAD kept" "$lib:$o1:$o2"
pre LD_PRELOAD="$o1:$o2"
t_out "colon-separated LD_PRELOAD kept" "$lib:$o1:$o2"
pre LD_PRELOAD="$o1:$lib"
t_out "library already in LD_PRELOAD: not added twice" "$lib:$o1"
pre LD_PRELOAD="$lib"
t_out "library alone in LD_PRELOAD: unchanged" "$lib"
pre LD_PRELOAD="/nonexistent-hostshim-test/other/libhostshim.so $o1"
t_out "another copy of libhostshim.so is replaced" "$lib:$o1"
run "$L" -- env
case $out in
    *"LD_PRELOAD=$lib$nl"*|*"LD_PRELOAD=$lib") ok "env shows LD_PRELOAD" ;;
    *) bad "env shows LD_PRELOAD" "$(show)" ;;
esac
run sh -c 'cd "$(dirname "$1")" && ./"$(basename "$1")" -- sh -c "printf %s \"\$LD_PRELOAD\""' \
    sh "$L"
t_out "launcher run by a relative path: library path absolute" "$lib"

# ---------------------------------------------------------------- exec
run "$L" -- printf '%s|' 'a b' '' '*' '$HOME' "it's" '-l'
t_out "arguments passed verbatim" "a b||*|\$HOME|it's|-l|"
run "$L" printf '%s|' -l bad -- -c x
t_out "options after COMMAND belong to it" "-l|bad|--|-c|x|"
out=$(printf 'line from stdin\n' | "$L" -- cat)
t_out "stdin passes through" "line from stdin"

"$L" -- sh -c 'echo "$$ $PPID"' >"$tmp/pid.out" 2>/dev/null &
lp=$!
wait "$lp" 2>/dev/null
out=$(cat "$tmp/pid.out")
st=0
t_out "exec keeps the PID (command's PID and parent)" "$lp $$"

run "$L" -- sh -c 'exit 7'
t_status "exit status 7 passes through" 7
run "$L" -- true
t_status "exit status 0 passes through" 0
run "$L" -- sh -c 'kill -TERM $$; sleep 5'
t_status "command killed by TERM: status 143" 143
if command -v python3 >/dev/null 2>&1; then
    code=$(python3 -c 'import subprocess, sys
print(subprocess.run([sys.argv[1], "--", "sh", "-c", "kill -TERM $$; sleep 5"]).returncode)' "$L" 2>/dev/null)
    if [ "$code" = -15 ]; then
        ok "command killed by TERM: the launcher process dies of SIGTERM"
    else
        bad "command killed by TERM: the launcher process dies of SIGTERM" "python returncode $code, want -15"
    fi
else
    skipped "launcher process dies of SIGTERM" "no python3"
fi

rm -f "$tmp/sig.pid.out"
"$L" -- sh -c 'echo $$ >"$1.tmp"; mv "$1.tmp" "$1"; exec sleep 30' sh "$tmp/sig.pid.out" \
    >/dev/null 2>&1 &
lp=$!
pids="$pids $lp"
n=0
while [ ! -s "$tmp/sig.pid.out" ] && [ "$n" -lt 100 ]; do
    sleep 0.1
    n=$((n + 1))
done
if [ "$(cat "$tmp/sig.pid.out" 2>/dev/null)" = "$lp" ]; then
    ok "signal test: command runs as the launcher's PID"
else
    bad "signal test: command runs as the launcher's PID" "pid file: $(cat "$tmp/sig.pid.out" 2>/dev/null), launcher $lp"
fi
kill -TERM "$lp" 2>/dev/null
wait "$lp" 2>/dev/null
st=$?
t_status "TERM sent to the launcher's PID reaches the command: 143" 143

run "$L" -- no-such-command-hostshim-test
t_status "command not found: 127" 127
t_err_has "command not found: named" "no-such-command-hostshim-test"
printf 'echo hi\n' >"$tmp/noexec"
chmod 644 "$tmp/noexec"
run "$L" -- "$tmp/noexec"
t_status "command not executable: 126" 126
run "$L" -- "$tmp"
t_status "command is a directory: 126" 126
run "$L" -- "$tmp/no-such-file"
t_status "command path missing: 127" 127

# ---------------------------------------------------------------- finding the library
mk_copy() { # dir: a copy of the launcher at dir/hostshim
    mkdir -p "$1"
    cp "$L" "$1/hostshim"
    chmod 755 "$1/hostshim"
}
pl() { # launcher, with HOSTSHIM_LIB unset: prints its LD_PRELOAD
    run sh -c 'unset HOSTSHIM_LIB; "$@"' sh "$1" -- sh -c 'printf %s "$LD_PRELOAD"'
}
mk_copy "$tmp/prefix/bin"
mkdir -p "$tmp/prefix/lib/hostshim"
cp "$lib" "$tmp/prefix/lib/hostshim/libhostshim.so"
pl "$tmp/prefix/bin/hostshim"
t_out "finds ../lib/hostshim/libhostshim.so" "$tmp/prefix/lib/hostshim/libhostshim.so"

mk_copy "$tmp/both/bin"
mkdir -p "$tmp/both/lib/hostshim"
cp "$lib" "$tmp/both/bin/libhostshim.so"
cp "$lib" "$tmp/both/lib/hostshim/libhostshim.so"
pl "$tmp/both/bin/hostshim"
t_out "the library beside the launcher comes first" "$tmp/both/bin/libhostshim.so"

mkdir -p "$tmp/links"
ln -s "$tmp/prefix/bin/hostshim" "$tmp/links/hs"
ln -s hs "$tmp/links/hs2"
pl "$tmp/links/hs"
t_out "a symlink to the launcher is followed" "$tmp/prefix/lib/hostshim/libhostshim.so"
pl "$tmp/links/hs2"
t_out "a relative symlink chain is followed" "$tmp/prefix/lib/hostshim/libhostshim.so"
run sh -c 'unset HOSTSHIM_LIB; PATH=$1:$PATH; hs2 -- sh -c "printf %s \"\$LD_PRELOAD\""' \
    sh "$tmp/links"
t_out "launcher found through PATH" "$tmp/prefix/lib/hostshim/libhostshim.so"
run sh -c 'unset HOSTSHIM_LIB; cd "$1" && sh hostshim -- sh -c "printf %s \"\$LD_PRELOAD\""' \
    sh "$tmp/prefix/bin"
t_out "run as 'sh hostshim'" "$tmp/prefix/lib/hostshim/libhostshim.so"

mkdir -p "$tmp/alt"
cp "$lib" "$tmp/alt/libhostshim.so"
run env HOSTSHIM_LIB="$tmp/alt/libhostshim.so" "$tmp/both/bin/hostshim" -- sh -c 'printf %s "$LD_PRELOAD"'
t_out "HOSTSHIM_LIB overrides the search" "$tmp/alt/libhostshim.so"
run sh -c 'cd "$1" && HOSTSHIM_LIB=alt/libhostshim.so "$2" -- sh -c "printf %s \"\$LD_PRELOAD\""' \
    sh "$tmp" "$tmp/both/bin/hostshim"
t_out "a relative HOSTSHIM_LIB is made absolute" "$tmp/alt/libhostshim.so"

mk_copy "$tmp/nolib/bin"
run sh -c 'unset HOSTSHIM_LIB; "$@"' sh "$tmp/nolib/bin/hostshim" -- touch "$tmp/ran-nolib"
t_status "library missing: status 125 (the launcher's own error)" 125
t_err_has "library missing: names where it looked" "$tmp/nolib/bin/"
t_err_has "library missing: names ../lib/hostshim" "lib/hostshim"
if [ -e "$tmp/ran-nolib" ]; then bad "library missing: command not run" "it ran"; else ok "library missing: command not run"; fi
run env HOSTSHIM_LIB=/nonexistent/libhostshim.so "$L" -- true
t_status "HOSTSHIM_LIB=/nonexistent: status 125" 125
t_err_has "HOSTSHIM_LIB=/nonexistent: named" "/nonexistent/libhostshim.so"
mkdir -p "$tmp/with space"
cp "$lib" "$tmp/with space/libhostshim.so"
run env HOSTSHIM_LIB="$tmp/with space/libhostshim.so" "$L" -- true
t_status "library path with a space: status 125" 125
t_err_has "library path with a space: explained" "LD_PRELOAD"

# ---------------------------------------------------------------- --print-env
run "$L" --print-env
t_status "--print-env: status 0" 0
t_out_has "--print-env: LD_PRELOAD is the image's path, not this build tree's" "${nl}ENV LD_PRELOAD=/usr/local/lib/hostshim/libhostshim.so$nl"
t_out_has "--print-env: default HOSTSHIM_CONFIG" "${nl}ENV HOSTSHIM_CONFIG=/etc/hostshim/shim.ini"
t_out_has "--print-env: COPY of the config, mode 644 (the README calls it necessary)" "${nl}COPY --chmod=644 shim.ini /etc/hostshim/shim.ini$nl"
badline=$(printf '%s\n' "$out" | grep -v -e '^ENV [A-Z_]*=' -e '^COPY ' -e '^#')
if [ -z "$badline" ]; then ok "--print-env: only ENV, COPY and comment lines"; else bad "--print-env: only ENV, COPY and comment lines" "$badline"; fi
run sh -c 'cd "$1" && "$2" --print-env ./conf/shim.ini' sh "$tmp" "$L"
t_out_has "--print-env relative FILE: copied from the build context" "${nl}COPY --chmod=644 conf/shim.ini /etc/hostshim/shim.ini$nl"
mkdir -p "$tmp/inst/bin" "$tmp/inst/lib/hostshim"
cp "$L" "$tmp/inst/bin/hostshim"
cp "$lib" "$tmp/inst/lib/hostshim/libhostshim.so"
run env -u HOSTSHIM_LIB "$tmp/inst/bin/hostshim" --print-env
t_out_has "--print-env: a copy made by hand prints the image's default path" "${nl}ENV LD_PRELOAD=/usr/local/lib/hostshim/libhostshim.so$nl"
run "$L" --print-env /app/shim.ini
t_out_has "--print-env /abs/FILE" "ENV HOSTSHIM_CONFIG=/app/shim.ini"
run env HOSTSHIM_LIB=/nonexistent/libhostshim.so "$L" --print-env
t_status "--print-env, library missing: 125" 125

# ---------------------------------------------------------------- --check
printf '[shim]\nonly = node, next-server\nskip = npm\n[map]\na.localhost = 127.0.0.1:80\n' >"$tmp/scope.ini"
chmod 644 "$tmp/scope.ini"
run "$L" --check "$tmp/scope.ini" -- /usr/bin/node server.js
t_out_has "--check -- COMMAND: the rules apply to node" "${nl}the rules apply to node$nl"
mkdir -p "$tmp/npmbin"
cp /bin/true "$tmp/npmbin/npm"
run env PATH="$tmp/npmbin:$PATH" "$L" --check "$tmp/scope.ini" -- npm run dev
t_out_has "--check -- COMMAND: not to npm (skip)" "${nl}the rules do not apply to npm$nl"
run "$L" --check "$tmp/scope.ini" -- sh -c true
t_out_has "--check -- COMMAND: not to sh (not in only)" "${nl}the rules do not apply to sh$nl"
run "$L" --check "$tmp/scope.ini" --
t_status "--check -- without COMMAND: usage, 125" 125
run "$L" --check "$tmp/no-such.ini"
t_status "--check missing FILE: status 1" 1
t_err_has "--check missing FILE: named" "$tmp/no-such.ini"
run "$L" --check "$tmp/cfg"
t_status "--check directory: status 1" 1
run env HOSTSHIM_LIB=/nonexistent/libhostshim.so "$L" --check "$tmp/cfg/a.ini"
t_status "--check, library missing: 125" 125
mkdir -p "$tmp/junk"
printf 'this is not a shared object\n' >"$tmp/junk/libhostshim.so"
run env HOSTSHIM_LIB="$tmp/junk/libhostshim.so" "$L" --check "$tmp/cfg/a.ini"
if [ "$st" != 0 ]; then ok "--check with a library that can't be preloaded: non-zero"; else bad "--check with a library that can't be preloaded: non-zero" "$(show)"; fi
t_err_has "--check with a library that can't be preloaded: says so" "did not run its check"

cat >"$tmp/cfg/good.ini" <<'EOF'
[shim]
log = warn
[map]
good.launcher.test = 127.0.0.1:9000
127.0.0.1:8080 = 127.0.0.1:9001
EOF
cat >"$tmp/cfg/bad.ini" <<'EOF'
[map]
fine.launcher.test = 127.0.0.1:9000

port.launcher.test = 127.0.0.1:70000
EOF
summary_ok() { # name rules errors: the last stdout line
    last=$(printf '%s\n' "$out" | tail -n 1)
    case $last in
        "$2 rules, $3 errors"|"$2 rule, $3 errors"|"$2 rules, $3 error"|"$2 rule, $3 error")
            ok "$1" ;;
        *) bad "$1" "want last line '$2 rules, $3 errors'; $(show)" ;;
    esac
}
if need_real "--check on a good file"; then
    run "$L" --check "$tmp/cfg/good.ini"
    t_status "--check good file: status 0" 0
    t_out_has "--check good file: the name rule with its origin" \
        "good.launcher.test -> 127.0.0.1:9000 ($tmp/cfg/good.ini:4)"
    t_out_has "--check good file: the address rule" "127.0.0.1:8080 -> 127.0.0.1:9001 ($tmp/cfg/good.ini:5)"
    t_out_has "--check good file: what the target resolves to" "127.0.0.1:9000 ($tmp/cfg/good.ini:4) 127.0.0.1 = 127.0.0.1"
    summary_ok "--check good file: summary line" 2 0
    t_err_empty "--check good file: nothing on stderr"

    run sh -c 'cd "$1" && "$2" --check ./good.ini' sh "$tmp/cfg" "$L"
    t_out_has "--check relative FILE: origin is the absolute path" "($tmp/cfg/good.ini:4)"

    run env HOSTSHIM_CONFIG="$tmp/cfg/good.ini" "$L" --check
    t_status "--check without FILE: inherited HOSTSHIM_CONFIG, status 0" 0
    t_out_has "--check without FILE: inherited HOSTSHIM_CONFIG used" "good.launcher.test -> 127.0.0.1:9000"

    run env HOSTSHIM_MAP='map.launcher.test=127.0.0.1:9002' "$L" --check "$tmp/cfg/good.ini"
    t_out_has "--check: HOSTSHIM_MAP from the environment applies" \
        "map.launcher.test -> 127.0.0.1:9002 (HOSTSHIM_MAP item 1)"
    summary_ok "--check with HOSTSHIM_MAP: summary line" 3 0

    run "$L" --check "$tmp/cfg/bad.ini"
    t_status "--check bad file: status 1" 1
    t_err_has "--check bad file: FILE:LINE message" "hostshim: $tmp/cfg/bad.ini:4:"
    t_out_has "--check bad file: the good rule still listed" "fine.launcher.test -> 127.0.0.1:9000"
    summary_ok "--check bad file: summary line" 1 1

    run env HOSTSHIM_STRICT=1 "$L" --check "$tmp/cfg/bad.ini"
    t_status "--check with HOSTSHIM_STRICT=1 inherited: still status 1" 1
    summary_ok "--check with HOSTSHIM_STRICT=1 inherited: rules listed" 1 1

    run env HOSTSHIM_LOG=off "$L" --check "$tmp/cfg/bad.ini"
    t_err_has "--check prints config errors even with HOSTSHIM_LOG=off" "$tmp/cfg/bad.ini:4:"
fi

# Network tests run in a network namespace of their own (unshare -n): its
# loopback is the only interface, so nothing can leave the machine even if
# the library fails to catch a name.
netns_ok=''
if unshare -n true 2>/dev/null; then
    if unshare -n sh -c 'ip link set lo up' 2>/dev/null; then netns_ok=1; fi
fi
need_netns() {
    [ -n "$netns_ok" ] && return 0
    skipped "$1" "cannot make a network namespace (unshare -n, ip; needs root)"
    return 1
}

cat >"$tmp/cfg/unres.ini" <<'EOF'
[map]
unres.launcher.test = unresolvable-target.invalid:80
EOF
if need_real "--check on an unresolvable target" &&
    need_netns "--check on an unresolvable target"; then
    run unshare -n "$L" --check "$tmp/cfg/unres.ini"
    t_status "--check unresolvable target: status 3" 3
    t_out_has "--check unresolvable target: the rule with the resolver error" \
        "unres.launcher.test -> unresolvable-target.invalid:80 ($tmp/cfg/unres.ini:2) unresolvable-target.invalid: "
fi

# ---------------------------------------------------------------- a real redirect
cat >"$tmp/server.py" <<'EOF'
import os, socketserver, sys, time
from http.server import BaseHTTPRequestHandler

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("hostshim-launcher-test-ok\nHost: %s\nPath: %s\n"
                % (self.headers.get("Host"), self.path)).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

srv = socketserver.TCPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
srv.timeout = 0.5
deadline = time.time() + 60   # never outlive the test by much
while time.time() < deadline:
    srv.handle_request()
EOF
# Runs inside the namespace: $1 tmp dir, $2 launcher. Results in files.
cat >"$tmp/netns.sh" <<'EOF'
t=$1 L=$2
ip link set lo up || exit 90
python3 "$t/server.py" "$t/port" &
echo $! >"$t/server.pid"
trap 'kill "$(cat "$t/server.pid")" 2>/dev/null' EXIT
trap 'exit 143' TERM
n=0
while [ ! -s "$t/port" ] && [ "$n" -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
[ -s "$t/port" ] || exit 91
port=$(cat "$t/port")
c() { curl -s --noproxy '*' --max-time 10 "$@"; }
c "http://127.0.0.1:$port/direct" >"$t/r0.out" 2>&1; echo $? >"$t/r0.st"
c http://launcher-test.invalid/plain >"$t/r1.out" 2>&1; echo $? >"$t/r1.st"
"$L" -l info -m "launcher-test.invalid=127.0.0.1:$port" -- \
    curl -s --noproxy '*' --max-time 10 http://launcher-test.invalid/via-m \
    >"$t/r2.out" 2>"$t/r2.err"; echo $? >"$t/r2.st"
printf '[map]\nlauncher-file.invalid = 127.0.0.1:%s\n' "$port" >"$t/redirect.ini"
"$L" -c "$t/redirect.ini" -- \
    curl -s --noproxy '*' --max-time 10 http://launcher-file.invalid/via-c \
    >"$t/r3.out" 2>"$t/r3.err"; echo $? >"$t/r3.st"
exit 0
EOF
if need_real "redirect through the launcher" &&
    need_netns "redirect through the launcher"; then
    if ! command -v curl >/dev/null 2>&1 || ! command -v python3 >/dev/null 2>&1; then
        skipped "redirect through the launcher" "needs curl and python3"
    else
        unshare -n sh "$tmp/netns.sh" "$tmp" "$L" &
        np=$!
        pids="$pids $np"
        wait "$np"
        st=$?
        t_status "redirect: namespace scenario ran" 0
        r() { cat "$tmp/$1" 2>/dev/null; }
        port=$(r port)
        out=$(r r0.out) st=$(r r0.st) err=''
        t_out_has "redirect: server answers directly" "hostshim-launcher-test-ok"
        st=$(r r1.st) out=$(r r1.out)
        if [ "$st" != 0 ]; then ok "redirect: without the launcher the name does not resolve"; else bad "redirect: without the launcher the name does not resolve" "$(show)"; fi
        st=$(r r2.st) out=$(r r2.out) err=$(r r2.err)
        t_status "redirect -m: curl succeeds" 0
        t_out_has "redirect -m: the server's answer" "hostshim-launcher-test-ok"
        t_out_has "redirect -m: Host header is the public name" "Host: launcher-test.invalid$nl"
        t_out_has "redirect -m: path" "Path: /via-m"
        t_err_has "redirect -m: -l info logs the redirect" \
            "hostshim: launcher-test.invalid:80 -> 127.0.0.1:$port (127.0.0.1:$port)"
        st=$(r r3.st) out=$(r r3.out) err=$(r r3.err)
        t_status "redirect -c: curl succeeds" 0
        t_out_has "redirect -c: Host header is the public name" "Host: launcher-file.invalid$nl"
        t_err_empty "redirect -c: silent at the default log level"
    fi
fi

# ---------------------------------------------------------------- musl
# The launcher preloads the build that matches the program's libc.
musl_lib=${lib%/*}/musl/libhostshim.so
musl_prog=${lib%/*}/musl/tests/gai
if [ -n "$caller_lib" ] || [ -z "$have_real" ] || [ ! -f "$musl_lib" ] || [ ! -x "$musl_prog" ]; then
    skipped "musl selection" "no musl build next to $lib (make musl-test)"
else
    run env -u HOSTSHIM_LIB "$L" -l debug -- "$musl_prog" localhost
    t_err_has "musl program: the musl build is preloaded" "preloading $musl_lib for"
    run env -u HOSTSHIM_LIB "$L" -l debug -- /bin/true
    t_err_has "glibc program: the glibc build is preloaded" "preloading $lib for"
    run env -u HOSTSHIM_LIB "$L" --check "$tmp/cfg/good.ini"
    t_out_has "--check says which build it uses" "library: $lib (the glibc build"
    printf '#!%s\n' "$musl_prog" >"$tmp/musl-script"
    chmod +x "$tmp/musl-script"
    run env -u HOSTSHIM_LIB "$L" -l debug -- "$tmp/musl-script" localhost
    t_err_has "a script whose interpreter is musl: the musl build" "preloading $musl_lib for"
    mkdir -p "$tmp/nomusl"
    cp "$L" "$tmp/nomusl/hostshim"
    cp "$lib" "$tmp/nomusl/libhostshim.so"
    run env -u HOSTSHIM_LIB "$tmp/nomusl/hostshim" -- "$musl_prog" localhost
    t_status "musl program without a musl build: 125" 125
    t_err_has "musl program without a musl build: explained" "make musl"
fi

# ---------------------------------------------------------------- make install
# DESTDIR staging and PREFIX: the installed launcher runs commands with the
# installed library, and --print-env prints the image's paths (PREFIX),
# never the staging directory.
repo_root=$(cd "$(dirname "$0")/.." && pwd)
if [ -n "$caller_lib" ] || [ -z "$have_real" ] || ! command -v make >/dev/null ||
    [ ! -f "$repo_root/build/libhostshim.so" ]; then
    skipped "make install" "needs make and the build tree's library"
else
    for prefix in /usr /opt/hostshim; do
        stage=$tmp/stage$(printf '%s' "$prefix" | tr / _)
        run make -s -C "$repo_root" install DESTDIR="$stage" PREFIX="$prefix"
        t_status "make install DESTDIR=... PREFIX=$prefix: status 0" 0
        inst=$stage$prefix/bin/hostshim
        run env -u HOSTSHIM_LIB "$inst" --print-env
        t_out_has "installed (PREFIX=$prefix): --print-env LD_PRELOAD is the image's path" \
            "${nl}ENV LD_PRELOAD=$prefix/lib/hostshim/libhostshim.so$nl"
        case $out in
            *"$stage"*) bad "installed (PREFIX=$prefix): --print-env never names DESTDIR" "$(show)" ;;
            *) ok "installed (PREFIX=$prefix): --print-env never names DESTDIR" ;;
        esac
        run env -u HOSTSHIM_LIB "$inst" -l debug -- sh -c 'echo "$LD_PRELOAD"'
        t_out "installed (PREFIX=$prefix): the command runs with the installed library" \
            "$stage$prefix/lib/hostshim/libhostshim.so"
    done
fi

# An Alpine install: the main build is itself the musl build, and there is
# no musl/ beside it. A musl program gets the main build (status 0, the
# mapped name answered by the library).
if [ -n "$caller_lib" ] || [ -z "$have_real" ] || [ ! -f "$musl_lib" ] || [ ! -x "$musl_prog" ]; then
    skipped "Alpine-style install" "no musl build next to $lib (make musl-test)"
else
    mkdir -p "$tmp/alpine/bin" "$tmp/alpine/lib/hostshim"
    cp "$L" "$tmp/alpine/bin/hostshim"
    cp "$musl_lib" "$tmp/alpine/lib/hostshim/libhostshim.so"
    run env -u HOSTSHIM_LIB "$tmp/alpine/bin/hostshim" -l debug \
        -m 'launcher-alpine.invalid=127.0.0.1:9' -- "$musl_prog" -f inet -t stream launcher-alpine.invalid
    t_status "Alpine-style install, musl program: status 0" 0
    t_err_has "Alpine-style install, musl program: the main (musl) build is preloaded" \
        "preloading $tmp/alpine/lib/hostshim/libhostshim.so for"
    t_out_has "Alpine-style install, musl program: the library answers the mapped name" "addr=127.88."
    run env -u HOSTSHIM_LIB "$tmp/alpine/bin/hostshim" -- "$musl_prog" -f inet -t stream launcher-alpine.invalid
    case $out in
        *addr=127.88.*) bad "Alpine-style install, without a rule: the name is not answered" "$(show)" ;;
        *) ok "Alpine-style install, without a rule: the name is not answered" ;;
    esac
fi

# ---------------------------------------------------------------- rules checked before COMMAND
# The launcher reads -c and -m with the library's own parser before it runs
# COMMAND: a problem ends it with 125 (as env, timeout, docker run) and a
# message naming the -m rule or FILE:LINE; COMMAND never runs.
if need_real "rules checked before COMMAND"; then
    rm -f "$tmp/ran"
    run "$L" -m 'x.launcher.test=server:99999' -- touch "$tmp/ran"
    t_status "-m with port 99999: status 125" 125
    t_err_has "-m with port 99999: the rule and the problem named" \
        "hostshim: -m 'x.launcher.test=server:99999': port 99999 out of range"
    if [ -e "$tmp/ran" ]; then bad "-m with port 99999: command not run" "it ran"; else ok "-m with port 99999: command not run"; fi
    run "$L" -m 'auth.localhost=' -- touch "$tmp/ran"
    t_status "-m with no target: status 125" 125
    t_err_has "-m with no target: named" "hostshim: -m 'auth.localhost=': "
    if [ -e "$tmp/ran" ]; then bad "-m with no target: command not run" "it ran"; else ok "-m with no target: command not run"; fi
    run "$L" -m 'a.launcher.test=127.0.0.1:1' -m 'b.launcher.test=127.0.0.1:2, c.launcher.test=127.0.0.1:70000' -- true
    t_status "-m: the third rule bad: 125" 125
    t_err_has "-m: the bad rule of a comma-separated -m is the one named" \
        "hostshim: -m 'c.launcher.test=127.0.0.1:70000': port 70000 out of range"
    t_err_has "-m: a last line says why nothing ran" "not running the command"
    run "$L" -c "$tmp/cfg/bad.ini" -- true
    t_status "-c bad.ini -- true: status 125" 125
    t_err_has "-c bad.ini: FILE:LINE named" "hostshim: $tmp/cfg/bad.ini:4: port 70000 out of range"
    run "$L" -c "$tmp/cfg/bad.ini" -m 'ok.launcher.test=127.0.0.1:3' -- true
    t_status "-c bad.ini with a good -m: still 125" 125
    run "$L" -c "$tmp/cfg/good.ini" -m 'ok.launcher.test=127.0.0.1:3' -- sh -c 'echo ran'
    t_status "-c good.ini and a good -m: the command runs" 0
    t_out "-c good.ini and a good -m: its output" ran
    t_err_empty "-c good.ini and a good -m: nothing said"
    run "$L" -l off -m 'x.launcher.test=server:99999' -- true
    t_err_has "-l off: the launcher still says what is wrong" "port 99999 out of range"
    run env HOSTSHIM_MAP='inherited.launcher.test=server:99999' "$L" -m 'ok.launcher.test=127.0.0.1:3' -- sh -c 'echo ran'
    t_out "an inherited bad HOSTSHIM_MAP is the library's to report: the command runs" ran
    run "$L" --supervise -m 'x.launcher.test=server:99999' -- touch "$tmp/ran"
    t_status "--supervise with a bad -m: 125 before anything runs" 125
    t_err_has "--supervise with a bad -m: named" "-m 'x.launcher.test=server:99999'"
    if [ -e "$tmp/ran" ]; then bad "--supervise with a bad -m: command not run" "it ran"; else ok "--supervise with a bad -m: command not run"; fi
    # 126/127 stay the command's.
    run "$L" -m 'ok.launcher.test=127.0.0.1:3' -- no-such-command-hostshim-test
    t_status "good rules, command not found: 127" 127
fi

# ---------------------------------------------------------------- --check like a run
mkdir -p "$tmp/bin" "$tmp/app/node_modules/.bin"
cp /bin/true "$tmp/bin/node"
printf '#!/usr/bin/env node\nconsole.log("next")\n' >"$tmp/app/node_modules/.bin/next"
printf '#!/usr/bin/env -S node --no-warnings\n' >"$tmp/app/node_modules/.bin/split"
chmod 755 "$tmp/app/node_modules/.bin/next" "$tmp/app/node_modules/.bin/split"
printf '#!%s/bin/node\n' "$tmp" >"$tmp/app/direct"
chmod 755 "$tmp/app/direct"
printf '[shim]\nonly = node\n[map]\na.localhost = 127.0.0.1:80\n' >"$tmp/only-node.ini"
if need_real "--check like a run"; then
    run "$L" --check -m 'm.launcher.test=127.0.0.1:9003'
    t_status "--check -m: status 0" 0
    t_out_has "--check -m: the rule listed, named as HOSTSHIM_MAP has it" \
        "m.launcher.test -> 127.0.0.1:9003 (HOSTSHIM_MAP item 1)"
    run "$L" --check -c "$tmp/cfg/good.ini" -m 'm.launcher.test=127.0.0.1:9003'
    t_out_has "--check -c FILE -m: the file's rule" "good.launcher.test -> 127.0.0.1:9000 ($tmp/cfg/good.ini:4)"
    summary_ok "--check -c FILE -m: summary counts both" 3 0
    run "$L" --check -m 'x.launcher.test=server:99999'
    t_status "--check with a bad -m: status 1" 1
    t_err_has "--check with a bad -m: the problem" "port 99999 out of range"
    run "$L" --check "$tmp/cfg/good.ini" -c "$tmp/cfg/good.ini"
    t_status "--check FILE and -c: usage, 125" 125
    run "$L" --check -l info -c "$tmp/cfg/good.ini"
    t_status "--check accepts -l" 0
    run env PATH="$tmp/bin:$PATH" "$L" --check -c "$tmp/only-node.ini" -- "$tmp/app/node_modules/.bin/next" start
    t_out_has "--check -- a '#!/usr/bin/env node' script: the rules apply to node" "${nl}the rules apply to node$nl"
    t_out_has "--check -- a '#!/usr/bin/env node' script: says it followed it" \
        "next is a script for env; env runs node, so the rules concern node ($tmp/bin/node)"
    run env PATH="$tmp/bin:$PATH" "$L" --check -c "$tmp/only-node.ini" -- "$tmp/app/node_modules/.bin/split"
    t_out_has "--check -- '#!/usr/bin/env -S node ...': node" "${nl}the rules apply to node$nl"
    run "$L" --check -c "$tmp/only-node.ini" -- "$tmp/app/direct"
    t_out_has "--check -- a '#!/path/node' script: node" "${nl}the rules apply to node$nl"
    run env PATH="$tmp/bin:$PATH" "$L" --check -c "$tmp/only-node.ini" -- env -u HOME FOO=1 node x.js
    t_out_has "--check -- env [options] node: node" "${nl}the rules apply to node$nl"
    run "$L" --check -c "$tmp/only-node.ini" -- sh -c true
    t_out_has "--check -- sh: not node, the rules do not apply" "${nl}the rules do not apply to sh$nl"
fi

# ---------------------------------------------------------------- --print-env and the libc
run "$L" --print-env --libc musl
t_status "--print-env --libc musl: status 0" 0
t_out_has "--print-env --libc musl: the musl build's path in the image" \
    "${nl}ENV LD_PRELOAD=/usr/local/lib/hostshim/musl/libhostshim.so$nl"
run "$L" --print-env --libc gnu /app/shim.ini
t_out_has "--print-env --libc gnu: the glibc build's path" \
    "${nl}ENV LD_PRELOAD=/usr/local/lib/hostshim/libhostshim.so$nl"
t_out_has "--print-env --libc gnu FILE: FILE" "ENV HOSTSHIM_CONFIG=/app/shim.ini"
run "$L" --print-env --libc=musl
t_out_has "--print-env --libc=musl" "ENV LD_PRELOAD=/usr/local/lib/hostshim/musl/libhostshim.so"
run "$L" --print-env --libc bsd
t_status "--print-env --libc bsd: usage, 125" 125
if [ -e /lib64/ld-linux-x86-64.so.2 ] || [ -e /lib/ld-linux-aarch64.so.1 ]; then
    run "$L" --print-env
    t_out_has "--print-env on a glibc system: the glibc build" \
        "${nl}ENV LD_PRELOAD=/usr/local/lib/hostshim/libhostshim.so$nl"
fi

# ---------------------------------------------------------------- trust, as root
# The library, running as root, refuses a file another user owns: a file
# bind-mounted from the host. --check, -c and a start with the file in
# HOSTSHIM_CONFIG say what to do.
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null 2>&1; then
    skipped "trust messages" "needs root and setpriv"
elif need_real "trust messages"; then
    mkdir -p "$tmp/trust"
    cp "$tmp/cfg/good.ini" "$tmp/trust/shim.ini"
    chmod 644 "$tmp/trust/shim.ini"
    chown 1000:1000 "$tmp/trust/shim.ini"
    run "$L" --check "$tmp/trust/shim.ini"
    t_status "--check, a file owned by uid 1000, as root: status 1" 1
    t_err_has "--check, a host user's file: the library's reason" "owned by uid 1000, not root"
    t_err_has "--check, a host user's file: what to do with a bind mount" \
        "sudo chown root: FILE && sudo chmod 644 FILE"
    t_err_has "--check, a host user's file: or a non-root user" "run the container as a non-root user"
    run "$L" -c "$tmp/trust/shim.ini" -- touch "$tmp/ran-trust"
    t_status "-c a host user's file, as root: 125" 125
    t_err_has "-c a host user's file: what to do" "mounted read-only: ./FILE:$tmp/trust/shim.ini:ro"
    if [ -e "$tmp/ran-trust" ]; then bad "-c a host user's file: command not run" "it ran"; else ok "-c a host user's file: command not run"; fi
    run env HOSTSHIM_CONFIG="$tmp/trust/shim.ini" "$L" -- sh -c 'echo ran'
    t_out "HOSTSHIM_CONFIG a host user's file, as root: the command runs" ran
    t_err_has "HOSTSHIM_CONFIG a host user's file, as root: a warning at start" \
        "warning: $tmp/trust/shim.ini (or its directory) is not owned by root"
    t_err_has "HOSTSHIM_CONFIG a host user's file, as root: what to do" "sudo chown root: FILE"
    chmod 755 "$tmp"
    run setpriv --reuid=1000 --regid=1000 --clear-groups env HOSTSHIM_CONFIG="$tmp/trust/shim.ini" "$L" -- sh -c 'echo ran'
    t_out "the same file, as uid 1000: runs" ran
    t_err_empty "the same file, as uid 1000: no warning (the rule is for root)"
    run setpriv --reuid=1000 --regid=1000 --clear-groups "$L" --check "$tmp/trust/shim.ini"
    t_status "--check as uid 1000: the file is fine" 0
    run setpriv --reuid=1001 --regid=1001 --clear-groups "$L" --check "$tmp/trust/shim.ini"
    t_status "--check as another non-root user (uid 1001): a 644 file of uid 1000 is fine" 0
    chmod 700 "$tmp"
    chown 0:0 "$tmp/trust/shim.ini"
    run env HOSTSHIM_CONFIG="$tmp/trust/shim.ini" "$L" -- sh -c 'echo ran'
    t_err_empty "after chown root: no warning"
    run "$L" --check "$tmp/trust/shim.ini"
    t_status "after chown root: --check 0" 0
fi

# ---------------------------------------------------------------- Go, nested supervision
# A Go program without a build ID (-ldflags=-buildid=) is still Go: its
# .go.buildinfo section. It must run supervised, not preloaded.
gobin=''
if command -v go >/dev/null 2>&1 && [ -x "${lib%/*}/hostshim-supervise" ]; then
    mkdir -p "$tmp/go"
    cat >"$tmp/go/main.go" <<'EOF'
package main

import (
	"fmt"
	"net"
	"os"
)

func main() {
	fmt.Printf("LD_PRELOAD=%s\n", os.Getenv("LD_PRELOAD"))
	addrs, err := net.LookupHost(os.Args[1])
	if err != nil {
		fmt.Println("lookup failed")
		os.Exit(3)
	}
	fmt.Println("lookup", addrs)
}
EOF
    if (cd "$tmp/go" && GO111MODULE=off GOCACHE="${GOCACHE:-$tmp/gocache}" \
        go build -ldflags=-buildid= -o noid main.go && GO111MODULE=off \
        GOCACHE="${GOCACHE:-$tmp/gocache}" go build -o withid main.go) \
        >"$tmp/go/build.log" 2>&1; then
        gobin=$tmp/go/noid
    else
        bad "building a Go program" "$(cat "$tmp/go/build.log")"
    fi
else
    skipped "Go programs" "needs go (golang-go) and build/hostshim-supervise"
fi
if [ -n "$gobin" ] && need_real "Go without a build ID" &&
    need_netns "Go without a build ID"; then
    cat >"$tmp/go.sh" <<'EOF'
ip link set lo up || exit 90
"$2" -l info -m 'launcher-go.invalid=127.0.0.1:9' -- "$1/go/noid" launcher-go.invalid
EOF
    run unshare -n sh "$tmp/go.sh" "$tmp" "$L"
    t_status "Go without a build ID: runs, and its lookup is answered" 0
    t_err_has "Go without a build ID: seen as Go, supervised" \
        "$tmp/go/noid is a Go program (it connects with raw system calls): running it supervised"
    t_out_has "Go without a build ID: not preloaded" "LD_PRELOAD=$nl"
    t_out_has "Go without a build ID: the mapped name answered by the supervisor" "lookup [127.88."
    printf '#!/usr/bin/env noid\n' >"$tmp/go/script"
    chmod 755 "$tmp/go/script"
    run env PATH="$tmp/go:$PATH" "$L" -l info -- "$tmp/go/script" localhost
    t_err_has "a '#!/usr/bin/env GOPROGRAM' script: the Go program supervised" \
        "$tmp/go/noid is a Go program"
fi

# Inside a tree already under `hostshim --supervise`, the kernel allows no
# second supervisor: COMMAND runs as it is, covered by the outer one. The
# supervisor exports HOSTSHIM_SUPERVISED (its PID); until it does, the
# test sets it as it will be.
if [ -n "$gobin" ] && need_real "nested supervision" &&
    need_netns "nested supervision"; then
    cat >"$tmp/nested.sh" <<'EOF'
ip link set lo up || exit 90
"$2" --supervise -m 'launcher-go.invalid=127.0.0.1:9' -- sh -c '
    HOSTSHIM_SUPERVISED=${HOSTSHIM_SUPERVISED:-$PPID}
    export HOSTSHIM_SUPERVISED
    exec "$1" -l info -- "$2" launcher-go.invalid' sh "$2" "$1/go/withid"
EOF
    run unshare -n sh "$tmp/nested.sh" "$tmp" "$L"
    t_status "nested: a Go program under an outer supervisor runs" 0
    t_out_has "nested: its lookup answered by the outer supervisor" "lookup [127.88."
    t_err_has "nested: one info line says so" "hostshim: already supervised (by process "
    t_err_has "nested: ... and names the command" "$tmp/go/withid runs under that supervisor and its rules"
    n=$(printf '%s\n' "$err" | grep -c .)
    if [ "$n" = 1 ]; then ok "nested: exactly one line"; else bad "nested: exactly one line" "$(show)"; fi
    cat >"$tmp/nested-m.sh" <<'EOF'
ip link set lo up || exit 90
"$2" --supervise -m 'launcher-go.invalid=127.0.0.1:9' -- sh -c '
    HOSTSHIM_SUPERVISED=${HOSTSHIM_SUPERVISED:-$PPID}
    export HOSTSHIM_SUPERVISED
    exec "$1" -m "other.invalid=127.0.0.1:9" -- "$2" launcher-go.invalid' sh "$2" "$1/go/withid"
EOF
    run unshare -n sh "$tmp/nested-m.sh" "$tmp" "$L"
    t_status "nested with -m: runs (the outer rules apply)" 0
    t_err_has "nested with -m: a warning that -m does not apply" "-c/-m given here do not apply"
    run env HOSTSHIM_SUPERVISED=1 "$L" -l debug -- /bin/true
    t_err_has "HOSTSHIM_SUPERVISED without a seccomp filter: ignored, preloaded" "preloading $lib"
fi

# ---------------------------------------------------------------- the tools image layout
# Both builds installed (lib/hostshim/ and lib/hostshim/musl/): each program
# gets the build of its libc.
if [ -n "$caller_lib" ] || [ -z "$have_real" ] || [ ! -f "$musl_lib" ] || [ ! -x "$musl_prog" ]; then
    skipped "tools layout" "no musl build next to $lib (make musl-test)"
else
    mkdir -p "$tmp/tools/bin" "$tmp/tools/lib/hostshim/musl"
    cp "$L" "$tmp/tools/bin/hostshim"
    cp "$lib" "$tmp/tools/lib/hostshim/libhostshim.so"
    cp "$musl_lib" "$tmp/tools/lib/hostshim/musl/libhostshim.so"
    run env -u HOSTSHIM_LIB "$tmp/tools/bin/hostshim" -l debug -- "$musl_prog" localhost
    t_err_has "tools layout, musl program: lib/hostshim/musl/" \
        "preloading $tmp/tools/lib/hostshim/musl/libhostshim.so for"
    run env -u HOSTSHIM_LIB "$tmp/tools/bin/hostshim" -l debug -- /bin/true
    t_err_has "tools layout, glibc program: lib/hostshim/" \
        "preloading $tmp/tools/lib/hostshim/libhostshim.so for"
    run env -u HOSTSHIM_LIB "$tmp/tools/bin/hostshim" -m 'bad=x:99999' -- "$musl_prog" localhost
    t_status "tools layout, musl program, bad -m: 125" 125
    run env -u HOSTSHIM_LIB "$tmp/alpine/bin/hostshim" --print-env --libc musl
    t_out_has "--print-env --libc musl with the musl build alone (Alpine): the main path" \
        "${nl}ENV LD_PRELOAD=/usr/local/lib/hostshim/libhostshim.so$nl"
fi

# ---------------------------------------------------------------- start cost
# The launcher runs at every start: classifying a program must cost one
# `od`, not a pipeline per question (no timing asserted; processes counted).
if command -v strace >/dev/null 2>&1 && need_real "start cost"; then
    strace -f -qq -e trace=execve -o "$tmp/strace.out" "$L" -- /bin/true >/dev/null 2>&1
    n=$(grep -c 'execve(' "$tmp/strace.out")
    if [ "$n" -le 3 ]; then
        ok "hostshim -- /bin/true: the launcher, one od, the command ($n execs)"
    else
        bad "hostshim -- /bin/true: the launcher, one od, the command" "$n execs: $(grep -o 'execve("[^"]*"' "$tmp/strace.out" | tr '\n' ' ')"
    fi
else
    skipped "start cost" "needs strace"
fi

# ---------------------------------------------------------------- shellcheck
if command -v shellcheck >/dev/null 2>&1; then
    for f in "$L" "$0"; do
        if sc=$(shellcheck -s sh "$f" 2>&1); then ok "shellcheck $f"; else bad "shellcheck $f" "$sc"; fi
    done
else
    skipped "shellcheck" "not installed"
fi

[ "$skip" -eq 0 ] || printf '%s skipped\n' "$skip"
printf '%s passed, %s failed\n' "$pass" "$fail"
[ "$fail" -eq 0 ]
