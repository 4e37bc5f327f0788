"""The loaded tables vacuumed and analyzed on a real PostgreSQL target (ferry.services.target_vacuum):
statistics are there after it, a `%` in a name is no placeholder, and a
table the target's user does not own is skipped, with its name in the log, not an error."""

from __future__ import annotations

from dataclasses import replace

import structlog

from ferry.services.target_vacuum import vacuum_loaded
from harness.databases import Database, PostgresServer
from integration.cdc.helpers import side
from integration.copy.helpers import pg_exec, pg_rows, table_mapping


def test_loaded_tables_are_vacuumed_and_have_statistics_and_a_foreign_one_is_named(
    pg_server: PostgresServer, pg_db: Database
) -> None:
    # The migration's user: not the database's owner (who may vacuum every table of it).
    loader = replace(pg_db, user=f"{pg_db.user}_loader")
    with pg_server.admin(pg_db.name) as admin:
        admin.execute(f"CREATE ROLE \"{loader.user}\" LOGIN PASSWORD '{loader.password}'")
        admin.execute(f'GRANT CREATE, USAGE ON SCHEMA public TO "{loader.user}"')
        admin.execute("CREATE TABLE theirs (id integer PRIMARY KEY)")  # the superuser's
        admin.execute("INSERT INTO theirs SELECT generate_series(1, 100)")
        admin.execute(f'GRANT ALL ON theirs TO "{loader.user}"')
    pg_exec(loader, 'CREATE TABLE "odd %s name" (id integer PRIMARY KEY, v text)',
            """INSERT INTO "odd %s name" SELECT g, 'v' || g FROM generate_series(1, 5000) g""")  # fmt: skip
    mappings = [table_mapping(t, [("id", "integer")]) for t in ("odd %s name", "theirs")]

    with structlog.testing.capture_logs() as logs:
        done = vacuum_loaded(side(loader), mappings)

    assert done == ['"public"."odd %s name"']
    stats = {
        name: (vacuumed, analyzed)
        for name, vacuumed, analyzed in pg_rows(
            pg_db,
            "SELECT relname, last_vacuum IS NOT NULL, last_analyze IS NOT NULL FROM pg_stat_user_tables",
        )
    }
    assert stats == {"odd %s name": (True, True), "theirs": (False, False)}
    assert pg_rows(loader, "SELECT count(*) FROM pg_stats WHERE tablename = 'odd %s name'") == [(2,)]
    skipped = [e for e in logs if e["event"] == "vacuum skipped"]
    assert [e["table"] for e in skipped] == ['"public"."theirs"'] and "theirs" in skipped[0]["reason"]


def test_a_target_other_than_postgresql_is_left_alone(mariadb_db: Database) -> None:
    assert vacuum_loaded(side(mariadb_db), [table_mapping("t", [("id", "int")])]) == []
