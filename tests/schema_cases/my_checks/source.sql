CREATE TABLE stock (id int PRIMARY KEY, qty int NOT NULL, price decimal(8,2),
  CONSTRAINT qty_nonneg CHECK (qty >= 0), CONSTRAINT price_sane CHECK (price BETWEEN 0 AND 10000),
  CONSTRAINT weird CHECK (char_length(cast(qty as char)) < 6));
