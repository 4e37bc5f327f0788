CREATE TABLE public.events (
	id integer NOT NULL, 
	at_local timestamp NOT NULL, 
	at_utc timestamptz DEFAULT now(), 
	at_ms timestamp(3), 
	at_tz_ms timestamptz(3), 
	day date, 
	clock time, 
	clock_tz timetz, 
	lasted interval, 
	CONSTRAINT events_pkey PRIMARY KEY (id)
);

