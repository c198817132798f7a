"""Integration tests: lookups cut off by pthread_cancel or a siglongjmp out
of a signal handler leave nothing behind (SPEC Behaviour 12; issue 14
item 1). Client: tests/clients/abandon.c."""
from harness import *  # noqa: F401,F403

SLOW = VALGRIND_SLOWER if VALGRIND else 1   # timeouts under valgrind
RUN = 3 if VALGRIND else 1                  # how long loop clients run: enough there


def write_file(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)


def finish(test, rounds, timeout):
    """waits for the loop client to end by itself; its stderr and the CPU
    time it reported (None if it printed none)"""
    try:
        rounds.proc.wait(timeout)
    except subprocess.TimeoutExpired:
        pass
    ended = rounds.proc.poll() is not None
    err = rounds.stop()
    cpu = next((int(l[7:]) for l in rounds.lines if l.startswith("cpu_ms=")), None)
    test.assertTrue(ended, "the program did not finish its loop (hung?); last lines: "
                    f"{rounds.lines[-6:]}\n{err[-2000:]}")
    return err, cpu


class Abandoned(CondBase):
    """issue 14 item 1: nothing the library holds (reader counts, a
    resolving mark, the reloader flag, a lock) outlives a lookup cut off
    by pthread_cancel or a siglongjmp out of an alarm handler"""

    # the cut-off lookup waits on a silent nameserver for seconds
    RES = {"RES_OPTIONS": "timeout:2 attempts:2"}

    def cut_off_then_edits_apply(self, mode):
        self.dset("hang.test", a=["127.0.0.7"])
        self.dns.drop("hang.test")
        argv = [self.c("abandon"), mode, "hang.test", "auth.localhost", "80", str(8 * RUN)]
        # the condition: the program works without the library (glibc's
        # own resolver survives being cut off)
        b = self.base([self.c("abandon"), mode, "hang.test", "server", "9000", "1"], env=self.RES)
        self.assertIn(f"abandoned how={mode}", b.out, b.show())
        self.assertIn(f"body=listener={S9000}", b.out, "the condition: without the library" + b.show())
        path = self.rules("auth.localhost = server:9000")
        rounds = Rounds(self.start_prog(argv, config=path, env=self.RES))
        taken = []
        try:
            self.assertIsNotNone(rounds.first(S9000, 0, 10 * SLOW), rounds.lines[-5:])
            self.assertIn(f"abandoned how={mode}", rounds.lines, rounds.lines[:5])
            # two edits: the first is noticed by a lookup after the cut-off
            # one, the second shows reloads still happen after the first
            for text, want in (("auth.localhost = server:9001", S9001),
                               ("auth.localhost = gateway:8080", GW)):
                t0 = now_ms()
                write_file(path, f"[map]\n{text}\n")
                ms = rounds.first(want, t0, 6 * SLOW)
                self.assertIsNotNone(ms, f"the edit to {text!r} never applied after a lookup was cut off "
                                     f"by {mode}; last rounds: {rounds.lines[-6:]}")
                taken.append(ms)
        finally:
            err, cpu = finish(self, rounds, 20 * SLOW)
        self.note(f"ms from each edit to its first redirected connect: {taken}; cpu {cpu} ms in a {8 * RUN} s run")
        if not VALGRIND:
            # a spinning reload would use a core for seconds
            self.assertLess(cpu, 2000, f"the program used {cpu} ms of CPU in {8 * RUN} s (spinning?)\n{err[-2000:]}")

    def test_cancelled_lookup_then_edits_apply(self):
        self.cut_off_then_edits_apply("cancel")

    def test_longjmp_out_of_lookup_then_edits_apply(self):
        self.cut_off_then_edits_apply("jump")

    def test_cut_off_while_an_address_rule_target_waits_for_dns(self):
        # before: the cut-off lookup resolved the address rule's target
        # itself and left its "resolving" mark; every lookup and connect
        # then waited ~10 s at 100% CPU and failed, for good
        s43 = self.listen("127.0.0.43", 9000)
        self.dset("held.test", a=["127.0.0.43"])
        self.dns.drop("held.test")
        path = self.rules("127.0.0.1:80 = held.test:9000")
        env = {"RES_OPTIONS": "timeout:1 attempts:1"}
        for mode in ("cancel", "jump"):
            with self.subTest(mode=mode):
                self.dns.drop("held.test")
                rounds = Rounds(self.start_prog([self.c("abandon"), mode, "localhost", "127.0.0.1", "80",
                                                 str(10 * RUN)], config=path, env=env))
                try:
                    time.sleep(2 * RUN)
                    t0 = now_ms()
                    self.dns.drop("held.test", False)        # the target's DNS answers now
                    ms = rounds.first(s43, t0, 9 * SLOW)
                    self.assertIsNotNone(ms, "the address rule's target was never used once its DNS answered; "
                                         f"last rounds: {rounds.lines[-6:]}")
                    before = [l for l in rounds.lines if l.startswith("t=") and int(l[2:15]) < t0]
                    slow = [l for l in before if int(parse_kv(l).get("ms", 0)) > 900 * SLOW]
                    self.assertEqual(slow, [], "a lookup or connect waited for the target's DNS")
                finally:
                    err, cpu = finish(self, rounds, 25 * SLOW)
                self.note(f"{mode}: the target used {ms} ms after its DNS answered; cpu {cpu} ms in 10 s")
                if not VALGRIND:
                    self.assertLess(cpu, 2000, f"{cpu} ms of CPU in 10 s (spinning?)\n{err[-2000:]}")
