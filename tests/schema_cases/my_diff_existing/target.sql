CREATE TABLE account (id integer PRIMARY KEY, name varchar(100), balance numeric(12,4), opened date, extra text);
