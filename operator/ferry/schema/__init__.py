"""Schema engine: discover, select, map types, diff into risk-classified operations, render, apply.

Pure domain code: no Kubernetes. Typical use::

    source, target = discover(src_engine), discover(dst_engine, "public")
    mappings = select_tables(source, migration_spec, "postgresql")
    plan = build_plan(source, target, mappings, mode="diff", target_dialect="postgresql")
    apply_plan(dst_engine, plan.pre_data)   # ... copy rows ...   apply_plan(dst_engine, plan.post_data)
"""

from ferry.schema.apply import AppliedRecord, ApplyError, apply_plan, apply_post_data
from ferry.schema.ddl import RenderError, render_ddl
from ferry.schema.discovery import dialect_family, discover
from ferry.schema.mapping import ColumnMapping, TableMapping
from ferry.schema.model import (
    CheckConstraint,
    Column,
    DatabaseSchema,
    EnumType,
    ForeignKey,
    Index,
    Table,
    UniqueConstraint,
)
from ferry.schema.operations import (
    DESTRUCTIVE,
    LOSSY,
    POST_DATA,
    PRE_DATA,
    SAFE,
    ConstraintType,
    Operation,
    OpKind,
    OpPhase,
    Risk,
)
from ferry.schema.plan import Plan, build_plan
from ferry.schema.selection import SelectionError, select_tables
from ferry.schema.typemap import MappedType, map_type
from ferry.schema.typerisk import classify as classify_type_change

__all__ = [
    "DESTRUCTIVE",
    "LOSSY",
    "POST_DATA",
    "PRE_DATA",
    "SAFE",
    "AppliedRecord",
    "ApplyError",
    "CheckConstraint",
    "Column",
    "ColumnMapping",
    "ConstraintType",
    "DatabaseSchema",
    "EnumType",
    "ForeignKey",
    "Index",
    "MappedType",
    "OpKind",
    "OpPhase",
    "Operation",
    "Plan",
    "RenderError",
    "Risk",
    "SelectionError",
    "Table",
    "TableMapping",
    "UniqueConstraint",
    "apply_plan",
    "apply_post_data",
    "build_plan",
    "classify_type_change",
    "dialect_family",
    "discover",
    "map_type",
    "render_ddl",
    "select_tables",
]
