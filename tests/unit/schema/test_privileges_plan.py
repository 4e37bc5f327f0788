"""Target schema creation and `schema.privileges` (ferry.schema.privileges_plan), without a server."""

from __future__ import annotations

from dataclasses import replace

import pytest
import yaml

from ferry.api.migration import MigrationSpec, PrivilegesMode
from ferry.schema import Column, DatabaseSchema, OpKind, Table, build_plan, render_ddl, select_tables
from ferry.schema.model import Grant, ObjectPrivileges, PgObject
from ferry.schema.operations import OpPhase
from ferry.schema.plan import Privileges
from ferry.schema.privileges_plan import NOT_CARRIED
from ferry.services.planning import privileges_option
from unit.test_crds_generated import CRD_DIR

SPEC = MigrationSpec.model_validate(
    {"source": {"connectionRef": {"name": "s"}}, "target": {"connectionRef": {"name": "t"}}}
)
ACCOUNT = Table("account", "public", (Column("id", "integer", nullable=False),), ("id",))
SOURCE_ACL = ObjectPrivileges(
    "table", "account", "app", (Grant("reader", "SELECT"), Grant("PUBLIC", "SELECT"), Grant("app", "UPDATE"))
)
ROLES = ("app_owner", "analyst", "reader")
COPY = Privileges({"app": "app_owner", "reader": "analyst"})


def _schema(
    *privileges: ObjectPrivileges, tables: tuple[Table, ...] = (ACCOUNT,), **kw: object
) -> DatabaseSchema:
    return DatabaseSchema(
        "postgresql",
        "public",
        {t.name: t for t in tables},
        privileges=privileges,
        **kw,  # type: ignore[arg-type]
    )


def _plan(source: DatabaseSchema, target: DatabaseSchema, privileges: Privileges | None = COPY):  # type: ignore[no-untyped-def]
    mappings = select_tables(source, SPEC, target.dialect)
    return build_plan(
        source, target, mappings, mode="diff", target_dialect=target.dialect, privileges=privileges
    )


def test_a_missing_target_schema_is_created_first_and_safe() -> None:
    target = DatabaseSchema("postgresql", "Sales app", {}, schema_exists=False)
    plan = _plan(_schema(), target, privileges=None)
    first = plan.operations[0]
    assert (first.kind, first.risk, first.phase) == (OpKind.CREATE_SCHEMA, "safe", OpPhase.PRE_DATA)
    assert render_ddl([first], "postgresql") == ['CREATE SCHEMA "Sales app"']
    assert OpKind.CREATE_SCHEMA not in [op.kind for op in _plan(_schema(), _schema(), None).operations]


def test_schema_mode_none_names_a_missing_target_schema() -> None:
    target = DatabaseSchema("postgresql", "app", {}, schema_exists=False)
    plan = build_plan(_schema(), target, select_tables(_schema(), SPEC, "postgresql"),
                      mode="none", target_dialect="postgresql")  # fmt: skip
    assert "target schema app does not exist (schema mode none creates nothing)" in plan.errors


def test_grants_and_owner_are_carried_after_the_load_with_roles_mapped() -> None:
    plan = _plan(_schema(SOURCE_ACL), _schema(tables=(), roles=ROLES))
    assert plan.errors == ()
    carried = [op for op in plan.operations if op.kind in (OpKind.GRANT_PRIVILEGES, OpKind.SET_OWNER)]
    assert [(op.kind, op.phase, op.risk) for op in carried] == [
        (OpKind.GRANT_PRIVILEGES, OpPhase.POST_DATA, "safe"),
        (OpKind.SET_OWNER, OpPhase.POST_DATA, "safe"),
    ]
    # The owner's own grant (app: UPDATE) is implicit; PUBLIC stays PUBLIC.
    assert render_ddl(carried, "postgresql") == [
        "GRANT SELECT ON TABLE public.account TO PUBLIC",
        "GRANT SELECT ON TABLE public.account TO analyst",
        "ALTER TABLE public.account OWNER TO app_owner",
    ]
    assert not any("ownership and grants" in w for w in plan.warnings)


