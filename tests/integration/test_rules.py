"""Integration tests: rule forms and precedence (SPEC Configuration, rule semantics)."""
from harness import *  # noqa: F401,F403


# ---------------------------------------------------------------------------
class RuleForms(Base):
    """1. rule forms and precedence"""

    def test_exact_name(self):
        cfg = self.rules("auth.localhost = server:9000")
        base = self.base([self.c("http_get"), "auth.localhost", "80"])
        self.assertReached(base, DECOY4, "auth.localhost")       # the trap is armed
        self.assertReached(self.get("auth.localhost", 80, config=cfg), S9000, "auth.localhost")

    def test_case_insensitive_and_trailing_dot(self):
        cfg = self.rules("auth.localhost = server:9000", "MiXed.Localhost. = server:9001")
        for name, want in [("AUTH.Localhost.", S9000), ("auth.localhost.", S9000),
                           ("AUTH.LOCALHOST", S9000), ("mixed.localhost", S9001),
                           ("MIXED.localhost.", S9001)]:
            with self.subTest(name=name):
                self.assertReached(self.get(name, 80, config=cfg), want)

    def test_wildcard(self):
        cfg = self.rules("*.api.localhost = gateway:8080")
        for name in ["x.api.localhost", "a.b.api.localhost", "X.API.localhost."]:
            with self.subTest(name=name):
                self.assertReached(self.get(name, 80, config=cfg), GW, name)
        for name in ["api.localhost", "xapi.localhost"]:
            with self.subTest(name=name, mapped=False):
                argv = [self.c("gai"), "-t", "stream", name, "80"]
                self.assertSame(self.run_prog(argv, config=cfg), self.base(argv))

    def test_port_specific_key(self):
        lines = ["auth.localhost = server:9000", "auth.localhost:443 = server:9443"]
        for order in (lines, lines[::-1]):
            cfg = self.rules(*order)
            for port, want in [(443, S9443), (80, S9000), (8443, S9000)]:
                with self.subTest(order=order[0], port=port):
                    self.assertReached(self.get("auth.localhost", port, config=cfg), want)

    def test_host_only_target_keeps_port(self):
        cfg = self.rules("alias.localhost = server")
        for port, want in [(9001, S9001), (9000, S9000), (9443, S9443)]:
            with self.subTest(port=port):
                self.assertReached(self.get("alias.localhost", port, config=cfg), want)

    def test_target_from_etc_hosts_and_dns(self):
        cfg = self.rules("hosts.localhost = gateway:8080", "dnsalias.localhost = dns-only.test:9000")
        self.assertReached(self.get("hosts.localhost", 80, config=cfg), GW, "hosts.localhost")
        self.assertReached(self.get("dnsalias.localhost", 80, config=cfg), DNSONLY, "dnsalias.localhost")

    def test_target_literal_ipv4(self):
        cfg = self.rules("lit.localhost = 127.0.0.6:8080")
        self.assertReached(self.get("lit.localhost", 80, config=cfg), GW, "lit.localhost")

    def test_target_literal_ipv6(self):
        # an IPv6-only target must be reachable by a client that asks for
        # AF_INET6 and by one that asks AF_UNSPEC and tries the answers in order
        cfg = self.rules("lit6.localhost = [::1]:80")
        for opts in (["-f", "inet6"], ["-f", "inet6", "-n"], [], ["-F", "addrconfig"]):
            with self.subTest(opts=opts):
                self.assertReached(self.get("lit6.localhost", 443, *opts, config=cfg), DECOY6, "lit6.localhost")

    def test_address_rule_ipv4(self):
        cfg = self.rules("127.0.0.1:80 = server:9000")
        self.assertReached(self.base([self.c("http_get"), "127.0.0.1", "80"]), DECOY4)
        self.assertReached(self.get("127.0.0.1", 80, config=cfg), S9000, "127.0.0.1")
        self.assertReached(self.get("127.0.0.1", 80, "-n", config=cfg), S9000)
        # another port of the same address is not rewritten
        argv = [self.c("http_get"), "127.0.0.1", "81"]
        r = self.run_prog(argv, config=cfg)
        self.assertSame(r, self.base(argv))
        self.assertIn("errno=ECONNREFUSED", r.out)

    def test_address_rule_ipv6(self):
        cfg = self.rules("[::1]:80 = server:9000")
        self.assertReached(self.base([self.c("http_get"), "::1", "80"]), DECOY6)
        self.assertReached(self.get("::1", 80, config=cfg), S9000, "::1")
        self.assertReached(self.get("::1", 80, "-n", config=cfg), S9000)
        argv = [self.c("http_get"), "::1", "81"]
        self.assertSame(self.run_prog(argv, config=cfg), self.base(argv))
        # the IPv4 rule is separate: 127.0.0.1:80 still reaches the decoy
        self.assertReached(self.get("127.0.0.1", 80, config=cfg), DECOY4)

    def test_hostshim_map(self):
        for sep in (",", "\n", " , "):
            hmap = sep.join(["mapa.localhost = gateway:8080", "mapb.localhost=server:9001",
                             "127.0.0.1:80=server:9000"])
            with self.subTest(sep=sep):
                self.assertReached(self.get("mapa.localhost", 80, hmap=hmap), GW)
                self.assertReached(self.get("mapb.localhost", 80, hmap=hmap), S9001)
                self.assertReached(self.get("127.0.0.1", 80, hmap=hmap), S9000)

    def test_hostshim_map_overrides_file(self):
        cfg = self.rules("auth.localhost = server:9000", "other.localhost = server:9001")
        hmap = "auth.localhost = gateway:8080"
        r = self.get("auth.localhost", 80, config=cfg, hmap=hmap)
        self.assertReached(r, GW)
        self.assertEqual(r.shim_lines(), [], "an override is not an error" + r.show())
        self.assertReached(self.get("other.localhost", 80, config=cfg, hmap=hmap), S9001)

    def test_precedence_exact_and_wildcards(self):
        lines = ["a.b.prec.localhost = 127.0.0.7:9000", "*.b.prec.localhost = server:9001",
                 "*.prec.localhost = gateway:8080"]
        for order in (lines, lines[::-1], [lines[1], lines[0], lines[2]]):
            cfg = self.rules(*order)
            for name, want in [("a.b.prec.localhost", DNSONLY), ("c.b.prec.localhost", S9001),
                               ("x.a.b.prec.localhost", S9001), ("c.prec.localhost", GW),
                               ("b.prec.localhost", GW)]:
                with self.subTest(order=order[0], name=name):
                    self.assertReached(self.get(name, 80, config=cfg), want)

    def test_precedence_port_specific(self):
        lines = ["*.pp.localhost = gateway:8080", "*.pp.localhost:443 = server:9443",
                 "x.pp.localhost = server:9000", "x.pp.localhost:8443 = server:9001"]
        for order in (lines, lines[::-1]):
            cfg = self.rules(*order)
            for name, port, want in [("y.pp.localhost", 443, S9443), ("y.pp.localhost", 80, GW),
                                     ("x.pp.localhost", 8443, S9001), ("x.pp.localhost", 80, S9000)]:
                with self.subTest(order=order[0], name=name, port=port):
                    self.assertReached(self.get(name, port, config=cfg), want)


