CREATE EXTENSION IF NOT EXISTS citext;

CREATE TABLE public.orders (
	id integer NOT NULL, 
	customer_id integer, 
	region citext, 
	PRIMARY KEY (id)
);

CREATE INDEX customer_id ON public.orders (customer_id);

CREATE INDEX region ON public.orders (region);

