# Ferry developer targets. `make test` sets up everything it needs on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONTROLPLANE_DIR := .cache/controlplane/bin
# envtest convention: use KUBEBUILDER_ASSETS when set, else the binaries `make controlplane` builds.
export KUBEBUILDER_ASSETS ?= $(CURDIR)/$(CONTROLPLANE_DIR)
PYTEST_ARGS ?=

.PHONY: install lock audit system-deps controlplane crds lint test test-unit test-integration test-e2e test-image test-release test-long image image-lock release release-manifests krew-manifest run demo demo-image bench load soak worker-rss compare clean

# Exactly the locked versions, each wheel or sdist checked against its hash (requirements.lock,
# made by `make lock` from pyproject.toml), then Ferry itself without resolving anything again.
$(BIN)/ferry: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -U pip
	$(BIN)/pip install -q --require-hashes -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $@

install: $(BIN)/ferry

# Regenerate requirements.lock after a change of pyproject.toml's dependencies: versions already
# locked are kept (UPGRADE=1 takes the newest that fit). uv resolves in about a second.
lock: install
	$(BIN)/pip install -q uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 \
		$(if $(UPGRADE),--upgrade) -o requirements.lock

# Known vulnerabilities of every locked dependency (pip-audit, PyPI's advisory data), read from
# the lock's pins without installing them again. Not part of `lint` (so not of CI): this
# workplace reaches PyPI's package index but not the per-version JSON API nor OSV that
# pip-audit queries, so here it fails for every package; run it where those are reachable.
audit: install
	$(BIN)/pip install -q 'pip-audit>=2.7'
	$(BIN)/pip-audit --strict --vulnerability-service pypi --no-deps --disable-pip -r requirements.lock

# Database servers from Debian's packages, installed only when missing and we are root.
system-deps:
	@bash tests/harness/install-system-deps.sh

controlplane: $(KUBEBUILDER_ASSETS)/kube-apiserver $(KUBEBUILDER_ASSETS)/helm $(KUBEBUILDER_ASSETS)/promtool

$(CURDIR)/$(CONTROLPLANE_DIR)/kube-apiserver $(CURDIR)/$(CONTROLPLANE_DIR)/helm $(CURDIR)/$(CONTROLPLANE_DIR)/promtool:
	bash tests/controlplane/build.sh $(CURDIR)/$(CONTROLPLANE_DIR)

crds: install
	$(BIN)/python -m ferry.api.generate crds
	bash charts/sync-crds.sh
	bash manifests/sync-crds.sh
	bash charts/sync-policies.sh

lint: install
	$(BIN)/ruff check operator tests bench
	$(BIN)/ruff format --check operator tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

test: install system-deps controlplane
	$(BIN)/pytest $(PYTEST_ARGS)

# The container-image tier alone (tests/e2e/test_image_install.py; also part of `make test`):
# builds the image when its content changed (about 1.5-3 min here), else reuses it.
test-image: install system-deps controlplane
	$(BIN)/pytest -m image $(PYTEST_ARGS)

# The Python release (tests/integration/cli/test_release_wheel.py; not in `make test`, one to two minutes):
# wheel and sdist built and checked, the wheel installed into a fresh virtualenv and run.
test-release: install system-deps
	$(BIN)/pytest -m release $(PYTEST_ARGS)

# The fault scenarios alone (every test marked `faults`: API server and database outages, a
# Migration recreated under its name, the operator killed in every phase, an evicted worker,
# workers killed at 22 random points, an online follower killed twice mid-follow, deletion on a
# bad day): minutes of stopped servers and
# killed processes, so not in `make test`. Each prints its seed; FERRY_FAULT_SEED=<n> replays it.
# Scenarios that wait on real time for minutes (marker `long`: maintenance windows opening and
# closing): not in `make test`.
test-long: install system-deps controlplane
	$(BIN)/pytest -m long $(PYTEST_ARGS)

test-faults: install system-deps controlplane
	$(BIN)/pytest -m faults tests/e2e tests/integration/copy/test_run_kills.py $(PYTEST_ARGS)

test-unit: install
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

# The container image (ghcr.io/ferry-dev/ferry:<version>, or IMAGE=...): wheels fetched on the
# host for the base's Python, built with docker when its daemon answers, else buildah (on a
# Debian base made with mmdebstrap unless BASE=... names one). Prints its size and digest.
image: install system-deps
	PYTHON=$(CURDIR)/$(BIN)/python bash image/build.sh

# The release's version (operator/ferry/__init__.py) and, once the image is pushed, its digest
# (DIGEST=sha256:...) written into manifests/install, the chart and the Containerfile.
release-manifests: install
	$(BIN)/python image/release_manifests.py $(if $(DIGEST),--digest $(DIGEST))

# The Python release: wheel and sdist in dist/, checked as PyPI would render them.
release: install
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/twine check --strict dist/*

# The krew plugin for `kubectl ferry`: dist/kubectl-ferry-<version>.tar.gz (launcher + wheel) and
# its sha256 in plugins/krew/ferry.yaml. After `make release`.
krew-manifest:
	bash plugins/krew/build.sh

# image/requirements.lock from pyproject.toml's dependencies (after changing them).
image-lock: install
	PIP=$(CURDIR)/$(BIN)/pip bash image/lock.sh

run: install
	$(BIN)/ferry operator

demo: install system-deps controlplane
	PYTHONPATH=tests $(BIN)/python -m harness.demo

# The demo with the operator installed by `kubectl apply -k` and every pod run from the image.
demo-image: install system-deps controlplane
	PYTHONPATH=tests $(BIN)/python -m harness.demo --image

bench: install system-deps
	bash bench/install-anchors.sh
	PYTHONPATH=tests $(BIN)/python -m bench.run $(BENCH_ARGS)

# Many Migrations and DatabaseConnections on the real control plane with the operator: reconcile
# latency, apiserver requests/s, operator CPU and RSS, written to JSON (docs/operations.md).
load: install system-deps controlplane
	PYTHONPATH=tests:operator $(BIN)/python -m bench.load $(LOAD_ARGS)

# Migrations cycling create -> run -> delete (SOAK_ARGS="--migrations 20 --duration 1800" by
# default): the operator's RSS over time and what leaked at the end, written to JSON (docs/operations.md).
soak: install system-deps controlplane
	PYTHONPATH=tests:operator $(BIN)/python -m bench.soak $(SOAK_ARGS)

# One large table copied by `ferry worker`'s copy (ferry run), the worker's RSS sampled over time
# (WORKER_RSS_ARGS="--rows 20000000" by default), written to JSON (docs/operations.md).
worker-rss: install system-deps
	PYTHONPATH=tests:operator $(BIN)/python -m bench.worker_rss $(WORKER_RSS_ARGS)

# Ferry beside pg_dump | pg_restore (Pagila) and pgloader (a MariaDB web app), object by object
# and by behaviour; the tables in docs/schema.md ("Side by side") come from here.
compare: install system-deps
	bash bench/install-anchors.sh
	PYTHONPATH=tests $(BIN)/python -m bench.compare_objects $(COMPARE_ARGS)

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache
