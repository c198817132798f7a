"""Integration tests: after an edit that changes a rule's target host, an
address a program kept goes to the new target from its first connect; after
the rule is removed, where the name really resolves (SPEC Behaviour 14;
issue 14 item 5). Clients: tests/clients/reload_loop.c (-k) and
tests/clients/java/KeepAddress.java (Java's address cache)."""
from harness import *  # noqa: F401,F403
from test_abandoned import SLOW, write_file

JAVA_SRC = os.path.join(REPO, "tests", "clients", "java", "KeepAddress.java")


def java_missing():
    if shutil.which("javac") is None or shutil.which("java") is None:
        return "javac/java not installed (Debian: default-jdk-headless)"
    return None


class KeptAddresses(CondBase):
    """issue 14 item 5: `auth.localhost = server:9000` edited to another
    target host, with programs that keep the synthetic address"""

    STEPS = (("auth.localhost = gateway:8080", GW),          # a host nothing resolved yet
             ("auth.localhost = server:9001", S9001),         # and back
             ("other.localhost = server:9000", DECOY4))       # unmapped: the name's real address

    def follow(self, rounds, path, slow):
        """applies STEPS; returns per step (ms to the first round there,
        rounds after the edit that failed before it)"""
        out = []
        for text, want in self.STEPS:
            t0 = now_ms()
            write_file(path, f"[map]\n{text}\n")
            ms = rounds.first(want, t0, 8 * slow)
            self.assertIsNotNone(ms, f"{text!r}: the kept address never reached {want}; "
                                 f"last rounds: {rounds.lines[-6:]}")
            seen = rounds.since(t0)
            at = next(t for t, got in seen if got == want)
            # rounds between the edit and the first one there that failed
            failed = [got for t, got in seen if t < at and not re.match(r"[\d.:\[\]]+$", got or "")]
            after = [got for t, got in rounds.since(at)]
            self.assertEqual(set(after) - {want}, set(), f"{text!r}: after reaching {want}: {after[-10:]}")
            out.append((ms, failed))
            time.sleep(0.5 * slow)
        return out

    def test_c_client_keeps_its_address(self):
        path = self.rules("auth.localhost = server:9000")
        rounds = Rounds(self.start_prog([self.c("reload_loop"), "-k", "auth.localhost", "80", str(30 * SLOW)],
                                        config=path))
        try:
            self.assertIsNotNone(rounds.first(S9000, 0, 10 * SLOW), rounds.lines[-5:])
            steps = self.follow(rounds, path, SLOW)
        finally:
            rounds.stop()
        self.note("per edit: ms to the new target, failed rounds before it: " + str(steps))
        for (text, _), (_, failed) in zip(self.STEPS, steps):
            self.assertEqual(failed, [], f"{text!r}: connects failed between the edit and the new target")

    def test_java_address_cache(self):
        if java_missing():
            self.skipTest(java_missing())
        if prefix_blocks(["java", "-version"]):
            self.skipTest(prefix_blocks(["java", "-version"]))
        classes = os.path.join(self.tmp, "classes")
        os.makedirs(classes)
        c = subprocess.run(["javac", "-d", classes, JAVA_SRC], capture_output=True, text=True, timeout=120)
        self.assertEqual(c.returncode, 0, c.stderr)
        path = self.rules("auth.localhost = server:9000")
        rounds = Rounds(self.start_prog(["java", "-cp", classes, "KeepAddress", "auth.localhost", "80", "30"],
                                        config=path, timeout=60))
        try:
            self.assertIsNotNone(rounds.first(S9000, 0, 20), f"{rounds.lines[-5:]}")
            steps = self.follow(rounds, path, 1)
        finally:
            err = rounds.stop()
        kept = next((l for l in rounds.lines if l.startswith("kept ")), "")
        self.assertTrue(is_syn(kept[5:]), f"Java kept {kept!r}, not a synthetic address\n{err[-2000:]}")
        self.note("Java, per edit: ms to the new target, failed connects before it: " + str(steps))
        for (text, _), (_, failed) in zip(self.STEPS, steps):
            self.assertEqual(failed, [], f"{text!r}: Java connects failed between the edit and the new target")
