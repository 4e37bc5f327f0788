CREATE TABLE item (id integer PRIMARY KEY, name text NOT NULL, legacy_code varchar(10));
