"""Breaker: the background resolver thread (core-reload, shim/resolver.c)
seen from programs that never asked for a thread (SPEC Behaviour 5, 7, 13;
issue 14 item 3). Client: tests/clients/brk_thread.c."""
from harness import *  # noqa: F401,F403


class BreakerThread(CondBase):
    """what a single-threaded program may do must still work with an
    address rule whose target is named"""

    RES = {"RES_OPTIONS": "timeout:1 attempts:3"}

    def test_forked_child_that_only_connects_gets_the_target(self):
        """a pre-forking server: the parent loads the rules while the
        target's DNS is slow, forks, and the worker only connects to the
        address rule (curl, Bun and browsers connect to *.localhost with no
        lookup). The parent's thread resolves the target 2 s later; the
        child has no thread, and connect only wakes one that isn't there."""
        self.dset("late.test", a=["127.0.0.5"])
        self.dns.delay("late.test", 2)
        self._cleanups_cond.append(lambda: self.dns.delay("late.test", None))
        path = self.rules("127.0.0.1:8080 = late.test:9000")
        # a resolver timeout longer than the delay: with timeout:1 whether
        # a 2 s late answer is taken is the resolver's luck (it failed about
        # half the runs on a loaded machine, and then the retries, 1, 2, 4 s
        # apart, outlast the 12 s); memcheck slows all of it
        secs = "40" if VALGRIND else "12"
        r = self.run_prog([self.c("brk_thread"), "forkconnect", "127.0.0.1", "8080", secs],
                          config=path, env={"RES_OPTIONS": "timeout:4 attempts:1"}, timeout=90)
        self.assertIn(f"body=listener={S9000}", r.out,
                      "the forked child never reached the target, which resolved 2 s "
                      "after the fork" + r.show())

    def test_single_threaded_program_can_still_unshare(self):
        """unshare(CLONE_NEWUSER) and unshare(CLONE_NEWNS|CLONE_FS) fail
        with EINVAL in a multi-threaded process: a sandbox (bwrap-like) that
        resolved a name first must not find a thread it never started"""
        path = self.rules("127.0.0.1:8080 = server:9000")
        b = self.base([self.c("brk_thread"), "unshare"])
        self.assertIn("threads=1 unshare_user=ok unshare_ns=ok", b.out, "the condition" + b.show())
        r = self.run_prog([self.c("brk_thread"), "unshare"], config=path)
        self.assertIn("threads=1 unshare_user=ok unshare_ns=ok", r.out,
                      "the library's thread made unshare fail" + r.show())

    def test_closing_every_fd_leaves_the_programs_sockets_alone(self):
        """a daemon closes every fd after a lookup and opens its own: the
        library's thread, retrying an address rule's silent target, must
        not write DNS queries into the program's new fd 3"""
        self.dset("mute.test", a=["127.0.0.5"])
        self.dns.drop("mute.test")
        self._cleanups_cond.append(lambda: self.dns.drop("mute.test", False))
        path = self.rules("127.0.0.1:8080 = mute.test:9000")
        b = self.base([self.c("brk_thread"), "closefds", "6"], env=self.RES)
        self.assertIn("foreign none", b.out, "the condition" + b.show())
        r = self.run_prog([self.c("brk_thread"), "closefds", "6"], config=path, env=self.RES,
                          timeout=60)
        self.assertIn("foreign none", r.out,
                      "bytes the program never sent arrived on its own socket" + r.show())

    def test_first_connect_waits_at_most_the_settle_time(self):
        """the first hooked call is a non-blocking connect through an
        address rule whose target answers 1 s late: connect loads the rules,
        and must then fail at once (EHOSTUNREACH, SPEC 13), not wait for the
        background resolver's lookup. A deliberate, bounded exception
        (RESOLVER_SETTLE_MS in shim/resolver.h, the lead's decision on
        breaker item 5): that one connect may wait up to 200 ms for the
        target, because curl and Bun connect to *.localhost with no lookup,
        in a new process each time, and without it each such connect
        failed (measured: 8 to 15 of 20 curl runs). So the target here
        answers well past 200 ms. Shown by the outcome, not a clock: a
        connect that reaches the target waited for its DNS answer."""
        self.dset("tardy.test", a=["127.0.0.5"])
        self.dns.delay("tardy.test", 1)
        self._cleanups_cond.append(lambda: self.dns.delay("tardy.test", None))
        path = self.rules("127.0.0.1:8080 = tardy.test:9000")
        r = self.run_prog([self.c("brk_thread"), "firstconnect", "127.0.0.1", "8080"], config=path,
                          env=self.RES)
        self.assertIn("first connect=EHOSTUNREACH", r.out,
                      "the first connect waited for the target's DNS answer" + r.show())

    def test_sandboxed_program_is_not_killed_by_our_thread(self):
        """after its lookups a program sandboxes every thread (seccomp,
        TSYNC) so that socket() kills the process: it never opens a socket
        again itself. The library's thread, retrying an address rule's
        silent target in the background, must not be what kills it"""
        self.dset("mute2.test", a=["127.0.0.5"])
        self.dns.drop("mute2.test")
        self._cleanups_cond.append(lambda: self.dns.drop("mute2.test", False))
        path = self.rules("127.0.0.1:8080 = mute2.test:9000")
        argv = [self.c("brk_thread"), "sandbox", "5"]
        b = self.base(argv, env=self.RES)
        if b.rc == 77:
            self.skipTest("built without linux/filter.h")
        self.assertIn("survived", b.out, "the condition" + b.show())
        # valgrind implements no seccomp(2): this one runs natively
        r = self.run_prog(argv, config=path, env=self.RES, timeout=60, valgrind=False)
        self.assertIn("survived", r.out, "the sandboxed program was killed" + r.show())

    def test_edit_applies_to_a_program_that_only_connects(self):
        """SPEC 10: an edit applies to new connects within a second. A
        program that never looks a name up (curl or Bun to *.localhost
        through an address rule) only connects: today only a lookup
        notices an edit, so it keeps the old target for its whole life.
        (The background resolver, already awake each second, could look.)"""
        path = self.rules("127.0.0.1:8080 = server:9000")
        p = self.start_prog([self.c("brk_thread"), "connectloop", "127.0.0.1", "8080", "6"],
                            config=path)
        try:
            # the condition: the rule applies (the first connect may come
            # before the target's answer on a loaded machine)
            first = ""
            for _ in range(25):
                first += p.stdout.readline()
                if f"body=listener={S9000}" in first:
                    break
            self.assertIn(f"body=listener={S9000}", first, "the condition: the rule applies")
            time.sleep(1.1)  # the file's mtime must be a later second
            with open(path + ".tmp", "w") as f:
                f.write("[map]\n127.0.0.1:8080 = gateway:8080\n")
            os.chmod(path + ".tmp", 0o644)
            os.rename(path + ".tmp", path)
            out, err = p.communicate(timeout=60)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        lines = (first + out).splitlines()
        self.assertIn(f"body=listener={GW}", out,
                      "6 s of connects after the edit: never the new target\n" + "\n".join(lines[-5:]) + err)

    def test_target_that_never_resolves_is_given_up(self):
        """breaker item 18: an address rule whose target never resolves was
        retried every 8 s for the process's whole life, in every process
        of a container (a thread and a DNS query each). The program's
        lookup leads to the rule (localhost:8080), so the target is wanted;
        then no one asks again: after RETRIES_MAX failures the queries stop
        and the thread ends. A connect or a lookup that needs it later gets
        another round (test_silent_dns)."""
        self.dset("never.test", a=["127.0.0.5"])
        self.dns.drop("never.test")
        self._cleanups_cond.append(lambda: self.dns.drop("never.test", False))
        path = self.rules("127.0.0.1:8080 = never.test:9000")
        secs = 40
        self.dns.count("never.test")
        before = self.dns.count("never.test")
        p = self.start_prog([self.c("brk_thread"), "idle", "8080", str(secs)], config=path,
                            env={"RES_OPTIONS": "timeout:1 attempts:1"})
        try:
            time.sleep(secs - 12)
            mid = self.dns.count("never.test")
            time.sleep(10)
            late = self.dns.count("never.test")
            out, err = p.communicate(timeout=60)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        lines = out.splitlines()
        self.note(f"queries for never.test: {mid - before} in the first {secs - 12} s, "
                  f"{late - mid} in the 10 s after; {lines[-1] if lines else ''}")
        self.assertGreater(mid, before, "the condition: the target was tried\n" + out + err)
        self.assertEqual(late, mid, "the target was still retried after its tries were used up\n" + out + err)
        self.assertIn(f"t={secs} threads=1", out, "the library's thread outlived its work\n" + out + err)
