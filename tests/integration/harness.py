"""The integration suite's shared harness: paths, the namespace's hosts,
names and listeners, the Run/Base helpers every test class uses, and the
scripts (Python, Node) that several classes run. Test classes live in
tests/integration/test_*.py, one file per concern; tests/integration.py runs
them (its docstring describes the whole suite)."""
import argparse
import ipaddress
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
sys.dont_write_bytecode = True            # no __pycache__ in the source tree

LIB = os.path.abspath(os.path.join(REPO, os.environ.get("HOSTSHIM_TEST_LIB", "build/libhostshim.so")))
PREFIX = os.environ.get("HOSTSHIM_TEST_PRELOAD_PREFIX", "").replace(":", " ").split()
BIN = os.path.abspath(os.path.join(REPO, os.environ.get("HOSTSHIM_TEST_BIN", "build/tests")))
CFLAGS = ["-std=gnu11", "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-pthread"]
CTOR_LIB = os.path.join(BIN, "ctor_lookup_lib.so")
# The valgrind leg: the suite's C clients run under memcheck (python, node,
# curl and sh do not: far too slow, and not ours to check)
VALGRIND = os.environ.get("HOSTSHIM_TEST_VALGRIND", "") not in ("", "0")
VALGRIND_ARGV = ["valgrind", "-q", "--error-exitcode=99", "--leak-check=full",
                 "--errors-for-leak-kinds=definite", "--vgdb=no",
                 "--suppressions=" + os.path.join(REPO, "tests", "integration", "valgrind.supp")]
VALGRIND_SLOWER = 10                      # timeouts are multiplied by this under valgrind

# IPv6 of the suite's own, only inside the namespace: a ULA prefix on lo and
# a veth pair (both ends in the namespace) for a link-local address.
SERVER6 = "fd00:68:73::5"                # server6: IPv6 only
DUAL4, DUAL6 = "127.0.0.8", "fd00:68:73::8"  # dual: both families
PUB6 = "fd00:68:73::1"                   # public address for address rules (a decoy)
V6_ADDRS = (SERVER6, DUAL6, PUB6)
LL_IF, LL_PEER = "hsv0", "hsv1"          # veth pair; LL is on LL_IF
LL = "fe80::1"

HOSTS = f"""127.0.0.1 localhost
::1 localhost ip6-localhost ip6-loopback
127.0.0.5 server
127.0.0.6 gateway
127.0.0.1 auth.localhost
{SERVER6} server6
{DUAL4} dual
{DUAL6} dual
"""
RESOLV = "nameserver 127.0.0.53\noptions timeout:2 attempts:2\n"
DNS_TABLE = {"dns-only.test": "127.0.0.7", "slow.test": "127.0.0.7"}
DNS_DELAYS = {"slow.test": 1.0}          # seconds before the answer is sent
HTTP_LISTENERS = [("127.0.0.5", 9000), ("127.0.0.5", 9443), ("127.0.0.5", 9001),
                  ("127.0.0.6", 8080), ("127.0.0.7", 9000),
                  ("127.0.0.1", 80), ("::1", 80)]
UDP_ECHO = ("127.0.0.5", 5353)
HTTP6_LISTENERS = [(SERVER6, 9000), (DUAL4, 9000), (DUAL6, 9000), (PUB6, 80)]
LL_LISTENER = (f"{LL}%{LL_IF}", 9000)
UDP6_ECHO = (SERVER6, 5353)
TLS_LISTENER = ("127.0.0.5", 9444)       # HTTPS, certificate for the public names
TLS_NAMES = ("auth.localhost", "auth.example.test")

S9000 = "127.0.0.5:9000"
S9443 = "127.0.0.5:9443"
S9001 = "127.0.0.5:9001"
STLS = "127.0.0.5:9444"
GW = "127.0.0.6:8080"
DNSONLY = "127.0.0.7:9000"
DECOY4 = "127.0.0.1:80"
DECOY6 = "[::1]:80"
S6 = f"[{SERVER6}]:9000"
D4 = f"{DUAL4}:9000"
D6 = f"[{DUAL6}]:9000"
DECOYP6 = f"[{PUB6}]:80"
SLL = f"[{LL}%{LL_IF}]:9000"

