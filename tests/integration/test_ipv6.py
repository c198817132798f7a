"""Integration tests: IPv6, v4-mapped, link-local, dual stack."""
from harness import *  # noqa: F401,F403


class IPv6(Base):
    """IPv6 targets and addresses, with addresses of the suite's own in the
    namespace (see HOSTS): server6 has only fd00:68:73::5, dual has
    127.0.0.8 and fd00:68:73::8, fe80::1 sits on the veth LL_IF.  Where the
    kernel can't (no IPv6, no veth), these tests skip and say why."""

    RULES = ("v6.localhost = server6:9000", "dual.localhost = dual:9000",
             "u6.localhost = server6:5353", "lit6only.localhost = [fd00:68:73::5]:9000")

    def setUp(self):
        super().setUp()
        if CTX["no6"]:
            self.skipTest(CTX["no6"])
        self.cfg = self.rules(*self.RULES)

    def need_linklocal(self):
        if CTX["noll"]:
            self.skipTest(CTX["noll"])

    def same_failure(self, argv_mapped, argv_target):
        """the mapped name's lookup fails exactly as libc's for the target"""
        b = self.base(argv_target)
        r = self.run_prog(argv_mapped, config=self.cfg)
        self.assertNotEqual(b.rc, 0, b.show())
        self.assertEqual((r.rc, r.out), (b.rc, b.out), r.show() + b.show())

    def test_ipv6_only_target(self):
        # the answer is an IPv6 synthetic address, so the program makes an
        # IPv6 socket: its socket is never replaced behind its back
        for name in ("v6.localhost", "lit6only.localhost"):
            for opts in ([], ["-n"], ["-s", "-F", "addrconfig"], ["-f", "inet6"],
                         ["-f", "inet6", "-F", "v4mapped"], ["-n", "-f", "inet6"], ["-6", "-n"]):
                with self.subTest(name=name, opts=opts):
                    r = self.get(name, 80, *opts, config=self.cfg)
                    self.assertTrue(any(" addr=" in l and is_syn(parse_kv(l)["addr"]) and ":" in parse_kv(l)["addr"]
                                        for l in r.lines), r.show())
                    self.assertReached(r, S6, name)
        r = self.run_prog([self.c("ghbn"), "-c", "80", "gethostbyname2-inet6", "v6.localhost"], config=self.cfg)
        self.assertReached(r, S6, "v6.localhost")
        # asked for IPv4 only, like libc for server6 itself
        self.same_failure([self.c("gai"), "-f", "inet", "-t", "stream", "v6.localhost", "80"],
                          [self.c("gai"), "-f", "inet", "-t", "stream", "server6", "80"])
        self.same_failure([self.c("ghbn"), "gethostbyname", "v6.localhost"],
                          [self.c("ghbn"), "gethostbyname", "server6"])

    def test_ipv6_only_target_python(self):
        r = self.run_prog([sys.executable, "-c", PY_CONNECT_ARG, "v6.localhost"], config=self.cfg)
        self.assertReached(r, S6, "v6.localhost")
        code = 'import urllib.request\nprint("body=" + urllib.request.urlopen("http://v6.localhost/u", timeout=5).read().decode().strip())'
        self.assertReached(self.run_prog([sys.executable, "-c", code], config=self.cfg), S6, "v6.localhost")

    @unittest.skipUnless(node_ok(), "node not installed")
    def test_ipv6_only_target_node(self):
        for code, path in ((NODE_FETCH, "/f6"), (NODE_HTTP, "/h6")):
            with self.subTest(client="fetch" if code is NODE_FETCH else "http"):
                r = self.run_prog(["node", "-e", code, "http://v6.localhost" + path], config=self.cfg)
                self.assertReached(r, S6, "v6.localhost")
                req = [i for i in CTX["log"].items() if i.get("path") == path]
                self.assertEqual([(i["listener"], i["host"]) for i in req], [(S6, "v6.localhost")], r.show())

    def test_dual_stack_target(self):
        # the answer has both families in the order libc gives for the
        # target, so the program reaches what it reaches with the target's
        # own name, from either socket family
        for opts in ([], ["-f", "inet"], ["-n"], ["-f", "inet6"], ["-f", "inet6", "-n"], ["-6", "-f", "inet"],
                     ["-a"], ["-s", "-F", "addrconfig"]):
            with self.subTest(opts=opts):
                b = self.base([self.c("http_get"), *opts, "-H", "dual.localhost", "dual", "9000"])
                r = self.get("dual.localhost", 80, *opts, config=self.cfg)
                self.assertTrue(b.bodies(), b.show())
                # -a: every address in turn, in the same order
                self.assertEqual([parse_kv(x)["listener"] for x in r.bodies()],
                                 [parse_kv(x)["listener"] for x in b.bodies()], r.show() + b.show())
                self.assertEqual({parse_kv(x)["host"] for x in r.bodies()}, {"dual.localhost"}, r.show())
        # the target's own name is not touched
        for opts in ([], ["-f", "inet6"]):
            with self.subTest(unmapped=opts):
                argv = [self.c("http_get"), *opts, "dual", "9000"]
                self.assertSame(self.run_prog(argv, config=self.cfg), self.base(argv))

    def test_unmapped_ipv6_names_identical(self):
        for name in ("server6", "dual", PUB6, SERVER6):
            for v in (["-t", "stream"], ["-f", "inet6", "-n", "-r"], ["-F", "addrconfig,canonname"],
                      ["-f", "inet6", "-F", "v4mapped,all"]):
                with self.subTest(name=name, variant=v):
                    argv = [self.c("gai"), *v, name, "80"]
                    self.assertSame(self.run_prog(argv, config=self.cfg), self.base(argv))
        argv = [self.c("http_get"), "server6", "9000"]
        self.assertReached(self.run_prog(argv, config=self.cfg), S6, "server6")

    def test_address_rule_ipv6_public(self):
        argv = [self.c("http_get"), PUB6, "80"]
        self.assertReached(self.base(argv), DECOYP6)              # the trap is armed
        for target, want in [("server:9000", S9000), ("server6:9000", S6), ("dual:9000", D6),
                             ("[fd00:68:73::5]:9000", S6), ("127.0.0.8:9000", D4)]:
            cfg = self.rules(f"[{PUB6}]:80 = {target}")
            for opts in ([], ["-n"]):
                with self.subTest(target=target, opts=opts):
                    self.assertReached(self.get(PUB6, 80, *opts, config=cfg), want, PUB6)
            with self.subTest(target=target, port=81):
                argv = [self.c("http_get"), PUB6, "81"]          # another port: untouched
                self.assertSame(self.run_prog(argv, config=cfg), self.base(argv))

    def test_address_rule_loopback6_to_ipv6_targets(self):
        for target, want in [("server6:9000", S6), ("dual:9000", D6)]:
            cfg = self.rules(f"[::1]:80 = {target}")
            with self.subTest(target=target):
                self.assertReached(self.get("::1", 80, config=cfg), want, "::1")
                self.assertReached(self.get("::1", 80, "-n", config=cfg), want)
                self.assertReached(self.get("127.0.0.1", 80, config=cfg), DECOY4)

    def test_address_rule_ipv4_to_ipv6_only_target(self):
        # curl -4 style: an AF_INET connect to 127.0.0.1:80, the target has
        # only IPv6. The program's IPv4 socket can't reach it and is not
        # replaced: EHOSTUNREACH and a warning that names the rule
        cfg = self.rules("127.0.0.1:80 = server6:9000")
        for opts in ([], ["-n"]):
            with self.subTest(opts=opts):
                r = self.get("127.0.0.1", 80, *opts, config=cfg)
                self.assertIn("EHOSTUNREACH", r.out, r.show())
                self.assertTrue([l for l in r.shim_lines() if "127.0.0.1:80 = server6:9000" in l
                                 or "server6:9000" in l], r.show())
        # ::ffff:127.0.0.1 on an AF_INET6 socket: the same IPv4 address, and
        # that socket can take the IPv6 target
        self.assertReached(self.get("127.0.0.1", 80, "-6", config=cfg), S6)

    @unittest.skipUnless(shutil.which("curl"), "curl not installed")
    def test_curl_address_rules_to_ipv6_only_target(self):
        if prefix_blocks(["curl", "--version"]):
            self.skipTest(prefix_blocks(["curl", "--version"]))
        cfg = self.rules("127.0.0.1:80 = server6:9000", "[::1]:80 = server6:9000")
        for fam in ([], ["-6"]):
            with self.subTest(family=fam):
                r = self.run_prog(["curl", "-sS", "--noproxy", "*", "--max-time", "5", *fam,
                                   "http://auth.localhost/c6"], config=cfg)
                self.assertEqual(r.rc, 0, r.show())
                kv = parse_kv(r.out)
                self.assertEqual((kv.get("listener"), kv.get("host")), (S6, "auth.localhost"), r.show())

    def test_link_local_target_with_scope(self):
        self.need_linklocal()
        index = socket.if_nametoindex(LL_IF)
        cfg = self.rules(f"ll.localhost = [{LL}%{LL_IF}]:9000", f"lln.localhost = [{LL}%{index}]:9000")
        for name in ("ll.localhost", "lln.localhost"):
            for opts in ([], ["-n"], ["-f", "inet6"], ["-6", "-n"]):
                with self.subTest(name=name, opts=opts):
                    self.assertReached(self.get(name, 80, *opts, config=cfg), SLL, name)
        # without the scope the kernel refuses a link-local destination
        argv = [self.c("http_get"), LL, "9000"]
        self.assertIn("errno=EINVAL", self.base(argv).out)

    def test_address_rule_link_local_public(self):
        # the public address matches whatever scope the program connects with
        self.need_linklocal()
        cfg = self.rules(f"[{LL}]:80 = server:9001")
        for opts in ([], ["-n"]):
            with self.subTest(opts=opts):
                self.assertReached(self.get(f"{LL}%{LL_IF}", 80, *opts, config=cfg), S9001)

    def test_udp_ipv6_only_target(self):
        want = f"data=udp-listener=[{SERVER6}]:5353 got="
        for mode in ("connect-send", "connect-write", "sendto", "sendmsg"):
            for fam in ("inet6", "unspec"):
                with self.subTest(mode=mode, family=fam):
                    msg = f"{mode}-{fam}"
                    r = self.run_prog([self.c("udp"), "-f", fam, mode, "u6.localhost", "5353", msg], config=self.cfg)
                    self.assertEqual(r.rc, 0, r.show())
                    self.assertIn(want + msg, r.out, r.show())
        self.same_failure([self.c("udp"), "-f", "inet", "sendto", "u6.localhost", "5353", "x"],
                          [self.c("udp"), "-f", "inet", "sendto", "server6", "5353", "x"])

    def test_socket_is_the_programs(self):
        # what a program set on its socket before connect still holds after,
        # for an IPv6-only and an IPv4 target: nothing replaces the socket
        for name, port, want in (("v6.localhost", "80", S6), ("127.0.0.5", "9000", S9000)):
            for opts in ([], ["-n", "-e"], ["-b"]):
                with self.subTest(name=name, opts=opts):
                    r = self.run_prog([self.c("sockopt"), *opts, name, port], config=self.cfg)
                    fam = [l for l in r.lines if l.startswith("family ")]
                    self.assertTrue(fam, r.show())
                    kv = parse_kv(fam[0])
                    self.assertEqual(kv["before"], kv["after"], r.show())
                    self.assertReached(r, want)
                    changed = [l for l in r.lines if l.startswith(("opt ", "flag ", "bound "))
                               and l.split(" before=")[1].split(" after=")[0] != l.split(" after=")[1]]
                    self.assertEqual(changed, [], "the socket changed under connect" + r.show())

    def test_without_kernel_ipv6(self):
        # noipv6_lib makes socket(AF_INET6) fail as on a kernel booted with
        # ipv6.disable=1: the program meets it as without the library
        lib = os.path.join(BIN, "noipv6_lib.so")
        pre = [lib, LIB]
        r = self.get("v6.localhost", 80, preload=pre, config=self.cfg)
        self.assertEqual(r.rc, 3, r.show())
        self.assertIn("errno=EAFNOSUPPORT", r.out, r.show())
        b = self.run_prog([self.c("http_get"), "-a", "dual", "9000"], preload=[lib], lib=False)
        r = self.get("dual.localhost", 80, "-a", preload=pre, config=self.cfg)
        self.assertReached(r, D4)
        self.assertReached(b, D4)

    @unittest.skipUnless(shutil.which("unshare"), "unshare not installed")
    def test_ipv6_disabled_by_sysctl(self):
        # many containers run with net.ipv6.conf.all.disable_ipv6=1: IPv6
        # sockets exist but no IPv6 address does.  In a namespace of its own
        # (no listeners: an IPv4 connect is refused, an IPv6 one can't start)
        script = ("ip link set lo up && for f in all default lo; do "
                  "echo 1 > /proc/sys/net/ipv6/conf/$f/disable_ipv6; done && "
                  'exec env LD_PRELOAD="$HS_PRELOAD" "$@"')
        env = {"HOSTSHIM_CONFIG": self.cfg, "HS_PRELOAD": " ".join(PREFIX + [LIB])}
        # a dual-stack target: what libc answers for it with IPv6 disabled
        # (AI_ADDRCONFIG drops IPv6); refused: nothing listens here
        for opts, want in [(["-a"], "ECONNREFUSED"), (["-s", "-F", "addrconfig"], "ECONNREFUSED"),
                           (["-6", "-f", "inet"], "ECONNREFUSED")]:
            with self.subTest(opts=opts):
                r = self.run_prog(["unshare", "--net", "/bin/sh", "-c", script, "sh", self.c("http_get"), *opts,
                                   "dual.localhost", "80"], lib=False, env=env)
                self.assertIn(f"errno={want}", r.out, r.show())
        r = self.run_prog(["unshare", "--net", "/bin/sh", "-c", script, "sh", self.c("http_get"),
                           "v6.localhost", "80"], lib=False, env=env)
        self.assertIn("errno=EADDRNOTAVAIL", r.out, r.show())

    def test_info_lines_ipv6(self):
        r = self.get("v6.localhost", 80, "-k", "2", config=self.cfg, log="info")
        self.assertReached(r, S6)
        self.assertEqual([l for l in r.shim_lines() if " -> " in l], [f"hostshim: v6.localhost:80 -> server6:9000 ([{SERVER6}]:9000)"], r.show())
        cfg = self.rules(f"[{PUB6}]:80 = server6:9000")
        r = self.get(PUB6, 80, config=cfg, log="info")
        # an IPv6 address with a port is written in brackets, as in the rule
        self.assertEqual([l for l in r.shim_lines() if " -> " in l], [f"hostshim: [{PUB6}]:80 -> server6:9000 ([{SERVER6}]:9000)"], r.show())

    def test_check_mode_ipv6_targets(self):
        path = self.rules("v6.localhost = server6:9000", "dual.localhost = dual:9000",
                          f"[{PUB6}]:80 = [{SERVER6}]:9000")
        r = self.run_prog(["/bin/true"], env={"HOSTSHIM_CHECK": "1"}, config=path, valgrind=VALGRIND)
        self.assertEqual(r.rc, 0, r.show())
        self.assertIn(f"v6.localhost -> server6:9000 ({path}:2) server6 = {SERVER6}", r.lines, r.show())
        self.assertIn(f"dual.localhost -> dual:9000 ({path}:3) dual = {DUAL4}, {DUAL6}", r.lines, r.show())
        self.assertIn(f"[{PUB6}]:80 -> [{SERVER6}]:9000 ({path}:4) {SERVER6} = {SERVER6}", r.lines, r.show())
        self.assertEqual(r.lines[-1], "3 rules, 0 errors", r.show())
