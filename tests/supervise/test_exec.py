#!/usr/bin/env python3
"""One `ENV LD_PRELOAD` covers the container (SPEC Behaviour 17): a program
the preload can't reach (Go, or no ELF interpreter), exec'd or spawned by a
preloaded one, runs under the supervisor, with the launcher's PID semantics.

Run as root: `python3 tests/supervise/test_exec.py [TEST...]`. It re-runs
itself in a network namespace of its own (tests/in-netns.sh, named
hostshim-core-misc-exec-PID). Inside: /etc/hosts server=127.0.0.5; a DNS
responder on 127.0.0.53 that knows nothing (NXDOMAIN); HTTP on
127.0.0.5:9000 answering "listener=ADDR:PORT host=HOST". The rule is
app.test = server:9000, given in HOSTSHIM_MAP only: LD_PRELOAD and that
variable are all a test sets, as a Dockerfile's ENV lines would.

Clients built here: the Go client of tests/supervise (pure Go: it connects
and resolves with raw system calls), a static musl C client when musl-gcc
is there, and a dynamic C program. Prints one line per check and
"N passed, M failed"; exit 1 on any failure.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
sys.dont_write_bytecode = True

LIB = os.path.abspath(os.path.join(REPO, os.environ.get("HOSTSHIM_TEST_LIB", "build/libhostshim.so")))
SUPERVISOR = os.path.abspath(os.path.join(REPO, os.environ.get("HOSTSHIM_SUPERVISOR",
                                                               "build/hostshim-supervise")))
HOSTS = "127.0.0.1 localhost\n127.0.0.5 server"
URL = "http://app.test/"
REACHED = "listener=127.0.0.5:9000 host=app.test"

RESULTS = []
BIN = {}
TMP = None
TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def check(what, ok, detail=""):
    RESULTS.append(bool(ok))
    print(("ok    " if ok else "FAIL  ") + what, flush=True)
    if not ok and detail:
        print("\n".join("    | " + l for l in str(detail)[-3000:].splitlines()), flush=True)


def env(**extra):
    """the container's environment: the preload and the rule, nothing else"""
    e = {"PATH": os.path.join(TMP, "bin") + ":/usr/bin:/bin", "HOME": TMP, "LANG": "C",
         "LD_PRELOAD": LIB, "HOSTSHIM_MAP": "app.test=server:9000",
         "HOSTSHIM_SUPERVISOR": SUPERVISOR}
    e.update({k: v for k, v in extra.items() if v is not None})
    for k in [k for k, v in extra.items() if v is None]:
        e.pop(k, None)
    return e


def run(argv, timeout=60, **extra):
    p = subprocess.run(argv, env=env(**extra), capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL, cwd=TMP)
    p.show = f"$ {' '.join(argv)}\nexit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"
    return p


def build():
    genv = dict(os.environ, GOCACHE=os.path.join(TMP, "gocache"), GOPATH=os.path.join(TMP, "gopath"),
                GO111MODULE="off", CGO_ENABLED="0")
    bindir = os.path.join(TMP, "bin")
    os.makedirs(bindir)
    with open(os.path.join(TMP, "showenv.c"), "w") as f:
        f.write('#include <stdio.h>\n#include <stdlib.h>\n'
                'int main(void) { const char *p = getenv("LD_PRELOAD"), *s = getenv("HOSTSHIM_SUPERVISED");\n'
                '  printf("preload=%s supervised=%s\\n", p ? p : "-", s ? s : "-"); return 0; }\n')
    with open(os.path.join(TMP, "goenv.go"), "w") as f:
        f.write('package main\n\nimport (\n\t"fmt"\n\t"os"\n)\n\nfunc get(k string) string {\n'
                '\tif v, ok := os.LookupEnv(k); ok {\n\t\treturn v\n\t}\n\treturn "-"\n}\n\n'
                'func main() {\n\tfmt.Printf("preload=%s supervised=%s\\n", get("LD_PRELOAD"), '
                'get("HOSTSHIM_SUPERVISED"))\n}\n')
    jobs = {
        "goget": (["go", "build", "-o", "{out}", os.path.join(HERE, "clients", "goget.go")], genv),
        "static_get": (["musl-gcc", "-static", "-O1", "-o", "{out}",
                        os.path.join(HERE, "clients", "static_get.c")], None),
        "showenv": (["cc", "-O1", "-o", "{out}", os.path.join(TMP, "showenv.c")], None),
        "goenv": (["go", "build", "-o", "{out}", os.path.join(TMP, "goenv.go")], genv),
    }
    for name, (cmd, e) in jobs.items():
        out = os.path.join(bindir, name)
        if shutil.which(cmd[0]) is None:
            print(f"cannot build {name}: {cmd[0]} not installed (.ci/install-deps)")
            continue
        p = subprocess.run([c.replace("{out}", out) for c in cmd], env=e, capture_output=True,
                           text=True, timeout=300)
        if p.returncode:
            print(f"building {name} failed:\n{p.stderr}")
            continue
        BIN[name] = out


