"""The exec hook (shim/hook_exec.c; SPEC Behaviour 17) beyond the breaker's
cases (test_breaker_exec.py): what the supervisor is handed, a long argv,
an environment too large for the hook's bounded stack, file capabilities.
A static C program (not Go) built here with `cc -static`."""
import pwd

from harness import *  # noqa: F401,F403

SUPERVISOR = os.path.join(REPO, "build", "hostshim-supervise")
STATIC_C = r"""
#include <stdio.h>
#include <string.h>
extern char **environ;
int main(int argc, char **argv) {
    printf("static argv0=%s argc=%d last=%s\n", argc ? argv[0] : "-", argc, argc ? argv[argc - 1] : "-");
    for (char **e = environ; *e; e++)
        if (!strncmp(*e, "HOSTSHIM_SUPERVISE", 18))
            printf("env %s\n", *e);
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "CapEff:", 7))
            printf("%s", line);
    return 0;
}
"""


class ExecHook(Base):
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
        self.env = {"HOSTSHIM_SUPERVISOR": SUPERVISOR, "HOSTSHIM_LOG": "info"}

    def test_long_argv_reaches_the_supervised_program_whole(self):
        """argv is handed to the supervisor as it is, however long: no
        copy on the hook's stack, argv[0] kept, and the variable naming
        the file to run is not left in the program's environment"""
        args = [str(i) for i in range(20000)]
        if not shutil.which("bash"):
            self.skipTest("no bash (exec -a)")
        r = self.run_prog(["bash", "-c", 'exec -a -login "$0" "$@"', self.static] + args,
                          config=self.path, env=self.env)
        self.assertIn("running it supervised", r.err, r.show())
        self.assertIn("static argv0=-login argc=20001 last=19999", r.out, r.show())
        self.assertNotIn("HOSTSHIM_SUPERVISE_FILE", r.out, "the supervisor's variable leaked" + r.show())

    def test_environment_too_large_for_the_hook_runs_the_program_unsupervised(self):
        """an environment past the hook's bounded room: a warning, and the
        program runs as it is (no crash, no truncated environment)"""
        env = dict(self.env)
        env.update({f"HS_PAD_{i}": "x" for i in range(1000)})
        r = self.run_prog([self.c("brk_exec"), "exec", self.static], config=self.path, env=env)
        self.assertEqual(r.rc, 0, r.show())
        self.assertIn("static argv0=", r.out, r.show())
        self.assertIn("environment is too large", r.err, r.show())
        # and from a 16 KiB thread too
        r = self.run_prog([self.c("brk_exec"), "smallstack", self.static], config=self.path, env=env)
        self.assertEqual(r.rc, 0, r.show())

    def test_static_program_with_file_capabilities_keeps_them(self):
        """`setcap cap_net_bind_service+ep` on a static or Go server run by
        a non-root user: supervised (no_new_privs) it would lose the
        capability; it is left to the kernel, said at info"""
        if not shutil.which("setcap"):
            self.skipTest("no setcap (libcap2-bin)")
        nobody = pwd.getpwnam("nobody")
        d = tempfile.mkdtemp(prefix="hs-exec-caps-")
        self.addCleanup(shutil.rmtree, d, True)
        os.chmod(d, 0o755)
        files = {}
        for name, src in (("lib.so", LIB), ("sup", SUPERVISOR), ("brk_exec", self.c("brk_exec")),
                          ("st", self.static), ("shim.ini", self.path)):
            files[name] = os.path.join(d, name)
            shutil.copy(src, files[name])
            os.chmod(files[name], 0o755)
        p = subprocess.run(["setcap", "cap_net_bind_service+ep", files["st"]], capture_output=True, text=True)
        if p.returncode:
            self.skipTest("setcap refused here: " + p.stderr)
        drop = ["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups"]
        b = self.run_prog(drop + [files["brk_exec"], "exec", files["st"]], lib=False)
        self.assertRegex(b.out, r"CapEff:\s*0*400\n", "the condition: the capability without the library" + b.show())
        r = self.run_prog(drop + ["env", "LD_PRELOAD=" + " ".join(PREFIX + [files["lib.so"]]), "HOSTSHIM_CONFIG=" + files["shim.ini"],
                                  "HOSTSHIM_SUPERVISOR=" + files["sup"], "HOSTSHIM_LOG=info",
                                  files["brk_exec"], "exec", files["st"]], lib=False)
        self.assertRegex(r.out, r"CapEff:\s*0*400\n", "the file capability was lost" + r.show())
        self.assertIn(files["st"] + " is statically linked but setuid, setgid or with file capabilities", r.err,
                      r.show())

    @unittest.skipIf(bool(PREFIX), "ASan refuses RTLD_DEEPBIND (it aborts the program)")
    def test_exec_and_spawn_from_a_deepbind_library(self):
        """a PHP extension (RTLD_DEEPBIND) that runs a static program: its
        execv and posix_spawn bind to libc first; the DEEPBIND rebinding
        (hook_dlopen.c's list) must cover the exec hooks too"""
        lib = os.path.join(BIN, "deep_exec_lib.so")
        for how in ("spawn", "exec"):
            for scope in ("plain", "deep"):
                with self.subTest(how=how, scope=scope):
                    r = self.run_prog([self.c("deep_exec"), lib, scope, how, self.static],
                                      config=self.path, env=self.env)
                    if r.rc == 77:
                        self.skipTest("no RTLD_DEEPBIND")
                    self.assertIn("static argv0=" + self.static, r.out, r.show())
                    self.assertIn(self.static + " is statically linked: running it supervised", r.err,
                                  f"{how} from a {scope} library not supervised" + r.show())
