CREATE TYPE public.mood AS ENUM ('sad', 'ok', 'happy');

CREATE TABLE public.person (
	id integer NOT NULL, 
	current public.mood DEFAULT 'ok'::public.mood NOT NULL, 
	history public.mood[], 
	CONSTRAINT person_pkey PRIMARY KEY (id)
);

