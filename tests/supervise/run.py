#!/usr/bin/env python3
"""Tests of supervised mode: `hostshim --supervise -- COMMAND`.

Run as root: `python3 tests/supervise/run.py` (or `make supervise-test`).
The file re-runs itself inside a network namespace of its own through
tests/in-netns.sh, so nothing leaves the machine. Inside:

  /etc/hosts   localhost=127.0.0.1  server=127.0.0.5
  DNS          127.0.0.53:53 (the resolv.conf nameserver): upstream.test,
               portonly.test and slow.test (answered 1 s late) = 127.0.0.7,
               everything else NXDOMAIN
  HTTP         127.0.0.5:9000 (server), 127.0.0.7:9000 (upstream),
               DECOY 127.0.0.1:80; each answers "listener=ADDR:PORT host=HOST"
  HTTPS        127.0.0.5:9443, self-signed for auth.example.test, adds sni=NAME
  UDP echo     127.0.0.5:5353
  rules        auth.localhost = server:9000, app.test = server:9000,
               auth.example.test:443 = server:9443, udp.test = server:5353,
               idp.test = server:9100, *.wild.test = server:9000,
               portonly.test:8443 = server:9000, v6only.test = [::1]:9,
               127.0.0.1:80 = server:9000
  OIDC         127.0.0.5:9100: an issuer that builds its URLs from the Host
               header, as Authentik does (discovery + JWKS, RS256 by openssl)

Clients are built here: Go (Debian's golang-go, pure and cgo), a static musl
C client, small C programs. Most tests run a client without and then with
supervision, and check both outcomes, so that a broken supervisor fails.
Prints one line per test and a final "N passed, M failed"; exit 1 on any
failure. Everything started is stopped, and the temp directory removed,
on every way out.
"""
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

HOSTS = "127.0.0.1 localhost\n127.0.0.5 server"
LAUNCHER = os.path.join(REPO, "build", "hostshim")
# HOSTSHIM_SUPERVISOR (read by the launcher) picks another build of it.
SUPERVISOR = os.path.abspath(os.path.join(REPO, os.environ.get("HOSTSHIM_SUPERVISOR",
                                                               "build/hostshim-supervise")))
os.environ["HOSTSHIM_SUPERVISOR"] = SUPERVISOR
RULES = "\n".join([
    "auth.localhost = server:9000",
    "app.test = server:9000",
    "auth.example.test:443 = server:9443",
    "udp.test = server:5353",
    "idp.test = server:9100",
    "*.wild.test = server:9000",
    "portonly.test:8443 = server:9000",
    "v6only.test = [::1]:9",
    "127.0.0.1:80 = server:9000",
])
SERVER = "listener=127.0.0.5:9000"
DECOY = "listener=127.0.0.1:80"

RESULTS = []
TMP = None
DNS = None
BIN = {}


class Result:
    def __init__(self, p, secs):
        self.rc, self.out, self.err, self.secs = p.returncode, p.stdout, p.stderr, secs

    def __str__(self):
        return f"rc={self.rc} out={self.out.strip()[:300]!r} err={self.err.strip()[:400]!r}"


def run(argv, supervised, env=None, log=None, stdin=None, timeout=30):
    """argv, under `hostshim --supervise` with RULES when supervised"""
    e = dict(os.environ)
    e.pop("LD_PRELOAD", None)
    e.update(env or {})
    if supervised:
        argv = [LAUNCHER, "--supervise", "-m", RULES] + (["-l", log] if log else []) + ["--"] + argv
    t = time.monotonic()
    p = subprocess.run(argv, env=e, input=stdin, capture_output=True, text=True, timeout=timeout)
    return Result(p, time.monotonic() - t)


def check(name, cond, *shown):
    RESULTS.append(bool(cond))
    print(("ok   " if cond else "FAIL ") + name, flush=True)
    for s in shown:
        print("       " + str(s), flush=True)


def test(fn):
    """a test function; an exception counts as a failure"""
    def wrapped():
        try:
            fn()
        except Exception:
            check(fn.__name__ + " (exception)", False, traceback.format_exc())
    wrapped.__name__ = fn.__name__
    TESTS.append(wrapped)
    return fn


TESTS = []

# ---- building ------------------------------------------------------------


def build_all():
    clients = os.path.join(HERE, "clients")
    cflags = ["-std=gnu11", "-O1", "-g", "-Wall", "-Wextra", "-Werror"]
    jobs = {
        "sockops": ["cc", *cflags, "-o", "{out}", os.path.join(clients, "sockops.c")],
        "restrict": ["cc", *cflags, "-o", "{out}", os.path.join(clients, "restrict.c")],
        "resolve": ["cc", *cflags, "-o", "{out}", os.path.join(clients, "resolve.c")],
        "sigcount": ["cc", *cflags, "-o", "{out}", os.path.join(clients, "sigcount.c")],
        "static_get": ["musl-gcc", "-static", *cflags, "-o", "{out}", os.path.join(clients, "static_get.c")],
        "go_pure": ["go", "build", "-o", "{out}", os.path.join(clients, "goget.go")],
        "go_cgo": ["go", "build", "-o", "{out}", os.path.join(clients, "goget.go")],
        "api": ["go", "build", "-o", "{out}", os.path.join(REPO, "examples", "nextjs-authentik", "api", "main.go")],
    }
    genv = dict(os.environ, GOCACHE=os.path.join(TMP, "gocache"), GOPATH=os.path.join(TMP, "gopath"),
                GOFLAGS="-mod=mod", GO111MODULE="off")
    for name, cmd in jobs.items():
        out = os.path.join(TMP, name)
        env = dict(genv, CGO_ENABLED="1" if name == "go_cgo" else "0")
        if shutil.which(cmd[0]) is None:
            print(f"cannot build {name}: {cmd[0]} not installed (.ci/install-deps)")
            continue
        p = subprocess.run([c.replace("{out}", out) for c in cmd], env=env, capture_output=True,
                           text=True, timeout=300)
        if p.returncode:
            print(f"building {name} failed:\n{p.stderr}")
            continue
        BIN[name] = out


# Docker's default capability set (docker.io 20.10, Debian 12)
DOCKER_CAPS = ("chown,dac_override,fowner,fsetid,kill,setgid,setuid,setpcap,net_bind_service,"
               "net_raw,sys_chroot,mknod,audit_write,setfcap")


