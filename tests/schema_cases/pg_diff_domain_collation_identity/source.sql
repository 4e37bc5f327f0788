CREATE DOMAIN email AS text DEFAULT 'nobody@example.org' NOT NULL CONSTRAINT email_check CHECK (VALUE LIKE '%@%');
CREATE DOMAIN code AS text CHECK (length(VALUE) = 3);
CREATE TABLE account (
  id bigint GENERATED ALWAYS AS IDENTITY (START WITH 100 INCREMENT BY 5) PRIMARY KEY,
  mail email,
  name text COLLATE "C",
  country code,
  nick text
);
