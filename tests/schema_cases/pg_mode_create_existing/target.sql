CREATE TABLE a (id integer PRIMARY KEY, extra int);
