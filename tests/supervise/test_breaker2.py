#!/usr/bin/env python3
"""Breaker 2's findings on supervised mode (issue 15, SPEC Behaviour 16):
each test builds a condition a real program or container meets and checks
what must hold, without and with `hostshim --supervise`.

Run as root: `python3 tests/supervise/test_breaker2.py [TEST...]
[--skip=TEST,...]` (`make supervise-test` skips the open defects). It
re-runs itself in a network namespace of its own (tests/in-netns.sh,
named hostshim-brk2-PID). Inside: /etc/hosts server=127.0.0.5; a DNS
responder on 127.0.0.53 (upstream.test = 127.0.0.7, else NXDOMAIN).
Prints one line per check and "N passed, M failed"; exit 1 on any failure.
Everything started is stopped and the temp directory removed.
"""
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
sys.dont_write_bytecode = True

LAUNCHER = os.path.join(REPO, "build", "hostshim")
LIB = os.path.abspath(os.path.join(REPO, os.environ.get("HOSTSHIM_TEST_LIB", "build/libhostshim.so")))
BUSYBOX = shutil.which("busybox") or "/bin/busybox"
SUPERVISOR = os.path.abspath(os.path.join(REPO, os.environ.get("HOSTSHIM_SUPERVISOR",
                                                               "build/hostshim-supervise")))
os.environ["HOSTSHIM_SUPERVISOR"] = SUPERVISOR
HOSTS = "127.0.0.1 localhost\n127.0.0.5 server"
RULES = "app.test = server:9000"
DOCKER_CAPS = ("chown,dac_override,fowner,fsetid,kill,setgid,setuid,setpcap,net_bind_service,"
               "net_raw,sys_chroot,mknod,audit_write,setfcap")

RESULTS = []
BIN = {}
TMP = None
TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def check(what, ok, detail=""):
    RESULTS.append(bool(ok))
    print(("ok    " if ok else "FAIL  ") + what, flush=True)
    if not ok and detail:
        print("\n".join("    | " + l for l in str(detail)[-3000:].splitlines()), flush=True)


def docker_caps(nobody=False):
    """a prefix: Docker's default capabilities (root), or USER nobody"""
    argv = ["setpriv"]
    if nobody:
        argv += ["--reuid=65534", "--regid=65534", "--clear-groups"]
    caps = ",".join("+" + c for c in DOCKER_CAPS.split(","))
    return argv + ["--inh-caps=-all", "--bounding-set=-all," + caps, "--"]


def supervised(argv, log=None):
    return [LAUNCHER, "--supervise", "-m", RULES] + (["-l", log] if log else []) + ["--"] + argv


def build():
    clients = os.path.join(HERE, "clients")
    for name in ("brk2_sigs", "brk2_exec", "restrict"):
        out = os.path.join(TMP, name)
        p = subprocess.run(["cc", "-std=gnu11", "-O1", "-Wall", "-Wextra", "-Werror", "-o", out,
                            os.path.join(clients, name + ".c")], capture_output=True, text=True)
        if p.returncode:
            print(f"building {name} failed:\n{p.stderr}")
            continue
        BIN[name] = out


def start(argv):
    """argv started, its "ready" line read"""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         stdin=subprocess.DEVNULL)
    line = p.stdout.readline()
    if line.strip() != "ready":
        p.kill()
        p.wait()
        raise RuntimeError(f"no ready line: {line!r}")
    time.sleep(0.3)   # handlers in place in COMMAND, the supervisor in its loop
    return p


def finish(p, timeout=20):
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    return p.returncode, out.strip(), err.strip()


# ---- signals ----------------------------------------------------------------


