#!/usr/bin/env bash
# MariaDB -> PostgreSQL anchor: pgloader mysql->pgsql, the tool a user would pick instead of Ferry.
#   anchors-mariadb.sh MYSQL_URI PG_URI      (pgloader puts the tables in a schema named after the database)
# prefetch rows = 10000 as in ../shared/bench/anchors.sh: the default can exhaust pgloader's heap.
set -euo pipefail
src=$1; dst=$2
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
pgloader --root-dir "$work" --with "prefetch rows = 10000" "$src" "${dst/postgresql:/pgsql:}" >"$work/log" 2>&1 ||
  { tail -20 "$work/log" >&2; exit 1; }
# pgloader exits 0 even when rows were rejected; the benchmark's row counts catch that.
