"""Native apply: a PostgreSQL subscription on the target takes over Ferry's slot and publication.

PostgreSQL → PostgreSQL only. Ferry keeps its capture (the slot and publication made before the
copy) and its bookkeeping; the subscription only replaces the applier, and Ferry orchestrates it
(`ferry.cdc.native_follower`): creates it, watches it, stops it at the cutover and drops it.

Eligible when (each refusal is a sentence for status and `spec.online.apply: native` errors):
- both sides are PostgreSQL, the target 15 or later (pg_stat_subscription_stats, disable_on_error);
- every mapping keeps the schema, table and column names, carries every published column, and
  has no transform and no `where` (the apply worker matches a change's table by its source schema
  and name, and writes every column it receives, as it receives it); the publication holds no
  table the migration does not follow (an inheritance child not selected: Ferry's applier skips
  its changes, the apply worker would look for its table on the target);
- the source needs no TLS files (a CA or client certificate would have to be files on the target
  server);
- the target finds rows by columns the source sends (its primary key or REPLICA IDENTITY index
  lies within the source's replica identity);
- the target's user may create subscriptions (PG15: superuser; PG16+: pg_create_subscription and
  CREATE on the database);
- the target server reaches the source: proved by creating the subscription (`connect = true`).

The subscription's connection string holds the source's password and is stored in the target's
`pg_subscription` catalog, readable by superusers only. Ferry never reads it back, logs it or puts
it in a status or an error: errors pass through `ferry.observability.redaction.redact` with the
password as an extra secret.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import psycopg
from psycopg import errors, sql
from psycopg.rows import dict_row

from ferry.cdc import native_apply_sql as q
from ferry.cdc import pg_capture_sql as capture_q
from ferry.cdc.names import capture_name
from ferry.cdc.pgoutput import lsn_text, parse_lsn
from ferry.db.dialects import family
from ferry.db.engines import libpq_params, psycopg_connect_params
from ferry.db.target import resolve_target
from ferry.observability.errors import first_line
from ferry.observability.redaction import redact
from ferry.schema.mapping import TableMapping
from ferry.services.planning import Side

MIN_TARGET_VERSION: Final = 150000
WORKER_STOP_SECONDS: Final = 30.0

Conn = psycopg.AsyncConnection[Any]


class NativeApplyUnavailable(Exception):
    """Native apply cannot run for this migration; the message says why (never a secret)."""


def subscription_name(migration_uid: str) -> str:
    """The subscription on the target: named like the capture it takes over (ferry_<uid>)."""
    return capture_name(migration_uid)


def static_ineligibility(source: Side, target: Side, mappings: Sequence[TableMapping]) -> str | None:
    """Why the spec alone rules native apply out; None when it does not."""
    if family(source.spec.engine) != "postgresql" or family(target.spec.engine) != "postgresql":
        return "native apply needs PostgreSQL on both sides"
    for m in mappings:
        label = m.qualified_source
        if m.source_table != m.target_table:  # schemas: compared in the catalogs (target_ineligibility)
            return f"table {label} is written to {m.qualified_target} (native apply keeps table names)"
        renamed = [c.source for c in m.columns if c.source != c.target]
        if renamed:
            return f"table {label}: column {renamed[0]} is renamed (native apply keeps column names)"
        transformed = [c.source for c in m.columns if c.transform is not None]
        if transformed:
            return f"table {label}: column {transformed[0]} has a transform (native apply copies values)"
        if m.where:
            return f"table {label} has a where filter"
    resolved = resolve_target(source.spec, source.credentials)
    if resolved.ca_pem or resolved.client_cert_pem or resolved.client_key_pem:
        return (
            "the source connection uses TLS certificates, which would have to be files on the target server"
        )
    return None


def source_conninfo(source: Side) -> str:
    """The libpq connection string the target server uses to reach the source. Holds the password:
    only ever passed to CREATE SUBSCRIPTION."""
    resolved = resolve_target(source.spec, source.credentials)
    params: dict[str, Any] = {"host": resolved.host, "port": resolved.port, "dbname": resolved.database,
                              "user": resolved.username, "password": resolved.password}  # fmt: skip
    params |= libpq_params(resolved, None)
    # require_auth (what refuses a clear-text password request on Ferry's own connections) is a
    # libpq 16 option: the target server's libpq may be older and would reject the whole string.
    params.pop("require_auth", None)
    params["application_name"] = "ferry-native-apply"
    return psycopg.conninfo.make_conninfo(**{k: str(v) for k, v in params.items() if v is not None})


async def target_ineligibility(
    target: Conn, source: Conn, mappings: Sequence[TableMapping], publication: str
) -> str | None:
    """Why the target (its version, its user, its tables) rules native apply out; None when it does not."""
    async with target.cursor(row_factory=dict_row) as cur:
        role = await (await cur.execute(q.ROLE)).fetchone()
    assert role is not None
    if role["version"] < MIN_TARGET_VERSION:
        return "native apply needs PostgreSQL 15 or later on the target"
    if not role["rolsuper"]:
        if role["version"] < 160000:
            return "the target's user may not CREATE SUBSCRIPTION (PostgreSQL 15: superuser only)"
        member = await (await target.execute(q.CREATE_SUBSCRIPTION_ROLE)).fetchone()
        if not (member and member[0] and role["can_create"]):
            return (
                "the target's user may not CREATE SUBSCRIPTION (GRANT pg_create_subscription and CREATE "
                "on the database to it)"
            )
    return await _tables_ineligibility(target, source, mappings, publication)


async def _tables_ineligibility(
    target: Conn, source: Conn, mappings: Sequence[TableMapping], publication: str
) -> str | None:
    def params(schemas: list[str | None], names: list[str]) -> dict[str, Any]:
        return {"schemas": schemas, "names": names}

    async with source.cursor(row_factory=dict_row) as cur:
        src = params([m.source_schema for m in mappings], [m.source_table for m in mappings])
        sources = await (await cur.execute(capture_q.TABLES, src)).fetchall()
        oids = [t["oid"] for t in sources if t["oid"] is not None]
        columns = await (await cur.execute(capture_q.COLUMNS, {"oids": oids})).fetchall()
        published_tables = await (await cur.execute(q.PUBLISHED_TABLES, {"name": publication})).fetchall()
    async with target.cursor(row_factory=dict_row) as cur:
        tgt = params([m.target_schema for m in mappings], [m.target_table for m in mappings])
        targets = await (await cur.execute(q.TARGET_TABLES, tgt)).fetchall()
    followed = {(s["nspname"], s["relname"]) for s in sources}
    extra = [f"{t['schemaname']}.{t['tablename']}" for t in published_tables
             if (t["schemaname"], t["tablename"]) not in followed]  # fmt: skip
    if extra:
        return f"the publication also carries table {extra[0]}, which the migration does not follow"
    published: dict[int, list[str]] = {}
    for c in columns:
        published.setdefault(c["oid"], []).append(c["name"])
    for m, s, t in zip(mappings, sources, targets, strict=True):
        label = m.qualified_source
        if s["oid"] is None or t["relname"] is None:
            return f"table {label} is missing on the {'source' if s['oid'] is None else 'target'}"
        if (s["nspname"], s["relname"]) != (t["nspname"], t["relname"]):
            return (
                f"table {s['nspname']}.{s['relname']} is {t['nspname']}.{t['relname']} on the target "
                "(native apply keeps schema and table names)"
            )
        sent = published.get(s["oid"], [])
        mapped = {c.source for c in m.columns}
        left_out = [c for c in sent if c not in mapped]
        if left_out:
            return f"table {label}: column {left_out[0]} is not copied (native apply writes every column)"
        missing = [c for c in sent if c not in (t["columns"] or [])]
        if missing:
            return f"table {label}: column {missing[0]} is missing on the target"
        identity = t["identity"] or []
        if not identity:
            return f"table {label} has no primary key on the target"
        if s["relreplident"] != "f":
            key = (s["identity_index"] if s["relreplident"] == "i" else s["primary_key"]) or []
            if not set(identity) <= set(key):
                return (
                    f"table {label}: the target finds rows by ({', '.join(identity)}), which the source "
                    "does not send as its replica identity"
                )
    return None


@dataclass(frozen=True)
class Subscription:
    """The subscription as the target's catalogs show it."""

    oid: int
    enabled: bool
    slot_name: str | None
    worker_pid: int | None  # its apply worker; None when none runs
    origin_lsn: int | None  # its replication origin: the end of the last source commit applied
    latest_end_lsn: int | None  # the source position the worker last confirmed reading through
    latest_end_time: datetime | None
    last_msg_receipt_time: datetime | None
    apply_error_count: int

    @property
    def applied_lsn(self) -> int:
        """Every source commit ending at or before this is applied on the target. The worker applies
        in stream order and reports a position only between transactions, so the position it
        acknowledged (latest_end_lsn) counts as well as its origin: on a source where no followed
        table changes, only that one moves."""
        return max(self.origin_lsn or 0, self.latest_end_lsn or 0)


