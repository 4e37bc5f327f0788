CREATE TEXT SEARCH DICTIONARY english_stem_nostop (TEMPLATE = snowball, language = 'english');
CREATE TEXT SEARCH CONFIGURATION docs_english (COPY = pg_catalog.english);
ALTER TEXT SEARCH CONFIGURATION docs_english ALTER MAPPING FOR asciiword, word WITH english_stem_nostop;
CREATE TABLE doc (
  id integer PRIMARY KEY,
  body text NOT NULL,
  search tsvector GENERATED ALWAYS AS (to_tsvector('docs_english', body)) STORED
);
CREATE INDEX doc_search ON doc USING gin (search);
CREATE TABLE doc_log (doc_id integer, action text);
CREATE RULE doc_logged AS ON INSERT TO doc DO ALSO INSERT INTO doc_log VALUES (NEW.id, 'insert');
CREATE RULE doc_no_delete AS ON DELETE TO doc DO INSTEAD NOTHING;
ALTER TABLE doc DISABLE RULE doc_no_delete;
CREATE VIEW doc_titles AS SELECT id, left(body, 20) AS title FROM doc;
CREATE RULE doc_titles_update AS ON UPDATE TO doc_titles DO INSTEAD UPDATE doc SET body = NEW.title WHERE id = OLD.id;
