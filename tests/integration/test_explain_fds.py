"""The memory of connects in progress behind the refusal explanation
(shim/explain.c; SPEC Behaviour 11): a small table keyed by fd modulo its
size, with the fd and the socket's inode checked before anything is said.
Any fd number is covered (not only those below a table's size), and two
connects whose fds share a place are never confused."""
from harness import *  # noqa: F401,F403

# A non-blocking connect to NAME on each PORT, each socket moved to the fd
# asked for (dup2), all in progress at once, then each one's SO_ERROR.
PY_FDS = r"""
import errno, os, resource, select, socket, sys
name, pairs = sys.argv[1], [p.split(":") for p in sys.argv[2:]]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
want = max(int(fd) for fd, _ in pairs) + 1
if soft < want:
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(want, soft), hard), hard))
socks = []
for fd, port in pairs:
    addr = socket.getaddrinfo(name, int(port), socket.AF_INET, socket.SOCK_STREAM)[0][4]
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    os.dup2(s.fileno(), int(fd))
    s.close()
    s = socket.socket(fileno=int(fd))
    s.setblocking(False)
    rc = s.connect_ex(addr)
    socks.append((s, port, rc))
for s, port, rc in socks:
    if rc == errno.EINPROGRESS:
        p = select.poll()
        p.register(s, select.POLLOUT)
        p.poll(5000)
        rc = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    print(f"fd={s.fileno()} port={port} err={errno.errorcode.get(rc, rc)}", flush=True)
"""


class ExplainFds(Base):
    def test_refusal_on_a_high_fd_explained(self):
        """fd 5000: past the 4096 fds the first table covered"""
        cfg = self.rules("hifd.localhost = server:9591")
        r = self.run_prog([sys.executable, "-c", PY_FDS, "hifd.localhost", "5000:80"], config=cfg)
        self.assertIn("fd=5000 port=80 err=ECONNREFUSED", r.out, r.show())
        self.assertIn("hifd.localhost:80 -> server:9591", r.err, "a refusal on fd 5000 unexplained" + r.show())

    def test_fds_sharing_a_place_are_not_confused(self):
        """fds 100 and 164 (and 228) share a place of the 64: each
        connect's failure is said, if at all, with its own port"""
        cfg = self.rules("share.localhost = server:9592")
        r = self.run_prog([sys.executable, "-c", PY_FDS, "share.localhost", "100:81", "164:82", "228:83"],
                          config=cfg)
        for fd, port in (("100", "81"), ("164", "82"), ("228", "83")):
            self.assertIn(f"fd={fd} port={port} err=ECONNREFUSED", r.out, r.show())
        said = [l for l in r.err.splitlines() if "share.localhost:" in l]
        self.assertTrue(said, "the last one remembered is explained" + r.show())
        self.assertIn("share.localhost:83 -> server:9592", r.err, r.show())
        for l in said:
            self.assertRegex(l, r"share\.localhost:8[123] -> server:9592", r.show())
        self.assertEqual(len(said), len(set(said)), r.show())
