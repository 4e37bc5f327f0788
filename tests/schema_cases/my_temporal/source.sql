CREATE TABLE times (id int PRIMARY KEY, created datetime NOT NULL DEFAULT CURRENT_TIMESTAMP, precise datetime(6),
  zeroed datetime DEFAULT '0000-00-00 00:00:00', stamp timestamp NULL DEFAULT NULL,
  stamp_now timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp(),
  day date, zero_day date DEFAULT '0000-00-00', clock time, clock3 time(3));
