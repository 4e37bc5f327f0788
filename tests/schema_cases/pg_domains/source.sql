CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE DOMAIN "bıgınt" AS bigint;
CREATE TABLE t (id "bıgınt" PRIMARY KEY, n posint NOT NULL);
