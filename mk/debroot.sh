#!/bin/sh
# debroot.sh SUITE DIR [PACKAGE,...]: a Debian root file system made with
# mmdebstrap (variant minbase, amd64), cached: when DIR/.debroot says it was
# made for the same suite and packages, nothing is done.
#
# The mirror is this machine's own (the first "deb" URI of its apt sources
# that serves the Debian archive), so no host is named here; the security
# archive is added the same way when the machine has one. DIR is made as
# DIR.tmp and renamed at the end, so an interrupted run leaves no half root.
# Needs root and mmdebstrap. Prints one line saying what it did.
set -eu
suite=${1:?usage: debroot.sh SUITE DIR [PACKAGE,...]}
dir=${2:?usage: debroot.sh SUITE DIR [PACKAGE,...]}
pkgs=${3-}
stamp="suite=$suite packages=$pkgs"

if [ -f "$dir/.debroot" ] && [ "$(cat "$dir/.debroot")" = "$stamp" ]; then
	echo "debroot: $dir is cached ($stamp)"
	exit 0
fi

# URIs of the machine's "deb" entries (deb822 and one-line forms).
uris() {
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk 'BEGIN { RS = "" }
		     /(^|\n)[Ee]nabled:[ \t]*no/ { next }
		     /(^|\n)Types:([^\n]*[ \t])?deb([ \t]|\n|$)/ {
			if (match($0, /(^|\n)URIs:[^\n]*/)) {
				n = split(substr($0, RSTART, RLENGTH), w, /[ \t\n]+/)
				for (i = 1; i <= n; i++) if (w[i] ~ /:\/\//) print w[i]
			}
		     }' "$f"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ } print $i }' "$f"
	done
}
mirror=$(uris | grep -v -e '-security' -e 'security\.' | head -n 1)
security=$(uris | grep -e '-security' | head -n 1)
if [ -z "$mirror" ]; then
	echo "debroot: no Debian mirror among this machine's apt sources" >&2
	exit 1
fi

set -- "deb $mirror $suite main"
case $suite in
	sid | unstable) ;;
	*) [ -z "$security" ] || set -- "$@" "deb $security $suite-security main" ;;
esac

rm -rf "$dir.tmp"
mkdir -p "$(dirname "$dir")"
t0=$(date +%s)
# shellcheck disable=SC2086 # no packages: no --include
if ! mmdebstrap --quiet --mode=root --variant=minbase --arch=amd64 \
	${pkgs:+--include="$pkgs"} "$suite" "$dir.tmp" "$@" >"$dir.log" 2>&1; then
	tail -n 20 "$dir.log" >&2
	rm -rf "$dir.tmp"
	echo "debroot: mmdebstrap $suite failed (log: $dir.log)" >&2
	exit 1
fi
printf '%s\n' "$stamp" >"$dir.tmp/.debroot"
rm -rf "$dir"
mv "$dir.tmp" "$dir"
echo "debroot: made $dir ($stamp) in $(($(date +%s) - t0)) s"
