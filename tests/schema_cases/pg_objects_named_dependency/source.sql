CREATE FUNCTION text_eq_ci(text, text) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT lower($1) = lower($2)';
CREATE OPERATOR === (LEFTARG = text, RIGHTARG = text, FUNCTION = text_eq_ci);
CREATE TABLE account (id integer PRIMARY KEY, name text, CONSTRAINT not_root CHECK (NOT (name === 'root')));
CREATE TABLE other (id integer PRIMARY KEY);
