CREATE TABLE public.money (
	id integer NOT NULL, 
	price numeric(12,3) DEFAULT 0.000 NOT NULL, 
	whole numeric(8,0), 
	dflt numeric(10,0), 
	unsigned_price numeric(10,2), 
	f real, 
	d double precision, 
	dp double precision, 
	PRIMARY KEY (id)
);

