"""Apply the type rules (ferry.schema.typerules) to one source column, and translate its default."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from ferry.schema.model import Column
from ferry.schema.pg_names import pg_truncated
from ferry.schema.typerules import ENUM, RULES, TypeRule


@dataclass(frozen=True)
class MappedType:
    type: str  # target type text ("" when unsupported)
    note: str = ""
    unsupported: bool = False
    enum_values: tuple[str, ...] = ()  # labels when `type` names an enum created for this column


@cache
def _compiled(rule: TypeRule) -> re.Pattern[str]:
    return re.compile(rule.pattern, re.IGNORECASE)


def find_rule(
    source_dialect: str, target_dialect: str, type_text: str
) -> tuple[TypeRule, re.Match[str]] | None:
    for rule in RULES:
        if rule.source == source_dialect and rule.target == target_dialect:
            match = _compiled(rule).fullmatch(type_text)
            if match:
                return rule, match
    return None


def parse_enum_labels(type_text: str) -> tuple[str, ...]:
    """`enum('a','it''s')` -> ('a', "it's")."""
    inner = type_text[type_text.index("(") + 1 : type_text.rindex(")")]
    return tuple(m.replace("''", "'") for m in re.findall(r"'((?:[^']|'')*)'", inner))


def enum_type_name(table: str, column: str) -> str:
    return pg_truncated(f"{table}_{column}")


def map_type(
    source_dialect: str, target_dialect: str, type_text: str, *, table: str = "", column: str = ""
) -> MappedType:
    found = find_rule(source_dialect, target_dialect, type_text)
    if found is None:
        return MappedType("", f"no rule maps {source_dialect} type {type_text} to {target_dialect}", True)
    rule, match = found
    if rule.unsupported:
        return MappedType("", rule.note, True)
    if rule.to == ENUM:
        return MappedType(enum_type_name(table, column), rule.note, enum_values=parse_enum_labels(type_text))
    return MappedType(match.expand(rule.to), rule.note)


_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_STRING = re.compile(r"^'(?:[^']|'')*'$")
_ZERO_DATE = re.compile(r"^'0000-00-00( 00:00:00(\.0+)?)?'$")
_NOW = re.compile(r"^(current_timestamp|now|localtimestamp)(\(\d*\))?$", re.IGNORECASE)


@dataclass(frozen=True)
class MappedDefault:
    expression: str | None
    dropped: str = ""  # why a source default was not carried over ("" when carried or none)


def map_default(source_dialect: str, target_dialect: str, column: Column, target_type: str) -> MappedDefault:
    """Carry literal defaults and the current-time default across dialects; drop the rest
    (with a reason the plan shows), because expressions do not translate reliably."""
    default = column.default
    if default is None or column.autoincrement or column.generated:
        return MappedDefault(None)
    if source_dialect == target_dialect:
        return MappedDefault(default)
    text = default.strip()
    if _ZERO_DATE.match(text):
        return MappedDefault(None, f"zero-date default {text} has no {target_dialect} equivalent")
    if _NOW.match(text):
        return MappedDefault("CURRENT_TIMESTAMP")
    if target_type == "boolean" and text.strip("'") in ("0", "1"):
        return MappedDefault("false" if text.strip("'") == "0" else "true")
    if _NUMBER.match(text):
        return MappedDefault(text)
    if _STRING.match(text):
        return MappedDefault(text)
    if text.upper() == "NULL":
        return MappedDefault(None)
    return MappedDefault(None, f"default {text} is an expression that is not translated")
