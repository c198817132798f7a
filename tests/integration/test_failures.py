"""Integration tests: failures look like libc's own; transient DNS failures (SPEC Behaviour 4, 6)."""
from harness import *  # noqa: F401,F403


# ---------------------------------------------------------------------------
class Failures(Base):
    """5. failures look like libc's own"""

    def test_unresolvable_target(self):
        cfg = self.rules("good.localhost = server:9000", "bad.localhost = nosuch.invalid:80")
        for v in (["-t", "stream"], ["-f", "inet"], ["-f", "inet6", "-F", "v4mapped"]):
            with self.subTest(variant=v):
                r = self.run_prog([self.c("gai"), *v, "bad.localhost", "80"], config=cfg)
                b = self.base([self.c("gai"), *v, "nosuch.invalid", "80"])
                self.assertNotEqual(b.rc, 0, b.show())
                self.assertEqual(r.out, b.out, "EAI code differs from the target's own" + r.show() + b.show())
                warns = [l for l in r.shim_lines() if "bad.localhost" in l]
                self.assertTrue(warns, "no warn line naming the rule" + r.show())
        r = self.run_prog([self.c("ghbn"), "gethostbyname", "bad.localhost"], config=cfg)
        b = self.base([self.c("ghbn"), "gethostbyname", "nosuch.invalid"])
        self.assertEqual(r.out, b.out, r.show() + b.show())
        self.assertReached(self.get("good.localhost", 80, config=cfg), S9000)

    def test_refused_target(self):
        cfg = self.rules("refused.localhost = server:9999")
        for opts in ([], ["-n"], ["-6", "-f", "inet"]):
            with self.subTest(opts=opts):
                r = self.get("refused.localhost", 80, *opts, config=cfg)
                self.assertEqual(r.rc, 3, r.show())
                self.assertIn("errno=ECONNREFUSED", r.out, r.show())

    @unittest.skipUnless(node_ok(), "node not installed")
    def test_node_fetch_refused(self):
        cfg = self.rules("refused.localhost = server:9999")
        r = self.run_prog(["node", "-e", NODE_FETCH, "http://refused.localhost/"], config=cfg)
        self.assertEqual(r.rc, 3, "node should reject, not crash" + r.show())
        self.assertIn("error code=ECONNREFUSED", r.out, r.show())

    @unittest.skipUnless(node_ok(), "node not installed")
    def test_node_fetch_unresolvable(self):
        cfg = self.rules("bad.localhost = nosuch.invalid:80")
        r = self.run_prog(["node", "-e", NODE_FETCH, "http://bad.localhost/"], config=cfg)
        b = self.base(["node", "-e", NODE_FETCH, "http://nosuch.invalid/"])
        self.assertEqual((r.rc, r.out), (b.rc, b.out), r.show() + b.show())
        self.assertTrue([l for l in r.shim_lines() if "bad.localhost" in l], "no warn line" + r.show())


# -- item 2 ------------------------------------------------------------------
class TransientFailures(CondBase):
    """issue 11 item 2: one failed lookup of the target (SERVFAIL, no
    answer) must not break an address handed out before"""

    RES = {"RES_OPTIONS": "timeout:1 attempts:1"}

    def transient(self, arm, disarm):
        s31 = self.listen("127.0.0.31", 9000)
        self.dset("flaky.test", a=["127.0.0.31"])
        cfg = self.rules("flaky.localhost = flaky.test:9000")
        p = self.popen([sys.executable, "-c", PY_TRANSIENT, "flaky.localhost", "80"], config=cfg, env=self.RES)
        lines = [self.read_line(p, 10), self.read_line(p, 10)]
        self.assertIn(f"first body=listener={s31}", lines[1] or "", lines)
        arm("flaky.test")
        try:
            b = self.base([sys.executable, "-c", PY_LOOKUP, "flaky.test"], env=self.RES)
            self.assertIn(f"[Errno {socket.EAI_AGAIN}]", b.err, "the condition: libc's own answer" + b.show())
            p.stdin.write("go\n")
            p.stdin.flush()
            lines += [self.read_line(p, 15), self.read_line(p, 15)]
        finally:
            disarm("flaky.test")
        out = "".join(l or "(nothing)\n" for l in lines)
        err = p.stderr.read() if p.poll() is not None else ""
        self.assertEqual((lines[2] or "").strip(), f"lookup2 gaierror={socket.EAI_AGAIN}",
                         "the failing lookup answers as libc did for the target\n" + out + err)
        self.assertEqual((lines[3] or "").strip(), f"again body=listener={s31} host=flaky.localhost",
                         "the address from the good lookup no longer reaches the target\n" + out + err)

    def test_servfail_keeps_handed_out_address(self):
        self.transient(lambda n: self.dns.fail(n), lambda n: self.dns.fail(n, False))

    def test_timeout_keeps_handed_out_address(self):
        self.transient(lambda n: self.dns.drop(n), lambda n: self.dns.drop(n, False))
