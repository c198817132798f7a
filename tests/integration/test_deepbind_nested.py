"""Integration tests: a RTLD_DEEPBIND library that opens another one with
RTLD_DEEPBIND (shim/hook_dlopen.c; SPEC Behaviour 9)."""
from harness import *  # noqa: F401,F403

PHP_FFI = r"""
$ffi = FFI::cdef("int resolver_get(const char *name, int port, char *out, size_t len);", $argv[1]);
$buf = FFI::new("char[2048]");
$rc = $ffi->resolver_get($argv[2], (int)$argv[3], $buf, 2048);
echo "get rc=$rc ", FFI::string($buf), "\n";
"""


class DeepbindNested(Base):
    """issue 14 item 7: PHP's FFI: ffi.so is loaded DEEPBIND, and
    FFI::cdef(..., "lib.so") opens lib.so through ffi.so's own dlopen"""

    def setUp(self):
        super().setUp()
        self.cfg = self.rules("auth.localhost = server:9000")

    @unittest.skipIf(bool(PREFIX), "ASan refuses RTLD_DEEPBIND (it aborts the program)")
    def test_c_stand_in(self):
        argv = [self.c("deepbind_nested"), os.path.join(BIN, "deepnest_lib.so"),
                os.path.join(BIN, "resolver_lib.so"), "auth.localhost", "80"]
        b = self.base(argv)
        if b.rc == 77:
            self.skipTest("no RTLD_DEEPBIND in this libc")
        self.assertReached(b, DECOY4, "auth.localhost")        # the trap: /etc/hosts
        r = self.run_prog(argv, config=self.cfg)
        self.assertReached(r, S9000, "auth.localhost")
        self.assertTrue(is_syn(parse_kv(r.out).get("addr", "")), r.show())

    def php(self, **kw):
        return self.run_prog(["php", "-n", "-d", "extension=ffi", "-d", "ffi.enable=1", "-r", PHP_FFI,
                              os.path.join(BIN, "resolver_lib.so"), "auth.localhost", "80"], **kw)

    @unittest.skipUnless(shutil.which("php"), "php not installed (Debian: php-cli)")
    def test_php_ffi(self):
        b = self.php(lib=False)
        if "get rc=" not in b.out:
            self.skipTest("PHP has no FFI here" + b.show())
        if PREFIX:
            self.skipTest("ASan refuses RTLD_DEEPBIND, which PHP loads its extensions with")
        self.assertReached(b, DECOY4, "auth.localhost")
        r = self.php(config=self.cfg)
        self.assertReached(r, S9000, "auth.localhost")
        self.assertTrue(is_syn(parse_kv(r.out).get("addr", "")), r.show())
