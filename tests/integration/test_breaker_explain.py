"""Breaker: the explanation of a refused or timed-out redirect (core-misc,
shim/explain.c; SPEC Behaviour 11, issue 17 item 6) must only ever speak
of connections that were redirected. Client: tests/clients/brk_sockerr.c."""
from harness import *  # noqa: F401,F403


class BreakerExplain(Base):
    def test_reused_fd_is_not_explained_as_the_old_redirect(self):
        """a redirected non-blocking connect is closed while in progress
        (curl's happy-eyeballs loser, a client's own timeout), its fd
        number goes to a UDP socket that never went near a mapped name,
        and SO_ERROR there says ECONNREFUSED: no line about far.localhost"""
        path = self.rules("far.localhost = server:9555")
        r = self.run_prog([self.c("brk_sockerr"), "reuse", "far.localhost", "9555"], config=path)
        self.assertIn("first connect=EINPROGRESS", r.out, "the condition" + r.show())
        fds = [l.split("fd=")[1].split()[0] for l in r.out.splitlines() if "fd=" in l]
        self.assertEqual(len(set(fds)), 1, "the condition: the fd number is reused" + r.show())
        self.assertIn("so_error=ECONNREFUSED", r.out, "the condition" + r.show())
        self.assertNotIn("far.localhost", r.err,
                         "a socket that was never redirected was explained as far.localhost" + r.show())

    @unittest.skipIf(bool(PREFIX), "ASan refuses RTLD_DEEPBIND (it aborts the program)")
    def test_refusal_explained_inside_a_deepbind_library(self):
        """libcurl in a PHP extension (RTLD_DEEPBIND) learns how a
        non-blocking connect ended from getsockopt(SO_ERROR): the refusal
        is explained there as it is in the program itself. The DEEPBIND
        rebinding (hook_dlopen.c's list) must cover the new hooks
        (getsockopt, and execve/posix_spawn for the exec hook)"""
        path = self.rules("refuse.localhost = server:9599")
        lib = os.path.join(BIN, "brk_deep_lib.so")
        plain = self.run_prog([self.c("brk_deep"), lib, "plain", "refuse.localhost", "80"], config=path)
        if plain.rc == 77:
            self.skipTest("no RTLD_DEEPBIND")
        self.assertIn("so_error=ECONNREFUSED", plain.out, plain.show())
        self.assertIn("refuse.localhost:80 -> server:9599", plain.err,
                      "the condition: explained without DEEPBIND" + plain.show())
        deep = self.run_prog([self.c("brk_deep"), lib, "deep", "refuse.localhost", "80"], config=path)
        self.assertIn("so_error=ECONNREFUSED", deep.out, "the lookup and connect were redirected" + deep.show())
        self.assertIn("refuse.localhost:80 -> server:9599", deep.err,
                      "not explained inside a DEEPBIND library" + deep.show())