@test
def repeated_signal_from_a_script():
    """`kill -USR1 $pid; sleep 0.03; kill -USR1 $pid` (a log-rotate script,
    two reloads in a row): the program is asked twice and must hear twice.
    The supervisor's 100 ms de-duplication forwards one."""
    script = 'kill -USR1 "$1"; sleep 0.03; kill -USR1 "$1"; sleep 0.03; kill -HUP "$1"; sleep 0.03; kill -HUP "$1"'
    for label, argv in (("without", [BIN["brk2_sigs"], "3"]),
                        ("supervised", supervised([BIN["brk2_sigs"], "3"]))):
        p = start(argv)
        subprocess.run(["sh", "-c", script, "sh", str(p.pid)], timeout=10)
        rc, out, err = finish(p)
        check(f"{label}: two SIGUSR1 and two SIGHUP, 30 ms apart, from one shell, all reach the program",
              rc == 0 and out.startswith("usr1 2 hup 2 "), f"exit {rc}\nstdout: {out}\nstderr: {err}")


@test
def other_signals_to_the_launchers_pid():
    """`hostshim -- COMMAND` promises COMMAND's signals: SIGALRM, a
    real-time signal (with a value, sigqueue) and SIGTSTP sent to the PID
    a parent knows must reach the program it handles them in, and never
    kill it."""
    rt = signal.SIGRTMIN + 1
    for label, argv in (("without", [BIN["brk2_sigs"], "3"]),
                        ("supervised", supervised([BIN["brk2_sigs"], "3"]))):
        p = start(argv)
        os.kill(p.pid, signal.SIGALRM)
        time.sleep(0.2)
        os.kill(p.pid, rt)
        time.sleep(0.2)
        # sigqueue(2) with value 42 (Python has no wrapper: /usr/bin/kill -q)
        subprocess.run(["/usr/bin/kill", "-s", str(int(rt)), "-q", "42", str(p.pid)], timeout=10)
        time.sleep(0.2)
        os.kill(p.pid, signal.SIGTSTP)
        rc, out, err = finish(p)
        os.kill(p.pid, signal.SIGCONT) if p.returncode is None else None
        check(f"{label}: SIGALRM, SIGRTMIN+1 (twice, once with value 42) and SIGTSTP reach the program",
              rc == 0 and out == "usr1 0 hup 0 alrm 1 tstp 1 rt 2 rtval 42",
              f"exit {rc}\nstdout: {out}\nstderr: {err}")


@test
def other_signals_as_pid_1():
    """The same as a container's PID 1 (`docker kill -s ALRM`, `docker kill
    -s SIGRTMIN+1`: sent from outside the PID namespace). A PID 1 without
    a handler for a signal never gets it, so the supervisor drops it and
    COMMAND, which handles it, never hears of it. SIGUSR1 (forwarded)
    shows the path works."""
    rt = int(signal.SIGRTMIN + 1)
    for label, argv in (("without", [BIN["brk2_sigs"], "3"]),
                        ("supervised", supervised([BIN["brk2_sigs"], "3"]))):
        p = start(["unshare", "-pf", "--kill-child"] + argv)
        with open(f"/proc/{p.pid}/task/{p.pid}/children") as f:
            pid1 = int(f.read().split()[0])   # PID 1 inside, seen from here
        for sig in (signal.SIGUSR1, signal.SIGALRM, rt):
            os.kill(pid1, sig)
            time.sleep(0.2)
        rc, out, err = finish(p)
        check(f"{label}, as PID 1: SIGUSR1, SIGALRM and SIGRTMIN+1 from outside reach the program",
              rc == 0 and out.startswith("usr1 1 hup 0 alrm 1 tstp 0 rt 1"),
              f"exit {rc}\nstdout: {out}\nstderr: {err}")


def processes_with(marker):
    """PIDs whose command line holds marker"""
    found = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    if marker.encode() in f.read():
                        found.append(int(d))
            except OSError:
                pass
    return found


