CREATE TABLE keyed (code varchar(10) NOT NULL, v int, UNIQUE KEY (code));
CREATE TABLE loose (a int, b int);
