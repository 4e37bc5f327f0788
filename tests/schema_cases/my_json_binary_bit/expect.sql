CREATE TABLE public.blobs (
	id integer NOT NULL, 
	doc jsonb, 
	raw bytea, 
	tiny bytea, 
	med bytea, 
	huge bytea, 
	fixed bytea, 
	var bytea, 
	flag boolean, 
	mask bit(8), 
	PRIMARY KEY (id)
);

