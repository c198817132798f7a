"""Integration tests: the check that steps aside for Go programs looks at
the main program only (shim/real.c real_program_is_go)."""
from harness import *  # noqa: F401,F403

GO_SRC = os.path.join(REPO, "tests", "clients", "go")
PY_CTYPES = r"""
import ctypes, socket, sys
lib = ctypes.CDLL(sys.argv[1], mode=ctypes.RTLD_GLOBAL)
print("go=%d" % lib.GoAnswer(), flush=True)
s = socket.create_connection(("auth.localhost", 80), timeout=5)
s.sendall(b"GET / HTTP/1.0\r\nHost: auth.localhost\r\n\r\n")
data = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
print("get body=%s" % data.split(b"\r\n\r\n", 1)[-1].decode().strip())
"""
GO_MAIN = r"""package main

// int seven(void) { return 7; }
import "C"
import (
	"fmt"
	"net"
)

func main() {
	fmt.Println("c", C.seven())
	_, err := net.Dial("tcp", "auth.localhost:80")
	fmt.Println("dial", err)
}
"""


class CgoCheck(Base):
    """issue 14 item 8: a C program linking a Go c-shared library, or Python
    that loaded one, is not a Go program: its libc connects are redirected;
    a Go main program (cgo) still steps aside"""

    built = {}

    def go_env(self):
        cache = os.path.join(BIN, "go-cache")
        return {**os.environ, "GOCACHE": cache, "GOPATH": os.path.join(cache, "path"), "GO111MODULE": "off",
                "GOFLAGS": "", "CGO_ENABLED": "1"}

    def build(self):
        """(libcshared.so, cgo_host, gomain), built once per run"""
        if not shutil.which("go"):
            self.skipTest("go not installed (Debian: golang-go)")
        if PREFIX:
            self.skipTest("a Go runtime under a preloaded ASan runtime is not what this checks")
        if not CgoCheck.built:
            out = os.path.join(BIN, "go")
            os.makedirs(out, exist_ok=True)
            lib, host, gomain = (os.path.join(out, n) for n in ("libcshared.so", "cgo_host", "gomain"))
            main_src = os.path.join(out, "gomain.go")
            with open(main_src, "w") as f:
                f.write(GO_MAIN)
            for cmd in (["go", "build", "-buildmode=c-shared", "-o", lib, os.path.join(GO_SRC, "cshared.go")],
                        ["cc", *CFLAGS, "-o", host, os.path.join(GO_SRC, "cgo_host.c"), "-L", out,
                         "-l:libcshared.so", "-Wl,-rpath," + out],
                        ["go", "build", "-o", gomain, main_src]):
                p = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=self.go_env(), cwd=out)
                self.assertEqual(p.returncode, 0, " ".join(cmd) + "\n" + p.stdout + p.stderr)
            CgoCheck.built.update(lib=lib, host=host, gomain=gomain)
        return CgoCheck.built

    def setUp(self):
        super().setUp()
        self.cfg = self.rules("auth.localhost = server:9000")

    def test_c_program_linking_a_go_library(self):
        b = self.build()
        # not under memcheck: the Go runtime in it is not ours to check
        base = self.base([b["host"], "auth.localhost", "80"], valgrind=False)
        self.assertReached(base, DECOY4, "auth.localhost")            # the trap: /etc/hosts
        r = self.run_prog([b["host"], "auth.localhost", "80"], config=self.cfg, valgrind=False)
        self.assertIn("go=42", r.lines, r.show())
        self.assertReached(r, S9000, "auth.localhost")
        self.assertFalse([l for l in r.shim_lines() if "Go program" in l], r.show())

    def test_python_that_loaded_a_go_library(self):
        b = self.build()
        r = self.run_prog(["python3", "-c", PY_CTYPES, b["lib"]], config=self.cfg)
        self.assertIn("go=42", r.lines, r.show())
        self.assertReached(r, S9000, "auth.localhost")
        self.assertFalse([l for l in r.shim_lines() if "Go program" in l], r.show())

    def test_go_main_program_still_steps_aside(self):
        b = self.build()
        # the cgo resolver: the Go program calls libc's getaddrinfo, which loads the rules
        r = self.run_prog([b["gomain"]], config=self.cfg, env={"GODEBUG": "netdns=cgo"}, valgrind=False)
        self.assertIn("c 7", r.lines, r.show())
        self.assertTrue([l for l in r.shim_lines() if "is a Go program" in l], r.show())
