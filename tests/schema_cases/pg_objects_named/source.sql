CREATE TABLE item (id integer PRIMARY KEY, label text);
CREATE FUNCTION item_label(item) RETURNS text LANGUAGE sql AS 'SELECT $1.label';
CREATE CAST (item AS text) WITH FUNCTION item_label(item);
CREATE FUNCTION text_eq_ci(text, text) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT lower($1) = lower($2)';
CREATE OPERATOR === (LEFTARG = text, RIGHTARG = text, FUNCTION = text_eq_ci);
CREATE PUBLICATION app_changes FOR TABLE item;
CREATE PUBLICATION ferry_abc123 FOR TABLE item;
