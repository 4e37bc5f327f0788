CREATE TABLE public.times (
	id integer NOT NULL, 
	created timestamp DEFAULT CURRENT_TIMESTAMP NOT NULL, 
	precise timestamp(6), 
	zeroed timestamp, 
	stamp timestamptz, 
	stamp_now timestamptz DEFAULT CURRENT_TIMESTAMP NOT NULL, 
	day date, 
	zero_day date, 
	clock time, 
	clock3 time(3), 
	PRIMARY KEY (id)
);

