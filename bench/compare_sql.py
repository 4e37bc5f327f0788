"""The SQL of `make compare`: catalog counts per object kind, and behaviour probes.

Counts read the PostgreSQL catalogs of one target database, over the user's schemas (not
pg_catalog, information_schema, pg_toast) and without the members of an extension (citext's
functions are the extension's, counted once under `extensions`). Each count is one query
returning one integer, so a kind is added by adding a line.
"""

from __future__ import annotations

from dataclasses import dataclass

# Ferry's own schema `ferry` (its checkpoint table, kept for resume) is counted apart.
_USER_NS = (
    "SELECT oid FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'ferry')"
)
_NOT_EXT = "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = {oid} AND d.deptype = 'e')"
_CLASS = f"SELECT count(*) FROM pg_class c WHERE c.relnamespace IN ({_USER_NS}) AND " + _NOT_EXT.format(
    oid="c.oid"
)
_PROC = f"SELECT count(*) FROM pg_proc p WHERE p.pronamespace IN ({_USER_NS}) AND " + _NOT_EXT.format(
    oid="p.oid"
)
_TYPE = f"SELECT count(*) FROM pg_type t WHERE t.typnamespace IN ({_USER_NS}) AND " + _NOT_EXT.format(
    oid="t.oid"
)
_USER_REL = f"SELECT c.oid FROM pg_class c WHERE c.relnamespace IN ({_USER_NS})"
_CONSTRAINT = f"SELECT count(*) FROM pg_constraint k WHERE k.conrelid IN ({_USER_REL}) AND k.contype = "
_ATTR = (
    "SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
    f"WHERE c.relnamespace IN ({_USER_NS}) AND a.attnum > 0 AND NOT a.attisdropped AND "
)

# kind -> a query returning one integer
COUNTS: dict[str, str] = {
    "schemas besides public": (
        "SELECT count(*) FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' "
        "AND nspname NOT IN ('information_schema', 'public')"
    ),
    "tables (incl. partitioned parents)": _CLASS + " AND c.relkind IN ('r', 'p') AND NOT c.relispartition",
    "partitions": _CLASS + " AND c.relispartition AND c.relkind IN ('r', 'p')",
    "views": _CLASS + " AND c.relkind = 'v'",
    "materialized views": _CLASS + " AND c.relkind = 'm'",
    "functions and procedures": _PROC + " AND p.prokind IN ('f', 'p')",
    "aggregates": _PROC + " AND p.prokind = 'a'",
    "triggers": (
        f"SELECT count(*) FROM pg_trigger g WHERE NOT g.tgisinternal AND g.tgrelid IN ({_USER_REL})"
    ),
    "sequences": _CLASS + " AND c.relkind = 'S'",
    "identity columns": _ATTR + "a.attidentity <> ''",
    "generated columns": _ATTR + "a.attgenerated <> ''",
    "indexes (incl. on partitions)": _CLASS + " AND c.relkind IN ('i', 'I')",
    "unique indexes (not primary keys)": (
        f"SELECT count(*) FROM pg_index i WHERE i.indrelid IN ({_USER_REL}) AND i.indisunique AND NOT i.indisprimary"
    ),
    "primary keys": _CONSTRAINT + "'p'",
    "unique constraints": _CONSTRAINT + "'u'",
    "foreign keys": _CONSTRAINT + "'f'",
    "check constraints": _CONSTRAINT + "'c'",
    "exclusion constraints": _CONSTRAINT + "'x'",
    "enum types": _TYPE + " AND t.typtype = 'e'",
    "domains": _TYPE + " AND t.typtype = 'd'",
    "composite types": _TYPE
    + " AND t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'",
    "range types": _TYPE + " AND t.typtype = 'r'",
    "extensions (besides plpgsql)": "SELECT count(*) FROM pg_extension WHERE extname <> 'plpgsql'",
    "row-level security policies": f"SELECT count(*) FROM pg_policy WHERE polrelid IN ({_USER_REL})",
    "tables with RLS enabled": _CLASS + " AND c.relrowsecurity",
    "comments": (
        "SELECT count(*) FROM pg_description d WHERE "
        f"(d.classoid = 'pg_class'::regclass AND d.objoid IN ({_USER_REL})) OR "
        f"(d.classoid = 'pg_proc'::regclass AND d.objoid IN (SELECT oid FROM pg_proc WHERE pronamespace IN ({_USER_NS}))) OR "  # noqa: E501
        f"(d.classoid = 'pg_type'::regclass AND d.objoid IN (SELECT oid FROM pg_type WHERE typnamespace IN ({_USER_NS})))"  # noqa: E501
    ),
}

