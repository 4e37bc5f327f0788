"""PostgreSQL objects Ferry does not carry, each named in the plan with the reason; an error
when a selected table depends on one the target does not have (`ferry plan` exits non-zero).

Read by ferry.schema.pg_objects.named (and text_search, for dictionaries and configurations built
on the schema's own parser or template). An object the target already has under the same name is
not named: it is there for the tables that need it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from ferry.schema.model import PgObject

_CREATE_FIRST = "create it on the target before the migration"

# kind -> (label in the plan, why it is not carried)
NAMED: dict[str, tuple[str, str]] = {
    "event_trigger": (
        "event trigger",
        "event triggers belong to the database and fire on DDL, including the migration's own; "
        "create it on the target after the migration",
    ),
    "publication": (
        "publication",
        "publications feed logical replication from the source; create it on the target when the "
        "target takes over that role",
    ),
    "operator": ("operator", f"operators are not carried; {_CREATE_FIRST}"),
    "operator_class": ("operator class", f"operator classes are not carried; {_CREATE_FIRST}"),
    "operator_family": ("operator family", f"operator families are not carried; {_CREATE_FIRST}"),
    "text_search_parser": (
        "text search parser",
        f"its functions are C code of the server; {_CREATE_FIRST}",
    ),
    "text_search_template": (
        "text search template",
        f"its functions are C code of the server; {_CREATE_FIRST}",
    ),
    "text_search_on_own": (
        "text search",
        f"built on a parser or template of the schema, which is not carried; {_CREATE_FIRST}",
    ),
    "foreign_table": (
        "foreign table",
        "its rows live on another server; create the server, user mapping and table on the target",
    ),
    "foreign_server": (
        "foreign server",
        "servers belong to the database and hold connection options; create it on the target",
    ),
    "extension_table": (
        "table",
        "it belongs to its extension, whose CREATE EXTENSION on the target makes and fills it; "
        "rows added to it on the source are not copied",
    ),
    "user_mapping": (
        "user mapping",
        "user mappings hold another server's credentials; create it on the target",
    ),
}


def named_objects(
    objects: Iterable[PgObject], target: Collection[tuple[str, str]], selected: Collection[str]
) -> tuple[list[str], list[str]]:
    """(warnings, errors): a warning per object not carried; an error per one that selected tables
    depend on (`depends` lists the schema's tables that use it). `target`: (kind, name) of the
    target's objects."""
    warnings: list[str] = []
    errors: list[str] = []
    for obj in objects:
        if obj.kind not in NAMED or (obj.kind, obj.name) in target:
            continue
        label, why = NAMED[obj.kind]
        users = [t for t in obj.depends if t in selected]
        if users:
            errors.append(
                f"{label} {obj.name} is not carried ({why}); selected tables depend on it: "
                f"{', '.join(users)}: create it on the target or leave those tables out"
            )
        else:
            warnings.append(f"{label} {obj.name} is not carried: {why}")
    return warnings, errors