def docker_like(nobody=False):
    """a prefix: Docker 20.10's defaults, its capabilities for root (or, as
    USER nobody, none) and its seccomp profile's refusals (restrict docker)"""
    argv = ["setpriv"]
    if nobody:
        argv += ["--reuid=65534", "--regid=65534", "--clear-groups"]
    caps = ",".join("+" + c for c in DOCKER_CAPS.split(","))
    return argv + ["--inh-caps=-all", "--bounding-set=-all," + caps, "--", BIN["restrict"], "docker"]


def need(*names):
    missing = [n for n in names if n not in BIN]
    if missing:
        check("client(s) built: " + ", ".join(missing), False, "see the build messages above")
    return not missing


# ---- the tests -------------------------------------------------------------


@test
def go_pure_http():
    """pure Go: its own DNS client over UDP, raw connect"""
    if not need("go_pure"):
        return
    plain = run([BIN["go_pure"], "http://auth.localhost/"], False)
    sup = run([BIN["go_pure"], "http://auth.localhost/"], True, log="info")
    print("       without: " + str(plain))
    print("       with:    " + str(sup))
    check("pure Go, unsupervised: auth.localhost does not resolve", plain.rc != 0 and "no such host" in plain.err)
    check("pure Go, supervised: GET reaches server:9000 with Host: auth.localhost",
          sup.rc == 0 and sup.out.strip() == SERVER + " host=auth.localhost")
    check("info line names the redirect",
          "hostshim: auth.localhost:80 -> server:9000 (127.0.0.5:9000)" in sup.err, sup.err)


@test
def go_cgo_http():
    """cgo with netdns=cgo: the lookup through glibc, connect raw"""
    if not need("go_cgo"):
        return
    env = {"GODEBUG": "netdns=cgo"}
    plain = run([BIN["go_cgo"], "http://auth.localhost/"], False, env=env)
    sup = run([BIN["go_cgo"], "http://auth.localhost/"], True, env=env)
    print("       without: " + str(plain))
    print("       with:    " + str(sup))
    check("cgo Go, unsupervised: fails", plain.rc != 0)
    check("cgo Go (netdns=cgo), supervised: reaches server:9000 with Host: auth.localhost",
          sup.rc == 0 and sup.out.strip() == SERVER + " host=auth.localhost")
    # ENV LD_PRELOAD for a whole container reaches Go programs too: the
    # library must step aside there (a synthetic address would reach no one)
    lib = os.path.join(REPO, "build", "libhostshim.so")
    pre = run([BIN["go_cgo"], "http://auth.localhost/"], False,
              env=dict(env, LD_PRELOAD=lib, HOSTSHIM_MAP=RULES))
    print("       preloaded: " + str(pre))
    check("cgo Go under the preload: fails as without the library, not at a synthetic address",
          pre.rc == plain.rc and "no such host" in pre.err and "127.88." not in pre.err, pre)
    check("... and one warning names supervised mode",
          pre.err.count("hostshim: ") == 1 and "--supervise" in pre.err, pre)


@test
def go_https_sni():
    if not need("go_pure") or "cert" not in BIN:
        return check("HTTPS test set up", False, "no certificate (openssl?)")
    url = "https://auth.example.test/"
    plain = run([BIN["go_pure"], url, BIN["cert"]], False)
    sup = run([BIN["go_pure"], url, BIN["cert"]], True)
    print("       without: " + str(plain))
    print("       with:    " + str(sup))
    check("HTTPS, unsupervised: fails", plain.rc != 0)
    check("HTTPS, supervised: server:9443 with Host and SNI auth.example.test, certificate verified",
          sup.rc == 0 and sup.out.strip() == "listener=127.0.0.5:9443 host=auth.example.test sni=auth.example.test")


@test
def go_unmapped_forwarded():
    """a name no rule maps is forwarded to the real nameserver unchanged"""
    if not need("go_pure"):
        return
    sup = run([BIN["go_pure"], "http://upstream.test:9000/"], True)
    check("unmapped name through the stub: upstream.test answered by the real DNS",
          sup.rc == 0 and sup.out.strip() == "listener=127.0.0.7:9000 host=upstream.test:9000", sup)
    pr = run([BIN["go_pure"], "http://portonly.test:8443/"], True)
    po = run([BIN["go_pure"], "http://portonly.test:9000/"], True)
    check("port-specific rule only: its port goes to the target, other ports to the name's own address",
          pr.rc == 0 and pr.out.strip() == SERVER + " host=portonly.test:8443"
          and po.rc == 0 and po.out.strip() == "listener=127.0.0.7:9000 host=portonly.test:9000", pr, po)
    w = run([BIN["go_pure"], "http://a.b.wild.test/"], True)
    check("wildcard rule: a.b.wild.test reaches server:9000",
          w.rc == 0 and w.out.strip() == SERVER + " host=a.b.wild.test", w)
    nx = run([BIN["go_pure"], "http://nothere.test/"], True)
    check("unknown name: NXDOMAIN passed through (no such host)", nx.rc != 0 and "no such host" in nx.err, nx)


@test
def static_musl():
    """musl's resolver: sendto on an unconnected socket, checks the source"""
    if not need("static_get"):
        return
    plain = run([BIN["static_get"], "app.test", "80"], False)
    sup = run([BIN["static_get"], "app.test", "80"], True)
    print("       without: " + str(plain))
    print("       with:    " + str(sup))
    check("static musl, unsupervised: does not resolve", plain.rc != 0 and "getaddrinfo" in plain.err)
    check("static musl, supervised: reaches server:9000 with Host: app.test",
          sup.rc == 0 and sup.out.strip() == SERVER + " host=app.test")


@test
def node_fetch():
    if shutil.which("node") is None:
        return check("node installed", False)
    js = ("fetch('http://app.test/').then(r => r.text()).then(t => process.stdout.write(t))"
          ".catch(e => { console.error(String(e.cause || e)); process.exit(1); })")
    plain = run(["node", "-e", js], False)
    sup = run(["node", "-e", js], True, env={"LD_PRELOAD": ""})
    print("       without: " + str(plain))
    print("       with:    " + str(sup))
    check("Node, unsupervised: app.test does not resolve", plain.rc != 0 and "ENOTFOUND" in plain.err)
    check("Node, supervised (no preload): reaches server:9000", sup.rc == 0 and sup.out.strip() == SERVER + " host=app.test")


UDP_PY = r"""
import socket, sys
ai = socket.getaddrinfo("udp.test", 5353, socket.AF_INET, socket.SOCK_DGRAM)[0]
print("resolved", ai[4][0])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(b"ping", ai[4])
print(s.recvfrom(200)[0].decode())
"""