HOOKS = {"getaddrinfo", "gethostbyname", "gethostbyname2", "gethostbyname_r",
         "gethostbyname2_r", "getnameinfo", "gethostbyaddr", "gethostbyaddr_r",
         "connect", "sendto", "sendmsg", "sendmmsg", "dlopen", "getsockopt",
         "getaddrinfo_a", "gai_suspend", "gai_error", "gai_cancel",
         "execve", "execv", "execvp", "execvpe", "execl", "execlp", "execle", "fexecve",
         "posix_spawn", "posix_spawnp"}

SYN4 = ipaddress.ip_network("127.88.0.0/16")
SYN6 = ipaddress.ip_network("fd68:7368:696d::/48")

# set up by inside_main()
# no6/noll: why there is no IPv6 / no link-local address in the namespace (None: there is)
CTX = {"log": None, "tmp": None, "cert": None, "no6": None, "noll": None}


_INTERP = {}


def dynamic_loader(path):
    """the ELF interpreter (PT_INTERP) of a program, e.g. /lib64/ld-linux-x86-64.so.2"""
    if path not in _INTERP:
        import struct
        with open(path, "rb") as f:
            data = f.read()
        if data[:4] != b"\x7fELF" or data[4] != 2:
            raise RuntimeError(f"{path}: not a 64-bit ELF file")
        end = "<" if data[5] == 1 else ">"
        phoff, = struct.unpack_from(end + "Q", data, 0x20)
        phentsize, phnum = struct.unpack_from(end + "HH", data, 0x36)
        for i in range(phnum):
            ptype, _, offset, _, _, filesz = struct.unpack_from(end + "IIQQQQ", data, phoff + i * phentsize)
            if ptype == 3:                     # PT_INTERP
                _INTERP[path] = data[offset:offset + filesz].rstrip(b"\0").decode()
                break
        else:
            raise RuntimeError(f"{path}: no PT_INTERP (statically linked?)")
    return _INTERP[path]


def is_syn(addr):
    """True for a synthetic address: 127.88.x.y, ::ffff:127.88.x.y or
    fd68:7368:696d::127.88.x.y (the README's ranges)"""
    try:
        a = ipaddress.ip_address(addr)
    except ValueError:
        return False
    if a.version == 6:
        if a.ipv4_mapped is not None:
            a = a.ipv4_mapped
        elif a in SYN6:
            a = ipaddress.ip_address(int(a) & 0xffffffff)
        else:
            return False
    return a in SYN4


def parse_kv(line):
    out = {}
    for m in re.finditer(r"(\w[\w-]*)=(\S+)", line):
        out.setdefault(m.group(1), m.group(2))
    return out


class Run:
    def __init__(self, argv, env, rc, out, err, secs):
        self.argv, self.env, self.rc, self.out, self.err, self.secs = argv, env, rc, out, err, secs

    @property
    def lines(self):
        return self.out.splitlines()

    def bodies(self):
        return [l.split("body=", 1)[1] for l in self.lines if "body=" in l]

    def shim_lines(self):
        return [l for l in self.err.splitlines() if l.startswith("hostshim:")]

    def show(self):
        envs = " ".join(f"{k}={(v if len(v) < 200 else v[:200] + '...')!r}"
                        for k, v in sorted(self.env.items())
                        if k.startswith(("HOSTSHIM", "LD_PRELOAD", "ASAN")))
        return (f"\n  command: {envs} {' '.join(self.argv)}\n  exit: {self.rc}"
                f"\n  stdout:\n{indent(self.out)}\n  stderr:\n{indent(self.err)}")


def indent(text, limit=3000):
    if len(text) > limit:
        text = text[:limit] + f"\n... ({len(text) - limit} more characters)"
    return "\n".join("    | " + l for l in text.splitlines()) or "    | (empty)"