@test
def timeout_ends_the_whole_job():
    """`timeout 1 COMMAND` where COMMAND is a script that started a worker
    (`sleep ... & wait`): timeout signals its child and then its own
    process group, so without hostshim the worker dies too. The supervisor
    puts COMMAND in a group of its own and forwards to COMMAND alone: the
    worker is never signalled and runs on after timeout has returned 124
    (the same for `kill -- -PGID` from a harness or a job-control shell).
    Must: every process of COMMAND's group gets the signal, as without
    hostshim (tini's -g)."""
    marker = "31.4159"
    for label, argv in (("without", ["sh", "-c", f"sleep {marker} & wait"]),
                        ("supervised", supervised(["sh", "-c", f"sleep {marker} & wait"]))):
        # no pipes: a worker left holding them would make run() wait for it
        p = subprocess.run(["timeout", "1"] + argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=60)
        time.sleep(1)
        left = processes_with("sleep\0" + marker)
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        check(f"{label}: timeout 1 ends the worker COMMAND started (exit 124, no process left)",
              p.returncode == 124 and not left, f"exit {p.returncode}; left running: {left}")


def on_a_terminal(cmd, ctrl_c_after=1.5, limit=20):
    """bash -c cmd on a pty of its own (its session's foreground job, as
    a script run from an interactive shell is); Ctrl-C typed after
    ctrl_c_after seconds. Returns (wait status, what the terminal showed)."""
    import pty
    import select
    pid, fd = pty.fork()
    if pid == 0:
        try:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.execvp("bash", ["bash", "--norc", "--noprofile", "-c", cmd])
        finally:
            os._exit(127)
    out, t, sent = b"", time.monotonic(), False
    try:
        while time.monotonic() - t < limit:
            if not sent and time.monotonic() - t > ctrl_c_after:
                os.write(fd, b"\x03")
                sent = True
            r, _, _ = select.select([fd], [], [], 0.1)
            if r:
                try:
                    d = os.read(fd, 1000)
                except OSError:
                    break
                if not d:
                    break
                out += d
    finally:
        done, st = os.waitpid(pid, os.WNOHANG)
        if not done:
            os.killpg(pid, signal.SIGKILL)
            _, st = os.waitpid(pid, 0)
        os.close(fd)
    return st, out.decode(errors="replace")


@test
def ctrl_c_stops_the_script_too():
    """A script run on a terminal (make, a for loop, a test runner) runs
    COMMAND under hostshim; the user types Ctrl-C. Without hostshim the
    terminal's SIGINT reaches the whole foreground job, the script
    included, and it stops. The supervisor makes COMMAND's own group the
    terminal's foreground even though it was not started by a job-control
    shell: Ctrl-C reaches COMMAND alone and the script carries on with
    its next command. Must: the script stops, as without hostshim."""
    loop = "for i in 1 2 3; do {} sleep 4; echo next $i; done; echo end"
    sup = " ".join(shlex.quote(a) for a in supervised([]))
    for label, cmd in (("without", loop.format("")), ("supervised", loop.format(sup))):
        st, shown = on_a_terminal(cmd)
        check(f"{label}: Ctrl-C during the first COMMAND stops the whole loop",
              "next" not in shown and "end" not in shown, f"wait status {st}; terminal: {shown!r}")


