CREATE TABLE city (name text PRIMARY KEY, population integer NOT NULL CHECK (population >= 0));
CREATE TABLE tagged (tag text);
CREATE TABLE capital (state char(2) NOT NULL) INHERITS (city, tagged);
CREATE TABLE archive_base (archived_at timestamptz);
CREATE TABLE old_city (note text) INHERITS (archive_base);
