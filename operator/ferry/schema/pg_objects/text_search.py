"""Text-search dictionaries and configurations of the schema, as the statements that make them:
a dictionary from its template and options, a configuration from its parser and then one
`ADD MAPPING` per token type (in the order of the dictionaries it tries).

Parsers and templates are C functions of the server: they are named in the plan (pg_objects.named),
not carried, and a dictionary or configuration built on one of the schema's own is named with them
(`text_search_on_own`, with the tables that use it: a plan error when one is selected).
"""

from __future__ import annotations

import sqlalchemy as sa

from ferry.schema.model import PgObject
from ferry.schema.pg_objects.named import used_by

_NOT_FROM_EXTENSION = """
    NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = '{catalog}'::regclass AND x.objid = {oid}
                AND x.deptype = 'e')
"""

_DICTIONARIES = sa.text(
    f"""
    SELECT d.dictname AS name, tn.nspname = n.nspname AS own_template,
           {used_by("pg_ts_dict", "d.oid")} AS used_by,
           format('CREATE TEXT SEARCH DICTIONARY %I.%I (TEMPLATE = %I.%I%s)', n.nspname, d.dictname,
                  tn.nspname, t.tmplname, COALESCE(', ' || d.dictinitoption, '')) AS stmt
    FROM pg_ts_dict d JOIN pg_namespace n ON n.oid = d.dictnamespace
    JOIN pg_ts_template t ON t.oid = d.dicttemplate JOIN pg_namespace tn ON tn.oid = t.tmplnamespace
    WHERE n.nspname = :schema AND {_NOT_FROM_EXTENSION.format(catalog="pg_ts_dict", oid="d.oid")}
    ORDER BY d.oid
    """
)

_CONFIGURATIONS = sa.text(
    f"""
    SELECT c.cfgname AS name, pn.nspname = n.nspname AS own_parser,
           {used_by("pg_ts_config", "c.oid")} AS used_by,
           format('CREATE TEXT SEARCH CONFIGURATION %I.%I (PARSER = %I.%I)', n.nspname, c.cfgname,
                  pn.nspname, p.prsname) AS stmt,
           ARRAY(SELECT format('ALTER TEXT SEARCH CONFIGURATION %I.%I ADD MAPPING FOR %s WITH %s',
                               n.nspname, c.cfgname, tt.alias,
                               string_agg(format('%I.%I', dn.nspname, dd.dictname), ', '
                                          ORDER BY m.mapseqno))
                 FROM pg_ts_config_map m JOIN ts_token_type(c.cfgparser) tt ON tt.tokid = m.maptokentype
                 JOIN pg_ts_dict dd ON dd.oid = m.mapdict JOIN pg_namespace dn ON dn.oid = dd.dictnamespace
                 WHERE m.mapcfg = c.oid
                 GROUP BY m.maptokentype, tt.alias ORDER BY m.maptokentype) AS mappings,
           ARRAY(SELECT DISTINCT dd.dictname::text FROM pg_ts_config_map m
                 JOIN pg_ts_dict dd ON dd.oid = m.mapdict JOIN pg_ts_template t ON t.oid = dd.dicttemplate
                 WHERE m.mapcfg = c.oid AND t.tmplnamespace = c.cfgnamespace ORDER BY 1) AS on_own_template
    FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace
    JOIN pg_ts_parser p ON p.oid = c.cfgparser JOIN pg_namespace pn ON pn.oid = p.prsnamespace
    WHERE n.nspname = :schema AND {_NOT_FROM_EXTENSION.format(catalog="pg_ts_config", oid="c.oid")}
    ORDER BY c.oid
    """
)


def read(conn: sa.Connection, schema: str) -> list[PgObject]:
    """Dictionaries and configurations built on the server's own templates and parsers (or an
    extension's); those on the schema's own are left out (named with their parser or template)."""
    params = {"schema": schema}
    out: list[PgObject] = []
    for r in conn.execute(_DICTIONARIES, params).mappings():
        if r["own_template"]:
            out.append(PgObject("text_search_on_own", f"dictionary {r['name']}", (), tuple(r["used_by"])))
        else:
            out.append(PgObject("text_search_dictionary", r["name"], (r["stmt"],)))
    for r in conn.execute(_CONFIGURATIONS, params).mappings():
        if r["own_parser"] or r["on_own_template"]:
            out.append(PgObject("text_search_on_own", f"configuration {r['name']}", (), tuple(r["used_by"])))
        else:
            out.append(PgObject("text_search_configuration", r["name"], (r["stmt"], *r["mappings"])))
    return out
