"""Integration tests: bad configuration input and --check (SPEC Errors and bad input)."""
from harness import *  # noqa: F401,F403


# ---------------------------------------------------------------------------
class ConfigErrors(Base):
    """6. bad configuration, black-box"""

    def error_lines(self, r, path):
        """line numbers named in 'hostshim: PATH:LINE: ...' messages"""
        rx = re.compile(r"^hostshim: " + re.escape(path) + r":(\d+): \S")
        return [int(m.group(1)) for m in map(rx.match, r.err.splitlines()) if m]

    BAD = """[shim]
log = warn
colour = blue
[map]
good1.localhost = server:9000
p1.localhost = server:70000
justtext
good1.localhost = gateway:8080
bad!host.localhost = server:9000
good2.localhost = server:9001
[nope]
x = y
[map]
good3.localhost:443 = server:9443
p2.localhost:0 = server:9000
hb.localhost = ser$ver:9000
p3.localhost:99999 = server
good4.localhost = [::1
"""
    # line -> what is wrong; 11/12 is the unknown section (either line may be named)
    BAD_LINES = {3: "unknown key", 6: "port 70000", 7: "missing =", 8: "duplicate key",
                 9: "bad host", 15: "port 0", 16: "bad target host", 17: "port 99999",
                 18: "bad address literal"}

    def check_bad_file(self, r, path):
        named = self.error_lines(r, path)
        for line, what in self.BAD_LINES.items():
            self.assertEqual(named.count(line), 1, f"line {line} ({what}) not named exactly once" + r.show())
        section = [n for n in named if n in (11, 12)]
        self.assertEqual(len(section), 1, "unknown section [nope] (line 11/12) not named once" + r.show())
        extra = sorted(set(named) - set(self.BAD_LINES) - {11, 12})
        self.assertEqual(extra, [], "good lines named as errors" + r.show())

    def test_bad_lines_named_and_good_rules_apply(self):
        path = self.ini(self.BAD)
        r = self.get("good1.localhost", 80, config=path)
        self.check_bad_file(r, path)
        self.assertReached(r, S9000)
        self.assertReached(self.get("good2.localhost", 80, config=path), S9001)
        self.assertReached(self.get("good3.localhost", 443, config=path), S9443)
        for name in ("p1.localhost", "bad!host.localhost", "hb.localhost", "p3.localhost"):
            with self.subTest(skipped=name):
                argv = [self.c("gai"), "-t", "stream", name, "80"]
                self.assertEqual(self.run_prog(argv, config=path).out, self.base(argv).out)

    def test_bad_hostshim_map_items(self):
        hmap = "a.localhost = server:9000, bogus, c.localhost = server:70000, d.localhost = server:9001"
        r = self.get("a.localhost", 80, hmap=hmap)
        self.assertReached(r, S9000)
        msgs = [l for l in r.shim_lines() if "HOSTSHIM_MAP" in l]
        self.assertEqual(len(msgs), 2, r.show())
        self.assertTrue(any(re.search(r"\bitem 2\b", l) for l in msgs), "item 2 not named" + r.show())
        self.assertTrue(any(re.search(r"\bitem 3\b", l) for l in msgs), "item 3 not named" + r.show())
        self.assertReached(self.get("d.localhost", 80, hmap=hmap), S9001)

    def test_strict_mode_exit_2(self):
        path = self.ini(self.BAD)
        argv = [self.c("gai"), "auth.localhost", "80"]
        r = self.run_prog(argv, config=path, strict="1")
        self.assertEqual(r.rc, 2, r.show())
        self.assertNotIn("gai rc", r.out, "the program ran" + r.show())
        self.check_bad_file(r, path)          # every error is printed before exiting
        strict_file = self.ini("[shim]\nstrict = true\n[map]\nx.localhost = server:70000\n", "strict.ini")
        r = self.run_prog(argv, config=strict_file)
        self.assertEqual(r.rc, 2, r.show())
        self.assertEqual(self.error_lines(r, strict_file), [4], r.show())
        r = self.run_prog(argv, hmap="bogus", strict="1")
        self.assertEqual(r.rc, 2, r.show())
        good = self.rules("auth.localhost = server:9000")
        r = self.run_prog(argv, config=good, strict="1")
        self.assertEqual((r.rc, r.err), (0, ""), r.show())

    def test_unreadable_config(self):
        argv = [self.c("gai"), "-f", "inet", "-t", "stream", "auth.localhost", "80"]
        base = self.base(argv)
        for path in (os.path.join(self.tmp, "does-not-exist.ini"), self.tmp):
            with self.subTest(path=path):
                r = self.run_prog(argv, config=path)
                self.assertEqual(len(r.shim_lines()), 1, "want exactly one warning" + r.show())
                self.assertEqual(len(r.err.splitlines()), 1, r.show())
                self.assertEqual(r.out, base.out, "rules were loaded from nowhere" + r.show())

    def test_writable_config_refused_as_root(self):
        argv = [self.c("gai"), "-f", "inet", "-t", "stream", "auth.localhost", "80"]
        path = self.rules("auth.localhost = server:9000")
        self.assertTrue(is_syn(parse_kv(self.run_prog(argv, config=path).lines[1])["addr"]))
        for mode in (0o666, 0o664):
            with self.subTest(mode=oct(mode)):
                os.chmod(path, mode)
                r = self.run_prog(argv, config=path)
                self.assertEqual(len(r.shim_lines()), 1, r.show())
                self.assertIn(path, r.err, r.show())
                self.assertEqual(r.out, self.base(argv).out, "rules were taken from a writable file" + r.show())

    def test_binary_junk(self):
        for seed in range(1, 7):
            rnd = random.Random(seed)
            junk = bytes(rnd.getrandbits(8) for _ in range(4096 * seed))
            if seed % 2 == 0:
                junk = b"[map]\nauth.localhost = server:9000\n" + junk.replace(b"\n", b"=\n") + b"\n"
            if seed == 5:
                junk = b"[map]\n" + b"\0" * 300 + b" = server\n" + bytes(range(256)) * 16
            path = self.ini(junk, f"junk{seed}.ini")
            with self.subTest(seed=seed):
                r = self.run_prog([self.c("gai"), "-t", "stream", "auth.localhost", "80"], config=path)
                self.assertIn(r.rc, (0, 1), "client crashed" + r.show())
                self.assertTrue(r.out.startswith("gai rc="), r.show())
                self.assertTrue(r.shim_lines(), "junk accepted silently" + r.show())

    def test_junk_hostshim_map(self):
        rnd = random.Random(7)
        alphabet = "abc.*:=,[]\n \t;#0123456789-_!$%"
        for i in range(5):
            junk = "".join(rnd.choice(alphabet) for _ in range(2000 * (i + 1)))
            with self.subTest(i=i):
                r = self.run_prog([self.c("gai"), "-t", "stream", "auth.localhost", "80"],
                                  hmap=junk + ",auth.localhost = server:9000")
                self.assertEqual(r.rc, 0, "client crashed or the last item was lost" + r.show())
                self.assertTrue(all(is_syn(a) for a in re.findall(r" addr=(\S+)", r.out)), r.show())
                self.assertTrue(r.shim_lines(), "junk accepted silently" + r.show())

    def test_long_line(self):
        big = "[map]\nauth.localhost = server:9000\nlong.localhost = " + "a" * (1 << 20) + ":80\n" \
              "after.localhost = server:9001\n# " + "c" * (1 << 20) + "\nlast.localhost = gateway:8080\n"
        path = self.ini(big)
        r = self.get("after.localhost", 80, config=path)
        self.assertReached(r, S9001)
        self.assertIn(3, self.error_lines(r, path), "the 1 MB line is not named" + r.show())
        self.assertReached(self.get("auth.localhost", 80, config=path), S9000)
        self.assertReached(self.get("last.localhost", 80, config=path), GW)

    def test_100k_rules(self):
        n = 100000
        lines = [f"h{i}.localhost = server:{9000 if i % 2 else 9001}" for i in range(n)]
        path = self.rules(*lines)
        r = self.get(f"h{n - 1}.localhost", 80, config=path, timeout=60)
        self.note(f"{n} rules: load + lookup + connect took {r.secs:.2f}s")
        self.assertReached(r, S9000)
        self.assertReached(self.get("h0.localhost", 80, config=path, timeout=60), S9001)
        self.assertEqual(r.err, "", r.show())


