#!/usr/bin/env bash
# Installs the benchmark's anchor tools from Debian's packages when they are missing:
# pgcopydb (`pgcopydb clone`) and pgloader. Needs root for apt; without it, says what is missing.
# The benchmark itself reports an anchor that cannot run, with the reason, instead of skipping it.
set -uo pipefail
missing=()
command -v pgcopydb >/dev/null 2>&1 || missing+=(pgcopydb)
command -v pgloader >/dev/null 2>&1 || missing+=(pgloader)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "bench: anchors missing (${missing[*]}); install them with: sudo apt-get install ${missing[*]}" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || true
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
  echo "bench: apt-get install ${missing[*]} failed; the benchmark reports those anchors as not run" >&2
# Debian installs pgcopydb under the PostgreSQL version's bin directory only.
if ! command -v pgcopydb >/dev/null 2>&1; then
  for bin in /usr/lib/postgresql/*/bin/pgcopydb; do
    [ -x "$bin" ] && ln -sf "$bin" /usr/local/bin/pgcopydb && break
  done
fi
exit 0
