CREATE TABLE money (id int PRIMARY KEY, price decimal(12,3) NOT NULL DEFAULT 0.000, whole decimal(8),
  dflt decimal, unsigned_price decimal(10,2) unsigned, f float, d double, dp double precision);
