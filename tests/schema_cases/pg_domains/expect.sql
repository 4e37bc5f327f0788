CREATE TABLE public.t (
	id bigint NOT NULL, 
	n integer NOT NULL, 
	CONSTRAINT t_pkey PRIMARY KEY (id)
);

