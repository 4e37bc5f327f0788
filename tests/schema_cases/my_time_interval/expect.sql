CREATE TABLE public.shifts (
	id integer NOT NULL, 
	starts time NOT NULL, 
	worked interval(3), 
	overtime interval, 
	never time, 
	PRIMARY KEY (id)
);

