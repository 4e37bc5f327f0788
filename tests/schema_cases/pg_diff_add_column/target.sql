CREATE TABLE item (id integer PRIMARY KEY, name text NOT NULL);
INSERT INTO item VALUES (1, 'a');
