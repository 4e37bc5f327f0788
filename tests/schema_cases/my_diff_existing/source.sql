CREATE TABLE account (id bigint PRIMARY KEY, name varchar(20) NOT NULL, balance decimal(10,2), opened datetime);
