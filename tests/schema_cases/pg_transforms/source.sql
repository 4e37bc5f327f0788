CREATE TABLE customer (id integer PRIMARY KEY, email varchar(120) NOT NULL UNIQUE, ssn char(11) NOT NULL,
  phone varchar(20), country char(2) NOT NULL DEFAULT 'FR', birthday date NOT NULL, score integer);
