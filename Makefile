# Ferry developer targets. `make test` sets up everything it needs on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONTROLPLANE_DIR := .cache/controlplane/bin
# envtest convention: use KUBEBUILDER_ASSETS when set, else the binaries `make controlplane` builds.
export KUBEBUILDER_ASSETS ?= $(CURDIR)/$(CONTROLPLANE_DIR)
PYTEST_ARGS ?=

.PHONY: install system-deps controlplane crds lint test test-unit test-integration test-e2e run demo bench load compare clean

$(BIN)/ferry: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -U pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(BIN)/ferry

# Database servers from Debian's packages, installed only when missing and we are root.
system-deps:
	@bash tests/harness/install-system-deps.sh

controlplane: $(KUBEBUILDER_ASSETS)/kube-apiserver $(KUBEBUILDER_ASSETS)/helm

$(CURDIR)/$(CONTROLPLANE_DIR)/kube-apiserver $(CURDIR)/$(CONTROLPLANE_DIR)/helm:
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

test-unit: install
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

run: install
	$(BIN)/ferry operator

demo: install system-deps controlplane
	PYTHONPATH=tests $(BIN)/python -m harness.demo

bench: install system-deps
	bash bench/install-anchors.sh
	PYTHONPATH=tests $(BIN)/python -m bench.run $(BENCH_ARGS)

# Many Migrations and DatabaseConnections on the real control plane with the operator: reconcile
# latency, apiserver requests/s, operator CPU and RSS, written to JSON (docs/operations.md).
load: install system-deps controlplane
	PYTHONPATH=tests:operator $(BIN)/python -m bench.load $(LOAD_ARGS)

# Ferry beside pg_dump | pg_restore (Pagila) and pgloader (a MariaDB web app), object by object
# and by behaviour; the tables in docs/schema.md ("Side by side") come from here.
compare: install system-deps
	bash bench/install-anchors.sh
	PYTHONPATH=tests $(BIN)/python -m bench.compare_objects $(COMPARE_ARGS)

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache
