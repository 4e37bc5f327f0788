CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public;

CREATE TABLE public.booking (
	id integer NOT NULL, 
	room integer NOT NULL, 
	during tstzrange NOT NULL, 
	code text, 
	note text, 
	CONSTRAINT booking_pkey PRIMARY KEY (id)
);

CREATE INDEX booking_code_desc ON public.booking (code DESC NULLS LAST) INCLUDE (note);

CREATE INDEX booking_code_pattern ON public.booking (code text_pattern_ops) WHERE (code IS NOT NULL);

CREATE INDEX booking_lower ON public.booking (lower(note) COLLATE "C");

ALTER TABLE public.booking ADD CONSTRAINT no_overlap EXCLUDE USING gist (room WITH =, during WITH &&);

