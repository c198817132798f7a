"""Integration tests: real clients: Python, Node.js fetch/http, curl, TLS (SPEC Behaviour 1-3)."""
from harness import *  # noqa: F401,F403


class RealClients(Base):
    """3. Python, Node.js and curl under the library"""

    def setUp(self):
        super().setUp()
        self.cfg = self.rules("auth.localhost = server:9000", "auth.example.test = server:9000",
                              "refused.localhost = server:9999")

    def py(self, code, **kw):
        return self.run_prog([sys.executable, "-c", code], config=kw.pop("config", self.cfg), **kw)

    def node(self, code, *args, **kw):
        return self.run_prog(["node", "-e", code, *args], config=kw.pop("config", self.cfg), **kw)

    def last_request(self):
        items = [i for i in CTX["log"].items() if "host" in i]
        return items[-1] if items else None

    def test_python_create_connection(self):
        r = self.py(PY_CONNECT)
        self.assertReached(r, S9000, "auth.localhost")

    def test_python_urllib(self):
        r = self.py(PY_URLLIB)
        self.assertReached(r, S9000, "auth.localhost")
        self.assertEqual(self.last_request()["path"], "/u")

    def test_python_gethostbyname_ex_and_gethostbyaddr(self):
        r = self.py(PY_NAMES)
        self.assertEqual(r.rc, 0, r.show())
        ex = parse_kv(r.lines[0])
        self.assertEqual(ex["name"], "auth.localhost", r.show())
        addrs = ex["addrs"].split(",")
        for a in addrs:
            self.assertTrue(is_syn(a), r.show())
            self.assertIn(f"byaddr addr={a} name=auth.localhost", r.lines, r.show())

    @unittest.skipUnless(node_ok(), "node not installed")
    def test_node_fetch(self):
        r = self.node(NODE_FETCH, "http://auth.localhost/x")
        self.assertReached(r, S9000, "auth.localhost")
        req = self.last_request()
        self.assertEqual((req["listener"], req["host"], req["path"]), (S9000, "auth.localhost", "/x"))

    @unittest.skipUnless(node_ok(), "node not installed")
    def test_node_http_get(self):
        r = self.node(NODE_HTTP, "http://auth.localhost/h")
        self.assertReached(r, S9000, "auth.localhost")
        self.assertEqual(self.last_request()["path"], "/h")

    @unittest.skipUnless(node_ok(), "node not installed")
    def test_node_dns_lookup_family6_v4mapped(self):
        r = self.node(NODE_LOOKUP6)
        self.assertTrue(r.lines, r.show())
        kv = parse_kv(r.lines[0])
        self.assertEqual(kv.get("family"), "6", r.show())
        self.assertTrue(kv.get("addr", "").startswith("::ffff:") and is_syn(kv["addr"]), r.show())
        self.assertReached(r, S9000, "auth.localhost")

    def tls_rules(self):
        if not CTX["cert"]:
            self.skipTest("openssl not installed: no HTTPS listener")
        return self.rules("auth.localhost:443 = server:9444", "auth.example.test:443 = server:9444",
                          "127.0.0.1:443 = server:9444", "[::1]:443 = server:9444")

    def test_tls_sni_python(self):
        cfg = self.tls_rules()
        for name in TLS_NAMES:
            with self.subTest(name=name):
                r = self.run_prog([sys.executable, "-c", PY_TLS, name, CTX["cert"][0]], config=cfg)
                self.assertReached(r, STLS, name)
                self.assertIn(f" sni={name}", r.bodies()[0], r.show())

    @unittest.skipUnless(node_ok(), "node not installed")
    def test_tls_sni_node(self):
        cfg = self.tls_rules()
        r = self.run_prog(["node", "-e", NODE_HTTPS, "https://auth.localhost/t", CTX["cert"][0]], config=cfg)
        self.assertReached(r, STLS, "auth.localhost")
        self.assertIn(" sni=auth.localhost", r.bodies()[0], r.show())

    @unittest.skipUnless(shutil.which("curl"), "curl not installed")
    def test_tls_sni_curl(self):
        if prefix_blocks(["curl", "--version"]):
            self.skipTest(prefix_blocks(["curl", "--version"]))
        cfg = self.tls_rules()
        for name in TLS_NAMES:           # *.localhost via the address rules, the other via libc
            with self.subTest(name=name):
                r = self.run_prog(["curl", "-sS", "--noproxy", "*", "--max-time", "5", "--cacert", CTX["cert"][0],
                                   f"https://{name}/t"], config=cfg)
                self.assertEqual(r.rc, 0, r.show())
                kv = parse_kv(r.out)
                self.assertEqual((kv.get("listener"), kv.get("host"), kv.get("sni")), (STLS, name, name), r.show())

    @unittest.skipUnless(shutil.which("curl"), "curl not installed")
    def test_curl_localhost_address_rules(self):
        if prefix_blocks(["curl", "--version"]):
            self.skipTest(prefix_blocks(["curl", "--version"]))
        argv = ["curl", "-sS", "--noproxy", "*", "--max-time", "5", "http://auth.localhost/c"]
        base = self.base(argv)
        self.assertIn(parse_kv(base.out).get("listener"), (DECOY4, DECOY6),
                      "curl should answer *.localhost itself" + base.show())
        cfg = self.rules("127.0.0.1:80 = server:9000", "[::1]:80 = server:9000")
        r = self.run_prog(argv, config=cfg)
        self.assertEqual(r.rc, 0, r.show())
        self.assertEqual(parse_kv(r.out).get("listener"), S9000, r.show())
        self.assertEqual(parse_kv(r.out).get("host"), "auth.localhost", r.show())
        for fam in ("-4", "-6"):
            with self.subTest(family=fam):
                r = self.run_prog(argv[:1] + [fam] + argv[1:], config=cfg)
                self.assertEqual(parse_kv(r.out).get("listener"), S9000, r.show())

    @unittest.skipUnless(shutil.which("curl"), "curl not installed")
    def test_curl_resolver_name(self):
        if prefix_blocks(["curl", "--version"]):
            self.skipTest(prefix_blocks(["curl", "--version"]))
        argv = ["curl", "-sS", "--noproxy", "*", "--max-time", "5", "http://auth.example.test/e"]
        self.assertNotEqual(self.base(argv).rc, 0)      # unknown without the library
        r = self.run_prog(argv, config=self.cfg)
        self.assertEqual(r.rc, 0, r.show())
        self.assertEqual(parse_kv(r.out).get("listener"), S9000, r.show())
        req = self.last_request()
        self.assertEqual((req["host"], req["path"]), ("auth.example.test", "/e"), r.show())
