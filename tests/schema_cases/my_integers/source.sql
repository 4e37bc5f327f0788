CREATE TABLE nums (id int unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY, flag tinyint(1) NOT NULL DEFAULT 1,
  tiny tinyint, tinyu tinyint unsigned, small smallint, smallu smallint unsigned, medium mediumint,
  mediumu mediumint unsigned, regular int(11), big bigint, bigu bigint unsigned, b bool, y year);
