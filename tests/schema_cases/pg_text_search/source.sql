CREATE TEXT SEARCH DICTIONARY english_stem_nostop (TEMPLATE = snowball, language = 'english');
CREATE TEXT SEARCH CONFIGURATION docs_english (COPY = pg_catalog.english);
ALTER TEXT SEARCH CONFIGURATION docs_english ALTER MAPPING FOR asciiword, word WITH english_stem_nostop;
CREATE TABLE doc (
  id integer PRIMARY KEY,
  body text NOT NULL,
  search tsvector GENERATED ALWAYS AS (to_tsvector('docs_english', body)) STORED
);
CREATE INDEX doc_search ON doc USING gin (search);
