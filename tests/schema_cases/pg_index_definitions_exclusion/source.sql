CREATE EXTENSION btree_gist;
CREATE TABLE booking (id integer PRIMARY KEY, room integer NOT NULL, during tstzrange NOT NULL, code text, note text,
  CONSTRAINT no_overlap EXCLUDE USING gist (room WITH =, during WITH &&));
CREATE INDEX booking_code_desc ON booking (code DESC NULLS LAST) INCLUDE (note);
CREATE INDEX booking_code_pattern ON booking (code text_pattern_ops) WHERE code IS NOT NULL;
CREATE INDEX booking_lower ON booking (lower(note) COLLATE "C");
