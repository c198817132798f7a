"""Integration tests: libraries loaded with RTLD_DEEPBIND (SPEC Behaviour 9)."""
from harness import *  # noqa: F401,F403


class Deepbind(Base):
    """issue 11 item 8: libraries loaded with RTLD_DEEPBIND (PHP's extensions)"""

    def setUp(self):
        super().setUp()
        self.cfg = self.rules("auth.localhost = server:9000", "auth.example.test = server:9000",
                              "127.0.0.1:80 = server:9000", "[::1]:80 = server:9000")

    def deep(self, mode, **kw):
        return self.run_prog([self.c("deepbind"), mode, os.path.join(BIN, "resolver_lib.so"),
                              os.path.join(BIN, "deepbind_lib.so"), "auth.localhost", "80"], **kw)

    @unittest.skipIf(bool(PREFIX), "ASan refuses RTLD_DEEPBIND (it aborts the program)")
    def test_deepbind_library_resolves_and_connects(self):
        for mode in ("lazy", "now"):
            with self.subTest(mode=mode):
                r = self.deep(mode, config=self.cfg)
                self.assertEqual(r.rc, 0, r.show())
                get = [l for l in r.lines if l.startswith("get ")]
                self.assertEqual(len(get), 1, r.show())
                self.assertTrue(is_syn(parse_kv(get[0]).get("addr", "")), r.show())
                body = parse_kv(get[0].split("body=", 1)[-1])
                self.assertEqual((body.get("listener"), body.get("host")), (S9000, "auth.localhost"), r.show())
                self.assertIn("back=auth.localhost", next(l for l in r.lines if l.startswith("hostbyname")),
                              r.show())

    @unittest.skipIf(bool(PREFIX), "ASan refuses RTLD_DEEPBIND (it aborts the program)")
    def test_deepbind_keeps_its_meaning(self):
        # the library's own definition of a name libc defines too still wins,
        # RTLD_NEXT from it still finds libc's, and dlerror reads as without us
        for mode in ("lazy", "now", "plain"):
            with self.subTest(mode=mode):
                r = self.deep(mode, config=self.cfg)
                b = self.deep(mode, lib=False)
                own = [l for l in r.lines if l.startswith(("own=", "missing ", "ok "))]
                self.assertEqual(own, [l for l in b.lines if l.startswith(("own=", "missing ", "ok "))],
                                 r.show() + b.show())
                kv = parse_kv(next(l for l in r.lines if l.startswith("own=")))
                want = "deepbind-own" if mode != "plain" else kv["next"]
                self.assertEqual(kv["own"], want, r.show())
                self.assertNotEqual(kv["next"], "deepbind-own", r.show())
                self.assertIn("ok dlerror=(null)", r.lines, r.show())

    @unittest.skipIf(bool(PREFIX), "ASan refuses RTLD_DEEPBIND (it aborts the program)")
    def test_deepbind_dlopen_before_our_constructor(self):
        lib = os.path.join(BIN, "deepbind_ctor_lib.so")
        r = self.run_prog([self.c("gai"), "-t", "stream", "auth.localhost", "80"], preload=[LIB, lib],
                          config=self.cfg, env={"DEEPBIND_LIB": os.path.join(BIN, "resolver_lib.so")})
        ctor = [l for l in r.lines if l.startswith("ctor: ")]
        self.assertEqual(len(ctor), 1, r.show())
        self.assertIn(f"body=listener={S9000} host=auth.localhost", ctor[0], r.show())

    PHP = ('$c = curl_init($argv[1]); curl_setopt($c, CURLOPT_RETURNTRANSFER, true);'
           'curl_setopt($c, CURLOPT_TIMEOUT, 10); $r = curl_exec($c);'
           'echo $r === false ? "error=" . curl_error($c) . "\\n" : "body=" . $r;')

    def php(self, url, **kw):
        return self.run_prog(["php", "-n", "-d", "extension=curl", "-r", self.PHP, url], **kw)

    @unittest.skipUnless(shutil.which("php"), "php not installed (Debian: php-cli php-curl)")
    def test_php_curl(self):
        probe = self.php("http://127.0.0.5:9000/", lib=False)
        if "body=" not in probe.out:
            self.skipTest("php's curl extension does not load" + probe.show())
        if PREFIX:
            self.skipTest("ASan refuses RTLD_DEEPBIND, which PHP loads its extensions with")
        # curl answers *.localhost itself (127.0.0.1 and ::1): address rules
        self.assertReached(self.php("http://auth.localhost/", lib=False), DECOY4, rc=None)
        self.assertReached(self.php("http://auth.localhost/", config=self.cfg), S9000, "auth.localhost")
        # any other name goes through getaddrinfo
        self.assertIn("error=", self.php("http://auth.example.test/", lib=False).out)
        self.assertReached(self.php("http://auth.example.test/", config=self.cfg), S9000, "auth.example.test")