DIG_PY = r"""
import socket, struct, sys
def ask(name, qtype=1):
    q = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
    q += struct.pack("!HH", qtype, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    s.sendto(q, ("127.0.0.53", 53))
    r, src = s.recvfrom(4096)
    rcode, an = r[3] & 15, struct.unpack("!H", r[6:8])[0]
    addr = socket.inet_ntop(socket.AF_INET, r[-4:]) if an and qtype == 1 else "-"
    print(name, qtype, "rcode", rcode, "answers", an, "addr", addr, "from", "%s:%d" % src)
ask("udp.test"); ask("udp.test", 28); ask("upstream.test"); ask("nothere.test")
ask("v6only.test", 28); ask("v6only.test", 1)
"""

TCP_PY = r"""
import socket, struct
q = struct.pack("!HHHHHH", 0x4321, 0x0100, 1, 0, 0, 0) + b"\3app\4test\0" + struct.pack("!HH", 1, 1)
s = socket.create_connection(("127.0.0.53", 53), timeout=3)
s.sendall(struct.pack("!H", len(q)) + q)
n = struct.unpack("!H", s.recv(2))[0]
r = b""
while len(r) < n:
    r += s.recv(n - len(r))
print("tcp answers", struct.unpack("!H", r[6:8])[0], "addr", socket.inet_ntoa(r[-4:]))
"""


@test
def udp_through_stub():
    plain = run([sys.executable, "-c", UDP_PY], False)
    sup = run([sys.executable, "-c", UDP_PY], True)
    print("       without: " + str(plain))
    print("       with:    " + str(sup))
    check("UDP, unsupervised: udp.test does not resolve", plain.rc != 0)
    check("UDP, supervised: sendto to the synthetic address reaches server:5353",
          sup.rc == 0 and "resolved 127.88." in sup.out and "udp-listener=127.0.0.5:5353 got=ping" in sup.out)
    dig = run([sys.executable, "-c", DIG_PY], True)
    lines = dig.out.splitlines()
    print("       " + str(dig))
    ok = (len(lines) == 6 and "rcode 0 answers 1 addr 127.88." in lines[0]
          and "rcode 0 answers 0" in lines[1]                   # AAAA: IPv4-only target
          and "rcode 0 answers 1 addr 127.0.0.7" in lines[2]     # forwarded
          and "rcode 3 answers 0" in lines[3]                    # NXDOMAIN forwarded
          and "28 rcode 0 answers 1" in lines[4]                 # IPv6-only target: AAAA
          and "1 rcode 0 answers 0" in lines[5]                  # ... and no A
          and all(l.endswith("from 127.0.0.53:53") for l in lines))
    check("stub answers: A synthetic, AAAA empty (AAAA only for an IPv6-only target), others forwarded;"
          " replies from 127.0.0.53:53", ok)
    tcp = run([sys.executable, "-c", TCP_PY], True)
    check("DNS over TCP (after truncation) answered by the stub", tcp.rc == 0 and "tcp answers 1 addr 127.88." in tcp.out, tcp)
    tcp = run([sys.executable, "-c", TCP_PY], False)
    check("... and NXDOMAIN without supervision", tcp.rc == 0 and "tcp answers 0" in tcp.out, tcp)


V6_PY = r"""
import socket
a = socket.getaddrinfo("app.test", 80, socket.AF_INET, socket.SOCK_STREAM)[0][4][0]
for dest in ("::ffff:" + a, "::ffff:127.0.0.1"):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.settimeout(3)
    s.connect((dest, 80))
    s.sendall(b"GET / HTTP/1.0\r\nHost: app.test\r\n\r\n")
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    print(dest.startswith("::ffff:127.88."), data.split(b"\r\n\r\n", 1)[1].decode().strip())
"""


@test
def v4_mapped_from_ipv6_socket():
    r = run([sys.executable, "-c", V6_PY], True)
    want = f"True {SERVER} host=app.test\nFalse {SERVER} host=app.test\n"
    check("AF_INET6 socket to ::ffff:127.88.x.y and ::ffff:127.0.0.1:80 reaches server:9000",
          r.rc == 0 and r.out == want, r)


LATE_PY = r"""
import socket, sys, time
print("ready", flush=True)
sys.stdin.readline()
for attempt in (1, 2):
    try:
        s = socket.create_connection(("127.0.0.1", 8081), timeout=3)
        s.sendall(b"GET / HTTP/1.0\r\nHost: late\r\n\r\n")
        print(attempt, s.recv(4096).split(b"\r\n\r\n", 1)[1].decode().strip(), flush=True)
    except OSError as e:
        print(attempt, "refused" if isinstance(e, ConnectionRefusedError) else e, flush=True)
    time.sleep(1.5)
"""


@test
def address_rule_target_resolved_later():
    """a target that did not resolve at start is tried again when needed"""
    argv = [LAUNCHER, "--supervise", "-m", "127.0.0.1:8081 = late.test:9000", "--",
            sys.executable, "-c", LATE_PY]
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = p.stdout.readline()           # the supervisor has started
        DNS.set("late.test", a=["127.0.0.7"])  # now the target resolves
        out, err = p.communicate("go\n", timeout=20)
    finally:
        DNS.remove("late.test")
        if p.poll() is None:
            p.kill()
            p.wait()
    check("address rule whose target resolves only later: the first connect as is, the next redirected",
          first == "ready\n" and out == "1 refused\n2 listener=127.0.0.7:9000 host=late\n", (out, err))


FLOOD_PY = r"""
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(("127.0.0.53", 53))
for i in range(3000):
    q = struct.pack("!HHHHHH", i, 0x0100, 1, 0, 0, 0) + b"\4slow\4test\0" + struct.pack("!HH", 1, 1)
    s.send(q)
# The flood overflows the stub's socket buffer, and the kernel drops what
# doesn't fit, as it would for any nameserver: a resolver's retry is fair.
for attempt in range(3):
    try:
        print("resolved", socket.getaddrinfo("app.test", 80, socket.AF_INET, socket.SOCK_STREAM)[0][4][0])
        break
    except socket.gaierror as e:
        print("attempt", attempt, e)
import os
with open("/proc/%d/status" % os.getppid()) as f:   # the supervisor's
    print([l.split()[1] for l in f if l.startswith("Threads:")][0], "threads")
"""


@test
def query_flood():
    """3000 queries at once (slow.test: the upstream answers 1 s late)"""
    r = run([sys.executable, "-c", FLOOD_PY], True)
    threads = int(r.out.split()[-2]) if r.out.endswith(" threads\n") else 10 ** 6
    check("a flood of queries to a slow upstream: the stub still answers a mapped name",
          r.rc == 0 and "resolved 127.88." in r.out, r)
    check("... and the supervisor's threads stay bounded (128 forwarded queries in flight)",
          threads <= 2 * 128 + 8, r)


