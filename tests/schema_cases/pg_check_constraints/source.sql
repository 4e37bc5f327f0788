CREATE TABLE product (id integer PRIMARY KEY, price numeric(10,2) CHECK (price >= 0), qty integer,
  CONSTRAINT qty_positive CHECK (qty > 0));