def need(*names):
    missing = [n for n in names if n not in BIN]
    if missing:
        check("client(s) built: " + ", ".join(missing), False, "see the build messages above")
    return not missing


# ---- the tests -------------------------------------------------------------
@test
def shell_exec_go():
    if not need("goget"):
        return
    # the condition: under the preload alone, a Go program does not reach the target
    r = run(["sh", "-c", 'exec "$0" "$1"', BIN["goget"], URL], HOSTSHIM_SUPERVISE="off")
    check("condition: with supervision off, the exec'd Go program misses app.test",
          r.returncode != 0 and REACHED not in r.stdout, r.show)
    r = run(["sh", "-c", 'exec "$0" "$1"', BIN["goget"], URL], HOSTSHIM_LOG="info")
    check("a shell that execs a Go program: the redirect reaches server:9000",
          r.returncode == 0 and REACHED in r.stdout, r.show)
    check("... and says so at info",
          f"hostshim: {BIN['goget']} is a Go program: running it supervised by {SUPERVISOR}" in r.stderr,
          r.show)
    r = run(["sh", "-c", 'exec "$0" "$1"', BIN["goget"], URL])
    check("... silently at the default level", r.returncode == 0 and r.stderr == "", r.show)


@test
def shell_runs_go_by_path_search():
    if not need("goget"):
        return
    # env(1) calls execvp, which glibc runs through its own __execve
    r = run(["sh", "-c", "env goget " + URL])
    check("execvp through PATH (env goget URL): redirected", REACHED in r.stdout, r.show)
    r = run(["sh", "-c", "goget " + URL + "; echo rc=$?"])
    check("a shell's fork + exec of a Go program: redirected, the shell goes on",
          REACHED in r.stdout and "rc=0" in r.stdout, r.show)


@test
def exit_status_and_pid():
    if not need("goget"):
        return
    # the Go program's exit status is the exec'd process's: an unmapped
    # name that does not resolve makes goget exit 1
    r = run(["sh", "-c", 'exec "$0" http://nosuch.test/', BIN["goget"]])
    check("the program's exit status passes through (1)", r.returncode == 1, r.show)
    # the same PID: the shell's $$ is the process the parent waits for
    script = 'echo pid=$$; exec "$0" "$1"'
    p = subprocess.Popen(["sh", "-c", script, BIN["goget"], URL], env=env(), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, cwd=TMP)
    out, err = p.communicate(timeout=60)
    check("the exec keeps the PID: the parent's child ends with the program's status",
          f"pid={p.pid}" in out and REACHED in out and p.returncode == 0, out + err)


@test
def signal_reaches_the_program():
    if not need("goget"):
        return
    import signal
    import socket
    import time
    # a listener that never answers: the GET waits (goget's timeout is 10 s)
    mute = socket.socket()
    mute.bind(("127.0.0.5", 9010))
    mute.listen(8)
    try:
        p = subprocess.Popen(["sh", "-c", 'exec "$0" "$1"', BIN["goget"], "http://mute.test/"],
                             env=env(HOSTSHIM_MAP="mute.test=server:9010", HOSTSHIM_LOG="info"),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=TMP)
        time.sleep(2)
        p.send_signal(signal.SIGTERM)
        try:
            out, err = p.communicate(timeout=8)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
        check("SIGTERM to the exec'd PID ends the supervised program, which dies of it",
              p.returncode == -signal.SIGTERM and "running it supervised" in err,
              f"exit {p.returncode}\n{out}\n{err}")
        left = subprocess.run(["pgrep", "-f", BIN["goget"] + " http://mute.test/"],
                              capture_output=True, text=True).stdout.split()
        check("... and nothing of it is left running", not left, left)
        for pid in left:
            os.kill(int(pid), signal.SIGKILL)
    finally:
        mute.close()


NODE_SPAWN = r"""
const cp = require("child_process");
const [bin, url] = process.argv.slice(1);
const out = cp.execFileSync(bin, [url], {encoding: "utf8"});
console.log("execFileSync: " + out.trim());
const c = cp.spawn(bin, [url]);
let b = "";
c.stdout.on("data", d => b += d);
c.on("exit", code => console.log("spawn: code=" + code + " " + b.trim()));
"""