@test
def child_process_covered():
    if shutil.which("curl") is None:
        return check("curl installed", False)
    cmd = ["sh", "-c", "curl -sS --max-time 5 http://app.test/"]
    plain = run(cmd, False)
    sup = run(cmd, True)
    print("       without: " + str(plain))
    print("       with:    " + str(sup))
    check("sh -c curl, unsupervised: fails", plain.rc != 0)
    check("sh -c curl, supervised: the grandchild reaches server:9000",
          sup.rc == 0 and sup.out.strip() == SERVER + " host=app.test")
    loc = run(["sh", "-c", "curl -sS --max-time 5 http://auth.localhost/"], True)
    check("curl's own *.localhost answer (127.0.0.1:80) follows the address rule",
          loc.rc == 0 and loc.out.strip() == SERVER + " host=auth.localhost", loc)


@test
def socket_stays_the_programs():
    if not need("sockops"):
        return
    plain = run([BIN["sockops"], "127.0.0.1", "80"], False)
    sup = run([BIN["sockops"], "127.0.0.1", "80"], True)
    print("       without: " + plain.out.replace("\n", " | "))
    print("       with:    " + sup.out.replace("\n", " | "))
    steps = lambda r: [l for l in r.out.splitlines() if not l.startswith(("body ", "buffer after"))]
    check("non-blocking connect, unsupervised: the decoy at 127.0.0.1:80", plain.rc == 0 and DECOY in plain.out)
    check("supervised: EINPROGRESS, EALREADY/EISCONN, epoll EPOLLOUT, SO_ERROR 0, EISCONN; reaches server:9000",
          sup.rc == 0 and SERVER + " host=auth.localhost" in sup.out, sup)
    check("every step answered as without supervision", steps(sup) == steps(plain))
    check("the program's own sockaddr buffer holds the target afterwards (127.0.0.5:9000)",
          "buffer after: 127.0.0.5:9000" in sup.out and "buffer after: 127.0.0.1:80" in plain.out)


@test
def exit_status_signals_stdio():
    r = run(["sh", "-c", "exit 7"], True)
    check("exit status passes through (7)", r.rc == 7, r)
    r = run(["sh", "-c", "kill -USR1 $$"], True)
    check("death by signal passes through (SIGUSR1)", r.rc == -signal.SIGUSR1, r)
    r = run(["sh", "-c", "cat; echo err >&2"], True, stdin="in-data\n")
    check("stdin, stdout, stderr are the command's", r.rc == 0 and r.out == "in-data\n" and r.err == "err\n", r)
    # SIGPIPE ignored by the caller (the supervisor ignores it itself).
    show = "grep -E '^Sig(Ign|Blk)' /proc/self/status"
    r1 = run(["sh", "-c", "trap '' PIPE; exec sh -c \"$0\"", show], False)
    r2 = run(["sh", "-c", "trap '' PIPE; exec \"$1\" --supervise -- sh -c \"$0\"", show, LAUNCHER], False)
    check("signal mask and ignored signals are the command's, as without supervision",
          r1.rc == 0 and r1.out == r2.out, r1, r2)
    r = run(["/nonexistent/prog"], True)
    check("command not found: 127", r.rc == 127, r)
    # A signal sent to the supervisor reaches the command, whose status we
    # get. (A shell can't trap what it was started with ignored: the
    # supervisor gets SIGINT and SIGQUIT at their defaults.)
    def defaults():
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGQUIT, signal.SIG_DFL)
    for name in ("TERM", "HUP", "INT", "USR1"):
        argv = [LAUNCHER, "--supervise", "--", "sh", "-c",
                f'trap "echo got-{name}; exit 42" {name}; echo ready; while :; do sleep 0.1; done']
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, preexec_fn=defaults)
        try:
            first = p.stdout.readline()
            p.send_signal(getattr(signal, "SIG" + name))
            out, _ = p.communicate(timeout=10)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        check(f"SIG{name} forwarded to the command; its status (42) is ours",
              first == "ready\n" and f"got-{name}" in out and p.returncode == 42, (first, out, p.returncode))


@test
def child_dies_with_supervisor():
    argv = [LAUNCHER, "--supervise", "--", "sh", "-c", "echo $$; exec sleep 60"]
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    child = None
    try:
        child = int(p.stdout.readline())
        p.kill()             # SIGKILL: no chance to forward anything
        p.wait()
        gone = False
        for _ in range(50):
            try:
                with open(f"/proc/{child}/stat") as f:
                    gone = f.read().split(") ")[1].startswith("Z")
            except FileNotFoundError:
                gone = True
            if gone:
                break
            time.sleep(0.1)
        check("PR_SET_PDEATHSIG: the command dies with the supervisor", gone)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        if child:
            try:
                os.kill(child, signal.SIGKILL)   # our own grandchild, by pid
            except ProcessLookupError:
                pass


@test
def pid1_reaps_orphans():
    """as a container's PID 1 (unshare --pid): orphans are reaped"""
    if not shutil.which("unshare"):
        return check("unshare present", False)
    script = ('sh -c "sleep 0.3 &"; sleep 1; '
              'echo "pid1=$(cat /proc/1/comm) zombies=$(cat /proc/[0-9]*/stat 2>/dev/null | grep -c ") Z ")"')
    r = run(["unshare", "--pid", "--fork", "--mount-proc", LAUNCHER, "--supervise", "--", "sh", "-c", script], False)
    check("PID 1: the supervisor reaps an orphan that exited", r.rc == 0 and r.out == "pid1=hostshim-superv zombies=0\n", r)
    if need("go_pure"):
        r = run(["unshare", "--pid", "--fork", LAUNCHER, "--supervise", "-m", RULES, "--",
                 BIN["go_pure"], "http://auth.localhost/"], False)
        check("PID 1 of a namespace whose /proc was not remounted: still redirects (process_vm_writev)",
              r.rc == 0 and r.out.strip() == SERVER + " host=auth.localhost", r)


