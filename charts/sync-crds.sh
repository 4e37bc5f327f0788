#!/usr/bin/env bash
# Copy the generated CRDs into the Helm chart (rendered only when crds.create is true).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p charts/ferry/templates/crds
for f in crds/*.yaml; do
  {
    echo "{{- if .Values.crds.create }}"
    cat "$f"
    echo "{{- end }}"
  } > "charts/ferry/templates/crds/$(basename "$f")"
done
