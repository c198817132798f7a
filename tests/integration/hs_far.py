"""The far side of a veth pair, for the integration tests (stdlib only).

Run under `unshare --net` (a network namespace of its own, so that traffic
to it crosses a real link that tc can slow down):
    unshare --net python3 hs_far.py tcp:198.18.0.2:9000 tcp:[fd00:68:74::2]:9000 udp:198.18.0.2:7777
It prints "pid=N" and waits for a line "go" on stdin (meanwhile the test
moves a veth end into the namespace and sets the addresses), then sets lo
up, binds every listener and prints "ready" (or "error ..." and exits).
TCP listeners count accepted connections and answer an HTTP request with
"listener=ADDR:PORT host=HOST" (like hs_servers.HttpListener); UDP
listeners count datagrams.  A line "stats" on stdin prints
"stats LABEL=N ..." (accepts for TCP, datagrams for UDP).  EOF on stdin
(the test ended, however it ended) stops it.
"""
import os
import socket
import subprocess
import sys
import threading

counts = {}
lock = threading.Lock()


def bump(label):
    with lock:
        counts[label] = counts.get(label, 0) + 1


def parse(spec):
    kind, _, rest = spec.partition(":")
    host, _, port = rest.rpartition(":")
    host = host.strip("[]")
    return kind, host, int(port), (f"[{host}]:{port}" if ":" in host else f"{host}:{port}")


def serve_tcp(sock, label):
    def handle(c):
        c.settimeout(5)
        data = b""
        try:
            while b"\r\n\r\n" not in data and len(data) < 65536:
                chunk = c.recv(4096)
                if not chunk:
                    break
                data += chunk
            if b"\r\n\r\n" in data:
                host = "-"
                for line in data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")[1:]:
                    k, _, v = line.partition(":")
                    if k.strip().lower() == "host":
                        host = v.strip()
                body = f"listener={label} host={host}\n".encode()
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                          % len(body) + body)
        except OSError:
            pass
        finally:
            c.close()
    while True:
        try:
            c, _ = sock.accept()
        except OSError:
            return
        bump(label)
        threading.Thread(target=handle, args=(c,), daemon=True).start()


def serve_udp(sock, label):
    while True:
        try:
            sock.recvfrom(65536)
        except OSError:
            return
        bump(label)


def main():
    print(f"pid={os.getpid()}", flush=True)
    if sys.stdin.readline().strip() != "go":
        return 0
    subprocess.run(["ip", "link", "set", "lo", "up"], check=False)
    try:
        for spec in sys.argv[1:]:
            kind, host, port, label = parse(spec)
            fam = socket.AF_INET6 if ":" in host else socket.AF_INET
            s = socket.socket(fam, socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if kind == "udp":
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            s.bind((host, port))
            counts.setdefault(label, 0)
            if kind == "tcp":
                s.listen(128)
                threading.Thread(target=serve_tcp, args=(s, label), daemon=True).start()
            else:
                threading.Thread(target=serve_udp, args=(s, label), daemon=True).start()
    except OSError as e:
        print(f"error {e}", flush=True)
        return 1
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() == "stats":
            with lock:
                items = " ".join(f"{k}={v}" for k, v in sorted(counts.items()))
            print("stats " + items, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
