"""Integration tests: an address rule whose target gets no DNS answer
(SPEC Behaviour 13, 11; issue 14 item 3). connect never resolves and never
waits; a lookup of a name no rule concerns never pays for the target; the
target is retried in the background and used once it answers. Client:
tests/clients/abandon.c (mode none)."""
from harness import *  # noqa: F401,F403
from test_abandoned import RUN, SLOW, finish

# Node's event loop, connecting through the address rule again and again
# for argv[2] seconds: how long the loop was blocked at worst
NODE_LAG = r"""
const net = require('net');
const end = Date.now() + Number(process.argv[2]) * 1000;
let worst = 0, last = Date.now(), errors = {};
const tick = setInterval(() => { const now = Date.now(); worst = Math.max(worst, now - last); last = now; }, 10);
function once() {
  if (Date.now() > end) {
    clearInterval(tick);
    console.log(`worst_lag_ms=${worst} errors=${JSON.stringify(errors)}`);
    return;
  }
  const s = net.connect({host: '127.0.0.1', port: Number(process.argv[1])});
  s.on('connect', () => { s.destroy(); setTimeout(once, 20); });
  s.on('error', e => { errors[e.code] = (errors[e.code] || 0) + 1; setTimeout(once, 20); });
}
once();
"""


class SilentTargetDns(CondBase):
    """issue 14 item 3: `127.0.0.1:8080 = dead.test:9000`, no DNS answer
    for dead.test"""

    RES = {"RES_OPTIONS": "timeout:1 attempts:1"}

    def test_connect_fails_at_once_then_reaches_the_target(self):
        s44 = self.listen("127.0.0.44", 9000)
        self.dset("dead.test", a=["127.0.0.44"])
        self.dns.drop("dead.test")
        path = self.rules("127.0.0.1:8080 = dead.test:9000")
        # each round: a lookup of localhost (/etc/hosts) and a connect to
        # 127.0.0.1:8080, through the rule
        rounds = Rounds(self.start_prog([self.c("abandon"), "none", "-", "localhost", "8080", str(12 * RUN)],
                                        config=path, env=self.RES))
        try:
            time.sleep(4 * RUN)
            t0 = now_ms()
            self.dns.drop("dead.test", False)          # the service is up
            ms = rounds.first(s44, t0, 11 * SLOW)
            self.assertIsNotNone(ms, f"the target was never used once it answered; last rounds: {rounds.lines[-6:]}")
        finally:
            err, cpu = finish(self, rounds, 30 * SLOW)
        dead = [l for l in rounds.lines if l.startswith("t=") and int(l[2:15]) < t0]
        errnos = {parse_kv(l).get("errno") for l in dead}
        slowest = max(int(parse_kv(l).get("ms", 0)) for l in dead)
        warns = [l for l in err.splitlines() if "dead.test" in l]
        self.note(f"{len(dead)} rounds while dead.test was silent: errno {errnos}, slowest lookup+connect "
                  f"{slowest} ms; reached the target {ms} ms after it answered; {len(warns)} warning line(s)")
        self.assertEqual(errnos, {"EHOSTUNREACH"}, f"rounds while silent: {dead[-5:]}")
        # the first round loads the rules, and gives the target 200 ms
        later = [int(parse_kv(l)["ms"]) for l in dead[1:]]
        self.assertLess(max(later), 500 * SLOW, f"a lookup or connect waited for dead.test: {dead}")
        self.assertEqual(len(warns), 1, "one warning, not one per connect:\n" + "\n".join(warns[:10]))
        self.assertIn("127.0.0.1:8080: dead.test has not resolved (yet): failing with EHOSTUNREACH", warns[0])

    def test_lookups_of_other_names_do_not_pay(self):
        self.dset("dead.test", a=["127.0.0.44"])
        self.dns.drop("dead.test")
        path = self.rules("127.0.0.1:8080 = dead.test:9000", "auth.localhost = server:9000")
        for name, port in (("server", "9000"), ("auth.localhost", "80")):
            with self.subTest(name=name):
                r = self.run_prog([self.c("abandon"), "none", "-", name, port, str(4 * RUN)], config=path,
                                  env=self.RES, timeout=60)
                rounds = [l for l in r.lines if l.startswith("t=")]
                slow = [l for l in rounds[1:] if int(parse_kv(l).get("ms", 0)) > 500 * SLOW]
                self.assertTrue(rounds and all("body=listener=127.0.0.5:9000" in l for l in rounds), r.show())
                self.assertEqual(slow, [], "lookups paid for the address rule's silent target" + r.show())

    @unittest.skipUnless(node_ok(), "node not installed")
    def test_node_event_loop_not_blocked(self):
        if prefix_blocks(["node", "-e", "0"]):
            self.skipTest(prefix_blocks(["node", "-e", "0"]))
        self.dset("dead.test", a=["127.0.0.44"])
        self.dns.drop("dead.test")
        path = self.rules("127.0.0.1:8080 = dead.test:9000")
        r = self.run_prog(["node", "-e", NODE_LAG, "8080", "5"], config=path, env=self.RES, timeout=60)
        kv = parse_kv(r.out)
        self.note(f"Node, 5 s of connects through the rule: {r.out.strip()}")
        self.assertIn("worst_lag_ms", kv, r.show())
        self.assertIn("EHOSTUNREACH", r.out, r.show())
        self.assertLess(int(kv["worst_lag_ms"]), 500, "the event loop was blocked" + r.show())
