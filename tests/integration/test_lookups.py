"""Integration tests: every lookup entry point and hints combination (SPEC Behaviour 2)."""
from harness import *  # noqa: F401,F403


# ---------------------------------------------------------------------------
class EntryPoints(Base):
    """2. every hooked entry point, via the C clients"""

    RULES = ("auth.localhost = server:9000", "auth.localhost:443 = server:9443",
             "udp.localhost = server:5353", "127.0.0.1:5353 = server:5353",
             "lit6.localhost = [::1]:80")

    def setUp(self):
        super().setUp()
        self.cfg = self.rules(*self.RULES)

    @staticmethod
    def ai_lines(r):
        return [parse_kv(l) for l in r.lines if l.startswith("ai ")]

    def test_getaddrinfo_matrix(self):
        shapes = {}
        combos = [("unspec", "0"), ("unspec", "addrconfig"), ("inet", "0"),
                  ("inet6", "0"), ("inet6", "v4mapped")]
        services = [(None, 80, S9000), ("443", 443, S9443), ("https", 443, S9443),
                    ("http", 80, S9000)]
        for socktype in ("0", "stream"):
            for service, port, want in services:
                # what libc answers for a name with one IPv4 address (per address)
                key = (socktype, service)
                if key not in shapes:
                    b = self.base([self.c("gai"), "-f", "inet", "-t", socktype, "server", service or "-"])
                    shapes[key] = [(a["socktype"], a["protocol"], a["port"]) for a in self.ai_lines(b)]
                for fam, flags in combos:
                    with self.subTest(family=fam, flags=flags, socktype=socktype, service=service):
                        argv = [self.c("gai"), "-f", fam, "-t", socktype, "-F", flags, "-c"]
                        if service is None:
                            argv += ["-p", str(port)]
                        r = self.run_prog(argv + ["auth.localhost", service or "-"], config=self.cfg)
                        # the families libc has for the target are the answer's:
                        # an IPv6-only question about an IPv4-only target fails as it does
                        b = self.base(argv[:7] + ["server", service or "-"])
                        if b.rc != 0:
                            self.assertEqual(r.lines[:1], b.lines[:1], r.show() + b.show())
                            continue
                        self.assertEqual(r.lines[:1], ["gai rc=0"], r.show())
                        ais = self.ai_lines(r)
                        self.assertTrue(ais, r.show())
                        allowed = {a["family"] for a in self.ai_lines(b)}
                        groups = {}
                        for a in ais:
                            self.assertIn(a["family"], allowed, r.show())
                            self.assertTrue(is_syn(a["addr"]), f"not a synthetic address: {a['addr']}" + r.show())
                            self.assertEqual(a["port"], str(port if service else 0), r.show())
                            groups.setdefault(a["addr"], []).append((a["socktype"], a["protocol"], a["port"]))
                        for addr, shape in groups.items():
                            self.assertEqual(shape, shapes[key],
                                             f"result list for {addr} is not shaped like libc's" + r.show())
                        self.assertReached(r, want, "auth.localhost")
                        self.assertEqual(len(r.bodies()), len(ais), r.show())

    def test_canonname(self):
        for fam, flags in [("unspec", "canonname"), ("inet", "canonname"),
                           ("inet6", "canonname,v4mapped")]:
            with self.subTest(family=fam):
                r = self.run_prog([self.c("gai"), "-f", fam, "-F", flags, "auth.localhost", "http"],
                                  config=self.cfg)
                ais = self.ai_lines(r)
                self.assertTrue(ais, r.show())
                self.assertEqual(ais[0].get("canon"), "auth.localhost", r.show())
                self.assertTrue(all(is_syn(a["addr"]) for a in ais), r.show())

    def test_numerichost(self):
        for args in (["127.0.0.1", "80"], ["::1", "443"], ["127.0.0.5", "-"]):
            with self.subTest(host=args[0]):
                argv = [self.c("gai"), "-F", "numerichost", *args]
                self.assertSame(self.run_prog(argv, config=self.cfg), self.base(argv))
        # AI_NUMERICHOST with a (mapped) name must fail exactly like libc
        argv = [self.c("gai"), "-F", "numerichost", "auth.localhost", "80"]
        self.assertSame(self.run_prog(argv, config=self.cfg), self.base(argv))

    def test_gethostbyname_family(self):
        modes = [("gethostbyname", "inet"), ("gethostbyname2-inet", "inet"),
                 ("gethostbyname_r", "inet"), ("gethostbyname2_r-inet", "inet"),
                 ("gethostbyname2-inet6", "inet6"), ("gethostbyname2_r-inet6", "inet6")]
        for mode, fam in modes:
            with self.subTest(mode=mode):
                name = "lit6.localhost" if fam == "inet6" else "auth.localhost"
                r = self.run_prog([self.c("ghbn"), "-c", "80", "-r", mode, name], config=self.cfg)
                self.assertTrue(r.lines and r.lines[0].startswith("ok "), r.show())
                head = parse_kv(r.lines[0])
                self.assertEqual(head["name"], name, r.show())
                self.assertEqual(head["type"], fam, r.show())
                self.assertEqual(head["len"], "4" if fam == "inet" else "16", r.show())
                addrs = [l[5:] for l in r.lines if l.startswith("addr=")]
                self.assertTrue(addrs, r.show())
                for a in addrs:
                    self.assertTrue(is_syn(a), f"not synthetic: {a}" + r.show())
                self.assertReached(r, DECOY6 if fam == "inet6" else S9000, name)
                rev = [parse_kv(l)["name"] for l in r.lines if l.startswith("hostbyaddr ") and "name=" in l]
                self.assertEqual(rev, [name] * len(addrs), r.show())
        # an IPv6 question about an IPv4-only target: libc's answer for the target
        b = self.base([self.c("ghbn"), "gethostbyname2-inet6", "server"])
        r = self.run_prog([self.c("ghbn"), "gethostbyname2-inet6", "auth.localhost"], config=self.cfg)
        self.assertEqual(r.out, b.out, r.show() + b.show())

    def test_getnameinfo_and_gethostbyaddr(self):
        for fam, flags, name in [("inet", "0", "auth.localhost"), ("inet6", "v4mapped", "auth.localhost"),
                                 ("inet6", "0", "lit6.localhost"), ("unspec", "0", "lit6.localhost")]:
            with self.subTest(family=fam, flags=flags):
                r = self.run_prog([self.c("gai"), "-f", fam, "-F", flags, "-t", "stream", "-n", "-r",
                                   name, "443"], config=self.cfg)
                ais = self.ai_lines(r)
                self.assertTrue(ais, r.show())
                self.assertEqual(r.rc, 0, r.show())
                for a in ais:
                    addr = a["addr"]
                    self.assertIn(f"nameinfo addr={addr} host={name} serv=443", r.lines, r.show())
                    self.assertIn(f"nameinfo-numeric addr={addr} host={addr}", r.lines, r.show())
                    self.assertIn(f"hostbyaddr addr={addr} name={name}", r.lines, r.show())
                    self.assertIn(f"hostbyaddr_r addr={addr} name={name}", r.lines, r.show())

    def test_connect_blocking_and_nonblocking(self):
        for opts in ([], ["-n"], ["-f", "inet"], ["-n", "-f", "inet6", "-F", "v4mapped"]):
            with self.subTest(opts=opts):
                r = self.get("auth.localhost", 80, *opts, config=self.cfg)
                self.assertReached(r, S9000, "auth.localhost")
                if "-n" in opts:
                    self.assertTrue(any(l.startswith("nonblock connect=EINPROGRESS") and "so_error=0" in l
                                        for l in r.lines), r.show())
        r = self.get("auth.localhost", 443, "-n", config=self.cfg)
        self.assertReached(r, S9443)

    def test_error_codes_like_libc(self):
        # hints libc rejects are rejected the same way for a mapped name
        cases = [(["-t", "stream"], "nosuch-svc"), (["-t", "raw"], "http"),
                 (["-t", "stream", "-F", "numericserv"], "http"), (["-t", "dgram"], "http"),
                 (["-t", "stream", "-F", "0x40000000"], "80"), (["-t", "stream", "-F", "numericserv"], "99999"),
                 (["-f", "inet", "-t", "dgram", "-F", "canonname"], "domain")]
        for opts, service in cases:
            with self.subTest(opts=opts, service=service):
                b = self.base([self.c("gai"), *opts, "server", service])
                r = self.run_prog([self.c("gai"), *opts, "auth.localhost", service], config=self.cfg)
                if b.rc != 0:
                    self.assertEqual(r.out, b.out, "error differs from libc's for an unmapped name" + r.show() + b.show())
                else:
                    self.assertEqual(r.rc, 0, r.show() + b.show())
                    self.assertEqual([(a["socktype"], a["protocol"], a["port"]) for a in self.ai_lines(r)],
                                     [(a["socktype"], a["protocol"], a["port"]) for a in self.ai_lines(b)],
                                     r.show() + b.show())

    def test_small_buffers(self):
        # gethostbyname_r/gethostbyname2_r with a short buffer: ERANGE, like libc
        for mode, unmapped, name in [("gethostbyname_r", "server", "auth.localhost"),
                                     ("gethostbyname2_r-inet", "server", "auth.localhost"),
                                     ("gethostbyname2_r-inet6", "localhost", "lit6.localhost")]:
            for size in ("8", "40"):
                with self.subTest(mode=mode, size=size):
                    b = self.base([self.c("ghbn"), "-b", size, mode, unmapped])
                    r = self.run_prog([self.c("ghbn"), "-b", size, mode, name], config=self.cfg)
                    self.assertEqual(b.out, "error h_errno=NETDB_INTERNAL rc=34\n", b.show())
                    self.assertEqual(r.out, b.out, r.show())
        # getnameinfo with a short host buffer: EAI_OVERFLOW, like libc
        b = self.base([self.c("gai"), "-f", "inet", "-t", "stream", "-n", "-N", "4", "server", "80"])
        self.assertIn("rc=EAI_OVERFLOW", b.out, b.show())
        for fam, name in (("inet", "auth.localhost"), ("inet6", "lit6.localhost")):
            with self.subTest(getnameinfo=fam):
                r = self.run_prog([self.c("gai"), "-f", fam, "-t", "stream", "-n", "-N", "4", name, "80"],
                                  config=self.cfg)
                ni = [l for l in r.lines if l.startswith("nameinfo")]
                self.assertTrue(ni, r.show())
                for l in ni:
                    self.assertTrue(l.endswith(" rc=EAI_OVERFLOW"), r.show())

    def test_nonblocking_connect_does_not_wait_on_dns(self):
        # slow.test is answered 1 s late; connect() must not be the one waiting
        cfg = self.rules("slow.localhost = slow.test:9000", "127.0.0.1:80 = slow.test:9000")
        r = self.get("slow.localhost", 80, "-n", "-T", "-k", "2", config=cfg)
        ms = [int(parse_kv(l)["connect_ms"]) for l in r.lines if l.startswith("connect_ms=")]
        self.assertEqual(len(ms), 2, r.show())
        self.assertLess(max(ms), 500, "connect() blocked (on DNS?)" + r.show())
        self.assertReached(r, DNSONLY)
        # an address rule's named target: resolved by the first lookup of any
        # name; a program whose very first call is that connect waits for it
        # there once (README), and never again
        r = self.get("127.0.0.1", 80, "-n", "-T", "-k", "3", config=cfg)
        ms = [int(parse_kv(l)["connect_ms"]) for l in r.lines if l.startswith("connect_ms=")]
        self.assertEqual(len(ms), 3, r.show())
        self.assertLess(max(ms[1:]), 500, "connect() blocked (on DNS?) after the first" + r.show())
        self.assertReached(r, DNSONLY)

    def test_v6_socket_to_v4_mapped_answer(self):
        # Java style: AF_INET6 socket, ::ffff:a.b.c.d address of an IPv4 answer
        r = self.get("auth.localhost", 80, "-6", "-f", "inet", config=self.cfg)
        self.assertTrue(any("addr=::ffff:127.88." in l for l in r.lines), r.show())
        self.assertReached(r, S9000, "auth.localhost")
        r = self.get("auth.localhost", 443, "-6", "-n", "-f", "inet", config=self.cfg)
        self.assertReached(r, S9443)

    def test_udp(self):
        want = "data=udp-listener=127.0.0.5:5353 got="
        for mode in ("connect-send", "connect-write", "sendto", "sendmsg"):
            for name, fam in [("udp.localhost", "inet"), ("udp.localhost", "unspec"),
                              ("127.0.0.1", "inet")]:
                with self.subTest(mode=mode, name=name, family=fam):
                    msg = f"{mode}-{fam}"
                    r = self.run_prog([self.c("udp"), "-f", fam, mode, name, "5353", msg], config=self.cfg)
                    self.assertEqual(r.rc, 0, r.show())
                    self.assertIn(want + msg, r.out, r.show())
