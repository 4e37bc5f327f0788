CREATE TABLE item (id integer PRIMARY KEY, name text);
CREATE FUNCTION answer() RETURNS integer LANGUAGE sql AS 'SELECT 42';
CREATE VIEW named AS SELECT id, name FROM item WHERE name IS NOT NULL;
