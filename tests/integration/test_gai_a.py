"""Integration tests: glibc's asynchronous lookups, getaddrinfo_a
(shim/hook_gai_a.c; SPEC Behaviour 15)."""
from harness import *  # noqa: F401,F403

MODES = ("wait", "suspend", "signal", "thread", "poll")


class GaiA(CondBase):
    """issue 14 item 9: getaddrinfo_a answers like getaddrinfo, with every
    way of being told the lookups are done"""

    def setUp(self):
        super().setUp()
        self.cfg = self.rules("auth.localhost = server:9000", "slow.localhost = slow.test:9000")

    def gai_a(self, mode, *names, port=80, **kw):
        r = self.run_prog([self.c("gai_a"), mode, str(port), *names], **kw)
        if r.rc == 77:
            self.skipTest("no getaddrinfo_a in this libc")
        return r

    def lookups(self, r):
        return {kv["name"]: kv for kv in (parse_kv(l) for l in r.lines if l.startswith("lookup "))}

    def gets(self, r):
        return {kv["name"]: l.split("body=", 1)[-1] if "body=" in l else l
                for l, kv in ((l, parse_kv(l)) for l in r.lines if l.startswith("get "))}

    def test_mapped_and_unmapped_names(self):
        base = self.gai_a("wait", "auth.localhost", lib=False)
        self.assertReached(base, DECOY4, "auth.localhost")           # the trap: /etc/hosts
        for mode in MODES:
            with self.subTest(mode=mode):
                r = self.gai_a(mode, "auth.localhost", "localhost", config=self.cfg)
                self.assertIn("submit rc=0", r.out, r.show())
                got = self.lookups(r)
                self.assertTrue(is_syn(got["auth.localhost"]["addr"]), r.show())
                self.assertEqual(got["localhost"]["addr"], "127.0.0.1", r.show())   # libc's own answer
                bodies = self.gets(r)
                self.assertEqual(parse_kv(bodies["auth.localhost"]).get("listener"), S9000, r.show())
                self.assertEqual(parse_kv(bodies["auth.localhost"]).get("host"), "auth.localhost", r.show())
                self.assertEqual(parse_kv(bodies["localhost"]).get("listener"), DECOY4, r.show())
                if mode in ("signal", "thread"):
                    want = {"signal": "notified how=signal value=41", "thread": "notified how=thread value=42"}
                    self.assertIn(want[mode], r.lines, r.show())
                self.assertEqual(r.rc, 0, r.show())

    def test_nowait_does_not_wait_for_dns(self):
        # slow.test is answered 1 s late: the lookups take that long, the
        # call that submits them must not
        r = self.gai_a("signal", "slow.localhost", "slow.test", port=0, config=self.cfg)
        kv = parse_kv(next(l for l in r.lines if l.startswith("submit ")))
        self.assertEqual(kv["rc"], "0", r.show())
        self.assertLess(float(kv["ms"]), 900, "getaddrinfo_a(GAI_NOWAIT) waited for the DNS answer" + r.show())
        self.assertIn("notified how=signal value=41", r.lines, r.show())
        got = self.lookups(r)
        self.assertTrue(is_syn(got["slow.localhost"]["addr"]), r.show())
        self.assertEqual(got["slow.test"]["addr"], "127.0.0.7", r.show())

    def test_cancel(self):
        # more slow lookups than threads run at once: the last ones are
        # still queued, and are cancelled; the others answer
        names = ["slow.localhost"] * 10 + ["slow.test"] * 2
        r = self.gai_a("cancel", *names, port=0, config=self.cfg)
        said = [parse_kv(l)["rc"] for l in r.lines if l.startswith("cancel ")]
        self.assertEqual(len(said), len(names), r.show())
        self.assertTrue(set(said) <= {"EAI_CANCELED", "EAI_NOTCANCELED", "EAI_ALLDONE"}, r.show())
        self.assertIn("EAI_CANCELED", said, r.show())
        looked = [l for l in r.lines if l.startswith("lookup ")]
        self.assertEqual(sum("rc=canceled" in l for l in looked), said.count("EAI_CANCELED"), r.show())
        for l in looked:
            if "rc=canceled" not in l:
                self.assertIn("rc=0 ", l, r.show())
        self.assertEqual(r.rc, 0, r.show())
