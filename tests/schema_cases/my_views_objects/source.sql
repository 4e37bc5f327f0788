CREATE TABLE customers (id int PRIMARY KEY, name varchar(80) NOT NULL, email varchar(120), active tinyint(1) NOT NULL DEFAULT 1);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL, amount decimal(10,2) NOT NULL,
  FOREIGN KEY (customer_id) REFERENCES customers (id));
CREATE TABLE audit (id int PRIMARY KEY, note text);
CREATE VIEW active_customers AS SELECT id, name, ifnull(email, 'none') AS contact FROM customers WHERE active = 1;
CREATE VIEW customer_totals AS SELECT c.id, c.name, count(o.id) AS orders, sum(o.amount) AS total
  FROM active_customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.id, c.name;
CREATE VIEW name_lengths AS SELECT id, length(name) AS bytes FROM customers;
CREATE VIEW audit_notes AS SELECT id, note FROM audit;
CREATE TRIGGER orders_audit AFTER INSERT ON orders FOR EACH ROW INSERT INTO audit (id, note) VALUES (NEW.id, 'new order');
CREATE PROCEDURE purge_audit() DELETE FROM audit;
CREATE FUNCTION order_tax(amount decimal(10,2)) RETURNS decimal(10,2) DETERMINISTIC RETURN amount * 0.2;
CREATE EVENT nightly_purge ON SCHEDULE EVERY 1 DAY DO DELETE FROM audit;
