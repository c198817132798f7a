"""Integration tests: fork, vfork+exec, posix_spawn, signal handlers (SPEC Behaviour 5)."""
from harness import *  # noqa: F401,F403


# ---------------------------------------------------------------------------
class ProcessLife(Base):
    """fork, vfork, posix_spawn, exec, signal handlers, dlopen, threads at
    start-up and a closed stderr; each with a C client (proclife, dl_resolve,
    fd2, early_threads_lib)"""

    def setUp(self):
        super().setUp()
        # *.lit.localhost has a literal target: its lookups never reach the
        # resolver (glibc's NSS can deadlock in a child forked while another
        # thread is inside it, with or without this library)
        self.cfg = self.rules("auth.localhost = server:9000", "other.localhost = server:9001",
                              "*.lit.localhost = 127.0.0.5:9000", "*.api.localhost = gateway:8080",
                              "udp.localhost = server:5353", "slowalias.localhost = slow.test:9000",
                              "bad.localhost = nosuch.invalid:80", "portonly.localhost:443 = server:9443")

    def proclife(self, *args, **kw):
        return self.run_prog([self.c("proclife"), *args], config=kw.pop("config", self.cfg), **kw)

    @staticmethod
    def body_of(r, prefix):
        """listener and host of the line 'PREFIXconnect body=...'"""
        for l in r.lines:
            if l.startswith(prefix + "connect body="):
                kv = parse_kv(l.split("body=", 1)[1])
                return kv.get("listener"), kv.get("host")
        return None

    def test_fork_parent_and_child(self):
        r = self.proclife("fork", "auth.localhost", "80", "other.localhost")
        self.assertEqual(r.rc, 0, r.show())
        for prefix, want in [("parent: ", (S9000, "auth.localhost")), ("parent-new: ", (S9001, "other.localhost")),
                             ("parent-again: ", (S9000, "auth.localhost")),
                             ("child-inherited: ", (S9000, "auth.localhost")),
                             ("child-new: ", (S9001, "other.localhost"))]:
            self.assertEqual(self.body_of(r, prefix), want, prefix + r.show())
        self.assertIn("fork child exit=0", r.lines, r.show())

    def test_fork_before_first_lookup(self):
        r = self.proclife("fork-first", "auth.localhost", "80")
        self.assertEqual(r.rc, 0, r.show())
        self.assertEqual(self.body_of(r, "child: "), (S9000, "auth.localhost"), r.show())
        self.assertEqual(self.body_of(r, "parent: "), (S9000, "auth.localhost"), r.show())

    def test_fork_while_threads_look_up(self):
        # children forked while 4 threads add synthetic addresses: the child
        # reads the table it inherited, adds to it, and never hangs
        r = self.proclife("fork-threads", "known.lit.localhost", "80", "f{}.lit.localhost", "40",
                          "127.0.0.5:9000", timeout=60)
        self.assertEqual(r.rc, 0, r.show())
        kv = parse_kv(r.lines[-1] if r.lines else "")
        self.assertEqual((kv.get("ok"), kv.get("bad"), kv.get("threads-bad")), ("40", "0", "0"), r.show())
        self.note(f"threads: {kv.get('threads-ok')} lookups+connects")

    def test_vfork_exec_child(self):
        r = self.proclife("vfork", self.c("http_get"), "other.localhost", "443", exec_children=True)
        self.assertIn("vfork child exit=0", r.lines, r.show())
        self.assertReached(r, S9001, "other.localhost")

    def test_posix_spawn_child(self):
        r = self.proclife("spawn", self.c("gai"), "-c", "-p", "80", "-f", "inet", "-t", "stream", "auth.localhost",
                          exec_children=True)
        self.assertIn("spawn child exit=0", r.lines, r.show())
        self.assertReached(r, S9000, "auth.localhost")
        # a child of a child, by PATH
        r = self.proclife("spawn", "proclife", "vfork", self.c("http_get"), "x.api.localhost", "80",
                          env={"PATH": BIN + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin")},
                          exec_children=True)
        self.assertIn("spawn child exit=0", r.lines, r.show())
        self.assertReached(r, GW, "x.api.localhost")

    def test_exec_child_has_its_own_synthetic_addresses(self):
        # a synthetic address means something only in the process that looked
        # the name up (and its forks): an exec'd child that connects to one it
        # was handed reaches 127.88.x.y itself, where nothing listens
        g = self.run_prog([self.c("gai"), "-f", "inet", "-t", "stream", "auth.localhost", "80"], config=self.cfg)
        addr = parse_kv(g.lines[1])["addr"]
        self.assertTrue(is_syn(addr), g.show())
        r = self.proclife("spawn", self.c("http_get"), addr, "80", exec_children=True)
        self.assertIn("errno=ECONNREFUSED", r.out, r.show())
        self.assertIn("spawn child exit=3", r.lines, r.show())

    def test_connect_and_sendto_in_signal_handler(self):
        r = self.proclife("signal", "auth.localhost", "80", "udp.localhost", "5353")
        self.assertEqual(r.rc, 0, r.show())
        self.assertEqual(self.body_of(r, "handler: "), (S9000, "auth.localhost"), r.show())
        self.assertIn("handler: udp reply=udp-listener=127.0.0.5:5353 got=from-handler", r.lines, r.show())

    def test_signal_handler_interrupting_a_lookup(self):
        # the handler runs while the main thread is inside the library,
        # resolving a slow target; its connect must still be redirected
        r = self.proclife("signal-during", "auth.localhost", "80", "slowalias.localhost", timeout=30)
        self.assertIn("handler: in-lookup=1", r.lines, "the handler did not run during the lookup" + r.show())
        self.assertEqual(self.body_of(r, "handler: "), (S9000, "auth.localhost"), r.show())
        self.assertEqual(r.rc, 0, r.show())

    def test_signal_storm_during_lookups(self):
        # a SIGALRM every millisecond while the main thread looks up fresh
        # names (targets from /etc/hosts); every handler connect is checked
        r = self.proclife("signal-storm", "s.api.localhost", "80", "n{}.api.localhost", "1500",
                          "127.0.0.6:8080", timeout=60)
        kv = parse_kv(r.lines[-1] if r.lines else "")
        self.note(f"{kv.get('signals')} signals")
        self.assertEqual((kv.get("lookup-fail"), kv.get("bad")), ("0", "0"), r.show())
        self.assertEqual(r.rc, 0, r.show())

    def dl(self, mode, *extra):
        return self.run_prog([self.c("dl_resolve"), mode, os.path.join(BIN, "resolver_lib.so"),
                              "auth.localhost", "80", *extra], config=self.cfg)

    def test_dlopen_library_that_resolves(self):
        for mode, tags in [("main", ["main"]), ("reopen", ["main"] * 3), ("before", ["t0", "t1", "t2", "t3"]),
                           ("after", ["main", "t0", "t1", "t2", "t3"]), ("each", ["t0", "t1", "t2", "t3"])]:
            with self.subTest(mode=mode):
                r = self.dl(mode)
                self.assertEqual(r.rc, 0, r.show())
                gets = sorted(l.split(" ", 1)[0] for l in r.lines if " get " in l)
                self.assertEqual(gets, sorted(tags), r.show())
                for l in r.lines:
                    kv = parse_kv(l)
                    self.assertTrue(is_syn(kv.get("addr", "")), r.show())
                    if " get " in l:
                        body = parse_kv(l.split("body=", 1)[-1])
                        self.assertEqual((body.get("listener"), body.get("host")), (S9000, "auth.localhost"),
                                         r.show())
                    else:
                        self.assertEqual(kv.get("back"), "auth.localhost", r.show())

    def test_threads_started_in_a_constructor(self):
        # threads resolve while the preloads are initialised, maybe before
        # hostshim's constructor ran, and race to load the configuration
        lib = os.path.join(BIN, "early_threads_lib.so")
        for order in ([lib, LIB], [LIB, lib]):
            for rnd in range(3):
                with self.subTest(first=os.path.basename(order[0]), round=rnd):
                    r = self.run_prog([self.c("gai"), "-t", "stream", "-c", "-p", "80", "other.localhost"],
                                      preload=order, config=self.cfg, env={"EARLY_THREADS": "8"})
                    early = [l for l in r.lines if l.startswith("early ")]
                    self.assertEqual(len(early), 8, r.show())
                    for l in early:
                        self.assertIn(f"body=listener={S9000} host=auth.localhost", l, r.show())
                    main = [l for l in r.lines if l.startswith("connect ")]
                    self.assertEqual(len(main), 1, r.show())
                    self.assertIn(f"body=listener={S9001} host=other.localhost", main[0], r.show())
                    self.assertEqual(r.rc, 0, r.show())

    # -- stderr closed or reused ------------------------------------------
    def fd2(self, mode, **kw):
        return self.run_prog([self.c("fd2"), mode, "auth.localhost", "80", "bad.localhost", "portonly.localhost"],
                             config=self.cfg, **kw)

    def assertFd2Run(self, r):
        self.assertGreaterEqual(r.rc, 0, f"killed by signal {-r.rc if isinstance(r.rc, int) else r.rc}" + r.show())
        self.assertEqual(r.rc, 0, r.show())
        body = [l for l in r.lines if l.startswith("request ")]
        self.assertTrue(body and f"body=listener={S9000} host=auth.localhost" in body[0], r.show())
        self.assertIn(f"bad gai rc={socket.EAI_NONAME}", r.lines, r.show())
        self.assertIn("portonly errno=EHOSTUNREACH", r.lines, r.show())

    def test_fd2_kept(self):
        r = self.fd2("keep")
        self.assertFd2Run(r)
        self.assertEqual(len(r.shim_lines()), 2, "want the two warnings" + r.show())

    def test_fd2_onto_file_and_socketpair(self):
        path = os.path.join(self.tmp, "stderr.txt")
        self.assertFd2Run(self.fd2("file:" + path))
        self.assertFd2Run(self.fd2("socket"))

    def test_fd2_closed_by_the_program(self):
        # the program closes fd 2; its next socket becomes fd 2: the library's
        # warnings must neither kill it (SIGPIPE) nor go into that socket
        r = self.fd2("closed")
        self.assertFd2Run(r)
        self.assertIn("request fd=2 ", r.out, r.show())
        reqs = [i for i in CTX["log"].items() if i.get("listener") == S9000]
        self.assertEqual([(i["method"], i["path"]) for i in reqs], [("GET", "/fd2")],
                         "the request the program sent was changed (a warning written into its socket?)" + r.show())

    def test_fd2_closed_at_start(self):
        # started with fd 2 closed, and a bad config line: the load-time
        # message has nowhere to go, the rules still apply
        cfg = self.ini("[map]\nauth.localhost = server:9000\nbad.localhost = nosuch.invalid:80\n"
                       "portonly.localhost:443 = server:9443\nx.localhost = server:70000\n", "closed.ini")
        r = self.run_prog([self.c("fd2"), "keep", "auth.localhost", "80", "bad.localhost", "portonly.localhost"],
                          config=cfg, close_stderr=True)
        self.assertFd2Run(r)
        reqs = [i for i in CTX["log"].items() if i.get("listener") == S9000]
        self.assertEqual([(i["method"], i["path"]) for i in reqs], [("GET", "/fd2")],
                         "the request the program sent was changed (a warning written into its socket?)" + r.show())
        # strict mode still ends the process with status 2
        r = self.run_prog([self.c("gai"), "auth.localhost", "80"], config=cfg, strict="1", close_stderr=True)
        self.assertEqual(r.rc, 2, r.show())
