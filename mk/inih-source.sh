#!/bin/sh
# Fetches inih's C source (ini.c, ini.h) from Debian's own source package
# libinih, for the musl build: Debian's libinih.a is compiled against glibc.
#
# usage: sh mk/inih-source.sh OUTDIR
#   writes OUTDIR/ini.c, OUTDIR/ini.h and OUTDIR/SOURCE (which package).
#
# The deb-src entries are derived at run time from this machine's own apt
# sources (every "deb" entry, as "deb-src"), into a private apt state under
# OUTDIR.apt/, so the system's apt configuration is not touched and no
# mirror is named here. It asks for the version of the installed
# libinih-dev first. If the mirror can't serve that (on the machines this
# was written on, the .dsc of bookworm's libinih 55-1 is served but its
# tarballs answer 404), it asks the suites in INIH_FALLBACK_SUITES (default:
# trixie, the next Debian release: same API, ini.c is self-contained) on
# the same mirror entries. Needs apt-get and dpkg-source (dpkg-dev).
set -eu
out=${1:?usage: inih-source.sh OUTDIR}
case $out in /*) ;; *) out=$(pwd)/$out ;; esac
work=$out.apt
fallback=${INIH_FALLBACK_SUITES-trixie}
rm -rf "$work"
mkdir -p "$work/parts" "$work/lists/partial" "$work/cache/archives/partial" "$work/src"
trap 'rm -rf "$work"' EXIT

# deb822 stanzas with a "deb" type, as deb-src; one-line "deb" entries too.
derive() {
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk 'BEGIN { RS = ""; ORS = "\n\n" }
		     /(^|\n)[Ee]nabled:[ \t]*no/ { next }
		     /(^|\n)Types:([^\n]*[ \t])?deb([ \t]|\n|$)/ {
			sub(/Types:[^\n]*/, "Types: deb-src"); print }' "$f"
	done >"$work/parts/derived.sources"
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' "$f"
	done >"$work/sources.list"
}

# The entries above for the release itself (suite = this system's codename,
# not -updates or -security), with the suite replaced by $1.
with_suite() {
	awk -v suite="$1" -v codename="$codename" 'BEGIN { RS = ""; ORS = "\n\n" }
	     {
		if (!match($0, /(^|\n)Suites:[^\n]*/)) next
		n = split(substr($0, RSTART, RLENGTH), words, /[ \t\n]+/)
		for (i = 1; i <= n; i++)
			if (words[i] == codename) {
				sub(/Suites:[^\n]*/, "Suites: " suite); print; next
			}
	     }' "$work/parts/derived.sources"
	awk -v suite="$1" -v codename="$codename" '{
		i = 1
		if ($2 ~ /^\[/) { i = 2; while (i <= NF && $i !~ /\]$/) i++ }
		if ($(i + 2) == codename) { $(i + 2) = suite; print }
	     }' "$work/sources.list"
}

apt_private() {
	apt-get -q -o Dir::Etc::SourceList="$work/sources.list" \
		-o Dir::Etc::SourceParts="$work/parts" \
		-o Dir::State::Lists="$work/lists" \
		-o Dir::Cache="$work/cache" \
		-o APT::Sandbox::User=root \
		-o Debug::NoLocking=1 "$@"
}

fetch() { # fetch PACKAGE[=VERSION]: .dsc and tarballs into $work/src
	(cd "$work/src" && rm -f ./* && apt_private source --download-only "$1") \
		>"$work/source.log" 2>&1
}

# shellcheck disable=SC1091 # the system's own file
codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
derive
if [ ! -s "$work/parts/derived.sources" ] && [ ! -s "$work/sources.list" ]; then
	echo "inih-source: no deb entries in /etc/apt/sources.list{,.d}" >&2
	exit 1
fi
apt_private update >"$work/update.log" 2>&1 || {
	cat "$work/update.log" >&2
	exit 1
}
installed=$(dpkg-query -W -f '${Version}\n' libinih-dev 2>/dev/null | head -n 1 || true)
got=
if [ -n "$installed" ] && fetch "libinih=$installed"; then
	got="libinih $installed"
else
	echo "inih-source: Debian source libinih${installed:+ $installed} not available:" >&2
	grep -E '^(E|Err):|404' "$work/source.log" | head -n 5 | sed 's/^/  /' >&2
	for suite in $fallback; do
		with_suite "$suite" >"$work/parts/fallback.sources"
		: >"$work/sources.list"
		mv "$work/parts/derived.sources" "$work/derived.keep"
		apt_private update >"$work/update.log" 2>&1 &&
			fetch libinih && got="libinih from $suite"
		mv "$work/derived.keep" "$work/parts/derived.sources"
		rm -f "$work/parts/fallback.sources"
		[ -n "$got" ] && break
		echo "inih-source: not from $suite either" >&2
	done
fi
if [ -z "$got" ]; then
	echo "inih-source: could not get Debian's libinih source package" >&2
	exit 1
fi
dsc=$(ls "$work"/src/*.dsc)
(cd "$work/src" && dpkg-source -x "$dsc" tree) >"$work/extract.log" 2>&1 || {
	cat "$work/extract.log" >&2
	exit 1
}
mkdir -p "$out"
cp "$work/src/tree/ini.c" "$work/src/tree/ini.h" "$out/"
version=$(sed -n 's/^Version: //p' "$dsc")
echo "Debian source package libinih $version ($got)" >"$out/SOURCE"
cat "$out/SOURCE"
