"""MySQL/MariaDB SQL expressions and view queries translated to PostgreSQL with sqlglot.

sqlglot parses the source's SQL and writes it in PostgreSQL's dialect (`ifnull` becomes
COALESCE, `if()` a CASE, `concat()` the `||` operator, backquotes double quotes). It also
writes what it does not understand through unchanged, and some functions with a different
meaning (MySQL's `length` counts bytes, PostgreSQL's characters; `/` is exact decimal
division on MySQL). So a translation is accepted only when every node of the tree is of a
kind listed here, whose PostgreSQL spelling means the same; anything else is refused with
the construct named, and the plan says so (the column is copied as plain values, the view
is not created).

Generated columns get the narrower list: PostgreSQL computes the stored value itself, so the
expression must be immutable there and give the source's value exactly. `||` is immutable
only between texts, hence only over text columns and string literals.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import cast

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

# Nodes whose PostgreSQL form gives the MySQL value exactly, and is immutable.
_EXPRESSION_NODES: tuple[type[exp.Expression], ...] = (
    exp.Column, exp.Identifier, exp.Literal, exp.Null, exp.Boolean, exp.Paren,
    exp.Add, exp.Sub, exp.Mul, exp.Neg, exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE,
    exp.And, exp.Or, exp.Not, exp.Is, exp.Case, exp.If, exp.Coalesce, exp.Lower, exp.Upper,
    exp.Abs, exp.DPipe, exp.Concat,
)  # fmt: skip
# What a view may use besides: a query's clauses, joins and the aggregates whose result
# PostgreSQL computes alike. A view stores nothing, so volatility does not matter.
_QUERY_NODES: tuple[type[exp.Expression], ...] = (
    exp.Select, exp.From, exp.Where, exp.Join, exp.Table, exp.Alias, exp.TableAlias, exp.Star,
    exp.Group, exp.Having, exp.Order, exp.Ordered, exp.Limit, exp.Distinct, exp.Union,
    exp.Subquery, exp.Exists, exp.In, exp.Between, exp.Count, exp.Sum, exp.Min, exp.Max,
    exp.Tuple, exp.Var,
)  # fmt: skip
_VIEW_NODES = _EXPRESSION_NODES + _QUERY_NODES


@dataclass(frozen=True)
class Translation:
    sql: str | None  # PostgreSQL text; None when refused
    reason: str | None = None  # why it was refused
    tables: tuple[str, ...] = ()  # tables and views a query reads, by source name


def _refused(tree: exp.Expression, allowed: tuple[type[exp.Expression], ...]) -> str | None:
    for node in tree.walk():
        if not isinstance(node, allowed):
            name = node.name if isinstance(node, exp.Anonymous) else node.key
            return f"{name.upper() or type(node).__name__} has no exact PostgreSQL translation"
    return None


def _parse(text: str) -> exp.Expression | str:
    try:
        # sqlglot 30 annotates its base class `Expr`; every node is an Expression.
        return cast(exp.Expression, sqlglot.parse_one(text, read="mysql"))
    except SqlglotError as exc:
        return f"not parsed ({type(exc).__name__})"


def translate_expression(text: str, rename: Mapping[str, str], textual: Collection[str]) -> Translation:
    """A generated column's expression over the table's own columns, renamed as selected.
    `textual`: the source columns that are text (the only operands `||` may take)."""
    tree = _parse(text)
    if isinstance(tree, str):
        return Translation(None, tree)
    refused = _refused(tree, _EXPRESSION_NODES)
    if refused:
        return Translation(None, refused)
    for node in tree.find_all(exp.Concat, exp.DPipe):
        operands = node.expressions if isinstance(node, exp.Concat) else [node.this, node.expression]
        for operand in operands:
            if isinstance(operand, exp.Column) and operand.name in textual:
                continue
            if isinstance(operand, exp.Literal | exp.Concat | exp.DPipe) and not (
                isinstance(operand, exp.Literal) and not operand.is_string
            ):
                continue
            return Translation(None, "CONCAT of a non-text operand is not immutable on PostgreSQL")
    for column in tree.find_all(exp.Column):
        if column.name not in rename:
            return Translation(None, f"it reads column {column.name}, which is not selected")
        column.replace(exp.column(rename[column.name], quoted=True))
    return Translation(tree.sql(dialect="postgres"))


_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.In, exp.Between, exp.Add, exp.Sub)


def translate_view(
    definition: str,
    source_schema: str | None,
    target_schema: str | None,
    names: Mapping[str, str],
    booleans: Collection[str] = (),
) -> Translation:
    """A view's SELECT with its tables and views qualified for the target. `names`: source
    name -> target name of what the view may read; anything else refuses the view.
    `booleans`: names of TINYINT(1) columns that are boolean on the target; compared with
    numbers (`active = 1`) they are read as integers, as MySQL compares them."""
    tree = _parse(definition)
    if isinstance(tree, str):
        return Translation(None, tree)
    refused = _refused(tree, _VIEW_NODES)
    if refused:
        return Translation(None, refused)
    read = []
    for table in tree.find_all(exp.Table):
        db = table.db
        if db and db != source_schema:
            return Translation(None, f"it reads {db}.{table.name}, outside the source schema")
        if table.name not in names:
            return Translation(None, f"it reads {table.name}, which is not carried", (table.name,))
        read.append(table.name)
        table.set("this", exp.to_identifier(names[table.name], quoted=True))
        table.set("db", exp.to_identifier(target_schema, quoted=True) if target_schema else None)
    for column in tree.find_all(exp.Column):
        # MariaDB qualifies every column with its database (`db`.`t`.`c`): keep the table only.
        column.set("db", None)
        column.set("catalog", None)
        if column.table in names:
            column.set("table", exp.to_identifier(names[column.table], quoted=True))
    for column in list(tree.find_all(exp.Column)):
        # Another table's integer column of the same name is cast to integer too: harmless.
        if column.name in booleans and isinstance(column.parent, _COMPARISONS):
            column.replace(exp.cast(column.copy(), exp.DataType.build("integer")))
    return Translation(tree.sql(dialect="postgres"), tables=tuple(dict.fromkeys(read)))
