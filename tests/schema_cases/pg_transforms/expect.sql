CREATE TABLE public.customer (
	id integer NOT NULL, 
	email text NOT NULL, 
	ssn bytea NOT NULL, 
	phone varchar(20), 
	country varchar(16) NOT NULL, 
	birthday date, 
	score numeric(10,2), 
	CONSTRAINT customer_pkey PRIMARY KEY (id), 
	CONSTRAINT customer_email_key UNIQUE (email)
);