@test
def stopped_and_continued_without_a_terminal():
    """A process manager pauses COMMAND with SIGTSTP and resumes it with
    SIGCONT, both to COMMAND's own PID, no terminal involved. The
    supervisor sees COMMAND stop and stops itself (SIGSTOP), and nothing
    ever continues it: COMMAND runs again, and its next connect waits
    forever on a supervisor that is stopped. Must: COMMAND, continued,
    goes on as without the supervisor."""
    prog = ("import os, signal, socket, sys\n"
            "print(os.getpid(), flush=True)\n"
            "os.kill(os.getpid(), signal.SIGTSTP)\n"
            "s = socket.socket()\n"
            "print('connect:', s.connect_ex(('127.0.0.1', 1)), flush=True)\n")
    for label, argv in (("without", ["python3", "-c", prog]),
                        ("supervised", supervised(["python3", "-c", prog]))):
        # a group of its own whose parent (we) is in another group of the
        # session: not orphaned, so SIGTSTP stops it (in an orphaned
        # group the kernel discards SIGTSTP and the "without" leg tests
        # nothing)
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             stdin=subprocess.DEVNULL, process_group=0)
        pid = int(p.stdout.readline())
        time.sleep(1)
        os.kill(pid, signal.SIGCONT)
        try:
            out, err = p.communicate(timeout=10)
            rc = p.returncode
        except subprocess.TimeoutExpired:
            os.kill(p.pid, signal.SIGCONT)
            p.kill()
            out, err = p.communicate()
            rc = "none after 10 s (killed)"
        check(f"{label}: COMMAND stopped by SIGTSTP, continued by SIGCONT to its PID, connects and ends",
              rc == 0 and "connect: 111" in out, f"exit {rc}\nstdout: {out}\nstderr: {err}")


@test
def daemonized_child_after_command_exits():
    """COMMAND starts a server in the background and exits (a start
    script, `redis-server --daemonize yes`, `php-fpm -D`, nginx without
    `daemon off`). Under the preload the server keeps its redirects; under
    the supervisor, once COMMAND has exited the guard lets every call of
    what is left through unchanged, so the server's lookups of mapped
    names fail. Must: what COMMAND started stays covered while it runs
    (e.g. the supervisor stays while the filter has users), or the
    launcher says so when it happens."""
    out = os.path.join(TMP, "daemon.out")
    script = f'(sleep 1; python3 -c "$0" app.test >{out} 2>&1) </dev/null >/dev/null 2>&1 & exit 0'
    for label, argv in (("preloaded", [LAUNCHER, "-m", RULES, "--", "sh", "-c", script, LOOKUP]),
                        ("supervised", supervised(["sh", "-c", script, LOOKUP]))):
        if os.path.exists(out):
            os.unlink(out)
        p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        for _ in range(100):
            time.sleep(0.1)
            if os.path.exists(out) and os.path.getsize(out):
                break
        time.sleep(0.2)
        got = open(out).read() if os.path.exists(out) else ""
        check(f"{label}: a server left running by COMMAND resolves app.test to its synthetic address",
              "app.test 1 127.88." in got, f"exit {p.returncode}\nserver printed: {got}stderr: {p.stderr}")


# ---- privileges ---------------------------------------------------------------


def setuid_check(label, inner):
    suid = os.path.join(TMP, "suid-id")
    shutil.copy("/usr/bin/id", suid)
    os.chmod(suid, 0o4755)
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"] + inner(suid)
    plain = subprocess.run(docker_caps() + nobody, capture_output=True, text=True, timeout=30)
    sup = subprocess.run(docker_caps() + supervised(nobody), capture_output=True, text=True, timeout=30)
    check(f"without ({label}): a setuid-root program run by nobody has euid 0 (Docker's capabilities)",
          plain.stdout.strip() == "0", f"{plain.stdout}{plain.stderr}")
    told = "no_new_privs" in sup.stderr or "setuid" in sup.stderr
    check(f"supervised ({label}, Docker's capabilities): the setuid program keeps euid 0, or a "
          "default-level line says it won't",
          sup.stdout.strip() == "0" or told, f"stdout: {sup.stdout}stderr: {sup.stderr}")


@test
def setuid_program_in_the_tree():
    """Docker grants no CAP_SYS_ADMIN, so the supervisor sets no_new_privs
    before its filter: every setuid (and file-capability) program in
    COMMAND's tree then runs without its privileges (sudo, su, ping, a
    setuid helper), where the same container without hostshim has them.
    Must hold: it works, or the user is told (default level), not a silent
    change. Here a shell run as nobody runs it."""
    setuid_check("from a shell", lambda suid: ["sh", "-c", f"{suid} -u"])


