CREATE TABLE customer (id integer PRIMARY KEY, name varchar(80) NOT NULL, email text, active boolean NOT NULL DEFAULT true);
