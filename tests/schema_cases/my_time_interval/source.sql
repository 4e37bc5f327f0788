CREATE TABLE shifts (id int PRIMARY KEY, starts time NOT NULL, worked time(3), overtime time, never time);
INSERT INTO shifts VALUES (1, '08:00:00', '838:59:59.000', '00:30:00', NULL),
  (2, '23:59:59', '-01:30:00.250', '00:00:00', NULL), (3, '00:00:00', '12:00:00', '-00:00:01', NULL);
