CREATE SEQUENCE public.order_no AS bigint INCREMENT BY 1 START WITH 1 MINVALUE 1 MAXVALUE 9223372036854775807 NO CYCLE;

SET LOCAL check_function_bodies = off;

CREATE OR REPLACE FUNCTION public.answer()
 RETURNS integer
 LANGUAGE sql
AS $function$SELECT 42$function$;

CREATE TABLE public.account (
	id bigint NOT NULL, 
	name text NOT NULL, 
	CONSTRAINT account_pkey PRIMARY KEY (id)
);

CREATE VIEW public.account_names AS
 SELECT account.name
   FROM public.account;

GRANT INSERT, SELECT ON TABLE public.account TO ferry_auditor WITH GRANT OPTION;

GRANT SELECT ON TABLE public.account TO ferry_dst_reader;

GRANT SELECT ON TABLE public.account_names TO PUBLIC;

GRANT USAGE ON SEQUENCE public.order_no TO ferry_dst_reader;

GRANT EXECUTE ON FUNCTION public.answer() TO ferry_dst_reader;

REVOKE EXECUTE ON FUNCTION public.answer() FROM PUBLIC;

ALTER TABLE public.account OWNER TO ferry_dst_app;

ALTER VIEW public.account_names OWNER TO ferry_dst_app;

ALTER SEQUENCE public.order_no OWNER TO ferry_dst_app;

ALTER FUNCTION public.answer() OWNER TO ferry_dst_app;

