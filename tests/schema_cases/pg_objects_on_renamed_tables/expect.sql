SET LOCAL check_function_bodies = off;

CREATE OR REPLACE FUNCTION public.noop()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$ BEGIN RETURN NEW; END $function$;

CREATE TABLE public.product (
	id integer NOT NULL, 
	name text, 
	PRIMARY KEY (id)
);

