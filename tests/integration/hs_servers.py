"""Listeners for the integration tests (stdlib only, run in threads).

HttpListener answers every request with a one-line body naming the address
it listens on and the Host header it received:
    listener=127.0.0.5:9000 host=auth.localhost
and records each request in a shared log.  A listener given an SSLContext
speaks TLS and adds the SNI name the client sent: `... sni=auth.localhost`.
UdpEcho answers each datagram with `udp-listener=ADDR:PORT got=PAYLOAD`.
"""
import socket
import socketserver
import ssl
import threading


def label(addr, port):
    return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"


def sockaddr(addr, port):
    """a bind() address; "fe80::1%veth0" (a link-local address with its
    interface) becomes the 4-tuple with the interface's index"""
    if "%" in addr:
        host, _, scope = addr.partition("%")
        index = int(scope) if scope.isdigit() else socket.if_nametoindex(scope)
        return (host, port, 0, index)
    return (addr, port)


class RequestLog:
    def __init__(self):
        self._lock = threading.Lock()
        self._items = []

    def add(self, item):
        with self._lock:
            self._items.append(item)

    def clear(self):
        with self._lock:
            self._items.clear()

    def items(self):
        with self._lock:
            return list(self._items)


class _Handler(socketserver.BaseRequestHandler):
    def handle(self):
        srv = self.server
        sock = self.request
        sock.settimeout(5)
        extra = ""
        sni = None
        if srv.ssl_ctx is not None:
            try:
                sock = srv.ssl_ctx.wrap_socket(sock, server_side=True)
            except (OSError, ssl.SSLError):
                return
            sni = getattr(sock, "hs_sni", None) or "-"
            extra = f" sni={sni}"
        data = b""
        try:
            while b"\r\n\r\n" not in data and len(data) < 65536:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
        except OSError:
            return
        if b"\r\n\r\n" not in data:
            return                      # probe connection or partial request
        head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        lines = head.split("\r\n")
        parts = lines[0].split(" ")
        method, path = (parts[0], parts[1]) if len(parts) >= 2 else ("?", "?")
        host = "-"
        for line in lines[1:]:
            k, _, v = line.partition(":")
            if k.strip().lower() == "host":
                host = v.strip()
        srv.log.add({"listener": srv.label, "host": host, "method": method,
                     "path": path, "peer": self.client_address[0], "sni": sni})
        body = f"listener={srv.label} host={host}{extra}\n".encode()
        resp = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                + f"Content-Length: {len(body)}\r\nX-Listener: {srv.label}\r\n".encode()
                + b"Connection: close\r\n\r\n" + body)
        try:
            sock.sendall(resp)
        except OSError:
            pass


class _TCPServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


class _TCPServer6(_TCPServer):
    address_family = socket.AF_INET6


def tls_context(certfile, keyfile):
    """a server context that records the SNI name on the socket as hs_sni"""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certfile, keyfile)

    def on_sni(sslsock, name, context):
        sslsock.hs_sni = name
    ctx.sni_callback = on_sni
    return ctx


class HttpListener:
    def __init__(self, addr, port, log, ssl_ctx=None):
        cls = _TCPServer6 if ":" in addr else _TCPServer
        self.server = cls(sockaddr(addr, port), _Handler)
        self.server.ssl_ctx = ssl_ctx
        self.server.label = label(addr, port)
        self.server.log = log
        self.label = self.server.label
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.1},
                                       name=f"http-{self.label}", daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(2)


class UdpEcho:
    def __init__(self, addr, port, log):
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_DGRAM)
        self.sock.bind(sockaddr(addr, port))
        self.sock.settimeout(0.1)
        self.label = label(addr, port)
        self.log = log
        self._halt = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"udp-{self.label}",
                                       daemon=True)

    def _run(self):
        while not self._halt.is_set():
            try:
                data, peer = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            payload = data.decode("latin-1")
            self.log.add({"listener": self.label, "udp": payload, "peer": peer[0]})
            reply = f"udp-listener={self.label} got={payload}".encode()
            try:
                self.sock.sendto(reply, peer)
            except OSError:
                pass

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self._halt.set()
        self.thread.join(2)
        self.sock.close()
