CREATE DOMAIN public.posint AS integer;

ALTER DOMAIN public.posint ADD CONSTRAINT posint_check CHECK ((VALUE > 0));

CREATE DOMAIN public."bıgınt" AS bigint;

CREATE TABLE public.t (
	id public.bıgınt NOT NULL, 
	n public.posint NOT NULL, 
	CONSTRAINT t_pkey PRIMARY KEY (id)
);

