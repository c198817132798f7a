#!/bin/sh
# dockerd.sh start|stop|status: a Docker daemon of the leg's own (make docker).
#
# Debian's docker.io (20.10) and its containerd, started in the background
# with every piece of state under build/docker/: data-root, exec-root, the
# pidfiles, the unix sockets, containerd's root and state. Nothing of the
# machine's is used or changed: no /var/lib/docker, no /run/docker.sock, no
# system containerd (ours has its own socket, so a containerd another tool
# runs is left alone), no firewall rule (iptables: false), no forwarding or
# masquerading, no default bridge (bridge: none). Compose networks take
# their subnets from 10.213.0.0/16; names the embedded resolver can't answer
# go to 127.0.0.1, where nothing answers (a container reaches nothing but
# its compose network). The daemon's own pulls go to a dead proxy
# (127.0.0.1:9), so a missing image fails at once instead of reaching out.
#
# `start` prints nothing but progress on stderr; the caller sets
#   DOCKER_HOST=unix://$PWD/build/docker/docker.sock
# and PATH=/usr/sbin:/usr/bin:$PATH (this machine image has a newer docker
# CLI without buildx in /usr/local/bin). `stop` removes every container and
# network of this daemon, then stops dockerd and containerd by their PIDs;
# it is safe to call twice and when start failed half way.
# Installs nothing: .ci/install-image-deps installs docker.io, docker-compose.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
d=${DOCKER_LEG_DIR:-$repo/build/docker}
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
export DOCKER_HOST="unix://$d/docker.sock"

say() { echo "dockerd.sh: $*" >&2; }

# alive PIDFILE: that process runs (a zombie waiting for init is gone).
alive() {
	[ -f "$1" ] || return 1
	_p=$(cat "$1")
	[ -n "$_p" ] && kill -0 "$_p" 2>/dev/null &&
		! grep -q '^State:[[:space:]]*Z' "/proc/$_p/status" 2>/dev/null
}

start() {
	for t in dockerd containerd docker docker-compose; do
		command -v "$t" >/dev/null || { say "$t not installed (bash .ci/install-image-deps)"; exit 1; }
	done
	if alive "$d/dockerd.spid"; then
		say "already running (pid $(cat "$d/dockerd.spid"))"
		return 0
	fi
	mkdir -p "$d/data" "$d/exec" "$d/containerd/root" "$d/containerd/state"
	chmod 711 "$d"
	# containerd: its own socket, root and state; no CRI plugin (no kubelet).
	cat >"$d/containerd/config.toml" <<-EOF
		version = 2
		root = "$d/containerd/root"
		state = "$d/containerd/state"
		disabled_plugins = ["io.containerd.grpc.v1.cri"]
		[grpc]
		  address = "$d/containerd.sock"
		[ttrpc]
		  address = "$d/containerd.sock.ttrpc"
		[debug]
		  address = ""
		[metrics]
		  address = ""
	EOF
	cat >"$d/daemon.json" <<-EOF
		{
		  "data-root": "$d/data",
		  "exec-root": "$d/exec",
		  "pidfile": "$d/dockerd.pid",
		  "hosts": ["unix://$d/docker.sock"],
		  "containerd": "$d/containerd.sock",
		  "storage-driver": "overlay2",
		  "bridge": "none",
		  "iptables": false,
		  "ip6tables": false,
		  "ip-forward": false,
		  "ip-masq": false,
		  "ipv6": false,
		  "userland-proxy": true,
		  "default-address-pools": [{"base": "10.213.0.0/16", "size": 24}],
		  "dns": ["127.0.0.1"],
		  "dns-opts": ["timeout:1", "attempts:1"],
		  "features": {"buildkit": true},
		  "log-driver": "json-file",
		  "log-opts": {"max-size": "10m"}
		}
	EOF
	containerd --config "$d/containerd/config.toml" >"$d/containerd.log" 2>&1 &
	echo $! >"$d/containerd.pid"
	i=0
	until [ -S "$d/containerd.sock" ]; do
		i=$((i + 1))
		if [ $i -gt 100 ] || ! alive "$d/containerd.pid"; then
			tail -n 20 "$d/containerd.log" >&2
			say "containerd did not start (log: $d/containerd.log)"
			exit 1
		fi
		sleep 0.1
	done
	HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 NO_PROXY='' \
		http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 no_proxy='' \
		dockerd --config-file "$d/daemon.json" >"$d/dockerd.log" 2>&1 &
	# dockerd writes dockerd.pid itself once up; ours is the PID we started.
	echo $! >"$d/dockerd.spid"
	i=0
	until docker version >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 300 ] || ! alive "$d/dockerd.spid"; then
			tail -n 20 "$d/dockerd.log" >&2
			say "dockerd did not start (log: $d/dockerd.log)"
			exit 1
		fi
		sleep 0.1
	done
	say "dockerd $(docker version --format '{{.Server.Version}}') (pid $(cat "$d/dockerd.spid")), containerd (pid $(cat "$d/containerd.pid")), state in $d"
}

# kill_wait PIDFILE NAME: TERM, up to 20 s, then KILL.
kill_wait() {
	alive "$1" || { rm -f "$1"; return 0; }
	p=$(cat "$1")
	kill "$p" 2>/dev/null || true
	i=0
	while alive "$1"; do
		i=$((i + 1))
		if [ $i -gt 200 ]; then
			say "$2 (pid $p) still running after 20 s: KILL"
			kill -9 "$p" 2>/dev/null || true
			break
		fi
		sleep 0.1
	done
	rm -f "$1"
}

stop() {
	if alive "$d/dockerd.spid" && docker version >/dev/null 2>&1; then
		# Containers first, then networks: libnetwork leaves a network's
		# bridge on the host when the daemon stops with it still defined.
		ids=$(docker ps -aq)
		# shellcheck disable=SC2086 # IDs
		[ -z "$ids" ] || docker rm -f $ids >/dev/null 2>&1 || true
		docker network prune -f >/dev/null 2>&1 || true
	fi
	kill_wait "$d/dockerd.spid" dockerd
	kill_wait "$d/containerd.pid" containerd
	# A bridge of ours left by a daemon that died: its address is in our pool.
	for l in $(ip -o -4 addr show 2>/dev/null | awk '$4 ~ /^10\.213\./ && $2 ~ /^br-/ { print $2 }'); do
		ip link delete "$l" 2>/dev/null && say "removed leftover bridge $l"
	done
	# Mounts under our state (overlay layers, netns files) of a killed daemon.
	awk -v d="$d/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null || true
	done
	return 0
}

case ${1-} in
	start) start ;;
	stop) stop ;;
	status) alive "$d/dockerd.spid" && docker version --format '{{.Server.Version}}' ;;
	*) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
