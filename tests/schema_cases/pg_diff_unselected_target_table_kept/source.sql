CREATE TABLE kept (id integer PRIMARY KEY);
CREATE TABLE scratch (id integer PRIMARY KEY);
