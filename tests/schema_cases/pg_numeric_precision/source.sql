CREATE TABLE measures (id bigint PRIMARY KEY, price numeric(12,2) NOT NULL DEFAULT 0, ratio numeric(5,4),
  big numeric(38,10), anynum numeric, r real, d double precision, s smallint);
