"""Local online mode without a server: the follower's line and what refuses a migration online."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from rich.console import Console

from ferry.api.migration import Transform, TransformType
from ferry.cdc.progress import FollowState, ReplicationProgress
from ferry.cli.follow_display import FollowLine, describe
from ferry.cli.online import online_problems
from ferry.schema.mapping import ColumnMapping, TableMapping


def _progress(state: FollowState, **changes: Any) -> ReplicationProgress:
    values: dict[str, Any] = {
        "state": state, "start_position": "0/10", "source_position": "0/90", "applied_position": "0/80",
        "lag_seconds": 1.25, "lag_bytes": 3 * 1024 * 1024, "changes_applied": 12345,
        "changes_per_second": 812.4, "last_applied_time": None,
    } | changes  # fmt: skip
    return ReplicationProgress(**values)


def test_the_line_says_state_lag_and_rate() -> None:
    assert describe(_progress(FollowState.FOLLOWING)) == (
        "Following: lag 1.2 s (3 MiB of changes), 12,345 changes applied (812/s), at 0/80"
    )
    cutting = describe(
        _progress(FollowState.CUTTING_OVER, lag_seconds=None, lag_bytes=None, cutover_position="0/A0")
    )
    assert cutting == "CuttingOver: lag ?, 12,345 changes applied (812/s), at 0/80, cutover at 0/A0"


def test_in_logs_a_line_is_printed_on_a_new_state_and_not_more_than_every_ten_seconds() -> None:
    console = Console(record=True, width=200)
    line = FollowLine(console, live=False)
    with line:
        for state in (FollowState.CATCHING_UP, FollowState.CATCHING_UP, FollowState.FOLLOWING):
            line(_progress(state))
    printed = console.export_text().splitlines()
    assert [p.split(":")[0] for p in printed] == ["CatchingUp", "Following"]


def _prepared(target: str = "postgresql", source: str = "postgresql", **mapping: Any) -> Any:
    columns = (
        ColumnMapping("id", "id", "integer", "integer", False, mapping.pop("transform", None)),
        ColumnMapping("v", "v", "text", "text", True),
    )
    table = TableMapping(
        "public", "t", "public", "t", columns, mapping.pop("key", ("id",)), mapping.pop("where", None)
    )
    side = lambda engine: SimpleNamespace(dialect=engine, spec=SimpleNamespace(engine=engine))  # noqa: E731
    return SimpleNamespace(target=side(target), source=side(source), mappings=[table])


def test_what_keeps_a_migration_from_running_online() -> None:
    assert online_problems(_prepared()) == []
    assert online_problems(_prepared(target="mysql")) == [
        "online mode needs a PostgreSQL target; mysql is not (use mode: offline)"
    ]
    assert "has no change capture in Ferry" in online_problems(_prepared(source="sqlite"))[0]
    assert online_problems(_prepared(key=())) == [
        "public.t: no primary key or unique key of NOT NULL columns to apply changes by"
    ]
    assert "a where filter cannot be followed" in online_problems(_prepared(where="v <> ''"))[0]
    encrypted = Transform(column="id", type=TransformType.ENCRYPT, key_secret_ref={"name": "k", "key": "k"})
    assert "key column id is encrypted" in online_problems(_prepared(transform=encrypted))[0]
