"""Integration tests: what the library says, and when (SPEC Behaviour 11):
a refused or timed-out redirected connection explained once per name and
port at the default level; where the rules came from; a new line when where
a name goes changes; an unresolvable target warned at most once a minute."""
from harness import *  # noqa: F401,F403
import errno

# "hostshim: refused.localhost:80 -> server:9999 (127.0.0.5:9999): connection refused (the program sees 127.88.0.4:80)"
REFUSED = re.compile(r"^hostshim: refused\.localhost:80 -> server:9999 \(127\.0\.0\.5:9999\): "
                     r"connection refused \(the program sees (127\.88\.\d+\.\d+|\[::ffff:127\.88\.\d+\.\d+\]):80\)$")

# A Python client that connects with one SYN retransmission at most
# (TCP_SYNCNT), so that a destination that never answers times out in ~3 s.
PY_TIMEOUT = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_SYNCNT, 1)
addr = socket.getaddrinfo(sys.argv[1], int(sys.argv[2]), socket.AF_INET, socket.SOCK_STREAM)[0][4]
try:
    s.connect(addr)
    print("connected")
except OSError as e:
    print("errno=%s addr=%s" % (__import__("errno").errorcode[e.errno], addr[0]))
"""


class Messages(CondBase):
    """issue 17 item 6: each message provoked and read"""

    def explained(self, r):
        return [l for l in r.shim_lines() if l.startswith("hostshim: refused.localhost:")]

    def test_refused_blocking_once(self):
        cfg = self.rules("refused.localhost = server:9999")
        r = self.get("refused.localhost", 80, "-k", "3", config=cfg)
        self.assertEqual(r.rc, 3, r.show())
        self.assertEqual(r.out.count("errno=ECONNREFUSED"), 3, r.show())
        lines = self.explained(r)
        self.assertEqual(len(lines), 1, "want one line for three refusals" + r.show())
        self.assertRegex(lines[0], REFUSED, r.show())
        # the address the program saw is the one in the line
        seen = re.search(r"addr=(\S+)", r.out).group(1)
        self.assertIn(f"sees {seen}:80)", lines[0], r.show())

    def test_refused_nonblocking(self):
        # EINPROGRESS, then poll and getsockopt(SO_ERROR): libuv's and curl's way
        cfg = self.rules("refused.localhost = server:9999")
        r = self.get("refused.localhost", 80, "-n", "-k", "2", config=cfg)
        self.assertEqual(r.rc, 3, r.show())
        self.assertIn(f"so_error={errno.ECONNREFUSED}", r.out, r.show())
        lines = self.explained(r)
        self.assertEqual(len(lines), 1, r.show())
        self.assertRegex(lines[0], REFUSED, r.show())

    def test_refused_v4mapped(self):
        cfg = self.rules("refused.localhost = server:9999")
        r = self.get("refused.localhost", 80, "-6", "-f", "inet", config=cfg)
        self.assertEqual(r.rc, 3, r.show())
        self.assertEqual(len(self.explained(r)), 1, r.show())

    @unittest.skipUnless(node_ok(), "node not installed")
    def test_refused_node(self):
        cfg = self.rules("refused.localhost = server:9999")
        r = self.run_prog(["node", "-e", NODE_HTTP, "http://refused.localhost/"], config=cfg)
        self.assertIn("error code=ECONNREFUSED", r.out, r.show())
        lines = self.explained(r)
        self.assertEqual(len(lines), 1, "Node's refusal is not explained" + r.show())
        self.assertRegex(lines[0], REFUSED, r.show())

    def test_refused_curl(self):
        if not shutil.which("curl"):
            self.skipTest("curl not installed")
        if prefix_blocks(["curl", "--version"]):
            self.skipTest(prefix_blocks(["curl", "--version"]))
        # curl answers *.localhost itself: a name it asks the resolver for
        cfg = self.rules("refused.example = server:9999")
        r = self.run_prog(["curl", "-sS", "--max-time", "10", "http://refused.example/"], config=cfg)
        self.assertEqual(r.rc, 7, "curl: couldn't connect" + r.show())
        lines = [l for l in r.shim_lines() if l.startswith("hostshim: refused.example:80 -> ")]
        self.assertEqual(len(lines), 1, "curl's refusal is not explained" + r.show())
        self.assertRegex(lines[0], REFUSED.pattern.replace(r"refused\.localhost", r"refused\.example"), r.show())

    def test_once_per_name_and_port(self):
        cfg = self.rules("refused.localhost = server:9999", "refused.localhost:81 = server:9998",
                         "other.localhost = server:9999")
        r = self.run_prog([sys.executable, "-c", PY_CONNECT_EACH,
                           "refused.localhost:80", "refused.localhost:80", "refused.localhost:81",
                           "other.localhost:80", "refused.localhost:81"], config=cfg)
        lines = [l for l in r.shim_lines() if "connection refused" in l]
        self.assertEqual([l.split(" -> ")[0] for l in lines],
                         ["hostshim: refused.localhost:80", "hostshim: refused.localhost:81",
                          "hostshim: other.localhost:80"], r.show())
        self.assertIn("-> server:9998 (127.0.0.5:9998)", lines[1], r.show())

    def test_address_rule_refused(self):
        cfg = self.rules("127.0.0.1:8889 = server:9999")
        r = self.get("127.0.0.1", 8889, config=cfg)
        self.assertEqual(r.rc, 3, r.show())
        self.assertEqual(r.shim_lines(),
                         ["hostshim: 127.0.0.1:8889 -> server:9999 (127.0.0.5:9999): connection refused"],
                         r.show())

    def test_refused_silent_when_off_or_error(self):
        cfg = self.rules("refused.localhost = server:9999")
        for level in ("off", "error"):
            r = self.get("refused.localhost", 80, config=cfg, log=level)
            self.assertEqual(r.err, "", r.show())

    def test_unmapped_refusal_says_nothing(self):
        cfg = self.rules("auth.localhost = server:9000")
        for opts in ([], ["-n"]):
            r = self.get("server", 9999, *opts, config=cfg)
            self.assertEqual(r.rc, 3, r.show())
            self.assertEqual(r.err, "", r.show())

    def test_timed_out(self):
        # a listener whose accept queue is full drops SYNs: the connect times out
        srv = socket.socket()
        srv.bind(("127.0.0.5", 9777))
        srv.listen(0)
        self._cleanups_cond.append(srv.close)
        fillers = []
        for _ in range(3):
            f = socket.socket()
            f.setblocking(False)
            f.connect_ex(("127.0.0.5", 9777))
            fillers.append(f)
            self._cleanups_cond.append(f.close)
        time.sleep(0.2)
        b = self.base([sys.executable, "-c", PY_TIMEOUT, "127.0.0.5", "9777"], timeout=60)
        if "errno=ETIMEDOUT" not in b.out:
            self.skipTest("the condition: a full accept queue did not time out here" + b.show())
        cfg = self.rules("slowpoke.localhost = server:9777")
        r = self.run_prog([sys.executable, "-c", PY_TIMEOUT, "slowpoke.localhost", "80"], config=cfg, timeout=60)
        self.assertIn("errno=ETIMEDOUT", r.out, r.show())
        self.assertEqual(len(r.shim_lines()), 1, r.show())
        self.assertRegex(r.shim_lines()[0], r"^hostshim: slowpoke\.localhost:80 -> server:9777 \(127\.0\.0\.5:9777\): "
                         r"connection timed out \(the program sees 127\.88\.\d+\.\d+:80\)$", r.show())

    # -- where the rules came from ----------------------------------------
    def test_sources_at_info(self):
        cfg = self.rules("auth.localhost = server:9000", "a.localhost = server:9000", "b.localhost = server:9000")
        r = self.get("auth.localhost", 80, config=cfg, log="info")
        self.assertReached(r, S9000)
        self.assertEqual(r.shim_lines()[0], f"hostshim: 3 rules from {cfg}", r.show())
        r = self.get("auth.localhost", 80, config=cfg, log="info",
                     hmap="auth.localhost=gateway:8080,c.localhost=server:9000")
        self.assertReached(r, GW)
        # the rules in force: the map's auth.localhost replaces the file's
        self.assertEqual(r.shim_lines()[:2], [f"hostshim: 2 rules from {cfg}",
                                              "hostshim: 2 rules from HOSTSHIM_MAP"], r.show())
        one = self.ini("[map]\nauth.localhost = server:9000\n", "one.ini")
        r = self.get("auth.localhost", 80, config=one, log="info")
        self.assertEqual(r.shim_lines()[0], f"hostshim: 1 rule from {one}", r.show())
        # the default level says none of it
        r = self.get("auth.localhost", 80, config=cfg)
        self.assertEqual(r.err, "", r.show())

    def test_no_configuration_at_info(self):
        r = self.get("auth.localhost", 80, config=False, log="info", env={"HOSTSHIM_CONFIG": "/dev/null"})
        self.assertReached(r, DECOY4)
        self.assertEqual(len(r.shim_lines()), 1, r.show())
        self.assertTrue(r.shim_lines()[0].startswith("hostshim: no configuration found"), r.show())

    # -- where a name goes ------------------------------------------------
    def test_new_line_when_target_moves(self):
        for a in ("127.0.0.11", "127.0.0.12"):
            self.listen(a, 9000)
        self.dset("mover2.test", sets=[{"a": ["127.0.0.11"]}, {"a": ["127.0.0.12"]}], every=2)
        cfg = self.rules("mover.localhost = mover2.test:9000")
        r = self.get("mover.localhost", 80, "-f", "inet", "-k", "4", config=cfg, log="info")
        self.assertEqual(r.rc, 0, r.show())
        self.assertEqual(set(self.listeners(r)), {"127.0.0.11:9000", "127.0.0.12:9000"},
                         "the condition: the target moved between rounds" + r.show())
        lines = [l for l in r.shim_lines() if " -> " in l]
        self.assertEqual(sorted(lines), ["hostshim: mover.localhost:80 -> mover2.test:9000 (127.0.0.11:9000)",
                                         "hostshim: mover.localhost:80 -> mover2.test:9000 (127.0.0.12:9000)"],
                         "one line per place the name went" + r.show())

    def test_new_line_after_reload(self):
        cfg = self.rules("auth.localhost = server:9000")
        p = self.popen([self.c("reload_loop"), "auth.localhost", "80", "6"], config=cfg,
                       env={"HOSTSHIM_LOG": "info"})
        first = self.read_line(p, 10)
        self.assertIn(S9000, first or "", "no first round")
        time.sleep(1.1)
        with open(cfg + ".new", "w") as f:
            f.write("[map]\nauth.localhost = gateway:8080\n")
        os.chmod(cfg + ".new", 0o644)
        os.rename(cfg + ".new", cfg)
        out, err = p.communicate(timeout=30)
        self.assertIn(GW, out, "the edit never applied\n" + out + err)
        lines = [l for l in err.splitlines() if " -> " in l]
        self.assertEqual(lines, ["hostshim: auth.localhost:80 -> server:9000 (127.0.0.5:9000)",
                                 "hostshim: auth.localhost:80 -> gateway:8080 (127.0.0.6:8080)"], err)

    # -- a target that does not resolve -----------------------------------
    def test_unresolvable_once_a_minute(self):
        cfg = self.rules("bad.localhost = nosuch.invalid:80")
        r = self.run_prog([self.c("gai_loop"), "50", "bad.localhost"], config=cfg)
        self.assertIn("fail=50", r.out, r.show())
        warns = [l for l in r.shim_lines() if "nosuch.invalid" in l]
        self.assertEqual(len(warns), 1, "50 lookups, one warning" + r.show())
        self.assertIn("bad.localhost", warns[0], r.show())


# Connects to each NAME:PORT in turn (blocking), printing the errno.
PY_CONNECT_EACH = r"""
import socket, sys
for item in sys.argv[1:]:
    name, port = item.rsplit(":", 1)
    try:
        socket.create_connection((name, int(port)), timeout=5).close()
        print(item, "connected")
    except OSError as e:
        print(item, "errno", e.errno)
"""
