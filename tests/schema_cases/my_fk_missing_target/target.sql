CREATE TABLE regions (code char(2) PRIMARY KEY);