@test
def node_spawns_go():
    if not need("goget"):
        return
    if not shutil.which("node"):
        check("node installed", False, "node is needed (.ci/install-deps)")
        return
    r = run(["node", "-e", NODE_SPAWN, BIN["goget"], URL], HOSTSHIM_SUPERVISE="off")
    check("condition: Node's child Go program misses app.test with supervision off",
          r.returncode != 0 and REACHED not in r.stdout, r.show)
    r = run(["node", "-e", NODE_SPAWN, BIN["goget"], URL])
    check("Node execFileSync and spawn of a Go program: both redirected",
          f"execFileSync: {REACHED}" in r.stdout and f"spawn: code=0 {REACHED}" in r.stdout, r.show)


PY_POSIX_SPAWN = r"""
import os, sys
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ)
print("status=%d" % os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), flush=True)
"""


@test
def posix_spawn_go():
    if not need("goget"):
        return
    r = run([sys.executable, "-c", PY_POSIX_SPAWN, BIN["goget"], URL])
    check("posix_spawn of a Go program: redirected, its status returned",
          REACHED in r.stdout and "status=0" in r.stdout, r.show)


PY_SUBPROCESS = r"""
import os, subprocess, sys
# subprocess forks with vfork where it can: execve runs in the vfork child
r = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print("subprocess: rc=%d %s" % (r.returncode, r.stdout.strip()), flush=True)
os.execv(sys.argv[1], sys.argv[1:])
"""


@test
def python_subprocess_and_execv():
    if not need("goget"):
        return
    r = run([sys.executable, "-c", PY_SUBPROCESS, BIN["goget"], URL])
    check("Python subprocess.run (vfork + execve) and os.execv of a Go program: redirected",
          f"subprocess: rc=0 {REACHED}" in r.stdout and r.stdout.count(REACHED) == 2 and r.returncode == 0,
          r.show)


PY_FEXECVE = r"""
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
os.set_inheritable(fd, sys.argv[2] == "inheritable")
os.execve(fd, [sys.argv[1]] + sys.argv[3:], os.environ)   # fexecve(3)
"""


@test
def fexecve_go():
    if not need("goget"):
        return
    r = run([sys.executable, "-c", PY_FEXECVE, BIN["goget"], "inheritable", URL])
    check("fexecve of a Go program (an fd the exec keeps): redirected", REACHED in r.stdout, r.show)
    r = run([sys.executable, "-c", PY_FEXECVE, BIN["goget"], "cloexec", URL], HOSTSHIM_LOG="info")
    check("fexecve of a close-on-exec fd: run as before, not supervised",
          REACHED not in r.stdout and "running it supervised" not in r.stderr, r.show)


@test
def static_program():
    if not need("static_get"):
        return
    r = run(["sh", "-c", 'exec "$0" app.test 80', BIN["static_get"]], HOSTSHIM_SUPERVISE="off")
    check("condition: a static program misses app.test with supervision off",
          REACHED not in r.stdout, r.show)
    r = run(["sh", "-c", 'exec "$0" app.test 80', BIN["static_get"]], HOSTSHIM_LOG="info")
    check("a shell that execs a static program: redirected",
          REACHED in r.stdout and "is statically linked: running it supervised" in r.stderr, r.show)


@test
def dynamic_program_stays_preloaded():
    if not need("showenv"):
        return
    r = run(["sh", "-c", 'exec "$0"', BIN["showenv"]], HOSTSHIM_LOG="info")
    check("a dynamic program exec'd keeps the preload, no supervisor",
          r.stdout.strip() == f"preload={LIB} supervised=-" and "supervised" not in r.stderr, r.show)


@test
def valgrind_keeps_the_preload():
    if not need("showenv"):
        return
    if not shutil.which("valgrind"):
        check("valgrind installed", False, "valgrind is needed (.ci/install-deps)")
        return
    # valgrind execs its tool, a static program, which loads the program
    r = run(["valgrind", "-q", "--tool=none", BIN["showenv"]], HOSTSHIM_LOG="info")
    check("valgrind's static tool is not supervised: the program under it keeps the preload",
          r.returncode == 0 and LIB in r.stdout and "supervised=-" in r.stdout
          and "running it supervised" not in r.stderr, r.show)


@test
def off_keeps_todays_behaviour():
    if not need("goget", "showenv"):
        return
    ini = os.path.join(TMP, "off.ini")
    with open(ini, "w") as f:
        f.write("[shim]\nsupervise = off\n\n[map]\napp.test = server:9000\n")
    for what, extra in (("HOSTSHIM_SUPERVISE=off", {"HOSTSHIM_SUPERVISE": "off"}),
                        ("supervise = off in [shim]", {"HOSTSHIM_CONFIG": ini, "HOSTSHIM_MAP": None})):
        r = run(["sh", "-c", 'exec "$0" "$1"', BIN["goget"], URL], HOSTSHIM_LOG="info", **extra)
        check(f"{what}: not supervised", REACHED not in r.stdout and "supervised" not in r.stderr, r.show)
    r = run(["sh", "-c", 'exec "$0" "$1"', BIN["goget"], URL], HOSTSHIM_CONFIG=ini, HOSTSHIM_MAP=None,
            HOSTSHIM_SUPERVISE="auto")
    check("HOSTSHIM_SUPERVISE=auto wins over the file's off", REACHED in r.stdout, r.show)


