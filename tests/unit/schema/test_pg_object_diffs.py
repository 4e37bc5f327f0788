"""PostgreSQL to PostgreSQL, without a server: an existing domain's, column's and identity's
differences as typed operations (ferry.schema.pg_domain_diff, pg_column_diff), the objects Ferry
names instead of carrying (ferry.schema.objects_named), and grants beyond tables
(ferry.schema.privileges_plan)."""

from __future__ import annotations

from ferry.api.migration import MigrationSpec
from ferry.schema import Column, DatabaseSchema, OpKind, Table, build_plan, render_ddl, select_tables
from ferry.schema.model import Grant, ObjectPrivileges, PgObject
from ferry.schema.objects_named import named_objects
from ferry.schema.pg_column_diff import column_option_ops
from ferry.schema.pg_domain_diff import domain_operations
from ferry.schema.plan import Privileges

SPEC = MigrationSpec.model_validate(
    {"source": {"connectionRef": {"name": "s"}}, "target": {"connectionRef": {"name": "t"}}}
)
CREATE = "CREATE DOMAIN app.email AS text"
CHECK = "ALTER DOMAIN app.email ADD CONSTRAINT email_check CHECK ((VALUE ~~ '%@%'::text))"


def test_a_domain_gets_what_it_lacks_and_loses_what_the_source_has_not() -> None:
    want = (
        CREATE,
        "ALTER DOMAIN app.email SET DEFAULT 'x@y'::text",
        "ALTER DOMAIN app.email SET NOT NULL",
        CHECK,
    )
    have = (CREATE, "ALTER DOMAIN app.email SET DEFAULT 'a@b'::text",
            'ALTER DOMAIN app.email ADD CONSTRAINT "Len" CHECK ((length(VALUE) < 9))')  # fmt: skip
    ops = domain_operations("app", "email", want, have)
    assert ops is not None
    assert [(op.detail, op.risk) for op in ops] == [
        ('domain email: drop constraint "Len"', "lossy"),
        ("domain email: set default 'x@y'::text", "safe"),  # replaces the target's: no drop first
        ("domain email: set not null", "safe"),
        ("domain email: add constraint email_check CHECK ((VALUE ~~ '%@%'::text))", "safe"),
    ]
    assert render_ddl(ops[:1], "postgresql") == ['ALTER DOMAIN app.email DROP CONSTRAINT "Len"']
    assert {op.kind for op in ops} == {OpKind.ALTER_DOMAIN}
    # A default the source does not have is dropped (lossy); a NOT NULL dropped is safe.
    extra = (CREATE, "ALTER DOMAIN app.email SET DEFAULT 1", "ALTER DOMAIN app.email SET NOT NULL")
    dropped = domain_operations("app", "email", (CREATE,), extra)
    assert [(op.statements, op.risk) for op in dropped or []] == [
        (("ALTER DOMAIN app.email DROP DEFAULT",), "lossy"),
        (("ALTER DOMAIN app.email DROP NOT NULL",), "safe"),
    ]


def test_a_domain_over_another_base_type_is_not_altered() -> None:
    assert domain_operations("app", "email", (CREATE,), ("CREATE DOMAIN app.email AS varchar(9)",)) is None


def _table(*columns: Column) -> Table:
    return Table("account", "app", columns, ("id",))


def test_column_domain_collation_and_identity_options_each_an_operation() -> None:
    desired = _table(
        Column("id", "bigint", False, autoincrement=True, identity_always=True, identity_start=100,
               identity_increment=5),
        Column("mail", "text", domain="email"),
        Column("name", "text", collation='"C"'),
        Column("nick", "text"),
    )  # fmt: skip
    actual = _table(
        Column("id", "bigint", False, autoincrement=True),
        Column("mail", "text"),
        Column("name", "text"),
        Column("nick", "text", domain="handle"),
    )
    ops = list(column_option_ops(desired, actual))
    assert [(op.kind, op.detail, op.risk) for op in ops] == [
        (OpKind.SET_IDENTITY, "column id identity BY DEFAULT -> ALWAYS", "safe"),
        (OpKind.SET_IDENTITY, "column id identity start 1 -> 100", "safe"),
        (OpKind.SET_IDENTITY, "column id identity increment 1 -> 5", "safe"),
        (OpKind.SET_COLUMN_DOMAIN, "column mail text -> email", "safe"),
        (OpKind.SET_COLLATION, 'column name collation default -> "C"', "lossy"),
        (OpKind.SET_COLUMN_DOMAIN, "column nick handle -> text", "lossy"),  # the domain's checks go
    ]
    assert render_ddl(ops, "postgresql") == [
        "ALTER TABLE app.account ALTER COLUMN id SET GENERATED ALWAYS",
        "ALTER TABLE app.account ALTER COLUMN id SET START WITH 100",
        "ALTER TABLE app.account ALTER COLUMN id SET INCREMENT BY 5",
        "ALTER TABLE app.account ALTER COLUMN mail TYPE app.email",
        'ALTER TABLE app.account ALTER COLUMN name TYPE text COLLATE "C"',
        "ALTER TABLE app.account ALTER COLUMN nick TYPE text",
    ]
    # Back from ALWAYS to BY DEFAULT loses the target's guarantee.
    back = list(column_option_ops(actual, desired))
    assert ("column id identity ALWAYS -> BY DEFAULT", "lossy") in [(op.detail, op.risk) for op in back]


