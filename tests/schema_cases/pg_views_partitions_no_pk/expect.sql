CREATE TABLE public.log (
	at timestamptz NOT NULL, 
	msg text
);

CREATE TABLE public.plain (
	id integer NOT NULL, 
	CONSTRAINT plain_pkey PRIMARY KEY (id)
);

