#!/bin/sh
# npm.sh VERSION: the npm packages, packed with `npm pack` into build/npm/:
#   hostshim-VERSION.tgz                 the package `hostshim` (npm/hostshim/:
#                                        a Node.js bin that runs the launcher
#                                        of the platform package installed)
#   hostshim-linux-ARCH-LIBC-VERSION.tgz @hostshim/linux-{x64,arm64}-{gnu,musl}:
#                                        bin/hostshim, lib/hostshim/ from the
#                                        matching release archive (make dist),
#                                        selected by npm from os, cpu, libc
# Every version is VERSION. Nothing is published.
set -eu
version=${1:?usage: npm.sh VERSION}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
out=$repo/build/npm
stage=$out/stage
rm -rf "$out"
mkdir -p "$stage"

pack() {
	(cd "$out" && npm pack --silent --ignore-scripts "$1" >/dev/null)
}

# npm's name, the archive's name, npm's cpu, npm's libc
for p in x64-gnu:x86_64-gnu:x64:glibc x64-musl:x86_64-musl:x64:musl \
	arm64-gnu:aarch64-gnu:arm64:glibc arm64-musl:aarch64-musl:arm64:musl; do
	IFS=: read -r npmname distname cpu libc <<EOT
$p
EOT
	dir=$stage/linux-$npmname
	mkdir -p "$dir"
	tar -xzf "$repo/build/dist/hostshim-$version-linux-$distname.tar.gz" -C "$dir" \
		--strip-components=1 --no-same-owner \
		"hostshim-$version/bin" "hostshim-$version/lib" \
		"hostshim-$version/LICENSE" "hostshim-$version/THIRD-PARTY-NOTICES"
	# shellcheck disable=SC2016 # JavaScript, not shell
	NAME=@hostshim/linux-$npmname VERSION=$version CPU=$cpu LIBC=$libc node -e '
		const e = process.env;
		const pkg = {
			name: e.NAME,
			version: e.VERSION,
			description: `hostshim for Linux on ${e.CPU} with ${e.LIBC}: launcher, library and supervisor (installed by the package hostshim)`,
			license: "MIT",
			os: ["linux"],
			cpu: [e.CPU],
			libc: [e.LIBC],
			files: ["bin/hostshim", "lib/hostshim/libhostshim.so", "lib/hostshim/hostshim-supervise",
				"LICENSE", "THIRD-PARTY-NOTICES"],
			preferUnplugged: true,
		};
		process.stdout.write(JSON.stringify(pkg, null, 2) + "\n");
	' >"$dir/package.json"
	# shellcheck disable=SC2016 # Markdown backquotes
	printf '# @hostshim/linux-%s\n\nThe Linux %s (%s) build of hostshim: `bin/hostshim`, `lib/hostshim/`.\nInstall the package `hostshim`, which depends on this one; npm picks the\nplatform package that fits the machine.\n' \
		"$npmname" "$cpu" "$libc" >"$dir/README.md"
	pack "$dir"
done

cp -r "$repo/npm/hostshim" "$stage/hostshim"
sed "s/@VERSION@/$version/g" "$repo/npm/hostshim/package.json" >"$stage/hostshim/package.json"
cp "$repo/LICENSE" "$repo/THIRD-PARTY-NOTICES" "$stage/hostshim/"
pack "$stage/hostshim"
rm -rf "$stage"
ls -l "$out"
