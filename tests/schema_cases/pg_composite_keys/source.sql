CREATE TABLE orders (region char(2), order_no integer, placed date NOT NULL, PRIMARY KEY (region, order_no));
CREATE TABLE order_line (region char(2), order_no integer, line smallint, qty integer NOT NULL,
  PRIMARY KEY (region, order_no, line),
  FOREIGN KEY (region, order_no) REFERENCES orders (region, order_no) ON DELETE CASCADE);
