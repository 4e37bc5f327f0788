CREATE TABLE t (id integer PRIMARY KEY, a integer NOT NULL, b integer, c integer DEFAULT 5, d integer);
