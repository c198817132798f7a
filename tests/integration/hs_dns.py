"""Tiny DNS responder for the integration tests (UDP only, stdlib only).

Answers A queries for the names in its table, NOERROR with no answer
(NODATA) for other query types of a known name, and NXDOMAIN for every
other name.  Names in `delays` are answered that many seconds late.
Run it in a thread (DnsResponder(...).start()) or standalone:
    python3 hs_dns.py 127.0.0.53 53 dns-only.test=127.0.0.7
"""
import socket
import struct
import sys
import threading


class DnsResponder(threading.Thread):
    def __init__(self, addr="127.0.0.53", port=53, table=None, delays=None):
        super().__init__(name="hs-dns", daemon=True)
        self.table = {k.lower().rstrip("."): v for k, v in (table or {}).items()}
        self.delays = {k.lower().rstrip("."): v for k, v in (delays or {}).items()}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((addr, port))
        self.sock.settimeout(0.2)
        self.queries = []            # (name, qtype) seen, for tests
        self._halt = threading.Event()

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
        self.queries.append((key, qtype))
        rflags = 0x8000 | (flags & 0x0100) | 0x0080      # QR, RD copied, RA
        answers = b""
        ancount = 0
        if key not in self.table:
            rflags |= 3                                   # NXDOMAIN
        elif qtype == 1 and qclass == 1:
            ip = socket.inet_aton(self.table[key])
            answers = struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + ip
            ancount = 1
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
    table = dict(item.split("=", 1) for item in sys.argv[3:])
    d = DnsResponder(sys.argv[1], int(sys.argv[2]), table)
    d.run()
