SET LOCAL check_function_bodies = off;

CREATE OR REPLACE FUNCTION public.text_eq_ci(text, text)
 RETURNS boolean
 LANGUAGE sql
 IMMUTABLE
AS $function$SELECT lower($1) = lower($2)$function$;

CREATE TABLE public.account (
	id integer NOT NULL, 
	name text, 
	CONSTRAINT account_pkey PRIMARY KEY (id), 
	CONSTRAINT not_root CHECK (NOT name OPERATOR(public.===) 'root'::text)
);

CREATE TABLE public.other (
	id integer NOT NULL, 
	CONSTRAINT other_pkey PRIMARY KEY (id)
);

