CREATE TABLE line_items (id int PRIMARY KEY, price decimal(10,2) NOT NULL, qty int NOT NULL,
  first_name varchar(40), last_name varchar(40),
  total decimal(12,2) AS (price * qty) STORED,
  label varchar(81) AS (concat(first_name, ' ', last_name)) VIRTUAL,
  discounted decimal(12,2) AS (ifnull(price, 0) - 1) PERSISTENT,
  name_bytes int AS (length(first_name)) VIRTUAL,
  big_order tinyint(1) AS (if(qty > 10, 1, 0)) STORED,
  KEY line_items_label (label));
