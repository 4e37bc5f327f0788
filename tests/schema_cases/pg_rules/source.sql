CREATE TABLE doc (id integer PRIMARY KEY, body text NOT NULL);
CREATE TABLE doc_log (doc_id integer, action text);
CREATE TABLE audit (doc_id integer);
CREATE RULE doc_logged AS ON INSERT TO doc DO ALSO INSERT INTO doc_log VALUES (NEW.id, 'insert');
CREATE RULE doc_audited AS ON UPDATE TO doc DO ALSO INSERT INTO audit VALUES (NEW.id);
CREATE RULE doc_no_delete AS ON DELETE TO doc DO INSTEAD NOTHING;
ALTER TABLE doc DISABLE RULE doc_no_delete;
CREATE VIEW doc_titles AS SELECT id, left(body, 20) AS title FROM doc;
CREATE RULE doc_titles_update AS ON UPDATE TO doc_titles DO INSTEAD UPDATE doc SET body = NEW.title WHERE id = OLD.id;
