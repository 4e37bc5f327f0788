CREATE TABLE doc (id integer PRIMARY KEY, body jsonb NOT NULL DEFAULT '{}'::jsonb, raw json);
CREATE INDEX doc_body_gin ON doc USING gin (body);
