CREATE TYPE "Role" AS ENUM ('USER', 'ADMIN');
CREATE TYPE address AS (street text, zip varchar(10));
CREATE TYPE floatrange AS RANGE (subtype = float8, subtype_diff = float8mi);
CREATE DOMAIN percent AS numeric(5,2) DEFAULT 0 NOT NULL CHECK (VALUE BETWEEN 0 AND 100);
CREATE TABLE "User" (id integer PRIMARY KEY, role "Role" NOT NULL DEFAULT 'USER', roles "Role"[],
  home address, band floatrange, discount percent);