def node_ok():
    return shutil.which("node") is not None


_PREFIX_PROBES = {}


def prefix_blocks(argv):
    """Why a foreign program cannot run under HOSTSHIM_TEST_PRELOAD_PREFIX
    alone (without the library), or None.  curl, for one, deadlocks in
    setlocale() at start under a preloaded gcc-12 libasan."""
    if not PREFIX:
        return None
    key = tuple(argv)
    if key not in _PREFIX_PROBES:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LD_PRELOAD": " ".join(PREFIX),
               "ASAN_OPTIONS": "detect_leaks=0"}
        try:
            p = subprocess.run(argv, env=env, capture_output=True, timeout=5, stdin=subprocess.DEVNULL)
            why = None if p.returncode == 0 else f"exits {p.returncode}"
        except subprocess.TimeoutExpired:
            why = "hangs"
        _PREFIX_PROBES[key] = why and (f"{argv[0]} {why} under LD_PRELOAD={' '.join(PREFIX)} "
                                       "even without the library")
    return _PREFIX_PROBES[key]


class Base(unittest.TestCase):
    maxDiff = 4000

    def setUp(self):
        if not os.path.exists(LIB):
            self.fail(f"library {LIB} not found (run make)")
        self.tmp = tempfile.mkdtemp(prefix="case-", dir=CTX["tmp"])
        self.empty = self.ini("", "empty.ini")
        CTX["log"].clear()

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- helpers -----------------------------------------------------------
    def note(self, text):
        notes = getattr(self, "_notes", [])
        notes.append(text)
        self._notes = notes

    def ini(self, text, name="shim.ini"):
        path = os.path.join(self.tmp, name)
        mode = "wb" if isinstance(text, bytes) else "w"
        with open(path, mode) as f:
            f.write(text)
        os.chmod(path, 0o644)        # the library refuses a group/world-writable file as root
        return path

    def rules(self, *lines):
        """an INI file with [map] and these lines; returns its path"""
        return self.ini("[map]\n" + "".join(l + "\n" for l in lines))

    @staticmethod
    def c(name):
        return os.path.join(BIN, name)

    def run_prog(self, argv, timeout=30, **kw):
        """run argv (with the library unless lib=False) and return a Run;
        the options are prepare()'s"""
        argv, e, timeout = self.prepare(argv, timeout=timeout, **kw)
        t0 = time.monotonic()
        try:
            p = subprocess.run(argv, env=e, stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=timeout, cwd=self.tmp)
        except subprocess.TimeoutExpired as ex:
            r = Run(argv, e, "timeout", (ex.stdout or b"").decode("utf-8", "replace"),
                    (ex.stderr or b"").decode("utf-8", "replace"), timeout)
            self.fail(f"timed out after {timeout}s" + r.show())
        return Run(argv, e, p.returncode, p.stdout.decode("utf-8", "replace"),
                   p.stderr.decode("utf-8", "replace"), time.monotonic() - t0)

    def start_prog(self, argv, **kw):
        """start argv like run_prog, in the background: a Popen with text
        pipes; the caller waits for it"""
        argv, e, _ = self.prepare(argv, **kw)
        return subprocess.Popen(argv, env=e, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=self.tmp)

    def prepare(self, argv, config=None, hmap=None, log=None, strict=None, lib=True,
                preload=None, env=None, timeout=30, valgrind=None, exec_children=False,
                close_stderr=False):
        """argv, environment and timeout to run argv with the library
        (unless lib=False).
        valgrind: run it under memcheck; by default only in the valgrind leg,
        and there only the suite's own C clients with the library preloaded.
        exec_children: the program execs others that need LD_PRELOAD too.
        close_stderr: start the program with fd 2 closed."""
        e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.tmp,
             "LANG": "C", "TMPDIR": self.tmp}
        if "ASAN_OPTIONS" in os.environ:
            e["ASAN_OPTIONS"] = os.environ["ASAN_OPTIONS"]
        foreign = not argv[0].startswith(BIN + os.sep)
        if preload is None and lib:
            preload = [LIB]
        if valgrind is None:
            valgrind = VALGRIND and not foreign and bool(preload)
        if preload:
            e["LD_PRELOAD"] = " ".join(PREFIX + list(preload))
            if PREFIX and foreign:
                opts = e.get("ASAN_OPTIONS", "")
                e["ASAN_OPTIONS"] = (opts + ":" if opts else "") + "detect_leaks=0"
            if config is not False:
                e["HOSTSHIM_CONFIG"] = config or self.empty
        if hmap is not None:
            e["HOSTSHIM_MAP"] = hmap
        if log is not None:
            e["HOSTSHIM_LOG"] = log
        if strict is not None:
            e["HOSTSHIM_STRICT"] = strict
        if env:
            e.update(env)
        argv = list(argv)
        if valgrind:
            # LD_PRELOAD in valgrind's environment would load the libraries
            # into its launcher processes too (Debian's valgrind is a shell
            # script running valgrind.bin): the dynamic loader preloads them
            # into the program alone
            if "LD_PRELOAD" in e and not exec_children:
                argv = [dynamic_loader(argv[0]), "--preload", e.pop("LD_PRELOAD")] + argv
            # valgrind does not start without fd 2 (exit status 127): its
            # reports go to stdout then
            argv = VALGRIND_ARGV + (["--log-fd=1"] if close_stderr else []) + argv
            timeout = timeout * VALGRIND_SLOWER
        if close_stderr:
            if "LD_PRELOAD" in e:                  # for the program, not the shell
                argv = ["env", "LD_PRELOAD=" + e.pop("LD_PRELOAD")] + argv
            argv = ["/bin/sh", "-c", 'exec "$@" 2>&-', "sh"] + argv
        return argv, e, timeout

    def base(self, argv, **kw):
        """the same program without the library"""
        return self.run_prog(argv, lib=False, **kw)

    def assertReached(self, r, listener, host=None, rc=0):
        bodies = r.bodies()
        self.assertTrue(bodies, "no response body" + r.show())
        for b in bodies:
            kv = parse_kv(b)
            self.assertEqual(kv.get("listener"), listener, f"wrong listener in {b!r}" + r.show())
            if host is not None:
                self.assertEqual(kv.get("host"), host, f"wrong Host header in {b!r}" + r.show())
        if rc is not None:
            self.assertEqual(r.rc, rc, "exit status" + r.show())

    def assertSame(self, with_lib, without):
        self.assertEqual((with_lib.rc, with_lib.out), (without.rc, without.out),
                         "differs from the run without the library:\nwith library:" + with_lib.show()
                         + "\nwithout:" + without.show())

    def get(self, name, port, *opts, **kw):
        return self.run_prog([self.c("http_get"), *opts, name, str(port)], **kw)


