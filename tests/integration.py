#!/usr/bin/env python3
"""Black-box integration suite for libhostshim.so (Python stdlib only).

Layout
  tests/integration.py        this file: the runner (namespace, servers, output)
  tests/integration/harness.py    what every test shares: paths, the
                              namespace's names and listeners, Run and Base
  tests/integration/test_*.py one file per concern, as shim/shim.h maps the
                              library (rules, lookups, clients, failures,
                              config, noninterference, process, ipv6, reload,
                              memory, shape, trust, deepbind, targets,
                              destinations, names, ...); a new file is found
                              by its name, its classes run in the order they
                              are written
  tests/integration/hs_dns.py     tiny UDP DNS responder (127.0.0.53)
  tests/integration/hs_servers.py HTTP listeners + UDP echo, run in threads
  tests/clients/*.c           small command-line C clients (usage at the top
                              of each), built to build/tests/NAME;
                              NAME_lib.c to build/tests/NAME_lib.so
    gai        getaddrinfo with any hints, then connect/getnameinfo/gethostbyaddr
    ghbn       the gethostbyname family (+ connect, gethostbyaddr)
    http_get   Node-style lookup + (non-)blocking connect + GET; fork mode
    udp        connect+send/write, sendto, sendmsg; prints the reply
    stress     N threads x M lookups+connects, checks the listener
    gai_loop   getaddrinfo/freeaddrinfo loop for valgrind
    sockopt    options/flags/bind of an AF_INET socket before and after connect
    proclife   fork, fork with threads, vfork+exec, posix_spawn, connect and
               sendto in signal handlers (raise, during a lookup, a storm)
    dl_resolve dlopen()s resolver_lib.so and calls it from main and threads
    fd2        closes or reuses fd 2, then makes the library warn
    ctor_lookup_lib    a preload whose constructor resolves and connects
    early_threads_lib  a preload whose constructor starts resolving threads
    resolver_lib       a library that resolves names, for dl_resolve
    noipv6_lib         socket(AF_INET6) fails: a kernel without IPv6
    deepbind   dlopen()s resolver_lib.so and deepbind_lib.so with RTLD_DEEPBIND
    deepbind_lib       defines its own gnu_get_libc_version (a libc name)
    deepbind_ctor_lib  a preload whose constructor dlopen()s with RTLD_DEEPBIND

How it runs
  python3 tests/integration.py [-k PATTERN] [Class | Class.test | test ...]
  python3 tests/integration.py test_reload   (every class of one file)
  The outer process (root; otherwise everything is skipped) creates the
  network namespace hostshim-it-<pid> with `lo` up (plus the addresses
  below and a veth pair with both ends inside), writes
  /etc/netns/<ns>/hosts and resolv.conf (bind-mounted over /etc by
  `ip netns exec`) and re-runs this file inside with --inside.  Inside, it
  builds missing or stale clients, starts the DNS responder and the
  listeners, and runs every client under LD_PRELOAD=<lib> with its own INI
  file (a fresh temp dir per test); most checks compare with the same
  command run without the library.  The
  namespace, /etc/netns/<ns>, temp files and every process started are
  removed on every exit path (including Ctrl-C and SIGTERM).

  Inside the namespace:
    /etc/hosts: localhost=127.0.0.1,::1  server=127.0.0.5  gateway=127.0.0.6
                auth.localhost=127.0.0.1 (the trap: a DECOY listens there)
    DNS only:   dns-only.test=127.0.0.7, slow.test=127.0.0.7 (answered 1 s
                late); anything else NXDOMAIN
    HTTP:       127.0.0.5:9000 9443 9001, 127.0.0.6:8080, 127.0.0.7:9000,
                DECOY 127.0.0.1:80 and [::1]:80; each answers
                "listener=ADDR:PORT host=<Host header>"
    HTTPS:      127.0.0.5:9444 (self-signed certificate for auth.localhost and
                auth.example.test, made with openssl at start), adds "sni=NAME"
    UDP echo:   127.0.0.5:5353
  and IPv6 of the suite's own, only in the namespace (IPv6 tests skip, saying
  why, where the kernel can't):
    lo:         fd00:68:73::5, ::8, ::1 (nodad), and 127.0.0.8/32 so that
                glibc's AI_ADDRCONFIG sees IPv4 as well as IPv6 (it ignores
                127.0.0.1 and ::1), as in a dual-stack container
    hsv0:       fe80::1/64 (nodad), one end of the veth pair hsv0/hsv1
    /etc/hosts: server6=fd00:68:73::5 (IPv6 only),
                dual=127.0.0.8 and fd00:68:73::8
    HTTP:       [fd00:68:73::5]:9000, 127.0.0.8:9000, [fd00:68:73::8]:9000,
                [fe80::1%hsv0]:9000, DECOY [fd00:68:73::1]:80
    UDP echo:   [fd00:68:73::5]:5353

Environment
  HOSTSHIM_TEST_LIB            library (default build/libhostshim.so)
  HOSTSHIM_TEST_PRELOAD_PREFIX entries put before the library in LD_PRELOAD
                               (e.g. libasan.so.8); foreign programs then
                               get ASAN_OPTIONS=detect_leaks=0
  HOSTSHIM_TEST_BIN            client directory (default build/tests)
  HOSTSHIM_TEST_VALGRIND=1     the valgrind leg: every run of a C client of
                               this suite with the library preloaded goes
                               under valgrind memcheck (errors and definite
                               leaks fail it: exit status 99), timeouts x10.
                               Python, Node.js, curl and sh are not: far too
                               slow, and not ours.  Runs without the library
                               (the baselines) are not either.  Does not
                               combine with HOSTSHIM_TEST_PRELOAD_PREFIX.
  CC                           compiler for missing clients (default cc)

Output: one line per test, failure details, then "N passed, N failed, N skipped".
Exit status 0 only if nothing failed.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "integration"))
sys.dont_write_bytecode = True            # no __pycache__ in the source tree
from harness import *  # noqa: E402,F401,F403


# ---------------------------------------------------------------------------
# runner

class LineResult(unittest.TestResult):
    """prints one line per test; counts a test with failing subtests once"""

    def __init__(self, stream):
        super().__init__()
        self.stream = stream
        self.state = {}
        self.details = []
        self.n_pass = self.n_fail = self.n_skip = 0

    def startTest(self, test):
        super().startTest(test)
        self._t0 = time.monotonic()
        self.state[test.id()] = "ok"

    def _bad(self, test, kind, err, sub=None):
        self.state[test.id()] = "FAIL"
        label = test.id().split(".", 1)[-1] + (f" {sub._subDescription()}" if sub else "")
        self.details.append((kind, label, self._exc_info_to_string(err, test)))

    def addFailure(self, test, err):
        self._bad(test, "FAIL", err)

    def addError(self, test, err):
        self._bad(test, "ERROR", err)

    def addSubTest(self, test, subtest, err):
        if err is not None:
            kind = "FAIL" if issubclass(err[0], test.failureException) else "ERROR"
            self._bad(test, kind, err, subtest)

    def addSkip(self, test, reason):
        self.state[test.id()] = "skip (" + reason + ")"

    def stopTest(self, test):
        super().stopTest(test)
        st = self.state[test.id()]
        secs = time.monotonic() - self._t0
        name = test.id().split(".", 1)[-1]
        notes = "".join(f"  [{n}]" for n in getattr(test, "_notes", []))
        if st == "ok":
            self.n_pass += 1
            self.stream.write(f"ok    {name} ({secs:.2f}s){notes}\n")
        elif st == "FAIL":
            self.n_fail += 1
            self.stream.write(f"FAIL  {name} ({secs:.2f}s){notes}\n")
        else:
            self.n_skip += 1
            self.stream.write(f"skip  {name}: {st[6:-1]}\n")
        self.stream.flush()


def load_classes():
    """{module name: [TestCase classes in the order written]} of every
    tests/integration/test_*.py"""
    import importlib
    import inspect
    here = os.path.join(REPO, "tests", "integration")
    found = {}
    for f in sorted(os.listdir(here)):
        if f.startswith("test_") and f.endswith(".py"):
            mod = importlib.import_module(f[:-3])
            classes = [c for c in vars(mod).values() if inspect.isclass(c)
                       and issubclass(c, unittest.TestCase) and c.__module__ == mod.__name__]
            found[mod.__name__] = sorted(classes, key=lambda c: inspect.getsourcelines(c)[1])
    return found


def build_suite(names, patterns):
    loader = unittest.TestLoader()
    if patterns:
        loader.testNamePatterns = [p if "*" in p else f"*{p}*" for p in patterns]
    suite = unittest.TestSuite()
    modules = load_classes()
    classes = [c for cs in modules.values() for c in cs]
    by_name = {c.__name__: c for c in classes}
    for n in names or [c.__name__ for c in classes]:
        cls_name, _, method = n.partition(".")
        if n in modules:                                   # a file: test_reload
            for c in modules[n]:
                suite.addTests(loader.loadTestsFromTestCase(c))
        elif cls_name in by_name:                          # Class or Class.test
            c = by_name[cls_name]
            suite.addTests(loader.loadTestsFromName(method, c) if method
                           else loader.loadTestsFromTestCase(c))
        else:                                              # a test method's name
            owners = [c for c in classes if hasattr(c, n)]
            if not owners:
                raise SystemExit(f"no test class, file or test named {n}")
            for c in owners:
                suite.addTests(loader.loadTestsFromName(n, c))
    return suite


def summary(p, f, s):
    line = f"{p} passed, {f} failed"
    return line + (f", {s} skipped" if s else "")


def ensure_clients():
    """build missing or stale clients the way the Makefile does"""
    cc = os.environ.get("CC", "cc")
    srcdir = os.path.join(REPO, "tests", "clients")
    os.makedirs(BIN, exist_ok=True)
    for src in sorted(os.listdir(srcdir)):
        if not src.endswith(".c"):
            continue
        name = src[:-2]
        path = os.path.join(srcdir, src)
        shared = name.endswith("_lib")
        out = os.path.join(BIN, name + (".so" if shared else ""))
        if os.path.exists(out) and os.path.getmtime(out) >= os.path.getmtime(path):
            continue
        cmd = [cc, *CFLAGS, *(["-shared", "-fPIC"] if shared else []), "-o", out, path]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            raise RuntimeError("building client failed: " + " ".join(cmd) + "\n" + p.stderr)


def make_cert(tmp):
    """(certfile, keyfile) of a self-signed certificate for TLS_NAMES, or None
    without openssl"""
    if shutil.which("openssl") is None:
        return None
    cert, key = os.path.join(tmp, "tls-cert.pem"), os.path.join(tmp, "tls-key.pem")
    san = ",".join("DNS:" + n for n in TLS_NAMES)
    p = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=" + TLS_NAMES[0],
                        "-addext", "subjectAltName=" + san], capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError("openssl req failed: " + p.stderr)
    return cert, key


def check_namespace():
    problems = []
    for name, want in [("server", "127.0.0.5"), ("auth.localhost", "127.0.0.1"),
                       ("dns-only.test", "127.0.0.7")]:
        try:
            got = socket.gethostbyname(name)
        except OSError as e:
            got = str(e)
        if got != want:
            problems.append(f"{name} resolves to {got}, want {want}")
    if not CTX["no6"]:
        for name, want in [("server6", {SERVER6}), ("dual", {DUAL4, DUAL6})]:
            try:
                got = {ai[4][0] for ai in socket.getaddrinfo(name, None, 0, socket.SOCK_STREAM)}
            except OSError as e:
                got = str(e)
            if got != want:
                problems.append(f"{name} resolves to {got}, want {want}")
    return problems


def stop_signals():
    """after the first SIGINT/SIGTERM/SIGHUP, ignore the others so that
    clean-up runs to its end"""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)


def interrupt_on_signals():
    def on_signal(signum, frame):
        stop_signals()
        raise KeyboardInterrupt(signal.Signals(signum).name)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)


def inside_main(args):
    import hs_dns
    import hs_servers

    interrupt_on_signals()
    started = []
    tmp = None
    res = LineResult(sys.stdout)
    interrupted = setup_failed = None
    try:
        suite = build_suite(args.names, args.k)
        tmp = tempfile.mkdtemp(prefix="hostshim-it-")
        CTX["tmp"] = tmp
        CTX["log"] = log = hs_servers.RequestLog()
        try:
            if VALGRIND and PREFIX:
                raise RuntimeError("HOSTSHIM_TEST_VALGRIND does not combine with HOSTSHIM_TEST_PRELOAD_PREFIX "
                                   "(valgrind and the sanitizer runtimes both replace malloc)")
            if VALGRIND and shutil.which("valgrind") is None:
                raise RuntimeError("HOSTSHIM_TEST_VALGRIND is set but valgrind is not installed")
            ensure_clients()
            dns = hs_dns.DnsResponder("127.0.0.53", 53, DNS_TABLE, DNS_DELAYS)
            dns.start()
            started.append(dns)
            CTX["dns"] = dns
            for addr, port in HTTP_LISTENERS:
                started.append(hs_servers.HttpListener(addr, port, log).start())
            started.append(hs_servers.UdpEcho(*UDP_ECHO, log).start())
            CTX["no6"] = os.environ.get("HOSTSHIM_IT_NO_IPV6")
            CTX["noll"] = os.environ.get("HOSTSHIM_IT_NO_LINKLOCAL")
            if not CTX["no6"]:
                try:
                    for addr, port in HTTP6_LISTENERS:
                        started.append(hs_servers.HttpListener(addr, port, log).start())
                    started.append(hs_servers.UdpEcho(*UDP6_ECHO, log).start())
                except OSError as e:
                    CTX["no6"] = CTX["noll"] = f"no IPv6 listener in the namespace: {e}"
            if not CTX["noll"]:
                try:
                    started.append(hs_servers.HttpListener(*LL_LISTENER, log).start())
                except OSError as e:
                    CTX["noll"] = f"no link-local listener in the namespace: {e}"
            cert = make_cert(tmp)
            if cert:
                CTX["cert"] = cert
                ctx = hs_servers.tls_context(*cert)
                started.append(hs_servers.HttpListener(*TLS_LISTENER, log, ssl_ctx=ctx).start())
            problems = check_namespace()
            if problems:
                raise RuntimeError("namespace set-up is wrong: " + "; ".join(problems))
        except Exception as e:                     # set-up failed: one failure, say why
            setup_failed = str(e)
        else:
            print(f"library: {LIB}" + (f"  (preload prefix: {' '.join(PREFIX)})" if PREFIX else "")
                  + ("  (C clients under valgrind memcheck)" if VALGRIND else ""))
            sys.stdout.flush()
            suite.run(res)
    except KeyboardInterrupt as e:
        interrupted = str(e) or "SIGINT"
    finally:
        stop_signals()
        for s in reversed(started):
            try:
                s.stop()
            except Exception:
                pass
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    if res.details:
        print("\n" + "=" * 70)
        for kind, label, text in res.details:
            print(f"{kind}: {label}\n{text}\n" + "-" * 70)
    if setup_failed:
        print(f"set-up failed: {setup_failed}")
    if interrupted:
        where = list(res.state)[-1] if res.state else "set-up"
        print(f"interrupted by {interrupted} during {where.split('.', 1)[-1]}; cleaned up")
    print(summary(res.n_pass, res.n_fail + (1 if interrupted or setup_failed else 0), res.n_skip))
    return 130 if interrupted else 1 if res.n_fail or setup_failed else 0


# ---------------------------------------------------------------------------
# outer: namespace set-up and clean-up

def run_quiet(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


def setup_ipv6(ns):
    """IPv6 addresses of the suite's own in the namespace: (why there is no
    IPv6, why there is no link-local address), None where it worked"""
    # An IPv4 address other than 127.0.0.1 as well: glibc's AI_ADDRCONFIG
    # ignores 127.0.0.1 and ::1 only, and with IPv6 addresses alone it
    # would narrow AF_UNSPEC lookups to IPv6 (a dual-stack container has both).
    p = run_quiet(["ip", "-n", ns, "addr", "add", DUAL4 + "/32", "dev", "lo"])
    if p.returncode != 0:
        raise RuntimeError(f"ip addr add {DUAL4}/32 dev lo: {p.stderr.strip()}")
    if not os.path.exists("/proc/net/if_inet6"):
        why = "the kernel has no IPv6 (/proc/net/if_inet6 missing)"
        return why, why
    for a in V6_ADDRS:
        # nodad: usable at once, not "tentative" for a second or two
        p = run_quiet(["ip", "-n", ns, "-6", "addr", "add", a + "/128", "dev", "lo", "nodad"])
        if p.returncode != 0:
            why = f"ip -6 addr add {a}/128 dev lo failed: {p.stderr.strip()}"
            return why, why
    # lo has no link-local address and this kernel may lack the dummy
    # driver: a veth pair with both ends inside the namespace
    for cmd in (["link", "add", LL_IF, "type", "veth", "peer", "name", LL_PEER],
                ["-6", "addr", "add", LL + "/64", "dev", LL_IF, "nodad"],
                ["link", "set", LL_IF, "up"], ["link", "set", LL_PEER, "up"]):
        p = run_quiet(["ip", "-n", ns, *cmd])
        if p.returncode != 0:
            return None, f"ip {' '.join(cmd)} failed: {p.stderr.strip()}"
    return None, None


def outer_main(args, argv):
    if os.geteuid() != 0 or shutil.which("ip") is None:
        n = build_suite(args.names, args.k).countTestCases()
        why = "not root" if os.geteuid() != 0 else "the ip command is missing"
        print(f"skipping all {n} tests: {why}; the suite creates a network namespace "
              f"(run as root: sudo python3 tests/integration.py)")
        print(summary(0, 0, n) if n else "0 passed, 0 failed, 0 skipped")
        return 0

    ns = f"hostshim-it-{os.getpid()}"
    netns_root = "/etc/netns"
    etc = os.path.join(netns_root, ns)
    made_root = not os.path.isdir(netns_root)
    child = None
    rc = 1
    interrupted = None

    interrupt_on_signals()

    try:
        os.makedirs(etc)
        with open(os.path.join(etc, "hosts"), "w") as f:
            f.write(HOSTS)
        with open(os.path.join(etc, "resolv.conf"), "w") as f:
            f.write(RESOLV)
        for cmd in (["ip", "netns", "add", ns], ["ip", "-n", ns, "link", "set", "lo", "up"]):
            p = run_quiet(cmd)
            if p.returncode != 0:
                raise RuntimeError(" ".join(cmd) + ": " + p.stderr.strip())
        env = dict(os.environ)
        env.pop("HOSTSHIM_IT_NO_IPV6", None)
        env.pop("HOSTSHIM_IT_NO_LINKLOCAL", None)
        no6, noll = setup_ipv6(ns)
        if no6:
            env["HOSTSHIM_IT_NO_IPV6"] = no6
        if noll:
            env["HOSTSHIM_IT_NO_LINKLOCAL"] = noll
        sys.stdout.flush()
        child = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, os.path.abspath(__file__),
                                  "--inside", *argv], cwd=REPO, env=env)
        rc = child.wait()
        if rc == 130:
            pass                                   # the inner run printed the summary
        elif rc not in (0, 1):
            print(f"inner run ended with status {rc}")
            print(summary(0, 1, 0))
            rc = 1
    except KeyboardInterrupt as e:
        interrupted = str(e) or "SIGINT"
        rc = 130
    except Exception as e:
        print(f"namespace set-up failed: {e}")
        print(summary(0, 1, 0))
        rc = 1
    finally:
        stop_signals()
        if child is not None:
            # the inner run stops at its first signal (Ctrl-C reaches it directly)
            # and ignores the rest while it cleans up
            for stop in (child.terminate, child.kill):
                if child.poll() is not None:
                    break
                stop()
                try:
                    child.wait(10)
                except subprocess.TimeoutExpired:
                    pass
        # anything still inside the namespace was started by this run
        pids = run_quiet(["ip", "netns", "pids", ns]).stdout.split() if os.path.exists(f"/run/netns/{ns}") else []
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        if os.path.exists(f"/run/netns/{ns}"):
            run_quiet(["ip", "netns", "del", ns])
        shutil.rmtree(etc, ignore_errors=True)
        if made_root:
            try:
                os.rmdir(netns_root)
            except OSError:
                pass
    if interrupted and (child is None or child.returncode != 130):
        # the inner run did not get to print its summary
        print(f"interrupted by {interrupted}; namespace {ns} removed")
        print(summary(0, 1, 0))
    return rc


def main():
    ap = argparse.ArgumentParser(description="hostshim integration tests (see the top of this file)")
    ap.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("-k", action="append", default=[], metavar="PATTERN",
                    help="only tests whose name matches PATTERN (substring or fnmatch), like unittest -k")
    ap.add_argument("names", nargs="*", help="Class, Class.test_name or test_name")
    args = ap.parse_args()
    argv = sys.argv[1:]
    if args.inside:
        argv = [a for a in argv if a != "--inside"]
        return inside_main(args)
    return outer_main(args, argv)


if __name__ == "__main__":
    sys.exit(main())
