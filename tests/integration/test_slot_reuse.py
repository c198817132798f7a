"""Integration tests: synthetic addresses reused for new names, and the
memory the slots take (shim/slots.c; SPEC Behaviour 9 and 14)."""
from harness import *  # noqa: F401,F403

FILL = "n%ld.fill.localhost"
SLOTS = 16383                             # SLOT_COUNT - 1: slot 0 is never handed out


class SlotReuse(CondBase):
    """issue 14 item 6: past SLOT_COUNT names a slot is reused; the address
    then never reaches the previous name's service"""

    ACME = "127.0.0.21"                   # acme.t.localhost really resolves here, and listens on :80
    FRESH = "127.0.0.22"                  # fresh2.t.localhost likewise

    def setUp(self):
        super().setUp()
        # port-specific rules only for *.t.localhost: other ports go where the
        # name itself resolves; the fill names need no DNS of their own
        self.cfg = self.rules("*.t.localhost:443 = server:9443", "*.fill.localhost = server:9000")
        self.dset("acme.t.localhost", a=[self.ACME])
        self.acme = self.listen(self.ACME, 80)

    def reuse(self, last, port):
        """acme looked up first, then SLOTS - 1 fill names, then `last`:
        `last` takes acme's slot"""
        r = self.run_prog([self.c("slot_reuse"), "acme.t.localhost", FILL, str(SLOTS - 1), last, str(port)],
                          config=self.cfg, timeout=120, valgrind=False)
        first = parse_kv(next((l for l in r.lines if l.startswith("first ")), ""))
        second = parse_kv(next((l for l in r.lines if l.startswith("last name=")), ""))
        self.assertTrue(is_syn(first.get("addr", "")), r.show())
        self.assertEqual(first.get("addr"), second.get("addr"), "the slot was not reused" + r.show())
        self.assertIn("fill failed=0", r.lines, r.show())
        return r

    def test_reused_address_never_reaches_previous_names_service(self):
        base = self.base([self.c("http_get"), "acme.t.localhost", "80"])
        self.assertReached(base, self.acme, "acme.t.localhost")          # acme's real service is there
        r = self.reuse("fresh.t.localhost", 80)           # resolves nowhere
        get = next((l for l in r.lines if l.startswith("get ")), "")
        self.assertNotIn(f"listener={self.acme}", get, "the new name reached acme's service" + r.show())
        self.assertIn("connect errno=EHOSTUNREACH", get, r.show())
        self.assertTrue(any("fresh.t.localhost:80" in l for l in r.shim_lines()),
                        "no line names the new name" + r.show())

    def test_reused_address_reaches_new_names_own_service(self):
        self.dset("fresh2.t.localhost", a=[self.FRESH])
        own = self.listen(self.FRESH, 80)
        self.assertReached(self.reuse("fresh2.t.localhost", 80), own, "fresh2.t.localhost")

    def test_reused_address_keeps_the_new_names_rules(self):
        self.assertReached(self.reuse("fresh.t.localhost", 443), S9443, "fresh.t.localhost")


class SlotMemory(CondBase):
    """issue 14 item 6: a process that did one lookup commits a little slot
    memory, not the whole table (200 processes under strict overcommit)"""

    @unittest.skipIf(bool(PREFIX), "ASan's shadow memory swamps the figure")
    def test_one_lookup_commits_little(self):
        cfg = self.rules("auth.localhost = server:9000")
        r = self.run_prog([self.c("mem_one"), "auth.localhost"], config=cfg, valgrind=False)
        b = self.base([self.c("mem_one"), "auth.localhost"], valgrind=False)
        kv, kb = parse_kv(r.out), parse_kv(b.out)
        self.assertEqual(kv.get("rc"), "0", r.show())
        extra = int(kv["vmdata_kb"]) - int(kb["vmdata_kb"])
        self.note(f"VmData {kb['vmdata_kb']} KB without the library, {kv['vmdata_kb']} KB with it "
                  f"after one lookup; VmRSS {kb['vmrss_kb']} -> {kv['vmrss_kb']} KB")
        # the whole table was 17.9 MB of .bss; one lookup needs one chunk
        self.assertLess(extra, 2 * 1024, "VmData grew by 2 MB or more" + r.show() + b.show())