# ---------------------------------------------------------------------------
PY_CONNECT = r"""
import socket
s = socket.create_connection(("auth.localhost", 80), timeout=5)
s.sendall(b"GET /py HTTP/1.0\r\nHost: auth.localhost\r\n\r\n")
data = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
print("peer=%s:%d" % s.getpeername()[:2])
print("body=" + data.split(b"\r\n\r\n", 1)[1].decode().strip())
"""
PY_TLS = r"""
import socket, ssl, sys
name, cafile = sys.argv[1], sys.argv[2]
ctx = ssl.create_default_context(cafile=cafile)        # verifies the public name
with socket.create_connection((name, 443), timeout=5) as raw:
    with ctx.wrap_socket(raw, server_hostname=name) as s:
        s.sendall(("GET /tls HTTP/1.0\r\nHost: %s\r\n\r\n" % name).encode())
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
print("body=" + data.split(b"\r\n\r\n", 1)[1].decode().strip())
"""
NODE_HTTPS = r"""
const https = require("https"), fs = require("fs");
https.get(process.argv[1], {ca: fs.readFileSync(process.argv[2])}, res => {
  let b = "";
  res.on("data", d => b += d);
  res.on("end", () => console.log("status=" + res.statusCode + " body=" + b.trim()));
}).on("error", e => { console.log("error code=" + e.code); process.exitCode = 3; });
"""
PY_URLLIB = r"""
import urllib.request
print("body=" + urllib.request.urlopen("http://auth.localhost/u", timeout=5).read().decode().strip())
"""
PY_NAMES = r"""
import socket
name, aliases, addrs = socket.gethostbyname_ex("auth.localhost")
print("ex name=%s addrs=%s" % (name, ",".join(addrs)))
for a in addrs:
    print("byaddr addr=%s name=%s" % (a, socket.gethostbyaddr(a)[0]))
"""
NODE_FETCH = r"""
fetch(process.argv[1]).then(async r => {
  console.log("status=" + r.status + " body=" + (await r.text()).trim());
}).catch(e => {
  const c = e.cause || e;
  const code = c.code || (c.errors && c.errors.length && c.errors[0].code) || String(c);
  console.log("error code=" + code);
  process.exitCode = 3;
});
"""
NODE_HTTP = r"""
const http = require("http");
http.get(process.argv[1], res => {
  let b = "";
  res.on("data", d => b += d);
  res.on("end", () => console.log("status=" + res.statusCode + " body=" + b.trim()));
}).on("error", e => { console.log("error code=" + e.code); process.exitCode = 3; });
"""
NODE_LOOKUP6 = r"""
const dns = require("dns"), http = require("http");
dns.lookup("auth.localhost", {family: 6, hints: dns.V4MAPPED}, (err, addr, fam) => {
  if (err) { console.log("lookup error=" + err.code); process.exitCode = 3; return; }
  console.log("lookup addr=" + addr + " family=" + fam);
  const lookup = (h, o, cb) => dns.lookup(h, {family: 6, hints: dns.V4MAPPED, all: !!o.all}, cb);
  http.get({host: "auth.localhost", port: 80, path: "/n6", lookup}, res => {
    let b = "";
    res.on("data", d => b += d);
    res.on("end", () => console.log("status=" + res.statusCode + " body=" + b.trim()));
  }).on("error", e => { console.log("error code=" + e.code); process.exitCode = 3; });
});
"""