@test
def docker_default_profile():
    """Docker 20.10: process_vm_readv, pidfd_getfd, kcmp refused; its caps"""
    if not need("restrict", "go_pure", "static_get"):
        return
    for nobody in (False, True):
        who = "USER nobody" if nobody else "root"
        r = run(docker_like(nobody) + [LAUNCHER, "--supervise", "-m", RULES, "-l", "info", "--",
                                       BIN["go_pure"], "http://auth.localhost/"], False)
        print("       " + str(r))
        check(f"Docker 20.10's profile and capabilities, {who}: pure Go reaches server:9000",
              r.rc == 0 and "restrict: docker filter installed" in r.out and SERVER + " host=auth.localhost" in r.out)
        r = run(docker_like(nobody) + [LAUNCHER, "--supervise", "-m", RULES, "--",
                                       BIN["static_get"], "app.test", "80"], False)
        check(f"... {who}: static musl (sendto without connect) reaches server:9000",
              r.rc == 0 and SERVER + " host=app.test" in r.out, r)
    r = run(docker_like(True) + [LAUNCHER, "--supervise", "-m", RULES, "-l", "info", "--", "true"], False)
    raw = [l for l in r.err.splitlines() if "raw socket" in l]
    check("USER nobody (no CAP_NET_RAW): one info line says what the missing raw socket means",
          r.rc == 0 and len(raw) == 1 and "CAP_NET_RAW" in raw[0] and "dnspython" in raw[0], r)


NODE_RESOLVE = r"""
const dns = require('dns').promises;
(async () => {
  for (const [fn, name] of [['resolve4', 'app.test'], ['resolve4', 'upstream.test'],
                            ['resolveSrv', 'upstream.test'], ['resolveSrv', 'app.test'],
                            ['resolve4', 'nothere.test']]) {
    try { console.log(fn, name, JSON.stringify(await dns[fn](name))); }
    catch (e) { console.log(fn, name, e.code); }
  }
})();
"""


@test
def resolvers_that_check_the_source():
    """c-ares (Node's dns.resolve*) drops a reply from another address"""
    if not need("resolve"):
        return
    want = {"app.test": "rcode 0 answers 1 addr 127.88.", "upstream.test": "rcode 0 answers 1 addr 127.0.0.7",
            "nothere.test": "rcode 3 answers 0 addr -"}
    for mode in ("connected", "unconnected", "tcp"):
        got = {n: run([BIN["resolve"], mode, n], True) for n in want}
        print(f"       {mode}: " + " | ".join(f"{n}: {r.out.strip()}" for n, r in got.items()))
        check(f"C resolver, {mode}{' UDP' if mode != 'tcp' else ''}, checking the reply's source address: "
              "mapped name synthetic, others as the real DNS answers",
              all(r.rc == 0 and want[n] in r.out and "from 127.0.0.53:" in r.out and "dropped" not in r.out
                  for n, r in got.items()), *got.values())
    plain = run([BIN["resolve"], "connected", "upstream.test"], False)
    check("... and without supervision the same unmapped answer", "rcode 0 answers 1 addr 127.0.0.7" in plain.out, plain)
    if shutil.which("node") is None:
        return check("node installed", False)
    plain = run(["node", "-e", NODE_RESOLVE], False)
    sup = run(["node", "-e", NODE_RESOLVE], True)
    print("       without: " + plain.out.replace("\n", " | "))
    print("       with:    " + sup.out.replace("\n", " | "))
    p, s = plain.out.splitlines(), sup.out.splitlines()
    check("Node dns.resolve4/resolveSrv (c-ares), unsupervised: app.test not found, upstream.test answered",
          p[:3] == ["resolve4 app.test ENOTFOUND", 'resolve4 upstream.test ["127.0.0.7"]',
                    "resolveSrv upstream.test ENODATA"], plain)
    check("Node dns.resolve4/resolveSrv, supervised: mapped name synthetic, the rest as without",
          len(s) == 5 and s[0].startswith('resolve4 app.test ["127.88.') and s[1:3] == p[1:3]
          and s[3] == "resolveSrv app.test ENODATA" and s[4] == p[4] == "resolve4 nothere.test ENOTFOUND", sup)


DROP_PRIVS_PY = r"""
import os, socket
os.setgroups([]); os.setresgid(65534, 65534, 65534); os.setresuid(65534, 65534, 65534)
for i in (1, 2):
    s = socket.create_connection(("127.0.0.1", 80), timeout=3)
    s.sendall(b"GET / HTTP/1.0\r\nHost: auth.localhost\r\n\r\n")
    print(s.recv(4096).split(b"\r\n\r\n", 1)[1].decode().strip(), flush=True)
"""


@test
def command_switches_user():
    """gosu/su-exec pattern under Docker's capabilities (no CAP_SYS_PTRACE)"""
    if not need("restrict", "go_pure"):
        return
    switch = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
    r = run(docker_like() + [LAUNCHER, "--supervise", "-m", RULES, "--"] + switch
            + [BIN["go_pure"], "http://auth.localhost/"], False)
    print("       " + str(r))
    check("COMMAND switches to nobody and execs (gosu, setpriv): pure Go still reaches server:9000",
          r.rc == 0 and SERVER + " host=auth.localhost" in r.out and "hostshim" not in r.err, r)
    # Debian's python3: the one running these tests may live where nobody can't read
    r = run(docker_like() + [LAUNCHER, "--supervise", "-m", RULES, "--", "/usr/bin/python3", "-c", DROP_PRIVS_PY],
            False)
    print("       " + str(r))
    warned = [l for l in r.err.splitlines() if l.startswith("hostshim: ")]
    check("a program that drops privileges itself (not dumpable): connects go where sent, and one "
          "warning at the default level says why and what to write instead",
          r.rc == 0 and r.out.endswith("installed\n" + (DECOY + " host=auth.localhost\n") * 2) and len(warned) == 1
          and "CAP_SYS_PTRACE" in warned[0] and "gosu app hostshim" in warned[0], r)


def supervisor_of(launcher_pid, timeout=5):
    """the pid of the child process of `launcher_pid` (unshare --fork)"""
    for _ in range(int(timeout / 0.02)):
        try:
            with open(f"/proc/{launcher_pid}/task/{launcher_pid}/children") as f:
                kids = f.read().split()
            if kids:
                return int(kids[0])
        except FileNotFoundError:
            return None
        time.sleep(0.02)
    return None


@test
def signals_once():
    """a signal to the supervisor's process group reaches COMMAND once"""
    if not need("sigcount"):
        return
    counts = []
    for _ in range(3):
        p = subprocess.Popen([LAUNCHER, "--supervise", "--", BIN["sigcount"]], stdout=subprocess.PIPE,
                             text=True, start_new_session=True)
        try:
            first = p.stdout.readline()
            os.killpg(p.pid, signal.SIGTERM)    # kill -- -PGID; the group is the launcher's own
            out, _ = p.communicate(timeout=10)
            counts.append((first + out).split())
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
    check("kill -- -PGID: COMMAND counts the signal once (3 rounds)",
          counts == [["ready", "count", "1"]] * 3, counts)
    r = run(["timeout", "-s", "USR1", "0.5", LAUNCHER, "--supervise", "--", BIN["sigcount"]], False)
    check("timeout(1), which signals its child and then its group: once", r.out.split() == ["ready", "count", "1"], r)
    # The de-duplication is for timeout's pair only: the parent asking
    # twice, 100 ms apart, is heard twice (docs/supervised.md).
    script = ('"$0" --supervise -- "$1" & sleep 1; kill -USR1 $!; sleep 0.1; kill -USR1 $!; wait $!')
    r = run(["sh", "-c", script, LAUNCHER, BIN["sigcount"]], False)
    check("the parent's same signal twice, 100 ms apart: twice", r.out.split() == ["ready", "count", "2"], r)


