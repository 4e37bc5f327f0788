CREATE TABLE public.stock (
	id integer NOT NULL, 
	qty integer NOT NULL, 
	price numeric(8,2), 
	PRIMARY KEY (id), 
	CONSTRAINT price_sane CHECK ("price" between 0 and 10000), 
	CONSTRAINT qty_nonneg CHECK ("qty" >= 0)
);

