CREATE TABLE tagged (id integer PRIMARY KEY, tags text[] NOT NULL DEFAULT '{}', scores integer[], codes varchar(10)[]);
