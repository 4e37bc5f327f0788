CREATE TABLE public.measures (
	id bigint NOT NULL, 
	price numeric(12,2) DEFAULT 0 NOT NULL, 
	ratio numeric(5,4), 
	big numeric(38,10), 
	anynum numeric, 
	r real, 
	d double precision, 
	s smallint, 
	CONSTRAINT measures_pkey PRIMARY KEY (id)
);

