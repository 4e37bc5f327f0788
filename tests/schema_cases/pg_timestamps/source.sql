CREATE TABLE events (id integer PRIMARY KEY, at_local timestamp NOT NULL, at_utc timestamptz DEFAULT now(),
  at_ms timestamp(3), at_tz_ms timestamptz(3), day date, clock time, clock_tz timetz, lasted interval);
