"""Integration tests: what the library exports and links."""
from harness import *  # noqa: F401,F403


# ---------------------------------------------------------------------------
class LibraryShape(Base):
    """9. dependencies and exported symbols"""

    @unittest.skipIf(bool(PREFIX), "sanitizer run: the library under test links the sanitizer runtimes")
    def test_ldd_only_libc(self):
        out = subprocess.run(["ldd", LIB], capture_output=True, text=True, timeout=20).stdout
        deps = [l.split()[0] for l in out.splitlines() if l.strip()]
        # libdl.so.2: where dlsym lives on glibc before 2.34 (an empty stub since); make old-glibc
        allowed = re.compile(r"^(linux-vdso\.so\.1|linux-gate\.so\.1|libc\.so\.6|libdl\.so\.2|/.*/ld-linux[-\w.]*\.so\.\d)$")
        extra = [d for d in deps if not allowed.match(d)]
        self.assertEqual(extra, [], "unexpected dependencies:\n" + out)
        self.assertTrue(any(d == "libc.so.6" for d in deps), out)

    def test_exports_only_hooks(self):
        out = subprocess.run(["nm", "-D", "--defined-only", LIB], capture_output=True, text=True,
                             timeout=20).stdout
        names = {l.split()[-1].split("@")[0] for l in out.splitlines() if l.strip()}
        self.assertEqual(sorted(names - HOOKS), [], "exported beyond the hooks:\n" + out)
        self.assertEqual(sorted(HOOKS - names), [], "hooks not exported:\n" + out)

    def test_version_at_debug(self):
        """the release version (the file VERSION) once at debug, at the first load"""
        with open(os.path.join(REPO, "VERSION")) as f:
            want = "hostshim: libhostshim " + f.read().strip()
        r = self.run_prog([self.c("gai"), "version.test"], hmap="version.test=127.0.0.1:9", log="debug")
        lines = [l for l in r.err.splitlines() if l.startswith("hostshim: libhostshim ")]
        self.assertEqual(lines, [want], "the version line at debug" + r.show())
        r = self.run_prog([self.c("gai"), "version.test"], hmap="version.test=127.0.0.1:9", log="info")
        self.assertNotIn("libhostshim ", r.err, "the version line is for debug only" + r.show())