@test
def config_key():
    if not need("showenv"):
        return
    for value, ok in (("auto", True), ("off", True), ("maybe", False)):
        ini = os.path.join(TMP, f"key-{value}.ini")
        with open(ini, "w") as f:
            f.write(f"[shim]\nsupervise = {value}\n\n[map]\napp.test = server:9000\n")
        r = run([BIN["showenv"]], HOSTSHIM_CONFIG=ini, HOSTSHIM_MAP=None, HOSTSHIM_STRICT="1")
        if ok:
            check(f"supervise = {value}: a valid key", r.returncode == 0 and r.stderr == "", r.show)
        else:
            check("supervise = maybe: an error naming the line",
                  r.returncode == 2 and f"{ini}:2: supervise must be auto or off" in r.stderr, r.show)


@test
def not_inside_a_supervised_tree():
    if not need("goget"):
        return
    r = run(["sh", "-c", 'exec "$0" "$1"', BIN["goget"], URL], HOSTSHIM_SUPERVISED="1", HOSTSHIM_LOG="info")
    check("HOSTSHIM_SUPERVISED set: the library does not supervise again",
          REACHED not in r.stdout and "running it supervised" not in r.stderr, r.show)
    # what the supervised program sees: the marker, and LD_PRELOAD without
    # libhostshim.so (as the launcher's --supervise leaves it)
    if not need("goenv"):
        return
    r = run(["sh", "-c", 'exec "$0"', BIN["goenv"]], LD_PRELOAD=f"{LIB}:/usr/lib/nonexistent-other.so")
    # the marker: 1 from the library's exec, or the supervisor's PID, which
    # it sets for COMMAND (a launcher run inside says who supervises it)
    check("the supervised program: HOSTSHIM_SUPERVISED set, the other preload entry kept, ours dropped",
          re.search(r"preload=/usr/lib/nonexistent-other\.so supervised=[1-9][0-9]*\b", r.stdout), r.show)


@test
def without_configuration_nothing_changes():
    if not need("goget"):
        return
    r = run(["sh", "-c", 'exec "$0" "$1"', BIN["goget"], URL], HOSTSHIM_MAP=None, HOSTSHIM_CONFIG="/dev/null",
            HOSTSHIM_LOG="info")
    check("no configuration: not supervised", "running it supervised" not in r.stderr, r.show)


@test
def supervisor_missing():
    if not need("goget"):
        return
    r = run(["sh", "-c", 'exec "$0" "$1"', BIN["goget"], URL], HOSTSHIM_SUPERVISOR="/nonexistent/sup")
    check("supervisor not found: one warning, the program runs as before",
          "hostshim-supervise not found" in r.stderr and REACHED not in r.stdout
          and "app.test" in r.stderr, r.show)


# ---- running ---------------------------------------------------------------
def inside():
    global TMP
    import hs_dns
    import hs_servers
    TMP = tempfile.mkdtemp(prefix="hostshim-core-misc-exec-")
    started = []
    try:
        log = hs_servers.RequestLog()
        dns = hs_dns.DnsResponder("127.0.0.53", 53, {})
        dns.start()
        started.append(dns)
        started.append(hs_servers.HttpListener("127.0.0.5", 9000, log).start())
        build()
        only = sys.argv[2:]
        for t in TESTS:
            if not only or t.__name__ in only:
                print(f"-- {t.__name__}", flush=True)
                try:
                    t()
                except Exception:
                    check(t.__name__ + " ran", False, traceback.format_exc())
    finally:
        for s in started:
            try:
                s.stop()
            except Exception:
                pass
        shutil.rmtree(TMP, ignore_errors=True)
    failed = RESULTS.count(False)
    print(f"{len(RESULTS) - failed} passed, {failed} failed")
    return 1 if failed or not RESULTS else 0


def main():
    if sys.argv[1:2] == ["--inside"]:
        return inside()
    for f in (LIB, SUPERVISOR):
        if not os.path.exists(f):
            print(f"{f} missing: run make first\n0 passed, 1 failed")
            return 1
    argv = ["sh", os.path.join(REPO, "tests", "in-netns.sh"), "core-misc-exec", HOSTS,
            sys.executable, os.path.abspath(__file__), "--inside", *sys.argv[1:]]
    return subprocess.call(argv)


if __name__ == "__main__":
    sys.exit(main())
