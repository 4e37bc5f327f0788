CREATE TABLE public.orders (
	id integer NOT NULL, 
	placed timestamp NOT NULL, 
	due date NOT NULL, 
	stamped timestamptz DEFAULT CURRENT_TIMESTAMP NOT NULL, 
	shipped timestamp, 
	note date, 
	paid boolean DEFAULT false NOT NULL, 
	PRIMARY KEY (id)
);

