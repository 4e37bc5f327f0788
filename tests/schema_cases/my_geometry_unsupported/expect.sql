CREATE TABLE public.place (
	id integer NOT NULL, 
	name varchar(50), 
	location geometry, 
	area polygon, 
	PRIMARY KEY (id)
);

