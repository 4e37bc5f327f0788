CREATE TABLE public.capital (
	name text NOT NULL, 
	population integer NOT NULL, 
	tag text, 
	state char(2) NOT NULL, 
	CONSTRAINT city_population_check CHECK (population >= 0)
);

CREATE TABLE public.city (
	name text NOT NULL, 
	population integer NOT NULL, 
	CONSTRAINT city_pkey PRIMARY KEY (name), 
	CONSTRAINT city_population_check CHECK (population >= 0)
);

CREATE TABLE public.old_city (
	archived_at timestamptz, 
	note text
);

CREATE TABLE public.tagged (
	tag text
);

ALTER TABLE public.capital INHERIT public.city;

ALTER TABLE public.capital INHERIT public.tagged;

