#!/usr/bin/env bash
# in-image.sh ROOT WORKDIR USER ENVFILE CMDFILE [NAME=VALUE]...
# Runs a container image's command from its root file system ROOT, as
# tests/e2e/run.sh's web host (E2E_CASES=image; mk/images.sh sets it up):
# the image's environment (ENVFILE, one NAME=VALUE a line) and then the
# given NAME=VALUEs, its WORKDIR, USER and command (CMDFILE, one word a
# line), chrooted. Run it under `unshare --mount`: the network namespace's
# /etc/hosts and resolv.conf and a /proc are mounted into ROOT there and go
# away with it.
set -euo pipefail
root=$1 workdir=$2 user=$3 envfile=$4 cmdfile=$5
shift 5
for f in hosts resolv.conf; do
  [ -e "$root/etc/$f" ] || : >"$root/etc/$f"
  mount --bind "/etc/$f" "$root/etc/$f"
done
mount -t proc proc "$root/proc"
uid=$(awk -F: -v u="$user" '$1 == u || $3 == u { print $3; exit }' "$root/etc/passwd")
gid=$(awk -F: -v u="$user" '$1 == u || $3 == u { print $4; exit }' "$root/etc/passwd")
home=$(awk -F: -v u="$user" '$1 == u || $3 == u { print $6; exit }' "$root/etc/passwd")
[ -n "$uid" ] || { echo "in-image: no user $user in $root/etc/passwd" >&2; exit 1; }
mapfile -t ienv <"$envfile"
mapfile -t icmd <"$cmdfile"
# shellcheck disable=SC2016 # run by the image's sh
exec chroot --userspec="$uid:$gid" "$root" /usr/bin/env -i HOME="${home:-/}" "${ienv[@]}" "$@" \
  /bin/sh -c 'cd "$0" && exec "$@"' "${workdir:-/}" "${icmd[@]}"
