CREATE TABLE a (id int PRIMARY KEY, name varchar(20), code varchar(5), KEY idx_name (name), UNIQUE KEY uq_code (code));
CREATE TABLE b (id int PRIMARY KEY, name varchar(20), code varchar(5), KEY idx_name (name), UNIQUE KEY uq_code (code));
