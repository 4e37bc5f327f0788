SET LOCAL check_function_bodies = off;

CREATE OR REPLACE FUNCTION public.touch()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$ BEGIN NEW.updated := now(); RETURN NEW; END $function$;

SET LOCAL check_function_bodies = off;

CREATE OR REPLACE FUNCTION public.cheap_count()
 RETURNS bigint
 LANGUAGE sql
AS $function$SELECT count(*) FROM item WHERE price < 10$function$;

SET LOCAL check_function_bodies = off;

CREATE OR REPLACE PROCEDURE public.reprice(IN factor numeric)
 LANGUAGE sql
AS $procedure$ UPDATE item SET price = price * factor $procedure$;

SET LOCAL check_function_bodies = off;

CREATE OR REPLACE FUNCTION public._concat(text, text)
 RETURNS text
 LANGUAGE sql
 IMMUTABLE
AS $function$ SELECT $1 || ', ' || $2 $function$;

CREATE TABLE public.item (
	id integer NOT NULL, 
	name text NOT NULL, 
	price numeric(8,2), 
	updated timestamptz, 
	CONSTRAINT item_pkey PRIMARY KEY (id)
);

SET LOCAL check_function_bodies = off;

CREATE AGGREGATE public.concat_all(text) (SFUNC = public._concat, STYPE = text);

CREATE VIEW public.z_base AS
 SELECT item.id,
    item.name,
    item.price
   FROM public.item
  WHERE (item.price IS NOT NULL);

CREATE VIEW public.a_on_top AS
 SELECT public.concat_all(z_base.name) AS names
   FROM public.z_base;

CREATE MATERIALIZED VIEW public.price_totals AS
 SELECT count(*) AS n,
    sum(z_base.price) AS total
   FROM public.z_base;

CREATE UNIQUE INDEX price_totals_n ON public.price_totals USING btree (n);

CREATE TRIGGER item_touch BEFORE UPDATE ON public.item FOR EACH ROW EXECUTE FUNCTION public.touch();

COMMENT ON TABLE public.item IS 'what we sell';

COMMENT ON COLUMN public.item.price IS 'in EUR';

COMMENT ON FUNCTION public.touch() IS 'sets updated';

COMMENT ON VIEW public.z_base IS 'priced items';