# ---------------------------------------------------------------------------
class CheckMode(Base):
    """HOSTSHIM_CHECK=1: the launcher's --check, at the library level"""

    def check(self, **kw):
        # the valgrind leg checks the library's check mode too
        return self.run_prog(["/bin/true"], env={"HOSTSHIM_CHECK": "1"}, valgrind=VALGRIND, **kw)

    def test_check_ok(self):
        path = self.rules("auth.localhost = server:9000", "*.api.localhost = gateway:8080")
        r = self.check(config=path, hmap="m.localhost = dns-only.test:9000")
        self.assertEqual(r.rc, 0, r.show())
        self.assertIn(f"auth.localhost -> server:9000 ({path}:2) server = 127.0.0.5", r.lines, r.show())
        self.assertIn(f"*.api.localhost -> gateway:8080 ({path}:3) gateway = 127.0.0.6", r.lines, r.show())
        self.assertIn("m.localhost -> dns-only.test:9000 (HOSTSHIM_MAP item 1) dns-only.test = 127.0.0.7",
                      r.lines, r.show())
        self.assertEqual(r.lines[-1], "3 rules, 0 errors", r.show())

    def test_check_unresolvable_target(self):
        path = self.rules("auth.localhost = server:9000", "bad.localhost = nosuch.invalid:80")
        r = self.check(config=path)
        self.assertEqual(r.rc, 3, r.show())
        prefix = f"bad.localhost -> nosuch.invalid:80 ({path}:3) nosuch.invalid: "
        self.assertTrue(any(l.startswith(prefix) for l in r.lines), r.show())
        self.assertEqual(r.lines[-1], "2 rules, 0 errors", r.show())

    def test_check_config_error(self):
        path = self.rules("auth.localhost = server:9000", "x.localhost = server:70000")
        r = self.check(config=path, log="off")
        self.assertEqual(r.rc, 1, r.show())
        self.assertTrue(r.err.startswith(f"hostshim: {path}:3: "), r.show())
        self.assertEqual(r.lines[-1], "1 rules, 1 errors", r.show())
