CREATE TABLE public.kept (
	id integer NOT NULL, 
	CONSTRAINT kept_pkey PRIMARY KEY (id)
);

