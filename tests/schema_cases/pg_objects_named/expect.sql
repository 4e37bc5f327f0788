SET LOCAL check_function_bodies = off;

CREATE OR REPLACE FUNCTION public.text_eq_ci(text, text)
 RETURNS boolean
 LANGUAGE sql
 IMMUTABLE
AS $function$SELECT lower($1) = lower($2)$function$;

CREATE TABLE public.item (
	id integer NOT NULL, 
	label text, 
	CONSTRAINT item_pkey PRIMARY KEY (id)
);

SET LOCAL check_function_bodies = off;

CREATE OR REPLACE FUNCTION public.item_label(public.item)
 RETURNS text
 LANGUAGE sql
AS $function$SELECT $1.label$function$;

CREATE CAST (public.item AS text) WITH FUNCTION public.item_label(public.item);

