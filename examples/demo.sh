#!/bin/sh
# make demo: the docker-compose situation on one machine, with the bundled
# shim.ini. A network namespace stands in for the app's container: there
# auth.localhost resolves to 127.0.0.1, where nothing listens, and "server"
# is the identity provider at 127.0.0.5:9000. The same request runs without
# and with the library. Needs root (for the namespace), python3 and iproute2.
set -eu
cd "$(dirname "$0")/.."
lib=$PWD/build/libhostshim.so
ns=hostshim-demo-$$
server_pid=

cleanup() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "/etc/netns/$ns"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$(id -u)" != 0 ]; then
	echo "make demo needs root for its network namespace: sudo make demo" >&2
	exit 1
fi

ip netns add "$ns"
ip -n "$ns" link set lo up
mkdir -p "/etc/netns/$ns"
printf '127.0.0.1 localhost auth.localhost\n127.0.0.5 server\n' >"/etc/netns/$ns/hosts"
echo 'nameserver 127.0.0.1' >"/etc/netns/$ns/resolv.conf"

# The "provider": answers with the Host header it received.
ip netns exec "$ns" python3 -c '
import http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("provider at server:9000 got Host: %s\n" % self.headers["Host"]).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.5", 9000), H).serve_forever()' &
server_pid=$!
sleep 1

fetch='import urllib.request, sys
try:
    print("  " + urllib.request.urlopen("http://auth.localhost/application/o/app/", timeout=5).read().decode().strip())
except Exception as e:
    print("  failed: %s" % e)'

echo "shim.ini maps: $(grep -E '^[^;[].*=' shim.ini | grep -v -E '^(log|strict)' )"
echo
echo "GET http://auth.localhost/ from the app's namespace, without hostshim:"
ip netns exec "$ns" python3 -u -c "$fetch"
echo
echo "the same, with LD_PRELOAD=build/libhostshim.so HOSTSHIM_CONFIG=shim.ini HOSTSHIM_LOG=info:"
ip netns exec "$ns" env LD_PRELOAD="$lib" HOSTSHIM_CONFIG="$PWD/shim.ini" \
	HOSTSHIM_LOG=info python3 -u -c "$fetch" 2>&1