@test
def setuid_exec_right_after_a_user_switch():
    """The same, exec'd straight by setpriv after its switch to nobody:
    that caller is not dumpable, so the supervisor (without
    CAP_SYS_PTRACE) can't read what it execs (docs/supervised.md)."""
    setuid_check("exec'd by setpriv itself", lambda suid: [suid, "-u"])


# ---- DNS ------------------------------------------------------------------------


class BigDns:
    """On 127.0.0.53:53, UDP: big.test answered truncated (TC, no
    records), small.test with one A record, the rest NXDOMAIN; TCP:
    big.test with 40 A records (127.0.1.1-40), as a scaled service or a
    long TXT/SRV answer does."""

    def __init__(self):
        import socket
        import threading
        self.u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.u.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.u.bind(("127.0.0.53", 53))
        self.t = socket.socket()
        self.t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.t.bind(("127.0.0.53", 53))
        self.t.listen(16)
        self.tcp_queries = 0
        for fn in (self.udp, self.tcp):
            threading.Thread(target=fn, daemon=True).start()

    @staticmethod
    def reply(q, tcp):
        import struct
        off = 12
        labels = []
        while q[off]:
            labels.append(q[off + 1:off + 1 + q[off]].decode().lower())
            off += 1 + q[off]
        off += 5
        name = ".".join(labels)
        qtype = struct.unpack("!H", q[off - 4:off - 2])[0]
        flags, recs = 0x8180, b""
        n = 0
        if name == "big.test" and qtype == 1 and not tcp:
            flags |= 0x0200                       # TC
        elif name == "big.test" and qtype == 1:
            n = 40
            recs = b"".join(struct.pack("!HHHIH4B", 0xC00C, 1, 1, 60, 4, 127, 0, 1, i + 1) for i in range(n))
        elif name == "small.test" and qtype == 1:
            n = 1
            recs = struct.pack("!HHHIH4B", 0xC00C, 1, 1, 60, 4, 127, 0, 2, 1)
        elif name not in ("big.test", "small.test"):
            flags |= 3
        return q[:2] + struct.pack("!HHHHH", flags, 1, n, 0, 0) + q[12:off] + recs

    def udp(self):
        while True:
            try:
                q, peer = self.u.recvfrom(4096)
                self.u.sendto(self.reply(q, False), peer)
            except OSError:
                return
            except Exception:
                pass

    def tcp(self):
        import struct
        while True:
            try:
                c, _ = self.t.accept()
            except OSError:
                return
            try:
                c.settimeout(3)
                while True:
                    hdr = c.recv(2, 0x100)
                    if len(hdr) < 2:
                        break
                    q = c.recv(struct.unpack("!H", hdr)[0], 0x100)
                    self.tcp_queries += 1
                    r = self.reply(q, True)
                    c.sendall(struct.pack("!H", len(r)) + r)
            except Exception:
                pass
            finally:
                c.close()

    def stop(self):
        self.u.close()
        self.t.close()


LOOKUP = ("import socket, sys\n"
          "for n in sys.argv[1:]:\n"
          "    try:\n"
          "        a = {i[4][0] for i in socket.getaddrinfo(n, 80, socket.AF_INET, socket.SOCK_STREAM)}\n"
          "        print(n, len(a), min(a))\n"
          "    except OSError as e:\n"
          "        print(n, 'error', e)\n")


def with_resolv_conf(text, argv):
    """argv in a mount namespace of its own where /etc/resolv.conf holds text"""
    rc = os.path.join(TMP, "resolv.conf")
    with open(rc, "w") as f:
        f.write(text)
    return ["unshare", "-m", "sh", "-c", 'mount --bind "$0" /etc/resolv.conf && exec "$@"', rc] + argv


