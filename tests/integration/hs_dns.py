"""Tiny DNS responder for the integration tests (UDP only, stdlib only).

Answers A and AAAA queries for the names in its table, NOERROR with no
answer (NODATA) for other query types of a known name (and for a family the
name has no address of), and NXDOMAIN for every other name.  Names in
`delays` are answered that many seconds late.

A name's entry can also misbehave the way a container network's DNS does,
set and changed by a test while the responder runs (thread-safe):
    set(name, a=[...], aaaa=[...], rotate=False, sets=None, every=None)
        several records per family, in this order; rotate=True: each
        answer of a family starts one record further (Docker's embedded
        DNS rotates a scaled service's records); sets=[{"a": [...],
        "aaaa": [...]}, ...]: answer sets, the first in use; every=N: move
        to the next set (cyclically) after every N queries of the name
        (A and AAAA queries each count)
    switch(name)        move to the next answer set now
    fail_next(name, n=1)  SERVFAIL the next n queries of the name, then answer again
    fail(name, on=True)   SERVFAIL every query of the name until fail(name, False)
    drop(name, on=True)   never answer the name (a timeout) until drop(name, False)
    delay(name, seconds)  answer the name that many seconds late (None: on time)
    remove(name)          NXDOMAIN from now on
    served                [(name, qtype, answer)] answered, for tests: answer
                          is the address list sent, "SERVFAIL" or "DROP"
A plain table entry "name": "a.b.c.d" answers that one A record, as before.
Run it in a thread (DnsResponder(...).start()) or standalone:
    python3 hs_dns.py [--rotate] [--every N] [--drop NAME] [--delay NAME=SECONDS] \\
        127.0.0.53 53 dns-only.test=127.0.0.7 mover.test=127.0.0.5,127.0.0.6,::1;127.0.0.7
(addresses separated by commas, answer sets by semicolons; --rotate and
--every apply to every name given; --drop and --delay may be repeated).
"""
import ipaddress
import socket
import struct
import sys
import threading

A, AAAA = 1, 28


def _key(name):
    return name.lower().rstrip(".")


class _Entry:
    def __init__(self, a=(), aaaa=(), rotate=False, sets=None, every=None):
        if sets is None:
            sets = [{"a": list(a), "aaaa": list(aaaa)}]
        self.sets = [{"a": list(s.get("a", ())), "aaaa": list(s.get("aaaa", ()))} for s in sets]
        for s in self.sets:
            for fam in ("a", "aaaa"):
                for ip in s[fam]:
                    want = 4 if fam == "a" else 6
                    if ipaddress.ip_address(ip).version != want:
                        raise ValueError(f"{ip} is not an {fam.upper()} address")
        self.rotate = rotate
        self.every = every
        self.cur = 0
        self.queries = 0
        self.turns = {A: 0, AAAA: 0}
        self.fail_left = 0
        self.failing = False
        self.dropping = False

    def records(self, qtype):
        """the addresses to answer for one query of this type, in order"""
        self.queries += 1
        s = self.sets[self.cur]
        addrs = list(s["a"] if qtype == A else s["aaaa"])
        if self.rotate and addrs:
            k = self.turns[qtype] % len(addrs)
            self.turns[qtype] += 1
            addrs = addrs[k:] + addrs[:k]
        if self.every and self.queries % self.every == 0:
            self.cur = (self.cur + 1) % len(self.sets)
        return addrs


