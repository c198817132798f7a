"""Integration tests: any number of distinct names (SPEC Behaviour 9)."""
from harness import *  # noqa: F401,F403


# -- item 7 ------------------------------------------------------------------
class ManyNames(CondBase):
    """issue 11 item 7: 1,000,000 distinct names in one process"""

    def test_million_names(self):
        cfg = self.rules("*.tenant.localhost = server:9000")
        r = self.run_prog([self.c("many_names"), "1000000", "n%ld.tenant.localhost", "80", "140"], config=cfg,
                          timeout=200, valgrind=False)
        kv = parse_kv(next((l for l in r.lines if l.startswith("names ")), ""))
        self.assertTrue(kv, r.show())
        self.note(f"first 100k {kv['first100k_per_s']}/s, last 100k {kv['last100k_per_s']}/s, RSS "
                  f"{kv['rss_start_kb']} -> {kv['rss_end_kb']} KB, {kv['secs']}s")
        self.assertEqual((kv["n"], kv["fail"], kv["stopped"]), ("1000000", "0", "no"),
                         f"lookups failed from name {kv['first-fail-i']} on ({kv['first-fail']})" + r.show())
        bad = [l for l in r.lines if l.startswith("connect ") and f"body=listener={S9000}" not in l]
        self.assertEqual(bad, [], r.show())
        self.assertEqual(len([l for l in r.lines if l.startswith("connect ")]), 103, r.show())
        self.assertGreater(float(kv["last100k_per_s"]), float(kv["first100k_per_s"]) / 5,
                           "lookups got more than 5x slower" + r.show())
        if not PREFIX:                     # ASan's quarantine holds up to 256 MB of freed blocks
            self.assertLess(int(kv["rss_end_kb"]) - int(kv["rss_start_kb"]), 64 * 1024,
                            "RSS grew by 64 MB or more" + r.show())
