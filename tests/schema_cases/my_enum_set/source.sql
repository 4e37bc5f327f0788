CREATE TABLE shirt (id int PRIMARY KEY, size enum('small','medium','large','x''l') NOT NULL DEFAULT 'medium',
  colours set('red','green','blue'));
