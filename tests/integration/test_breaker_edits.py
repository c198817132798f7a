"""Breaker: edits racing lookups, connects and kept addresses (SPEC
Behaviour 10, 13, 14). Client: tests/clients/brk_edits.c (also built
with -fsanitize=thread against build/tsan/libhostshim.so by hand: clean
on core-reload b948b35)."""
from harness import *  # noqa: F401,F403


class BreakerEdits(Base):
    def test_edits_never_misroute(self):
        """8 threads look up and connect (a lookup, an address rule, an
        address kept from the start) while the file switches every 130 ms
        between two targets and no rule: every answer comes from one of
        them or from where the name really resolves"""
        path = self.rules("auth.localhost = server:9000")
        r = self.run_prog([self.c("brk_edits"), path, "8", "8"], config=path, timeout=120)
        self.assertIn("wrong=0", r.out, r.show())
        self.assertEqual(r.rc, 0, r.show())
