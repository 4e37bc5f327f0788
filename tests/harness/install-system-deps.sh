#!/usr/bin/env bash
# Install the database servers the tests start (PostgreSQL 15 with PostGIS, MariaDB from
# Debian), Go, and the image tools (buildah, mmdebstrap), only when they are missing.
# Needs root for apt; otherwise says what to install.
set -euo pipefail
need=()
[ -x /usr/lib/postgresql/15/bin/postgres ] || need+=(postgresql-15 postgresql-client-15)
# PostGIS: the golden case and run test of geometry(Point,4326) columns (PostgreSQL to PostgreSQL).
[ -e /usr/share/postgresql/15/extension/postgis.control ] || need+=(postgresql-15-postgis-3)
command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || need+=(mariadb-server mariadb-client)
command -v go >/dev/null 2>&1 || need+=(golang-go)
# The container image (`make image`, tests/e2e/test_image_install.py): buildah builds and
# runs it, mmdebstrap makes its Debian base where no registry is reachable.
command -v buildah >/dev/null 2>&1 || need+=(buildah)
command -v mmdebstrap >/dev/null 2>&1 || need+=(mmdebstrap)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "missing packages: ${need[*]} (install them with apt-get as root)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Keep Debian's service scripts from starting system-wide servers: the tests start their own.
[ -e /usr/sbin/policy-rc.d ] || { printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; }
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
