"""Test harness: real database servers and a real Kubernetes control plane, started by tests."""
