CREATE TABLE t (id integer PRIMARY KEY, small bigint, wide integer, name varchar(50), amount numeric(12,2),
  at timestamptz, txt text);
