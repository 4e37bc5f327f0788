CREATE TABLE public.b (
	id integer NOT NULL, 
	CONSTRAINT b_pkey PRIMARY KEY (id)
);

