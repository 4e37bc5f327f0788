"""PostgreSQL objects beyond tables, as plan operations (ferry.schema.objects_plan), without a server."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ferry.api.migration import MigrationSpec
from ferry.schema import Column, DatabaseSchema, OpKind, Table, build_plan, render_ddl, select_tables
from ferry.schema.model import PgObject
from ferry.schema.pg_retarget import retarget

SPEC = MigrationSpec.model_validate(
    {"source": {"connectionRef": {"name": "s"}}, "target": {"connectionRef": {"name": "t"}}}
)
CITEXT = PgObject(
    "extension", "citext", ("CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA public",), provides=("citext",)
)
USER = Table(
    "app_user", "public", (Column("id", "integer", nullable=False), Column("email", "citext")), ("id",)
)


def _schema(
    *objects: PgObject, tables: tuple[Table, ...] = (USER,), available: tuple[str, ...] = ()
) -> DatabaseSchema:
    return DatabaseSchema(
        "postgresql", "public", {t.name: t for t in tables}, objects=objects, available_extensions=available
    )


def _plan(source: DatabaseSchema, target: DatabaseSchema):  # type: ignore[no-untyped-def]
    mappings = select_tables(source, SPEC, "postgresql")
    return build_plan(source, target, mappings, mode="create", target_dialect="postgresql")


def test_an_extension_is_created_before_the_tables_that_use_its_types() -> None:
    plan = _plan(_schema(CITEXT), _schema(tables=(), available=("citext",)))
    assert [op.kind for op in plan.operations] == [OpKind.CREATE_EXTENSION, OpKind.CREATE_TABLE]
    assert render_ddl(plan.operations[:1], "postgresql") == [
        "CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA public"
    ]


def test_an_extension_the_target_server_lacks_is_a_plan_error_naming_it_and_its_columns() -> None:
    plan = _plan(_schema(CITEXT), _schema(tables=(), available=("hstore",)))
    assert plan.errors == (
        "extension citext is not available on the target server (pg_available_extensions) and "
        "app_user.email use its types: install it there or leave those columns out",
    )


def test_an_unused_missing_extension_is_named_not_created() -> None:
    plain = replace(USER, columns=(Column("id", "integer", nullable=False),))
    plan = _plan(_schema(CITEXT, tables=(plain,)), _schema(tables=()))
    assert plan.errors == ()
    assert any("extension citext is not available" in w for w in plan.warnings)
    assert OpKind.CREATE_EXTENSION not in [op.kind for op in plan.operations]


def test_an_object_the_target_has_alike_is_left_alone_and_a_different_one_named() -> None:
    view = PgObject("view", "v", ("CREATE VIEW public.v AS\n SELECT 1",), depends=("app_user",))
    other = PgObject("view", "v", ("CREATE VIEW public.v AS\n SELECT 2",), depends=("app_user",))
    same = _plan(_schema(view), _schema(view))
    assert same.operations == () and not any("view v" in w for w in same.warnings)
    differs = _plan(_schema(view), _schema(other))
    assert differs.operations == ()
    assert "view v exists on the target with a different definition; left as is" in differs.warnings


def test_views_come_after_the_views_they_read_and_in_the_plan_hash() -> None:
    top = PgObject(
        "view", "a_top", ("CREATE VIEW public.a_top AS SELECT * FROM z_base",), depends=("z_base",)
    )
    base = PgObject("materialized_view", "z_base", ("CREATE MATERIALIZED VIEW public.z_base AS SELECT 1",),
                    depends=("app_user",))  # fmt: skip
    plan = _plan(_schema(top, base), _schema(tables=()))
    views = [(op.kind, op.table) for op in plan.post_data]
    assert views == [(OpKind.CREATE_MATERIALIZED_VIEW, "z_base"), (OpKind.CREATE_VIEW, "a_top")]
    changed = _plan(_schema(replace(top, statements=("CREATE VIEW public.a_top AS SELECT 2",)), base),
                    _schema(tables=()))  # fmt: skip
    assert changed.hash != plan.hash  # the source schema hash covers the statements


def test_objects_on_a_table_that_is_not_selected_are_named() -> None:
    trigger = PgObject("trigger", "other.t", ("CREATE TRIGGER t ...",), depends=("other",))
    plan = _plan(_schema(trigger), _schema(tables=()))
    assert "trigger other.t not created: other is not carried" in plan.warnings


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("CREATE VIEW app.v AS SELECT * FROM app.t", 'CREATE VIEW "Shop".v AS SELECT * FROM "Shop".t'),
        ('SELECT xapp.t, app_x.t, "app".t', 'SELECT xapp.t, app_x.t, "Shop".t'),  # other names kept
        (
            "CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA app",
            'CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA "Shop"',
        ),
    ],
)
def test_retarget_rewrites_the_source_schema_qualifier(statement: str, expected: str) -> None:
    assert retarget(statement, "app", "Shop") == expected


def test_retarget_is_the_identity_within_one_schema() -> None:
    assert (
        retarget("CREATE VIEW public.v AS SELECT 1", "public", "public") == "CREATE VIEW public.v AS SELECT 1"
    )


def test_extension_types_with_modifiers_are_not_quoted() -> None:
    table = Table(
        "place", "public", (Column("id", "integer", nullable=False), Column("at", "geometry(Point,4326)"))
    )
    plan = _plan(_schema(tables=(table,)), _schema(tables=()))
    assert "at geometry(Point,4326)" in render_ddl(plan.operations, "postgresql")[0]


def test_a_serial_of_a_partitioned_table_keeps_its_sequence() -> None:
    seq = PgObject("sequence", "log_id_seq", ("CREATE SEQUENCE public.log_id_seq",))
    unused = PgObject("sequence", "unused_seq", ("CREATE SEQUENCE public.unused_seq",))
    log = Table(
        "log", "public",
        (Column("id", "integer", False, "nextval('log_id_seq'::regclass)", autoincrement=True),
         Column("at", "timestamptz", False)),
        ("id", "at"), partitioned=True, partition_by="RANGE (at)",
    )  # fmt: skip
    plan = _plan(_schema(seq, unused, tables=(log,)), _schema(tables=()))
    assert [op.table for op in plan.operations if op.kind == OpKind.CREATE_SEQUENCE] == ["log_id_seq"]
    ddl = render_ddl(plan.operations, "postgresql")
    assert "DEFAULT nextval('log_id_seq'::regclass)" in ddl[1] and "PARTITION BY RANGE (at)" in ddl[1]


def test_routines_come_before_the_tables_unless_their_signature_uses_a_tables_row_type() -> None:
    """A check, default, generated column or index expression may call a routine; a routine
    returning `SETOF app_user` needs the table first."""
    norm = PgObject("function", "norm(t text)", ("CREATE FUNCTION public.norm(t text) ...",))
    users = PgObject("function", "users()", ("CREATE FUNCTION public.users() ...",), depends=("app_user",))
    plan = _plan(_schema(users, norm), _schema(tables=()))
    assert [(op.kind, op.table) for op in plan.operations] == [
        (OpKind.CREATE_FUNCTION, "norm(t text)"),
        (OpKind.CREATE_TABLE, "app_user"),
        (OpKind.CREATE_FUNCTION, "users()"),
    ]


def test_a_routine_on_a_renamed_table_is_named_not_created() -> None:
    users = PgObject("function", "users()", ("CREATE FUNCTION public.users() ...",), depends=("app_user",))
    spec = MigrationSpec.model_validate(
        {
            "source": {"connectionRef": {"name": "s"}},
            "target": {"connectionRef": {"name": "t"}},
            "tables": {"overrides": [{"name": "app_user", "targetName": "person"}]},
        }
    )
    source = _schema(users)
    plan = build_plan(
        source, _schema(tables=()), select_tables(source, spec, "postgresql"), mode="create",
        target_dialect="postgresql",
    )  # fmt: skip
    assert OpKind.CREATE_FUNCTION not in [op.kind for op in plan.operations]
    assert "routine users() not created: app_user is renamed or has columns left out" in plan.warnings
