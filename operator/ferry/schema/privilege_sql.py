"""The statements that carry owners and grants, one function per form (ferry.schema.privileges_plan).

Objects are named in the target schema: relations and types by name, routines by signature,
columns as `table.column`, the sequence of an identity or serial column by that column (its name
on the target is the target's: the GRANT looks it up with pg_get_serial_sequence when it runs).
"""

from __future__ import annotations

from collections.abc import Sequence

from ferry.db.dialects import sqlalchemy_dialect

# PostgreSQL's quoting (reserved words too), as the rest of the DDL is rendered.
_PREPARER = sqlalchemy_dialect("postgresql").identifier_preparer


def _quote(name: str) -> str:
    return str(_PREPARER.quote(name))


# GRANT's object keyword by kind (TABLE for the rest: views and materialized views are granted as tables).
_GRANT_ON = {
    "sequence": "SEQUENCE",
    "procedure": "PROCEDURE",
    "function": "FUNCTION",
    "aggregate": "FUNCTION",
    "type": "TYPE",
    "domain": "DOMAIN",
    "schema": "SCHEMA",
}
_ALTER = {
    "table": "TABLE",
    "view": "VIEW",
    "materialized_view": "MATERIALIZED VIEW",
    "sequence": "SEQUENCE",
    "function": "FUNCTION",
    "procedure": "PROCEDURE",
    "aggregate": "AGGREGATE",
    "type": "TYPE",
    "domain": "DOMAIN",
}
ROUTINES = ("function", "procedure", "aggregate", "routine")


def role(name: str) -> str:
    return name if name == "PUBLIC" else _quote(name)


def split_column(name: str) -> tuple[str, str]:
    table, column = name.split(".", 1)
    return table, column


def ref(schema: str, kind: str, name: str) -> str:
    if kind in ROUTINES:
        proname, args = name.split("(", 1)
        return f"{_quote(schema)}.{_quote(proname)}({args}"
    if kind == "schema":
        return _quote(schema)
    if kind in ("column", "owned_sequence"):
        name = split_column(name)[0]
    return f"{_quote(schema)}.{_quote(name)}"


def owner_statement(schema: str, kind: str, name: str, owner: str) -> str:
    return f"ALTER {_ALTER[kind]} {ref(schema, kind, name)} OWNER TO {_quote(owner)}"


def has_owner(kind: str) -> bool:
    """Kinds whose owner is carried (a column's and an identity sequence's follow their table;
    the schema's is the target's own)."""
    return kind in _ALTER


def grant(schema: str, kind: str, name: str, privileges: Sequence[str], grantee: str, grantable: bool) -> str:
    option = " WITH GRANT OPTION" if grantable else ""
    if kind == "owned_sequence":
        column = split_column(name)[1]
        literal = ref(schema, kind, name).replace("'", "''")
        found = f"pg_get_serial_sequence('{literal}', '{column.replace(chr(39), chr(39) * 2)}')"
        to = role(grantee).replace("'", "''")
        return (
            "DO $ferry$BEGIN EXECUTE format('GRANT "
            f"{', '.join(privileges)} ON SEQUENCE %s TO {to}{option}', {found}); END$ferry$"
        )
    if kind == "column":
        column = _quote(split_column(name)[1])
        listed = ", ".join(f"{p} ({column})" for p in privileges)
        return f"GRANT {listed} ON TABLE {ref(schema, kind, name)} TO {role(grantee)}{option}"
    on = f"{_GRANT_ON.get(kind, 'TABLE')} {ref(schema, kind, name)}"
    return f"GRANT {', '.join(privileges)} ON {on} TO {role(grantee)}{option}"


def revoke(schema: str, kind: str, name: str, privilege: str, grantee: str) -> str:
    """Only for defaults a new object comes with (routines' and types' USAGE/EXECUTE to PUBLIC)."""
    return (
        f"REVOKE {privilege} ON {_GRANT_ON.get(kind, 'TABLE')} {ref(schema, kind, name)} FROM {role(grantee)}"
    )


def default_grant(schema: str, objects: str, for_role: str, privileges: Sequence[str], grantee: str,
                  grantable: bool) -> str:  # fmt: skip
    option = " WITH GRANT OPTION" if grantable else ""
    return (
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {_quote(for_role)} IN SCHEMA {_quote(schema)} "
        f"GRANT {', '.join(privileges)} ON {objects.upper()} TO {role(grantee)}{option}"
    )
