CREATE TABLE orders (id int PRIMARY KEY, placed datetime NOT NULL, due date NOT NULL,
  stamped timestamp NOT NULL DEFAULT current_timestamp(), shipped datetime NOT NULL, note date,
  paid tinyint(1) NOT NULL DEFAULT 0);
