#!/bin/sh
# dist.sh OUT.tar.gz NAME EPOCH STRIP LAUNCHER LIBRARY SUPERVISOR DOC...
# One release archive: NAME/bin/hostshim, NAME/lib/hostshim/{libhostshim.so,
# hostshim-supervise} (debug information stripped with STRIP) and the DOCs
# at NAME/. Reproducible for the same inputs: names sorted, every mtime
# EPOCH, owner and group 0, fixed modes, gzip without name or time.
set -eu
out=$1 name=$2 epoch=$3 strip=$4 launcher=$5 lib=$6 sup=$7
shift 7
stage=$out.stage
rm -rf "$stage"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/$name/bin" "$stage/$name/lib/hostshim"
install -m 755 "$launcher" "$stage/$name/bin/hostshim"
install -m 644 "$lib" "$stage/$name/lib/hostshim/libhostshim.so"
install -m 755 "$sup" "$stage/$name/lib/hostshim/hostshim-supervise"
"$strip" --strip-debug "$stage/$name/lib/hostshim/libhostshim.so" \
	"$stage/$name/lib/hostshim/hostshim-supervise"
for doc in "$@"; do
	install -m 644 "$doc" "$stage/$name/"
done
# The version is compiled in: a stale build of another version fails here.
version=${name#hostshim-}
grep -qx "version=$version" "$stage/$name/bin/hostshim"
for bin in lib/hostshim/libhostshim.so lib/hostshim/hostshim-supervise; do
	if ! grep -q -a -F "$version" "$stage/$name/$bin"; then
		echo "dist: $bin does not carry version $version (stale build? make clean)" >&2
		exit 1
	fi
done
chmod 755 "$stage/$name" "$stage/$name/bin" "$stage/$name/lib" "$stage/$name/lib/hostshim"
tar -C "$stage" --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner \
	--format=gnu -cf - "$name" | gzip -n -9 >"$out.tmp"
mv -f "$out.tmp" "$out"