# kind -> (name, definition) rows, compared with the source's: what differs, not only how many.
DEFINITIONS: dict[str, str] = {
    "columns": (
        "SELECT c.relname || '.' || a.attname, format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull"
        " || ' ' || a.attidentity::text || a.attgenerated::text || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')"
        " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
        " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
        f" WHERE c.relnamespace IN ({_USER_NS}) AND c.relkind IN ('r', 'p', 'v', 'm')"
        " AND a.attnum > 0 AND NOT a.attisdropped"
    ),
    "views": f"SELECT c.relname, pg_get_viewdef(c.oid) FROM pg_class c WHERE c.relnamespace IN ({_USER_NS})"
    " AND c.relkind IN ('v', 'm')",
    "functions": f"SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid) FROM pg_proc p"
    f" WHERE p.pronamespace IN ({_USER_NS}) AND p.prokind IN ('f', 'p')",
    "indexes": f"SELECT c.relname, pg_get_indexdef(c.oid) FROM pg_class c WHERE c.relnamespace IN ({_USER_NS})"
    " AND c.relkind IN ('i', 'I')",
    "constraints": f"SELECT k.conrelid::regclass || '.' || k.conname, pg_get_constraintdef(k.oid)"
    f" FROM pg_constraint k WHERE k.conrelid IN ({_USER_REL})",
    "triggers": f"SELECT t.tgrelid::regclass || '.' || t.tgname, pg_get_triggerdef(t.oid) || ' ' || t.tgenabled::text"
    f" FROM pg_trigger t WHERE NOT t.tgisinternal AND t.tgrelid IN ({_USER_REL})",
}

# One statement per user table, summed by the caller: the rows that arrived.
TABLES = (
    "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    f"WHERE c.relnamespace IN ({_USER_NS}) AND c.relkind = 'r' AND " + _NOT_EXT.format(oid="c.oid")
)

# The type a column ended up with, found case-insensitively (pgloader folds `ID` to `id`).
COLUMN_TYPE = (
    "SELECT a.attname || ' ' || format_type(a.atttypid, a.atttypmod)"
    " || CASE a.attidentity WHEN 'a' THEN ' identity always' WHEN 'd' THEN ' identity by default' ELSE '' END"
    " || CASE WHEN pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%%' THEN ' default nextval' ELSE '' END"
    " || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END"
    " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
    " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
    " WHERE c.oid = to_regclass(%s) AND lower(a.attname) = lower(%s) AND NOT a.attisdropped"
)


@dataclass(frozen=True)
class Probe:
    """A behaviour: `setup` runs, then `check` must return true, or (refused) must fail.

    Every probe runs in a transaction that is rolled back, so probes do not see each other.
    """

    name: str
    check: str
    setup: tuple[str, ...] = ()
    refused: bool = False