@test
def pid1_sigterm_during_slow_start():
    """as PID 1, SIGTERM while an address rule's target is still resolving"""
    if not need("sigcount") or not shutil.which("unshare"):
        return
    DNS.set("never.test", a=["127.0.0.7"])
    DNS.drop("never.test")
    p = subprocess.Popen(["unshare", "--pid", "--fork", LAUNCHER, "--supervise", "-m",
                          "127.0.0.1:81 = never.test:9000", "--", BIN["sigcount"], "8"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        sup = supervisor_of(p.pid)
        time.sleep(0.2)
        t = time.monotonic()
        if sup:
            os.kill(sup, signal.SIGTERM)
        out, err = p.communicate(timeout=20)
        took = time.monotonic() - t
    finally:
        DNS.remove("never.test")
        if p.poll() is None:
            p.kill()
            p.wait()
    print(f"       rc={p.returncode} out={out!r} err={err.strip()[:300]!r} ended {took:.1f} s after SIGTERM")
    check("PID 1 starting (its address rule's DNS never answers): SIGTERM is not lost, COMMAND gets it",
          sup and "count 0" not in out and took < 6 and (out.split() == ["ready", "count", "1"] or p.returncode != 0))


ALIVE_PY = r"""
import os, socket, sys, time
end = time.time() + 4
while time.time() < end:
    try:
        socket.create_connection(("127.0.0.5", 9000), timeout=1).close()
        what = "ok"
    except OSError as e:
        what = os.strerror(e.errno)
    with open(sys.argv[1], "a") as f:
        f.write(what + "\n")
    time.sleep(0.2)
"""


@test
def supervisor_killed():
    """SIGKILL to the supervisor: COMMAND's group dies, a process that left it works on"""
    log = os.path.join(TMP, "alive.log")
    script = (f'sleep 60 & echo $!; setsid {sys.executable} -c "$0" {log} & '
              'echo $$; exec sleep 60')
    p = subprocess.Popen([LAUNCHER, "--supervise", "--", "sh", "-c", script, ALIVE_PY],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    bg = cmd = None
    try:
        bg, cmd = int(p.stdout.readline()), int(p.stdout.readline())
        time.sleep(1)
        p.kill()
        p.wait()
        time.sleep(1.5)
        gone = lambda pid: not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split(") ")[1].startswith("Z")
        with open(log) as f:
            last = f.read().split()[-1]
        err = p.stderr.read()
        check("supervisor SIGKILLed: COMMAND and the child it left in its group die",
              gone(cmd) and gone(bg), (cmd, gone(cmd), bg, gone(bg)))
        check("... a process that left the group (setsid) still connects (not ENOSYS), as without hostshim",
              last == "ok", last)
        check("... and that is said on stderr", "the supervisor (process" in err and "killed" in err, err)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        for pid in (bg, cmd):
            if pid:
                try:
                    os.kill(pid, signal.SIGKILL)   # ours, by pid
                except ProcessLookupError:
                    pass


@test
def nested_supervision():
    """hostshim --supervise inside a tree already supervised"""
    if not need("go_pure"):
        return
    inner = [LAUNCHER, "--supervise", "-l", "info", "--", BIN["go_pure"], "http://auth.localhost/"]
    r = run(["sh", "-c", 'echo "marker=$HOSTSHIM_SUPERVISED"; exec "$@"', "sh"] + inner, True)
    print("       " + str(r))
    lines = r.out.splitlines()
    info = [l for l in r.err.splitlines() if "already supervised" in l]
    check("nested: COMMAND runs under the outer supervisor (reaches server:9000), one info line",
          r.rc == 0 and lines[-1:] == [SERVER + " host=auth.localhost"] and len(info) == 1, r)
    check("COMMAND's environment names the supervisor: HOSTSHIM_SUPERVISED=<pid>",
          lines[:1] and lines[0].startswith("marker=") and lines[0][7:].isdigit(), r)


@test
def terminal_job_control():
    """COMMAND has a process group of its own: on a terminal, it gets the terminal"""
    import pty
    import select
    pid, fd = pty.fork()
    if pid == 0:
        # as from a login: tests/in-netns.sh starts us with SIGINT ignored
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGQUIT, signal.SIG_DFL)
        os.execvp("bash", ["bash", "--norc", "--noprofile", "-i"])

    def read(secs, until=None):
        out, end = b"", time.monotonic() + secs
        while time.monotonic() < end and not (until and until in out):
            if select.select([fd], [], [], 0.1)[0]:
                try:
                    out += os.read(fd, 4096)
                except OSError:
                    break
        return out.decode(errors="replace")
    try:
        read(1)
        os.write(fd, b"PS1='$ '\n")
        read(0.5)
        os.write(fd, f"{LAUNCHER} --supervise -- sh -c 'read x; echo got:$x'\n".encode())
        time.sleep(1.5)
        os.write(fd, b"hello\n")
        got = read(5, b"got:")
        os.write(fd, f"{LAUNCHER} --supervise -- sleep 30\n".encode())
        time.sleep(1.5)
        os.write(fd, b"\x1a")
        stopped = read(5, b"Stopped")
        os.write(fd, b"fg\n")
        read(5, b"sleep 30")
        time.sleep(1.5)
        os.write(fd, b"\x03")
        read(3, b"$ ")
        os.write(fd, b"echo status:$?\n")
        status = read(5, b"status:1")
    finally:
        os.kill(pid, signal.SIGKILL)   # our own bash, by pid
        os.waitpid(pid, 0)
        os.close(fd)
    seen = got + stopped + status
    check("terminal: COMMAND reads it, Ctrl-Z stops the job, fg and Ctrl-C end it (130)",
          "got:hello" in seen and "Stopped" in seen and "status:130" in seen, seen)


@test
def old_kernel_125():
    """setarch --uname-2.6 makes uname(2) say 2.6.x"""
    if not shutil.which("setarch"):
        return check("setarch present", False)
    marker = os.path.join(TMP, "ran-old")
    r = run(["setarch", os.uname().machine, "--uname-2.6", LAUNCHER, "--supervise", "--", "touch", marker], False)
    check("a kernel older than 5.5: exit 125, saying so, COMMAND not run",
          r.rc == 125 and "older than 5.5" in r.err and not os.path.exists(marker), r)


@test
def unprivileged_user():
    """as nobody, with no capabilities: no_new_privs, no raw socket"""
    if not need("go_pure", "static_get") or not shutil.which("setpriv"):
        return check("setpriv present", False)
    os.chmod(TMP, 0o755)
    drop = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--inh-caps=-all", "--"]
    r = run(drop + [LAUNCHER, "--supervise", "-m", RULES, "--", BIN["go_pure"], "http://auth.localhost/"], False)
    check("as nobody: pure Go reaches server:9000", r.rc == 0 and r.out.strip() == SERVER + " host=auth.localhost", r)
    r = run(drop + [LAUNCHER, "--supervise", "--", "grep", "NoNewPrivs", "/proc/self/status"], False)
    r0 = run([LAUNCHER, "--supervise", "--", "grep", "NoNewPrivs", "/proc/self/status"], False)
    check("no_new_privs only where a filter needs it: set as nobody, not as root (CAP_SYS_ADMIN)",
          r.out.split() == ["NoNewPrivs:", "1"] and r0.out.split() == ["NoNewPrivs:", "0"], r, r0)
    r = run(drop + [LAUNCHER, "--supervise", "-m", RULES, "--", BIN["static_get"], "app.test", "80"], False)
    check("as nobody (no raw socket): static musl still resolves", r.rc == 0 and r.out.strip() == SERVER + " host=app.test", r)


@test
def seccomp_refused_125():
    if not need("restrict"):
        return
    marker = os.path.join(TMP, "ran")
    r = run([BIN["restrict"], "noseccomp", LAUNCHER, "--supervise", "--", "touch", marker], False)
    print("       " + str(r))
    check("seccomp refused: exit 125, a message saying why, COMMAND not run",
          r.rc == 125 and "seccomp" in r.err and "not possible" in r.err and not os.path.exists(marker))


@test
def launcher_supervise():
    r = run([LAUNCHER, "-m", "a.test=b", "--supervise", "--", "true"], False)
    check("--supervise after another option: usage error (125)", r.rc == 125 and "first argument" in r.err, r)
    lib = os.path.join(REPO, "build", "libhostshim.so")
    r = run([LAUNCHER, "--supervise", "--", "sh", "-c", 'echo "[${LD_PRELOAD-unset}]"'], False,
            env={"LD_PRELOAD": lib})
    check("an inherited LD_PRELOAD of libhostshim.so is dropped", r.rc == 0 and r.out == "[unset]\n", r)
    r = run([LAUNCHER, "--supervise", "-l", "debug", "--", "true"], False)
    check("-l debug says which supervisor runs", r.rc == 0 and "supervising" in r.err
          and SUPERVISOR in r.err, r)


@test
def launcher_chooses_supervision():
    """no --supervise: a Go or static program runs supervised anyway"""
    if not need("go_pure", "go_cgo", "static_get"):
        return
    base = [LAUNCHER, "-m", RULES, "-l", "info", "--"]
    r = run(base + [BIN["go_pure"], "http://auth.localhost/"], False)
    check("plain launcher, pure Go: supervised, said at info, reaches server:9000",
          r.rc == 0 and r.out.strip() == SERVER + " host=auth.localhost"
          and "is a Go program" in r.err and "running it supervised" in r.err, r)
    r = run(base + [BIN["go_cgo"], "http://auth.localhost/"], False, env={"GODEBUG": "netdns=cgo"})
    check("plain launcher, cgo Go: supervised, not preloaded (which would break it)",
          r.rc == 0 and r.out.strip() == SERVER + " host=auth.localhost" and "is a Go program" in r.err, r)
    r = run(base + [BIN["static_get"], "app.test", "80"], False)
    check("plain launcher, static musl: supervised, reaches server:9000",
          r.rc == 0 and r.out.strip() == SERVER + " host=app.test" and "statically linked" in r.err, r)
    r = run(base + ["sh", "-c", 'echo "$LD_PRELOAD"'], False)
    check("plain launcher, a dynamic program: preloaded as before, nothing said",
          r.rc == 0 and "libhostshim.so" in r.out and "supervised" not in r.err, r)


def b64url(data):
    import base64
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Issuer:
    """an OIDC issuer on 127.0.0.5:9100 whose URLs follow the Host header"""
    PATH = "/application/o/e2e/"

    def __init__(self):
        import http.server
        import json
        import threading
        self.key = os.path.join(TMP, "oidc-key.pem")
        subprocess.run(["openssl", "genrsa", "-out", self.key, "2048"], check=True, capture_output=True)
        mod = subprocess.run(["openssl", "rsa", "-in", self.key, "-noout", "-modulus"], check=True,
                             capture_output=True, text=True).stdout.strip().split("=", 1)[1]
        jwks = {"keys": [{"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig",
                          "n": b64url(bytes.fromhex(mod)), "e": "AQAB"}]}
        path = self.PATH

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                base = "http://" + self.headers.get("Host", "-") + path
                if self.path == path + ".well-known/openid-configuration":
                    body = {"issuer": base, "jwks_uri": base + "jwks/"}
                elif self.path == path + "jwks/":
                    body = jwks
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.5", 9100), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def token(self, iss, aud="nextjs"):
        import json
        head = b64url(json.dumps({"alg": "RS256", "kid": "k1", "typ": "JWT"}).encode())
        body = b64url(json.dumps({"iss": iss, "sub": "akadmin", "aud": aud,
                                  "exp": int(time.time()) + 600}).encode())
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.key], input=(head + "." + body).encode(),
                             check=True, capture_output=True).stdout
        return head + "." + body + "." + b64url(sig)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def ask_api(token):
    """(status, body) of GET /me on the API at 127.0.0.1:8000"""
    import urllib.error
    import urllib.request
    req = urllib.request.Request("http://127.0.0.1:8000/me", headers={"Authorization": "Bearer " + token})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode().strip()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode().strip()


