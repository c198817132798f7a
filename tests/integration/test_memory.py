"""Integration tests: valgrind: no errors, no growth."""
from harness import *  # noqa: F401,F403


# ---------------------------------------------------------------------------
class Valgrind(Base):
    """8. memcheck: no errors, no definite leaks"""

    @unittest.skipIf(shutil.which("valgrind") is None, "valgrind not installed")
    @unittest.skipIf(bool(PREFIX), "valgrind does not combine with HOSTSHIM_TEST_PRELOAD_PREFIX (sanitizers)")
    def test_valgrind_getaddrinfo_loop(self):
        cfg = self.rules("auth.localhost = server:9000", "*.api.localhost = gateway:8080",
                         "dnsalias.localhost = dns-only.test:9000", "auth.localhost:443 = server:9443")
        argv = [self.c("gai_loop"), "200", "auth.localhost", "x.api.localhost", "server", "localhost",
                "dnsalias.localhost", "a.b.api.localhost", "dns-only.test", "gateway"]
        r = self.run_prog(argv, config=cfg, valgrind=True, timeout=11)     # x VALGRIND_SLOWER
        self.note(f"valgrind run {r.secs:.1f}s")
        self.assertEqual(r.rc, 0, r.show())
        self.assertIn("rounds=200 ok=200 fail=0", r.out, r.show())


# -- the valgrind leg: growth that stays reachable ------------------------------
class ValgrindGrowth(CondBase):
    """heap in use (memcheck's count, reachable blocks included) at two
    points of a long lookup loop with a moving target: no definite leak is
    needed to fail this"""

    @unittest.skipIf(shutil.which("valgrind") is None, "valgrind not installed")
    @unittest.skipIf(bool(PREFIX), "valgrind does not combine with HOSTSHIM_TEST_PRELOAD_PREFIX (sanitizers)")
    def test_valgrind_heap_does_not_grow(self):
        sets = [{"a": [f"127.1.{k}.{j}" for j in (1, 2, 3)]} for k in range(50)]
        self.dset("vmover.test", sets=sets, rotate=True, every=20)
        cfg = self.rules("vmover.localhost = vmover.test:9000", "*.vt.localhost = server:9000")
        r = self.run_prog([self.c("heap_loop"), "300", "3000", "vmover.localhost"], config=cfg, valgrind=True,
                          timeout=12)
        kv = parse_kv(next((l for l in r.lines if l.startswith("heap ")), ""))
        self.assertEqual(kv.get("mode"), "memcheck", r.show())
        self.note(f"growth {kv.get('growth')} bytes over 3000 lookups")
        self.assertEqual(r.rc, 0, r.show())
        self.assertLessEqual(int(kv["growth"]), 16 * 1024, "heap in use grows (reachable or not)" + r.show())
