#!/usr/bin/env bash
# Build etcd, kube-apiserver, kube-controller-manager and kubectl from Go modules into $1,
# helm (its own module graph, pinned below) to render the chart in the e2e tests, and promtool
# (Prometheus's module, pinned below) to check and unit-test the alert rules.
# Go's module and build caches (GOMODCACHE, GOCACHE) make a rebuild a matter of linking.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUTDIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)  # absolute: we cd into the module below
kube_version=$(awk '$1=="k8s.io/kubernetes" {print $2; exit}' "$here/go.mod")
mkdir -p "$out"
cd "$here"
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=${kube_version} -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(echo "$kube_version" | cut -d. -f2)"
export CGO_ENABLED=0
for binary in etcd kube-apiserver kube-controller-manager kubectl; do
  if [ ! -x "$out/$binary" ]; then
    echo "building $binary ($kube_version)"
    go build -trimpath -ldflags "$ldflags" -o "$out/$binary.tmp" "./cmd/$binary"
    mv "$out/$binary.tmp" "$out/$binary"
  fi
done
helm_version=v3.22.0
if [ ! -x "$out/helm" ]; then
  echo "building helm ($helm_version)"
  GOBIN="$out" go install -trimpath -ldflags "-s -w" "helm.sh/helm/v3/cmd/helm@$helm_version"
fi
prometheus_version=v0.316.0  # the Go module version of Prometheus 3.x
if [ ! -x "$out/promtool" ]; then
  echo "building promtool ($prometheus_version)"
  GOBIN="$out" go install -trimpath -ldflags "-s -w" "github.com/prometheus/prometheus/cmd/promtool@$prometheus_version"
fi
if [ ! -x "$out/kstatus" ]; then
  echo "building kstatus (sigs.k8s.io/cli-utils, tests/controlplane/kstatus)"
  bash "$here/build-kstatus.sh" "$out"
fi
