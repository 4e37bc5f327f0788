CREATE TYPE public.shirt_size AS ENUM ('small', 'medium', 'large', 'x''l');

CREATE TABLE public.shirt (
	id integer NOT NULL, 
	size public.shirt_size DEFAULT 'medium' NOT NULL, 
	colours text, 
	PRIMARY KEY (id)
);

