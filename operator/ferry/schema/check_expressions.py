"""Check constraints across dialects: which expressions carry over, and which columns they name."""

from __future__ import annotations

import re

from ferry.schema.model import Table

# A check expression we can carry across dialects: column names, literals, comparisons and
# logic. Function calls and casts are not portable (MySQL's `cast(x as char charset ...)`).
_CHECK_TOKEN = re.compile(
    r"\s+|[()]|`[^`]+`|\"[^\"]+\"|\[[^\]]+\]|'(?:[^']|'')*'|-?\d+(?:\.\d+)?|<=|>=|<>|!=|[<>=,]|[A-Za-z_][A-Za-z0-9_]*"
)
_CHECK_KEYWORDS = {"and", "or", "not", "in", "between", "is", "null", "like", "true", "false"}


def portable_check(expression: str, source_dialect: str, columns: tuple[str, ...]) -> str | None:
    """The check in the target's quoting when it is only names of `columns`, literals,
    comparisons and logic; None when it is not portable."""
    tokens = _CHECK_TOKEN.findall(expression)
    if "".join(tokens) != expression:
        return None
    for token in tokens:
        word = token.strip('`"[]')
        if (
            (token[0].isalpha() or token[0] in '_`"[')
            and word.lower() not in _CHECK_KEYWORDS
            and word not in columns
        ):
            return None
    out = re.sub(r"`([^`]+)`", r'"\1"', expression)
    if source_dialect == "sqlite":
        out = re.sub(r"\[([^\]]+)\]", r'"\1"', out)
    return out


def columns_named(expression: str, table: Table) -> list[str]:
    """The columns of `table` an expression names (as whole words)."""
    return [c for c in table.column_names if re.search(rf"(?<![\w]){re.escape(c)}(?![\w])", expression)]