def with_api(argv, fn):
    """runs the API (argv), waits for its port, calls fn(), stops it by pid"""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         env=dict(os.environ, OIDC_ISSUER="http://idp.test" + Issuer.PATH,
                                  OIDC_AUDIENCE="nextjs", LISTEN="127.0.0.1:8000"))
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", 8000), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        return fn()
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            out = p.communicate(timeout=10)[0]
        except subprocess.TimeoutExpired:
            p.kill()
            out = p.communicate()[0]
        print("       api log: " + out.strip().replace("\n", " | ")[:600])


@test
def configuration_like_the_library():
    if not need("go_pure"):
        return
    ini = os.path.join(TMP, "shim.ini")
    with open(ini, "w") as f:
        f.write("[shim]\nlog = info\n[map]\nfile.test = server:9000\nbad.test = server:99999\n")
    # from the environment: with -c the launcher refuses a broken file before COMMAND runs
    r = run([LAUNCHER, "--supervise", "--", BIN["go_pure"], "http://file.test/"], False,
            env={"HOSTSHIM_CONFIG": ini})
    check("HOSTSHIM_CONFIG: its rules and its log level apply; a bad line is named and skipped",
          r.rc == 0 and r.out.strip() == SERVER + " host=file.test"
          and ini + ":5: " in r.err and "hostshim: file.test:80 -> server:9000" in r.err, r)
    marker = os.path.join(TMP, "ran-strict")
    r = run([LAUNCHER, "--supervise", "--", "touch", marker], False,
            env={"HOSTSHIM_CONFIG": ini, "HOSTSHIM_STRICT": "1"})
    check("HOSTSHIM_STRICT=1 and a bad line: exit 2 before COMMAND runs",
          r.rc == 2 and "strict mode" in r.err and not os.path.exists(marker), r)
    r = run([LAUNCHER, "--supervise", "-c", ini, "--", "touch", marker], False)
    check("-c FILE with a bad line: the launcher's own error (125) before COMMAND runs",
          r.rc == 125 and ini + ":5: " in r.err and not os.path.exists(marker), r)


