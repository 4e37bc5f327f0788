CREATE TABLE t (id integer PRIMARY KEY, small integer, wide bigint, name varchar(10), amount numeric(10,1),
  at timestamp, txt varchar(40));