async def find(target: Conn, name: str) -> Subscription | None:
    async with target.cursor(row_factory=dict_row) as cur:
        row = await (await cur.execute(q.SUBSCRIPTION, {"name": name})).fetchone()
    if row is None:
        return None
    origin: int | None = None
    with contextlib.suppress(errors.InsufficientPrivilege):  # PG16+ without superuser: the stats only
        found = await (await target.execute(q.ORIGIN, {"origin": f"pg_{row['oid']}"})).fetchone()
        origin = parse_lsn(found[0]) if found and found[0] else None
    return Subscription(
        oid=row["oid"],
        enabled=row["enabled"],
        slot_name=row["slot_name"],
        worker_pid=row["worker_pid"],
        origin_lsn=origin,
        latest_end_lsn=parse_lsn(row["latest_end_lsn"]) if row["latest_end_lsn"] else None,
        latest_end_time=row["latest_end_time"],
        last_msg_receipt_time=row["last_msg_receipt_time"],
        apply_error_count=row["apply_error_count"] or 0,
    )


async def create(target: Conn, source: Side, migration_uid: str) -> None:
    """CREATE SUBSCRIPTION on the target over Ferry's slot and publication, disabled. Raises
    NativeApplyUnavailable (its text redacted) when the target refuses it or cannot reach the source."""
    name = sql.Identifier(subscription_name(migration_uid))
    capture = capture_name(migration_uid)
    conninfo = source_conninfo(source)
    for statement in q.QUIET_LOG:
        with contextlib.suppress(errors.InsufficientPrivilege, errors.CantChangeRuntimeParam):
            await target.execute(statement)
    create = sql.SQL(q.CREATE).format(
        name=name,
        conninfo=sql.Literal(conninfo),
        publication=sql.Identifier(capture),
        slot=sql.Literal(capture),
    )
    try:
        await target.execute(create)
    except errors.DuplicateObject:
        return  # a follower killed right after creating it: adopted as it is
    except psycopg.Error as error:
        raise NativeApplyUnavailable(
            "the target could not create the subscription: "
            + redact(first_line(error), [source.credentials.password, conninfo])
        ) from None
    finally:
        with contextlib.suppress(psycopg.Error):
            await target.execute("RESET log_statement; RESET log_min_error_statement")


