"""Ferry: a Kubernetes operator that moves data between relational databases."""

__version__ = "0.1.0"
