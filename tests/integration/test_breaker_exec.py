"""Breaker: the exec hook (core-misc, shim/hook_exec.c; SPEC Behaviour 5
and 17, issue 15 item 8) as programs really exec. Each case runs without
the library first: the hook must not change what the program gets,
beyond running it supervised. Client: tests/clients/brk_exec.c; a static
C program (not Go) built here with `cc -static`."""
import pwd
import stat

from harness import *  # noqa: F401,F403

SUPERVISOR = os.path.join(REPO, "build", "hostshim-supervise")
STATIC_C = r"""
#include <stdio.h>
#include <unistd.h>
int main(int argc, char **argv) {
    printf("static argv0=%s argc=%d euid=%d\n", argc ? argv[0] : "-", argc, (int)geteuid());
    return 0;
}
"""


class BreakerExec(Base):
    def setUp(self):
        super().setUp()
        if not os.path.exists(SUPERVISOR):
            self.skipTest("build/hostshim-supervise not built")
        src = os.path.join(self.tmp, "st.c")
        with open(src, "w") as f:
            f.write(STATIC_C)
        self.static = os.path.join(self.tmp, "st")
        p = subprocess.run(["cc", "-static", "-O1", "-o", self.static, src], capture_output=True, text=True)
        if p.returncode:
            self.skipTest("no static glibc (libc6-dev): " + p.stderr[-300:])
        self.path = self.rules("app.test = server:9000")
        self.env = {"HOSTSHIM_SUPERVISOR": SUPERVISOR}

    def both(self, argv, **kw):
        without = self.base(argv, **kw)
        with_lib = self.run_prog(argv, config=self.path, env=self.env, **kw)
        return with_lib, without

    def test_argv0_reaches_the_program(self):
        """busybox-style multi-call binaries, login shells (`-sh`) and
        `exec -a` read argv[0]: the supervised program must get the
        argv[0] it was exec'd with, not the path"""
        r, b = self.both([self.c("brk_exec"), "argv0", self.static, "-custom-name"])
        self.assertIn("static argv0=-custom-name argc=2", b.out, "the condition" + b.show())
        self.assertIn("static argv0=-custom-name argc=2", r.out,
                      "argv[0] was replaced by the path" + r.show())

    def test_exec_from_a_thread_with_a_small_stack(self):
        """execv from a thread with a PTHREAD_STACK_MIN (16 KiB) stack:
        the hook's stack buffers (ELF headers, section names, paths, the
        new argv) must not overflow it"""
        for prog in (self.static, "/bin/true"):
            with self.subTest(prog=prog):
                r, b = self.both([self.c("brk_exec"), "smallstack", prog])
                self.assertEqual(b.rc, 0, "the condition" + b.show())
                self.assertEqual(r.rc, 0, "exec from a small-stack thread crashed" + r.show())

    def as_nobody(self):
        """lib, supervisor, client and static program copied where nobody
        can read them; the setpriv prefix that runs as nobody"""
        nobody = pwd.getpwnam("nobody")
        d = tempfile.mkdtemp(prefix="brk-suid-")
        self.addCleanup(shutil.rmtree, d, True)
        os.chmod(d, 0o755)
        files = {}
        for name, src in (("lib.so", LIB), ("sup", SUPERVISOR), ("brk_exec", self.c("brk_exec")),
                          ("st", self.static)):
            files[name] = os.path.join(d, name)
            shutil.copy(src, files[name])
            os.chmod(files[name], 0o755)
        files["cfg"] = os.path.join(d, "shim.ini")
        shutil.copy(self.path, files["cfg"])
        os.chmod(files["cfg"], 0o644)
        drop = ["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups"]
        return files, drop

    def preloaded(self, files, *extra):
        # the ASan leg's runtime first (HOSTSHIM_TEST_PRELOAD_PREFIX)
        return ["env", "LD_PRELOAD=" + " ".join(PREFIX + [files["lib.so"]]), "HOSTSHIM_CONFIG=" + files["cfg"],
                "HOSTSHIM_SUPERVISOR=" + files["sup"], *extra]

    def test_setuid_static_program_keeps_its_privileges(self):
        """a non-root preloaded program execs a setuid-root static binary
        (busybox su/ping in minimal images, mount helpers): supervised, it
        runs under no_new_privs and loses its setuid; it must be left to
        the kernel (or at least keep its euid)"""
        files, drop = self.as_nobody()
        os.chmod(files["st"], 0o4755 | stat.S_IXUSR)
        argv = drop + [files["brk_exec"], "exec", files["st"]]
        b = self.run_prog(argv, lib=False)
        self.assertIn("euid=0", b.out, "the condition: setuid works without the library" + b.show())
        r = self.run_prog(drop + self.preloaded(files, files["brk_exec"], "exec", files["st"]),
                          lib=False)
        self.assertIn("euid=0", r.out, "the setuid program lost its privileges" + r.show())

    def test_execute_only_static_program_is_not_skipped_silently(self):
        """mode 0111 (exec allowed, read refused: hardened images): the
        hook can't read the ELF header, so the static program runs with no
        supervision and not a word even at info. It should run supervised
        (the supervisor can exec it) or say why not, once"""
        files, drop = self.as_nobody()
        os.chmod(files["st"], 0o111)
        r = self.run_prog(drop + self.preloaded(files, "HOSTSHIM_LOG=info", files["brk_exec"], "exec",
                                                files["st"]), lib=False)
        self.assertIn("static argv0=", r.out, r.show())
        self.assertIn(files["st"], r.err,
                      "an unreadable program ran unsupervised without a word" + r.show())