# ---------------------------------------------------------------------------
PY_CONNECT_ARG = r"""
import socket, sys
name = sys.argv[1]
s = socket.create_connection((name, 80), timeout=5)
s.sendall(("GET /py6 HTTP/1.0\r\nHost: %s\r\n\r\n" % name).encode())
data = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
print("family=%d" % s.family)
print("body=" + data.split(b"\r\n\r\n", 1)[1].decode().strip())
"""


# ---------------------------------------------------------------------------
NODE_LOOP = r"""
const http = require("http");
const url = process.argv[1], end = Date.now() + 1000 * +process.argv[2];
function once() {
  if (Date.now() >= end) return;
  const t = Date.now();
  http.get(url, {agent: false}, res => {
    let b = "";
    res.on("data", d => b += d);
    res.on("end", () => { console.log("t=" + t + " body=" + b.trim()); setTimeout(once, 40); });
  }).on("error", e => { console.log("t=" + t + " errno=" + e.code); setTimeout(once, 40); });
}
once();
"""


def now_ms():
    return int(time.time() * 1000)


class Rounds:
    """the output of a loop client (reload_loop, NODE_LOOP), one round a
    line "t=MS body=..." or "t=MS errno=...", read as it comes"""

    def __init__(self, proc):
        self.proc, self.lines = proc, []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.strip())

    def since(self, t0):
        """(t, listener or the error) of the rounds that started at t0 or later"""
        out = []
        for line in list(self.lines):
            m = re.match(r"t=(\d+) (?:body=listener=(\S+)|errno=(\S+))", line)
            if m and int(m.group(1)) >= t0:
                out.append((int(m.group(1)), m.group(2) or m.group(3)))
        return out

    def first(self, what, t0, timeout):
        """ms from t0 to the first round that reached `what`, or None"""
        deadline = time.time() + timeout
        while time.time() < deadline:
            for t, got in self.since(t0):
                if got == what:
                    return t - t0
            time.sleep(0.05)
        return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.reader.join(5)
        return self.proc.stderr.read()