# ---------------------------------------------------------------------------
class Precision(Base):
    """4. unmapped names and addresses behave exactly as without the library"""

    def setUp(self):
        super().setUp()
        self.cfg = self.rules("auth.localhost = server:9000", "auth.localhost:443 = server:9443",
                              "*.api.localhost = gateway:8080", "alias.localhost = server",
                              "dnsalias.localhost = dns-only.test", "127.0.0.1:8888 = server:9000")

    def test_unmapped_getaddrinfo_identical(self):
        names = ["server", "gateway", "localhost", "dns-only.test", "nosuch.invalid", "api.localhost",
                 "127.0.0.1", "::1"]
        variants = [["-t", "stream"], ["-f", "inet", "-t", "0"], ["-f", "inet6", "-F", "v4mapped,all"],
                    ["-F", "canonname,addrconfig"], ["-f", "inet6"]]
        for name in names:
            for v in variants:
                for service in ("-", "http"):
                    with self.subTest(name=name, variant=" ".join(v), service=service):
                        argv = [self.c("gai"), *v, name, service]
                        self.assertSame(self.run_prog(argv, config=self.cfg), self.base(argv))

    def test_unmapped_gethostbyname_and_reverse_identical(self):
        for mode in ("gethostbyname", "gethostbyname2-inet6", "gethostbyname_r"):
            for name in ("server", "localhost", "dns-only.test", "nosuch.invalid"):
                with self.subTest(mode=mode, name=name):
                    argv = [self.c("ghbn"), "-r", mode, name]
                    self.assertSame(self.run_prog(argv, config=self.cfg), self.base(argv))
        argv = [self.c("gai"), "-t", "stream", "-n", "-r", "server", "80"]
        self.assertSame(self.run_prog(argv, config=self.cfg), self.base(argv))

    def test_target_host_and_other_port_unchanged(self):
        for name, port, want in [("server", 9000, S9000), ("server", 9001, S9001), ("127.0.0.5", 9443, S9443),
                                 ("dns-only.test", 9000, DNSONLY), ("gateway", 8080, GW)]:
            with self.subTest(name=name, port=port):
                argv = [self.c("http_get"), name, str(port)]
                r = self.run_prog(argv, config=self.cfg)
                self.assertReached(r, want, name)
                self.assertSame(r, self.base(argv))

    def test_decoy_via_unmapped_name(self):
        for name, opts in [("localhost", []), ("localhost", ["-f", "inet"]), ("127.0.0.1", []),
                           ("::1", [])]:
            with self.subTest(name=name, opts=opts):
                argv = [self.c("http_get"), *opts, name, "80"]
                r = self.run_prog(argv, config=self.cfg)
                self.assertIn(parse_kv(r.bodies()[0] if r.bodies() else "").get("listener"),
                              (DECOY4, DECOY6), r.show())
                self.assertSame(r, self.base(argv))
