CREATE TABLE texts (id int PRIMARY KEY, code char(3) NOT NULL, name varchar(255) NOT NULL DEFAULT '', note tinytext,
  body text, medium mediumtext, long_body longtext, latin varchar(20) CHARACTER SET latin1);
