CREATE TABLE public.place (
	id integer NOT NULL, 
	name text NOT NULL, 
	geom geometry(Point,4326) NOT NULL, 
	CONSTRAINT place_pkey PRIMARY KEY (id)
);

CREATE INDEX place_geom ON public.place USING gist (geom);

