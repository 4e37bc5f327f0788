"""Which tables a DDL statement from the binlog changes: ALTER, DROP, RENAME, TRUNCATE, CREATE OR REPLACE.

Row-based binlogs still log DDL as statements (a QueryEvent with the statement's default
database). The capture stops at a structure change of a followed table instead of applying
rows whose columns no longer match the plan, and turns TRUNCATE into a change of its own.
Only the table names are read; nothing is executed or interpreted beyond that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_COMMENT = re.compile(r"/\*.*?\*/|(?:--\s|#)[^\n]*", re.S)
_TOKEN = re.compile(r"`((?:[^`]|``)*)`|([A-Za-z0-9_$\u0080-\uffff]+)|(\S)")


@dataclass(frozen=True)
class TableDDL:
    verb: str  # ALTER TABLE, DROP TABLE, RENAME TABLE, TRUNCATE TABLE, CREATE OR REPLACE TABLE
    schema: str | None  # None: the statement's default database
    table: str


@dataclass(frozen=True)
class _Token:
    text: str
    quoted: bool

    def word(self) -> str:
        return "" if self.quoted else self.text.upper()


def _tokens(statement: str) -> list[_Token]:
    out = []
    for quoted, bare, other in _TOKEN.findall(_COMMENT.sub(" ", statement)):
        if quoted:
            out.append(_Token(quoted.replace("``", "`"), True))
        else:
            out.append(_Token(bare or other, False))
    return out


def _name(tokens: list[_Token], at: int) -> tuple[str | None, str, int]:
    """A possibly qualified table name at `at`: (schema, table, index after it)."""
    first = tokens[at].text
    if at + 2 < len(tokens) and tokens[at + 1].text == "." and not tokens[at + 1].quoted:
        return first, tokens[at + 2].text, at + 3
    return None, first, at + 1


def _skip(tokens: list[_Token], at: int, *words: str) -> int:
    while at < len(tokens) and tokens[at].word() in words:
        at += 1
    return at


def _names(tokens: list[_Token], at: int, verb: str) -> list[TableDDL]:
    """A comma-separated list of names (DROP TABLE a, b)."""
    out = []
    while at < len(tokens):
        schema, table, at = _name(tokens, at)
        out.append(TableDDL(verb, schema, table))
        if at < len(tokens) and tokens[at].text == ",":
            at += 1
            continue
        break
    return out


def _renames(tokens: list[_Token], at: int) -> list[TableDDL]:
    """RENAME TABLE a TO b, c TO d: the tables renamed away (and those renamed onto)."""
    out = []
    while at < len(tokens):
        schema, table, at = _name(tokens, at)
        out.append(TableDDL("RENAME TABLE", schema, table))
        if at < len(tokens) and tokens[at].word() == "TO":
            schema, table, at = _name(tokens, at + 1)
            out.append(TableDDL("RENAME TABLE", schema, table))
        if at < len(tokens) and tokens[at].text == ",":
            at += 1
            continue
        break
    return out


def changed_tables(statement: str) -> list[TableDDL]:
    """The tables whose structure or whole content the statement changes; [] for anything else."""
    tokens = _tokens(statement)
    if not tokens:
        return []
    head = tokens[0].word()
    if head == "ALTER":
        at = _skip(tokens, 1, "ONLINE", "IGNORE")
        if at < len(tokens) and tokens[at].word() == "TABLE":
            at = _skip(tokens, at + 1, "IF", "EXISTS")
            if at < len(tokens):
                schema, table, _ = _name(tokens, at)
                return [TableDDL("ALTER TABLE", schema, table)]
    elif head == "DROP":
        at = _skip(tokens, 1, "TEMPORARY")
        if at < len(tokens) and tokens[at].word() == "TABLE":
            return _names(tokens, _skip(tokens, at + 1, "IF", "EXISTS"), "DROP TABLE")
    elif head == "RENAME":
        if len(tokens) > 1 and tokens[1].word() == "TABLE":
            return _renames(tokens, 2)
    elif head == "TRUNCATE":
        at = _skip(tokens, 1, "TABLE")
        if at < len(tokens):
            schema, table, _ = _name(tokens, at)
            return [TableDDL("TRUNCATE TABLE", schema, table)]
    elif head == "CREATE":
        words = [t.word() for t in tokens[1:5]]
        if words[:3] == ["OR", "REPLACE", "TABLE"]:
            schema, table, _ = _name(tokens, _skip(tokens, 4, "IF", "NOT", "EXISTS"))
            return [TableDDL("CREATE OR REPLACE TABLE", schema, table)]
    return []


def dropped_database(statement: str) -> str | None:
    """The database a DROP DATABASE / DROP SCHEMA statement removes, else None."""
    tokens = _tokens(statement)
    if len(tokens) >= 3 and tokens[0].word() == "DROP" and tokens[1].word() in ("DATABASE", "SCHEMA"):
        at = _skip(tokens, 2, "IF", "EXISTS")
        return tokens[at].text if at < len(tokens) else None
    return None
