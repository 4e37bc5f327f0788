"""`make bench`: Ferry's copy speed against the tools a user would pick instead (see docs/benchmark.md)."""
