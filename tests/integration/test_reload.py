"""Integration tests: reload of an edited file; only/skip scoping (SPEC Behaviour 10)."""
from harness import *  # noqa: F401,F403


class Reload(Base):
    """issue 8: an edited, replaced, broken, deleted and restored file,
    while a program keeps looking names up and connecting"""

    SLOW = VALGRIND_SLOWER if VALGRIND else 1   # for the C client under valgrind

    def write(self, path, text, rename=False):
        tmp = path + ".new" if rename else path
        with open(tmp, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        if rename:
            os.rename(tmp, path)

    def follows(self, rounds, path, steps, slow=1):
        """applies each (text or None to delete, rename, expected) in turn;
        returns the ms each took to show"""
        taken = []
        for text, rename, want in steps:
            t0 = now_ms()
            if text is None:
                os.unlink(path)
            else:
                self.write(path, text, rename)
            if want is None:                      # no change expected
                time.sleep(2.5 * slow)
                taken.append(None)
                continue
            ms = rounds.first(want, t0, 6 * slow)
            self.assertIsNotNone(ms, f"not applied: {text!r} -> {want}; rounds: {rounds.lines[-8:]}")
            taken.append(ms)
        return taken

    @unittest.skipUnless(node_ok(), "node not installed")
    def test_node_loop_follows_the_file(self):
        if prefix_blocks(["node", "-e", "0"]):
            self.skipTest(prefix_blocks(["node", "-e", "0"]))
        path = self.rules("auth.localhost = server:9000")
        rounds = Rounds(self.start_prog(["node", "-e", NODE_LOOP, "http://auth.localhost/", "40"], config=path))
        try:
            self.assertIsNotNone(rounds.first(S9000, 0, 10), rounds.lines[-5:])
            taken = self.follows(rounds, path, [
                ("[map]\nauth.localhost = server:9001\n", False, S9001),       # edited in place
                ("[map]\nauth.localhost = gateway:8080\n", True, GW),          # replaced (editors, bind mounts)
                ("[map]\nauth.localhost = server:70000\n", False, None),       # broken: kept
            ])
            broken_at = now_ms()
            self.assertEqual({got for _, got in rounds.since(broken_at - 2000)}, {GW}, rounds.lines[-10:])
            taken += self.follows(rounds, path, [(None, False, None)])        # deleted: kept
            self.assertEqual({got for _, got in rounds.since(now_ms() - 2000)}, {GW}, rounds.lines[-10:])
            taken += self.follows(rounds, path, [("[map]\nauth.localhost = server:9000\n", False, S9000)])
        finally:
            err = rounds.stop()
        self.note(f"ms from the change to the first redirected connect: edit {taken[0]}, "
                  f"rename {taken[1]}, restore {taken[4]}")
        for ms in (taken[0], taken[1], taken[4]):
            self.assertLess(ms, 3000, err)
        self.assertIn(f"hostshim: {path}:2: port 70000 out of range", err)
        self.assertIn(f"hostshim: {path} changed: 1 problem; keeping the rules in force", err)
        self.assertEqual(err.count("No such file or directory; keeping the rules in force"), 1, err)

    def test_kept_address_follows_the_rule(self):
        # a program that looked the name up once keeps its synthetic address:
        # it goes to the rule's new target, and where the name really
        # resolves once no rule maps it (auth.localhost is 127.0.0.1 here)
        path = self.rules("auth.localhost = server:9000")
        rounds = Rounds(self.start_prog([self.c("reload_loop"), "-k", "auth.localhost", "80",
                                         str(30 * self.SLOW)], config=path))
        try:
            self.assertIsNotNone(rounds.first(S9000, 0, 10 * self.SLOW), rounds.lines[-5:])
            self.follows(rounds, path, [("[map]\nauth.localhost = server:9001\n", False, S9001),
                                        ("[map]\nother.localhost = server:9000\n", True, DECOY4)],
                         self.SLOW)
        finally:
            err = rounds.stop()
        self.assertNotIn("ERROR SUMMARY", err)

    def test_reload_off(self):
        for how, env in (("file", {}), ("HOSTSHIM_RELOAD=0", {"HOSTSHIM_RELOAD": "0"})):
            with self.subTest(how=how):
                head = "[shim]\nreload = false\n" if how == "file" else ""
                path = self.ini(head + "[map]\nauth.localhost = server:9000\n", f"off-{len(env)}.ini")
                rounds = Rounds(self.start_prog([self.c("reload_loop"), "auth.localhost", "80",
                                                 str(20 * self.SLOW)], config=path, env=env))
                try:
                    self.assertIsNotNone(rounds.first(S9000, 0, 10 * self.SLOW), rounds.lines[-5:])
                    t0 = now_ms()
                    self.write(path, head + "[map]\nauth.localhost = server:9001\n")
                    time.sleep(2.5 * self.SLOW)
                    self.assertEqual({got for _, got in rounds.since(t0)}, {S9000}, rounds.lines[-5:])
                finally:
                    rounds.stop()


class Scope(Base):
    """issue 8: `only` and `skip` choose the programs the rules apply to"""

    def test_only_and_skip(self):
        cfg = self.rules("auth.localhost = server:9000")
        get = [self.c("http_get"), "auth.localhost", "80"]
        base = self.base(get)
        self.assertReached(base, DECOY4)                      # without the rules: the decoy
        for env, applies in [({"HOSTSHIM_ONLY": "node, http_get"}, True), ({"HOSTSHIM_ONLY": "node"}, False),
                             ({"HOSTSHIM_SKIP": "curl http_get"}, False), ({"HOSTSHIM_SKIP": "curl"}, True),
                             ({"HOSTSHIM_ONLY": "http_get", "HOSTSHIM_SKIP": "http_get"}, False)]:
            with self.subTest(env=env):
                r = self.run_prog(get, config=cfg, env=env)
                if applies:
                    self.assertReached(r, S9000, "auth.localhost")
                else:
                    self.assertSame(r, base)
        for text, applies in [("[shim]\nonly = http_get\n", True), ("[shim]\nskip = http_get\n", False),
                              ("[shim]\nonly = node\n", False)]:
            with self.subTest(file=text):
                path = self.ini(text + "[map]\nauth.localhost = server:9000\n", "scope.ini")
                r = self.run_prog(get, config=path)
                if applies:
                    self.assertReached(r, S9000, "auth.localhost")
                else:
                    self.assertSame(r, base)

    def test_argv0_and_executable(self):
        # both names count: argv[0] as the program started, and the file run
        cfg = self.rules("auth.localhost = server:9000")
        link = os.path.join(self.tmp, "fancy")
        os.symlink(self.c("http_get"), link)
        for only in ("fancy", "http_get"):
            with self.subTest(only=only):
                r = self.run_prog([link, "auth.localhost", "80"], config=cfg, env={"HOSTSHIM_ONLY": only})
                self.assertReached(r, S9000, "auth.localhost")

    def test_shell_children(self):
        # the shell is left out, its http_get child is in
        cfg = self.rules("auth.localhost = server:9000")
        script = f'{self.c("http_get")} auth.localhost 80; {self.c("gai")} -t stream auth.localhost 80'
        r = self.run_prog(["/bin/sh", "-c", script], config=cfg, env={"HOSTSHIM_ONLY": "http_get"},
                          exec_children=True)
        self.assertIn(f"body=listener={S9000} host=auth.localhost", r.out, r.show())
        gai = [parse_kv(l) for l in r.lines if l.startswith("ai ")]
        self.assertEqual([a["addr"] for a in gai], ["127.0.0.1"], r.show())
