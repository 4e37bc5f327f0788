#!/usr/bin/env bash
# Build the kstatus helper (tests/controlplane/kstatus: Flux's and kpt's readiness library,
# sigs.k8s.io/cli-utils/pkg/kstatus/status, reading one object as JSON on stdin) into $1.
# Its own small module, apart from the control plane's: no Kubernetes version to agree on.
# Go's build cache makes a build with nothing changed a link of about half a second.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build-kstatus.sh OUTDIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$here/kstatus"
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out/kstatus.tmp" .
mv "$out/kstatus.tmp" "$out/kstatus"
