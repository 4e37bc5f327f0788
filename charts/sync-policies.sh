#!/usr/bin/env bash
# Copy the admission policies into the Helm chart. First, that of Project connection rules,, behind
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

# The verified-approvals policy is part of the install base (the operator counts approvals only
# while it is installed): in the chart behind admissionPolicies.approvals (default true) and
# Kubernetes 1.30+, where ValidatingAdmissionPolicy is v1.
source=manifests/install/policy-approvals.yaml
{
  echo '{{- if and .Values.admissionPolicies.approvals (semverCompare ">=1.30-0" .Capabilities.KubeVersion.Version) }}'
  grep -v '^#' "$source"
  echo "{{- end }}"
} > charts/ferry/templates/policy-approvals.yaml
