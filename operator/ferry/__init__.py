"""Ferry: a Kubernetes operator that moves data between relational databases."""

# The version's one place: pyproject.toml reads it (`dynamic`), image/build.sh tags the image with
# it, the worker's default image names it, and `make release-manifests` writes it into the chart
# and manifests/install (tests/unit/image/test_release_manifests.py holds them equal).
__version__ = "0.1.0"