@test
def truncated_answer_tcp_fallback():
    """An unmapped name whose answer is too big for UDP: the nameserver
    sets TC, glibc asks again over TCP and gets 40 addresses. Also a
    mapped name after it, over the same resolver."""
    DNS_SERVER.stop()
    big = BigDns()
    try:
        conf = "nameserver 127.0.0.53\noptions timeout:2 attempts:1\n"
        names = ["big.test", "small.test", "app.test"]
        plain = subprocess.run(with_resolv_conf(conf, ["python3", "-c", LOOKUP] + names),
                               capture_output=True, text=True, timeout=60)
        sup = subprocess.run(with_resolv_conf(conf, supervised(["python3", "-c", LOOKUP] + names)),
                             capture_output=True, text=True, timeout=60)
    finally:
        big.stop()
        restart_dns()
    check("without: big.test over TCP after TC: 40 addresses",
          "big.test 40 127.0.1.1" in plain.stdout, plain.stdout + plain.stderr)
    check("supervised: big.test over TCP after TC: 40 addresses; small.test 127.0.2.1; app.test synthetic",
          "big.test 40 127.0.1.1" in sup.stdout and "small.test 1 127.0.2.1" in sup.stdout
          and "app.test 1 127.88." in sup.stdout, f"exit {sup.returncode}\nstdout: {sup.stdout}stderr: {sup.stderr}")


@test
def second_nameserver():
    """resolv.conf lists a first nameserver that is down (nothing listens:
    port unreachable) and a second that answers, as after a failover or
    in a host with two resolvers: glibc moves on to the second. Mapped
    names must still get their synthetic address, others the second
    nameserver's answer."""
    conf = "nameserver 127.0.0.54\nnameserver 127.0.0.53\noptions timeout:1 attempts:1\n"
    names = ["upstream.test", "app.test"]
    plain = subprocess.run(with_resolv_conf(conf, ["python3", "-c", LOOKUP] + names),
                           capture_output=True, text=True, timeout=60)
    sup = subprocess.run(with_resolv_conf(conf, supervised(["python3", "-c", LOOKUP] + names, log="info")),
                         capture_output=True, text=True, timeout=60)
    check("without: upstream.test answered by the second nameserver",
          "upstream.test 1 127.0.0.7" in plain.stdout, plain.stdout + plain.stderr)
    check("supervised: upstream.test from the second nameserver, app.test synthetic",
          "upstream.test 1 127.0.0.7" in sup.stdout and "app.test 1 127.88." in sup.stdout,
          f"exit {sup.returncode}\nstdout: {sup.stdout}stderr: {sup.stderr}")


# ---- the library's exec hook (SPEC Behaviour 17; branch fix-misc) -------------


