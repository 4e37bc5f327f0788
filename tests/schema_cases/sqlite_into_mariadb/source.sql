CREATE TABLE artist (id INTEGER PRIMARY KEY, name NVARCHAR(120) NOT NULL, born DATE);
CREATE TABLE tag (code TEXT PRIMARY KEY, label TEXT);
CREATE TABLE album (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  artist_id INTEGER NOT NULL REFERENCES artist (id),
  tag TEXT REFERENCES tag (code),
  title TEXT NOT NULL,
  price NUMERIC(10,2) DEFAULT 9.99,
  rating NUMERIC,
  explicit BOOLEAN NOT NULL DEFAULT 0,
  released DATETIME,
  cover BLOB,
  weight REAL,
  plays BIGINT,
  extra WHATEVER
);
CREATE INDEX album_title ON album (title);
CREATE UNIQUE INDEX album_artist_title ON album (artist_id, title);
