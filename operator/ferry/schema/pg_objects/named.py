"""Objects Ferry reads only to name them in the plan: event triggers, publications,
operators, operator classes and families, text-search parsers and templates, foreign tables,
foreign servers and user mappings (`ferry.schema.objects_named` says why each is not carried).

Each comes with the tables of the schema that depend on it (a column of its type, an index with
its operator class, a check or default calling its operator, ...): a selected table that needs an
object the target will not have is a plan error, not a failing apply. Objects of extensions
(`CREATE EXTENSION` brings them) and Ferry's own publications (`ferry_*`, made by its online
capture) are left out.
"""

from __future__ import annotations

import sqlalchemy as sa

from ferry.schema.model import PgObject


def used_by(catalog: str, oid: str) -> str:
    """SQL: the names of the schema's tables (and views) whose columns, defaults, constraints,
    indexes, triggers or rules depend on the object `oid` of `catalog` (pg_depend)."""
    return f"""ARRAY(SELECT DISTINCT u_rel.relname::text FROM pg_depend u_dep
        JOIN pg_class u_rel ON u_rel.oid = CASE u_dep.classid
          WHEN 'pg_class'::regclass THEN COALESCE((SELECT u_ix.indrelid FROM pg_index u_ix
                                                   WHERE u_ix.indexrelid = u_dep.objid), u_dep.objid)
          WHEN 'pg_attrdef'::regclass
            THEN (SELECT u_ad.adrelid FROM pg_attrdef u_ad WHERE u_ad.oid = u_dep.objid)
          WHEN 'pg_constraint'::regclass
            THEN (SELECT u_con.conrelid FROM pg_constraint u_con WHERE u_con.oid = u_dep.objid)
          WHEN 'pg_trigger'::regclass
            THEN (SELECT u_tg.tgrelid FROM pg_trigger u_tg WHERE u_tg.oid = u_dep.objid)
          WHEN 'pg_rewrite'::regclass
            THEN (SELECT u_rw.ev_class FROM pg_rewrite u_rw WHERE u_rw.oid = u_dep.objid) END
        JOIN pg_namespace u_ns ON u_ns.oid = u_rel.relnamespace
        WHERE u_dep.refclassid = '{catalog}'::regclass AND u_dep.refobjid = {oid} AND u_ns.nspname = :schema
        ORDER BY 1)"""


def _not_extension(catalog: str, oid: str) -> str:
    return f"""NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = '{catalog}'::regclass
                           AND x.objid = {oid} AND x.deptype = 'e')"""


# kind -> query of (name, used_by); :schema is the source schema.
_QUERIES: dict[str, str] = {
    "event_trigger": f"""
        SELECT e.evtname AS name, ARRAY[]::text[] AS used_by FROM pg_event_trigger e
        WHERE {_not_extension("pg_event_trigger", "e.oid")} ORDER BY 1""",
    # Publications that publish the schema's tables (or all tables); Ferry's own are its capture's.
    "publication": """
        SELECT p.pubname AS name, ARRAY[]::text[] AS used_by FROM pg_publication p
        WHERE p.pubname NOT LIKE 'ferry\\_%'
          AND (p.puballtables
               OR EXISTS (SELECT 1 FROM pg_publication_rel r JOIN pg_class c ON c.oid = r.prrelid
                          JOIN pg_namespace n ON n.oid = c.relnamespace
                          WHERE r.prpubid = p.oid AND n.nspname = :schema)
               OR EXISTS (SELECT 1 FROM pg_publication_namespace pn JOIN pg_namespace n ON n.oid = pn.pnnspid
                          WHERE pn.pnpubid = p.oid AND n.nspname = :schema))
        ORDER BY 1""",
    "operator": f"""
        SELECT format('%s(%s, %s)', o.oprname, COALESCE(format_type(NULLIF(o.oprleft, 0), NULL), 'NONE'),
                      format_type(o.oprright, NULL)) AS name, {used_by("pg_operator", "o.oid")} AS used_by
        FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace
        WHERE n.nspname = :schema AND {_not_extension("pg_operator", "o.oid")} ORDER BY 1""",
    "operator_class": f"""
        SELECT format('%s USING %s', c.opcname, a.amname) AS name, {used_by("pg_opclass", "c.oid")} AS used_by
        FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod JOIN pg_namespace n ON n.oid = c.opcnamespace
        WHERE n.nspname = :schema AND {_not_extension("pg_opclass", "c.oid")} ORDER BY 1""",
    "operator_family": f"""
        SELECT format('%s USING %s', f.opfname, a.amname) AS name,
               {used_by("pg_opfamily", "f.oid")} AS used_by
        FROM pg_opfamily f JOIN pg_am a ON a.oid = f.opfmethod JOIN pg_namespace n ON n.oid = f.opfnamespace
        WHERE n.nspname = :schema AND {_not_extension("pg_opfamily", "f.oid")}
          -- the family CREATE OPERATOR CLASS makes implicitly is named with its class
          AND NOT EXISTS (SELECT 1 FROM pg_opclass c WHERE c.opcfamily = f.oid AND c.opcname = f.opfname)
        ORDER BY 1""",
    "text_search_parser": f"""
        SELECT p.prsname AS name, ARRAY[]::text[] AS used_by
        FROM pg_ts_parser p JOIN pg_namespace n ON n.oid = p.prsnamespace
        WHERE n.nspname = :schema AND {_not_extension("pg_ts_parser", "p.oid")} ORDER BY 1""",
    "text_search_template": f"""
        SELECT t.tmplname AS name, ARRAY[]::text[] AS used_by
        FROM pg_ts_template t JOIN pg_namespace n ON n.oid = t.tmplnamespace
        WHERE n.nspname = :schema AND {_not_extension("pg_ts_template", "t.oid")} ORDER BY 1""",
    "foreign_table": f"""
        SELECT c.relname AS name, ARRAY[]::text[] AS used_by
        FROM pg_foreign_table f JOIN pg_class c ON c.oid = f.ftrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = :schema AND {_not_extension("pg_class", "c.oid")} ORDER BY 1""",
    "foreign_server": f"""
        SELECT s.srvname AS name, ARRAY[]::text[] AS used_by FROM pg_foreign_server s
        WHERE {_not_extension("pg_foreign_server", "s.oid")} ORDER BY 1""",
    # An extension's configuration tables (PostGIS's spatial_ref_sys): CREATE EXTENSION makes and
    # fills them; rows the application added are not copied.
    "extension_table": """
        SELECT format('%s (of extension %s)', c.relname, e.extname) AS name, ARRAY[]::text[] AS used_by
        FROM pg_extension e CROSS JOIN LATERAL unnest(e.extconfig) AS cfg(oid)
        JOIN pg_class c ON c.oid = cfg.oid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = :schema AND c.relkind IN ('r', 'p') ORDER BY 1""",
    # pg_user_mappings shows options only to those allowed to see them; the names are enough here.
    "user_mapping": """
        SELECT format('for %s on server %s', m.usename, m.srvname) AS name, ARRAY[]::text[] AS used_by
        FROM pg_user_mappings m ORDER BY 1""",
}


def read(conn: sa.Connection, schema: str) -> list[PgObject]:
    return [
        PgObject(kind, r["name"], (), depends=tuple(r["used_by"]))
        for kind, query in _QUERIES.items()
        for r in conn.execute(sa.text(query), {"schema": schema}).mappings()
    ]