async def enable(target: Conn, name: str) -> None:
    await target.execute(sql.SQL(q.ENABLE).format(name=sql.Identifier(name)))


async def disable(target: Conn, name: str, wait_seconds: float = WORKER_STOP_SECONDS) -> Subscription | None:
    """Disable it and wait until its apply worker has exited (the worker stops between
    transactions): the origin then holds the final applied position. Returns the state then."""
    await target.execute(sql.SQL(q.DISABLE).format(name=sql.Identifier(name)))
    deadline = asyncio.get_running_loop().time() + wait_seconds
    while True:
        state = await find(target, name)
        if state is None or state.worker_pid is None:
            return state
        if asyncio.get_running_loop().time() >= deadline:
            raise RuntimeError(
                f"the subscription's apply worker (pid {state.worker_pid}) did not stop in {wait_seconds:g} s"
            )
        await asyncio.sleep(0.1)


async def drop(target: Conn, name: str) -> bool:
    """Disable, detach from the slot (so the slot stays for Ferry's own drop) and drop; False when
    there was none. Idempotent."""
    if await find(target, name) is None:
        return False
    ident = sql.Identifier(name)
    await disable(target, name)
    await target.execute(sql.SQL(q.DETACH).format(name=ident))
    await target.execute(sql.SQL(q.DROP).format(name=ident))
    return True


async def align_slot(source: Conn, slot: str, applied_lsn: int) -> None:
    """Move the slot to what Ferry's applier committed on the target (a commit's end), unless it is
    there already: the subscription starts streaming at the slot's confirmed position, and must
    not get again what Ferry applied (Ferry advances the slot after its target commits, so a crash
    in between leaves it behind)."""
    async with source.cursor(row_factory=dict_row) as cur:
        row = await (await cur.execute(q.SLOT_CONFIRMED, {"slot": slot})).fetchone()
    if row is None:
        raise NativeApplyUnavailable(f"replication slot {slot} does not exist on the source")
    if parse_lsn(row["confirmed_flush_lsn"]) < applied_lsn:
        await source.execute(q.SLOT_ADVANCE, {"slot": slot, "lsn": lsn_text(applied_lsn)})


async def connect(side: Side) -> Conn:
    """An autocommit connection (the subscription's statements cannot run in a transaction block)."""
    with psycopg_connect_params(side.spec, side.credentials) as params:
        return await psycopg.AsyncConnection.connect(**params, autocommit=True)


def drop_subscription(target: Side, migration_uid: str) -> str:
    """The migration's subscription, dropped if the target has one (rollback, delete, failure:
    before the slot is dropped); what was dropped, for messages. Synchronous, for the operator."""
    if family(target.spec.engine) != "postgresql":
        return ""
    name = subscription_name(migration_uid)
    ident = sql.Identifier(name)
    with psycopg_connect_params(target.spec, target.credentials) as params:
        conn = psycopg.connect(**params, autocommit=True)
    with conn:
        if conn.execute(q.SUBSCRIPTION, {"name": name}).fetchone() is None:
            return ""
        conn.execute(sql.SQL(q.DISABLE).format(name=ident))
        deadline = time.monotonic() + WORKER_STOP_SECONDS
        while time.monotonic() < deadline:
            row = conn.execute(q.SUBSCRIPTION, {"name": name}).fetchone()
            if row is None or row[3] is None:  # worker_pid
                break
            time.sleep(0.1)
        conn.execute(sql.SQL(q.DETACH).format(name=ident))
        conn.execute(sql.SQL(q.DROP).format(name=ident))
    return f"subscription {name}"


def subscription_details(name: str, state: Subscription | None) -> Mapping[str, str]:
    """What status.replication.details shows of the subscription (no connection string)."""
    if state is None:
        return {"subscription": name, "subscriptionExists": "false"}
    out = {"subscription": name, "subscriptionEnabled": str(state.enabled).lower(),
           "applyWorker": "running" if state.worker_pid else "stopped"}  # fmt: skip
    if state.apply_error_count:
        out["applyErrors"] = str(state.apply_error_count)
    return out
