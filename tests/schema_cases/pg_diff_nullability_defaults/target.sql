CREATE TABLE t (id integer PRIMARY KEY, a integer, b integer NOT NULL, c integer, d integer DEFAULT 7);
