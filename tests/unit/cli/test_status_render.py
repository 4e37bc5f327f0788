"""`ferry status`: what a user reads in the terminal, rendered from sample Migration objects."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from rich.console import Console

from ferry.cli.status import render_status, terminal_exit_code, watch
from ferry.humanize import human_duration, human_rate

RUNNING: dict[str, Any] = {
    "apiVersion": "ferry.dev/v1alpha1",
    "kind": "Migration",
    "metadata": {"name": "chinook", "namespace": "team-a", "generation": 3},
    "spec": {"approval": {"planHash": "3f2a9c0d1e2b"}, "suspend": False},
    "status": {
        "phase": "Running",
        "conditions": [
            {
                "type": "Ready",
                "status": "False",
                "reason": "Running",
                "message": "copying 11 tables",
                "lastTransitionTime": "2024-05-01T10:00:00Z",
            },
            {
                "type": "Reconciling",
                "status": "True",
                "reason": "Running",
                "message": "",
                "lastTransitionTime": "2024-05-01T10:00:00Z",
            },
        ],
        "plan": {
            "hash": "3f2a9c0d1e2b",
            "safe": 11,
            "lossy": 2,
            "destructive": 0,
            "warnings": ["table playlisttrack has no primary key: copied whole"],
        },
        "progress": {
            "tablesTotal": 11,
            "tablesDone": 4,
            "rowsCopied": 12345,
            "rowsEstimated": 50000,
            "percent": 24.7,
            "rowsPerSecond": 2100.0,
            "etaSeconds": 180,
        },
        "tables": [
            {"name": "artist", "state": "done", "rowsCopied": 275, "rowsEstimated": 275, "validation": "ok"},
            {"name": "track", "state": "copying", "rowsCopied": 1500, "rowsEstimated": 3503},
            {"name": "invoiceline", "state": "pending", "rowsEstimated": 2240},
        ],
        "tablesOmitted": 8,
        "jobName": "chinook-copy-1",
        "attempts": 1,
        "startTime": "2024-05-01T10:00:00Z",
    },
}


def text_of(obj: dict[str, Any], width: int = 160) -> str:
    console = Console(width=width, record=True, color_system=None)
    console.print(render_status(obj))
    return console.export_text()


def test_running_migration_shows_phase_conditions_plan_and_progress() -> None:
    out = text_of(RUNNING)
    assert "Migration team-a/chinook" in out
    assert "phase Running" in out
    for expected in ("Ready", "Reconciling", "copying 11 tables"):
        assert expected in out
    assert "3f2a9c0d1e2b" in out and "safe 11" in out and "lossy 2" in out and "destructive 0" in out
    assert "approved" in out and "not approved" not in out
    assert "no primary key" in out
    assert "24.7%" in out
    assert "12,345 / 50,000 rows" in out
    assert "2.1k rows/s" in out
    assert "ETA 3m00s" in out
    assert "4/11 done" in out
    assert "job chinook-copy-1, attempt 1" in out


def test_each_table_gets_a_line_with_its_state_and_rows() -> None:
    lines = text_of(RUNNING).splitlines()
    track = next(line for line in lines if line.startswith("track"))
    assert "copying" in track and "1,500 / 3,503" in track
    artist = next(line for line in lines if line.startswith("artist"))
    assert "done" in artist and "ok" in artist
    assert any("and 8 more tables" in line for line in lines)


def test_printer_column_texts_win_over_raw_numbers() -> None:
    obj = copy.deepcopy(RUNNING)
    obj["status"]["progress"].update({"speed": "2.1k/s", "eta": "3m"})
    out = text_of(obj)
    assert "2.1k/s" in out and "ETA 3m" in out


def test_unapproved_plan_tells_how_to_approve() -> None:
    obj = copy.deepcopy(RUNNING)
    obj["spec"] = {}
    obj["status"]["phase"] = "AwaitingApproval"
    out = text_of(obj)
    assert "phase AwaitingApproval" in out
    assert "not approved" in out and "ferry approve mig/chinook" in out


def test_a_fresh_migration_without_status_renders() -> None:
    out = text_of({"metadata": {"name": "new", "namespace": "ns"}, "spec": {}})
    assert "Migration ns/new" in out and "phase Pending" in out


@pytest.mark.parametrize(
    ("phase", "code"),
    [("Succeeded", 0), ("Failed", 1), ("RolledBack", 1), ("Running", None), ("Pending", None), (None, None)],
)
def test_terminal_phases_end_a_watch_with_an_exit_code(phase: str | None, code: int | None) -> None:
    status = {"phase": phase} if phase else {}
    assert terminal_exit_code({"status": status}) == code


def test_watch_refreshes_until_the_phase_is_terminal() -> None:
    done = copy.deepcopy(RUNNING)
    done["status"].update({"phase": "Succeeded", "completionTime": "2024-05-01T10:05:00Z"})
    sequence = [RUNNING, RUNNING, done, RUNNING]
    fetched: list[int] = []

    def fetch() -> dict[str, Any]:
        fetched.append(1)
        return sequence[len(fetched) - 1]

    console = Console(width=160, record=True, color_system=None)
    assert watch(fetch, console, interval=0, sleep=lambda _: None) == 0
    assert len(fetched) == 3
    assert "phase Succeeded" in console.export_text()


def test_human_units() -> None:
    assert human_rate(950) == "950 rows/s"
    assert human_rate(2_500_000) == "2.5M rows/s"
    assert human_duration(45) == "45s"
    assert human_duration(3725) == "1h02m"


def test_a_safe_plan_shows_no_approval_hint() -> None:
    from io import StringIO

    from rich.console import Console

    obj = {
        "metadata": {"name": "m", "namespace": "ns"},
        "spec": {},
        "status": {"phase": "Running", "plan": {"hash": "ab" * 32, "safe": 3, "lossy": 0, "destructive": 0}},
    }
    out = StringIO()
    Console(file=out, width=200).print(render_status(obj))
    assert "not approved" not in out.getvalue() and "safe 3" in out.getvalue()


def test_effective_settings_show_what_the_project_supplied() -> None:
    obj = copy.deepcopy(RUNNING)
    obj["status"]["effective"] = {
        "batchSize": 700,
        "parallelism": 1,
        "rowCountValidation": True,
        "checksumValidation": False,
        "fromProject": ["copy.batchSize"],
    }
    out = text_of(obj)
    assert "batch 700 (project), parallelism 1, validation row counts" in out


def _following() -> dict[str, Any]:
    obj = copy.deepcopy(RUNNING)
    obj["spec"]["mode"] = "online"
    obj["status"].update(
        {
            "phase": "Following",
            "jobName": "chinook-follow-1",
            "jobKind": "follower",
            "replication": {
                "startPosition": "0/16B3748",
                "state": "Following",
                "sourcePosition": "0/1700000",
                "appliedPosition": "0/16FF000",
                "lagSeconds": 0.4,
                "lagBytes": 4096,
                "changesApplied": 123456,
                "changesPerSecond": 250.0,
                "details": {"slot": "ferry_abc", "wal_status": "reserved"},
            },
        }
    )
    return obj


def test_an_online_migration_shows_its_replication_and_how_to_cut_over() -> None:
    out = text_of(_following())
    assert "phase Following" in out and "job chinook-follow-1 (follower), attempt 1" in out
    assert "Replication Following" in out and "lag 0.4s (4,096 bytes)" in out
    assert "applied 0/16FF000 (source at 0/1700000)" in out
    assert "250.0 changes/s, 123,456 applied" in out
    assert "started at 0/16B3748" in out and "slot ferry_abc, wal_status reserved" in out
    assert "Cutover not requested (ferry cutover mig/chinook)" in out


def test_a_finished_cutover_shows_its_position_and_duration() -> None:
    obj = _following()
    obj["status"]["phase"] = "Succeeded"
    obj["status"]["cutover"] = {
        "requestedAt": "2024-05-01T11:00:00Z",
        "startedAt": "2024-05-01T11:00:02Z",
        "position": "0/1800000",
        "completedAt": "2024-05-01T11:00:09Z",
        "durationSeconds": 9.0,
    }
    out = text_of(obj)
    assert "Cutover requested 2024-05-01T11:00:00Z, started 2024-05-01T11:00:02Z" in out
    assert "applied up to 0/1800000, completed 2024-05-01T11:00:09Z (9.0s)" in out


def test_an_offline_migration_shows_no_online_blocks() -> None:
    out = text_of(RUNNING)
    assert "Replication" not in out and "Cutover" not in out


def test_a_validating_migration_shows_the_key_ranges_compared_so_far() -> None:
    obj = copy.deepcopy(RUNNING)
    obj["status"]["phase"] = "Validating"
    obj["status"]["validation"] = {
        "run": 2, "jobName": "chinook-validate-2", "rangesDone": 12, "rangesTotal": 40,
        "rowsCompared": 240_000, "progress": "12/40",
    }  # fmt: skip
    line = next(line for line in text_of(obj).splitlines() if line.startswith("Validation"))
    assert "12/40 key ranges" in line and "240,000 rows compared" in line and "run 2" in line
    assert not any(line.startswith("Validation") for line in text_of(RUNNING).splitlines())
