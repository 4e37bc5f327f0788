#!/usr/bin/env bash
# Make a Python base image from Debian's packages, for machines that reach Debian's archive
# but no container registry (the tests' machine): mmdebstrap writes a bookworm root file
# system with python3, and buildah imports it as image $1 (default localhost/ferry-base:bookworm).
# It plays the part of python:3.12-slim-bookworm: bookworm's python3 (3.11), no compiler,
# no apt, no docs or locales (the "essential" variant plus what Python needs).
set -euo pipefail
name=${1:-localhost/ferry-base:bookworm}
if buildah inspect --type image "$name" >/dev/null 2>&1; then
  echo "base image $name present"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "making base image $name with mmdebstrap (about 40 s)"
# merged-usr hook: /usr-merge done by mmdebstrap itself, so the usrmerge package (and with it
# 45 MB of perl) is not installed. python3-venv: the build stage makes the venv with it.
mmdebstrap --quiet --variant=essential --include=python3,python3-venv,ca-certificates \
  --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  bookworm "$work/rootfs.tar" >"$work/mmdebstrap.log" 2>&1 || { cat "$work/mmdebstrap.log" >&2; exit 1; }
container=$(buildah from scratch)
buildah add --quiet "$container" "$work/rootfs.tar" / >/dev/null
buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env LANG=C.UTF-8 --cmd python3 "$container"
buildah commit --quiet --rm "$container" "$name" >/dev/null
echo "base image $name made"
