CREATE EXTENSION IF NOT EXISTS citext;

CREATE TABLE public.keyed (
	code citext NOT NULL, 
	v integer, 
	UNIQUE (code)
);

CREATE TABLE public.loose (
	a integer, 
	b integer
);

