"""A plan's hash is what an approval names, and every operator process re-plans (a restart, a
new leader, a re-plan on a changed basis): the same schemas must give the same plan, byte for
byte, in every process. Python salts `hash()` per process (PYTHONHASHSEED), so anything that
iterates a set or a dict built from one in hash order would show up here, and only here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.app_datasets import load_pagila
from harness.databases import Database, PostgresServer
from harness.datasets import load_chinook
from integration.copy.test_cli_run import _bundle

pytestmark = pytest.mark.integration

SEEDS = ("1", "2", "3")


def _plans(bundle: str, password: str, tmp_path: Path) -> list[str]:
    path = tmp_path / "bundle.yaml"
    path.write_text(bundle)
    command = [sys.executable, "-m", "ferry.cli.main", "plan", "-f", str(path), "--secrets-from-env"]
    outputs = []
    for seed in SEEDS:
        env = dict(os.environ, PYTHONHASHSEED=seed, FERRY_SECRET_SRC_CREDS_PASSWORD=password)
        done = subprocess.run(
            [*command, "--output", "json"], env=env, capture_output=True, text=True, check=False, timeout=300
        )
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    return outputs


def test_pagila_plans_the_same_in_every_process(
    pg_server: PostgresServer, pg_db: Database, pg_db2: Database, tmp_path: Path
) -> None:
    source = pg_server.as_superuser(pg_db)  # Pagila creates extensions
    load_pagila(source)
    plans = _plans(_bundle(source, pg_db2), source.password or "", tmp_path)
    assert len(json.loads(plans[0])["operations"]) > 100  # views, functions, triggers, domains…
    assert plans[1:] == plans[:1] * (len(plans) - 1)


def test_chinook_from_mariadb_plans_the_same_in_every_process(
    mariadb_db: Database, pg_db2: Database, tmp_path: Path
) -> None:
    load_chinook(mariadb_db)
    plans = _plans(_bundle(mariadb_db, pg_db2), mariadb_db.password or "", tmp_path)
    assert len(json.loads(plans[0])["operations"]) > 20
    assert plans[1:] == plans[:1] * (len(plans) - 1)