# ---------------------------------------------------------------------------
NOBODY = 65534


# ---------------------------------------------------------------------------
# Issue 11: the conditions a compose stack makes.  Each test first builds the
# condition (a DNS answer that rotates, changes, fails or never comes; a
# slow link; a real client) and, where it can, shows with a run without the
# library that the condition is real; then it checks the promise.
PY_FIRST = r"""
import socket, sys
name, port, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(rounds):
    try:
        s = socket.create_connection((name, port), timeout=5)
    except OSError as e:
        print("round=%d errno=%s" % (i, e.errno), flush=True)
        continue
    s.sendall(("GET /first HTTP/1.0\r\nHost: %s\r\n\r\n" % name).encode())
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    print("round=%d body=%s" % (i, data.split(b"\r\n\r\n", 1)[-1].decode().strip()), flush=True)
"""
PY_TRANSIENT = r"""
import socket, sys
name, port = sys.argv[1], int(sys.argv[2])
def get(fam, sa):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect(sa)
    except OSError as e:
        return "errno=%s" % e.errno
    s.sendall(("GET /transient HTTP/1.0\r\nHost: %s\r\n\r\n" % name).encode())
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    return "body=" + data.split(b"\r\n\r\n", 1)[-1].decode().strip()
infos = socket.getaddrinfo(name, port, 0, socket.SOCK_STREAM)
fam, sa = infos[0][0], infos[0][4]
print("lookup1 addr=%s" % sa[0])
print("first " + get(fam, sa), flush=True)
sys.stdin.readline()
try:
    socket.getaddrinfo(name, port, 0, socket.SOCK_STREAM)
    print("lookup2 ok", flush=True)
except socket.gaierror as e:
    print("lookup2 gaierror=%d" % e.errno, flush=True)
print("again " + get(fam, sa), flush=True)
"""
PY_RETRY = r"""
import socket, sys, time
host, port, want = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for i in range(80):
    try:
        s = socket.create_connection((host, port), timeout=2)
        s.sendall(b"GET /late HTTP/1.0\r\nHost: late\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        s.close()
        body = data.split(b"\r\n\r\n", 1)[-1].decode().strip()
        print("try=%d body=%s" % (i, body), flush=True)
        if want in body:
            break
    except OSError as e:
        print("try=%d errno=%s" % (i, e.errno), flush=True)
    time.sleep(0.25)
"""
PY_UNIX_ONLY = r"""
import os, socket, sys
d = sys.argv[1]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(os.path.join(d, "s"))
srv.listen(1)
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
c.connect(os.path.join(d, "s"))
a, _ = srv.accept()
c.sendall(b"x")
assert a.recv(1) == b"x"
u = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
u.bind(os.path.join(d, "d"))
v = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
v.sendto(b"y", os.path.join(d, "d"))
v.sendmsg([b"z"], [], 0, os.path.join(d, "d"))
assert u.recv(1) == b"y" and u.recv(1) == b"z"
p, q = socket.socketpair()
p.send(b"w")
assert q.recv(1) == b"w"
print("interfaces=%d" % len(socket.if_nameindex()))     # netlink sendto in glibc
print("unix-only ok")
"""
PY_LOOKUP = r"""
import socket, sys
print(socket.getaddrinfo(sys.argv[1], 80, 0, socket.SOCK_STREAM)[0][4][0])
"""
PY_PASSIVE_BIND = r"""
import socket, sys
name, port, fam = sys.argv[1], sys.argv[2], {"unspec": 0, "inet": socket.AF_INET, "inet6": socket.AF_INET6}[sys.argv[3]]
try:
    infos = socket.getaddrinfo(name, port, fam, socket.SOCK_STREAM, 0, socket.AI_PASSIVE)
except socket.gaierror as e:
    print("gai errno=%d" % e.errno)
    sys.exit(0)
for f, t, p, _, sa in infos:
    s = socket.socket(f, t, p)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(sa)
        s.listen(1)
        print("addr=%s bind=ok" % sa[0])
    except OSError as e:
        print("addr=%s bind-errno=%d" % (sa[0], e.errno))
    s.close()
"""
NODE_BURST = r"""
const dgram = require("dgram");
const [host, port, n] = process.argv.slice(1);
const s = dgram.createSocket("udp4");
let done = 0, errs = 0;
const buf = Buffer.alloc(1000, 120);
s.bind(0, () => {
  for (let i = 0; i < +n; i++)
    s.send(buf, +port, host, e => {
      if (e) { errs++; console.log("error " + e.code); }
      if (++done == +n) { console.log(`sent=${done} errors=${errs}`); s.close(); }
    });
});
"""

FAR4, FAR6 = "198.18.0.2", "fd00:68:74::2"   # the far end of a veth pair, in a namespace of its own
NEAR4, NEAR6 = "198.18.0.1", "fd00:68:74::1"
FAR_IF = "hsf0"


def _run_ok(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        raise RuntimeError(" ".join(cmd) + ": " + (p.stderr or p.stdout).strip())
    return p.stdout


class FarSide:
    """listeners behind a veth pair in a network namespace of their own
    (tests/integration/hs_far.py under `unshare --net`), so that tc can
    make the link slow.  stop() removes it all; the helper also exits by
    itself when this process goes (EOF on its stdin)."""

    def __init__(self, specs):
        self.proc = subprocess.Popen(["unshare", "--net", sys.executable,
                                      os.path.join(REPO, "tests", "integration", "hs_far.py"), *specs],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            line = self._line(10)
            if not line.startswith("pid="):
                raise RuntimeError(f"hs_far: {line!r}")
            pid = line.strip()[4:]
            _run_ok(["ip", "link", "add", FAR_IF, "type", "veth", "peer", "name", "hsf1", "netns", pid])
            _run_ok(["ip", "link", "set", FAR_IF, "up"])
            _run_ok(["ip", "addr", "add", NEAR4 + "/24", "dev", FAR_IF])
            _run_ok(["ip", "-6", "addr", "add", NEAR6 + "/64", "dev", FAR_IF, "nodad"])
            far = ["nsenter", "-t", pid, "-n"]
            _run_ok(far + ["ip", "link", "set", "hsf1", "up"])
            _run_ok(far + ["ip", "addr", "add", FAR4 + "/24", "dev", "hsf1"])
            _run_ok(far + ["ip", "-6", "addr", "add", FAR6 + "/64", "dev", "hsf1", "nodad"])
            self.proc.stdin.write("go\n")
            self.proc.stdin.flush()
            line = self._line(10)
            if line.strip() != "ready":
                raise RuntimeError(f"hs_far: {line!r}")
        except Exception:
            self.stop()
            raise

    def _line(self, timeout):
        import select
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not r:
            raise RuntimeError("hs_far did not answer")
        return self.proc.stdout.readline()

    def stats(self):
        self.proc.stdin.write("stats\n")
        self.proc.stdin.flush()
        line = self._line(5)
        return {k: int(v) for k, v in (x.split("=") for x in line.split()[1:])}

    def shape(self, *qdisc):
        """tc qdisc replace ... on the near end; (): no qdisc"""
        if qdisc:
            _run_ok(["tc", "qdisc", "replace", "dev", FAR_IF, "root", *qdisc])
        else:
            subprocess.run(["tc", "qdisc", "del", "dev", FAR_IF, "root"], capture_output=True, timeout=10)

    def slow(self, rate="1mbit"):
        """a rate-limited link: netem where the kernel has it, else tbf"""
        try:
            self.shape("netem", "rate", rate, "limit", "10000")
        except RuntimeError:
            self.shape("tbf", "rate", rate, "burst", "4kb", "latency", "10s")

    def stop(self):
        subprocess.run(["ip", "link", "del", FAR_IF], capture_output=True, timeout=10)
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


class CondBase(Base):
    """helpers: a DNS answer of the test's own (removed afterwards), extra
    listeners, extra loopback addresses and interactive programs"""

    def setUp(self):
        super().setUp()
        self.dns = CTX["dns"]
        self._cleanups_cond = []

    def tearDown(self):
        for fn in reversed(self._cleanups_cond):
            try:
                fn()
            except Exception:
                pass
        super().tearDown()

    def dset(self, name, **kw):
        self.dns.set(name, **kw)
        self._cleanups_cond.append(lambda: self.dns.remove(name))

    def listen(self, addr, port):
        import hs_servers
        srv = hs_servers.HttpListener(addr, port, CTX["log"]).start()
        self._cleanups_cond.append(srv.stop)
        return srv.label

    def udp_listen(self, addr, port):
        import hs_servers
        srv = hs_servers.UdpEcho(addr, port, CTX["log"]).start()
        self._cleanups_cond.append(srv.stop)
        return srv.label

    def lo6(self, addr):
        if CTX["no6"]:
            self.skipTest(CTX["no6"])
        _run_ok(["ip", "-6", "addr", "add", addr + "/128", "dev", "lo", "nodad"])
        self._cleanups_cond.append(lambda: run_quiet(["ip", "-6", "addr", "del", addr + "/128", "dev", "lo"]))

    def env_for(self, config=None, lib=True, env=None):
        e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.tmp, "LANG": "C", "TMPDIR": self.tmp}
        if lib:
            e["LD_PRELOAD"] = " ".join(PREFIX + [LIB])
            if PREFIX:
                e["ASAN_OPTIONS"] = "detect_leaks=0"
            e["HOSTSHIM_CONFIG"] = config or self.empty
        e.update(env or {})
        return e

    def popen(self, argv, config=None, lib=True, env=None):
        p = subprocess.Popen(argv, env=self.env_for(config, lib, env), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=self.tmp, bufsize=0)

        def stop():
            if p.poll() is None:
                p.kill()
            p.wait(5)
        self._cleanups_cond.append(stop)
        return p

    @staticmethod
    def read_line(p, timeout):
        """the next line of p's stdout, or None after timeout seconds (its
        own buffer: select() can't see what a file object has buffered)"""
        import select
        buf = p.__dict__.setdefault("_hs_buf", b"")
        end = time.monotonic() + timeout
        while b"\n" not in buf:
            left = end - time.monotonic()
            if left <= 0 or not select.select([p.stdout], [], [], left)[0]:
                p._hs_buf = buf
                return None
            chunk = os.read(p.stdout.fileno(), 4096)
            if not chunk:
                p._hs_buf = b""
                return buf.decode() or None
            buf += chunk
        line, _, rest = buf.partition(b"\n")
        p._hs_buf = rest
        return line.decode() + "\n"

    @staticmethod
    def listeners(r):
        return [parse_kv(l.split("body=", 1)[1]).get("listener") for l in r.lines if "body=" in l]

    def failed_like_target(self, r, target, fam, port="80"):
        """True when the program's lookup failed, as libc's lookup of the
        target fails for this family (e.g. AF_INET for an IPv6-only target):
        then there is no socket to check.  A lookup that fails where the
        target's succeeds is a failure of the test."""
        gai = [l for l in r.lines if l.startswith("gai rc=")]
        if not gai:
            return False
        b = self.base([self.c("sock_keep"), "-f", fam, "repeat", target, port])
        self.assertEqual(gai, [l for l in b.lines if l.startswith("gai rc=")],
                         "the lookup fails where libc's lookup of the target does not, or differently"
                         + r.show() + b.show())
        return True


# `from harness import *` in the test files takes everything, helpers whose
# names begin with an underscore included.
__all__ = [n for n in dir() if not n.startswith("__")]
