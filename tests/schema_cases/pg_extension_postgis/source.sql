CREATE TABLE place (id integer PRIMARY KEY, name text NOT NULL, geom geometry(Point, 4326) NOT NULL);
CREATE INDEX place_geom ON place USING gist (geom);
