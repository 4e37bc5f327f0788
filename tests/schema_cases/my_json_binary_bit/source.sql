CREATE TABLE blobs (id int PRIMARY KEY, doc json, raw blob, tiny tinyblob, med mediumblob, huge longblob,
  fixed binary(16), var varbinary(64), flag bit(1), mask bit(8));
