CREATE TABLE place (id int PRIMARY KEY, name varchar(50), location geometry, area polygon);
