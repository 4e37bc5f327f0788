#!/usr/bin/env bash
# Rewrite go.mod for another Kubernetes version: one replace line per staging module,
# read from that version's own go.mod, and the etcd server version it requires.
set -euo pipefail
kube_version=${1:?usage: gen-gomod.sh vX.Y.Z}
cd "$(dirname "$0")"
gomod=$(go mod download -json "k8s.io/kubernetes@$kube_version" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
etcd_version=$(awk '$1=="go.etcd.io/etcd/server/v3" {print $2; exit}' "$gomod")
staging_version="v0${kube_version#v1}"
{
  echo "// Module controlplane builds a real Kubernetes control plane for Ferry's tests."
  echo "// Regenerate the replace block with tests/controlplane/gen-gomod.sh when changing versions."
  echo "module ferry.dev/tests/controlplane"
  echo
  echo "go 1.24.0"
  echo
  echo "require ("
  echo "	k8s.io/kubernetes $kube_version"
  echo "	go.etcd.io/etcd/server/v3 $etcd_version"
  echo ")"
  echo
  echo "replace ("
  grep -E '=> ./staging' "$gomod" | awk -v v="$staging_version" '{print "\t"$1" => "$1" "v}'
  echo ")"
} > go.mod
go mod tidy
