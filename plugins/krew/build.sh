#!/usr/bin/env bash
# The krew plugin's archive and manifest for a release (`make krew-manifest`, after `make release`):
# dist/kubectl-ferry-<version>.tar.gz holds kubectl-ferry (the launcher) and Ferry's wheel from
# dist/; plugins/krew/ferry.yaml gets the version, the archive's release URL and its sha256.
#
#   DIST      where the wheel is and the archive goes (default: dist)
#   BASE_URL  where the release's assets are downloaded from
#             (default https://github.com/ferry-dev/ferry/releases/download/v<version>)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
dist=$(cd "${DIST:-$repo/dist}" && pwd)
version=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$repo/operator/ferry/__init__.py")
wheel="$dist/ferry-$version-py3-none-any.whl"
[ -f "$wheel" ] || { echo "no $wheel: run make release first" >&2; exit 1; }
base_url=${BASE_URL:-https://github.com/ferry-dev/ferry/releases/download/v$version}
archive="$dist/kubectl-ferry-$version.tar.gz"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/kubectl-ferry" "$wheel" "$work/"
# Reproducible: fixed owner, order and time, so the same inputs give the same sha256.
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2000-01-01 00:00Z' \
  -C "$work" -cf - kubectl-ferry "$(basename "$wheel")" | gzip -n > "$archive"
sha=$(sha256sum "$archive" | cut -d' ' -f1)
sed -i -e "s|^  version: .*|  version: v$version|" \
  -e "s|^      uri: .*|      uri: $base_url/kubectl-ferry-$version.tar.gz|" \
  -e "s|^      sha256: .*|      sha256: $sha|" "${MANIFEST:-$here/ferry.yaml}"
echo "$archive ($sha); ${MANIFEST:-$here/ferry.yaml} updated"
