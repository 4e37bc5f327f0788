-- PostGIS is not a trusted extension: a superuser installs it, on both sides.
CREATE EXTENSION IF NOT EXISTS postgis;
