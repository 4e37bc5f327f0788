"""Rewrite PostgreSQL definitions read from the source schema so they name the target schema.

Discovery reads every definition with an empty search_path (ferry.schema.discovery, as pg_dump
does), so the server prints every name outside pg_catalog schema-qualified: `'open'::app.status`,
`FROM app.orders`, `EXECUTE FUNCTION app.touch()`. A definition then means the same thing in
whatever session runs it, and carrying it into another schema is a matter of rewriting the
source schema's qualifiers, and nothing else.

The rewrite walks the text token by token with one regular expression rather than parsing it
(sqlglot does not parse PL/pgSQL bodies, pg_get_functiondef's header or every PostgreSQL
construct the deparse functions print, and a parse-and-print round trip would change the
definitions that the re-plan compares): string literals, quoted identifiers and comments are
whole tokens, so a qualifier is only rewritten where it is an identifier followed by a dot.

- `'app.x'` stays: a string literal is data. Except a literal cast to an object-identifier
  type (`'app.seq'::regclass` in a `nextval()` default, `::regproc`, `::regtype`, ...): that one
  names an object, and its qualifier is rewritten.
- A dollar-quoted string is a function body (pg_get_functiondef is the only deparse function
  that prints one): it is code, rewritten by the same rules, its own literals left alone.
- A function's `SET search_path TO 'app', ...` names the source schema in literals: those
  literals are rewritten too.

With several source schemas (`source.schemas` with a `target.schemaMapping`), a definition in
one schema may name another listed schema (`FROM billing.invoice` in a view of `sales`): each
listed schema's qualifiers become its own target schema's, in one pass.

Limit: a table alias or table spelled like the schema, followed by a dot (`app.id` where `app`
is a table of schema `app`), is taken for the schema. Dynamic SQL in a string literal
(`EXECUTE 'SELECT ... FROM app.t'`) keeps naming the source schema.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_TOKEN = re.compile(
    r"""
      (?P<dollar>\$(?P<tag>[A-Za-z_][A-Za-z0-9_]*)?\$)      # opens a dollar-quoted body
    | (?P<literal>[Ee]'(?:[^'\\]|\\.|'')*'|'(?:[^']|'')*')   # string literal
    | (?P<quoted>"(?:[^"]|"")*")                             # quoted identifier
    | (?P<comment>--[^\n]*|/\*.*?\*/)
    | (?P<word>[A-Za-z_][A-Za-z0-9_$]*)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

# Object-identifier types whose literal input is a (qualified) object name.
_REG_CAST = re.compile(
    r"::(?:regclass|regproc|regprocedure|regtype|regoper|regoperator|regconfig|regdictionary|"
    r"regcollation|regnamespace)\b"
)
_SET_SEARCH_PATH = re.compile(r"\bSET search_path\s*(?:TO|=)\s*$", re.IGNORECASE)


def quote(name: str) -> str:
    """As PostgreSQL's quote_ident prints a name (reserved words aside, which it also quotes)."""
    return name if re.fullmatch(r"[a-z_][a-z0-9_$]*", name) else '"' + name.replace('"', '""') + '"'


def retarget(
    statement: str, source_schema: str, target_schema: str, others: Mapping[str, str] | None = None
) -> str:
    """`statement` with the source schema's qualifiers naming the target schema, and those of
    the Migration's other listed schemas (`others`: source schema -> target schema) naming theirs."""
    renames = {k: v for k, v in {**(others or {}), source_schema: target_schema}.items() if k != v}
    if not renames:
        return statement
    out = _Rewrite(renames).code(statement)
    if source_schema == target_schema:
        return out
    src, dst = quote(source_schema), quote(target_schema)
    return re.sub(rf"WITH SCHEMA {re.escape(src)}$", lambda _: f"WITH SCHEMA {dst}", out)  # an extension's


class _Rewrite:
    def __init__(self, renames: Mapping[str, str]) -> None:
        self.renames = renames  # source schema -> target schema
        # PostgreSQL quotes a keyword too (`"user"`), which `quote` does not: both spellings match.
        self.spellings = {
            spelling: target
            for source, target in renames.items()
            for spelling in (quote(source), '"' + source.replace('"', '""') + '"')
        }

    def code(self, text: str) -> str:
        out: list[str] = []
        pos = 0
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            assert match is not None  # `other` matches any character
            token, end = match.group(), match.end()
            if match["dollar"]:
                close = text.find(token, end)
                if close < 0:  # no closing tag: not a dollar quote after all
                    out.append(token)
                else:
                    out.append(token + self.code(text[end:close]) + token)
                    end = close + len(token)
            elif match["literal"]:
                out.append(self._literal(token, text, end, out))
            elif token in self.spellings and text.startswith(".", end):  # a word or a quoted name
                out.append(quote(self.spellings[token]))
            else:
                out.append(token)
            pos = end
        return "".join(out)

    def _literal(self, token: str, text: str, end: int, before: list[str]) -> str:
        """A string literal: rewritten only when it names an object (a reg* cast follows) or is
        a schema of a function's `SET search_path TO 'app', ...`."""
        if token[0] in "Ee":
            return token
        value = token[1:-1].replace("''", "'")
        if text.startswith("::regnamespace", end):
            new = quote(self.spellings[value]) if value in self.spellings else value
        elif _REG_CAST.match(text, end):
            new = self.code(value)
        elif value in self.renames and _in_search_path_setting(before):
            new = self.renames[value]  # pg_get_functiondef prints each schema unquoted, as a literal
        else:
            return token
        return "'" + new.replace("'", "''") + "'"


def _in_search_path_setting(before: list[str]) -> bool:
    """Whether the tokens before a literal end in `SET search_path TO ` and the literals and
    commas of that setting's list."""
    i = len(before)
    while i and (before[i - 1].startswith("'") or before[i - 1].strip() in ("", ",")):
        i -= 1
    return bool(_SET_SEARCH_PATH.search("".join(before[max(0, i - 6) : i])))
