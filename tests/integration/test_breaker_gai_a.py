"""Breaker: getaddrinfo_a as programs use it (core-targets,
shim/hook_gai_a.c; SPEC Behaviour 9 and 15). Each case runs without the
library first. Client: tests/clients/brk_gai_a.c (glibc only)."""
from harness import *  # noqa: F401,F403


class BreakerGaiA(Base):
    def setUp(self):
        super().setUp()
        if subprocess.run([self.c("brk_gai_a")], capture_output=True).returncode == 77:
            self.skipTest("getaddrinfo_a is glibc's")
        self.path = self.rules("app.test = server:9000")

    def test_poll_style_use_keeps_memory_flat(self):
        """GAI_NOWAIT with no notification, then gai_suspend: the most
        common way to use it. 20,000 rounds must not grow the heap (each
        round's batch is never freed when no one is notified)"""
        argv = [self.c("brk_gai_a"), "poll", "localhost", "20000"]
        b = self.base(argv, timeout=120)
        self.assertIn("errors=0", b.out, "the condition" + b.show())
        r = self.run_prog(argv, config=self.path, timeout=120)
        self.assertIn("errors=0", r.out, r.show())
        grew = int(r.out.split("heap_growth_kb=")[1].split()[0])
        self.assertLess(grew, 256, "the heap grows with every request" + r.show() + b.show())

    def test_thread_notification_runs_with_signals_unblocked(self):
        """glibc runs a SIGEV_THREAD callback with an empty signal mask; the
        library's runs it with every signal blocked (a callback that
        raise()s or relies on a handler running on its thread differs)"""
        argv = [self.c("brk_gai_a"), "sigmask", "localhost"]
        b = self.base(argv)
        self.assertIn("callback blocked_usr1=0", b.out, "the condition" + b.show())
        r = self.run_prog(argv, config=self.path)
        self.assertIn("callback blocked_usr1=0", r.out, "the callback's signals are blocked" + r.show())


class BreakerGaiAFork(CondBase):
    def test_parents_request_is_not_run_again_in_a_child(self):
        """a request in flight when the program forks belongs to the
        parent: glibc's child never runs it nor calls its notification;
        the child's own getaddrinfo_a must not run it again and notify it
        a second time (a callback that writes to a pipe or a log line)"""
        if VALGRIND:
            self.skipTest("a fork with getaddrinfo_a's threads in flight outlasts any timeout under valgrind")
        self.dset("gaislow.test", a=["127.0.0.5"])
        self.dns.delay("gaislow.test", 1.5)
        self._cleanups_cond.append(lambda: self.dns.delay("gaislow.test", None))
        if subprocess.run([self.c("brk_gai_a")], capture_output=True).returncode == 77:
            self.skipTest("getaddrinfo_a is glibc's")
        path = self.rules("app.test = server:9000")
        argv = [self.c("brk_gai_a"), "fork", "gaislow.test"]
        b = self.base(argv)
        self.assertIn("callback in=parent name=gaislow.test", b.out, "the condition" + b.show())
        self.assertNotIn("callback in=child", b.out, "the condition" + b.show())
        r = self.run_prog(argv, config=path)
        self.assertIn("callback in=parent name=gaislow.test", r.out, r.show())
        self.assertNotIn("callback in=child", r.out,
                         "the parent's request was run and notified again in the child" + r.show())
