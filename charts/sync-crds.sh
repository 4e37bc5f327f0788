#!/usr/bin/env bash
# Copy the generated CRDs into the Helm chart (rendered only when crds.create is true).
# Each gets helm.sh/resource-policy: keep, so `helm uninstall` never deletes the CRDs and
# with them every Migration and DatabaseConnection in the cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p charts/ferry/templates/crds
for f in crds/*.yaml; do
  {
    echo "{{- if .Values.crds.create }}"
    awk '{ print } !done && /^metadata:$/ { print "  annotations:"; print "    helm.sh/resource-policy: keep"; done = 1 }' "$f"
    echo "{{- end }}"
  } > "charts/ferry/templates/crds/$(basename "$f")"
done