class DnsResponder(threading.Thread):
    def __init__(self, addr="127.0.0.53", port=53, table=None, delays=None):
        super().__init__(name="hs-dns", daemon=True)
        self._lock = threading.Lock()
        self.entries = {}
        for k, v in (table or {}).items():
            addrs = [v] if isinstance(v, str) else list(v)
            self.entries[_key(k)] = _Entry(a=[x for x in addrs if ":" not in x],
                                           aaaa=[x for x in addrs if ":" in x])
        self.delays = {_key(k): v for k, v in (delays or {}).items()}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((addr, port))
        self.sock.settimeout(0.2)
        self.queries = []            # (name, qtype) seen, for tests
        self.served = []             # (name, qtype, answer list | "SERVFAIL" | "DROP")
        self._halt = threading.Event()

    # -- control, from tests ---------------------------------------------
    @property
    def table(self):
        """name -> first A address of the current set (the old interface)"""
        with self._lock:
            return {k: (e.sets[e.cur]["a"] or [None])[0] for k, e in self.entries.items()}

    def set(self, name, a=(), aaaa=(), rotate=False, sets=None, every=None):
        e = _Entry(a, aaaa, rotate, sets, every)
        with self._lock:
            self.entries[_key(name)] = e

    def remove(self, name):
        with self._lock:
            self.entries.pop(_key(name), None)

    def _entry(self, name):
        e = self.entries.get(_key(name))
        if e is None:
            e = self.entries[_key(name)] = _Entry()
        return e

    def switch(self, name):
        with self._lock:
            e = self._entry(name)
            e.cur = (e.cur + 1) % len(e.sets)

    def fail_next(self, name, n=1):
        with self._lock:
            self._entry(name).fail_left = n

    def fail(self, name, on=True):
        with self._lock:
            self._entry(name).failing = on

    def drop(self, name, on=True):
        with self._lock:
            self._entry(name).dropping = on

    def delay(self, name, seconds):
        with self._lock:
            if seconds:
                self.delays[_key(name)] = seconds
            else:
                self.delays.pop(_key(name), None)

    def count(self, name, qtype=None):
        """queries seen for name (of qtype, if given)"""
        k = _key(name)
        with self._lock:
            return sum(1 for n, t in self.queries if n == k and (qtype is None or t == qtype))

    def clear_log(self):
        with self._lock:
            self.queries.clear()
            self.served.clear()

    # -- protocol ----------------------------------------------------------
    @staticmethod
    def _parse_name(msg, off):
        labels = []
        while True:
            n = msg[off]
            off += 1
            if n == 0:
                return ".".join(labels), off
            if n & 0xC0:             # compression never appears in queries
                raise ValueError("compressed name in query")
            labels.append(msg[off:off + n].decode("ascii", "replace"))
            off += n

    def answer(self, msg):
        qid, flags, qd = struct.unpack("!HHH", msg[:6])
        if qd != 1:
            return None, None
        name, off = self._parse_name(msg, 12)
        qtype, qclass = struct.unpack("!HH", msg[off:off + 4])
        question = msg[12:off + 4]
        key = name.lower().rstrip(".")
        rflags = 0x8000 | (flags & 0x0100) | 0x0080      # QR, RD copied, RA
        answers = b""
        ancount = 0
        with self._lock:
            self.queries.append((key, qtype))
            e = self.entries.get(key)
            if e is None:
                rflags |= 3                               # NXDOMAIN
            elif e.dropping:
                self.served.append((key, qtype, "DROP"))
                return None, key
            elif e.failing or e.fail_left > 0:
                if e.fail_left > 0:
                    e.fail_left -= 1
                rflags |= 2                               # SERVFAIL
                self.served.append((key, qtype, "SERVFAIL"))
            elif qtype in (A, AAAA) and qclass == 1:
                addrs = e.records(qtype)
                fam = socket.AF_INET if qtype == A else socket.AF_INET6
                for ip in addrs:
                    raw = socket.inet_pton(fam, ip)
                    answers += struct.pack("!HHHIH", 0xC00C, qtype, 1, 60, len(raw)) + raw
                ancount = len(addrs)
                self.served.append((key, qtype, addrs))
        header = struct.pack("!HHHHHH", qid, rflags, 1, ancount, 0, 0)
        return header + question + answers, key

    def run(self):
        while not self._halt.is_set():
            try:
                msg, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                break
            try:
                reply, key = self.answer(msg)
            except (ValueError, IndexError, struct.error):
                reply = None
            if reply:
                with self._lock:
                    delay = self.delays.get(key)
                if delay:                  # answer later, without blocking others
                    t = threading.Timer(delay, self._send, (reply, peer))
                    t.daemon = True
                    t.start()
                else:
                    self._send(reply, peer)

    def _send(self, reply, peer):
        try:
            self.sock.sendto(reply, peer)
        except OSError:
            pass

    def stop(self):
        self._halt.set()
        self.join(2)
        self.sock.close()


if __name__ == "__main__":
    args = sys.argv[1:]
    rotate = every = None
    drops, delays = [], {}
    while args and args[0].startswith("--"):
        opt = args.pop(0)
        if opt == "--rotate":
            rotate = True
        elif opt == "--every":
            every = int(args.pop(0))
        elif opt == "--drop":
            drops.append(args.pop(0))
        elif opt == "--delay":
            n, _, secs = args.pop(0).partition("=")
            delays[n] = float(secs)
    d = DnsResponder(args[0], int(args[1]), delays=delays)
    for n in drops:
        d.drop(n)
    for item in args[2:]:
        name, _, spec = item.partition("=")
        sets = []
        for part in spec.split(";"):
            addrs = [x for x in part.split(",") if x]
            sets.append({"a": [x for x in addrs if ":" not in x], "aaaa": [x for x in addrs if ":" in x]})
        d.set(name, sets=sets, rotate=bool(rotate), every=every)
    d.run()