@test
def example_dockerfile_api():
    """what can be checked without a Docker engine"""
    df = os.path.join(REPO, "examples", "nextjs-authentik", "Dockerfile.api")
    missing = []
    with open(df) as f:
        lines = f.read().splitlines()
    for line in lines:
        words = line.split()
        if words[:1] == ["COPY"] and not any(w.startswith("--from=") for w in words):
            missing += [w for w in words[1:-1]
                        if not w.startswith("--") and not os.path.exists(os.path.join(REPO, w))]
    check("examples: Dockerfile.api copies existing paths", not missing, missing)
    check("examples: Dockerfile.api runs the API supervised",
          'ENTRYPOINT ["hostshim", "--supervise", "--"]' in lines)


@test
def go_api_validates_public_issuer_token():
    """the issue's scenario: a Go API checks an ID token by the public URL"""
    if not need("api") or shutil.which("openssl") is None:
        return check("API built and openssl present", False)
    issuer = Issuer()
    try:
        good = issuer.token("http://idp.test" + Issuer.PATH)
        internal = issuer.token("http://server:9100" + Issuer.PATH)
        plain = with_api([BIN["api"]], lambda: ask_api(good))
        print("       without: " + str(plain))
        check("Go API, unsupervised: can't fetch the issuer's keys by the public URL, 401",
              plain[0] == 401 and "issuer keys" in plain[1], plain)
        sup = with_api([LAUNCHER, "--supervise", "-m", RULES, "--", BIN["api"]],
                       lambda: (ask_api(good), ask_api(internal)))
        print("       with:    " + str(sup))
        check("Go API, supervised: accepts the token with iss = the public issuer",
              sup[0][0] == 200 and '"sub":"akadmin"' in sup[0][1] and "http://idp.test/application/o/e2e/" in sup[0][1])
        check("... and rejects one whose iss is the internal URL", sup[1][0] == 401 and "is not" in sup[1][1])
    finally:
        issuer.stop()


# ---- the namespace's servers, and the main program ----------------------------


def make_cert():
    cert, key = os.path.join(TMP, "cert.pem"), os.path.join(TMP, "key.pem")
    p = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=auth.example.test",
                        "-addext", "subjectAltName=DNS:auth.example.test"], capture_output=True, text=True)
    return (cert, key) if p.returncode == 0 else None


class DnsOverTcp:
    """the test DNS's answers over TCP too (after a truncated answer)"""

    def __init__(self, dns, addr="127.0.0.53", port=53):
        import threading
        self.dns = dns
        self.sock = socket.create_server((addr, port))
        self.thread = threading.Thread(target=self.serve, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with c:
                try:
                    c.settimeout(3)
                    n = struct.unpack("!H", c.recv(2, socket.MSG_WAITALL))[0]
                    reply, _ = self.dns.answer(c.recv(n, socket.MSG_WAITALL))
                    if reply:
                        c.sendall(struct.pack("!H", len(reply)) + reply)
                except (OSError, struct.error, ValueError, IndexError):
                    pass

    def stop(self):
        self.sock.close()


def inside():
    global TMP
    import hs_dns
    import hs_servers
    TMP = tempfile.mkdtemp(prefix="hostshim-supervise-")
    os.chmod(TMP, 0o755)   # clients run as nobody too
    started = []
    try:
        log = hs_servers.RequestLog()
        global DNS
        DNS = hs_dns.DnsResponder("127.0.0.53", 53, {"upstream.test": "127.0.0.7", "portonly.test": "127.0.0.7",
                                                     "slow.test": "127.0.0.7"}, {"slow.test": 1})
        DNS.start()
        started.append(DNS)
        started.append(DnsOverTcp(DNS).start())
        for addr, port in [("127.0.0.5", 9000), ("127.0.0.7", 9000), ("127.0.0.1", 80)]:
            started.append(hs_servers.HttpListener(addr, port, log).start())
        started.append(hs_servers.UdpEcho("127.0.0.5", 5353, log).start())
        if shutil.which("openssl"):
            ck = make_cert()
            if ck:
                BIN["cert"] = ck[0]
                ctx = hs_servers.tls_context(*ck)
                started.append(hs_servers.HttpListener("127.0.0.5", 9443, log, ctx).start())
        build_all()
        only = sys.argv[2:]
        for t in TESTS:
            if not only or t.__name__ in only:
                print(f"-- {t.__name__}", flush=True)
                t()
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
    for f in (LAUNCHER, SUPERVISOR):
        if not os.access(f, os.X_OK):
            print(f"{f} missing: run make first\n0 passed, 1 failed")
            return 1
    argv = ["sh", os.path.join(REPO, "tests", "in-netns.sh"), "supervise", HOSTS,
            sys.executable, os.path.abspath(__file__), "--inside", *sys.argv[1:]]
    return subprocess.call(argv)


if __name__ == "__main__":
    sys.exit(main())
