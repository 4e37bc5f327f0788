#!/usr/bin/env bash
# Copy the generated CRDs into the kustomize install base. kustomize refuses files outside
# its root, so manifests/install/crds/ holds byte-identical copies of crds/ (a unit test,
# tests/unit/test_manifests.py, fails when they drift). Run by `make crds`.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf manifests/install/crds
mkdir -p manifests/install/crds
cp crds/*.yaml manifests/install/crds/
