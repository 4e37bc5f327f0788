CREATE TABLE parent (id integer PRIMARY KEY, code text);
CREATE TABLE child (id integer PRIMARY KEY, parent_id integer, CONSTRAINT child_one UNIQUE (parent_id));
CREATE INDEX child_id_parent ON child (id, parent_id);
