CREATE TABLE public.place (
	id integer NOT NULL, 
	name varchar(50), 
	location bytea, 
	PRIMARY KEY (id)
);

