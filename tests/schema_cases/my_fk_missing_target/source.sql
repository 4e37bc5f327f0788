CREATE TABLE customers (id int PRIMARY KEY);
CREATE TABLE regions (code char(2) PRIMARY KEY);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int, region char(2),
  FOREIGN KEY (customer_id) REFERENCES customers (id), FOREIGN KEY (region) REFERENCES regions (code));
