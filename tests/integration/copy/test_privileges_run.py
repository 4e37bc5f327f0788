"""`ferry run` with `schema.privileges: copy` (issue 11): the target's roles differ from the
source's, so each is renamed by `schema.roleMapping`; grants and the owner follow the table."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from harness.databases import Database, PostgresServer
from integration.copy.helpers import pg_exec, pg_rows
from integration.copy.test_cli_run import _bundle, _run

pytestmark = pytest.mark.integration


def test_grants_and_owner_follow_the_table_with_roles_mapped(
    pg_db: Database, pg_db2: Database, pg_server: PostgresServer, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    tag = uuid.uuid4().hex[:8]
    src_owner, src_reader, dst_owner, dst_reader = (
        f"{r}_{tag}" for r in ("app", "reader", "app2", "analyst")
    )
    with pg_server.admin() as admin:  # roles are the server's: two per side
        for role in (src_owner, src_reader, dst_owner, dst_reader):
            admin.execute(f'CREATE ROLE "{role}"')  # type: ignore[arg-type]
        # The source user reads the owner's table; the target user may hand its tables over.
        admin.execute(f'GRANT "{src_owner}" TO "{pg_db.user}"')  # type: ignore[arg-type]
        admin.execute(f'GRANT "{dst_owner}" TO "{pg_db2.user}"')  # type: ignore[arg-type]
    pg_exec(
        pg_db,
        f'GRANT CREATE, USAGE ON SCHEMA public TO "{src_owner}"',
        "CREATE TABLE account (id integer PRIMARY KEY, name text NOT NULL)",
        "INSERT INTO account VALUES (1, 'ann'), (2, 'bob')",
        f'GRANT SELECT ON account TO "{src_reader}"',
        f'ALTER TABLE account OWNER TO "{src_owner}"',
    )
    pg_exec(pg_db2, f'GRANT CREATE, USAGE ON SCHEMA public TO "{dst_owner}"')
    mapping = f"privileges: copy, roleMapping: {{{src_owner}: {dst_owner}, {src_reader}: {dst_reader}}}"
    text = _bundle(pg_db, pg_db2).replace("schema: {mode: create}", f"schema: {{mode: create, {mapping}}}")
    assert mapping in text

    assert _run(tmp_path, text, monkeypatch, pg_db.password) == 0, capsys.readouterr()

    assert pg_rows(pg_db2, "SELECT count(*) FROM account") == [(2,)]
    assert pg_rows(pg_db2, "SELECT tableowner FROM pg_tables WHERE tablename = 'account'") == [(dst_owner,)]
    can_read = "SELECT has_table_privilege(%s, 'public.account', 'SELECT')"
    assert pg_rows(pg_db2, can_read.replace("%s", f"'{dst_reader}'")) == [(True,)]
    assert pg_rows(pg_db2, can_read.replace("%s", f"'{src_reader}'")) == [(False,)]  # not the source's role
    assert pg_rows(pg_db2, can_read.replace("%s", "'public'")) == [(False,)]

    # A rerun finds the grants and the owner in place: nothing to grant again.
    assert _run(tmp_path, text, monkeypatch, pg_db.password) == 0, capsys.readouterr()
    acl = pg_rows(pg_db2, "SELECT relacl::text FROM pg_class WHERE relname = 'account'")
    assert acl == [(f"{{{dst_owner}=arwdDxt/{dst_owner},{dst_reader}=r/{dst_owner}}}",)]
