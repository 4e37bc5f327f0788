CREATE EXTENSION IF NOT EXISTS citext;

CREATE TABLE public.a (
	id integer NOT NULL, 
	name varchar(20), 
	code citext, 
	PRIMARY KEY (id), 
	UNIQUE (code)
);

CREATE TABLE public.b (
	id integer NOT NULL, 
	name varchar(20), 
	code citext, 
	PRIMARY KEY (id), 
	UNIQUE (code)
);

CREATE INDEX a_idx_name ON public.a (name);

CREATE INDEX b_idx_name ON public.b (name);

