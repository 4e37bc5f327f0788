#!/usr/bin/env bash
# Copy the admission policy of Project connection rules into the Helm chart, behind
# admissionPolicies.connections and a Kubernetes version check: its CEL uses the IP and CIDR
# library, which the apiserver accepts from 1.31. On older clusters the chart renders nothing
# (NOTES.txt says so) and the operator's own check remains. Run by `make crds`;
# tests/unit/test_manifests.py fails when the copy drifts.
set -euo pipefail
cd "$(dirname "$0")/.."
source=manifests/policies/ferry-connection-policy.yaml
{
  echo '{{- if and .Values.admissionPolicies.connections (semverCompare ">=1.31-0" .Capabilities.KubeVersion.Version) }}'
  grep -v '^#' "$source"
  echo "{{- end }}"
} > charts/ferry/templates/policy-connections.yaml
