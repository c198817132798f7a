"""Breaker: slot memory taken on need (core-targets, shim/slots.c; issue
14 item 6, SPEC Behaviour 9) in a process whose address space is capped
(`ulimit -v`, strict overcommit). Client: tests/clients/brk_mem.c."""
from harness import *  # noqa: F401,F403


class BreakerMemory(Base):
    def test_capped_address_space_still_answers_new_names(self):
        """a wildcard rule, then 3,000 distinct names once RLIMIT_AS sits
        256 KiB above what the process uses: libc's own lookups still get
        their memory; a name must get an address (a recycled slot when a
        new chunk can't be had), not EAI_MEMORY for good, and the library
        must not print one warning per lookup. main (static table) answered
        every one."""
        if VALGRIND:
            self.skipTest("under valgrind the address space is valgrind's: RLIMIT_AS caps it, not the program")
        path = self.rules("*.w.test = server:9000")
        r = self.run_prog([self.c("brk_mem"), "aslimit", "w.test", "3000", "80"], config=path,
                          timeout=120)
        self.assertIn(f"kept body=listener={S9000}", r.out, r.show())
        self.assertIn("lookups=3000 ok=3000 memory=0 other=0", r.out,
                      "new names fail with EAI_MEMORY once the address space is capped" + r.show())
        warnings = [l for l in r.err.splitlines() if "out of memory" in l]
        self.assertLessEqual(len(warnings), 1, f"{len(warnings)} out-of-memory lines" + r.show())