def test_what_the_target_has_is_not_granted_again_and_extra_grants_are_named() -> None:
    grants = (Grant("analyst", "SELECT"), Grant("PUBLIC", "SELECT"), Grant("ops", "DELETE"))
    have = ObjectPrivileges("table", "account", "app_owner", grants)
    plan = _plan(_schema(SOURCE_ACL), _schema(have, roles=ROLES))
    assert plan.operations == ()
    assert "table account: the target also grants DELETE to ops, which the source does not; left as is" in (
        plan.warnings
    )


def test_a_role_missing_on_the_target_is_a_plan_error_naming_it() -> None:
    plan = _plan(_schema(SOURCE_ACL), _schema(tables=(), roles=("app_owner",)))
    assert plan.errors == (
        "role analyst does not exist on the target (used by table account): create it there "
        "or map its source role to an existing one in schema.roleMapping",
    )


def test_a_new_routine_loses_the_default_execute_the_source_revoked() -> None:
    create = ("CREATE FUNCTION public.f(a integer) RETURNS int AS 'SELECT a'",)
    source = replace(
        _schema(ObjectPrivileges("function", "f(a integer)", "app", ())),
        objects=(PgObject("function", "f(a integer)", create),),
    )
    plan = _plan(source, _schema(tables=(), roles=ROLES))
    grant = next(op for op in plan.operations if op.kind == OpKind.GRANT_PRIVILEGES)
    assert render_ddl([grant], "postgresql") == ["REVOKE EXECUTE ON FUNCTION public.f(a integer) FROM PUBLIC"]


def test_privileges_across_engines_are_a_warning() -> None:
    plan = _plan(_schema(SOURCE_ACL), DatabaseSchema("mysql", "shop", {}))
    assert NOT_CARRIED in plan.warnings
    assert not any(op.kind in (OpKind.GRANT_PRIVILEGES, OpKind.SET_OWNER) for op in plan.operations)


def test_skip_names_grants_as_not_carried_and_plans_none() -> None:
    plan = _plan(_schema(SOURCE_ACL), _schema(tables=(), roles=ROLES), privileges=None)
    assert not any(op.kind in (OpKind.GRANT_PRIVILEGES, OpKind.SET_OWNER) for op in plan.operations)


def test_the_privileges_change_the_plan_hash() -> None:
    target = _schema(tables=(), roles=ROLES)
    one = _plan(_schema(SOURCE_ACL), target)
    other = _plan(_schema(replace(SOURCE_ACL, owner="reader")), target)
    assert one.hash != other.hash


def test_the_crd_field_defaults_to_skip_and_bounds_the_role_mapping() -> None:
    assert SPEC.schema_.privileges == PrivilegesMode.SKIP and privileges_option(SPEC) is None
    spec = SPEC.model_validate(
        {
            **SPEC.model_dump(by_alias=True),
            "schema": {"privileges": "copy", "roleMapping": {"app": "app_owner"}},
        }
    )
    assert privileges_option(spec) == Privileges({"app": "app_owner"})
    with pytest.raises(ValueError, match="at most 256"):
        SPEC.model_validate(
            {**SPEC.model_dump(by_alias=True), "schema": {"roleMapping": {f"r{i}": "x" for i in range(257)}}}
        )
    crd = yaml.safe_load((CRD_DIR / "ferry.dev_migrations.yaml").read_text())
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"][
        "schema"
    ]
    assert schema["properties"]["privileges"]["enum"] == ["skip", "copy"]
    assert schema["properties"]["roleMapping"]["maxProperties"] == 256


def test_with_skip_a_grant_does_not_change_the_plan_hash() -> None:
    target = _schema(tables=(), roles=ROLES)
    one = _plan(_schema(SOURCE_ACL), target, privileges=None)
    other = _plan(_schema(replace(SOURCE_ACL, grants=())), target, privileges=None)
    assert one.hash == other.hash
