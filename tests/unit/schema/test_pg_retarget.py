"""Definitions read with an empty search_path, moved from schema `app` to another schema by their
qualifiers only (ferry.schema.pg_retarget)."""

from __future__ import annotations

import pytest

from ferry.schema.pg_retarget import retarget


@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        # a column default: the enum's cast is qualified, the label is data
        ("'open'::app.status", "'open'::app2.status"),
        # a literal that spells the schema is left alone; so are comments
        ("(note <> 'app.x'::text)", "(note <> 'app.x'::text)"),
        ("SELECT 1 -- app.t\n", "SELECT 1 -- app.t\n"),
        ("E'app.\\'x'", "E'app.\\'x'"),
        # an object named in a literal cast to an object-identifier type is rewritten
        ("nextval('app.order_seq'::regclass)", "nextval('app2.order_seq'::regclass)"),
        ("'app.f(integer)'::regprocedure", "'app2.f(integer)'::regprocedure"),
        ("'app'::regnamespace", "'app2'::regnamespace"),
        # check, index and trigger definitions
        ("CHECK (app.is_positive(qty))", "CHECK (app2.is_positive(qty))"),
        ("USING btree (app.norm(email))", "USING btree (app2.norm(email))"),
        (
            "CREATE TRIGGER t BEFORE INSERT ON app.orders FOR EACH ROW EXECUTE FUNCTION app.touch()",
            "CREATE TRIGGER t BEFORE INSERT ON app2.orders FOR EACH ROW EXECUTE FUNCTION app2.touch()",
        ),
        # other names that contain the schema's are kept; a quoted spelling is the same schema
        ("xapp.t, app_x.t, app2x.t", "xapp.t, app_x.t, app2x.t"),
        ('"app".t', "app2.t"),
        ('"App".t', '"App".t'),
    ],
)
def test_only_qualifiers_of_the_source_schema_are_rewritten(definition: str, expected: str) -> None:
    assert retarget(definition, "app", "app2") == expected


def test_a_function_body_is_code_its_literals_data_and_its_search_path_follows() -> None:
    source = (
        "CREATE OR REPLACE FUNCTION app.touch()\n"
        " RETURNS trigger\n"
        " LANGUAGE plpgsql\n"
        " SET search_path TO 'app', 'public'\n"
        "AS $function$\n"
        "BEGIN\n"
        "  NEW.label := 'app.' || NEW.id;  -- app.orders\n"
        "  INSERT INTO app.audit VALUES (NEW.id, 'app');\n"
        "  RETURN NEW;\n"
        "END $function$"
    )
    assert retarget(source, "app", "Shop") == (
        'CREATE OR REPLACE FUNCTION "Shop".touch()\n'
        " RETURNS trigger\n"
        " LANGUAGE plpgsql\n"
        " SET search_path TO 'Shop', 'public'\n"
        "AS $function$\n"
        "BEGIN\n"
        "  NEW.label := 'app.' || NEW.id;  -- app.orders\n"
        "  INSERT INTO \"Shop\".audit VALUES (NEW.id, 'app');\n"
        "  RETURN NEW;\n"
        "END $function$"
    )


def test_a_quoted_source_schema_and_a_keyword_schema() -> None:
    assert retarget("'x'::\"Sales app\".kind", "Sales app", "app") == "'x'::app.kind"
    assert retarget('SELECT * FROM "user".t', "user", "app") == "SELECT * FROM app.t"
    assert retarget("nextval('\"Sales app\".s'::regclass)", "Sales app", "b") == "nextval('b.s'::regclass)"


def test_same_schema_is_the_identity() -> None:
    assert retarget("'app.x', app.t", "app", "app") == "'app.x', app.t"


def test_qualifiers_of_the_other_listed_schemas_become_their_targets() -> None:
    # A view of `sales` reading `billing`, both listed and both renamed; `audit` is not listed.
    view = "CREATE VIEW sales.owed AS SELECT i.id FROM billing.invoice i JOIN audit.log l USING (id)"
    assert retarget(view, "sales", "sales_v2", {"billing": "billing_v2", "sales": "sales_v2"}) == (
        "CREATE VIEW sales_v2.owed AS SELECT i.id FROM billing_v2.invoice i JOIN audit.log l USING (id)"
    )
    # The pair's own schema unrenamed, another renamed: still rewritten, including search_path.
    setting = "ALTER FUNCTION sales.f() SET search_path TO 'billing', 'sales'; SELECT billing.g()"
    assert retarget(setting, "sales", "sales", {"billing": "b2"}) == (
        "ALTER FUNCTION sales.f() SET search_path TO 'b2', 'sales'; SELECT b2.g()"
    )
