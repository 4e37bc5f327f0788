CREATE TABLE public.texts (
	id integer NOT NULL, 
	code char(3) NOT NULL, 
	name varchar(255) DEFAULT '' NOT NULL, 
	note text, 
	body text, 
	medium text, 
	long_body text, 
	latin varchar(20), 
	PRIMARY KEY (id)
);

