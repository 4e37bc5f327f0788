CREATE TABLE public.customer (
	id integer NOT NULL, 
	name varchar(80) NOT NULL, 
	email text, 
	active boolean DEFAULT true NOT NULL, 
	CONSTRAINT customer_pkey PRIMARY KEY (id)
);

