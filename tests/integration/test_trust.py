"""Integration tests: the configuration file's trust rules for root (SPEC Errors)."""
from harness import *  # noqa: F401,F403


class Trust(Base):
    """issue 11 item 9: HOSTSHIM_STRICT's words, root trusting the file like
    sudoers, and setuid programs ignoring HOSTSHIM_*"""

    GAI = ["-f", "inet", "-t", "stream"]

    def addr(self, r):
        """the first answer's address, from gai's output"""
        return parse_kv(r.lines[1]).get("addr") if len(r.lines) > 1 else None

    def gai(self, name, **kw):
        return self.run_prog([self.c("gai"), *self.GAI, name, "80"], **kw)

    def test_strict_words(self):
        bad = self.rules("auth.localhost = server:9000", "p.localhost = server:70000")
        for word in ("1", "true", "yes", "on", "TRUE", "Yes", "ON"):
            with self.subTest(strict=word):
                r = self.gai("auth.localhost", config=bad, strict=word)
                self.assertEqual(r.rc, 2, r.show())
                self.assertIn("hostshim: strict mode: 1 configuration problem, exiting", r.err, r.show())
        for word in ("0", "false", "no", "off", "Off", ""):
            with self.subTest(strict=word):
                r = self.gai("auth.localhost", config=bad, strict=word)
                self.assertEqual(r.rc, 0, r.show())
                self.assertTrue(is_syn(self.addr(r)), r.show())
        # a word that is neither is a problem of its own, and strict mode is on
        r = self.gai("auth.localhost", config=self.rules("auth.localhost = server:9000"), strict="maybe")
        self.assertEqual(r.rc, 2, r.show())
        self.assertIn("hostshim: HOSTSHIM_STRICT: unknown value 'maybe'", r.err, r.show())
        # the variable overrides the file's strict, either way
        strict_file = self.ini("[shim]\nstrict = yes\n[map]\np.localhost = server:70000\n", "strict.ini")
        self.assertEqual(self.gai("auth.localhost", config=strict_file).rc, 2)
        r = self.gai("auth.localhost", config=strict_file, strict="no")
        self.assertEqual(r.rc, 0, r.show())

    def test_strict_bad_log_variable(self):
        good = self.rules("auth.localhost = server:9000")
        r = self.gai("auth.localhost", config=good, strict="on", log="loud")
        self.assertEqual(r.rc, 2, r.show())
        self.assertNotIn("gai rc", r.out, "the program ran" + r.show())
        self.assertEqual(r.shim_lines(), [
            "hostshim: HOSTSHIM_LOG: unknown level 'loud' (off, error, warn, info, debug)",
            "hostshim: strict mode: 1 configuration problem, exiting"], r.show())
        # every error is printed before the exit: the variable's and the file's
        bad = self.ini("[map]\np.localhost = server:70000\n", "bad.ini")
        r = self.gai("auth.localhost", config=bad, strict="true", log="loud")
        self.assertEqual(r.rc, 2, r.show())
        self.assertEqual(len(r.shim_lines()), 3, r.show())
        self.assertIn(f"hostshim: {bad}:2: port 70000 out of range", r.err, r.show())
        self.assertIn("strict mode: 2 configuration problems", r.err, r.show())
        # without strict mode: reported, and the program runs with its rules
        r = self.gai("auth.localhost", config=good, log="loud")
        self.assertEqual(r.rc, 0, r.show())
        self.assertTrue(is_syn(self.addr(r)), r.show())
        self.assertEqual(len(r.shim_lines()), 1, r.show())

    def assertRefused(self, path, why, hmap_name="other.localhost"):
        """path's rules are not taken, with one message naming it and why;
        HOSTSHIM_MAP still applies"""
        r = self.gai("auth.localhost", config=path, hmap=f"{hmap_name} = server:9000")
        self.assertEqual(r.out, self.base([self.c("gai"), *self.GAI, "auth.localhost", "80"]).out,
                         "rules were taken from an untrusted file" + r.show())
        lines = r.shim_lines()
        self.assertEqual(len(lines), 1, r.show())
        self.assertTrue(lines[0].startswith(f"hostshim: {path}: "), r.show())
        self.assertIn(why, lines[0], r.show())
        self.assertIn("running as root, so no rules from it", lines[0], r.show())
        self.assertTrue(is_syn(self.addr(self.gai(hmap_name, config=path, hmap=f"{hmap_name} = server:9000"))),
                        "HOSTSHIM_MAP was not applied beside a refused file")

    def test_root_trusts_file_like_sudoers(self):
        path = self.rules("auth.localhost = server:9000")
        self.assertTrue(is_syn(self.addr(self.gai("auth.localhost", config=path))))
        # owned by someone else, even 0644
        os.chown(path, NOBODY, NOBODY)
        self.assertRefused(path, f"owned by uid {NOBODY}, not root")
        os.chown(path, 0, NOBODY)
        self.assertTrue(is_syn(self.addr(self.gai("auth.localhost", config=path))))
        # its directory: owned by someone else, or writable by group or others
        os.chown(self.tmp, NOBODY, 0)
        self.assertRefused(path, f"directory {self.tmp}: owned by uid {NOBODY}")
        os.chown(self.tmp, 0, 0)
        for mode in (0o770, 0o777, 0o1777):
            with self.subTest(directory=oct(mode)):
                os.chmod(self.tmp, mode)
                self.assertRefused(path, f"directory {self.tmp}: writable by group or others")
        os.chmod(self.tmp, 0o700)
        # a symbolic link in a trusted directory to a file in an untrusted one
        bad_dir = os.path.join(self.tmp, "open")
        os.mkdir(bad_dir)
        os.chmod(bad_dir, 0o777)
        target = os.path.join(bad_dir, "shim.ini")
        shutil.copy(path, target)
        link = os.path.join(self.tmp, "link.ini")
        os.symlink(target, link)
        self.assertRefused(link, f"directory {bad_dir}: writable by group or others")
        self.assertTrue(is_syn(self.addr(self.gai("auth.localhost", config=path))))

    @unittest.skipUnless(shutil.which("setpriv"), "setpriv missing")
    def test_not_root_no_owner_rule(self):
        # an ordinary user's program reads the file it is given, as before,
        # here one owned by someone else in a directory others can write
        d = tempfile.mkdtemp(prefix="hostshim-trust-", dir="/tmp")
        self.addCleanup(shutil.rmtree, d, True)
        os.chmod(d, 0o777)
        path = os.path.join(d, "shim.ini")
        shutil.copy(self.rules("auth.localhost = server:9000"), path)
        os.chmod(path, 0o644)
        os.chown(path, 1, 1)
        # setpriv itself runs as root under the library: no file for it
        r = self.run_prog(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--",
                           "env", f"HOSTSHIM_CONFIG={path}", self.c("gai"), *self.GAI, "auth.localhost", "80"],
                          config="/dev/null")
        self.assertEqual(r.rc, 0, r.show())
        self.assertTrue(is_syn(self.addr(r)), r.show())

    # -- setuid programs under /etc/ld.so.preload -------------------------
    def private_etc(self, files):
        """a world-readable dir with an overlay for /etc: the current /etc/hosts
        and resolv.conf (the namespace's) plus FILES ({relative path: text});
        returns (dir, upper, work)"""
        d = tempfile.mkdtemp(prefix="hostshim-trust-", dir="/tmp")
        self.addCleanup(shutil.rmtree, d, True)
        os.chmod(d, 0o755)
        upper, work = os.path.join(d, "upper"), os.path.join(d, "work")
        os.mkdir(upper)
        os.mkdir(work)
        os.chmod(upper, 0o755)
        for name in ("hosts", "resolv.conf"):
            shutil.copy(os.path.join("/etc", name), os.path.join(upper, name))
            os.chmod(os.path.join(upper, name), 0o644)
        for rel, text in files.items():
            p = os.path.join(upper, rel)
            os.makedirs(os.path.dirname(p), mode=0o755, exist_ok=True)
            with open(p, "w") as f:
                f.write(text)
            os.chmod(p, 0o644)
        return d, upper, work

    # Every program started after the overlay gets the library: setpriv (as
    # root) and env see no HOSTSHIM_* variable but HOSTSHIM_CONFIG=/dev/null
    # (so they read no file and say nothing); env sets the test's variables.
    SCRIPT = ('set -e; mount -t overlay overlay -o "lowerdir=/etc,upperdir=$1,workdir=$2" /etc; shift 2; '
              'export HOSTSHIM_CONFIG=/dev/null; exec '
              f'setpriv --reuid={NOBODY} --regid={NOBODY} --clear-groups -- env -u HOSTSHIM_CONFIG "$@"')

    def as_nobody(self, upper, work, argv, env):
        """argv as nobody with env, in a private mount namespace whose /etc is
        the overlay"""
        assigns = [f"{k}={v}" for k, v in env.items()]
        return self.run_prog(["unshare", "-m", "--propagation", "private", "/bin/sh", "-c", self.SCRIPT, "sh",
                              upper, work, *assigns, *argv], lib=False)

    def setuid_copy(self, d, src, name, suid=True):
        dst = os.path.join(d, name)
        shutil.copy(src, dst)
        os.chown(dst, 0, 0)
        os.chmod(dst, 0o4755 if suid else 0o755)
        return dst

    @unittest.skipUnless(shutil.which("unshare") and shutil.which("setpriv"), "unshare or setpriv missing")
    def test_setuid_program_ignores_variables(self):
        preload = "\n".join(PREFIX + [LIB]) + "\n"
        d, upper, work = self.private_etc({"ld.so.preload": preload})
        # does setuid take effect here at all (no nosuid, no no_new_privs)?
        uid = self.as_nobody(upper, work, [self.setuid_copy(d, "/usr/bin/id", "id"), "-u"], {})
        if uid.rc != 0 or uid.out.strip() != "0":
            self.skipTest(f"a setuid-root program does not run as root here (id -u: {uid.out.strip()!r})")
        suid = self.setuid_copy(d, self.c("gai"), "gai-suid")
        plain = self.setuid_copy(d, self.c("gai"), "gai-plain", suid=False)
        env = {"HOSTSHIM_MAP": "auth.localhost = server:9000", "HOSTSHIM_LOG": "debug",
               "HOSTSHIM_CONFIG": self.rules("other.localhost = server:9000"), "HOSTSHIM_STRICT": "bogus"}
        args = [*self.GAI, "auth.localhost", "80"]
        # setuid: no variable counts (not MAP, CONFIG, LOG or STRICT): the
        # lookup answers as without the library
        r = self.as_nobody(upper, work, [suid, *args], env)
        self.assertEqual(self.addr(r), "127.0.0.1", "the caller's HOSTSHIM_MAP applied in a setuid program" + r.show())
        self.assertEqual((r.rc, r.err), (0, ""), r.show())
        self.assertEqual(r.out, self.run_prog([self.c("gai"), *args], lib=False).out, r.show())
        r = self.as_nobody(upper, work, [suid, *self.GAI, "other.localhost", "80"], env)
        self.assertEqual(r.rc, 1, "the caller's HOSTSHIM_CONFIG applied in a setuid program" + r.show())
        # not setuid, library from /etc/ld.so.preload: the variables count
        r = self.as_nobody(upper, work, [plain, *args], env)
        self.assertEqual(r.rc, 2, "HOSTSHIM_STRICT=bogus did not count" + r.show())
        env["HOSTSHIM_STRICT"] = "0"
        r = self.as_nobody(upper, work, [plain, *args], env)
        self.assertTrue(is_syn(self.addr(r)), "HOSTSHIM_MAP ignored in an ordinary program" + r.show())

    @unittest.skipUnless(shutil.which("unshare") and shutil.which("setpriv"), "unshare or setpriv missing")
    def test_setuid_program_default_file_under_trust_rules(self):
        preload = "\n".join(PREFIX + [LIB]) + "\n"
        d, upper, work = self.private_etc({"ld.so.preload": preload,
                                           "hostshim/shim.ini": "[map]\nother.localhost = server:9000\n"})
        suid = self.setuid_copy(d, self.c("gai"), "gai-suid")
        uid = self.as_nobody(upper, work, [self.setuid_copy(d, "/usr/bin/id", "id"), "-u"], {})
        if uid.out.strip() != "0":
            self.skipTest("a setuid-root program does not run as root here")
        env = {"HOSTSHIM_MAP": "auth.localhost = server:9000"}
        r = self.as_nobody(upper, work, [suid, *self.GAI, "other.localhost", "80"], env)
        self.assertTrue(is_syn(self.addr(r)), "the default file was not read" + r.show())
        # the default file owned by the caller: refused
        os.chown(os.path.join(upper, "hostshim", "shim.ini"), NOBODY, NOBODY)
        r = self.as_nobody(upper, work, [suid, *self.GAI, "other.localhost", "80"], env)
        self.assertEqual(r.rc, 1, r.show())
        self.assertEqual(r.shim_lines(), [f"hostshim: /etc/hostshim/shim.ini: owned by uid {NOBODY}, not root; "
                                          "running as root, so no rules from it (chown root)"], r.show())