PAGILA_PROBES = (
    Probe(
        "INSERT without an id continues the sequence",
        "SELECT max(actor_id) = 3 FROM actor",
        ("INSERT INTO actor (first_name, last_name) VALUES ('Ed', 'Chase')",),
    ),
    Probe(
        "last_update trigger fires on UPDATE",
        "SELECT last_update > now() - interval '1 minute' FROM actor WHERE actor_id = 1",
        (
            "UPDATE actor SET last_update = '2000-01-01' WHERE actor_id = 1",
            "UPDATE actor SET last_name = 'GUINESS' WHERE actor_id = 1",
        ),
    ),
    Probe("domain `year` refuses 1800", "UPDATE film SET release_year = 1800 WHERE film_id = 1", refused=True),
    Probe("enum mpaa_rating refuses 'X'", "UPDATE film SET rating = 'X' WHERE film_id = 1", refused=True),
    Probe("view film_list reads", "SELECT min(title) = 'Academy Dinosaur' FROM film_list"),
    Probe(
        "materialized view rental_by_category filled",
        "SELECT total_sales = 3.98 FROM rental_by_category WHERE category = 'Action'",
    ),
    Probe("function inventory_in_stock(1)", "SELECT inventory_in_stock(1) IS false"),
    Probe("aggregate group_concat", "SELECT group_concat(first_name ORDER BY actor_id) = 'Penelope, Nick' FROM actor"),
    Probe(
        "full-text trigger keeps film.fulltext current",
        "SELECT count(*) = 1 FROM film WHERE fulltext @@ to_tsquery('crocodile')",
        ("UPDATE film SET description = 'A story of a crocodile' WHERE film_id = 2",),
    ),
    Probe(
        "a new payment lands in its month's partition",
        "SELECT tableoid::regclass::text = 'payment_p2022_07' FROM payment WHERE payment_id = 100",
        (
            "INSERT INTO payment (payment_id, customer_id, staff_id, rental_id, amount, payment_date) "
            "VALUES (100, 1, 1, 1, 5.00, '2022-07-04 12:00:00+00')",
        ),
    ),
    Probe(
        "foreign key refuses an unknown customer",
        "INSERT INTO payment (payment_id, customer_id, staff_id, rental_id, amount, payment_date) "
        "VALUES (101, 99, 1, 1, 5.00, '2022-06-05 12:00:00+00')",
        refused=True,
    ),
)

WEB_APP_COLUMNS = (
    ("users", "id"),
    ("users", "email"),
    ("users", "is_admin"),
    ("users", "updated_at"),
    ("posts", "id"),
    ("posts", "post_date"),
    ("posts", "sticky"),
)

WEB_APP_PROBES = (
    Probe(
        "INSERT without an id continues the counter (3)",
        "SELECT max(id) = 3 FROM users",
        ("INSERT INTO users (email, name) VALUES ('carol@example.org', 'Carol')",),
    ),
    Probe(
        "unique email refuses a case variant",
        "INSERT INTO users (email, name) VALUES ('ada@example.ORG', 'Imposter')",
        refused=True,
    ),
    Probe(
        "UPDATE moves updated_at",
        "SELECT updated_at > now() - interval '1 minute' FROM users WHERE name = 'Ada L.'",
        ("UPDATE users SET name = 'Ada L.' WHERE email = 'Ada@Example.org'",),
    ),
    Probe(
        "full-text GIN index on posts",
        "SELECT count(*) >= 1 FROM pg_indexes WHERE tablename = 'posts' AND indexdef LIKE '%USING gin%'",
    ),
    Probe(
        "full-text query finds a post",
        "SELECT count(*) = 1 FROM posts WHERE to_tsvector('simple', post_title || ' ' || post_content)"
        " @@ plainto_tsquery('simple', 'harbour')",
    ),
    Probe("zero date arrived as NULL", "SELECT post_date IS NULL FROM posts WHERE post_name = 'draft'"),
    Probe(
        "TINYINT(1) 7 and 2 read as true",
        "SELECT bool_and(sticky::text IN ('true', '1', 't')) FROM posts WHERE post_name = 'ferry-boats'",
    ),
    Probe(
        "a zero-date post can still be written",
        "SELECT count(*) = 4 FROM posts",
        ("INSERT INTO posts (post_title, post_content) VALUES ('New', 'body')",),
    ),
)