def test_column_options_are_compared_between_postgresql_databases_only() -> None:
    source = DatabaseSchema("mysql", "shop", {"account": Table("account", None, (Column("name", "text"),))})
    target = DatabaseSchema("postgresql", "public", {
        "account": Table("account", "public", (Column("name", "text", collation='"C"'),))})  # fmt: skip
    plan = build_plan(source, target, select_tables(source, SPEC, "postgresql"), mode="diff",
                      target_dialect="postgresql")  # fmt: skip
    assert [op.kind for op in plan.operations if op.kind == OpKind.SET_COLLATION] == []


def test_named_objects_warn_and_are_errors_for_the_selected_tables_that_need_them() -> None:
    objects = [
        PgObject("operator", "===(text, text)", (), depends=("account",)),
        PgObject("operator_class", "rev_ops USING btree", (), depends=("other",)),
        PgObject("publication", "app_changes", ()),
        PgObject("event_trigger", "audit_ddl", ()),
    ]
    warnings, errors = named_objects(objects, {("event_trigger", "audit_ddl")}, {"account"})
    assert errors == [
        "operator ===(text, text) is not carried (operators are not carried; create it on the target "
        "before the migration); selected tables depend on it: account: create it on the target or leave "
        "those tables out"
    ]
    assert [w.split(" is not carried")[0] for w in warnings] == [
        "operator class rev_ops USING btree",  # its table is not selected: a warning
        "publication app_changes",
    ]  # the event trigger the target has is not named


def _privileged(*privileges: ObjectPrivileges) -> DatabaseSchema:
    columns = (
        Column("id", "integer", False, autoincrement=True),
        Column("name", "text"),
        Column("secret", "text"),
    )
    table = Table("account", "public", columns, ("id",))
    return DatabaseSchema("postgresql", "public", {"account": table}, privileges=privileges,
                          roles=("app2", "analyst"))  # fmt: skip


def test_column_schema_sequence_and_default_grants_are_planned_with_roles_mapped() -> None:
    source = _privileged(
        ObjectPrivileges("table", "account", "app"),
        ObjectPrivileges("column", "account.name", "app", (Grant("reader", "SELECT"),)),
        ObjectPrivileges("column", "account.secret", "app", (Grant("ghost", "SELECT"),)),
        ObjectPrivileges("schema", "public", "owner", (Grant("reader", "USAGE"),)),
        ObjectPrivileges("owned_sequence", "account.id", "app", (Grant("reader", "USAGE"),)),
        ObjectPrivileges("default_privileges", "tables", "app", (Grant("reader", "SELECT"),)),
    )
    target = _privileged(ObjectPrivileges("schema", "public", "owner", (Grant("analyst", "USAGE"),)))
    plan = build_plan(source, target, select_tables(source, SPEC, "postgresql"), mode="diff",
                      target_dialect="postgresql",
                      privileges=Privileges({"app": "app2", "reader": "analyst"}))  # fmt: skip
    grants = [(op.kind, op.detail) for op in plan.operations if op.kind != OpKind.SET_SEQUENCE]
    assert grants == [
        (OpKind.GRANT_PRIVILEGES, "column account.name: SELECT to analyst"),
        (OpKind.GRANT_PRIVILEGES, "column account.secret: SELECT to ghost"),
        (OpKind.GRANT_PRIVILEGES, "sequence of account.id: USAGE to analyst"),  # the schema's is there
        (OpKind.SET_OWNER, "table account owner app2"),
        (OpKind.ALTER_DEFAULT_PRIVILEGES, "default privileges for app2 on tables: SELECT to analyst"),
    ]
    assert plan.errors == (
        "role ghost does not exist on the target (used by column account.secret): create it there or map "
        "its source role to an existing one in schema.roleMapping",
    )
    rendered = render_ddl([op for op in plan.operations if op.kind != OpKind.SET_SEQUENCE], "postgresql")
    assert rendered[0] == "GRANT SELECT (name) ON TABLE public.account TO analyst"
    assert "pg_get_serial_sequence('public.account', 'id')" in rendered[2]
    assert rendered[-1] == (
        "ALTER DEFAULT PRIVILEGES FOR ROLE app2 IN SCHEMA public GRANT SELECT ON TABLES TO analyst"
    )