def preloaded(argv, **extra):
    e = {"PATH": "/usr/bin:/bin", "LANG": "C", "LD_PRELOAD": LIB, "HOSTSHIM_MAP": RULES.replace(" ", ""),
         "HOSTSHIM_SUPERVISOR": SUPERVISOR, "HOSTSHIM_LOG": "info"}
    e.update(extra)
    return subprocess.run(argv, env=e, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


SHOW = 'echo "parent=$(cat /proc/$PPID/comm) supervised=${HOSTSHIM_SUPERVISED:-no}"'


@test
def exec_through_proc_self_fd():
    """A preloaded launcher runs a static program it holds open with
    O_CLOEXEC through execv("/proc/self/fd/N") (systemd, runc): the kernel
    opens the path before closing the fd, so it runs. Handed to the
    supervisor as HOSTSHIM_SUPERVISE_FILE=/proc/self/fd/N, the fd is gone
    by the time the supervisor looks."""
    if not os.path.exists(BUSYBOX):
        return check("busybox (static) installed", False)
    p = preloaded([BIN["brk2_exec"], "procfd", BUSYBOX, "sh", "-c", SHOW])
    check("execv(/proc/self/fd/N) of a static program under LD_PRELOAD runs it (exit 0)",
          p.returncode == 0 and "parent=" in p.stdout,
          f"exit {p.returncode}\nstdout: {p.stdout}stderr: {p.stderr}")


@test
def fexecve_of_a_cloexec_memfd():
    """The usual fexecve: a memfd made with MFD_CLOEXEC. The hook lets it
    run unsupervised (the fd would be gone), and says nothing even at
    info: a Go program started so is silently not covered. Must: covered
    (e.g. the hook dups the fd without FD_CLOEXEC for the supervisor), or
    one line saying why not."""
    if not os.path.exists(BUSYBOX):
        return check("busybox (static) installed", False)
    p = preloaded([BIN["brk2_exec"], "memfd", BUSYBOX, "sh", "-c", SHOW])
    covered = "parent=hostshim-superv" in p.stdout
    check("fexecve(memfd, MFD_CLOEXEC) of a static program under LD_PRELOAD: supervised, or said why not",
          p.returncode == 0 and (covered or "hostshim:" in p.stderr),
          f"exit {p.returncode}\nstdout: {p.stdout}stderr: {p.stderr}")


@test
def exec_hook_where_seccomp_is_refused():
    """ENV LD_PRELOAD in an image run where supervision is impossible: a
    stricter seccomp profile that refuses seccomp(2) (imitated by the
    tests' `restrict noseccomp`), or a kernel older than 5.5. A static
    program exec'd by a preloaded shell ran there before the exec hook;
    with it, the supervisor refuses and the program never runs (exit 125),
    although the user asked for nothing but a preload. Must: it runs, as
    without hostshim, with one warning (as when no supervisor is found)."""
    if not os.path.exists(BUSYBOX):
        return check("busybox (static) installed", False)
    for label, prefix in (("seccomp refused", [BIN["restrict"], "noseccomp"]),
                          ("kernel older than 5.5", ["setarch", "x86_64", "--uname-2.6"])):
        p = preloaded(prefix + ["sh", "-c", BUSYBOX + ' echo ran; echo "rc=$?"'])
        check(f"{label}: a static program exec'd by a preloaded shell still runs",
              "ran\nrc=0" in p.stdout, f"exit {p.returncode}\nstdout: {p.stdout}stderr: {p.stderr}")


# ---- the run --------------------------------------------------------------------


DNS_SERVER = None


def restart_dns():
    """the test's DNS responder (again, after a test used the port)"""
    global DNS_SERVER
    import hs_dns
    for _ in range(50):
        try:
            DNS_SERVER = hs_dns.DnsResponder("127.0.0.53", 53, {"upstream.test": "127.0.0.7"})
            break
        except OSError:
            time.sleep(0.1)
    DNS_SERVER.start()


def inside():
    global TMP
    TMP = tempfile.mkdtemp(prefix="hostshim-brk2-")
    os.chmod(TMP, 0o755)
    restart_dns()
    try:
        build()
        only = [a for a in sys.argv[2:] if not a.startswith("--skip=")]
        skip = {n for a in sys.argv[2:] if a.startswith("--skip=") for n in a[7:].split(",")}
        for t in TESTS:
            if (only and t.__name__ not in only) or t.__name__ in skip:
                print(f"-- {t.__name__}: skipped", flush=True) if t.__name__ in skip else None
                continue
            print(f"-- {t.__name__}", flush=True)
            try:
                t()
            except Exception:
                check(t.__name__ + " (exception)", False, traceback.format_exc())
    finally:
        try:
            DNS_SERVER.stop()
        except Exception:
            pass
        shutil.rmtree(TMP, ignore_errors=True)
    failed = RESULTS.count(False)
    print(f"{len(RESULTS) - failed} passed, {failed} failed")
    return 1 if failed or not RESULTS else 0


def main():
    if sys.argv[1:2] == ["--inside"]:
        return inside()
    for f in (LAUNCHER, SUPERVISOR):
        if not os.access(f, os.X_OK):
            print(f"{f} missing: make build/hostshim-supervise")
            return 1
    return subprocess.call(["sh", os.path.join(REPO, "tests", "in-netns.sh"), "brk2", HOSTS,
                            sys.executable, os.path.abspath(__file__), "--inside", *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())
