CREATE TABLE unrelated (id integer PRIMARY KEY, v text);
CREATE TABLE scratch (x integer);
